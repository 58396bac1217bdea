//! Why a run stops: an invalid scenario, nothing to train on, a model's refusal, a
//! cancellation. Import errors are the importers' own and never reach here.

use crate::detection::models::ModelError;
use crate::traffic::generator::GeneratorError;
use std::fmt;

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
                "the models cannot learn from this file: its {flows} flows are alike in every \
                 feature (sizes, ports, state, timing), so there is no normal to tell anomalies \
                 from. Import a larger capture, or a baseline of normal traffic with it"
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
