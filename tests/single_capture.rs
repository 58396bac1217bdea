//! One capture, no baseline: the case most users have. The whole pipeline (import or
//! generation, detectors, training check, models, fusion) must name an attack that fills the
//! file or sits inside the training part, where the learned models alone learn it as normal.
#![cfg(not(target_arch = "wasm32"))]

use anomaly_detector::detection::behaviour::BehaviourKind;
use anomaly_detector::detection::run_config::RunConfig;
use anomaly_detector::findings::incidents::{DetectedIncident, FoundBy, Severity};
use anomaly_detector::pipeline::{self, dataset::ImportInput, RunOutput};
use anomaly_detector::traffic::flow::{AttackKind, Label};
use anomaly_detector::traffic::import::{self, ImportLimits};

fn imported_run(path: &str) -> Option<RunOutput> {
    let full = format!("{}/../shared/data/{path}", env!("CARGO_MANIFEST_DIR"));
    let bytes = match std::fs::read(&full) {
        Ok(b) => b,
        Err(e) => {
            println!("skipped: {full} not readable ({e})");
            return None;
        }
    };
    let traffic = import::import(&bytes, None, &ImportLimits::default(), &mut |_| true).unwrap();
    let input = ImportInput {
        traffic,
        file_name: path.rsplit('/').next().unwrap().to_string(),
        baseline: None,
    };
    let clock = pipeline::native_clock();
    let run = pipeline::run_imported(&RunConfig::default(), input, 0.0, &clock, &mut |_| true)
        .expect("a single capture runs");
    Some(run.output)
}

/// ESnet's masscan captures (a 1,001-port TCP and a 1,001-port UDP scan of one host, the
/// whole file): imported with no baseline, the scan is a high or critical port-scan incident
/// of the scanner, T1046, found by a detector; and the training check says the training part
/// holds it.
#[test]
fn every_esnet_scan_is_a_high_scan_incident_of_its_source() {
    for name in ["tcp_0_1000_20190821.pcap", "udp_0_1000_20190821.pcap"] {
        let Some(out) = imported_run(&format!(
            "esnet_curated_pcaps/attacks/scanners/masscan/{name}"
        )) else {
            return;
        };
        let r = &out.report;
        let scans: Vec<&DetectedIncident> = r
            .incidents
            .iter()
            .filter(|i| i.kind == Some(BehaviourKind::VerticalScan))
            .collect();
        assert_eq!(scans.len(), 1, "{name}: {:?}", summaries(&r.incidents));
        let scan = scans[0];
        assert_eq!(scan.key_ip.to_string(), "172.31.15.102", "{name}");
        assert!(
            scan.severity >= Severity::High,
            "{name}: {:?}",
            scan.severity
        );
        assert_ne!(scan.found_by, FoundBy::Models, "{name}");
        assert_eq!(scan.technique.unwrap().id(), "T1046", "{name}");
        assert_eq!(scan.distinct_dst_ports, 1001, "{name}");
        assert_eq!(r.incidents[0].id, scan.id, "{name}: the scan comes first");
        assert!(
            r.data
                .training_warnings
                .iter()
                .any(|w| w.contains("port scan") && w.contains("172.31.15.102")),
            "{name}: {:?}",
            r.data.training_warnings
        );
    }
}

/// nmap against port 80 of one host (ESnet): one port is not a scan, and no detector may say
/// otherwise, whatever the models flag.
#[test]
fn one_port_probed_is_not_called_a_scan() {
    for name in [
        "nmap_80_vanilla.pcap",
        "nmap_80_all.pcap",
        "nmap_80_w_service_detection.pcap",
    ] {
        let Some(out) = imported_run(&format!("esnet_curated_pcaps/attacks/scanners/nmap/{name}"))
        else {
            return;
        };
        assert!(
            out.report.incidents.iter().all(|i| i.kind.is_none()),
            "{name}: {:?}",
            summaries(&out.report.incidents)
        );
    }
}

fn summaries(incidents: &[DetectedIncident]) -> Vec<&str> {
    incidents.iter().map(|i| i.summary.as_str()).collect()
}

/// The behaviour a detector should name for each generated attack (crypto mining has no
/// detector: minutes of traffic to a pool that is neither periodic nor voluminous).
fn expected_kind(attack: AttackKind) -> Option<BehaviourKind> {
    Some(match attack {
        AttackKind::PortScan => BehaviourKind::VerticalScan,
        AttackKind::SynFlood => BehaviourKind::SynFlood,
        AttackKind::BruteForce | AttackKind::RdpBruteForce => BehaviourKind::BruteForce,
        AttackKind::HorizontalScan => BehaviourKind::HorizontalScan,
        AttackKind::Exfiltration => BehaviourKind::Exfiltration,
        AttackKind::C2Beacon => BehaviourKind::Beaconing,
        AttackKind::DnsTunnel => BehaviourKind::DnsTunnel,
        AttackKind::LateralMovement => BehaviourKind::LateralMovement,
        AttackKind::IcmpSweep => BehaviourKind::IcmpSweep,
        AttackKind::Slowloris => BehaviourKind::SlowDos,
        AttackKind::CryptoMining => return None,
    })
}

/// Each attack kind alone in the default scenario, with `train=all` (the worst case: the
/// models train on the attack): a detector names it, covering at least 95 % of its flows with
/// incidents of the right kind, and the attack's flows that the detector named are not
/// trained on. Crypto mining, which no detector looks for, must still be flagged by the
/// models for most of its flows (listed as an incident or not: see the incident budget).
#[test]
fn each_generated_attack_is_named_even_inside_the_training_part() {
    let clock = pipeline::native_clock();
    for attack in AttackKind::ALL {
        let query = format!("attacks={attack}&train=all&seed=11");
        let (config, notices) = RunConfig::from_query(&query);
        assert!(notices.is_empty());
        let out = pipeline::run(&config, &clock, &mut |_| true).unwrap();
        let flows = &out.scored.flows;
        let attack_rows: Vec<usize> = (0..flows.len())
            .filter(|&i| flows[i].label == Label::Attack(attack))
            .collect();
        assert!(!attack_rows.is_empty(), "{query}");
        let covered = |pred: &dyn Fn(&DetectedIncident) -> bool| {
            let mut in_incident = vec![false; flows.len()];
            for inc in out.report.incidents.iter().filter(|i| pred(i)) {
                for &row in &inc.flows {
                    in_incident[row as usize] = true;
                }
            }
            attack_rows.iter().filter(|&&i| in_incident[i]).count() as f64
                / attack_rows.len() as f64
        };
        match expected_kind(attack) {
            Some(kind) => {
                let named = covered(&|i| i.kind == Some(kind));
                assert!(
                    named >= 0.95,
                    "{query}: {:.0} % of the attack's flows named {kind:?}; incidents {:?}",
                    named * 100.0,
                    summaries(&out.report.incidents)
                );
                let held_out = out.scored.held_out.len();
                assert!(
                    held_out as f64 >= 0.95 * attack_rows.len() as f64,
                    "{query}: {held_out} training rows held out of {} attack flows",
                    attack_rows.len()
                );
            }
            None => {
                // Flagged, whether listed as an incident or held back by the incident budget
                // (its flows then stay in the anomaly list).
                let t = out.report.threshold.ensemble;
                let flagged = attack_rows
                    .iter()
                    .filter(|&&i| out.scored.ensemble[i] >= t)
                    .count() as f64
                    / attack_rows.len() as f64;
                assert!(flagged >= 0.5, "{query}: {:.0} % flagged", flagged * 100.0);
            }
        }
    }
}

/// A capture of a handful of flows (nmap probing one port: 3 flows) trains on all of them
/// rather than on a first quarter of one flow, and the report says so.
#[test]
fn a_tiny_capture_trains_on_all_its_flows_and_says_so() {
    let Some(out) = imported_run("esnet_curated_pcaps/attacks/scanners/nmap/nmap_80_vanilla.pcap")
    else {
        return;
    };
    let r = &out.report;
    let n = r.data.flows;
    assert!(n < 32, "{n}");
    assert_eq!(out.scored.training_rows as u64, n);
    assert!(
        r.data.source.training.contains(&format!("all {n} flows"))
            && r.data.source.training.contains("too few"),
        "{}",
        r.data.source.training
    );
    assert!(
        r.data
            .training_warnings
            .iter()
            .any(|w| w.contains("flows to learn from")),
        "{:?}",
        r.data.training_warnings
    );
}

/// A capture of one flow: nothing varies, so the models learn a single point, but the run
/// completes with a report that says so (it used to stop with "no feature varies").
#[test]
fn a_one_flow_capture_runs_and_says_the_models_learned_nothing() {
    use anomaly_detector::traffic::export;
    let config = RunConfig::default();
    let traffic = anomaly_detector::traffic::generator::generate(&config.generator).unwrap();
    let log = export::to_zeek_conn_log(&traffic.flows[..1]);
    let imported = import::import(log.as_bytes(), None, &ImportLimits::default(), &mut |_| {
        true
    })
    .unwrap();
    assert_eq!(imported.flows.len(), 1);
    let input = ImportInput {
        traffic: imported,
        file_name: "conn.log".into(),
        baseline: None,
    };
    let clock = pipeline::native_clock();
    let run = pipeline::run_imported(&config, input, 0.0, &clock, &mut |_| true)
        .expect("one flow still gets a report");
    let r = &run.output.report;
    assert_eq!(r.data.flows, 1);
    assert!(
        r.data
            .training_warnings
            .iter()
            .any(|w| w.contains("alike in every feature")),
        "{:?}",
        r.data.training_warnings
    );
    assert!(run.output.scored.ensemble.iter().all(|s| s.is_finite()));
}

/// A file without addresses or times (a CSV of sizes and durations): the importer gives every
/// flow the same documentation addresses, one second apart. The detectors, which follow hosts
/// through time, do not run on such stand-ins and say so; no incident offers to block the
/// stand-in address.
#[test]
fn a_file_without_addresses_gets_no_detector_and_no_block_on_placeholders() {
    let mut csv = String::from("duration,src_bytes,dst_bytes,service,label\n");
    for i in 0..400u64 {
        let attack = i >= 150 && i % 50 == 7;
        csv.push_str(&format!(
            "{:.3},{},{},http,{}\n",
            (i * 37 % 300) as f64 / 100.0,
            if attack {
                9_000_000
            } else {
                100 + i * 53 % 4_900
            },
            100 + i * 91 % 90_000,
            if attack { "exfil" } else { "normal" }
        ));
    }
    let imported = import::import(csv.as_bytes(), None, &ImportLimits::default(), &mut |_| {
        true
    })
    .unwrap();
    let input = ImportInput {
        traffic: imported,
        file_name: "sizes.csv".into(),
        baseline: None,
    };
    let clock = pipeline::native_clock();
    // The first minute's flows see their trailing-window counts ramp up from nothing and score
    // high among the training rows, so 1 % contamination flags nothing here; 5 % does.
    let (config, _) = RunConfig::from_query("contamination=0.05");
    let run = pipeline::run_imported(&config, input, 0.0, &clock, &mut |_| true).unwrap();
    let r = &run.output.report;
    assert!(run.output.scored.detections.is_empty());
    assert!(
        r.metrics.detectors.is_none(),
        "no detector metrics when none ran"
    );
    assert!(
        r.data
            .training_warnings
            .iter()
            .any(|w| w
                .contains("The behavioural detectors did not run: the file has no IP addresses")),
        "{:?}",
        r.data.training_warnings
    );
    assert!(
        !r.incidents.is_empty(),
        "the models still flag the large transfers"
    );
    assert_eq!(r.responses.len(), r.incidents.len());
    for plan in &r.responses {
        assert!(
            plan.target.is_none() && plan.suggestions.is_empty(),
            "a stand-in address offered for blocking: {plan:?}"
        );
    }
}
