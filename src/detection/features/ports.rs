//! Destination-port frequencies learned from training flows, and the rarity feature they
//! give. Not here: the window features (`stream`).

use crate::traffic::flow::{FlowRecord, Proto};
use crate::util::index_sort;
use crate::util::math;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Destination-port frequencies learned from the training flows: a port the training traffic
/// never used is rare, and rarity is what a scan sweeping unused ports produces.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(into = "PortTable", try_from = "PortTable")]
pub struct PortFrequency {
    counts: HashMap<(Proto, u16), u64>,
    total: u64,
}

/// A [`PortFrequency`] as saved in a model file: sorted, so the same model writes the same
/// bytes (a `HashMap`'s order is not fixed).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct PortTable {
    total: u64,
    /// `(proto, port, flows)`, sorted by protocol then port.
    ports: Vec<(Proto, u16, u64)>,
}

impl From<PortFrequency> for PortTable {
    fn from(p: PortFrequency) -> PortTable {
        let ports: Vec<(Proto, u16, u64)> = p
            .counts
            .into_iter()
            .map(|((pr, port), c)| (pr, port, c))
            .collect();
        let order = index_sort::sorted_indices_by(ports.len(), &mut |a, b| {
            (ports[a].0 as u8, ports[a].1).cmp(&(ports[b].0 as u8, ports[b].1))
        });
        let ports = index_sort::permuted(ports, &order);
        PortTable {
            total: p.total,
            ports,
        }
    }
}

impl TryFrom<PortTable> for PortFrequency {
    type Error = String;

    fn try_from(t: PortTable) -> Result<PortFrequency, String> {
        let mut counts = HashMap::with_capacity(t.ports.len());
        let mut sum = 0u64;
        for (proto, port, c) in t.ports {
            if counts.insert((proto, port), c).is_some() {
                return Err(format!("port {port}/{proto:?} is listed twice"));
            }
            sum = sum.saturating_add(c);
        }
        if sum != t.total {
            return Err(format!(
                "port counts add up to {sum} flows, the table says {}",
                t.total
            ));
        }
        Ok(PortFrequency {
            counts,
            total: t.total,
        })
    }
}

impl PortFrequency {
    pub fn fit<'a>(flows: impl IntoIterator<Item = &'a FlowRecord>) -> PortFrequency {
        let mut counts = HashMap::new();
        let mut total = 0u64;
        for f in flows {
            *counts.entry((f.proto, f.dst_port)).or_insert(0) += 1;
            total += 1;
        }
        PortFrequency { counts, total }
    }

    /// −ln of the port's smoothed relative frequency: 0 for a port every flow uses.
    pub fn rarity(&self, proto: Proto, port: u16) -> f64 {
        let c = self.counts.get(&(proto, port)).copied().unwrap_or(0);
        -math::ln((c as f64 + 1.0) / (self.total as f64 + 1.0))
    }
}
