#![no_main]
//! pcap captures, format forced (detection is fuzzed by import_auto).
use anomaly_detector::traffic::import::Format;
use anomaly_detector_fuzz::checks;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = checks::import_bytes(data, Some(Format::Pcap));
});
