//! The event loop: builds a run from a scenario variant and a seed, and advances it in virtual time.
//!
//! Handlers change component state and schedule follow-up events; stale events (a timeout for an
//! attempt that already ended, a reply to a job that gave up, an arrival scheduled before a rate
//! change) are recognised by generation and epoch counters and dropped. Every request ends in
//! exactly one outcome or is still in flight.
//!
//! The event loop keeps the request lifecycle and dispatch, in three files: `traffic` (requests,
//! attempts, routing, replies), `work` (jobs and the endpoint-program interpreter) and `ops`
//! (crashes, restarts, probe checks, carrying out the timeline, live reconfiguration, gauges).
//! Each mechanism's config, state and decisions live in its own module in `model/`, which gets
//! a [`Ctx`] when it needs the clock, randomness or timers.

/// A [`Ctx`] over a simulation's fields, borrowed apart from the rest of it (so a mechanism's
/// state and config can be borrowed beside it).
macro_rules! ctx {
    ($sim:expr) => {
        $crate::sim::Ctx {
            now_us: $sim.now_us,
            rng: &mut $sim.rng,
            queue: &mut $sim.queue,
        }
    };
}

pub mod config;
mod ops;
mod traffic;
mod work;

use crate::metrics::{Metrics, WindowCounts};
use crate::model::circuit_breaker::Permit;
use crate::model::client::Client;
use crate::model::connection::Device;
use crate::model::datastore::Datastore;
use crate::model::deploy::Deploy;
use crate::model::http_cache::HttpCache;
use crate::model::lookaside_cache::LookasideCache;
use crate::model::memory::Peaks;
use crate::model::probe::Probe;
use crate::model::service::Instance;
use crate::model::timeline::Timeline;
use crate::queue::{EventQueue, Front};
use crate::rng::Rng;
use crate::scenario::Variant;
use crate::slab::{Key, Slab};
use crate::time::{TimeUs, ms_to_us, s_to_us};
use crate::trace::TraceHash;
use config::Config;
use std::fmt;
use std::rc::Rc;

/// The most requests that may be in flight at once before a run stops with an error.
pub const MAX_LIVE_REQUESTS: usize = 400_000;
/// The most jobs (requests in services) at once before a run stops with an error.
pub const MAX_LIVE_JOBS: usize = 800_000;
/// The most events that may be pending at once before a run stops with an error.
pub const MAX_PENDING_EVENTS: usize = 4_000_000;

/// The most events one run may process before it stops with an error: files are refused before
/// they run when their estimated work is far smaller (`scenario::budget`), so only a run whose
/// estimate was badly wrong meets this, after a few minutes rather than hours.
pub const MAX_EVENTS: u64 = 1_500_000_000;

/// The bounds a run stops at, with an error, rather than grow without end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Requests in flight at once.
    pub live_requests: usize,
    /// Jobs (requests inside services) at once.
    pub live_jobs: usize,
    /// Events pending at once.
    pub pending_events: usize,
    /// Events processed over the whole run.
    pub events: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            live_requests: MAX_LIVE_REQUESTS,
            live_jobs: MAX_LIVE_JOBS,
            pending_events: MAX_PENDING_EVENTS,
            events: MAX_EVENTS,
        }
    }
}

/// Why a run cannot continue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SimError {
    /// A bound was reached; the message says which and what to change.
    LimitExceeded(String),
    /// A change applied to the running system was refused.
    BadChange(String),
}

impl fmt::Display for SimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SimError::LimitExceeded(message) => write!(f, "the run stopped at a limit: {message}"),
            SimError::BadChange(message) => write!(f, "the change was refused: {message}"),
        }
    }
}

impl std::error::Error for SimError {}

/// How a request (or one attempt, or a call) ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Succeeded.
    Success,
    /// An error response (or a refused connection).
    Error,
    /// No answer in time.
    Timeout,
    /// Refused by admission control.
    Shed,
}

/// Who receives the answer to work done by a service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reply {
    /// A client's attempt.
    Client { request: Key, attempt: u32 },
    /// A client's attempt that passed an HTTP cache on a miss: store, then answer.
    ViaHttpCache {
        cache: u16,
        key: u64,
        request: Key,
        attempt: u32,
    },
    /// A job waiting on a call.
    Job { job: Key },
    /// A health probe.
    Check { check: Key },
    /// A fire-and-forget call: the work is wanted, the answer goes nowhere.
    Nobody,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Event {
    Arrival {
        client: u16,
        epoch: u32,
    },
    Send {
        request: Key,
    },
    AttemptTimeout {
        request: Key,
        attempt: u32,
    },
    StepDone {
        job: Key,
    },
    CallTimeout {
        job: Key,
    },
    DependencyDone {
        job: Key,
        ok: bool,
    },
    DatastoreWake {
        datastore: u16,
        generation: u32,
    },
    StatementTimeout {
        datastore: u16,
        query: Key,
    },
    InstanceUp {
        service: u16,
        instance: u16,
        epoch: u32,
    },
    ProbeTick {
        probe: u16,
        prober: u32,
    },
    CheckTimeout {
        check: Key,
    },
    Connect {
        client: u16,
        device: u32,
        epoch: u32,
    },
    Heartbeat {
        client: u16,
        device: u32,
        epoch: u32,
    },
    Timeline {
        index: u16,
        /// Bumps when a change moves the entry, so that its earlier scheduling is stale.
        epoch: u32,
    },
    RateChange {
        client: u16,
        index: u16,
    },
    DeployDeadline {
        deploy: u16,
        epoch: u32,
    },
    DeployRetry {
        deploy: u16,
        epoch: u32,
    },
}

impl Event {
    fn trace_ids(&self) -> (u8, [u64; 3]) {
        use Event::*;
        match *self {
            Arrival { client, epoch } => (1, [client as u64, epoch as u64, 0]),
            Send { request } => (2, [request.slot as u64, request.generation as u64, 0]),
            AttemptTimeout { request, attempt } => (
                3,
                [
                    request.slot as u64,
                    request.generation as u64,
                    attempt as u64,
                ],
            ),
            StepDone { job } => (4, [job.packed(), 0, 0]),
            CallTimeout { job } => (5, [job.packed(), 0, 0]),
            DependencyDone { job, ok } => (6, [job.packed(), ok as u64, 0]),
            DatastoreWake {
                datastore,
                generation,
            } => (7, [datastore as u64, generation as u64, 0]),
            StatementTimeout { datastore, query } => (
                8,
                [datastore as u64, query.slot as u64, query.generation as u64],
            ),
            InstanceUp {
                service,
                instance,
                epoch,
            } => (9, [service as u64, instance as u64, epoch as u64]),
            ProbeTick { probe, prober } => (10, [probe as u64, prober as u64, 0]),
            CheckTimeout { check } => (11, [check.packed(), 0, 0]),
            Connect {
                client,
                device,
                epoch,
            } => (12, [client as u64, device as u64, epoch as u64]),
            Heartbeat {
                client,
                device,
                epoch,
            } => (13, [client as u64, device as u64, epoch as u64]),
            Timeline { index, epoch } => (14, [index as u64, epoch as u64, 0]),
            RateChange { client, index } => (15, [client as u64, index as u64, 0]),
            DeployDeadline { deploy, epoch } => (16, [deploy as u64, epoch as u64, 0]),
            DeployRetry { deploy, epoch } => (17, [deploy as u64, epoch as u64, 0]),
        }
    }
}

/// Where a request comes from, beyond its client population.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Origin {
    /// An open-loop request.
    Plain,
    /// A connect request of a connection client.
    Connect { device: u32, epoch: u32 },
    /// A request over an established connection.
    Heartbeat { device: u32, epoch: u32 },
}

#[derive(Clone, Debug)]
struct Request {
    client: u16,
    origin: Origin,
    /// Attempts sent so far.
    attempts: u32,
    /// An attempt is outstanding.
    waiting: bool,
    first_sent_us: TimeUs,
    last_delay_us: TimeUs,
    key: u32,
    user: u32,
    /// Sent to this instance rather than through the client's target (connections).
    pinned: Option<(u16, u16)>,
    /// What the client's circuit breaker said to the outstanding attempt.
    permit: Permit,
}

#[derive(Clone, Debug)]
struct Job {
    reply: Reply,
    service: u16,
    instance: u16,
    endpoint: u16,
    /// Next operation of the endpoint's program.
    pc: u16,
    key: u32,
    enqueued_us: TimeUs,
    /// Memory it holds (its endpoint's, and its pending call's while it waits), MB.
    memory_mb: f64,
    /// The part of `memory_mb` held for the call it waits for (freed when the answer comes).
    call_memory_mb: f64,
    /// The look-aside cache this job is filling (single-flight bookkeeping).
    filling: Option<u16>,
    /// The datastore query it waits for.
    query: Option<(u16, Key)>,
}

/// An outstanding health probe.
#[derive(Clone, Copy, Debug)]
struct Check {
    probe: u16,
    service: u16,
    instance: u16,
    instance_epoch: u32,
}

/// Sizes of a run's internal tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Footprint {
    /// Request slots allocated (reused after a request ends).
    pub request_slots: usize,
    /// Job slots allocated.
    pub job_slots: usize,
    /// Probe slots allocated.
    pub check_slots: usize,
    /// Events waiting in the queue.
    pub pending_events: usize,
    /// Windows of series kept.
    pub windows: usize,
}

/// Totals of requests by outcome since the start of the run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    /// Requests started.
    pub total: u64,
    /// Ended in success.
    pub success: u64,
    /// Ended in an error.
    pub error: u64,
    /// Ended in a timeout.
    pub timeout: u64,
    /// Ended shed.
    pub shed: u64,
    /// Not ended yet.
    pub in_flight: u64,
}

/// The request ledger: a second account of requests, kept by the request table's own transitions,
/// against which the totals are checked ([`Simulation::check_ledger`]).
#[derive(Clone, Copy, Debug, Default)]
struct Ledger {
    /// Slots that became live (a request started).
    started: u64,
    /// Live slots that ended.
    ended: u64,
    /// Attempts to end a request that was not live (ended twice, or after its slot was freed):
    /// refused, and counted here.
    bad_ends: u64,
}

/// Per-window counters of components, reset when a window closes.
#[derive(Clone, Debug, Default)]
struct ComponentWindow {
    /// Per service: crashes and restarts.
    restarts: Vec<u64>,
    /// Per service: peak memory of any instance.
    memory_peaks: Peaks,
    /// Per service: requests (and probes) delivered to its instances.
    arrivals: Vec<u64>,
    /// Per service: time from arrival at an instance to a successful answer.
    latency: Vec<crate::metrics::Histogram>,
    /// Per service: requests it refused, shed or answered with an error (its own or a callee's),
    /// or lost in a crash: what its callers felt as failures.
    failed: Vec<u64>,
}

/// What a mechanism may use while it handles a step of a run: the clock, the run's one random
/// generator (draws in event order keep runs deterministic) and the event queue, to arm its own
/// timers.
pub(crate) struct Ctx<'a> {
    /// Virtual time now.
    pub(crate) now_us: TimeUs,
    /// The run's random generator.
    pub(crate) rng: &'a mut Rng,
    /// The run's pending events.
    pub(crate) queue: &'a mut EventQueue<Event>,
}

/// A generator and an event queue of their own, for testing a mechanism without a run.
#[cfg(test)]
pub(crate) struct Alone {
    rng: Rng,
    pub(crate) queue: EventQueue<Event>,
}

#[cfg(test)]
impl Alone {
    /// Seeded with `seed`, nothing pending.
    pub(crate) fn new(seed: u64) -> Self {
        Alone {
            rng: Rng::new(seed),
            queue: EventQueue::new(),
        }
    }

    /// A context at time 0 over them.
    pub(crate) fn ctx(&mut self) -> Ctx<'_> {
        Ctx {
            now_us: 0,
            rng: &mut self.rng,
            queue: &mut self.queue,
        }
    }
}

/// One run of a scenario variant with one seed. Cloning it is a checkpoint.
#[derive(Clone)]
pub struct Simulation {
    config: Rc<Config>,
    now_us: TimeUs,
    end_us: TimeUs,
    seed: u64,
    limits: Limits,
    rng: Rng,
    queue: EventQueue<Event>,
    trace: TraceHash,
    events: u64,
    /// Per client population: its rate, retry budget and circuit breaker.
    clients: Vec<Client>,
    /// Per deploy: where it stands.
    deploys: Vec<Deploy>,
    devices: Vec<Vec<Device>>,
    balancer_cursors: Vec<usize>,
    service_cursors: Vec<usize>,
    instances: Vec<Vec<Instance>>,
    http_caches: Vec<HttpCache>,
    caches: Vec<LookasideCache>,
    datastores: Vec<Datastore>,
    /// Per probe: its run-time state (filled in when the run starts).
    probes: Vec<Probe>,
    requests: Slab<Request>,
    jobs: Slab<Job>,
    checks: Slab<Check>,
    totals: Totals,
    /// Requests started and ended, kept apart from the totals to check them.
    ledger: Ledger,
    window: WindowCounts,
    components: ComponentWindow,
    window_end_us: TimeUs,
    metrics: Metrics,
    /// An error raised where it could not be returned (inside a crash); `step` returns it.
    deferred_error: Option<SimError>,
    /// Scratch space for the queries a datastore wake-up finds finished.
    finished: Vec<crate::model::datastore::QueryOwner>,
    /// What operators and systems did (filled in when the run starts).
    timeline: Timeline,
}

impl Simulation {
    /// Builds a run of `variant` that draws every random number from `seed`.
    pub fn new(variant: &Variant, seed: u64) -> Simulation {
        Simulation::with_limits(variant, seed, Limits::default())
    }

    /// Like [`Simulation::new`], stopping at `limits` instead of the default bounds (a host
    /// running scenarios it does not trust may want tighter ones).
    pub fn with_limits(variant: &Variant, seed: u64, limits: Limits) -> Simulation {
        let config = Rc::new(config::compile(&variant.file, &variant.tree));
        let file = &variant.file;
        let window_us = ms_to_us(file.scenario.window_ms).max(1);
        let end_us = s_to_us(file.scenario.duration_s);
        let mut sim = Simulation {
            now_us: 0,
            end_us,
            seed,
            limits,
            rng: Rng::new(seed),
            queue: EventQueue::new(),
            trace: TraceHash::default(),
            events: 0,
            clients: config.clients.iter().map(Client::new).collect(),
            deploys: vec![Default::default(); config.deploys.len()],
            devices: config
                .clients
                .iter()
                .map(|c| vec![Device::new(); c.population as usize])
                .collect(),
            balancer_cursors: vec![0; config.balancers.len()],
            service_cursors: vec![0; config.services.len()],
            instances: config
                .services
                .iter()
                .map(|s| vec![Instance::new(); s.instances as usize])
                .collect(),
            http_caches: vec![HttpCache::default(); config.http_caches.len()],
            caches: config
                .caches
                .iter()
                .map(|c| LookasideCache::start(c, config.max_keys))
                .collect(),
            datastores: vec![Datastore::default(); config.datastores.len()],
            probes: Vec::with_capacity(config.probes.len()),
            requests: Slab::default(),
            jobs: Slab::default(),
            checks: Slab::default(),
            totals: Totals::default(),
            ledger: Ledger::default(),
            window: WindowCounts::default(),
            components: ComponentWindow {
                restarts: vec![0; config.services.len()],
                memory_peaks: Peaks::new(config.services.iter().map(|s| s.memory.base_mb)),
                arrivals: vec![0; config.services.len()],
                latency: vec![Default::default(); config.services.len()],
                failed: vec![0; config.services.len()],
            },
            window_end_us: window_us,
            metrics: Metrics::new(file, window_us),
            deferred_error: None,
            finished: Vec::new(),
            timeline: Timeline::default(),
            config,
        };
        sim.schedule_start();
        sim
    }

    /// Schedules what starts by itself: arrivals, rate changes, connects, probes, the timeline.
    fn schedule_start(&mut self) {
        let config = self.config.clone();
        for (c, client) in config.clients.iter().enumerate() {
            self.schedule_arrival(c as u16);
            for index in 0..client.rate_changes.len() {
                self.queue.push(
                    client.rate_changes[index].0,
                    Event::RateChange {
                        client: c as u16,
                        index: index as u16,
                    },
                );
            }
            for device in 0..client.population {
                let at = if client.connect_spread_us > 0 {
                    self.rng.below(client.connect_spread_us)
                } else {
                    0
                };
                self.queue.push(
                    at,
                    Event::Connect {
                        client: c as u16,
                        device,
                        epoch: 0,
                    },
                );
            }
        }
        for (p, probe) in config.probes.iter().enumerate() {
            let instances = config.services[probe.service as usize].instances as usize;
            let state = Probe::start(p as u16, probe, instances, &mut ctx!(self));
            self.probes.push(state);
        }
        self.timeline = Timeline::start(&config.file.timeline, &mut ctx!(self));
    }

    /// Current virtual time, µs.
    pub fn now_us(&self) -> TimeUs {
        self.now_us
    }

    /// When the run ends, µs.
    pub fn end_us(&self) -> TimeUs {
        self.end_us
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Events processed so far.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// Hash of the events processed so far.
    pub fn trace_hash(&self) -> TraceHash {
        self.trace
    }

    /// Open connections held by one instance of a service now (0 if there is no such instance).
    pub fn instance_connections(&self, service: &str, instance: usize) -> u32 {
        self.config
            .services
            .iter()
            .position(|s| s.name == service)
            .and_then(|s| self.instances[s].get(instance))
            .map_or(0, |i| i.connections)
    }

    /// Series of the windows closed so far.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Requests by outcome so far.
    pub fn totals(&self) -> Totals {
        self.totals
    }

    /// Checks that every request ended exactly once, from a live state, or is still in flight:
    /// the ledger kept by the request table against the totals and the table itself. Unlike
    /// `total == success + error + timeout + shed + in_flight`, which the counters keep by
    /// construction, this fails if any request is ended twice.
    pub fn check_ledger(&self) -> Result<(), String> {
        let l = self.ledger;
        let t = self.totals;
        if l.bad_ends > 0 {
            return Err(format!(
                "{} requests were ended when they were not in flight (ended twice)",
                l.bad_ends
            ));
        }
        let live = self.requests.iter().count() as u64;
        if l.started - l.ended != live || t.in_flight != live {
            return Err(format!(
                "{live} requests in flight in the table, {} by the ledger, {} by the totals",
                l.started - l.ended,
                t.in_flight
            ));
        }
        if t.total != l.started || t.success + t.error + t.timeout + t.shed != l.ended {
            return Err(format!(
                "the ledger has {} started and {} ended, the totals {t:?}",
                l.started, l.ended
            ));
        }
        Ok(())
    }

    /// The scenario as currently in force (after `set` actions and live fixes).
    pub fn scenario(&self) -> &crate::scenario::ScenarioFile {
        &self.config.file
    }

    /// A copy of the run's state without its series (they are shared with the run they came from:
    /// see [`Simulation::restore`]). Cheap next to a full clone of a long run.
    pub fn checkpoint(&mut self) -> Simulation {
        let empty = self.metrics.empty_like();
        let metrics = std::mem::replace(&mut self.metrics, empty);
        let copy = self.clone();
        self.metrics = metrics;
        copy
    }

    /// Continues from `checkpoint` (taken earlier from this run or one it was restored from),
    /// keeping this run's series up to the checkpoint's time.
    pub fn restore(&mut self, checkpoint: &Simulation) {
        let windows =
            (checkpoint.window_end_us / self.metrics.window_us).saturating_sub(1) as usize;
        let mut metrics = std::mem::replace(&mut self.metrics, checkpoint.metrics.empty_like());
        metrics.truncate(windows);
        *self = checkpoint.clone();
        self.metrics = metrics;
    }

    /// Bytes the run's state holds, without its series: what a checkpoint costs. An estimate from
    /// the tables' capacities (hash and B-tree overheads approximated), good to a few percent.
    pub fn state_bytes(&self) -> usize {
        use std::mem::size_of;
        size_of::<Simulation>()
            + self.queue.heap_bytes()
            + self.requests.heap_bytes()
            + self.jobs.heap_bytes()
            + self.checks.heap_bytes()
            + self
                .devices
                .iter()
                .map(|d| 24 + d.capacity() * size_of::<Device>())
                .sum::<usize>()
            + self.clients.iter().map(Client::heap_bytes).sum::<usize>()
            + self
                .instances
                .iter()
                .flatten()
                .map(|i| size_of::<Instance>() + i.queue.capacity() * size_of::<Key>())
                .sum::<usize>()
            + self
                .http_caches
                .iter()
                .map(HttpCache::heap_bytes)
                .sum::<usize>()
            + self
                .caches
                .iter()
                .map(LookasideCache::heap_bytes)
                .sum::<usize>()
            + self
                .datastores
                .iter()
                .map(Datastore::heap_bytes)
                .sum::<usize>()
            + self.probes.iter().map(Probe::heap_bytes).sum::<usize>()
            + self.timeline.heap_bytes()
    }

    /// Sizes of the run's internal tables (slots allocated, events pending), to show that memory
    /// does not grow with simulated time.
    pub fn footprint(&self) -> Footprint {
        Footprint {
            request_slots: self.requests.slots(),
            job_slots: self.jobs.slots(),
            check_slots: self.checks.slots(),
            pending_events: self.queue.len(),
            windows: self.metrics.len(),
        }
    }

    /// True once virtual time has reached the end of the run.
    pub fn finished(&self) -> bool {
        self.now_us >= self.end_us
    }

    /// Processes the events before time `until_us` (at most the end of the run) and moves the
    /// clock to it, closing the metric windows that end by then. Windows are half-open,
    /// [start, end), like the events they count. Returns the number of events processed.
    pub fn run_until(&mut self, until_us: TimeUs) -> Result<u64, SimError> {
        let until_us = until_us.min(self.end_us);
        let start = self.events;
        while self.step_before(until_us)? {}
        self.advance_clock(until_us);
        Ok(self.events - start)
    }

    /// Like [`Simulation::run_until`], but stops after `max_events` events; returns whether it
    /// reached `until_us`. The UI uses it to keep each animation frame short: how the work is
    /// sliced never changes the run.
    pub fn run_until_budget(
        &mut self,
        until_us: TimeUs,
        max_events: u64,
    ) -> Result<bool, SimError> {
        let until_us = until_us.min(self.end_us);
        let stop_at = self.events.saturating_add(max_events);
        loop {
            if self.events >= stop_at {
                // Out of budget: done only if nothing live is left before `until_us`.
                if self.live_front_before(until_us).is_some() {
                    return Ok(false);
                }
                break;
            }
            if !self.step_before(until_us)? {
                break;
            }
        }
        self.advance_clock(until_us.max(self.now_us));
        Ok(true)
    }

    /// Runs to the end.
    pub fn run_to_end(&mut self) -> Result<u64, SimError> {
        self.run_until(self.end_us)
    }

    /// Processes exactly one event (if any is due before the end); returns whether one was.
    pub fn step(&mut self) -> Result<bool, SimError> {
        self.step_before(self.end_us)
    }

    /// Pops events that would change nothing (see [`Simulation::is_stale`]) from the front of the
    /// queue while they are due before `limit_us` (and before the end), and returns where the
    /// first live one due by then is. One search of the queue per event looked at: the front is
    /// taken where it was found.
    #[inline(always)]
    fn live_front_before(&mut self, limit_us: TimeUs) -> Option<Front> {
        loop {
            let front = self.queue.front()?;
            if front.time_us >= limit_us.min(self.end_us) {
                return None;
            }
            if !self.is_stale(self.queue.event(&front)) {
                return Some(front);
            }
            self.queue.take(front);
        }
    }

    /// Processes the next live event due before `limit_us` (and before the end), dropping the
    /// stale ones before it unseen; returns whether one was processed.
    fn step_before(&mut self, limit_us: TimeUs) -> Result<bool, SimError> {
        let Some(front) = self.live_front_before(limit_us) else {
            return Ok(false);
        };
        let time = front.time_us;
        let event = self.queue.take(front);
        self.advance_clock(time);
        self.events += 1;
        let (kind, ids) = event.trace_ids();
        self.trace.record(time, kind, ids);
        self.handle(event)?;
        if let Some(err) = self.deferred_error.take() {
            return Err(err);
        }
        if self.queue.len() > self.limits.pending_events {
            let max = self.limits.pending_events;
            return Err(self.limit(format!("more than {max} events pending")));
        }
        if self.events > self.limits.events {
            let max = self.limits.events;
            return Err(self.limit(format!("more than {max} events processed")));
        }
        Ok(true)
    }

    /// Whether an event would find nothing to do: the attempt, job, probe or wake it was armed
    /// for has ended or been superseded. Each test is the same guard its handler starts with, so
    /// dropping stale events unseen changes nothing but the trace and the event count.
    #[inline(always)]
    fn is_stale(&self, event: &Event) -> bool {
        match *event {
            Event::Arrival { client, epoch } => {
                !self.clients[client as usize].arrival_is_current(epoch)
            }
            Event::AttemptTimeout { request, attempt } => !self.is_current(request, attempt),
            Event::StepDone { job }
            | Event::CallTimeout { job }
            | Event::DependencyDone { job, .. } => !self.job_is(job),
            Event::DatastoreWake {
                datastore,
                generation,
            } => self.datastores[datastore as usize].wake_generation != generation,
            Event::CheckTimeout { check } => self.checks.get(check).is_none(),
            Event::Timeline { index, epoch } => self.timeline.is_stale(index, epoch),
            Event::DeployDeadline { deploy, epoch } | Event::DeployRetry { deploy, epoch } => {
                self.deploys[deploy as usize].is_stale(epoch)
            }
            _ => false,
        }
    }

    fn limit(&self, what: String) -> SimError {
        SimError::LimitExceeded(format!(
            "{what} at {:.3} s: lower the arrival rates, retries or population",
            self.now_us as f64 / 1e6
        ))
    }

    fn handle(&mut self, event: Event) -> Result<(), SimError> {
        match event {
            Event::Arrival { client, epoch } => self.on_arrival(client, epoch)?,
            Event::Send { request } => self.on_send(request)?,
            Event::AttemptTimeout { request, attempt } => {
                if self.is_current(request, attempt) {
                    self.attempt_answered(request, false);
                    self.attempt_failed(request, Outcome::Timeout)?;
                }
            }
            Event::StepDone { job } => {
                if self.job_is(job) {
                    self.advance_job(job)?;
                }
            }
            Event::CallTimeout { job } => {
                if self.job_is(job) {
                    self.abandon_query(job);
                    self.job_failed(job)?;
                }
            }
            Event::DependencyDone { job, ok } => {
                if self.job_is(job) {
                    if ok {
                        self.advance_job(job)?
                    } else {
                        self.job_failed(job)?
                    }
                }
            }
            Event::DatastoreWake {
                datastore,
                generation,
            } => self.on_datastore_wake(datastore, generation)?,
            Event::StatementTimeout { datastore, query } => {
                self.on_statement_timeout(datastore, query)?
            }
            Event::InstanceUp {
                service,
                instance,
                epoch,
            } => self.on_instance_up(service, instance, epoch),
            Event::ProbeTick { probe, prober } => self.on_probe_tick(probe, prober)?,
            Event::CheckTimeout { check } => self.on_check_result(check, false)?,
            Event::Connect {
                client,
                device,
                epoch,
            } => self.on_connect(client, device, epoch)?,
            Event::Heartbeat {
                client,
                device,
                epoch,
            } => self.on_heartbeat(client, device, epoch)?,
            Event::Timeline { index, .. } => self.on_timeline(index as usize)?,
            Event::RateChange { client, index } => {
                let rate = self.config.clients[client as usize].rate_changes[index as usize].1;
                self.set_client_rate(client, rate);
            }
            Event::DeployDeadline { deploy, epoch } => self.on_deploy_deadline(deploy, epoch)?,
            Event::DeployRetry { deploy, epoch } => self.on_deploy_retry(deploy, epoch)?,
        }
        Ok(())
    }

    #[inline(always)]
    fn advance_clock(&mut self, time: TimeUs) {
        while self.window_end_us <= time && self.window_end_us <= self.end_us {
            self.close_window();
        }
        self.now_us = time;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Scenario;

    const SMALL: &str = r#"
[scenario]
id = "small"
title = "small"
duration_s = 10

[clients.users]
target = "api"
rate_rps = 200
timeout_ms = 2000

[services.api]
workers = 4
endpoints.default.service_time = { distribution = "constant", ms = 100 }
"#;

    #[test]
    fn the_ledger_catches_a_request_ended_twice() {
        let scenario = Scenario::parse("small.toml", SMALL).unwrap();
        let mut sim = Simulation::new(&scenario.with_fixes(&[]).unwrap(), 1);
        sim.run_until(5_000_000).unwrap();
        assert_eq!(sim.check_ledger(), Ok(()));
        let (live, _) = sim.requests.iter().next().expect("requests in flight");
        // Ending it once is an ordinary end: the accounts still agree.
        sim.request_ended(live, Outcome::Error);
        assert_eq!(sim.check_ledger(), Ok(()));
        // Ending it again is caught, although the totals still add up by construction.
        sim.request_ended(live, Outcome::Error);
        let t = sim.totals();
        assert_eq!(
            t.total,
            t.success + t.error + t.timeout + t.shed + t.in_flight
        );
        let err = sim.check_ledger().unwrap_err();
        assert!(err.contains("ended twice"), "{err}");
    }
}
