//! Benign traffic of the simulated site: web browsing with its DNS lookups, mail, SMB file
//! shares, NTP, SSH administration, IoT devices reporting to their vendor clouds, and what a
//! site with public services receives (visitors, inbound mail, internet background scanning).
//! Activity follows the time of day and the day of the week.
//!
//! Every host and every site-wide process draws from its own derived stream, so attack
//! settings never change benign flows. Not here: attacks (`attacks.rs`), record building
//! (`emit.rs`), addresses and roles (`network.rs`).

use super::config::GeneratorConfig;
use super::emit::{benign_tcp_outcome, ephemeral_port, Exchange, FiveTuple, Sink, Tag};
use super::network::{random_public_addr, server_count, Network, UPSTREAM_DNS, UPSTREAM_NTP};
use super::sample::{bytes, exponential, geometric_count, log_normal, next_arrival, pareto};
use super::streams::stream;
use crate::traffic::flow::{ConnState, Proto, Service};
use crate::util::math;
use crate::util::rng::DetRng;
use std::f64::consts::TAU;

const BENIGN: Tag = Tag::BENIGN;

// --- Rates (events per second at the busiest time of day) ---------------------------------

/// Page visits per workstation (median over workstations; each has its own).
const WEB_VISITS_PER_S: f64 = 0.14;
/// Spread of busyness between workstations (log-space).
const WEB_VISITS_SIGMA: f64 = 0.5;
/// Outbound HTTPS of a server: package updates, monitoring, licence checks.
const SERVER_WEB_VISITS_PER_S: f64 = 0.004;
/// Mail submissions per workstation.
const SMTP_SUBMISSIONS_PER_S: f64 = 1.0 / 1_800.0;
/// SMB file-share sessions per workstation.
const SMB_SESSIONS_PER_S: f64 = 1.0 / 900.0;
/// IoT telemetry periods: devices report on a fixed clock, each its own.
const IOT_PERIODS_S: [f64; 4] = [30.0, 60.0, 120.0, 300.0];
/// Vendor clouds IoT devices report to (long-tail addresses past the browsing range).
const IOT_CLOUDS: u64 = 4;
/// Weekend activity relative to a weekday at the same hour.
const WEEKEND_FACTOR: f64 = 0.3;
/// Interactive admin SSH sessions, site-wide.
const SSH_SESSIONS_PER_S: f64 = 1.0 / 900.0;
/// Configuration-management runs (each touches every server), site-wide, around the clock.
const CONFIG_RUNS_PER_S: f64 = 1.0 / 1_800.0;
/// Internet visitors of the public web server: a floor plus a share per host of the site.
const INBOUND_WEB_BASE_PER_S: f64 = 0.15;
const INBOUND_WEB_PER_HOST_PER_S: f64 = 0.005;
/// Inbound mail from other sites' mail servers, per host of the site.
const INBOUND_MAIL_PER_HOST_PER_S: f64 = 0.5 / 3_600.0;
/// Internet-wide scanners probing the public servers, around the clock.
const RADIATION_PER_S: f64 = 1.0 / 40.0;

// --- Shapes and shares ---------------------------------------------------------------------

const DAY_S: f64 = 86_400.0;
/// Quietest moment of the day (03:00); the busiest is twelve hours later.
const TROUGH_S: f64 = 3.0 * 3_600.0;
/// Per-host slow oscillation on top of the day shape: bursts of work and breaks.
const WAVE_AMPLITUDE: f64 = 0.25;
const WAVE_PERIOD_MIN_S: f64 = 900.0;
const WAVE_PERIOD_MAX_S: f64 = 2_700.0;

const INTRANET_SHARE: f64 = 0.12;
/// Of external visits, the share going to the popular pool (the rest to the long tail).
const POPULAR_SHARE: f64 = 0.65;
const MAIL_CLIENT_SHARE: f64 = 0.85;
const EXTERNAL_RECIPIENT_SHARE: f64 = 0.6;
/// DNS queries that get no answer (the stub retries after `DNS_RETRY_S`).
const DNS_UNANSWERED: f64 = 0.004;
const DNS_RETRY_S: f64 = 1.0;

// --- Sizes ---------------------------------------------------------------------------------

/// Share of web connections that are downloads with a Pareto-sized body.
const DOWNLOAD_SHARE: f64 = 0.015;
const DOWNLOAD_MAX_BYTES: f64 = 4.0e9;
const ATTACHMENT_MAX_BYTES: f64 = 25.0e6;
/// Browsers keep connections open a while after the last request.
const IDLE_MAX_S: f64 = 300.0;
const LAN_BYTES_PER_S: f64 = 50.0e6;
const WAN_BYTES_PER_S: f64 = 2.0e6;
const NTP_PACKET_BYTES: u64 = 48;
const NTP_MIN_POLL_S: f64 = 64.0;
/// Ports internet scanners try most.
const RADIATION_PORTS: [u16; 12] = [
    23, 22, 445, 3389, 8080, 1433, 5900, 6379, 2323, 81, 8443, 5060,
];

/// The site and the run's time bounds, shared by every process.
struct Site<'a> {
    net: &'a Network,
    start_ts: f64,
    end_ts: f64,
}

/// Generates all benign flows into `sink`, calling `progress` with the share done (0..1) after
/// each host.
pub(crate) fn generate(
    config: &GeneratorConfig,
    net: &Network,
    sink: &mut Sink<'_>,
    progress: &mut dyn FnMut(f64),
) {
    let site = Site {
        net,
        start_ts: config.start_ts,
        end_ts: sink.end_ts(),
    };
    let seed = config.seed;
    admin_ssh(
        &site,
        &mut stream(seed, "generator/benign/admin-ssh", 0),
        sink,
    );
    inbound_web(
        &site,
        &mut stream(seed, "generator/benign/inbound-web", 0),
        sink,
    );
    inbound_mail(
        &site,
        &mut stream(seed, "generator/benign/inbound-mail", 0),
        sink,
    );
    internet_radiation(
        &site,
        &mut stream(seed, "generator/benign/radiation", 0),
        sink,
    );
    let mut rng = stream(seed, "generator/benign/ntp-upstream", 0);
    for upstream in UPSTREAM_NTP {
        ntp_polls(&site, &mut rng, net.ntp, Some(123), upstream, sink);
    }

    let total = net.host_count() as f64;
    for (index, server) in net.servers.iter().enumerate() {
        let mut rng = stream(seed, "generator/benign/server", index as u64);
        server_host(&site, &mut rng, server.addr, sink);
        progress((index + 1) as f64 / total);
    }
    for (index, &addr) in net.workstations.iter().enumerate() {
        let mut rng = stream(seed, "generator/benign/workstation", index as u64);
        if Network::is_iot(index) {
            iot_device(&site, &mut rng, addr, sink);
        } else {
            workstation(&site, &mut rng, addr, sink);
        }
        progress((net.servers.len() + index + 1) as f64 / total);
    }
}

/// Expected benign flow count for `config`, from the rates above and per-event flow counts
/// measured on the generator (see the `estimate_tracks_the_generator` test).
pub(crate) fn expected_flows(config: &GeneratorConfig) -> f64 {
    // Flows per page visit (DNS, resolver upstream, parallel connections), measured.
    const FLOWS_PER_VISIT: f64 = 2.6;
    // Submission, relay, and the relay's DNS lookups, measured.
    const FLOWS_PER_SUBMISSION: f64 = 1.9;
    let hosts = config.hosts.max(2) as usize;
    let servers = server_count(hosts) as f64;
    let iot = Network::iot_count(hosts - server_count(hosts)) as f64;
    let workstations = hosts as f64 - servers - iot;
    let hosts = hosts as f64;
    let activity = mean_day_activity(config.start_ts, config.start_ts + config.duration_s);
    // Mean of the per-workstation log-normal rate multiplier.
    let visit_rate = WEB_VISITS_PER_S * math::exp(WEB_VISITS_SIGMA * WEB_VISITS_SIGMA / 2.0);
    let day_shaped = workstations * visit_rate * FLOWS_PER_VISIT
        + servers * SERVER_WEB_VISITS_PER_S * FLOWS_PER_VISIT
        + workstations * SMTP_SUBMISSIONS_PER_S * FLOWS_PER_SUBMISSION
        + workstations * SMB_SESSIONS_PER_S
        + SSH_SESSIONS_PER_S
        + INBOUND_WEB_BASE_PER_S
        + hosts * (INBOUND_WEB_PER_HOST_PER_S + INBOUND_MAIL_PER_HOST_PER_S);
    // Mean of 1/interval over the poll intervals 64..1024 s and the IMAP interval 300..900 s.
    let ntp_per_s = (0..5)
        .map(|k| 1.0 / (NTP_MIN_POLL_S * f64::from(1 << k)))
        .sum::<f64>()
        / 5.0;
    let imap_per_s = math::ln(3.0) / 600.0;
    let iot_per_s = IOT_PERIODS_S.iter().map(|p| 1.0 / p).sum::<f64>() / IOT_PERIODS_S.len() as f64;
    let flat = (hosts - 1.0 + UPSTREAM_NTP.len() as f64) * ntp_per_s
        + iot * iot_per_s
        + workstations * MAIL_CLIENT_SHARE * imap_per_s
        + CONFIG_RUNS_PER_S * servers
        + RADIATION_PER_S;
    (activity * day_shaped + flat) * config.duration_s
}

/// Site activity at `ts` relative to its busiest moment (15:00 UTC on a weekday): 0.2 at
/// 03:00, and `WEEKEND_FACTOR` of that on Saturdays and Sundays.
#[inline]
fn day_activity(ts: f64) -> f64 {
    let hour_shape = 0.6 - 0.4 * math::cos(TAU / DAY_S * (ts.rem_euclid(DAY_S) - TROUGH_S));
    if is_weekend(ts) {
        hour_shape * WEEKEND_FACTOR
    } else {
        hour_shape
    }
}

/// Saturday or Sunday (UTC); 1970-01-01 was a Thursday.
#[inline]
fn is_weekend(ts: f64) -> bool {
    let day = (ts / DAY_S).floor() as i64;
    matches!((day + 4).rem_euclid(7), 0 | 6)
}

/// Mean of `day_activity` over `[t0, t1]`, by the midpoint rule on a fine grid (the weekend
/// step rules out the closed form; this runs once per config).
fn mean_day_activity(t0: f64, t1: f64) -> f64 {
    const STEPS: u32 = 4_096;
    if t1 - t0 < 1e-9 {
        return day_activity(t0);
    }
    let step = (t1 - t0) / f64::from(STEPS);
    (0..STEPS)
        .map(|k| day_activity(t0 + (f64::from(k) + 0.5) * step))
        .sum::<f64>()
        / f64::from(STEPS)
}

/// One source's arrival rate: a base, the site's day shape and its own slow oscillation.
#[derive(Debug, Clone, Copy)]
struct Rhythm {
    base_per_s: f64,
    period_s: f64,
    phase: f64,
    start_ts: f64,
}

impl Rhythm {
    fn draw(rng: &mut DetRng, start_ts: f64, base_per_s: f64) -> Rhythm {
        Rhythm {
            base_per_s,
            period_s: rng.uniform(WAVE_PERIOD_MIN_S, WAVE_PERIOD_MAX_S),
            phase: rng.uniform(0.0, TAU),
            start_ts,
        }
    }

    #[inline]
    fn rate_at(&self, ts: f64) -> f64 {
        let wave = 1.0
            + WAVE_AMPLITUDE * math::sin(TAU * (ts - self.start_ts) / self.period_s + self.phase);
        self.base_per_s * day_activity(ts) * wave
    }

    fn max_per_s(&self) -> f64 {
        self.base_per_s * (1.0 + WAVE_AMPLITUDE)
    }
}

/// A host's DNS cache: direct-mapped, fixed size, so lookups allocate nothing.
struct DnsCache {
    keys: [u64; DnsCache::SLOTS],
    expires_ts: [f64; DnsCache::SLOTS],
}

impl DnsCache {
    const SLOTS: usize = 16;

    fn new() -> DnsCache {
        DnsCache {
            keys: [u64::MAX; DnsCache::SLOTS],
            expires_ts: [f64::NEG_INFINITY; DnsCache::SLOTS],
        }
    }

    /// True if `key` is cached at `ts`; otherwise records it as looked up now for `ttl_s`.
    fn hit_or_insert(&mut self, key: u64, ts: f64, ttl_s: f64) -> bool {
        let slot = (key.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 60) as usize;
        if self.keys[slot] == key && ts < self.expires_ts[slot] {
            return true;
        }
        self.keys[slot] = key;
        self.expires_ts[slot] = ts + ttl_s;
        false
    }
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

#[inline]
fn lan_rtt_s(rng: &mut DetRng) -> f64 {
    log_normal(rng, 0.000_4, 0.3)
}

#[inline]
fn wan_rtt_s(rng: &mut DetRng) -> f64 {
    log_normal(rng, 0.03, 0.6).clamp(0.002, 0.5)
}

/// Where a page visit goes.
#[derive(Debug, Clone, Copy)]
struct WebTarget {
    /// DNS cache key of the name.
    key: u64,
    addr: u32,
    port: u16,
    rtt_s: f64,
    /// Chance the internal resolver has to ask upstream (its shared cache misses).
    upstream_share: f64,
    ttl_s: f64,
    /// Chance of each further parallel connection (pages with many resources open more).
    more_conns: f64,
}

fn pick_target(site: &Site, rng: &mut DetRng, intranet_share: f64) -> WebTarget {
    if rng.chance(intranet_share) {
        return WebTarget {
            key: u64::MAX - 1,
            addr: site.net.web,
            port: if rng.chance(0.8) { 443 } else { 80 },
            rtt_s: lan_rtt_s(rng),
            upstream_share: 0.0,
            ttl_s: 600.0,
            more_conns: 0.4,
        };
    }
    if rng.chance(POPULAR_SHARE) {
        let (rank, addr) = site.net.pick_popular(rng);
        return WebTarget {
            key: rank as u64,
            addr,
            port: if rng.chance(0.95) { 443 } else { 80 },
            rtt_s: wan_rtt_s(rng),
            upstream_share: 0.05,
            ttl_s: 300.0,
            more_conns: 0.55,
        };
    }
    let tail = site.net.pick_tail_site(rng);
    WebTarget {
        key: 1_000 + tail,
        addr: site.net.tail_site_addr(tail),
        port: if rng.chance(0.75) { 443 } else { 80 },
        rtt_s: wan_rtt_s(rng),
        upstream_share: 0.6,
        ttl_s: 3_600.0,
        more_conns: 0.35,
    }
}

/// Sizes and duration of one web connection; `tls` adds the handshake's bytes.
fn web_exchange(rng: &mut DetRng, tls: bool, rtt_s: f64) -> Exchange {
    let (request_bytes, mut response_bytes) = if tls {
        (
            517.0 + log_normal(rng, 700.0, 1.0),
            3_800.0 + log_normal(rng, 15_000.0, 1.7),
        )
    } else {
        (log_normal(rng, 450.0, 0.6), log_normal(rng, 8_000.0, 1.9))
    };
    if rng.chance(DOWNLOAD_SHARE) {
        response_bytes += pareto(rng, 300_000.0, 1.2).min(DOWNLOAD_MAX_BYTES);
    }
    let throughput_bytes_per_s = log_normal(rng, WAN_BYTES_PER_S, 0.9);
    let idle_s = log_normal(rng, 0.5, 1.6).min(IDLE_MAX_S);
    Exchange::tcp_sf(
        rtt_s * 3.0 + response_bytes / throughput_bytes_per_s + idle_s,
        bytes(request_bytes),
        bytes(response_bytes),
    )
}

/// A page visit at `ts`: a DNS lookup if the name is not cached, then one or more
/// connections to the site.
fn web_visit(
    site: &Site,
    rng: &mut DetRng,
    cache: &mut DnsCache,
    client: u32,
    ts: f64,
    intranet_share: f64,
    sink: &mut Sink<'_>,
) {
    let target = pick_target(site, rng, intranet_share);
    let mut conn_ts = ts;
    if !cache.hit_or_insert(target.key, ts, target.ttl_s) {
        let upstream = rng.chance(target.upstream_share);
        conn_ts += dns_lookup(site, rng, client, ts, upstream, sink) + rng.uniform(0.000_5, 0.005);
    }
    let tls = target.port == 443;
    let service = if tls { Service::Ssl } else { Service::Http };
    for conn in 0..geometric_count(rng, target.more_conns, 6) {
        if conn > 0 {
            conn_ts += exponential(rng, 4.0);
        }
        let ok = web_exchange(rng, tls, target.rtt_s);
        let ex = benign_tcp_outcome(rng, ok, target.rtt_s);
        let ends = tcp(client, ephemeral_port(rng), target.addr, target.port);
        sink.push(conn_ts, ends, service, ex, BENIGN);
    }
}

/// A lookup by `client` at `ts` through the internal resolver (which asks upstream when
/// `upstream`); returns the time until the answer arrived.
fn dns_lookup(
    site: &Site,
    rng: &mut DetRng,
    client: u32,
    ts: f64,
    upstream: bool,
    sink: &mut Sink<'_>,
) -> f64 {
    let resolver = site.net.resolver;
    let mut waited_s = 0.0;
    // The resolver's own lookups go straight upstream; there is no LAN leg to log.
    let local = client == resolver;
    while !local && rng.chance(DNS_UNANSWERED) {
        let ends = udp(client, ephemeral_port(rng), resolver, 53);
        sink.push(
            ts + waited_s,
            ends,
            Service::Dns,
            Exchange::unanswered(0.0, 1),
            BENIGN,
        );
        waited_s += DNS_RETRY_S;
    }
    let query_bytes = bytes(log_normal(rng, 34.0, 0.2).clamp(17.0, 255.0));
    let answer_bytes = query_bytes + bytes(log_normal(rng, 90.0, 0.5).clamp(16.0, 480.0));
    let lan_s = if local { 0.0 } else { lan_rtt_s(rng) };
    let mut duration_s = lan_s;
    if upstream || local {
        let wan_s = log_normal(rng, 0.02, 0.5);
        let ends = udp(
            resolver,
            ephemeral_port(rng),
            UPSTREAM_DNS[rng.index(UPSTREAM_DNS.len())],
            53,
        );
        // EDNS adds an 11-byte OPT record on the resolver's queries and answers.
        let ex = Exchange::udp_reply(wan_s, query_bytes + 11, answer_bytes + 11);
        sink.push(ts + waited_s + lan_s / 2.0, ends, Service::Dns, ex, BENIGN);
        duration_s += wan_s;
    }
    if !local {
        let ends = udp(client, ephemeral_port(rng), resolver, 53);
        let ex = Exchange::udp_reply(duration_s, query_bytes, answer_bytes);
        sink.push(ts + waited_s, ends, Service::Dns, ex, BENIGN);
    }
    waited_s + duration_s
}

fn workstation(site: &Site, rng: &mut DetRng, addr: u32, sink: &mut Sink<'_>) {
    let mut cache = DnsCache::new();
    let base_per_s = log_normal(rng, WEB_VISITS_PER_S, WEB_VISITS_SIGMA);
    let rhythm = Rhythm::draw(rng, site.start_ts, base_per_s);
    let mut ts = site.start_ts;
    while let Some(next) = next_arrival(rng, ts, site.end_ts, rhythm.max_per_s(), |t| {
        rhythm.rate_at(t)
    }) {
        ts = next;
        web_visit(site, rng, &mut cache, addr, ts, INTRANET_SHARE, sink);
    }
    if rng.chance(MAIL_CLIENT_SHARE) {
        imap_polls(site, rng, addr, sink);
    }
    smtp_submissions(site, rng, addr, sink);
    smb_sessions(site, rng, addr, sink);
    if addr != site.net.ntp {
        ntp_polls(site, rng, addr, None, site.net.ntp, sink);
    }
}

/// A user opening and saving documents on the file server: mostly reads, heavy-tailed.
fn smb_sessions(site: &Site, rng: &mut DetRng, client: u32, sink: &mut Sink<'_>) {
    let rate_at = |t: f64| SMB_SESSIONS_PER_S * day_activity(t);
    let mut ts = site.start_ts;
    while let Some(next) = next_arrival(rng, ts, site.end_ts, SMB_SESSIONS_PER_S, rate_at) {
        ts = next;
        let rtt_s = lan_rtt_s(rng);
        let mut read_bytes = log_normal(rng, 150_000.0, 1.6);
        if rng.chance(0.03) {
            read_bytes += pareto(rng, 5.0e6, 1.2).min(DOWNLOAD_MAX_BYTES);
        }
        let written_bytes = log_normal(rng, 20_000.0, 1.3);
        let duration_s =
            log_normal(rng, 30.0, 1.2) + (read_bytes + written_bytes) / LAN_BYTES_PER_S;
        let ok = Exchange::tcp_sf(duration_s, bytes(written_bytes), bytes(read_bytes));
        let ex = benign_tcp_outcome(rng, ok, rtt_s);
        let ends = tcp(client, ephemeral_port(rng), site.net.file, 445);
        sink.push(ts, ends, Service::Smb, ex, BENIGN);
    }
}

/// An IoT device: telemetry to its vendor's cloud on a fixed clock (MQTT over TLS or HTTPS),
/// around the clock, with a DNS lookup when the name's hour-long TTL runs out. Benign
/// clockwork: what makes beacon detection hard.
fn iot_device(site: &Site, rng: &mut DetRng, addr: u32, sink: &mut Sink<'_>) {
    let period_s = IOT_PERIODS_S[rng.index(IOT_PERIODS_S.len())];
    let cloud = site
        .net
        .tail_site_addr(super::network::TAIL_SITES + (1 << 21) + rng.below(IOT_CLOUDS));
    let port = if rng.chance(0.5) { 8_883 } else { 443 };
    let rtt_s = wan_rtt_s(rng);
    let report_bytes = log_normal(rng, 400.0, 0.5);
    let mut ts = site.start_ts + rng.uniform(0.0, period_s);
    let mut dns_valid_until = f64::NEG_INFINITY;
    while ts <= site.end_ts {
        let mut conn_ts = ts;
        if ts >= dns_valid_until {
            let upstream = rng.chance(0.3);
            conn_ts += dns_lookup(site, rng, addr, ts, upstream, sink) + 0.001;
            dns_valid_until = ts + 3_600.0;
        }
        let ok = Exchange::tcp_sf(
            rtt_s * 4.0 + log_normal(rng, 0.05, 0.5),
            bytes(log_normal(rng, report_bytes, 0.15)),
            bytes(log_normal(rng, 250.0, 0.2)),
        );
        let ex = benign_tcp_outcome(rng, ok, rtt_s);
        let ends = tcp(addr, ephemeral_port(rng), cloud, port);
        sink.push(conn_ts, ends, Service::Ssl, ex, BENIGN);
        ts += period_s * rng.uniform(0.98, 1.02);
    }
    if addr != site.net.ntp {
        ntp_polls(site, rng, addr, None, site.net.ntp, sink);
    }
}

fn server_host(site: &Site, rng: &mut DetRng, addr: u32, sink: &mut Sink<'_>) {
    let mut cache = DnsCache::new();
    let rhythm = Rhythm::draw(rng, site.start_ts, SERVER_WEB_VISITS_PER_S);
    let mut ts = site.start_ts;
    while let Some(next) = next_arrival(rng, ts, site.end_ts, rhythm.max_per_s(), |t| {
        rhythm.rate_at(t)
    }) {
        ts = next;
        web_visit(site, rng, &mut cache, addr, ts, 0.0, sink);
    }
    // ntpd on servers talks from port 123.
    if addr != site.net.ntp {
        ntp_polls(site, rng, addr, Some(123), site.net.ntp, sink);
    }
}

/// A mail client syncing its mailbox over IMAPS on a fixed interval.
fn imap_polls(site: &Site, rng: &mut DetRng, client: u32, sink: &mut Sink<'_>) {
    let interval_s = rng.uniform(300.0, 900.0);
    let mut ts = site.start_ts + rng.uniform(0.0, interval_s);
    while ts <= site.end_ts {
        let rtt_s = lan_rtt_s(rng);
        let mut fetched_bytes = log_normal(rng, 5_000.0, 1.3);
        if rng.chance(0.03) {
            fetched_bytes += pareto(rng, 150_000.0, 1.3).min(ATTACHMENT_MAX_BYTES);
        }
        let sent_bytes = log_normal(rng, 1_300.0, 0.5);
        let duration_s = rtt_s * 4.0 + log_normal(rng, 0.6, 0.8) + fetched_bytes / LAN_BYTES_PER_S;
        let ok = Exchange::tcp_sf(duration_s, bytes(sent_bytes), bytes(fetched_bytes));
        let ex = benign_tcp_outcome(rng, ok, rtt_s);
        let ends = tcp(client, ephemeral_port(rng), site.net.mail, 993);
        sink.push(ts, ends, Service::Imap, ex, BENIGN);
        ts += interval_s * rng.uniform(0.9, 1.1);
    }
}

/// A user sending mail: submission to the mail server, which relays external recipients.
fn smtp_submissions(site: &Site, rng: &mut DetRng, client: u32, sink: &mut Sink<'_>) {
    let rate_at = |t: f64| SMTP_SUBMISSIONS_PER_S * day_activity(t);
    let mut ts = site.start_ts;
    while let Some(next) = next_arrival(rng, ts, site.end_ts, SMTP_SUBMISSIONS_PER_S, rate_at) {
        ts = next;
        let rtt_s = lan_rtt_s(rng);
        let mut message_bytes = log_normal(rng, 18_000.0, 1.2);
        if rng.chance(0.05) {
            message_bytes += pareto(rng, 400_000.0, 1.3).min(ATTACHMENT_MAX_BYTES);
        }
        let duration_s = rtt_s * 6.0 + log_normal(rng, 0.3, 0.5) + message_bytes / LAN_BYTES_PER_S;
        let reply_bytes = bytes(log_normal(rng, 1_200.0, 0.2));
        let ok = Exchange::tcp_sf(duration_s, bytes(message_bytes), reply_bytes);
        let ex = benign_tcp_outcome(rng, ok, rtt_s);
        let ends = tcp(client, ephemeral_port(rng), site.net.mail, 587);
        sink.push(ts, ends, Service::Smtp, ex, BENIGN);
        if ex.state == ConnState::SF && rng.chance(EXTERNAL_RECIPIENT_SHARE) {
            let relay_ts = ts + ex.duration_s + rng.uniform(0.2, 3.0);
            relay(site, rng, relay_ts, message_bytes, sink);
        }
    }
}

/// The mail server delivering a message to another site's mail server.
fn relay(site: &Site, rng: &mut DetRng, ts: f64, message_bytes: f64, sink: &mut Sink<'_>) {
    let mail = site.net.mail;
    let mx = site.net.tail_site_addr(site.net.pick_tail_site(rng));
    let mut conn_ts = ts;
    // The mail server caches recent domains, so only some deliveries need a lookup.
    if rng.chance(0.5) {
        conn_ts += dns_lookup(site, rng, mail, ts, true, sink) + 0.001;
    }
    let rtt_s = wan_rtt_s(rng);
    // Received: headers and a DKIM signature are added on the way out.
    let sent_bytes = message_bytes + log_normal(rng, 700.0, 0.3);
    let duration_s = rtt_s * 8.0 + log_normal(rng, 0.5, 0.5) + sent_bytes / WAN_BYTES_PER_S;
    let ok = Exchange::tcp_sf(
        duration_s,
        bytes(sent_bytes),
        bytes(log_normal(rng, 900.0, 0.2)),
    );
    let ex = benign_tcp_outcome(rng, ok, rtt_s);
    sink.push(
        conn_ts,
        tcp(mail, ephemeral_port(rng), mx, 25),
        Service::Smtp,
        ex,
        BENIGN,
    );
}

/// An NTP client polling `server` at a fixed power-of-two interval (64–1024 s).
fn ntp_polls(
    site: &Site,
    rng: &mut DetRng,
    client: u32,
    src_port: Option<u16>,
    server: u32,
    sink: &mut Sink<'_>,
) {
    let interval_s = NTP_MIN_POLL_S * f64::from(1u32 << rng.below(5));
    let lan = Network::is_internal(server);
    let mut ts = site.start_ts + rng.uniform(0.0, interval_s);
    while ts <= site.end_ts {
        let rtt_s = if lan { lan_rtt_s(rng) } else { wan_rtt_s(rng) };
        let port = src_port.unwrap_or_else(|| ephemeral_port(rng));
        let ex = Exchange::udp_reply(rtt_s, NTP_PACKET_BYTES, NTP_PACKET_BYTES);
        sink.push(ts, udp(client, port, server, 123), Service::Ntp, ex, BENIGN);
        ts += interval_s * rng.uniform(0.98, 1.02);
    }
}

/// The admin workstation's SSH into servers: long interactive sessions by day, and short
/// configuration-management runs that visit every server in turn.
fn admin_ssh(site: &Site, rng: &mut DetRng, sink: &mut Sink<'_>) {
    let net = site.net;
    let rate_at = |t: f64| SSH_SESSIONS_PER_S * day_activity(t);
    let mut ts = site.start_ts;
    while let Some(next) = next_arrival(rng, ts, site.end_ts, SSH_SESSIONS_PER_S, rate_at) {
        ts = next;
        let server = net.servers[rng.index(net.servers.len())].addr;
        let typed_bytes = log_normal(rng, 30_000.0, 1.0);
        let shown_bytes = log_normal(rng, 200_000.0, 1.5);
        let ex = Exchange {
            duration_s: log_normal(rng, 400.0, 1.0).clamp(5.0, 14_400.0),
            bytes_out: bytes(typed_bytes),
            bytes_in: bytes(shown_bytes),
            // Keystrokes travel one per packet; output arrives in bursts.
            pkts_out: (typed_bytes / 80.0).round() as u64 + 12,
            pkts_in: (shown_bytes / 700.0).round() as u64 + 10,
            state: if rng.chance(0.04) {
                ConnState::RSTO
            } else {
                ConnState::SF
            },
        };
        let ends = tcp(net.admin, ephemeral_port(rng), server, 22);
        sink.push(ts, ends, Service::Ssh, ex, BENIGN);
    }
    let mut run_ts = site.start_ts;
    while let Some(next) = next_arrival(rng, run_ts, site.end_ts, CONFIG_RUNS_PER_S, |_| {
        CONFIG_RUNS_PER_S
    }) {
        run_ts = next;
        let mut ts = run_ts;
        for server in &net.servers {
            let duration_s = log_normal(rng, 4.0, 0.5);
            let sent_bytes = bytes(log_normal(rng, 40_000.0, 0.6));
            let received_bytes = bytes(log_normal(rng, 25_000.0, 0.6));
            let ends = tcp(net.admin, ephemeral_port(rng), server.addr, 22);
            sink.push(
                ts,
                ends,
                Service::Ssh,
                Exchange::tcp_sf(duration_s, sent_bytes, received_bytes),
                BENIGN,
            );
            ts += duration_s + log_normal(rng, 0.5, 0.5);
        }
    }
}

/// Internet visitors of the site's public web server.
fn inbound_web(site: &Site, rng: &mut DetRng, sink: &mut Sink<'_>) {
    let net = site.net;
    let peak_per_s = INBOUND_WEB_BASE_PER_S + INBOUND_WEB_PER_HOST_PER_S * net.host_count() as f64;
    let mut ts = site.start_ts;
    while let Some(next) = next_arrival(rng, ts, site.end_ts, peak_per_s, |t| {
        peak_per_s * day_activity(t)
    }) {
        ts = next;
        let client = net.pick_internet_client(rng);
        let rtt_s = wan_rtt_s(rng);
        let tls = rng.chance(0.85);
        let ok = web_exchange(rng, tls, rtt_s);
        let ex = benign_tcp_outcome(rng, ok, rtt_s);
        let (port, service) = if tls {
            (443, Service::Ssl)
        } else {
            (80, Service::Http)
        };
        sink.push(
            ts,
            tcp(client, ephemeral_port(rng), net.web, port),
            service,
            ex,
            BENIGN,
        );
    }
}

/// Other sites' mail servers delivering to ours.
fn inbound_mail(site: &Site, rng: &mut DetRng, sink: &mut Sink<'_>) {
    let net = site.net;
    let peak_per_s = INBOUND_MAIL_PER_HOST_PER_S * net.host_count() as f64;
    let mut ts = site.start_ts;
    while let Some(next) = next_arrival(rng, ts, site.end_ts, peak_per_s, |t| {
        peak_per_s * day_activity(t)
    }) {
        ts = next;
        let sender = net.pick_internet_client(rng);
        let rtt_s = wan_rtt_s(rng);
        let mut message_bytes = log_normal(rng, 20_000.0, 1.2);
        if rng.chance(0.05) {
            message_bytes += pareto(rng, 400_000.0, 1.3).min(ATTACHMENT_MAX_BYTES);
        }
        let duration_s = rtt_s * 8.0 + log_normal(rng, 0.5, 0.5) + message_bytes / WAN_BYTES_PER_S;
        let ok = Exchange::tcp_sf(
            duration_s,
            bytes(message_bytes),
            bytes(log_normal(rng, 1_000.0, 0.2)),
        );
        let ex = benign_tcp_outcome(rng, ok, rtt_s);
        sink.push(
            ts,
            tcp(sender, ephemeral_port(rng), net.mail, 25),
            Service::Smtp,
            ex,
            BENIGN,
        );
    }
}

/// Background scanning every public address receives: single probes to popular ports from
/// random sources, mostly dropped by the firewall. Ground truth calls it benign (it is not an
/// attack on this site), and it keeps "a failed probe" from meaning "attack" on its own.
fn internet_radiation(site: &Site, rng: &mut DetRng, sink: &mut Sink<'_>) {
    let net = site.net;
    let public = [net.web, net.mail];
    let mut ts = site.start_ts;
    loop {
        ts += exponential(rng, RADIATION_PER_S);
        if ts > site.end_ts {
            break;
        }
        let dst = public[rng.index(public.len())];
        let port = RADIATION_PORTS[rng.index(RADIATION_PORTS.len())];
        let rtt_s = wan_rtt_s(rng);
        let ex = if net.open_tcp_ports(dst).contains(&port) {
            Exchange::tcp_sf(rtt_s * 3.0, 0, 0)
        } else if rng.chance(0.8) {
            Exchange::unanswered(0.0, 1)
        } else {
            Exchange::rejected(rtt_s)
        };
        let ends = tcp(random_public_addr(rng), ephemeral_port(rng), dst, port);
        sink.push(ts, ends, Service::None, ex, BENIGN);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_shape_peaks_in_the_afternoon_and_its_mean_matches_sampling() {
        let midnight = 1_767_225_600.0; // 2026-01-01T00:00:00Z
        assert!((day_activity(midnight + 3.0 * 3_600.0) - 0.2).abs() < 1e-9);
        assert!((day_activity(midnight + 15.0 * 3_600.0) - 1.0).abs() < 1e-9);
        let (t0, t1) = (midnight + 10.0 * 3_600.0, midnight + 11.0 * 3_600.0);
        let sampled = (0..3_600)
            .map(|i| day_activity(t0 + f64::from(i) + 0.5))
            .sum::<f64>()
            / 3_600.0;
        assert!((mean_day_activity(t0, t1) - sampled).abs() < 1e-6);
    }

    use super::super::{generate, GeneratorConfig};
    use crate::traffic::flow::FlowRecord;
    use std::collections::{HashMap, HashSet};
    use std::net::IpAddr;

    const MIDNIGHT_THURSDAY: f64 = 1_767_225_600.0; // 2026-01-01T00:00:00Z

    fn benign_run(hosts: u32, start_ts: f64, duration_s: f64) -> (Network, Vec<FlowRecord>) {
        let config = GeneratorConfig {
            hosts,
            start_ts,
            duration_s,
            attacks: Vec::new(),
            ..GeneratorConfig::default()
        };
        let net = Network::build(config.seed, config.hosts);
        (net, generate(&config).unwrap().flows)
    }

    fn people(net: &Network) -> HashSet<IpAddr> {
        net.workstations
            .iter()
            .enumerate()
            .filter(|(i, _)| !Network::is_iot(*i))
            .map(|(_, &a)| super::super::network::to_ip(a))
            .collect()
    }

    /// Web connections opened by people's workstations.
    fn is_browsing(f: &FlowRecord, people: &HashSet<IpAddr>) -> bool {
        people.contains(&f.src_ip) && matches!(f.service, Service::Ssl | Service::Http)
    }

    #[test]
    fn browsing_follows_the_day_shape() {
        let (net, flows) = benign_run(40, MIDNIGHT_THURSDAY, 86_400.0);
        let people = people(&net);
        let mut per_hour = [0u32; 24];
        for f in flows.iter().filter(|f| is_browsing(f, &people)) {
            per_hour[((f.ts - MIDNIGHT_THURSDAY) / 3_600.0) as usize % 24] += 1;
        }
        // Configured: 1.0 at 15:00 and 0.2 at 03:00, so about 5x.
        let ratio = f64::from(per_hour[15]) / f64::from(per_hour[3]);
        assert!((3.5..7.0).contains(&ratio), "{per_hour:?}");
        let peak = per_hour
            .iter()
            .position(|&c| c == *per_hour.iter().max().unwrap());
        assert!(matches!(peak, Some(12..=18)), "{per_hour:?}");
    }

    #[test]
    fn weekends_are_quieter() {
        let saturday = MIDNIGHT_THURSDAY + 2.0 * DAY_S + 10.0 * 3_600.0;
        let wednesday = MIDNIGHT_THURSDAY - DAY_S + 10.0 * 3_600.0;
        assert!(is_weekend(saturday) && !is_weekend(wednesday));
        assert!(!is_weekend(MIDNIGHT_THURSDAY) && is_weekend(saturday + DAY_S));
        let count = |start| {
            let (net, flows) = benign_run(40, start, 3_600.0);
            let people = people(&net);
            flows.iter().filter(|f| is_browsing(f, &people)).count() as f64
        };
        let ratio = count(saturday) / count(wednesday);
        assert!((0.2..0.42).contains(&ratio), "{ratio}");
    }

    #[test]
    fn new_external_connections_follow_a_dns_lookup() {
        let (_, flows) = benign_run(40, MIDNIGHT_THURSDAY + 10.0 * 3_600.0, 1_800.0);
        let mut dns_by_src: HashMap<IpAddr, Vec<f64>> = HashMap::new();
        for f in flows.iter().filter(|f| f.service == Service::Dns) {
            dns_by_src.entry(f.src_ip).or_default().push(f.ts);
        }
        let mut seen = HashSet::new();
        let mut checked = 0;
        for f in &flows {
            let outbound = f.src_ip.to_string().starts_with("10.")
                && !f.dst_ip.to_string().starts_with("10.")
                && f.proto == Proto::Tcp
                && matches!(f.dst_port, 80 | 443 | 8_883);
            if !outbound || !seen.insert((f.src_ip, f.dst_ip)) {
                continue;
            }
            checked += 1;
            let lookups = dns_by_src.get(&f.src_ip).map_or(&[][..], |v| &v[..]);
            assert!(
                lookups.iter().any(|&t| t <= f.ts && f.ts - t < 5.0),
                "no lookup before {f:?}"
            );
        }
        assert!(checked > 100, "{checked}");
    }

    #[test]
    fn roles_have_their_own_traffic() {
        let (net, flows) = benign_run(40, MIDNIGHT_THURSDAY + 10.0 * 3_600.0, 3_600.0);
        let to_ip = super::super::network::to_ip;
        let iot: Vec<IpAddr> = net
            .workstations
            .iter()
            .enumerate()
            .filter(|(i, _)| Network::is_iot(*i))
            .map(|(_, &a)| to_ip(a))
            .collect();
        assert_eq!(iot.len(), 3);
        for device in &iot {
            let own: Vec<&FlowRecord> = flows.iter().filter(|f| f.src_ip == *device).collect();
            let tcp_peers: HashSet<IpAddr> = own
                .iter()
                .filter(|f| f.proto == Proto::Tcp)
                .map(|f| f.dst_ip)
                .collect();
            assert_eq!(tcp_peers.len(), 1, "an IoT device talks to its cloud only");
            assert!(own
                .iter()
                .all(|f| matches!(f.service, Service::Ssl | Service::Dns | Service::Ntp)));
        }
        let file = to_ip(net.file);
        let smb = flows
            .iter()
            .filter(|f| f.service == Service::Smb && f.dst_ip == file && f.dst_port == 445)
            .count();
        assert!(smb > 50, "{smb} SMB sessions");
        let admin_ssh = flows
            .iter()
            .filter(|f| f.service == Service::Ssh)
            .all(|f| f.src_ip == to_ip(net.admin));
        assert!(admin_ssh, "only the admin host uses SSH");
        // Heavy tails: the largest SMB read dwarfs the median one.
        let mut reads: Vec<u64> = flows
            .iter()
            .filter(|f| f.service == Service::Smb && f.conn_state == ConnState::SF)
            .map(|f| f.bytes_in)
            .collect();
        reads.sort_unstable();
        let median = reads[reads.len() / 2] as f64;
        assert!((75_000.0..300_000.0).contains(&median), "{median}");
        assert!(*reads.last().unwrap() as f64 > 30.0 * median);
    }

    #[test]
    fn dns_cache_hits_until_expiry() {
        let mut cache = DnsCache::new();
        assert!(!cache.hit_or_insert(7, 0.0, 300.0));
        assert!(cache.hit_or_insert(7, 100.0, 300.0));
        assert!(!cache.hit_or_insert(7, 301.0, 300.0));
    }
}
