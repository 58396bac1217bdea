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
//! Glorot draw. Native tooling only; not part of the
//! detection pipeline and not meant to run in the browser.

use std::process::ExitCode;
use std::time::Instant;

use anomaly_detector::detection::models::{
    IsolationForest, IsolationForestParams, MlpParams, MlpRegressor,
};
use anomaly_detector::util::matrix::Matrix;
use serde_json::{json, Value};

struct Args {
    model: String,
    train: String,
    score: String,
    target: Option<String>,
    init: Option<String>,
    params: String,
}

fn parse_args() -> Result<Args, String> {
    let mut model = None;
    let mut train = None;
    let mut score = None;
    let mut target = None;
    let mut init = None;
    let mut params = "{}".to_string();
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--model" => model = Some(value()?),
            "--train" => train = Some(value()?),
            "--score" => score = Some(value()?),
            "--target" => target = Some(value()?),
            "--init" => init = Some(value()?),
            "--params" => params = value()?,
            "-h" | "--help" => return Err(usage()),
            other => return Err(format!("unknown argument {other}\n{}", usage())),
        }
    }
    Ok(Args {
        model: model.ok_or_else(usage)?,
        train: train.ok_or_else(usage)?,
        score: score.ok_or_else(usage)?,
        target,
        init,
        params,
    })
}

fn usage() -> String {
    "usage: model_check --model iforest|mlp --train TRAIN.csv --score SCORE.csv \
     [--target TARGET.csv] [--params JSON] [--init INIT.json]"
        .to_string()
}

fn read_csv(path: &str) -> Result<Matrix, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
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
fn read_init(path: &str) -> Result<(Vec<Matrix>, Vec<Vec<f64>>), String> {
    #[derive(serde::Deserialize)]
    struct Init {
        coefs: Vec<Vec<Vec<f64>>>,
        intercepts: Vec<Vec<f64>>,
    }
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
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

fn run() -> Result<Value, String> {
    let args = parse_args()?;
    let train = read_csv(&args.train)?;
    let score = read_csv(&args.score)?;
    match args.model.as_str() {
        "iforest" => run_iforest(&args, &train, &score),
        "mlp" => run_mlp(&args, &train, &score),
        other => Err(format!("unknown model {other:?} (expected iforest or mlp)")),
    }
}

fn main() -> ExitCode {
    match run() {
        Ok(out) => {
            println!("{out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("model_check: {e}");
            ExitCode::from(2)
        }
    }
}
