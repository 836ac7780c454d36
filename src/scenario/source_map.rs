//! Maps between parameter paths (`services.api.workers`) and places in a TOML source text.
//!
//! Used only to make error messages point at a file, line and column: never on the hot path.

use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// A 1-based line and column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineCol {
    /// Line, from 1.
    pub line: usize,
    /// Column (in characters), from 1.
    pub column: usize,
}

/// The line and column of a byte offset in `text`.
pub fn line_col(text: &str, offset: usize) -> LineCol {
    let offset = offset.min(text.len());
    let before = &text[..text.floor_char_boundary(offset)];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    LineCol {
        line,
        column: before[line_start..].chars().count() + 1,
    }
}

/// Splits a path such as `timeline.2.at_s` into its segments.
pub fn split_path(path: &str) -> Vec<&str> {
    path.split('.').collect()
}

/// Where the deepest existing part of `path` is written in `text` (the key if the last segment
/// exists, otherwise its closest existing parent), or `None` if nothing of it is in the text.
pub fn locate(text: &str, path: &str) -> Option<LineCol> {
    let root = DeTable::parse(text).ok()?;
    let mut best: Option<usize> = None;
    let mut table: Option<&DeTable<'_>> = Some(root.get_ref());
    let mut array: Option<&[Spanned<DeValue<'_>>]> = None;
    for segment in split_path(path) {
        let next: &Spanned<DeValue<'_>> = if let Some(t) = table {
            let Some((key, value)) = t.iter().find(|(key, _)| key.get_ref() == segment) else {
                break;
            };
            best = Some(key.span().start);
            value
        } else if let Some(items) = array {
            let Some(value) = segment.parse::<usize>().ok().and_then(|i| items.get(i)) else {
                break;
            };
            best = Some(value.span().start);
            value
        } else {
            break;
        };
        table = next.get_ref().as_table();
        array = match next.get_ref() {
            DeValue::Array(items) => Some(items.as_ref()),
            _ => None,
        };
    }
    best.map(|offset| line_col(text, offset))
}

/// The dotted path of the value at byte `offset`: the innermost value whose span contains it, or
/// else the last key written before it (tables opened by a `[header]` have no span of their own).
pub fn path_at(text: &str, offset: usize) -> Option<String> {
    let root = DeTable::parse(text).ok()?;
    // (start of the key or item, path, span of the value)
    let mut places: Vec<(usize, String, std::ops::Range<usize>)> = Vec::new();
    fn walk(
        value: &DeValue<'_>,
        prefix: &str,
        places: &mut Vec<(usize, String, std::ops::Range<usize>)>,
    ) {
        let join = |segment: &str| {
            if prefix.is_empty() {
                segment.to_string()
            } else {
                format!("{prefix}.{segment}")
            }
        };
        match value {
            DeValue::Table(table) => {
                for (key, v) in table.iter() {
                    let path = join(key.get_ref());
                    places.push((key.span().start, path.clone(), v.span()));
                    walk(v.get_ref(), &path, places);
                }
            }
            DeValue::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    let path = join(&i.to_string());
                    places.push((v.span().start, path.clone(), v.span()));
                    walk(v.get_ref(), &path, places);
                }
            }
            _ => {}
        }
    }
    walk(&DeValue::Table(root.into_inner()), "", &mut places);
    let innermost = places
        .iter()
        .filter(|(_, _, span)| span.contains(&offset))
        .max_by_key(|(_, path, _)| path.len())
        .map(|(_, path, _)| path.clone());
    innermost.or_else(|| {
        places
            .iter()
            .filter(|(start, _, _)| *start <= offset)
            .max_by_key(|(start, _, _)| *start)
            .map(|(_, p, _)| p.clone())
    })
}

/// The key written at byte `offset` of `text` (up to its `=`, or the `]` of a table header),
/// for messages about it.
pub fn key_at(text: &str, offset: usize) -> String {
    let start = text.floor_char_boundary(offset.min(text.len()));
    let rest = &text[start..];
    let end = rest.find(['=', ']', '\n']).unwrap_or(rest.len());
    let key: String = rest[..end].trim().chars().take(80).collect();
    key
}

/// The byte offset of the line that nests deepest (dots in its key, open brackets and braces),
/// where a parser gave up on nesting without saying where.
pub fn most_nested_line(text: &str) -> Option<usize> {
    let mut deepest: Option<(usize, usize)> = None;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let key = line.split('=').next().unwrap_or("");
        let depth = key.matches('.').count() + line.matches(['[', '{']).count();
        if deepest.is_none_or(|(most, _)| depth > most) {
            deepest = Some((depth, offset));
        }
        offset += line.len();
    }
    deepest.map(|(_, at)| at)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "[scenario]\nid = \"x\"\n\n[services.api]\nworkers = 4\n\n[[timeline]]\nat_s = 1\n\n[[timeline]]\nat_s = 2\n";

    #[test]
    fn locates_keys_and_array_items() {
        assert_eq!(
            locate(TEXT, "services.api.workers"),
            Some(LineCol { line: 5, column: 1 })
        );
        assert_eq!(locate(TEXT, "timeline.1.at_s").map(|p| p.line), Some(11));
        // A missing leaf falls back to its closest parent.
        assert_eq!(locate(TEXT, "services.api.nope").map(|p| p.line), Some(4));
        assert_eq!(locate(TEXT, "nothing.here"), None);
    }

    #[test]
    fn finds_the_path_at_an_offset() {
        let offset = TEXT.find("4").unwrap();
        assert_eq!(
            path_at(TEXT, offset).as_deref(),
            Some("services.api.workers")
        );
        let offset = TEXT.rfind("2").unwrap();
        assert_eq!(path_at(TEXT, offset).as_deref(), Some("timeline.1.at_s"));
    }

    #[test]
    fn counts_lines_and_columns_from_one() {
        assert_eq!(line_col("ab\ncd", 4), LineCol { line: 2, column: 2 });
        assert_eq!(line_col("", 0), LineCol { line: 1, column: 1 });
    }
}
