//! A lesson's questions: the replay waits while the trainee predicts what happens next, plays on,
//! then shows whether the prediction held and the mechanism behind the answer.

use crate::components::glossary::Linked;
use crate::state::{Action, Lesson};
use cascade::scenario::Question;
use yew::prelude::*;

/// Props of [`LessonCard`].
#[derive(Properties, Clone, PartialEq)]
pub struct LessonCardProps {
    /// The scenario's questions.
    pub questions: Vec<Question>,
    /// The lesson's state.
    pub lesson: Lesson,
    /// Sends actions.
    pub dispatch: Callback<Action>,
}

/// A sketched curve (values 0 to 1) as a small line.
fn sketch(curve: &[f64]) -> Html {
    let n = curve.len().max(2) - 1;
    let points: Vec<String> = curve
        .iter()
        .enumerate()
        .map(|(i, v)| {
            format!(
                "{:.1},{:.1}",
                i as f64 * 96.0 / n as f64 + 2.0,
                38.0 - v.clamp(0.0, 1.0) * 34.0
            )
        })
        .collect();
    html! {
        <svg class="sketch" viewBox="0 0 100 40" width="100" height="40" aria-hidden="true">
            <line x1="2" y1="38" x2="98" y2="38" class="axis" />
            <polyline points={points.join(" ")} />
        </svg>
    }
}

/// The question being asked, the answer being shown, or the lesson's score.
#[component]
pub fn LessonCard(props: &LessonCardProps) -> Html {
    let heading = use_node_ref();
    let moment = (props.lesson.asking, props.lesson.revealing);
    {
        let heading = heading.clone();
        use_effect_with(moment, move |_| {
            if let Some(h) = heading.cast::<web_sys::HtmlElement>() {
                let _ = h.focus();
                // The card may sit below the system view: bring it to the middle of the screen.
                let options = web_sys::ScrollIntoViewOptions::new();
                options.set_block(web_sys::ScrollLogicalPosition::Center);
                h.scroll_into_view_with_scroll_into_view_options(&options);
            }
        });
    }
    let total = props.questions.len();
    let answered = props.lesson.answers.iter().flatten().count();
    let right = props
        .lesson
        .answers
        .iter()
        .zip(&props.questions)
        .filter(|(a, q)| **a == Some(q.answer))
        .count();
    if let Some(q) = props.lesson.asking
        && let Some(question) = props.questions.get(q)
    {
        return html! {
            <section class="lesson-card ask" aria-labelledby="lesson-heading">
                <h2 id="lesson-heading" ref={heading} tabindex="-1">{ format!("Predict · question {} of {total}", q + 1) }</h2>
                <p class="prompt"><Linked text={question.prompt.clone()} /></p>
                <ul class="choices">
                    { for question.choices.iter().enumerate().map(|(c, text)| {
                        let dispatch = props.dispatch.clone();
                        let onclick = Callback::from(move |_: MouseEvent| dispatch.emit(Action::Answer(q, c as u32)));
                        html! {
                            <li>
                                <button type="button" class="choice" {onclick}>
                                    if let Some(curve) = question.curves.get(c) { { sketch(curve) } }
                                    <span>{ text.clone() }</span>
                                </button>
                            </li>
                        }
                    }) }
                </ul>
                <p class="muted small">{ "The replay waits for your prediction, then plays on and shows what happened." }</p>
            </section>
        };
    }
    if let Some(q) = props.lesson.revealing
        && let Some(question) = props.questions.get(q)
    {
        let chosen = props.lesson.answers.get(q).copied().flatten().unwrap_or(0);
        let held = chosen == question.answer;
        let text = |c: u32| {
            question
                .choices
                .get(c as usize)
                .cloned()
                .unwrap_or_default()
        };
        let go_on = {
            let dispatch = props.dispatch.clone();
            Callback::from(move |_: MouseEvent| dispatch.emit(Action::ContinueLesson))
        };
        return html! {
            <section class={classes!("lesson-card", "reveal", if held { "right" } else { "wrong" })} aria-labelledby="lesson-heading">
                <h2 id="lesson-heading" ref={heading} tabindex="-1">
                    { if held { "✓ Your prediction held" } else { "✗ Not what happened" } }
                </h2>
                <p>{ "You predicted: " }<q>{ text(chosen) }</q></p>
                if !held {
                    <p>{ "What happened: " }<q>{ text(question.answer) }</q></p>
                }
                <p class="explanation"><Linked text={question.explanation.clone()} /></p>
                if !question.watch.is_empty() || !question.highlight.is_empty() {
                    <p class="muted small">{ "The chart marked “Watch now” and the highlighted part of the system show it." }</p>
                }
                <button type="button" class="primary" onclick={go_on}>{ "Continue" }</button>
            </section>
        };
    }
    let reset = {
        let dispatch = props.dispatch.clone();
        Callback::from(move |_: MouseEvent| dispatch.emit(Action::ResetProgress))
    };
    html! {
        <section class="lesson-card score" aria-labelledby="lesson-heading">
            <h2 id="lesson-heading" ref={heading} tabindex="-1">{ "Lesson" }</h2>
            <p role="status">{ format!("{answered} of {total} predictions made, {right} right.") }</p>
            if answered < total {
                <p class="muted small">{ "Press Play: the replay stops to ask what you expect next." }</p>
            }
            <button type="button" class="small" onclick={reset}>{ "Forget my answers" }</button>
        </section>
    }
}
