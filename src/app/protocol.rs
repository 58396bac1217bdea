//! Messages between the page and the compute worker.
//!
//! Plain serde types so both ends (and native tests) agree on them without importing any
//! browser code. Requests travel as compact binary ([`WorkerRequest::encode`], postcard):
//! decoding them with serde_json cost the compute worker a fifth of its size budget. Events
//! travel as JSON strings, except the two bulky payloads: per-flow plot series go as
//! transferred typed arrays and files as `Blob`s (see `worker` and `ui::worker_client`), so
//! the page thread never parses megabytes.

use crate::app::anomaly_query::{AnomalyPage, AnomalyQuery};
use crate::detection::run_config::{RunConfig, ThresholdSpec};
use crate::findings::feedback::{Pattern, Verdict};
use crate::output::report::Report;
use crate::pipeline::{PlotData, Progress, RunOutput};
use crate::traffic::import::{ColumnMapping, FileInspection, Format};
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
    /// Moves the last run to another threshold, ensemble weight and incident budget without
    /// retraining (`FittedRun::reevaluate`); the new chart series come first when the weight
    /// changed.
    Reevaluate {
        threshold: ThresholdSpec,
        forest_weight: f64,
        incident_budget: f64,
    },
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

/// The build both ends were compiled from (`build.rs`: a hash of the sources), first in every
/// request. postcard is not self-describing: a page left open across a deployment, talking to
/// a worker started after it, would misread a request whose types changed instead of failing.
pub const BUILD_ID: u64 = parse_build_id(env!("APP_BUILD_ID"));

const fn parse_build_id(hex: &str) -> u64 {
    let bytes = hex.as_bytes();
    let mut value = 0u64;
    let mut i = 0;
    while i < bytes.len() {
        let digit = match bytes[i] {
            b'0'..=b'9' => bytes[i] - b'0',
            b'a'..=b'f' => bytes[i] - b'a' + 10,
            _ => panic!("APP_BUILD_ID is not lowercase hex"),
        };
        value = (value << 4) | digit as u64;
        i += 1;
    }
    value
}

/// Why the worker could not read a request.
#[derive(Debug)]
pub enum RequestError {
    /// Fewer bytes than the build id.
    Truncated { bytes: usize },
    /// The page comes from another build of the app.
    OtherBuild { page: u64, worker: u64 },
    /// The body does not decode (postcard's reason).
    Malformed(postcard::Error),
}

impl std::fmt::Display for RequestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RequestError::Truncated { bytes } => {
                write!(f, "a request needs at least 8 bytes, this one has {bytes}")
            }
            RequestError::OtherBuild { page, worker } => write!(
                f,
                "the page (build {page:016x}) and the worker (build {worker:016x}) come from \
                 different versions of the app"
            ),
            RequestError::Malformed(e) => write!(f, "malformed request: {e}"),
        }
    }
}

impl WorkerRequest {
    /// The bytes the page posts: [`BUILD_ID`] (8 bytes, little-endian), then the request.
    /// Every request type serialises (tested), so this cannot fail short of running out of
    /// memory.
    pub fn encode(&self) -> Result<Vec<u8>, postcard::Error> {
        let mut bytes = BUILD_ID.to_le_bytes().to_vec();
        bytes.extend(postcard::to_allocvec(self)?);
        Ok(bytes)
    }

    /// A request from the page's bytes, refused if another build made them; hostile or
    /// truncated bytes give an error, never a panic (fuzzed through [`decode_body`]).
    ///
    /// [`decode_body`]: WorkerRequest::decode_body
    pub fn decode(bytes: &[u8]) -> Result<WorkerRequest, RequestError> {
        let Some((id, body)) = bytes.split_first_chunk::<8>() else {
            return Err(RequestError::Truncated { bytes: bytes.len() });
        };
        let page = u64::from_le_bytes(*id);
        if page != BUILD_ID {
            return Err(RequestError::OtherBuild {
                page,
                worker: BUILD_ID,
            });
        }
        WorkerRequest::decode_body(body).map_err(RequestError::Malformed)
    }

    /// The request after the build id (what the fuzzer feeds, so its inputs stay valid from
    /// one build to the next).
    pub fn decode_body(body: &[u8]) -> Result<WorkerRequest, postcard::Error> {
        postcard::from_bytes(body)
    }
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

    /// What the page keeps: this summary plus the plot series that came as typed arrays.
    pub fn into_page_run(self, mut plot: PlotData) -> PageRun {
        plot.classes = self.plot_classes;
        PageRun {
            report: self.report,
            plot,
            label_names: self.label_names,
        }
    }
}

/// A finished run as the page holds it: the report's page copy, the plot series and the
/// ground-truth class names. Flows and scores stay in the worker (pages of anomalies and files
/// come on request).
#[derive(Debug, Clone, PartialEq)]
pub struct PageRun {
    pub report: Report,
    pub plot: PlotData,
    /// Ground-truth class names (the anomaly filter's choices).
    pub label_names: Vec<String>,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::anomaly_query::{IncidentFilter, SortKey};
    use crate::detection::models::isolation_forest::MaxSamples;
    use crate::detection::models::mlp::{Activation, BatchSize};
    use crate::traffic::flow::{AttackKind, Service};
    use crate::traffic::import::{ColumnMapping, DurationUnit};
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

    /// A configuration far from the defaults, touching every kind of field the binary format
    /// has to carry: enums by name, "auto"-or-number parameters, options, lists, floats.
    fn unusual_config() -> RunConfig {
        let mut c = RunConfig::default();
        c.generator.seed = u64::MAX - 3;
        c.generator.duration_s = 1234.5;
        c.generator.attacks = AttackKind::ALL
            .iter()
            .map(|&k| crate::traffic::generator::AttackSpec::default_for(k, 1234.5))
            .collect();
        c.generator.attacks[0].jitter = Some(0.25);
        c.detection.contamination = 0.0123;
        c.detection.target_fpr = 1e-5;
        c.detection.threshold_score = -0.0;
        c.detection.isolation_forest.max_samples = MaxSamples::Fraction(0.3);
        c.detection.mlp.batch_size = BatchSize::Fixed(64);
        c.detection.mlp.activation = Activation::Tanh;
        c.detection.mlp.hidden_layer_sizes = vec![7, 3, 7];
        c
    }

    fn every_request() -> Vec<WorkerRequest> {
        let mapping = ColumnMapping {
            time: Some(3),
            label: Some(0),
            duration_unit: DurationUnit::Milliseconds,
            ..ColumnMapping::default()
        };
        vec![
            WorkerRequest::Run(Box::default()),
            WorkerRequest::Run(Box::new(unusual_config())),
            WorkerRequest::RunImported(Box::new(ImportRequest {
                config: unusual_config(),
                format: Some(Format::ZeekJson),
                baseline_format: None,
                mapping: Some(mapping),
            })),
            WorkerRequest::Inspect,
            WorkerRequest::Reevaluate {
                threshold: ThresholdSpec::TargetFpr { target_fpr: 0.001 },
                forest_weight: 0.25,
                incident_budget: 3.0,
            },
            WorkerRequest::Reevaluate {
                threshold: ThresholdSpec::Score { score: f64::NAN },
                forest_weight: f64::NAN,
                incident_budget: f64::NAN,
            },
            WorkerRequest::Verdict {
                incident_id: 17,
                verdict: Some(Verdict::ALL[1]),
            },
            WorkerRequest::Verdict {
                incident_id: 0,
                verdict: None,
            },
            WorkerRequest::WithdrawVerdict(Pattern {
                src_ip: Some(IpAddr::V6(Ipv6Addr::LOCALHOST)),
                dst_ip: Some(IpAddr::V4(Ipv4Addr::new(10, 1, 2, 3))),
                service: Service::ALL[3],
            }),
            WorkerRequest::Anomalies(AnomalyQuery {
                sort: SortKey::ALL[2],
                descending: false,
                label: Some("dns_tunnel".into()),
                host: "10.0.".into(),
                min_ensemble: Some(2.5),
                incident: Some(IncidentFilter::Listed(7)),
                offset: 40,
                limit: 20,
            }),
            WorkerRequest::Anomalies(AnomalyQuery {
                incident: Some(IncidentFilter::Unlisted),
                ..AnomalyQuery::default()
            }),
            WorkerRequest::File(FileKind::EcsNdjson),
        ]
    }

    #[test]
    fn every_request_survives_the_binary_format() {
        for request in every_request() {
            let bytes = request.encode().unwrap();
            let back = WorkerRequest::decode(&bytes).unwrap();
            // Debug, not ==: the NaN threshold must come back as NaN.
            assert_eq!(format!("{back:?}"), format!("{request:?}"));
        }
    }

    #[test]
    fn truncated_or_garbled_requests_are_errors() {
        for request in every_request() {
            let bytes = request.encode().unwrap();
            for cut in 0..bytes.len() {
                let _ = WorkerRequest::decode(&bytes[..cut]);
            }
            assert!(WorkerRequest::decode(&bytes[..bytes.len() / 2]).is_err());
        }
        assert!(WorkerRequest::decode(&[250, 255, 255, 255, 15]).is_err());
    }

    #[test]
    fn the_page_run_is_the_summary_plus_the_plot() {
        let (config, _) = RunConfig::from_query("duration=900&hosts=20");
        let out = crate::pipeline::run(&config, &|| 0.0, &mut |_| true).unwrap();
        // The summary travels as JSON; the plot's series as typed arrays, without legend names.
        let json = serde_json::to_string(&RunSummary::of(&out)).unwrap();
        let summary: RunSummary = serde_json::from_str(&json).unwrap();
        let plot = PlotData {
            classes: Vec::new(),
            ..out.plot.clone()
        };
        let page = summary.into_page_run(plot);
        assert_eq!(page.plot, out.plot);
        assert_eq!(page.label_names, out.scored.ground_truth.names);
        assert_eq!(page.report, out.report.page_copy(INCIDENTS_SHOWN));
        assert!(page.report.anomalies.is_empty() && !out.report.anomalies.is_empty());
    }

    #[test]
    fn a_request_from_another_build_is_refused_by_name() {
        let request = WorkerRequest::File(FileKind::Report);
        let mut bytes = request.encode().unwrap();
        assert_eq!(bytes[..8], BUILD_ID.to_le_bytes());
        assert_eq!(WorkerRequest::decode_body(&bytes[8..]).unwrap(), request);
        bytes[0] ^= 1;
        let err = WorkerRequest::decode(&bytes).unwrap_err();
        assert!(matches!(err, RequestError::OtherBuild { .. }), "{err:?}");
        assert!(
            err.to_string().contains("different versions of the app"),
            "{err}"
        );
        assert!(matches!(
            WorkerRequest::decode(&bytes[..5]),
            Err(RequestError::Truncated { bytes: 5 })
        ));
    }
}
