//! Messages between the page and the compute worker.
//!
//! Plain serde types so the bridge can encode them; kept in the core so both ends (and tests)
//! agree on them without importing any browser code.

use crate::detection::{Progress, RunOutput};
use crate::run_config::RunConfig;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum WorkerRequest {
    Run(Box<RunConfig>),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum WorkerEvent {
    /// The worker has loaded and listens; requests sent earlier are held by the page.
    Ready,
    Progress(Progress),
    Finished(Box<RunOutput>),
    Failed(String),
}
