#![no_main]
//! Generic CSV through a column mapping. The first byte picks the mapping: even = the one
//! suggested from the header (what the UI proposes); odd = that mapping with the next 16
//! bytes moving columns to other, possibly absent, indices (a user editing it).
use anomaly_detector_fuzz::checks;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        let _ = checks::import_generic_csv(rest, None);
    } else if rest.len() >= 16 {
        let (mangle, csv) = rest.split_at(16);
        let _ = checks::import_generic_csv(csv, Some(mangle));
    }
});
