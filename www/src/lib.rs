//! Cascade Lab's web front end: a Yew app that runs the simulation core in wasm and draws charts.
//!
//! The UI owns no simulation logic: workers (or, failing them, the page) run the core ahead of
//! the playhead; the page reads the windows computed and draws them.

pub mod app;
#[cfg(feature = "authoring")]
pub mod authoring;
pub mod bundled;
pub mod charts;
pub mod clock;
pub mod components;
pub mod permalink;
#[cfg(feature = "training")]
pub mod progress;
pub mod state;
#[cfg(feature = "authoring")]
pub mod sweep_worker;
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

/// Whether this code runs in a Web Worker (no document) rather than on the page.
pub fn in_worker() -> bool {
    !js_sys::Reflect::has(&js_sys::global(), &"document".into()).unwrap_or(false)
}

/// Mounts the app on the page's `<main id="app">` (or the body). The player's module hands a
/// link to a lesson or a drill over to the training module, and the editor or a scenario of the
/// user's own (`src=`, `#scenario=`, `edit=1`, `author=1`) over to the authoring module.
pub fn start() {
    install_panic_screen();
    #[cfg(not(any(feature = "training", feature = "authoring")))]
    {
        let search = app::location_search();
        let hash = web_sys::window()
            .and_then(|w| w.location().hash().ok())
            .unwrap_or_default();
        if hash.starts_with("#scenario=") || wants_authoring(&search) {
            load_module("cascade-web-authoring.js", "the scenario editor");
            return;
        }
        if search.contains("glossary=")
            || matches!(
                permalink::parse(&search),
                Ok(Some(link)) if link.mode != permalink::Mode::Replay
            )
        {
            load_module("cascade-web-training.js", "lessons and drills");
            return;
        }
    }
    let document = web_sys::window()
        .and_then(|w| w.document())
        .expect("a browser document");
    match document.get_element_by_id("app") {
        Some(root) => yew::Renderer::<app::App>::with_root(root).render(),
        None => yew::Renderer::<app::App>::new().render(),
    };
}

/// Whether a query asks for the editor, a scenario of the user's own or the "What if" panel
/// (`src=`, `set=`, `edit=1`, `author=1`, `whatif=1`; a text search: the page's module reads no more of such a link).
pub fn wants_authoring(search: &str) -> bool {
    let search = search.trim_start_matches('?');
    search.split('&').any(|pair| {
        pair.starts_with("src=")
            || pair.starts_with("set=")
            || pair == "edit=1"
            || pair == "author=1"
            || pair == "whatif=1"
    })
}

/// Imports a module that Trunk builds beside the player's (not preloaded); its start mounts
/// the whole app. If it cannot load, the page says so.
#[cfg(not(any(feature = "training", feature = "authoring")))]
pub fn load_module(file: &str, what: &str) {
    let load = js_sys::Function::new_with_args(
        "u, w",
        "return import(new URL(u, document.baseURI)).then((m) => m.default()).catch((e) => { \
           const root = document.getElementById('app') || document.body; \
           root.textContent = 'Cascade Lab could not load ' + w + ' (' + e + '). Reload the page to try again.'; })",
    );
    let _ = load.call2(&wasm_bindgen::JsValue::NULL, &file.into(), &what.into());
}
