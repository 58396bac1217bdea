//! CICFlowMeter / CIC-IDS2017 / CSE-CIC-IDS2018 CSV.
//!
//! Header names are matched after dropping case, spaces and punctuation and, failing that,
//! a plural `s` (see `generic_csv::suggest_mapping`), so every CICFlowMeter spelling seen in
//! public exports works: CIC-IDS2017's leading-space names (`" Total Backward Packets"`),
//! CSE-CIC-IDS2018's short ones (`Tot Fwd Pkts`, `TotLen Fwd Pkts`, `Flow Byts/s`), the
//! CICFlowMeter-4 / Engelen et al. re-extraction's (`Total Fwd Packet`, `Total Bwd packets`,
//! `Total Length of Fwd Packet`) and the Python port's snake case (`tot_fwd_pkts`). `Flow Duration` is in microseconds; `Infinity`/`NaN` cells
//! (CIC writes them for rates of zero-length flows) become missing values. CIC records no
//! connection state: it is inferred from packet and FIN/RST flag counts.

use super::csv_reader::normalize_name;

/// True when normalized header names look like CICFlowMeter's.
pub fn looks_like_header(names: &[String]) -> bool {
    let has = |n: &str| names.iter().any(|x| x == n);
    (has("flowduration") || has("flowbytess"))
        && (has("totalfwdpackets")
            || has("totalfwdpacket")
            || has("totfwdpkts")
            || has("flowiatmean"))
}

/// Columns that identify rather than describe a flow, kept out of the extra features.
pub fn is_identifier(name: &str) -> bool {
    matches!(
        normalize_name(name).as_str(),
        "flowid"
            | "srcip"
            | "sourceip"
            | "dstip"
            | "destinationip"
            | "timestamp"
            | "srcport"
            | "sourceport"
    )
}
