//! Component tests in headless Chromium (wasm-bindgen-test): the app and its state as mounted
//! in a real DOM.

use cascade::time::US_PER_S;
use cascade_web::app::App;
use cascade_web::charts::{self, Frame, chart_specs};
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

async fn wait_for(root: &Element, selector: &str) -> Element {
    for _ in 0..200 {
        if let Ok(Some(found)) = root.query_selector(selector) {
            return found;
        }
        yew::platform::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("nothing matches {selector}");
}

async fn wait_until(mut condition: impl FnMut() -> bool, what: &str) {
    for _ in 0..500 {
        if condition() {
            return;
        }
        yew::platform::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out waiting for {what}");
}

fn click(element: &Element) {
    element.dyn_ref::<HtmlElement>().unwrap().click();
}

fn button(root: &Element, label: &str) -> Element {
    let buttons = root.query_selector_all("button").unwrap();
    (0..buttons.length())
        .filter_map(|i| buttons.get(i)?.dyn_into::<Element>().ok())
        .find(|b| {
            b.get_attribute("aria-label").as_deref() == Some(label)
                || b.text_content().as_deref() == Some(label)
        })
        .unwrap_or_else(|| panic!("no button {label}"))
}

fn pixels(canvas: &HtmlCanvasElement) -> Vec<u8> {
    let ctx: CanvasRenderingContext2d = canvas
        .get_context("2d")
        .unwrap()
        .unwrap()
        .dyn_into()
        .unwrap();
    ctx.get_image_data(0.0, 0.0, canvas.width() as f64, canvas.height() as f64)
        .unwrap()
        .data()
        .to_vec()
}

fn drawn_pixels(canvas: &HtmlCanvasElement) -> usize {
    let data = pixels(canvas);
    data.chunks(4).filter(|p| p[..3] != data[..3]).count()
}

fn open(index: usize) -> Rc<Player> {
    Rc::new(Player::new(bundled_entries())).reduce(Action::Open(index))
}

/// Feeds frames until the open session's runs have caught up with the wanted moment.
fn catch_up(mut player: Rc<Player>) -> Rc<Player> {
    let session = player.session.clone().unwrap();
    while session.borrow().catching_up() {
        player = player.reduce(Action::Frame {
            wall_ms: 16.0,
            budget_ms: 50.0,
        });
    }
    player
}

fn retry_storm_index() -> usize {
    bundled_entries()
        .iter()
        .position(|e| e.id == "retry-storm")
        .unwrap()
}

#[wasm_bindgen_test]
async fn the_gallery_offers_every_bundled_scenario() {
    let root = mount();
    wait_for(&root, ".cards").await;
    let cards = root.query_selector_all(".card").unwrap();
    assert_eq!(cards.length() as usize, cascade::scenario::bundled().len());
    for entry in bundled_entries() {
        let title = entry.scenario().unwrap().file.scenario.title.clone();
        assert_eq!(entry.meta.as_ref().unwrap().title, title);
        button(&root, &format!("Replay {title}"));
    }
}

#[wasm_bindgen_test]
async fn opening_a_scenario_shows_controls_story_fixes_and_charts() {
    let root = mount();
    wait_for(&root, ".cards").await;
    click(&button(
        &root,
        "Replay Retry storm after a brief server crash",
    ));
    wait_for(&root, ".player").await;
    for label in [
        "Play",
        "Previous beat",
        "Step back",
        "Step forward",
        "Next beat",
        "Reset",
    ] {
        button(&root, label);
    }
    assert!(
        root.query_selector("input[aria-label='Timeline']")
            .unwrap()
            .is_some()
    );
    assert_eq!(root.query_selector_all(".beats .beat").unwrap().length(), 5);
    assert_eq!(
        root.query_selector_all(".fix input[role='switch']")
            .unwrap()
            .length(),
        5,
        "jitter, honor-timeout, retry-budget, circuit-breaker, adaptive-limit"
    );
    let canvas: HtmlCanvasElement =
        wait_for(&root, "canvas[aria-label='What happened to requests']")
            .await
            .dyn_into()
            .unwrap();
    click(&button(&root, "Play"));
    wait_until(
        || {
            root.query_selector("button[aria-label='Pause']")
                .unwrap()
                .is_some()
        },
        "the Play button to become Pause",
    )
    .await;
    let text = || root.text_content().unwrap_or_default();
    // The test page is not built by Trunk, so it has no module for workers to load: the runs
    // are computed on the page from the start, and the chart is drawn all the same.
    // Drawn: axes, labels and the outcome bands cover more than a twelfth of the canvas.
    let drawn = |c: &HtmlCanvasElement| drawn_pixels(c) > (c.width() * c.height() / 12) as usize;
    for _ in 0..500 {
        if drawn(&canvas) {
            break;
        }
        yew::platform::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        drawn(&canvas),
        "the chart has {} pixels drawn on {}×{}: {}",
        drawn_pixels(&canvas),
        canvas.width(),
        canvas.height(),
        text()
    );
    assert!(text().contains("The system now"));
    click(&button(&root, "Pause"));
}

#[wasm_bindgen_test]
async fn workers_that_never_start_hand_their_runs_to_the_page_and_say_so() {
    use cascade_web::state::Workers;
    use cascade_web::worker::RunWorker;
    use gloo_worker::Spawnable;
    let silent = || {
        RunWorker::spawner()
            .callback(|_| {})
            .spawn_with_loader("./no-such-worker-loader.js")
    };
    let mut player = Rc::new(Player::new(bundled_entries()))
        .reduce(Action::UseWorkers(Rc::new(Workers([silent(), silent()]))))
        .reduce(Action::Open(retry_storm_index()));
    let session = player.session.clone().unwrap();
    assert_eq!(session.borrow().computed_us(), 0, "nothing is computed yet");
    // Frames go by; after the workers' silence the page takes the runs over.
    for _ in 0..60 {
        yew::platform::time::sleep(Duration::from_millis(200)).await;
        player = player.reduce(Action::Frame {
            wall_ms: 16.0,
            budget_ms: 50.0,
        });
        if player.workers.is_none() {
            break;
        }
    }
    assert!(player.workers.is_none(), "the silent workers were given up");
    let message = player.message.clone().unwrap_or_default();
    assert!(message.contains("computed on this page"), "{message}");
    let player = catch_up(player);
    assert!(player.session.clone().unwrap().borrow().computed_us() > 0);
}

#[wasm_bindgen_test]
fn runs_compute_ahead_in_budgeted_slices_and_seeking_inside_them_is_instant() {
    let player = open(retry_storm_index());
    let player = player.reduce(Action::Seek(60 * US_PER_S));
    let session = player.session.clone().unwrap();
    assert!(session.borrow().catching_up(), "nothing is computed yet");
    let mut player = player;
    let mut frames = 0;
    while session.borrow().catching_up() {
        // No time to spare: each frame computes one slice of events, whatever the machine's
        // speed, so the run takes several frames.
        player = player.reduce(Action::Frame {
            wall_ms: 16.0,
            budget_ms: 0.0,
        });
        frames += 1;
        assert!(frames < 10_000);
    }
    assert!(frames > 1, "the run was computed over several frames");
    assert_eq!(session.borrow().shown_us(), 60 * US_PER_S);
    let scenario = cascade::scenario::find_bundled("retry-storm")
        .unwrap()
        .unwrap();
    let mut straight = cascade::Simulation::new(&scenario.variant(&[], &[]).unwrap(), 1);
    straight.run_until(60 * US_PER_S).unwrap();
    assert_eq!(
        session.borrow().run.shown().to_csv(),
        straight.metrics().to_csv(),
        "the windows shown are the run's"
    );
    // Inside the computed range, seeking needs no frame at all.
    let player = player.reduce(Action::Seek(20 * US_PER_S));
    assert!(!session.borrow().catching_up());
    assert_eq!(session.borrow().run.shown().len(), 20);
    let player = player.reduce(Action::Seek(60 * US_PER_S));
    assert!(!session.borrow().catching_up());
    assert_eq!(
        session.borrow().run.shown().to_csv(),
        straight.metrics().to_csv()
    );
    drop(player);
}

#[wasm_bindgen_test]
fn beats_steps_fixes_and_verdicts() {
    let player = open(retry_storm_index());
    let player = player.reduce(Action::NextBeat);
    let session = player.session.clone().unwrap();
    assert_eq!(
        session.borrow().target_us,
        5 * US_PER_S,
        "second beat at 5 s"
    );
    let player = player.reduce(Action::NextBeat).reduce(Action::PrevBeat);
    assert_eq!(session.borrow().target_us, 5 * US_PER_S);

    let player = player.reduce(Action::ToggleFix("jitter".into()));
    let session = player.session.clone().unwrap();
    assert_eq!(session.borrow().fixes, vec!["jitter".to_string()]);
    assert!(
        session.borrow().baseline.is_some(),
        "the run as it happened is kept for comparison"
    );
    let _player = catch_up(player.reduce(Action::Seek(60 * US_PER_S)));
    let s = session.borrow();
    let fixed = cascade::verdict::assess(s.run.shown());
    let plain = cascade::verdict::assess(s.baseline.as_ref().unwrap().shown());
    assert!(
        matches!(fixed, cascade::verdict::Verdict::Recovered { .. }),
        "{fixed:?}"
    );
    assert!(
        matches!(plain, cascade::verdict::Verdict::NotRecovered { .. }),
        "{plain:?}"
    );
}

#[wasm_bindgen_test]
fn a_fix_applied_now_forks_the_run() {
    // By 10 s the storm has begun; dropping dead work then still saves the run (by 20 s nothing
    // applied alone would: the run is metastable).
    let player = catch_up(open(retry_storm_index()).reduce(Action::Seek(10 * US_PER_S)));
    let session = player.session.clone().unwrap();
    let player = player.reduce(Action::ApplyFixNow("honor-timeout".into()));
    assert_eq!(session.borrow().scheduled.len(), 1);
    assert!(session.borrow().baseline.is_some());
    let _player = catch_up(player.reduce(Action::Seek(60 * US_PER_S)));
    let s = session.borrow();
    let fixed = cascade::verdict::assess(s.run.shown());
    assert!(
        matches!(fixed, cascade::verdict::Verdict::Recovered { .. }),
        "{fixed:?}"
    );
}

#[wasm_bindgen_test]
fn charts_draw_and_change_with_a_fix() {
    let scenario = bundled_entries()[retry_storm_index()].scenario().unwrap();
    let draw = |fixes: &[String]| {
        let mut sim = cascade::Simulation::new(&scenario.variant(fixes, &[]).unwrap(), 1);
        sim.run_to_end().unwrap();
        let canvas: HtmlCanvasElement = document()
            .create_element("canvas")
            .unwrap()
            .dyn_into()
            .unwrap();
        canvas.set_width(600);
        canvas.set_height(250);
        let frame = Frame {
            metrics: sim.metrics(),
            fresh_windows: sim.metrics().len(),
            baseline: None,
            duration_s: 60.0,
            now_s: 60.0,
            beats_s: &[5.0],
            started_at: "",
            dark: false,
        };
        charts::draw(
            canvas.clone(),
            &chart_specs(&scenario.file.scenario, "")[0],
            &frame,
            1.0,
        )
        .unwrap();
        canvas
    };
    let plain = draw(&[]);
    let fixed = draw(&["jitter".to_string()]);
    assert!(drawn_pixels(&plain) > 2_000);
    assert_ne!(pixels(&plain), pixels(&fixed), "the fix shows on the chart");
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
    assert_eq!(sim.trace_hash().hex(), "c29a327886d4919d");
}

#[wasm_bindgen_test]
fn a_chart_describes_its_trend_in_words() {
    use cascade_web::components::chart::trend;
    let t = [60.0, 120.0, 180.0, 240.0];
    assert_eq!(
        trend("CPU", &t, &[20.0, 21.0, 100.0, 100.0], "% CPU", "15:32 UTC").as_deref(),
        Some("CPU rose from 20 to 100 % CPU around 15:35:00 UTC")
    );
    assert_eq!(
        trend("success", &t, &[98.0, 0.0, 97.0, 98.0], "per second", "").as_deref(),
        Some("success stayed near 98 per second")
    );
    assert_eq!(
        trend("queue", &t, &[0.0, 50.0, 1.0, 0.0], "requests", "").as_deref(),
        Some("queue stayed near 0 requests, with a peak of 50 at 2:00")
    );
}
