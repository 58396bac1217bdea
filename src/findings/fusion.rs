//! Fusion of the behavioural detectors with the learned models: every detection becomes an
//! incident whatever its flows' anomaly scores (found by a detector, or by both when the
//! models flagged some of its flows too), and the models' flags that no detection explains
//! are grouped as before (`incidents::group`, found by the models). Severity combines both:
//! the kind of behaviour sets a floor, how far past its thresholds it is and the models'
//! agreement raise it.
//!
//! Deterministic: same flows, flags and detections, same incidents in the same order. Not
//! responsible for the rules (`detection::behaviour`), thresholds or feedback.

use super::incidents::{self, DetectedIncident, FoundBy, Grouping, IncidentParams, Severity};
use crate::detection::behaviour::{BehaviourDetection, BehaviourKind, KeyRole};
use crate::traffic::flow::FlowRecord;
use crate::util::index_sort;

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

/// Incidents from the models' flagged rows and the detections, most severe first, numbered
/// from 1. `detections` carry their rows (already without the rows feedback suppresses);
/// `scores`/`threshold` are the ensemble's.
pub fn incidents(
    flows: &[FlowRecord],
    model_flagged: &[usize],
    detections: &[BehaviourDetection],
    scores: &[f64],
    threshold: f64,
    params: &IncidentParams,
) -> Vec<DetectedIncident> {
    let mut flagged_by_model = vec![false; flows.len()];
    for &i in model_flagged {
        if let Some(f) = flagged_by_model.get_mut(i) {
            *f = true;
        }
    }
    let mut explained = vec![false; flows.len()];
    let mut out: Vec<DetectedIncident> = Vec::new();
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
        out.push(inc);
    }
    let rest: Vec<usize> = model_flagged
        .iter()
        .copied()
        .filter(|&i| i < flows.len() && !explained[i])
        .collect();
    out.extend(incidents::group(flows, &rest, scores, threshold, params));
    let order = index_sort::sorted_indices_by(out.len(), &mut |i, j| {
        let (a, b) = (&out[i], &out[j]);
        b.severity
            .cmp(&a.severity)
            .then(a.first_seen_ts.total_cmp(&b.first_seen_ts))
            .then(a.key_ip.cmp(&b.key_ip))
            .then(a.flows.first().cmp(&b.flows.first()))
            .then(a.kind.cmp(&b.kind))
    });
    let mut out = index_sort::permuted(out, &order);
    for (n, inc) in out.iter_mut().enumerate() {
        inc.id = n as u32 + 1;
    }
    out
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
        );
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
        );
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
    fn without_detections_the_models_incidents_are_unchanged() {
        let f = flows();
        let mut scores = vec![0.0; f.len()];
        let flagged: Vec<usize> = (0..40).step_by(3).collect();
        for &i in &flagged {
            scores[i] = 9.0;
        }
        let p = IncidentParams::default();
        assert_eq!(
            incidents(&f, &flagged, &[], &scores, 5.0, &p),
            incidents::group(&f, &flagged, &scores, 5.0, &p)
        );
    }
}
