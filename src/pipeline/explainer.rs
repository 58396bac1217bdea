//! Why a flow is flagged: each model's top three features whose value lies outside the
//! training's typical range, with the flow's value against the training median, and the
//! anomaly rows the report lists. Not the place for scoring.

use super::run_output::ScoredRun;
use crate::detection::features::FeatureColumn;
use crate::detection::models::isolation_forest::IsolationForest;
use crate::detection::models::mlp::MlpRegressor;
use crate::findings::incidents::DetectedIncident;
use crate::findings::metrics;
use crate::output::report::{Anomaly, FeatureContribution, Scores};
use crate::util::index_sort;
use crate::util::matrix::Matrix;
use crate::util::quantile;
use std::collections::BTreeMap;

/// The fitted models and feature matrices a run keeps, so that anomalies can be listed and
/// explained again at another threshold without retraining.
#[derive(Debug, Clone)]
pub struct Explainer {
    pub forest: IsolationForest,
    pub mlp: MlpRegressor,
    pub columns: Vec<FeatureColumn>,
    /// Standardised features (model input) and stored-scale features, every row.
    pub x: Matrix,
    pub x_raw: Matrix,
    /// Training medians in natural units.
    pub medians: Vec<f64>,
    /// Per column, the typical range ([`TYPICAL_RANGE`] quantiles of the reference rows) in
    /// stored units; see [`typical_ranges`].
    pub typical: Vec<(f64, f64)>,
}

/// The quantiles that bound a column's typical range: a value between them is ordinary for
/// the traffic the models learned, so it is never given as a reason.
pub const TYPICAL_RANGE: (f64, f64) = (0.05, 0.95);

/// At most this many reference rows set the typical ranges (evenly spaced), so that a
/// million-flow run spends milliseconds here.
pub const TYPICAL_RANGE_MAX_ROWS: usize = 20_000;

/// Each column's typical range over `rows` of `x_raw` (stored units): the training rows of a
/// run, or, when a saved model brings no training rows, the scored ones. Evenly spaced rows
/// stand for them beyond [`TYPICAL_RANGE_MAX_ROWS`]. An empty `rows` gives unbounded ranges
/// (nothing is ruled out).
pub fn typical_ranges(x_raw: &Matrix, rows: std::ops::Range<usize>) -> Vec<(f64, f64)> {
    let rows = rows.start.min(x_raw.rows())..rows.end.min(x_raw.rows());
    let n = rows.len();
    let step = n.div_ceil(TYPICAL_RANGE_MAX_ROWS).max(1);
    let mut column = Vec::with_capacity(n.min(TYPICAL_RANGE_MAX_ROWS));
    (0..x_raw.cols())
        .map(|j| {
            column.clear();
            column.extend(
                rows.clone()
                    .step_by(step)
                    .map(|i| x_raw.get(i, j))
                    .filter(|v| !v.is_nan()),
            );
            if column.is_empty() {
                return (f64::NEG_INFINITY, f64::INFINITY);
            }
            let lo = quantile::quantile_in_place(&mut column, TYPICAL_RANGE.0);
            let hi = quantile::quantile_in_place(&mut column, TYPICAL_RANGE.1);
            (lo, hi)
        })
        .collect()
}

/// A feature is named as a reason only when the flow's value is at least this many training
/// standard deviations from the training mean and outside the column's typical range:
/// "distinct hosts 9 (typical 8)" is not a reason an analyst would accept, whatever share of
/// a model's error it carries.
pub const MIN_REASON_DEVIATION: f64 = 1.0;

/// Top contributions from per-feature weights (squared errors or path attributions): the
/// three heaviest features whose value deviates (see [`MIN_REASON_DEVIATION`] and
/// [`TYPICAL_RANGE`]); fewer, or none, when fewer deviate.
fn top_contributions(
    weights: &[f64],
    explainer: &Explainer,
    row: usize,
) -> Vec<FeatureContribution> {
    let total: f64 = weights.iter().filter(|w| w.is_finite()).sum();
    let mut order: Vec<usize> = (0..weights.len().min(explainer.columns.len())).collect();
    index_sort::sort_indices_by(&mut order, &mut |a, b| {
        weights[b].total_cmp(&weights[a]).then(a.cmp(&b))
    });
    let raw = explainer.x_raw.row(row);
    let standardised = explainer.x.row(row);
    order
        .into_iter()
        .filter(|&j| {
            let (lo, hi) = explainer
                .typical
                .get(j)
                .copied()
                .unwrap_or((f64::NEG_INFINITY, f64::INFINITY));
            weights[j] > 0.0
                && standardised[j].abs() >= MIN_REASON_DEVIATION
                && (raw[j] < lo || raw[j] > hi)
        })
        .take(3)
        .map(|j| {
            let column = &explainer.columns[j];
            FeatureContribution {
                feature: column.name.clone(),
                description: column.description.clone(),
                value: column.natural_value(raw[j]),
                typical: explainer.medians[j],
                share: if total > 0.0 { weights[j] / total } else { 0.0 },
            }
        })
        .collect()
}

impl Explainer {
    /// The autoencoder's view: the features it reconstructed worst.
    pub fn autoencoder(&self, row: usize) -> Vec<FeatureContribution> {
        match self.mlp.per_feature_squared_errors(self.x.row(row)) {
            Ok(errors) => top_contributions(&errors, self, row),
            Err(_) => Vec::new(),
        }
    }

    /// The forest's view: the features whose splits isolated the flow early.
    pub fn forest(&self, row: usize) -> Option<Vec<FeatureContribution>> {
        self.forest
            .explain(self.x.row(row))
            .ok()
            .map(|w| top_contributions(&w, self, row))
    }

    /// The listed anomalies for `flagged` rows: every one, or the `max` highest-scoring.
    pub fn anomalies(
        &self,
        scored: &ScoredRun,
        flagged: &[usize],
        incidents: &[DetectedIncident],
        max: usize,
    ) -> (Vec<Anomaly>, bool) {
        let mut incident_of: BTreeMap<usize, u32> = BTreeMap::new();
        for inc in incidents {
            for &row in &inc.flows {
                incident_of.insert(row as usize, inc.id);
            }
        }
        let ensemble = &scored.ensemble;
        let mut rows = flagged.to_vec();
        let truncated = rows.len() > max;
        if truncated {
            index_sort::sort_indices_by(&mut rows, &mut |a, b| {
                ensemble[b].total_cmp(&ensemble[a]).then(a.cmp(&b))
            });
            rows.truncate(max);
            rows.sort_unstable();
        }
        let anomalies = rows
            .iter()
            .map(|&i| {
                let f = &scored.flows[i];
                Anomaly {
                    index: i as u64,
                    ts: f.ts,
                    src_ip: f.src_ip,
                    src_port: f.src_port,
                    dst_ip: f.dst_ip,
                    dst_port: f.dst_port,
                    proto: f.proto,
                    service: f.service,
                    duration_s: f.duration_s,
                    bytes_out: f.bytes_out,
                    bytes_in: f.bytes_in,
                    pkts_out: f.pkts_out,
                    pkts_in: f.pkts_in,
                    conn_state: f.conn_state,
                    history: f.history,
                    scores: Scores {
                        isolation_forest: scored.isolation_forest[i],
                        mlp: scored.mlp[i],
                        ensemble: ensemble[i],
                    },
                    label: scored.ground_truth.name(i).to_string(),
                    incident_id: metrics::truth_incident(f, &scored.truth),
                    detected_incident: incident_of.get(&i).copied(),
                    explanation: self.autoencoder(i),
                    isolation_forest_explanation: self.forest(i),
                }
            })
            .collect();
        (anomalies, truncated)
    }
}
