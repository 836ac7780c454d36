//! Sharing: the permalink, an `<iframe>` snippet to embed the replay in a postmortem, and
//! downloads of the charts (PNG) and of the run's series (CSV, as `cascade run --format csv`).

use crate::permalink::{Link, embed_snippet, to_query};
use crate::state::Session;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen::JsValue;
use web_sys::{CanvasRenderingContext2d, HtmlAnchorElement, HtmlCanvasElement};
use yew::prelude::*;

/// Props of [`Share`].
#[derive(Properties, Clone)]
pub struct ShareProps {
    /// The open scenario.
    pub session: Rc<RefCell<Session>>,
    /// The permalink of what is shown.
    pub link: Link,
}

impl PartialEq for ShareProps {
    fn eq(&self, other: &Self) -> bool {
        self.link == other.link && Rc::ptr_eq(&self.session, &other.session)
    }
}

/// The page's URL without query or fragment.
pub fn page_url() -> String {
    web_sys::window()
        .and_then(|w| w.location().href().ok())
        .map(|href| {
            href.split(['?', '#'])
                .next()
                .unwrap_or_default()
                .to_string()
        })
        .unwrap_or_default()
}

/// Offers `url` as a download named `file_name`.
fn download(url: &str, file_name: &str) -> Result<(), JsValue> {
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?;
    let anchor: HtmlAnchorElement = document.create_element("a")?.dyn_into()?;
    anchor.set_href(url);
    anchor.set_download(file_name);
    anchor.set_attribute("hidden", "")?;
    document.body().ok_or("no body")?.append_child(&anchor)?;
    anchor.click();
    anchor.remove();
    Ok(())
}

/// Offers `text` as a downloaded file.
pub fn download_text(text: &str, mime: &str, file_name: &str) -> Result<(), JsValue> {
    let parts = js_sys::Array::of1(&JsValue::from_str(text));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options)?;
    let url = web_sys::Url::create_object_url_with_blob(&blob)?;
    let result = download(&url, file_name);
    web_sys::Url::revoke_object_url(&url)?;
    result
}

/// Stacks every chart canvas of the page into one PNG and offers it as a download.
pub fn download_charts_png(file_name: &str) -> Result<(), JsValue> {
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?;
    let canvases = document.query_selector_all(".chart canvas")?;
    let charts: Vec<HtmlCanvasElement> = (0..canvases.length())
        .filter_map(|i| canvases.get(i)?.dyn_into().ok())
        .collect();
    let width = charts.iter().map(|c| c.width()).max().unwrap_or(1);
    let height: u32 = charts.iter().map(|c| c.height()).sum::<u32>().max(1);
    let sheet: HtmlCanvasElement = document.create_element("canvas")?.dyn_into()?;
    sheet.set_width(width);
    sheet.set_height(height);
    let ctx: CanvasRenderingContext2d = sheet
        .get_context("2d")?
        .ok_or("no 2d context")?
        .dyn_into()?;
    let mut y = 0.0;
    for chart in &charts {
        ctx.draw_image_with_html_canvas_element(chart, 0.0, y)?;
        y += chart.height() as f64;
    }
    download(&sheet.to_data_url_with_type("image/png")?, file_name)
}

/// The share panel.
#[component]
pub fn Share(props: &ShareProps) -> Html {
    let snippet = use_state(|| None::<String>);
    let status = use_state(String::new);
    let session = props.session.borrow();
    let id = session.scenario.id().to_string();
    let seed = session.seed;
    let base = format!("{id}-seed{seed}");
    let permalink = format!("{}{}", page_url(), to_query(&props.link));
    let on_embed = {
        let snippet = snippet.clone();
        let status = status.clone();
        let text = embed_snippet(
            &page_url(),
            &props.link,
            &session.scenario.file.scenario.title,
        );
        Callback::from(move |_: MouseEvent| {
            snippet.set(Some(text.clone()));
            let status = status.clone();
            let clipboard = web_sys::window().map(|w| w.navigator().clipboard());
            let text = text.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let copied = match clipboard {
                    Some(c) => wasm_bindgen_futures::JsFuture::from(c.write_text(&text))
                        .await
                        .is_ok(),
                    None => false,
                };
                status.set(if copied {
                    "Copied to the clipboard.".into()
                } else {
                    "Select the code below and copy it.".into()
                });
            });
        })
    };
    let on_csv = {
        let session = props.session.clone();
        let status = status.clone();
        let file = format!("{base}.csv");
        Callback::from(move |_: MouseEvent| {
            let csv = session.borrow().run.shown().to_csv();
            if download_text(&csv, "text/csv", &file).is_err() {
                status.set("The browser refused the download.".into());
            }
        })
    };
    let on_png = {
        let status = status.clone();
        let file = format!("{base}.png");
        Callback::from(move |_: MouseEvent| {
            if download_charts_png(&file).is_err() {
                status.set("The browser refused the download.".into());
            }
        })
    };
    html! {
        <section class="share" aria-labelledby="share-heading">
            <h2 id="share-heading">{ "Share and export" }</h2>
            <p><a class="permalink" href={permalink}>{ "Permalink to this moment" }</a></p>
            <div class="share-actions">
                <button type="button" onclick={on_embed}>{ "Copy embed code" }</button>
                <button type="button" onclick={on_png}>{ "Download charts (PNG)" }</button>
                <button type="button" onclick={on_csv}>{ "Download data (CSV)" }</button>
            </div>
            <p class="muted" role="status">{ (*status).clone() }</p>
            if let Some(code) = &*snippet {
                <label class="snippet">
                    { "Embed code" }
                    <textarea readonly=true rows="3" value={code.clone()} />
                </label>
            }
        </section>
    }
}
