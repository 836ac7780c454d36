//! The verdict on a run: did it degrade, and did it recover, computed from the series alone.
//!
//! A window's health is its success ratio (successful ÷ new requests, summed over the last five
//! windows). The baseline is the ratio over the first tenth of the run; a window is bad below 75%
//! of the baseline and good at 90% or more. A run recovered if, after the last window that was
//! not good, at least three windows were.

use crate::metrics::Metrics;

/// What the series say about a run so far.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Verdict {
    /// Too few windows to judge.
    TooEarly,
    /// Never degraded.
    NoOutage,
    /// Degraded at `degraded_at_s`, healthy again from `recovered_at_s` on.
    Recovered {
        /// End of the first bad window, s.
        degraded_at_s: f64,
        /// Start of the good stretch after the last bad window, s.
        recovered_at_s: f64,
    },
    /// Degraded at `degraded_at_s` and not (yet) recovered.
    NotRecovered {
        /// End of the first bad window, s.
        degraded_at_s: f64,
    },
}

/// Windows that must be good after the last bad one to call it recovered.
pub const GOOD_WINDOWS_TO_RECOVER: usize = 3;

/// Windows summed for each ratio.
pub const SMOOTHING_WINDOWS: usize = 5;

/// Judges the windows closed so far, against the run's own early success ratio.
pub fn assess(metrics: &Metrics) -> Verdict {
    judge(metrics, None)
}

/// Judges the windows closed so far against full health (every offered request succeeding),
/// not the run's own start: a sweep's cell that is failing from its first minutes is an
/// outage from its start, not a calm run.
pub fn assess_absolute(metrics: &Metrics) -> Verdict {
    judge(metrics, Some(1.0))
}

fn judge(metrics: &Metrics, fixed_baseline: Option<f64>) -> Verdict {
    let (Some(t), Some(offered), Some(success)) = (
        metrics.series("t_s"),
        metrics.series("offered_rps"),
        metrics.series("success_rps"),
    ) else {
        return Verdict::TooEarly;
    };
    // Trailing sums over a few windows smooth out Poisson noise and latency spread.
    let ratios: Vec<Option<f64>> = (0..offered.len())
        .map(|i| {
            let from = i.saturating_sub(SMOOTHING_WINDOWS - 1);
            let o: f64 = offered[from..=i].iter().sum();
            let s: f64 = success[from..=i].iter().sum();
            (o > 0.0).then(|| (s / o).min(1.0))
        })
        .collect();
    let warmup = (ratios.len() / 10).max(3);
    if ratios.len() < warmup + GOOD_WINDOWS_TO_RECOVER {
        return Verdict::TooEarly;
    }
    let early: Vec<f64> = ratios[..warmup].iter().flatten().copied().collect();
    if early.is_empty() {
        return Verdict::TooEarly;
    }
    let baseline =
        fixed_baseline.unwrap_or_else(|| (early.iter().sum::<f64>() / early.len() as f64).max(0.2));
    let bad = |r: &Option<f64>| r.is_some_and(|r| r < 0.75 * baseline);
    let good = |r: &Option<f64>| r.is_none_or(|r| r >= 0.9 * baseline);
    let Some(first_bad) = ratios.iter().position(bad) else {
        return Verdict::NoOutage;
    };
    // The good stretch starts after the last window that was not good (bad or in between).
    let last_not_good = ratios
        .iter()
        .rposition(|r| !good(r))
        .unwrap_or(first_bad)
        .max(first_bad);
    let degraded_at_s = t[first_bad];
    if ratios.len() - (last_not_good + 1) >= GOOD_WINDOWS_TO_RECOVER {
        Verdict::Recovered {
            degraded_at_s,
            recovered_at_s: t[last_not_good],
        }
    } else {
        Verdict::NotRecovered { degraded_at_s }
    }
}

/// A scenario's `started_at` ("15:32 UTC", "07:20:30") as seconds into its day and its zone
/// (empty when none is given); None when it is not a time of day ("evening", "").
pub fn start_of_day(started_at: &str) -> Option<(u64, &str)> {
    let (clock, zone) = started_at.split_once(' ').unwrap_or((started_at, ""));
    let parts: Vec<u64> = clock.split(':').map_while(|p| p.parse().ok()).collect();
    if !(2..=3).contains(&parts.len()) || parts[0] > 23 || parts[1] > 59 {
        return None;
    }
    Some((
        parts[0] * 3600 + parts[1] * 60 + parts.get(2).copied().unwrap_or(0),
        zone,
    ))
}

/// A moment of the replay as a wall-clock label when the scenario gives its start
/// (`started_at = "15:34 UTC"` and 125 s ⇒ `15:36:05 UTC`), else as minutes:seconds.
pub fn clock_label(started_at: &str, t_s: f64) -> String {
    let t = t_s.max(0.0).round() as u64;
    let Some((start, zone)) = start_of_day(started_at) else {
        return format!("{}:{:02}", t / 60, t % 60);
    };
    let total = (start + t) % 86_400;
    let label = format!(
        "{:02}:{:02}:{:02}",
        total / 3600,
        (total / 60) % 60,
        total % 60
    );
    if zone.is_empty() {
        label
    } else {
        format!("{label} {zone}")
    }
}

/// One line for people: "recovered at 15:36:05 UTC", "did not recover (degraded since …)".
pub fn describe(verdict: Verdict, started_at: &str) -> String {
    match verdict {
        Verdict::TooEarly => "too early to tell".to_string(),
        Verdict::NoOutage => "no outage so far".to_string(),
        Verdict::Recovered {
            degraded_at_s,
            recovered_at_s,
        } => format!(
            "degraded at {}, recovered at {}",
            clock_label(started_at, degraded_at_s),
            clock_label(started_at, recovered_at_s)
        ),
        Verdict::NotRecovered { degraded_at_s } => {
            format!(
                "did not recover (degraded since {})",
                clock_label(started_at, degraded_at_s)
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::find_bundled;
    use crate::sim::Simulation;

    fn run(fixes: &[&str]) -> Metrics {
        let scenario = find_bundled("retry-storm").unwrap().unwrap();
        let fixes: Vec<String> = fixes.iter().map(|f| f.to_string()).collect();
        let mut sim = Simulation::new(&scenario.variant(&fixes, &[]).unwrap(), 1);
        sim.run_to_end().unwrap();
        sim.metrics().clone()
    }

    #[test]
    fn the_retry_storm_does_not_recover_and_jitter_does() {
        assert!(
            matches!(assess(&run(&[])), Verdict::NotRecovered { degraded_at_s } if (5.0..15.0).contains(&degraded_at_s))
        );
        match assess(&run(&["jitter"])) {
            Verdict::Recovered { recovered_at_s, .. } => assert!(recovered_at_s < 40.0),
            other => panic!("expected a recovery, got {other:?}"),
        }
    }

    #[test]
    fn clock_labels_follow_the_documented_start() {
        assert_eq!(clock_label("15:34 UTC", 125.0), "15:36:05 UTC");
        assert_eq!(clock_label("23:59:30", 45.0), "00:00:15");
        assert_eq!(clock_label("", 125.0), "2:05");
        assert_eq!(clock_label("soon", 61.0), "1:01");
        assert_eq!(describe(Verdict::NoOutage, ""), "no outage so far");
        assert_eq!(
            describe(
                Verdict::NotRecovered {
                    degraded_at_s: 60.0
                },
                "10:00 JST"
            ),
            "did not recover (degraded since 10:01:00 JST)"
        );
    }
}
