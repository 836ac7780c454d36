//! The gallery: every bundled outage with its organisation, date, summary and source, in the
//! order a course would take them (the primer first), each with its difficulty and length.

use crate::components::story::split_teaser;
use crate::permalink::Mode;
use crate::state::{Action, ScenarioEntry};
use cascade::scenario::Difficulty;
use std::rc::Rc;
use yew::prelude::*;

/// Props of [`Gallery`].
#[derive(Properties, Clone)]
pub struct GalleryProps {
    /// The scenarios.
    pub entries: Rc<Vec<ScenarioEntry>>,
    /// Sends actions.
    pub dispatch: Callback<Action>,
    /// Changes when the trainee's progress may have changed.
    #[prop_or_default]
    pub revision: u64,
}

impl PartialEq for GalleryProps {
    /// The entries never change once built: the same list is the same gallery (comparing their
    /// contents would compile a deep comparison of whole scenarios into the page).
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.entries, &other.entries)
            && self.dispatch == other.dispatch
            && self.revision == other.revision
    }
}

/// A length of time, roughly: "40 s", "47 min", "3 h 20 min".
pub fn rough_span(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    if s < 90 {
        format!("{s} s")
    } else if s < 5_400 {
        format!("{} min", (s + 30) / 60)
    } else {
        let minutes = (s + 30) / 60;
        match minutes % 60 {
            0 => format!("{} h", minutes / 60),
            m => format!("{} h {m} min", minutes / 60),
        }
    }
}

/// Whose outage and when ("Svix · 2023-06-06"), the parts the scenario gives joined by `sep`.
pub fn whose_and_when(meta: &cascade::scenario::Meta, sep: &str) -> String {
    [meta.organisation.as_str(), meta.date.as_str()]
        .iter()
        .filter(|x| !x.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(sep)
}

/// Playback speed the player opens at, s of virtual time per s.
const OPENING_SPEED: f64 = 60.0;

/// Where a scenario sits in a course and how long it takes: "Intermediate · a 47 min incident ·
/// plays in 55 s".
pub fn course_line(meta: &cascade::scenario::Meta) -> String {
    let level = match meta.difficulty {
        Difficulty::Primer => "Primer: start here",
        Difficulty::Intermediate => "Intermediate",
        Difficulty::Advanced => "Advanced",
    };
    let incident = if meta.incident_duration_s > 0.0 {
        format!(" · a {} incident", rough_span(meta.incident_duration_s))
    } else {
        String::new()
    };
    format!(
        "{level}{incident} · plays in {}",
        rough_span(meta.duration_s / OPENING_SPEED)
    )
}

/// The list of scenarios, primers first, then by difficulty (each level in file order).
#[component]
pub fn Gallery(props: &GalleryProps) -> Html {
    let mut order: Vec<usize> = (0..props.entries.len())
        .filter(|&i| props.entries[i].is_bundled())
        .collect();
    let level = |i: &usize| {
        props.entries[*i]
            .meta
            .as_ref()
            .map_or(Difficulty::Advanced, |m| m.difficulty)
    };
    cascade::small_sort::sort_by(&mut order, |a, b| level(a) < level(b));
    #[cfg(feature = "training")]
    let export = {
        let titles: Vec<(String, String)> = order
            .iter()
            .map(|&i| {
                let e = &props.entries[i];
                (
                    e.id.clone(),
                    e.meta.as_ref().map_or(e.id.clone(), |m| m.title.clone()),
                )
            })
            .collect();
        Callback::from(move |_: MouseEvent| {
            let json = crate::progress::export_json(&titles);
            let _ = crate::components::share::download_text(
                &json,
                "application/json",
                "cascade-lab-progress.json",
            );
        })
    };
    #[cfg(feature = "training")]
    let tools = {
        let forget = {
            let dispatch = props.dispatch.clone();
            Callback::from(move |_: MouseEvent| dispatch.emit(Action::ResetProgress))
        };
        html! {
            <p class="progress-tools muted small">
                { "Your lessons and drills are kept in this browser. " }
                <button type="button" class="small" onclick={export}>{ "Download my progress (JSON)" }</button>
                { " " }
                <button type="button" class="small" onclick={forget}>{ "Forget my progress" }</button>
            </p>
        }
    };
    #[cfg(not(feature = "training"))]
    let tools = Html::default();
    html! {
        <section class="gallery" aria-labelledby="gallery-heading">
            <h2 id="gallery-heading">{ "Outages to replay" }</h2>
            <p class="muted">{ "New here? Take them in this order: the primer shows one loop on two servers, then each documented outage adds mechanisms." }</p>
            <ol class="cards">
                { for order.into_iter().map(|i| {
                    let entry = &props.entries[i];
                    let dispatch = props.dispatch.clone();
                    let open = Callback::from(move |_: MouseEvent| dispatch.emit(Action::Open(i)));
                    let dispatch = props.dispatch.clone();
                    let lesson = Callback::from(move |_: MouseEvent| dispatch.emit(Action::OpenIn(i, Mode::Lesson)));
                    let dispatch = props.dispatch.clone();
                    let drill = Callback::from(move |_: MouseEvent| dispatch.emit(Action::OpenIn(i, Mode::Drill)));
                    #[cfg(feature = "training")]
                    let (answered, right) = crate::progress::lesson_score(&entry.id);
                    #[cfg(not(feature = "training"))]
                    let (answered, right) = (0, 0);
                    match &entry.meta {
                        Ok(meta) => {
                            let byline = whose_and_when(meta, " · ");
                            html! {
                                <li class={classes!("card", meta.difficulty.name())}>
                                    <p class="course">{ course_line(meta) }</p>
                                    <h3>{ meta.title.clone() }</h3>
                                    <p class="muted">{ byline }</p>
                                    <p>{ split_teaser(&meta.summary).0 }</p>
                                    if cfg!(feature = "training") && !meta.objectives.is_empty() {
                                        <ul class="objectives" aria-label="You will learn">
                                            { for meta.objectives.iter().map(|o| html! { <li>{ o.clone() }</li> }) }
                                        </ul>
                                    }
                                    if answered > 0 {
                                        <p class="muted small progress">{ format!("Lesson: {right} of {answered} predictions right") }</p>
                                    }
                                    <div class="card-actions">
                                        <button type="button" class="primary" aria-label={format!("Replay {}", meta.title)} onclick={open}>{ "Replay" }</button>
                                        <button type="button" aria-label={format!("Lesson: {}", meta.title)} title="The replay stops to ask what you expect next" onclick={lesson}>{ "Lesson" }</button>
                                        <button type="button" aria-label={format!("On-call drill: {}", meta.title)} title="The story hidden: you are on call" onclick={drill}>{ "Drill" }</button>
                                        if !meta.source_url.is_empty() {
                                            <a href={meta.source_url.clone()} target="_blank" rel="noopener noreferrer">{ "Postmortem" }</a>
                                        }
                                    </div>
                                </li>
                            }
                        }
                        Err(err) => html! {
                            <li class="card error"><h3>{ entry.id.clone() }</h3><p>{ err.clone() }</p></li>
                        },
                    }
                }) }
            </ol>
            <p class="own muted">
                { "Your own incident? " }
                <a href="?author=1">{ "Write or open a scenario" }</a>
                { ": edit a copy of any outage, or open a .toml file, then replay and share it like these." }
            </p>
            { tools }
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn lengths_read_as_people_say_them() {
        assert_eq!(rough_span(40.0), "40 s");
        assert_eq!(rough_span(2_840.0), "47 min");
        assert_eq!(rough_span(12_000.0), "3 h 20 min");
        assert_eq!(rough_span(7_200.0), "2 h");
    }
}
