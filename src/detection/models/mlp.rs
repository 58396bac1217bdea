//! Multi-layer perceptron regressor trained with Adam, following
//! `sklearn.neural_network.MLPRegressor(solver="adam")` (scikit-learn 1.9): Glorot-uniform
//! initialisation, squared loss with L2 penalty, backpropagation including scikit-learn's
//! quirks, the Adam update, mini-batching, early stopping on validation R² and the
//! no-improvement stopping rule. Used as an autoencoder (`y = x`) for anomaly scores.
//!
//! Differences from scikit-learn, on purpose: randomness comes from [`DetRng`] (same
//! distributions, different stream, identical natively and in wasm), sums run in a fixed order
//! rather than BLAS's, NaN/inf inputs are rejected, and training can report progress and be
//! cancelled. Only the Adam solver, identity output and squared loss exist; this is not a
//! general neural-network library (no classifier, SGD, L-BFGS, sample weights or
//! `partial_fit`; the only warm start is `fit_from_weights`, used for parity testing).
//!
//! Given the same initial weights and `shuffle = false`, training reproduces scikit-learn's
//! loss curve, stopping epoch and predictions to about 1e-15 (checked by
//! `tests/fidelity/models_vs_sklearn.py`).

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::auto_or_number::AutoOrNumber;
use super::{check_finite, check_input, nullable_floats, nullable_floats_opt, ModelError};
use crate::util::math;
use crate::util::matrix::Matrix;
use crate::util::rng::DetRng;

/// Rows pushed through the network at once by `predict` and friends.
const PREDICT_CHUNK: usize = 256;

/// Hidden-layer activation (the output layer is always the identity).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Activation {
    Identity,
    Logistic,
    Tanh,
    #[default]
    Relu,
}

crate::util::serde_names::serde_by_name!(Activation, "an activation");

impl Activation {
    pub const ALL: [Activation; 4] = [
        Activation::Identity,
        Activation::Logistic,
        Activation::Tanh,
        Activation::Relu,
    ];

    /// scikit-learn's name (also the serde form).
    pub fn as_str(self) -> &'static str {
        match self {
            Activation::Identity => "identity",
            Activation::Logistic => "logistic",
            Activation::Tanh => "tanh",
            Activation::Relu => "relu",
        }
    }

    /// The activation with this scikit-learn name (case-insensitive, surrounding spaces
    /// ignored).
    pub fn parse(name: &str) -> Option<Activation> {
        let name = name.trim();
        Activation::ALL
            .into_iter()
            .find(|a| a.as_str().eq_ignore_ascii_case(name))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Solver {
    #[default]
    Adam,
}

crate::util::serde_names::serde_by_name!(Solver, "a solver");

impl Solver {
    pub const ALL: [Solver; 1] = [Solver::Adam];

    /// The name serde writes.
    pub fn as_str(self) -> &'static str {
        match self {
            Solver::Adam => "adam",
        }
    }
}

/// Mini-batch size: `"auto"` = `min(200, n_samples)`, or a number clipped to `n_samples`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BatchSize {
    #[default]
    Auto,
    Fixed(usize),
}

/// Hyper-parameters; `Default` is scikit-learn's defaults (with `random_state = 0`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MlpParams {
    pub hidden_layer_sizes: Vec<usize>,
    pub activation: Activation,
    pub solver: Solver,
    pub alpha: f64,
    pub batch_size: BatchSize,
    pub learning_rate_init: f64,
    pub max_iter: usize,
    pub shuffle: bool,
    pub random_state: u64,
    pub tol: f64,
    pub early_stopping: bool,
    pub validation_fraction: f64,
    pub beta_1: f64,
    pub beta_2: f64,
    pub epsilon: f64,
    pub n_iter_no_change: usize,
}

impl Default for MlpParams {
    fn default() -> Self {
        MlpParams {
            hidden_layer_sizes: vec![100],
            activation: Activation::Relu,
            solver: Solver::Adam,
            alpha: 1e-4,
            batch_size: BatchSize::Auto,
            learning_rate_init: 1e-3,
            max_iter: 200,
            shuffle: true,
            random_state: 0,
            tol: 1e-4,
            early_stopping: false,
            validation_fraction: 0.1,
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon: 1e-8,
            n_iter_no_change: 10,
        }
    }
}

/// Sent after every epoch of `fit_with_progress` (serde so it can cross the worker boundary;
/// a NaN validation score travels as `null` and comes back as `None`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochReport {
    /// 1-based epoch number (scikit-learn's `n_iter_` after this epoch).
    pub epoch: usize,
    /// Mean training loss over the epoch (the new `loss_curve_` entry).
    pub loss: f64,
    /// Validation R² for this epoch, with early stopping.
    pub validation_score: Option<f64>,
}

/// Why training ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// The loss (or validation score) stopped improving by `tol` for more than
    /// `n_iter_no_change` epochs.
    Converged,
    /// `max_iter` epochs ran (scikit-learn warns `ConvergenceWarning`).
    MaxIter,
    /// The progress callback asked to stop; the model is usable as of the last epoch (or the
    /// best epoch, with early stopping).
    Cancelled,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FitSummary {
    pub n_iter: usize,
    pub stop_reason: StopReason,
    /// Last training loss (`loss_`).
    pub final_loss: f64,
    /// `best_loss_` (without early stopping).
    pub best_loss: Option<f64>,
    /// `best_validation_score_` (with early stopping).
    pub best_validation_score: Option<f64>,
}

/// One dense layer; `weights` is `fan_in × fan_out` row-major, like scikit-learn's `coefs_[i]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Layer {
    fan_in: usize,
    fan_out: usize,
    weights: Vec<f64>,
    biases: Vec<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Fitted {
    n_features_in: usize,
    n_outputs: usize,
    activation: Activation,
    layers: Vec<Layer>,
    #[serde(with = "nullable_floats")]
    loss_curve: Vec<f64>,
    #[serde(default, with = "nullable_floats_opt")]
    validation_scores: Option<Vec<f64>>,
    best_loss: Option<f64>,
    best_validation_score: Option<f64>,
    n_iter: usize,
    stop_reason: StopReason,
}

/// The model: parameters plus, after `fit`, the network and training history. Serialises
/// whole; deserialising checks layer shapes so a corrupt file is an error, not a panic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "UncheckedMlp")]
pub struct MlpRegressor {
    params: MlpParams,
    fitted: Option<Fitted>,
}

#[derive(Deserialize)]
struct UncheckedMlp {
    params: MlpParams,
    #[serde(default)]
    fitted: Option<Fitted>,
}

impl TryFrom<UncheckedMlp> for MlpRegressor {
    type Error = String;

    fn try_from(u: UncheckedMlp) -> Result<Self, String> {
        if let Some(fitted) = &u.fitted {
            fitted
                .check()
                .map_err(|e| format!("{}{e}", super::INCONSISTENT))?;
        }
        Ok(MlpRegressor {
            params: u.params,
            fitted: u.fitted,
        })
    }
}

impl MlpRegressor {
    pub fn new(params: MlpParams) -> MlpRegressor {
        MlpRegressor {
            params,
            fitted: None,
        }
    }

    pub fn params(&self) -> &MlpParams {
        &self.params
    }

    pub fn is_fitted(&self) -> bool {
        self.fitted.is_some()
    }

    pub fn n_features_in(&self) -> Option<usize> {
        self.fitted.as_ref().map(|f| f.n_features_in)
    }

    pub fn n_outputs(&self) -> Option<usize> {
        self.fitted.as_ref().map(|f| f.n_outputs)
    }

    /// Training loss per epoch (`loss_curve_`); empty before `fit`.
    pub fn loss_curve(&self) -> &[f64] {
        self.fitted.as_ref().map_or(&[], |f| &f.loss_curve)
    }

    /// Validation R² per epoch (`validation_scores_`); `None` without early stopping.
    pub fn validation_scores(&self) -> Option<&[f64]> {
        self.fitted
            .as_ref()
            .and_then(|f| f.validation_scores.as_deref())
    }

    /// `best_loss_`: lowest training loss; `None` with early stopping (as scikit-learn) or
    /// before `fit`.
    pub fn best_loss(&self) -> Option<f64> {
        self.fitted.as_ref().and_then(|f| f.best_loss)
    }

    /// `best_validation_score_`; `None` without early stopping.
    pub fn best_validation_score(&self) -> Option<f64> {
        self.fitted.as_ref().and_then(|f| f.best_validation_score)
    }

    /// Epochs run (`n_iter_`); 0 before `fit`.
    pub fn n_iter(&self) -> usize {
        self.fitted.as_ref().map_or(0, |f| f.n_iter)
    }

    /// Whether training stopped on the `tol`/`n_iter_no_change` rule rather than `max_iter`
    /// or cancellation.
    pub fn converged(&self) -> bool {
        self.stop_reason() == Some(StopReason::Converged)
    }

    pub fn stop_reason(&self) -> Option<StopReason> {
        self.fitted.as_ref().map(|f| f.stop_reason)
    }

    /// `coefs_`: one `fan_in × fan_out` matrix per layer.
    pub fn coefs(&self) -> Vec<Matrix> {
        self.fitted.as_ref().map_or_else(Vec::new, |f| {
            f.layers
                .iter()
                .map(|l| Matrix::from_vec(l.fan_in, l.fan_out, l.weights.clone()).unwrap())
                .collect()
        })
    }

    /// `intercepts_`: one bias vector per layer.
    pub fn intercepts(&self) -> Vec<Vec<f64>> {
        self.fitted.as_ref().map_or_else(Vec::new, |f| {
            f.layers.iter().map(|l| l.biases.clone()).collect()
        })
    }

    pub fn fit(&mut self, x: &Matrix, y: &Matrix) -> Result<FitSummary, ModelError> {
        self.fit_with_progress(x, y, &mut |_| true)
    }

    /// Like [`fit`](Self::fit), calling `on_epoch` after each epoch; returning `false` stops
    /// training, leaving a usable model whose `stop_reason` is `Cancelled`. On error the
    /// previously fitted state (if any) is kept.
    pub fn fit_with_progress(
        &mut self,
        x: &Matrix,
        y: &Matrix,
        on_epoch: &mut dyn FnMut(&EpochReport) -> bool,
    ) -> Result<FitSummary, ModelError> {
        self.train(x, y, None, on_epoch)
    }

    /// Like [`fit_with_progress`](Self::fit_with_progress), but training starts from the given
    /// `coefs` (`fan_in × fan_out` per layer) and `intercepts` instead of the Glorot draw, as
    /// scikit-learn does with `warm_start=True` after `coefs_`/`intercepts_` are set by hand.
    /// Shapes must match the parameters and the data. With `shuffle = false` and no early
    /// stopping nothing random remains, which lets the fidelity script compare whole training
    /// trajectories with scikit-learn's.
    pub fn fit_from_weights(
        &mut self,
        x: &Matrix,
        y: &Matrix,
        coefs: &[Matrix],
        intercepts: &[Vec<f64>],
        on_epoch: &mut dyn FnMut(&EpochReport) -> bool,
    ) -> Result<FitSummary, ModelError> {
        let layers: Vec<Layer> = coefs
            .iter()
            .zip(intercepts)
            .map(|(w, b)| Layer {
                fan_in: w.rows(),
                fan_out: w.cols(),
                weights: w.as_slice().to_vec(),
                biases: b.clone(),
            })
            .collect();
        let mut units = vec![x.cols()];
        units.extend_from_slice(&self.params.hidden_layer_sizes);
        units.push(y.cols());
        let shapes_match = coefs.len() == intercepts.len()
            && layers.len() + 1 == units.len()
            && layers
                .iter()
                .zip(units.windows(2))
                .all(|(l, u)| l.fan_in == u[0] && l.fan_out == u[1] && l.biases.len() == u[1]);
        if !shapes_match {
            return Err(ModelError::InvalidParameter {
                name: "initial weights",
                reason: format!("shapes do not match the layer sizes {units:?}"),
            });
        }
        for l in &layers {
            check_finite(&l.weights, l.fan_out.max(1)).map_err(|_| {
                ModelError::InvalidParameter {
                    name: "initial weights",
                    reason: "contain NaN or infinite values".into(),
                }
            })?;
            check_finite(&l.biases, 1).map_err(|_| ModelError::InvalidParameter {
                name: "initial weights",
                reason: "contain NaN or infinite values".into(),
            })?;
        }
        self.train(x, y, Some(layers), on_epoch)
    }

    fn train(
        &mut self,
        x: &Matrix,
        y: &Matrix,
        initial: Option<Vec<Layer>>,
        on_epoch: &mut dyn FnMut(&EpochReport) -> bool,
    ) -> Result<FitSummary, ModelError> {
        check_input(x, None)?;
        if y.rows() != x.rows() {
            return Err(ModelError::RowCountMismatch {
                x_rows: x.rows(),
                y_rows: y.rows(),
            });
        }
        if y.cols() == 0 {
            return Err(ModelError::EmptyInput);
        }
        check_finite(y.as_slice(), y.cols())
            .map_err(|(row, col)| ModelError::NonFiniteTarget { row, col })?;
        validate(&self.params)?;
        let fitted = Trainer::new(&self.params, x, y, initial)?.run(on_epoch)?;
        let summary = FitSummary {
            n_iter: fitted.n_iter,
            stop_reason: fitted.stop_reason,
            final_loss: fitted.loss_curve.last().copied().unwrap_or(f64::NAN),
            best_loss: fitted.best_loss,
            best_validation_score: fitted.best_validation_score,
        };
        self.fitted = Some(fitted);
        Ok(summary)
    }

    /// The network's outputs, `x.rows() × n_outputs`.
    pub fn predict(&self, x: &Matrix) -> Result<Matrix, ModelError> {
        let fitted = self.fitted.as_ref().ok_or(ModelError::NotFitted)?;
        check_input(x, Some(fitted.n_features_in))?;
        let mut out = Matrix::zeros(x.rows(), fitted.n_outputs);
        let width = fitted.n_outputs;
        fitted.for_each_chunk(x, |start, rows, pred| {
            out.as_mut_slice()[start * width..(start + rows) * width].copy_from_slice(pred);
        });
        Ok(out)
    }

    /// Per row, the mean over columns of `(x - reconstruction)²`. Needs an autoencoder
    /// (as many outputs as inputs).
    pub fn reconstruction_errors(&self, x: &Matrix) -> Result<Vec<f64>, ModelError> {
        let fitted = self.autoencoder()?;
        check_input(x, Some(fitted.n_features_in))?;
        let width = x.cols();
        let mut errors = Vec::with_capacity(x.rows());
        fitted.for_each_chunk(x, |start, rows, pred| {
            for r in 0..rows {
                let input = x.row(start + r);
                let recon = &pred[r * width..(r + 1) * width];
                let sum: f64 = input
                    .iter()
                    .zip(recon)
                    .map(|(a, b)| (a - b) * (a - b))
                    .sum();
                errors.push(sum / width as f64);
            }
        });
        Ok(errors)
    }

    /// `(x_j - reconstruction_j)²` for each column of one row (explanations).
    pub fn per_feature_squared_errors(&self, row: &[f64]) -> Result<Vec<f64>, ModelError> {
        let fitted = self.autoencoder()?;
        if row.len() != fitted.n_features_in {
            return Err(ModelError::FeatureCountMismatch {
                expected: fitted.n_features_in,
                found: row.len(),
            });
        }
        check_finite(row, row.len())
            .map_err(|(_, col)| ModelError::NonFiniteInput { row: 0, col })?;
        let x = Matrix::from_vec(1, row.len(), row.to_vec()).expect("width checked");
        let mut errors = Vec::with_capacity(row.len());
        fitted.for_each_chunk(&x, |_, _, pred| {
            errors.extend(row.iter().zip(pred).map(|(a, b)| (a - b) * (a - b)));
        });
        Ok(errors)
    }

    fn autoencoder(&self) -> Result<&Fitted, ModelError> {
        let fitted = self.fitted.as_ref().ok_or(ModelError::NotFitted)?;
        if fitted.n_outputs != fitted.n_features_in {
            return Err(ModelError::NotAutoencoder {
                n_inputs: fitted.n_features_in,
                n_outputs: fitted.n_outputs,
            });
        }
        Ok(fitted)
    }
}

impl Fitted {
    /// Layer shapes chain from `n_features_in` to `n_outputs` and every weight is finite.
    fn check(&self) -> Result<(), String> {
        let mut width = self.n_features_in;
        for (i, l) in self.layers.iter().enumerate() {
            if l.fan_in != width
                || l.fan_out == 0
                || l.fan_in.checked_mul(l.fan_out) != Some(l.weights.len())
                || l.biases.len() != l.fan_out
            {
                return Err(format!("layer {i} has inconsistent shapes"));
            }
            if !l.weights.iter().chain(&l.biases).all(|v| v.is_finite()) {
                return Err(format!("layer {i} has non-finite weights"));
            }
            width = l.fan_out;
        }
        if self.layers.is_empty() || width != self.n_outputs || self.n_features_in == 0 {
            return Err("layers do not map the inputs to the outputs".into());
        }
        Ok(())
    }

    /// Runs `x` through the network `PREDICT_CHUNK` rows at a time, handing each chunk's
    /// outputs (row-major) to `sink(first_row, rows, outputs)`.
    fn for_each_chunk(&self, x: &Matrix, sink: impl FnMut(usize, usize, &[f64])) {
        let chunk = PREDICT_CHUNK.min(x.rows()).max(1);
        let mut acts = activation_buffers(&self.layers, chunk);
        forward_chunked(&self.layers, self.activation, &mut acts, chunk, x, sink);
    }
}

/// Buffers for every layer boundary (inputs first), each sized for `rows` rows.
fn activation_buffers(layers: &[Layer], rows: usize) -> Vec<Vec<f64>> {
    let mut buffers = vec![vec![0.0; rows * layers[0].fan_in]];
    buffers.extend(layers.iter().map(|l| vec![0.0; rows * l.fan_out]));
    buffers
}

/// Forward pass over the first `rows` rows of `acts[0]`, filling every later buffer
/// (hidden activations, then the identity output).
fn forward(layers: &[Layer], activation: Activation, acts: &mut [Vec<f64>], rows: usize) {
    let last = layers.len() - 1;
    for (i, layer) in layers.iter().enumerate() {
        let (before, after) = acts.split_at_mut(i + 1);
        let input = &before[i][..rows * layer.fan_in];
        let output = &mut after[0][..rows * layer.fan_out];
        dense(input, layer, output);
        if i != last {
            activate(activation, output);
        }
    }
}

/// `output = input · W + b`, row by row.
fn dense(input: &[f64], layer: &Layer, output: &mut [f64]) {
    let (fan_in, fan_out) = (layer.fan_in, layer.fan_out);
    let mut inputs = input.chunks_exact(2 * fan_in);
    let mut outputs = output.chunks_exact_mut(2 * fan_out);
    for (x, out) in (&mut inputs).zip(&mut outputs) {
        let (x0, x1) = x.split_at(fan_in);
        let (o0, o1) = out.split_at_mut(fan_out);
        combine_rows_pair(
            o0,
            o1,
            x0.iter().copied(),
            x1.iter().copied(),
            &layer.weights,
            fan_out,
        );
    }
    let (x, out) = (inputs.remainder(), outputs.into_remainder());
    if !x.is_empty() {
        combine_rows(out, x.iter().copied(), &layer.weights, fan_out);
    }
    for out in output.chunks_exact_mut(fan_out) {
        for (o, &b) in out.iter_mut().zip(&layer.biases) {
            *o += b;
        }
    }
}

// The training and prediction hot loops. `combine_rows` computes
// `out[j] = Σ_t c_t · matrix[t · stride + j]` for every `j < out.len() <= stride`, summing over
// `t` in order from 0.0 (the naive order: results never depend on the blocking and are
// bit-identical on every target, with no reassociation or fused multiply-add). Columns go in
// blocks whose partial sums stay in registers for the whole sum; `combine_rows_pair` does two
// coefficient sequences against the same matrix rows, so each loaded row feeds two
// independent sums and the adds do not wait on each other.

#[inline]
fn combine_rows<I>(out: &mut [f64], coeffs: I, matrix: &[f64], stride: usize)
where
    I: Iterator<Item = f64> + Clone,
{
    let width = out.len();
    let mut j = 0;
    while j + 8 <= width {
        let acc = combine_block::<8, _>(coeffs.clone(), matrix, stride, j);
        out[j..j + 8].copy_from_slice(&acc);
        j += 8;
    }
    if j + 4 <= width {
        let acc = combine_block::<4, _>(coeffs.clone(), matrix, stride, j);
        out[j..j + 4].copy_from_slice(&acc);
        j += 4;
    }
    while j < width {
        let acc = combine_block::<1, _>(coeffs.clone(), matrix, stride, j);
        out[j] = acc[0];
        j += 1;
    }
}

#[inline(always)]
fn combine_block<const B: usize, I: Iterator<Item = f64>>(
    coeffs: I,
    matrix: &[f64],
    stride: usize,
    j: usize,
) -> [f64; B] {
    let mut acc = [0.0f64; B];
    for (c, row) in coeffs.zip(matrix.chunks_exact(stride)) {
        let row: &[f64; B] = row[j..j + B].try_into().expect("block inside the row");
        for b in 0..B {
            acc[b] += c * row[b];
        }
    }
    acc
}

#[inline]
fn combine_rows_pair<I1, I2>(
    out0: &mut [f64],
    out1: &mut [f64],
    coeffs0: I1,
    coeffs1: I2,
    matrix: &[f64],
    stride: usize,
) where
    I1: Iterator<Item = f64> + Clone,
    I2: Iterator<Item = f64> + Clone,
{
    let width = out0.len();
    let mut j = 0;
    while j + 8 <= width {
        let (a0, a1) =
            combine_block_pair::<8, _, _>(coeffs0.clone(), coeffs1.clone(), matrix, stride, j);
        out0[j..j + 8].copy_from_slice(&a0);
        out1[j..j + 8].copy_from_slice(&a1);
        j += 8;
    }
    if j + 4 <= width {
        let (a0, a1) =
            combine_block_pair::<4, _, _>(coeffs0.clone(), coeffs1.clone(), matrix, stride, j);
        out0[j..j + 4].copy_from_slice(&a0);
        out1[j..j + 4].copy_from_slice(&a1);
        j += 4;
    }
    while j < width {
        let (a0, a1) =
            combine_block_pair::<1, _, _>(coeffs0.clone(), coeffs1.clone(), matrix, stride, j);
        out0[j] = a0[0];
        out1[j] = a1[0];
        j += 1;
    }
}

#[inline(always)]
fn combine_block_pair<const B: usize, I1: Iterator<Item = f64>, I2: Iterator<Item = f64>>(
    coeffs0: I1,
    coeffs1: I2,
    matrix: &[f64],
    stride: usize,
    j: usize,
) -> ([f64; B], [f64; B]) {
    let mut acc0 = [0.0f64; B];
    let mut acc1 = [0.0f64; B];
    for ((c0, c1), row) in coeffs0.zip(coeffs1).zip(matrix.chunks_exact(stride)) {
        let row: &[f64; B] = row[j..j + B].try_into().expect("block inside the row");
        for b in 0..B {
            acc0[b] += c0 * row[b];
            acc1[b] += c1 * row[b];
        }
    }
    (acc0, acc1)
}

fn activate(activation: Activation, values: &mut [f64]) {
    match activation {
        Activation::Identity => {}
        Activation::Relu => {
            for v in values {
                // `np.maximum(x, 0)`, NaN passing through as in numpy; a select, not a branch.
                *v = if *v < 0.0 { 0.0 } else { *v };
            }
        }
        Activation::Tanh => {
            for v in values {
                *v = math::tanh(*v);
            }
        }
        Activation::Logistic => {
            for v in values {
                *v = 1.0 / (1.0 + math::exp(-*v));
            }
        }
    }
}

/// Multiplies `delta` by the activation's derivative, expressed through the activation
/// output `z` as scikit-learn's `inplace_*_derivative` do.
fn apply_derivative(activation: Activation, z: &[f64], delta: &mut [f64]) {
    match activation {
        Activation::Identity => {}
        Activation::Relu => {
            // `delta[z == 0] = 0`, as a select: a branch here mispredicts half the time.
            for (d, &a) in delta.iter_mut().zip(z) {
                *d = if a == 0.0 { 0.0 } else { *d };
            }
        }
        Activation::Tanh => {
            for (d, &a) in delta.iter_mut().zip(z) {
                *d *= 1.0 - a * a;
            }
        }
        Activation::Logistic => {
            for (d, &a) in delta.iter_mut().zip(z) {
                *d *= a;
                *d *= 1.0 - a;
            }
        }
    }
}

/// Predicts `x` in chunks of at most `chunk` rows using `acts` as scratch space.
#[inline(never)]
fn forward_chunked(
    layers: &[Layer],
    activation: Activation,
    acts: &mut [Vec<f64>],
    chunk: usize,
    x: &Matrix,
    mut sink: impl FnMut(usize, usize, &[f64]),
) {
    let width = x.cols();
    let n_outputs = layers[layers.len() - 1].fan_out;
    for start in (0..x.rows()).step_by(chunk) {
        let rows = chunk.min(x.rows() - start);
        acts[0][..rows * width]
            .copy_from_slice(&x.as_slice()[start * width..(start + rows) * width]);
        forward(layers, activation, acts, rows);
        sink(start, rows, &acts[layers.len()][..rows * n_outputs]);
    }
}

/// scikit-learn's `r2_score(y, pred)` with `multioutput="uniform_average"` and
/// `force_finite=True`, preceded by `_score_with_function`'s NaN for non-finite predictions.
fn r2_score(y: &Matrix, pred: &[f64]) -> f64 {
    let (n, k) = (y.rows(), y.cols());
    if n < 2 || pred.iter().any(|v| !v.is_finite()) {
        return f64::NAN;
    }
    let mut means = vec![0.0; k];
    for row in y.iter_rows() {
        for (m, &v) in means.iter_mut().zip(row) {
            *m += v;
        }
    }
    for m in &mut means {
        *m /= n as f64;
    }
    let mut numerator = vec![0.0; k];
    let mut denominator = vec![0.0; k];
    for (row, p) in y.iter_rows().zip(pred.chunks_exact(k)) {
        for j in 0..k {
            numerator[j] += (row[j] - p[j]) * (row[j] - p[j]);
            denominator[j] += (row[j] - means[j]) * (row[j] - means[j]);
        }
    }
    let total: f64 = numerator
        .iter()
        .zip(&denominator)
        .map(|(&num, &den)| {
            if num == 0.0 {
                1.0 // perfect, even for a constant target
            } else if den == 0.0 {
                0.0 // constant target, imperfect prediction: 0 instead of -inf
            } else {
                1.0 - num / den
            }
        })
        .sum();
    total / k as f64
}

/// Glorot-uniform initialisation as scikit-learn's `_init_coef`, layer by layer: weights
/// (row-major `fan_in × fan_out`), then biases, all `U(-b, b)` with
/// `b = sqrt(factor / (fan_in + fan_out))`, factor 2 for logistic else 6 (the output layer
/// too).
fn init_layers(units: &[usize], activation: Activation, rng: &mut DetRng) -> Vec<Layer> {
    let factor = if activation == Activation::Logistic {
        2.0
    } else {
        6.0
    };
    units
        .windows(2)
        .map(|w| {
            let (fan_in, fan_out) = (w[0], w[1]);
            let bound = (factor / (fan_in + fan_out) as f64).sqrt();
            let weights = (0..fan_in * fan_out)
                .map(|_| rng.uniform(-bound, bound))
                .collect();
            let biases = (0..fan_out).map(|_| rng.uniform(-bound, bound)).collect();
            Layer {
                fan_in,
                fan_out,
                weights,
                biases,
            }
        })
        .collect()
}

/// Per-fit scratch space, sized once for the largest batch: nothing is allocated per batch.
struct Workspace {
    acts: Vec<Vec<f64>>,
    deltas: Vec<Vec<f64>>,
    targets: Vec<f64>,
    coef_grads: Vec<Vec<f64>>,
    intercept_grads: Vec<Vec<f64>>,
    /// `W_iᵀ` (`fan_out × fan_in`) so backpropagated deltas are axpys too.
    transposed: Vec<Vec<f64>>,
    column_sq: Vec<f64>,
}

impl Workspace {
    fn new(layers: &[Layer], rows: usize) -> Workspace {
        let n_outputs = layers[layers.len() - 1].fan_out;
        let mut ws = Workspace {
            acts: activation_buffers(layers, rows),
            deltas: layers.iter().map(|l| vec![0.0; rows * l.fan_out]).collect(),
            targets: vec![0.0; rows * n_outputs],
            coef_grads: layers.iter().map(|l| vec![0.0; l.weights.len()]).collect(),
            intercept_grads: layers.iter().map(|l| vec![0.0; l.fan_out]).collect(),
            transposed: layers.iter().map(|l| vec![0.0; l.weights.len()]).collect(),
            column_sq: vec![0.0; n_outputs],
        };
        ws.refresh_transposed(layers);
        ws
    }

    fn refresh_transposed(&mut self, layers: &[Layer]) {
        // The first layer's transpose is never used (no delta for the inputs).
        for (layer, t) in layers.iter().zip(&mut self.transposed).skip(1) {
            let (fan_in, fan_out) = (layer.fan_in, layer.fan_out);
            for (k, w) in layer.weights.chunks_exact(fan_out).enumerate() {
                for (j, &v) in w.iter().enumerate() {
                    t[j * fan_in + k] = v;
                }
            }
        }
    }

    /// scikit-learn's `_backprop` on the rows `batch` of `x`/`y`: returns the batch loss and
    /// leaves the gradients in `coef_grads`/`intercept_grads`.
    fn backprop(
        &mut self,
        layers: &[Layer],
        activation: Activation,
        alpha: f64,
        x: &Matrix,
        y: &Matrix,
        batch: &[usize],
    ) -> f64 {
        let rows = batch.len();
        let (n_inputs, n_outputs) = (x.cols(), y.cols());
        for (r, &i) in batch.iter().enumerate() {
            self.acts[0][r * n_inputs..(r + 1) * n_inputs].copy_from_slice(x.row(i));
            self.targets[r * n_outputs..(r + 1) * n_outputs].copy_from_slice(y.row(i));
        }
        forward(layers, activation, &mut self.acts, rows);

        // squared_loss = 0.5 * mean over outputs of the per-output mean squared error.
        let last = layers.len() - 1;
        let output = &self.acts[last + 1][..rows * n_outputs];
        let delta = &mut self.deltas[last][..rows * n_outputs];
        self.column_sq.fill(0.0);
        for ((d, (&p, &t)), j) in delta
            .iter_mut()
            .zip(output.iter().zip(&self.targets))
            .zip((0..n_outputs).cycle())
        {
            // Not divided by n_outputs, exactly as scikit-learn (its loss is, its gradient
            // is not).
            *d = p - t;
            self.column_sq[j] += (t - p) * (t - p);
        }
        let column_means: f64 = self.column_sq.iter().map(|s| s / rows as f64).sum();
        let mut loss = 0.5 * (column_means / n_outputs as f64);
        let penalty: f64 = layers
            .iter()
            .map(|l| l.weights.iter().map(|w| w * w).sum::<f64>())
            .sum();
        loss += (0.5 * alpha) * penalty / rows as f64;

        for i in (0..=last).rev() {
            self.layer_grads(&layers[i], i, alpha, rows);
            if i > 0 {
                self.backpropagate_delta(&layers[i], i, activation, rows);
            }
        }
        loss
    }

    /// `coef_grad = (a_iᵀ δ_i + alpha W_i) / n`, `intercept_grad = Σ δ_i / n`.
    fn layer_grads(&mut self, layer: &Layer, i: usize, alpha: f64, rows: usize) {
        let (fan_in, fan_out) = (layer.fan_in, layer.fan_out);
        let input = &self.acts[i][..rows * fan_in];
        let delta = &self.deltas[i][..rows * fan_out];
        let grad = &mut self.coef_grads[i];
        // Row k of a_iᵀ δ_i is Σ over the batch of a[r, k] · δ[r, :]; two k at a time.
        let column = |k: usize| input[k..].iter().step_by(fan_in).copied();
        let mut k = 0;
        while k + 2 <= fan_in {
            let (g0, g1) = grad[k * fan_out..(k + 2) * fan_out].split_at_mut(fan_out);
            combine_rows_pair(g0, g1, column(k), column(k + 1), delta, fan_out);
            k += 2;
        }
        if k < fan_in {
            combine_rows(&mut grad[k * fan_out..], column(k), delta, fan_out);
        }
        let n = rows as f64;
        for (g, &w) in grad.iter_mut().zip(&layer.weights) {
            *g = (*g + alpha * w) / n;
        }
        let bias_grad = &mut self.intercept_grads[i];
        bias_grad.fill(0.0);
        for d_row in delta.chunks_exact(fan_out) {
            for (b, &d) in bias_grad.iter_mut().zip(d_row) {
                *b += d;
            }
        }
        for b in bias_grad.iter_mut() {
            *b /= n;
        }
    }

    /// `δ_{i-1} = (δ_i · W_iᵀ) ⊙ f'(a_i)`.
    fn backpropagate_delta(
        &mut self,
        layer: &Layer,
        i: usize,
        activation: Activation,
        rows: usize,
    ) {
        let (fan_in, fan_out) = (layer.fan_in, layer.fan_out);
        let (before, after) = self.deltas.split_at_mut(i);
        let delta = &after[0][..rows * fan_out];
        let previous = &mut before[i - 1][..rows * fan_in];
        let transposed = &self.transposed[i];
        let mut deltas = delta.chunks_exact(2 * fan_out);
        let mut outs = previous.chunks_exact_mut(2 * fan_in);
        for (d, out) in (&mut deltas).zip(&mut outs) {
            let (d0, d1) = d.split_at(fan_out);
            let (p0, p1) = out.split_at_mut(fan_in);
            combine_rows_pair(
                p0,
                p1,
                d0.iter().copied(),
                d1.iter().copied(),
                transposed,
                fan_in,
            );
        }
        let (d, out) = (deltas.remainder(), outs.into_remainder());
        if !d.is_empty() {
            combine_rows(out, d.iter().copied(), transposed, fan_in);
        }
        apply_derivative(activation, &self.acts[i][..rows * fan_in], previous);
    }
}

/// scikit-learn's `AdamOptimizer`.
struct Adam {
    t: u64,
    m_weights: Vec<Vec<f64>>,
    v_weights: Vec<Vec<f64>>,
    m_biases: Vec<Vec<f64>>,
    v_biases: Vec<Vec<f64>>,
}

impl Adam {
    fn new(layers: &[Layer]) -> Adam {
        let zeros_w = || layers.iter().map(|l| vec![0.0; l.weights.len()]).collect();
        let zeros_b = || layers.iter().map(|l| vec![0.0; l.biases.len()]).collect();
        Adam {
            t: 0,
            m_weights: zeros_w(),
            v_weights: zeros_w(),
            m_biases: zeros_b(),
            v_biases: zeros_b(),
        }
    }

    fn update(&mut self, p: &MlpParams, layers: &mut [Layer], ws: &Workspace) {
        self.t += 1;
        let t = self.t as f64;
        let lr = p.learning_rate_init * (1.0 - math::pow(p.beta_2, t)).sqrt()
            / (1.0 - math::pow(p.beta_1, t));
        for (i, layer) in layers.iter_mut().enumerate() {
            adam_step(
                p,
                lr,
                &mut layer.weights,
                &ws.coef_grads[i],
                &mut self.m_weights[i],
                &mut self.v_weights[i],
            );
            adam_step(
                p,
                lr,
                &mut layer.biases,
                &ws.intercept_grads[i],
                &mut self.m_biases[i],
                &mut self.v_biases[i],
            );
        }
    }
}

fn adam_step(
    p: &MlpParams,
    lr: f64,
    params: &mut [f64],
    grads: &[f64],
    m: &mut [f64],
    v: &mut [f64],
) {
    let (b1, b2, eps) = (p.beta_1, p.beta_2, p.epsilon);
    for (((w, &g), m), v) in params.iter_mut().zip(grads).zip(m).zip(v) {
        *m = b1 * *m + (1.0 - b1) * g;
        *v = b2 * *v + (1.0 - b2) * (g * g);
        *w += -lr * *m / (v.sqrt() + eps);
    }
}

/// One training run: scikit-learn's `_fit` + `_fit_stochastic`.
struct Trainer<'a> {
    p: &'a MlpParams,
    x: &'a Matrix,
    y: &'a Matrix,
    rng: DetRng,
    layers: Vec<Layer>,
    train_rows: Vec<usize>,
    /// Held-out rows (inputs, targets) with early stopping.
    validation: Option<(Matrix, Matrix)>,
    batch_size: usize,
}

/// One pass over `train_rows` in minibatches (backprop, then an Adam step each); returns the
/// summed batch losses weighted by batch size.
///
/// Out of line on purpose: V8 optimises a wasm function only from its next call on (no
/// on-stack replacement), so the epoch, called `max_iter` times, is the unit that gets the
/// optimised code after the first epoch, while backprop and the update inline into it.
#[inline(never)]
fn train_epoch(
    p: &MlpParams,
    ws: &mut Workspace,
    adam: &mut Adam,
    layers: &mut [Layer],
    (x, y): (&Matrix, &Matrix),
    train_rows: &[usize],
    batch_size: usize,
) -> f64 {
    let mut accumulated = 0.0;
    for batch in train_rows.chunks(batch_size) {
        let batch_loss = ws.backprop(layers, p.activation, p.alpha, x, y, batch);
        accumulated += batch_loss * batch.len() as f64;
        adam.update(p, layers, ws);
        ws.refresh_transposed(layers);
    }
    accumulated
}

impl<'a> Trainer<'a> {
    fn new(
        p: &'a MlpParams,
        x: &'a Matrix,
        y: &'a Matrix,
        initial: Option<Vec<Layer>>,
    ) -> Result<Trainer<'a>, ModelError> {
        let n = x.rows();
        let mut units = vec![x.cols()];
        units.extend_from_slice(&p.hidden_layer_sizes);
        units.push(y.cols());
        // One stream, consumed in scikit-learn's order: weights, validation split, shuffles.
        let mut rng = DetRng::derive(p.random_state, "mlp");
        let layers = match initial {
            Some(layers) => layers,
            None => init_layers(&units, p.activation, &mut rng),
        };

        let (train_rows, validation) = if p.early_stopping {
            // train_test_split(test_size=validation_fraction, shuffle=True).
            let n_val = (p.validation_fraction * n as f64).ceil() as usize;
            if n_val >= n {
                return Err(ModelError::InvalidParameter {
                    name: "validation_fraction",
                    reason: format!("leaves no training rows out of {n}"),
                });
            }
            if n_val < 2 {
                return Err(ModelError::InvalidParameter {
                    name: "validation_fraction",
                    reason: format!(
                        "validation set of {n_val} rows is too small (needs 2); increase \
                         validation_fraction or the data"
                    ),
                });
            }
            let mut order: Vec<usize> = (0..n).collect();
            rng.shuffle(&mut order);
            let val = &order[..n_val];
            let validation = (x.select_rows(val), y.select_rows(val));
            (order[n_val..].to_vec(), Some(validation))
        } else {
            ((0..n).collect(), None)
        };
        let n_train = train_rows.len();
        let batch_size = match p.batch_size {
            BatchSize::Auto => n_train.min(200),
            BatchSize::Fixed(b) => b.clamp(1, n_train),
        };
        Ok(Trainer {
            p,
            x,
            y,
            rng,
            layers,
            train_rows,
            validation,
            batch_size,
        })
    }

    fn run(mut self, on_epoch: &mut dyn FnMut(&EpochReport) -> bool) -> Result<Fitted, ModelError> {
        let p = self.p;
        let mut ws = Workspace::new(&self.layers, self.batch_size);
        let mut adam = Adam::new(&self.layers);
        let n_train = self.train_rows.len();

        let mut loss_curve = Vec::new();
        let mut validation_scores = self.validation.as_ref().map(|_| Vec::new());
        let mut validation_pred = self
            .validation
            .as_ref()
            .map_or_else(Vec::new, |(_, vy)| vec![0.0; vy.rows() * vy.cols()]);
        let mut best_loss = f64::INFINITY;
        let mut best_validation = f64::NEG_INFINITY;
        // scikit-learn snapshots the initial weights as the first "best".
        let mut best_layers = self.validation.as_ref().map(|_| self.layers.clone());
        let mut no_improvement = 0;
        let mut n_iter = 0;
        let mut stop_reason = StopReason::MaxIter;

        for _ in 0..p.max_iter {
            if p.shuffle {
                self.rng.shuffle(&mut self.train_rows);
            }
            let accumulated = train_epoch(
                p,
                &mut ws,
                &mut adam,
                &mut self.layers,
                (self.x, self.y),
                &self.train_rows,
                self.batch_size,
            );
            n_iter += 1;
            let loss = accumulated / n_train as f64;
            loss_curve.push(loss);

            let validation_score = match (&self.validation, &mut validation_scores) {
                (Some((vx, vy)), Some(scores)) => {
                    let width = vy.cols();
                    forward_chunked(
                        &self.layers,
                        p.activation,
                        &mut ws.acts,
                        self.batch_size,
                        vx,
                        |start, rows, pred| {
                            validation_pred[start * width..(start + rows) * width]
                                .copy_from_slice(pred)
                        },
                    );
                    let score = r2_score(vy, &validation_pred);
                    scores.push(score);
                    // NaN compares false both ways, as in scikit-learn.
                    if score < best_validation + p.tol {
                        no_improvement += 1;
                    } else {
                        no_improvement = 0;
                    }
                    if score > best_validation {
                        best_validation = score;
                        best_layers = Some(self.layers.clone());
                    }
                    Some(score)
                }
                _ => {
                    if loss > best_loss - p.tol {
                        no_improvement += 1;
                    } else {
                        no_improvement = 0;
                    }
                    if loss < best_loss {
                        best_loss = loss;
                    }
                    None
                }
            };

            let keep_going = on_epoch(&EpochReport {
                epoch: n_iter,
                loss,
                validation_score,
            });
            if no_improvement > p.n_iter_no_change {
                stop_reason = StopReason::Converged;
                break;
            }
            if !keep_going {
                stop_reason = StopReason::Cancelled;
                break;
            }
        }

        if let Some(best) = best_layers {
            self.layers = best;
        }
        let finite = self
            .layers
            .iter()
            .all(|l| l.weights.iter().chain(&l.biases).all(|v| v.is_finite()));
        if !finite {
            return Err(ModelError::Diverged);
        }
        let early_stopping = self.validation.is_some();
        Ok(Fitted {
            n_features_in: self.x.cols(),
            n_outputs: self.y.cols(),
            activation: p.activation,
            layers: self.layers,
            loss_curve,
            validation_scores,
            best_loss: (!early_stopping && best_loss.is_finite()).then_some(best_loss),
            best_validation_score: (early_stopping && best_validation.is_finite())
                .then_some(best_validation),
            n_iter,
            stop_reason,
        })
    }
}

fn validate(p: &MlpParams) -> Result<(), ModelError> {
    let bad = |name, reason: &str| {
        Err(ModelError::InvalidParameter {
            name,
            reason: reason.to_string(),
        })
    };
    if p.hidden_layer_sizes.contains(&0) {
        return bad("hidden_layer_sizes", "every layer needs at least one unit");
    }
    if !(p.alpha >= 0.0 && p.alpha.is_finite()) {
        return bad("alpha", "must be finite and >= 0");
    }
    if let BatchSize::Fixed(0) = p.batch_size {
        return bad("batch_size", "must be at least 1");
    }
    if !(p.learning_rate_init > 0.0 && p.learning_rate_init.is_finite()) {
        return bad("learning_rate_init", "must be finite and > 0");
    }
    if p.max_iter == 0 {
        return bad("max_iter", "must be at least 1");
    }
    if !(p.tol >= 0.0 && p.tol.is_finite()) {
        return bad("tol", "must be finite and >= 0");
    }
    if !(0.0..1.0).contains(&p.validation_fraction) {
        return bad("validation_fraction", "must be in [0, 1)");
    }
    if !(0.0..1.0).contains(&p.beta_1) {
        return bad("beta_1", "must be in [0, 1)");
    }
    if !(0.0..1.0).contains(&p.beta_2) {
        return bad("beta_2", "must be in [0, 1)");
    }
    if !(p.epsilon > 0.0 && p.epsilon.is_finite()) {
        return bad("epsilon", "must be finite and > 0");
    }
    if p.n_iter_no_change == 0 {
        return bad("n_iter_no_change", "must be at least 1");
    }
    Ok(())
}

// ---- serde: batch_size is "auto" or a number, as scikit-learn's constructor takes it ----

impl Serialize for BatchSize {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match *self {
            BatchSize::Auto => AutoOrNumber::Text("auto".into()),
            BatchSize::Fixed(n) => AutoOrNumber::Count(n as u64),
        }
        .write(s)
    }
}

impl<'de> Deserialize<'de> for BatchSize {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        match AutoOrNumber::read(d)? {
            AutoOrNumber::Text(t) if t == "auto" => Ok(BatchSize::Auto),
            AutoOrNumber::Text(t) => Err(D::Error::custom(format!(
                "batch_size must be \"auto\" or a whole number, got {t:?}"
            ))),
            AutoOrNumber::Share(f) => Err(D::Error::custom(format!(
                "batch_size must be \"auto\" or a whole number, got {f}"
            ))),
            AutoOrNumber::Count(n) => usize::try_from(n)
                .map(BatchSize::Fixed)
                .map_err(|_| D::Error::custom("batch_size too large")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn random_matrix(rows: usize, cols: usize, seed: u64) -> Matrix {
        let mut rng = DetRng::new(seed);
        let data = (0..rows * cols).map(|_| rng.uniform(-1.0, 1.0)).collect();
        Matrix::from_vec(rows, cols, data).unwrap()
    }

    /// Rows on a 2-D plane embedded in 4-D, plus `n_out` off-plane rows at the end.
    fn plane_with_outliers(n: usize, n_out: usize, seed: u64) -> Matrix {
        let mut rng = DetRng::new(seed);
        let mut rows = Vec::new();
        for _ in 0..n {
            let (a, b) = (rng.uniform(-1.0, 1.0), rng.uniform(-1.0, 1.0));
            rows.push(vec![a, b, a + b, a - b]);
        }
        for _ in 0..n_out {
            let (a, b) = (rng.uniform(-1.0, 1.0), rng.uniform(-1.0, 1.0));
            rows.push(vec![a, b, -(a + b) + 1.5, b - a]);
        }
        Matrix::from_rows(&rows).unwrap()
    }

    fn small() -> MlpParams {
        MlpParams {
            hidden_layer_sizes: vec![8],
            max_iter: 30,
            ..Default::default()
        }
    }

    #[test]
    fn defaults_match_scikit_learn_and_serde_is_friendly() {
        let p = MlpParams::default();
        assert_eq!(p.hidden_layer_sizes, vec![100]);
        assert_eq!(p.activation, Activation::Relu);
        assert_eq!((p.alpha, p.learning_rate_init, p.tol), (1e-4, 1e-3, 1e-4));
        assert_eq!((p.max_iter, p.n_iter_no_change), (200, 10));
        assert_eq!((p.beta_1, p.beta_2, p.epsilon), (0.9, 0.999, 1e-8));
        assert!(p.shuffle && !p.early_stopping);

        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(json["activation"], "relu");
        assert_eq!(json["solver"], "adam");
        assert_eq!(json["batch_size"], "auto");
        assert_eq!(serde_json::from_value::<MlpParams>(json).unwrap(), p);

        let partial: MlpParams = serde_json::from_str(
            r#"{"hidden_layer_sizes": [16, 4, 16], "activation": "tanh", "batch_size": 64}"#,
        )
        .unwrap();
        assert_eq!(partial.hidden_layer_sizes, vec![16, 4, 16]);
        assert_eq!(partial.activation, Activation::Tanh);
        assert_eq!(partial.batch_size, BatchSize::Fixed(64));
        assert_eq!(partial.max_iter, 200);
        let back = serde_json::to_string(&partial).unwrap();
        assert_eq!(serde_json::from_str::<MlpParams>(&back).unwrap(), partial);
        assert!(serde_json::from_str::<MlpParams>(r#"{"batch_size": "big"}"#).is_err());
        assert!(serde_json::from_str::<MlpParams>(r#"{"batch_size": 64.5}"#).is_err());
        assert!(serde_json::from_str::<MlpParams>(r#"{"activation": "softmax"}"#).is_err());
        for a in Activation::ALL {
            assert_eq!(Activation::parse(a.as_str()), Some(a));
            assert_eq!(serde_json::to_value(a).unwrap(), a.as_str());
        }
        assert_eq!(Activation::parse(" TanH "), Some(Activation::Tanh));
        assert_eq!(Activation::parse("softmax"), None);
    }

    #[test]
    fn errors_instead_of_panics() {
        let mut m = MlpRegressor::new(small());
        let x = random_matrix(20, 3, 1);
        assert_eq!(m.predict(&x), Err(ModelError::NotFitted));
        assert_eq!(m.reconstruction_errors(&x), Err(ModelError::NotFitted));
        assert_eq!(m.loss_curve(), &[] as &[f64]);
        assert_eq!(m.fit(&Matrix::zeros(0, 3), &x), Err(ModelError::EmptyInput));
        assert_eq!(
            m.fit(&x, &random_matrix(19, 3, 2)),
            Err(ModelError::RowCountMismatch {
                x_rows: 20,
                y_rows: 19
            })
        );
        let mut bad = x.clone();
        bad.set(3, 1, f64::NAN);
        assert_eq!(
            m.fit(&bad, &x),
            Err(ModelError::NonFiniteInput { row: 3, col: 1 })
        );
        assert_eq!(
            m.fit(&x, &bad),
            Err(ModelError::NonFiniteTarget { row: 3, col: 1 })
        );
        let mut zero_units = MlpRegressor::new(MlpParams {
            hidden_layer_sizes: vec![4, 0],
            ..Default::default()
        });
        assert!(matches!(
            zero_units.fit(&x, &x),
            Err(ModelError::InvalidParameter {
                name: "hidden_layer_sizes",
                ..
            })
        ));
        // Early stopping on 10 rows holds out ceil(0.1 * 10) = 1 row: too few for R².
        let mut tiny = MlpRegressor::new(MlpParams {
            early_stopping: true,
            ..small()
        });
        assert!(matches!(
            tiny.fit(&x.head(10), &x.head(10)),
            Err(ModelError::InvalidParameter {
                name: "validation_fraction",
                ..
            })
        ));

        m.fit(&x, &x).unwrap();
        assert_eq!(
            m.predict(&random_matrix(2, 4, 3)),
            Err(ModelError::FeatureCountMismatch {
                expected: 3,
                found: 4
            })
        );
        assert_eq!(
            m.per_feature_squared_errors(&[0.0, f64::INFINITY, 0.0]),
            Err(ModelError::NonFiniteInput { row: 0, col: 1 })
        );
        let y1 = Matrix::from_vec(20, 1, x.column(0)).unwrap();
        m.fit(&x, &y1).unwrap();
        assert_eq!(
            m.reconstruction_errors(&x),
            Err(ModelError::NotAutoencoder {
                n_inputs: 3,
                n_outputs: 1
            })
        );
    }

    /// Loss whose exact gradient scikit-learn's backprop computes: its output delta `ŷ - y`
    /// is not divided by `n_outputs`, so the data term is summed (not averaged) over outputs.
    fn sklearn_gradient_objective(
        layers: &[Layer],
        activation: Activation,
        alpha: f64,
        x: &Matrix,
        y: &Matrix,
    ) -> f64 {
        let mut acts = activation_buffers(layers, x.rows());
        acts[0].copy_from_slice(x.as_slice());
        forward(layers, activation, &mut acts, x.rows());
        let out = &acts[layers.len()];
        let sq: f64 = out
            .iter()
            .zip(y.as_slice())
            .map(|(p, t)| (p - t) * (p - t))
            .sum();
        let penalty: f64 = layers.iter().flat_map(|l| &l.weights).map(|w| w * w).sum();
        (0.5 * sq + 0.5 * alpha * penalty) / x.rows() as f64
    }

    #[test]
    fn backprop_matches_finite_differences() {
        let x = random_matrix(7, 3, 4);
        let y = random_matrix(7, 2, 5);
        let alpha = 0.3;
        for activation in [
            Activation::Identity,
            Activation::Logistic,
            Activation::Tanh,
            Activation::Relu,
        ] {
            let mut rng = DetRng::new(6);
            let mut layers = init_layers(&[3, 5, 4, 2], activation, &mut rng);
            let mut ws = Workspace::new(&layers, 7);
            let batch: Vec<usize> = (0..7).collect();
            let loss = ws.backprop(&layers, activation, alpha, &x, &y, &batch);

            // Reported loss: 0.5 * mean squared error over samples and outputs + penalty.
            let objective = sklearn_gradient_objective(&layers, activation, alpha, &x, &y);
            let penalty: f64 = layers.iter().flat_map(|l| &l.weights).map(|w| w * w).sum();
            let data_term = objective - 0.5 * alpha * penalty / 7.0;
            let expected_loss = data_term / 2.0 + 0.5 * alpha * penalty / 7.0;
            assert!((loss - expected_loss).abs() < 1e-12, "{activation:?}");

            let h = 1e-6;
            for i in 0..layers.len() {
                for k in 0..layers[i].weights.len() {
                    let orig = layers[i].weights[k];
                    layers[i].weights[k] = orig + h;
                    let up = sklearn_gradient_objective(&layers, activation, alpha, &x, &y);
                    layers[i].weights[k] = orig - h;
                    let down = sklearn_gradient_objective(&layers, activation, alpha, &x, &y);
                    layers[i].weights[k] = orig;
                    let numeric = (up - down) / (2.0 * h);
                    let analytic = ws.coef_grads[i][k];
                    assert!(
                        (numeric - analytic).abs() < 1e-6 * (1.0 + numeric.abs()),
                        "{activation:?} layer {i} weight {k}: {numeric} vs {analytic}"
                    );
                }
                for k in 0..layers[i].biases.len() {
                    let orig = layers[i].biases[k];
                    layers[i].biases[k] = orig + h;
                    let up = sklearn_gradient_objective(&layers, activation, alpha, &x, &y);
                    layers[i].biases[k] = orig - h;
                    let down = sklearn_gradient_objective(&layers, activation, alpha, &x, &y);
                    layers[i].biases[k] = orig;
                    let numeric = (up - down) / (2.0 * h);
                    let analytic = ws.intercept_grads[i][k];
                    assert!(
                        (numeric - analytic).abs() < 1e-6 * (1.0 + numeric.abs()),
                        "{activation:?} layer {i} bias {k}: {numeric} vs {analytic}"
                    );
                }
            }
        }
    }

    #[test]
    fn glorot_bounds_per_layer() {
        for (activation, factor) in [(Activation::Relu, 6.0), (Activation::Logistic, 2.0)] {
            let layers = init_layers(&[20, 32, 8, 20], activation, &mut DetRng::new(7));
            assert_eq!(layers.len(), 3);
            for l in &layers {
                let bound = (factor / (l.fan_in + l.fan_out) as f64).sqrt();
                assert_eq!(l.weights.len(), l.fan_in * l.fan_out);
                let all: Vec<f64> = l.weights.iter().chain(&l.biases).copied().collect();
                assert!(all.iter().all(|v| v.abs() <= bound));
                // Uniform over the whole interval, not a narrower one.
                let max = all.iter().fold(0.0f64, |m, v| m.max(v.abs()));
                assert!(max > 0.8 * bound);
            }
        }
    }

    #[test]
    fn first_adam_step_moves_each_weight_by_about_the_learning_rate() {
        let p = MlpParams::default();
        let mut layers = init_layers(&[2, 1], Activation::Identity, &mut DetRng::new(8));
        let before = layers[0].weights.clone();
        let bias_before = layers[0].biases[0];
        let mut ws = Workspace::new(&layers, 1);
        ws.coef_grads[0] = vec![0.5, -3.0];
        ws.intercept_grads[0] = vec![0.0];
        let mut adam = Adam::new(&layers);
        adam.update(&p, &mut layers, &ws);
        // t = 1: m = 0.1 g, v = 0.001 g², lr_t = lr sqrt(0.001) / 0.1, so the step is
        // -lr * g / (|g| + eps / sqrt(0.001)) ≈ -lr * sign(g).
        let step: Vec<f64> = layers[0]
            .weights
            .iter()
            .zip(&before)
            .map(|(a, b)| a - b)
            .collect();
        assert!((step[0] + 1e-3).abs() < 1e-9, "{step:?}");
        assert!((step[1] - 1e-3).abs() < 1e-9, "{step:?}");
        assert_eq!(layers[0].biases[0], bias_before); // zero gradient: no move, no NaN
        assert_eq!(adam.t, 1);
    }

    #[test]
    fn r2_score_hand_values() {
        let y = Matrix::from_vec(4, 1, vec![3.0, -0.5, 2.0, 7.0]).unwrap();
        // 1 - 1.5 / 29.1875 (the example in scikit-learn's docs).
        assert!((r2_score(&y, &[2.5, 0.0, 2.0, 8.0]) - (1.0 - 1.5 / 29.1875)).abs() < 1e-15);
        assert_eq!(r2_score(&y, &[3.0, -0.5, 2.0, 7.0]), 1.0);
        assert_eq!(r2_score(&y, &[2.875; 4]), 0.0);
        // Two outputs: a constant column predicted imperfectly scores 0, averaged with 1.
        let y2 = Matrix::from_rows(&[vec![1.0, 5.0], vec![2.0, 5.0]]).unwrap();
        assert_eq!(r2_score(&y2, &[1.0, 5.0, 2.0, 4.0]), 0.5);
        assert!(r2_score(&y2, &[1.0, f64::NAN, 2.0, 4.0]).is_nan());
    }

    #[test]
    fn learns_a_linear_map() {
        let x = random_matrix(400, 2, 9);
        let y_data: Vec<f64> = x.iter_rows().map(|r| 2.0 * r[0] - r[1] + 0.5).collect();
        let y = Matrix::from_vec(400, 1, y_data).unwrap();
        let mut m = MlpRegressor::new(MlpParams {
            hidden_layer_sizes: vec![],
            activation: Activation::Identity,
            learning_rate_init: 0.05,
            max_iter: 200,
            ..Default::default()
        });
        let summary = m.fit(&x, &y).unwrap();
        assert_eq!(summary.n_iter, m.loss_curve().len());
        let curve = m.loss_curve();
        assert!(curve[curve.len() - 1] < 0.01 * curve[0]);
        assert_eq!(
            m.best_loss(),
            Some(curve.iter().cloned().fold(f64::INFINITY, f64::min))
        );
        let w = &m.coefs()[0];
        assert!((w.get(0, 0) - 2.0).abs() < 0.05 && (w.get(1, 0) + 1.0).abs() < 0.05);
        assert!((m.intercepts()[0][0] - 0.5).abs() < 0.05);
    }

    #[test]
    fn stopping_rules_count_epochs_like_scikit_learn() {
        let x = random_matrix(60, 3, 10);
        // A tolerance no epoch can beat: the first epoch sets the best loss, every later one
        // counts, and training stops once the count exceeds n_iter_no_change (= 10 + 2 epochs).
        for early_stopping in [false, true] {
            let mut m = MlpRegressor::new(MlpParams {
                tol: 1e6,
                max_iter: 100,
                early_stopping,
                ..small()
            });
            let summary = m.fit(&x, &x).unwrap();
            assert_eq!(summary.n_iter, 12, "early_stopping={early_stopping}");
            assert_eq!(summary.stop_reason, StopReason::Converged);
            assert!(m.converged());
            assert_eq!(m.loss_curve().len(), 12);
            if early_stopping {
                let scores = m.validation_scores().unwrap();
                assert_eq!(scores.len(), 12);
                let best = scores.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                assert_eq!(m.best_validation_score(), Some(best));
                assert_eq!(m.best_loss(), None);
            } else {
                assert!(m.validation_scores().is_none());
                assert!(m.best_loss().is_some());
            }
        }
        let mut m = MlpRegressor::new(MlpParams {
            max_iter: 3,
            ..small()
        });
        let summary = m.fit(&x, &x).unwrap();
        assert_eq!(
            (summary.n_iter, summary.stop_reason),
            (3, StopReason::MaxIter)
        );
        assert!(!m.converged());
    }

    #[test]
    fn early_stopping_restores_the_best_epoch() {
        let x = plane_with_outliers(300, 0, 11);
        let params = MlpParams {
            early_stopping: true,
            max_iter: 15,
            tol: 0.0,
            learning_rate_init: 0.01,
            ..small()
        };
        let mut m = MlpRegressor::new(params.clone());
        m.fit(&x, &x).unwrap();
        let scores = m.validation_scores().unwrap().to_vec();
        let best_epoch = 1
            + (0..scores.len())
                .max_by(|&a, &b| scores[a].total_cmp(&scores[b]))
                .unwrap();
        // Training only up to the best epoch gives the same weights.
        let mut m2 = MlpRegressor::new(MlpParams {
            max_iter: best_epoch,
            ..params
        });
        m2.fit(&x, &x).unwrap();
        assert_eq!(m.coefs(), m2.coefs());
        assert_eq!(m.intercepts(), m2.intercepts());
    }

    #[test]
    fn fit_from_weights_with_the_glorot_draw_equals_fit() {
        let x = random_matrix(30, 3, 19);
        let params = MlpParams {
            shuffle: false,
            max_iter: 6,
            ..small()
        };
        let mut plain = MlpRegressor::new(params.clone());
        plain.fit(&x, &x).unwrap();
        // Without shuffling or early stopping the random stream only draws the weights.
        let layers = init_layers(&[3, 8, 3], params.activation, &mut DetRng::derive(0, "mlp"));
        let coefs: Vec<Matrix> = layers
            .iter()
            .map(|l| Matrix::from_vec(l.fan_in, l.fan_out, l.weights.clone()).unwrap())
            .collect();
        let intercepts: Vec<Vec<f64>> = layers.iter().map(|l| l.biases.clone()).collect();
        let mut warm = MlpRegressor::new(params);
        warm.fit_from_weights(&x, &x, &coefs, &intercepts, &mut |_| true)
            .unwrap();
        assert_eq!(warm, plain);

        let bad = vec![Matrix::zeros(2, 2)];
        assert!(matches!(
            warm.fit_from_weights(&x, &x, &bad, &[vec![0.0; 2]], &mut |_| true),
            Err(ModelError::InvalidParameter {
                name: "initial weights",
                ..
            })
        ));
    }

    #[test]
    fn progress_reports_every_epoch_and_can_cancel() {
        let x = random_matrix(50, 3, 12);
        let mut m = MlpRegressor::new(small());
        let mut seen = Vec::new();
        let summary = m
            .fit_with_progress(&x, &x, &mut |r| {
                seen.push(r.clone());
                r.epoch < 2
            })
            .unwrap();
        assert_eq!(summary.stop_reason, StopReason::Cancelled);
        assert_eq!(summary.n_iter, 2);
        assert_eq!(seen.len(), 2);
        assert_eq!((seen[0].epoch, seen[1].epoch), (1, 2));
        assert_eq!(seen[1].loss, m.loss_curve()[1]);
        assert!(seen.iter().all(|r| r.validation_score.is_none()));
        assert!(!m.converged());
        assert_eq!(m.predict(&x).unwrap().rows(), 50);
    }

    #[test]
    fn same_seed_same_bits_different_seed_differs() {
        let x = random_matrix(80, 4, 13);
        let run = |seed| {
            let mut m = MlpRegressor::new(MlpParams {
                random_state: seed,
                max_iter: 5,
                ..small()
            });
            m.fit(&x, &x).unwrap();
            (m.loss_curve().to_vec(), m.predict(&x).unwrap())
        };
        assert_eq!(run(1), run(1));
        assert_ne!(run(1).0, run(2).0);
    }

    #[test]
    fn autoencoder_flags_off_manifold_rows() {
        let x = plane_with_outliers(500, 10, 14);
        let mut m = MlpRegressor::new(MlpParams {
            hidden_layer_sizes: vec![8, 2, 8],
            activation: Activation::Tanh,
            max_iter: 150,
            learning_rate_init: 0.01,
            ..Default::default()
        });
        m.fit(&x, &x).unwrap();
        let errors = m.reconstruction_errors(&x).unwrap();
        let inlier_max = errors[..500].iter().cloned().fold(0.0, f64::max);
        let median_outlier = {
            let mut e = errors[500..].to_vec();
            e.sort_by(f64::total_cmp);
            e[5]
        };
        assert!(
            median_outlier > inlier_max,
            "{median_outlier} vs {inlier_max}"
        );

        // The helpers agree with each other and with predict.
        let pred = m.predict(&x).unwrap();
        for i in [0, 499, 505] {
            let per = m.per_feature_squared_errors(x.row(i)).unwrap();
            let by_hand: Vec<f64> = x
                .row(i)
                .iter()
                .zip(pred.row(i))
                .map(|(a, b)| (a - b) * (a - b))
                .collect();
            assert_eq!(per, by_hand);
            assert_eq!(errors[i], per.iter().sum::<f64>() / 4.0);
        }
    }

    #[test]
    fn chunked_prediction_matches_row_by_row() {
        let x = random_matrix(PREDICT_CHUNK * 2 + 37, 3, 15);
        let mut m = MlpRegressor::new(MlpParams {
            max_iter: 2,
            ..small()
        });
        m.fit(&x, &x).unwrap();
        let all = m.predict(&x).unwrap();
        for i in [0, PREDICT_CHUNK - 1, PREDICT_CHUNK, x.rows() - 1] {
            let one = m.predict(&x.select_rows(&[i])).unwrap();
            assert_eq!(one.row(0), all.row(i));
        }
    }

    #[test]
    fn degenerate_data_trains_to_finite_outputs() {
        // One row, a constant column, a batch size larger than the data.
        let one = Matrix::from_rows(&[vec![1.0, 3.0, -2.0]]).unwrap();
        let mut m = MlpRegressor::new(MlpParams {
            batch_size: BatchSize::Fixed(500),
            ..small()
        });
        m.fit(&one, &one).unwrap();
        assert!(m.predict(&one).unwrap().all_finite());
        let mut constant = random_matrix(40, 3, 16);
        for i in 0..40 {
            constant.set(i, 2, 7.0);
        }
        for activation in [Activation::Logistic, Activation::Identity] {
            let mut m = MlpRegressor::new(MlpParams {
                activation,
                early_stopping: true,
                ..small()
            });
            m.fit(&constant, &constant).unwrap();
            assert!(m
                .reconstruction_errors(&constant)
                .unwrap()
                .iter()
                .all(|e| e.is_finite()));
            assert!(m.validation_scores().unwrap().iter().all(|s| s.is_finite()));
        }
    }

    #[test]
    fn tiny_values_train_finitely_and_non_finite_inputs_are_typed_errors() {
        // Values around 1e-300 (subnormal territory after a few products): the model learns
        // "predict about zero", with finite weights and errors, no NaN.
        let tiny = Matrix::from_vec(
            30,
            3,
            random_matrix(30, 3, 19)
                .as_slice()
                .iter()
                .map(|v| v * 1e-300)
                .collect(),
        )
        .unwrap();
        let mut m = MlpRegressor::new(small());
        m.fit(&tiny, &tiny).unwrap();
        assert!(m.coefs().iter().all(|c| c.all_finite()));
        let errors = m.reconstruction_errors(&tiny).unwrap();
        assert!(errors.iter().all(|e| e.is_finite() && *e >= 0.0));
        // Every entry point names the first bad cell instead of returning NaN.
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let mut x = random_matrix(4, 3, 20);
            x.set(2, 0, bad);
            let want = Err(ModelError::NonFiniteInput { row: 2, col: 0 });
            assert_eq!(m.predict(&x).map(|_| ()), want);
            assert_eq!(m.reconstruction_errors(&x).map(|_| ()), want);
        }
    }

    #[test]
    fn divergence_is_an_error_and_keeps_the_previous_model() {
        let x = random_matrix(30, 2, 17);
        let mut m = MlpRegressor::new(small());
        m.fit(&x, &x).unwrap();
        let before = m.clone();
        let huge =
            Matrix::from_vec(30, 2, x.as_slice().iter().map(|v| v * 1e300).collect()).unwrap();
        assert_eq!(m.fit(&huge, &huge), Err(ModelError::Diverged));
        assert_eq!(m, before);
    }

    #[test]
    fn fitted_model_round_trips_through_json() {
        let x = random_matrix(40, 3, 18);
        let mut m = MlpRegressor::new(MlpParams {
            early_stopping: true,
            ..small()
        });
        m.fit(&x, &x).unwrap();
        let text = serde_json::to_string(&m).unwrap();
        let back: MlpRegressor = serde_json::from_str(&text).unwrap();
        // Bit-exact thanks to serde_json's `float_roundtrip` feature.
        assert_eq!(back, m);
        assert_eq!(back.predict(&x).unwrap(), m.predict(&x).unwrap());

        let mut corrupt: serde_json::Value = serde_json::from_str(&text).unwrap();
        corrupt["fitted"]["layers"][0]["weights"]
            .as_array_mut()
            .unwrap()
            .pop();
        assert!(serde_json::from_value::<MlpRegressor>(corrupt).is_err());

        // Progress reports cross the worker boundary as JSON.
        let report = EpochReport {
            epoch: 3,
            loss: 0.25,
            validation_score: Some(0.5),
        };
        let text = serde_json::to_string(&report).unwrap();
        assert_eq!(serde_json::from_str::<EpochReport>(&text).unwrap(), report);
    }
}
