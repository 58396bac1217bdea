//! The pipeline's entry points: generated or imported traffic, trained on or scored with a
//! saved model, each going config → traffic → dataset (features) → models → scores →
//! threshold → findings → report.
//!
//! The same functions serve the Web Worker and the native binaries, so the browser and the
//! benchmarks measure the same thing. Progress and the clock are passed in (the core has no
//! timer of its own: `std::time` does not exist in the browser). Not responsible for drawing
//! or for how results travel to the UI.

use super::dataset::{self, ImportInput};
use super::error::DetectionError;
use super::fit::{apply_and_report, fit_and_report};
use super::fitted_run::FittedRun;
use super::run_output::RunOutput;
use super::stage::{Progress, Stage};
use crate::detection::detector_model::DetectorModel;
use crate::detection::run_config::{DetectionConfig, RunConfig};
use crate::traffic::generator::{self, Traffic};
use std::collections::BTreeMap;

/// Runs the whole pipeline on generated traffic. `now_ms` reads a monotonic clock;
/// `on_progress` returns false to cancel.
pub fn run(
    config: &RunConfig,
    now_ms: &dyn Fn() -> f64,
    on_progress: &mut dyn FnMut(Progress) -> bool,
) -> Result<RunOutput, DetectionError> {
    run_fitted(config, now_ms, on_progress).map(|r| r.output)
}

/// [`run`], keeping the fitted models for re-thresholding.
pub fn run_fitted(
    config: &RunConfig,
    now_ms: &dyn Fn() -> f64,
    on_progress: &mut dyn FnMut(Progress) -> bool,
) -> Result<FittedRun, DetectionError> {
    run_generated(config, None, now_ms, on_progress)
}

/// Generated traffic scored by a saved model: nothing is trained.
pub fn run_generated_with_model(
    config: &RunConfig,
    model: &DetectorModel,
    now_ms: &dyn Fn() -> f64,
    on_progress: &mut dyn FnMut(Progress) -> bool,
) -> Result<FittedRun, DetectionError> {
    run_generated(config, Some(model), now_ms, on_progress)
}

/// The pipeline on imported traffic (parsed already: see `import`). The import's own time
/// goes in `import_ms` so the report's timings cover the whole run.
pub fn run_imported(
    config: &RunConfig,
    input: ImportInput,
    import_ms: f64,
    now_ms: &dyn Fn() -> f64,
    on_progress: &mut dyn FnMut(Progress) -> bool,
) -> Result<FittedRun, DetectionError> {
    run_on_import(config, input, None, import_ms, now_ms, on_progress)
}

/// Imported traffic (without a baseline) scored by a saved model: nothing is trained.
pub fn run_imported_with_model(
    config: &RunConfig,
    input: ImportInput,
    model: &DetectorModel,
    import_ms: f64,
    now_ms: &dyn Fn() -> f64,
    on_progress: &mut dyn FnMut(Progress) -> bool,
) -> Result<FittedRun, DetectionError> {
    run_on_import(config, input, Some(model), import_ms, now_ms, on_progress)
}

/// Generates traffic, then trains on it (`model` is `None`) or scores it with a saved model.
fn run_generated(
    config: &RunConfig,
    model: Option<&DetectorModel>,
    now_ms: &dyn Fn() -> f64,
    on_progress: &mut dyn FnMut(Progress) -> bool,
) -> Result<FittedRun, DetectionError> {
    let effective = model.map(|m| with_model_settings(config, m));
    let config = effective.as_ref().unwrap_or(config);
    let mut timings = BTreeMap::new();
    let t_start = now_ms();
    let mut cancelled = false;
    let t0 = now_ms();
    let mut stage = |stage: Stage, fraction: f64, cancelled: &mut bool| {
        if !on_progress(Progress::Stage { stage, fraction }) {
            *cancelled = true;
        }
    };
    stage(Stage::Generate, 0.0, &mut cancelled);
    let traffic: Traffic = generator::generate_with_progress(&config.generator, &mut |f| {
        stage(Stage::Generate, f, &mut cancelled)
    })
    .map_err(DetectionError::InvalidScenario)?;
    timings.insert("generate".to_string(), now_ms() - t0);
    if cancelled {
        return Err(DetectionError::Cancelled);
    }
    let t0 = now_ms();
    let mut features = |f| stage(Stage::Features, f, &mut cancelled);
    let dataset = match model {
        Some(m) => dataset::from_generated_with_model(
            config,
            traffic,
            &m.preprocessing,
            &m.trained_on,
            &mut features,
        ),
        None => dataset::from_generated(config, traffic, &mut features),
    }?;
    timings.insert("features".to_string(), now_ms() - t0);
    if cancelled || !on_progress(checked(&dataset)) {
        return Err(DetectionError::Cancelled);
    }
    match model {
        Some(m) => apply_and_report(config, dataset, m, timings, t_start, now_ms, on_progress),
        None => fit_and_report(config, dataset, timings, t_start, now_ms, on_progress),
    }
}

/// Imported traffic, trained on (`model` is `None`) or scored with a saved model.
fn run_on_import(
    config: &RunConfig,
    input: ImportInput,
    model: Option<&DetectorModel>,
    import_ms: f64,
    now_ms: &dyn Fn() -> f64,
    on_progress: &mut dyn FnMut(Progress) -> bool,
) -> Result<FittedRun, DetectionError> {
    let effective = model.map(|m| with_model_settings(config, m));
    let config = effective.as_ref().unwrap_or(config);
    let mut timings = BTreeMap::new();
    timings.insert("import".to_string(), import_ms);
    let t_start = now_ms() - import_ms;
    let mut cancelled = false;
    let t0 = now_ms();
    let mut features = |fraction| {
        if !on_progress(Progress::Stage {
            stage: Stage::Features,
            fraction,
        }) {
            cancelled = true;
        }
    };
    let dataset = match model {
        Some(m) => dataset::from_imported_with_model(
            &config.detection,
            input,
            &m.preprocessing,
            &m.trained_on,
            &mut features,
        ),
        None => dataset::from_imported(config, input, &mut features),
    }?;
    timings.insert("features".to_string(), now_ms() - t0);
    if cancelled || !on_progress(checked(&dataset)) {
        return Err(DetectionError::Cancelled);
    }
    match model {
        Some(m) => apply_and_report(config, dataset, m, timings, t_start, now_ms, on_progress),
        None => fit_and_report(config, dataset, timings, t_start, now_ms, on_progress),
    }
}

/// What the detectors found and the training check said, before anything is trained.
fn checked(dataset: &dataset::Dataset) -> Progress {
    Progress::Checked {
        detections: dataset.detections.len() as u32,
        summaries: dataset
            .detections
            .iter()
            .take(super::stage::CHECKED_LISTED)
            .map(|d| d.summary.clone())
            .collect(),
        training_warnings: dataset.training_warnings.clone(),
    }
}

/// The configuration a saved model's run reports: the model's own detection settings, with
/// the user's current threshold, anomaly-list and incident-budget settings.
pub(super) fn with_model_settings(config: &RunConfig, model: &DetectorModel) -> RunConfig {
    let mut effective = config.clone();
    let user = &config.detection;
    effective.detection = DetectionConfig {
        threshold: user.threshold,
        contamination: user.contamination,
        target_fpr: user.target_fpr,
        threshold_score: user.threshold_score,
        max_reported_anomalies: user.max_reported_anomalies,
        incident_budget: user.incident_budget,
        ..model.detection.clone()
    };
    effective
}

/// A monotonic clock for native callers.
#[cfg(not(target_arch = "wasm32"))]
pub fn native_clock() -> impl Fn() -> f64 {
    let start = std::time::Instant::now();
    move || start.elapsed().as_secs_f64() * 1000.0
}
