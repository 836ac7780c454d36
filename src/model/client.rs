//! The client mechanism: a population's compiled config; its open-loop arrivals (a timer that a
//! rate change re-arms); its attempts, each allowed by its circuit breaker, and its retries
//! (backoff and jitter, within its retry budget). Persistent-connection clients are
//! `connection`; the event loop sends the attempts and routes them.

use crate::model::circuit_breaker::{BreakerConfig, CircuitBreaker, Permit};
use crate::model::retry_budget::{BudgetConfig, RetryBudget};
use crate::rng::Rng;
use crate::scenario::{Arrival, Backoff, ClientKind, Jitter};
use crate::sim::config::Target;
use crate::sim::{Ctx, Event};
use crate::slab::Key;
use crate::time::{TimeUs, US_PER_S};

/// A compiled client population (`sim::config` resolves its targets and endpoints).
#[derive(Clone, Debug)]
pub struct ClientCfg {
    /// Its name.
    pub name: String,
    /// Requests or connections.
    pub kind: ClientKind,
    /// Where requests go.
    pub target: Target,
    /// Endpoint of each service for ordinary requests.
    pub endpoint_by_service: Vec<u16>,
    /// Endpoint of each service for connect requests.
    pub connect_endpoint_by_service: Vec<u16>,
    /// Arrival process.
    pub arrival: Arrival,
    /// Initial rate, requests/s.
    pub rate_rps: f64,
    /// (time, rate) changes.
    pub rate_changes: Vec<(TimeUs, f64)>,
    /// Per-attempt timeout.
    pub timeout_us: TimeUs,
    /// Retries and reconnect delays.
    pub retry: RetryPolicy,
    /// The retry budget (percent 0: none).
    pub budget: BudgetConfig,
    /// The circuit breaker (window 0: none).
    pub breaker: BreakerConfig,
    /// Distinct keys.
    pub keys: u32,
    /// Distinct users.
    pub users: u32,
    /// Connection clients.
    pub population: u32,
    /// Requests per connect.
    pub connect_requests: u32,
    /// Between heartbeats (0 = none).
    pub heartbeat_us: TimeUs,
    /// Spread of the first connects.
    pub connect_spread_us: TimeUs,
    /// Source addresses the clients share (0: one each).
    pub sticky_groups: u32,
    /// A failed request drops the connection.
    pub drop_on_failure: bool,
    /// Reconnect after a drop.
    pub reconnect: bool,
    /// Offline this long, a user stops reconnecting (0: never).
    pub give_up_after_us: TimeUs,
}

/// A client population's run-time state.
#[derive(Clone, Debug)]
pub struct Client {
    /// Its arrival rate now, requests/s.
    rate_rps: f64,
    /// Bumps when the rate changes, so the arrival armed before goes stale.
    epoch: u32,
    /// Its retry budget (inert unless configured).
    budget: RetryBudget,
    /// Its circuit breaker (inert unless configured).
    breaker: CircuitBreaker,
}

impl Client {
    /// The population `cfg` at the start of a run.
    pub fn new(cfg: &ClientCfg) -> Self {
        Client {
            rate_rps: cfg.rate_rps,
            epoch: 0,
            budget: RetryBudget::default(),
            breaker: CircuitBreaker::default(),
        }
    }

    /// Arms population `index`'s next arrival on its queue timer `timer` (or clears it at rate
    /// 0). Connection populations have no arrivals.
    pub(crate) fn arm_arrival(&self, index: u16, cfg: &ClientCfg, timer: usize, ctx: &mut Ctx) {
        if cfg.kind != ClientKind::Requests {
            return;
        }
        match next_gap_us(cfg.arrival, self.rate_rps, ctx.rng) {
            Some(gap_us) => ctx.queue.set_timer(
                timer,
                ctx.now_us + gap_us,
                Event::Arrival {
                    client: index,
                    epoch: self.epoch,
                },
            ),
            None => ctx.queue.clear_timer(timer),
        }
    }

    /// The arrival rate changes from now on: the next arrival is drawn again at the new rate.
    pub(crate) fn set_rate(
        &mut self,
        index: u16,
        cfg: &ClientCfg,
        rate_rps: f64,
        timer: usize,
        ctx: &mut Ctx,
    ) {
        self.rate_rps = rate_rps;
        self.epoch = self.epoch.wrapping_add(1);
        self.arm_arrival(index, cfg, timer, ctx);
    }

    /// Whether an arrival armed at `epoch` still stands (no rate change since).
    pub fn arrival_is_current(&self, epoch: u32) -> bool {
        self.epoch == epoch
    }

    /// A new request: it earns its share of a retry.
    pub fn request_started(&mut self, cfg: &ClientCfg) {
        self.budget.deposit(&cfg.budget);
    }

    /// Whether an attempt may leave now (an open breaker refuses it).
    pub fn permit(&mut self, cfg: &ClientCfg, now_us: TimeUs) -> Permit {
        self.breaker.permit(&cfg.breaker, now_us)
    }

    /// How an attempt sent under `permit` went, for the breaker.
    pub fn attempt_answered(&mut self, cfg: &ClientCfg, now_us: TimeUs, permit: Permit, ok: bool) {
        self.breaker.record(&cfg.breaker, now_us, permit, !ok);
    }

    /// Attempt number `attempts` of `request` failed: arms its retry after the backoff and
    /// returns the delay, or `None` when it has no retries left or the budget has none to give.
    pub(crate) fn retry(
        &mut self,
        cfg: &ClientCfg,
        request: Key,
        attempts: u32,
        previous_delay_us: TimeUs,
        ctx: &mut Ctx,
    ) -> Option<TimeUs> {
        let policy = &cfg.retry;
        if attempts > policy.max_retries || !self.budget.withdraw(&cfg.budget) {
            return None;
        }
        let delay_us = policy.delay_us(attempts, previous_delay_us, ctx.rng);
        let send = Event::Send { request };
        // Either way the retry runs in the same order; a fixed delay just skips the heap.
        if policy.fixed_delays() {
            ctx.queue.push_after(ctx.now_us, delay_us, send);
        } else {
            ctx.queue.push(ctx.now_us + delay_us, send);
        }
        Some(delay_us)
    }

    /// Bytes held.
    pub fn heap_bytes(&self) -> usize {
        std::mem::size_of::<CircuitBreaker>() + self.breaker.heap_bytes()
    }
}

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

    fn population(rate_rps: f64, budget_percent: f64) -> ClientCfg {
        ClientCfg {
            name: "users".into(),
            kind: ClientKind::Requests,
            target: Target::Service(0),
            endpoint_by_service: vec![0],
            connect_endpoint_by_service: vec![0],
            arrival: Arrival::Uniform,
            rate_rps,
            rate_changes: vec![],
            timeout_us: 1_000_000,
            retry: policy(Backoff::Exponential, Jitter::None),
            budget: BudgetConfig {
                percent: budget_percent,
                burst: 1.0,
            },
            breaker: BreakerConfig {
                window: 0,
                failure_percent: 50.0,
                open_us: 0,
            },
            keys: 1,
            users: 1,
            population: 0,
            connect_requests: 1,
            heartbeat_us: 0,
            connect_spread_us: 0,
            sticky_groups: 0,
            drop_on_failure: false,
            reconnect: false,
            give_up_after_us: 0,
        }
    }

    #[test]
    fn arrivals_follow_the_rate_and_a_change_rearms_them() {
        let mut alone = crate::sim::Alone::new(1);
        let mut ctx = alone.ctx();
        let cfg = population(4.0, 0.0);
        let mut client = Client::new(&cfg);
        client.arm_arrival(2, &cfg, 0, &mut ctx);
        assert_eq!(
            ctx.queue.peek(),
            Some((
                250_000,
                &Event::Arrival {
                    client: 2,
                    epoch: 0
                }
            ))
        );
        ctx.now_us = 100_000;
        client.set_rate(2, &cfg, 10.0, 0, &mut ctx);
        assert!(!client.arrival_is_current(0) && client.arrival_is_current(1));
        assert_eq!(
            ctx.queue.pop(),
            Some((
                200_000,
                Event::Arrival {
                    client: 2,
                    epoch: 1
                }
            )),
            "the timer is re-armed in place at the new rate"
        );
        client.set_rate(2, &cfg, 0.0, 0, &mut ctx);
        assert_eq!(ctx.queue.pop(), None, "rate 0: no arrival");
    }

    #[test]
    fn retries_back_off_and_stay_within_the_budget() {
        let mut alone = crate::sim::Alone::new(1);
        let mut ctx = alone.ctx();
        let request = Key {
            slot: 9,
            generation: 1,
        };
        // No budget: the policy's 5 retries, 100, 200, 400... µs apart.
        let free = population(1.0, 0.0);
        let mut client = Client::new(&free);
        let delays: Vec<_> = (1..=6)
            .map(|attempt| client.retry(&free, request, attempt, 0, &mut ctx))
            .collect();
        assert_eq!(
            delays,
            [
                Some(100),
                Some(200),
                Some(400),
                Some(800),
                Some(1_000),
                None
            ]
        );
        assert_eq!(ctx.queue.len(), 5, "one send armed per retry");
        // A 50% budget: two new requests earn one retry.
        let budgeted = population(1.0, 50.0);
        let mut client = Client::new(&budgeted);
        client.request_started(&budgeted);
        client.request_started(&budgeted);
        assert_eq!(client.retry(&budgeted, request, 1, 0, &mut ctx), Some(100));
        assert_eq!(client.retry(&budgeted, request, 1, 0, &mut ctx), None);
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
