//! Mounts the app. Everything else lives in the library (`ui` for the page).

#[cfg(target_arch = "wasm32")]
fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(anomaly_detector::ui::App);
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("the app runs in the browser; serve it with `scripts/serve` (see README.md)");
}
