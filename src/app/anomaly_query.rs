//! Sorting, filtering and paging of a run's anomalies, for the table in the page.
//!
//! The worker keeps the full anomaly list and answers one page at a time, so the page thread
//! never holds (or parses) a hundred thousand rows. Pure functions over `report::Anomaly`; no
//! rendering here.

use crate::output::report::Anomaly;
use crate::util::index_sort;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;

/// Rows per page unless the query asks otherwise; pages are capped at `MAX_PAGE_ROWS`.
pub const DEFAULT_PAGE_ROWS: usize = 50;
pub const MAX_PAGE_ROWS: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortKey {
    #[default]
    Ensemble,
    IsolationForest,
    Mlp,
    Time,
}

crate::util::serde_names::serde_by_name!(SortKey, "a sort key");

impl SortKey {
    pub const ALL: [SortKey; 4] = [
        SortKey::Ensemble,
        SortKey::IsolationForest,
        SortKey::Mlp,
        SortKey::Time,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SortKey::Ensemble => "ensemble",
            SortKey::IsolationForest => "isolation_forest",
            SortKey::Mlp => "mlp",
            SortKey::Time => "time",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            SortKey::Ensemble => "Ensemble score",
            SortKey::IsolationForest => "Isolation Forest score",
            SortKey::Mlp => "Autoencoder error",
            SortKey::Time => "Time",
        }
    }

    pub fn parse(name: &str) -> Option<SortKey> {
        SortKey::ALL.into_iter().find(|k| k.as_str() == name)
    }

    fn key(self, a: &Anomaly) -> f64 {
        match self {
            SortKey::Ensemble => a.scores.ensemble,
            SortKey::IsolationForest => a.scores.isolation_forest,
            SortKey::Mlp => a.scores.mlp,
            SortKey::Time => a.ts,
        }
    }
}

/// Rows of one detected incident, or rows in none of the listed incidents (the groups the
/// incident budget held back: `findings::budget`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum IncidentFilter {
    /// Rows grouped into incident `incidents[].id`.
    Listed(u32),
    /// Rows in no listed incident.
    Unlisted,
}

impl IncidentFilter {
    fn matches(self, detected_incident: Option<u32>) -> bool {
        match self {
            IncidentFilter::Listed(id) => detected_incident == Some(id),
            IncidentFilter::Unlisted => detected_incident.is_none(),
        }
    }
}

/// Which rows, in which order, and which page of them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AnomalyQuery {
    pub sort: SortKey,
    /// Largest first when true (the default: highest scores, latest times).
    pub descending: bool,
    /// Only rows whose ground-truth label equals this (`benign` or an attack kind's name).
    pub label: Option<String>,
    /// Only rows whose source or destination address contains this text.
    pub host: String,
    /// Only rows whose ensemble score is at least this.
    pub min_ensemble: Option<f64>,
    /// Only the rows of one incident, or those in no listed incident.
    pub incident: Option<IncidentFilter>,
    pub offset: usize,
    pub limit: usize,
}

impl Default for AnomalyQuery {
    fn default() -> AnomalyQuery {
        AnomalyQuery {
            sort: SortKey::Ensemble,
            descending: true,
            label: None,
            host: String::new(),
            min_ensemble: None,
            incident: None,
            offset: 0,
            limit: DEFAULT_PAGE_ROWS,
        }
    }
}

/// One page of the matching rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnomalyPage {
    /// The query this page answers (so a late answer to an older query can be ignored).
    pub query: AnomalyQuery,
    /// Rows matching the filters, over all pages.
    pub total: usize,
    /// Rows in the whole run before filtering.
    pub unfiltered: usize,
    pub rows: Vec<Anomaly>,
}

impl AnomalyQuery {
    fn matches(&self, a: &Anomaly) -> bool {
        if let Some(f) = self.incident {
            if !f.matches(a.detected_incident) {
                return false;
            }
        }
        if let Some(label) = &self.label {
            if &a.label != label {
                return false;
            }
        }
        if let Some(min) = self.min_ensemble {
            if a.scores.ensemble < min || a.scores.ensemble.is_nan() {
                return false;
            }
        }
        let host = self.host.trim();
        if !host.is_empty() {
            let (src, dst) = (a.src_ip.to_string(), a.dst_ip.to_string());
            if !src.contains(host) && !dst.contains(host) {
                return false;
            }
        }
        true
    }
}

/// Filters, sorts (ties by row index, so the order is total and stable) and pages.
pub fn query(anomalies: &[Anomaly], q: &AnomalyQuery) -> AnomalyPage {
    let mut positions: Vec<usize> = (0..anomalies.len())
        .filter(|&i| q.matches(&anomalies[i]))
        .collect();
    index_sort::sort_indices_by(&mut positions, &mut |i, j| {
        let (a, b) = (&anomalies[i], &anomalies[j]);
        let (ka, kb) = (q.sort.key(a), q.sort.key(b));
        let by_key = if q.descending {
            kb.total_cmp(&ka)
        } else {
            ka.total_cmp(&kb)
        };
        match by_key {
            Ordering::Equal => a.index.cmp(&b.index),
            other => other,
        }
    });
    let limit = q.limit.clamp(1, MAX_PAGE_ROWS);
    let offset = q.offset.min(positions.len());
    let rows = positions
        .iter()
        .skip(offset)
        .take(limit)
        .map(|&i| anomalies[i].clone())
        .collect();
    AnomalyPage {
        query: AnomalyQuery {
            offset,
            limit,
            ..q.clone()
        },
        total: positions.len(),
        unfiltered: anomalies.len(),
        rows,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::report::Scores;
    use crate::traffic::flow::{ConnState, Proto, Service};
    use std::net::{IpAddr, Ipv4Addr};

    fn anomaly(index: u64, ensemble: f64, src: u8, label: &str) -> Anomaly {
        Anomaly {
            index,
            ts: 1_000.0 + index as f64,
            src_ip: IpAddr::V4(Ipv4Addr::new(10, 0, 0, src)),
            src_port: 40_000,
            dst_ip: IpAddr::V4(Ipv4Addr::new(192, 168, 1, 1)),
            dst_port: 22,
            proto: Proto::Tcp,
            service: Service::Ssh,
            duration_s: 1.0,
            bytes_out: 10,
            bytes_in: 10,
            pkts_out: 1,
            pkts_in: 1,
            conn_state: ConnState::SF,
            history: crate::traffic::flow::ConnHistory::new("ShADadFf"),
            scores: Scores {
                isolation_forest: 0.5 + ensemble / 100.0,
                mlp: ensemble * 2.0,
                ensemble,
            },
            label: label.to_string(),
            incident_id: None,
            detected_incident: None,
            explanation: Vec::new(),
            isolation_forest_explanation: None,
        }
    }

    fn rows() -> Vec<Anomaly> {
        vec![
            anomaly(0, 3.0, 1, "benign"),
            anomaly(1, 9.0, 2, "port_scan"),
            anomaly(2, 5.0, 2, "port_scan"),
            anomaly(3, 5.0, 3, "brute_force"),
            anomaly(4, 7.0, 13, "benign"),
        ]
    }

    fn indices(page: &AnomalyPage) -> Vec<u64> {
        page.rows.iter().map(|a| a.index).collect()
    }

    #[test]
    fn sorts_by_score_with_ties_in_row_order() {
        let page = query(&rows(), &AnomalyQuery::default());
        assert_eq!(indices(&page), vec![1, 4, 2, 3, 0]);
        let ascending = AnomalyQuery {
            descending: false,
            ..AnomalyQuery::default()
        };
        assert_eq!(indices(&query(&rows(), &ascending)), vec![0, 2, 3, 4, 1]);
        let by_time = AnomalyQuery {
            sort: SortKey::Time,
            descending: false,
            ..AnomalyQuery::default()
        };
        assert_eq!(indices(&query(&rows(), &by_time)), vec![0, 1, 2, 3, 4]);
    }

    #[test]
    fn an_incident_filter_keeps_its_rows_or_the_unlisted_ones() {
        let mut r = rows();
        r[1].detected_incident = Some(1);
        r[2].detected_incident = Some(1);
        r[3].detected_incident = Some(2);
        let of = |f: IncidentFilter| {
            indices(&query(
                &r,
                &AnomalyQuery {
                    incident: Some(f),
                    ..AnomalyQuery::default()
                },
            ))
        };
        assert_eq!(of(IncidentFilter::Listed(1)), vec![1, 2]);
        assert_eq!(of(IncidentFilter::Listed(2)), vec![3]);
        assert_eq!(of(IncidentFilter::Listed(3)), Vec::<u64>::new());
        assert_eq!(of(IncidentFilter::Unlisted), vec![4, 0]);
    }

    #[test]
    fn filters_combine() {
        let q = AnomalyQuery {
            label: Some("port_scan".into()),
            ..AnomalyQuery::default()
        };
        assert_eq!(indices(&query(&rows(), &q)), vec![1, 2]);
        // "10.0.0.1" is a prefix of 10.0.0.13 too: a substring match, as typed.
        let q = AnomalyQuery {
            host: " 10.0.0.1".into(),
            ..AnomalyQuery::default()
        };
        assert_eq!(indices(&query(&rows(), &q)), vec![4, 0]);
        let q = AnomalyQuery {
            min_ensemble: Some(5.0),
            label: Some("benign".into()),
            ..AnomalyQuery::default()
        };
        let page = query(&rows(), &q);
        assert_eq!(
            (indices(&page), page.total, page.unfiltered),
            (vec![4], 1, 5)
        );
    }

    #[test]
    fn pages_cover_every_row_once_and_clamp() {
        let all: Vec<Anomaly> = (0..1_234)
            .map(|i| anomaly(i, (i % 97) as f64, 1, "benign"))
            .collect();
        let mut seen = Vec::new();
        let mut offset = 0;
        loop {
            let page = query(
                &all,
                &AnomalyQuery {
                    offset,
                    limit: 100,
                    ..AnomalyQuery::default()
                },
            );
            if page.rows.is_empty() {
                break;
            }
            offset += page.rows.len();
            seen.extend(indices(&page));
        }
        seen.sort_unstable();
        assert_eq!(seen, (0..1_234).collect::<Vec<u64>>());
        let huge = query(
            &all,
            &AnomalyQuery {
                limit: 1_000_000,
                offset: 5_000,
                ..AnomalyQuery::default()
            },
        );
        assert_eq!(
            (huge.rows.len(), huge.query.limit, huge.query.offset),
            (0, MAX_PAGE_ROWS, 1_234)
        );
        let zero = query(
            &all,
            &AnomalyQuery {
                limit: 0,
                ..AnomalyQuery::default()
            },
        );
        assert_eq!(zero.rows.len(), 1);
    }
}
