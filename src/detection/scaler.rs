//! Feature standardisation, as scikit-learn's `StandardScaler` does it.
//!
//! Fitted on the training part only, then applied to every row, so scoring never peeks at the
//! statistics of the data it judges. Not a robust scaler: outliers in training move the mean.

use crate::util::matrix::Matrix;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StandardScaler {
    pub mean: Vec<f64>,
    /// Population standard deviation (ddof = 0); 1.0 where a column is constant, like sklearn.
    pub scale: Vec<f64>,
}

impl StandardScaler {
    /// Learns per-column mean and standard deviation; `None` for an empty matrix.
    pub fn fit(x: &Matrix) -> Option<StandardScaler> {
        let (n, d) = (x.rows(), x.cols());
        if n == 0 {
            return None;
        }
        let mut mean = vec![0.0; d];
        for row in x.iter_rows() {
            for (m, v) in mean.iter_mut().zip(row) {
                *m += v;
            }
        }
        mean.iter_mut().for_each(|m| *m /= n as f64);
        // Two-pass variance: the naive sum-of-squares form loses digits on large offsets.
        let mut var = vec![0.0; d];
        for row in x.iter_rows() {
            for ((s, v), m) in var.iter_mut().zip(row).zip(&mean) {
                *s += (v - m) * (v - m);
            }
        }
        let scale = var
            .into_iter()
            .map(|s| {
                let sd = (s / n as f64).sqrt();
                // sklearn treats near-zero variance as constant to avoid exploding features.
                if sd < 10.0 * f64::EPSILON {
                    1.0
                } else {
                    sd
                }
            })
            .collect();
        Some(StandardScaler { mean, scale })
    }

    pub fn transform(&self, x: &Matrix) -> Matrix {
        let mut out = x.clone();
        self.transform_in_place(&mut out);
        out
    }

    pub fn transform_in_place(&self, x: &mut Matrix) {
        for i in 0..x.rows() {
            for ((v, m), s) in x.row_mut(i).iter_mut().zip(&self.mean).zip(&self.scale) {
                *v = (*v - m) / s;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standardises_to_zero_mean_unit_variance() {
        let x = Matrix::from_rows(&[
            vec![1.0, 10.0, 5.0],
            vec![2.0, 20.0, 5.0],
            vec![3.0, 60.0, 5.0],
        ])
        .unwrap();
        let s = StandardScaler::fit(&x).unwrap();
        assert_eq!(s.mean, vec![2.0, 30.0, 5.0]);
        assert!((s.scale[0] - (2.0f64 / 3.0).sqrt()).abs() < 1e-12);
        assert_eq!(s.scale[2], 1.0, "constant column keeps scale 1");
        let t = s.transform(&x);
        for j in 0..2 {
            let col = t.column(j);
            let mean: f64 = col.iter().sum::<f64>() / 3.0;
            let var: f64 = col.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 3.0;
            assert!(mean.abs() < 1e-12 && (var - 1.0).abs() < 1e-12);
        }
        assert_eq!(t.column(2), vec![0.0; 3]);
    }

    #[test]
    fn empty_input_has_no_scaler() {
        assert!(StandardScaler::fit(&Matrix::zeros(0, 3)).is_none());
    }
}
