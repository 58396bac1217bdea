//! What an import that succeeded still tells the user: records skipped (with their line or
//! byte offset and the reason), limits hit, columns ignored.

use serde::{Deserialize, Serialize};
use std::fmt;

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
    /// A text line longer than a streaming reader holds (it reads line by line, so one
    /// line is all it buffers).
    LineTooLong { max_bytes: u64 },
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
            SkipReason::LineTooLong { max_bytes } => {
                write!(f, "line longer than {max_bytes} bytes")
            }
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

/// A flow quantity a tabular format reads from a column, named in warnings about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Quantity {
    Duration,
    BytesOut,
    BytesIn,
    PktsOut,
    PktsIn,
}

impl Quantity {
    pub const ALL: [Quantity; 5] = [
        Quantity::Duration,
        Quantity::BytesOut,
        Quantity::BytesIn,
        Quantity::PktsOut,
        Quantity::PktsIn,
    ];

    /// What the column holds, in analyst words.
    pub fn what(self) -> &'static str {
        match self {
            Quantity::Duration => "the flow duration",
            Quantity::BytesOut => "bytes sent by the source",
            Quantity::BytesIn => "bytes sent back by the destination",
            Quantity::PktsOut => "packets sent by the source",
            Quantity::PktsIn => "packets sent back by the destination",
        }
    }

    /// What the detector loses when every flow has the same value.
    fn loss(self) -> &'static str {
        match self {
            Quantity::Duration => "duration and rate features say nothing",
            Quantity::BytesOut | Quantity::BytesIn => "size features say nothing",
            Quantity::PktsOut => "packet-count features say nothing",
            // infer_state reads an unanswered TCP flow from pkts_in == 0.
            Quantity::PktsIn => {
                "packet-count features say nothing and, without a state column, every TCP flow looks unanswered"
            }
        }
    }

    fn unit(self) -> &'static str {
        match self {
            Quantity::Duration => "durations",
            Quantity::BytesOut | Quantity::BytesIn => "bytes",
            Quantity::PktsOut | Quantity::PktsIn => "packets",
        }
    }
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
    /// Frames that may carry IP but could not be read, per reason (encrypted 802.11, ...).
    PacketsUndecodable { kinds: Vec<(String, u64)> },
    /// Timestamps written as local date-times without a zone were read as UTC.
    LocalTimesAsUtc,
    /// The file ended inside a record; what came before was kept.
    TruncatedFile { at_byte: u64 },
    /// Rows had no label cell although the file has a label column.
    UnlabelledRows { count: u64 },
    /// Rows of other Zeek logs (dns.log, http.log, ...) in a file that also holds conn.log
    /// rows: per log name (`None` = unnamed), how many rows were left out.
    OtherZeekLogRows { logs: Vec<(Option<String>, u64)> },
    /// Records that count one direction only (Suricata `netflow` events): nothing sent back.
    OneWayRecords { count: u64 },
    /// Records of other kinds (Suricata alert, dns, stats, ...) left out: per kind, how many.
    OtherEventsLeftOut { events: Vec<(String, u64)> },
    /// One packet count for both directions (Argus `TotPkts`): stored as packets sent by the
    /// source, packets back read as 0.
    PacketsBothWays { column: String },
    /// Output counts (nfdump `opkt`/`obyt`) read 0 in every row: a unidirectional export,
    /// each record one direction, so bytes and packets back are not known.
    NothingSentBack { columns: Vec<String> },
    /// The summary block at the end of nfdump's output (totals, not flows) was left out,
    /// from this line on.
    SummaryLeftOut { line: u64 },
    /// TCP connections whose sequence numbers show data the capture did not hold (Zeek's
    /// `missed_bytes`); their byte counts include it, as Zeek's do.
    CaptureGaps { connections: u64, missed_bytes: u64 },
    /// Sequence or acknowledgement numbers far (over 1 MiB) ahead of their connection's,
    /// seen in one packet only, were not used for byte counts.
    ImplausibleSequenceNumbers { connections: u64, numbers: u64 },
    /// No column of the file holds this quantity, so it reads 0 in every flow; `looked_for`
    /// lists header spellings tried (empty when the mapping was given or the format is fixed).
    ColumnNotFound {
        quantity: Quantity,
        looked_for: Vec<String>,
    },
    /// The column mapped to this quantity has one value in every row (often an unreadable or
    /// mis-mapped export).
    ConstantColumn {
        quantity: Quantity,
        column: String,
        value: String,
        rows: u64,
    },
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
            ImportWarning::PacketsUndecodable { kinds } => {
                let total: u64 = kinds.iter().map(|(_, n)| n).sum();
                let each: Vec<String> = kinds.iter().map(|(k, n)| format!("{n} {k}")).collect();
                write!(
                    f,
                    "{total} packets could not be read, so their traffic is missing from the flows: {}",
                    each.join(", ")
                )
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
            ImportWarning::OneWayRecords { count } => write!(
                f,
                "{count} records count one direction only (Suricata netflow events): bytes and packets back read as 0, and each direction is a flow of its own"
            ),
            ImportWarning::OtherEventsLeftOut { events } => {
                let each: Vec<String> = events.iter().map(|(k, n)| format!("{n} {k}")).collect();
                write!(
                    f,
                    "events other than flows were left out: {}",
                    each.join(", ")
                )
            }
            ImportWarning::PacketsBothWays { column } => write!(
                f,
                "Column {column:?} counts the packets of both directions together: it is stored as packets sent by the source, and packets sent back read as 0 (not known), so packet-count features mix both directions"
            ),
            ImportWarning::NothingSentBack { columns } => write!(
                f,
                "Columns {} read 0 in every row: the export counts one direction per record (unidirectional NetFlow), so bytes and packets sent back read as 0 (not known, not unanswered), and an answer, if exported, is a flow of its own",
                columns
                    .iter()
                    .map(|c| format!("{c:?}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            ImportWarning::SummaryLeftOut { line } => write!(
                f,
                "the summary block from line {line} on (totals, not flows) was left out"
            ),
            ImportWarning::CaptureGaps {
                connections,
                missed_bytes,
            } => write!(
                f,
                "{connections} TCP connections have gaps the capture missed, {missed_bytes} bytes in all (Zeek's missed_bytes): their byte counts include them, as Zeek's do, because later packets show the bytes were sent"
            ),
            ImportWarning::ImplausibleSequenceNumbers {
                connections,
                numbers,
            } => write!(
                f,
                "{numbers} TCP sequence or acknowledgement numbers in {connections} connections were more than 1 MiB ahead of the rest of their connection with no other packet to confirm them (corrupt or injected packets): they were not counted as bytes"
            ),
            ImportWarning::ColumnNotFound {
                quantity,
                looked_for,
            } => {
                if looked_for.is_empty() {
                    write!(f, "No column holds {}", quantity.what())?;
                } else {
                    write!(
                        f,
                        "No column for {} was found (looked for: {})",
                        quantity.what(),
                        looked_for.join(", ")
                    )?;
                }
                write!(
                    f,
                    ": {} read as 0, so {}.",
                    quantity.unit(),
                    quantity.loss()
                )
            }
            ImportWarning::ConstantColumn {
                quantity,
                column,
                value,
                rows,
            } => write!(
                f,
                "Column {column:?} ({}) holds {value} in all {rows} rows: {}.",
                quantity.what(),
                quantity.loss()
            ),
            ImportWarning::OtherZeekLogRows { logs } => {
                let total: u64 = logs.iter().map(|(_, n)| n).sum();
                let each: Vec<String> = logs
                    .iter()
                    .map(|(log, n)| match log {
                        Some(log) => format!("{n} of {log}.log"),
                        None => format!("{n} of an unnamed log"),
                    })
                    .collect();
                write!(
                    f,
                    "{total} rows of other Zeek logs were left out ({}): only conn.log rows describe connections",
                    each.join(", ")
                )
            }
        }
    }
}
