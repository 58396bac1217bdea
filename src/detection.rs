//! The detection pipeline: traffic → features → Isolation Forest + autoencoder → ensemble →
//! threshold → metrics, anomalies and report.
//!
//! One function, [`run`], used unchanged by the Web Worker and the native `detect` command, so
//! the browser and the benchmarks measure the same thing. Progress and the clock are passed in
//! (the core has no timer of its own: `std::time` does not exist in the browser). Not
//! responsible for drawing or for how results travel to the UI.

use crate::features::{self, FeatureInfo, PortFrequency, FEATURES};
use crate::flow::{AttackKind, FlowRecord, Label};
use crate::generator::{self, GeneratorError, Traffic};
use crate::matrix::Matrix;
use crate::metrics::{self, Confusion, RocPoint};
use crate::models::isolation_forest::IsolationForest;
use crate::models::mlp::{EpochReport, MlpRegressor};
use crate::models::ModelError;
use crate::report::{
    Anomaly, DataSummary, FeatureContribution, Metrics, ModelMetrics, Report, ReportConfig, Scores,
    ThresholdInfo, TrainingSummary, SCHEMA_VERSION,
};
use crate::run_config::{RunConfig, TrainingPolicy};
use crate::scaler::StandardScaler;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Pipeline stages, in order, as shown in the progress display.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Generate,
    Features,
    IsolationForest,
    Autoencoder,
    Scoring,
    Report,
}

impl Stage {
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
    Model {
        model: &'static str,
        source: ModelError,
    },
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
            DetectionError::Model { model, source } => write!(f, "{model}: {source}"),
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
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunOutput {
    pub report: Report,
    pub plot: PlotData,
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

/// Robust standardisation of one model's scores against its training scores, so that scores
/// on different scales can be averaged: (s − median) / (IQR / 1.349).
#[derive(Debug, Clone, Copy, PartialEq)]
struct RobustScale {
    median: f64,
    scale: f64,
}

impl RobustScale {
    fn fit(training_scores: &[f64]) -> RobustScale {
        let mut sorted = training_scores.to_vec();
        sorted.sort_by(f64::total_cmp);
        let median = metrics::quantile_sorted(&sorted, 0.5);
        let iqr = metrics::quantile_sorted(&sorted, 0.75) - metrics::quantile_sorted(&sorted, 0.25);
        let mut scale = iqr / 1.349;
        if scale.is_nan() || scale <= 1e-12 {
            // Degenerate (e.g. mostly identical scores): fall back to the standard deviation.
            let mean = sorted.iter().sum::<f64>() / sorted.len() as f64;
            let var =
                sorted.iter().map(|s| (s - mean) * (s - mean)).sum::<f64>() / sorted.len() as f64;
            scale = if var.sqrt() > 1e-12 { var.sqrt() } else { 1.0 };
        }
        RobustScale { median, scale }
    }

    fn apply(&self, s: f64) -> f64 {
        (s - self.median) / self.scale
    }
}

/// Ensemble input for the autoencoder: reconstruction errors are heavy-tailed, their log is
/// close to normal, which keeps one extreme flow from dominating the average.
fn mlp_ensemble_input(error: f64) -> f64 {
    crate::math::ln(error + 1e-12)
}

fn evaluate(scores: &[f64], labels: &[Label], threshold: f64) -> Metrics {
    let positive: Vec<bool> = labels.iter().map(|l| l.is_attack()).collect();
    let confusion = Confusion::at_threshold(scores, &positive, threshold);
    let mut recall_by_kind = BTreeMap::new();
    for kind in AttackKind::ALL {
        let (mut hit, mut total) = (0u64, 0u64);
        for (s, l) in scores.iter().zip(labels) {
            if *l == Label::Attack(kind) {
                total += 1;
                hit += u64::from(*s >= threshold);
            }
        }
        if total > 0 {
            recall_by_kind.insert(kind, hit as f64 / total as f64);
        }
    }
    let roc_curve: Vec<RocPoint> = metrics::roc_curve(scores, &positive)
        .map(|c| metrics::thin_curve(&c, 300))
        .unwrap_or_default();
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
    }
}

/// Medians of each feature (natural units) over the training rows: the "typical" values the
/// explanations compare against.
fn training_medians(x_raw: &Matrix, train: std::ops::Range<usize>) -> Vec<f64> {
    (0..x_raw.cols())
        .map(|j| {
            let col: Vec<f64> = train.clone().map(|i| x_raw.get(i, j)).collect();
            FEATURES[j].natural_value(metrics::quantile(&col, 0.5).unwrap_or(0.0))
        })
        .collect()
}

fn explain(
    mlp: &MlpRegressor,
    scaled_row: &[f64],
    raw_row: &[f64],
    medians: &[f64],
) -> Vec<FeatureContribution> {
    let Ok(errors) = mlp.per_feature_squared_errors(scaled_row) else {
        return Vec::new();
    };
    let total: f64 = errors.iter().sum();
    let mut order: Vec<usize> = (0..errors.len()).collect();
    order.sort_by(|&a, &b| errors[b].total_cmp(&errors[a]).then(a.cmp(&b)));
    order
        .into_iter()
        .take(3)
        .map(|j| {
            let info: &FeatureInfo = &FEATURES[j];
            FeatureContribution {
                feature: info.name.to_string(),
                description: info.description.to_string(),
                value: info.natural_value(raw_row[j]),
                typical: medians[j],
                share: if total > 0.0 { errors[j] / total } else { 0.0 },
            }
        })
        .collect()
}

/// The training split and the features, raw and standardised with the training statistics.
struct Featurized {
    n_train: usize,
    /// Rows the metrics and anomalies cover.
    eval: std::ops::Range<usize>,
    training_end_ts: f64,
    x_raw: Matrix,
    x: Matrix,
}

fn featurize(
    config: &RunConfig,
    flows: &[FlowRecord],
    on_progress: &mut dyn FnMut(f64),
) -> Result<Featurized, DetectionError> {
    let d = &config.detection;
    let n = flows.len();
    let training_end_ts = match d.training {
        TrainingPolicy::InitialWindow => {
            config.generator.start_ts + d.train_fraction * config.generator.duration_s
        }
        TrainingPolicy::AllData => f64::INFINITY,
    };
    let n_train = flows.partition_point(|f| f.ts < training_end_ts);
    if n_train == 0 {
        return Err(DetectionError::NoTrainingData { flows: n });
    }
    let eval = match d.training {
        TrainingPolicy::InitialWindow => n_train..n,
        TrainingPolicy::AllData => 0..n,
    };
    let ports = PortFrequency::fit(&flows[..n_train]);
    let x_raw = features::extract_with_progress(flows, &ports, &d.features, on_progress);
    let scaler = StandardScaler::fit(&x_raw.head(n_train))
        .ok_or(DetectionError::NoTrainingData { flows: n })?;
    let x = scaler.transform(&x_raw);
    Ok(Featurized {
        n_train,
        eval,
        training_end_ts,
        x_raw,
        x,
    })
}

/// The standardised feature matrix a run's models see (for the fidelity check).
pub fn scaled_features(config: &RunConfig) -> Result<Matrix, DetectionError> {
    let traffic =
        generator::generate(&config.generator).map_err(DetectionError::InvalidScenario)?;
    Ok(featurize(config, &traffic.flows, &mut |_| {})?.x)
}

/// Runs the whole pipeline. `now_ms` reads a monotonic clock; `on_progress` returns false to
/// cancel.
pub fn run(
    config: &RunConfig,
    now_ms: &dyn Fn() -> f64,
    on_progress: &mut dyn FnMut(Progress) -> bool,
) -> Result<RunOutput, DetectionError> {
    let mut timings = BTreeMap::new();
    let t_start = now_ms();
    let mut cancelled = false;
    let mut stage = |stage: Stage, fraction: f64, cancelled: &mut bool| {
        if !on_progress(Progress::Stage { stage, fraction }) {
            *cancelled = true;
        }
    };

    // 1. Traffic.
    let t0 = now_ms();
    stage(Stage::Generate, 0.0, &mut cancelled);
    let traffic: Traffic = generator::generate_with_progress(&config.generator, &mut |f| {
        stage(Stage::Generate, f, &mut cancelled)
    })
    .map_err(DetectionError::InvalidScenario)?;
    timings.insert("generate".to_string(), now_ms() - t0);
    if cancelled {
        return Err(DetectionError::Cancelled);
    }
    let flows = &traffic.flows;
    let n = flows.len();
    let labels: Vec<Label> = flows.iter().map(|f| f.label).collect();

    // 2. Training part and features.
    let t0 = now_ms();
    let d = &config.detection;
    let start_ts = config.generator.start_ts;
    let Featurized {
        n_train,
        eval,
        training_end_ts,
        x_raw,
        x,
    } = featurize(config, flows, &mut |f| {
        stage(Stage::Features, f, &mut cancelled)
    })?;
    let train = 0..n_train;
    let x_train = x.head(n_train);
    timings.insert("features".to_string(), now_ms() - t0);
    if cancelled {
        return Err(DetectionError::Cancelled);
    }

    // 3. Isolation Forest.
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
        .score_samples(&x)
        .map_err(model_err("isolation forest"))?
        .into_iter()
        .map(|s| -s)
        .collect();
    timings.insert("isolation_forest_score".to_string(), now_ms() - t0);
    stage(Stage::IsolationForest, 1.0, &mut cancelled);
    if cancelled {
        return Err(DetectionError::Cancelled);
    }

    // 4. Autoencoder.
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

    // 5. Scores, ensemble, thresholds.
    let t0 = now_ms();
    let mut stage = |stage: Stage, fraction: f64| on_progress(Progress::Stage { stage, fraction });
    stage(Stage::Scoring, 0.0);
    let mlp_scores = mlp
        .reconstruction_errors(&x)
        .map_err(model_err("autoencoder"))?;
    timings.insert("mlp_score".to_string(), now_ms() - t0);
    let t0 = now_ms();
    let if_scale = RobustScale::fit(&if_scores[train.clone()]);
    let mlp_inputs: Vec<f64> = mlp_scores.iter().map(|&e| mlp_ensemble_input(e)).collect();
    let mlp_scale = RobustScale::fit(&mlp_inputs[train.clone()]);
    let w = d.forest_weight.clamp(0.0, 1.0);
    let ensemble: Vec<f64> = if_scores
        .iter()
        .zip(&mlp_inputs)
        .map(|(&a, &b)| w * if_scale.apply(a) + (1.0 - w) * mlp_scale.apply(b))
        .collect();
    let q = 1.0 - d.contamination;
    let threshold_of = |s: &[f64]| metrics::quantile(&s[train.clone()], q).unwrap_or(f64::INFINITY);
    let threshold = ThresholdInfo {
        method: "training_quantile".to_string(),
        contamination: d.contamination,
        isolation_forest: threshold_of(&if_scores),
        mlp: threshold_of(&mlp_scores),
        ensemble: threshold_of(&ensemble),
    };
    timings.insert("ensemble".to_string(), now_ms() - t0);
    if !stage(Stage::Scoring, 1.0) {
        return Err(DetectionError::Cancelled);
    }

    // 6. Metrics and report.
    let t0 = now_ms();
    stage(Stage::Report, 0.0);
    let eval_labels = &labels[eval.clone()];
    let metrics = ModelMetrics {
        isolation_forest: evaluate(
            &if_scores[eval.clone()],
            eval_labels,
            threshold.isolation_forest,
        ),
        mlp: evaluate(&mlp_scores[eval.clone()], eval_labels, threshold.mlp),
        ensemble: evaluate(&ensemble[eval.clone()], eval_labels, threshold.ensemble),
    };
    let mut flagged: Vec<usize> = eval
        .clone()
        .filter(|&i| ensemble[i] >= threshold.ensemble)
        .collect();
    let anomaly_count = flagged.len() as u64;
    let truncated = flagged.len() > d.max_reported_anomalies;
    if truncated {
        flagged.sort_by(|&a, &b| ensemble[b].total_cmp(&ensemble[a]).then(a.cmp(&b)));
        flagged.truncate(d.max_reported_anomalies);
        flagged.sort_unstable();
    }
    let medians = training_medians(&x_raw, train.clone());
    let anomalies: Vec<Anomaly> = flagged
        .iter()
        .map(|&i| {
            let f = &flows[i];
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
                scores: Scores {
                    isolation_forest: if_scores[i],
                    mlp: mlp_scores[i],
                    ensemble: ensemble[i],
                },
                label: f.label.as_str().to_string(),
                explanation: explain(&mlp, x.row(i), x_raw.row(i), &medians),
            }
        })
        .collect();
    let t_first = flows.first().map_or(start_ts, |f| f.ts);
    let plot = PlotData {
        t_s: flows.iter().map(|f| (f.ts - t_first) as f32).collect(),
        isolation_forest: if_scores.iter().map(|&s| s as f32).collect(),
        mlp: mlp_scores.iter().map(|&s| s as f32).collect(),
        ensemble: ensemble.iter().map(|&s| s as f32).collect(),
        label: labels.iter().map(|&l| label_code(l)).collect(),
        training: (0..n).map(|i| i < n_train).collect(),
    };
    let evaluated_on = match d.training {
        TrainingPolicy::InitialWindow => format!(
            "flows after the training window (first {:.0}% of the run)",
            d.train_fraction * 100.0
        ),
        TrainingPolicy::AllData => "all flows (the models were trained on all of them)".to_string(),
    };
    timings.insert("report".to_string(), now_ms() - t0);
    timings.insert("total".to_string(), now_ms() - t_start);
    let report = Report {
        schema_version: SCHEMA_VERSION.to_string(),
        app_version: crate::APP_VERSION.to_string(),
        config: ReportConfig {
            seed: config.generator.seed,
            run: config.clone(),
        },
        data: DataSummary {
            flows: n as u64,
            training_flows: n_train as u64,
            evaluated_flows: eval.len() as u64,
            attack_flows: labels.iter().filter(|l| l.is_attack()).count() as u64,
            evaluated_on,
            features: features::feature_names()
                .into_iter()
                .map(String::from)
                .collect(),
            flows_digest: flows_digest(flows),
            start_ts: t_first,
            end_ts: flows.last().map_or(start_ts, |f| f.ts),
            training_end_ts: training_end_ts.min(flows.last().map_or(start_ts, |f| f.ts)),
        },
        timings_ms: timings,
        threshold,
        metrics,
        mlp_training: TrainingSummary {
            loss_curve: mlp.loss_curve().to_vec(),
            validation_scores: mlp
                .validation_scores()
                .map(<[f64]>::to_vec)
                .unwrap_or_default(),
            n_iter: mlp.n_iter(),
            converged: mlp.converged(),
            training_rows: n_train as u64,
        },
        injected_attacks: traffic.incidents.clone(),
        anomaly_count,
        anomalies_truncated: truncated,
        anomalies,
    };
    stage(Stage::Report, 1.0);
    Ok(RunOutput { report, plot })
}

/// A monotonic clock for native callers.
#[cfg(not(target_arch = "wasm32"))]
pub fn native_clock() -> impl Fn() -> f64 {
    let start = std::time::Instant::now();
    move || start.elapsed().as_secs_f64() * 1000.0
}
