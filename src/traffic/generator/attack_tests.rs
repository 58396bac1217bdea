//! Tests of every attack kind's signature, of stealth, and of per-flow consistency (labels,
//! incidents, roles, Zeek conn_state versus history) over an `attacks=all` run.

use super::*;
use crate::traffic::flow::{AttackKind, ConnState, Label, OrigRole, Proto, Service};
use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

fn all_config(stealth: f64) -> GeneratorConfig {
    let mut config = GeneratorConfig {
        attacks: GeneratorConfig::all_attacks(DEFAULT_DURATION_S),
        ..GeneratorConfig::default()
    };
    for a in &mut config.attacks {
        a.stealth = stealth;
    }
    config
}

fn loud() -> &'static Traffic {
    static T: OnceLock<Traffic> = OnceLock::new();
    T.get_or_init(|| generate(&all_config(0.0)).unwrap())
}

fn stealthy() -> &'static Traffic {
    static T: OnceLock<Traffic> = OnceLock::new();
    T.get_or_init(|| generate(&all_config(1.0)).unwrap())
}

fn of(traffic: &Traffic, kind: AttackKind) -> (Vec<&FlowRecord>, &Incident) {
    let incident = traffic.incidents.iter().find(|i| i.kind == kind).unwrap();
    let flows: Vec<&FlowRecord> = traffic
        .flows
        .iter()
        .filter(|f| f.incident_id == Some(incident.id))
        .collect();
    assert!(!flows.is_empty(), "no {kind} flows");
    (flows, incident)
}

fn distinct<T: std::hash::Hash + Eq>(items: impl Iterator<Item = T>) -> usize {
    items.collect::<HashSet<T>>().len()
}

#[test]
fn every_kind_is_present_labelled_with_its_incident_and_role() {
    for traffic in [loud(), stealthy()] {
        assert_eq!(traffic.incidents.len(), AttackKind::ALL.len());
        for kind in AttackKind::ALL {
            let (flows, incident) = of(traffic, kind);
            assert_eq!(incident.flows as usize, flows.len(), "{kind}");
            let victim_side = matches!(
                kind,
                AttackKind::Exfiltration
                    | AttackKind::C2Beacon
                    | AttackKind::DnsTunnel
                    | AttackKind::CryptoMining
            );
            let role = if victim_side {
                OrigRole::Victim
            } else {
                OrigRole::Attacker
            };
            for f in &flows {
                assert_eq!(f.label, Label::Attack(kind));
                assert_eq!(f.orig_role, role, "{kind}");
            }
        }
        for f in traffic.flows.iter().filter(|f| f.label == Label::Benign) {
            assert_eq!((f.incident_id, f.orig_role), (None, OrigRole::None));
        }
    }
}

#[test]
fn vertical_scan_touches_many_ports_of_one_host() {
    let (flows, inc) = of(loud(), AttackKind::PortScan);
    assert!(flows
        .iter()
        .all(|f| f.dst_ip == inc.victim && f.src_ip == inc.attacker));
    assert!(distinct(flows.iter().map(|f| f.dst_port)) >= 500);
}

#[test]
fn horizontal_scan_touches_many_hosts_on_one_port() {
    let (flows, inc) = of(loud(), AttackKind::HorizontalScan);
    assert!(flows.iter().all(|f| f.src_ip == inc.attacker));
    assert_eq!(distinct(flows.iter().map(|f| f.dst_port)), 1);
    assert!(distinct(flows.iter().map(|f| f.dst_ip)) >= 500);
    // Most addresses hold no host: unanswered.
    let failed = flows
        .iter()
        .filter(|f| f.conn_state.is_failed_attempt())
        .count();
    assert!(failed * 10 > flows.len() * 8);
}

#[test]
fn flood_has_many_spoofed_sources_to_one_port() {
    let (flows, inc) = of(loud(), AttackKind::SynFlood);
    assert_eq!(inc.attacker.to_string(), "0.0.0.0");
    assert_eq!(distinct(flows.iter().map(|f| (f.dst_ip, f.dst_port))), 1);
    assert!(distinct(flows.iter().map(|f| f.src_ip)) * 100 > flows.len() * 99);
}

#[test]
fn brute_forces_hit_their_port_repeatedly() {
    for (kind, port, service) in [
        (AttackKind::BruteForce, 22, Service::Ssh),
        (AttackKind::RdpBruteForce, 3_389, Service::Rdp),
    ] {
        let (flows, inc) = of(loud(), kind);
        assert!(flows.len() >= 100, "{kind}: {}", flows.len());
        assert!(flows.iter().all(|f| f.dst_port == port
            && f.service == service
            && f.dst_ip == inc.victim
            && f.src_ip == inc.attacker
            && f.bytes_out < 10_000));
        // Stealthy guessing comes from several addresses.
        let (quiet, _) = of(stealthy(), kind);
        assert!(distinct(quiet.iter().map(|f| f.src_ip)) > 1, "{kind}");
    }
}

#[test]
fn exfiltration_is_a_large_upload_to_one_rare_external_address() {
    for traffic in [loud(), stealthy()] {
        let (flows, inc) = of(traffic, AttackKind::Exfiltration);
        assert!(flows
            .iter()
            .all(|f| f.dst_ip == inc.attacker && f.src_ip == inc.victim));
        let out: u64 = flows.iter().map(|f| f.bytes_out).sum();
        let inn: u64 = flows.iter().map(|f| f.bytes_in).sum();
        assert!(out > 50_000_000 && out > 100 * inn, "{out} out, {inn} in");
        let benign_peers = traffic
            .flows
            .iter()
            .filter(|f| f.label == Label::Benign && f.dst_ip == inc.attacker)
            .count();
        assert_eq!(benign_peers, 0, "the drop site is rare");
    }
}

/// Gaps between consecutive beacons, as multiples of the period.
fn beacon_gaps(traffic: &Traffic, period_s: f64) -> Vec<f64> {
    let (flows, inc) = of(traffic, AttackKind::C2Beacon);
    assert!(flows.iter().all(|f| f.src_ip == inc.victim));
    // The check-ins themselves, without the stealthy implant's DNS lookups.
    let check_ins: Vec<&&FlowRecord> = flows.iter().filter(|f| f.dst_ip == inc.attacker).collect();
    assert!(check_ins.len() * 2 > flows.len());
    check_ins
        .windows(2)
        .map(|w| (w[1].ts - w[0].ts) / period_s)
        .collect()
}

#[test]
fn beacon_keeps_its_period_within_the_configured_jitter() {
    let mut config = GeneratorConfig {
        attacks: vec![AttackSpec::default_for(
            AttackKind::C2Beacon,
            DEFAULT_DURATION_S,
        )],
        ..GeneratorConfig::default()
    };
    config.attacks[0].period_s = 20.0;
    for jitter in [0.05, 0.3] {
        config.attacks[0].jitter = Some(jitter);
        let gaps = beacon_gaps(&generate(&config).unwrap(), 20.0);
        assert!(gaps.len() > 50);
        assert!(
            gaps.iter().all(|g| (g - 1.0).abs() <= jitter + 1e-9),
            "{gaps:?}"
        );
        let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
        assert!((mean - 1.0).abs() < 0.05, "{mean}");
        // Uniform jitter has standard deviation jitter/√3.
        let sd =
            (gaps.iter().map(|g| (g - mean) * (g - mean)).sum::<f64>() / gaps.len() as f64).sqrt();
        assert!((sd / (jitter / 3f64.sqrt()) - 1.0).abs() < 0.25, "{sd}");
    }
}

#[test]
fn dns_tunnel_is_many_large_queries_from_one_source() {
    let benign_dns: Vec<&FlowRecord> = loud()
        .flows
        .iter()
        .filter(|f| f.label == Label::Benign && f.service == Service::Dns)
        .collect();
    let benign_mean =
        benign_dns.iter().map(|f| f.bytes_in).sum::<u64>() as f64 / benign_dns.len() as f64;
    let (flows, inc) = of(loud(), AttackKind::DnsTunnel);
    let from_victim: Vec<&&FlowRecord> = flows.iter().filter(|f| f.src_ip == inc.victim).collect();
    assert!(from_victim.len() >= 500);
    assert!(flows
        .iter()
        .all(|f| f.dst_port == 53 && f.proto == Proto::Udp));
    let mean = flows.iter().map(|f| f.bytes_in).sum::<u64>() as f64 / flows.len() as f64;
    assert!(mean > 3.0 * benign_mean, "{mean} vs benign {benign_mean}");
}

#[test]
fn lateral_movement_fans_out_inside_over_smb_and_rdp() {
    let (flows, inc) = of(loud(), AttackKind::LateralMovement);
    assert!(flows.iter().all(|f| f.src_ip == inc.attacker
        && matches!(f.dst_port, 445 | 3_389)
        && f.dst_ip.to_string().starts_with("10.")));
    assert!(distinct(flows.iter().map(|f| f.dst_ip)) >= 20);
}

#[test]
fn icmp_sweep_pings_the_address_space_and_live_hosts_answer() {
    let (flows, inc) = of(loud(), AttackKind::IcmpSweep);
    assert!(flows.iter().all(|f| f.proto == Proto::Icmp
        && f.src_ip == inc.attacker
        && (f.src_port, f.dst_port) == (8, 0)));
    assert!(distinct(flows.iter().map(|f| f.dst_ip)) >= 500);
    let answered = flows.iter().filter(|f| f.pkts_in == 1).count();
    assert_eq!(
        answered,
        flows
            .iter()
            .filter(|f| inc.victims.contains(&f.dst_ip))
            .count()
    );
}

#[test]
fn slowloris_holds_many_long_idle_connections() {
    let (flows, inc) = of(loud(), AttackKind::Slowloris);
    assert!(flows.len() >= 150);
    assert!(flows.iter().all(|f| f.dst_ip == inc.victim
        && f.bytes_in == 0
        && f.bytes_out < 2_000
        && matches!(f.conn_state, ConnState::RSTR | ConnState::S1)));
    let long = flows.iter().filter(|f| f.duration_s > 100.0).count();
    assert!(long * 10 > flows.len() * 9);
}

#[test]
fn mining_holds_long_connections_to_one_pool() {
    let (flows, inc) = of(loud(), AttackKind::CryptoMining);
    assert!(flows
        .iter()
        .all(|f| f.dst_ip == inc.attacker && f.src_ip == inc.victim));
    assert!(flows.iter().filter(|f| f.duration_s > 120.0).count() * 2 > flows.len());
}

#[test]
fn stealth_makes_every_attack_quieter() {
    for kind in AttackKind::ALL {
        let (a, _) = of(loud(), kind);
        let (b, _) = of(stealthy(), kind);
        let volume = |fs: &[&FlowRecord]| fs.iter().map(|f| f.bytes_out + f.bytes_in).sum::<u64>();
        let fewer = b.len() < a.len();
        let smaller = volume(&b) < volume(&a);
        assert!(fewer || smaller, "{kind}: {} -> {} flows", a.len(), b.len());
    }
    // The stealthy beacon's jitter is 30 % by default and its check-ins are small.
    let gaps = beacon_gaps(stealthy(), DEFAULT_BEACON_PERIOD_S);
    let spread = gaps
        .iter()
        .cloned()
        .fold(0.0, |m: f64, g| m.max((g - 1.0).abs()));
    assert!(spread > 0.2 && spread <= 0.3 + 1e-9, "{spread}");
    let (b, inc) = of(stealthy(), AttackKind::C2Beacon);
    assert!(b
        .iter()
        .filter(|f| f.dst_ip == inc.attacker)
        .all(|f| f.bytes_out < 1_000 && f.service == Service::Ssl));
    // ... and each new resolution of its name is a DNS query first, like a browser's.
    assert!(b.iter().any(|f| f.service == Service::Dns));
}

#[test]
fn scan_methods_change_the_probes() {
    let mut config = GeneratorConfig {
        attacks: vec![AttackSpec::default_for(
            AttackKind::PortScan,
            DEFAULT_DURATION_S,
        )],
        ..GeneratorConfig::default()
    };
    let mut states: HashMap<ScanMethod, HashSet<ConnState>> = HashMap::new();
    for method in ScanMethod::ALL {
        config.attacks[0].method = method;
        let traffic = generate(&config).unwrap();
        let (flows, _) = of(&traffic, AttackKind::PortScan);
        let udp = method == ScanMethod::Udp;
        assert!(flows.iter().all(|f| (f.proto == Proto::Udp) == udp));
        states.insert(method, flows.iter().map(|f| f.conn_state).collect());
    }
    assert!(!states[&ScanMethod::Udp].contains(&ConnState::REJ));
}

/// What the history letters say must match the state and the byte counts.
#[test]
fn conn_state_and_history_agree_on_every_flow() {
    for traffic in [loud(), stealthy()] {
        for f in &traffic.flows {
            let h = f.history.as_str();
            let ok = match f.proto {
                Proto::Tcp => {
                    let by_state = match f.conn_state {
                        ConnState::S0 => h == "S",
                        ConnState::REJ => h == "Sr",
                        ConnState::SF => h.starts_with("ShA") && h.ends_with("Ff"),
                        ConnState::RSTO => h.starts_with("Sh") && h.ends_with('R'),
                        ConnState::RSTR => h.starts_with("ShA") && h.ends_with('r'),
                        ConnState::S1 => h.starts_with("ShA") && !h.contains(['F', 'f', 'R', 'r']),
                        _ => true,
                    };
                    by_state
                        && h.contains('D') == (f.bytes_out > 0)
                        && h.contains('d') == (f.bytes_in > 0)
                }
                Proto::Udp => {
                    h.contains('D') == (f.pkts_out > 0)
                        && h.contains('d') == (f.pkts_in > 0)
                        && (f.conn_state == ConnState::S0) == (f.pkts_in == 0)
                }
                _ => h == "-",
            };
            assert!(
                ok,
                "{} {} {h:?}: {f:?}",
                f.proto.as_str(),
                f.conn_state.as_str()
            );
            if f.conn_state.is_failed_attempt() {
                assert_eq!((f.bytes_out, f.bytes_in), (0, 0), "{f:?}");
            }
        }
    }
}

#[test]
fn all_attacks_run_is_deterministic_and_seeded() {
    let config = all_config(0.5);
    let a = generate(&config).unwrap();
    assert_eq!(a, generate(&config).unwrap());
    let b = generate(&GeneratorConfig { seed: 7, ..config }).unwrap();
    assert_ne!(a.flows, b.flows);
}
