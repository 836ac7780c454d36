//! Hostile scenarios: mutated bundled files, `--set` values and precompiled bytes go through
//! parse → validate → run under this test's allocator, which measures the peak memory of each
//! case. Nothing may panic or hang, and a scenario that is accepted runs (to its end, or to this
//! test's event cap when it is long) without going over 256 MB.
//!
//! `cargo test --test fuzz` runs `FUZZ_CASES` cases (2,000 by default) from `FUZZ_SEED`
//! (default 1) and prints what happened to them; a longer local run:
//! `FUZZ_CASES=50000 FUZZ_SEED=7 cargo test --release --test fuzz -- --nocapture`.

use cascade::scenario::{Scenario, Value, budget};
use cascade::{Limits, SimError, Simulation};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The system allocator, counting the bytes held now and their peak since the last reset.
struct Counting;

static HELD: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            let held = HELD.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(held, Ordering::Relaxed);
        }
        ptr
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        HELD.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            if new_size >= layout.size() {
                let grown = new_size - layout.size();
                let held = HELD.fetch_add(grown, Ordering::Relaxed) + grown;
                PEAK.fetch_max(held, Ordering::Relaxed);
            } else {
                HELD.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        new
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The tests of this binary measure one allocator: they take turns.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The most memory one case may use, above what was held before it.
const MAX_CASE_BYTES: usize = 256 * 1024 * 1024;
/// Scenarios estimated to need at most this many steps run to their end; longer ones stop at
/// [`EVENT_CAP`] (the bounds that keep a full run short are tested in bad_input.rs).
const RUN_TO_END_STEPS: f64 = 3.0e6;
/// Events a longer accepted scenario runs before this test moves on.
const EVENT_CAP: u64 = 300_000;
/// A case taking longer than this is a hang.
const HANG: Duration = Duration::from_secs(60);

/// splitmix64: the test's own generator, so the cases depend only on the seed.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Values that break assumptions: signs, zeros, huge and tiny numbers, wrong types.
const NASTY: &[&str] = &[
    "0",
    "-1",
    "1",
    "2",
    "0.5",
    "1e9",
    "1e300",
    "-1e300",
    "4294967296",
    "9223372036854775807",
    "-9223372036854775808",
    "nan",
    "inf",
    "-inf",
    "0.0001",
    "86400",
    "100000",
    "200000",
    "true",
    "\"\"",
    "\"<script>alert(1)</script>\"",
    "\"server-a\"",
    "[]",
    "[1, 2]",
    "{}",
];

/// One mutation of a scenario's text.
fn mutate(text: &str, others: &[&str], rng: &mut Gen) -> String {
    let lines: Vec<&str> = text.lines().collect();
    if lines.is_empty() {
        return format!("x = {}", rng.pick(NASTY));
    }
    let at = rng.below(lines.len());
    let mut out: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    match rng.below(8) {
        // A number replaced by a nasty value.
        0 | 1 => {
            let line = &lines[at];
            if let Some((key, _)) = line.split_once('=') {
                out[at] = format!("{key}= {}", rng.pick(NASTY));
            }
        }
        // A line dropped.
        2 => {
            out.remove(at);
        }
        // A line repeated.
        3 => out.insert(at, lines[at].to_string()),
        // A line from another scenario spliced in.
        4 => {
            let other: Vec<&str> = rng.pick(others).lines().collect();
            out.insert(at, rng.pick(&other).to_string());
        }
        // A byte flipped.
        5 => {
            let mut bytes = lines[at].as_bytes().to_vec();
            if !bytes.is_empty() {
                let i = rng.below(bytes.len());
                bytes[i] ^= 1 << rng.below(7);
            }
            out[at] = String::from_utf8_lossy(&bytes).into_owned();
        }
        // Every number on the line scaled up a thousandfold.
        6 => {
            out[at] = lines[at]
                .split(' ')
                .map(|word| match word.parse::<f64>() {
                    Ok(n) => format!("{}", n * 1000.0),
                    Err(_) => word.to_string(),
                })
                .collect::<Vec<_>>()
                .join(" ");
        }
        // The file cut short.
        _ => out.truncate(at),
    }
    out.join("\n")
}

/// Every leaf parameter path of a tree (`services.api.workers`, `timeline.3.at_s`).
fn leaf_paths(value: &Value, prefix: &str, out: &mut Vec<String>) {
    match value {
        Value::Table(table) => {
            for (key, child) in table {
                leaf_paths(child, &join(prefix, key), out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                leaf_paths(child, &join(prefix, &i.to_string()), out);
            }
        }
        _ => out.push(prefix.to_string()),
    }
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

#[derive(Default)]
struct Tally {
    cases: usize,
    refused: usize,
    ran_to_end: usize,
    stopped_at_cap: usize,
    stopped_at_limit: usize,
    bytes_decoded: usize,
    peak_bytes: usize,
}

/// Runs an accepted variant: to its end when it is short, else to the cap. Returns the peak
/// memory of the case above `base`.
fn run(variant: &cascade::scenario::Variant, seed: u64, tally: &mut Tally, what: &str) {
    let short = budget::estimate(&variant.file).work_steps <= RUN_TO_END_STEPS;
    let limits = Limits {
        events: if short { u64::MAX } else { EVENT_CAP },
        ..Default::default()
    };
    let started = Instant::now();
    let mut sim = Simulation::with_limits(variant, seed, limits);
    match sim.run_to_end() {
        Ok(_) => tally.ran_to_end += 1,
        Err(SimError::LimitExceeded(message)) if message.contains("events processed") => {
            assert!(!short, "{what}: a short run met the event cap: {message}");
            tally.stopped_at_cap += 1;
        }
        Err(err) => {
            assert!(!err.to_string().is_empty());
            tally.stopped_at_limit += 1;
        }
    }
    assert!(
        started.elapsed() < HANG,
        "{what}: the run took {:?}",
        started.elapsed()
    );
    // The series it made can be read back and written out.
    let csv = sim.metrics().to_csv();
    assert!(csv.starts_with("t_s"), "{what}");
}

#[test]
fn hostile_scenarios_are_refused_or_run_in_bounded_memory() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let cases: usize = std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000);
    let seed: u64 = std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let mut rng = Gen(seed);
    let sources: Vec<&str> = cascade::bundled().iter().map(|b| b.source).collect();
    let parsed: Vec<Scenario> = cascade::bundled()
        .iter()
        .map(|b| Scenario::parse(b.file_name, b.source).unwrap())
        .collect();
    let paths: Vec<Vec<String>> = parsed
        .iter()
        .map(|s| {
            let mut out = Vec::new();
            leaf_paths(&s.variant(&[], &[]).unwrap().tree, "", &mut out);
            out
        })
        .collect();
    let precompiled: Vec<Vec<u8>> = parsed.iter().map(Scenario::precompile).collect();
    let mut tally = Tally::default();
    let started = Instant::now();
    for case in 0..cases {
        let base = HELD.load(Ordering::Relaxed);
        PEAK.store(base, Ordering::Relaxed);
        let case_started = Instant::now();
        let which = rng.below(sources.len());
        let run_seed = rng.next() % 1_000;
        let what = format!("case {case} (FUZZ_SEED={seed}, scenario {which})");
        match case % 4 {
            // One to three mutations of a file's text.
            0 | 1 => {
                let mut text = sources[which].to_string();
                for _ in 0..=rng.below(3) {
                    text = mutate(&text, &sources, &mut rng);
                }
                match Scenario::parse("fuzz.toml", &text) {
                    Ok(scenario) => {
                        let variant = scenario.variant(&[], &[]).expect(&what);
                        run(&variant, run_seed, &mut tally, &what);
                    }
                    Err(err) => {
                        assert!(!err.message.is_empty(), "{what}: an empty message");
                        tally.refused += 1;
                    }
                }
            }
            // A `--set` of a nasty value on one to three of its parameters, maybe with a fix.
            2 => {
                let scenario = &parsed[which];
                let overrides: Vec<(String, String)> = (0..=rng.below(3))
                    .map(|_| (rng.pick(&paths[which]).clone(), rng.pick(NASTY).to_string()))
                    .collect();
                let fixes: Vec<String> = scenario
                    .file
                    .fixes
                    .keys()
                    .filter(|_| rng.below(3) == 0)
                    .cloned()
                    .collect();
                match scenario.variant(&fixes, &overrides) {
                    Ok(variant) => run(&variant, run_seed, &mut tally, &what),
                    Err(err) => {
                        assert!(!err.message.is_empty(), "{what}: an empty message");
                        tally.refused += 1;
                    }
                }
            }
            // Precompiled bytes with a few bits flipped or cut short: refused or decoded,
            // never a panic (the page also checks each file's checksum first).
            _ => {
                let mut bytes = precompiled[which].clone();
                if rng.below(4) == 0 {
                    bytes.truncate(rng.below(bytes.len()));
                } else {
                    for _ in 0..=rng.below(4) {
                        let i = rng.below(bytes.len());
                        bytes[i] ^= 1 << rng.below(8);
                    }
                }
                match Scenario::from_precompiled("fuzz.bin", &bytes) {
                    Ok(_) => tally.bytes_decoded += 1,
                    Err(_) => tally.refused += 1,
                }
            }
        }
        let peak = PEAK.load(Ordering::Relaxed).saturating_sub(base);
        assert!(
            peak <= MAX_CASE_BYTES,
            "{what}: used {} MB",
            peak / (1024 * 1024)
        );
        assert!(
            case_started.elapsed() < HANG,
            "{what}: took {:?}",
            case_started.elapsed()
        );
        tally.peak_bytes = tally.peak_bytes.max(peak);
        tally.cases += 1;
    }
    println!(
        "fuzz: {} cases from FUZZ_SEED={seed} in {:.1} s: {} refused with a message, {} ran to \
         their end, {} ran to the test's cap of {EVENT_CAP} events, {} stopped at an engine \
         limit, {} altered precompiled files decoded; largest case {:.1} MB (bound 256 MB)",
        tally.cases,
        started.elapsed().as_secs_f64(),
        tally.refused,
        tally.ran_to_end,
        tally.stopped_at_cap,
        tally.stopped_at_limit,
        tally.bytes_decoded,
        tally.peak_bytes as f64 / (1024.0 * 1024.0)
    );
    assert_eq!(tally.cases, cases);
    assert!(tally.refused > 0 && tally.ran_to_end + tally.stopped_at_cap > 0);
}

/// Runs `text` to its end (or to an engine limit) and returns the peak memory above what was
/// held before, with how the run ended.
fn peak_of(text: &str) -> (usize, String) {
    let base = HELD.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let scenario = Scenario::parse("bounds.toml", text).unwrap_or_else(|e| panic!("{e}"));
    let variant = scenario.variant(&[], &[]).unwrap();
    let mut sim = Simulation::new(&variant, 1);
    let ended = match sim.run_to_end() {
        Ok(_) => "ended".to_string(),
        Err(err) => err.to_string(),
    };
    drop(sim);
    (PEAK.load(Ordering::Relaxed).saturating_sub(base), ended)
}

#[test]
fn scenarios_at_the_bounds_run_within_256_mb() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let header = |duration_s: u32, window_ms: u32| {
        format!(
            "[scenario]\nid = \"bounds\"\ntitle = \"Bounds\"\nduration_s = {duration_s}\nwindow_ms = {window_ms}\n"
        )
    };
    let cases = [
        // The most series values: a day in 864 ms windows (100,000) of a small system.
        (
            "series",
            header(86_400, 864)
                + "\n[clients.users]\ntarget = \"api\"\nrate_rps = 0.05\n\
                   \n[services.api]\nendpoints.default = {}\n\
                   \n[services.other]\nendpoints.default = {}\n",
        ),
        // Every connection client allowed, all connecting within seconds.
        (
            "connections",
            header(20, 1000)
                + "\n[clients.a]\nkind = \"connections\"\ntarget = \"api\"\npopulation = 200000\nconnect_spread_s = 5\n\
                   \n[clients.b]\nkind = \"connections\"\ntarget = \"api\"\npopulation = 200000\nconnect_spread_s = 5\n\
                   \n[services.api]\nworkers = 100000\nqueue_capacity = 1000000\nendpoints.default = {}\nendpoints.connect = {}\n",
        ),
        // Every look-aside key allowed, warm.
        (
            "cache keys",
            header(10, 1000)
                + "\n[clients.users]\ntarget = \"api\"\nrate_rps = 100\nkeys = 1000000\n\
                   \n[services.api]\nendpoints.default.steps = [{ kind = \"cached\", cache = \"c\", miss_steps = 1 }, { kind = \"work\", time = { distribution = \"constant\", ms = 1 } }]\n\
                   \n[caches.c]\nttl_s = 60\nkeys = 1000000\nwarm_keys = 1000000\n\
                   \n[caches.d]\nttl_s = 60\nkeys = 1000000\nwarm_keys = 1000000\n",
        ),
        // A pile-up: the highest rate into one worker that never answers in time, no timeouts
        // short enough to let go: requests accumulate until the engine's limit stops the run.
        (
            "pile-up",
            header(60, 1000)
                + "\n[clients.users]\ntarget = \"api\"\nrate_rps = 100000\ntimeout_ms = 3600000\n\
                   \n[services.api]\nworkers = 1\nqueue_capacity = 1000000\nendpoints.default.service_time = { distribution = \"constant\", ms = 1000 }\n",
        ),
        // Work piling up inside services: each request sends four calls it does not wait for to
        // a service that cannot keep up, and waits on a fifth with an hour's timeout.
        (
            "jobs pile-up",
            header(60, 1000)
                + "\n[clients.users]\ntarget = \"front\"\nrate_rps = 50000\ntimeout_ms = 3600000\n\
                   \n[services.front]\nworkers = 100000\nqueue_capacity = 1000000\nendpoints.default.steps = [\
                   { kind = \"call\", target = \"back\", wait = false }, { kind = \"call\", target = \"back\", wait = false }, \
                   { kind = \"call\", target = \"back\", wait = false }, { kind = \"call\", target = \"back\", wait = false }, \
                   { kind = \"call\", target = \"back\", timeout_ms = 3600000 }]\n\
                   \n[services.back]\nworkers = 1\nqueue_capacity = 1000000\nendpoints.default.service_time = { distribution = \"constant\", ms = 1000 }\n",
        ),
    ];
    for (name, text) in cases {
        let started = Instant::now();
        let (peak, ended) = peak_of(&text);
        println!(
            "bounds: {name}: {:.1} MB at most, {:.1} s, {ended}",
            peak as f64 / (1024.0 * 1024.0),
            started.elapsed().as_secs_f64()
        );
        assert!(
            peak <= MAX_CASE_BYTES,
            "{name}: {} MB",
            peak / (1024 * 1024)
        );
    }
}
