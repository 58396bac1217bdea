//! Browser tests (wasm-bindgen-test in headless Chromium): the pipeline computes in wasm, the
//! components mount with labelled controls, the configuration form clamps like the URL does,
//! and the charts draw real pixels at device resolution.
#![cfg(target_arch = "wasm32")]

use anomaly_detector::app::protocol::RunSummary;
use anomaly_detector::detection::run_config::RunConfig;
use anomaly_detector::pipeline::{self, RunOutput};
use anomaly_detector::ui::{draw_chart, App, ChartKind};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn small_run() -> RunOutput {
    let (config, _) = RunConfig::from_query("seed=11&hosts=10&duration=900");
    pipeline::run(&config, &js_sys::Date::now, &mut |_| true).expect("runs in wasm")
}

fn document() -> web_sys::Document {
    web_sys::window().unwrap().document().unwrap()
}

#[wasm_bindgen_test]
fn pipeline_is_deterministic_in_wasm() {
    let a = small_run();
    let b = small_run();
    assert_eq!(a.report.without_timings(), b.report.without_timings());
    assert!(a.plot.ensemble.iter().all(|s| s.is_finite()));
    assert!(a.report.metrics.ensemble.roc_auc.unwrap() > 0.5);
}

fn mount_app() -> web_sys::HtmlElement {
    let host: web_sys::HtmlElement = document().create_element("div").unwrap().unchecked_into();
    document().body().unwrap().append_child(&host).unwrap();
    let handle = leptos::mount::mount_to(host.clone(), App);
    std::mem::forget(handle);
    host
}

#[wasm_bindgen_test]
fn app_mounts_with_labelled_controls() {
    let host = mount_app();
    let buttons: Vec<String> = (0..host.query_selector_all("button").unwrap().length())
        .map(|i| {
            host.query_selector_all("button")
                .unwrap()
                .item(i)
                .unwrap()
                .text_content()
                .unwrap_or_default()
        })
        .collect();
    assert!(buttons.iter().any(|b| b == "Run detection"), "{buttons:?}");
    assert!(
        buttons.iter().any(|b| b == "Download report"),
        "{buttons:?}"
    );
    // Every input and select has a <label for=...>.
    let controls = host.query_selector_all("input, select").unwrap();
    assert!(controls.length() >= 10);
    for i in 0..controls.length() {
        let el: web_sys::Element = controls.item(i).unwrap().unchecked_into();
        let id = el.id();
        assert!(!id.is_empty(), "control without id: {}", el.outer_html());
        assert!(
            host.query_selector(&format!("label[for='{id}']"))
                .unwrap()
                .is_some(),
            "no label for #{id}"
        );
    }
    assert_eq!(
        host.query_selector_all("canvas[data-chart]")
            .unwrap()
            .length(),
        5
    );
    host.remove();
}

#[wasm_bindgen_test]
async fn editing_a_field_clamps_and_tells_the_user() {
    let host = mount_app();
    let input: web_sys::HtmlInputElement = host
        .query_selector("#hosts")
        .unwrap()
        .unwrap()
        .unchecked_into();
    input.set_value("99999");
    input
        .dispatch_event(&web_sys::Event::new("change").unwrap())
        .unwrap();
    // Let the reactive system flush.
    wasm_bindgen_futures_yield().await;
    assert_eq!(
        input.value(),
        anomaly_detector::traffic::generator::HOSTS_MAX.to_string()
    );
    let alert = host
        .query_selector("[role=alert]")
        .unwrap()
        .expect("a notice is shown");
    assert!(alert.text_content().unwrap().contains("maximum"));
    host.remove();
}

#[wasm_bindgen_test]
async fn detector_thresholds_are_set_clamped_and_restored_in_the_form() {
    let host = mount_app();
    let input = |sel: &str| -> web_sys::HtmlInputElement {
        host.query_selector(sel)
            .unwrap()
            .unwrap_or_else(|| panic!("{sel} is in the form"))
            .unchecked_into()
    };
    let change = |el: &web_sys::HtmlInputElement, value: &str| {
        el.set_value(value);
        el.dispatch_event(&web_sys::Event::new("change").unwrap())
            .unwrap();
    };
    let summary = || {
        host.query_selector(".detector-thresholds summary")
            .unwrap()
            .unwrap()
            .text_content()
            .unwrap()
    };
    // Effects (the inputs' values) run after mounting.
    wasm_bindgen_futures_yield().await;
    assert_eq!(summary(), "Detector thresholds");
    // The inputs are rendered when the section is first opened.
    assert!(host
        .query_selector("#det-scan-min-ports")
        .unwrap()
        .is_none());
    host.query_selector(".detector-thresholds")
        .unwrap()
        .unwrap()
        .set_attribute("open", "")
        .unwrap();
    wasm_bindgen_futures_yield().await;
    let ports = input("#det-scan-min-ports");
    assert_eq!(ports.value(), "15");
    change(&ports, "1");
    wasm_bindgen_futures_yield().await;
    assert_eq!(ports.value(), "2", "clamped to the table's minimum");
    let alert = host
        .query_selector("[role=alert]")
        .unwrap()
        .expect("a notice is shown");
    assert!(
        alert
            .text_content()
            .unwrap()
            .contains("detector.scan.min_ports"),
        "{}",
        alert.text_content().unwrap()
    );
    let auth = input("#det-brute-force-ports");
    change(&auth, "22, 3389, x");
    wasm_bindgen_futures_yield().await;
    assert_eq!(auth.value(), "22,3389");
    assert_eq!(summary(), "Detector thresholds (2 changed)");
    let restore: web_sys::HtmlElement = (0..host.query_selector_all("button").unwrap().length())
        .map(|i| host.query_selector_all("button").unwrap().item(i).unwrap())
        .map(|n| n.unchecked_into::<web_sys::HtmlElement>())
        .find(|b| b.text_content().unwrap_or_default() == "Restore the default thresholds")
        .expect("the restore button");
    restore.click();
    wasm_bindgen_futures_yield().await;
    assert_eq!(ports.value(), "15");
    assert_eq!(summary(), "Detector thresholds");
    host.remove();
}

async fn wasm_bindgen_futures_yield() {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window()
            .unwrap()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 20)
            .unwrap();
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

#[wasm_bindgen_test]
fn charts_draw_pixels_at_device_resolution() {
    let out = small_run();
    // What the page holds: the summary plus the plot series.
    let page_run = RunSummary::of(&out).into_page_run(out.plot.clone());
    for kind in [
        ChartKind::ScoreOverTime,
        ChartKind::Histogram,
        ChartKind::Roc,
        ChartKind::Loss,
        ChartKind::Scatter,
    ] {
        let canvas: web_sys::HtmlCanvasElement = document()
            .create_element("canvas")
            .unwrap()
            .unchecked_into();
        canvas
            .set_attribute("style", "width: 400px; height: 250px; display: block")
            .unwrap();
        document().body().unwrap().append_child(&canvas).unwrap();
        draw_chart(&canvas, kind, Some(&page_run), &[]);
        let dpr = web_sys::window().unwrap().device_pixel_ratio();
        assert_eq!(canvas.width(), (400.0 * dpr).round() as u32, "{kind:?}");
        let ctx: web_sys::CanvasRenderingContext2d =
            canvas.get_context("2d").unwrap().unwrap().unchecked_into();
        let data = ctx
            .get_image_data(
                0.0,
                0.0,
                f64::from(canvas.width()),
                f64::from(canvas.height()),
            )
            .unwrap()
            .data();
        let non_white = data
            .chunks(4)
            .filter(|p| p[0] < 240 || p[1] < 240 || p[2] < 240)
            .count();
        assert!(
            non_white > 1000,
            "{kind:?} drew only {non_white} non-white pixels"
        );
        canvas.remove();
    }
}
