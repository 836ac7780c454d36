//! The simulation worker: computes a run at full speed off the page's thread, ahead of the
//! playhead, and streams its windows of series to the page as they close.
//!
//! The page sends [`ToWorker`] messages and receives [`FromWorker`] ones through gloo-worker's
//! bridge. Every job has an id, and every answer names its job, so the page drops answers to a
//! job it has replaced. The worker computes in slices of about [`SLICE_MS`], and between slices
//! yields to its event loop through a `MessageChannel` (a task, unlike gloo's own messages to
//! itself, which are microtasks), so a new job or a fork is seen within a slice.

use crate::clock::now_ms;
use cascade::drill::{DrillPlan, Taken};
use cascade::{Replay, Scenario};
use gloo_worker::{HandlerId, Worker, WorkerScope};
use serde::{Deserialize, Serialize};
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;
use web_sys::{MessageChannel, MessageEvent, MessagePort};

/// Wall time of one slice of work, ms.
pub const SLICE_MS: f64 = 25.0;

/// The least time between two batches of windows sent to the page, ms (the first batch and the
/// last go at once): each batch costs the page a render.
pub const SEND_EVERY_MS: f64 = 100.0;

/// Events between two looks at the clock.
const EVENTS_PER_CHECK: u64 = 20_000;

/// Checkpoint spacing asked of a replay (it coarsens this for long runs and big states).
const CHECKPOINT_EVERY_US: u64 = 10_000_000;

/// A replay of `scenario` with fixes from the start, a seed, and fixes applied at moments (name,
/// µs, in any order): what a worker computes, and what the page computes when it has no worker.
pub fn new_replay(
    scenario: &Scenario,
    drill: Option<&DrillPlan>,
    fixes: &[String],
    seed: u64,
    at: &[(String, u64)],
) -> Result<Replay, String> {
    if let Some(plan) = drill {
        let taken: Vec<Taken> = at
            .iter()
            .map(|(name, at_us)| Taken {
                name: name.clone(),
                at_us: *at_us,
            })
            .collect();
        return plan
            .replay(seed, CHECKPOINT_EVERY_US, &taken)
            .map_err(|e| e.to_string());
    }
    let variant = scenario.with_fixes(fixes).map_err(|e| e.to_string())?;
    let mut replay = Replay::new(&variant, seed, CHECKPOINT_EVERY_US);
    let mut at = at.to_vec();
    cascade::small_sort::sort_by_key(&mut at, |(_, t)| *t);
    for (name, at_us) in &at {
        replay
            .schedule_fix(scenario, name, *at_us)
            .map_err(|e| e.to_string())?;
    }
    Ok(replay)
}

/// Advances `replay` towards its end for about `budget_ms` of wall time, looking at the clock
/// every `events_per_check` events; returns whether it reached the end.
pub fn compute_for(
    replay: &mut Replay,
    budget_ms: f64,
    events_per_check: u64,
) -> Result<bool, String> {
    let deadline = now_ms() + budget_ms;
    let end_us = replay.sim().end_us();
    loop {
        match replay.advance(end_us, events_per_check) {
            Ok(true) => return Ok(true),
            Ok(false) if now_ms() >= deadline => return Ok(false),
            Ok(false) => {}
            Err(err) => return Err(err.to_string()),
        }
    }
}

/// Forks `replay` at `at_us` with `fix` applied from then on ("apply now"), or in a drill the
/// runbook action `fix` taken then.
pub fn fork_replay(
    replay: &mut Replay,
    scenario: &Scenario,
    drill: Option<&DrillPlan>,
    fix: &str,
    at_us: u64,
) -> Result<(), String> {
    replay.seek(at_us).map_err(|e| e.to_string())?;
    match drill {
        Some(plan) => plan.take(replay, fix),
        None => replay.apply_fix_now(scenario, fix),
    }
    .map_err(|e| e.to_string())
}

/// What the page asks of a worker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ToWorker {
    /// Compute a run from the start: a scenario (its file name and precompiled file), fixes
    /// from the start, a seed, and fixes applied at moments (name, µs). Replaces whatever the
    /// worker was doing.
    Start {
        /// The job's id.
        job: u32,
        /// The scenario's file name (for messages).
        name: String,
        /// The scenario's precompiled file.
        scenario: Vec<u8>,
        /// A drill: the scenario as the on-call engineer met it; `at` names runbook actions.
        drill: bool,
        /// Fixes from the start.
        fixes: Vec<String>,
        /// Seed.
        seed: u64,
        /// Fixes applied mid-run: (name, µs).
        at: Vec<(String, u64)>,
    },
    /// Apply a fix at `at_us` of the current run ("apply now"): the run forks there, and the
    /// windows from that moment on are computed again under the new job id.
    Fork {
        /// The new job's id.
        job: u32,
        /// The fix.
        fix: String,
        /// When, µs.
        at_us: u64,
    },
}

/// What a worker tells the page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum FromWorker {
    /// Windows `from_window..` of the job's run, as flattened rows (see
    /// `cascade::metrics::Metrics::rows`); the run is computed up to `frontier_us`.
    Windows {
        /// The job.
        job: u32,
        /// Index of the first window in `rows`.
        from_window: u32,
        /// The windows' values, row after row.
        rows: Vec<f64>,
        /// How far the run is computed, µs.
        frontier_us: u64,
        /// Whether the run has reached its end.
        done: bool,
        /// The worker's wasm memory, bytes (its peak so far: wasm memory never shrinks).
        memory_bytes: u64,
    },
    /// The job stopped: a bad request or a run limit; the message says which.
    Failed {
        /// The job.
        job: u32,
        /// What went wrong.
        message: String,
    },
}

/// The job a worker is computing.
struct Running {
    job: u32,
    owner: HandlerId,
    scenario: Rc<Scenario>,
    /// In a drill, the plan its runbook actions follow.
    drill: Option<Rc<DrillPlan>>,
    replay: Replay,
    /// Windows already sent to the page.
    sent: usize,
    /// When the last batch was sent (worker clock, ms; none yet for this job).
    sent_at_ms: Option<f64>,
    done: bool,
}

/// Posts to itself through a `MessageChannel`, to run the next slice as a new task.
struct Ticker {
    port: MessagePort,
    _receiver: MessagePort,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
}

impl Ticker {
    fn new(on_tick: Rc<dyn Fn(())>) -> Option<Ticker> {
        let channel = MessageChannel::new().ok()?;
        let on_message =
            Closure::<dyn FnMut(MessageEvent)>::new(move |_: MessageEvent| on_tick(()));
        let receiver = channel.port2();
        receiver.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        Some(Ticker {
            port: channel.port1(),
            _receiver: receiver,
            _on_message: on_message,
        })
    }

    fn post(&self) {
        let _ = self.port.post_message(&wasm_bindgen::JsValue::UNDEFINED);
    }
}

/// Self-message: compute the next slice.
pub struct Tick;

/// The worker.
pub struct RunWorker {
    running: Option<Running>,
    ticker: Option<Ticker>,
    tick_pending: bool,
    /// The last scenario parsed, by its file (parsing costs more than a slice).
    parsed: LastParsed,
}

/// A worker's last scenario, kept by its precompiled file: parsing costs more than a slice.
#[derive(Default)]
pub struct LastParsed(Option<(Vec<u8>, Rc<Scenario>)>);

impl LastParsed {
    /// The scenario of `bytes`, parsed unless it is the last one.
    pub fn get(&mut self, name: &str, bytes: Vec<u8>) -> Result<Rc<Scenario>, String> {
        if let Some((parsed_bytes, scenario)) = &self.0
            && *parsed_bytes == bytes
        {
            return Ok(scenario.clone());
        }
        let scenario =
            Rc::new(Scenario::from_precompiled(name, &bytes).map_err(|e| e.to_string())?);
        self.0 = Some((bytes, scenario.clone()));
        Ok(scenario)
    }
}

impl RunWorker {
    fn kick(&mut self, scope: &WorkerScope<Self>) {
        if self.tick_pending {
            return;
        }
        self.tick_pending = true;
        match &self.ticker {
            Some(ticker) => ticker.post(),
            None => scope.send_message(Tick),
        }
    }

    #[allow(clippy::type_complexity)]
    fn start(
        &mut self,
        name: &str,
        bytes: Vec<u8>,
        drill: bool,
        fixes: &[String],
        seed: u64,
        at: &[(String, u64)],
    ) -> Result<(Rc<Scenario>, Option<Rc<DrillPlan>>, Replay), String> {
        let scenario = self.parsed.get(name, bytes)?;
        let plan = if drill {
            Some(Rc::new(
                DrillPlan::new(&scenario).map_err(|e| e.to_string())?,
            ))
        } else {
            None
        };
        let replay = new_replay(&scenario, plan.as_deref(), fixes, seed, at)?;
        Ok((scenario, plan, replay))
    }

    fn fail(&mut self, scope: &WorkerScope<Self>, owner: HandlerId, job: u32, message: String) {
        self.running = None;
        scope.respond(owner, FromWorker::Failed { job, message });
    }
}

impl Worker for RunWorker {
    type Message = Tick;
    type Input = ToWorker;
    type Output = FromWorker;

    fn create(scope: &WorkerScope<Self>) -> Self {
        let tick = scope.callback(|(): ()| Tick);
        RunWorker {
            running: None,
            ticker: Ticker::new(tick),
            tick_pending: false,
            parsed: LastParsed::default(),
        }
    }

    fn update(&mut self, scope: &WorkerScope<Self>, _tick: Tick) {
        self.tick_pending = false;
        let Some(run) = self.running.as_mut() else {
            return;
        };
        if run.done {
            return;
        }
        let outcome = compute_for(&mut run.replay, SLICE_MS, EVENTS_PER_CHECK);
        let (job, owner) = (run.job, run.owner);
        match outcome {
            Err(message) => self.fail(scope, owner, job, message),
            Ok(done) => {
                let now = now_ms();
                if !done && run.sent_at_ms.is_some_and(|at| now - at < SEND_EVERY_MS) {
                    self.kick(scope);
                    return;
                }
                run.sent_at_ms = Some(now);
                let metrics = run.replay.sim().metrics();
                let rows = metrics.rows(run.sent, metrics.len());
                let from_window = run.sent as u32;
                run.sent = metrics.len();
                run.done = done;
                scope.respond(
                    owner,
                    FromWorker::Windows {
                        job,
                        from_window,
                        rows,
                        frontier_us: run.replay.now_us(),
                        done,
                        memory_bytes: crate::clock::wasm_memory_bytes(),
                    },
                );
                if !done {
                    self.kick(scope);
                }
            }
        }
    }

    fn received(&mut self, scope: &WorkerScope<Self>, message: ToWorker, owner: HandlerId) {
        match message {
            ToWorker::Start {
                job,
                name,
                scenario,
                drill,
                fixes,
                seed,
                at,
            } => match self.start(&name, scenario, drill, &fixes, seed, &at) {
                Ok((scenario, drill, replay)) => {
                    self.running = Some(Running {
                        job,
                        owner,
                        scenario,
                        drill,
                        replay,
                        sent: 0,
                        sent_at_ms: None,
                        done: false,
                    });
                    self.kick(scope);
                }
                Err(message) => self.fail(scope, owner, job, message),
            },
            ToWorker::Fork { job, fix, at_us } => {
                let Some(run) = self.running.as_mut() else {
                    return self.fail(scope, owner, job, "there is no run to fork".into());
                };
                let forked = fork_replay(
                    &mut run.replay,
                    &run.scenario,
                    run.drill.as_deref(),
                    &fix,
                    at_us,
                );
                match forked {
                    Ok(()) => {
                        run.job = job;
                        run.owner = owner;
                        run.sent = run.sent.min(run.replay.sim().metrics().len());
                        run.sent_at_ms = None;
                        run.done = false;
                        self.kick(scope);
                    }
                    Err(err) => self.fail(scope, owner, job, err.to_string()),
                }
            }
        }
    }
}
