//! An instance's adaptive concurrency limit (AIMD load shedding): requests beyond the limit are
//! shed at once, and the limit follows the latency the instance delivers.
//!
//! As in Netflix's concurrency-limits AIMD: a request that succeeded within `target_us` of
//! arriving (queue wait and work) raises the limit by 1/limit, so about one per limit's worth of
//! good answers; a slower or failed one multiplies it by `decrease`. The limit starts at the
//! instance's static bound (workers plus queue) and stays between `min` and that bound. Shedding
//! early keeps the queue short, so the requests that are admitted are served while someone still
//! waits for them.

use crate::time::TimeUs;

/// An adaptive limit's settings (`target_us` 0: no adaptive limit).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdaptiveConfig {
    /// Latency a request may take before the limit is cut, µs (0 = off).
    pub target_us: TimeUs,
    /// Factor applied to the limit on a slow or failed request.
    pub decrease: f64,
    /// Lowest limit.
    pub min: f64,
    /// Highest limit, where it starts: workers plus queue capacity.
    pub max: f64,
}

/// An instance's limit now (`None`: at its start, the maximum).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct AdaptiveLimit {
    limit: Option<f64>,
}

impl AdaptiveLimit {
    /// The limit now.
    pub fn limit(&self, cfg: &AdaptiveConfig) -> f64 {
        self.limit.unwrap_or(cfg.max)
    }

    /// Whether a new request may join `outstanding` ones (queued or in service).
    pub fn admits(&self, cfg: &AdaptiveConfig, outstanding: u32) -> bool {
        cfg.target_us == 0 || (outstanding as f64) < self.limit(cfg).floor().max(1.0)
    }

    /// A request admitted `latency_us` ago ended (`ok`: it succeeded).
    pub fn record(&mut self, cfg: &AdaptiveConfig, latency_us: TimeUs, ok: bool) {
        if cfg.target_us == 0 {
            return;
        }
        let limit = self.limit(cfg);
        let next = if ok && latency_us <= cfg.target_us {
            limit + 1.0 / limit
        } else {
            limit * cfg.decrease
        };
        self.limit = Some(next.clamp(cfg.min, cfg.max));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CFG: AdaptiveConfig = AdaptiveConfig {
        target_us: 1_000,
        decrease: 0.5,
        min: 2.0,
        max: 100.0,
    };

    #[test]
    fn slow_answers_cut_the_limit_and_fast_ones_raise_it_slowly() {
        let mut a = AdaptiveLimit::default();
        assert!(
            a.admits(&CFG, 99) && !a.admits(&CFG, 100),
            "starts at the static bound"
        );
        a.record(&CFG, 5_000, true);
        assert_eq!(a.limit(&CFG), 50.0, "slow: halved");
        a.record(&CFG, 500, false);
        assert_eq!(a.limit(&CFG), 25.0, "failed: halved");
        for _ in 0..10 {
            a.record(&CFG, 5_000, true);
        }
        assert_eq!(a.limit(&CFG), 2.0, "never below the minimum");
        assert!(a.admits(&CFG, 1) && !a.admits(&CFG, 2));
        for _ in 0..100 {
            a.record(&CFG, 500, true);
        }
        let grown = a.limit(&CFG);
        assert!(
            (13.0..15.0).contains(&grown),
            "about sqrt(2 x 100): {grown}"
        );
        let off = AdaptiveConfig {
            target_us: 0,
            ..CFG
        };
        assert!(a.admits(&off, 1_000_000), "off: no limit");
    }
}
