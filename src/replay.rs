//! A replay: a run with checkpoints every so often, so that seeking backwards restores the
//! nearest earlier checkpoint and runs forward from it instead of re-running from zero.
//!
//! Checkpoints keep no series of their own (see [`Simulation::checkpoint`]); at most
//! [`MAX_CHECKPOINTS`] are kept, spread evenly over the run.

use crate::scenario::{Scenario, Variant};
use crate::sim::{SimError, Simulation};
use crate::time::TimeUs;

/// The most checkpoints one replay keeps.
pub const MAX_CHECKPOINTS: usize = 64;

/// A run that can seek to any moment, forwards or backwards.
#[derive(Clone)]
pub struct Replay {
    sim: Simulation,
    interval_us: TimeUs,
    /// Checkpoints at 0, interval, 2 × interval, … up to the furthest point reached.
    checkpoints: Vec<Simulation>,
}

impl Replay {
    /// A replay of `variant` with `seed`, checkpointing every `interval_us` (made coarser if the
    /// run would need more than [`MAX_CHECKPOINTS`]).
    pub fn new(variant: &Variant, seed: u64, interval_us: TimeUs) -> Replay {
        let mut sim = Simulation::new(variant, seed);
        let floor = sim.end_us().div_ceil(MAX_CHECKPOINTS as u64).max(1);
        let interval_us = interval_us.max(floor);
        let first = sim.checkpoint();
        Replay {
            sim,
            interval_us,
            checkpoints: vec![first],
        }
    }

    /// The run at its current moment.
    pub fn sim(&self) -> &Simulation {
        &self.sim
    }

    /// Virtual time now, µs.
    pub fn now_us(&self) -> TimeUs {
        self.sim.now_us()
    }

    /// Time between checkpoints, µs.
    pub fn interval_us(&self) -> TimeUs {
        self.interval_us
    }

    /// Number of checkpoints kept.
    pub fn checkpoints(&self) -> usize {
        self.checkpoints.len()
    }

    /// Moves to `t_us` (clamped to the run): forwards by running, backwards by restoring the
    /// latest checkpoint at or before `t_us` and running from there. Returns events processed.
    pub fn seek(&mut self, t_us: TimeUs) -> Result<u64, SimError> {
        let t_us = t_us.min(self.sim.end_us());
        if t_us < self.sim.now_us() {
            let index = ((t_us / self.interval_us) as usize).min(self.checkpoints.len() - 1);
            let checkpoint = self.checkpoints[index].clone();
            self.sim.restore(&checkpoint);
        }
        self.run_to(t_us)
    }

    /// Runs forward to `t_us`, taking checkpoints on the way.
    fn run_to(&mut self, t_us: TimeUs) -> Result<u64, SimError> {
        let mut events = 0;
        loop {
            let next_checkpoint = self.checkpoints.len() as u64 * self.interval_us;
            if next_checkpoint > t_us || next_checkpoint > self.sim.end_us() {
                break;
            }
            events += self.sim.run_until(next_checkpoint)?;
            let checkpoint = self.sim.checkpoint();
            self.checkpoints.push(checkpoint);
        }
        events += self.sim.run_until(t_us)?;
        Ok(events)
    }

    /// Runs forward towards `t_us`, processing at most about `max_events` events (checkpoints are
    /// taken on the way); returns whether it reached `t_us`. Never goes backwards.
    pub fn advance(&mut self, t_us: TimeUs, max_events: u64) -> Result<bool, SimError> {
        let t_us = t_us.min(self.sim.end_us());
        let start = self.sim.events();
        loop {
            let next_checkpoint = self.checkpoints.len() as u64 * self.interval_us;
            let checkpoint_due = next_checkpoint <= t_us && next_checkpoint <= self.sim.end_us();
            let target = if checkpoint_due {
                next_checkpoint
            } else {
                t_us
            };
            let budget = max_events.saturating_sub(self.sim.events() - start);
            if !self.sim.run_until_budget(target, budget)? {
                return Ok(false);
            }
            if !checkpoint_due {
                return Ok(true);
            }
            let checkpoint = self.sim.checkpoint();
            self.checkpoints.push(checkpoint);
        }
    }

    /// Applies a fix of `scenario` from the current moment on ("what if we had shipped it now?").
    /// Checkpoints after now no longer describe this run and are dropped.
    pub fn apply_fix_now(&mut self, scenario: &Scenario, fix: &str) -> Result<(), SimError> {
        self.sim.apply_fix_now(scenario, fix)?;
        let keep = (self.sim.now_us() / self.interval_us) as usize + 1;
        self.checkpoints.truncate(keep.max(1));
        if self.sim.now_us().is_multiple_of(self.interval_us) && self.checkpoints.len() == keep {
            // The checkpoint at exactly now predates the fix: retake it.
            self.checkpoints.pop();
            let checkpoint = self.sim.checkpoint();
            self.checkpoints.push(checkpoint);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::find_bundled;

    fn replay() -> (Scenario, Replay) {
        let scenario = find_bundled("retry-storm").unwrap().unwrap();
        let variant = scenario.variant(&[], &[]).unwrap();
        let replay = Replay::new(&variant, 1, 10_000_000);
        (scenario, replay)
    }

    #[test]
    fn seeking_backwards_gives_the_same_run_as_going_straight_there() {
        let (scenario, mut replay) = replay();
        replay.seek(50_000_000).unwrap();
        replay.seek(23_500_000).unwrap();
        let mut straight = Simulation::new(&scenario.variant(&[], &[]).unwrap(), 1);
        straight.run_until(23_500_000).unwrap();
        assert_eq!(replay.sim().trace_hash(), straight.trace_hash());
        assert_eq!(
            replay.sim().metrics().series("success_rps"),
            straight.metrics().series("success_rps")
        );
        assert_eq!(replay.sim().metrics().len(), 23);
        replay.seek(60_000_000).unwrap();
        straight.run_to_end().unwrap();
        assert_eq!(replay.sim().trace_hash(), straight.trace_hash());
    }

    #[test]
    fn advancing_in_small_budgets_equals_seeking() {
        let (scenario, mut sliced) = replay();
        while !sliced.advance(45_000_000, 997).unwrap() {}
        assert_eq!(sliced.now_us(), 45_000_000);
        let mut straight = Replay::new(&scenario.variant(&[], &[]).unwrap(), 1, 10_000_000);
        straight.seek(45_000_000).unwrap();
        assert_eq!(sliced.sim().trace_hash(), straight.sim().trace_hash());
        assert_eq!(sliced.checkpoints(), straight.checkpoints());
    }

    #[test]
    fn checkpoints_are_bounded_and_evenly_spaced() {
        let (_, mut replay) = replay();
        replay.seek(60_000_000).unwrap();
        assert_eq!(replay.checkpoints(), 7, "0, 10, …, 60 s");
        let scenario = find_bundled("retry-storm").unwrap().unwrap();
        let mut fine = Replay::new(&scenario.variant(&[], &[]).unwrap(), 1, 1);
        fine.seek(60_000_000).unwrap();
        assert!(fine.checkpoints() <= MAX_CHECKPOINTS + 1);
    }

    #[test]
    fn a_fix_applied_now_drops_later_checkpoints_and_replays_consistently() {
        let (scenario, mut replay) = replay();
        replay.seek(40_000_000).unwrap();
        replay.seek(20_000_000).unwrap();
        replay.apply_fix_now(&scenario, "jitter").unwrap();
        assert_eq!(
            replay.checkpoints(),
            3,
            "0, 10 and 20 s (retaken after the fix)"
        );
        replay.seek(60_000_000).unwrap();
        let forked = replay.sim().trace_hash();
        replay.seek(30_000_000).unwrap();
        replay.seek(60_000_000).unwrap();
        assert_eq!(
            replay.sim().trace_hash(),
            forked,
            "seeking inside the forked run stays on it"
        );
    }
}
