//! Drawing series on a `<canvas>` with plotters-canvas: axes with units, a legend, one line each.

use cascade::metrics::Metrics;
use plotters::prelude::*;
use plotters_canvas::CanvasBackend;
use web_sys::HtmlCanvasElement;

/// One line of a chart.
pub struct Line {
    /// Series name in the metrics.
    pub series: &'static str,
    /// Legend label.
    pub label: &'static str,
    /// Colour.
    pub colour: RGBColor,
}

/// The request-rate chart: offered, successful and failed requests per second.
pub const RATE_LINES: [Line; 3] = [
    Line {
        series: "offered_rps",
        label: "offered",
        colour: RGBColor(90, 110, 140),
    },
    Line {
        series: "success_rps",
        label: "success",
        colour: RGBColor(30, 150, 80),
    },
    Line {
        series: "timeout_rps",
        label: "timeout",
        colour: RGBColor(210, 70, 50),
    },
];

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

/// Draws `lines` of `metrics` over [0, `duration_s`] on `canvas`. Returns an error text if the
/// canvas cannot be drawn on.
pub fn draw(
    canvas: HtmlCanvasElement,
    metrics: &Metrics,
    lines: &[Line],
    duration_s: f64,
    y_label: &str,
    dark: bool,
) -> Result<(), String> {
    let width = canvas.width().max(1);
    let backend =
        CanvasBackend::with_canvas_object(canvas).ok_or("this canvas cannot be drawn on")?;
    let root = backend.into_drawing_area();
    let (background, foreground) = if dark {
        (RGBColor(24, 26, 32), RGBColor(220, 222, 228))
    } else {
        (WHITE, RGBColor(40, 40, 48))
    };
    root.fill(&background).map_err(|e| e.to_string())?;
    let t = metrics.series("t_s").unwrap_or_default();
    let mut y_max: f64 = 1.0;
    for line in lines {
        if let Some(values) = metrics.series(line.series) {
            y_max = values.iter().copied().fold(y_max, f64::max);
        }
    }
    let mut chart = ChartBuilder::on(&root)
        .margin(10)
        .x_label_area_size(32)
        .y_label_area_size(48)
        .build_cartesian_2d(0.0..duration_s.max(1.0), 0.0..y_max * 1.1)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc("virtual time (s)")
        .y_desc(y_label)
        .axis_style(foreground)
        .label_style(("sans-serif", 12).into_font().color(&foreground))
        .light_line_style(foreground.mix(0.08))
        .bold_line_style(foreground.mix(0.15))
        .draw()
        .map_err(|e| e.to_string())?;
    for line in lines {
        let Some(values) = metrics.series(line.series) else {
            continue;
        };
        let points: Vec<(f64, f64)> = t.iter().copied().zip(values.iter().copied()).collect();
        let colour = line.colour;
        chart
            .draw_series(LineSeries::new(
                reduce(&points, width as usize),
                colour.stroke_width(2),
            ))
            .map_err(|e| e.to_string())?
            .label(line.label)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 16, y)], colour.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .background_style(background.mix(0.85))
        .border_style(foreground.mix(0.3))
        .label_font(("sans-serif", 12).into_font().color(&foreground))
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
}
