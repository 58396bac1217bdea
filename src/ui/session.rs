//! The page's conversation with the compute worker: sending requests, taking in its events
//! (progress, results, pages of anomalies, inspections, re-thresholds) into the state, starting
//! and cancelling runs, and the choice of files a run will read. Components call these; this
//! file calls no component.

use super::browser;
use super::state::{AppState, ChosenFile, PreTrainingCheck, RunState};
use super::worker_client::{self, Incoming};
use crate::app::anomaly_query::{AnomalyQuery, IncidentFilter};
use crate::app::freshness::{self, RunBasis};
use crate::app::protocol::{ImportRequest, PageRun, WorkerEvent, WorkerRequest};
use crate::detection::run_config::ThresholdSpec;
use crate::pipeline::{Progress, Stage};
use crate::traffic::import::{ColumnMapping, FileInspection, Format};
use leptos::prelude::*;
use std::sync::Arc;
use web_sys::File;

impl AppState {
    /// Sends `request` to the worker; its answers come back through `on_incoming`.
    pub fn request(self, request: WorkerRequest) {
        if let Err(message) = worker_client::send(&request, move |i| self.on_incoming(i)) {
            self.request_error.set(Some(message));
        }
    }

    pub(super) fn on_incoming(&self, incoming: Incoming) {
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
            WorkerEvent::Inspected(inspection) => on_inspected(*self, *inspection),
            WorkerEvent::Anomalies(page) => {
                self.request_error.set(None);
                self.anomaly_page.set(Some(page));
            }
            WorkerEvent::RequestFailed(message) => {
                self.reevaluate_busy.set(false);
                self.request_error.set(Some(message));
            }
            WorkerEvent::Rethresholded(report) => {
                if let Some(current) = self.output.get_untracked() {
                    let mut next = (*current).clone();
                    next.report = *report;
                    // A new ensemble weight sends its chart series just before.
                    if let Some(plot) = self.pending_plot.try_update_value(Option::take).flatten() {
                        next.plot = plot;
                    }
                    self.anomaly_page.set(None);
                    self.selected_anomaly.set(None);
                    // Incidents are renumbered: a filter on one of them would now name another.
                    self.anomaly_query.update(|q| {
                        q.offset = 0;
                        if matches!(q.incident, Some(IncidentFilter::Listed(_))) {
                            q.incident = None;
                        }
                    });
                    self.output.set(Some(Arc::new(next)));
                }
                on_reevaluated(*self);
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
            WorkerEvent::Progress(Progress::Checked {
                detections,
                summaries,
                training_warnings,
            }) => {
                self.checked.set(Some(PreTrainingCheck {
                    detections,
                    summaries,
                    training_warnings,
                }));
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
                self.reevaluate_busy.set(false);
                self.reevaluate_again.set_value(false);
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
                                state.incidents_ready.set(true);
                                // Cancel left with the run: the results take the focus (a
                                // user who moved on keeps theirs).
                                if state.run_by_user.get_value() && browser::focus_is_lost() {
                                    browser::focus_id("results-heading");
                                }
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
                refocus_run_button();
            }
        }
    }
}

/// Sets a performance mark (replacing an earlier one of that name) for tests and benchmarks.
pub(super) fn mark(name: &str) {
    if let Some(p) = web_sys::window().and_then(|w| w.performance()) {
        p.clear_marks_with_mark_name(name);
        let _ = p.mark(name);
    }
}

/// Starts a run of the form's settings; `by_user` is false for the run the page starts when
/// it opens (see `app::open_run`).
pub(super) fn start_run(state: AppState, by_user: bool) {
    state.run_by_user.set_value(by_user);
    let config = state.config.get_untracked();
    // (The address bar already shows the form: an effect keeps it so.)
    state.run_basis.set(Some(form_basis(state)));
    state.stale.set(None);
    let files = state.import_files.get_value();
    state.loss_curve.set(Vec::new());
    state.checked.set(None);
    state.stage_progress.set([0.0; 6]);
    state.pending_plot.set_value(None);
    // The last run's results leave in a task of their own: removing a few thousand elements
    // and laying the page out again, on top of this click's work, could block the page for
    // more than 50 ms.
    set_timeout(
        move || {
            if state.run_state.get_untracked() == RunState::Running {
                state.output.set(None);
                state.anomaly_page.set(None);
            }
        },
        std::time::Duration::ZERO,
    );
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
                mapping: mapping_for_run(state),
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
pub(super) fn on_drop(state: AppState, ev: web_sys::DragEvent) {
    ev.prevent_default();
    let file = ev
        .data_transfer()
        .and_then(|dt| dt.files())
        .and_then(|files| files.get(0));
    if file.is_some() && state.run_state.get_untracked() != RunState::Running {
        choose(state, file, false);
    }
}

pub(super) fn cancel_run(state: AppState) {
    worker_client::terminate();
    state.current_stage.set(None);
    state.run_state.set(RunState::Cancelled);
    refocus_run_button();
}

/// After a failed or cancelled run, the Run button (enabled again) takes the focus that
/// Cancel had, so a keyboard user can change a setting or run again from where they are.
fn refocus_run_button() {
    set_timeout(
        || {
            if browser::focus_is_lost() {
                browser::focus_id("run-button");
            }
        },
        std::time::Duration::ZERO,
    );
}

/// Sets the traffic (or baseline) file and its shown name.
pub(super) fn choose(state: AppState, file: Option<File>, baseline: bool) {
    let chosen = file.as_ref().map(ChosenFile::of);
    let kept = file.clone();
    state.import_files.update_value(|f| {
        if baseline {
            f.baseline = kept;
        } else {
            f.traffic = kept;
        }
    });
    if baseline {
        state.baseline_file.set(chosen);
    } else {
        state.traffic_file.set(chosen);
        state.detected_format.set(None);
        state.csv_header.set(Vec::new());
        state.csv_mapping.set(None);
        if let Some(file) = file {
            inspect(state, file);
        }
    }
}

/// Sets (or clears) the saved model the next run scores with.
pub(super) fn choose_model(state: AppState, file: Option<File>) {
    let chosen = file.as_ref().map(ChosenFile::of);
    state.import_files.update_value(|f| f.model = file);
    state.model_file.set(chosen);
}

/// Asks the worker what the file looks like (the page does not parse files); the answer
/// arrives as `WorkerEvent::Inspected` and goes to [`on_inspected`].
fn inspect(state: AppState, file: File) {
    let on_incoming = move |incoming| state.on_incoming(incoming);
    if let Err(message) =
        worker_client::send_with_files(&WorkerRequest::Inspect, &[("traffic", &file)], on_incoming)
    {
        state.request_error.set(Some(message));
    }
}

/// Takes the inspection of the current traffic file: its format, its CSV header and a mapping
/// (the one used for the same header earlier in the session, else the suggested one).
fn on_inspected(state: AppState, inspection: FileInspection) {
    // A newer choice may have replaced this file meanwhile.
    if state
        .traffic_file
        .with_untracked(|f| f.as_ref().map(|f| f.name.clone()))
        != Some(inspection.file_name.clone())
    {
        return;
    }
    let header = inspection.header;
    let mapping = state
        .remembered_mappings
        .with_value(|r| r.iter().find(|(h, _)| *h == header).map(|(_, m)| m.clone()))
        .unwrap_or(inspection.suggested);
    state.detected_format.set(inspection.format);
    state.csv_header.set(header);
    state.csv_mapping.set(Some(mapping));
}

/// The mapping to send with a run: only for a generic CSV.
fn mapping_for_run(state: AppState) -> Option<ColumnMapping> {
    (state
        .import_format
        .get_untracked()
        .or(state.detected_format.get_untracked())
        == Some(Format::GenericCsv))
    .then(|| state.csv_mapping.get_untracked())
    .flatten()
}

/// Moves the form (and with it the URL) to another threshold; [`follow_form`] re-evaluates
/// the last run to match.
pub(super) fn request_threshold(state: AppState, spec: ThresholdSpec) {
    state
        .config
        .update(|c| c.detection.set_threshold_spec(&spec));
}

/// What a run started now would be made from: the form and the chosen files.
fn form_basis(state: AppState) -> RunBasis {
    let name = |f: RwSignal<Option<super::state::ChosenFile>>| {
        f.with(|f| f.as_ref().map(|f| f.name.clone()))
    };
    RunBasis {
        config: state.config.get(),
        traffic_file: name(state.traffic_file),
        baseline_file: name(state.baseline_file),
        model_file: name(state.model_file),
    }
}

/// Keeps the finished run in step with the form (run inside an effect: it tracks the form,
/// the chosen files and the run): a new threshold or ensemble weight re-evaluates the kept
/// scores in the worker at once, one request at a time with the latest wish last; any other
/// change marks the results out of date.
pub(super) fn follow_form(state: AppState) {
    let form = form_basis(state);
    if state.run_state.get() != RunState::Done {
        return;
    }
    let Some(basis) = state.run_basis.get() else {
        return;
    };
    let freshness = freshness::compare(&basis, &form);
    let stale = freshness.stale_message();
    if state.stale.get_untracked() != stale {
        state.stale.set(stale);
    }
    if freshness.needs_reevaluation() {
        // The basis follows at once (untracked: no second pass), so each wish is sent once.
        state.run_basis.update_untracked(|b| {
            if let Some(b) = b {
                let d = &form.config.detection;
                b.config.detection.set_threshold_spec(&d.threshold_spec());
                b.config.detection.forest_weight = d.forest_weight;
                b.config.detection.incident_budget = d.incident_budget;
            }
        });
        if state.reevaluate_busy.get_untracked() {
            state.reevaluate_again.set_value(true);
        } else {
            send_reevaluation(state);
        }
    }
}

fn send_reevaluation(state: AppState) {
    let (threshold, forest_weight, incident_budget) = state.config.with_untracked(|c| {
        (
            c.detection.threshold_spec(),
            c.detection.forest_weight,
            c.detection.incident_budget,
        )
    });
    state.reevaluate_busy.set(true);
    state.request(WorkerRequest::Reevaluate {
        threshold,
        forest_weight,
        incident_budget,
    });
}

/// Called when the worker answers: sends the form's latest wish if one waited.
fn on_reevaluated(state: AppState) {
    if state
        .reevaluate_again
        .try_update_value(std::mem::take)
        .unwrap_or(false)
    {
        send_reevaluation(state);
    } else {
        state.reevaluate_busy.set(false);
    }
}
