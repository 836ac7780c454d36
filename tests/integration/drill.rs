//! Training material and the on-call drill: every bundled scenario asks questions and has a
//! drill; the operators' recorded decisions taken at their recorded moments give the documented
//! run's impact, and taking them earlier gives less.

use cascade::Scenario;
use cascade::Simulation;
use cascade::drill::{self, DrillPlan, Impact, Taken};
use cascade::scenario::bundled;
use cascade::time::s_to_us;

fn scenarios() -> Vec<Scenario> {
    bundled()
        .iter()
        .map(|b| Scenario::parse(b.file_name, b.source).unwrap())
        .collect()
}

fn documented_impact(scenario: &Scenario, seed: u64) -> (Impact, Simulation) {
    let mut sim = Simulation::new(&scenario.with_fixes(&[]).unwrap(), seed);
    sim.run_to_end().unwrap();
    (drill::impact(sim.metrics()), sim)
}

#[test]
fn every_bundled_scenario_asks_questions_and_has_a_drill_whose_alerts_page() {
    for scenario in scenarios() {
        let id = scenario.id().to_string();
        let file = &scenario.file;
        assert!(file.questions.len() >= 2, "{id}: at least two questions");
        assert!(
            (1..=2).contains(&file.scenario.objectives.len()),
            "{id}: one or two learning objectives"
        );
        assert!(
            file.questions.iter().any(|q| !q.curves.is_empty()),
            "{id}: a sketch question"
        );
        assert!(!file.drill.brief.is_empty(), "{id}: a brief");
        assert!(file.drill.runbook.len() >= 2, "{id}: a runbook");
        assert!(!file.drill.alerts.is_empty(), "{id}: alerts");
        // Every rule pages in the run as it happened, and none in its calm first minute (or tenth
        // of a short run).
        let (_, sim) = documented_impact(&scenario, file.scenario.seed);
        let pages = drill::pages(sim.metrics(), &file.drill.alerts);
        for (a, alert) in file.drill.alerts.iter().enumerate() {
            let first = pages.iter().find(|p| p.alert == a);
            let first = first.unwrap_or_else(|| panic!("{id}: `{}` never fires", alert.name));
            assert!(
                first.fired_at_s > (file.scenario.duration_s / 10.0).min(60.0),
                "{id}: `{}` fires at {} s, in the calm start",
                alert.name,
                first.fired_at_s
            );
        }
        DrillPlan::new(&scenario).unwrap();
    }
}

#[test]
fn the_recorded_decisions_at_their_moments_give_the_documented_impact_and_earlier_gives_less() {
    for scenario in scenarios() {
        let id = scenario.id().to_string();
        let plan = DrillPlan::new(&scenario).unwrap();
        let recorded = DrillPlan::documented(&scenario);
        let tolerance = scenario.file.drill.impact_tolerance;
        for seed in [1, 2, 3] {
            let (documented, _) = documented_impact(&scenario, seed);
            let replay = plan.run(seed, &recorded).unwrap();
            let mine = drill::impact(replay.sim().metrics());
            let off = (mine.impact_minutes - documented.impact_minutes).abs();
            assert!(
                off <= tolerance * documented.impact_minutes.max(0.1),
                "{id} seed {seed}: {mine:?} against the documented {documented:?}"
            );
            if recorded.is_empty() {
                continue;
            }
            let earlier: Vec<Taken> = recorded
                .iter()
                .map(|t| Taken {
                    name: t.name.clone(),
                    at_us: (t.at_us * 3 / 4).max(1),
                })
                .collect();
            let sooner = drill::impact(plan.run(seed, &earlier).unwrap().sim().metrics());
            assert!(
                sooner.impact_minutes < mine.impact_minutes,
                "{id} seed {seed}: acting at 3/4 of the recorded moments gives {sooner:?}, not less than {mine:?}"
            );
        }
    }
}

#[test]
fn a_fix_shipped_sooner_in_the_primer_costs_less_and_an_action_too_late_changes_nothing() {
    let scenario = Scenario::parse(
        "retry-storm.toml",
        bundled()
            .iter()
            .find(|b| b.file_name == "retry-storm.toml")
            .unwrap()
            .source,
    )
    .unwrap();
    let plan = DrillPlan::new(&scenario).unwrap();
    let at = |s: f64| {
        let taken = [Taken {
            name: "circuit-breaker".into(),
            at_us: s_to_us(s),
        }];
        drill::impact(plan.run(1, &taken).unwrap().sim().metrics())
    };
    let (sooner, later) = (at(12.0), at(30.0));
    assert!(
        sooner.impact_minutes < later.impact_minutes,
        "{sooner:?} {later:?}"
    );
    assert!(
        sooner.failed_requests < later.failed_requests,
        "{sooner:?} {later:?}"
    );
    // Its effect would come after the end: the run is the one without it.
    let none = drill::impact(plan.run(1, &[]).unwrap().sim().metrics());
    assert_eq!(at(59.0), none);
    // Unknown actions are refused by name.
    let Err(err) = plan.run(
        1,
        &[Taken {
            name: "reboot-the-internet".into(),
            at_us: 1,
        }],
    ) else {
        panic!("an unknown action was taken");
    };
    assert!(
        err.to_string()
            .contains("no runbook action `reboot-the-internet`"),
        "{err}"
    );
}

#[test]
fn an_unused_recorded_decision_never_happens() {
    // Svix's operators stopped every API instance by hand: in a drill nobody does unless the
    // trainee does, so the API keeps all its instances to the end.
    let scenario = Scenario::parse(
        "svix.toml",
        bundled()
            .iter()
            .find(|b| b.file_name.starts_with("svix"))
            .unwrap()
            .source,
    )
    .unwrap();
    let plan = DrillPlan::new(&scenario).unwrap();
    let replay = plan.run(1, &[]).unwrap();
    let healthy = replay
        .sim()
        .metrics()
        .series("api.healthy_instances_count")
        .unwrap();
    assert!(
        healthy.last().copied().unwrap() > 0.0,
        "nobody stopped the API"
    );
    let (_, documented) = documented_impact(&scenario, 1);
    let healthy = documented
        .metrics()
        .series("api.healthy_instances_count")
        .unwrap();
    assert_eq!(healthy.last().copied(), Some(0.0), "the operators did");
}

#[test]
fn the_glossary_defines_the_terms_a_trainee_meets() {
    use cascade::scenario::glossary::{Glossary, SOURCE};
    let glossary = Glossary::parse(SOURCE).unwrap();
    let forms: Vec<String> = glossary.forms().into_iter().map(|(f, _)| f).collect();
    for needed in [
        "metastable failure",
        "thundering herd",
        "retry storm",
        "exponential backoff",
        "jitter",
        "single-flight",
        "request coalescing",
        "look-aside cache",
        "ttl",
        "cache stampede",
        "surrogate-control",
        "liveness probe",
        "readiness probe",
        "load shedding",
        "processor sharing",
        "statement timeout",
        "pagination",
        "oom kill",
        "circuit breaker",
        "retry budget",
    ] {
        assert!(
            forms.iter().any(|f| f == needed),
            "the glossary does not define `{needed}`"
        );
    }
}
