//! The native command-line binaries as a user runs them: bad arguments are refused by clap
//! (exit code 2, message on stderr), a reader that closes standard output early ends the
//! output quietly (exit code 0, no panic), and `detect --import F --features-csv` writes one
//! row per flow of the imported file (it used to index past the end, issue #19). `detect`'s
//! subcommands (`analyse`, `train`, `score`): each one's happy path, input errors exit 1
//! naming the file or the reason, and a streamed `score` equals the whole-file one bit for
//! bit.
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

/// import_check's packet summary counts what could not be read (an encrypted 802.11 frame in
/// a committed fuzz seed) beside the other packet counts, and the warning names it.
#[test]
fn import_check_counts_undecodable_frames() {
    let seed = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fuzz/seeds/import_pcap/wifi_bare.pcap"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_import_check"))
        .arg(seed)
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let all = format!("{stdout}{stderr}");
    assert!(
        all.contains("packets: 3 (ip 2,") && all.contains("undecodable 1,"),
        "{all}"
    );
    assert!(all.contains("fragment state evicted 0"), "{all}");
    assert!(all.contains("802.11 frames encrypted"), "{all}");
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

fn detect(args: &[&str]) -> Output {
    run(env!("CARGO_BIN_EXE_detect"), args)
}

fn ok(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    String::from_utf8(out.stdout.clone()).expect("UTF-8 output")
}

/// A model trained by `detect train` on other generated traffic (once).
fn model() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let path = scratch("model.json");
        ok(&detect(&[
            "train",
            "--query",
            "seed=5&hosts=10&duration=300",
            "--out",
            path.to_str().unwrap(),
        ]));
        path
    })
}

/// The CSV lines without the uid column (the whole-file importer keeps no uids).
fn without_uid(csv: &str) -> Vec<String> {
    csv.lines()
        .map(|l| {
            let mut cells: Vec<&str> = l.split(',').collect();
            cells.remove(1);
            cells.join(",")
        })
        .collect()
}

#[test]
fn analyse_is_the_default_subcommand() {
    let log = conn_log().to_str().unwrap();
    let plain = ok(&detect(&["--import", log, "--no-timings"]));
    let explicit = ok(&detect(&["analyse", "--import", log, "--no-timings"]));
    assert_eq!(plain, explicit);
    assert!(plain.starts_with('{'));
}

#[test]
fn help_documents_subcommands_and_exit_codes() {
    let top = ok(&detect(&["--help"]));
    for word in ["analyse", "train", "score", "Exit codes"] {
        assert!(top.contains(word), "detect --help lacks {word}:\n{top}");
    }
    let score = ok(&detect(&["score", "--help"]));
    for word in [
        "--model",
        "--format",
        "--out",
        "--reorder-s",
        "behavioural detectors",
        "Exit codes",
    ] {
        assert!(
            score.contains(word),
            "detect score --help lacks {word}:\n{score}"
        );
    }
    let train = ok(&detect(&["train", "--help"]));
    assert!(
        train.contains("--out") && train.contains("Exit codes"),
        "{train}"
    );
}

#[test]
fn subcommands_refuse_bad_arguments_with_2() {
    for args in [
        &["score", "--no-such-flag"][..],
        &["score", "conn.log"][..],
        &["score", "--model", "m.json"][..],
        &["score", "--model", "m.json", "f", "--format", "xml"][..],
        &["train", "--no-such-flag"][..],
        &["analyse", "--no-such-flag"][..],
        &["--no-timings", "train"][..],
        &["no-such-subcommand"][..],
    ] {
        let out = detect(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.starts_with("error: "), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn input_errors_exit_1_naming_the_file_or_the_reason() {
    let missing = scratch("no-such-file.log");
    let missing = missing.to_str().unwrap();
    let model = model().to_str().unwrap();
    let log = conn_log().to_str().unwrap();
    let foreign = scratch("foreign.json");
    std::fs::write(&foreign, r#"{"format": "something-else", "version": 1}"#).unwrap();
    let damaged = scratch("damaged.json");
    let text = std::fs::read_to_string(model).unwrap();
    std::fs::write(&damaged, &text[..text.len() / 2]).unwrap();
    let garbage = scratch("garbage.bin");
    std::fs::write(&garbage, [0xffu8, 0x00, 0x13, 0x37].repeat(64)).unwrap();
    let (foreign, damaged, garbage) = (
        foreign.to_str().unwrap(),
        damaged.to_str().unwrap(),
        garbage.to_str().unwrap(),
    );
    for (args, expect) in [
        (vec!["score", "--model", model, missing], missing),
        (vec!["score", "--model", missing, log], missing),
        (vec!["train", missing], missing),
        (vec!["analyse", "--import", missing], missing),
        (vec!["--import", missing], missing),
        (
            vec!["score", "--model", foreign, log],
            "not a detector model file",
        ),
        (vec!["score", "--model", damaged, log], damaged),
        (vec!["score", "--model", model, garbage], garbage),
        (
            vec!["analyse", "--model", foreign],
            "not a detector model file",
        ),
    ] {
        let out = detect(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains(expect), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

#[test]
fn train_writes_a_model_that_analyse_and_score_accept() {
    let log = conn_log().to_str().unwrap();
    let on_file = scratch("trained-on-file.json");
    let out = detect(&["train", log, "--out", on_file.to_str().unwrap()]);
    ok(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("model: trained on"), "{stderr}");
    let text = std::fs::read_to_string(&on_file).unwrap();
    assert!(text.contains("\"format\":\"anomaly-detector/detector\""));
    // To stdout without --out.
    let to_stdout = ok(&detect(&["train", log]));
    assert_eq!(to_stdout, text);
    let report = ok(&detect(&[
        "analyse",
        "--import",
        log,
        "--model",
        on_file.to_str().unwrap(),
        "--no-timings",
    ]));
    assert!(report.contains("\"anomaly_count\""));
}

#[test]
fn streamed_scores_equal_the_whole_file_scores_bit_for_bit() {
    let log = conn_log().to_str().unwrap();
    let model = model().to_str().unwrap();
    let stream = detect(&["score", "--model", model, log]);
    let stream_csv = ok(&stream);
    let stderr = String::from_utf8_lossy(&stream.stderr);
    assert!(stderr.contains("behavioural detectors"), "{stderr}");
    assert!(stderr.contains(" 0 late"), "{stderr}");
    let batch_csv = ok(&detect(&["score", "--model", model, "--batch", log]));
    let flows = std::fs::read_to_string(log)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .count();
    assert_eq!(stream_csv.lines().count(), flows + 1);
    assert_eq!(without_uid(&stream_csv), without_uid(&batch_csv));
    // Every flow has its uid, the scores read back as numbers, some flows are flagged.
    let rows: Vec<Vec<&str>> = stream_csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    assert!(rows.iter().all(|r| r.len() == 11 && r[1].starts_with('C')));
    assert!(rows
        .iter()
        .all(|r| r[7..10].iter().all(|v| v.parse::<f64>().is_ok())));
    let flagged = rows.iter().filter(|r| r[10] == "1").count();
    assert!(flagged > 0 && flagged < rows.len(), "{flagged}");

    // Alerts: one EVE / ECS line per flagged flow.
    for (format, key) in [("eve", "event_type"), ("ecs", "@timestamp")] {
        let alerts = ok(&detect(&[
            "score", "--model", model, "--format", format, log,
        ]));
        assert_eq!(alerts.lines().count(), flagged, "{format}");
        for line in alerts.lines() {
            let v: serde_json::Value = serde_json::from_str(line).expect("JSON line");
            assert!(v.get(key).is_some(), "{format}: {line}");
        }
    }
}

/// Zeek writes a line when the connection ends: a file out of `ts` order within the reorder
/// window scores exactly as the sorted one; beyond it, flows are late, scored on arrival and
/// counted.
#[test]
fn out_of_order_lines_within_the_reorder_window_score_as_sorted() {
    let log = conn_log();
    let model = model().to_str().unwrap();
    let text = std::fs::read_to_string(log).unwrap();
    let (header, rows): (Vec<&str>, Vec<&str>) = text.lines().partition(|l| l.starts_with('#'));
    // Swap neighbours in blocks of 8: a few seconds of disorder at most.
    let mut shuffled: Vec<&str> = Vec::new();
    for block in rows.chunks(8) {
        shuffled.extend(block.iter().rev());
    }
    let unsorted = scratch("unsorted.conn.log");
    let body = [header.clone(), shuffled].concat().join("\n") + "\n";
    std::fs::write(&unsorted, body).unwrap();
    let unsorted = unsorted.to_str().unwrap();
    let sorted_csv = ok(&detect(&["score", "--model", model, log.to_str().unwrap()]));
    let out = detect(&["score", "--model", model, unsorted]);
    let unsorted_csv = ok(&out);
    assert_eq!(sorted_csv, unsorted_csv);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(" 0 late"), "{stderr}");
    // Without a reorder window the same file has late flows, and says so.
    let out = detect(&["score", "--model", model, "--reorder-s", "0", unsorted]);
    let late_csv = ok(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains(" 0 late"), "{stderr}");
    assert!(stderr.contains("raise --reorder-s"), "{stderr}");
    assert_eq!(late_csv.lines().count(), sorted_csv.lines().count());
}

#[test]
fn score_ends_quietly_when_the_reader_goes_away() {
    let log = conn_log().to_str().unwrap();
    let model = model().to_str().unwrap();
    for format in ["csv", "eve"] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_detect"))
            .args(["score", "--model", model, "--format", format, log])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawns");
        drop(child.stdout.take());
        let out = child.wait_with_output().expect("runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{format}: {stderr}");
        assert!(!stderr.contains("panicked"), "{format}: {stderr}");
        assert!(!stderr.contains("Broken pipe"), "{format}: {stderr}");
    }
}

#[test]
fn score_reads_other_formats_whole_and_says_so() {
    let flows_csv = scratch("flows.csv");
    ok(&detect(&[
        "--query",
        "seed=3&hosts=10&duration=120",
        "--no-timings",
        "--out",
        scratch("gen-csv.json").to_str().unwrap(),
        "--flows-csv",
        flows_csv.to_str().unwrap(),
    ]));
    let out = detect(&[
        "score",
        "--model",
        model().to_str().unwrap(),
        flows_csv.to_str().unwrap(),
    ]);
    let csv = ok(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("imported whole"), "{stderr}");
    assert!(csv.starts_with("ts,uid,src_ip"));
    assert!(csv.lines().count() > 1);
}

/// A model trained on a conn.log keeps its extra numeric columns (`missed_bytes`,
/// `orig_ip_bytes`, ...): the stream reads them from each line as the importer does, so the
/// scores still equal the whole-file ones; standard input streams too.
#[test]
fn a_model_with_the_files_own_columns_streams_like_the_batch_path() {
    let log = conn_log().to_str().unwrap();
    let model = scratch("trained-on-conn-log.json");
    ok(&detect(&["train", log, "--out", model.to_str().unwrap()]));
    let text = std::fs::read_to_string(&model).unwrap();
    assert!(
        text.contains("orig_ip_bytes"),
        "the model uses the file's columns"
    );
    let model = model.to_str().unwrap();
    let stream = ok(&detect(&["score", "--model", model, log]));
    let batch = ok(&detect(&["score", "--model", model, "--batch", log]));
    assert_eq!(without_uid(&stream), without_uid(&batch));
    let stdin = std::fs::File::open(log).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_detect"))
        .args(["score", "--model", model, "-"])
        .stdin(stdin)
        .output()
        .expect("runs");
    assert_eq!(ok(&out), stream);
}

/// Another Zeek log given to `score` is refused with its name, as the importer refuses it.
#[test]
fn score_refuses_another_zeek_log_with_its_name() {
    let dns = scratch("other.log");
    std::fs::write(
        &dns,
        "#separator \\x09\n#path\tdns\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\ttrans_id\tquery\tqtype_name\trcode_name\n\
         1.0\tC1\t10.0.0.1\t5353\t10.0.0.2\t53\tudp\t1\texample.com\tA\tNOERROR\n",
    )
    .unwrap();
    let out = detect(&[
        "score",
        "--model",
        model().to_str().unwrap(),
        dns.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("other.log: This is a Zeek dns.log"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// `score --query` sets the threshold policy as the page's settings do: a stricter one flags
/// fewer flows, and the policy is named on stderr.
#[test]
fn score_takes_the_threshold_policy_from_the_query() {
    let log = conn_log().to_str().unwrap();
    let model = model().to_str().unwrap();
    let flagged = |csv: &str| csv.lines().filter(|l| l.ends_with(",1")).count();
    let default = flagged(&ok(&detect(&["score", "--model", model, log])));
    let out = detect(&[
        "score",
        "--model",
        model,
        "--query",
        "threshold=fpr&target_fpr=0.0001",
        log,
    ]);
    let strict = flagged(&ok(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("training_fpr"), "{stderr}");
    assert!(strict <= default, "{strict} > {default}");
    assert!(!stderr.contains("ignored"), "{stderr}");

    // Settings the saved model brings are named, not silently dropped.
    let out = detect(&[
        "score",
        "--model",
        model,
        "--query",
        "contamination=0.02&hosts=20&trees=50",
        log,
    ]);
    ok(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("notice: hosts, trees: only the threshold settings apply"),
        "{stderr}"
    );
}
