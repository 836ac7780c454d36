//! The event loop: builds a run from a scenario variant and a seed, and advances it in virtual time.
//!
//! Handlers change component state and schedule follow-up events; stale events (a timeout for an
//! attempt that already ended, an arrival scheduled before a rate change) are recognised by
//! generation and epoch counters and dropped. Every request ends in exactly one outcome or is
//! still in flight.

use crate::metrics::{Metrics, WindowCounts};
use crate::model::client::Client;
use crate::model::load_balancer::{Balancer, InstanceRef, Route};
use crate::model::service::{Admission, Endpoint, Instance, Sampler, Service};
use crate::queue::EventQueue;
use crate::rng::Rng;
use crate::scenario::{Action, Variant, reachable_services};
use crate::time::{TimeUs, ms_to_us, s_to_us};
use crate::trace::TraceHash;
use std::fmt;

/// The most requests that may be in flight at once before a run stops with an error.
pub const MAX_LIVE_REQUESTS: usize = 2_000_000;
/// The most events that may be pending at once before a run stops with an error.
pub const MAX_PENDING_EVENTS: usize = 8_000_000;

/// Why a run cannot continue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SimError {
    /// A bound was reached; the message says which and what to change.
    LimitExceeded(String),
}

impl fmt::Display for SimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SimError::LimitExceeded(message) => write!(f, "the run stopped at a limit: {message}"),
        }
    }
}

impl std::error::Error for SimError {}

/// How a request ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// An attempt succeeded.
    Success,
    /// The last attempt got an error response.
    Error,
    /// The last attempt timed out.
    Timeout,
    /// The last attempt was refused by admission control.
    Shed,
}

#[derive(Clone, Copy, Debug)]
enum Event {
    Arrival {
        client: u16,
        epoch: u32,
    },
    Send {
        request: u32,
        generation: u32,
    },
    Timeout {
        request: u32,
        generation: u32,
        attempt: u32,
    },
    Done {
        job: u32,
    },
    Timeline {
        index: u16,
    },
    RateChange {
        client: u16,
        index: u16,
    },
}

impl Event {
    fn trace_ids(&self) -> (u8, [u64; 3]) {
        match *self {
            Event::Arrival { client, epoch } => (1, [client as u64, epoch as u64, 0]),
            Event::Send {
                request,
                generation,
            } => (2, [request as u64, generation as u64, 0]),
            Event::Timeout {
                request,
                generation,
                attempt,
            } => (3, [request as u64, generation as u64, attempt as u64]),
            Event::Done { job } => (4, [job as u64, 0, 0]),
            Event::Timeline { index } => (5, [index as u64, 0, 0]),
            Event::RateChange { client, index } => (6, [client as u64, index as u64, 0]),
        }
    }
}

#[derive(Clone, Debug)]
struct Request {
    generation: u32,
    live: bool,
    client: u16,
    /// Attempts sent so far (1 after the first).
    attempts: u32,
    /// Whether an attempt is outstanding (sent, not yet answered or timed out).
    waiting: bool,
    first_sent_us: TimeUs,
    last_delay_us: TimeUs,
}

#[derive(Clone, Copy, Debug)]
struct Job {
    request: u32,
    generation: u32,
    attempt: u32,
    service: u16,
    instance: u16,
    endpoint: u16,
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

#[derive(Clone, Debug)]
struct TimelineAction {
    at_us: TimeUs,
    action: Action,
    service: u16,
    instance: Option<u16>,
}

/// One run of a scenario variant with one seed. Cloning it is a checkpoint.
#[derive(Clone)]
pub struct Simulation {
    now_us: TimeUs,
    end_us: TimeUs,
    seed: u64,
    rng: Rng,
    queue: EventQueue<Event>,
    trace: TraceHash,
    events: u64,
    clients: Vec<Client>,
    balancers: Vec<Balancer>,
    services: Vec<Service>,
    timeline: Vec<TimelineAction>,
    requests: Vec<Request>,
    free_requests: Vec<u32>,
    jobs: Vec<Job>,
    free_jobs: Vec<u32>,
    totals: Totals,
    window: WindowCounts,
    window_end_us: TimeUs,
    metrics: Metrics,
    gauges: Vec<f64>,
}

impl Simulation {
    /// Builds a run of `variant` that draws every random number from `seed`.
    pub fn new(variant: &Variant, seed: u64) -> Simulation {
        let file = &variant.file;
        let service_names: Vec<&String> = file.services.keys().collect();
        let service_index = |name: &str| {
            service_names
                .iter()
                .position(|n| n.as_str() == name)
                .map(|i| i as u16)
        };
        let balancer_names: Vec<&String> = file.load_balancers.keys().collect();

        let services: Vec<Service> = file
            .services
            .iter()
            .map(|(name, spec)| Service {
                name: name.clone(),
                workers: spec.workers,
                queue_capacity: spec.queue_capacity,
                queue_counts_in_flight: spec.queue_counts_in_flight,
                honor_timeout: spec.honor_timeout,
                endpoints: spec
                    .endpoints
                    .values()
                    .map(|e| Endpoint {
                        service_time: Sampler::new(&e.service_time),
                        error_probability: e.error_probability,
                    })
                    .collect(),
                instances: (0..spec.instances).map(|_| Instance::new()).collect(),
                cursor: 0,
            })
            .collect();

        let balancers = file
            .load_balancers
            .iter()
            .map(|(name, lb)| Balancer {
                instances: reachable_services(file, name)
                    .iter()
                    .flat_map(|s| {
                        let index = service_index(s).expect("validated reference");
                        (0..file.services[s].instances as u16).map(move |i| (index, i))
                    })
                    .collect(),
                policy: lb.policy,
                cursor: 0,
            })
            .collect();

        let clients = file
            .clients
            .values()
            .map(|spec| {
                let route = match service_index(&spec.target) {
                    Some(s) => Route::Service(s),
                    None => Route::Balancer(
                        balancer_names
                            .iter()
                            .position(|n| **n == spec.target)
                            .expect("validated reference") as u16,
                    ),
                };
                let endpoints = file
                    .services
                    .values()
                    .map(|s| {
                        s.endpoints
                            .keys()
                            .position(|e| *e == spec.endpoint)
                            .map_or(u16::MAX, |i| i as u16)
                    })
                    .collect();
                Client::new(spec, route, endpoints)
            })
            .collect();

        let mut timeline: Vec<TimelineAction> = file
            .timeline
            .iter()
            .map(|e| {
                let (service, instance) = match e.target.split_once('#') {
                    Some((s, n)) => (s, n.parse::<u16>().ok()),
                    None => (e.target.as_str(), None),
                };
                TimelineAction {
                    at_us: s_to_us(e.at_s),
                    action: e.action,
                    service: service_index(service).expect("validated reference"),
                    instance,
                }
            })
            .collect();
        timeline.sort_by_key(|t| t.at_us);

        let window_us = ms_to_us(file.scenario.window_ms).max(1);
        let gauge_count = services.len() * crate::metrics::SERVICE_SERIES.len();
        let mut sim = Simulation {
            now_us: 0,
            end_us: s_to_us(file.scenario.duration_s),
            seed,
            rng: Rng::new(seed),
            queue: EventQueue::new(),
            trace: TraceHash::default(),
            events: 0,
            clients,
            balancers,
            services,
            timeline,
            requests: Vec::new(),
            free_requests: Vec::new(),
            jobs: Vec::new(),
            free_jobs: Vec::new(),
            totals: Totals::default(),
            window: WindowCounts::default(),
            window_end_us: window_us,
            metrics: Metrics::new(file, window_us),
            gauges: vec![0.0; gauge_count],
        };
        for client in 0..sim.clients.len() {
            sim.schedule_arrival(client as u16);
            for index in 0..sim.clients[client].rate_changes.len() {
                let at = sim.clients[client].rate_changes[index].0;
                sim.queue.push(
                    at,
                    Event::RateChange {
                        client: client as u16,
                        index: index as u16,
                    },
                );
            }
        }
        for index in 0..sim.timeline.len() {
            sim.queue.push(
                sim.timeline[index].at_us,
                Event::Timeline {
                    index: index as u16,
                },
            );
        }
        sim
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

    /// Series of the windows closed so far.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Requests by outcome so far.
    pub fn totals(&self) -> Totals {
        self.totals
    }

    /// True once virtual time has reached the end of the run.
    pub fn finished(&self) -> bool {
        self.now_us >= self.end_us
    }

    /// Processes events up to and including time `until_us` (at most the end of the run), closing
    /// the metric windows that end by then. Returns the number of events processed.
    pub fn run_until(&mut self, until_us: TimeUs) -> Result<u64, SimError> {
        let until_us = until_us.min(self.end_us);
        let start = self.events;
        while let Some(time) = self.queue.peek_time_us() {
            if time > until_us {
                break;
            }
            self.step()?;
        }
        self.advance_clock(until_us);
        Ok(self.events - start)
    }

    /// Runs to the end.
    pub fn run_to_end(&mut self) -> Result<u64, SimError> {
        self.run_until(self.end_us)
    }

    /// Processes exactly one event (if any is due before the end); returns whether one was.
    pub fn step(&mut self) -> Result<bool, SimError> {
        match self.queue.peek_time_us() {
            Some(time) if time <= self.end_us => {}
            _ => return Ok(false),
        }
        let (time, event) = self.queue.pop().expect("peeked");
        self.advance_clock(time);
        self.events += 1;
        let (kind, ids) = event.trace_ids();
        self.trace.record(time, kind, ids);
        match event {
            Event::Arrival { client, epoch } => self.on_arrival(client, epoch)?,
            Event::Send {
                request,
                generation,
            } => self.on_send(request, generation),
            Event::Timeout {
                request,
                generation,
                attempt,
            } => {
                if self.is_current(request, generation, attempt) {
                    self.attempt_failed(request, Outcome::Timeout);
                }
            }
            Event::Done { job } => self.on_done(job),
            Event::Timeline { index } => self.on_timeline(index as usize),
            Event::RateChange { client, index } => {
                let c = &mut self.clients[client as usize];
                c.rate_rps = c.rate_changes[index as usize].1;
                c.arrival_epoch += 1;
                self.schedule_arrival(client);
            }
        }
        if self.queue.len() > MAX_PENDING_EVENTS {
            return Err(SimError::LimitExceeded(format!(
                "more than {MAX_PENDING_EVENTS} events pending at {:.3} s: lower the arrival rates or the retries",
                self.now_us as f64 / 1e6
            )));
        }
        Ok(true)
    }

    fn advance_clock(&mut self, time: TimeUs) {
        while self.window_end_us <= time && self.window_end_us <= self.end_us {
            self.close_window();
        }
        self.now_us = time;
    }

    fn close_window(&mut self) {
        let mut g = 0;
        for service in &self.services {
            let queued: usize = service.instances.iter().map(|i| i.queue.len()).sum();
            let busy: u32 = service.instances.iter().map(|i| i.busy).sum();
            let healthy = service.instances.iter().filter(|i| i.accepting).count();
            self.gauges[g] = queued as f64;
            self.gauges[g + 1] = busy as f64;
            self.gauges[g + 2] = healthy as f64;
            g += 3;
        }
        self.metrics
            .close_window(self.window_end_us, &self.window, &self.gauges);
        self.window.offered = 0;
        self.window.attempted = 0;
        self.window.completed = 0;
        self.window.success = 0;
        self.window.error = 0;
        self.window.timeout = 0;
        self.window.shed = 0;
        self.window.latency.clear();
        self.window_end_us += self.metrics.window_us;
    }

    fn schedule_arrival(&mut self, client: u16) {
        let c = &self.clients[client as usize];
        if let Some(gap) = c.next_gap_us(&mut self.rng) {
            let epoch = c.arrival_epoch;
            self.queue
                .push(self.now_us + gap, Event::Arrival { client, epoch });
        }
    }

    fn on_arrival(&mut self, client: u16, epoch: u32) -> Result<(), SimError> {
        if epoch != self.clients[client as usize].arrival_epoch {
            return Ok(());
        }
        self.schedule_arrival(client);
        let index = match self.free_requests.pop() {
            Some(i) => i,
            None => {
                if self.requests.len() >= MAX_LIVE_REQUESTS {
                    return Err(SimError::LimitExceeded(format!(
                        "more than {MAX_LIVE_REQUESTS} requests in flight at {:.3} s: lower the arrival rates or shorten timeouts",
                        self.now_us as f64 / 1e6
                    )));
                }
                self.requests.push(Request {
                    generation: 0,
                    live: false,
                    client,
                    attempts: 0,
                    waiting: false,
                    first_sent_us: 0,
                    last_delay_us: 0,
                });
                (self.requests.len() - 1) as u32
            }
        };
        let r = &mut self.requests[index as usize];
        r.generation = r.generation.wrapping_add(1);
        r.live = true;
        r.client = client;
        r.attempts = 0;
        r.waiting = false;
        r.first_sent_us = self.now_us;
        r.last_delay_us = 0;
        self.totals.total += 1;
        self.totals.in_flight += 1;
        self.window.offered += 1;
        self.send_attempt(index);
        Ok(())
    }

    fn on_send(&mut self, request: u32, generation: u32) {
        let r = &self.requests[request as usize];
        if r.live && r.generation == generation && !r.waiting {
            self.send_attempt(request);
        }
    }

    fn is_current(&self, request: u32, generation: u32, attempt: u32) -> bool {
        let r = &self.requests[request as usize];
        r.live && r.generation == generation && r.attempts == attempt && r.waiting
    }

    fn send_attempt(&mut self, request: u32) {
        let (client, generation, attempt) = {
            let r = &mut self.requests[request as usize];
            r.attempts += 1;
            r.waiting = true;
            (r.client as usize, r.generation, r.attempts)
        };
        self.window.attempted += 1;
        let timeout_us = self.clients[client].timeout_us;
        self.queue.push(
            self.now_us + timeout_us,
            Event::Timeout {
                request,
                generation,
                attempt,
            },
        );
        let (service, instance) = self.pick_instance(client);
        let endpoint = self.clients[client].endpoint_by_service[service as usize];
        let svc = &mut self.services[service as usize];
        match svc.admit(instance as usize) {
            Admission::Refused => self.attempt_failed(request, Outcome::Error),
            Admission::Shed => self.attempt_failed(request, Outcome::Shed),
            admission => {
                let job = Job {
                    request,
                    generation,
                    attempt,
                    service,
                    instance,
                    endpoint,
                };
                let id = match self.free_jobs.pop() {
                    Some(id) => {
                        self.jobs[id as usize] = job;
                        id
                    }
                    None => {
                        self.jobs.push(job);
                        (self.jobs.len() - 1) as u32
                    }
                };
                if admission == Admission::Start {
                    self.start_job(id);
                } else {
                    self.services[service as usize].instances[instance as usize]
                        .queue
                        .push_back(id);
                }
            }
        }
    }

    fn pick_instance(&mut self, client: usize) -> InstanceRef {
        match self.clients[client].route {
            Route::Service(s) => {
                let svc = &mut self.services[s as usize];
                let i = svc.cursor;
                svc.cursor = (svc.cursor + 1) % svc.instances.len();
                (s, i as u16)
            }
            Route::Balancer(b) => {
                let services = &self.services;
                self.balancers[b as usize].pick(&mut self.rng, |(s, i)| {
                    services[s as usize].instances[i as usize].outstanding()
                })
            }
        }
    }

    /// Starts a job whose worker is already counted busy.
    fn start_job(&mut self, id: u32) {
        let job = self.jobs[id as usize];
        let duration = self.services[job.service as usize].endpoints[job.endpoint as usize]
            .service_time
            .sample_us(&mut self.rng);
        self.queue
            .push(self.now_us + duration, Event::Done { job: id });
    }

    fn on_done(&mut self, id: u32) {
        let job = self.jobs[id as usize];
        self.free_jobs.push(id);
        self.window.completed += 1;
        let error_probability =
            self.services[job.service as usize].endpoints[job.endpoint as usize].error_probability;
        let failed = error_probability > 0.0 && self.rng.chance(error_probability);
        if self.is_current(job.request, job.generation, job.attempt) {
            if failed {
                self.attempt_failed(job.request, Outcome::Error);
            } else {
                self.request_ended(job.request, Outcome::Success);
            }
        }
        self.next_job(job.service as usize, job.instance as usize);
    }

    /// Gives the freed worker of an instance the next queued job, or marks it idle.
    fn next_job(&mut self, service: usize, instance: usize) {
        loop {
            let svc = &mut self.services[service];
            let Some(next) = svc.instances[instance].queue.pop_front() else {
                svc.instances[instance].busy -= 1;
                return;
            };
            let job = self.jobs[next as usize];
            if svc.honor_timeout && !self.is_current(job.request, job.generation, job.attempt) {
                self.free_jobs.push(next);
                continue;
            }
            self.start_job(next);
            return;
        }
    }

    fn attempt_failed(&mut self, request: u32, outcome: Outcome) {
        let (client, attempts, previous, generation) = {
            let r = &mut self.requests[request as usize];
            r.waiting = false;
            (r.client as usize, r.attempts, r.last_delay_us, r.generation)
        };
        let policy = &self.clients[client].retry;
        if attempts > policy.max_retries {
            self.request_ended(request, outcome);
            return;
        }
        let delay = policy.delay_us(attempts, previous, &mut self.rng);
        self.requests[request as usize].last_delay_us = delay;
        self.queue.push(
            self.now_us + delay,
            Event::Send {
                request,
                generation,
            },
        );
    }

    fn request_ended(&mut self, request: u32, outcome: Outcome) {
        let r = &mut self.requests[request as usize];
        r.live = false;
        r.waiting = false;
        let latency = self.now_us - r.first_sent_us;
        self.free_requests.push(request);
        self.totals.in_flight -= 1;
        match outcome {
            Outcome::Success => {
                self.totals.success += 1;
                self.window.success += 1;
                self.window.latency.record(latency);
            }
            Outcome::Error => {
                self.totals.error += 1;
                self.window.error += 1;
            }
            Outcome::Timeout => {
                self.totals.timeout += 1;
                self.window.timeout += 1;
            }
            Outcome::Shed => {
                self.totals.shed += 1;
                self.window.shed += 1;
            }
        }
    }

    fn on_timeline(&mut self, index: usize) {
        let action = self.timeline[index].clone();
        let svc = &mut self.services[action.service as usize];
        let range = match action.instance {
            Some(i) => i as usize..i as usize + 1,
            None => 0..svc.instances.len(),
        };
        for instance in &mut svc.instances[range] {
            instance.accepting = match action.action {
                Action::StopAccepting => false,
                Action::Resume => true,
            };
        }
    }
}
