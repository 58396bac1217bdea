//! Numeric features for each flow: its own fields plus the recent behaviour of its hosts.
//!
//! A single scan probe or flood SYN looks like an ordinary failed connection; what gives it
//! away is context, so besides the flow's own sizes we count, over a trailing time window,
//! what its source and destination have been doing (distinct ports and peers, failures), like
//! the traffic features of KDD'99/NSL-KDD. Windows are causal (only earlier flows count), so
//! the same features are computed live: [`FeatureStream`] takes one flow at a time and
//! [`extract`] drives it over a run's flows. Not standardised here: see `scaler`.

mod columns;
mod extract;
mod ports;
mod stream;

pub use columns::{
    builtin_columns, feature_names, FeatureColumn, FeatureConfig, FeatureInfo, Scale,
    DEFAULT_WINDOW_S, FEATURES,
};
pub use extract::{extract, extract_with_progress};
pub use ports::PortFrequency;
pub use stream::{FeatureStateError, FeatureStream, FeatureStreamState, StreamStateSize};
