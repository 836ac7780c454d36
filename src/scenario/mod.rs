//! Scenarios: reading a TOML file, validating it, and applying fixes and overrides to it.
//!
//! [`Scenario::parse`] turns text into a validated scenario or a [`ScenarioError`] that names the
//! file, line, column and parameter path. [`Scenario::variant`] applies named fixes and `--set`
//! overrides through one patch mechanism and validates the result again.

#[cfg(feature = "validation")]
pub mod budget;
pub mod from_tree;
pub mod glossary;
pub mod graph;
mod patch;
pub mod schema;
pub mod series;
pub mod source_map;
pub mod tree;
mod validate;

pub use patch::parse_value;
pub use schema::*;
pub use source_map::LineCol;
pub use tree::Value;
pub use validate::reachable_services;

use from_tree::FromTree;
use std::collections::BTreeMap;
use std::fmt;

/// A scenario file compiled into the core (from `scenarios/*.toml`).
#[derive(Clone, Copy, Debug)]
pub struct BundledScenario {
    /// File name, such as `retry-storm.toml`.
    pub file_name: &'static str,
    /// The file's text.
    pub source: &'static str,
}

/// Every bundled scenario file, sorted by file name.
pub fn bundled() -> &'static [BundledScenario] {
    include!(concat!(env!("OUT_DIR"), "/bundled.rs"))
}

/// The first sentence of a text (up to its first ". "), trimmed; the whole text if it has one.
pub fn first_sentence(text: &str) -> &str {
    let text = text.trim();
    match text.find(". ") {
        Some(i) => &text[..=i],
        None => text,
    }
}

/// A problem with a scenario, pointing at where it is.
#[derive(Clone, Debug, PartialEq)]
pub struct ScenarioError {
    /// The file (or other source) name.
    pub file: String,
    /// Where in the file, when known.
    pub location: Option<LineCol>,
    /// The parameter path concerned, when known.
    pub path: Option<String>,
    /// What is wrong and what was expected.
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(at) = self.location {
            write!(f, ":{}:{}", at.line, at.column)?;
        }
        if let Some(path) = &self.path {
            write!(f, ": `{path}`")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ScenarioError {}

/// A parsed and validated scenario, with its source kept for error messages.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// The scenario as written (defaults filled in).
    pub file: ScenarioFile,
    /// The same, as the tree of parameters that fixes and overrides patch.
    pub(crate) tree: Value,
    name: String,
    text: String,
    /// Finds a parameter path in `text`. A scenario read from its precompiled form has no text
    /// and locates nothing; keeping the TOML locator behind this pointer keeps the TOML parser
    /// out of builds that only read precompiled scenarios (the web app).
    locate: fn(&str, &str) -> Option<LineCol>,
}

impl PartialEq for Scenario {
    fn eq(&self, other: &Scenario) -> bool {
        self.file == other.file && self.name == other.name && self.text == other.text
    }
}

fn locate_nothing(_text: &str, _path: &str) -> Option<LineCol> {
    None
}

/// A scenario with fixes and overrides applied, validated: what a simulation is built from.
#[derive(Clone, Debug, PartialEq)]
pub struct Variant {
    /// The patched scenario.
    pub file: ScenarioFile,
    /// The same, as a tree of parameters (what a change during the run patches).
    pub tree: Value,
    /// The fixes applied, in the order given.
    pub fixes: Vec<String>,
}

impl Scenario {
    /// Parses and validates `text`; `name` is used in error messages (a file name or path).
    pub fn parse(name: &str, text: &str) -> Result<Scenario, ScenarioError> {
        let file: ScenarioFile = toml::from_str(text).map_err(|err| {
            let mut offset = err.span().map(|span| span.start);
            let mut message = err.message().trim().to_string();
            if message == "duplicate key" {
                if let Some(key) = offset.map(|o| source_map::key_at(text, o)) {
                    message = format!(
                        "duplicate key `{key}`: a key may be given once in a table, and this \
                         one was given before"
                    );
                }
            } else if message.contains("recurs") {
                offset = offset.or_else(|| source_map::most_nested_line(text));
                message = "nested too deeply (a dotted key, inline tables or arrays many levels \
                           down): a scenario needs a few levels at most"
                    .to_string();
            }
            ScenarioError {
                file: name.to_string(),
                location: offset.map(|o| source_map::line_col(text, o)),
                path: offset.and_then(|o| source_map::path_at(text, o)),
                message,
            }
        })?;
        let tree = tree::to_value(&file).map_err(|err| ScenarioError {
            file: name.to_string(),
            location: None,
            path: None,
            message: format!("cannot be represented as a tree of parameters: {err}"),
        })?;
        let scenario = Scenario {
            file,
            tree,
            name: name.to_string(),
            text: text.to_string(),
            locate: source_map::locate,
        };
        validate::check(&scenario.file)
            .map_err(|(path, message)| scenario.error_at(&path, message))?;
        #[cfg(feature = "validation")]
        validate::check_story(&scenario.file)
            .map_err(|(path, message)| scenario.error_at(&path, message))?;
        for fix in scenario.file.fixes.keys() {
            scenario.variant(std::slice::from_ref(fix), &[])?;
        }
        #[cfg(feature = "validation")]
        validate::check_parameters(&scenario)?;
        scenario.check_timeline_sets()?;
        Ok(scenario)
    }

    /// Each `set` on the timeline must apply to the system as it is by then.
    fn check_timeline_sets(&self) -> Result<(), ScenarioError> {
        let mut order: Vec<usize> = (0..self.file.timeline.len()).collect();
        crate::small_sort::sort_by(&mut order, |&a, &b| {
            self.file.timeline[a].at_s < self.file.timeline[b].at_s
        });
        let mut current = self.tree.clone();
        for i in order {
            let event = &self.file.timeline[i];
            if event.action == Action::Set {
                current = patched_live(&current, &event.set)
                    .map_err(|message| self.error_at(&format!("timeline.{i}.set"), message))?
                    .1;
            }
        }
        Ok(())
    }

    /// The compact binary form of this scenario (see [`Scenario::from_precompiled`]): its tree
    /// of parameters, without comments and without its expectations (they are checked natively,
    /// by `cascade check` and the tests; they are the largest section of most files). The web
    /// app is built with these, not with TOML.
    pub fn precompile(&self) -> Vec<u8> {
        let mut tree = self.tree.clone();
        if let Value::Table(table) = &mut tree {
            table.insert("expectations".to_string(), Value::Array(Vec::new()));
        }
        tree::encode(&tree)
    }

    /// Only the `[scenario]` section in the compact binary form: what a gallery needs to list
    /// the scenario (read by [`Scenario::precompiled_meta`]) before its whole file is loaded.
    /// Its summary is cut to its first sentence, all a gallery card shows (the whole story comes
    /// with the file: nine stories are 9 KB of a module every visitor downloads).
    pub fn precompile_meta(&self) -> Vec<u8> {
        let mut table = BTreeMap::new();
        if let Value::Table(all) = &self.tree
            && let Some(Value::Table(meta)) = all.get("scenario")
        {
            let mut meta = meta.clone();
            if let Some(Value::String(summary)) = meta.get_mut("summary") {
                *summary = first_sentence(summary).to_string();
            }
            table.insert("scenario".to_string(), Value::Table(meta));
        }
        tree::encode(&Value::Table(table))
    }

    /// Reads a scenario written by [`Scenario::precompile`] and validates it again (its fixes
    /// and timeline were checked when it was precompiled). Errors carry no line numbers.
    pub fn from_precompiled(name: &str, bytes: &[u8]) -> Result<Scenario, ScenarioError> {
        let error = |message: String| ScenarioError {
            file: name.to_string(),
            location: None,
            path: None,
            message,
        };
        let tree = tree::decode(bytes).map_err(|err| error(err.0))?;
        let file = ScenarioFile::from_tree(tree.clone()).map_err(|err| error(err.to_string()))?;
        validate::check(&file).map_err(|(path, message)| ScenarioError {
            path: Some(path),
            ..error(message)
        })?;
        Ok(Scenario {
            file,
            tree,
            name: name.to_string(),
            text: String::new(),
            locate: locate_nothing,
        })
    }

    /// Only the `[scenario]` section (title, organisation, summary…) of a precompiled scenario:
    /// what a gallery lists, read without building the whole scenario.
    pub fn precompiled_meta(bytes: &[u8]) -> Result<Meta, String> {
        let meta = tree::decode_entry(bytes, "scenario")
            .map_err(|err| err.0)?
            .ok_or_else(|| "no [scenario] section".to_string())?;
        Meta::from_tree(meta).map_err(|err| err.under("scenario").to_string())
    }

    /// The scenario's id.
    pub fn id(&self) -> &str {
        &self.file.scenario.id
    }

    /// The name used in error messages.
    pub fn source_name(&self) -> &str {
        &self.name
    }

    /// An error located at `path` in this scenario's source.
    pub fn error_at(&self, path: &str, message: String) -> ScenarioError {
        ScenarioError {
            file: self.name.clone(),
            location: (self.locate)(&self.text, path),
            path: Some(path.to_string()),
            message,
        }
    }

    /// Applies the named fixes, then each `(path, value)` override (values as written after
    /// `--set`), and validates the result.
    pub fn variant(
        &self,
        fixes: &[String],
        overrides: &[(String, String)],
    ) -> Result<Variant, ScenarioError> {
        let parsed: Vec<(&str, &str, Value)> = overrides
            .iter()
            .map(|(path, text)| (path.as_str(), text.as_str(), parse_value(text)))
            .collect();
        self.build_variant(fixes, &parsed)
    }

    /// Sets each path to a number (a whole one where the file has an integer), then applies the
    /// named fixes, and validates the result: what a sweep's cell runs. The order is the
    /// player's (`what_if`, then fixes): a fix that sets a swept parameter wins, as it does in
    /// the replay of the cell.
    pub fn variant_with_numbers(
        &self,
        fixes: &[String],
        set: &[(String, f64)],
    ) -> Result<Variant, ScenarioError> {
        let mut tree = self.tree.clone();
        for (path, v) in set {
            patch::apply(&mut tree, path, self.number_value(path, *v)).map_err(|message| {
                ScenarioError {
                    file: self.name.clone(),
                    location: None,
                    path: Some(path.clone()),
                    message: format!("{path}={v}: {message}"),
                }
            })?;
        }
        self.build_variant_from(tree, fixes, &[])
    }

    /// `value` as the parameter at `path` takes it: whole for an integer.
    fn number_value(&self, path: &str, value: f64) -> Value {
        if self.is_integer_at(path) {
            Value::Integer(libm::round(value) as i64)
        } else {
            Value::Float(value)
        }
    }

    /// The number at a parameter path (`clients.users.rate_rps`), if there is one there.
    pub fn number_at(&self, path: &str) -> Option<f64> {
        match patch::lookup(&self.tree, path)? {
            Value::Integer(n) => Some(*n as f64),
            Value::Float(x) => Some(*x),
            _ => None,
        }
    }

    /// Whether the value at a parameter path is a whole number in the file (an integer field).
    pub fn is_integer_at(&self, path: &str) -> bool {
        matches!(patch::lookup(&self.tree, path), Some(Value::Integer(_)))
    }

    /// This scenario with some of its declared `parameters` set ("what if the load were 90
    /// req/s?"): each path must be a declared parameter and each value within its range (whole
    /// for an integer). The result is read and checked like a file; fixes, links and drills
    /// work on it as on the scenario.
    pub fn what_if(&self, set: &[(String, f64)]) -> Result<Scenario, ScenarioError> {
        let mut tree = self.tree.clone();
        for (path, value) in set {
            let Some(parameter) = self.file.parameters.iter().find(|p| p.path == *path) else {
                return Err(self.error_at(
                    "parameters",
                    format!("`{path}` is not one of this scenario's parameters"),
                ));
            };
            if !(parameter.min..=parameter.max).contains(value) {
                return Err(self.error_at(
                    "parameters",
                    format!(
                        "{} must be from {} to {}, not {value}",
                        parameter.label, parameter.min, parameter.max
                    ),
                ));
            }
            patch::apply(&mut tree, path, self.number_value(path, *value))
                .map_err(|message| self.error_at("parameters", format!("`{path}`: {message}")))?;
        }
        let file = ScenarioFile::from_tree(tree.clone())
            .map_err(|err| self.error_at("parameters", format!("what if: {}", err.message)))?;
        validate::check(&file).map_err(|(path, message)| {
            self.error_at(&path, format!("what if {set:?}: {message}"))
        })?;
        let what_if = Scenario {
            file,
            tree,
            name: self.name.clone(),
            text: self.text.clone(),
            locate: self.locate,
        };
        // Checked as a file is: its story, and the timeline's sets in their new order.
        #[cfg(feature = "validation")]
        validate::check_story(&what_if.file)
            .map_err(|(path, message)| what_if.error_at(&path, message))?;
        what_if.check_timeline_sets()?;
        Ok(what_if)
    }

    /// Applies the named fixes and validates the result.
    pub fn with_fixes(&self, fixes: &[String]) -> Result<Variant, ScenarioError> {
        self.build_variant(fixes, &[])
    }

    fn build_variant(
        &self,
        fixes: &[String],
        overrides: &[(&str, &str, Value)],
    ) -> Result<Variant, ScenarioError> {
        self.build_variant_from(self.tree.clone(), fixes, overrides)
    }

    /// [`Scenario::build_variant`] on `tree`, this scenario's own tree or one patched from it.
    fn build_variant_from(
        &self,
        mut tree: Value,
        fixes: &[String],
        overrides: &[(&str, &str, Value)],
    ) -> Result<Variant, ScenarioError> {
        for name in fixes {
            let fix = self.file.fixes.get(name).ok_or_else(|| {
                let known: Vec<&str> = self.file.fixes.keys().map(String::as_str).collect();
                self.error_at(
                    "fixes",
                    format!(
                        "there is no fix `{name}`; this scenario's fixes are: {}",
                        or_none(&known)
                    ),
                )
            })?;
            for (path, value) in &fix.set {
                patch::apply(&mut tree, path, value.clone()).map_err(|message| {
                    self.error_at(
                        &format!("fixes.{name}.set"),
                        format!("fix `{name}`: {message}"),
                    )
                })?;
            }
        }
        for (path, text, value) in overrides {
            patch::apply(&mut tree, path, value.clone()).map_err(|message| ScenarioError {
                file: self.name.clone(),
                location: None,
                path: Some(path.to_string()),
                message: format!("--set {path}={text}: {message}"),
            })?;
        }
        let file = ScenarioFile::from_tree(tree.clone()).map_err(|err| ScenarioError {
            file: self.name.clone(),
            location: None,
            path: (!err.path.is_empty()).then(|| err.path.clone()),
            message: format!(
                "after applying fixes {fixes:?} and overrides: {}",
                err.message
            ),
        })?;
        validate::check(&file).map_err(|(path, message)| {
            let mut err = self.error_at(&path, message);
            err.message = format!(
                "after applying fixes {fixes:?} and overrides: {}",
                err.message
            );
            err
        })?;
        Ok(Variant {
            file,
            tree,
            fixes: fixes.to_vec(),
        })
    }
}

/// Applies `set` to a scenario's tree and validates the result (messages name the path at
/// fault): the scenario and its tree.
pub fn patched(
    tree: &Value,
    set: &BTreeMap<String, Value>,
) -> Result<(ScenarioFile, Value), String> {
    let mut tree = tree.clone();
    patch_tree(&mut tree, set)?;
    Ok((read_tree(tree.clone())?, tree))
}

/// Reads and validates a scenario's tree.
pub fn read_tree(tree: Value) -> Result<ScenarioFile, String> {
    let file = ScenarioFile::from_tree(tree).map_err(|err| err.to_string())?;
    validate::check(&file).map_err(|(path, message)| format!("`{path}`: {message}"))?;
    Ok(file)
}

/// Sections of a scenario a running system cannot change: they describe the replay itself. (The
/// timeline can change: the run applies such a change to the entries that have not run yet.)
const FROZEN_WHILE_RUNNING: [&str; 6] = [
    "scenario",
    "beats",
    "fixes",
    "expectations",
    "questions",
    "drill",
];

/// Like [`patched`], for a running system: the replay's own sections cannot change, and neither
/// can a client population's kind.
pub fn patched_live(
    tree: &Value,
    set: &BTreeMap<String, Value>,
) -> Result<(ScenarioFile, Value), String> {
    check_live(set)?;
    patched(tree, set)
}

/// Refuses a patch of what a running system cannot change.
pub fn check_live(set: &BTreeMap<String, Value>) -> Result<(), String> {
    for path in set.keys() {
        let top = path.split('.').next().unwrap_or_default();
        if FROZEN_WHILE_RUNNING.contains(&top) || (top == "clients" && path.ends_with(".kind")) {
            return Err(format!("`{path}` cannot change while the replay runs"));
        }
    }
    Ok(())
}

/// Applies `set` to a tree, without reading or validating the result.
pub fn patch_tree(tree: &mut Value, set: &BTreeMap<String, Value>) -> Result<(), String> {
    for (path, value) in set {
        patch::apply(tree, path, value.clone())?;
    }
    Ok(())
}

fn or_none(names: &[&str]) -> String {
    if names.is_empty() {
        "(none)".to_string()
    } else {
        names.join(", ")
    }
}

/// Finds a bundled scenario by id and parses it.
pub fn find_bundled(id: &str) -> Option<Result<Scenario, ScenarioError>> {
    bundled()
        .iter()
        .find(|b| b.file_name.strip_suffix(".toml") == Some(id))
        .map(|b| Scenario::parse(b.file_name, b.source))
}
