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

/// A modal listing the shortcuts.
#[component]
pub fn Help(props: &HelpProps) -> Html {
    let close = {
        let dispatch = props.dispatch.clone();
        Callback::from(move |_: MouseEvent| dispatch.emit(Action::ToggleHelp))
    };
    html! {
        <div class="overlay" role="dialog" aria-modal="true" aria-labelledby="help-heading">
            <div class="dialog">
                <h2 id="help-heading">{ "Keyboard shortcuts" }</h2>
                <dl class="shortcuts">
                    { for SHORTCUTS.iter().map(|(keys, what)| html! {
                        <><dt><kbd>{ *keys }</kbd></dt><dd>{ *what }</dd></>
                    }) }
                </dl>
                <button type="button" onclick={close}>{ "Close" }</button>
            </div>
        </div>
    }
}
