//! Shared entry points and invariant checks of the fuzz targets. `checks.rs` is also compiled
//! into `tests/fuzz_regressions.rs` (via `#[path]`), so a committed crash input is replayed
//! through exactly the code the fuzzer ran.

pub mod checks;
