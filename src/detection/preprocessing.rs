//! Flows to model input, as learned on a run's training rows: which feature columns the
//! models use, the destination-port frequencies, the medians that fill missing values and the
//! standardisation. A run learns it once (`dataset`); a saved model carries it
//! (`detector_model`) so that another day's traffic is turned into exactly the input the
//! models were trained on.
//!
//! Not responsible for choosing the training rows or for fitting the models.

use crate::detection::features::{self, FeatureColumn, FeatureConfig, PortFrequency, Scale};
use crate::detection::scaler::StandardScaler;
use crate::traffic::flow::FlowRecord;
use crate::util::matrix::Matrix;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Preprocessing {
    pub features: FeatureConfig,
    pub ports: PortFrequency,
    /// The models' input columns, in order: built-in features and imported numeric columns.
    pub columns: Vec<FeatureColumn>,
    /// Per column, the training median on the stored scale: what a missing value becomes.
    pub fill: Vec<f64>,
    pub scaler: StandardScaler,
}

/// Extra numeric columns of an imported file, by name, one row per flow (NaN = missing).
pub struct ExtraColumns<'a> {
    pub names: &'a [String],
    pub row: &'a dyn Fn(usize) -> &'a [f64],
}

/// Where one model column's values come from in a file.
enum ColumnSource {
    Builtin(usize),
    Extra(usize),
    Missing,
}

/// Where each model column's value comes from for one file's columns (see
/// [`Preprocessing::column_map`]): worked out once per file, used per flow.
pub struct ColumnMap {
    sources: Vec<ColumnSource>,
}

impl Preprocessing {
    /// The model columns (by name) that `extras` lacks: they become their training medians.
    pub fn missing_columns(&self, extras: Option<&ExtraColumns<'_>>) -> Vec<String> {
        let sources = self.sources(extras.map(|e| e.names));
        self.columns
            .iter()
            .zip(&sources)
            .filter(|(_, s)| matches!(s, ColumnSource::Missing))
            .map(|(c, _)| c.name.clone())
            .collect()
    }

    fn sources(&self, extra_names: Option<&[String]>) -> Vec<ColumnSource> {
        let builtin = features::builtin_columns();
        self.columns
            .iter()
            .map(|c| {
                let as_builtin = (c.scale != Scale::SignedLog)
                    .then(|| builtin.iter().position(|b| b.name == c.name))
                    .flatten();
                match as_builtin {
                    Some(j) => ColumnSource::Builtin(j),
                    None => extra_names
                        .and_then(|names| names.iter().position(|n| *n == c.name))
                        .map_or(ColumnSource::Missing, ColumnSource::Extra),
                }
            })
            .collect()
    }

    /// The model columns of `flows` on their stored scale, gaps filled with the training
    /// medians (the matrix a run's explanations read).
    pub fn raw_features(
        &self,
        flows: &[FlowRecord],
        extras: Option<&ExtraColumns<'_>>,
        on_progress: &mut dyn FnMut(f64),
    ) -> Matrix {
        let base = features::extract_with_progress(flows, &self.ports, &self.features, on_progress);
        let map = self.column_map(extras.map(|e| e.names));
        let mut x = Matrix::zeros(flows.len(), self.columns.len());
        for i in 0..flows.len() {
            let extra = extras.map_or(&[][..], |e| (e.row)(i));
            self.model_row(&map, base.row(i), extra, x.row_mut(i));
        }
        x
    }

    /// Where the model's columns come from in a file whose extra numeric columns are
    /// `extra_names` (`None`: built-in features only).
    pub fn column_map(&self, extra_names: Option<&[String]>) -> ColumnMap {
        ColumnMap {
            sources: self.sources(extra_names),
        }
    }

    /// One flow's model columns on their stored scale, gaps filled with the training medians:
    /// `builtin` is its [`features::FEATURES`] row, `extra` its extra values in the order of
    /// the names `map` was made for; `out` has one value per model column.
    pub fn model_row(&self, map: &ColumnMap, builtin: &[f64], extra: &[f64], out: &mut [f64]) {
        for ((slot, source), &fill) in out.iter_mut().zip(&map.sources).zip(&self.fill) {
            let v = match *source {
                ColumnSource::Builtin(j) => builtin.get(j).copied().unwrap_or(f64::NAN),
                ColumnSource::Extra(p) => extra
                    .get(p)
                    .copied()
                    .filter(|v| v.is_finite())
                    .map_or(f64::NAN, FeatureColumn::signed_log),
                ColumnSource::Missing => f64::NAN,
            };
            *slot = if v.is_finite() { v } else { fill };
        }
    }

    /// Standardised model input from [`Preprocessing::raw_features`]'s output.
    pub fn standardise(&self, x_raw: &Matrix) -> Matrix {
        self.scaler.transform(x_raw)
    }

    /// Checks that the parts agree on the number of columns and hold usable numbers; the
    /// reason, in words, otherwise.
    pub fn check(&self) -> Result<(), String> {
        let d = self.columns.len();
        if d == 0 {
            return Err("the model uses no feature column".into());
        }
        for (what, len) in [
            ("fill values", self.fill.len()),
            ("scaler means", self.scaler.mean.len()),
            ("scaler scales", self.scaler.scale.len()),
        ] {
            if len != d {
                return Err(format!("{d} feature columns but {len} {what}"));
            }
        }
        if !self
            .fill
            .iter()
            .chain(&self.scaler.mean)
            .all(|v| v.is_finite())
        {
            return Err("a fill value or scaler mean is not a finite number".into());
        }
        if !self.scaler.scale.iter().all(|&s| s.is_finite() && s > 0.0) {
            return Err("a scaler scale is not a positive finite number".into());
        }
        if !(self.features.window_s.is_finite() && self.features.window_s > 0.0) {
            return Err(format!(
                "feature window {} s is not a positive duration",
                self.features.window_s
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::traffic::generator::{self, GeneratorConfig};

    fn small_flows() -> Vec<FlowRecord> {
        let config = GeneratorConfig {
            duration_s: 600.0,
            hosts: 10,
            attacks: GeneratorConfig::default_attacks(600.0),
            ..GeneratorConfig::default()
        };
        generator::generate(&config)
            .expect("default scenario")
            .flows
    }

    fn fitted(flows: &[FlowRecord]) -> Preprocessing {
        let ports = PortFrequency::fit(flows);
        let x = features::extract(flows, &ports, &FeatureConfig::default());
        Preprocessing {
            features: FeatureConfig::default(),
            ports,
            columns: features::builtin_columns(),
            fill: vec![0.0; x.cols()],
            scaler: StandardScaler::fit(&x).expect("rows"),
        }
    }

    #[test]
    fn builtin_columns_reproduce_the_extracted_features() {
        let flows = small_flows();
        let p = fitted(&flows);
        let direct = features::extract(&flows, &p.ports, &p.features);
        let via = p.raw_features(&flows, None, &mut |_| {});
        assert_eq!(direct, via);
        assert!(p.missing_columns(None).is_empty());
    }

    #[test]
    fn columns_are_found_by_name_in_any_order_and_missing_ones_are_filled() {
        let flows = small_flows();
        let mut p = fitted(&flows);
        let builtin = p.columns.len();
        p.columns.push(FeatureColumn::imported("Flow IAT Mean"));
        p.columns.push(FeatureColumn::imported("absent"));
        p.fill.extend([1.5, -2.5]);
        p.scaler.mean.extend([0.0, 0.0]);
        p.scaler.scale.extend([1.0, 1.0]);
        assert_eq!(p.check(), Ok(()));
        let names = vec!["other".to_string(), "Flow IAT Mean".to_string()];
        let values: Vec<f64> = (0..flows.len())
            .flat_map(|i| [7.0, if i % 2 == 0 { 99.0 } else { f64::NAN }])
            .collect();
        let row = |i: usize| &values[2 * i..2 * i + 2];
        let extras = ExtraColumns {
            names: &names,
            row: &row,
        };
        assert_eq!(p.missing_columns(Some(&extras)), vec!["absent".to_string()]);
        let x = p.raw_features(&flows, Some(&extras), &mut |_| {});
        assert_eq!(x.get(0, builtin), FeatureColumn::signed_log(99.0));
        assert_eq!(x.get(1, builtin), 1.5, "NaN cell takes the training median");
        assert_eq!(
            x.get(0, builtin + 1),
            -2.5,
            "absent column takes its median"
        );
    }

    #[test]
    fn check_names_what_disagrees() {
        let flows = small_flows();
        let mut p = fitted(&flows);
        p.fill.pop();
        assert!(p.check().unwrap_err().contains("fill values"));
        let mut p = fitted(&flows);
        p.scaler.scale[3] = 0.0;
        assert!(p.check().unwrap_err().contains("scale"));
    }
}
