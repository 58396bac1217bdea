//! The two anomaly models, written to match scikit-learn's behaviour: an Isolation Forest
//! (`sklearn.ensemble.IsolationForest`) and a multi-layer perceptron regressor trained with
//! Adam (`sklearn.neural_network.MLPRegressor`), used as an autoencoder.
//!
//! This module only holds the shared error type and re-exports. It does not scale features,
//! pick thresholds for a report or evaluate detections; those live elsewhere.

mod auto_or_number;
pub mod export;
pub mod isolation_forest;
pub mod mlp;

pub use export::{
    ImportError, ISOLATION_FOREST_FORMAT, MLP_REGRESSOR_FORMAT, MODEL_FORMAT_VERSION,
};
pub use isolation_forest::{
    average_path_length, Contamination, IsolationForest, IsolationForestParams, MaxFeatures,
    MaxSamples, PathStep,
};
pub use mlp::{
    Activation, BatchSize, EpochReport, FitSummary, MlpParams, MlpRegressor, Solver, StopReason,
};

use crate::util::matrix::Matrix;

/// Why a model could not be fitted or used. Bad input is always reported here, never a panic.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelError {
    /// `score`/`predict` (or an accessor needing fitted state) was called before `fit`.
    NotFitted,
    /// The input has no rows or no columns.
    EmptyInput,
    /// The input's column count differs from what the model was fitted on (or expects).
    FeatureCountMismatch { expected: usize, found: usize },
    /// Inputs and targets have a different number of rows.
    RowCountMismatch { x_rows: usize, y_rows: usize },
    /// An input value is NaN or infinite.
    NonFiniteInput { row: usize, col: usize },
    /// A target value is NaN or infinite.
    NonFiniteTarget { row: usize, col: usize },
    /// A parameter is out of its valid range.
    InvalidParameter { name: &'static str, reason: String },
    /// An autoencoder helper was called on a model whose outputs are not its inputs.
    NotAutoencoder { n_inputs: usize, n_outputs: usize },
    /// Training produced NaN or infinite weights (inputs need scaling, or the learning rate
    /// is too high). scikit-learn raises a `ValueError` in the same situation.
    Diverged,
}

impl std::fmt::Display for ModelError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ModelError::NotFitted => write!(f, "the model has not been fitted yet"),
            ModelError::EmptyInput => write!(f, "the input has no rows or no columns"),
            ModelError::FeatureCountMismatch { expected, found } => {
                write!(f, "expected {expected} feature columns, found {found}")
            }
            ModelError::RowCountMismatch { x_rows, y_rows } => {
                write!(f, "inputs have {x_rows} rows but targets have {y_rows}")
            }
            ModelError::NonFiniteInput { row, col } => {
                write!(f, "input value at row {row}, column {col} is not finite")
            }
            ModelError::NonFiniteTarget { row, col } => {
                write!(f, "target value at row {row}, column {col} is not finite")
            }
            ModelError::InvalidParameter { name, reason } => {
                write!(f, "invalid parameter `{name}`: {reason}")
            }
            ModelError::NotAutoencoder {
                n_inputs,
                n_outputs,
            } => write!(
                f,
                "the model maps {n_inputs} inputs to {n_outputs} outputs, not an autoencoder"
            ),
            ModelError::Diverged => write!(
                f,
                "training produced non-finite weights; scale the inputs or lower the learning rate"
            ),
        }
    }
}

impl std::error::Error for ModelError {}

/// Prefix of the structural-check errors raised while deserialising a fitted model, so
/// `export` can tell them from plain parse errors.
pub(crate) const INCONSISTENT: &str = "inconsistent fitted state: ";

/// Checks that `x` is non-empty and finite; `expected_cols` (if any) must match its width.
pub(crate) fn check_input(x: &Matrix, expected_cols: Option<usize>) -> Result<(), ModelError> {
    if let Some(expected) = expected_cols {
        if x.cols() != expected {
            return Err(ModelError::FeatureCountMismatch {
                expected,
                found: x.cols(),
            });
        }
    }
    if x.rows() == 0 || x.cols() == 0 {
        return Err(ModelError::EmptyInput);
    }
    check_finite(x.as_slice(), x.cols())
        .map_err(|(row, col)| ModelError::NonFiniteInput { row, col })
}

/// The (row, col) of the first non-finite value in a row-major buffer of width `cols`.
pub(crate) fn check_finite(data: &[f64], cols: usize) -> Result<(), (usize, usize)> {
    match data.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(i) => Err((i / cols.max(1), i % cols.max(1))),
    }
}

/// Serde helpers for float sequences that may hold NaN or ±inf, which JSON cannot represent:
/// such values are written as `null` and read back as NaN, so a fitted model always
/// round-trips through JSON.
pub(crate) mod nullable_floats {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(values: &[f64], s: S) -> Result<S::Ok, S::Error> {
        let opt: Vec<Option<f64>> = values
            .iter()
            .map(|v| if v.is_finite() { Some(*v) } else { None })
            .collect();
        opt.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
        let opt = Vec::<Option<f64>>::deserialize(d)?;
        Ok(opt.into_iter().map(|v| v.unwrap_or(f64::NAN)).collect())
    }
}

/// [`nullable_floats`] for an optional sequence.
pub(crate) mod nullable_floats_opt {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(values: &Option<Vec<f64>>, s: S) -> Result<S::Ok, S::Error> {
        values
            .as_ref()
            .map(|v| {
                v.iter()
                    .map(|x| if x.is_finite() { Some(*x) } else { None })
                    .collect::<Vec<_>>()
            })
            .serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<f64>>, D::Error> {
        let opt = Option::<Vec<Option<f64>>>::deserialize(d)?;
        Ok(opt.map(|v| v.into_iter().map(|x| x.unwrap_or(f64::NAN)).collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_input_reports_the_first_bad_cell() {
        let m = Matrix::from_rows(&[vec![1.0, 2.0], vec![3.0, f64::NAN]]).unwrap();
        assert_eq!(
            check_input(&m, None),
            Err(ModelError::NonFiniteInput { row: 1, col: 1 })
        );
        assert_eq!(
            check_input(&m, Some(3)),
            Err(ModelError::FeatureCountMismatch {
                expected: 3,
                found: 2
            })
        );
        assert_eq!(
            check_input(&Matrix::zeros(0, 2), None),
            Err(ModelError::EmptyInput)
        );
        assert_eq!(
            check_input(&Matrix::zeros(3, 0), None),
            Err(ModelError::EmptyInput)
        );
        assert!(check_input(&Matrix::zeros(1, 1), Some(1)).is_ok());
    }

    #[test]
    fn errors_display_something_useful() {
        let e = ModelError::InvalidParameter {
            name: "alpha",
            reason: "must be >= 0".into(),
        };
        assert!(e.to_string().contains("alpha"));
        let boxed: Box<dyn std::error::Error> = Box::new(ModelError::NotFitted);
        assert!(boxed.to_string().contains("not been fitted"));
    }
}
