//! The HTTP cache mechanism (a Varnish-like tier in front of a backend): its compiled config,
//! the cache key of a request (with or without the user), responses kept for a TTL, errors kept
//! for their own TTL (or not at all), a cap on the number of entries, and its gauges.

use crate::metrics::HitCounter;
use crate::scenario::schema::HttpCacheSpec;
use crate::scenario::series;
use crate::sim::Outcome;
use crate::sim::config::Target;
use crate::time::{TimeUs, s_to_us};
use rustc_hash::FxHashMap;

/// A compiled HTTP cache.
#[derive(Clone, Debug)]
pub struct HttpCacheCfg {
    /// Where misses go.
    pub backend: Target,
    /// TTL of successful responses.
    pub ttl_us: TimeUs,
    /// Error TTL (0 = errors not cached).
    pub error_ttl_us: TimeUs,
    /// User in the key.
    pub key_includes_user: bool,
    /// Entry limit.
    pub capacity_objects: u32,
}

impl HttpCacheCfg {
    /// Compiles a validated HTTP cache whose backend resolved to `backend`.
    pub fn compile(spec: &HttpCacheSpec, backend: Target) -> Self {
        HttpCacheCfg {
            backend,
            ttl_us: s_to_us(spec.ttl_s),
            error_ttl_us: s_to_us(spec.error_ttl_s),
            key_includes_user: spec.key_includes_user,
            capacity_objects: spec.capacity_objects,
        }
    }

    /// The cache key of a request for `key` by `user`.
    pub fn key_of(&self, key: u32, user: u32) -> u64 {
        cache_key(key, user, self.key_includes_user)
    }

    /// How long a response that ended in `outcome` is kept (0: not kept). Time-outs and shed
    /// requests carry no response to keep.
    pub fn ttl_us(&self, outcome: Outcome) -> TimeUs {
        match outcome {
            Outcome::Success => self.ttl_us,
            Outcome::Error => self.error_ttl_us,
            Outcome::Timeout | Outcome::Shed => 0,
        }
    }
}

/// A cached response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Until when it is served.
    pub expires_us: TimeUs,
    /// Whether it is an error response.
    pub error: bool,
}

/// An HTTP cache's run-time state.
#[derive(Clone, Debug, Default)]
pub struct HttpCache {
    /// Looked up by key and never iterated, so the hash map's order never shows in a run; its
    /// hasher is fixed (no random state), so even its layout is the same on every machine.
    /// An entry is packed into one word (see [`pack`]): a big cache holds hundreds of thousands
    /// of entries, and every checkpoint copies them.
    entries: FxHashMap<u64, u64>,
    /// Hits and misses in the current metrics window.
    counter: HitCounter,
}

/// The top bit of a packed entry: an error response.
const ERROR_BIT: u64 = 1 << 63;

/// An entry as one word: its expiry (µs, below 2^63) and the error flag in the top bit.
fn pack(entry: Entry) -> u64 {
    entry.expires_us.min(ERROR_BIT - 1) | if entry.error { ERROR_BIT } else { 0 }
}

fn unpack(word: u64) -> Entry {
    Entry {
        expires_us: word & !ERROR_BIT,
        error: word & ERROR_BIT != 0,
    }
}

/// The cache key of a request: the key alone, or the key and the user.
pub fn cache_key(key: u32, user: u32, includes_user: bool) -> u64 {
    if includes_user {
        ((user as u64) << 32) | key as u64
    } else {
        key as u64
    }
}

impl HttpCache {
    /// A fresh entry for `key` at `now_us`, if any (counted as a hit or a miss).
    pub fn lookup(&mut self, key: u64, now_us: TimeUs) -> Option<Entry> {
        match self.entries.get(&key).map(|&word| unpack(word)) {
            Some(entry) if entry.expires_us > now_us => {
                self.counter.hits += 1;
                Some(entry)
            }
            Some(_) => {
                self.entries.remove(&key);
                self.counter.misses += 1;
                None
            }
            None => {
                self.counter.misses += 1;
                None
            }
        }
    }

    /// The backend answered the request cached under `key` with `outcome` at `now_us`: keeps
    /// the response for its TTL, if it has one.
    pub fn store_response(
        &mut self,
        cfg: &HttpCacheCfg,
        key: u64,
        outcome: Outcome,
        now_us: TimeUs,
    ) {
        let ttl_us = cfg.ttl_us(outcome);
        if ttl_us > 0 {
            let entry = Entry {
                expires_us: now_us + ttl_us,
                error: outcome != Outcome::Success,
            };
            self.store(key, entry, now_us, cfg.capacity_objects);
        }
    }

    /// The window's gauges, in [`series::CACHE`] order; starts the next window.
    pub fn close_window(&mut self) -> [f64; series::CACHE.len()] {
        [self.counter.take_ratio()]
    }

    /// Stores a response unless its TTL is zero or the cache is full of fresh entries. Before
    /// the table would grow (or refuse an entry), expired entries are dropped, so it holds about
    /// the fresh ones: what the cache serves is the same, but memory follows the fresh set rather
    /// than every key ever stored.
    pub fn store(&mut self, key: u64, entry: Entry, now_us: TimeUs, capacity: u32) {
        if entry.expires_us <= now_us {
            return;
        }
        let full = self.entries.len() >= capacity as usize;
        if (full || self.entries.len() == self.entries.capacity())
            && !self.entries.contains_key(&key)
        {
            // The result does not depend on the table's order: only which entries remain.
            self.entries
                .retain(|_, &mut word| unpack(word).expires_us > now_us);
            if self.entries.len() >= capacity as usize {
                return;
            }
        }
        self.entries.insert(key, pack(entry));
    }

    /// Bytes held by the entry table (an estimate from its capacity: key, entry, control byte).
    pub fn heap_bytes(&self) -> usize {
        self.entries.capacity() * (std::mem::size_of::<(u64, u64)>() + 1)
    }

    /// Entries held (fresh or not yet noticed stale).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when nothing is held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Hit ratio of the current window (0 when there were no look-ups).
    pub fn hit_ratio(&self) -> f64 {
        self.counter.ratio()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_and_expires_responses_including_errors() {
        let mut cache = HttpCache::default();
        let key = cache_key(3, 9, false);
        assert_eq!(cache.lookup(key, 0), None);
        cache.store(
            key,
            Entry {
                expires_us: 100,
                error: true,
            },
            0,
            10,
        );
        assert_eq!(
            cache.lookup(key, 50),
            Some(Entry {
                expires_us: 100,
                error: true
            })
        );
        assert_eq!(cache.lookup(key, 100), None);
        assert_eq!(cache.hit_ratio(), 1.0 / 3.0);
    }

    #[test]
    fn errors_are_kept_for_the_error_ttl_and_timeouts_not_at_all() {
        let cfg = HttpCacheCfg {
            backend: Target::Dependency(0),
            ttl_us: 1_800,
            error_ttl_us: 0,
            key_includes_user: true,
            capacity_objects: 10,
        };
        let mut cache = HttpCache::default();
        let (alice, bob) = (cfg.key_of(7, 1), cfg.key_of(7, 2));
        assert_ne!(alice, bob, "per user");
        cache.store_response(&cfg, alice, Outcome::Error, 0);
        cache.store_response(&cfg, bob, Outcome::Timeout, 0);
        assert!(cache.is_empty(), "no error TTL: a 500 is not kept");
        // Surrogate-Control not set to 0 on errors: the 500 is served for the error TTL.
        let sticky_errors = HttpCacheCfg {
            error_ttl_us: 1_800,
            ..cfg.clone()
        };
        cache.store_response(&sticky_errors, alice, Outcome::Error, 0);
        cache.store_response(&sticky_errors, bob, Outcome::Shed, 0);
        let served = cache.lookup(alice, 1_799).expect("kept");
        assert!(served.error);
        assert_eq!(cache.lookup(bob, 1), None);
        cache.store_response(&cfg, bob, Outcome::Success, 10);
        assert_eq!(cache.lookup(bob, 1_809).map(|e| e.error), Some(false));
        assert_eq!(cache.close_window(), [2.0 / 3.0], "two hits, one miss");
    }

    #[test]
    fn a_user_in_the_key_splits_the_entries() {
        assert_eq!(cache_key(1, 2, false), cache_key(1, 3, false));
        assert_ne!(cache_key(1, 2, true), cache_key(1, 3, true));
    }

    #[test]
    fn zero_ttl_and_a_full_cache_store_nothing() {
        let mut cache = HttpCache::default();
        cache.store(
            1,
            Entry {
                expires_us: 0,
                error: true,
            },
            0,
            10,
        );
        assert!(cache.is_empty());
        cache.store(
            1,
            Entry {
                expires_us: 10,
                error: false,
            },
            0,
            1,
        );
        cache.store(
            2,
            Entry {
                expires_us: 10,
                error: false,
            },
            0,
            1,
        );
        assert_eq!(cache.len(), 1);
    }
}
