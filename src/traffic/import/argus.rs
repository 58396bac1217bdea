//! Argus `ra` binetflow CSV, as the CTU-13 botnet captures publish it: a header such as
//! `StartTime,Dur,Proto,SrcAddr,Sport,Dir,DstAddr,Dport,State,sTos,dTos,TotPkts,TotBytes,
//! SrcBytes,Label`, start times like `2011/08/10 09:46:59.607825`.
//!
//! What it recognises and how the columns become flow fields; the reading itself is
//! `tabular`'s. Not for: Argus' binary files, or UNSW-NB15 (Argus-derived but its own
//! dialect, `unsw`).
//!
//! Bytes back are `TotBytes − SrcBytes` (a row where that is negative is skipped with the
//! reason). Packets: with `SrcPkts`/`DstPkts` columns they are read per direction; with only
//! `TotPkts` the total is stored as packets sent by the source and packets back read as 0,
//! which the import warns about. Argus counts bytes on the wire (headers included), as
//! UNSW-NB15 does, and the import says so. Labels (`flow=From-Botnet-…`, `flow=Background…`,
//! `flow=To-Normal-…`) are kept as written; `is_benign`/`is_unknown_label` read them.
//!
//! `State` to Zeek's `conn_state`. TCP states are the flags each side sent, `src_dst`
//! (letters S F R P A U E C; `S_RA` = SYN answered by RST+ACK), mapped by the closest Zeek
//! meaning, checked in this order:
//!
//! | Argus TCP (src_dst)                          | Zeek   | e.g.                |
//! |----------------------------------------------|--------|---------------------|
//! | src S, dst R without S                       | REJ    | `S_RA`, `S_R`       |
//! | nothing from dst, src S and R                | RSTOS0 | `SR_`               |
//! | nothing from dst, src S and F                | SH     | `SF_`               |
//! | nothing from dst, src S                      | S0     | `S_`                |
//! | src R                                        | RSTO   | `SR_SA`, `FSRPA_FSPA` |
//! | dst R                                        | RSTR   | `SPA_SRA`           |
//! | both F                                       | SF     | `FSPA_FSPA`         |
//! | src F                                        | S2     | `FSA_SA`            |
//! | dst F                                        | S3     | `SA_FSA`            |
//! | both S                                       | S1     | `SPA_SPA`           |
//! | anything else (mid-stream, `PA_PA`)          | OTH    |                     |
//!
//! Word states: `CON` (traffic both ways) is SF for UDP and S1 otherwise, `INT` and `REQ`
//! (one way, unanswered) S0, `FIN`/`CLO` SF, `RST` RSTO, `ACC` S1; ICMP states (`ECO`,
//! `ECR`, `URP`, `URH`, `TXD`, ...) and anything else OTH, as Zeek logs ICMP.

use crate::traffic::flow::{ConnState, Proto};

/// True when normalized header names look like Argus binetflow's.
pub fn looks_like_header(names: &[String]) -> bool {
    let has = |n: &str| names.iter().any(|x| x == n);
    has("totbytes") && has("srcbytes") && (has("totpkts") || has("srcpkts"))
}

/// The `conn_state` of an Argus `State` cell (see the module doc); `None` when empty.
pub fn conn_state(state: &str, proto: Proto) -> Option<ConnState> {
    let s = state.trim().to_ascii_uppercase();
    if s.is_empty() || s == "-" {
        return None;
    }
    if let Some((src, dst)) = s.split_once('_') {
        if proto != Proto::Tcp && proto != Proto::Unknown {
            return Some(ConnState::OTH);
        }
        let (sh, sd) = (|f: char| src.contains(f), |f: char| dst.contains(f));
        return Some(if sh('S') && sd('R') && !sd('S') {
            ConnState::REJ
        } else if dst.is_empty() && sh('S') && sh('R') {
            ConnState::RSTOS0
        } else if dst.is_empty() && sh('S') && sh('F') {
            ConnState::SH
        } else if dst.is_empty() && sh('S') {
            ConnState::S0
        } else if sh('R') {
            ConnState::RSTO
        } else if sd('R') {
            ConnState::RSTR
        } else if sh('F') && sd('F') {
            ConnState::SF
        } else if sh('F') {
            ConnState::S2
        } else if sd('F') {
            ConnState::S3
        } else if sh('S') && sd('S') {
            ConnState::S1
        } else {
            ConnState::OTH
        });
    }
    Some(match s.as_str() {
        "CON" if proto == Proto::Udp => ConnState::SF,
        "CON" | "ACC" | "EST" => ConnState::S1,
        "INT" | "REQ" => ConnState::S0,
        "FIN" | "CLO" => ConnState::SF,
        "RST" => ConnState::RSTO,
        _ => ConnState::OTH,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tcp_flag_states_map_to_zeek() {
        let tcp = |s| conn_state(s, Proto::Tcp);
        assert_eq!(tcp("S_RA"), Some(ConnState::REJ));
        assert_eq!(tcp("S_"), Some(ConnState::S0));
        assert_eq!(tcp("SR_"), Some(ConnState::RSTOS0));
        assert_eq!(tcp("SR_SA"), Some(ConnState::RSTO));
        assert_eq!(tcp("SPA_SRA"), Some(ConnState::RSTR));
        assert_eq!(tcp("FSPA_FSPA"), Some(ConnState::SF));
        assert_eq!(tcp("FSA_SA"), Some(ConnState::S2));
        assert_eq!(tcp("SPA_SPA"), Some(ConnState::S1));
        assert_eq!(tcp("PA_PA"), Some(ConnState::OTH));
        assert_eq!(conn_state("CON", Proto::Udp), Some(ConnState::SF));
        assert_eq!(conn_state("INT", Proto::Udp), Some(ConnState::S0));
        assert_eq!(conn_state("ECO", Proto::Icmp), Some(ConnState::OTH));
        assert_eq!(conn_state(" ", Proto::Tcp), None);
    }
}
