//! Whether a page opened on a configuration (the bare address: the quick demo; a shared
//! link: its settings) runs it at once, so the page is alive on arrival.
//!
//! Small runs start by themselves; a run above [`OPEN_RUN_MAX_FLOWS`] waits for Run, so a
//! link to a million-flow preset does not take a phone's processor for half a minute
//! before its owner has seen the page. Not for deciding anything about the run itself.

use crate::detection::run_config::RunConfig;
use crate::util::format_value::format_value;

/// Flows (the generator's estimate) up to which an opened page runs at once: a few times the
/// quick demo (about 44,000 flows, 2-3 s in the tab).
pub const OPEN_RUN_MAX_FLOWS: u64 = 150_000;

/// What an opened page does with its configuration.
#[derive(Debug, Clone, PartialEq)]
pub enum OnOpen {
    /// Runs it at once.
    Run,
    /// Waits for Run, saying why in words.
    Wait(String),
}

/// Decides for the configuration the page opened with.
pub fn on_open(config: &RunConfig) -> OnOpen {
    if let Err(problem) = config.generator.validate() {
        return OnOpen::Wait(format!("These settings cannot run: {problem}."));
    }
    let flows = config.generator.estimated_flows();
    if flows > OPEN_RUN_MAX_FLOWS {
        return OnOpen::Wait(format!(
            "Ready. These settings make a large run (about {} flows): press Run detection to start it.",
            format_value(flows as f64)
        ));
    }
    OnOpen::Run
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decide(query: &str) -> OnOpen {
        on_open(&RunConfig::from_query(query).0)
    }

    #[test]
    fn the_quick_demo_and_small_links_run_large_ones_wait() {
        assert_eq!(decide(""), OnOpen::Run);
        assert_eq!(decide("seed=5&hosts=40&duration=60"), OnOpen::Run);
        match decide("preset=large_site&duration=8400") {
            OnOpen::Wait(why) => assert!(why.contains("large run (about"), "{why}"),
            OnOpen::Run => panic!("a million flows would run on open"),
        }
        assert!(matches!(
            decide("seed=3&hosts=400&duration=43200"),
            OnOpen::Wait(_)
        ));
    }
}
