//! "Apply now": every fix of every bundled scenario can be applied mid-run, a fix that moves an
//! operator action changes only what has not happened yet, and a forked replay is the run the CLI
//! gives for `--fix-at NAME@T`.

use cascade::Replay;
use cascade::scenario::{self, Scenario};
use cascade::sim::Simulation;
use cascade::time::s_to_us;
use std::process::Command;

fn bundled(id: &str) -> Scenario {
    scenario::find_bundled(id).unwrap().unwrap()
}

/// The moments of a run at which the test applies fixes: a quarter, half and three quarters in.
fn three_moments(sim: &Simulation) -> [u64; 3] {
    let end = sim.end_us();
    [end / 4, end / 2, end * 3 / 4]
}

#[test]
fn every_fix_of_every_scenario_applies_now_at_three_moments() {
    let mut failures = Vec::new();
    for bundle in scenario::bundled() {
        let scenario = Scenario::parse(bundle.file_name, bundle.source).unwrap();
        let variant = scenario.variant(&[], &[]).unwrap();
        let mut sim = Simulation::new(&variant, variant.file.scenario.seed);
        for at_us in three_moments(&sim) {
            sim.run_until(at_us).unwrap();
            for fix in scenario.file.fixes.keys() {
                let mut fork = sim.clone();
                if let Err(err) = fork.apply_fix_now(&scenario, fix) {
                    failures.push(format!("{} {fix} at {at_us} µs: {err}", scenario.id()));
                    continue;
                }
                // The fork keeps running (a minute of virtual time) with the fix in force.
                if let Err(err) = fork.run_until(at_us + s_to_us(60.0)) {
                    failures.push(format!("{} {fix} after {at_us} µs: {err}", scenario.id()));
                }
            }
        }
    }
    assert!(failures.is_empty(), "refused:\n{}", failures.join("\n"));
}

/// Svix's `single-flight` fix also moves the operators' manual stop (timeline 2, at 2,535 s) to
/// the end of the run, because with the fix there is no incident to stop. Applied before the
/// stop, the stop no longer happens then; applied after it, the stop stays done.
/// Svix's timeline entry for the operators' manual stop.
const STOP: usize = 2;

#[test]
fn a_fix_that_moves_an_operator_action_changes_only_what_has_not_happened() {
    let scenario = bundled("svix-2023-06-auth-token-stampede");
    let variant = scenario.variant(&[], &[]).unwrap();
    let stop_at_s = variant.file.timeline[STOP].at_s;
    assert_eq!(variant.file.timeline[STOP].action, scenario::Action::Stop);

    let mut before_stop = Simulation::new(&variant, 1);
    before_stop.run_until(s_to_us(stop_at_s - 300.0)).unwrap();
    let mut untouched = before_stop.clone();
    before_stop
        .apply_fix_now(&scenario, "single-flight")
        .unwrap();
    let moved_to = before_stop.scenario().timeline[STOP].at_s;
    assert!(moved_to > stop_at_s, "the stop is moved later: {moved_to}");
    before_stop.run_until(s_to_us(stop_at_s + 20.0)).unwrap();
    untouched.run_until(s_to_us(stop_at_s + 20.0)).unwrap();
    let healthy = |sim: &Simulation| {
        *sim.metrics()
            .series("api.healthy_instances_count")
            .unwrap()
            .last()
            .unwrap()
    };
    assert_eq!(
        healthy(&untouched),
        0.0,
        "as it happened, every API instance is stopped"
    );
    assert!(
        healthy(&before_stop) > 0.0,
        "with the fix in force before the stop, nobody stops the API"
    );

    let mut after_stop = Simulation::new(&variant, 1);
    after_stop.run_until(s_to_us(stop_at_s + 30.0)).unwrap();
    after_stop
        .apply_fix_now(&scenario, "single-flight")
        .unwrap();
    assert_eq!(
        after_stop.scenario().timeline[STOP].at_s,
        stop_at_s,
        "the stop has happened and stays in the record"
    );
    after_stop.run_to_end().unwrap();
}

/// A replay forked by "Apply now" (and sought around) is the run a straight simulation with the
/// fix applied at that moment gives, and the CLI's `--fix-at` prints the same CSV.
#[test]
fn a_forked_replay_is_the_run_of_fix_at() {
    let scenario = bundled("svix-2023-06-auth-token-stampede");
    let variant = scenario.variant(&[], &[]).unwrap();
    let seed = variant.file.scenario.seed;
    let at_us = s_to_us(1_200.0);

    let mut replay = Replay::new(&variant, seed, s_to_us(60.0));
    replay.seek(s_to_us(1_800.0)).unwrap();
    replay.seek(at_us).unwrap();
    replay.apply_fix_now(&scenario, "single-flight").unwrap();
    replay.seek(replay.sim().end_us()).unwrap();
    replay.seek(s_to_us(300.0)).unwrap();
    replay.seek(replay.sim().end_us()).unwrap();

    let mut straight = Simulation::new(&variant, seed);
    straight.run_until(at_us).unwrap();
    straight.apply_fix_now(&scenario, "single-flight").unwrap();
    straight.run_to_end().unwrap();
    assert_eq!(replay.sim().trace_hash(), straight.trace_hash());
    let csv = straight.metrics().to_csv();
    assert_eq!(replay.sim().metrics().to_csv(), csv);

    let output = Command::new(env!("CARGO_BIN_EXE_cascade"))
        .args([
            "run",
            "svix-2023-06-auth-token-stampede",
            "--fix-at",
            "single-flight@20m",
            "--format",
            "csv",
        ])
        .output()
        .unwrap();
    assert!(output.status.success());
    assert_eq!(String::from_utf8(output.stdout).unwrap(), csv);
}
