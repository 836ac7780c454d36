//! The player's state: which scenario is chosen and the run in progress, as a Yew reducer.

use cascade::Scenario;
use cascade::scenario;
use cascade::sim::Simulation;
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

/// The player's state.
#[derive(Clone)]
pub struct Player {
    /// The bundled scenarios.
    pub entries: Rc<Vec<ScenarioEntry>>,
    /// Index of the chosen scenario.
    pub selected: usize,
    /// The run in progress, if any (shared with the previous state; `frame` marks changes).
    pub run: Option<Rc<RefCell<Simulation>>>,
    /// Increments whenever the run advances, so views know to redraw.
    pub frame: u64,
    /// Whether the run advances by itself.
    pub playing: bool,
    /// A message for the user (an error or a status).
    pub message: Option<String>,
}

/// Virtual time advanced per animation frame while playing, µs.
pub const STEP_PER_FRAME_US: u64 = 500_000;

impl Player {
    /// The initial state: the first scenario chosen, nothing running.
    pub fn new(entries: Vec<ScenarioEntry>) -> Self {
        Player {
            entries: Rc::new(entries),
            selected: 0,
            run: None,
            frame: 0,
            playing: false,
            message: None,
        }
    }
}

/// What the user (or the frame clock) does.
pub enum Action {
    /// Choose a scenario by index.
    Select(usize),
    /// Start a fresh run of the chosen scenario and play it.
    Run,
    /// Advance the run by one frame's worth of virtual time.
    Tick,
}

impl Reducible for Player {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            Action::Select(index) if index < next.entries.len() => {
                next.selected = index;
                next.run = None;
                next.playing = false;
                next.message = None;
            }
            Action::Select(_) => return self,
            Action::Run => match &next.entries[next.selected].parsed {
                Ok(scenario) => match scenario.variant(&[], &[]) {
                    Ok(variant) => {
                        let seed = variant.file.scenario.seed;
                        next.run = Some(Rc::new(RefCell::new(Simulation::new(&variant, seed))));
                        next.frame += 1;
                        next.playing = true;
                        next.message = None;
                    }
                    Err(err) => next.message = Some(err.to_string()),
                },
                Err(err) => next.message = Some(err.clone()),
            },
            Action::Tick => {
                let Some(run) = next.run.clone() else {
                    return self;
                };
                if !next.playing {
                    return self;
                }
                let mut sim = run.borrow_mut();
                let target = sim.now_us() + STEP_PER_FRAME_US;
                if let Err(err) = sim.run_until(target) {
                    next.message = Some(err.to_string());
                    next.playing = false;
                }
                if sim.finished() {
                    next.playing = false;
                }
                next.frame += 1;
            }
        }
        Rc::new(next)
    }
}
