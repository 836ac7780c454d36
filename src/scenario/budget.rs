//! What a run of a scenario will cost, estimated from the file before anything runs, and the
//! bounds that keep any accepted file (a hostile link included) to a run that ends in seconds to
//! minutes and in bounded memory.
//!
//! The estimate is an upper-bound flavour of the work: every client's highest rate held for the
//! whole run, every attempt retried as often as allowed, every step of every call run. The
//! bundled scenarios estimate 3·10⁴–5·10⁷ steps (2–7 million events); the bound sits well above them and well below runs
//! that take hours.

use super::schema::{ClientKind, ScenarioFile, Step};
use super::series::names as series_names;
use super::tree::Value;
use std::collections::BTreeMap;

/// The most work a run may be estimated to need, in steps (one step ≈ a few events).
pub const MAX_WORK_STEPS: f64 = 5.0e8;
/// The most values the run's series may hold (windows × series): 8 bytes each, and the player
/// keeps two runs.
pub const MAX_SERIES_VALUES: f64 = 4.0e6;
/// The most connection clients over all populations.
pub const MAX_TOTAL_POPULATION: f64 = 4.0e5;
/// The most keys held by all look-aside caches.
pub const MAX_TOTAL_CACHE_KEYS: f64 = 2.0e6;
/// The most components of all kinds.
pub const MAX_COMPONENTS: usize = 100;
/// The most named fixes.
pub const MAX_FIXES: usize = 32;
/// The most timeline entries.
pub const MAX_TIMELINE_ENTRIES: usize = 200;

/// A run's cost, estimated from its file.
#[derive(Clone, Debug, PartialEq)]
pub struct Estimate {
    /// Steps run over the whole run, at most (see the module's note).
    pub work_steps: f64,
    /// The client contributing most of `work_steps`, and its share.
    pub heaviest_client: Option<(String, f64)>,
    /// Values in the run's series.
    pub series_values: f64,
    /// Connection clients over all populations, at their highest.
    pub population: f64,
}

/// Estimates a run of `file`.
pub fn estimate(file: &ScenarioFile) -> Estimate {
    let duration_s = file.scenario.duration_s;
    let peaks = timeline_peaks(file);
    let peak = |client: &str, field: &str, base: f64| {
        peaks
            .get(&format!("clients.{client}.{field}"))
            .map_or(base, |&p| p.max(base))
    };
    let mut work_steps = 0.0;
    let mut population_total = 0.0;
    let mut heaviest: Option<(String, f64)> = None;
    for (name, client) in &file.clients {
        let attempts = 1.0 + client.max_retries as f64;
        let requests = match client.kind {
            ClientKind::Requests => {
                let scheduled = client
                    .rate_changes
                    .iter()
                    .map(|change| change.rate_rps)
                    .fold(client.rate_rps, f64::max);
                peak(name, "rate_rps", scheduled) * duration_s
            }
            ClientKind::Connections => {
                let population = peak(name, "population", client.population as f64);
                population_total += population;
                let heartbeats = if client.heartbeat_period_s > 0.0 {
                    duration_s / client.heartbeat_period_s
                } else {
                    0.0
                };
                // Each client connects at least once; a reconnect costs a connect and is paced
                // by the backoff (at least the attempt's timeout when nothing answers).
                let pace_s = (client.backoff_base_ms.max(client.timeout_ms) / 1_000.0).max(0.01);
                let reconnects = if client.reconnect {
                    duration_s / pace_s
                } else {
                    0.0
                };
                population * (heartbeats + (1.0 + reconnects) * client.connect_requests as f64)
            }
        };
        if requests <= 0.0 {
            continue;
        }
        let steps = requests
            * attempts
            * cost(file, &client.target, &client.endpoint).max(connect_cost(file, name));
        work_steps += steps;
        if heaviest.as_ref().is_none_or(|(_, most)| steps > *most) {
            heaviest = Some((name.clone(), steps));
        }
    }
    for probe in file.probes.values() {
        let instances = instances_behind(file, &probe.target);
        let checks = duration_s * 1_000.0 / probe.period_ms.max(1.0);
        work_steps += checks
            * instances
            * probe.probers.max(1) as f64
            * cost(file, &probe.target, &probe.endpoint);
    }
    let windows = duration_s * 1_000.0 / file.scenario.window_ms;
    Estimate {
        work_steps,
        heaviest_client: heaviest.map(|(name, steps)| (name, steps / work_steps.max(1.0))),
        series_values: windows * (series_names(file).len() as f64),
        population: population_total,
    }
}

/// Checks how many components, fixes and timeline entries there are (before the checks that
/// look at each of them): a parameter path and a message.
pub fn check_counts(file: &ScenarioFile) -> Result<(), (String, String)> {
    let components = file.clients.len()
        + file.load_balancers.len()
        + file.http_caches.len()
        + file.services.len()
        + file.caches.len()
        + file.datastores.len()
        + file.dependencies.len()
        + file.probes.len();
    if components > MAX_COMPONENTS {
        return Err((
            "scenario".into(),
            format!("{components} components: a scenario may have at most {MAX_COMPONENTS}"),
        ));
    }
    if file.fixes.len() > MAX_FIXES {
        return Err((
            "fixes".into(),
            format!(
                "{} fixes: a scenario may name at most {MAX_FIXES}",
                file.fixes.len()
            ),
        ));
    }
    if file.timeline.len() > MAX_TIMELINE_ENTRIES {
        return Err((
            "timeline".into(),
            format!(
                "{} timeline entries: a scenario may have at most {MAX_TIMELINE_ENTRIES}",
                file.timeline.len()
            ),
        ));
    }
    Ok(())
}

/// Checks the totals and the estimated work against their bounds (after the wiring has been
/// checked): a parameter path and a message that says what to lower.
pub fn check_work(file: &ScenarioFile) -> Result<(), (String, String)> {
    let estimate = estimate(file);
    let population = estimate.population;
    if population > MAX_TOTAL_POPULATION {
        return Err((
            "clients".into(),
            format!(
                "{population} connection clients in all: at most {MAX_TOTAL_POPULATION} \
                 (lower the populations)"
            ),
        ));
    }
    let keys: f64 = file.caches.values().map(|c| c.keys as f64).sum();
    if keys > MAX_TOTAL_CACHE_KEYS {
        return Err((
            "caches".into(),
            format!(
                "{keys} keys over all look-aside caches: at most {MAX_TOTAL_CACHE_KEYS} \
                 (lower their `keys`)"
            ),
        ));
    }
    if estimate.series_values > MAX_SERIES_VALUES {
        return Err((
            "scenario.window_ms".into(),
            format!(
                "{:.0} windows of {} series would hold {:.1} million values, more than the \
                 {:.0} million a run may keep: widen the window, shorten the run or remove \
                 components",
                file.scenario.duration_s * 1_000.0 / file.scenario.window_ms,
                series_names(file).len(),
                estimate.series_values / 1e6,
                MAX_SERIES_VALUES / 1e6
            ),
        ));
    }
    // A NaN (an estimate gone wrong) is refused too.
    if estimate.work_steps.is_nan() || estimate.work_steps > MAX_WORK_STEPS {
        let (path, who) = match &estimate.heaviest_client {
            Some((name, share)) => (
                format!("clients.{name}"),
                format!(
                    "; `{name}` makes {:.0}% of it: lower its rate, population or retries",
                    share * 100.0
                ),
            ),
            None => ("probes".into(), ": probe less often".into()),
        };
        return Err((
            path,
            format!(
                "this run would take about {:.1} billion steps (its highest rates held for {} s, \
                 every retry taken), more than the {:.0} billion a run may take{who}, or shorten \
                 `scenario.duration_s`",
                estimate.work_steps / 1e9,
                file.scenario.duration_s,
                MAX_WORK_STEPS / 1e9
            ),
        ));
    }
    Ok(())
}

/// The highest number each parameter path is `set` to by the timeline (one pass over it).
fn timeline_peaks(file: &ScenarioFile) -> BTreeMap<String, f64> {
    let mut peaks: BTreeMap<String, f64> = BTreeMap::new();
    for entry in &file.timeline {
        for (path, value) in &entry.set {
            let number = match value {
                Value::Integer(n) => *n as f64,
                Value::Float(x) => *x,
                _ => continue,
            };
            let peak = peaks.entry(path.clone()).or_insert(number);
            *peak = peak.max(number);
        }
    }
    peaks
}

/// Steps of the connect endpoint of a connection client (0 for request clients).
fn connect_cost(file: &ScenarioFile, client: &str) -> f64 {
    let spec = &file.clients[client];
    if spec.kind == ClientKind::Connections {
        cost(file, &spec.target, &spec.connect_endpoint)
    } else {
        0.0
    }
}

/// Instances a probe aimed at `target` checks (each balancer's backends, summed).
fn instances_behind(file: &ScenarioFile, target: &str) -> f64 {
    super::reachable_services(file, target)
        .iter()
        .map(|name| file.services[name].instances.max(1) as f64)
        .sum::<f64>()
        .max(1.0)
}

/// Steps one request sent to `target` (its `endpoint`) runs, counting every call it makes
/// (each service endpoint costed once: a mesh of services calling each other several times
/// would otherwise take exponential time to cost).
fn cost(file: &ScenarioFile, target: &str, endpoint: &str) -> f64 {
    Costs {
        file,
        known: BTreeMap::new(),
    }
    .of(target, endpoint, 0)
}

/// The deepest chain of calls costed: wiring is acyclic (checked before this runs); deeper is
/// counted as far more than any bound.
const MAX_DEPTH: usize = 64;

struct Costs<'a> {
    file: &'a ScenarioFile,
    known: BTreeMap<(String, String), f64>,
}

impl Costs<'_> {
    fn of(&mut self, target: &str, endpoint: &str, depth: usize) -> f64 {
        if depth > MAX_DEPTH {
            // Counted as far more than any bound: finite, so that a client sending nothing
            // (0 × this) adds nothing instead of a NaN.
            return 1e30;
        }
        let key = (target.to_string(), endpoint.to_string());
        if let Some(&known) = self.known.get(&key) {
            return known;
        }
        let file = self.file;
        let steps = if let Some(service) = file.services.get(target) {
            match service.endpoints.get(endpoint) {
                Some(spec) => {
                    let mut steps = 1.0 + self.steps(&spec.steps, depth);
                    if spec.middleware {
                        steps += self.steps(&service.middleware, depth);
                    }
                    steps
                }
                None => 1.0,
            }
        } else if let Some(lb) = file.load_balancers.get(target) {
            let mut most: f64 = 0.0;
            for backend in &lb.backends {
                most = most.max(self.of(backend, endpoint, depth + 1));
            }
            1.0 + most
        } else if let Some(http) = file.http_caches.get(target) {
            1.0 + self.of(&http.backend, endpoint, depth + 1)
        } else {
            1.0
        };
        self.known.insert(key, steps);
        steps
    }

    fn steps(&mut self, steps: &[Step], depth: usize) -> f64 {
        let mut total = 0.0;
        for step in steps {
            total += match step {
                Step::Call {
                    target, endpoint, ..
                } => 1.0 + self.of(target, endpoint, depth + 1),
                _ => 1.0,
            };
        }
        total
    }
}
