//! Elastic Common Schema NDJSON: one alert document per line with `@timestamp`,
//! `event.kind: alert`, `event.category: [network, intrusion_detection]`, numeric
//! `event.severity`, `source`/`destination`, `network` (with `community_id`) and `rule`.
//! Detector-specific values live under the custom `anomaly_detector` object, as ECS advises.

use super::alert::{alert_views, ecs_timestamp, AlertUnit, AlertView, PRODUCT};
use crate::detection::behaviour::Technique;
use crate::output::report::Report;
use crate::traffic::flow::Service;
use serde_json::{json, Map, Value};

/// The ECS version the documents follow.
pub const ECS_VERSION: &str = "8.11.0";

fn endpoint(ip: Option<std::net::IpAddr>, port: Option<u16>, bytes: u64, packets: u64) -> Value {
    let mut m = Map::new();
    if let Some(ip) = ip {
        m.insert("ip".into(), json!(ip.to_string()));
        m.insert("address".into(), json!(ip.to_string()));
    }
    if let Some(p) = port {
        m.insert("port".into(), json!(p));
    }
    m.insert("bytes".into(), json!(bytes));
    m.insert("packets".into(), json!(packets));
    Value::Object(m)
}

fn document(app_version: &str, a: &AlertView) -> Value {
    let duration_ns = ((a.end_ts - a.ts).max(0.0) * 1e9).round() as u64;
    let mut network = Map::new();
    network.insert("transport".into(), json!(a.proto.as_str()));
    if a.addresses_known {
        network.insert(
            "type".into(),
            json!(if a.src_ip.is_ipv6() { "ipv6" } else { "ipv4" }),
        );
    }
    if !matches!(a.service, Service::None | Service::Other) {
        network.insert("protocol".into(), json!(a.service.as_str()));
    }
    if let Some(id) = &a.community_id {
        network.insert("community_id".into(), json!(id));
    }
    network.insert(
        "bytes".into(),
        json!(a.bytes_out.saturating_add(a.bytes_in)),
    );
    network.insert(
        "packets".into(),
        json!(a.pkts_out.saturating_add(a.pkts_in)),
    );
    let mut custom = Map::new();
    for (k, v) in &a.metadata {
        let value = if v.len() == 1 { json!(v[0]) } else { json!(v) };
        custom.insert((*k).to_string(), value);
    }
    let mut doc = json!({
        "@timestamp": ecs_timestamp(a.ts),
        "ecs": { "version": ECS_VERSION },
        "message": a.message,
        "event": {
            "kind": "alert",
            "category": ["network", "intrusion_detection"],
            "type": ["info"],
            "severity": a.severity.ecs(),
            "start": ecs_timestamp(a.ts),
            "end": ecs_timestamp(a.end_ts),
            "duration": duration_ns,
            "id": a.flow_id.to_string(),
            "module": "anomaly_detector",
            "dataset": "anomaly_detector.alert",
        },
        "rule": {
            "id": a.signature_id.to_string(),
            "name": a.rule_name,
            "category": a.category,
            "ruleset": PRODUCT,
        },
        "observer": {
            "type": "ids",
            "product": PRODUCT,
            "vendor": PRODUCT,
            "version": app_version,
        },
        "source": endpoint(a.addresses_known.then_some(a.src_ip), a.src_port, a.bytes_out, a.pkts_out),
        "destination": endpoint(a.addresses_known.then_some(a.dst_ip), a.dst_port, a.bytes_in, a.pkts_in),
        "network": Value::Object(network),
        "tags": [PRODUCT, a.severity.as_str()],
        "anomaly_detector": Value::Object(custom),
    });
    if let (Some(t), Some(obj)) = (a.technique, doc.as_object_mut()) {
        obj.insert("threat".into(), threat(t));
    }
    doc
}

/// ECS `threat.*` for an ATT&CK technique; a sub-technique (`T1498.002`) is written as its
/// parent under `technique` and itself under `technique.subtechnique`, as ECS asks.
fn threat(t: Technique) -> Value {
    let (tactic_id, tactic_name) = t.tactic();
    let mut technique = Map::new();
    match t.id().split_once('.') {
        Some((parent, _)) => {
            let (parent_name, sub_name) = t.name().split_once(": ").unwrap_or((t.name(), t.name()));
            technique.insert("id".into(), json!([parent]));
            technique.insert("name".into(), json!([parent_name]));
            technique.insert(
                "reference".into(),
                json!([format!("https://attack.mitre.org/techniques/{parent}/")]),
            );
            technique.insert(
                "subtechnique".into(),
                json!({ "id": [t.id()], "name": [sub_name], "reference": [t.url()] }),
            );
        }
        None => {
            technique.insert("id".into(), json!([t.id()]));
            technique.insert("name".into(), json!([t.name()]));
            technique.insert("reference".into(), json!([t.url()]));
        }
    }
    json!({
        "framework": "MITRE ATT&CK",
        "technique": Value::Object(technique),
        "tactic": {
            "id": [tactic_id],
            "name": [tactic_name],
            "reference": [format!("https://attack.mitre.org/tactics/{tactic_id}/")],
        },
    })
}

/// One ECS alert document per incident (or per listed anomaly), one per line.
pub fn to_ecs_ndjson(report: &Report, unit: AlertUnit) -> String {
    let mut out = String::new();
    for a in alert_views(report, unit) {
        out.push_str(&ecs_line(&report.app_version, &a));
        out.push('\n');
    }
    out
}

/// One alert as an ECS document (one line, no line end); `app_version` is the observer's.
pub fn ecs_line(app_version: &str, a: &AlertView) -> String {
    document(app_version, a).to_string()
}
