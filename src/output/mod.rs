//! What leaves the run: the JSON report (its schema is docs/report.schema.json) and the SIEM
//! alerts (Suricata EVE, Elastic ECS). May import util, traffic, detection and findings.
//! Must not import pipeline or app: a report is written from data, not by running anything.

pub mod report;
pub mod siem;
