//! `model_check`: fits one model on a CSV and prints its outputs as JSON, so the fidelity
//! script (`tests/fidelity/models_vs_sklearn.py`) can compare them with scikit-learn's.
//!
//! Usage:
//!   model_check --model iforest|mlp --train TRAIN.csv --score SCORE.csv
//!               [--target TARGET.csv] [--params '{"json": ...}'] [--init INIT.json]
//!
//! CSVs are plain floats, comma-separated, no header. The MLP learns `TARGET` (default: the
//! training inputs themselves, i.e. an autoencoder); `--init` gives its starting weights as
//! `{"coefs": [[[..]..]..], "intercepts": [[..]..]}` (scikit-learn's layout) instead of the
//! Glorot draw. Native tooling only; not part of the detection pipeline and not meant to run
//! in the browser (built for wasm, its main is empty). Arguments are parsed by `clap`
//! (`model_check --help`); bad arguments and failed fits exit with code 2 and the message on
//! stderr.

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    cli::main()
}

#[cfg(not(target_arch = "wasm32"))]
mod cli {
    use std::io::Write;
    use std::path::{Path, PathBuf};
    use std::process::ExitCode;
    use std::time::Instant;

    use anomaly_detector::detection::models::{
        IsolationForest, IsolationForestParams, MlpParams, MlpRegressor,
    };
    use anomaly_detector::util::matrix::Matrix;
    use clap::{Parser, ValueEnum};
    use serde_json::{json, Value};

    /// Fits one of the detector's models on a CSV and prints its outputs as one JSON line.
    ///
    /// The Isolation Forest prints its scores, decision function, predictions and offset; the MLP
    /// regressor prints its predictions, reconstruction errors (when it learns its own inputs),
    /// loss curve and stopping details. Both print their parameters and fit time in seconds.
    /// tests/fidelity/models_vs_sklearn.py compares them with scikit-learn's on the same data.
    /// CSV files are plain floats, comma-separated, one row per line, no header.
    #[derive(Parser, Debug)]
    #[command(name = "model_check", version, args_override_self = true)]
    struct Args {
        /// The model to fit: iforest (Isolation Forest) or mlp (MLP regressor)
        #[arg(long, value_enum, value_name = "MODEL")]
        model: ModelKind,

        /// The training rows (CSV)
        #[arg(long, value_name = "TRAIN.csv")]
        train: PathBuf,

        /// The rows to score or predict (CSV)
        #[arg(long, value_name = "SCORE.csv")]
        score: PathBuf,

        /// mlp only: the targets to learn, one row per training row (CSV); default: the training
        /// rows themselves (an autoencoder)
        #[arg(long, value_name = "TARGET.csv")]
        target: Option<PathBuf>,

        /// The model's parameters as a JSON object with the field names of IsolationForestParams
        /// or MlpParams (scikit-learn's names, e.g. '{"n_estimators": 100, "random_state": 1}');
        /// fields left out keep their defaults
        #[arg(long, value_name = "JSON", default_value = "{}")]
        params: String,

        /// mlp only: starting weights as {"coefs": [[[..]..]..], "intercepts": [[..]..]}
        /// (scikit-learn's coefs_/intercepts_ layout) instead of the Glorot draw
        #[arg(long, value_name = "INIT.json")]
        init: Option<PathBuf>,
    }

    #[derive(Clone, Copy, Debug, ValueEnum)]
    enum ModelKind {
        /// Isolation Forest
        Iforest,
        /// MLP regressor (the autoencoder)
        Mlp,
    }

    fn read_csv(file: &Path) -> Result<Matrix, String> {
        let path = file.display();
        let text = std::fs::read_to_string(file).map_err(|e| format!("{path}: {e}"))?;
        let mut rows = Vec::new();
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let row = line
                .split(',')
                .map(|v| v.trim().parse::<f64>())
                .collect::<Result<Vec<f64>, _>>()
                .map_err(|e| format!("{path}:{}: {e}", i + 1))?;
            rows.push(row);
        }
        Matrix::from_rows(&rows).map_err(|e| format!("{path}: {e}"))
    }

    /// Starting weights for the MLP, in scikit-learn's `coefs_`/`intercepts_` layout.
    fn read_init(file: &Path) -> Result<(Vec<Matrix>, Vec<Vec<f64>>), String> {
        #[derive(serde::Deserialize)]
        struct Init {
            coefs: Vec<Vec<Vec<f64>>>,
            intercepts: Vec<Vec<f64>>,
        }
        let path = file.display();
        let text = std::fs::read_to_string(file).map_err(|e| format!("{path}: {e}"))?;
        let init: Init = serde_json::from_str(&text).map_err(|e| format!("{path}: {e}"))?;
        let coefs = init
            .coefs
            .iter()
            .map(|rows| Matrix::from_rows(rows).map_err(|e| format!("{path}: {e}")))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((coefs, init.intercepts))
    }

    fn run_iforest(args: &Args, train: &Matrix, score: &Matrix) -> Result<Value, String> {
        let params: IsolationForestParams =
            serde_json::from_str(&args.params).map_err(|e| format!("params: {e}"))?;
        let mut model = IsolationForest::new(params);
        let t = Instant::now();
        model.fit(train).map_err(|e| e.to_string())?;
        let fit_seconds = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let scores = model.score_samples(score).map_err(|e| e.to_string())?;
        let score_seconds = t.elapsed().as_secs_f64();
        let decision = model.decision_function(score).map_err(|e| e.to_string())?;
        let predict = model.predict(score).map_err(|e| e.to_string())?;
        Ok(json!({
            "model": "iforest",
            "params": model.params(),
            "offset": model.offset(),
            "max_samples": model.max_samples_used(),
            "scores": scores,
            "decision": decision,
            "predict": predict,
            "fit_seconds": fit_seconds,
            "score_seconds": score_seconds,
        }))
    }

    fn run_mlp(args: &Args, train: &Matrix, score: &Matrix) -> Result<Value, String> {
        let params: MlpParams =
            serde_json::from_str(&args.params).map_err(|e| format!("params: {e}"))?;
        let target = match &args.target {
            Some(path) => read_csv(path)?,
            None => train.clone(),
        };
        let mut model = MlpRegressor::new(params);
        let t = Instant::now();
        let summary = match &args.init {
            None => model.fit(train, &target),
            Some(path) => {
                let (coefs, intercepts) = read_init(path)?;
                model.fit_from_weights(train, &target, &coefs, &intercepts, &mut |_| true)
            }
        }
        .map_err(|e| e.to_string())?;
        let fit_seconds = t.elapsed().as_secs_f64();
        let predictions = model.predict(score).map_err(|e| e.to_string())?;
        let rows: Vec<&[f64]> = predictions.iter_rows().collect();
        let reconstruction_errors = if target.cols() == train.cols() {
            Some(
                model
                    .reconstruction_errors(score)
                    .map_err(|e| e.to_string())?,
            )
        } else {
            None
        };
        Ok(json!({
            "model": "mlp",
            "params": model.params(),
            "predictions": rows,
            "reconstruction_errors": reconstruction_errors,
            "loss_curve": model.loss_curve(),
            "n_iter": summary.n_iter,
            "validation_scores": model.validation_scores(),
            "best_loss": model.best_loss(),
            "best_validation_score": model.best_validation_score(),
            "converged": model.converged(),
            "stop_reason": model.stop_reason(),
            "fit_seconds": fit_seconds,
        }))
    }

    fn run(args: &Args) -> Result<Value, String> {
        let train = read_csv(&args.train)?;
        let score = read_csv(&args.score)?;
        match args.model {
            ModelKind::Iforest => run_iforest(args, &train, &score),
            ModelKind::Mlp => run_mlp(args, &train, &score),
        }
    }

    pub fn main() -> ExitCode {
        let args = Args::parse();
        match run(&args) {
            Ok(out) => match writeln!(std::io::stdout().lock(), "{out}") {
                // A reader that stopped early is not an error.
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                    eprintln!("model_check: stdout: {e}");
                    ExitCode::from(2)
                }
                _ => ExitCode::SUCCESS,
            },
            Err(e) => {
                eprintln!("model_check: {e}");
                ExitCode::from(2)
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
