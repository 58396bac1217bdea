//! CICFlowMeter / CIC-IDS2017 / CSE-CIC-IDS2018 CSV.
//!
//! Header names are matched after dropping case, spaces and punctuation, so the tool's
//! leading-space variants (`" Destination Port"`) and the newer short names (`Dst Port`,
//! `Tot Fwd Pkts`) both work. `Flow Duration` is in microseconds; `Infinity`/`NaN` cells
//! (CIC writes them for rates of zero-length flows) become missing values. CIC records no
//! connection state: it is inferred from packet and FIN/RST flag counts.

use super::csv_reader::normalize_name;

/// True when normalized header names look like CICFlowMeter's.
pub fn looks_like_header(names: &[String]) -> bool {
    let has = |n: &str| names.iter().any(|x| x == n);
    (has("flowduration") || has("flowbytess"))
        && (has("totalfwdpackets") || has("totfwdpkts") || has("flowiatmean"))
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
