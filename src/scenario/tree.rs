//! A scenario's parameters as a plain tree of values: what patches address, and the compact
//! binary form in which the web app receives the bundled scenarios (no TOML parser at run time).
//!
//! [`to_value`] writes any serde type as a [`Value`] (a serde serializer of our own, used
//! natively to build a scenario's tree); `from_tree` reads the schema back without serde, so the
//! web build needs neither `toml` nor a generic deserialiser. [`encode`] and [`decode`] write and
//! read a tree as bytes.

use serde::de::{self, Visitor};
use serde::ser::{self, Serialize};
use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;
use std::fmt;

/// A parameter value: the TOML data model without dates.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// `true` or `false`.
    Boolean(bool),
    /// A whole number.
    Integer(i64),
    /// A number with a fraction.
    Float(f64),
    /// Text.
    String(String),
    /// A list.
    Array(Vec<Value>),
    /// Named values, sorted by name.
    Table(BTreeMap<String, Value>),
}

impl Value {
    /// What kind of value this is, for messages ("an integer").
    pub fn describe(&self) -> &'static str {
        match self {
            Value::String(_) => "a string",
            Value::Integer(_) => "an integer",
            Value::Float(_) => "a number",
            Value::Boolean(_) => "true or false",
            Value::Array(_) => "an array",
            Value::Table(_) => "a table",
        }
    }
}

/// Why a conversion failed.
#[derive(Clone, Debug, PartialEq)]
pub struct Error(pub String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error(msg.to_string())
    }
}

/// The tree of `value` (a struct becomes a table of its fields).
pub fn to_value<T: Serialize + ?Sized>(value: &T) -> Result<Value, Error> {
    value.serialize(ValueSerializer)
}

// ---------------------------------------------------------------------------------------------
// Value as a serde type (the `set` tables of fixes and timeline entries hold values).

impl Serialize for Value {
    fn serialize<S: ser::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use ser::{SerializeMap, SerializeSeq};
        match self {
            Value::Boolean(b) => serializer.serialize_bool(*b),
            Value::Integer(i) => serializer.serialize_i64(*i),
            Value::Float(f) => serializer.serialize_f64(*f),
            Value::String(s) => serializer.serialize_str(s),
            Value::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Value::Table(table) => {
                let mut map = serializer.serialize_map(Some(table.len()))?;
                for (key, item) in table {
                    map.serialize_entry(key, item)?;
                }
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number, string, boolean, array or table")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Boolean(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Integer(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        i64::try_from(v)
            .map(Value::Integer)
            .map_err(|_| E::custom(format!("{v} is too large")))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut table = BTreeMap::new();
        while let Some((key, item)) = map.next_entry::<String, Value>()? {
            table.insert(key, item);
        }
        Ok(Value::Table(table))
    }
}

// ---------------------------------------------------------------------------------------------
// Writing a serde type as a tree.

struct ValueSerializer;

fn unsupported(what: &str) -> Error {
    Error(format!("{what} cannot be a parameter value"))
}

impl ser::Serializer for ValueSerializer {
    type Ok = Value;
    type Error = Error;
    type SerializeSeq = SeqBuilder;
    type SerializeTuple = SeqBuilder;
    type SerializeTupleStruct = SeqBuilder;
    type SerializeTupleVariant = VariantBuilder<SeqBuilder>;
    type SerializeMap = TableBuilder;
    type SerializeStruct = TableBuilder;
    type SerializeStructVariant = VariantBuilder<TableBuilder>;

    fn serialize_bool(self, v: bool) -> Result<Value, Error> {
        Ok(Value::Boolean(v))
    }
    fn serialize_i8(self, v: i8) -> Result<Value, Error> {
        Ok(Value::Integer(v.into()))
    }
    fn serialize_i16(self, v: i16) -> Result<Value, Error> {
        Ok(Value::Integer(v.into()))
    }
    fn serialize_i32(self, v: i32) -> Result<Value, Error> {
        Ok(Value::Integer(v.into()))
    }
    fn serialize_i64(self, v: i64) -> Result<Value, Error> {
        Ok(Value::Integer(v))
    }
    fn serialize_u8(self, v: u8) -> Result<Value, Error> {
        Ok(Value::Integer(v.into()))
    }
    fn serialize_u16(self, v: u16) -> Result<Value, Error> {
        Ok(Value::Integer(v.into()))
    }
    fn serialize_u32(self, v: u32) -> Result<Value, Error> {
        Ok(Value::Integer(v.into()))
    }
    fn serialize_u64(self, v: u64) -> Result<Value, Error> {
        i64::try_from(v)
            .map(Value::Integer)
            .map_err(|_| Error(format!("{v} is too large")))
    }
    fn serialize_f32(self, v: f32) -> Result<Value, Error> {
        Ok(Value::Float(v.into()))
    }
    fn serialize_f64(self, v: f64) -> Result<Value, Error> {
        Ok(Value::Float(v))
    }
    fn serialize_char(self, v: char) -> Result<Value, Error> {
        Ok(Value::String(v.to_string()))
    }
    fn serialize_str(self, v: &str) -> Result<Value, Error> {
        Ok(Value::String(v.to_string()))
    }
    fn serialize_bytes(self, _v: &[u8]) -> Result<Value, Error> {
        Err(unsupported("bytes"))
    }
    fn serialize_none(self) -> Result<Value, Error> {
        Err(unsupported("an absent value"))
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Value, Error> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Value, Error> {
        Err(unsupported("a unit"))
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<Value, Error> {
        Err(unsupported("a unit"))
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<Value, Error> {
        Ok(Value::String(variant.to_string()))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<Value, Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Value, Error> {
        let mut table = BTreeMap::new();
        table.insert(variant.to_string(), to_value(value)?);
        Ok(Value::Table(table))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<SeqBuilder, Error> {
        Ok(SeqBuilder(Vec::with_capacity(len.unwrap_or(0))))
    }
    fn serialize_tuple(self, len: usize) -> Result<SeqBuilder, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<SeqBuilder, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<VariantBuilder<SeqBuilder>, Error> {
        Ok(VariantBuilder {
            variant,
            inner: SeqBuilder(Vec::with_capacity(len)),
        })
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<TableBuilder, Error> {
        Ok(TableBuilder::default())
    }
    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<TableBuilder, Error> {
        Ok(TableBuilder::default())
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<VariantBuilder<TableBuilder>, Error> {
        Ok(VariantBuilder {
            variant,
            inner: TableBuilder::default(),
        })
    }
}

struct SeqBuilder(Vec<Value>);

impl ser::SerializeSeq for SeqBuilder {
    type Ok = Value;
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.0.push(to_value(value)?);
        Ok(())
    }
    fn end(self) -> Result<Value, Error> {
        Ok(Value::Array(self.0))
    }
}

impl ser::SerializeTuple for SeqBuilder {
    type Ok = Value;
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result<Value, Error> {
        ser::SerializeSeq::end(self)
    }
}

impl ser::SerializeTupleStruct for SeqBuilder {
    type Ok = Value;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result<Value, Error> {
        ser::SerializeSeq::end(self)
    }
}

#[derive(Default)]
struct TableBuilder {
    table: BTreeMap<String, Value>,
    key: Option<String>,
}

impl ser::SerializeMap for TableBuilder {
    type Ok = Value;
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        match to_value(key)? {
            Value::String(key) => {
                self.key = Some(key);
                Ok(())
            }
            other => Err(Error(format!(
                "a table's keys are names, not {}",
                other.describe()
            ))),
        }
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        let key = self
            .key
            .take()
            .ok_or_else(|| Error("a value without a key".to_string()))?;
        self.table.insert(key, to_value(value)?);
        Ok(())
    }
    fn end(self) -> Result<Value, Error> {
        Ok(Value::Table(self.table))
    }
}

impl ser::SerializeStruct for TableBuilder {
    type Ok = Value;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.table.insert(key.to_string(), to_value(value)?);
        Ok(())
    }
    fn end(self) -> Result<Value, Error> {
        Ok(Value::Table(self.table))
    }
}

/// A variant with content, written as `{ variant = content }`.
struct VariantBuilder<B> {
    variant: &'static str,
    inner: B,
}

impl<B> VariantBuilder<B> {
    fn wrap(variant: &str, content: Value) -> Value {
        let mut table = BTreeMap::new();
        table.insert(variant.to_string(), content);
        Value::Table(table)
    }
}

impl ser::SerializeTupleVariant for VariantBuilder<SeqBuilder> {
    type Ok = Value;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        ser::SerializeSeq::serialize_element(&mut self.inner, value)
    }
    fn end(self) -> Result<Value, Error> {
        Ok(Self::wrap(
            self.variant,
            ser::SerializeSeq::end(self.inner)?,
        ))
    }
}

impl ser::SerializeStructVariant for VariantBuilder<TableBuilder> {
    type Ok = Value;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        ser::SerializeStruct::serialize_field(&mut self.inner, key, value)
    }
    fn end(self) -> Result<Value, Error> {
        Ok(Self::wrap(
            self.variant,
            ser::SerializeStruct::end(self.inner)?,
        ))
    }
}

// ---------------------------------------------------------------------------------------------
// The compact binary form: a tag byte per value, lengths and integers as LEB128 varints
// (integers zigzag-encoded), floats as 8 little-endian bytes, text as UTF-8.

const TAG_FALSE: u8 = 0;
const TAG_TRUE: u8 = 1;
const TAG_INTEGER: u8 = 2;
const TAG_FLOAT: u8 = 3;
const TAG_STRING: u8 = 4;
const TAG_ARRAY: u8 = 5;
const TAG_TABLE: u8 = 6;

/// How deeply tables and arrays may nest in [`decode`]'s input.
const MAX_DEPTH: usize = 32;

/// Writes `value` as bytes.
pub fn encode(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    write_value(&mut out, value);
    out
}

fn write_varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn write_str(out: &mut Vec<u8>, s: &str) {
    write_varint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

fn write_value(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Boolean(false) => out.push(TAG_FALSE),
        Value::Boolean(true) => out.push(TAG_TRUE),
        Value::Integer(i) => {
            out.push(TAG_INTEGER);
            write_varint(out, ((i << 1) ^ (i >> 63)) as u64);
        }
        Value::Float(f) => {
            out.push(TAG_FLOAT);
            out.extend_from_slice(&f.to_le_bytes());
        }
        Value::String(s) => {
            out.push(TAG_STRING);
            write_str(out, s);
        }
        Value::Array(items) => {
            out.push(TAG_ARRAY);
            write_varint(out, items.len() as u64);
            for item in items {
                write_value(out, item);
            }
        }
        Value::Table(table) => {
            out.push(TAG_TABLE);
            write_varint(out, table.len() as u64);
            for (key, item) in table {
                write_str(out, key);
                write_value(out, item);
            }
        }
    }
}

/// Reads a tree written by [`encode`]; malformed input is an error, never a panic.
pub fn decode(bytes: &[u8]) -> Result<Value, Error> {
    let mut reader = Reader { bytes, at: 0 };
    let value = reader.value(0)?;
    if reader.at != bytes.len() {
        return Err(reader.error("bytes after the end of the tree"));
    }
    Ok(value)
}

/// Reads only the entry `key` of the table written by [`encode`], skipping the others without
/// building them (a gallery reads one section of each scenario).
pub fn decode_entry(bytes: &[u8], key: &str) -> Result<Option<Value>, Error> {
    let mut reader = Reader { bytes, at: 0 };
    if reader.byte()? != TAG_TABLE {
        return Err(reader.error("expected a table"));
    }
    for _ in 0..reader.count()? {
        let name = reader.string()?;
        if name == key {
            return reader.value(1).map(Some);
        }
        reader.skip(1)?;
    }
    Ok(None)
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn error(&self, what: &str) -> Error {
        Error(format!("precompiled scenario, byte {}: {what}", self.at))
    }

    fn byte(&mut self) -> Result<u8, Error> {
        let b = *self
            .bytes
            .get(self.at)
            .ok_or_else(|| self.error("unexpected end"))?;
        self.at += 1;
        Ok(b)
    }

    fn take(&mut self, n: usize) -> Result<&[u8], Error> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&end| end <= self.bytes.len())
            .ok_or_else(|| self.error("unexpected end"))?;
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    fn varint(&mut self) -> Result<u64, Error> {
        let mut n = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            n |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(n);
            }
        }
        Err(self.error("a number longer than 64 bits"))
    }

    /// A count of items, each at least one byte long, so never more than the bytes left.
    fn count(&mut self) -> Result<usize, Error> {
        let n = self.varint()?;
        if n > (self.bytes.len() - self.at) as u64 {
            return Err(self.error("a count larger than the input"));
        }
        Ok(n as usize)
    }

    fn string(&mut self) -> Result<String, Error> {
        let n = self.count()?;
        let bytes = self.take(n)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| self.error("text that is not UTF-8"))
    }

    /// Passes over one value, as `value` would read it, without building it.
    fn skip(&mut self, depth: usize) -> Result<(), Error> {
        if depth > MAX_DEPTH {
            return Err(self.error("nested too deeply"));
        }
        match self.byte()? {
            TAG_FALSE | TAG_TRUE => {}
            TAG_INTEGER => {
                self.varint()?;
            }
            TAG_FLOAT => {
                self.take(8)?;
            }
            TAG_STRING => {
                let n = self.count()?;
                self.take(n)?;
            }
            TAG_ARRAY => {
                for _ in 0..self.count()? {
                    self.skip(depth + 1)?;
                }
            }
            TAG_TABLE => {
                for _ in 0..self.count()? {
                    let n = self.count()?;
                    self.take(n)?;
                    self.skip(depth + 1)?;
                }
            }
            tag => return Err(self.error(&format!("unknown tag {tag}"))),
        }
        Ok(())
    }

    fn value(&mut self, depth: usize) -> Result<Value, Error> {
        if depth > MAX_DEPTH {
            return Err(self.error("nested too deeply"));
        }
        Ok(match self.byte()? {
            TAG_FALSE => Value::Boolean(false),
            TAG_TRUE => Value::Boolean(true),
            TAG_INTEGER => {
                let z = self.varint()?;
                Value::Integer(((z >> 1) as i64) ^ -((z & 1) as i64))
            }
            TAG_FLOAT => {
                let bytes: [u8; 8] = self.take(8)?.try_into().expect("eight bytes");
                Value::Float(f64::from_le_bytes(bytes))
            }
            TAG_STRING => Value::String(self.string()?),
            TAG_ARRAY => {
                let n = self.count()?;
                let mut items = Vec::with_capacity(n);
                for _ in 0..n {
                    items.push(self.value(depth + 1)?);
                }
                Value::Array(items)
            }
            TAG_TABLE => {
                let n = self.count()?;
                let mut table = BTreeMap::new();
                for _ in 0..n {
                    let key = self.string()?;
                    let item = self.value(depth + 1)?;
                    table.insert(key, item);
                }
                Value::Table(table)
            }
            tag => return Err(self.error(&format!("unknown tag {tag}"))),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Value {
        let mut inner = BTreeMap::new();
        inner.insert("x".to_string(), Value::Float(-1.5));
        inner.insert("n".to_string(), Value::Integer(i64::MIN));
        inner.insert("big".to_string(), Value::Integer(i64::MAX));
        inner.insert("name".to_string(), Value::String("é ✓".to_string()));
        let mut root = BTreeMap::new();
        root.insert("a".to_string(), Value::Table(inner));
        root.insert(
            "list".to_string(),
            Value::Array(vec![
                Value::Boolean(true),
                Value::Boolean(false),
                Value::Integer(0),
            ]),
        );
        Value::Table(root)
    }

    #[test]
    fn encodes_and_decodes_every_kind() {
        let tree = sample();
        assert_eq!(decode(&encode(&tree)).unwrap(), tree);
    }

    #[test]
    fn reads_one_entry_of_a_table_without_the_rest() {
        let tree = sample();
        let bytes = encode(&tree);
        let Value::Table(table) = &tree else {
            unreachable!()
        };
        assert_eq!(
            decode_entry(&bytes, "list").unwrap().as_ref(),
            table.get("list")
        );
        assert_eq!(decode_entry(&bytes, "a").unwrap().as_ref(), table.get("a"));
        assert_eq!(decode_entry(&bytes, "nope").unwrap(), None);
        for cut in 0..bytes.len() {
            // Cut short: an error or (if the entry came before the cut) the entry; no panic.
            let _ = decode_entry(&bytes[..cut], "list");
        }
        assert!(decode_entry(&encode(&Value::Integer(1)), "a").is_err());
    }

    #[test]
    fn refuses_malformed_bytes_without_panicking() {
        let bytes = encode(&sample());
        for cut in 0..bytes.len() {
            assert!(decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        assert!(decode(&[9]).is_err());
        assert!(decode(&[TAG_ARRAY, 0xff, 0xff, 0xff, 0xff, 0x0f]).is_err());
        let mut deep = [TAG_ARRAY, 1].repeat(100);
        deep.push(TAG_TRUE);
        assert!(decode(&deep).is_err());
        let mut extra = bytes.clone();
        extra.push(TAG_TRUE);
        assert!(decode(&extra).is_err());
    }
}
