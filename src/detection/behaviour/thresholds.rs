//! Every detector threshold a user may change, as one table: its URL key, its words for the
//! form, its unit and the range it is clamped to, and how to read and write it in
//! [`BehaviourParams`]. The URL query (`app::url_query`), the configuration form and the
//! documentation all go through this table, so a threshold cannot be settable in one place
//! and not another. Not for the meaning of each threshold: that is documented on its field in
//! the detector's `*Params`.
//!
//! Ranges keep every detector well defined (windows of at least a second, shares and
//! quantiles in 0..1, counts of at least what the rule needs), not "sensible": a user may
//! well set a bar no attack reaches.

use super::BehaviourParams;

/// The URL keys of detector thresholds start with this, so that they cannot be mistaken
/// for an attack's settings (`brute_force.start` is the generated attack's start;
/// `detector.brute_force.min_attempts` the detector's bar).
pub const KEY_PREFIX: &str = "detector.";

/// What a threshold measures, for labels and rounding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThresholdUnit {
    Seconds,
    /// A whole number of flows, ports, hosts...
    Count,
    /// 0..1.
    Share,
    /// A whole number of bytes.
    Bytes,
    BytesPerSecond,
    /// A multiplier.
    Factor,
    /// A list of TCP/UDP ports.
    Ports,
}

impl ThresholdUnit {
    /// Whether values are whole numbers (rounded when set).
    pub fn is_integer(self) -> bool {
        matches!(self, ThresholdUnit::Count | ThresholdUnit::Bytes)
    }

    /// The unit in words, for labels ("" for plain counts and factors).
    pub fn suffix(self) -> &'static str {
        match self {
            ThresholdUnit::Seconds => "s",
            ThresholdUnit::Share => "0–1",
            ThresholdUnit::Bytes => "bytes",
            ThresholdUnit::BytesPerSecond => "bytes/s",
            ThresholdUnit::Factor => "×",
            ThresholdUnit::Count | ThresholdUnit::Ports => "",
        }
    }
}

/// How a threshold is read and written.
#[derive(Clone, Copy)]
pub enum Access {
    Number {
        get: fn(&BehaviourParams) -> f64,
        /// Takes a value already clamped to the range (and rounded when whole).
        set: fn(&mut BehaviourParams, f64),
    },
    Ports {
        get: fn(&BehaviourParams) -> &[u16],
        set: fn(&mut BehaviourParams, Vec<u16>),
    },
}

/// One settable threshold.
#[derive(Clone, Copy)]
pub struct ThresholdField {
    /// The URL key without [`KEY_PREFIX`]: `<detector>.<field>` as in [`BehaviourParams`].
    pub key: &'static str,
    /// The detector group it belongs to, as the form's legend.
    pub group: &'static str,
    /// What it is, in a few words.
    pub label: &'static str,
    pub unit: ThresholdUnit,
    pub min: f64,
    pub max: f64,
    pub access: Access,
}

impl std::fmt::Debug for ThresholdField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ThresholdField")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl ThresholdField {
    /// The full URL key (`detector.scan.min_ports`).
    pub fn url_key(&self) -> String {
        format!("{KEY_PREFIX}{}", self.key)
    }

    /// The value in force, as the URL and the form write it.
    pub fn value_text(&self, params: &BehaviourParams) -> String {
        match self.access {
            Access::Number { get, .. } => format_value(get(params)),
            Access::Ports { get, .. } => ports_text(get(params)),
        }
    }

    /// The label with its unit ("Window (s)").
    pub fn label_with_unit(&self) -> String {
        match self.unit.suffix() {
            "" => self.label.to_string(),
            unit => format!("{} ({unit})", self.label),
        }
    }

    /// The field of this URL key (with or without the prefix).
    pub fn find(key: &str) -> Option<&'static ThresholdField> {
        let key = key.strip_prefix(KEY_PREFIX).unwrap_or(key);
        THRESHOLDS.iter().find(|f| f.key == key)
    }
}

/// A number as the URL writes it: whole numbers without a fraction, others as Rust's
/// shortest round-trip form.
pub fn format_value(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// A port list as the URL writes it: comma-separated, or `none`.
pub fn ports_text(ports: &[u16]) -> String {
    if ports.is_empty() {
        "none".to_string()
    } else {
        ports
            .iter()
            .map(u16::to_string)
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// The most ports a port-list threshold holds (a bound on a URL, not a rule of the detector).
pub const PORTS_MAX: usize = 256;

const SCANS: &str = "Port scans, sweeps and lateral movement";
const FLOODS: &str = "Floods and slow denial of service";
const GUESSING: &str = "Password guessing";
const BEACONS: &str = "Beaconing";
const LONG: &str = "Long connections";
const EXFIL: &str = "Exfiltration";
const DNS: &str = "DNS tunnelling";

const DAY_S: f64 = 86_400.0;
const WEEK_S: f64 = 7.0 * DAY_S;

/// A numeric threshold: `num!(key, group, label, unit, min, max, path.to.field as type)`.
macro_rules! num {
    ($key:literal, $group:expr, $label:literal, $unit:ident, $min:expr, $max:expr,
     $($field:ident).+ as $ty:ty) => {
        ThresholdField {
            key: $key,
            group: $group,
            label: $label,
            unit: ThresholdUnit::$unit,
            min: $min as f64,
            max: $max as f64,
            access: Access::Number {
                get: |p| p.$($field).+ as f64,
                set: |p, v| p.$($field).+ = v as $ty,
            },
        }
    };
}

/// Every settable threshold, grouped by detector in the order of the form.
pub static THRESHOLDS: &[ThresholdField] = &[
    num!(
        "scan.window_s",
        SCANS,
        "Scan window",
        Seconds,
        1,
        DAY_S,
        scan.window_s as f64
    ),
    num!(
        "scan.min_ports",
        SCANS,
        "Unanswered ports of one host (port scan)",
        Count,
        2,
        65_535,
        scan.min_ports as u32
    ),
    num!(
        "scan.min_hosts",
        SCANS,
        "Unanswered hosts on one port (sweep)",
        Count,
        2,
        1_000_000,
        scan.min_hosts as u32
    ),
    num!(
        "scan.min_unanswered_share",
        SCANS,
        "Unanswered share of the source's flows",
        Share,
        0,
        1,
        scan.min_unanswered_share as f64
    ),
    num!(
        "scan.slow_window_s",
        SCANS,
        "Slow-scan window",
        Seconds,
        1,
        WEEK_S,
        scan.slow_window_s as f64
    ),
    num!(
        "scan.slow_min_ports",
        SCANS,
        "Unanswered ports in the slow window",
        Count,
        2,
        65_535,
        scan.slow_min_ports as u32
    ),
    num!(
        "scan.slow_min_hosts",
        SCANS,
        "Unanswered hosts in the slow window",
        Count,
        2,
        1_000_000,
        scan.slow_min_hosts as u32
    ),
    num!(
        "scan.lateral_window_s",
        SCANS,
        "Lateral-movement window",
        Seconds,
        1,
        DAY_S,
        scan.lateral_window_s as f64
    ),
    num!(
        "scan.lateral_min_targets",
        SCANS,
        "Internal hosts whose admin services answered",
        Count,
        2,
        1_000_000,
        scan.lateral_min_targets as u32
    ),
    num!(
        "scan.lateral_min_sessions",
        SCANS,
        "Of those, hosts with a session",
        Count,
        1,
        1_000_000,
        scan.lateral_min_sessions as u32
    ),
    num!(
        "scan.quiet_gap_s",
        SCANS,
        "Pause that ends a scan",
        Seconds,
        0,
        DAY_S,
        scan.quiet_gap_s as f64
    ),
    num!(
        "flood.syn_window_s",
        FLOODS,
        "SYN-flood window",
        Seconds,
        1,
        3_600,
        flood.syn_window_s as f64
    ),
    num!(
        "flood.syn_min_half_open",
        FLOODS,
        "Half-open attempts on one port",
        Count,
        1,
        1e9,
        flood.syn_min_half_open as u32
    ),
    num!(
        "flood.syn_min_half_open_share",
        FLOODS,
        "Half-open share of that port's flows",
        Share,
        0,
        1,
        flood.syn_min_half_open_share as f64
    ),
    num!(
        "flood.volumetric_window_s",
        FLOODS,
        "Volumetric-flood window",
        Seconds,
        1,
        3_600,
        flood.volumetric_window_s as f64
    ),
    num!(
        "flood.volumetric_min_flows",
        FLOODS,
        "Unanswered UDP/ICMP flows to one host",
        Count,
        1,
        1e9,
        flood.volumetric_min_flows as u32
    ),
    num!(
        "flood.volumetric_min_unanswered_share",
        FLOODS,
        "Unanswered share of its UDP/ICMP flows",
        Share,
        0,
        1,
        flood.volumetric_min_unanswered_share as f64
    ),
    num!(
        "flood.reflection_window_s",
        FLOODS,
        "Reflection window",
        Seconds,
        1,
        3_600,
        flood.reflection_window_s as f64
    ),
    num!(
        "flood.reflection_min_reflectors",
        FLOODS,
        "Reflectors answering unasked",
        Count,
        1,
        1e9,
        flood.reflection_min_reflectors as u32
    ),
    num!(
        "flood.reflection_min_bytes",
        FLOODS,
        "Bytes the reflectors sent",
        Bytes,
        0,
        1e15,
        flood.reflection_min_bytes as u64
    ),
    num!(
        "flood.slow_window_s",
        FLOODS,
        "Slow-DoS window",
        Seconds,
        1,
        DAY_S,
        flood.slow_window_s as f64
    ),
    num!(
        "flood.slow_min_connections",
        FLOODS,
        "Slow connections to one web port",
        Count,
        1,
        1e9,
        flood.slow_min_connections as u32
    ),
    num!(
        "flood.slow_min_duration_s",
        FLOODS,
        "A slow connection lasts at least",
        Seconds,
        0,
        DAY_S,
        flood.slow_min_duration_s as f64
    ),
    num!(
        "flood.slow_max_bytes_in",
        FLOODS,
        "A slow connection got back at most",
        Bytes,
        0,
        1e15,
        flood.slow_max_bytes_in as u64
    ),
    num!(
        "flood.slow_max_bytes_out_per_s",
        FLOODS,
        "A slow connection sent at most",
        BytesPerSecond,
        0,
        1e12,
        flood.slow_max_bytes_out_per_s as f64
    ),
    num!(
        "flood.quiet_gap_s",
        FLOODS,
        "Pause that ends a flood",
        Seconds,
        0,
        DAY_S,
        flood.quiet_gap_s as f64
    ),
    ThresholdField {
        key: "brute_force.ports",
        group: GUESSING,
        label: "Authentication ports watched",
        unit: ThresholdUnit::Ports,
        min: 1.0,
        max: 65_535.0,
        access: Access::Ports {
            get: |p| &p.brute_force.ports,
            set: |p, v| p.brute_force.ports = v,
        },
    },
    num!(
        "brute_force.window_s",
        GUESSING,
        "Guessing window",
        Seconds,
        1,
        WEEK_S,
        brute_force.window_s as f64
    ),
    num!(
        "brute_force.min_attempts",
        GUESSING,
        "Attempts by one source",
        Count,
        2,
        1e9,
        brute_force.min_attempts as u32
    ),
    num!(
        "brute_force.max_attempt_duration_s",
        GUESSING,
        "Longest connection that is an attempt",
        Seconds,
        0,
        DAY_S,
        brute_force.max_attempt_duration_s as f64
    ),
    num!(
        "brute_force.min_size_similarity",
        GUESSING,
        "Size similarity of the attempts",
        Share,
        0,
        1,
        brute_force.min_size_similarity as f64
    ),
    num!(
        "brute_force.min_distributed_sources",
        GUESSING,
        "Sources of distributed guessing",
        Count,
        2,
        1e9,
        brute_force.min_distributed_sources as u32
    ),
    num!(
        "brute_force.min_distributed_attempts",
        GUESSING,
        "Attempts of distributed guessing",
        Count,
        2,
        1e9,
        brute_force.min_distributed_attempts as u32
    ),
    num!(
        "beacon.min_check_ins",
        BEACONS,
        "Check-ins of one pair",
        Count,
        4,
        1_000_000,
        beacon.min_check_ins as u32
    ),
    num!(
        "beacon.min_regularity",
        BEACONS,
        "Timing regularity",
        Share,
        0,
        1,
        beacon.min_regularity as f64
    ),
    num!(
        "beacon.min_score",
        BEACONS,
        "RITA beacon score",
        Share,
        0,
        1,
        beacon.min_score as f64
    ),
    num!(
        "beacon.min_source_peers",
        BEACONS,
        "External peers the source has",
        Count,
        1,
        1e9,
        beacon.min_source_peers as u32
    ),
    ThresholdField {
        key: "beacon.ignored_ports",
        group: BEACONS,
        label: "Destination ports never scored",
        unit: ThresholdUnit::Ports,
        min: 1.0,
        max: 65_535.0,
        access: Access::Ports {
            get: |p| &p.beacon.ignored_ports,
            set: |p, v| p.beacon.ignored_ports = v,
        },
    },
    num!(
        "beacon.max_connections_per_pair",
        BEACONS,
        "Check-ins kept per pair",
        Count,
        4,
        1_000_000,
        beacon.max_connections_per_pair as u32
    ),
    num!(
        "long_connection.min_duration_s",
        LONG,
        "Shortest connection reported",
        Seconds,
        1,
        WEEK_S,
        long_connection.min_duration_s as f64
    ),
    num!(
        "long_connection.min_total_duration_s",
        LONG,
        "Shortest total of a pair's connections",
        Seconds,
        1,
        WEEK_S,
        long_connection.min_total_duration_s as f64
    ),
    num!(
        "long_connection.max_internal_sources",
        LONG,
        "Most internal hosts of a rare destination",
        Count,
        1,
        1e9,
        long_connection.max_internal_sources as u32
    ),
    num!(
        "exfiltration.min_bytes_out",
        EXFIL,
        "Bytes sent to one destination",
        Bytes,
        0,
        1e15,
        exfiltration.min_bytes_out as f64
    ),
    num!(
        "exfiltration.peer_factor",
        EXFIL,
        "Times the peers' big upload",
        Factor,
        0,
        1e6,
        exfiltration.peer_factor as f64
    ),
    num!(
        "exfiltration.peer_quantile",
        EXFIL,
        "Peers' big upload: quantile",
        Share,
        0,
        1,
        exfiltration.peer_quantile as f64
    ),
    num!(
        "exfiltration.own_factor",
        EXFIL,
        "Times the host's usual upload",
        Factor,
        0,
        1e6,
        exfiltration.own_factor as f64
    ),
    num!(
        "exfiltration.own_quantile",
        EXFIL,
        "Host's usual upload: quantile",
        Share,
        0,
        1,
        exfiltration.own_quantile as f64
    ),
    num!(
        "exfiltration.min_out_in_ratio",
        EXFIL,
        "Bytes out per byte in",
        Factor,
        0,
        1e9,
        exfiltration.min_out_in_ratio as f64
    ),
    num!(
        "dns_tunnel.long_query_bytes",
        DNS,
        "A long query sends at least",
        Bytes,
        1,
        65_535,
        dns_tunnel.long_query_bytes as u64
    ),
    num!(
        "dns_tunnel.window_s",
        DNS,
        "DNS-tunnel window",
        Seconds,
        1,
        DAY_S,
        dns_tunnel.window_s as f64
    ),
    num!(
        "dns_tunnel.min_long_queries",
        DNS,
        "Long queries in the window",
        Count,
        1,
        1e9,
        dns_tunnel.min_long_queries as u64
    ),
    num!(
        "dns_tunnel.peer_factor",
        DNS,
        "Times the other hosts' long queries",
        Factor,
        0,
        1e6,
        dns_tunnel.peer_factor as f64
    ),
    num!(
        "dns_tunnel.peer_quantile",
        DNS,
        "Other hosts' long queries: quantile",
        Share,
        0,
        1,
        dns_tunnel.peer_quantile as f64
    ),
    num!(
        "dns_tunnel.min_long_share",
        DNS,
        "Long share of the host's DNS queries",
        Share,
        0,
        1,
        dns_tunnel.min_long_share as f64
    ),
    num!(
        "dns_tunnel.forward_s",
        DNS,
        "A resolver forwards within",
        Seconds,
        0,
        60,
        dns_tunnel.forward_s as f64
    ),
];

/// The groups in form order, each once.
pub fn groups() -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for f in THRESHOLDS {
        if !out.contains(&f.group) {
            out.push(f.group);
        }
    }
    out
}

/// The table of every threshold as markdown (key, what, default, range), as
/// docs/detector-thresholds.md holds it.
pub fn markdown_table() -> String {
    let defaults = BehaviourParams::default();
    let mut out = String::new();
    for group in groups() {
        out.push_str(&format!(
            "\n### {group}\n\n| URL key | what | default | range |\n|---|---|---|---|\n"
        ));
        for f in THRESHOLDS.iter().filter(|f| f.group == group) {
            let range = match f.access {
                Access::Number { .. } => {
                    format!("{} – {}", format_value(f.min), format_value(f.max))
                }
                Access::Ports { .. } => format!("up to {PORTS_MAX} ports, or none"),
            };
            out.push_str(&format!(
                "| `{}` | {} | {} | {range} |\n",
                f.url_key(),
                f.label_with_unit(),
                f.value_text(&defaults)
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_and_name_a_params_field() {
        let json = serde_json::to_value(BehaviourParams::default()).unwrap();
        for (i, f) in THRESHOLDS.iter().enumerate() {
            assert!(
                THRESHOLDS[..i].iter().all(|g| g.key != f.key),
                "{} twice",
                f.key
            );
            let (detector, field) = f.key.split_once('.').unwrap();
            assert!(
                json[detector].get(field).is_some(),
                "{} is not a field of BehaviourParams",
                f.key
            );
        }
    }

    /// Every threshold of every detector is in the table: a new field cannot be left out of
    /// the URL and the form.
    #[test]
    fn every_params_field_is_settable() {
        let json = serde_json::to_value(BehaviourParams::default()).unwrap();
        let mut n = 0;
        for (detector, fields) in json.as_object().unwrap() {
            let Some(fields) = fields.as_object() else {
                continue; // `enabled`
            };
            for field in fields.keys() {
                n += 1;
                let key = format!("{detector}.{field}");
                assert!(
                    ThresholdField::find(&key).is_some(),
                    "{key} is not settable"
                );
            }
        }
        assert_eq!(n, THRESHOLDS.len());
    }

    #[test]
    fn defaults_are_in_range_and_set_reads_back() {
        let defaults = BehaviourParams::default();
        for f in THRESHOLDS {
            let mut p = defaults.clone();
            match f.access {
                Access::Number { get, set } => {
                    let v = get(&defaults);
                    assert!(f.min <= v && v <= f.max, "{}: {v}", f.key);
                    set(&mut p, f.max);
                    assert_eq!(get(&p), f.max, "{}", f.key);
                    set(&mut p, f.min);
                    assert_eq!(get(&p), f.min, "{}", f.key);
                    assert_ne!(p, defaults, "{} writes nothing", f.key);
                }
                Access::Ports { get, set } => {
                    set(&mut p, vec![1, 65_535]);
                    assert_eq!(get(&p), &[1, 65_535], "{}", f.key);
                }
            }
        }
    }

    /// docs/detector-thresholds.md lists every threshold as the table says; after a change,
    /// `UPDATE_DOCS=1 cargo test --lib thresholds` rewrites its table.
    #[test]
    fn the_documented_table_is_current() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/detector-thresholds.md");
        let doc = std::fs::read_to_string(path).unwrap();
        let marker = "<!-- table: generated from src/detection/behaviour/thresholds.rs -->\n";
        let (head, _) = doc.split_once(marker).expect("the table marker");
        let want = format!("{head}{marker}{}", markdown_table());
        if std::env::var_os("UPDATE_DOCS").is_some() {
            std::fs::write(path, &want).unwrap();
        }
        assert!(
            doc == want,
            "docs/detector-thresholds.md is out of date: run UPDATE_DOCS=1 cargo test --lib thresholds"
        );
    }

    #[test]
    fn values_print_as_the_url_writes_them() {
        assert_eq!(format_value(300.0), "300");
        assert_eq!(format_value(0.65), "0.65");
        assert_eq!(format_value(50e6), "50000000");
        assert_eq!(ports_text(&[]), "none");
        assert_eq!(ports_text(&[53, 123]), "53,123");
        let f = ThresholdField::find("detector.scan.min_ports").unwrap();
        assert_eq!(f.value_text(&BehaviourParams::default()), "15");
        assert_eq!(f.url_key(), "detector.scan.min_ports");
        assert_eq!(
            f.label_with_unit(),
            "Unanswered ports of one host (port scan)"
        );
        assert_eq!(groups().len(), 7);
    }
}

#[cfg(test)]
mod bounds_tests {
    use super::*;
    use crate::detection::behaviour::detect_all;

    /// Every threshold at its smallest and largest value on traffic with every attack: the
    /// detectors stay well defined (no panic, no runaway output) wherever the form lets a
    /// user put a bar. At the loosest bars the detectors may flag a lot; they still return
    /// each flow at most once per detection.
    #[test]
    fn detectors_run_with_every_threshold_at_its_bounds() {
        let flows = crate::detection::behaviour::test_support::generated(
            "preset=everything&hosts=20&duration=3600&seed=3",
        );
        for f in THRESHOLDS {
            for v in [f.min, f.max] {
                let mut params = BehaviourParams::default();
                match f.access {
                    Access::Number { set, .. } => set(&mut params, v),
                    Access::Ports { set, .. } => set(&mut params, vec![v as u16]),
                }
                for d in detect_all(&flows, &params) {
                    assert!(!d.flows.is_empty(), "{} = {v}: {}", f.key, d.summary);
                    assert!(
                        d.flows.windows(2).all(|w| w[0] < w[1]),
                        "{} = {v}: {} lists a flow twice or out of order",
                        f.key,
                        d.summary
                    );
                    assert!(d.flows.iter().all(|&i| (i as usize) < flows.len()));
                }
            }
        }
    }
}
