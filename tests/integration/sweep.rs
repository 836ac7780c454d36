//! Sweeps over parameters × seeds: the retry storm's stability map, and the CLI's shards, merge
//! and formats.

use crate::cli::cascade;
use cascade::scenario::Scenario;
use cascade::sweep::{self, Axis};

fn retry_storm() -> Scenario {
    cascade::scenario::find_bundled("retry-storm")
        .unwrap()
        .unwrap()
}

#[test]
fn the_retry_storm_recovers_at_low_load_and_short_crashes_and_collapses_at_high_load_and_long_ones()
{
    let scenario = retry_storm();
    let axes = [
        Axis::parse("clients.users.rate_rps=30..90:4").unwrap(),
        Axis::parse("timeline.1.at_s=6..30:4").unwrap(),
    ];
    let seeds: Vec<u64> = (1..=4).collect();
    let p = |fixes: &[&str], cell: usize| {
        let fixes: Vec<String> = fixes.iter().map(|f| f.to_string()).collect();
        sweep::run_cell(&scenario, &fixes, &axes, cell, &seeds)
            .unwrap()
            .collapse_probability()
    };
    // Cells are row-major: cell 0 is (30 req/s, back at 6 s), cell 15 is (90, 30).
    assert_eq!(p(&[], 0), 0.0, "light load, short crash: recovers");
    assert_eq!(p(&[], 15), 1.0, "heavy load, long crash: collapses");
    // Collapse grows with the crash at the documented load (70 req/s: cells 8..=11).
    let documented: Vec<f64> = (8..=11).map(|c| p(&[], c)).collect();
    assert!(
        documented.windows(2).all(|w| w[0] <= w[1]),
        "{documented:?}"
    );
    // Jitter moves the boundary: at 70 req/s and a crash to 14 s it now recovers.
    assert_eq!(p(&[], 9), 1.0);
    assert_eq!(p(&["jitter"], 9), 0.0);
    let collapsed = |fixes: &[&str]| (0..16).filter(|&c| p(fixes, c) > 0.5).count();
    assert!(
        collapsed(&["jitter"]) < collapsed(&[]),
        "jitter shrinks the collapse region"
    );
    assert!(
        collapsed(&["retry-budget"]) < collapsed(&[]),
        "so does a retry budget"
    );
}

#[test]
fn a_sweep_split_into_shards_and_merged_is_the_whole_sweep() {
    let args = [
        "sweep",
        "retry-storm",
        "--param",
        "clients.users.rate_rps=40..80:3",
        "--param",
        "timeline.1.at_s=8..20:3",
        "--seeds",
        "2",
    ];
    let (code, whole, err) = cascade(&args);
    assert_eq!(code, 0, "{err}");
    assert_eq!(whole.lines().count(), 3 + 9, "{whole}");
    let dir = std::env::temp_dir().join(format!("cascade-sweep-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut files = Vec::new();
    for shard in ["1/2", "2/2"] {
        let mut with = args.to_vec();
        with.extend(["--shard", shard, "--threads", "1"]);
        let (code, out, err) = cascade(&with);
        assert_eq!(code, 0, "{err}");
        let file = dir.join(format!("shard-{}.csv", &shard[..1]));
        std::fs::write(&file, out).unwrap();
        files.push(file.to_str().unwrap().to_string());
    }
    let merge: Vec<&str> = ["sweep", "--merge"]
        .into_iter()
        .chain(files.iter().map(String::as_str))
        .collect();
    let (code, merged, err) = cascade(&merge);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        merged, whole,
        "the same numbers, threads and shards notwithstanding"
    );
    // One shard alone is not the sweep.
    let (code, _, err) = cascade(&["sweep", "--merge", &files[0]]);
    assert_eq!(code, 2);
    assert!(err.contains("is a shard missing"), "{err}");
    // Shards of another sweep (more seeds) do not mix.
    let mut another = args.to_vec();
    *another.last_mut().unwrap() = "3";
    another.extend(["--shard", "2/2"]);
    let (_, other, _) = cascade(&another);
    let other_file = dir.join("other.csv");
    std::fs::write(&other_file, other).unwrap();
    let (code, _, err) = cascade(&["sweep", "--merge", &files[0], other_file.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("another sweep"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_sweep_defaults_to_the_declared_axes_and_writes_json() {
    let (code, out, err) = cascade(&[
        "sweep",
        "retry-storm",
        "--steps",
        "2",
        "--seeds",
        "1",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    let scenario = retry_storm();
    let declared: Vec<&str> = scenario
        .file
        .sweep
        .axes
        .iter()
        .map(String::as_str)
        .collect();
    let axes: Vec<&str> = report["axes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["path"].as_str().unwrap())
        .collect();
    assert_eq!(axes, declared);
    assert_eq!(report["cells"].as_array().unwrap().len(), 4);
    let first = scenario
        .file
        .parameters
        .iter()
        .find(|p| p.path == declared[0])
        .unwrap();
    assert_eq!(report["cells"][0]["values"][0], first.min);
}

#[test]
fn bad_sweeps_are_refused_with_what_was_expected() {
    for (args, expected) in [
        (
            vec!["sweep", "retry-storm", "--param", "nope"],
            "PATH=FROM..TO:STEPS",
        ),
        (
            vec![
                "sweep",
                "retry-storm",
                "--param",
                "services.nope.workers=1..4:4",
            ],
            "does not exist",
        ),
        (
            vec![
                "sweep",
                "retry-storm",
                "--param",
                "clients.users.rate_rps=1..2:200",
                "--param",
                "timeline.1.at_s=6..30:200",
            ],
            "at most 10000",
        ),
        (
            vec!["sweep", "retry-storm", "--shard", "3/2"],
            "I from 1 to N",
        ),
        (vec!["sweep", "retry-storm", "--seeds", "0"], "--seeds"),
        (
            vec![
                "sweep",
                "retry-storm",
                "--param",
                "clients.users.rate_rps=10..200000:2",
            ],
            "expected a value from 0 to 100000",
        ),
    ] {
        let (code, _, err) = cascade(&args);
        assert_eq!(code, 2, "{args:?}");
        assert!(err.contains(expected), "{args:?}: {err}");
    }
}

#[test]
fn every_bundled_scenario_sweeps_declared_axes_and_its_documented_configuration_collapses() {
    let seeds: Vec<u64> = (1..=4).collect();
    let mut wrong = Vec::new();
    for bundled in cascade::scenario::bundled() {
        let scenario = Scenario::parse(bundled.file_name, bundled.source).unwrap();
        let id = scenario.id().to_string();
        let axes = sweep::declared_axes(&scenario, 5);
        assert_eq!(axes.len(), 2, "{id}: two sweep axes");
        let outcomes = sweep::run_seeds(&scenario, &[], &[], 0, &seeds).unwrap();
        let cell = sweep::Cell::from_outcomes(0, Vec::new(), &outcomes);
        if cell.collapse_probability() < 0.75 {
            wrong.push(format!("{id}: {outcomes:?}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "documented configurations outside the collapse region:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn a_fix_that_sets_a_swept_parameter_wins_in_the_cell_as_in_its_replay() {
    // Airtame's index-query fix sets the scan's cost, one of its map's axes: a cell runs the
    // fix's cost whatever the axis says, as the player's replay of that cell does (what-if
    // values first, then fixes).
    let scenario = cascade::scenario::find_bundled("airtame-2020-02-table-scan-reconnect")
        .unwrap()
        .unwrap();
    let path = "datastores.db.queries.device-uuid-full-scan.cost.ms";
    let fixes = vec!["index-query".to_string()];
    let cell = scenario
        .variant_with_numbers(&fixes, &[(path.to_string(), 2000.0)])
        .unwrap();
    let replay = scenario
        .what_if(&[(path.to_string(), 2000.0)])
        .unwrap()
        .with_fixes(&fixes)
        .unwrap();
    assert_eq!(
        cell.tree, replay.tree,
        "the cell runs exactly the replay's configuration"
    );
    let documented_with_fix = scenario.with_fixes(&fixes).unwrap();
    assert_eq!(
        cell.tree, documented_with_fix.tree,
        "at the fix's cost, whatever the axis"
    );
}

#[test]
fn one_declared_sweep_axis_is_paired_with_the_first_other_parameter() {
    let text = cascade::scenario::bundled()
        .iter()
        .find(|b| b.file_name == "retry-storm.toml")
        .unwrap()
        .source
        .replace(
            "axes = [\"clients.users.rate_rps\", \"timeline.1.at_s\"]",
            "axes = [\"clients.users.timeout_ms\"]",
        );
    let scenario = Scenario::parse("one-axis.toml", &text).unwrap();
    let paths: Vec<String> = sweep::declared_axes(&scenario, 3)
        .into_iter()
        .map(|a| a.path)
        .collect();
    assert_eq!(
        paths,
        ["clients.users.timeout_ms", "clients.users.rate_rps"]
    );
}
