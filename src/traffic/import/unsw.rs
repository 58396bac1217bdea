//! UNSW-NB15: the published training/testing CSVs (with a header) and the raw 49-column files
//! (without one).
//!
//! Argus states (`FIN`, `CON`, `INT`, ...) map to Zeek's; `sbytes`/`dbytes` are on-the-wire
//! sizes including headers, which the import warns about. The label is `attack_cat` when
//! present (an empty one is `normal`), else the binary `label`/`target` (0 = normal).

/// The raw files' 49 columns (UNSW-NB15_features.csv), for header-less input.
pub const RAW_NAMES: [&str; 49] = [
    "srcip",
    "sport",
    "dstip",
    "dsport",
    "proto",
    "state",
    "dur",
    "sbytes",
    "dbytes",
    "sttl",
    "dttl",
    "sloss",
    "dloss",
    "service",
    "sload",
    "dload",
    "spkts",
    "dpkts",
    "swin",
    "dwin",
    "stcpb",
    "dtcpb",
    "smeansz",
    "dmeansz",
    "trans_depth",
    "res_bdy_len",
    "sjit",
    "djit",
    "stime",
    "ltime",
    "sintpkt",
    "dintpkt",
    "tcprtt",
    "synack",
    "ackdat",
    "is_sm_ips_ports",
    "ct_state_ttl",
    "ct_flw_http_mthd",
    "is_ftp_login",
    "ct_ftp_cmd",
    "ct_srv_src",
    "ct_srv_dst",
    "ct_dst_ltm",
    "ct_src_ltm",
    "ct_src_dport_ltm",
    "ct_dst_sport_ltm",
    "ct_dst_src_ltm",
    "attack_cat",
    "label",
];

/// True when normalized header names look like UNSW-NB15's.
pub fn looks_like_header(names: &[String]) -> bool {
    let has = |n: &str| names.iter().any(|x| x == n);
    has("sbytes") && has("dbytes") && (has("spkts") || has("sttl"))
}

/// True when a header-less row looks like a raw UNSW-NB15 record.
pub fn looks_like_raw_row(fields: &[&str]) -> bool {
    fields.len() == 49
        && fields[0].trim().parse::<std::net::IpAddr>().is_ok()
        && fields[2].trim().parse::<std::net::IpAddr>().is_ok()
}

/// The label text of a row: binary 0/1 become `normal`/`attack`; an empty attack category
/// is `normal` (the raw files leave it blank for benign rows).
pub fn label_text(raw: Option<&str>, from_attack_cat: bool) -> Option<String> {
    let t = raw.map(str::trim).unwrap_or("");
    match t {
        "0" => Some("normal".into()),
        "1" => Some("attack".into()),
        "" | "-" if from_attack_cat => Some("normal".into()),
        "" => None,
        _ => Some(t.to_string()),
    }
}
