//! Cybersecurity anomaly detector: synthetic network traffic, an Isolation Forest and an MLP
//! autoencoder faithful to scikit-learn, evaluation metrics and a JSON report.
//!
//! Everything outside `ui` and `worker` is plain Rust with no browser imports, so it is tested
//! natively with `cargo test` and compiled unchanged into the Web Worker. The browser shell
//! (`ui`, `worker`) exists only on wasm32.

pub mod anomaly_query;
pub mod bench;
pub mod chart_data;
pub mod dataset;
pub mod detection;
pub mod detector_model;
pub mod ensemble;
pub mod export;
pub mod features;
pub mod feedback;
pub mod flow;
pub mod generator;
pub mod ground_truth;
pub mod import;
pub mod incidents;
pub mod index_sort;
pub mod json_pretty;
pub mod math;
pub mod matrix;
pub mod metrics;
pub mod models;
pub mod preprocessing;
pub mod protocol;
pub mod report;
pub mod response;
pub mod rng;
pub mod run_config;
pub mod scaler;
mod serde_names;
pub mod siem;
pub mod time_format;

#[cfg(target_arch = "wasm32")]
pub mod ui;
#[cfg(target_arch = "wasm32")]
pub mod worker;

/// The app's version, as written into reports.
pub const APP_VERSION: &str = env!("CARGO_PKG_VERSION");
