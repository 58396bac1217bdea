//! Long connections: an internal host holding hours of connection time to an external address
//! few internal hosts talk to (a mining pool, a reverse shell, a tunnel), as RITA's long
//! connection analysis reports them.
//!
//! **Rule.** Per (internal source, external destination) pair, over the whole capture: the
//! longest single connection and the total duration of its connections lasting a minute or
//! more (shorter ones are check-ins, the beacon detector's, not held connections). The pair is
//! reported when the longest is at least `min_duration_s` or the total at least
//! `min_total_duration_s`, and the destination is rare: at most `max_internal_sources`
//! distinct internal hosts contacted it at all in the capture. The total counts because one
//! session may be logged as several records (Zeek writes a connection when it ends, capture
//! tools split idle or very long flows, miners and implants reconnect), and parallel
//! connections add up.
//!
//! **Cost.** Pass one maps only the connections of a minute or more (a small share of any
//! capture) by pair; pass two, run only when some pair qualifies, counts who else contacts
//! those few destinations and collects the pairs' rows.
//!
//! **Not looked at.** Internal↔internal sessions (admin SSH, file shares, databases) and
//! connections from outside in, as RITA's `internal_subnets` filter does; destinations many
//! internal hosts use (a chat service, a video call, a popular CDN), however long.
//!
//! **Not caught.** Sessions shorter than the thresholds (a miner seen for minutes), long
//! connections to a destination shared by more than `max_internal_sources` hosts (a botnet
//! spread over the site), long sessions relayed by an internal proxy (the pair is internal).
//! A large download to an unpopular site that takes over an hour is reported: it is a long
//! connection, and worth a look.
//!
//! **ATT&CK.** T1071 Application Layer Protocol (a command-and-control or mining session over
//! a common protocol). The key host is the internal source ([`KeyRole::Compromised`]).

use super::behaviour_detection::{BehaviourDetection, BehaviourKind, Evidence, KeyRole};
use super::net::{bytes_words, is_internal, is_not_a_host, span_words};
use super::technique::Technique;
use crate::traffic::flow::FlowRecord;
use crate::util::format_value::format_value;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::IpAddr;

/// Thresholds of the long-connection detector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LongConnectionParams {
    /// Shortest single connection reported: one hour, RITA's
    /// `long_connection_minimum_duration` (3600 s).
    pub min_duration_s: f64,
    /// Shortest total of a pair's connection durations reported: one hour too, so a session
    /// split into records or rebuilt by reconnects counts as RITA counts one hour-long
    /// connection.
    pub min_total_duration_s: f64,
    /// Most distinct internal hosts that may have contacted the destination for it to be
    /// rare: 2, so a service several hosts use is left alone while a pool or C2 server one
    /// compromised host (or a pair of them) talks to is not.
    pub max_internal_sources: u32,
}

impl Default for LongConnectionParams {
    fn default() -> LongConnectionParams {
        LongConnectionParams {
            min_duration_s: 3_600.0,
            min_total_duration_s: 3_600.0,
            max_internal_sources: 2,
        }
    }
}

/// A pair's connection time (connections of at least [`PART_MIN_S`]).
#[derive(Debug, Default, Clone, Copy)]
struct PairTime {
    total_s: f64,
    longest_s: f64,
    parts: u64,
}

/// Connections shorter than this add nothing to a pair's total: thousands of short check-ins
/// add up to hours too, but they are beaconing, not a connection held open; and a pass over
/// the few connections this long is cheap.
const PART_MIN_S: f64 = 60.0;

fn duration(f: &FlowRecord) -> f64 {
    if f.duration_s.is_finite() {
        f.duration_s.max(0.0)
    } else {
        0.0
    }
}

fn outbound(f: &FlowRecord) -> bool {
    is_internal(f.src_ip)
        && !is_internal(f.dst_ip)
        && !is_not_a_host(f.src_ip)
        && !is_not_a_host(f.dst_ip)
}

/// Long connections in `flows` (time order), one detection per (source, destination) pair, in
/// pair order.
pub fn detect(flows: &[FlowRecord], params: &LongConnectionParams) -> Vec<BehaviourDetection> {
    let d = LongConnectionParams::default();
    let positive = |v: f64, fallback: f64| {
        if v.is_finite() && v > 0.0 {
            v
        } else {
            fallback
        }
    };
    let min_single = positive(params.min_duration_s, d.min_duration_s);
    let min_total = positive(params.min_total_duration_s, d.min_total_duration_s);
    let max_sources = params.max_internal_sources.max(1) as usize;
    // Pass one: time per pair, from the connections of a minute or more.
    let mut pairs: BTreeMap<(IpAddr, IpAddr), PairTime> = BTreeMap::new();
    for f in flows {
        let s = duration(f);
        if s >= PART_MIN_S && outbound(f) {
            let t = pairs.entry((f.src_ip, f.dst_ip)).or_default();
            t.total_s += s;
            t.longest_s = t.longest_s.max(s);
            t.parts += 1;
        }
    }
    pairs.retain(|_, t| t.longest_s >= min_single || t.total_s >= min_total);
    if pairs.is_empty() {
        return Vec::new();
    }
    // Pass two: who else talks to those destinations (up to one past the limit), and the
    // pairs' rows.
    let mut sources: BTreeMap<IpAddr, Vec<IpAddr>> = BTreeMap::new();
    sources.extend(pairs.keys().map(|&(_, dst)| (dst, Vec::new())));
    let mut rows: BTreeMap<(IpAddr, IpAddr), Vec<usize>> = BTreeMap::new();
    for (i, f) in flows.iter().enumerate() {
        let Some(seen) = sources.get_mut(&f.dst_ip) else {
            continue;
        };
        if !outbound(f) {
            continue;
        }
        if seen.len() <= max_sources && !seen.contains(&f.src_ip) {
            seen.push(f.src_ip);
        }
        if pairs.contains_key(&(f.src_ip, f.dst_ip)) {
            rows.entry((f.src_ip, f.dst_ip)).or_default().push(i);
        }
    }
    let mut out = Vec::new();
    for ((src, dst), t) in pairs {
        let contacts = sources.get(&dst).map_or(0, Vec::len);
        if contacts > max_sources {
            continue;
        }
        let rows = rows.remove(&(src, dst)).unwrap_or_default();
        let bytes: u64 = rows
            .iter()
            .map(|&i| flows[i].bytes_out.saturating_add(flows[i].bytes_in))
            .fold(0, u64::saturating_add);
        let mut evidence = Vec::new();
        let longest = ("longest connection (s)", t.longest_s, min_single);
        let total = (
            "time in connections of a minute or more (s)",
            t.total_s,
            min_total,
        );
        for (name, value, threshold) in [longest, total] {
            if value >= threshold {
                evidence.push(Evidence::test(name, value, threshold));
            }
        }
        for (name, value, threshold) in [longest, total] {
            if value < threshold {
                evidence.push(Evidence::context(name, value));
            }
        }
        evidence.extend([
            Evidence::context("connections", rows.len() as f64),
            Evidence::context("internal hosts contacting the destination", contacts as f64),
            Evidence::context("bytes both ways", bytes as f64),
        ]);
        let port = rows.first().map_or(0, |&i| flows[i].dst_port);
        let summary = format!(
            "{src} held {} connection{} to {dst} (port {port}) open for {} in total, the \
             longest {}, moving {}; {} internal host{} contacted it",
            format_value(t.parts as f64),
            if t.parts == 1 { "" } else { "s" },
            span_words(t.total_s),
            span_words(t.longest_s),
            bytes_words(bytes as f64),
            format_value(contacts as f64),
            if contacts == 1 { "" } else { "s" },
        );
        out.push(BehaviourDetection::from_rows(
            BehaviourKind::LongConnection,
            Technique::ApplicationLayerProtocol,
            (src, KeyRole::Compromised),
            flows,
            &rows,
            evidence,
            summary,
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detection::behaviour::test_support::{generated, traces_and_esnet_attacks};
    use crate::detection::run_config::RunConfig;
    use crate::traffic::flow::{
        AttackKind, ConnHistory, ConnState, Label, OrigRole, Proto, Service,
    };
    use crate::traffic::generator;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn session(ts: f64, src: &str, dst: &str, port: u16, duration_s: f64) -> FlowRecord {
        FlowRecord {
            ts,
            src_ip: ip(src),
            src_port: 50_000,
            dst_ip: ip(dst),
            dst_port: port,
            proto: Proto::Tcp,
            service: Service::Other,
            duration_s,
            bytes_out: 30_000,
            bytes_in: 90_000,
            pkts_out: 400,
            pkts_in: 500,
            conn_state: ConnState::SF,
            history: ConnHistory::new("ShADadFf"),
            label: Label::Benign,
            incident_id: None,
            orig_role: OrigRole::None,
        }
    }

    fn by_time(mut flows: Vec<FlowRecord>) -> Vec<FlowRecord> {
        flows.sort_by(|a, b| a.ts.total_cmp(&b.ts));
        flows
    }

    fn tests_of(d: &BehaviourDetection) -> Vec<&str> {
        d.evidence
            .iter()
            .filter(|e| e.threshold.is_some())
            .map(|e| e.name.as_str())
            .collect()
    }

    #[test]
    fn an_hours_long_connection_to_a_rare_address() {
        let flows = vec![
            session(0.0, "10.0.0.7", "203.0.113.9", 3_333, 7_200.0),
            session(10.0, "10.0.1.5", "198.51.100.1", 443, 30.0),
        ];
        let found = detect(&flows, &LongConnectionParams::default());
        assert_eq!(found.len(), 1, "{found:?}");
        let d = &found[0];
        assert_eq!(d.kind, BehaviourKind::LongConnection);
        assert_eq!(d.technique, Technique::ApplicationLayerProtocol);
        assert_eq!(
            (d.key_ip, d.key_role),
            (ip("10.0.0.7"), KeyRole::Compromised)
        );
        assert_eq!(d.flows, vec![0]);
        assert_eq!(
            tests_of(d),
            vec![
                "longest connection (s)",
                "time in connections of a minute or more (s)"
            ]
        );
        assert!((d.strength - 2.0).abs() < 1e-12);
        assert_eq!(
            d.summary,
            "10.0.0.7 held 1 connection to 203.0.113.9 (port 3333) open for 2.0 h in total, the \
             longest 2.0 h, moving 120.0 KB; 1 internal host contacted it"
        );
    }

    #[test]
    fn reconnects_and_split_records_add_up() {
        // A miner reconnecting every ten minutes, and one session a capture tool cut in three.
        let mut flows: Vec<FlowRecord> = (0..7)
            .map(|k| {
                session(
                    f64::from(k) * 605.0,
                    "10.0.0.7",
                    "203.0.113.9",
                    3_333,
                    600.0,
                )
            })
            .collect();
        flows.extend((0..3).map(|k| {
            session(
                f64::from(k) * 1_500.0,
                "10.0.1.8",
                "198.51.100.7",
                22,
                1_500.0,
            )
        }));
        let found = detect(&by_time(flows), &LongConnectionParams::default());
        assert_eq!(found.len(), 2, "{found:?}");
        for d in &found {
            assert_eq!(
                tests_of(d),
                vec!["time in connections of a minute or more (s)"]
            );
            assert!(d
                .evidence
                .iter()
                .any(|e| e.name.starts_with("longest") && e.threshold.is_none()));
        }
        assert_eq!(found[0].key_ip, ip("10.0.0.7"));
        assert_eq!(found[0].flow_count, 7);
        assert!(
            found[0].summary.contains("held 7 connections"),
            "{}",
            found[0].summary
        );
    }

    #[test]
    fn duration_boundaries() {
        let p = LongConnectionParams::default();
        let one = |s: f64| detect(&[session(0.0, "10.0.0.7", "203.0.113.9", 443, s)], &p).len();
        assert_eq!(one(3_600.0), 1, "exactly an hour");
        assert_eq!(one(3_599.9), 0);
        let pieces = |n: u32, s: f64| {
            let flows: Vec<FlowRecord> = (0..n)
                .map(|k| session(f64::from(k) * 1_000.0, "10.0.0.7", "203.0.113.9", 443, s))
                .collect();
            detect(&flows, &p).len()
        };
        assert_eq!(pieces(6, 600.0), 1, "six ten-minute pieces: an hour");
        assert_eq!(pieces(6, 599.99), 0);
        // Pieces under a minute are check-ins, not held time; a minute counts.
        assert_eq!(pieces(100, 59.9), 0);
        assert_eq!(pieces(60, 60.0), 1);
        let split = LongConnectionParams {
            min_duration_s: 600.0,
            min_total_duration_s: 1e9,
            ..LongConnectionParams::default()
        };
        assert_eq!(
            detect(
                &[session(0.0, "10.0.0.7", "203.0.113.9", 443, 600.0)],
                &split
            )
            .len(),
            1
        );
    }

    #[test]
    fn only_rare_external_destinations() {
        let p = LongConnectionParams::default();
        let long = session(0.0, "10.0.0.7", "203.0.113.9", 443, 9_000.0);
        let visit = |src: &str| session(100.0, src, "203.0.113.9", 443, 2.0);
        assert_eq!(
            detect(&by_time(vec![long.clone(), visit("10.0.1.1")]), &p).len(),
            1,
            "two hosts"
        );
        assert!(
            detect(
                &by_time(vec![long.clone(), visit("10.0.1.1"), visit("10.0.1.2")]),
                &p
            )
            .is_empty(),
            "three hosts: a service the site uses"
        );
        let wider = LongConnectionParams {
            max_internal_sources: 3,
            ..p.clone()
        };
        assert_eq!(
            detect(
                &by_time(vec![long.clone(), visit("10.0.1.1"), visit("10.0.1.2")]),
                &wider
            )
            .len(),
            1
        );
        // Visitors from outside do not make it popular.
        let outside = session(100.0, "192.0.2.1", "203.0.113.9", 443, 2.0);
        assert_eq!(detect(&by_time(vec![long.clone(), outside]), &p).len(), 1);
        let variant = |change: &dyn Fn(&mut FlowRecord)| {
            let mut f = long.clone();
            change(&mut f);
            detect(&[f], &p).len()
        };
        assert_eq!(
            variant(&|f| f.dst_ip = ip("10.0.0.22")),
            0,
            "internal SSH session"
        );
        assert_eq!(
            variant(&|f| (f.src_ip, f.dst_ip) = (f.dst_ip, f.src_ip)),
            0,
            "inbound"
        );
        assert_eq!(variant(&|f| f.dst_ip = ip("239.1.2.3")), 0, "multicast");
        assert_eq!(
            variant(&|f| f.src_ip = ip("192.0.2.1")),
            0,
            "external to external"
        );
    }

    #[test]
    fn odd_flows_and_invalid_params_are_safe() {
        let mut flows = vec![
            session(0.0, "fd00::7", "2001:db8::9", 443, 4_000.0),
            session(1.0, "10.0.0.7", "203.0.113.9", 443, f64::NAN),
            session(2.0, "10.0.0.7", "203.0.113.9", 443, f64::INFINITY),
            session(3.0, "10.0.0.7", "203.0.113.9", 443, -50.0),
            session(f64::NAN, "10.0.0.7", "203.0.113.9", 443, 100.0),
        ];
        flows[0].bytes_out = u64::MAX;
        let found = detect(&flows, &LongConnectionParams::default());
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].key_ip, ip("fd00::7"));
        for p in [
            LongConnectionParams {
                min_duration_s: f64::NAN,
                min_total_duration_s: -1.0,
                max_internal_sources: 0,
            },
            LongConnectionParams {
                min_duration_s: 0.0,
                min_total_duration_s: f64::INFINITY,
                max_internal_sources: u32::MAX,
            },
        ] {
            let _ = detect(&flows, &p);
        }
        assert!(detect(&[], &LongConnectionParams::default()).is_empty());
        let partial: LongConnectionParams =
            serde_json::from_str(r#"{"max_internal_sources": 1}"#).unwrap();
        assert_eq!(partial.min_duration_s, 3_600.0);
    }

    /// (mining flows found, mining flows), checking every detection is the mining.
    fn mining_recall(query: &str) -> (usize, usize) {
        let flows = generated(query);
        let is_mining = |f: &FlowRecord| f.label == Label::Attack(AttackKind::CryptoMining);
        let mut found = 0;
        for d in detect(&flows, &LongConnectionParams::default()) {
            println!("{query}: {}", d.summary);
            assert!(
                d.flows.iter().all(|&i| is_mining(&flows[i as usize])),
                "{query}: {}",
                d.summary
            );
            found += d.flow_count as usize;
        }
        (found, flows.iter().filter(|f| is_mining(f)).count())
    }

    #[test]
    fn finds_the_generators_crypto_mining_when_it_runs_long() {
        for query in [
            // Loud: four Stratum connections on 3333, reconnecting about every ten minutes.
            "attacks=crypto_mining&crypto_mining.start=300&crypto_mining.duration=3200",
            "attacks=all&crypto_mining.start=300&crypto_mining.duration=3200&seed=3",
            // Stealthy: one worker over TLS on 443, reconnecting every ~50 minutes.
            "duration=7200&attacks=crypto_mining&crypto_mining.stealth=1&crypto_mining.start=300\
             &crypto_mining.duration=6800",
        ] {
            let (found, total) = mining_recall(query);
            println!("{query}: {found} of {total} mining flows");
            assert!(total > 0 && found == total, "{query}: {found} of {total}");
        }
        // The presets start mining in the last slot of the run: a few minutes of it (2 min in
        // `everything`, 4 min in `large_site`) are not a long connection.
        for query in ["preset=everything", "preset=large_site"] {
            let (found, total) = mining_recall(query);
            println!("{query}: {found} of {total} mining flows");
            assert_eq!(found, 0, "{query}");
        }
    }

    #[test]
    fn quiet_on_generated_benign_traffic() {
        let (mut hours, mut host_hours) = (0.0, 0.0);
        let mut queries: Vec<String> = Vec::new();
        for preset in [
            "demo",
            "ddos_day",
            "stealthy_intrusion",
            "everything",
            "large_site",
        ] {
            for seed in [42, 7] {
                queries.push(format!("preset={preset}&attacks=none&seed={seed}"));
            }
        }
        // A whole day: the rare huge downloads and long idle sessions have time to happen.
        queries.push("attacks=none&duration=86400&seed=5".into());
        for query in &queries {
            let (config, _) = RunConfig::from_query(query);
            let flows = generator::generate(&config.generator).unwrap().flows;
            let found = detect(&flows, &LongConnectionParams::default());
            assert!(found.is_empty(), "{query}: {}", found[0].summary);
            hours += config.generator.duration_s / 3_600.0;
            host_hours += config.generator.duration_s / 3_600.0 * f64::from(config.generator.hosts);
        }
        println!("0 detections in {hours} h of traffic, {host_hours} host-hours");
    }

    #[test]
    fn large_runs_are_fast() {
        let flows = generated("preset=large_site");
        let started = std::time::Instant::now();
        let found = detect(&flows, &LongConnectionParams::default());
        let elapsed = started.elapsed();
        println!(
            "{} flows: {} detections in {elapsed:?}",
            flows.len(),
            found.len()
        );
        assert!(elapsed.as_secs_f64() < 2.0, "{elapsed:?}");
    }

    /// Zeek's test traces and ESnet's scans (`../shared/data`): no hour-long connection.
    #[test]
    fn real_traces() {
        let Some(files) = traces_and_esnet_attacks() else {
            return;
        };
        let mut flows = 0;
        for (path, captured) in files {
            flows += captured.len();
            let found = detect(captured, &LongConnectionParams::default());
            assert!(found.is_empty(), "{path}: {}", found[0].summary);
        }
        println!("{} files, {flows} flows: no long connection", files.len());
    }
}
