//! The page's side of the compute worker: spawns it, holds requests until it reports `Ready`,
//! delivers its events, and cancels by terminating it (a busy worker cannot read messages, and
//! terminating frees the CPU at once; the next run spawns a fresh one).

use crate::protocol::{WorkerEvent, WorkerRequest};
use std::cell::RefCell;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{ErrorEvent, MessageEvent, Worker};

/// Loads Trunk's `worker.js` and its wasm (see `src/web/worker_loader.js`).
const WORKER_SCRIPT: &str = "./worker_loader.js";

struct Connection {
    worker: Worker,
    ready: bool,
    pending: Vec<String>,
    // Kept alive for as long as the worker can call them.
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(ErrorEvent)>,
}

thread_local! {
    static CONNECTION: RefCell<Option<Connection>> = const { RefCell::new(None) };
}

fn spawn(on_event: impl Fn(WorkerEvent) + Clone + 'static) -> Result<Connection, String> {
    let worker = Worker::new(WORKER_SCRIPT)
        .map_err(|e| format!("the compute worker could not start: {e:?}"))?;
    let deliver = on_event.clone();
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        let text = event.data().as_string().unwrap_or_default();
        match serde_json::from_str::<WorkerEvent>(&text) {
            Ok(WorkerEvent::Ready) => mark_ready(),
            Ok(event) => deliver(event),
            Err(e) => deliver(WorkerEvent::Failed(format!(
                "unreadable message from the worker ({e}); reload the page"
            ))),
        }
    });
    let on_error = Closure::<dyn FnMut(ErrorEvent)>::new(move |event: ErrorEvent| {
        event.prevent_default();
        on_event(WorkerEvent::Failed(format!(
            "the compute worker stopped: {}",
            event.message()
        )));
        terminate();
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
            for text in c.pending.drain(..) {
                let _ = c.worker.post_message(&JsValue::from_str(&text));
            }
        }
    });
}

/// Sends `request` to the worker, spawning it first if needed; events arrive in `on_event`.
pub fn send(
    request: &WorkerRequest,
    on_event: impl Fn(WorkerEvent) + Clone + 'static,
) -> Result<(), String> {
    let text = serde_json::to_string(request).map_err(|e| format!("request: {e}"))?;
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
                .post_message(&JsValue::from_str(&text))
                .map_err(|e| format!("could not reach the worker: {e:?}"))
        } else {
            c.pending.push(text);
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
