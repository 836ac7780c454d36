//! Property tests over randomly generated valid scenarios: conservation of requests, determinism,
//! and bounded series.

use cascade::Simulation;
use cascade::scenario::Scenario;
use proptest::prelude::*;

/// A random valid scenario: one client population, a balancer, one or two services, an optional
/// crash window, a random retry policy.
#[derive(Debug, Clone)]
struct Shape {
    rate_rps: u32,
    workers: u32,
    queue: u32,
    mean_ms: u32,
    retries: u32,
    backoff: usize,
    jitter: usize,
    two_services: bool,
    crash: Option<(u32, u32)>,
    honor_timeout: bool,
}

prop_compose! {
    fn shapes()(
        rate_rps in 1u32..400,
        workers in 1u32..20,
        queue in 1u32..500,
        mean_ms in 1u32..300,
        retries in 0u32..4,
        backoff in 0usize..3,
        jitter in 0usize..4,
        two_services: bool,
        crash in proptest::option::of((0u32..15, 1u32..10)),
        honor_timeout: bool,
    ) -> Shape {
        Shape { rate_rps, workers, queue, mean_ms, retries, backoff, jitter, two_services, crash, honor_timeout }
    }
}

fn scenario_text(shape: &Shape) -> String {
    let Shape {
        rate_rps,
        workers,
        queue,
        mean_ms,
        retries,
        backoff,
        jitter,
        two_services,
        crash,
        honor_timeout,
    } = shape.clone();
    let backoff = ["none", "constant", "exponential"][backoff];
    let jitter = ["none", "full", "equal", "decorrelated"][jitter];
    let backends = if two_services {
        r#"["a", "b"]"#
    } else {
        r#"["a"]"#
    };
    let mut text = format!(
        r#"
[scenario]
id = "random"
title = "random"
duration_s = 20

[clients.c]
target = "lb"
rate_rps = {rate_rps}
timeout_ms = 500
max_retries = {retries}
backoff = "{backoff}"
backoff_base_ms = 50
backoff_cap_ms = 2000
jitter = "{jitter}"

[load_balancers.lb]
backends = {backends}

[services.a]
workers = {workers}
queue_capacity = {queue}
honor_timeout = {honor_timeout}
endpoints.default.service_time = {{ distribution = "exponential", mean_ms = {mean_ms} }}
endpoints.default.error_probability = 0.05
"#
    );
    if two_services {
        text.push_str(&format!(
            "\n[services.b]\nworkers = {workers}\nqueue_capacity = {queue}\nendpoints.default.service_time = {{ distribution = \"constant\", ms = {mean_ms} }}\n"
        ));
    }
    if let Some((start, length)) = crash {
        text.push_str(&format!(
            "\n[[timeline]]\nat_s = {start}\naction = \"stop_accepting\"\ntarget = \"a\"\n\n[[timeline]]\nat_s = {}\naction = \"resume\"\ntarget = \"a\"\n",
            (start + length).min(20)
        ));
    }
    text
}

/// Every request ended exactly once or is in flight, and the windows add up to the totals.
fn conserves_requests(sim: &Simulation) -> Result<(), String> {
    // Each request ended once, from a live state (the ledger would see a second end).
    sim.check_ledger()?;
    let t = sim.totals();
    if t.total != t.success + t.error + t.timeout + t.shed + t.in_flight {
        return Err(format!("totals do not add up: {t:?}"));
    }
    let m = sim.metrics();
    let sum = |name: &str| m.series(name).unwrap().iter().sum::<f64>().round() as u64;
    if sum("offered_rps") != t.total {
        return Err(format!(
            "windows offered {} but {} requests started",
            sum("offered_rps"),
            t.total
        ));
    }
    let ended = sum("success_rps") + sum("error_rps") + sum("timeout_rps") + sum("shed_rps");
    if ended != t.total - t.in_flight {
        return Err(format!(
            "windows ended {ended} but {} requests ended",
            t.total - t.in_flight
        ));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    #[test]
    fn every_request_ends_once_or_is_in_flight(shape in shapes(), seed in 0u64..1_000) {
        let text = scenario_text(&shape);
        let scenario = Scenario::parse("random.toml", &text).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let variant = scenario.variant(&[], &[]).unwrap();
        let mut sim = Simulation::new(&variant, seed);
        sim.run_to_end().unwrap();
        conserves_requests(&sim).map_err(|e| TestCaseError::fail(format!("seed {seed}: {e}\n{text}")))?;
        prop_assert_eq!(sim.metrics().len(), 20, "one window per second");

        // Determinism: the same seed again gives the same trace.
        let mut again = Simulation::new(&variant, seed);
        again.run_to_end().unwrap();
        prop_assert_eq!(sim.trace_hash(), again.trace_hash());
    }
}

/// A random scenario that exercises the richer mechanisms together: a datastore behind a
/// look-aside cache, a statement timeout, memory limits, a liveness probe, connection clients,
/// an HTTP cache and a mid-run `set`.
#[derive(Debug, Clone)]
struct Rich {
    rate_rps: u32,
    keys: u32,
    single_flight: bool,
    query_ms: u32,
    statement_timeout_ms: u32,
    cores: u32,
    memory_limit_mb: u32,
    rows: u32,
    probe_restarts: bool,
    population: u32,
    heartbeat_s: u32,
    error_ttl_s: u32,
    slow_at_s: u32,
    retries: u32,
}

prop_compose! {
    fn rich()(
        rate_rps in 1u32..300,
        keys in 1u32..200,
        single_flight: bool,
        query_ms in 1u32..400,
        statement_timeout_ms in 0u32..2000,
        cores in 1u32..8,
        memory_limit_mb in 0u32..3000,
        rows in 0u32..200_000,
        probe_restarts: bool,
        population in 1u32..300,
        heartbeat_s in 0u32..5,
        error_ttl_s in 0u32..30,
        slow_at_s in 1u32..20,
        retries in 0u32..3,
    ) -> Rich {
        Rich { rate_rps, keys, single_flight, query_ms, statement_timeout_ms, cores, memory_limit_mb, rows,
               probe_restarts, population, heartbeat_s, error_ttl_s, slow_at_s, retries }
    }
}

fn rich_text(r: &Rich) -> String {
    let effect = if r.probe_restarts { "restart" } else { "eject" };
    format!(
        r#"
[scenario]
id = "rich"
title = "rich"
duration_s = 20

[clients.users]
target = "edge"
rate_rps = {rate}
keys = {keys}
users = 50
timeout_ms = 1000
max_retries = {retries}
backoff = "exponential"
jitter = "full"

[clients.devices]
kind = "connections"
target = "lb"
population = {population}
connect_requests = 2
heartbeat_period_s = {heartbeat}
connect_spread_s = 5
timeout_ms = 1000
backoff = "exponential"
backoff_base_ms = 200
jitter = "full"

[http_caches.edge]
backend = "lb"
ttl_s = 2
error_ttl_s = {error_ttl}

[load_balancers.lb]
backends = ["api"]
sticky = true

[services.api]
instances = 3
workers = 8
queue_capacity = 200
memory_base_mb = 100
memory_limit_mb = {memory_limit}
memory_per_connection_mb = 0.5
restart_delay_s = 2
endpoints.default.steps = [
  {{ kind = "cached", cache = "tokens", miss_steps = 1 }},
  {{ kind = "query", datastore = "db", query = "q", timeout_ms = 800 }},
]
endpoints.default.rows = {rows}
endpoints.default.row_kb = 0.01
endpoints.connect.service_time = {{ distribution = "exponential", mean_ms = 5 }}
endpoints.health.service_time = {{ distribution = "constant", ms = 1 }}

[caches.tokens]
ttl_s = 3
single_flight = {single_flight}

[datastores.db]
cores = {cores}
max_connections = 20
queue_capacity = 50
statement_timeout_ms = {statement_timeout}
queries.q.cost = {{ distribution = "exponential", mean_ms = 2 }}

[probes.live]
target = "api"
period_ms = 1000
timeout_ms = 500
failure_threshold = 2
effect = "{effect}"

[[timeline]]
at_s = {slow_at}
action = "set"
set = {{ "datastores.db.queries.q.cost.mean_ms" = {query_ms} }}

[[timeline]]
at_s = 15
action = "crash"
target = "api#1"
"#,
        rate = r.rate_rps,
        keys = r.keys,
        retries = r.retries,
        population = r.population,
        heartbeat = r.heartbeat_s,
        error_ttl = r.error_ttl_s,
        memory_limit = r.memory_limit_mb,
        rows = r.rows,
        single_flight = r.single_flight,
        cores = r.cores,
        statement_timeout = r.statement_timeout_ms,
        query_ms = r.query_ms,
        slow_at = r.slow_at_s,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, .. ProptestConfig::default() })]

    #[test]
    fn rich_scenarios_conserve_requests_and_replay_identically(r in rich(), seed in 0u64..1_000) {
        let text = rich_text(&r);
        let scenario = Scenario::parse("rich.toml", &text).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let variant = scenario.variant(&[], &[]).unwrap();
        let mut sim = Simulation::new(&variant, seed);
        sim.run_to_end().map_err(|e| TestCaseError::fail(e.to_string()))?;
        conserves_requests(&sim).map_err(|e| TestCaseError::fail(format!("seed {seed}: {e}\n{text}")))?;
        let m = sim.metrics();
        for name in m.names() {
            prop_assert!(m.series(name).unwrap().iter().all(|v| v.is_finite() && *v >= 0.0), "series {} has a bad value", name);
        }
        let connected = m.series("devices.connected_count").unwrap();
        prop_assert!(connected.iter().all(|&c| c <= r.population as f64));
        let cpu = m.series("db.cpu_pct").unwrap();
        prop_assert!(cpu.iter().all(|&c| c <= 100.0 + 1e-6), "cpu over 100%: {:?}", cpu);

        let mut again = Simulation::new(&variant, seed);
        again.run_to_end().unwrap();
        prop_assert_eq!(sim.trace_hash(), again.trace_hash());

        // A checkpoint taken mid-run continues exactly as the original.
        let mut first = Simulation::new(&variant, seed);
        first.run_until(9_000_000).unwrap();
        let mut resumed = first.clone();
        resumed.run_to_end().unwrap();
        prop_assert_eq!(resumed.trace_hash(), sim.trace_hash());
    }
}

/// Memory does not grow with simulated time: after the first hour of a steady two-hour run the
/// tables stay the same size (only the series grow, by one value per window).
#[test]
fn tables_do_not_grow_with_simulated_time() {
    let text = r#"
[scenario]
id = "steady"
title = "steady"
duration_s = 7200
window_ms = 10000

[clients.users]
target = "lb"
rate_rps = 300
keys = 1000
timeout_ms = 1000
max_retries = 2

[clients.devices]
kind = "connections"
target = "lb"
population = 500
heartbeat_period_s = 30
connect_spread_s = 60

[load_balancers.lb]
backends = ["api"]

[services.api]
instances = 4
workers = 20
endpoints.default.steps = [
  { kind = "cached", cache = "c", miss_steps = 1 },
  { kind = "query", datastore = "db", query = "q" },
]
endpoints.connect.service_time = { distribution = "exponential", mean_ms = 5 }

[caches.c]
ttl_s = 60

[datastores.db]
cores = 8
queries.q.cost = { distribution = "exponential", mean_ms = 5 }

[probes.live]
target = "api"
endpoint = "connect"
period_ms = 5000
effect = "restart"
"#;
    let scenario = Scenario::parse("steady.toml", text).unwrap();
    let variant = scenario.variant(&[], &[]).unwrap();
    let mut sim = Simulation::new(&variant, 1);
    sim.run_until(3_600_000_000).unwrap();
    let hour = sim.footprint();
    sim.run_to_end().unwrap();
    let two_hours = sim.footprint();
    assert!(sim.totals().total > 2_000_000, "a busy run");
    assert_eq!(two_hours.windows, 720);
    let grew = |a: usize, b: usize| b as f64 > a as f64 * 1.1 + 50.0;
    assert!(
        !grew(hour.request_slots, two_hours.request_slots),
        "{hour:?} → {two_hours:?}"
    );
    assert!(
        !grew(hour.job_slots, two_hours.job_slots),
        "{hour:?} → {two_hours:?}"
    );
    assert!(
        !grew(hour.check_slots, two_hours.check_slots),
        "{hour:?} → {two_hours:?}"
    );
    assert!(
        !grew(hour.pending_events, two_hours.pending_events),
        "{hour:?} → {two_hours:?}"
    );
}

/// Every bundled scenario's columns are the series its file names (`scenario::series`), and every
/// window fills each of them: the groups the engine walks are the groups that were named.
#[test]
fn every_column_is_named_and_filled_in_every_bundled_scenario() {
    for bundle in cascade::scenario::bundled() {
        let scenario = Scenario::parse(bundle.file_name, bundle.source).unwrap();
        let variant = scenario.variant(&[], &[]).unwrap();
        let mut sim = Simulation::new(&variant, 1);
        sim.run_until(3 * variant.file.scenario.window_ms as u64 * 1_000)
            .unwrap();
        let metrics = sim.metrics();
        let names = cascade::scenario::series::names(&variant.file);
        assert_eq!(metrics.names(), names.as_slice(), "{}", scenario.id());
        for name in &names {
            let column = metrics.series(name).unwrap();
            assert_eq!(column.len(), metrics.len(), "{} {name}", scenario.id());
        }
        // Each kind of component brings its own suffixes, in order.
        let groups = cascade::scenario::series::groups(&variant.file);
        let width: usize = groups.iter().map(|(_, g)| g.suffixes().len()).sum();
        assert_eq!(
            names.len(),
            1 + cascade::scenario::series::GLOBAL.len() + width
        );
    }
}

/// Where a scenario has several populations, each one's outcomes are series of their own, and
/// together they are the run's: every request that ends is counted once, for its population.
#[test]
fn populations_outcomes_add_up_to_the_runs() {
    let scenario = cascade::scenario::find_bundled("ovice-2022-07-slow-calendar-endpoint")
        .unwrap()
        .unwrap();
    let variant = scenario.variant(&[], &[]).unwrap();
    assert!(variant.file.clients.len() > 1);
    let mut sim = Simulation::new(&variant, 3);
    sim.run_until(900 * 1_000_000).unwrap();
    let metrics = sim.metrics();
    let mut failures = 0.0;
    for outcome in cascade::scenario::series::OUTCOMES {
        let total = metrics.series(outcome).unwrap();
        let mut sum = vec![0.0; total.len()];
        for client in variant.file.clients.keys() {
            let column = metrics.series(&format!("{client}.{outcome}")).unwrap();
            sum.iter_mut().zip(column).for_each(|(s, v)| *s += v);
        }
        for (window, (a, b)) in sum.iter().zip(total).enumerate() {
            assert!(
                (a - b).abs() < 1e-9,
                "{outcome}, window {window}: {a} vs {b}"
            );
        }
        if outcome != "success_rps" {
            failures += total.iter().sum::<f64>();
        }
    }
    assert!(failures > 0.0, "the outage fails requests");
    // One population: the run-wide series say it all, and no per-population series are made.
    let single = cascade::scenario::find_bundled("retry-storm")
        .unwrap()
        .unwrap();
    let names = cascade::scenario::series::names(&single.file);
    assert!(!names.iter().any(|n| n.ends_with(".success_rps")));
}
