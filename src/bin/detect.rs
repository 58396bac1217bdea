//! Native command line for the detection pipeline: the same `pipeline::run` the browser's
//! worker calls, for benchmarks, the scikit-learn fidelity check and determinism tests.
//!
//! Usage: detect [--query 'seed=7&hosts=80'] [--config run.json] [--out report.json]
//!               [--features-csv features.csv] [--no-timings]
//!               [--flows-csv traffic.csv] [--conn-log traffic.conn.log]
//!               [--save-model model.json] [--model model.json]
//!               [--import traffic.log [--baseline known-good.log]]
//!
//! `--flows-csv`/`--conn-log` write the generated flows as the app's "Download data" buttons
//! do; `--save-model` writes the run's detector as "Download model" does; `--model` scores
//! the traffic with a saved detector instead of training; `--import` analyses a file (any
//! format the app reads, detected from its content) instead of generated traffic, as
//! "Import traffic" and "Import baseline" do.

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    if let Err(message) = cli::main() {
        eprintln!("detect: {message}");
        std::process::exit(2);
    }
}

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
mod cli {
    use anomaly_detector::detection::detector_model::DetectorModel;
    use anomaly_detector::detection::features::feature_names;
    use anomaly_detector::detection::run_config::RunConfig;
    use anomaly_detector::pipeline::dataset::ImportInput;
    use anomaly_detector::pipeline::{self, Progress, RunOutput};
    use anomaly_detector::traffic::export;
    use anomaly_detector::traffic::import::{self, ImportLimits, ImportedTraffic};
    use std::io::Write;

    struct Args {
        query: Option<String>,
        config: Option<String>,
        out: Option<String>,
        features_csv: Option<String>,
        no_timings: bool,
        flows_csv: Option<String>,
        conn_log: Option<String>,
        save_model: Option<String>,
        model: Option<String>,
        import: Option<String>,
        baseline: Option<String>,
    }

    fn parse_args() -> Result<Args, String> {
        let mut args = Args {
            query: None,
            config: None,
            out: None,
            features_csv: None,
            no_timings: false,
            flows_csv: None,
            conn_log: None,
            save_model: None,
            model: None,
            import: None,
            baseline: None,
        };
        let mut it = std::env::args().skip(1);
        while let Some(a) = it.next() {
            let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
            match a.as_str() {
                "--query" => args.query = Some(value("--query")?),
                "--config" => args.config = Some(value("--config")?),
                "--out" => args.out = Some(value("--out")?),
                "--features-csv" => args.features_csv = Some(value("--features-csv")?),
                "--no-timings" => args.no_timings = true,
                "--flows-csv" => args.flows_csv = Some(value("--flows-csv")?),
                "--conn-log" => args.conn_log = Some(value("--conn-log")?),
                "--save-model" => args.save_model = Some(value("--save-model")?),
                "--model" => args.model = Some(value("--model")?),
                "--import" => args.import = Some(value("--import")?),
                "--baseline" => args.baseline = Some(value("--baseline")?),
                "-h" | "--help" => {
                    println!("usage: detect [--query Q] [--config FILE] [--out FILE] [--features-csv FILE] [--no-timings] [--flows-csv FILE] [--conn-log FILE] [--save-model FILE] [--model FILE] [--import FILE [--baseline FILE]]");
                    std::process::exit(0);
                }
                other => return Err(format!("unknown argument {other:?}")),
            }
        }
        Ok(args)
    }

    fn file_name(path: &str) -> String {
        std::path::Path::new(path)
            .file_name()
            .map_or_else(|| path.to_string(), |n| n.to_string_lossy().into_owned())
    }

    /// Reads and imports a traffic file as the worker does (format from the content).
    fn read_traffic(path: &str) -> Result<ImportedTraffic, String> {
        let bytes = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
        let traffic = import::import(&bytes, None, &ImportLimits::default(), &mut |_| true)
            .map_err(|e| format!("{path}: {e}"))?;
        if traffic.skipped_count > 0 {
            eprintln!("{path}: {} records skipped", traffic.skipped_count);
        }
        Ok(traffic)
    }

    /// Scaled features as the models saw them, with ground truth, the training flag and our
    /// scores: the input of tests/fidelity/pipeline_vs_sklearn.py.
    fn write_features(path: &str, config: &RunConfig, out: &RunOutput) -> Result<(), String> {
        let x = pipeline::scaled_features(config).map_err(|e| e.to_string())?;
        let mut f = std::io::BufWriter::new(
            std::fs::File::create(path).map_err(|e| format!("{path}: {e}"))?,
        );
        let mut header: Vec<String> = feature_names().into_iter().map(String::from).collect();
        header.extend(["label", "training", "if_score", "mlp_score", "ensemble"].map(String::from));
        let io = |e: std::io::Error| format!("{path}: {e}");
        writeln!(f, "{}", header.join(",")).map_err(io)?;
        for i in 0..x.rows() {
            let mut cells: Vec<String> = x.row(i).iter().map(|v| format!("{v:.17e}")).collect();
            cells.push(out.plot.label[i].to_string());
            cells.push(u8::from(out.plot.training[i]).to_string());
            cells.push(format!("{:.9e}", out.plot.isolation_forest[i]));
            cells.push(format!("{:.9e}", out.plot.mlp[i]));
            cells.push(format!("{:.9e}", out.plot.ensemble[i]));
            writeln!(f, "{}", cells.join(",")).map_err(io)?;
        }
        Ok(())
    }

    pub fn main() -> Result<(), String> {
        let args = parse_args()?;
        let mut config = match &args.config {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
                serde_json::from_str(&text).map_err(|e| format!("{path}: {e}"))?
            }
            None => RunConfig::default(),
        };
        if let Some(q) = &args.query {
            for notice in config.apply_query(q) {
                eprintln!("notice: {notice}");
            }
        }
        let clock = pipeline::native_clock();
        let mut last_epoch = 0;
        let mut progress = |p| {
            if let Progress::Epoch(e) = p {
                last_epoch = e.epoch;
            }
            true
        };
        let model = match &args.model {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
                Some(DetectorModel::from_json(&text).map_err(|e| format!("{path}: {e}"))?)
            }
            None => None,
        };
        let fitted = match (&args.import, &model) {
            (Some(path), model) => {
                let t0 = clock();
                let traffic = read_traffic(path)?;
                let baseline = match &args.baseline {
                    Some(b) => Some((read_traffic(b)?, file_name(b))),
                    None => None,
                };
                let input = ImportInput {
                    traffic,
                    file_name: file_name(path),
                    baseline,
                };
                let import_ms = clock() - t0;
                match model {
                    Some(m) => pipeline::run_imported_with_model(
                        &config,
                        input,
                        m,
                        import_ms,
                        &clock,
                        &mut progress,
                    ),
                    None => {
                        pipeline::run_imported(&config, input, import_ms, &clock, &mut progress)
                    }
                }
            }
            (None, Some(m)) => {
                pipeline::run_generated_with_model(&config, m, &clock, &mut progress)
            }
            (None, None) => pipeline::run_fitted(&config, &clock, &mut progress),
        }
        .map_err(|e| e.to_string())?;
        let write = |path: &str, text: String| {
            std::fs::write(path, text).map_err(|e| format!("{path}: {e}"))
        };
        if let Some(path) = &args.save_model {
            write(path, fitted.saved_model().to_json())?;
        }
        if let Some(path) = &args.flows_csv {
            write(path, export::to_csv(&fitted.output.scored.flows))?;
        }
        if let Some(path) = &args.conn_log {
            write(path, export::to_zeek_conn_log(&fitted.output.scored.flows))?;
        }
        let out = fitted.output;
        let report = if args.no_timings {
            out.report.without_timings()
        } else {
            out.report.clone()
        };
        let json = report.to_json_pretty();
        match &args.out {
            Some(path) => std::fs::write(path, json + "\n").map_err(|e| format!("{path}: {e}"))?,
            // A reader that stops early (`detect | head`) is not an error worth a panic.
            None => {
                use std::io::Write;
                match writeln!(std::io::stdout().lock(), "{json}") {
                    Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(()),
                    other => other.map_err(|e| format!("stdout: {e}"))?,
                }
            }
        }
        if let Some(path) = &args.features_csv {
            write_features(path, &config, &out)?;
        }
        let m = &out.report.metrics;
        eprintln!(
            "flows {}  anomalies {}  epochs {}  ROC-AUC if {:.4} mlp {:.4} ensemble {:.4}  total {:.0} ms",
            out.report.data.flows,
            out.report.anomaly_count,
            last_epoch,
            m.isolation_forest.roc_auc.unwrap_or(f64::NAN),
            m.mlp.roc_auc.unwrap_or(f64::NAN),
            m.ensemble.roc_auc.unwrap_or(f64::NAN),
            out.report.timings_ms.get("total").copied().unwrap_or(0.0)
        );
        Ok(())
    }
}
