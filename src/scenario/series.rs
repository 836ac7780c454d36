//! The series a run of a scenario produces, named and ordered in one place: `t_s`, the run-wide
//! series, then one group per component (services, datastores, look-aside caches, HTTP caches,
//! connection clients, each in name order), each kind of component with its own suffixes, then
//! each population's outcomes where there are several populations.
//!
//! The engine closes a window by walking the same [`groups`], and each kind's values come as an
//! array typed by the length of its suffix list, so a name and its value cannot drift apart.

use super::schema::{ClientKind, ScenarioFile};

/// The run-wide series, in column order (after `t_s`).
pub const GLOBAL: [&str; 11] = [
    "offered_rps",
    "attempted_rps",
    "completed_rps",
    "success_rps",
    "error_rps",
    "timeout_rps",
    "shed_rps",
    "p50_ms",
    "p95_ms",
    "p99_ms",
    "retry_amplification_ratio",
];

/// A service's series, `<service>.<suffix>`. Memory is the peak of any instance.
pub const SERVICE: [&str; 9] = [
    "queue_depth_req",
    "busy_workers_count",
    "healthy_instances_count",
    "memory_mb",
    "connections_count",
    "restarts_count",
    "arrivals_rps",
    "p50_ms",
    "failed_rps",
];

/// A datastore's series, `<datastore>.<suffix>`.
pub const DATASTORE: [&str; 5] = [
    "cpu_pct",
    "running_queries_count",
    "queued_queries_count",
    "killed_queries_count",
    "queries_rps",
];

/// A cache's series (look-aside and HTTP caches alike), `<cache>.<suffix>`.
pub const CACHE: [&str; 1] = ["hit_ratio"];

/// A connections population's series, `<client>.<suffix>`.
pub const CONNECTIONS: [&str; 1] = ["connected_count"];

/// What became of one population's requests, `<client>.<suffix>`, where a scenario has several
/// populations (with one, the run-wide series say it).
pub const OUTCOMES: [&str; 4] = ["success_rps", "error_rps", "timeout_rps", "shed_rps"];

/// A component with series of its own, by its index among its kind (in name order).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    /// A service.
    Service(u16),
    /// A datastore.
    Datastore(u16),
    /// A look-aside cache.
    Cache(u16),
    /// An HTTP cache.
    HttpCache(u16),
    /// A population of connection clients (the index is the client's).
    Connections(u16),
    /// The outcomes of one population's requests (the index is the client's).
    Outcomes(u16),
}

impl Group {
    /// The suffixes of its series, in column order.
    pub fn suffixes(self) -> &'static [&'static str] {
        match self {
            Group::Service(_) => &SERVICE,
            Group::Datastore(_) => &DATASTORE,
            Group::Cache(_) | Group::HttpCache(_) => &CACHE,
            Group::Connections(_) => &CONNECTIONS,
            Group::Outcomes(_) => &OUTCOMES,
        }
    }
}

/// The components with series of their own, named, in column order.
pub fn groups(file: &ScenarioFile) -> Vec<(&str, Group)> {
    let index = |i: usize| i as u16;
    let mut groups = Vec::new();
    groups.extend(
        file.services
            .keys()
            .enumerate()
            .map(|(i, n)| (n.as_str(), Group::Service(index(i)))),
    );
    groups.extend(
        file.datastores
            .keys()
            .enumerate()
            .map(|(i, n)| (n.as_str(), Group::Datastore(index(i)))),
    );
    groups.extend(
        file.caches
            .keys()
            .enumerate()
            .map(|(i, n)| (n.as_str(), Group::Cache(index(i)))),
    );
    groups.extend(
        file.http_caches
            .keys()
            .enumerate()
            .map(|(i, n)| (n.as_str(), Group::HttpCache(index(i)))),
    );
    groups.extend(
        file.clients
            .iter()
            .enumerate()
            .filter(|(_, (_, client))| client.kind == ClientKind::Connections)
            .map(|(i, (n, _))| (n.as_str(), Group::Connections(index(i)))),
    );
    if file.clients.len() > 1 {
        groups.extend(
            file.clients
                .keys()
                .enumerate()
                .map(|(i, n)| (n.as_str(), Group::Outcomes(index(i)))),
        );
    }
    groups
}

/// Every series name a run of `file` produces, `t_s` first, in column order.
pub fn names(file: &ScenarioFile) -> Vec<String> {
    let mut names = vec!["t_s".to_string()];
    names.extend(GLOBAL.iter().map(|s| s.to_string()));
    for (name, group) in groups(file) {
        names.extend(group.suffixes().iter().map(|s| format!("{name}.{s}")));
    }
    names
}
