//! The run, stage by stage: dataset (features and the training split), models fitted or
//! loaded, scores, thresholds, findings and the report, with re-thresholding and verdicts
//! after it. The Web Worker and every binary call these functions, never a copy. May import
//! every layer below (util, traffic, detection, findings, output). Must not import app or the
//! browser shell.

pub mod assemble;
pub mod dataset;
pub mod detectors;
pub mod error;
pub mod explainer;
pub mod fit;
pub mod fitted_models;
pub mod fitted_run;
#[cfg(not(target_arch = "wasm32"))]
pub mod follow;
pub mod rethreshold;
pub mod run;
pub mod run_output;
pub mod stage;
pub mod stream_score;
pub mod threshold;
pub mod training_check;

pub use error::DetectionError;
pub use explainer::Explainer;
pub use fitted_run::FittedRun;
pub use rethreshold::{rethreshold, rethreshold_with, Thresholded};
#[cfg(not(target_arch = "wasm32"))]
pub use run::native_clock;
pub use run::{run, run_fitted, run_generated_with_model, run_imported, run_imported_with_model};
pub use run_output::{PlotData, RunOutput, ScoredRun};
pub use stage::{Progress, Stage};
pub use threshold::{threshold_for_rate, thresholds};
