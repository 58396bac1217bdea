//! Learning what is normal: features, preprocessing and scaling, the Isolation Forest and
//! the MLP autoencoder (faithful to scikit-learn), the ensemble's calibration, a run's
//! configuration and the saved model. May import util and traffic. Must not import findings,
//! output, pipeline or app: models never see incidents, reports or the page.

pub mod behaviour;
pub mod detector_model;
pub mod ensemble;
pub mod features;
pub mod models;
pub mod preprocessing;
pub mod run_config;
pub mod scaler;
