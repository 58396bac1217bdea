//! The detection pipeline: traffic → features → Isolation Forest + autoencoder → ensemble →
//! threshold → metrics, anomalies and report.
//!
//! One function, [`run`], used unchanged by the Web Worker and the native `detect` command, so
//! the browser and the benchmarks measure the same thing. Progress and the clock are passed in
//! (the core has no timer of its own: `std::time` does not exist in the browser). Not
//! responsible for drawing or for how results travel to the UI.

use crate::dataset::{self, Dataset, ImportInput};
use crate::detector_model::DetectorModel;
use crate::ensemble::{EnsembleCalibration, ReferenceScores};
use crate::features::FeatureColumn;
use crate::feedback::{Feedback, Pattern, Verdict};
use crate::flow::{AttackKind, FlowRecord, Label};
use crate::generator::{self, GeneratorError, Incident, Traffic};
use crate::ground_truth::GroundTruth;
use crate::incidents::{self, DetectedIncident, IncidentParams};
use crate::index_sort;
use crate::matrix::Matrix;
use crate::metrics::{self, Confusion, PrPoint, RocPoint};
use crate::models::isolation_forest::IsolationForest;
use crate::models::mlp::{EpochReport, MlpRegressor};
use crate::models::ModelError;
use crate::preprocessing::Preprocessing;
use crate::report::{
    Anomaly, DataSummary, FeatureContribution, Metrics, ModelMetrics, Report, ReportConfig, Scores,
    ThresholdInfo, TrainingSummary, SCHEMA_VERSION,
};
use crate::response::{self, ResponsePlan, ResponsePolicy};
use crate::run_config::{DetectionConfig, RunConfig, ThresholdSpec};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;

/// Pipeline stages, in order, as shown in the progress display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Generate,
    Features,
    IsolationForest,
    Autoencoder,
    Scoring,
    Report,
}

crate::serde_names::serde_by_name!(Stage, "a pipeline stage");

impl Stage {
    /// The name serde writes.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Generate => "generate",
            Stage::Features => "features",
            Stage::IsolationForest => "isolation_forest",
            Stage::Autoencoder => "autoencoder",
            Stage::Scoring => "scoring",
            Stage::Report => "report",
        }
    }

    pub const ALL: [Stage; 6] = [
        Stage::Generate,
        Stage::Features,
        Stage::IsolationForest,
        Stage::Autoencoder,
        Stage::Scoring,
        Stage::Report,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Stage::Generate => "Generate traffic",
            Stage::Features => "Extract features",
            Stage::IsolationForest => "Isolation Forest",
            Stage::Autoencoder => "Train autoencoder",
            Stage::Scoring => "Score flows",
            Stage::Report => "Metrics and report",
        }
    }
}

/// What the pipeline tells its caller while it works.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Progress {
    Stage { stage: Stage, fraction: f64 },
    Epoch(EpochReport),
}

#[derive(Debug)]
pub enum DetectionError {
    InvalidScenario(GeneratorError),
    /// The training part is empty (e.g. a training window shorter than the first flow).
    NoTrainingData {
        flows: usize,
    },
    /// Every feature is missing or constant in the training rows.
    NoUsableFeatures {
        flows: usize,
    },
    Model {
        model: &'static str,
        source: ModelError,
    },
    /// A saved model and a baseline were both given; the model is already the baseline.
    BaselineWithModel,
    Cancelled,
}

impl fmt::Display for DetectionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DetectionError::InvalidScenario(e) => write!(f, "invalid scenario: {e}"),
            DetectionError::NoTrainingData { flows } => write!(
                f,
                "no flows fall in the training part ({flows} flows in total); enlarge the training window"
            ),
            DetectionError::NoUsableFeatures { flows } => write!(
                f,
                "no feature varies across the {flows} flows' training part, so there is nothing to learn from"
            ),
            DetectionError::Model { model, source } => write!(f, "{model}: {source}"),
            DetectionError::BaselineWithModel => write!(
                f,
                "a saved model scores the traffic on its own: remove the baseline or the model"
            ),
            DetectionError::Cancelled => write!(f, "cancelled"),
        }
    }
}

impl std::error::Error for DetectionError {}

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
    /// Everything needed to re-threshold without retraining (see [`rethreshold`]).
    pub scored: ScoredRun,
}

/// A run's flows and full-precision scores: the input of [`rethreshold`].
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ScoredRun {
    pub flows: Vec<FlowRecord>,
    pub isolation_forest: Vec<f64>,
    pub mlp: Vec<f64>,
    pub ensemble: Vec<f64>,
    /// Rows `0..training_rows` were trained on.
    pub training_rows: usize,
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
}

/// Verdicts, metrics and incidents at one threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Thresholded {
    pub threshold: ThresholdInfo,
    pub metrics: ModelMetrics,
    /// Evaluated rows the ensemble flags, in row (time) order.
    pub flagged: Vec<usize>,
    pub incidents: Vec<DetectedIncident>,
    /// Rows above the threshold that analyst feedback suppressed.
    pub suppressed: usize,
}

/// The lowest threshold among `scores` that flags at most `fpr` of them (`score >=
/// threshold`); ties are never split, so the flagged share never exceeds the target.
pub fn threshold_for_rate(scores: &[f64], fpr: f64) -> f64 {
    let mut sorted: Vec<f64> = scores.iter().copied().filter(|s| !s.is_nan()).collect();
    if sorted.is_empty() {
        return f64::INFINITY;
    }
    index_sort::sort_f64_descending(&mut sorted);
    let n = sorted.len();
    let allowed = if fpr.is_finite() {
        ((fpr.clamp(0.0, 1.0) * n as f64) + 1e-9).floor() as usize
    } else {
        0
    };
    if allowed >= n {
        return sorted[n - 1];
    }
    let boundary = sorted[allowed];
    // The prefix above the first disallowed score; its last element is the threshold.
    let above = sorted.partition_point(|&s| s > boundary);
    if above == 0 {
        boundary.next_up()
    } else {
        sorted[above - 1]
    }
}

fn flag_rate(scores: &[f64], threshold: f64) -> f64 {
    if scores.is_empty() {
        return 0.0;
    }
    scores.iter().filter(|&&s| s >= threshold).count() as f64 / scores.len() as f64
}

/// Each model's threshold under a policy, from the training rows' scores only.
pub fn thresholds(scored: &ScoredRun, spec: &ThresholdSpec) -> ThresholdInfo {
    let train = 0..scored.training_rows.min(scored.flows.len());
    let (if_t, mlp_t, ens_t) = match &scored.reference {
        Some(r) => (&r.isolation_forest[..], &r.mlp[..], &r.ensemble[..]),
        None => (
            &scored.isolation_forest[train.clone()],
            &scored.mlp[train.clone()],
            &scored.ensemble[train],
        ),
    };
    let (method, contamination, target_fpr, fixed_score, t) = match *spec {
        ThresholdSpec::Contamination { contamination } => {
            let q = 1.0 - contamination;
            let of = |s: &[f64]| metrics::quantile(s, q).unwrap_or(f64::INFINITY);
            (
                "training_quantile",
                contamination,
                None,
                None,
                [of(if_t), of(mlp_t), of(ens_t)],
            )
        }
        ThresholdSpec::TargetFpr { target_fpr } => (
            "training_fpr",
            target_fpr,
            Some(target_fpr),
            None,
            [
                threshold_for_rate(if_t, target_fpr),
                threshold_for_rate(mlp_t, target_fpr),
                threshold_for_rate(ens_t, target_fpr),
            ],
        ),
        ThresholdSpec::Score { score } => {
            // The single models get the training flag rate the fixed ensemble score implies,
            // so the three stay comparable.
            let rate = flag_rate(ens_t, score);
            (
                "fixed_score",
                rate,
                None,
                Some(score),
                [
                    threshold_for_rate(if_t, rate),
                    threshold_for_rate(mlp_t, rate),
                    score,
                ],
            )
        }
    };
    ThresholdInfo {
        method: method.to_string(),
        mode: spec.mode(),
        contamination,
        target_fpr,
        fixed_score,
        training_flag_rate: flag_rate(ens_t, t[2]),
        isolation_forest: t[0],
        mlp: t[1],
        ensemble: t[2],
    }
}

/// Re-thresholds a scored run without retraining: new thresholds, metrics, flagged rows and
/// incidents. `run` reports exactly this for the configured policy.
pub fn rethreshold(
    scored: &ScoredRun,
    spec: &ThresholdSpec,
    params: &IncidentParams,
) -> Thresholded {
    rethreshold_with(scored, spec, params, &Feedback::default())
}

/// [`rethreshold`] after analyst feedback: flows a false-positive verdict covers count as not
/// flagged, in the metrics as in the incidents (the metrics then describe what the analyst
/// sees: models plus feedback). Thresholds still come from the training rows alone.
pub fn rethreshold_with(
    scored: &ScoredRun,
    spec: &ThresholdSpec,
    params: &IncidentParams,
    feedback: &Feedback,
) -> Thresholded {
    let threshold = thresholds(scored, spec);
    let n = scored.flows.len();
    let eval = scored.eval_start.min(n)..n;
    let flows = &scored.flows[eval.clone()];
    let suppressed_rows: Vec<bool> = if feedback.is_empty() {
        Vec::new()
    } else {
        flows.iter().map(|f| feedback.suppresses(f)).collect()
    };
    // Suppressed rows sink below every real score (finite, so curves stay valid JSON).
    let adjusted = |scores: &[f64]| -> Vec<f64> {
        let part = &scores[eval.clone()];
        if suppressed_rows.is_empty() {
            return part.to_vec();
        }
        let floor = part
            .iter()
            .filter(|s| s.is_finite())
            .fold(f64::INFINITY, |a, &b| a.min(b));
        let floor = if floor.is_finite() { floor - 1.0 } else { -1.0 };
        part.iter()
            .zip(&suppressed_rows)
            .map(|(&s, &x)| if x { floor } else { s })
            .collect()
    };
    let ev = |scores: &[f64], t: f64| {
        evaluate(
            &adjusted(scores),
            eval.clone(),
            &scored.ground_truth,
            flows,
            t,
            scored.evaluated_duration_s,
            &scored.truth,
        )
    };
    let metrics = ModelMetrics {
        isolation_forest: ev(&scored.isolation_forest, threshold.isolation_forest),
        mlp: ev(&scored.mlp, threshold.mlp),
        ensemble: ev(&scored.ensemble, threshold.ensemble),
    };
    let above = |i: usize| scored.ensemble[i] >= threshold.ensemble;
    let eval_start = eval.start;
    let is_suppressed = |i: usize| {
        suppressed_rows
            .get(i - eval_start)
            .copied()
            .unwrap_or(false)
    };
    let flagged: Vec<usize> = eval
        .clone()
        .filter(|&i| above(i) && !is_suppressed(i))
        .collect();
    let suppressed = eval
        .clone()
        .filter(|&i| above(i) && is_suppressed(i))
        .count();
    let incidents = incidents::group(
        &scored.flows,
        &flagged,
        &scored.ensemble,
        threshold.ensemble,
        params,
    );
    Thresholded {
        threshold,
        metrics,
        flagged,
        incidents,
        suppressed,
    }
}

pub fn label_code(label: Label) -> u8 {
    match label {
        Label::Benign => 0,
        Label::Attack(k) => 1 + AttackKind::ALL.iter().position(|&a| a == k).unwrap_or(0) as u8,
    }
}

/// FNV-1a 64 over every field of every flow.
pub fn flows_digest(flows: &[FlowRecord]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for &b in bytes {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    };
    for f in flows {
        eat(&f.ts.to_bits().to_le_bytes());
        eat(f.src_ip.to_string().as_bytes());
        eat(&f.src_port.to_le_bytes());
        eat(f.dst_ip.to_string().as_bytes());
        eat(&f.dst_port.to_le_bytes());
        eat(f.proto.as_str().as_bytes());
        eat(f.service.as_str().as_bytes());
        eat(&f.duration_s.to_bits().to_le_bytes());
        for v in [f.bytes_out, f.bytes_in, f.pkts_out, f.pkts_in] {
            eat(&v.to_le_bytes());
        }
        eat(f.conn_state.as_str().as_bytes());
        eat(f.label.as_str().as_bytes());
    }
    format!("{h:016x}")
}

fn evaluate(
    scores: &[f64],
    rows: std::ops::Range<usize>,
    ground_truth: &GroundTruth,
    flows: &[FlowRecord],
    threshold: f64,
    evaluated_s: f64,
    truth: &[Incident],
) -> Metrics {
    let positive: Vec<bool> = rows.clone().map(|i| ground_truth.is_attack(i)).collect();
    let confusion = Confusion::at_threshold(scores, &positive, threshold);
    let mut recall_by_kind = BTreeMap::new();
    for class in ground_truth.attack_classes() {
        let (mut hit, mut total) = (0u64, 0u64);
        for (s, row) in scores.iter().zip(rows.clone()) {
            if ground_truth.class.get(row).copied() == Some(class as u16) {
                total += 1;
                hit += u64::from(*s >= threshold);
            }
        }
        if total > 0 {
            recall_by_kind.insert(ground_truth.names[class].clone(), hit as f64 / total as f64);
        }
    }
    let roc_curve: Vec<RocPoint> = metrics::roc_curve(scores, &positive)
        .map(|c| metrics::thin_curve(&c, 300))
        .unwrap_or_default();
    let pr_curve: Vec<PrPoint> = metrics::precision_recall_curve(scores, &positive)
        .map(|c| metrics::thin_pr_curve(&c, 300))
        .unwrap_or_default();
    let flagged: Vec<bool> = scores.iter().map(|&s| s >= threshold).collect();
    Metrics {
        roc_auc: metrics::roc_auc(scores, &positive),
        pr_auc: metrics::average_precision(scores, &positive),
        precision: confusion.precision(),
        recall: confusion.recall(),
        f1: confusion.f1(),
        false_positive_rate: confusion.false_positive_rate(),
        confusion,
        recall_by_kind,
        roc_curve,
        pr_curve,
        false_positives_per_hour: metrics::false_positives_per_hour(
            confusion.false_positives,
            evaluated_s,
        ),
        detection_delays: metrics::detection_delays(flows, &flagged, truth),
    }
}

/// The fitted models and feature matrices a run keeps, so that anomalies can be listed and
/// explained again at another threshold without retraining.
#[derive(Debug, Clone)]
pub struct Explainer {
    pub forest: IsolationForest,
    pub mlp: MlpRegressor,
    pub columns: Vec<FeatureColumn>,
    /// Standardised features (model input) and stored-scale features, every row.
    pub x: Matrix,
    pub x_raw: Matrix,
    /// Training medians in natural units.
    pub medians: Vec<f64>,
}

/// Top contributions from per-feature weights (squared errors or path attributions).
fn top_contributions(
    weights: &[f64],
    explainer: &Explainer,
    row: usize,
) -> Vec<FeatureContribution> {
    let total: f64 = weights.iter().filter(|w| w.is_finite()).sum();
    let mut order: Vec<usize> = (0..weights.len().min(explainer.columns.len())).collect();
    index_sort::sort_indices_by(&mut order, &mut |a, b| {
        weights[b].total_cmp(&weights[a]).then(a.cmp(&b))
    });
    let raw = explainer.x_raw.row(row);
    order
        .into_iter()
        .take(3)
        .filter(|&j| weights[j] > 0.0)
        .map(|j| {
            let column = &explainer.columns[j];
            FeatureContribution {
                feature: column.name.clone(),
                description: column.description.clone(),
                value: column.natural_value(raw[j]),
                typical: explainer.medians[j],
                share: if total > 0.0 { weights[j] / total } else { 0.0 },
            }
        })
        .collect()
}

impl Explainer {
    /// The autoencoder's view: the features it reconstructed worst.
    pub fn autoencoder(&self, row: usize) -> Vec<FeatureContribution> {
        match self.mlp.per_feature_squared_errors(self.x.row(row)) {
            Ok(errors) => top_contributions(&errors, self, row),
            Err(_) => Vec::new(),
        }
    }

    /// The forest's view: the features whose splits isolated the flow early.
    pub fn forest(&self, row: usize) -> Option<Vec<FeatureContribution>> {
        self.forest
            .explain(self.x.row(row))
            .ok()
            .map(|w| top_contributions(&w, self, row))
    }

    /// The listed anomalies for `flagged` rows: every one, or the `max` highest-scoring.
    pub fn anomalies(
        &self,
        scored: &ScoredRun,
        flagged: &[usize],
        incidents: &[DetectedIncident],
        max: usize,
    ) -> (Vec<Anomaly>, bool) {
        let mut incident_of: BTreeMap<usize, u32> = BTreeMap::new();
        for inc in incidents {
            for &row in &inc.flows {
                incident_of.insert(row as usize, inc.id);
            }
        }
        let ensemble = &scored.ensemble;
        let mut rows = flagged.to_vec();
        let truncated = rows.len() > max;
        if truncated {
            index_sort::sort_indices_by(&mut rows, &mut |a, b| {
                ensemble[b].total_cmp(&ensemble[a]).then(a.cmp(&b))
            });
            rows.truncate(max);
            rows.sort_unstable();
        }
        let anomalies = rows
            .iter()
            .map(|&i| {
                let f = &scored.flows[i];
                Anomaly {
                    index: i as u64,
                    ts: f.ts,
                    src_ip: f.src_ip,
                    src_port: f.src_port,
                    dst_ip: f.dst_ip,
                    dst_port: f.dst_port,
                    proto: f.proto,
                    service: f.service,
                    duration_s: f.duration_s,
                    bytes_out: f.bytes_out,
                    bytes_in: f.bytes_in,
                    pkts_out: f.pkts_out,
                    pkts_in: f.pkts_in,
                    conn_state: f.conn_state,
                    history: f.history,
                    scores: Scores {
                        isolation_forest: scored.isolation_forest[i],
                        mlp: scored.mlp[i],
                        ensemble: ensemble[i],
                    },
                    label: scored.ground_truth.name(i).to_string(),
                    incident_id: metrics::truth_incident(f, &scored.truth),
                    detected_incident: incident_of.get(&i).copied(),
                    explanation: self.autoencoder(i),
                    isolation_forest_explanation: self.forest(i),
                }
            })
            .collect();
        (anomalies, truncated)
    }
}

/// A finished run plus what re-thresholding and saving the model need.
#[derive(Debug, Clone)]
pub struct FittedRun {
    pub output: RunOutput,
    pub explainer: Explainer,
    pub feedback: Feedback,
    pub preprocessing: Preprocessing,
    pub calibration: EnsembleCalibration,
    /// Infrastructure servers (never suggested for blocking).
    pub allowlist: Vec<IpAddr>,
    /// Where the models' training flows came from, in words, and how many there were.
    pub trained_on: String,
    pub training_flows: u64,
}

impl FittedRun {
    /// Records an analyst's verdict on incident `incident_id` (`None` withdraws it) and
    /// applies it at once; false if there is no such incident.
    pub fn judge(&mut self, incident_id: u32, verdict: Option<Verdict>) -> bool {
        let Some(incident) = self
            .output
            .report
            .incidents
            .iter()
            .find(|i| i.id == incident_id)
            .cloned()
        else {
            return false;
        };
        self.feedback.judge(&incident, verdict);
        let spec = self.output.report.config.detection.threshold_spec();
        self.rethreshold(&spec);
        true
    }

    /// Withdraws the verdict on `pattern` (e.g. an undone false positive, whose incident is no
    /// longer listed) and applies the change; false if there was none.
    pub fn withdraw(&mut self, pattern: &Pattern) -> bool {
        let withdrawn = self.feedback.withdraw(pattern);
        if withdrawn {
            let spec = self.output.report.config.detection.threshold_spec();
            self.rethreshold(&spec);
        }
        withdrawn
    }

    /// Moves the run to another threshold without retraining: threshold, metrics, incidents
    /// and anomalies of the report change, scores and everything else stay.
    pub fn rethreshold(&mut self, spec: &ThresholdSpec) {
        let out = &mut self.output;
        let Thresholded {
            threshold,
            metrics,
            flagged,
            incidents,
            suppressed,
        } = rethreshold_with(
            &out.scored,
            spec,
            &IncidentParams::default(),
            &self.feedback,
        );
        let max = out.report.config.detection.max_reported_anomalies;
        let (anomalies, truncated) =
            self.explainer
                .anomalies(&out.scored, &flagged, &incidents, max);
        let report = &mut out.report;
        report.config.detection.set_threshold_spec(spec);
        report.threshold = threshold;
        report.metrics = metrics;
        report.responses = responses(&incidents, &self.allowlist, report.data.end_ts);
        report.incident_count = incidents.len() as u64;
        report.incidents = incidents;
        report.anomaly_count = flagged.len() as u64;
        report.anomalies_truncated = truncated;
        report.anomalies = anomalies;
        report.feedback = self.feedback.verdicts.clone();
        report.suppressed_anomalies = suppressed as u64;
    }
}

/// Blocking suggestions per incident; the network's own infrastructure (DNS, DHCP, NTP
/// servers and domain controllers seen answering in the training rows) is never suggested.
/// Expiry comments are dated from the traffic's last flow, so reports stay deterministic.
fn responses(
    incidents: &[DetectedIncident],
    allowlist: &[IpAddr],
    now_ts: f64,
) -> Vec<ResponsePlan> {
    let policy = ResponsePolicy {
        allowlist: allowlist.to_vec(),
        ..ResponsePolicy::default()
    };
    incidents
        .iter()
        .map(|i| response::suggest(i, &policy, now_ts))
        .collect()
}

/// The standardised feature matrix a run's models see (for the fidelity check).
pub fn scaled_features(config: &RunConfig) -> Result<Matrix, DetectionError> {
    let traffic =
        generator::generate(&config.generator).map_err(DetectionError::InvalidScenario)?;
    Ok(dataset::from_generated(config, traffic, &mut |_| {})?.x)
}

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
    if cancelled {
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
        Some(m) => {
            dataset::from_imported_with_model(input, &m.preprocessing, &m.trained_on, &mut features)
        }
        None => dataset::from_imported(config, input, &mut features),
    }?;
    timings.insert("features".to_string(), now_ms() - t0);
    if cancelled {
        return Err(DetectionError::Cancelled);
    }
    match model {
        Some(m) => apply_and_report(config, dataset, m, timings, t_start, now_ms, on_progress),
        None => fit_and_report(config, dataset, timings, t_start, now_ms, on_progress),
    }
}

/// The two models and what the ensemble, thresholds and responses need from their training,
/// fitted in this run or loaded from a saved model.
struct Models {
    forest: IsolationForest,
    mlp: MlpRegressor,
    calibration: EnsembleCalibration,
    /// Training medians in natural units (for explanations).
    medians: Vec<f64>,
    allowlist: Vec<IpAddr>,
    /// A saved model's training scores; `None` when this run's training rows are at hand.
    reference: Option<ReferenceScores>,
    trained_on: String,
    training_flows: u64,
}

/// Where a run's training flows came from, in words, for a saved model's file.
fn training_description(config: &RunConfig, dataset: &Dataset) -> String {
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

fn fit_and_report(
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
    let n_train = dataset.n_train;
    let train = 0..n_train;
    let x = &dataset.x;
    let x_train = x.head(n_train);

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
    let mut mlp = MlpRegressor::new(d.mlp.clone());
    let max_iter = d.mlp.max_iter.max(1) as f64;
    mlp.fit_with_progress(&x_train, &x_train, &mut |epoch: &EpochReport| {
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
            &if_scores[train.clone()],
            &mlp_scores[train.clone()],
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
        training_flows: n_train as u64,
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

/// Scores a dataset with a saved model's two models (nothing is trained).
fn apply_and_report(
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

#[allow(clippy::too_many_arguments)]
fn report_run(
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
    let scored = ScoredRun {
        flows,
        isolation_forest: if_scores,
        mlp: mlp_scores,
        ensemble,
        training_rows: n_train,
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
    } = rethreshold(&scored, &d.threshold_spec(), &IncidentParams::default());
    let explainer = Explainer {
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
        training: plot_rows.clone().map(|i| i < n_train).collect(),
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
            training_flows: n_train as u64,
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
            training_rows: training_flows,
        },
        injected_attacks: scored.truth.clone(),
        responses: responses(&incidents, &allowlist, last_ts),
        incident_count: incidents.len() as u64,
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

impl FittedRun {
    /// The run's models as a saved detector (see `detector_model`). For a run that applied a
    /// saved model, the same model again.
    pub fn saved_model(&self) -> DetectorModel {
        let scored = &self.output.scored;
        let reference = scored.reference.clone().unwrap_or_else(|| {
            let train = 0..scored.training_rows.min(scored.flows.len());
            ReferenceScores::from_training(
                &scored.isolation_forest[train.clone()],
                &scored.mlp[train.clone()],
                &scored.ensemble[train],
            )
        });
        DetectorModel {
            app_version: crate::APP_VERSION.to_string(),
            trained_on: self.trained_on.clone(),
            training_flows: self.training_flows,
            detection: self.output.report.config.detection.clone(),
            preprocessing: self.preprocessing.clone(),
            isolation_forest: self.explainer.forest.clone(),
            mlp: self.explainer.mlp.clone(),
            calibration: self.calibration,
            reference,
            medians: self.explainer.medians.clone(),
            allowlist: self.allowlist.clone(),
        }
    }
}

/// The configuration a saved model's run reports: the model's own detection settings, with
/// the user's current threshold and anomaly-list settings.
fn with_model_settings(config: &RunConfig, model: &DetectorModel) -> RunConfig {
    let mut effective = config.clone();
    let user = &config.detection;
    effective.detection = DetectionConfig {
        threshold: user.threshold,
        contamination: user.contamination,
        target_fpr: user.target_fpr,
        threshold_score: user.threshold_score,
        max_reported_anomalies: user.max_reported_anomalies,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::incidents::tests::flow;

    #[test]
    fn rate_threshold_never_splits_ties_or_exceeds_target() {
        let s = [1.0, 2.0, 3.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0];
        // 20 % of 10 = 2 rows allowed: 9 and 8, threshold 8.
        assert_eq!(threshold_for_rate(&s, 0.2), 8.0);
        // 70 % = 7 rows would split the 3.0 tie: only the 6 rows ≥ 4 are flagged.
        assert_eq!(threshold_for_rate(&s, 0.7), 4.0);
        // 0 % flags nothing; 100 % flags everything.
        assert!(threshold_for_rate(&s, 0.0) > 9.0);
        assert_eq!(flag_rate(&s, threshold_for_rate(&s, 0.0)), 0.0);
        assert_eq!(threshold_for_rate(&s, 1.0), 1.0);
        assert_eq!(threshold_for_rate(&[], 0.1), f64::INFINITY);
    }

    fn scored() -> ScoredRun {
        // 100 training rows with scores 0..99, then 10 evaluated rows: 5 attacks (high) and
        // 5 benign (low), one hour of evaluated traffic.
        let mut flows = Vec::new();
        let mut ens = Vec::new();
        for i in 0..100 {
            flows.push(flow(i as f64, [10, 0, 0, 1], [10, 0, 0, 2], 80));
            ens.push(i as f64);
        }
        for i in 0..10u8 {
            let mut f = flow(
                1000.0 + f64::from(i),
                [10, 0, 0, 9],
                [10, 0, 0, 3],
                1000 + u16::from(i),
            );
            if i < 5 {
                f.label = Label::Attack(AttackKind::ALL[0]);
                f.incident_id = Some(0);
                ens.push(200.0 + f64::from(i));
            } else {
                ens.push(50.0 + f64::from(i));
            }
            flows.push(f);
        }
        ScoredRun {
            ground_truth: GroundTruth::from_generated(&flows),
            isolation_forest: ens.clone(),
            mlp: ens.clone(),
            ensemble: ens,
            flows,
            training_rows: 100,
            eval_start: 100,
            evaluated_duration_s: 3600.0,
            truth: vec![Incident {
                id: 0,
                kind: AttackKind::ALL[0],
                start_ts: 999.0,
                end_ts: 1004.0,
                attacker: "10.0.0.9".parse().unwrap(),
                victim: "10.0.0.3".parse().unwrap(),
                victims: vec!["10.0.0.3".parse().unwrap()],
                flows: 5,
            }],
            reference: None,
        }
    }

    #[test]
    fn rethreshold_modes_agree_with_hand_counts() {
        let run = scored();
        let p = IncidentParams::default();
        // Fixed score 100: only the 5 attacks, no false positives.
        let t = rethreshold(&run, &ThresholdSpec::Score { score: 100.0 }, &p);
        assert_eq!(t.flagged, vec![100, 101, 102, 103, 104]);
        let e = &t.metrics.ensemble;
        assert_eq!(e.confusion.false_positives, 0);
        assert_eq!(e.recall, Some(1.0));
        assert_eq!(e.false_positives_per_hour, Some(0.0));
        assert_eq!(t.threshold.training_flag_rate, 0.0);
        assert_eq!(e.detection_delays[0].time_to_detect_s, Some(1.0));
        assert_eq!(t.incidents.len(), 1);
        assert_eq!(t.incidents[0].flow_count, 5);
        // Fixed score 52: the benign rows scoring 55..59 are flagged too (5 false positives
        // in one hour), and 48 % of the training rows (52..99).
        let t = rethreshold(&run, &ThresholdSpec::Score { score: 52.0 }, &p);
        assert_eq!(t.metrics.ensemble.false_positives_per_hour, Some(5.0));
        assert!((t.threshold.training_flag_rate - 0.48).abs() < 1e-12);
        // The single models get the same training flag rate.
        assert!((t.threshold.isolation_forest - 52.0).abs() < 1e-12);
        // Target FPR 10 %: the 10 highest training rows (90..99) at most.
        let t = rethreshold(&run, &ThresholdSpec::TargetFpr { target_fpr: 0.1 }, &p);
        assert_eq!(t.threshold.ensemble, 90.0);
        assert!((t.threshold.training_flag_rate - 0.1).abs() < 1e-12);
        assert_eq!(t.metrics.ensemble.confusion.false_positives, 0);
        // Contamination 1 %: numpy's linear quantile of 0..99 at 0.99 = 98.01.
        let t = rethreshold(
            &run,
            &ThresholdSpec::Contamination {
                contamination: 0.01,
            },
            &p,
        );
        assert!((t.threshold.ensemble - 98.01).abs() < 1e-9);
        assert_eq!(t.threshold.method, "training_quantile");
    }
}
