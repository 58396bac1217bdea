// Starts the files worker (see worker_loader.js; the same with the files worker's build).
importScripts('./files_worker.js');
wasm_bindgen({ module_or_path: './files_worker_bg.wasm' });
