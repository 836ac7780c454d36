//! Drawing series on a `<canvas>` with plotters-canvas: axes with units, a legend, the current
//! run's lines, the run as it happened as faint lines, a cursor at the current time and beat
//! markers. The canvas is sized for the device pixel ratio so lines stay sharp.

use cascade::metrics::Metrics;
use plotters::prelude::*;
use plotters_canvas::CanvasBackend;
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

/// The three standard charts plus one per key series of the scenario.
pub fn chart_specs(key_series: &[String]) -> Vec<ChartSpec> {
    let mut specs = vec![
        ChartSpec {
            title: "Request rates".into(),
            y_label: "requests/s".into(),
            lines: vec![
                Line::new("offered", &["offered_rps"], PALETTE[0]),
                Line::new("success", &["success_rps"], PALETTE[1]),
                Line::new(
                    "failed",
                    &["error_rps", "timeout_rps", "shed_rps"],
                    PALETTE[2],
                ),
            ],
        },
        ChartSpec {
            title: "Latency of successful requests".into(),
            y_label: "ms".into(),
            lines: vec![
                Line::new("p50", &["p50_ms"], PALETTE[4]),
                Line::new("p99", &["p99_ms"], PALETTE[3]),
            ],
        },
    ];
    for (i, name) in key_series.iter().enumerate() {
        specs.push(ChartSpec {
            title: describe_series(name),
            y_label: unit_of(name).to_string(),
            lines: vec![Line::new(
                name,
                &[name.as_str()],
                PALETTE[(i + 5) % PALETTE.len()],
            )],
        });
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

/// A readable title for a series name: `db.cpu_pct` ⇒ `db: cpu`.
pub fn describe_series(name: &str) -> String {
    let (component, metric) = name.split_once('.').unwrap_or(("", name));
    let metric = metric
        .rsplit_once('_')
        .map_or(metric, |(m, _)| m)
        .replace('_', " ");
    if component.is_empty() {
        metric
    } else {
        format!("{component}: {metric}")
    }
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
    /// Dark colour scheme.
    pub dark: bool,
}

/// Sizes the canvas's backing store for its CSS size and the device pixel ratio; returns the
/// ratio used.
pub fn fit_canvas(canvas: &HtmlCanvasElement) -> f64 {
    let ratio = web_sys::window()
        .map_or(1.0, |w| w.device_pixel_ratio())
        .clamp(1.0, 3.0);
    let css_width = canvas.client_width().max(200) as f64;
    let css_height = (css_width * 0.42).clamp(110.0, 300.0);
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
    let mut y_max: f64 = 0.0;
    for (_, values) in lines.iter().chain(&faint) {
        y_max = values
            .iter()
            .copied()
            .filter(|v| v.is_finite())
            .fold(y_max, f64::max);
    }
    let y_top = if y_max <= 1.0 && spec.y_label == "ratio" {
        1.05
    } else {
        y_max * 1.12
    };
    let x_end = frame.duration_s.max(1.0);
    let mut chart = ChartBuilder::on(&root)
        .margin((8.0 * ratio) as u32)
        .x_label_area_size((30.0 * ratio) as u32)
        .y_label_area_size((54.0 * ratio) as u32)
        .build_cartesian_2d(0.0..x_end, 0.0..y_top)
        .map_err(|e| e.to_string())?;
    let label_style = ("sans-serif", font).into_font().color(&foreground);
    chart
        .configure_mesh()
        .x_desc("virtual time (s)")
        .y_desc(spec.y_label.as_str())
        .axis_style(foreground)
        .label_style(label_style.clone())
        .axis_desc_style(label_style.clone())
        .light_line_style(TRANSPARENT)
        .bold_line_style(foreground.mix(0.12))
        .x_labels(8)
        .y_labels(6)
        .draw()
        .map_err(|e| e.to_string())?;

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
        chart
            .draw_series(LineSeries::new(
                reduce(&points, width as usize),
                RGBColor(r, g, b).mix(0.3).stroke_width(stroke),
            ))
            .map_err(|e| e.to_string())?;
    }
    for (line, values) in &lines {
        let points: Vec<(f64, f64)> = t.iter().copied().zip(values.iter().copied()).collect();
        let (r, g, b) = line.colour;
        let colour = RGBColor(r, g, b);
        let legend_len = 16.0 * ratio;
        let fresh = frame.fresh_windows.min(points.len());
        if fresh < points.len() {
            // The previous run, faint, until the new one gets there.
            chart
                .draw_series(LineSeries::new(
                    reduce(&points[fresh.saturating_sub(1)..], width as usize),
                    colour.mix(0.35).stroke_width(stroke),
                ))
                .map_err(|e| e.to_string())?;
        }
        chart
            .draw_series(LineSeries::new(
                reduce(&points[..fresh], width as usize),
                colour.stroke_width(stroke),
            ))
            .map_err(|e| e.to_string())?
            .label(line.label.clone())
            .legend(move |(x, y)| {
                PathElement::new(
                    vec![(x, y), (x + legend_len as i32, y)],
                    colour.stroke_width(stroke),
                )
            });
    }
    // The cursor.
    let cursor = vec![(frame.now_s, 0.0), (frame.now_s, y_top)];
    chart
        .draw_series(std::iter::once(PathElement::new(
            cursor,
            foreground.mix(0.5).stroke_width(1),
        )))
        .map_err(|e| e.to_string())?;
    chart
        .configure_series_labels()
        .background_style(background.mix(0.85))
        .border_style(foreground.mix(0.3))
        .label_font(label_style)
        .position(SeriesLabelPosition::UpperRight)
        .draw()
        .map_err(|e| e.to_string())?;
    root.present().map_err(|e| e.to_string())?;
    Ok(())
}

#[cfg(test)]
mod tests {
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
        assert_eq!(describe_series("db.cpu_pct"), "db: cpu");
        assert_eq!(unit_of("db.cpu_pct"), "% CPU");
        assert_eq!(
            describe_series("server-a.queue_depth_req"),
            "server-a: queue depth"
        );
        assert_eq!(chart_specs(&["x.memory_mb".to_string()]).len(), 3);
    }
}
