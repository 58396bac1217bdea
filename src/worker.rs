//! The compute worker: runs the detection pipeline off the main thread and streams progress.
//!
//! Only the glue between `gloo-worker` and `detection::run` lives here; messages are the core's
//! `protocol` types, sent as JSON (bincode cannot carry serde's flattened or untagged forms,
//! and JSON keeps every f64 exact with serde_json's `float_roundtrip`).

use crate::detection::{self, DetectionError};
use crate::protocol::{WorkerEvent, WorkerRequest};
use gloo_worker::{Codec, HandlerId, Worker, WorkerScope};
use serde::{Deserialize, Serialize};
use wasm_bindgen::JsValue;

/// Messages cross the worker boundary as JSON strings.
pub struct JsonCodec;

impl Codec for JsonCodec {
    fn encode<I: Serialize>(input: I) -> JsValue {
        match serde_json::to_string(&input) {
            Ok(text) => JsValue::from_str(&text),
            // Unreachable for the protocol's types (tested natively); never panic across the boundary.
            Err(e) => JsValue::from_str(&format!("{{\"Failed\":\"encode: {e}\"}}")),
        }
    }

    fn decode<O: for<'de> Deserialize<'de>>(input: JsValue) -> O {
        let text = input.as_string().unwrap_or_default();
        serde_json::from_str(&text).unwrap_or_else(|e| {
            // The protocol types cannot fail to parse what the same build produced; a failure
            // means mismatched app/worker builds, which a reload fixes.
            panic!("worker message could not be decoded ({e}); reload the page")
        })
    }
}

pub struct DetectionWorker;

fn now_ms() -> f64 {
    js_sys::Date::now()
}

impl Worker for DetectionWorker {
    type Message = ();
    type Input = WorkerRequest;
    type Output = WorkerEvent;

    fn create(_scope: &WorkerScope<Self>) -> Self {
        DetectionWorker
    }

    fn update(&mut self, _scope: &WorkerScope<Self>, _msg: Self::Message) {}

    fn received(&mut self, scope: &WorkerScope<Self>, msg: Self::Input, id: HandlerId) {
        match msg {
            WorkerRequest::Run(config) => {
                let result = detection::run(&config, &now_ms, &mut |p| {
                    scope.respond(id, WorkerEvent::Progress(p));
                    true
                });
                let event = match result {
                    Ok(out) => WorkerEvent::Finished(Box::new(out)),
                    Err(DetectionError::Cancelled) => WorkerEvent::Failed("cancelled".into()),
                    Err(e) => WorkerEvent::Failed(e.to_string()),
                };
                scope.respond(id, event);
            }
        }
    }
}
