//! Playback controls: play/pause, beat and time steps, reset, speed and seed.

use crate::state::{Action, DRILL_SPEEDS, SPEEDS};
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

/// Props of [`Controls`].
#[derive(Properties, Clone, PartialEq)]
pub struct ControlsProps {
    /// Whether playback runs.
    pub playing: bool,
    /// Current speed.
    pub speed: f64,
    /// Current seed.
    pub seed: u64,
    /// Sends actions.
    pub dispatch: Callback<Action>,
    /// The embed's bar: play and steps only, with `children` (its timeline) after them.
    #[prop_or_default]
    pub compact: bool,
    /// Shown after the buttons.
    #[prop_or_default]
    pub children: Html,
    /// A drill: play, pause and its three paces only (it cannot be rewound).
    #[prop_or_default]
    pub drill: bool,
}

fn speed_label(speed: f64) -> String {
    if speed >= 1_000.0 {
        format!("{},{:03}×", speed as u64 / 1000, speed as u64 % 1000)
    } else {
        format!("{speed}×")
    }
}

/// The control bar.
#[component]
pub fn Controls(props: &ControlsProps) -> Html {
    let send = |action: Action| {
        let dispatch = props.dispatch.clone();
        Callback::from(move |_: MouseEvent| dispatch.emit(action.clone()))
    };
    let on_speed = {
        let dispatch = props.dispatch.clone();
        Callback::from(move |e: Event| {
            let select: HtmlSelectElement = e.target_unchecked_into();
            if let Some(speed) = crate::permalink::number(&select.value()) {
                dispatch.emit(Action::SetSpeed(speed));
            }
        })
    };
    let on_seed = {
        let dispatch = props.dispatch.clone();
        Callback::from(move |e: Event| {
            let input: HtmlInputElement = e.target_unchecked_into();
            match input.value().trim().parse::<u64>() {
                Ok(seed) => dispatch.emit(Action::SetSeed(seed)),
                Err(_) => input.set_custom_validity("Enter a whole number from 0 upwards"),
            }
        })
    };
    let play_label = if props.playing { "Pause" } else { "Play" };
    html! {
        <div class="controls" role="toolbar" aria-label="Playback">
            <button type="button" class="primary" aria-label={play_label} aria-keyshortcuts="Space" onclick={send(Action::TogglePlay)}>
                if props.playing { { "❚❚" }<span class="label">{ " Pause" }</span> } else { { "▶" }<span class="label">{ " Play" }</span> }
            </button>
            if !props.drill {
            <button type="button" aria-label="Previous beat" aria-keyshortcuts="Shift+ArrowLeft" onclick={send(Action::PrevBeat)}>{ "«" }<span class="label">{ " Beat" }</span></button>
            <button type="button" aria-label="Step back" aria-keyshortcuts="ArrowLeft" onclick={send(Action::StepBack)}>{ "◀" }<span class="label">{ " Step" }</span></button>
            <button type="button" aria-label="Step forward" aria-keyshortcuts="ArrowRight" onclick={send(Action::StepForward)}><span class="label">{ "Step " }</span>{ "▶" }</button>
            <button type="button" aria-label="Next beat" aria-keyshortcuts="Shift+ArrowRight" onclick={send(Action::NextBeat)}><span class="label">{ "Beat " }</span>{ "»" }</button>
            }
            { props.children.clone() }
            if props.drill {
            <label class="field">
                { "Pace" }
                <select onchange={on_speed.clone()}>
                    { for DRILL_SPEEDS.iter().map(|&s| html! {
                        <option value={s.to_string()} selected={(s - props.speed).abs() < 1e-9}>{ if s == 1.0 { "real time".to_string() } else { format!("{s}×") } }</option>
                    }) }
                </select>
            </label>
            }
            if !props.compact && !props.drill {
            <button type="button" aria-label="Reset" aria-keyshortcuts="Home" onclick={send(Action::Reset)}>{ "↺" }<span class="label">{ " Reset" }</span></button>
            <label class="field">
                { "Speed" }
                <select onchange={on_speed}>
                    { for SPEEDS.iter().map(|&s| html! {
                        <option value={s.to_string()} selected={(s - props.speed).abs() < 1e-9}>{ speed_label(s) }</option>
                    }) }
                </select>
            </label>
            <label class="field">
                { "Seed" }
                <input type="number" min="0" step="1" inputmode="numeric" value={props.seed.to_string()} onchange={on_seed} />
            </label>
            <button type="button" aria-label="Keyboard shortcuts" aria-keyshortcuts="?" onclick={send(Action::ToggleHelp)}>{ "?" }</button>
            }
        </div>
    }
}
