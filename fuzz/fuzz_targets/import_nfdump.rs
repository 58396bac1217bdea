#![no_main]
//! nfdump CSV (NetFlow / IPFIX), 1.6 and 1.7 column names.
use anomaly_detector::traffic::import::Format;
use anomaly_detector_fuzz::checks;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = checks::import_bytes(data, Some(Format::Nfdump));
});
