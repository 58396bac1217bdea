//! Threshold policies: a contamination (training quantile), a target false-positive rate,
//! or a fixed ensemble score, each turned into per-model thresholds from the training rows'
//! scores (or a saved model's reference scores) only, never from the evaluated rows.

use super::run_output::ScoredRun;
use crate::detection::run_config::ThresholdSpec;
use crate::output::report::ThresholdInfo;
use crate::util::index_sort;
use crate::util::quantile;

/// The lowest threshold among `scores` that flags at most `fpr` of them (`score >=
/// threshold`); ties are never split, so the flagged share never exceeds the target.
pub fn threshold_for_rate(scores: &[f64], fpr: f64) -> f64 {
    let mut sorted: Vec<f64> = scores.iter().copied().filter(|s| !s.is_nan()).collect();
    if sorted.is_empty() {
        return f64::INFINITY;
    }
    index_sort::sort_f64_descending(&mut sorted);
    let n = sorted.len();
    let allowed = if fpr.is_finite() {
        ((fpr.clamp(0.0, 1.0) * n as f64) + 1e-9).floor() as usize
    } else {
        0
    };
    if allowed >= n {
        return sorted[n - 1];
    }
    let boundary = sorted[allowed];
    // The prefix above the first disallowed score; its last element is the threshold.
    let above = sorted.partition_point(|&s| s > boundary);
    if above == 0 {
        boundary.next_up()
    } else {
        sorted[above - 1]
    }
}

fn flag_rate(scores: &[f64], threshold: f64) -> f64 {
    if scores.is_empty() {
        return 0.0;
    }
    scores.iter().filter(|&&s| s >= threshold).count() as f64 / scores.len() as f64
}

/// Each model's threshold under a policy, from the training rows' scores only.
pub fn thresholds(scored: &ScoredRun, spec: &ThresholdSpec) -> ThresholdInfo {
    let train = 0..scored.training_rows.min(scored.flows.len());
    // Rows held out of training are not normal examples either: thresholds skip them.
    let trained = |s: &[f64]| -> Vec<f64> {
        if scored.held_out.is_empty() {
            return s[train.clone()].to_vec();
        }
        super::detectors::training_rows(train.end, &scored.held_out)
            .into_iter()
            .map(|i| s[i])
            .collect()
    };
    let owned;
    let (if_t, mlp_t, ens_t) = match &scored.reference {
        Some(r) => (&r.isolation_forest[..], &r.mlp[..], &r.ensemble[..]),
        None => {
            owned = [
                trained(&scored.isolation_forest),
                trained(&scored.mlp),
                trained(&scored.ensemble),
            ];
            (&owned[0][..], &owned[1][..], &owned[2][..])
        }
    };
    thresholds_from(if_t, mlp_t, ens_t, spec)
}

/// Each model's threshold under a policy, from training scores (or a saved model's
/// reference scores) per model: forest, autoencoder, ensemble.
pub fn thresholds_from(
    if_t: &[f64],
    mlp_t: &[f64],
    ens_t: &[f64],
    spec: &ThresholdSpec,
) -> ThresholdInfo {
    let (method, contamination, target_fpr, fixed_score, t) = match *spec {
        ThresholdSpec::Contamination { contamination } => {
            let q = 1.0 - contamination;
            let of = |s: &[f64]| quantile::quantile(s, q).unwrap_or(f64::INFINITY);
            (
                "training_quantile",
                contamination,
                None,
                None,
                [of(if_t), of(mlp_t), of(ens_t)],
            )
        }
        ThresholdSpec::TargetFpr { target_fpr } => (
            "training_fpr",
            target_fpr,
            Some(target_fpr),
            None,
            [
                threshold_for_rate(if_t, target_fpr),
                threshold_for_rate(mlp_t, target_fpr),
                threshold_for_rate(ens_t, target_fpr),
            ],
        ),
        ThresholdSpec::Score { score } => {
            // The single models get the training flag rate the fixed ensemble score implies,
            // so the three stay comparable.
            let rate = flag_rate(ens_t, score);
            (
                "fixed_score",
                rate,
                None,
                Some(score),
                [
                    threshold_for_rate(if_t, rate),
                    threshold_for_rate(mlp_t, rate),
                    score,
                ],
            )
        }
    };
    ThresholdInfo {
        method: method.to_string(),
        mode: spec.mode(),
        contamination,
        target_fpr,
        fixed_score,
        training_flag_rate: flag_rate(ens_t, t[2]),
        isolation_forest: t[0],
        mlp: t[1],
        ensemble: t[2],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_threshold_never_splits_ties_or_exceeds_target() {
        let s = [1.0, 2.0, 3.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0];
        // 20 % of 10 = 2 rows allowed: 9 and 8, threshold 8.
        assert_eq!(threshold_for_rate(&s, 0.2), 8.0);
        // 70 % = 7 rows would split the 3.0 tie: only the 6 rows ≥ 4 are flagged.
        assert_eq!(threshold_for_rate(&s, 0.7), 4.0);
        // 0 % flags nothing; 100 % flags everything.
        assert!(threshold_for_rate(&s, 0.0) > 9.0);
        assert_eq!(flag_rate(&s, threshold_for_rate(&s, 0.0)), 0.0);
        assert_eq!(threshold_for_rate(&s, 1.0), 1.0);
        assert_eq!(threshold_for_rate(&[], 0.1), f64::INFINITY);
    }
}
