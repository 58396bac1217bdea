//! Beaconing: an internal host calling one external address on a clock (command-and-control
//! check-ins), scored per source→destination pair the way RITA does.
//!
//! **Which flows.** Internal source to external destination (RITA's `internal_subnets` filter:
//! internal↔internal and external→internal conversations are not scored), both unicast hosts,
//! any transport and connection state (a beacon to a dead C2 server still ticks), except the
//! `ignored_ports`: DNS (53), whose lookups are the DNS tunnel detector's to judge and whose
//! resolver-to-upstream traffic is a busy, even stream, and NTP (123), which polls on a
//! power-of-two clock by specification (RFC 5905). Pairs are (source, destination) over all
//! ports, as RITA's IP beacons are.
//!
//! **The score** (RITA, github.com/activecm/rita: v4 `pkg/beacon/analyzer.go`, v5
//! `analysis/beacons.go`). For a pair's connections (start times t, originator payloads b):
//!
//! - gaps d: between consecutive starts, gaps under 1 s dropped (RITA works on whole-second
//!   timestamps and drops zero gaps, so the parallel connections of one check-in are one
//!   tick); check-ins = gaps + 1;
//! - Bowley skew = (Q1 + Q3 − 2·Q2) / (Q3 − Q1), taken as 0 when Q3 − Q1 < 10 (seconds or
//!   bytes) or Q2 equals Q1 or Q3 (RITA v5's guard); quartiles by linear interpolation;
//! - MAD score = (median − MAD) / median with MAD = median |x − median| (RITA v5's scale-free
//!   form; v4's `1 − MAD / 30 s` marks every beacon slower than a few minutes as jittery),
//!   clamped to 0..1; 1 for gaps and 0 for sizes when the median is under 1 (RITA v5);
//! - count score = median(d) / mean(d), capped at 1: the connections the pair made over its
//!   observed span against the count its median interval predicts (1 for a clock, 0.69 for
//!   random arrivals, low for bursts with long silences). It stands in for RITA v4's
//!   `connections / (dataset span / 10 s)` and v5's histogram and duration scores, which look
//!   for steady hourly counts over a day that one capture of an hour or two does not have;
//! - timestamp score = mean(1 − |skew(d)|, MAD score(d), count score);
//! - data size score = mean(1 − |skew(b)|, MAD score(b), smallness = 1 − median(b) / 65,535)
//!   (RITA v4 takes the mode of the sizes; byte counts rarely repeat, so the median);
//! - beacon score = (timestamp score + data size score) / 2, RITA v4's equal weights.
//!
//! **The decision.** With the 16–40 check-ins of a capture, the Bowley skew of the gaps is
//! noisy (zero on average for uniform jitter, but often beyond ±0.3 in a sample that small),
//! so the beacon score alone cannot separate beacons from the luckiest of thousands of
//! browsing pairs. Timing is therefore
//! tested on its own, by regularity = mean(MAD score(d), steadiness), steadiness =
//! 10th ÷ 90th percentile of d (1 for a clock, 0.61 for ±30 % uniform jitter, 0.05 for random
//! arrivals). A pair is reported with at least `min_check_ins` check-ins, regularity at least
//! `min_regularity` and beacon score at least `min_score`. Sources with a single external peer
//! are skipped (`min_source_peers`): an IoT device or appliance whose whole outside traffic is
//! one telemetry clock beacons by design (RITA users allow-list them).
//!
//! **Cost.** Each candidate flow becomes one 128-bit integer (source number, destination,
//! row), 16 bytes while the detector runs; one integer sort brings every pair's rows together
//! in time order, with no map walked per flow but the small one numbering internal sources.
//! At most the `max_connections_per_pair` most recent connections of a pair are scored.
//!
//! **Not caught.** Beacons with fewer check-ins in the capture than `min_check_ins` (a
//! 5-minute beacon seen for an hour), heavy or random jitter (over about ±50 %, or
//! Poisson-timed check-ins, are timed like browsing), beacons through an internal proxy or
//! resolver (the pair is internal), DNS beaconing (the DNS tunnel detector's), a compromised
//! single-purpose device.
//! A compromised device with two periodic peers (its vendor telemetry and the C2) has both
//! reported: the host is right, the telemetry pair is benign.
//!
//! **ATT&CK.** T1071 Application Layer Protocol; T1573 Encrypted Channel when most of the
//! pair's connections are TLS (service ssl or port 443). The key host is the beaconing source
//! ([`KeyRole::Compromised`]).

use super::behaviour_detection::{BehaviourDetection, BehaviourKind, Evidence, KeyRole};
use super::net::{bytes_words, is_internal, is_not_a_host, span_words};
use super::technique::Technique;
use crate::traffic::flow::{FlowRecord, Service};
use crate::util::format_value::format_value;
use crate::util::index_sort::sort_f64;
use crate::util::quantile::{quantile_in_place, quantile_sorted};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::IpAddr;

/// Thresholds of the beacon detector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BeaconParams {
    /// Fewest check-ins (connections at least a second apart) from one source to one
    /// destination for the pair to be reported. RITA scores from 4 connections but ranks over
    /// a day; in one capture, the spread of fewer gaps cannot tell a clock from chance:
    /// among the generated presets' benign pairs, regularity reaches 0.69 with 12–15
    /// check-ins and at most 0.58 from 16 on.
    pub min_check_ins: u32,
    /// Lowest regularity (mean of the gaps' MAD score and steadiness, 0..1): the timing test.
    /// Beacons with ±20 % uniform jitter score at least 0.78, with ±30 % at least 0.68
    /// (1st percentile, 16 or more check-ins); random arrivals about 0.2, and no benign pair
    /// of the generated presets above 0.58 (16 or more check-ins).
    pub min_regularity: f64,
    /// Lowest RITA beacon score (0..1): RITA's "low" band starts at 0.7. Beacons with up to
    /// ±50 % jitter and alike check-ins score above 0.72 (1st percentile, 16 or more
    /// check-ins); a job on a clock moving very different, large amounts falls below.
    pub min_score: f64,
    /// Fewest distinct external destinations the source must have (this one included) for
    /// its pairs to be scored: 2 skips devices whose only outside peer is this one (IoT
    /// telemetry, appliance check-ins); 1 scores every source.
    pub min_source_peers: u32,
    /// Destination ports never scored: DNS (53, the DNS tunnel detector's) and NTP (123, polls
    /// on a clock by design).
    pub ignored_ports: Vec<u16>,
    /// Most recent connections kept per pair for the score (bounded memory); 10,000 check-ins
    /// is a week of a one-minute beacon.
    pub max_connections_per_pair: u32,
}

impl Default for BeaconParams {
    fn default() -> BeaconParams {
        BeaconParams {
            min_check_ins: 16,
            min_regularity: 0.65,
            min_score: 0.7,
            min_source_peers: 2,
            ignored_ports: vec![53, 123],
            max_connections_per_pair: 10_000,
        }
    }
}

/// Gaps shorter than this are one check-in (RITA drops zero gaps of whole-second times).
const MIN_GAP_S: f64 = 1.0;
/// RITA v5: Bowley skew counts only when the quartiles spread at least this far.
const BOWLEY_MIN_SPREAD: f64 = 10.0;
/// RITA's smallness scale: a median payload this large scores 0.
const SMALLNESS_SCALE_BYTES: f64 = 65_535.0;

/// RITA's skew and MAD scores of one sample, with its median and MAD.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Spread {
    skew: f64,
    skew_score: f64,
    mad_score: f64,
    median: f64,
    mad: f64,
}

/// A pair's timing: the timestamp score and its parts.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Timing {
    /// RITA's timestamp score: mean(skew score, MAD score, count score).
    score: f64,
    count_score: f64,
    /// mean(MAD score, steadiness): the timing test.
    regularity: f64,
    steadiness: f64,
    check_ins: usize,
    gaps: Spread,
}

/// A pair's payload sizes: the data size score and its parts.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Sizes {
    score: f64,
    sizes: Spread,
    smallness: f64,
}

/// Quartiles and the median absolute deviation of `values` (sorted in place, non-empty).
pub(super) fn quartiles_and_mad(values: &mut [f64]) -> (f64, f64, f64, f64) {
    sort_f64(values);
    let (q1, q2, q3) = (
        quantile_sorted(values, 0.25),
        quantile_sorted(values, 0.5),
        quantile_sorted(values, 0.75),
    );
    let mut devs: Vec<f64> = values.iter().map(|v| (v - q2).abs()).collect();
    (q1, q2, q3, quantile_in_place(&mut devs, 0.5))
}

fn unit(x: f64) -> f64 {
    if x.is_finite() {
        x.clamp(0.0, 1.0)
    } else {
        0.0
    }
}

/// RITA's skew and MAD scores of a non-empty sample (sorted in place); the MAD score is
/// `small_median_score` when the median is under 1.
fn spread(values: &mut [f64], small_median_score: f64) -> Spread {
    let (q1, median, q3, mad) = quartiles_and_mad(values);
    let iqr = q3 - q1;
    let skew = if iqr >= BOWLEY_MIN_SPREAD && median != q1 && median != q3 {
        (q1 + q3 - 2.0 * median) / iqr
    } else {
        0.0
    };
    let mad_score = if median >= 1.0 {
        (median - mad) / median
    } else {
        small_median_score
    };
    Spread {
        skew,
        skew_score: unit(1.0 - skew.abs()),
        mad_score: unit(mad_score),
        median,
        mad,
    }
}

/// The timestamp score of connections starting at `starts` (time order; a start stepping
/// back makes no gap); `None` with fewer than 3 gaps of at least a second.
fn timing(starts: &[f64]) -> Option<Timing> {
    let mut gaps: Vec<f64> = starts
        .windows(2)
        .map(|w| w[1] - w[0])
        .filter(|&d| d >= MIN_GAP_S)
        .collect();
    if gaps.len() < 3 {
        return None;
    }
    let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
    let g = spread(&mut gaps, 1.0);
    let count_score = unit(g.median / mean);
    let steadiness = unit(quantile_sorted(&gaps, 0.1) / quantile_sorted(&gaps, 0.9));
    Some(Timing {
        score: (g.skew_score + g.mad_score + count_score) / 3.0,
        count_score,
        regularity: (g.mad_score + steadiness) / 2.0,
        steadiness,
        check_ins: gaps.len() + 1,
        gaps: g,
    })
}

/// The data size score of originator payloads `sizes` (non-empty, reordered).
fn sizes(sizes: &mut [f64]) -> Sizes {
    let b = spread(sizes, 0.0);
    let smallness = unit(1.0 - b.median / SMALLNESS_SCALE_BYTES);
    Sizes {
        score: (b.skew_score + b.mad_score + smallness) / 3.0,
        sizes: b,
        smallness,
    }
}

/// Thresholds after clamping invalid values.
struct Limits {
    min_check_ins: usize,
    min_regularity: f64,
    min_score: f64,
}

/// Beaconing pairs in `flows` (time order), one detection per pair, by source (in order of
/// first appearance) then destination.
pub fn detect(flows: &[FlowRecord], params: &BeaconParams) -> Vec<BehaviourDetection> {
    let d = BeaconParams::default();
    let share = |v: f64, fallback: f64| {
        if v.is_finite() {
            v.clamp(0.0, 1.0)
        } else {
            fallback
        }
    };
    let lim = Limits {
        min_check_ins: params.min_check_ins.max(4) as usize,
        min_regularity: share(params.min_regularity, d.min_regularity),
        min_score: share(params.min_score, d.min_score),
    };
    let cap = (params.max_connections_per_pair as usize).max(lim.min_check_ins);
    // Every candidate flow as one integer (source number, destination key, row): one integer
    // sort brings each pair's rows together, in time order, with no map walked per flow
    // except the small one numbering internal sources.
    let mut sources: BTreeMap<IpAddr, u32> = BTreeMap::new();
    let mut last: Option<(IpAddr, u32)> = None;
    let mut entries: Vec<u128> = Vec::new();
    for (i, f) in flows.iter().enumerate().take(u32::MAX as usize) {
        if !(is_internal(f.src_ip)
            && !is_internal(f.dst_ip)
            && !is_not_a_host(f.src_ip)
            && !is_not_a_host(f.dst_ip)
            && f.ts.is_finite()
            && !params.ignored_ports.contains(&f.dst_port))
        {
            continue;
        }
        let src = match last {
            Some((ip, n)) if ip == f.src_ip => n,
            _ => {
                let next = sources.len() as u32;
                let n = *sources.entry(f.src_ip).or_insert(next);
                last = Some((f.src_ip, n));
                n
            }
        };
        entries.push(u128::from(src) << 96 | u128::from(addr_key(f.dst_ip)) << 32 | i as u128);
    }
    drop(sources);
    entries.sort_unstable();
    let mut out = Vec::new();
    let mut start = 0;
    while start < entries.len() {
        let src = entries[start] >> 96;
        let end = start + entries[start..].partition_point(|&e| e >> 96 == src);
        let pairs = runs_by_destination(&entries[start..end]);
        start = end;
        let peers = u32::try_from(pairs.len()).unwrap_or(u32::MAX);
        if peers < params.min_source_peers {
            continue;
        }
        for run in pairs {
            if run.len() < lim.min_check_ins {
                continue;
            }
            let run = &run[run.len().saturating_sub(cap)..];
            // A folded IPv6 key shared by two destinations keeps the first one's rows only.
            let dst = flows[row(run[0])].dst_ip;
            let rows: Vec<usize> = run
                .iter()
                .map(|&e| row(e))
                .filter(|&i| flows[i].dst_ip == dst)
                .collect();
            let starts: Vec<f64> = rows.iter().map(|&i| flows[i].ts).collect();
            let Some(t) = timing(&starts) else {
                continue;
            };
            if t.check_ins < lim.min_check_ins || t.regularity < lim.min_regularity {
                continue;
            }
            let mut bytes: Vec<f64> = rows.iter().map(|&i| flows[i].bytes_out as f64).collect();
            let z = sizes(&mut bytes);
            let score = (t.score + z.score) / 2.0;
            if score >= lim.min_score {
                out.push(detection(flows, &rows, score, &t, &z, &lim, peers));
            }
        }
    }
    out
}

/// The row (low 32 bits) of an entry.
fn row(entry: u128) -> usize {
    (entry & 0xffff_ffff) as usize
}

/// An address as 64 bits: IPv4 exactly, IPv6 folded (top bit set, so never equal to an IPv4
/// key).
fn addr_key(ip: IpAddr) -> u64 {
    match ip {
        IpAddr::V4(a) => u64::from(u32::from(a)),
        IpAddr::V6(a) => {
            let v = u128::from(a);
            let mut h = (v as u64) ^ ((v >> 64) as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
            h ^= h >> 29;
            h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
            (h ^ (h >> 32)) | 1 << 63
        }
    }
}

/// One source's sorted entries cut into runs with the same destination key.
fn runs_by_destination(entries: &[u128]) -> Vec<&[u128]> {
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..=entries.len() {
        if i == entries.len() || entries[i] >> 32 != entries[start] >> 32 {
            out.push(&entries[start..i]);
            start = i;
        }
    }
    out
}

fn detection(
    flows: &[FlowRecord],
    rows: &[usize],
    score: f64,
    t: &Timing,
    z: &Sizes,
    lim: &Limits,
    peers: u32,
) -> BehaviourDetection {
    let tls = rows
        .iter()
        .filter(|&&i| flows[i].service == Service::Ssl || flows[i].dst_port == 443)
        .count();
    let technique = if 2 * tls > rows.len() {
        Technique::EncryptedChannel
    } else {
        Technique::ApplicationLayerProtocol
    };
    let first = &flows[rows[0]];
    let (src, dst) = (first.src_ip, first.dst_ip);
    let service = if first.service == Service::None {
        format!("port {}", first.dst_port)
    } else {
        format!("{}, port {}", first.service.as_str(), first.dst_port)
    };
    let summary = format!(
        "{src} called {dst} ({service}) {} times in {}, every {} ± {}, about {} out each \
         (beacon score {score:.2})",
        format_value(t.check_ins as f64),
        span_words(flows[rows[rows.len() - 1]].ts - first.ts),
        span_words(t.gaps.median),
        span_words(t.gaps.mad),
        bytes_words(z.sizes.median),
    );
    let evidence = vec![
        Evidence::test("regularity", t.regularity, lim.min_regularity),
        Evidence::test("beacon score (RITA)", score, lim.min_score),
        Evidence::test("check-ins", t.check_ins as f64, lim.min_check_ins as f64),
        Evidence::context("timestamp score", t.score),
        Evidence::context("data size score", z.score),
        Evidence::context("interval skew (Bowley)", t.gaps.skew),
        Evidence::context("interval MAD score", t.gaps.mad_score),
        Evidence::context("interval count score (median / mean)", t.count_score),
        Evidence::context("interval steadiness (10th / 90th percentile)", t.steadiness),
        Evidence::context("size skew (Bowley)", z.sizes.skew),
        Evidence::context("size MAD score", z.sizes.mad_score),
        Evidence::context("size smallness score", z.smallness),
        Evidence::context("median interval (s)", t.gaps.median),
        Evidence::context("interval MAD (s)", t.gaps.mad),
        Evidence::context("median bytes out", z.sizes.median),
        Evidence::context("connections", rows.len() as f64),
        Evidence::context("external peers of the source", f64::from(peers)),
    ];
    BehaviourDetection::from_rows(
        BehaviourKind::Beaconing,
        technique,
        (src, KeyRole::Compromised),
        flows,
        rows,
        evidence,
        summary,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detection::behaviour::test_support::traces_and_esnet_attacks;
    use crate::detection::run_config::RunConfig;
    use crate::traffic::flow::{AttackKind, ConnHistory, ConnState, Label, OrigRole, Proto};
    use crate::traffic::generator;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    /// A small deterministic generator for jitter and sizes.
    struct Lcg(u64);

    impl Lcg {
        fn unit(&mut self) -> f64 {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (self.0 >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    fn conn(ts: f64, src: &str, dst: &str, port: u16, bytes_out: u64) -> FlowRecord {
        FlowRecord {
            ts,
            src_ip: ip(src),
            src_port: 50_000,
            dst_ip: ip(dst),
            dst_port: port,
            proto: Proto::Tcp,
            service: if port == 443 {
                Service::Ssl
            } else {
                Service::Http
            },
            duration_s: 0.3,
            bytes_out,
            bytes_in: 4_000,
            pkts_out: 6,
            pkts_in: 6,
            conn_state: ConnState::SF,
            history: ConnHistory::new("ShADadFf"),
            label: Label::Benign,
            incident_id: None,
            orig_role: OrigRole::None,
        }
    }

    /// `n` check-ins every `period_s` ± `jitter` (share), ~1.5 KB out each.
    fn beacon(n: usize, period_s: f64, jitter: f64, port: u16, seed: u64) -> Vec<FlowRecord> {
        let mut rng = Lcg(seed);
        let mut ts = 1_000.0;
        (0..n)
            .map(|_| {
                let f = conn(
                    ts,
                    "10.0.1.50",
                    "203.0.113.80",
                    port,
                    1_450 + (rng.unit() * 100.0) as u64,
                );
                ts += period_s * (1.0 + jitter * (2.0 * rng.unit() - 1.0));
                f
            })
            .collect()
    }

    /// The same host browsing two other sites now and then, so it has more than one peer.
    fn with_browsing(mut flows: Vec<FlowRecord>) -> Vec<FlowRecord> {
        for k in 0..6 {
            let dst = if k % 2 == 0 {
                "198.51.100.1"
            } else {
                "198.51.100.2"
            };
            flows.push(conn(
                1_000.0 + k as f64 * 97.0,
                "10.0.1.50",
                dst,
                443,
                900 + k * 300,
            ));
        }
        flows.sort_by(|a, b| a.ts.total_cmp(&b.ts));
        flows
    }

    fn value(d: &BehaviourDetection, name: &str) -> f64 {
        d.evidence
            .iter()
            .find(|e| e.name.starts_with(name))
            .unwrap_or_else(|| panic!("no {name} in {:?}", d.evidence))
            .value
    }

    #[test]
    fn rita_spread_on_hand_samples() {
        let mut even: Vec<f64> = (1..=9).map(|k| f64::from(k) * 10.0).collect();
        let s = spread(&mut even, 1.0);
        assert_eq!((s.skew, s.median, s.mad), (0.0, 50.0, 20.0));
        assert!((s.mad_score - 0.6).abs() < 1e-12);
        let mut skewed = vec![400.0, 10.0, 20.0, 30.0, 40.0, 100.0, 200.0, 300.0, 1_000.0];
        let s = spread(&mut skewed, 1.0);
        assert!((s.skew - 130.0 / 270.0).abs() < 1e-12, "{s:?}");
        assert!((s.skew_score - (1.0 - 130.0 / 270.0)).abs() < 1e-12);
        // Quartiles closer than 10 units: skew counts as 0 (RITA v5).
        let mut tight = vec![100.0, 101.0, 108.0, 103.0, 104.0];
        assert_eq!(spread(&mut tight, 1.0).skew, 0.0);
        // A median under 1: the default MAD score.
        assert_eq!(spread(&mut [0.0, 0.0, 0.5], 1.0).mad_score, 1.0);
        assert_eq!(spread(&mut [0.0, 0.0, 0.5], 0.0).mad_score, 0.0);
    }

    #[test]
    fn timing_scores_a_clock_high_and_random_arrivals_low() {
        let clock: Vec<f64> = (0..30).map(|k| f64::from(k) * 60.0).collect();
        let t = timing(&clock).unwrap();
        assert_eq!((t.score, t.steadiness, t.check_ins), (1.0, 1.0, 30));
        // Parallel connections within a second are one check-in.
        let mut doubled: Vec<f64> = clock.iter().flat_map(|&t| [t, t + 0.2]).collect();
        doubled.sort_by(f64::total_cmp);
        assert_eq!(timing(&doubled).unwrap().check_ins, 30);
        // Poisson arrivals (exponential gaps): about 0.3 steadiness, a low timestamp score.
        let mut rng = Lcg(7);
        let mut ts = 0.0;
        let poisson: Vec<f64> = (0..200)
            .map(|_| {
                ts += -60.0 * (1.0 - rng.unit()).ln();
                ts
            })
            .collect();
        let t = timing(&poisson).unwrap();
        assert!(t.steadiness < 0.4 && t.score < 0.7, "{t:?}");
        assert!(timing(&[0.0, 60.0, 120.0]).is_none(), "needs 3 gaps");
        // Constant small sizes: skew 0, MAD 0, almost fully small.
        let z = sizes(&mut [1_000.0; 12]);
        assert!((z.score - (2.0 + (1.0 - 1_000.0 / 65_535.0)) / 3.0).abs() < 1e-12);
    }

    #[test]
    fn a_beacon_is_found_with_its_numbers() {
        let flows = with_browsing(beacon(30, 60.0, 0.05, 8_080, 1));
        let found = detect(&flows, &BeaconParams::default());
        assert_eq!(found.len(), 1, "{found:?}");
        let d = &found[0];
        assert_eq!(d.kind, BehaviourKind::Beaconing);
        assert_eq!(d.technique, Technique::ApplicationLayerProtocol);
        assert_eq!(
            (d.key_ip, d.key_role),
            (ip("10.0.1.50"), KeyRole::Compromised)
        );
        assert_eq!(
            (d.flow_count, d.dst_ips.clone()),
            (30, vec![ip("203.0.113.80")])
        );
        assert!(d
            .flows
            .iter()
            .all(|&i| flows[i as usize].dst_ip == ip("203.0.113.80")));
        assert!(value(d, "regularity") > 0.9 && value(d, "beacon score") > 0.9);
        assert_eq!(value(d, "check-ins"), 30.0);
        assert_eq!(value(d, "external peers"), 3.0);
        assert_eq!(
            d.evidence
                .iter()
                .take_while(|e| e.threshold.is_some())
                .count(),
            3
        );
        assert!(
            d.summary.starts_with(
                "10.0.1.50 called 203.0.113.80 (http, port 8080) 30 times in 28.9 min, every \
                 60 s ± 1 s, about 1.5 KB out each (beacon score 0."
            ),
            "{}",
            d.summary
        );
        // Over TLS: Encrypted Channel.
        let tls = with_browsing(beacon(30, 60.0, 0.05, 443, 1));
        assert_eq!(
            detect(&tls, &BeaconParams::default())[0].technique,
            Technique::EncryptedChannel
        );
        // 30 % jitter on a 5-minute clock still scores.
        let slow = with_browsing(beacon(24, 300.0, 0.3, 443, 3));
        assert_eq!(detect(&slow, &BeaconParams::default()).len(), 1);
    }

    #[test]
    fn random_arrivals_and_varied_transfers_are_not_beacons() {
        let p = BeaconParams::default();
        let mut rng = Lcg(11);
        let mut ts = 1_000.0;
        let flows: Vec<FlowRecord> = (0..60)
            .map(|_| {
                ts += -60.0 * (1.0 - rng.unit()).ln();
                conn(ts, "10.0.1.50", "203.0.113.80", 443, 1_500)
            })
            .collect();
        assert!(
            detect(&with_browsing(flows), &p).is_empty(),
            "Poisson arrivals"
        );
        // Uploads spread over slots as the generator's exfiltration does: each anywhere in
        // the first 90 % of its 10-second slot.
        let flows: Vec<FlowRecord> = (0..60)
            .map(|k| {
                let ts = 1_000.0 + (f64::from(k) + 0.9 * rng.unit()) * 10.0;
                conn(ts, "10.0.1.50", "203.0.113.80", 443, 1_000_000)
            })
            .collect();
        assert!(
            detect(&with_browsing(flows), &p).is_empty(),
            "slotted uploads"
        );
        // A job on a clock moving very different, large amounts each time (a sync): timed
        // like a beacon, but RITA's size score keeps it out.
        let flows: Vec<FlowRecord> = (0..60)
            .map(|k| {
                let size = (2_000.0 * (1_000.0f64).powf(rng.unit())) as u64 * 100;
                conn(
                    1_000.0 + f64::from(k) * 300.0,
                    "10.0.1.50",
                    "203.0.113.80",
                    443,
                    size,
                )
            })
            .collect();
        let flows = with_browsing(flows);
        assert!(detect(&flows, &p).is_empty(), "varied sizes");
        let lenient = BeaconParams {
            min_score: 0.0,
            ..BeaconParams::default()
        };
        let found = detect(&flows, &lenient);
        assert!(value(&found[0], "beacon score") < p.min_score);
        assert!(value(&found[0], "regularity") > 0.9);
    }

    #[test]
    fn check_in_and_score_boundaries() {
        let p = BeaconParams::default();
        let clock = |n: usize, parallel: usize| {
            let mut flows = Vec::new();
            for k in 0..n {
                for j in 0..parallel {
                    flows.push(conn(
                        1_000.0 + k as f64 * 60.0 + j as f64 * 0.1,
                        "10.0.1.50",
                        "203.0.113.80",
                        443,
                        1_500,
                    ));
                }
            }
            with_browsing(flows)
        };
        assert_eq!(detect(&clock(16, 1), &p).len(), 1, "exactly min_check_ins");
        assert!(detect(&clock(15, 1), &p).is_empty(), "one short");
        assert_eq!(detect(&clock(16, 3), &p).len(), 1);
        assert!(
            detect(&clock(15, 3), &p).is_empty(),
            "45 connections, 15 check-ins"
        );
        // The score thresholds: exactly at the pair's score fires, a hair above does not.
        let flows = with_browsing(beacon(30, 300.0, 0.3, 443, 5));
        let d = &detect(&flows, &p)[0];
        let (score, regularity) = (value(d, "beacon score"), value(d, "regularity"));
        let with = |min_score, min_regularity| {
            detect(
                &flows,
                &BeaconParams {
                    min_score,
                    min_regularity,
                    ..BeaconParams::default()
                },
            )
            .len()
        };
        assert_eq!(with(score, regularity), 1);
        assert_eq!(with(score + 1e-9, regularity), 0);
        assert_eq!(with(score, regularity + 1e-9), 0);
    }

    #[test]
    fn what_is_not_scored() {
        let p = BeaconParams::default();
        let b = beacon(30, 60.0, 0.05, 443, 1);
        // A device whose only outside peer is this one (IoT telemetry).
        assert!(detect(&b, &p).is_empty());
        let any_source = BeaconParams {
            min_source_peers: 1,
            ..BeaconParams::default()
        };
        assert_eq!(detect(&b, &any_source).len(), 1);
        let variant = |change: &dyn Fn(&mut FlowRecord)| {
            let mut flows = b.clone();
            flows.iter_mut().for_each(change);
            detect(&with_browsing(flows), &p)
        };
        assert_eq!(variant(&|_| {}).len(), 1);
        assert!(variant(&|f| f.dst_port = 123).is_empty(), "NTP");
        assert!(variant(&|f| f.dst_port = 53).is_empty(), "DNS");
        assert!(
            variant(&|f| f.dst_ip = ip("10.0.0.53")).is_empty(),
            "internal destination"
        );
        assert!(
            variant(&|f| f.dst_ip = ip("224.0.0.251")).is_empty(),
            "multicast"
        );
        let mut inbound = b.clone();
        inbound
            .iter_mut()
            .for_each(|f| (f.src_ip, f.dst_ip) = (f.dst_ip, f.src_ip));
        assert!(detect(&inbound, &any_source).is_empty(), "from outside in");
    }

    #[test]
    fn long_pairs_keep_their_most_recent_connections() {
        let flows = with_browsing(beacon(100, 60.0, 0.05, 443, 9));
        let capped = BeaconParams {
            max_connections_per_pair: 20,
            ..BeaconParams::default()
        };
        let d = &detect(&flows, &capped)[0];
        let beacon_rows: Vec<u64> = (0..flows.len() as u64)
            .filter(|&i| flows[i as usize].dst_ip == ip("203.0.113.80"))
            .collect();
        assert_eq!(d.flows, beacon_rows[80..].to_vec());
    }

    #[test]
    fn odd_flows_and_invalid_params_are_safe() {
        let mut flows = with_browsing(beacon(40, 60.0, 0.05, 443, 2));
        flows[5].ts = f64::NAN;
        flows[9].duration_s = f64::NAN;
        flows[12].ts -= 0.5;
        for f in &mut flows {
            f.src_ip = ip(&f.src_ip.to_string().replace("10.0.1.50", "fd00::50"));
            f.dst_ip = ip(&f.dst_ip.to_string().replace("203.0.113.80", "2001:db8::80"));
        }
        let found = detect(&flows, &BeaconParams::default());
        assert_eq!(found.len(), 1, "IPv6 beacon");
        assert_eq!(found[0].key_ip, ip("fd00::50"));
        for p in [
            BeaconParams {
                min_check_ins: 0,
                min_score: f64::NAN,
                min_regularity: -1.0,
                min_source_peers: 0,
                ignored_ports: Vec::new(),
                max_connections_per_pair: 0,
            },
            BeaconParams {
                min_score: f64::INFINITY,
                min_regularity: 7.0,
                max_connections_per_pair: u32::MAX,
                ..BeaconParams::default()
            },
        ] {
            let _ = detect(&flows, &p);
        }
        assert!(detect(&[], &BeaconParams::default()).is_empty());
        let partial: BeaconParams = serde_json::from_str(r#"{"min_score": 0.9}"#).unwrap();
        assert_eq!(partial.min_check_ins, 16);
        assert_eq!(partial.ignored_ports, vec![53, 123]);
    }

    /// Runs `query`, checks every detection is about a host the C2 beacon compromised, and
    /// returns (C2 connections found, C2 connections to the C2 server, benign-labelled rows
    /// reported).
    fn c2_recall(query: &str) -> (usize, usize, usize) {
        let (config, _) = RunConfig::from_query(query);
        let traffic = generator::generate(&config.generator).unwrap();
        let flows = &traffic.flows;
        let compromised: Vec<IpAddr> = traffic
            .incidents
            .iter()
            .filter(|i| i.kind == AttackKind::C2Beacon)
            .map(|i| i.victim)
            .collect();
        let is_c2 =
            |f: &FlowRecord| f.label == Label::Attack(AttackKind::C2Beacon) && f.dst_port != 53;
        let (mut found, mut benign) = (0, 0);
        for d in detect(flows, &BeaconParams::default()) {
            println!("{query}: {}", d.summary);
            assert!(compromised.contains(&d.key_ip), "{query}: {}", d.summary);
            found += d
                .flows
                .iter()
                .filter(|&&i| is_c2(&flows[i as usize]))
                .count();
            benign += d
                .flows
                .iter()
                .filter(|&&i| !flows[i as usize].label.is_attack())
                .count();
        }
        (found, flows.iter().filter(|f| is_c2(f)).count(), benign)
    }

    #[test]
    fn finds_the_generators_c2_beacon() {
        for query in [
            "preset=everything",
            "preset=everything&seed=1",
            "preset=everything&seed=2",
            "preset=everything&seed=3",
            "preset=everything&seed=7",
            "preset=large_site",
            "preset=large_site&seed=2",
            // Stealth 1 (HTTPS, 30 % jitter, DNS first) on a 2-minute clock for most of an hour,
            // and the stealthy preset's own 5-minute beacon given most of its two hours.
            "attacks=c2_beacon&c2_beacon.stealth=1&c2_beacon.period=120&c2_beacon.start=600\
             &c2_beacon.duration=2900",
            "preset=stealthy_intrusion&c2_beacon.start=600&c2_beacon.duration=6500",
        ] {
            let (found, total, benign) = c2_recall(query);
            println!("{query}: {found} of {total} C2 connections, {benign} benign rows");
            assert!(total >= 16, "{query}");
            assert_eq!(found, total, "{query}");
        }
        // The stealthy preset's beacon starts two thirds into the run with a 5-minute period:
        // 8 or 9 check-ins, under `min_check_ins`.
        for query in [
            "preset=stealthy_intrusion",
            "preset=stealthy_intrusion&seed=3",
        ] {
            let (found, total, _) = c2_recall(query);
            println!("{query}: {found} of {total} C2 connections");
            assert!(found == 0 && total < 16, "{query}: {found} of {total}");
        }
    }

    #[test]
    fn quiet_on_generated_benign_traffic() {
        let mut hours = 0.0;
        let mut host_hours = 0.0;
        for preset in [
            "demo",
            "ddos_day",
            "stealthy_intrusion",
            "everything",
            "large_site",
        ] {
            for seed in [42, 7, 3] {
                let query = format!("preset={preset}&attacks=none&seed={seed}");
                let (config, _) = RunConfig::from_query(&query);
                let flows = generator::generate(&config.generator).unwrap().flows;
                let started = std::time::Instant::now();
                let found = detect(&flows, &BeaconParams::default());
                if preset == "large_site" {
                    println!("{query}: {} flows in {:?}", flows.len(), started.elapsed());
                }
                assert!(found.is_empty(), "{query}: {}", found[0].summary);
                hours += config.generator.duration_s / 3_600.0;
                host_hours +=
                    config.generator.duration_s / 3_600.0 * f64::from(config.generator.hosts);
            }
        }
        println!("0 detections in {hours} h of traffic, {host_hours} host-hours");
    }

    /// Zeek's test traces and ESnet's scans (`../shared/data`): short captures with no
    /// beacon; nothing is reported.
    #[test]
    fn real_traces() {
        let Some(files) = traces_and_esnet_attacks() else {
            return;
        };
        let mut flows = 0;
        for (path, captured) in files {
            flows += captured.len();
            let found = detect(captured, &BeaconParams::default());
            assert!(found.is_empty(), "{path}: {}", found[0].summary);
        }
        println!("{} files, {flows} flows: no beacon", files.len());
    }
}
