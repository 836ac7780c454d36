//! The timeline: a scrubber over the whole replay with markers for beats and timeline events.

use crate::state::Action;
use cascade::time::s_to_us;
use cascade::verdict::clock_label;
use web_sys::HtmlInputElement;
use yew::prelude::*;

/// A marker on the timeline.
#[derive(Clone, Debug, PartialEq)]
pub struct Marker {
    /// When, s.
    pub at_s: f64,
    /// What (shown on hover and read by screen readers).
    pub label: String,
    /// A beat (else a timeline event).
    pub beat: bool,
}

/// Props of [`Timeline`].
#[derive(Properties, Clone, PartialEq)]
pub struct TimelineProps {
    /// Length of the replay, s.
    pub duration_s: f64,
    /// Where the run is, s.
    pub now_s: f64,
    /// Where the user asked to be, s (ahead of `now_s` while the runs are computed up to it).
    pub target_s: f64,
    /// How far the runs are computed, s (the band behind the scrubber).
    pub computed_s: f64,
    /// Wall clock at t = 0, if the scenario gives it.
    pub started_at: AttrValue,
    /// Markers.
    pub markers: Vec<Marker>,
    /// Sends actions.
    pub dispatch: Callback<Action>,
    /// A drill: time only moves forwards, by playing (no scrubbing, no jump to the end).
    #[prop_or_default]
    pub locked: bool,
}

/// The scrubber.
#[component]
pub fn Timeline(props: &TimelineProps) -> Html {
    let on_input = {
        let dispatch = props.dispatch.clone();
        Callback::from(move |e: InputEvent| {
            let input: HtmlInputElement = e.target_unchecked_into();
            let t = input.value_as_number();
            if t.is_finite() {
                dispatch.emit(Action::Seek(s_to_us(t)));
            }
        })
    };
    let percent = |t: f64| 100.0 * t / props.duration_s.max(1e-9);
    let clock = clock_label(&props.started_at, props.now_s);
    let total = clock_label("", props.duration_s);
    let elapsed = clock_label("", props.now_s);
    let catching_up = props.target_s > props.now_s + 1e-6;
    let step = (props.duration_s / 1000.0).max(0.1);
    let computing = props.computed_s < props.duration_s - 1e-6;
    let to_end = {
        let dispatch = props.dispatch.clone();
        let end = props.duration_s;
        Callback::from(move |_: MouseEvent| dispatch.emit(Action::Seek(s_to_us(end))))
    };
    html! {
        <div class="timeline">
            <div class="timeline-clock" aria-live="off">
                <strong>{ clock.clone() }</strong>
                <span class="muted">{ format!(" · {elapsed} of {total}") }</span>
                if catching_up {
                    <span class="muted" role="status">{ format!(" · computing up to {}…", clock_label(&props.started_at, props.target_s)) }</span>
                } else if computing {
                    <span class="muted">{ format!(" · computed {:.0}%", percent(props.computed_s)) }</span>
                }
                if !props.locked {
                    <button type="button" class="small link-like" onclick={to_end}>{ "Jump to end" }</button>
                }
            </div>
            <div class="timeline-track">
                <div class="computed" aria-hidden="true" style={format!("width: {:.3}%", percent(props.computed_s).min(100.0))}></div>
                <input
                    type="range"
                    aria-label="Timeline"
                    min="0"
                    max={props.duration_s.to_string()}
                    step={step.to_string()}
                    value={props.target_s.to_string()}
                    aria-valuetext={clock}
                    disabled={props.locked}
                    oninput={on_input}
                />
                <div class="markers" aria-hidden="true">
                    { for props.markers.iter().map(|m| {
                        let class = if m.beat { "marker beat" } else { "marker event" };
                        html! { <span class={class} style={format!("left: {:.3}%", percent(m.at_s))} title={m.label.clone()}></span> }
                    }) }
                </div>
            </div>
        </div>
    }
}
