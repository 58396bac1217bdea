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

    /// Refuses a file with no conn.log part; otherwise the warning about the rows left out.
    fn settle(self) -> Result<Option<ImportWarning>, ImportError> {
        if !self.conn_seen {
            if let Some((log, evidence)) = self.first {
                return Err(ImportError::NotConnLog { log, evidence });
            }
        }
        Ok((!self.rows.is_empty()).then_some(ImportWarning::OtherZeekLogRows { logs: self.rows }))
    }
}

/// What one line of a conn.log gave.
#[derive(Debug)]
pub enum LineOutcome {
    /// Nothing to score: a blank line, a header, a row of another log.
    Nothing,
    /// A connection; its extra values were appended to the caller's buffer (one per
    /// [`LineParser::extra_columns`]).
    Flow {
        flow: FlowRecord,
        /// The `label`-like column's text, when the file has one and it is set.
        label: Option<String>,
        /// Zeek's connection id, when asked for (`LineParser::keep_uid`) and set.
        uid: Option<String>,
    },
    /// A row that could not be read, and why (its line number is the caller's).
    Skipped(SkipReason),
    /// The caller's `admit` refused the row (a limit): stop reading.
    Stop,
}

/// Zeek conn.log TSV, one line at a time: the header directives seen so far and what they
/// say about the rows. Batch import (`import_conn_log`) and streaming (`zeek_stream`) both read
/// through it, so a row reads the same either way.
pub struct TsvParser {
    separator: String,
    unset: String,
    empty: String,
    fields: Vec<String>,
    /// Per header: the extra columns' positions in `fields` and the label column.
    extra_pos: Vec<Option<usize>>,
    label_col: Option<usize>,
    uid_col: Option<usize>,
    path: Option<String>,
    other: OtherLogs,
    /// The current header's log when it is not conn.log: its rows are counted, not read.
    section_other: Option<Option<String>>,
    extra_columns: Vec<String>,
    has_labels: bool,
    flows: u64,
    keep_uid: bool,
    /// The current row's cells as byte ranges of the line (kept to reuse the allocation).
    cells: Vec<(usize, usize)>,
}

impl TsvParser {
    pub fn new(keep_uid: bool) -> TsvParser {
        TsvParser {
            separator: "\t".to_string(),
            unset: "-".to_string(),
            empty: "(empty)".to_string(),
            fields: Vec::new(),
            extra_pos: Vec::new(),
            label_col: None,
            uid_col: None,
            path: None,
            other: OtherLogs::default(),
            section_other: None,
            extra_columns: Vec::new(),
            has_labels: false,
            flows: 0,
            keep_uid,
            cells: Vec::new(),
        }
    }

    /// The extra numeric columns, fixed by the first `#fields` header.
    pub fn extra_columns(&self) -> &[String] {
        &self.extra_columns
    }

    pub fn has_labels(&self) -> bool {
        self.has_labels
    }

    fn header(&mut self, directive: &str) {
        let (key, value) = match directive.find([' ', '\t']) {
            Some(i) => (&directive[..i], &directive[i + 1..]),
            None => (directive, ""),
        };
        match key {
            "separator" => self.separator = unescape(value.trim()),
            "unset_field" => self.unset = value.to_string(),
            "empty_field" => self.empty = value.to_string(),
            "path" => self.path = Some(value.trim().to_string()),
            "fields" => {
                if self.separator.is_empty() {
                    self.separator = "\t".into();
                }
                self.fields = value
                    .split(self.separator.as_str())
                    .map(|f| canonical_field(f).to_string())
                    .collect();
                let names: Vec<&str> = self.fields.iter().map(String::as_str).collect();
                self.section_other = match verdict(self.path.as_deref(), "#path", &names, true) {
                    Verdict::Conn => {
                        self.other.conn_seen = true;
                        None
                    }
                    Verdict::Other { log, evidence } => {
                        self.other.saw(&log, &evidence);
                        Some(log)
                    }
                };
                // The extra columns are fixed by the first header; later headers (logs
                // concatenated) map onto them by name.
                if self.extra_columns.is_empty() && self.flows == 0 {
                    self.extra_columns = self
                        .fields
                        .iter()
                        .filter(|f| is_extra_candidate(f))
                        .cloned()
                        .collect();
                }
                self.extra_pos = self
                    .extra_columns
                    .iter()
                    .map(|c| self.fields.iter().position(|f| f == c))
                    .collect();
                self.label_col = self
                    .fields
                    .iter()
                    .enumerate()
                    .filter_map(|(i, f)| label_rank(f).map(|r| (r, i)))
                    .min()
                    .map(|(_, i)| i);
                self.uid_col = self.fields.iter().position(|f| f == "uid");
                self.has_labels |= self.label_col.is_some();
            }
            _ => {}
        }
    }

    /// Reads one line (without its line end). A row is offered to `admit` before it is read
    /// (the batch importer's row limit); its extra values go to `extras`.
    pub fn line(
        &mut self,
        raw: &[u8],
        admit: &mut dyn FnMut() -> bool,
        extras: &mut Vec<f64>,
    ) -> Result<LineOutcome, ImportError> {
        let Ok(text) = std::str::from_utf8(raw) else {
            return Ok(LineOutcome::Skipped(SkipReason::NotUtf8));
        };
        if text.trim().is_empty() {
            return Ok(LineOutcome::Nothing);
        }
        if let Some(directive) = text.strip_prefix('#') {
            self.header(directive);
            return Ok(LineOutcome::Nothing);
        }
        if self.fields.is_empty() {
            return Err(ImportError::NotThisFormat {
                format: Format::ZeekTsv,
                expected: "a #fields header line before the first row".into(),
            });
        }
        if !admit() {
            return Ok(LineOutcome::Stop);
        }
        if let Some(log) = &self.section_other {
            self.other.row(log);
            return Ok(LineOutcome::Nothing);
        }
        self.cells.clear();
        let mut start = 0;
        for piece in text.split(self.separator.as_str()) {
            self.cells.push((start, start + piece.len()));
            start += piece.len() + self.separator.len();
        }
        if self.cells.len() != self.fields.len() {
            return Ok(LineOutcome::Skipped(SkipReason::FieldCount {
                expected: self.fields.len(),
                found: self.cells.len(),
            }));
        }
        let cell = |i: usize| self.cells.get(i).map(|&(a, b)| &text[a..b]);
        let set = |v: &&str| *v != self.unset && *v != self.empty;
        let get = |name: &str| -> Option<&str> {
            let i = self.fields.iter().position(|f| f == name)?;
            cell(i).filter(set)
        };
        match flow_from(&get) {
            Ok(flow) => {
                for p in &self.extra_pos {
                    let v = p
                        .and_then(cell)
                        .and_then(parse_f64)
                        .filter(|v| v.is_finite())
                        .unwrap_or(f64::NAN);
                    extras.push(v);
                }
                let label = self
                    .label_col
                    .and_then(cell)
                    .filter(set)
                    .map(str::to_string);
                let uid = if self.keep_uid {
                    self.uid_col.and_then(cell).filter(set).map(str::to_string)
                } else {
                    None
                };
                self.flows += 1;
                Ok(LineOutcome::Flow { flow, label, uid })
            }
            Err(bad) => Ok(LineOutcome::Skipped(SkipReason::BadValue {
                column: bad.column.into(),
                value: bad.value,
            })),
        }
    }

    /// After the last line: refuses a file without a `#fields` header or without conn.log
    /// rows; otherwise the warning about other logs' rows left out, if any.
    pub fn finish(self) -> Result<Option<ImportWarning>, ImportError> {
        if self.fields.is_empty() {
            return Err(ImportError::NotThisFormat {
                format: Format::ZeekTsv,
                expected: "a #fields header line".into(),
            });
        }
        self.other.settle()
    }
}

/// Either conn.log form, one line at a time: what the batch importer and the stream
/// (`zeek_stream`) read through.
// One per import or stream, so the size difference between the two does not matter.
#[allow(clippy::large_enum_variant)]
pub enum ConnLogParser {
    Tsv(TsvParser),
    Json(JsonParser),
}

impl ConnLogParser {
    /// The parser for `format`; `None` for formats other than Zeek's.
    pub fn new(format: Format, keep_uid: bool) -> Option<ConnLogParser> {
        match format {
            Format::ZeekTsv => Some(ConnLogParser::Tsv(TsvParser::new(keep_uid))),
            Format::ZeekJson => Some(ConnLogParser::Json(JsonParser::new(keep_uid))),
            _ => None,
        }
    }

    /// See [`TsvParser::line`].
    pub fn line(
        &mut self,
        raw: &[u8],
        admit: &mut dyn FnMut() -> bool,
        extras: &mut Vec<f64>,
    ) -> Result<LineOutcome, ImportError> {
        match self {
            ConnLogParser::Tsv(p) => p.line(raw, admit, extras),
            ConnLogParser::Json(p) => p.line(raw, admit, extras),
        }
    }

    /// The extra numeric columns (for TSV, known once the first `#fields` line is read:
    /// always before the first flow).
    pub fn extra_columns(&self) -> &[String] {
        match self {
            ConnLogParser::Tsv(p) => p.extra_columns(),
            ConnLogParser::Json(p) => p.extra_columns(),
        }
    }

    pub fn has_labels(&self) -> bool {
        match self {
            ConnLogParser::Tsv(p) => p.has_labels(),
            ConnLogParser::Json(p) => p.has_labels(),
        }
    }

    /// After the last line: refuses a file without conn.log rows (or, for TSV, without a
    /// `#fields` header); otherwise the warning about other logs' rows left out, if any.
    pub fn finish(self) -> Result<Option<ImportWarning>, ImportError> {
        match self {
            ConnLogParser::Tsv(p) => p.finish(),
            ConnLogParser::Json(p) => p.finish(),
        }
    }
}

/// Imports a whole Zeek conn.log, TSV or JSON (`format`), through [`ConnLogParser`].
pub(crate) fn import_conn_log(
    bytes: &[u8],
    format: Format,
    limits: &ImportLimits,
    progress: &mut Progress,
) -> Result<ImportedTraffic, ImportError> {
    let mut out = ImportedTraffic::new(format, bytes.len() as u64);
    let Some(mut parser) = ConnLogParser::new(format, false) else {
        return Err(ImportError::NotThisFormat {
            format,
            expected: "a Zeek conn.log".into(),
        });
    };
    // JSON knows its extra columns from the start, TSV from its first header.
    out.extra_columns = parser.extra_columns().to_vec();
    let mut rows = 0u64;
    let mut extras = Vec::new();
    for (line_no, end, raw) in lines(bytes) {
        progress.at(end as u64)?;
        let outcome = parser.line(
            raw,
            &mut || {
                rows += 1;
                check_limits(&mut out, rows, limits)
            },
            &mut extras,
        )?;
        // The first header fixes the extra columns (before any row is kept).
        if out.flows.is_empty() {
            out.extra_columns = parser.extra_columns().to_vec();
        }
        if !take(&mut out, limits, line_no, outcome, &mut extras) {
            break;
        }
    }
    out.has_labels |= parser.has_labels();
    if let Some(w) = parser.finish()? {
        out.warn(w);
    }
    Ok(out)
}

/// Adds one line's outcome (and the extra values the parser put in `extras`) to a batch
/// import; false to stop reading.
fn take(
    out: &mut ImportedTraffic,
    limits: &ImportLimits,
    line_no: u64,
    o: LineOutcome,
    extras: &mut Vec<f64>,
) -> bool {
    match o {
        LineOutcome::Nothing => {}
        LineOutcome::Flow { flow, label, .. } => {
            out.extra_values.append(extras);
            let truth = label.map(|t| out.label_id(&t));
            out.flows.push(flow);
            out.truth.push(truth);
        }
        LineOutcome::Skipped(reason) => out.skip(limits, Location::Line(line_no), reason),
        LineOutcome::Stop => return false,
    }
    true
}

/// The extra numeric fields kept from JSON logs (JSON has no header to discover them from).
const JSON_EXTRAS: [&str; 3] = ["missed_bytes", "orig_ip_bytes", "resp_ip_bytes"];

/// Zeek conn.log as JSON lines, one line at a time (each line decides for itself whether it
/// is a conn.log row: JSON streams with `_path` often mix every log).
pub struct JsonParser {
    other: OtherLogs,
    extra_columns: Vec<String>,
    has_labels: bool,
    keep_uid: bool,
}

impl JsonParser {
    pub fn new(keep_uid: bool) -> JsonParser {
        JsonParser {
            other: OtherLogs::default(),
            extra_columns: JSON_EXTRAS.iter().map(|s| s.to_string()).collect(),
            has_labels: false,
            keep_uid,
        }
    }

    pub fn extra_columns(&self) -> &[String] {
        &self.extra_columns
    }

    pub fn has_labels(&self) -> bool {
        self.has_labels
    }

    /// As [`TsvParser::line`].
    pub fn line(
        &mut self,
        raw: &[u8],
        admit: &mut dyn FnMut() -> bool,
        extras: &mut Vec<f64>,
    ) -> Result<LineOutcome, ImportError> {
        let Ok(text) = std::str::from_utf8(raw) else {
            return Ok(LineOutcome::Skipped(SkipReason::NotUtf8));
        };
        let text = text.trim();
        if text.is_empty() {
            return Ok(LineOutcome::Nothing);
        }
        if !admit() {
            return Ok(LineOutcome::Stop);
        }
        let object = match serde_json::from_str::<serde_json::Value>(text) {
            Ok(serde_json::Value::Object(map)) => map,
            Ok(_) => {
                return Ok(LineOutcome::Skipped(SkipReason::BadJson {
                    detail: "not an object".into(),
                }))
            }
            Err(e) => {
                return Ok(LineOutcome::Skipped(SkipReason::BadJson {
                    detail: e.to_string(),
                }))
            }
        };
        let keys: Vec<&str> = object.keys().map(|k| canonical_field(k)).collect();
        let path = object.get("_path").and_then(|p| p.as_str());
        match verdict(path, "_path", &keys, false) {
            Verdict::Conn => self.other.conn_seen = true,
            Verdict::Other { log, evidence } => {
                self.other.saw(&log, &evidence);
                self.other.row(&log);
                return Ok(LineOutcome::Nothing);
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
                    extras.push(v);
                }
                let label = texts
                    .iter()
                    .filter_map(|(k, v)| label_rank(k).map(|r| (r, v)))
                    .min_by_key(|(r, _)| *r)
                    .map(|(_, v)| v.clone());
                self.has_labels |= label.is_some();
                let uid = if self.keep_uid {
                    get("uid").map(str::to_string)
                } else {
                    None
                };
                Ok(LineOutcome::Flow { flow, label, uid })
            }
            Err(bad) => Ok(LineOutcome::Skipped(SkipReason::BadValue {
                column: bad.column.into(),
                value: bad.value,
            })),
        }
    }

    /// After the last line: refuses a file of other logs only; otherwise the warning about
    /// their rows left out, if any.
    pub fn finish(self) -> Result<Option<ImportWarning>, ImportError> {
        self.other.settle()
    }
}
