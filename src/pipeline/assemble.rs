//! Report assembly: the ensemble of the two models' scores, the configured threshold, the
//! anomalies, the chart series and every section of the JSON report, from one dataset and
//! its models.

use super::dataset::Dataset;
use super::error::DetectionError;
use super::explainer::Explainer;
use super::fitted_models::Models;
use super::fitted_run::{responses, FittedRun};
use super::rethreshold::{rethreshold, Thresholded};
use super::run_output::{PlotData, RunOutput, ScoredRun};
use super::stage::{Progress, Stage};
use crate::detection::run_config::RunConfig;
use crate::findings::budget;
use crate::findings::feedback::Feedback;
use crate::findings::incidents::IncidentParams;
use crate::output::report::{DataSummary, Report, ReportConfig, TrainingSummary, SCHEMA_VERSION};
use crate::traffic::flow_digest::flows_digest;
use std::collections::BTreeMap;

#[allow(clippy::too_many_arguments)]
pub(super) fn report_run(
    config: &RunConfig,
    dataset: Dataset,
    models: Models,
    (if_scores, mlp_scores): (Vec<f64>, Vec<f64>),
    mut timings: BTreeMap<String, f64>,
    t_start: f64,
    now_ms: &dyn Fn() -> f64,
    on_progress: &mut dyn FnMut(Progress) -> bool,
) -> Result<FittedRun, DetectionError> {
    let d = &config.detection;
    let Dataset {
        flows,
        truth,
        ground_truth,
        n_train,
        held_out,
        detections,
        training_warnings,
        detectors_ran,
        eval,
        plot_start,
        training_end_ts,
        evaluated_duration_s,
        evaluated_on,
        columns,
        x_raw,
        x,
        source,
        preprocessing,
    } = dataset;
    let n = flows.len();
    let Models {
        forest,
        mlp,
        calibration,
        medians,
        allowlist,
        reference,
        trained_on,
        training_flows,
        autoencoder_rows,
    } = models;

    // Ensemble.
    let t0 = now_ms();
    let mut stage = |stage: Stage, fraction: f64| on_progress(Progress::Stage { stage, fraction });
    let ensemble: Vec<f64> = if_scores
        .iter()
        .zip(&mlp_scores)
        .map(|(&a, &b)| calibration.combine(a, b))
        .collect();
    let attack_flows = (0..n).filter(|&i| ground_truth.is_attack(i)).count() as u64;
    let placeholder_addresses = source.placeholder_addresses();
    // Rows a saved model scores had no training part here: `n_train` is 0 and the budget
    // counts repeated sources instead.
    let monitored_hosts = budget::monitored_hosts(&flows, n_train);
    let first_seen_services = budget::first_seen_services(&flows, n_train);
    let scored = ScoredRun {
        placeholder_addresses,
        monitored_hosts,
        first_seen_services,
        flows,
        isolation_forest: if_scores,
        mlp: mlp_scores,
        ensemble,
        training_rows: n_train,
        held_out,
        detections,
        detectors_ran,
        eval_start: eval.start,
        evaluated_duration_s,
        truth,
        ground_truth,
        reference,
    };
    timings.insert("ensemble".to_string(), now_ms() - t0);
    if !stage(Stage::Scoring, 1.0) {
        return Err(DetectionError::Cancelled);
    }

    // Metrics and report.
    let t0 = now_ms();
    stage(Stage::Report, 0.0);
    let Thresholded {
        threshold,
        metrics,
        flagged,
        incidents,
        suppressed: _,
        budget,
    } = rethreshold(
        &scored,
        &d.threshold_spec(),
        &IncidentParams::with_budget(d.incident_budget),
    );
    // A saved model brings no training rows: the scored traffic sets the typical ranges.
    let reference_rows = if n_train > 0 { 0..n_train } else { 0..n };
    let explainer = Explainer {
        typical: super::explainer::typical_ranges(&x_raw, reference_rows),
        forest,
        mlp,
        columns,
        x,
        x_raw,
        medians,
    };
    let (anomalies, truncated) =
        explainer.anomalies(&scored, &flagged, &incidents, d.max_reported_anomalies);
    let flows = &scored.flows;
    let plot_rows = plot_start.min(n)..n;
    let t_first = flows.get(plot_rows.start).map_or(0.0, |f| f.ts);
    let codes = scored.ground_truth.chart_codes();
    let plot = PlotData {
        t_s: flows[plot_rows.clone()]
            .iter()
            .map(|f| (f.ts - t_first) as f32)
            .collect(),
        isolation_forest: scored.isolation_forest[plot_rows.clone()]
            .iter()
            .map(|&s| s as f32)
            .collect(),
        mlp: scored.mlp[plot_rows.clone()]
            .iter()
            .map(|&s| s as f32)
            .collect(),
        ensemble: scored.ensemble[plot_rows.clone()]
            .iter()
            .map(|&s| s as f32)
            .collect(),
        label: codes[plot_rows.clone()].to_vec(),
        training: {
            let mut trained = vec![false; n];
            for i in super::detectors::training_rows(n_train, &scored.held_out) {
                trained[i] = true;
            }
            trained[plot_rows.clone()].to_vec()
        },
        classes: scored.ground_truth.chart_classes(),
    };
    timings.insert("report".to_string(), now_ms() - t0);
    timings.insert("total".to_string(), now_ms() - t_start);
    let first_ts = flows.first().map_or(0.0, |f| f.ts);
    let last_ts = flows.iter().map(|f| f.ts).fold(first_ts, f64::max);
    let report = Report {
        schema_version: SCHEMA_VERSION.to_string(),
        app_version: crate::APP_VERSION.to_string(),
        config: ReportConfig::new(config),
        data: DataSummary {
            flows: n as u64,
            training_flows: n_train.saturating_sub(scored.held_out.len()) as u64,
            evaluated_flows: eval.len() as u64,
            attack_flows,
            evaluated_on,
            features: explainer.columns.iter().map(|c| c.name.clone()).collect(),
            flows_digest: flows_digest(flows),
            start_ts: t_first,
            end_ts: last_ts,
            training_end_ts,
            evaluated_duration_s,
            source,
            training_warnings,
            held_out_flows: scored.held_out.len() as u64,
            unknown_label_flows: scored.ground_truth.unknown_rows() as u64,
        },
        timings_ms: timings,
        threshold,
        metrics,
        mlp_training: TrainingSummary {
            loss_curve: explainer.mlp.loss_curve().to_vec(),
            validation_scores: explainer
                .mlp
                .validation_scores()
                .map(<[f64]>::to_vec)
                .unwrap_or_default(),
            n_iter: explainer.mlp.n_iter(),
            converged: explainer.mlp.converged(),
            training_rows: autoencoder_rows,
        },
        injected_attacks: scored.truth.clone(),
        responses: responses(&incidents, &allowlist, last_ts),
        incident_count: incidents.len() as u64,
        incident_budget: budget,
        incidents,
        anomaly_count: flagged.len() as u64,
        anomalies_truncated: truncated,
        anomalies,
        feedback: Vec::new(),
        suppressed_anomalies: 0,
    };
    stage(Stage::Report, 1.0);
    Ok(FittedRun {
        output: RunOutput {
            report,
            plot,
            scored,
        },
        explainer,
        feedback: Feedback::default(),
        preprocessing,
        calibration,
        allowlist,
        trained_on,
        training_flows,
    })
}
