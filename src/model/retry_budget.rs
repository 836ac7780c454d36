//! A client's retry budget: a token bucket that keeps retries to a share of new requests, so a
//! failing backend sees at most `1 + percent/100` times its normal load instead of
//! `1 + max_retries` times.
//!
//! Each new request deposits `percent / 100` of a token, up to `burst` tokens; each retry takes
//! one whole token, and a failure that finds less than one is final (as in Finagle's retry budget
//! and gRPC's retry throttling). The bucket starts full.

/// A budget's settings (`percent` 0: no budget, retries limited by `max_retries` alone).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BudgetConfig {
    /// Retries allowed per 100 new requests (0 = no budget).
    pub percent: f64,
    /// Most tokens saved up.
    pub burst: f64,
}

/// A budget's run-time state: tokens in the bucket.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RetryBudget {
    tokens: Option<f64>,
}

impl RetryBudget {
    fn tokens(&self, cfg: &BudgetConfig) -> f64 {
        self.tokens.unwrap_or(cfg.burst)
    }

    /// A new request arrived.
    pub fn deposit(&mut self, cfg: &BudgetConfig) {
        if cfg.percent > 0.0 {
            self.tokens = Some((self.tokens(cfg) + cfg.percent / 100.0).min(cfg.burst));
        }
    }

    /// Whether a retry may go now (and takes its token if so).
    pub fn withdraw(&mut self, cfg: &BudgetConfig) -> bool {
        if cfg.percent <= 0.0 {
            return true;
        }
        let tokens = self.tokens(cfg);
        if tokens >= 1.0 {
            self.tokens = Some(tokens - 1.0);
            true
        } else {
            self.tokens = Some(tokens);
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_are_held_to_a_share_of_requests_after_the_burst() {
        let cfg = BudgetConfig {
            percent: 10.0,
            burst: 5.0,
        };
        let mut budget = RetryBudget::default();
        // Every request fails and would retry: the burst goes first, then one retry in ten.
        let mut retries = 0;
        for _ in 0..1_000 {
            budget.deposit(&cfg);
            if budget.withdraw(&cfg) {
                retries += 1;
            }
        }
        assert!((104..=106).contains(&retries), "{retries} retries");
        let off = BudgetConfig {
            percent: 0.0,
            burst: 5.0,
        };
        assert!(
            (0..100).all(|_| budget.withdraw(&off)),
            "no budget: no limit"
        );
    }
}
