//! The story: the scenario's beats with their times; the current one is highlighted and its
//! caption announced; clicking a beat seeks there.

use crate::components::glossary::Linked;
use crate::state::Action;
use cascade::scenario::Beat;
use cascade::time::s_to_us;
use cascade::verdict::clock_label;
use yew::prelude::*;

/// Props of [`Narration`].
#[derive(Properties, Clone, PartialEq)]
pub struct NarrationProps {
    /// The beats, in time order.
    pub beats: Vec<Beat>,
    /// Where the run is, s.
    pub now_s: f64,
    /// Wall clock at t = 0.
    pub started_at: AttrValue,
    /// Sends actions.
    pub dispatch: Callback<Action>,
    /// A lesson: the titles of beats still to come are not shown (they would answer its
    /// questions).
    #[prop_or_default]
    pub hide_future: bool,
}

/// Index of the beat in force at `now_s` (the last one at or before it).
pub fn current_beat(beats: &[Beat], now_s: f64) -> Option<usize> {
    beats.iter().rposition(|b| b.at_s <= now_s + 1e-6)
}

/// The narration panel.
#[component]
pub fn Narration(props: &NarrationProps) -> Html {
    let current = current_beat(&props.beats, props.now_s);
    let caption = current
        .map(|i| props.beats[i].caption.clone())
        .unwrap_or_default();
    html! {
        <section class="narration" aria-labelledby="story-heading">
            <h2 id="story-heading">{ "The story" }</h2>
            <p class="current-caption" aria-live="polite"><Linked text={caption} /></p>
            <ol class="beats">
                { for props.beats.iter().enumerate().map(|(i, beat)| {
                    let dispatch = props.dispatch.clone();
                    let at = s_to_us(beat.at_s);
                    let onclick = Callback::from(move |_: MouseEvent| dispatch.emit(Action::Seek(at)));
                    let is_current = Some(i) == current;
                    let ahead = props.hide_future && current.is_none_or(|c| i > c);
                    html! {
                        <li class={classes!("beat", is_current.then_some("current"))} aria-current={is_current.then_some("step")}>
                            <button type="button" {onclick}>
                                <span class="beat-time">{ clock_label(&props.started_at, beat.at_s) }</span>
                                <span class="beat-title">{ if ahead { "…".to_string() } else { beat.title.clone() } }</span>
                            </button>
                        </li>
                    }
                }) }
            </ol>
        </section>
    }
}
