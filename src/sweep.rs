//! Sweeps: one scenario run over a grid of parameter values × seeds, each cell summarised as the
//! share of seeds that collapse (not recovered by the end, or down for at least the scenario's
//! `sweep.collapse_outage_s`), the mean outage and the mean recovery time. The CLI spreads cells
//! over threads and machines (`--shard`), the browser over its workers; a cell's numbers depend
//! only on the scenario, the fixes, the cell's values and the seeds.

use crate::scenario::Scenario;
use crate::sim::Simulation;
use crate::verdict::{Verdict, assess_absolute};
use serde::{Deserialize, Serialize};

/// The most cells one sweep may have.
pub const MAX_CELLS: usize = 10_000;
/// The most seeds per cell.
pub const MAX_SEEDS: u32 = 1_000;

/// One axis of a sweep: a parameter path and the values it takes, `steps` of them evenly from
/// `from` to `to` (both included).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Axis {
    /// The parameter path, as `--set` takes it.
    pub path: String,
    /// The first value.
    pub from: f64,
    /// The last value.
    pub to: f64,
    /// How many values (at least 1; 1 means `from` only).
    pub steps: usize,
}

impl Axis {
    /// Reads `PATH=FROM..TO:STEPS`.
    pub fn parse(text: &str) -> Result<Axis, String> {
        let expected = || {
            format!("`{text}`: expected PATH=FROM..TO:STEPS, like clients.users.rate_rps=40..90:10")
        };
        let (path, range) = text.split_once('=').ok_or_else(expected)?;
        let (range, steps) = range.rsplit_once(':').ok_or_else(expected)?;
        let (from, to) = range.split_once("..").ok_or_else(expected)?;
        let number = |s: &str| s.trim().parse::<f64>().ok().filter(|v| v.is_finite());
        let (Some(from), Some(to)) = (number(from), number(to)) else {
            return Err(expected());
        };
        let steps: usize = steps.trim().parse().map_err(|_| expected())?;
        if path.trim().is_empty() || !(1..=1_000).contains(&steps) {
            return Err(expected());
        }
        Ok(Axis {
            path: path.trim().to_string(),
            from,
            to,
            steps,
        })
    }

    /// The `i`-th value.
    pub fn value(&self, i: usize) -> f64 {
        if self.steps <= 1 {
            return self.from;
        }
        self.from + (self.to - self.from) * i as f64 / (self.steps - 1) as f64
    }

    /// `PATH=FROM..TO:STEPS`.
    pub fn spec(&self) -> String {
        format!("{}={}..{}:{}", self.path, self.from, self.to, self.steps)
    }
}

/// The scenario's suggested axes: its `sweep.axes`, made up to two with its first other declared
/// `parameters`, each over its parameter's range in `steps` values.
pub fn declared_axes(scenario: &Scenario, steps: usize) -> Vec<Axis> {
    let parameters = &scenario.file.parameters;
    let mut chosen: Vec<_> = scenario
        .file
        .sweep
        .axes
        .iter()
        .filter_map(|path| parameters.iter().find(|p| p.path == *path))
        .collect();
    // Fewer than two named: the first other declared parameters make up the pair.
    for p in parameters {
        if chosen.len() >= 2 {
            break;
        }
        if !chosen.iter().any(|c| c.path == p.path) {
            chosen.push(p);
        }
    }
    chosen
        .into_iter()
        .map(|p| Axis {
            path: p.path.clone(),
            from: p.min,
            to: p.max,
            steps,
        })
        .collect()
}

/// How many cells a grid over `axes` has.
pub fn cell_count(axes: &[Axis]) -> usize {
    axes.iter().map(|a| a.steps).product()
}

/// The per-axis indices of cell `cell` (the last axis varies fastest).
pub fn indices(axes: &[Axis], mut cell: usize) -> Vec<usize> {
    let mut out = vec![0; axes.len()];
    for (slot, axis) in out.iter_mut().zip(axes).rev() {
        *slot = cell % axis.steps;
        cell /= axis.steps;
    }
    out
}

/// What one seed's run gave.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// The seed.
    pub seed: u64,
    /// When the run degraded, s (none: no outage).
    pub degraded_at_s: Option<f64>,
    /// How long the outage lasted, s (to the end if it had not recovered; 0 with no outage).
    pub outage_s: f64,
    /// Whether it recovered.
    pub recovered: bool,
    /// Whether it collapsed: not recovered by the end, or down for at least the scenario's
    /// `sweep.collapse_outage_s`.
    pub collapsed: bool,
}

impl Outcome {
    /// The outcome of a run of `scenario` with `seed` whose metrics gave `verdict`.
    pub fn of(scenario: &Scenario, seed: u64, verdict: Verdict) -> Outcome {
        let end_s = scenario.file.scenario.duration_s;
        let threshold_s = scenario.file.sweep.collapse_outage_s;
        let (degraded_at_s, outage_s, recovered) = match verdict {
            Verdict::NotRecovered { degraded_at_s } => {
                (Some(degraded_at_s), end_s - degraded_at_s, false)
            }
            Verdict::Recovered {
                degraded_at_s,
                recovered_at_s,
            } => (Some(degraded_at_s), recovered_at_s - degraded_at_s, true),
            Verdict::NoOutage | Verdict::TooEarly => (None, 0.0, false),
        };
        let collapsed = degraded_at_s.is_some()
            && (!recovered || (threshold_s > 0.0 && outage_s >= threshold_s));
        Outcome {
            seed,
            degraded_at_s,
            outage_s,
            recovered,
            collapsed,
        }
    }
}

/// What the seeds of one cell gave.
#[derive(Clone, Debug, PartialEq)]
pub struct Cell {
    /// The cell's number (row-major over the axes).
    pub cell: usize,
    /// Each axis's value.
    pub values: Vec<f64>,
    /// Seeds run.
    pub seeds: u32,
    /// Seeds whose run had an outage.
    pub degraded: u32,
    /// Seeds whose run collapsed (see [`Outcome::collapsed`]).
    pub collapsed: u32,
    /// Mean outage over the seeds, s (from degrading to recovering, or to the end).
    pub outage_s_mean: f64,
    /// Mean time to recover over the seeds that degraded and recovered, s.
    pub recovery_s_mean: Option<f64>,
}

impl Cell {
    /// The share of seeds that collapsed.
    pub fn collapse_probability(&self) -> f64 {
        self.collapsed as f64 / self.seeds.max(1) as f64
    }

    /// Cell `cell` at `values`, from its seeds' outcomes (in any order: the sums are taken in
    /// seed order, so the CLI and the browser add them up alike).
    pub fn from_outcomes(cell: usize, values: Vec<f64>, outcomes: &[Outcome]) -> Cell {
        let mut sorted = outcomes.to_vec();
        crate::small_sort::sort_by_key(&mut sorted, |o| o.seed);
        let (mut outage_s, mut recovery_s, mut recovered) = (0.0, 0.0, 0u32);
        for o in &sorted {
            outage_s += o.outage_s;
            if o.recovered {
                recovery_s += o.outage_s;
                recovered += 1;
            }
        }
        let n = sorted.len().max(1) as f64;
        Cell {
            cell,
            values,
            seeds: sorted.len() as u32,
            degraded: sorted.iter().filter(|o| o.degraded_at_s.is_some()).count() as u32,
            collapsed: sorted.iter().filter(|o| o.collapsed).count() as u32,
            outage_s_mean: outage_s / n,
            recovery_s_mean: (recovered > 0).then(|| recovery_s / recovered as f64),
        }
    }
}

/// Runs cell `cell` of a sweep of `scenario` with `fixes` over `axes`, on `seeds`.
pub fn run_cell(
    scenario: &Scenario,
    fixes: &[String],
    axes: &[Axis],
    cell: usize,
    seeds: &[u64],
) -> Result<Cell, String> {
    let outcomes = run_seeds(scenario, fixes, axes, cell, seeds)?;
    Ok(Cell::from_outcomes(cell, values(axes, cell), &outcomes))
}

/// Each seed's outcome in cell `cell` of a sweep of `scenario` with `fixes` over `axes` (no
/// axes: the scenario itself); what a browser worker computes for its share of a cell.
pub fn run_seeds(
    scenario: &Scenario,
    fixes: &[String],
    axes: &[Axis],
    cell: usize,
    seeds: &[u64],
) -> Result<Vec<Outcome>, String> {
    let variant = scenario
        .variant_with_numbers(fixes, &overrides(axes, cell))
        .map_err(|e| e.to_string())?;
    seeds
        .iter()
        .map(|&seed| {
            let mut sim = Simulation::new(&variant, seed);
            // The replay's own loop (with no limit it runs to the end): the web module then
            // carries one copy of the engine's inner loop, not two.
            let end_us = sim.end_us();
            sim.run_until_budget(end_us, u64::MAX)
                .map_err(|e| format!("cell {cell} ({:?}), seed {seed}: {e}", values(axes, cell)))?;
            Ok(Outcome::of(scenario, seed, assess_absolute(sim.metrics())))
        })
        .collect()
}

/// Each axis's value in cell `cell`.
pub fn values(axes: &[Axis], cell: usize) -> Vec<f64> {
    indices(axes, cell)
        .iter()
        .zip(axes)
        .map(|(&i, axis)| axis.value(i))
        .collect()
}

/// Cell `cell` as parameter values: (path, value), each axis's value in the cell (the run
/// rounds it for a parameter that is an integer in the file).
pub fn overrides(axes: &[Axis], cell: usize) -> Vec<(String, f64)> {
    axes.iter()
        .zip(values(axes, cell))
        .map(|(axis, value)| (axis.path.clone(), value))
        .collect()
}

/// The first line of a sweep's CSV: what was swept, for `--merge` to check that shards belong
/// together.
pub fn csv_spec(id: &str, axes: &[Axis], seeds: u32, fixes: &[String]) -> String {
    let mut spec = format!("# sweep: {id}");
    for axis in axes {
        spec.push_str(&format!(" --param {}", axis.spec()));
    }
    spec.push_str(&format!(" --seeds {seeds}"));
    for fix in fixes {
        spec.push_str(&format!(" --fix {fix}"));
    }
    spec
}

/// The CSV's header line.
pub fn csv_header(axes: &[Axis]) -> String {
    let mut header = "cell".to_string();
    for axis in axes {
        header.push(',');
        header.push_str(&axis.path);
    }
    header.push_str(",seeds,degraded,collapsed,collapse_probability,outage_s_mean,recovery_s_mean");
    header
}

/// One cell's CSV line.
pub fn csv_row(cell: &Cell) -> String {
    let mut row = cell.cell.to_string();
    for v in &cell.values {
        row.push_str(&format!(",{v}"));
    }
    row.push_str(&format!(
        ",{},{},{},{},{:.3},{}",
        cell.seeds,
        cell.degraded,
        cell.collapsed,
        cell.collapse_probability(),
        cell.outage_s_mean,
        cell.recovery_s_mean
            .map_or(String::new(), |r| format!("{r:.3}"))
    ));
    row
}
