//! Analyst verdicts on incidents: "false positive" suppresses the incident's pattern (its
//! source, or its victim for flood-like incidents, and the destination service) for the rest
//! of the session; "confirmed" records that a human agreed.
//!
//! Verdicts are keyed by pattern, not by incident id, because incident ids are positions in a
//! list that changes with every threshold. Not responsible for re-thresholding (see
//! `pipeline::rethreshold_with`) or for showing anything.

use crate::findings::incidents::{DetectedIncident, Grouping};
use crate::traffic::flow::{FlowRecord, Service};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    FalsePositive,
    Confirmed,
}

crate::util::serde_names::serde_by_name!(Verdict, "a verdict");

impl Verdict {
    pub const ALL: [Verdict; 2] = [Verdict::FalsePositive, Verdict::Confirmed];

    /// The name serde writes.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::FalsePositive => "false_positive",
            Verdict::Confirmed => "confirmed",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Verdict::FalsePositive => "false positive",
            Verdict::Confirmed => "confirmed",
        }
    }
}

/// Which flows a verdict covers: all flows from `src_ip` (or to `dst_ip`) for `service`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pattern {
    pub src_ip: Option<IpAddr>,
    pub dst_ip: Option<IpAddr>,
    pub service: Service,
}

impl Pattern {
    pub fn of(incident: &DetectedIncident) -> Pattern {
        let (src_ip, dst_ip) = match incident.grouping {
            Grouping::Source => (Some(incident.key_ip), None),
            Grouping::Victim => (None, Some(incident.key_ip)),
        };
        Pattern {
            src_ip,
            dst_ip,
            service: incident.service,
        }
    }

    pub fn matches(&self, flow: &FlowRecord) -> bool {
        self.src_ip.is_none_or(|ip| ip == flow.src_ip)
            && self.dst_ip.is_none_or(|ip| ip == flow.dst_ip)
            && self.service == flow.service
    }

    /// "traffic from 10.0.3.7 to service ssh"
    pub fn describe(&self) -> String {
        let who = match (self.src_ip, self.dst_ip) {
            (Some(s), _) => format!("traffic from {s}"),
            (None, Some(d)) => format!("traffic to {d}"),
            (None, None) => "traffic".to_string(),
        };
        format!("{who} to service {}", self.service.as_str())
    }
}

/// One verdict, as the report records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerdictRecord {
    pub verdict: Verdict,
    pub pattern: Pattern,
    /// The incident the analyst judged, as it read then.
    pub incident_summary: String,
    pub incident_first_seen_ts: f64,
}

/// The session's verdicts, latest per pattern.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Feedback {
    pub verdicts: Vec<VerdictRecord>,
}

impl Feedback {
    /// Records (or with `None`, withdraws) the verdict on `incident`'s pattern.
    pub fn judge(&mut self, incident: &DetectedIncident, verdict: Option<Verdict>) {
        let pattern = Pattern::of(incident);
        self.verdicts.retain(|v| v.pattern != pattern);
        if let Some(verdict) = verdict {
            self.verdicts.push(VerdictRecord {
                verdict,
                pattern,
                incident_summary: incident.summary.clone(),
                incident_first_seen_ts: incident.first_seen_ts,
            });
        }
    }

    /// Withdraws the verdict on `pattern`; false if there was none.
    pub fn withdraw(&mut self, pattern: &Pattern) -> bool {
        let before = self.verdicts.len();
        self.verdicts.retain(|v| v.pattern != *pattern);
        self.verdicts.len() != before
    }

    /// True when a false-positive verdict covers the flow.
    pub fn suppresses(&self, flow: &FlowRecord) -> bool {
        self.verdicts
            .iter()
            .any(|v| v.verdict == Verdict::FalsePositive && v.pattern.matches(flow))
    }

    /// The verdict on an incident's pattern, if any.
    pub fn verdict_of(&self, incident: &DetectedIncident) -> Option<Verdict> {
        let pattern = Pattern::of(incident);
        self.verdicts
            .iter()
            .find(|v| v.pattern == pattern)
            .map(|v| v.verdict)
    }

    pub fn is_empty(&self) -> bool {
        self.verdicts.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::incidents::tests::flow;

    fn incident(key: [u8; 4], grouping: Grouping, service: Service) -> DetectedIncident {
        let f = flow(0.0, key, [10, 0, 0, 2], 22);
        let mut inc = crate::findings::incidents::group(
            &[f.clone(), f],
            &[0, 1],
            &[5.0, 5.0],
            1.0,
            &Default::default(),
        )
        .remove(0);
        inc.grouping = grouping;
        inc.service = service;
        inc
    }

    #[test]
    fn a_false_positive_suppresses_its_source_and_service_only() {
        let inc = incident([10, 0, 0, 9], Grouping::Source, Service::Ssh);
        let mut fb = Feedback::default();
        fb.judge(&inc, Some(Verdict::FalsePositive));
        let mut same = flow(5.0, [10, 0, 0, 9], [10, 0, 0, 3], 22);
        same.service = Service::Ssh;
        let mut other_service = same.clone();
        other_service.service = Service::Http;
        let mut other_source = same.clone();
        other_source.src_ip = "10.0.0.8".parse().unwrap();
        assert!(fb.suppresses(&same));
        assert!(!fb.suppresses(&other_service));
        assert!(!fb.suppresses(&other_source));
        assert_eq!(fb.verdict_of(&inc), Some(Verdict::FalsePositive));
        // A new verdict replaces the old one; withdrawing removes it.
        fb.judge(&inc, Some(Verdict::Confirmed));
        assert_eq!(fb.verdicts.len(), 1);
        assert!(!fb.suppresses(&same), "confirmed never suppresses");
        fb.judge(&inc, None);
        assert!(fb.is_empty());
    }

    #[test]
    fn victim_incidents_are_keyed_by_destination() {
        let inc = incident([10, 0, 0, 20], Grouping::Victim, Service::Http);
        let p = Pattern::of(&inc);
        let mut f = flow(1.0, [1, 2, 3, 4], [10, 0, 0, 20], 80);
        f.service = Service::Http;
        assert!(p.matches(&f));
        assert!(p.describe().starts_with("traffic to 10.0.0.20"));
    }
}
