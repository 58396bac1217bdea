#![no_main]
//! URL state: RunConfig::from_query, and its round trip through to_query.
use anomaly_detector_fuzz::checks;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    checks::run_config_query(data);
});
