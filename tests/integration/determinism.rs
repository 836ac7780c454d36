//! The same scenario, fixes and seed give the same trace hash; another seed gives another.

use cascade::Simulation;
use cascade::scenario::{self, Scenario};

#[test]
fn same_seed_same_trace_for_every_scenario() {
    for b in scenario::bundled() {
        let scenario = Scenario::parse(b.file_name, b.source).unwrap();
        let variant = scenario.variant(&[], &[]).unwrap();
        let run = |seed| {
            let mut sim = Simulation::new(&variant, seed);
            sim.run_to_end().unwrap();
            // Every request of a whole bundled run ended once or is in flight.
            sim.check_ledger()
                .unwrap_or_else(|e| panic!("{} seed {seed}: {e}", scenario.id()));
            (sim.trace_hash(), sim.events(), sim.totals())
        };
        assert_eq!(
            run(7),
            run(7),
            "{}: two runs with seed 7 differ",
            scenario.id()
        );
        assert_ne!(
            run(7).0,
            run(8).0,
            "{}: seeds 7 and 8 give the same trace",
            scenario.id()
        );
    }
}

#[test]
fn running_in_slices_equals_running_at_once() {
    let scenario = scenario::find_bundled("retry-storm").unwrap().unwrap();
    let variant = scenario.variant(&[], &[]).unwrap();
    let mut whole = Simulation::new(&variant, 3);
    whole.run_to_end().unwrap();
    let mut sliced = Simulation::new(&variant, 3);
    let mut t = 0;
    while !sliced.finished() {
        t += 123_457;
        sliced.run_until(t).unwrap();
    }
    assert_eq!(whole.trace_hash(), sliced.trace_hash());
    assert_eq!(
        whole.metrics().series("success_rps"),
        sliced.metrics().series("success_rps")
    );
}

#[test]
fn a_cloned_checkpoint_continues_identically() {
    let scenario = scenario::find_bundled("retry-storm").unwrap().unwrap();
    let variant = scenario.variant(&[], &[]).unwrap();
    let mut sim = Simulation::new(&variant, 5);
    sim.run_until(20_000_000).unwrap();
    let mut checkpoint = sim.clone();
    sim.run_to_end().unwrap();
    checkpoint.run_to_end().unwrap();
    assert_eq!(sim.trace_hash(), checkpoint.trace_hash());
}

/// Pins the trace of one run, so that an accidental change of behaviour (or of the generator, or
/// of event order) is noticed. The browser test checks that wasm produces this same hash.
#[test]
fn retry_storm_seed_1_trace_is_pinned() {
    let scenario = scenario::find_bundled("retry-storm").unwrap().unwrap();
    let variant = scenario.variant(&[], &[]).unwrap();
    let mut sim = Simulation::new(&variant, 1);
    sim.run_to_end().unwrap();
    assert_eq!(sim.trace_hash().hex(), PINNED_RETRY_STORM_SEED_1);
}

/// Trace hash of `cascade run retry-storm --seed 1`.
pub const PINNED_RETRY_STORM_SEED_1: &str = "c29a327886d4919d";

/// The heaviest replay (Showmax: a Varnish holding hundreds of thousands of per-user entries)
/// keeps its checkpoints within their byte budget over the whole run, with every fix on.
#[test]
fn checkpoints_of_the_heaviest_replay_stay_within_budget() {
    let scenario = scenario::find_bundled("showmax-2019-10-health-check-cache")
        .unwrap()
        .unwrap();
    let fixes: Vec<String> = scenario.file.fixes.keys().cloned().collect();
    for variant in [
        scenario.variant(&[], &[]).unwrap(),
        scenario.variant(&fixes, &[]).unwrap(),
    ] {
        let mut replay = cascade::Replay::new(&variant, 1, cascade::time::s_to_us(10.0));
        replay.seek(replay.sim().end_us()).unwrap();
        let state = replay.sim().state_bytes();
        assert!(
            replay.checkpoint_bytes() <= cascade::replay::CHECKPOINT_BUDGET_BYTES + state,
            "{} checkpoints hold {} MB",
            replay.checkpoints(),
            replay.checkpoint_bytes() >> 20
        );
        assert!(replay.checkpoints() >= 2);
    }
}
