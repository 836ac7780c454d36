//! Client populations: open-loop arrivals, per-attempt timeouts, and the retry/backoff policy.

use crate::rng::Rng;
use crate::scenario::{Arrival, Backoff, ClientSpec, Jitter};
use crate::time::{TimeUs, US_PER_S, ms_to_us, s_to_us};

/// When and how a failed attempt is retried.
#[derive(Clone, Debug, PartialEq)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// Delay policy.
    pub backoff: Backoff,
    /// First delay, µs.
    pub base_us: TimeUs,
    /// Longest delay, µs.
    pub cap_us: TimeUs,
    /// Randomisation.
    pub jitter: Jitter,
}

impl RetryPolicy {
    /// Delay before retry number `retry` (1 for the first retry); `previous_us` is the delay
    /// used before the previous retry (for decorrelated jitter).
    pub fn delay_us(&self, retry: u32, previous_us: TimeUs, rng: &mut Rng) -> TimeUs {
        let nominal = match self.backoff {
            Backoff::None => return 0,
            Backoff::Constant => self.base_us,
            Backoff::Exponential => {
                let doublings = retry.saturating_sub(1).min(40);
                self.base_us.saturating_mul(1 << doublings).min(self.cap_us)
            }
        };
        match self.jitter {
            Jitter::None => nominal,
            Jitter::Full => rng.below(nominal + 1),
            Jitter::Equal => nominal / 2 + rng.below(nominal / 2 + 1),
            Jitter::Decorrelated => {
                let high = previous_us
                    .max(self.base_us)
                    .saturating_mul(3)
                    .min(self.cap_us);
                let low = self.base_us.min(high);
                low + rng.below(high - low + 1)
            }
        }
    }
}

/// A client population's run-time state.
#[derive(Clone, Debug)]
pub struct Client {
    /// Where the requests go.
    pub route: crate::model::load_balancer::Route,
    /// Endpoint index to call on each service (indexed by service), `u16::MAX` where absent.
    pub endpoint_by_service: Vec<u16>,
    /// Arrival process.
    pub arrival: Arrival,
    /// Current rate, requests per second.
    pub rate_rps: f64,
    /// Rate changes: (time, new rate), in time order.
    pub rate_changes: Vec<(TimeUs, f64)>,
    /// Per-attempt timeout, µs.
    pub timeout_us: TimeUs,
    /// Retry policy.
    pub retry: RetryPolicy,
    /// Increments when the rate changes, so that arrivals scheduled at the old rate are dropped.
    pub arrival_epoch: u32,
}

impl Client {
    /// Builds the run-time state from the spec (route and endpoints are resolved by the caller).
    pub fn new(
        spec: &ClientSpec,
        route: crate::model::load_balancer::Route,
        endpoint_by_service: Vec<u16>,
    ) -> Self {
        let mut rate_changes: Vec<(TimeUs, f64)> = spec
            .rate_changes
            .iter()
            .map(|c| (s_to_us(c.at_s), c.rate_rps))
            .collect();
        rate_changes.sort_by_key(|c| c.0);
        Client {
            route,
            endpoint_by_service,
            arrival: spec.arrival,
            rate_rps: spec.rate_rps,
            rate_changes,
            timeout_us: ms_to_us(spec.timeout_ms),
            retry: RetryPolicy {
                max_retries: spec.max_retries,
                backoff: spec.backoff,
                base_us: ms_to_us(spec.backoff_base_ms),
                cap_us: ms_to_us(spec.backoff_cap_ms),
                jitter: spec.jitter,
            },
            arrival_epoch: 0,
        }
    }

    /// Gap until the next arrival at the current rate, or `None` when the rate is zero.
    pub fn next_gap_us(&self, rng: &mut Rng) -> Option<TimeUs> {
        if self.rate_rps <= 0.0 {
            return None;
        }
        let mean_us = US_PER_S as f64 / self.rate_rps;
        let gap = match self.arrival {
            Arrival::Poisson => rng.exponential(mean_us),
            Arrival::Uniform => mean_us,
        };
        Some((gap as TimeUs).max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(backoff: Backoff, jitter: Jitter) -> RetryPolicy {
        RetryPolicy {
            max_retries: 5,
            backoff,
            base_us: 100,
            cap_us: 1_000,
            jitter,
        }
    }

    #[test]
    fn exponential_backoff_doubles_up_to_the_cap() {
        let mut rng = Rng::new(1);
        let p = policy(Backoff::Exponential, Jitter::None);
        let delays: Vec<_> = (1..=6).map(|r| p.delay_us(r, 0, &mut rng)).collect();
        assert_eq!(delays, vec![100, 200, 400, 800, 1_000, 1_000]);
        assert_eq!(
            policy(Backoff::None, Jitter::Full).delay_us(3, 0, &mut rng),
            0
        );
        assert_eq!(
            policy(Backoff::Constant, Jitter::None).delay_us(3, 0, &mut rng),
            100
        );
    }

    #[test]
    fn jitter_stays_within_its_bounds_and_varies() {
        let mut rng = Rng::new(2);
        let full = policy(Backoff::Exponential, Jitter::Full);
        let samples: Vec<_> = (0..1_000).map(|_| full.delay_us(4, 0, &mut rng)).collect();
        assert!(samples.iter().all(|&d| d <= 800));
        assert!(samples.iter().any(|&d| d < 200) && samples.iter().any(|&d| d > 600));
        let equal = policy(Backoff::Exponential, Jitter::Equal);
        assert!((0..1_000).all(|_| (400..=800).contains(&equal.delay_us(4, 0, &mut rng))));
        let decorrelated = policy(Backoff::Exponential, Jitter::Decorrelated);
        assert!((0..1_000).all(|_| (100..=900).contains(&decorrelated.delay_us(2, 300, &mut rng))));
    }
}
