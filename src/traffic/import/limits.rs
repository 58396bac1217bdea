//! The importer's explicit resource limits (file size, flows, rows), reported when hit.

use serde::{Deserialize, Serialize};

/// Explicit resource limits; hitting `max_flows`/`max_rows` keeps what parsed and warns,
/// exceeding `max_bytes` refuses the file up front.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ImportLimits {
    pub max_bytes: u64,
    pub max_flows: usize,
    /// Rows (text formats) or packets (captures) read at most.
    pub max_rows: usize,
    /// Skipped records kept with their details; all are counted.
    pub max_skipped_listed: usize,
}

impl Default for ImportLimits {
    fn default() -> ImportLimits {
        ImportLimits {
            max_bytes: 512 * 1024 * 1024,
            max_flows: 5_000_000,
            max_rows: 50_000_000,
            max_skipped_listed: 1000,
        }
    }
}
