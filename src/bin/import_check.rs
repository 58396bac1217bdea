//! Native command line for the importers.
//!
//!   import_check FILE [--format NAME] [--json]   import one file, print a summary (or JSON)
//!   import_check --scan DIR...                   import every file under DIR, count outcomes
//!   import_check --zeek-compare DIR [--verbose]  compare our pcap flows with Zeek's conn.log
//!                                                baselines (DIR = shared/data/zeek_traces)
//!
//! The release profile aborts on panic, so a scan that finishes is also a no-panic proof.
//! Arguments are parsed by `clap` (`import_check --help`; native only: built for wasm this
//! binary is an empty main); bad arguments exit with code 2 and clap's message on stderr, a
//! file that cannot be read or imported with code 1. A reader that closes standard output
//! early (`import_check FILE | head -4`) ends the output quietly, with exit code 0.

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    cli::main()
}

#[cfg(not(target_arch = "wasm32"))]
mod cli {
    use anomaly_detector::traffic::flow::{FlowRecord, Proto};
    use anomaly_detector::traffic::import::{
        import, Format, ImportLimits, ImportWarning, ImportedTraffic,
    };
    use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
    use clap::Parser;
    use std::collections::{BTreeMap, HashMap};
    use std::io::{self, Write};
    use std::path::{Path, PathBuf};
    use std::process::ExitCode;

    /// Imports network traffic files the way the anomaly detector's page does and tells what it
    /// read.
    ///
    /// With FILE: imports it (the format detected from its content unless --format names it) and
    /// prints a summary (format, flows, packets, labels, skipped records with the reason,
    /// warnings, the first flows) or, with --json, everything imported as JSON. With --scan:
    /// imports every file under the DIRs and counts what was imported or refused, by format and
    /// reason. With --zeek-compare: reads each pcap of Zeek's test traces and compares our flows
    /// with Zeek's own conn.log of it, connection by connection.
    #[derive(Parser, Debug)]
    #[command(
        name = "import_check",
        version,
        args_override_self = true,
        override_usage = "import_check [--format NAME] [--json] FILE\n       \
                      import_check --scan DIR...\n       \
                      import_check --zeek-compare DIR [--verbose]"
    )]
    struct Args {
        /// The file to import or, with --scan, the directories to scan (recursively)
        #[arg(
            value_name = "FILE|DIR",
            required_unless_present = "zeek_compare",
            conflicts_with = "zeek_compare"
        )]
        paths: Vec<PathBuf>,

        /// Read FILE as this format instead of detecting it from the content (aliases such as
        /// zeek, csv, nsl-kdd, unsw-nb15, cicflowmeter are accepted)
        #[arg(long, value_name = "NAME", value_parser = FormatParser, conflicts_with = "scan")]
        format: Option<Format>,

        /// Print everything imported (flows, labels, skipped records, warnings) as pretty JSON
        /// instead of the summary
        #[arg(long, conflicts_with = "scan")]
        json: bool,

        /// Import every file under the DIRs given (recursively, in name order) and print counts
        /// of files imported and refused, flows, packets and bytes, by format and reason
        #[arg(long)]
        scan: bool,

        /// Compare our flows from the pcaps of Zeek's test traces with Zeek's conn.log baselines
        /// (DIR holds conn_baseline_index.tsv and testing/btest, e.g. shared/data/zeek_traces);
        /// prints the share of connections matched and of agreement on packets, bytes,
        /// conn_state and history
        #[arg(long, value_name = "DIR", conflicts_with_all = ["scan", "format", "json"])]
        zeek_compare: Option<PathBuf>,

        /// With --zeek-compare: also list every connection that differs and per-trace counts
        #[arg(long, requires = "zeek_compare", conflicts_with = "paths")]
        verbose: bool,
    }

    /// `--format`: any name `Format::parse` accepts; help and errors list the canonical names.
    #[derive(Clone)]
    struct FormatParser;

    impl TypedValueParser for FormatParser {
        type Value = Format;

        fn parse_ref(
            &self,
            cmd: &clap::Command,
            arg: Option<&clap::Arg>,
            value: &std::ffi::OsStr,
        ) -> Result<Format, clap::Error> {
            match value.to_str().and_then(Format::parse) {
                Some(format) => Ok(format),
                // Not a known name: clap's own "invalid value ... [possible values: ...]" error.
                None => {
                    let names = Format::ALL.map(Format::as_str);
                    PossibleValuesParser::new(names)
                        .parse_ref(cmd, arg, value)
                        .and_then(|name| {
                            Format::parse(&name).ok_or_else(|| {
                                clap::Error::new(clap::error::ErrorKind::InvalidValue).with_cmd(cmd)
                            })
                        })
                }
            }
        }

        fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
            Some(Box::new(
                Format::ALL
                    .into_iter()
                    .map(|f| PossibleValue::new(f.as_str()).help(f.title())),
            ))
        }
    }

    pub fn main() -> ExitCode {
        let args = Args::parse();
        // Locked once and buffered; flushed before the exit code is decided.
        let mut out = io::BufWriter::new(io::stdout().lock());
        let code = if let Some(dir) = &args.zeek_compare {
            zeek_compare(dir, args.verbose, &mut out)
        } else if args.scan {
            scan(&args.paths, &mut out)
        } else {
            one_file(&args, &mut out)
        };
        finish(code.and_then(|code| out.flush().map(|()| code)))
    }

    /// The exit code of a run whose output may have failed: a closed standard output (the reader
    /// stopped early, as `| head` does) ends quietly with success, any other write error fails.
    fn finish(result: io::Result<ExitCode>) -> ExitCode {
        match result {
            Ok(code) => code,
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("import_check: stdout: {e}");
                ExitCode::from(1)
            }
        }
    }

    fn one_file(args: &Args, out: &mut impl Write) -> io::Result<ExitCode> {
        let [file] = args.paths.as_slice() else {
            // Reported as clap reports its own errors (usage, exit code 2).
            use clap::CommandFactory;
            Args::command()
                .error(
                    clap::error::ErrorKind::TooManyValues,
                    "one FILE at a time (--scan takes several directories)",
                )
                .exit();
        };
        let bytes = match std::fs::read(file) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("{}: {e}", file.display());
                return Ok(ExitCode::from(1));
            }
        };
        let started = std::time::Instant::now();
        match import(&bytes, args.format, &ImportLimits::default(), &mut |_| true) {
            Ok(t) => {
                if args.json {
                    writeln!(
                        out,
                        "{}",
                        serde_json::to_string_pretty(&t).unwrap_or_default()
                    )?;
                } else {
                    print_summary(&t, started.elapsed().as_secs_f64(), out)?;
                }
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => {
                eprintln!("{}: {e}", file.display());
                Ok(ExitCode::from(1))
            }
        }
    }

    fn print_summary(t: &ImportedTraffic, seconds: f64, out: &mut impl Write) -> io::Result<()> {
        writeln!(out, "format: {} ({})", t.format, t.format.title())?;
        writeln!(
            out,
            "flows: {}   bytes read: {}   parse time: {:.3} s",
            t.flows.len(),
            t.bytes_read,
            seconds
        )?;
        if let Some(s) = &t.packet_stats {
            writeln!(out,
            "packets: {} (ip {}, non-ip {}, truncated {}, unsupported link {}, undecodable {}, later fragments {}, fragment state evicted {}, other ip proto {})",
            s.packets, s.ip_packets, s.non_ip, s.truncated, s.unsupported_link_type, s.undecodable, s.later_fragments, s.fragments_evicted, s.other_ip_proto
        )?;
        }
        if t.has_labels {
            let attack = t.is_attack();
            let n_attack = attack.iter().filter(|a| **a == Some(true)).count();
            let n_benign = attack.iter().filter(|a| **a == Some(false)).count();
            writeln!(
                out,
                "labels: {} names; {} benign, {} attack, {} unlabelled",
                t.label_names.len(),
                n_benign,
                n_attack,
                attack.len() - n_attack - n_benign
            )?;
        }
        if !t.extra_columns.is_empty() {
            writeln!(
                out,
                "extra columns ({}): {}",
                t.extra_columns.len(),
                t.extra_columns.join(", ")
            )?;
        }
        writeln!(out, "skipped: {}", t.skipped_count)?;
        for s in t.skipped.iter().take(5) {
            writeln!(out, "  {}: {}", s.location, s.reason)?;
        }
        for w in &t.warnings {
            writeln!(out, "warning: {w}")?;
        }
        for f in t.flows.iter().take(5) {
            writeln!(
                out,
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
            )?;
        }
        Ok(())
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

    fn scan(dirs: &[PathBuf], out: &mut impl Write) -> io::Result<ExitCode> {
        let mut files = Vec::new();
        for d in dirs {
            files_under(d, &mut files);
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
        writeln!(out,
        "files: {}  imported: {ok}  refused: {failed}  flows: {flows}  packets: {packets}  bytes: {bytes_total}  time: {:.2} s  (no panic: the run completed)",
        files.len(),
        started.elapsed().as_secs_f64()
    )?;
        for (format, (n, fl, sk)) in &by_format {
            writeln!(
                out,
                "  imported as {format}: {n} files, {fl} flows, {sk} skipped records"
            )?;
        }
        for (kind, n) in &errors {
            writeln!(out, "  refused ({kind}): {n}")?;
        }
        Ok(ExitCode::SUCCESS)
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

    /// The sum of `missed_bytes` over a conn.log's TCP rows; `None` without those columns.
    fn tcp_missed_bytes(log: &str) -> Option<u64> {
        let mut fields: Option<Vec<&str>> = None;
        let mut total = 0u64;
        for line in log.lines() {
            if let Some(names) = line.strip_prefix("#fields\t") {
                fields = Some(names.split('\t').collect());
                continue;
            }
            let Some(names) = fields.as_ref() else {
                continue;
            };
            if line.starts_with('#') {
                continue;
            }
            let col = |name: &str| names.iter().position(|n| *n == name);
            let (proto, missed) = (col("proto")?, col("missed_bytes")?);
            let cells: Vec<&str> = line.split('\t').collect();
            if cells.get(proto) == Some(&"tcp") {
                total += cells.get(missed).and_then(|m| m.parse().ok()).unwrap_or(0);
            }
        }
        fields.map(|_| total)
    }

    fn zeek_compare(dir: &Path, verbose: bool, out: &mut impl Write) -> io::Result<ExitCode> {
        let index = match std::fs::read_to_string(dir.join("conn_baseline_index.tsv")) {
            Ok(t) => t,
            Err(e) => {
                writeln!(
                    out,
                    "skipping: {} not readable ({e})",
                    dir.join("conn_baseline_index.tsv").display()
                )?;
                return Ok(ExitCode::SUCCESS);
            }
        };
        let mut total = Tally::default();
        let mut traces = 0;
        let mut not_conn_log = 0;
        let mut state_confusion: BTreeMap<(String, String), u64> = BTreeMap::new();
        let mut unmatched_zeek: BTreeMap<String, u64> = BTreeMap::new();
        let mut unmatched_ours: BTreeMap<String, u64> = BTreeMap::new();
        let mut per_trace = Vec::new();
        let (mut missed_traces, mut missed_equal, mut missed_nonzero) = (0u64, 0u64, 0u64);
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
            let (ours, our_missed) =
                match import(&pcap, None, &ImportLimits::default(), &mut |_| true) {
                    Ok(t) => {
                        let missed = t.warnings.iter().find_map(|w| match w {
                            ImportWarning::CaptureGaps { missed_bytes, .. } => Some(*missed_bytes),
                            _ => None,
                        });
                        (t.flows, missed.unwrap_or(0))
                    }
                    Err(_) => (Vec::new(), 0),
                };
            // FlowRecord has no missed_bytes; the capture's total is in the import's warnings.
            if let Some(zeek_missed) = tcp_missed_bytes(&log) {
                missed_traces += 1;
                if zeek_missed == our_missed {
                    missed_equal += 1;
                } else if verbose {
                    writeln!(
                        out,
                        "  {trace}: TCP missed bytes zeek {zeek_missed} ours {our_missed}"
                    )?;
                }
                missed_nonzero += u64::from(zeek_missed > 0);
            }
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
                            writeln!(out,
                            "  {trace}: {} {}:{} -> {}:{}  zeek {}/{} pkts {}/{} bytes {} {}  ours {}/{} pkts {}/{} bytes {} {}",
                            z.proto.as_str(), z.src_ip, z.src_port, z.dst_ip, z.dst_port,
                            z.pkts_out, z.pkts_in, z.bytes_out, z.bytes_in, z.conn_state.as_str(), z.history,
                            o.pkts_out, o.pkts_in, o.bytes_out, o.bytes_in, o.conn_state.as_str(), o.history
                        )?;
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
                            writeln!(
                                out,
                                "  {trace}: zeek only {} {}:{} -> {}:{} {} {}",
                                z.proto.as_str(),
                                z.src_ip,
                                z.src_port,
                                z.dst_ip,
                                z.dst_port,
                                z.conn_state.as_str(),
                                z.history
                            )?;
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
                writeln!(out, "{trace}: zeek {z} matched {m} all-fields {a}")?;
            }
        }
        writeln!(
            out,
            "traces compared: {traces} (baselines skipped as not full conn.logs: {not_conn_log})"
        )?;
        writeln!(out,
        "connections: zeek {}  ours {}  matched by 5-tuple {} ({} of zeek's)  reversed originator {}",
        total.zeek,
        total.ours,
        total.matched,
        pct(total.matched, total.zeek),
        total.reversed
    )?;
        writeln!(out, "of matched connections, agreement on:")?;
        writeln!(
            out,
            "  packets each way: {}",
            pct(total.pkts, total.matched)
        )?;
        writeln!(
            out,
            "  bytes each way:   {} (where Zeek reports bytes: {} of {})",
            pct(total.bytes, total.matched),
            pct(total.bytes_ok_reported, total.bytes_reported),
            total.bytes_reported
        )?;
        writeln!(
            out,
            "  conn_state:       {}",
            pct(total.state, total.matched)
        )?;
        writeln!(
            out,
            "  history:          {}",
            pct(total.history, total.matched)
        )?;
        writeln!(out, "  all four:         {}", pct(total.all, total.matched))?;
        writeln!(
            out,
            "TCP missed bytes (Zeek's missed_bytes), total per trace: equal in {missed_equal} of {missed_traces} traces ({missed_nonzero} of them with gaps)"
        )?;
        writeln!(
            out,
            "all four, over all zeek connections: {}",
            pct(total.all, total.zeek)
        )?;
        let mut confusion: Vec<_> = state_confusion.into_iter().collect();
        confusion.sort_by_key(|c| std::cmp::Reverse(c.1));
        writeln!(out, "conn_state differences (zeek -> ours):")?;
        for ((z, o), n) in confusion.iter().take(10) {
            writeln!(out, "  {z} -> {o}: {n}")?;
        }
        writeln!(out, "zeek connections without a match: {unmatched_zeek:?}")?;
        writeln!(out, "our connections without a match: {unmatched_ours:?}")?;
        Ok(ExitCode::SUCCESS)
    }

    #[cfg(test)]
    mod tests {
        use super::Args;
        use clap::CommandFactory;

        #[test]
        fn arguments_are_consistent() {
            Args::command().debug_assert();
        }
    }
}
