//! A chart of some series of the current run, redrawn whenever the run advances.

use crate::charts::{self, Line};
use cascade::sim::Simulation;
use std::cell::RefCell;
use std::rc::Rc;
use web_sys::HtmlCanvasElement;
use yew::prelude::*;

/// Props of [`Chart`].
#[derive(Properties, Clone)]
pub struct ChartProps {
    /// Accessible name and heading of the chart.
    pub title: AttrValue,
    /// Unit label of the y axis.
    pub y_label: AttrValue,
    /// The lines to draw.
    pub lines: &'static [Line],
    /// The run to draw.
    pub run: Rc<RefCell<Simulation>>,
    /// Changes whenever the run advances.
    pub frame: u64,
}

impl PartialEq for ChartProps {
    fn eq(&self, other: &Self) -> bool {
        self.frame == other.frame && Rc::ptr_eq(&self.run, &other.run) && self.title == other.title
    }
}

fn prefers_dark() -> bool {
    web_sys::window()
        .and_then(|w| w.match_media("(prefers-color-scheme: dark)").ok().flatten())
        .is_some_and(|m| m.matches())
}

/// A canvas chart with a text alternative listing the latest values.
#[component]
pub fn Chart(props: &ChartProps) -> Html {
    let canvas_ref = use_node_ref();
    let error = use_state(|| None::<String>);
    {
        let canvas_ref = canvas_ref.clone();
        let error = error.clone();
        let run = props.run.clone();
        let lines = props.lines;
        let y_label = props.y_label.to_string();
        use_effect_with((props.frame, Rc::as_ptr(&props.run) as usize), move |_| {
            if let Some(canvas) = canvas_ref.cast::<HtmlCanvasElement>() {
                let sim = run.borrow();
                let duration_s = sim.end_us() as f64 / 1e6;
                if let Err(message) = charts::draw(
                    canvas,
                    sim.metrics(),
                    lines,
                    duration_s,
                    &y_label,
                    prefers_dark(),
                ) {
                    error.set(Some(message));
                }
            }
        });
    }
    let sim = props.run.borrow();
    let metrics = sim.metrics();
    let latest: Vec<String> = props
        .lines
        .iter()
        .map(|line| {
            let value = metrics
                .series(line.series)
                .and_then(|v| v.last().copied())
                .unwrap_or(0.0);
            format!("{} {:.0}", line.label, value)
        })
        .collect();
    let summary = format!(
        "At {:.0} s: {} ({})",
        sim.now_us() as f64 / 1e6,
        latest.join(", "),
        props.y_label
    );
    html! {
        <figure class="chart">
            <figcaption>{ props.title.clone() }</figcaption>
            <canvas ref={canvas_ref} width="720" height="320" role="img" aria-label={props.title.clone()}></canvas>
            <p class="chart-values" aria-live="polite">{ summary }</p>
            if let Some(message) = &*error {
                <p class="error" role="alert">{ format!("The chart could not be drawn: {message}") }</p>
            }
        </figure>
    }
}
