//! Cascade Lab's web front end: a Yew app that runs the simulation core in wasm and draws charts.
//!
//! The UI owns no simulation logic: it asks the core to run to a time, reads the metrics and
//! draws them.

pub mod app;
pub mod charts;
pub mod clock;
pub mod components;
pub mod permalink;
pub mod state;
pub mod worker;

use wasm_bindgen::JsCast;

/// Shows a visible error with a reload link when the app panics, instead of a blank page.
pub fn install_panic_screen() {
    std::panic::set_hook(Box::new(|info| {
        let message = info.to_string();
        let Some(document) = web_sys::window().and_then(|w| w.document()) else {
            return;
        };
        let Ok(panel) = document.create_element("div") else {
            return;
        };
        panel.set_id("fatal");
        let _ = panel.set_attribute("role", "alert");
        panel.set_inner_html(
            "<h2>Cascade Lab stopped</h2><p>Something went wrong inside the app. \
             <a href=\"\">Reload the page</a> to start again.</p><pre></pre>",
        );
        if let Ok(Some(pre)) = panel.query_selector("pre") {
            pre.set_text_content(Some(&message));
        }
        if let Some(body) = document.body() {
            let _ = body.append_child(panel.unchecked_ref());
        }
    }));
}

/// Runs a bundled scenario to its end three times in this browser and returns
/// `{"scenario", "events", "median_ms", "events_per_s", "sim_s_per_wall_s"}` as JSON (the
/// browser benchmark opens the page with `?bench=ID`).
pub fn bench(id: &str) -> String {
    let Some(Ok(scenario)) = cascade::scenario::find_bundled(id) else {
        return format!("{{\"error\": \"no bundled scenario {id}\"}}");
    };
    let Ok(variant) = scenario.variant(&[], &[]) else {
        return "{\"error\": \"the scenario does not build\"}".to_string();
    };
    let mut times = Vec::new();
    let mut events = 0;
    let mut sim_s = 0.0;
    for _ in 0..3 {
        let mut sim = cascade::Simulation::new(&variant, variant.file.scenario.seed);
        let start = clock::now_ms();
        if let Err(err) = sim.run_to_end() {
            return format!("{{\"error\": \"{err}\"}}");
        }
        times.push(clock::now_ms() - start);
        events = sim.events();
        sim_s = sim.now_us() as f64 / 1e6;
    }
    times.sort_by(f64::total_cmp);
    let ms = times[1].max(0.001);
    format!(
        "{{\"scenario\": \"{id}\", \"events\": {events}, \"median_ms\": {ms:.1}, \"events_per_s\": {:.0}, \"sim_s_per_wall_s\": {:.0}}}",
        events as f64 / ms * 1e3,
        sim_s / ms * 1e3
    )
}

/// Mounts the app on the page's `<main id="app">` (or the body); with `?bench=ID` in the URL,
/// runs the in-browser benchmark instead and shows its result in `<pre id="bench-result">`.
pub fn start() {
    install_panic_screen();
    let search = web_sys::window()
        .and_then(|w| w.location().search().ok())
        .unwrap_or_default();
    if let Some(id) = search
        .trim_start_matches('?')
        .split('&')
        .find_map(|kv| kv.strip_prefix("bench="))
    {
        let result = bench(id);
        if let Some(document) = web_sys::window().and_then(|w| w.document())
            && let (Ok(pre), Some(body)) = (document.create_element("pre"), document.body())
        {
            pre.set_id("bench-result");
            pre.set_text_content(Some(&result));
            let _ = body.append_child(&pre);
        }
        return;
    }
    let document = web_sys::window()
        .and_then(|w| w.document())
        .expect("a browser document");
    match document.get_element_by_id("app") {
        Some(root) => yew::Renderer::<app::App>::with_root(root).render(),
        None => yew::Renderer::<app::App>::new().render(),
    };
}
