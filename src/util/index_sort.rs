//! Sorting through a few shared instantiations, to keep the compute worker's wasm small.
//!
//! Every `sort_by` call with its own closure type is another copy of the standard library's
//! stable sort (about ten functions, several KB of wasm each time), so the detection code
//! sorts index permutations through one comparator-erased entry point and floats through
//! `f64::total_cmp`. Both are stable, so results are the same as with a direct `sort_by`.
//! For the same reason B-tree maps and sets are filled with `extend` rather than `collect`,
//! which sorts its input first (another copy per element type).
//! Not for hot sorts of millions of keys (the generator's timestamp sort sorts packed integer
//! keys directly): the comparator here is an indirect call.

use std::cmp::Ordering;

/// Stable sort of `order` (indices into some collection) by `cmp`.
#[inline(never)]
pub fn sort_indices_by(order: &mut [usize], cmp: &mut dyn FnMut(usize, usize) -> Ordering) {
    order.sort_by(|&a, &b| cmp(a, b));
}

/// `0..n`, stably sorted by `cmp`.
pub fn sorted_indices_by(n: usize, cmp: &mut dyn FnMut(usize, usize) -> Ordering) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    sort_indices_by(&mut order, cmp);
    order
}

/// `items` rearranged so that position `k` holds `items[order[k]]`; `order` must be a
/// permutation of `0..items.len()` (as [`sorted_indices_by`] returns).
pub fn permuted<T>(items: Vec<T>, order: &[usize]) -> Vec<T> {
    let mut slots: Vec<Option<T>> = items.into_iter().map(Some).collect();
    order
        .iter()
        .filter_map(|&i| slots.get_mut(i).and_then(Option::take))
        .collect()
}

/// The keys of `counts`, most frequent first (ties by key, ascending), at most `limit`: the
/// "top hosts / top ports" lists of incidents and detections.
pub fn most_frequent<T: Ord + Copy>(
    counts: &std::collections::BTreeMap<T, u64>,
    limit: usize,
) -> Vec<T> {
    let v: Vec<(T, u64)> = counts.iter().map(|(k, c)| (*k, *c)).collect();
    let order = sorted_indices_by(v.len(), &mut |a, b| {
        v[b].1.cmp(&v[a].1).then(v[a].0.cmp(&v[b].0))
    });
    order.into_iter().take(limit).map(|i| v[i].0).collect()
}

/// Ascending by `f64::total_cmp` (NaNs last, -0 before +0).
#[inline(never)]
pub fn sort_f64(values: &mut [f64]) {
    values.sort_by(f64::total_cmp);
}

/// Descending by `f64::total_cmp`. Values that compare equal under `total_cmp` have the same
/// bits, so reversing the ascending order is the stable descending order.
pub fn sort_f64_descending(values: &mut [f64]) {
    sort_f64(values);
    values.reverse();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_sort_is_stable_and_permuted_follows_it() {
        let keys = [3, 1, 3, 0, 1, 2];
        let order = sorted_indices_by(keys.len(), &mut |a, b| keys[a].cmp(&keys[b]));
        assert_eq!(order, vec![3, 1, 4, 5, 0, 2]);
        let words = vec!["d", "b1", "d2", "a", "b2", "c"];
        assert_eq!(
            permuted(words, &order),
            vec!["a", "b1", "b2", "c", "d", "d2"]
        );
    }

    #[test]
    fn float_sorts_match_sort_by_total_cmp() {
        let values = [
            2.5,
            -0.0,
            f64::NAN,
            0.0,
            -1.0,
            f64::INFINITY,
            2.5,
            f64::NEG_INFINITY,
        ];
        let mut expected = values.to_vec();
        expected.sort_by(f64::total_cmp);
        let mut ascending = values.to_vec();
        sort_f64(&mut ascending);
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&ascending), bits(&expected));
        let mut descending = values.to_vec();
        sort_f64_descending(&mut descending);
        expected.sort_by(|a, b| b.total_cmp(a));
        assert_eq!(bits(&descending), bits(&expected));
    }
}
