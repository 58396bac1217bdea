//! Why an import failed as a whole.

use super::format::Format;
use super::warnings::SkippedRecord;
use serde::{Deserialize, Serialize};
use std::fmt;

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
    /// A Zeek log other than conn.log (dns.log, http.log, ...): its rows are not connections.
    /// `log` is its name when the path or the fields tell it; `evidence` says what showed it.
    NotConnLog {
        log: Option<String>,
        evidence: String,
    },
    /// A capture whose packets gave no flow, with the most telling reason found.
    CaptureUnusable {
        format: Format,
        why: CaptureRefusal,
    },
    /// The progress callback asked to stop.
    Cancelled {
        fraction_done: f64,
    },
}

/// Why a capture gave no flow, from what its reader saw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "reason")]
pub enum CaptureRefusal {
    /// The file holds its header and no packet record.
    NoPackets,
    /// The first packet record claims more bytes than the file has left.
    FirstRecordTooLong {
        at_byte: u64,
        needed: u64,
        available: u64,
    },
    /// The file ends inside the first packet record's header.
    FirstRecordHeaderCut { at_byte: u64 },
    /// Every packet is on link types the decoder does not read: number and name.
    LinkTypeNotDecoded {
        link_types: Vec<(u32, Option<String>)>,
        packets: u64,
    },
    /// No packet was IP; per kind of frame (`ARP`, `PPPoE discovery`, ...), how many.
    NoIp {
        packets: u64,
        kinds: Vec<(String, u64)>,
    },
    /// IP packets, but none that starts a connection (only later fragments, say).
    NoConnections {
        ip_packets: u64,
        other_protocols: u64,
        later_fragments: u64,
    },
}

fn link_type_text(link_type: u32, name: &Option<String>) -> String {
    match name {
        Some(name) => format!("{link_type} ({name})"),
        None => format!("{link_type} (a type this importer has no name for)"),
    }
}

impl fmt::Display for CaptureRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CaptureRefusal::NoPackets => {
                f.write_str("the file holds no packet, only its header; nothing to analyse")
            }
            CaptureRefusal::FirstRecordTooLong {
                at_byte,
                needed,
                available,
            } => write!(
                f,
                "the first packet record (byte {at_byte}) claims {needed} bytes but only {available} remain: the file is cut short or damaged; nothing to analyse"
            ),
            CaptureRefusal::FirstRecordHeaderCut { at_byte } => write!(
                f,
                "the file ends at byte {at_byte}, inside the first packet record's header; nothing to analyse"
            ),
            CaptureRefusal::LinkTypeNotDecoded {
                link_types,
                packets,
            } => {
                let names: Vec<String> = link_types
                    .iter()
                    .map(|(lt, name)| link_type_text(*lt, name))
                    .collect();
                let (noun, verb) = if names.len() == 1 {
                    ("link type", "is")
                } else {
                    ("link types", "are")
                };
                let users = if *packets == 1 {
                    "the capture's only packet uses it".to_string()
                } else {
                    format!("all {packets} packets use it")
                };
                write!(
                    f,
                    "{noun} {} {verb} not decoded yet, and {users}; nothing to analyse",
                    names.join(", ")
                )
            }
            CaptureRefusal::NoIp { packets, kinds } => {
                let kinds: Vec<String> = kinds.iter().map(|(k, n)| format!("{n} {k}")).collect();
                if *packets == 1 {
                    f.write_str("the capture's only packet is not IP")?;
                } else {
                    write!(f, "0 of {packets} packets were IP")?;
                }
                write!(f, ": {}; nothing to analyse", kinds.join(", "))
            }
            CaptureRefusal::NoConnections {
                ip_packets,
                other_protocols,
                later_fragments,
            } => write!(
                f,
                "{ip_packets} IP packets but no connection could be formed from them ({later_fragments} later fragments whose first fragment is not in the capture, {other_protocols} of other IP protocols); nothing to analyse"
            ),
        }
    }
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
            ImportError::NotConnLog { log, evidence } => {
                match log {
                    Some(log) => write!(f, "This is a Zeek {log}.log ({evidence})")?,
                    None => write!(f, "This is a Zeek log other than conn.log ({evidence})")?,
                }
                f.write_str(
                    "; the detector reads conn.log, Zeek's per-connection log. Import the conn.log from the same Zeek run.",
                )
            }
            ImportError::CaptureUnusable { format, why } => write!(f, "{}: {why}", format.title()),
            ImportError::Cancelled { fraction_done } => {
                write!(f, "cancelled at {:.0} %", fraction_done * 100.0)
            }
        }
    }
}

impl std::error::Error for ImportError {}
