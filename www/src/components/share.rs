//! Sharing: the permalink, an `<iframe>` snippet to embed the replay in a postmortem, and
//! downloads of the charts (PNG) and of the run's series (CSV, as `cascade run --format csv`).

use crate::permalink::{Link, embed_snippet, to_address};
use crate::state::Session;
use cascade::verdict::clock_label;
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

/// A chart as the PNG shows it: title, drawing, legend entries (label, CSS colour).
type SheetChart = (String, HtmlCanvasElement, Vec<(String, String)>);

/// Stacks every chart of the page into one PNG and offers it as a download: a header with
/// `stamp` (the scenario, then its fixes, seed and moment), then each chart under its title and
/// over its legend, so the picture says what it shows once it has left the page.
pub fn download_charts_png(file_name: &str, stamp: &[String]) -> Result<(), JsValue> {
    let window = web_sys::window().ok_or("no window")?;
    let document = window.document().ok_or("no document")?;
    let ratio = window.device_pixel_ratio().clamp(1.0, 3.0);
    let figures = document.query_selector_all(".chart")?;
    let figures: Vec<web_sys::Element> = (0..figures.length())
        .filter_map(|i| figures.get(i)?.dyn_into().ok())
        .collect();
    let charts: Vec<SheetChart> = figures
        .iter()
        .filter_map(|figure| {
            let canvas = figure.query_selector("canvas").ok()??.dyn_into().ok()?;
            // The title without the "Watch now" badge.
            let title = figure
                .query_selector("figcaption")
                .ok()??
                .last_child()?
                .text_content()
                .unwrap_or_default();
            let items = figure.query_selector_all(".legend li").ok()?;
            let legend = (0..items.length())
                .filter_map(|i| {
                    let item: web_sys::Element = items.get(i)?.dyn_into().ok()?;
                    // The swatch's colour, from the item's `--c: rgb(…)` (none: the dashed
                    // comparison, grey).
                    let colour = item
                        .get_attribute("style")
                        .and_then(|s| s.strip_prefix("--c: ").map(str::to_string))
                        .unwrap_or_else(|| "rgb(128, 128, 128)".into());
                    Some((item.text_content().unwrap_or_default(), colour))
                })
                .collect();
            Some((title, canvas, legend))
        })
        .collect();
    let width = charts
        .iter()
        .map(|(_, c, _)| c.width() as f64)
        .fold(480.0 * ratio, f64::max);
    let sheet: HtmlCanvasElement = document.create_element("canvas")?.dyn_into()?;
    sheet.set_width(width as u32);
    let ctx: CanvasRenderingContext2d = sheet
        .get_context("2d")?
        .ok_or("no 2d context")?
        .dyn_into()?;
    // Laid out twice: once to measure the sheet's height, once to draw on it.
    let height = lay_out_sheet(&ctx, stamp, &charts, width, ratio, false)?;
    sheet.set_height(height as u32);
    lay_out_sheet(&ctx, stamp, &charts, width, ratio, true)?;
    download(&sheet.to_data_url_with_type("image/png")?, file_name)
}

/// Lays the PNG out on `ctx` (`width` px wide, `ratio` px per CSS px): the header, then each
/// chart under its title and over its legend, texts wrapped at the sheet's edge so that nothing
/// is cut off. Draws only if `draw` (else only measures); returns the height used.
fn lay_out_sheet(
    ctx: &CanvasRenderingContext2d,
    stamp: &[String],
    charts: &[SheetChart],
    width: f64,
    ratio: f64,
    draw: bool,
) -> Result<f64, JsValue> {
    let px = |css: f64| css * ratio;
    let pad = px(10.0);
    let (background, foreground) = if crate::components::chart::prefers_dark() {
        ("rgb(30, 33, 40)", "rgb(220, 222, 228)")
    } else {
        ("rgb(255, 255, 255)", "rgb(40, 40, 48)")
    };
    if draw {
        ctx.set_fill_style_str(background);
        ctx.fill_rect(0.0, 0.0, width, 1e6);
    }
    ctx.set_text_baseline("top");
    let mut y = pad;
    // A text in `size` px (bold or not), wrapped at the sheet's edge, from `x`; moves `y` down.
    let text = |words: &str, size: f64, bold: bool, x: f64, y: &mut f64| -> Result<(), JsValue> {
        ctx.set_font(&format!(
            "{}{}px sans-serif",
            if bold { "bold " } else { "" },
            px(size)
        ));
        ctx.set_fill_style_str(foreground);
        let mut line = String::new();
        for word in words.split(' ') {
            let longer = if line.is_empty() {
                word.to_string()
            } else {
                format!("{line} {word}")
            };
            if !line.is_empty() && x + ctx.measure_text(&longer)?.width() > width - pad {
                if draw {
                    ctx.fill_text(&line, x, *y)?;
                }
                *y += px(size * 1.45);
                line = word.to_string();
            } else {
                line = longer;
            }
        }
        if draw {
            ctx.fill_text(&line, x, *y)?;
        }
        *y += px(size * 1.45);
        Ok(())
    };
    for (i, line) in stamp.iter().enumerate() {
        text(line, if i == 0 { 17.0 } else { 13.0 }, i == 0, pad, &mut y)?;
    }
    for (title, chart, legend) in charts {
        y += pad;
        text(title, 14.0, true, pad, &mut y)?;
        if draw {
            ctx.draw_image_with_html_canvas_element(chart, 0.0, y)?;
        }
        y += chart.height() as f64 + px(4.0);
        // The legend: entries after their colours, in rows that fit the sheet.
        ctx.set_font(&format!("{}px sans-serif", px(12.0)));
        let mut x = pad;
        for (label, colour) in legend {
            let entry = px(14.0) + ctx.measure_text(label)?.width() + px(16.0);
            if x > pad && x + entry > width - pad {
                (x, y) = (pad, y + px(17.0));
            }
            if draw {
                ctx.set_fill_style_str(colour);
                ctx.fill_rect(x, y + px(3.0), px(10.0), px(10.0));
                ctx.set_fill_style_str(foreground);
                ctx.fill_text(label, x + px(14.0), y)?;
            }
            x += entry;
        }
        y += px(17.0);
    }
    Ok(y + pad)
}

/// The PNG's header: the scenario, then the run it shows (fixes, seed, moment).
pub fn png_stamp(session: &Session) -> Vec<String> {
    let meta = &session.scenario.file.scenario;
    let now_s = session.shown_us() as f64 / 1e6;
    let mut fixes: Vec<String> = session.fixes.clone();
    fixes.extend(session.scheduled.iter().map(|(name, at_us)| {
        format!(
            "{name} from {}",
            clock_label(&meta.started_at, *at_us as f64 / 1e6)
        )
    }));
    let fixes = match (fixes.is_empty(), session.set.is_empty()) {
        (true, true) => "none (as it happened)".to_string(),
        (true, false) => "none".to_string(),
        _ => fixes.join(", "),
    };
    // Parameters set under "What if", after the fixes.
    let what_if: String = session
        .set
        .iter()
        .map(|(path, v)| format!(" · {path} = {v}"))
        .collect();
    vec![
        meta.title.clone(),
        format!(
            "Fixes: {fixes}{what_if} · seed {} · at {} ({} of {}) · Cascade Lab",
            session.seed,
            clock_label(&meta.started_at, now_s),
            clock_label("", now_s),
            clock_label("", session.end_us() as f64 / 1e6)
        ),
    ]
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
    let permalink = format!("{}{}", page_url(), to_address(&props.link));
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
        let session = props.session.clone();
        let file = format!("{base}.png");
        Callback::from(move |_: MouseEvent| {
            let stamp = png_stamp(&session.borrow());
            if download_charts_png(&file, &stamp).is_err() {
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
