#![no_main]
//! Format auto-detection plus whichever importer it picks.
use anomaly_detector_fuzz::checks;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = checks::import_bytes(data, None);
});
