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

/// NSL-KDD's attack names and their category (`dos`, `probe`, `r2l`, `u2r`): the 22 training
/// attacks as the dataset's "Attack Types.csv" lists them, and the 17 that appear only in the
/// test files (KDDTest+) as the literature assigns them (Tavallaee et al. 2009; the CSV does
/// not list them).
pub const ATTACK_CATEGORIES: [(&str, &str); 39] = [
    ("back", "dos"),
    ("land", "dos"),
    ("neptune", "dos"),
    ("pod", "dos"),
    ("smurf", "dos"),
    ("teardrop", "dos"),
    ("apache2", "dos"),
    ("mailbomb", "dos"),
    ("processtable", "dos"),
    ("udpstorm", "dos"),
    ("ipsweep", "probe"),
    ("nmap", "probe"),
    ("portsweep", "probe"),
    ("satan", "probe"),
    ("mscan", "probe"),
    ("saint", "probe"),
    ("ftp_write", "r2l"),
    ("guess_passwd", "r2l"),
    ("imap", "r2l"),
    ("multihop", "r2l"),
    ("phf", "r2l"),
    ("spy", "r2l"),
    ("warezclient", "r2l"),
    ("warezmaster", "r2l"),
    ("named", "r2l"),
    ("sendmail", "r2l"),
    ("snmpgetattack", "r2l"),
    ("snmpguess", "r2l"),
    ("worm", "r2l"),
    ("xlock", "r2l"),
    ("xsnoop", "r2l"),
    ("buffer_overflow", "u2r"),
    ("loadmodule", "u2r"),
    ("perl", "u2r"),
    ("rootkit", "u2r"),
    ("httptunnel", "u2r"),
    ("ps", "u2r"),
    ("sqlattack", "u2r"),
    ("xterm", "u2r"),
];

/// The category of an NSL-KDD label (`normal` stays `normal`); an unknown attack name is
/// returned as it is. Case and a trailing `.` (KDD Cup 99's `smurf.`) are ignored.
pub fn attack_category(label: &str) -> String {
    let name = label.trim().trim_end_matches('.').to_ascii_lowercase();
    ATTACK_CATEGORIES
        .iter()
        .find(|(attack, _)| *attack == name)
        .map_or(name.clone(), |(_, category)| (*category).to_string())
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attack_names_map_to_their_category() {
        assert_eq!(attack_category("neptune"), "dos");
        assert_eq!(attack_category("smurf."), "dos");
        assert_eq!(attack_category("mscan"), "probe");
        assert_eq!(attack_category("Guess_Passwd"), "r2l");
        assert_eq!(attack_category("xterm"), "u2r");
        assert_eq!(attack_category("normal"), "normal");
        assert_eq!(attack_category("new_attack"), "new_attack");
        let mut names: Vec<&str> = ATTACK_CATEGORIES.iter().map(|(a, _)| *a).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ATTACK_CATEGORIES.len());
    }
}
