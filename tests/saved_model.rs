//! A saved detector model: fit → save → load → score gives the training run's scores bit for
//! bit, a model trained on one day scores another (generated or imported), and damaged files
//! are refused with a reason.
#![cfg(not(target_arch = "wasm32"))]

use anomaly_detector::detection::detector_model::{DetectorModel, ModelFileError};
use anomaly_detector::detection::run_config::RunConfig;
use anomaly_detector::output::report::SourceKind;
use anomaly_detector::pipeline::dataset::ImportInput;
use anomaly_detector::pipeline::{self, FittedRun};
use anomaly_detector::traffic::export;
use anomaly_detector::traffic::import::{self, ImportLimits};
use serde_json::Value;

fn fitted(query: &str) -> (RunConfig, FittedRun) {
    let (config, notices) = RunConfig::from_query(query);
    assert!(notices.is_empty(), "{notices:?}");
    let clock = pipeline::native_clock();
    let run = pipeline::run_fitted(&config, &clock, &mut |_| true).expect("run");
    (config, run)
}

#[test]
fn a_saved_model_rescoring_its_own_traffic_gives_identical_scores_and_thresholds() {
    let (config, run) = fitted("seed=11&hosts=12&duration=1800");
    let text = run.saved_model().to_json();
    let model = DetectorModel::from_json(&text).expect("our own model loads");
    assert_eq!(
        model.to_json(),
        text,
        "save → load → save is byte-identical"
    );
    assert_eq!(
        model.training_flows as usize,
        run.output.scored.training_rows
    );
    assert!(model.trained_on.contains("seed 11"), "{}", model.trained_on);

    let clock = pipeline::native_clock();
    let applied = pipeline::run_generated_with_model(&config, &model, &clock, &mut |_| true)
        .expect("applied run");
    let (a, b) = (&run.output.scored, &applied.output.scored);
    assert!(a.training_rows <= anomaly_detector::detection::ensemble::REFERENCE_SCORES_MAX);
    assert_eq!(a.isolation_forest, b.isolation_forest);
    assert_eq!(a.mlp, b.mlp);
    assert_eq!(a.ensemble, b.ensemble);
    // Every training score is in the file, so the thresholds are the training run's exactly.
    assert_eq!(run.output.report.threshold, applied.output.report.threshold);
    let r = &applied.output.report;
    assert_eq!(
        r.data.training_flows, 0,
        "nothing was trained in the applied run"
    );
    assert_eq!(r.data.evaluated_flows, r.data.flows);
    assert!(r.data.source.training.contains("saved model"));
    assert_eq!(
        r.mlp_training.loss_curve,
        run.output.report.mlp_training.loss_curve
    );
    // Flows after the training window are flagged alike in both runs.
    let later = |rows: &[anomaly_detector::output::report::Anomaly]| -> Vec<u64> {
        rows.iter()
            .map(|x| x.index)
            .filter(|&i| i as usize >= a.training_rows)
            .collect()
    };
    assert_eq!(
        later(&run.output.report.anomalies),
        later(&r.anomalies),
        "same flags on the evaluated rows"
    );
    // The applied run saves the same model again.
    assert_eq!(applied.saved_model().to_json(), text);
}

#[test]
fn a_model_trained_on_one_day_scores_another_generated_or_imported() {
    let (_, run) = fitted("seed=21&hosts=15&duration=3600");
    let model = DetectorModel::from_json(&run.saved_model().to_json()).unwrap();
    let (other_day, _) = RunConfig::from_query("seed=22&hosts=15&duration=3600");
    let clock = pipeline::native_clock();
    let applied = pipeline::run_generated_with_model(&other_day, &model, &clock, &mut |_| true)
        .expect("applied to another day");
    let r = &applied.output.report;
    assert_eq!(r.config.seed, 22);
    let auc = r.metrics.ensemble.roc_auc.expect("labelled");
    assert!(
        auc > 0.9,
        "ensemble ROC-AUC of the saved model on another day: {auc}"
    );
    assert!(r.anomaly_count > 0);

    // The same day as a Zeek conn.log file: imported flows score as the generated ones do.
    let traffic = anomaly_detector::traffic::generator::generate(&other_day.generator).unwrap();
    let log = export::to_zeek_conn_log(&traffic.flows);
    let imported = import::import(log.as_bytes(), None, &ImportLimits::default(), &mut |_| {
        true
    })
    .unwrap();
    let input = ImportInput {
        traffic: imported,
        file_name: "day2.conn.log".into(),
        baseline: None,
    };
    let from_file =
        pipeline::run_imported_with_model(&other_day, input, &model, 0.0, &clock, &mut |_| true)
            .expect("applied to an imported file");
    let f = &from_file.output.report;
    assert_eq!(f.data.source.kind, SourceKind::Imported);
    assert!(f.data.source.training.contains("saved model"));
    assert_eq!(f.data.flows, r.data.flows);
    let max_gap = from_file
        .output
        .scored
        .ensemble
        .iter()
        .zip(&applied.output.scored.ensemble)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max);
    // The conn.log rounds durations to microseconds; nothing else differs.
    assert!(
        max_gap < 1e-3,
        "imported vs generated ensemble gap {max_gap}"
    );
}

#[test]
fn a_baseline_and_a_model_together_are_refused() {
    let (config, run) = fitted("seed=3&hosts=8&duration=900");
    let model = run.saved_model();
    let log = export::to_zeek_conn_log(&run.output.scored.flows);
    let read = || {
        import::import(log.as_bytes(), None, &ImportLimits::default(), &mut |_| {
            true
        })
    };
    let input = ImportInput {
        traffic: read().unwrap(),
        file_name: "a.log".into(),
        baseline: Some((read().unwrap(), "b.log".into())),
    };
    let clock = pipeline::native_clock();
    let err = pipeline::run_imported_with_model(&config, input, &model, 0.0, &clock, &mut |_| true)
        .unwrap_err();
    assert!(err.to_string().contains("remove the baseline"), "{err}");
}

/// A named edit of a good model file and a phrase its error must contain.
type Damage = (&'static str, Box<dyn Fn(&mut Value)>, &'static str);

#[test]
fn damaged_model_files_are_refused_with_a_reason() {
    let (_, run) = fitted("seed=4&hosts=8&duration=900");
    let good: Value = serde_json::from_str(&run.saved_model().to_json()).unwrap();
    let edit = |f: &dyn Fn(&mut Value)| -> Result<DetectorModel, ModelFileError> {
        let mut v = good.clone();
        f(&mut v);
        DetectorModel::from_json(&v.to_string())
    };
    let cases: Vec<Damage> = vec![
        (
            "other format",
            Box::new(|v| v["format"] = "anomaly-detector/isolation-forest".into()),
            "expected",
        ),
        (
            "newer version",
            Box::new(|v| v["version"] = 2.into()),
            "version 2",
        ),
        (
            "no forest",
            Box::new(|v| {
                v.as_object_mut().unwrap().remove("isolation_forest");
            }),
            "isolation_forest",
        ),
        (
            "a column too few in the scaler",
            Box::new(|v| {
                v["preprocessing"]["scaler"]["mean"]
                    .as_array_mut()
                    .unwrap()
                    .pop();
            }),
            "scaler means",
        ),
        (
            "a column too many",
            Box::new(|v| {
                let p = &mut v["preprocessing"];
                let col = p["columns"][0].clone();
                p["columns"].as_array_mut().unwrap().push(col);
                p["fill"].as_array_mut().unwrap().push(0.0.into());
                p["scaler"]["mean"].as_array_mut().unwrap().push(0.0.into());
                p["scaler"]["scale"]
                    .as_array_mut()
                    .unwrap()
                    .push(1.0.into());
            }),
            "isolation forest takes",
        ),
        (
            "unsorted reference scores",
            Box::new(|v| {
                v["reference"]["ensemble"].as_array_mut().unwrap().reverse();
            }),
            "sorted",
        ),
        (
            "port counts that do not add up",
            Box::new(|v| v["preprocessing"]["ports"]["total"] = 1.into()),
            "add up",
        ),
        (
            "zero scale",
            Box::new(|v| v["calibration"]["mlp"]["scale"] = 0.0.into()),
            "positive scale",
        ),
        (
            "a string weight",
            Box::new(|v| v["mlp"]["model"]["fitted"] = "x".into()),
            "mlp",
        ),
    ];
    for (name, damage, needle) in cases {
        let err = edit(&*damage).expect_err(name);
        assert!(
            err.to_string().contains(needle),
            "{name}: {err} (wanted {needle:?})"
        );
    }
    let text = run.saved_model().to_json();
    for cut in [0, 1, text.len() / 3, text.len() - 1] {
        assert!(
            DetectorModel::from_json(&text[..cut]).is_err(),
            "truncated at {cut}"
        );
    }
}

#[test]
fn the_fuzzers_seed_model_is_a_valid_small_detector() {
    // The model_json fuzz target starts from it; a format change must keep it loadable.
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fuzz/seeds/model_json/detector.json"
    );
    let text = std::fs::read_to_string(path).expect("seed present");
    assert!(text.len() < 16_384, "fits the fuzzer's max_len");
    let model = DetectorModel::from_json(&text).expect("seed loads");
    assert_eq!(model.to_json(), text);
}
