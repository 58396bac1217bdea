//! Traffic in and out: the flow record, the seeded generator of benign hosts and labelled
//! attacks, the importers of captures and logs, and the exports of flows (CSV, conn.log).
//! May import util. Must not import detection, findings, output, pipeline or app: traffic
//! knows nothing of how it is scored.

pub mod export;
pub mod flow;
pub mod flow_digest;
pub mod generator;
pub mod import;
