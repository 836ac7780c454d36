//! Runs a scenario's expectations: each a statistic of one series over a time range, per seed.
//! Expectations with the same fixes and seed share one run.

use crate::metrics::Metrics;
use crate::scenario::{END_OF_RUN_S, Expectation, Scenario, Stat};
use crate::sim::{SimError, Simulation};
use std::collections::BTreeMap;

/// The result of one expectation for one seed.
#[derive(Clone, Debug, PartialEq)]
pub struct SeedResult {
    /// The seed.
    pub seed: u64,
    /// The statistic measured.
    pub value: f64,
    /// Whether it lies within the bounds.
    pub passed: bool,
}

/// The result of one expectation over all its seeds.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckResult {
    /// The expectation's name.
    pub name: String,
    /// A readable statement of what was required.
    pub requirement: String,
    /// Per seed.
    pub seeds: Vec<SeedResult>,
}

impl CheckResult {
    /// True when every seed passed.
    pub fn passed(&self) -> bool {
        self.seeds.iter().all(|s| s.passed)
    }
}

/// Reduces the windows of `values` whose end time `t_s` lies in (from_s, to_s].
pub fn statistic(t_s: &[f64], values: &[f64], from_s: f64, to_s: f64, stat: Stat) -> f64 {
    let selected: Vec<f64> = t_s
        .iter()
        .zip(values)
        .filter(|&(&t, _)| t > from_s + 1e-9 && t <= to_s + 1e-9)
        .map(|(_, &v)| v)
        .collect();
    if selected.is_empty() {
        return f64::NAN;
    }
    match stat {
        Stat::Mean => selected.iter().sum::<f64>() / selected.len() as f64,
        Stat::Sum => selected.iter().sum(),
        Stat::Max => selected.iter().copied().fold(f64::MIN, f64::max),
        Stat::Min => selected.iter().copied().fold(f64::MAX, f64::min),
    }
}

fn requirement(e: &Expectation, to_s: f64) -> String {
    let stat = match e.stat {
        Stat::Mean => "mean",
        Stat::Max => "max",
        Stat::Min => "min",
        Stat::Sum => "sum",
    };
    let fixes = if e.fixes.is_empty() {
        "as it happened".to_string()
    } else {
        format!("with {}", e.fixes.join(" + "))
    };
    let bounds = match (e.at_least != f64::MIN, e.at_most != f64::MAX) {
        (true, true) => format!("in [{}, {}]", e.at_least, e.at_most),
        (true, false) => format!(">= {}", e.at_least),
        _ => format!("<= {}", e.at_most),
    };
    format!(
        "{stat} {} over {}-{} s {bounds} ({fixes})",
        e.series, e.from_s, to_s
    )
}

/// Runs (or reuses) the run of `fixes` with `seed` to the end, and returns its series.
fn series_of<'a>(
    scenario: &Scenario,
    fixes: &[String],
    seed: u64,
    runs: &'a mut BTreeMap<(Vec<String>, u64), Metrics>,
) -> Result<&'a Metrics, String> {
    let key = (fixes.to_vec(), seed);
    if !runs.contains_key(&key) {
        let variant = scenario
            .variant(fixes, &[])
            .map_err(|err| err.to_string())?;
        let mut sim = Simulation::new(&variant, seed);
        sim.run_to_end().map_err(|err: SimError| err.to_string())?;
        runs.insert(key.clone(), sim.metrics().clone());
    }
    Ok(&runs[&key])
}

fn evaluate(
    scenario: &Scenario,
    e: &Expectation,
    seeds_override: Option<&[u64]>,
    runs: &mut BTreeMap<(Vec<String>, u64), Metrics>,
) -> Result<CheckResult, String> {
    let duration_s = scenario.file.scenario.duration_s;
    let to_s = if e.to_s == END_OF_RUN_S {
        duration_s
    } else {
        e.to_s
    };
    let mut seeds = Vec::new();
    for &seed in seeds_override.unwrap_or(&e.seeds) {
        let metrics = series_of(scenario, &e.fixes, seed, runs)?;
        let t_s = metrics.series("t_s").unwrap_or_default();
        let values = metrics
            .series(&e.series)
            .ok_or_else(|| format!("no series `{}`", e.series))?;
        let value = statistic(t_s, values, e.from_s, to_s, e.stat);
        let passed = value >= e.at_least && value <= e.at_most;
        seeds.push(SeedResult {
            seed,
            value,
            passed,
        });
    }
    Ok(CheckResult {
        name: e.name.clone(),
        requirement: requirement(e, to_s),
        seeds,
    })
}

/// Runs every expectation of a scenario on the seeds it names; runs with the same fixes and
/// seed are shared.
pub fn run_all(scenario: &Scenario) -> Result<Vec<CheckResult>, String> {
    run_on_seeds(scenario, None)
}

/// Runs every expectation of a scenario on `seeds` instead of the seeds each names (none: its
/// own), so a scenario can be checked on seeds it was not written against.
pub fn run_on_seeds(
    scenario: &Scenario,
    seeds: Option<&[u64]>,
) -> Result<Vec<CheckResult>, String> {
    let mut runs = BTreeMap::new();
    scenario
        .file
        .expectations
        .iter()
        .map(|e| evaluate(scenario, e, seeds, &mut runs))
        .collect()
}

/// Reads a list of seeds: `1..10` (both ends included) or `3,7,9`.
pub fn parse_seeds(text: &str) -> Result<Vec<u64>, String> {
    let bad =
        || format!("`{text}` is not a list of seeds: expected FROM..TO (like 1..10) or 3,7,9");
    let seeds: Vec<u64> = match text.split_once("..") {
        Some((from, to)) => {
            let (from, to): (u64, u64) = (
                from.trim().parse().map_err(|_| bad())?,
                to.trim().parse().map_err(|_| bad())?,
            );
            if from > to || to - from >= 10_000 {
                return Err(format!("{}: at most 10,000 seeds, FROM <= TO", bad()));
            }
            (from..=to).collect()
        }
        None => text
            .split(',')
            .map(|s| s.trim().parse().map_err(|_| bad()))
            .collect::<Result<_, _>>()?,
    };
    Ok(seeds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statistics_cover_the_half_open_range() {
        let t = [1.0, 2.0, 3.0, 4.0];
        let v = [10.0, 20.0, 30.0, 40.0];
        assert_eq!(statistic(&t, &v, 1.0, 3.0, Stat::Mean), 25.0);
        assert_eq!(statistic(&t, &v, 0.0, 4.0, Stat::Max), 40.0);
        assert_eq!(statistic(&t, &v, 0.0, 4.0, Stat::Min), 10.0);
        assert_eq!(statistic(&t, &v, 2.0, 4.0, Stat::Sum), 70.0);
        assert!(statistic(&t, &v, 4.0, 5.0, Stat::Mean).is_nan());
    }

    #[test]
    fn seeds_are_read_as_a_range_or_a_list() {
        assert_eq!(parse_seeds("1..4").unwrap(), vec![1, 2, 3, 4]);
        assert_eq!(parse_seeds("3, 7,9").unwrap(), vec![3, 7, 9]);
        for bad in ["", "x", "5..1", "1..", "1..100000", "1,,2"] {
            assert!(parse_seeds(bad).is_err(), "{bad:?}");
        }
    }
}
