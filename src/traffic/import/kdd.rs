//! NSL-KDD / KDD Cup 99 rows: 41 features, then the label and (NSL-KDD) a difficulty score.
//!
//! The rows carry no addresses, ports or timestamps: flows get documentation addresses and
//! are spaced one second apart in file order, and the import says so. `flag` is already a
//! Bro/Zeek conn_state. Not here: the CSV reading itself (`tabular`).

use super::generic_csv::{ColumnMapping, DurationUnit};

/// The 41 feature names, in column order (from the dataset's "Field Names.csv").
pub const FIELD_NAMES: [&str; 41] = [
    "duration",
    "protocol_type",
    "service",
    "flag",
    "src_bytes",
    "dst_bytes",
    "land",
    "wrong_fragment",
    "urgent",
    "hot",
    "num_failed_logins",
    "logged_in",
    "num_compromised",
    "root_shell",
    "su_attempted",
    "num_root",
    "num_file_creations",
    "num_shells",
    "num_access_files",
    "num_outbound_cmds",
    "is_host_login",
    "is_guest_login",
    "count",
    "srv_count",
    "serror_rate",
    "srv_serror_rate",
    "rerror_rate",
    "srv_rerror_rate",
    "same_srv_rate",
    "diff_srv_rate",
    "srv_diff_host_rate",
    "dst_host_count",
    "dst_host_srv_count",
    "dst_host_same_srv_rate",
    "dst_host_diff_srv_rate",
    "dst_host_same_src_port_rate",
    "dst_host_srv_diff_host_rate",
    "dst_host_serror_rate",
    "dst_host_srv_serror_rate",
    "dst_host_rerror_rate",
    "dst_host_srv_rerror_rate",
];

/// The synthetic header: the 41 names, then `label` and `difficulty`.
pub fn header(columns: usize) -> Vec<String> {
    let mut names: Vec<String> = FIELD_NAMES.iter().map(|s| s.to_string()).collect();
    if columns > 41 {
        names.push("label".into());
    }
    if columns > 42 {
        names.push("difficulty".into());
    }
    names
}

pub fn mapping(columns: usize) -> ColumnMapping {
    ColumnMapping {
        proto: Some(1),
        service: Some(2),
        conn_state: Some(3),
        duration: Some(0),
        duration_unit: DurationUnit::Seconds,
        bytes_out: Some(4),
        bytes_in: Some(5),
        label: (columns > 41).then_some(41),
        ..ColumnMapping::default()
    }
}

/// True when a row looks like KDD: 41 to 43 fields, a numeric duration, then a protocol name.
pub fn looks_like_row(fields: &[&str]) -> bool {
    (41..=43).contains(&fields.len())
        && fields[0].trim().parse::<f64>().is_ok()
        && matches!(
            fields[1].trim().to_ascii_lowercase().as_str(),
            "tcp" | "udp" | "icmp"
        )
        && fields[4].trim().parse::<f64>().is_ok()
}
