//! The on-call drill: the scenario as the on-call engineer met it (the operators' recorded
//! decisions held back until the trainee takes them), the runbook's actions as changes of the
//! running system, alert rules over the series, and what a run cost its customers.
//!
//! A recorded decision (`drill.runbook.<i>.timeline`) is parked: its timeline entries move to
//! the end of the run, which is exclusive, so they never happen. Taking the action moves them
//! back, the first to the moment the action takes effect and the others at their recorded
//! distance from it; a timeline patch re-arms the entries it moves. Offered actions
//! (`steps`) are appended to the timeline, parked, and moved the same way. A fix is its patch,
//! minus any change to the timeline entries the runbook owns: in a drill the trainee decides
//! when operators act.

use crate::metrics::Metrics;
use crate::replay::Replay;
use crate::scenario::{self, Alert, Scenario, ScenarioError, Value, Variant};
use crate::sim::SimError;
use crate::time::{TimeUs, s_to_us};
use std::collections::BTreeMap;

/// A scenario prepared for a drill: its variant (recorded decisions parked) and what each
/// runbook action changes.
#[derive(Clone, Debug)]
pub struct DrillPlan {
    /// The scenario as the on-call engineer met it.
    pub variant: Variant,
    actions: Vec<Planned>,
    duration_s: f64,
}

#[derive(Clone, Debug)]
struct Planned {
    name: String,
    delay_us: TimeUs,
    effect: Effect,
}

#[derive(Clone, Debug)]
enum Effect {
    /// Parameters to set when it takes effect.
    Set(BTreeMap<String, Value>),
    /// Timeline entries to move: (index, seconds after the effect).
    Move(Vec<(usize, f64)>),
}

/// A trainee's action: a runbook action's name and when it was taken.
#[derive(Clone, Debug, PartialEq)]
pub struct Taken {
    /// The runbook action.
    pub name: String,
    /// When, µs after the start.
    pub at_us: TimeUs,
}

impl DrillPlan {
    /// Prepares `scenario` for a drill.
    pub fn new(scenario: &Scenario) -> Result<DrillPlan, ScenarioError> {
        let file = &scenario.file;
        let duration_s = file.scenario.duration_s;
        let mut tree = scenario.tree.clone();
        let error = |message: String| scenario.error_at("drill", message);
        let timeline_len = file.timeline.len();
        let Value::Table(root) = &mut tree else {
            return Err(error("the scenario is not a table".into()));
        };
        let owned: Vec<usize> = file
            .drill
            .runbook
            .iter()
            .flat_map(|a| a.timeline.iter().map(|&i| i as usize))
            .collect();
        // The offered steps, as trees, appended to the timeline.
        let mut appended: Vec<Value> = Vec::new();
        if let Some(Value::Table(drill)) = root.get("drill")
            && let Some(Value::Array(runbook)) = drill.get("runbook")
        {
            for action in runbook {
                if let Value::Table(action) = action
                    && let Some(Value::Array(steps)) = action.get("steps")
                {
                    appended.extend(steps.iter().cloned());
                }
            }
        }
        let Some(Value::Array(timeline)) = root.get_mut("timeline") else {
            return Err(error("the scenario has no timeline array".into()));
        };
        timeline.extend(appended);
        for (i, entry) in timeline.iter_mut().enumerate() {
            if (owned.contains(&i) || i >= timeline_len)
                && let Value::Table(entry) = entry
            {
                entry.insert("at_s".into(), Value::Float(duration_s));
            }
        }
        let drill_file =
            scenario::read_tree(tree.clone()).map_err(|m| error(format!("as a drill: {m}")))?;
        let mut actions = Vec::new();
        let mut next_step = timeline_len;
        for action in &file.drill.runbook {
            let effect = if !action.fix.is_empty() {
                let fix = file
                    .fixes
                    .get(&action.fix)
                    .ok_or_else(|| error(format!("there is no fix `{}`", action.fix)))?;
                // Inserted one by one (in order already): collecting into a map would sort, and
                // the page pays for a sort in bytes.
                let mut set = BTreeMap::new();
                for (path, value) in &fix.set {
                    let owned_entry = owned.iter().any(|i| {
                        path.strip_prefix(&format!("timeline.{i}"))
                            .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
                    });
                    if !owned_entry {
                        set.insert(path.clone(), value.clone());
                    }
                }
                Effect::Set(set)
            } else if !action.timeline.is_empty() {
                let first = file.timeline[action.timeline[0] as usize].at_s;
                Effect::Move(
                    action
                        .timeline
                        .iter()
                        .map(|&i| (i as usize, file.timeline[i as usize].at_s - first))
                        .collect(),
                )
            } else {
                let moved = action
                    .steps
                    .iter()
                    .enumerate()
                    .map(|(j, step)| (next_step + j, step.at_s))
                    .collect();
                next_step += action.steps.len();
                Effect::Move(moved)
            };
            actions.push(Planned {
                name: action.name.clone(),
                delay_us: s_to_us(action.delay_s),
                effect,
            });
        }
        Ok(DrillPlan {
            variant: Variant {
                file: drill_file,
                tree,
                fixes: Vec::new(),
            },
            actions,
            duration_s,
        })
    }

    /// The runbook actions' names, in the file's order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.actions.iter().map(|a| a.name.as_str())
    }

    /// Takes the runbook action `name` at the replay's current moment: it takes effect after
    /// its delay (an action whose effect would come after the end changes nothing).
    pub fn take(&self, replay: &mut Replay, name: &str) -> Result<(), SimError> {
        let now = replay.now_us();
        self.schedule(replay, name, now)
    }

    /// Schedules the runbook action `name` as taken at `at_us` (now or later in the run).
    pub fn schedule(&self, replay: &mut Replay, name: &str, at_us: TimeUs) -> Result<(), SimError> {
        let Some(action) = self.actions.iter().find(|a| a.name == name) else {
            return Err(SimError::BadChange(format!(
                "there is no runbook action `{name}`"
            )));
        };
        let effect_us = at_us.saturating_add(action.delay_us);
        if effect_us >= replay.sim().end_us() {
            return Ok(());
        }
        match &action.effect {
            Effect::Set(set) => replay.schedule_patch(name, set, effect_us),
            Effect::Move(entries) => {
                let effect_s = effect_us as f64 / 1e6;
                let mut set = BTreeMap::new();
                for (i, offset_s) in entries {
                    let at_s = (effect_s + offset_s).min(self.duration_s);
                    set.insert(format!("timeline.{i}.at_s"), Value::Float(at_s));
                }
                replay.schedule_patch(name, &set, at_us)
            }
        }
    }

    /// A replay of the drill (`seed`, checkpoints every `interval_us`) with the `taken`
    /// actions scheduled at their moments: what the web page's workers compute, and what
    /// [`DrillPlan::run`] runs to the end.
    pub fn replay(
        &self,
        seed: u64,
        interval_us: TimeUs,
        taken: &[Taken],
    ) -> Result<Replay, SimError> {
        let mut replay = Replay::new(&self.variant, seed, interval_us);
        let mut taken: Vec<&Taken> = taken.iter().collect();
        crate::small_sort::sort_by_key(&mut taken, |t| t.at_us);
        for action in taken {
            if action.at_us == 0 || action.at_us >= replay.sim().end_us() {
                return Err(SimError::BadChange(format!(
                    "`{}` can be taken only after the start and before the end",
                    action.name
                )));
            }
            self.schedule(&mut replay, &action.name, action.at_us)?;
        }
        Ok(replay)
    }

    /// The drill (`seed`) with `taken` actions, run to its end.
    pub fn run(&self, seed: u64, taken: &[Taken]) -> Result<Replay, SimError> {
        let mut replay = self.replay(seed, u64::MAX, taken)?;
        replay.seek(replay.sim().end_us())?;
        Ok(replay)
    }

    /// When each of the recorded decisions was taken in the incident: the first entry it
    /// owns, less its delay (in the runbook's order; offered actions and fixes have none).
    pub fn documented(scenario: &Scenario) -> Vec<Taken> {
        let file = &scenario.file;
        file.drill
            .runbook
            .iter()
            .filter_map(|a| {
                let first = *a.timeline.first()? as usize;
                let at_s = (file.timeline[first].at_s - a.delay_s).max(0.0);
                Some(Taken {
                    name: a.name.clone(),
                    at_us: s_to_us(at_s).max(1),
                })
            })
            .collect()
    }
}

/// What a run cost its customers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Impact {
    /// Minutes of impact: each window's length times the share of requests that did not
    /// succeed beyond the run's normal share (half the usual successes for a minute counts
    /// half a minute).
    pub impact_minutes: f64,
    /// Requests that ended in an error, a time-out or shed.
    pub failed_requests: f64,
}

/// The impact of the windows in `metrics`. The normal share of successes is the one over the
/// first tenth of the run (at least three windows), as the verdict judges it.
pub fn impact(metrics: &Metrics) -> Impact {
    let window_s = metrics.window_us as f64 / 1e6;
    let column = |name: &str| metrics.series(name).unwrap_or(&[]);
    let (offered, success) = (column("offered_rps"), column("success_rps"));
    let failed_rps: f64 = ["error_rps", "timeout_rps", "shed_rps"]
        .iter()
        .map(|n| column(n).iter().sum::<f64>())
        .sum();
    let warmup = (offered.len() / 10).max(3).min(offered.len());
    let (o, s): (f64, f64) = (
        offered[..warmup].iter().sum(),
        success[..warmup].iter().sum(),
    );
    let normal = if o > 0.0 { (s / o).min(1.0) } else { 1.0 };
    let mut impact_minutes = 0.0;
    if normal > 0.0 {
        for (o, s) in offered.iter().zip(success) {
            if *o > 0.0 {
                let share = (s / o).min(1.0);
                impact_minutes += (1.0 - share / normal).max(0.0) * window_s / 60.0;
            }
        }
    }
    Impact {
        impact_minutes,
        failed_requests: failed_rps * window_s,
    }
}

/// One alert firing: which rule, when it fired and, if it did, when it resolved (s).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Page {
    /// Index of the rule in `drill.alerts`.
    pub alert: usize,
    /// The end of the window in which the condition had held for the rule's `for_s`.
    pub fired_at_s: f64,
    /// The end of the first window after that in which the condition did not hold.
    pub resolved_at_s: Option<f64>,
}

/// Every time an alert rule fires over the windows in `metrics`, in time order.
pub fn pages(metrics: &Metrics, alerts: &[Alert]) -> Vec<Page> {
    let window_s = metrics.window_us as f64 / 1e6;
    let t = metrics.series("t_s").unwrap_or(&[]);
    let mut out: Vec<Page> = Vec::new();
    for (a, alert) in alerts.iter().enumerate() {
        let Some(values) = metrics.series(&alert.series) else {
            continue;
        };
        let mut held_s = 0.0;
        let mut firing: Option<usize> = None;
        for (w, &v) in values.iter().enumerate() {
            let bad = v > alert.above || v < alert.below;
            if bad {
                held_s += window_s;
                if firing.is_none() && held_s + 1e-9 >= alert.for_s.max(window_s) {
                    out.push(Page {
                        alert: a,
                        fired_at_s: t[w],
                        resolved_at_s: None,
                    });
                    firing = Some(out.len() - 1);
                }
            } else {
                held_s = 0.0;
                if let Some(p) = firing.take() {
                    out[p].resolved_at_s = Some(t[w]);
                }
            }
        }
    }
    crate::small_sort::sort_by_key(&mut out, |p| (s_to_us(p.fired_at_s), p.alert));
    out
}
