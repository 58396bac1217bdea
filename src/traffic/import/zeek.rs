//! Zeek conn.log, as TSV (columns from the `#fields` line) and as JSON lines.
//!
//! `-` (unset) and `(empty)` read as absent; numbers that are absent count as zero (Zeek leaves
//! `orig_bytes` unset for some ICMP and partial flows). Columns beyond the core fields are kept
//! as extra numeric columns when they hold numbers (`missed_bytes`, `orig_ip_bytes`, ...). A
//! `label`-like column (IoT-23 style) becomes ground truth. Other Zeek logs (dns.log,
//! http.log, ...) are recognised by `zeek_kind` and refused with their name; in a file that
//! mixes them with conn.log rows (concatenated logs, a JSON stream with `_path`) their rows are
//! left out and counted in a warning. Not here: reading the other logs.

use super::csv_reader::{normalize_name, parse_count, parse_f64, parse_port, parse_time};
use super::error::ImportError;
use super::format::Format;
use super::generic_csv::parse_state_loose;
use super::imported::ImportedTraffic;
use super::limits::ImportLimits;
use super::progress::Progress;
use super::warnings::{ImportWarning, LimitKind, Location, SkipReason};
use super::zeek_kind::{canonical_field, verdict, Verdict};
use crate::traffic::flow::{ConnHistory, ConnState, FlowRecord, Label, OrigRole, Proto, Service};
use std::net::IpAddr;

const CORE: [&str; 14] = [
    "ts",
    "id.orig_h",
    "id.orig_p",
    "id.resp_h",
    "id.resp_p",
    "proto",
    "service",
    "duration",
    "orig_bytes",
    "resp_bytes",
    "conn_state",
    "history",
    "orig_pkts",
    "resp_pkts",
];

/// Columns never used as extra features: identifiers, text and ground truth.
fn is_extra_candidate(name: &str) -> bool {
    !CORE.contains(&name)
        && label_rank(name).is_none()
        && !super::csv_reader::is_ground_truth_name(name)
        && !matches!(name, "uid" | "tunnel_parents" | "local_orig" | "local_resp")
}

fn label_rank(name: &str) -> Option<usize> {
    ["label", "class", "attackcat", "detailedlabel"]
        .iter()
        .position(|l| *l == normalize_name(name))
}

/// A row failed on this column.
struct BadField {
    column: &'static str,
    value: String,
}

/// Builds a flow from field lookups; `get` returns `None` for absent or unset fields.
fn flow_from<'a>(get: &dyn Fn(&str) -> Option<&'a str>) -> Result<FlowRecord, BadField> {
    let bad = |column: &'static str| BadField {
        column,
        value: get(column).unwrap_or("").to_string(),
    };
    let ts = get("ts")
        .and_then(parse_time)
        .map(|(t, _)| t)
        .ok_or_else(|| bad("ts"))?;
    let addr = |column: &'static str| -> Result<IpAddr, BadField> {
        get(column)
            .and_then(|t| t.trim().parse().ok())
            .ok_or_else(|| bad(column))
    };
    let port = |column: &'static str| -> Result<u16, BadField> {
        match get(column) {
            None => Ok(0),
            Some(t) => parse_port(t).ok_or_else(|| bad(column)),
        }
    };
    let count = |column: &'static str| -> Result<u64, BadField> {
        match get(column) {
            None => Ok(0),
            Some(t) => parse_count(t).ok_or_else(|| bad(column)),
        }
    };
    let proto = get("proto")
        .map(|p| Proto::parse(p).unwrap_or(Proto::Unknown))
        .ok_or_else(|| bad("proto"))?;
    let duration_s = match get("duration") {
        None => 0.0,
        Some(t) => parse_f64(t)
            .filter(|d| d.is_finite() && *d >= 0.0)
            .ok_or_else(|| bad("duration"))?,
    };
    Ok(FlowRecord {
        ts,
        src_ip: addr("id.orig_h")?,
        src_port: port("id.orig_p")?,
        dst_ip: addr("id.resp_h")?,
        dst_port: port("id.resp_p")?,
        proto,
        service: get("service").map(Service::parse).unwrap_or(Service::None),
        duration_s,
        bytes_out: count("orig_bytes")?,
        bytes_in: count("resp_bytes")?,
        pkts_out: count("orig_pkts")?,
        pkts_in: count("resp_pkts")?,
        conn_state: get("conn_state")
            .and_then(parse_state_loose)
            .unwrap_or(ConnState::OTH),
        history: get("history").map(ConnHistory::new).unwrap_or_default(),
        label: Label::Benign,
        incident_id: None,
        orig_role: OrigRole::None,
    })
}

/// Decodes Zeek's `\x09`-style escapes in header values.
fn unescape(value: &str) -> String {
    let mut out = String::new();
    let mut rest = value;
    while let Some(i) = rest.find("\\x") {
        out.push_str(&rest[..i]);
        let hex = rest.get(i + 2..i + 4);
        match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
            Some(b) => {
                out.push(b as char);
                rest = &rest[i + 4..];
            }
            None => {
                out.push_str("\\x");
                rest = &rest[i + 2..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Splits the input into lines with 1-based numbers and byte ends, any line-end style.
pub(crate) fn lines(bytes: &[u8]) -> impl Iterator<Item = (u64, usize, &[u8])> {
    let mut pos = 0usize;
    let mut line = 0u64;
    std::iter::from_fn(move || {
        if pos >= bytes.len() {
            return None;
        }
        let rest = &bytes[pos..];
        let len = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
        let mut text = &rest[..len];
        if text.last() == Some(&b'\r') {
            text = &text[..text.len() - 1];
        }
        pos += len + 1;
        line += 1;
        Some((line, pos.min(bytes.len()), text))
    })
}

pub(crate) fn check_limits(out: &mut ImportedTraffic, rows: u64, limits: &ImportLimits) -> bool {
    if rows > limits.max_rows as u64 {
        out.warn(ImportWarning::LimitReached {
            limit: LimitKind::Rows,
            value: limits.max_rows as u64,
        });
        return false;
    }
    if out.flows.len() >= limits.max_flows {
        out.warn(ImportWarning::LimitReached {
            limit: LimitKind::Flows,
            value: limits.max_flows as u64,
        });
        return false;
    }
    true
}

/// Rows of logs other than conn.log: the first such log's verdict (for the refusal) and rows
/// per log name (for the warning when conn rows exist too).
#[derive(Default)]
struct OtherLogs {
    first: Option<(Option<String>, String)>,
    rows: Vec<(Option<String>, u64)>,
    conn_seen: bool,
}

impl OtherLogs {
    fn saw(&mut self, log: &Option<String>, evidence: &str) {
        if self.first.is_none() {
            self.first = Some((log.clone(), evidence.to_string()));
        }
    }

    fn row(&mut self, log: &Option<String>) {
        match self.rows.iter_mut().find(|(l, _)| l == log) {
            Some((_, n)) => *n += 1,
            None => self.rows.push((log.clone(), 1)),
        }
    }

    /// Refuses a file with no conn.log part; otherwise warns about the rows left out.
    fn settle(self, out: &mut ImportedTraffic) -> Result<(), ImportError> {
        if !self.conn_seen {
            if let Some((log, evidence)) = self.first {
                return Err(ImportError::NotConnLog { log, evidence });
            }
        }
        if !self.rows.is_empty() {
            out.warn(ImportWarning::OtherZeekLogRows { logs: self.rows });
        }
        Ok(())
    }
}

pub(crate) fn import_tsv(
    bytes: &[u8],
    limits: &ImportLimits,
    progress: &mut Progress,
) -> Result<ImportedTraffic, ImportError> {
    let mut out = ImportedTraffic::new(Format::ZeekTsv, bytes.len() as u64);
    let mut separator = "\t".to_string();
    let mut unset = "-".to_string();
    let mut empty = "(empty)".to_string();
    let mut fields: Vec<String> = Vec::new();
    // Per header: the extra columns' positions in `fields` and the label column.
    let mut extra_pos: Vec<Option<usize>> = Vec::new();
    let mut label_col: Option<usize> = None;
    let mut rows = 0u64;
    let mut cells: Vec<&str> = Vec::new();
    let mut path: Option<String> = None;
    let mut other = OtherLogs::default();
    // The current header's log when it is not conn.log: its rows are counted, not read.
    let mut section_other: Option<Option<String>> = None;
    for (line_no, end, raw) in lines(bytes) {
        progress.at(end as u64)?;
        let Ok(text) = std::str::from_utf8(raw) else {
            out.skip(limits, Location::Line(line_no), SkipReason::NotUtf8);
            continue;
        };
        if text.trim().is_empty() {
            continue;
        }
        if let Some(directive) = text.strip_prefix('#') {
            let (key, value) = match directive.find([' ', '\t']) {
                Some(i) => (&directive[..i], &directive[i + 1..]),
                None => (directive, ""),
            };
            match key {
                "separator" => separator = unescape(value.trim()),
                "unset_field" => unset = value.to_string(),
                "empty_field" => empty = value.to_string(),
                "path" => path = Some(value.trim().to_string()),
                "fields" => {
                    if separator.is_empty() {
                        separator = "\t".into();
                    }
                    fields = value
                        .split(separator.as_str())
                        .map(|f| canonical_field(f).to_string())
                        .collect();
                    let names: Vec<&str> = fields.iter().map(String::as_str).collect();
                    section_other = match verdict(path.as_deref(), "#path", &names, true) {
                        Verdict::Conn => {
                            other.conn_seen = true;
                            None
                        }
                        Verdict::Other { log, evidence } => {
                            other.saw(&log, &evidence);
                            Some(log)
                        }
                    };
                    // The extra columns are fixed by the first header; later headers (logs
                    // concatenated) map onto them by name.
                    if out.extra_columns.is_empty() && out.flows.is_empty() {
                        out.extra_columns = fields
                            .iter()
                            .filter(|f| is_extra_candidate(f))
                            .cloned()
                            .collect();
                    }
                    extra_pos = out
                        .extra_columns
                        .iter()
                        .map(|c| fields.iter().position(|f| f == c))
                        .collect();
                    label_col = fields
                        .iter()
                        .enumerate()
                        .filter_map(|(i, f)| label_rank(f).map(|r| (r, i)))
                        .min()
                        .map(|(_, i)| i);
                    out.has_labels |= label_col.is_some();
                }
                _ => {}
            }
            continue;
        }
        if fields.is_empty() {
            return Err(ImportError::NotThisFormat {
                format: Format::ZeekTsv,
                expected: "a #fields header line before the first row".into(),
            });
        }
        rows += 1;
        if !check_limits(&mut out, rows, limits) {
            break;
        }
        if let Some(log) = &section_other {
            other.row(log);
            continue;
        }
        cells.clear();
        cells.extend(text.split(separator.as_str()));
        if cells.len() != fields.len() {
            out.skip(
                limits,
                Location::Line(line_no),
                SkipReason::FieldCount {
                    expected: fields.len(),
                    found: cells.len(),
                },
            );
            continue;
        }
        let get = |name: &str| -> Option<&str> {
            let i = fields.iter().position(|f| f == name)?;
            let v = cells[i];
            (v != unset && v != empty).then_some(v)
        };
        match flow_from(&get) {
            Ok(flow) => {
                for p in &extra_pos {
                    let v = p
                        .and_then(|i| cells.get(i))
                        .and_then(|t| parse_f64(t))
                        .filter(|v| v.is_finite())
                        .unwrap_or(f64::NAN);
                    out.extra_values.push(v);
                }
                let truth = label_col
                    .and_then(|i| cells.get(i))
                    .filter(|v| **v != unset && **v != empty)
                    .map(|v| v.to_string());
                let truth = truth.map(|t| out.label_id(&t));
                out.flows.push(flow);
                out.truth.push(truth);
            }
            Err(bad) => out.skip(
                limits,
                Location::Line(line_no),
                SkipReason::BadValue {
                    column: bad.column.into(),
                    value: bad.value,
                },
            ),
        }
    }
    if fields.is_empty() {
        return Err(ImportError::NotThisFormat {
            format: Format::ZeekTsv,
            expected: "a #fields header line".into(),
        });
    }
    other.settle(&mut out)?;
    Ok(out)
}

/// The extra numeric fields kept from JSON logs (JSON has no header to discover them from).
const JSON_EXTRAS: [&str; 3] = ["missed_bytes", "orig_ip_bytes", "resp_ip_bytes"];

pub(crate) fn import_json(
    bytes: &[u8],
    limits: &ImportLimits,
    progress: &mut Progress,
) -> Result<ImportedTraffic, ImportError> {
    let mut out = ImportedTraffic::new(Format::ZeekJson, bytes.len() as u64);
    out.extra_columns = JSON_EXTRAS.iter().map(|s| s.to_string()).collect();
    let mut rows = 0u64;
    let mut other = OtherLogs::default();
    for (line_no, end, raw) in lines(bytes) {
        progress.at(end as u64)?;
        let Ok(text) = std::str::from_utf8(raw) else {
            out.skip(limits, Location::Line(line_no), SkipReason::NotUtf8);
            continue;
        };
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        rows += 1;
        if !check_limits(&mut out, rows, limits) {
            break;
        }
        let object = match serde_json::from_str::<serde_json::Value>(text) {
            Ok(serde_json::Value::Object(map)) => map,
            Ok(_) => {
                out.skip(
                    limits,
                    Location::Line(line_no),
                    SkipReason::BadJson {
                        detail: "not an object".into(),
                    },
                );
                continue;
            }
            Err(e) => {
                out.skip(
                    limits,
                    Location::Line(line_no),
                    SkipReason::BadJson {
                        detail: e.to_string(),
                    },
                );
                continue;
            }
        };
        // Each line decides for itself: JSON streams (with `_path`) often mix every log.
        let keys: Vec<&str> = object.keys().map(|k| canonical_field(k)).collect();
        let path = object.get("_path").and_then(|p| p.as_str());
        match verdict(path, "_path", &keys, false) {
            Verdict::Conn => other.conn_seen = true,
            Verdict::Other { log, evidence } => {
                other.saw(&log, &evidence);
                other.row(&log);
                continue;
            }
        }
        // Scalars as text, so TSV and JSON share one conversion.
        let texts: Vec<(String, String)> = object
            .iter()
            .filter_map(|(k, v)| {
                let t = match v {
                    serde_json::Value::String(s) => s.clone(),
                    serde_json::Value::Number(n) => n.to_string(),
                    serde_json::Value::Bool(b) => if *b { "T" } else { "F" }.to_string(),
                    _ => return None,
                };
                Some((canonical_field(k).to_string(), t))
            })
            .collect();
        let get = |name: &str| -> Option<&str> {
            texts
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
                .filter(|v| *v != "-" && *v != "(empty)")
        };
        match flow_from(&get) {
            Ok(flow) => {
                for name in JSON_EXTRAS {
                    let v = get(name)
                        .and_then(parse_f64)
                        .filter(|v| v.is_finite())
                        .unwrap_or(f64::NAN);
                    out.extra_values.push(v);
                }
                let label = texts
                    .iter()
                    .filter_map(|(k, v)| label_rank(k).map(|r| (r, v)))
                    .min_by_key(|(r, _)| *r)
                    .map(|(_, v)| v.clone());
                out.has_labels |= label.is_some();
                let truth = label.map(|l| out.label_id(&l));
                out.flows.push(flow);
                out.truth.push(truth);
            }
            Err(bad) => out.skip(
                limits,
                Location::Line(line_no),
                SkipReason::BadValue {
                    column: bad.column.into(),
                    value: bad.value,
                },
            ),
        }
    }
    other.settle(&mut out)?;
    Ok(out)
}
