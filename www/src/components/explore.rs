//! "How likely is collapse?" (authoring module): many seeds of the open configuration, with and
//! without its fixes, and the stability map over two declared parameters, computed by sweep
//! workers (one per core) with the core's `sweep` functions, so every number is the CLI's.

use crate::state::{Action, Session};
use crate::sweep_worker::{CellDone, CellJob, SweepWorker};
use cascade::sweep::{self, Axis, Cell, Outcome};
use gloo_worker::{Spawnable, WorkerBridge};
use std::cell::RefCell;
use std::rc::Rc;
use yew::html::Scope;
use yew::prelude::*;

/// Seeds in the "many seeds" view.
pub const MANY_SEEDS: u64 = 32;
/// Seeds per cell of the map.
pub const MAP_SEEDS: u64 = 4;
/// The most sweep workers, whatever the core count (each holds a copy of the scenario's run).
const MAX_WORKERS: usize = 8;
/// Tasks sent ahead to each worker: it starts the next while the page reads its last answer.
const TASKS_IN_FLIGHT: usize = 2;
/// The least time between two renders of a sweep's progress, ms: each costs the page's thread,
/// which shares the cores with the workers.
const RENDER_EVERY_MS: f64 = 150.0;

/// Props of [`Explore`].
#[derive(Properties, Clone)]
pub struct ExploreProps {
    /// The open scenario.
    pub session: Rc<RefCell<Session>>,
    /// Changes when the runs start again.
    pub revision: u64,
    /// Sends actions.
    pub dispatch: Callback<Action>,
}

impl PartialEq for ExploreProps {
    fn eq(&self, other: &Self) -> bool {
        self.revision == other.revision && Rc::ptr_eq(&self.session, &other.session)
    }
}

/// Maps computed: (key, cells), a few at most (a list: a map of maps would cost the module
/// another copy of the B-tree's code).
#[derive(Default)]
struct Maps(Vec<(String, Vec<Option<MapCell>>)>);

/// A computed cell of a map, and the seed its replay opens on (its first seed that collapsed,
/// or else its first seed): a cell's colour comes from its own seeds, not the player's.
type MapCell = (Cell, u64);

impl Maps {
    fn get(&self, key: &str) -> Option<&Vec<Option<MapCell>>> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, m)| m)
    }

    fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }
    fn insert(&mut self, key: String, cells: Vec<Option<MapCell>>) {
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = cells,
            None => self.0.push((key, cells)),
        }
    }

    fn clear(&mut self) {
        self.0.clear();
    }
}

/// What the map colours.
#[derive(Clone, Copy, PartialEq)]
pub enum Metric {
    /// The share of seeds that collapse.
    Collapse,
    /// The mean outage.
    Outage,
}

/// One group of runs: a set of fixes over the axes (the map) or over none (many seeds).
struct Group {
    fixes: Vec<String>,
    /// Per cell: the outcomes so far and the seeds still out.
    outcomes: Vec<Vec<Outcome>>,
    pending: Vec<usize>,
}

/// A sweep being computed or shown.
struct Sweep {
    id: u32,
    axes: Vec<Axis>,
    seeds: u64,
    groups: Vec<Group>,
    /// Tasks not yet sent: (group, cell, seeds).
    queue: Vec<(usize, usize, Vec<u64>)>,
    started_ms: f64,
    elapsed_ms: Option<f64>,
    error: Option<String>,
    /// For a map: each group's key in [`Explore::maps`].
    map_keys: Vec<String>,
    /// The configuration it ran (parameters set, fixes on): many seeds say when it is another.
    config: String,
}

impl Sweep {
    fn cells(&self) -> usize {
        sweep::cell_count(&self.axes)
    }

    fn cell(&self, group: usize, cell: usize) -> Option<Cell> {
        let g = self.groups.get(group)?;
        (g.pending[cell] == 0)
            .then(|| Cell::from_outcomes(cell, sweep::values(&self.axes, cell), &g.outcomes[cell]))
    }

    fn done(&self) -> usize {
        self.groups
            .iter()
            .map(|g| g.pending.iter().filter(|&&p| p == 0).count())
            .sum()
    }
}

/// What the panel shows.
#[derive(Clone, Copy, PartialEq)]
enum View {
    None,
    Seeds,
    Map,
}

/// The panel.
pub struct Explore {
    view: View,
    workers: Vec<WorkerBridge<SweepWorker>>,
    /// A worker's number once for each task it could take now.
    free: Vec<usize>,
    /// When a sweep's progress was last rendered (page clock, ms).
    rendered_ms: f64,
    sweep: Option<Sweep>,
    next_id: u32,
    /// The map's settings.
    steps: usize,
    metric: Metric,
    map_fixes: Vec<String>,
    /// Maps computed, by their fixes and the other parameters set (toggling a fix back shows
    /// its map at once).
    maps: Maps,
    /// The map's keyboard cursor.
    cursor: usize,
    /// The axes chosen instead of the declared ones: (path, from, to), across then up.
    chosen: Option<Vec<(String, f64, f64)>>,
}

/// Messages of [`Explore`].
pub enum Msg {
    /// Run many seeds.
    Seeds,
    /// Open the map (and compute it with the current settings).
    Map,
    /// Close the view.
    Close,
    /// A worker answered.
    Done(usize, CellDone),
    /// The map's grid size.
    Steps(usize),
    /// What the map colours.
    Metric(Metric),
    /// Turn a fix on or off in the map.
    MapFix(String),
    /// Move the map's cursor by (dx, dy), or to a cell.
    Cursor(i64, i64),
    /// Replay a cell of the map.
    OpenCell(usize),
    /// Sweep another parameter on axis `0` (across) or `1` (up), over its whole range.
    AxisParameter(usize, String),
    /// Set the first (`false`) or last (`true`) value of axis `0` or `1`.
    AxisEnd(usize, bool, f64),
    /// Replay a seed with these fixes.
    OpenSeed(u64, Vec<String>),
}

fn now_ms() -> f64 {
    crate::clock::now_ms()
}

/// Starts the sweep workers: this very module, once per core (at most [`MAX_WORKERS`]).
fn spawn_workers(link: &Scope<Explore>) -> Vec<WorkerBridge<SweepWorker>> {
    let Some(window) = web_sys::window() else {
        return Vec::new();
    };
    if !js_sys::Reflect::has(&js_sys::global(), &"Worker".into()).unwrap_or(false) {
        return Vec::new();
    }
    let base = window
        .document()
        .and_then(|d| d.base_uri().ok().flatten())
        .unwrap_or_default();
    let url = |file: &str| {
        web_sys::Url::new_with_base(file, &base)
            .ok()
            .map(|u| u.href())
    };
    let (Some(glue), Some(wasm)) = (
        url("cascade-web-authoring.js"),
        url("cascade-web-authoring_bg.wasm"),
    ) else {
        return Vec::new();
    };
    let Some(loader) = crate::app::worker_loader_url(&glue, &wasm) else {
        return Vec::new();
    };
    let cores = window.navigator().hardware_concurrency() as usize;
    (0..cores.clamp(1, MAX_WORKERS))
        .map(|i| {
            let link = link.clone();
            SweepWorker::spawner()
                .callback(move |done| link.send_message(Msg::Done(i, done)))
                .spawn_with_loader(&loader)
        })
        .collect()
}

impl Explore {
    fn start(
        &mut self,
        ctx: &Context<Self>,
        axes: Vec<Axis>,
        seeds: u64,
        groups: Vec<Vec<String>>,
        per_seed: bool,
    ) {
        let session = ctx.props().session.borrow();
        let set = session.set.clone();
        let all_axes = with_set(&set, axes);
        let cells = sweep::cell_count(&all_axes);
        let seed_list: Vec<u64> = (1..=seeds).collect();
        let mut queue = Vec::new();
        for g in 0..groups.len() {
            for cell in 0..cells {
                if per_seed {
                    queue.extend(seed_list.iter().map(|&s| (g, cell, vec![s])));
                } else {
                    queue.push((g, cell, seed_list.clone()));
                }
            }
        }
        queue.reverse();
        self.next_id += 1;
        self.sweep = Some(Sweep {
            id: self.next_id,
            axes: all_axes,
            seeds,
            groups: groups
                .into_iter()
                .map(|fixes| Group {
                    fixes,
                    outcomes: vec![Vec::new(); cells],
                    pending: vec![seeds as usize; cells],
                })
                .collect(),
            queue,
            started_ms: now_ms(),
            elapsed_ms: None,
            error: None,
            map_keys: Vec::new(),
            config: configuration(&session),
        });
        drop(session);
        if self.workers.is_empty() {
            self.workers = spawn_workers(ctx.link());
            self.free = (0..TASKS_IN_FLIGHT)
                .flat_map(|_| 0..self.workers.len())
                .collect();
        }
        self.feed(ctx);
    }

    /// Gives every idle worker a task; with no workers, runs one task on the page and comes back.
    fn feed(&mut self, ctx: &Context<Self>) {
        let Some(sweep) = self.sweep.as_mut() else {
            return;
        };
        let (documented, bytes) = ctx.props().session.borrow().documented();
        let job = |sweep: &Sweep, (group, cell, seeds): (usize, usize, Vec<u64>)| CellJob {
            sweep: sweep.id,
            name: documented.source_name().to_string(),
            scenario: bytes.to_vec(),
            fixes: sweep.groups[group].fixes.clone(),
            axes: sweep.axes.clone(),
            cell: cell + group * sweep.cells(),
            seeds,
        };
        if self.workers.is_empty() {
            if let Some(task) = sweep.queue.pop() {
                let job = job(sweep, task);
                let outcomes = sweep::run_seeds(
                    &documented,
                    &job.fixes,
                    &job.axes,
                    job.cell % sweep.cells(),
                    &job.seeds,
                );
                let done = CellDone {
                    sweep: job.sweep,
                    cell: job.cell,
                    outcomes,
                };
                let link = ctx.link().clone();
                // The next cell runs in a later task: the page keeps answering in between.
                yew::platform::spawn_local(async move {
                    let later = js_sys::Promise::new(&mut |resolve, _| {
                        if let Some(window) = web_sys::window() {
                            let _ = window
                                .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 0);
                        }
                    });
                    let _ = wasm_bindgen_futures::JsFuture::from(later).await;
                    link.send_message(Msg::Done(usize::MAX, done));
                });
            }
            return;
        }
        while let Some(&worker) = self.free.last() {
            let Some(task) = sweep.queue.pop() else { break };
            self.free.pop();
            self.workers[worker].send(job(sweep, task));
        }
    }

    fn record(&mut self, done: CellDone) {
        let Some(sweep) = self.sweep.as_mut() else {
            return;
        };
        if done.sweep != sweep.id {
            return;
        }
        let cells = sweep.cells();
        let (group, cell) = (done.cell / cells, done.cell % cells);
        match done.outcomes {
            Ok(outcomes) => {
                let g = &mut sweep.groups[group];
                g.pending[cell] = g.pending[cell].saturating_sub(outcomes.len());
                g.outcomes[cell].extend(outcomes);
            }
            Err(message) => {
                sweep.error = Some(message);
                sweep.queue.clear();
            }
        }
        let total = sweep.groups.len() * cells;
        if sweep.done() == total && sweep.elapsed_ms.is_none() {
            sweep.elapsed_ms = Some(now_ms() - sweep.started_ms);
        }
        if let (Some(key), Some(done)) = (sweep.map_keys.get(group), sweep.cell(group, cell)) {
            let outcomes = &sweep.groups[group].outcomes[cell];
            let seed = outcomes
                .iter()
                .filter(|o| o.collapsed)
                .map(|o| o.seed)
                .min()
                .or_else(|| outcomes.iter().map(|o| o.seed).min())
                .unwrap_or(1);
            if let Some(slot) = self
                .maps
                .0
                .iter_mut()
                .find(|(k, _)| k == key)
                .and_then(|(_, m)| m.get_mut(cell))
            {
                *slot = Some((done, seed));
            }
        }
    }

    /// The map's axes: the ones chosen, or the scenario's declared ones.
    fn map_axes(&self, session: &Session) -> Vec<Axis> {
        match &self.chosen {
            Some(chosen) => chosen
                .iter()
                .map(|(path, from, to)| Axis {
                    path: path.clone(),
                    from: *from,
                    to: *to,
                    steps: self.steps,
                })
                .collect(),
            None => sweep::declared_axes(&session.documented().0, self.steps),
        }
    }

    /// The map's two axes as (path, from, to).
    fn current_axes(&self, ctx: &Context<Self>) -> Vec<(String, f64, f64)> {
        let session = ctx.props().session.borrow();
        self.map_axes(&session)
            .into_iter()
            .map(|a| (a.path, a.from, a.to))
            .collect()
    }

    /// The key of a map: its grid, its fixes and the open configuration's other parameters.
    fn map_key(&self, fixes: &[String], session: &Session) -> String {
        let axes = self.map_axes(session);
        format!("{fixes:?} {:?}", with_set(&session.set, axes))
    }

    fn run_map(&mut self, ctx: &Context<Self>) {
        let (axes, key) = {
            let session = ctx.props().session.borrow();
            (
                self.map_axes(&session),
                self.map_key(&self.map_fixes, &session),
            )
        };
        if axes.len() != 2 {
            return;
        }
        // A map left half-computed (a sweep replaced or closed) is computed again.
        self.maps
            .0
            .retain(|(_, cells)| cells.iter().all(Option::is_some));
        // With fixes, the map without them is computed too: its collapse region is outlined.
        let mut groups = vec![(key, self.map_fixes.clone())];
        if !self.map_fixes.is_empty() {
            let session = ctx.props().session.borrow();
            groups.push((self.map_key(&[], &session), Vec::new()));
        }
        groups.retain(|(key, _)| !self.maps.contains_key(key));
        if groups.is_empty() {
            // Computed already: shown as it is.
            self.sweep = None;
            return;
        }
        for (key, _) in &groups {
            self.maps
                .insert(key.clone(), vec![None; sweep::cell_count(&axes)]);
        }
        let (keys, fixes): (Vec<String>, Vec<Vec<String>>) = groups.into_iter().unzip();
        self.start(ctx, axes, MAP_SEEDS, fixes, false);
        if let Some(sweep) = self.sweep.as_mut() {
            sweep.map_keys = keys;
        }
    }
}

/// The open configuration, for comparing: its parameters as set and its fixes.
fn configuration(session: &Session) -> String {
    format!("{:?} {:?}", session.set, session.fixes)
}

/// A declared parameter's range.
fn parameter_range(ctx: &Context<Explore>, path: &str) -> Option<(f64, f64)> {
    let session = ctx.props().session.borrow();
    let (documented, _) = session.documented();
    let p = documented.file.parameters.iter().find(|p| p.path == path)?;
    Some((p.min, p.max))
}

/// `axes` after the open configuration's other parameters as set (one-value axes): what a sweep
/// of the open configuration runs, and what its CSV lists.
fn with_set(set: &[(String, f64)], axes: Vec<Axis>) -> Vec<Axis> {
    let mut all: Vec<Axis> = set
        .iter()
        .filter(|(path, _)| !axes.iter().any(|a| a.path == *path))
        .map(|(path, v)| Axis {
            path: path.clone(),
            from: *v,
            to: *v,
            steps: 1,
        })
        .collect();
    all.extend(axes);
    all
}

/// A colour from green (0) through amber to red (1).
fn heat(value: f64) -> String {
    let v = value.clamp(0.0, 1.0);
    format!("hsl({:.0} 70% 48%)", 130.0 * (1.0 - v))
}

fn shown(value: f64) -> String {
    if value.fract() == 0.0 {
        format!("{}", value as i64)
    } else {
        format!("{value:.2}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
    }
}

fn minutes(s: f64) -> String {
    if s < 90.0 {
        format!("{s:.0} s")
    } else {
        format!("{:.1} min", s / 60.0)
    }
}

impl Component for Explore {
    type Message = Msg;
    type Properties = ExploreProps;

    fn create(ctx: &Context<Self>) -> Self {
        let map_fixes = ctx.props().session.borrow().fixes.clone();
        Explore {
            view: View::None,
            workers: Vec::new(),
            free: Vec::new(),
            rendered_ms: 0.0,
            sweep: None,
            next_id: 0,
            steps: 10,
            metric: Metric::Collapse,
            map_fixes,
            maps: Maps::default(),
            cursor: 0,
            chosen: None,
        }
    }

    fn changed(&mut self, ctx: &Context<Self>, old: &ExploreProps) -> bool {
        // Another scenario: what was computed is of the old one.
        if !Rc::ptr_eq(&old.session, &ctx.props().session) {
            self.sweep = None;
            self.maps.clear();
            self.view = View::None;
            self.chosen = None;
            self.cursor = 0;
            self.map_fixes = ctx.props().session.borrow().fixes.clone();
        } else if self.view == View::Map {
            // Another value of a parameter off the map's axes: its own map (kept if computed).
            self.run_map(ctx);
        }
        true
    }

    fn update(&mut self, ctx: &Context<Self>, msg: Msg) -> bool {
        match msg {
            Msg::Seeds => {
                self.view = View::Seeds;
                let fixes = ctx.props().session.borrow().fixes.clone();
                let mut groups = vec![Vec::new()];
                if !fixes.is_empty() {
                    groups.push(fixes);
                }
                self.start(ctx, Vec::new(), MANY_SEEDS, groups, true);
            }
            Msg::Map => {
                self.view = View::Map;
                self.run_map(ctx);
            }
            Msg::Close => {
                self.view = View::None;
                self.sweep = None;
            }
            Msg::Done(worker, done) => {
                if worker != usize::MAX {
                    self.free.push(worker);
                }
                self.record(done);
                self.feed(ctx);
                // Progress is drawn every so often, and at the end.
                let now = now_ms();
                let finished = self
                    .sweep
                    .as_ref()
                    .is_none_or(|s| s.elapsed_ms.is_some() || s.error.is_some());
                if !finished && now - self.rendered_ms < RENDER_EVERY_MS {
                    return false;
                }
                self.rendered_ms = now;
            }
            Msg::Steps(steps) => {
                self.steps = steps;
                self.cursor = 0;
                self.run_map(ctx);
            }
            Msg::Metric(metric) => self.metric = metric,
            Msg::MapFix(fix) => {
                if let Some(i) = self.map_fixes.iter().position(|f| *f == fix) {
                    self.map_fixes.remove(i);
                } else {
                    self.map_fixes.push(fix);
                    let order: Vec<String> = ctx
                        .props()
                        .session
                        .borrow()
                        .scenario
                        .file
                        .fixes
                        .keys()
                        .cloned()
                        .collect();
                    cascade::small_sort::sort_by_key(&mut self.map_fixes, |f| {
                        order.iter().position(|o| o == f)
                    });
                }
                self.run_map(ctx);
            }
            Msg::Cursor(dx, dy) => {
                let n = self.steps as i64;
                let (x, y) = ((self.cursor as i64) / n, (self.cursor as i64) % n);
                let (x, y) = ((x + dx).clamp(0, n - 1), (y + dy).clamp(0, n - 1));
                self.cursor = (x * n + y) as usize;
            }
            Msg::OpenCell(cell) => {
                let (axes, set) = {
                    let session = ctx.props().session.borrow();
                    (self.map_axes(&session), session.set.clone())
                };
                let mut set: Vec<(String, f64)> = set
                    .into_iter()
                    .filter(|(p, _)| !axes.iter().any(|a| a.path == *p))
                    .collect();
                // As the cell ran them: whole values for an integer parameter.
                let (documented, _) = ctx.props().session.borrow().documented();
                set.extend(sweep::overrides(&axes, cell).into_iter().map(|(path, v)| {
                    let v = if documented.is_integer_at(&path) {
                        v.round()
                    } else {
                        v
                    };
                    (path, v)
                }));
                self.cursor = cell;
                // The replay runs one of the cell's own seeds: one that collapsed, if any did.
                let seed = {
                    let session = ctx.props().session.borrow();
                    self.maps
                        .get(&self.map_key(&self.map_fixes, &session))
                        .and_then(|m| m.get(cell).cloned().flatten())
                        .map(|(_, seed)| seed)
                };
                ctx.props().dispatch.emit(Action::Configure {
                    seed,
                    fixes: self.map_fixes.clone(),
                    set,
                });
            }
            Msg::AxisParameter(axis, path) => {
                let mut chosen = self.current_axes(ctx);
                let Some((min, max)) = parameter_range(ctx, &path) else {
                    return false;
                };
                if chosen[1 - axis].0 == path {
                    // The other axis had it: the two swap.
                    chosen.swap(0, 1);
                } else {
                    chosen[axis] = (path, min, max);
                }
                self.chosen = Some(chosen);
                self.cursor = 0;
                self.run_map(ctx);
            }
            Msg::AxisEnd(axis, last, value) => {
                if !value.is_finite() {
                    return true;
                }
                let mut chosen = self.current_axes(ctx);
                let Some((min, max)) = parameter_range(ctx, &chosen[axis].0) else {
                    return false;
                };
                let value = value.clamp(min, max);
                let (_, from, to) = &mut chosen[axis];
                if last {
                    *to = value
                } else {
                    *from = value
                }
                if *from >= *to {
                    // An empty range: the other end moves a tenth of the parameter's range away
                    // (this end moves instead where that would leave the parameter's range).
                    let span = (max - min) / 10.0;
                    if last {
                        *from = *to - span;
                    } else {
                        *to = *from + span;
                    }
                    if *from < min {
                        (*from, *to) = (min, min + span);
                    }
                    if *to > max {
                        (*from, *to) = (max - span, max);
                    }
                }
                self.chosen = Some(chosen);
                self.run_map(ctx);
            }
            Msg::OpenSeed(seed, fixes) => {
                let set = ctx.props().session.borrow().set.clone();
                ctx.props().dispatch.emit(Action::Configure {
                    seed: Some(seed),
                    fixes,
                    set,
                });
            }
        }
        true
    }

    fn view(&self, ctx: &Context<Self>) -> Html {
        let session = ctx.props().session.borrow();
        if session.scenario.file.parameters.is_empty() {
            return Html::default();
        }
        let link = ctx.link();
        // One status line, there from the start: what it says when a sweep ends is read out
        // (its progress, redrawn every so often, is not).
        let (status, elapsed_ms) = match &self.sweep {
            None => (String::new(), None),
            Some(s) => {
                let total = s.groups.len() * s.cells();
                let runs = total as u64 * s.seeds;
                match (&s.error, s.elapsed_ms) {
                    (Some(e), _) => (format!("A run stopped: {e}"), None),
                    (None, Some(ms)) => (
                        format!(
                            "{runs} runs in {:.1} s on {} workers.",
                            ms / 1000.0,
                            self.workers.len().max(1)
                        ),
                        Some(ms),
                    ),
                    (None, None) => (
                        format!("Running: {} of {total} cells done…", s.done()),
                        None,
                    ),
                }
            }
        };
        let failed = self.sweep.as_ref().is_some_and(|s| s.error.is_some());
        let running = self
            .sweep
            .as_ref()
            .is_some_and(|s| s.error.is_none() && s.elapsed_ms.is_none());
        let status = html! {
            <p class={classes!("small", "explore-status", if failed { "error" } else { "muted" })} role="status"
                aria-live={if running { "off" } else { "polite" }}
                data-elapsed-ms={elapsed_ms.map(|ms| format!("{ms:.0}"))} data-done={elapsed_ms.map(|_| "1")}>
                { status }
            </p>
        };
        let body = match self.view {
            View::None => Html::default(),
            View::Seeds => self.seeds_view(ctx, &session),
            View::Map => self.map_view(ctx, &session),
        };
        html! {
            <section class="explore" aria-labelledby="explore-heading">
                <h2 id="explore-heading">{ "How likely is collapse?" }</h2>
                <p class="muted small">{ "One replay is one history. Run many seeds of this configuration, or map two parameters to see where the system recovers and where it stays down." }</p>
                <div class="explore-actions">
                    <button type="button" onclick={link.callback(|_| Msg::Seeds)}>{ format!("Run {MANY_SEEDS} seeds") }</button>
                    <button type="button" onclick={link.callback(|_| Msg::Map)}>{ "Stability map" }</button>
                    if self.view != View::None {
                        <button type="button" class="link-button" onclick={link.callback(|_| Msg::Close)}>{ "Close" }</button>
                    }
                </div>
                { status }
                { body }
            </section>
        }
    }
}

impl Explore {
    fn seeds_view(&self, ctx: &Context<Self>, session: &Session) -> Html {
        let Some(sweep) = self
            .sweep
            .as_ref()
            .filter(|s| s.axes.iter().all(|a| a.steps == 1))
        else {
            return Html::default();
        };
        let max_outage = sweep
            .groups
            .iter()
            .flat_map(|g| g.outcomes[0].iter().map(|o| o.outage_s))
            .fold(1.0_f64, f64::max);
        let threshold = session.scenario.file.sweep.collapse_outage_s;
        let columns = sweep.groups.iter().enumerate().map(|(gi, g)| {
            let cell = sweep.cell(gi, 0);
            let title = if g.fixes.is_empty() { "Without fixes".to_string() } else { format!("With {}", g.fixes.join(", ")) };
            let mut outcomes = g.outcomes[0].clone();
            cascade::small_sort::sort_by_key(&mut outcomes, |o| o.seed);
            const BINS: usize = 8;
            let mut bins = [0u32; BINS];
            for o in &outcomes {
                let b = ((o.outage_s / max_outage) * BINS as f64) as usize;
                bins[b.min(BINS - 1)] += 1;
            }
            let tallest = bins.iter().copied().max().unwrap_or(1).max(1) as f64;
            let bars = bins.iter().enumerate().map(|(i, &n)| {
                let h = 60.0 * n as f64 / tallest;
                let from = max_outage * i as f64 / BINS as f64;
                let to = max_outage * (i + 1) as f64 / BINS as f64;
                html! {
                    <rect x={format!("{}", i * 30 + 2)} y={format!("{:.1}", 64.0 - h)} width="26" height={format!("{h:.1}")} class="bar">
                        <title>{ format!("{n} seeds down {} to {}", minutes(from), minutes(to)) }</title>
                    </rect>
                }
            });
            let summary = match &cell {
                Some(c) => html! {
                    <dl class="explore-figures">
                        <dt>{ "Outage" }</dt><dd>{ format!("{:.0}% of seeds", 100.0 * c.degraded as f64 / c.seeds.max(1) as f64) }</dd>
                        <dt>{ "Collapse" }</dt><dd>{ format!("{:.0}% of seeds", 100.0 * c.collapse_probability()) }</dd>
                        <dt>{ "Mean outage" }</dt><dd>{ minutes(c.outage_s_mean) }</dd>
                        <dt>{ "Mean recovery" }</dt><dd>{ c.recovery_s_mean.map_or("none recovered".to_string(), minutes) }</dd>
                    </dl>
                },
                None => html! { <p class="muted small">{ format!("{} of {} seeds…", outcomes.len(), sweep.seeds) }</p> },
            };
            let seeds = outcomes.iter().map(|o| {
                let what = if o.collapsed { format!("collapsed, down {}", minutes(o.outage_s)) }
                    else if o.degraded_at_s.is_some() { format!("recovered after {}", minutes(o.outage_s)) }
                    else { "no outage".to_string() };
                let (seed, fixes) = (o.seed, g.fixes.clone());
                html! {
                    <li><button type="button" class={classes!("link-button", o.collapsed.then_some("collapsed"))}
                        onclick={ctx.link().callback(move |_| Msg::OpenSeed(seed, fixes.clone()))}>
                        { format!("Seed {seed}: {what}") }
                    </button></li>
                }
            });
            html! {
                <div class="explore-column">
                    <h3>{ title }</h3>
                    { summary }
                    <p class="muted small">{ "Seeds by how long they were down:" }</p>
                    <svg class="histogram" viewBox="0 0 240 80" role="img"
                        aria-label={format!("Outage across seeds, 0 to {}: {}", minutes(max_outage), bins.iter().map(|n| n.to_string()).collect::<Vec<_>>().join(", "))}>
                        { for bars }
                        <line x1="0" y1="64.5" x2="240" y2="64.5" class="axis" />
                        <text x="0" y="78" class="tick">{ "0" }</text>
                        <text x="240" y="78" text-anchor="end" class="tick">{ minutes(max_outage) }</text>
                    </svg>
                    <details>
                        <summary>{ "Each seed (replay one)" }</summary>
                        <ul class="seed-list">{ for seeds }</ul>
                    </details>
                </div>
            }
        });
        let note = if sweep.groups.len() == 1 {
            html! { <p class="muted small">{ "Turn on a fix to see these seeds with and without it side by side." }</p> }
        } else {
            Html::default()
        };
        let rule = if threshold > 0.0 {
            format!(
                "Collapse: not recovered by the end, or down for {} or more (the operators ended this outage).",
                minutes(threshold)
            )
        } else {
            "Collapse: not recovered by the end of the run.".to_string()
        };
        let stale = sweep.config != configuration(session);
        html! {
            <div class="explore-seeds">
                if stale {
                    <p class="small">{ format!("These seeds ran the configuration before your last change: run {MANY_SEEDS} seeds again to see this one.") }</p>
                }
                <p class="muted small">{ rule }</p>
                <div class="explore-columns">{ for columns }</div>
                { note }
            </div>
        }
    }

    fn map_view(&self, ctx: &Context<Self>, session: &Session) -> Html {
        let link = ctx.link();
        let (documented, _) = session.documented();
        let axes = self.map_axes(session);
        if axes.len() != 2 {
            return html! { <p class="muted">{ "This scenario declares fewer than two parameters to map." }</p> };
        }
        let label = |axis: &Axis| {
            documented
                .file
                .parameters
                .iter()
                .find(|p| p.path == axis.path)
                .map(|p| {
                    if p.unit.is_empty() {
                        p.label.clone()
                    } else {
                        format!("{} ({})", p.label, p.unit)
                    }
                })
                .unwrap_or_else(|| axis.path.clone())
        };
        let (xl, yl) = (label(&axes[0]), label(&axes[1]));
        let shown_cells = self.maps.get(&self.map_key(&self.map_fixes, session));
        let baseline = if self.map_fixes.is_empty() {
            None
        } else {
            self.maps.get(&self.map_key(&[], session))
        };
        let n = self.steps;
        let size = 300.0;
        let cell_px = size / n as f64;
        let end_s = documented.file.scenario.duration_s;
        let value = |c: &Cell| match self.metric {
            Metric::Collapse => c.collapse_probability(),
            Metric::Outage => c.outage_s_mean / end_s,
        };
        let integer = |axis: &Axis| documented.is_integer_at(&axis.path);
        let describe = |c: &Cell, was_collapse: bool| {
            let k = c.values.len();
            let value = |v: f64, axis: &Axis| shown(if integer(axis) { v.round() } else { v });
            format!(
                "{} {}, {} {}: collapse {:.0}% of {} seeds, mean outage {}{}",
                xl,
                value(c.values[k - 2], &axes[0]),
                yl,
                value(c.values[k - 1], &axes[1]),
                100.0 * c.collapse_probability(),
                c.seeds,
                minutes(c.outage_s_mean),
                if was_collapse {
                    "; collapsed without the fixes"
                } else {
                    ""
                }
            )
        };
        let collapsed_without = |cell: usize| {
            baseline
                .and_then(|m| m.get(cell).cloned().flatten())
                .is_some_and(|(c, _)| c.collapse_probability() >= 0.5)
        };
        let rects = (0..n * n).map(|cell| {
            let (xi, yi) = (cell / n, cell % n);
            let x = 40.0 + xi as f64 * cell_px;
            let y = size - (yi + 1) as f64 * cell_px;
            let computed = shown_cells.and_then(|m| m.get(cell).cloned().flatten()).map(|(c, _)| c);
            let was_collapse = collapsed_without(cell);
            let (fill, title) = match &computed {
                Some(c) => (heat(value(c)), describe(c, was_collapse)),
                None => ("none".to_string(), "not computed yet".to_string()),
            };
            html! {
                <rect x={format!("{x:.2}")} y={format!("{y:.2}")} width={format!("{:.2}", cell_px + 0.3)} height={format!("{:.2}", cell_px + 0.3)}
                    fill={fill} class={classes!("map-cell", computed.is_none().then_some("pending"), was_collapse.then_some("was-collapse"), (cell == self.cursor).then_some("cursor"))}
                    data-cell={cell.to_string()}
                    onclick={link.callback(move |_| Msg::OpenCell(cell))}>
                    <title>{ title }</title>
                </rect>
            }
        });
        // The open configuration: the parameters as set, or as documented.
        let at = |axis: &Axis| {
            session
                .set
                .iter()
                .find(|(p, _)| *p == axis.path)
                .map(|(_, v)| *v)
                .or_else(|| documented.number_at(&axis.path))
        };
        let position = |axis: &Axis, v: f64| {
            let span = axis.to - axis.from;
            let step = span / (n.max(2) - 1) as f64;
            ((v - axis.from) / step + 0.5) / n as f64
        };
        let marker = match (at(&axes[0]), at(&axes[1])) {
            (Some(xv), Some(yv))
                if (0.0..=1.0).contains(&position(&axes[0], xv))
                    && (0.0..=1.0).contains(&position(&axes[1], yv)) =>
            {
                let cx = 40.0 + size * position(&axes[0], xv);
                let cy = size - size * position(&axes[1], yv);
                html! { <circle cx={format!("{cx:.1}")} cy={format!("{cy:.1}")} r="6" class="map-marker"><title>{ format!("This run: {xl} {}, {yl} {}", shown(xv), shown(yv)) }</title></circle> }
            }
            _ => Html::default(),
        };
        let cursor_text = shown_cells
            .and_then(|m| m.get(self.cursor).cloned().flatten())
            .map(|(c, _)| describe(&c, collapsed_without(self.cursor)))
            .unwrap_or_else(|| "this cell is not computed yet".into());
        let onkeydown = {
            let link = link.clone();
            let cursor = self.cursor;
            Callback::from(move |e: KeyboardEvent| {
                let msg = match e.key().as_str() {
                    "ArrowLeft" => Msg::Cursor(-1, 0),
                    "ArrowRight" => Msg::Cursor(1, 0),
                    "ArrowUp" => Msg::Cursor(0, 1),
                    "ArrowDown" => Msg::Cursor(0, -1),
                    "Enter" | " " => Msg::OpenCell(cursor),
                    _ => return,
                };
                e.prevent_default();
                e.stop_propagation();
                link.send_message(msg);
            })
        };
        let steps_select = {
            let options = [5usize, 10, 20].map(|s| html! { <option value={s.to_string()} selected={s == self.steps}>{ format!("{s} × {s}") }</option> });
            let onchange = link.callback(|e: Event| {
                let select: web_sys::HtmlSelectElement = e.target_unchecked_into();
                Msg::Steps(select.value().parse().unwrap_or(10))
            });
            html! { <label>{ "Grid " }<select onchange={onchange}>{ for options }</select></label> }
        };
        let axis_controls = (0..2).map(|i| {
            let axis = &axes[i];
            let options = documented.file.parameters.iter().map(|p| {
                html! { <option value={p.path.clone()} selected={p.path == axis.path}>{ p.label.clone() }</option> }
            });
            let onchange = link.callback(move |e: Event| {
                let select: web_sys::HtmlSelectElement = e.target_unchecked_into();
                Msg::AxisParameter(i, select.value())
            });
            let end = |last: bool| {
                link.callback(move |e: Event| {
                    let input: web_sys::HtmlInputElement = e.target_unchecked_into();
                    Msg::AxisEnd(i, last, input.value().parse().unwrap_or(f64::NAN))
                })
            };
            let (min, max) = documented
                .file
                .parameters
                .iter()
                .find(|p| p.path == axis.path)
                .map_or((axis.from, axis.to), |p| (p.min, p.max));
            let name = if i == 0 { "Across" } else { "Up" };
            html! {
                <fieldset class="map-axis">
                    <legend class="small">{ name }</legend>
                    <select aria-label={format!("{name}: parameter")} onchange={onchange}>{ for options }</select>
                    <label>{ "from " }<input type="number" min={min.to_string()} max={max.to_string()} step="any" value={shown(axis.from)} onchange={end(false)} /></label>
                    <label>{ "to " }<input type="number" min={min.to_string()} max={max.to_string()} step="any" value={shown(axis.to)} onchange={end(true)} /></label>
                </fieldset>
            }
        });
        let metric = {
            let collapse = link.callback(|_| Msg::Metric(Metric::Collapse));
            let outage = link.callback(|_| Msg::Metric(Metric::Outage));
            html! {
                <fieldset class="map-metric">
                    <legend class="small">{ "Colour by" }</legend>
                    <label><input type="radio" name="map-metric" checked={self.metric == Metric::Collapse} onchange={collapse} />{ " P(collapse)" }</label>
                    <label><input type="radio" name="map-metric" checked={self.metric == Metric::Outage} onchange={outage} />{ " Mean outage" }</label>
                </fieldset>
            }
        };
        let fixes = documented.file.fixes.keys().map(|name| {
            let on = self.map_fixes.contains(name);
            let fix = name.clone();
            html! {
                <label class="map-fix"><input type="checkbox" checked={on} onchange={link.callback(move |_| Msg::MapFix(fix.clone()))} />{ format!(" {name}") }</label>
            }
        });
        let csv = shown_cells.filter(|m| m.iter().all(Option::is_some)).map(|m| {
            let all_axes = with_set(&session.set, axes.clone());
            let mut text = sweep::csv_spec(documented.id(), &all_axes, MAP_SEEDS as u32, &self.map_fixes);
            text.push_str("\n# shard: 1/1\n");
            text.push_str(&sweep::csv_header(&all_axes));
            text.push('\n');
            for (c, _) in m.iter().flatten() {
                text.push_str(&sweep::csv_row(c));
                text.push('\n');
            }
            let name = format!("{}-map.csv", documented.id());
            let onclick = Callback::from(move |_: MouseEvent| {
                let _ = crate::components::share::download_text(&text, "text/csv", &name);
            });
            html! { <button type="button" class="small" onclick={onclick}>{ "Download CSV" }</button> }
        });
        let threshold = documented.file.sweep.collapse_outage_s;
        html! {
            <div class="explore-map">
                <div class="map-controls">
                    { for axis_controls }
                    { steps_select }
                    { metric }
                    <fieldset class="map-fixes"><legend class="small">{ "Fixes in the map" }</legend>{ for fixes }</fieldset>
                </div>
                <svg class="stability-map" viewBox="0 0 350 340" tabindex="0" role="application"
                    aria-label={format!("Stability map: {xl} across, {yl} up. Arrow keys move, Enter replays the cell.")}
                    onkeydown={onkeydown}>
                    { for rects }
                    { marker }
                    <text x="40" y="316" class="tick">{ shown(axes[0].from) }</text>
                    <text x="340" y="316" text-anchor="end" class="tick">{ shown(axes[0].to) }</text>
                    <text x="190" y="334" text-anchor="middle" class="axis-label">{ xl.clone() }</text>
                    <text x="36" y="300" text-anchor="end" class="tick">{ shown(axes[1].from) }</text>
                    <text x="36" y="10" text-anchor="end" class="tick">{ shown(axes[1].to) }</text>
                    <text x="12" y="150" text-anchor="middle" class="axis-label" transform="rotate(-90 12 150)">{ yl.clone() }</text>
                </svg>
                <p class="small" aria-live="polite">{ format!("Cell: {cursor_text}") }</p>
                <p class="muted small">
                    { match self.metric {
                        Metric::Collapse => "Green: every seed recovered; red: every seed collapsed. ",
                        Metric::Outage => "Colour: the mean outage, as a share of the run. ",
                    } }
                    { if threshold > 0.0 { format!("Collapse here: not recovered by the end, or down for {} or more. ", minutes(threshold)) } else { "Collapse here: not recovered by the end. ".to_string() } }
                    { format!("{MAP_SEEDS} seeds per cell. The ring is this run; click a cell to replay it.") }
                    if baseline.is_some() { { " Dashed: cells that collapse without the fixes." } }
                </p>
                { csv.unwrap_or_default() }
            </div>
        }
    }
}
