//! A client's circuit breaker: when too many of its last calls failed it fails new calls at once
//! (they never leave the client) for a while, then lets one trial call decide whether to close.
//!
//! Count-based, as in resilience4j: the last `window` call outcomes are kept; when the window is
//! full and at least `failure_percent` of it failed, the breaker opens for `open_us`. After that
//! it is half-open: one trial call is let through and every other call is refused until the trial
//! answers; a success closes the breaker (with an empty window), a failure opens it again. Calls
//! that were sent before the breaker opened and answer while it is open or half-open do not count.

use crate::time::TimeUs;
use std::collections::VecDeque;

/// A breaker's settings (`window` 0: no breaker).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BreakerConfig {
    /// Calls whose outcomes are kept (0 = no breaker).
    pub window: u32,
    /// Share of failures in a full window that opens the breaker, percent.
    pub failure_percent: f64,
    /// How long it stays open before a trial call, µs.
    pub open_us: TimeUs,
}

/// What the breaker says to a call about to be sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Permit {
    /// Closed: send it, and count its outcome.
    Call,
    /// Half-open: send it as the one trial whose outcome decides.
    Trial,
    /// Open (or a trial is out): fail it at once without sending it.
    Refused,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Closed,
    Open { until_us: TimeUs },
    HalfOpen { trial_out: bool },
}

/// A breaker's run-time state.
#[derive(Clone, Debug)]
pub struct CircuitBreaker {
    state: State,
    /// The last outcomes while closed, oldest first (true: failed); at most `window` long.
    outcomes: VecDeque<bool>,
    /// Failures among `outcomes`.
    failures: u32,
}

impl Default for CircuitBreaker {
    fn default() -> Self {
        CircuitBreaker {
            state: State::Closed,
            outcomes: VecDeque::new(),
            failures: 0,
        }
    }
}

impl CircuitBreaker {
    /// Whether a call may be sent at `now_us`.
    pub fn permit(&mut self, cfg: &BreakerConfig, now_us: TimeUs) -> Permit {
        if cfg.window == 0 {
            return Permit::Call;
        }
        match self.state {
            State::Closed => Permit::Call,
            State::Open { until_us } if now_us < until_us => Permit::Refused,
            State::Open { .. } | State::HalfOpen { trial_out: false } => {
                self.state = State::HalfOpen { trial_out: true };
                Permit::Trial
            }
            State::HalfOpen { trial_out: true } => Permit::Refused,
        }
    }

    /// Records the outcome of a call sent with `permit` (`failed`: an error or a timeout).
    pub fn record(&mut self, cfg: &BreakerConfig, now_us: TimeUs, permit: Permit, failed: bool) {
        if cfg.window == 0 {
            return;
        }
        match (self.state, permit) {
            (State::HalfOpen { .. }, Permit::Trial) => {
                if failed {
                    self.open(cfg, now_us);
                } else {
                    self.state = State::Closed;
                }
            }
            (State::Closed, Permit::Call) => {
                self.outcomes.push_back(failed);
                self.failures += failed as u32;
                while self.outcomes.len() > cfg.window as usize {
                    let oldest = self.outcomes.pop_front().expect("longer than the window");
                    self.failures -= oldest as u32;
                }
                let full = self.outcomes.len() == cfg.window as usize;
                if full && self.failures as f64 * 100.0 >= cfg.failure_percent * cfg.window as f64 {
                    self.open(cfg, now_us);
                }
            }
            // Answers to calls sent in an earlier state do not count.
            _ => {}
        }
    }

    fn open(&mut self, cfg: &BreakerConfig, now_us: TimeUs) {
        self.state = State::Open {
            until_us: now_us.saturating_add(cfg.open_us),
        };
        self.outcomes.clear();
        self.failures = 0;
    }

    /// Whether it refuses calls now (open, or half-open with its trial out).
    pub fn is_open(&self) -> bool {
        !matches!(self.state, State::Closed)
    }

    /// Bytes held by the outcome window.
    pub fn heap_bytes(&self) -> usize {
        self.outcomes.capacity()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CFG: BreakerConfig = BreakerConfig {
        window: 4,
        failure_percent: 50.0,
        open_us: 1_000,
    };

    #[test]
    fn opens_when_half_of_a_full_window_failed_and_refuses_until_the_trial() {
        let mut b = CircuitBreaker::default();
        for failed in [true, false, true] {
            assert_eq!(b.permit(&CFG, 0), Permit::Call);
            b.record(&CFG, 0, Permit::Call, failed);
        }
        assert!(!b.is_open(), "the window is not full yet");
        b.record(&CFG, 10, Permit::Call, false);
        assert!(b.is_open(), "2 failures of 4");
        assert_eq!(b.permit(&CFG, 500), Permit::Refused);
        assert_eq!(b.permit(&CFG, 1_010), Permit::Trial);
        assert_eq!(
            b.permit(&CFG, 1_020),
            Permit::Refused,
            "one trial at a time"
        );
        b.record(&CFG, 1_030, Permit::Call, false);
        assert!(b.is_open(), "a late answer to an old call does not decide");
        b.record(&CFG, 1_040, Permit::Trial, true);
        assert_eq!(
            b.permit(&CFG, 1_500),
            Permit::Refused,
            "a failed trial opens it again"
        );
        assert_eq!(b.permit(&CFG, 2_040), Permit::Trial);
        b.record(&CFG, 2_050, Permit::Trial, false);
        assert!(!b.is_open(), "a good trial closes it");
        assert_eq!(b.permit(&CFG, 2_060), Permit::Call);
    }

    #[test]
    fn a_sliding_window_forgets_old_failures_and_no_window_means_no_breaker() {
        let mut b = CircuitBreaker::default();
        b.record(&CFG, 0, Permit::Call, true);
        for _ in 0..10 {
            b.record(&CFG, 0, Permit::Call, false);
        }
        b.record(&CFG, 0, Permit::Call, true);
        assert!(!b.is_open(), "1 failure of the last 4");
        let off = BreakerConfig { window: 0, ..CFG };
        let mut b = CircuitBreaker::default();
        for _ in 0..10 {
            assert_eq!(b.permit(&off, 0), Permit::Call);
            b.record(&off, 0, Permit::Call, true);
        }
        assert!(!b.is_open());
    }
}
