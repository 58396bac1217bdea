//! What the scores mean for an analyst: metrics against ground truth, incidents grouped
//! from flagged flows, analyst feedback and response suggestions. May import util, traffic
//! and detection. Must not import output, pipeline or app: findings are data, formats are
//! written above.

pub mod budget;
pub mod evaluation;
pub mod feedback;
pub mod fusion;
pub mod ground_truth;
pub mod incidents;
pub mod metrics;
pub mod response;
