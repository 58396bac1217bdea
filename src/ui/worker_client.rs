//! The page's side of the compute worker: spawns it, holds requests until it reports `Ready`,
//! delivers its events, and cancels by terminating it (a busy worker cannot read messages, and
//! terminating frees the CPU at once; the next run spawns a fresh one).

use crate::detection::PlotData;
use crate::protocol::{WorkerEvent, WorkerRequest};
use std::cell::RefCell;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{ErrorEvent, MessageEvent, Worker};

/// What the worker sends: a protocol event, or one of the bulk payloads that bypass JSON.
pub enum Incoming {
    Event(WorkerEvent),
    Plot(PlotData),
    File { name: String, blob: web_sys::Blob },
}

fn get(object: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(object, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

fn f32s(object: &JsValue, key: &str) -> Vec<f32> {
    get(object, key)
        .dyn_into::<js_sys::Float32Array>()
        .map(|a| a.to_vec())
        .unwrap_or_default()
}

fn u8s(object: &JsValue, key: &str) -> Vec<u8> {
    get(object, key)
        .dyn_into::<js_sys::Uint8Array>()
        .map(|a| a.to_vec())
        .unwrap_or_default()
}

fn decode(data: JsValue) -> Incoming {
    if let Some(text) = data.as_string() {
        return Incoming::Event(serde_json::from_str(&text).unwrap_or_else(|e| {
            WorkerEvent::Failed(format!(
                "unreadable message from the worker ({e}); reload the page"
            ))
        }));
    }
    match get(&data, "kind").as_string().as_deref() {
        Some("plot") => Incoming::Plot(PlotData {
            t_s: f32s(&data, "t_s"),
            isolation_forest: f32s(&data, "isolation_forest"),
            mlp: f32s(&data, "mlp"),
            ensemble: f32s(&data, "ensemble"),
            label: u8s(&data, "label"),
            training: u8s(&data, "training").into_iter().map(|t| t != 0).collect(),
            // Legend names come with the run's summary.
            classes: Vec::new(),
        }),
        Some("file") => match get(&data, "blob").dyn_into::<web_sys::Blob>() {
            Ok(blob) => Incoming::File {
                name: get(&data, "name").as_string().unwrap_or_default(),
                blob,
            },
            Err(_) => Incoming::Event(WorkerEvent::RequestFailed("the file was empty".into())),
        },
        _ => Incoming::Event(WorkerEvent::Failed(
            "unknown message from the worker; reload the page".into(),
        )),
    }
}

/// Loads Trunk's `worker.js` and its wasm (see `src/web/worker_loader.js`).
const WORKER_SCRIPT: &str = "./worker_loader.js";

struct Connection {
    worker: Worker,
    ready: bool,
    pending: Vec<JsValue>,
    // Kept alive for as long as the worker can call them.
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(ErrorEvent)>,
}

thread_local! {
    static CONNECTION: RefCell<Option<Connection>> = const { RefCell::new(None) };
}

fn spawn(on_event: impl Fn(Incoming) + Clone + 'static) -> Result<Connection, String> {
    let worker = Worker::new(WORKER_SCRIPT)
        .map_err(|e| format!("the compute worker could not start: {e:?}"))?;
    let deliver = on_event.clone();
    let on_message =
        Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            match decode(event.data()) {
                Incoming::Event(WorkerEvent::Ready) => mark_ready(),
                incoming => deliver(incoming),
            }
        });
    let on_error = Closure::<dyn FnMut(ErrorEvent)>::new(move |event: ErrorEvent| {
        event.prevent_default();
        on_event(Incoming::Event(WorkerEvent::Failed(format!(
            "the compute worker stopped: {}",
            event.message()
        ))));
        // Not `terminate()` here: it would drop this very closure while it runs. Defer it to
        // its own task.
        if let Some(window) = web_sys::window() {
            let later = Closure::once_into_js(terminate);
            let _ = window.set_timeout_with_callback(later.unchecked_ref());
        }
    });
    worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    Ok(Connection {
        worker,
        ready: false,
        pending: Vec::new(),
        _on_message: on_message,
        _on_error: on_error,
    })
}

fn mark_ready() {
    CONNECTION.with(|c| {
        if let Some(c) = c.borrow_mut().as_mut() {
            c.ready = true;
            for message in c.pending.drain(..) {
                let _ = c.worker.post_message(&message);
            }
        }
    });
}

/// Sends `request` to the worker, spawning it first if needed; events arrive in `on_event`.
pub fn send(
    request: &WorkerRequest,
    on_event: impl Fn(Incoming) + Clone + 'static,
) -> Result<(), String> {
    send_value(encode(request)?.into(), on_event)
}

/// Starts the worker if it is not running, so its wasm loads before the first request.
pub fn start(on_event: impl Fn(Incoming) + Clone + 'static) -> Result<(), String> {
    CONNECTION.with(|c| {
        let mut c = c.borrow_mut();
        if c.is_none() {
            *c = Some(spawn(on_event)?);
        }
        Ok(())
    })
}

/// Sends `request` with browser files beside it (`{request, name: File, ...}`): a `File` is a
/// handle, so the worker reads the bytes itself and the page never holds them.
pub fn send_with_files(
    request: &WorkerRequest,
    files: &[(&str, &web_sys::File)],
    on_event: impl Fn(Incoming) + Clone + 'static,
) -> Result<(), String> {
    let object = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&object, &"request".into(), &encode(request)?.into());
    for (name, file) in files {
        let _ = js_sys::Reflect::set(&object, &JsValue::from_str(name), file);
    }
    send_value(object.into(), on_event)
}

/// The request's binary form (`WorkerRequest::encode`) as a `Uint8Array`.
fn encode(request: &WorkerRequest) -> Result<js_sys::Uint8Array, String> {
    let bytes = request.encode().map_err(|e| format!("request: {e}"))?;
    Ok(js_sys::Uint8Array::from(bytes.as_slice()))
}

fn send_value(
    message: JsValue,
    on_event: impl Fn(Incoming) + Clone + 'static,
) -> Result<(), String> {
    CONNECTION.with(|c| {
        let mut c = c.borrow_mut();
        if c.is_none() {
            *c = Some(spawn(on_event)?);
        }
        let Some(c) = c.as_mut() else {
            return Err("no worker".to_string());
        };
        if c.ready {
            c.worker
                .post_message(&message)
                .map_err(|e| format!("could not reach the worker: {e:?}"))
        } else {
            c.pending.push(message);
            Ok(())
        }
    })
}

/// Stops the worker immediately, abandoning whatever it was computing.
pub fn terminate() {
    // Take it out first: terminating must not run while the cell is borrowed.
    let connection = CONNECTION.with(|c| c.borrow_mut().take());
    if let Some(c) = connection {
        c.worker.set_onmessage(None);
        c.worker.set_onerror(None);
        c.worker.terminate();
    }
}
