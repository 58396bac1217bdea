//! Entry point of the files worker: runs on the user's traffic files and saved models as well
//! as generated traffic; the page starts it only when a file is chosen (built by Trunk with
//! `data-type="worker"`; see `anomaly_detector::worker`).

#[cfg(target_arch = "wasm32")]
fn main() {
    console_error_panic_hook::set_once();
    anomaly_detector::worker::register_files();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("the worker runs in the browser; build it with `trunk build`");
}
