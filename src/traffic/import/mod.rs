//! Bring your own traffic: parses flow logs and packet captures into `FlowRecord`s, in memory.
//!
//! Formats: Zeek conn.log (TSV and JSON lines), Suricata EVE JSON flow events, CICFlowMeter /
//! CIC-IDS CSV, NSL-KDD / KDD Cup 99 rows, UNSW-NB15 CSV, Argus binetflow CSV (CTU-13), nfdump CSV (NetFlow / IPFIX), any CSV through a `ColumnMapping`,
//! and pcap / pcapng assembled into bidirectional flows with Zeek-like fields. Detection is from content and can be overridden.
//! Bad records are skipped and reported with their line or byte offset; what parsed is kept.
//! Ground-truth labels are carried beside the flows (`truth`), never inside them, so nothing
//! downstream can train on them by accident. Not here: feature choice, training, the UI.
//!
//! Layout: the shared vocabulary (`format`, `limits`, `warnings`, `error`, `imported`,
//! `progress`) sits below the readers (`pcap`, `pcapng`, `packet` with the link layers in
//! `link`, `flow_table`, `zeek` with
//! `zeek_kind`, `suricata`, `tabular` with `cic`, `kdd`, `unsw`, `argus`, `nfdump`, `generic_csv`, `csv_reader`) and
//! `detect`; `zeek_stream` reads a conn.log line by line and `tail` (native only) follows a
//! growing one across rotation for `detect follow`; this file only re-exports them and dispatches a file to its reader, and no child
//! imports it.

pub mod argus;
pub mod cic;
pub mod csv_reader;
pub mod detect;
mod error;
pub mod flow_table;
mod format;
pub mod generic_csv;
mod imported;
pub mod kdd;
mod limits;
pub mod link;
pub mod nfdump;
pub mod packet;
pub mod pcap;
pub mod pcapng;
mod progress;
mod suricata;
pub mod tabular;
#[cfg(not(target_arch = "wasm32"))]
pub mod tail;
pub mod unsw;
mod warnings;
pub mod zeek;
mod zeek_kind;
pub mod zeek_stream;

pub use detect::{detect_format, inspect, FileInspection};
pub use error::{CaptureRefusal, ImportError};
pub use format::Format;
pub use imported::{is_benign, is_unknown_label, ImportedTraffic, PacketStats};
pub use limits::ImportLimits;
pub use warnings::{ImportWarning, LimitKind, Location, Quantity, SkipReason, SkippedRecord};

pub use generic_csv::{read_header, suggest_mapping, ColumnMapping, DurationUnit, MappedField};
use progress::Progress;

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
        Format::ZeekTsv | Format::ZeekJson => {
            zeek::import_conn_log(bytes, format, limits, &mut progress)
        }
        Format::SuricataEve => suricata::import_eve(bytes, limits, &mut progress),
        Format::Cic
        | Format::Kdd
        | Format::Unsw
        | Format::Argus
        | Format::Nfdump
        | Format::GenericCsv => tabular::import_csv(bytes, format, mapping, limits, &mut progress),
    }?;
    progress.done();
    result.finish()
}
