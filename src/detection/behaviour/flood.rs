//! Denial of service seen from the victim's side: SYN floods, volumetric floods of unanswered
//! UDP/ICMP/other flows, reflection/amplification and slow HTTP (slowloris). The key host is
//! always the victim (`KeyRole::Victim`): the sources of a flood are usually spoofed or a
//! botnet, and blocking them is not the answer.
//!
//! Rules, each over a sliding window per victim (windows of one victim closer than
//! `quiet_gap_s` merge into one detection):
//! - **SYN flood** (T1499.001 OS Exhaustion Flood): per victim host and port, at least
//!   `syn_min_half_open` half-open attempts within `syn_window_s` (100 in 10 s: a sustained
//!   10 per second), and they are at least `syn_min_half_open_share` of all TCP flows to that
//!   port in the window (0.5). Half-open: the originator sent one SYN and nothing else (no
//!   payload, at most one packet, history letters of the originator only `S`), whatever the
//!   victim answered (`S0`, or `OTH`/`REJ` when its SYN-ACK or RST is seen). Real clients
//!   retransmit their SYN, so an outage (clients retrying a dead server) does not count; a
//!   busy web server's ordinary connections complete and keep the share low; a port scan
//!   touches each port once. Single-source floods count like spoofed ones.
//! - **Volumetric flood** (T1498.001 Direct Network Flood): per victim host, at least
//!   `volumetric_min_flows` UDP, ICMP or other-protocol flows the victim never answered
//!   within `volumetric_window_s` (5,000 in 10 s), at least `volumetric_min_unanswered_share`
//!   of its such flows in the window (0.9). Flows, not packets: a flood from one 5-tuple is a
//!   single Zeek flow and is not caught here (the models see its volume). A UDP port scan is
//!   a flood only at 500 probes per second and more.
//! - **Reflection/amplification** (T1498.002): per victim host, UDP flows from a reflector
//!   service port (DNS 53, NTP 123, SNMP 161, CLDAP 389, SSDP 1900, memcached 11211, chargen
//!   19, QOTD 17, ... after CISA's TA14-017A list) to a different port of the victim, which
//!   never answered (Zeek logs them as originated by the reflector, or flips them and marks
//!   `^`: then the victim is the originator that sent nothing). At least
//!   `reflection_min_reflectors` distinct reflectors (20) and `reflection_min_bytes` (1 MB)
//!   within `reflection_window_s` (60 s). Answers to the victim's own queries belong to the
//!   victim's flows and never count; a few late answers or SSDP replies stay far below the
//!   bars.
//! - **Slow DoS** (T1499.002 Service Exhaustion Flood): per web server and port (HTTP/TLS
//!   service, or ports 80, 443, 8000, 8080, 8443, 8888), at least `slow_min_connections`
//!   (10) established connections started within `slow_window_s` (300 s) that stayed open at
//!   least `slow_min_duration_s` (60 s), carried request bytes at no more than
//!   `slow_max_bytes_out_per_s` (100 B/s) in at least one packet a minute (the client kept
//!   trickling; when packet counts are known), and got at most `slow_max_bytes_in` (1 KB,
//!   room for a 408 reply) back: slowloris and slow POST. Idle keep-alive connections carry
//!   their responses; browser preconnects send nothing; a client waiting for a hung backend
//!   sent its request once and went quiet.
//!
//! Deliberately not caught: floods below the rates above, SYN floods drowned in more
//! legitimate traffic than flood (share below one half), slow HTTP over TLS (the handshake
//! alone exceeds `slow_max_bytes_in`), slow-read attacks (the server does send), and
//! application-layer floods of complete requests (they look like busy traffic).
//!
//! Windows are tested at each hit within four of the bar's mean spacings of the previous
//! one, so a detection ends when the flood stops; its flows are the hits only (the victim's
//! ordinary visitors are not the attack). Cost: the sliding-window engine in `scan.rs` (one
//! pass collecting hits, a second only for victims that can pass, two pointers per victim):
//! O(n log n).

use super::behaviour_detection::{BehaviourDetection, BehaviourKind, Evidence, KeyRole};
use super::net;
use super::scan::{
    between_hosts, both, find_all, ip_bits, one, percent, port_list, responder_silent, share_or,
    span_or, Counts, Found, Mark, Rule, Test, SPAN_MAX_S,
};
use super::technique::Technique;
use crate::traffic::flow::{ConnState, FlowRecord, Proto, Service};
use crate::util::format_value::format_value;
use crate::util::index_sort;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::IpAddr;

/// Thresholds of the flood rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FloodParams {
    /// SYN-flood window, seconds. 10: short enough that a burst of a few seconds is a rate,
    /// long enough to smooth one busy second.
    pub syn_window_s: f64,
    /// Half-open attempts on one port of one host within `syn_window_s`. 100 (10 per
    /// second): Snort and Suricata express SYN-flood rules as such a per-destination rate
    /// (`detection_filter: track by_dst, count, seconds`) with a site-chosen count; 10 per
    /// second of SYNs that never complete is far below real floods (thousands per second)
    /// and 30 times the most the generated sites ever show (3 in 10 s).
    pub syn_min_half_open: u32,
    /// Half-open share of the TCP flows to that port in the window. 0.5: most attempts never
    /// complete (benign servers see 1-5 %).
    pub syn_min_half_open_share: f64,
    /// Volumetric-flood window, seconds. 10, as for SYN floods.
    pub volumetric_window_s: f64,
    /// Unanswered UDP/ICMP/other flows to one host within `volumetric_window_s`. 5,000 (500
    /// new flows per second): five times masscan's default rate (its 1,001-port UDP scan in
    /// the ESnet capture is 1,000 flows in 10 s) and ten times a loud nmap -sU, so UDP port
    /// scans stay scans; real floods run at thousands to millions per second.
    pub volumetric_min_flows: u32,
    /// Unanswered share of the host's UDP/ICMP/other flows in the window. 0.9: a service
    /// that answers (DNS, NTP, games) is busy, not flooded.
    pub volumetric_min_unanswered_share: f64,
    /// Reflection window, seconds. 60: Zeek's UDP inactivity timeout, so one reflector's
    /// burst is one flow.
    pub reflection_window_s: f64,
    /// Distinct reflectors answering the victim unasked within `reflection_window_s`. 20:
    /// amplification needs many reflectors; a LAN's SSDP or mDNS replies come from a few.
    pub reflection_min_reflectors: u32,
    /// Bytes the reflectors sent within `reflection_window_s`. 1 MB (133 kbit/s for a
    /// minute): amplified answers are KB each, benign stray answers a few hundred bytes.
    pub reflection_min_bytes: u64,
    /// Slow-DoS window over connection starts, seconds. 300: slowloris opens its sockets
    /// in a burst and reopens each when the server drops it (Apache's default timeout).
    pub slow_window_s: f64,
    /// Slow connections to one web port within `slow_window_s`. 10: slowloris defaults to
    /// 150 sockets; a browser keeps at most 6 per server, and idle ones carry responses
    /// (generated benign traffic never has more than one such connection at a time).
    pub slow_min_connections: u32,
    /// A slow connection lasts at least this long, seconds. 60: nginx's default header
    /// timeout; a normal request is answered in well under a second.
    pub slow_min_duration_s: f64,
    /// A slow connection got at most this many bytes back. 1024: room for a "408 Request
    /// Timeout"; slowloris' incomplete requests get no response.
    pub slow_max_bytes_in: u64,
    /// A slow connection sent at most this many bytes per second. 100: slowloris trickles a
    /// header line of ~20 bytes every 10-15 s.
    pub slow_max_bytes_out_per_s: f64,
    /// Firing windows of one victim and kind closer than this merge into one detection,
    /// seconds. 300: a flood that pauses for a few minutes is the same attack.
    pub quiet_gap_s: f64,
}

impl Default for FloodParams {
    fn default() -> FloodParams {
        FloodParams {
            syn_window_s: 10.0,
            syn_min_half_open: 100,
            syn_min_half_open_share: 0.5,
            volumetric_window_s: 10.0,
            volumetric_min_flows: 5_000,
            volumetric_min_unanswered_share: 0.9,
            reflection_window_s: 60.0,
            reflection_min_reflectors: 20,
            reflection_min_bytes: 1_000_000,
            slow_window_s: 300.0,
            slow_min_connections: 10,
            slow_min_duration_s: 60.0,
            slow_max_bytes_in: 1_024,
            slow_max_bytes_out_per_s: 100.0,
            quiet_gap_s: 300.0,
        }
    }
}

impl FloodParams {
    /// The params made usable: non-positive or non-finite spans take the default, counts
    /// are at least 1, shares lie in [0, 1], rates and gaps are at least 0.
    fn sanitized(&self) -> FloodParams {
        let d = FloodParams::default();
        let non_negative = |v: f64, default: f64, max: f64| {
            if v.is_nan() {
                default
            } else {
                v.clamp(0.0, max)
            }
        };
        FloodParams {
            syn_window_s: span_or(self.syn_window_s, d.syn_window_s),
            syn_min_half_open: self.syn_min_half_open.max(1),
            syn_min_half_open_share: share_or(
                self.syn_min_half_open_share,
                d.syn_min_half_open_share,
            ),
            volumetric_window_s: span_or(self.volumetric_window_s, d.volumetric_window_s),
            volumetric_min_flows: self.volumetric_min_flows.max(1),
            volumetric_min_unanswered_share: share_or(
                self.volumetric_min_unanswered_share,
                d.volumetric_min_unanswered_share,
            ),
            reflection_window_s: span_or(self.reflection_window_s, d.reflection_window_s),
            reflection_min_reflectors: self.reflection_min_reflectors.max(1),
            reflection_min_bytes: self.reflection_min_bytes,
            slow_window_s: span_or(self.slow_window_s, d.slow_window_s),
            slow_min_connections: self.slow_min_connections.max(1),
            slow_min_duration_s: non_negative(
                self.slow_min_duration_s,
                d.slow_min_duration_s,
                SPAN_MAX_S,
            ),
            slow_max_bytes_in: self.slow_max_bytes_in,
            slow_max_bytes_out_per_s: non_negative(
                self.slow_max_bytes_out_per_s,
                d.slow_max_bytes_out_per_s,
                f64::MAX,
            ),
            quiet_gap_s: non_negative(self.quiet_gap_s, d.quiet_gap_s, SPAN_MAX_S),
        }
    }
}

/// UDP services that answer a small spoofed request with a large reply (CISA TA14-017A and
/// later additions: CLDAP, memcached, WS-Discovery, ARD, Ubiquiti discovery, CoAP, DTLS).
const REFLECTOR_PORTS: [u16; 22] = [
    17, 19, 53, 69, 111, 123, 137, 161, 389, 520, 1434, 1900, 3283, 3702, 5351, 5353, 5683, 10_001,
    11_211, 26_000, 27_015, 37_810,
];

/// Ports web servers listen on (besides flows Zeek recognised as HTTP or TLS).
const WEB_PORTS: [u16; 6] = [80, 443, 8000, 8080, 8443, 8888];

pub fn detect(flows: &[FlowRecord], params: &FloodParams) -> Vec<BehaviourDetection> {
    let p = params.sanitized();
    let syn = (f64::from(p.syn_min_half_open), p.syn_min_half_open_share);
    let syn_fires = |c: &Counts| both(c.hits as f64, syn.0, c.share(), syn.1);
    let vol = (
        f64::from(p.volumetric_min_flows),
        p.volumetric_min_unanswered_share,
    );
    let vol_fires = |c: &Counts| both(c.hits as f64, vol.0, c.share(), vol.1);
    let refl = (
        f64::from(p.reflection_min_reflectors),
        p.reflection_min_bytes as f64,
    );
    let refl_fires = |c: &Counts| both(c.a as f64, refl.0, c.bytes as f64, refl.1);
    let slow = f64::from(p.slow_min_connections);
    let slow_fires = |c: &Counts| one(c.hits as f64, slow);
    let slow_hit = |f: &FlowRecord| slow_mark(&p, f);
    let tests = [
        [Test::new(p.syn_window_s, syn.0, &syn_fires)],
        [Test::new(p.volumetric_window_s, vol.0, &vol_fires)],
        [Test::new(p.reflection_window_s, refl.0, &refl_fires)],
        [Test::new(p.slow_window_s, slow, &slow_fires)],
    ];
    let gap_s = p.quiet_gap_s;
    let rules = [
        Rule {
            key: &syn_key,
            mark: &syn_mark,
            min_hits: u64::from(p.syn_min_half_open),
            tests: &tests[0],
            gap_s,
            new_items: false,
        },
        Rule {
            key: &volumetric_key,
            mark: &volumetric_mark,
            min_hits: u64::from(p.volumetric_min_flows),
            tests: &tests[1],
            gap_s,
            new_items: false,
        },
        Rule {
            key: &reflection_key,
            mark: &reflection_mark,
            min_hits: u64::from(p.reflection_min_reflectors),
            tests: &tests[2],
            gap_s,
            new_items: false,
        },
        Rule {
            key: &slow_key,
            mark: &slow_hit,
            min_hits: u64::from(p.slow_min_connections),
            tests: &tests[3],
            gap_s,
            new_items: false,
        },
    ];
    let mut out = Vec::new();
    for (k, found) in find_all(flows, &rules).into_iter().enumerate() {
        for found in found {
            out.push(match k {
                0 => syn_detection(flows, &p, &found),
                1 => volumetric_detection(flows, &p, &found),
                2 => reflection_detection(flows, &p, &found),
                _ => slow_detection(flows, &p, &found),
            });
        }
    }
    out
}

/// The originator sent a single SYN and nothing else.
fn half_open(f: &FlowRecord) -> bool {
    if f.proto != Proto::Tcp || f.bytes_out > 0 || f.pkts_out > 1 {
        return false;
    }
    if f.history.is_empty() {
        return f.conn_state == ConnState::S0;
    }
    let h = f.history.as_str();
    h.contains('S')
        && !h
            .bytes()
            .any(|b| b == b'^' || (b.is_ascii_uppercase() && b != b'S'))
}

/// SYN floods key by victim and port; a hit is a half-open attempt (sources are counted on
/// the detection, not in the window: a spoofed flood has millions).
fn syn_key(f: &FlowRecord) -> Option<(IpAddr, u128)> {
    (f.proto == Proto::Tcp && is_victim(f.dst_ip)).then_some((f.dst_ip, u128::from(f.dst_port)))
}

/// A flood's victim is one host; its sources may be any address (spoofed, even the victim's
/// own in a LAND attack).
fn is_victim(ip: IpAddr) -> bool {
    !net::is_not_a_host(ip)
}

fn syn_mark(f: &FlowRecord) -> Mark {
    Mark {
        hit: half_open(f),
        ..Mark::default()
    }
}

/// Volumetric floods key by victim over its UDP/ICMP/other flows; a hit went unanswered.
fn volumetric_key(f: &FlowRecord) -> Option<(IpAddr, u128)> {
    (f.proto != Proto::Tcp && is_victim(f.dst_ip)).then_some((f.dst_ip, 0))
}

fn volumetric_mark(f: &FlowRecord) -> Mark {
    Mark {
        hit: responder_silent(f),
        ..Mark::default()
    }
}

/// A reflected answer: (victim, reflector, reflector's port, bytes reflected), in either
/// orientation Zeek may log it.
fn reflected(f: &FlowRecord) -> Option<(IpAddr, IpAddr, u16, u64)> {
    if f.proto != Proto::Udp || f.src_port == f.dst_port || !between_hosts(f) {
        return None;
    }
    let sent_out = f.pkts_out > 0 || f.bytes_out > 0;
    let sent_in = f.pkts_in > 0 || f.bytes_in > 0;
    if REFLECTOR_PORTS.contains(&f.src_port) && sent_out && !sent_in {
        Some((f.dst_ip, f.src_ip, f.src_port, f.bytes_out))
    } else if REFLECTOR_PORTS.contains(&f.dst_port) && sent_in && !sent_out {
        // Flipped: the victim is logged as the originator of a flow it sent nothing in.
        Some((f.src_ip, f.dst_ip, f.dst_port, f.bytes_in))
    } else {
        None
    }
}

/// Reflection keys by victim over reflected answers only; `a` is the reflector.
fn reflection_key(f: &FlowRecord) -> Option<(IpAddr, u128)> {
    reflected(f).map(|(victim, ..)| (victim, 0))
}

fn reflection_mark(f: &FlowRecord) -> Mark {
    match reflected(f) {
        Some((_, reflector, _, bytes)) => Mark {
            hit: true,
            a: Some(ip_bits(reflector)),
            bytes,
            ..Mark::default()
        },
        None => Mark::default(),
    }
}

/// Slow DoS keys by web server and port; a hit is a slow connection.
fn slow_key(f: &FlowRecord) -> Option<(IpAddr, u128)> {
    let web = matches!(f.service, Service::Http | Service::Ssl) || WEB_PORTS.contains(&f.dst_port);
    (f.proto == Proto::Tcp && web && is_victim(f.dst_ip))
        .then_some((f.dst_ip, u128::from(f.dst_port)))
}

/// Established, long, request bytes trickled (at least a packet a minute when packets are
/// counted), (almost) nothing back.
fn is_slow(p: &FloodParams, f: &FlowRecord) -> bool {
    let established = matches!(
        f.conn_state,
        ConnState::S1
            | ConnState::S2
            | ConnState::S3
            | ConnState::SF
            | ConnState::RSTO
            | ConnState::RSTR
    );
    let d = f.duration_s;
    established
        && d.is_finite()
        && d > 0.0
        && d >= p.slow_min_duration_s
        && f.bytes_out > 0
        && f.bytes_in <= p.slow_max_bytes_in
        && f.bytes_out as f64 / d <= p.slow_max_bytes_out_per_s
        && (f.pkts_out == 0 || f.pkts_out as f64 >= d / 60.0)
}

fn slow_mark(p: &FloodParams, f: &FlowRecord) -> Mark {
    Mark {
        hit: is_slow(p, f),
        ..Mark::default()
    }
}

fn syn_detection(flows: &[FlowRecord], p: &FloodParams, found: &Found) -> BehaviourDetection {
    let window = net::span_words(p.syn_window_s);
    let evidence = vec![
        Evidence::test(
            &format!("half-open SYNs to one port in {window}"),
            found.best.hits as f64,
            f64::from(p.syn_min_half_open),
        ),
        Evidence::test(
            "half-open share in that window",
            found.best.share(),
            p.syn_min_half_open_share,
        ),
    ];
    let (d, all) = victim_detection(
        BehaviourKind::SynFlood,
        Technique::OsExhaustionFlood,
        flows,
        found,
        evidence,
        &syn_mark,
    );
    let summary = format!(
        "{} got {} half-open SYNs on {} from {} sources in {} (peak {} per s); {} of its connections there never completed",
        found.ip,
        format_value(d.flow_count as f64),
        port_list(&d.dst_ports, d.distinct_dst_ports, Proto::Tcp),
        format_value(d.distinct_src_hosts as f64),
        net::span_words(d.duration_s()),
        format_value(found.best.hits as f64 / p.syn_window_s),
        percent(d.flow_count as f64 / all.max(1) as f64),
    );
    finish(d, all, found, p.syn_window_s, summary)
}

fn volumetric_detection(
    flows: &[FlowRecord],
    p: &FloodParams,
    found: &Found,
) -> BehaviourDetection {
    let window = net::span_words(p.volumetric_window_s);
    let evidence = vec![
        Evidence::test(
            &format!("unanswered UDP/ICMP/other flows in {window}"),
            found.best.hits as f64,
            f64::from(p.volumetric_min_flows),
        ),
        Evidence::test(
            "unanswered share in that window",
            found.best.share(),
            p.volumetric_min_unanswered_share,
        ),
    ];
    let (d, all) = victim_detection(
        BehaviourKind::VolumetricFlood,
        Technique::DirectNetworkFlood,
        flows,
        found,
        evidence,
        &volumetric_mark,
    );
    let mut protos: BTreeMap<&str, u64> = BTreeMap::new();
    let mut bytes = 0u64;
    for &i in &d.flows {
        let f = &flows[i as usize];
        *protos.entry(f.proto.as_str()).or_default() += 1;
        bytes = bytes.saturating_add(f.bytes_out);
    }
    let protos: Vec<&str> = protos.keys().copied().collect();
    let summary = format!(
        "{} got {} unanswered {} flows ({}) from {} sources in {} (peak {} per s)",
        found.ip,
        format_value(d.flow_count as f64),
        protos.join("/"),
        net::bytes_words(bytes as f64),
        format_value(d.distinct_src_hosts as f64),
        net::span_words(d.duration_s()),
        format_value(found.best.hits as f64 / p.volumetric_window_s),
    );
    finish(d, all, found, p.volumetric_window_s, summary)
}

fn reflection_detection(
    flows: &[FlowRecord],
    p: &FloodParams,
    found: &Found,
) -> BehaviourDetection {
    let window = net::span_words(p.reflection_window_s);
    let evidence = vec![
        Evidence::test(
            &format!("reflectors answering unasked in {window}"),
            found.best.a as f64,
            f64::from(p.reflection_min_reflectors),
        ),
        Evidence::test(
            &format!("bytes reflected in {window}"),
            found.best.bytes as f64,
            p.reflection_min_bytes as f64,
        ),
    ];
    let (mut d, all) = victim_detection(
        BehaviourKind::Reflection,
        Technique::ReflectionAmplification,
        flows,
        found,
        evidence,
        &reflection_mark,
    );
    let mut reflectors: BTreeMap<IpAddr, u64> = BTreeMap::new();
    let mut ports: BTreeMap<u16, u64> = BTreeMap::new();
    let mut bytes = 0u64;
    for &i in &found.rows {
        if let Some((_, reflector, port, b)) = reflected(&flows[i]) {
            *reflectors.entry(reflector).or_default() += 1;
            *ports.entry(port).or_default() += 1;
            bytes = bytes.saturating_add(b);
        }
    }
    // The reflectors' service ports, most used first: the victim's own ports say little.
    let port_counts: Vec<(u16, u64)> = ports.into_iter().collect();
    let order = index_sort::sorted_indices_by(port_counts.len(), &mut |a, b| {
        port_counts[b].1.cmp(&port_counts[a].1)
    });
    d.dst_ports = order.iter().take(5).map(|&k| port_counts[k].0).collect();
    d.distinct_dst_ports = port_counts.len() as u64;
    let summary = format!(
        "{} got {} from {} reflectors (source {}) in {} with no request seen",
        found.ip,
        net::bytes_words(bytes as f64),
        format_value(reflectors.len() as f64),
        port_list(&d.dst_ports, d.distinct_dst_ports, Proto::Udp),
        net::span_words(d.duration_s()),
    );
    d.evidence
        .push(Evidence::context("reflectors", reflectors.len() as f64));
    d.evidence
        .push(Evidence::context("bytes reflected", bytes as f64));
    finish(d, all, found, p.reflection_window_s, summary)
}

fn slow_detection(flows: &[FlowRecord], p: &FloodParams, found: &Found) -> BehaviourDetection {
    let evidence = vec![Evidence::test(
        &format!(
            "connections held open and nearly idle, started in {}",
            net::span_words(p.slow_window_s)
        ),
        found.best.hits as f64,
        f64::from(p.slow_min_connections),
    )];
    let (mut d, all) = victim_detection(
        BehaviourKind::SlowDos,
        Technique::ServiceExhaustionFlood,
        flows,
        found,
        evidence,
        &|f| slow_mark(p, f),
    );
    let mut durations: Vec<f64> = d
        .flows
        .iter()
        .map(|&i| flows[i as usize].duration_s)
        .collect();
    index_sort::sort_f64(&mut durations);
    let median_s = durations.get(durations.len() / 2).copied().unwrap_or(0.0);
    let sent: u64 = d.flows.iter().map(|&i| flows[i as usize].bytes_out).sum();
    let rate = sent as f64 / durations.iter().sum::<f64>().max(1e-9);
    let summary = format!(
        "{} held {} connections to {} {} open (median {} each), sending {} B/s and getting no response",
        format_sources(&d.src_ips, d.distinct_src_hosts),
        format_value(d.flow_count as f64),
        found.ip,
        port_list(&d.dst_ports, d.distinct_dst_ports, Proto::Tcp),
        net::span_words(median_s),
        format_value(rate),
    );
    d.evidence
        .push(Evidence::context("median duration s", median_s));
    d.evidence.push(Evidence::context("bytes sent per s", rate));
    finish(d, all, found, p.slow_window_s, summary)
}

/// "203.0.113.9" or "203.0.113.9 and 2 more".
fn format_sources(listed: &[IpAddr], distinct: u64) -> String {
    match listed.first() {
        Some(ip) if distinct > 1 => {
            format!("{ip} and {} more", format_value((distinct - 1) as f64))
        }
        Some(ip) => ip.to_string(),
        None => "no source".to_string(),
    }
}

/// The detection over the hits among one victim's rows (the victim's ordinary traffic in
/// the same minutes is not the attack), and how many rows there were in all.
fn victim_detection(
    kind: BehaviourKind,
    technique: Technique,
    flows: &[FlowRecord],
    found: &Found,
    evidence: Vec<Evidence>,
    mark: &dyn Fn(&FlowRecord) -> Mark,
) -> (BehaviourDetection, u64) {
    let hits: Vec<usize> = found
        .rows
        .iter()
        .copied()
        .filter(|&i| mark(&flows[i]).hit)
        .collect();
    let d = BehaviourDetection::from_rows(
        kind,
        technique,
        (found.ip, KeyRole::Victim),
        flows,
        &hits,
        evidence,
        String::new(),
    );
    (d, found.rows.len() as u64)
}

/// Adds the shared context (flows, sources, peak rate, duration) and the summary.
fn finish(
    mut d: BehaviourDetection,
    all: u64,
    found: &Found,
    window_s: f64,
    summary: String,
) -> BehaviourDetection {
    d.evidence.extend([
        Evidence::context("flows", d.flow_count as f64),
        Evidence::context("flows to the victim in the same time", all as f64),
        Evidence::context("distinct sources", d.distinct_src_hosts as f64),
        Evidence::context("peak flows per s", found.best.hits as f64 / window_s),
        Evidence::context("duration s", d.duration_s()),
    ]);
    d.summary = summary;
    d
}

#[cfg(test)]
mod tests {
    use super::super::scan::tests::{
        benign_runs, flow, generated, ip, real, recall_and_precision, sorted, tcp, zeek_traces,
    };
    use super::*;
    use crate::traffic::flow::{AttackKind, ConnHistory};

    const T0: f64 = 1_767_261_600.0;

    fn run(flows: &[FlowRecord]) -> Vec<BehaviourDetection> {
        detect(flows, &FloodParams::default())
    }

    fn kinds(ds: &[BehaviourDetection]) -> Vec<BehaviourKind> {
        ds.iter().map(|d| d.kind).collect()
    }

    /// A spoofed-looking source address for flow `k`.
    fn spoofed(k: u32) -> String {
        format!(
            "{}.{}.{}.{}",
            11 + k % 200,
            (k / 200) % 250,
            (k / 50_000) % 250,
            1 + k % 251
        )
    }

    /// `n` lone SYNs to `victim:port`, `spacing_s` apart from `t0`, from spoofed sources.
    fn syns(t0: f64, spacing_s: f64, n: u32, victim: &str, port: u16) -> Vec<FlowRecord> {
        (0..n)
            .map(|k| {
                let mut f = tcp(
                    t0 + f64::from(k) * spacing_s,
                    &spoofed(k),
                    victim,
                    port,
                    ConnState::S0,
                );
                f.src_port = 1_024 + (k % 60_000) as u16;
                f
            })
            .collect()
    }

    /// `n` completed visits to `victim:port`.
    fn visits(t0: f64, spacing_s: f64, n: u32, victim: &str, port: u16) -> Vec<FlowRecord> {
        (0..n)
            .map(|k| {
                tcp(
                    t0 + f64::from(k) * spacing_s,
                    &format!("198.51.{}.{}", k / 200, 1 + k % 200),
                    victim,
                    port,
                    ConnState::SF,
                )
            })
            .collect()
    }

    #[test]
    fn a_spoofed_syn_flood_is_one_detection_of_its_victim() {
        let mut flows = syns(T0, 1.0 / 150.0, 3_000, "10.0.0.11", 443);
        flows.extend(visits(T0 - 5.0, 0.3, 100, "10.0.0.11", 443));
        let flows = sorted(flows);
        let ds = run(&flows);
        assert_eq!(kinds(&ds), vec![BehaviourKind::SynFlood]);
        let d = &ds[0];
        assert_eq!(
            (d.technique, d.key_ip, d.key_role),
            (
                Technique::OsExhaustionFlood,
                ip("10.0.0.11"),
                KeyRole::Victim
            )
        );
        // Only the half-open attempts are the attack's flows.
        assert_eq!(d.flow_count, 3_000);
        assert!(d
            .flows
            .iter()
            .all(|&i| flows[i as usize].conn_state == ConnState::S0));
        assert_eq!(
            (d.distinct_src_hosts, d.dst_ports.clone()),
            (3_000, vec![443])
        );
        assert_eq!(d.evidence[0].threshold, Some(100.0));
        assert!(d.evidence[0].value >= 1_490.0, "{:?}", d.evidence);
        assert_eq!(d.evidence[1].threshold, Some(0.5));
        // Strength: the weaker test, the share (0.97 / 0.5).
        assert!((1.9..2.0).contains(&d.strength), "{}", d.strength);
        assert_eq!(
            d.summary,
            "10.0.0.11 got 3,000 half-open SYNs on port 443/tcp from 3,000 sources in 20 s (peak 150.1 per s); 98 % of its connections there never completed"
        );
        assert_eq!(run(&flows), ds, "deterministic");
    }

    #[test]
    fn syn_flood_bars_are_the_count_and_the_share_in_the_window() {
        assert_eq!(
            kinds(&run(&syns(T0, 0.099, 100, "10.0.0.11", 80))),
            vec![BehaviourKind::SynFlood]
        );
        assert!(run(&syns(T0, 0.099, 99, "10.0.0.11", 80)).is_empty());
        // 100 within 10 s, not 100 within 9.9 s: spread a little wider, never 100 at once.
        assert!(run(&syns(T0, 10.01 / 99.0, 100, "10.0.0.11", 80)).is_empty());
        let with_visits = |n: u32| {
            let mut flows = visits(T0, 0.01, n, "10.0.0.11", 80);
            flows.extend(syns(T0 + 2.0, 0.05, 100, "10.0.0.11", 80));
            run(&sorted(flows))
        };
        let ds = with_visits(100);
        assert_eq!(kinds(&ds), vec![BehaviourKind::SynFlood]);
        assert_eq!(ds[0].evidence[1].value, 0.5);
        assert!(with_visits(101).is_empty());
    }

    #[test]
    fn single_source_and_answered_half_open_floods_count() {
        // hping3 from one host, its SYN-ACKs seen (Zeek: OTH, history Sh).
        let flows: Vec<FlowRecord> = (0..500u32)
            .map(|k| {
                let mut f = tcp(
                    T0 + f64::from(k) * 0.01,
                    "198.51.100.9",
                    "10.0.0.11",
                    80,
                    ConnState::OTH,
                );
                (f.src_port, f.pkts_in, f.history) = (2_000 + k as u16, 1, ConnHistory::new("Sh"));
                f
            })
            .collect();
        let ds = run(&flows);
        assert_eq!(kinds(&ds), vec![BehaviourKind::SynFlood]);
        assert_eq!(ds[0].distinct_src_hosts, 1);
        assert!(
            ds[0].summary.contains("from 1 sources"),
            "{}",
            ds[0].summary
        );
    }

    #[test]
    fn outages_port_scans_and_busy_servers_are_not_syn_floods() {
        // Clients retrying a dead server: every attempt retransmits its SYN.
        let mut retries = syns(T0, 0.01, 1_000, "10.0.0.12", 443);
        retries.iter_mut().for_each(|f| f.pkts_out = 3);
        assert!(run(&retries).is_empty());
        // A SYN scan of 1,000 ports of one host in 5 s: one SYN per port.
        let scan: Vec<FlowRecord> = (0..1_000u16)
            .map(|k| {
                tcp(
                    T0 + f64::from(k) * 0.005,
                    "203.0.113.7",
                    "10.0.0.11",
                    1 + k,
                    ConnState::S0,
                )
            })
            .collect();
        assert!(run(&scan).is_empty());
        // A busy web server: 500 visits a second, 2 % of them half-open.
        let mut busy = visits(T0, 0.002, 5_000, "10.0.0.11", 443);
        for f in busy.iter_mut().step_by(50) {
            *f = tcp(f.ts, &f.src_ip.to_string(), "10.0.0.11", 443, ConnState::S0);
        }
        assert!(run(&busy).is_empty());
        // A broadcast address is not a victim.
        assert!(run(&syns(T0, 0.01, 1_000, "10.0.0.255", 80)).is_empty());
    }

    /// `n` one-packet unanswered UDP flows to `victim`, `spacing_s` apart, from spoofed sources.
    fn datagrams(t0: f64, spacing_s: f64, n: u32, victim: &str) -> Vec<FlowRecord> {
        (0..n)
            .map(|k| {
                let mut f = flow(
                    t0 + f64::from(k) * spacing_s,
                    &spoofed(k),
                    victim,
                    9_999,
                    Proto::Udp,
                    ConnState::S0,
                );
                f.src_port = 1_024 + (k % 60_000) as u16;
                f
            })
            .collect()
    }

    #[test]
    fn volumetric_flood_bars() {
        let ds = run(&datagrams(T0, 0.001, 5_000, "10.0.0.11"));
        assert_eq!(kinds(&ds), vec![BehaviourKind::VolumetricFlood]);
        let d = &ds[0];
        assert_eq!(
            (d.technique, d.key_role, d.flow_count),
            (Technique::DirectNetworkFlood, KeyRole::Victim, 5_000)
        );
        assert_eq!(d.summary, "10.0.0.11 got 5,000 unanswered udp flows (200.0 KB) from 5,000 sources in 5 s (peak 500 per s)");
        assert!(run(&datagrams(T0, 0.001, 4_999, "10.0.0.11")).is_empty());
        assert!(run(&datagrams(T0, 10.01 / 4_999.0, 5_000, "10.0.0.11")).is_empty());
        // The share: 5,000 unanswered among 5,555 flows is 90.009 %, among 5,556 89.993 %.
        let with_answered = |n: u32| {
            let mut flows: Vec<FlowRecord> = (0..n)
                .map(|k| {
                    flow(
                        T0 + f64::from(k) * 0.0001,
                        &spoofed(k),
                        "10.0.0.11",
                        53,
                        Proto::Udp,
                        ConnState::SF,
                    )
                })
                .collect();
            flows.extend(datagrams(T0 + 1.0, 0.001, 5_000, "10.0.0.11"));
            run(&sorted(flows))
        };
        assert_eq!(
            kinds(&with_answered(555)),
            vec![BehaviourKind::VolumetricFlood]
        );
        assert!(with_answered(556).is_empty());
        // A busy DNS server answers.
        let dns: Vec<FlowRecord> = (0..20_000u32)
            .map(|k| {
                flow(
                    T0 + f64::from(k) * 0.0005,
                    &spoofed(k),
                    "10.0.0.10",
                    53,
                    Proto::Udp,
                    ConnState::SF,
                )
            })
            .collect();
        assert!(run(&dns).is_empty());
    }

    /// A reflected answer from `reflector:src_port` to the victim: `bytes`, no reply.
    fn reflected_flow(
        ts: f64,
        reflector: &str,
        src_port: u16,
        victim: &str,
        bytes: u64,
    ) -> FlowRecord {
        let mut f = flow(ts, reflector, victim, 80, Proto::Udp, ConnState::S0);
        (f.src_port, f.bytes_out, f.pkts_out) = (src_port, bytes, bytes.div_ceil(1_400));
        f
    }

    fn reflection(reflectors: u32, bytes_each: u64) -> Vec<FlowRecord> {
        (0..reflectors)
            .map(|k| {
                reflected_flow(
                    T0 + f64::from(k) * 0.5,
                    &format!("192.0.2.{}", 1 + k),
                    53,
                    "203.0.113.50",
                    bytes_each,
                )
            })
            .collect()
    }

    #[test]
    fn reflection_bars_are_reflectors_and_bytes() {
        let ds = run(&reflection(20, 50_000));
        assert_eq!(kinds(&ds), vec![BehaviourKind::Reflection]);
        let d = &ds[0];
        assert_eq!(
            (d.technique, d.key_ip, d.key_role),
            (
                Technique::ReflectionAmplification,
                ip("203.0.113.50"),
                KeyRole::Victim
            )
        );
        assert_eq!(d.dst_ports, vec![53], "the reflectors' service port");
        assert_eq!(d.summary, "203.0.113.50 got 1.0 MB from 20 reflectors (source port 53/udp) in 10 s with no request seen");
        assert!(run(&reflection(19, 60_000)).is_empty());
        assert!(run(&reflection(20, 49_999)).is_empty());
        // Reflectors more than a minute apart never add up.
        let mut slow = reflection(20, 100_000);
        slow.iter_mut()
            .enumerate()
            .for_each(|(k, f)| f.ts = T0 + k as f64 * 4.0);
        assert!(run(&slow).is_empty());
    }

    #[test]
    fn flipped_reflection_counts_and_own_lookups_do_not() {
        // Zeek flips a flow whose first packet comes from a well-known port: the victim is
        // then the originator, having sent nothing.
        let flipped: Vec<FlowRecord> = reflection(30, 40_000)
            .into_iter()
            .map(|mut f| {
                std::mem::swap(&mut f.src_ip, &mut f.dst_ip);
                std::mem::swap(&mut f.src_port, &mut f.dst_port);
                (f.bytes_in, f.pkts_in, f.bytes_out, f.pkts_out) = (f.bytes_out, f.pkts_out, 0, 0);
                f.history = ConnHistory::new("^d");
                f
            })
            .collect();
        let ds = run(&flipped);
        assert_eq!(kinds(&ds), vec![BehaviourKind::Reflection]);
        assert_eq!(ds[0].key_ip, ip("203.0.113.50"));
        // The victim's own queries, answered: its flows, not reflections.
        let own: Vec<FlowRecord> = (0..200u32)
            .map(|k| {
                let mut f = flow(
                    T0 + f64::from(k) * 0.1,
                    "10.0.0.10",
                    &format!("192.0.2.{}", 1 + k % 250),
                    53,
                    Proto::Udp,
                    ConnState::SF,
                );
                f.bytes_in = 40_000;
                f
            })
            .collect();
        assert!(run(&own).is_empty());
        // NTP servers peering symmetrically (123 to 123).
        let mut peers = reflection(30, 60_000);
        peers
            .iter_mut()
            .for_each(|f| (f.src_port, f.dst_port) = (123, 123));
        assert!(run(&peers).is_empty());
        // Not from a reflector port.
        let mut other = reflection(30, 60_000);
        other.iter_mut().for_each(|f| f.src_port = 40_000);
        assert!(run(&other).is_empty());
    }

    /// `n` slowloris connections to `victim:port` from `src`: 4 minutes open, a header line
    /// every 10 s, nothing back.
    fn slow(n: u32, src: &str, victim: &str, port: u16) -> Vec<FlowRecord> {
        (0..n)
            .map(|k| {
                let mut f = tcp(T0 + f64::from(k) * 0.05, src, victim, port, ConnState::RSTR);
                (f.duration_s, f.bytes_out, f.bytes_in, f.pkts_out, f.pkts_in) =
                    (240.0, 796, 0, 27, 25);
                f.history = ConnHistory::new("ShADr");
                f
            })
            .collect()
    }

    #[test]
    fn slow_dos_bar_and_what_a_slow_connection_is() {
        let ds = run(&slow(10, "198.51.100.9", "10.0.0.11", 80));
        assert_eq!(kinds(&ds), vec![BehaviourKind::SlowDos]);
        let d = &ds[0];
        assert_eq!(
            (d.technique, d.key_ip, d.key_role),
            (
                Technique::ServiceExhaustionFlood,
                ip("10.0.0.11"),
                KeyRole::Victim
            )
        );
        assert_eq!(d.summary, "198.51.100.9 held 10 connections to 10.0.0.11 port 80/tcp open (median 4.0 min each), sending 3.32 B/s and getting no response");
        assert!(run(&slow(9, "198.51.100.9", "10.0.0.11", 80)).is_empty());
        let changed = |edit: &dyn Fn(&mut FlowRecord)| {
            let mut flows = slow(50, "198.51.100.9", "10.0.0.11", 443);
            flows.iter_mut().for_each(edit);
            run(&flows)
        };
        assert_eq!(kinds(&changed(&|_| {})), vec![BehaviourKind::SlowDos]);
        // Answered, short, silent, a hung request sent once, or not a web port.
        assert!(changed(&|f| f.bytes_in = 1_025).is_empty());
        assert!(changed(&|f| f.duration_s = 59.9).is_empty());
        assert!(changed(&|f| f.bytes_out = 0).is_empty());
        assert!(changed(&|f| f.pkts_out = 3).is_empty());
        assert!(
            changed(&|f| f.bytes_out = 24_001).is_empty(),
            "over 100 B/s"
        );
        assert!(changed(&|f| f.dst_port = 22).is_empty());
        assert!(changed(&|f| f.conn_state = ConnState::S0).is_empty());
        // Packet counts unknown (some flow logs): bytes alone decide.
        assert_eq!(
            kinds(&changed(&|f| f.pkts_out = 0)),
            vec![BehaviourKind::SlowDos]
        );
        // Many sources (a slow botnet) are the same attack on the victim.
        let mut flows = slow(6, "198.51.100.9", "10.0.0.11", 80);
        flows.extend(slow(6, "198.51.100.10", "10.0.0.11", 80));
        let ds = run(&sorted(flows));
        assert_eq!(ds[0].distinct_src_hosts, 2);
        assert!(
            ds[0].summary.starts_with("198.51.100.9 and 1 more held 12"),
            "{}",
            ds[0].summary
        );
    }

    #[test]
    fn invalid_params_are_made_safe_and_odd_flows_are_ignored() {
        let bad = FloodParams {
            syn_window_s: f64::NAN,
            syn_min_half_open: 0,
            syn_min_half_open_share: -1.0,
            volumetric_window_s: 0.0,
            volumetric_min_flows: 0,
            volumetric_min_unanswered_share: f64::NAN,
            reflection_window_s: f64::NEG_INFINITY,
            reflection_min_reflectors: 0,
            reflection_min_bytes: 0,
            slow_window_s: -1.0,
            slow_min_connections: 0,
            slow_min_duration_s: f64::NAN,
            slow_max_bytes_in: 0,
            slow_max_bytes_out_per_s: -3.0,
            quiet_gap_s: f64::INFINITY,
        };
        let s = bad.sanitized();
        assert_eq!(
            (
                s.syn_window_s,
                s.volumetric_window_s,
                s.reflection_window_s,
                s.slow_window_s
            ),
            (10.0, 10.0, 60.0, 300.0)
        );
        assert_eq!(
            (
                s.syn_min_half_open,
                s.volumetric_min_flows,
                s.reflection_min_reflectors,
                s.slow_min_connections
            ),
            (1, 1, 1, 1)
        );
        assert_eq!(
            (s.syn_min_half_open_share, s.volumetric_min_unanswered_share),
            (0.0, 0.9)
        );
        assert_eq!(
            (
                s.slow_min_duration_s,
                s.slow_max_bytes_out_per_s,
                s.quiet_gap_s
            ),
            (60.0, 0.0, SPAN_MAX_S)
        );
        let mut flows = syns(T0, 0.01, 300, "10.0.0.11", 80);
        flows.extend(datagrams(T0, 0.01, 300, "10.0.0.12"));
        let flows = sorted(flows);
        assert_eq!(
            kinds(&detect(&flows, &bad)),
            vec![BehaviourKind::SynFlood, BehaviourKind::VolumetricFlood]
        );
        let p: FloodParams = serde_json::from_str("{}").unwrap();
        assert_eq!(p, FloodParams::default());
        // Odd flows: non-finite times and durations, zero packets, IPv6, multicast.
        let mut odd = syns(T0, 0.001, 5_000, "fd00::11", 443);
        for (k, f) in odd.iter_mut().enumerate() {
            match k % 4 {
                0 => f.ts = f64::NAN,
                1 => f.duration_s = f64::INFINITY,
                2 => (f.pkts_out, f.history) = (0, ConnHistory::EMPTY),
                _ => f.dst_ip = ip("ff02::1"),
            }
        }
        odd.extend(
            slow(20, "2001:db8::9", "fd00::11", 80)
                .into_iter()
                .map(|mut f| {
                    f.duration_s = f64::NAN;
                    f
                }),
        );
        let ds = run(&sorted(odd));
        assert_eq!(kinds(&ds), vec![BehaviourKind::SynFlood]);
        assert_eq!(ds[0].flow_count, 2_500);
        assert!(run(&[]).is_empty());
    }

    // --- Generated traffic -------------------------------------------------------------

    fn check_generated(query: &str, expected: &[AttackKind]) {
        let flows = generated(query);
        let ds = run(&flows);
        for (attack, kind) in [
            (AttackKind::SynFlood, BehaviourKind::SynFlood),
            (AttackKind::Slowloris, BehaviourKind::SlowDos),
        ] {
            let (recall, precision) = recall_and_precision(&flows, &ds, attack, kind);
            if expected.contains(&attack) {
                assert!(
                    recall >= 0.99 && precision >= 0.99,
                    "{query}: {attack:?} recall {recall} precision {precision}"
                );
            } else {
                assert_eq!(recall, 0.0, "{query}: {attack:?}");
            }
        }
        assert_eq!(
            ds.len(),
            expected.len(),
            "{query}: {:?}",
            ds.iter().map(|d| &d.summary).collect::<Vec<_>>()
        );
    }

    #[test]
    fn generated_floods_are_found_in_the_presets() {
        for seed in 1..=2 {
            check_generated(&format!("preset=demo&seed={seed}"), &[AttackKind::SynFlood]);
            check_generated(
                &format!("preset=ddos_day&seed={seed}"),
                &[AttackKind::SynFlood, AttackKind::Slowloris],
            );
            check_generated(
                &format!("preset=everything&seed={seed}"),
                &[AttackKind::SynFlood, AttackKind::Slowloris],
            );
            check_generated(&format!("preset=stealthy_intrusion&seed={seed}"), &[]);
        }
        // A tenth of the rate (15 SYNs/s; 15 slowloris sockets) and medium stealth.
        check_generated(
            "attacks=syn_flood,slowloris&syn_flood.intensity=0.1&slowloris.intensity=0.1",
            &[AttackKind::SynFlood, AttackKind::Slowloris],
        );
        check_generated(
            "attacks=syn_flood,slowloris&syn_flood.stealth=0.5&slowloris.stealth=0.5",
            &[AttackKind::SynFlood, AttackKind::Slowloris],
        );
    }

    #[test]
    fn generated_large_site_floods_are_found() {
        check_generated(
            "preset=large_site",
            &[AttackKind::SynFlood, AttackKind::Slowloris],
        );
    }

    #[test]
    fn no_detection_on_benign_generated_traffic() {
        for (q, flows, _) in benign_runs() {
            let ds = run(&flows);
            assert!(
                ds.is_empty(),
                "{q}: {:?}",
                ds.iter().map(|d| &d.summary).collect::<Vec<_>>()
            );
        }
    }

    #[test]
    fn real_captures_are_not_floods() {
        // masscan's UDP scan: 1,001 ports in 10 s from one host is a scan, not a flood.
        if let Some(flows) =
            real("esnet_curated_pcaps/attacks/scanners/masscan/udp_0_1000_20190821.pcap")
        {
            assert!(run(&flows).is_empty());
        }
        let Some(traces) = zeek_traces() else { return };
        for (name, flows) in traces {
            let ds = run(flows);
            assert!(
                ds.is_empty(),
                "{name}: {:?}",
                ds.iter().map(|d| &d.summary).collect::<Vec<_>>()
            );
        }
    }
}
