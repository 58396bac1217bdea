//! Fusion of the behavioural detectors with the learned models: every detection becomes an
//! incident whatever its flows' anomaly scores (found by a detector, or by both when the
//! models flagged some of its flows too), and the models' flags that no detection explains
//! are grouped as before (`incidents::group`, found by the models). Severity combines both:
//! the kind of behaviour sets a floor, how far past its thresholds it is and the models'
//! agreement raise it. The models' flags on flows with a detected attack's victim while the
//! attack lasts are collateral of it: one low-severity incident per attack says so, instead of
//! dozens of incidents for the victim's ordinary peers.
//!
//! Deterministic: same flows, flags and detections, same incidents in the same order. Not
//! responsible for the rules (`detection::behaviour`), thresholds or feedback.

use super::budget::{self, HeldBack};
use super::incidents::{self, DetectedIncident, FoundBy, Grouping, IncidentParams, Severity};
use crate::detection::behaviour::{BehaviourDetection, BehaviourKind, KeyRole};
use crate::traffic::flow::FlowRecord;
use crate::util::index_sort;
use std::collections::BTreeSet;

/// Strength (value / threshold of the weakest test) at which a detection is one severity
/// level worse than its kind's floor.
pub const STRONG: f64 = 3.0;

/// The least severity a detection of `kind` gets: attacks on availability, lateral movement
/// and data leaving are critical, discovery and credential guessing high, the rest (long
/// connections, slow DoS) medium.
pub fn floor(kind: BehaviourKind) -> Severity {
    match kind {
        BehaviourKind::SynFlood
        | BehaviourKind::VolumetricFlood
        | BehaviourKind::Reflection
        | BehaviourKind::Exfiltration
        | BehaviourKind::LateralMovement => Severity::Critical,
        BehaviourKind::VerticalScan
        | BehaviourKind::HorizontalScan
        | BehaviourKind::IcmpSweep
        | BehaviourKind::BruteForce
        | BehaviourKind::Beaconing
        | BehaviourKind::DnsTunnel => Severity::High,
        BehaviourKind::LongConnection | BehaviourKind::SlowDos => Severity::Medium,
    }
}

/// The incident budget of one run (see `budget`).
#[derive(Debug, Clone, Copy, Default)]
pub struct ModelBudget<'a> {
    /// Model-only incidents the run may list; `None`: all.
    pub allowed: Option<u64>,
    /// Per row: a known source using a port it never used in the training part.
    pub first_seen: &'a [bool],
}

/// Incidents from the models' flagged rows and the detections, most severe first, numbered
/// from 1, with the model-only ones cut to `budget`. `detections` carry their rows (already
/// without the rows feedback suppresses); `scores`/`threshold` are the ensemble's.
pub fn incidents(
    flows: &[FlowRecord],
    model_flagged: &[usize],
    detections: &[BehaviourDetection],
    scores: &[f64],
    threshold: f64,
    params: &IncidentParams,
    budget: &ModelBudget,
) -> (Vec<DetectedIncident>, HeldBack) {
    let mut flagged_by_model = vec![false; flows.len()];
    for &i in model_flagged {
        if let Some(f) = flagged_by_model.get_mut(i) {
            *f = true;
        }
    }
    let mut explained = vec![false; flows.len()];
    let mut out: Vec<DetectedIncident> = Vec::new();
    // Victims of detected attacks: (position in `out`, victim, from, to).
    let mut victims: Vec<(usize, std::net::IpAddr, f64, f64)> = Vec::new();
    for d in detections {
        let rows: Vec<usize> = d
            .flows
            .iter()
            .map(|&r| r as usize)
            .filter(|&r| r < flows.len())
            .collect();
        if rows.is_empty() {
            continue;
        }
        let grouping = match d.key_role {
            KeyRole::Victim => Grouping::Victim,
            KeyRole::Attacker | KeyRole::Compromised => Grouping::Source,
        };
        let mut inc = incidents::build(flows, &rows, scores, threshold, grouping, d.key_ip);
        let agreed = rows.iter().any(|&r| flagged_by_model[r]);
        for &r in &rows {
            explained[r] = true;
        }
        let mut level = floor(d.kind);
        if agreed || d.strength >= STRONG {
            level = level.bump();
        }
        inc.severity = inc.severity.max(level);
        inc.found_by = if agreed {
            FoundBy::Both
        } else {
            FoundBy::Detector
        };
        inc.kind = Some(d.kind);
        inc.technique = Some(d.technique);
        inc.key_role = Some(d.key_role);
        inc.evidence = d.evidence.clone();
        inc.summary = d.summary.clone();
        if d.key_role == KeyRole::Victim {
            victims.push((out.len(), d.key_ip, inc.first_seen_ts, inc.last_seen_ts));
        }
        out.push(inc);
    }
    let margin = if params.collateral_margin_s.is_finite() && params.collateral_margin_s >= 0.0 {
        params.collateral_margin_s
    } else {
        IncidentParams::default().collateral_margin_s
    };
    let mut collateral: Vec<Vec<usize>> = vec![Vec::new(); victims.len()];
    let mut rest: Vec<usize> = Vec::new();
    for i in model_flagged.iter().copied() {
        if i >= flows.len() || explained[i] {
            continue;
        }
        let f = &flows[i];
        let victim = victims.iter().position(|&(_, ip, from, to)| {
            (f.dst_ip == ip || f.src_ip == ip) && f.ts >= from - margin && f.ts <= to + margin
        });
        match victim {
            Some(v) => collateral[v].push(i),
            None => rest.push(i),
        }
    }
    // (position of the collateral incident in `out`, position of its attack, its peers).
    let mut collateral_links: Vec<(usize, usize, usize)> = Vec::new();
    for (&(attack, ip, _, _), mut rows) in victims.iter().zip(collateral) {
        if rows.is_empty() {
            continue;
        }
        index_sort::sort_indices_by(&mut rows, &mut |a, b| {
            flows[a].ts.total_cmp(&flows[b].ts).then(a.cmp(&b))
        });
        // A B-tree set, not sort + dedup: the wasm already carries B-tree sets of addresses,
        // while sorting addresses would add a sort instantiation (see `index_sort`).
        let mut peers: BTreeSet<std::net::IpAddr> = BTreeSet::new();
        for &r in &rows {
            let f = &flows[r];
            peers.insert(if f.dst_ip == ip { f.src_ip } else { f.dst_ip });
        }
        let mut inc = incidents::build(flows, &rows, scores, threshold, Grouping::Victim, ip);
        inc.severity = Severity::Low;
        collateral_links.push((out.len(), attack, peers.len()));
        out.push(inc);
    }
    let (kept, held) = budget::keep_within(
        incidents::group(flows, &rest, scores, threshold, params),
        budget.allowed,
        flows,
        budget.first_seen,
        scores,
        threshold,
    );
    out.extend(kept);
    let order = index_sort::sorted_indices_by(out.len(), &mut |i, j| {
        let (a, b) = (&out[i], &out[j]);
        b.severity
            .cmp(&a.severity)
            .then(a.first_seen_ts.total_cmp(&b.first_seen_ts))
            .then(a.key_ip.cmp(&b.key_ip))
            .then(a.flows.first().cmp(&b.flows.first()))
            .then(a.kind.cmp(&b.kind))
    });
    let mut id_of = vec![0u32; out.len()];
    for (n, &old) in order.iter().enumerate() {
        id_of[old] = n as u32 + 1;
    }
    for &(inc, attack, peers) in &collateral_links {
        let (attack_id, kind) = (id_of[attack], out[attack].kind);
        let c = &mut out[inc];
        c.collateral_of = Some(attack_id);
        c.summary = collateral_summary(c, peers, kind, attack_id);
    }
    let mut out = index_sort::permuted(out, &order);
    for (n, inc) in out.iter_mut().enumerate() {
        inc.id = n as u32 + 1;
    }
    (out, held)
}

/// "14 flagged flows between 10.0.0.11 and 9 other hosts during the SYN flood on it
/// (incident #2): likely collateral, their own behaviour may be normal"
fn collateral_summary(
    inc: &DetectedIncident,
    others: usize,
    kind: Option<BehaviourKind>,
    attack_id: u32,
) -> String {
    // "Port scan" reads "port scan" in a sentence; "SYN flood" keeps its acronym.
    let attack = kind.map_or_else(
        || "attack".to_string(),
        |k| {
            let title = k.title();
            let mut chars = title.chars();
            match (chars.next(), chars.next()) {
                (Some(a), Some(b)) if !b.is_uppercase() => a
                    .to_lowercase()
                    .chain(title[a.len_utf8()..].chars())
                    .collect(),
                _ => title.to_string(),
            }
        },
    );
    format!(
        "{} flagged flow{} between {} and {} other host{} during the {attack} on it \
         (incident #{attack_id}): likely collateral, their own behaviour may be normal",
        inc.flow_count,
        if inc.flow_count == 1 { "" } else { "s" },
        inc.key_ip,
        others,
        if others == 1 { "" } else { "s" },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detection::behaviour::{Evidence, Technique};
    use crate::findings::incidents::tests::flow;

    /// 40 probes of 10.0.0.9 → 10.0.1.20 (rows 0..40), then 10 flows of another host.
    fn flows() -> Vec<FlowRecord> {
        let mut v: Vec<FlowRecord> = (0..40)
            .map(|i| flow(f64::from(i), [10, 0, 0, 9], [10, 0, 1, 20], 1000 + i as u16))
            .collect();
        v.extend((0..10).map(|i| flow(100.0 + f64::from(i), [10, 0, 0, 5], [8, 8, 8, 8], 443)));
        v
    }

    fn scan(flows: &[FlowRecord]) -> BehaviourDetection {
        BehaviourDetection::from_rows(
            BehaviourKind::VerticalScan,
            Technique::NetworkServiceDiscovery,
            (flows[0].src_ip, KeyRole::Attacker),
            flows,
            &(0..40).collect::<Vec<_>>(),
            vec![Evidence::test("distinct ports", 40.0, 15.0)],
            "10.0.0.9 probed 40 ports of 10.0.1.20".into(),
        )
    }

    #[test]
    fn a_detection_is_an_incident_whatever_the_scores() {
        let f = flows();
        let scores = vec![0.0; f.len()];
        let out = incidents(
            &f,
            &[],
            &[scan(&f)],
            &scores,
            5.0,
            &IncidentParams::default(),
            &ModelBudget::default(),
        )
        .0;
        assert_eq!(out.len(), 1);
        let inc = &out[0];
        assert_eq!(inc.found_by, FoundBy::Detector);
        assert_eq!(inc.kind, Some(BehaviourKind::VerticalScan));
        assert_eq!(inc.technique, Some(Technique::NetworkServiceDiscovery));
        assert_eq!(inc.flow_count, 40);
        assert_eq!(inc.summary, "10.0.0.9 probed 40 ports of 10.0.1.20");
        assert!(inc.severity >= Severity::High, "{:?}", inc.severity);
        assert_eq!(inc.evidence.len(), 1);
    }

    #[test]
    fn model_flags_join_or_stay_apart() {
        let f = flows();
        let mut scores = vec![0.0; f.len()];
        // The models flag two scan flows and three of the other host's.
        let flagged = [3, 7, 41, 42, 43];
        for &i in &flagged {
            scores[i] = 9.0;
        }
        let out = incidents(
            &f,
            &flagged,
            &[scan(&f)],
            &scores,
            5.0,
            &IncidentParams::default(),
            &ModelBudget::default(),
        )
        .0;
        assert_eq!(out.len(), 2, "{out:#?}");
        let by_detector = out.iter().find(|i| i.kind.is_some()).unwrap();
        assert_eq!(by_detector.found_by, FoundBy::Both);
        // Agreement raises a scan (floor high) to critical.
        assert_eq!(by_detector.severity, Severity::Critical);
        let by_models = out.iter().find(|i| i.kind.is_none()).unwrap();
        assert_eq!(by_models.found_by, FoundBy::Models);
        assert_eq!(by_models.flows, vec![41, 42, 43]);
        // Numbered from 1, most severe first.
        assert_eq!((out[0].id, out[1].id), (1, 2));
        assert!(out[0].severity >= out[1].severity);
    }

    #[test]
    fn flags_on_an_attacks_victim_while_it_lasts_are_its_collateral() {
        // A flood on 10.0.1.20 (rows 0..40, t = 0..39 s, from 40 spoofed sources), and the
        // victim's ordinary clients: 6 flows during the flood and 60 s after it (rows 40..46),
        // one 500 s later (row 46), and one flow of another host (row 47).
        let mut f: Vec<FlowRecord> = (0..40)
            .map(|i| flow(f64::from(i), [198, 18, 0, i as u8], [10, 0, 1, 20], 80))
            .collect();
        for (k, t) in [5.0, 12.0, 20.0, 33.0, 80.0, 98.0].into_iter().enumerate() {
            f.push(flow(t, [10, 0, 0, 3 + k as u8], [10, 0, 1, 20], 443));
        }
        f.push(flow(540.0, [10, 0, 0, 3], [10, 0, 1, 20], 443));
        f.push(flow(20.0, [10, 0, 0, 99], [8, 8, 8, 8], 53));
        let flood_rows: Vec<usize> = (0..40).collect();
        let flood = BehaviourDetection::from_rows(
            BehaviourKind::SynFlood,
            Technique::NetworkServiceDiscovery,
            (f[0].dst_ip, KeyRole::Victim),
            &f,
            &flood_rows,
            vec![Evidence::test("half-open", 40.0, 10.0)],
            "SYN flood on 10.0.1.20".into(),
        );
        let flagged: Vec<usize> = (40..48).collect();
        let mut scores = vec![0.0; f.len()];
        for &i in &flagged {
            scores[i] = 9.0;
        }
        let out = incidents(
            &f,
            &flagged,
            std::slice::from_ref(&flood),
            &scores,
            5.0,
            &IncidentParams::default(),
            &ModelBudget::default(),
        )
        .0;
        let attack = out.iter().find(|i| i.kind.is_some()).unwrap();
        let collateral: Vec<&DetectedIncident> =
            out.iter().filter(|i| i.collateral_of.is_some()).collect();
        assert_eq!(collateral.len(), 1, "{out:#?}");
        let c = collateral[0];
        assert_eq!(c.collateral_of, Some(attack.id));
        assert_eq!(c.flows, vec![40, 41, 42, 43, 44, 45]);
        assert_eq!(c.severity, Severity::Low);
        assert_eq!(c.key_ip, attack.key_ip);
        assert_eq!(
            c.summary,
            format!(
                "6 flagged flows between 10.0.1.20 and 6 other hosts during the SYN flood on \
                 it (incident #{}): likely collateral, their own behaviour may be normal",
                attack.id
            )
        );
        // Long after the flood, and another host's flow: the models' own incidents.
        let rest: Vec<Vec<u64>> = out
            .iter()
            .filter(|i| i.kind.is_none() && i.collateral_of.is_none())
            .map(|i| i.flows.clone())
            .collect();
        assert_eq!(rest.len(), 2, "{out:#?}");
        assert!(
            rest.contains(&vec![46]) && rest.contains(&vec![47]),
            "{rest:?}"
        );
        // A budget of one model-only incident keeps the attack and its collateral note and
        // holds back one of the two others.
        let (budgeted, held) = incidents(
            &f,
            &flagged,
            std::slice::from_ref(&flood),
            &scores,
            5.0,
            &IncidentParams::default(),
            &ModelBudget {
                allowed: Some(1),
                first_seen: &[],
            },
        );
        assert_eq!(budgeted.len(), out.len() - 1, "{budgeted:#?}");
        assert!(budgeted.iter().any(|i| i.kind.is_some()));
        assert!(budgeted.iter().any(|i| i.collateral_of.is_some()));
        assert_eq!(
            held,
            HeldBack {
                model_incidents: 2,
                incidents: 1,
                flows: 1
            }
        );
        // Nothing to block in a victim's ordinary peers.
        let plan = crate::findings::response::suggest(
            c,
            &crate::findings::response::ResponsePolicy::default(),
            0.0,
        );
        assert!(plan.suggestions.is_empty());
        assert_eq!(
            plan.no_block,
            Some(crate::findings::response::NoBlock::Collateral(c.key_ip))
        );
    }

    #[test]
    fn without_detections_the_models_incidents_are_unchanged() {
        let f = flows();
        let mut scores = vec![0.0; f.len()];
        let flagged: Vec<usize> = (0..40).step_by(3).collect();
        for &i in &flagged {
            scores[i] = 9.0;
        }
        let p = IncidentParams::default();
        assert_eq!(
            incidents(&f, &flagged, &[], &scores, 5.0, &p, &ModelBudget::default()).0,
            incidents::group(&f, &flagged, &scores, 5.0, &p)
        );
    }
}
