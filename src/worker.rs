//! The compute workers' side of the page/worker channel: runs the detection pipeline off the
//! main thread, streams progress, keeps the last run, and answers page and file requests.
//!
//! Two builds share this code: the demo worker (`register_demo`), which the page loads at once
//! and which runs generated traffic, and the files worker (`register_files`), started only
//! when the user brings a file (traffic, baseline or saved model), which can also import and
//! read model files. Keeping importers and model reading out of the first keeps it within
//! issue #6's size budget; each holds its own last run.
//!
//! Messages are the core's `protocol` types: requests in their binary form
//! (`WorkerRequest::decode`), events as JSON strings (serde_json with `float_roundtrip` keeps
//! every f64 exact), except the bulk: per-flow plot series go as transferred typed arrays
//! and files as `Blob`s. The worker announces `Ready` once its handler is installed, because
//! messages posted before that would be lost while the wasm loads. Cancelling (in
//! `ui::worker_client`) terminates this worker outright, so there are no cancellation points here.

use crate::app::anomaly_query;
use crate::app::protocol::{
    FileKind, ImportRequest, RunSummary, WorkerEvent, WorkerRequest, INCIDENTS_SHOWN,
};
use crate::detection::detector_model::{DetectorModel, MAX_MODEL_FILE_BYTES};
use crate::output::report::SourceKind;
use crate::output::siem;
use crate::pipeline::dataset::ImportInput;
use crate::pipeline::{self, DetectionError, FittedRun, PlotData, Progress, Stage};
use crate::traffic::export;
use crate::traffic::import::{
    self, ColumnMapping, Format, ImportError, ImportLimits, ImportedTraffic,
};
use std::cell::RefCell;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{
    Blob, BlobPropertyBag, DedicatedWorkerGlobalScope, File, FileReaderSync, MessageEvent,
};

thread_local! {
    static LAST_RUN: RefCell<Option<FittedRun>> = const { RefCell::new(None) };
}

/// Bytes read from a `File` per step: small enough for frequent progress, large enough that
/// the per-call overhead does not matter.
const READ_CHUNK_BYTES: f64 = 8.0 * 1024.0 * 1024.0;

/// Bytes read to inspect a chosen file (format detection and a CSV header).
const INSPECT_BYTES: f64 = 64.0 * 1024.0;

fn post(scope: &DedicatedWorkerGlobalScope, event: &WorkerEvent) {
    let text = match serde_json::to_string(event) {
        Ok(text) => text,
        // Unreachable for the protocol's types (tested natively); never panic across the boundary.
        Err(e) => format!("{{\"Failed\":\"encode: {e}\"}}"),
    };
    let _ = scope.post_message(&JsValue::from_str(&text));
}

fn set(object: &js_sys::Object, key: &str, value: &JsValue) {
    let _ = js_sys::Reflect::set(object, &JsValue::from_str(key), value);
}

/// `{kind: "plot", t_s: Float32Array, ..., label: Uint8Array, training: Uint8Array}`, with
/// every buffer transferred rather than copied.
fn post_plot(scope: &DedicatedWorkerGlobalScope, plot: &PlotData) {
    let object = js_sys::Object::new();
    let transfer = js_sys::Array::new();
    set(&object, "kind", &JsValue::from_str("plot"));
    for (key, values) in [
        ("t_s", &plot.t_s),
        ("isolation_forest", &plot.isolation_forest),
        ("mlp", &plot.mlp),
        ("ensemble", &plot.ensemble),
    ] {
        let array = js_sys::Float32Array::from(values.as_slice());
        transfer.push(&array.buffer());
        set(&object, key, &array);
    }
    let training: Vec<u8> = plot.training.iter().map(|&t| u8::from(t)).collect();
    for (key, values) in [("label", &plot.label), ("training", &training)] {
        let array = js_sys::Uint8Array::from(values.as_slice());
        transfer.push(&array.buffer());
        set(&object, key, &array);
    }
    let _ = scope.post_message_with_transfer(&object, &transfer);
}

/// `{kind: "file", name, mime, blob}`.
fn post_file(scope: &DedicatedWorkerGlobalScope, name: &str, mime: &str, contents: &str) {
    let options = BlobPropertyBag::new();
    options.set_type(mime);
    let parts = js_sys::Array::of1(&JsValue::from_str(contents));
    match Blob::new_with_str_sequence_and_options(&parts, &options) {
        Ok(blob) => {
            let object = js_sys::Object::new();
            set(&object, "kind", &JsValue::from_str("file"));
            set(&object, "name", &JsValue::from_str(name));
            set(&object, "mime", &JsValue::from_str(mime));
            set(&object, "blob", &blob);
            let _ = scope.post_message(&object);
        }
        Err(_) => post(
            scope,
            &WorkerEvent::RequestFailed("the browser could not create the file".into()),
        ),
    }
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// The pipeline's progress callback: every report goes to the page, and the run goes on
/// (cancelling terminates the worker instead).
fn forward_progress(scope: &DedicatedWorkerGlobalScope) -> impl FnMut(Progress) -> bool + '_ {
    move |p| {
        post(scope, &WorkerEvent::Progress(p));
        true
    }
}

fn finish(scope: &DedicatedWorkerGlobalScope, result: Result<FittedRun, DetectionError>) {
    match result {
        Ok(fitted) => {
            post_plot(scope, &fitted.output.plot);
            let summary = RunSummary::of(&fitted.output);
            LAST_RUN.with(|r| *r.borrow_mut() = Some(fitted));
            post(scope, &WorkerEvent::Finished(Box::new(summary)));
        }
        Err(DetectionError::Cancelled) => post(scope, &WorkerEvent::Failed("cancelled".into())),
        Err(e) => post(scope, &WorkerEvent::Failed(e.to_string())),
    }
}

/// Reads a browser `File` into memory in chunks, reporting progress in [0, 1].
fn read_file(
    file: &File,
    limits: &ImportLimits,
    on_progress: &mut dyn FnMut(f64),
) -> Result<Vec<u8>, String> {
    let size = file.size();
    if size > limits.max_bytes as f64 {
        return Err(ImportError::TooLarge {
            bytes: size as u64,
            max_bytes: limits.max_bytes,
        }
        .to_string());
    }
    let reader = FileReaderSync::new().map_err(|e| format!("cannot read files here: {e:?}"))?;
    let mut bytes = Vec::with_capacity(size as usize);
    let mut at = 0.0;
    while at < size {
        let end = (at + READ_CHUNK_BYTES).min(size);
        let chunk = file
            .slice_with_f64_and_f64(at, end)
            .and_then(|blob| reader.read_as_array_buffer(&blob))
            .map_err(|e| format!("reading {} failed at byte {at}: {e:?}", file.name()))?;
        bytes.extend_from_slice(&js_sys::Uint8Array::new(&chunk).to_vec());
        at = end;
        on_progress(at / size);
    }
    Ok(bytes)
}

/// Reads and parses one file; progress covers `[from, to]` of the traffic stage.
fn import_file(
    scope: &DedicatedWorkerGlobalScope,
    file: &File,
    format: Option<Format>,
    mapping: Option<&ColumnMapping>,
    (from, to): (f64, f64),
) -> Result<ImportedTraffic, String> {
    let limits = ImportLimits::default();
    let report = |fraction: f64| {
        post(
            scope,
            &WorkerEvent::Progress(Progress::Stage {
                stage: Stage::Generate,
                fraction: from + (to - from) * fraction,
            }),
        )
    };
    let bytes = read_file(file, &limits, &mut |f| report(0.3 * f))?;
    import::import_with_mapping(&bytes, format, mapping, &limits, &mut |f| {
        report(0.3 + 0.7 * f);
        true
    })
    .map_err(|e| format!("{}: {e}", file.name()))
}

/// The browser files that came with a request.
#[derive(Default)]
struct Attached {
    traffic: Option<File>,
    baseline: Option<File>,
    model: Option<File>,
}

/// Reads and validates a saved model file.
fn read_model(file: &File) -> Result<DetectorModel, String> {
    let limits = ImportLimits {
        max_bytes: MAX_MODEL_FILE_BYTES,
        ..ImportLimits::default()
    };
    let bytes =
        read_file(file, &limits, &mut |_| {}).map_err(|e| format!("model {}: {e}", file.name()))?;
    let text = String::from_utf8_lossy(&bytes);
    DetectorModel::from_json(&text).map_err(|e| format!("model {}: {e}", file.name()))
}

fn run_generated(
    scope: &DedicatedWorkerGlobalScope,
    config: &crate::detection::run_config::RunConfig,
) {
    finish(
        scope,
        pipeline::run_fitted(config, &now_ms, &mut forward_progress(scope)),
    );
}

fn run_generated_with_model(
    scope: &DedicatedWorkerGlobalScope,
    config: &crate::detection::run_config::RunConfig,
    model: &File,
) {
    let progress = &mut forward_progress(scope);
    let result = match read_model(model) {
        Ok(model) => pipeline::run_generated_with_model(config, &model, &now_ms, progress),
        Err(message) => return post(scope, &WorkerEvent::Failed(message)),
    };
    finish(scope, result);
}

fn run_imported(scope: &DedicatedWorkerGlobalScope, request: &ImportRequest, files: Attached) {
    let Attached {
        traffic,
        baseline,
        model,
    } = files;
    let model = match model.as_ref().map(read_model).transpose() {
        Ok(model) => model,
        Err(message) => return post(scope, &WorkerEvent::Failed(message)),
    };
    let Some(traffic) = traffic else {
        post(
            scope,
            &WorkerEvent::Failed("no traffic file was attached".into()),
        );
        return;
    };
    let t0 = now_ms();
    let span = if baseline.is_some() {
        (0.0, 0.5)
    } else {
        (0.0, 1.0)
    };
    let imported = match import_file(
        scope,
        &traffic,
        request.format,
        request.mapping.as_ref(),
        span,
    ) {
        Ok(t) => t,
        Err(message) => return post(scope, &WorkerEvent::Failed(message)),
    };
    let baseline = match baseline {
        Some(file) => match import_file(scope, &file, request.baseline_format, None, (0.5, 1.0)) {
            Ok(b) => Some((b, file.name())),
            Err(message) => {
                return post(scope, &WorkerEvent::Failed(format!("baseline {message}")))
            }
        },
        None => None,
    };
    let input = ImportInput {
        traffic: imported,
        file_name: traffic.name(),
        baseline,
    };
    let import_ms = now_ms() - t0;
    let progress = &mut forward_progress(scope);
    let result = match &model {
        Some(model) => pipeline::run_imported_with_model(
            &request.config,
            input,
            model,
            import_ms,
            &now_ms,
            progress,
        ),
        None => pipeline::run_imported(&request.config, input, import_ms, &now_ms, progress),
    };
    finish(scope, result);
}

/// Applies `change` to the last run and sends the page its new report (without the anomaly
/// list, which is paged on request).
fn relabel(scope: &DedicatedWorkerGlobalScope, change: impl FnOnce(&mut FittedRun) -> bool) {
    let report = LAST_RUN.with(|r| {
        r.borrow_mut().as_mut().map(|fitted| {
            let changed = change(fitted);
            (changed, fitted.output.report.page_copy(INCIDENTS_SHOWN))
        })
    });
    match report {
        Some((true, report)) => post(scope, &WorkerEvent::Rethresholded(Box::new(report))),
        Some((false, _)) => post(
            scope,
            &WorkerEvent::RequestFailed(
                "that incident is no longer listed; nothing changed".into(),
            ),
        ),
        None => post(scope, &WorkerEvent::RequestFailed("no finished run".into())),
    }
}

/// The demo worker's requests: runs on generated traffic and everything that follows a run.
/// Requests that involve the user's files go to the files worker (`ui::worker_client`
/// routes them), so this build carries no importer or model-file reader.
fn handle_demo(scope: &DedicatedWorkerGlobalScope, request: WorkerRequest, files: Attached) {
    match request {
        WorkerRequest::Run(config) if files.model.is_none() => {
            LAST_RUN.with(|r| r.borrow_mut().take());
            run_generated(scope, &config);
        }
        WorkerRequest::Run(_) | WorkerRequest::RunImported(_) | WorkerRequest::Inspect => post(
            scope,
            &WorkerEvent::Failed("files go to the files worker; reload the page".into()),
        ),
        other => follow_up(scope, other),
    }
}

/// The files worker's requests: everything, including imports, inspection and saved models.
fn handle_files(scope: &DedicatedWorkerGlobalScope, request: WorkerRequest, files: Attached) {
    match request {
        WorkerRequest::Run(config) => {
            LAST_RUN.with(|r| r.borrow_mut().take());
            match &files.model {
                Some(model) => run_generated_with_model(scope, &config, model),
                None => run_generated(scope, &config),
            }
        }
        WorkerRequest::Inspect => match files.traffic {
            Some(file) => {
                let head = file
                    .slice_with_f64_and_f64(0.0, INSPECT_BYTES)
                    .and_then(|blob| FileReaderSync::new()?.read_as_array_buffer(&blob))
                    .map(|buffer| js_sys::Uint8Array::new(&buffer).to_vec())
                    .unwrap_or_default();
                let inspection = import::inspect(&file.name(), &head);
                post(scope, &WorkerEvent::Inspected(Box::new(inspection)));
            }
            None => post(
                scope,
                &WorkerEvent::RequestFailed("no file to inspect".into()),
            ),
        },
        WorkerRequest::RunImported(request) => {
            LAST_RUN.with(|r| r.borrow_mut().take());
            run_imported(scope, &request, files);
        }
        other => follow_up(scope, other),
    }
}

/// Requests about the last run, which both workers answer.
fn follow_up(scope: &DedicatedWorkerGlobalScope, request: WorkerRequest) {
    match request {
        // Runs and inspection: the handlers above take them before this.
        WorkerRequest::Run(_) | WorkerRequest::RunImported(_) | WorkerRequest::Inspect => {}
        WorkerRequest::Reevaluate {
            threshold,
            forest_weight,
            incident_budget,
        } => relabel(scope, |fitted| {
            if fitted.reevaluate(&threshold, forest_weight, incident_budget) {
                post_plot(scope, &fitted.output.plot);
            }
            true
        }),
        WorkerRequest::Verdict {
            incident_id,
            verdict,
        } => relabel(scope, |fitted| fitted.judge(incident_id, verdict)),
        WorkerRequest::WithdrawVerdict(pattern) => {
            relabel(scope, |fitted| fitted.withdraw(&pattern))
        }
        WorkerRequest::Anomalies(query) => {
            let page = LAST_RUN.with(|r| {
                r.borrow()
                    .as_ref()
                    .map(|fitted| anomaly_query::query(&fitted.output.report.anomalies, &query))
            });
            match page {
                Some(page) => post(scope, &WorkerEvent::Anomalies(page)),
                None => post(scope, &WorkerEvent::RequestFailed("no finished run".into())),
            }
        }
        WorkerRequest::File(kind) => {
            let file = LAST_RUN.with(|r| {
                let r = r.borrow();
                let Some(fitted) = r.as_ref() else {
                    return Err("no finished run".to_string());
                };
                let out = &fitted.output;
                let generated = out.report.data.source.kind == SourceKind::Generated;
                let contents =
                    match kind {
                        FileKind::Report => out.report.to_json_pretty(),
                        FileKind::EveJson => {
                            siem::to_eve_json_lines(&out.report, siem::AlertUnit::Incident)
                        }
                        FileKind::EcsNdjson => {
                            siem::to_ecs_ndjson(&out.report, siem::AlertUnit::Incident)
                        }
                        FileKind::FlowsCsv | FileKind::ZeekConnLog if !generated => return Err(
                            "data downloads are for generated traffic; your file is already yours"
                                .to_string(),
                        ),
                        FileKind::FlowsCsv => export::to_csv(&out.scored.flows),
                        FileKind::ZeekConnLog => export::to_zeek_conn_log(&out.scored.flows),
                        FileKind::Model => fitted.saved_model().to_json(),
                    };
                Ok((kind.file_name(out.report.config.seed), contents))
            });
            match file {
                Ok((name, contents)) => post_file(scope, &name, kind.mime(), &contents),
                Err(message) => post(scope, &WorkerEvent::RequestFailed(message)),
            }
        }
    }
}

/// Installs the demo worker's message handler (`src/bin/worker.rs`) and tells the page it
/// is ready.
pub fn register_demo() {
    register(handle_demo);
}

/// Installs the files worker's message handler (`src/bin/files_worker.rs`) and tells the page
/// it is ready.
pub fn register_files() {
    register(handle_files);
}

/// A plain function pointer, so each worker binary links only the handler it registers.
type Handler = fn(&DedicatedWorkerGlobalScope, WorkerRequest, Attached);

fn register(handle: Handler) {
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let handler_scope = scope.clone();
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        // A request is its bytes (`WorkerRequest::encode`), or `{request, traffic?, baseline?,
        // model?}` when files ride along.
        let data = event.data();
        let bytes = |value: JsValue| {
            value
                .dyn_into::<js_sys::Uint8Array>()
                .map(|a| a.to_vec())
                .unwrap_or_default()
        };
        let (bytes, files) = if data.is_instance_of::<js_sys::Uint8Array>() {
            (bytes(data), Attached::default())
        } else {
            let get = |key: &str| js_sys::Reflect::get(&data, &JsValue::from_str(key)).ok();
            let file = |key: &str| get(key).and_then(|v| v.dyn_into::<File>().ok());
            (
                get("request").map(bytes).unwrap_or_default(),
                Attached {
                    traffic: file("traffic"),
                    baseline: file("baseline"),
                    model: file("model"),
                },
            )
        };
        match WorkerRequest::decode(&bytes) {
            Ok(request) => handle(&handler_scope, request, files),
            Err(e) => post(
                &handler_scope,
                &WorkerEvent::Failed(format!(
                    "the worker could not read the request ({e}); reload the page"
                )),
            ),
        }
    });
    scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    // The handler lives as long as the worker.
    on_message.forget();
    post(&scope, &WorkerEvent::Ready);
}
