//! The player's state as a Yew reducer: the open scenario, its runs, the playback position and
//! the user's choices (fixes, compare mode, speed, seed).
//!
//! The runs are computed ahead of the playhead, in Web Workers on the page (or, where workers are
//! not available, on the page in slices of frames); the session keeps every window computed and
//! the windows up to the playhead, which the views draw. Play, step and seek inside the computed
//! range only move the playhead; beyond it the playhead waits.
//!
//! The runs live in a `RefCell` shared between successive states; `frame` increments whenever
//! anything a view shows may have changed.

use crate::permalink::{Link, Mode};
use crate::worker::{FromWorker, RunWorker, ToWorker, compute_for, fork_replay, new_replay};
use cascade::Replay;
use cascade::Scenario;
use cascade::drill::DrillPlan;
use cascade::metrics::Metrics;
use cascade::scenario::glossary::Glossary;
use cascade::scenario::{self, ScenarioFile};
use cascade::time::{TimeUs, s_to_us};
use gloo_worker::WorkerBridge;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use yew::Reducible;

/// One bundled scenario as the gallery shows it.
#[derive(Clone, Debug)]
pub struct ScenarioEntry {
    /// Its id.
    pub id: String,
    /// Its `[scenario]` section (title, organisation, summary), or why it could not be read.
    pub meta: Result<Rc<scenario::Meta>, String>,
    /// What the module holds of it: file name, checksum, the file if embedded (none for a
    /// scenario of the user's own).
    bundled: Option<&'static crate::bundled::Bundled>,
    /// A scenario of the user's own: its text and where it came from.
    #[cfg(feature = "authoring")]
    pub custom: Option<Rc<Custom>>,
    /// Its whole precompiled file, once fetched (or embedded).
    bytes: Rc<std::cell::OnceCell<Rc<[u8]>>>,
    /// The whole scenario, read when it is first opened.
    parsed: Rc<std::cell::OnceCell<Result<Rc<Scenario>, String>>>,
}

impl PartialEq for ScenarioEntry {
    /// Entries are built once from the bundled files: the same id and file are the same entry.
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id && Rc::ptr_eq(&self.bytes, &other.bytes)
    }
}

impl ScenarioEntry {
    /// Whether its whole file is here (fetched or embedded).
    pub fn loaded(&self) -> bool {
        self.bytes.get().is_some()
    }

    /// Where its whole file is fetched from, relative to the page (a scenario of the user's
    /// own is never fetched).
    pub fn url(&self) -> String {
        self.bundled.map(crate::bundled::url).unwrap_or_default()
    }

    /// Keeps the fetched file if it is the one this page was built with.
    pub fn accept(&self, bytes: Vec<u8>) -> Result<(), String> {
        let bundled = self.bundled.ok_or("not a bundled scenario")?;
        let bytes = crate::bundled::checked(bundled, bytes)?;
        let _ = self.bytes.set(bytes.into());
        Ok(())
    }

    /// Whether it is one of the bundled scenarios (the gallery lists only those).
    pub fn is_bundled(&self) -> bool {
        self.bundled.is_some()
    }

    /// Its whole precompiled file (empty until fetched).
    pub fn bytes(&self) -> Rc<[u8]> {
        self.bytes
            .get()
            .cloned()
            .unwrap_or_else(|| Rc::from(Vec::new()))
    }

    /// The whole scenario, or the reason it could not be read (read once, on first use: the
    /// gallery needs only the metadata, and opening the page stays quick).
    pub fn scenario(&self) -> Result<Rc<Scenario>, String> {
        let Some(bytes) = self.bytes.get() else {
            return Err(format!("“{}” is not loaded yet.", self.id));
        };
        self.parsed
            .get_or_init(|| {
                let name = self.bundled.map_or("scenario.toml", |b| b.file_name);
                Scenario::from_precompiled(name, bytes)
                    .map(Rc::new)
                    .map_err(|e| e.to_string())
            })
            .clone()
    }
}

/// Every bundled scenario, with its metadata read.
pub fn bundled_entries() -> Vec<ScenarioEntry> {
    crate::bundled::precompiled()
        .iter()
        .map(|bundled| {
            let bytes = std::cell::OnceCell::new();
            if let Some(embedded) = bundled.embedded {
                let _ = bytes.set(Rc::from(embedded));
            }
            ScenarioEntry {
                id: bundled.file_name.trim_end_matches(".toml").to_string(),
                meta: Scenario::precompiled_meta(bundled.meta)
                    .map(Rc::new)
                    .map_err(|e| format!("{}: {e}", bundled.file_name)),
                bundled: Some(bundled),
                #[cfg(feature = "authoring")]
                custom: None,
                bytes: Rc::new(bytes),
                parsed: Rc::default(),
            }
        })
        .collect()
}

/// A scenario of the user's own: its TOML and where it came from.
#[cfg(feature = "authoring")]
#[derive(Debug, PartialEq)]
pub struct Custom {
    /// The file as written.
    pub text: Rc<str>,
    /// The `?src=` path it was fetched from, if it was.
    pub src: Option<String>,
    /// Its `#scenario=` payload, or why it is too long for a link.
    pub fragment: Result<String, String>,
}

#[cfg(feature = "authoring")]
impl ScenarioEntry {
    /// An entry for a scenario of the user's own, read and checked from `text`.
    pub fn custom(
        compiled: crate::authoring::Compiled,
        text: Rc<str>,
        src: Option<String>,
    ) -> ScenarioEntry {
        let meta = compiled.scenario.file.scenario.clone();
        let fragment = crate::authoring::encode_fragment(&text);
        let bytes = std::cell::OnceCell::new();
        let _ = bytes.set(Rc::from(compiled.bytes));
        let parsed = std::cell::OnceCell::new();
        let _ = parsed.set(Ok(Rc::new(compiled.scenario)));
        ScenarioEntry {
            id: meta.id.clone(),
            meta: Ok(Rc::new(meta)),
            bundled: None,
            custom: Some(Rc::new(Custom {
                text,
                src,
                fragment,
            })),
            bytes: Rc::new(bytes),
            parsed: Rc::new(parsed),
        }
    }
}

/// The paces of a drill: real time, 10× and 60×.
pub const DRILL_SPEEDS: [f64; 3] = [1.0, 10.0, 60.0];

/// Playback speeds offered, in seconds of virtual time per second of wall time.
pub const SPEEDS: [f64; 8] = [1.0, 10.0, 60.0, 300.0, 1_000.0, 3_000.0, 10_000.0, 30_000.0];

/// Events processed between two looks at the clock while a run computes on the page.
const EVENTS_PER_SLICE: u64 = 5_000;

/// How long a worker may stay silent after a request before runs move to the page, ms (a
/// worker that cannot load its code never answers).
const WORKER_SILENCE_MS: f64 = 6_000.0;

thread_local! {
    static NEXT_JOB: Cell<u32> = const { Cell::new(1) };
}

/// A fresh job id: answers to earlier jobs are recognised and dropped.
fn next_job() -> u32 {
    NEXT_JOB.with(|n| {
        let job = n.get();
        n.set(job.wrapping_add(1));
        job
    })
}

/// The page's two simulation workers: one for the watched run, one for the run as it happened.
pub struct Workers(pub [WorkerBridge<RunWorker>; 2]);

impl PartialEq for Workers {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self, other)
    }
}

impl std::fmt::Debug for Workers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Workers")
    }
}

/// Which of a session's runs a worker computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    /// The run the user watches (with the fixes).
    Run = 0,
    /// The run as it happened.
    Baseline = 1,
}

/// Where a run is computed.
enum Engine {
    /// In a Web Worker, which streams the windows (the page).
    Worker(Rc<Workers>, Slot),
    /// On the page, in slices of animation frames (component tests, and browsers that cannot
    /// start the worker).
    Local {
        replay: Box<Replay>,
        /// Windows already copied into the feed.
        sent: usize,
    },
}

/// One run as the page sees it: every window computed so far (ahead of the playhead), and the
/// windows up to the playhead, which the views draw.
pub struct Feed {
    job: u32,
    /// In a drill, the plan its runbook actions follow.
    drill: Option<Rc<DrillPlan>>,
    /// Every window computed so far.
    all: Metrics,
    /// The windows up to the playhead.
    shown: Metrics,
    /// How many of `shown` belong to this run (the rest are the previous run's, kept visible
    /// until this one passes them).
    shown_valid: usize,
    /// Bumps whenever `shown` changes (views redraw on it: a new run can replace the windows
    /// shown by as many others).
    shown_version: u64,
    /// How far the run is computed, µs.
    pub frontier_us: TimeUs,
    /// Whether the run is computed to its end.
    pub done: bool,
    /// Why the run stopped, if it did.
    pub error: Option<String>,
    /// Since when (page clock, ms) a worker has been asked and has not answered yet.
    waiting_since_ms: Option<f64>,
    /// The worker's wasm memory as it last said, bytes.
    pub worker_memory_bytes: u64,
    engine: Engine,
}

impl Feed {
    /// Starts computing a run of `scenario` with `fixes` from the start (whose variant is
    /// `file`), a seed and fixes applied at moments.
    #[allow(clippy::too_many_arguments)]
    fn start(
        scenario: &Rc<Scenario>,
        source: &Rc<[u8]>,
        drill: Option<Rc<DrillPlan>>,
        file: &ScenarioFile,
        fixes: &[String],
        seed: u64,
        at: &[(String, TimeUs)],
        workers: Option<(Rc<Workers>, Slot)>,
        previous: Option<Metrics>,
    ) -> Result<Feed, String> {
        let empty = Metrics::new(
            file,
            cascade::time::ms_to_us(file.scenario.window_ms).max(1),
        );
        let job = next_job();
        let engine = match workers {
            Some((workers, slot)) => {
                workers.0[slot as usize].send(ToWorker::Start {
                    job,
                    name: scenario.source_name().to_string(),
                    scenario: source.to_vec(),
                    drill: drill.is_some(),
                    fixes: fixes.to_vec(),
                    seed,
                    at: at.to_vec(),
                });
                Engine::Worker(workers, slot)
            }
            None => Engine::Local {
                replay: Box::new(new_replay(scenario, drill.as_deref(), fixes, seed, at)?),
                sent: 0,
            },
        };
        let shown = match previous {
            Some(previous) if previous.names() == empty.names() => previous,
            _ => empty.empty_like(),
        };
        Ok(Feed {
            job,
            drill,
            all: empty,
            shown,
            shown_valid: 0,
            shown_version: 0,
            frontier_us: 0,
            done: false,
            error: None,
            waiting_since_ms: matches!(engine, Engine::Worker(..)).then(crate::clock::now_ms),
            worker_memory_bytes: 0,
            engine,
        })
    }

    /// The windows up to the playhead.
    pub fn shown(&self) -> &Metrics {
        &self.shown
    }

    /// Every window computed so far.
    pub fn all(&self) -> &Metrics {
        &self.all
    }

    /// Whether its worker has been silent for too long after a request.
    fn worker_silent(&self, now_ms: f64) -> bool {
        self.waiting_since_ms
            .is_some_and(|since| now_ms - since > WORKER_SILENCE_MS)
    }

    /// Whether the run is computed past `t_us` (or has stopped).
    fn covers(&self, t_us: TimeUs) -> bool {
        self.done || self.error.is_some() || self.frontier_us >= t_us
    }

    /// Applies a fix at `at_us` (the run forks there): what is computed before stays.
    fn fork(&mut self, scenario: &Scenario, fix: &str, at_us: TimeUs) -> Result<(), String> {
        let job = next_job();
        match &mut self.engine {
            Engine::Worker(workers, slot) => {
                workers.0[*slot as usize].send(ToWorker::Fork {
                    job,
                    fix: fix.to_string(),
                    at_us,
                });
                let keep = (at_us / self.all.window_us) as usize;
                self.all.truncate(keep);
                self.waiting_since_ms = Some(crate::clock::now_ms());
            }
            Engine::Local { replay, sent, .. } => {
                fork_replay(replay, scenario, self.drill.as_deref(), fix, at_us)?;
                *sent = replay.sim().metrics().len();
                self.all.truncate(*sent);
            }
        }
        self.job = job;
        self.frontier_us = at_us;
        self.done = false;
        self.error = None;
        self.shown_valid = self.shown_valid.min(self.all.len());
        Ok(())
    }

    /// Computes on the page for up to `budget_ms` (local engines only); returns whether it did.
    fn pump(&mut self, budget_ms: f64) -> bool {
        let Engine::Local { replay, sent, .. } = &mut self.engine else {
            return false;
        };
        if self.done || self.error.is_some() {
            return false;
        }
        match compute_for(replay, budget_ms, EVENTS_PER_SLICE) {
            Ok(done) => self.done = done,
            Err(err) => self.error = Some(err),
        }
        let metrics = replay.sim().metrics();
        let _ = self.all.push_rows(&metrics.rows(*sent, metrics.len()));
        *sent = metrics.len();
        self.frontier_us = replay.now_us();
        true
    }

    /// Takes what a worker sent, if it answers this feed's job.
    fn receive(&mut self, message: FromWorker) -> Option<String> {
        match message {
            FromWorker::Windows {
                job,
                from_window,
                rows,
                frontier_us,
                done,
                memory_bytes,
            } if job == self.job => {
                self.worker_memory_bytes = memory_bytes;
                self.waiting_since_ms = None;
                self.all.truncate(from_window as usize);
                self.shown_valid = self.shown_valid.min(self.all.len());
                if let Err(err) = self.all.push_rows(&rows) {
                    self.error = Some(err.clone());
                    return Some(err);
                }
                self.frontier_us = frontier_us;
                self.done = done;
                None
            }
            FromWorker::Failed { job, message } if job == self.job => {
                self.waiting_since_ms = None;
                self.error = Some(message.clone());
                Some(message)
            }
            _ => None,
        }
    }

    /// Brings the shown windows to `t_us` (as far as computed). Windows of the previous run
    /// (after a change of fixes or a fork) stay shown until this run's replace them, as they are
    /// computed.
    fn show_until(&mut self, t_us: TimeUs) {
        let window_us = self.all.window_us.max(1);
        let wanted = (t_us / window_us) as usize;
        let fresh = self.all.len().min(wanted);
        let before = (self.shown.len(), self.shown_valid);
        if self.shown.len() > wanted {
            self.shown.truncate(wanted);
        }
        self.shown_valid = self.shown_valid.min(self.shown.len());
        if self.shown_valid < self.shown.len() {
            let upto = fresh.min(self.shown.len());
            if upto > self.shown_valid {
                self.shown.overwrite_from(&self.all, self.shown_valid, upto);
                self.shown_valid = upto;
            }
        }
        if self.shown_valid == self.shown.len() {
            self.shown.extend_from(&self.all, fresh);
            self.shown_valid = self.shown.len();
        }
        if (self.shown.len(), self.shown_valid) != before {
            self.shown_version += 1;
        }
    }

    /// Changes whenever the windows shown change.
    pub fn shown_version(&self) -> u64 {
        self.shown_version
    }

    /// How many of the windows shown are this run's (the rest are the previous run's).
    pub fn fresh_windows(&self) -> usize {
        self.shown_valid
    }
}

/// What a session rebuilt from another (new fixes, new seed) carries over.
#[derive(Default)]
struct Carried {
    /// The windows shown of the run and of the run as it happened, shown until the new runs'
    /// replace them.
    shown: Option<(Metrics, Option<Metrics>)>,
    /// The run as it happened, kept as computed when it does not change (same seed).
    baseline: Option<Feed>,
}

/// An open scenario and its runs.
pub struct Session {
    /// Index in the gallery.
    pub entry: usize,
    /// The scenario, with the parameters of `set`.
    pub scenario: Rc<Scenario>,
    /// The scenario as documented (the run as it happened is of this one).
    documented: Rc<Scenario>,
    /// Declared parameters set to other values ("what if"): (path, value).
    pub set: Vec<(String, f64)>,
    /// Its precompiled file, which the workers read.
    source: Rc<[u8]>,
    /// The seed of both runs.
    pub seed: u64,
    /// Fixes applied from the start, in the scenario's order.
    pub fixes: Vec<String>,
    /// Fixes applied mid-run: (name, µs), in time order.
    pub scheduled: Vec<(String, TimeUs)>,
    /// The run the user watches (with the fixes).
    pub run: Feed,
    /// The run as it happened, for comparison (only while fixes are in play).
    pub baseline: Option<Feed>,
    /// The playhead: where the user wants the runs to be; views show the runs up to it as far as
    /// they are computed.
    pub target_us: TimeUs,
    end_us: TimeUs,
    workers: Option<Rc<Workers>>,
    /// The scenario in force at the playhead, cached by the count of changes applied by then.
    file_now: RefCell<Option<(usize, Rc<ScenarioFile>)>>,
    /// The scenario with the session's fixes from the start.
    variant: Rc<scenario::Variant>,
    /// In a drill: the plan (the story hidden, `scheduled` holds the trainee's runbook actions).
    pub drill: Option<Rc<DrillPlan>>,
    /// The alert rules' pages over the windows shown, cached by the shown windows' version
    /// (the frame loop, the pager and the drill panel all ask, every frame).
    pages: RefCell<Option<(u64, Rc<Vec<cascade::drill::Page>>)>>,
}

impl Session {
    #[allow(clippy::too_many_arguments)]
    fn new(
        entry: usize,
        documented: Rc<Scenario>,
        source: Rc<[u8]>,
        drill: Option<Rc<DrillPlan>>,
        seed: u64,
        fixes: Vec<String>,
        scheduled: Vec<(String, TimeUs)>,
        set: Vec<(String, f64)>,
        workers: Option<Rc<Workers>>,
        carried: &mut Carried,
    ) -> Result<Session, String> {
        // With parameters set, the run is of the scenario they make, which its worker receives
        // precompiled (the player's module, which the workers run, has no "what if" of its own).
        #[cfg(feature = "authoring")]
        let (scenario, run_source) = if set.is_empty() {
            (documented.clone(), source.clone())
        } else {
            let what_if = documented.what_if(&set).map_err(|e| e.to_string())?;
            let bytes: Rc<[u8]> = Rc::from(what_if.precompile());
            (Rc::new(what_if), bytes)
        };
        #[cfg(not(feature = "authoring"))]
        let (scenario, run_source) = (documented.clone(), source.clone());
        let (previous_run, previous_baseline) = match carried.shown.take() {
            Some((run, baseline)) => (Some(run), baseline),
            None => (None, None),
        };
        let with = |slot| workers.clone().map(|w| (w, slot));
        // The variant is read once per session: every render asks for the scenario in force.
        let variant = match &drill {
            Some(plan) => Rc::new(plan.variant.clone()),
            None => Rc::new(scenario.with_fixes(&fixes).map_err(|e| e.to_string())?),
        };
        let run = Feed::start(
            &scenario,
            &run_source,
            drill.clone(),
            &variant.file,
            &fixes,
            seed,
            &scheduled,
            with(Slot::Run),
            previous_run,
        )?;
        // A drill's debrief compares with the run as it happened: it is computed from the start.
        let baseline =
            if fixes.is_empty() && scheduled.is_empty() && drill.is_none() && set.is_empty() {
                None
            } else if let Some(kept) = carried.baseline.take() {
                // The run as it happened does not change with the fixes: keep it as computed.
                Some(kept)
            } else {
                Some(Feed::start(
                    &documented,
                    &source,
                    None,
                    &documented.file,
                    &[],
                    seed,
                    &[],
                    with(Slot::Baseline),
                    previous_baseline,
                )?)
            };
        let end_us = s_to_us(scenario.file.scenario.duration_s);
        Ok(Session {
            entry,
            scenario,
            documented,
            set,
            source,
            seed,
            fixes,
            scheduled,
            run,
            baseline,
            target_us: 0,
            end_us,
            workers,
            file_now: RefCell::new(None),
            variant,
            drill,
            pages: RefCell::new(None),
        })
    }

    /// The scenario as documented and its precompiled file: what a sweep's workers vary.
    #[cfg(feature = "authoring")]
    pub fn documented(&self) -> (Rc<Scenario>, Rc<[u8]>) {
        (self.documented.clone(), self.source.clone())
    }

    /// End of the run, µs.
    pub fn end_us(&self) -> TimeUs {
        self.end_us
    }

    /// Whether fixes (from the start or mid-run) make this run differ from what happened.
    pub fn has_fixes(&self) -> bool {
        !self.fixes.is_empty() || !self.scheduled.is_empty() || !self.set.is_empty()
    }

    fn feeds_mut(&mut self) -> impl Iterator<Item = &mut Feed> {
        std::iter::once(&mut self.run).chain(self.baseline.as_mut())
    }

    fn feeds(&self) -> impl Iterator<Item = &Feed> {
        std::iter::once(&self.run).chain(self.baseline.as_ref())
    }

    /// Whether the runs are still being computed up to the playhead.
    pub fn catching_up(&self) -> bool {
        self.feeds().any(|f| !f.covers(self.target_us))
    }

    /// The moment the views show: the playhead, or how far the runs are computed if less.
    pub fn shown_us(&self) -> TimeUs {
        self.feeds()
            .map(|f| {
                if f.covers(self.target_us) {
                    self.target_us
                } else {
                    f.frontier_us
                }
            })
            .min()
            .unwrap_or(0)
            .min(self.target_us)
    }

    /// Wasm memory in use for this session: the page's and its workers', bytes (each only
    /// grows, so this is the peak so far).
    pub fn wasm_memory_bytes(&self) -> u64 {
        crate::clock::wasm_memory_bytes() + self.feeds().map(|f| f.worker_memory_bytes).sum::<u64>()
    }

    /// Changes whenever the windows shown of either run change.
    pub fn shown_version(&self) -> u64 {
        self.feeds().map(Feed::shown_version).sum()
    }

    /// How far both runs are computed, µs (the end once they are done).
    pub fn computed_us(&self) -> TimeUs {
        self.feeds()
            .map(|f| if f.done { self.end_us } else { f.frontier_us })
            .min()
            .unwrap_or(0)
    }

    fn sync(&mut self) {
        let t = self.target_us;
        for feed in self.feeds_mut() {
            feed.show_until(t);
        }
    }

    fn rewind_to(&mut self, t_us: TimeUs) {
        self.target_us = t_us.min(self.end_us);
        self.sync();
    }

    /// Whether a worker of this session has not answered in time (it could not start).
    fn workers_silent(&self) -> bool {
        let now = crate::clock::now_ms();
        self.feeds().any(|f| f.worker_silent(now))
    }

    /// Computes the runs on the page from now on (the workers could not start): both runs
    /// start again there, with the same fixes, and the playhead stays.
    fn compute_on_page(&mut self) -> Result<(), String> {
        self.workers = None;
        let previous = (
            self.run.shown().clone(),
            self.baseline.as_ref().map(|b| b.shown().clone()),
        );
        let mut fresh = Session::new(
            self.entry,
            self.documented.clone(),
            self.source.clone(),
            self.drill.clone(),
            self.seed,
            self.fixes.clone(),
            self.scheduled.clone(),
            self.set.clone(),
            None,
            &mut Carried {
                shown: Some(previous),
                baseline: None,
            },
        )?;
        fresh.rewind_to(self.target_us);
        *self = fresh;
        Ok(())
    }

    /// Computes local runs for up to `budget_ms`; returns whether any did work.
    fn pump(&mut self, budget_ms: f64) -> bool {
        let mut worked = false;
        for feed in self.feeds_mut() {
            worked |= feed.pump(budget_ms);
        }
        worked
    }

    /// Applies a fix from the playhead on: the watched run forks there.
    fn apply_fix_now(&mut self, name: &str) -> Result<(), String> {
        let at_us = self.shown_us();
        if at_us == 0 {
            return Err(format!(
                "`{name}` would apply at the start: choose it as a fix from the start instead"
            ));
        }
        let known = match &self.drill {
            Some(plan) => plan.names().any(|n| n == name),
            None => self.scenario.file.fixes.contains_key(name),
        };
        if !known {
            return Err(format!("there is no fix `{name}`"));
        }
        let scenario = self.scenario.clone();
        self.run.fork(&scenario, name, at_us)?;
        let index = self.scheduled.partition_point(|(_, t)| *t <= at_us);
        self.scheduled.insert(index, (name.to_string(), at_us));
        if self.baseline.is_none() {
            let workers = self.workers.clone().map(|w| (w, Slot::Baseline));
            let documented = self.documented.clone();
            self.baseline = Some(Feed::start(
                &documented,
                &self.source,
                None,
                &documented.file,
                &[],
                self.seed,
                &[],
                workers,
                None,
            )?);
        }
        self.file_now.replace(None);
        self.sync();
        Ok(())
    }

    /// Takes a worker's answer for one of the runs; returns an error to show, if any.
    fn receive(&mut self, slot: Slot, message: FromWorker) -> Option<String> {
        let feed = match slot {
            Slot::Run => Some(&mut self.run),
            Slot::Baseline => self.baseline.as_mut(),
        }?;
        let error = feed.receive(message);
        self.sync();
        error
    }

    /// The scenario in force at the moment shown: the variant with the timeline's `set`
    /// actions and the fixes applied mid-run up to then, in time order (fixes first at equal
    /// times, as the run applies them).
    pub fn file_now(&self) -> Rc<ScenarioFile> {
        let now = self.shown_us();
        let variant = &self.variant;
        let mut changes: Vec<(TimeUs, u8, usize)> = variant
            .file
            .timeline
            .iter()
            .enumerate()
            .filter(|(_, e)| e.action == scenario::Action::Set && s_to_us(e.at_s) < now)
            .map(|(i, e)| (s_to_us(e.at_s), 1, i))
            .collect();
        changes.extend(
            self.scheduled
                .iter()
                .enumerate()
                .filter(|(_, (_, t))| *t <= now)
                .map(|(i, (_, t))| (*t, 0, i)),
        );
        if let Some((count, file)) = self.file_now.borrow().as_ref()
            && *count == changes.len()
        {
            return file.clone();
        }
        cascade::small_sort::sort(&mut changes);
        let (mut file, mut tree) = (variant.file.clone(), variant.tree.clone());
        for (_, kind, index) in &changes {
            let set = if *kind == 1 {
                file.timeline[*index].set.clone()
            } else {
                match self.scenario.file.fixes.get(&self.scheduled[*index].0) {
                    Some(fix) => fix.set.clone(),
                    None => continue,
                }
            };
            if let Ok(patched) = scenario::patched_live(&tree, &set) {
                (file, tree) = patched;
            }
        }
        let file = Rc::new(file);
        self.file_now.replace(Some((changes.len(), file.clone())));
        file
    }

    /// The beats of the story, in time order (the file may list them in any order).
    pub fn beats_in_order(&self) -> Vec<cascade::scenario::Beat> {
        let mut beats = self.scenario.file.beats.clone();
        cascade::small_sort::sort_by(&mut beats, |a, b| a.at_s < b.at_s);
        beats
    }

    /// Every firing of the scenario's alert rules over the windows shown.
    pub fn pages(&self) -> Rc<Vec<cascade::drill::Page>> {
        let version = self.run.shown_version();
        if let Some((at, pages)) = self.pages.borrow().as_ref()
            && *at == version
        {
            return pages.clone();
        }
        let pages = Rc::new(cascade::drill::pages(
            self.run.shown(),
            &self.scenario.file.drill.alerts,
        ));
        self.pages.replace(Some((version, pages.clone())));
        pages
    }

    /// Times of the beats, s, in order (each chart asks on every draw: no beat is cloned).
    pub fn beat_times_s(&self) -> Vec<f64> {
        // On call, the story's moments would give it away.
        if self.drill.is_some() && self.target_us < self.end_us {
            return Vec::new();
        }
        let mut times: Vec<f64> = self.scenario.file.beats.iter().map(|b| b.at_s).collect();
        cascade::small_sort::sort_by(&mut times, |a, b| a < b);
        times
    }
}

/// The player's state.
#[derive(Clone)]
pub struct Player {
    /// The bundled scenarios.
    pub entries: Rc<Vec<ScenarioEntry>>,
    /// The open scenario (none: the gallery is shown).
    pub session: Option<Rc<RefCell<Session>>>,
    /// Whether the target time advances by itself.
    pub playing: bool,
    /// Virtual seconds per wall second.
    pub speed: f64,
    /// Overlay the run as it happened on the charts.
    pub compare: bool,
    /// Whether the keyboard help is open.
    pub help: bool,
    /// Increments whenever what is shown may have changed.
    pub frame: u64,
    /// Increments when the runs change discontinuously (seek, fix, seed), so charts redraw.
    pub revision: u64,
    /// A message for the user (an error or a notice).
    pub message: Option<String>,
    /// Why the last change of a fix was refused: (fix, message), shown next to that fix.
    pub fix_error: Option<(String, String)>,
    /// The compact player for iframes.
    pub embed: bool,
    /// Fix switches in the compact player.
    pub embed_fixes: bool,
    /// The simulation workers (none: runs are computed on the page).
    pub workers: Option<Rc<Workers>>,
    /// A permalink is about to open (the page shows neither the gallery nor a player yet).
    pub opening: bool,
    /// A scenario's file being fetched, and what to do once it is here.
    pub fetching: Option<Fetch>,
    /// Replay, lesson or drill.
    pub mode: Mode,
    /// In a lesson: the questions' state.
    pub lesson: Option<Lesson>,
    /// The glossary, once fetched.
    pub glossary: Option<Rc<Glossary>>,
    /// The glossary dialog, open at a term (empty: at the top).
    pub glossary_term: Option<String>,
    /// In a drill: how many alert rules have paged the trainee (a new one pauses the drill).
    pub pages_seen: usize,
    /// The editor, open on this text (none: closed).
    #[cfg(feature = "authoring")]
    pub editor: Option<Editing>,
}

/// The text the editor opened on: a new value (a copy of another scenario, a file opened)
/// replaces what the editor holds.
#[cfg(feature = "authoring")]
#[derive(Clone, Debug, PartialEq)]
pub struct Editing {
    /// The text.
    pub text: Rc<str>,
    /// Counts the texts the editor was given.
    pub version: u64,
}

/// A lesson's questions for the open scenario: what the trainee chose, which answers were
/// shown, and the one being asked or answered now.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Lesson {
    /// The choice made for each question.
    pub answers: Vec<Option<u32>>,
    /// Whether each answer has been shown.
    pub revealed: Vec<bool>,
    /// The question asked now (the replay waits).
    pub asking: Option<usize>,
    /// The question whose answer is shown now (the replay waits).
    pub revealing: Option<usize>,
}

#[cfg(feature = "training")]
impl Lesson {
    /// A lesson over `scenario`'s questions, with the answers given before.
    pub fn new(scenario: &Scenario) -> Lesson {
        let answers = crate::progress::answers(scenario.id(), scenario.file.questions.len());
        let revealed = answers.iter().map(Option::is_some).collect();
        Lesson {
            answers,
            revealed,
            asking: None,
            revealing: None,
        }
    }

    /// The moments the replay stops at (µs): each unanswered question's beat, each answered
    /// one's reveal; as (µs, question, is a reveal).
    fn stops(&self, scenario: &Scenario) -> Vec<(TimeUs, usize, bool)> {
        let file = &scenario.file;
        let mut stops = Vec::new();
        for (q, question) in file.questions.iter().enumerate() {
            match self.answers.get(q).copied().flatten() {
                None => {
                    let beat = file.beats.get(question.beat as usize);
                    stops.push((s_to_us(beat.map_or(0.0, |b| b.at_s)), q, false));
                }
                Some(_) if !self.revealed.get(q).copied().unwrap_or(true) => {
                    stops.push((s_to_us(question.reveal_s), q, true));
                }
                Some(_) => {}
            }
        }
        cascade::small_sort::sort_by_key(&mut stops, |s| s.0);
        stops
    }
}

/// A scenario's file the page is fetching before it can do `then`.
#[derive(Clone, Debug, PartialEq)]
pub struct Fetch {
    /// The entry in the gallery.
    pub index: usize,
    /// What was asked for (opening the scenario, or a link to it).
    pub then: Box<Action>,
}

impl Player {
    /// The gallery, nothing open.
    pub fn new(entries: Vec<ScenarioEntry>) -> Self {
        Player {
            entries: Rc::new(entries),
            session: None,
            playing: false,
            speed: 60.0,
            compare: true,
            help: false,
            frame: 0,
            revision: 0,
            message: None,
            fix_error: None,
            embed: false,
            embed_fixes: false,
            workers: None,
            opening: false,
            fetching: None,
            mode: Mode::Replay,
            lesson: None,
            glossary: None,
            glossary_term: None,
            pages_seen: 0,
            #[cfg(feature = "authoring")]
            editor: None,
        }
    }

    /// The permalink of what is shown now (none in the gallery).
    pub fn link(&self) -> Option<Link> {
        let session = self.session.as_ref()?.borrow();
        let scenario = &session.scenario;
        #[cfg(feature = "authoring")]
        let custom = self.custom(&session);
        Some(Link {
            scenario: scenario.id().to_string(),
            fixes: session.fixes.clone(),
            fixes_at: session
                .scheduled
                .iter()
                .map(|(name, at_us)| (name.clone(), *at_us as f64 / 1e6))
                .collect(),
            seed: (session.seed != scenario.file.scenario.seed).then_some(session.seed),
            t_s: (session.target_us > 0).then_some(session.target_us as f64 / 1e6),
            speed: Some(self.speed),
            compare: (!self.compare).then_some(false),
            embed: self.embed,
            embed_fixes: self.embed_fixes,
            mode: self.mode,
            #[cfg(feature = "authoring")]
            set: session.set.clone(),
            #[cfg(feature = "authoring")]
            src: custom.as_ref().and_then(|c| c.src.clone()),
            #[cfg(feature = "authoring")]
            fragment: custom
                .filter(|c| c.src.is_none())
                .and_then(|c| c.fragment.clone().ok()),
        })
    }

    /// The open scenario's own text and origin, when it is the user's.
    #[cfg(feature = "authoring")]
    pub fn custom(&self, session: &Session) -> Option<Rc<Custom>> {
        self.entries.get(session.entry)?.custom.clone()
    }

    /// Gives the editor a new text.
    #[cfg(feature = "authoring")]
    fn edit(&mut self, text: Rc<str>) {
        let version = self.editor.as_ref().map_or(1, |e| e.version + 1);
        self.editor = Some(Editing { text, version });
    }

    fn open_link(&mut self, link: Link) -> Result<(), String> {
        let index = self
            .entries
            .iter()
            .rposition(|e| e.id == link.scenario)
            .ok_or_else(|| {
                format!(
                    "This link asks for a scenario, “{}”, that this Cascade Lab does not have.",
                    link.scenario
                )
            })?;
        let scenario = self.entries[index].scenario()?;
        crate::permalink::check_against(&link, &scenario)?;
        let order: Vec<&String> = scenario.file.fixes.keys().collect();
        let mut fixes = link.fixes.clone();
        cascade::small_sort::sort_by_key(&mut fixes, |f| order.iter().position(|o| *o == f));
        fixes.dedup();
        let seed = link.seed.unwrap_or(scenario.file.scenario.seed);
        let mut at: Vec<(String, TimeUs)> = link
            .fixes_at
            .iter()
            .map(|(name, t)| (name.clone(), s_to_us(*t)))
            .collect();
        cascade::small_sort::sort_by_key(&mut at, |(_, t)| *t);
        let drill = match link.mode {
            Mode::Drill => Some(Rc::new(
                DrillPlan::new(&scenario).map_err(|e| e.to_string())?,
            )),
            _ => None,
        };
        let mut session = Session::new(
            index,
            scenario.clone(),
            self.entries[index].bytes(),
            drill,
            seed,
            fixes,
            at,
            #[cfg(feature = "authoring")]
            link.set.clone(),
            #[cfg(not(feature = "authoring"))]
            Vec::new(),
            self.workers.clone(),
            &mut Carried::default(),
        )?;
        session.rewind_to(link.t_s.map_or(0, s_to_us));
        self.session = Some(Rc::new(RefCell::new(session)));
        self.speed = link.speed.unwrap_or(self.speed);
        self.compare = link.compare.unwrap_or(true);
        self.embed = link.embed;
        self.embed_fixes = link.embed_fixes;
        self.playing = false;
        self.revision += 1;
        self.mode = link.mode;
        #[cfg(feature = "training")]
        {
            self.lesson = (link.mode == Mode::Lesson).then(|| Lesson::new(&scenario));
        }
        self.pages_seen = 0;
        if link.mode == Mode::Drill {
            // The story stays hidden, and so does the run as it happened, until the debrief.
            self.compare = false;
            if !DRILL_SPEEDS.contains(&self.speed) {
                self.speed = 60.0;
            }
        }
        Ok(())
    }
}

/// What the user (or the frame clock) does.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Open a scenario by gallery index.
    Open(usize),
    /// Back to the gallery.
    Close,
    /// Play or pause.
    TogglePlay,
    /// An animation frame: `wall_ms` since the last one; spend at most about `budget_ms` of wall
    /// time catching up.
    Frame { wall_ms: f64, budget_ms: f64 },
    /// Go to a moment (µs).
    Seek(TimeUs),
    /// Go to the next beat.
    NextBeat,
    /// Go to the previous beat.
    PrevBeat,
    /// Step forwards by a small amount of virtual time.
    StepForward,
    /// Step backwards by a small amount of virtual time.
    StepBack,
    /// Set the speed (virtual s per wall s).
    SetSpeed(f64),
    /// Back to the start, paused.
    Reset,
    /// Turn a fix (applied from the start) on or off: the runs are rebuilt and catch up.
    ToggleFix(String),
    /// Apply a fix from the current moment on (the run forks here).
    ApplyFixNow(String),
    /// Show or hide the run as it happened.
    SetCompare(bool),
    /// Flip compare mode.
    ToggleCompare,
    /// Change the seed.
    SetSeed(u64),
    /// Open or close the keyboard help.
    ToggleHelp,
    /// Close the keyboard help.
    CloseHelp,
    /// Redraw everything (the colour scheme changed).
    Redraw,
    /// Forget the message.
    DismissMessage,
    /// Show a message.
    ShowMessage(String),
    /// Open what a permalink describes (on a bad link: a message and the gallery).
    OpenLink(Link),
    /// Compute runs in these workers from now on.
    UseWorkers(Rc<Workers>),
    /// A worker's answer for one of the runs.
    Worker(Slot, FromWorker),
    /// The file of the scenario being fetched has arrived (or could not be fetched).
    Fetched(Result<Vec<u8>, String>),
    /// Open a scenario by gallery index as a lesson or a drill (or a plain replay).
    OpenIn(usize, Mode),
    #[cfg(feature = "training")]
    /// The trainee's choice for a question.
    Answer(usize, u32),
    #[cfg(feature = "training")]
    /// Go on after an answer was shown.
    ContinueLesson,
    #[cfg(feature = "training")]
    /// The glossary's file has arrived (or could not be fetched).
    GlossaryFetched(Result<Vec<u8>, String>),
    #[cfg(feature = "training")]
    /// Open the glossary at a term (empty: at the top), or close it (none).
    ShowTerm(Option<String>),
    #[cfg(feature = "training")]
    /// Forget every lesson's answers and drill.
    ResetProgress,
    #[cfg(feature = "authoring")]
    /// Open a scenario of the user's own from its text (`src`: the path it was fetched from),
    /// as `link` says (none: from the start, the fixes kept where they exist).
    OpenText {
        text: Rc<str>,
        src: Option<String>,
        link: Option<Link>,
    },
    #[cfg(feature = "authoring")]
    /// Open the editor on this text (none: close it).
    Edit(Option<Rc<str>>),
    #[cfg(feature = "authoring")]
    /// Replay another configuration of the open scenario: a seed (none: the same), fixes from
    /// the start and declared parameters set (a cell of the stability map, a seed of many).
    Configure {
        seed: Option<u64>,
        fixes: Vec<String>,
        set: Vec<(String, f64)>,
    },
    #[cfg(feature = "authoring")]
    /// Set a declared parameter (none: back to the documented value); the runs start again.
    SetParameter(String, Option<f64>),
}

impl Player {
    fn step_us(session: &Session) -> TimeUs {
        (session.end_us() / 100).max(s_to_us(1.0))
    }

    /// Says so when starting the runs again from the top drops fixes applied mid-run.
    fn say_if_mid_run_fixes_clear(&mut self, session: &Session) {
        if !session.scheduled.is_empty() {
            self.message = Some(
                "Fixes applied mid-run were cleared: the run starts again from the top.".into(),
            );
        }
    }

    fn rebuild(&mut self, seed: u64, fixes: Vec<String>) {
        let Some(set) = self.session.as_ref().map(|s| s.borrow().set.clone()) else {
            return;
        };
        self.rebuild_with(seed, fixes, set);
    }

    /// Starts the runs again with this seed, these fixes from the start and these parameters.
    fn rebuild_with(&mut self, seed: u64, fixes: Vec<String>, set: Vec<(String, f64)>) {
        let Some(session) = self.session.clone() else {
            return;
        };
        let (entry, scenario, target, mut carried) = {
            let mut s = session.borrow_mut();
            let shown = (
                s.run.shown().clone(),
                s.baseline.as_ref().map(|b| b.shown().clone()),
            );
            // The same seed: the run as it happened is the same, so it is kept as computed.
            let baseline = if s.seed == seed {
                s.baseline.take()
            } else {
                None
            };
            let carried = Carried {
                shown: Some(shown),
                baseline,
            };
            (
                s.entry,
                (s.documented.clone(), s.source.clone(), s.drill.clone()),
                s.target_us,
                carried,
            )
        };
        // The previous run stays on the charts until the new one has been computed past it.
        match Session::new(
            entry,
            scenario.0,
            scenario.1,
            scenario.2,
            seed,
            fixes,
            Vec::new(),
            set,
            self.workers.clone(),
            &mut carried,
        ) {
            Ok(mut fresh) => {
                fresh.rewind_to(target);
                *session.borrow_mut() = fresh;
                self.revision += 1;
            }
            Err(err) => {
                session.borrow_mut().baseline = carried.baseline;
                self.message = Some(err);
                // Views showing what was asked for (a slider moved) show what runs again.
                self.revision += 1;
            }
        }
    }
}

impl Reducible for Player {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut next = (*self).clone();
        next.frame += 1;
        let session = next.session.clone();
        // A scenario whose file is not here yet is fetched first; the page says it is opening.
        let needs = match &action {
            Action::Open(index) => Some(*index),
            Action::OpenLink(link) => next.entries.iter().rposition(|e| e.id == link.scenario),
            _ => None,
        };
        if let Some(index) = needs
            && next.entries.get(index).is_some_and(|e| !e.loaded())
        {
            next.fetching = Some(Fetch {
                index,
                then: Box::new(action),
            });
            return Rc::new(next);
        }
        // A drill cannot be rewound or skipped through until it is over, nor fixed from the start.
        let drilling = next.mode == Mode::Drill
            && session
                .as_ref()
                .is_some_and(|s| s.borrow().target_us < s.borrow().end_us());
        if drilling
            && matches!(
                action,
                Action::Seek(_)
                    | Action::StepBack
                    | Action::StepForward
                    | Action::PrevBeat
                    | Action::NextBeat
                    | Action::Reset
                    | Action::ToggleFix(_)
                    | Action::SetSeed(_)
                    | Action::ToggleCompare
                    | Action::SetCompare(_)
            )
        {
            return self;
        }
        if let Action::SetSpeed(speed) = action
            && drilling
            && !DRILL_SPEEDS.contains(&speed)
        {
            return self;
        }
        match action {
            Action::OpenIn(index, mode) => {
                let Some(entry) = next.entries.get(index) else {
                    return self;
                };
                let link = Link {
                    scenario: entry.id.clone(),
                    mode,
                    ..Link::default()
                };
                // The player's module has no lessons or drills: the page loads again with the
                // link, and hands it to the training module.
                #[cfg(not(feature = "training"))]
                if mode != Mode::Replay {
                    if let Some(location) = web_sys::window().map(|w| w.location()) {
                        let _ = location.set_search(&crate::permalink::to_query(&link));
                    }
                    return self;
                }
                return Rc::new(next).reduce(Action::OpenLink(link));
            }
            #[cfg(feature = "training")]
            Action::Answer(q, choice) => {
                let (Some(session), Some(lesson)) = (session, next.lesson.as_mut()) else {
                    return self;
                };
                let s = session.borrow();
                let questions = &s.scenario.file.questions;
                if lesson.asking != Some(q) || q >= questions.len() {
                    return self;
                }
                lesson.answers[q] = Some(choice);
                lesson.asking = None;
                let saved: Vec<Option<(u32, bool)>> = lesson
                    .answers
                    .iter()
                    .zip(questions)
                    .map(|(a, question)| a.map(|c| (c, c == question.answer)))
                    .collect();
                crate::progress::save_answers(s.scenario.id(), &saved);
                next.playing = true;
            }
            #[cfg(feature = "training")]
            Action::ContinueLesson => {
                let Some(lesson) = next.lesson.as_mut() else {
                    return self;
                };
                if let Some(q) = lesson.revealing.take() {
                    lesson.revealed[q] = true;
                }
                next.playing = true;
            }
            #[cfg(feature = "training")]
            Action::GlossaryFetched(result) => {
                let glossary = result
                    .and_then(|b| crate::bundled::checked(crate::bundled::glossary(), b))
                    .and_then(|b| Glossary::from_precompiled(&b));
                match glossary {
                    Ok(g) => next.glossary = Some(Rc::new(g)),
                    // Without it texts are shown without links; the page says why once.
                    Err(err) => {
                        next.message = Some(format!("The glossary could not be loaded: {err}"))
                    }
                }
            }
            #[cfg(feature = "training")]
            Action::ShowTerm(term) => {
                next.glossary_term = term;
                next.playing = false;
            }
            #[cfg(feature = "training")]
            Action::ResetProgress => {
                crate::progress::reset();
                if let (Some(session), Some(_)) = (&session, &next.lesson) {
                    next.lesson = Some(Lesson::new(&session.borrow().scenario));
                }
            }
            Action::Fetched(result) => {
                let Some(fetch) = next.fetching.take() else {
                    return self;
                };
                let entry = &next.entries[fetch.index];
                match result.and_then(|bytes| entry.accept(bytes)) {
                    Ok(()) => return Rc::new(next).reduce(*fetch.then),
                    Err(err) => {
                        next.opening = false;
                        next.message = Some(format!("This scenario cannot be opened: {err}"));
                    }
                }
            }
            Action::Open(index) => {
                let Some(entry) = next.entries.get(index) else {
                    return self;
                };
                next.mode = Mode::Replay;
                next.lesson = None;
                match &entry.scenario() {
                    Ok(scenario) => match Session::new(
                        index,
                        scenario.clone(),
                        entry.bytes(),
                        None,
                        scenario.file.scenario.seed,
                        Vec::new(),
                        Vec::new(),
                        Vec::new(),
                        next.workers.clone(),
                        &mut Carried::default(),
                    ) {
                        Ok(s) => {
                            // A default speed that plays the whole replay in about a minute.
                            let ideal = s.end_us() as f64 / 1e6 / 60.0;
                            next.speed = SPEEDS
                                .iter()
                                .copied()
                                .find(|&v| v >= ideal)
                                .unwrap_or(SPEEDS[SPEEDS.len() - 1]);
                            next.session = Some(Rc::new(RefCell::new(s)));
                            next.playing = false;
                            next.message = None;
                            next.revision += 1;
                        }
                        Err(err) => next.message = Some(err),
                    },
                    Err(err) => {
                        next.message = Some(format!("This scenario cannot be opened: {err}"))
                    }
                }
            }
            Action::Close => {
                next.session = None;
                next.playing = false;
                next.mode = Mode::Replay;
                next.lesson = None;
            }
            Action::TogglePlay => {
                let Some(session) = session else { return self };
                let s = session.borrow();
                if !next.playing && s.target_us >= s.end_us() {
                    drop(s);
                    session.borrow_mut().rewind_to(0);
                    next.revision += 1;
                }
                next.playing = !next.playing;
            }
            Action::Frame { wall_ms, budget_ms } => {
                let Some(session) = session else { return self };
                let mut s = session.borrow_mut();
                let before = (s.target_us, s.shown_us());
                // A lesson stops where a question is asked or its answer shown.
                #[cfg(not(feature = "training"))]
                let stops: Vec<(TimeUs, usize, bool)> = Vec::new();
                #[cfg(feature = "training")]
                let stops = next
                    .lesson
                    .as_ref()
                    .filter(|l| l.asking.is_none() && l.revealing.is_none())
                    .map(|l| l.stops(&s.scenario))
                    .unwrap_or_default();
                #[cfg(feature = "training")]
                if let Some(&(_, q, reveal)) = stops.iter().find(|(at, ..)| *at <= s.shown_us())
                    && let Some(lesson) = next.lesson.as_mut()
                {
                    if reveal {
                        lesson.revealing = Some(q);
                    } else {
                        lesson.asking = Some(q);
                    }
                    next.playing = false;
                    return Rc::new(next);
                }
                if next
                    .lesson
                    .as_ref()
                    .is_some_and(|l| l.asking.is_some() || l.revealing.is_some())
                {
                    next.playing = false;
                }
                // A drill pauses when an alert pages.
                #[cfg(feature = "training")]
                if next.mode == Mode::Drill {
                    // Each rule pages once: a rule that flaps (a system that cycles) would
                    // otherwise stop the drill every time it fires again.
                    let pages = s.pages();
                    let paged = (0..s.scenario.file.drill.alerts.len())
                        .filter(|a| pages.iter().any(|p| p.alert == *a))
                        .count();
                    if paged > next.pages_seen {
                        next.pages_seen = paged;
                        next.playing = false;
                        return Rc::new(next);
                    }
                }
                if next.playing {
                    // The playhead moves at the chosen speed, but never past what is computed
                    // (nor past a lesson's next stop).
                    let advance = (next.speed * wall_ms.clamp(0.0, 250.0) * 1_000.0) as TimeUs;
                    let stop = stops.first().map_or(TimeUs::MAX, |s| s.0);
                    let wanted = (s.target_us + advance).min(s.end_us()).min(stop);
                    let computed = s.computed_us();
                    s.target_us = wanted.min(computed.max(s.target_us));
                }
                // A worker that never answers could not start: compute on the page instead.
                if s.workers_silent() {
                    next.workers = None;
                    next.message = Some(
                        "The simulation worker did not start, so runs are computed on this page \
                         (more slowly)."
                            .into(),
                    );
                    if let Err(err) = s.compute_on_page() {
                        next.message = Some(err);
                    }
                    next.revision += 1;
                }
                // Runs computed on the page take the frame's budget; workers need nothing here.
                let worked = s.pump(budget_ms);
                if worked || next.playing {
                    s.sync();
                }
                if next.playing && s.target_us >= s.end_us() && !s.catching_up() {
                    next.playing = false;
                } else if !worked && before == (s.target_us, s.shown_us()) {
                    return self;
                }
            }
            Action::Seek(t_us) => {
                let Some(session) = session else { return self };
                session.borrow_mut().rewind_to(t_us);
                next.revision += 1;
            }
            Action::NextBeat | Action::PrevBeat => {
                let Some(session) = session else { return self };
                let mut s = session.borrow_mut();
                let now_s = s.target_us as f64 / 1e6;
                let times = s.beat_times_s();
                let target = if action == Action::NextBeat {
                    times.iter().copied().find(|&t| t > now_s + 1e-6)
                } else {
                    times.iter().copied().rev().find(|&t| t < now_s - 1e-6)
                };
                let Some(t) = target else { return self };
                s.rewind_to(s_to_us(t));
                next.playing = false;
                next.revision += 1;
            }
            Action::StepForward | Action::StepBack => {
                let Some(session) = session else { return self };
                let mut s = session.borrow_mut();
                let step = Self::step_us(&s);
                let t = if action == Action::StepForward {
                    s.target_us.saturating_add(step)
                } else {
                    s.target_us.saturating_sub(step)
                };
                s.rewind_to(t);
                next.playing = false;
                next.revision += 1;
            }
            Action::SetSpeed(speed) => next.speed = speed.clamp(0.1, 1e6),
            Action::Reset => {
                let Some(session) = session else { return self };
                session.borrow_mut().rewind_to(0);
                next.playing = false;
                next.revision += 1;
            }
            Action::ToggleFix(name) => {
                let Some(session) = session else { return self };
                next.fix_error = None;
                next.say_if_mid_run_fixes_clear(&session.borrow());
                let (seed, fixes) = {
                    let s = session.borrow();
                    let mut fixes = s.fixes.clone();
                    if let Some(i) = fixes.iter().position(|f| *f == name) {
                        fixes.remove(i);
                    } else {
                        fixes.push(name);
                    }
                    // Keep the scenario's order so that the same choice is the same run.
                    let order: Vec<&String> = s.scenario.file.fixes.keys().collect();
                    cascade::small_sort::sort_by_key(&mut fixes, |f| {
                        order.iter().position(|o| *o == f)
                    });
                    (s.seed, fixes)
                };
                next.rebuild(seed, fixes);
            }
            Action::ApplyFixNow(name) => {
                let Some(session) = session else { return self };
                let mut s = session.borrow_mut();
                next.fix_error = None;
                let result = if s.catching_up() {
                    Err("Wait until the run is computed up to here, then apply the fix.".into())
                } else {
                    s.apply_fix_now(&name)
                };
                next.fix_error = result.err().map(|message| (name, message));
                next.revision += 1;
            }
            Action::SetCompare(on) => next.compare = on,
            Action::ToggleCompare => next.compare = !next.compare,
            Action::SetSeed(seed) => {
                let Some(session) = session else { return self };
                let fixes = session.borrow().fixes.clone();
                if !session.borrow().scheduled.is_empty() {
                    next.message = Some("Fixes applied mid-run are cleared by a new seed.".into());
                }
                next.rebuild(seed, fixes);
            }
            Action::ToggleHelp => next.help = !next.help,
            Action::CloseHelp if !next.help => return self,
            Action::CloseHelp => next.help = false,
            Action::Redraw => next.revision += 1,
            Action::DismissMessage => {
                next.message = None;
                next.fix_error = None;
            }
            Action::ShowMessage(message) => next.message = Some(message),
            Action::UseWorkers(workers) => next.workers = Some(workers),
            Action::Worker(slot, message) => {
                let Some(session) = session else { return self };
                if let Some(err) = session.borrow_mut().receive(slot, message) {
                    next.message = Some(err);
                    next.playing = false;
                }
            }
            #[cfg(feature = "authoring")]
            Action::OpenText { text, src, link } => {
                next.opening = false;
                let name = src.as_deref().unwrap_or("your scenario");
                let name = name.rsplit('/').next().unwrap_or(name).to_string();
                match crate::authoring::compile(&name, &text) {
                    Ok(compiled) => {
                        let id = compiled.scenario.id().to_string();
                        let fixes: Vec<String> = match (&link, &session) {
                            (Some(_), _) => Vec::new(),
                            (None, Some(s)) => s
                                .borrow()
                                .fixes
                                .iter()
                                .filter(|f| compiled.scenario.file.fixes.contains_key(*f))
                                .cloned()
                                .collect(),
                            (None, None) => Vec::new(),
                        };
                        let entry = ScenarioEntry::custom(compiled, text, src);
                        // Too long for a link: the address cannot carry it; say so.
                        if let Some(Err(too_long)) = entry
                            .custom
                            .as_ref()
                            .filter(|c| c.src.is_none())
                            .map(|c| c.fragment.clone())
                        {
                            next.message = Some(too_long);
                        }
                        // One scenario of the user's own at a time, after the bundled ones.
                        let mut entries: Vec<ScenarioEntry> = next
                            .entries
                            .iter()
                            .filter(|e| e.is_bundled())
                            .cloned()
                            .collect();
                        entries.push(entry);
                        next.entries = Rc::new(entries);
                        let link = link.unwrap_or_else(|| Link {
                            fixes,
                            speed: Some(next.speed),
                            ..Link::default()
                        });
                        let link = Link {
                            scenario: id,
                            ..link
                        };
                        return Rc::new(next).reduce(Action::OpenLink(link));
                    }
                    Err(err) => {
                        // The editor shows the text with the error at its line.
                        if next.editor.as_ref().is_none_or(|e| *e.text != *text) {
                            next.edit(text);
                        }
                        next.message = Some(format!("This scenario cannot be opened: {err}"));
                    }
                }
            }
            #[cfg(feature = "authoring")]
            Action::SetParameter(path, value) => {
                let Some(session) = session else { return self };
                let (seed, fixes, mut set) = {
                    let s = session.borrow();
                    (s.seed, s.fixes.clone(), s.set.clone())
                };
                set.retain(|(p, _)| *p != path);
                if let Some(value) = value {
                    set.push((path, value));
                }
                next.playing = false;
                next.rebuild_with(seed, fixes, set);
            }
            #[cfg(feature = "authoring")]
            Action::Configure { seed, fixes, set } => {
                let Some(session) = session else { return self };
                next.say_if_mid_run_fixes_clear(&session.borrow());
                let seed = seed.unwrap_or(session.borrow().seed);
                next.playing = false;
                next.rebuild_with(seed, fixes, set);
            }
            #[cfg(feature = "authoring")]
            Action::Edit(text) => match text {
                Some(text) => next.edit(text),
                None => next.editor = None,
            },
            Action::OpenLink(link) => {
                next.opening = false;
                if let Err(err) = next.open_link(link) {
                    next.session = None;
                    next.embed = false;
                    next.message = Some(format!("{err} Here are all the outages instead."));
                }
            }
        }
        Rc::new(next)
    }
}
