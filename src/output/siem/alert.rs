//! One alert in export-neutral form (`AlertView`) and the alerts a report yields, with what
//! every SIEM format shares: rule ids, the product name, timestamps and flow ids. The EVE and
//! ECS writers build their lines from these and nothing else.
use super::community_id;
use crate::detection::behaviour::{BehaviourKind, Evidence, Technique};
use crate::findings::incidents::{Grouping, Severity};
use crate::output::report::{Anomaly, Report, Scores};
use crate::traffic::flow::{ConnState, FlowRecord, Proto, Service};
use crate::util::format_value::format_value;
use crate::util::time_format::format_utc;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::IpAddr;

/// What one exported alert stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertUnit {
    /// One alert per detected incident (what an analyst triages).
    #[default]
    Incident,
    /// One alert per flagged flow listed in the report.
    Anomaly,
}

/// Rule ids of this detector's alerts: a private range, well away from the ET/Snort ones.
pub const SID_INCIDENT_SOURCE: u64 = 9_100_001;
pub const SID_INCIDENT_VICTIM: u64 = 9_100_002;
/// Flagged flows with an attack's victim while it lasted (`collateral_of`).
pub const SID_INCIDENT_COLLATERAL: u64 = 9_100_003;
pub const SID_ANOMALY: u64 = 9_100_010;
/// Incidents a behavioural detector named: this base plus the kind's position in
/// `BehaviourKind::ALL` (9,100,100 vertical scan, 9,100,101 horizontal scan, ...).
pub const SID_BEHAVIOUR_BASE: u64 = 9_100_100;

/// Suricata's classification (classification.config) for a behaviour, so SIEM rules keyed
/// on the usual categories pick these alerts up; the models' own incidents are "Network
/// anomaly".
pub fn category(kind: Option<BehaviourKind>) -> &'static str {
    match kind {
        None => "Network anomaly",
        Some(
            BehaviourKind::VerticalScan | BehaviourKind::HorizontalScan | BehaviourKind::IcmpSweep,
        ) => "Detection of a Network Scan",
        Some(
            BehaviourKind::SynFlood
            | BehaviourKind::VolumetricFlood
            | BehaviourKind::Reflection
            | BehaviourKind::SlowDos,
        ) => "Detection of a Denial of Service Attack",
        Some(BehaviourKind::BruteForce) => "Attempted User Privilege Gain",
        Some(BehaviourKind::LateralMovement) => "Potentially Bad Traffic",
        Some(
            BehaviourKind::Beaconing | BehaviourKind::LongConnection | BehaviourKind::DnsTunnel,
        ) => "A Network Trojan was detected",
        Some(BehaviourKind::Exfiltration) => "Potential Corporate Privacy Violation",
    }
}

/// The name alerts carry as their producer.
pub const PRODUCT: &str = "anomaly-detector";

/// Whole microseconds since the epoch (`None` for non-finite input), as (seconds, micros).
fn split_micros(ts: f64) -> Option<(i64, i64)> {
    if !ts.is_finite() {
        return None;
    }
    let micros = (ts * 1e6).round() as i64;
    Some((micros.div_euclid(1_000_000), micros.rem_euclid(1_000_000)))
}

/// Suricata's timestamp: `2023-09-18T06:13:41.532140+0000` (UTC).
pub fn eve_timestamp(ts: f64) -> String {
    let (secs, micros) = split_micros(ts).unwrap_or((0, 0));
    format!(
        "{}.{micros:06}+0000",
        format_utc(secs as f64).replacen(' ', "T", 1)
    )
}

/// ECS `@timestamp`: ISO 8601 UTC with microseconds, `2023-09-18T06:13:41.532140Z`.
pub fn ecs_timestamp(ts: f64) -> String {
    let (secs, micros) = split_micros(ts).unwrap_or((0, 0));
    format!(
        "{}.{micros:06}Z",
        format_utc(secs as f64).replacen(' ', "T", 1)
    )
}

/// A flow id below 2^51 (Suricata's limit, so JavaScript readers keep it exact), stable for
/// the same report: FNV-1a over the run's digest and the alert's row.
pub fn flow_id(report: &Report, row: u64, salt: u8) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in report
        .data
        .flows_digest
        .bytes()
        .chain(row.to_le_bytes())
        .chain([salt])
    {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (h & ((1u64 << 51) - 1)).max(1)
}

/// The report's anomalies by row, to find an incident's first flow.
fn anomalies_by_row(report: &Report) -> BTreeMap<u64, &Anomaly> {
    // `extend`, not `collect`, which would sort first (see `index_sort`).
    let mut by_row = BTreeMap::new();
    by_row.extend(report.anomalies.iter().map(|a| (a.index, a)));
    by_row
}

/// Three significant digits are plenty for a score in a SIEM and keep lines short.
fn score_text(v: f64) -> String {
    if v.is_finite() {
        format!("{v:.4}")
    } else {
        "n/a".to_string()
    }
}

/// "distinct ports: 1,000 (threshold 15)"
fn evidence_text(e: &Evidence) -> String {
    match e.threshold {
        Some(t) => format!(
            "{}: {} (threshold {})",
            e.name,
            format_value(e.value),
            format_value(t)
        ),
        None => format!("{}: {}", e.name, format_value(e.value)),
    }
}

/// One alert in export-neutral form: what both EVE and ECS lines are built from.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertView {
    /// False when the file carried no addresses (the importer's documentation-range stand-ins
    /// are in `src_ip`/`dst_ip`): the writers then leave addresses, ports and the Community ID
    /// out, so no SIEM rule or blocklist ever acts on a placeholder.
    pub addresses_known: bool,
    pub ts: f64,
    pub end_ts: f64,
    pub flow_id: u64,
    pub src_ip: IpAddr,
    pub src_port: Option<u16>,
    pub dst_ip: IpAddr,
    pub dst_port: Option<u16>,
    pub proto: Proto,
    pub service: Service,
    pub community_id: Option<String>,
    pub pkts_out: u64,
    pub pkts_in: u64,
    pub bytes_out: u64,
    pub bytes_in: u64,
    pub severity: Severity,
    pub signature_id: u64,
    /// Stable per kind of alert (what a SIEM rule list shows).
    pub rule_name: &'static str,
    /// Suricata's classification text (see [`category`]).
    pub category: &'static str,
    /// The behaviour and its ATT&CK technique, when a detector named them.
    pub kind: Option<BehaviourKind>,
    pub technique: Option<Technique>,
    /// This alert in one line.
    pub message: String,
    /// Scores and context, as (key, values): Suricata wants arrays of strings.
    pub metadata: Vec<(&'static str, Vec<String>)>,
}

/// Severity of a single flagged flow: how far above the threshold its ensemble score is.
fn anomaly_severity(score: f64, threshold: f64) -> Severity {
    let margin = threshold.abs().max(3.0);
    if score >= threshold + 2.0 * margin {
        Severity::High
    } else if score >= threshold + margin {
        Severity::Medium
    } else {
        Severity::Low
    }
}

/// The connection an anomaly alert describes (a report's anomaly or a streamed flow).
struct AlertFlow {
    ts: f64,
    duration_s: f64,
    src_ip: IpAddr,
    src_port: u16,
    dst_ip: IpAddr,
    dst_port: u16,
    proto: Proto,
    service: Service,
    conn_state: ConnState,
    pkts_out: u64,
    pkts_in: u64,
    bytes_out: u64,
    bytes_in: u64,
}

impl AlertFlow {
    fn of(f: &FlowRecord) -> AlertFlow {
        AlertFlow {
            ts: f.ts,
            duration_s: f.duration_s,
            src_ip: f.src_ip,
            src_port: f.src_port,
            dst_ip: f.dst_ip,
            dst_port: f.dst_port,
            proto: f.proto,
            service: f.service,
            conn_state: f.conn_state,
            pkts_out: f.pkts_out,
            pkts_in: f.pkts_in,
            bytes_out: f.bytes_out,
            bytes_in: f.bytes_in,
        }
    }

    fn community_id(&self) -> Option<String> {
        let proto = community_id::ip_proto(self.proto, self.src_ip.is_ipv6())?;
        community_id::community_id_v1(
            0,
            self.src_ip,
            self.dst_ip,
            proto,
            Some((self.src_port, self.dst_port)),
        )
    }
}

fn anomaly_flow(a: &Anomaly) -> AlertFlow {
    AlertFlow {
        ts: a.ts,
        duration_s: a.duration_s,
        src_ip: a.src_ip,
        src_port: a.src_port,
        dst_ip: a.dst_ip,
        dst_port: a.dst_port,
        proto: a.proto,
        service: a.service,
        conn_state: a.conn_state,
        pkts_out: a.pkts_out,
        pkts_in: a.pkts_in,
        bytes_out: a.bytes_out,
        bytes_in: a.bytes_in,
    }
}

/// One flagged flow's alert: the scores first in the metadata, then `extra` (explanation,
/// incident, threshold, producer: what the caller knows); `why` ends the message.
fn anomaly_view(
    a: &AlertFlow,
    scores: &Scores,
    threshold: f64,
    flow_id: u64,
    why: &str,
    extra: Vec<(&'static str, Vec<String>)>,
) -> AlertView {
    let mut metadata = vec![
        (
            "isolation_forest_score",
            vec![score_text(scores.isolation_forest)],
        ),
        ("mlp_score", vec![score_text(scores.mlp)]),
        ("ensemble_score", vec![score_text(scores.ensemble)]),
        ("conn_state", vec![a.conn_state.as_str().to_string()]),
    ];
    metadata.extend(extra);
    metadata.retain(|(_, v)| !v.is_empty());
    AlertView {
        addresses_known: true,
        ts: a.ts,
        end_ts: a.ts + a.duration_s.max(0.0),
        flow_id,
        src_ip: a.src_ip,
        src_port: Some(a.src_port),
        dst_ip: a.dst_ip,
        dst_port: Some(a.dst_port),
        proto: a.proto,
        service: a.service,
        community_id: a.community_id(),
        pkts_out: a.pkts_out,
        pkts_in: a.pkts_in,
        bytes_out: a.bytes_out,
        bytes_in: a.bytes_in,
        severity: anomaly_severity(scores.ensemble, threshold),
        signature_id: SID_ANOMALY,
        rule_name: "Anomalous network flow",
        category: category(None),
        kind: None,
        technique: None,
        message: format!(
            "Anomalous flow {}:{} -> {}:{} ({}){why}",
            a.src_ip,
            a.src_port,
            a.dst_ip,
            a.dst_port,
            a.proto.as_str()
        ),
        metadata,
    }
}

/// A flow id below 2^51 for a flow scored outside a report (streaming): FNV-1a over its
/// position in the stream and its start time, so the same file gives the same ids.
pub fn stream_flow_id(position: u64, ts: f64) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in position
        .to_le_bytes()
        .into_iter()
        .chain(ts.to_bits().to_le_bytes())
    {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (h & ((1u64 << 51) - 1)).max(1)
}

/// The alert for one flow a saved model flagged while streaming (no report: no explanation,
/// no incident). `threshold_method` is the threshold's policy (`ThresholdInfo::method`).
pub fn flow_alert_view(
    flow: &FlowRecord,
    scores: &Scores,
    threshold: f64,
    threshold_method: &str,
    app_version: &str,
    flow_id: u64,
) -> AlertView {
    let extra = vec![
        ("threshold", vec![score_text(threshold)]),
        ("threshold_mode", vec![threshold_method.to_string()]),
        ("producer", vec![format!("{PRODUCT} {app_version}")]),
    ];
    anomaly_view(&AlertFlow::of(flow), scores, threshold, flow_id, "", extra)
}

/// The alerts a report yields, in report order (incidents most severe first; anomalies in
/// time order).
pub fn alert_views(report: &Report, unit: AlertUnit) -> Vec<AlertView> {
    let mut views = alert_views_as_read(report, unit);
    if report.data.source.placeholder_addresses() {
        let anomaly_rows = matches!(unit, AlertUnit::Anomaly).then(|| {
            report
                .anomalies
                .iter()
                .map(|a| a.index)
                .collect::<Vec<u64>>()
        });
        for (k, v) in views.iter_mut().enumerate() {
            let what = match &anomaly_rows {
                Some(rows) => format!("Anomalous record (flow #{})", rows[k] + 1),
                None => v.message.clone(),
            };
            without_addresses(v, what);
        }
    }
    views
}

/// Takes the stand-in addresses out of an alert of a file without addresses: no address,
/// port or Community ID is written, `message` replaces the one that named them, and the
/// metadata says why.
fn without_addresses(v: &mut AlertView, message: String) {
    v.addresses_known = false;
    v.src_port = None;
    v.dst_port = None;
    v.community_id = None;
    v.message = message;
    v.metadata.push((
        "addresses",
        vec!["none: the file carries no IP addresses, so this alert names no host".to_string()],
    ));
}

fn alert_views_as_read(report: &Report, unit: AlertUnit) -> Vec<AlertView> {
    let threshold = report.threshold.ensemble;
    let common = |v: &mut Vec<(&'static str, Vec<String>)>| {
        v.push(("threshold", vec![score_text(threshold)]));
        v.push(("threshold_mode", vec![report.threshold.method.clone()]));
        v.push((
            "producer",
            vec![format!("{PRODUCT} {}", report.app_version)],
        ));
    };
    match unit {
        AlertUnit::Anomaly => report
            .anomalies
            .iter()
            .map(|a| {
                let mut metadata = vec![(
                    "explanation",
                    a.explanation.iter().map(|c| c.sentence()).collect(),
                )];
                if let Some(id) = a.detected_incident {
                    metadata.push(("incident", vec![id.to_string()]));
                }
                common(&mut metadata);
                let why = a
                    .explanation
                    .first()
                    .map(|c| format!(": {}", c.sentence()))
                    .unwrap_or_default();
                anomaly_view(
                    &anomaly_flow(a),
                    &a.scores,
                    threshold,
                    flow_id(report, a.index, 0),
                    &why,
                    metadata,
                )
            })
            .collect(),
        AlertUnit::Incident => {
            let rows = anomalies_by_row(report);
            report
                .incidents
                .iter()
                .map(|inc| {
                    // The alert's 5-tuple is its first flow's, whole (so a SIEM can recompute
                    // the Community ID and pivot on it); without that flow in the report, the
                    // key host and its most contacted peer, with no ports and no Community ID.
                    let first = inc.flows.first().and_then(|r| rows.get(r)).copied();
                    let src_ip = match (inc.grouping, first) {
                        (_, Some(a)) => a.src_ip,
                        (Grouping::Source, None) => inc.key_ip,
                        (Grouping::Victim, None) => {
                            inc.src_ips.first().copied().unwrap_or(inc.key_ip)
                        }
                    };
                    let dst_ip = match (inc.grouping, first) {
                        (_, Some(a)) => a.dst_ip,
                        (Grouping::Victim, None) => inc.key_ip,
                        (Grouping::Source, None) => {
                            inc.dst_ips.first().copied().unwrap_or(inc.key_ip)
                        }
                    };
                    let mut metadata = vec![
                        ("incident", vec![inc.id.to_string()]),
                        ("severity", vec![inc.severity.as_str().to_string()]),
                        (
                            "grouping",
                            vec![match inc.grouping {
                                Grouping::Source => "source".to_string(),
                                Grouping::Victim => "victim".to_string(),
                            }],
                        ),
                        ("ensemble_score_max", vec![score_text(inc.max_score)]),
                        ("ensemble_score_mean", vec![score_text(inc.mean_score)]),
                        ("flow_count", vec![inc.flow_count.to_string()]),
                        (
                            "distinct_src_hosts",
                            vec![inc.distinct_src_hosts.to_string()],
                        ),
                        (
                            "distinct_dst_hosts",
                            vec![inc.distinct_dst_hosts.to_string()],
                        ),
                        (
                            "distinct_dst_ports",
                            vec![inc.distinct_dst_ports.to_string()],
                        ),
                        ("first_seen", vec![eve_timestamp(inc.first_seen_ts)]),
                        ("last_seen", vec![eve_timestamp(inc.last_seen_ts)]),
                        ("found_by", vec![inc.found_by.as_str().to_string()]),
                    ];
                    if let Some(attack) = inc.collateral_of {
                        metadata.push(("collateral_of_incident", vec![attack.to_string()]));
                    }
                    if let (Some(kind), Some(t)) = (inc.kind, inc.technique) {
                        let (tactic_id, tactic_name) = t.tactic();
                        metadata.push(("behaviour", vec![kind.as_str().to_string()]));
                        // The keys Emerging Threats rules use, so ATT&CK dashboards work.
                        metadata.push(("mitre_technique_id", vec![t.id().to_string()]));
                        metadata.push(("mitre_technique_name", vec![t.name().to_string()]));
                        metadata.push(("mitre_tactic_id", vec![tactic_id.to_string()]));
                        metadata.push(("mitre_tactic_name", vec![tactic_name.to_string()]));
                        if !inc.evidence.is_empty() {
                            metadata.push((
                                "evidence",
                                inc.evidence.iter().map(evidence_text).collect(),
                            ));
                        }
                    }
                    if let Some(a) = first {
                        metadata.push((
                            "isolation_forest_score",
                            vec![score_text(a.scores.isolation_forest)],
                        ));
                        metadata.push(("mlp_score", vec![score_text(a.scores.mlp)]));
                        metadata.push(("ensemble_score", vec![score_text(a.scores.ensemble)]));
                    }
                    common(&mut metadata);
                    AlertView {
                        addresses_known: true,
                        ts: inc.first_seen_ts,
                        end_ts: inc.last_seen_ts,
                        flow_id: flow_id(report, inc.flows.first().copied().unwrap_or(0), 1),
                        src_ip,
                        src_port: first.map(|a| a.src_port),
                        dst_ip,
                        dst_port: first.map(|a| a.dst_port),
                        proto: inc.proto,
                        service: inc.service,
                        community_id: first.map(anomaly_flow).and_then(|f| f.community_id()),
                        pkts_out: inc.pkts_out,
                        pkts_in: inc.pkts_in,
                        bytes_out: inc.bytes_out,
                        bytes_in: inc.bytes_in,
                        severity: inc.severity,
                        signature_id: match (inc.kind, inc.grouping) {
                            _ if inc.collateral_of.is_some() => SID_INCIDENT_COLLATERAL,
                            (Some(kind), _) => {
                                let pos = BehaviourKind::ALL.iter().position(|&k| k == kind);
                                SID_BEHAVIOUR_BASE + pos.unwrap_or(0) as u64
                            }
                            (None, Grouping::Source) => SID_INCIDENT_SOURCE,
                            (None, Grouping::Victim) => SID_INCIDENT_VICTIM,
                        },
                        rule_name: match (inc.kind, inc.grouping) {
                            _ if inc.collateral_of.is_some() => {
                                "Collateral of a detected attack on one host"
                            }
                            (Some(kind), _) => kind.title(),
                            (None, Grouping::Source) => "Anomalous activity from one host",
                            (None, Grouping::Victim) => {
                                "Anomalous traffic from many sources to one host"
                            }
                        },
                        category: category(inc.kind),
                        kind: inc.kind,
                        technique: inc.technique,
                        message: inc.summary.clone(),
                        metadata,
                    }
                })
                .collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_in_each_format() {
        // 1_767_261_600 = 2026-01-01T10:00:00Z.
        assert_eq!(
            eve_timestamp(1_767_261_600.532_14),
            "2026-01-01T10:00:00.532140+0000"
        );
        assert_eq!(
            ecs_timestamp(1_767_261_600.0),
            "2026-01-01T10:00:00.000000Z"
        );
        // Rounding up into the next second carries.
        assert_eq!(
            eve_timestamp(1_767_261_600.999_999_7),
            "2026-01-01T10:00:01.000000+0000"
        );
    }
}
