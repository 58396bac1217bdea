//! The random distributions traffic is drawn from: exponential gaps, Poisson arrivals with a
//! time-varying rate, normal, log-normal and Pareto sizes.
//!
//! Every draw comes from `DetRng` and every transcendental from `math`, so a seed gives the
//! same bits natively and in wasm. Not a general statistics library: only what the traffic
//! model needs, with no parameter checking beyond debug assertions.

use crate::util::math;
use crate::util::rng::DetRng;
use std::f64::consts::TAU;

/// A uniform draw in (0, 1]: safe to take the logarithm of.
#[inline]
fn open_unit(rng: &mut DetRng) -> f64 {
    1.0 - rng.f64()
}

/// Gap to the next event of a Poisson process with `rate_per_s` events per second.
#[inline]
pub(crate) fn exponential(rng: &mut DetRng, rate_per_s: f64) -> f64 {
    debug_assert!(rate_per_s > 0.0);
    -math::ln(open_unit(rng)) / rate_per_s
}

/// Standard normal by Box–Muller (one of the pair; the other would need state to keep).
#[inline]
pub(crate) fn standard_normal(rng: &mut DetRng) -> f64 {
    let radius = (-2.0 * math::ln(open_unit(rng))).sqrt();
    radius * math::cos(TAU * rng.f64())
}

/// Log-normal parametrised by its median (the typical value) and the log-space spread.
#[inline]
pub(crate) fn log_normal(rng: &mut DetRng, median: f64, sigma: f64) -> f64 {
    median * math::exp(sigma * standard_normal(rng))
}

/// Pareto with minimum `scale` and tail index `shape` (smaller is heavier).
#[inline]
pub(crate) fn pareto(rng: &mut DetRng, scale: f64, shape: f64) -> f64 {
    debug_assert!(scale > 0.0 && shape > 0.0);
    scale * math::pow(open_unit(rng), -1.0 / shape)
}

/// The first arrival after `t` of a Poisson process whose rate `rate_at(t)` never exceeds
/// `rate_max`, by thinning (Lewis–Shedler); `None` once past `end`.
#[inline]
pub(crate) fn next_arrival(
    rng: &mut DetRng,
    mut t: f64,
    end: f64,
    rate_max: f64,
    rate_at: impl Fn(f64) -> f64,
) -> Option<f64> {
    loop {
        t += exponential(rng, rate_max);
        if t > end {
            return None;
        }
        if rng.f64() * rate_max < rate_at(t) {
            return Some(t);
        }
    }
}

/// A count drawn geometrically: 1 plus one more with probability `p_more` each time, capped.
#[inline]
pub(crate) fn geometric_count(rng: &mut DetRng, p_more: f64, max: u32) -> u32 {
    let mut n = 1;
    while n < max && rng.chance(p_more) {
        n += 1;
    }
    n
}

/// A size in bytes from a positive real, saturating rather than wrapping.
#[inline]
pub(crate) fn bytes(x: f64) -> u64 {
    x.round() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mean(xs: &[f64]) -> f64 {
        xs.iter().sum::<f64>() / xs.len() as f64
    }

    fn median(xs: &mut [f64]) -> f64 {
        xs.sort_by(f64::total_cmp);
        xs[xs.len() / 2]
    }

    #[test]
    fn exponential_has_the_requested_mean() {
        let mut rng = DetRng::new(1);
        let xs: Vec<f64> = (0..50_000).map(|_| exponential(&mut rng, 4.0)).collect();
        assert!((mean(&xs) - 0.25).abs() < 0.01, "{}", mean(&xs));
        assert!(xs.iter().all(|&x| x >= 0.0 && x.is_finite()));
    }

    #[test]
    fn normal_and_log_normal_have_the_requested_centre_and_spread() {
        let mut rng = DetRng::new(2);
        let zs: Vec<f64> = (0..50_000).map(|_| standard_normal(&mut rng)).collect();
        let m = mean(&zs);
        let var = zs.iter().map(|z| (z - m) * (z - m)).sum::<f64>() / zs.len() as f64;
        assert!(m.abs() < 0.02 && (var - 1.0).abs() < 0.03, "{m} {var}");
        let mut ls: Vec<f64> = (0..50_000)
            .map(|_| log_normal(&mut rng, 1_000.0, 1.0))
            .collect();
        let med = median(&mut ls);
        assert!((med / 1_000.0 - 1.0).abs() < 0.05, "{med}");
    }

    #[test]
    fn pareto_respects_its_minimum_and_tail() {
        let mut rng = DetRng::new(3);
        let xs: Vec<f64> = (0..50_000).map(|_| pareto(&mut rng, 10.0, 2.0)).collect();
        assert!(xs.iter().all(|&x| x >= 10.0));
        // P(X > 20) = (10/20)^2 = 0.25.
        let above = xs.iter().filter(|&&x| x > 20.0).count() as f64 / xs.len() as f64;
        assert!((above - 0.25).abs() < 0.01, "{above}");
    }

    #[test]
    fn thinning_follows_the_varying_rate() {
        let mut rng = DetRng::new(4);
        // Rate 1/s in the first half, 3/s in the second.
        let rate = |t: f64| if t < 500.0 { 1.0 } else { 3.0 };
        let (mut t, mut first, mut second) = (0.0, 0, 0);
        while let Some(next) = next_arrival(&mut rng, t, 1_000.0, 3.0, rate) {
            assert!(next > t && next <= 1_000.0);
            t = next;
            if t < 500.0 {
                first += 1;
            } else {
                second += 1;
            }
        }
        assert!((430..570).contains(&first), "{first}");
        assert!((1_380..1_620).contains(&second), "{second}");
    }

    #[test]
    fn same_seed_same_draws() {
        let draw = |seed| {
            let mut rng = DetRng::new(seed);
            (0..100)
                .map(|_| {
                    log_normal(&mut rng, 5.0, 2.0).to_bits() ^ pareto(&mut rng, 1.0, 1.2).to_bits()
                })
                .collect::<Vec<u64>>()
        };
        assert_eq!(draw(9), draw(9));
        assert_ne!(draw(9), draw(10));
    }
}
