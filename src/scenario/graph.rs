//! The scenario's components and the calls between them, as the system view draws them and as
//! a beat's `highlight` names them.

use super::schema::{ScenarioFile, Step};

/// Every component's name, in the order the diagram lays them out: clients, HTTP caches, load
/// balancers, services, look-aside caches, datastores, dependencies (each in name order).
pub fn components(file: &ScenarioFile) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    out.extend(file.clients.keys().map(String::as_str));
    out.extend(file.http_caches.keys().map(String::as_str));
    out.extend(file.load_balancers.keys().map(String::as_str));
    out.extend(file.services.keys().map(String::as_str));
    out.extend(file.caches.keys().map(String::as_str));
    out.extend(file.datastores.keys().map(String::as_str));
    out.extend(file.dependencies.keys().map(String::as_str));
    out
}

/// What a step sends requests to, if anything.
fn callee(step: &Step) -> Option<&str> {
    match step {
        Step::Call { target, .. } => Some(target),
        Step::Query { datastore, .. } => Some(datastore),
        Step::Cached { cache, .. } => Some(cache),
        Step::Work { .. } => None,
    }
}

/// Every call from one component to another (`from`, `to`), each once, in the order the
/// diagram draws them.
pub fn calls<'a>(file: &'a ScenarioFile) -> Vec<(&'a str, &'a str)> {
    let mut out: Vec<(&'a str, &'a str)> = Vec::new();
    let mut add = |from: &'a str, to: &'a str| {
        let pair = (from, to);
        if !out.contains(&pair) {
            out.push(pair);
        }
    };
    for (name, c) in &file.clients {
        add(name, &c.target);
    }
    for (name, h) in &file.http_caches {
        add(name, &h.backend);
    }
    for (name, lb) in &file.load_balancers {
        for backend in &lb.backends {
            add(name, backend);
        }
    }
    for (name, service) in &file.services {
        let steps = service
            .middleware
            .iter()
            .chain(service.endpoints.values().flat_map(|e| e.steps.iter()));
        for target in steps.filter_map(callee) {
            add(name, target);
        }
    }
    out
}
