//! Wall-clock time for budgeting work per animation frame or worker slice (never for the
//! simulation itself), and the size of this thread's wasm memory.

use wasm_bindgen::JsCast;

/// Bytes of this thread's wasm memory (it only grows: the peak so far).
pub fn wasm_memory_bytes() -> u64 {
    wasm_bindgen::memory()
        .dyn_into::<js_sys::WebAssembly::Memory>()
        .ok()
        .and_then(|m| m.buffer().dyn_into::<js_sys::ArrayBuffer>().ok())
        .map_or(0, |b| b.byte_length() as u64)
}

/// Milliseconds since the page (or worker) started; 0 outside a browser.
pub fn now_ms() -> f64 {
    // `performance` lives on the global scope of pages and workers alike.
    js_sys::Reflect::get(&js_sys::global(), &"performance".into())
        .ok()
        .and_then(|p| p.dyn_into::<web_sys::Performance>().ok())
        .map_or(0.0, |p| p.now())
}
