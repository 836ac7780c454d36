//! The look-aside cache mechanism: its compiled config, per-key expiry with optional TTL jitter,
//! single-flight (one fill per key at a time while the other requests for that key wait for it),
//! the key a request maps to, and the series it reports. A service's program reaches it through
//! two ops, `Cached` and `Fill` (the program's layout is [`ops_past_fill`]).

use crate::metrics::HitCounter;
use crate::scenario::schema::CacheSpec;
use crate::scenario::series;
use crate::sim::Ctx;
use crate::time::{TimeUs, s_to_us};
use std::collections::BTreeMap;

/// A job waiting for a fill.
pub type Waiter = crate::slab::Key;

/// A compiled look-aside cache.
#[derive(Clone, Debug)]
pub struct CacheCfg {
    /// TTL.
    pub ttl_us: TimeUs,
    /// Request coalescing.
    pub single_flight: bool,
    /// Keys fresh at the start.
    pub warm_keys: u32,
    /// Key space (0 = the request's key).
    pub keys: u32,
    /// Fraction of the TTL by which expiries are spread.
    pub ttl_jitter: f64,
}

impl CacheCfg {
    /// Compiles a validated cache of the scenario file.
    pub fn compile(spec: &CacheSpec) -> Self {
        CacheCfg {
            ttl_us: s_to_us(spec.ttl_s),
            single_flight: spec.single_flight,
            warm_keys: spec.warm_keys,
            keys: spec.keys,
            ttl_jitter: spec.ttl_jitter,
        }
    }

    /// The cached key a request's key maps to.
    pub fn key_of(&self, request_key: u32) -> u32 {
        if self.keys > 0 {
            request_key % self.keys
        } else {
            request_key
        }
    }

    /// Distinct keys the cache holds, given the largest key space of any client.
    pub fn key_space(&self, max_keys: u32) -> u32 {
        if self.keys > 0 { self.keys } else { max_keys }
    }
}

/// Ops a job skips from its `Cached` op when it finds the value (or waited for another's fill):
/// the program reads `[Cached { miss_len }, miss op × miss_len, Fill]`, so it resumes after the
/// `Fill`.
pub const fn ops_past_fill(miss_len: u16) -> u16 {
    miss_len + 2
}

/// What a look-up found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// Fresh value.
    Hit,
    /// No fresh value: the caller fetches and fills.
    Miss,
    /// Another request is filling this key: wait for it (single-flight).
    Wait,
}

/// A look-aside cache's run-time state.
#[derive(Clone, Debug, Default)]
pub struct LookasideCache {
    /// Expiry time of each key (0 = never filled).
    expires_us: Vec<TimeUs>,
    /// Keys being filled (single-flight), with the jobs waiting for each.
    filling: BTreeMap<u32, Vec<Waiter>>,
    /// Hits and misses (waits included) in the current metrics window.
    counter: HitCounter,
}

impl LookasideCache {
    /// A cache for `keys` keys, the first `warm_keys` fresh until `warm_until_us`.
    pub fn new(keys: u32, warm_keys: u32, warm_until_us: TimeUs) -> Self {
        let mut expires_us = vec![0; keys as usize];
        for e in expires_us.iter_mut().take(warm_keys as usize) {
            *e = warm_until_us;
        }
        LookasideCache {
            expires_us,
            ..Default::default()
        }
    }

    /// The cache `cfg` at the start of a run: its warm keys fresh for one TTL.
    pub fn start(cfg: &CacheCfg, max_keys: u32) -> Self {
        Self::new(cfg.key_space(max_keys), cfg.warm_keys, cfg.ttl_us)
    }

    /// Bytes held (the expiry table and the single-flight waiters; BTree nodes estimated).
    pub fn heap_bytes(&self) -> usize {
        self.expires_us.capacity() * std::mem::size_of::<TimeUs>()
            + self
                .filling
                .values()
                .map(|w| 48 + w.capacity() * std::mem::size_of::<Waiter>())
                .sum::<usize>()
    }

    /// Grows the key space after a live change (of the cache's or the clients' `keys`).
    pub fn reconfigure(&mut self, cfg: &CacheCfg, max_keys: u32) {
        let keys = cfg.key_space(max_keys) as usize;
        if self.expires_us.len() < keys {
            self.expires_us.resize(keys, 0);
        }
    }

    /// Job `waiter` looks up the value for `request_key` at `now_us`; with single-flight, the
    /// first miss becomes the filler and the others wait for its fill.
    pub fn look_up(
        &mut self,
        cfg: &CacheCfg,
        request_key: u32,
        now_us: TimeUs,
        waiter: Waiter,
    ) -> Lookup {
        self.lookup(cfg.key_of(request_key), now_us, cfg.single_flight, waiter)
    }

    /// A job fetched the value for `request_key`: it stays fresh for the TTL, shortened by a
    /// random share of the jitter. Returns the jobs that waited for this fill.
    pub(crate) fn fill_for(
        &mut self,
        cfg: &CacheCfg,
        request_key: u32,
        ctx: &mut Ctx,
    ) -> Vec<Waiter> {
        // No random draw without jitter, so runs without it stay as they were.
        let ttl_us = if cfg.ttl_jitter > 0.0 {
            (cfg.ttl_us as f64 * (1.0 - cfg.ttl_jitter * ctx.rng.unit())) as TimeUs
        } else {
            cfg.ttl_us
        };
        self.fill(cfg.key_of(request_key), ctx.now_us + ttl_us)
    }

    /// The job filling `request_key` failed or was cut off: returns the jobs that waited for it
    /// (they fail too), and the next miss tries again.
    pub fn fill_failed(&mut self, cfg: &CacheCfg, request_key: u32) -> Vec<Waiter> {
        self.abandon(cfg.key_of(request_key))
    }

    /// The window's gauges, in [`series::CACHE`] order; starts the next window.
    pub fn close_window(&mut self) -> [f64; series::CACHE.len()] {
        [self.counter.take_ratio()]
    }

    fn lookup(&mut self, key: u32, now_us: TimeUs, single_flight: bool, waiter: Waiter) -> Lookup {
        let fresh = self
            .expires_us
            .get(key as usize)
            .is_some_and(|&e| e > now_us);
        if fresh {
            self.counter.hits += 1;
            return Lookup::Hit;
        }
        self.counter.misses += 1;
        if !single_flight {
            return Lookup::Miss;
        }
        match self.filling.get_mut(&key) {
            Some(waiters) => {
                waiters.push(waiter);
                Lookup::Wait
            }
            None => {
                self.filling.insert(key, Vec::new());
                Lookup::Miss
            }
        }
    }

    fn fill(&mut self, key: u32, expires_us: TimeUs) -> Vec<Waiter> {
        if let Some(e) = self.expires_us.get_mut(key as usize) {
            *e = (*e).max(expires_us);
        }
        self.filling.remove(&key).unwrap_or_default()
    }

    fn abandon(&mut self, key: u32) -> Vec<Waiter> {
        self.filling.remove(&key).unwrap_or_default()
    }

    /// Hit ratio of the current window (0 when there were no look-ups).
    pub fn hit_ratio(&self) -> f64 {
        self.counter.ratio()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(n: u32) -> Waiter {
        Waiter {
            slot: n,
            generation: 1,
        }
    }

    #[test]
    fn misses_until_filled_then_hits_until_expiry() {
        let mut cache = LookasideCache::new(4, 0, 0);
        assert_eq!(cache.lookup(2, 0, false, job(0)), Lookup::Miss);
        cache.fill(2, 100);
        assert_eq!(cache.lookup(2, 50, false, job(0)), Lookup::Hit);
        assert_eq!(cache.lookup(2, 100, false, job(0)), Lookup::Miss);
        assert_eq!(cache.hit_ratio(), 1.0 / 3.0);
    }

    #[test]
    fn single_flight_makes_others_wait_for_the_one_fill() {
        let mut cache = LookasideCache::new(4, 0, 0);
        assert_eq!(cache.lookup(1, 0, true, job(10)), Lookup::Miss);
        assert_eq!(cache.lookup(1, 0, true, job(11)), Lookup::Wait);
        assert_eq!(cache.lookup(1, 0, true, job(12)), Lookup::Wait);
        assert_eq!(cache.fill(1, 1_000), vec![job(11), job(12)]);
        assert_eq!(cache.lookup(1, 5, true, job(13)), Lookup::Hit);
        // A failed fill releases the waiters and lets the next miss try again.
        assert_eq!(cache.lookup(3, 0, true, job(1)), Lookup::Miss);
        assert_eq!(cache.lookup(3, 0, true, job(2)), Lookup::Wait);
        assert_eq!(cache.abandon(3), vec![job(2)]);
        assert_eq!(cache.lookup(3, 0, true, job(3)), Lookup::Miss);
    }

    #[test]
    fn requests_share_the_cached_keys_and_fills_expire_within_the_jitter() {
        let cfg = CacheCfg {
            ttl_us: 1_000,
            single_flight: false,
            warm_keys: 0,
            keys: 4,
            ttl_jitter: 0.5,
        };
        assert_eq!((cfg.key_of(9), cfg.key_space(100)), (1, 4));
        let mut alone = crate::sim::Alone::new(3);
        let mut ctx = alone.ctx();
        let mut cache = LookasideCache::start(&cfg, 100);
        let mut expiries = Vec::new();
        for request_key in [1, 5, 9, 13].into_iter().cycle().take(400) {
            assert_eq!(
                cache.look_up(&cfg, request_key, ctx.now_us, job(0)),
                Lookup::Miss
            );
            cache.fill_for(&cfg, request_key, &mut ctx);
            // Key 1 is fresh for every request key that maps to it, until it expires.
            let expiry = (ctx.now_us..ctx.now_us + 2_000)
                .find(|&t| cache.look_up(&cfg, 5, t, job(0)) == Lookup::Miss)
                .unwrap();
            expiries.push(expiry - ctx.now_us);
            ctx.now_us = expiry;
        }
        assert!(expiries.iter().all(|&ttl| (500..=1_000).contains(&ttl)));
        let mean = expiries.iter().sum::<u64>() as f64 / expiries.len() as f64;
        assert!(
            (700.0..800.0).contains(&mean),
            "uniform over the jitter: {mean}"
        );
        // Without jitter there is no draw: the generator is left as it was.
        let exact = CacheCfg {
            ttl_jitter: 0.0,
            ..cfg
        };
        let before = ctx.rng.clone();
        cache.fill_for(&exact, 2, &mut ctx);
        assert_eq!(format!("{:?}", ctx.rng), format!("{before:?}"));
        assert_eq!(ops_past_fill(3), 5, "the miss ops and the fill");
    }

    #[test]
    fn warm_keys_start_fresh() {
        let mut cache = LookasideCache::new(10, 3, 500);
        assert_eq!(cache.lookup(2, 0, false, job(0)), Lookup::Hit);
        assert_eq!(cache.lookup(3, 0, false, job(0)), Lookup::Miss);
    }
}
