//! Ranking and threshold metrics against ground truth: ROC, precision–recall, confusion counts.
//!
//! Definitions follow scikit-learn (`roc_curve`, `roc_auc_score`, `average_precision_score`) so
//! figures can be compared one to one; tied scores are treated as one threshold. Higher score
//! means "more anomalous" everywhere. Not a place for thresholds policy or plotting.

use crate::traffic::flow::{AttackKind, FlowRecord};
use crate::traffic::generator::Incident;
use crate::util::index_sort;
use serde::{Deserialize, Serialize};

/// One point of a ROC curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RocPoint {
    pub fpr: f64,
    pub tpr: f64,
}

/// Counts at a fixed threshold (`score >= threshold` is flagged).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Confusion {
    pub true_positives: u64,
    pub false_positives: u64,
    pub true_negatives: u64,
    pub false_negatives: u64,
}

impl Confusion {
    pub fn at_threshold(scores: &[f64], positive: &[bool], threshold: f64) -> Confusion {
        let mut c = Confusion::default();
        for (&s, &p) in scores.iter().zip(positive) {
            match (s >= threshold, p) {
                (true, true) => c.true_positives += 1,
                (true, false) => c.false_positives += 1,
                (false, false) => c.true_negatives += 1,
                (false, true) => c.false_negatives += 1,
            }
        }
        c
    }

    pub fn precision(&self) -> Option<f64> {
        ratio(
            self.true_positives,
            self.true_positives + self.false_positives,
        )
    }

    pub fn recall(&self) -> Option<f64> {
        ratio(
            self.true_positives,
            self.true_positives + self.false_negatives,
        )
    }

    pub fn false_positive_rate(&self) -> Option<f64> {
        ratio(
            self.false_positives,
            self.false_positives + self.true_negatives,
        )
    }

    pub fn f1(&self) -> Option<f64> {
        let (p, r) = (self.precision()?, self.recall()?);
        if p + r == 0.0 {
            Some(0.0)
        } else {
            Some(2.0 * p * r / (p + r))
        }
    }
}

fn ratio(num: u64, den: u64) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

/// Cumulative (false positives, true positives) at each distinct score, from the highest down.
fn cumulative_counts(scores: &[f64], positive: &[bool]) -> Vec<(u64, u64, f64)> {
    let order =
        index_sort::sorted_indices_by(scores.len(), &mut |a, b| scores[b].total_cmp(&scores[a]));
    let mut out = Vec::new();
    let (mut fp, mut tp) = (0u64, 0u64);
    for (k, &i) in order.iter().enumerate() {
        if positive[i] {
            tp += 1;
        } else {
            fp += 1;
        }
        let last_of_tie = order.get(k + 1).is_none_or(|&j| scores[j] != scores[i]);
        if last_of_tie {
            out.push((fp, tp, scores[i]));
        }
    }
    out
}

/// The ROC curve from (0, 0) to (1, 1), one point per distinct score; `None` unless both
/// classes are present (the curve is undefined otherwise).
pub fn roc_curve(scores: &[f64], positive: &[bool]) -> Option<Vec<RocPoint>> {
    let pos = positive.iter().filter(|&&p| p).count() as f64;
    let neg = positive.len() as f64 - pos;
    if pos == 0.0 || neg == 0.0 || scores.len() != positive.len() {
        return None;
    }
    let mut curve = vec![RocPoint { fpr: 0.0, tpr: 0.0 }];
    curve.extend(
        cumulative_counts(scores, positive)
            .into_iter()
            .map(|(fp, tp, _)| RocPoint {
                fpr: fp as f64 / neg,
                tpr: tp as f64 / pos,
            }),
    );
    Some(curve)
}

/// Area under the ROC curve by the trapezoid rule (ties count one half, as in sklearn).
pub fn roc_auc(scores: &[f64], positive: &[bool]) -> Option<f64> {
    let curve = roc_curve(scores, positive)?;
    Some(
        curve
            .windows(2)
            .map(|w| (w[1].fpr - w[0].fpr) * (w[1].tpr + w[0].tpr) / 2.0)
            .sum(),
    )
}

/// Average precision: Σ (Rₙ − Rₙ₋₁) Pₙ over distinct thresholds, sklearn's step-wise
/// area under the precision–recall curve (no interpolation). `None` without positives.
pub fn average_precision(scores: &[f64], positive: &[bool]) -> Option<f64> {
    let pos = positive.iter().filter(|&&p| p).count() as f64;
    if pos == 0.0 || scores.len() != positive.len() {
        return None;
    }
    let mut ap = 0.0;
    let mut prev_recall = 0.0;
    for (fp, tp, _) in cumulative_counts(scores, positive) {
        let recall = tp as f64 / pos;
        let precision = tp as f64 / (tp + fp) as f64;
        ap += (recall - prev_recall) * precision;
        prev_recall = recall;
    }
    Some(ap)
}

/// The lowest score threshold (`score >= threshold` flagged) whose false-positive rate on
/// these rows is at most `max_fpr`: the operating point "at 1 % FPR" read off the ROC curve
/// (sklearn's `roc_curve` thresholds, no interpolation). `f64::INFINITY` (nothing flagged)
/// when even the highest score's tie group exceeds the budget; `None` unless both classes
/// are present.
pub fn threshold_at_fpr(scores: &[f64], positive: &[bool], max_fpr: f64) -> Option<f64> {
    let pos = positive.iter().filter(|&&p| p).count();
    let neg = positive.len() - pos;
    if pos == 0 || neg == 0 || scores.len() != positive.len() || max_fpr.is_nan() || max_fpr < 0.0 {
        return None;
    }
    let mut threshold = f64::INFINITY;
    for (fp, _, score) in cumulative_counts(scores, positive) {
        if fp as f64 / neg as f64 > max_fpr {
            break;
        }
        threshold = score;
    }
    Some(threshold)
}

/// The true-positive rate at the ROC curve's last point whose false-positive rate is at most
/// `max_fpr` (the step reading of sklearn's `roc_curve`: `tpr[fpr <= max_fpr].max()`).
/// `None` unless both classes are present.
pub fn tpr_at_fpr(scores: &[f64], positive: &[bool], max_fpr: f64) -> Option<f64> {
    let threshold = threshold_at_fpr(scores, positive, max_fpr)?;
    Confusion::at_threshold(scores, positive, threshold).recall()
}

/// One point of a precision–recall curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PrPoint {
    pub recall: f64,
    pub precision: f64,
}

/// The precision–recall curve, one point per distinct score from the highest down, starting at
/// (recall 0, precision 1) as sklearn's `precision_recall_curve` ends. `None` without
/// positives.
pub fn precision_recall_curve(scores: &[f64], positive: &[bool]) -> Option<Vec<PrPoint>> {
    let pos = positive.iter().filter(|&&p| p).count() as f64;
    if pos == 0.0 || scores.len() != positive.len() {
        return None;
    }
    let mut curve = vec![PrPoint {
        recall: 0.0,
        precision: 1.0,
    }];
    curve.extend(
        cumulative_counts(scores, positive)
            .into_iter()
            .map(|(fp, tp, _)| PrPoint {
                recall: tp as f64 / pos,
                precision: tp as f64 / (tp + fp) as f64,
            }),
    );
    Some(curve)
}

/// False alarms per hour of evaluated traffic: what a threshold costs an analyst. `None` when
/// the evaluated span is empty.
pub fn false_positives_per_hour(false_positives: u64, evaluated_s: f64) -> Option<f64> {
    (evaluated_s > 0.0 && evaluated_s.is_finite())
        .then(|| false_positives as f64 / (evaluated_s / 3600.0))
}

/// How fast one ground-truth incident was noticed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DetectionDelay {
    pub incident_id: u32,
    pub kind: AttackKind,
    /// The incident's first flow (Unix seconds).
    pub start_ts: f64,
    /// Flows of the incident among the evaluated rows.
    pub evaluated_flows: u64,
    /// Of those, flagged at the threshold.
    pub detected_flows: u64,
    /// The first flagged flow of the incident, `None` if it was missed.
    pub first_detection_ts: Option<f64>,
    /// `first_detection_ts − start_ts`.
    pub time_to_detect_s: Option<f64>,
}

/// The ground-truth incident a flow belongs to: its own `incident_id`, or, for sources that do
/// not record one, the incident of the same attack kind whose time window and endpoints
/// (attacker or victim) match.
pub fn truth_incident(flow: &FlowRecord, truth: &[Incident]) -> Option<u32> {
    if flow.incident_id.is_some() {
        return flow.incident_id;
    }
    let crate::traffic::flow::Label::Attack(kind) = flow.label else {
        return None;
    };
    truth
        .iter()
        .find(|inc| {
            inc.kind == kind
                && flow.ts >= inc.start_ts
                && flow.ts <= inc.end_ts
                && (flow.src_ip == inc.attacker
                    || flow.dst_ip == inc.victim
                    || flow.src_ip == inc.victim
                    || flow.dst_ip == inc.attacker)
        })
        .map(|inc| inc.id)
}

/// Time to first detection of each ground-truth incident. `flows` are the evaluated rows and
/// `flagged` their verdicts; incidents with no evaluated flow (e.g. inside the training window)
/// are listed with zero evaluated flows and no detection.
pub fn detection_delays(
    flows: &[FlowRecord],
    flagged: &[bool],
    truth: &[Incident],
) -> Vec<DetectionDelay> {
    truth
        .iter()
        .map(|inc| {
            let mut evaluated_flows = 0u64;
            let mut detected_flows = 0u64;
            let mut first: Option<f64> = None;
            for (f, &hit) in flows.iter().zip(flagged) {
                if truth_incident(f, truth) != Some(inc.id) {
                    continue;
                }
                evaluated_flows += 1;
                if hit {
                    detected_flows += 1;
                    first = Some(first.map_or(f.ts, |t: f64| t.min(f.ts)));
                }
            }
            DetectionDelay {
                incident_id: inc.id,
                kind: inc.kind,
                start_ts: inc.start_ts,
                evaluated_flows,
                detected_flows,
                first_detection_ts: first,
                time_to_detect_s: first.map(|t| (t - inc.start_ts).max(0.0)),
            }
        })
        .collect()
}

/// Recall per attack kind at a threshold, for the kinds present among the rows.
pub fn recall_by_kind(
    scores: &[f64],
    kinds: &[Option<AttackKind>],
    threshold: f64,
) -> std::collections::BTreeMap<AttackKind, f64> {
    let mut counts: std::collections::BTreeMap<AttackKind, (u64, u64)> = Default::default();
    for (s, k) in scores.iter().zip(kinds) {
        if let Some(k) = k {
            let e = counts.entry(*k).or_default();
            e.1 += 1;
            e.0 += u64::from(*s >= threshold);
        }
    }
    // `extend`, not `collect`, which would sort first (see `index_sort`).
    let mut recall = std::collections::BTreeMap::new();
    recall.extend(
        counts
            .into_iter()
            .map(|(k, (hit, total))| (k, hit as f64 / total as f64)),
    );
    recall
}

/// Thins a precision–recall curve like [`thin_curve`].
pub fn thin_pr_curve(curve: &[PrPoint], max_points: usize) -> Vec<PrPoint> {
    let as_roc: Vec<RocPoint> = curve
        .iter()
        .map(|p| RocPoint {
            fpr: p.recall,
            tpr: p.precision,
        })
        .collect();
    thin_curve(&as_roc, max_points)
        .into_iter()
        .map(|p| PrPoint {
            recall: p.fpr,
            precision: p.tpr,
        })
        .collect()
}

/// Keeps at most `max_points` points of a curve (always the first and the last), for plotting
/// and for reports that should not carry one point per flow.
pub fn thin_curve(curve: &[RocPoint], max_points: usize) -> Vec<RocPoint> {
    if curve.len() <= max_points || max_points < 2 {
        return curve.to_vec();
    }
    let step = (curve.len() - 1) as f64 / (max_points - 1) as f64;
    (0..max_points)
        .map(|k| curve[((k as f64 * step).round() as usize).min(curve.len() - 1)])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_of_hand_example() {
        // sklearn docs example: roc_auc_score([0,0,1,1], [0.1,0.4,0.35,0.8]) == 0.75
        let y = [false, false, true, true];
        let s = [0.1, 0.4, 0.35, 0.8];
        assert!((roc_auc(&s, &y).unwrap() - 0.75).abs() < 1e-12);
        // average_precision_score of the same: 0.8333...
        assert!((average_precision(&s, &y).unwrap() - 5.0 / 6.0).abs() < 1e-12);
    }

    #[test]
    fn perfect_inverted_and_tied_rankings() {
        let y = [false, true, false, true];
        assert_eq!(roc_auc(&[0.1, 0.9, 0.2, 0.8], &y), Some(1.0));
        assert_eq!(roc_auc(&[0.9, 0.1, 0.8, 0.2], &y), Some(0.0));
        // All scores tied: one threshold, the diagonal, AUC one half.
        assert_eq!(roc_auc(&[0.5; 4], &y), Some(0.5));
        assert_eq!(average_precision(&[0.5; 4], &y), Some(0.5));
        assert_eq!(average_precision(&[0.1, 0.9, 0.2, 0.8], &y), Some(1.0));
    }

    #[test]
    fn undefined_without_both_classes() {
        assert_eq!(roc_auc(&[0.1, 0.2], &[false, false]), None);
        assert_eq!(roc_auc(&[0.1, 0.2], &[true, true]), None);
        assert_eq!(average_precision(&[0.1, 0.2], &[false, false]), None);
    }

    #[test]
    fn roc_curve_runs_corner_to_corner_monotonically() {
        let y = [true, false, true, false, false, true];
        let s = [0.9, 0.8, 0.8, 0.3, 0.2, 0.1];
        let c = roc_curve(&s, &y).unwrap();
        assert_eq!(c.first(), Some(&RocPoint { fpr: 0.0, tpr: 0.0 }));
        assert_eq!(c.last(), Some(&RocPoint { fpr: 1.0, tpr: 1.0 }));
        assert!(c
            .windows(2)
            .all(|w| w[1].fpr >= w[0].fpr && w[1].tpr >= w[0].tpr));
        // The 0.8 tie is a single step: (1/3, 2/3) directly after (0, 1/3).
        assert_eq!(c.len(), 6);
        assert!((c[2].fpr - 1.0 / 3.0).abs() < 1e-12 && (c[2].tpr - 2.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn confusion_counts_and_rates() {
        let y = [true, true, false, false, false];
        let s = [0.9, 0.2, 0.8, 0.1, 0.0];
        let c = Confusion::at_threshold(&s, &y, 0.5);
        assert_eq!(
            c,
            Confusion {
                true_positives: 1,
                false_positives: 1,
                true_negatives: 2,
                false_negatives: 1
            }
        );
        assert_eq!(c.precision(), Some(0.5));
        assert_eq!(c.recall(), Some(0.5));
        assert_eq!(c.false_positive_rate(), Some(1.0 / 3.0));
        assert_eq!(c.f1(), Some(0.5));
    }

    #[test]
    fn ties_across_classes_count_one_half() {
        // Hand count: pairs (pos, neg) = 2 × 3 = 6. Positive 0.8 beats 0.3 and 0.2 (2) and ties
        // the negative 0.8 (½); positive 0.3 ties the negative 0.3 (½) and beats 0.2 (1).
        // AUC = (2 + ½ + ½ + 1) / 6 = 4 / 6.
        let y = [true, false, true, false, false];
        let s = [0.8, 0.8, 0.3, 0.3, 0.2];
        assert!((roc_auc(&s, &y).unwrap() - 4.0 / 6.0).abs() < 1e-12);
        // AP: threshold 0.8 → recall ½ at precision ½; 0.3 → recall 1 at precision 2/4.
        // Σ ΔR·P = ½·½ + ½·½ = ½ (ties are one threshold, no interpolation).
        assert!((average_precision(&s, &y).unwrap() - 0.5).abs() < 1e-12);
        let pr = precision_recall_curve(&s, &y).unwrap();
        assert_eq!(pr.len(), 4);
        assert_eq!(
            pr[1],
            PrPoint {
                recall: 0.5,
                precision: 0.5
            }
        );
    }

    #[test]
    fn auc_equals_pairwise_count_on_random_ties() {
        // Independent definition: P(score_pos > score_neg) + ½ P(equal), by brute force.
        let mut rng = crate::util::rng::DetRng::derive(7, "metrics-test");
        for _ in 0..20 {
            let n = 60;
            let s: Vec<f64> = (0..n).map(|_| rng.index(8) as f64).collect();
            let y: Vec<bool> = (0..n).map(|_| rng.chance(0.3)).collect();
            let (mut wins, mut pairs) = (0.0, 0.0);
            for i in 0..n {
                for j in 0..n {
                    if y[i] && !y[j] {
                        pairs += 1.0;
                        wins += if s[i] > s[j] {
                            1.0
                        } else if s[i] == s[j] {
                            0.5
                        } else {
                            0.0
                        };
                    }
                }
            }
            if pairs > 0.0 {
                assert!((roc_auc(&s, &y).unwrap() - wins / pairs).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn false_alarm_rate_per_hour() {
        assert_eq!(false_positives_per_hour(6, 1800.0), Some(12.0));
        assert_eq!(false_positives_per_hour(6, 0.0), None);
    }

    #[test]
    fn thinning_keeps_ends() {
        let curve: Vec<RocPoint> = (0..=100)
            .map(|i| RocPoint {
                fpr: i as f64 / 100.0,
                tpr: i as f64 / 100.0,
            })
            .collect();
        let t = thin_curve(&curve, 11);
        assert_eq!(t.len(), 11);
        assert_eq!(t[0], curve[0]);
        assert_eq!(t[10], curve[100]);
    }

    #[test]
    fn tpr_at_fpr_reads_the_roc_curve_step() {
        // 100 benign rows scored 0..99, 10 attacks scored 95.5 ... 50.5 (step 5).
        let mut s: Vec<f64> = (0..100).map(f64::from).collect();
        let mut y = vec![false; 100];
        for k in 0..10 {
            s.push(95.5 - 5.0 * f64::from(k));
            y.push(true);
        }
        // 1 % FPR allows one benign row (99) above the threshold: attacks above 98.5 → none
        // but the benign 99 itself, so the threshold is 99 and TPR 0; 5 % allows 95..99 and
        // the attack at 95.5: TPR 0.1.
        assert_eq!(threshold_at_fpr(&s, &y, 0.01), Some(99.0));
        assert_eq!(tpr_at_fpr(&s, &y, 0.01), Some(0.0));
        assert_eq!(threshold_at_fpr(&s, &y, 0.05), Some(95.0));
        assert_eq!(tpr_at_fpr(&s, &y, 0.05), Some(0.1));
        // Half the benign rows: attacks down to 50.5 are all above 50.
        assert_eq!(tpr_at_fpr(&s, &y, 0.5), Some(1.0));
        // No budget at all: only scores above every benign row count.
        assert_eq!(threshold_at_fpr(&s, &y, 0.0), Some(f64::INFINITY));
        assert_eq!(tpr_at_fpr(&s, &y, 0.0), Some(0.0));
    }

    #[test]
    fn tpr_at_fpr_treats_ties_as_one_threshold() {
        // The top score is shared by an attack and a benign row: with 1 benign of 4 the tie
        // group costs 25 % FPR, so at 10 % nothing may be flagged.
        let s = [0.9, 0.9, 0.5, 0.4, 0.3, 0.2];
        let y = [true, false, true, false, false, false];
        assert_eq!(tpr_at_fpr(&s, &y, 0.10), Some(0.0));
        assert_eq!(tpr_at_fpr(&s, &y, 0.25), Some(1.0));
        assert_eq!(tpr_at_fpr(&s, &[false; 6], 0.25), None);
    }
}
