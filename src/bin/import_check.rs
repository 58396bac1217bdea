//! Native command line for the importers.
//!
//!   import_check FILE [--format NAME] [--json]   import one file, print a summary (or JSON)
//!   import_check --scan DIR...                   import every file under DIR, count outcomes
//!   import_check --zeek-compare DIR [--verbose]  compare our pcap flows with Zeek's conn.log
//!                                                baselines (DIR = shared/data/zeek_traces)
//!
//! The release profile aborts on panic, so a scan that finishes is also a no-panic proof.

use anomaly_detector::traffic::flow::{FlowRecord, Proto};
use anomaly_detector::traffic::import::{import, Format, ImportLimits, ImportedTraffic};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str| args.iter().any(|a| a == name);
    let value = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    if let Some(dir) = value("--zeek-compare") {
        return zeek_compare(Path::new(&dir), flag("--verbose"));
    }
    if flag("--scan") {
        let dirs: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
        return scan(&dirs);
    }
    let Some(file) = args.iter().find(|a| !a.starts_with("--")) else {
        eprintln!("usage: import_check FILE [--format NAME] [--json] | --scan DIR... | --zeek-compare DIR");
        return ExitCode::from(2);
    };
    let format = match value("--format") {
        Some(name) => match Format::parse(&name) {
            Some(f) => Some(f),
            None => {
                eprintln!("unknown format {name:?}");
                return ExitCode::from(2);
            }
        },
        None => None,
    };
    let bytes = match std::fs::read(file) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("{file}: {e}");
            return ExitCode::from(1);
        }
    };
    let started = std::time::Instant::now();
    match import(&bytes, format, &ImportLimits::default(), &mut |_| true) {
        Ok(t) => {
            if flag("--json") {
                println!("{}", serde_json::to_string_pretty(&t).unwrap_or_default());
            } else {
                print_summary(&t, started.elapsed().as_secs_f64());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{file}: {e}");
            ExitCode::from(1)
        }
    }
}

fn print_summary(t: &ImportedTraffic, seconds: f64) {
    println!("format: {} ({})", t.format, t.format.title());
    println!(
        "flows: {}   bytes read: {}   parse time: {:.3} s",
        t.flows.len(),
        t.bytes_read,
        seconds
    );
    if let Some(s) = &t.packet_stats {
        println!(
            "packets: {} (ip {}, non-ip {}, truncated {}, unsupported link {}, later fragments {}, other ip proto {})",
            s.packets, s.ip_packets, s.non_ip, s.truncated, s.unsupported_link_type, s.later_fragments, s.other_ip_proto
        );
    }
    if t.has_labels {
        let attack = t.is_attack();
        let n_attack = attack.iter().filter(|a| **a == Some(true)).count();
        let n_benign = attack.iter().filter(|a| **a == Some(false)).count();
        println!(
            "labels: {} names; {} benign, {} attack, {} unlabelled",
            t.label_names.len(),
            n_benign,
            n_attack,
            attack.len() - n_attack - n_benign
        );
    }
    if !t.extra_columns.is_empty() {
        println!(
            "extra columns ({}): {}",
            t.extra_columns.len(),
            t.extra_columns.join(", ")
        );
    }
    println!("skipped: {}", t.skipped_count);
    for s in t.skipped.iter().take(5) {
        println!("  {}: {}", s.location, s.reason);
    }
    for w in &t.warnings {
        println!("warning: {w}");
    }
    for f in t.flows.iter().take(5) {
        println!(
            "  {:.6} {} {}:{} -> {}:{} {:?} {} {}/{} bytes {}/{} pkts {} {}",
            f.ts,
            f.proto.as_str(),
            f.src_ip,
            f.src_port,
            f.dst_ip,
            f.dst_port,
            f.service,
            f.duration_s,
            f.bytes_out,
            f.bytes_in,
            f.pkts_out,
            f.pkts_in,
            f.conn_state.as_str(),
            f.history
        );
    }
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            files_under(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn scan(dirs: &[&String]) -> ExitCode {
    let mut files = Vec::new();
    for d in dirs {
        files_under(Path::new(d), &mut files);
    }
    let started = std::time::Instant::now();
    let mut by_format: BTreeMap<String, (u64, u64, u64)> = BTreeMap::new();
    let mut errors: BTreeMap<String, u64> = BTreeMap::new();
    let (mut ok, mut failed, mut flows, mut packets, mut bytes_total) =
        (0u64, 0u64, 0u64, 0u64, 0u64);
    for f in &files {
        let Ok(bytes) = std::fs::read(f) else {
            continue;
        };
        bytes_total += bytes.len() as u64;
        match import(&bytes, None, &ImportLimits::default(), &mut |_| true) {
            Ok(t) => {
                ok += 1;
                flows += t.flows.len() as u64;
                let p = t.packet_stats.map(|s| s.packets).unwrap_or(0);
                packets += p;
                let e = by_format.entry(t.format.to_string()).or_default();
                e.0 += 1;
                e.1 += t.flows.len() as u64;
                e.2 += t.skipped_count;
            }
            Err(e) => {
                failed += 1;
                let kind = serde_json::to_value(&e)
                    .ok()
                    .and_then(|v| v.get("kind").and_then(|k| k.as_str().map(str::to_string)))
                    .unwrap_or_else(|| "?".into());
                let detected = anomaly_detector::traffic::import::detect_format(&bytes)
                    .map(|f| f.to_string())
                    .unwrap_or_else(|| "not detected".into());
                *errors.entry(format!("{detected}: {kind}")).or_default() += 1;
            }
        }
    }
    println!(
        "files: {}  imported: {ok}  refused: {failed}  flows: {flows}  packets: {packets}  bytes: {bytes_total}  time: {:.2} s  (no panic: the run completed)",
        files.len(),
        started.elapsed().as_secs_f64()
    );
    for (format, (n, fl, sk)) in &by_format {
        println!("  imported as {format}: {n} files, {fl} flows, {sk} skipped records");
    }
    for (kind, n) in &errors {
        println!("  refused ({kind}): {n}");
    }
    ExitCode::SUCCESS
}

type Key = (Proto, String, u16, String, u16);

fn key(f: &FlowRecord) -> Key {
    (
        f.proto,
        f.src_ip.to_string(),
        f.src_port,
        f.dst_ip.to_string(),
        f.dst_port,
    )
}

#[derive(Default)]
struct Tally {
    zeek: u64,
    ours: u64,
    matched: u64,
    reversed: u64,
    pkts: u64,
    bytes: u64,
    bytes_reported: u64,
    bytes_ok_reported: u64,
    state: u64,
    history: u64,
    all: u64,
}

impl Tally {
    fn add(&mut self, o: &Tally) {
        self.zeek += o.zeek;
        self.ours += o.ours;
        self.matched += o.matched;
        self.reversed += o.reversed;
        self.pkts += o.pkts;
        self.bytes += o.bytes;
        self.bytes_reported += o.bytes_reported;
        self.bytes_ok_reported += o.bytes_ok_reported;
        self.state += o.state;
        self.history += o.history;
        self.all += o.all;
    }
}

fn pct(a: u64, b: u64) -> String {
    if b == 0 {
        "-".into()
    } else {
        format!("{:.1} %", 100.0 * a as f64 / b as f64)
    }
}

fn zeek_compare(dir: &Path, verbose: bool) -> ExitCode {
    let index = match std::fs::read_to_string(dir.join("conn_baseline_index.tsv")) {
        Ok(t) => t,
        Err(e) => {
            println!(
                "skipping: {} not readable ({e})",
                dir.join("conn_baseline_index.tsv").display()
            );
            return ExitCode::SUCCESS;
        }
    };
    let mut total = Tally::default();
    let mut traces = 0;
    let mut not_conn_log = 0;
    let mut state_confusion: BTreeMap<(String, String), u64> = BTreeMap::new();
    let mut unmatched_zeek: BTreeMap<String, u64> = BTreeMap::new();
    let mut unmatched_ours: BTreeMap<String, u64> = BTreeMap::new();
    let mut per_trace = Vec::new();
    for line in index.lines().skip(1) {
        let mut cols = line.split('\t');
        let (Some(base), Some(trace)) = (cols.next(), cols.next()) else {
            continue;
        };
        let log_path = dir
            .join("testing/btest/Baseline")
            .join(base)
            .join("conn.log");
        let pcap_path = dir.join("testing/btest/Traces").join(trace.trim());
        let (Ok(log), Ok(pcap)) = (std::fs::read(&log_path), std::fs::read(&pcap_path)) else {
            continue;
        };
        // btest masks timestamps; any number will do for matching by 5-tuple.
        let log = String::from_utf8_lossy(&log).replace("XXXXXXXXXX.XXXXXX", "0.000000");
        let Ok(zeek) = import(
            log.as_bytes(),
            Some(Format::ZeekTsv),
            &ImportLimits::default(),
            &mut |_| true,
        ) else {
            // zeek-cut extracts and renamed-field variants are not full conn.logs.
            not_conn_log += 1;
            continue;
        };
        let ours = match import(&pcap, None, &ImportLimits::default(), &mut |_| true) {
            Ok(t) => t.flows,
            Err(_) => Vec::new(),
        };
        traces += 1;
        let mut t = Tally {
            zeek: zeek.flows.len() as u64,
            ours: ours.len() as u64,
            ..Tally::default()
        };
        let mut by_key: HashMap<Key, Vec<usize>> = HashMap::new();
        for (i, f) in ours.iter().enumerate() {
            by_key.entry(key(f)).or_default().push(i);
        }
        let mut used = vec![false; ours.len()];
        for z in &zeek.flows {
            let k = key(z);
            let candidates = by_key.get(&k).cloned().unwrap_or_default();
            // Of several connections on one 5-tuple, pair with the most similar unused one.
            let best = candidates
                .iter()
                .filter(|&&i| !used[i])
                .max_by_key(|&&i| {
                    let o = &ours[i];
                    (o.pkts_out == z.pkts_out && o.pkts_in == z.pkts_in) as u8 * 2
                        + (o.conn_state == z.conn_state) as u8
                })
                .copied();
            match best {
                Some(i) => {
                    used[i] = true;
                    let o = &ours[i];
                    t.matched += 1;
                    let p = o.pkts_out == z.pkts_out && o.pkts_in == z.pkts_in;
                    // Zeek leaves duration and byte counts unset for zero-length connections;
                    // then only "we also saw no time pass" can be compared.
                    let reported = z.duration_s > 0.0;
                    let b = if reported {
                        t.bytes_reported += 1;
                        o.bytes_out == z.bytes_out && o.bytes_in == z.bytes_in
                    } else {
                        o.duration_s == 0.0
                    };
                    let s = o.conn_state == z.conn_state;
                    let h = o.history == z.history;
                    t.pkts += p as u64;
                    t.bytes += b as u64;
                    t.bytes_ok_reported += (b && reported) as u64;
                    t.state += s as u64;
                    t.history += h as u64;
                    t.all += (p && b && s && h) as u64;
                    if !s {
                        *state_confusion
                            .entry((z.conn_state.as_str().into(), o.conn_state.as_str().into()))
                            .or_default() += 1;
                    }
                    if verbose && !(p && b && s && h) {
                        println!(
                            "  {trace}: {} {}:{} -> {}:{}  zeek {}/{} pkts {}/{} bytes {} {}  ours {}/{} pkts {}/{} bytes {} {}",
                            z.proto.as_str(), z.src_ip, z.src_port, z.dst_ip, z.dst_port,
                            z.pkts_out, z.pkts_in, z.bytes_out, z.bytes_in, z.conn_state.as_str(), z.history,
                            o.pkts_out, o.pkts_in, o.bytes_out, o.bytes_in, o.conn_state.as_str(), o.history
                        );
                    }
                }
                None => {
                    let rev = (k.0, k.3.clone(), k.4, k.1.clone(), k.2);
                    if by_key.contains_key(&rev) {
                        t.reversed += 1;
                        *unmatched_zeek
                            .entry("originator reversed".into())
                            .or_default() += 1;
                    } else {
                        *unmatched_zeek
                            .entry(format!("{} not found", z.proto.as_str()))
                            .or_default() += 1;
                    }
                    if verbose {
                        println!(
                            "  {trace}: zeek only {} {}:{} -> {}:{} {} {}",
                            z.proto.as_str(),
                            z.src_ip,
                            z.src_port,
                            z.dst_ip,
                            z.dst_port,
                            z.conn_state.as_str(),
                            z.history
                        );
                    }
                }
            }
        }
        for (i, o) in ours.iter().enumerate() {
            if !used[i] {
                *unmatched_ours
                    .entry(format!("{} extra", o.proto.as_str()))
                    .or_default() += 1;
            }
        }
        per_trace.push((trace.to_string(), t.zeek, t.matched, t.all));
        total.add(&t);
    }
    if verbose {
        for (trace, z, m, a) in &per_trace {
            println!("{trace}: zeek {z} matched {m} all-fields {a}");
        }
    }
    println!("traces compared: {traces} (baselines skipped as not full conn.logs: {not_conn_log})");
    println!(
        "connections: zeek {}  ours {}  matched by 5-tuple {} ({} of zeek's)  reversed originator {}",
        total.zeek,
        total.ours,
        total.matched,
        pct(total.matched, total.zeek),
        total.reversed
    );
    println!("of matched connections, agreement on:");
    println!("  packets each way: {}", pct(total.pkts, total.matched));
    println!(
        "  bytes each way:   {} (where Zeek reports bytes: {} of {})",
        pct(total.bytes, total.matched),
        pct(total.bytes_ok_reported, total.bytes_reported),
        total.bytes_reported
    );
    println!("  conn_state:       {}", pct(total.state, total.matched));
    println!("  history:          {}", pct(total.history, total.matched));
    println!("  all four:         {}", pct(total.all, total.matched));
    println!(
        "all four, over all zeek connections: {}",
        pct(total.all, total.zeek)
    );
    let mut confusion: Vec<_> = state_confusion.into_iter().collect();
    confusion.sort_by_key(|c| std::cmp::Reverse(c.1));
    println!("conn_state differences (zeek -> ours):");
    for ((z, o), n) in confusion.iter().take(10) {
        println!("  {z} -> {o}: {n}");
    }
    println!("zeek connections without a match: {unmatched_zeek:?}");
    println!("our connections without a match: {unmatched_ours:?}");
    ExitCode::SUCCESS
}
