//! The native command-line binaries as a user runs them: bad arguments are refused by clap
//! (exit code 2, message on stderr), a reader that closes standard output early ends the
//! output quietly (exit code 0, no panic), and `detect --import F --features-csv` writes one
//! row per flow of the imported file (it used to index past the end, issue #19).
#![cfg(not(target_arch = "wasm32"))]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir.join(name)
}

fn run(bin: &str, args: &[&str]) -> Output {
    Command::new(bin)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{bin}: {e}"))
}

/// A small generated traffic file written by `detect` as a Zeek conn.log (once).
fn conn_log() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(write_conn_log)
}

fn write_conn_log() -> PathBuf {
    let path = scratch("traffic.conn.log");
    let out = run(
        env!("CARGO_BIN_EXE_detect"),
        &[
            "--query",
            "seed=3&hosts=10&duration=120",
            "--no-timings",
            "--out",
            scratch("generated.json").to_str().unwrap(),
            "--conn-log",
            path.to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    path
}

#[test]
fn bad_arguments_exit_2_with_clap_message() {
    for (bin, args) in [
        (env!("CARGO_BIN_EXE_detect"), &["--no-such-flag"][..]),
        (env!("CARGO_BIN_EXE_detect"), &["--query"][..]),
        (env!("CARGO_BIN_EXE_detect"), &["--baseline", "b.log"][..]),
        (env!("CARGO_BIN_EXE_import_check"), &[][..]),
        (
            env!("CARGO_BIN_EXE_import_check"),
            &["f", "--format", "nope"][..],
        ),
        (
            env!("CARGO_BIN_EXE_model_check"),
            &["--model", "forest"][..],
        ),
        (env!("CARGO_BIN_EXE_metrics_check"), &["extra"][..]),
        (env!("CARGO_BIN_EXE_bench"), &["run", "no_such_case"][..]),
    ] {
        let out = run(bin, args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{bin} {args:?}: {stderr}");
        assert!(stderr.starts_with("error: "), "{bin} {args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{bin} {args:?}");
    }
}

#[test]
fn help_describes_every_flag() {
    let out = run(env!("CARGO_BIN_EXE_detect"), &["--help"]);
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--query",
        "--config",
        "--out",
        "--features-csv",
        "--no-timings",
        "--flows-csv",
        "--conn-log",
        "--save-model",
        "--model",
        "--import",
        "--baseline",
    ] {
        assert!(help.contains(flag), "detect --help lacks {flag}:\n{help}");
    }
}

#[test]
fn closed_stdout_ends_quietly() {
    let log = conn_log();
    let log = log.to_str().unwrap();
    for (bin, args) in [
        (env!("CARGO_BIN_EXE_import_check"), vec![log]),
        (env!("CARGO_BIN_EXE_import_check"), vec![log, "--json"]),
        (
            env!("CARGO_BIN_EXE_detect"),
            vec!["--import", log, "--no-timings"],
        ),
    ] {
        let mut child = Command::new(bin)
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawns");
        // Close the read end before the binary has imported anything: its writes then fail
        // with a broken pipe (as under `| head`).
        drop(child.stdout.take());
        let out = child.wait_with_output().expect("runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{bin} {args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{bin} {args:?}: {stderr}");
    }
}

#[test]
fn features_csv_of_an_imported_file_has_one_row_per_flow() {
    let log = conn_log();
    let (csv, report) = (scratch("imported.csv"), scratch("imported.json"));
    let out = run(
        env!("CARGO_BIN_EXE_detect"),
        &[
            "--import",
            log.to_str().unwrap(),
            "--no-timings",
            "--out",
            report.to_str().unwrap(),
            "--features-csv",
            csv.to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let features: Vec<&str> = report["data"]["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(header[..features.len()], features[..]);
    assert_eq!(
        header[features.len()..],
        ["label", "training", "if_score", "mlp_score", "ensemble"]
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len() as u64, report["data"]["flows"].as_u64().unwrap());
    assert!(rows.iter().all(|r| r.split(',').count() == header.len()));
}
