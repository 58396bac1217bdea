//! Generated (or imported) flows as text other tools read: CSV with a header row, and Zeek's
//! conn.log TSV format with its `#` header lines, plus the ground-truth columns `label`,
//! `incident_id` and `orig_role`.
//!
//! Output is deterministic: timestamps and durations are written as exact microseconds (no
//! float formatting), and Zeek `uid`s are derived from a seed and the row index, not drawn at
//! random. The `write_*` functions stream into any `fmt::Write` (or `io::Write` through
//! [`IoWriter`]) so a million flows need no intermediate beyond the output itself. Not a
//! parser: importing lives elsewhere.

use crate::traffic::flow::{FlowRecord, OrigRole, Proto};
use crate::util::time_format;
use std::fmt::{self, Write};
use std::io;
use std::net::IpAddr;

/// CSV column names, in order.
pub const CSV_COLUMNS: [&str; 17] = [
    "ts",
    "src_ip",
    "src_port",
    "dst_ip",
    "dst_port",
    "proto",
    "service",
    "duration_s",
    "bytes_out",
    "bytes_in",
    "pkts_out",
    "pkts_in",
    "conn_state",
    "history",
    "label",
    "incident_id",
    "orig_role",
];

/// Zeek conn.log columns (Zeek's own, then the ground truth), and their Zeek types.
pub const ZEEK_FIELDS: [(&str, &str); 24] = [
    ("ts", "time"),
    ("uid", "string"),
    ("id.orig_h", "addr"),
    ("id.orig_p", "port"),
    ("id.resp_h", "addr"),
    ("id.resp_p", "port"),
    ("proto", "enum"),
    ("service", "string"),
    ("duration", "interval"),
    ("orig_bytes", "count"),
    ("resp_bytes", "count"),
    ("conn_state", "string"),
    ("local_orig", "bool"),
    ("local_resp", "bool"),
    ("missed_bytes", "count"),
    ("history", "string"),
    ("orig_pkts", "count"),
    ("orig_ip_bytes", "count"),
    ("resp_pkts", "count"),
    ("resp_ip_bytes", "count"),
    ("tunnel_parents", "set[string]"),
    ("label", "string"),
    ("incident_id", "count"),
    ("orig_role", "string"),
];

/// The uid seed `to_zeek_conn_log` uses.
pub const DEFAULT_UID_SEED: u64 = 0;

/// All flows as CSV (header row first, `\n` line ends).
pub fn to_csv(flows: &[FlowRecord]) -> String {
    let mut out = String::with_capacity(flows.len() * 120 + 200);
    // Writing into a String cannot fail.
    let _ = write_csv(&mut out, flows);
    out
}

/// All flows as a Zeek conn.log, uids from `DEFAULT_UID_SEED`.
pub fn to_zeek_conn_log(flows: &[FlowRecord]) -> String {
    let mut out = String::with_capacity(flows.len() * 170 + 1_000);
    let _ = write_zeek_conn_log(&mut out, flows, DEFAULT_UID_SEED);
    out
}

/// Streams the CSV into `out`.
pub fn write_csv<W: Write>(out: &mut W, flows: &[FlowRecord]) -> fmt::Result {
    out.write_str(&CSV_COLUMNS.join(","))?;
    out.write_char('\n')?;
    for f in flows {
        write_micros(out, f.ts)?;
        write!(
            out,
            ",{},{},{},{},",
            f.src_ip, f.src_port, f.dst_ip, f.dst_port
        )?;
        out.write_str(f.proto.as_str())?;
        out.write_char(',')?;
        out.write_str(f.service.as_str())?;
        out.write_char(',')?;
        write_micros(out, f.duration_s)?;
        write!(
            out,
            ",{},{},{},{},{},{},{},",
            f.bytes_out,
            f.bytes_in,
            f.pkts_out,
            f.pkts_in,
            f.conn_state.as_str(),
            f.history.as_str(),
            f.label.as_str()
        )?;
        if let Some(id) = f.incident_id {
            write!(out, "{id}")?;
        }
        out.write_char(',')?;
        out.write_str(role_str(f.orig_role))?;
        out.write_char('\n')?;
    }
    Ok(())
}

/// Streams a Zeek conn.log into `out`: the `#separator` ... `#types` header, one row per
/// flow, and `#close`. `#open`/`#close` carry the first and last flow's time (not the wall
/// clock), so the file depends only on the flows and `uid_seed`.
pub fn write_zeek_conn_log<W: Write>(
    out: &mut W,
    flows: &[FlowRecord],
    uid_seed: u64,
) -> fmt::Result {
    let first_ts = flows.first().map_or(0.0, |f| f.ts);
    let last_ts = flows.iter().fold(first_ts, |m, f| m.max(f.ts));
    out.write_str("#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n")?;
    out.write_str("#unset_field\t-\n#path\tconn\n#open\t")?;
    out.write_str(&zeek_time(first_ts))?;
    out.write_str("\n#fields")?;
    for (name, _) in ZEEK_FIELDS {
        out.write_char('\t')?;
        out.write_str(name)?;
    }
    out.write_str("\n#types")?;
    for (_, ty) in ZEEK_FIELDS {
        out.write_char('\t')?;
        out.write_str(ty)?;
    }
    out.write_char('\n')?;
    for (index, f) in flows.iter().enumerate() {
        write_micros(out, f.ts)?;
        out.write_char('\t')?;
        write_uid(out, uid_seed, index as u64)?;
        write!(
            out,
            "\t{}\t{}\t{}\t{}\t{}\t{}\t",
            f.src_ip,
            f.src_port,
            f.dst_ip,
            f.dst_port,
            f.proto.as_str(),
            f.service.as_str()
        )?;
        write_micros(out, f.duration_s)?;
        let header_bytes = match f.proto {
            Proto::Tcp => 40,
            _ => 28,
        };
        write!(
            out,
            "\t{}\t{}\t{}\t{}\t{}\t0\t{}\t{}\t{}\t{}\t{}\t-\t{}\t",
            f.bytes_out,
            f.bytes_in,
            f.conn_state.as_str(),
            zeek_bool(is_local(f.src_ip)),
            zeek_bool(is_local(f.dst_ip)),
            f.history.as_str(),
            f.pkts_out,
            f.bytes_out + header_bytes * f.pkts_out,
            f.pkts_in,
            f.bytes_in + header_bytes * f.pkts_in,
            f.label.as_str(),
        )?;
        match f.incident_id {
            Some(id) => write!(out, "{id}")?,
            None => out.write_char('-')?,
        }
        out.write_char('\t')?;
        out.write_str(role_str(f.orig_role))?;
        out.write_char('\n')?;
    }
    out.write_str("#close\t")?;
    out.write_str(&zeek_time(last_ts))?;
    out.write_char('\n')
}

/// Adapts an `io::Write` (a file, a buffered stdout) to `fmt::Write`, keeping the first I/O
/// error for `finish`.
pub struct IoWriter<W: io::Write> {
    inner: W,
    error: Option<io::Error>,
}

impl<W: io::Write> IoWriter<W> {
    pub fn new(inner: W) -> IoWriter<W> {
        IoWriter { inner, error: None }
    }

    /// The writer back, or the first I/O error that stopped writing.
    pub fn finish(self) -> io::Result<W> {
        match self.error {
            Some(e) => Err(e),
            None => Ok(self.inner),
        }
    }
}

impl<W: io::Write> Write for IoWriter<W> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if self.error.is_some() {
            return Err(fmt::Error);
        }
        self.inner.write_all(s.as_bytes()).map_err(|e| {
            self.error = Some(e);
            fmt::Error
        })
    }
}

fn role_str(role: OrigRole) -> &'static str {
    match role {
        OrigRole::None => "-",
        OrigRole::Attacker => "attacker",
        OrigRole::Victim => "victim",
    }
}

fn zeek_bool(b: bool) -> char {
    if b {
        'T'
    } else {
        'F'
    }
}

/// RFC 1918, loopback, link-local and IPv6 unique-local addresses count as local.
fn is_local(addr: IpAddr) -> bool {
    match addr {
        IpAddr::V4(a) => a.is_private() || a.is_loopback() || a.is_link_local(),
        IpAddr::V6(a) => a.is_loopback() || (a.segments()[0] & 0xfe00) == 0xfc00,
    }
}

/// Zeek's `#open` time format, `2026-01-01-10-00-00`.
fn zeek_time(ts: f64) -> String {
    time_format::format_utc(ts).replace([' ', ':'], "-")
}

/// Seconds as `S.ffffff`, exact to the microsecond, without float formatting; negative or
/// non-finite values (never produced by the generator) clamp to 0.
fn write_micros<W: Write>(out: &mut W, seconds: f64) -> fmt::Result {
    let micros = if seconds.is_finite() && seconds > 0.0 {
        (seconds * 1e6).round() as u64
    } else {
        0
    };
    write!(out, "{}.{:06}", micros / 1_000_000, micros % 1_000_000)
}

/// A Zeek-style uid: `C` and 17 base-62 characters of a hash of the seed and row index.
fn write_uid<W: Write>(out: &mut W, seed: u64, index: u64) -> fmt::Result {
    const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut state = seed ^ index.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let mut hi = mix(&mut state);
    let mut lo = mix(&mut state);
    let mut buf = [b'C'; 18];
    for slot in buf[1..].iter_mut() {
        *slot = ALPHABET[(lo % 62) as usize];
        lo = lo / 62 + (hi % 62) * (u64::MAX / 62 / 62);
        hi /= 62;
    }
    // Only ASCII from the alphabet above.
    out.write_str(std::str::from_utf8(&buf).unwrap_or("C"))
}

fn mix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::traffic::flow::{AttackKind, ConnHistory, ConnState, Label, Service};
    use crate::traffic::generator::{generate, GeneratorConfig};
    use std::collections::HashSet;
    use std::sync::OnceLock;

    fn flows() -> &'static [FlowRecord] {
        static F: OnceLock<Vec<FlowRecord>> = OnceLock::new();
        F.get_or_init(|| {
            let config = GeneratorConfig {
                hosts: 12,
                duration_s: 900.0,
                attacks: GeneratorConfig::all_attacks(900.0),
                ..GeneratorConfig::default()
            };
            generate(&config).unwrap().flows
        })
    }

    fn parse_micros(text: &str) -> f64 {
        let (s, us) = text.split_once('.').unwrap();
        assert_eq!(us.len(), 6, "{text}");
        s.parse::<f64>().unwrap() + us.parse::<f64>().unwrap() / 1e6
    }

    #[test]
    fn csv_has_the_header_and_every_row_parses_back() {
        let csv = to_csv(flows());
        let mut lines = csv.lines();
        assert_eq!(lines.next().unwrap(), CSV_COLUMNS.join(","));
        let rows: Vec<&str> = lines.collect();
        assert_eq!(rows.len(), flows().len());
        for (row, f) in rows.iter().zip(flows()) {
            let c: Vec<&str> = row.split(',').collect();
            assert_eq!(c.len(), CSV_COLUMNS.len(), "{row}");
            assert!((parse_micros(c[0]) - f.ts).abs() <= 0.5e-6 + f.ts * 1e-15);
            assert_eq!(c[1].parse::<IpAddr>().unwrap(), f.src_ip);
            assert_eq!(c[2].parse::<u16>().unwrap(), f.src_port);
            assert_eq!(c[3].parse::<IpAddr>().unwrap(), f.dst_ip);
            assert_eq!(c[4].parse::<u16>().unwrap(), f.dst_port);
            assert_eq!(Proto::parse(c[5]), Some(f.proto));
            assert_eq!(Service::parse(c[6]), f.service);
            assert!((parse_micros(c[7]) - f.duration_s).abs() <= 0.5e-6 + 1e-9);
            assert_eq!(c[8].parse::<u64>().unwrap(), f.bytes_out);
            assert_eq!(c[9].parse::<u64>().unwrap(), f.bytes_in);
            assert_eq!(c[10].parse::<u64>().unwrap(), f.pkts_out);
            assert_eq!(c[11].parse::<u64>().unwrap(), f.pkts_in);
            assert_eq!(ConnState::parse(c[12]), Some(f.conn_state));
            assert_eq!(ConnHistory::new(c[13]), f.history);
            assert_eq!(Label::try_from(c[14].to_string()).unwrap(), f.label);
            assert_eq!(c[15].parse::<u32>().ok(), f.incident_id);
            assert_eq!(c[16], role_str(f.orig_role));
        }
        // Every kind made it into the file.
        for kind in AttackKind::ALL {
            assert!(csv.contains(&format!(",{},", kind.as_str())), "{kind}");
        }
    }

    #[test]
    fn zeek_log_has_a_consistent_header_and_rows() {
        let log = to_zeek_conn_log(flows());
        let lines: Vec<&str> = log.lines().collect();
        assert_eq!(lines[0], "#separator \\x09");
        assert_eq!(lines[4], "#path\tconn");
        assert!(
            lines[5].starts_with("#open\t2026-01-01-10-00-"),
            "{}",
            lines[5]
        );
        let fields: Vec<&str> = lines[6].split('\t').collect();
        let types: Vec<&str> = lines[7].split('\t').collect();
        assert_eq!(fields[0], "#fields");
        assert_eq!(types[0], "#types");
        assert_eq!(fields.len(), ZEEK_FIELDS.len() + 1);
        assert_eq!(types.len(), fields.len());
        for required in ["ts", "uid", "id.orig_h", "history", "label", "incident_id"] {
            assert!(fields.contains(&required), "{required}");
        }
        assert!(lines.last().unwrap().starts_with("#close\t"));
        let rows = &lines[8..lines.len() - 1];
        assert_eq!(rows.len(), flows().len());
        let col = |name: &str| fields.iter().position(|&f| f == name).unwrap() - 1;
        let mut uids = HashSet::new();
        for (row, f) in rows.iter().zip(flows()) {
            let c: Vec<&str> = row.split('\t').collect();
            assert_eq!(c.len(), ZEEK_FIELDS.len());
            assert!(c.iter().all(|v| !v.is_empty()), "{row}");
            let uid = c[col("uid")];
            assert!(uid.len() == 18 && uid.starts_with('C'));
            assert!(uids.insert(uid.to_string()), "duplicate uid {uid}");
            assert_eq!(c[col("id.resp_h")].parse::<IpAddr>().unwrap(), f.dst_ip);
            assert_eq!(c[col("conn_state")], f.conn_state.as_str());
            assert_eq!(c[col("history")], f.history.as_str());
            assert_eq!(c[col("label")], f.label.as_str());
            assert_eq!(c[col("local_orig")] == "T", is_local(f.src_ip));
            let ip_bytes: u64 = c[col("orig_ip_bytes")].parse().unwrap();
            assert!(ip_bytes >= f.bytes_out);
        }
    }

    #[test]
    fn exports_are_deterministic_and_streaming_matches() {
        assert_eq!(to_csv(flows()), to_csv(flows()));
        let log = to_zeek_conn_log(flows());
        assert_eq!(log, to_zeek_conn_log(flows()));
        let mut other = String::new();
        write_zeek_conn_log(&mut other, flows(), 1).unwrap();
        assert_ne!(log, other, "the uid seed changes the uids");
        let mut io = IoWriter::new(Vec::new());
        write_zeek_conn_log(&mut io, flows(), DEFAULT_UID_SEED).unwrap();
        assert_eq!(io.finish().unwrap(), log.into_bytes());
        let mut io = IoWriter::new(Vec::new());
        write_csv(&mut io, flows()).unwrap();
        assert_eq!(io.finish().unwrap(), to_csv(flows()).into_bytes());
    }

    #[test]
    fn same_config_gives_byte_identical_exports_and_another_seed_differs() {
        let config = GeneratorConfig {
            hosts: 8,
            duration_s: 600.0,
            attacks: GeneratorConfig::all_attacks(600.0),
            ..GeneratorConfig::default()
        };
        let a = generate(&config).unwrap().flows;
        let b = generate(&config).unwrap().flows;
        assert_eq!(to_zeek_conn_log(&a), to_zeek_conn_log(&b));
        assert_eq!(to_csv(&a), to_csv(&b));
        let c = generate(&GeneratorConfig { seed: 1, ..config })
            .unwrap()
            .flows;
        assert_ne!(to_csv(&a), to_csv(&c));
    }

    #[test]
    fn io_errors_surface() {
        #[derive(Debug)]
        struct Broken;
        impl io::Write for Broken {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::Error::other("disk full"))
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let mut w = IoWriter::new(Broken);
        assert!(write_csv(&mut w, flows()).is_err());
        assert_eq!(w.finish().unwrap_err().to_string(), "disk full");
    }

    #[test]
    fn micros_and_uids_are_exact() {
        let mut s = String::new();
        write_micros(&mut s, 1_767_261_600.000_001).unwrap();
        assert_eq!(s, "1767261600.000001");
        s.clear();
        write_micros(&mut s, 0.25).unwrap();
        assert_eq!(s, "0.250000");
        s.clear();
        write_micros(&mut s, f64::NAN).unwrap();
        assert_eq!(s, "0.000000");
        let uid = |i| {
            let mut s = String::new();
            write_uid(&mut s, 0, i).unwrap();
            s
        };
        assert_eq!(uid(5), uid(5));
        assert_ne!(uid(5), uid(6));
    }
}
