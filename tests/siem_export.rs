//! SIEM exports and the report of a real run: EVE lines validate against Suricata's schema
//! (from ../shared/schemas, skipped with a reason when absent), ECS documents carry the
//! fields SIEM rules key on, the report validates against docs/report.schema.json, and
//! re-thresholding reproduces the run's own verdicts.
#![cfg(not(target_arch = "wasm32"))]

use anomaly_detector::detection::run_config::RunConfig;
use anomaly_detector::findings::incidents::IncidentParams;
use anomaly_detector::output::siem::{to_ecs_ndjson, to_eve_json_lines, AlertUnit};
use anomaly_detector::pipeline::{self, RunOutput};
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

fn output() -> &'static RunOutput {
    static OUT: OnceLock<RunOutput> = OnceLock::new();
    OUT.get_or_init(|| {
        let (config, _) = RunConfig::from_query("seed=5&hosts=20&duration=1200");
        pipeline::run(&config, &pipeline::native_clock(), &mut |_| true).expect("runs")
    })
}

fn shared_schema() -> Option<PathBuf> {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut candidates = vec![];
    if let Ok(dir) = std::env::var("SHARED_DIR") {
        candidates.push(PathBuf::from(dir).join("schemas"));
    }
    // The main checkout sits next to shared/; worktrees one level deeper.
    candidates.push(manifest.join("../shared/schemas"));
    candidates.push(manifest.join("../../shared/schemas"));
    candidates
        .into_iter()
        .map(|d| d.join("suricata-eve.schema.json"))
        .find(|p| p.exists())
}

fn python_validates(script: &str, args: &[&std::path::Path]) -> Option<bool> {
    let status = Command::new("python3")
        .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(script))
        .args(args)
        .status();
    match status {
        Ok(s) => Some(s.success()),
        Err(e) => {
            println!("skipping {script}: python3 unavailable ({e})");
            None
        }
    }
}

#[test]
fn eve_lines_validate_against_suricata_schema() {
    let out = output();
    assert!(!out.report.incidents.is_empty());
    let dir = std::env::temp_dir().join(format!("siem-export-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut files = Vec::new();
    for unit in [AlertUnit::Incident, AlertUnit::Anomaly] {
        let text = to_eve_json_lines(&out.report, unit);
        let expected = match unit {
            AlertUnit::Incident => out.report.incidents.len(),
            AlertUnit::Anomaly => out.report.anomalies.len(),
        };
        assert_eq!(text.lines().count(), expected);
        for line in text.lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(v["event_type"], "alert");
            assert!(v["flow_id"].as_u64().unwrap() < 1 << 51);
            let ts = v["timestamp"].as_str().unwrap();
            assert!(ts.ends_with("+0000") && ts.len() == 31, "{ts}");
            for key in ["isolation_forest_score", "mlp_score", "ensemble_score"] {
                if unit == AlertUnit::Anomaly {
                    assert!(v["alert"]["metadata"][key][0].is_string(), "{key}: {line}");
                }
            }
        }
        let path = dir.join(format!("{unit:?}.eve.json"));
        std::fs::write(&path, text).unwrap();
        files.push(path);
    }
    let Some(schema) = shared_schema() else {
        println!(
            "skipping schema validation: suricata-eve.schema.json not found in ../shared/schemas"
        );
        return;
    };
    let mut args: Vec<&std::path::Path> = vec![schema.as_path()];
    args.extend(files.iter().map(PathBuf::as_path));
    if let Some(ok) = python_validates("tests/validate_eve.py", &args) {
        assert!(ok, "EVE lines invalid against {}", schema.display());
    }
}

#[test]
fn ecs_documents_carry_the_core_fields() {
    let out = output();
    let text = to_ecs_ndjson(&out.report, AlertUnit::Incident);
    assert_eq!(text.lines().count(), out.report.incidents.len());
    for (line, inc) in text.lines().zip(&out.report.incidents) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["event"]["kind"], "alert");
        assert_eq!(
            v["event"]["category"],
            serde_json::json!(["network", "intrusion_detection"])
        );
        assert!(v["event"]["severity"].as_u64().unwrap() <= 100);
        assert!(v["@timestamp"].as_str().unwrap().ends_with('Z'));
        assert!(v["source"]["ip"].is_string() && v["destination"]["ip"].is_string());
        assert!(v["rule"]["name"].is_string());
        assert_eq!(v["message"], inc.summary);
        assert_eq!(v["network"]["transport"], inc.proto.as_str());
        if let Some(id) = v["network"]["community_id"].as_str() {
            assert!(id.starts_with("1:") && id.len() == 30, "{id}");
        }
    }
}

#[test]
fn report_validates_and_rethreshold_reproduces_the_run() {
    let out = output();
    let path = std::env::temp_dir().join(format!("report-{}.json", std::process::id()));
    std::fs::write(&path, out.report.to_json_pretty()).unwrap();
    if let Some(ok) = python_validates("tests/validate_report.py", &[path.as_path()]) {
        assert!(ok, "report invalid against docs/report.schema.json");
    }
    let config = &out.report.config.run_config();
    let again = pipeline::rethreshold(
        &out.scored,
        &config.detection.threshold_spec(),
        &IncidentParams::with_budget(config.detection.incident_budget),
    );
    assert_eq!(again.threshold, out.report.threshold);
    assert_eq!(again.budget, out.report.incident_budget);
    assert_eq!(again.metrics, out.report.metrics);
    assert_eq!(again.incidents, out.report.incidents);
    assert_eq!(again.flagged.len() as u64, out.report.anomaly_count);
    // Every listed anomaly belongs to exactly the incident it names, or to a group the
    // incident budget held back: those are exactly the held-back flows.
    let mut unlisted = 0u64;
    for a in &out.report.anomalies {
        let Some(id) = a.detected_incident else {
            unlisted += 1;
            continue;
        };
        let inc = &out.report.incidents[id as usize - 1];
        assert!(inc.flows.contains(&a.index));
    }
    assert!(!out.report.anomalies_truncated);
    assert_eq!(unlisted, out.report.incident_budget.held_back_flows);
    assert!(
        unlisted > 0,
        "the run should exercise the budget: {:?}",
        out.report.incident_budget
    );
}

/// Analyst feedback: a false positive suppresses its pattern at once (fewer anomalies, the
/// suppressed count, the verdict in the report), a confirmation changes nothing but the record,
/// and the judged report still validates. Responses never block the network's DNS servers.
#[test]
fn verdicts_update_counts_at_once_and_are_recorded() {
    use anomaly_detector::findings::feedback::{Pattern, Verdict};
    let config = anomaly_detector::detection::run_config::RunConfig::default();
    let clock = pipeline::native_clock();
    let mut fitted = pipeline::run_fitted(&config, &clock, &mut |_| true).unwrap();
    let before = fitted.output.report.clone();
    assert_eq!(before.responses.len(), before.incidents.len());
    let dns_servers: Vec<_> = fitted
        .output
        .scored
        .flows
        .iter()
        .filter(|f| f.service == anomaly_detector::traffic::flow::Service::Dns && f.bytes_in > 0)
        .map(|f| f.dst_ip)
        .collect();
    for plan in &before.responses {
        assert!(plan.target.is_none_or(|t| !dns_servers.contains(&t)));
        assert!(plan.disclaimer.contains("never executes"));
    }

    let judged = before.incidents[0].clone();
    let covered = before
        .anomalies
        .iter()
        .filter(|a| {
            let p = Pattern::of(&judged);
            p.src_ip.is_none_or(|ip| ip == a.src_ip)
                && p.dst_ip.is_none_or(|ip| ip == a.dst_ip)
                && p.service == a.service
        })
        .count() as u64;
    assert!(covered > 0);
    assert!(fitted.judge(judged.id, Some(Verdict::FalsePositive)));
    let after = &fitted.output.report;
    assert_eq!(after.suppressed_anomalies, covered);
    assert_eq!(after.anomaly_count, before.anomaly_count - covered);
    assert_eq!(after.feedback.len(), 1);
    assert_eq!(after.feedback[0].verdict, Verdict::FalsePositive);
    assert_eq!(after.feedback[0].incident_summary, judged.summary);
    assert!(after
        .incidents
        .iter()
        .all(|i| Pattern::of(i) != Pattern::of(&judged)));
    let fp_before = before.metrics.ensemble.confusion.false_positives
        + before.metrics.ensemble.confusion.true_positives;
    let fp_after = after.metrics.ensemble.confusion.false_positives
        + after.metrics.ensemble.confusion.true_positives;
    assert_eq!(
        fp_before - fp_after,
        covered,
        "metrics count what is still flagged"
    );
    let path = std::env::temp_dir().join(format!("judged-{}.json", std::process::id()));
    std::fs::write(&path, after.to_json_pretty()).unwrap();
    if let Some(ok) = python_validates("tests/validate_report.py", &[path.as_path()]) {
        assert!(ok, "judged report invalid against docs/report.schema.json");
    }
    // Withdrawing the verdict restores the run exactly.
    let id = after.incidents.len() as u32 + 1;
    assert!(!fitted.judge(id + 1000, None), "no such incident");
    assert!(fitted.withdraw(&Pattern::of(&judged)));
    assert_eq!(
        fitted.output.report.without_timings(),
        before.without_timings()
    );
}

/// A file without addresses (KDD rows): its flows carry the importer's documentation-range
/// stand-ins, and nothing the run exports or suggests names them: no address, port or
/// Community ID in any EVE line or ECS document, no host in the incidents, no blocking.
#[test]
fn a_file_without_addresses_exports_no_stand_in_addresses() {
    use anomaly_detector::pipeline::dataset::ImportInput;
    use anomaly_detector::traffic::import::{self, ImportLimits};
    let mut text = String::new();
    for i in 0..600u32 {
        // Ordinary HTTP rows, a few hundred bytes each; every 97th row moves a lot of data.
        let (bytes_out, bytes_in) = if i % 97 == 0 {
            (2_000_000 + i, 90_000_000 + i)
        } else {
            (200 + i % 50, 1_500 + i % 400)
        };
        text.push_str(&format!(
            "0,tcp,http,SF,{bytes_out},{bytes_in},0,0,0,0,0,1,0,0,0,0,0,0,0,0,0,0,{},{},0.00,0.00,0.00,0.00,1.00,0.00,0.00,{},255,1.00,0.00,0.01,0.02,0.00,0.00,0.00,0.00,normal,21\n",
            1 + i % 9,
            1 + i % 7,
            20 + i % 200,
        ));
    }
    let traffic = import::import(text.as_bytes(), None, &ImportLimits::default(), &mut |_| {
        true
    })
    .expect("KDD rows import");
    let input = ImportInput {
        traffic,
        file_name: "no-addresses.txt".to_string(),
        baseline: None,
    };
    let run = pipeline::run_imported(
        &RunConfig::default(),
        input,
        0.0,
        &pipeline::native_clock(),
        &mut |_| true,
    )
    .expect("runs");
    let report = &run.output.report;
    let import = report.data.source.import.as_ref().unwrap();
    assert!(import.synthesized_addresses && import.synthesized_timestamps);
    assert!(!report.incidents.is_empty(), "the big rows are flagged");
    let stand_ins = ["192.0.2.", "198.51.100.", "203.0.113."];
    for inc in &report.incidents {
        assert!(inc.src_ips.is_empty() && inc.dst_ips.is_empty());
        assert!(inc.summary.contains("no host is named"), "{}", inc.summary);
        assert!(
            !stand_ins.iter().any(|s| inc.summary.contains(s)),
            "{}",
            inc.summary
        );
    }
    for plan in &report.responses {
        assert!(
            plan.suggestions.is_empty() && plan.target.is_none(),
            "{plan:?}"
        );
    }
    for unit in [AlertUnit::Incident, AlertUnit::Anomaly] {
        let eve = to_eve_json_lines(report, unit);
        let ecs = to_ecs_ndjson(report, unit);
        assert!(!eve.is_empty() && !ecs.is_empty());
        for text in [&eve, &ecs] {
            for s in stand_ins {
                assert!(!text.contains(s), "{unit:?}: {s} in {text}");
            }
            assert!(!text.contains("community_id"), "{unit:?}");
        }
        for line in eve.lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            assert!(
                v.get("src_ip").is_none() && v.get("dest_port").is_none(),
                "{line}"
            );
            assert!(line.contains("no IP addresses"), "{line}");
        }
    }
}
