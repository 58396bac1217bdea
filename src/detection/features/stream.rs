//! The streaming feature extractor: one flow in, its feature row out, with the trailing
//! window's state (host and pair multisets over the last `window_s`) and the per-pair gap
//! statistics kept between calls. Batch extraction (`extract`) is this same code over a
//! slice, so a stream and a batch give identical rows bit for bit.
//!
//! Memory is bounded by the traffic inside the window (each flow of the last `window_s`
//! holds one [`WindowEntry`]) plus one gap record per (source, destination) pair seen in the
//! last [`PAIR_IDLE_FORGET_S`], never by the number of flows or the stream's age. Flows must arrive in `ts` order for the window to be the
//! trailing one; ordering a stream is the caller's business (see `pipeline::stream_score`).
//! Its state can be taken out as plain serde data ([`FeatureStreamState`]) and put back, so a
//! stream stopped and resumed (`detect follow`'s checkpoint) gives the rows of one that never
//! stopped. Not here: column meanings (`columns`), port rarity (`ports`).

use super::columns::{FeatureConfig, FEATURES};
use super::ports::PortFrequency;
use crate::traffic::flow::{FlowRecord, Proto};
use crate::util::math;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::net::IpAddr;

/// Connections between one source and one destination before the gap regularity counts:
/// fewer gaps say nothing about a rhythm.
const REGULARITY_MIN_GAPS: u32 = 4;
/// Weight of the newest gap in the running mean and mean absolute deviation.
const REGULARITY_EWMA: f64 = 0.2;
/// A host pair silent for longer than this starts its rhythm over, as a new pair: the
/// beacons worth finding check in far more often, and it bounds the gap records of a stream
/// that runs for weeks (`detect follow`) by the pairs of one day.
pub const PAIR_IDLE_FORGET_S: f64 = 86_400.0;
/// How often (stream time) the gap records of pairs idle past [`PAIR_IDLE_FORGET_S`] are
/// dropped. Only memory depends on it: a record that old is started over when its pair
/// returns, whether or not it was dropped, so the rows never do.
const PAIR_SWEEP_EVERY_S: f64 = 3_600.0;

/// Running statistics of the gaps between consecutive connections of a host pair, over the
/// whole run so far (beacons repeat over minutes to hours, longer than the window).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct PairGaps {
    last_ts: f64,
    gaps: u32,
    mean_s: f64,
    mad_s: f64,
}

impl PairGaps {
    fn new(ts: f64) -> PairGaps {
        PairGaps {
            last_ts: ts,
            gaps: 0,
            mean_s: 0.0,
            mad_s: 0.0,
        }
    }

    fn add(&mut self, ts: f64) {
        let gap = (ts - self.last_ts).max(0.0);
        self.last_ts = ts;
        if self.gaps == 0 {
            self.mean_s = gap;
            self.mad_s = 0.0;
        } else {
            let dev = (gap - self.mean_s).abs();
            self.mean_s += REGULARITY_EWMA * (gap - self.mean_s);
            self.mad_s += REGULARITY_EWMA * (dev - self.mad_s);
        }
        self.gaps += 1;
    }

    /// 1 for clockwork gaps, falling to 0 as the deviation reaches the mean gap; 0 until
    /// enough gaps were seen, and for bursts (gaps under a second are parallel connections,
    /// not a rhythm).
    fn regularity(&self) -> f64 {
        if self.gaps < REGULARITY_MIN_GAPS || self.mean_s < 1.0 {
            return 0.0;
        }
        1.0 - (self.mad_s / self.mean_s).min(1.0)
    }
}

/// Counts of values seen for one key inside the window (a multiset), plus totals.
#[derive(Debug)]
struct Tally<V: Eq + Hash> {
    flows: u32,
    failed: u32,
    distinct: HashMap<V, u32>,
}

// Derived Default would demand `V: Default`, which IpAddr is not.
impl<V: Eq + Hash> Default for Tally<V> {
    fn default() -> Tally<V> {
        Tally {
            flows: 0,
            failed: 0,
            distinct: HashMap::new(),
        }
    }
}

impl<V: Eq + Hash> Tally<V> {
    fn add(&mut self, value: V, failed: bool) {
        self.flows += 1;
        self.failed += u32::from(failed);
        *self.distinct.entry(value).or_insert(0) += 1;
    }

    fn remove(&mut self, value: &V, failed: bool) {
        self.flows -= 1;
        self.failed -= u32::from(failed);
        if let Some(c) = self.distinct.get_mut(value) {
            *c -= 1;
            if *c == 0 {
                self.distinct.remove(value);
            }
        }
    }

    fn failed_share(&self) -> f64 {
        if self.flows == 0 {
            0.0
        } else {
            f64::from(self.failed) / f64::from(self.flows)
        }
    }
}

/// What the window keeps of a flow until it expires: the keys its counts were added under.
/// Copied out of the flow so the window never needs the flows themselves (a stream has
/// none to look back at).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct WindowEntry {
    ts: f64,
    src_ip: IpAddr,
    dst_ip: IpAddr,
    dst_port: u16,
    failed: bool,
    dns: bool,
}

impl WindowEntry {
    fn of(f: &FlowRecord) -> WindowEntry {
        WindowEntry {
            ts: f.ts,
            src_ip: f.src_ip,
            dst_ip: f.dst_ip,
            dst_port: f.dst_port,
            failed: f.conn_state.is_failed_attempt(),
            dns: is_dns(f),
        }
    }
}

/// Window state keyed by host: the multisets for the source- and destination-side features.
#[derive(Default)]
struct WindowState {
    src_ports: HashMap<IpAddr, Tally<u16>>,
    src_hosts: HashMap<IpAddr, Tally<IpAddr>>,
    dst_srcs: HashMap<IpAddr, Tally<IpAddr>>,
    pairs: HashMap<(IpAddr, IpAddr, u16), u32>,
    src_dns: HashMap<IpAddr, u32>,
}

fn is_dns(f: &FlowRecord) -> bool {
    f.service == crate::traffic::flow::Service::Dns || (f.proto == Proto::Udp && f.dst_port == 53)
}

impl WindowState {
    fn add(&mut self, e: &WindowEntry) {
        let failed = e.failed;
        self.src_ports
            .entry(e.src_ip)
            .or_default()
            .add(e.dst_port, failed);
        self.src_hosts
            .entry(e.src_ip)
            .or_default()
            .add(e.dst_ip, failed);
        self.dst_srcs
            .entry(e.dst_ip)
            .or_default()
            .add(e.src_ip, failed);
        *self
            .pairs
            .entry((e.src_ip, e.dst_ip, e.dst_port))
            .or_insert(0) += 1;
        if e.dns {
            *self.src_dns.entry(e.src_ip).or_insert(0) += 1;
        }
    }

    fn src_dns(&self, src: &IpAddr) -> u32 {
        self.src_dns.get(src).copied().unwrap_or(0)
    }

    fn remove(&mut self, e: &WindowEntry) {
        let failed = e.failed;
        remove_from(&mut self.src_ports, &e.src_ip, &e.dst_port, failed);
        remove_from(&mut self.src_hosts, &e.src_ip, &e.dst_ip, failed);
        remove_from(&mut self.dst_srcs, &e.dst_ip, &e.src_ip, failed);
        let key = (e.src_ip, e.dst_ip, e.dst_port);
        if let Some(c) = self.pairs.get_mut(&key) {
            *c -= 1;
            if *c == 0 {
                self.pairs.remove(&key);
            }
        }
        if e.dns {
            if let Some(c) = self.src_dns.get_mut(&e.src_ip) {
                *c -= 1;
                if *c == 0 {
                    self.src_dns.remove(&e.src_ip);
                }
            }
        }
    }

    /// Keys held, over all the maps.
    fn entries(&self) -> usize {
        self.src_ports
            .values()
            .map(|t| 1 + t.distinct.len())
            .sum::<usize>()
            + self
                .src_hosts
                .values()
                .map(|t| 1 + t.distinct.len())
                .sum::<usize>()
            + self
                .dst_srcs
                .values()
                .map(|t| 1 + t.distinct.len())
                .sum::<usize>()
            + self.pairs.len()
            + self.src_dns.len()
    }
}

fn remove_from<V: Eq + Hash>(
    map: &mut HashMap<IpAddr, Tally<V>>,
    key: &IpAddr,
    value: &V,
    failed: bool,
) {
    if let Some(t) = map.get_mut(key) {
        t.remove(value, failed);
        if t.flows == 0 {
            map.remove(key);
        }
    }
}

fn log1p(x: f64) -> f64 {
    math::ln(1.0 + x)
}

/// How much state a [`FeatureStream`] holds: what its memory is proportional to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamStateSize {
    /// Flows inside the trailing window.
    pub window_flows: usize,
    /// Keys in the window's per-host and per-pair multisets.
    pub window_keys: usize,
    /// (source, destination) pairs with gap statistics (kept for the whole stream: beacons
    /// repeat over longer than the window).
    pub pairs: usize,
}

/// What a [`FeatureStream`] carries from one flow to the next, as plain data: the window's
/// flows (oldest first; the host and pair multisets are rebuilt from them) and the per-pair
/// gap statistics (sorted by pair, so equal states serialize to equal bytes).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureStreamState {
    /// The window length the state was built with (a stream resumes only with the same).
    pub window_s: f64,
    window: Vec<WindowEntry>,
    gaps: Vec<(IpAddr, IpAddr, PairGaps)>,
}

/// A saved state that does not fit the stream it is put back into.
#[derive(Debug, Clone, PartialEq)]
pub enum FeatureStateError {
    /// Saved with another window length (another model).
    WindowLength { saved: f64, expected: f64 },
    /// The window's flows are not in time order, or a time is not a number.
    WindowOrder { index: usize },
}

impl std::fmt::Display for FeatureStateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FeatureStateError::WindowLength { saved, expected } => write!(
                f,
                "feature window of {saved} s saved, the model's is {expected} s"
            ),
            FeatureStateError::WindowOrder { index } => {
                write!(f, "feature window flow {index} is out of time order")
            }
        }
    }
}

impl std::error::Error for FeatureStateError {}

/// Feature rows computed one flow at a time, in arrival order (which must be `ts` order:
/// see the module doc).
pub struct FeatureStream<'a> {
    ports: &'a PortFrequency,
    window_s: f64,
    state: WindowState,
    gaps: HashMap<(IpAddr, IpAddr), PairGaps>,
    /// Stream time of the next sweep of idle gap records.
    next_sweep_ts: f64,
    /// The window's flows, oldest first.
    window: VecDeque<WindowEntry>,
}

impl<'a> FeatureStream<'a> {
    pub fn new(ports: &'a PortFrequency, config: &FeatureConfig) -> FeatureStream<'a> {
        FeatureStream {
            ports,
            window_s: config.window_s,
            state: WindowState::default(),
            gaps: HashMap::new(),
            next_sweep_ts: f64::NEG_INFINITY,
            window: VecDeque::new(),
        }
    }

    /// The state to carry over to [`FeatureStream::resume`].
    pub fn state(&self) -> FeatureStreamState {
        let mut gaps: Vec<(IpAddr, IpAddr, PairGaps)> =
            self.gaps.iter().map(|(&(s, d), &g)| (s, d, g)).collect();
        gaps.sort_by_key(|g| (g.0, g.1));
        FeatureStreamState {
            window_s: self.window_s,
            window: self.window.iter().copied().collect(),
            gaps,
        }
    }

    /// A stream that continues where the one `state` was taken from left off: the same rows
    /// for the same following flows, bit for bit.
    pub fn resume(
        ports: &'a PortFrequency,
        config: &FeatureConfig,
        state: FeatureStreamState,
    ) -> Result<FeatureStream<'a>, FeatureStateError> {
        if state.window_s.to_bits() != config.window_s.to_bits() {
            return Err(FeatureStateError::WindowLength {
                saved: state.window_s,
                expected: config.window_s,
            });
        }
        let mut stream = FeatureStream::new(ports, config);
        let mut last = f64::NEG_INFINITY;
        for (index, e) in state.window.into_iter().enumerate() {
            if e.ts.is_nan() || e.ts < last {
                return Err(FeatureStateError::WindowOrder { index });
            }
            last = e.ts;
            stream.state.add(&e);
            stream.window.push_back(e);
        }
        stream.gaps = state
            .gaps
            .into_iter()
            .map(|(s, d, g)| ((s, d), g))
            .collect();
        Ok(stream)
    }

    /// Columns of a row ([`FEATURES`]).
    pub fn width(&self) -> usize {
        FEATURES.len()
    }

    pub fn state_size(&self) -> StreamStateSize {
        StreamStateSize {
            window_flows: self.window.len(),
            window_keys: self.state.entries(),
            pairs: self.gaps.len(),
        }
    }

    /// `f`'s feature row (`row.len()` = [`FEATURES`]`.len()`); slides the window past flows
    /// older than `window_s` first. Out of line on purpose: V8 runs a wasm function that is
    /// entered once (the whole extraction) in its baseline tier until it returns, while a
    /// function entered per flow is optimised after a few hundred calls.
    #[inline(never)]
    pub fn push(&mut self, f: &FlowRecord, row: &mut [f64]) {
        let state = &mut self.state;
        let expired = f.ts - self.window_s;
        while self.window.front().is_some_and(|old| old.ts <= expired) {
            if let Some(old) = self.window.pop_front() {
                state.remove(&old);
            }
        }
        let entry = WindowEntry::of(f);
        state.add(&entry);
        self.window.push_back(entry);
        let src_ports = &state.src_ports[&f.src_ip];
        let src_hosts = &state.src_hosts[&f.src_ip];
        let dst_srcs = &state.dst_srcs[&f.dst_ip];
        let pair = state.pairs[&(f.src_ip, f.dst_ip, f.dst_port)];
        row[0] = log1p(f.duration_s.max(0.0));
        row[1] = log1p(f.bytes_out as f64);
        row[2] = log1p(f.bytes_in as f64);
        row[3] = log1p(f.pkts_out as f64);
        row[4] = log1p(f.pkts_in as f64);
        row[5] = f64::from(u8::from(entry.failed));
        row[6] = f64::from(u8::from(matches!(
            f.conn_state,
            crate::traffic::flow::ConnState::RSTO | crate::traffic::flow::ConnState::RSTR
        )));
        row[7] = f64::from(u8::from(f.proto == Proto::Udp));
        row[8] = self.ports.rarity(f.proto, f.dst_port);
        row[9] = log1p(f64::from(src_ports.flows));
        row[10] = log1p(src_ports.distinct.len() as f64);
        row[11] = log1p(src_hosts.distinct.len() as f64);
        row[12] = src_ports.failed_share();
        row[13] = log1p(f64::from(dst_srcs.flows));
        row[14] = log1p(dst_srcs.distinct.len() as f64);
        row[15] = dst_srcs.failed_share();
        row[16] = log1p(f64::from(pair));
        let total_bytes = f.bytes_out.saturating_add(f.bytes_in);
        row[17] = if total_bytes == 0 {
            0.0
        } else {
            f.bytes_out as f64 / total_bytes as f64
        };
        row[18] = log1p(f64::from(state.src_dns(&f.src_ip)));
        if f.ts >= self.next_sweep_ts {
            self.gaps
                .retain(|_, g| f.ts - g.last_ts <= PAIR_IDLE_FORGET_S);
            self.next_sweep_ts = f.ts + PAIR_SWEEP_EVERY_S;
        }
        let pair_gaps = self
            .gaps
            .entry((f.src_ip, f.dst_ip))
            .and_modify(|g| {
                if f.ts - g.last_ts > PAIR_IDLE_FORGET_S {
                    *g = PairGaps::new(f.ts);
                } else {
                    g.add(f.ts);
                }
            })
            .or_insert_with(|| PairGaps::new(f.ts));
        row[19] = pair_gaps.regularity();
    }
}
