//! The app shell: picks a scenario, runs it frame by frame and shows its chart.

use crate::charts::RATE_LINES;
use crate::components::chart::Chart;
use crate::components::scenario_picker::ScenarioPicker;
use crate::state::{Action, Player, bundled_entries};
use std::time::Duration;
use yew::prelude::*;

/// Wall-clock pause between frames while playing.
const FRAME: Duration = Duration::from_millis(16);

/// The whole page.
#[component]
pub fn App() -> Html {
    let player = use_reducer(|| Player::new(bundled_entries()));

    // While playing, advance one step per frame; the effect re-arms on every new frame.
    {
        let dispatcher = player.dispatcher();
        use_effect_with((player.playing, player.frame), move |&(playing, _)| {
            if playing {
                yew::platform::spawn_local(async move {
                    yew::platform::time::sleep(FRAME).await;
                    dispatcher.dispatch(Action::Tick);
                });
            }
        });
    }

    let on_select = {
        let dispatcher = player.dispatcher();
        Callback::from(move |index| dispatcher.dispatch(Action::Select(index)))
    };
    let on_run = {
        let dispatcher = player.dispatcher();
        Callback::from(move |_| dispatcher.dispatch(Action::Run))
    };
    let entry = &player.entries[player.selected];
    let summary = entry
        .parsed
        .as_ref()
        .map(|s| s.file.scenario.summary.clone())
        .unwrap_or_default();
    html! {
        <>
            <header>
                <h1>{ "Cascade Lab" }</h1>
                <p class="tagline">{ "Replay documented outages and watch the cascade." }</p>
            </header>
            <section class="controls" aria-label="Run controls">
                <ScenarioPicker entries={player.entries.clone()} selected={player.selected} on_select={on_select} />
                <button type="button" onclick={on_run}>{ "Run" }</button>
                <span class="status" aria-live="polite">
                    { match (&player.run, player.playing) {
                        (Some(_), true) => "Playing…",
                        (Some(_), false) => "Finished",
                        (None, _) => "Not started",
                    } }
                </span>
            </section>
            <p class="summary">{ summary }</p>
            if let Some(message) = &player.message {
                <p class="error" role="alert">{ message.clone() }</p>
            }
            if let Some(run) = &player.run {
                <Chart title="Request rates" y_label="requests/s" lines={&RATE_LINES[..]} run={run.clone()} frame={player.frame} />
            }
        </>
    }
}
