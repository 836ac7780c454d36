//! The service mechanism: a service's compiled config, and its instances: health, admission
//! (adaptive limit, workers, a bounded FIFO queue), what becomes of queued work when a worker
//! frees up, memory and connections. The event loop runs the admitted jobs' programs.

use crate::model::adaptive_limit::{AdaptiveConfig, AdaptiveLimit};
use crate::model::memory::MemoryCfg;
use crate::rng::Rng;
use crate::scenario::Duration;
use crate::scenario::schema::ServiceSpec;
use crate::sim::config::EndpointCfg;
use crate::time::{TimeUs, ms_to_us, s_to_us};
use std::collections::VecDeque;

/// A compiled service.
#[derive(Clone, Debug)]
pub struct ServiceCfg {
    /// Its name.
    pub name: String,
    /// Instances wanted.
    pub instances: u32,
    /// Workers per instance.
    pub workers: u32,
    /// Queue limit per instance.
    pub queue_capacity: u32,
    /// Whether in-service requests count against the limit.
    pub queue_counts_in_flight: bool,
    /// Drop queued work nobody waits for.
    pub honor_timeout: bool,
    /// Shed work that waited longer than this (0 = never).
    pub max_queue_wait_us: TimeUs,
    /// Adaptive concurrency limit per instance (target 0: none).
    pub adaptive: AdaptiveConfig,
    /// Memory: idle, per connection, limit.
    pub memory: MemoryCfg,
    /// Restart by itself after a crash.
    pub auto_restart: bool,
    /// Down time after a crash or restart.
    pub restart_delay_us: TimeUs,
    /// A down instance does not answer (its callers wait for their time-outs).
    pub silent_when_down: bool,
    /// Endpoints in name order.
    pub endpoints: Vec<EndpointCfg>,
    /// Endpoint names in the same order.
    pub endpoint_names: Vec<String>,
}

impl ServiceCfg {
    /// Compiles a validated service `name` whose endpoints compiled to `endpoints`.
    pub fn compile(name: &str, spec: &ServiceSpec, endpoints: Vec<EndpointCfg>) -> Self {
        ServiceCfg {
            name: name.to_string(),
            instances: spec.instances,
            workers: spec.workers,
            queue_capacity: spec.queue_capacity,
            queue_counts_in_flight: spec.queue_counts_in_flight,
            honor_timeout: spec.honor_timeout,
            max_queue_wait_us: ms_to_us(spec.max_queue_wait_ms),
            adaptive: AdaptiveConfig {
                target_us: ms_to_us(spec.adaptive_limit_target_ms),
                decrease: spec.adaptive_limit_decrease,
                min: spec.adaptive_limit_min,
                max: (spec.workers as f64 + spec.queue_capacity as f64)
                    .max(spec.adaptive_limit_min),
            },
            memory: MemoryCfg::compile(spec),
            auto_restart: spec.auto_restart,
            restart_delay_us: s_to_us(spec.restart_delay_s),
            silent_when_down: spec.silent_when_down,
            endpoints,
            endpoint_names: spec.endpoints.keys().cloned().collect(),
        }
    }

    /// What becomes of a job that waited `waited_us` in an instance's queue when a worker frees
    /// up for it; `still_wanted`: whether its caller still waits for the answer.
    pub fn fate_of_queued(&self, waited_us: TimeUs, still_wanted: bool) -> QueuedFate {
        if self.honor_timeout && !still_wanted {
            QueuedFate::Dropped
        } else if self.max_queue_wait_us > 0 && waited_us > self.max_queue_wait_us {
            QueuedFate::Shed
        } else {
            QueuedFate::Start
        }
    }
}

/// What becomes of a queued job when a worker frees up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueuedFate {
    /// It runs.
    Start,
    /// Its caller gave up and the service honours that: it is dropped unseen.
    Dropped,
    /// It waited longer than the service lets work wait: shed.
    Shed,
}

/// A duration distribution with its parameters in µs.
#[derive(Clone, Debug, PartialEq)]
pub enum Sampler {
    /// Always this long.
    Constant(TimeUs),
    /// Exponential with this mean.
    Exponential(f64),
    /// Uniform in [lo, hi].
    Uniform(f64, f64),
    /// Log-normal with this median and the σ of its logarithm (computed once from the 99th
    /// percentile, exactly as [`Rng::lognormal`] would on every draw).
    Lognormal { median: f64, sigma: f64 },
}

impl Sampler {
    /// Converts a scenario duration.
    pub fn new(duration: &Duration) -> Self {
        let us = |ms: f64| ms * 1_000.0;
        match *duration {
            Duration::Constant { ms } => Sampler::Constant(ms_to_us(ms)),
            Duration::Exponential { mean_ms } => Sampler::Exponential(us(mean_ms)),
            Duration::Uniform { min_ms, max_ms } => Sampler::Uniform(us(min_ms), us(max_ms)),
            Duration::Lognormal { median_ms, p99_ms } => Sampler::Lognormal {
                median: us(median_ms),
                sigma: Rng::lognormal_sigma(us(median_ms), us(p99_ms)),
            },
        }
    }

    /// Draws one duration, µs.
    pub fn sample_us(&self, rng: &mut Rng) -> TimeUs {
        match *self {
            Sampler::Constant(us) => us,
            Sampler::Exponential(mean) => rng.exponential(mean) as TimeUs,
            Sampler::Uniform(lo, hi) => rng.uniform(lo, hi) as TimeUs,
            Sampler::Lognormal { median, sigma } => rng.lognormal_with(median, sigma) as TimeUs,
        }
    }

    /// The mean, µs (for documentation and checks).
    pub fn mean_us(&self) -> f64 {
        match *self {
            Sampler::Constant(us) => us as f64,
            Sampler::Exponential(mean) => mean,
            Sampler::Uniform(lo, hi) => (lo + hi) / 2.0,
            Sampler::Lognormal { median, sigma } => median * libm::exp(sigma * sigma / 2.0),
        }
    }
}

/// What an instance does with an arriving request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    /// A worker was free: start now (the worker is counted busy).
    Start,
    /// Queued behind others.
    Queued,
    /// Down or not accepting: answer with an error at once.
    Refused,
    /// The queue is full: shed.
    Shed,
}

/// One instance's run-time state.
#[derive(Clone, Debug)]
pub struct Instance {
    /// Running (not crashed, stopped or restarting).
    pub up: bool,
    /// Takes new requests (false after `stop_accepting`).
    pub accepting: bool,
    /// In load-balancer rotation (readiness).
    pub ready: bool,
    /// Workers busy now.
    pub busy: u32,
    /// Jobs waiting for a worker, oldest first.
    pub queue: VecDeque<crate::slab::Key>,
    /// Memory of the work in service (base and connections are added by the caller).
    pub work_memory: crate::model::memory::WorkMemory,
    /// Open client connections.
    pub connections: u32,
    /// Bumps on every crash or restart, so stale "back up" events are dropped.
    pub epoch: u32,
    /// Its adaptive concurrency limit (inert unless the service has one).
    pub adaptive: AdaptiveLimit,
    /// Whether a readiness check has passed since it last came up (what a deploy waits for).
    pub proven: bool,
}

impl Instance {
    /// A healthy, idle instance.
    pub fn new() -> Self {
        Instance {
            up: true,
            accepting: true,
            ready: true,
            busy: 0,
            queue: VecDeque::new(),
            work_memory: Default::default(),
            connections: 0,
            epoch: 0,
            adaptive: AdaptiveLimit::default(),
            proven: false,
        }
    }

    /// Requests queued or in service.
    pub fn outstanding(&self) -> u32 {
        self.busy + self.queue.len() as u32
    }

    /// One of its workers finished: the next queued job for it, or `None`, and the worker goes
    /// idle (nothing changes on an instance that is down: its work is gone).
    pub fn next_queued(&mut self) -> Option<crate::slab::Key> {
        if !self.up {
            return None;
        }
        let next = self.queue.pop_front();
        if next.is_none() {
            self.busy = self.busy.saturating_sub(1);
        }
        next
    }

    /// Decides what to do with a new request (and counts a started one as busy).
    pub fn admit(
        &mut self,
        workers: u32,
        queue_capacity: u32,
        counts_in_flight: bool,
        adaptive: &AdaptiveConfig,
    ) -> Admission {
        if !self.up || !self.accepting {
            return Admission::Refused;
        }
        if !self.adaptive.admits(adaptive, self.outstanding()) {
            return Admission::Shed;
        }
        let held = self.queue.len() as u32 + if counts_in_flight { self.busy } else { 0 };
        if self.busy < workers {
            self.busy += 1;
            Admission::Start
        } else if held >= queue_capacity {
            Admission::Shed
        } else {
            Admission::Queued
        }
    }
}

impl Default for Instance {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NO_LIMIT: AdaptiveConfig = AdaptiveConfig {
        target_us: 0,
        decrease: 0.9,
        min: 1.0,
        max: 1.0,
    };

    #[test]
    fn a_freed_worker_takes_the_next_job_drops_the_abandoned_and_sheds_the_stale() {
        let spec: ServiceSpec = crate::scenario::find_bundled("retry-storm")
            .unwrap()
            .unwrap()
            .file
            .services
            .values()
            .next()
            .unwrap()
            .clone();
        let cfg = ServiceCfg {
            honor_timeout: true,
            max_queue_wait_us: 2_000,
            ..ServiceCfg::compile("api", &spec, vec![])
        };
        assert_eq!(cfg.fate_of_queued(2_000, true), QueuedFate::Start);
        assert_eq!(cfg.fate_of_queued(10, false), QueuedFate::Dropped);
        assert_eq!(cfg.fate_of_queued(2_001, true), QueuedFate::Shed);
        let patient = ServiceCfg {
            honor_timeout: false,
            max_queue_wait_us: 0,
            ..cfg.clone()
        };
        assert_eq!(patient.fate_of_queued(1 << 40, false), QueuedFate::Start);
        // The next queued job, oldest first; with none left, the worker goes idle.
        let mut i = Instance::new();
        i.busy = 1;
        let first = crate::slab::Key {
            slot: 4,
            generation: 1,
        };
        i.queue.push_back(first);
        assert_eq!(i.next_queued(), Some(first));
        assert_eq!((i.next_queued(), i.busy), (None, 0));
        // A down instance's work is gone: nothing to take, nothing to count.
        i.busy = 1;
        i.up = false;
        i.queue.push_back(first);
        assert_eq!((i.next_queued(), i.busy), (None, 1));
    }

    #[test]
    fn admits_until_workers_then_queues_then_sheds() {
        let mut i = Instance::new();
        assert_eq!(i.admit(2, 3, true, &NO_LIMIT), Admission::Start);
        assert_eq!(i.admit(2, 3, true, &NO_LIMIT), Admission::Start);
        assert_eq!(i.admit(2, 3, true, &NO_LIMIT), Admission::Queued);
        i.queue.push_back(crate::slab::Key::default());
        assert_eq!(
            i.admit(2, 3, true, &NO_LIMIT),
            Admission::Shed,
            "2 busy + 1 queued = capacity 3"
        );
        i.accepting = false;
        assert_eq!(i.admit(2, 3, true, &NO_LIMIT), Admission::Refused);
        i.accepting = true;
        i.up = false;
        assert_eq!(i.admit(2, 3, true, &NO_LIMIT), Admission::Refused);
    }

    #[test]
    fn capacity_without_in_flight_counts_only_the_queue() {
        let mut i = Instance::new();
        assert_eq!(i.admit(1, 1, false, &NO_LIMIT), Admission::Start);
        assert_eq!(i.admit(1, 1, false, &NO_LIMIT), Admission::Queued);
        i.queue.push_back(crate::slab::Key::default());
        assert_eq!(i.admit(1, 1, false, &NO_LIMIT), Admission::Shed);
    }

    #[test]
    fn samplers_draw_in_range_and_know_their_mean() {
        let mut rng = Rng::new(4);
        assert_eq!(
            Sampler::new(&Duration::Constant { ms: 2.0 }).sample_us(&mut rng),
            2_000
        );
        let uniform = Sampler::new(&Duration::Uniform {
            min_ms: 1.0,
            max_ms: 2.0,
        });
        assert!((0..100).all(|_| (1_000..=2_000).contains(&uniform.sample_us(&mut rng))));
        assert_eq!(uniform.mean_us(), 1_500.0);
    }
}
