//! The page: a leptos component tree that configures a run, sends it to the compute worker,
//! shows progress, draws the charts and offers the report for download.
//!
//! Components only read and write signals and call the core; all computing happens in the
//! worker (`crate::worker`), all chart reductions in `crate::app::chart_data`.

mod anomaly_detail;
mod browser;
mod charts;
mod config_panel;
mod import_panel;
mod progress;
mod results;
mod threshold;
mod worker_client;

use crate::app::anomaly_query::{AnomalyPage, AnomalyQuery};
use crate::app::protocol::{ImportRequest, PageRun, WorkerEvent, WorkerRequest};
use crate::app::url_query::ConfigNotice;
use crate::detection::run_config::{RunConfig, ThresholdSpec};
use crate::output::report::Anomaly;
use crate::pipeline::{PlotData, Progress, Stage};
use crate::traffic::import::{ColumnMapping, Format};
use anomaly_detail::AnomalyDetail;
use import_panel::{ChosenFile, ImportFiles, ImportPanel};
use leptos::prelude::*;
use std::sync::Arc;
use threshold::ThresholdControl;
use worker_client::Incoming;

pub use charts::{draw_chart, ChartKind};
pub use config_panel::ConfigPanel;
pub use progress::ProgressPanel;
pub use results::{AnomalyTable, IncidentList, MetricsSummary};

/// Where the run is.
#[derive(Debug, Clone, PartialEq)]
pub enum RunState {
    Idle,
    Running,
    Done,
    Cancelled,
    Failed(String),
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
    /// The finished run without its anomaly list (the worker pages it out on request).
    pub output: RwSignal<Option<Arc<PageRun>>>,
    /// The plot series of the run being finished, until its summary arrives.
    pending_plot: StoredValue<Option<PlotData>>,
    pub anomaly_query: RwSignal<AnomalyQuery>,
    pub anomaly_page: RwSignal<Option<AnomalyPage>>,
    /// The last failed page or file request.
    pub request_error: RwSignal<Option<String>>,
    /// The anomaly whose detail panel is open.
    pub selected_anomaly: RwSignal<Option<Anomaly>>,
    /// The user's files for the next run (browser handles, not `Send`, hence local).
    import_files: StoredValue<ImportFiles, LocalStorage>,
    pub traffic_file: RwSignal<Option<ChosenFile>>,
    pub baseline_file: RwSignal<Option<ChosenFile>>,
    pub model_file: RwSignal<Option<ChosenFile>>,
    /// False until the task after the results appear: the incident table renders in its own
    /// task, so taking in a run never blocks the page in one long task.
    pub incidents_ready: RwSignal<bool>,
    pub import_format: RwSignal<Option<Format>>,
    pub baseline_format: RwSignal<Option<Format>>,
    /// True while the worker re-thresholds; the next wish waits in `rethreshold_next`.
    rethreshold_busy: RwSignal<bool>,
    rethreshold_next: StoredValue<Option<ThresholdSpec>>,
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
    fn new(config: RunConfig, notices: Vec<ConfigNotice>) -> AppState {
        AppState {
            config: RwSignal::new(config),
            notices: RwSignal::new(notices),
            run_state: RwSignal::new(RunState::Idle),
            stage_progress: RwSignal::new([0.0; 6]),
            current_stage: RwSignal::new(None),
            loss_curve: RwSignal::new(Vec::new()),
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
            rethreshold_busy: RwSignal::new(false),
            rethreshold_next: StoredValue::new(None),
            importing: RwSignal::new(false),
            detected_format: RwSignal::new(None),
            csv_header: RwSignal::new(Vec::new()),
            csv_mapping: RwSignal::new(None),
            remembered_mappings: StoredValue::new(Vec::new()),
        }
    }

    /// Sends `request` to the worker; its answers come back through `on_incoming`.
    pub fn request(self, request: WorkerRequest) {
        if let Err(message) = worker_client::send(&request, move |i| self.on_incoming(i)) {
            self.request_error.set(Some(message));
        }
    }

    fn on_incoming(&self, incoming: Incoming) {
        match incoming {
            Incoming::Event(event) => self.on_event(event),
            Incoming::Plot(plot) => self.pending_plot.set_value(Some(plot)),
            Incoming::File { name, blob } => {
                let result = browser::download_blob(&name, &blob);
                self.request_error.set(result.err());
            }
        }
    }

    fn on_event(&self, event: WorkerEvent) {
        match event {
            WorkerEvent::Ready => {}
            WorkerEvent::Inspected(inspection) => import_panel::on_inspected(*self, *inspection),
            WorkerEvent::Anomalies(page) => {
                self.request_error.set(None);
                self.anomaly_page.set(Some(page));
            }
            WorkerEvent::RequestFailed(message) => {
                self.rethreshold_busy.set(false);
                self.request_error.set(Some(message));
            }
            WorkerEvent::Rethresholded(report) => {
                if let Some(current) = self.output.get_untracked() {
                    let mut next = (*current).clone();
                    next.report = *report;
                    self.anomaly_page.set(None);
                    self.selected_anomaly.set(None);
                    self.anomaly_query.update(|q| q.offset = 0);
                    self.output.set(Some(Arc::new(next)));
                }
                threshold::on_rethresholded(*self);
            }
            _ if self.run_state.get_untracked() != RunState::Running => {
                // A late event from a cancelled run.
            }
            WorkerEvent::Progress(Progress::Stage { stage, fraction }) => {
                let i = Stage::ALL.iter().position(|&s| s == stage).unwrap_or(0);
                self.stage_progress.update(|p| {
                    for (j, v) in p.iter_mut().enumerate() {
                        if j < i {
                            *v = 1.0;
                        }
                    }
                    p[i] = fraction.clamp(0.0, 1.0);
                });
                if self.current_stage.get_untracked() != Some(stage) {
                    self.current_stage.set(Some(stage));
                }
            }
            WorkerEvent::Progress(Progress::Epoch(e)) => {
                self.loss_curve.update(|c| c.push(e.loss));
            }
            WorkerEvent::Finished(summary) => {
                // Lets the e2e tests tell tasks while working from drawing the results.
                mark("run-done");
                let plot = self
                    .pending_plot
                    .try_update_value(Option::take)
                    .flatten()
                    .unwrap_or_default();
                let out = summary.into_page_run(plot);
                self.selected_anomaly.set(None);
                self.rethreshold_busy.set(false);
                self.stage_progress.set([1.0; 6]);
                self.current_stage.set(None);
                self.anomaly_page.set(None);
                self.anomaly_query.set(AnomalyQuery::default());
                self.incidents_ready.set(false);
                // Decoding the summary (this task), rendering the results and rendering the
                // incident table each get their own task: together they could block the page
                // for more than 50 ms on a busy machine.
                let state = *self;
                let out: Arc<PageRun> = Arc::from(out);
                set_timeout(
                    move || {
                        state.output.set(Some(out));
                        state.run_state.set(RunState::Done);
                        set_timeout(
                            move || {
                                // The results are on screen: issue #6's first-result budget
                                // is measured to this mark (scripts/bench).
                                mark("results-shown");
                                state.incidents_ready.set(true)
                            },
                            std::time::Duration::ZERO,
                        );
                    },
                    std::time::Duration::ZERO,
                );
            }
            WorkerEvent::Failed(message) => {
                self.current_stage.set(None);
                self.run_state.set(RunState::Failed(message));
            }
        }
    }
}

/// Sets a performance mark (replacing an earlier one of that name) for tests and benchmarks.
fn mark(name: &str) {
    if let Some(p) = web_sys::window().and_then(|w| w.performance()) {
        p.clear_marks_with_mark_name(name);
        let _ = p.mark(name);
    }
}

fn start_run(state: AppState) {
    let config = state.config.get_untracked();
    browser::replace_query(&config.to_query());
    let files = state.import_files.get_value();
    state.loss_curve.set(Vec::new());
    state.stage_progress.set([0.0; 6]);
    state.output.set(None);
    state.anomaly_page.set(None);
    state.pending_plot.set_value(None);
    state.current_stage.set(None);
    state.run_state.set(RunState::Running);
    let on_incoming = move |incoming| state.on_incoming(incoming);
    let sent = match files.traffic {
        Some(traffic) => {
            state.importing.set(true);
            let request = WorkerRequest::RunImported(Box::new(ImportRequest {
                config,
                format: state.import_format.get_untracked(),
                baseline_format: state.baseline_format.get_untracked(),
                mapping: import_panel::mapping_for_run(state),
            }));
            let mut attached = vec![("traffic", &traffic)];
            if let Some(baseline) = files.baseline.as_ref() {
                attached.push(("baseline", baseline));
            }
            if let Some(model) = files.model.as_ref() {
                attached.push(("model", model));
            }
            worker_client::send_with_files(&request, &attached, on_incoming)
        }
        None => {
            state.importing.set(false);
            let request = WorkerRequest::Run(Box::new(config));
            match files.model.as_ref() {
                Some(model) => {
                    worker_client::send_with_files(&request, &[("model", model)], on_incoming)
                }
                None => worker_client::send(&request, on_incoming),
            }
        }
    };
    if let Err(message) = sent {
        state.run_state.set(RunState::Failed(message));
    }
}

/// A file dropped anywhere on the page becomes the traffic to analyse.
fn on_drop(state: AppState, ev: web_sys::DragEvent) {
    ev.prevent_default();
    let file = ev
        .data_transfer()
        .and_then(|dt| dt.files())
        .and_then(|files| files.get(0));
    if file.is_some() && state.run_state.get_untracked() != RunState::Running {
        import_panel::choose(state, file, false);
    }
}

fn cancel_run(state: AppState) {
    worker_client::terminate();
    state.current_stage.set(None);
    state.run_state.set(RunState::Cancelled);
}

#[component]
pub fn App() -> impl IntoView {
    browser::register_service_worker();
    let (config, notices) = RunConfig::from_query(&browser::query_string());
    let state = AppState::new(config, notices);
    provide_context(state);
    let running = move || state.run_state.get() == RunState::Running;
    // Start the worker now: its wasm loads and compiles while the user reads the page.
    let _ = worker_client::start(move |incoming| state.on_incoming(incoming));
    // The table's page follows its query (and each new run).
    Effect::new(move |_| {
        let query = state.anomaly_query.get();
        if state.output.with(Option::is_some) {
            state.request(WorkerRequest::Anomalies(query));
        }
    });

    view! {
        <header class="app-header">
            <h1>"Network anomaly detector"</h1>
            <p class="tagline">
                "Synthetic traffic, an Isolation Forest and an autoencoder, all running in this tab. Nothing leaves your machine."
            </p>
        </header>
        <main class="layout"
            on:dragover=move |ev: web_sys::DragEvent| ev.prevent_default()
            on:drop=move |ev: web_sys::DragEvent| on_drop(state, ev)>
            <section class="panel config" aria-labelledby="config-heading">
                <h2 id="config-heading">"Configuration"</h2>
                <Notices/>
                <ImportPanel/>
                <ConfigPanel/>
                <div class="actions">
                    <button
                        class="primary"
                        on:click=move |_| start_run(state)
                        disabled=running
                    >
                        {move || if state.traffic_file.with(Option::is_some) { "Run detection on the file" } else { "Run detection" }}
                    </button>
                    <Show when=running>
                        <button class="secondary" on:click=move |_| cancel_run(state)>
                            "Cancel"
                        </button>
                    </Show>
                </div>
            </section>
            <section class="panel results" aria-labelledby="results-heading">
                <h2 id="results-heading">"Results"</h2>
                <ProgressPanel/>
                <MetricsSummary/>
                <ThresholdControl/>
                <div class="charts">
                    <Chart kind=ChartKind::ScoreOverTime label="Ensemble anomaly score over time, with threshold and attack periods"/>
                    <Chart kind=ChartKind::Histogram label="Score histogram, benign versus attack flows"/>
                    <Chart kind=ChartKind::Roc label="ROC curves of both models and the ensemble"/>
                    <Chart kind=ChartKind::Loss label="Autoencoder training loss per epoch"/>
                    <Chart kind=ChartKind::Scatter label="Isolation Forest score versus autoencoder error, every flow, coloured by ground truth"/>
                </div>
                <IncidentList/>
                <AnomalyTable/>
                <AnomalyDetail/>
            </section>
        </main>
        <footer class="app-footer">
            <span>{format!("anomaly-detector v{}", crate::APP_VERSION)}</span>
            <span>" · runs offline · reports are JSON (schema in the README)"</span>
        </footer>
    }
}

/// What the URL asked for that was adjusted.
#[component]
fn Notices() -> impl IntoView {
    let state = expect_context::<AppState>();
    view! {
        <Show when=move || !state.notices.with(Vec::is_empty)>
            <div class="notices" role="alert">
                <p>"Some settings were adjusted:"</p>
                <ul>
                    {move || {
                        state
                            .notices
                            .get()
                            .into_iter()
                            .map(|n| view! { <li><code>{n.key.clone()}</code>": "{n.message.clone()}</li> })
                            .collect_view()
                    }}
                </ul>
                <button class="link" on:click=move |_| state.notices.set(Vec::new())>"Dismiss"</button>
            </div>
        </Show>
    }
}

/// A canvas redrawn whenever the run output (or, for the loss chart, the live curve) changes.
/// The live loss curve grows every epoch; its redraws are coalesced to one per
/// `LIVE_REDRAW_MS`, so drawing does not compete with the worker for the CPU.
#[component]
fn Chart(kind: ChartKind, label: &'static str) -> impl IntoView {
    const LIVE_REDRAW_MS: u64 = 150;
    let state = expect_context::<AppState>();
    let canvas = NodeRef::<leptos::html::Canvas>::new();
    let pending = StoredValue::new(false);
    Effect::new(move |_| {
        let output = state.output.get();
        let live = kind == ChartKind::Loss && output.is_none();
        if kind == ChartKind::Loss {
            state.loss_curve.track();
        }
        let Some(el) = canvas.get() else {
            return;
        };
        if live {
            if pending.get_value() {
                return;
            }
            pending.set_value(true);
            set_timeout(
                move || {
                    pending.set_value(false);
                    // The run may have finished meanwhile: then its final curve wins.
                    let loss = state.loss_curve.get_untracked();
                    let output = state.output.get_untracked();
                    draw_chart(&el, kind, output.as_deref(), &loss);
                },
                std::time::Duration::from_millis(LIVE_REDRAW_MS),
            );
        } else {
            // Each chart draws in its own task, so the page never blocks for all of them at once.
            set_timeout(
                move || draw_chart(&el, kind, output.as_deref(), &[]),
                std::time::Duration::ZERO,
            );
        }
    });
    view! {
        <figure class="chart">
            <canvas node_ref=canvas class="chart-canvas" role="img" aria-label=label data-chart=kind.id()></canvas>
            <figcaption>{label}</figcaption>
        </figure>
    }
}
