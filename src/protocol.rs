//! Messages between the page and the compute worker.
//!
//! Plain serde types so both ends (and native tests) agree on them without importing any
//! browser code. They travel as JSON strings; the two bulky payloads do not: per-flow plot
//! series go as transferred typed arrays and files as `Blob`s (see `worker` and
//! `ui::worker_client`), so the page thread never parses megabytes.

use crate::anomaly_query::{AnomalyPage, AnomalyQuery};
use crate::detection::{PlotData, Progress, RunOutput, ScoredRun};
use crate::feedback::{Pattern, Verdict};
use crate::ground_truth::GroundTruth;
use crate::import::{ColumnMapping, FileInspection, Format};
use crate::report::Report;
use crate::run_config::{RunConfig, ThresholdSpec};
use serde::{Deserialize, Serialize};

/// Incidents the page lists (the most severe; the report keeps them all). The worker sends
/// the page response suggestions for these only.
pub const INCIDENTS_SHOWN: usize = 100;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum WorkerRequest {
    /// Generates traffic and runs the pipeline; with a saved model attached (`model`, a
    /// browser `File`), scores the traffic with it instead of training.
    Run(Box<RunConfig>),
    /// Imports the files sent beside this request (`traffic`, optionally `baseline` or
    /// `model`: browser `File`s, which the worker reads itself) and runs the pipeline on them.
    RunImported(Box<ImportRequest>),
    /// Looks at the first bytes of the attached `traffic` file: format, CSV header, mapping.
    Inspect,
    /// Moves the last run to another threshold without retraining.
    Rethreshold(ThresholdSpec),
    /// An analyst's verdict on an incident of the last run (`None` withdraws it).
    Verdict {
        incident_id: u32,
        verdict: Option<Verdict>,
    },
    /// Withdraws the verdict on a pattern (an undone false positive has no incident any more).
    WithdrawVerdict(Pattern),
    /// A page of the last run's anomalies.
    Anomalies(AnomalyQuery),
    /// A file made from the last run, answered with a `Blob`.
    File(FileKind),
}

/// A run on the user's own files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportRequest {
    pub config: RunConfig,
    /// `None`: detect the format from the content.
    pub format: Option<Format>,
    pub baseline_format: Option<Format>,
    /// The user's column mapping for a generic CSV traffic file (`None`: suggested from the
    /// header).
    #[serde(default)]
    pub mapping: Option<ColumnMapping>,
}

/// The downloads the worker can produce from the last run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    Report,
    /// Suricata EVE JSON lines, one alert per incident.
    EveJson,
    /// Elastic Common Schema NDJSON, one alert per incident.
    EcsNdjson,
    /// The run's flows as CSV with their labels.
    FlowsCsv,
    /// The run's flows as a Zeek conn.log (TSV with `#fields` header and a label column).
    ZeekConnLog,
    /// The run's detector (preprocessing, both models, calibration) to apply to other traffic.
    Model,
}

impl FileKind {
    pub fn mime(self) -> &'static str {
        match self {
            FileKind::Report | FileKind::Model => "application/json",
            FileKind::EveJson | FileKind::EcsNdjson => "application/x-ndjson",
            FileKind::FlowsCsv => "text/csv",
            FileKind::ZeekConnLog => "text/plain",
        }
    }

    /// The suggested file name for a run with `seed`.
    pub fn file_name(self, seed: u64) -> String {
        match self {
            FileKind::Report => format!("anomaly-report-seed{seed}.json"),
            FileKind::EveJson => format!("anomaly-alerts-seed{seed}.eve.json"),
            FileKind::EcsNdjson => format!("anomaly-alerts-seed{seed}.ecs.ndjson"),
            FileKind::FlowsCsv => format!("traffic-seed{seed}.csv"),
            FileKind::ZeekConnLog => format!("traffic-seed{seed}.conn.log"),
            FileKind::Model => format!("anomaly-model-seed{seed}.json"),
        }
    }
}

/// What the page receives of a finished run. Its own type, not a thinned `RunOutput`, so the
/// page's wasm carries no decoder for flows, scores or ground truth it never receives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    /// The report's page copy (`Report::page_copy`): no anomaly list, the first incidents.
    pub report: Report,
    /// Legend names of the plot's label codes 1, 2, ...
    pub plot_classes: Vec<String>,
    /// Ground-truth class names (the anomaly filter's choices).
    pub label_names: Vec<String>,
}

impl RunSummary {
    pub fn of(out: &RunOutput) -> RunSummary {
        RunSummary {
            report: out.report.page_copy(INCIDENTS_SHOWN),
            plot_classes: out.plot.classes.clone(),
            label_names: out.scored.ground_truth.names.clone(),
        }
    }

    /// The page's `RunOutput`: this summary plus the plot series that came as typed arrays.
    pub fn into_output(self, mut plot: PlotData) -> RunOutput {
        plot.classes = self.plot_classes;
        RunOutput {
            report: self.report,
            plot,
            scored: ScoredRun {
                ground_truth: GroundTruth {
                    names: self.label_names,
                    ..GroundTruth::default()
                },
                ..ScoredRun::default()
            },
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum WorkerEvent {
    /// The worker has loaded and listens; requests sent earlier are held by the page.
    Ready,
    Progress(Progress),
    /// The run's outcome without the bulk (pages of anomalies come on request; the plot's
    /// series arrive just before, as typed arrays).
    Finished(Box<RunSummary>),
    /// What a chosen file looks like (answer to `Inspect`).
    Inspected(Box<FileInspection>),
    /// The last run at a new threshold, without its anomaly list (pages come on request).
    Rethresholded(Box<Report>),
    Anomalies(AnomalyPage),
    Failed(String),
    /// A file or page request failed; the run itself stands.
    RequestFailed(String),
}
