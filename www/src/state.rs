//! The player's state as a Yew reducer: the open scenario, its runs, the playback position and
//! the user's choices (fixes, compare mode, speed, seed).
//!
//! The runs live in a `RefCell` shared between successive states; `frame` increments whenever
//! anything a view shows may have changed.

use crate::permalink::Link;
use cascade::Replay;
use cascade::Scenario;
use cascade::scenario;
use cascade::time::{TimeUs, US_PER_S, s_to_us};
use std::cell::RefCell;
use std::rc::Rc;
use yew::Reducible;

/// One bundled scenario as the gallery shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct ScenarioEntry {
    /// Its id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// The parsed scenario, or the reason it could not be read.
    pub parsed: Result<Rc<Scenario>, String>,
}

/// Every bundled scenario, parsed.
pub fn bundled_entries() -> Vec<ScenarioEntry> {
    scenario::bundled()
        .iter()
        .map(|b| {
            let parsed = Scenario::parse(b.file_name, b.source);
            let id = b.file_name.trim_end_matches(".toml").to_string();
            let title = parsed
                .as_ref()
                .map(|s| s.file.scenario.title.clone())
                .unwrap_or_else(|_| id.clone());
            ScenarioEntry {
                id,
                title,
                parsed: parsed.map(Rc::new).map_err(|e| e.to_string()),
            }
        })
        .collect()
}

/// Playback speeds offered, in seconds of virtual time per second of wall time.
pub const SPEEDS: [f64; 8] = [1.0, 10.0, 60.0, 300.0, 1_000.0, 3_000.0, 10_000.0, 30_000.0];

/// Events processed between two looks at the clock while catching up.
const EVENTS_PER_SLICE: u64 = 5_000;

/// Checkpoint spacing asked of a replay (it coarsens this for long runs).
const CHECKPOINT_EVERY_US: TimeUs = 10 * US_PER_S;

/// An open scenario and its runs.
pub struct Session {
    /// Index in the gallery.
    pub entry: usize,
    /// The scenario.
    pub scenario: Rc<Scenario>,
    /// The seed of both runs.
    pub seed: u64,
    /// Fixes applied from the start, in the scenario's order.
    pub fixes: Vec<String>,
    /// The run the user watches (with the fixes).
    pub run: Replay,
    /// The run as it happened, for comparison (only while fixes are in play).
    pub baseline: Option<Replay>,
    /// Where the user wants the runs to be; frames catch up with it.
    pub target_us: TimeUs,
}

impl Session {
    fn new(
        entry: usize,
        scenario: Rc<Scenario>,
        seed: u64,
        fixes: Vec<String>,
    ) -> Result<Session, String> {
        let variant = scenario.variant(&fixes, &[]).map_err(|e| e.to_string())?;
        let run = Replay::new(&variant, seed, CHECKPOINT_EVERY_US);
        let baseline = if fixes.is_empty() {
            None
        } else {
            let plain = scenario.variant(&[], &[]).map_err(|e| e.to_string())?;
            Some(Replay::new(&plain, seed, CHECKPOINT_EVERY_US))
        };
        Ok(Session {
            entry,
            scenario,
            seed,
            fixes,
            run,
            baseline,
            target_us: 0,
        })
    }

    /// End of the run, µs.
    pub fn end_us(&self) -> TimeUs {
        self.run.sim().end_us()
    }

    /// Whether fixes (from the start or mid-run) make this run differ from what happened.
    pub fn has_fixes(&self) -> bool {
        !self.fixes.is_empty() || !self.run.scheduled().is_empty()
    }

    /// Whether the runs still have to catch up with the target.
    pub fn catching_up(&self) -> bool {
        self.run.now_us() < self.target_us
            || self
                .baseline
                .as_ref()
                .is_some_and(|b| b.now_us() < self.target_us)
    }

    fn rewind_to(&mut self, t_us: TimeUs) {
        let t_us = t_us.min(self.end_us());
        self.run.rewind(t_us);
        if let Some(b) = self.baseline.as_mut() {
            b.rewind(t_us);
        }
        self.target_us = t_us;
    }

    /// Spends up to `budget` events moving the runs towards the target.
    fn catch_up(&mut self, budget: u64) -> Result<(), String> {
        let half = if self.baseline.is_some() {
            budget / 2
        } else {
            budget
        };
        self.run
            .advance(self.target_us, half.max(1))
            .map_err(|e| e.to_string())?;
        if let Some(b) = self.baseline.as_mut() {
            b.advance(self.target_us, half.max(1))
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    /// Times of the beats, s, in order.
    pub fn beat_times_s(&self) -> Vec<f64> {
        let mut times: Vec<f64> = self.scenario.file.beats.iter().map(|b| b.at_s).collect();
        times.sort_by(f64::total_cmp);
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
        }
    }

    /// The permalink of what is shown now (none in the gallery).
    pub fn link(&self) -> Option<Link> {
        let session = self.session.as_ref()?.borrow();
        let scenario = &session.scenario;
        Some(Link {
            scenario: scenario.id().to_string(),
            fixes: session.fixes.clone(),
            fixes_at: session
                .run
                .scheduled()
                .iter()
                .map(|f| (f.name.clone(), f.at_us as f64 / 1e6))
                .collect(),
            seed: (session.seed != scenario.file.scenario.seed).then_some(session.seed),
            t_s: (session.target_us > 0).then_some(session.target_us as f64 / 1e6),
            speed: Some(self.speed),
            compare: (!self.compare).then_some(false),
            embed: self.embed,
            embed_fixes: self.embed_fixes,
        })
    }

    fn open_link(&mut self, link: Link) -> Result<(), String> {
        let index = self
            .entries
            .iter()
            .position(|e| e.id == link.scenario)
            .ok_or_else(|| {
                format!(
                    "This link asks for a scenario, “{}”, that this Cascade Lab does not have.",
                    link.scenario
                )
            })?;
        let scenario = self.entries[index].parsed.clone()?;
        crate::permalink::check_against(&link, &scenario)?;
        let order: Vec<&String> = scenario.file.fixes.keys().collect();
        let mut fixes = link.fixes.clone();
        fixes.sort_by_key(|f| order.iter().position(|o| *o == f));
        fixes.dedup();
        let seed = link.seed.unwrap_or(scenario.file.scenario.seed);
        let mut session = Session::new(index, scenario.clone(), seed, fixes)?;
        let mut at: Vec<(String, f64)> = link.fixes_at.clone();
        at.sort_by(|a, b| a.1.total_cmp(&b.1));
        for (name, t) in &at {
            session
                .run
                .schedule_fix(&scenario, name, s_to_us(*t))
                .map_err(|e| e.to_string())?;
        }
        if !at.is_empty() && session.baseline.is_none() {
            let plain = scenario.variant(&[], &[]).map_err(|e| e.to_string())?;
            session.baseline = Some(Replay::new(&plain, seed, CHECKPOINT_EVERY_US));
        }
        session.target_us = link.t_s.map_or(0, s_to_us).min(session.end_us());
        self.session = Some(Rc::new(RefCell::new(session)));
        self.speed = link.speed.unwrap_or(self.speed);
        self.compare = link.compare.unwrap_or(true);
        self.embed = link.embed;
        self.embed_fixes = link.embed_fixes;
        self.playing = false;
        self.revision += 1;
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
}

impl Player {
    fn step_us(session: &Session) -> TimeUs {
        (session.end_us() / 100).max(s_to_us(1.0))
    }

    fn rebuild(&mut self, seed: u64, fixes: Vec<String>) {
        let Some(session) = self.session.clone() else {
            return;
        };
        let (entry, scenario, target) = {
            let s = session.borrow();
            (s.entry, s.scenario.clone(), s.target_us.max(s.run.now_us()))
        };
        match Session::new(entry, scenario, seed, fixes) {
            Ok(mut fresh) => {
                fresh.target_us = target.min(fresh.end_us());
                *session.borrow_mut() = fresh;
                self.revision += 1;
            }
            Err(err) => self.message = Some(err),
        }
    }
}

impl Reducible for Player {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut next = (*self).clone();
        next.frame += 1;
        let session = next.session.clone();
        match action {
            Action::Open(index) => {
                let Some(entry) = next.entries.get(index) else {
                    return self;
                };
                match &entry.parsed {
                    Ok(scenario) => match Session::new(
                        index,
                        scenario.clone(),
                        scenario.file.scenario.seed,
                        Vec::new(),
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
            }
            Action::TogglePlay => {
                let Some(session) = session else { return self };
                let s = session.borrow();
                if !next.playing && s.run.now_us() >= s.end_us() {
                    drop(s);
                    session.borrow_mut().rewind_to(0);
                    next.revision += 1;
                }
                next.playing = !next.playing;
            }
            Action::Frame { wall_ms, budget_ms } => {
                let Some(session) = session else { return self };
                let mut s = session.borrow_mut();
                if next.playing {
                    let advance = (next.speed * wall_ms.clamp(0.0, 250.0) * 1_000.0) as TimeUs;
                    s.target_us = (s.target_us + advance).min(s.end_us());
                }
                if !s.catching_up() && !next.playing {
                    return self;
                }
                // Slices of events until the frame's budget of wall time is spent: how the work is
                // sliced never changes the run.
                let start = crate::clock::now_ms();
                while s.catching_up() {
                    if let Err(err) = s.catch_up(EVENTS_PER_SLICE) {
                        next.message = Some(err);
                        next.playing = false;
                        break;
                    }
                    if crate::clock::now_ms() - start >= budget_ms {
                        break;
                    }
                }
                if next.playing && s.target_us >= s.end_us() && !s.catching_up() {
                    next.playing = false;
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
                if !session.borrow().run.scheduled().is_empty() {
                    next.message = Some(
                        "Fixes applied mid-run were cleared: the run starts again from the top."
                            .into(),
                    );
                }
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
                    fixes.sort_by_key(|f| order.iter().position(|o| *o == f));
                    (s.seed, fixes)
                };
                next.rebuild(seed, fixes);
            }
            Action::ApplyFixNow(name) => {
                let Some(session) = session else { return self };
                let mut s = session.borrow_mut();
                next.fix_error = None;
                let mut refused = None;
                if s.catching_up() {
                    refused =
                        Some("Wait until the replay has caught up, then apply the fix.".into());
                } else if s.baseline.is_none() {
                    // The run forks from here: keep a copy of what happened for comparison.
                    let plain = s.scenario.variant(&[], &[]).map_err(|e| e.to_string());
                    let scenario = s.scenario.clone();
                    match plain {
                        Ok(plain) => {
                            let mut baseline = Replay::new(&plain, s.seed, CHECKPOINT_EVERY_US);
                            let target = s.target_us;
                            let applied = s.run.apply_fix_now(&scenario, &name);
                            match applied {
                                Ok(()) => {
                                    // The copy catches up with the fork point over the next frames.
                                    baseline.rewind(0);
                                    s.baseline = Some(baseline);
                                    s.target_us = target;
                                }
                                Err(err) => refused = Some(err.to_string()),
                            }
                        }
                        Err(err) => refused = Some(err),
                    }
                } else {
                    let scenario = s.scenario.clone();
                    if let Err(err) = s.run.apply_fix_now(&scenario, &name) {
                        refused = Some(err.to_string());
                    }
                }
                next.fix_error = refused.map(|message| (name, message));
                next.revision += 1;
            }
            Action::SetCompare(on) => next.compare = on,
            Action::ToggleCompare => next.compare = !next.compare,
            Action::SetSeed(seed) => {
                let Some(session) = session else { return self };
                let fixes = session.borrow().fixes.clone();
                if !session.borrow().run.scheduled().is_empty() {
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
            Action::OpenLink(link) => {
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
