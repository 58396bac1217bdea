//! `detect follow` against a real writer process (a small Python script) that appends a Zeek
//! conn.log over time, leaves a line half written, rotates the file by renaming it and
//! starting a new one with its own header, and truncates it. Each test checks follow's output
//! against `detect score` on the same lines concatenated: every flow (CSV) or alert (EVE)
//! exactly once, with identical scores, across a partial line, rotation, truncation and a
//! restart from a checkpoint (SIGTERM in the middle, the file rotated while stopped).
//!
//! Timing: the tests poll for conditions (with generous deadlines) instead of sleeping for
//! fixed times, so a loaded machine makes them slower, not flaky.
#![cfg(all(unix, not(target_arch = "wasm32")))]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

const DETECT: &str = env!("CARGO_BIN_EXE_detect");
/// Any wait for a condition gives up after this.
const DEADLINE: Duration = Duration::from_secs(60);

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("follow-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let path = dir.join(name);
    let _ = std::fs::remove_dir_all(&path);
    let _ = std::fs::remove_file(&path);
    path
}

fn ok(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    String::from_utf8(out.stdout.clone()).expect("UTF-8 output")
}

fn detect(args: &[&str]) -> String {
    ok(&Command::new(DETECT)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("detect"))
}

/// Generated traffic as a conn.log (header lines, rows) and a model trained on other
/// traffic (once).
struct Fixture {
    header: Vec<String>,
    rows: Vec<String>,
    model: PathBuf,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let log = scratch("traffic.conn.log");
        let model = scratch("model.json");
        detect(&[
            "--query",
            "seed=3&hosts=10&duration=120",
            "--no-timings",
            "--out",
            scratch("report.json").to_str().unwrap(),
            "--conn-log",
            log.to_str().unwrap(),
        ]);
        detect(&[
            "train",
            "--query",
            "seed=5&hosts=10&duration=300",
            "--out",
            model.to_str().unwrap(),
        ]);
        let text = std::fs::read_to_string(&log).unwrap();
        let header = text
            .lines()
            .filter(|l| l.starts_with('#') && !l.starts_with("#close"))
            .map(str::to_string)
            .collect();
        let rows: Vec<String> = text
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(str::to_string)
            .collect();
        assert!(rows.len() > 900, "{}", rows.len());
        Fixture {
            header,
            rows,
            model,
        }
    })
}

/// What the writer process does, step by step, and the text `detect score` should see:
/// every line written, in order, whatever file it went to.
#[derive(Default)]
struct Plan {
    steps: Vec<String>,
    expected: String,
}

impl Plan {
    fn header(&mut self, file: &str) -> &mut Plan {
        self.steps.push(format!("header {file}"));
        for h in &fixture().header {
            self.expected += h;
            self.expected.push('\n');
        }
        self
    }

    fn rows(&mut self, file: &str, from: usize, to: usize) -> &mut Plan {
        self.steps.push(format!("rows {file} {from} {to}"));
        for r in &fixture().rows[from..to] {
            self.expected += r;
            self.expected.push('\n');
        }
        self
    }

    /// Row `i` written in two halves, with `say half` and a wait for `go` in between.
    fn split_row(&mut self, file: &str, i: usize, go: &Path) -> &mut Plan {
        self.steps.push(format!("half {file} {i}"));
        self.say("half");
        self.wait(go);
        self.steps.push(format!("rest {file} {i}"));
        self.expected += &fixture().rows[i];
        self.expected.push('\n');
        self
    }

    fn say(&mut self, word: &str) -> &mut Plan {
        self.steps.push(format!("say {word}"));
        self
    }

    fn wait(&mut self, path: &Path) -> &mut Plan {
        self.steps.push(format!("wait {}", path.display()));
        self
    }

    fn step(&mut self, step: &str) -> &mut Plan {
        self.steps.push(step.to_string());
        self
    }
}

/// Appends rows in small flushed chunks with pauses, as a sensor would.
const WRITER: &str = r##"
import os, sys, time
src, plan, base = sys.argv[1], sys.argv[2], sys.argv[3]
lines = open(src).read().split("\n")
header = [l for l in lines if l.startswith("#") and not l.startswith("#close")]
rows = [l for l in lines if l and not l.startswith("#")]
def path(name): return os.path.join(base, name)
def append(name, text):
    with open(path(name), "a") as f:
        f.write(text)
        f.flush()
for step in open(plan).read().splitlines():
    cmd, *args = step.split(" ")
    if cmd == "header":
        append(args[0], "\n".join(header) + "\n")
    elif cmd == "rows":
        a, b = int(args[1]), int(args[2])
        for i in range(a, b, 40):
            append(args[0], "".join(r + "\n" for r in rows[i:min(i + 40, b)]))
            time.sleep(0.01)
    elif cmd == "half":
        r = rows[int(args[1])]
        append(args[0], r[: len(r) // 2])
    elif cmd == "rest":
        r = rows[int(args[1])]
        append(args[0], r[len(r) // 2 :] + "\n")
    elif cmd == "say":
        print(args[0], flush=True)
    elif cmd == "wait":
        while not os.path.exists(args[0]):
            time.sleep(0.01)
    elif cmd == "rename":
        os.rename(path(args[0]), path(args[1]))
    elif cmd == "truncate":
        open(path(args[0]), "w").close()
    elif cmd == "sleep":
        time.sleep(int(args[0]) / 1000)
"##;

/// A running process whose standard output lines are collected as they come.
struct Running {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Running {
    fn spawn(mut cmd: Command) -> Running {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let out = child.stdout.take().unwrap();
        let sink = Arc::clone(&lines);
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                match line {
                    Ok(l) => sink.lock().unwrap().push(l),
                    Err(_) => break,
                }
            }
        });
        Running {
            child,
            lines,
            reader: Some(reader),
        }
    }

    fn count(&self) -> usize {
        self.lines.lock().unwrap().len()
    }

    /// Waits until `cond` holds for the lines so far.
    fn until(&self, what: &str, cond: impl Fn(&[String]) -> bool) {
        let start = Instant::now();
        while !cond(&self.lines.lock().unwrap()) {
            assert!(start.elapsed() < DEADLINE, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for the process to end; its output lines and standard error.
    fn finish(mut self) -> (Vec<String>, String) {
        let start = Instant::now();
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            if start.elapsed() > DEADLINE {
                let _ = self.child.kill();
                panic!("process did not end");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        if let Some(r) = self.reader.take() {
            r.join().unwrap();
        }
        let mut stderr = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            std::io::Read::read_to_string(&mut e, &mut stderr).unwrap();
        }
        assert!(status.success(), "{status}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        let lines = self.lines.lock().unwrap().clone();
        (lines, stderr)
    }
}

fn writer(plan: &Plan, dir: &Path, name: &str) -> Running {
    let script = scratch(&format!("{name}-writer.py"));
    std::fs::write(&script, WRITER).unwrap();
    let plan_file = scratch(&format!("{name}-plan.txt"));
    std::fs::write(&plan_file, plan.steps.join("\n") + "\n").unwrap();
    let source = scratch(&format!("{name}-source.log"));
    let f = fixture();
    std::fs::write(
        &source,
        f.header.join("\n") + "\n" + &f.rows.join("\n") + "\n",
    )
    .unwrap();
    let mut cmd = Command::new("python3");
    cmd.arg(&script).arg(&source).arg(&plan_file).arg(dir);
    Running::spawn(cmd)
}

fn follow(path: &Path, extra: &[&str]) -> Running {
    let mut cmd = Command::new(DETECT);
    cmd.args(["follow", "--model"])
        .arg(&fixture().model)
        .arg(path)
        .args(["--poll-ms", "50"])
        .args(extra);
    Running::spawn(cmd)
}

/// `detect score` on `text` (written to a file): its output lines.
fn batch_score(text: &str, format: &str, name: &str) -> Vec<String> {
    let file = scratch(&format!("{name}-all.log"));
    std::fs::write(&file, text).unwrap();
    detect(&[
        "score",
        "--model",
        fixture().model.to_str().unwrap(),
        "--format",
        format,
        file.to_str().unwrap(),
    ])
    .lines()
    .map(str::to_string)
    .collect()
}

/// A directory Zeek rotates into: lines appear over time, one is left half written for a
/// while (not scored until its newline comes), the file is renamed away and a new one
/// started; follow's CSV equals `detect score`'s on the lines concatenated, row for row.
#[test]
fn follow_scores_every_line_once_across_a_partial_line_and_rotation() {
    let f = fixture();
    let dir = scratch("rotating");
    std::fs::create_dir_all(&dir).unwrap();
    let go = scratch("rotating-go");
    let mut plan = Plan::default();
    plan.header("conn.log")
        .rows("conn.log", 0, 300)
        .split_row("conn.log", 300, &go)
        .rows("conn.log", 301, 500)
        .step("sleep 300")
        .step("rename conn.log conn.2026-12-07-20-00-00.log")
        .header("conn.log")
        .rows("conn.log", 500, f.rows.len());
    let follower = follow(&dir, &["--format", "csv", "--exit-when-idle-ms", "5000"]);
    let w = writer(&plan, &dir, "rotating");
    w.until("the half line", |l| l.iter().any(|x| x == "half"));
    // The header line and the 300 complete rows come out; the half-written row does not.
    follower.until("300 rows", |l| l.len() >= 301);
    let settle = Instant::now();
    while settle.elapsed() < Duration::from_millis(800) {
        assert_eq!(follower.count(), 301, "a partial line was scored");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::fs::write(&go, "").unwrap();
    w.finish();
    let (out, stderr) = follower.finish();
    assert!(stderr.contains("rotated"), "{stderr}");
    let expected = batch_score(&plan.expected, "csv", "rotating");
    assert_eq!(out.len(), f.rows.len() + 1);
    assert_eq!(out, expected);
}

/// copytruncate-style rotation: the file is emptied in place and written again; follow
/// notices it shrank and reads it from its start.
#[test]
fn a_truncated_file_is_read_again_from_its_start() {
    let dir = scratch("truncating");
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("conn.log");
    let mut plan = Plan::default();
    plan.header("conn.log")
        .rows("conn.log", 0, 200)
        .say("first")
        .wait(&scratch("truncating-go"))
        .step("truncate conn.log")
        .step("sleep 500")
        .header("conn.log")
        .rows("conn.log", 200, 300);
    // The file must exist before follow starts on it by name.
    std::fs::write(&log, "").unwrap();
    let follower = follow(&log, &["--format", "csv", "--exit-when-idle-ms", "5000"]);
    let w = writer(&plan, &dir, "truncating");
    w.until("the first part", |l| l.iter().any(|x| x == "first"));
    follower.until("the first part scored", |l| l.len() > 200);
    std::fs::write(scratch("truncating-go"), "").unwrap();
    w.finish();
    let (out, stderr) = follower.finish();
    assert!(stderr.contains("truncated"), "{stderr}");
    assert_eq!(out, batch_score(&plan.expected, "csv", "truncating"));
}

/// Stopped by SIGTERM in the middle and started again with its checkpoint, after the file
/// was rotated away while it was down: the two runs' EVE alerts together equal `detect
/// score`'s on all the lines, line for line (same scores, same flow ids): nothing written
/// twice, nothing missed.
#[test]
fn a_restart_from_the_checkpoint_re_emits_nothing_and_misses_nothing() {
    let f = fixture();
    let dir = scratch("restart");
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("conn.log");
    let checkpoint = scratch("restart-checkpoint.json");
    let go = scratch("restart-go");
    let mut plan = Plan::default();
    plan.header("conn.log")
        .rows("conn.log", 0, 400)
        .say("first")
        .wait(&go)
        .rows("conn.log", 400, 700)
        .step("rename conn.log conn.log.1")
        .header("conn.log")
        .rows("conn.log", 700, f.rows.len());
    std::fs::write(&log, "").unwrap();
    let cp = checkpoint.to_str().unwrap();
    let w = writer(&plan, &dir, "restart");
    let first = follow(&log, &["--checkpoint", cp]);
    w.until("the first part", |l| l.iter().any(|x| x == "first"));
    first.until("some alerts", |l| !l.is_empty());
    let pid = first.child.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
    let (before, stderr) = first.finish();
    assert!(stderr.contains("stopped by a signal"), "{stderr}");
    // While it is down: more lines, then the file rotated away and a new one begun.
    std::fs::write(&go, "").unwrap();
    w.finish();
    let second = follow(&log, &["--checkpoint", cp, "--exit-when-idle-ms", "1500"]);
    let (after, stderr) = second.finish();
    assert!(stderr.contains("resumed from the checkpoint"), "{stderr}");
    assert!(stderr.contains("rotated"), "{stderr}");
    let expected = batch_score(&plan.expected, "eve", "restart");
    assert!(!before.is_empty() && !after.is_empty());
    assert_eq!([before, after].concat(), expected);

    // A third start finds nothing new: it writes nothing.
    let third = follow(&log, &["--checkpoint", cp, "--exit-when-idle-ms", "500"]);
    let (again, _) = third.finish();
    assert!(again.is_empty(), "{again:?}");
}

/// `--help` names every flag and the exit codes; a file that is not a conn.log and a missing
/// model end with exit code 1 and the reason.
#[test]
fn help_and_bad_input() {
    let help = detect(&["follow", "--help"]);
    for flag in [
        "--model",
        "--format",
        "--checkpoint",
        "--poll-ms",
        "--from-start",
        "--from-end",
        "--exit-when-idle-ms",
        "Exit codes",
    ] {
        assert!(help.contains(flag), "follow --help lacks {flag}:\n{help}");
    }
    let dir = scratch("bad");
    std::fs::create_dir_all(&dir).unwrap();
    let csv = dir.join("conn.log");
    std::fs::write(&csv, "a,b,c\n1,2,3\n").unwrap();
    let model = fixture().model.to_str().unwrap();
    for (args, reason) in [
        (
            vec!["follow", "--model", model, csv.to_str().unwrap()],
            "not a Zeek conn.log",
        ),
        (
            vec![
                "follow",
                "--model",
                "/no/such/model.json",
                csv.to_str().unwrap(),
            ],
            "model.json",
        ),
    ] {
        let out = Command::new(DETECT)
            .args(&args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains(reason), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}
