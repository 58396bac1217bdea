#![no_main]
//! UNSW-NB15 CSV (with or without header).
use anomaly_detector::traffic::import::Format;
use anomaly_detector_fuzz::checks;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = checks::import_bytes(data, Some(Format::Unsw));
});
