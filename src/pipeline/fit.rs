//! The models' stage: the Isolation Forest and the autoencoder fitted on the training rows
//! (or taken from a saved model) and the scores they give every row.

use super::assemble::report_run;
use super::dataset::Dataset;
use super::detectors;
use super::error::DetectionError;
use super::fitted_models::Models;
use super::fitted_run::FittedRun;
use super::stage::{Progress, Stage};
use crate::detection::detector_model::DetectorModel;
use crate::detection::ensemble::EnsembleCalibration;
use crate::detection::models::isolation_forest::IsolationForest;
use crate::detection::models::mlp::{EpochReport, MlpParams, MlpRegressor};
use crate::detection::run_config::RunConfig;
use crate::findings::response;
use crate::util::format_value::format_value;
use crate::util::rng::DetRng;
use std::collections::BTreeMap;

/// Where a run's training flows came from, in words, for a saved model's file.
pub(super) fn training_description(config: &RunConfig, dataset: &Dataset) -> String {
    match &dataset.source.import {
        Some(import) if dataset.source.baseline.is_none() => {
            format!("{}: {}", import.file_name, dataset.source.training)
        }
        Some(_) => dataset.source.training.clone(),
        None => format!(
            "generated traffic, seed {}: {}",
            config.generator.seed, dataset.source.training
        ),
    }
}

pub(super) fn fit_and_report(
    config: &RunConfig,
    dataset: Dataset,
    mut timings: BTreeMap<String, f64>,
    t_start: f64,
    now_ms: &dyn Fn() -> f64,
    on_progress: &mut dyn FnMut(Progress) -> bool,
) -> Result<FittedRun, DetectionError> {
    let d = &config.detection;
    let mut cancelled = false;
    let mut stage = |stage: Stage, fraction: f64, cancelled: &mut bool| {
        if !on_progress(Progress::Stage { stage, fraction }) {
            *cancelled = true;
        }
    };
    let mut dataset = dataset;
    let n_train = dataset.n_train;
    let train = 0..n_train;
    let train_rows = detectors::training_rows(n_train, &dataset.held_out);
    let x = &dataset.x;
    let x_train = x.select_rows(&train_rows);
    let mlp_rows = autoencoder_sample(
        &train_rows,
        d.autoencoder_max_rows,
        d.mlp.random_state,
        &mut dataset.training_warnings,
    );
    let x_mlp = x.select_rows(&mlp_rows);
    let mlp_params = small_data_mlp_params(&d.mlp, mlp_rows.len(), &mut dataset.training_warnings);
    let x = &dataset.x;

    // Isolation Forest.
    let t0 = now_ms();
    stage(Stage::IsolationForest, 0.0, &mut cancelled);
    let mut forest = IsolationForest::new(d.isolation_forest.clone());
    let model_err = |model: &'static str| move |source| DetectionError::Model { model, source };
    forest
        .fit(&x_train)
        .map_err(model_err("isolation forest"))?;
    timings.insert("isolation_forest_fit".to_string(), now_ms() - t0);
    stage(Stage::IsolationForest, 0.5, &mut cancelled);
    let t0 = now_ms();
    let if_scores: Vec<f64> = forest
        .score_samples(x)
        .map_err(model_err("isolation forest"))?
        .into_iter()
        .map(|s| -s)
        .collect();
    timings.insert("isolation_forest_score".to_string(), now_ms() - t0);
    stage(Stage::IsolationForest, 1.0, &mut cancelled);
    if cancelled {
        return Err(DetectionError::Cancelled);
    }

    // Autoencoder.
    let t0 = now_ms();
    stage(Stage::Autoencoder, 0.0, &mut cancelled);
    let mut mlp = MlpRegressor::new(mlp_params);
    let max_iter = d.mlp.max_iter.max(1) as f64;
    mlp.fit_with_progress(&x_mlp, &x_mlp, &mut |epoch: &EpochReport| {
        let go_on = on_progress(Progress::Epoch(epoch.clone()));
        let fraction = epoch.epoch as f64 / max_iter;
        go_on
            && on_progress(Progress::Stage {
                stage: Stage::Autoencoder,
                fraction,
            })
    })
    .map_err(model_err("autoencoder"))?;
    timings.insert("mlp_fit".to_string(), now_ms() - t0);
    // Progress callbacks returning false stop training early; treat that as cancellation.
    if !on_progress(Progress::Stage {
        stage: Stage::Autoencoder,
        fraction: 1.0,
    }) {
        return Err(DetectionError::Cancelled);
    }
    if !on_progress(Progress::Stage {
        stage: Stage::Scoring,
        fraction: 0.0,
    }) {
        return Err(DetectionError::Cancelled);
    }
    let t0 = now_ms();
    let mlp_scores = mlp
        .reconstruction_errors(x)
        .map_err(model_err("autoencoder"))?;
    timings.insert("mlp_score".to_string(), now_ms() - t0);
    let models = Models {
        calibration: EnsembleCalibration::fit(
            &gather(&if_scores, &train_rows),
            &gather(&mlp_scores, &train_rows),
            d.forest_weight,
        ),
        // The preprocessing's fill values are the training medians of each column (filling a
        // gap with the median leaves the median where it is), in natural units for the
        // explanations' "typical" values.
        medians: dataset
            .columns
            .iter()
            .zip(&dataset.preprocessing.fill)
            .map(|(c, &m)| c.natural_value(m))
            .collect(),
        allowlist: response::infrastructure(&dataset.flows[train]),
        reference: None,
        trained_on: training_description(config, &dataset),
        training_flows: train_rows.len() as u64,
        autoencoder_rows: mlp_rows.len() as u64,
        forest,
        mlp,
    };
    report_run(
        config,
        dataset,
        models,
        (if_scores, mlp_scores),
        timings,
        t_start,
        now_ms,
        on_progress,
    )
}

/// The autoencoder's training rows: all of `train_rows`, or, beyond `max_rows` (0: no cap),
/// that many drawn without replacement with `seed` (kept in time order), and a note saying
/// so. Drawn from the model's own seed, so the same settings give the same sample natively
/// and in the tab.
fn autoencoder_sample(
    train_rows: &[usize],
    max_rows: usize,
    seed: u64,
    notes: &mut Vec<String>,
) -> Vec<usize> {
    let n = train_rows.len();
    if max_rows == 0 || n <= max_rows {
        return train_rows.to_vec();
    }
    // A partial Fisher-Yates shuffle: the first `max_rows` places end up a uniform sample.
    let mut picked = train_rows.to_vec();
    let mut rng = DetRng::derive(seed, "autoencoder-training-sample");
    for i in 0..max_rows {
        let j = i + rng.index(n - i);
        picked.swap(i, j);
    }
    picked.truncate(max_rows);
    picked.sort_unstable();
    notes.push(format!(
        "The autoencoder trained on {} of the {} training flows, drawn at random with its \
         seed (its training time grows with every row; the forest samples 256 per tree \
         anyway); every flow is scored.",
        format_value(max_rows as f64),
        format_value(n as f64)
    ));
    picked
}

/// `values` at `rows`.
fn gather(values: &[f64], rows: &[usize]) -> Vec<f64> {
    rows.iter()
        .filter_map(|&i| values.get(i).copied())
        .collect()
}

/// The autoencoder's parameters for `rows` training rows: scikit-learn refuses early stopping
/// when the validation split would hold fewer than 2 rows (or all of them); a small file then
/// trains without it, and the training check says so, instead of stopping the run.
fn small_data_mlp_params(params: &MlpParams, rows: usize, warnings: &mut Vec<String>) -> MlpParams {
    let mut p = params.clone();
    let n_val = (p.validation_fraction * rows as f64).ceil() as usize;
    if p.early_stopping && (n_val < 2 || n_val >= rows) {
        p.early_stopping = false;
        warnings.push(format!(
            "With {rows} training flows the autoencoder's validation split ({:.0} % of them) \
             would hold fewer than 2, so it trained without early stopping.",
            p.validation_fraction * 100.0
        ));
    }
    p
}

/// Scores a dataset with a saved model's two models (nothing is trained).
pub(super) fn apply_and_report(
    config: &RunConfig,
    dataset: Dataset,
    model: &DetectorModel,
    mut timings: BTreeMap<String, f64>,
    t_start: f64,
    now_ms: &dyn Fn() -> f64,
    on_progress: &mut dyn FnMut(Progress) -> bool,
) -> Result<FittedRun, DetectionError> {
    let model_err = |model: &'static str| move |source| DetectionError::Model { model, source };
    if !on_progress(Progress::Stage {
        stage: Stage::Scoring,
        fraction: 0.0,
    }) {
        return Err(DetectionError::Cancelled);
    }
    let t0 = now_ms();
    let if_scores: Vec<f64> = model
        .isolation_forest
        .score_samples(&dataset.x)
        .map_err(model_err("isolation forest"))?
        .into_iter()
        .map(|s| -s)
        .collect();
    timings.insert("isolation_forest_score".to_string(), now_ms() - t0);
    let t0 = now_ms();
    let mlp_scores = model
        .mlp
        .reconstruction_errors(&dataset.x)
        .map_err(model_err("autoencoder"))?;
    timings.insert("mlp_score".to_string(), now_ms() - t0);
    let models = Models {
        forest: model.isolation_forest.clone(),
        mlp: model.mlp.clone(),
        calibration: model.calibration,
        medians: model.medians.clone(),
        allowlist: model.allowlist.clone(),
        reference: Some(model.reference.clone()),
        trained_on: model.trained_on.clone(),
        training_flows: model.training_flows,
        // The model keeps its cap; a file older than the cap reads the default one, which
        // only matters for a model trained on more rows than that.
        autoencoder_rows: match model.detection.autoencoder_max_rows {
            0 => model.training_flows,
            cap => model.training_flows.min(cap as u64),
        },
    };
    report_run(
        config,
        dataset,
        models,
        (if_scores, mlp_scores),
        timings,
        t_start,
        now_ms,
        on_progress,
    )
}
