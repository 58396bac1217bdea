#![no_main]
//! The page -> worker message in its binary form (RunConfig, AnomalyQuery, file kind, ...).
use anomaly_detector_fuzz::checks;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    checks::worker_request(data);
});
