//! The feature columns: what each built-in column means and on which scale it is stored,
//! imported numeric columns, and the feature settings (the trailing window). Not here:
//! computing values (`stream`, `extract`) or port rarity (`ports`).

use crate::util::math;
use serde::{Deserialize, Serialize};

/// Trailing window for the host-context features.
pub const DEFAULT_WINDOW_S: f64 = 60.0;

/// What each feature column means; the order is the column order.
pub const FEATURES: [FeatureInfo; 20] = [
    FeatureInfo::new("log_duration_s", "connection duration", Scale::Log),
    FeatureInfo::new("log_bytes_out", "bytes sent by the source", Scale::Log),
    FeatureInfo::new("log_bytes_in", "bytes sent back", Scale::Log),
    FeatureInfo::new("log_pkts_out", "packets sent by the source", Scale::Log),
    FeatureInfo::new("log_pkts_in", "packets sent back", Scale::Log),
    FeatureInfo::new(
        "failed_attempt",
        "unanswered or rejected connection",
        Scale::Flag,
    ),
    FeatureInfo::new("reset", "connection reset", Scale::Flag),
    FeatureInfo::new("proto_udp", "UDP", Scale::Flag),
    FeatureInfo::new(
        "dst_port_rarity",
        "rarity of the destination port",
        Scale::Plain,
    ),
    FeatureInfo::new(
        "src_flows_w",
        "connections from the source in the last minute",
        Scale::Log,
    ),
    FeatureInfo::new(
        "src_distinct_dst_ports_w",
        "distinct destination ports from the source in the last minute",
        Scale::Log,
    ),
    FeatureInfo::new(
        "src_distinct_dst_hosts_w",
        "distinct hosts contacted by the source in the last minute",
        Scale::Log,
    ),
    FeatureInfo::new(
        "src_failed_share_w",
        "share of the source's recent connections that failed",
        Scale::Plain,
    ),
    FeatureInfo::new(
        "dst_flows_w",
        "connections to the destination in the last minute",
        Scale::Log,
    ),
    FeatureInfo::new(
        "dst_distinct_src_hosts_w",
        "distinct sources reaching the destination in the last minute",
        Scale::Log,
    ),
    FeatureInfo::new(
        "dst_failed_share_w",
        "share of the destination's recent connections that failed",
        Scale::Plain,
    ),
    FeatureInfo::new(
        "pair_flows_w",
        "repeated connections to the same host and port in the last minute",
        Scale::Log,
    ),
    FeatureInfo::new(
        "out_share",
        "share of the connection's bytes sent by the source",
        Scale::Plain,
    ),
    FeatureInfo::new(
        "src_dns_flows_w",
        "DNS queries from the source in the last minute",
        Scale::Log,
    ),
    FeatureInfo::new(
        "pair_gap_regularity",
        "regularity of the gaps between the source's connections to this host",
        Scale::Plain,
    ),
];

/// How a feature's stored value relates to the quantity it describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scale {
    /// Stored as ln(1 + x): heavy-tailed counts and sizes.
    Log,
    /// 0 or 1.
    Flag,
    /// Stored as is.
    Plain,
    /// Stored as sign(x)·ln(1 + |x|): imported numeric columns of unknown range.
    SignedLog,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeatureInfo {
    pub name: &'static str,
    pub description: &'static str,
    pub scale: Scale,
}

impl FeatureInfo {
    const fn new(name: &'static str, description: &'static str, scale: Scale) -> FeatureInfo {
        FeatureInfo {
            name,
            description,
            scale,
        }
    }

    /// The quantity a stored value stands for (undoes the log transform).
    pub fn natural_value(&self, stored: f64) -> f64 {
        match self.scale {
            Scale::Log => math::exp(stored) - 1.0,
            Scale::SignedLog => stored.signum() * (math::exp(stored.abs()) - 1.0),
            Scale::Flag | Scale::Plain => stored,
        }
    }
}

/// A model input column, built in or taken from an imported file (owned names, so imported
/// columns fit too).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureColumn {
    pub name: String,
    pub description: String,
    pub scale: Scale,
}

impl FeatureColumn {
    /// An imported numeric column, stored on the signed-log scale.
    pub fn imported(name: &str) -> FeatureColumn {
        FeatureColumn {
            name: name.to_string(),
            description: format!("{name} (from the file)"),
            scale: Scale::SignedLog,
        }
    }

    pub fn natural_value(&self, stored: f64) -> f64 {
        FeatureInfo {
            name: "",
            description: "",
            scale: self.scale,
        }
        .natural_value(stored)
    }

    /// The stored value of a natural one, for `Scale::SignedLog` columns.
    pub fn signed_log(v: f64) -> f64 {
        v.signum() * math::ln(1.0 + v.abs())
    }
}

impl From<&FeatureInfo> for FeatureColumn {
    fn from(info: &FeatureInfo) -> FeatureColumn {
        FeatureColumn {
            name: info.name.to_string(),
            description: info.description.to_string(),
            scale: info.scale,
        }
    }
}

/// The built-in columns.
pub fn builtin_columns() -> Vec<FeatureColumn> {
    FEATURES.iter().map(FeatureColumn::from).collect()
}

pub fn feature_names() -> Vec<&'static str> {
    FEATURES.iter().map(|f| f.name).collect()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FeatureConfig {
    pub window_s: f64,
}

impl Default for FeatureConfig {
    fn default() -> FeatureConfig {
        FeatureConfig {
            window_s: DEFAULT_WINDOW_S,
        }
    }
}
