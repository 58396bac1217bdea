//! Isolation Forest, following `sklearn.ensemble.IsolationForest` (scikit-learn 1.9).
//!
//! Trees are grown like scikit-learn's `ExtraTreeRegressor(max_features=1, splitter="random")`
//! under bagging: each tree sees `max_samples` rows (and `max_features` columns), each node
//! splits a uniformly drawn non-constant feature at a uniform threshold in `[min, max)`, and
//! growth stops at depth `ceil(log2(max_samples))`. Scores, `offset_`, `decision_function`
//! and `predict` use scikit-learn's formulas, so thresholds carry over between the two.
//!
//! Differences from scikit-learn, on purpose: values stay `f64` (scikit-learn casts to
//! `f32`), NaN/inf are rejected instead of routed, randomness comes from [`DetRng`] (same
//! distribution, different stream, identical natively and in wasm) and trees are built
//! sequentially. This module is not a general decision-tree library and does not scale or
//! select features.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::auto_or_number::AutoOrNumber;
use super::{check_finite, check_input, ModelError};
use crate::util::math;
use crate::util::matrix::Matrix;
use crate::util::rng::DetRng;

/// scikit-learn treats a feature as constant within a node when `max <= min + 1e-7`
/// (`FEATURE_THRESHOLD` in `sklearn/tree/_partitioner.pxd`).
const FEATURE_THRESHOLD: f64 = 1e-7;

/// Rows scored together against one tree at a time, so the tree stays in L1 cache.
const SCORE_BLOCK: usize = 256;

/// Rows walked down a tree in lockstep: independent walks overlap in the CPU instead of each
/// waiting on its own unpredictable branch.
const LANES: usize = 16;

/// How many rows each tree is grown on.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum MaxSamples {
    /// `min(256, n_samples)`.
    #[default]
    Auto,
    /// An exact count; more than `n_samples` is clamped to `n_samples` (scikit-learn warns).
    Count(usize),
    /// A share of `n_samples` in `(0, 1]`; `int(share * n_samples)` rows (at least one).
    Fraction(f64),
}

/// How the decision threshold `offset_` is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Contamination {
    /// `offset_ = -0.5`, as in the original paper.
    #[default]
    Auto,
    /// Expected share of outliers in `(0, 0.5]`: `offset_` is that percentile of the
    /// training scores.
    Fraction(f64),
}

/// How many features each tree sees (drawn without replacement per tree).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MaxFeatures {
    /// `max(1, int(share * n_features))`, share in `(0, 1]`.
    Fraction(f64),
    /// An exact count, at most `n_features` (0 is raised to 1, as scikit-learn does).
    Count(usize),
}

impl Default for MaxFeatures {
    fn default() -> Self {
        MaxFeatures::Fraction(1.0)
    }
}

/// Hyper-parameters; `Default` is scikit-learn's defaults (with `random_state = 0`).
///
/// In JSON, `max_samples`/`contamination` are `"auto"` or a number and `max_features` a
/// number: an integer means a count, a number with a fraction part or `.0` a share.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct IsolationForestParams {
    pub n_estimators: usize,
    pub max_samples: MaxSamples,
    pub contamination: Contamination,
    pub max_features: MaxFeatures,
    pub bootstrap: bool,
    pub random_state: u64,
}

impl Default for IsolationForestParams {
    fn default() -> Self {
        IsolationForestParams {
            n_estimators: 100,
            max_samples: MaxSamples::Auto,
            contamination: Contamination::Auto,
            max_features: MaxFeatures::default(),
            bootstrap: false,
            random_state: 0,
        }
    }
}

/// One node of a flattened tree. Split nodes send `x[feature] <= value` left and have
/// children after themselves. Leaves are their own children (`left == right == own index`,
/// `feature == 0`) and hold `value = depth + c(n_leaf_samples)`, the full path length, so a
/// walk can take `max_depth` steps without checking for leaves.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct Node {
    feature: u32,
    left: u32,
    right: u32,
    value: f64,
}

impl Node {
    #[inline]
    fn is_leaf(&self) -> bool {
        self.left == self.right
    }
}

/// State learned by `fit`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Fitted {
    n_features_in: usize,
    /// `max_samples_`: rows drawn per tree, the path-length normaliser's `n`.
    max_samples: usize,
    offset: f64,
    /// All trees' nodes; child indices are absolute positions in this vector.
    nodes: Vec<Node>,
    /// Index of each tree's root in `nodes`.
    roots: Vec<u32>,
    /// The same trees as perfect binary trees for fast scoring; derived from `nodes` after
    /// `fit` and after deserialisation, never stored.
    #[serde(skip)]
    perfect: Option<PerfectForest>,
    /// Training rows that reached each node (scikit-learn's `n_node_samples`), for the
    /// explanations; derived from the leaves' path lengths, never stored.
    #[serde(skip)]
    samples: Vec<u32>,
}

/// Trees deepened to exactly `depth` levels in heap order (root at slot 1, children of `i` at
/// `2i` and `2i + 1`): a walk is `depth` steps of `i = 2i + (x[f] > t)`, with no child
/// indices to load and no leaf test. Leaves above the depth limit become pass-through splits
/// (threshold +inf, always left) ending on a copy of their value, so scores are bit-identical
/// to walking `nodes`. Only built up to [`PERFECT_MAX_DEPTH`] (size grows as `2^depth`) and
/// 256 input columns (features are stored as `u8`). Scoring transposes each block of rows into
/// lane groups ([`GroupColumns`]) so a step is one masked load per lane, no bounds checks.
#[derive(Debug, Clone, PartialEq)]
struct PerfectForest {
    depth: usize,
    /// Per tree `2^depth` slots (slot 0 unused): split feature and threshold.
    features: Vec<u8>,
    thresholds: Vec<f64>,
    /// Per tree `2^depth` leaf values (`depth + c(n)`), indexed by `i - 2^depth`.
    leaves: Vec<f64>,
}

/// 2^10 slots per tree: 100 trees take 2 MB. Default forests (256 samples) have depth 8.
const PERFECT_MAX_DEPTH: usize = 10;

/// Rows walked in lockstep through a perfect tree: independent walks overlap in the CPU.
/// Measured with the transposed layout below: 16 beats 8 and 24 natively and in wasm.
/// Rows are independent, so the lane count never changes a score's bits.
const PERFECT_LANES: usize = 16;
const _: () = assert!(SCORE_BLOCK.is_multiple_of(PERFECT_LANES));

/// Lane groups per block of [`SCORE_BLOCK`] rows.
const BLOCK_GROUPS: usize = SCORE_BLOCK / PERFECT_LANES;

/// One lane group's rows transposed: per column (256 slots, so a `u8` feature index needs no
/// bounds check), the lanes' values.
type GroupColumns = [[f64; PERFECT_LANES]; 256];

impl PerfectForest {
    fn build(nodes: &[Node], roots: &[u32], depth: usize) -> PerfectForest {
        let size = 1usize << depth;
        let mut p = PerfectForest {
            depth,
            features: vec![0; size * roots.len()],
            thresholds: vec![f64::INFINITY; size * roots.len()],
            leaves: vec![0.0; size * roots.len()],
        };
        for (t, &root) in roots.iter().enumerate() {
            p.fill(nodes, t * size, 1, root as usize, 0);
        }
        p
    }

    /// Structure already checked: children exist, no path deeper than `depth`.
    fn fill(&mut self, nodes: &[Node], base: usize, slot: usize, node: usize, level: usize) {
        let size = 1usize << self.depth;
        let n = nodes[node];
        if level == self.depth {
            self.leaves[base + slot - size] = n.value;
            return;
        }
        let (left, right) = if n.is_leaf() {
            (node, node) // pass-through: threshold stays +inf
        } else {
            self.features[base + slot] = n.feature as u8;
            self.thresholds[base + slot] = n.value;
            (n.left as usize, n.right as usize)
        };
        self.fill(nodes, base, 2 * slot, left, level + 1);
        self.fill(nodes, base, 2 * slot + 1, right, level + 1);
    }

    /// Walks one lane group down one tree of `SIZE = 2^depth` slots; returns the leaf index of
    /// each lane. Fixed-size arrays (a `u8` feature indexes 256 columns, slots are masked to
    /// `SIZE`) and a constant depth let the compiler drop every bounds check and unroll.
    #[inline(always)]
    fn walk<const SIZE: usize>(
        group: &GroupColumns,
        features: &[u8; SIZE],
        thresholds: &[f64; SIZE],
    ) -> [usize; PERFECT_LANES] {
        // The root is the same node for every lane: one feature load, not one per lane.
        let root = &group[features[1] as usize];
        let mut at: [usize; PERFECT_LANES] =
            std::array::from_fn(|l| 2 + usize::from(root[l] > thresholds[1]));
        for _ in 1..SIZE.trailing_zeros() {
            for (l, i) in at.iter_mut().enumerate() {
                let s = *i & (SIZE - 1);
                let v = group[features[s] as usize][l];
                *i = 2 * *i + usize::from(v > thresholds[s]);
            }
        }
        at.map(|i| i & (SIZE - 1))
    }

    /// Adds each row's path length in every tree to `depth_sums`, trees in order for every
    /// row (the same summation order as the node walk).
    fn add_path_lengths(&self, x: &Matrix, depth_sums: &mut [f64]) {
        match self.depth {
            1 => self.add_path_lengths_sized::<2>(x, depth_sums),
            2 => self.add_path_lengths_sized::<4>(x, depth_sums),
            3 => self.add_path_lengths_sized::<8>(x, depth_sums),
            4 => self.add_path_lengths_sized::<16>(x, depth_sums),
            5 => self.add_path_lengths_sized::<32>(x, depth_sums),
            6 => self.add_path_lengths_sized::<64>(x, depth_sums),
            7 => self.add_path_lengths_sized::<128>(x, depth_sums),
            8 => self.add_path_lengths_sized::<256>(x, depth_sums),
            9 => self.add_path_lengths_sized::<512>(x, depth_sums),
            _ => self.add_path_lengths_sized::<1024>(x, depth_sums),
        }
    }

    fn add_path_lengths_sized<const SIZE: usize>(&self, x: &Matrix, depth_sums: &mut [f64]) {
        let n = x.rows();
        // On the heap (256 KiB), built there: a boxed array literal may pass through the stack.
        let mut block: Box<[GroupColumns; BLOCK_GROUPS]> =
            vec![[[0.0; PERFECT_LANES]; 256]; BLOCK_GROUPS]
                .into_boxed_slice()
                .try_into()
                .expect("BLOCK_GROUPS groups");
        for start in (0..n).step_by(SCORE_BLOCK) {
            let end = (start + SCORE_BLOCK).min(n);
            self.add_block_path_lengths::<SIZE>(x, start, end, &mut block, depth_sums);
        }
    }

    /// Rows `start..end` through every tree. Out of line on purpose: V8 optimises a wasm
    /// function only from its next call on, so the hot loop must be entered per block, not
    /// once for the whole matrix.
    #[inline(never)]
    fn add_block_path_lengths<const SIZE: usize>(
        &self,
        x: &Matrix,
        start: usize,
        end: usize,
        block: &mut [GroupColumns; BLOCK_GROUPS],
        depth_sums: &mut [f64],
    ) {
        let cols = x.cols();
        let (features, _) = self.features.as_chunks::<SIZE>();
        let (thresholds, _) = self.thresholds.as_chunks::<SIZE>();
        let (leaves, _) = self.leaves.as_chunks::<SIZE>();
        for (r, row) in x.as_slice()[start * cols..end * cols]
            .chunks_exact(cols)
            .enumerate()
        {
            let group = &mut block[r / PERFECT_LANES];
            for (column, &v) in group.iter_mut().zip(row) {
                column[r % PERFECT_LANES] = v;
            }
        }
        // The last group's unused lanes hold stale finite values: walked, never added.
        let groups = &block[..(end - start).div_ceil(PERFECT_LANES)];
        for ((features, thresholds), leaves) in features.iter().zip(thresholds).zip(leaves) {
            for (group, sums) in groups
                .iter()
                .zip(depth_sums[start..end].chunks_mut(PERFECT_LANES))
            {
                let at = Self::walk::<SIZE>(group, features, thresholds);
                for (sum, i) in sums.iter_mut().zip(at) {
                    *sum += leaves[i];
                }
            }
        }
    }
}

/// One split on a row's way from a tree's root to its leaf.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PathStep {
    /// Which tree (0-based).
    pub tree: usize,
    /// Depth of the split node (root = 0).
    pub depth: usize,
    /// Column of the input that was tested.
    pub feature: usize,
    pub threshold: f64,
    /// `row[feature] <= threshold`.
    pub went_left: bool,
    /// Training rows that reached the split node, and those of them on the row's side.
    pub samples: u32,
    pub samples_on_side: u32,
}

/// The model: parameters plus, after `fit`, the forest. Serialises whole; deserialising
/// checks the forest's structure so a corrupt file is an error, not a panic or a hang.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "UncheckedForest")]
pub struct IsolationForest {
    params: IsolationForestParams,
    fitted: Option<Fitted>,
}

#[derive(Deserialize)]
struct UncheckedForest {
    params: IsolationForestParams,
    #[serde(default)]
    fitted: Option<Fitted>,
}

impl TryFrom<UncheckedForest> for IsolationForest {
    type Error = String;

    fn try_from(u: UncheckedForest) -> Result<Self, String> {
        let mut fitted = u.fitted;
        if let Some(f) = &mut fitted {
            f.check()
                .map_err(|e| format!("{}{e}", super::INCONSISTENT))?;
            f.build_perfect();
            f.build_samples();
        }
        Ok(IsolationForest {
            params: u.params,
            fitted,
        })
    }
}

/// Average path length of an unsuccessful search in a binary search tree of `n` nodes,
/// `c(n)` in the paper (scikit-learn's `_average_path_length`): 0 for `n <= 1`, 1 for
/// `n == 2`, else `2 (ln(n - 1) + γ) - 2 (n - 1) / n`.
pub fn average_path_length(n: f64) -> f64 {
    if n <= 1.0 {
        0.0
    } else if n == 2.0 {
        1.0
    } else {
        2.0 * (math::ln(n - 1.0) + math::EULER_GAMMA) - 2.0 * (n - 1.0) / n
    }
}

/// `np.percentile(values, q)` with numpy's default linear method, bit for bit.
fn percentile_linear(values: &[f64], q: f64) -> f64 {
    let mut sorted = values.to_vec();
    crate::util::index_sort::sort_f64(&mut sorted);
    let n = sorted.len();
    let quantile = q / 100.0;
    let virtual_index = (n as f64 - 1.0) * quantile;
    if virtual_index >= n as f64 - 1.0 {
        return sorted[n - 1];
    }
    if virtual_index < 0.0 {
        return sorted[0];
    }
    let below = virtual_index.floor();
    let (a, b) = (sorted[below as usize], sorted[below as usize + 1]);
    let gamma = virtual_index - below;
    // numpy's `_lerp` switches formula at 0.5 so the result is exact at both ends.
    let diff = b - a;
    if gamma >= 0.5 {
        b - diff * (1.0 - gamma)
    } else {
        a + diff * gamma
    }
}

/// Smallest `d` with `2^d >= m`, i.e. `ceil(log2(max(m, 2)))` without float rounding.
fn max_depth_for(max_samples: usize) -> usize {
    let m = max_samples.max(2);
    (usize::BITS - (m - 1).leading_zeros()) as usize
}

impl IsolationForest {
    pub fn new(params: IsolationForestParams) -> IsolationForest {
        IsolationForest {
            params,
            fitted: None,
        }
    }

    pub fn params(&self) -> &IsolationForestParams {
        &self.params
    }

    pub fn n_features_in(&self) -> Option<usize> {
        self.fitted.as_ref().map(|f| f.n_features_in)
    }

    /// scikit-learn's `offset_`; `None` before `fit`.
    pub fn offset(&self) -> Option<f64> {
        self.fitted.as_ref().map(|f| f.offset)
    }

    /// scikit-learn's `max_samples_` (rows drawn per tree); `None` before `fit`.
    pub fn max_samples_used(&self) -> Option<usize> {
        self.fitted.as_ref().map(|f| f.max_samples)
    }

    pub fn n_trees(&self) -> usize {
        self.fitted.as_ref().map_or(0, |f| f.roots.len())
    }

    pub fn is_fitted(&self) -> bool {
        self.fitted.is_some()
    }

    /// Grows the forest on `x` and sets `offset_`. Refitting replaces the previous forest.
    pub fn fit(&mut self, x: &Matrix) -> Result<(), ModelError> {
        check_input(x, None)?;
        let p = &self.params;
        let (n, n_features) = (x.rows(), x.cols());
        if p.n_estimators == 0 {
            return Err(invalid("n_estimators", "must be at least 1"));
        }
        let max_samples = match p.max_samples {
            MaxSamples::Auto => n.min(256),
            MaxSamples::Count(0) => return Err(invalid("max_samples", "must be at least 1")),
            MaxSamples::Count(m) => m.min(n),
            MaxSamples::Fraction(f) if f > 0.0 && f <= 1.0 => ((f * n as f64) as usize).max(1),
            MaxSamples::Fraction(f) => {
                return Err(invalid("max_samples", format!("share {f} not in (0, 1]")))
            }
        };
        if let Contamination::Fraction(c) = p.contamination {
            if !(c > 0.0 && c <= 0.5) {
                return Err(invalid("contamination", format!("{c} not in (0, 0.5]")));
            }
        }
        let max_features = match p.max_features {
            MaxFeatures::Count(k) if k > n_features => {
                return Err(invalid(
                    "max_features",
                    format!("{k} exceeds the {n_features} input features"),
                ))
            }
            MaxFeatures::Count(k) => k.max(1),
            MaxFeatures::Fraction(f) if f > 0.0 && f <= 1.0 => {
                ((f * n_features as f64) as usize).max(1)
            }
            MaxFeatures::Fraction(f) => {
                return Err(invalid("max_features", format!("share {f} not in (0, 1]")))
            }
        };

        let max_depth = max_depth_for(max_samples);
        let mut master = DetRng::derive(p.random_state, "isolation-forest");
        let mut builder = TreeBuilder::new(n, n_features, max_features, max_samples);
        let mut nodes = Vec::new();
        let mut roots = Vec::with_capacity(p.n_estimators);
        for _ in 0..p.n_estimators {
            let mut rng = DetRng::new(master.next_u64());
            roots.push(nodes.len() as u32);
            builder.grow(x, p.bootstrap, max_depth, &mut rng, &mut nodes);
        }

        let mut fitted = Fitted {
            n_features_in: n_features,
            max_samples,
            offset: -0.5,
            perfect: None,
            samples: Vec::new(),
            nodes,
            roots,
        };
        fitted.build_perfect();
        fitted.build_samples();
        if let Contamination::Fraction(c) = p.contamination {
            let scores = fitted.score_samples(x);
            fitted.offset = percentile_linear(&scores, 100.0 * c);
        }
        self.fitted = Some(fitted);
        Ok(())
    }

    /// The opposite of the paper's anomaly score, in `[-1, 0)`: lower is more abnormal.
    pub fn score_samples(&self, x: &Matrix) -> Result<Vec<f64>, ModelError> {
        let fitted = self.fitted.as_ref().ok_or(ModelError::NotFitted)?;
        check_input(x, Some(fitted.n_features_in))?;
        Ok(fitted.score_samples(x))
    }

    /// `score_samples - offset_`: negative means outlier.
    pub fn decision_function(&self, x: &Matrix) -> Result<Vec<f64>, ModelError> {
        let offset = self.offset().ok_or(ModelError::NotFitted)?;
        let mut scores = self.score_samples(x)?;
        for s in &mut scores {
            *s -= offset;
        }
        Ok(scores)
    }

    /// `-1` for outliers (`decision_function < 0`), `+1` for inliers, as scikit-learn.
    pub fn predict(&self, x: &Matrix) -> Result<Vec<i8>, ModelError> {
        Ok(self
            .decision_function(x)?
            .into_iter()
            .map(|d| if d < 0.0 { -1 } else { 1 })
            .collect())
    }

    /// Calls `visitor` for every split on `row`'s path, tree by tree, root to leaf: the raw
    /// material for per-feature explanations.
    pub fn visit_path(
        &self,
        row: &[f64],
        visitor: &mut dyn FnMut(&PathStep),
    ) -> Result<(), ModelError> {
        let fitted = self.checked_row(row)?;
        for (tree, &root) in fitted.roots.iter().enumerate() {
            let mut i = root as usize;
            let mut depth = 0;
            loop {
                let node = fitted.nodes[i];
                if node.is_leaf() {
                    break;
                }
                let feature = node.feature as usize;
                let went_left = row[feature] <= node.value;
                let next = if went_left { node.left } else { node.right } as usize;
                let samples_at = |k: usize| fitted.samples.get(k).copied().unwrap_or(1);
                visitor(&PathStep {
                    tree,
                    depth,
                    feature,
                    threshold: node.value,
                    went_left,
                    samples: samples_at(i),
                    samples_on_side: samples_at(next),
                });
                i = next;
                depth += 1;
            }
        }
        Ok(())
    }

    /// Path-based attribution: per input column, its share of the isolation of `row`. Each
    /// split on the row's path cut the training rows around it from `n` to the `m` on its
    /// side, worth `log2(n / m)` bits; a tree's splits add up to `log2(max_samples / leaf)`,
    /// so a tree that isolates the row in two splits gives those two all its weight, and the
    /// split that cut off the most (how early and how sharply it isolated the flow) counts
    /// most. A split that left nearly everyone on the row's side says nearly nothing, which a
    /// plain count of splits cannot tell. Non-negative, sums to 1; all zeros when no tree
    /// split at all (constant data).
    pub fn explain(&self, row: &[f64]) -> Result<Vec<f64>, ModelError> {
        let mut weights = vec![0.0; self.checked_row(row)?.n_features_in];
        self.visit_path(row, &mut |step| {
            let (n, m) = (step.samples.max(1), step.samples_on_side.max(1));
            if n > m {
                weights[step.feature] += math::log2(f64::from(n) / f64::from(m));
            }
        })?;
        let total: f64 = weights.iter().sum();
        if total > 0.0 {
            weights.iter_mut().for_each(|w| *w /= total);
        }
        Ok(weights)
    }

    /// For each tree, the features tested on `row`'s path, root first.
    pub fn path_features(&self, row: &[f64]) -> Result<Vec<Vec<usize>>, ModelError> {
        let mut paths = vec![Vec::new(); self.n_trees()];
        self.visit_path(row, &mut |step| paths[step.tree].push(step.feature))?;
        Ok(paths)
    }

    /// For each tree, `row`'s path length: leaf depth plus `c(samples in the leaf)`.
    pub fn path_lengths(&self, row: &[f64]) -> Result<Vec<f64>, ModelError> {
        let fitted = self.checked_row(row)?;
        Ok(fitted
            .roots
            .iter()
            .map(|&root| fitted.leaf_value(root, row))
            .collect())
    }

    fn checked_row(&self, row: &[f64]) -> Result<&Fitted, ModelError> {
        let fitted = self.fitted.as_ref().ok_or(ModelError::NotFitted)?;
        if row.len() != fitted.n_features_in {
            return Err(ModelError::FeatureCountMismatch {
                expected: fitted.n_features_in,
                found: row.len(),
            });
        }
        check_finite(row, row.len())
            .map_err(|(_, col)| ModelError::NonFiniteInput { row: 0, col })?;
        Ok(fitted)
    }
}

fn invalid(name: &'static str, reason: impl Into<String>) -> ModelError {
    ModelError::InvalidParameter {
        name,
        reason: reason.into(),
    }
}

impl Fitted {
    /// The invariants scoring relies on: children come after their parent (so walks end),
    /// leaves loop onto themselves, no path is deeper than the depth limit, features exist.
    fn check(&self) -> Result<(), String> {
        let max_depth = max_depth_for(self.max_samples);
        if self.n_features_in == 0 || self.max_samples == 0 || self.roots.is_empty() {
            return Err("empty forest".into());
        }
        if !self.offset.is_finite() {
            return Err("offset is not finite".into());
        }
        let mut stack = Vec::new();
        // Each node belongs to exactly one tree position: shared subtrees (a DAG) could make
        // walks exponential in a hostile file.
        let mut seen = vec![false; self.nodes.len()];
        for &root in &self.roots {
            stack.push((root as usize, 0));
            while let Some((i, depth)) = stack.pop() {
                let node = self
                    .nodes
                    .get(i)
                    .ok_or_else(|| format!("node {i} does not exist"))?;
                if std::mem::replace(&mut seen[i], true) {
                    return Err(format!("node {i} is reached twice"));
                }
                if !node.value.is_finite() {
                    return Err(format!("node {i} has a non-finite value"));
                }
                if node.is_leaf() {
                    if node.left as usize != i {
                        return Err(format!("leaf {i} does not point to itself"));
                    }
                    // A leaf holds its path length, `depth + c(n)` with `c(n) >= 0`: anything
                    // shorter would push scores outside [-1, 0] (found by fuzzing model_json).
                    if node.value < depth as f64 {
                        return Err(format!(
                            "leaf {i} at depth {depth} has a path length of {}",
                            node.value
                        ));
                    }
                    continue;
                }
                let (left, right) = (node.left as usize, node.right as usize);
                if left <= i || right <= i || node.feature as usize >= self.n_features_in {
                    return Err(format!("split node {i} is malformed"));
                }
                if depth + 1 > max_depth {
                    return Err(format!("tree deeper than its limit of {max_depth}"));
                }
                stack.push((left, depth + 1));
                stack.push((right, depth + 1));
            }
        }
        Ok(())
    }

    /// Recovers each node's training rows: a leaf stores `depth + c(n)` and `c` grows with
    /// `n`, so `n` is the one whose `c` matches; a split holds its children's sum.
    fn build_samples(&mut self) {
        let cap = self.max_samples.max(1);
        let c_of: Vec<f64> = (1..=cap).map(|n| average_path_length(n as f64)).collect();
        let mut samples = vec![0u32; self.nodes.len()];
        let mut stack: Vec<(usize, usize, bool)> = Vec::new();
        for &root in &self.roots {
            stack.push((root as usize, 0, false));
            while let Some((i, depth, children_done)) = stack.pop() {
                let node = self.nodes[i];
                if node.is_leaf() {
                    let c = node.value - depth as f64;
                    // Adjacent c(n) differ by about 2/n, far more than the rounding here.
                    let k = c_of.partition_point(|&t| t < c - 1e-9);
                    samples[i] = (k + 1).min(cap) as u32;
                } else if children_done {
                    samples[i] =
                        samples[node.left as usize].saturating_add(samples[node.right as usize]);
                } else {
                    stack.push((i, depth, true));
                    stack.push((node.left as usize, depth + 1, false));
                    stack.push((node.right as usize, depth + 1, false));
                }
            }
        }
        self.samples = samples;
    }

    fn build_perfect(&mut self) {
        let depth = max_depth_for(self.max_samples);
        self.perfect = (depth <= PERFECT_MAX_DEPTH && self.n_features_in <= 256)
            .then(|| PerfectForest::build(&self.nodes, &self.roots, depth));
    }

    #[inline]
    fn leaf_value(&self, root: u32, row: &[f64]) -> f64 {
        let mut node = &self.nodes[root as usize];
        while !node.is_leaf() {
            let next = if row[node.feature as usize] <= node.value {
                node.left
            } else {
                node.right
            };
            node = &self.nodes[next as usize];
        }
        node.value
    }

    /// Input already validated. Sums path lengths tree by tree in the same order for every
    /// row (so blocking does not change the bits), then applies scikit-learn's formula.
    fn score_samples(&self, x: &Matrix) -> Vec<f64> {
        let n = x.rows();
        let steps = max_depth_for(self.max_samples);
        let mut depth_sums = vec![0.0; n];
        if let Some(perfect) = &self.perfect {
            perfect.add_path_lengths(x, &mut depth_sums);
        }
        for start in (0..n)
            .step_by(SCORE_BLOCK)
            .filter(|_| self.perfect.is_none())
        {
            let end = (start + SCORE_BLOCK).min(n);
            for &root in &self.roots {
                for lane_start in (start..end).step_by(LANES) {
                    let lanes = LANES.min(end - lane_start);
                    let mut at = [root; LANES];
                    // Leaves loop onto themselves, so `steps` (the depth limit) always ends
                    // every walk on its leaf; the child choice compiles to a select.
                    for _ in 0..steps {
                        for (l, i) in at[..lanes].iter_mut().enumerate() {
                            let node = &self.nodes[*i as usize];
                            let v = x.get(lane_start + l, node.feature as usize);
                            *i = if v <= node.value {
                                node.left
                            } else {
                                node.right
                            };
                        }
                    }
                    for (l, &i) in at[..lanes].iter().enumerate() {
                        depth_sums[lane_start + l] += self.nodes[i as usize].value;
                    }
                }
            }
        }
        let denominator = self.roots.len() as f64 * average_path_length(self.max_samples as f64);
        depth_sums
            .into_iter()
            .map(|d| {
                // A single training sample gives 0/0; scikit-learn defines the ratio as 1.
                let ratio = if denominator != 0.0 {
                    d / denominator
                } else {
                    1.0
                };
                -math::exp2(-ratio)
            })
            .collect()
    }
}

/// Reusable scratch space for growing trees; one allocation per `fit`, not per tree.
struct TreeBuilder {
    n_features: usize,
    max_features: usize,
    max_samples: usize,
    /// A permutation of `0..n_rows`; a partial Fisher–Yates pass over it draws a uniform
    /// subset whatever order earlier trees left it in.
    row_pool: Vec<usize>,
    feature_pool: Vec<usize>,
    /// Drawn rows (unique, ascending when bootstrapping, as scikit-learn's weighted fit sees
    /// them).
    rows: Vec<usize>,
    /// The tree's columns (original indices).
    tree_features: Vec<usize>,
    /// Column-major copy of the drawn rows restricted to the tree's columns.
    values: Vec<f64>,
    /// Positions into `rows`, partitioned in place node by node.
    samples: Vec<u32>,
    /// scikit-learn's splitter bookkeeping: local feature ids with known-constant ones first.
    features: Vec<usize>,
    constant_features: Vec<usize>,
    stack: Vec<Record>,
}

#[derive(Clone, Copy)]
struct Record {
    start: usize,
    end: usize,
    depth: usize,
    parent: Option<(usize, bool)>,
    n_constant: usize,
}

impl TreeBuilder {
    fn new(n_rows: usize, n_features: usize, max_features: usize, max_samples: usize) -> Self {
        TreeBuilder {
            n_features,
            max_features,
            max_samples,
            row_pool: (0..n_rows).collect(),
            feature_pool: (0..n_features).collect(),
            rows: Vec::with_capacity(max_samples),
            tree_features: Vec::with_capacity(max_features),
            values: Vec::with_capacity(max_samples * max_features),
            samples: Vec::with_capacity(max_samples),
            features: Vec::with_capacity(max_features),
            constant_features: Vec::with_capacity(max_features),
            stack: Vec::new(),
        }
    }

    fn grow(
        &mut self,
        x: &Matrix,
        bootstrap: bool,
        max_depth: usize,
        rng: &mut DetRng,
        nodes: &mut Vec<Node>,
    ) {
        self.draw(x.rows(), bootstrap, rng);
        let m = self.rows.len();
        // Column-major copy, filled row by row: each drawn row's cache lines are read once.
        let k = self.tree_features.len();
        self.values.clear();
        self.values.resize(m * k, 0.0);
        for (i, &r) in self.rows.iter().enumerate() {
            let row = x.row(r);
            for (j, &f) in self.tree_features.iter().enumerate() {
                self.values[j * m + i] = row[f];
            }
        }
        self.samples.clear();
        self.samples.extend(0..m as u32);
        self.features.clear();
        self.features.extend(0..k);
        self.constant_features.clear();
        self.constant_features.extend(0..k);

        self.stack.clear();
        self.stack.push(Record {
            start: 0,
            end: m,
            depth: 0,
            parent: None,
            n_constant: 0,
        });
        while let Some(rec) = self.stack.pop() {
            let id = nodes.len();
            if let Some((parent, is_left)) = rec.parent {
                let p = &mut nodes[parent];
                if is_left {
                    p.left = id as u32;
                } else {
                    p.right = id as u32;
                }
            }
            let n_node = rec.end - rec.start;
            // scikit-learn also stops on zero impurity of its random targets, which for
            // distinct rows means a single sample; `n_node < 2` covers both.
            let split = if rec.depth >= max_depth || n_node < 2 {
                None
            } else {
                self.split_node(&rec, rng)
            };
            match split {
                None => nodes.push(Node {
                    feature: 0,
                    left: id as u32,
                    right: id as u32,
                    value: rec.depth as f64 + average_path_length(n_node as f64),
                }),
                Some((local_feature, threshold, pos, n_constant)) => {
                    nodes.push(Node {
                        feature: self.tree_features[local_feature] as u32,
                        left: 0,
                        right: 0,
                        value: threshold,
                    });
                    let child = |start, end, is_left| Record {
                        start,
                        end,
                        depth: rec.depth + 1,
                        parent: Some((id, is_left)),
                        n_constant,
                    };
                    // Right pushed first so the left subtree is laid out right after its parent.
                    self.stack.push(child(pos, rec.end, false));
                    self.stack.push(child(rec.start, pos, true));
                }
            }
        }
    }

    /// Draws this tree's columns and rows.
    fn draw(&mut self, n_rows: usize, bootstrap: bool, rng: &mut DetRng) {
        self.tree_features.clear();
        if self.max_features == self.n_features {
            // scikit-learn does not index columns in this case.
            self.tree_features.extend(0..self.n_features);
        } else {
            partial_shuffle(&mut self.feature_pool, self.max_features, rng);
            self.tree_features
                .extend_from_slice(&self.feature_pool[..self.max_features]);
        }
        self.rows.clear();
        if bootstrap {
            // scikit-learn passes bootstrap counts as sample weights, so the tree sees each
            // drawn row once (duplicates only add weight, which isolation ignores).
            self.rows
                .extend((0..self.max_samples).map(|_| rng.index(n_rows)));
            self.rows.sort_unstable();
            self.rows.dedup();
        } else {
            partial_shuffle(&mut self.row_pool, self.max_samples, rng);
            self.rows
                .extend_from_slice(&self.row_pool[..self.max_samples]);
        }
    }

    /// scikit-learn's `node_split_random` with `max_features = 1`: draw features without
    /// replacement, skipping (and remembering) ones constant in this node, and split the first
    /// non-constant one at a uniform threshold. Returns `(local feature, threshold, split
    /// position, constant-feature count for the children)`, or `None` if every feature is
    /// constant here.
    fn split_node(&mut self, rec: &Record, rng: &mut DetRng) -> Option<(usize, f64, usize, usize)> {
        let m = self.rows.len();
        let (start, end) = (rec.start, rec.end);
        let n_known = rec.n_constant;
        let mut f_i = self.features.len();
        let mut n_found = 0;
        let mut n_drawn = 0;
        let mut n_total = n_known;
        let mut n_visited = 0;
        let mut best = None;

        while f_i > n_total && (n_visited < 1 || n_visited <= n_found + n_drawn) {
            n_visited += 1;
            let mut f_j = n_drawn + rng.index(f_i - n_found - n_drawn);
            if f_j < n_known {
                self.features.swap(n_drawn, f_j);
                n_drawn += 1;
                continue;
            }
            f_j += n_found;
            let feature = self.features[f_j];
            let column = &self.values[feature * m..(feature + 1) * m];
            let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
            for &s in &self.samples[start..end] {
                let v = column[s as usize];
                lo = lo.min(v);
                hi = hi.max(v);
            }
            if hi <= lo + FEATURE_THRESHOLD {
                self.features.swap(f_j, n_total);
                n_found += 1;
                n_total += 1;
                continue;
            }
            f_i -= 1;
            self.features.swap(f_i, f_j);

            let mut threshold = rng.uniform(lo, hi);
            if threshold == hi {
                threshold = lo;
            }
            let pos = partition(&mut self.samples[start..end], column, threshold) + start;
            if pos == start || pos == end {
                continue; // cannot happen with lo <= threshold < hi; kept as scikit-learn does
            }
            best = Some((feature, threshold, pos));
        }

        // scikit-learn's invariant: known constants keep their order for siblings and
        // children, newly found ones follow them.
        self.features[..n_known].copy_from_slice(&self.constant_features[..n_known]);
        self.constant_features[n_known..n_total].copy_from_slice(&self.features[n_known..n_total]);
        best.map(|(f, t, pos)| (f, t, pos, n_total))
    }
}

/// Moves samples with `column[s] <= threshold` to the front; returns how many there are.
fn partition(samples: &mut [u32], column: &[f64], threshold: f64) -> usize {
    let mut lo = 0;
    let mut hi = samples.len();
    while lo < hi {
        if column[samples[lo] as usize] <= threshold {
            lo += 1;
        } else {
            hi -= 1;
            samples.swap(lo, hi);
        }
    }
    lo
}

/// Puts a uniform random `k`-subset of `pool` in `pool[..k]` (partial Fisher–Yates).
fn partial_shuffle(pool: &mut [usize], k: usize, rng: &mut DetRng) {
    let n = pool.len();
    for i in 0..k.min(n) {
        let j = i + rng.index(n - i);
        pool.swap(i, j);
    }
}

// ---- serde: "auto" or a number, as scikit-learn's constructor takes them ----

fn parse_auto<E: serde::de::Error>(text: &str) -> Result<(), E> {
    if text == "auto" {
        Ok(())
    } else {
        Err(E::custom(format!(
            "expected \"auto\" or a number, got {text:?}"
        )))
    }
}

fn count_from_u64<E: serde::de::Error>(n: u64) -> Result<usize, E> {
    usize::try_from(n).map_err(|_| E::custom("count too large"))
}

impl Serialize for MaxSamples {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match *self {
            MaxSamples::Auto => AutoOrNumber::Text("auto".into()),
            MaxSamples::Count(n) => AutoOrNumber::Count(n as u64),
            MaxSamples::Fraction(f) => AutoOrNumber::Share(f),
        }
        .write(s)
    }
}

impl<'de> Deserialize<'de> for MaxSamples {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match AutoOrNumber::read(d)? {
            AutoOrNumber::Text(t) => parse_auto(&t).map(|_| MaxSamples::Auto),
            AutoOrNumber::Count(n) => count_from_u64(n).map(MaxSamples::Count),
            AutoOrNumber::Share(f) => Ok(MaxSamples::Fraction(f)),
        }
    }
}

impl Serialize for Contamination {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match *self {
            Contamination::Auto => AutoOrNumber::Text("auto".into()),
            Contamination::Fraction(f) => AutoOrNumber::Share(f),
        }
        .write(s)
    }
}

impl<'de> Deserialize<'de> for Contamination {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match AutoOrNumber::read(d)? {
            AutoOrNumber::Text(t) => parse_auto(&t).map(|_| Contamination::Auto),
            // An integer share can only be 0, which validation in `fit` reports.
            AutoOrNumber::Count(n) => Ok(Contamination::Fraction(n as f64)),
            AutoOrNumber::Share(f) => Ok(Contamination::Fraction(f)),
        }
    }
}

impl Serialize for MaxFeatures {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match *self {
            MaxFeatures::Count(n) => AutoOrNumber::Count(n as u64),
            MaxFeatures::Fraction(f) => AutoOrNumber::Share(f),
        }
        .write(s)
    }
}

impl<'de> Deserialize<'de> for MaxFeatures {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match AutoOrNumber::read(d)? {
            AutoOrNumber::Text(t) => Err(serde::de::Error::custom(format!(
                "max_features must be a number, got {t:?}"
            ))),
            AutoOrNumber::Count(n) => count_from_u64(n).map(MaxFeatures::Count),
            AutoOrNumber::Share(f) => Ok(MaxFeatures::Fraction(f)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` points from a tight cluster around the origin plus a few far-away ones at the end.
    fn cluster_with_outliers(n: usize, d: usize, n_out: usize, seed: u64) -> Matrix {
        let mut rng = DetRng::new(seed);
        let mut data = Vec::with_capacity((n + n_out) * d);
        for _ in 0..n {
            data.extend((0..d).map(|_| rng.uniform(-1.0, 1.0)));
        }
        for _ in 0..n_out {
            data.extend((0..d).map(|_| rng.uniform(6.0, 9.0)));
        }
        Matrix::from_vec(n + n_out, d, data).unwrap()
    }

    fn forest(params: IsolationForestParams) -> IsolationForest {
        IsolationForest::new(params)
    }

    #[test]
    fn average_path_length_matches_hand_values() {
        assert_eq!(average_path_length(0.0), 0.0);
        assert_eq!(average_path_length(1.0), 0.0);
        assert_eq!(average_path_length(2.0), 1.0);
        let c3 = 2.0 * (2f64.ln() + 0.577_215_664_9) - 2.0 * 2.0 / 3.0;
        assert!((average_path_length(3.0) - c3).abs() < 1e-9);
        let c256 = 2.0 * (255f64.ln() + 0.577_215_664_9) - 2.0 * 255.0 / 256.0;
        assert!((average_path_length(256.0) - c256).abs() < 1e-9);
        // Grows like 2 ln n.
        assert!(average_path_length(1e6) > average_path_length(1e5));
    }

    #[test]
    fn max_depth_is_ceil_log2() {
        assert_eq!(max_depth_for(1), 1);
        assert_eq!(max_depth_for(2), 1);
        assert_eq!(max_depth_for(3), 2);
        assert_eq!(max_depth_for(4), 2);
        assert_eq!(max_depth_for(5), 3);
        assert_eq!(max_depth_for(256), 8);
        assert_eq!(max_depth_for(257), 9);
    }

    #[test]
    fn percentile_matches_numpy_linear() {
        // np.percentile([1, 2, 3, 4], q) for q = 0, 10, 50, 75, 100.
        let v = [4.0, 1.0, 3.0, 2.0];
        assert_eq!(percentile_linear(&v, 0.0), 1.0);
        assert!((percentile_linear(&v, 10.0) - 1.3).abs() < 1e-12);
        assert_eq!(percentile_linear(&v, 50.0), 2.5);
        assert_eq!(percentile_linear(&v, 75.0), 3.25);
        assert_eq!(percentile_linear(&v, 100.0), 4.0);
        assert_eq!(percentile_linear(&[7.0], 30.0), 7.0);
    }

    #[test]
    fn unfitted_and_bad_input_are_errors() {
        let mut f = forest(IsolationForestParams::default());
        let x = cluster_with_outliers(20, 3, 0, 1);
        assert_eq!(f.score_samples(&x), Err(ModelError::NotFitted));
        assert_eq!(f.predict(&x), Err(ModelError::NotFitted));
        assert_eq!(f.offset(), None);
        assert_eq!(f.path_lengths(&[0.0; 3]), Err(ModelError::NotFitted));
        assert_eq!(f.fit(&Matrix::zeros(0, 3)), Err(ModelError::EmptyInput));
        let mut bad = x.clone();
        bad.set(4, 2, f64::INFINITY);
        assert_eq!(
            f.fit(&bad),
            Err(ModelError::NonFiniteInput { row: 4, col: 2 })
        );
        f.fit(&x).unwrap();
        assert_eq!(
            f.score_samples(&Matrix::zeros(2, 4)),
            Err(ModelError::FeatureCountMismatch {
                expected: 3,
                found: 4
            })
        );
        assert_eq!(
            f.path_features(&[0.0, f64::NAN, 0.0]),
            Err(ModelError::NonFiniteInput { row: 0, col: 1 })
        );
    }

    #[test]
    fn invalid_parameters_are_rejected() {
        let x = cluster_with_outliers(30, 2, 0, 2);
        let cases = [
            IsolationForestParams {
                n_estimators: 0,
                ..Default::default()
            },
            IsolationForestParams {
                contamination: Contamination::Fraction(0.6),
                ..Default::default()
            },
            IsolationForestParams {
                max_samples: MaxSamples::Fraction(1.5),
                ..Default::default()
            },
            IsolationForestParams {
                max_features: MaxFeatures::Count(3),
                ..Default::default()
            },
        ];
        for params in cases {
            let mut f = forest(params);
            assert!(matches!(
                f.fit(&x),
                Err(ModelError::InvalidParameter { .. })
            ));
            assert!(!f.is_fitted());
        }
    }

    #[test]
    fn outliers_score_lower_and_scores_are_in_range() {
        let x = cluster_with_outliers(500, 4, 5, 3);
        let mut f = forest(IsolationForestParams::default());
        f.fit(&x).unwrap();
        assert_eq!(f.max_samples_used(), Some(256));
        let s = f.score_samples(&x).unwrap();
        assert!(s.iter().all(|&v| (-1.0..0.0).contains(&v)));
        let worst_inlier = s[..500].iter().cloned().fold(f64::INFINITY, f64::min);
        let best_outlier = s[500..].iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        assert!(
            best_outlier < worst_inlier,
            "{best_outlier} vs {worst_inlier}"
        );
        // contamination = auto: offset -0.5, predict follows decision_function's sign.
        assert_eq!(f.offset(), Some(-0.5));
        let d = f.decision_function(&x).unwrap();
        let p = f.predict(&x).unwrap();
        for i in 0..x.rows() {
            assert_eq!(d[i], s[i] + 0.5);
            assert_eq!(p[i], if d[i] < 0.0 { -1 } else { 1 });
        }
        assert!(p[500..].iter().all(|&v| v == -1));
    }

    #[test]
    fn contamination_flags_that_share_of_training_rows() {
        let x = cluster_with_outliers(995, 3, 5, 4);
        let mut f = forest(IsolationForestParams {
            contamination: Contamination::Fraction(0.1),
            ..Default::default()
        });
        f.fit(&x).unwrap();
        let flagged = f.predict(&x).unwrap().iter().filter(|&&v| v == -1).count();
        assert!((flagged as i64 - 100).abs() <= 1, "flagged {flagged}");
        let s = f.score_samples(&x).unwrap();
        assert_eq!(f.offset(), Some(percentile_linear(&s, 10.0)));
    }

    #[test]
    fn score_matches_mean_path_length_formula() {
        let x = cluster_with_outliers(300, 3, 3, 5);
        let mut f = forest(IsolationForestParams {
            n_estimators: 17,
            max_samples: MaxSamples::Count(64),
            ..Default::default()
        });
        f.fit(&x).unwrap();
        let s = f.score_samples(&x).unwrap();
        for i in [0, 150, 301] {
            let lengths = f.path_lengths(x.row(i)).unwrap();
            assert_eq!(lengths.len(), 17);
            // Every path is at most max_depth (6) splits plus c(leaf size <= 64).
            assert!(lengths
                .iter()
                .all(|&l| (0.0..=6.0 + average_path_length(64.0)).contains(&l)));
            let mean = lengths.iter().sum::<f64>() / 17.0;
            let expected = -(2f64.powf(-mean / average_path_length(64.0)));
            assert!((s[i] - expected).abs() < 1e-12);
            let paths = f.path_features(x.row(i)).unwrap();
            // Without duplicate rows a leaf holds >1 sample only at the depth limit.
            for (path, len) in paths.iter().zip(&lengths) {
                assert!(path.len() <= 6 && path.iter().all(|&c| c < 3));
                if path.len() < 6 {
                    assert_eq!(*len, path.len() as f64);
                }
            }
        }
    }

    #[test]
    fn perfect_layout_scores_bit_identically_to_the_node_walk() {
        // Shallow trees (leaves above the depth limit become pass-throughs), rows not a
        // multiple of the lane count, and a forest too deep for the perfect layout.
        // More than 256 columns also falls back to the node walk (`u8` feature slots).
        for (n, d, max_samples, perfect) in [
            (1000, 4, MaxSamples::Auto, true),
            (37, 4, MaxSamples::Auto, true),
            (300, 4, MaxSamples::Count(2), true),
            (3000, 4, MaxSamples::Count(3000), false),
            (90, 300, MaxSamples::Auto, false),
        ] {
            let x = cluster_with_outliers(n, d, 3, 11);
            let mut f = forest(IsolationForestParams {
                n_estimators: 20,
                max_samples,
                ..Default::default()
            });
            f.fit(&x).unwrap();
            let fitted = f.fitted.as_ref().unwrap();
            assert_eq!(fitted.perfect.is_some(), perfect);
            let fast = fitted.score_samples(&x);
            let mut walk_only = fitted.clone();
            walk_only.perfect = None;
            assert_eq!(fast, walk_only.score_samples(&x));
        }
    }

    #[test]
    fn node_samples_are_recovered_from_the_leaves() {
        let x = cluster_with_outliers(300, 4, 5, 9);
        let mut f = forest(IsolationForestParams {
            max_samples: MaxSamples::Count(200),
            ..Default::default()
        });
        f.fit(&x).unwrap();
        let fitted = f.fitted.as_ref().unwrap();
        for &root in &fitted.roots {
            // Every tree drew 200 rows; each split holds its children's rows.
            assert_eq!(fitted.samples[root as usize], 200);
        }
        for (i, node) in fitted.nodes.iter().enumerate() {
            assert!(fitted.samples[i] >= 1);
            if !node.is_leaf() {
                let (l, r) = (node.left as usize, node.right as usize);
                assert_eq!(fitted.samples[i], fitted.samples[l] + fitted.samples[r]);
            }
        }
        // A saved and reloaded forest recovers the same counts.
        let back: IsolationForest =
            serde_json::from_str(&serde_json::to_string(&f).unwrap()).unwrap();
        assert_eq!(back.fitted.unwrap().samples, fitted.samples);
    }

    #[test]
    fn explain_points_at_the_planted_column() {
        for (seed, k) in [(1u64, 0usize), (2, 3), (3, 5), (4, 2)] {
            let mut x = cluster_with_outliers(400, 6, 0, 20 + seed);
            // One row far out in column k only, ordinary elsewhere.
            x.set(17, k, 12.0);
            let mut f = forest(IsolationForestParams {
                random_state: seed,
                ..Default::default()
            });
            f.fit(&x).unwrap();
            let e = f.explain(x.row(17)).unwrap();
            assert_eq!(e.len(), 6);
            assert!((e.iter().sum::<f64>() - 1.0).abs() < 1e-12);
            assert!(e.iter().all(|&w| w >= 0.0));
            let top = (0..6).max_by(|&a, &b| e[a].total_cmp(&e[b])).unwrap();
            assert_eq!(top, k, "seed {seed}: {e:?}");
            // The isolating column carries a large share, not one among many (6 here).
            assert!(e[k] > 0.4, "seed {seed}: {e:?}");
            // An ordinary row spreads its attribution: no column dominates like that.
            let inlier = f.explain(x.row(3)).unwrap();
            assert!(inlier.iter().cloned().fold(0.0, f64::max) < e[k]);
        }
        let mut f = forest(IsolationForestParams::default());
        assert_eq!(f.explain(&[0.0; 2]), Err(ModelError::NotFitted));
        f.fit(&Matrix::from_vec(10, 2, vec![1.0; 20]).unwrap())
            .unwrap();
        assert_eq!(f.explain(&[1.0, 1.0]).unwrap(), vec![0.0, 0.0]);
        assert_eq!(
            f.explain(&[1.0, f64::NAN]),
            Err(ModelError::NonFiniteInput { row: 0, col: 1 })
        );
    }

    #[test]
    fn paths_follow_thresholds() {
        let x = cluster_with_outliers(100, 2, 0, 6);
        let mut f = forest(IsolationForestParams {
            n_estimators: 5,
            ..Default::default()
        });
        f.fit(&x).unwrap();
        let row = x.row(7);
        let mut last_tree = 0;
        let mut expected_depth = 0;
        f.visit_path(row, &mut |step| {
            if step.tree != last_tree {
                last_tree = step.tree;
                expected_depth = 0;
            }
            assert_eq!(step.depth, expected_depth);
            assert_eq!(step.went_left, row[step.feature] <= step.threshold);
            expected_depth += 1;
        })
        .unwrap();
        assert_eq!(last_tree, 4);
    }

    #[test]
    fn degenerate_inputs_give_finite_scores() {
        // One row: c(1) = 0, scikit-learn defines the score as -0.5.
        let one = Matrix::from_rows(&[vec![1.0, 2.0]]).unwrap();
        let mut f = forest(IsolationForestParams::default());
        f.fit(&one).unwrap();
        assert_eq!(f.score_samples(&one).unwrap(), vec![-0.5]);

        // Constant columns are never split on; all-constant data gives single-leaf trees.
        let constant = Matrix::from_vec(50, 3, vec![4.0; 150]).unwrap();
        f.fit(&constant).unwrap();
        assert!(f
            .path_features(&[4.0; 3])
            .unwrap()
            .iter()
            .all(Vec::is_empty));
        // Root leaf with 50 samples: path length c(50) = normaliser, so score = -2^-1.
        let s = f.score_samples(&constant).unwrap();
        assert!(s.iter().all(|&v| (v + 0.5).abs() < 1e-12));

        let mut mixed = cluster_with_outliers(40, 3, 0, 7);
        for i in 0..40 {
            mixed.set(i, 1, 3.0);
        }
        let mut f = forest(IsolationForestParams {
            max_samples: MaxSamples::Count(1000), // clamped to n
            contamination: Contamination::Fraction(0.5),
            ..Default::default()
        });
        f.fit(&mixed).unwrap();
        assert_eq!(f.max_samples_used(), Some(40));
        for i in 0..40 {
            let paths = f.path_features(mixed.row(i)).unwrap();
            assert!(paths.iter().flatten().all(|&c| c != 1));
        }
        assert!(f
            .score_samples(&mixed)
            .unwrap()
            .iter()
            .all(|v| v.is_finite()));
    }

    #[test]
    fn non_finite_inputs_are_typed_errors_everywhere() {
        let x = cluster_with_outliers(50, 3, 2, 13);
        let mut f = forest(IsolationForestParams::default());
        f.fit(&x).unwrap();
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let mut y = x.clone();
            y.set(7, 2, bad);
            let want = Err(ModelError::NonFiniteInput { row: 7, col: 2 });
            assert_eq!(f.score_samples(&y).map(|_| ()), want);
            assert_eq!(f.decision_function(&y).map(|_| ()), want);
            assert_eq!(f.predict(&y).map(|_| ()), want);
            assert_eq!(f.clone().fit(&y), want);
            assert_eq!(
                f.explain(y.row(7)),
                Err(ModelError::NonFiniteInput { row: 0, col: 2 })
            );
        }
    }

    #[test]
    fn a_one_row_forest_scores_any_row_and_few_rows_clamp_max_samples() {
        let one = Matrix::from_rows(&[vec![1.0, -2.0, 3.0]]).unwrap();
        let mut f = forest(IsolationForestParams {
            contamination: Contamination::Fraction(0.1),
            ..Default::default()
        });
        f.fit(&one).unwrap();
        assert_eq!(f.max_samples_used(), Some(1));
        let other = cluster_with_outliers(20, 3, 2, 14);
        let s = f.score_samples(&other).unwrap();
        // A single sample gives c(1) = 0: every row scores scikit-learn's -0.5.
        assert!(s.iter().all(|&v| v == -0.5));
        assert_eq!(f.offset(), Some(-0.5));
        // 5 rows with max_samples 256 (auto) and an explicit 100: both use all 5 rows.
        let few = cluster_with_outliers(5, 3, 0, 15);
        for max_samples in [MaxSamples::Auto, MaxSamples::Count(100)] {
            let mut f = forest(IsolationForestParams {
                max_samples,
                ..Default::default()
            });
            f.fit(&few).unwrap();
            assert_eq!(f.max_samples_used(), Some(5));
            let s = f.score_samples(&few).unwrap();
            assert!(s.iter().all(|v| v.is_finite() && (-1.0..0.0).contains(v)));
        }
    }

    #[test]
    fn extreme_magnitudes_give_finite_scores() {
        // Values near f64::MAX with both signs: `hi - lo` overflows to infinity, so a naive
        // uniform threshold would be inf or NaN.
        let mut rng = DetRng::new(12);
        let huge: Vec<f64> = (0..200 * 2)
            .map(|_| rng.uniform(-1.0, 1.0) * f64::MAX)
            .collect();
        // Spreads far below scikit-learn's 1e-7 constant-feature threshold: never split.
        let tiny: Vec<f64> = (0..200 * 2).map(|_| rng.uniform(0.0, 1e-300)).collect();
        for data in [huge, tiny] {
            let x = Matrix::from_vec(200, 2, data).unwrap();
            let mut f = forest(IsolationForestParams {
                contamination: Contamination::Fraction(0.1),
                ..Default::default()
            });
            f.fit(&x).unwrap();
            let s = f.score_samples(&x).unwrap();
            assert!(s.iter().all(|v| v.is_finite() && (-1.0..0.0).contains(v)));
            assert!(f.offset().unwrap().is_finite());
            let e = f.explain(x.row(0)).unwrap();
            assert!(e.iter().all(|v| v.is_finite()));
        }
    }

    #[test]
    fn feature_subsampling_and_bootstrap() {
        let x = cluster_with_outliers(200, 6, 4, 8);
        let mut f = forest(IsolationForestParams {
            max_features: MaxFeatures::Fraction(0.5),
            bootstrap: true,
            n_estimators: 30,
            ..Default::default()
        });
        f.fit(&x).unwrap();
        // Each tree splits on at most 3 distinct columns.
        for path in f.path_features(x.row(0)).unwrap() {
            let mut cols = path.clone();
            cols.sort_unstable();
            cols.dedup();
            assert!(cols.len() <= 3);
        }
        let s = f.score_samples(&x).unwrap();
        let inlier_mean = s[..200].iter().sum::<f64>() / 200.0;
        assert!(s[200..].iter().all(|&v| v < inlier_mean));
    }

    #[test]
    fn same_seed_same_forest_and_different_seed_differs() {
        let x = cluster_with_outliers(300, 3, 3, 9);
        let fit = |seed| {
            let mut f = forest(IsolationForestParams {
                random_state: seed,
                ..Default::default()
            });
            f.fit(&x).unwrap();
            f.score_samples(&x).unwrap()
        };
        assert_eq!(fit(1), fit(1));
        assert_ne!(fit(1), fit(2));
    }

    #[test]
    fn params_and_fitted_model_round_trip_through_json() {
        let params = IsolationForestParams {
            max_samples: MaxSamples::Fraction(0.5),
            contamination: Contamination::Fraction(0.1),
            max_features: MaxFeatures::Count(2),
            ..Default::default()
        };
        let json = serde_json::to_value(&params).unwrap();
        assert_eq!(json["max_samples"], serde_json::json!(0.5));
        assert_eq!(json["max_features"], serde_json::json!(2));
        assert_eq!(
            serde_json::from_value::<IsolationForestParams>(json).unwrap(),
            params
        );

        let defaults = serde_json::to_value(IsolationForestParams::default()).unwrap();
        assert_eq!(defaults["max_samples"], serde_json::json!("auto"));
        assert_eq!(defaults["contamination"], serde_json::json!("auto"));
        assert_eq!(defaults["max_features"], serde_json::json!(1.0));
        assert_eq!(
            serde_json::from_value::<IsolationForestParams>(defaults).unwrap(),
            IsolationForestParams::default()
        );

        let partial: IsolationForestParams =
            serde_json::from_str(r#"{"max_samples": 128, "max_features": 1.0}"#).unwrap();
        assert_eq!(partial.max_samples, MaxSamples::Count(128));
        assert_eq!(partial.max_features, MaxFeatures::Fraction(1.0));
        assert_eq!(partial.n_estimators, 100);
        assert!(
            serde_json::from_str::<IsolationForestParams>(r#"{"max_samples": "many"}"#).is_err()
        );

        let x = cluster_with_outliers(100, 3, 2, 10);
        let mut f = forest(params);
        f.fit(&x).unwrap();
        let text = serde_json::to_string(&f).unwrap();
        let back: IsolationForest = serde_json::from_str(&text).unwrap();
        // Bit-exact thanks to serde_json's `float_roundtrip` feature (without it a float can
        // come back 1 ulp off).
        assert_eq!(back, f);
        assert_eq!(
            back.score_samples(&x).unwrap(),
            f.score_samples(&x).unwrap()
        );

        // Corrupt structure is a deserialisation error, not a hang or a panic later.
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        for (field, bad) in [("left", 0), ("right", 1 << 30)] {
            let mut v = value.clone();
            v["fitted"]["nodes"][0][field] = serde_json::json!(bad);
            assert!(serde_json::from_value::<IsolationForest>(v).is_err());
        }
        let unfitted = serde_json::to_string(&forest(IsolationForestParams::default())).unwrap();
        let unfitted: IsolationForest = serde_json::from_str(&unfitted).unwrap();
        assert!(!unfitted.is_fitted());
    }
}
