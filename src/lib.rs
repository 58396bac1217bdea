//! Cybersecurity anomaly detector: synthetic network traffic, an Isolation Forest and an MLP
//! autoencoder faithful to scikit-learn, evaluation metrics and a JSON report.
//!
//! Layers, bottom to top (docs/architecture.md): util, traffic, detection, findings, output,
//! pipeline, app; tests/architecture.rs fails on an upward import. Everything outside `ui` and
//! `worker` is plain Rust with no browser imports, so it is tested natively with `cargo test`
//! and compiled unchanged into the Web Worker. The browser shell
//! (`ui`, `worker`) exists only on wasm32.

pub mod app;
pub mod detection;
pub mod findings;
pub mod output;
pub mod pipeline;
pub mod traffic;
pub mod util;

#[cfg(target_arch = "wasm32")]
pub mod ui;
#[cfg(target_arch = "wasm32")]
pub mod worker;

/// The app's version, as written into reports.
pub const APP_VERSION: &str = env!("CARGO_PKG_VERSION");
