//! Everything that changes when the threshold does, computed without retraining: flagged
//! rows, metrics against ground truth, incidents, with analyst feedback applied.

use super::run_output::ScoredRun;
use super::threshold::thresholds;
use crate::detection::behaviour::BehaviourDetection;
use crate::detection::run_config::ThresholdSpec;
use crate::findings::budget::{self, BudgetOutcome};
use crate::findings::evaluation::IncidentFigures;
use crate::findings::feedback::Feedback;
use crate::findings::fusion::{self, ModelBudget};
use crate::findings::ground_truth::GroundTruth;
use crate::findings::incidents::{self, DetectedIncident, IncidentParams};
use crate::findings::metrics::{self, Confusion, PrPoint, RocPoint};
use crate::output::report::{IncidentTruth, Metrics, ModelMetrics, ThresholdInfo};
use crate::traffic::flow::FlowRecord;
use crate::traffic::generator::Incident;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Verdicts, metrics and incidents at one threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Thresholded {
    pub threshold: ThresholdInfo,
    pub metrics: ModelMetrics,
    /// Evaluated rows the ensemble flags, in row (time) order.
    pub flagged: Vec<usize>,
    pub incidents: Vec<DetectedIncident>,
    /// Rows above the threshold that analyst feedback suppressed.
    pub suppressed: usize,
    /// How the incident budget applied.
    pub budget: BudgetOutcome,
}

/// Re-thresholds a scored run without retraining: new thresholds, metrics, flagged rows and
/// incidents. `run` reports exactly this for the configured policy.
pub fn rethreshold(
    scored: &ScoredRun,
    spec: &ThresholdSpec,
    params: &IncidentParams,
) -> Thresholded {
    rethreshold_with(scored, spec, params, &Feedback::default())
}

/// [`rethreshold`] after analyst feedback: flows a false-positive verdict covers count as not
/// flagged, in the metrics as in the incidents (the metrics then describe what the analyst
/// sees: models plus feedback). Thresholds still come from the training rows alone.
pub fn rethreshold_with(
    scored: &ScoredRun,
    spec: &ThresholdSpec,
    params: &IncidentParams,
    feedback: &Feedback,
) -> Thresholded {
    let threshold = thresholds(scored, spec);
    let n = scored.flows.len();
    let eval = scored.eval_start.min(n)..n;
    let flows = &scored.flows[eval.clone()];
    let suppressed_rows: Vec<bool> = if feedback.is_empty() {
        Vec::new()
    } else {
        flows.iter().map(|f| feedback.suppresses(f)).collect()
    };
    // Suppressed rows sink below every real score (finite, so curves stay valid JSON).
    let adjusted = |scores: &[f64]| -> Vec<f64> {
        let part = &scores[eval.clone()];
        if suppressed_rows.is_empty() {
            return part.to_vec();
        }
        let floor = part
            .iter()
            .filter(|s| s.is_finite())
            .fold(f64::INFINITY, |a, &b| a.min(b));
        let floor = if floor.is_finite() { floor - 1.0 } else { -1.0 };
        part.iter()
            .zip(&suppressed_rows)
            .map(|(&s, &x)| if x { floor } else { s })
            .collect()
    };
    let ev = |scores: &[f64], t: f64| {
        evaluate(
            &adjusted(scores),
            eval.clone(),
            &scored.ground_truth,
            flows,
            t,
            scored.evaluated_duration_s,
            &scored.truth,
        )
    };
    // The detections without the flows a false-positive verdict covers.
    let detections: Vec<BehaviourDetection> = scored
        .detections
        .iter()
        .map(|d| {
            let mut d = d.clone();
            if !feedback.is_empty() {
                d.flows.retain(|&r| {
                    !scored
                        .flows
                        .get(r as usize)
                        .is_some_and(|f| feedback.suppresses(f))
                });
            }
            d
        })
        .filter(|d| !d.flows.is_empty())
        .collect();
    let mut detected = vec![false; n];
    for d in &detections {
        for &r in &d.flows {
            if let Some(x) = detected.get_mut(r as usize) {
                *x = true;
            }
        }
    }
    let (detectors, combined) = if scored.detections.is_empty() && !scored.detectors_ran {
        (None, None)
    } else {
        let binary: Vec<f64> = (0..n).map(|i| f64::from(u8::from(detected[i]))).collect();
        // Detected rows rank above every other row, in the ensemble's order within each part.
        let finite = || scored.ensemble.iter().copied().filter(|s| s.is_finite());
        let lo = finite().fold(f64::INFINITY, f64::min);
        let hi = finite().fold(threshold.ensemble, f64::max);
        let offset = if lo.is_finite() && hi.is_finite() {
            hi - lo + 1.0
        } else {
            0.0
        };
        let fused: Vec<f64> = (0..n)
            .map(|i| scored.ensemble[i] + if detected[i] { offset } else { 0.0 })
            .collect();
        (Some(ev(&binary, 1.0)), Some(ev(&fused, threshold.ensemble)))
    };
    let mut metrics = ModelMetrics {
        isolation_forest: ev(&scored.isolation_forest, threshold.isolation_forest),
        mlp: ev(&scored.mlp, threshold.mlp),
        ensemble: ev(&scored.ensemble, threshold.ensemble),
        detectors,
        combined,
        incidents: None,
    };
    let above = |i: usize| scored.ensemble[i] >= threshold.ensemble;
    let eval_start = eval.start;
    let is_suppressed = |i: usize| {
        suppressed_rows
            .get(i - eval_start)
            .copied()
            .unwrap_or(false)
    };
    let model_flagged: Vec<usize> = eval
        .clone()
        .filter(|&i| above(i) && !is_suppressed(i))
        .collect();
    let suppressed = eval
        .clone()
        .filter(|&i| above(i) && is_suppressed(i))
        .count();
    // A file without addresses has stand-ins for hosts: there is nothing to count the budget
    // by, so every group is listed.
    let allowed = if scored.placeholder_addresses {
        None
    } else {
        budget::allowed(
            params.model_budget,
            scored.evaluated_duration_s,
            scored.monitored_hosts,
        )
    };
    let (mut incidents, held) = fusion::incidents(
        &scored.flows,
        &model_flagged,
        &detections,
        &scored.ensemble,
        threshold.ensemble,
        params,
        &ModelBudget {
            allowed,
            first_seen: &scored.first_seen_services,
        },
    );
    let budget = BudgetOutcome {
        per_hour_per_100_hosts: if allowed.is_some() {
            params.model_budget
        } else {
            0.0
        },
        monitored_hosts: scored.monitored_hosts,
        evaluated_hours: scored.evaluated_duration_s.max(0.0) / 3600.0,
        allowed,
        model_incidents: held.model_incidents,
        held_back_incidents: held.incidents,
        held_back_flows: held.flows,
        hosts_unknown: scored.placeholder_addresses,
    };
    if scored.placeholder_addresses {
        for inc in &mut incidents {
            incidents::without_addresses(inc);
        }
    }
    if scored.ground_truth.labelled {
        let f = IncidentFigures::of(
            &incidents,
            &scored.flows,
            &scored.ground_truth,
            &scored.truth,
        );
        let (attacks_held, attacks) = f.attacks_held();
        let host_hours =
            scored.evaluated_duration_s / 3600.0 * scored.monitored_hosts as f64 / 100.0;
        metrics.incidents = Some(IncidentTruth {
            listed: f.listed,
            false_incidents: f.false_listed,
            false_per_hour_per_100_hosts: (host_hours > 0.0 && host_hours.is_finite())
                .then(|| f.false_listed as f64 / host_hours),
            attacks_held,
            attacks,
        });
    }
    // Flagged: the models' flags in the evaluated part and every flow a detection covers
    // (a detection in the training part is still an attack).
    let flagged: Vec<usize> = if detections.is_empty() {
        model_flagged
    } else {
        let mut is_flagged = detected;
        for &i in &model_flagged {
            is_flagged[i] = true;
        }
        (0..n).filter(|&i| is_flagged[i]).collect()
    };
    Thresholded {
        threshold,
        metrics,
        flagged,
        incidents,
        suppressed,
        budget,
    }
}

pub(super) fn evaluate(
    scores: &[f64],
    rows: std::ops::Range<usize>,
    ground_truth: &GroundTruth,
    flows: &[FlowRecord],
    threshold: f64,
    evaluated_s: f64,
    truth: &[Incident],
) -> Metrics {
    // Rows labelled neither benign nor attack ("Background", "Unknown") are left out of every
    // figure: counting them either way would be a guess.
    let known: Vec<usize> = rows
        .clone()
        .filter(|&i| !ground_truth.is_unknown(i))
        .collect();
    let all_known = known.len() == rows.len();
    let kept_scores: Vec<f64>;
    let scores = if all_known {
        scores
    } else {
        kept_scores = known.iter().map(|&i| scores[i - rows.start]).collect();
        &kept_scores[..]
    };
    let positive: Vec<bool> = known.iter().map(|&i| ground_truth.is_attack(i)).collect();
    let confusion = Confusion::at_threshold(scores, &positive, threshold);
    let mut recall_by_kind = BTreeMap::new();
    for class in ground_truth.attack_classes() {
        let (mut hit, mut total) = (0u64, 0u64);
        for (s, &row) in scores.iter().zip(&known) {
            if ground_truth.class.get(row).copied() == Some(class as u16) {
                total += 1;
                hit += u64::from(*s >= threshold);
            }
        }
        if total > 0 {
            recall_by_kind.insert(ground_truth.names[class].clone(), hit as f64 / total as f64);
        }
    }
    let roc_curve: Vec<RocPoint> = metrics::roc_curve(scores, &positive)
        .map(|c| metrics::thin_curve(&c, 300))
        .unwrap_or_default();
    let pr_curve: Vec<PrPoint> = metrics::precision_recall_curve(scores, &positive)
        .map(|c| metrics::thin_pr_curve(&c, 300))
        .unwrap_or_default();
    // Detection delays read the flows in row order: unknown rows count as not flagged.
    let mut flagged = vec![false; rows.len()];
    for (s, &row) in scores.iter().zip(&known) {
        flagged[row - rows.start] = *s >= threshold;
    }
    Metrics {
        roc_auc: metrics::roc_auc(scores, &positive),
        pr_auc: metrics::average_precision(scores, &positive),
        precision: confusion.precision(),
        recall: confusion.recall(),
        f1: confusion.f1(),
        false_positive_rate: confusion.false_positive_rate(),
        confusion,
        recall_by_kind,
        roc_curve,
        pr_curve,
        false_positives_per_hour: metrics::false_positives_per_hour(
            confusion.false_positives,
            evaluated_s,
        ),
        detection_delays: metrics::detection_delays(flows, &flagged, truth),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detection::run_config::ThresholdSpec;
    use crate::findings::ground_truth::GroundTruth;
    use crate::findings::incidents::tests::flow;
    use crate::traffic::flow::{AttackKind, Label};
    use crate::traffic::generator::Incident;

    fn scored() -> ScoredRun {
        // 100 training rows with scores 0..99, then 10 evaluated rows: 5 attacks (high) and
        // 5 benign (low), one hour of evaluated traffic.
        let mut flows = Vec::new();
        let mut ens = Vec::new();
        for i in 0..100 {
            flows.push(flow(i as f64, [10, 0, 0, 1], [10, 0, 0, 2], 80));
            ens.push(i as f64);
        }
        for i in 0..10u8 {
            let mut f = flow(
                1000.0 + f64::from(i),
                [10, 0, 0, 9],
                [10, 0, 0, 3],
                1000 + u16::from(i),
            );
            if i < 5 {
                f.label = Label::Attack(AttackKind::ALL[0]);
                f.incident_id = Some(0);
                ens.push(200.0 + f64::from(i));
            } else {
                ens.push(50.0 + f64::from(i));
            }
            flows.push(f);
        }
        ScoredRun {
            placeholder_addresses: false,
            monitored_hosts: 100,
            first_seen_services: Vec::new(),
            ground_truth: GroundTruth::from_generated(&flows),
            isolation_forest: ens.clone(),
            mlp: ens.clone(),
            ensemble: ens,
            flows,
            training_rows: 100,
            held_out: Vec::new(),
            detections: Vec::new(),
            detectors_ran: false,
            eval_start: 100,
            evaluated_duration_s: 3600.0,
            truth: vec![Incident {
                id: 0,
                kind: AttackKind::ALL[0],
                start_ts: 999.0,
                end_ts: 1004.0,
                attacker: "10.0.0.9".parse().unwrap(),
                victim: "10.0.0.3".parse().unwrap(),
                victims: vec!["10.0.0.3".parse().unwrap()],
                flows: 5,
            }],
            reference: None,
        }
    }

    #[test]
    fn rethreshold_modes_agree_with_hand_counts() {
        let run = scored();
        let p = IncidentParams::default();
        // Fixed score 100: only the 5 attacks, no false positives.
        let t = rethreshold(&run, &ThresholdSpec::Score { score: 100.0 }, &p);
        assert_eq!(t.flagged, vec![100, 101, 102, 103, 104]);
        let e = &t.metrics.ensemble;
        assert_eq!(e.confusion.false_positives, 0);
        assert_eq!(e.recall, Some(1.0));
        assert_eq!(e.false_positives_per_hour, Some(0.0));
        assert_eq!(t.threshold.training_flag_rate, 0.0);
        assert_eq!(e.detection_delays[0].time_to_detect_s, Some(1.0));
        assert_eq!(t.incidents.len(), 1);
        assert_eq!(t.incidents[0].flow_count, 5);
        // Fixed score 52: the benign rows scoring 55..59 are flagged too (5 false positives
        // in one hour), and 48 % of the training rows (52..99).
        let t = rethreshold(&run, &ThresholdSpec::Score { score: 52.0 }, &p);
        assert_eq!(t.metrics.ensemble.false_positives_per_hour, Some(5.0));
        assert!((t.threshold.training_flag_rate - 0.48).abs() < 1e-12);
        // The single models get the same training flag rate.
        assert!((t.threshold.isolation_forest - 52.0).abs() < 1e-12);
        // Target FPR 10 %: the 10 highest training rows (90..99) at most.
        let t = rethreshold(&run, &ThresholdSpec::TargetFpr { target_fpr: 0.1 }, &p);
        assert_eq!(t.threshold.ensemble, 90.0);
        assert!((t.threshold.training_flag_rate - 0.1).abs() < 1e-12);
        assert_eq!(t.metrics.ensemble.confusion.false_positives, 0);
        // Contamination 1 %: numpy's linear quantile of 0..99 at 0.99 = 98.01.
        let t = rethreshold(
            &run,
            &ThresholdSpec::Contamination {
                contamination: 0.01,
            },
            &p,
        );
        assert!((t.threshold.ensemble - 98.01).abs() < 1e-9);
        assert_eq!(t.threshold.method, "training_quantile");
    }

    #[test]
    fn the_budget_holds_model_only_groups_back_unless_the_file_has_no_hosts() {
        let mut run = scored();
        // The five benign evaluated rows from five other hosts: six groups in all.
        for k in 0..5u8 {
            run.flows[105 + usize::from(k)].src_ip = std::net::IpAddr::from([10, 0, 0, 20 + k]);
        }
        let spec = ThresholdSpec::Score { score: 52.0 };
        let all = rethreshold(&run, &spec, &IncidentParams::default());
        let n = all.incidents.len() as u64;
        assert!(n > 1, "{:#?}", all.incidents);
        assert_eq!(
            (all.budget.allowed, all.budget.held_back_incidents),
            (None, 0)
        );
        // 0.5 an hour per 100 hosts, one hour, 100 hosts: one incident.
        let one = rethreshold(&run, &spec, &IncidentParams::with_budget(0.5));
        assert_eq!(one.budget.allowed, Some(1));
        assert_eq!(one.incidents.len(), 1);
        assert_eq!(one.budget.model_incidents, n);
        assert_eq!(one.budget.held_back_incidents, n - 1);
        // Flags are the same either way: held-back flows stay flagged.
        assert_eq!(one.flagged, all.flagged);
        let listed: u64 = one.incidents.iter().map(|i| i.flow_count).sum();
        assert_eq!(
            listed + one.budget.held_back_flows,
            all.flagged.len() as u64
        );
        // Stand-in addresses: no hosts to count, every group listed.
        run.placeholder_addresses = true;
        let stand_ins = rethreshold(&run, &spec, &IncidentParams::with_budget(0.5));
        assert_eq!(stand_ins.incidents.len() as u64, n);
        assert!(stand_ins.budget.hosts_unknown && stand_ins.budget.allowed.is_none());
    }
}
