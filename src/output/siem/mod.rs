//! Exports for SIEMs: Suricata EVE JSON lines and Elastic Common Schema NDJSON, one alert per
//! detected incident or per flagged flow, each with a Community ID to pivot to Zeek/Suricata
//! data of the same connection.
//!
//! Built from the [`Report`](crate::output::report::Report) alone, so a downloaded report can be
//! converted later and the UI needs nothing else. Not responsible for transport to a SIEM.

mod alert;
pub mod community_id;
pub mod ecs;
pub mod eve;

pub use alert::{
    alert_views, ecs_timestamp, eve_timestamp, flow_alert_view, flow_id, stream_flow_id, AlertUnit,
    AlertView, PRODUCT, SID_ANOMALY, SID_INCIDENT_COLLATERAL, SID_INCIDENT_SOURCE,
    SID_INCIDENT_VICTIM,
};
pub use ecs::{ecs_line, to_ecs_ndjson};
pub use eve::{eve_line, to_eve_json_lines};
