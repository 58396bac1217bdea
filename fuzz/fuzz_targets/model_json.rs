#![no_main]
//! Model files: Isolation Forest and MLP envelopes (src/models/export.rs) and whole detector
//! models (src/detector_model.rs).
use anomaly_detector_fuzz::checks;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    checks::model_json(data);
});
