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
//! "Import traffic" and "Import baseline" do. `detect --help` describes every flag.
//!
//! Arguments are parsed by `clap` (native only: built for wasm this binary is an empty main).
//! Bad arguments exit with code 2 and clap's message on stderr, as do errors of the run; a
//! reader that closes standard output early (`detect | head`) ends the output quietly.

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
    use anomaly_detector::detection::run_config::RunConfig;
    use anomaly_detector::pipeline::dataset::ImportInput;
    use anomaly_detector::pipeline::{self, FittedRun, Progress};
    use anomaly_detector::traffic::export;
    use anomaly_detector::traffic::import::{self, ImportLimits, ImportedTraffic};
    use clap::Parser;
    use std::io::Write;
    use std::path::{Path, PathBuf};

    /// Runs the network anomaly detector's pipeline natively and prints its JSON report.
    ///
    /// The same code as the browser app: it generates synthetic traffic from the run settings
    /// (or imports a traffic file), computes the features, trains the Isolation Forest and the
    /// MLP autoencoder (or applies a saved model), thresholds the scores and writes the report
    /// (to standard output unless --out is given), byte-identical to the page's apart from
    /// timings. A one-line summary goes to standard error.
    #[derive(Parser, Debug)]
    #[command(name = "detect", version, args_override_self = true)]
    struct Args {
        /// Run settings in the page's URL query form, e.g. 'seed=7&hosts=80&duration=300'
        /// (duration in seconds), applied over --config or the defaults; keys it cannot use
        /// are reported as notices on stderr
        #[arg(long, value_name = "QUERY")]
        query: Option<String>,

        /// Run configuration as JSON (the report's `config` object); default: the app's
        /// default settings
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,

        /// Write the JSON report to FILE instead of standard output
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,

        /// Write the standardised features the models saw (one row per charted flow), with
        /// each flow's label code, training flag (0/1) and the three models' scores, as CSV
        /// (input of tests/fidelity/pipeline_vs_sklearn.py)
        #[arg(long, value_name = "FILE")]
        features_csv: Option<PathBuf>,

        /// Leave the per-stage timings (milliseconds) out of the report, so that identical
        /// runs give identical bytes
        #[arg(long)]
        no_timings: bool,

        /// Write the run's flows as CSV, as the page's "Download data (CSV)" does
        #[arg(long, value_name = "FILE")]
        flows_csv: Option<PathBuf>,

        /// Write the run's flows as a Zeek conn.log (TSV), as the page's "Download data
        /// (Zeek conn.log)" does
        #[arg(long, value_name = "FILE")]
        conn_log: Option<PathBuf>,

        /// Write the run's detector as a model file (JSON), as the page's "Download model"
        /// does
        #[arg(long, value_name = "FILE")]
        save_model: Option<PathBuf>,

        /// Score the traffic with this saved model file instead of training
        #[arg(long, value_name = "FILE")]
        model: Option<PathBuf>,

        /// Analyse this traffic file (any format the app imports, detected from its content)
        /// instead of generated traffic, as the page's "Import traffic" does
        #[arg(long, value_name = "FILE")]
        import: Option<PathBuf>,

        /// Known-good traffic file to train on, the imported file being scored separately
        /// (the page's "Import baseline"); only with --import
        #[arg(long, value_name = "FILE", requires = "import")]
        baseline: Option<PathBuf>,
    }

    fn file_name(path: &Path) -> String {
        path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    }

    /// Reads and imports a traffic file as the worker does (format from the content).
    fn read_traffic(path: &Path) -> Result<ImportedTraffic, String> {
        let p = path.display();
        let bytes = std::fs::read(path).map_err(|e| format!("{p}: {e}"))?;
        let traffic = import::import(&bytes, None, &ImportLimits::default(), &mut |_| true)
            .map_err(|e| format!("{p}: {e}"))?;
        if traffic.skipped_count > 0 {
            eprintln!("{p}: {} records skipped", traffic.skipped_count);
        }
        Ok(traffic)
    }

    /// Scaled features as the models saw them, with ground truth, the training flag and our
    /// scores: the input of tests/fidelity/pipeline_vs_sklearn.py. One row per charted flow:
    /// every flow, except an imported baseline's (the chart leaves those out too).
    fn write_features(path: &Path, fitted: &FittedRun) -> Result<(), String> {
        let io = |e: std::io::Error| format!("{}: {e}", path.display());
        let x = &fitted.explainer.x;
        let plot = &fitted.output.plot;
        let first = x.rows().checked_sub(plot.label.len()).ok_or_else(|| {
            format!(
                "{}: {} feature rows for {} charted flows",
                path.display(),
                x.rows(),
                plot.label.len()
            )
        })?;
        let mut f = std::io::BufWriter::new(std::fs::File::create(path).map_err(io)?);
        let mut header: Vec<String> = fitted
            .explainer
            .columns
            .iter()
            .map(|c| c.name.clone())
            .collect();
        header.extend(["label", "training", "if_score", "mlp_score", "ensemble"].map(String::from));
        writeln!(f, "{}", header.join(",")).map_err(io)?;
        for (i, row) in (first..x.rows()).map(|r| x.row(r)).enumerate() {
            let mut cells: Vec<String> = row.iter().map(|v| format!("{v:.17e}")).collect();
            cells.push(plot.label[i].to_string());
            cells.push(u8::from(plot.training[i]).to_string());
            cells.push(format!("{:.9e}", plot.isolation_forest[i]));
            cells.push(format!("{:.9e}", plot.mlp[i]));
            cells.push(format!("{:.9e}", plot.ensemble[i]));
            writeln!(f, "{}", cells.join(",")).map_err(io)?;
        }
        f.flush().map_err(io)
    }

    pub fn main() -> Result<(), String> {
        let args = Args::parse();
        let mut config = match &args.config {
            Some(path) => {
                let p = path.display();
                let text = std::fs::read_to_string(path).map_err(|e| format!("{p}: {e}"))?;
                serde_json::from_str(&text).map_err(|e| format!("{p}: {e}"))?
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
            match p {
                Progress::Epoch(e) => last_epoch = e.epoch,
                // The training check goes to stderr as soon as it is known: the report on
                // stdout carries it too, but a user watching a long run reads it first.
                Progress::Checked {
                    training_warnings, ..
                } => {
                    for w in training_warnings {
                        eprintln!("training check: {w}");
                    }
                }
                Progress::Stage { .. } => {}
            }
            true
        };
        let model = match &args.model {
            Some(path) => {
                let p = path.display();
                let text = std::fs::read_to_string(path).map_err(|e| format!("{p}: {e}"))?;
                Some(DetectorModel::from_json(&text).map_err(|e| format!("{p}: {e}"))?)
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
        let write = |path: &Path, text: String| {
            std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
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
        let out = &fitted.output;
        let report = if args.no_timings {
            out.report.without_timings()
        } else {
            out.report.clone()
        };
        let json = report.to_json_pretty();
        match &args.out {
            Some(path) => write(path, json + "\n")?,
            // A reader that stops early (`detect | head`) is not an error: the output ends
            // there and the files asked for are still written.
            None => match writeln!(std::io::stdout().lock(), "{json}") {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
                other => other.map_err(|e| format!("stdout: {e}"))?,
            },
        }
        if let Some(path) = &args.features_csv {
            write_features(path, &fitted)?;
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
