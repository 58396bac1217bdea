//! The two models a run scores with and what the ensemble, thresholds, explanations and
//! responses need from their training: fitted in this run (`fit`) or loaded from a saved model.

use crate::detection::ensemble::{EnsembleCalibration, ReferenceScores};
use crate::detection::models::isolation_forest::IsolationForest;
use crate::detection::models::mlp::MlpRegressor;
use std::net::IpAddr;

/// The two models and what the ensemble, thresholds and responses need from their training,
/// fitted in this run or loaded from a saved model.
pub(super) struct Models {
    pub(super) forest: IsolationForest,
    pub(super) mlp: MlpRegressor,
    pub(super) calibration: EnsembleCalibration,
    /// Training medians in natural units (for explanations).
    pub(super) medians: Vec<f64>,
    pub(super) allowlist: Vec<IpAddr>,
    /// A saved model's training scores; `None` when this run's training rows are at hand.
    pub(super) reference: Option<ReferenceScores>,
    pub(super) trained_on: String,
    pub(super) training_flows: u64,
    /// Rows the autoencoder trained on: the training flows, or a sample of them (see
    /// `fit::AUTOENCODER_MAX_TRAINING_ROWS`).
    pub(super) autoencoder_rows: u64,
}
