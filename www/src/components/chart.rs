//! A chart of some series of the current run, with the run as it happened faint behind it.
//! Redraws at most every 40 ms while playing (100 ms while the runs are computed up to the
//! playhead), and at once after a seek or a fix; each chart draws in a task of its own.

use crate::charts::{self, ChartSpec, Frame};
use crate::state::Session;
use cascade::verdict::clock_label;
use std::cell::RefCell;
use std::rc::Rc;
use web_sys::HtmlCanvasElement;
use yew::prelude::*;

/// Props of [`Chart`].
#[derive(Properties, Clone)]
pub struct ChartProps {
    /// What to draw.
    pub spec: ChartSpec,
    /// The open scenario.
    pub session: Rc<RefCell<Session>>,
    /// Changes whenever the run may have advanced.
    pub frame: u64,
    /// Changes when the run changed discontinuously.
    pub revision: u64,
    /// Whether the run as it happened is overlaid.
    pub compare: bool,
    /// Whether playback runs (redraws are throttled then).
    pub playing: bool,
    /// Position among the charts: while playing, charts take turns to redraw, one per frame.
    pub slot: usize,
    /// Number of charts taking turns.
    pub slots: usize,
    /// The canvas takes the height its box gives it (an embed), rather than one from its width.
    #[prop_or_default]
    pub fill: bool,
}

impl PartialEq for ChartProps {
    fn eq(&self, other: &Self) -> bool {
        self.frame == other.frame
            && self.revision == other.revision
            && self.compare == other.compare
            && self.playing == other.playing
            && self.fill == other.fill
            && Rc::ptr_eq(&self.session, &other.session)
            && self.spec == other.spec
    }
}

/// Whether the page prefers a dark colour scheme.
pub fn prefers_dark() -> bool {
    web_sys::window()
        .and_then(|w| w.match_media("(prefers-color-scheme: dark)").ok().flatten())
        .is_some_and(|m| m.matches())
}

fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now())
}

#[derive(Default)]
struct Drawn {
    version: u64,
    revision: u64,
    compare: bool,
    at_ms: f64,
    ever: bool,
}

/// A canvas chart with a text alternative listing the latest values.
#[component]
pub fn Chart(props: &ChartProps) -> Html {
    let canvas_ref = use_node_ref();
    let error = use_state(|| None::<String>);
    let drawn = use_mut_ref(Drawn::default);
    {
        let canvas_ref = canvas_ref.clone();
        let error = error.clone();
        let props = props.clone();
        use_effect_with((props.frame, props.revision, props.compare), move |_| {
            if canvas_ref.get().is_none() {
                return;
            }
            let session = props.session.borrow();
            let mut last = drawn.borrow_mut();
            let now = now_ms();
            let my_turn = props.slots <= 1 || props.frame as usize % props.slots == props.slot;
            // While playing, or while windows stream in up to the playhead, charts take turns and
            // redraw at most every 40 ms (100 ms while computing), so the page stays responsive.
            let computing = session.catching_up();
            let throttle_ms = if computing { 100.0 } else { 40.0 };
            let busy = props.playing || computing;
            let changed = !last.ever
                || last.revision != props.revision
                || last.compare != props.compare
                || (last.version != session.shown_version()
                    && (!busy || (my_turn && now - last.at_ms >= throttle_ms)));
            if !changed {
                return;
            }
            *last = Drawn {
                version: session.shown_version(),
                revision: props.revision,
                compare: props.compare,
                at_ms: now,
                ever: true,
            };
            drop(session);
            // Each chart draws in a task of its own, after the render: a fix or a seek that
            // redraws every chart at once no longer makes one long task of them all, and the
            // browser can show a frame between two charts. (It draws what is current then.)
            let (session, spec, compare) =
                (props.session.clone(), props.spec.clone(), props.compare);
            yew::platform::spawn_local(async move {
                yew::platform::time::sleep(std::time::Duration::ZERO).await;
                let Some(canvas) = canvas_ref.cast::<HtmlCanvasElement>() else {
                    return; // the chart is gone
                };
                let session = session.borrow();
                let baseline = if compare {
                    session.baseline.as_ref().map(|b| b.shown())
                } else {
                    None
                };
                let beats = session.beat_times_s();
                let started_at = session.scenario.file.scenario.started_at.clone();
                let ratio = charts::fit_canvas(&canvas);
                let frame = Frame {
                    metrics: session.run.shown(),
                    fresh_windows: session.run.fresh_windows(),
                    baseline,
                    duration_s: session.end_us() as f64 / 1e6,
                    now_s: session.shown_us() as f64 / 1e6,
                    beats_s: &beats,
                    started_at: &started_at,
                    dark: prefers_dark(),
                };
                if let Err(message) = charts::draw(canvas, &spec, &frame, ratio) {
                    error.set(Some(message));
                }
            });
        });
    }
    let session = props.session.borrow();
    let metrics = session.run.shown();
    // Each line's values, summed from its series once per render: its latest value and its trend.
    let values: Vec<Option<Vec<f64>>> =
        props.spec.lines.iter().map(|l| l.values(metrics)).collect();
    let latest: Vec<String> = props
        .spec
        .lines
        .iter()
        .zip(&values)
        .map(|(line, v)| {
            let value = v.as_ref().and_then(|v| v.last().copied()).unwrap_or(0.0);
            format!("{} {}", line.label, format_value(value))
        })
        .collect();
    let started_at = &session.scenario.file.scenario.started_at;
    let at = clock_label(started_at, session.shown_us() as f64 / 1e6);
    let nothing_succeeded = props.spec.gaps_without_success
        && metrics
            .series("success_rps")
            .and_then(|s| s.last().copied())
            .is_some_and(|v| v <= 0.0);
    let mut summary = if nothing_succeeded {
        format!("At {at}: no successful requests, so no latency to show")
    } else {
        format!("At {at}: {} ({})", latest.join(", "), props.spec.y_label)
    };
    // Outcomes come later than offers: what is offered and not yet answered is waiting.
    if props.spec.stacked > 0 {
        let newest = |v: &Option<Vec<f64>>| v.as_ref().and_then(|v| v.last().copied());
        let answered: f64 = values[..props.spec.stacked].iter().filter_map(newest).sum();
        let offered = values
            .get(props.spec.stacked)
            .and_then(newest)
            .unwrap_or(0.0);
        if offered - answered >= 1.0 && offered - answered >= 0.05 * offered {
            summary.push_str(&format!(
                "; {} a second more offered than answered: waiting in queues or for a retry",
                format_value(offered - answered)
            ));
        }
    }
    let t = metrics.series("t_s").unwrap_or_default();
    let trends: Vec<String> = props
        .spec
        .lines
        .iter()
        .zip(&values)
        .filter_map(|(line, v)| trend(&line.label, t, v.as_ref()?, &props.spec.y_label, started_at))
        .collect();
    let trend_id = format!("chart-trend-{}", props.slot);
    let alt = if trends.is_empty() {
        props.spec.title.clone()
    } else {
        format!("{}: {}", props.spec.title, trends.join("; "))
    };
    html! {
        <figure class={classes!("chart", props.spec.watched.then_some("watched"))}>
            <figcaption>
                if props.spec.watched {
                    <span class="watch-badge">{ "Watch now" }</span>
                }
                { props.spec.title.clone() }
            </figcaption>
            <canvas ref={canvas_ref} role="img" aria-label={props.spec.title.clone()} aria-describedby={trend_id.clone()} data-fill={props.fill.then_some("")}></canvas>
            <ul class="legend" aria-hidden="true">
                { for props.spec.lines.iter().enumerate().map(|(i, line)| {
                    let (r, g, b) = line.colour;
                    let kind = if i < props.spec.stacked { "band" } else { "line" };
                    html! { <li class={kind} style={format!("--c: rgb({r}, {g}, {b})")}>{ line.label.clone() }</li> }
                }) }
                if props.compare {
                    <li class="dashed">{ "as it happened" }</li>
                }
            </ul>
            <p id={trend_id} class="visually-hidden">{ alt }</p>
            <p class="chart-values">{ summary }</p>
            if let Some(message) = &*error {
                <p class="error" role="alert">{ format!("The chart could not be drawn: {message}") }</p>
            }
        </figure>
    }
}

/// The trend of a line so far, in words, for people who cannot see the chart: "CPU rose from 20
/// to 100 % CPU from 15:34", "success stayed near 98 per second".
pub fn trend(
    label: &str,
    t_s: &[f64],
    values: &[f64],
    unit: &str,
    started_at: &str,
) -> Option<String> {
    let first = *values.first()?;
    let last = *values.last()?;
    let peak = values.iter().copied().fold(f64::MIN, f64::max);
    let scale = first.abs().max(last.abs()).max(peak.abs()).max(1e-9);
    let unit = if unit.is_empty() {
        String::new()
    } else {
        format!(" {unit}")
    };
    if (last - first).abs() < 0.1 * scale {
        let mut text = format!("{label} stayed near {}{unit}", format_value(last));
        if peak - last.max(first) >= 0.25 * scale {
            let at = values
                .iter()
                .position(|v| *v == peak)
                .and_then(|i| t_s.get(i))?;
            text.push_str(&format!(
                ", with a peak of {} at {}",
                format_value(peak),
                clock_label(started_at, *at)
            ));
        }
        return Some(text);
    }
    let middle = (first + last) / 2.0;
    let crossed = values
        .iter()
        .position(|v| {
            if last > first {
                *v >= middle
            } else {
                *v <= middle
            }
        })
        .and_then(|i| t_s.get(i))?;
    Some(format!(
        "{label} {} from {} to {}{unit} around {}",
        if last > first { "rose" } else { "fell" },
        format_value(first),
        format_value(last),
        clock_label(started_at, *crossed)
    ))
}

/// A value with sensible precision for a caption.
pub fn format_value(value: f64) -> String {
    if !value.is_finite() {
        "—".to_string()
    } else if value.abs() >= 100.0 || value == value.round() {
        format!("{value:.0}")
    } else if value.abs() >= 1.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}
