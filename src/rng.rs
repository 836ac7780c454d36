//! The one seeded pseudo-random generator of a run (xoshiro256++) and its distributions.
//!
//! A named, fully specified generator gives the same stream on every platform (rand's `StdRng`
//! and `SmallRng` promise no such thing). Logarithms come from `libm`, so natively and in wasm the
//! same seed draws bit-identical samples.

/// xoshiro256++ seeded through SplitMix64.
#[derive(Clone, Debug)]
pub struct Rng {
    state: [u64; 4],
}

fn splitmix64(x: &mut u64) -> u64 {
    *x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *x;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Rng {
    /// A generator whose whole stream is determined by `seed`.
    pub fn new(seed: u64) -> Self {
        let mut x = seed;
        Rng {
            state: [
                splitmix64(&mut x),
                splitmix64(&mut x),
                splitmix64(&mut x),
                splitmix64(&mut x),
            ],
        }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.state;
        let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// Uniform in [0, 1), with 53 random bits.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform integer in [0, n); `n` must be positive. Lemire's multiply-shift, bias < 2^-64·n.
    pub fn below(&mut self, n: u64) -> u64 {
        debug_assert!(n > 0);
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// Uniform in [lo, hi].
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// Exponentially distributed with the given mean.
    pub fn exponential(&mut self, mean: f64) -> f64 {
        // 1 - unit() is in (0, 1], so ln never sees zero.
        -mean * libm::log(1.0 - self.unit())
    }

    /// Log-normally distributed with the given median and the given 99th percentile.
    pub fn lognormal(&mut self, median: f64, p99: f64) -> f64 {
        self.lognormal_with(median, Rng::lognormal_sigma(median, p99))
    }

    /// The σ of a log-normal's logarithm, from its median and 99th percentile.
    pub fn lognormal_sigma(median: f64, p99: f64) -> f64 {
        if p99 > median {
            libm::log(p99 / median) / 2.326_347_874_040_841
        } else {
            0.0
        }
    }

    /// Log-normally distributed with the given median and σ of the logarithm.
    pub fn lognormal_with(&mut self, median: f64, sigma: f64) -> f64 {
        median * libm::exp(sigma * self.standard_normal())
    }

    /// Standard normal by Box–Muller (one of the pair; simplicity over speed).
    pub fn standard_normal(&mut self) -> f64 {
        let u1 = 1.0 - self.unit();
        let u2 = self.unit();
        libm::sqrt(-2.0 * libm::log(u1)) * libm::cos(2.0 * core::f64::consts::PI * u2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream_different_seed_different_stream() {
        let (mut a, mut b, mut c) = (Rng::new(7), Rng::new(7), Rng::new(8));
        let xs: Vec<u64> = (0..100).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..100).map(|_| b.next_u64()).collect();
        let zs: Vec<u64> = (0..100).map(|_| c.next_u64()).collect();
        assert_eq!(xs, ys);
        assert_ne!(xs, zs);
    }

    #[test]
    fn known_first_outputs_pin_the_algorithm() {
        // Pinned so that a change to the generator (which would change every run) is noticed.
        let mut rng = Rng::new(0);
        let first: Vec<u64> = (0..3).map(|_| rng.next_u64()).collect();
        let mut again = Rng::new(0);
        assert_eq!(first, (0..3).map(|_| again.next_u64()).collect::<Vec<_>>());
        assert_eq!(first[0], 0x53175d61490b23df);
    }

    #[test]
    fn unit_is_uniform_by_chi_square() {
        let mut rng = Rng::new(42);
        let mut bins = [0u32; 20];
        let n = 200_000;
        for _ in 0..n {
            let u = rng.unit();
            assert!((0.0..1.0).contains(&u));
            bins[(u * 20.0) as usize] += 1;
        }
        let expected = n as f64 / 20.0;
        let chi2: f64 = bins
            .iter()
            .map(|&o| (o as f64 - expected).powi(2) / expected)
            .sum();
        // 19 degrees of freedom: the 99.9th percentile is 43.8.
        assert!(chi2 < 43.8, "chi-square {chi2}");
    }

    #[test]
    fn exponential_has_its_mean() {
        let mut rng = Rng::new(3);
        let n = 100_000;
        let mean = (0..n).map(|_| rng.exponential(100.0)).sum::<f64>() / n as f64;
        assert!((mean - 100.0).abs() < 1.5, "mean {mean}");
    }

    #[test]
    fn below_stays_in_range_and_covers_it() {
        let mut rng = Rng::new(9);
        let mut seen = [false; 7];
        for _ in 0..1_000 {
            let x = rng.below(7);
            seen[x as usize] = true;
        }
        assert!(seen.iter().all(|&s| s));
    }

    #[test]
    fn lognormal_has_its_median_and_tail() {
        let mut rng = Rng::new(5);
        let mut xs: Vec<f64> = (0..50_000).map(|_| rng.lognormal(100.0, 1_000.0)).collect();
        xs.sort_by(f64::total_cmp);
        let median = xs[xs.len() / 2];
        let p99 = xs[xs.len() * 99 / 100];
        assert!((median - 100.0).abs() < 5.0, "median {median}");
        assert!((p99 - 1_000.0).abs() < 120.0, "p99 {p99}");
    }
}
