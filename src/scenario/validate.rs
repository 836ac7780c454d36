//! Semantic checks on a scenario: references, wiring cycles, ranges and size limits.
//!
//! Each check returns the parameter path at fault and a message saying what was expected, so the
//! caller can point at the file and line. Limits keep every run bounded: no scenario can make the
//! browser tab hang or the series grow without bound.

use super::schema::*;
use crate::metrics;

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

type Check = Result<(), (String, String)>;

fn fail(path: impl Into<String>, message: impl Into<String>) -> Check {
    Err((path.into(), message.into()))
}

fn in_range(path: String, value: f64, lo: f64, hi: f64, unit: &str) -> Check {
    if !value.is_finite() || value < lo || value > hi {
        return fail(
            path,
            format!("expected a value from {lo} to {hi} {unit}, found {value}"),
        );
    }
    Ok(())
}

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

/// Checks everything that serde's types cannot.
pub fn check(file: &ScenarioFile) -> Check {
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
    for name in file.clients.keys() {
        names.push((name, "clients"));
    }
    for name in file.load_balancers.keys() {
        names.push((name, "load_balancers"));
    }
    for name in file.services.keys() {
        names.push((name, "services"));
    }
    names.sort();
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
        if !(1..=MAX_INSTANCES).contains(&service.instances) {
            return fail(
                at("instances"),
                format!(
                    "expected 1 to {MAX_INSTANCES} instances, found {}",
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
        if service.endpoints.is_empty() {
            return fail(at("endpoints"), "a service needs at least one endpoint");
        }
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
        {
            return fail(
                at("target"),
                format!(
                    "`{}` is not a service or load balancer of this scenario",
                    client.target
                ),
            );
        }
        for service in reachable_services(file, &client.target) {
            if !file.services[&service]
                .endpoints
                .contains_key(&client.endpoint)
            {
                return fail(
                    at("endpoint"),
                    format!("service `{service}` has no endpoint `{}`", client.endpoint),
                );
            }
        }
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
        if client.max_retries > MAX_RETRIES {
            return fail(
                at("max_retries"),
                format!(
                    "expected at most {MAX_RETRIES}, found {}",
                    client.max_retries
                ),
            );
        }
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
    }

    for (i, event) in file.timeline.iter().enumerate() {
        in_range(
            format!("timeline.{i}.at_s"),
            event.at_s,
            0.0,
            meta.duration_s,
            "s",
        )?;
        let (service, instance) = match event.target.split_once('#') {
            Some((s, n)) => (s, Some(n)),
            None => (event.target.as_str(), None),
        };
        let Some(spec) = file.services.get(service) else {
            return fail(
                format!("timeline.{i}.target"),
                format!("`{service}` is not a service of this scenario"),
            );
        };
        if let Some(n) = instance {
            match n.parse::<u32>() {
                Ok(n) if n < spec.instances => {}
                _ => {
                    return fail(
                        format!("timeline.{i}.target"),
                        format!(
                            "`{}`: expected an instance number below {}",
                            event.target, spec.instances
                        ),
                    );
                }
            }
        }
    }

    let series = metrics::series_names(file);
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
    Ok(())
}

fn unknown_series(name: &str, series: &[String]) -> String {
    format!(
        "`{name}` is not a series of this scenario; known series: {}",
        series.join(", ")
    )
}

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

/// Refuses load balancers that route back to themselves.
fn check_cycles(file: &ScenarioFile) -> Check {
    // Depth-first search with colours over load balancer → backend edges.
    #[derive(Clone, Copy, PartialEq)]
    enum Colour {
        White,
        Grey,
        Black,
    }
    let names: Vec<&String> = file.load_balancers.keys().collect();
    let index = |name: &str| names.iter().position(|n| n.as_str() == name);
    let mut colour = vec![Colour::White; names.len()];
    fn visit(
        at: usize,
        file: &ScenarioFile,
        names: &[&String],
        colour: &mut [Colour],
        path: &mut Vec<usize>,
        index: &dyn Fn(&str) -> Option<usize>,
    ) -> Check {
        colour[at] = Colour::Grey;
        path.push(at);
        for backend in &file.load_balancers[names[at]].backends {
            let Some(next) = index(backend) else { continue };
            match colour[next] {
                Colour::Grey => {
                    let start = path.iter().position(|&p| p == next).unwrap_or(0);
                    let mut cycle: Vec<&str> =
                        path[start..].iter().map(|&p| names[p].as_str()).collect();
                    cycle.push(names[next]);
                    return fail(
                        format!("load_balancers.{}.backends", names[at]),
                        format!("the wiring has a cycle: {}", cycle.join(" → ")),
                    );
                }
                Colour::White => visit(next, file, names, colour, path, index)?,
                Colour::Black => {}
            }
        }
        path.pop();
        colour[at] = Colour::Black;
        Ok(())
    }
    for start in 0..names.len() {
        if colour[start] == Colour::White {
            visit(start, file, &names, &mut colour, &mut Vec::new(), &index)?;
        }
    }
    Ok(())
}

/// The services a request sent to `target` can reach, in first-seen order (needs acyclic wiring).
pub fn reachable_services(file: &ScenarioFile, target: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![target.to_string()];
    while let Some(name) = stack.pop() {
        if file.services.contains_key(&name) {
            if !out.contains(&name) {
                out.push(name);
            }
        } else if let Some(lb) = file.load_balancers.get(&name) {
            stack.extend(lb.backends.iter().rev().cloned());
        }
    }
    out
}
