//! Each kind of malformed scenario gets its own clear message naming the file, line and field.

use cascade::scenario::{Scenario, ScenarioError};

const GOOD: &str = r#"[scenario]
id = "tiny"
title = "Tiny"
duration_s = 10

[clients.users]
target = "lb"
rate_rps = 10

[load_balancers.lb]
backends = ["api"]

[services.api]
workers = 2
endpoints.default.service_time = { distribution = "constant", ms = 10 }

[fixes.more-workers]
description = "More workers."
set = { "services.api.workers" = 8 }
"#;

fn error(text: &str) -> ScenarioError {
    Scenario::parse("tiny.toml", text).expect_err("should be refused")
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .expect("needle in text")
        + 1
}

#[test]
fn the_good_scenario_parses() {
    Scenario::parse("tiny.toml", GOOD).unwrap();
}

#[test]
fn syntax_errors_name_the_line() {
    let text = GOOD.replace("rate_rps = 10", "rate_rps = = 10");
    let err = error(&text);
    assert_eq!(err.file, "tiny.toml");
    assert_eq!(err.location.unwrap().line, line_of(&text, "rate_rps"));
    assert!(err.to_string().starts_with("tiny.toml:8:"), "{err}");
}

#[test]
fn unknown_fields_are_refused_with_their_path() {
    let text = GOOD.replace("rate_rps = 10", "rate_rps = 10\nretries = 3");
    let err = error(&text);
    assert!(err.message.contains("unknown field `retries`"), "{err}");
    assert_eq!(err.location.unwrap().line, line_of(&text, "retries"));
    assert!(
        err.path.as_deref().unwrap().starts_with("clients.users"),
        "{err}"
    );
}

#[test]
fn wrong_types_say_what_was_expected() {
    let text = GOOD.replace("workers = 2", "workers = \"two\"");
    let err = error(&text);
    assert_eq!(
        err.location.unwrap().line,
        line_of(&text, "workers = \"two\"")
    );
    assert!(err.message.contains("invalid type"), "{err}");
}

#[test]
fn unknown_component_references_are_refused() {
    let text = GOOD.replace("backends = [\"api\"]", "backends = [\"apii\"]");
    let err = error(&text);
    assert_eq!(err.path.as_deref(), Some("load_balancers.lb.backends.0"));
    assert!(err.message.contains("`apii` is not a service"), "{err}");
    assert_eq!(err.location.unwrap().line, line_of(&text, "backends"));
}

#[test]
fn wiring_cycles_are_refused() {
    let text = GOOD.replace(
        "[load_balancers.lb]\nbackends = [\"api\"]",
        "[load_balancers.lb]\nbackends = [\"edge\"]\n\n[load_balancers.edge]\nbackends = [\"lb\"]",
    );
    let err = error(&text);
    assert!(err.message.contains("cycle"), "{err}");
    assert!(
        err.message.contains("edge → lb → edge") || err.message.contains("lb → edge → lb"),
        "{err}"
    );
}

#[test]
fn negative_and_absurd_values_are_refused() {
    let err = error(&GOOD.replace("rate_rps = 10", "rate_rps = -5"));
    assert_eq!(err.path.as_deref(), Some("clients.users.rate_rps"));
    assert!(err.message.contains("expected a value from 0"), "{err}");
    let err = error(&GOOD.replace("rate_rps = 10", "rate_rps = 1e9"));
    assert!(err.message.contains("100000"), "{err}");
    let err = error(&GOOD.replace("duration_s = 10", "duration_s = 1000000"));
    assert_eq!(err.path.as_deref(), Some("scenario.duration_s"));
    let err = error(&GOOD.replace("workers = 2", "workers = 0"));
    assert_eq!(err.path.as_deref(), Some("services.api.workers"));
}

#[test]
fn size_limits_are_enforced_with_a_message() {
    let err = error(&GOOD.replace("duration_s = 10", "duration_s = 86400\nwindow_ms = 10"));
    assert!(err.message.contains("windows"), "{err}");
}

#[test]
fn fixes_that_patch_missing_fields_are_refused() {
    let text = GOOD.replace(
        "\"services.api.workers\" = 8",
        "\"services.api.wokers\" = 8",
    );
    let err = error(&text);
    assert!(err.message.contains("fix `more-workers`"), "{err}");
    assert!(
        err.message.contains("`services.api.wokers` does not exist"),
        "{err}"
    );
    assert_eq!(err.location.unwrap().line, line_of(&text, "set = {"));
}

#[test]
fn fixes_that_patch_with_the_wrong_type_are_refused() {
    let err = error(&GOOD.replace(
        "\"services.api.workers\" = 8",
        "\"services.api.workers\" = \"eight\"",
    ));
    assert!(
        err.message.contains("expects an integer, not a string"),
        "{err}"
    );
}

#[test]
fn overrides_name_the_path_and_value() {
    let scenario = Scenario::parse("tiny.toml", GOOD).unwrap();
    let err = scenario
        .variant(&[], &[("services.api.nope".into(), "3".into())])
        .unwrap_err();
    assert!(
        err.to_string().contains("--set services.api.nope=3"),
        "{err}"
    );
    let err = scenario.variant(&["no-such-fix".into()], &[]).unwrap_err();
    assert!(
        err.message.contains("there is no fix `no-such-fix`"),
        "{err}"
    );
    assert!(err.message.contains("more-workers"), "{err}");
    let err = scenario
        .variant(&[], &[("clients.users.rate_rps".into(), "-1".into())])
        .unwrap_err();
    assert!(err.message.contains("expected a value from 0"), "{err}");
}

#[test]
fn missing_required_fields_are_named() {
    let err = error(&GOOD.replace("title = \"Tiny\"\n", ""));
    assert!(err.message.contains("missing field `title`"), "{err}");
}

#[test]
fn unknown_timeline_targets_and_series_are_refused() {
    let text = format!(
        "{GOOD}\n[[timeline]]\nat_s = 1\naction = \"stop_accepting\"\ntarget = \"api#3\"\n"
    );
    let err = error(&text);
    assert_eq!(err.path.as_deref(), Some("timeline.0.target"));
    assert!(err.message.contains("instance number below 1"), "{err}");
    let text = format!(
        "{GOOD}\n[[beats]]\nat_s = 1\ntitle = \"t\"\ncaption = \"c\"\nwatch = \"nonsense_rps\"\n"
    );
    let err = error(&text);
    assert!(err.message.contains("is not a series"), "{err}");
}

#[test]
fn cache_sizes_and_jitter_are_bounded() {
    let with_cache = |extra: &str| format!("{GOOD}\n[caches.c]\nttl_s = 10\n{extra}\n");
    Scenario::parse("tiny.toml", &with_cache("keys = 1000")).unwrap();
    let err = error(&with_cache("keys = 4000000000"));
    assert_eq!(err.path.as_deref(), Some("caches.c.keys"));
    assert!(err.message.contains("at most 1000000"), "{err}");
    let err = error(&with_cache("ttl_jitter = 1.5"));
    assert_eq!(err.path.as_deref(), Some("caches.c.ttl_jitter"));
}

#[test]
fn retry_budgets_and_circuit_breakers_are_bounded() {
    let client = |extra: &str| GOOD.replace("rate_rps = 10", &format!("rate_rps = 10\n{extra}"));
    Scenario::parse(
        "tiny.toml",
        &client("retry_budget_percent = 10\nbreaker_window = 50"),
    )
    .unwrap();
    let text = client("breaker_window = 20000000");
    let err = error(&text);
    assert_eq!(err.path.as_deref(), Some("clients.users.breaker_window"));
    assert!(err.message.contains("at most 10000"), "{err}");
    assert_eq!(err.location.unwrap().line, line_of(&text, "breaker_window"));
    let err = error(&client("retry_budget_percent = -1"));
    assert_eq!(
        err.path.as_deref(),
        Some("clients.users.retry_budget_percent")
    );
    let err = error(&client("breaker_failure_percent = 0"));
    assert_eq!(
        err.path.as_deref(),
        Some("clients.users.breaker_failure_percent")
    );
    let err = error(&client("retry_budget_burst = 0.5"));
    assert_eq!(
        err.path.as_deref(),
        Some("clients.users.retry_budget_burst")
    );
}

#[test]
fn adaptive_limits_are_bounded() {
    let service = |extra: &str| GOOD.replace("workers = 2", &format!("workers = 2\n{extra}"));
    Scenario::parse("tiny.toml", &service("adaptive_limit_target_ms = 300")).unwrap();
    let err = error(&service("adaptive_limit_decrease = 1.5"));
    assert_eq!(
        err.path.as_deref(),
        Some("services.api.adaptive_limit_decrease")
    );
    assert!(err.message.contains("below 1"), "{err}");
    let err = error(&service("adaptive_limit_min = 0"));
    assert_eq!(err.path.as_deref(), Some("services.api.adaptive_limit_min"));
}

#[test]
fn deploys_name_real_services_and_deploy_actions_name_real_deploys() {
    let deploy = |fields: &str| {
        format!(
            "{GOOD}\n[services.api-2]\nendpoints.default.service_time = {{ distribution = \"constant\", ms = 1 }}\n\n[deploys.d]\n{fields}\n"
        )
    };
    let good =
        "service = \"api-2\"\nreplaces = \"api\"\nbalancer = \"lb\"\ninstances = 2\ndeadline_s = 5";
    Scenario::parse("tiny.toml", &deploy(good)).unwrap();
    let err = error(&deploy(&good.replace("\"api-2\"", "\"nope\"")));
    assert_eq!(err.path.as_deref(), Some("deploys.d.service"));
    let err = error(&deploy(
        &good.replace("balancer = \"lb\"", "balancer = \"api\""),
    ));
    assert_eq!(err.path.as_deref(), Some("deploys.d.balancer"));
    let err = error(&deploy(&good.replace("deadline_s = 5", "deadline_s = 0")));
    assert_eq!(err.path.as_deref(), Some("deploys.d.deadline_s"));
    let text = format!(
        "{}\n[[timeline]]\nat_s = 1\naction = \"deploy\"\ntarget = \"e\"\n",
        deploy(good)
    );
    let err = error(&text);
    assert_eq!(err.path.as_deref(), Some("timeline.0.target"));
    assert!(err.message.contains("not a deploy"), "{err}");
}

#[test]
fn kill_queries_names_a_datastore_and_one_of_its_queries() {
    let with_db = format!(
        "{GOOD}\n[datastores.db]\nqueries.q.cost = {{ distribution = \"constant\", ms = 1 }}\n"
    );
    let kill = |target: &str| {
        format!(
            "{with_db}\n[[timeline]]\nat_s = 1\naction = \"kill_queries\"\ntarget = \"{target}\"\n"
        )
    };
    Scenario::parse("tiny.toml", &kill("db")).unwrap();
    Scenario::parse("tiny.toml", &kill("db#q")).unwrap();
    let err = error(&kill("api"));
    assert_eq!(err.path.as_deref(), Some("timeline.0.target"));
    assert!(err.message.contains("not a datastore"), "{err}");
    let err = error(&kill("db#nope"));
    assert!(err.message.contains("has no query `nope`"), "{err}");
}

#[test]
fn a_beat_highlights_only_components_and_calls_that_exist() {
    let beat = "\n[[beats]]\nat_s = 1\ntitle = \"t\"\ncaption = \"c\"\nhighlight = [\"users->lb\", \"lb->db\"]\n";
    let text = format!("{GOOD}{beat}");
    let err = error(&text);
    assert_eq!(err.path.as_deref(), Some("beats.0.highlight.1"), "{err}");
    assert!(
        err.message
            .contains("`lb->db` is neither a component nor a call"),
        "{err}"
    );
    assert!(
        err.message.contains("lb->api"),
        "the calls that exist are listed: {err}"
    );
    assert_eq!(err.location.unwrap().line, line_of(&text, "highlight"));
    // The calls and components as written are fine.
    Scenario::parse("tiny.toml", &text.replace("lb->db", "lb->api")).unwrap();
    Scenario::parse("tiny.toml", &text.replace("lb->db", "api")).unwrap();
}

#[test]
fn series_labels_name_series_the_run_makes() {
    let text = GOOD.replace(
        "duration_s = 10",
        "duration_s = 10\nseries_labels.\"api.cpu_pct\" = \"API CPU\"",
    );
    let err = error(&text);
    assert_eq!(
        err.path.as_deref(),
        Some("scenario.series_labels.api.cpu_pct"),
        "{err}"
    );
    let text = GOOD.replace(
        "duration_s = 10",
        "duration_s = 10\nseries_labels.\"api.queue_depth_req\" = \"API queue\"\ndifficulty = \"expert\"",
    );
    let err = error(&text);
    assert!(err.message.contains("primer"), "{err}");
    Scenario::parse("tiny.toml", &text.replace("\"expert\"", "\"primer\"")).unwrap();
}

/// GOOD with a beat, a timeline entry, a question and a drill that are all valid.
fn trained() -> String {
    format!(
        r#"{GOOD}
[[timeline]]
at_s = 5
action = "restart"
target = "api"

[[beats]]
at_s = 1
title = "t"
caption = "c"

[[questions]]
beat = 0
prompt = "What happens next?"
choices = ["this", "that"]
answer = 1
reveal_s = 4
explanation = "Because."

[drill]
[[drill.alerts]]
name = "few successes"
series = "success_rps"
below = 5
for_s = 2

[[drill.runbook]]
name = "restart"
title = "Restart the API"
timeline = [0]

[[drill.runbook]]
name = "add-workers"
title = "Add workers"
delay_s = 3
fix = "more-workers"
"#
    )
}

#[test]
fn questions_and_drills_are_checked_with_their_path_and_line() {
    Scenario::parse("tiny.toml", &trained()).unwrap();
    let cases: [(&str, &str, &str, &str); 8] = [
        (
            "answer = 1",
            "answer = 2",
            "questions.0.answer",
            "index of the right choice",
        ),
        (
            "beat = 0",
            "beat = 3",
            "questions.0.beat",
            "one of the 1 beats",
        ),
        (
            "reveal_s = 4",
            "reveal_s = 0.5",
            "questions.0.reveal_s",
            "from the question's beat",
        ),
        (
            "below = 5",
            "below = 5\nabove = 9",
            "drill.alerts.0.above",
            "exactly one of `above` and `below`",
        ),
        (
            "series = \"success_rps\"",
            "series = \"sucess_rps\"",
            "drill.alerts.0.series",
            "not a series",
        ),
        (
            "fix = \"more-workers\"",
            "fix = \"more-workers\"\ntimeline = [0]",
            "drill.runbook.1.fix",
            "exactly one of",
        ),
        (
            "fix = \"more-workers\"",
            "fix = \"less-workers\"",
            "drill.runbook.1.fix",
            "no fix `less-workers`",
        ),
        (
            "timeline = [0]\n\n",
            "timeline = [0]\n\n[[drill.runbook]]\nname = \"again\"\ntitle = \"Again\"\ntimeline = [0]\n\n",
            "drill.runbook.1.timeline.0",
            "already the runbook action `restart`",
        ),
    ];
    for (from, to, path, message) in cases {
        let text = trained().replacen(from, to, 1);
        assert_ne!(text, trained(), "{from}");
        let err = error(&text);
        assert_eq!(err.path.as_deref(), Some(path), "{err}");
        assert!(err.message.contains(message), "{err}");
        assert!(err.location.is_some(), "{err}: a line to point at");
    }
}

#[test]
fn a_deep_mesh_of_balancers_is_checked_in_linear_time() {
    // 40 layers of two balancers, each sending to both of the next: 2^40 paths, one service.
    let mut text = String::from(
        "[scenario]\nid = \"mesh\"\ntitle = \"Mesh\"\nduration_s = 10\n\n\
         [clients.users]\ntarget = \"l0a\"\nrate_rps = 1\n\n\
         [services.api]\nendpoints.default = {}\n",
    );
    for layer in 0..40 {
        let next = if layer == 39 {
            "[\"api\"]".to_string()
        } else {
            format!("[\"l{}a\", \"l{}b\"]", layer + 1, layer + 1)
        };
        for side in ["a", "b"] {
            text.push_str(&format!(
                "\n[load_balancers.l{layer}{side}]\nbackends = {next}\n"
            ));
        }
    }
    let scenario = Scenario::parse("mesh.toml", &text).unwrap();
    assert_eq!(
        cascade::scenario::reachable_services(&scenario.file, "l0a"),
        ["api"]
    );
}

/// A scenario of `duration_s` with one client at `rate_rps` into `api`, plus `extra` TOML.
fn sized(duration_s: f64, rate_rps: f64, extra: &str) -> String {
    format!(
        "[scenario]\nid = \"big\"\ntitle = \"Big\"\nduration_s = {duration_s}\n\n\
         [clients.users]\ntarget = \"api\"\nrate_rps = {rate_rps}\n\n\
         [services.api]\nendpoints.default = {{}}\n{extra}"
    )
}

#[test]
fn a_run_that_would_take_hours_is_refused_up_front_naming_the_client() {
    // One client at 100k requests/s for a day: about 2.3 hours of computing.
    let err = error(&sized(86_400.0, 100_000.0, ""));
    assert_eq!(err.path.as_deref(), Some("clients.users"), "{err}");
    assert!(err.message.contains("billion steps"), "{err}");
    assert!(err.message.contains("lower its rate"), "{err}");
    // An hour at 100 requests/s is fine.
    Scenario::parse("ok.toml", &sized(3_600.0, 100.0, "")).unwrap();
    // The highest rate counts, also when a timeline `set` reaches it.
    let late = sized(
        86_400.0,
        1.0,
        "\n[[timeline]]\nat_s = 60\naction = \"set\"\nset = { \"clients.users.rate_rps\" = 50000 }\n",
    );
    assert_eq!(error(&late).path.as_deref(), Some("clients.users"));
}

#[test]
fn retries_and_fan_out_count_in_the_work() {
    // 100 requests/s for an hour is 360,000 requests; 20 layers of services each calling the
    // next twice make each one 2^20 calls. Costing the mesh takes linear time, and it is refused.
    let mut extra = String::new();
    for layer in 0..20 {
        extra.push_str(&format!(
            "\n[services.s{layer}]\nendpoints.default.steps = [{{ kind = \"call\", target = \"s{next}\" }}, {{ kind = \"call\", target = \"s{next}\" }}]\n",
            next = layer + 1
        ));
    }
    extra.push_str("\n[services.s20]\nendpoints.default = {}\n");
    let text = sized(3_600.0, 100.0, &extra).replace("target = \"api\"", "target = \"s0\"");
    let err = error(&text);
    assert!(err.message.contains("billion steps"), "{err}");
}

#[test]
fn series_that_would_fill_gigabytes_are_refused() {
    // 50 idle services over a day in 864 ms windows: 100,000 windows of 460 series.
    let mut extra = String::new();
    for i in 0..50 {
        extra.push_str(&format!("\n[services.idle{i}]\nendpoints.default = {{}}\n"));
    }
    let text = sized(86_400.0, 0.01, &extra).replace(
        "duration_s = 86400\n",
        "duration_s = 86400\nwindow_ms = 864\n",
    );
    let err = error(&text);
    assert_eq!(err.path.as_deref(), Some("scenario.window_ms"), "{err}");
    assert!(err.message.contains("widen the window"), "{err}");
}

#[test]
fn component_counts_and_their_sizes_are_bounded_in_total() {
    let mut many = String::new();
    for i in 0..150 {
        many.push_str(&format!(
            "\n[dependencies.d{i}]\nlatency = {{ distribution = \"constant\", ms = 1 }}\n"
        ));
    }
    let err = error(&sized(10.0, 1.0, &many));
    assert!(err.message.contains("at most 100"), "{err}");

    let mut caches = String::new();
    for i in 0..5 {
        caches.push_str(&format!("\n[caches.c{i}]\nttl_s = 1\nkeys = 1000000\n"));
    }
    let err = error(&sized(10.0, 1.0, &caches));
    assert_eq!(err.path.as_deref(), Some("caches"), "{err}");

    let mut crowds = String::new();
    for i in 0..3 {
        crowds.push_str(&format!(
            "\n[clients.crowd{i}]\nkind = \"connections\"\ntarget = \"api\"\npopulation = 200000\n"
        ));
    }
    let err = error(&sized(10.0, 1.0, &crowds).replace(
        "endpoints.default = {}",
        "endpoints.default = {}\nendpoints.connect = {}",
    ));
    assert_eq!(err.path.as_deref(), Some("clients"), "{err}");
    assert!(err.message.contains("lower the populations"), "{err}");
}

#[test]
fn thousands_of_fixes_or_timeline_entries_are_refused_before_each_is_checked() {
    let mut fixes = String::new();
    for i in 0..3_000 {
        fixes.push_str(&format!(
            "\n[fixes.f{i}]\ndescription = \"More workers.\"\nset = {{ \"services.api.workers\" = 8 }}\n"
        ));
    }
    let err = error(&sized(10.0, 1.0, &fixes));
    assert_eq!(err.path.as_deref(), Some("fixes"), "{err}");
    assert!(err.message.contains("at most 32"), "{err}");

    let mut entries = String::new();
    for i in 0..300 {
        entries.push_str(&format!(
            "\n[[timeline]]\nat_s = {}\naction = \"set\"\nset = {{ \"services.api.workers\" = 2 }}\n",
            i as f64 / 1000.0
        ));
    }
    let err = error(&sized(10.0, 1.0, &entries));
    assert_eq!(err.path.as_deref(), Some("timeline"), "{err}");
}

#[test]
fn deep_nesting_and_duplicate_keys_name_their_line_and_key() {
    let dotted = format!(
        "{GOOD}\n{} = 1\n",
        (0..200)
            .map(|i| format!("a{i}"))
            .collect::<Vec<_>>()
            .join(".")
    );
    let err = error(&dotted);
    assert!(err.message.contains("nested too deeply"), "{err}");
    assert_eq!(
        err.location.map(|at| at.line),
        Some(line_of(&dotted, "a0.a1.a2"))
    );
    let arrays = format!("{GOOD}\nx = {}{}\n", "[".repeat(300), "]".repeat(300));
    let err = error(&arrays);
    assert!(err.message.contains("nested too deeply"), "{err}");
    assert_eq!(
        err.location.map(|at| at.line),
        Some(line_of(&arrays, "x = [[["))
    );

    let twice = GOOD.replace(
        "rate_rps = 10\n",
        "rate_rps = 10\ntimeout_ms = 500\nrate_rps = 20\n",
    );
    let err = error(&twice);
    assert!(err.message.contains("duplicate key `rate_rps`"), "{err}");
    assert_eq!(
        err.location.map(|at| at.line),
        Some(line_of(&twice, "rate_rps = 20"))
    );

    // An enum set to a word it does not know names the path and the words it knows.
    let scenario = Scenario::parse("tiny.toml", GOOD).unwrap();
    let err = scenario
        .variant(
            &[],
            &[("load_balancers.lb.policy".into(), "\"server-a\"".into())],
        )
        .unwrap_err();
    assert_eq!(
        err.path.as_deref(),
        Some("load_balancers.lb.policy"),
        "{err}"
    );
    assert!(
        err.message.contains("expected one of") && err.message.contains("server-a"),
        "{err}"
    );
}

#[test]
fn parameters_name_a_number_with_a_range_that_holds_it_and_stays_within_bounds() {
    let with = |block: &str| format!("{GOOD}\n[[parameters]]\n{block}\n");
    let err = error(&with(
        "path = \"services.api.nope\"\nlabel = \"x\"\nmin = 0\nmax = 1",
    ));
    assert_eq!(err.path.as_deref(), Some("parameters.0.path"), "{err}");
    assert!(err.message.contains("is not a number"), "{err}");
    let err = error(&with(
        "path = \"clients.users.rate_rps\"\nlabel = \"x\"\nmin = 20\nmax = 30",
    ));
    assert!(err.message.contains("own value, 10, is outside"), "{err}");
    let err = error(&with(
        "path = \"clients.users.rate_rps\"\nlabel = \"x\"\nmin = 5\nmax = 5",
    ));
    assert!(err.message.contains("min < max"), "{err}");
    let err = error(&with(
        "path = \"clients.users.rate_rps\"\nlabel = \"\"\nmin = 5\nmax = 50",
    ));
    assert_eq!(err.path.as_deref(), Some("parameters.0.label"), "{err}");
    // The top of the range would make the run far too long: refused at `max`, with why.
    let long = with("path = \"clients.users.rate_rps\"\nlabel = \"Load\"\nmin = 1\nmax = 100000")
        .replace("duration_s = 10", "duration_s = 86400");
    let err = error(&long);
    assert_eq!(err.path.as_deref(), Some("parameters.0.max"), "{err}");
    assert!(err.message.contains("billion steps"), "{err}");
    // Good ones parse.
    Scenario::parse(
        "ok.toml",
        &with("path = \"services.api.workers\"\nlabel = \"Workers\"\nunit = \"workers\"\nmin = 1\nmax = 16\nstep = 1"),
    )
    .unwrap();
}

#[test]
fn a_client_sending_nothing_down_a_chain_too_deep_to_cost_does_not_hide_the_others() {
    // A chain of 66 services is costed as "far more than any bound"; a client sending nothing
    // down it adds nothing (0 × that was a NaN that made every other client pass unchecked).
    let mut extra = String::from("\n[clients.idle]\ntarget = \"s0\"\nrate_rps = 0\n");
    for i in 0..66 {
        extra.push_str(&format!(
            "\n[services.s{i}]\nendpoints.default.steps = [{{ kind = \"call\", target = \"s{}\" }}]\n",
            i + 1
        ));
    }
    extra.push_str("\n[services.s66]\nendpoints.default = {}\n");
    let text = sized(86_400.0, 100_000.0, &extra).replace(
        "duration_s = 86400\n",
        "duration_s = 86400\nwindow_ms = 600000\n",
    );
    let err = error(&text);
    assert_eq!(err.path.as_deref(), Some("clients.users"), "{err}");
    assert!(err.message.contains("billion steps"), "{err}");
}

#[test]
fn a_file_at_every_count_bound_is_checked_in_well_under_a_second() {
    // 99 services, one client, 200 timeline sets: each set is applied and checked in turn.
    let mut extra = String::new();
    for i in 0..98 {
        extra.push_str(&format!("\n[services.s{i}]\nendpoints.default = {{}}\n"));
    }
    for i in 0..200 {
        extra.push_str(&format!(
            "\n[[timeline]]\nat_s = {}\naction = \"set\"\nset = {{ \"clients.users.rate_rps\" = {} }}\n",
            i as f64 / 100.0,
            1 + i % 7
        ));
    }
    let text = sized(10.0, 1.0, &extra);
    let started = std::time::Instant::now();
    Scenario::parse("big.toml", &text).unwrap();
    let took = started.elapsed();
    // Not a timing assertion on a noisy machine: a bound two orders above what it takes, to
    // catch a return of the quadratic (or worse) checks.
    assert!(took.as_secs_f64() < 20.0, "{took:?}");
    eprintln!("a file at the count bounds parsed and checked in {took:?}");
}

#[test]
fn sweep_axes_name_declared_parameters_and_the_collapse_threshold_fits_the_run() {
    let declared = format!(
        "{GOOD}\n[[parameters]]\npath = \"clients.users.rate_rps\"\nlabel = \"Load\"\nmin = 1\nmax = 20\n"
    );
    let good = format!(
        "{declared}\n[sweep]\naxes = [\"clients.users.rate_rps\"]\ncollapse_outage_s = 5\n"
    );
    Scenario::parse("tiny.toml", &good).unwrap_or_else(|e| panic!("{e}"));
    let err = error(&format!(
        "{declared}\n[sweep]\naxes = [\"services.api.workers\"]\n"
    ));
    assert_eq!(err.path.as_deref(), Some("sweep.axes.0"), "{err}");
    assert!(err.message.contains("not a declared parameter"), "{err}");
    assert_eq!(
        err.location.map(|l| l.line),
        Some(line_of(
            &format!("{declared}\n[sweep]\naxes = [\"services.api.workers\"]\n"),
            "axes ="
        )),
        "{err}"
    );
    let err = error(&format!(
        "{declared}\n[sweep]\naxes = [\"clients.users.rate_rps\", \"clients.users.rate_rps\"]\n"
    ));
    assert!(err.message.contains("an axis twice"), "{err}");
    let err = error(&format!("{declared}\n[sweep]\ncollapse_outage_s = 10\n"));
    assert_eq!(
        err.path.as_deref(),
        Some("sweep.collapse_outage_s"),
        "{err}"
    );
    assert!(err.message.contains("below the run's 10 s"), "{err}");
    let err = error(&format!("{declared}\n[sweep]\naxis = []\n"));
    assert!(err.message.contains("axis"), "{err}");
}
