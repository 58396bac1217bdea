//! Numeric features for each flow: its own fields plus the recent behaviour of its hosts.
//!
//! A single scan probe or flood SYN looks like an ordinary failed connection; what gives it
//! away is context, so besides the flow's own sizes we count, over a trailing time window,
//! what its source and destination have been doing (distinct ports and peers, failures), like
//! the traffic features of KDD'99/NSL-KDD. Windows are causal (only earlier flows count), so
//! the same features could be computed live. Not standardised here: see `scaler`.

use crate::traffic::flow::{FlowRecord, Proto};
use crate::util::index_sort;
use crate::util::math;
use crate::util::matrix::Matrix;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;

/// Trailing window for the host-context features.
pub const DEFAULT_WINDOW_S: f64 = 60.0;

/// What each feature column means; the order is the column order.
pub const FEATURES: [FeatureInfo; 20] = [
    FeatureInfo::new("log_duration_s", "connection duration", Scale::Log),
    FeatureInfo::new("log_bytes_out", "bytes sent by the source", Scale::Log),
    FeatureInfo::new("log_bytes_in", "bytes sent back", Scale::Log),
    FeatureInfo::new("log_pkts_out", "packets sent by the source", Scale::Log),
    FeatureInfo::new("log_pkts_in", "packets sent back", Scale::Log),
    FeatureInfo::new(
        "failed_attempt",
        "unanswered or rejected connection",
        Scale::Flag,
    ),
    FeatureInfo::new("reset", "connection reset", Scale::Flag),
    FeatureInfo::new("proto_udp", "UDP", Scale::Flag),
    FeatureInfo::new(
        "dst_port_rarity",
        "rarity of the destination port",
        Scale::Plain,
    ),
    FeatureInfo::new(
        "src_flows_w",
        "connections from the source in the last minute",
        Scale::Log,
    ),
    FeatureInfo::new(
        "src_distinct_dst_ports_w",
        "distinct destination ports from the source in the last minute",
        Scale::Log,
    ),
    FeatureInfo::new(
        "src_distinct_dst_hosts_w",
        "distinct hosts contacted by the source in the last minute",
        Scale::Log,
    ),
    FeatureInfo::new(
        "src_failed_share_w",
        "share of the source's recent connections that failed",
        Scale::Plain,
    ),
    FeatureInfo::new(
        "dst_flows_w",
        "connections to the destination in the last minute",
        Scale::Log,
    ),
    FeatureInfo::new(
        "dst_distinct_src_hosts_w",
        "distinct sources reaching the destination in the last minute",
        Scale::Log,
    ),
    FeatureInfo::new(
        "dst_failed_share_w",
        "share of the destination's recent connections that failed",
        Scale::Plain,
    ),
    FeatureInfo::new(
        "pair_flows_w",
        "repeated connections to the same host and port in the last minute",
        Scale::Log,
    ),
    FeatureInfo::new(
        "out_share",
        "share of the connection's bytes sent by the source",
        Scale::Plain,
    ),
    FeatureInfo::new(
        "src_dns_flows_w",
        "DNS queries from the source in the last minute",
        Scale::Log,
    ),
    FeatureInfo::new(
        "pair_gap_regularity",
        "regularity of the gaps between the source's connections to this host",
        Scale::Plain,
    ),
];

/// Connections between one source and one destination before the gap regularity counts:
/// fewer gaps say nothing about a rhythm.
const REGULARITY_MIN_GAPS: u32 = 4;
/// Weight of the newest gap in the running mean and mean absolute deviation.
const REGULARITY_EWMA: f64 = 0.2;

/// Running statistics of the gaps between consecutive connections of a host pair, over the
/// whole run so far (beacons repeat over minutes to hours, longer than the window).
#[derive(Debug, Clone, Copy)]
struct PairGaps {
    last_ts: f64,
    gaps: u32,
    mean_s: f64,
    mad_s: f64,
}

impl PairGaps {
    fn new(ts: f64) -> PairGaps {
        PairGaps {
            last_ts: ts,
            gaps: 0,
            mean_s: 0.0,
            mad_s: 0.0,
        }
    }

    fn add(&mut self, ts: f64) {
        let gap = (ts - self.last_ts).max(0.0);
        self.last_ts = ts;
        if self.gaps == 0 {
            self.mean_s = gap;
            self.mad_s = 0.0;
        } else {
            let dev = (gap - self.mean_s).abs();
            self.mean_s += REGULARITY_EWMA * (gap - self.mean_s);
            self.mad_s += REGULARITY_EWMA * (dev - self.mad_s);
        }
        self.gaps += 1;
    }

    /// 1 for clockwork gaps, falling to 0 as the deviation reaches the mean gap; 0 until
    /// enough gaps were seen, and for bursts (gaps under a second are parallel connections,
    /// not a rhythm).
    fn regularity(&self) -> f64 {
        if self.gaps < REGULARITY_MIN_GAPS || self.mean_s < 1.0 {
            return 0.0;
        }
        1.0 - (self.mad_s / self.mean_s).min(1.0)
    }
}

/// How a feature's stored value relates to the quantity it describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scale {
    /// Stored as ln(1 + x): heavy-tailed counts and sizes.
    Log,
    /// 0 or 1.
    Flag,
    /// Stored as is.
    Plain,
    /// Stored as sign(x)·ln(1 + |x|): imported numeric columns of unknown range.
    SignedLog,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeatureInfo {
    pub name: &'static str,
    pub description: &'static str,
    pub scale: Scale,
}

impl FeatureInfo {
    const fn new(name: &'static str, description: &'static str, scale: Scale) -> FeatureInfo {
        FeatureInfo {
            name,
            description,
            scale,
        }
    }

    /// The quantity a stored value stands for (undoes the log transform).
    pub fn natural_value(&self, stored: f64) -> f64 {
        match self.scale {
            Scale::Log => math::exp(stored) - 1.0,
            Scale::SignedLog => stored.signum() * (math::exp(stored.abs()) - 1.0),
            Scale::Flag | Scale::Plain => stored,
        }
    }
}

/// A model input column, built in or taken from an imported file (owned names, so imported
/// columns fit too).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureColumn {
    pub name: String,
    pub description: String,
    pub scale: Scale,
}

impl FeatureColumn {
    /// An imported numeric column, stored on the signed-log scale.
    pub fn imported(name: &str) -> FeatureColumn {
        FeatureColumn {
            name: name.to_string(),
            description: format!("{name} (from the file)"),
            scale: Scale::SignedLog,
        }
    }

    pub fn natural_value(&self, stored: f64) -> f64 {
        FeatureInfo {
            name: "",
            description: "",
            scale: self.scale,
        }
        .natural_value(stored)
    }

    /// The stored value of a natural one, for `Scale::SignedLog` columns.
    pub fn signed_log(v: f64) -> f64 {
        v.signum() * math::ln(1.0 + v.abs())
    }
}

impl From<&FeatureInfo> for FeatureColumn {
    fn from(info: &FeatureInfo) -> FeatureColumn {
        FeatureColumn {
            name: info.name.to_string(),
            description: info.description.to_string(),
            scale: info.scale,
        }
    }
}

/// The built-in columns.
pub fn builtin_columns() -> Vec<FeatureColumn> {
    FEATURES.iter().map(FeatureColumn::from).collect()
}

pub fn feature_names() -> Vec<&'static str> {
    FEATURES.iter().map(|f| f.name).collect()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FeatureConfig {
    pub window_s: f64,
}

impl Default for FeatureConfig {
    fn default() -> FeatureConfig {
        FeatureConfig {
            window_s: DEFAULT_WINDOW_S,
        }
    }
}

/// Destination-port frequencies learned from the training flows: a port the training traffic
/// never used is rare, and rarity is what a scan sweeping unused ports produces.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(into = "PortTable", try_from = "PortTable")]
pub struct PortFrequency {
    counts: HashMap<(Proto, u16), u64>,
    total: u64,
}

/// A [`PortFrequency`] as saved in a model file: sorted, so the same model writes the same
/// bytes (a `HashMap`'s order is not fixed).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct PortTable {
    total: u64,
    /// `(proto, port, flows)`, sorted by protocol then port.
    ports: Vec<(Proto, u16, u64)>,
}

impl From<PortFrequency> for PortTable {
    fn from(p: PortFrequency) -> PortTable {
        let ports: Vec<(Proto, u16, u64)> = p
            .counts
            .into_iter()
            .map(|((pr, port), c)| (pr, port, c))
            .collect();
        let order = index_sort::sorted_indices_by(ports.len(), &mut |a, b| {
            (ports[a].0 as u8, ports[a].1).cmp(&(ports[b].0 as u8, ports[b].1))
        });
        let ports = index_sort::permuted(ports, &order);
        PortTable {
            total: p.total,
            ports,
        }
    }
}

impl TryFrom<PortTable> for PortFrequency {
    type Error = String;

    fn try_from(t: PortTable) -> Result<PortFrequency, String> {
        let mut counts = HashMap::with_capacity(t.ports.len());
        let mut sum = 0u64;
        for (proto, port, c) in t.ports {
            if counts.insert((proto, port), c).is_some() {
                return Err(format!("port {port}/{proto:?} is listed twice"));
            }
            sum = sum.saturating_add(c);
        }
        if sum != t.total {
            return Err(format!(
                "port counts add up to {sum} flows, the table says {}",
                t.total
            ));
        }
        Ok(PortFrequency {
            counts,
            total: t.total,
        })
    }
}

impl PortFrequency {
    pub fn fit<'a>(flows: impl IntoIterator<Item = &'a FlowRecord>) -> PortFrequency {
        let mut counts = HashMap::new();
        let mut total = 0u64;
        for f in flows {
            *counts.entry((f.proto, f.dst_port)).or_insert(0) += 1;
            total += 1;
        }
        PortFrequency { counts, total }
    }

    /// −ln of the port's smoothed relative frequency: 0 for a port every flow uses.
    pub fn rarity(&self, proto: Proto, port: u16) -> f64 {
        let c = self.counts.get(&(proto, port)).copied().unwrap_or(0);
        -math::ln((c as f64 + 1.0) / (self.total as f64 + 1.0))
    }
}

/// Counts of values seen for one key inside the window (a multiset), plus totals.
#[derive(Debug)]
struct Tally<V: Eq + Hash> {
    flows: u32,
    failed: u32,
    distinct: HashMap<V, u32>,
}

// Derived Default would demand `V: Default`, which IpAddr is not.
impl<V: Eq + Hash> Default for Tally<V> {
    fn default() -> Tally<V> {
        Tally {
            flows: 0,
            failed: 0,
            distinct: HashMap::new(),
        }
    }
}

impl<V: Eq + Hash> Tally<V> {
    fn add(&mut self, value: V, failed: bool) {
        self.flows += 1;
        self.failed += u32::from(failed);
        *self.distinct.entry(value).or_insert(0) += 1;
    }

    fn remove(&mut self, value: &V, failed: bool) {
        self.flows -= 1;
        self.failed -= u32::from(failed);
        if let Some(c) = self.distinct.get_mut(value) {
            *c -= 1;
            if *c == 0 {
                self.distinct.remove(value);
            }
        }
    }

    fn failed_share(&self) -> f64 {
        if self.flows == 0 {
            0.0
        } else {
            f64::from(self.failed) / f64::from(self.flows)
        }
    }
}

/// Window state keyed by host: the multisets for the source- and destination-side features.
#[derive(Default)]
struct WindowState {
    src_ports: HashMap<IpAddr, Tally<u16>>,
    src_hosts: HashMap<IpAddr, Tally<IpAddr>>,
    dst_srcs: HashMap<IpAddr, Tally<IpAddr>>,
    pairs: HashMap<(IpAddr, IpAddr, u16), u32>,
    src_dns: HashMap<IpAddr, u32>,
}

fn is_dns(f: &FlowRecord) -> bool {
    f.service == crate::traffic::flow::Service::Dns || (f.proto == Proto::Udp && f.dst_port == 53)
}

impl WindowState {
    fn add(&mut self, f: &FlowRecord) {
        let failed = f.conn_state.is_failed_attempt();
        self.src_ports
            .entry(f.src_ip)
            .or_default()
            .add(f.dst_port, failed);
        self.src_hosts
            .entry(f.src_ip)
            .or_default()
            .add(f.dst_ip, failed);
        self.dst_srcs
            .entry(f.dst_ip)
            .or_default()
            .add(f.src_ip, failed);
        *self
            .pairs
            .entry((f.src_ip, f.dst_ip, f.dst_port))
            .or_insert(0) += 1;
        if is_dns(f) {
            *self.src_dns.entry(f.src_ip).or_insert(0) += 1;
        }
    }

    fn src_dns(&self, src: &IpAddr) -> u32 {
        self.src_dns.get(src).copied().unwrap_or(0)
    }

    fn remove(&mut self, f: &FlowRecord) {
        let failed = f.conn_state.is_failed_attempt();
        remove_from(&mut self.src_ports, &f.src_ip, &f.dst_port, failed);
        remove_from(&mut self.src_hosts, &f.src_ip, &f.dst_ip, failed);
        remove_from(&mut self.dst_srcs, &f.dst_ip, &f.src_ip, failed);
        let key = (f.src_ip, f.dst_ip, f.dst_port);
        if let Some(c) = self.pairs.get_mut(&key) {
            *c -= 1;
            if *c == 0 {
                self.pairs.remove(&key);
            }
        }
        if is_dns(f) {
            if let Some(c) = self.src_dns.get_mut(&f.src_ip) {
                *c -= 1;
                if *c == 0 {
                    self.src_dns.remove(&f.src_ip);
                }
            }
        }
    }
}

fn remove_from<V: Eq + Hash>(
    map: &mut HashMap<IpAddr, Tally<V>>,
    key: &IpAddr,
    value: &V,
    failed: bool,
) {
    if let Some(t) = map.get_mut(key) {
        t.remove(value, failed);
        if t.flows == 0 {
            map.remove(key);
        }
    }
}

fn log1p(x: f64) -> f64 {
    math::ln(1.0 + x)
}

/// One feature row per flow, in flow order. `flows` must be sorted by `ts` (the generator's
/// output is); `ports` gives destination-port rarity.
pub fn extract(flows: &[FlowRecord], ports: &PortFrequency, config: &FeatureConfig) -> Matrix {
    extract_with_progress(flows, ports, config, &mut |_| {})
}

/// As [`extract`], reporting progress in [0, 1] about twenty times.
pub fn extract_with_progress(
    flows: &[FlowRecord],
    ports: &PortFrequency,
    config: &FeatureConfig,
    on_progress: &mut dyn FnMut(f64),
) -> Matrix {
    let d = FEATURES.len();
    let mut x = Matrix::zeros(flows.len(), d);
    let mut state = WindowState::default();
    let mut gaps: HashMap<(IpAddr, IpAddr), PairGaps> = HashMap::new();
    let mut oldest = 0;
    let report_every = (flows.len() / 20).max(1);
    for i in 0..flows.len() {
        oldest = fill_row(
            flows,
            i,
            oldest,
            ports,
            config,
            &mut state,
            &mut gaps,
            x.row_mut(i),
        );
        if i % report_every == 0 {
            on_progress(i as f64 / flows.len() as f64);
        }
    }
    on_progress(1.0);
    x
}

/// One flow's feature row; slides the window past flows older than `window_s` first and
/// returns the new oldest index. Out of line on purpose: V8 runs a wasm function that is
/// entered once (the whole extraction) in its baseline tier until it returns, while a
/// function entered per flow is optimised after a few hundred calls.
#[allow(clippy::too_many_arguments)]
#[inline(never)]
fn fill_row(
    flows: &[FlowRecord],
    i: usize,
    mut oldest: usize,
    ports: &PortFrequency,
    config: &FeatureConfig,
    state: &mut WindowState,
    gaps: &mut HashMap<(IpAddr, IpAddr), PairGaps>,
    row: &mut [f64],
) -> usize {
    let f = &flows[i];
    while oldest < i && flows[oldest].ts <= f.ts - config.window_s {
        state.remove(&flows[oldest]);
        oldest += 1;
    }
    state.add(f);
    let src_ports = &state.src_ports[&f.src_ip];
    let src_hosts = &state.src_hosts[&f.src_ip];
    let dst_srcs = &state.dst_srcs[&f.dst_ip];
    let pair = state.pairs[&(f.src_ip, f.dst_ip, f.dst_port)];
    row[0] = log1p(f.duration_s.max(0.0));
    row[1] = log1p(f.bytes_out as f64);
    row[2] = log1p(f.bytes_in as f64);
    row[3] = log1p(f.pkts_out as f64);
    row[4] = log1p(f.pkts_in as f64);
    row[5] = f64::from(u8::from(f.conn_state.is_failed_attempt()));
    row[6] = f64::from(u8::from(matches!(
        f.conn_state,
        crate::traffic::flow::ConnState::RSTO | crate::traffic::flow::ConnState::RSTR
    )));
    row[7] = f64::from(u8::from(f.proto == Proto::Udp));
    row[8] = ports.rarity(f.proto, f.dst_port);
    row[9] = log1p(f64::from(src_ports.flows));
    row[10] = log1p(src_ports.distinct.len() as f64);
    row[11] = log1p(src_hosts.distinct.len() as f64);
    row[12] = src_ports.failed_share();
    row[13] = log1p(f64::from(dst_srcs.flows));
    row[14] = log1p(dst_srcs.distinct.len() as f64);
    row[15] = dst_srcs.failed_share();
    row[16] = log1p(f64::from(pair));
    let total_bytes = f.bytes_out.saturating_add(f.bytes_in);
    row[17] = if total_bytes == 0 {
        0.0
    } else {
        f.bytes_out as f64 / total_bytes as f64
    };
    row[18] = log1p(f64::from(state.src_dns(&f.src_ip)));
    let pair_gaps = gaps
        .entry((f.src_ip, f.dst_ip))
        .and_modify(|g| g.add(f.ts))
        .or_insert_with(|| PairGaps::new(f.ts));
    row[19] = pair_gaps.regularity();
    oldest
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::traffic::flow::{ConnState, Label, Service};
    use std::net::Ipv4Addr;

    fn flow(ts: f64, src: u8, dst: u8, port: u16, state: ConnState) -> FlowRecord {
        FlowRecord {
            ts,
            src_ip: IpAddr::V4(Ipv4Addr::new(10, 0, 1, src)),
            src_port: 50_000,
            dst_ip: IpAddr::V4(Ipv4Addr::new(10, 0, 0, dst)),
            dst_port: port,
            proto: Proto::Tcp,
            service: Service::None,
            duration_s: 1.5,
            bytes_out: 100,
            bytes_in: 0,
            pkts_out: 2,
            pkts_in: 0,
            conn_state: state,
            history: crate::traffic::flow::ConnHistory::EMPTY,
            label: Label::Benign,
            incident_id: None,
            orig_role: crate::traffic::flow::OrigRole::None,
        }
    }

    fn natural(x: &Matrix, row: usize, name: &str) -> f64 {
        let j = FEATURES.iter().position(|f| f.name == name).unwrap();
        FEATURES[j].natural_value(x.get(row, j))
    }

    #[test]
    fn window_counts_distinct_ports_and_expires_old_flows() {
        let flows = vec![
            flow(0.0, 1, 1, 22, ConnState::S0),
            flow(1.0, 1, 1, 23, ConnState::REJ),
            flow(2.0, 1, 1, 23, ConnState::SF),
            flow(3.0, 2, 1, 80, ConnState::SF),
            // 70 s later the first four have left the 60 s window.
            flow(73.0, 1, 2, 80, ConnState::SF),
        ];
        let x = extract(&flows, &PortFrequency::default(), &FeatureConfig::default());
        assert_eq!(x.rows(), 5);
        assert_eq!(x.cols(), FEATURES.len());
        let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
        assert!(close(natural(&x, 2, "src_flows_w"), 3.0));
        assert!(close(natural(&x, 2, "src_distinct_dst_ports_w"), 2.0));
        assert!(close(natural(&x, 2, "src_failed_share_w"), 2.0 / 3.0));
        assert!(close(natural(&x, 2, "pair_flows_w"), 2.0));
        assert!(close(natural(&x, 3, "dst_distinct_src_hosts_w"), 2.0));
        assert!(close(natural(&x, 3, "dst_flows_w"), 4.0));
        assert!(close(natural(&x, 4, "src_flows_w"), 1.0));
        assert!(close(natural(&x, 4, "dst_flows_w"), 1.0));
        assert!(close(natural(&x, 0, "failed_attempt"), 1.0));
        assert!(close(natural(&x, 3, "failed_attempt"), 0.0));
        assert!(close(natural(&x, 0, "log_bytes_out"), 100.0));
    }

    #[test]
    fn new_features_see_upload_share_dns_volume_and_rhythm() {
        let mut flows: Vec<FlowRecord> = Vec::new();
        // A clockwork pair (every 60 s ± 1 s) and a bursty one, interleaved.
        for k in 0..12 {
            let t = f64::from(k) * 60.0 + if k % 2 == 0 { 1.0 } else { -1.0 };
            flows.push(flow(t + 5.0, 1, 1, 443, ConnState::SF));
            let bursty = [0.0, 0.2, 0.4, 40.0, 41.0, 200.0][k as usize % 6];
            flows.push(flow(t.max(0.0) + bursty, 2, 2, 443, ConnState::SF));
        }
        for k in 0..5 {
            let mut q = flow(800.0 + f64::from(k), 3, 53, 53, ConnState::SF);
            q.proto = Proto::Udp;
            q.service = Service::Dns;
            flows.push(q);
        }
        flows.sort_by(|a, b| a.ts.total_cmp(&b.ts));
        let x = extract(&flows, &PortFrequency::default(), &FeatureConfig::default());
        let last_of = |src: u8| {
            flows
                .iter()
                .rposition(|f| f.src_ip == IpAddr::V4(Ipv4Addr::new(10, 0, 1, src)))
                .unwrap()
        };
        let clockwork = natural(&x, last_of(1), "pair_gap_regularity");
        let bursty = natural(&x, last_of(2), "pair_gap_regularity");
        assert!(clockwork > 0.9, "{clockwork}");
        assert!(bursty < clockwork - 0.3, "{bursty}");
        assert_eq!(natural(&x, 0, "pair_gap_regularity"), 0.0, "no rhythm yet");
        assert!((natural(&x, last_of(3), "src_dns_flows_w") - 5.0).abs() < 1e-9);
        assert_eq!(natural(&x, last_of(1), "src_dns_flows_w"), 0.0);
        // flow(): 100 bytes out, none back.
        assert_eq!(natural(&x, 0, "out_share"), 1.0);
    }

    #[test]
    fn port_rarity_orders_common_below_unseen() {
        let train: Vec<FlowRecord> = (0..99)
            .map(|i| flow(i as f64, 1, 1, 443, ConnState::SF))
            .chain([flow(100.0, 1, 1, 22, ConnState::SF)])
            .collect();
        let p = PortFrequency::fit(&train);
        let common = p.rarity(Proto::Tcp, 443);
        let rare = p.rarity(Proto::Tcp, 22);
        let unseen = p.rarity(Proto::Tcp, 31337);
        assert!(common < rare && rare < unseen);
        assert!(common < 0.02);
        assert!(
            p.rarity(Proto::Udp, 443) == unseen,
            "protocol is part of the key"
        );
    }

    #[test]
    fn all_values_finite() {
        let flows: Vec<FlowRecord> = (0..500)
            .map(|i| {
                flow(
                    i as f64 * 0.3,
                    (i % 7) as u8,
                    (i % 5) as u8,
                    (i % 40) as u16,
                    ConnState::SF,
                )
            })
            .collect();
        let x = extract(
            &flows,
            &PortFrequency::fit(&flows),
            &FeatureConfig::default(),
        );
        assert!(x.all_finite());
    }
}
