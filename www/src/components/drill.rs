//! The on-call drill: the brief, the pages as alerts fire, the runbook (each action forks the run
//! at the moment it is taken), and the debrief once the drill is over.

use crate::components::glossary::Linked;
use crate::state::{Action, Session};
use cascade::drill::{self, DrillPlan};
use cascade::verdict::clock_label;
use std::cell::RefCell;
use std::rc::Rc;
use yew::prelude::*;

/// Props of [`DrillPanel`] and [`Debrief`].
#[derive(Properties, Clone)]
pub struct DrillProps {
    /// The open drill.
    pub session: Rc<RefCell<Session>>,
    /// Changes whenever the run may have advanced.
    pub frame: u64,
    /// Why the last action was refused: (action, message).
    #[prop_or_default]
    pub error: Option<(String, String)>,
    /// Sends actions.
    pub dispatch: Callback<Action>,
}

impl PartialEq for DrillProps {
    fn eq(&self, other: &Self) -> bool {
        self.frame == other.frame
            && self.error == other.error
            && Rc::ptr_eq(&self.session, &other.session)
    }
}

/// How long an action takes to land, in words.
fn delay_words(delay_s: f64) -> String {
    match delay_s {
        d if d <= 0.0 => "takes effect at once".into(),
        d if d < 90.0 => format!("takes effect after {d:.0} s"),
        d => format!("takes effect after {:.0} min", d / 60.0),
    }
}

/// The side panel while on call: brief, pages, runbook, the actions taken.
#[component]
pub fn DrillPanel(props: &DrillProps) -> Html {
    let s = props.session.borrow();
    let file = &s.scenario.file;
    let started_at = file.scenario.started_at.as_str();
    let alerts = &file.drill.alerts;
    let pages = s.pages();
    let now_s = s.shown_us() as f64 / 1e6;
    let over = s.target_us >= s.end_us();
    html! {
        <section class="drill" aria-labelledby="drill-heading">
            <h2 id="drill-heading">{ "On call" }</h2>
            <p class="brief"><Linked text={file.drill.brief.clone()} /></p>
            <h3>{ "Pages" }</h3>
            if pages.is_empty() {
                <p class="muted small">{ "Nothing has paged yet. The dashboards are on the right." }</p>
            }
            <ol class="pages" aria-live="assertive">
                { for pages.iter().rev().map(|p| {
                    let alert = &alerts[p.alert];
                    let state = match p.resolved_at_s {
                        Some(r) => format!("resolved {}", clock_label(started_at, r)),
                        None => "firing".to_string(),
                    };
                    html! {
                        <li class={classes!("page", p.resolved_at_s.is_none().then_some("firing"))}>
                            <span class="page-time">{ clock_label(started_at, p.fired_at_s) }</span>
                            <strong>{ alert.name.clone() }</strong>
                            <span class="muted small">{ format!(" · {state}") }</span>
                        </li>
                    }
                }) }
            </ol>
            <h3>{ "Runbook" }</h3>
            <p class="muted small">{ "Each action starts now; some take minutes to land. Time cannot be rewound." }</p>
            <ul class="runbook">
                { for file.drill.runbook.iter().map(|action| {
                    let dispatch = props.dispatch.clone();
                    let name = action.name.clone();
                    let onclick = Callback::from(move |_: MouseEvent| dispatch.emit(Action::ApplyFixNow(name.clone())));
                    let taken: Vec<String> = s.scheduled.iter().filter(|(n, _)| *n == action.name)
                        .map(|(_, t)| clock_label(started_at, *t as f64 / 1e6)).collect();
                    let error = props.error.as_ref().filter(|(n, _)| *n == action.name).map(|(_, m)| m.clone());
                    html! {
                        <li>
                            <button type="button" class="action" disabled={over || now_s <= 0.0} {onclick}>{ action.title.clone() }</button>
                            <span class="muted small">{ delay_words(action.delay_s) }
                                if !taken.is_empty() { { format!(" · taken at {}", taken.join(", ")) } }
                            </span>
                            if let Some(error) = error { <p class="fix-error" role="alert">{ error }</p> }
                        </li>
                    }
                }) }
            </ul>
        </section>
    }
}

/// The latest page while it fires: what paged and when (announced).
#[component]
pub fn Pager(props: &DrillProps) -> Html {
    let s = props.session.borrow();
    let file = &s.scenario.file;
    let pages = s.pages();
    let latest = pages.iter().rev().find(|p| p.resolved_at_s.is_none());
    html! {
        <div class="pager" role="alert">
            if let Some(p) = latest {
                <strong>{ "Paged " }{ clock_label(&file.scenario.started_at, p.fired_at_s) }{ ": " }{ file.drill.alerts[p.alert].name.clone() }</strong>
                <span class="muted small">{ " · read the dashboards, act from the runbook; Play goes on" }</span>
            }
        </div>
    }
}

/// One line per action: its title and when it was taken.
fn actions_list(file: &cascade::scenario::ScenarioFile, taken: &[(String, u64)]) -> Html {
    let started_at = file.scenario.started_at.as_str();
    if taken.is_empty() {
        return html! { <p class="muted">{ "None." }</p> };
    }
    html! {
        <ol class="actions">
            { for taken.iter().map(|(name, at_us)| {
                let title = file.drill.runbook.iter().find(|a| a.name == *name).map_or(name.clone(), |a| a.title.clone());
                html! { <li><span class="page-time">{ clock_label(started_at, *at_us as f64 / 1e6) }</span>{ title }</li> }
            }) }
        </ol>
    }
}

/// Minutes with one decimal, and a count with thousands separated.
fn figures(impact: drill::Impact) -> (String, String) {
    let n = impact.failed_requests.round() as u64;
    let digits = n.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    (format!("{:.1}", impact.impact_minutes), grouped)
}

/// After the drill: both runs' cost to customers, both timelines of actions, the real story.
#[component]
pub fn Debrief(props: &DrillProps) -> Html {
    let s = props.session.borrow();
    let file = &s.scenario.file;
    let baseline = s.baseline.as_ref();
    let ready = s.run.done && baseline.is_some_and(|b| b.done) && !s.catching_up();
    let numbers = ready.then(|| {
        (
            drill::impact(s.run.shown()),
            drill::impact(baseline.map(|b| b.shown()).unwrap_or(s.run.shown())),
        )
    });
    let actions: String = s
        .scheduled
        .iter()
        .map(|(n, t)| format!("{n}@{}", *t as f64 / 1e6))
        .collect::<Vec<_>>()
        .join(",");
    {
        let id = s.scenario.id().to_string();
        let key = numbers.map(|(m, d)| format!("{m:?}{d:?}{actions}"));
        use_effect_with(key, move |key| {
            if key.is_some()
                && let Some((mine, theirs)) = numbers
            {
                crate::progress::save_drill(
                    &id,
                    (mine.impact_minutes, mine.failed_requests),
                    (theirs.impact_minutes, theirs.failed_requests),
                    &actions,
                );
            }
        });
    }
    let Some((mine, theirs)) = numbers else {
        return html! { <section class="debrief"><h2>{ "Debrief" }</h2><p role="status">{ "Computing both runs to their end…" }</p></section> };
    };
    let (my_minutes, my_failed) = figures(mine);
    let (their_minutes, their_failed) = figures(theirs);
    let documented: Vec<(String, u64)> = DrillPlan::documented(&s.scenario)
        .into_iter()
        .map(|t| (t.name, t.at_us))
        .collect();
    let verdict = if mine.impact_minutes < theirs.impact_minutes * 0.95 {
        "Your response cost customers less than the real one."
    } else if mine.impact_minutes <= theirs.impact_minutes * 1.05 {
        "Your response cost customers about as much as the real one."
    } else {
        "Your response cost customers more than the real one."
    };
    let mut beats = file.beats.clone();
    cascade::small_sort::sort_by_key(&mut beats, |b| cascade::time::s_to_us(b.at_s));
    html! {
        <section class="debrief" aria-labelledby="debrief-heading">
            <h2 id="debrief-heading">{ "Debrief" }</h2>
            <p role="status">{ verdict }</p>
            <table class="impact">
                <thead><tr><th scope="col">{ "Run" }</th><th scope="col">{ "Customer-impact minutes" }</th><th scope="col">{ "Requests failed" }</th></tr></thead>
                <tbody>
                    <tr class="yours" data-impact-minutes={mine.impact_minutes.to_string()} data-failed-requests={mine.failed_requests.to_string()}>
                        <th scope="row">{ "Your run" }</th><td>{ my_minutes }</td><td>{ my_failed }</td>
                    </tr>
                    <tr class="documented" data-impact-minutes={theirs.impact_minutes.to_string()} data-failed-requests={theirs.failed_requests.to_string()}>
                        <th scope="row">{ "As it happened" }</th><td>{ their_minutes }</td><td>{ their_failed }</td>
                    </tr>
                </tbody>
            </table>
            <p class="muted small">{ "A minute counts by the share of requests that failed beyond the usual: half the usual successes for a minute is half a minute." }</p>
            <div class="side-by-side">
                <div><h3>{ "Your actions" }</h3>{ actions_list(file, &s.scheduled) }</div>
                <div><h3>{ "What the operators did" }</h3>{ actions_list(file, &documented) }</div>
            </div>
            <h3>{ "The real story" }</h3>
            <ol class="real-story">
                { for beats.iter().map(|b| html! {
                    <li><strong>{ format!("{} {}", clock_label(&file.scenario.started_at, b.at_s), b.title) }</strong>{ " " }<Linked text={b.caption.clone()} /></li>
                }) }
            </ol>
            if !file.scenario.source_url.is_empty() {
                <p><a href={file.scenario.source_url.clone()} target="_blank" rel="noopener noreferrer">{ "Read the postmortem" }</a></p>
            }
        </section>
    }
}
