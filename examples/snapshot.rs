//! Writes every output of a few runs into a folder, for a byte diff before and after a change
//! that must not change behaviour (a refactor): for three generated runs, a saved model applied
//! to another seed, and each file given, the report (without timings), EVE alerts per incident
//! and per anomaly, ECS, the saved model, flows as CSV and conn.log, the chart data and the URL
//! query (an import that fails writes its error message instead).
//!
//! Usage: `cargo run --release --example snapshot -- OUT_DIR [traffic files...]`, once on each
//! side of the change, then `diff -r` the two folders.
use anomaly_detector::detection::detector_model::DetectorModel;
use anomaly_detector::detection::run_config::RunConfig;
use anomaly_detector::output::siem::{self, AlertUnit};
use anomaly_detector::pipeline;
use anomaly_detector::pipeline::dataset::ImportInput;
use anomaly_detector::traffic::export;
use anomaly_detector::traffic::import::{self, ImportLimits};

fn dump(dir: &str, name: &str, fitted: &pipeline::FittedRun) {
    let w = |suffix: &str, text: String| {
        std::fs::write(format!("{dir}/{name}.{suffix}"), text).unwrap()
    };
    let r = fitted.output.report.without_timings();
    w("report.json", r.to_json_pretty());
    w(
        "eve_inc.json",
        siem::to_eve_json_lines(&r, AlertUnit::Incident),
    );
    w(
        "eve_anom.json",
        siem::to_eve_json_lines(&r, AlertUnit::Anomaly),
    );
    w("ecs_inc.json", siem::to_ecs_ndjson(&r, AlertUnit::Incident));
    w("model.json", fitted.saved_model().to_json());
    w("flows.csv", export::to_csv(&fitted.output.scored.flows));
    w(
        "conn.log",
        export::to_zeek_conn_log(&fitted.output.scored.flows),
    );
    w(
        "plot.json",
        serde_json::to_string(&fitted.output.plot).unwrap(),
    );
    w("query", r.config.run_config().to_query());
}

fn main() {
    let dir = std::env::args().nth(1).unwrap();
    std::fs::create_dir_all(&dir).unwrap();
    let clock = || 0.0;
    for q in [
        "",
        "seed=5&preset=every_attack",
        "seed=9&hosts=30&duration=1200&threshold=fpr&target_fpr=0.01",
    ] {
        let (c, _) = RunConfig::from_query(q);
        let f = pipeline::run_fitted(&c, &clock, &mut |_| true).unwrap();
        dump(&dir, &format!("gen{}", q.len()), &f);
        if q.is_empty() {
            let m = DetectorModel::from_json(&f.saved_model().to_json()).unwrap();
            let (c2, _) = RunConfig::from_query("seed=43");
            let g = pipeline::run_generated_with_model(&c2, &m, &clock, &mut |_| true).unwrap();
            dump(&dir, "applied", &g);
        }
    }
    for (i, path) in std::env::args().skip(2).enumerate() {
        let bytes = std::fs::read(&path).unwrap();
        let traffic =
            import::import(&bytes, None, &ImportLimits::default(), &mut |_| true).unwrap();
        let input = ImportInput {
            traffic,
            file_name: "f".into(),
            baseline: None,
        };
        let (c, _) = RunConfig::from_query("");
        match pipeline::run_imported(&c, input, 0.0, &clock, &mut |_| true) {
            Ok(f) => dump(&dir, &format!("imp{i}"), &f),
            Err(e) => std::fs::write(format!("{dir}/imp{i}.err"), e.to_string()).unwrap(),
        }
    }
}
