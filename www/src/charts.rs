//! Drawing series on a `<canvas>` with plotters-canvas: axes with units, the current run's lines
//! and stacked outcome bands, the run as it happened as dashed lines, a cursor at the current
//! time and beat markers (the legend is HTML beside the canvas, so it never covers the plot). The
//! canvas is sized for the device pixel ratio so lines stay sharp.

use cascade::metrics::Metrics;
use cascade::scenario::Meta;
use cascade::verdict::start_of_day;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters_canvas::CanvasBackend;
use std::collections::BTreeMap;
use web_sys::HtmlCanvasElement;

/// One line of a chart: the sum of some series.
#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    /// Legend label.
    pub label: String,
    /// Series added together (for example error + timeout + shed = failed).
    pub parts: Vec<String>,
    /// Colour.
    pub colour: (u8, u8, u8),
}

impl Line {
    /// A line of one or more series.
    pub fn new(label: &str, parts: &[&str], colour: (u8, u8, u8)) -> Line {
        Line {
            label: label.to_string(),
            parts: parts.iter().map(|p| p.to_string()).collect(),
            colour,
        }
    }

    /// Its values in `metrics` (None when a series is missing).
    pub fn values(&self, metrics: &Metrics) -> Option<Vec<f64>> {
        let mut sum = vec![0.0; metrics.len()];
        for part in &self.parts {
            for (s, v) in sum.iter_mut().zip(metrics.series(part)?) {
                *s += v;
            }
        }
        Some(sum)
    }
}

/// What one chart shows.
#[derive(Clone, Debug, PartialEq)]
pub struct ChartSpec {
    /// Title and accessible name.
    pub title: String,
    /// Unit label of the y axis.
    pub y_label: String,
    /// Lines.
    pub lines: Vec<Line>,
    /// Latencies of successful requests: a window in which nothing succeeded has no latency, and
    /// is left as a gap rather than drawn as 0 ms (which would read as an improvement).
    pub gaps_without_success: bool,
    /// How many of the first lines are outcomes, drawn as bands stacked on each other, so that
    /// they add up under the line of what was offered.
    pub stacked: usize,
    /// The current beat says to look at this chart.
    pub watched: bool,
}

/// Palette that reads on light and dark backgrounds.
pub const PALETTE: [(u8, u8, u8); 6] = [
    (70, 110, 200),
    (40, 160, 90),
    (220, 80, 60),
    (200, 140, 30),
    (150, 90, 200),
    (40, 160, 170),
];

/// Grey, for requests shed.
const SHED: (u8, u8, u8) = (130, 130, 140);

/// A chart title for a series: the scenario's own label, or its component and what it measures.
pub fn series_title(labels: &BTreeMap<String, String>, name: &str) -> String {
    labels
        .get(name)
        .cloned()
        .unwrap_or_else(|| describe_series(name))
}

/// The charts of a scenario: what happened to requests (outcomes stacked under what was
/// offered), their latency, one chart per key series, and the series the current beat says to
/// `watch` (its chart marked; a chart of its own after the first two when no other shows it).
pub fn chart_specs(meta: &Meta, watch: &str) -> Vec<ChartSpec> {
    let chart = |title: String, y_label: &str, lines: Vec<Line>| ChartSpec {
        title,
        y_label: y_label.to_string(),
        lines,
        gaps_without_success: false,
        stacked: 0,
        watched: false,
    };
    let mut outcomes = chart(
        "What happened to requests".into(),
        "requests/s",
        vec![
            Line::new("succeeded", &["success_rps"], PALETTE[1]),
            Line::new("errors", &["error_rps"], PALETTE[2]),
            Line::new("timed out", &["timeout_rps"], PALETTE[3]),
            Line::new("shed", &["shed_rps"], SHED),
            Line::new("offered", &["offered_rps"], PALETTE[0]),
        ],
    );
    outcomes.stacked = 4;
    let mut latency = chart(
        "Latency of successful requests".into(),
        "ms",
        vec![
            Line::new("p50", &["p50_ms"], PALETTE[4]),
            Line::new("p99", &["p99_ms"], PALETTE[3]),
        ],
    );
    latency.gaps_without_success = true;
    let mut specs = vec![outcomes, latency];
    // Titled in the scenario's terms; the legend says what is measured.
    let key_chart = |name: &str, colour| {
        chart(
            series_title(&meta.series_labels, name),
            unit_of(name),
            vec![Line {
                label: metric_label(name),
                parts: vec![name.to_string()],
                colour,
            }],
        )
    };
    for (i, name) in meta.key_series.iter().enumerate() {
        specs.push(key_chart(name, PALETTE[(i + 5) % PALETTE.len()]));
    }
    if !watch.is_empty() {
        match specs
            .iter_mut()
            .find(|c| c.lines.iter().any(|l| l.parts.iter().any(|p| p == watch)))
        {
            Some(shown) => shown.watched = true,
            None => {
                let mut watched = key_chart(watch, PALETTE[4]);
                watched.watched = true;
                specs.insert(2, watched);
            }
        }
    }
    specs
}

/// The unit a series name ends with, for the axis.
pub fn unit_of(name: &str) -> &'static str {
    let suffix = name.rsplit('_').next().unwrap_or("");
    match suffix {
        "rps" => "per second",
        "ms" => "ms",
        "mb" => "MB",
        "pct" => "% CPU",
        "ratio" => "ratio",
        "req" => "requests",
        "count" => "count",
        _ => "",
    }
}

/// What a series measures, in words: `db.cpu_pct` ⇒ `CPU`, `api.healthy_instances_count` ⇒
/// `instances in service`; a name it does not know loses its unit and underscores.
pub fn metric_label(name: &str) -> String {
    let metric = name.split_once('.').map_or(name, |(_, m)| m);
    let known = match metric {
        "cpu_pct" => "CPU",
        "queue_depth_req" => "queued requests",
        "busy_workers_count" => "busy workers",
        "healthy_instances_count" => "instances in service",
        "memory_mb" => "memory (largest instance)",
        "connections_count" => "open connections",
        "restarts_count" => "crashes and restarts",
        "arrivals_rps" => "requests arriving",
        "failed_rps" => "requests failed",
        "p50_ms" => "median latency",
        "running_queries_count" => "running queries",
        "queued_queries_count" => "queued queries",
        "killed_queries_count" => "killed queries",
        "queries_rps" => "queries",
        "hit_ratio" => "cache hit ratio",
        "connected_count" => "connected",
        "success_rps" => "successful requests",
        "error_rps" => "errors",
        "timeout_rps" => "timeouts",
        "offered_rps" => "requests offered",
        _ => "",
    };
    if !known.is_empty() {
        return known.to_string();
    }
    metric
        .rsplit_once('_')
        .map_or(metric, |(m, _)| m)
        .replace('_', " ")
}

/// A chart title for a series: its component, then what it measures (`db.cpu_pct` ⇒ `db · CPU`).
pub fn describe_series(name: &str) -> String {
    match name.split_once('.') {
        Some((component, _)) => format!("{component} · {}", metric_label(name)),
        None => {
            // ASCII only: Unicode case tables would cost the module kilobytes.
            let mut label = metric_label(name);
            if let Some(first) = label.get_mut(..1) {
                first.make_ascii_uppercase();
            }
            label
        }
    }
}

/// A time-axis tick in the player's clock: the time of day where the scenario has a start time
/// (`15:34`, with seconds for runs under ten minutes), else minutes and seconds of the run.
pub fn clock_tick(started_at: &str, t_s: f64, duration_s: f64) -> String {
    let label = cascade::verdict::clock_label(started_at, t_s);
    let clock = label.split(' ').next().unwrap_or(&label);
    if clock.matches(':').count() == 2 && duration_s >= 600.0 {
        clock[..clock.len() - 3].to_string()
    } else {
        clock.to_string()
    }
}

/// Where the time axis has its ticks, s into the run: at most `max_ticks`, on round times of the
/// player's clock (every 2, 5, 10, 15, 30 minutes, an hour…), so that labels read 15:40, 15:50.
pub fn time_ticks(started_at: &str, duration_s: f64, max_ticks: usize) -> Vec<f64> {
    const STEPS_S: [f64; 15] = [
        5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1_800.0, 3_600.0, 7_200.0,
        10_800.0, 21_600.0, 43_200.0,
    ];
    let start_s = start_of_day(started_at).map_or(0.0, |(start, _)| start as f64);
    let step = STEPS_S
        .iter()
        .copied()
        .find(|step| duration_s / step <= max_ticks.max(1) as f64)
        .unwrap_or(86_400.0);
    let mut ticks = Vec::new();
    let mut t = (start_s / step).ceil() * step - start_s;
    while t <= duration_s + 1e-6 {
        ticks.push(t);
        t += step;
    }
    ticks
}

/// The time axis's description: its zone where the clock is a time of day.
pub fn clock_axis(started_at: &str) -> String {
    match start_of_day(started_at) {
        Some((_, "")) => "time of day".to_string(),
        Some((_, zone)) => format!("time ({zone})"),
        None => "time into the run (min:s)".to_string(),
    }
}

/// The runs of consecutive points where `keep` holds, each as its own line.
fn segments(points: &[(f64, f64)], keep: &[bool]) -> Vec<Vec<(f64, f64)>> {
    let mut out: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut current = Vec::new();
    for (i, p) in points.iter().enumerate() {
        if keep.get(i).copied().unwrap_or(true) {
            current.push(*p);
        } else if !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// Keeps at most about `max_points` points of a series by taking the max in each bucket, so
/// that plotters makes few JS calls and peaks stay visible.
pub fn reduce(points: &[(f64, f64)], max_points: usize) -> Vec<(f64, f64)> {
    if points.len() <= max_points || max_points == 0 {
        return points.to_vec();
    }
    let per = points.len().div_ceil(max_points);
    points
        .chunks(per)
        .map(|chunk| {
            let t = chunk[chunk.len() - 1].0;
            let v = chunk.iter().map(|p| p.1).fold(f64::MIN, f64::max);
            (t, v)
        })
        .collect()
}

/// Everything a chart draws besides its spec.
pub struct Frame<'a> {
    /// The run watched.
    pub metrics: &'a Metrics,
    /// How many of `metrics`' windows belong to the run watched; the rest are the previous run's,
    /// shown faint until the new run replaces them.
    pub fresh_windows: usize,
    /// The run as it happened, drawn faint (compare mode).
    pub baseline: Option<&'a Metrics>,
    /// Length of the run, s.
    pub duration_s: f64,
    /// The cursor, s.
    pub now_s: f64,
    /// Beat times, s.
    pub beats_s: &'a [f64],
    /// The scenario's start time ("15:32 UTC"), for the time axis; empty: minutes and seconds.
    pub started_at: &'a str,
    /// Dark colour scheme.
    pub dark: bool,
}

/// A y-axis label: whole numbers from 10 up and where whole, one decimal below ("600", "0",
/// "2.5").
fn axis_number(value: &f64) -> String {
    if value.abs() >= 10.0 || *value == value.round() {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    }
}

/// Sizes the canvas's backing store for its CSS size and the device pixel ratio; returns the
/// ratio used.
pub fn fit_canvas(canvas: &HtmlCanvasElement) -> f64 {
    let ratio = web_sys::window()
        .map_or(1.0, |w| w.device_pixel_ratio())
        .clamp(1.0, 3.0);
    let css_width = canvas.client_width().max(200) as f64;
    // A chart that fills its box (an embed) takes the height the page gives it.
    let css_height = if canvas.has_attribute("data-fill") {
        (canvas.client_height() as f64).max(80.0)
    } else {
        (css_width * 0.42).clamp(110.0, 300.0)
    };
    let width = (css_width * ratio).round() as u32;
    let height = (css_height * ratio).round() as u32;
    if canvas.width() != width || canvas.height() != height {
        canvas.set_width(width);
        canvas.set_height(height);
    }
    ratio
}

/// Draws `spec` on `canvas`. Returns an error text if the canvas cannot be drawn on.
pub fn draw(
    canvas: HtmlCanvasElement,
    spec: &ChartSpec,
    frame: &Frame<'_>,
    ratio: f64,
) -> Result<(), String> {
    let width = canvas.width().max(1);
    // A small chart gives its axes' descriptions up (the title and legend say them) and keeps
    // its room for the plot.
    let canvas_height_css = canvas.height() as f64 / ratio;
    let compact = canvas_height_css < 170.0 || (width as f64 / ratio) < 360.0;
    let backend =
        CanvasBackend::with_canvas_object(canvas).ok_or("this canvas cannot be drawn on")?;
    let root = backend.into_drawing_area();
    let (background, foreground) = if frame.dark {
        (RGBColor(30, 33, 40), RGBColor(220, 222, 228))
    } else {
        (WHITE, RGBColor(40, 40, 48))
    };
    root.fill(&background).map_err(|e| e.to_string())?;
    let font = (12.0 * ratio) as u32;
    let lines: Vec<(&Line, Vec<f64>)> = spec
        .lines
        .iter()
        .filter_map(|l| l.values(frame.metrics).map(|v| (l, v)))
        .collect();
    let faint: Vec<(&Line, Vec<f64>)> = match frame.baseline {
        Some(b) => spec
            .lines
            .iter()
            .filter_map(|l| l.values(b).map(|v| (l, v)))
            .collect(),
        None => Vec::new(),
    };
    // Outcome bands: each one's upper edge is the sum of it and the bands below.
    let stacked = spec.stacked.min(lines.len());
    let mut edges: Vec<Vec<f64>> = Vec::with_capacity(stacked);
    for (_, values) in &lines[..stacked] {
        let below = edges
            .last()
            .cloned()
            .unwrap_or_else(|| vec![0.0; values.len()]);
        edges.push(below.iter().zip(values).map(|(a, b)| a + b).collect());
    }
    // Of the run as it happened, the outcome bands are traced by their first edge only.
    let faint: Vec<(&Line, Vec<f64>)> = faint
        .into_iter()
        .enumerate()
        .filter(|(i, _)| stacked == 0 || *i == 0 || *i >= stacked)
        .map(|(_, f)| f)
        .collect();
    let mut y_max: f64 = 0.0;
    for values in lines[stacked..]
        .iter()
        .chain(&faint)
        .map(|(_, v)| v)
        .chain(edges.last())
    {
        y_max = values
            .iter()
            .copied()
            .filter(|v| v.is_finite())
            .fold(y_max, f64::max);
    }
    let y_top = if y_max <= 1.0 && spec.y_label == "ratio" {
        1.05
    } else if y_max <= 0.0 {
        1.0 // a series that stays at 0 sits at the bottom of a 0-1 axis
    } else {
        y_max * 1.12
    };
    let x_end = frame.duration_s.max(1.0);
    let css_width = width as f64 / ratio;
    let x_ticks = ((css_width / 90.0) as usize).clamp(3, 8);
    let ticks = time_ticks(frame.started_at, x_end, x_ticks);
    let (x_area, y_area) = if compact { (22.0, 42.0) } else { (36.0, 54.0) };
    let plot_height_css = canvas_height_css - x_area - 16.0;
    let mut chart = ChartBuilder::on(&root)
        .margin((8.0 * ratio) as u32)
        .x_label_area_size((x_area * ratio) as u32)
        .y_label_area_size((y_area * ratio) as u32)
        .build_cartesian_2d(0.0..x_end, 0.0..y_top)
        .map_err(|e| e.to_string())?;
    let label_style = ("sans-serif", font).into_font().color(&foreground);
    let (x_desc, y_desc) = if compact {
        (String::new(), "")
    } else {
        (clock_axis(frame.started_at), spec.y_label.as_str())
    };
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .axis_style(foreground)
        .label_style(label_style.clone())
        .axis_desc_style(label_style.clone())
        .light_line_style(TRANSPARENT)
        .bold_line_style(foreground.mix(0.12))
        .x_labels(0) // drawn below, on round times of the clock
        .disable_x_mesh()
        .y_labels(((plot_height_css / 30.0) as usize).clamp(2, 6))
        .y_label_formatter(&axis_number)
        .draw()
        .map_err(|e| e.to_string())?;

    // The time axis: labels and faint grid lines on round times of the player's clock.
    for &t in &ticks {
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(t, 0.0), (t, y_top)],
                foreground.mix(0.12),
            )))
            .map_err(|e| e.to_string())?;
        let (px, py) = chart.backend_coord(&(t, 0.0));
        root.draw(&Text::new(
            clock_tick(frame.started_at, t, frame.duration_s),
            (px, py + (6.0 * ratio) as i32),
            label_style.clone().pos(Pos::new(HPos::Center, VPos::Top)),
        ))
        .map_err(|e| e.to_string())?;
    }

    // Beat markers: short ticks along the top edge.
    for &beat in frame.beats_s {
        let tick = vec![(beat, y_top), (beat, y_top * 0.94)];
        chart
            .draw_series(std::iter::once(PathElement::new(
                tick,
                foreground.mix(0.6).stroke_width(2),
            )))
            .map_err(|e| e.to_string())?;
    }
    let stroke = (2.0 * ratio).round() as u32;
    let t = frame.metrics.series("t_s").unwrap_or_default();
    for (line, values) in &faint {
        let t_base = frame
            .baseline
            .and_then(|b| b.series("t_s"))
            .unwrap_or_default();
        let points: Vec<(f64, f64)> = t_base.iter().copied().zip(values.iter().copied()).collect();
        let (r, g, b) = line.colour;
        // Dashed: every other run of a few points (drawn with the same series type as the
        // solid lines; plotters' dashed series would add code to the module).
        // Dashes of about 6 px, whatever the number of points (a short run has few, far apart).
        let reduced = reduce(&points, width as usize / 2);
        let segment_px = width as f64 / reduced.len().max(1) as f64;
        let per_dash = ((6.0 * ratio / segment_px).ceil() as usize).max(1);
        for start in (0..reduced.len()).step_by(2 * per_dash) {
            let dash = &reduced[start..(start + per_dash + 1).min(reduced.len())];
            chart
                .draw_series(LineSeries::new(
                    dash.to_vec(),
                    RGBColor(r, g, b).mix(0.7).stroke_width(stroke),
                ))
                .map_err(|e| e.to_string())?;
        }
    }
    // Where nothing succeeded, latencies of successful requests do not exist.
    let succeeded: Vec<bool> = if spec.gaps_without_success {
        frame
            .metrics
            .series("success_rps")
            .map(|s| s.iter().map(|v| *v > 0.0).collect())
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    let fresh_windows = frame.fresh_windows.min(t.len());
    let zeros = vec![0.0; t.len()];
    for (k, (line, _)) in lines[..stacked].iter().enumerate() {
        let (r, g, b) = line.colour;
        let colour = RGBColor(r, g, b);
        let lower = if k == 0 { &zeros } else { &edges[k - 1] };
        // This run's windows, then the previous run's (faint) until this one gets there.
        for (from, to, alpha) in [
            (0, fresh_windows, 0.6),
            (fresh_windows.saturating_sub(1), t.len(), 0.2),
        ] {
            if to < from + 2 {
                continue;
            }
            let edge = |values: &[f64]| {
                let points: Vec<(f64, f64)> = t[from..to]
                    .iter()
                    .copied()
                    .zip(values[from..to].iter().copied())
                    .collect();
                reduce(&points, width as usize / 2)
            };
            let mut outline = edge(&edges[k]);
            outline.extend(edge(lower).into_iter().rev());
            chart
                .draw_series(std::iter::once(Polygon::new(
                    outline,
                    colour.mix(alpha).filled(),
                )))
                .map_err(|e| e.to_string())?;
        }
    }
    for (line, values) in &lines[stacked..] {
        let points: Vec<(f64, f64)> = t.iter().copied().zip(values.iter().copied()).collect();
        let (r, g, b) = line.colour;
        let colour = RGBColor(r, g, b);
        let fresh = frame.fresh_windows.min(points.len());
        let keep = |from: usize| succeeded.get(from..).unwrap_or(&[]).to_vec();
        if fresh < points.len() {
            // The previous run, faint, until the new one gets there.
            let from = fresh.saturating_sub(1);
            for part in segments(&points[from..], &keep(from)) {
                chart
                    .draw_series(LineSeries::new(
                        reduce(&part, width as usize),
                        colour.mix(0.35).stroke_width(stroke),
                    ))
                    .map_err(|e| e.to_string())?;
            }
        }
        let mut parts = segments(&points[..fresh], &keep(0));
        if parts.is_empty() {
            parts.push(Vec::new()); // still one (empty) series, for the legend
        }
        for part in parts.iter().skip(1) {
            chart
                .draw_series(LineSeries::new(
                    reduce(part, width as usize),
                    colour.stroke_width(stroke),
                ))
                .map_err(|e| e.to_string())?;
        }
        chart
            .draw_series(LineSeries::new(
                reduce(&parts[0], width as usize),
                colour.stroke_width(stroke),
            ))
            .map_err(|e| e.to_string())?;
    }
    // The cursor.
    let cursor = vec![(frame.now_s, 0.0), (frame.now_s, y_top)];
    chart
        .draw_series(std::iter::once(PathElement::new(
            cursor,
            foreground.mix(0.5).stroke_width(1),
        )))
        .map_err(|e| e.to_string())?;
    root.present().map_err(|e| e.to_string())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[wasm_bindgen_test]
    fn the_time_axis_speaks_the_clock_of_the_timeline() {
        assert_eq!(clock_tick("15:32 UTC", 120.0, 2_820.0), "15:34");
        assert_eq!(clock_tick("15:32 UTC", 125.0, 300.0), "15:34:05");
        assert_eq!(clock_tick("", 125.0, 300.0), "2:05");
        assert_eq!(clock_axis("15:32 UTC"), "time (UTC)");
        assert_eq!(clock_axis(""), "time into the run (min:s)");
    }

    #[wasm_bindgen_test]
    fn time_ticks_fall_on_round_times_of_the_clock() {
        // Svix: 15:24 UTC, 47 min 20 s: ticks every 10 minutes from 15:30.
        let ticks = time_ticks("15:24 UTC", 2_840.0, 6);
        assert_eq!(ticks.first(), Some(&360.0));
        assert!(ticks.windows(2).all(|w| w[1] - w[0] == 600.0));
        assert_eq!(clock_tick("15:24 UTC", ticks[1], 2_840.0), "15:40");
        // No start time: whole minutes into the run.
        assert_eq!(
            time_ticks("", 300.0, 5),
            vec![0.0, 60.0, 120.0, 180.0, 240.0, 300.0]
        );
    }

    #[wasm_bindgen_test]
    fn a_gap_splits_a_line_where_nothing_succeeded() {
        let points = [(1.0, 5.0), (2.0, 0.0), (3.0, 0.0), (4.0, 7.0)];
        let parts = segments(&points, &[true, false, false, true]);
        assert_eq!(parts, vec![vec![(1.0, 5.0)], vec![(4.0, 7.0)]]);
    }

    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn reduce_keeps_peaks_and_bounds_the_count() {
        let points: Vec<(f64, f64)> = (0..1000)
            .map(|i| (i as f64, if i == 500 { 99.0 } else { 1.0 }))
            .collect();
        let reduced = reduce(&points, 100);
        assert!(reduced.len() <= 100);
        assert!(reduced.iter().any(|p| p.1 == 99.0));
    }

    #[wasm_bindgen_test]
    fn series_names_become_titles_and_units() {
        assert_eq!(describe_series("db.cpu_pct"), "db · CPU");
        assert_eq!(unit_of("db.cpu_pct"), "% CPU");
        assert_eq!(
            describe_series("server-a.queue_depth_req"),
            "server-a · queued requests"
        );
        assert_eq!(describe_series("x.new_thing_count"), "x · new thing");
        assert_eq!(describe_series("success_rps"), "Successful requests");
    }

    #[wasm_bindgen_test]
    fn charts_follow_the_scenario_and_the_beat() {
        use cascade::scenario::from_tree::FromTree;
        let mut meta = Meta::fallback();
        meta.key_series = vec!["x.memory_mb".to_string()];
        meta.series_labels
            .insert("x.memory_mb".to_string(), "Echo heap".to_string());
        let specs = chart_specs(&meta, "");
        assert_eq!(specs.len(), 3);
        assert_eq!(specs[2].title, "Echo heap");
        assert!(specs.iter().all(|c| !c.watched));
        // Outcomes add up: four stacked bands under the offered line.
        assert_eq!(specs[0].stacked, 4);
        assert_eq!(specs[0].lines[4].parts, vec!["offered_rps".to_string()]);
        // A watched series already charted marks its chart; another one gets a chart, third.
        let specs = chart_specs(&meta, "x.memory_mb");
        assert_eq!(specs.len(), 3);
        assert!(specs[2].watched);
        let specs = chart_specs(&meta, "db.cpu_pct");
        assert_eq!(specs.len(), 4);
        assert!(specs[2].watched && specs[2].title == "db · CPU");
        assert!(chart_specs(&meta, "timeout_rps")[0].watched);
    }
}
