//! How the two models' scores become one: each is standardised robustly against its training
//! scores and the two are averaged with the forest's weight. Also the training scores' own
//! distribution ([`ReferenceScores`]), which thresholds are taken from when a saved model
//! scores traffic it was not trained on.
//!
//! Not responsible for choosing thresholds (`detection`) or fitting the models.

use crate::util::index_sort;
use crate::util::quantile;
use serde::{Deserialize, Serialize};

/// Training scores a saved model keeps per model: all of them for training sets up to this
/// size (thresholds then match the training run's exactly), evenly spaced order statistics
/// beyond (thresholds within 1/10,000 of the quantile).
pub const REFERENCE_SCORES_MAX: usize = 10_000;

/// Robust standardisation of one model's scores against its training scores, so that scores
/// on different scales can be averaged: (s − median) / (IQR / 1.349).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RobustScale {
    pub median: f64,
    pub scale: f64,
}

impl RobustScale {
    pub fn fit(training_scores: &[f64]) -> RobustScale {
        let mut sorted = training_scores.to_vec();
        index_sort::sort_f64(&mut sorted);
        let median = quantile::quantile_sorted(&sorted, 0.5);
        let iqr =
            quantile::quantile_sorted(&sorted, 0.75) - quantile::quantile_sorted(&sorted, 0.25);
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

    pub fn apply(&self, s: f64) -> f64 {
        (s - self.median) / self.scale
    }
}

/// Ensemble input for the autoencoder: reconstruction errors are heavy-tailed, their log is
/// close to normal, which keeps one extreme flow from dominating the average.
pub fn mlp_ensemble_input(error: f64) -> f64 {
    crate::util::math::ln(error + 1e-12)
}

/// What turns an Isolation Forest score and a reconstruction error into the ensemble score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EnsembleCalibration {
    pub isolation_forest: RobustScale,
    /// On [`mlp_ensemble_input`] of the reconstruction errors.
    pub mlp: RobustScale,
    /// Weight of the forest in [0, 1]; the autoencoder gets the rest.
    pub forest_weight: f64,
}

impl EnsembleCalibration {
    pub fn fit(
        if_training: &[f64],
        mlp_training_errors: &[f64],
        forest_weight: f64,
    ) -> EnsembleCalibration {
        let inputs: Vec<f64> = mlp_training_errors
            .iter()
            .map(|&e| mlp_ensemble_input(e))
            .collect();
        EnsembleCalibration {
            isolation_forest: RobustScale::fit(if_training),
            mlp: RobustScale::fit(&inputs),
            forest_weight: forest_weight.clamp(0.0, 1.0),
        }
    }

    pub fn combine(&self, if_score: f64, mlp_error: f64) -> f64 {
        let w = self.forest_weight;
        w * self.isolation_forest.apply(if_score)
            + (1.0 - w) * self.mlp.apply(mlp_ensemble_input(mlp_error))
    }

    /// [`combine`](Self::combine) row by row.
    pub fn combine_all(&self, if_scores: &[f64], mlp_errors: &[f64]) -> Vec<f64> {
        if_scores
            .iter()
            .zip(mlp_errors)
            .map(|(&a, &b)| self.combine(a, b))
            .collect()
    }

    pub fn check(&self) -> Result<(), String> {
        let ok = |r: &RobustScale| r.median.is_finite() && r.scale.is_finite() && r.scale > 0.0;
        if !ok(&self.isolation_forest) || !ok(&self.mlp) {
            return Err("an ensemble calibration is not a finite median and positive scale".into());
        }
        if !(0.0..=1.0).contains(&self.forest_weight) {
            return Err(format!(
                "forest weight {} is outside [0, 1]",
                self.forest_weight
            ));
        }
        Ok(())
    }
}

/// The training rows' scores, sorted ascending (all of them, or evenly spaced order
/// statistics: see [`REFERENCE_SCORES_MAX`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReferenceScores {
    pub isolation_forest: Vec<f64>,
    pub mlp: Vec<f64>,
    pub ensemble: Vec<f64>,
}

/// `scores` sorted, thinned to at most [`REFERENCE_SCORES_MAX`] order statistics that keep
/// the minimum and the maximum.
fn order_statistics(scores: &[f64]) -> Vec<f64> {
    let mut sorted: Vec<f64> = scores.iter().copied().filter(|s| !s.is_nan()).collect();
    index_sort::sort_f64(&mut sorted);
    let n = sorted.len();
    if n <= REFERENCE_SCORES_MAX {
        return sorted;
    }
    let m = REFERENCE_SCORES_MAX;
    (0..m).map(|k| sorted[k * (n - 1) / (m - 1)]).collect()
}

impl ReferenceScores {
    pub fn from_training(if_scores: &[f64], mlp: &[f64], ensemble: &[f64]) -> ReferenceScores {
        ReferenceScores {
            isolation_forest: order_statistics(if_scores),
            mlp: order_statistics(mlp),
            ensemble: order_statistics(ensemble),
        }
    }

    pub fn check(&self) -> Result<(), String> {
        for (name, v) in [
            ("isolation forest", &self.isolation_forest),
            ("autoencoder", &self.mlp),
            ("ensemble", &self.ensemble),
        ] {
            if v.is_empty() || v.len() > REFERENCE_SCORES_MAX {
                return Err(format!(
                    "{} {name} training scores (expected 1 to {REFERENCE_SCORES_MAX})",
                    v.len()
                ));
            }
            if !v.iter().all(|s| s.is_finite()) || !v.windows(2).all(|w| w[0] <= w[1]) {
                return Err(format!(
                    "the {name} training scores are not sorted finite numbers"
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_training_sets_are_kept_whole_and_sorted() {
        let r = ReferenceScores::from_training(&[3.0, 1.0, 2.0], &[0.5], &[9.0, -1.0]);
        assert_eq!(r.isolation_forest, vec![1.0, 2.0, 3.0]);
        assert_eq!(r.ensemble, vec![-1.0, 9.0]);
        assert_eq!(r.check(), Ok(()));
    }

    #[test]
    fn large_training_sets_keep_extremes_and_quantiles() {
        let scores: Vec<f64> = (0..95_001).rev().map(f64::from).collect();
        let r = ReferenceScores::from_training(&scores, &scores, &scores);
        assert_eq!(r.mlp.len(), REFERENCE_SCORES_MAX);
        assert_eq!(r.mlp[0], 0.0);
        assert_eq!(*r.mlp.last().unwrap(), 95_000.0);
        let q99 = quantile::quantile(&r.mlp, 0.99).unwrap();
        assert!((q99 - 0.99 * 95_000.0).abs() <= 95_000.0 / REFERENCE_SCORES_MAX as f64);
    }

    #[test]
    fn calibration_centres_the_training_median_at_zero() {
        let if_scores = [0.4, 0.5, 0.6, 0.45, 0.55];
        let errors = [0.1, 0.2, 0.3, 0.15, 0.25];
        let c = EnsembleCalibration::fit(&if_scores, &errors, 0.5);
        assert!(c.combine(0.5, 0.2).abs() < 1e-12);
        assert!(c.combine(0.9, 2.0) > 1.0);
        assert_eq!(c.check(), Ok(()));
        let bad = EnsembleCalibration {
            forest_weight: 1.5,
            ..c
        };
        assert!(bad.check().is_err());
    }
}
