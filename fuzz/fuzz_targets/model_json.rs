#![no_main]
//! Isolation Forest and MLP model files (src/models/export.rs).
use anomaly_detector_fuzz::checks;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    checks::model_json(data);
});
