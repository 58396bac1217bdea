//! A dense, row-major matrix of `f64`: the one data layout the models and features share.
//!
//! Deliberately minimal (no linear-algebra library): rows are contiguous so scoring and
//! mini-batch training walk memory in order. Not a general numeric array type.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Matrix {
    rows: usize,
    cols: usize,
    data: Vec<f64>,
}

/// Why a matrix could not be built from the given parts.
#[derive(Debug, Clone, PartialEq)]
pub enum MatrixError {
    /// `data.len()` is not `rows * cols`.
    ShapeMismatch {
        rows: usize,
        cols: usize,
        len: usize,
    },
    /// A row of a nested input had a different width from the first.
    RaggedRow {
        row: usize,
        expected: usize,
        found: usize,
    },
}

impl std::fmt::Display for MatrixError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MatrixError::ShapeMismatch { rows, cols, len } => write!(
                f,
                "matrix of {rows}x{cols} needs {} values, got {len}",
                rows * cols
            ),
            MatrixError::RaggedRow {
                row,
                expected,
                found,
            } => write!(f, "row {row} has {found} values, expected {expected}"),
        }
    }
}

impl std::error::Error for MatrixError {}

impl Matrix {
    pub fn zeros(rows: usize, cols: usize) -> Matrix {
        Matrix {
            rows,
            cols,
            data: vec![0.0; rows * cols],
        }
    }

    pub fn from_vec(rows: usize, cols: usize, data: Vec<f64>) -> Result<Matrix, MatrixError> {
        if data.len() != rows * cols {
            return Err(MatrixError::ShapeMismatch {
                rows,
                cols,
                len: data.len(),
            });
        }
        Ok(Matrix { rows, cols, data })
    }

    pub fn from_rows(rows: &[Vec<f64>]) -> Result<Matrix, MatrixError> {
        let cols = rows.first().map_or(0, Vec::len);
        let mut data = Vec::with_capacity(rows.len() * cols);
        for (i, row) in rows.iter().enumerate() {
            if row.len() != cols {
                return Err(MatrixError::RaggedRow {
                    row: i,
                    expected: cols,
                    found: row.len(),
                });
            }
            data.extend_from_slice(row);
        }
        Ok(Matrix {
            rows: rows.len(),
            cols,
            data,
        })
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    pub fn cols(&self) -> usize {
        self.cols
    }

    pub fn row(&self, i: usize) -> &[f64] {
        &self.data[i * self.cols..(i + 1) * self.cols]
    }

    pub fn row_mut(&mut self, i: usize) -> &mut [f64] {
        &mut self.data[i * self.cols..(i + 1) * self.cols]
    }

    pub fn get(&self, i: usize, j: usize) -> f64 {
        self.data[i * self.cols + j]
    }

    pub fn set(&mut self, i: usize, j: usize, value: f64) {
        self.data[i * self.cols + j] = value;
    }

    pub fn as_slice(&self) -> &[f64] {
        &self.data
    }

    /// The values, row-major (gives the allocation back for reuse).
    pub fn into_vec(self) -> Vec<f64> {
        self.data
    }

    pub fn as_mut_slice(&mut self) -> &mut [f64] {
        &mut self.data
    }

    pub fn iter_rows(&self) -> impl Iterator<Item = &[f64]> {
        // `chunks_exact(0)` panics; a 0-column matrix still has `rows` empty rows.
        let cols = self.cols.max(1);
        let empty: &[f64] = &[];
        let (data, rows, zero_width) = (&self.data, self.rows, self.cols == 0);
        (0..rows).map(move |i| {
            if zero_width {
                empty
            } else {
                &data[i * cols..(i + 1) * cols]
            }
        })
    }

    /// A new matrix holding the given rows, in the given order.
    pub fn select_rows(&self, indices: &[usize]) -> Matrix {
        let mut data = Vec::with_capacity(indices.len() * self.cols);
        for &i in indices {
            data.extend_from_slice(self.row(i));
        }
        Matrix {
            rows: indices.len(),
            cols: self.cols,
            data,
        }
    }

    /// The first `n` rows (all of them if there are fewer).
    pub fn head(&self, n: usize) -> Matrix {
        let n = n.min(self.rows);
        Matrix {
            rows: n,
            cols: self.cols,
            data: self.data[..n * self.cols].to_vec(),
        }
    }

    pub fn column(&self, j: usize) -> Vec<f64> {
        self.iter_rows().map(|r| r[j]).collect()
    }

    /// True when every value is finite (no NaN or infinity).
    pub fn all_finite(&self) -> bool {
        self.data.iter().all(|v| v.is_finite())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_is_checked() {
        assert!(Matrix::from_vec(2, 3, vec![0.0; 5]).is_err());
        let err = Matrix::from_rows(&[vec![1.0, 2.0], vec![3.0]]).unwrap_err();
        assert_eq!(
            err,
            MatrixError::RaggedRow {
                row: 1,
                expected: 2,
                found: 1
            }
        );
    }

    #[test]
    fn rows_and_selection() {
        let m = Matrix::from_rows(&[vec![1.0, 2.0], vec![3.0, 4.0], vec![5.0, 6.0]]).unwrap();
        assert_eq!(m.row(1), &[3.0, 4.0]);
        assert_eq!(m.select_rows(&[2, 0]).as_slice(), &[5.0, 6.0, 1.0, 2.0]);
        assert_eq!(m.head(1).as_slice(), &[1.0, 2.0]);
        assert_eq!(m.column(1), vec![2.0, 4.0, 6.0]);
        assert_eq!(m.iter_rows().count(), 3);
        assert_eq!(Matrix::zeros(4, 0).iter_rows().count(), 4);
    }
}
