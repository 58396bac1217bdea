//! The pipeline's stages and the progress it reports while it works (stage fractions and the
//! autoencoder's epochs). Not the place for timing: the caller's clock measures.

use crate::detection::models::mlp::EpochReport;
use serde::{Deserialize, Serialize};

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

crate::util::serde_names::serde_by_name!(Stage, "a pipeline stage");

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
    Stage {
        stage: Stage,
        fraction: f64,
    },
    Epoch(EpochReport),
    /// Sent once the behavioural detectors have run, before any model is trained: what they
    /// named (one-line summaries, at most [`CHECKED_LISTED`]) and the training check's
    /// warnings, so the user reads them while the models train rather than after.
    Checked {
        detections: u32,
        summaries: Vec<String>,
        training_warnings: Vec<String>,
    },
}

/// Detections summarised in [`Progress::Checked`]; the rest are counted.
pub const CHECKED_LISTED: usize = 5;
