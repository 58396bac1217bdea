//! The ground truth the generator records for each attack it injects: who, whom, when and how
//! many flows. Scoring against it lives in `findings::ground_truth`.

use crate::traffic::flow::AttackKind;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// Ground truth for one injected attack.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    /// Position of the attack in `GeneratorConfig::attacks`.
    pub id: u32,
    pub kind: AttackKind,
    /// Timestamp of the attack's first flow.
    pub start_ts: f64,
    /// Timestamp of the attack's last flow.
    pub end_ts: f64,
    /// The attacker's address (the external C2, drop site, pool or name server for attacks a
    /// compromised host originates); `0.0.0.0` for a SYN flood: its sources are spoofed.
    pub attacker: IpAddr,
    /// The first (or only) victim; `0.0.0.0` when a sweep found no live host.
    pub victim: IpAddr,
    /// Every victim the attack touched (live hosts only for sweeps), at most 256.
    pub victims: Vec<IpAddr>,
    pub flows: u64,
}
