//! The page's side of the compute workers: spawns them, holds requests until a worker reports
//! `Ready`, routes each request to the right worker (demo or files, see [`WorkerKind`]),
//! delivers their events, and cancels by terminating the running one (a busy worker cannot
//! read messages, and terminating frees the CPU at once; the next run spawns a fresh one).

use crate::app::protocol::{WorkerEvent, WorkerRequest};
use crate::pipeline::PlotData;
use std::cell::{Cell, RefCell};
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

/// The two compute workers (see `crate::worker`): the demo worker, loaded with the page, runs
/// generated traffic; the files worker, started when a file is involved, also imports traffic
/// and reads saved models. Requests about a run go to the worker that made it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WorkerKind {
    Demo,
    Files,
}

impl WorkerKind {
    /// Loads Trunk's `<bin>.js` and its wasm (see `src/web/worker_loader.js`).
    fn script(self) -> &'static str {
        match self {
            WorkerKind::Demo => "./worker_loader.js",
            WorkerKind::Files => "./files_worker_loader.js",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

struct Connection {
    worker: Worker,
    ready: bool,
    pending: Vec<JsValue>,
    // Kept alive for as long as the worker can call them.
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(ErrorEvent)>,
}

thread_local! {
    static CONNECTIONS: RefCell<[Option<Connection>; 2]> = const { RefCell::new([None, None]) };
    /// The worker holding the last run (or running it), which answers requests about it.
    static RUN_ON: Cell<WorkerKind> = const { Cell::new(WorkerKind::Demo) };
}

fn spawn(
    kind: WorkerKind,
    on_event: impl Fn(Incoming) + Clone + 'static,
) -> Result<Connection, String> {
    let worker = Worker::new(kind.script())
        .map_err(|e| format!("the compute worker could not start: {e:?}"))?;
    let deliver = on_event.clone();
    let on_message =
        Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            match decode(event.data()) {
                Incoming::Event(WorkerEvent::Ready) => mark_ready(kind),
                incoming => deliver(incoming),
            }
        });
    let on_error = Closure::<dyn FnMut(ErrorEvent)>::new(move |event: ErrorEvent| {
        event.prevent_default();
        let message = format!("the compute worker stopped: {}", event.message());
        // Only the worker with the run fails the run; the other one failed a request (say,
        // inspecting a file while a demo run goes on).
        on_event(Incoming::Event(if RUN_ON.with(Cell::get) == kind {
            WorkerEvent::Failed(message)
        } else {
            WorkerEvent::RequestFailed(message)
        }));
        // Not `terminate()` here: it would drop this very closure while it runs. Defer it to
        // its own task.
        if let Some(window) = web_sys::window() {
            let later = Closure::once_into_js(move || terminate_kind(kind));
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

fn mark_ready(kind: WorkerKind) {
    CONNECTIONS.with(|c| {
        if let Some(c) = c.borrow_mut()[kind.index()].as_mut() {
            c.ready = true;
            for message in c.pending.drain(..) {
                let _ = c.worker.post_message(&message);
            }
        }
    });
}

/// The worker for `request`, sent with browser files or not, noting which worker holds a new
/// run. A run without files goes to the demo worker, a run with files and inspection to the
/// files worker, anything about a run to the worker that made it.
fn route(request: &WorkerRequest, with_files: bool) -> WorkerKind {
    let kind = match request {
        WorkerRequest::Run(_) if !with_files => WorkerKind::Demo,
        WorkerRequest::Run(_) | WorkerRequest::RunImported(_) | WorkerRequest::Inspect => {
            WorkerKind::Files
        }
        _ => return RUN_ON.with(Cell::get),
    };
    if !matches!(request, WorkerRequest::Inspect) {
        let previous = RUN_ON.with(|r| r.replace(kind));
        // A files worker that held the last run would keep its memory (up to millions of
        // imported flows) for nothing; it starts again when a file is chosen.
        if previous == WorkerKind::Files && kind == WorkerKind::Demo {
            terminate_kind(WorkerKind::Files);
        }
    }
    kind
}

/// Sends `request` to the worker, spawning it first if needed; events arrive in `on_event`.
pub fn send(
    request: &WorkerRequest,
    on_event: impl Fn(Incoming) + Clone + 'static,
) -> Result<(), String> {
    send_value(route(request, false), encode(request)?.into(), on_event)
}

/// Starts the demo worker if it is not running, so its wasm loads before the first request.
pub fn start(on_event: impl Fn(Incoming) + Clone + 'static) -> Result<(), String> {
    CONNECTIONS.with(|c| {
        let slot = &mut c.borrow_mut()[WorkerKind::Demo.index()];
        if slot.is_none() {
            *slot = Some(spawn(WorkerKind::Demo, on_event)?);
        }
        Ok(())
    })
}

/// Sends `request` with browser files beside it (`{request, name: File, ...}`), to the files
/// worker: a `File` is a handle, so the worker reads the bytes itself and the page never holds
/// them.
pub fn send_with_files(
    request: &WorkerRequest,
    files: &[(&str, &web_sys::File)],
    on_event: impl Fn(Incoming) + Clone + 'static,
) -> Result<(), String> {
    let kind = route(request, true);
    let object = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&object, &"request".into(), &encode(request)?.into());
    for (name, file) in files {
        let _ = js_sys::Reflect::set(&object, &JsValue::from_str(name), file);
    }
    send_value(kind, object.into(), on_event)
}

/// The request's binary form (`WorkerRequest::encode`) as a `Uint8Array`.
fn encode(request: &WorkerRequest) -> Result<js_sys::Uint8Array, String> {
    let bytes = request.encode().map_err(|e| format!("request: {e}"))?;
    Ok(js_sys::Uint8Array::from(bytes.as_slice()))
}

fn send_value(
    kind: WorkerKind,
    message: JsValue,
    on_event: impl Fn(Incoming) + Clone + 'static,
) -> Result<(), String> {
    CONNECTIONS.with(|c| {
        let slot = &mut c.borrow_mut()[kind.index()];
        if slot.is_none() {
            *slot = Some(spawn(kind, on_event)?);
        }
        let Some(c) = slot.as_mut() else {
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

/// Stops the worker running (or holding) the current run immediately, abandoning whatever it
/// was computing; the other worker keeps going.
pub fn terminate() {
    terminate_kind(RUN_ON.with(Cell::get));
}

fn terminate_kind(kind: WorkerKind) {
    // Take it out first: terminating must not run while the cell is borrowed.
    let connection = CONNECTIONS.with(|c| c.borrow_mut()[kind.index()].take());
    if let Some(c) = connection {
        c.worker.set_onmessage(None);
        c.worker.set_onerror(None);
        c.worker.terminate();
    }
}
