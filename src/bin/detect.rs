//! Native command line for the detection pipeline: the same `pipeline` functions the
//! browser's worker calls, for users, benchmarks, the scikit-learn fidelity check and
//! determinism tests.
//!
//! Usage:
//!   detect [analyse] [--query 'seed=7&hosts=80'] [--config run.json] [--out report.json]
//!                    [--features-csv features.csv] [--no-timings]
//!                    [--flows-csv traffic.csv] [--conn-log traffic.conn.log]
//!                    [--save-model model.json] [--model model.json]
//!                    [--import traffic.log [--baseline known-good.log]]
//!   detect train [FILE] [--query Q] [--config run.json] [--out model.json]
//!   detect score --model model.json FILE [--format csv|eve|ecs] [--out F] [--query Q]
//!                [--reorder-s S] [--reorder-max-flows N] [--batch]
//!   detect follow --model model.json PATH [--format eve|ecs|csv] [--checkpoint FILE]
//!                 [--poll-ms N] [--from-start|--from-end] [--exit-when-idle-ms N]
//!
//! `analyse` (also what `detect` does with no subcommand, flags as before) runs the whole
//! pipeline and prints the JSON report: `--flows-csv`/`--conn-log` write the generated flows as
//! the app's "Download data" buttons do; `--save-model` writes the run's detector as "Download
//! model" does; `--model` scores the traffic with a saved detector instead of training;
//! `--import` analyses a file (any format the app reads, detected from its content) instead of
//! generated traffic, as "Import traffic" and "Import baseline" do.
//!
//! `train` fits a detector on a known-good file (every flow of it) or on generated traffic and
//! writes the model file: `analyse --save-model` without the report.
//!
//! `score` applies a saved model to a file. A Zeek conn.log (TSV or JSON lines) is streamed:
//! read, featured, scored and written line by line in bounded memory
//! (`pipeline::stream_score`, which also says how out-of-order lines are handled); other
//! formats are imported whole first (a note on stderr). Output: one CSV line per flow, or
//! EVE / ECS alerts for flagged flows only, written a block of 1,024 flows at a time. The
//! behavioural detectors (scans, floods, beacons, ...) do not run in `score`; `analyse
//! --import FILE --model M` runs them.
//!
//! `follow` tails a growing Zeek conn.log, or the `conn.log` of a directory Zeek rotates
//! into, and scores each complete line as it appears with the same streaming scorer
//! (`pipeline::follow`: rotation, truncation, the checkpoint that makes a restart re-emit
//! nothing and miss nothing). It runs until SIGINT/SIGTERM (a final checkpoint, exit 0) or
//! `--exit-when-idle-ms`.
//!
//! Exit codes: 0 success (also when a reader closes standard output early, as `detect score
//! ... | head -1` does: the output just ends); 1 the run failed (a file missing or
//! unreadable, a damaged or foreign model, traffic the pipeline cannot use); 2 bad arguments
//! (clap's message). Data goes to standard output (or `--out`), diagnostics to standard
//! error.
//!
//! Arguments are parsed by `clap` (native only: built for wasm this binary is an empty main).

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    if let Err(message) = cli::main() {
        eprintln!("detect: {message}");
        std::process::exit(1);
    }
}

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
mod cli {
    use anomaly_detector::app::url_query;
    use anomaly_detector::detection::detector_model::DetectorModel;
    use anomaly_detector::detection::run_config::{RunConfig, TrainingPolicy};
    use anomaly_detector::output::report::Scores;
    use anomaly_detector::output::siem;
    use anomaly_detector::pipeline::dataset::ImportInput;
    use anomaly_detector::pipeline::follow::{self, Follower};
    use anomaly_detector::pipeline::stream_score::{ReorderSettings, ScoredFlow, StreamScorer};
    use anomaly_detector::pipeline::{self, FittedRun, Progress};
    use anomaly_detector::traffic::export;
    use anomaly_detector::traffic::import::tail::Start;
    use anomaly_detector::traffic::import::zeek_stream::ZeekStream;
    use anomaly_detector::traffic::import::{self, Format, ImportLimits, ImportedTraffic};
    use clap::{Args, Parser, Subcommand, ValueEnum};
    use std::io::{BufRead, BufReader, Read, Write};
    use std::path::{Path, PathBuf};

    const EXIT_CODES: &str = "Exit codes: 0 success (also when a reader closes standard \
        output early, e.g. `| head`); 1 the run failed (missing or unreadable file, damaged or \
        foreign model, unusable traffic); 2 bad arguments.";

    /// Network anomaly detector: the browser app's pipeline on the command line.
    ///
    /// Without a subcommand it runs `analyse` with the flags below (as it always has): it
    /// generates synthetic traffic from the run settings (or imports a traffic file),
    /// computes the features, trains the Isolation Forest and the MLP autoencoder (or
    /// applies a saved model), thresholds the scores and writes the JSON report (to standard
    /// output unless --out is given), byte-identical to the page's apart from timings. A
    /// one-line summary goes to standard error.
    #[derive(Parser, Debug)]
    #[command(
        name = "detect",
        version,
        args_override_self = true,
        args_conflicts_with_subcommands = true,
        after_help = EXIT_CODES
    )]
    struct Cli {
        #[command(subcommand)]
        command: Option<Command>,

        #[command(flatten)]
        analyse: AnalyseArgs,
    }

    #[derive(Subcommand, Debug)]
    enum Command {
        /// Analyse generated traffic or a file and print the JSON report (the default).
        ///
        /// Generates synthetic traffic (or imports --import FILE), trains both models (or
        /// applies --model), thresholds, runs the behavioural detectors and writes the
        /// report; what `detect` does without a subcommand.
        #[command(after_help = EXIT_CODES)]
        Analyse(AnalyseArgs),
        /// Fit a detector and write it as a model file (JSON).
        ///
        /// On FILE (any format the app imports; every flow of it is training data, as the
        /// page's "Import baseline" uses a known-good file; `--query train=window` trains on
        /// its first part only), or on generated traffic from --query/--config when no FILE
        /// is given. The same as `detect --save-model` without the report.
        #[command(after_help = EXIT_CODES)]
        Train(TrainArgs),
        /// Score a file with a saved model, streaming a Zeek conn.log.
        ///
        /// A Zeek conn.log (TSV or JSON lines; `-` reads standard input) is read, featured,
        /// scored and written one flow at a time, in memory bounded by the feature window
        /// and the reorder buffer, not by the file. Lines are put back in start-time order
        /// within --reorder-s (Zeek logs a connection when it ends); flows later than that
        /// are scored on arrival and counted as late on stderr. Other formats are imported
        /// whole first. The behavioural detectors (scans, floods, beacons, ...) do not run
        /// here: `detect analyse --import FILE --model MODEL` runs them.
        #[command(after_help = EXIT_CODES)]
        Score(ScoreArgs),
        /// Follow a growing Zeek conn.log (or a directory Zeek rotates into) and score each
        /// line as it appears.
        ///
        /// PATH is a conn.log (TSV or JSON lines) or a directory whose conn.log is followed.
        /// Complete lines are scored with the saved model as `score` scores them (a last
        /// line without its newline waits for it) and alerts are written and flushed as
        /// soon as their line is read (within --poll-ms). Rotation (the file renamed or
        /// removed and a new one created) and truncation are followed: the old file is read
        /// to its end, then the new one from its start. With --checkpoint, the read position
        /// and the scorer's state are saved (atomically) after each batch of alerts and every
        /// --checkpoint-every-ms, and a restart resumes there: the same scores as a run that
        /// never stopped, nothing written twice, nothing missed (a file rotated away while
        /// stopped is found in its directory by its inode). SIGINT/SIGTERM stop cleanly
        /// with a final checkpoint; so does --exit-when-idle-ms. Progress and notes go to
        /// standard error.
        #[command(after_help = EXIT_CODES)]
        Follow(FollowArgs),
    }

    #[derive(Args, Debug, Clone, Default)]
    struct AnalyseArgs {
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

    #[derive(Args, Debug)]
    struct TrainArgs {
        /// Known-good traffic file to train on (any format the app imports); without it,
        /// generated traffic
        #[arg(value_name = "FILE")]
        file: Option<PathBuf>,

        /// Run settings in the page's URL query form (generator and detection settings,
        /// e.g. 'seed=7&hosts=80' or 'train=window&train_fraction=0.5')
        #[arg(long, value_name = "QUERY")]
        query: Option<String>,

        /// Run configuration as JSON (the report's `config` object)
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,

        /// Write the model to FILE instead of standard output
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    }

    #[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
    enum OutputFormat {
        /// One line per flow: ts, uid, src_ip, src_port, dst_ip, dst_port, proto, forest,
        /// autoencoder and ensemble scores, flagged (0/1)
        Csv,
        /// Suricata EVE JSON alerts, flagged flows only
        Eve,
        /// Elastic Common Schema NDJSON alerts, flagged flows only
        Ecs,
    }

    #[derive(Args, Debug)]
    struct ScoreArgs {
        /// Saved model file (from `detect train`, `--save-model` or the page's "Download
        /// model")
        #[arg(long, value_name = "FILE", required = true)]
        model: PathBuf,

        /// Traffic file to score (`-`: standard input)
        #[arg(value_name = "FILE")]
        file: PathBuf,

        /// Output format
        #[arg(long, value_enum, default_value = "csv")]
        format: OutputFormat,

        /// Write to FILE instead of standard output
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,

        /// Threshold settings in the page's URL query form (e.g. 'target_fpr=0.001',
        /// 'contamination=0.02' or 'threshold_score=4.5'); default: the app's. Other keys are
        /// named on stderr and ignored: the model brings everything else
        #[arg(long, value_name = "QUERY")]
        query: Option<String>,

        /// Seconds a conn.log line may come after a later-starting one and still be scored in
        /// start-time order
        #[arg(long, value_name = "SECONDS", default_value_t = ReorderSettings::default().reorder_s)]
        reorder_s: f64,

        /// Most flows held for reordering (memory bound); beyond, the earliest is scored
        #[arg(long, value_name = "FLOWS", default_value_t = ReorderSettings::default().reorder_max_flows)]
        reorder_max_flows: usize,

        /// Import the whole file and score it as `analyse --import FILE --model MODEL` does
        /// (for comparison with the stream; any format)
        #[arg(long)]
        batch: bool,
    }

    #[derive(Args, Debug)]
    struct FollowArgs {
        /// Saved model file (from `detect train`, `--save-model` or the page's "Download
        /// model")
        #[arg(long, value_name = "FILE", required = true)]
        model: PathBuf,

        /// The growing conn.log, or a directory whose conn.log is followed (Zeek's log
        /// directory; rotated files such as conn.2026-12-07-20-00-00.log or conn.log.1 are
        /// found there after a restart)
        #[arg(value_name = "PATH")]
        path: PathBuf,

        /// Output format (csv: every flow; eve, ecs: alerts of flagged flows)
        #[arg(long, value_enum, default_value = "eve")]
        format: OutputFormat,

        /// Save the read position and the scorer's state here, and resume from it
        #[arg(long, value_name = "FILE")]
        checkpoint: Option<PathBuf>,

        /// Milliseconds between looks at the file when nothing new is there
        #[arg(long, value_name = "MS", default_value_t = 200)]
        poll_ms: u64,

        /// Without a checkpoint: start at the file's first line (the default)
        #[arg(long, conflicts_with = "from_end")]
        from_start: bool,

        /// Without a checkpoint: start after the file's last complete line
        #[arg(long)]
        from_end: bool,

        /// Exit (with a final checkpoint) after this many milliseconds without new data
        #[arg(long, value_name = "MS")]
        exit_when_idle_ms: Option<u64>,

        /// Save the checkpoint at least this often while lines are being read (it is also
        /// saved after every batch of alerts written)
        #[arg(long, value_name = "MS", default_value_t = 5000)]
        checkpoint_every_ms: u64,

        /// Threshold settings in the page's URL query form, as for `score`
        #[arg(long, value_name = "QUERY")]
        query: Option<String>,

        /// Seconds a line may come after a later-starting one and still be scored in
        /// start-time order; a flow is held until a flow starting this much later is read,
        /// so 0 (the default) writes alerts at once
        #[arg(long, value_name = "SECONDS", default_value_t = 0.0)]
        reorder_s: f64,

        /// Most flows held for reordering
        #[arg(long, value_name = "FLOWS", default_value_t = ReorderSettings::default().reorder_max_flows)]
        reorder_max_flows: usize,
    }

    fn file_name(path: &Path) -> String {
        path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    }

    /// Imports traffic already read into memory as the worker does (format from the content).
    fn import_bytes(p: &Path, bytes: &[u8]) -> Result<ImportedTraffic, String> {
        let p = p.display();
        let traffic = import::import(bytes, None, &ImportLimits::default(), &mut |_| true)
            .map_err(|e| format!("{p}: {e}"))?;
        if traffic.skipped_count > 0 {
            eprintln!("{p}: {} records skipped", traffic.skipped_count);
            for s in traffic.skipped.iter().take(5) {
                eprintln!("{p}: {}: {}", s.location, s.reason);
            }
        }
        Ok(traffic)
    }

    /// Reads and imports a traffic file as the worker does (format from the content).
    fn read_traffic(path: &Path) -> Result<ImportedTraffic, String> {
        let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        import_bytes(path, &bytes)
    }

    fn read_model(path: &Path) -> Result<DetectorModel, String> {
        read_model_and_sha1(path).map(|(m, _)| m)
    }

    /// The model and the hex SHA-1 of its file (what a follow checkpoint belongs to).
    fn read_model_and_sha1(path: &Path) -> Result<(DetectorModel, String), String> {
        let p = path.display();
        let text = std::fs::read_to_string(path).map_err(|e| format!("{p}: {e}"))?;
        let sha1: String = siem::community_id::sha1(text.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let model = DetectorModel::from_json(&text).map_err(|e| format!("{p}: {e}"))?;
        Ok((model, sha1))
    }

    /// The run configuration from --config (or the defaults, adjusted by `defaults`) with
    /// --query applied over it.
    fn run_config(
        config: Option<&Path>,
        query: Option<&str>,
        defaults: impl FnOnce(&mut RunConfig),
    ) -> Result<RunConfig, String> {
        let mut config = match config {
            Some(path) => {
                let p = path.display();
                let text = std::fs::read_to_string(path).map_err(|e| format!("{p}: {e}"))?;
                serde_json::from_str(&text).map_err(|e| format!("{p}: {e}"))?
            }
            None => {
                let mut c = RunConfig::default();
                defaults(&mut c);
                c
            }
        };
        if let Some(q) = query {
            for notice in config.apply_query(q) {
                eprintln!("notice: {notice}");
            }
        }
        Ok(config)
    }

    fn is_broken_pipe(e: &std::io::Error) -> bool {
        e.kind() == std::io::ErrorKind::BrokenPipe
    }

    /// Writes `text` to FILE or standard output; a reader that stops early (`detect | head`)
    /// is not an error.
    fn write_out(out: Option<&Path>, text: &str) -> Result<(), String> {
        match out {
            Some(path) => {
                std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
            }
            None => match std::io::stdout().lock().write_all(text.as_bytes()) {
                Err(e) if is_broken_pipe(&e) => Ok(()),
                other => other.map_err(|e| format!("stdout: {e}")),
            },
        }
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

    /// Runs the pipeline as `analyse` does (generated or imported traffic, trained or scored
    /// with a saved model); the epochs trained.
    fn fit(config: &RunConfig, args: &AnalyseArgs) -> Result<(FittedRun, usize), String> {
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
        let model = args.model.as_deref().map(read_model).transpose()?;
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
                        config,
                        input,
                        m,
                        import_ms,
                        &clock,
                        &mut progress,
                    ),
                    None => pipeline::run_imported(config, input, import_ms, &clock, &mut progress),
                }
            }
            (None, Some(m)) => pipeline::run_generated_with_model(config, m, &clock, &mut progress),
            (None, None) => pipeline::run_fitted(config, &clock, &mut progress),
        }
        .map_err(|e| e.to_string())?;
        Ok((fitted, last_epoch))
    }

    fn analyse(args: &AnalyseArgs) -> Result<(), String> {
        let config = run_config(args.config.as_deref(), args.query.as_deref(), |_| {})?;
        let (fitted, last_epoch) = fit(&config, args)?;
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
        // The files asked for are written even when a reader stops the report early.
        write_out(args.out.as_deref(), &(report.to_json_pretty() + "\n"))?;
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
        if let Some(held) = out.report.incident_budget.held_back_message() {
            eprintln!("incidents {}: {held}", out.report.incident_count);
        }
        Ok(())
    }

    fn train(args: &TrainArgs) -> Result<(), String> {
        let from_file = args.file.is_some();
        // A file given to train on is known-good traffic: all of it is training data (the
        // query can still ask for `train=window`).
        let config = run_config(args.config.as_deref(), args.query.as_deref(), |c| {
            if from_file {
                c.detection.training = TrainingPolicy::AllData;
            }
        })?;
        let run = AnalyseArgs {
            import: args.file.clone(),
            ..AnalyseArgs::default()
        };
        let (fitted, epochs) = fit(&config, &run)?;
        let model = fitted.saved_model();
        let json = model.to_json();
        write_out(args.out.as_deref(), &json)?;
        eprintln!(
            "model: trained on {} flows of {} ({} feature columns, {} epochs), {} bytes",
            model.training_flows,
            model.trained_on,
            model.preprocessing.columns.len(),
            epochs,
            json.len()
        );
        Ok(())
    }

    /// Where scored flows go: CSV lines or alerts of flagged flows, flushed per block.
    struct ScoreWriter<'a> {
        out: Box<dyn Write + 'a>,
        format: OutputFormat,
        threshold: f64,
        threshold_method: String,
        /// The reader went away (`| head`): stop quietly.
        closed: bool,
    }

    impl ScoreWriter<'_> {
        fn header(&mut self) -> Result<(), String> {
            if self.format == OutputFormat::Csv {
                let header = "ts,uid,src_ip,src_port,dst_ip,dst_port,proto,isolation_forest,\
                              mlp,ensemble,flagged\n";
                self.write(header.as_bytes())?;
            }
            Ok(())
        }

        fn write(&mut self, bytes: &[u8]) -> Result<(), String> {
            if self.closed {
                return Ok(());
            }
            match self.out.write_all(bytes) {
                Err(e) if is_broken_pipe(&e) => {
                    self.closed = true;
                    Ok(())
                }
                other => other.map_err(|e| format!("output: {e}")),
            }
        }

        /// One block of scored flows, flushed (so alerts reach the reader as they are found).
        fn block(&mut self, scored: &[ScoredFlow]) -> Result<(), String> {
            let mut text = String::new();
            for s in scored {
                let f = &s.flow;
                match self.format {
                    // `{}` prints an f64's shortest exact form: the scores read back bit for
                    // bit.
                    OutputFormat::Csv => text.push_str(&format!(
                        "{},{},{},{},{},{},{},{},{},{},{}\n",
                        f.ts,
                        s.uid.as_deref().unwrap_or(""),
                        f.src_ip,
                        f.src_port,
                        f.dst_ip,
                        f.dst_port,
                        f.proto.as_str(),
                        s.isolation_forest,
                        s.mlp,
                        s.ensemble,
                        u8::from(s.flagged)
                    )),
                    OutputFormat::Eve | OutputFormat::Ecs if s.flagged => {
                        let scores = Scores {
                            isolation_forest: s.isolation_forest,
                            mlp: s.mlp,
                            ensemble: s.ensemble,
                        };
                        let view = siem::flow_alert_view(
                            f,
                            &scores,
                            self.threshold,
                            &self.threshold_method,
                            anomaly_detector::APP_VERSION,
                            siem::stream_flow_id(s.position, f.ts),
                        );
                        text.push_str(&match self.format {
                            OutputFormat::Eve => siem::eve_line(&view),
                            _ => siem::ecs_line(anomaly_detector::APP_VERSION, &view),
                        });
                        text.push('\n');
                    }
                    OutputFormat::Eve | OutputFormat::Ecs => {}
                }
            }
            self.write(text.as_bytes())?;
            if !self.closed {
                match self.out.flush() {
                    Err(e) if is_broken_pipe(&e) => self.closed = true,
                    other => other.map_err(|e| format!("output: {e}"))?,
                }
            }
            Ok(())
        }
    }

    /// The keys of a `score --query` that set something other than the threshold (the saved
    /// model brings the features, models and calibration).
    pub(super) fn ignored_score_keys(query: &str) -> Vec<String> {
        let mut keys: Vec<String> = query
            .trim_start_matches('?')
            .split('&')
            .filter_map(|pair| pair.split('=').next())
            .map(str::trim)
            .filter(|k| !k.is_empty() && !url_query::THRESHOLD_KEYS.contains(k))
            .map(str::to_string)
            .collect();
        keys.dedup();
        keys
    }

    /// The threshold settings of `--query` for scoring with a saved model (other keys are
    /// named on stderr).
    fn score_config(query: Option<&str>) -> Result<RunConfig, String> {
        let config = run_config(None, query, |_| {})?;
        let ignored = ignored_score_keys(query.unwrap_or(""));
        if !ignored.is_empty() {
            eprintln!(
                "notice: {}: only the threshold settings apply when scoring with a saved model; ignored",
                ignored.join(", ")
            );
        }
        Ok(config)
    }

    fn reorder_settings(
        reorder_s: f64,
        reorder_max_flows: usize,
    ) -> Result<ReorderSettings, String> {
        if reorder_s.is_nan() || reorder_s < 0.0 {
            return Err(format!(
                "--reorder-s {reorder_s}: not a duration (seconds, 0 or more)"
            ));
        }
        Ok(ReorderSettings {
            reorder_s,
            reorder_max_flows: reorder_max_flows.max(1),
        })
    }

    fn score(args: &ScoreArgs) -> Result<(), String> {
        let model = read_model(&args.model)?;
        let config = score_config(args.query.as_deref())?;
        let p = args.file.display().to_string();
        // The head of the input decides the format, as the importer would from the whole
        // file (256 KiB: a conn.log's header is a few hundred bytes).
        let input: Box<dyn Read> = if args.file.as_os_str() == "-" {
            Box::new(std::io::stdin())
        } else {
            Box::new(std::fs::File::open(&args.file).map_err(|e| format!("{p}: {e}"))?)
        };
        let mut reader = BufReader::with_capacity(256 * 1024, input);
        let head = reader.fill_buf().map_err(|e| format!("{p}: {e}"))?;
        if head.is_empty() {
            return Err(format!("{p}: {}", import::ImportError::Empty));
        }
        let format = import::detect_format(head);
        let stdout;
        let out: Box<dyn Write> = match &args.out {
            Some(path) => Box::new(std::io::BufWriter::new(
                std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?,
            )),
            None => {
                stdout = std::io::stdout();
                Box::new(std::io::BufWriter::with_capacity(256 * 1024, stdout.lock()))
            }
        };
        let mut writer = ScoreWriter {
            out,
            format: args.format,
            threshold: f64::NAN,
            threshold_method: String::new(),
            closed: false,
        };
        let t0 = std::time::Instant::now();
        let streamable = matches!(format, Some(Format::ZeekTsv | Format::ZeekJson));
        if args.batch || !streamable {
            if !args.batch {
                let what = format.map_or("this format", |f| f.as_str());
                eprintln!(
                    "note: {p}: {what} is imported whole before scoring (streaming reads Zeek \
                     conn.log only)"
                );
            }
            return score_batch(args, &model, &config, reader, &mut writer);
        }
        let reorder = reorder_settings(args.reorder_s, args.reorder_max_flows)?;
        let Some(mut stream) = format.and_then(|f| ZeekStream::new(reader, f)) else {
            return Err(format!("{p}: not a Zeek conn.log"));
        };
        eprintln!(
            "note: streaming scores the flows with the model only; the behavioural detectors \
             (scans, floods, beacons, ...) run in `detect analyse --import FILE --model MODEL`"
        );
        let mut scorer: Option<StreamScorer> = None;
        let stream_err = |e| format!("{p}: {e}");
        while let Some(flow) = stream.next_flow().map_err(stream_err)? {
            let s = match &mut scorer {
                Some(s) => s,
                None => {
                    let s = StreamScorer::new(&model, &config, stream.extra_columns(), reorder);
                    if !s.missing_columns().is_empty() {
                        eprintln!(
                            "note: {p} lacks {} of the model's columns ({}); scored at their \
                             training medians",
                            s.missing_columns().len(),
                            s.missing_columns().join(", ")
                        );
                    }
                    writer.threshold = s.threshold().ensemble;
                    writer.threshold_method = s.threshold().method.clone();
                    writer.header()?;
                    scorer.insert(s)
                }
            };
            s.push(flow.flow, flow.uid, flow.extras)
                .map_err(|e| format!("{p}: line {}: {e}", flow.line))?;
            let scored = s.take_scored();
            if !scored.is_empty() {
                writer.block(&scored)?;
                if writer.closed {
                    return Ok(());
                }
            }
        }
        let (skipped, listed) = stream.skipped();
        if skipped > 0 {
            eprintln!("{p}: {skipped} lines skipped");
            for s in listed.iter().take(5) {
                eprintln!("{p}: {}: {}", s.location, s.reason);
            }
        }
        let lines = stream.lines_read();
        let bytes = stream.bytes_read();
        if let Some(w) = stream.finish().map_err(stream_err)? {
            eprintln!("{p}: {w}");
        }
        let Some(mut s) = scorer else {
            return Err(format!("{p}: no flows to score ({lines} lines read)"));
        };
        s.finish().map_err(|e| format!("{p}: {e}"))?;
        writer.block(&s.take_scored())?;
        let stats = s.stats();
        let secs = t0.elapsed().as_secs_f64();
        let state = s.feature_state();
        eprintln!(
            "scored {} flows ({} flagged at ensemble >= {:.4}, {}), {} late; {:.1} MB in {:.2} s: \
             {:.0} flows/s; most held: {} reordering, {} in the feature window, {} host pairs",
            stats.flows,
            stats.flagged,
            writer.threshold,
            writer.threshold_method,
            stats.late,
            bytes as f64 / 1e6,
            secs,
            stats.flows as f64 / secs.max(1e-9),
            stats.max_buffered,
            state.window_flows,
            state.pairs
        );
        if stats.late > 0 {
            eprintln!(
                "note: {} flows came more than {} s after a later-starting flow (raise \
                 --reorder-s): scored on arrival, so their scores may differ from a batch run's",
                stats.late, reorder.reorder_s
            );
        }
        Ok(())
    }

    /// The whole file imported, then scored as `analyse --import FILE --model MODEL` scores
    /// it (behavioural detectors included); the same output as the stream.
    fn score_batch(
        args: &ScoreArgs,
        model: &DetectorModel,
        config: &RunConfig,
        mut reader: impl Read,
        writer: &mut ScoreWriter,
    ) -> Result<(), String> {
        let mut bytes = Vec::new();
        reader
            .read_to_end(&mut bytes)
            .map_err(|e| format!("{}: {e}", args.file.display()))?;
        let traffic = import_bytes(&args.file, &bytes)?;
        drop(bytes);
        let input = ImportInput {
            traffic,
            file_name: file_name(&args.file),
            baseline: None,
        };
        let clock = pipeline::native_clock();
        let fitted =
            pipeline::run_imported_with_model(config, input, model, 0.0, &clock, &mut |_| true)
                .map_err(|e| format!("{}: {e}", args.file.display()))?;
        let scored = &fitted.output.scored;
        let threshold = &fitted.output.report.threshold;
        writer.threshold = threshold.ensemble;
        writer.threshold_method = threshold.method.clone();
        writer.header()?;
        let rows: Vec<ScoredFlow> = scored
            .flows
            .iter()
            .enumerate()
            .map(|(i, f)| ScoredFlow {
                flow: f.clone(),
                uid: None,
                position: i as u64,
                isolation_forest: scored.isolation_forest[i],
                mlp: scored.mlp[i],
                ensemble: scored.ensemble[i],
                flagged: scored.ensemble[i] >= threshold.ensemble,
            })
            .collect();
        for block in rows.chunks(1024) {
            writer.block(block)?;
            if writer.closed {
                return Ok(());
            }
        }
        let flagged = rows.iter().filter(|r| r.flagged).count();
        eprintln!(
            "scored {} flows ({flagged} flagged at ensemble >= {:.4}, {}); behavioural \
             detections: {}",
            rows.len(),
            threshold.ensemble,
            threshold.method,
            scored.detections.len()
        );
        Ok(())
    }

    /// `detect follow`: polls the file, writes what the follower scored, checkpoints, until
    /// a signal or the idle limit.
    fn follow_live(args: &FollowArgs) -> Result<(), String> {
        use std::sync::atomic::{AtomicBool, Ordering};
        use std::sync::Arc;
        use std::time::{Duration, Instant};

        let (model, sha1) = read_model_and_sha1(&args.model)?;
        let config = score_config(args.query.as_deref())?;
        let reorder = reorder_settings(args.reorder_s, args.reorder_max_flows)?;
        let stop = Arc::new(AtomicBool::new(false));
        {
            let stop = Arc::clone(&stop);
            if let Err(e) = ctrlc::set_handler(move || stop.store(true, Ordering::SeqCst)) {
                eprintln!("note: cannot catch SIGINT/SIGTERM ({e}): a signal ends without a final checkpoint");
            }
        }
        let checkpoint = match &args.checkpoint {
            Some(path) => follow::load_checkpoint(path).map_err(|e| e.to_string())?,
            None => None,
        };
        let start = if args.from_end {
            Start::End
        } else {
            Start::Beginning
        };
        let (mut follower, notes) = Follower::new(
            &model, &sha1, &config, reorder, &args.path, start, checkpoint,
        )
        .map_err(|e| e.to_string())?;
        for n in notes {
            eprintln!("note: {n}");
        }
        let live = follower.live_path().display().to_string();
        eprintln!(
            "following {live} (scores with the model only: the behavioural detectors run in \
             `detect analyse`)"
        );
        let stdout = std::io::stdout();
        let mut writer = ScoreWriter {
            out: Box::new(std::io::BufWriter::with_capacity(256 * 1024, stdout.lock())),
            format: args.format,
            threshold: f64::NAN,
            threshold_method: String::new(),
            closed: false,
        };
        let save = |follower: &Follower| -> Result<(), String> {
            match &args.checkpoint {
                Some(path) => {
                    follow::save_checkpoint(path, &follower.checkpoint()).map_err(|e| e.to_string())
                }
                None => Ok(()),
            }
        };
        let poll = Duration::from_millis(args.poll_ms.max(1));
        let idle_limit = args.exit_when_idle_ms.map(Duration::from_millis);
        let every = Duration::from_millis(args.checkpoint_every_ms);
        let mut last_data = Instant::now();
        let mut last_saved = Instant::now();
        let mut unsaved = false;
        // A scorer carried over from a checkpoint means an earlier run wrote the CSV header.
        let mut header_due = follower.scorer().is_none();
        let (mut written, mut alerts) = (0u64, 0u64);
        let why_stopped = loop {
            if stop.load(Ordering::SeqCst) {
                break "stopped by a signal";
            }
            let polled = follower.poll().map_err(|e| e.to_string())?;
            for n in &polled.notes {
                eprintln!("note: {n}");
            }
            if let Some(s) = follower.scorer() {
                if writer.threshold.is_nan() {
                    writer.threshold = s.threshold().ensemble;
                    writer.threshold_method = s.threshold().method.clone();
                    if !s.missing_columns().is_empty() {
                        eprintln!(
                            "note: the traffic lacks {} of the model's columns ({}); scored at \
                             their training medians",
                            s.missing_columns().len(),
                            s.missing_columns().join(", ")
                        );
                    }
                }
                if header_due {
                    writer.header()?;
                    header_due = false;
                }
            }
            if polled.read_lines {
                last_data = Instant::now();
                unsaved = true;
            }
            let flagged = polled.scored.iter().filter(|s| s.flagged).count() as u64;
            if !polled.scored.is_empty() {
                writer.block(&polled.scored)?;
                if writer.closed {
                    // The reader went away: what this batch held was not delivered, so the
                    // checkpoint stays at the previous batch.
                    return Ok(());
                }
                written += polled.scored.len() as u64;
                alerts += flagged;
            }
            let wrote =
                flagged > 0 || (args.format == OutputFormat::Csv && !polled.scored.is_empty());
            if wrote || (unsaved && last_saved.elapsed() >= every) {
                save(&follower)?;
                last_saved = Instant::now();
                unsaved = false;
            }
            if polled.more {
                continue;
            }
            if idle_limit.is_some_and(|limit| last_data.elapsed() >= limit) {
                break "idle";
            }
            std::thread::sleep(poll);
        };
        if args.checkpoint.is_some() {
            // Flows held for reordering stay in the checkpoint for the next run.
            save(&follower)?;
        } else {
            let rest = follower.finish().map_err(|e| e.to_string())?;
            alerts += rest.iter().filter(|s| s.flagged).count() as u64;
            written += rest.len() as u64;
            writer.block(&rest)?;
        }
        for n in follower.closing_notes() {
            eprintln!("note: {n}");
        }
        if follower.skipped_replayed() > 0 {
            eprintln!(
                "note: {} flows skipped as scored before the restart",
                follower.skipped_replayed()
            );
        }
        let stats = follower.scorer().map(|s| s.stats()).unwrap_or_default();
        eprintln!(
            "{why_stopped}: {written} flows scored this run ({alerts} flagged), {} in all, {} late",
            stats.flows, stats.late
        );
        Ok(())
    }

    pub fn main() -> Result<(), String> {
        let cli = Cli::parse();
        match &cli.command {
            None => analyse(&cli.analyse),
            Some(Command::Analyse(args)) => analyse(args),
            Some(Command::Train(args)) => train(args),
            Some(Command::Score(args)) => score(args),
            Some(Command::Follow(args)) => follow_live(args),
        }
    }

    #[cfg(test)]
    mod tests {
        use super::Cli;
        use clap::CommandFactory;

        #[test]
        fn arguments_are_consistent() {
            Cli::command().debug_assert();
        }
    }
}
