//! Transcendental functions that return the same bits on every target.
//!
//! The core calls these instead of `f64::exp` and friends: the standard library defers to the
//! platform's libm natively but to a Rust port in wasm, and the two can disagree in the last
//! bit, which would make native and in-browser scores differ.

#[inline]
pub fn exp(x: f64) -> f64 {
    libm::exp(x)
}

#[inline]
pub fn ln(x: f64) -> f64 {
    libm::log(x)
}

#[inline]
pub fn log2(x: f64) -> f64 {
    libm::log2(x)
}

#[inline]
pub fn tanh(x: f64) -> f64 {
    libm::tanh(x)
}

#[inline]
pub fn pow(x: f64, y: f64) -> f64 {
    libm::pow(x, y)
}

#[inline]
pub fn exp2(x: f64) -> f64 {
    libm::exp2(x)
}

#[inline]
pub fn cos(x: f64) -> f64 {
    libm::cos(x)
}

#[inline]
pub fn sin(x: f64) -> f64 {
    libm::sin(x)
}

/// Euler–Mascheroni constant, used by the Isolation Forest's path-length normaliser.
pub const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;
