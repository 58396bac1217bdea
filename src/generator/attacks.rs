//! The attacks the generator injects: port scan, SYN flood and SSH brute force, each as the
//! flows Zeek would log for it, labelled with its kind, plus the incident (ground truth) that
//! summarises it.
//!
//! Not here: validation of the attack window (`config.rs`), benign traffic, or anything that
//! tries to make attacks hard to detect beyond plausible timing and sizes.

use super::config::AttackSpec;
use super::emit::{ephemeral_port, Exchange, FiveTuple, Sink};
use super::network::{random_public_addr, to_ip, Network};
use super::sample::{bytes, exponential, log_normal};
use super::Incident;
use crate::flow::{AttackKind, ConnState, Label, Proto, Service};
use crate::rng::DetRng;
use std::net::{IpAddr, Ipv4Addr};

/// Probes per second of a port scan at intensity 1 (nmap's "normal" timing is of this order).
pub(crate) const PORT_SCAN_PORTS_PER_S: f64 = 50.0;
/// Spoofed SYNs per second of a flood at intensity 1: loud, but a few thousand flows by default.
pub(crate) const SYN_FLOOD_SYNS_PER_S: f64 = 150.0;
/// Login attempts per second of a brute force at intensity 1 (a few parallel hydra tasks).
pub(crate) const BRUTE_FORCE_ATTEMPTS_PER_S: f64 = 2.0;
/// Every TCP port once: a scan stops early rather than probing a port twice.
const TCP_PORTS: usize = 65_535;
/// Ports a scan tries first, like nmap's well-known range.
const WELL_KNOWN_PORTS: usize = 1_024;

/// Expected flow count of one attack, for preallocation and the flow budget.
pub(crate) fn expected_flows(spec: &AttackSpec) -> f64 {
    let seconds = spec.duration_s * spec.intensity;
    match spec.kind {
        AttackKind::PortScan => (PORT_SCAN_PORTS_PER_S * seconds)
            .floor()
            .clamp(1.0, TCP_PORTS as f64),
        AttackKind::SynFlood => SYN_FLOOD_SYNS_PER_S * seconds + 1.0,
        AttackKind::BruteForce => BRUTE_FORCE_ATTEMPTS_PER_S * seconds + 1.0,
    }
}

/// The stream purpose per kind, so two attacks of different kinds never share draws.
pub(crate) fn stream_purpose(kind: AttackKind) -> &'static str {
    match kind {
        AttackKind::PortScan => "generator/attack/port_scan",
        AttackKind::SynFlood => "generator/attack/syn_flood",
        AttackKind::BruteForce => "generator/attack/brute_force",
    }
}

/// Injects the attack `spec` (its window already validated inside the run that starts at
/// `run_start_ts`) and returns its incident.
pub(crate) fn inject(
    id: u32,
    spec: &AttackSpec,
    run_start_ts: f64,
    net: &Network,
    rng: &mut DetRng,
    sink: &mut Sink<'_>,
) -> Incident {
    let first = sink.len();
    let window = Window {
        start_ts: run_start_ts + spec.start_s,
        // Rounding must not push the last flow past the run's end.
        end_ts: (run_start_ts + spec.start_s + spec.duration_s).min(sink.end_ts()),
    };
    let label = Label::Attack(spec.kind);
    let (attacker, victim) = match spec.kind {
        AttackKind::PortScan => port_scan(spec, window, net, rng, sink),
        AttackKind::SynFlood => syn_flood(spec, window, net, rng, sink),
        AttackKind::BruteForce => brute_force(spec, window, net, rng, sink),
    };
    let flows = sink.since(first);
    debug_assert!(!flows.is_empty() && flows.iter().all(|f| f.label == label));
    let (start_ts, end_ts) = flows
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), f| {
            (lo.min(f.ts), hi.max(f.ts))
        });
    Incident {
        id,
        kind: spec.kind,
        start_ts,
        end_ts,
        attacker,
        victim,
        flows: flows.len() as u64,
    }
}

#[derive(Debug, Clone, Copy)]
struct Window {
    start_ts: f64,
    end_ts: f64,
}

fn tcp(src: u32, src_port: u16, dst: u32, dst_port: u16) -> FiveTuple {
    FiveTuple {
        proto: Proto::Tcp,
        src,
        src_port,
        dst,
        dst_port,
    }
}

/// One scanner probing many TCP ports of one victim at a steady pace, well-known ports first.
/// From outside, the firewall drops most probes (S0); inside, closed ports answer RST (REJ);
/// the victim's few open ports complete the handshake (SF, no payload).
fn port_scan(
    spec: &AttackSpec,
    window: Window,
    net: &Network,
    rng: &mut DetRng,
    sink: &mut Sink<'_>,
) -> (IpAddr, IpAddr) {
    let external = rng.chance(0.6);
    let attacker = if external {
        random_public_addr(rng)
    } else {
        // A compromised workstation doing reconnaissance.
        net.workstations[rng.index(net.workstations.len())]
    };
    let mut victim = if rng.chance(0.7) {
        net.servers[rng.index(net.servers.len())].addr
    } else {
        net.workstations[rng.index(net.workstations.len())]
    };
    if victim == attacker {
        victim = net.servers[0].addr;
    }
    let open = net.open_tcp_ports(victim);
    let filtered_share = if external { 0.85 } else { 0.1 };
    let rtt_s = if external {
        log_normal(rng, 0.04, 0.4)
    } else {
        log_normal(rng, 0.000_4, 0.3)
    };
    // nmap's SYN scan sends from one source port, and a second one for retries.
    let src_ports = [ephemeral_port(rng), ephemeral_port(rng)];
    let rate_per_s = PORT_SCAN_PORTS_PER_S * spec.intensity;
    let probes = expected_flows(spec) as usize;
    let spacing_s = 1.0 / rate_per_s;
    let label = Label::Attack(AttackKind::PortScan);
    for (k, &port) in scan_order(rng, probes).iter().enumerate() {
        let ts =
            (window.start_ts + (k as f64 + rng.uniform(0.0, 0.5)) * spacing_s).min(window.end_ts);
        let ex = if open.contains(&port) {
            Exchange::tcp_sf(rtt_s * 3.0, 0, 0)
        } else if rng.chance(filtered_share) {
            Exchange::unanswered(0.0, 1)
        } else {
            Exchange::rejected(rtt_s)
        };
        let src_port = src_ports[usize::from(rng.chance(0.05))];
        sink.push(
            ts,
            tcp(attacker, src_port, victim, port),
            Service::None,
            ex,
            label,
        );
    }
    (to_ip(attacker), to_ip(victim))
}

/// The first `probes` ports a scan visits: the well-known range in random order, then the
/// rest in random order (partial Fisher–Yates, so only the visited part is shuffled).
fn scan_order(rng: &mut DetRng, probes: usize) -> Vec<u16> {
    let probes = probes.min(TCP_PORTS);
    let mut ports: Vec<u16> = (1..=u16::MAX).collect();
    let (low, high) = ports.split_at_mut(WELL_KNOWN_PORTS);
    partial_shuffle(rng, low, probes.min(WELL_KNOWN_PORTS));
    partial_shuffle(rng, high, probes.saturating_sub(WELL_KNOWN_PORTS));
    ports.truncate(probes);
    ports
}

fn partial_shuffle(rng: &mut DetRng, items: &mut [u16], count: usize) {
    for i in 0..count.min(items.len()) {
        let j = i + rng.index(items.len() - i);
        items.swap(i, j);
    }
}

/// Spoofed SYNs from random public addresses at one public web port: each is a lone SYN the
/// victim's answer never returns from (S0, one packet, no payload).
fn syn_flood(
    spec: &AttackSpec,
    window: Window,
    net: &Network,
    rng: &mut DetRng,
    sink: &mut Sink<'_>,
) -> (IpAddr, IpAddr) {
    let victim = net.web;
    let port = if rng.chance(0.7) { 443 } else { 80 };
    let rate_per_s = SYN_FLOOD_SYNS_PER_S * spec.intensity;
    let label = Label::Attack(AttackKind::SynFlood);
    let mut ts = window.start_ts;
    while ts <= window.end_ts {
        let src = random_public_addr(rng);
        let src_port = 1_024 + rng.below(u64::from(u16::MAX) - 1_023) as u16;
        let ends = tcp(src, src_port, victim, port);
        sink.push(ts, ends, Service::None, Exchange::unanswered(0.0, 1), label);
        ts += exponential(rng, rate_per_s);
    }
    // Sources are spoofed: there is no one attacker address to report.
    (IpAddr::V4(Ipv4Addr::UNSPECIFIED), to_ip(victim))
}

/// One external host guessing SSH passwords: short connections of a few KB each way (key
/// exchange plus failed authentications), a new source port each time, closed normally or
/// reset by the client when the server gives up.
fn brute_force(
    spec: &AttackSpec,
    window: Window,
    net: &Network,
    rng: &mut DetRng,
    sink: &mut Sink<'_>,
) -> (IpAddr, IpAddr) {
    // Linux's default ephemeral range, walked sequentially as the kernel does.
    const PORT_LOW: u16 = 32_768;
    const PORT_HIGH: u16 = 60_999;
    let attacker = random_public_addr(rng);
    let victim = net.servers[rng.index(net.servers.len())].addr;
    let rate_per_s = BRUTE_FORCE_ATTEMPTS_PER_S * spec.intensity;
    let label = Label::Attack(AttackKind::BruteForce);
    let mut src_port = PORT_LOW + rng.below(u64::from(PORT_HIGH - PORT_LOW)) as u16;
    let mut ts = window.start_ts;
    while ts <= window.end_ts {
        let ex = Exchange {
            duration_s: log_normal(rng, 1.8, 0.25).clamp(0.8, 4.0),
            bytes_out: bytes(log_normal(rng, 2_900.0, 0.12).clamp(2_000.0, 4_200.0)),
            bytes_in: bytes(log_normal(rng, 3_100.0, 0.12).clamp(2_000.0, 4_200.0)),
            pkts_out: 12 + rng.below(8),
            pkts_in: 10 + rng.below(8),
            state: if rng.chance(0.15) {
                ConnState::RSTO
            } else {
                ConnState::SF
            },
        };
        sink.push(
            ts,
            tcp(attacker, src_port, victim, 22),
            Service::Ssh,
            ex,
            label,
        );
        // Other connections of the attacking host take a port now and then.
        src_port += 1 + rng.below(3) as u16;
        if src_port > PORT_HIGH {
            src_port = PORT_LOW + (src_port - PORT_HIGH);
        }
        ts += exponential(rng, rate_per_s);
    }
    (to_ip(attacker), to_ip(victim))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_order_is_distinct_and_well_known_first() {
        let mut rng = DetRng::new(1);
        let ports = scan_order(&mut rng, 1_500);
        assert_eq!(ports.len(), 1_500);
        assert!(ports[..WELL_KNOWN_PORTS]
            .iter()
            .all(|&p| (1..=1_024).contains(&p)));
        assert!(ports[WELL_KNOWN_PORTS..].iter().all(|&p| p > 1_024));
        let mut sorted = ports.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), ports.len());
        assert_eq!(scan_order(&mut rng, 100_000).len(), TCP_PORTS);
    }

    #[test]
    fn expected_flows_scale_with_intensity_and_duration() {
        let spec = AttackSpec {
            kind: AttackKind::SynFlood,
            start_s: 0.0,
            duration_s: 20.0,
            intensity: 1.0,
        };
        let louder = AttackSpec {
            intensity: 2.0,
            ..spec.clone()
        };
        assert!(expected_flows(&louder) > 1.9 * expected_flows(&spec));
        let scan = AttackSpec {
            kind: AttackKind::PortScan,
            ..spec
        };
        assert_eq!(expected_flows(&scan), 1_000.0);
    }
}
