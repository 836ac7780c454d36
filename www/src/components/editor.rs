//! The scenario editor (authoring module): a TOML text area with line numbers, checked as you
//! type (the CLI's parser and checks, after a pause), the error shown at its line; Run replays
//! the text, Open reads a file (picked or dropped), Download saves it.

use crate::authoring;
use crate::state::{Action, Editing};
use cascade::ScenarioError;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use web_sys::{DragEvent, HtmlInputElement, HtmlTextAreaElement};
use yew::prelude::*;

/// How long typing must pause before the text is checked, ms.
const CHECK_AFTER_MS: u64 = 400;

/// Props of [`Editor`].
#[derive(Properties, Clone, PartialEq)]
pub struct EditorProps {
    /// The text given to the editor (a new version replaces what it holds).
    pub editing: Editing,
    /// Sends actions.
    pub dispatch: Callback<Action>,
}

/// What the last check of the text found.
#[derive(Clone, Debug, PartialEq)]
enum Checked {
    /// Not checked yet (typing).
    Pending,
    /// The scenario's id: it can run.
    Valid(String),
    /// The first problem, at its line.
    Invalid(ScenarioError),
}

fn check(text: &str) -> Checked {
    match authoring::compile("your scenario", text) {
        Ok(compiled) => Checked::Valid(compiled.scenario.id().to_string()),
        Err(err) => Checked::Invalid(err),
    }
}

/// One line saying what is wrong and where, as the CLI says it (without the file name).
fn describe(err: &ScenarioError) -> String {
    let at = err
        .location
        .map(|at| format!("Line {}, column {}: ", at.line, at.column))
        .unwrap_or_default();
    let path = err
        .path
        .as_ref()
        .map(|p| format!("`{p}`: "))
        .unwrap_or_default();
    format!("{at}{path}{}", err.message)
}

/// Reads a picked or dropped file's text and gives it to the editor.
fn read_file(file: web_sys::File, dispatch: Callback<Action>) {
    if file.size() > authoring::MAX_SOURCE_BYTES as f64 {
        dispatch.emit(Action::ShowMessage(format!(
            "{} is {} KB; a scenario file is at most {} KB of TOML.",
            file.name(),
            (file.size() / 1024.0) as u64,
            authoring::MAX_SOURCE_BYTES / 1024
        )));
        return;
    }
    yew::platform::spawn_local(async move {
        match wasm_bindgen_futures::JsFuture::from(file.text()).await {
            Ok(text) => {
                let text = text.as_string().unwrap_or_default();
                dispatch.emit(Action::Edit(Some(Rc::from(text))));
            }
            Err(_) => dispatch.emit(Action::ShowMessage(format!(
                "{} could not be read as text.",
                file.name()
            ))),
        }
    });
}

/// The editor.
#[component]
pub fn Editor(props: &EditorProps) -> Html {
    let text = use_state(|| props.editing.text.to_string());
    let checked = use_state(|| check(&props.editing.text));
    let typed = use_mut_ref(|| 0u64);
    let gutter = use_node_ref();
    let area = use_node_ref();
    // A new text given (a copy, a file): the editor holds it, checked at once.
    {
        let (text, checked, typed) = (text.clone(), checked.clone(), typed.clone());
        use_effect_with(props.editing.version, {
            let given = props.editing.text.clone();
            move |_| {
                // A check still pending for text typed before is for a text no longer here.
                *typed.borrow_mut() += 1;
                if *text != *given {
                    text.set(given.to_string());
                    checked.set(check(&given));
                }
            }
        });
    }
    let oninput = {
        let (text, checked, typed) = (text.clone(), checked.clone(), typed.clone());
        Callback::from(move |event: InputEvent| {
            let area: HtmlTextAreaElement = event.target_unchecked_into();
            let value = area.value();
            text.set(value.clone());
            checked.set(Checked::Pending);
            *typed.borrow_mut() += 1;
            let mine = *typed.borrow();
            let (checked, typed) = (checked.clone(), typed.clone());
            yew::platform::spawn_local(async move {
                yew::platform::time::sleep(std::time::Duration::from_millis(CHECK_AFTER_MS)).await;
                if *typed.borrow() == mine {
                    checked.set(check(&value));
                }
            });
        })
    };
    let onscroll = {
        let gutter = gutter.clone();
        Callback::from(move |event: Event| {
            let area: HtmlTextAreaElement = event.target_unchecked_into();
            if let Some(g) = gutter.cast::<web_sys::HtmlElement>() {
                g.set_scroll_top(area.scroll_top());
            }
        })
    };
    let run = {
        let (text, dispatch) = (text.clone(), props.dispatch.clone());
        Callback::from(move |_: MouseEvent| {
            dispatch.emit(Action::OpenText {
                text: Rc::from(text.as_str()),
                src: None,
                link: None,
            })
        })
    };
    let download = {
        let text = text.clone();
        let checked = checked.clone();
        Callback::from(move |_: MouseEvent| {
            let name = match &*checked {
                Checked::Valid(id) => format!("{id}.toml"),
                _ => "scenario.toml".to_string(),
            };
            let _ = crate::components::share::download_text(&text, "application/toml", &name);
        })
    };
    let close = {
        let dispatch = props.dispatch.clone();
        Callback::from(move |_: MouseEvent| {
            dispatch.emit(Action::Edit(None));
            // Focus goes back to the scenario's title rather than to the page's start.
            if let Some(title) = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.query_selector(".scenario-head h2").ok().flatten())
                .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
            {
                let _ = title.focus();
            }
        })
    };
    let pick = {
        let dispatch = props.dispatch.clone();
        Callback::from(move |event: Event| {
            let input: HtmlInputElement = event.target_unchecked_into();
            if let Some(file) = input.files().and_then(|f| f.get(0)) {
                read_file(file, dispatch.clone());
            }
            input.set_value("");
        })
    };
    let ondragover = Callback::from(|event: DragEvent| event.prevent_default());
    let ondrop = {
        let dispatch = props.dispatch.clone();
        Callback::from(move |event: DragEvent| {
            event.prevent_default();
            let file = event
                .data_transfer()
                .and_then(|d| d.files())
                .and_then(|f| f.get(0));
            if let Some(file) = file {
                read_file(file, dispatch.clone());
            }
        })
    };

    // "Show line N": the caret to the start of the line at fault, scrolled into view.
    let show_line = {
        let area = area.clone();
        Callback::from(move |line: usize| {
            let Some(area) = area.cast::<HtmlTextAreaElement>() else {
                return;
            };
            let value = area.value();
            let lines = value.split('\n').count().max(1);
            let offset: usize = value
                .split_inclusive('\n')
                .take(line.saturating_sub(1))
                .map(|l| l.encode_utf16().count())
                .sum();
            let _ = area.focus();
            let _ = area.set_selection_range(offset as u32, offset as u32);
            let line_px = area.scroll_height() as f64 / lines as f64;
            let top = (line as f64 - 3.0).max(0.0) * line_px;
            area.set_scroll_top(top as i32);
        })
    };
    let bad_line = match &*checked {
        Checked::Invalid(err) => err.location.map(|at| at.line),
        _ => None,
    };
    let lines = text.split('\n').count();
    let gutter_lines = (1..=lines).map(|n| {
        let class = if Some(n) == bad_line { "bad" } else { "" };
        html! { <span class={class}>{ n }{ "\n" }</span> }
    });
    let (status_class, status) = match &*checked {
        Checked::Pending => ("status", "Checking when you pause typing…".to_string()),
        Checked::Valid(id) => ("status ok", format!("✓ No errors: “{id}” is ready to run.")),
        Checked::Invalid(err) => ("status bad", format!("✗ {}", describe(err))),
    };
    let runnable = !matches!(&*checked, Checked::Invalid(_));
    html! {
        <section class="editor" aria-labelledby="editor-title" ondragover={ondragover} ondrop={ondrop}>
            <div class="editor-bar">
                <h2 id="editor-title">{ "Your scenario" }</h2>
                <button type="button" class="primary" onclick={run} disabled={!runnable}>{ "Run" }</button>
                <label class="button small file-button">
                    { "Open a file…" }
                    <input type="file" accept=".toml,text/plain" onchange={pick} />
                </label>
                <button type="button" class="small" onclick={download}>{ "Download TOML" }</button>
                <button type="button" class="small" onclick={close}>{ "Close editor" }</button>
            </div>
            <p id="editor-status" class={status_class} role="status">
                { status }
                if let Some(line) = bad_line {
                    { " " }
                    <button type="button" class="small" onclick={show_line.reform(move |_: MouseEvent| line)}>{ format!("Show line {line}") }</button>
                }
            </p>
            <div class="editor-body">
                <pre class="gutter" ref={gutter} aria-hidden="true">{ for gutter_lines }</pre>
                <textarea
                    ref={area}
                    aria-label="Scenario file (TOML)"
                    aria-describedby="editor-status"
                    aria-invalid={if bad_line.is_some() || matches!(&*checked, Checked::Invalid(_)) { "true" } else { "false" }}
                    spellcheck="false"
                    autocomplete="off"
                    wrap="off"
                    value={(*text).clone()}
                    oninput={oninput}
                    onscroll={onscroll}
                />
            </div>
            <p class="muted small-print">
                { "Drop a .toml file here to open it. Every field is described in scenarios/README.md \
                   of the repository; " }<code>{ "cascade new --from ID" }</code>{ " writes a copy on the command line." }
            </p>
        </section>
    }
}
