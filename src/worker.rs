//! The compute worker's side of the page/worker channel: runs the detection pipeline off the
//! main thread and streams progress back.
//!
//! Messages are the core's `protocol` types, sent as JSON strings (serde_json with
//! `float_roundtrip` keeps every f64 exact). The worker announces `Ready` once its handler is
//! installed, because messages posted before that would be lost while the wasm loads. The page
//! side lives in `ui::worker_client`; cancelling there terminates this worker outright, so the
//! pipeline needs no cancellation points of its own here.

use crate::detection::{self, DetectionError};
use crate::protocol::{WorkerEvent, WorkerRequest};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

fn post(scope: &DedicatedWorkerGlobalScope, event: &WorkerEvent) {
    let text = match serde_json::to_string(event) {
        Ok(text) => text,
        // Unreachable for the protocol's types (tested natively); never panic across the boundary.
        Err(e) => format!("{{\"Failed\":\"encode: {e}\"}}"),
    };
    let _ = scope.post_message(&JsValue::from_str(&text));
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

fn handle(scope: &DedicatedWorkerGlobalScope, request: WorkerRequest) {
    match request {
        WorkerRequest::Run(config) => {
            let result = detection::run(&config, &now_ms, &mut |p| {
                post(scope, &WorkerEvent::Progress(p));
                true
            });
            let event = match result {
                Ok(out) => WorkerEvent::Finished(Box::new(out)),
                Err(DetectionError::Cancelled) => WorkerEvent::Failed("cancelled".into()),
                Err(e) => WorkerEvent::Failed(e.to_string()),
            };
            post(scope, &event);
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
