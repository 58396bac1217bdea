//! What the models see: flows, their ground truth, the training split and the feature matrix,
//! built from generated traffic or from an imported file (optionally with a known-good
//! baseline to train on).
//!
//! Generated and imported runs differ only here; fitting, scoring, thresholds and the report
//! (`detection`) treat both alike. Not responsible for parsing files (`import`) or for fitting.

use super::detectors;
use super::error::DetectionError;
use crate::detection::behaviour::BehaviourDetection;
use crate::detection::features::{self, FeatureColumn, PortFrequency};
use crate::detection::preprocessing::{ExtraColumns, Preprocessing};
use crate::detection::run_config::{DetectionConfig, RunConfig, TrainingPolicy};
use crate::detection::scaler::StandardScaler;
use crate::findings::ground_truth::GroundTruth;
use crate::output::report::{ImportSummary, SourceKind, TrafficSource};
use crate::traffic::flow::FlowRecord;
use crate::traffic::generator::{Incident, Traffic};
use crate::traffic::import::{ImportWarning, ImportedTraffic};
use crate::util::matrix::Matrix;
use crate::util::quantile;
use std::ops::Range;

/// Skipped records listed in a report's import summary (all are counted).
const SKIPPED_LISTED: usize = 20;
/// A training window of fewer flows than this (a file of under about 130 flows at the
/// default 25 %) is too small to learn from: the models train on the whole file instead.
pub const MIN_TRAINING_WINDOW: usize = 32;

/// An imported file (and optional baseline) with the names the report shows.
#[derive(Debug, Clone)]
pub struct ImportInput {
    pub traffic: ImportedTraffic,
    pub file_name: String,
    /// Known-good traffic to train on, scored separately from `traffic`.
    pub baseline: Option<(ImportedTraffic, String)>,
}

#[derive(Debug, Clone)]
pub struct Dataset {
    /// Training baseline rows first (when there is a baseline), then the scored traffic; each
    /// part in time order.
    pub flows: Vec<FlowRecord>,
    /// The generator's injected attacks (empty for imported traffic).
    pub truth: Vec<Incident>,
    pub ground_truth: GroundTruth,
    /// Rows `0..n_train` are the training part; all of them but `held_out` are trained on.
    pub n_train: usize,
    /// Training rows a behavioural detection covers, left out of training (ascending).
    pub held_out: Vec<usize>,
    /// Behavioural detections in the scored traffic (rows `plot_start..`).
    pub detections: Vec<BehaviourDetection>,
    /// The training check's messages (see `training_check`).
    pub training_warnings: Vec<String>,
    /// Whether the behavioural detectors ran (off, or an input they cannot read).
    pub detectors_ran: bool,
    /// Rows the metrics, anomalies and incidents cover.
    pub eval: Range<usize>,
    /// Rows the charts show (a baseline from another day would distort the time axis).
    pub plot_start: usize,
    pub training_end_ts: f64,
    pub evaluated_duration_s: f64,
    pub evaluated_on: String,
    pub columns: Vec<FeatureColumn>,
    /// Features on their stored scale (see `FeatureColumn::natural_value`).
    pub x_raw: Matrix,
    /// `x_raw` standardised with the training rows' statistics.
    pub x: Matrix,
    pub source: TrafficSource,
    /// How `x` was made from the flows (learned on the training rows, or a saved model's).
    pub preprocessing: Preprocessing,
}

fn standardise(
    x_raw: &Matrix,
    train: &[usize],
    flows: usize,
) -> Result<(StandardScaler, Matrix), DetectionError> {
    let scaler = StandardScaler::fit(&x_raw.select_rows(train))
        .ok_or(DetectionError::NoTrainingData { flows })?;
    let x = scaler.transform(x_raw);
    Ok((scaler, x))
}

/// Each column's median over the training rows' finite values (0 where there are none).
fn training_fill(x_raw: &Matrix, train: &[usize]) -> Vec<f64> {
    (0..x_raw.cols())
        .map(|j| median_or_zero(&finite_training_values(x_raw, train, j)))
        .collect()
}

/// Column `j`'s finite values over the training rows.
fn finite_training_values(x_raw: &Matrix, train: &[usize], j: usize) -> Vec<f64> {
    train
        .iter()
        .filter(|&&i| i < x_raw.rows())
        .map(|&i| x_raw.get(i, j))
        .filter(|v| v.is_finite())
        .collect()
}

fn median_or_zero(values: &[f64]) -> f64 {
    quantile::quantile(values, 0.5).unwrap_or(0.0)
}

/// Generated traffic: the training window is the first `train_fraction` of the run's time.
pub fn from_generated(
    config: &RunConfig,
    traffic: Traffic,
    on_progress: &mut dyn FnMut(f64),
) -> Result<Dataset, DetectionError> {
    let d = &config.detection;
    let flows = traffic.flows;
    let n = flows.len();
    let training_end_ts = match d.training {
        TrainingPolicy::InitialWindow => {
            config.generator.start_ts + d.train_fraction * config.generator.duration_s
        }
        TrainingPolicy::AllData => f64::INFINITY,
    };
    let n_train = flows.partition_point(|f| f.ts < training_end_ts);
    if n_train == 0 {
        return Err(DetectionError::NoTrainingData { flows: n });
    }
    let (eval, evaluated_duration_s, evaluated_on) = match d.training {
        TrainingPolicy::InitialWindow => (
            n_train..n,
            config.generator.duration_s * (1.0 - d.train_fraction),
            format!(
                "flows after the training window (first {:.0}% of the run)",
                d.train_fraction * 100.0
            ),
        ),
        TrainingPolicy::AllData => (
            0..n,
            config.generator.duration_s,
            "all flows (the models were trained on all of them)".to_string(),
        ),
    };
    let found = detectors::find(&flows, 0, n_train, d);
    let train = detectors::training_rows(n_train, &found.held_out);
    let ports = PortFrequency::fit(train.iter().map(|&i| &flows[i]));
    let x_raw = features::extract_with_progress(&flows, &ports, &d.features, on_progress);
    let (scaler, x) = standardise(&x_raw, &train, n)?;
    let preprocessing = Preprocessing {
        features: d.features.clone(),
        ports,
        columns: features::builtin_columns(),
        fill: training_fill(&x_raw, &train),
        scaler,
    };
    let last_ts = flows.last().map_or(config.generator.start_ts, |f| f.ts);
    Ok(Dataset {
        ground_truth: GroundTruth::from_generated(&flows),
        truth: traffic.incidents,
        flows,
        n_train,
        held_out: found.held_out,
        detectors_ran: found.ran,
        detections: found.detections,
        training_warnings: found.warnings,
        eval,
        plot_start: 0,
        training_end_ts: training_end_ts.min(last_ts),
        evaluated_duration_s,
        evaluated_on,
        columns: features::builtin_columns(),
        x_raw,
        x,
        source: TrafficSource {
            kind: SourceKind::Generated,
            labelled: true,
            training: match d.training {
                TrainingPolicy::InitialWindow => format!(
                    "the first {:.0}% of the run's time",
                    d.train_fraction * 100.0
                ),
                TrainingPolicy::AllData => "all flows".to_string(),
            },
            import: None,
            baseline: None,
        },
        preprocessing,
    })
}

pub fn import_summary(traffic: &ImportedTraffic, file_name: &str) -> ImportSummary {
    ImportSummary {
        file_name: file_name.to_string(),
        format: traffic.format.as_str().to_string(),
        bytes_read: traffic.bytes_read,
        flows: traffic.flows.len() as u64,
        skipped_count: traffic.skipped_count,
        skipped: traffic
            .skipped
            .iter()
            .take(SKIPPED_LISTED)
            .map(|s| format!("{}: {}", s.location, s.reason))
            .collect(),
        warnings: traffic.warnings.iter().map(|w| w.to_string()).collect(),
        synthesized_addresses: traffic
            .warnings
            .contains(&ImportWarning::SynthesizedAddresses),
        synthesized_timestamps: traffic
            .warnings
            .contains(&ImportWarning::SynthesizedTimestamps),
    }
}

/// The built-in features of `traffic` followed by the extra columns named in `extras`
/// (`NaN` where the file lacks one), on their stored scales.
fn imported_features(
    traffic: &ImportedTraffic,
    ports: &PortFrequency,
    config: &RunConfig,
    extras: &[String],
    on_progress: &mut dyn FnMut(f64),
) -> Matrix {
    let base = features::extract_with_progress(
        &traffic.flows,
        ports,
        &config.detection.features,
        on_progress,
    );
    let width = base.cols() + extras.len();
    let positions: Vec<Option<usize>> = extras
        .iter()
        .map(|name| traffic.extra_columns.iter().position(|c| c == name))
        .collect();
    let mut x = Matrix::zeros(traffic.flows.len(), width);
    for i in 0..traffic.flows.len() {
        let extra = traffic.extra_row(i);
        let row = x.row_mut(i);
        row[..base.cols()].copy_from_slice(base.row(i));
        for (k, pos) in positions.iter().enumerate() {
            let v = pos.and_then(|p| extra.get(p)).copied().unwrap_or(f64::NAN);
            row[base.cols() + k] = if v.is_finite() {
                FeatureColumn::signed_log(v)
            } else {
                f64::NAN
            };
        }
    }
    x
}

/// Imported traffic: trained on the baseline when there is one, else on the first
/// `train_fraction` of the flows in time order (or on all of them).
pub fn from_imported(
    config: &RunConfig,
    input: ImportInput,
    on_progress: &mut dyn FnMut(f64),
) -> Result<Dataset, DetectionError> {
    let d = &config.detection;
    let ImportInput {
        traffic,
        file_name,
        baseline,
    } = input;
    let import = import_summary(&traffic, &file_name);
    // Extra columns both files carry (all of the traffic's without a baseline).
    let extras: Vec<String> = traffic
        .extra_columns
        .iter()
        .filter(|c| {
            baseline
                .as_ref()
                .is_none_or(|(b, _)| b.extra_columns.contains(c))
        })
        .cloned()
        .collect();
    let (flows, ground_truth, n_train, eval, x_raw, ports, training, baseline_summary, found) =
        match baseline {
            Some((base, base_name)) => {
                let (nb, nt) = (base.flows.len(), traffic.flows.len());
                let mut flows = base.flows.clone();
                flows.extend_from_slice(&traffic.flows);
                let found = match detectors::unsupported_input(&base.warnings)
                    .or(detectors::unsupported_input(&traffic.warnings))
                {
                    Some(reason) => detectors::not_run(reason),
                    None => detectors::find(&flows, nb, nb, d),
                };
                let train = detectors::training_rows(nb, &found.held_out);
                let ports = PortFrequency::fit(train.iter().map(|&i| &flows[i]));
                let xb = imported_features(&base, &ports, config, &extras, &mut |f| {
                    on_progress(0.5 * f)
                });
                let xt = imported_features(&traffic, &ports, config, &extras, &mut |f| {
                    on_progress(0.5 + 0.5 * f)
                });
                let mut data = Vec::with_capacity((nb + nt) * xb.cols());
                for i in 0..nb {
                    data.extend_from_slice(xb.row(i));
                }
                for i in 0..nt {
                    data.extend_from_slice(xt.row(i));
                }
                let x_raw = Matrix::from_vec(nb + nt, xb.cols(), data)
                    .map_err(|_| DetectionError::NoTrainingData { flows: nb + nt })?;
                let truth =
                    GroundTruth::from_imported(&base).concat(&GroundTruth::from_imported(&traffic));
                let summary = import_summary(&base, &base_name);
                (
                    flows,
                    truth,
                    nb,
                    nb..nb + nt,
                    x_raw,
                    ports,
                    format!("the baseline file {base_name} ({nb} flows)"),
                    Some(summary),
                    found,
                )
            }
            None => {
                let n = traffic.flows.len();
                let window = ((d.train_fraction * n as f64).ceil() as usize).clamp(1, n);
                let (n_train, eval, training) = match d.training {
                    // A window of a few flows has nothing to learn from (with one row every
                    // feature is constant and the run would stop): a small file trains on all
                    // of its flows, and says so.
                    TrainingPolicy::InitialWindow if window < MIN_TRAINING_WINDOW => (
                        n,
                        0..n,
                        format!(
                            "all {n} flows (the first {:.0}% would have been only {window}, \
                             too few to learn from)",
                            d.train_fraction * 100.0
                        ),
                    ),
                    TrainingPolicy::InitialWindow => (
                        window,
                        window..n,
                        format!(
                            "the first {:.0}% of the flows in time order ({window} flows)",
                            d.train_fraction * 100.0
                        ),
                    ),
                    TrainingPolicy::AllData => (n, 0..n, "all flows".to_string()),
                };
                let found = match detectors::unsupported_input(&traffic.warnings) {
                    Some(reason) => detectors::not_run(reason),
                    None => detectors::find(&traffic.flows, 0, n_train, d),
                };
                let train = detectors::training_rows(n_train, &found.held_out);
                let ports = PortFrequency::fit(train.iter().map(|&i| &traffic.flows[i]));
                let x_raw = imported_features(&traffic, &ports, config, &extras, on_progress);
                let truth = GroundTruth::from_imported(&traffic);
                (
                    traffic.flows,
                    truth,
                    n_train,
                    eval,
                    x_raw,
                    ports,
                    training,
                    None,
                    found,
                )
            }
        };
    let n = flows.len();
    if n_train == 0 {
        return Err(DetectionError::NoTrainingData { flows: n });
    }
    let mut columns = features::builtin_columns();
    columns.extend(extras.iter().map(|e| FeatureColumn::imported(e)));
    let train = detectors::training_rows(n_train, &found.held_out);
    let (columns, x_raw, fill, alike) = usable_columns(columns, x_raw, &train);
    if columns.is_empty() {
        return Err(DetectionError::NoUsableFeatures { flows: n });
    }
    let mut found = found;
    if alike {
        found.warnings.push(format!(
            "The {} training flows are alike in every feature, so the models learned \
             nothing about what is normal (they only notice flows that differ from these). \
             The detectors' findings do not depend on training.",
            train.len()
        ));
    }
    let (scaler, x) = standardise(&x_raw, &train, n)?;
    let ts_of = |i: usize| flows.get(i).map_or(0.0, |f| f.ts);
    let evaluated_duration_s = if eval.is_empty() {
        0.0
    } else {
        (ts_of(eval.end - 1) - ts_of(eval.start)).max(0.0)
    };
    let evaluated_on = if eval.start == 0 {
        "all flows (the models were trained on all of them)".to_string()
    } else if baseline_summary.is_some() {
        "every flow of the imported file (the models were trained on the baseline)".to_string()
    } else {
        format!("flows after the first {n_train} (the training part)")
    };
    let training_end_ts = if baseline_summary.is_some() {
        ts_of(eval.start)
    } else {
        ts_of(n_train.min(n.saturating_sub(1)))
    };
    Ok(Dataset {
        truth: Vec::new(),
        n_train,
        held_out: found.held_out,
        detectors_ran: found.ran,
        detections: found.detections,
        training_warnings: found.warnings,
        plot_start: if baseline_summary.is_some() {
            n_train
        } else {
            0
        },
        eval,
        training_end_ts,
        evaluated_duration_s,
        evaluated_on,
        preprocessing: Preprocessing {
            features: d.features.clone(),
            ports,
            columns: columns.clone(),
            fill,
            scaler,
        },
        columns,
        x_raw,
        x,
        source: TrafficSource {
            kind: SourceKind::Imported,
            labelled: ground_truth.labelled,
            training,
            import: Some(import),
            baseline: baseline_summary,
        },
        ground_truth,
        flows,
    })
}

/// Traffic for a saved model to score: nothing is trained, every flow is evaluated, and the
/// features are made exactly as the model's training run made them.
fn scored_by_model(
    flows: &[FlowRecord],
    extras: Option<&ExtraColumns<'_>>,
    preprocessing: &Preprocessing,
    mut source: TrafficSource,
    on_progress: &mut dyn FnMut(f64),
) -> Result<(Matrix, Matrix, TrafficSource), DetectionError> {
    if flows.is_empty() {
        return Err(DetectionError::NoTrainingData { flows: 0 });
    }
    let missing = preprocessing.missing_columns(extras);
    if !missing.is_empty() {
        source.training.push_str(&format!(
            "; this traffic lacks {} of the model's columns ({}), scored at their training medians",
            missing.len(),
            missing.join(", ")
        ));
    }
    let x_raw = preprocessing.raw_features(flows, extras, on_progress);
    let x = preprocessing.standardise(&x_raw);
    Ok((x_raw, x, source))
}

/// Generated traffic scored by a saved model (`trained_on` says where the model came from).
pub fn from_generated_with_model(
    config: &RunConfig,
    traffic: Traffic,
    preprocessing: &Preprocessing,
    trained_on: &str,
    on_progress: &mut dyn FnMut(f64),
) -> Result<Dataset, DetectionError> {
    let source = TrafficSource {
        kind: SourceKind::Generated,
        labelled: true,
        training: format!("other traffic, in a saved model ({trained_on})"),
        import: None,
        baseline: None,
    };
    let ground_truth = GroundTruth::from_generated(&traffic.flows);
    let (x_raw, x, source) =
        scored_by_model(&traffic.flows, None, preprocessing, source, on_progress)?;
    let flows = traffic.flows;
    let n = flows.len();
    let found = detectors::find(&flows, 0, 0, &config.detection);
    Ok(Dataset {
        training_end_ts: flows[0].ts,
        flows,
        truth: traffic.incidents,
        ground_truth,
        n_train: 0,
        held_out: Vec::new(),
        detectors_ran: found.ran,
        detections: found.detections,
        training_warnings: Vec::new(),
        eval: 0..n,
        plot_start: 0,
        evaluated_duration_s: config.generator.duration_s,
        evaluated_on: "all flows (none were trained on)".to_string(),
        columns: preprocessing.columns.clone(),
        x_raw,
        x,
        source,
        preprocessing: preprocessing.clone(),
    })
}

/// An imported file scored by a saved model. A baseline makes no sense here (the model is
/// the baseline) and is refused.
pub fn from_imported_with_model(
    config: &DetectionConfig,
    input: ImportInput,
    preprocessing: &Preprocessing,
    trained_on: &str,
    on_progress: &mut dyn FnMut(f64),
) -> Result<Dataset, DetectionError> {
    let ImportInput {
        traffic,
        file_name,
        baseline,
    } = input;
    if baseline.is_some() {
        return Err(DetectionError::BaselineWithModel);
    }
    let import = import_summary(&traffic, &file_name);
    let ground_truth = GroundTruth::from_imported(&traffic);
    let source = TrafficSource {
        kind: SourceKind::Imported,
        labelled: ground_truth.labelled,
        training: format!("other traffic, in a saved model ({trained_on})"),
        import: Some(import),
        baseline: None,
    };
    let row = |i: usize| traffic.extra_row(i);
    let extras = ExtraColumns {
        names: &traffic.extra_columns,
        row: &row,
    };
    let (x_raw, x, source) = scored_by_model(
        &traffic.flows,
        Some(&extras),
        preprocessing,
        source,
        on_progress,
    )?;
    let unsupported = detectors::unsupported_input(&traffic.warnings);
    let flows = traffic.flows;
    let n = flows.len();
    let evaluated_duration_s = (flows[n - 1].ts - flows[0].ts).max(0.0);
    let found = match unsupported {
        Some(reason) => detectors::not_run(reason),
        None => detectors::find(&flows, 0, 0, config),
    };
    // Nothing is trained here, so the training check has nothing to say; why the
    // detectors did not run still matters.
    let training_warnings = if unsupported.is_some() {
        found.warnings
    } else {
        Vec::new()
    };
    Ok(Dataset {
        training_end_ts: flows[0].ts,
        flows,
        truth: Vec::new(),
        ground_truth,
        n_train: 0,
        held_out: Vec::new(),
        detectors_ran: found.ran,
        detections: found.detections,
        training_warnings,
        eval: 0..n,
        plot_start: 0,
        evaluated_duration_s,
        evaluated_on: "every flow of the imported file (none were trained on)".to_string(),
        columns: preprocessing.columns.clone(),
        x_raw,
        x,
        source,
        preprocessing: preprocessing.clone(),
    })
}

/// Drops columns with no finite value or a single value in the training rows (they carry no
/// information, and a format that lacks a field would otherwise feed the models a constant),
/// and fills the remaining gaps with the column's training median (returned per kept column).
///
/// When no column varies (a file of a few identical flows), the first column is kept anyway
/// and the last value is true: the models then learn one point, and the run still gets to the
/// detectors' findings and a report instead of stopping.
fn usable_columns(
    columns: Vec<FeatureColumn>,
    x_raw: Matrix,
    train_rows: &[usize],
) -> (Vec<FeatureColumn>, Matrix, Vec<f64>, bool) {
    let (n, d) = (x_raw.rows(), x_raw.cols());
    let mut keep = Vec::new();
    let mut fill = Vec::new();
    for j in 0..d {
        let train = finite_training_values(&x_raw, train_rows, j);
        let varies = train
            .first()
            .is_some_and(|&first| train.iter().any(|&v| v != first));
        if varies {
            keep.push(j);
            fill.push(median_or_zero(&train));
        }
    }
    let alike = keep.is_empty() && d > 0 && !train_rows.is_empty();
    if alike {
        keep.push(0);
        fill.push(median_or_zero(&finite_training_values(
            &x_raw, train_rows, 0,
        )));
    }
    let mut data = Vec::with_capacity(n * keep.len());
    for i in 0..n {
        let row = x_raw.row(i);
        data.extend(
            keep.iter()
                .zip(&fill)
                .map(|(&j, &m)| if row[j].is_finite() { row[j] } else { m }),
        );
    }
    let columns = keep.iter().map(|&j| columns[j].clone()).collect();
    let x = Matrix::from_vec(n, keep.len(), data).unwrap_or_else(|_| Matrix::zeros(n, 0));
    (columns, x, fill, alike)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::traffic::import::{self, Format, ImportLimits};

    fn zeek(rows: &[(f64, &str, u16, u64, &str)]) -> ImportedTraffic {
        let mut text = String::from(
            "#separator \\x09\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\torig_pkts\tresp_pkts\tlabel\n",
        );
        for (i, (ts, dst, port, bytes, label)) in rows.iter().enumerate() {
            text.push_str(&format!(
                "{ts}\tC{i}\t10.0.0.{}\t{}\t{dst}\t{port}\ttcp\t-\t0.5\t{bytes}\t{}\tSF\t3\t2\t{label}\n",
                i % 7 + 1,
                40000 + i,
                bytes * 2 + i as u64,
            ));
        }
        import::import(
            text.as_bytes(),
            Some(Format::ZeekTsv),
            &ImportLimits::default(),
            &mut |_| true,
        )
        .expect("zeek fixture imports")
    }

    fn traffic(n: usize, attack_from: usize) -> ImportedTraffic {
        let rows: Vec<(f64, &str, u16, u64, &str)> = (0..n)
            .map(|i| {
                let attack = i >= attack_from;
                (
                    1000.0 + i as f64,
                    if attack { "10.9.9.9" } else { "10.0.1.1" },
                    if attack { 1000 + i as u16 } else { 443 },
                    if attack {
                        0
                    } else {
                        500 + (i as u64 * 37) % 900
                    },
                    if attack { "PortScan" } else { "BENIGN" },
                )
            })
            .collect();
        zeek(&rows)
    }

    /// A window under MIN_TRAINING_WINDOW flows (20 of 40 here) is too small to learn from:
    /// the whole file trains, and the source says why.
    #[test]
    fn a_small_file_trains_on_all_its_flows() {
        let mut config = RunConfig::default();
        config.detection.train_fraction = 0.5;
        let input = ImportInput {
            traffic: traffic(40, 30),
            file_name: "conn.log".into(),
            baseline: None,
        };
        let ds = from_imported(&config, input, &mut |_| {}).unwrap();
        assert_eq!((ds.n_train, ds.eval.clone()), (40, 0..40));
        assert!(
            ds.source
                .training
                .starts_with("all 40 flows (the first 50% would have been only 20"),
            "{}",
            ds.source.training
        );
        // At the bar, the window trains as asked.
        let input = ImportInput {
            traffic: traffic(2 * MIN_TRAINING_WINDOW, 50),
            file_name: "conn.log".into(),
            baseline: None,
        };
        let ds = from_imported(&config, input, &mut |_| {}).unwrap();
        assert_eq!(ds.n_train, MIN_TRAINING_WINDOW);
    }

    #[test]
    fn without_a_baseline_the_first_fraction_of_flows_trains() {
        let mut config = RunConfig::default();
        config.detection.train_fraction = 0.5;
        config.detection.training = TrainingPolicy::InitialWindow;
        let input = ImportInput {
            traffic: traffic(80, 60),
            file_name: "conn.log".into(),
            baseline: None,
        };
        let ds = from_imported(&config, input, &mut |_| {}).unwrap();
        assert_eq!(ds.n_train, 40);
        assert_eq!(ds.eval, 40..80);
        assert!(ds.ground_truth.labelled);
        assert!(ds.ground_truth.is_attack(75) && !ds.ground_truth.is_attack(5));
        assert_eq!(ds.source.kind, SourceKind::Imported);
        assert_eq!(ds.source.import.as_ref().unwrap().flows, 80);
        // Every flow is TCP with the same state: those columns are dropped, not fed as constants.
        assert!(!ds.columns.iter().any(|c| c.name == "proto_udp"));
        assert!(ds.columns.iter().any(|c| c.name == "log_bytes_out"));
        assert_eq!(ds.x.cols(), ds.columns.len());
        assert!((0..ds.x.rows()).all(|i| ds.x.row(i).iter().all(|v| v.is_finite())));
    }

    #[test]
    fn a_baseline_trains_and_the_whole_file_is_scored() {
        let config = RunConfig::default();
        let input = ImportInput {
            traffic: traffic(30, 20),
            file_name: "day2.log".into(),
            baseline: Some((traffic(50, 50), "day1.log".into())),
        };
        let ds = from_imported(&config, input, &mut |_| {}).unwrap();
        assert_eq!(ds.n_train, 50);
        assert_eq!(ds.eval, 50..80);
        assert_eq!(ds.plot_start, 50);
        assert_eq!(ds.flows.len(), 80);
        assert!(ds.ground_truth.is_attack(75) && !ds.ground_truth.is_attack(55));
        assert!(ds.source.training.contains("day1.log"));
        assert_eq!(ds.source.baseline.as_ref().unwrap().flows, 50);
    }
}
