//! Which traffic file formats the importer reads, with the names the UI, URL and report use.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A traffic file format the importer understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    ZeekTsv,
    ZeekJson,
    Cic,
    Kdd,
    Unsw,
    /// Argus binetflow CSV (CTU-13).
    Argus,
    /// nfdump's CSV output (NetFlow / IPFIX), 1.6 and 1.7 column names.
    Nfdump,
    /// Any CSV with a header; columns come from a `ColumnMapping` (suggested from the header
    /// when none is given).
    GenericCsv,
    Pcap,
    Pcapng,
    /// Suricata's eve.json, its `flow` and `netflow` events.
    SuricataEve,
}

impl Format {
    pub const ALL: [Format; 11] = [
        Format::ZeekTsv,
        Format::ZeekJson,
        Format::Cic,
        Format::Kdd,
        Format::Unsw,
        Format::Argus,
        Format::Nfdump,
        Format::GenericCsv,
        Format::Pcap,
        Format::Pcapng,
        Format::SuricataEve,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::ZeekTsv => "zeek_tsv",
            Format::ZeekJson => "zeek_json",
            Format::Cic => "cic",
            Format::Kdd => "kdd",
            Format::Unsw => "unsw",
            Format::Argus => "argus",
            Format::Nfdump => "nfdump",
            Format::GenericCsv => "generic_csv",
            Format::Pcap => "pcap",
            Format::Pcapng => "pcapng",
            Format::SuricataEve => "suricata_eve",
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
            Format::Argus => "Argus binetflow CSV (CTU-13)",
            Format::Nfdump => "nfdump CSV (NetFlow / IPFIX)",
            Format::GenericCsv => "CSV (column mapping)",
            Format::Pcap => "pcap capture",
            Format::Pcapng => "pcapng capture",
            Format::SuricataEve => "Suricata EVE JSON (flow events)",
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
                "binetflow" | "ctu-13" | "ctu13" | "ctu_13" => Some(Format::Argus),
                "netflow" | "nfdump_csv" | "nfdump-csv" | "ipfix" | "nfcapd" => {
                    Some(Format::Nfdump)
                }
                "cicflowmeter" | "cic-ids" | "cic_ids" => Some(Format::Cic),
                "suricata" | "eve" | "eve.json" | "eve_json" => Some(Format::SuricataEve),
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
