//! Wall-clock time for budgeting work per animation frame or worker slice (never for the
//! simulation itself).

use wasm_bindgen::JsCast;

/// Milliseconds since the page (or worker) started; 0 outside a browser.
pub fn now_ms() -> f64 {
    // `performance` lives on the global scope of pages and workers alike.
    js_sys::Reflect::get(&js_sys::global(), &"performance".into())
        .ok()
        .and_then(|p| p.dyn_into::<web_sys::Performance>().ok())
        .map_or(0.0, |p| p.now())
}
