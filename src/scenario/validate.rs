//! Semantic checks on a scenario: references, wiring cycles, ranges and size limits.
//!
//! Each check returns the parameter path at fault and a message saying what was expected, so the
//! caller can point at the file and line. Limits keep every run bounded: no scenario can make the
//! browser tab hang or the series grow without bound.
//!
//! The checks are compiled with the `validation` feature (the CLI, the tests, the web build's
//! precompiler). The web page is built without it: its scenarios were checked when it was built,
//! and so was every configuration their fixes and timeline can reach in the player
//! (tests/integration/reachable.rs), so the page does not carry the checks (≈ 14 KB gzipped).

// Without the checks, their limits are unused.
#![cfg_attr(not(feature = "validation"), allow(dead_code))]

use super::schema::*;

/// The longest run, in seconds of virtual time (one day).
pub const MAX_DURATION_S: f64 = 86_400.0;
/// The most metric windows a run may have.
pub const MAX_WINDOWS: f64 = 100_000.0;
/// The highest arrival rate of one client population, in requests per second.
pub const MAX_RATE_RPS: f64 = 100_000.0;
/// The longest single duration parameter, in milliseconds (one hour).
pub const MAX_DURATION_MS: f64 = 3_600_000.0;
/// The most instances of one service.
pub const MAX_INSTANCES: u32 = 1_000;
/// The most workers of one instance.
pub const MAX_WORKERS: u32 = 100_000;
/// The largest queue of one instance.
pub const MAX_QUEUE_CAPACITY: u32 = 1_000_000;
/// The most retries of one request.
pub const MAX_RETRIES: u32 = 100;
/// The most attempts a circuit breaker weighs (its window is kept in memory).
pub const MAX_BREAKER_WINDOW: u32 = 10_000;
/// The most distinct keys (tokens, URLs) of one client population.
pub const MAX_KEYS: u32 = 1_000_000;
/// The most distinct users of one client population.
pub const MAX_USERS: u32 = 10_000_000;
/// The most clients in one connection population.
pub const MAX_POPULATION: u32 = 200_000;
/// The most entries of one HTTP cache.
pub const MAX_CACHE_OBJECTS: u32 = 10_000_000;
/// The most cores of one datastore.
pub const MAX_CORES: u32 = 1_024;
/// The most rows one request may materialise.
pub const MAX_ROWS: u64 = 1_000_000_000;

type Check = Result<(), (String, String)>;

/// Without the `validation` feature nothing is checked again: see the module's documentation.
#[cfg(not(feature = "validation"))]
pub fn check(_file: &ScenarioFile) -> Check {
    Ok(())
}

#[cfg(feature = "validation")]
fn fail(path: impl Into<String>, message: impl Into<String>) -> Check {
    Err((path.into(), message.into()))
}

#[cfg(feature = "validation")]
fn in_range(path: String, value: f64, lo: f64, hi: f64, unit: &str) -> Check {
    if !value.is_finite() || value < lo || value > hi {
        return fail(
            path,
            format!("expected a value from {lo} to {hi} {unit}, found {value}"),
        );
    }
    Ok(())
}

#[cfg(feature = "validation")]
/// A whole number no larger than `max` (`unit` names what is counted, or is empty).
fn at_most(path: String, value: u32, max: u32, unit: &str) -> Check {
    if value > max {
        let unit = if unit.is_empty() {
            String::new()
        } else {
            format!(" {unit}")
        };
        return fail(path, format!("expected at most {max}{unit}, found {value}"));
    }
    Ok(())
}

#[cfg(feature = "validation")]
fn name_ok(path: String, name: &str) -> Check {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !valid {
        return fail(
            path,
            format!(
                "`{name}` is not a valid name: use 1 to 64 lowercase letters, digits, `-` or `_`"
            ),
        );
    }
    Ok(())
}

#[cfg(feature = "validation")]
/// Checks everything that serde's types cannot.
pub fn check(file: &ScenarioFile) -> Check {
    super::budget::check_counts(file)?;
    let meta = &file.scenario;
    name_ok("scenario.id".into(), &meta.id)?;
    in_range(
        "scenario.duration_s".into(),
        meta.duration_s,
        0.001,
        MAX_DURATION_S,
        "s",
    )?;
    in_range(
        "scenario.incident_duration_s".into(),
        meta.incident_duration_s,
        0.0,
        30.0 * MAX_DURATION_S,
        "s",
    )?;
    in_range(
        "scenario.window_ms".into(),
        meta.window_ms,
        10.0,
        MAX_DURATION_MS,
        "ms",
    )?;
    if meta.duration_s * 1_000.0 / meta.window_ms > MAX_WINDOWS {
        return fail(
            "scenario.window_ms",
            format!(
                "{} s in windows of {} ms makes more than {MAX_WINDOWS} windows: widen the window",
                meta.duration_s, meta.window_ms
            ),
        );
    }

    let mut names: Vec<(&str, &str)> = Vec::new();
    let kinds: [(&str, Vec<&String>); 8] = [
        ("clients", file.clients.keys().collect()),
        ("load_balancers", file.load_balancers.keys().collect()),
        ("http_caches", file.http_caches.keys().collect()),
        ("services", file.services.keys().collect()),
        ("caches", file.caches.keys().collect()),
        ("datastores", file.datastores.keys().collect()),
        ("dependencies", file.dependencies.keys().collect()),
        ("probes", file.probes.keys().collect()),
    ];
    for (kind, list) in &kinds {
        for name in list {
            names.push((name.as_str(), kind));
        }
    }
    crate::small_sort::sort(&mut names);
    for pair in names.windows(2) {
        if pair[0].0 == pair[1].0 {
            return fail(
                format!("{}.{}", pair[1].1, pair[1].0),
                format!(
                    "the name `{}` is used by both {} and {}: component names must be unique",
                    pair[0].0, pair[0].1, pair[1].1
                ),
            );
        }
    }
    for &(name, kind) in &names {
        name_ok(format!("{kind}.{name}"), name)?;
    }

    for (name, service) in &file.services {
        let at = |field: &str| format!("services.{name}.{field}");
        if service.instances > MAX_INSTANCES {
            return fail(
                at("instances"),
                format!(
                    "expected 0 to {MAX_INSTANCES} instances, found {}",
                    service.instances
                ),
            );
        }
        if !(1..=MAX_WORKERS).contains(&service.workers) {
            return fail(
                at("workers"),
                format!(
                    "expected 1 to {MAX_WORKERS} workers, found {}",
                    service.workers
                ),
            );
        }
        if !(1..=MAX_QUEUE_CAPACITY).contains(&service.queue_capacity) {
            return fail(
                at("queue_capacity"),
                format!(
                    "expected 1 to {MAX_QUEUE_CAPACITY}, found {}",
                    service.queue_capacity
                ),
            );
        }
        in_range(
            at("max_queue_wait_ms"),
            service.max_queue_wait_ms,
            0.0,
            MAX_DURATION_MS,
            "ms",
        )?;
        in_range(
            at("adaptive_limit_target_ms"),
            service.adaptive_limit_target_ms,
            0.0,
            MAX_DURATION_MS,
            "ms",
        )?;
        in_range(
            at("adaptive_limit_min"),
            service.adaptive_limit_min,
            1.0,
            MAX_QUEUE_CAPACITY as f64,
            "requests",
        )?;
        in_range(
            at("adaptive_limit_decrease"),
            service.adaptive_limit_decrease,
            0.01,
            0.99,
            "(a factor below 1)",
        )?;
        in_range(at("memory_base_mb"), service.memory_base_mb, 0.0, 1e7, "MB")?;
        in_range(
            at("memory_limit_mb"),
            service.memory_limit_mb,
            0.0,
            1e7,
            "MB",
        )?;
        in_range(
            at("memory_per_connection_mb"),
            service.memory_per_connection_mb,
            0.0,
            1e4,
            "MB",
        )?;
        in_range(
            at("restart_delay_s"),
            service.restart_delay_s,
            0.0,
            MAX_DURATION_S,
            "s",
        )?;
        if service.endpoints.is_empty() {
            return fail(at("endpoints"), "a service needs at least one endpoint");
        }
        check_steps(file, &at("middleware"), &service.middleware)?;
        for (endpoint, spec) in &service.endpoints {
            let at = |field: &str| format!("services.{name}.endpoints.{endpoint}.{field}");
            check_duration(&at("service_time"), &spec.service_time)?;
            in_range(
                at("error_probability"),
                spec.error_probability,
                0.0,
                1.0,
                "",
            )?;
            in_range(at("memory_mb"), spec.memory_mb, 0.0, 1e7, "MB")?;
            in_range(at("row_kb"), spec.row_kb, 0.0, 1e6, "KB")?;
            in_range(at("work_per_row_us"), spec.work_per_row_us, 0.0, 1e6, "µs")?;
            if spec.rows > MAX_ROWS || spec.max_rows > MAX_ROWS {
                return fail(at("rows"), format!("expected at most {MAX_ROWS} rows"));
            }
            check_steps(file, &at("steps"), &spec.steps)?;
        }
    }

    for (name, cache) in &file.caches {
        in_range(
            format!("caches.{name}.ttl_s"),
            cache.ttl_s,
            0.0,
            MAX_DURATION_S,
            "s",
        )?;
        if cache.warm_keys > MAX_KEYS {
            return fail(
                format!("caches.{name}.warm_keys"),
                format!("expected at most {MAX_KEYS}"),
            );
        }
        if cache.keys > MAX_KEYS {
            return fail(
                format!("caches.{name}.keys"),
                format!("expected at most {MAX_KEYS} keys"),
            );
        }
        in_range(
            format!("caches.{name}.ttl_jitter"),
            cache.ttl_jitter,
            0.0,
            1.0,
            "",
        )?;
    }
    for (name, http) in &file.http_caches {
        let at = |field: &str| format!("http_caches.{name}.{field}");
        if !file.services.contains_key(&http.backend)
            && !file.load_balancers.contains_key(&http.backend)
        {
            return fail(
                at("backend"),
                format!(
                    "`{}` is not a service or load balancer of this scenario",
                    http.backend
                ),
            );
        }
        in_range(at("ttl_s"), http.ttl_s, 0.0, MAX_DURATION_S, "s")?;
        in_range(
            at("error_ttl_s"),
            http.error_ttl_s,
            0.0,
            MAX_DURATION_S,
            "s",
        )?;
        if !(1..=MAX_CACHE_OBJECTS).contains(&http.capacity_objects) {
            return fail(
                at("capacity_objects"),
                format!("expected 1 to {MAX_CACHE_OBJECTS}"),
            );
        }
    }
    for (name, ds) in &file.datastores {
        let at = |field: &str| format!("datastores.{name}.{field}");
        if !(1..=MAX_CORES).contains(&ds.cores) {
            return fail(
                at("cores"),
                format!("expected 1 to {MAX_CORES} cores, found {}", ds.cores),
            );
        }
        if !(1..=MAX_WORKERS).contains(&ds.max_connections) {
            return fail(
                at("max_connections"),
                format!("expected 1 to {MAX_WORKERS}, found {}", ds.max_connections),
            );
        }
        if ds.queue_capacity > MAX_QUEUE_CAPACITY {
            return fail(
                at("queue_capacity"),
                format!("expected at most {MAX_QUEUE_CAPACITY}"),
            );
        }
        in_range(
            at("statement_timeout_ms"),
            ds.statement_timeout_ms,
            0.0,
            MAX_DURATION_MS,
            "ms",
        )?;
        if ds.queries.is_empty() {
            return fail(at("queries"), "a datastore needs at least one query");
        }
        for (query, spec) in &ds.queries {
            check_duration(
                &format!("datastores.{name}.queries.{query}.cost"),
                &spec.cost,
            )?;
        }
    }
    for (name, dep) in &file.dependencies {
        check_duration(&format!("dependencies.{name}.latency"), &dep.latency)?;
        in_range(
            format!("dependencies.{name}.error_probability"),
            dep.error_probability,
            0.0,
            1.0,
            "",
        )?;
    }
    for (name, deploy) in &file.deploys {
        let at = |field: &str| format!("deploys.{name}.{field}");
        for (field, service) in [("service", &deploy.service), ("replaces", &deploy.replaces)] {
            if !file.services.contains_key(service) {
                return fail(
                    at(field),
                    format!("`{service}` is not a service of this scenario"),
                );
            }
        }
        if deploy.service == deploy.replaces {
            return fail(
                at("replaces"),
                "expected a service other than the new build's",
            );
        }
        // `replaces` need not be behind the balancer (it is not, once the deploy went live).
        if !file.load_balancers.contains_key(&deploy.balancer) {
            return fail(
                at("balancer"),
                format!(
                    "`{}` is not a load balancer of this scenario",
                    deploy.balancer
                ),
            );
        }
        if !(1..=MAX_INSTANCES).contains(&deploy.instances) {
            return fail(
                at("instances"),
                format!("expected 1 to {MAX_INSTANCES}, found {}", deploy.instances),
            );
        }
        in_range(
            at("deadline_s"),
            deploy.deadline_s,
            1.0,
            meta.duration_s,
            "s",
        )?;
        at_most(at("retries"), deploy.retries, MAX_RETRIES, "")?;
        in_range(
            at("retry_after_s"),
            deploy.retry_after_s,
            0.0,
            meta.duration_s,
            "s",
        )?;
    }

    for (name, probe) in &file.probes {
        let at = |field: &str| format!("probes.{name}.{field}");
        let Some(service) = file.services.get(&probe.target) else {
            return fail(
                at("target"),
                format!("`{}` is not a service of this scenario", probe.target),
            );
        };
        if !probe.decoupled && !service.endpoints.contains_key(&probe.endpoint) {
            return fail(
                at("endpoint"),
                format!(
                    "service `{}` has no endpoint `{}`",
                    probe.target, probe.endpoint
                ),
            );
        }
        in_range(
            at("period_ms"),
            probe.period_ms,
            10.0,
            MAX_DURATION_MS,
            "ms",
        )?;
        in_range(
            at("timeout_ms"),
            probe.timeout_ms,
            1.0,
            MAX_DURATION_MS,
            "ms",
        )?;
        if !(1..=MAX_INSTANCES).contains(&probe.probers) {
            return fail(
                at("probers"),
                format!("expected 1 to {MAX_INSTANCES} probers"),
            );
        }
        if !(1..=100).contains(&probe.failure_threshold) {
            return fail(at("failure_threshold"), "expected 1 to 100");
        }
    }

    for (name, lb) in &file.load_balancers {
        if lb.backends.is_empty() {
            return fail(
                format!("load_balancers.{name}.backends"),
                "a load balancer needs at least one backend",
            );
        }
        for (i, backend) in lb.backends.iter().enumerate() {
            if !file.services.contains_key(backend) && !file.load_balancers.contains_key(backend) {
                return fail(
                    format!("load_balancers.{name}.backends.{i}"),
                    format!("`{backend}` is not a service or load balancer of this scenario"),
                );
            }
        }
    }
    check_cycles(file)?;

    for (name, client) in &file.clients {
        let at = |field: &str| format!("clients.{name}.{field}");
        if !file.services.contains_key(&client.target)
            && !file.load_balancers.contains_key(&client.target)
            && !file.http_caches.contains_key(&client.target)
        {
            return fail(
                at("target"),
                format!(
                    "`{}` is not a service, load balancer or HTTP cache of this scenario",
                    client.target
                ),
            );
        }
        let mut endpoints = vec![("endpoint", &client.endpoint)];
        if client.kind == ClientKind::Connections {
            endpoints.push(("connect_endpoint", &client.connect_endpoint));
        }
        for (field, endpoint) in endpoints {
            for service in reachable_services(file, &client.target) {
                if !file.services[&service].endpoints.contains_key(endpoint) {
                    return fail(
                        at(field),
                        format!("service `{service}` has no endpoint `{endpoint}`"),
                    );
                }
            }
        }
        if client.keys == 0 || client.keys > MAX_KEYS {
            return fail(at("keys"), format!("expected 1 to {MAX_KEYS} keys"));
        }
        if client.users == 0 || client.users > MAX_USERS {
            return fail(at("users"), format!("expected 1 to {MAX_USERS} users"));
        }
        if client.population > MAX_POPULATION {
            return fail(
                at("population"),
                format!("expected at most {MAX_POPULATION} clients"),
            );
        }
        if client.kind == ClientKind::Connections && client.population == 0 {
            return fail(
                at("population"),
                "a connections population needs at least one client",
            );
        }
        if !(1..=1_000).contains(&client.connect_requests) {
            return fail(
                at("connect_requests"),
                "expected 1 to 1000 requests per connect",
            );
        }
        in_range(
            at("heartbeat_period_s"),
            client.heartbeat_period_s,
            0.0,
            3_600.0,
            "s",
        )?;
        if client.heartbeat_period_s > 0.0 && client.heartbeat_period_s < 0.01 {
            return fail(
                at("heartbeat_period_s"),
                "expected 0 (none) or at least 0.01 s",
            );
        }
        in_range(
            at("connect_spread_s"),
            client.connect_spread_s,
            0.0,
            meta.duration_s,
            "s",
        )?;
        in_range(
            at("give_up_after_s"),
            client.give_up_after_s,
            0.0,
            MAX_DURATION_S,
            "s",
        )?;
        in_range(
            at("rate_rps"),
            client.rate_rps,
            0.0,
            MAX_RATE_RPS,
            "requests/s",
        )?;
        for (i, change) in client.rate_changes.iter().enumerate() {
            in_range(
                format!("clients.{name}.rate_changes.{i}.at_s"),
                change.at_s,
                0.0,
                meta.duration_s,
                "s",
            )?;
            in_range(
                format!("clients.{name}.rate_changes.{i}.rate_rps"),
                change.rate_rps,
                0.0,
                MAX_RATE_RPS,
                "requests/s",
            )?;
        }
        in_range(
            at("timeout_ms"),
            client.timeout_ms,
            1.0,
            MAX_DURATION_MS,
            "ms",
        )?;
        at_most(at("max_retries"), client.max_retries, MAX_RETRIES, "")?;
        in_range(
            at("backoff_base_ms"),
            client.backoff_base_ms,
            0.0,
            MAX_DURATION_MS,
            "ms",
        )?;
        in_range(
            at("backoff_cap_ms"),
            client.backoff_cap_ms,
            client.backoff_base_ms,
            MAX_DURATION_MS,
            "ms (at least backoff_base_ms)",
        )?;
        at_most(
            at("sticky_groups"),
            client.sticky_groups,
            MAX_POPULATION,
            "addresses",
        )?;
        in_range(
            at("retry_budget_percent"),
            client.retry_budget_percent,
            0.0,
            1_000.0,
            "retries per 100 requests",
        )?;
        in_range(
            at("retry_budget_burst"),
            client.retry_budget_burst,
            1.0,
            1_000_000.0,
            "retries",
        )?;
        at_most(
            at("breaker_window"),
            client.breaker_window,
            MAX_BREAKER_WINDOW,
            "attempts",
        )?;
        in_range(
            at("breaker_failure_percent"),
            client.breaker_failure_percent,
            1.0,
            100.0,
            "%",
        )?;
        in_range(
            at("breaker_open_ms"),
            client.breaker_open_ms,
            1.0,
            MAX_DURATION_MS,
            "ms",
        )?;
    }

    for (i, event) in file.timeline.iter().enumerate() {
        check_entry(file, &format!("timeline.{i}"), event)?;
    }

    let series = super::series::names(file);
    let known = |name: &str| series.iter().any(|s| s == name);
    for (i, beat) in file.beats.iter().enumerate() {
        in_range(
            format!("beats.{i}.at_s"),
            beat.at_s,
            0.0,
            meta.duration_s,
            "s",
        )?;
        if !beat.watch.is_empty() && !known(&beat.watch) {
            return fail(
                format!("beats.{i}.watch"),
                unknown_series(&beat.watch, &series),
            );
        }
    }
    for (name, label) in &meta.series_labels {
        if !known(name) {
            return fail(
                format!("scenario.series_labels.{name}"),
                unknown_series(name, &series),
            );
        }
        if label.trim().is_empty() || label.chars().count() > 60 {
            return fail(
                format!("scenario.series_labels.{name}"),
                "expected a label of 1 to 60 characters",
            );
        }
    }
    for (i, name) in meta.key_series.iter().enumerate() {
        if !known(name) {
            return fail(
                format!("scenario.key_series.{i}"),
                unknown_series(name, &series),
            );
        }
    }
    for (name, fix) in &file.fixes {
        name_ok(format!("fixes.{name}"), name)?;
        if fix.description.trim().is_empty() {
            return fail(
                format!("fixes.{name}.description"),
                "a fix needs a one-line description",
            );
        }
    }
    for (i, expectation) in file.expectations.iter().enumerate() {
        let at = |field: &str| format!("expectations.{i}.{field}");
        for (j, fix) in expectation.fixes.iter().enumerate() {
            if !file.fixes.contains_key(fix) {
                return fail(
                    format!("expectations.{i}.fixes.{j}"),
                    format!("there is no fix `{fix}` in this scenario"),
                );
            }
        }
        if !known(&expectation.series) {
            return fail(at("series"), unknown_series(&expectation.series, &series));
        }
        if expectation.seeds.is_empty() || expectation.seeds.len() > 20 {
            return fail(at("seeds"), "expected 1 to 20 seeds");
        }
        in_range(at("from_s"), expectation.from_s, 0.0, meta.duration_s, "s")?;
        let to_s = if expectation.to_s == END_OF_RUN_S {
            meta.duration_s
        } else {
            expectation.to_s
        };
        in_range(
            at("to_s"),
            to_s,
            expectation.from_s,
            meta.duration_s,
            "s (after from_s)",
        )?;
        if expectation.at_least == f64::MIN && expectation.at_most == f64::MAX {
            return fail(
                at("at_least"),
                "an expectation needs `at_least`, `at_most` or both",
            );
        }
    }
    check_questions(file, &series)?;
    check_drill(file, &series)?;
    super::budget::check_work(file)
}

#[cfg(feature = "validation")]
/// The most choices a question may offer, and the most points of a sketched curve.
const MAX_CHOICES: usize = 6;
#[cfg(feature = "validation")]
const MAX_CURVE_POINTS: usize = 24;

#[cfg(feature = "validation")]
/// A text a trainee reads: present and of a sensible length.
fn text_ok(path: String, text: &str, max_chars: usize) -> Check {
    let n = text.trim().chars().count();
    if n == 0 || n > max_chars {
        return fail(
            path,
            format!("expected a text of 1 to {max_chars} characters"),
        );
    }
    Ok(())
}

#[cfg(feature = "validation")]
/// Prediction questions: a beat that exists, choices and the right one, curves that can be
/// drawn, a reveal after the question and within the run, series that exist.
fn check_questions(file: &ScenarioFile, series: &[String]) -> Check {
    let duration_s = file.scenario.duration_s;
    if file.scenario.objectives.len() > 4 {
        return fail("scenario.objectives", "expected at most 4 objectives");
    }
    for (i, objective) in file.scenario.objectives.iter().enumerate() {
        text_ok(format!("scenario.objectives.{i}"), objective, 200)?;
    }
    for (i, q) in file.questions.iter().enumerate() {
        let at = |field: &str| format!("questions.{i}.{field}");
        let Some(beat) = file.beats.get(q.beat as usize) else {
            return fail(
                at("beat"),
                format!(
                    "expected the index of one of the {} beats (0 to {})",
                    file.beats.len(),
                    file.beats.len().saturating_sub(1)
                ),
            );
        };
        text_ok(at("prompt"), &q.prompt, 400)?;
        if !(2..=MAX_CHOICES).contains(&q.choices.len()) {
            return fail(
                at("choices"),
                format!("expected 2 to {MAX_CHOICES} choices"),
            );
        }
        for (j, choice) in q.choices.iter().enumerate() {
            text_ok(format!("questions.{i}.choices.{j}"), choice, 200)?;
        }
        if q.answer as usize >= q.choices.len() {
            return fail(
                at("answer"),
                format!(
                    "expected the index of the right choice, 0 to {}",
                    q.choices.len() - 1
                ),
            );
        }
        if !q.curves.is_empty() && q.curves.len() != q.choices.len() {
            return fail(
                at("curves"),
                format!("expected one curve per choice ({})", q.choices.len()),
            );
        }
        for (j, curve) in q.curves.iter().enumerate() {
            if !(2..=MAX_CURVE_POINTS).contains(&curve.len()) {
                return fail(
                    format!("questions.{i}.curves.{j}"),
                    format!("expected 2 to {MAX_CURVE_POINTS} points"),
                );
            }
            for (k, &v) in curve.iter().enumerate() {
                in_range(format!("questions.{i}.curves.{j}.{k}"), v, 0.0, 1.0, "")?;
            }
        }
        in_range(
            at("reveal_s"),
            q.reveal_s,
            beat.at_s,
            duration_s,
            "s (from the question's beat to the end of the run)",
        )?;
        text_ok(at("explanation"), &q.explanation, 1200)?;
        if !q.watch.is_empty() && !series.contains(&q.watch) {
            return fail(at("watch"), unknown_series(&q.watch, series));
        }
    }
    Ok(())
}

#[cfg(feature = "validation")]
/// The drill: alerts on series that exist, with one threshold; runbook actions with unique
/// names, each one kind (a fix, recorded timeline entries, or offered steps), no timeline entry
/// claimed twice.
fn check_drill(file: &ScenarioFile, series: &[String]) -> Check {
    let drill = &file.drill;
    let duration_s = file.scenario.duration_s;
    if drill.brief.chars().count() > 600 {
        return fail("drill.brief", "expected at most 600 characters");
    }
    if !(drill.impact_tolerance > 0.0 && drill.impact_tolerance <= 1.0) {
        return fail(
            "drill.impact_tolerance",
            "expected a share above 0 and at most 1",
        );
    }
    if drill.alerts.len() > 16 {
        return fail("drill.alerts", "expected at most 16 alerts");
    }
    for (i, alert) in drill.alerts.iter().enumerate() {
        let at = |field: &str| format!("drill.alerts.{i}.{field}");
        text_ok(at("name"), &alert.name, 80)?;
        if !series.contains(&alert.series) {
            return fail(at("series"), unknown_series(&alert.series, series));
        }
        let above = alert.above != f64::MAX;
        let below = alert.below != f64::MIN;
        if above == below {
            return fail(
                at("above"),
                "an alert needs exactly one of `above` and `below`",
            );
        }
        in_range(at("for_s"), alert.for_s, 0.0, duration_s, "s")?;
    }
    if drill.runbook.len() > 16 {
        return fail("drill.runbook", "expected at most 16 actions");
    }
    let mut claimed: Vec<(u32, usize)> = Vec::new();
    for (i, action) in drill.runbook.iter().enumerate() {
        let at = |field: &str| format!("drill.runbook.{i}.{field}");
        name_ok(at("name"), &action.name)?;
        if drill.runbook[..i].iter().any(|a| a.name == action.name) {
            return fail(
                at("name"),
                format!("another runbook action is already named `{}`", action.name),
            );
        }
        if file.fixes.contains_key(&action.name) && action.fix != action.name {
            return fail(
                at("name"),
                format!(
                    "`{}` is the name of a fix: a runbook action named after a fix must apply it",
                    action.name
                ),
            );
        }
        text_ok(at("title"), &action.title, 120)?;
        // A delay may outlast the run: an action that cannot land in time is a lesson too.
        in_range(at("delay_s"), action.delay_s, 0.0, MAX_DURATION_S, "s")?;
        let kinds = [
            !action.fix.is_empty(),
            !action.timeline.is_empty(),
            !action.steps.is_empty(),
        ];
        if kinds.iter().filter(|k| **k).count() != 1 {
            return fail(
                at("fix"),
                "a runbook action needs exactly one of `fix`, `timeline` and `steps`",
            );
        }
        if !action.fix.is_empty() && !file.fixes.contains_key(&action.fix) {
            return fail(
                at("fix"),
                format!("there is no fix `{}` in this scenario", action.fix),
            );
        }
        for (j, &entry) in action.timeline.iter().enumerate() {
            if entry as usize >= file.timeline.len() {
                return fail(
                    format!("drill.runbook.{i}.timeline.{j}"),
                    format!(
                        "expected the index of one of the {} timeline entries",
                        file.timeline.len()
                    ),
                );
            }
            if let Some((_, other)) = claimed.iter().find(|(e, _)| *e == entry) {
                return fail(
                    format!("drill.runbook.{i}.timeline.{j}"),
                    format!(
                        "timeline entry {entry} is already the runbook action `{}`",
                        drill.runbook[*other].name
                    ),
                );
            }
            claimed.push((entry, i));
        }
        if action.steps.len() > 16 {
            return fail(at("steps"), "expected at most 16 steps");
        }
        for (j, step) in action.steps.iter().enumerate() {
            check_entry(file, &format!("drill.runbook.{i}.steps.{j}"), step)?;
        }
    }
    Ok(())
}

#[cfg(feature = "validation")]
/// One timeline entry (or a runbook step, written the same way) at `at`: its time, and that its
/// target exists for its action.
fn check_entry(file: &ScenarioFile, at: &str, event: &TimelineEvent) -> Check {
    in_range(
        format!("{at}.at_s"),
        event.at_s,
        0.0,
        file.scenario.duration_s,
        "s",
    )?;
    if event.action == Action::Set {
        if event.set.is_empty() {
            return fail(
                format!("{at}.set"),
                "a `set` action needs at least one parameter to set",
            );
        }
        return Ok(());
    }
    if event.action == Action::KillQueries {
        let (name, query) = event.target_parts();
        let Some(datastore) = file.datastores.get(name) else {
            return fail(
                format!("{at}.target"),
                format!("`{name}` is not a datastore of this scenario"),
            );
        };
        if let Some(query) = query
            && !datastore.queries.contains_key(query)
        {
            return fail(
                format!("{at}.target"),
                format!("datastore `{name}` has no query `{query}`"),
            );
        }
        return Ok(());
    }
    if event.action == Action::Deploy {
        if !file.deploys.contains_key(&event.target) {
            return fail(
                format!("{at}.target"),
                format!("`{}` is not a deploy of this scenario", event.target),
            );
        }
        return Ok(());
    }
    let (service, instance) = event.target_parts();
    let Some(spec) = file.services.get(service) else {
        return fail(
            format!("{at}.target"),
            format!("`{service}` is not a service of this scenario"),
        );
    };
    if let Some(n) = instance {
        match n.parse::<u32>() {
            Ok(n) if n < spec.instances => {}
            _ => {
                return fail(
                    format!("{at}.target"),
                    format!(
                        "`{}`: expected an instance number below {}",
                        event.target, spec.instances
                    ),
                );
            }
        }
    }
    Ok(())
}

fn unknown_series(name: &str, series: &[String]) -> String {
    format!(
        "`{name}` is not a series of this scenario; known series: {}",
        series.join(", ")
    )
}

#[cfg(feature = "validation")]
fn check_duration(path: &str, duration: &Duration) -> Check {
    let at = |field: &str| format!("{path}.{field}");
    match *duration {
        Duration::Constant { ms } => in_range(at("ms"), ms, 0.0, MAX_DURATION_MS, "ms"),
        Duration::Exponential { mean_ms } => {
            in_range(at("mean_ms"), mean_ms, 0.0, MAX_DURATION_MS, "ms")
        }
        Duration::Uniform { min_ms, max_ms } => {
            in_range(at("min_ms"), min_ms, 0.0, MAX_DURATION_MS, "ms")?;
            in_range(
                at("max_ms"),
                max_ms,
                min_ms,
                MAX_DURATION_MS,
                "ms (at least min_ms)",
            )
        }
        Duration::Lognormal { median_ms, p99_ms } => {
            in_range(at("median_ms"), median_ms, 0.001, MAX_DURATION_MS, "ms")?;
            in_range(
                at("p99_ms"),
                p99_ms,
                median_ms,
                MAX_DURATION_MS,
                "ms (at least median_ms)",
            )
        }
    }
}

#[cfg(feature = "validation")]
/// Every component a step list calls.
fn step_targets(steps: &[Step]) -> impl Iterator<Item = &String> {
    steps.iter().filter_map(|step| match step {
        Step::Call { target, .. } => Some(target),
        _ => None,
    })
}

#[cfg(feature = "validation")]
/// The wiring's edges from one component: balancer → backends, HTTP cache → backend, service →
/// the components its middleware and endpoints call.
fn edges<'a>(file: &'a ScenarioFile, name: &str) -> Vec<&'a String> {
    if let Some(lb) = file.load_balancers.get(name) {
        return lb.backends.iter().collect();
    }
    if let Some(http) = file.http_caches.get(name) {
        return vec![&http.backend];
    }
    if let Some(service) = file.services.get(name) {
        let mut out: Vec<&String> = step_targets(&service.middleware).collect();
        for endpoint in service.endpoints.values() {
            out.extend(step_targets(&endpoint.steps));
        }
        return out;
    }
    Vec::new()
}

#[cfg(feature = "validation")]
/// Refuses wiring in which a request could come back to a component it passed through.
fn check_cycles(file: &ScenarioFile) -> Check {
    #[derive(Clone, Copy, PartialEq)]
    enum Colour {
        White,
        Grey,
        Black,
    }
    let names: Vec<&String> = file
        .load_balancers
        .keys()
        .chain(file.http_caches.keys())
        .chain(file.services.keys())
        .collect();
    let index = |name: &str| names.iter().position(|n| n.as_str() == name);
    let mut colour = vec![Colour::White; names.len()];
    let mut stack: Vec<(usize, usize)> = Vec::new();
    for start in 0..names.len() {
        if colour[start] != Colour::White {
            continue;
        }
        colour[start] = Colour::Grey;
        stack.push((start, 0));
        while let Some(&mut (at, ref mut next_edge)) = stack.last_mut() {
            let out = edges(file, names[at]);
            if *next_edge >= out.len() {
                colour[at] = Colour::Black;
                stack.pop();
                continue;
            }
            let target = out[*next_edge];
            *next_edge += 1;
            let Some(next) = index(target) else { continue };
            match colour[next] {
                Colour::Grey => {
                    let from = stack.iter().position(|&(p, _)| p == next).unwrap_or(0);
                    let mut cycle: Vec<&str> = stack[from..]
                        .iter()
                        .map(|&(p, _)| names[p].as_str())
                        .collect();
                    cycle.push(names[next]);
                    let kind = if file.load_balancers.contains_key(names[at]) {
                        "load_balancers"
                    } else if file.http_caches.contains_key(names[at]) {
                        "http_caches"
                    } else {
                        "services"
                    };
                    let field = if kind == "load_balancers" {
                        "backends"
                    } else if kind == "http_caches" {
                        "backend"
                    } else {
                        "endpoints"
                    };
                    return fail(
                        format!("{kind}.{}.{field}", names[at]),
                        format!("the wiring has a cycle: {}", cycle.join(" → ")),
                    );
                }
                Colour::White => {
                    colour[next] = Colour::Grey;
                    stack.push((next, 0));
                }
                Colour::Black => {}
            }
        }
    }
    Ok(())
}

#[cfg(feature = "validation")]
/// Checks the references and shape of a list of steps.
fn check_steps(file: &ScenarioFile, path: &str, steps: &[Step]) -> Check {
    let mut miss_range_end = 0;
    for (i, step) in steps.iter().enumerate() {
        let at = |field: &str| format!("{path}.{i}.{field}");
        match step {
            Step::Work { time } => check_duration(&at("time"), time)?,
            Step::Query {
                datastore,
                query,
                timeout_ms,
            } => {
                let Some(ds) = file.datastores.get(datastore) else {
                    return fail(
                        at("datastore"),
                        format!("`{datastore}` is not a datastore of this scenario"),
                    );
                };
                if !ds.queries.contains_key(query) {
                    let known: Vec<&str> = ds.queries.keys().map(String::as_str).collect();
                    return fail(
                        at("query"),
                        format!(
                            "datastore `{datastore}` has no query `{query}`; it has: {}",
                            known.join(", ")
                        ),
                    );
                }
                in_range(at("timeout_ms"), *timeout_ms, 0.0, MAX_DURATION_MS, "ms")?;
            }
            Step::Call {
                target,
                endpoint,
                timeout_ms,
                memory_mb,
                ..
            } => {
                in_range(at("timeout_ms"), *timeout_ms, 0.0, MAX_DURATION_MS, "ms")?;
                in_range(at("memory_mb"), *memory_mb, 0.0, 1e7, "MB")?;
                if file.dependencies.contains_key(target) {
                    continue;
                }
                if !file.services.contains_key(target) && !file.load_balancers.contains_key(target)
                {
                    return fail(
                        at("target"),
                        format!(
                            "`{target}` is not a dependency, service or load balancer of this scenario"
                        ),
                    );
                }
                for service in reachable_services(file, target) {
                    if !file.services[&service].endpoints.contains_key(endpoint) {
                        return fail(
                            at("endpoint"),
                            format!("service `{service}` has no endpoint `{endpoint}`"),
                        );
                    }
                }
            }
            Step::Cached { cache, miss_steps } => {
                if !file.caches.contains_key(cache) {
                    return fail(
                        at("cache"),
                        format!("`{cache}` is not a cache of this scenario"),
                    );
                }
                if i < miss_range_end {
                    return fail(
                        at("cache"),
                        "a cached step cannot sit inside another cached step's miss steps",
                    );
                }
                if *miss_steps == 0 || i + *miss_steps as usize >= steps.len() {
                    return fail(
                        at("miss_steps"),
                        format!(
                            "expected 1 to {} (the steps that follow)",
                            steps.len().saturating_sub(i + 1)
                        ),
                    );
                }
                miss_range_end = i + 1 + *miss_steps as usize;
            }
        }
    }
    Ok(())
}

/// Checks what the story says of the system, against the scenario as it is written (a fix or an
/// operator's change may remove a call that a beat before it is about): each beat's highlight
/// names components and calls `from->to` between two.
#[cfg(feature = "validation")]
pub fn check_story(file: &ScenarioFile) -> Check {
    let components = super::graph::components(file);
    let calls = super::graph::calls(file);
    for (i, beat) in file.beats.iter().enumerate() {
        check_highlight(&components, &calls, &beat.highlight)
            .map_err(|(j, message)| (format!("beats.{i}.highlight.{j}"), message))?;
    }
    for (i, question) in file.questions.iter().enumerate() {
        check_highlight(&components, &calls, &question.highlight)
            .map_err(|(j, message)| (format!("questions.{i}.highlight.{j}"), message))?;
    }
    Ok(())
}

#[cfg(feature = "validation")]
/// Checks a beat's highlight against the scenario's components and calls: each entry names a
/// component or a call `from->to` between two; the error gives the entry's index.
fn check_highlight(
    components: &[&str],
    calls: &[(&str, &str)],
    entries: &[String],
) -> Result<(), (usize, String)> {
    if entries.len() > 64 {
        return Err((64, "expected at most 64 entries".to_string()));
    }
    for (j, entry) in entries.iter().enumerate() {
        let ok = match entry.split_once("->") {
            Some((from, to)) => calls.contains(&(from.trim(), to.trim())),
            None => components.contains(&entry.trim()),
        };
        if !ok {
            let known: Vec<String> = components
                .iter()
                .map(|c| c.to_string())
                .chain(calls.iter().map(|(f, t)| format!("{f}->{t}")))
                .collect();
            return Err((
                j,
                format!(
                    "`{entry}` is neither a component nor a call between two (expected one of: {})",
                    known.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

/// The services a request sent to `target` can reach, in first-seen order (needs acyclic wiring).
pub fn reachable_services(file: &ScenarioFile, target: &str) -> Vec<String> {
    let mut out = Vec::new();
    // Each balancer and cache is expanded once: a layered mesh of balancers (each pointing at
    // all of the next layer) would otherwise be walked once per path, exponentially many.
    // (A list, not a set: the page carries this function, and a set's code costs it 1 KB.)
    let mut expanded: Vec<String> = Vec::new();
    let mut stack = vec![target.to_string()];
    while let Some(name) = stack.pop() {
        if !file.services.contains_key(&name) {
            if expanded.contains(&name) {
                continue;
            }
            expanded.push(name.clone());
        }
        if file.services.contains_key(&name) {
            if !out.contains(&name) {
                out.push(name);
            }
        } else if let Some(lb) = file.load_balancers.get(&name) {
            stack.extend(lb.backends.iter().rev().cloned());
        } else if let Some(http) = file.http_caches.get(&name) {
            stack.push(http.backend.clone());
        }
    }
    out
}

#[cfg(feature = "validation")]
/// The most parameters a scenario may declare for its "What if" panel.
const MAX_PARAMETERS: usize = 8;

#[cfg(feature = "validation")]
/// Checks the declared `parameters`: each names a number of the scenario, with a label and a
/// range that holds the scenario's own value, and the scenario stays valid (and within its work
/// bounds) with each at either end of its range, and with all at their lows or all at their highs.
pub fn check_parameters(scenario: &super::Scenario) -> Result<(), super::ScenarioError> {
    let declared = &scenario.file.parameters;
    let fail = |path: String, message: String| Err(scenario.error_at(&path, message));
    if declared.len() > MAX_PARAMETERS {
        return fail(
            "parameters".into(),
            format!(
                "{} parameters: a scenario declares at most {MAX_PARAMETERS}",
                declared.len()
            ),
        );
    }
    for (i, p) in declared.iter().enumerate() {
        let at = |field: &str| format!("parameters.{i}.{field}");
        if p.label.trim().is_empty() || p.label.chars().count() > 40 {
            return fail(at("label"), "expected a label of 1 to 40 characters".into());
        }
        if p.unit.chars().count() > 12 {
            return fail(
                at("unit"),
                "expected a unit of at most 12 characters".into(),
            );
        }
        if !(p.min.is_finite() && p.max.is_finite() && p.min < p.max) {
            return fail(
                at("max"),
                format!(
                    "expected min < max, both numbers; found {} and {}",
                    p.min, p.max
                ),
            );
        }
        if !(p.step >= 0.0 && p.step <= p.max - p.min) {
            return fail(
                at("step"),
                format!("expected a step from 0 to {} (the range)", p.max - p.min),
            );
        }
        if declared[..i].iter().any(|q| q.path == p.path) {
            return fail(at("path"), format!("`{}` is declared twice", p.path));
        }
        let Some(value) = scenario.number_at(&p.path) else {
            return fail(
                at("path"),
                format!(
                    "`{}` is not a number of this scenario: expected a parameter path as --set \
                     takes, like clients.users.rate_rps",
                    p.path
                ),
            );
        };
        if !(p.min..=p.max).contains(&value) {
            return fail(
                at("min"),
                format!(
                    "the scenario's own value, {value}, is outside the range {} to {}",
                    p.min, p.max
                ),
            );
        }
        for (end, v) in [("min", p.min), ("max", p.max)] {
            if let Err(err) = scenario.what_if(&[(p.path.clone(), v)]) {
                return fail(at(end), format!("with {} at {v}: {}", p.path, err.message));
            }
        }
    }
    if !declared.is_empty() {
        for (end, high) in [("lows", false), ("highs", true)] {
            let set: Vec<(String, f64)> = declared
                .iter()
                .map(|p| (p.path.clone(), if high { p.max } else { p.min }))
                .collect();
            if let Err(err) = scenario.what_if(&set) {
                return fail(
                    "parameters".into(),
                    format!("with every parameter at its {end}: {}", err.message),
                );
            }
        }
    }
    check_sweep(scenario)
}

#[cfg(feature = "validation")]
/// Checks `[sweep]`: one or two distinct declared parameters as axes, and a collapse threshold
/// from 0 (none) to the run's length.
fn check_sweep(scenario: &super::Scenario) -> Result<(), super::ScenarioError> {
    let sweep = &scenario.file.sweep;
    let fail = |path: &str, message: String| Err(scenario.error_at(path, message));
    if sweep.axes.len() > 2 {
        return fail(
            "sweep.axes",
            format!("{} axes: a stability map has one or two", sweep.axes.len()),
        );
    }
    for (i, path) in sweep.axes.iter().enumerate() {
        if !scenario.file.parameters.iter().any(|p| p.path == *path) {
            return fail(
                &format!("sweep.axes.{i}"),
                format!(
                    "`{path}` is not a declared parameter: expected the path of one of the [[parameters]]"
                ),
            );
        }
        if sweep.axes[..i].contains(path) {
            return fail(
                &format!("sweep.axes.{i}"),
                format!("`{path}` is an axis twice"),
            );
        }
    }
    let duration_s = scenario.file.scenario.duration_s;
    if !(sweep.collapse_outage_s >= 0.0 && sweep.collapse_outage_s < duration_s) {
        return fail(
            "sweep.collapse_outage_s",
            format!(
                "expected a number of seconds from 0 (none) to below the run's {duration_s} s, found {}",
                sweep.collapse_outage_s
            ),
        );
    }
    Ok(())
}
