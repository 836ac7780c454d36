//! Every bundled scenario parses, and every expectation it states holds for every seed it names.

use cascade::check;
use cascade::scenario::{self, Scenario};

fn all() -> Vec<Scenario> {
    scenario::bundled()
        .iter()
        .map(|b| Scenario::parse(b.file_name, b.source).unwrap_or_else(|e| panic!("{e}")))
        .collect()
}

#[test]
fn every_bundled_scenario_is_named_after_its_id() {
    let bundled = scenario::bundled();
    assert!(!bundled.is_empty(), "scenarios/ holds no .toml file");
    for (b, s) in bundled.iter().zip(all()) {
        assert_eq!(b.file_name, format!("{}.toml", s.id()));
    }
}

#[test]
fn every_expectation_of_every_scenario_holds() {
    let mut failures = Vec::new();
    for scenario in all() {
        for result in check::run_all(&scenario).expect("expectations run") {
            if !result.passed() {
                failures.push(format!(
                    "{} :: {} — {}: {:?}\n  reproduce: cargo run --release -- check {}",
                    scenario.id(),
                    result.name,
                    result.requirement,
                    result.seeds,
                    scenario.id()
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "failed expectations:\n{}",
        failures.join("\n")
    );
}

#[test]
fn every_fix_changes_the_run() {
    for scenario in all() {
        let base = scenario.variant(&[], &[]).unwrap();
        let mut plain = cascade::Simulation::new(&base, 1);
        plain.run_to_end().unwrap();
        for fix in scenario.file.fixes.keys() {
            let variant = scenario.variant(std::slice::from_ref(fix), &[]).unwrap();
            let mut fixed = cascade::Simulation::new(&variant, 1);
            fixed.run_to_end().unwrap();
            assert_ne!(
                plain.trace_hash(),
                fixed.trace_hash(),
                "{}: fix `{fix}` changes nothing",
                scenario.id()
            );
        }
    }
}

#[test]
fn retry_storm_collapses_after_the_trigger_and_jitter_recovers() {
    let scenario = scenario::find_bundled("retry-storm").unwrap().unwrap();
    let run = |fixes: &[String], seed| {
        let variant = scenario.variant(fixes, &[]).unwrap();
        let mut sim = cascade::Simulation::new(&variant, seed);
        sim.run_to_end().unwrap();
        let success = sim.metrics().series("success_rps").unwrap().to_vec();
        success[40..60].iter().sum::<f64>() / 20.0
    };
    for seed in 1..=5 {
        assert!(
            run(&[], seed) < 5.0,
            "seed {seed}: the storm should persist to the end"
        );
        assert!(
            run(&["jitter".to_string()], seed) > 60.0,
            "seed {seed}: jitter should recover"
        );
    }
}

#[test]
fn the_precompiled_form_of_every_scenario_is_the_scenario() {
    for scenario in all() {
        let bytes = scenario.precompile();
        // What a gallery lists is read without the rest.
        assert_eq!(
            Scenario::precompiled_meta(&bytes).unwrap(),
            scenario.file.scenario
        );
        // ... and in its own small form, the story cut to the first sentence a card shows.
        let meta = Scenario::precompiled_meta(&scenario.precompile_meta()).unwrap();
        let summary = &scenario.file.scenario.summary;
        assert_eq!(meta.summary, cascade::scenario::first_sentence(summary));
        assert!(meta.summary.len() < summary.len() && summary.starts_with(&meta.summary));
        assert_eq!(
            cascade::scenario::Meta {
                summary: summary.clone(),
                ..meta
            },
            scenario.file.scenario
        );
        let read = Scenario::from_precompiled("x.bin", &bytes).unwrap_or_else(|e| panic!("{e}"));
        // Everything but the expectations, which only native checks run.
        let mut expected = scenario.file.clone();
        expected.expectations.clear();
        assert_eq!(read.file, expected, "{}", scenario.id());
        // Fixes patch the precompiled form exactly as they patch the parsed one.
        for fix in scenario.file.fixes.keys() {
            let fixes = std::slice::from_ref(fix);
            let mut expected = scenario.variant(fixes, &[]).unwrap();
            expected.file.expectations.clear();
            let read = read.with_fixes(fixes).unwrap();
            assert_eq!(read.file, expected.file, "{} with {fix}", scenario.id());
        }
        // Damaged bytes give an error, never a panic or a different scenario.
        for cut in [1, bytes.len() / 2, bytes.len() - 1] {
            assert!(Scenario::from_precompiled("x.bin", &bytes[..cut]).is_err());
        }
    }
}

/// Showmax's lesson: once the middleware was fixed and 500s were no longer cached, "the platform
/// would work", and the user id in Varnish's cache key would have stayed hidden. The team's first
/// fix went live at T0 + 30 min (timeline 0, the health middleware); `no-cache-5xx` applied at the
/// same moment leaves only the 500s cached before it, which expire 30 min later (the documented run
/// keeps caching them until the APIs return, and serves them until T0 + 75 min). From then on every
/// request succeeds, with Varnish's hit ratio still low from the per-user key.
#[test]
fn showmax_works_after_the_two_fixes_and_the_cache_key_stays_hidden() {
    let scenario = scenario::find_bundled("showmax-2019-10-health-check-cache")
        .unwrap()
        .unwrap();
    let variant = scenario.variant(&[], &[]).unwrap();
    let fix_at_s = scenario.file.timeline[0].at_s;
    let mean = |sim: &cascade::Simulation, name: &str, from_s: f64| {
        let m = sim.metrics();
        let (t, v) = (m.series("t_s").unwrap(), m.series(name).unwrap());
        let picked: Vec<f64> = (0..t.len())
            .filter(|&i| t[i] > from_s)
            .map(|i| v[i])
            .collect();
        picked.iter().sum::<f64>() / picked.len() as f64
    };
    let last_error_s = |sim: &cascade::Simulation| {
        let m = sim.metrics();
        let (t, e) = (m.series("t_s").unwrap(), m.series("error_rps").unwrap());
        (0..t.len())
            .filter(|&i| e[i] > 0.0)
            .map(|i| t[i])
            .fold(0.0, f64::max)
    };
    for seed in 1..=3 {
        let mut documented = cascade::Simulation::new(&variant, seed);
        documented.run_to_end().unwrap();
        let mut fixed = cascade::Simulation::new(&variant, seed);
        fixed.run_until(cascade::time::s_to_us(fix_at_s)).unwrap();
        fixed.apply_fix_now(&scenario, "no-cache-5xx").unwrap();
        fixed.run_to_end().unwrap();

        let (before, after) = (last_error_s(&documented), last_error_s(&fixed));
        assert!(
            before >= 6_000.0,
            "seed {seed}: documented errors end at {before} s"
        );
        assert!(
            after <= fix_at_s + 1_800.0 + 10.0,
            "seed {seed}: with the fix errors end at {after} s"
        );
        let from_s = after + 10.0;
        let (offered, success) = (
            mean(&fixed, "offered_rps", from_s),
            mean(&fixed, "success_rps", from_s),
        );
        assert!(
            success >= 0.98 * offered,
            "seed {seed}: {success} of {offered}/s succeed"
        );
        let hits = mean(&fixed, "varnish.hit_ratio", from_s);
        assert!(
            (0.15..=0.35).contains(&hits),
            "seed {seed}: hit ratio {hits}"
        );
    }
}
