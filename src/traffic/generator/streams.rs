//! Independent, named random streams derived from the run's seed, one per host or attack.

use super::network::splitmix64;
use crate::util::rng::DetRng;

/// An independent random stream for one purpose and index (a host, an attack), so adding or
/// changing one part of the run leaves every other part's draws untouched.
pub(crate) fn stream(seed: u64, purpose: &str, index: u64) -> DetRng {
    let mut state = seed ^ index.wrapping_mul(0xd1b5_4a32_d192_ed03);
    DetRng::derive(splitmix64(&mut state), purpose)
}
