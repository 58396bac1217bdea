//! Named scenarios a user picks from (the UI's preset list, `preset=<id>` in the URL): each
//! is a complete `GeneratorConfig` that the user can then adjust.
//!
//! Ids are stable (they appear in shared links); titles and descriptions are for people.
//! Not here: detection settings, which presets leave at their defaults.

use super::config::{AttackSpec, GeneratorConfig, ScanMethod};
use crate::traffic::flow::AttackKind;

/// A named scenario.
#[derive(Debug, Clone, Copy)]
pub struct Preset {
    /// Stable, URL-safe identifier.
    pub id: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    build: fn() -> GeneratorConfig,
}

/// Presets are equal when their ids are (ids are unique).
impl PartialEq for Preset {
    fn eq(&self, other: &Preset) -> bool {
        self.id == other.id
    }
}

impl Eq for Preset {}

impl Preset {
    /// The scenario's full configuration.
    pub fn config(&self) -> GeneratorConfig {
        (self.build)()
    }

    /// The preset with this id (case-insensitive).
    pub fn find(id: &str) -> Option<&'static Preset> {
        PRESETS
            .iter()
            .find(|p| p.id.eq_ignore_ascii_case(id.trim()))
    }
}

/// Every preset, the default first.
pub const PRESETS: [Preset; 5] = [
    Preset {
        id: "demo",
        title: "Quick demo",
        description: "40 hosts for an hour with a loud port scan, SYN flood and SSH brute \
                      force: clear detections in seconds (the default).",
        build: GeneratorConfig::default,
    },
    Preset {
        id: "ddos_day",
        title: "Noisy DDoS day",
        description: "80 hosts for two hours: a heavy spoofed SYN flood, a slowloris attack \
                      on the web server, an ICMP sweep and a UDP port scan.",
        build: ddos_day,
    },
    Preset {
        id: "stealthy_intrusion",
        title: "Stealthy intrusion",
        description: "60 hosts for two hours: a quiet kill chain (slow horizontal scan, \
                      distributed RDP guessing, lateral movement, a 30 %-jitter HTTPS beacon, \
                      a low-rate DNS tunnel and trickled exfiltration). Hard on purpose.",
        build: stealthy_intrusion,
    },
    Preset {
        id: "everything",
        title: "Everything",
        description: "40 hosts for an hour with one loud attack of every kind, one after the \
                      other (beaconing and mining run to the end).",
        build: everything,
    },
    Preset {
        id: "large_site",
        title: "Large site, working day",
        description: "500 hosts for two hours from 08:00 with every attack at medium \
                      stealth: about a million flows, for scale and speed.",
        build: large_site,
    },
];

fn with_attacks(hosts: u32, duration_s: f64, kinds: &[AttackKind]) -> GeneratorConfig {
    GeneratorConfig {
        hosts,
        duration_s,
        attacks: kinds
            .iter()
            .map(|&kind| AttackSpec::default_for(kind, duration_s))
            .collect(),
        ..GeneratorConfig::default()
    }
}

fn ddos_day() -> GeneratorConfig {
    let mut config = with_attacks(
        80,
        7_200.0,
        &[
            AttackKind::PortScan,
            AttackKind::SynFlood,
            AttackKind::IcmpSweep,
            AttackKind::Slowloris,
        ],
    );
    for a in &mut config.attacks {
        match a.kind {
            AttackKind::SynFlood => {
                a.intensity = 5.0;
                a.duration_s = 300.0;
            }
            AttackKind::PortScan => a.method = ScanMethod::Udp,
            AttackKind::Slowloris => a.intensity = 2.0,
            _ => {}
        }
    }
    config
}

fn stealthy_intrusion() -> GeneratorConfig {
    let mut config = with_attacks(
        60,
        7_200.0,
        &[
            AttackKind::HorizontalScan,
            AttackKind::RdpBruteForce,
            AttackKind::LateralMovement,
            AttackKind::C2Beacon,
            AttackKind::DnsTunnel,
            AttackKind::Exfiltration,
        ],
    );
    for a in &mut config.attacks {
        a.stealth = match a.kind {
            AttackKind::HorizontalScan => 0.8,
            AttackKind::RdpBruteForce => 0.7,
            AttackKind::DnsTunnel => 0.8,
            _ => 1.0,
        };
        if a.kind == AttackKind::C2Beacon {
            a.period_s = 300.0;
            a.jitter = Some(0.3);
        }
    }
    config
}

fn everything() -> GeneratorConfig {
    GeneratorConfig {
        attacks: GeneratorConfig::all_attacks(super::DEFAULT_DURATION_S),
        ..GeneratorConfig::default()
    }
}

fn large_site() -> GeneratorConfig {
    let mut config = GeneratorConfig {
        hosts: 500,
        duration_s: 2.0 * 3_600.0,
        // 2026-01-05T08:00:00Z, a Monday morning.
        start_ts: 1_767_600_000.0,
        ..GeneratorConfig::default()
    };
    config.attacks = GeneratorConfig::all_attacks(config.duration_s);
    for a in &mut config.attacks {
        a.stealth = 0.5;
    }
    config
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_are_valid_distinct_and_findable() {
        let mut ids: Vec<&str> = PRESETS.iter().map(|p| p.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), PRESETS.len());
        for p in &PRESETS {
            assert!(p.id.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'));
            p.config()
                .validate()
                .unwrap_or_else(|e| panic!("{}: {e}", p.id));
            assert_eq!(Preset::find(&p.id.to_uppercase()), Some(p));
        }
        assert_eq!(PRESETS[0].config(), GeneratorConfig::default());
        assert_eq!(Preset::find("nope"), None);
        let everything = Preset::find("everything").unwrap().config();
        assert_eq!(everything.attacks.len(), AttackKind::ALL.len());
        for p in &PRESETS[..4] {
            let config = p.config();
            let actual = super::super::generate(&config).unwrap().flows.len() as f64;
            let estimate = config.estimated_flows() as f64;
            assert!(
                (estimate / actual - 1.0).abs() < 0.25,
                "{}: estimate {estimate} vs {actual}",
                p.id
            );
        }
        let stealthy = Preset::find("stealthy_intrusion").unwrap().config();
        assert!(stealthy.attacks.iter().all(|a| a.stealth >= 0.7));
    }
}
