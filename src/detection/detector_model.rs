//! A saved detector: everything a run learned (feature preprocessing, both fitted models, the
//! ensemble's calibration, the training scores' distribution and the network's infrastructure
//! hosts) as one versioned JSON file, so that a model trained on one day scores another
//! without retraining, in the tab or natively.
//!
//! Reading a file validates the envelope, each model (through `models::export`) and that every
//! part agrees on the number of features, before anything scores with it: a hostile or
//! truncated file is a [`ModelFileError`], never a panic. Not responsible for fitting
//! (`detection`) or for reading browser files (`worker`).

use crate::detection::ensemble::{EnsembleCalibration, ReferenceScores};
use crate::detection::models::{ImportError, IsolationForest, MlpRegressor};
use crate::detection::preprocessing::Preprocessing;
use crate::detection::run_config::DetectionConfig;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;
use std::net::IpAddr;

pub const DETECTOR_MODEL_FORMAT: &str = "anomaly-detector/detector";
/// The file version this build writes and reads.
pub const DETECTOR_MODEL_VERSION: u64 = 1;
/// Larger model files are refused before parsing (a default model is about 3 MB).
pub const MAX_MODEL_FILE_BYTES: u64 = 64 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq)]
pub struct DetectorModel {
    /// The app version that trained it.
    pub app_version: String,
    /// Where the training flows came from, in words ("generated traffic, seed 42: ...").
    pub trained_on: String,
    pub training_flows: u64,
    /// The configuration the models were trained with (thresholds may be changed later).
    pub detection: DetectionConfig,
    pub preprocessing: Preprocessing,
    pub isolation_forest: IsolationForest,
    pub mlp: MlpRegressor,
    pub calibration: EnsembleCalibration,
    pub reference: ReferenceScores,
    /// Training medians of each column in natural units: the "typical" values explanations
    /// compare against.
    pub medians: Vec<f64>,
    /// Infrastructure servers seen in training, never suggested for blocking.
    pub allowlist: Vec<IpAddr>,
}

/// Why a model file could not be used.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelFileError {
    TooLarge {
        bytes: u64,
        max_bytes: u64,
    },
    /// The envelope is wrong (not JSON, other format, unknown version, missing field).
    Envelope(ImportError),
    /// One part does not parse or is inconsistent in itself.
    Part {
        part: &'static str,
        source: ImportError,
    },
    /// The parts parse but do not fit together (e.g. a scaler for 20 columns and a forest
    /// for 18).
    Mismatch {
        reason: String,
    },
}

impl fmt::Display for ModelFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ModelFileError::TooLarge { bytes, max_bytes } => write!(
                f,
                "the model file has {bytes} bytes; at most {max_bytes} bytes are read"
            ),
            ModelFileError::Envelope(e) => write!(f, "not a detector model file: {e}"),
            ModelFileError::Part { part, source } => write!(f, "{part}: {source}"),
            ModelFileError::Mismatch { reason } => {
                write!(f, "the model's parts do not fit together: {reason}")
            }
        }
    }
}

impl std::error::Error for ModelFileError {}

/// The plain-data parts of the file (the two models go through their own envelopes).
#[derive(Serialize, Deserialize)]
struct Parts {
    app_version: String,
    trained_on: String,
    training_flows: u64,
    detection: DetectionConfig,
    preprocessing: Preprocessing,
    calibration: EnsembleCalibration,
    reference: ReferenceScores,
    medians: Vec<f64>,
    allowlist: Vec<IpAddr>,
}

/// Takes the model envelope `key` out of the file and loads it with that model's importer.
fn model_part<T>(
    value: &mut Value,
    key: &'static str,
    import: fn(Value) -> Result<T, ImportError>,
) -> Result<T, ModelFileError> {
    let v = value
        .get_mut(key)
        .map(Value::take)
        .ok_or(ModelFileError::Envelope(ImportError::MissingField {
            field: key,
        }))?;
    import(v).map_err(|source| ModelFileError::Part { part: key, source })
}

impl DetectorModel {
    /// The model file's text: `{<the parts>, "format", "version", "isolation_forest":
    /// <envelope>, "mlp": <envelope>}`, compact (`float_roundtrip` keeps every f64 exact).
    ///
    /// Written as text rather than through a `serde_json::Value`: serialising the parts into a
    /// `Value` instantiated their `Serialize` code a third time in the worker (issue #6's size
    /// budget). Readers go by key, so the order of the keys does not matter.
    pub fn to_json(&self) -> String {
        let parts = Parts {
            app_version: self.app_version.clone(),
            trained_on: self.trained_on.clone(),
            training_flows: self.training_flows,
            detection: self.detection.clone(),
            preprocessing: self.preprocessing.clone(),
            calibration: self.calibration,
            reference: self.reference.clone(),
            medians: self.medians.clone(),
            allowlist: self.allowlist.clone(),
        };
        // Unreachable for these types (no maps with non-string keys); never panic.
        let mut text = serde_json::to_string(&parts).unwrap_or_else(|_| "{}".into());
        text.pop(); // the closing brace
        let envelope = [
            ("format", Value::from(DETECTOR_MODEL_FORMAT)),
            ("version", Value::from(DETECTOR_MODEL_VERSION)),
            ("isolation_forest", self.isolation_forest.export_json()),
            ("mlp", self.mlp.export_json()),
        ];
        for (key, value) in envelope {
            if !text.ends_with('{') {
                text.push(',');
            }
            text.push_str(&format!("\"{key}\":{value}"));
        }
        text.push('}');
        text
    }

    /// Reads and validates a model file.
    pub fn from_json(text: &str) -> Result<DetectorModel, ModelFileError> {
        if text.len() as u64 > MAX_MODEL_FILE_BYTES {
            return Err(ModelFileError::TooLarge {
                bytes: text.len() as u64,
                max_bytes: MAX_MODEL_FILE_BYTES,
            });
        }
        let mut value: Value = serde_json::from_str(text).map_err(|e| {
            ModelFileError::Envelope(ImportError::Json {
                line: e.line(),
                column: e.column(),
                message: e.to_string(),
            })
        })?;
        let format =
            value
                .get("format")
                .and_then(Value::as_str)
                .ok_or(ModelFileError::Envelope(ImportError::MissingField {
                    field: "format",
                }))?;
        if format != DETECTOR_MODEL_FORMAT {
            return Err(ModelFileError::Envelope(ImportError::WrongFormat {
                expected: DETECTOR_MODEL_FORMAT,
                found: format.to_string(),
            }));
        }
        let version =
            value
                .get("version")
                .and_then(Value::as_u64)
                .ok_or(ModelFileError::Envelope(ImportError::MissingField {
                    field: "version",
                }))?;
        if version != DETECTOR_MODEL_VERSION {
            return Err(ModelFileError::Envelope(ImportError::UnsupportedVersion {
                found: version,
                supported: DETECTOR_MODEL_VERSION,
            }));
        }
        let isolation_forest = model_part(
            &mut value,
            "isolation_forest",
            IsolationForest::import_value,
        )?;
        let mlp = model_part(&mut value, "mlp", MlpRegressor::import_value)?;
        if let Value::Object(map) = &mut value {
            map.remove("format");
            map.remove("version");
        }
        let parts: Parts = serde_json::from_value(value).map_err(|e| {
            ModelFileError::Envelope(ImportError::Malformed {
                message: e.to_string(),
            })
        })?;
        let model = DetectorModel {
            app_version: parts.app_version,
            trained_on: parts.trained_on,
            training_flows: parts.training_flows,
            detection: parts.detection,
            preprocessing: parts.preprocessing,
            isolation_forest,
            mlp,
            calibration: parts.calibration,
            reference: parts.reference,
            medians: parts.medians,
            allowlist: parts.allowlist,
        };
        model
            .check()
            .map_err(|reason| ModelFileError::Mismatch { reason })?;
        Ok(model)
    }

    /// Every part present, fitted and agreeing on the number of features.
    pub fn check(&self) -> Result<(), String> {
        self.preprocessing.check()?;
        self.calibration.check()?;
        self.reference.check()?;
        let d = self.preprocessing.columns.len();
        let forest = self.isolation_forest.n_features_in();
        if forest != Some(d) {
            return Err(format!(
                "{d} feature columns but the isolation forest takes {}",
                forest.map_or("none (not fitted)".to_string(), |n| n.to_string())
            ));
        }
        let (inputs, outputs) = (self.mlp.n_features_in(), self.mlp.n_outputs());
        if inputs != Some(d) || outputs != Some(d) {
            return Err(format!(
                "{d} feature columns but the autoencoder maps {} inputs to {} outputs",
                inputs.map_or("no".to_string(), |n| n.to_string()),
                outputs.map_or("no".to_string(), |n| n.to_string())
            ));
        }
        if self.medians.len() != d || self.medians.iter().any(|m| m.is_nan()) {
            return Err(format!(
                "{d} feature columns but {} usable typical values",
                self.medians.iter().filter(|m| !m.is_nan()).count()
            ));
        }
        Ok(())
    }
}
