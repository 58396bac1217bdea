//! Behavioural detectors: deterministic, explainable rules over flows that need no training
//! (port scans and sweeps, floods, password guessing, beaconing, long connections,
//! exfiltration, DNS tunnelling), each naming its MITRE ATT&CK technique. They work on one
//! capture with no clean baseline, where the learned models cannot: an attack that fills the
//! file is normal to a model trained on it, but a scan is a scan.
//!
//! One detector per file, each with its thresholds as plain serde data (`*Params`, documented
//! field by field) and a `detect(flows, params)` that reads flows in time order and returns
//! [`BehaviourDetection`]s. Part of the detection layer: may import util and traffic (and the
//! rest of detection); must not import findings, output, pipeline or app. Fusion with the
//! models' flags, severity and incidents happen in `findings`.

pub mod beacon;
pub mod behaviour_detection;
pub mod brute_force;
pub mod dns_tunnel;
pub mod exfiltration;
pub mod flood;
pub mod long_connection;
pub mod net;
pub mod scan;
pub mod technique;
#[cfg(test)]
pub(crate) mod test_support;
pub mod thresholds;

pub use behaviour_detection::{BehaviourDetection, BehaviourKind, Evidence, KeyRole};
pub use technique::Technique;

use crate::traffic::flow::FlowRecord;
use crate::util::index_sort;
use serde::{Deserialize, Serialize};

/// Every detector's thresholds, and whether the detectors run at all.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BehaviourParams {
    /// False: the run uses the learned models alone.
    pub enabled: bool,
    pub scan: scan::ScanParams,
    pub flood: flood::FloodParams,
    pub brute_force: brute_force::BruteForceParams,
    pub beacon: beacon::BeaconParams,
    pub long_connection: long_connection::LongConnectionParams,
    pub exfiltration: exfiltration::ExfiltrationParams,
    pub dns_tunnel: dns_tunnel::DnsTunnelParams,
}

impl Default for BehaviourParams {
    fn default() -> BehaviourParams {
        BehaviourParams {
            enabled: true,
            scan: Default::default(),
            flood: Default::default(),
            brute_force: Default::default(),
            beacon: Default::default(),
            long_connection: Default::default(),
            exfiltration: Default::default(),
            dns_tunnel: Default::default(),
        }
    }
}

/// Runs every detector over `flows` (time order). Detections come out in a fixed order: by
/// first flow's time, then kind, then key host, so the same flows give the same list.
pub fn detect_all(flows: &[FlowRecord], params: &BehaviourParams) -> Vec<BehaviourDetection> {
    if !params.enabled {
        return Vec::new();
    }
    let mut out = Vec::new();
    out.extend(scan::detect(flows, &params.scan));
    out.extend(flood::detect(flows, &params.flood));
    out.extend(brute_force::detect(flows, &params.brute_force));
    out.extend(beacon::detect(flows, &params.beacon));
    out.extend(long_connection::detect(flows, &params.long_connection));
    out.extend(exfiltration::detect(flows, &params.exfiltration));
    out.extend(dns_tunnel::detect(flows, &params.dns_tunnel));
    let order = index_sort::sorted_indices_by(out.len(), &mut |i, j| {
        let (a, b) = (&out[i], &out[j]);
        a.first_seen_ts
            .total_cmp(&b.first_seen_ts)
            .then(a.kind.cmp(&b.kind))
            .then(a.key_ip.cmp(&b.key_ip))
            .then(a.flows.first().cmp(&b.flows.first()))
    });
    index_sort::permuted(out, &order)
}
