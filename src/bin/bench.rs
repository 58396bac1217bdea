//! `bench`: runs the benchmark cases of `anomaly_detector::app::bench`, natively or in the browser.
//!
//! Natively:
//!   bench run NAME [REPEATS]     prints the measurement as one JSON line; with the
//!                                environment variable BENCH_CPU_CLOCK set (Linux), times
//!                                with the process's CPU time (/proc/self/schedstat) instead
//!                                of the wall clock, which is steadier on a busy machine
//!   bench data PATH              writes the model benchmarks' data as raw little-endian f64
//!                                (row-major, `bench::DATA_ROWS × bench::DATA_COLS`) for
//!                                scikit-learn
//! In wasm (built with wasm-bindgen, loaded by `bench/models.mjs`) it exports
//! `run_bench(name, repeats) -> String` (the same JSON) timed with `performance.now()`.
//! Tooling only; the app never loads it.

#[cfg(not(target_arch = "wasm32"))]
use anomaly_detector::app::bench;

#[cfg(target_arch = "wasm32")]
mod web {
    use anomaly_detector::app::bench;
    use wasm_bindgen::prelude::*;
    use wasm_bindgen::JsCast;

    #[wasm_bindgen]
    pub fn run_bench(name: &str, repeats: usize) -> Result<String, JsValue> {
        // `globalThis.performance`, not `window.performance`: the same module then also runs
        // under Node (quick local measurements) and in a worker.
        let performance = js_sys::Reflect::get(&js_sys::global(), &"performance".into())?;
        let now: js_sys::Function = js_sys::Reflect::get(&performance, &"now".into())?
            .dyn_into()
            .map_err(|_| JsValue::from_str("globalThis.performance.now is not a function"))?;
        let clock = move || {
            now.call0(&performance)
                .ok()
                .and_then(|t| t.as_f64())
                .unwrap_or(f64::NAN)
        };
        let m = bench::run(name, repeats, &clock).map_err(|e| JsValue::from_str(&e.to_string()))?;
        serde_json::to_string(&m).map_err(|e| JsValue::from_str(&e.to_string()))
    }
}

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match native(&args) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn native(args: &[String]) -> Result<(), String> {
    let usage = "usage: bench run NAME [REPEATS] | bench data PATH";
    match args.first().map(String::as_str) {
        Some("run") => {
            let name = args.get(1).ok_or(usage)?;
            let repeats = match args.get(2) {
                Some(r) => r.parse().map_err(|e| format!("REPEATS {r:?}: {e}"))?,
                None => 3,
            };
            let start = std::time::Instant::now();
            let wall = move || start.elapsed().as_secs_f64() * 1e3;
            let cpu = || {
                std::fs::read_to_string("/proc/self/schedstat")
                    .ok()
                    .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
                    .map_or(f64::NAN, |ns| ns / 1e6)
            };
            let use_cpu = std::env::var_os("BENCH_CPU_CLOCK").is_some();
            let clock = move || if use_cpu { cpu() } else { wall() };
            let m = bench::run(name, repeats, &clock).map_err(|e| e.to_string())?;
            println!("{}", serde_json::to_string(&m).map_err(|e| e.to_string())?);
            Ok(())
        }
        Some("data") => {
            let path = args.get(1).ok_or(usage)?;
            let x = bench::data(bench::DATA_ROWS, bench::DATA_COLS, bench::DATA_SEED);
            let bytes: Vec<u8> = x.as_slice().iter().flat_map(|v| v.to_le_bytes()).collect();
            std::fs::write(path, bytes).map_err(|e| format!("{path}: {e}"))
        }
        _ => Err(usage.to_string()),
    }
}
