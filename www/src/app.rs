//! The app shell: the gallery, or an open scenario with its controls, timeline, story, fixes,
//! charts and system view; the animation-frame loop and the keyboard shortcuts.

use crate::charts::chart_specs;
use crate::components::chart::Chart;
use crate::components::controls::Controls;
#[cfg(feature = "training")]
use crate::components::drill::{Debrief, DrillPanel};
use crate::components::fixes::Fixes;
use crate::components::gallery::Gallery;
#[cfg(feature = "training")]
use crate::components::glossary::GlossaryDialog;
use crate::components::glossary::Terms;
use crate::components::help::Help;
#[cfg(feature = "training")]
use crate::components::lesson::LessonCard;
use crate::components::narration::Narration;
use crate::components::share::{self, Share};
use crate::components::story::Story;
use crate::components::timeline::{Marker, Timeline};
use crate::components::topology::Topology;
use crate::permalink;
use crate::permalink::Mode;
use crate::state::{Action, Player, Slot, Workers, bundled_entries};
use crate::worker::RunWorker;
use gloo_worker::Spawnable;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;
use web_sys::KeyboardEvent;
#[cfg(feature = "authoring")]
use yew::functional::UseReducerDispatcher;
use yew::prelude::*;

/// Wall time the simulation may use per animation frame, ms (the rest is for drawing).
pub const FRAME_BUDGET_MS: f64 = 8.0;

/// The frame callback, kept alive while frames are requested.
type FrameHandle = Rc<RefCell<Option<Closure<dyn FnMut(f64)>>>>;

/// Runs `on_frame(ms since the previous frame)` on every animation frame while mounted.
#[hook]
fn use_animation_frames(on_frame: Callback<f64>) {
    use_effect_with((), move |_| {
        let stopped = Rc::new(Cell::new(false));
        let handle: FrameHandle = Rc::new(RefCell::new(None));
        let last = Rc::new(Cell::new(None::<f64>));
        let request = |handle: &FrameHandle| {
            if let (Some(window), Some(closure)) = (web_sys::window(), handle.borrow().as_ref()) {
                let _ = window.request_animation_frame(closure.as_ref().unchecked_ref());
            }
        };
        {
            let stopped = stopped.clone();
            let handle_inner = handle.clone();
            *handle.borrow_mut() = Some(Closure::new(move |timestamp: f64| {
                if stopped.get() {
                    return;
                }
                let elapsed = last.get().map_or(0.0, |previous| timestamp - previous);
                last.set(Some(timestamp));
                on_frame.emit(elapsed);
                request(&handle_inner);
            }));
        }
        request(&handle);
        move || {
            stopped.set(true);
            handle.borrow_mut().take();
        }
    });
}

/// The URLs of this page's own module: its JavaScript glue and its wasm, as Trunk links them
/// for preloading (absolute, resolved against the page). None outside a Trunk-built page.
fn own_module_urls() -> Option<(String, String)> {
    let document = web_sys::window()?.document()?;
    let href = |selector: &str| -> Option<String> {
        let link = document.query_selector(selector).ok()??;
        Some(link.dyn_into::<web_sys::HtmlLinkElement>().ok()?.href())
    };
    let glue = href("link[rel=modulepreload][href$='.js']")?;
    let wasm = href("link[rel=preload][href$='.wasm']")?;
    Some((glue, wasm))
}

/// A loader for a worker that runs this very module (so the page and its workers download one
/// wasm, not two): a classic worker script that imports the page's glue and starts it; the
/// module's `main` sees it has no document and serves simulation requests.
pub(crate) fn worker_loader_url(glue: &str, wasm: &str) -> Option<String> {
    let script = format!(
        "import({}).then((m) => m.default({{ module_or_path: {} }}));",
        js_string(glue)?,
        js_string(wasm)?
    );
    let parts = js_sys::Array::of1(&script.into());
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("text/javascript");
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options).ok()?;
    web_sys::Url::create_object_url_with_blob(&blob).ok()
}

/// `text` as a JavaScript string literal: the browser's own `JSON.stringify` quotes it.
fn js_string(text: &str) -> Option<String> {
    js_sys::JSON::stringify(&text.into()).ok().map(String::from)
}

/// Starts the two simulation workers (the watched run, the run as it happened); none where the
/// page cannot start workers, and runs are then computed on the page.
fn spawn_workers(dispatcher: &UseReducerDispatcher<Player>) -> Option<Rc<Workers>> {
    let global = js_sys::global();
    if !js_sys::Reflect::has(&global, &"Worker".into()).unwrap_or(false) {
        return None;
    }
    let (glue, wasm) = own_module_urls()?;
    let loader = worker_loader_url(&glue, &wasm)?;
    let bridge = |slot: Slot| {
        let dispatcher = dispatcher.clone();
        RunWorker::spawner()
            .callback(move |message| dispatcher.dispatch(Action::Worker(slot, message)))
            .spawn_with_loader(&loader)
    };
    Some(Rc::new(Workers([
        bridge(Slot::Run),
        bridge(Slot::Baseline),
    ])))
}

/// The page URL's query (with `?`), or nothing.
pub fn location_search() -> String {
    web_sys::window()
        .and_then(|w| w.location().search().ok())
        .unwrap_or_default()
}

/// Maps a key press to an action, unless the user is typing in a field. Space on a focused
/// button, link or disclosure presses that control, as everywhere else on the web.
fn key_action(event: &KeyboardEvent) -> Option<Action> {
    let tag = event
        .target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        .map(|e| e.tag_name())
        .unwrap_or_default();
    let typing = matches!(tag.as_str(), "INPUT" | "SELECT" | "TEXTAREA");
    let pressable = matches!(tag.as_str(), "BUTTON" | "A" | "SUMMARY");
    if event.key() == "Escape" {
        return Some(Action::CloseHelp);
    }
    if typing || event.ctrl_key() || event.meta_key() || event.alt_key() {
        return None;
    }
    match (event.key().as_str(), event.shift_key()) {
        (" ", _) if pressable => None,
        (" ", _) => Some(Action::TogglePlay),
        ("ArrowRight", false) => Some(Action::StepForward),
        ("ArrowLeft", false) => Some(Action::StepBack),
        ("ArrowRight", true) => Some(Action::NextBeat),
        ("ArrowLeft", true) => Some(Action::PrevBeat),
        ("Home", _) => Some(Action::Reset),
        ("?", _) => Some(Action::ToggleHelp),
        ("c" | "C", _) => Some(Action::ToggleCompare),
        _ => None,
    }
}

/// The bytes at `url` (relative to the page), or why they could not be fetched.
pub(crate) async fn fetch_bytes(url: &str) -> Result<Vec<u8>, String> {
    use wasm_bindgen_futures::JsFuture;
    let failed = |what: &str| format!("could not fetch {url} ({what}).");
    let window = web_sys::window().ok_or_else(|| failed("no window"))?;
    let response: web_sys::Response = JsFuture::from(window.fetch_with_str(url))
        .await
        .map_err(|_| failed("network error"))?
        .unchecked_into();
    if !response.ok() {
        return Err(failed(&format!(
            "the server answered {}",
            response.status()
        )));
    }
    let promise = response.array_buffer().map_err(|_| failed("unreadable"))?;
    let buffer = JsFuture::from(promise)
        .await
        .map_err(|_| failed("interrupted"))?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}

/// The whole page.
#[component]
pub fn App() -> Html {
    let player = use_reducer(|| {
        let mut player = Player::new(bundled_entries());
        // A permalink opens in a task of its own, after the page's first render: until then
        // the page shows that it is opening rather than the gallery.
        player.opening = matches!(permalink::parse(&location_search()), Ok(Some(_)));
        // The player's module sends its "Glossary" button here with `glossary=1`: the dialog
        // opens once the glossary has loaded.
        if location_search().contains("glossary=") {
            player.glossary_term = Some(String::new());
        }
        player
    });
    let dispatch = {
        let dispatcher = player.dispatcher();
        Callback::from(move |action: Action| dispatcher.dispatch(action))
    };
    {
        // The simulation workers, started once: runs are computed there, off this thread.
        let dispatcher = player.dispatcher();
        use_effect_with((), move |_| {
            if let Some(workers) = spawn_workers(&dispatcher) {
                dispatcher.dispatch(Action::UseWorkers(workers));
            }
        });
    }
    {
        let dispatcher = player.dispatcher();
        use_animation_frames(Callback::from(move |wall_ms: f64| {
            dispatcher.dispatch(Action::Frame {
                wall_ms,
                budget_ms: FRAME_BUDGET_MS,
            });
        }));
    }
    {
        let dispatcher = player.dispatcher();
        let open = player.session.is_some();
        use_effect_with(open, move |&open| {
            let listener = Closure::<dyn FnMut(KeyboardEvent)>::new(move |event: KeyboardEvent| {
                if !open && event.key() != "Escape" {
                    return;
                }
                if let Some(action) = key_action(&event) {
                    if matches!(action, Action::TogglePlay) || event.key().starts_with("Arrow") {
                        event.prevent_default();
                    }
                    dispatcher.dispatch(action);
                }
            });
            let window = web_sys::window();
            if let Some(w) = &window {
                let _ = w
                    .add_event_listener_with_callback("keydown", listener.as_ref().unchecked_ref());
            }
            move || {
                if let Some(w) = window {
                    let _ = w.remove_event_listener_with_callback(
                        "keydown",
                        listener.as_ref().unchecked_ref(),
                    );
                }
            }
        });
    }

    // Charts follow the colour scheme: redraw when it changes.
    {
        let dispatcher = player.dispatcher();
        use_effect_with((), move |_| {
            let query = web_sys::window()
                .and_then(|w| w.match_media("(prefers-color-scheme: dark)").ok().flatten());
            let listener = Closure::<dyn FnMut()>::new(move || dispatcher.dispatch(Action::Redraw));
            if let Some(q) = &query {
                let _ =
                    q.add_event_listener_with_callback("change", listener.as_ref().unchecked_ref());
            }
            move || {
                if let Some(q) = query {
                    let _ = q.remove_event_listener_with_callback(
                        "change",
                        listener.as_ref().unchecked_ref(),
                    );
                }
            }
        });
    }
    // Fetch a scenario's file when one is asked for and not here yet.
    {
        let dispatcher = player.dispatcher();
        let url = player
            .fetching
            .as_ref()
            .map(|f| player.entries[f.index].url());
        use_effect_with(url, move |url| {
            if let Some(url) = url.clone() {
                yew::platform::spawn_local(async move {
                    dispatcher.dispatch(Action::Fetched(fetch_bytes(&url).await));
                });
            }
        });
    }
    // The glossary: embedded in component tests, fetched (once, after the first render) on the site.
    {
        let dispatcher = player.dispatcher();
        use_effect_with((), move |_| {
            #[cfg(not(feature = "training"))]
            let _ = dispatcher;
            #[cfg(feature = "training")]
            let bundled = crate::bundled::glossary();
            #[cfg(feature = "training")]
            match bundled.embedded {
                Some(bytes) => dispatcher.dispatch(Action::GlossaryFetched(Ok(bytes.to_vec()))),
                None => {
                    let url = crate::bundled::url(bundled);
                    yew::platform::spawn_local(async move {
                        dispatcher.dispatch(Action::GlossaryFetched(fetch_bytes(&url).await));
                    });
                }
            }
        });
    }
    // Open what the URL's permalink describes, once.
    {
        let dispatcher = player.dispatcher();
        use_effect_with((), move |_| match permalink::parse(&location_search()) {
            #[cfg(feature = "authoring")]
            parsed if open_own(parsed.clone(), &dispatcher) => {}
            Ok(Some(link)) => yew::platform::spawn_local(async move {
                yew::platform::time::sleep(std::time::Duration::ZERO).await;
                dispatcher.dispatch(Action::OpenLink(link));
            }),
            Ok(None) => {}
            Err(message) => dispatcher.dispatch(Action::ShowMessage(format!(
                "{message} Here are all the outages instead."
            ))),
        });
    }
    // Keep the URL in step with what is shown (not while playing: no flood of updates), without
    // adding to the history.
    let link = player.link();
    {
        let quiet = player.playing;
        use_effect_with((link.clone(), quiet), move |(link, quiet)| {
            if *quiet {
                return;
            }
            let Some(window) = web_sys::window() else {
                return;
            };
            // A scenario of the user's own travels in the fragment, beside the query.
            let query = link.as_ref().map(permalink::to_address).unwrap_or_default();
            #[allow(unused_mut)]
            let mut current = window.location().search().unwrap_or_default();
            #[cfg(feature = "authoring")]
            {
                current += &window.location().hash().unwrap_or_default();
            }
            if query == current {
                return;
            }
            let url = if query.is_empty() {
                share::page_url()
            } else {
                query
            };
            if let Ok(history) = window.history() {
                let _ =
                    history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
            }
        });
    }

    // Opening a scenario moves focus to its heading, so that keyboard and screen-reader users
    // start from what they opened rather than from the top of the page.
    let heading = use_node_ref();
    {
        let heading = heading.clone();
        let opened = player
            .session
            .as_ref()
            .filter(|_| !player.embed)
            .map(|s| s.borrow().scenario.id().to_string());
        use_effect_with(opened, move |opened| {
            if opened.is_some()
                && let Some(h) = heading.cast::<web_sys::HtmlElement>()
            {
                let _ = h.focus();
            }
        });
    }

    let message = player.message.clone().map(|m| {
        let dismiss = {
            let dispatch = dispatch.clone();
            Callback::from(move |_: MouseEvent| dispatch.emit(Action::DismissMessage))
        };
        html! {
            <div class="message" role="alert">
                <span>{ m }</span>
                <button type="button" class="small" onclick={dismiss}>{ "Dismiss" }</button>
            </div>
        }
    });

    let body = match player.session.clone() {
        None if player.opening => {
            html! { <p class="muted opening" role="status">{ "Opening the link…" }</p> }
        }
        None => {
            html! { <Gallery entries={player.entries.clone()} dispatch={dispatch.clone()} revision={player.frame} /> }
        }
        Some(session) if player.embed => embed_view(&player, &session, &dispatch),
        Some(session) => player_view(&player, &session, &dispatch, heading.clone(), link.clone()),
    };
    // The editor beside the player (alone when nothing runs yet).
    #[cfg(feature = "authoring")]
    let body = match &player.editor {
        Some(editing) if !player.embed => html! {
            <div class={classes!("authoring", player.session.is_some().then_some("with-player"))}>
                <crate::components::editor::Editor editing={editing.clone()} dispatch={dispatch.clone()} />
                if player.session.is_some() { { body } }
            </div>
        },
        _ => body,
    };

    // Built once per glossary: the page renders every frame, and a new context value would
    // render every linked text again.
    let terms = {
        let glossary = player.glossary.clone();
        let dispatcher = player.dispatcher();
        use_memo(
            glossary.as_ref().map(|g| Rc::as_ptr(g) as usize),
            move |_| {
                glossary
                    .map(|g| Terms::new(g, Callback::from(move |a: Action| dispatcher.dispatch(a))))
            },
        )
    };
    let terms = (*terms).clone();
    if player.embed && player.session.is_some() {
        return html! {
            <ContextProvider<Option<Terms>> context={terms}>
                <div class="embed">{ for message }{ body }</div>
            </ContextProvider<Option<Terms>>>
        };
    }
    // The glossary lives in the training module: the player's module loads it for the glossary.
    #[cfg(feature = "training")]
    let open_glossary = {
        let dispatch = dispatch.clone();
        Callback::from(move |_: MouseEvent| dispatch.emit(Action::ShowTerm(Some(String::new()))))
    };
    #[cfg(not(feature = "training"))]
    let open_glossary = {
        let link = link.clone();
        Callback::from(move |_: MouseEvent| {
            let query = link.as_ref().map_or("?".to_string(), permalink::to_query);
            if let Some(location) = web_sys::window().map(|w| w.location()) {
                let _ = location.set_search(&format!("{query}&glossary=1"));
            }
        })
    };
    html! {
        <ContextProvider<Option<Terms>> context={terms}>
            <header class="site-header">
                <h1>{ "Cascade Lab" }</h1>
                <p class="tagline">{ "Replay documented outages, toggle the fixes, watch the cascade." }</p>
                if player.glossary.is_some() || cfg!(not(any(feature = "training", feature = "authoring"))) {
                    <button type="button" class="small glossary-button" onclick={open_glossary}>{ "Glossary" }</button>
                }
            </header>
            { for message }
            { body }
            if player.help {
                <Help dispatch={dispatch.clone()} />
            }
            { glossary_dialog(&player, &dispatch) }
        </ContextProvider<Option<Terms>>>
    }
}

/// The full player: a replay, a lesson (questions in the side panel, future beats' titles
/// hidden) or a drill (the story, the beats and the operators' actions hidden until it is over;
/// the runbook instead of the fixes; the debrief at the end).
fn player_view(
    player: &Player,
    session: &Rc<RefCell<crate::state::Session>>,
    dispatch: &Callback<Action>,
    heading: NodeRef,
    link: Option<permalink::Link>,
) -> Html {
    let s = session.borrow();
    let file = &s.scenario.file;
    let meta = &file.scenario;
    let drill = player.mode == Mode::Drill;
    let over = s.target_us >= s.end_us();
    let on_call = drill && !over;
    let beats = s.beats_in_order();
    let now_s = s.shown_us() as f64 / 1e6;
    let mut markers = Vec::new();
    if on_call {
        // Only what the trainee did: the real timeline would give the story away.
        markers.extend(s.scheduled.iter().map(|(name, at_us)| {
            Marker {
                at_s: *at_us as f64 / 1e6,
                label: file
                    .drill
                    .runbook
                    .iter()
                    .find(|a| a.name == *name)
                    .map_or(name.clone(), |a| a.title.clone()),
                beat: false,
            }
        }));
    } else {
        markers = beat_markers(&beats);
        markers.extend(file.timeline.iter().map(|e| Marker {
            at_s: e.at_s,
            label: if e.label.is_empty() {
                format!("{} {}", e.action.name(), e.target)
            } else {
                e.label.clone()
            },
            beat: false,
        }));
    }
    // What to watch and highlight: a lesson's answer being shown, else the current beat (nothing
    // while on call).
    let revealing = player
        .lesson
        .as_ref()
        .and_then(|l| l.revealing)
        .and_then(|q| file.questions.get(q));
    let beat_watch = crate::components::narration::current_beat(&beats, now_s)
        .map_or("", |i| beats[i].watch.as_str());
    let watch = match revealing {
        Some(q) if !q.watch.is_empty() => q.watch.as_str(),
        _ if on_call => "",
        _ => beat_watch,
    };
    let highlight = match revealing {
        Some(q) => Some(q.highlight.clone()),
        None if on_call => Some(Vec::new()),
        None => None,
    };
    let specs = chart_specs(meta, watch);
    let slots = specs.len();
    let back = {
        let dispatch = dispatch.clone();
        Callback::from(move |_: MouseEvent| dispatch.emit(Action::Close))
    };
    let byline = crate::components::gallery::whose_and_when(meta, " · ");
    let badge = match player.mode {
        Mode::Replay => None,
        Mode::Lesson => Some("Lesson"),
        Mode::Drill => Some("On-call drill"),
    };
    // For diagnostics and the browser benchmark: the wasm memory of the page and its workers.
    let memory = s.wasm_memory_bytes().to_string();
    html! {
        <div class={classes!("player", badge.map(|_| format!("mode-{}", if drill { "drill" } else { "lesson" })))} data-wasm-memory-bytes={memory}>
            <div class="scenario-head">
                <button type="button" class="small" onclick={back}>{ "← All outages" }</button>
                if let Some(badge) = badge { <p class="mode-badge">{ badge }</p> }
                // On call, the title would name the cause: the organisation and date stand in.
                <h2 ref={heading} tabindex="-1">{ if on_call { drill_heading(meta) } else { meta.title.clone() } }</h2>
                if !on_call {
                    <p class="muted">
                        { byline }
                        if !meta.source_url.is_empty() {
                            { " · " }<a href={meta.source_url.clone()} target="_blank" rel="noopener noreferrer">{ "Postmortem" }</a>
                        }
                        if player.mode == Mode::Replay {
                            { " · " }{ edit_control(player, &s, dispatch, link.as_ref()) }
                        }
                    </p>
                    if player.mode == Mode::Lesson && !meta.objectives.is_empty() {
                        <ul class="objectives" aria-label="You will learn">
                            { for meta.objectives.iter().map(|o| html! { <li>{ o.clone() }</li> }) }
                        </ul>
                    }
                    if player.mode == Mode::Replay {
                        <Story summary={meta.summary.clone()} />
                    }
                }
            </div>
            <Controls playing={player.playing} speed={player.speed} seed={s.seed} dispatch={dispatch.clone()} drill={on_call} />
            if on_call { { drill_banner(player, session) } }
            { timeline(&s, markers, dispatch) }
            <Topology session={session.clone()} frame={player.frame} playing={player.playing} highlight={highlight} />
            <div class="panels">
                <aside class="side">
                    { training_side(player, session, dispatch) }
                    if !drill {
                        <Narration beats={beats} now_s={now_s} started_at={meta.started_at.clone()} dispatch={dispatch.clone()} hide_future={player.mode == Mode::Lesson} />
                        <Fixes session={session.clone()} frame={player.frame} compare={player.compare} error={player.fix_error.clone()} dispatch={dispatch.clone()} />
                        { what_if_panel(session, player.revision, dispatch) }
                    }
                </aside>
                <div class="main">
                    if drill && over {
                        { debrief(player, session, dispatch) }
                    }
                    <div class="charts">
                        { for specs.into_iter().enumerate().map(|(slot, spec)| html! {
                            <Chart spec={spec} session={session.clone()} frame={player.frame} revision={player.revision} compare={player.compare} playing={player.playing} slot={slot} slots={slots} />
                        }) }
                    </div>
                    if !drill {
                        { explore_panel(session, player.revision, dispatch) }
                    }
                    if let Some(link) = link {
                        if !on_call {
                            <Share session={session.clone()} link={link} />
                        }
                    }
                </div>
            </div>
        </div>
    }
}

/// The "What if" panel: in the authoring module; the player's module links to it.
#[cfg(feature = "authoring")]
fn what_if_panel(
    session: &Rc<RefCell<crate::state::Session>>,
    revision: u64,
    dispatch: &Callback<Action>,
) -> Html {
    html! { <crate::components::what_if::WhatIf session={session.clone()} revision={revision} dispatch={dispatch.clone()} /> }
}

/// "How likely is collapse?": many seeds and the stability map, in the authoring module.
#[cfg(feature = "authoring")]
fn explore_panel(
    session: &Rc<RefCell<crate::state::Session>>,
    revision: u64,
    dispatch: &Callback<Action>,
) -> Html {
    html! { <crate::components::explore::Explore session={session.clone()} revision={revision} dispatch={dispatch.clone()} /> }
}

#[cfg(not(feature = "authoring"))]
fn explore_panel(_: &Rc<RefCell<crate::state::Session>>, _: u64, _: &Callback<Action>) -> Html {
    Html::default()
}

#[cfg(not(feature = "authoring"))]
fn what_if_panel(_: &Rc<RefCell<crate::state::Session>>, _: u64, _: &Callback<Action>) -> Html {
    Html::default()
}

/// "Edit a copy": the player's module reopens the page in the authoring module, at the same
/// link; the authoring module opens its editor on the scenario's text.
#[cfg(not(feature = "authoring"))]
fn edit_control(
    _: &Player,
    _: &crate::state::Session,
    _: &Callback<Action>,
    link: Option<&permalink::Link>,
) -> Html {
    let query = link.map_or("?".to_string(), permalink::to_query);
    html! {
        <>
            <a href={format!("{query}&whatif=1")}>{ "What if…" }</a>{ " · " }
            <a href={format!("{query}&edit=1")}>{ "Edit a copy" }</a>
        </>
    }
}

#[cfg(feature = "authoring")]
fn edit_control(
    player: &Player,
    session: &crate::state::Session,
    dispatch: &Callback<Action>,
    _: Option<&permalink::Link>,
) -> Html {
    let own = player.custom(session).map(|c| c.text.clone());
    let id = session.scenario.id().to_string();
    let dispatcher = dispatch.clone();
    let onclick = Callback::from(move |_: MouseEvent| match &own {
        Some(text) => dispatcher.emit(Action::Edit(Some(text.clone()))),
        None => edit_bundled(id.clone(), dispatcher.clone()),
    });
    html! { <button type="button" class="link-button" onclick={onclick}>{ "Edit a copy" }</button> }
}

/// Opens the editor on a bundled scenario's file as written (fetched from beside the site).
#[cfg(feature = "authoring")]
fn edit_bundled(id: String, dispatch: Callback<Action>) {
    yew::platform::spawn_local(async move {
        match crate::authoring::fetch_bundled_source(&id).await {
            Ok(text) => dispatch.emit(Action::Edit(Some(Rc::from(text)))),
            Err(err) => dispatch.emit(Action::ShowMessage(format!(
                "The file of “{id}” could not be loaded for editing: {err}"
            ))),
        }
    });
}

/// Opens what the address asks of the authoring module, if it asks for anything of it: a
/// scenario in the fragment or at a `src=` path, the editor on an open scenario (`edit=1`) or
/// on a copy of the primer (`author=1`). Returns whether it did.
#[cfg(feature = "authoring")]
fn open_own(
    parsed: Result<Option<permalink::Link>, String>,
    dispatcher: &UseReducerDispatcher<Player>,
) -> bool {
    let dispatch = {
        let dispatcher = dispatcher.clone();
        Callback::from(move |action: Action| dispatcher.dispatch(action))
    };
    let refuse = |dispatch: &Callback<Action>, message: String| {
        dispatch.emit(Action::ShowMessage(format!(
            "{message} Here are all the outages instead."
        )));
    };
    let link = match parsed {
        Ok(link) => link,
        Err(_) => return false,
    };
    if let Some(payload) = crate::authoring::location_fragment() {
        if link.as_ref().is_some_and(|l| l.mode != Mode::Replay) {
            refuse(
                &dispatch,
                "Lessons and drills replay the outages as documented; this link carries a \
                 scenario of its own."
                    .into(),
            );
            return true;
        }
        match crate::authoring::decode_fragment(&payload) {
            Ok(text) => dispatch.emit(Action::OpenText {
                text: Rc::from(text),
                src: None,
                link,
            }),
            Err(message) => refuse(&dispatch, message),
        }
        return true;
    }
    if let Some(src) = link.as_ref().and_then(|l| l.src.clone()) {
        yew::platform::spawn_local(async move {
            match crate::authoring::fetch_src(&src).await {
                Ok(text) => dispatch.emit(Action::OpenText {
                    text: Rc::from(text),
                    src: Some(src),
                    link,
                }),
                Err(message) => refuse(&dispatch, message),
            }
        });
        return true;
    }
    let params = web_sys::UrlSearchParams::new_with_str(&location_search()).ok();
    let flag = |name: &str| params.as_ref().and_then(|p| p.get(name)).as_deref() == Some("1");
    match link {
        Some(link) if flag("edit") => {
            let id = link.scenario.clone();
            dispatch.emit(Action::OpenLink(link));
            edit_bundled(id, dispatch);
            true
        }
        None if flag("author") => {
            edit_bundled("retry-storm".into(), dispatch);
            true
        }
        _ => false,
    }
}

/// The glossary, when it is open (the training module only).
#[cfg(feature = "training")]
fn glossary_dialog(player: &Player, dispatch: &Callback<Action>) -> Html {
    match (player.glossary.clone(), player.glossary_term.clone()) {
        (Some(glossary), Some(term)) => {
            html! { <GlossaryDialog glossary={glossary} term={term} dispatch={dispatch.clone()} /> }
        }
        _ => Html::default(),
    }
}

#[cfg(not(feature = "training"))]
fn glossary_dialog(_: &Player, _: &Callback<Action>) -> Html {
    Html::default()
}

/// A lesson's questions or the drill's panel (the training module only).
#[cfg(feature = "training")]
fn training_side(
    player: &Player,
    session: &Rc<RefCell<crate::state::Session>>,
    dispatch: &Callback<Action>,
) -> Html {
    let questions = session.borrow().scenario.file.questions.clone();
    html! {
        <>
            if let Some(lesson) = player.lesson.clone() {
                <LessonCard questions={questions} lesson={lesson} dispatch={dispatch.clone()} />
            }
            if player.mode == Mode::Drill {
                <DrillPanel session={session.clone()} frame={player.frame} error={player.fix_error.clone()} dispatch={dispatch.clone()} />
            }
        </>
    }
}

#[cfg(not(feature = "training"))]
fn training_side(_: &Player, _: &Rc<RefCell<crate::state::Session>>, _: &Callback<Action>) -> Html {
    Html::default()
}

/// The latest page, while it fires (the training module only).
#[cfg(feature = "training")]
fn drill_banner(player: &Player, session: &Rc<RefCell<crate::state::Session>>) -> Html {
    html! { <crate::components::drill::Pager session={session.clone()} frame={player.frame} dispatch={Callback::noop()} /> }
}

#[cfg(not(feature = "training"))]
fn drill_banner(_: &Player, _: &Rc<RefCell<crate::state::Session>>) -> Html {
    Html::default()
}

/// The drill's debrief (the training module only).
#[cfg(feature = "training")]
fn debrief(
    player: &Player,
    session: &Rc<RefCell<crate::state::Session>>,
    dispatch: &Callback<Action>,
) -> Html {
    html! { <Debrief session={session.clone()} frame={player.frame} dispatch={dispatch.clone()} /> }
}

#[cfg(not(feature = "training"))]
fn debrief(_: &Player, _: &Rc<RefCell<crate::state::Session>>, _: &Callback<Action>) -> Html {
    Html::default()
}

/// A drill's heading while on call: whose system and when, not what went wrong.
fn drill_heading(meta: &cascade::scenario::Meta) -> String {
    let whose = crate::components::gallery::whose_and_when(meta, ", ");
    if whose.is_empty() {
        "On call".to_string()
    } else {
        format!("On call: {whose}")
    }
}

/// The timeline's markers for the story's beats.
fn beat_markers(beats: &[cascade::scenario::Beat]) -> Vec<Marker> {
    beats
        .iter()
        .map(|b| Marker {
            at_s: b.at_s,
            label: b.title.clone(),
            beat: true,
        })
        .collect()
}

/// The timeline of the open session, with `markers`.
fn timeline(s: &crate::state::Session, markers: Vec<Marker>, dispatch: &Callback<Action>) -> Html {
    let locked = s.drill.is_some() && s.target_us < s.end_us();
    html! {
        <Timeline
            duration_s={s.end_us() as f64 / 1e6}
            now_s={s.shown_us() as f64 / 1e6}
            target_s={s.target_us as f64 / 1e6}
            computed_s={s.computed_us() as f64 / 1e6}
            started_at={s.scenario.file.scenario.started_at.clone()}
            markers={markers}
            dispatch={dispatch.clone()}
            locked={locked}
        />
    }
}

/// The compact player for iframes, filling the frame from 320×240 up: title, controls and the
/// clock, the timeline, the verdict so far, the current beat's caption, then the outcome chart
/// (and the watched or first key series where the frame is wide), fix switches if the link asks
/// for them, and a link to the full sandbox at the same state.
fn embed_view(
    player: &Player,
    session: &Rc<RefCell<crate::state::Session>>,
    dispatch: &Callback<Action>,
) -> Html {
    let s = session.borrow();
    let meta = &s.scenario.file.scenario;
    let now_s = s.shown_us() as f64 / 1e6;
    let beats = s.beats_in_order();
    let current = crate::components::narration::current_beat(&beats, now_s);
    let caption = current
        .map(|i| format!("{}: {}", beats[i].title, beats[i].caption))
        .unwrap_or_default();
    let specs: Vec<_> = chart_specs(meta, current.map_or("", |i| beats[i].watch.as_str()))
        .into_iter()
        .enumerate()
        .filter(|(i, _)| *i != 1)
        .take(2)
        .map(|(_, c)| c)
        .collect();
    let slots = specs.len();
    let verdict =
        cascade::verdict::describe(cascade::verdict::assess(s.run.shown()), &meta.started_at);
    let markers = beat_markers(&beats);
    let full = player.link().map(|mut link| {
        link.embed = false;
        link.embed_fixes = false;
        format!("{}{}", share::page_url(), permalink::to_address(&link))
    });
    html! {
        <div class="embed-player">
            <div class="embed-head">
                <strong class="embed-title">{ meta.title.clone() }</strong>
                if let Some(url) = full {
                    <a href={url} target="_blank" rel="noopener noreferrer">{ "Open in Cascade Lab ↗" }</a>
                }
            </div>
            <Controls playing={player.playing} speed={player.speed} seed={s.seed} dispatch={dispatch.clone()} compact=true>
                { timeline(&s, markers, dispatch) }
            </Controls>
            <p class="embed-verdict" role="status"><strong>{ cascade::verdict::clock_label(&meta.started_at, now_s) }</strong>{ " · so far: " }{ verdict }</p>
            <p class="current-caption" aria-live="polite">{ caption }</p>
            <div class="charts">
                { for specs.into_iter().enumerate().map(|(slot, spec)| html! {
                    <Chart spec={spec} session={session.clone()} frame={player.frame} revision={player.revision} compare={player.compare} playing={player.playing} slot={slot} slots={slots} fill=true />
                }) }
            </div>
            if player.embed_fixes {
                <Fixes session={session.clone()} frame={player.frame} compare={player.compare} error={player.fix_error.clone()} dispatch={dispatch.clone()} />
            }
        </div>
    }
}
