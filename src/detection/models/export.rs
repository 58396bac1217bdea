//! Versioned JSON export and validated import of fitted models, so a model trained on one
//! day can score another.
//!
//! A file is an envelope `{"format": "anomaly-detector/isolation-forest", "version": 1,
//! "model": {"params": ..., "fitted": ...}}` (or `.../mlp-regressor`). Import checks the
//! envelope, then the model's structure (tree links and depths, layer shapes, finiteness)
//! before anything can score with it: a hostile or truncated file is an [`ImportError`],
//! never a panic or a hang. This module does not bundle the scaler or feature names; the
//! detector wraps these envelopes in its own file.

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use super::{IsolationForest, MlpRegressor};

/// The envelope version this build writes and reads.
pub const MODEL_FORMAT_VERSION: u64 = 1;
pub const ISOLATION_FOREST_FORMAT: &str = "anomaly-detector/isolation-forest";
pub const MLP_REGRESSOR_FORMAT: &str = "anomaly-detector/mlp-regressor";

/// Why a model file could not be imported.
#[derive(Debug, Clone, PartialEq)]
pub enum ImportError {
    /// Not JSON (line and column are 1-based, as serde_json reports them).
    Json {
        line: usize,
        column: usize,
        message: String,
    },
    /// The envelope lacks `field` or it has the wrong type.
    MissingField { field: &'static str },
    /// `format` names another kind of file or model.
    WrongFormat {
        expected: &'static str,
        found: String,
    },
    /// Written by a newer (or unknown) version of the format.
    UnsupportedVersion { found: u64, supported: u64 },
    /// The model's fields do not parse (wrong types, missing parameters, non-numbers such as
    /// `null` where a weight should be).
    Malformed { message: String },
    /// The model parses but its fitted state is inconsistent: child index out of range or
    /// pointing backwards, tree deeper than its limit, layer shapes that do not chain,
    /// non-finite weights, thresholds or offset.
    Inconsistent { reason: String },
}

impl std::fmt::Display for ImportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ImportError::Json {
                line,
                column,
                message,
            } => write!(f, "not valid JSON at line {line}, column {column}: {message}"),
            ImportError::MissingField { field } => {
                write!(f, "the model file has no valid `{field}` field")
            }
            ImportError::WrongFormat { expected, found } => {
                write!(f, "expected a {expected:?} file, found format {found:?}")
            }
            ImportError::UnsupportedVersion { found, supported } => write!(
                f,
                "model format version {found} is not supported (this build reads version {supported})"
            ),
            ImportError::Malformed { message } => write!(f, "malformed model: {message}"),
            ImportError::Inconsistent { reason } => write!(f, "inconsistent model: {reason}"),
        }
    }
}

impl std::error::Error for ImportError {}

fn export<M: Serialize>(format: &str, model: &M) -> Value {
    serde_json::json!({
        "format": format,
        "version": MODEL_FORMAT_VERSION,
        "model": model,
    })
}

/// Parses a model's text, checking the envelope; the model's own `TryFrom` check reports
/// structural problems as strings starting with a marker we map to `Inconsistent`.
fn import<M: DeserializeOwned>(text: &str, format: &'static str) -> Result<M, ImportError> {
    let value: Value = serde_json::from_str(text).map_err(|e| ImportError::Json {
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })?;
    import_value(value, format)
}

fn import_value<M: DeserializeOwned>(
    mut value: Value,
    format: &'static str,
) -> Result<M, ImportError> {
    let found = value
        .get("format")
        .and_then(Value::as_str)
        .ok_or(ImportError::MissingField { field: "format" })?;
    if found != format {
        return Err(ImportError::WrongFormat {
            expected: format,
            found: found.to_string(),
        });
    }
    let version = value
        .get("version")
        .and_then(Value::as_u64)
        .ok_or(ImportError::MissingField { field: "version" })?;
    if version != MODEL_FORMAT_VERSION {
        return Err(ImportError::UnsupportedVersion {
            found: version,
            supported: MODEL_FORMAT_VERSION,
        });
    }
    let model = value
        .get_mut("model")
        .filter(|m| m.is_object())
        .map(Value::take)
        .ok_or(ImportError::MissingField { field: "model" })?;
    serde_json::from_value(model).map_err(|e| {
        let message = e.to_string();
        match message.strip_prefix(super::INCONSISTENT) {
            Some(reason) => ImportError::Inconsistent {
                reason: reason.to_string(),
            },
            None => ImportError::Malformed { message },
        }
    })
}

impl IsolationForest {
    /// The model (parameters and, if fitted, the forest) as a versioned JSON value.
    pub fn export_json(&self) -> Value {
        export(ISOLATION_FOREST_FORMAT, self)
    }

    /// Reads a model written by [`export_json`](Self::export_json), validating it fully.
    pub fn import_json(text: &str) -> Result<IsolationForest, ImportError> {
        import(text, ISOLATION_FOREST_FORMAT)
    }

    /// As [`import_json`](Self::import_json), from an already parsed value (e.g. a field of
    /// the detector's model file).
    pub fn import_value(value: Value) -> Result<IsolationForest, ImportError> {
        import_value(value, ISOLATION_FOREST_FORMAT)
    }
}

impl MlpRegressor {
    /// The model (parameters and, if fitted, weights and training history) as a versioned
    /// JSON value.
    pub fn export_json(&self) -> Value {
        export(MLP_REGRESSOR_FORMAT, self)
    }

    /// Reads a model written by [`export_json`](Self::export_json), validating it fully.
    pub fn import_json(text: &str) -> Result<MlpRegressor, ImportError> {
        import(text, MLP_REGRESSOR_FORMAT)
    }

    /// As [`import_json`](Self::import_json), from an already parsed value.
    pub fn import_value(value: Value) -> Result<MlpRegressor, ImportError> {
        import_value(value, MLP_REGRESSOR_FORMAT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::bench;
    use crate::detection::models::{IsolationForestParams, MlpParams};
    use serde_json::json;

    /// A named edit that damages an exported model.
    type Corruption = (&'static str, Box<dyn Fn(&mut Value)>);

    fn fitted_forest() -> (IsolationForest, crate::util::matrix::Matrix) {
        let x = bench::data(300, 4, 1);
        let mut f = IsolationForest::new(IsolationForestParams {
            n_estimators: 10,
            ..Default::default()
        });
        f.fit(&x).unwrap();
        (f, x)
    }

    fn fitted_mlp() -> (MlpRegressor, crate::util::matrix::Matrix) {
        let x = bench::data(200, 4, 2);
        let mut m = MlpRegressor::new(MlpParams {
            hidden_layer_sizes: vec![3],
            max_iter: 5,
            ..Default::default()
        });
        m.fit(&x, &x).unwrap();
        (m, x)
    }

    #[test]
    fn export_import_gives_identical_scores() {
        let (f, x) = fitted_forest();
        let text = f.export_json().to_string();
        let back = IsolationForest::import_json(&text).unwrap();
        assert_eq!(back, f);
        assert_eq!(back.score_samples(&x), f.score_samples(&x));
        assert_eq!(back.explain(x.row(0)), f.explain(x.row(0)));

        let (m, x) = fitted_mlp();
        let back = MlpRegressor::import_json(&m.export_json().to_string()).unwrap();
        assert_eq!(back, m);
        assert_eq!(back.reconstruction_errors(&x), m.reconstruction_errors(&x));
    }

    #[test]
    fn envelope_errors() {
        let (f, _) = fitted_forest();
        let good = f.export_json();
        assert!(matches!(
            IsolationForest::import_json("{\"format\": "),
            Err(ImportError::Json { line: 1, .. })
        ));
        let mut v = good.clone();
        v.as_object_mut().unwrap().remove("format");
        assert_eq!(
            IsolationForest::import_value(v),
            Err(ImportError::MissingField { field: "format" })
        );
        // An MLP file is not a forest.
        let (m, _) = fitted_mlp();
        assert!(matches!(
            IsolationForest::import_value(m.export_json()),
            Err(ImportError::WrongFormat { .. })
        ));
        let mut v = good.clone();
        v["version"] = json!(2);
        assert_eq!(
            IsolationForest::import_value(v),
            Err(ImportError::UnsupportedVersion {
                found: 2,
                supported: 1
            })
        );
        let mut v = good.clone();
        v["version"] = json!("1");
        assert_eq!(
            IsolationForest::import_value(v),
            Err(ImportError::MissingField { field: "version" })
        );
        let mut v = good;
        v["model"] = json!([]);
        assert_eq!(
            IsolationForest::import_value(v),
            Err(ImportError::MissingField { field: "model" })
        );
    }

    #[test]
    fn every_forest_corruption_is_an_error() {
        let (f, x) = fitted_forest();
        let good = f.export_json();
        let n_nodes = good["model"]["fitted"]["nodes"].as_array().unwrap().len();
        let split = good["model"]["fitted"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .position(|n| n["left"] != n["right"])
            .unwrap();
        let corrupt = |edit: &dyn Fn(&mut Value)| {
            let mut v = good.clone();
            edit(&mut v["model"]["fitted"]);
            IsolationForest::import_value(v)
        };
        let inconsistent: Vec<Corruption> = vec![
            (
                "child out of range",
                Box::new(move |v| v["nodes"][split]["left"] = json!(n_nodes + 5)),
            ),
            (
                "child pointing back (cycle)",
                Box::new(move |v| v["nodes"][split]["right"] = json!(split)),
            ),
            (
                "feature out of range",
                Box::new(move |v| v["nodes"][split]["feature"] = json!(99)),
            ),
            (
                "root out of range",
                Box::new(move |v| v["roots"][0] = json!(n_nodes)),
            ),
            ("no trees", Box::new(|v| v["roots"] = json!([]))),
            (
                "shared subtree",
                Box::new(|v| v["roots"][1] = v["roots"][0].clone()),
            ),
            (
                "tree deeper than max_samples allows",
                Box::new(|v| v["max_samples"] = json!(2)),
            ),
            (
                "a leaf shorter than its depth (a negative path length)",
                Box::new(move |v| {
                    let nodes = v["nodes"].as_array_mut().unwrap();
                    let leaf = nodes.iter().position(|n| n["left"] == n["right"]).unwrap();
                    nodes[leaf]["value"] = json!(-42.0);
                }),
            ),
        ];
        for (what, edit) in &inconsistent {
            assert!(
                matches!(corrupt(edit), Err(ImportError::Inconsistent { .. })),
                "{what}: {:?}",
                corrupt(edit)
            );
        }
        let malformed: Vec<Corruption> = vec![
            (
                "threshold null (NaN)",
                Box::new(move |v| v["nodes"][split]["value"] = json!(null)),
            ),
            (
                "negative index",
                Box::new(move |v| v["nodes"][split]["left"] = json!(-1)),
            ),
            (
                "nodes missing",
                Box::new(|v| {
                    v.as_object_mut().unwrap().remove("nodes");
                }),
            ),
            (
                "string weight",
                Box::new(move |v| v["nodes"][split]["value"] = json!("0.5")),
            ),
        ];
        for (what, edit) in &malformed {
            assert!(
                matches!(corrupt(edit), Err(ImportError::Malformed { .. })),
                "{what}: {:?}",
                corrupt(edit)
            );
        }
        // The untouched file still imports and scores.
        let back = IsolationForest::import_value(good).unwrap();
        assert!(back
            .score_samples(&x)
            .unwrap()
            .iter()
            .all(|s| s.is_finite()));
    }

    #[test]
    fn every_mlp_corruption_is_an_error() {
        let (m, _) = fitted_mlp();
        let good = m.export_json();
        let corrupt = |edit: &dyn Fn(&mut Value)| {
            let mut v = good.clone();
            edit(&mut v["model"]["fitted"]);
            MlpRegressor::import_value(v)
        };
        let inconsistent: Vec<Corruption> = vec![
            (
                "weights too short",
                Box::new(|v| {
                    v["layers"][0]["weights"].as_array_mut().unwrap().pop();
                }),
            ),
            (
                "bias count",
                Box::new(|v| {
                    v["layers"][1]["biases"]
                        .as_array_mut()
                        .unwrap()
                        .push(json!(0.0));
                }),
            ),
            (
                "layers do not chain",
                Box::new(|v| v["layers"][1]["fan_in"] = json!(7)),
            ),
            ("outputs mismatch", Box::new(|v| v["n_outputs"] = json!(9))),
            ("no layers", Box::new(|v| v["layers"] = json!([]))),
            (
                "overflowing shape",
                Box::new(|v| v["layers"][0]["fan_out"] = json!(u64::MAX / 2)),
            ),
        ];
        for (what, edit) in &inconsistent {
            assert!(
                matches!(corrupt(edit), Err(ImportError::Inconsistent { .. })),
                "{what}: {:?}",
                corrupt(edit)
            );
        }
        assert!(matches!(
            corrupt(&|v| v["layers"][0]["weights"][0] = json!(null)),
            Err(ImportError::Malformed { .. })
        ));
        assert!(MlpRegressor::import_value(good).is_ok());
    }
}
