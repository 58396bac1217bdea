//! The compute worker's side of the page/worker channel: runs the detection pipeline off the
//! main thread, streams progress, keeps the last run, and answers page and file requests.
//!
//! Messages are the core's `protocol` types as JSON strings (serde_json with `float_roundtrip`
//! keeps every f64 exact), except the bulk: per-flow plot series go as transferred typed arrays
//! and files as `Blob`s. The worker announces `Ready` once its handler is installed, because
//! messages posted before that would be lost while the wasm loads. Cancelling (in
//! `ui::worker_client`) terminates this worker outright, so there are no cancellation points here.

use crate::anomaly_query;
use crate::detection::{self, DetectionError, PlotData, RunOutput, ScoredRun};
use crate::protocol::{FileKind, WorkerEvent, WorkerRequest};
use crate::siem;
use std::cell::RefCell;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Blob, BlobPropertyBag, DedicatedWorkerGlobalScope, MessageEvent};

thread_local! {
    static LAST_RUN: RefCell<Option<RunOutput>> = const { RefCell::new(None) };
}

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

fn handle(scope: &DedicatedWorkerGlobalScope, request: WorkerRequest) {
    match request {
        WorkerRequest::Run(config) => {
            LAST_RUN.with(|r| r.borrow_mut().take());
            let result = detection::run(&config, &now_ms, &mut |p| {
                post(scope, &WorkerEvent::Progress(p));
                true
            });
            match result {
                Ok(mut out) => {
                    post_plot(scope, &out.plot);
                    let anomalies = std::mem::take(&mut out.report.anomalies);
                    // Flows and full-precision scores stay here; re-thresholding runs here too.
                    let summary = RunOutput {
                        report: out.report.clone(),
                        plot: PlotData::default(),
                        scored: ScoredRun {
                            flows: Vec::new(),
                            isolation_forest: Vec::new(),
                            mlp: Vec::new(),
                            ensemble: Vec::new(),
                            training_rows: out.scored.training_rows,
                            eval_start: out.scored.eval_start,
                            evaluated_duration_s: out.scored.evaluated_duration_s,
                            truth: out.scored.truth.clone(),
                        },
                    };
                    out.report.anomalies = anomalies;
                    LAST_RUN.with(|r| *r.borrow_mut() = Some(out));
                    post(scope, &WorkerEvent::Finished(Box::new(summary)));
                }
                Err(DetectionError::Cancelled) => {
                    post(scope, &WorkerEvent::Failed("cancelled".into()))
                }
                Err(e) => post(scope, &WorkerEvent::Failed(e.to_string())),
            }
        }
        WorkerRequest::Anomalies(query) => {
            let page = LAST_RUN.with(|r| {
                r.borrow()
                    .as_ref()
                    .map(|out| anomaly_query::query(&out.report.anomalies, &query))
            });
            match page {
                Some(page) => post(scope, &WorkerEvent::Anomalies(page)),
                None => post(scope, &WorkerEvent::RequestFailed("no finished run".into())),
            }
        }
        WorkerRequest::File(kind) => {
            let file = LAST_RUN.with(|r| {
                r.borrow().as_ref().map(|out| {
                    let contents = match kind {
                        FileKind::Report => out.report.to_json_pretty(),
                        FileKind::EveJson => {
                            siem::to_eve_json_lines(&out.report, siem::AlertUnit::Incident)
                        }
                        FileKind::EcsNdjson => {
                            siem::to_ecs_ndjson(&out.report, siem::AlertUnit::Incident)
                        }
                    };
                    (kind.file_name(out.report.config.seed), contents)
                })
            });
            match file {
                Some((name, contents)) => post_file(scope, &name, kind.mime(), &contents),
                None => post(scope, &WorkerEvent::RequestFailed("no finished run".into())),
            }
        }
    }
}

/// Installs the message handler in this worker and tells the page it is ready.
pub fn register() {
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let handler_scope = scope.clone();
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        let text = event.data().as_string().unwrap_or_default();
        match serde_json::from_str::<WorkerRequest>(&text) {
            Ok(request) => handle(&handler_scope, request),
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
