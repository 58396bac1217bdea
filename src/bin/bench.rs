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
//!
//! Native arguments are parsed by `clap` (`bench --help`, `bench run --help`; not linked into
//! the wasm build): bad arguments, an unknown case among them, exit with code 2 and clap's
//! message on stderr, a case that fails with code 1.

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
    cli::main()
}

#[cfg(not(target_arch = "wasm32"))]
mod cli {
    use anomaly_detector::app::bench;
    use clap::builder::PossibleValuesParser;
    use clap::{Parser, Subcommand};
    use std::io::Write;
    use std::path::PathBuf;
    use std::process::ExitCode;

    /// Benchmarks of the anomaly detector's models and traffic generator, run natively.
    ///
    /// `run` times one case (its input is built deterministically and not timed; the fastest
    /// of REPEATS runs counts) and prints one JSON line {"name", "ms", "checksum", ...}: the
    /// same cases and output as the wasm build in headless Chromium (bench/models.mjs), so
    /// equal checksums show both computed bit-identical results. `data` writes the model
    /// cases' input for scikit-learn (bench/sklearn_models.py). scripts/bench drives both.
    #[derive(Parser, Debug)]
    #[command(name = "bench", version)]
    struct Args {
        #[command(subcommand)]
        command: Command,
    }

    #[derive(Subcommand, Debug)]
    enum Command {
        /// Times one case and prints the fastest run as one JSON line
        ///
        /// Milliseconds in "ms", the output's checksum in "checksum", "flows" and
        /// "bytes_per_flow" for generate. With the environment variable
        /// BENCH_CPU_CLOCK set (Linux), times with the process's CPU time
        /// (/proc/self/schedstat) instead of the wall clock, which is steadier on a busy
        /// machine
        #[command(args_override_self = true)]
        Run {
            /// The case to time
            #[arg(value_name = "NAME", value_parser = PossibleValuesParser::new(bench::CASES))]
            name: String,
            /// How many times to run it; the fastest counts (0 runs it once)
            #[arg(value_name = "REPEATS", default_value_t = 3)]
            repeats: usize,
        },
        /// Writes the model benchmarks' data to PATH for scikit-learn
        ///
        /// Raw little-endian f64, row-major, 100,000 rows x 20 columns (bench::DATA_ROWS x
        /// bench::DATA_COLS), the same numbers the model cases time on.
        Data {
            /// The file to write (about 16 MB)
            #[arg(value_name = "PATH")]
            path: PathBuf,
        },
    }

    pub fn main() -> ExitCode {
        match native(Args::parse().command) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("bench: {e}");
                ExitCode::FAILURE
            }
        }
    }

    fn native(command: Command) -> Result<(), String> {
        match command {
            Command::Run { name, repeats } => {
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
                let m = bench::run(&name, repeats, &clock).map_err(|e| e.to_string())?;
                let line = serde_json::to_string(&m).map_err(|e| e.to_string())?;
                match writeln!(std::io::stdout().lock(), "{line}") {
                    // A reader that stopped early is not an error.
                    Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                        Err(format!("stdout: {e}"))
                    }
                    _ => Ok(()),
                }
            }
            Command::Data { path } => {
                let x = bench::data(bench::DATA_ROWS, bench::DATA_COLS, bench::DATA_SEED);
                let bytes: Vec<u8> = x.as_slice().iter().flat_map(|v| v.to_le_bytes()).collect();
                std::fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))
            }
        }
    }

    #[cfg(test)]
    mod tests {
        use super::Args;
        use clap::CommandFactory;

        #[test]
        fn arguments_are_consistent() {
            Args::command().debug_assert();
        }
    }
}
