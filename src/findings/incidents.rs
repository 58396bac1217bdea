//! Flagged flows grouped into incidents an analyst can read: who did what to whom, when, and
//! how bad it looks, with a one-line summary in plain words.
//!
//! Grouping is by behaviour, not by attack kind (this module never looks at ground truth):
//! many sparse sources converging on one destination are one victim-centred incident (a
//! flood with spoofed sources), everything else is grouped by source host and time gap (scans,
//! sweeps, password guessing, beacons, transfers). Deterministic: same flows and flags, same
//! incidents in the same order. Not responsible for scoring, thresholds or blocking advice.

use crate::detection::behaviour::{BehaviourKind, Evidence, KeyRole, Technique};
use crate::traffic::flow::{FlowRecord, Proto, Service};
use crate::util::format_value::format_value;
use crate::util::index_sort;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

/// How flagged flows are grouped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct IncidentParams {
    /// A new incident starts when a host is quiet (no flagged flow) for longer than this.
    pub gap_s: f64,
    /// At least this many distinct sparse sources to one destination make a victim-centred
    /// incident (a flood or a distributed attack).
    pub flood_min_sources: usize,
    /// A source with at most this many flagged flows to the destination counts as sparse.
    pub flood_max_flows_per_source: usize,
    /// Floods are looked for in time buckets of this length; consecutive busy buckets merge.
    pub flood_window_s: f64,
    /// A flagged flow with the victim of a detected attack, within this many seconds of the
    /// attack, is collateral of it (see `fusion`): the context features trail by about a
    /// minute, so the attack's traffic still colours the victim's flows that long after.
    pub collateral_margin_s: f64,
    /// Model-only incidents listed per hour of evaluated traffic per 100 monitored hosts
    /// (`budget`); 0, the default here, lists them all. Runs take it from
    /// `DetectionConfig::incident_budget` ([`IncidentParams::with_budget`]).
    pub model_budget: f64,
}

impl IncidentParams {
    /// The default grouping with a budget of `per_hour_per_100_hosts` model-only incidents.
    pub fn with_budget(per_hour_per_100_hosts: f64) -> IncidentParams {
        IncidentParams {
            model_budget: per_hour_per_100_hosts,
            ..IncidentParams::default()
        }
    }
}

impl Default for IncidentParams {
    fn default() -> IncidentParams {
        IncidentParams {
            gap_s: 300.0,
            flood_min_sources: 8,
            flood_max_flows_per_source: 3,
            flood_window_s: 30.0,
            collateral_margin_s: 60.0,
            model_budget: 0.0,
        }
    }
}

/// How bad an incident looks, from its volume and how far its scores exceed the threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

crate::util::serde_names::serde_by_name!(Severity, "a severity");

impl Severity {
    pub const ALL: [Severity; 4] = [
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// Suricata's `alert.severity`: 1 is the most severe, 3 the least.
    pub fn suricata(self) -> u8 {
        match self {
            Severity::Critical | Severity::High => 1,
            Severity::Medium => 2,
            Severity::Low => 3,
        }
    }

    /// ECS `event.severity` on Elastic's 0–100 risk scale (low 21, medium 47, high 73,
    /// critical 99).
    pub fn ecs(self) -> u8 {
        match self {
            Severity::Low => 21,
            Severity::Medium => 47,
            Severity::High => 73,
            Severity::Critical => 99,
        }
    }

    pub fn bump(self) -> Severity {
        match self {
            Severity::Low => Severity::Medium,
            Severity::Medium => Severity::High,
            _ => Severity::Critical,
        }
    }
}

/// What the incident is centred on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grouping {
    /// One source host's flagged flows (to one or many victims).
    Source,
    /// Many sparse sources converging on one victim (sources likely spoofed).
    Victim,
}

crate::util::serde_names::serde_by_name!(Grouping, "an incident grouping");

impl Grouping {
    pub const ALL: [Grouping; 2] = [Grouping::Source, Grouping::Victim];

    /// The name serde writes.
    pub fn as_str(self) -> &'static str {
        match self {
            Grouping::Source => "source",
            Grouping::Victim => "victim",
        }
    }
}

/// What found an incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FoundBy {
    /// The learned models alone (scores above the threshold).
    #[default]
    Models,
    /// A behavioural detector alone (the models' scores stayed below the threshold).
    Detector,
    /// A behavioural detector, and the models flagged some of its flows too.
    Both,
}

crate::util::serde_names::serde_by_name!(FoundBy, "what found an incident");

impl FoundBy {
    pub const ALL: [FoundBy; 3] = [FoundBy::Models, FoundBy::Detector, FoundBy::Both];

    pub fn as_str(self) -> &'static str {
        match self {
            FoundBy::Models => "models",
            FoundBy::Detector => "detector",
            FoundBy::Both => "both",
        }
    }

    /// In words, for the page: "the detectors and the models".
    pub fn words(self) -> &'static str {
        match self {
            FoundBy::Models => "the models",
            FoundBy::Detector => "a behavioural detector",
            FoundBy::Both => "a behavioural detector and the models",
        }
    }
}

/// A group of flagged flows that belong together.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DetectedIncident {
    /// 1-based position in the list (most severe first).
    pub id: u32,
    pub severity: Severity,
    pub grouping: Grouping,
    /// The source host (source grouping) or the victim (victim grouping).
    pub key_ip: IpAddr,
    pub first_seen_ts: f64,
    pub last_seen_ts: f64,
    /// Rows of the flows in the run, in time order.
    pub flows: Vec<u64>,
    pub flow_count: u64,
    pub distinct_src_hosts: u64,
    pub distinct_dst_hosts: u64,
    pub distinct_dst_ports: u64,
    pub bytes_out: u64,
    pub bytes_in: u64,
    pub pkts_out: u64,
    pub pkts_in: u64,
    /// Share of the flows that never got an answer (S0, REJ, ...).
    pub failed_share: f64,
    /// Sources, at most [`LISTED_HOSTS`], most active first (ties by address).
    pub src_ips: Vec<IpAddr>,
    /// Destinations, at most [`LISTED_HOSTS`], most contacted first.
    pub dst_ips: Vec<IpAddr>,
    /// Destination ports, at most [`LISTED_PORTS`], most contacted first.
    pub top_dst_ports: Vec<u16>,
    /// The most common transport and service among the flows.
    pub proto: Proto,
    pub service: Service,
    pub max_score: f64,
    pub mean_score: f64,
    /// One line in plain words: "10.0.3.7 scanned 412 ports on 10.0.1.20 in 38 s".
    pub summary: String,
    /// What found it: a behavioural detector, the models, or both.
    #[serde(default)]
    pub found_by: FoundBy,
    /// The behaviour a detector named (`None`: the models' incident, no behaviour named).
    #[serde(default)]
    pub kind: Option<BehaviourKind>,
    /// The MITRE ATT&CK technique of `kind`.
    #[serde(default)]
    pub technique: Option<Technique>,
    /// The part `key_ip` plays, when a detector named it.
    #[serde(default)]
    pub key_role: Option<KeyRole>,
    /// The detector's numbers and the thresholds they crossed (empty for the models').
    #[serde(default)]
    pub evidence: Vec<Evidence>,
    /// The detected attack (`incidents[].id`) whose victim these flagged flows talked to while
    /// it lasted: the models flagged them because the attack's traffic skewed the victim's
    /// context, and their own behaviour may be normal. Low severity, never blocked.
    #[serde(default)]
    pub collateral_of: Option<u32>,
}

pub const LISTED_HOSTS: usize = 20;
pub const LISTED_PORTS: usize = 20;

/// Groups flagged flows into incidents. `flagged` are row indices into `flows`; `scores` and
/// `threshold` (any score scale, higher = more anomalous) set the severity.
pub fn group(
    flows: &[FlowRecord],
    flagged: &[usize],
    scores: &[f64],
    threshold: f64,
    params: &IncidentParams,
) -> Vec<DetectedIncident> {
    let mut rows: Vec<usize> = flagged
        .iter()
        .copied()
        .filter(|&i| i < flows.len())
        .collect();
    index_sort::sort_indices_by(&mut rows, &mut |a, b| {
        flows[a].ts.total_cmp(&flows[b].ts).then(a.cmp(&b))
    });
    rows.dedup();
    let gap = if params.gap_s.is_finite() && params.gap_s >= 0.0 {
        params.gap_s
    } else {
        IncidentParams::default().gap_s
    };

    // 1. Victim-centred: per destination, time sessions; sparse sources pooled when many.
    let mut taken = vec![false; rows.len()];
    let mut groups: Vec<(Grouping, IpAddr, Vec<usize>)> = Vec::new();
    let mut by_dst: BTreeMap<IpAddr, Vec<usize>> = BTreeMap::new();
    for (k, &i) in rows.iter().enumerate() {
        by_dst.entry(flows[i].dst_ip).or_default().push(k);
    }
    let window = if params.flood_window_s.is_finite() && params.flood_window_s > 0.0 {
        params.flood_window_s
    } else {
        IncidentParams::default().flood_window_s
    };
    let min_sources = params.flood_min_sources.max(2);
    for (dst, ks) in &by_dst {
        // Busy buckets: enough distinct sources within one window.
        let bucket = |k: usize| (flows[rows[k]].ts / window).floor() as i64;
        let mut per_bucket: BTreeMap<i64, BTreeSet<IpAddr>> = BTreeMap::new();
        for &k in ks {
            per_bucket
                .entry(bucket(k))
                .or_default()
                .insert(flows[rows[k]].src_ip);
        }
        // `extend`, not `collect`: collecting into a B-tree sorts first, one more sort copy in
        // the wasm (see `index_sort`).
        let mut busy: BTreeSet<i64> = BTreeSet::new();
        busy.extend(
            per_bucket
                .iter()
                .filter(|(_, srcs)| srcs.len() >= min_sources)
                .map(|(b, _)| *b),
        );
        if busy.is_empty() {
            continue;
        }
        // Consecutive busy buckets form one burst.
        let mut bursts: Vec<Vec<usize>> = Vec::new();
        let mut last_bucket: Option<i64> = None;
        for &k in ks {
            let b = bucket(k);
            if !busy.contains(&b) {
                continue;
            }
            match (bursts.last_mut(), last_bucket) {
                (Some(current), Some(lb)) if b - lb <= 1 => current.push(k),
                _ => bursts.push(vec![k]),
            }
            last_bucket = Some(b);
        }
        for burst in bursts {
            let mut per_src: BTreeMap<IpAddr, usize> = BTreeMap::new();
            for &k in &burst {
                *per_src.entry(flows[rows[k]].src_ip).or_default() += 1;
            }
            let mut sparse: BTreeSet<IpAddr> = BTreeSet::new();
            sparse.extend(
                per_src
                    .iter()
                    .filter(|(_, &c)| c <= params.flood_max_flows_per_source)
                    .map(|(ip, _)| *ip),
            );
            if sparse.len() >= min_sources {
                let members: Vec<usize> = burst
                    .into_iter()
                    .filter(|&k| sparse.contains(&flows[rows[k]].src_ip))
                    .collect();
                for &k in &members {
                    taken[k] = true;
                }
                groups.push((Grouping::Victim, *dst, members));
            }
        }
    }

    // 2. Everything else by source host and time gap.
    let mut by_src: BTreeMap<IpAddr, Vec<usize>> = BTreeMap::new();
    for (k, &i) in rows.iter().enumerate() {
        if !taken[k] {
            by_src.entry(flows[i].src_ip).or_default().push(k);
        }
    }
    for (src, ks) in &by_src {
        for session in sessions(ks, |k| flows[rows[k]].ts, gap) {
            groups.push((Grouping::Source, *src, session));
        }
    }

    let incidents: Vec<DetectedIncident> = groups
        .into_iter()
        .map(|(grouping, key_ip, ks)| {
            let members: Vec<usize> = ks.into_iter().map(|k| rows[k]).collect();
            build(flows, &members, scores, threshold, grouping, key_ip)
        })
        .collect();
    let order = index_sort::sorted_indices_by(incidents.len(), &mut |i, j| {
        let (a, b) = (&incidents[i], &incidents[j]);
        b.severity
            .cmp(&a.severity)
            .then(a.first_seen_ts.total_cmp(&b.first_seen_ts))
            .then(a.key_ip.cmp(&b.key_ip))
            .then(a.flows.first().cmp(&b.flows.first()))
    });
    let mut incidents = index_sort::permuted(incidents, &order);
    for (n, inc) in incidents.iter_mut().enumerate() {
        inc.id = n as u32 + 1;
    }
    incidents
}

/// Splits time-ordered items where consecutive times differ by more than `gap`.
fn sessions(items: &[usize], ts: impl Fn(usize) -> f64, gap: f64) -> Vec<Vec<usize>> {
    let mut out: Vec<Vec<usize>> = Vec::new();
    let mut last = f64::NEG_INFINITY;
    for &k in items {
        let t = ts(k);
        match out.last_mut() {
            Some(current) if t - last <= gap => current.push(k),
            _ => out.push(vec![k]),
        }
        last = t;
    }
    out
}

fn most_common<T: Copy + PartialEq>(items: impl Iterator<Item = T>) -> Option<T> {
    let mut counts: Vec<(T, u64)> = Vec::new();
    for it in items {
        match counts.iter_mut().find(|(k, _)| *k == it) {
            Some((_, c)) => *c += 1,
            None => counts.push((it, 1)),
        }
    }
    // First seen wins ties, which is deterministic because members are in time order.
    let best = counts.iter().map(|(_, c)| *c).max()?;
    counts.into_iter().find(|(_, c)| *c == best).map(|(k, _)| k)
}

pub(crate) fn build(
    flows: &[FlowRecord],
    members: &[usize],
    scores: &[f64],
    threshold: f64,
    grouping: Grouping,
    key_ip: IpAddr,
) -> DetectedIncident {
    let mut src: BTreeMap<IpAddr, u64> = BTreeMap::new();
    let mut dst: BTreeMap<IpAddr, u64> = BTreeMap::new();
    let mut ports: BTreeMap<u16, u64> = BTreeMap::new();
    let (mut bytes_out, mut bytes_in, mut failed) = (0u64, 0u64, 0u64);
    let (mut pkts_out, mut pkts_in) = (0u64, 0u64);
    let (mut max_score, mut sum_score) = (f64::NEG_INFINITY, 0.0);
    let (mut first, mut last) = (f64::INFINITY, f64::NEG_INFINITY);
    for &i in members {
        let f = &flows[i];
        *src.entry(f.src_ip).or_default() += 1;
        *dst.entry(f.dst_ip).or_default() += 1;
        *ports.entry(f.dst_port).or_default() += 1;
        bytes_out = bytes_out.saturating_add(f.bytes_out);
        bytes_in = bytes_in.saturating_add(f.bytes_in);
        pkts_out = pkts_out.saturating_add(f.pkts_out);
        pkts_in = pkts_in.saturating_add(f.pkts_in);
        failed += u64::from(f.conn_state.is_failed_attempt());
        let s = scores.get(i).copied().unwrap_or(f64::NAN);
        if s.is_finite() {
            max_score = max_score.max(s);
            sum_score += s;
        }
        first = first.min(f.ts);
        last = last.max(f.ts + f.duration_s.max(0.0));
    }
    let n = members.len().max(1) as u64;
    let proto = most_common(members.iter().map(|&i| flows[i].proto)).unwrap_or(Proto::Tcp);
    let service = most_common(members.iter().map(|&i| flows[i].service)).unwrap_or(Service::None);
    let mut inc = DetectedIncident {
        id: 0,
        severity: Severity::Low,
        grouping,
        key_ip,
        first_seen_ts: first,
        last_seen_ts: last.max(first),
        flows: members.iter().map(|&i| i as u64).collect(),
        flow_count: members.len() as u64,
        distinct_src_hosts: src.len() as u64,
        distinct_dst_hosts: dst.len() as u64,
        distinct_dst_ports: ports.len() as u64,
        bytes_out,
        bytes_in,
        pkts_out,
        pkts_in,
        failed_share: failed as f64 / n as f64,
        src_ips: index_sort::most_frequent(&src, LISTED_HOSTS),
        dst_ips: index_sort::most_frequent(&dst, LISTED_HOSTS),
        top_dst_ports: index_sort::most_frequent(&ports, LISTED_PORTS),
        proto,
        service,
        max_score: if max_score.is_finite() {
            max_score
        } else {
            0.0
        },
        mean_score: sum_score / n as f64,
        summary: String::new(),
        found_by: FoundBy::Models,
        kind: None,
        technique: None,
        key_role: None,
        evidence: Vec::new(),
        collateral_of: None,
    };
    inc.severity = severity(&inc, threshold);
    let top_dst = inc.dst_ips.first().copied();
    let on_top: Vec<&FlowRecord> = members
        .iter()
        .map(|&i| &flows[i])
        .filter(|f| Some(f.dst_ip) == top_dst)
        .collect();
    let mut top_dst_ports = BTreeSet::new();
    top_dst_ports.extend(on_top.iter().map(|f| f.dst_port));
    let shape = Shape {
        top_dst_flows: on_top.len() as u64,
        top_dst_ports: top_dst_ports.len() as u64,
    };
    inc.summary = summary(&inc, &shape);
    inc
}

/// What the summary needs beyond the incident's own counts.
struct Shape {
    /// Flows to the most contacted destination, and the ports they hit.
    top_dst_flows: u64,
    top_dst_ports: u64,
}

/// Volume sets the base level (1, 5, 50, 500 flows, or a wide spread of ports/hosts); a peak
/// score far above the threshold raises it one step.
fn severity(inc: &DetectedIncident, threshold: f64) -> Severity {
    let spread = inc.distinct_dst_ports.max(inc.distinct_dst_hosts);
    let volume = inc.flow_count.max(spread);
    let mut level = if volume >= 500 {
        Severity::Critical
    } else if volume >= 50 {
        Severity::High
    } else if volume >= 5 {
        Severity::Medium
    } else {
        Severity::Low
    };
    // Scores are z-like (ensemble) or positive (single models): "far above" is a margin as
    // large as the threshold's own distance from zero, at least 3 units.
    let margin = threshold.abs().max(3.0);
    if threshold.is_finite() && inc.max_score >= threshold + margin {
        level = level.bump();
    }
    level
}

/// "38 s", "12 min", "2.5 h"
pub fn format_duration(s: f64) -> String {
    if !s.is_finite() || s < 0.0 {
        return "n/a".to_string();
    }
    if s < 90.0 {
        format!("{} s", s.round() as u64)
    } else if s < 5400.0 {
        format!("{} min", (s / 60.0).round() as u64)
    } else {
        format!("{:.1} h", s / 3600.0)
    }
}

/// "1.5 MB", "640 B"
pub fn format_bytes(b: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut v = b as f64;
    let mut u = 0;
    while v >= 1000.0 && u + 1 < UNITS.len() {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 {
        format!("{b} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// "1 port", "1,234 ports": a count with its noun.
pub(crate) fn plural(n: u64, one: &str, many: &str) -> String {
    format!(
        "{} {}",
        format_value(n as f64),
        if n == 1 { one } else { many }
    )
}

fn port_phrase(inc: &DetectedIncident) -> String {
    let port = inc.top_dst_ports.first().copied().unwrap_or(0);
    match inc.service {
        Service::None | Service::Other => format!("port {port}/{}", inc.proto.as_str()),
        s => format!("port {port} ({})", s.as_str()),
    }
}

/// Rewrites an incident of a file without addresses, whose flows all carry the same
/// documentation-range stand-ins: it names flows by their position, not hosts, and lists no
/// addresses (`key_ip` keeps the stand-in only because the field is an address; nothing
/// blocks or exports it).
pub fn without_addresses(inc: &mut DetectedIncident) {
    inc.src_ips.clear();
    inc.dst_ips.clear();
    let (first, last) = (
        inc.flows.first().copied().unwrap_or(0) + 1,
        inc.flows.last().copied().unwrap_or(0) + 1,
    );
    let flows = if first == last {
        format!("flow #{first}")
    } else {
        format!("flows #{first} to #{last}")
    };
    let service = match inc.service {
        Service::None | Service::Other => String::new(),
        s => format!(" {}", s.as_str()),
    };
    let failed = if inc.failed_share >= 0.5 {
        format!(", {:.0}% unanswered", inc.failed_share * 100.0)
    } else {
        String::new()
    };
    inc.summary = format!(
        "{} ({flows}; {}{service}, {} sent, {} received{failed}): the file has no addresses, \
         so no host is named",
        plural(inc.flow_count, "unusual record", "unusual records"),
        inc.proto.as_str(),
        format_bytes(inc.bytes_out),
        format_bytes(inc.bytes_in),
    );
}

/// The one-line summary, from the incident's shape only.
fn summary(inc: &DetectedIncident, shape: &Shape) -> String {
    let span = format_duration(inc.last_seen_ts - inc.first_seen_ts);
    let failed = if inc.failed_share >= 0.5 {
        format!(", {:.0}% unanswered", inc.failed_share * 100.0)
    } else {
        String::new()
    };
    let victim = inc.dst_ips.first().copied().unwrap_or(inc.key_ip);
    match inc.grouping {
        Grouping::Victim => {
            let what = if inc.failed_share >= 0.5 {
                "connection attempts"
            } else {
                "connections"
            };
            let ports = if inc.distinct_dst_ports == 1 {
                port_phrase(inc)
            } else {
                plural(inc.distinct_dst_ports, "port", "ports")
            };
            format!(
                "{} sources flooded {} {} with {} {what} in {span}{failed}",
                format_value(inc.distinct_src_hosts as f64),
                inc.key_ip,
                ports,
                format_value(inc.flow_count as f64),
            )
        }
        Grouping::Source => {
            let src = inc.key_ip;
            let (hosts, ports) = (inc.distinct_dst_hosts, inc.distinct_dst_ports);
            let heavy_upload = inc.bytes_out >= 1_000_000 && inc.bytes_out > 4 * inc.bytes_in;
            if inc.flow_count == 1 {
                format!(
                    "{src} made 1 unusual connection to {victim} {} ({}, {} sent, {} received)",
                    port_phrase(inc),
                    format_duration(inc.last_seen_ts - inc.first_seen_ts),
                    format_bytes(inc.bytes_out),
                    format_bytes(inc.bytes_in)
                )
            } else if shape.top_dst_ports >= 10 && shape.top_dst_flows * 10 >= inc.flow_count * 9 {
                // One victim dominates (a few unrelated flagged flows may ride along).
                format!(
                    "{src} scanned {} on {victim} in {span}{failed}",
                    plural(shape.top_dst_ports, "port", "ports")
                )
            } else if hosts >= 10 && ports <= 3 {
                format!(
                    "{src} swept {} on {} in {span}{failed}",
                    plural(hosts, "host", "hosts"),
                    port_phrase(inc)
                )
            } else if hosts >= 10 {
                format!(
                    "{src} probed {} on {} in {span}{failed}",
                    plural(ports, "port", "ports"),
                    plural(hosts, "host", "hosts")
                )
            } else if heavy_upload {
                format!(
                    "{src} sent {} to {} in {span} over {}",
                    format_bytes(inc.bytes_out),
                    if hosts == 1 {
                        victim.to_string()
                    } else {
                        plural(hosts, "host", "hosts")
                    },
                    plural(inc.flow_count, "connection", "connections")
                )
            } else if hosts == 1 && ports == 1 {
                format!(
                    "{src} made {} to {victim} {} in {span}{failed}",
                    plural(inc.flow_count, "connection", "connections"),
                    port_phrase(inc)
                )
            } else {
                format!(
                    "{src} made {} to {} on {} in {span}{failed}",
                    plural(inc.flow_count, "unusual connection", "unusual connections"),
                    if hosts == 1 {
                        victim.to_string()
                    } else {
                        plural(hosts, "host", "hosts")
                    },
                    plural(ports, "port", "ports")
                )
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::traffic::flow::{ConnHistory, ConnState, Label, OrigRole};
    use std::net::Ipv4Addr;

    pub(crate) fn flow(ts: f64, src: [u8; 4], dst: [u8; 4], dport: u16) -> FlowRecord {
        FlowRecord {
            ts,
            src_ip: IpAddr::V4(Ipv4Addr::from(src)),
            src_port: 40000,
            dst_ip: IpAddr::V4(Ipv4Addr::from(dst)),
            dst_port: dport,
            proto: Proto::Tcp,
            service: Service::None,
            duration_s: 0.0,
            bytes_out: 0,
            bytes_in: 0,
            pkts_out: 1,
            pkts_in: 0,
            conn_state: ConnState::S0,
            history: ConnHistory::new("S"),
            label: Label::Benign,
            incident_id: None,
            orig_role: OrigRole::None,
        }
    }

    fn all(flows: &[FlowRecord]) -> Vec<usize> {
        (0..flows.len()).collect()
    }

    #[test]
    fn port_scan_is_one_source_incident_with_a_summary() {
        let mut flows: Vec<FlowRecord> = (0..412u16)
            .map(|p| {
                flow(
                    1000.0 + p as f64 * 0.0925,
                    [10, 0, 3, 7],
                    [10, 0, 1, 20],
                    p + 1,
                )
            })
            .collect();
        flows.push(flow(5000.0, [10, 0, 2, 2], [10, 0, 1, 5], 443));
        // Below threshold + margin (2 + 3): volume alone sets the level.
        let scores = vec![4.0; flows.len()];
        let inc = group(
            &flows,
            &all(&flows),
            &scores,
            2.0,
            &IncidentParams::default(),
        );
        assert_eq!(inc.len(), 2);
        let scan = &inc[0];
        assert_eq!(scan.grouping, Grouping::Source);
        assert_eq!(scan.flow_count, 412);
        assert_eq!(scan.distinct_dst_ports, 412);
        assert_eq!(scan.severity, Severity::High);
        assert_eq!(
            scan.summary,
            "10.0.3.7 scanned 412 ports on 10.0.1.20 in 38 s, 100% unanswered"
        );
        assert_eq!(scan.id, 1);
        assert_eq!(inc[1].severity, Severity::Low);
        assert_eq!(inc[1].flows, vec![412]);
    }

    #[test]
    fn flood_from_spoofed_sources_is_grouped_by_victim() {
        let flows: Vec<FlowRecord> = (0..300u32)
            .map(|k| {
                let b = k.to_be_bytes();
                flow(
                    2000.0 + k as f64 * 0.01,
                    [198, b[2], b[3], 1],
                    [10, 0, 1, 80],
                    80,
                )
            })
            .collect();
        let scores = vec![4.0; flows.len()];
        let inc = group(
            &flows,
            &all(&flows),
            &scores,
            2.0,
            &IncidentParams::default(),
        );
        assert_eq!(inc.len(), 1, "{inc:#?}");
        assert_eq!(inc[0].grouping, Grouping::Victim);
        assert_eq!(inc[0].key_ip, IpAddr::V4(Ipv4Addr::new(10, 0, 1, 80)));
        assert_eq!(inc[0].distinct_src_hosts, 300);
        assert_eq!(inc[0].src_ips.len(), LISTED_HOSTS);
        assert!(
            inc[0].summary.starts_with(
                "300 sources flooded 10.0.1.80 port 80/tcp with 300 connection attempts in 3 s"
            ),
            "{}",
            inc[0].summary
        );
    }

    #[test]
    fn quiet_gap_splits_and_order_is_deterministic() {
        let mut flows = vec![
            flow(0.0, [10, 0, 0, 9], [10, 0, 0, 1], 22),
            flow(10.0, [10, 0, 0, 9], [10, 0, 0, 1], 22),
            flow(10_000.0, [10, 0, 0, 9], [10, 0, 0, 1], 22),
        ];
        flows.push(flow(5.0, [10, 0, 0, 8], [10, 0, 0, 1], 22));
        let scores = vec![3.0; flows.len()];
        let p = IncidentParams::default();
        let a = group(&flows, &[3, 2, 1, 0], &scores, 2.0, &p);
        let b = group(&flows, &[0, 1, 2, 3, 3], &scores, 2.0, &p);
        assert_eq!(a, b, "input order and duplicates do not matter");
        assert_eq!(a.len(), 3);
        let first = a.iter().find(|i| i.flows == vec![0, 1]).unwrap();
        assert_eq!(
            first.summary,
            "10.0.0.9 made 2 connections to 10.0.0.1 port 22/tcp in 10 s, 100% unanswered"
        );
        // Equal severity: earlier first.
        assert!(a
            .windows(2)
            .all(|w| w[0].severity > w[1].severity || w[0].first_seen_ts <= w[1].first_seen_ts));
    }

    #[test]
    fn sweep_and_high_score_bump() {
        let flows: Vec<FlowRecord> = (0..20u8)
            .map(|h| flow(h as f64, [10, 0, 0, 9], [10, 0, 1, h], 445))
            .collect();
        let mut scores = vec![3.0; flows.len()];
        let p = IncidentParams::default();
        let low = group(&flows, &all(&flows), &scores, 2.0, &p);
        assert_eq!(low[0].severity, Severity::Medium);
        assert!(low[0]
            .summary
            .starts_with("10.0.0.9 swept 20 hosts on port 445/tcp in 19 s"));
        scores[3] = 9.0;
        let high = group(&flows, &all(&flows), &scores, 2.0, &p);
        assert_eq!(high[0].severity, Severity::High);
    }

    #[test]
    fn formats() {
        assert_eq!(format_duration(38.2), "38 s");
        assert_eq!(format_duration(720.0), "12 min");
        assert_eq!(format_duration(9000.0), "2.5 h");
        assert_eq!(format_bytes(640), "640 B");
        assert_eq!(format_bytes(1_500_000), "1.5 MB");
    }
}
