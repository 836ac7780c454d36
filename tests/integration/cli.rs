//! The `cascade` binary as a user runs it: list, run (text, JSON, CSV), check, bench, bad input.

use std::process::Command;

/// Runs the `cascade` binary: (exit code, stdout, stderr). The sweep tests use it too.
pub(crate) fn cascade(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_cascade"))
        .args(args)
        .output()
        .expect("cascade runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn list_shows_every_bundled_scenario_in_text_and_json() {
    let (code, out, _) = cascade(&["list"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("retry-storm") && out.contains("jitter"),
        "{out}"
    );
    let (code, out, _) = cascade(&["list", "--format", "json"]);
    assert_eq!(code, 0);
    let items: serde_json::Value = serde_json::from_str(&out).unwrap();
    let ids: Vec<&str> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), cascade::scenario::bundled().len());
    assert!(items[0]["fixes"].is_array());
}

#[test]
fn run_json_is_the_documented_contract() {
    let (code, out, err) = cascade(&[
        "run",
        "retry-storm",
        "--seed",
        "4",
        "--until",
        "30s",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    for key in [
        "scenario",
        "seed",
        "fixes",
        "until_s",
        "events",
        "trace_hash",
        "requests",
        "series",
    ] {
        assert!(report.get(key).is_some(), "missing `{key}`");
    }
    assert_eq!(report["seed"], 4);
    assert_eq!(report["until_s"], 30.0);
    let requests = &report["requests"];
    let total = requests["total"].as_u64().unwrap();
    let parts: u64 = ["success", "error", "timeout", "shed", "in_flight"]
        .iter()
        .map(|k| requests[*k].as_u64().unwrap())
        .sum();
    assert_eq!(total, parts);
    let series = report["series"].as_object().unwrap();
    let len = series["t_s"].as_array().unwrap().len();
    assert_eq!(len, 30);
    for key in [
        "offered_rps",
        "success_rps",
        "error_rps",
        "timeout_rps",
        "shed_rps",
        "p50_ms",
        "p99_ms",
        "server-a.queue_depth_req",
        "server-b.healthy_instances_count",
    ] {
        assert_eq!(
            series[key].as_array().map(Vec::len),
            Some(len),
            "series `{key}`"
        );
    }
}

#[test]
fn csv_holds_the_same_series_as_json() {
    let (_, json_out, _) = cascade(&["run", "retry-storm", "--format", "json"]);
    let (code, csv_out, _) = cascade(&["run", "retry-storm", "--format", "csv"]);
    assert_eq!(code, 0);
    let report: serde_json::Value = serde_json::from_str(&json_out).unwrap();
    let series = report["series"].as_object().unwrap();
    let mut lines = csv_out.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(header.len(), series.len());
    let rows: Vec<Vec<f64>> = lines
        .map(|l| l.split(',').map(|c| c.parse().unwrap()).collect())
        .collect();
    assert_eq!(rows.len(), 60);
    for (column, name) in header.iter().enumerate() {
        let values = series[*name].as_array().unwrap();
        for (row, value) in rows.iter().zip(values) {
            assert!(
                (row[column] - value.as_f64().unwrap()).abs() < 1e-3,
                "{name}"
            );
        }
    }
}

#[test]
fn fixes_and_overrides_change_the_run() {
    let hash = |args: &[&str]| {
        let (code, out, err) = cascade(args);
        assert_eq!(code, 0, "{err}");
        serde_json::from_str::<serde_json::Value>(&out).unwrap()["trace_hash"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let plain = hash(&["run", "retry-storm", "--format", "json"]);
    assert_eq!(plain, hash(&["run", "retry-storm", "--format", "json"]));
    assert_ne!(
        plain,
        hash(&["run", "retry-storm", "--fix", "jitter", "--format", "json"])
    );
    assert_ne!(
        plain,
        hash(&[
            "run",
            "retry-storm",
            "--set",
            "clients.users.rate_rps=50",
            "--format",
            "json"
        ])
    );
}

#[test]
fn text_output_summarises_the_run() {
    let (code, out, _) = cascade(&["run", "retry-storm"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("requests:") && out.contains("success_rps"),
        "{out}"
    );
}

#[test]
fn bad_input_gives_a_clear_error_and_exit_code_2() {
    let (code, _, err) = cascade(&["run", "no-such-scenario"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("no bundled scenario `no-such-scenario`") && err.contains("retry-storm"),
        "{err}"
    );
    let (code, _, err) = cascade(&["run", "retry-storm", "--set", "clients.users.nope=1"]);
    assert_eq!(code, 2);
    assert!(err.contains("`clients.users.nope` does not exist"), "{err}");
    let (code, _, err) = cascade(&["run", "retry-storm", "--set", "oops"]);
    assert_eq!(code, 2);
    assert!(err.contains("expected PATH=VALUE"), "{err}");
    let (code, _, err) = cascade(&["run", "retry-storm", "--until", "5 fortnights"]);
    assert_eq!(code, 2);
    assert!(err.contains("--until"), "{err}");
    let (code, _, err) = cascade(&["run", "/nonexistent/x.toml"]);
    assert_eq!(code, 2);
    assert!(err.contains("cannot read"), "{err}");
}

#[test]
fn a_scenario_file_with_an_error_is_reported_with_its_line() {
    let dir = std::env::temp_dir().join(format!("cascade-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("broken.toml");
    std::fs::write(
        &path,
        "[scenario]\nid = \"broken\"\ntitle = \"b\"\nduration_s = 10\nbogus = 1\n",
    )
    .unwrap();
    let (code, _, err) = cascade(&["run", path.to_str().unwrap()]);
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(code, 2);
    assert!(
        err.contains("broken.toml:5:1") && err.contains("unknown field `bogus`"),
        "{err}"
    );
}

#[test]
fn check_passes_for_a_bundled_scenario() {
    // Every scenario's expectations run in scenarios.rs; here, the command's output.
    let (code, out, _) = cascade(&["check", "retry-storm"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.lines().all(|l| !l.starts_with("FAIL")), "{out}");
    assert!(out.contains("PASS retry-storm"), "{out}");
}

#[test]
fn check_fails_with_a_failing_expectation() {
    let dir = std::env::temp_dir().join(format!("cascade-check-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("impossible.toml");
    let text = r#"[scenario]
id = "impossible"
title = "impossible"
duration_s = 5
[clients.c]
target = "s"
rate_rps = 10
[services.s]
endpoints.default.service_time = { distribution = "constant", ms = 1 }
[[expectations]]
name = "more successes than requests"
series = "success_rps"
at_least = 1000
"#;
    std::fs::write(&path, text).unwrap();
    let (code, out, _) = cascade(&["check", path.to_str().unwrap()]);
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("FAIL impossible :: more successes than requests"),
        "{out}"
    );
}

#[test]
fn bench_reports_events_per_second_and_simulated_speed() {
    let (code, out, err) = cascade(&["bench", "retry-storm", "--runs", "1", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    let first = &report["results"][0];
    assert_eq!(first["scenario"], "retry-storm");
    assert!(first["events_per_s"].as_f64().unwrap() > 0.0);
    assert!(first["sim_s_per_wall_s"].as_f64().unwrap() > 0.0);
    assert_eq!(report["results"][1]["scenario"], "total");
}

#[test]
fn a_fix_can_apply_from_a_moment_on() {
    let verdict = |args: &[&str]| {
        let (code, out, err) = cascade(args);
        assert_eq!(code, 0, "{err}");
        out.lines()
            .find(|l| l.starts_with("verdict:"))
            .unwrap()
            .to_string()
    };
    // Dropping dead work early saves the run; by 20 s the storm sustains itself regardless.
    assert!(
        verdict(&["run", "retry-storm", "--fix-at", "honor-timeout@10s"]).contains("recovered at")
    );
    assert!(
        verdict(&["run", "retry-storm", "--fix-at", "honor-timeout@20s"])
            .contains("did not recover")
    );
    let (code, _, err) = cascade(&["run", "retry-storm", "--fix-at", "honor-timeout"]);
    assert_eq!(code, 2);
    assert!(err.contains("expected NAME@DURATION"), "{err}");
    let (code, _, err) = cascade(&["run", "retry-storm", "--fix-at", "nope@5s"]);
    assert_eq!(code, 2);
    assert!(err.contains("no fix `nope`"), "{err}");
}

#[test]
fn check_runs_the_expectations_on_other_seeds_when_asked() {
    let (code, out, _) = cascade(&["check", "retry-storm", "--seeds", "11..12"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("seed 11:") && out.contains("seed 12:"),
        "{out}"
    );
    assert!(!out.contains("seed 1:"), "only the seeds asked for: {out}");
    let (code, _, err) = cascade(&["check", "retry-storm", "--seeds", "9..1"]);
    assert_eq!(code, 2);
    assert!(err.contains("--seeds") && err.contains("FROM..TO"), "{err}");
}

#[test]
fn a_reader_that_stops_early_ends_the_run_quietly() {
    // `cascade run … --format csv | head -1`: the pipe closes after the header.
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_cascade"))
        .args([
            "run",
            "airtame-2020-02-table-scan-reconnect",
            "--format",
            "csv",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cascade runs");
    let mut header = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut header)
        .unwrap();
    assert!(header.starts_with("t_s,"), "{header}");
    // The reader is dropped here: the rest of the CSV meets a closed pipe.
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn precompile_writes_each_bundled_scenario_as_the_page_reads_it() {
    let dir = std::env::temp_dir().join(format!("cascade-precompile-{}", std::process::id()));
    let (code, _, err) = cascade(&["precompile", dir.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    for bundled in cascade::scenario::bundled() {
        let stem = bundled.file_name.trim_end_matches(".toml");
        let bytes = std::fs::read(dir.join(format!("{stem}.bin"))).expect("a file per scenario");
        let parsed = cascade::Scenario::parse(bundled.file_name, bundled.source).unwrap();
        assert_eq!(
            bytes,
            parsed.precompile(),
            "{stem}: the bytes the page's checksum is of"
        );
        let read = cascade::Scenario::from_precompiled(bundled.file_name, &bytes).unwrap();
        assert_eq!(read.file.scenario, parsed.file.scenario);
        let text = std::fs::read_to_string(dir.join(bundled.file_name)).expect("the file too");
        assert_eq!(
            text, bundled.source,
            "{stem}: the editor's copy, comments and all"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn drill_scores_actions_with_the_library_s_numbers_and_refuses_unknown_ones() {
    let (code, out, err) = cascade(&[
        "drill",
        "retry-storm",
        "--action",
        "circuit-breaker@12s",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    let scenario = cascade::scenario::find_bundled("retry-storm")
        .unwrap()
        .unwrap();
    let plan = cascade::drill::DrillPlan::new(&scenario).unwrap();
    let taken = [cascade::drill::Taken {
        name: "circuit-breaker".into(),
        at_us: 12_000_000,
    }];
    let mine = cascade::drill::impact(plan.run(1, &taken).unwrap().sim().metrics());
    assert_eq!(report["yours"]["impact_minutes"], mine.impact_minutes);
    assert_eq!(report["yours"]["failed_requests"], mine.failed_requests);
    assert_eq!(report["actions"][0]["name"], "circuit-breaker");
    assert!(report["pages"].as_array().unwrap().len() >= 2, "{out}");

    let (code, _, err) = cascade(&["drill", "retry-storm", "--action", "reboot@10s"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("no runbook action `reboot`") && err.contains("circuit-breaker"),
        "{err}"
    );
    let (code, _, err) = cascade(&["drill", "retry-storm", "--action", "circuit-breaker@2h"]);
    assert_eq!(code, 2);
    assert!(err.contains("before the end"), "{err}");
}

#[test]
fn fixes_at_unknown_names_or_outside_the_run_are_refused_not_ignored() {
    let (code, _, err) = cascade(&["run", "retry-storm", "--fix-at", "nope@10s"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("no fix `nope`") && err.contains("jitter"),
        "{err}"
    );
    let (code, _, err) = cascade(&["run", "retry-storm", "--fix-at", "jitter@2h"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("before the end"), "{err}");
    // A moment after an earlier `--until` is a cut before the fix, not a mistake.
    let (code, _, err) = cascade(&[
        "run",
        "retry-storm",
        "--until",
        "20s",
        "--fix-at",
        "jitter@30s",
    ]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn a_file_too_large_to_be_a_scenario_is_refused_without_reading_it_all() {
    let (code, _, err) = cascade(&["run", "/dev/zero"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("/dev/zero: larger than 1024 KB"), "{err}");
}

#[test]
fn a_closed_pipe_ends_the_output_quietly() {
    use std::io::Read;
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_cascade"))
        .args(["run", "retry-storm", "--format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 10];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap();
    // The reader has gone (its end of the pipe dropped above): no panic, no error.
    let status = child.wait().unwrap();
    assert!(status.code() == Some(0), "{status}");
}

#[test]
fn new_from_writes_an_editable_copy_that_runs_like_the_bundled_scenario() {
    let (code, copy, err) = cascade(&["new", "--from", "retry-storm"]);
    assert_eq!(code, 0, "{err}");
    assert!(copy.starts_with("# An editable copy of the bundled scenario `retry-storm`"));
    let bundled = cascade::scenario::bundled()
        .iter()
        .find(|b| b.file_name == "retry-storm.toml")
        .unwrap();
    assert!(
        copy.ends_with(bundled.source),
        "the file follows, comments and all"
    );
    let dir = std::env::temp_dir().join(format!("cascade-new-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("my.toml");
    std::fs::write(&path, &copy).unwrap();
    let path = path.to_str().unwrap();
    let (code, from_copy, err) = cascade(&["run", path, "--format", "csv"]);
    assert_eq!(code, 0, "{err}");
    let (_, from_bundle, _) = cascade(&["run", "retry-storm", "--format", "csv"]);
    assert_eq!(from_copy, from_bundle, "the copy is the same scenario");
    let (code, _, err) = cascade(&["check", path]);
    assert_eq!(code, 0, "{err}");
    std::fs::remove_dir_all(&dir).unwrap();

    let (code, _, err) = cascade(&["new", "--from", "nope"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("no bundled scenario `nope`") && err.contains("retry-storm"),
        "{err}"
    );
}
