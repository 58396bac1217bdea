//! What a run produces: the report, the chart series and the scored flows that
//! re-thresholding needs. Plain data; built by `assemble`, changed only by `fitted_run`.

use crate::detection::behaviour::BehaviourDetection;
use crate::detection::ensemble::ReferenceScores;
use crate::findings::ground_truth::GroundTruth;
use crate::output::report::Report;
use crate::traffic::flow::FlowRecord;
use crate::traffic::generator::Incident;
use serde::{Deserialize, Serialize};

/// Per-flow series for the charts, compact (f32) because they cross to the UI thread.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct PlotData {
    /// Seconds since the first flow.
    pub t_s: Vec<f32>,
    pub isolation_forest: Vec<f32>,
    pub mlp: Vec<f32>,
    pub ensemble: Vec<f32>,
    /// 0 = benign, 1 + index into `AttackKind::ALL` otherwise.
    pub label: Vec<u8>,
    /// True for rows the models were trained on.
    pub training: Vec<bool>,
    /// Legend names of label codes 1, 2, ... (attack kinds or imported label texts).
    #[serde(default)]
    pub classes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunOutput {
    pub report: Report,
    pub plot: PlotData,
    /// Everything needed to re-threshold without retraining (see [`rethreshold`](super::rethreshold::rethreshold)).
    pub scored: ScoredRun,
}

/// A run's flows and full-precision scores: the input of [`rethreshold`](super::rethreshold::rethreshold).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ScoredRun {
    pub flows: Vec<FlowRecord>,
    pub isolation_forest: Vec<f64>,
    pub mlp: Vec<f64>,
    pub ensemble: Vec<f64>,
    /// Rows `0..training_rows` are the training part; all but `held_out` were trained on.
    pub training_rows: usize,
    /// Training rows a behavioural detection covers, left out of training (ascending).
    #[serde(default)]
    pub held_out: Vec<usize>,
    /// The behavioural detectors' findings in the scored traffic (independent of thresholds
    /// and feedback; fused with the models' flags by `rethreshold`).
    #[serde(default)]
    pub detections: Vec<BehaviourDetection>,
    /// True when the behavioural detectors ran (their metrics are reported even when they
    /// found nothing).
    #[serde(default)]
    pub detectors_ran: bool,
    /// Rows `eval_start..` are evaluated (metrics, anomalies, incidents).
    pub eval_start: usize,
    /// Seconds of traffic the evaluated rows cover.
    pub evaluated_duration_s: f64,
    /// Ground truth: the injected attacks.
    pub truth: Vec<Incident>,
    /// Ground truth per flow.
    #[serde(default)]
    pub ground_truth: GroundTruth,
    /// The training scores of a saved model that scored this traffic (no row here was
    /// trained on); thresholds come from them instead of the training rows.
    #[serde(default)]
    pub reference: Option<ReferenceScores>,
    /// The scored file has no addresses: its flows carry stand-ins, so the incidents name
    /// rows, not hosts (`incidents::without_addresses`).
    #[serde(default)]
    pub placeholder_addresses: bool,
    /// The hosts the incident budget scales with (`budget::monitored_hosts`).
    #[serde(default)]
    pub monitored_hosts: u64,
    /// Per row: a source of the training part using a port it never used there
    /// (`budget::first_seen_services`; empty without a training part).
    #[serde(default)]
    pub first_seen_services: Vec<bool>,
}
