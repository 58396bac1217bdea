//! Everything that defines a run: the traffic scenario (the generator's config) and the
//! detection settings (training policy, threshold policy, model parameters), as plain serde
//! data. Not the place for defaults of the generator or the models (those live with them),
//! nor for the URL form of a run (`app::url_query`).

use crate::detection::behaviour::BehaviourParams;
use crate::detection::features::FeatureConfig;
use crate::detection::models::isolation_forest::IsolationForestParams;
use crate::detection::models::mlp::MlpParams;
use crate::traffic::flow::AttackKind;
use crate::traffic::generator::{AttackSpec, GeneratorConfig};
use serde::{Deserialize, Serialize};

/// Which rows the models learn "normal" from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrainingPolicy {
    /// Learn from the first `train_fraction` of the run (by time); score the rest.
    InitialWindow,
    /// Learn from all traffic, expecting a `contamination` share of it to be anomalous.
    AllData,
}

impl TrainingPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            TrainingPolicy::InitialWindow => "window",
            TrainingPolicy::AllData => "all",
        }
    }
}

/// How the alert threshold is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ThresholdMode {
    /// The training scores' (1 − `contamination`) quantile.
    #[default]
    Contamination,
    /// The lowest threshold that flags at most `target_fpr` of the training rows (which are
    /// taken as normal, so every flag there is a false positive).
    TargetFpr,
    /// A fixed ensemble score, `threshold_score`.
    Score,
}

impl ThresholdMode {
    /// The URL spelling (`threshold=contamination|fpr|score`).
    pub fn as_str(self) -> &'static str {
        match self {
            ThresholdMode::Contamination => "contamination",
            ThresholdMode::TargetFpr => "fpr",
            ThresholdMode::Score => "score",
        }
    }

    pub fn parse(raw: &str) -> Option<ThresholdMode> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "contamination" => Some(ThresholdMode::Contamination),
            "fpr" | "target_fpr" => Some(ThresholdMode::TargetFpr),
            "score" | "fixed" => Some(ThresholdMode::Score),
            _ => None,
        }
    }
}

/// A threshold policy with its one parameter: what `pipeline::rethreshold` takes.
/// Externally tagged (not `tag = "mode"`): internally tagged enums need a self-describing
/// format, and this one travels in the binary page/worker messages.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ThresholdSpec {
    Contamination { contamination: f64 },
    TargetFpr { target_fpr: f64 },
    Score { score: f64 },
}

impl ThresholdSpec {
    pub fn mode(&self) -> ThresholdMode {
        match self {
            ThresholdSpec::Contamination { .. } => ThresholdMode::Contamination,
            ThresholdSpec::TargetFpr { .. } => ThresholdMode::TargetFpr,
            ThresholdSpec::Score { .. } => ThresholdMode::Score,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DetectionConfig {
    pub training: TrainingPolicy,
    /// Share of the run used for training under `InitialWindow`.
    pub train_fraction: f64,
    /// Expected share of anomalies in the training part: the threshold is the training
    /// scores' (1 − contamination) quantile.
    pub contamination: f64,
    /// Which threshold policy applies; `contamination`, `target_fpr` or `threshold_score`
    /// is its parameter.
    pub threshold: ThresholdMode,
    /// Share of training rows allowed above the threshold under `ThresholdMode::TargetFpr`.
    pub target_fpr: f64,
    /// The ensemble score threshold under `ThresholdMode::Score`.
    pub threshold_score: f64,
    /// Weight of the Isolation Forest in the ensemble (the autoencoder gets the rest).
    pub forest_weight: f64,
    pub features: FeatureConfig,
    pub isolation_forest: IsolationForestParams,
    pub mlp: MlpParams,
    /// The autoencoder learns from at most this many training rows, drawn with its
    /// `random_state` when the training part is larger (0: every row). Its training time grows
    /// with every row while what it learns, the shape of normal traffic in a few dozen
    /// features, is there in far fewer; the forest samples anyway (`max_samples`).
    pub autoencoder_max_rows: usize,
    /// At most this many anomalies are listed in the report (the highest-scoring ones).
    pub max_reported_anomalies: usize,
    /// Incidents the learned models alone may list, per hour of evaluated traffic per 100
    /// monitored hosts (0: all of them); the behavioural detectors' incidents are never held
    /// back, and held-back flows stay in the anomaly list (`findings::budget`).
    pub incident_budget: f64,
    /// The behavioural detectors' thresholds (and whether they run).
    pub behaviour: BehaviourParams,
    /// False (the default): training flows a detector names are left out of training, so
    /// the models do not learn an attack in the training part as normal.
    pub train_on_detected: bool,
}

impl Default for DetectionConfig {
    fn default() -> DetectionConfig {
        DetectionConfig {
            training: TrainingPolicy::InitialWindow,
            train_fraction: 0.25,
            contamination: 0.01,
            threshold: ThresholdMode::Contamination,
            target_fpr: 0.001,
            threshold_score: 3.0,
            forest_weight: 0.5,
            features: FeatureConfig::default(),
            isolation_forest: IsolationForestParams::default(),
            mlp: default_autoencoder(),
            autoencoder_max_rows: AUTOENCODER_MAX_ROWS,
            max_reported_anomalies: 10_000,
            incident_budget: INCIDENT_BUDGET,
            behaviour: BehaviourParams::default(),
            train_on_detected: false,
        }
    }
}

impl DetectionConfig {
    /// The threshold policy this configuration selects.
    pub fn threshold_spec(&self) -> ThresholdSpec {
        match self.threshold {
            ThresholdMode::Contamination => ThresholdSpec::Contamination {
                contamination: self.contamination,
            },
            ThresholdMode::TargetFpr => ThresholdSpec::TargetFpr {
                target_fpr: self.target_fpr,
            },
            ThresholdMode::Score => ThresholdSpec::Score {
                score: self.threshold_score,
            },
        }
    }

    /// Selects `spec`, keeping the other modes' parameters.
    pub fn set_threshold_spec(&mut self, spec: &ThresholdSpec) {
        self.threshold = spec.mode();
        match *spec {
            ThresholdSpec::Contamination { contamination } => self.contamination = contamination,
            ThresholdSpec::TargetFpr { target_fpr } => self.target_fpr = target_fpr,
            ThresholdSpec::Score { score } => self.threshold_score = score,
        }
    }
}

/// The default of [`DetectionConfig::incident_budget`]: model-only incidents per hour of
/// evaluated traffic per 100 hosts. Three leaves room, within the five false incidents an
/// hour per 100 hosts analysts can live with, for the detectors' own false alarms
/// (docs/evaluation.md, "Incidents").
pub const INCIDENT_BUDGET: f64 = 3.0;

/// The default of [`DetectionConfig::autoencoder_max_rows`].
pub const AUTOENCODER_MAX_ROWS: usize = 100_000;

/// The autoencoder's default `tol`: scikit-learn's rule (stop after `n_iter_no_change` epochs
/// that each raise the validation R² by less than `tol`) with 10⁻³ instead of 10⁻⁴. At 10⁻⁴
/// it never stopped on generated traffic (all 200 epochs, the R² still gaining 0.0002 an
/// epoch); at 10⁻³ it stops after about 80 with the same ROC-AUC (docs/evaluation.md).
pub const AUTOENCODER_TOL: f64 = 1e-3;

/// sklearn's MLPRegressor defaults, with an hourglass shape so the network must compress
/// (an autoencoder with a 100-unit hidden layer would learn the identity) and early stopping
/// (with [`AUTOENCODER_TOL`]) so a demo trains in a second.
pub fn default_autoencoder() -> MlpParams {
    MlpParams {
        hidden_layer_sizes: vec![12, 6, 12],
        early_stopping: true,
        max_iter: 200,
        tol: AUTOENCODER_TOL,
        ..MlpParams::default()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct RunConfig {
    pub generator: GeneratorConfig,
    pub detection: DetectionConfig,
}

impl RunConfig {
    pub(crate) fn attack(&self, kind: AttackKind) -> Option<&AttackSpec> {
        self.generator.attacks.iter().find(|a| a.kind == kind)
    }

    /// Changes the run length, moving default-timed attacks along with it and keeping every
    /// attack inside the run.
    pub fn set_duration(&mut self, duration_s: f64) {
        let old = self.generator.duration_s;
        self.generator.duration_s = duration_s;
        for a in &mut self.generator.attacks {
            if *a == AttackSpec::default_for(a.kind, old) {
                *a = AttackSpec::default_for(a.kind, duration_s);
            }
            a.start_s = a.start_s.min(duration_s * 0.95);
            a.duration_s = a.duration_s.min(duration_s - a.start_s).max(1.0);
        }
    }
}
