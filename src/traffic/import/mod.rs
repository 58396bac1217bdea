//! Bring your own traffic: parses flow logs and packet captures into `FlowRecord`s, in memory.
//!
//! Formats: Zeek conn.log (TSV and JSON lines), CICFlowMeter / CIC-IDS CSV, NSL-KDD / KDD Cup 99
//! rows, UNSW-NB15 CSV, any CSV through a `ColumnMapping`, and pcap / pcapng assembled into
//! bidirectional flows with Zeek-like fields. Detection is from content and can be overridden.
//! Bad records are skipped and reported with their line or byte offset; what parsed is kept.
//! Ground-truth labels are carried beside the flows (`truth`), never inside them, so nothing
//! downstream can train on them by accident. Not here: feature choice, training, the UI.

pub mod cic;
pub mod csv_reader;
pub mod detect;
pub mod flow_table;
pub mod generic_csv;
pub mod kdd;
pub mod packet;
pub mod pcap;
pub mod pcapng;
pub mod tabular;
pub mod unsw;
pub mod zeek;

use crate::traffic::flow::FlowRecord;
use crate::util::index_sort;
use serde::{Deserialize, Serialize};
use std::fmt;

pub use detect::{detect_format, inspect, FileInspection};
pub use generic_csv::{read_header, suggest_mapping, ColumnMapping, DurationUnit, MappedField};

/// A traffic file format the importer understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    ZeekTsv,
    ZeekJson,
    Cic,
    Kdd,
    Unsw,
    /// Any CSV with a header; columns come from a `ColumnMapping` (suggested from the header
    /// when none is given).
    GenericCsv,
    Pcap,
    Pcapng,
}

impl Format {
    pub const ALL: [Format; 8] = [
        Format::ZeekTsv,
        Format::ZeekJson,
        Format::Cic,
        Format::Kdd,
        Format::Unsw,
        Format::GenericCsv,
        Format::Pcap,
        Format::Pcapng,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::ZeekTsv => "zeek_tsv",
            Format::ZeekJson => "zeek_json",
            Format::Cic => "cic",
            Format::Kdd => "kdd",
            Format::Unsw => "unsw",
            Format::GenericCsv => "generic_csv",
            Format::Pcap => "pcap",
            Format::Pcapng => "pcapng",
        }
    }

    /// A human name for the UI.
    pub fn title(self) -> &'static str {
        match self {
            Format::ZeekTsv => "Zeek conn.log (TSV)",
            Format::ZeekJson => "Zeek conn.log (JSON lines)",
            Format::Cic => "CICFlowMeter / CIC-IDS CSV",
            Format::Kdd => "NSL-KDD / KDD Cup 99",
            Format::Unsw => "UNSW-NB15 CSV",
            Format::GenericCsv => "CSV (column mapping)",
            Format::Pcap => "pcap capture",
            Format::Pcapng => "pcapng capture",
        }
    }

    pub fn parse(name: &str) -> Option<Format> {
        let name = name.trim().to_ascii_lowercase();
        Format::ALL
            .into_iter()
            .find(|f| f.as_str() == name)
            .or(match name.as_str() {
                "zeek" | "conn" | "conn.log" => Some(Format::ZeekTsv),
                "csv" | "generic" => Some(Format::GenericCsv),
                "nsl-kdd" | "nsl_kdd" | "kdd99" => Some(Format::Kdd),
                "unsw-nb15" | "unsw_nb15" => Some(Format::Unsw),
                "cicflowmeter" | "cic-ids" | "cic_ids" => Some(Format::Cic),
                _ => None,
            })
    }

    pub fn is_capture(self) -> bool {
        matches!(self, Format::Pcap | Format::Pcapng)
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Explicit resource limits; hitting `max_flows`/`max_rows` keeps what parsed and warns,
/// exceeding `max_bytes` refuses the file up front.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ImportLimits {
    pub max_bytes: u64,
    pub max_flows: usize,
    /// Rows (text formats) or packets (captures) read at most.
    pub max_rows: usize,
    /// Skipped records kept with their details; all are counted.
    pub max_skipped_listed: usize,
}

impl Default for ImportLimits {
    fn default() -> ImportLimits {
        ImportLimits {
            max_bytes: 512 * 1024 * 1024,
            max_flows: 5_000_000,
            max_rows: 50_000_000,
            max_skipped_listed: 1000,
        }
    }
}

/// Where a skipped record was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Location {
    /// 1-based line number in a text file.
    Line(u64),
    /// Byte offset of the record in a binary file.
    ByteOffset(u64),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Line(n) => write!(f, "line {n}"),
            Location::ByteOffset(n) => write!(f, "byte offset {n}"),
        }
    }
}

/// Why a record was skipped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum SkipReason {
    /// The row has a different number of fields than the header.
    FieldCount { expected: usize, found: usize },
    /// A required cell did not parse.
    BadValue { column: String, value: String },
    /// A JSON line that is not a JSON object.
    BadJson { detail: String },
    /// Bytes that are not UTF-8 text.
    NotUtf8,
    /// A capture record whose length fields do not fit the file.
    BadRecordLength { needed: u64, available: u64 },
    /// A pcapng block of a type that cannot carry packets here, or with a bad structure.
    BadBlock { block_type: u32, detail: String },
    /// A packet for an interface that was never described.
    UnknownInterface { interface_id: u32 },
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::FieldCount { expected, found } => {
                write!(f, "expected {expected} fields, found {found}")
            }
            SkipReason::BadValue { column, value } => {
                write!(f, "column {column:?}: cannot read {value:?}")
            }
            SkipReason::BadJson { detail } => write!(f, "not a JSON object: {detail}"),
            SkipReason::NotUtf8 => f.write_str("not UTF-8 text"),
            SkipReason::BadRecordLength { needed, available } => {
                write!(f, "record needs {needed} bytes but only {available} remain")
            }
            SkipReason::BadBlock { block_type, detail } => {
                write!(f, "block type {block_type:#x}: {detail}")
            }
            SkipReason::UnknownInterface { interface_id } => {
                write!(f, "packet for undescribed interface {interface_id}")
            }
        }
    }
}

/// A record that was not imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedRecord {
    pub location: Location,
    pub reason: SkipReason,
}

/// Which resource limit stopped the import early.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitKind {
    Flows,
    Rows,
}

/// Something the user should know about an import that still succeeded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum ImportWarning {
    /// The format carries no addresses; flows got fixed documentation addresses.
    SynthesizedAddresses,
    /// The format carries no timestamps; flows are spaced one second apart in file order.
    SynthesizedTimestamps,
    /// conn_state was inferred from packet/flag counts, not recorded.
    DerivedConnState,
    /// Cells holding `Infinity`/`NaN` (or unreadable numbers) were stored as missing (NaN).
    NonFiniteCells { count: u64 },
    /// A limit was reached; everything before it was kept.
    LimitReached { limit: LimitKind, value: u64 },
    /// Byte counts are on-the-wire sizes including headers (UNSW-NB15 `sbytes`/`dbytes`).
    BytesIncludeHeaders,
    /// Capture packets that could not become flows.
    PacketsNotUsed {
        non_ip: u64,
        truncated: u64,
        unsupported_link_type: u64,
    },
    /// The capture uses a link type this importer does not decode.
    UnsupportedLinkType { link_type: u32 },
    /// Timestamps written as local date-times without a zone were read as UTC.
    LocalTimesAsUtc,
    /// The file ended inside a record; what came before was kept.
    TruncatedFile { at_byte: u64 },
    /// Rows had no label cell although the file has a label column.
    UnlabelledRows { count: u64 },
}

impl fmt::Display for ImportWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImportWarning::SynthesizedAddresses => f.write_str(
                "the format has no IP addresses: every flow uses 192.0.2.1 -> 198.51.100.1 (documentation addresses), so per-host context features carry no information",
            ),
            ImportWarning::SynthesizedTimestamps => f.write_str(
                "the format has no timestamps: flows are placed one second apart in file order",
            ),
            ImportWarning::DerivedConnState => f.write_str(
                "the format has no connection state: conn_state was inferred from packet and flag counts",
            ),
            ImportWarning::NonFiniteCells { count } => write!(
                f,
                "{count} numeric cells were Infinity, NaN or unreadable and are stored as missing"
            ),
            ImportWarning::LimitReached { limit, value } => write!(
                f,
                "stopped at the limit of {value} {}; everything before it was kept",
                match limit {
                    LimitKind::Flows => "flows",
                    LimitKind::Rows => "rows/packets",
                }
            ),
            ImportWarning::BytesIncludeHeaders => f.write_str(
                "byte counts include packet headers (the format records on-the-wire sizes)",
            ),
            ImportWarning::PacketsNotUsed {
                non_ip,
                truncated,
                unsupported_link_type,
            } => write!(
                f,
                "packets not assembled into flows: {non_ip} not IP, {truncated} truncated before the transport header, {unsupported_link_type} on unsupported link types"
            ),
            ImportWarning::UnsupportedLinkType { link_type } => {
                write!(f, "link type {link_type} is not decoded")
            }
            ImportWarning::LocalTimesAsUtc => f.write_str(
                "timestamps are local date-times without a time zone and were read as UTC",
            ),
            ImportWarning::TruncatedFile { at_byte } => write!(
                f,
                "the file ends inside a record at byte {at_byte}; everything before it was kept"
            ),
            ImportWarning::UnlabelledRows { count } => {
                write!(f, "{count} rows have an empty label cell")
            }
        }
    }
}

/// Why an import failed as a whole.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum ImportError {
    Empty,
    TooLarge {
        bytes: u64,
        max_bytes: u64,
    },
    /// Detection found no known format; `prefix` is the first bytes, for the message.
    UnknownFormat {
        prefix: Vec<u8>,
    },
    /// The file is not what the chosen format expects.
    NotThisFormat {
        format: Format,
        expected: String,
    },
    /// A column the format needs is absent from the header.
    MissingColumn {
        format: Format,
        column: String,
    },
    /// A mapping points at a column the header does not have.
    MappingOutOfRange {
        column_index: usize,
        columns: usize,
    },
    /// Every record was bad; `first` shows the first of them.
    NoRecords {
        format: Format,
        skipped: u64,
        first: Option<SkippedRecord>,
    },
    /// The progress callback asked to stop.
    Cancelled {
        fraction_done: f64,
    },
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImportError::Empty => f.write_str("the file is empty"),
            ImportError::TooLarge { bytes, max_bytes } => write!(
                f,
                "the file has {bytes} bytes, more than the limit of {max_bytes}"
            ),
            ImportError::UnknownFormat { prefix } => write!(
                f,
                "not a recognised traffic format (starts with {:?}); choose the format explicitly or map the columns",
                String::from_utf8_lossy(prefix)
            ),
            ImportError::NotThisFormat { format, expected } => write!(
                f,
                "this is not a {} file: expected {expected}",
                format.title()
            ),
            ImportError::MissingColumn { format, column } => {
                write!(f, "{}: the header has no {column:?} column", format.title())
            }
            ImportError::MappingOutOfRange {
                column_index,
                columns,
            } => write!(
                f,
                "the mapping uses column {column_index} but the header has {columns} columns"
            ),
            ImportError::NoRecords {
                format,
                skipped,
                first,
            } => {
                write!(f, "{}: no record could be read", format.title())?;
                if let Some(first) = first {
                    write!(
                        f,
                        " ({skipped} skipped; first at {}: {})",
                        first.location, first.reason
                    )?;
                }
                Ok(())
            }
            ImportError::Cancelled { fraction_done } => {
                write!(f, "cancelled at {:.0} %", fraction_done * 100.0)
            }
        }
    }
}

impl std::error::Error for ImportError {}

/// Packet-level counts of a capture import.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PacketStats {
    pub packets: u64,
    pub ip_packets: u64,
    pub non_ip: u64,
    /// Packets whose capture ended before the transport header.
    pub truncated: u64,
    pub unsupported_link_type: u64,
    /// IPv4/IPv6 fragments after the first (attributed to their flow, not counted as packets,
    /// as Zeek counts a reassembled datagram once).
    pub later_fragments: u64,
    /// Packets of other IP protocols (GRE, ESP, ...), which Zeek does not log as connections.
    pub other_ip_proto: u64,
}

/// The result of an import: flows in time order plus ground truth and extra features.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportedTraffic {
    pub format: Format,
    pub flows: Vec<FlowRecord>,
    /// Per flow: index into `label_names`, `None` when the flow has no label.
    pub truth: Vec<Option<u16>>,
    pub label_names: Vec<String>,
    /// True when the file had a label column.
    pub has_labels: bool,
    /// Names of the numeric columns the format carries beyond `FlowRecord`.
    pub extra_columns: Vec<String>,
    /// `flows.len() * extra_columns.len()` values, row-major; NaN = missing.
    pub extra_values: Vec<f64>,
    pub skipped: Vec<SkippedRecord>,
    /// All skipped records, including those beyond `ImportLimits::max_skipped_listed`.
    pub skipped_count: u64,
    pub warnings: Vec<ImportWarning>,
    pub bytes_read: u64,
    pub packet_stats: Option<PacketStats>,
}

/// True for label texts that mean "not an attack".
pub fn is_benign(name: &str) -> bool {
    matches!(
        name.trim().to_ascii_lowercase().as_str(),
        "benign" | "normal" | "normal." | "background" | "legitimate" | "0" | "-" | ""
    )
}

impl ImportedTraffic {
    pub(crate) fn new(format: Format, bytes_read: u64) -> ImportedTraffic {
        ImportedTraffic {
            format,
            flows: Vec::new(),
            truth: Vec::new(),
            label_names: Vec::new(),
            has_labels: false,
            extra_columns: Vec::new(),
            extra_values: Vec::new(),
            skipped: Vec::new(),
            skipped_count: 0,
            warnings: Vec::new(),
            bytes_read,
            packet_stats: None,
        }
    }

    /// Per flow: `Some(true)` for an attack label, `Some(false)` for benign, `None` unlabelled.
    pub fn is_attack(&self) -> Vec<Option<bool>> {
        let attack: Vec<bool> = self.label_names.iter().map(|n| !is_benign(n)).collect();
        self.truth
            .iter()
            .map(|t| t.and_then(|i| attack.get(i as usize).copied()))
            .collect()
    }

    /// The extra values of one flow.
    pub fn extra_row(&self, flow: usize) -> &[f64] {
        let width = self.extra_columns.len();
        self.extra_values
            .get(flow * width..(flow + 1) * width)
            .unwrap_or(&[])
    }

    /// Interns a label text; beyond u16::MAX distinct labels the rest share the last id.
    pub(crate) fn label_id(&mut self, name: &str) -> u16 {
        let name = name.trim();
        if let Some(i) = self.label_names.iter().position(|n| n == name) {
            return i as u16;
        }
        if self.label_names.len() >= u16::MAX as usize {
            return u16::MAX - 1;
        }
        self.label_names.push(name.to_string());
        (self.label_names.len() - 1) as u16
    }

    pub(crate) fn skip(&mut self, limits: &ImportLimits, location: Location, reason: SkipReason) {
        self.skipped_count += 1;
        if self.skipped.len() < limits.max_skipped_listed {
            self.skipped.push(SkippedRecord { location, reason });
        }
    }

    pub(crate) fn warn(&mut self, warning: ImportWarning) {
        if !self.warnings.contains(&warning) {
            self.warnings.push(warning);
        }
    }

    /// Drops extra columns that are missing in every row, and sorts flows by start time
    /// (stable, so equal times keep file order).
    pub(crate) fn finish(mut self) -> Result<ImportedTraffic, ImportError> {
        if self.flows.is_empty() {
            return Err(ImportError::NoRecords {
                format: self.format,
                skipped: self.skipped_count,
                first: self.skipped.first().cloned(),
            });
        }
        let width = self.extra_columns.len();
        if width > 0 && self.extra_values.len() == self.flows.len() * width {
            let keep: Vec<bool> = (0..width)
                .map(|c| {
                    self.extra_values
                        .iter()
                        .skip(c)
                        .step_by(width)
                        .any(|v| !v.is_nan())
                })
                .collect();
            if keep.iter().any(|k| !k) {
                let mut values = Vec::with_capacity(self.extra_values.len());
                for row in self.extra_values.chunks(width) {
                    values.extend(row.iter().zip(&keep).filter(|(_, k)| **k).map(|(v, _)| *v));
                }
                self.extra_values = values;
                self.extra_columns = self
                    .extra_columns
                    .into_iter()
                    .zip(&keep)
                    .filter(|(_, k)| **k)
                    .map(|(c, _)| c)
                    .collect();
            }
        } else if width > 0 {
            self.extra_columns.clear();
            self.extra_values.clear();
        }
        let sorted = self.flows.windows(2).all(|w| w[0].ts <= w[1].ts);
        if !sorted {
            let flows = &self.flows;
            let order = index_sort::sorted_indices_by(flows.len(), &mut |a, b| {
                flows[a].ts.total_cmp(&flows[b].ts)
            });
            let width = self.extra_columns.len();
            let flows = order.iter().map(|&i| self.flows[i].clone()).collect();
            let truth = order.iter().map(|&i| self.truth[i]).collect();
            let mut values = Vec::with_capacity(self.extra_values.len());
            for &i in &order {
                values.extend_from_slice(&self.extra_values[i * width..(i + 1) * width]);
            }
            self.flows = flows;
            self.truth = truth;
            self.extra_values = values;
        }
        Ok(self)
    }
}

/// Reports progress at most every `step` units and turns a `false` from the callback into
/// `ImportError::Cancelled`.
pub(crate) struct Progress<'a> {
    callback: &'a mut dyn FnMut(f64) -> bool,
    total: u64,
    next_report: u64,
    step: u64,
}

impl<'a> Progress<'a> {
    pub(crate) fn new(callback: &'a mut dyn FnMut(f64) -> bool, total: u64) -> Progress<'a> {
        let step = (total / 200).max(64 * 1024);
        Progress {
            callback,
            total,
            next_report: step,
            step,
        }
    }

    pub(crate) fn at(&mut self, position: u64) -> Result<(), ImportError> {
        if position >= self.next_report {
            self.next_report = position + self.step;
            let fraction = if self.total == 0 {
                1.0
            } else {
                (position as f64 / self.total as f64).min(1.0)
            };
            if !(self.callback)(fraction) {
                return Err(ImportError::Cancelled {
                    fraction_done: fraction,
                });
            }
        }
        Ok(())
    }

    pub(crate) fn done(&mut self) {
        let _ = (self.callback)(1.0);
    }
}

/// Imports a whole file held in memory. `format` overrides detection; `mapping` is used for
/// generic CSV (suggested from the header when `None`).
pub fn import(
    bytes: &[u8],
    format: Option<Format>,
    limits: &ImportLimits,
    on_progress: &mut dyn FnMut(f64) -> bool,
) -> Result<ImportedTraffic, ImportError> {
    import_with_mapping(bytes, format, None, limits, on_progress)
}

/// `import` with an explicit column mapping for generic CSV.
pub fn import_with_mapping(
    bytes: &[u8],
    format: Option<Format>,
    mapping: Option<&ColumnMapping>,
    limits: &ImportLimits,
    on_progress: &mut dyn FnMut(f64) -> bool,
) -> Result<ImportedTraffic, ImportError> {
    if bytes.is_empty() {
        return Err(ImportError::Empty);
    }
    if bytes.len() as u64 > limits.max_bytes {
        return Err(ImportError::TooLarge {
            bytes: bytes.len() as u64,
            max_bytes: limits.max_bytes,
        });
    }
    let format = match format {
        Some(f) => f,
        None => detect_format(bytes).ok_or_else(|| ImportError::UnknownFormat {
            prefix: bytes[..bytes.len().min(16)].to_vec(),
        })?,
    };
    let mut progress = Progress::new(on_progress, bytes.len() as u64);
    let result = match format {
        Format::Pcap => pcap::import_pcap(bytes, limits, &mut progress),
        Format::Pcapng => pcapng::import_pcapng(bytes, limits, &mut progress),
        Format::ZeekTsv => zeek::import_tsv(bytes, limits, &mut progress),
        Format::ZeekJson => zeek::import_json(bytes, limits, &mut progress),
        Format::Cic | Format::Kdd | Format::Unsw | Format::GenericCsv => {
            tabular::import_csv(bytes, format, mapping, limits, &mut progress)
        }
    }?;
    progress.done();
    result.finish()
}
