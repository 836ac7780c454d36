//! A look-aside cache: per-key expiry, and (with single-flight) one fill per key at a time while
//! the other requests for that key wait for it.

use crate::metrics::HitCounter;
use crate::time::TimeUs;
use std::collections::BTreeMap;

/// A job waiting for a fill.
pub type Waiter = crate::slab::Key;

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
    pub counter: HitCounter,
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

    /// Bytes held (the expiry table and the single-flight waiters; BTree nodes estimated).
    pub fn heap_bytes(&self) -> usize {
        self.expires_us.capacity() * std::mem::size_of::<TimeUs>()
            + self
                .filling
                .values()
                .map(|w| 48 + w.capacity() * std::mem::size_of::<Waiter>())
                .sum::<usize>()
    }

    /// Grows the key space (after a change of the clients' `keys`).
    pub fn ensure_keys(&mut self, keys: u32) {
        if self.expires_us.len() < keys as usize {
            self.expires_us.resize(keys as usize, 0);
        }
    }

    /// Looks `key` up at `now_us`; with `single_flight`, the first miss becomes the filler.
    pub fn lookup(
        &mut self,
        key: u32,
        now_us: TimeUs,
        single_flight: bool,
        waiter: Waiter,
    ) -> Lookup {
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

    /// Records a successful fill; returns the jobs that waited for it.
    pub fn fill(&mut self, key: u32, expires_us: TimeUs) -> Vec<Waiter> {
        if let Some(e) = self.expires_us.get_mut(key as usize) {
            *e = (*e).max(expires_us);
        }
        self.filling.remove(&key).unwrap_or_default()
    }

    /// Records a failed fill; returns the jobs that waited for it (they fail too).
    pub fn abandon(&mut self, key: u32) -> Vec<Waiter> {
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
    fn warm_keys_start_fresh() {
        let mut cache = LookasideCache::new(10, 3, 500);
        assert_eq!(cache.lookup(2, 0, false, job(0)), Lookup::Hit);
        assert_eq!(cache.lookup(3, 0, false, job(0)), Lookup::Miss);
    }
}
