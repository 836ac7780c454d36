//! Reading the scenario schema from a parameter tree without serde: one small `FromTree` impl per
//! schema type, generated from its field list, so the web build (which reads precompiled trees
//! and patches them) carries no generic deserialiser. TOML files are still read with serde.
//!
//! A tree read here was written from a complete, typed scenario (every default filled in) and
//! then patched value by value, so a missing or extra field is an error, not a default.

use super::glossary::{Glossary, Term};
use super::schema::*;
use super::tree::Value;
use std::collections::BTreeMap;

/// Why a tree is not a scenario: the parameter path and what was expected there.
#[derive(Clone, Debug, PartialEq)]
pub struct TreeError {
    /// Dotted path of the value at fault (empty: the root).
    pub path: String,
    /// What was expected.
    pub message: String,
}

impl TreeError {
    fn new(message: String) -> TreeError {
        TreeError {
            path: String::new(),
            message,
        }
    }

    /// The same error, one level deeper than `segment`.
    pub fn under(mut self, segment: &str) -> TreeError {
        self.path = if self.path.is_empty() {
            segment.to_string()
        } else {
            format!("{segment}.{}", self.path)
        };
        self
    }
}

impl std::fmt::Display for TreeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "`{}`: {}", self.path, self.message)
        }
    }
}

/// A schema type that can be read from a tree.
pub trait FromTree: Sized {
    /// Reads `value`, which must be complete.
    fn from_tree(value: Value) -> Result<Self, TreeError>;

    /// A value that stands in for a field that could not be read, so that a struct is always
    /// built whole and its error reported after: no early return from the middle of a struct
    /// literal, whose clean-up code would cost the web build kilobytes per struct.
    fn fallback() -> Self;
}

fn expected(what: &str, found: &Value) -> TreeError {
    TreeError::new(format!("expected {what}, found {}", found.describe()))
}

impl FromTree for Value {
    fn from_tree(value: Value) -> Result<Value, TreeError> {
        Ok(value)
    }
    fn fallback() -> Value {
        Value::Boolean(false)
    }
}

impl FromTree for bool {
    fn from_tree(value: Value) -> Result<bool, TreeError> {
        match value {
            Value::Boolean(b) => Ok(b),
            other => Err(expected("true or false", &other)),
        }
    }
    fn fallback() -> bool {
        false
    }
}

impl FromTree for f64 {
    fn from_tree(value: Value) -> Result<f64, TreeError> {
        match value {
            Value::Float(f) => Ok(f),
            Value::Integer(i) => Ok(i as f64),
            other => Err(expected("a number", &other)),
        }
    }
    fn fallback() -> f64 {
        0.0
    }
}

impl FromTree for u32 {
    fn from_tree(value: Value) -> Result<u32, TreeError> {
        match value {
            Value::Integer(i) => u32::try_from(i).map_err(|_| {
                TreeError::new(format!(
                    "expected a whole number from 0 to {}, found {i}",
                    u32::MAX
                ))
            }),
            other => Err(expected("a whole number", &other)),
        }
    }
    fn fallback() -> u32 {
        0
    }
}

impl FromTree for u64 {
    fn from_tree(value: Value) -> Result<u64, TreeError> {
        match value {
            Value::Integer(i) => u64::try_from(i).map_err(|_| {
                TreeError::new(format!("expected a whole number of 0 or more, found {i}"))
            }),
            other => Err(expected("a whole number", &other)),
        }
    }
    fn fallback() -> u64 {
        0
    }
}

impl FromTree for String {
    fn from_tree(value: Value) -> Result<String, TreeError> {
        match value {
            Value::String(s) => Ok(s),
            other => Err(expected("a string", &other)),
        }
    }
    fn fallback() -> String {
        String::new()
    }
}

impl<T: FromTree> FromTree for Vec<T> {
    fn from_tree(value: Value) -> Result<Vec<T>, TreeError> {
        match value {
            Value::Array(items) => {
                // Loops rather than `collect`: each `collect` into a `Result` is a generic
                // adapter per type, which the web build pays for in bytes.
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.into_iter().enumerate() {
                    out.push(T::from_tree(item).map_err(|e| e.under(&i.to_string()))?);
                }
                Ok(out)
            }
            other => Err(expected("an array", &other)),
        }
    }
    fn fallback() -> Vec<T> {
        Vec::new()
    }
}

impl<T: FromTree> FromTree for BTreeMap<String, T> {
    fn from_tree(value: Value) -> Result<BTreeMap<String, T>, TreeError> {
        match value {
            Value::Table(table) => {
                // Inserted one by one (in order already): collecting would sort.
                let mut out = BTreeMap::new();
                for (key, item) in table {
                    match T::from_tree(item) {
                        Ok(item) => out.insert(key, item),
                        Err(e) => return Err(e.under(&key)),
                    };
                }
                Ok(out)
            }
            other => Err(expected("a table", &other)),
        }
    }
    fn fallback() -> BTreeMap<String, T> {
        BTreeMap::new()
    }
}

/// The fields of a table, taken one by one; what is left at the end is an error.
struct Fields(BTreeMap<String, Value>);

impl Fields {
    fn of(value: Value) -> Result<Fields, TreeError> {
        match value {
            Value::Table(table) => Ok(Fields(table)),
            other => Err(expected("a table", &other)),
        }
    }

    /// Takes the field `name`; if it cannot be read, notes the first such error in `error` and
    /// gives the type's fallback.
    #[inline(never)]
    fn take<T: FromTree>(&mut self, name: &str, error: &mut Option<TreeError>) -> T {
        let read = match self.0.remove(name) {
            Some(value) => T::from_tree(value).map_err(|e| e.under(name)),
            None => Err(TreeError::new(format!("the field `{name}` is missing"))),
        };
        read.unwrap_or_else(|e| {
            error.get_or_insert(e);
            T::fallback()
        })
    }

    /// The first error noted, or a field nobody took.
    fn done(self, error: Option<TreeError>) -> Result<(), TreeError> {
        if let Some(error) = error {
            return Err(error);
        }
        match self.0.keys().next() {
            None => Ok(()),
            Some(extra) => Err(TreeError::new(format!("unknown field `{extra}`"))),
        }
    }
}

/// A struct read field by field (every field listed, or the struct literal does not compile).
macro_rules! tables {
    ($($ty:ident { $($field:ident),* $(,)? })*) => {$(
        impl FromTree for $ty {
            #[inline(never)]
            fn from_tree(value: Value) -> Result<$ty, TreeError> {
                let mut fields = Fields::of(value)?;
                let mut error = None;
                let out = $ty { $($field: fields.take(stringify!($field), &mut error),)* };
                fields.done(error)?;
                Ok(out)
            }
            #[inline(never)]
            fn fallback() -> $ty {
                $ty { $($field: FromTree::fallback(),)* }
            }
        }
    )*};
}

/// An enum written as one of its names.
macro_rules! names {
    ($($ty:ident { $first:ident = $first_name:literal $(, $variant:ident = $name:literal)* $(,)? })*) => {$(
        impl FromTree for $ty {
            fn fallback() -> $ty {
                $ty::$first
            }
            fn from_tree(value: Value) -> Result<$ty, TreeError> {
                match value {
                    Value::String(s) => match s.as_str() {
                        $first_name => Ok($ty::$first),
                        $($name => Ok($ty::$variant),)*
                        _ => Err(TreeError::new(format!(
                            "expected one of {}, found `{s}`",
                            [$first_name $(, $name)*].join(", ")
                        ))),
                    },
                    other => Err(expected("a name", &other)),
                }
            }
        }
    )*};
}

/// An enum written as a table whose `$tag` field names the variant and whose other fields are
/// the variant's.
macro_rules! tagged {
    ($ty:ident by $tag:literal { $first:ident = $first_name:literal { $($first_field:ident),* }
        $(, $variant:ident = $name:literal { $($field:ident),* $(,)? })* $(,)? }) => {
        impl FromTree for $ty {
            #[inline(never)]
            fn fallback() -> $ty {
                $ty::$first { $($first_field: FromTree::fallback(),)* }
            }
            #[inline(never)]
            fn from_tree(value: Value) -> Result<$ty, TreeError> {
                let mut fields = Fields::of(value)?;
                let mut error = None;
                let which: String = fields.take($tag, &mut error);
                if let Some(error) = error {
                    return Err(error);
                }
                let out = match which.as_str() {
                    $first_name => $ty::$first { $($first_field: fields.take(stringify!($first_field), &mut error),)* },
                    $($name => $ty::$variant { $($field: fields.take(stringify!($field), &mut error),)* },)*
                    _ => {
                        return Err(TreeError::new(format!(
                            "expected one of {}, found `{which}`",
                            [$first_name $(, $name)*].join(", ")
                        ))
                        .under($tag))
                    }
                };
                fields.done(error)?;
                Ok(out)
            }
        }
    };
}

tables! {
    ScenarioFile { scenario, clients, load_balancers, http_caches, services, caches, datastores,
        dependencies, probes, deploys, timeline, beats, fixes, expectations, questions, drill,
        parameters, sweep }
    Parameter { path, label, unit, min, max, step }
    SweepSpec { axes, collapse_outage_s }
    DeploySpec { service, replaces, balancer, instances, deadline_s, retries, retry_after_s }
    Meta { id, title, organisation, date, source_url, summary, started_at, incident_duration_s,
        duration_s, window_ms, seed, key_series, series_labels, difficulty, objectives }
    ClientSpec { kind, target, endpoint, arrival, rate_rps, rate_changes, timeout_ms, max_retries,
        backoff, backoff_base_ms, backoff_cap_ms, jitter, retry_budget_percent, retry_budget_burst,
        breaker_window, breaker_failure_percent, breaker_open_ms, keys, users, population,
        connect_endpoint, connect_requests, heartbeat_period_s, connect_spread_s, sticky_groups,
        drop_on_failure, reconnect, give_up_after_s }
    RateChange { at_s, rate_rps }
    LoadBalancerSpec { backends, policy, sticky }
    ServiceSpec { instances, workers, queue_capacity, queue_counts_in_flight, honor_timeout,
        max_queue_wait_ms, adaptive_limit_target_ms, adaptive_limit_min, adaptive_limit_decrease,
        middleware, memory_base_mb, memory_limit_mb, memory_per_connection_mb,
        auto_restart, restart_delay_s, silent_when_down, endpoints }
    EndpointSpec { service_time, steps, error_probability, memory_mb, rows, row_kb,
        work_per_row_us, max_rows, disabled, middleware }
    CacheSpec { ttl_s, single_flight, warm_keys, keys, ttl_jitter }
    HttpCacheSpec { backend, ttl_s, error_ttl_s, key_includes_user, capacity_objects }
    DatastoreSpec { cores, max_connections, queue_capacity, statement_timeout_ms,
        cancel_abandoned_queries, queries }
    QuerySpec { cost }
    DependencySpec { latency, error_probability }
    ProbeSpec { target, endpoint, period_ms, timeout_ms, probers, failure_threshold, effect,
        decoupled }
    TimelineEvent { at_s, action, target, set, label }
    Beat { at_s, title, caption, watch, highlight }
    Fix { description, tradeoff, set }
    Expectation { name, fixes, seeds, series, from_s, to_s, stat, at_least, at_most }
    Question { beat, prompt, choices, answer, curves, reveal_s, explanation, watch, highlight }
    Drill { brief, impact_tolerance, alerts, runbook }
    Alert { name, series, above, below, for_s }
    RunbookAction { name, title, delay_s, fix, timeline, steps }
    Glossary { terms }
    Term { term, also, definition }
}

names! {
    Arrival { Poisson = "poisson", Uniform = "uniform" }
    Backoff { None = "none", Constant = "constant", Exponential = "exponential" }
    Jitter { None = "none", Full = "full", Equal = "equal", Decorrelated = "decorrelated" }
    ClientKind { Requests = "requests", Connections = "connections" }
    BalancePolicy { RoundRobin = "round_robin", LeastOutstanding = "least_outstanding",
        Random = "random" }
    ProbeEffect { None = "none", Restart = "restart", Eject = "eject" }
    Action { StopAccepting = "stop_accepting", Resume = "resume", Crash = "crash",
        Restart = "restart", Stop = "stop", Start = "start", Set = "set", Deploy = "deploy",
        KillQueries = "kill_queries" }
    Stat { Mean = "mean", Max = "max", Min = "min", Sum = "sum" }
    Difficulty { Intermediate = "intermediate", Primer = "primer", Advanced = "advanced" }
}

tagged!(Duration by "distribution" {
    Constant = "constant" { ms },
    Exponential = "exponential" { mean_ms },
    Uniform = "uniform" { min_ms, max_ms },
    Lognormal = "lognormal" { median_ms, p99_ms },
});

tagged!(Step by "kind" {
    Work = "work" { time },
    Query = "query" { datastore, query, timeout_ms },
    Call = "call" { target, endpoint, timeout_ms, wait, memory_mb },
    Cached = "cached" { cache, miss_steps },
});

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::tree::to_value;

    #[test]
    fn errors_name_the_path_and_what_was_expected() {
        let mut meta = BTreeMap::new();
        meta.insert("id".to_string(), Value::Integer(3));
        let err = Meta::from_tree(Value::Table(meta)).unwrap_err();
        assert_eq!(err.to_string(), "`id`: expected a string, found an integer");
        let step = Step::Call {
            target: "db".into(),
            endpoint: "/".into(),
            timeout_ms: 5.0,
            wait: true,
            memory_mb: 0.5,
        };
        let Value::Table(mut table) = to_value(&step).unwrap() else {
            panic!("a step is a table")
        };
        assert_eq!(Step::from_tree(Value::Table(table.clone())).unwrap(), step);
        table.insert("kind".into(), Value::String("teleport".into()));
        let err = Step::from_tree(Value::Table(table.clone())).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("`kind`: expected one of work, query"),
            "{err}"
        );
        table.insert("kind".into(), Value::String("call".into()));
        table.insert("extra".into(), Value::Boolean(true));
        let err = Step::from_tree(Value::Table(table)).unwrap_err();
        assert_eq!(err.message, "unknown field `extra`");
        let err = Vec::<u32>::from_tree(Value::Array(vec![Value::Integer(1), Value::Integer(-1)]))
            .unwrap_err();
        assert_eq!(err.path, "1");
    }

    #[test]
    fn schema_types_round_trip_through_trees_and_bytes() {
        use crate::scenario::tree::{decode, encode};
        let spec = DatastoreSpec {
            cores: 3,
            max_connections: 10,
            queue_capacity: 20,
            statement_timeout_ms: 2.0,
            cancel_abandoned_queries: true,
            queries: BTreeMap::from([(
                "q".to_string(),
                QuerySpec {
                    cost: Duration::Uniform {
                        min_ms: 1.0,
                        max_ms: 2.5,
                    },
                },
            )]),
        };
        let tree = to_value(&spec).unwrap();
        assert_eq!(
            DatastoreSpec::from_tree(decode(&encode(&tree)).unwrap()).unwrap(),
            spec
        );
        // An integer may stand for a number, as in TOML; a negative count may not.
        let Value::Table(mut table) = tree else {
            panic!("a struct is a table")
        };
        table.insert("statement_timeout_ms".to_string(), Value::Integer(5));
        let read = DatastoreSpec::from_tree(Value::Table(table.clone())).unwrap();
        assert_eq!(read.statement_timeout_ms, 5.0);
        table.insert("cores".to_string(), Value::Integer(-1));
        assert!(DatastoreSpec::from_tree(Value::Table(table.clone())).is_err());
        table.insert("cores".to_string(), Value::Integer(1));
        table.insert("extra".to_string(), Value::Integer(1));
        let err = DatastoreSpec::from_tree(Value::Table(table)).unwrap_err();
        assert!(err.message.contains("unknown field `extra`"), "{err}");
    }
}
