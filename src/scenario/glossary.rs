//! The glossary: terms defined once (scenarios/glossary.toml) and linked wherever they appear in
//! stories, fixes, questions and the help.

use super::from_tree::{FromTree, TreeError};
use super::tree;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The bundled glossary's text.
pub const SOURCE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/scenarios/glossary.toml"
));

/// Every defined term, by id.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Glossary {
    /// Terms by id (kebab-case).
    pub terms: BTreeMap<String, Term>,
}

/// One term.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Term {
    /// The form shown as the entry's title.
    pub term: String,
    /// Other forms that link to it (matched case-insensitively, as whole words).
    #[serde(default)]
    pub also: Vec<String>,
    /// What it means, in plain words.
    pub definition: String,
}

impl Glossary {
    /// Parses and checks glossary text: every form names one term only.
    pub fn parse(text: &str) -> Result<Glossary, String> {
        let glossary: Glossary = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut seen: BTreeMap<String, &str> = BTreeMap::new();
        for (id, term) in &glossary.terms {
            if term.term.trim().is_empty() || term.definition.trim().is_empty() {
                return Err(format!(
                    "terms.{id}: a term needs its form and a definition"
                ));
            }
            for form in std::iter::once(&term.term).chain(&term.also) {
                if let Some(other) = seen.insert(form.to_ascii_lowercase(), id) {
                    return Err(format!("terms.{id}: `{form}` already links to `{other}`"));
                }
            }
        }
        Ok(glossary)
    }

    /// The compact binary form the web page fetches.
    pub fn precompile(&self) -> Result<Vec<u8>, String> {
        let tree = tree::to_value(self).map_err(|e| e.to_string())?;
        Ok(tree::encode(&tree))
    }

    /// Reads the compact binary form.
    pub fn from_precompiled(bytes: &[u8]) -> Result<Glossary, String> {
        let tree = tree::decode(bytes).map_err(|e| e.0)?;
        Glossary::from_tree(tree).map_err(|e: TreeError| e.to_string())
    }

    /// Every form (the term's and its others), longest first, with its term's id: what a text
    /// is searched for.
    pub fn forms(&self) -> Vec<(String, String)> {
        let mut forms: Vec<(String, String)> = Vec::new();
        for (id, term) in &self.terms {
            for form in std::iter::once(&term.term).chain(&term.also) {
                forms.push((form.to_ascii_lowercase(), id.clone()));
            }
        }
        crate::small_sort::sort_by_key(&mut forms, |(f, _)| usize::MAX - f.len());
        forms
    }
}

/// Splits `text` into plain runs and linked terms: `(run, Some(term id))` for the first use of
/// each term (whole words, any case), `(run, None)` for the rest.
pub fn link_terms<'t>(text: &'t str, forms: &[(String, String)]) -> Vec<(&'t str, Option<String>)> {
    let lower = text.to_ascii_lowercase();
    let word = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '-');
    // Matches (start, end, id), first use per term, not overlapping an earlier (longer) match.
    let mut matches: Vec<(usize, usize, &str)> = Vec::new();
    for (form, id) in forms {
        if matches.iter().any(|m| m.2 == id) {
            continue;
        }
        let mut from = 0;
        while let Some(found) = lower[from..].find(form.as_str()) {
            let (start, end) = (from + found, from + found + form.len());
            let free = !matches.iter().any(|m| start < m.1 && m.0 < end);
            if free
                && !word(lower[..start].chars().next_back())
                && !word(lower[end..].chars().next())
            {
                matches.push((start, end, id));
                break;
            }
            from = start + lower[start..].chars().next().map_or(1, char::len_utf8);
        }
    }
    crate::small_sort::sort_by_key(&mut matches, |m| m.0);
    let mut out = Vec::new();
    let mut at = 0;
    for (start, end, id) in matches {
        if start > at {
            out.push((&text[at..start], None));
        }
        out.push((&text[start..end], Some(id.to_string())));
        at = end;
    }
    if at < text.len() {
        out.push((&text[at..], None));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_glossary_parses_and_survives_its_compact_form() {
        let glossary = Glossary::parse(SOURCE).unwrap();
        assert!(glossary.terms.len() >= 19);
        let bytes = glossary.precompile().unwrap();
        assert_eq!(Glossary::from_precompiled(&bytes).unwrap(), glossary);
    }

    #[test]
    fn terms_link_once_as_whole_words_and_the_longest_form_wins() {
        let glossary = Glossary::parse(
            r#"
[terms.retry-storm]
term = "retry storm"
also = ["retry storms"]
definition = "d"
[terms.jitter]
term = "jitter"
definition = "d"
"#,
        )
        .unwrap();
        let forms = glossary.forms();
        let parts = link_terms("Retry storms, then a retry storm; jittery Jitter.", &forms);
        let linked: Vec<(&str, Option<&str>)> =
            parts.iter().map(|(t, id)| (*t, id.as_deref())).collect();
        assert_eq!(
            linked,
            [
                ("Retry storms", Some("retry-storm")),
                (", then a retry storm; jittery ", None),
                ("Jitter", Some("jitter")),
                (".", None),
            ]
        );
        assert!(Glossary::parse("[terms.a]\nterm = \"x\"\ndefinition = \"d\"\n[terms.b]\nterm = \"X\"\ndefinition = \"d\"").is_err());
    }
}
