//! A replay: a run with checkpoints every so often, so that seeking backwards restores the
//! nearest earlier checkpoint and runs forward from it instead of re-running from zero; and with
//! fixes scheduled at moments of the run ("what if we had shipped single-flight at 15:40?").
//!
//! Checkpoints keep no series of their own (see [`Simulation::checkpoint`]); they are spread
//! evenly over the run, at most [`MAX_CHECKPOINTS`] of them and at most
//! [`CHECKPOINT_BUDGET_BYTES`] in all (a checkpoint of a run with a big cache costs tens of MB):
//! when a new one would exceed either bound, every other one is dropped and the spacing doubles.
//! A fix scheduled at `t` is applied when the run reaches `t`, before any event at `t`, every
//! time the run passes there.

use crate::scenario::{Scenario, Variant};
use crate::sim::{SimError, Simulation};
use crate::time::TimeUs;
use std::collections::BTreeMap;

/// The most checkpoints one replay keeps.
pub const MAX_CHECKPOINTS: usize = 64;

/// The most bytes one replay's checkpoints may hold in all (by [`Simulation::state_bytes`]);
/// the first checkpoint (the start) and the latest are kept whatever their size.
pub const CHECKPOINT_BUDGET_BYTES: usize = 32 * 1024 * 1024;

/// A fix applied at a moment of the run.
#[derive(Clone, Debug, PartialEq)]
pub struct ScheduledFix {
    /// When, µs (after the start).
    pub at_us: TimeUs,
    /// The fix's name.
    pub name: String,
    set: BTreeMap<String, crate::scenario::Value>,
}

/// A run that can seek to any moment, forwards or backwards.
#[derive(Clone)]
pub struct Replay {
    sim: Simulation,
    interval_us: TimeUs,
    /// Checkpoints at 0, interval, 2 × interval, … up to the furthest point reached.
    checkpoints: Vec<Simulation>,
    /// The size of each checkpoint, bytes.
    checkpoint_sizes: Vec<usize>,
    /// The most bytes the checkpoints may hold in all.
    budget_bytes: usize,
    /// Fixes applied mid-run, in time order.
    scheduled: Vec<ScheduledFix>,
    /// How many of `scheduled` the current run has applied.
    applied: usize,
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
            checkpoint_sizes: vec![first.state_bytes()],
            budget_bytes: CHECKPOINT_BUDGET_BYTES,
            checkpoints: vec![first],
            scheduled: Vec::new(),
            applied: 0,
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

    /// Sets the byte budget of the checkpoints (the default is [`CHECKPOINT_BUDGET_BYTES`]); it
    /// applies from the next checkpoint on.
    pub fn set_checkpoint_budget(&mut self, bytes: usize) {
        self.budget_bytes = bytes;
    }

    /// Bytes held by the checkpoints.
    pub fn checkpoint_bytes(&self) -> usize {
        self.checkpoint_sizes.iter().sum()
    }

    /// Keeps the checkpoints before index `keep` (at least the first).
    fn truncate_checkpoints(&mut self, keep: usize) {
        let keep = keep.max(1);
        self.checkpoints.truncate(keep);
        self.checkpoint_sizes.truncate(keep);
    }

    /// Adds the checkpoint of the current moment, then thins the checkpoints (every other one
    /// dropped, spacing doubled) while they exceed their count or byte budget.
    fn push_checkpoint(&mut self) {
        let checkpoint = self.sim.checkpoint();
        self.checkpoint_sizes.push(checkpoint.state_bytes());
        self.checkpoints.push(checkpoint);
        while self.checkpoints.len() > 2
            && (self.checkpoints.len() > MAX_CHECKPOINTS + 1
                || self.checkpoint_bytes() > self.budget_bytes)
        {
            let mut index = 0;
            self.checkpoints.retain(|_| {
                index += 1;
                (index - 1) % 2 == 0
            });
            let mut index = 0;
            self.checkpoint_sizes.retain(|_| {
                index += 1;
                (index - 1) % 2 == 0
            });
            self.interval_us *= 2;
        }
    }

    /// The fixes scheduled mid-run, in time order.
    pub fn scheduled(&self) -> &[ScheduledFix] {
        &self.scheduled
    }

    /// Moves to `t_us` (clamped to the run): forwards by running, backwards by restoring the
    /// latest checkpoint at or before `t_us` and running from there. Returns events processed.
    pub fn seek(&mut self, t_us: TimeUs) -> Result<u64, SimError> {
        self.rewind(t_us);
        let start = self.sim.events();
        while !self.advance(t_us, u64::MAX)? {}
        Ok(self.sim.events() - start)
    }

    /// If `t_us` is behind the run, restores the latest checkpoint at or before it (cheap); the
    /// run then stands at the checkpoint's time, and [`Replay::advance`] catches up.
    pub fn rewind(&mut self, t_us: TimeUs) {
        let t_us = t_us.min(self.sim.end_us());
        if t_us >= self.sim.now_us() {
            return;
        }
        let index = ((t_us / self.interval_us) as usize).min(self.checkpoints.len() - 1);
        let checkpoint = self.checkpoints[index].clone();
        self.sim.restore(&checkpoint);
        let at = self.sim.now_us();
        self.applied = self.scheduled.iter().take_while(|f| f.at_us <= at).count();
    }

    fn apply_due(&mut self) -> Result<(), SimError> {
        while let Some(fix) = self.scheduled.get(self.applied) {
            if fix.at_us > self.sim.now_us() {
                break;
            }
            let set = fix.set.clone();
            self.sim.apply_patch(&set)?;
            self.applied += 1;
        }
        Ok(())
    }

    /// Runs forward towards `t_us`, processing at most about `max_events` events (checkpoints are
    /// taken and scheduled fixes applied on the way); returns whether it reached `t_us`. Never
    /// goes backwards.
    pub fn advance(&mut self, t_us: TimeUs, max_events: u64) -> Result<bool, SimError> {
        let t_us = t_us.min(self.sim.end_us());
        let start = self.sim.events();
        loop {
            self.apply_due()?;
            let next_checkpoint = self.checkpoints.len() as u64 * self.interval_us;
            let checkpoint_due = next_checkpoint <= t_us && next_checkpoint <= self.sim.end_us();
            let mut target = if checkpoint_due {
                next_checkpoint
            } else {
                t_us
            };
            if let Some(fix) = self.scheduled.get(self.applied) {
                target = target.min(fix.at_us.max(self.sim.now_us()));
            }
            let budget = max_events.saturating_sub(self.sim.events() - start);
            if !self.sim.run_until_budget(target, budget)? {
                return Ok(false);
            }
            self.apply_due()?;
            if checkpoint_due && target == next_checkpoint {
                self.push_checkpoint();
                continue;
            }
            if target >= t_us {
                return Ok(true);
            }
        }
    }

    /// Schedules a fix of `scenario` at a later moment `at_us` (after the start and not before
    /// the run's current time); it is applied when the run gets there.
    pub fn schedule_fix(
        &mut self,
        scenario: &Scenario,
        fix: &str,
        at_us: TimeUs,
    ) -> Result<(), SimError> {
        let Some(spec) = scenario.file.fixes.get(fix) else {
            return Err(SimError::BadChange(format!("there is no fix `{fix}`")));
        };
        self.schedule_patch(fix, &spec.set, at_us)
    }

    /// Schedules a named change of parameters at `at_us` (after the start, from now until the
    /// end of the run): applied now if that is now, else when the run gets there.
    pub fn schedule_patch(
        &mut self,
        name: &str,
        set: &BTreeMap<String, crate::scenario::Value>,
        at_us: TimeUs,
    ) -> Result<(), SimError> {
        if at_us == self.sim.now_us() {
            return self.apply_patch_now(name, set);
        }
        if at_us == 0 || at_us < self.sim.now_us() || at_us > self.sim.end_us() {
            return Err(SimError::BadChange(format!(
                "`{name}` can be scheduled only after the start, from now until the end of the run"
            )));
        }
        let index = self.scheduled.partition_point(|f| f.at_us <= at_us);
        self.scheduled.insert(
            index,
            ScheduledFix {
                at_us,
                name: name.to_string(),
                set: set.clone(),
            },
        );
        self.truncate_checkpoints(at_us.div_ceil(self.interval_us) as usize);
        Ok(())
    }

    /// Schedules a fix of `scenario` at the current moment ("what if we had shipped it now?") and
    /// applies it. Checkpoints from now on no longer describe this run and are dropped. A fix at
    /// the very start belongs in the variant instead, and is refused here.
    pub fn apply_fix_now(&mut self, scenario: &Scenario, fix: &str) -> Result<(), SimError> {
        let Some(spec) = scenario.file.fixes.get(fix) else {
            return Err(SimError::BadChange(format!("there is no fix `{fix}`")));
        };
        self.apply_patch_now(fix, &spec.set)
    }

    /// Applies a named change of parameters at the current moment, as [`Replay::apply_fix_now`].
    pub fn apply_patch_now(
        &mut self,
        name: &str,
        set: &BTreeMap<String, crate::scenario::Value>,
    ) -> Result<(), SimError> {
        let now = self.sim.now_us();
        if now == 0 {
            return Err(SimError::BadChange(format!(
                "`{name}` would apply at the start: choose it as a fix from the start instead"
            )));
        }
        self.sim.apply_patch(set)?;
        let index = self.scheduled.partition_point(|f| f.at_us <= now);
        self.scheduled.insert(
            index,
            ScheduledFix {
                at_us: now,
                name: name.to_string(),
                set: set.clone(),
            },
        );
        self.applied = index + 1;
        // Keep the checkpoints strictly before now (the one at exactly now predates the fix).
        self.truncate_checkpoints(now.div_ceil(self.interval_us) as usize);
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
    fn a_fix_applied_mid_run_is_replayed_after_seeking_back_before_it() {
        let (scenario, mut replay) = replay();
        replay.seek(40_000_000).unwrap();
        replay.seek(15_000_000).unwrap();
        replay.apply_fix_now(&scenario, "jitter").unwrap();
        assert_eq!(
            replay.checkpoints(),
            2,
            "0 and 10 s: the later ones predate the fix"
        );
        replay.seek(60_000_000).unwrap();
        let forked = replay.sim().trace_hash();
        let forked_success = replay
            .sim()
            .metrics()
            .series("success_rps")
            .unwrap()
            .to_vec();

        // Seeking back before the fix and forward again replays the same forked run.
        replay.seek(5_000_000).unwrap();
        replay.seek(60_000_000).unwrap();
        assert_eq!(replay.sim().trace_hash(), forked);

        // The same in small budgets through the checkpoints taken after the fix.
        replay.seek(33_000_000).unwrap();
        while !replay.advance(60_000_000, 501).unwrap() {}
        assert_eq!(replay.sim().trace_hash(), forked);

        // And it is the run a straight simulation with the fix applied at 15 s gives.
        let mut straight = Simulation::new(&scenario.variant(&[], &[]).unwrap(), 1);
        straight.run_until(15_000_000).unwrap();
        straight.apply_fix_now(&scenario, "jitter").unwrap();
        straight.run_to_end().unwrap();
        assert_eq!(straight.trace_hash(), forked);
        assert_eq!(
            straight.metrics().series("success_rps").unwrap(),
            &forked_success[..]
        );
        assert_eq!(replay.scheduled()[0].name, "jitter");
        assert_eq!(replay.scheduled()[0].at_us, 15_000_000);
    }

    #[test]
    fn a_fix_scheduled_ahead_equals_one_applied_when_the_run_gets_there() {
        let (scenario, mut ahead) = replay();
        ahead
            .schedule_fix(&scenario, "honor-timeout", 12_000_000)
            .unwrap();
        ahead.seek(60_000_000).unwrap();
        let (_, mut live) = replay();
        live.seek(12_000_000).unwrap();
        live.apply_fix_now(&scenario, "honor-timeout").unwrap();
        live.seek(60_000_000).unwrap();
        assert_eq!(ahead.sim().trace_hash(), live.sim().trace_hash());
        assert!(
            ahead.schedule_fix(&scenario, "jitter", 30_000_000).is_err(),
            "not in the past"
        );
        assert!(ahead.schedule_fix(&scenario, "nope", 70_000_000).is_err());
    }

    #[test]
    fn checkpoints_stay_within_their_byte_budget_and_seeking_stays_exact() {
        let (scenario, mut replay) = replay();
        let one = replay.sim().state_bytes();
        replay.set_checkpoint_budget(one * 5);
        replay.seek(60_000_000).unwrap();
        assert!(replay.checkpoints() >= 2);
        let largest = replay.checkpoint_sizes.iter().copied().max().unwrap();
        assert!(
            replay.checkpoint_bytes() <= one * 5 + largest,
            "{} bytes in {} checkpoints",
            replay.checkpoint_bytes(),
            replay.checkpoints()
        );
        assert!(replay.interval_us() > 10_000_000, "the spacing doubled");
        for t in [47_000_000, 3_000_000, 59_000_000, 21_500_000] {
            replay.seek(t).unwrap();
            let mut straight = Simulation::new(&scenario.variant(&[], &[]).unwrap(), 1);
            straight.run_until(t).unwrap();
            assert_eq!(replay.sim().trace_hash(), straight.trace_hash(), "at {t}");
            assert_eq!(replay.sim().metrics().to_csv(), straight.metrics().to_csv());
        }
    }

    #[test]
    fn a_fix_at_the_start_is_refused_here() {
        let (scenario, mut replay) = replay();
        assert!(replay.apply_fix_now(&scenario, "jitter").is_err());
        assert!(replay.apply_fix_now(&scenario, "no-such-fix").is_err());
    }
}
