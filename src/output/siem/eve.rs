//! Suricata EVE JSON lines (`event_type: "alert"`), valid against Suricata's own schema: no
//! top-level keys Suricata does not define, scores in `alert.metadata` as arrays of strings,
//! timestamps as `2023-09-18T06:13:41.532140+0000`, `flow_id` below 2^51.

use super::alert::{alert_views, eve_timestamp, AlertUnit, AlertView};
use crate::output::report::Report;
use crate::traffic::flow::{Proto, Service};
use serde_json::{json, Map, Value};

/// Suricata's spelling of a transport.
fn eve_proto(p: Proto) -> &'static str {
    match p {
        Proto::Tcp => "TCP",
        Proto::Udp => "UDP",
        Proto::Icmp => "ICMP",
        Proto::Unknown => "unknown",
    }
}

/// Suricata's `app_proto` names where they differ from Zeek's; `None` when unknown.
pub fn eve_app_proto(s: Service) -> Option<&'static str> {
    match s {
        Service::None | Service::Other => None,
        Service::Ssl => Some("tls"),
        Service::Krb => Some("krb5"),
        other => Some(other.as_str()),
    }
}

/// One EVE alert per incident (or per listed anomaly), one JSON object per line.
pub fn to_eve_json_lines(report: &Report, unit: AlertUnit) -> String {
    let mut out = String::new();
    for a in alert_views(report, unit) {
        out.push_str(&eve_line(&a));
        out.push('\n');
    }
    out
}

/// One alert as an EVE JSON object (one line, no line end).
pub fn eve_line(a: &AlertView) -> String {
    let mut metadata = Map::new();
    for (k, v) in &a.metadata {
        metadata.insert((*k).to_string(), json!(v));
    }
    let mut line = Map::new();
    line.insert("timestamp".into(), json!(eve_timestamp(a.ts)));
    line.insert("flow_id".into(), json!(a.flow_id));
    line.insert("event_type".into(), json!("alert"));
    if a.addresses_known {
        line.insert("src_ip".into(), json!(a.src_ip.to_string()));
    }
    if let Some(p) = a.src_port {
        line.insert("src_port".into(), json!(p));
    }
    if a.addresses_known {
        line.insert("dest_ip".into(), json!(a.dst_ip.to_string()));
    }
    if let Some(p) = a.dst_port {
        line.insert("dest_port".into(), json!(p));
    }
    line.insert("proto".into(), json!(eve_proto(a.proto)));
    if let Some(app) = eve_app_proto(a.service) {
        line.insert("app_proto".into(), json!(app));
    }
    if let Some(id) = &a.community_id {
        line.insert("community_id".into(), json!(id));
    }
    line.insert(
        "alert".into(),
        json!({
            "action": "allowed",
            "gid": 1,
            "signature_id": a.signature_id,
            "rev": 1,
            "signature": match a.technique {
                Some(t) => format!("{} ({} {}): {}", a.rule_name, t.id(), t.name(), a.message),
                None => format!("{}: {}", a.rule_name, a.message),
            },
            "category": a.category,
            "severity": a.severity.suricata(),
            "metadata": Value::Object(metadata),
        }),
    );
    line.insert(
        "flow".into(),
        json!({
            "pkts_toserver": a.pkts_out,
            "pkts_toclient": a.pkts_in,
            "bytes_toserver": a.bytes_out,
            "bytes_toclient": a.bytes_in,
            "start": eve_timestamp(a.ts),
            "end": eve_timestamp(a.end_ts),
        }),
    );
    Value::Object(line).to_string()
}
