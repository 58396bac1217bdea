//! Small shared utilities: the seeded RNG, maths that is the same native and in wasm,
//! the dense matrix, sorting, quantiles, number and time formatting, JSON re-indenting and the
//! by-name serde of enums. May import nothing of the crate's. Must not know about flows,
//! models or reports: anything that does belongs to a layer above.

pub mod format_value;
pub mod index_sort;
pub mod json_pretty;
pub mod math;
pub mod matrix;
pub mod quantile;
pub mod rng;
pub(crate) mod serde_names;
pub mod time_format;
