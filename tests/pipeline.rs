//! End-to-end tests of the core pipeline, natively: the default demo detects its attacks,
//! runs are deterministic, the report is complete and round-trips through JSON.
#![cfg(not(target_arch = "wasm32"))]

use anomaly_detector::detection::run_config::{RunConfig, TrainingPolicy};
use anomaly_detector::output::report::Report;
use anomaly_detector::pipeline::{self, DetectionError, Progress, Stage};

fn run(config: &RunConfig) -> pipeline::RunOutput {
    let clock = pipeline::native_clock();
    pipeline::run(config, &clock, &mut |_| true).expect("pipeline runs")
}

#[test]
fn default_demo_detects_attacks_and_is_deterministic() {
    let config = RunConfig::default();
    let a = run(&config);
    let b = run(&config);
    let r = &a.report;
    assert_eq!(
        a.report.without_timings(),
        b.report.without_timings(),
        "same config and seed, same report"
    );
    assert_eq!(a.plot, b.plot);

    let ens = r.metrics.ensemble.roc_auc.unwrap();
    assert!(ens >= 0.9, "ensemble ROC-AUC {ens}");
    for m in [&r.metrics.isolation_forest, &r.metrics.mlp] {
        assert!(m.roc_auc.unwrap() > 0.7, "{m:?}");
    }
    assert_eq!(
        r.metrics.ensemble.recall_by_kind.len(),
        3,
        "all three kinds evaluated"
    );
    assert!(r.anomaly_count > 0 && !r.anomalies.is_empty());
    assert!(
        r.anomalies.windows(2).all(|w| w[0].ts <= w[1].ts),
        "anomalies in time order"
    );
    // Every anomaly is above the threshold or in an incident a behavioural detector named
    // (its flows are flagged whatever their scores).
    let named = |id: Option<u32>| {
        r.incidents
            .iter()
            .any(|i| Some(i.id) == id && i.kind.is_some())
    };
    assert!(r
        .anomalies
        .iter()
        .all(|x| x.scores.ensemble >= r.threshold.ensemble || named(x.detected_incident)));
    // The demo's scan, flood and guessing are each named by a detector.
    let mut kinds: Vec<&str> = r
        .incidents
        .iter()
        .filter_map(|i| i.kind.map(|k| k.as_str()))
        .collect();
    kinds.sort_unstable();
    kinds.dedup();
    assert_eq!(
        kinds,
        ["brute_force", "syn_flood", "vertical_scan"],
        "{kinds:?}"
    );
    let d = r.metrics.combined.as_ref().expect("combined metrics");
    assert!(d.recall.unwrap() >= r.metrics.ensemble.recall.unwrap());
    // Up to three reasons, each a real deviation (never "9 (typical 8)" noise): nearly every
    // flagged flow has one, and a reason's value is never its typical value.
    assert!(r.anomalies.iter().all(|x| x.explanation.len() <= 3));
    let explained = r
        .anomalies
        .iter()
        .filter(|x| !x.explanation.is_empty())
        .count();
    assert!(
        explained * 10 >= r.anomalies.len() * 9,
        "{explained} of {} anomalies have a reason",
        r.anomalies.len()
    );
    assert!(r
        .anomalies
        .iter()
        .flat_map(|x| x
            .explanation
            .iter()
            .chain(x.isolation_forest_explanation.iter().flatten()))
        .all(|c| c.value != c.typical));
    // Contamination 1 %: about 1 % of training rows sit above the threshold.
    let trained: Vec<f32> = a
        .plot
        .ensemble
        .iter()
        .zip(&a.plot.training)
        .filter(|(_, &t)| t)
        .map(|(&s, _)| s)
        .collect();
    assert_eq!(trained.len() as u64, r.data.training_flows);
    let train_flags = trained
        .iter()
        .filter(|&&s| f64::from(s) >= r.threshold.ensemble)
        .count() as f64
        / r.data.training_flows as f64;
    assert!((train_flags - 0.01).abs() < 0.005, "{train_flags}");
    // Every stage timed.
    for stage in [
        "generate",
        "features",
        "isolation_forest_fit",
        "mlp_fit",
        "total",
    ] {
        assert!(r.timings_ms.contains_key(stage), "{stage}");
    }
    assert_eq!(r.config.seed, 42);
    assert_eq!(r.data.flows as usize, a.plot.t_s.len());
    assert!(r.mlp_training.n_iter > 0 && r.mlp_training.loss_curve.len() == r.mlp_training.n_iter);
}

#[test]
fn report_round_trips_through_json() {
    let (config, _) = RunConfig::from_query("seed=5&hosts=12&duration=900");
    let out = run(&config);
    let json = out.report.to_json_pretty();
    let back: Report = serde_json::from_str(&json).unwrap();
    assert_eq!(back, out.report);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    for key in [
        "schema_version",
        "config",
        "timings_ms",
        "metrics",
        "anomalies",
    ] {
        assert!(v.get(key).is_some(), "{key}");
    }
    assert_eq!(v["config"]["seed"], 5);
}

#[test]
fn different_seeds_give_different_traffic() {
    let (a, _) = RunConfig::from_query("seed=1&hosts=10&duration=600");
    let (b, _) = RunConfig::from_query("seed=2&hosts=10&duration=600");
    assert_ne!(
        run(&a).report.data.flows_digest,
        run(&b).report.data.flows_digest
    );
}

#[test]
fn no_attacks_means_undefined_auc_not_a_crash() {
    let (config, _) = RunConfig::from_query("seed=3&hosts=10&duration=600&attacks=none");
    let r = run(&config).report;
    assert_eq!(r.data.attack_flows, 0);
    assert_eq!(r.metrics.ensemble.roc_auc, None);
    assert!(r.anomalies.iter().all(|a| a.label == "benign"));
}

#[test]
fn all_data_policy_trains_and_evaluates_on_everything() {
    let (config, _) =
        RunConfig::from_query("seed=4&hosts=15&duration=1200&train=all&contamination=0.05");
    assert_eq!(config.detection.training, TrainingPolicy::AllData);
    let out = run(&config);
    let r = &out.report;
    // Everything is trained on but the flows a detector named (held out: the attacks).
    assert_eq!(r.data.training_flows + r.data.held_out_flows, r.data.flows);
    assert!(r.data.held_out_flows > 0, "the default attacks are named");
    assert!(!r.data.training_warnings.is_empty());
    assert_eq!(r.data.evaluated_flows, r.data.flows);
    // Contamination 5 %: that share of the trained rows sits above the threshold.
    let (trained, above) = out
        .plot
        .ensemble
        .iter()
        .zip(&out.plot.training)
        .filter(|(_, &t)| t)
        .fold((0usize, 0usize), |(n, k), (&s, _)| {
            (n + 1, k + usize::from(f64::from(s) >= r.threshold.ensemble))
        });
    let share = above as f64 / trained as f64;
    assert!((share - 0.05).abs() < 0.01, "flagged share {share}");
}

#[test]
fn progress_covers_every_stage_in_order_and_cancel_stops() {
    let (config, _) = RunConfig::from_query("seed=6&hosts=10&duration=600");
    let clock = pipeline::native_clock();
    let mut seen: Vec<Stage> = Vec::new();
    let mut epochs = 0;
    let mut checked_after: Vec<Option<Stage>> = Vec::new();
    let mut checked_detections = 0;
    let mut checked_warnings = Vec::new();
    let out = pipeline::run(&config, &clock, &mut |p| {
        match p {
            Progress::Stage { stage, fraction } => {
                assert!((0.0..=1.0).contains(&fraction));
                if seen.last() != Some(&stage) {
                    seen.push(stage);
                }
            }
            Progress::Epoch(_) => epochs += 1,
            Progress::Checked {
                detections,
                summaries,
                training_warnings,
            } => {
                assert_eq!(summaries.len(), (detections as usize).min(5));
                checked_detections = detections;
                checked_warnings = training_warnings;
                checked_after.push(seen.last().copied());
            }
        }
        true
    })
    .unwrap();
    assert_eq!(seen, Stage::ALL.to_vec());
    assert!(epochs > 0);
    // Once, after the features and before any model: what the report says, told early.
    assert_eq!(checked_after, [Some(Stage::Features)]);
    assert!(checked_detections > 0, "the scenario's attacks");
    assert_eq!(checked_detections as usize, out.scored.detections.len());
    assert_eq!(checked_warnings, out.report.data.training_warnings);

    let result = pipeline::run(&config, &clock, &mut |p| {
        !matches!(
            p,
            Progress::Stage {
                stage: Stage::Features,
                ..
            }
        )
    });
    assert!(matches!(result, Err(DetectionError::Cancelled)));
}

/// The import path end to end: generated traffic exported as a Zeek conn.log with labels,
/// imported as a user's file would be, and scored. Its detections must match what the
/// generated run finds, since the flows are the same.
#[test]
fn an_exported_conn_log_imports_and_detects_like_the_generated_run() {
    use anomaly_detector::output::report::SourceKind;
    use anomaly_detector::pipeline::dataset::ImportInput;
    use anomaly_detector::traffic::export;
    use anomaly_detector::traffic::import::{self, Format, ImportLimits};

    let config = RunConfig::default();
    let traffic = anomaly_detector::traffic::generator::generate(&config.generator).unwrap();
    let log = export::to_zeek_conn_log(&traffic.flows);
    let imported = import::import(log.as_bytes(), None, &ImportLimits::default(), &mut |_| {
        true
    })
    .expect("our own conn.log imports");
    assert_eq!(imported.format, Format::ZeekTsv, "detected from content");
    assert_eq!(imported.flows.len(), traffic.flows.len());
    assert!(
        imported
            .extra_columns
            .iter()
            .all(|c| c != "incident_id" && c != "orig_role"),
        "ground truth never becomes a feature: {:?}",
        imported.extra_columns
    );
    let input = ImportInput {
        traffic: imported,
        file_name: "conn.log".into(),
        baseline: None,
    };
    let clock = pipeline::native_clock();
    let run = pipeline::run_imported(&config, input, 0.0, &clock, &mut |_| true)
        .expect("imported pipeline runs");
    let r = &run.output.report;
    assert_eq!(r.data.source.kind, SourceKind::Imported);
    assert!(r.data.source.labelled);
    assert_eq!(
        r.data.attack_flows as usize,
        traffic.flows.iter().filter(|f| f.label.is_attack()).count()
    );
    let auc = r.metrics.ensemble.roc_auc.expect("labelled, both classes");
    assert!(auc > 0.9, "ensemble ROC-AUC on the imported log {auc}");
    // Recall is keyed by the label texts of the file.
    assert!(r
        .metrics
        .ensemble
        .recall_by_kind
        .keys()
        .all(|k| k != "benign"));
    assert!(!r.anomalies.is_empty());
    assert!(r
        .anomalies
        .iter()
        .all(|a| a.isolation_forest_explanation.is_some()));
    // An unlabelled copy of the same file (the last three columns, label, incident_id and
    // orig_role, removed): no metrics, and the same scores, since truth never feeds the models.
    let unlabelled: String = log
        .lines()
        .map(|l| {
            let cells: Vec<&str> = l.split('\t').collect();
            if l.starts_with("#fields") || l.starts_with("#types") || !l.starts_with('#') {
                format!("{}\n", cells[..cells.len() - 3].join("\t"))
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    let imported = import::import(
        unlabelled.as_bytes(),
        None,
        &ImportLimits::default(),
        &mut |_| true,
    )
    .unwrap();
    assert!(!imported.has_labels);
    let input = ImportInput {
        traffic: imported,
        file_name: "conn.log".into(),
        baseline: None,
    };
    let again = pipeline::run_imported(&config, input, 0.0, &clock, &mut |_| true).unwrap();
    assert!(!again.output.report.data.source.labelled);
    assert_eq!(again.output.report.metrics.ensemble.roc_auc, None);
    assert_eq!(again.output.scored.ensemble, run.output.scored.ensemble);
}

/// Re-thresholding a fitted run gives the report a run at that threshold would have given.
#[test]
fn rethresholding_a_fitted_run_matches_a_fresh_run_at_that_threshold() {
    use anomaly_detector::detection::run_config::ThresholdSpec;
    let config = RunConfig::default();
    let clock = pipeline::native_clock();
    let mut fitted = pipeline::run_fitted(&config, &clock, &mut |_| true).unwrap();
    let spec = ThresholdSpec::TargetFpr { target_fpr: 0.002 };
    fitted.rethreshold(&spec);
    let mut other = config.clone();
    other.detection.set_threshold_spec(&spec);
    let fresh = run(&other);
    assert_eq!(
        fitted.output.report.without_timings(),
        fresh.report.without_timings()
    );
}

/// A new ensemble weight (with a new threshold) re-combines the kept scores into the report
/// and chart series a fresh run with that weight gives; a saved model keeps its own weight.
#[test]
fn reevaluating_a_fitted_run_with_another_forest_weight_matches_a_fresh_run() {
    use anomaly_detector::detection::run_config::ThresholdSpec;
    let (config, _) = RunConfig::from_query("seed=5&hosts=30&duration=900");
    let clock = pipeline::native_clock();
    let mut fitted = pipeline::run_fitted(&config, &clock, &mut |_| true).unwrap();
    let spec = ThresholdSpec::Contamination {
        contamination: 0.03,
    };
    assert!(
        fitted.reevaluate(&spec, 0.2, config.detection.incident_budget),
        "the weight changed"
    );
    let mut other = config.clone();
    other.detection.forest_weight = 0.2;
    other.detection.set_threshold_spec(&spec);
    let fresh = run(&other);
    assert_ne!(fresh.scored.ensemble, run(&config).scored.ensemble);
    assert_eq!(fitted.output.scored.ensemble, fresh.scored.ensemble);
    assert_eq!(fitted.output.plot, fresh.plot);
    assert_eq!(
        fitted.output.report.without_timings(),
        fresh.report.without_timings()
    );
    // Same weight again: only the threshold moves.
    assert!(!fitted.reevaluate(&spec, 0.2, config.detection.incident_budget));

    // Scored by a saved model: its calibration stands.
    let model = fitted.saved_model();
    let (traffic, _) = RunConfig::from_query("seed=6&hosts=30&duration=900");
    let mut scored =
        pipeline::run_generated_with_model(&traffic, &model, &clock, &mut |_| true).unwrap();
    let before = scored.output.scored.ensemble.clone();
    assert!(!scored.reevaluate(&spec, 0.9, config.detection.incident_budget));
    assert_eq!(scored.output.scored.ensemble, before);
}

#[test]
fn the_page_copy_lists_the_first_incidents_with_their_responses_and_keeps_the_count() {
    let (config, _) = RunConfig::from_query("seed=8&hosts=30&duration=1800&attacks=all");
    let report = run(&config).report;
    assert_eq!(report.incident_count as usize, report.incidents.len());
    assert!(
        report.incidents.len() > 3,
        "{} incidents",
        report.incidents.len()
    );
    let page = report.page_copy(3);
    assert!(page.anomalies.is_empty());
    assert_eq!(page.incident_count, report.incident_count);
    // The same incidents, without their flow rows (the page never shows them).
    let without_rows: Vec<_> = report.incidents[..3]
        .iter()
        .map(|i| {
            let mut i = i.clone();
            i.flows.clear();
            i
        })
        .collect();
    assert_eq!(page.incidents, without_rows);
    assert!(page.incidents.iter().all(|i| i.flow_count > 0));
    let listed: Vec<u32> = page.incidents.iter().map(|i| i.id).collect();
    assert!(page
        .responses
        .iter()
        .all(|p| listed.contains(&p.incident_id)));
    assert_eq!(
        page.responses.len(),
        report
            .responses
            .iter()
            .filter(|p| listed.contains(&p.incident_id))
            .count()
    );
    assert_eq!(page.metrics, report.metrics);
    assert_eq!(page.threshold, report.threshold);
}
