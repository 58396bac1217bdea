//! Whether a generator request can run: every setting inside `LIMITS`, every attack inside the
//! run, and the expected volume under `FLOWS_MAX`.
//!
//! Kept apart from `config` (which only describes a request) because the volume estimate needs
//! the benign and attack rates, and those modules read the config: this file sits above all
//! three, so none of them imports it.

use super::attacks;
use super::benign;
use super::config::*;

impl GeneratorConfig {
    /// Checks the config against `LIMITS`, rejecting non-finite numbers and attacks that do
    /// not lie entirely inside the run.
    pub fn validate(&self) -> Result<(), GeneratorError> {
        if !(HOSTS_MIN..=HOSTS_MAX).contains(&self.hosts) {
            return Err(GeneratorError::HostsOutOfRange { hosts: self.hosts });
        }
        if !(DURATION_MIN_S..=DURATION_MAX_S).contains(&self.duration_s) {
            return Err(GeneratorError::DurationOutOfRange {
                duration_s: self.duration_s,
            });
        }
        if !(0.0..=START_TS_MAX).contains(&self.start_ts) {
            return Err(GeneratorError::StartTsOutOfRange {
                start_ts: self.start_ts,
            });
        }
        if self.attacks.len() > ATTACKS_MAX {
            return Err(GeneratorError::TooManyAttacks {
                count: self.attacks.len(),
            });
        }
        for (index, attack) in self.attacks.iter().enumerate() {
            if !(INTENSITY_MIN..=INTENSITY_MAX).contains(&attack.intensity) {
                return Err(GeneratorError::IntensityOutOfRange {
                    index,
                    kind: attack.kind,
                    intensity: attack.intensity,
                });
            }
            if !(STEALTH_MIN..=STEALTH_MAX).contains(&attack.stealth) {
                return Err(GeneratorError::StealthOutOfRange {
                    index,
                    kind: attack.kind,
                    stealth: attack.stealth,
                });
            }
            if !(BEACON_PERIOD_MIN_S..=BEACON_PERIOD_MAX_S).contains(&attack.period_s) {
                return Err(GeneratorError::PeriodOutOfRange {
                    index,
                    kind: attack.kind,
                    period_s: attack.period_s,
                });
            }
            if let Some(jitter) = attack.jitter {
                if !(0.0..=JITTER_MAX).contains(&jitter) {
                    return Err(GeneratorError::JitterOutOfRange {
                        index,
                        kind: attack.kind,
                        jitter,
                    });
                }
            }
            let end_s = attack.start_s + attack.duration_s;
            // Written so that NaN fails every comparison and lands in the error.
            let inside = attack.start_s >= 0.0
                && attack.duration_s > 0.0
                && end_s.is_finite()
                && end_s <= self.duration_s;
            if !inside {
                return Err(GeneratorError::AttackOutsideRun {
                    index,
                    kind: attack.kind,
                    start_s: attack.start_s,
                    duration_s: attack.duration_s,
                    run_duration_s: self.duration_s,
                });
            }
        }
        let estimated = self.estimated_flows();
        if estimated > FLOWS_MAX {
            return Err(GeneratorError::TooManyFlows { estimated });
        }
        Ok(())
    }

    /// Expected number of flows (benign plus attack) for a valid config; the generator
    /// preallocates from it and `validate` bounds it.
    pub fn estimated_flows(&self) -> u64 {
        let benign = benign::expected_flows(self);
        let attacks: f64 = self.attacks.iter().map(attacks::expected_flows).sum();
        (benign + attacks).ceil() as u64
    }
}
