//! Service instances: a worker pool fed by a bounded FIFO queue, and what an endpoint costs.

use crate::rng::Rng;
use crate::scenario::Duration;
use crate::time::{TimeUs, ms_to_us};
use std::collections::VecDeque;

/// A duration distribution with its parameters in µs.
#[derive(Clone, Debug, PartialEq)]
pub enum Sampler {
    /// Always this long.
    Constant(TimeUs),
    /// Exponential with this mean.
    Exponential(f64),
    /// Uniform in [lo, hi].
    Uniform(f64, f64),
    /// Log-normal with this median and 99th percentile.
    Lognormal(f64, f64),
}

impl Sampler {
    /// Converts a scenario duration.
    pub fn new(duration: &Duration) -> Self {
        let us = |ms: f64| ms * 1_000.0;
        match *duration {
            Duration::Constant { ms } => Sampler::Constant(ms_to_us(ms)),
            Duration::Exponential { mean_ms } => Sampler::Exponential(us(mean_ms)),
            Duration::Uniform { min_ms, max_ms } => Sampler::Uniform(us(min_ms), us(max_ms)),
            Duration::Lognormal { median_ms, p99_ms } => {
                Sampler::Lognormal(us(median_ms), us(p99_ms))
            }
        }
    }

    /// Draws one duration, µs.
    pub fn sample_us(&self, rng: &mut Rng) -> TimeUs {
        match *self {
            Sampler::Constant(us) => us,
            Sampler::Exponential(mean) => rng.exponential(mean) as TimeUs,
            Sampler::Uniform(lo, hi) => rng.uniform(lo, hi) as TimeUs,
            Sampler::Lognormal(median, p99) => rng.lognormal(median, p99) as TimeUs,
        }
    }
}

/// What one request to an endpoint costs.
#[derive(Clone, Debug)]
pub struct Endpoint {
    /// Worker time per request.
    pub service_time: Sampler,
    /// Probability of an error response.
    pub error_probability: f64,
}

/// What an instance does with an arriving attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    /// A worker was free: start now.
    Start,
    /// Queued behind others.
    Queued,
    /// The instance is not accepting requests: answer with an error at once.
    Refused,
    /// The queue is full: shed.
    Shed,
}

/// One instance's run-time state.
#[derive(Clone, Debug)]
pub struct Instance {
    /// Whether it takes new requests.
    pub accepting: bool,
    /// Workers busy now.
    pub busy: u32,
    /// Jobs waiting for a worker, oldest first.
    pub queue: VecDeque<u32>,
}

impl Instance {
    /// A healthy, idle instance.
    pub fn new() -> Self {
        Instance {
            accepting: true,
            busy: 0,
            queue: VecDeque::new(),
        }
    }

    /// Requests queued or in service.
    pub fn outstanding(&self) -> u32 {
        self.busy + self.queue.len() as u32
    }
}

impl Default for Instance {
    fn default() -> Self {
        Self::new()
    }
}

/// A service's run-time state and parameters.
#[derive(Clone, Debug)]
pub struct Service {
    /// Its name (for series).
    pub name: String,
    /// Workers per instance.
    pub workers: u32,
    /// Queue limit per instance.
    pub queue_capacity: u32,
    /// Whether in-service requests count against the limit.
    pub queue_counts_in_flight: bool,
    /// Drop queued work whose caller gave up.
    pub honor_timeout: bool,
    /// Endpoints, in name order.
    pub endpoints: Vec<Endpoint>,
    /// Instances.
    pub instances: Vec<Instance>,
    /// Next instance for direct (no balancer) traffic.
    pub cursor: usize,
}

impl Service {
    /// Decides what instance `i` does with a new attempt (and counts a started one as busy).
    pub fn admit(&mut self, i: usize) -> Admission {
        let instance = &mut self.instances[i];
        if !instance.accepting {
            return Admission::Refused;
        }
        let held = instance.queue.len() as u32
            + if self.queue_counts_in_flight {
                instance.busy
            } else {
                0
            };
        if instance.busy < self.workers {
            instance.busy += 1;
            Admission::Start
        } else if held >= self.queue_capacity {
            Admission::Shed
        } else {
            Admission::Queued
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(workers: u32, capacity: u32, counts_in_flight: bool) -> Service {
        Service {
            name: "s".into(),
            workers,
            queue_capacity: capacity,
            queue_counts_in_flight: counts_in_flight,
            honor_timeout: false,
            endpoints: vec![],
            instances: vec![Instance::new()],
            cursor: 0,
        }
    }

    #[test]
    fn admits_until_workers_then_queues_then_sheds() {
        let mut s = service(2, 3, true);
        assert_eq!(s.admit(0), Admission::Start);
        assert_eq!(s.admit(0), Admission::Start);
        assert_eq!(s.admit(0), Admission::Queued);
        s.instances[0].queue.push_back(0);
        assert_eq!(
            s.admit(0),
            Admission::Shed,
            "2 busy + 1 queued = capacity 3"
        );
        s.instances[0].accepting = false;
        assert_eq!(s.admit(0), Admission::Refused);
    }

    #[test]
    fn capacity_without_in_flight_counts_only_the_queue() {
        let mut s = service(1, 1, false);
        assert_eq!(s.admit(0), Admission::Start);
        assert_eq!(s.admit(0), Admission::Queued);
        s.instances[0].queue.push_back(0);
        assert_eq!(s.admit(0), Admission::Shed);
    }

    #[test]
    fn samplers_draw_in_range() {
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
    }
}
