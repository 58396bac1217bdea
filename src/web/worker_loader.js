// Starts the demo worker: Trunk's worker.js only defines `wasm_bindgen`; this loads it and
// instantiates the wasm, whose `main` installs the message handler and posts `Ready`.
// A file (not a blob: URL) so the Content-Security-Policy can stay at worker-src 'self'.
importScripts('./worker.js');
wasm_bindgen({ module_or_path: './worker_bg.wasm' });
