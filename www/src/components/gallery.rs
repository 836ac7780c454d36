//! The gallery: every bundled outage with its organisation, date, summary and source.

use crate::components::story::split_teaser;
use crate::state::{Action, ScenarioEntry};
use std::rc::Rc;
use yew::prelude::*;

/// Props of [`Gallery`].
#[derive(Properties, Clone)]
pub struct GalleryProps {
    /// The scenarios.
    pub entries: Rc<Vec<ScenarioEntry>>,
    /// Sends actions.
    pub dispatch: Callback<Action>,
}

impl PartialEq for GalleryProps {
    /// The entries never change once built: the same list is the same gallery (comparing their
    /// contents would compile a deep comparison of whole scenarios into the page).
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.entries, &other.entries) && self.dispatch == other.dispatch
    }
}

/// The list of scenarios.
#[component]
pub fn Gallery(props: &GalleryProps) -> Html {
    html! {
        <section class="gallery" aria-labelledby="gallery-heading">
            <h2 id="gallery-heading">{ "Outages to replay" }</h2>
            <ul class="cards">
                { for props.entries.iter().enumerate().map(|(i, entry)| {
                    let dispatch = props.dispatch.clone();
                    let open = Callback::from(move |_: MouseEvent| dispatch.emit(Action::Open(i)));
                    match &entry.meta {
                        Ok(meta) => {
                            let byline = [meta.organisation.as_str(), meta.date.as_str()]
                                .iter().filter(|s| !s.is_empty()).copied().collect::<Vec<_>>().join(" · ");
                            html! {
                                <li class="card">
                                    <h3>{ meta.title.clone() }</h3>
                                    <p class="muted">{ byline }</p>
                                    <p>{ split_teaser(&meta.summary).0 }</p>
                                    <div class="card-actions">
                                        <button type="button" class="primary" aria-label={format!("Open {}", meta.title)} onclick={open}>{ "Replay" }</button>
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
            </ul>
        </section>
    }
}
