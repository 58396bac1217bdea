//! Exfiltration: an internal host sending far more to one external address than anyone on the
//! site sends to any one destination, far more than it sends to its own other destinations,
//! and far more than it gets back.
//!
//! Rule, over the whole input (no time window, so a trickle adds up as well as a burst): for
//! every pair internal source → external destination (`net::is_internal`; multicast and
//! broadcast ignored) sum the originator's payload bytes `out`, the responder's `in` and the
//! flows. The pair is exfiltration when all four tests pass:
//! 1. `out ≥ min_bytes_out` (50 MB: an absolute floor; Slips' `data_exfiltration_threshold`
//!    is 500 MB per destination per time window, which would miss a trickle of 100 MB);
//! 2. `out ≥ peer_factor × p99` of the per-destination upload volumes of every OTHER internal
//!    host (the peers: what a big upload to one place looks like here);
//! 3. `out ≥ own_factor × p90` of the host's own uploads to its other external destinations
//!    (its history: a host whose job is to upload, such as a backup server feeding a few
//!    cloud addresses, is not flagged for doing it);
//! 4. `out ≥ min_out_in_ratio × in` (downloads are normal, uploads are not: a ratio of 10 is
//!    a producer–consumer ratio, PCR = (out − in)/(out + in), of at least 0.82; Bullard and
//!    Gerth, FloCon 2014).
//!
//! References below [`REFERENCE_FLOOR_BYTES`] count as that floor, so a host with no other
//! destinations, or a site with no other uploads, yields finite ratios.
//!
//! ATT&CK: T1041 Exfiltration Over C2 Channel (the usual case: data leaves over the implant's
//! HTTPS or a custom port), T1048.003 Exfiltration Over Unencrypted Non-C2 Protocol when most
//! of the bytes went over a clear-text file-transfer protocol (FTP, plain HTTP). Key host: the
//! internal source, [`KeyRole::Compromised`].
//!
//! Not caught, by design: totals under the floor; data split over many destinations each
//! under the tests (one detection per destination); a host that routinely uploads as much
//! (test 3); uploads answered by as many bytes (interleaved downloads, test 4); data pulled
//! by an external client from an internal server (the external side originates those flows);
//! DNS tunnels (the `dns_tunnel` detector). A legitimate big upload from a host that rarely
//! uploads (a cloud backup's first run, a video upload) passes all four tests: the detector
//! says "this left", an analyst says whether it was allowed.

use super::behaviour_detection::{BehaviourDetection, BehaviourKind, Evidence, KeyRole};
use super::net;
use super::technique::Technique;
use crate::traffic::flow::{FlowRecord, Service};
use crate::util::format_value::format_value;
use crate::util::index_sort;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::IpAddr;

/// References (peers' and own usual upload) below this count as this many bytes.
pub const REFERENCE_FLOOR_BYTES: f64 = 1_000.0;

/// Thresholds of the exfiltration detector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ExfiltrationParams {
    /// Least payload bytes one internal host must send one external address over the input.
    /// 50 MB: ten times the largest benign per-destination upload of the generated site (its
    /// mail relay, ~7 MB in two hours) and a tenth of Slips' 500 MB per window, so a trickle
    /// of 100 MB is caught.
    pub min_bytes_out: f64,
    /// The pair's bytes out must reach this many times the peers' quantile below. 10: an
    /// order of magnitude past what counts as a big upload here (the generated site's p99 is
    /// ~0.1 MB; an office with cloud sync has a few MB, so the floor usually decides).
    pub peer_factor: f64,
    /// Quantile (0..1) of the other internal hosts' per-destination uploads taken as the
    /// peers' "big upload": p99, robust to a few large ones.
    pub peer_quantile: f64,
    /// The pair's bytes out must reach this many times the host's own quantile below. 10: an
    /// order of magnitude past its usual upload to one place.
    pub own_factor: f64,
    /// Quantile (0..1) of the host's uploads to its other external destinations taken as its
    /// usual upload: p90, so a second or third drop site does not hide the first.
    pub own_quantile: f64,
    /// Least bytes out per byte in (10 = PCR 0.82): downloads and two-way sessions
    /// (video calls) are not exfiltration.
    pub min_out_in_ratio: f64,
}

impl Default for ExfiltrationParams {
    fn default() -> ExfiltrationParams {
        ExfiltrationParams {
            min_bytes_out: 50.0e6,
            peer_factor: 10.0,
            peer_quantile: 0.99,
            own_factor: 10.0,
            own_quantile: 0.9,
            min_out_in_ratio: 10.0,
        }
    }
}

/// `v` clamped to `lo..=hi`, `default` when NaN.
pub(crate) fn sane(v: f64, lo: f64, hi: f64, default: f64) -> f64 {
    if v.is_nan() {
        default
    } else {
        v.clamp(lo, hi)
    }
}

/// The q-quantile (linear interpolation, numpy's default) of the multiset `all` minus the
/// multiset `own` (both ascending, finite, `own` contained in `all`); 0 when nothing is left.
/// O(log² n): the k-th smallest remaining value is the smallest `all[i]` with at least k + 1
/// remaining values ≤ it.
pub(crate) fn quantile_excluding(all: &[f64], own: &[f64], q: f64) -> f64 {
    let left = all.len().saturating_sub(own.len());
    if left == 0 {
        return 0.0;
    }
    let kth = |k: usize| -> f64 {
        let at_least = |i: usize| {
            let v = all[i];
            all.partition_point(|&x| x <= v)
                .saturating_sub(own.partition_point(|&x| x <= v))
                > k
        };
        let (mut lo, mut hi) = (0, all.len() - 1);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if at_least(mid) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        all[lo]
    };
    let pos = q.clamp(0.0, 1.0) * (left - 1) as f64;
    let lo = pos.floor() as usize;
    let below = kth(lo);
    if pos > lo as f64 {
        below + (kth(lo + 1) - below) * (pos - lo as f64)
    } else {
        below
    }
}

#[derive(Default, Clone, Copy)]
struct Pair {
    out: u64,
    inn: u64,
    flows: u64,
    /// Bytes out over FTP or plain HTTP.
    clear_out: u64,
}

/// Internal source → external destination, both unicast hosts.
fn outbound(f: &FlowRecord) -> bool {
    net::is_internal(f.src_ip)
        && !net::is_internal(f.dst_ip)
        && !net::is_not_a_host(f.src_ip)
        && !net::is_not_a_host(f.dst_ip)
}

pub fn detect(flows: &[FlowRecord], params: &ExfiltrationParams) -> Vec<BehaviourDetection> {
    let d = ExfiltrationParams::default();
    let min_out = sane(params.min_bytes_out, 0.0, f64::MAX, d.min_bytes_out);
    let peer_factor = sane(params.peer_factor, 0.0, f64::MAX, d.peer_factor);
    let peer_q = sane(params.peer_quantile, 0.0, 1.0, d.peer_quantile);
    let own_factor = sane(params.own_factor, 0.0, f64::MAX, d.own_factor);
    let own_q = sane(params.own_quantile, 0.0, 1.0, d.own_quantile);
    let min_ratio = sane(params.min_out_in_ratio, 0.0, f64::MAX, d.min_out_in_ratio);

    let mut by_pair: BTreeMap<(IpAddr, IpAddr), Pair> = BTreeMap::new();
    for f in flows.iter().filter(|f| outbound(f)) {
        let p = by_pair.entry((f.src_ip, f.dst_ip)).or_default();
        p.out = p.out.saturating_add(f.bytes_out);
        p.inn = p.inn.saturating_add(f.bytes_in);
        p.flows += 1;
        if matches!(f.service, Service::Ftp | Service::Http) {
            p.clear_out = p.clear_out.saturating_add(f.bytes_out);
        }
    }
    let pairs: Vec<((IpAddr, IpAddr), Pair)> = by_pair.into_iter().collect();
    let mut all: Vec<f64> = pairs.iter().map(|(_, p)| p.out as f64).collect();
    index_sort::sort_f64(&mut all);

    // Flagged pairs: (pair index, peers' quantile, own quantile, host's destinations).
    let mut found: Vec<(usize, f64, f64, usize)> = Vec::new();
    let mut start = 0;
    while start < pairs.len() {
        let host = pairs[start].0 .0;
        let end = start + pairs[start..].partition_point(|(k, _)| k.0 == host);
        let group = start..end;
        start = end;
        if !pairs[group.clone()]
            .iter()
            .any(|(_, p)| p.out as f64 >= min_out)
        {
            continue;
        }
        let mut own: Vec<f64> = pairs[group.clone()]
            .iter()
            .map(|(_, p)| p.out as f64)
            .collect();
        index_sort::sort_f64(&mut own);
        let peer_p = quantile_excluding(&all, &own, peer_q);
        for i in group {
            let p = &pairs[i].1;
            let out = p.out as f64;
            // Ratios as the evidence shows them, so a detection's tests all read "passed".
            if out < min_out
                || out / (p.inn as f64).max(1.0) < min_ratio
                || out / peer_p.max(REFERENCE_FLOOR_BYTES) < peer_factor
            {
                continue;
            }
            let own_p = quantile_excluding(&own, &[out], own_q);
            if out / own_p.max(REFERENCE_FLOOR_BYTES) >= own_factor {
                found.push((i, peer_p, own_p, own.len()));
            }
        }
    }
    if found.is_empty() {
        return Vec::new();
    }

    // Second pass: the flagged pairs' rows.
    let mut slot: BTreeMap<(IpAddr, IpAddr), usize> = BTreeMap::new();
    for (n, &(i, ..)) in found.iter().enumerate() {
        slot.insert(pairs[i].0, n);
    }
    let mut rows: Vec<Vec<usize>> = vec![Vec::new(); found.len()];
    for (i, f) in flows.iter().enumerate().filter(|(_, f)| outbound(f)) {
        if let Some(&n) = slot.get(&(f.src_ip, f.dst_ip)) {
            rows[n].push(i);
        }
    }
    let mut out = Vec::with_capacity(found.len());
    for ((i, peer_p, own_p, destinations), rows) in found.into_iter().zip(rows) {
        let ((host, dst), p) = pairs[i];
        let bytes = p.out as f64;
        let peer_x = bytes / peer_p.max(REFERENCE_FLOOR_BYTES);
        let own_x = bytes / own_p.max(REFERENCE_FLOOR_BYTES);
        let ratio = bytes / (p.inn as f64).max(1.0);
        let span = span_s(flows, &rows);
        let evidence = vec![
            Evidence::test("bytes out to the destination", bytes, min_out),
            Evidence::test(
                &format!("times the peers' {} upload to one place", pct(peer_q)),
                peer_x,
                peer_factor,
            ),
            Evidence::test(
                &format!("times the host's {} upload to one place", pct(own_q)),
                own_x,
                own_factor,
            ),
            Evidence::test("bytes out per byte in", ratio, min_ratio),
            Evidence::context("bytes in", p.inn as f64),
            Evidence::context("flows", p.flows as f64),
            Evidence::context("span s", span),
            Evidence::context("peers' upload to one place (bytes)", peer_p),
            Evidence::context("host's usual upload to one place (bytes)", own_p),
            Evidence::context("external destinations of the host", destinations as f64),
        ];
        let summary = format!(
            "{host} sent {} to {dst} in {} flows over {}: {}× its peers' {} upload to one \
             destination, {}× its own usual, {}× what came back",
            net::bytes_words(bytes),
            format_value(p.flows as f64),
            net::span_words(span),
            format_value(peer_x.round()),
            pct(peer_q),
            format_value(own_x.round()),
            format_value(ratio.round()),
        );
        let technique = if p.clear_out.saturating_mul(2) > p.out {
            Technique::ExfiltrationOverUnencryptedProtocol
        } else {
            Technique::ExfiltrationOverC2
        };
        out.push(BehaviourDetection::from_rows(
            BehaviourKind::Exfiltration,
            technique,
            (host, KeyRole::Compromised),
            flows,
            &rows,
            evidence,
            summary,
        ));
    }
    out
}

/// A quantile as analysts name it: 0.99 → "p99", 0.995 → "p99.5".
pub(crate) fn pct(q: f64) -> String {
    format!("p{}", (q * 1_000.0).round() / 10.0)
}

/// Seconds from the first row's start to the last row's end (as the detection's window).
pub(crate) fn span_s(flows: &[FlowRecord], rows: &[usize]) -> f64 {
    let (mut first, mut last) = (f64::INFINITY, f64::NEG_INFINITY);
    for f in rows.iter().filter_map(|&i| flows.get(i)) {
        first = first.min(f.ts);
        let d = if f.duration_s.is_finite() {
            f.duration_s.max(0.0)
        } else {
            0.0
        };
        last = last.max(f.ts + d);
    }
    if first.is_finite() && last.is_finite() {
        (last - first).max(0.0)
    } else {
        0.0
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    pub(crate) use crate::detection::behaviour::test_support::real_files;
    use crate::detection::run_config::RunConfig;
    use crate::traffic::flow::{AttackKind, ConnHistory, ConnState, Label, OrigRole, Proto};
    use crate::traffic::generator;
    use crate::util::quantile::quantile;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn flow(ts: f64, src: &str, dst: &str, out: u64, inn: u64) -> FlowRecord {
        FlowRecord {
            ts,
            src_ip: ip(src),
            src_port: 50_000,
            dst_ip: ip(dst),
            dst_port: 443,
            proto: Proto::Tcp,
            service: Service::Ssl,
            duration_s: 2.0,
            bytes_out: out,
            bytes_in: inn,
            pkts_out: 10,
            pkts_in: 10,
            conn_state: ConnState::SF,
            history: ConnHistory::new("ShADadFf"),
            label: Label::Benign,
            incident_id: None,
            orig_role: OrigRole::None,
        }
    }

    /// 30 workstations each uploading 1-30 KB to each of 20 external sites (peers' p99 ~30 KB,
    /// every host's usual upload ~30 KB), then `extra`.
    fn site(extra: Vec<FlowRecord>) -> Vec<FlowRecord> {
        let mut flows = Vec::new();
        for h in 0..30 {
            for s in 0..20 {
                let out = 1_000 * (1 + (h * 7 + s * 3) % 30);
                flows.push(flow(
                    100.0 + (h * 20 + s) as f64,
                    &format!("10.0.1.{}", 10 + h),
                    &format!("93.184.{s}.1"),
                    out,
                    40 * out,
                ));
            }
        }
        flows.extend(extra);
        flows.sort_by(|a, b| a.ts.total_cmp(&b.ts));
        flows
    }

    /// 10.0.1.20 uploads `total` bytes to 203.0.113.9 in `chunks` flows, getting `back` bytes.
    fn upload(total: u64, chunks: u64, back: u64) -> Vec<FlowRecord> {
        (0..chunks)
            .map(|k| {
                let out = total / chunks + u64::from(k == 0) * (total % chunks);
                let inn = back / chunks + u64::from(k == 0) * (back % chunks);
                flow(
                    1_000.0 + 60.0 * k as f64,
                    "10.0.1.20",
                    "203.0.113.9",
                    out,
                    inn,
                )
            })
            .collect()
    }

    fn run(flows: &[FlowRecord]) -> Vec<BehaviourDetection> {
        detect(flows, &ExfiltrationParams::default())
    }

    #[test]
    fn quantile_excluding_matches_removing_the_values() {
        let all = [1.0, 2.0, 2.0, 3.0, 5.0, 5.0, 5.0, 8.0, 13.0, 21.0];
        let cases: [&[f64]; 5] = [&[], &[5.0], &[2.0, 5.0, 21.0], &[1.0, 2.0, 2.0], &all];
        for own in cases {
            let mut rest = all.to_vec();
            for v in own {
                let at = rest.iter().position(|x| x == v).unwrap();
                rest.remove(at);
            }
            for q in [0.0, 0.1, 0.5, 0.9, 0.99, 1.0] {
                let want = quantile(&rest, q).unwrap_or(0.0);
                let got = quantile_excluding(&all, own, q);
                assert!((got - want).abs() < 1e-12, "{own:?} q={q}: {got} vs {want}");
            }
        }
        assert_eq!(quantile_excluding(&[], &[], 0.5), 0.0);
    }

    #[test]
    fn a_large_one_way_upload_is_flagged_with_its_flows_and_numbers() {
        let flows = site(upload(60_000_000, 3, 12_000));
        let found = run(&flows);
        assert_eq!(found.len(), 1, "{found:#?}");
        let d = &found[0];
        assert_eq!(d.kind, BehaviourKind::Exfiltration);
        assert_eq!(d.technique, Technique::ExfiltrationOverC2);
        assert_eq!(
            (d.key_ip, d.key_role),
            (ip("10.0.1.20"), KeyRole::Compromised)
        );
        assert_eq!(d.dst_ips, vec![ip("203.0.113.9")]);
        assert_eq!(d.flow_count, 3);
        for &r in &d.flows {
            assert_eq!(flows[r as usize].dst_ip, ip("203.0.113.9"));
        }
        let tests: Vec<&Evidence> = d
            .evidence
            .iter()
            .filter(|e| e.threshold.is_some())
            .collect();
        assert_eq!(tests.len(), 4);
        assert!(d.evidence[..4].iter().all(|e| e.threshold.is_some()));
        assert!(
            tests.iter().all(|e| e.value >= e.threshold.unwrap()),
            "{tests:?}"
        );
        assert_eq!(d.evidence[0].value, 60e6);
        assert_eq!(d.evidence[3].value, 5_000.0);
        // Peers' p99 is ~30 KB: 60 MB is ~2,000 times it; strength is the weakest test, the
        // out/in ratio (5,000 / 10) or the 50 MB floor (1.2).
        assert!(d.evidence[1].value > 1_500.0, "{:?}", d.evidence[1]);
        assert!((d.strength - 1.2).abs() < 1e-9, "{}", d.strength);
        assert!(
            d.summary
                .starts_with("10.0.1.20 sent 60.0 MB to 203.0.113.9 in 3 flows over 2.0 min"),
            "{}",
            d.summary
        );
        assert!(d.summary.contains("5,000× what came back"), "{}", d.summary);
    }

    #[test]
    fn near_misses_are_not_flagged() {
        // Below the floor.
        assert!(run(&site(upload(49_000_000, 3, 1_000))).is_empty());
        // Two-way: 60 MB out, 10 MB back (a video call).
        assert!(run(&site(upload(60_000_000, 3, 10_000_000))).is_empty());
        // Internal destination, external source, multicast destination.
        let mut odd = upload(60_000_000, 2, 0);
        odd[0].dst_ip = ip("10.0.0.5");
        odd[1].src_ip = ip("198.51.100.7");
        let mut mcast = upload(60_000_000, 1, 0);
        mcast[0].dst_ip = ip("239.1.2.3");
        odd.extend(mcast);
        assert!(run(&site(odd)).is_empty());
        // A host that uploads as much everywhere (a backup server feeding cloud addresses).
        let mut backup = Vec::new();
        for s in 0..5 {
            backup.push(flow(
                2_000.0 + f64::from(s),
                "10.0.1.20",
                &format!("198.51.100.{s}"),
                20_000_000,
                1_000,
            ));
        }
        backup.extend(upload(60_000_000, 3, 1_000));
        assert!(run(&site(backup)).is_empty());
        // Peers upload big too: 20 other hosts send 10 MB to one place each.
        let mut busy = upload(60_000_000, 3, 1_000);
        for h in 0..20 {
            busy.push(flow(
                3_000.0,
                &format!("10.0.1.{}", 10 + h),
                "198.51.100.200",
                10_000_000,
                1_000,
            ));
        }
        assert!(run(&site(busy)).is_empty());
    }

    #[test]
    fn each_threshold_fires_exactly_at_its_value() {
        let d = ExfiltrationParams::default();
        // Floor: 50 MB fires, one byte less does not.
        assert_eq!(run(&site(upload(50_000_000, 2, 0))).len(), 1);
        assert!(run(&site(upload(49_999_999, 2, 0))).is_empty());
        // Out/in ratio: exactly 10 fires, one byte more back does not.
        assert_eq!(run(&site(upload(60_000_000, 2, 6_000_000))).len(), 1);
        assert!(run(&site(upload(60_000_000, 2, 6_000_001))).is_empty());
        // Peer factor: with a tiny floor, the upload must reach 10 × the peers' p99.
        let low = ExfiltrationParams {
            min_bytes_out: 0.0,
            ..d.clone()
        };
        let flows = site(Vec::new());
        let mut own = Vec::new();
        let mut all: Vec<f64> = flows.iter().map(|f| f.bytes_out as f64).collect();
        index_sort::sort_f64(&mut all);
        // 10.0.1.20's own 20 uploads leave the peers' p99.
        for f in flows.iter().filter(|f| f.src_ip == ip("10.0.1.20")) {
            own.push(f.bytes_out as f64);
        }
        index_sort::sort_f64(&mut own);
        let peer_p = quantile_excluding(&all, &own, 0.99);
        // The candidate's own other uploads (≤ 30 KB) stay below a tenth of it.
        let at = (10.0 * peer_p).ceil() as u64;
        let hit = detect(&site(upload(at, 1, 0)), &low);
        assert_eq!(hit.len(), 1, "{peer_p}");
        assert!(detect(&site(upload(at - 1, 1, 0)), &low).is_empty());
        // Own factor: another destination of the host gets a large upload; with own
        // quantile 1 (its largest other upload) the pair must reach 10 × that.
        let own_max = ExfiltrationParams {
            own_quantile: 1.0,
            ..d.clone()
        };
        let mut with_other = upload(60_000_000, 1, 0);
        with_other.push(flow(5_000.0, "10.0.1.20", "198.51.100.1", 6_000_000, 0));
        assert_eq!(detect(&site(with_other.clone()), &own_max).len(), 1);
        with_other[1].bytes_out += 1;
        assert!(detect(&site(with_other), &own_max).is_empty());
    }

    #[test]
    fn clear_text_file_transfer_is_t1048_and_odd_values_do_not_panic() {
        let mut flows = upload(60_000_000, 3, 0);
        for f in &mut flows {
            f.service = Service::Ftp;
            f.duration_s = f64::NAN;
        }
        let found = run(&site(flows));
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].technique,
            Technique::ExfiltrationOverUnencryptedProtocol
        );
        assert!(found[0].evidence.iter().all(|e| e.value.is_finite()));
        // IPv6 ULA source to a global address counts; the only host there: no peers.
        let mut v6 = flow(1.0, "fd00::1", "2001:db8::9", u64::MAX / 2, 0);
        let mut v6b = v6.clone();
        v6b.ts = 0.5; // ts slightly backwards
        v6.duration_s = -3.0;
        let found = run(&[v6, v6b]);
        assert_eq!(found.len(), 1);
        assert!(found[0].evidence.iter().all(|e| e.value.is_finite()));
        // Nonsense parameters are clamped, never a panic.
        let flows = site(upload(60_000_000, 3, 0));
        for bad in [f64::NAN, -1.0, f64::INFINITY, 0.0] {
            let p = ExfiltrationParams {
                min_bytes_out: bad,
                peer_factor: bad,
                peer_quantile: bad,
                own_factor: bad,
                own_quantile: bad,
                min_out_in_ratio: bad,
            };
            let found = detect(&flows, &p);
            if bad.is_nan() {
                assert_eq!(found.len(), 1);
            }
        }
        assert!(run(&[]).is_empty());
        let json = serde_json::to_string(&ExfiltrationParams::default()).unwrap();
        assert_eq!(
            serde_json::from_str::<ExfiltrationParams>("{}").unwrap(),
            ExfiltrationParams::default()
        );
        assert!(json.contains("min_bytes_out"));
    }

    fn generated(query: &str) -> (Vec<FlowRecord>, f64, f64) {
        let (config, _) = RunConfig::from_query(query);
        let g = config.generator;
        let flows = generator::generate(&g).unwrap().flows;
        (flows, g.duration_s / 3_600.0, f64::from(g.hosts))
    }

    /// Flows recall and precision of the detections of `kind` against the labels.
    pub(crate) fn recall(
        flows: &[FlowRecord],
        found: &[BehaviourDetection],
        kind: AttackKind,
    ) -> (f64, f64) {
        let label = Label::Attack(kind);
        let truth = flows.iter().filter(|f| f.label == label).count();
        let mut rows: Vec<u64> = found.iter().flat_map(|d| d.flows.iter().copied()).collect();
        rows.sort_unstable();
        rows.dedup();
        let hit = rows
            .iter()
            .filter(|&&r| flows[r as usize].label == label)
            .count();
        (
            hit as f64 / truth.max(1) as f64,
            hit as f64 / rows.len().max(1) as f64,
        )
    }

    #[test]
    fn finds_the_generated_exfiltration_in_every_preset_that_has_it() {
        for preset in ["everything", "stealthy_intrusion", "large_site"] {
            let (flows, _, _) = generated(&format!("preset={preset}"));
            let found = run(&flows);
            let (r, p) = recall(&flows, &found, AttackKind::Exfiltration);
            println!(
                "{preset}: {} detection(s), flows recall {r:.3}, precision {p:.3}",
                found.len()
            );
            for d in &found {
                println!("  {}", d.summary);
            }
            assert_eq!(found.len(), 1, "{preset}");
            assert_eq!((r, p), (1.0, 1.0), "{preset}");
            let victim = flows
                .iter()
                .find(|f| f.label == Label::Attack(AttackKind::Exfiltration))
                .unwrap();
            assert_eq!(found[0].key_ip, victim.src_ip);
            assert_eq!(found[0].technique, Technique::ExfiltrationOverC2);
        }
    }

    /// Trickled exfiltration (stealth 1: ~130 MB in ~1 MB uploads) adds up over the input.
    #[test]
    fn the_stealthy_trickle_is_caught_in_every_seed() {
        for seed in 1..=5 {
            let (flows, _, _) = generated(&format!("preset=stealthy_intrusion&seed={seed}"));
            let found = run(&flows);
            let (r, p) = recall(&flows, &found, AttackKind::Exfiltration);
            println!(
                "seed {seed}: {} detection(s), recall {r:.3}, precision {p:.3}",
                found.len()
            );
            assert_eq!((found.len(), r, p), (1, 1.0, 1.0), "seed {seed}");
        }
        // A tenth of the intensity (13 MB) is under the floor: not caught.
        let (flows, _, _) = generated("preset=stealthy_intrusion&exfiltration.intensity=0.1");
        assert!(run(&flows).is_empty());
    }

    #[test]
    fn benign_generated_traffic_gives_no_detection() {
        let mut host_hours = 0.0;
        let mut detections = 0;
        for preset in [
            "demo",
            "ddos_day",
            "stealthy_intrusion",
            "everything",
            "large_site",
        ] {
            let seeds: &[u64] = if preset == "large_site" {
                &[1, 2]
            } else {
                &[1, 2, 3]
            };
            for seed in seeds {
                let (flows, hours, hosts) =
                    generated(&format!("preset={preset}&attacks=none&seed={seed}"));
                let found = run(&flows);
                for d in &found {
                    println!("{preset} seed {seed}: {}", d.summary);
                }
                detections += found.len();
                host_hours += hours * hosts;
            }
        }
        println!(
            "{host_hours} host-hours, {detections} detections: {} per hour per 100 hosts",
            detections as f64 / host_hours * 100.0
        );
        // Every other attack kind is benign to this detector too.
        let others: Vec<&str> = AttackKind::ALL
            .iter()
            .filter(|&&k| k != AttackKind::Exfiltration)
            .map(|k| k.as_str())
            .collect();
        let (flows, _, _) = generated(&format!("preset=everything&attacks={}", others.join(",")));
        assert!(run(&flows).is_empty());
        assert_eq!(detections, 0);
    }

    /// Real traces (Zeek's test pcaps' conn.logs, ESnet's scans): none has a big upload.
    #[test]
    fn real_traces_give_no_detection() {
        let Some(files) = real_files() else {
            return;
        };
        let (count, mut total) = (files.len(), 0);
        for (name, flows) in files {
            let found = run(flows);
            assert!(
                found.is_empty(),
                "{name}: {:?}",
                found.iter().map(|d| &d.summary).collect::<Vec<_>>()
            );
            total += flows.len();
        }
        println!("{count} real files, {total} flows: no exfiltration");
    }
}
