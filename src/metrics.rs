//! Windowed time series of a run: counts, rates, latency percentiles and component gauges.
//!
//! One row per window of virtual time (default 1 s). A window's latency percentiles come from a
//! fixed-size log-bucket histogram that is cleared when the window closes, so memory grows with
//! the number of windows only, never with the number of requests.

use crate::scenario::ScenarioFile;
use crate::time::{TimeUs, US_PER_MS};

/// Every series name a run of `file` produces, `t_s` first, in column order (see
/// [`crate::scenario::series`], where they are named).
pub fn series_names(file: &ScenarioFile) -> Vec<String> {
    crate::scenario::series::names(file)
}

/// A number as the CSV writes it: integers bare, others with three decimals.
fn csv_number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        format!("{value:.3}")
    }
}

/// Hits and misses of a cache in the current window.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HitCounter {
    /// Look-ups that found a fresh value.
    pub hits: u64,
    /// Look-ups that did not.
    pub misses: u64,
}

impl HitCounter {
    /// Hit ratio so far (0 when there were no look-ups).
    pub fn ratio(&self) -> f64 {
        let total = self.hits + self.misses;
        if total == 0 {
            0.0
        } else {
            self.hits as f64 / total as f64
        }
    }

    /// The ratio, and a fresh start for the next window.
    pub fn take_ratio(&mut self) -> f64 {
        let ratio = self.ratio();
        *self = HitCounter::default();
        ratio
    }
}

const SUB_BUCKETS: usize = 16;
const HISTOGRAM_BUCKETS: usize = 64 * SUB_BUCKETS;

/// A log-bucketed latency histogram: 16 buckets per power of two (about 4% relative error).
#[derive(Clone, Debug)]
pub struct Histogram {
    counts: Vec<u32>,
    total: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            counts: vec![0; HISTOGRAM_BUCKETS],
            total: 0,
        }
    }
}

fn bucket_of(us: u64) -> usize {
    if us < SUB_BUCKETS as u64 {
        return us as usize;
    }
    let exponent = 63 - us.leading_zeros() as usize; // ≥ 4
    let mantissa = ((us >> (exponent - 4)) & 15) as usize;
    (exponent - 3) * SUB_BUCKETS + mantissa
}

fn bucket_midpoint_us(bucket: usize) -> f64 {
    if bucket < SUB_BUCKETS {
        return bucket as f64;
    }
    let exponent = bucket / SUB_BUCKETS + 3;
    let mantissa = (bucket % SUB_BUCKETS) as u64;
    let low = (SUB_BUCKETS as u64 + mantissa) << (exponent - 4);
    let width = 1u64 << (exponent - 4);
    low as f64 + width as f64 / 2.0
}

impl Histogram {
    /// Counts one latency.
    pub fn record(&mut self, us: TimeUs) {
        self.counts[bucket_of(us)] += 1;
        self.total += 1;
    }

    /// The latency below which a fraction `q` of the recorded ones lie, in µs (0 when empty).
    pub fn quantile_us(&self, q: f64) -> f64 {
        if self.total == 0 {
            return 0.0;
        }
        let rank = ((q * self.total as f64).ceil() as u64).clamp(1, self.total);
        let mut seen = 0u64;
        for (bucket, &count) in self.counts.iter().enumerate() {
            seen += count as u64;
            if seen >= rank {
                return bucket_midpoint_us(bucket);
            }
        }
        bucket_midpoint_us(HISTOGRAM_BUCKETS - 1)
    }

    /// Forgets everything recorded.
    pub fn clear(&mut self) {
        if self.total > 0 {
            self.counts.iter_mut().for_each(|c| *c = 0);
            self.total = 0;
        }
    }
}

/// Counts accumulated during the current window.
#[derive(Clone, Debug, Default)]
pub struct WindowCounts {
    /// New requests (first attempts).
    pub offered: u64,
    /// Attempts sent, retries included.
    pub attempted: u64,
    /// Attempts a server finished working on.
    pub completed: u64,
    /// Requests that ended in success.
    pub success: u64,
    /// Requests that ended in an error.
    pub error: u64,
    /// Requests whose last attempt timed out.
    pub timeout: u64,
    /// Requests refused by admission control (full queue).
    pub shed: u64,
    /// End-to-end latency of successful requests.
    pub latency: Histogram,
    /// Per client (by index): requests ended in success, error, timeout, shed.
    pub by_client: Vec<[u64; 4]>,
}

/// The series of a run: one column per name, one value per closed window.
#[derive(Clone, Debug)]
pub struct Metrics {
    /// Width of a window, in µs.
    pub window_us: TimeUs,
    names: Vec<String>,
    columns: Vec<Vec<f64>>,
}

impl Metrics {
    /// Empty series for a run of `file`.
    pub fn new(file: &ScenarioFile, window_us: TimeUs) -> Self {
        let names = series_names(file);
        let columns = vec![Vec::new(); names.len()];
        Metrics {
            window_us,
            names,
            columns,
        }
    }

    /// Closes a window: `end_us` is its end; `gauges` holds the components' values, group after
    /// group in `series::groups` order (the engine walks the same groups).
    pub fn close_window(&mut self, end_us: TimeUs, counts: &WindowCounts, gauges: &[f64]) {
        let per_s = 1_000_000.0 / self.window_us as f64;
        let ms = |q: f64| counts.latency.quantile_us(q) / US_PER_MS as f64;
        let amplification = if counts.offered > 0 {
            counts.attempted as f64 / counts.offered as f64
        } else {
            0.0
        };
        // `t_s`, then the run-wide series in `series::GLOBAL` order.
        let row: [f64; 1 + crate::scenario::series::GLOBAL.len()] = [
            end_us as f64 / 1e6,
            counts.offered as f64 * per_s,
            counts.attempted as f64 * per_s,
            counts.completed as f64 * per_s,
            counts.success as f64 * per_s,
            counts.error as f64 * per_s,
            counts.timeout as f64 * per_s,
            counts.shed as f64 * per_s,
            ms(0.50),
            ms(0.95),
            ms(0.99),
            amplification,
        ];
        debug_assert_eq!(row.len() + gauges.len(), self.columns.len());
        for (column, value) in self.columns.iter_mut().zip(row.iter().chain(gauges)) {
            column.push(*value);
        }
    }

    /// Number of closed windows.
    pub fn len(&self) -> usize {
        self.columns[0].len()
    }

    /// True before the first window closes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Series names, `t_s` first.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// A series by name.
    pub fn series(&self, name: &str) -> Option<&[f64]> {
        self.names
            .iter()
            .position(|n| n == name)
            .map(|i| self.columns[i].as_slice())
    }

    /// Every series as (name, values), `t_s` first.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[f64])> {
        self.names
            .iter()
            .map(String::as_str)
            .zip(self.columns.iter().map(Vec::as_slice))
    }

    /// The same series with no windows yet (what a checkpoint keeps).
    pub fn empty_like(&self) -> Metrics {
        Metrics {
            window_us: self.window_us,
            names: self.names.clone(),
            columns: vec![Vec::new(); self.columns.len()],
        }
    }

    /// Every series as CSV: a header of names, then one row per window (the CLI's `--format csv`
    /// and the web page's export are this same text).
    pub fn to_csv(&self) -> String {
        let mut out = self.names.join(",");
        out.push('\n');
        for row in 0..self.len() {
            let cells: Vec<String> = self
                .columns
                .iter()
                .map(|column| csv_number(column[row]))
                .collect();
            out.push_str(&cells.join(","));
            out.push('\n');
        }
        out
    }

    /// Drops windows after the first `len` (used when a run is rewound to a checkpoint).
    pub fn truncate(&mut self, len: usize) {
        self.columns.iter_mut().for_each(|c| c.truncate(len));
    }

    /// Windows `from..to` (clamped to those closed) as rows, one value per series in `names`
    /// order, flattened: what a worker sends to the page.
    pub fn rows(&self, from: usize, to: usize) -> Vec<f64> {
        let to = to.min(self.len());
        let mut rows = Vec::with_capacity(to.saturating_sub(from) * self.columns.len());
        for window in from..to {
            rows.extend(self.columns.iter().map(|c| c[window]));
        }
        rows
    }

    /// Appends windows given as flattened rows (see [`Metrics::rows`]); refuses rows that do
    /// not fit the series.
    pub fn push_rows(&mut self, rows: &[f64]) -> Result<(), String> {
        let width = self.columns.len();
        if width == 0 || !rows.len().is_multiple_of(width) {
            return Err(format!(
                "{} values do not make rows of {width} series",
                rows.len()
            ));
        }
        for row in rows.chunks_exact(width) {
            for (column, value) in self.columns.iter_mut().zip(row) {
                column.push(*value);
            }
        }
        Ok(())
    }

    /// Replaces windows `from..upto` (clamped to both) with `other`'s (the same series).
    pub fn overwrite_from(&mut self, other: &Metrics, from: usize, upto: usize) {
        let upto = upto.min(self.len()).min(other.len());
        if upto <= from {
            return;
        }
        for (column, source) in self.columns.iter_mut().zip(&other.columns) {
            column[from..upto].copy_from_slice(&source[from..upto]);
        }
    }

    /// Copies windows from `other` (the same series) until this holds `upto` windows (or all
    /// of `other`'s).
    pub fn extend_from(&mut self, other: &Metrics, upto: usize) {
        let from = self.len();
        let upto = upto.min(other.len());
        if upto <= from {
            return;
        }
        for (column, source) in self.columns.iter_mut().zip(&other.columns) {
            column.extend_from_slice(&source[from..upto]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_round_trip_and_extend_copies_a_prefix() {
        let scenario = crate::scenario::find_bundled("retry-storm")
            .unwrap()
            .unwrap();
        let variant = scenario.variant(&[], &[]).unwrap();
        let mut sim = crate::Simulation::new(&variant, 1);
        sim.run_until(20_000_000).unwrap();
        let all = sim.metrics();
        let mut copy = all.empty_like();
        copy.push_rows(&all.rows(0, 7)).unwrap();
        copy.push_rows(&all.rows(7, 100)).unwrap();
        assert_eq!(copy.to_csv(), all.to_csv());
        assert!(copy.push_rows(&[1.0, 2.0]).is_err());
        let mut prefix = all.empty_like();
        prefix.extend_from(all, 5);
        prefix.extend_from(all, 3);
        assert_eq!(prefix.len(), 5);
        prefix.extend_from(all, 99);
        assert_eq!(prefix.to_csv(), all.to_csv());
        let mut other = crate::Simulation::new(&variant, 2);
        other.run_until(20_000_000).unwrap();
        let mut mixed = other.metrics().clone();
        mixed.overwrite_from(all, 0, 8);
        assert_eq!(mixed.rows(0, 8), all.rows(0, 8));
        assert_eq!(mixed.rows(8, 20), other.metrics().rows(8, 20));
    }

    #[test]
    fn histogram_quantiles_are_within_a_few_percent() {
        let mut h = Histogram::default();
        for ms in 1..=1000u64 {
            h.record(ms * 1000);
        }
        for (q, expected_ms) in [(0.5, 500.0), (0.95, 950.0), (0.99, 990.0)] {
            let got = h.quantile_us(q) / 1000.0;
            assert!(
                (got - expected_ms).abs() / expected_ms < 0.05,
                "q{q}: {got} vs {expected_ms}"
            );
        }
        h.clear();
        assert_eq!(h.quantile_us(0.5), 0.0);
    }

    #[test]
    fn buckets_are_monotonic() {
        let mut last = 0;
        for us in (0..5_000_000u64).step_by(997) {
            let b = bucket_of(us);
            assert!(b >= last);
            assert!(b < HISTOGRAM_BUCKETS);
            last = b;
        }
        assert!(bucket_of(u64::MAX) < HISTOGRAM_BUCKETS);
    }
}
