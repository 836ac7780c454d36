//! Parameter patches: the one mechanism behind named fixes and the CLI's `--set PATH=VALUE`.
//!
//! A patch replaces the value at a dotted path (`clients.users.timeout_ms`, `timeline.0.at_s`) in
//! the scenario as a TOML tree in which every default is filled in, so any field of the schema can
//! be patched, and a path that names no field is an error rather than silently ignored.

use super::tree::Value;

/// Reads a `--set` value: a TOML literal (`3`, `2.5`, `true`, `"x"`, `[1, 2]`), or else a bare word
/// taken as a string (`exponential`).
pub fn parse_value(text: &str) -> Value {
    let wrapped = format!("v = {text}");
    match wrapped.parse::<toml::Table>() {
        Ok(mut table) => table
            .remove("v")
            .map(from_toml)
            .unwrap_or_else(|| Value::String(text.to_string())),
        Err(_) => Value::String(text.to_string()),
    }
}

/// A TOML value as a parameter value (a date-time becomes its text).
fn from_toml(value: toml::Value) -> Value {
    match value {
        toml::Value::String(s) => Value::String(s),
        toml::Value::Integer(i) => Value::Integer(i),
        toml::Value::Float(f) => Value::Float(f),
        toml::Value::Boolean(b) => Value::Boolean(b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(items) => Value::Array(items.into_iter().map(from_toml).collect()),
        toml::Value::Table(table) => {
            Value::Table(table.into_iter().map(|(k, v)| (k, from_toml(v))).collect())
        }
    }
}

/// The value at `path` in `root`, if there is one.
pub fn lookup<'a>(root: &'a Value, path: &str) -> Option<&'a Value> {
    let mut node = root;
    for segment in path.split('.') {
        node = match node {
            Value::Table(table) => table.get(segment)?,
            Value::Array(items) => items.get(segment.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(node)
}

/// Replaces the value at `path` in `root` with `value`, which must be of the same kind as the
/// value it replaces (an integer may stand for a number).
pub fn apply(root: &mut Value, path: &str, value: Value) -> Result<(), String> {
    let segments: Vec<&str> = path.split('.').collect();
    if path.is_empty() || segments.iter().any(|s| s.is_empty()) {
        return Err(format!(
            "`{path}` is not a parameter path: expected names joined by dots, like services.api.workers"
        ));
    }
    let mut node = root;
    for (depth, segment) in segments.iter().enumerate() {
        let here = segments[..=depth].join(".");
        node = match node {
            Value::Table(table) => {
                if !table.contains_key(*segment) {
                    let known: Vec<&str> = table.keys().map(String::as_str).collect();
                    return Err(format!(
                        "`{here}` does not exist; known here: {}",
                        known.join(", ")
                    ));
                }
                table.get_mut(*segment).expect("checked above")
            }
            Value::Array(items) => {
                let len = items.len();
                segment
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| items.get_mut(i))
                    .ok_or_else(|| format!("`{here}`: expected an index below {len}"))?
            }
            _ => {
                return Err(format!(
                    "`{here}` does not exist: its parent is not a table"
                ));
            }
        };
    }
    let value = match (&*node, value) {
        (Value::Table(_), _) => {
            return Err(format!(
                "`{path}` is a table: set its fields one by one (like `{path}.NAME`)"
            ));
        }
        (Value::Float(_), Value::Integer(i)) => Value::Float(i as f64),
        (old, new) if std::mem::discriminant(old) == std::mem::discriminant(&new) => new,
        (old, new) => {
            return Err(format!(
                "`{path}` expects {}, not {}",
                old.describe(),
                new.describe()
            ));
        }
    };
    *node = value;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> Value {
        from_toml(toml::Value::Table(
            "[a]\nx = 1.5\nname = \"n\"\n[[list]]\ny = 2\n"
                .parse::<toml::Table>()
                .unwrap(),
        ))
    }

    fn at<'a>(root: &'a Value, path: &[&str]) -> &'a Value {
        path.iter().fold(root, |node, key| match node {
            Value::Table(t) => &t[*key],
            Value::Array(items) => &items[key.parse::<usize>().unwrap()],
            _ => panic!("no {key}"),
        })
    }

    #[test]
    fn replaces_values_by_path() {
        let mut root = doc();
        apply(&mut root, "a.x", Value::Integer(3)).unwrap();
        apply(&mut root, "list.0.y", Value::Integer(7)).unwrap();
        assert_eq!(at(&root, &["a", "x"]), &Value::Float(3.0));
        assert_eq!(at(&root, &["list", "0", "y"]), &Value::Integer(7));
    }

    #[test]
    fn refuses_unknown_paths_and_wrong_kinds() {
        let mut root = doc();
        let err = apply(&mut root, "a.nope", Value::Integer(1)).unwrap_err();
        assert!(
            err.contains("`a.nope` does not exist") && err.contains("name, x"),
            "{err}"
        );
        let err = apply(&mut root, "list.3.y", Value::Integer(1)).unwrap_err();
        assert!(err.contains("index below 1"), "{err}");
        let err = apply(&mut root, "a.name", Value::Integer(1)).unwrap_err();
        assert!(err.contains("expects a string, not an integer"), "{err}");
        assert!(apply(&mut root, "", Value::Integer(1)).is_err());
    }

    #[test]
    fn parses_cli_values() {
        assert_eq!(parse_value("3"), Value::Integer(3));
        assert_eq!(parse_value("2.5"), Value::Float(2.5));
        assert_eq!(parse_value("true"), Value::Boolean(true));
        assert_eq!(
            parse_value("exponential"),
            Value::String("exponential".into())
        );
        assert_eq!(parse_value("\"quoted\""), Value::String("quoted".into()));
    }
}
