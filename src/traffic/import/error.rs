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
            ImportError::NotConnLog { log, evidence } => {
                match log {
                    Some(log) => write!(f, "This is a Zeek {log}.log ({evidence})")?,
                    None => write!(f, "This is a Zeek log other than conn.log ({evidence})")?,
                }
                f.write_str(
                    "; the detector reads conn.log, Zeek's per-connection log. Import the conn.log from the same Zeek run.",
                )
            }
            ImportError::Cancelled { fraction_done } => {
                write!(f, "cancelled at {:.0} %", fraction_done * 100.0)
            }
        }
    }
}

impl std::error::Error for ImportError {}
