//! Each mechanism on its own, in a small scenario, showing the behaviour a trainee would notice.

use cascade::Simulation;
use cascade::scenario::Scenario;

fn run(text: &str, fixes: &[&str], seed: u64) -> Simulation {
    let scenario = Scenario::parse("test.toml", text).unwrap_or_else(|e| panic!("{e}"));
    let fixes: Vec<String> = fixes.iter().map(|f| f.to_string()).collect();
    let variant = scenario
        .variant(&fixes, &[])
        .unwrap_or_else(|e| panic!("{e}"));
    let mut sim = Simulation::new(&variant, seed);
    sim.run_to_end().unwrap_or_else(|e| panic!("{e}"));
    sim
}

/// The values of `series` in the windows ending in (from_s, to_s].
fn windows(sim: &Simulation, series: &str, from_s: f64, to_s: f64) -> Vec<f64> {
    let m = sim.metrics();
    let t = m.series("t_s").unwrap();
    let v = m
        .series(series)
        .unwrap_or_else(|| panic!("no series {series}"));
    t.iter()
        .zip(v)
        .filter(|(t, _)| **t > from_s && **t <= to_s)
        .map(|(_, v)| *v)
        .collect()
}

fn mean(sim: &Simulation, series: &str, from_s: f64, to_s: f64) -> f64 {
    let picked = windows(sim, series, from_s, to_s);
    picked.iter().sum::<f64>() / picked.len() as f64
}

fn max(sim: &Simulation, series: &str) -> f64 {
    sim.metrics()
        .series(series)
        .unwrap()
        .iter()
        .copied()
        .fold(f64::MIN, f64::max)
}

fn sum(sim: &Simulation, series: &str) -> f64 {
    sim.metrics().series(series).unwrap().iter().sum()
}

const DATASTORE: &str = r#"
[scenario]
id = "db"
title = "db"
duration_s = 30

[clients.users]
target = "api"
rate_rps = 100
timeout_ms = 5000

[services.api]
workers = 200
queue_capacity = 1000
endpoints.default.steps = [{ kind = "query", datastore = "db", query = "lookup" }]

[datastores.db]
cores = 4
statement_timeout_ms = 0
queries.lookup.cost = { distribution = "constant", ms = 20 }

[fixes.slow-query]
description = "The query scans the table."
set = { "datastores.db.queries.lookup.cost.ms" = 80 }

[fixes.short-statement-timeout]
description = "Kill queries after 500 ms."
set = { "datastores.db.statement_timeout_ms" = 500 }
"#;

#[test]
fn datastore_cpu_follows_the_query_cost_and_saturates() {
    // 100 queries/s × 20 ms = 2 cores of 4: 50% CPU, everything succeeds.
    let sim = run(DATASTORE, &[], 1);
    let cpu = mean(&sim, "db.cpu_pct", 5.0, 30.0);
    assert!((cpu - 50.0).abs() < 8.0, "cpu {cpu}%");
    assert!(mean(&sim, "success_rps", 5.0, 30.0) > 90.0);
    // 100 × 80 ms = 8 cores of 4: pinned at 100%, queries pile up, latency grows.
    let slow = run(DATASTORE, &["slow-query"], 1);
    assert!(mean(&slow, "db.cpu_pct", 5.0, 30.0) > 99.0);
    assert_eq!(
        max(&slow, "db.running_queries_count"),
        100.0,
        "max_connections caps running queries"
    );
    assert!(
        max(&slow, "db.queued_queries_count") >= 90.0,
        "the rest wait for a connection"
    );
    assert!(
        max(&slow, "api.queue_depth_req") > 100.0,
        "and requests wait for a worker"
    );
    assert!(
        mean(&slow, "p99_ms", 0.0, 10.0) > 1_000.0,
        "latency grows first"
    );
    assert!(
        mean(&slow, "timeout_rps", 15.0, 30.0) > 50.0,
        "then requests time out"
    );
}

#[test]
fn a_statement_timeout_under_overload_kills_everything() {
    let sim = run(DATASTORE, &["slow-query", "short-statement-timeout"], 1);
    assert!(mean(&sim, "db.killed_queries_count", 10.0, 30.0) > 50.0);
    assert!(
        mean(&sim, "success_rps", 10.0, 30.0) < 10.0,
        "almost every query is killed"
    );
}

const STAMPEDE: &str = r#"
[scenario]
id = "stampede"
title = "stampede"
duration_s = 40

[clients.api-users]
target = "api"
rate_rps = 400
keys = 50
timeout_ms = 3000

[services.api]
workers = 500
queue_capacity = 5000
endpoints.default.steps = [
  { kind = "cached", cache = "tokens", miss_steps = 1 },
  { kind = "query", datastore = "db", query = "token" },
]

[caches.tokens]
ttl_s = 10
single_flight = false

[datastores.db]
cores = 4
statement_timeout_ms = 1000
queries.token.cost = { distribution = "constant", ms = 0.05 }

[[timeline]]
at_s = 5
action = "set"
set = { "datastores.db.queries.token.cost.ms" = 50 }
label = "a deploy makes the query slow"

[fixes.single-flight]
description = "One fill per key."
set = { "caches.tokens.single_flight" = true }
"#;

#[test]
fn without_single_flight_the_cache_never_fills_again() {
    let sim = run(STAMPEDE, &[], 1);
    assert!(
        mean(&sim, "tokens.hit_ratio", 1.0, 5.0) > 0.8,
        "warm cache before the deploy"
    );
    assert!(
        mean(&sim, "tokens.hit_ratio", 25.0, 40.0) < 0.2,
        "the cache stays cold"
    );
    assert!(mean(&sim, "db.cpu_pct", 25.0, 40.0) > 95.0);
    assert!(mean(&sim, "success_rps", 25.0, 40.0) < 100.0);
}

#[test]
fn with_single_flight_one_query_per_key_fills_it() {
    let sim = run(STAMPEDE, &["single-flight"], 1);
    assert!(
        mean(&sim, "tokens.hit_ratio", 25.0, 40.0) > 0.8,
        "the cache refills"
    );
    assert!(mean(&sim, "success_rps", 25.0, 40.0) > 350.0);
}

const HTTP_CACHE: &str = r#"
[scenario]
id = "varnish"
title = "varnish"
duration_s = 60

[clients.viewers]
target = "varnish"
rate_rps = 200
keys = 10
users = 5000
timeout_ms = 5000

[http_caches.varnish]
backend = "api"
ttl_s = 5
error_ttl_s = 0
key_includes_user = false

[services.api]
workers = 50
endpoints.default.service_time = { distribution = "constant", ms = 10 }

[[timeline]]
at_s = 10
action = "set"
set = { "services.api.endpoints.default.error_probability" = 1.0 }

[[timeline]]
at_s = 15
action = "set"
set = { "services.api.endpoints.default.error_probability" = 0.0 }

[fixes.cache-errors]
description = "Errors are cached for 1800 s."
set = { "http_caches.varnish.error_ttl_s" = 1800 }

[fixes.user-in-key]
description = "The user is part of the cache key."
set = { "http_caches.varnish.key_includes_user" = true }
"#;

#[test]
fn cached_errors_outlive_the_backend_failure() {
    let plain = run(HTTP_CACHE, &[], 1);
    let cached = run(HTTP_CACHE, &["cache-errors"], 1);
    // Without error caching, errors stop with the backend's failure (plus stale successes).
    assert!(mean(&plain, "error_rps", 45.0, 60.0) < 1.0);
    // With it, the keys that failed keep failing long after the backend recovered.
    assert!(mean(&cached, "error_rps", 45.0, 60.0) > 20.0);
}

#[test]
fn a_user_in_the_key_ruins_the_hit_ratio() {
    let shared = run(HTTP_CACHE, &[], 1);
    let per_user = run(HTTP_CACHE, &["user-in-key"], 1);
    assert!(mean(&shared, "varnish.hit_ratio", 20.0, 60.0) > 0.95);
    assert!(mean(&per_user, "varnish.hit_ratio", 20.0, 60.0) < 0.5);
    assert!(
        mean(&per_user, "api.busy_workers_count", 20.0, 60.0)
            > mean(&shared, "api.busy_workers_count", 20.0, 60.0)
    );
}

const LIVENESS: &str = r#"
[scenario]
id = "liveness"
title = "liveness"
duration_s = 120

[clients.users]
target = "lb"
rate_rps = 50
timeout_ms = 30000

[clients.flood]
target = "lb"
rate_rps = 0
timeout_ms = 30000

[load_balancers.lb]
backends = ["api"]

[services.api]
instances = 3
workers = 10
queue_capacity = 5000
restart_delay_s = 15
endpoints.default.service_time = { distribution = "constant", ms = 50 }
endpoints.health.service_time = { distribution = "constant", ms = 1 }

[probes.liveness]
target = "api"
endpoint = "health"
period_ms = 5000
timeout_ms = 2000
failure_threshold = 3
effect = "restart"

[[timeline]]
at_s = 20
action = "set"
set = { "clients.flood.rate_rps" = 900 }

[fixes.decoupled]
description = "The probe does not queue behind requests."
set = { "probes.liveness.decoupled" = true }
"#;

#[test]
fn a_liveness_probe_behind_a_saturated_queue_restarts_pods_in_a_loop() {
    let sim = run(LIVENESS, &[], 1);
    let restarts = sum(&sim, "api.restarts_count");
    assert!(restarts > 3.0, "restarts {restarts}");
    assert!(mean(&sim, "api.healthy_instances_count", 1.0, 20.0) == 3.0);
    assert!(mean(&sim, "api.healthy_instances_count", 40.0, 120.0) < 3.0);
    let decoupled = run(LIVENESS, &["decoupled"], 1);
    assert_eq!(sum(&decoupled, "api.restarts_count"), 0.0);
}

const MEMORY: &str = r#"
[scenario]
id = "memory"
title = "memory"
duration_s = 60

[clients.ui]
target = "api"
rate_rps = 2
timeout_ms = 10000

[services.api]
instances = 1
workers = 8
memory_base_mb = 300
memory_limit_mb = 2048
restart_delay_s = 5
endpoints.default.service_time = { distribution = "constant", ms = 2000 }
endpoints.default.rows = 400000
endpoints.default.row_kb = 2

[fixes.pagination-limit]
description = "At most 1000 rows per page."
set = { "services.api.endpoints.default.max_rows" = 1000 }
"#;

#[test]
fn unbounded_responses_run_the_instance_out_of_memory_again_and_again() {
    let sim = run(MEMORY, &[], 1);
    assert!(
        sum(&sim, "api.restarts_count") >= 3.0,
        "restarts {}",
        sum(&sim, "api.restarts_count")
    );
    // It reaches its limit, and never holds more: the allocation past it is what fails.
    assert_eq!(max(&sim, "api.memory_mb"), 2048.0);
    let paged = run(MEMORY, &["pagination-limit"], 1);
    assert_eq!(sum(&paged, "api.restarts_count"), 0.0);
    assert!(max(&paged, "api.memory_mb") < 400.0);
    assert!(mean(&paged, "success_rps", 5.0, 60.0) > 1.8);
}

const CONNECTIONS: &str = r#"
[scenario]
id = "connections"
title = "connections"
duration_s = 120

[clients.devices]
kind = "connections"
target = "lb"
population = 2000
connect_endpoint = "connect"
endpoint = "ping"
connect_requests = 1
heartbeat_period_s = 10
connect_spread_s = 20
timeout_ms = 5000
backoff = "exponential"
backoff_base_ms = 5000
backoff_cap_ms = 30000
jitter = "full"

[load_balancers.lb]
backends = ["echo"]
sticky = true

[services.echo]
instances = 4
workers = 100
memory_base_mb = 100
memory_per_connection_mb = 1
restart_delay_s = 10
endpoints.connect.service_time = { distribution = "constant", ms = 5 }
endpoints.ping.service_time = { distribution = "constant", ms = 1 }

[[timeline]]
at_s = 60
action = "crash"
target = "echo#0"
"#;

#[test]
fn connection_clients_connect_hold_and_reconnect_after_a_crash() {
    let sim = run(CONNECTIONS, &[], 1);
    let connected = sim.metrics().series("devices.connected_count").unwrap();
    assert_eq!(connected[50] as u32, 2000, "all connected before the crash");
    assert!(
        mean(&sim, "echo.memory_mb", 40.0, 59.0) > 500.0,
        "connections hold memory"
    );
    assert!(
        connected[61] < 1800.0,
        "a quarter dropped with the crashed instance"
    );
    // The sticky balancer moves them on to the instances in rotation: all are back (within the
    // 5 s of their first backoff) before the crashed instance returns at 70 s.
    assert_eq!(
        connected[68] as u32, 2000,
        "they reconnected to the survivors"
    );
    assert_eq!(connected[119] as u32, 2000, "and stay connected");
    assert!(max(&sim, "echo.connections_count") >= 2000.0);
}

const SATURATION: &str = r#"
[scenario]
id = "slow-dependency"
title = "slow-dependency"
duration_s = 60

[clients.users]
target = "api"
rate_rps = 100
timeout_ms = 3000

[clients.calendar]
target = "api"
endpoint = "subscribe"
rate_rps = 0
timeout_ms = 15000

[services.api]
instances = 2
workers = 16
queue_capacity = 2000
endpoints.default.service_time = { distribution = "constant", ms = 20 }
endpoints.subscribe.steps = [{ kind = "call", target = "msgraph" }]

[dependencies.msgraph]
latency = { distribution = "uniform", min_ms = 2000, max_ms = 10000 }

[[timeline]]
at_s = 20
action = "set"
set = { "clients.calendar.rate_rps" = 10 }

[fixes.background-jobs]
description = "The endpoint enqueues the slow work and answers at once."
set = { "services.api.endpoints.subscribe.steps.0.target" = "jobs" }

[services.jobs]
instances = 1
workers = 1000
endpoints.default.service_time = { distribution = "constant", ms = 1 }
"#;

#[test]
fn slow_synchronous_calls_hold_every_worker_and_starve_other_endpoints() {
    let sim = run(SATURATION, &[], 1);
    assert!(mean(&sim, "success_rps", 5.0, 20.0) > 95.0);
    assert!(
        mean(&sim, "api.busy_workers_count", 40.0, 60.0) > 31.0,
        "all 32 workers held"
    );
    assert!(mean(&sim, "success_rps", 40.0, 60.0) < 50.0);
    let fixed = run(SATURATION, &["background-jobs"], 1);
    assert!(mean(&fixed, "success_rps", 40.0, 60.0) > 100.0);
}

#[test]
fn operator_actions_stop_restart_and_scale() {
    let text = r#"
[scenario]
id = "ops"
title = "ops"
duration_s = 40

[clients.users]
target = "lb"
rate_rps = 100

[load_balancers.lb]
backends = ["api"]

[services.api]
instances = 2
workers = 10
restart_delay_s = 5
auto_restart = false
endpoints.default.service_time = { distribution = "constant", ms = 10 }

[[timeline]]
at_s = 5
action = "stop"
target = "api#1"

[[timeline]]
at_s = 15
action = "restart"
target = "api#1"

[[timeline]]
at_s = 25
action = "set"
set = { "services.api.instances" = 4 }
"#;
    let sim = run(text, &[], 1);
    let healthy = sim.metrics().series("api.healthy_instances_count").unwrap();
    assert_eq!(healthy[3], 2.0);
    assert_eq!(healthy[10], 1.0, "stopped instance stays down");
    assert_eq!(healthy[22], 2.0, "back 5 s after the restart");
    assert_eq!(healthy[27], 2.0, "new instances boot for 5 s");
    assert_eq!(healthy[35], 4.0);
    assert_eq!(
        mean(&sim, "error_rps", 6.0, 15.0),
        0.0,
        "the balancer sends nothing to the stopped instance"
    );
    assert!(
        mean(&sim, "success_rps", 6.0, 15.0) > 90.0,
        "the other takes it all"
    );
}

#[test]
fn a_fix_applied_mid_run_forks_from_the_same_state() {
    let scenario = Scenario::parse("stampede.toml", STAMPEDE).unwrap();
    let longer = [("scenario.duration_s".to_string(), "80".to_string())];
    let variant = scenario.variant(&[], &longer).unwrap();
    let mut base = Simulation::new(&variant, 1);
    base.run_until(20_000_000).unwrap();
    let mut fork = base.clone();
    fork.apply_fix_now(&scenario, "single-flight").unwrap();
    base.run_to_end().unwrap();
    fork.run_to_end().unwrap();
    assert!(mean(&base, "success_rps", 60.0, 80.0) < 100.0);
    // From 20 s on the fix stops new stampedes, but the backlog already in the datastore is
    // killed by its statement timeout for a while (100 queries sharing 4 cores each need more
    // than the 1 s they are allowed), so recovery comes once it has drained.
    assert!(
        mean(&fork, "success_rps", 20.0, 30.0) < 100.0,
        "the backlog is still there"
    );
    assert!(
        mean(&fork, "success_rps", 60.0, 80.0) > 350.0,
        "the fix cures it once the backlog is gone"
    );
    // Before the fork both runs are the same.
    let a = base.metrics().series("success_rps").unwrap();
    let b = fork.metrics().series("success_rps").unwrap();
    assert_eq!(a[..20], b[..20]);
    let err = fork.apply_fix_now(&scenario, "nope").unwrap_err();
    assert!(err.to_string().contains("no fix `nope`"));
}

#[test]
fn readiness_ejection_takes_a_failing_instance_out_of_rotation() {
    let text = r#"
[scenario]
id = "readiness"
title = "readiness"
duration_s = 30

[clients.users]
target = "lb"
rate_rps = 100

[load_balancers.lb]
backends = ["api"]

[services.api]
instances = 2
workers = 10
endpoints.default.service_time = { distribution = "constant", ms = 10 }
endpoints.health.service_time = { distribution = "constant", ms = 1 }

[probes.readiness]
target = "api"
period_ms = 1000
failure_threshold = 2
effect = "eject"

[[timeline]]
at_s = 10
action = "stop_accepting"
target = "api#0"
"#;
    let sim = run(text, &[], 1);
    assert!(
        mean(&sim, "error_rps", 10.0, 12.0) > 10.0,
        "errors until the probe notices"
    );
    assert!(
        mean(&sim, "error_rps", 15.0, 30.0) < 1.0,
        "then the balancer skips it"
    );
    assert!(mean(&sim, "success_rps", 15.0, 30.0) > 95.0);
}

#[test]
fn a_population_can_shrink_while_its_clients_are_connecting() {
    // Regression: requests of removed clients used to index past the end of the population.
    let text = r#"
[scenario]
id = "shrink"
title = "shrink"
duration_s = 30

[clients.devices]
kind = "connections"
target = "api"
population = 500
connect_requests = 5
connect_spread_s = 2
heartbeat_period_s = 1
timeout_ms = 2000
backoff = "exponential"
backoff_base_ms = 500
backoff_cap_ms = 5000
jitter = "full"

[services.api]
workers = 64
endpoints.connect.service_time = { distribution = "exponential", mean_ms = 20 }
endpoints.default.service_time = { distribution = "constant", ms = 1 }

[[timeline]]
at_s = 1
action = "set"
set = { "clients.devices.population" = 100 }

[[timeline]]
at_s = 10
action = "set"
set = { "clients.devices.population" = 300 }
"#;
    let sim = run(text, &[], 1);
    let connected = sim.metrics().series("devices.connected_count").unwrap();
    assert!(connected[8] <= 100.0);
    assert!(connected[29] > 100.0, "the population grew again");
    let t = sim.totals();
    assert_eq!(
        t.total,
        t.success + t.error + t.timeout + t.shed + t.in_flight
    );
}

#[test]
fn ttl_jitter_spreads_expiries_so_single_flight_holds() {
    // All 50 keys are filled within the first moments; without jitter they expire together
    // every 10 s, and those synchronised misses stampede the database each time.
    let text = STAMPEDE.replace("single_flight = false", "single_flight = true");
    let together = run(&text, &[], 1);
    let jittered = run(
        &text.replace("ttl_s = 10", "ttl_s = 10\nttl_jitter = 0.5"),
        &[],
        1,
    );
    let peak = |sim: &Simulation| max(sim, "db.running_queries_count");
    assert!(
        peak(&jittered) < peak(&together),
        "{} vs {}",
        peak(&jittered),
        peak(&together)
    );
    assert!(mean(&jittered, "success_rps", 25.0, 40.0) > 350.0);
}

#[test]
fn an_instance_coming_up_resets_only_its_own_service_probe_failures() {
    // `sick` always fails its liveness probe, so it restarts every few seconds. Meanwhile `api`'s
    // instance #0 is restarted every 1.5 s: its coming back up must not clear the failure count
    // of `sick`'s instance #0, a different instance of a different service.
    let mut text = String::from(
        r#"
[scenario]
id = "probes"
title = "probes"
duration_s = 60

[clients.users]
target = "api"
rate_rps = 10

[services.api]
restart_delay_s = 0.5
endpoints.default.service_time = { distribution = "constant", ms = 5 }

[services.sick]
restart_delay_s = 1
endpoints.default.service_time = { distribution = "constant", ms = 5 }
endpoints.health.service_time = { distribution = "constant", ms = 1 }
endpoints.health.error_probability = 1.0

[probes.sick-liveness]
target = "sick"
endpoint = "health"
period_ms = 1000
timeout_ms = 500
failure_threshold = 3
effect = "restart"
"#,
    );
    for i in 0..39 {
        text.push_str(&format!(
            "\n[[timeline]]\nat_s = {}\naction = \"restart\"\ntarget = \"api#0\"\n",
            1.0 + 1.5 * i as f64
        ));
    }
    let sim = run(&text, &[], 1);
    assert!(sum(&sim, "api.restarts_count") >= 30.0);
    let restarts = sum(&sim, "sick.restarts_count");
    assert!(
        restarts >= 8.0,
        "sick restarted {restarts} times in 60 s with 3 failed probes a second apart"
    );
}

#[test]
fn a_statement_timeout_counts_from_when_the_query_starts_running() {
    // One connection, queries of 80 ms arriving every 50 ms: they queue for a connection. The
    // statement timeout (100 ms) counts only running time, so no query is ever killed, however
    // long it waited; and a query that waits past 100 ms is still killed if it then runs too long
    // (the `slow` fix: queries of 150 ms).
    let text = r#"
[scenario]
id = "statement-timeout"
title = "statement-timeout"
duration_s = 20

[clients.users]
target = "api"
arrival = "uniform"
rate_rps = 20
timeout_ms = 60000

[services.api]
workers = 1000
queue_capacity = 1000
endpoints.default.steps = [{ kind = "query", datastore = "db", query = "q" }]

[datastores.db]
cores = 1
max_connections = 1
queue_capacity = 1000
statement_timeout_ms = 100
queries.q.cost = { distribution = "constant", ms = 80 }

[fixes.slow]
description = "Queries take 150 ms."
set = { "datastores.db.queries.q.cost.ms" = 150 }
"#;
    let sim = run(text, &[], 1);
    assert_eq!(
        sum(&sim, "db.killed_queries_count"),
        0.0,
        "none runs 100 ms"
    );
    assert!(
        max(&sim, "db.queued_queries_count") > 20.0,
        "queries wait for the one connection"
    );
    assert!(
        mean(&sim, "success_rps", 5.0, 20.0) > 11.0,
        "one every 80 ms"
    );
    let slow = run(text, &["slow"], 1);
    let killed = sum(&slow, "db.killed_queries_count");
    // Each query runs 100 ms and is killed: about ten a second, for the whole run.
    assert!(killed > 150.0, "killed {killed}");
    assert_eq!(sum(&slow, "success_rps"), 0.0, "none finishes in 100 ms");
}

const ABANDONED: &str = r#"
[scenario]
id = "abandoned"
title = "abandoned"
duration_s = 60

[clients.users]
target = "api"
arrival = "uniform"
rate_rps = 2.5
timeout_ms = 60000

[services.api]
workers = 1000
queue_capacity = 1000
endpoints.default.steps = [{ kind = "query", datastore = "db", query = "slow", timeout_ms = 200 }]

[datastores.db]
cores = 1
max_connections = 1
queue_capacity = 1000
queries.slow.cost = { distribution = "constant", ms = 1000 }

[fixes.cancel]
description = "The database cancels a query whose caller has gone."
set = { "datastores.db.cancel_abandoned_queries" = true }
"#;

#[test]
fn a_caller_that_gives_up_takes_its_query_out_of_the_connection_queue() {
    // Every 400 ms a caller asks for a query of 1 s on the one connection, waits 200 ms, and
    // gives up. Its query, if still waiting for the connection, goes with it: the queue never
    // grows. The one that got the connection keeps running, as a database does when its client
    // has gone: about 1 s busy in every 1.2 s.
    let sim = run(ABANDONED, &[], 1);
    assert!(
        max(&sim, "db.queued_queries_count") <= 2.0,
        "queued {}",
        max(&sim, "db.queued_queries_count")
    );
    let cpu = mean(&sim, "db.cpu_pct", 5.0, 60.0);
    assert!(cpu > 75.0, "running queries run on: cpu {cpu}%");
    assert_eq!(sum(&sim, "success_rps"), 0.0);
    // A database that checks on its clients cancels the running one too: 200 ms in every 400.
    let cancel = run(ABANDONED, &["cancel"], 1);
    let cpu = mean(&cancel, "db.cpu_pct", 5.0, 60.0);
    assert!((40.0..60.0).contains(&cpu), "cpu {cpu}%");
}

const POD_CPU: &str = r#"
[scenario]
id = "pod-cpu"
title = "pod-cpu"
duration_s = 60

[clients.users]
target = "pod"
arrival = "uniform"
rate_rps = 20
timeout_ms = 60000

[services.pod]
workers = 1000
queue_capacity = 1000
restart_delay_s = 1000
endpoints.default.steps = [{ kind = "query", datastore = "pod-cpu", query = "work" }]

# The pod's own CPU: its processes are the queries, sharing one core.
[datastores.pod-cpu]
cores = 1
max_connections = 1000
queue_capacity = 1000
queries.work.cost = { distribution = "constant", ms = 100 }

[[timeline]]
at_s = 20
action = "crash"
target = "pod"

[fixes.processes-die-with-the-pod]
description = "The pod's processes die with it."
set = { "datastores.pod-cpu.cancel_abandoned_queries" = true }
"#;

#[test]
fn a_pod_that_is_down_uses_no_cpu_when_its_processes_die_with_it() {
    // Twice the work one core can do arrives: a backlog of running processes builds for 20 s, then
    // the pod crashes and stays down. Processes that outlive their pod keep the core busy (a
    // model error the issue found: a killed pod showing 87% CPU); processes that die with it
    // leave the core idle at once.
    let outlive = run(POD_CPU, &[], 1);
    let after = mean(&outlive, "pod-cpu.cpu_pct", 25.0, 30.0);
    assert!(
        after > 95.0,
        "the backlog runs on without its pod: {after}%"
    );
    let die = run(POD_CPU, &["processes-die-with-the-pod"], 1);
    assert!(
        mean(&die, "pod-cpu.cpu_pct", 5.0, 20.0) > 95.0,
        "busy while up"
    );
    let after = mean(&die, "pod-cpu.cpu_pct", 21.0, 60.0);
    assert_eq!(after, 0.0, "a pod that is down uses no CPU");
    assert!(
        max(&die, "pod-cpu.running_queries_count") > 100.0,
        "a backlog while up"
    );
    assert_eq!(mean(&die, "pod-cpu.running_queries_count", 21.0, 60.0), 0.0);
}

const FAILING_BACKEND: &str = r#"
[scenario]
id = "failing"
title = "failing"
duration_s = 60

[clients.users]
target = "api"
arrival = "uniform"
rate_rps = 100
timeout_ms = 1000
max_retries = 3

[services.api]
workers = 1000
queue_capacity = 1000
endpoints.default.service_time = { distribution = "constant", ms = 10 }

# The backend fails every call from 10 s to 30 s.
[[timeline]]
at_s = 10
action = "set"
set = { "services.api.endpoints.default.error_probability" = 1.0 }

[[timeline]]
at_s = 30
action = "set"
set = { "services.api.endpoints.default.error_probability" = 0.0 }

[fixes.budget]
description = "A retry budget of 10%."
set = { "clients.users.retry_budget_percent" = 10 }

[fixes.breaker]
description = "A circuit breaker over 20 attempts, open for 2 s."
set = { "clients.users.breaker_window" = 20, "clients.users.breaker_open_ms" = 2000 }
"#;

#[test]
fn a_retry_budget_holds_retries_to_a_share_of_new_requests() {
    // While the backend fails everything, each request is tried 4 times without a budget; with
    // a budget of 10 retries per 100 requests, once the saved-up 10 are spent, 1.1 times.
    let plain = run(FAILING_BACKEND, &[], 1);
    let storm = mean(&plain, "attempted_rps", 12.0, 30.0);
    assert!((390.0..=410.0).contains(&storm), "{storm} attempts/s");
    let budget = run(FAILING_BACKEND, &["budget"], 1);
    let held = mean(&budget, "attempted_rps", 12.0, 30.0);
    assert!((105.0..=115.0).contains(&held), "{held} attempts/s");
    assert!(
        mean(&budget, "success_rps", 0.0, 10.0) > 99.0,
        "fine before"
    );
    assert!(
        mean(&budget, "success_rps", 31.0, 60.0) > 99.0,
        "fine after"
    );
}

#[test]
fn a_circuit_breaker_stops_calling_a_failing_backend_and_closes_after_it_recovers() {
    // Without a breaker the failing backend gets every attempt (4 per request). With one, it
    // opens within the first window of failures and lets through one trial every 2 s: the
    // backend sees next to nothing; requests fail at once instead of after 4 tries.
    let plain = run(FAILING_BACKEND, &[], 1);
    let hammered = mean(&plain, "api.arrivals_rps", 12.0, 30.0);
    assert!(hammered > 390.0, "{hammered} calls/s without a breaker");
    let breaker = run(FAILING_BACKEND, &["breaker"], 1);
    let reaching = mean(&breaker, "api.arrivals_rps", 12.0, 30.0);
    assert!(
        reaching < 2.0,
        "{reaching} calls/s reach the failing backend"
    );
    assert_eq!(mean(&breaker, "success_rps", 12.0, 30.0), 0.0);
    // The next trial after 30 s succeeds and closes it: service is back within 2 s.
    assert!(mean(&breaker, "success_rps", 33.0, 60.0) > 99.0);
    assert!(
        mean(&breaker, "success_rps", 0.0, 10.0) > 99.0,
        "closed while all is well"
    );
}

const OVERLOADED: &str = r#"
[scenario]
id = "overloaded"
title = "overloaded"
duration_s = 60

# Twice what the server can do, from callers that wait up to 30 s and never retry.
[clients.users]
target = "api"
arrival = "uniform"
rate_rps = 100
timeout_ms = 30000

[services.api]
workers = 5
queue_capacity = 100000
endpoints.default.service_time = { distribution = "constant", ms = 100 }

[fixes.adaptive]
description = "An adaptive concurrency limit aiming at 300 ms."
set = { "services.api.adaptive_limit_target_ms" = 300 }
"#;

#[test]
fn an_adaptive_limit_sheds_the_excess_and_keeps_the_admitted_requests_fast() {
    // Without a limit the queue grows by 50 a second and every request waits longer than the
    // last: a request answered at 50 s waited about 25 s.
    let plain = run(OVERLOADED, &[], 1);
    assert!(max(&plain, "api.queue_depth_req") > 1_000.0);
    let p50 = mean(&plain, "p50_ms", 40.0, 60.0);
    assert!(p50 > 15_000.0, "p50 {p50} ms");
    // With the limit the server still does 50 a second, sheds the other 50 at once, and the
    // requests it takes are answered near the target.
    let limited = run(OVERLOADED, &["adaptive"], 1);
    let served = mean(&limited, "success_rps", 10.0, 60.0);
    assert!((45.0..=51.0).contains(&served), "{served} served/s");
    let shed = mean(&limited, "shed_rps", 10.0, 60.0);
    assert!((45.0..=55.0).contains(&shed), "{shed} shed/s");
    let p50 = mean(&limited, "p50_ms", 10.0, 60.0);
    assert!(p50 < 400.0, "p50 {p50} ms");
    // The limit starts at the static bound and falls within the first seconds.
    let queued = mean(&limited, "api.queue_depth_req", 10.0, 60.0);
    assert!(queued < 50.0, "{queued} queued");
}

#[test]
fn each_service_reports_its_own_latency_inside_the_end_to_end_one() {
    // A gateway doing 20 ms of work calls an API doing 100 ms: the API's own p50 is its 100 ms,
    // the gateway's includes the call (120 ms), and the client sees the gateway's.
    let text = r#"
[scenario]
id = "chain"
title = "chain"
duration_s = 30

[clients.users]
target = "gateway"
arrival = "uniform"
rate_rps = 10

[services.gateway]
workers = 100
endpoints.default.steps = [
  { kind = "work", time = { distribution = "constant", ms = 20 } },
  { kind = "call", target = "api" },
]

[services.api]
workers = 100
endpoints.default.service_time = { distribution = "constant", ms = 100 }
"#;
    let sim = run(text, &[], 1);
    let near = |series: &str, ms: f64| {
        let value = mean(&sim, series, 2.0, 30.0);
        assert!(
            (value - ms).abs() < ms * 0.05,
            "{series}: {value} ms, expected ~{ms}"
        );
    };
    near("api.p50_ms", 100.0);
    near("gateway.p50_ms", 120.0);
    near("p50_ms", 120.0);
}

const DEPLOY: &str = r#"
[scenario]
id = "deploy"
title = "deploy"
duration_s = 120

[clients.users]
target = "lb"
arrival = "uniform"
rate_rps = 20

[load_balancers.lb]
backends = ["old"]

# The running build fails every call.
[services.old]
instances = 2
endpoints.default.service_time = { distribution = "constant", ms = 10 }
endpoints.default.error_probability = 1.0

# The new build works, once its instances have booted (10 s).
[services.new]
instances = 0
restart_delay_s = 10
endpoints.default.service_time = { distribution = "constant", ms = 10 }
endpoints.health.steps = [{ kind = "query", datastore = "db", query = "ping", timeout_ms = 500 }]

[datastores.db]
cores = 1
queries.ping.cost = { distribution = "constant", ms = 1 }

[probes.readiness]
target = "new"
endpoint = "health"
period_ms = 2000
timeout_ms = 500
effect = "eject"

[deploys.fix]
service = "new"
replaces = "old"
balancer = "lb"
instances = 2
deadline_s = 30
retries = 1
retry_after_s = 20

[[timeline]]
at_s = 10
action = "deploy"
target = "fix"

# The database cannot answer the readiness query: a ping costs more than its 500 ms timeout.
[fixes.db-down]
description = "Readiness cannot pass."
set = { "datastores.db.queries.ping.cost.ms" = 5000 }
"#;

#[test]
fn a_deploy_goes_live_once_its_instances_pass_readiness_or_rolls_back_at_its_deadline() {
    // Readiness passes: booted at 20 s, checked within 2 s, live; the old build is gone and
    // every call succeeds from then on.
    let live = run(DEPLOY, &[], 1);
    assert_eq!(
        mean(&live, "success_rps", 0.0, 10.0),
        0.0,
        "the old build fails"
    );
    assert!(
        mean(&live, "success_rps", 25.0, 120.0) >= 19.0,
        "live by 25 s"
    );
    assert_eq!(mean(&live, "new.healthy_instances_count", 25.0, 120.0), 2.0);
    assert_eq!(mean(&live, "old.healthy_instances_count", 25.0, 120.0), 0.0);
    // Readiness never passes: the new instances come and go (10-40 s, then 60-90 s) and the
    // balancer never leaves the old build.
    let stuck = run(DEPLOY, &["db-down"], 1);
    assert_eq!(sum(&stuck, "success_rps"), 0.0, "never live");
    assert_eq!(mean(&stuck, "old.healthy_instances_count", 0.0, 120.0), 2.0);
    let new = |from: f64, to: f64| max_in(&stuck, "new.healthy_instances_count", from, to);
    assert_eq!(new(20.0, 38.0), 2.0, "first attempt boots");
    assert_eq!(new(42.0, 58.0), 0.0, "rolled back at 40 s");
    assert_eq!(new(72.0, 88.0), 2.0, "retried at 60 s");
    assert_eq!(
        new(92.0, 120.0),
        0.0,
        "rolled back at 90 s, no retries left"
    );
}

fn max_in(sim: &Simulation, series: &str, from_s: f64, to_s: f64) -> f64 {
    windows(sim, series, from_s, to_s)
        .into_iter()
        .fold(f64::MIN, f64::max)
}

#[test]
fn killing_queries_frees_the_database_at_once_and_fails_their_callers() {
    // Slow reports (2 s of CPU each) pile up on one core; at 20 s an operator kills them. The
    // quick lookups sharing the core are left alone.
    let text = r#"
[scenario]
id = "kill"
title = "kill"
duration_s = 40

[clients.reports]
target = "api"
endpoint = "report"
arrival = "uniform"
rate_rps = 1
timeout_ms = 60000

[clients.lookups]
target = "api"
endpoint = "lookup"
arrival = "uniform"
rate_rps = 10
timeout_ms = 60000

[services.api]
workers = 1000
endpoints.report.steps = [{ kind = "query", datastore = "db", query = "report" }]
endpoints.lookup.steps = [{ kind = "query", datastore = "db", query = "lookup" }]

[datastores.db]
cores = 1
queries.report.cost = { distribution = "constant", ms = 2000 }
queries.lookup.cost = { distribution = "constant", ms = 1 }

[[timeline]]
at_s = 20
action = "kill_queries"
target = "db#report"

# From then on no report is sent.
[[timeline]]
at_s = 20
action = "set"
set = { "clients.reports.rate_rps" = 0 }
"#;
    let sim = run(text, &[], 1);
    assert!(
        max(&sim, "db.running_queries_count") > 10.0,
        "reports pile up"
    );
    assert!(
        sum(&sim, "db.killed_queries_count") > 10.0,
        "they are killed"
    );
    assert!(
        mean(&sim, "db.cpu_pct", 21.0, 40.0) < 5.0,
        "the core is free at once"
    );
    assert!(sum(&sim, "error_rps") > 10.0, "their callers get errors");
    assert!(
        mean(&sim, "success_rps", 21.0, 40.0) >= 9.5,
        "lookups go on"
    );
}

#[test]
fn a_fire_and_forget_call_loads_its_target_but_never_holds_the_caller() {
    // Every request reports to a slow error tracker (2 s a report, one worker). Waiting for it,
    // requests take as long as the tracker's backlog; sending and moving on, they take their own
    // 10 ms, while the tracker still receives every report.
    let text = r#"
[scenario]
id = "forget"
title = "forget"
duration_s = 30

[clients.users]
target = "api"
arrival = "uniform"
rate_rps = 5
timeout_ms = 60000

[services.api]
workers = 1000
endpoints.default.steps = [
  { kind = "work", time = { distribution = "constant", ms = 10 } },
  { kind = "call", target = "tracker" },
]

[services.tracker]
workers = 1
queue_capacity = 100000
endpoints.default.service_time = { distribution = "constant", ms = 2000 }

[fixes.forget]
description = "Reports are sent without waiting."
set = { "services.api.endpoints.default.steps.1.wait" = false }
"#;
    let waiting = run(text, &[], 1);
    assert!(
        mean(&waiting, "p50_ms", 20.0, 30.0) > 5_000.0,
        "held by the tracker"
    );
    let forget = run(text, &["forget"], 1);
    let p50 = mean(&forget, "p50_ms", 2.0, 30.0);
    assert!((9.0..12.0).contains(&p50), "p50 {p50} ms");
    assert!(mean(&forget, "success_rps", 2.0, 30.0) >= 4.9);
    let reports = mean(&forget, "tracker.arrivals_rps", 2.0, 30.0);
    assert!(
        (4.9..=5.1).contains(&reports),
        "the tracker still gets {reports}/s"
    );
    assert!(
        max(&forget, "tracker.queue_depth_req") > 50.0,
        "and its backlog grows"
    );
}

#[test]
fn clients_behind_one_address_all_land_on_one_sticky_instance() {
    // 90 clients behind one NAT address all land on one of the four servers of a sticky
    // balancer; the same 90 with addresses of their own are spread over all four.
    let text = |groups: u32| {
        format!(
            r#"
[scenario]
id = "nat"
title = "nat"
duration_s = 30

[clients.office]
kind = "connections"
target = "lb"
population = 90
connect_spread_s = 5
sticky_groups = {groups}

[load_balancers.lb]
backends = ["echo"]
sticky = true

[services.echo]
instances = 4
endpoints.connect.service_time = {{ distribution = "constant", ms = 1 }}
endpoints.default.service_time = {{ distribution = "constant", ms = 1 }}
"#
        )
    };
    let count = |sim: &Simulation| -> f64 {
        // Connections end up where the hash sends them: with one address, all on one instance
        // (the service's total is 90 either way; the busiest instance is what differs).
        sim.metrics()
            .series("office.connected_count")
            .unwrap()
            .last()
            .copied()
            .unwrap()
    };
    let one_address = run(&text(1), &[], 1);
    let own_addresses = run(&text(0), &[], 1);
    assert_eq!(count(&one_address), 90.0);
    assert_eq!(count(&own_addresses), 90.0);
    let per_instance = |sim: &Simulation| -> Vec<u32> {
        (0..4)
            .map(|i| sim.instance_connections("echo", i))
            .collect()
    };
    let nat = per_instance(&one_address);
    assert_eq!(nat.iter().filter(|&&c| c > 0).count(), 1, "{nat:?}");
    let spread = per_instance(&own_addresses);
    assert!(spread.iter().all(|&c| c > 5), "{spread:?}");
}

#[test]
fn start_brings_back_a_dead_server_and_leaves_a_running_one_alone() {
    // api#0 crashes at 10 s and stays down (no auto restart). At 20 s an operator starts the
    // service: #0 boots (5 s) and #1, which never went down, keeps serving. A restart instead
    // would have taken #1 down too.
    let text = |action: &str| {
        format!(
            r#"
[scenario]
id = "start"
title = "start"
duration_s = 40

[clients.users]
target = "api"
rate_rps = 100
timeout_ms = 1000

[services.api]
instances = 2
workers = 10
auto_restart = false
restart_delay_s = 5
endpoints.default.service_time = {{ distribution = "constant", ms = 10 }}

[[timeline]]
at_s = 10
action = "crash"
target = "api#0"

[[timeline]]
at_s = 20
action = "{action}"
target = "api"
"#
        )
    };
    let start = run(&text("start"), &[], 1);
    let healthy =
        |sim: &Simulation, from_s, to_s| windows(sim, "api.healthy_instances_count", from_s, to_s);
    assert!(healthy(&start, 11.0, 24.0).iter().all(|&h| h == 1.0));
    assert!(healthy(&start, 26.0, 40.0).iter().all(|&h| h == 2.0));
    let restarts: f64 = windows(&start, "api.restarts_count", 0.0, 40.0)
        .iter()
        .sum();
    assert_eq!(restarts, 1.0, "only the crash: the start took nothing down");
    // #1 keeps serving its share (requests sent to the dead #0 fail until it is back).
    let before = mean(&start, "success_rps", 12.0, 19.0);
    assert!(before > 40.0);
    assert!((mean(&start, "success_rps", 20.0, 25.0) - before).abs() < 10.0);

    let restart = run(&text("restart"), &[], 1);
    assert!(healthy(&restart, 21.0, 24.0).iter().all(|&h| h == 0.0));
    assert!(mean(&restart, "success_rps", 21.0, 24.0) < 1.0);
}

#[test]
fn a_balancer_sends_nothing_to_a_crashed_instance_while_clients_of_a_name_keep_trying_it() {
    // api#0 crashes at 10 s and is back at 20 s. Behind a load balancer, the survivor takes all of
    // the traffic (it has room for it) and nothing fails; clients that address the service by
    // name take turns over its instances, as with DNS round robin, so half of their requests go
    // to the dead instance and are refused.
    let text = |target: &str| {
        format!(
            r#"
[scenario]
id = "lb-skip"
title = "lb skip"
duration_s = 30

[clients.users]
target = "{target}"
rate_rps = 100
timeout_ms = 1000

[load_balancers.lb]
backends = ["api"]

[services.api]
instances = 2
workers = 10
auto_restart = true
restart_delay_s = 10
endpoints.default.service_time = {{ distribution = "constant", ms = 10 }}

[[timeline]]
at_s = 10
action = "crash"
target = "api#0"
"#
        )
    };
    let balanced = run(&text("lb"), &[], 1);
    let offered = mean(&balanced, "offered_rps", 11.0, 19.0);
    assert!(offered > 80.0, "{offered}");
    assert_eq!(mean(&balanced, "error_rps", 11.0, 19.0), 0.0);
    assert!(mean(&balanced, "success_rps", 11.0, 19.0) > offered - 2.0);
    let by_name = run(&text("api"), &[], 1);
    let refused = mean(&by_name, "error_rps", 11.0, 19.0);
    assert!((35.0..65.0).contains(&refused), "{refused}");
    // Over the whole run the balanced clients lose at most what was in flight on api#0 when it
    // crashed (half a request on average).
    let lost: f64 = windows(&balanced, "error_rps", 0.0, 30.0).iter().sum();
    assert!(lost <= 2.0, "{lost}");
}

#[test]
fn a_user_offline_for_long_enough_stops_reconnecting() {
    // The server is stopped from the start and started at 15 s. Users who give up after 5 s
    // without a connection have stopped trying by then and never come back; users who never give
    // up reconnect every second and are all connected soon after the start.
    let text = |give_up_s: u32| {
        format!(
            r#"
[scenario]
id = "give-up"
title = "give up"
duration_s = 30

[clients.users]
kind = "connections"
target = "echo"
population = 10
connect_spread_s = 1
backoff = "constant"
backoff_base_ms = 1000
timeout_ms = 500
give_up_after_s = {give_up_s}

[services.echo]
auto_restart = false
restart_delay_s = 1
endpoints.connect.service_time = {{ distribution = "constant", ms = 1 }}
endpoints.default.service_time = {{ distribution = "constant", ms = 1 }}

[[timeline]]
at_s = 0
action = "stop"
target = "echo"

[[timeline]]
at_s = 15
action = "start"
target = "echo"
"#
        )
    };
    let patient = run(&text(0), &[], 1);
    assert!(mean(&patient, "offered_rps", 8.0, 15.0) > 5.0);
    assert_eq!(
        windows(&patient, "users.connected_count", 29.0, 30.0),
        vec![10.0]
    );

    let impatient = run(&text(5), &[], 1);
    assert!(
        mean(&impatient, "offered_rps", 2.0, 4.0) > 5.0,
        "they try at first"
    );
    assert_eq!(mean(&impatient, "offered_rps", 8.0, 30.0), 0.0);
    assert_eq!(
        windows(&impatient, "users.connected_count", 29.0, 30.0),
        vec![0.0]
    );
}

#[test]
fn a_live_change_that_removes_an_instance_stops_the_run_at_a_limit_its_crash_passes() {
    // Two front workers wait on the two back instances; ~500 requests queue at the front.
    // Removing back#1 fails its caller, which frees a front worker: the next queued request
    // starts, sends three fire-and-forget log calls, is refused by the full back, fails, frees
    // the worker again... all inside the removal. Each turn leaves two more jobs, so the
    // removal itself passes a bound of 1,000 jobs, and the run must stop there (the error used
    // to be dropped, and the run stopped only at a later event).
    let scenario = Scenario::parse(
        "shrink.toml",
        r#"
[scenario]
id = "shrink"
title = "shrink"
duration_s = 10

[clients.users]
target = "front"
arrival = "uniform"
rate_rps = 100
timeout_ms = 60000

# Middleware runs before the endpoint's own work, so a failed call fails the job at once.
[services.front]
workers = 2
queue_capacity = 10000
middleware = [
  { kind = "call", target = "logs", wait = false },
  { kind = "call", target = "logs", wait = false },
  { kind = "call", target = "logs", wait = false },
  { kind = "call", target = "back" },
]
endpoints.default.middleware = true

[services.back]
instances = 2
workers = 1
queue_capacity = 1
queue_counts_in_flight = true   # the busy worker fills it: later calls are refused
endpoints.default.service_time = { distribution = "constant", ms = 60000 }

[services.logs]
workers = 100000
queue_capacity = 100000
endpoints.default.service_time = { distribution = "constant", ms = 60000 }

[[timeline]]
at_s = 5.005   # between two arrivals (every 10 ms)
action = "set"
set = { "services.back.instances" = 1 }
"#,
    )
    .unwrap();
    let variant = scenario.variant(&[], &[]).unwrap();
    let limits = cascade::Limits {
        live_jobs: 1_000,
        ..Default::default()
    };
    let mut sim = Simulation::with_limits(&variant, 1, limits);
    let err = sim.run_to_end().unwrap_err().to_string();
    assert!(
        err.contains("more than 1000 requests inside services at 5.005 s"),
        "{err}"
    );
    // Without the bound the same run ends normally.
    assert!(Simulation::new(&variant, 1).run_to_end().is_ok());
}

#[test]
fn a_run_stops_at_the_limits_its_host_sets() {
    // 200 requests/s into 4 workers of 100 ms with a 2 s timeout: about 400 requests wait at
    // once. A host allowing 100 requests in flight stops the run with an error naming the bound;
    // the default bounds let it finish.
    let scenario = Scenario::parse(
        "limits.toml",
        r#"
[scenario]
id = "limits"
title = "limits"
duration_s = 10

[clients.users]
target = "api"
rate_rps = 200
timeout_ms = 2000

[services.api]
workers = 4
queue_capacity = 10000
endpoints.default.service_time = { distribution = "constant", ms = 100 }
"#,
    )
    .unwrap();
    let variant = scenario.variant(&[], &[]).unwrap();
    let limits = cascade::Limits {
        live_requests: 100,
        ..Default::default()
    };
    let mut tight = Simulation::with_limits(&variant, 1, limits);
    let err = tight.run_to_end().unwrap_err().to_string();
    assert!(err.contains("more than 100 requests in flight"), "{err}");
    assert!(
        tight.now_us() < 2_000_000,
        "stopped as soon as it passed the bound"
    );
    let jobs = cascade::Limits {
        live_jobs: 50,
        ..Default::default()
    };
    let err = Simulation::with_limits(&variant, 1, jobs)
        .run_to_end()
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("more than 50 requests inside services"),
        "{err}"
    );
    let events = cascade::Limits {
        events: 1_000,
        ..Default::default()
    };
    let mut short = Simulation::with_limits(&variant, 1, events);
    let err = short.run_to_end().unwrap_err().to_string();
    assert!(err.contains("more than 1000 events processed"), "{err}");
    assert_eq!(short.events(), 1_001, "stopped at the bound");
    assert!(Simulation::new(&variant, 1).run_to_end().is_ok());
}

/// A service's `failed_rps` is what its callers felt: requests it refused or answered with an
/// error, its own or passed on from a failing callee, while a healthy service fails none.
#[test]
fn a_service_counts_the_requests_it_fails_including_a_callees_failures() {
    let text = r#"
[scenario]
id = "failures"
title = "failures"
duration_s = 30

[clients.users]
target = "front"
rate_rps = 50
timeout_ms = 5000

[services.front]
instances = 1
workers = 100
endpoints.default.service_time = { distribution = "constant", ms = 2 }
endpoints.default.steps = [{ kind = "call", target = "back" }]

[services.back]
instances = 1
workers = 100
endpoints.default.service_time = { distribution = "constant", ms = 5 }

[[timeline]]
at_s = 10
action = "set"
set = { "services.back.endpoints.default.error_probability" = 1.0 }
"#;
    let sim = run(text, &[], 1);
    for name in ["front", "back"] {
        let before = mean(&sim, &format!("{name}.failed_rps"), 1.0, 10.0);
        assert_eq!(before, 0.0, "{name} failed {before}/s while healthy");
        let after = mean(&sim, &format!("{name}.failed_rps"), 11.0, 30.0);
        let asked = mean(&sim, &format!("{name}.arrivals_rps"), 11.0, 30.0);
        assert!(
            after > 40.0 && (after - asked).abs() < 0.05 * asked,
            "{name}: {after} of {asked}/s failed once back errs"
        );
    }
}

#[test]
fn a_machine_switched_off_answers_nothing_so_callers_by_name_wait_out_their_time_out() {
    // A gateway calls an API by name (in turn over its two instances, up or not) with a 5 s
    // time-out, and holds 1 MB per request. api#0 is stopped at 10 s. A process that is down on
    // a running host refuses at once: half of the calls fail straight away and the gateway holds
    // little. A machine that is switched off says nothing: those calls fail only after 5 s, and
    // meanwhile the gateway holds every one of them.
    let text = |silent: bool| {
        format!(
            r#"
[scenario]
id = "silent"
title = "silent"
duration_s = 30

[clients.users]
target = "gateway"
arrival = "uniform"
rate_rps = 100
timeout_ms = 60000

[services.gateway]
workers = 10000
queue_capacity = 10000
endpoints.default.memory_mb = 1
endpoints.default.steps = [{{ kind = "call", target = "api", timeout_ms = 5000 }}]

[services.api]
instances = 2
workers = 100
silent_when_down = {silent}
endpoints.default.service_time = {{ distribution = "constant", ms = 10 }}

[[timeline]]
at_s = 10
action = "stop"
target = "api#0"
"#
        )
    };
    let refused = run(&text(false), &[], 1);
    let errors = mean(&refused, "error_rps", 11.0, 15.0);
    assert!(
        (40.0..60.0).contains(&errors),
        "refused at once: {errors}/s"
    );
    assert!(max_in(&refused, "gateway.memory_mb", 11.0, 30.0) < 10.0);
    let silent = run(&text(true), &[], 1);
    assert_eq!(
        mean(&silent, "error_rps", 11.0, 15.0),
        0.0,
        "nothing fails for 5 s"
    );
    let errors = mean(&silent, "error_rps", 16.0, 30.0);
    assert!(
        (40.0..60.0).contains(&errors),
        "then the time-outs: {errors}/s"
    );
    // About 50 calls a second wait 5 s each: some 250 requests held at 1 MB.
    let held = max_in(&silent, "gateway.memory_mb", 16.0, 30.0);
    assert!((220.0..280.0).contains(&held), "{held} MB");
    // Nothing reaches the machine that is off.
    let arrivals = mean(&silent, "api.arrivals_rps", 11.0, 30.0);
    assert!((45.0..55.0).contains(&arrivals), "{arrivals}/s");
}

#[test]
fn a_pending_call_holds_memory_in_the_caller_until_its_answer() {
    // Ten requests a second; each waits 400 ms for the API while holding 2 MB for the pending
    // call, then works 400 ms more. About four calls are pending at any moment (8 MB); the four
    // requests working after their answer hold none of it. A call nobody waits for holds nothing.
    let text = r#"
[scenario]
id = "pending"
title = "pending"
duration_s = 30

[clients.users]
target = "gateway"
arrival = "uniform"
rate_rps = 10
timeout_ms = 60000

[services.gateway]
workers = 1000
endpoints.default.steps = [
  { kind = "call", target = "api", memory_mb = 2 },
  { kind = "work", time = { distribution = "constant", ms = 400 } },
]

[services.api]
workers = 100
endpoints.default.service_time = { distribution = "constant", ms = 400 }

[fixes.forget]
description = "The call is not waited for."
set = { "services.gateway.endpoints.default.steps.0.wait" = false }
"#;
    let waiting = run(text, &[], 1);
    let held = mean(&waiting, "gateway.memory_mb", 5.0, 30.0);
    assert!((7.0..=10.0).contains(&held), "{held} MB");
    let forget = run(text, &["forget"], 1);
    assert_eq!(max(&forget, "gateway.memory_mb"), 0.0);
}
