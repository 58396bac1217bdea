//! The page's state: every signal the components read and write, shared through context, and
//! the files chosen for the next run. Plain data and its constructor only; what changes it in
//! answer to the worker is `session`.

use crate::app::anomaly_query::{AnomalyPage, AnomalyQuery};
use crate::app::freshness::RunBasis;
use crate::app::protocol::PageRun;
use crate::app::url_query::ConfigNotice;
use crate::detection::run_config::RunConfig;
use crate::output::report::Anomaly;
use crate::pipeline::{PlotData, Stage};
use crate::traffic::import::{ColumnMapping, Format};
use crate::util::format_value::format_value;
use leptos::prelude::*;
use std::sync::Arc;
use web_sys::File;

/// Where the run is.
#[derive(Debug, Clone, PartialEq)]
pub enum RunState {
    Idle,
    Running,
    Done,
    Cancelled,
    Failed(String),
}

/// The pipeline's `Progress::Checked`, kept for the progress panel.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PreTrainingCheck {
    pub detections: u32,
    pub summaries: Vec<String>,
    pub training_warnings: Vec<String>,
}

/// All the page's state, shared with child components through context.
#[derive(Clone, Copy)]
pub struct AppState {
    pub config: RwSignal<RunConfig>,
    pub notices: RwSignal<Vec<ConfigNotice>>,
    pub run_state: RwSignal<RunState>,
    /// Progress of each stage in [0, 1], in `Stage::ALL` order.
    pub stage_progress: RwSignal<[f64; 6]>,
    pub current_stage: RwSignal<Option<Stage>>,
    /// Training loss per epoch, live while the autoencoder trains.
    pub loss_curve: RwSignal<Vec<f64>>,
    /// What the detectors named and the training check said, once known in a run (before
    /// the models train); cleared when a run starts.
    pub checked: RwSignal<Option<PreTrainingCheck>>,
    /// The finished run without its anomaly list (the worker pages it out on request).
    pub output: RwSignal<Option<Arc<PageRun>>>,
    /// The plot series of the run being finished, until its summary arrives.
    pub(super) pending_plot: StoredValue<Option<PlotData>>,
    pub anomaly_query: RwSignal<AnomalyQuery>,
    pub anomaly_page: RwSignal<Option<AnomalyPage>>,
    /// The last failed page or file request.
    pub request_error: RwSignal<Option<String>>,
    /// The anomaly whose detail panel is open.
    pub selected_anomaly: RwSignal<Option<Anomaly>>,
    /// The user's files for the next run (browser handles, not `Send`, hence local).
    pub(super) import_files: StoredValue<ImportFiles, LocalStorage>,
    pub traffic_file: RwSignal<Option<ChosenFile>>,
    pub baseline_file: RwSignal<Option<ChosenFile>>,
    pub model_file: RwSignal<Option<ChosenFile>>,
    /// False until the task after the results appear: the incident table renders in its own
    /// task, so taking in a run never blocks the page in one long task.
    pub incidents_ready: RwSignal<bool>,
    pub import_format: RwSignal<Option<Format>>,
    pub baseline_format: RwSignal<Option<Format>>,
    /// True while the worker re-evaluates the last run; `reevaluate_again` asks for one more
    /// pass with the form's latest settings when it answers.
    pub(super) reevaluate_busy: RwSignal<bool>,
    pub(super) reevaluate_again: StoredValue<bool>,
    /// What the last run was made from (set when Run is pressed; its threshold and weight
    /// follow each re-evaluation).
    pub(super) run_basis: RwSignal<Option<RunBasis>>,
    /// True when the run under way was started by the user (not on opening the page): only
    /// then do its results take the focus.
    pub(super) run_by_user: StoredValue<bool>,
    /// Why the results no longer show what the form asks for (`None`: they do).
    pub stale: RwSignal<Option<String>>,
    /// Whether the run under way (or last run) reads a file rather than generating traffic.
    pub importing: RwSignal<bool>,
    /// What the traffic file's first bytes look like, and its CSV header and column mapping.
    pub detected_format: RwSignal<Option<Format>>,
    pub csv_header: RwSignal<Vec<String>>,
    pub csv_mapping: RwSignal<Option<ColumnMapping>>,
    /// Mappings the user settled, by header, for the rest of the session.
    pub remembered_mappings: StoredValue<Vec<(Vec<String>, ColumnMapping)>>,
}

impl AppState {
    pub(super) fn new(config: RunConfig, notices: Vec<ConfigNotice>) -> AppState {
        AppState {
            config: RwSignal::new(config),
            notices: RwSignal::new(notices),
            run_state: RwSignal::new(RunState::Idle),
            stage_progress: RwSignal::new([0.0; 6]),
            current_stage: RwSignal::new(None),
            loss_curve: RwSignal::new(Vec::new()),
            checked: RwSignal::new(None),
            output: RwSignal::new(None),
            pending_plot: StoredValue::new(None),
            anomaly_query: RwSignal::new(AnomalyQuery::default()),
            anomaly_page: RwSignal::new(None),
            request_error: RwSignal::new(None),
            selected_anomaly: RwSignal::new(None),
            import_files: StoredValue::new_local(ImportFiles::default()),
            traffic_file: RwSignal::new(None),
            baseline_file: RwSignal::new(None),
            model_file: RwSignal::new(None),
            incidents_ready: RwSignal::new(false),
            import_format: RwSignal::new(None),
            baseline_format: RwSignal::new(None),
            reevaluate_busy: RwSignal::new(false),
            reevaluate_again: StoredValue::new(false),
            run_basis: RwSignal::new(None),
            run_by_user: StoredValue::new(false),
            stale: RwSignal::new(None),
            importing: RwSignal::new(false),
            detected_format: RwSignal::new(None),
            csv_header: RwSignal::new(Vec::new()),
            csv_mapping: RwSignal::new(None),
            remembered_mappings: StoredValue::new(Vec::new()),
        }
    }
}

/// The files chosen for the next run.
#[derive(Clone, Default)]
pub struct ImportFiles {
    pub traffic: Option<File>,
    pub baseline: Option<File>,
    /// A saved detector model to score with instead of training.
    pub model: Option<File>,
}

/// What the page shows about a chosen file.
#[derive(Debug, Clone, PartialEq)]
pub struct ChosenFile {
    pub name: String,
    pub bytes: f64,
}

impl ChosenFile {
    pub(super) fn of(file: &File) -> ChosenFile {
        ChosenFile {
            name: file.name(),
            bytes: file.size(),
        }
    }

    pub(super) fn describe(&self) -> String {
        format!("{} ({} bytes)", self.name, format_value(self.bytes))
    }
}
