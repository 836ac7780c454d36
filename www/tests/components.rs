//! Component tests in headless Chromium (wasm-bindgen-test): the app as mounted in a real DOM.

use cascade_web::app::App;
use cascade_web::charts::{self, RATE_LINES};
use cascade_web::state::{Action, Player, bundled_entries};
use std::rc::Rc;
use std::time::Duration;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{CanvasRenderingContext2d, Element, HtmlCanvasElement, HtmlElement};
use yew::Reducible;

wasm_bindgen_test_configure!(run_in_browser);

fn document() -> web_sys::Document {
    web_sys::window().unwrap().document().unwrap()
}

fn mount() -> Element {
    let root = document().create_element("div").unwrap();
    document().body().unwrap().append_child(&root).unwrap();
    yew::Renderer::<App>::with_root(root.clone()).render();
    root
}

async fn wait_for(root: &Element, selector: &str, timeout: Duration) -> Option<Element> {
    let mut waited = Duration::ZERO;
    while waited < timeout {
        if let Ok(Some(found)) = root.query_selector(selector) {
            return Some(found);
        }
        yew::platform::time::sleep(Duration::from_millis(20)).await;
        waited += Duration::from_millis(20);
    }
    None
}

fn drawn_pixels(canvas: &HtmlCanvasElement) -> usize {
    let ctx: CanvasRenderingContext2d = canvas
        .get_context("2d")
        .unwrap()
        .unwrap()
        .dyn_into()
        .unwrap();
    let data = ctx
        .get_image_data(0.0, 0.0, canvas.width() as f64, canvas.height() as f64)
        .unwrap()
        .data();
    data.chunks(4).filter(|p| p[..3] != data[..3]).count()
}

#[wasm_bindgen_test]
async fn the_picker_lists_every_bundled_scenario() {
    let root = mount();
    let select = wait_for(&root, "select", Duration::from_secs(2))
        .await
        .expect("a scenario picker");
    let options = select.query_selector_all("option").unwrap();
    assert_eq!(
        options.length() as usize,
        cascade::scenario::bundled().len()
    );
    let label = root.query_selector("label.picker").unwrap().unwrap();
    assert!(label.text_content().unwrap().starts_with("Scenario"));
}

#[wasm_bindgen_test]
async fn run_draws_the_chart_and_finishes() {
    let root = mount();
    let button = wait_for(&root, "button", Duration::from_secs(2))
        .await
        .unwrap();
    assert_eq!(button.text_content().as_deref(), Some("Run"));
    button.dyn_ref::<HtmlElement>().unwrap().click();
    let canvas = wait_for(&root, "canvas", Duration::from_secs(2))
        .await
        .expect("a chart after Run");
    let canvas: HtmlCanvasElement = canvas.dyn_into().unwrap();
    assert_eq!(
        canvas.get_attribute("aria-label").as_deref(),
        Some("Request rates")
    );
    let mut waited = 0;
    while !root.text_content().unwrap_or_default().contains("Finished") && waited < 20_000 {
        yew::platform::time::sleep(Duration::from_millis(50)).await;
        waited += 50;
    }
    assert!(
        root.text_content().unwrap().contains("Finished"),
        "the run never finished"
    );
    assert!(drawn_pixels(&canvas) > 5_000, "the chart is blank");
}

#[wasm_bindgen_test]
fn charts_draw_series_on_a_canvas() {
    let entries = bundled_entries();
    let scenario = entries[0].parsed.clone().unwrap();
    let variant = scenario.variant(&[], &[]).unwrap();
    let mut sim = cascade::Simulation::new(&variant, 1);
    sim.run_until(20_000_000).unwrap();
    let canvas: HtmlCanvasElement = document()
        .create_element("canvas")
        .unwrap()
        .dyn_into()
        .unwrap();
    canvas.set_width(400);
    canvas.set_height(200);
    charts::draw(
        canvas.clone(),
        sim.metrics(),
        &RATE_LINES,
        60.0,
        "requests/s",
        false,
    )
    .unwrap();
    assert!(drawn_pixels(&canvas) > 2_000);
}

#[wasm_bindgen_test]
fn the_reducer_selects_runs_and_ticks() {
    let player = Rc::new(Player::new(bundled_entries()));
    let same = player.clone().reduce(Action::Select(999));
    assert!(
        Rc::ptr_eq(&player, &same),
        "an out-of-range choice changes nothing"
    );
    let running = player.reduce(Action::Run);
    assert!(running.playing);
    let before = running.run.as_ref().unwrap().borrow().now_us();
    let frame = running.frame;
    let ticked = running.reduce(Action::Tick);
    assert_eq!(ticked.frame, frame + 1);
    assert!(ticked.run.as_ref().unwrap().borrow().now_us() > before);
}

#[wasm_bindgen_test]
fn wasm_runs_give_the_same_trace_as_native() {
    // Pinned in tests/integration/determinism.rs for the native build.
    let scenario = cascade::scenario::find_bundled("retry-storm")
        .unwrap()
        .unwrap();
    let variant = scenario.variant(&[], &[]).unwrap();
    let mut sim = cascade::Simulation::new(&variant, 1);
    sim.run_to_end().unwrap();
    assert_eq!(sim.trace_hash().hex(), "2f01362d1cfa767d");
}
