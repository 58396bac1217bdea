//! Measures the generator's native speed and memory per flow on a large scenario.
//!
//! `cargo run --release --example generate_bench [preset-id] [repeats]` prints one JSON line:
//! flows, best wall time, flows per second and bytes per flow (the record's size plus the
//! vector's spare capacity; flows own no heap memory of their own). Default preset:
//! `large_site` (500 hosts, eight hours, every attack kind).

use anomaly_detector::traffic::flow::FlowRecord;
use anomaly_detector::traffic::generator::{generate, presets::Preset};
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let id = args.next().unwrap_or_else(|| "large_site".to_string());
    let repeats: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(3);
    let Some(preset) = Preset::find(&id) else {
        eprintln!("unknown preset {id:?}");
        std::process::exit(2);
    };
    let config = preset.config();
    let mut best_s = f64::INFINITY;
    let mut flows = 0;
    let mut capacity = 0;
    for _ in 0..repeats.max(1) {
        let t0 = Instant::now();
        let traffic = match generate(&config) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("{e}");
                std::process::exit(1);
            }
        };
        best_s = best_s.min(t0.elapsed().as_secs_f64());
        flows = traffic.flows.len();
        capacity = traffic.flows.capacity();
    }
    let record = std::mem::size_of::<FlowRecord>();
    let bytes_per_flow = (capacity * record) as f64 / flows.max(1) as f64;
    println!(
        "{{\"name\":\"generate\",\"preset\":\"{}\",\"flows\":{flows},\"seconds\":{best_s:.4},\
         \"flows_per_s_native\":{:.0},\"record_bytes\":{record},\"bytes_per_flow\":{bytes_per_flow:.1}}}",
        preset.id,
        flows as f64 / best_s,
    );
}
