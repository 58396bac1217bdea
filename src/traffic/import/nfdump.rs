//! nfdump's CSV output (`nfdump -r FILE -o csv`): NetFlow v5/v9 and IPFIX records as nfcapd
//! stored them, one row per flow record.
//!
//! What it recognises and how the columns become flow fields; the reading itself is
//! `tabular`'s. Not for: nfcapd's binary files (convert them with `nfdump -o csv` first),
//! nfdump's text outputs (`-o line`, `-o long`, `-o extended`) or its JSON.
//!
//! Headers, confirmed from nfdump's own source (`phaag/nfdump`, `src/output/output_csv.c`
//! and `output_csv_fast.c`, read through the code search) and, for the classic names, from
//! a published column table (`FServais/NMM-ULg-Traffic-Characterization`, `Column_name_spec.md`):
//!
//! - 1.6.x: short names, `ts,te,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,ibyt,opkt,obyt,in,out,...`;
//!   `pr` is a name (`TCP`, `UDP`, `ICMP`) or a number, `flg` a flag string such as `.AP.SF`.
//!   Real output ends with a summary block: `Summary`, then
//!   `flows,bytes,packets,avg_bps,avg_pps,avg_bpp` and a line of totals.
//! - 1.7.x: the `formatTable` of `output_csv.c` names columns `firstSeen`, `lastSeen`,
//!   `duration`, `proto` (a number), `srcAddr`, `dstAddr`, `srcPort`, `dstPort`, `flags`,
//!   `inPackets`, `inBytes`, `outPackets`, `outBytes` (and `packets`/`bytes` for the compat
//!   `%pkt`/`%byt` tokens); `-o csv-fast` writes
//!   `cnt,af,firstSeen,lastSeen,proto,srcAddr,srcPort,dstAddr,dstPort,...,flags,srcTos,packets,bytes`
//!   with times as epoch milliseconds. Both spellings are read.
//!
//! Mapping: first seen → start; `td`/`duration` (seconds) → duration, or last − first seen
//! when there is no duration column; input packets/bytes (`ipkt`/`ibyt`) → sent by the
//! source, output (`opkt`/`obyt`) → sent back. A unidirectional NetFlow export has output
//! counts 0 in every row: the import says so (bytes and packets back are not known, not
//! "unanswered"), and an answer, if exported, is a flow record of its own. Times are local
//! date-times without a zone (nfdump formats them with `localtime`): read as UTC, with a
//! warning. ICMP: nfdump puts type and code in the destination port, as `type.code` or as
//! `type × 256 + code`; they become source port = type, destination port = code, as Zeek
//! logs ICMP. No labels: nfdump carries no ground truth. The summary block ends the import
//! and is reported as a summary, not as malformed rows.
//!
//! `flg` / `flags` to Zeek's `conn_state` (TCP only). nfdump's flags are the OR of every
//! packet's flags in the record; in a unidirectional export that is one side's flags, in a
//! bidirectional (IPFIX biflow) export both sides' together, and the file does not say which.
//! So states that differ only in who sent what cannot be told apart; the table picks the
//! closest and says what it confuses. Checked in this order:
//!
//! | flags seen (any order)          | Zeek   | cannot be told apart from                      |
//! |---------------------------------|--------|------------------------------------------------|
//! | none (`........`, empty)        | —      | state inferred from packets back, as for CSV   |
//! | S and R, no A                   | RSTOS0 | —                                              |
//! | S, R and A, no P, no F          | REJ    | a handshake reset before any data (RSTO)       |
//! | R (with anything else)          | RSTO   | RSTR (who reset is unknown)                    |
//! | S and F, no A                   | SH     | —                                              |
//! | S, no A                         | S0     | the SYN side of a REJ in a unidirectional export |
//! | S, A and F                      | SF     | S2/S3 (one side's FIN only)                    |
//! | S and A                         | S1     | —                                              |
//! | no S (mid-stream, `.AP...`)     | OTH    | —                                              |
//!
//! UDP, ICMP and other protocols keep the state inferred from packets back (SF when
//! something came back, S0 otherwise). Flags written as a number (decimal or `0x` hex,
//! FIN = 1, SYN = 2, RST = 4, PSH = 8, ACK = 16, URG = 32) are read too.

use super::generic_csv::{ColumnMapping, DurationUnit};
use crate::traffic::flow::{ConnState, Proto};

/// True when normalized header names look like nfdump's CSV (1.6 or 1.7 spelling).
pub fn looks_like_header(names: &[String]) -> bool {
    let has = |n: &str| names.iter().any(|x| x == n);
    let classic = has("ts") && has("sa") && has("da") && (has("ibyt") || has("ipkt"));
    let long = has("firstseen")
        && has("srcaddr")
        && has("dstaddr")
        && (has("inbytes") || has("inpackets") || has("bytes") || has("packets"));
    classic || long
}

/// The columns nfdump's header names, beyond what `ColumnMapping` holds.
#[derive(Debug, Clone, Default)]
pub struct Columns {
    pub mapping: ColumnMapping,
    /// `flg` / `flags`.
    pub flags: Option<usize>,
    /// `te` / `lastSeen`, for the duration when no duration column is present.
    pub end: Option<usize>,
}

/// The column mapping for normalized header names (see the module doc).
pub fn columns(names: &[String]) -> Columns {
    let col = |alternatives: &[&str]| {
        alternatives
            .iter()
            .find_map(|a| names.iter().position(|n| n == a))
    };
    let mapping = ColumnMapping {
        time: col(&["ts", "firstseen"]),
        src_ip: col(&["sa", "srcaddr"]),
        dst_ip: col(&["da", "dstaddr"]),
        src_port: col(&["sp", "srcport"]),
        dst_port: col(&["dp", "dstport"]),
        proto: col(&["pr", "proto"]),
        duration: col(&["td", "duration"]),
        duration_unit: DurationUnit::Seconds,
        bytes_out: col(&["ibyt", "inbytes", "byt", "bytes"]),
        pkts_out: col(&["ipkt", "inpackets", "pkt", "packets"]),
        bytes_in: col(&["obyt", "outbytes"]),
        pkts_in: col(&["opkt", "outpackets"]),
        ..ColumnMapping::default()
    };
    Columns {
        mapping,
        flags: col(&["flg", "flags"]),
        end: col(&["te", "lastseen"]),
    }
}

/// Columns that are neither flow fields nor numeric features: times, addresses, MAC
/// addresses, the record counter and address family.
pub fn is_not_feature(normalized: &str) -> bool {
    matches!(
        normalized,
        "te" | "lastseen"
            | "tr"
            | "received"
            | "flg"
            | "flags"
            | "nh"
            | "nhb"
            | "ra"
            | "nextip"
            | "bgpnextip"
            | "routerip"
            | "ismc"
            | "odmc"
            | "idmc"
            | "osmc"
            | "insrcmac"
            | "outdstmac"
            | "indstmac"
            | "outsrcmac"
            | "cnt"
            | "af"
            | "dir"
            | "direction"
    )
}

/// True when a row is the start of nfdump's summary block (`Summary`, or its
/// `flows,bytes,packets,...` header when the `Summary` line is missing).
pub fn is_summary_row(fields: &[String]) -> bool {
    let first = fields.first().map(|f| f.trim()).unwrap_or("");
    if first.eq_ignore_ascii_case("summary") {
        return true;
    }
    first.eq_ignore_ascii_case("flows")
        && fields
            .get(1)
            .is_some_and(|f| f.trim().eq_ignore_ascii_case("bytes"))
}

/// ICMP type and code from nfdump's destination port cell (`8.0`, or `2048` = 8 × 256 + 0).
pub fn icmp_type_code(dst_port: &str) -> Option<(u16, u16)> {
    let t = dst_port.trim();
    if let Some((ty, code)) = t.split_once('.') {
        let ty: u8 = ty.trim().parse().ok()?;
        let code: u8 = code.trim().parse().ok()?;
        return Some((u16::from(ty), u16::from(code)));
    }
    let n: u16 = t.parse().ok()?;
    Some((n >> 8, n & 0xff))
}

/// TCP flags of a cell, as a bit set (FIN 1, SYN 2, RST 4, PSH 8, ACK 16, URG 32); `None`
/// when the cell is neither a flag string nor a number.
fn flag_bits(cell: &str) -> Option<u8> {
    let t = cell.trim();
    if let Some(hex) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        return u8::from_str_radix(hex, 16).ok();
    }
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        return t.parse::<u8>().ok();
    }
    let mut bits = 0u8;
    for c in t.chars() {
        bits |= match c.to_ascii_uppercase() {
            'F' => 1,
            'S' => 2,
            'R' => 4,
            'P' => 8,
            'A' => 16,
            'U' => 32,
            // ECE and CWR (1.7 prints eight positions), and `.` for "not set".
            'E' | 'C' | '.' => 0,
            _ => return None,
        };
    }
    Some(bits)
}

/// The `conn_state` a TCP flow's flags cell says (see the module doc); `None` for other
/// protocols, no flags or an unreadable cell (the inferred state stays).
pub fn conn_state(flags: &str, proto: Proto) -> Option<ConnState> {
    if proto != Proto::Tcp {
        return None;
    }
    let bits = flag_bits(flags)?;
    let has = |b: u8| bits & b != 0;
    let (fin, syn, rst, psh, ack) = (has(1), has(2), has(4), has(8), has(16));
    if bits & 0x3f == 0 {
        return None;
    }
    Some(if syn && rst && !ack {
        ConnState::RSTOS0
    } else if syn && rst && ack && !psh && !fin {
        ConnState::REJ
    } else if rst {
        ConnState::RSTO
    } else if syn && fin && !ack {
        ConnState::SH
    } else if syn && !ack {
        ConnState::S0
    } else if syn && fin {
        ConnState::SF
    } else if syn {
        ConnState::S1
    } else {
        ConnState::OTH
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(header: &str) -> Vec<String> {
        header
            .split(',')
            .map(super::super::csv_reader::normalize_name)
            .collect()
    }

    #[test]
    fn both_header_spellings_are_recognised() {
        assert!(looks_like_header(&names(
            "ts,te,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,ibyt,opkt,obyt"
        )));
        assert!(looks_like_header(&names(
            "firstSeen,lastSeen,duration,srcAddr,dstAddr,srcPort,dstPort,proto,flags,inPackets,inBytes"
        )));
        assert!(looks_like_header(&names(
            "cnt,af,firstSeen,lastSeen,proto,srcAddr,srcPort,dstAddr,dstPort,srcAS,dstAS,input,output,flags,srcTos,packets,bytes"
        )));
        assert!(!looks_like_header(&names(
            "StartTime,Dur,Proto,SrcAddr,Sport,Dir,DstAddr,Dport,State,TotPkts,TotBytes,SrcBytes"
        )));
        assert!(!looks_like_header(&names("ts,src_ip,dst_ip,bytes")));
    }

    #[test]
    fn flags_map_to_zeek_states() {
        let tcp = |s| conn_state(s, Proto::Tcp);
        assert_eq!(tcp("....S."), Some(ConnState::S0));
        assert_eq!(tcp("...RS."), Some(ConnState::RSTOS0));
        assert_eq!(tcp(".A.RS."), Some(ConnState::REJ));
        assert_eq!(tcp(".AP.SF"), Some(ConnState::SF));
        assert_eq!(tcp(".APRSF"), Some(ConnState::RSTO));
        assert_eq!(tcp(".A..S."), Some(ConnState::S1));
        assert_eq!(tcp(".AP..."), Some(ConnState::OTH));
        assert_eq!(tcp("....SF"), Some(ConnState::SH));
        assert_eq!(tcp("...A.RS."), Some(ConnState::REJ));
        assert_eq!(tcp("0x1b"), Some(ConnState::SF));
        assert_eq!(tcp("2"), Some(ConnState::S0));
        assert_eq!(tcp("......"), None);
        assert_eq!(tcp("zz"), None);
        assert_eq!(tcp("0x1ff"), None);
        assert_eq!(conn_state(".AP.SF", Proto::Udp), None);
    }

    #[test]
    fn icmp_ports() {
        assert_eq!(icmp_type_code("8.0"), Some((8, 0)));
        assert_eq!(icmp_type_code("2048"), Some((8, 0)));
        assert_eq!(icmp_type_code("771"), Some((3, 3)));
        assert_eq!(icmp_type_code("3.300"), None);
        assert_eq!(icmp_type_code("x"), None);
    }
}
