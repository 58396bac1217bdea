//! What the generator is asked to produce: run size, timing and the attacks to inject, with
//! the explicit limits the UI and URL parser clamp to, and the error a refused request gets.
//!
//! This file only describes a request; it generates nothing. Checking it against the limits
//! (and estimating its volume from the rates in `benign.rs` and `attacks.rs`) is `validate.rs`.

use crate::traffic::flow::AttackKind;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Fewest internal hosts: one server and one workstation.
pub const HOSTS_MIN: u32 = 2;
pub const HOSTS_MAX: u32 = 500;
pub const DURATION_MIN_S: f64 = 60.0;
/// One day: the longest run the day-shaped benign rate is designed for.
pub const DURATION_MAX_S: f64 = 86_400.0;
pub const INTENSITY_MIN: f64 = 0.1;
pub const INTENSITY_MAX: f64 = 10.0;
/// Stealth runs from 0 (loud, textbook) to 1 (as quiet as the attack can be and still work).
pub const STEALTH_MIN: f64 = 0.0;
pub const STEALTH_MAX: f64 = 1.0;
/// A C2 beacon's period: from chatty implants to ones that call home hourly.
pub const BEACON_PERIOD_MIN_S: f64 = 1.0;
pub const BEACON_PERIOD_MAX_S: f64 = 3_600.0;
pub const DEFAULT_BEACON_PERIOD_S: f64 = 60.0;
/// Jitter as a share of the period: the gap is drawn uniformly from period × (1 ± jitter).
pub const JITTER_MAX: f64 = 0.9;
/// More attacks than this is a malformed URL rather than a scenario.
pub const ATTACKS_MAX: usize = 16;
/// Largest `start_ts` accepted (2100-01-01T00:00:00Z); keeps timestamps sub-microsecond exact.
pub const START_TS_MAX: f64 = 4_102_444_800.0;
/// Expected-flow budget. Every benign-only run inside the other limits fits; it exists to
/// stop e.g. a day-long flood at intensity 10 (~130M flows) from exhausting memory.
pub const FLOWS_MAX: u64 = 16_000_000;

/// The limits above as one value, for the UI to clamp its inputs and show ranges.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Limits {
    pub hosts_min: u32,
    pub hosts_max: u32,
    pub duration_min_s: f64,
    pub duration_max_s: f64,
    pub intensity_min: f64,
    pub intensity_max: f64,
    pub stealth_min: f64,
    pub stealth_max: f64,
    pub beacon_period_min_s: f64,
    pub beacon_period_max_s: f64,
    pub jitter_max: f64,
    pub attacks_max: usize,
    pub flows_max: u64,
}

pub const LIMITS: Limits = Limits {
    hosts_min: HOSTS_MIN,
    hosts_max: HOSTS_MAX,
    duration_min_s: DURATION_MIN_S,
    duration_max_s: DURATION_MAX_S,
    intensity_min: INTENSITY_MIN,
    intensity_max: INTENSITY_MAX,
    stealth_min: STEALTH_MIN,
    stealth_max: STEALTH_MAX,
    beacon_period_min_s: BEACON_PERIOD_MIN_S,
    beacon_period_max_s: BEACON_PERIOD_MAX_S,
    jitter_max: JITTER_MAX,
    attacks_max: ATTACKS_MAX,
    flows_max: FLOWS_MAX,
};

/// The default demo's start: 2026-01-01T10:00:00Z, a working morning.
pub const DEFAULT_START_TS: f64 = 1_767_261_600.0;
pub const DEFAULT_SEED: u64 = 42;
pub const DEFAULT_HOSTS: u32 = 40;
pub const DEFAULT_DURATION_S: f64 = 3_600.0;

/// Share of the run kept free of default-timed attacks, so a detector can train on it.
const CLEAN_PREFIX_SHARE: f64 = 0.3;

/// How a scan probes (port scan and horizontal scan; other kinds ignore it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ScanMethod {
    /// Half-open: SYN, then RST on a SYN-ACK (nmap -sS).
    #[default]
    Syn,
    /// Full handshake then an immediate close (nmap -sT, no privileges needed).
    Connect,
    /// Empty UDP datagrams; closed ports answer with ICMP unreachable (nmap -sU).
    Udp,
}

crate::util::serde_names::serde_by_name!(ScanMethod, "a scan method");

impl ScanMethod {
    pub const ALL: [ScanMethod; 3] = [ScanMethod::Syn, ScanMethod::Connect, ScanMethod::Udp];

    pub fn as_str(self) -> &'static str {
        match self {
            ScanMethod::Syn => "syn",
            ScanMethod::Connect => "connect",
            ScanMethod::Udp => "udp",
        }
    }

    pub fn parse(name: &str) -> Option<ScanMethod> {
        ScanMethod::ALL
            .into_iter()
            .find(|m| m.as_str().eq_ignore_ascii_case(name.trim()))
    }
}

/// The attacks the default demo injects: the original three, loud, so a first run shows
/// clear detections. `GeneratorConfig::all_attacks` has every kind.
pub const DEFAULT_ATTACK_KINDS: [AttackKind; 3] = [
    AttackKind::PortScan,
    AttackKind::SynFlood,
    AttackKind::BruteForce,
];

/// One attack to inject.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AttackSpec {
    pub kind: AttackKind,
    /// Offset from the run's start.
    pub start_s: f64,
    pub duration_s: f64,
    /// Loudness multiplier on the attack's rate: 1 is the default, 0.1..=10.
    pub intensity: f64,
    /// 0 = loud (textbook tool defaults) .. 1 = stealthy (slow, small, blending into benign
    /// traffic); what that means differs per kind, see `attacks.rs`.
    pub stealth: f64,
    /// Probe type of scans.
    pub method: ScanMethod,
    /// C2 beacon period.
    pub period_s: f64,
    /// C2 beacon jitter as a share of the period; `None` derives it from stealth
    /// (5 % when loud up to 30 % when stealthy).
    pub jitter: Option<f64>,
}

/// Attacks that run for hours in reality: by default they last from their slot to the end.
fn is_long_running(kind: AttackKind) -> bool {
    matches!(kind, AttackKind::C2Beacon | AttackKind::CryptoMining)
}

impl AttackSpec {
    /// Default timing for `kind` in a run of `duration_s_of_run`: the part after the clean
    /// prefix is split into one slot per attack kind (in `AttackKind::ALL` order), so the
    /// default short attacks never overlap and each sits well inside its slot. Long-running
    /// kinds (beacon, mining) start in their slot and last to near the run's end.
    pub fn default_for(kind: AttackKind, duration_s_of_run: f64) -> AttackSpec {
        let kinds = AttackKind::ALL.len() as f64;
        let slot_s = duration_s_of_run * (1.0 - CLEAN_PREFIX_SHARE) / kinds;
        let slot = AttackKind::ALL.iter().position(|&k| k == kind).unwrap_or(0) as f64;
        let start_s = duration_s_of_run * CLEAN_PREFIX_SHARE + slot_s * (slot + 0.2);
        let nominal_s: f64 = match kind {
            // ~1000 ports at the default rate, like `nmap`'s top-1000 scan.
            AttackKind::PortScan => 20.0,
            // A short, loud burst: a few thousand flows.
            AttackKind::SynFlood => 20.0,
            // Password guessing is slow and long.
            AttackKind::BruteForce | AttackKind::RdpBruteForce => 300.0,
            AttackKind::HorizontalScan => 60.0,
            AttackKind::Exfiltration => 300.0,
            AttackKind::DnsTunnel => 120.0,
            AttackKind::LateralMovement => 120.0,
            AttackKind::IcmpSweep => 30.0,
            AttackKind::Slowloris => 300.0,
            AttackKind::C2Beacon | AttackKind::CryptoMining => f64::INFINITY,
        };
        let duration_s = if is_long_running(kind) {
            duration_s_of_run * 0.99 - start_s
        } else {
            nominal_s.min(slot_s * 0.6)
        };
        AttackSpec {
            kind,
            start_s,
            duration_s,
            intensity: 1.0,
            stealth: 0.0,
            method: ScanMethod::Syn,
            period_s: DEFAULT_BEACON_PERIOD_S,
            jitter: None,
        }
    }

    /// The beacon jitter in use: the configured one, or the stealth-derived default.
    pub fn effective_jitter(&self) -> f64 {
        self.jitter.unwrap_or(0.05 + 0.25 * self.stealth)
    }
}

impl Default for AttackSpec {
    fn default() -> AttackSpec {
        AttackSpec::default_for(AttackKind::PortScan, DEFAULT_DURATION_S)
    }
}

/// Everything that determines a generated run: the same config always yields the same flows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GeneratorConfig {
    pub seed: u64,
    /// Internal hosts, servers included.
    pub hosts: u32,
    pub duration_s: f64,
    /// Run start, seconds since the Unix epoch; the benign rate follows its time of day.
    pub start_ts: f64,
    pub attacks: Vec<AttackSpec>,
}

impl Default for GeneratorConfig {
    fn default() -> GeneratorConfig {
        GeneratorConfig {
            seed: DEFAULT_SEED,
            hosts: DEFAULT_HOSTS,
            duration_s: DEFAULT_DURATION_S,
            start_ts: DEFAULT_START_TS,
            attacks: GeneratorConfig::default_attacks(DEFAULT_DURATION_S),
        }
    }
}

impl GeneratorConfig {
    /// The default demo's attacks (`DEFAULT_ATTACK_KINDS`) with `default_for` timing in a
    /// run of `duration_s`.
    pub fn default_attacks(duration_s: f64) -> Vec<AttackSpec> {
        DEFAULT_ATTACK_KINDS
            .iter()
            .map(|&kind| AttackSpec::default_for(kind, duration_s))
            .collect()
    }

    /// One attack of every kind with `default_for` timing in a run of `duration_s`.
    pub fn all_attacks(duration_s: f64) -> Vec<AttackSpec> {
        AttackKind::ALL
            .iter()
            .map(|&kind| AttackSpec::default_for(kind, duration_s))
            .collect()
    }
}

/// Why a config was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum GeneratorError {
    HostsOutOfRange {
        hosts: u32,
    },
    DurationOutOfRange {
        duration_s: f64,
    },
    StartTsOutOfRange {
        start_ts: f64,
    },
    TooManyAttacks {
        count: usize,
    },
    IntensityOutOfRange {
        index: usize,
        kind: AttackKind,
        intensity: f64,
    },
    StealthOutOfRange {
        index: usize,
        kind: AttackKind,
        stealth: f64,
    },
    PeriodOutOfRange {
        index: usize,
        kind: AttackKind,
        period_s: f64,
    },
    JitterOutOfRange {
        index: usize,
        kind: AttackKind,
        jitter: f64,
    },
    /// The attack's window is not a finite, non-empty part of `[0, run_duration_s]`.
    AttackOutsideRun {
        index: usize,
        kind: AttackKind,
        start_s: f64,
        duration_s: f64,
        run_duration_s: f64,
    },
    TooManyFlows {
        estimated: u64,
    },
}

impl fmt::Display for GeneratorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GeneratorError::HostsOutOfRange { hosts } => {
                write!(f, "hosts = {hosts} is outside {HOSTS_MIN}..={HOSTS_MAX}")
            }
            GeneratorError::DurationOutOfRange { duration_s } => write!(
                f,
                "duration_s = {duration_s} is outside {DURATION_MIN_S}..={DURATION_MAX_S}"
            ),
            GeneratorError::StartTsOutOfRange { start_ts } => write!(
                f,
                "start_ts = {start_ts} is outside 0..={START_TS_MAX} (seconds since the Unix epoch)"
            ),
            GeneratorError::TooManyAttacks { count } => {
                write!(
                    f,
                    "{count} attacks configured, at most {ATTACKS_MAX} allowed"
                )
            }
            GeneratorError::IntensityOutOfRange {
                index,
                kind,
                intensity,
            } => write!(
                f,
                "attack #{index} ({kind}): intensity = {intensity} is outside \
                 {INTENSITY_MIN}..={INTENSITY_MAX}"
            ),
            GeneratorError::StealthOutOfRange {
                index,
                kind,
                stealth,
            } => write!(
                f,
                "attack #{index} ({kind}): stealth = {stealth} is outside \
                 {STEALTH_MIN}..={STEALTH_MAX}"
            ),
            GeneratorError::PeriodOutOfRange {
                index,
                kind,
                period_s,
            } => write!(
                f,
                "attack #{index} ({kind}): period_s = {period_s} is outside \
                 {BEACON_PERIOD_MIN_S}..={BEACON_PERIOD_MAX_S}"
            ),
            GeneratorError::JitterOutOfRange {
                index,
                kind,
                jitter,
            } => write!(
                f,
                "attack #{index} ({kind}): jitter = {jitter} is outside 0..={JITTER_MAX} \
                 (a share of the period)"
            ),
            GeneratorError::AttackOutsideRun {
                index,
                kind,
                start_s,
                duration_s,
                run_duration_s,
            } => write!(
                f,
                "attack #{index} ({kind}): window start_s = {start_s}, duration_s = \
                 {duration_s} is not a non-empty part of the {run_duration_s} s run"
            ),
            GeneratorError::TooManyFlows { estimated } => write!(
                f,
                "the config would produce about {estimated} flows, more than the \
                 {FLOWS_MAX} limit; shorten or soften the attacks, or shorten the run"
            ),
        }
    }
}

impl std::error::Error for GeneratorError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(config: &GeneratorConfig) -> GeneratorError {
        config.validate().expect_err("config should be rejected")
    }

    #[test]
    fn default_is_valid_and_default_attacks_follow_the_clean_prefix_without_overlap() {
        let config = GeneratorConfig::default();
        config.validate().unwrap();
        assert_eq!(config.attacks.len(), DEFAULT_ATTACK_KINDS.len());
        for run_s in [DURATION_MIN_S, DEFAULT_DURATION_S, DURATION_MAX_S] {
            let mut windows: Vec<(f64, f64)> = GeneratorConfig::all_attacks(run_s)
                .iter()
                .filter(|a| !is_long_running(a.kind))
                .map(|a| (a.start_s, a.start_s + a.duration_s))
                .collect();
            windows.sort_by(|a, b| a.0.total_cmp(&b.0));
            assert!(windows[0].0 >= run_s * CLEAN_PREFIX_SHARE);
            assert!(windows.windows(2).all(|w| w[0].1 < w[1].0), "{windows:?}");
            for attacks in [
                GeneratorConfig::default_attacks(run_s),
                GeneratorConfig::all_attacks(run_s),
            ] {
                let config = GeneratorConfig {
                    duration_s: run_s,
                    attacks,
                    ..GeneratorConfig::default()
                };
                config.validate().unwrap();
            }
        }
    }

    #[test]
    fn validate_rejects_out_of_range_and_non_finite_values() {
        let base = GeneratorConfig::default();
        let with = |f: &dyn Fn(&mut GeneratorConfig)| {
            let mut c = base.clone();
            f(&mut c);
            c
        };
        assert!(matches!(
            err(&with(&|c| c.hosts = 1)),
            GeneratorError::HostsOutOfRange { hosts: 1 }
        ));
        assert!(matches!(
            err(&with(&|c| c.hosts = HOSTS_MAX + 1)),
            GeneratorError::HostsOutOfRange { .. }
        ));
        for duration_s in [59.0, 86_401.0, f64::NAN, f64::INFINITY] {
            assert!(matches!(
                err(&with(&|c| c.duration_s = duration_s)),
                GeneratorError::DurationOutOfRange { .. }
            ));
        }
        for start_ts in [-1.0, f64::NAN, 1e300] {
            assert!(matches!(
                err(&with(&|c| c.start_ts = start_ts)),
                GeneratorError::StartTsOutOfRange { .. }
            ));
        }
        for intensity in [0.0, 10.5, f64::NAN] {
            let e = err(&with(&|c| c.attacks[1].intensity = intensity));
            assert!(
                matches!(e, GeneratorError::IntensityOutOfRange { index: 1, .. }),
                "{e}"
            );
        }
        let outside: [(f64, f64); 5] = [
            (-1.0, 10.0),
            (3_590.0, 20.0),
            (100.0, 0.0),
            (f64::NAN, 10.0),
            (100.0, f64::INFINITY),
        ];
        for (start_s, duration_s) in outside {
            let e = err(&with(&|c| {
                c.attacks[2].start_s = start_s;
                c.attacks[2].duration_s = duration_s;
            }));
            assert!(
                matches!(
                    e,
                    GeneratorError::AttackOutsideRun {
                        index: 2,
                        kind: AttackKind::BruteForce,
                        ..
                    }
                ),
                "{e}"
            );
        }
        for stealth in [-0.1, 1.5, f64::NAN] {
            let e = err(&with(&|c| c.attacks[0].stealth = stealth));
            assert!(
                matches!(e, GeneratorError::StealthOutOfRange { index: 0, .. }),
                "{e}"
            );
        }
        for period_s in [0.5, 4_000.0, f64::NAN] {
            let e = err(&with(&|c| c.attacks[1].period_s = period_s));
            assert!(matches!(e, GeneratorError::PeriodOutOfRange { .. }), "{e}");
        }
        for jitter in [-0.1, 0.95, f64::NAN] {
            let e = err(&with(&|c| c.attacks[1].jitter = Some(jitter)));
            assert!(matches!(e, GeneratorError::JitterOutOfRange { .. }), "{e}");
        }
        let many = with(&|c| c.attacks = vec![AttackSpec::default(); ATTACKS_MAX + 1]);
        assert!(matches!(err(&many), GeneratorError::TooManyAttacks { .. }));
        let flood = with(&|c| {
            c.duration_s = DURATION_MAX_S;
            c.attacks = vec![AttackSpec {
                kind: AttackKind::SynFlood,
                start_s: 0.0,
                duration_s: DURATION_MAX_S,
                intensity: INTENSITY_MAX,
                ..AttackSpec::default()
            }];
        });
        assert!(matches!(err(&flood), GeneratorError::TooManyFlows { .. }));
        // The error names the offending attack.
        let message = err(&with(&|c| c.attacks[0].intensity = 20.0)).to_string();
        assert!(
            message.contains("#0") && message.contains("port_scan"),
            "{message}"
        );
    }

    #[test]
    fn largest_benign_only_run_fits_the_flow_budget() {
        let config = GeneratorConfig {
            hosts: HOSTS_MAX,
            duration_s: DURATION_MAX_S,
            attacks: Vec::new(),
            ..GeneratorConfig::default()
        };
        config.validate().unwrap();
    }

    #[test]
    fn partial_json_fills_in_defaults() {
        let config: GeneratorConfig =
            serde_json::from_str(r#"{"seed": 7, "attacks": [{"kind": "syn_flood"}]}"#).unwrap();
        assert_eq!(config.seed, 7);
        assert_eq!(config.hosts, DEFAULT_HOSTS);
        assert_eq!(config.attacks[0].kind, AttackKind::SynFlood);
        assert_eq!(config.attacks[0].intensity, 1.0);
        assert_eq!(config.attacks[0].stealth, 0.0);
        assert_eq!(config.attacks[0].method, ScanMethod::Syn);
        let jitter = config.attacks[0].effective_jitter();
        assert!((jitter - 0.05).abs() < 1e-12);
        let stealthy = AttackSpec {
            stealth: 1.0,
            ..AttackSpec::default()
        };
        assert!((stealthy.effective_jitter() - 0.3).abs() < 1e-12);
    }
}
