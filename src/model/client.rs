//! Clients: open-loop arrival gaps and the retry/backoff policy (persistent-connection clients
//! are `connection`).

use crate::rng::Rng;
use crate::scenario::{Arrival, Backoff, Jitter};
use crate::time::{TimeUs, US_PER_S};

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
    /// Whether every retry waits a delay fixed by its number (no jitter draws): such delays are
    /// few and repeat, so the event queue keeps them in FIFO lanes.
    pub fn fixed_delays(&self) -> bool {
        self.jitter == Jitter::None || self.backoff == Backoff::None
    }

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

/// Gap until the next open-loop arrival at `rate_rps`, or `None` when the rate is zero.
pub fn next_gap_us(arrival: Arrival, rate_rps: f64, rng: &mut Rng) -> Option<TimeUs> {
    if rate_rps <= 0.0 {
        return None;
    }
    let mean_us = US_PER_S as f64 / rate_rps;
    let gap = match arrival {
        Arrival::Poisson => rng.exponential(mean_us),
        Arrival::Uniform => mean_us,
    };
    Some((gap as TimeUs).max(1))
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

#[cfg(test)]
mod arrival_tests {
    use super::*;

    #[test]
    fn arrival_gaps_have_the_rate_as_mean() {
        let mut rng = Rng::new(11);
        assert_eq!(next_gap_us(Arrival::Poisson, 0.0, &mut rng), None);
        assert_eq!(next_gap_us(Arrival::Uniform, 4.0, &mut rng), Some(250_000));
        let n = 20_000;
        let total: u64 = (0..n)
            .map(|_| next_gap_us(Arrival::Poisson, 100.0, &mut rng).unwrap())
            .sum();
        let mean_ms = total as f64 / n as f64 / 1_000.0;
        assert!((mean_ms - 10.0).abs() < 0.3, "mean gap {mean_ms} ms");
    }
}
