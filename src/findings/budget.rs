//! The incident budget: how many incidents the learned models alone may add to the list, per
//! hour of evaluated traffic per 100 monitored hosts. A flow threshold at a 1 % quantile
//! flags thousands of benign flows at a large site, and grouped by host they still make
//! hundreds of incidents nobody can read; published unsupervised detectors deployed at sites
//! report about five false alarms an hour. The behavioural detectors' incidents and the
//! collateral notes tied to them are never held back (they are few and specific).
//!
//! Which model-only incidents stay is decided without labels: first those with flows in which
//! a host seen in the training part uses a destination port it never used there (a "first
//! seen" service, the analyst's classic pivot: a workstation opening RDP to a peer, a server
//! talking to a mining pool's port), then by how far their scores exceed the threshold in
//! total. The held-back incidents' flows stay flagged: they are in the anomalies table, only
//! not listed as incidents, and the report says how many there were.
//!
//! Not responsible for grouping flows (`incidents`, `fusion`) or for thresholds.

use super::incidents::{format_duration, plural, DetectedIncident};
use crate::detection::behaviour::net::is_internal;
use crate::traffic::flow::FlowRecord;
use crate::util::format_value::format_value;
use crate::util::index_sort;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::net::IpAddr;

/// How the budget was applied to one run, for the report and the page.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct BudgetOutcome {
    /// The setting: model-only incidents per hour per 100 hosts (0: no budget).
    pub per_hour_per_100_hosts: f64,
    /// The hosts the budget scales with (see [`monitored_hosts`]).
    pub monitored_hosts: u64,
    /// Hours of evaluated traffic.
    pub evaluated_hours: f64,
    /// Model-only incidents the run may list; `None` without a budget.
    pub allowed: Option<u64>,
    /// Model-only incidents found before the budget.
    pub model_incidents: u64,
    /// Of those, not listed.
    pub held_back_incidents: u64,
    /// Flagged flows of the held-back incidents (still in the anomalies table).
    pub held_back_flows: u64,
    /// The file has no addresses, so there are no hosts to count: the budget did not apply.
    pub hosts_unknown: bool,
}

impl BudgetOutcome {
    /// What the page and the CLI say when the budget held incidents back, e.g. "The models
    /// alone flagged 6,834 more flows in 2,973 groups beyond the incident budget (3 an hour
    /// per 100 hosts: 23 for 500 hosts over 1.5 h). They stay in the anomaly list; a budget of
    /// 0 lists every group as an incident."
    pub fn held_back_message(&self) -> Option<String> {
        if self.held_back_incidents == 0 {
            return None;
        }
        let allowed = self.allowed.unwrap_or(0);
        Some(format!(
            "The models alone flagged {} in {} beyond the incident budget ({} an hour per \
             100 hosts: {} for {} over {}). They stay in the anomaly list; a budget of 0 lists \
             every group as an incident.",
            plural(self.held_back_flows, "more flow", "more flows"),
            plural(self.held_back_incidents, "group", "groups"),
            format_value(self.per_hour_per_100_hosts),
            format_value(allowed as f64),
            plural(self.monitored_hosts, "host", "hosts"),
            format_duration(self.evaluated_hours * 3600.0),
        ))
    }
}

/// The hosts a budget scales with: the site's own (internal, `net::is_internal`) addresses
/// that originate flows in the training part, or in the whole file without a training part (a
/// saved model scored it). Outside sources (internet scanners, the spoofed sources of a
/// flood, the far ends of a capture) are not the site's hosts. A file with no internal
/// source at all (public addresses throughout) counts every source that sends at least two
/// flows. At least 1.
pub fn monitored_hosts(flows: &[FlowRecord], training_rows: usize) -> u64 {
    let training = &flows[..training_rows.min(flows.len())];
    let part = if training.is_empty() { flows } else { training };
    let mut hosts: BTreeSet<IpAddr> = BTreeSet::new();
    hosts.extend(part.iter().map(|f| f.src_ip).filter(|&a| is_internal(a)));
    if hosts.is_empty() {
        let mut once: BTreeSet<IpAddr> = BTreeSet::new();
        for f in part {
            if !once.insert(f.src_ip) {
                hosts.insert(f.src_ip);
            }
        }
    }
    (hosts.len() as u64).max(1)
}

/// Rows of `flows` in which a source seen in the training part (rows `..training_rows`) uses
/// a destination port and transport it never used there. Empty without a training part.
pub fn first_seen_services(flows: &[FlowRecord], training_rows: usize) -> Vec<bool> {
    let training_rows = training_rows.min(flows.len());
    if training_rows == 0 {
        return Vec::new();
    }
    let mut sources: BTreeSet<IpAddr> = BTreeSet::new();
    let mut services: BTreeSet<(IpAddr, u16, u8)> = BTreeSet::new();
    for f in &flows[..training_rows] {
        sources.insert(f.src_ip);
        services.insert((f.src_ip, f.dst_port, f.proto as u8));
    }
    flows
        .iter()
        .enumerate()
        .map(|(i, f)| {
            i >= training_rows
                && sources.contains(&f.src_ip)
                && !services.contains(&(f.src_ip, f.dst_port, f.proto as u8))
        })
        .collect()
}

/// Model-only incidents a run may list: `per_hour_per_100_hosts` × hours × hosts / 100,
/// rounded up, at least 1; `None` (no budget) when the setting is 0 or not a finite positive
/// number.
pub fn allowed(per_hour_per_100_hosts: f64, evaluated_s: f64, monitored_hosts: u64) -> Option<u64> {
    if !(per_hour_per_100_hosts.is_finite() && per_hour_per_100_hosts > 0.0) {
        return None;
    }
    let hours = if evaluated_s.is_finite() {
        evaluated_s.max(0.0) / 3600.0
    } else {
        0.0
    };
    let n = (per_hour_per_100_hosts * hours * monitored_hosts as f64 / 100.0).ceil();
    Some(if n.is_finite() { (n as u64).max(1) } else { 1 })
}

/// What [`keep_within`] left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HeldBack {
    /// Model-only incidents before the budget.
    pub model_incidents: u64,
    pub incidents: u64,
    pub flows: u64,
}

/// What ranks a model-only incident for the budget.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Priority {
    first_seen_flows: u64,
    excess: f64,
}

fn priority(
    inc: &DetectedIncident,
    first_seen: &[bool],
    scores: &[f64],
    threshold: f64,
) -> Priority {
    let mut first_seen_flows = 0u64;
    let mut excess = 0.0;
    for &r in &inc.flows {
        let r = r as usize;
        first_seen_flows += u64::from(first_seen.get(r).copied().unwrap_or(false));
        if let Some(&s) = scores.get(r) {
            if s.is_finite() && threshold.is_finite() {
                excess += (s - threshold).max(0.0);
            }
        }
    }
    Priority {
        first_seen_flows,
        excess,
    }
}

/// Keeps the `allowed` most pressing of the model-only incidents `model_only` (all of them
/// when `allowed` is `None`), in their original order, and says in each kept incident's
/// summary which ports its host uses for the first time. Returns the kept incidents and what
/// was held back.
pub fn keep_within(
    model_only: Vec<DetectedIncident>,
    allowed: Option<u64>,
    flows: &[FlowRecord],
    first_seen: &[bool],
    scores: &[f64],
    threshold: f64,
) -> (Vec<DetectedIncident>, HeldBack) {
    let mut held = HeldBack {
        model_incidents: model_only.len() as u64,
        ..HeldBack::default()
    };
    let keep: Vec<bool> = match allowed {
        Some(n) if (n as usize) < model_only.len() => {
            let p: Vec<Priority> = model_only
                .iter()
                .map(|inc| priority(inc, first_seen, scores, threshold))
                .collect();
            let order = index_sort::sorted_indices_by(model_only.len(), &mut |a, b| {
                p[b].first_seen_flows
                    .cmp(&p[a].first_seen_flows)
                    .then(p[b].excess.total_cmp(&p[a].excess))
                    .then(a.cmp(&b))
            });
            let mut keep = vec![false; model_only.len()];
            for &i in order.iter().take(n as usize) {
                keep[i] = true;
            }
            keep
        }
        _ => vec![true; model_only.len()],
    };
    let mut kept = Vec::new();
    for (mut inc, k) in model_only.into_iter().zip(keep) {
        if k {
            note_first_seen(&mut inc, flows, first_seen);
            kept.push(inc);
        } else {
            held.incidents += 1;
            held.flows += inc.flow_count;
        }
    }
    (kept, held)
}

/// Appends "; first use of 3389/tcp by this host since the training part" (ports it never
/// used there, at most three named) to the summary of an incident with such flows.
fn note_first_seen(inc: &mut DetectedIncident, flows: &[FlowRecord], first_seen: &[bool]) {
    let mut ports: BTreeSet<(u16, &'static str)> = BTreeSet::new();
    for &r in &inc.flows {
        let r = r as usize;
        if first_seen.get(r).copied().unwrap_or(false) {
            if let Some(f) = flows.get(r) {
                ports.insert((f.dst_port, f.proto.as_str()));
            }
        }
    }
    if ports.is_empty() {
        return;
    }
    let named: Vec<String> = ports
        .iter()
        .take(3)
        .map(|(p, t)| format!("{p}/{t}"))
        .collect();
    let more = ports.len().saturating_sub(3);
    inc.summary = format!(
        "{}; first use of {}{} by its source since the training part",
        inc.summary,
        named.join(", "),
        if more > 0 {
            format!(" and {more} more port{}", if more == 1 { "" } else { "s" })
        } else {
            String::new()
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::incidents::tests::flow;
    use crate::findings::incidents::{build, Grouping};

    #[test]
    fn the_budget_scales_with_hours_and_hosts_and_zero_means_none() {
        assert_eq!(allowed(3.0, 5400.0, 500), Some(23));
        assert_eq!(allowed(3.0, 60.0, 10), Some(1));
        assert_eq!(allowed(0.0, 5400.0, 500), None);
        assert_eq!(allowed(f64::NAN, 5400.0, 500), None);
        assert_eq!(allowed(3.0, f64::INFINITY, 500), Some(1));
    }

    #[test]
    fn the_message_says_what_was_held_back_and_how_to_list_it() {
        let none = BudgetOutcome::default();
        assert_eq!(none.held_back_message(), None);
        let o = BudgetOutcome {
            per_hour_per_100_hosts: 3.0,
            monitored_hosts: 500,
            evaluated_hours: 1.5,
            allowed: Some(23),
            model_incidents: 2996,
            held_back_incidents: 2973,
            held_back_flows: 6834,
            hosts_unknown: false,
        };
        assert_eq!(
            o.held_back_message().unwrap(),
            "The models alone flagged 6,834 more flows in 2,973 groups beyond the incident \
             budget (3 an hour per 100 hosts: 23 for 500 hosts over 1.5 h). They stay in the \
             anomaly list; a budget of 0 lists every group as an incident."
        );
    }

    #[test]
    fn hosts_are_internal_sources_or_repeated_public_ones() {
        let f = vec![
            flow(0.0, [10, 0, 0, 1], [10, 0, 0, 9], 80),
            flow(1.0, [10, 0, 0, 2], [10, 0, 0, 9], 80),
            flow(2.0, [5, 6, 7, 8], [10, 0, 0, 9], 80),
            flow(3.0, [10, 0, 0, 3], [10, 0, 0, 9], 80),
        ];
        // Training part rows 0..3: two internal sources; the outside one is not a host.
        assert_eq!(monitored_hosts(&f, 3), 2);
        // No training part: the whole file.
        assert_eq!(monitored_hosts(&f, 0), 3);
        // Public addresses only: sources that send twice.
        let public = vec![
            flow(0.0, [1, 2, 3, 4], [9, 9, 9, 9], 80),
            flow(1.0, [1, 2, 3, 4], [9, 9, 9, 9], 80),
            flow(2.0, [5, 6, 7, 8], [9, 9, 9, 9], 80),
        ];
        assert_eq!(monitored_hosts(&public, 3), 1);
        assert_eq!(monitored_hosts(&[], 0), 1);
    }

    #[test]
    fn first_seen_needs_a_known_source_and_a_new_port() {
        let f = vec![
            flow(0.0, [10, 0, 0, 1], [10, 0, 0, 9], 80),
            flow(1.0, [10, 0, 0, 1], [10, 0, 0, 9], 80),
            flow(2.0, [10, 0, 0, 1], [10, 0, 0, 7], 3389),
            flow(3.0, [1, 2, 3, 4], [10, 0, 0, 9], 3389),
        ];
        assert_eq!(first_seen_services(&f, 1), vec![false, false, true, false]);
        assert!(first_seen_services(&f, 0).is_empty());
    }

    #[test]
    fn first_seen_incidents_stay_then_the_largest_excess() {
        let f = vec![
            flow(0.0, [10, 0, 0, 1], [10, 0, 0, 9], 80),
            flow(10.0, [10, 0, 0, 2], [10, 0, 0, 9], 80),
            flow(20.0, [10, 0, 0, 3], [10, 0, 0, 9], 80),
            flow(30.0, [10, 0, 0, 4], [10, 0, 0, 7], 3389),
        ];
        let scores = [0.0, 5.0, 9.0, 1.0];
        let first_seen = [false, false, false, true];
        let incs: Vec<DetectedIncident> = (1..4)
            .map(|r| build(&f, &[r], &scores, 0.5, Grouping::Source, f[r].src_ip))
            .collect();
        let (kept, held) = keep_within(incs.clone(), Some(2), &f, &first_seen, &scores, 0.5);
        assert_eq!(
            held,
            HeldBack {
                model_incidents: 3,
                incidents: 1,
                flows: 1
            }
        );
        // Row 3 (first seen) and row 2 (largest excess), in their original order.
        assert_eq!(
            kept.iter().map(|i| i.flows[0]).collect::<Vec<_>>(),
            vec![2, 3]
        );
        assert!(
            kept[1]
                .summary
                .ends_with("; first use of 3389/tcp by its source since the training part"),
            "{}",
            kept[1].summary
        );
        assert!(!kept[0].summary.contains("first use"));
        let (all, held) = keep_within(incs, None, &f, &first_seen, &scores, 0.5);
        assert_eq!((all.len(), held.incidents), (3, 0));
    }
}
