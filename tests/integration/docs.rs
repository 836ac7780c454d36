//! scenarios/README.md lists every field of the scenario format with the code's default.

use cascade::scenario::Scenario;
use std::collections::BTreeMap;
use toml::Value;

/// A scenario with one of every component and array entry, and only required fields set, so
/// that serialising it shows every field with its default.
const EVERYTHING: &str = r#"
[scenario]
id = "everything"
title = "Everything"
duration_s = 10

[clients.c]
target = "h"
rate_changes = [{ at_s = 1, rate_rps = 2 }]

[load_balancers.l]
backends = ["s"]

[http_caches.h]
backend = "l"
ttl_s = 1

[services.s]
endpoints.default = {}
endpoints.health = {}

[caches.k]
ttl_s = 1

[datastores.d]
queries.q.cost = { distribution = "constant", ms = 1 }

[dependencies.x]
latency = { distribution = "constant", ms = 1 }

[probes.p]
target = "s"
period_ms = 1000

[deploys.y]
service = "s"
replaces = "s2"
balancer = "l"
instances = 1
deadline_s = 5

[services.s2]
endpoints.default = {}

[[timeline]]
at_s = 1
action = "crash"
target = "s"

[[beats]]
at_s = 1
title = "t"
caption = "c"

[fixes.f]
description = "d"
set = {}

[[expectations]]
name = "n"
series = "success_rps"
at_least = 0

[[questions]]
beat = 0
prompt = "p"
choices = ["a", "b"]
answer = 0
reveal_s = 1
explanation = "e"

[[drill.alerts]]
name = "a"
series = "success_rps"
below = 1

[[drill.runbook]]
name = "r"
title = "t"
steps = [{ at_s = 0, action = "restart", target = "s" }]

[[parameters]]
path = "clients.c.rate_rps"
label = "l"
min = 0
max = 1
"#;

/// Fields that EVERYTHING sets although they have a default (to reach what is inside them).
const SET_ABOVE: [&str; 7] = [
    "clients.<name>.rate_changes",
    "drill.alerts",
    "drill.runbook",
    "timeline.<i>.target",
    "drill.alerts.<i>.below",
    "drill.runbook.<i>.steps",
    "drill.runbook.<i>.steps.<i>.target",
];

const NAMED_MAPS: [&str; 12] = [
    "clients",
    "load_balancers",
    "http_caches",
    "services",
    "caches",
    "datastores",
    "dependencies",
    "probes",
    "deploys",
    "fixes",
    "endpoints",
    "queries",
];

struct Row {
    default: String,
}

fn documented() -> BTreeMap<String, Row> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/README.md"))
        .unwrap();
    let mut rows = BTreeMap::new();
    for line in text.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if cells.len() < 5 || !cells[1].starts_with('`') {
            continue;
        }
        let path = cells[1].trim_matches('`').to_string();
        if !path.contains('.') || path.contains(' ') {
            continue; // rows of the other tables (durations, steps, actions)
        }
        rows.insert(
            path,
            Row {
                default: cells[2].trim_matches('`').to_string(),
            },
        );
    }
    rows
}

fn walk(value: &Value, path: &str, docs: &BTreeMap<String, Row>, found: &mut Vec<(String, Value)>) {
    let parent_is_map = NAMED_MAPS
        .iter()
        .any(|m| path == *m || path.ends_with(&format!(".{m}")));
    let children: Vec<(String, &Value)> = match value {
        Value::Table(t) => t
            .iter()
            .map(|(k, v)| {
                let segment = if parent_is_map {
                    "<name>".to_string()
                } else {
                    k.clone()
                };
                (segment, v)
            })
            .collect(),
        Value::Array(items) if !path.is_empty() && items.iter().all(Value::is_table) => {
            items.iter().map(|v| ("<i>".to_string(), v)).collect()
        }
        _ => Vec::new(),
    };
    for (segment, child) in children {
        let child_path = if path.is_empty() {
            segment
        } else {
            format!("{path}.{segment}")
        };
        if docs.contains_key(&child_path) {
            found.push((child_path.clone(), child.clone()));
            let has_documented_children = docs
                .keys()
                .any(|k| k.starts_with(&format!("{child_path}.")));
            if has_documented_children {
                walk(child, &child_path, docs, found);
            }
        } else if child.is_table() || child.is_array() {
            walk(child, &child_path, docs, found);
        } else {
            found.push((format!("UNDOCUMENTED {child_path}"), child.clone()));
        }
    }
}

fn same(documented: &Value, actual: &Value) -> bool {
    match (documented, actual) {
        (Value::Integer(a), Value::Float(b)) | (Value::Float(b), Value::Integer(a)) => {
            (*a as f64 - b).abs() < 1e-9
        }
        (Value::Table(a), Value::Table(b)) => {
            a.len() == b.len() && a.iter().all(|(k, v)| b.get(k).is_some_and(|w| same(v, w)))
        }
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(v, w)| same(v, w))
        }
        (a, b) => a == b,
    }
}

#[test]
fn the_readme_documents_every_field_with_its_default() {
    let docs = documented();
    assert!(docs.len() > 80, "found only {} rows", docs.len());
    let scenario = Scenario::parse("everything.toml", EVERYTHING).unwrap_or_else(|e| panic!("{e}"));
    let tree = Value::try_from(&scenario.file).unwrap();
    let mut found = Vec::new();
    walk(&tree, "", &docs, &mut found);

    let undocumented: Vec<&String> = found
        .iter()
        .map(|(p, _)| p)
        .filter(|p| p.starts_with("UNDOCUMENTED"))
        .collect();
    assert!(
        undocumented.is_empty(),
        "fields missing from scenarios/README.md: {undocumented:?}"
    );

    let seen: Vec<&String> = found.iter().map(|(p, _)| p).collect();
    let stale: Vec<&String> = docs.keys().filter(|k| !seen.contains(k)).collect();
    assert!(
        stale.is_empty(),
        "scenarios/README.md documents fields the code does not have: {stale:?}"
    );

    let mut wrong = Vec::new();
    for (path, actual) in &found {
        let row = &docs[path];
        if row.default == "required" || row.default == "none" || SET_ABOVE.contains(&path.as_str())
        {
            continue;
        }
        let parsed: toml::Table = format!("v = {}", row.default).parse().unwrap_or_else(|e| {
            panic!(
                "{path}: the documented default `{}` is not a TOML value: {e}",
                row.default
            )
        });
        if !same(&parsed["v"], actual) {
            wrong.push(format!("{path}: documented {}, code {actual}", row.default));
        }
    }
    assert!(
        wrong.is_empty(),
        "defaults in scenarios/README.md differ from the code:\n{}",
        wrong.join("\n")
    );
}
