//! Wall-clock time for budgeting work per animation frame (never for the simulation itself).

/// Milliseconds since the page loaded (0 outside a browser).
pub fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now())
}
