//! The attacks the generator injects, each as the flows Zeek would log for it, labelled with
//! its kind, incident and the originator's role, plus the incident (ground truth) that
//! summarises it.
//!
//! Every kind has an intensity (rate multiplier) and a stealth (0 = loud textbook tool
//! defaults, 1 = slow, small and shaped like the benign traffic around it). Stealth is meant
//! to be genuinely hard: a stealthy scan probes a few ports every few seconds, a stealthy
//! beacon calls a long-tail-looking HTTPS address with 30 % jitter and browsing-sized bytes,
//! stealthy exfiltration trickles out in chunks. Not here: validation of the window
//! (`config.rs`), benign traffic, record building (`emit.rs`).

use super::config::{AttackSpec, ScanMethod};
use super::emit::{ephemeral_port, Exchange, FiveTuple, Sink, Tag};
use super::incident::Incident;
use super::network::{random_public_addr, to_ip, Network};
use super::sample::{bytes, exponential, log_normal};
use crate::traffic::flow::{AttackKind, ConnState, Label, OrigRole, Proto, Service};
use crate::util::math;
use crate::util::rng::DetRng;
use std::net::{IpAddr, Ipv4Addr};

/// Probes per second of a port scan at intensity 1 (nmap's "normal" timing is of this order).
pub(crate) const PORT_SCAN_PORTS_PER_S: f64 = 50.0;
/// Spoofed SYNs per second of a flood at intensity 1: loud, but a few thousand flows by default.
pub(crate) const SYN_FLOOD_SYNS_PER_S: f64 = 150.0;
/// Login attempts per second of a brute force at intensity 1 (a few parallel hydra tasks).
pub(crate) const BRUTE_FORCE_ATTEMPTS_PER_S: f64 = 2.0;
/// Addresses per second of a horizontal scan or ICMP sweep at intensity 1.
const SWEEP_TARGETS_PER_S: f64 = 20.0;
/// Addresses a sweep walks: the site's 10.0.0.0/22 (servers and the first workstation nets).
const SWEEP_SPACE: u32 = 1_024;
/// DNS tunnel queries per second at intensity 1 (iodine/dnscat2 push a few per second).
const DNS_TUNNEL_QUERIES_PER_S: f64 = 8.0;
/// Lateral movement connection attempts per second at intensity 1.
const LATERAL_ATTEMPTS_PER_S: f64 = 3.0;
/// Concurrent slowloris connections at intensity 1 (the tool's default is 150).
const SLOWLORIS_SOCKETS: f64 = 150.0;
/// Typical time a web server keeps a slow request open before giving up.
const SLOWLORIS_LIFE_S: f64 = 240.0;
/// Exfiltrated volume at intensity 1 when loud, and the loud chunk size.
const EXFIL_TOTAL_BYTES: f64 = 1.2e9;
const EXFIL_CHUNK_BYTES: f64 = 300.0e6;
const EXFIL_CHUNKS_MAX: f64 = 5_000.0;
/// A mining connection's typical life before the miner reconnects.
const MINING_CONN_S: f64 = 600.0;
/// Every TCP port once: a scan stops early rather than probing a port twice.
const TCP_PORTS: usize = 65_535;
/// Ports a scan tries first, like nmap's well-known range.
const WELL_KNOWN_PORTS: usize = 1_024;
/// Victims listed in an incident, at most (sweeps touch hundreds).
const VICTIMS_MAX: usize = 256;

/// `10^(-decades × stealth)`: how much quieter stealth makes a rate or size.
#[inline]
fn quiet(spec: &AttackSpec, decades: f64) -> f64 {
    math::pow(10.0, -decades * spec.stealth)
}

fn port_scan_probes(spec: &AttackSpec) -> f64 {
    let rate = PORT_SCAN_PORTS_PER_S * spec.intensity * quiet(spec, 2.0);
    // A stealthy scan also limits itself to the ports worth knowing (~100 at stealth 1).
    let cap = (TCP_PORTS as f64 * quiet(spec, 2.8)).max(20.0);
    (rate * spec.duration_s).floor().clamp(1.0, cap)
}

fn sweep_targets(spec: &AttackSpec) -> f64 {
    let rate = SWEEP_TARGETS_PER_S * spec.intensity * quiet(spec, 2.0);
    let cap = (f64::from(SWEEP_SPACE) * quiet(spec, 1.3)).max(8.0);
    (rate * spec.duration_s).floor().clamp(1.0, cap)
}

fn exfil_chunks(spec: &AttackSpec) -> (f64, f64) {
    let total = EXFIL_TOTAL_BYTES * spec.intensity * quiet(spec, 1.0);
    let chunk = EXFIL_CHUNK_BYTES * quiet(spec, 2.5);
    ((total / chunk).ceil().clamp(1.0, EXFIL_CHUNKS_MAX), chunk)
}

fn slowloris_sockets(spec: &AttackSpec) -> f64 {
    (SLOWLORIS_SOCKETS * spec.intensity * quiet(spec, 1.5)).ceil()
}

fn mining_conns(spec: &AttackSpec) -> (f64, f64) {
    let parallel = 1.0 + (3.0 * (1.0 - spec.stealth)).round();
    let life_s = MINING_CONN_S * (1.0 + 4.0 * spec.stealth);
    (parallel, life_s)
}

/// Expected flow count of one attack, for preallocation and the flow budget.
pub(crate) fn expected_flows(spec: &AttackSpec) -> f64 {
    let d = spec.duration_s;
    let i = spec.intensity;
    match spec.kind {
        AttackKind::PortScan => port_scan_probes(spec),
        AttackKind::SynFlood => SYN_FLOOD_SYNS_PER_S * i * quiet(spec, 1.5) * d + 1.0,
        AttackKind::BruteForce | AttackKind::RdpBruteForce => {
            BRUTE_FORCE_ATTEMPTS_PER_S * i * quiet(spec, 1.5) * d + 1.0
        }
        AttackKind::HorizontalScan | AttackKind::IcmpSweep => sweep_targets(spec),
        AttackKind::Exfiltration => exfil_chunks(spec).0,
        AttackKind::C2Beacon => d / spec.period_s + 1.0,
        AttackKind::DnsTunnel => 2.0 * (DNS_TUNNEL_QUERIES_PER_S * i * quiet(spec, 1.5) * d + 1.0),
        AttackKind::LateralMovement => {
            1.3 * (LATERAL_ATTEMPTS_PER_S * i * quiet(spec, 2.5) * d).clamp(2.0, 600.0)
        }
        AttackKind::Slowloris => slowloris_sockets(spec) * (1.0 + d / SLOWLORIS_LIFE_S),
        AttackKind::CryptoMining => {
            let (parallel, life_s) = mining_conns(spec);
            parallel * (1.0 + d / life_s)
        }
    }
}

/// The stream purpose per kind, so two attacks of different kinds never share draws.
pub(crate) fn stream_purpose(kind: AttackKind) -> &'static str {
    match kind {
        AttackKind::PortScan => "generator/attack/port_scan",
        AttackKind::SynFlood => "generator/attack/syn_flood",
        AttackKind::BruteForce => "generator/attack/brute_force",
        AttackKind::HorizontalScan => "generator/attack/horizontal_scan",
        AttackKind::RdpBruteForce => "generator/attack/rdp_brute_force",
        AttackKind::Exfiltration => "generator/attack/exfiltration",
        AttackKind::C2Beacon => "generator/attack/c2_beacon",
        AttackKind::DnsTunnel => "generator/attack/dns_tunnel",
        AttackKind::LateralMovement => "generator/attack/lateral_movement",
        AttackKind::IcmpSweep => "generator/attack/icmp_sweep",
        AttackKind::Slowloris => "generator/attack/slowloris",
        AttackKind::CryptoMining => "generator/attack/crypto_mining",
    }
}

/// Who took part: the attacker (unspecified when sources are spoofed) and the victims.
struct Parties {
    attacker: u32,
    victims: Vec<u32>,
}

impl Parties {
    fn one(attacker: u32, victim: u32) -> Parties {
        Parties {
            attacker,
            victims: vec![victim],
        }
    }

    fn add_victim(&mut self, victim: u32) {
        if self.victims.len() < VICTIMS_MAX && !self.victims.contains(&victim) {
            self.victims.push(victim);
        }
    }
}

/// What every attack function gets: its spec, window, the site, a stream and the sink, plus
/// the tags for flows the attacker originates and flows a victim originates.
struct Ctx<'a, 'b> {
    spec: &'a AttackSpec,
    window: Window,
    net: &'a Network,
    rng: &'a mut DetRng,
    sink: &'a mut Sink<'b>,
    by_attacker: Tag,
    by_victim: Tag,
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
    let tag = |role| Tag {
        label,
        incident_id: Some(id),
        role,
    };
    let mut ctx = Ctx {
        spec,
        window,
        net,
        rng,
        sink,
        by_attacker: tag(OrigRole::Attacker),
        by_victim: tag(OrigRole::Victim),
    };
    let parties = match spec.kind {
        AttackKind::PortScan => port_scan(&mut ctx),
        AttackKind::SynFlood => syn_flood(&mut ctx),
        AttackKind::BruteForce => login_guessing(&mut ctx, 22, Service::Ssh),
        AttackKind::RdpBruteForce => login_guessing(&mut ctx, 3_389, Service::Rdp),
        AttackKind::HorizontalScan => horizontal_scan(&mut ctx),
        AttackKind::Exfiltration => exfiltration(&mut ctx),
        AttackKind::C2Beacon => c2_beacon(&mut ctx),
        AttackKind::DnsTunnel => dns_tunnel(&mut ctx),
        AttackKind::LateralMovement => lateral_movement(&mut ctx),
        AttackKind::IcmpSweep => icmp_sweep(&mut ctx),
        AttackKind::Slowloris => slowloris(&mut ctx),
        AttackKind::CryptoMining => crypto_mining(&mut ctx),
    };
    let flows = ctx.sink.since(first);
    debug_assert!(flows.iter().all(|f| f.label == label));
    let (start_ts, end_ts) = if flows.is_empty() {
        (window.start_ts, window.start_ts)
    } else {
        flows
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), f| {
                (lo.min(f.ts), hi.max(f.ts))
            })
    };
    let victims: Vec<IpAddr> = parties.victims.iter().map(|&v| to_ip(v)).collect();
    Incident {
        id,
        kind: spec.kind,
        start_ts,
        end_ts,
        attacker: to_ip(parties.attacker),
        victim: victims
            .first()
            .copied()
            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
        victims,
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

fn udp(src: u32, src_port: u16, dst: u32, dst_port: u16) -> FiveTuple {
    FiveTuple {
        proto: Proto::Udp,
        ..tcp(src, src_port, dst, dst_port)
    }
}

fn any_workstation(net: &Network, rng: &mut DetRng) -> u32 {
    net.workstations[rng.index(net.workstations.len())]
}

/// A workstation other than the admin one when there is a choice (the admin host's SSH
/// habits would otherwise mask the attack's).
fn user_workstation(net: &Network, rng: &mut DetRng) -> u32 {
    if net.workstations.len() > 1 {
        net.workstations[1 + rng.index(net.workstations.len() - 1)]
    } else {
        net.workstations[0]
    }
}

fn any_server(net: &Network, rng: &mut DetRng) -> u32 {
    net.servers[rng.index(net.servers.len())].addr
}

fn is_live(net: &Network, addr: u32) -> bool {
    net.servers.iter().any(|s| s.addr == addr) || net.workstations.binary_search(&addr).is_ok()
}

/// UDP ports that answer on a host: DNS and NTP on the servers that run them.
fn open_udp(net: &Network, addr: u32, port: u16) -> bool {
    (port == 53 && addr == net.resolver) || (port == 123 && addr == net.ntp)
}

/// The scan-probe outcome for one port of one address.
fn probe(
    net: &Network,
    rng: &mut DetRng,
    method: ScanMethod,
    dst: u32,
    port: u16,
    filtered_share: f64,
    rtt_s: f64,
) -> Exchange {
    let live = is_live(net, dst);
    match method {
        ScanMethod::Udp => {
            if live && open_udp(net, dst, port) {
                Exchange::udp_reply(rtt_s, 0, 48)
            } else {
                // Closed ports answer with ICMP unreachable, which Zeek logs on its own; the
                // UDP flow itself stays an unanswered datagram.
                Exchange {
                    pkts_out: 1,
                    ..Exchange::unanswered(0.0, 1)
                }
            }
        }
        ScanMethod::Syn | ScanMethod::Connect => {
            if live && net.open_tcp_ports(dst).contains(&port) {
                if method == ScanMethod::Syn {
                    // SYN, SYN-ACK, then the scanner's RST instead of the final ACK.
                    Exchange {
                        duration_s: rtt_s,
                        bytes_out: 0,
                        bytes_in: 0,
                        pkts_out: 2,
                        pkts_in: 1,
                        state: ConnState::RSTO,
                    }
                } else {
                    Exchange::tcp_sf(rtt_s * 3.0, 0, 0)
                }
            } else if !live || rng.chance(filtered_share) {
                Exchange::unanswered(0.0, 1)
            } else {
                Exchange::rejected(rtt_s)
            }
        }
    }
}

fn scan_proto(method: ScanMethod) -> Proto {
    if method == ScanMethod::Udp {
        Proto::Udp
    } else {
        Proto::Tcp
    }
}

/// The time of the `k`-th of a steady stream of events `spacing_s` apart, with a little
/// jitter when loud and exponential (Poisson) gaps when stealthy, so a slow scan does not
/// tick like a clock.
fn paced(ctx: &mut Ctx, k: usize, prev_ts: f64, spacing_s: f64) -> f64 {
    let ts = if ctx.spec.stealth >= 0.5 {
        if k == 0 {
            ctx.window.start_ts
        } else {
            prev_ts + exponential(ctx.rng, 1.0 / spacing_s)
        }
    } else {
        ctx.window.start_ts + (k as f64 + ctx.rng.uniform(0.0, 0.5)) * spacing_s
    };
    ts.min(ctx.window.end_ts)
}

/// Vertical scan: one scanner probing many ports of one victim, well-known ports first.
/// From outside, the firewall drops most probes (S0); inside, closed ports answer RST (REJ);
/// the victim's few open ports answer (RSTO half-open for SYN scans, SF for connect scans).
fn port_scan(ctx: &mut Ctx) -> Parties {
    let (net, spec) = (ctx.net, ctx.spec);
    let external = ctx.rng.chance(0.6);
    let attacker = if external {
        random_public_addr(ctx.rng)
    } else {
        // A compromised workstation doing reconnaissance.
        any_workstation(net, ctx.rng)
    };
    let mut victim = if ctx.rng.chance(0.7) {
        any_server(net, ctx.rng)
    } else {
        any_workstation(net, ctx.rng)
    };
    if victim == attacker {
        victim = net.servers[0].addr;
    }
    let filtered_share = if external { 0.85 } else { 0.1 };
    let rtt_s = if external {
        log_normal(ctx.rng, 0.04, 0.4)
    } else {
        log_normal(ctx.rng, 0.000_4, 0.3)
    };
    // nmap's SYN scan sends from one source port, and a second one for retries; connect
    // scans take an ephemeral port per probe, as do stealthy scans.
    let src_ports = [ephemeral_port(ctx.rng), ephemeral_port(ctx.rng)];
    let probes = port_scan_probes(spec) as usize;
    let spacing_s = spec.duration_s / probes as f64;
    let method = spec.method;
    let proto = scan_proto(method);
    let mut ts = ctx.window.start_ts;
    for (k, port) in scan_order(ctx.rng, probes).into_iter().enumerate() {
        ts = paced(ctx, k, ts, spacing_s);
        let ex = probe(net, ctx.rng, method, victim, port, filtered_share, rtt_s);
        let src_port = if method == ScanMethod::Connect || spec.stealth >= 0.5 {
            ephemeral_port(ctx.rng)
        } else {
            src_ports[usize::from(ctx.rng.chance(0.05))]
        };
        let ends = FiveTuple {
            proto,
            ..tcp(attacker, src_port, victim, port)
        };
        ctx.sink.push(ts, ends, Service::None, ex, ctx.by_attacker);
    }
    Parties::one(attacker, victim)
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

fn partial_shuffle<T>(rng: &mut DetRng, items: &mut [T], count: usize) {
    for i in 0..count.min(items.len()) {
        let j = i + rng.index(items.len() - i);
        items.swap(i, j);
    }
}

/// The addresses a sweep visits: the site's /22 in order when loud (like `nmap 10.0.0.0/22`),
/// a random subset when stealthy.
fn sweep_order(ctx: &mut Ctx, count: usize) -> Vec<u32> {
    let base = u32::from_be_bytes([10, 0, 0, 0]);
    // Skip network and broadcast addresses of each /24.
    let mut addrs: Vec<u32> = (0..SWEEP_SPACE)
        .filter(|i| !matches!(i % 256, 0 | 255))
        .map(|i| base + i)
        .collect();
    if ctx.spec.stealth >= 0.5 {
        partial_shuffle(ctx.rng, &mut addrs, count);
    }
    addrs.truncate(count);
    addrs
}

/// Horizontal scan: one port (SMB, RDP, SSH, telnet; SNMP for UDP) across the site's address
/// space. Addresses without a host stay unanswered; hosts without the service reject.
fn horizontal_scan(ctx: &mut Ctx) -> Parties {
    let (net, spec) = (ctx.net, ctx.spec);
    let external = ctx.rng.chance(0.4);
    let attacker = if external {
        random_public_addr(ctx.rng)
    } else {
        any_workstation(net, ctx.rng)
    };
    let port = match spec.method {
        ScanMethod::Udp => [161, 123, 53][ctx.rng.index(3)],
        _ => [445, 3_389, 22, 23][ctx.rng.index(4)],
    };
    let rtt_s = if external {
        log_normal(ctx.rng, 0.04, 0.4)
    } else {
        log_normal(ctx.rng, 0.000_4, 0.3)
    };
    let filtered_share = if external { 0.9 } else { 0.05 };
    let targets = sweep_targets(spec) as usize;
    let spacing_s = spec.duration_s / targets as f64;
    let src_port = ephemeral_port(ctx.rng);
    let proto = scan_proto(spec.method);
    let mut parties = Parties {
        attacker,
        victims: Vec::new(),
    };
    let mut ts = ctx.window.start_ts;
    for (k, dst) in sweep_order(ctx, targets).into_iter().enumerate() {
        if dst == attacker {
            continue;
        }
        ts = paced(ctx, k, ts, spacing_s);
        let ex = probe(net, ctx.rng, spec.method, dst, port, filtered_share, rtt_s);
        let sp = if spec.method == ScanMethod::Connect || spec.stealth >= 0.5 {
            ephemeral_port(ctx.rng)
        } else {
            src_port
        };
        let ends = FiveTuple {
            proto,
            ..tcp(attacker, sp, dst, port)
        };
        ctx.sink.push(ts, ends, Service::None, ex, ctx.by_attacker);
        if is_live(net, dst) {
            parties.add_victim(dst);
        }
    }
    parties
}

/// Spoofed SYNs at one public web port: each is a lone SYN the victim's answer never returns
/// from (S0, one packet, no payload). Stealthy floods are low-rate and spoof addresses of the
/// site's real visitors, so the sources look familiar.
fn syn_flood(ctx: &mut Ctx) -> Parties {
    let (net, spec) = (ctx.net, ctx.spec);
    let victim = net.web;
    let port = if ctx.rng.chance(0.7) { 443 } else { 80 };
    let rate_per_s = SYN_FLOOD_SYNS_PER_S * spec.intensity * quiet(spec, 1.5);
    let mut ts = ctx.window.start_ts;
    while ts <= ctx.window.end_ts {
        let src = if ctx.rng.chance(spec.stealth) {
            net.pick_internet_client(ctx.rng)
        } else {
            random_public_addr(ctx.rng)
        };
        let src_port = 1_024 + ctx.rng.below(u64::from(u16::MAX) - 1_023) as u16;
        let ends = tcp(src, src_port, victim, port);
        let ex = Exchange::unanswered(0.0, 1);
        ctx.sink.push(ts, ends, Service::None, ex, ctx.by_attacker);
        ts += exponential(ctx.rng, rate_per_s);
    }
    // Sources are spoofed: there is no one attacker address to report.
    Parties::one(0, victim)
}

/// Password guessing against SSH (a server) or RDP (a workstation): short connections of a
/// few KB each way, a new source port each time, closed normally or reset. Stealthy guessing
/// is slow and spread over several attacker addresses (a small botnet).
fn login_guessing(ctx: &mut Ctx, port: u16, service: Service) -> Parties {
    // Linux's default ephemeral range, walked sequentially as the kernel does.
    const PORT_LOW: u16 = 32_768;
    const PORT_HIGH: u16 = 60_999;
    let (net, spec) = (ctx.net, ctx.spec);
    let sources = 1 + (spec.stealth * 7.0).round() as usize;
    let attackers: Vec<u32> = (0..sources).map(|_| random_public_addr(ctx.rng)).collect();
    let victim = if service == Service::Rdp {
        user_workstation(net, ctx.rng)
    } else {
        any_server(net, ctx.rng)
    };
    let rate_per_s = BRUTE_FORCE_ATTEMPTS_PER_S * spec.intensity * quiet(spec, 1.5);
    let mut src_port = PORT_LOW + ctx.rng.below(u64::from(PORT_HIGH - PORT_LOW)) as u16;
    let mut ts = ctx.window.start_ts;
    while ts <= ctx.window.end_ts {
        let rng = &mut *ctx.rng;
        let ex = if service == Service::Rdp {
            // X.224 negotiation, TLS with the host certificate, a failed CredSSP exchange.
            Exchange {
                duration_s: log_normal(rng, 1.2, 0.3).clamp(0.3, 5.0),
                bytes_out: bytes(log_normal(rng, 2_300.0, 0.12)),
                bytes_in: bytes(log_normal(rng, 4_600.0, 0.12)),
                pkts_out: 9 + rng.below(6),
                pkts_in: 8 + rng.below(6),
                state: if rng.chance(0.3) {
                    ConnState::RSTR
                } else {
                    ConnState::SF
                },
            }
        } else {
            Exchange {
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
            }
        };
        let attacker = attackers[ctx.rng.index(attackers.len())];
        let ends = tcp(attacker, src_port, victim, port);
        ctx.sink.push(ts, ends, service, ex, ctx.by_attacker);
        // Other connections of the attacking host take a port now and then.
        src_port += 1 + ctx.rng.below(3) as u16;
        if src_port > PORT_HIGH {
            src_port = PORT_LOW + (src_port - PORT_HIGH);
        }
        ts += exponential(ctx.rng, rate_per_s);
    }
    Parties::one(attackers[0], victim)
}

/// A compromised workstation uploading data to an address nobody else on the site talks to.
/// Loud: a few uploads of hundreds of MB each. Stealthy: a tenth of the volume trickling out
/// over HTTPS in uploads of around a megabyte, spread over the window.
fn exfiltration(ctx: &mut Ctx) -> Parties {
    let (net, spec) = (ctx.net, ctx.spec);
    let victim = user_workstation(net, ctx.rng);
    let drop_site = random_public_addr(ctx.rng);
    let port = if spec.stealth >= 0.5 { 443 } else { 8_443 };
    let service = Service::Ssl;
    let (chunks, chunk_bytes) = exfil_chunks(spec);
    let chunks = chunks as usize;
    let spacing_s = spec.duration_s / chunks as f64;
    let rtt_s = log_normal(ctx.rng, 0.05, 0.3);
    for k in 0..chunks {
        let ts = ctx.window.start_ts + (k as f64 + ctx.rng.uniform(0.0, 0.9)) * spacing_s;
        let sent = log_normal(ctx.rng, chunk_bytes, 0.3);
        // Uplinks are slower than downlinks.
        let throughput = log_normal(ctx.rng, 4.0e6, 0.3);
        let ex = Exchange::tcp_sf(
            rtt_s * 3.0 + sent / throughput,
            bytes(sent),
            bytes(log_normal(ctx.rng, 4_000.0, 0.4)),
        );
        let ends = tcp(victim, ephemeral_port(ctx.rng), drop_site, port);
        ctx.sink
            .push(ts.min(ctx.window.end_ts), ends, service, ex, ctx.by_victim);
    }
    Parties::one(drop_site, victim)
}

/// A compromised workstation calling its C2 server every `period_s`, each gap drawn uniformly
/// from period × (1 ± jitter). Loud: plain HTTP on 8080 with KB-sized check-ins to a
/// hard-coded address. Stealthy: HTTPS to an address like any long-tail site, resolved by DNS
/// first like a browser's, a few hundred bytes each way.
fn c2_beacon(ctx: &mut Ctx) -> Parties {
    let (net, spec) = (ctx.net, ctx.spec);
    let victim = user_workstation(net, ctx.rng);
    let stealthy = spec.stealth >= 0.5;
    let c2 = if stealthy {
        net.tail_site_addr(super::network::TAIL_SITES + ctx.rng.below(1 << 20))
    } else {
        random_public_addr(ctx.rng)
    };
    let (port, service) = if stealthy {
        (443, Service::Ssl)
    } else {
        (8_080, Service::Http)
    };
    let jitter = spec.effective_jitter();
    let out_median = 1_500.0 * spec.intensity * quiet(spec, 0.7);
    let in_median = 4_000.0 * spec.intensity * quiet(spec, 1.4);
    let rtt_s = log_normal(ctx.rng, 0.06, 0.3);
    // A stealthy implant resolves its C2 name like any client, when the 5-minute TTL runs
    // out; a loud one dials a hard-coded address.
    let mut dns_valid_until = f64::NEG_INFINITY;
    let mut ts = ctx.window.start_ts;
    while ts <= ctx.window.end_ts {
        let mut conn_ts = ts;
        if stealthy && ts >= dns_valid_until && victim != net.resolver {
            let lan_s = log_normal(ctx.rng, 0.000_4, 0.3) + log_normal(ctx.rng, 0.02, 0.5);
            let query = bytes(log_normal(ctx.rng, 34.0, 0.2));
            let answer = query + bytes(log_normal(ctx.rng, 90.0, 0.5));
            let ends = udp(victim, ephemeral_port(ctx.rng), net.resolver, 53);
            let ex = Exchange::udp_reply(lan_s, query, answer);
            ctx.sink.push(ts, ends, Service::Dns, ex, ctx.by_victim);
            conn_ts += lan_s + 0.001;
            dns_valid_until = ts + 300.0;
        }
        let sent = log_normal(ctx.rng, out_median, 0.2);
        // Now and then the operator sends a task: a bigger answer.
        let tasked = ctx.rng.chance(0.05);
        let received = log_normal(ctx.rng, in_median, 0.3) * if tasked { 20.0 } else { 1.0 };
        let ex = Exchange::tcp_sf(
            rtt_s * 3.0 + log_normal(ctx.rng, 0.05, 0.5),
            bytes(sent),
            bytes(received),
        );
        let ends = tcp(victim, ephemeral_port(ctx.rng), c2, port);
        ctx.sink.push(conn_ts, ends, service, ex, ctx.by_victim);
        ts += spec.period_s * (1.0 + jitter * ctx.rng.uniform(-1.0, 1.0));
    }
    Parties::one(c2, victim)
}

/// DNS tunnelling (iodine, dnscat2): a compromised workstation sends data in long, unique
/// names under the attacker's domain; every query misses the resolver's cache, so the
/// internal resolver forwards each to the attacker's name server, whose TXT answers carry the
/// return channel. Stealthy tunnels send short names and small answers, slowly.
fn dns_tunnel(ctx: &mut Ctx) -> Parties {
    let (net, spec) = (ctx.net, ctx.spec);
    let victim = user_workstation(net, ctx.rng);
    let name_server = random_public_addr(ctx.rng);
    let resolver = net.resolver;
    let rate_per_s = DNS_TUNNEL_QUERIES_PER_S * spec.intensity * quiet(spec, 1.5);
    let loud = 1.0 - spec.stealth;
    let (query_lo, query_hi) = (60.0 + 100.0 * loud, 110.0 + 140.0 * loud);
    let (txt_lo, txt_hi) = (80.0 + 220.0 * loud, 160.0 + 340.0 * loud);
    let mut ts = ctx.window.start_ts;
    while ts <= ctx.window.end_ts {
        let query = ctx.rng.uniform(query_lo, query_hi);
        let answer = query + ctx.rng.uniform(txt_lo, txt_hi);
        let lan_s = log_normal(ctx.rng, 0.000_4, 0.3);
        let wan_s = log_normal(ctx.rng, 0.04, 0.4);
        if victim != resolver {
            let ends = udp(victim, ephemeral_port(ctx.rng), resolver, 53);
            let ex = Exchange::udp_reply(lan_s + wan_s, bytes(query), bytes(answer));
            ctx.sink.push(ts, ends, Service::Dns, ex, ctx.by_victim);
        }
        // EDNS adds an 11-byte OPT record upstream.
        let ends = udp(resolver, ephemeral_port(ctx.rng), name_server, 53);
        let ex = Exchange::udp_reply(wan_s, bytes(query) + 11, bytes(answer) + 11);
        ctx.sink
            .push(ts + lan_s / 2.0, ends, Service::Dns, ex, ctx.by_victim);
        ts += exponential(ctx.rng, rate_per_s);
    }
    Parties::one(name_server, victim)
}

/// A compromised workstation moving through the site over SMB (PsExec-style: authenticate,
/// copy a service binary, start it) and RDP. Loud: fast fan-out to every host, most attempts
/// failing authentication. Stealthy: a handful of hosts, slowly, with valid credentials.
fn lateral_movement(ctx: &mut Ctx) -> Parties {
    let (net, spec) = (ctx.net, ctx.spec);
    let foothold = user_workstation(net, ctx.rng);
    let mut targets: Vec<u32> = net
        .servers
        .iter()
        .map(|s| s.addr)
        .chain(net.workstations.iter().copied())
        .filter(|&a| a != foothold)
        .collect();
    let attempts = (LATERAL_ATTEMPTS_PER_S * spec.intensity * quiet(spec, 2.5) * spec.duration_s)
        .clamp(2.0, 600.0) as usize;
    let attempts = attempts.min(targets.len().max(1));
    partial_shuffle(ctx.rng, &mut targets, attempts);
    targets.truncate(attempts);
    let success_share = 0.25 + 0.7 * spec.stealth;
    let spacing_s = spec.duration_s / attempts.max(1) as f64;
    let mut parties = Parties {
        attacker: foothold,
        victims: Vec::new(),
    };
    let mut ts = ctx.window.start_ts;
    for (k, &target) in targets.iter().enumerate() {
        ts = paced(ctx, k, ts, spacing_s);
        let rtt_s = log_normal(ctx.rng, 0.000_4, 0.3);
        let rdp = ctx.rng.chance(0.25);
        let (port, service) = if rdp {
            (3_389, Service::Rdp)
        } else {
            (445, Service::Smb)
        };
        let success = ctx.rng.chance(success_share);
        let ex = if success && rdp {
            let out = log_normal(ctx.rng, 60_000.0, 0.8);
            let inn = log_normal(ctx.rng, 2.0e6, 0.8);
            Exchange::tcp_sf(log_normal(ctx.rng, 120.0, 0.6), bytes(out), bytes(inn))
        } else if success {
            // The service binary goes out; the session setup and RPC replies come back.
            let out = log_normal(ctx.rng, 400_000.0, 0.5);
            let inn = log_normal(ctx.rng, 12_000.0, 0.4);
            Exchange::tcp_sf(
                rtt_s * 20.0 + log_normal(ctx.rng, 1.5, 0.5),
                bytes(out),
                bytes(inn),
            )
        } else if ctx.rng.chance(0.5) {
            // Authentication refused: NTLM exchange, then the server closes.
            let ex = Exchange::tcp_sf(
                rtt_s * 8.0,
                bytes(log_normal(ctx.rng, 1_600.0, 0.1)),
                bytes(log_normal(ctx.rng, 900.0, 0.1)),
            );
            ex.reset(1.0, ConnState::RSTR)
        } else {
            // Host firewall: the port is closed.
            Exchange::rejected(rtt_s)
        };
        let ends = tcp(foothold, ephemeral_port(ctx.rng), target, port);
        ctx.sink.push(ts, ends, service, ex, ctx.by_attacker);
        parties.add_victim(target);
    }
    parties
}

/// ICMP echo requests across the site's address space; live hosts answer. Zeek logs ICMP
/// with the type in the originator port (8, echo request) and the code in the responder
/// port, state OTH.
fn icmp_sweep(ctx: &mut Ctx) -> Parties {
    let (net, spec) = (ctx.net, ctx.spec);
    let external = ctx.rng.chance(0.3);
    let attacker = if external {
        random_public_addr(ctx.rng)
    } else {
        any_workstation(net, ctx.rng)
    };
    let targets = sweep_targets(spec) as usize;
    let spacing_s = spec.duration_s / targets as f64;
    // nmap's ping has no payload; ping(8) sends 56 bytes.
    let payload = if ctx.rng.chance(0.5) { 0 } else { 56 };
    let mut parties = Parties {
        attacker,
        victims: Vec::new(),
    };
    let mut ts = ctx.window.start_ts;
    for (k, dst) in sweep_order(ctx, targets).into_iter().enumerate() {
        if dst == attacker {
            continue;
        }
        ts = paced(ctx, k, ts, spacing_s);
        // The firewall lets pings reach only the public servers from outside.
        let answers = is_live(net, dst) && (!external || dst == net.web || dst == net.mail);
        let ex = Exchange {
            duration_s: if answers {
                log_normal(ctx.rng, 0.000_5, 0.3)
            } else {
                0.0
            },
            bytes_out: payload,
            bytes_in: if answers { payload } else { 0 },
            pkts_out: 1,
            pkts_in: u64::from(answers),
            state: ConnState::OTH,
        };
        let ends = FiveTuple {
            proto: Proto::Icmp,
            src: attacker,
            src_port: 8,
            dst,
            dst_port: 0,
        };
        ctx.sink.push(ts, ends, Service::None, ex, ctx.by_attacker);
        if answers {
            parties.add_victim(dst);
        }
    }
    parties
}

/// Slowloris: many connections to the web server, each sending an incomplete request and a
/// header line every few seconds so the server keeps it open until its timeout (RSTR), or
/// still open when the run ends (S1). The server never answers. Stealthy: a few sockets from
/// a few addresses.
fn slowloris(ctx: &mut Ctx) -> Parties {
    let (net, spec) = (ctx.net, ctx.spec);
    let victim = net.web;
    let port = if ctx.rng.chance(0.5) { 80 } else { 443 };
    let service = if port == 80 {
        Service::Http
    } else {
        Service::Ssl
    };
    let sources = 1 + (spec.stealth * 4.0).round() as usize;
    let attackers: Vec<u32> = (0..sources).map(|_| random_public_addr(ctx.rng)).collect();
    let sockets = slowloris_sockets(spec) as usize;
    let trickle_s = 10.0 + 20.0 * spec.stealth;
    let end_ts = ctx.sink.end_ts();
    for socket in 0..sockets {
        let attacker = attackers[socket % attackers.len()];
        // Sockets open in a burst at the start, then each reopens when the server drops it.
        let mut ts = ctx.window.start_ts + ctx.rng.uniform(0.0, 2.0 + 30.0 * spec.stealth);
        while ts <= ctx.window.end_ts {
            let life_s = log_normal(ctx.rng, SLOWLORIS_LIFE_S, 0.2);
            let open_s = life_s.min(end_ts - ts).max(0.0);
            let lines = (open_s / trickle_s) as u64;
            let state = if ts + life_s > end_ts {
                ConnState::S1
            } else {
                ConnState::RSTR
            };
            let ex = Exchange {
                duration_s: open_s,
                bytes_out: 220 + 24 * lines,
                bytes_in: 0,
                pkts_out: 3 + lines,
                pkts_in: 1 + lines,
                state,
            };
            let ends = tcp(attacker, ephemeral_port(ctx.rng), victim, port);
            ctx.sink.push(ts, ends, service, ex, ctx.by_attacker);
            ts += life_s + ctx.rng.uniform(0.05, 1.0);
        }
    }
    Parties::one(attackers[0], victim)
}

/// A compromised server mining for someone: long-lived Stratum connections to a pool with a
/// steady trickle of shares up and jobs down. Loud: several workers on the pool port 3333.
/// Stealthy: one worker over TLS on 443 that reconnects rarely.
fn crypto_mining(ctx: &mut Ctx) -> Parties {
    let (net, spec) = (ctx.net, ctx.spec);
    let victim = any_server(net, ctx.rng);
    let pool = random_public_addr(ctx.rng);
    let stealthy = spec.stealth >= 0.5;
    let (port, service) = if stealthy {
        (443, Service::Ssl)
    } else {
        (3_333, Service::Other)
    };
    let (parallel, life_median_s) = mining_conns(spec);
    let share_every_s = 15.0 / spec.intensity;
    let end_ts = ctx.sink.end_ts();
    for _ in 0..parallel as usize {
        let mut ts = ctx.window.start_ts + ctx.rng.uniform(0.0, 5.0);
        while ts <= ctx.window.end_ts {
            let life_s = log_normal(ctx.rng, life_median_s, 0.5);
            let open_s = life_s.min(end_ts - ts).max(0.0);
            let shares = open_s / share_every_s;
            // New jobs arrive about every 30 s.
            let jobs = open_s / 30.0 + 1.0;
            let state = if ts + life_s > end_ts {
                ConnState::S1
            } else {
                ConnState::SF
            };
            let ex = Exchange {
                duration_s: open_s,
                bytes_out: bytes(300.0 + 160.0 * shares),
                bytes_in: bytes(900.0 + 420.0 * jobs + 90.0 * shares),
                pkts_out: 4 + (shares * 1.5) as u64 + (jobs / 2.0) as u64,
                pkts_in: 3 + jobs as u64 + shares as u64,
                state,
            };
            let ends = tcp(victim, ephemeral_port(ctx.rng), pool, port);
            ctx.sink.push(ts, ends, service, ex, ctx.by_victim);
            ts += life_s + ctx.rng.uniform(1.0, 10.0);
        }
    }
    Parties::one(pool, victim)
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
            ..AttackSpec::default()
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
