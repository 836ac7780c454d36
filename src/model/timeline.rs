//! The timeline mechanism: what operators and systems did, entry by entry, at the times they
//! did it. Each entry's target is resolved once; the timeline arms every entry at its time,
//! remembers which have run (a patch never changes the past) and re-arms the entries a patch
//! moves. The event loop carries each entry out.

use crate::scenario::Value;
use crate::scenario::schema::{Action, ScenarioFile, TimelineEvent};
use crate::sim::{Ctx, Event};
use crate::time::{TimeUs, s_to_us};
use std::collections::BTreeMap;

/// Index of `name` among a table's keys (name order, as compiled).
fn position<T>(map: &BTreeMap<String, T>, name: &str) -> Option<u16> {
    map.keys().position(|k| k == name).map(|i| i as u16)
}

/// What a timeline entry acts on, resolved once from its `target` (`api`, `api#1`, `pg#scan`, a
/// deploy's name) so that running it never parses names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimelineTarget {
    /// Nothing (a `set`), or a name the scenario does not have.
    Nothing,
    /// A service's instances: all, or one.
    Instances {
        /// The service.
        service: u16,
        /// One instance, or all.
        instance: Option<u16>,
    },
    /// A datastore's queries: all, or those of one kind.
    Queries {
        /// The datastore.
        datastore: u16,
        /// One kind, or all.
        kind: Option<u16>,
    },
    /// A deploy.
    Deploy(u16),
}

impl TimelineTarget {
    /// Resolves a validated entry's target in `file`.
    pub fn resolve(file: &ScenarioFile, event: &TimelineEvent) -> Self {
        let (name, part) = event.target_parts();
        let resolved = match event.action {
            Action::Set => None,
            Action::Deploy => position(&file.deploys, &event.target).map(TimelineTarget::Deploy),
            Action::KillQueries => position(&file.datastores, name).and_then(|datastore| {
                let kind = match part {
                    Some(query) => Some(position(&file.datastores[name].queries, query)?),
                    None => None,
                };
                Some(TimelineTarget::Queries { datastore, kind })
            }),
            _ => position(&file.services, name).and_then(|service| {
                let instance = match part {
                    Some(n) => Some(n.parse::<u16>().ok()?),
                    None => None,
                };
                Some(TimelineTarget::Instances { service, instance })
            }),
        };
        resolved.unwrap_or(TimelineTarget::Nothing)
    }
}

/// The timeline's run-time state.
#[derive(Clone, Debug, Default)]
pub struct Timeline {
    /// Per entry: whether it has run (the past is not changed by later patches).
    done: Vec<bool>,
    /// Per entry: bumps when a patch moves it, so its earlier event goes stale.
    epochs: Vec<u32>,
}

impl Timeline {
    /// A timeline of `entries`, each armed at its time (in time order, the file's order among
    /// equal times).
    pub(crate) fn start(entries: &[TimelineEvent], ctx: &mut Ctx) -> Self {
        let mut order: Vec<usize> = (0..entries.len()).collect();
        crate::small_sort::sort_by_key(&mut order, |&i| s_to_us(entries[i].at_s));
        for i in order {
            ctx.queue.push(
                s_to_us(entries[i].at_s),
                Event::Timeline {
                    index: i as u16,
                    epoch: 0,
                },
            );
        }
        Timeline {
            done: vec![false; entries.len()],
            epochs: vec![0; entries.len()],
        }
    }

    /// Whether entry `index`'s event armed at `epoch` was since moved by a patch.
    pub fn is_stale(&self, index: u16, epoch: u32) -> bool {
        self.epochs[index as usize] != epoch
    }

    /// Entry `index` runs now: it is part of the past from here on.
    pub fn run(&mut self, index: usize) {
        self.done[index] = true;
    }

    /// A patch turns the parameter tree `old` into `new`: the entries already run are put back
    /// as they were in `new` (what operators did before now stays done).
    pub fn keep_the_past(&self, new: &mut Value, old: &Value) {
        keep_the_past(new, old, &self.done);
    }

    /// The entries not yet run whose time a patch changes from `before` to `after`, with when
    /// they now run (not before `now_us`: one moved into the past runs now).
    pub fn moved(
        &self,
        before: &[TimelineEvent],
        after: &[TimelineEvent],
        now_us: TimeUs,
    ) -> Vec<(usize, TimeUs)> {
        after
            .iter()
            .enumerate()
            .filter(|&(i, entry)| !self.done[i] && entry.at_s != before[i].at_s)
            .map(|(i, entry)| (i, s_to_us(entry.at_s).max(now_us)))
            .collect()
    }

    /// Re-arms the `moved` entries; their earlier events go stale.
    pub(crate) fn rearm(&mut self, moved: &[(usize, TimeUs)], ctx: &mut Ctx) {
        for &(index, at_us) in moved {
            let epoch = self.epochs[index].wrapping_add(1);
            self.epochs[index] = epoch;
            ctx.queue.push(
                at_us,
                Event::Timeline {
                    index: index as u16,
                    epoch,
                },
            );
        }
    }

    /// Bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.done.capacity() + self.epochs.capacity() * std::mem::size_of::<u32>()
    }
}

/// Puts back in `new` the timeline entries of `old` marked `done` (by index): the rule by which
/// a patch never rewrites what operators already did.
pub fn keep_the_past(new: &mut Value, old: &Value, done: &[bool]) {
    if let (Value::Table(new), Value::Table(old)) = (new, old)
        && let (Some(Value::Array(new)), Some(Value::Array(old))) =
            (new.get_mut("timeline"), old.get("timeline"))
    {
        for (i, done) in done.iter().enumerate() {
            if *done && let (Some(new), Some(old)) = (new.get_mut(i), old.get(i)) {
                *new = old.clone();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(at_s: f64, action: Action, target: &str) -> TimelineEvent {
        TimelineEvent {
            at_s,
            action,
            target: target.into(),
            set: Default::default(),
            label: String::new(),
        }
    }

    #[test]
    fn entries_run_in_time_order_and_a_patch_moves_only_the_future() {
        let mut alone = crate::sim::Alone::new(1);
        let mut ctx = alone.ctx();
        let before = vec![
            entry(30.0, Action::Restart, "api"),
            entry(10.0, Action::Stop, "api#1"),
            entry(20.0, Action::Set, ""),
        ];
        let mut timeline = Timeline::start(&before, &mut ctx);
        let order: Vec<_> = std::iter::from_fn(|| ctx.queue.pop())
            .map(|(at_us, event)| match event {
                Event::Timeline { index, epoch } => (at_us / 1_000_000, index, epoch),
                _ => panic!("only timeline entries"),
            })
            .collect();
        assert_eq!(order, [(10, 1, 0), (20, 2, 0), (30, 0, 0)]);
        // At 15 s entry 1 has run. A patch moves all three: entry 1 stays in the past, entry 2
        // is re-armed at its new time, and entry 0, moved into the past, runs now.
        timeline.run(1);
        let after = vec![
            entry(5.0, Action::Restart, "api"),
            entry(12.0, Action::Stop, "api#1"),
            entry(25.0, Action::Set, ""),
        ];
        let moved = timeline.moved(&before, &after, 15_000_000);
        assert_eq!(moved, [(0, 15_000_000), (2, 25_000_000)]);
        ctx.now_us = 15_000_000;
        timeline.rearm(&moved, &mut ctx);
        assert!(timeline.is_stale(0, 0) && timeline.is_stale(2, 0));
        assert!(!timeline.is_stale(0, 1) && !timeline.is_stale(1, 0));
        assert_eq!(ctx.queue.len(), 2);
    }

    #[test]
    fn a_patch_leaves_entries_already_run_as_they_were() {
        let table = |at: [f64; 2]| {
            let entries = at
                .iter()
                .map(|&t| Value::Table([("at_s".to_string(), Value::Float(t))].into()))
                .collect();
            Value::Table([("timeline".to_string(), Value::Array(entries))].into())
        };
        let mut timeline = Timeline {
            done: vec![false; 2],
            epochs: vec![0; 2],
        };
        timeline.run(0);
        let mut new = table([1.0, 2.0]);
        timeline.keep_the_past(&mut new, &table([10.0, 20.0]));
        assert_eq!(new, table([10.0, 2.0]));
    }

    #[test]
    fn targets_resolve_to_instances_queries_and_deploys() {
        let svix = crate::scenario::find_bundled("svix-2023-06-auth-token-stampede")
            .unwrap()
            .unwrap();
        let file = &svix.file;
        let service = |name: &str| position(&file.services, name).unwrap();
        let resolve =
            |action, target: &str| TimelineTarget::resolve(file, &entry(0.0, action, target));
        assert_eq!(
            resolve(Action::Stop, "api#2"),
            TimelineTarget::Instances {
                service: service("api"),
                instance: Some(2)
            }
        );
        assert_eq!(
            resolve(Action::Restart, "api"),
            TimelineTarget::Instances {
                service: service("api"),
                instance: None
            }
        );
        let pg = position(&file.datastores, "pg").unwrap();
        assert_eq!(
            resolve(Action::KillQueries, "pg"),
            TimelineTarget::Queries {
                datastore: pg,
                kind: None
            }
        );
        let deploy = file.deploys.keys().next().unwrap();
        assert_eq!(resolve(Action::Deploy, deploy), TimelineTarget::Deploy(0));
        assert_eq!(resolve(Action::Set, "api"), TimelineTarget::Nothing);
        assert_eq!(resolve(Action::Stop, "nowhere"), TimelineTarget::Nothing);
    }
}
