//! The glossary: terms linked where they appear (`Linked`), and a dialog with every definition.
//! Both are part of the training module; the player's module shows texts as they are.
#![cfg_attr(not(feature = "training"), allow(unused_imports))]

use crate::state::Action;
use cascade::scenario::glossary::{Glossary, link_terms};
use std::rc::Rc;
use yew::prelude::*;

/// The glossary with its forms ready to search (longest first), shared through a context.
/// Built once per glossary (see `app::App`); compared by identity, not by content.
#[derive(Clone, Debug)]
pub struct Terms {
    /// The terms.
    pub glossary: Rc<Glossary>,
    #[cfg_attr(not(feature = "training"), allow(dead_code))]
    forms: Rc<Vec<(String, String)>>,
    /// Opens the dialog at a term.
    pub show: Callback<Action>,
}

impl Terms {
    /// Terms from `glossary`; `show` receives [`Action::ShowTerm`].
    pub fn new(glossary: Rc<Glossary>, show: Callback<Action>) -> Terms {
        Terms {
            forms: Rc::new(glossary.forms()),
            glossary,
            show,
        }
    }
}

impl PartialEq for Terms {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.glossary, &other.glossary) && self.show == other.show
    }
}

/// Props of [`Linked`].
#[derive(Properties, Clone, PartialEq)]
pub struct LinkedProps {
    /// The text (never markup).
    pub text: AttrValue,
}

/// The text as it is (the player's module has no glossary).
#[cfg(not(feature = "training"))]
#[component]
pub fn Linked(props: &LinkedProps) -> Html {
    html! { { props.text.to_string() } }
}

/// A text with the first use of each defined term linked to its definition (plain text until
/// the glossary has loaded).
#[cfg(feature = "training")]
#[component]
pub fn Linked(props: &LinkedProps) -> Html {
    let terms = use_context::<Option<Terms>>().flatten();
    let Some(terms) = terms else {
        return html! { { props.text.to_string() } };
    };
    let parts = link_terms(&props.text, &terms.forms);
    html! {
        { for parts.into_iter().map(|(run, id)| match id {
            None => html! { { run.to_string() } },
            Some(id) => {
                let definition = terms.glossary.terms.get(&id).map(|t| t.definition.clone()).unwrap_or_default();
                let show = terms.show.clone();
                let target = id.clone();
                let onclick = Callback::from(move |e: MouseEvent| {
                    e.prevent_default();
                    show.emit(Action::ShowTerm(Some(target.clone())));
                });
                html! { <a class="term" href={format!("#term-{id}")} title={definition} {onclick}>{ run.to_string() }</a> }
            }
        }) }
    }
}

/// Props of [`GlossaryDialog`].
#[derive(Properties, Clone, PartialEq)]
pub struct GlossaryDialogProps {
    /// The glossary.
    pub glossary: Rc<Glossary>,
    /// The term to show first (empty: the top).
    pub term: AttrValue,
    /// Sends actions.
    pub dispatch: Callback<Action>,
}

/// Every term and its definition, in a modal dialog scrolled to the term asked for.
#[cfg(feature = "training")]
#[component]
pub fn GlossaryDialog(props: &GlossaryDialogProps) -> Html {
    let dialog = use_node_ref();
    {
        let dialog = dialog.clone();
        use_effect_with(props.term.clone(), move |term| {
            if let Some(d) = dialog.cast::<web_sys::HtmlDialogElement>() {
                if !d.open() {
                    let _ = d.show_modal();
                }
                let selector = format!("#term-{term}");
                if !term.is_empty()
                    && let Ok(Some(entry)) = d.query_selector(&selector)
                {
                    entry.scroll_into_view();
                }
            }
        });
    }
    let close = {
        let dispatch = props.dispatch.clone();
        Callback::from(move |_: MouseEvent| dispatch.emit(Action::ShowTerm(None)))
    };
    let closed = {
        let dispatch = props.dispatch.clone();
        Callback::from(move |_: Event| dispatch.emit(Action::ShowTerm(None)))
    };
    let mut terms: Vec<_> = props.glossary.terms.iter().collect();
    cascade::small_sort::sort_by_key(&mut terms, |(_, t)| t.term.to_ascii_lowercase());
    html! {
        <dialog ref={dialog} class="dialog glossary" aria-labelledby="glossary-heading" onclose={closed}>
            // The dialog opens at its top (focus would otherwise go to Close, past every term).
            <h2 id="glossary-heading" tabindex="-1" autofocus=true>{ "Glossary" }</h2>
            <dl class="terms">
                { for terms.into_iter().map(|(id, t)| html! {
                    <div id={format!("term-{id}")} class={classes!("entry", (*id == *props.term).then_some("current"))}>
                        <dt>{ t.term.clone() }</dt>
                        <dd>{ t.definition.clone() }</dd>
                    </div>
                }) }
            </dl>
            <button type="button" onclick={close}>{ "Close" }</button>
        </dialog>
    }
}
