//! Every configuration the player can reach is valid. The web page is built without the
//! scenario checks (src/scenario/validate.rs): what it runs are the bundled scenarios, their
//! fixes switched on from the start or applied at any moment, the timeline's own changes and the
//! deploy controller's decisions (start, go live, roll back, retry). This walks all of those
//! states, natively and with the checks, so the page never meets one the checks would have
//! refused.

use cascade::Scenario;
use cascade::model::{deploy, timeline};
use cascade::scenario::{Action, Value, bundled, check_live, patch_tree, read_tree, tree};
use std::collections::BTreeSet;

/// A point in a replay: the system's parameters, which timeline entries have run, which fixes are
/// on (a bit per fix, in name order).
#[derive(Clone)]
struct State {
    tree: Value,
    done: Vec<bool>,
    fixes: u32,
    /// Per deploy (in name order): where it is, and how many attempts it has made.
    deploys: Vec<(Phase, u32)>,
}

/// Where a deploy is.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Phase {
    Idle,
    Rolling,
    Live,
}

/// The states one step after `state`: the next timeline entry runs, or one more fix is applied.
fn successors(scenario: &Scenario, state: &State) -> Vec<State> {
    let file = read_tree(state.tree.clone()).expect("a state is valid when it is reached");
    let mut out = Vec::new();
    // The entry that runs next: the earliest not yet run (ties in file order, as the engine's
    // events are ordered by time and then sequence).
    let next = (0..file.timeline.len())
        .filter(|&i| !state.done[i])
        .min_by(|&a, &b| file.timeline[a].at_s.total_cmp(&file.timeline[b].at_s));
    if let Some(i) = next {
        let entry = &file.timeline[i];
        let mut after = state.clone();
        after.done[i] = true;
        if entry.action == Action::Set {
            check_live(&entry.set).unwrap();
            patch_tree(&mut after.tree, &entry.set).unwrap();
        }
        if entry.action == Action::Deploy {
            let d = file
                .deploys
                .keys()
                .position(|n| *n == entry.target)
                .unwrap();
            let spec = &file.deploys[&entry.target];
            if after.deploys[d].0 == Phase::Idle {
                after.deploys[d] = (Phase::Rolling, after.deploys[d].1 + 1);
                patch_tree(
                    &mut after.tree,
                    &deploy::instances(&spec.service, spec.instances),
                )
                .unwrap();
            }
        }
        out.push(after);
    }
    // The deploy controller: a rolling deploy goes live or is rolled back at its deadline; a
    // rolled-back one starts again while it has retries left.
    for (d, spec) in file.deploys.values().enumerate() {
        let (phase, attempts) = state.deploys[d];
        let mut step = |phase: Phase, attempts: u32, patch: deploy::Patch| {
            let mut after = state.clone();
            after.deploys[d] = (phase, attempts);
            patch_tree(&mut after.tree, &patch).unwrap();
            out.push(after);
        };
        match phase {
            Phase::Rolling => {
                let backends = &file.load_balancers[&spec.balancer].backends;
                step(
                    Phase::Live,
                    attempts,
                    deploy::go_live(&spec.service, &spec.replaces, &spec.balancer, backends),
                );
                step(Phase::Idle, attempts, deploy::instances(&spec.service, 0));
            }
            Phase::Idle if attempts > 0 && attempts <= spec.retries => step(
                Phase::Rolling,
                attempts + 1,
                deploy::instances(&spec.service, spec.instances),
            ),
            _ => {}
        }
    }
    for (bit, fix) in scenario.file.fixes.values().enumerate() {
        if state.fixes & (1 << bit) != 0 || check_live(&fix.set).is_err() {
            continue; // on already, or refused with a message while the replay runs
        }
        let mut after = state.clone();
        after.fixes |= 1 << bit;
        patch_tree(&mut after.tree, &fix.set).unwrap();
        timeline::keep_the_past(&mut after.tree, &state.tree, &state.done);
        out.push(after);
    }
    out
}

#[test]
fn every_configuration_the_player_can_reach_is_valid() {
    for bundled in bundled() {
        let scenario = Scenario::parse(bundled.file_name, bundled.source).unwrap();
        let start = State {
            tree: scenario.with_fixes(&[]).unwrap().tree,
            done: vec![false; scenario.file.timeline.len()],
            fixes: 0,
            deploys: vec![(Phase::Idle, 0); scenario.file.deploys.len()],
        };
        let mut seen = BTreeSet::new();
        let mut stack = vec![start];
        while let Some(state) = stack.pop() {
            let key = (
                tree::encode(&state.tree),
                state.done.clone(),
                state.fixes,
                state.deploys.clone(),
            );
            if !seen.insert(key) {
                continue;
            }
            if let Err(message) = read_tree(state.tree.clone()) {
                let fixes: Vec<&String> = scenario
                    .file
                    .fixes
                    .keys()
                    .enumerate()
                    .filter(|(bit, _)| state.fixes & (1 << bit) != 0)
                    .map(|(_, name)| name)
                    .collect();
                panic!(
                    "{}: with fixes {fixes:?} and timeline entries {:?} run, the system is \
                     invalid: {message}",
                    bundled.file_name,
                    state
                        .done
                        .iter()
                        .enumerate()
                        .filter(|(_, d)| **d)
                        .map(|(i, _)| i)
                        .collect::<Vec<_>>(),
                );
            }
            stack.extend(successors(&scenario, &state));
        }
        // Every fix from the start, in every combination, as the switches set them.
        let names: Vec<String> = scenario.file.fixes.keys().cloned().collect();
        for subset in 0u32..(1 << names.len()) {
            let on: Vec<String> = names
                .iter()
                .enumerate()
                .filter(|(bit, _)| subset & (1 << bit) != 0)
                .map(|(_, n)| n.clone())
                .collect();
            scenario
                .with_fixes(&on)
                .unwrap_or_else(|e| panic!("{}: fixes {on:?}: {e}", bundled.file_name));
        }
        assert!(
            seen.len() > scenario.file.timeline.len(),
            "{}",
            bundled.file_name
        );
        println!("{}: {} states", bundled.file_name, seen.len());
    }
}

/// The page does not validate a drill's changes either: every runbook action of every bundled
/// scenario, taken a third of the way into the drill, changes the running system into a
/// configuration the checks accept (natively, `apply_patch` validates what it applies).
#[test]
fn every_runbook_action_taken_in_a_drill_is_valid() {
    use cascade::drill::DrillPlan;
    for bundled in cascade::scenario::bundled() {
        let scenario = Scenario::parse(bundled.file_name, bundled.source).unwrap();
        let plan = DrillPlan::new(&scenario).unwrap();
        let mut replay = cascade::Replay::new(&plan.variant, 1, u64::MAX);
        let third = replay.sim().end_us() / 3;
        replay.seek(third).unwrap();
        for name in plan.names() {
            let mut forked = replay.clone();
            plan.take(&mut forked, name)
                .unwrap_or_else(|e| panic!("{}: {name}: {e}", scenario.id()));
            // Past the action's effect (its delay at most a third of the run here or never).
            let end = forked.sim().end_us();
            forked
                .seek((third * 2).min(end))
                .unwrap_or_else(|e| panic!("{}: {name}: {e}", scenario.id()));
        }
    }
}
