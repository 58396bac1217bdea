//! Benchmark cases shared by the native and the in-browser runner (`src/bin/bench.rs`), so
//! both time exactly the same code on exactly the same data.
//!
//! Each case builds its input deterministically (outside the timed part), runs the work
//! `repeats` times and keeps the fastest, and returns a checksum of the output bits: equal
//! checksums natively and in wasm prove the two targets computed bit-identical results. The
//! clock is passed in because `std::time::Instant` does not exist in the browser. Not a
//! statistics framework: no warm-up heuristics or confidence intervals.

use serde::Serialize;

use crate::detection::models::{
    BatchSize, IsolationForest, IsolationForestParams, MlpParams, MlpRegressor, ModelError,
};
use crate::traffic::generator::{self, GeneratorConfig};
use crate::util::math;
use crate::util::matrix::Matrix;
use crate::util::rng::DetRng;

/// The cases `run` knows. `scripts/bench` runs the first three (in this order);
/// `iforest_explain_10k` (no scikit-learn counterpart) is run by hand: `bench run NAME`.
pub const CASES: [&str; 4] = [
    "iforest_fit_score_100k_20",
    "mlp_epoch_100k_20",
    "generate",
    "iforest_explain_10k",
];

/// Rows explained by `iforest_explain_10k` (the report's anomaly cap is of this order).
pub const EXPLAIN_ROWS: usize = 10_000;

/// Rows and columns of the model benchmarks' data.
pub const DATA_ROWS: usize = 100_000;
pub const DATA_COLS: usize = 20;
/// Seed of the model benchmarks' data (the models use their own default seeds).
pub const DATA_SEED: u64 = 20_261_124;
/// Flows the `generate` case aims for.
pub const GENERATE_TARGET_FLOWS: f64 = 1_000_000.0;

/// The autoencoder timed by `mlp_epoch_100k_20`: the detector's default shape, one Adam
/// epoch, scikit-learn's mini-batch of 200.
pub fn mlp_epoch_params() -> MlpParams {
    MlpParams {
        hidden_layer_sizes: vec![12, 6, 12],
        batch_size: BatchSize::Fixed(200),
        max_iter: 1,
        ..MlpParams::default()
    }
}

/// One timed case.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Measurement {
    pub name: String,
    /// Fastest of the repeats, in milliseconds.
    pub ms: f64,
    /// FNV-1a over the bits of the output (scores, weights or flow timestamps).
    pub checksum: String,
    /// Flows produced (`generate` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flows: Option<usize>,
    /// `size_of::<FlowRecord>()` (`generate` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes_per_flow: Option<usize>,
}

/// Why a case could not run.
#[derive(Debug, Clone, PartialEq)]
pub enum BenchError {
    UnknownCase(String),
    Model(ModelError),
    Generator(String),
}

impl std::fmt::Display for BenchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BenchError::UnknownCase(name) => {
                write!(f, "unknown benchmark {name:?}; known: {}", CASES.join(", "))
            }
            BenchError::Model(e) => write!(f, "model error: {e}"),
            BenchError::Generator(e) => write!(f, "generator error: {e}"),
        }
    }
}

impl std::error::Error for BenchError {}

impl From<ModelError> for BenchError {
    fn from(e: ModelError) -> Self {
        BenchError::Model(e)
    }
}

/// `rows × cols` standard-normal-ish data: four Gaussian blobs with different centres and
/// spreads per column, plus 1 % uniform far-away outliers. Same bits on every target.
pub fn data(rows: usize, cols: usize, seed: u64) -> Matrix {
    let mut rng = DetRng::new(seed);
    let centres: Vec<f64> = (0..4 * cols).map(|_| rng.uniform(-3.0, 3.0)).collect();
    let spreads: Vec<f64> = (0..4 * cols).map(|_| rng.uniform(0.3, 1.5)).collect();
    let mut values = Vec::with_capacity(rows * cols);
    for _ in 0..rows {
        if rng.chance(0.01) {
            values.extend((0..cols).map(|_| rng.uniform(-8.0, 8.0)));
            continue;
        }
        let blob = rng.index(4);
        for j in 0..cols {
            let k = blob * cols + j;
            values.push(centres[k] + spreads[k] * normal(&mut rng));
        }
    }
    Matrix::from_vec(rows, cols, values).expect("rows * cols values")
}

/// Box–Muller with crate::util::math, so the bits do not depend on the platform libm.
fn normal(rng: &mut DetRng) -> f64 {
    let u1 = 1.0 - rng.f64(); // (0, 1]: ln stays finite
    let u2 = rng.f64();
    (-2.0 * math::ln(u1)).sqrt() * math::cos(2.0 * std::f64::consts::PI * u2)
}

/// FNV-1a over the values' bits, as 16 hex digits (a string: JavaScript numbers lose bits).
pub fn checksum(values: &[f64]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for v in values {
        for b in v.to_bits().to_le_bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

/// A config of 500 hosts whose expected flow count is about [`GENERATE_TARGET_FLOWS`].
pub fn generate_config() -> GeneratorConfig {
    let probe = GeneratorConfig {
        hosts: 500,
        duration_s: 3_600.0,
        attacks: GeneratorConfig::default_attacks(3_600.0),
        ..GeneratorConfig::default()
    };
    let per_s = probe.estimated_flows() as f64 / probe.duration_s;
    let duration_s = (GENERATE_TARGET_FLOWS / per_s)
        .round()
        .clamp(60.0, generator::DURATION_MAX_S);
    GeneratorConfig {
        duration_s,
        attacks: GeneratorConfig::default_attacks(duration_s),
        ..probe
    }
}

/// Runs case `name` `repeats` times (at least once) and reports the fastest run, timing with
/// `clock` (milliseconds, monotonic).
pub fn run(name: &str, repeats: usize, clock: &dyn Fn() -> f64) -> Result<Measurement, BenchError> {
    let repeats = repeats.max(1);
    let mut best = f64::INFINITY;
    let mut sum = String::new();
    let mut flows = None;
    let mut bytes_per_flow = None;
    match name {
        "iforest_fit_score_100k_20" => {
            let x = data(DATA_ROWS, DATA_COLS, DATA_SEED);
            for _ in 0..repeats {
                let t0 = clock();
                let mut forest = IsolationForest::new(IsolationForestParams::default());
                forest.fit(&x)?;
                let scores = forest.score_samples(&x)?;
                best = best.min(clock() - t0);
                sum = checksum(&scores);
            }
        }
        "iforest_explain_10k" => {
            // Fitting is not timed: only `explain` on the lowest-scoring rows.
            let x = data(DATA_ROWS, DATA_COLS, DATA_SEED);
            let mut forest = IsolationForest::new(IsolationForestParams::default());
            forest.fit(&x)?;
            let scores = forest.score_samples(&x)?;
            let mut order: Vec<usize> = (0..x.rows()).collect();
            order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]).then(a.cmp(&b)));
            order.truncate(EXPLAIN_ROWS);
            for _ in 0..repeats {
                let t0 = clock();
                let mut shares = Vec::with_capacity(EXPLAIN_ROWS * DATA_COLS);
                for &i in &order {
                    shares.extend(forest.explain(x.row(i))?);
                }
                best = best.min(clock() - t0);
                sum = checksum(&shares);
            }
        }
        "mlp_epoch_100k_20" => {
            let x = data(DATA_ROWS, DATA_COLS, DATA_SEED);
            for _ in 0..repeats {
                let t0 = clock();
                let mut mlp = MlpRegressor::new(mlp_epoch_params());
                mlp.fit(&x, &x)?;
                best = best.min(clock() - t0);
                let weights: Vec<f64> = mlp
                    .coefs()
                    .iter()
                    .flat_map(|m| m.as_slice().to_vec())
                    .chain(mlp.loss_curve().iter().copied())
                    .collect();
                sum = checksum(&weights);
            }
        }
        "generate" => {
            let config = generate_config();
            for _ in 0..repeats {
                let t0 = clock();
                let traffic = generator::generate(&config)
                    .map_err(|e| BenchError::Generator(format!("{e:?}")))?;
                best = best.min(clock() - t0);
                let ts: Vec<f64> = traffic.flows.iter().map(|f| f.ts).collect();
                sum = checksum(&ts);
                flows = Some(traffic.flows.len());
            }
            bytes_per_flow = Some(std::mem::size_of::<crate::traffic::flow::FlowRecord>());
        }
        other => return Err(BenchError::UnknownCase(other.to_string())),
    }
    Ok(Measurement {
        name: name.to_string(),
        ms: best,
        checksum: sum,
        flows,
        bytes_per_flow,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_is_deterministic_finite_and_shaped() {
        let a = data(500, 7, 3);
        assert_eq!((a.rows(), a.cols()), (500, 7));
        assert!(a.all_finite());
        assert_eq!(a, data(500, 7, 3));
        assert_ne!(a, data(500, 7, 4));
        // Roughly unit-scale blobs: not all values in a tiny range.
        let col = a.column(0);
        let (lo, hi) = col
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| {
                (l.min(v), h.max(v))
            });
        assert!(hi - lo > 1.0);
    }

    #[test]
    fn checksum_sees_every_bit() {
        assert_ne!(checksum(&[0.0]), checksum(&[-0.0]));
        assert_ne!(checksum(&[1.0, 2.0]), checksum(&[2.0, 1.0]));
        assert_eq!(checksum(&[1.5]), checksum(&[1.5]));
    }

    #[test]
    fn generate_config_is_valid_and_near_a_million_flows() {
        let c = generate_config();
        c.validate().unwrap();
        let est = c.estimated_flows() as f64;
        assert!((0.9e6..1.1e6).contains(&est), "{est}");
    }

    #[test]
    fn unknown_case_is_an_error() {
        assert!(matches!(
            run("nope", 1, &|| 0.0),
            Err(BenchError::UnknownCase(_))
        ));
    }
}
