//! The JSON report a run produces: what was run, how well it did, and what it flagged.
//!
//! Plain serde data, schema documented in `docs/report-schema.md` and versioned by
//! [`SCHEMA_VERSION`]. Timings live in their own block (`timings_ms`) so that everything else
//! is identical for the same configuration and seed. Not responsible for computing anything.

use crate::detection::run_config::{DetectionConfig, RunConfig, ThresholdMode};
use crate::findings::budget::BudgetOutcome;
use crate::findings::feedback::VerdictRecord;
use crate::findings::incidents::DetectedIncident;
use crate::findings::metrics::{Confusion, DetectionDelay, PrPoint, RocPoint};
use crate::findings::response::ResponsePlan;
use crate::traffic::flow::{ConnHistory, ConnState, Proto, Service};
use crate::traffic::generator::{GeneratorConfig, Incident};
use crate::util::format_value::format_value;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::IpAddr;

pub const SCHEMA_VERSION: &str = "1.6.0";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub schema_version: String,
    pub app_version: String,
    /// The full configuration of the run; `config.seed` repeats the generator's seed.
    pub config: ReportConfig,
    pub data: DataSummary,
    /// Wall-clock milliseconds per stage (the only part that varies between identical runs).
    pub timings_ms: BTreeMap<String, f64>,
    pub threshold: ThresholdInfo,
    pub metrics: ModelMetrics,
    pub mlp_training: TrainingSummary,
    /// Ground truth: the attacks injected by the generator.
    pub injected_attacks: Vec<Incident>,
    /// What the ensemble flagged, grouped into incidents, most severe first.
    pub incidents: Vec<DetectedIncident>,
    /// Number of incidents (the page's copy of a report lists only the first ones).
    #[serde(default)]
    pub incident_count: u64,
    /// How the incident budget (`config.detection.incident_budget`) applied: model-only
    /// incidents allowed, found and held back (their flows stay in `anomalies`).
    #[serde(default)]
    pub incident_budget: BudgetOutcome,
    /// Number of flagged flows in the evaluated part (may exceed `anomalies.len()`).
    pub anomaly_count: u64,
    /// True when `anomalies` lists only the highest-scoring `max_reported_anomalies`.
    pub anomalies_truncated: bool,
    /// Flagged flows, in time order.
    pub anomalies: Vec<Anomaly>,
    /// Blocking suggestions per incident (same order as `incidents`), never executed.
    pub responses: Vec<ResponsePlan>,
    /// The analyst's verdicts this session, latest per pattern.
    pub feedback: Vec<VerdictRecord>,
    /// Flows above the threshold that a false-positive verdict suppressed (not in
    /// `anomaly_count`).
    pub suppressed_anomalies: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportConfig {
    pub seed: u64,
    // The run's two parts spelled out rather than a flattened `RunConfig`: serde's flatten
    // buffers the whole object and doubles every nested deserialiser in the page's wasm.
    #[serde(default)]
    pub generator: GeneratorConfig,
    #[serde(default)]
    pub detection: DetectionConfig,
}

impl ReportConfig {
    pub fn new(run: &RunConfig) -> ReportConfig {
        ReportConfig {
            seed: run.generator.seed,
            generator: run.generator.clone(),
            detection: run.detection.clone(),
        }
    }

    /// The configuration that made the report.
    pub fn run_config(&self) -> RunConfig {
        RunConfig {
            generator: self.generator.clone(),
            detection: self.detection.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataSummary {
    pub flows: u64,
    pub training_flows: u64,
    pub evaluated_flows: u64,
    pub attack_flows: u64,
    /// Which rows the metrics and anomalies cover, in words.
    pub evaluated_on: String,
    pub features: Vec<String>,
    /// FNV-1a 64 of the generated flows: equal digests mean identical traffic.
    pub flows_digest: String,
    /// Unix seconds of the first and last flow.
    pub start_ts: f64,
    pub end_ts: f64,
    /// Flows at or after this time were scored but not trained on.
    pub training_end_ts: f64,
    /// Seconds of traffic the evaluated rows cover (the base of false positives per hour).
    pub evaluated_duration_s: f64,
    /// Where the flows came from and how the training rows were chosen.
    pub source: TrafficSource,
    /// The training check in plain words: detections inside the training part, a dominant
    /// source, too few flows (empty when nothing is wrong).
    #[serde(default)]
    pub training_warnings: Vec<String>,
    /// Training flows left out of training because a behavioural detection covers them.
    #[serde(default)]
    pub held_out_flows: u64,
    /// Flows labelled neither benign nor attack ("Background", "Unknown"): left out of the
    /// metrics, counted here.
    #[serde(default)]
    pub unknown_label_flows: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    Generated,
    Imported,
}

crate::util::serde_names::serde_by_name!(SourceKind, "a traffic source kind");

impl SourceKind {
    pub const ALL: [SourceKind; 2] = [SourceKind::Generated, SourceKind::Imported];

    /// The name serde writes.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Generated => "generated",
            SourceKind::Imported => "imported",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrafficSource {
    pub kind: SourceKind,
    /// True when the traffic carries ground truth (always for generated traffic).
    pub labelled: bool,
    /// How the training rows were chosen, in words.
    pub training: String,
    /// The imported file that was scored.
    pub import: Option<ImportSummary>,
    /// The known-good file the models were trained on, when one was given.
    pub baseline: Option<ImportSummary>,
}

impl TrafficSource {
    /// The scored file has no addresses: its flows carry the importer's stand-ins.
    pub fn placeholder_addresses(&self) -> bool {
        self.import
            .as_ref()
            .is_some_and(|i| i.synthesized_addresses)
    }
}

/// What an import read, kept, skipped and warned about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportSummary {
    pub file_name: String,
    pub format: String,
    pub bytes_read: u64,
    pub flows: u64,
    pub skipped_count: u64,
    /// The first skipped records, each "line 12: expected 20 fields, found 3".
    pub skipped: Vec<String>,
    pub warnings: Vec<String>,
    /// The file has no IP addresses: the flows carry documentation-range stand-ins
    /// (192.0.2.1 -> 198.51.100.1) that name no host, so nothing is blocked or exported
    /// with them.
    #[serde(default)]
    pub synthesized_addresses: bool,
    /// The file has no timestamps: flows are one second apart in file order.
    #[serde(default)]
    pub synthesized_timestamps: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThresholdInfo {
    /// "training_quantile" (contamination), "training_fpr" (target false-positive rate on the
    /// training rows) or "fixed_score" (the ensemble's score fixed; the single models flag the
    /// same share of training rows as the ensemble does).
    pub method: String,
    pub mode: ThresholdMode,
    pub contamination: f64,
    /// The target share of training rows above the threshold, under `mode == target_fpr`.
    pub target_fpr: Option<f64>,
    /// The fixed ensemble threshold, under `mode == score`.
    pub fixed_score: Option<f64>,
    /// Share of training rows the ensemble flags at its threshold: the false-positive rate to
    /// expect on normal traffic.
    pub training_flag_rate: f64,
    pub isolation_forest: f64,
    pub mlp: f64,
    pub ensemble: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelMetrics {
    pub isolation_forest: Metrics,
    pub mlp: Metrics,
    pub ensemble: Metrics,
    /// The behavioural detectors alone (a flow is flagged when a detection covers it);
    /// `None` when the detectors are off.
    #[serde(default)]
    pub detectors: Option<Metrics>,
    /// Detectors and models combined: what the incidents show (flagged by either).
    #[serde(default)]
    pub combined: Option<Metrics>,
    /// The listed incidents against the labels; `None` for unlabelled traffic.
    #[serde(default)]
    pub incidents: Option<IncidentTruth>,
}

impl IncidentTruth {
    /// "Against the labels, 5 incidents are listed and 2 of them hold no attack flow (6.7 per
    /// hour per 100 hosts); 3 of the 3 injected attacks are in a listed incident."
    pub fn sentence(&self) -> String {
        let per = self
            .false_per_hour_per_100_hosts
            .map(|v| format!(" ({v:.1} per hour per 100 hosts)"))
            .unwrap_or_default();
        let attacks = if self.attacks > 0 {
            format!(
                "; {} of the {} injected attacks {} in a listed incident",
                self.attacks_held,
                self.attacks,
                if self.attacks_held == 1 { "is" } else { "are" }
            )
        } else {
            String::new()
        };
        format!(
            "Against the labels, {} incident{} {} listed and {} of them {} no attack flow{per}{attacks}.",
            self.listed,
            if self.listed == 1 { "" } else { "s" },
            if self.listed == 1 { "is" } else { "are" },
            self.false_incidents,
            if self.false_incidents == 1 { "holds" } else { "hold" },
        )
    }
}

/// What an analyst reading the incident list would meet, against the ground truth.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct IncidentTruth {
    pub listed: u64,
    /// Listed incidents holding no attack flow.
    pub false_incidents: u64,
    /// False incidents per hour of evaluated traffic per 100 monitored hosts
    /// (`incident_budget.monitored_hosts`); `None` without evaluated time.
    pub false_per_hour_per_100_hosts: Option<f64>,
    /// Injected attacks (generated traffic) at least one listed incident holds a flow of.
    pub attacks_held: u64,
    pub attacks: u64,
}

/// One model's quality against the ground truth, on the evaluated rows. Areas are `null` when
/// the evaluated rows lack one of the classes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    pub roc_auc: Option<f64>,
    /// Average precision (sklearn's step-wise area under the precision–recall curve).
    pub pr_auc: Option<f64>,
    pub precision: Option<f64>,
    pub recall: Option<f64>,
    pub f1: Option<f64>,
    pub false_positive_rate: Option<f64>,
    pub confusion: Confusion,
    /// Share of each attack class's flows flagged at the threshold, by the attack kind
    /// (generated traffic) or the label text (imported traffic).
    pub recall_by_kind: BTreeMap<String, f64>,
    /// The ROC curve, thinned to at most a few hundred points.
    pub roc_curve: Vec<RocPoint>,
    /// The precision–recall curve, thinned likewise; empty without attack flows.
    pub pr_curve: Vec<PrPoint>,
    /// False positives per hour of evaluated traffic at the threshold.
    pub false_positives_per_hour: Option<f64>,
    /// Time to first detection of each injected attack.
    pub detection_delays: Vec<DetectionDelay>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingSummary {
    pub loss_curve: Vec<f64>,
    pub validation_scores: Vec<f64>,
    pub n_iter: usize,
    pub converged: bool,
    pub training_rows: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    /// 2^(−E[h(x)]/c(ψ)), i.e. minus sklearn's `score_samples`: near 1 is anomalous.
    pub isolation_forest: f64,
    /// Mean squared reconstruction error of the standardised features.
    pub mlp: f64,
    /// Weighted sum of both scores, each as robust z-score against the training scores.
    pub ensemble: f64,
}

/// Why a flow was flagged: a feature the autoencoder reconstructed worst, with its value and
/// the training median.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureContribution {
    pub feature: String,
    pub description: String,
    pub value: f64,
    pub typical: f64,
    /// Share of this flow's reconstruction error due to this feature.
    pub share: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Anomaly {
    /// Row of the flow in the run (time order).
    pub index: u64,
    pub ts: f64,
    pub src_ip: IpAddr,
    pub src_port: u16,
    pub dst_ip: IpAddr,
    pub dst_port: u16,
    pub proto: Proto,
    pub service: Service,
    pub duration_s: f64,
    pub bytes_out: u64,
    pub bytes_in: u64,
    pub pkts_out: u64,
    pub pkts_in: u64,
    pub conn_state: ConnState,
    /// Zeek's `history` letters (`-` when unknown).
    pub history: ConnHistory,
    pub scores: Scores,
    /// Ground truth: "benign" or the attack kind.
    pub label: String,
    /// Ground truth: the injected attack this flow belongs to (`injected_attacks[].id`).
    pub incident_id: Option<u32>,
    /// The detected incident (`incidents[].id`) this anomaly was grouped into.
    pub detected_incident: Option<u32>,
    /// The autoencoder's explanation: the features it reconstructed worst.
    pub explanation: Vec<FeatureContribution>,
    /// The Isolation Forest's attribution, when available.
    pub isolation_forest_explanation: Option<Vec<FeatureContribution>>,
}

impl FeatureContribution {
    /// "distinct destination ports from the source in the last minute: 412 (typical 3)"
    pub fn sentence(&self) -> String {
        format!(
            "{}: {} (typical {})",
            self.description,
            format_value(self.value),
            format_value(self.typical)
        )
    }
}

impl Report {
    /// The report as the page gets it: without the anomaly list (paged on request), with
    /// only the first `incidents` incidents and their response suggestions (thousands of
    /// incidents would be megabytes of JSON to parse on the page thread; `incident_count`
    /// keeps the total), and without the incidents' flow rows (a detected flood lists every
    /// flow of it, hundreds of thousands of numbers the page never shows; `flow_count` keeps
    /// the count and the downloads carry the rows).
    pub fn page_copy(&self, incidents: usize) -> Report {
        let listed: Vec<DetectedIncident> = self.incidents[..self.incidents.len().min(incidents)]
            .iter()
            .map(|i| DetectedIncident {
                flows: Vec::new(),
                ..i.clone()
            })
            .collect();
        let listed = &listed[..];
        // `extend`, not `collect`, which would sort first (see `index_sort`).
        let mut shown = std::collections::BTreeSet::new();
        shown.extend(listed.iter().map(|i| i.id));
        Report {
            anomalies: Vec::new(),
            incidents: listed.to_vec(),
            responses: self
                .responses
                .iter()
                .filter(|p| shown.contains(&p.incident_id))
                .cloned()
                .collect(),
            config: self.config.clone(),
            data: self.data.clone(),
            timings_ms: self.timings_ms.clone(),
            threshold: self.threshold.clone(),
            metrics: self.metrics.clone(),
            mlp_training: self.mlp_training.clone(),
            injected_attacks: self.injected_attacks.clone(),
            feedback: self.feedback.clone(),
            schema_version: self.schema_version.clone(),
            app_version: self.app_version.clone(),
            ..*self
        }
    }

    /// The report as downloaded: what `serde_json::to_string_pretty` writes, made from the
    /// compact text (see `json_pretty`).
    pub fn to_json_pretty(&self) -> String {
        match serde_json::to_string(self) {
            Ok(compact) => crate::util::json_pretty::reindent(&compact),
            Err(e) => format!("{{\"error\":\"{e}\"}}"),
        }
    }

    /// The report without its `timings_ms`, for byte-for-byte comparison of runs.
    pub fn without_timings(&self) -> Report {
        Report {
            timings_ms: BTreeMap::new(),
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn incident_truth_sentence() {
        let t = IncidentTruth {
            listed: 5,
            false_incidents: 2,
            false_per_hour_per_100_hosts: Some(6.666),
            attacks_held: 3,
            attacks: 3,
        };
        assert_eq!(
            t.sentence(),
            "Against the labels, 5 incidents are listed and 2 of them hold no attack flow (6.7 \
             per hour per 100 hosts); 3 of the 3 injected attacks are in a listed incident."
        );
        let one = IncidentTruth {
            listed: 1,
            false_incidents: 1,
            false_per_hour_per_100_hosts: None,
            attacks_held: 0,
            attacks: 0,
        };
        assert_eq!(
            one.sentence(),
            "Against the labels, 1 incident is listed and 1 of them holds no attack flow."
        );
    }

    #[test]
    fn explanation_sentence() {
        let c = FeatureContribution {
            feature: "src_distinct_dst_ports_w".into(),
            description: "distinct destination ports from the source in the last minute".into(),
            value: 412.0,
            typical: 3.0,
            share: 0.8,
        };
        assert_eq!(
            c.sentence(),
            "distinct destination ports from the source in the last minute: 412 (typical 3)"
        );
    }
}
