//! What a behavioural detector emits: the kind of behaviour, its ATT&CK technique, the hosts,
//! the time window, the flows, the evidence numbers with the thresholds they crossed, and a
//! one-line summary. Plain data (serde), the same in the report, the page and the SIEM
//! exports. Not responsible for severity or incidents (`findings` fuses detections with the
//! models' flags).

use super::technique::Technique;
use crate::traffic::flow::FlowRecord;
use crate::util::index_sort;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// Hosts and ports listed in a detection (all are counted).
pub const LISTED: usize = 20;

/// What a detector saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BehaviourKind {
    /// One source, many ports of one host.
    VerticalScan,
    /// One source, one or a few ports, many hosts (TCP or UDP).
    HorizontalScan,
    /// One source, ICMP echo requests to many hosts.
    IcmpSweep,
    /// One internal source opening sessions on admin services (SMB, RDP, SSH, WinRM) of many
    /// internal hosts.
    LateralMovement,
    /// Many half-open connections to one victim, usually from spoofed sources.
    SynFlood,
    /// Many one-packet or unanswered UDP/ICMP/other flows to one victim.
    VolumetricFlood,
    /// Many sources answering one victim from a reflector service port with no request seen.
    Reflection,
    /// Many long, nearly idle connections held open to one web server (slowloris).
    SlowDos,
    /// Many short connections from one source to one authentication service.
    BruteForce,
    /// Regular check-ins from one host to one destination (RITA-style score).
    Beaconing,
    /// Hours-long sessions to a rare external destination.
    LongConnection,
    /// Outbound volume from one host to one destination far above its own and its peers'.
    Exfiltration,
    /// DNS flows far larger or more numerous than lookups.
    DnsTunnel,
}

crate::util::serde_names::serde_by_name!(BehaviourKind, "a behaviour kind");

impl BehaviourKind {
    pub const ALL: [BehaviourKind; 13] = [
        BehaviourKind::VerticalScan,
        BehaviourKind::HorizontalScan,
        BehaviourKind::IcmpSweep,
        BehaviourKind::LateralMovement,
        BehaviourKind::SynFlood,
        BehaviourKind::VolumetricFlood,
        BehaviourKind::Reflection,
        BehaviourKind::SlowDos,
        BehaviourKind::BruteForce,
        BehaviourKind::Beaconing,
        BehaviourKind::LongConnection,
        BehaviourKind::Exfiltration,
        BehaviourKind::DnsTunnel,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            BehaviourKind::VerticalScan => "vertical_scan",
            BehaviourKind::HorizontalScan => "horizontal_scan",
            BehaviourKind::IcmpSweep => "icmp_sweep",
            BehaviourKind::LateralMovement => "lateral_movement",
            BehaviourKind::SynFlood => "syn_flood",
            BehaviourKind::VolumetricFlood => "volumetric_flood",
            BehaviourKind::Reflection => "reflection",
            BehaviourKind::SlowDos => "slow_dos",
            BehaviourKind::BruteForce => "brute_force",
            BehaviourKind::Beaconing => "beaconing",
            BehaviourKind::LongConnection => "long_connection",
            BehaviourKind::Exfiltration => "exfiltration",
            BehaviourKind::DnsTunnel => "dns_tunnel",
        }
    }

    /// A human label for the page.
    pub fn title(self) -> &'static str {
        match self {
            BehaviourKind::VerticalScan => "Port scan",
            BehaviourKind::HorizontalScan => "Horizontal scan",
            BehaviourKind::IcmpSweep => "ICMP sweep",
            BehaviourKind::LateralMovement => "Lateral movement",
            BehaviourKind::SynFlood => "SYN flood",
            BehaviourKind::VolumetricFlood => "Flood",
            BehaviourKind::Reflection => "Reflection/amplification attack",
            BehaviourKind::SlowDos => "Slow HTTP DoS",
            BehaviourKind::BruteForce => "Password guessing",
            BehaviourKind::Beaconing => "Beaconing",
            BehaviourKind::LongConnection => "Long connection",
            BehaviourKind::Exfiltration => "Data exfiltration",
            BehaviourKind::DnsTunnel => "DNS tunnelling",
        }
    }
}

/// The part the detection's key host plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyRole {
    /// The key host attacks (scanner, password guesser, flood source).
    Attacker,
    /// The key host is attacked (flood or reflection victim).
    Victim,
    /// The key host looks compromised (beaconing, exfiltrating, tunnelling): never blocked as
    /// an attacker, isolated or investigated instead.
    Compromised,
}

crate::util::serde_names::serde_by_name!(KeyRole, "a key role");

impl KeyRole {
    pub const ALL: [KeyRole; 3] = [KeyRole::Attacker, KeyRole::Victim, KeyRole::Compromised];

    pub fn as_str(self) -> &'static str {
        match self {
            KeyRole::Attacker => "attacker",
            KeyRole::Victim => "victim",
            KeyRole::Compromised => "compromised",
        }
    }
}

/// One number behind a detection, with the threshold it was compared to (`None` when it is
/// context, not a test).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Evidence {
    /// What was counted or measured, in words ("distinct ports", "unanswered share").
    pub name: String,
    pub value: f64,
    pub threshold: Option<f64>,
}

impl Evidence {
    pub fn test(name: &str, value: f64, threshold: f64) -> Evidence {
        Evidence {
            name: name.to_string(),
            value,
            threshold: Some(threshold),
        }
    }

    pub fn context(name: &str, value: f64) -> Evidence {
        Evidence {
            name: name.to_string(),
            value,
            threshold: None,
        }
    }
}

/// One behaviour found in the flows, with everything an analyst needs to check it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BehaviourDetection {
    pub kind: BehaviourKind,
    pub technique: Technique,
    /// The host the detection is about (the scanner, the guesser, the flood's victim, the
    /// beaconing host) and its part.
    pub key_ip: IpAddr,
    pub key_role: KeyRole,
    pub first_seen_ts: f64,
    pub last_seen_ts: f64,
    /// Rows of the flows (indices into the slice the detector was given), ascending.
    pub flows: Vec<u64>,
    pub flow_count: u64,
    /// Originators, at most [`LISTED`], most active first (ties by address).
    pub src_ips: Vec<IpAddr>,
    pub distinct_src_hosts: u64,
    /// Responders, at most [`LISTED`], most contacted first.
    pub dst_ips: Vec<IpAddr>,
    pub distinct_dst_hosts: u64,
    /// Destination ports, at most [`LISTED`], most contacted first.
    pub dst_ports: Vec<u16>,
    pub distinct_dst_ports: u64,
    /// The numbers behind the detection, tests first.
    pub evidence: Vec<Evidence>,
    /// How far past its thresholds the behaviour is: the smallest ratio value / threshold of
    /// the tests (≥ 1 for a detection; 2 means twice every threshold).
    pub strength: f64,
    /// One line in plain words: "10.0.3.7 probed 1,000 ports of 10.0.1.20 in 38 s, 99 % unanswered".
    pub summary: String,
}

impl BehaviourDetection {
    /// A detection over `rows` of `flows` (any order, duplicates ignored): hosts, ports, time
    /// window and counts are read from the flows; `strength` from the evidence's tests.
    pub fn from_rows(
        kind: BehaviourKind,
        technique: Technique,
        (key_ip, key_role): (IpAddr, KeyRole),
        flows: &[FlowRecord],
        rows: &[usize],
        evidence: Vec<Evidence>,
        summary: String,
    ) -> BehaviourDetection {
        let mut rows: Vec<usize> = rows.iter().copied().filter(|&i| i < flows.len()).collect();
        rows.sort_unstable(); // usize: one shared instantiation
        rows.dedup();
        let mut src: BTreeMap<IpAddr, u64> = BTreeMap::new();
        let mut dst: BTreeMap<IpAddr, u64> = BTreeMap::new();
        let mut ports: BTreeMap<u16, u64> = BTreeMap::new();
        let (mut first, mut last) = (f64::INFINITY, f64::NEG_INFINITY);
        for &i in &rows {
            let f = &flows[i];
            *src.entry(f.src_ip).or_default() += 1;
            *dst.entry(f.dst_ip).or_default() += 1;
            *ports.entry(f.dst_port).or_default() += 1;
            first = first.min(f.ts);
            let end = f.ts
                + if f.duration_s.is_finite() {
                    f.duration_s.max(0.0)
                } else {
                    0.0
                };
            last = last.max(end);
        }
        if !first.is_finite() {
            (first, last) = (0.0, 0.0);
        }
        let strength = evidence
            .iter()
            .filter_map(|e| match e.threshold {
                Some(t) if t > 0.0 && e.value.is_finite() => Some(e.value / t),
                _ => None,
            })
            .fold(f64::INFINITY, f64::min);
        BehaviourDetection {
            kind,
            technique,
            key_ip,
            key_role,
            first_seen_ts: first,
            last_seen_ts: last.max(first),
            flow_count: rows.len() as u64,
            flows: rows.iter().map(|&i| i as u64).collect(),
            distinct_src_hosts: src.len() as u64,
            src_ips: index_sort::most_frequent(&src, LISTED),
            distinct_dst_hosts: dst.len() as u64,
            dst_ips: index_sort::most_frequent(&dst, LISTED),
            distinct_dst_ports: ports.len() as u64,
            dst_ports: index_sort::most_frequent(&ports, LISTED),
            evidence,
            strength: if strength.is_finite() { strength } else { 1.0 },
            summary,
        }
    }

    /// Seconds from the first flow's start to the last flow's end.
    pub fn duration_s(&self) -> f64 {
        self.last_seen_ts - self.first_seen_ts
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::traffic::flow::{ConnHistory, ConnState, Label, OrigRole, Proto, Service};

    fn flow(ts: f64, src: [u8; 4], dst: [u8; 4], port: u16) -> FlowRecord {
        FlowRecord {
            ts,
            src_ip: IpAddr::from(src),
            src_port: 40000,
            dst_ip: IpAddr::from(dst),
            dst_port: port,
            proto: Proto::Tcp,
            service: Service::None,
            duration_s: 1.5,
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

    #[test]
    fn from_rows_counts_hosts_ports_and_window() {
        let flows = vec![
            flow(10.0, [10, 0, 0, 1], [10, 0, 0, 9], 22),
            flow(11.0, [10, 0, 0, 1], [10, 0, 0, 9], 80),
            flow(12.0, [10, 0, 0, 1], [10, 0, 0, 8], 80),
            flow(13.0, [10, 0, 0, 2], [10, 0, 0, 9], 443),
        ];
        let d = BehaviourDetection::from_rows(
            BehaviourKind::VerticalScan,
            Technique::NetworkServiceDiscovery,
            (flows[0].src_ip, KeyRole::Attacker),
            &flows,
            &[2, 0, 1, 1, 99],
            vec![
                Evidence::test("distinct ports", 30.0, 10.0),
                Evidence::test("unanswered share", 0.9, 0.6),
                Evidence::context("flows", 3.0),
            ],
            "s".into(),
        );
        assert_eq!(d.flows, vec![0, 1, 2]);
        assert_eq!(d.flow_count, 3);
        assert_eq!(d.distinct_dst_hosts, 2);
        assert_eq!(d.dst_ips[0], IpAddr::from([10, 0, 0, 9]));
        assert_eq!(d.dst_ports, vec![80, 22]);
        assert_eq!((d.first_seen_ts, d.last_seen_ts), (10.0, 13.5));
        assert!((d.strength - 1.5).abs() < 1e-12, "{}", d.strength);
        let json = serde_json::to_string(&d).unwrap();
        assert!(json.contains("\"kind\":\"vertical_scan\""), "{json}");
        assert!(json.contains("\"technique\":\"T1046\""), "{json}");
        assert_eq!(
            serde_json::from_str::<BehaviourDetection>(&json).unwrap(),
            d
        );
    }
}
