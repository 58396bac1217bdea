//! Replays the fuzzers' findings natively: every file under `tests/fuzz_regressions/<target>/`
//! (a minimised input that once crashed, hung or broke an invariant), and the committed seeds
//! under `fuzz/seeds/<target>/`, goes through the same entry point and invariant checks as the
//! fuzz target of that name (`fuzz/src/checks.rs`, compiled in here). A panic or failed
//! invariant fails the test and names the file. Zeek inputs also go through the streaming
//! reader (`zeek_stream`), which must read as many flows as the importer keeps.
#![cfg(not(target_arch = "wasm32"))]

#[path = "../fuzz/src/checks.rs"]
mod checks;

use anomaly_detector::traffic::import::zeek_stream::ZeekStream;
use anomaly_detector::traffic::import::{import, Format, ImportLimits};
use std::path::{Path, PathBuf};

/// Runs one input through the target's entry point, as `fuzz/fuzz_targets/<target>.rs` does.
fn run_target(target: &str, data: &[u8]) {
    match target {
        "import_pcap" => drop(checks::import_bytes(data, Some(Format::Pcap))),
        "import_pcapng" => drop(checks::import_bytes(data, Some(Format::Pcapng))),
        "import_zeek_tsv" => {
            drop(checks::import_bytes(data, Some(Format::ZeekTsv)));
            stream_zeek(data, Format::ZeekTsv);
        }
        "import_zeek_json" => {
            drop(checks::import_bytes(data, Some(Format::ZeekJson)));
            stream_zeek(data, Format::ZeekJson);
        }
        "import_cic" => drop(checks::import_bytes(data, Some(Format::Cic))),
        "import_kdd" => drop(checks::import_bytes(data, Some(Format::Kdd))),
        "import_unsw" => drop(checks::import_bytes(data, Some(Format::Unsw))),
        "import_suricata_eve" => drop(checks::import_bytes(data, Some(Format::SuricataEve))),
        "import_argus" => drop(checks::import_bytes(data, Some(Format::Argus))),
        "import_nfdump" => drop(checks::import_bytes(data, Some(Format::Nfdump))),
        "import_auto" => drop(checks::import_bytes(data, None)),
        "import_generic_csv" => match data.split_first() {
            Some((mode, rest)) if mode % 2 == 0 => drop(checks::import_generic_csv(rest, None)),
            Some((_, rest)) if rest.len() >= 16 => {
                let (mangle, csv) = rest.split_at(16);
                drop(checks::import_generic_csv(csv, Some(mangle)));
            }
            _ => {}
        },
        "model_json" => checks::model_json(data),
        "run_config_query" => checks::run_config_query(data),
        "worker_request" => checks::worker_request(data),
        other => panic!("no fuzz target named {other:?}: rename the folder"),
    }
}

/// The streaming reader over the same bytes: no panic, and when both it and the importer
/// accept the input, the same number of flows.
fn stream_zeek(data: &[u8], format: Format) {
    let Some(mut stream) = ZeekStream::new(data, format) else {
        panic!("{format:?} streams");
    };
    let mut flows = 0;
    let read_all = loop {
        match stream.next_flow() {
            Ok(Some(_)) => flows += 1,
            Ok(None) => break true,
            Err(_) => break false,
        }
    };
    let accepted = read_all && stream.finish().is_ok();
    let batch = import(data, Some(format), &ImportLimits::default(), &mut |_| true);
    if let (true, Ok(traffic)) = (accepted, batch) {
        assert_eq!(flows, traffic.flows.len(), "streamed vs imported flows");
    }
}

/// `(target, file)` for every file in the target folders under `root`.
fn inputs(root: &Path) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    let Ok(dirs) = std::fs::read_dir(root) else {
        return out;
    };
    for dir in dirs.flatten().filter(|d| d.path().is_dir()) {
        let target = dir.file_name().to_string_lossy().into_owned();
        for file in std::fs::read_dir(dir.path()).unwrap().flatten() {
            if file.path().is_file() {
                out.push((target.clone(), file.path()));
            }
        }
    }
    out.sort();
    out
}

fn replay(root: &Path) -> usize {
    let all = inputs(root);
    for (target, path) in &all {
        let data = std::fs::read(path).unwrap();
        let outcome = std::panic::catch_unwind(|| run_target(target, &data));
        assert!(outcome.is_ok(), "{target}: {} failed", path.display());
    }
    all.len()
}

#[test]
fn fuzz_findings_stay_fixed() {
    let n = replay(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz_regressions"));
    println!("replayed {n} regression inputs");
}

#[test]
fn fuzz_seeds_pass_the_target_checks() {
    let n = replay(&Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds"));
    // The seeds exist for every target; an empty replay means the folder moved.
    assert!(n >= 15, "only {n} seed files found under fuzz/seeds");
}
