//! Entry point of the demo worker: generated traffic and everything after a run (built by
//! Trunk with `data-type="worker"`; see `anomaly_detector::worker`).

#[cfg(target_arch = "wasm32")]
fn main() {
    console_error_panic_hook::set_once();
    anomaly_detector::worker::register_demo();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("the worker runs in the browser; build it with `trunk build`");
}
