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

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    #[test]
    fn every_request_ends_once_or_is_in_flight(shape in shapes(), seed in 0u64..1_000) {
        let text = scenario_text(&shape);
        let scenario = Scenario::parse("random.toml", &text).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let variant = scenario.variant(&[], &[]).unwrap();
        let mut sim = Simulation::new(&variant, seed);
        sim.run_to_end().unwrap();
        let t = sim.totals();
        prop_assert_eq!(t.total, t.success + t.error + t.timeout + t.shed + t.in_flight, "seed {}:\n{}", seed, text);

        // The windows add up to the totals of ended requests.
        let m = sim.metrics();
        let sum = |name: &str| m.series(name).unwrap().iter().sum::<f64>().round() as u64;
        prop_assert_eq!(sum("offered_rps"), t.total);
        prop_assert_eq!(sum("success_rps") + sum("error_rps") + sum("timeout_rps") + sum("shed_rps"), t.total - t.in_flight);
        prop_assert_eq!(m.len(), 20, "one window per second");

        // Determinism: the same seed again gives the same trace.
        let mut again = Simulation::new(&variant, seed);
        again.run_to_end().unwrap();
        prop_assert_eq!(sim.trace_hash(), again.trace_hash());
    }
}
