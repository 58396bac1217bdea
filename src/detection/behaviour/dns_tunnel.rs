//! TODO(helper): module doc.

use super::behaviour_detection::BehaviourDetection;
use crate::traffic::flow::FlowRecord;
use serde::{Deserialize, Serialize};

/// Thresholds (placeholder until the detector lands).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct DnsTunnelParams {}

pub fn detect(_flows: &[FlowRecord], _params: &DnsTunnelParams) -> Vec<BehaviourDetection> {
    Vec::new()
}
