//! Synthetic network traffic: a small site's benign flows with injected, labelled attacks and
//! the ground-truth incidents, deterministic for a given config on every target.
//!
//! This module produces `FlowRecord`s and `Incident`s only; features, detection and reporting
//! live elsewhere. Layout: `config` (request and limits), `validate` (whether a request can
//! run, and its expected volume), `network` (hosts, roles, addresses), `benign` and `attacks`
//! (what happens when), `emit` (record building), `sample` (distributions), `streams` (named
//! random streams), `incident` (ground truth per attack) and `presets` (named scenarios). This
//! file only drives them: no child imports it.

mod attacks;
mod benign;
mod config;
mod emit;
mod incident;
mod network;
pub mod presets;
pub mod ui_fields;

#[cfg(test)]
mod attack_tests;
mod sample;
mod streams;
mod validate;

pub use config::{
    AttackSpec, GeneratorConfig, GeneratorError, Limits, ScanMethod, ATTACKS_MAX,
    BEACON_PERIOD_MAX_S, BEACON_PERIOD_MIN_S, DEFAULT_ATTACK_KINDS, DEFAULT_BEACON_PERIOD_S,
    DEFAULT_DURATION_S, DEFAULT_HOSTS, DEFAULT_SEED, DEFAULT_START_TS, DURATION_MAX_S,
    DURATION_MIN_S, FLOWS_MAX, HOSTS_MAX, HOSTS_MIN, INTENSITY_MAX, INTENSITY_MIN, JITTER_MAX,
    LIMITS, START_TS_MAX, STEALTH_MAX, STEALTH_MIN,
};

pub use incident::Incident;

use crate::traffic::flow::FlowRecord;
use emit::Sink;
use network::Network;
use streams::stream;

/// A generated run.
#[derive(Debug, Clone, PartialEq)]
pub struct Traffic {
    /// All flows, sorted by `ts` (stable: ties keep generation order).
    pub flows: Vec<FlowRecord>,
    /// One per configured attack, in config order.
    pub incidents: Vec<Incident>,
}

/// Generates the run `config` describes.
pub fn generate(config: &GeneratorConfig) -> Result<Traffic, GeneratorError> {
    generate_with_progress(config, &mut |_| {})
}

/// Share of the progress bar for benign traffic and attacks; sorting takes the rest.
const PROGRESS_BENIGN: f64 = 0.85;
const PROGRESS_ATTACKS: f64 = 0.9;

/// As `generate`, reporting the share done (0..=1, non-decreasing) about twenty times, the
/// last call being exactly 1.
pub fn generate_with_progress(
    config: &GeneratorConfig,
    on_progress: &mut dyn FnMut(f64),
) -> Result<Traffic, GeneratorError> {
    config.validate()?;
    let mut progress = Progress::new(on_progress);
    progress.report(0.0);
    let net = Network::build(config.seed, config.hosts);
    let estimate = usize::try_from(config.estimated_flows()).unwrap_or(usize::MAX);
    // Headroom for Poisson variation, so the vector rarely has to grow.
    let mut flows = Vec::with_capacity(estimate.saturating_add(estimate / 8 + 256));
    let mut incidents = Vec::with_capacity(config.attacks.len());
    {
        let mut sink = Sink::new(
            &mut flows,
            config.start_ts,
            config.start_ts + config.duration_s,
        );
        benign::generate(config, &net, &mut sink, &mut |share| {
            progress.report(share * PROGRESS_BENIGN)
        });
        for (index, spec) in config.attacks.iter().enumerate() {
            let mut rng = stream(
                config.seed,
                attacks::stream_purpose(spec.kind),
                index as u64,
            );
            let id = index as u32;
            incidents.push(attacks::inject(
                id,
                spec,
                config.start_ts,
                &net,
                &mut rng,
                &mut sink,
            ));
        }
        progress.report(PROGRESS_ATTACKS);
    }
    sort_by_ts(&mut flows);
    progress.report(1.0);
    Ok(Traffic { flows, incidents })
}

/// Runs up to this many flows are sorted by gathering into a new vector (fast: reads follow
/// the generator's per-host runs, writes are sequential) at the price of a second copy for a
/// moment; larger runs are permuted in place so peak memory stays one copy (what matters
/// near wasm's 4 GB).
const GATHER_SORT_MAX_FLOWS: usize = 4_000_000;

/// Stable sort by `ts`. Sorting the 120-byte records directly moves each many times; sorting
/// small (ts, index) keys and then moving each record once is much cheaper.
fn sort_by_ts(flows: &mut Vec<FlowRecord>) {
    sort_by_ts_gathering_up_to(flows, GATHER_SORT_MAX_FLOWS);
}

fn sort_by_ts_gathering_up_to(flows: &mut Vec<FlowRecord>, gather_max: usize) {
    // `FLOWS_MAX` keeps indices far below `u32::MAX`, which marks finished slots below.
    debug_assert!(flows.len() < u32::MAX as usize);
    // The index breaks ties in generation order, which makes the unstable key sort stable.
    let mut keys: Vec<(u64, u32)> = flows
        .iter()
        .enumerate()
        .map(|(i, f)| (ordered_bits(f.ts), i as u32))
        .collect();
    keys.sort_unstable();
    if keys.windows(2).all(|w| w[0].1 < w[1].1) {
        return;
    }
    if flows.len() <= gather_max {
        let mut sorted = Vec::with_capacity(flows.len());
        sorted.extend(keys.iter().map(|&(_, i)| flows[i as usize].clone()));
        *flows = sorted;
        return;
    }
    const DONE: u32 = u32::MAX;
    let mut order: Vec<u32> = keys.into_iter().map(|(_, i)| i).collect();
    // order[k] is the index of the record that belongs at k: follow each cycle once.
    for start in 0..order.len() {
        if order[start] == DONE {
            continue;
        }
        let mut k = start;
        loop {
            let source = order[k] as usize;
            order[k] = DONE;
            if source == start {
                break;
            }
            flows.swap(k, source);
            k = source;
        }
    }
}

/// Maps an `f64` to a `u64` that orders like `f64::total_cmp`.
#[inline]
fn ordered_bits(x: f64) -> u64 {
    let bits = x.to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | 1 << 63
    }
}

/// Throttles progress reports to one per `STEP` of progress.
struct Progress<'a> {
    on_progress: &'a mut dyn FnMut(f64),
    next: f64,
}

impl<'a> Progress<'a> {
    const STEP: f64 = 0.05;

    fn new(on_progress: &'a mut dyn FnMut(f64)) -> Progress<'a> {
        Progress {
            on_progress,
            next: 0.0,
        }
    }

    fn report(&mut self, share: f64) {
        if share >= self.next {
            (self.on_progress)(share.min(1.0));
            self.next = (share / Self::STEP).floor() * Self::STEP + Self::STEP;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::traffic::flow::{AttackKind, ConnState, Label, Proto};
    use crate::util::rng::DetRng;
    use std::collections::HashSet;
    use std::net::IpAddr;
    use std::sync::OnceLock;

    /// The default run, generated once for the tests that only read it.
    fn default_traffic() -> &'static Traffic {
        static TRAFFIC: OnceLock<Traffic> = OnceLock::new();
        TRAFFIC.get_or_init(|| generate(&GeneratorConfig::default()).unwrap())
    }

    fn small_config() -> GeneratorConfig {
        GeneratorConfig {
            hosts: 12,
            duration_s: 900.0,
            attacks: GeneratorConfig::default_attacks(900.0),
            ..GeneratorConfig::default()
        }
    }

    fn benign(traffic: &Traffic) -> Vec<&FlowRecord> {
        traffic
            .flows
            .iter()
            .filter(|f| f.label == Label::Benign)
            .collect()
    }

    fn count(traffic: &Traffic, label: Label) -> usize {
        traffic.flows.iter().filter(|f| f.label == label).count()
    }

    #[test]
    fn sort_by_ts_matches_a_stable_sort() {
        let template = default_traffic().flows[0].clone();
        let mut rng = DetRng::new(5);
        // Few distinct timestamps, so ties are common; the port records generation order.
        let mut flows: Vec<FlowRecord> = (0..5_000u16)
            .map(|i| FlowRecord {
                ts: [-1.5, -0.0, 0.0, 2.0, 1e9, 3.25][rng.index(6)],
                src_port: i,
                ..template.clone()
            })
            .collect();
        let mut expected = flows.clone();
        expected.sort_by(|a, b| a.ts.total_cmp(&b.ts));
        let mut gathered = flows.clone();
        sort_by_ts(&mut gathered);
        assert_eq!(gathered, expected);
        // The in-place path, as runs above the gather limit take it.
        sort_by_ts_gathering_up_to(&mut flows, 0);
        assert_eq!(flows, expected);
    }

    #[test]
    fn same_config_same_traffic_and_seed_matters() {
        let config = small_config();
        let a = generate(&config).unwrap();
        let b = generate(&config).unwrap();
        assert!(!a.flows.is_empty());
        assert_eq!(a, b);
        let other = generate(&GeneratorConfig { seed: 43, ..config }).unwrap();
        assert_ne!(a.flows, other.flows);
    }

    #[test]
    fn flows_are_sorted_and_inside_the_run() {
        let config = GeneratorConfig::default();
        let traffic = default_traffic();
        let end_ts = config.start_ts + config.duration_s;
        assert!(traffic.flows.windows(2).all(|w| w[0].ts <= w[1].ts));
        assert!(traffic
            .flows
            .iter()
            .all(|f| f.ts >= config.start_ts && f.ts <= end_ts));
        assert!(traffic
            .flows
            .iter()
            .all(|f| f.duration_s >= 0.0 && f.duration_s.is_finite()));
    }

    #[test]
    fn default_run_has_the_intended_volume_and_mix() {
        let traffic = default_traffic();
        let benign = count(traffic, Label::Benign);
        assert!((30_000..=60_000).contains(&benign), "{benign} benign flows");
        let attacks = traffic.flows.len() - benign;
        assert!(
            (attacks as f64) < 0.15 * traffic.flows.len() as f64,
            "{attacks} attack flows of {}",
            traffic.flows.len()
        );
        for proto in [Proto::Tcp, Proto::Udp] {
            assert!(traffic.flows.iter().any(|f| f.proto == proto));
        }
    }

    #[test]
    fn every_attack_has_its_labelled_flows_and_an_exact_incident() {
        let config = GeneratorConfig::default();
        let traffic = default_traffic();
        assert_eq!(traffic.incidents.len(), config.attacks.len());
        for (incident, spec) in traffic.incidents.iter().zip(&config.attacks) {
            assert_eq!(incident.kind, spec.kind);
            let label = Label::Attack(spec.kind);
            let all = count(traffic, label);
            let inside = traffic
                .flows
                .iter()
                .filter(|f| {
                    f.label == label && f.ts >= incident.start_ts && f.ts <= incident.end_ts
                })
                .count();
            assert!(incident.flows > 0);
            assert_eq!(incident.flows as usize, all, "{incident:?}");
            assert_eq!(inside, all, "{incident:?}");
            let window_start = config.start_ts + spec.start_s;
            assert!(incident.start_ts >= window_start);
            assert!(incident.end_ts <= window_start + spec.duration_s);
        }
    }

    fn attack_flows(traffic: &Traffic, kind: AttackKind) -> Vec<&FlowRecord> {
        let flows: Vec<&FlowRecord> = traffic
            .flows
            .iter()
            .filter(|f| f.label == Label::Attack(kind))
            .collect();
        assert!(!flows.is_empty(), "no {kind} flows");
        flows
    }

    fn incident(traffic: &Traffic, kind: AttackKind) -> &Incident {
        traffic.incidents.iter().find(|i| i.kind == kind).unwrap()
    }

    #[test]
    fn port_scan_probes_many_ports_of_one_victim_from_one_source() {
        let traffic = default_traffic();
        let flows = attack_flows(traffic, AttackKind::PortScan);
        let scan = incident(traffic, AttackKind::PortScan);
        assert!(flows
            .iter()
            .all(|f| f.src_ip == scan.attacker && f.dst_ip == scan.victim));
        let ports: HashSet<u16> = flows.iter().map(|f| f.dst_port).collect();
        assert_eq!(ports.len(), flows.len(), "each port probed once");
        assert!(ports.len() >= 500, "{} ports", ports.len());
        let src_ports: HashSet<u16> = flows.iter().map(|f| f.src_port).collect();
        assert!(src_ports.len() <= 2);
        let failed = flows
            .iter()
            .filter(|f| f.conn_state.is_failed_attempt())
            .count();
        assert!(failed as f64 > 0.95 * flows.len() as f64);
        assert!(flows.iter().all(|f| f.bytes_out == 0 && f.bytes_in == 0));
    }

    #[test]
    fn syn_flood_is_unanswered_syns_from_many_sources_to_one_port() {
        let traffic = default_traffic();
        let flows = attack_flows(traffic, AttackKind::SynFlood);
        let flood = incident(traffic, AttackKind::SynFlood);
        assert!(flows.len() >= 1_000, "{} flows", flows.len());
        assert!(flows.iter().all(|f| f.conn_state == ConnState::S0
            && (f.pkts_out, f.pkts_in, f.bytes_out, f.bytes_in) == (1, 0, 0, 0)
            && f.dst_ip == flood.victim));
        let sources: HashSet<IpAddr> = flows.iter().map(|f| f.src_ip).collect();
        assert!(sources.len() as f64 > 0.99 * flows.len() as f64);
        let ports: HashSet<u16> = flows.iter().map(|f| f.dst_port).collect();
        assert_eq!(ports.len(), 1);
        assert!(ports.contains(&80) || ports.contains(&443));
    }

    #[test]
    fn brute_force_is_repeated_short_ssh_logins_from_one_source() {
        let traffic = default_traffic();
        let flows = attack_flows(traffic, AttackKind::BruteForce);
        let brute = incident(traffic, AttackKind::BruteForce);
        assert!(flows.len() >= 100);
        assert!(flows.iter().all(|f| f.dst_port == 22
            && f.src_ip == brute.attacker
            && f.dst_ip == brute.victim
            && f.duration_s < 5.0
            && (1_000..5_000).contains(&f.bytes_out)
            && (1_000..5_000).contains(&f.bytes_in)));
        let src_ports: HashSet<u16> = flows.iter().map(|f| f.src_port).collect();
        assert!(src_ports.len() as f64 > 0.9 * flows.len() as f64);
    }

    #[test]
    fn no_attacks_configured_means_no_attack_flows() {
        let traffic = generate(&GeneratorConfig {
            attacks: Vec::new(),
            ..small_config()
        })
        .unwrap();
        assert!(!traffic.flows.is_empty());
        assert!(traffic.flows.iter().all(|f| f.label == Label::Benign));
        assert!(traffic.incidents.is_empty());
    }

    #[test]
    fn benign_failed_connections_are_rare() {
        let benign = benign(default_traffic());
        let failed = benign
            .iter()
            .filter(|f| f.conn_state.is_failed_attempt())
            .count();
        let share = failed as f64 / benign.len() as f64;
        assert!(share > 0.002 && share < 0.03, "benign failed share {share}");
        let not_sf = benign
            .iter()
            .filter(|f| f.conn_state != ConnState::SF)
            .count();
        assert!((not_sf as f64) < 0.05 * benign.len() as f64);
    }

    #[test]
    fn attack_settings_do_not_change_benign_traffic() {
        let config = small_config();
        let base = generate(&config).unwrap();
        let mut louder = config.clone();
        louder.attacks[0].intensity = 3.0;
        louder.attacks[1].start_s += 10.0;
        let changed = generate(&louder).unwrap();
        assert_ne!(
            count(&base, Label::Attack(AttackKind::PortScan)),
            count(&changed, Label::Attack(AttackKind::PortScan))
        );
        assert_eq!(benign(&base), benign(&changed));
        // Nor does removing an attack change the others.
        let mut fewer = config.clone();
        fewer.attacks.remove(0);
        let fewer = generate(&fewer).unwrap();
        assert_eq!(benign(&base), benign(&fewer));
    }

    #[test]
    fn invalid_config_is_an_error_not_a_panic() {
        let config = GeneratorConfig {
            hosts: 0,
            ..GeneratorConfig::default()
        };
        assert_eq!(
            generate(&config),
            Err(GeneratorError::HostsOutOfRange { hosts: 0 })
        );
    }

    #[test]
    fn smallest_run_works() {
        let config = GeneratorConfig {
            hosts: HOSTS_MIN,
            duration_s: DURATION_MIN_S,
            attacks: GeneratorConfig::default_attacks(DURATION_MIN_S),
            ..GeneratorConfig::default()
        };
        let traffic = generate(&config).unwrap();
        assert_eq!(traffic.incidents.len(), 3);
        assert!(traffic.incidents.iter().all(|i| i.flows > 0));
        assert!(traffic.flows.iter().any(|f| f.label == Label::Benign));
    }

    #[test]
    fn progress_is_bounded_monotone_and_ends_at_one() {
        let mut calls = Vec::new();
        generate_with_progress(&GeneratorConfig::default(), &mut |p| calls.push(p)).unwrap();
        assert!((5..=25).contains(&calls.len()), "{calls:?}");
        assert!(calls.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(calls.first(), Some(&0.0));
        assert_eq!(calls.last(), Some(&1.0));
    }

    #[test]
    fn estimate_tracks_the_generator() {
        let configs = [
            GeneratorConfig::default(),
            small_config(),
            GeneratorConfig {
                hosts: 200,
                duration_s: 1_800.0,
                // 02:00, the quiet end of the day shape.
                start_ts: 1_767_232_800.0,
                attacks: GeneratorConfig::default_attacks(1_800.0),
                ..GeneratorConfig::default()
            },
        ];
        for config in configs {
            let actual = generate(&config).unwrap().flows.len() as f64;
            let estimate = config.estimated_flows() as f64;
            assert!(
                (estimate / actual - 1.0).abs() < 0.2,
                "estimate {estimate} vs {actual} for {config:?}"
            );
        }
    }
}
