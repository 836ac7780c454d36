//! The keyboard help overlay.

use crate::state::Action;
use yew::prelude::*;

/// Props of [`Help`].
#[derive(Properties, Clone, PartialEq)]
pub struct HelpProps {
    /// Sends actions.
    pub dispatch: Callback<Action>,
}

/// Keyboard shortcuts: (keys, what they do).
pub const SHORTCUTS: [(&str, &str); 7] = [
    ("Space", "Play or pause"),
    ("← / →", "Step back or forward a little"),
    ("Shift + ← / →", "Previous or next beat"),
    ("Home", "Back to the start"),
    ("C", "Compare with what happened, on or off"),
    ("?", "Show or hide this help"),
    ("Escape", "Close this help"),
];

/// A modal `<dialog>` listing the shortcuts: opened with `showModal`, so the page behind is inert
/// and Tab stays inside it; Escape (the dialog's own `cancel`) or Close ends it.
#[component]
pub fn Help(props: &HelpProps) -> Html {
    let dialog = use_node_ref();
    {
        let dialog = dialog.clone();
        use_effect_with((), move |_| {
            if let Some(d) = dialog.cast::<web_sys::HtmlDialogElement>()
                && !d.open()
            {
                let _ = d.show_modal();
            }
        });
    }
    let close = {
        let dispatch = props.dispatch.clone();
        Callback::from(move |_: MouseEvent| dispatch.emit(Action::CloseHelp))
    };
    let closed = {
        let dispatch = props.dispatch.clone();
        Callback::from(move |_: Event| dispatch.emit(Action::CloseHelp))
    };
    html! {
        <dialog ref={dialog} class="dialog" aria-labelledby="help-heading" onclose={closed}>
            <h2 id="help-heading">{ "Keyboard shortcuts" }</h2>
            <dl class="shortcuts">
                { for SHORTCUTS.iter().map(|(keys, what)| html! {
                    <><dt><kbd>{ *keys }</kbd></dt><dd>{ *what }</dd></>
                }) }
            </dl>
            <p class="muted small">{ "Terms underlined with dots link to their definitions; Glossary, at the top, lists them all. Lesson and Drill, on each outage's card, train prediction and on-call response." }</p>
            <button type="button" onclick={close}>{ "Close" }</button>
        </dialog>
    }
}
