//! Any CSV with a header, through an explicit column mapping, and the row-to-flow conversion
//! the CIC, KDD and UNSW importers share.
//!
//! `suggest_mapping` guesses the mapping from header names (what the UI shows for the user to
//! confirm or change); `row_to_flow` turns one row into a `FlowRecord` under a mapping. Not
//! here: reading the file (`tabular`), format-specific header names (`cic`, `unsw`, `kdd`).

use super::csv_reader::{normalize_name, parse_count, parse_f64, parse_port, parse_time};
use super::warnings::Quantity;
use crate::traffic::flow::{ConnHistory, ConnState, FlowRecord, Label, OrigRole, Proto, Service};
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, Ipv4Addr};

/// How a duration column is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DurationUnit {
    #[default]
    Seconds,
    Milliseconds,
    Microseconds,
}

crate::util::serde_names::serde_by_name!(DurationUnit, "a duration unit");

impl DurationUnit {
    pub const ALL: [DurationUnit; 3] = [
        DurationUnit::Seconds,
        DurationUnit::Milliseconds,
        DurationUnit::Microseconds,
    ];

    /// The name serde writes.
    pub fn as_str(self) -> &'static str {
        match self {
            DurationUnit::Seconds => "seconds",
            DurationUnit::Milliseconds => "milliseconds",
            DurationUnit::Microseconds => "microseconds",
        }
    }

    pub fn to_seconds(self, value: f64) -> f64 {
        match self {
            DurationUnit::Seconds => value,
            DurationUnit::Milliseconds => value / 1e3,
            DurationUnit::Microseconds => value / 1e6,
        }
    }
}

/// Which column (0-based) holds each flow field; `None` = the file does not carry it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ColumnMapping {
    pub time: Option<usize>,
    pub src_ip: Option<usize>,
    pub dst_ip: Option<usize>,
    pub src_port: Option<usize>,
    pub dst_port: Option<usize>,
    pub proto: Option<usize>,
    pub service: Option<usize>,
    pub duration: Option<usize>,
    pub duration_unit: DurationUnit,
    pub bytes_out: Option<usize>,
    pub bytes_in: Option<usize>,
    pub pkts_out: Option<usize>,
    pub pkts_in: Option<usize>,
    pub conn_state: Option<usize>,
    /// Ground truth; never a feature.
    pub label: Option<usize>,
    /// Counts of TCP FIN / RST flags (CICFlowMeter), used to infer conn_state when absent.
    pub fin_count: Option<usize>,
    pub rst_count: Option<usize>,
}

impl ColumnMapping {
    /// Every mapped column index, for range checks and to keep them out of the extras.
    pub fn used_columns(&self) -> Vec<usize> {
        [
            self.time,
            self.src_ip,
            self.dst_ip,
            self.src_port,
            self.dst_port,
            self.proto,
            self.service,
            self.duration,
            self.bytes_out,
            self.bytes_in,
            self.pkts_out,
            self.pkts_in,
            self.conn_state,
            self.label,
        ]
        .into_iter()
        .flatten()
        .collect()
    }
}

/// A header name for tolerant matching: words lower-cased and joined, a plural `s` dropped
/// from words of four letters or more (`Packets`/`Packet`, `Pkts`/`Pkt`: CICFlowMeter versions
/// disagree), a lone `s` word (per second, `Byts/s`) kept apart as `/s` so that a rate never
/// matches the count it is a rate of.
fn loose_name(name: &str) -> String {
    let mut out = String::new();
    for word in name
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        let w = word.to_ascii_lowercase();
        if w == "s" {
            out.push_str("/s");
        } else if w.len() >= 4 && w.ends_with('s') && !w.ends_with("ss") {
            out.push_str(&w[..w.len() - 1]);
        } else {
            out.push_str(&w);
        }
    }
    out
}

/// Header names in the two forms the matching compares: exact (case, spaces and punctuation
/// dropped) and loose (also singular).
struct Names {
    exact: Vec<String>,
    loose: Vec<String>,
}

impl Names {
    fn new(header: &[String]) -> Names {
        Names {
            exact: header.iter().map(|h| normalize_name(h)).collect(),
            loose: header.iter().map(|h| loose_name(h)).collect(),
        }
    }
}

/// The first candidate (in preference order) the header has, exactly or else loosely.
fn find(names: &Names, candidates: &[&str]) -> Option<usize> {
    candidates.iter().find_map(|c| {
        names.exact.iter().position(|n| n == c).or_else(|| {
            let c = loose_name(c);
            names.loose.iter().position(|n| *n == c)
        })
    })
}

/// The flow fields a user can map to a column, in the order the mapping form shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MappedField {
    Time,
    SrcIp,
    SrcPort,
    DstIp,
    DstPort,
    Proto,
    Service,
    Duration,
    BytesOut,
    BytesIn,
    PktsOut,
    PktsIn,
    ConnState,
    Label,
}

impl MappedField {
    pub const ALL: [MappedField; 14] = [
        MappedField::Time,
        MappedField::SrcIp,
        MappedField::SrcPort,
        MappedField::DstIp,
        MappedField::DstPort,
        MappedField::Proto,
        MappedField::Service,
        MappedField::Duration,
        MappedField::BytesOut,
        MappedField::BytesIn,
        MappedField::PktsOut,
        MappedField::PktsIn,
        MappedField::ConnState,
        MappedField::Label,
    ];

    pub fn title(self) -> &'static str {
        match self {
            MappedField::Time => "Time",
            MappedField::SrcIp => "Source address",
            MappedField::SrcPort => "Source port",
            MappedField::DstIp => "Destination address",
            MappedField::DstPort => "Destination port",
            MappedField::Proto => "Protocol",
            MappedField::Service => "Service",
            MappedField::Duration => "Duration",
            MappedField::BytesOut => "Bytes sent",
            MappedField::BytesIn => "Bytes received",
            MappedField::PktsOut => "Packets sent",
            MappedField::PktsIn => "Packets received",
            MappedField::ConnState => "Connection state",
            MappedField::Label => "Label (ground truth, never trained on)",
        }
    }
}

impl ColumnMapping {
    /// The column of a quantity that warnings are given about.
    pub fn quantity(&self, q: Quantity) -> Option<usize> {
        match q {
            Quantity::Duration => self.duration,
            Quantity::BytesOut => self.bytes_out,
            Quantity::BytesIn => self.bytes_in,
            Quantity::PktsOut => self.pkts_out,
            Quantity::PktsIn => self.pkts_in,
        }
    }

    pub fn get(&self, field: MappedField) -> Option<usize> {
        *self.slot(field)
    }

    pub fn set(&mut self, field: MappedField, column: Option<usize>) {
        *self.slot_mut(field) = column;
    }

    fn slot(&self, field: MappedField) -> &Option<usize> {
        match field {
            MappedField::Time => &self.time,
            MappedField::SrcIp => &self.src_ip,
            MappedField::SrcPort => &self.src_port,
            MappedField::DstIp => &self.dst_ip,
            MappedField::DstPort => &self.dst_port,
            MappedField::Proto => &self.proto,
            MappedField::Service => &self.service,
            MappedField::Duration => &self.duration,
            MappedField::BytesOut => &self.bytes_out,
            MappedField::BytesIn => &self.bytes_in,
            MappedField::PktsOut => &self.pkts_out,
            MappedField::PktsIn => &self.pkts_in,
            MappedField::ConnState => &self.conn_state,
            MappedField::Label => &self.label,
        }
    }

    fn slot_mut(&mut self, field: MappedField) -> &mut Option<usize> {
        match field {
            MappedField::Time => &mut self.time,
            MappedField::SrcIp => &mut self.src_ip,
            MappedField::SrcPort => &mut self.src_port,
            MappedField::DstIp => &mut self.dst_ip,
            MappedField::DstPort => &mut self.dst_port,
            MappedField::Proto => &mut self.proto,
            MappedField::Service => &mut self.service,
            MappedField::Duration => &mut self.duration,
            MappedField::BytesOut => &mut self.bytes_out,
            MappedField::BytesIn => &mut self.bytes_in,
            MappedField::PktsOut => &mut self.pkts_out,
            MappedField::PktsIn => &mut self.pkts_in,
            MappedField::ConnState => &mut self.conn_state,
            MappedField::Label => &mut self.label,
        }
    }
}

/// Header spellings of a quantity, as a warning lists them when none was found (a sample of
/// what `suggest_mapping` accepts, in the tools' own spelling).
pub fn spellings(q: Quantity) -> &'static [&'static str] {
    match q {
        Quantity::Duration => &["Flow Duration", "duration", "dur"],
        Quantity::BytesOut => &[
            "Total Length of Fwd Packets",
            "TotLen Fwd Pkts",
            "orig_bytes",
            "sbytes",
            "src_bytes",
            "bytes_out",
        ],
        Quantity::BytesIn => &[
            "Total Length of Bwd Packets",
            "TotLen Bwd Pkts",
            "resp_bytes",
            "dbytes",
            "dst_bytes",
            "bytes_in",
        ],
        Quantity::PktsOut => &[
            "Total Fwd Packets",
            "Tot Fwd Pkts",
            "orig_pkts",
            "spkts",
            "packets_out",
        ],
        Quantity::PktsIn => &[
            "Total Backward Packets",
            "Tot Bwd Pkts",
            "resp_pkts",
            "dpkts",
            "packets_in",
        ],
    }
}

/// The header of a CSV file from its first bytes (delimiter sniffed), for the mapping form.
pub fn read_header(head: &[u8]) -> Vec<String> {
    let delimiter = super::csv_reader::sniff_delimiter(head);
    let mut reader = super::csv_reader::CsvReader::new(head, delimiter);
    let mut fields = Vec::new();
    match reader.next_record(&mut fields) {
        Some(Ok(_)) => fields.into_iter().map(|f| f.trim().to_string()).collect(),
        _ => Vec::new(),
    }
}

/// Guesses the mapping from header names (CICFlowMeter, Zeek, UNSW-NB15, Argus, nfdump and
/// plain English spellings), case, spaces and punctuation ignored.
pub fn suggest_mapping(header: &[String]) -> ColumnMapping {
    let names = Names::new(header);
    let duration = find(
        &names,
        &[
            "flowduration",
            "duration",
            "durations",
            "dur",
            "durationms",
            "durationus",
            "td",
        ],
    );
    let duration_unit = match duration.map(|i| names.exact[i].as_str()) {
        Some("flowduration") | Some("durationus") => DurationUnit::Microseconds,
        Some("durationms") => DurationUnit::Milliseconds,
        _ => DurationUnit::Seconds,
    };
    ColumnMapping {
        time: find(
            &names,
            &[
                "ts",
                "timestamp",
                "time",
                "stime",
                "starttime",
                "start",
                "firstseen",
                "date",
                "datetime",
            ],
        ),
        src_ip: find(
            &names,
            &[
                "idorigh",
                "srcip",
                "sourceip",
                "srcaddr",
                "sa",
                "src",
                "source",
                "saddr",
                "ipsrc",
                "sourceaddress",
            ],
        ),
        dst_ip: find(
            &names,
            &[
                "idresph",
                "dstip",
                "destinationip",
                "dstaddr",
                "da",
                "dst",
                "destination",
                "daddr",
                "ipdst",
                "destinationaddress",
            ],
        ),
        src_port: find(
            &names,
            &["idorigp", "srcport", "sourceport", "sport", "sp", "srcpt"],
        ),
        dst_port: find(
            &names,
            &[
                "idrespp",
                "dstport",
                "destinationport",
                "dsport",
                "dport",
                "dp",
                "dstpt",
            ],
        ),
        proto: find(
            &names,
            &["proto", "protocol", "protocoltype", "pr", "transport"],
        ),
        service: find(&names, &["service", "app", "application"]),
        duration,
        duration_unit,
        bytes_out: find(
            &names,
            &[
                "origbytes",
                "totallengthoffwdpackets",
                "totlenfwdpkts",
                "sbytes",
                "srcbytes",
                "bytesout",
                "outbytes",
                "bytessent",
                "fwdbytes",
                "ibyt",
                "bytes",
                "totalbytes",
            ],
        ),
        bytes_in: find(
            &names,
            &[
                "respbytes",
                "totallengthofbwdpackets",
                "totlenbwdpkts",
                "dbytes",
                "dstbytes",
                "bytesin",
                "inbytes",
                "bytesreceived",
                "bwdbytes",
                "obyt",
            ],
        ),
        pkts_out: find(
            &names,
            &[
                "origpkts",
                "totalfwdpackets",
                "totfwdpkts",
                "spkts",
                "srcpkts",
                "pktsout",
                "outpkts",
                "packetssent",
                "fwdpackets",
                "ipkt",
                "packets",
                "pkts",
            ],
        ),
        pkts_in: find(
            &names,
            &[
                "resppkts",
                "totalbackwardpackets",
                "totalbwdpackets",
                "totbwdpkts",
                "dpkts",
                "dstpkts",
                "pktsin",
                "inpkts",
                "packetsreceived",
                "bwdpackets",
                "opkt",
            ],
        ),
        conn_state: find(&names, &["connstate", "state", "flag", "flags", "status"]),
        label: find(
            &names,
            &[
                "label",
                "attackcat",
                "attackcategory",
                "class",
                "attack",
                "attacktype",
                "detailedlabel",
                "target",
                "tag",
            ],
        ),
        fin_count: find(&names, &["finflagcount", "finflagcnt"]),
        rst_count: find(&names, &["rstflagcount", "rstflagcnt"]),
    }
}

/// A connection state written by Zeek, Argus/UNSW (`FIN`, `CON`, `INT`, ...) or KDD.
pub fn parse_state_loose(text: &str) -> Option<ConnState> {
    if let Some(s) = ConnState::parse(text) {
        return Some(s);
    }
    match text.trim().to_ascii_uppercase().as_str() {
        "FIN" | "CLO" => Some(ConnState::SF),
        "CON" | "ACC" | "EST" => Some(ConnState::S1),
        "INT" | "REQ" => Some(ConnState::S0),
        "RST" => Some(ConnState::RSTO),
        "" | "-" => None,
        _ => Some(ConnState::OTH),
    }
}

/// Zeek-like state from what a flow summary carries.
pub fn infer_state(proto: Proto, pkts_in: u64, fin: u64, rst: u64) -> ConnState {
    match proto {
        Proto::Tcp if pkts_in == 0 => ConnState::S0,
        Proto::Tcp if rst > 0 => ConnState::RSTO,
        Proto::Tcp if fin > 0 => ConnState::SF,
        Proto::Tcp => ConnState::S1,
        _ if pkts_in > 0 => ConnState::SF,
        _ => ConnState::S0,
    }
}

/// A service from a well-known destination port (used when the format names none).
pub fn service_from_port(proto: Proto, port: u16) -> Service {
    match (proto, port) {
        (Proto::Tcp, 80 | 8080 | 8000) => Service::Http,
        (Proto::Tcp, 443 | 8443) | (Proto::Udp, 443) => Service::Ssl,
        (_, 53) | (Proto::Udp, 5353) => Service::Dns,
        (Proto::Udp, 123) => Service::Ntp,
        (Proto::Tcp, 22) => Service::Ssh,
        (Proto::Tcp, 25 | 465 | 587) => Service::Smtp,
        (Proto::Tcp, 143 | 993 | 110 | 995) => Service::Imap,
        (Proto::Tcp, 445 | 139) | (Proto::Udp, 137 | 138) => Service::Smb,
        (Proto::Tcp, 3389) => Service::Rdp,
        (Proto::Tcp, 21 | 20) => Service::Ftp,
        (Proto::Udp, 67 | 68) => Service::Dhcp,
        (_, 88) => Service::Krb,
        (_, 389) => Service::Ldap,
        (Proto::Udp, 161 | 162) => Service::Snmp,
        (Proto::Tcp, 6667) => Service::Irc,
        _ => Service::None,
    }
}

/// A service as KDD writes it (`domain_u`, `ftp_data`, `http_443`, `private`, ...).
pub fn parse_service_loose(text: &str) -> Service {
    match text.trim().to_ascii_lowercase().as_str() {
        "domain_u" | "domain" => Service::Dns,
        "ntp_u" => Service::Ntp,
        "http_443" => Service::Ssl,
        "http_8001" | "http_2784" => Service::Http,
        "pop_3" | "pop_2" => Service::Imap,
        "netbios_ns" | "netbios_dgm" | "netbios_ssn" => Service::Smb,
        "private" | "other" => Service::Other,
        t => Service::parse(t),
    }
}

/// What a row conversion yields besides the flow.
pub struct RowOutcome {
    pub flow: FlowRecord,
    pub label: Option<String>,
    pub local_time: bool,
}

/// A failed required cell: the column index and its text.
pub struct BadCell {
    pub column: usize,
    pub value: String,
}

fn cell(row: &[String], col: Option<usize>) -> Option<&str> {
    col.and_then(|c| row.get(c)).map(|s| s.as_str())
}

/// The placeholder addresses used when a format carries none (documentation ranges).
pub const PLACEHOLDER_SRC: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
pub const PLACEHOLDER_DST: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 1));

/// Converts one row. Cells that are mapped but empty or `-` count as zero / absent; a cell
/// that holds text where a number or address belongs fails the row.
pub fn row_to_flow(
    row: &[String],
    m: &ColumnMapping,
    row_index: u64,
) -> Result<RowOutcome, BadCell> {
    let bad = |column: usize| BadCell {
        column,
        value: row.get(column).cloned().unwrap_or_default(),
    };
    let number = |col: Option<usize>| -> Result<Option<f64>, BadCell> {
        match (col, cell(row, col)) {
            (Some(c), Some(text)) => {
                let t = text.trim();
                if t.is_empty() || t == "-" {
                    return Ok(None);
                }
                match parse_f64(t) {
                    Some(v) if v.is_finite() => Ok(Some(v)),
                    Some(_) => Ok(None),
                    None => Err(bad(c)),
                }
            }
            _ => Ok(None),
        }
    };
    let count = |col: Option<usize>| -> Result<u64, BadCell> {
        match (col, cell(row, col)) {
            (Some(c), Some(text)) => {
                let t = text.trim();
                if t.is_empty() || t == "-" {
                    return Ok(0);
                }
                parse_count(t).ok_or_else(|| bad(c))
            }
            _ => Ok(0),
        }
    };
    let addr = |col: Option<usize>, fallback: IpAddr| -> Result<IpAddr, BadCell> {
        match (col, cell(row, col)) {
            (Some(c), Some(text)) => text.trim().parse().map_err(|_| bad(c)),
            _ => Ok(fallback),
        }
    };
    let port = |col: Option<usize>| -> Result<u16, BadCell> {
        match (col, cell(row, col)) {
            (Some(c), Some(text)) => {
                let t = text.trim();
                if t.is_empty() || t == "-" {
                    return Ok(0);
                }
                parse_port(t).ok_or_else(|| bad(c))
            }
            _ => Ok(0),
        }
    };

    let (ts, local_time) = match (m.time, cell(row, m.time)) {
        (Some(c), Some(text)) => parse_time(text).ok_or_else(|| bad(c))?,
        _ => (row_index as f64, false),
    };
    let proto = match (m.proto, cell(row, m.proto)) {
        (Some(_), Some(text)) => Proto::parse(text).unwrap_or(Proto::Unknown),
        _ => Proto::Tcp,
    };
    let src_ip = addr(m.src_ip, PLACEHOLDER_SRC)?;
    let dst_ip = addr(m.dst_ip, PLACEHOLDER_DST)?;
    let src_port = port(m.src_port)?;
    let dst_port = port(m.dst_port)?;
    let duration_s = number(m.duration)?
        .map(|d| m.duration_unit.to_seconds(d).max(0.0))
        .unwrap_or(0.0);
    let bytes_out = count(m.bytes_out)?;
    let bytes_in = count(m.bytes_in)?;
    let pkts_out = count(m.pkts_out)?;
    let pkts_in = count(m.pkts_in)?;
    let service = match cell(row, m.service) {
        Some(text) if !text.trim().is_empty() && text.trim() != "-" => parse_service_loose(text),
        _ => service_from_port(proto, dst_port),
    };
    let conn_state = match cell(row, m.conn_state).and_then(parse_state_loose) {
        Some(s) => s,
        None => {
            let fin = number(m.fin_count)?.unwrap_or(0.0) as u64;
            let rst = number(m.rst_count)?.unwrap_or(0.0) as u64;
            infer_state(proto, pkts_in, fin, rst)
        }
    };
    let label = cell(row, m.label)
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string);
    Ok(RowOutcome {
        flow: FlowRecord {
            ts,
            src_ip,
            src_port,
            dst_ip,
            dst_port,
            proto,
            service,
            duration_s,
            bytes_out,
            bytes_in,
            pkts_out,
            pkts_in,
            conn_state,
            history: ConnHistory::EMPTY,
            label: Label::Benign,
            incident_id: None,
            orig_role: OrigRole::None,
        },
        label,
        local_time,
    })
}

#[cfg(test)]
mod mapping_tests {
    use super::*;

    #[test]
    fn every_field_reads_back_what_was_set_and_only_there() {
        for (k, field) in MappedField::ALL.into_iter().enumerate() {
            let mut m = ColumnMapping::default();
            m.set(field, Some(k + 100));
            assert_eq!(m.get(field), Some(k + 100));
            assert!(MappedField::ALL
                .iter()
                .filter(|&&f| f != field)
                .all(|&f| m.get(f).is_none()));
        }
    }

    #[test]
    fn header_from_the_first_line_with_sniffed_delimiter() {
        assert_eq!(read_header(b"a;b;\"c d\"\n1;2;3\n"), ["a", "b", "c d"]);
        assert_eq!(
            read_header(b" Source IP, Label\r\n"),
            ["Source IP", "Label"]
        );
        assert!(read_header(b"").is_empty());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn suggests_from_common_spellings() {
        let m = suggest_mapping(&header(&[
            "StartTime",
            "SrcAddr",
            "Sport",
            "DstAddr",
            "Dport",
            "Proto",
            "Dur",
            "SrcBytes",
            "Label",
        ]));
        assert_eq!(m.time, Some(0));
        assert_eq!(m.src_ip, Some(1));
        assert_eq!(m.src_port, Some(2));
        assert_eq!(m.dst_ip, Some(3));
        assert_eq!(m.dst_port, Some(4));
        assert_eq!(m.proto, Some(5));
        assert_eq!(m.duration, Some(6));
        assert_eq!(m.bytes_out, Some(7));
        assert_eq!(m.label, Some(8));
        assert_eq!(m.bytes_in, None);
        let cic = suggest_mapping(&header(&[" Flow Duration", " Destination Port"]));
        assert_eq!(cic.duration_unit, DurationUnit::Microseconds);
        assert_eq!(cic.dst_port, Some(1));
    }

    #[test]
    fn singular_spellings_match_but_rates_never_match_counts() {
        let m = suggest_mapping(&header(&[
            "Fwd Packets/s",
            "Total Fwd Packet",
            "Total Bwd packets",
            "Flow Bytes/s",
            "Total Length of Bwd Packet",
        ]));
        assert_eq!(m.pkts_out, Some(1));
        assert_eq!(m.pkts_in, Some(2));
        assert_eq!(m.bytes_in, Some(4));
        assert_eq!(m.bytes_out, None);
        // Only rates: no count column is taken for them.
        let rates = suggest_mapping(&header(&["Fwd Pkts/s", "Bwd Pkts/s", "Flow Byts/s"]));
        assert_eq!(
            (rates.pkts_out, rates.pkts_in, rates.bytes_out),
            (None, None, None)
        );
        assert_eq!(loose_name("TotLen Fwd Pkts"), loose_name("totlenfwdpkts"));
        assert_ne!(loose_name("Flow Byts/s"), loose_name("Flow Byts"));
    }

    #[test]
    fn states_from_other_tools() {
        assert_eq!(parse_state_loose("FIN"), Some(ConnState::SF));
        assert_eq!(parse_state_loose("INT"), Some(ConnState::S0));
        assert_eq!(parse_state_loose("rsto"), Some(ConnState::RSTO));
        assert_eq!(parse_state_loose("-"), None);
    }
}
