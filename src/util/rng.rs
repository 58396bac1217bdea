//! A seeded random stream that gives the same numbers natively and in wasm.
//!
//! `rand`'s `SmallRng` differs between 64- and 32-bit targets and its `usize` helpers depend
//! on the pointer width, so everything random in the core draws from this wrapper around the
//! ChaCha-based `StdRng`, using only fixed-width integers. Not for cryptography.

use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};

#[derive(Debug, Clone)]
pub struct DetRng {
    inner: StdRng,
}

impl DetRng {
    pub fn new(seed: u64) -> DetRng {
        DetRng {
            inner: StdRng::seed_from_u64(seed),
        }
    }

    /// An independent stream derived from this seed and a label, so that adding draws to one
    /// part of the pipeline does not shift the numbers another part sees.
    pub fn derive(seed: u64, stream: &str) -> DetRng {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in stream.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        DetRng::new(seed ^ h.rotate_left(17))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.inner.next_u64()
    }

    pub fn next_u32(&mut self) -> u32 {
        self.inner.next_u32()
    }

    /// Uniform in [0, 1), 53 random bits.
    pub fn f64(&mut self) -> f64 {
        (self.inner.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in [low, high).
    pub fn uniform(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * self.f64()
    }

    /// Uniform integer in [0, n); n must be > 0.
    pub fn below(&mut self, n: u64) -> u64 {
        debug_assert!(n > 0);
        self.inner.random_range(0..n)
    }

    /// Uniform index in [0, n) for slices; n must be > 0.
    pub fn index(&mut self, n: usize) -> usize {
        self.below(n as u64) as usize
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.f64() < p
    }

    /// Fisher–Yates shuffle.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.index(i + 1);
            items.swap(i, j);
        }
    }

    /// `k` distinct indices from [0, n), in random order (partial Fisher–Yates).
    pub fn sample_indices(&mut self, n: usize, k: usize) -> Vec<usize> {
        let k = k.min(n);
        let mut pool: Vec<usize> = (0..n).collect();
        for i in 0..k {
            let j = i + self.index(n - i);
            pool.swap(i, j);
        }
        pool.truncate(k);
        pool
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream_and_streams_differ() {
        let a: Vec<u64> = (0..8).map(|_| DetRng::new(7).next_u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        let mut x = DetRng::derive(7, "forest");
        let mut y = DetRng::derive(7, "mlp");
        assert_ne!(x.next_u64(), y.next_u64());
    }

    #[test]
    fn below_and_f64_stay_in_range() {
        let mut r = DetRng::new(1);
        for _ in 0..10_000 {
            assert!(r.below(3) < 3);
            let u = r.f64();
            assert!((0.0..1.0).contains(&u));
        }
    }

    #[test]
    fn sample_indices_are_distinct() {
        let mut r = DetRng::new(3);
        let mut s = r.sample_indices(100, 40);
        assert_eq!(s.len(), 40);
        s.sort_unstable();
        s.dedup();
        assert_eq!(s.len(), 40);
        assert_eq!(r.sample_indices(5, 10).len(), 5);
    }
}
