//! The `cascade` command: list, run, check and benchmark scenarios natively.
//!
//! The only part of the root package that reads files, writes to stdout or reads the clock.

use cascade::check;
use cascade::scenario::{self, Scenario};
use cascade::sim::Simulation;
use cascade::time::{format_clock, parse_duration, us_to_s};
use cascade::verdict;
use clap::{Args, Parser, Subcommand, ValueEnum};
use serde_json::{Map, Value, json};
use std::process::ExitCode;
use std::time::Instant;

#[derive(Parser)]
#[command(
    name = "cascade",
    version,
    about = "Replay documented cascading outages in a deterministic simulation"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
    Csv,
}

#[derive(Args)]
struct SweepArgs {
    /// A bundled scenario id, or the path of a scenario file (not with --merge).
    scenario: Option<String>,
    /// An axis, PATH=FROM..TO:STEPS (repeatable; default: the scenario's first two declared
    /// parameters over their ranges).
    #[arg(long = "param", value_name = "PATH=FROM..TO:STEPS")]
    params: Vec<String>,
    /// Values per declared axis when no --param is given.
    #[arg(long, default_value_t = 10)]
    steps: usize,
    /// Seeds per cell (seeds 1 to N).
    #[arg(long, default_value_t = 32)]
    seeds: u32,
    /// Apply a named fix from the start (repeatable).
    #[arg(long = "fix")]
    fixes: Vec<String>,
    /// Run only every N-th cell, starting at the I-th (I from 1 to N).
    #[arg(long, value_name = "I/N")]
    shard: Option<String>,
    /// Threads (default: every core).
    #[arg(long)]
    threads: Option<usize>,
    /// Output format (csv or json; --merge writes csv).
    #[arg(long, value_enum, default_value = "csv")]
    format: Format,
    /// Join the CSV files of a sweep's shards into one, in cell order.
    #[arg(long, num_args = 1.., value_name = "FILE", conflicts_with_all = ["scenario", "params", "shard"])]
    merge: Vec<String>,
}

#[derive(Args)]
struct RunArgs {
    /// A bundled scenario id, or the path of a scenario file.
    scenario: String,
    /// Apply a named fix from the start (repeatable).
    #[arg(long = "fix", value_name = "NAME")]
    fixes: Vec<String>,
    /// Apply a named fix from a moment on, as an operator would mid-incident (repeatable), e.g.
    /// --fix-at single-flight@6m.
    #[arg(long = "fix-at", value_name = "NAME@DURATION")]
    fixes_at: Vec<String>,
    /// Override a parameter by its path in the file (repeatable), e.g. clients.users.rate_rps=90.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    sets: Vec<String>,
    /// Seed of the run (default: the scenario's).
    #[arg(long)]
    seed: Option<u64>,
    /// Stop at this virtual time (e.g. 90s, 5m, 1h; default: the scenario's duration).
    #[arg(long, value_name = "DURATION")]
    until: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

#[derive(Subcommand)]
enum Command {
    /// List the bundled scenarios.
    List {
        /// Output format (text or json).
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Run one scenario and print its figures.
    Run(RunArgs),
    /// Run the expectations of scenarios (all bundled ones by default).
    Check {
        /// Bundled scenario ids or scenario file paths.
        scenarios: Vec<String>,
        /// Check every expectation on these seeds instead of those it names: FROM..TO (both
        /// included) or a list like 3,7,9.
        #[arg(long)]
        seeds: Option<String>,
    },
    /// Score an on-call drill: runbook actions taken at moments, against the run as it happened.
    Drill {
        /// A bundled scenario id, or the path of a scenario file.
        scenario: String,
        /// A runbook action taken at a moment (repeatable), e.g. --action revert-deploy@15m.
        #[arg(long = "action", value_name = "NAME@DURATION")]
        actions: Vec<String>,
        /// Seed of both runs (default: the scenario's).
        #[arg(long)]
        seed: Option<u64>,
        /// Output format (text or json).
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Print an editable copy of a bundled scenario, with its comments (`cascade new --from
    /// retry-storm > my.toml`); `cascade run my.toml` and `cascade check my.toml` accept it.
    New {
        /// The bundled scenario to copy.
        #[arg(long, value_name = "ID")]
        from: String,
    },
    /// Write every bundled scenario in the compact binary form the web app loads (one
    /// `<id>.bin` per scenario, and `glossary.bin`), and each file as written (`<id>.toml`, for
    /// the site's editor) into a directory; Trunk's build runs it.
    Precompile {
        /// The directory to write into (created if missing).
        out: std::path::PathBuf,
    },
    /// Run a scenario over a grid of parameter values × seeds, using every core: per cell, the
    /// share of seeds with an outage, the share that collapse (not recovered by the end, or
    /// down for the scenario's `sweep.collapse_outage_s`), the mean outage and the mean
    /// recovery time. With no `--param`, the scenario's `[sweep]` axes. `--shard I/N` runs every N-th cell (I from 1 to N) so a batch
    /// system can spread a sweep over machines; `--merge` joins the shards' CSV files.
    Sweep(SweepArgs),
    /// Measure simulation speed: medians over several runs.
    Bench {
        /// Bundled scenario ids or paths (default: all bundled).
        scenarios: Vec<String>,
        /// Runs per scenario.
        #[arg(long, default_value_t = 5)]
        runs: usize,
        /// Output format (text or json).
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
}

/// Like `print!`, but a reader that has gone away (`cascade run … | head`) ends the program
/// quietly, as a closed pipe ends other command-line tools, instead of a panic.
macro_rules! out {
    ($($arg:tt)*) => { write_stdout(format_args!($($arg)*)) };
}

/// Like `println!`, with `out!`'s handling of a closed pipe.
macro_rules! outln {
    () => { out!("\n") };
    ($($arg:tt)*) => {{ out!($($arg)*); out!("\n") }};
}

fn write_stdout(args: std::fmt::Arguments) {
    use std::io::Write;
    if let Err(err) = std::io::stdout().lock().write_fmt(args) {
        if err.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: cannot write the output: {err}");
        std::process::exit(2);
    }
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode, String> {
    match cli.command {
        Command::List { format } => list(format),
        Command::Run(args) => run_one(&args),
        Command::Check { scenarios, seeds } => {
            let seeds = seeds
                .map(|text| check::parse_seeds(&text).map_err(|e| format!("--seeds {e}")))
                .transpose()?;
            check_all(&scenarios, seeds.as_deref())
        }
        Command::Precompile { out } => precompile(&out),
        Command::New { from } => new_from(&from),
        Command::Sweep(args) if !args.merge.is_empty() => merge_sweeps(&args.merge),
        Command::Sweep(args) => sweep(&args),
        Command::Drill {
            scenario,
            actions,
            seed,
            format,
        } => drill(&scenario, &actions, seed, format),
        Command::Bench {
            scenarios,
            runs,
            format,
        } => bench(&scenarios, runs.max(1), format),
    }
}

/// Loads a bundled scenario by id, or a scenario file by path.
fn load(reference: &str) -> Result<Scenario, String> {
    let looks_like_path = reference.contains('/') || reference.ends_with(".toml");
    if !looks_like_path {
        if let Some(found) = scenario::find_bundled(reference) {
            return found.map_err(|err| err.to_string());
        }
        let ids: Vec<&str> = scenario::bundled()
            .iter()
            .map(|b| b.file_name.trim_end_matches(".toml"))
            .collect();
        if !std::path::Path::new(reference).exists() {
            return Err(format!(
                "no bundled scenario `{reference}`; bundled: {}",
                ids.join(", ")
            ));
        }
    }
    let text = read_scenario_file(reference)?;
    Scenario::parse(reference, &text).map_err(|err| err.to_string())
}

/// The largest scenario file read: the bundled ones are 10–30 KB; more is not a scenario (and
/// `/dev/zero` would otherwise be read until memory runs out).
const MAX_SCENARIO_FILE_BYTES: u64 = 1024 * 1024;

/// Reads a scenario file, refusing one larger than [`MAX_SCENARIO_FILE_BYTES`] without reading
/// more than that.
fn read_scenario_file(path: &str) -> Result<String, String> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|err| format!("{path}: cannot read: {err}"))?;
    let mut bytes = Vec::new();
    file.take(MAX_SCENARIO_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|err| format!("{path}: cannot read: {err}"))?;
    if bytes.len() as u64 > MAX_SCENARIO_FILE_BYTES {
        return Err(format!(
            "{path}: larger than {} KB: a scenario file is a few KB of TOML",
            MAX_SCENARIO_FILE_BYTES / 1024
        ));
    }
    String::from_utf8(bytes).map_err(|_| format!("{path}: not UTF-8 text"))
}

fn all_bundled() -> Result<Vec<Scenario>, String> {
    scenario::bundled()
        .iter()
        .map(|b| Scenario::parse(b.file_name, b.source).map_err(|err| err.to_string()))
        .collect()
}

fn load_many(references: &[String]) -> Result<Vec<Scenario>, String> {
    if references.is_empty() {
        all_bundled()
    } else {
        references.iter().map(|r| load(r)).collect()
    }
}

fn drill(
    reference: &str,
    actions: &[String],
    seed: Option<u64>,
    format: Format,
) -> Result<ExitCode, String> {
    use cascade::drill::{self, DrillPlan, Taken};
    let scenario = load(reference)?;
    let plan = DrillPlan::new(&scenario).map_err(|err| err.to_string())?;
    let names: Vec<&str> = plan.names().collect();
    if names.is_empty() {
        return Err(format!(
            "{}: this scenario has no drill runbook",
            scenario.id()
        ));
    }
    let mut taken = Vec::new();
    for spec in actions {
        let (name, at) = spec.split_once('@').ok_or_else(|| {
            format!(
                "--action {spec}: expected NAME@DURATION, like {}@10m",
                names[0]
            )
        })?;
        if !names.contains(&name) {
            return Err(format!(
                "--action {spec}: there is no runbook action `{name}`; this drill's actions are: {}",
                names.join(", ")
            ));
        }
        let at_us = parse_duration(at).map_err(|err| format!("--action {spec}: {err}"))?;
        let end_us = cascade::time::s_to_us(scenario.file.scenario.duration_s);
        if at_us == 0 || at_us >= end_us {
            return Err(format!(
                "--action {spec}: expected a moment after the start and before the end ({})",
                format_clock(end_us)
            ));
        }
        taken.push(Taken {
            name: name.to_string(),
            at_us,
        });
    }
    let seed = seed.unwrap_or(scenario.file.scenario.seed);
    let yours = plan.run(seed, &taken).map_err(|err| err.to_string())?;
    let mut documented = Simulation::new(
        &scenario.with_fixes(&[]).map_err(|err| err.to_string())?,
        seed,
    );
    documented.run_to_end().map_err(|err| err.to_string())?;
    let (mine, theirs) = (
        drill::impact(yours.sim().metrics()),
        drill::impact(documented.metrics()),
    );
    let alerts = &scenario.file.drill.alerts;
    let pages = drill::pages(yours.sim().metrics(), alerts);
    let recorded = DrillPlan::documented(&scenario);
    match format {
        Format::Json => {
            let list = |taken: &[Taken]| -> Vec<Value> {
                taken
                    .iter()
                    .map(|t| json!({ "name": t.name, "at_s": us_to_s(t.at_us) }))
                    .collect()
            };
            let report = json!({
                "scenario": scenario.id(),
                "seed": seed,
                "actions": list(&taken),
                "yours": { "impact_minutes": mine.impact_minutes, "failed_requests": mine.failed_requests },
                "documented": { "impact_minutes": theirs.impact_minutes, "failed_requests": theirs.failed_requests },
                "documented_actions": list(&recorded),
                "pages": pages.iter().map(|p| json!({
                    "alert": alerts[p.alert].name, "fired_at_s": p.fired_at_s, "resolved_at_s": p.resolved_at_s,
                })).collect::<Vec<_>>(),
            });
            outln!("{}", serde_json::to_string_pretty(&report).expect("JSON"));
        }
        _ => {
            let m = &scenario.file.scenario;
            outln!("{} — {} (drill, seed {seed})", m.id, m.title);
            let line = |taken: &[Taken]| {
                if taken.is_empty() {
                    return "none".to_string();
                }
                taken
                    .iter()
                    .map(|t| format!("{} at {}", t.name, format_clock(t.at_us)))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            outln!("your actions:       {}", line(&taken));
            outln!("documented actions: {}", line(&recorded));
            outln!(
                "{:<16} {:>22} {:>16}",
                "",
                "customer-impact min",
                "requests failed"
            );
            outln!(
                "{:<16} {:>22.1} {:>16.0}",
                "your run",
                mine.impact_minutes,
                mine.failed_requests
            );
            outln!(
                "{:<16} {:>22.1} {:>16.0}",
                "as it happened",
                theirs.impact_minutes,
                theirs.failed_requests
            );
            for p in &pages {
                let resolved = p.resolved_at_s.map_or(String::new(), |r| {
                    format!(" (resolved {})", format_clock(cascade::time::s_to_us(r)))
                });
                outln!(
                    "paged at {}: {}{resolved}",
                    format_clock(cascade::time::s_to_us(p.fired_at_s)),
                    alerts[p.alert].name
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints a bundled scenario's file as it is in `scenarios/`, under a header saying where it
/// came from and how to run it.
fn new_from(id: &str) -> Result<ExitCode, String> {
    let file_name = format!("{id}.toml");
    let Some(bundled) = scenario::bundled()
        .iter()
        .find(|b| b.file_name == file_name)
    else {
        let ids: Vec<&str> = scenario::bundled()
            .iter()
            .map(|b| b.file_name.trim_end_matches(".toml"))
            .collect();
        return Err(format!(
            "--from: no bundled scenario `{id}`; bundled: {}",
            ids.join(", ")
        ));
    };
    outln!(
        "# An editable copy of the bundled scenario `{id}` (written by `cascade new --from {id}`)."
    );
    outln!(
        "# Change it, then: cascade check FILE; cascade run FILE. scenarios/README.md documents every field."
    );
    outln!();
    out!("{}", bundled.source);
    Ok(ExitCode::SUCCESS)
}

fn sweep(args: &SweepArgs) -> Result<ExitCode, String> {
    use cascade::sweep::{self, Axis};
    let reference = args
        .scenario
        .as_deref()
        .ok_or("sweep: name a scenario (or give --merge FILES)")?;
    let scenario = load(reference)?;
    let axes: Vec<Axis> = if args.params.is_empty() {
        if !(1..=1_000).contains(&args.steps) {
            return Err("--steps: expected 1 to 1000".into());
        }
        let axes = sweep::declared_axes(&scenario, args.steps);
        if axes.is_empty() {
            return Err(format!(
                "{reference} declares no parameters: give the axes with --param PATH=FROM..TO:STEPS"
            ));
        }
        axes
    } else {
        args.params
            .iter()
            .map(|p| Axis::parse(p).map_err(|e| format!("--param {e}")))
            .collect::<Result<_, _>>()?
    };
    let cells = sweep::cell_count(&axes);
    if cells > sweep::MAX_CELLS {
        return Err(format!(
            "{cells} cells: a sweep has at most {} (fewer steps, or more shards of a smaller grid)",
            sweep::MAX_CELLS
        ));
    }
    if !(1..=sweep::MAX_SEEDS).contains(&args.seeds) {
        return Err(format!("--seeds: expected 1 to {}", sweep::MAX_SEEDS));
    }
    let (shard, shards) = match &args.shard {
        None => (1, 1),
        Some(text) => {
            let parsed = text
                .split_once('/')
                .and_then(|(i, n)| Some((i.parse::<usize>().ok()?, n.parse::<usize>().ok()?)));
            match parsed {
                Some((i, n)) if n >= 1 && (1..=n).contains(&i) => (i, n),
                _ => return Err(format!("--shard `{text}`: expected I/N with I from 1 to N")),
            }
        }
    };
    // The first and last cells are checked before anything runs, with the values the cells
    // run with: a bad path or value fails fast.
    for cell in [0, cells - 1] {
        scenario
            .variant_with_numbers(&args.fixes, &sweep::overrides(&axes, cell))
            .map_err(|e| e.to_string())?;
    }
    let mine: Vec<usize> = (0..cells).filter(|c| c % shards == shard - 1).collect();
    let seeds: Vec<u64> = (1..=args.seeds as u64).collect();
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .clamp(1, 256);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: std::sync::Mutex<Vec<Option<Result<sweep::Cell, String>>>> =
        std::sync::Mutex::new(vec![None; mine.len()]);
    std::thread::scope(|scope| {
        for _ in 0..threads.min(mine.len().max(1)) {
            scope.spawn(|| {
                loop {
                    let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(&cell) = mine.get(k) else { break };
                    let result = sweep::run_cell(&scenario, &args.fixes, &axes, cell, &seeds);
                    results.lock().expect("no thread panicked")[k] = Some(result);
                }
            });
        }
    });
    let results = results.into_inner().expect("no thread panicked");
    let mut done = Vec::with_capacity(results.len());
    for result in results {
        done.push(result.expect("every cell ran")?);
    }
    match args.format {
        Format::Json => {
            let cells: Vec<Value> = done
                .iter()
                .map(|c| {
                    json!({
                        "cell": c.cell, "values": c.values, "seeds": c.seeds,
                        "degraded": c.degraded, "collapsed": c.collapsed,
                        "collapse_probability": c.collapse_probability(),
                        "outage_s_mean": c.outage_s_mean,
                        "recovery_s_mean": c.recovery_s_mean,
                    })
                })
                .collect();
            let axes: Vec<Value> = axes
                .iter()
                .map(|a| json!({"path": a.path, "from": a.from, "to": a.to, "steps": a.steps}))
                .collect();
            let out = json!({
                "scenario": scenario.id(), "fixes": args.fixes, "seeds": args.seeds,
                "shard": format!("{shard}/{shards}"), "axes": axes, "cells": cells,
            });
            outln!(
                "{}",
                serde_json::to_string_pretty(&out).map_err(|e| e.to_string())?
            );
        }
        _ => {
            outln!(
                "{}",
                cascade::sweep::csv_spec(scenario.id(), &axes, args.seeds, &args.fixes)
            );
            outln!("# shard: {shard}/{shards}");
            outln!("{}", cascade::sweep::csv_header(&axes));
            for cell in &done {
                outln!("{}", cascade::sweep::csv_row(cell));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Joins shards' CSV files: the same sweep, no cell twice, every cell present.
fn merge_sweeps(files: &[String]) -> Result<ExitCode, String> {
    let mut spec: Option<String> = None;
    let mut header: Option<String> = None;
    let mut rows: Vec<(usize, String)> = Vec::new();
    for file in files {
        let text = read_scenario_file(file)?;
        let mut lines = text.lines();
        let (Some(first), Some(_shard), Some(head)) = (lines.next(), lines.next(), lines.next())
        else {
            return Err(format!("{file}: not the CSV of a cascade sweep"));
        };
        if !first.starts_with("# sweep: ") {
            return Err(format!("{file}: not the CSV of a cascade sweep"));
        }
        match &spec {
            None => spec = Some(first.to_string()),
            Some(s) if s != first => {
                return Err(format!(
                    "{file}: another sweep ({first}) than the first file's ({s})"
                ));
            }
            Some(_) => {}
        }
        header.get_or_insert_with(|| head.to_string());
        for line in lines.filter(|l| !l.trim().is_empty()) {
            let cell: usize = line
                .split(',')
                .next()
                .and_then(|c| c.parse().ok())
                .ok_or_else(|| format!("{file}: a row without a cell number: {line}"))?;
            if rows.iter().any(|(c, _)| *c == cell) {
                return Err(format!("{file}: cell {cell} is in two files"));
            }
            rows.push((cell, line.to_string()));
        }
    }
    let spec = spec.ok_or("--merge: no files")?;
    let cells: usize = spec
        .split(" --param ")
        .skip(1)
        .map(|p| cascade::sweep::Axis::parse(p.split(" --").next().unwrap_or(p)).map(|a| a.steps))
        .collect::<Result<Vec<_>, _>>()?
        .iter()
        .product();
    if rows.len() != cells {
        return Err(format!(
            "{} of the sweep's {cells} cells are here: is a shard missing?",
            rows.len()
        ));
    }
    rows.sort_by_key(|(c, _)| *c);
    outln!("{spec}");
    outln!("# shard: 1/1");
    outln!("{}", header.unwrap_or_default());
    for (_, row) in rows {
        outln!("{row}");
    }
    Ok(ExitCode::SUCCESS)
}

fn precompile(out: &std::path::Path) -> Result<ExitCode, String> {
    std::fs::create_dir_all(out)
        .map_err(|err| format!("{}: cannot create: {err}", out.display()))?;
    for scenario in all_bundled()? {
        let stem = scenario.source_name().trim_end_matches(".toml");
        let path = out.join(format!("{stem}.bin"));
        std::fs::write(&path, scenario.precompile())
            .map_err(|err| format!("{}: cannot write: {err}", path.display()))?;
    }
    // The files as written, comments and all: what the site's editor copies ("Edit a copy").
    for bundled in scenario::bundled() {
        let path = out.join(bundled.file_name);
        std::fs::write(&path, bundled.source)
            .map_err(|err| format!("{}: cannot write: {err}", path.display()))?;
    }
    let glossary =
        cascade::scenario::glossary::Glossary::parse(cascade::scenario::glossary::SOURCE)
            .and_then(|g| g.precompile())
            .map_err(|err| format!("scenarios/glossary.toml: {err}"))?;
    let path = out.join("glossary.bin");
    std::fs::write(&path, glossary)
        .map_err(|err| format!("{}: cannot write: {err}", path.display()))?;
    Ok(ExitCode::SUCCESS)
}

fn list(format: Format) -> Result<ExitCode, String> {
    let scenarios = all_bundled()?;
    match format {
        Format::Json => {
            let items: Vec<Value> = scenarios
                .iter()
                .map(|s| {
                    let m = &s.file.scenario;
                    json!({
                        "id": m.id, "title": m.title, "organisation": m.organisation, "date": m.date,
                        "source_url": m.source_url, "duration_s": m.duration_s,
                        "fixes": s.file.fixes.keys().collect::<Vec<_>>(),
                    })
                })
                .collect();
            outln!("{}", serde_json::to_string_pretty(&items).expect("JSON"));
        }
        _ => {
            for s in &scenarios {
                let m = &s.file.scenario;
                let fixes: Vec<&str> = s.file.fixes.keys().map(String::as_str).collect();
                outln!(
                    "{:<40} {} ({}{})",
                    m.id,
                    m.title,
                    m.organisation,
                    if m.date.is_empty() {
                        String::new()
                    } else {
                        format!(", {}", m.date)
                    }
                );
                outln!(
                    "{:<40} fixes: {}",
                    "",
                    if fixes.is_empty() {
                        "(none)".to_string()
                    } else {
                        fixes.join(", ")
                    }
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn run_one(args: &RunArgs) -> Result<ExitCode, String> {
    let (fixes, sets, seed, until, format) = (
        &args.fixes,
        &args.sets,
        args.seed,
        args.until.as_deref(),
        args.format,
    );
    let scenario = load(&args.scenario)?;
    let overrides = sets
        .iter()
        .map(|s| {
            s.split_once('=')
                .map(|(p, v)| (p.trim().to_string(), v.trim().to_string()))
                .ok_or_else(|| {
                    format!("--set {s}: expected PATH=VALUE, like clients.users.rate_rps=90")
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let variant = scenario
        .variant(fixes, &overrides)
        .map_err(|err| err.to_string())?;
    let seed = seed.unwrap_or(variant.file.scenario.seed);
    let mut sim = Simulation::new(&variant, seed);
    let until_us = match until {
        Some(text) => parse_duration(text).map_err(|err| format!("--until: {err}"))?,
        None => sim.end_us(),
    };
    let mut fixes_at = Vec::new();
    for spec in &args.fixes_at {
        let (name, at) = spec.split_once('@').ok_or_else(|| {
            format!("--fix-at {spec}: expected NAME@DURATION, like single-flight@6m")
        })?;
        let at_us = parse_duration(at).map_err(|err| format!("--fix-at {spec}: {err}"))?;
        if !scenario.file.fixes.contains_key(name) {
            let known: Vec<&str> = scenario.file.fixes.keys().map(String::as_str).collect();
            return Err(format!(
                "--fix-at {spec}: there is no fix `{name}`; this scenario's fixes are: {}",
                known.join(", ")
            ));
        }
        if at_us == 0 || at_us >= sim.end_us() {
            return Err(format!(
                "--fix-at {spec}: expected a moment after the start and before the end ({})",
                format_clock(sim.end_us())
            ));
        }
        fixes_at.push((at_us, name.to_string()));
    }
    fixes_at.sort();
    for (at_us, name) in &fixes_at {
        sim.run_until((*at_us).min(until_us))
            .map_err(|err| err.to_string())?;
        if *at_us < until_us {
            sim.apply_fix_now(&scenario, name)
                .map_err(|err| format!("--fix-at {name}: {err}"))?;
        }
    }
    sim.run_until(until_us).map_err(|err| err.to_string())?;
    let totals = sim.totals();
    let metrics = sim.metrics();
    match format {
        Format::Json => {
            let mut series = Map::new();
            for (name, values) in metrics.iter() {
                series.insert(name.to_string(), json!(values));
            }
            let report = json!({
                "scenario": scenario.id(),
                "seed": seed,
                "fixes": fixes,
                "until_s": us_to_s(sim.now_us()),
                "events": sim.events(),
                "trace_hash": sim.trace_hash().hex(),
                "verdict": verdict::describe(verdict::assess(metrics), &variant.file.scenario.started_at),
                "requests": {
                    "total": totals.total, "success": totals.success, "error": totals.error,
                    "timeout": totals.timeout, "shed": totals.shed, "in_flight": totals.in_flight,
                },
                "series": series,
            });
            outln!("{}", serde_json::to_string_pretty(&report).expect("JSON"));
        }
        Format::Csv => out!("{}", metrics.to_csv()),
        Format::Text => {
            let m = &variant.file.scenario;
            outln!("{} — {}", m.id, m.title);
            outln!(
                "verdict: {}",
                verdict::describe(verdict::assess(metrics), &m.started_at)
            );
            outln!(
                "seed {seed}, fixes: {}, until {} ({} events, trace {})",
                if fixes.is_empty() {
                    "none".to_string()
                } else {
                    fixes.join(", ")
                },
                format_clock(sim.now_us()),
                sim.events(),
                sim.trace_hash().hex()
            );
            outln!(
                "requests: {} total, {} success, {} error, {} timeout, {} shed, {} in flight",
                totals.total,
                totals.success,
                totals.error,
                totals.timeout,
                totals.shed,
                totals.in_flight
            );
            let mut columns = vec![
                "t_s",
                "offered_rps",
                "success_rps",
                "timeout_rps",
                "error_rps",
                "p99_ms",
            ];
            columns.extend(m.key_series.iter().map(String::as_str));
            out!("{}", table(metrics, &columns, 12));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A fixed-width table of some series at about `rows` evenly spaced windows.
fn table(metrics: &cascade::metrics::Metrics, columns: &[&str], rows: usize) -> String {
    let mut out = String::new();
    for name in columns {
        out.push_str(&format!("{:>width$} ", name, width = name.len().max(9)));
    }
    out.push('\n');
    let len = metrics.len();
    if len == 0 {
        return out;
    }
    let step = len.div_ceil(rows).max(1);
    for row in (step - 1..len).step_by(step) {
        for name in columns {
            let value = metrics.series(name).map_or(f64::NAN, |v| v[row]);
            out.push_str(&format!("{:>width$.1} ", value, width = name.len().max(9)));
        }
        out.push('\n');
    }
    out
}

fn check_all(references: &[String], seeds: Option<&[u64]>) -> Result<ExitCode, String> {
    let scenarios = load_many(references)?;
    let (mut passed, mut failed) = (0, 0);
    for scenario in &scenarios {
        for result in check::run_on_seeds(scenario, seeds)? {
            let values: Vec<String> = result
                .seeds
                .iter()
                .map(|s| format!("seed {}: {:.2}", s.seed, s.value))
                .collect();
            let verdict = if result.passed() { "PASS" } else { "FAIL" };
            outln!(
                "{verdict} {} :: {} — {} [{}]",
                scenario.id(),
                result.name,
                result.requirement,
                values.join(", ")
            );
            if result.passed() {
                passed += 1
            } else {
                failed += 1
            }
        }
    }
    outln!("{passed} passed, {failed} failed");
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

fn bench(references: &[String], runs: usize, format: Format) -> Result<ExitCode, String> {
    let scenarios = load_many(references)?;
    let mut rows = Vec::new();
    let (mut total_events, mut total_wall_s, mut total_sim_s) = (0u64, 0.0, 0.0);
    for scenario in &scenarios {
        let variant = scenario.variant(&[], &[]).map_err(|err| err.to_string())?;
        let mut walls = Vec::new();
        let mut events = 0;
        let mut sim_s = 0.0;
        for _ in 0..runs {
            let mut sim = Simulation::new(&variant, variant.file.scenario.seed);
            let start = Instant::now();
            sim.run_to_end().map_err(|err| err.to_string())?;
            walls.push(start.elapsed().as_secs_f64());
            events = sim.events();
            sim_s = us_to_s(sim.now_us());
        }
        let wall_s = median(&mut walls);
        total_events += events;
        total_wall_s += wall_s;
        total_sim_s += sim_s;
        // One more, untimed run: the largest state (what one checkpoint costs), sampled at every
        // hundredth of the run.
        let mut sim = Simulation::new(&variant, variant.file.scenario.seed);
        let mut peak_state_bytes = sim.state_bytes();
        for i in 1..=100 {
            sim.run_until(sim.end_us() * i / 100)
                .map_err(|err| err.to_string())?;
            peak_state_bytes = peak_state_bytes.max(sim.state_bytes());
        }
        rows.push((
            scenario.id().to_string(),
            events,
            wall_s,
            sim_s,
            peak_state_bytes,
        ));
    }
    let per = |events: u64, wall: f64, sim: f64| (events as f64 / wall, sim / wall);
    match format {
        Format::Json => {
            let mut items: Vec<Value> = rows
                .iter()
                .map(|(id, events, wall, sim, state)| {
                    let (eps, speed) = per(*events, *wall, *sim);
                    json!({"scenario": id, "events": events, "wall_s": wall, "simulated_s": sim, "events_per_s": eps, "sim_s_per_wall_s": speed, "peak_state_bytes": state})
                })
                .collect();
            let (eps, speed) = per(total_events, total_wall_s, total_sim_s);
            items.push(json!({"scenario": "total", "events": total_events, "wall_s": total_wall_s, "simulated_s": total_sim_s, "events_per_s": eps, "sim_s_per_wall_s": speed}));
            outln!(
                "{}",
                serde_json::to_string_pretty(
                    &json!({"runs": runs, "statistic": "median", "results": items})
                )
                .expect("JSON")
            );
        }
        _ => {
            outln!(
                "{:<40} {:>12} {:>10} {:>14} {:>16} {:>10}",
                "scenario",
                "events",
                "wall ms",
                "events/s",
                "sim s / wall s",
                "state MB"
            );
            let print = |id: &str, events: u64, wall: f64, sim: f64, state: String| {
                let (eps, speed) = per(events, wall, sim);
                outln!(
                    "{id:<40} {events:>12} {:>10.2} {eps:>14.0} {speed:>16.0} {state:>10}",
                    wall * 1e3
                );
            };
            for (id, events, wall, sim, state) in &rows {
                let state = format!("{:.1}", *state as f64 / 1_048_576.0);
                print(id, *events, *wall, *sim, state);
            }
            print(
                "total",
                total_events,
                total_wall_s,
                total_sim_s,
                String::new(),
            );
            outln!(
                "(median of {runs} runs per scenario, release build recommended; state MB: the \
                 largest run state, i.e. the size of one checkpoint)"
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
