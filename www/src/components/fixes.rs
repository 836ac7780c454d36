//! The fixes panel: a switch per fix (from the start), "apply now" to fork the run mid-incident,
//! compare mode, and the verdicts of the run and of what happened.

use crate::components::glossary::Linked;
use crate::state::{Action, Session};
use cascade::verdict::{assess, describe};
use std::cell::RefCell;
use std::rc::Rc;
use web_sys::HtmlInputElement;
use yew::prelude::*;

/// Props of [`Fixes`].
#[derive(Properties, Clone)]
pub struct FixesProps {
    /// The open scenario.
    pub session: Rc<RefCell<Session>>,
    /// Changes whenever the run may have advanced.
    pub frame: u64,
    /// Whether the run as it happened is overlaid.
    pub compare: bool,
    /// Why the last change of a fix was refused: (fix, message), shown next to that fix.
    #[prop_or_default]
    pub error: Option<(String, String)>,
    /// Sends actions.
    pub dispatch: Callback<Action>,
}

impl PartialEq for FixesProps {
    fn eq(&self, other: &Self) -> bool {
        self.frame == other.frame
            && self.compare == other.compare
            && self.error == other.error
            && Rc::ptr_eq(&self.session, &other.session)
    }
}

/// The panel.
#[component]
pub fn Fixes(props: &FixesProps) -> Html {
    let session = props.session.borrow();
    let file = &session.scenario.file;
    let started_at = &file.scenario.started_at;
    let now_us = session.shown_us();
    let verdict = describe(assess(session.run.shown()), started_at);
    let baseline_verdict = session
        .baseline
        .as_ref()
        .map(|b| describe(assess(b.shown()), started_at));
    let on_compare = {
        let dispatch = props.dispatch.clone();
        Callback::from(move |e: Event| {
            let input: HtmlInputElement = e.target_unchecked_into();
            dispatch.emit(Action::SetCompare(input.checked()));
        })
    };
    let scheduled: Vec<String> = session
        .scheduled
        .iter()
        .map(|(name, at_us)| {
            format!(
                "{} from {}",
                name,
                cascade::verdict::clock_label(started_at, *at_us as f64 / 1e6)
            )
        })
        .collect();
    html! {
        <section class="fixes" aria-labelledby="fixes-heading">
            <h2 id="fixes-heading">{ "Fixes" }</h2>
            <div class="verdicts" aria-live="polite">
                if session.has_fixes() {
                    <p class="verdict"><strong>{ if session.fixes.is_empty() && session.scheduled.is_empty() { "What if: " } else { "With fixes: " } }</strong><span class="verdict-text">{ verdict }</span></p>
                    if let Some(v) = baseline_verdict {
                        <p class="verdict muted"><strong>{ "As it happened: " }</strong>{ v }</p>
                    }
                } else {
                    <p class="verdict"><strong>{ "As it happened: " }</strong><span class="verdict-text">{ verdict }</span></p>
                }
            </div>
            if !scheduled.is_empty() {
                <p class="muted">{ format!("Applied mid-run: {}", scheduled.join(", ")) }</p>
            }
            <label class="switch">
                <input type="checkbox" role="switch" checked={props.compare} onchange={on_compare} aria-keyshortcuts="C" />
                { "Compare with what happened" }
            </label>
            <ul class="fix-list">
                { for file.fixes.iter().map(|(name, fix)| {
                    let on = session.fixes.contains(name);
                    let toggle = {
                        let dispatch = props.dispatch.clone();
                        let name = name.clone();
                        Callback::from(move |_: Event| dispatch.emit(Action::ToggleFix(name.clone())))
                    };
                    let now = {
                        let dispatch = props.dispatch.clone();
                        let name = name.clone();
                        Callback::from(move |_: MouseEvent| dispatch.emit(Action::ApplyFixNow(name.clone())))
                    };
                    let can_apply_now = now_us > 0 && !on && !session.catching_up();
                    let error = props
                        .error
                        .as_ref()
                        .filter(|(fix, _)| fix == name)
                        .map(|(_, message)| message.clone());
                    html! {
                        <li class="fix">
                            <label class="switch">
                                <input type="checkbox" role="switch" checked={on} onchange={toggle} />
                                <code>{ name.clone() }</code>
                            </label>
                            <button type="button" class="small" disabled={!can_apply_now} aria-label={format!("Apply now: {name}")} onclick={now}>{ "Apply now" }</button>
                            if let Some(message) = error {
                                <p class="fix-error" role="alert">{ message }</p>
                            }
                            <p class="fix-description"><Linked text={fix.description.clone()} /></p>
                            if !fix.tradeoff.is_empty() {
                                <p class="fix-tradeoff muted"><Linked text={fix.tradeoff.clone()} /></p>
                            }
                        </li>
                    }
                }) }
            </ul>
        </section>
    }
}
