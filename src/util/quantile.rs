//! Quantiles with numpy's default (linear) interpolation, by sort or by selection. Used by
//! the threshold policies, the ensemble's calibration, the features' fill values and the
//! charts' axis ranges; plain numbers in, numbers out.

/// The q-quantile (0..=1) with linear interpolation between order statistics, as numpy's
/// default `percentile`. `None` for empty input.
pub fn quantile(values: &[f64], q: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    Some(quantile_in_place(&mut values.to_vec(), q))
}

/// As [`quantile`] for non-empty `values`, found by selection in O(n) rather than a sort
/// (reorders `values`); the same value [`quantile_sorted`] interpolates.
pub fn quantile_in_place(values: &mut [f64], q: f64) -> f64 {
    let pos = q.clamp(0.0, 1.0) * (values.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let (_, &mut at_lo, above) = values.select_nth_unstable_by(lo, f64::total_cmp);
    let at_hi = if pos > lo as f64 {
        above.iter().copied().fold(f64::INFINITY, f64::min)
    } else {
        at_lo
    };
    at_lo + (at_hi - at_lo) * (pos - lo as f64)
}

/// As [`quantile`], for already sorted, non-empty input.
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    let pos = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantile_matches_numpy_linear() {
        // np.percentile([1, 2, 3, 4], 25) == 1.75; 100 -> 4; 0 -> 1
        let v = [4.0, 1.0, 3.0, 2.0];
        assert_eq!(quantile(&v, 0.25), Some(1.75));
        assert_eq!(quantile(&v, 1.0), Some(4.0));
        assert_eq!(quantile(&v, 0.0), Some(1.0));
        assert_eq!(quantile(&[], 0.5), None);
    }

    #[test]
    fn selection_quantiles_equal_the_sorted_ones() {
        let mut rng = crate::util::rng::DetRng::new(9);
        for n in [1usize, 2, 3, 10, 999, 1001] {
            let values: Vec<f64> = (0..n).map(|_| rng.uniform(-3.0, 7.0)).collect();
            let mut sorted = values.clone();
            sorted.sort_by(f64::total_cmp);
            for q in [0.0, 0.001, 0.25, 0.5, 0.999, 1.0] {
                let mut scratch = values.clone();
                assert_eq!(
                    quantile_in_place(&mut scratch, q),
                    quantile_sorted(&sorted, q),
                    "n {n} q {q}"
                );
            }
        }
    }
}
