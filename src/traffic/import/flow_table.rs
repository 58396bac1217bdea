//! Assembles decoded packets into bidirectional connections with Zeek's semantics, as far as
//! a reimplementation without Zeek's analyzers can: the originator is the first packet's
//! sender (a SYN without ACK wins; a midstream first packet from a likely server port flips
//! the roles, marked `^` in the history); TCP endpoint states follow Zeek's TCP analyzer and
//! map to `conn_state` as base/protocols/conn does; history letters follow Zeek's rules (S, H,
//! F, R repeat when their sequence number changes; A, D once per direction; T and W at 1, 10,
//! 100, ...); TCP byte counts are sequence-space sizes like Zeek's (so gaps count as bytes,
//! and are totalled as Zeek's `missed_bytes`), UDP/ICMP counts are payload lengths; inactivity timeouts are Zeek's defaults (TCP 5 min,
//! UDP and ICMP 1 min), a closed or reset connection is forgotten 5 s after it ended, and a
//! SYN with a new sequence number starts a new connection.
//!
//! Implausible sequence numbers. A sequence or acknowledgement number is compared with the
//! endpoint's sequence space as a signed 32-bit distance from the highest position seen (so
//! wrap-around at 2^32 is just another step forward, and transfers past 4 GiB keep counting).
//! A step forward of more than `MAX_SEQ_JUMP` (1 MiB, Zeek's `TOO_LARGE_SEQ_DELTA`) is not
//! believed on one packet's word: Zeek ignores SYNs and RSTs that far off (`update_last_seq`
//! in its TCP analyzer) and an ACK of 0 that far off (`update_ack_seq`), and only notes
//! "### check for large jumps here" for everything else, so one corrupt or injected ACK makes
//! it log gigabyte connections. Here SYN/RST jumps are ignored as Zeek does, and any other
//! far jump is held back until a second packet lands within `MAX_SEQ_JUMP` of it (the peer
//! acknowledging it, or the next segment): a capture that really missed a stretch (Zeek's
//! `ftp/bigtransfer.pcap`: 5.4 GB sent, 24 kB captured) always shows both, a stray packet
//! almost never (a random 32-bit number lands within 1 MiB of another with p = 1/2048).
//! So a connection's byte count is at most the payload its packets carried, plus gaps of
//! at most 1 MiB per packet, plus far jumps that two packets agree on.
//!
//! Gaps: sequence space below the highest trusted position that no captured segment covered
//! (skipped by a later segment, or acknowledged by the peer but never seen) is counted as
//! missed, and stops counting when a late or retransmitted segment fills it. The byte counts
//! include the missed bytes, as Zeek's do; the import's warnings give their total.
//!
//! Fragments. IP fragments are not reassembled: only sizes matter here, and the first
//! fragment carries the transport header (ports, flags, sequence number, UDP length). A later
//! fragment of a datagram whose first fragment was seen is attributed to that flow (not
//! counted as a packet: Zeek counts a reassembled datagram once) and extends its duration; its
//! bytes are added only where the first fragment's header does not already account for them:
//! ICMP (payload counted from IP lengths). A UDP first fragment's length field covers the
//! whole datagram, and TCP counts sequence space, where the next segment's sequence number
//! covers the fragmented segment's bytes (as a gap until it does: `missed_bytes` can read
//! higher than Zeek's for fragmented TCP). Reassembling payloads would cost buffering every
//! fragment for its datagram's lifetime to learn nothing the flows use, except for tunnels
//! whose outer packets are fragmented (their inner packets are lost here; Zeek reassembles
//! them). The remembered datagrams are bounded (`MAX_FRAGMENTED_DATAGRAMS`, evictions counted).
//!
//! Not modelled: checksum validation (Zeek drops bad-checksum packets), content gaps (`G`),
//! protocol detection (service comes from well-known ports), UDP-based tunnels.

use super::generic_csv::service_from_port;
use super::packet::{Fragment, IpPacket, Transport, ACK, FIN, RST, SYN};
use crate::traffic::flow::{ConnHistory, ConnState, FlowRecord, Label, OrigRole, Proto};
use std::collections::HashMap;
use std::net::IpAddr;

pub const TCP_TIMEOUT_S: f64 = 300.0;
pub const UDP_TIMEOUT_S: f64 = 60.0;
pub const ICMP_TIMEOUT_S: f64 = 60.0;
/// Zeek's tcp_close_delay / tcp_reset_delay.
pub const CLOSE_DELAY_S: f64 = 5.0;
/// The largest step forward in sequence space believed on one packet's word: Zeek's
/// `TOO_LARGE_SEQ_DELTA` (see the module doc).
pub const MAX_SEQ_JUMP: u64 = 1 << 20;
/// Holes tracked per endpoint; beyond this the oldest counts as missed for good (a late
/// segment can no longer fill it), which keeps memory bounded on hostile captures.
const MAX_HOLES: usize = 64;
/// Fragmented datagrams remembered (first fragment's flow, by source, destination and IP
/// ID); past this, at the next sweep, all are forgotten and counted as evicted, so a flood of
/// first fragments cannot grow memory without bound. Their later fragments then count as
/// fragments without a first one.
const MAX_FRAGMENTED_DATAGRAMS: usize = 100_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EpState {
    Inactive,
    SynSent,
    SynAckSent,
    Partial,
    Established,
    Closed,
    Reset,
}

#[derive(Debug, Clone)]
struct Endpoint {
    state: EpState,
    prev_state: EpState,
    /// Start of the sequence space (the SYN's number; one below the first seen otherwise).
    start_seq: Option<u32>,
    /// Highest end of sequence space sent, relative to `start_seq`.
    last_rel: u64,
    /// Highest acknowledgement the peer sent for this endpoint's data, relative.
    ack_rel: u64,
    fin_seen: bool,
    last_syn: Option<u32>,
    last_fin: Option<u32>,
    last_rst: Option<u32>,
    retransmits: u64,
    zero_windows: u64,
    gaps: u64,
    hist_once: u8,
    /// Relative ranges below the highest position that no captured segment covered.
    holes: Vec<(u64, u64)>,
    /// Missed bytes of holes dropped from `holes` when it was full.
    missed_dropped: u64,
    /// A far jump waiting for a second packet to confirm it: (start, end, was data).
    pending: Option<(u64, u64, bool)>,
    /// Far jumps ignored (unconfirmed when the connection ended, or SYN/RST).
    implausible: u64,
}

impl Endpoint {
    const NEW: Endpoint = Endpoint {
        state: EpState::Inactive,
        prev_state: EpState::Inactive,
        start_seq: None,
        last_rel: 0,
        ack_rel: 0,
        fin_seen: false,
        last_syn: None,
        last_fin: None,
        last_rst: None,
        retransmits: 0,
        zero_windows: 0,
        gaps: 0,
        hist_once: 0,
        holes: Vec::new(),
        missed_dropped: 0,
        pending: None,
        implausible: 0,
    };

    /// The highest position the capture showed was sent: data seen or acknowledged.
    fn top(&self) -> u64 {
        self.last_rel.max(self.ack_rel)
    }

    /// Whether the range [start, end) may move this endpoint's sequence space: yes when it
    /// is within `MAX_SEQ_JUMP` of the highest position, or confirms the far jump held back
    /// before (which is then applied first); otherwise it is held back (SYN/RST ignored).
    fn admit(&mut self, start: u64, end: u64, data: bool, may_hold: bool) -> bool {
        if end <= self.top() + MAX_SEQ_JUMP {
            return true;
        }
        if let Some((ps, pe, pdata)) = self.pending {
            if start <= pe + MAX_SEQ_JUMP && end + MAX_SEQ_JUMP >= ps {
                self.pending = None;
                self.cover(ps, pe, pdata);
                if pdata {
                    self.last_rel = self.last_rel.max(pe);
                } else {
                    self.ack_rel = self.ack_rel.max(pe);
                }
                return true;
            }
        }
        if may_hold {
            if self.pending.is_some() {
                self.implausible += 1;
            }
            self.pending = Some((start, end, data));
        } else {
            self.implausible += 1;
        }
        false
    }

    /// Records that [start, end) was seen (`data`) or acknowledged: a start beyond the
    /// highest position leaves a hole, data fills holes it overlaps. Call before moving
    /// `last_rel`/`ack_rel`.
    fn cover(&mut self, start: u64, end: u64, data: bool) {
        let top = self.top();
        let hole = if data { (top, start) } else { (top, end) };
        if data && start < top {
            let mut kept = Vec::with_capacity(self.holes.len() + 1);
            for &(a, b) in &self.holes {
                if end <= a || start >= b {
                    kept.push((a, b));
                    continue;
                }
                if a < start {
                    kept.push((a, start));
                }
                if end < b {
                    kept.push((end, b));
                }
            }
            self.holes = kept;
        }
        if hole.1 > hole.0 {
            if self.holes.len() >= MAX_HOLES {
                let (a, b) = self.holes.remove(0);
                self.missed_dropped += b - a;
            }
            self.holes.push(hole);
        }
    }

    /// Bytes the capture missed: sequence space known to be sent but never seen.
    fn missed(&self) -> u64 {
        self.missed_dropped + self.holes.iter().map(|(a, b)| b - a).sum::<u64>()
    }

    /// `seq` relative to the start, in 64 bits: measured from the highest position seen so
    /// far, so transfers beyond 4 GiB (sequence wrap-around) keep counting.
    fn rel(&self, seq: u32) -> Option<u64> {
        let start = self.start_seq?;
        let reference = self.last_rel.max(self.ack_rel);
        let reference_seq = start.wrapping_add(reference as u32);
        let delta = i64::from(seq.wrapping_sub(reference_seq) as i32);
        u64::try_from(reference as i64 + delta).ok()
    }

    fn set_state(&mut self, state: EpState) {
        if state != self.state {
            self.prev_state = self.state;
            self.state = state;
        }
    }

    fn inactive(&self) -> bool {
        matches!(self.state, EpState::Inactive | EpState::Partial)
    }
}

const ONCE_A: u8 = 1;
const ONCE_D: u8 = 2;
const ONCE_Q: u8 = 4;
const ONCE_I: u8 = 8;

#[derive(Debug, Clone)]
struct Conn {
    ts: f64,
    last_ts: f64,
    orig: (IpAddr, u16),
    resp: (IpAddr, u16),
    proto: Proto,
    pkts: [u64; 2],
    /// UDP/ICMP payload bytes (TCP uses sequence space).
    bytes: [u64; 2],
    ep: [Endpoint; 2],
    history: ConnHistory,
    /// When the connection was closed or reset (for the close delay).
    ended_at: Option<f64>,
}

type Key = (u8, IpAddr, u16, IpAddr, u16);

/// Ports on which Zeek would expect a server (its `likely_server_ports`, roughly).
pub fn likely_server_port(proto: Proto, port: u16) -> bool {
    match proto {
        Proto::Tcp => matches!(
            port,
            21 | 22
                | 23
                | 25
                | 53
                | 80
                | 88
                | 102
                | 110
                | 111
                | 135
                | 139
                | 143
                | 179
                | 389
                | 443
                | 445
                | 464
                | 502
                | 563
                | 585
                | 587
                | 614
                | 636
                | 989
                | 990
                | 992
                | 993
                | 994
                | 995
                | 1080
                | 1433
                | 1883
                | 2049
                | 3128
                | 3306
                | 3389
                | 5060
                | 5061
                | 5222
                | 5269
                | 5432
                | 5900
                | 6379
                | 6666..=6669 | 8000 | 8080 | 8443 | 8888 | 20000 | 27017
        ),
        Proto::Udp => matches!(
            port,
            53 | 67
                | 69
                | 88
                | 111
                | 123
                | 137
                | 138
                | 161
                | 162
                | 389
                | 443
                | 464
                | 500
                | 514
                | 1812
                | 1813
                | 2152
                | 2123
                | 3544
                | 4500
                | 4789
                | 5060
                | 5072
                | 5353
                | 5355
                | 6081
                | 47808
        ),
        _ => false,
    }
}

/// ICMP's "ports": the type, and the counterpart type for request/reply pairs (the code for
/// one-way messages), as Zeek keys ICMP connections.
fn icmp_ports(icmp_type: u8, code: u8, v6: bool) -> (u16, u16) {
    let counterpart = if v6 {
        match icmp_type {
            128 => Some(129),
            129 => Some(128),
            133 => Some(134),
            134 => Some(133),
            135 => Some(136),
            136 => Some(135),
            130 => Some(131),
            131 => Some(130),
            139 => Some(140),
            140 => Some(139),
            _ => None,
        }
    } else {
        match icmp_type {
            8 => Some(0),
            0 => Some(8),
            13 => Some(14),
            14 => Some(13),
            15 => Some(16),
            16 => Some(15),
            10 => Some(9),
            9 => Some(10),
            17 => Some(18),
            18 => Some(17),
            _ => None,
        }
    };
    (u16::from(icmp_type), u16::from(counterpart.unwrap_or(code)))
}

/// The flow table: feed packets in capture order, then `finish`.
#[derive(Default)]
pub struct FlowTable {
    active: HashMap<Key, usize>,
    conns: Vec<Option<Conn>>,
    done: Vec<FlowRecord>,
    /// IP fragment id -> the key of the flow its first fragment went to.
    fragments: HashMap<(IpAddr, IpAddr, u32), Key>,
    last_sweep_ts: f64,
    pub later_fragments: u64,
    /// Fragmented datagrams forgotten to bound memory (see `MAX_FRAGMENTED_DATAGRAMS`).
    pub fragments_evicted: u64,
    pub other_proto: u64,
    seq: SeqStats,
}

/// What the table noticed in TCP sequence numbers over all connections, for the warnings.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SeqStats {
    /// Connections with sequence space the capture missed, and its total (Zeek's
    /// `missed_bytes`, summed).
    pub gap_connections: u64,
    pub missed_bytes: u64,
    /// Connections where a number too far ahead of the rest was ignored, and how many.
    pub implausible_connections: u64,
    pub implausible_numbers: u64,
}

fn proto_code(p: Proto) -> u8 {
    match p {
        Proto::Tcp => 6,
        Proto::Udp => 17,
        Proto::Icmp => 1,
        Proto::Unknown => 0,
    }
}

fn make_key(proto: Proto, a: (IpAddr, u16), b: (IpAddr, u16)) -> Key {
    if a <= b {
        (proto_code(proto), a.0, a.1, b.0, b.1)
    } else {
        (proto_code(proto), b.0, b.1, a.0, a.1)
    }
}

impl FlowTable {
    pub fn new() -> FlowTable {
        FlowTable::default()
    }

    /// Flows finished so far plus those still open.
    pub fn flow_count(&self) -> usize {
        self.done.len() + self.active.len()
    }

    pub fn add(&mut self, ts: f64, p: &IpPacket) {
        let t = match (p.fragment, p.transport) {
            (
                Fragment::Later {
                    id, payload_len, ..
                },
                _,
            ) => {
                self.later_fragments += 1;
                if let Some(key) = self.fragments.get(&(p.src, p.dst, id)) {
                    if let Some(&i) = self.active.get(key) {
                        if let Some(c) = self.conns[i].as_mut() {
                            c.last_ts = c.last_ts.max(ts);
                            // See the module doc, "Fragments": only ICMP's count needs them.
                            if c.proto == Proto::Icmp {
                                let dir = usize::from(c.orig.0 != p.src);
                                c.bytes[dir] += u64::from(payload_len);
                            }
                        }
                    }
                }
                return;
            }
            (_, Some(t)) => t,
            (_, None) => return,
        };
        let (proto, sport, dport) = match t {
            Transport::Tcp {
                src_port, dst_port, ..
            }
            | Transport::Udp {
                src_port, dst_port, ..
            } => (
                if matches!(t, Transport::Tcp { .. }) {
                    Proto::Tcp
                } else {
                    Proto::Udp
                },
                src_port,
                dst_port,
            ),
            Transport::Icmp {
                icmp_type,
                code,
                v6,
                ..
            } => {
                let (s, d) = icmp_ports(icmp_type, code, v6);
                (Proto::Icmp, s, d)
            }
            Transport::Other { .. } => {
                self.other_proto += 1;
                (Proto::Unknown, 0, 0)
            }
        };
        let a = (p.src, sport);
        let b = (p.dst, dport);
        let key = make_key(proto, a, b);
        if let Fragment::First { id } = p.fragment {
            self.fragments.insert((p.src, p.dst, id), key);
        }
        if ts - self.last_sweep_ts > 10.0 {
            self.sweep(ts);
        }
        let timeout = match proto {
            Proto::Tcp => TCP_TIMEOUT_S,
            Proto::Udp => UDP_TIMEOUT_S,
            _ => ICMP_TIMEOUT_S,
        };
        let mut idx = self.active.get(&key).copied();
        if let Some(i) = idx {
            let expired = match self.conns[i].as_ref() {
                Some(c) => {
                    ts - c.last_ts > timeout
                        || c.ended_at.is_some_and(|e| ts - e > CLOSE_DELAY_S)
                        || is_reuse(c, a, &t)
                }
                None => true,
            };
            if expired {
                self.close(i);
                idx = None;
            }
        }
        let i = match idx {
            Some(i) => i,
            None => {
                let conn = new_conn(ts, proto, a, b, &t);
                self.conns.push(Some(conn));
                let i = self.conns.len() - 1;
                self.active.insert(key, i);
                i
            }
        };
        if let Some(c) = self.conns[i].as_mut() {
            c.last_ts = c.last_ts.max(ts);
            let dir = usize::from(c.orig != a);
            c.pkts[dir] += 1;
            update(c, dir, &t, ts);
        }
    }

    fn close(&mut self, i: usize) {
        if let Some(c) = self.conns[i].take() {
            let key = make_key(c.proto, c.orig, c.resp);
            if self.active.get(&key) == Some(&i) {
                self.active.remove(&key);
            }
            if c.proto == Proto::Tcp {
                let missed = c.ep[0].missed() + c.ep[1].missed();
                if missed > 0 {
                    self.seq.gap_connections += 1;
                    self.seq.missed_bytes += missed;
                }
                let implausible: u64 =
                    c.ep.iter()
                        .map(|e| e.implausible + u64::from(e.pending.is_some()))
                        .sum();
                if implausible > 0 {
                    self.seq.implausible_connections += 1;
                    self.seq.implausible_numbers += implausible;
                }
            }
            self.done.push(to_record(&c));
        }
    }

    /// Closes connections idle past their timeout, so the table stays small on long captures.
    fn sweep(&mut self, now: f64) {
        self.last_sweep_ts = now;
        let stale: Vec<usize> = self
            .active
            .values()
            .copied()
            .filter(|&i| {
                self.conns[i].as_ref().is_none_or(|c| {
                    let timeout = match c.proto {
                        Proto::Tcp => TCP_TIMEOUT_S,
                        Proto::Udp => UDP_TIMEOUT_S,
                        _ => ICMP_TIMEOUT_S,
                    };
                    now - c.last_ts > timeout
                })
            })
            .collect();
        // Close in slot order (first-packet order), not the hash map's, whose order changes
        // from one map to the next: flows closed here and starting at the same time must come
        // out in the same order on every import of the same capture.
        let mut stale = stale;
        stale.sort_unstable();
        for i in stale {
            self.close(i);
        }
        if self.fragments.len() > MAX_FRAGMENTED_DATAGRAMS {
            self.fragments_evicted += self.fragments.len() as u64;
            self.fragments.clear();
        }
        // Reclaim the slots of closed connections once most of them are empty.
        if self.conns.len() > 4096 && self.active.len() * 4 < self.conns.len() {
            let mut remap = HashMap::new();
            let mut kept = Vec::with_capacity(self.active.len());
            let mut entries: Vec<(Key, usize)> =
                self.active.iter().map(|(k, v)| (*k, *v)).collect();
            entries.sort_by_key(|(_, v)| *v);
            for (k, i) in entries {
                remap.insert(k, kept.len());
                kept.push(self.conns[i].take());
            }
            self.conns = kept;
            self.active = remap;
        }
    }

    /// All flows, in start-time order (ties in first-packet order), and what their TCP
    /// sequence numbers showed.
    pub fn finish(mut self) -> (Vec<FlowRecord>, SeqStats) {
        let open: Vec<usize> = (0..self.conns.len()).collect();
        for i in open {
            self.close(i);
        }
        let mut flows = self.done;
        flows.sort_by(|x, y| x.ts.total_cmp(&y.ts));
        (flows, self.seq)
    }
}

fn is_reuse(c: &Conn, sender: (IpAddr, u16), t: &Transport) -> bool {
    let Transport::Tcp { seq, flags, .. } = *t else {
        return false;
    };
    if flags & SYN == 0 || flags & ACK != 0 {
        return false;
    }
    // A SYN on a connection that already ended always starts a new one (Zeek's IsReuse).
    if c.ended_at.is_some() {
        return true;
    }
    let dir = usize::from(c.orig != sender);
    match c.ep[dir].last_syn.or(c.ep[dir].start_seq) {
        Some(s) => s != seq,
        None => c.ep[dir].state != EpState::Inactive,
    }
}

fn new_conn(ts: f64, proto: Proto, a: (IpAddr, u16), b: (IpAddr, u16), t: &Transport) -> Conn {
    // Zeek guesses the true responder from the ports when the first packet is not a SYN:
    // the sender is the server if its port is a likely server port and the other is not, or
    // both are and the sender's is the lower one.
    let guess = || likely_server_port(proto, a.1) && (!likely_server_port(proto, b.1) || a.1 < b.1);
    let flip = match *t {
        Transport::Tcp { flags, .. } => {
            let pure_syn = flags & SYN != 0 && flags & ACK == 0;
            !pure_syn && guess()
        }
        Transport::Udp { .. } => guess(),
        _ => false,
    };
    let (orig, resp) = if flip { (b, a) } else { (a, b) };
    let mut history = ConnHistory::EMPTY;
    if flip {
        history.push(b'^');
    }
    Conn {
        ts,
        last_ts: ts,
        orig,
        resp,
        proto,
        pkts: [0; 2],
        bytes: [0; 2],
        ep: [Endpoint::NEW, Endpoint::NEW],
        history,
        ended_at: None,
    }
}

fn letter(dir: usize, upper: u8) -> u8 {
    if dir == 0 {
        upper
    } else {
        upper.to_ascii_lowercase()
    }
}

fn scaled(count: u64) -> bool {
    let mut n = count;
    while n >= 10 && n.is_multiple_of(10) {
        n /= 10;
    }
    n == 1
}

fn update(c: &mut Conn, dir: usize, t: &Transport, ts: f64) {
    match *t {
        Transport::Udp { payload_len, .. } => {
            c.bytes[dir] += u64::from(payload_len);
            let once = if dir == 0 { ONCE_D } else { ONCE_D << 4 };
            if c.ep[0].hist_once & once == 0 {
                c.ep[0].hist_once |= once;
                c.history.push(letter(dir, b'D'));
            }
            c.ep[dir].state = EpState::Established;
        }
        Transport::Icmp { payload_len, .. } => {
            c.bytes[dir] += u64::from(payload_len);
            c.ep[dir].state = EpState::Established;
        }
        Transport::Other { .. } => {
            c.ep[dir].state = EpState::Established;
        }
        Transport::Tcp {
            seq,
            ack,
            flags,
            window,
            payload_len,
            ..
        } => tcp_update(c, dir, seq, ack, flags, window, payload_len, ts),
    }
}

#[allow(clippy::too_many_arguments)]
fn tcp_update(
    c: &mut Conn,
    dir: usize,
    seq: u32,
    ack: u32,
    flags: u8,
    window: u16,
    len: u32,
    ts: f64,
) {
    let (syn, fin, rst, is_ack) = (
        flags & SYN != 0,
        flags & FIN != 0,
        flags & RST != 0,
        flags & ACK != 0,
    );
    let peer_dir = 1 - dir;

    // History letters, before the state changes (Zeek's update_history).
    {
        let ep = &mut c.ep[dir];
        let bits = u8::from(syn) + u8::from(fin) + u8::from(rst);
        if bits > 1 {
            let (bit, code) = if fin && rst {
                (ONCE_I, b'I')
            } else {
                (ONCE_Q, b'Q')
            };
            if ep.hist_once & bit == 0 {
                ep.hist_once |= bit;
                c.history.push(letter(dir, code));
            }
        } else if bits == 1 {
            if syn {
                let code = if is_ack { b'H' } else { b'S' };
                if ep.last_syn != Some(seq) {
                    c.history.push(letter(dir, code));
                }
                ep.last_syn = Some(seq);
            }
            if fin {
                let fin_seq = seq.wrapping_add(len);
                if ep.last_fin != Some(fin_seq) {
                    c.history.push(letter(dir, b'F'));
                }
                ep.last_fin = Some(fin_seq);
            }
            if rst {
                if ep.last_rst != Some(seq) {
                    c.history.push(letter(dir, b'R'));
                }
                ep.last_rst = Some(seq);
            }
        } else if is_ack && len == 0 && ep.hist_once & ONCE_A == 0 {
            ep.hist_once |= ONCE_A;
            c.history.push(letter(dir, b'A'));
        }
        if len > 0 && ep.hist_once & ONCE_D == 0 {
            ep.hist_once |= ONCE_D;
            c.history.push(letter(dir, b'D'));
        }
    }

    // Sequence space.
    {
        let ep = &mut c.ep[dir];
        // A SYN on an endpoint not yet synchronised restarts its numbering, as does one
        // after a RST that itself started the numbering (Zeek's init_endpoint: the RST may
        // have been injected).
        let restart = syn
            && (ep.state == EpState::Inactive
                || (ep.state == EpState::Reset && ep.prev_state == EpState::Inactive));
        if ep.start_seq.is_none() || restart {
            let partial = !syn;
            ep.start_seq = Some(if syn { seq } else { seq.wrapping_sub(1) });
            // A partial connection numbers as though a SYN had taken position 0.
            ep.last_rel = u64::from(partial);
            ep.ack_rel = 0;
            ep.holes.clear();
            ep.pending = None;
        }
        // Zeek: a RST's payload is not part of the stream.
        let data_len = if rst { 0 } else { u64::from(len) };
        let seg_len = data_len + u64::from(syn) + u64::from(fin);
        if let Some(rel) = ep.rel(seq) {
            let end = rel + seg_len;
            if ep.admit(rel, end, true, !syn && !rst) {
                // Data or FIN beyond everything seen so far: the capture missed bytes (Zeek's
                // `G`/`g` content gap), logged at 1, 10, 100, ... gaps.
                if !syn && !rst && rel > ep.last_rel && ep.last_rel > 0 && (len > 0 || fin) {
                    ep.gaps += 1;
                    if scaled(ep.gaps) {
                        c.history.push(letter(dir, b'G'));
                    }
                }
                // A RST's payload takes no sequence space, so it is no retransmission.
                if len > 0 && !syn && !rst && end <= ep.last_rel {
                    ep.retransmits += 1;
                    if scaled(ep.retransmits) {
                        c.history.push(letter(dir, b'T'));
                    }
                }
                if seg_len > 0 {
                    ep.cover(rel, end, true);
                }
                if end > ep.last_rel {
                    ep.last_rel = end;
                }
            }
        }
        if fin {
            ep.fin_seen = true;
        }
        if window == 0 && !syn && !rst && !fin {
            ep.zero_windows += 1;
            if scaled(ep.zero_windows) {
                c.history.push(letter(dir, b'W'));
            }
        }
    }
    // Zeek does not trust the acknowledgement in a RST.
    if is_ack && !rst {
        let peer = &mut c.ep[peer_dir];
        if let Some(rel) = peer.rel(ack) {
            if rel > peer.ack_rel && peer.admit(rel, rel, false, true) {
                peer.cover(rel, rel, false);
                peer.ack_rel = peer.ack_rel.max(rel);
            }
        }
    }

    // Endpoint state machine (Zeek's TCPSessionAdapter::UpdateStateMachine, simplified).
    let is_orig = dir == 0;
    let state = c.ep[dir].state;
    match state {
        EpState::Inactive => {
            if syn {
                if is_orig {
                    c.ep[dir].set_state(if is_ack {
                        EpState::SynAckSent
                    } else {
                        EpState::SynSent
                    });
                } else {
                    if c.ep[peer_dir].state == EpState::SynSent {
                        c.ep[peer_dir].set_state(EpState::Established);
                    }
                    c.ep[dir].set_state(EpState::Established);
                }
            }
            if fin {
                c.ep[dir].set_state(EpState::Closed);
            }
            if rst {
                c.ep[dir].set_state(EpState::Reset);
            }
            // The originator acknowledging a SYN-ACK it never sent a SYN for (a capture
            // that starts mid-handshake): Zeek counts both sides established.
            if is_orig && is_ack && !syn && c.ep[peer_dir].state == EpState::Established {
                c.ep[dir].set_state(EpState::Established);
            }
            if c.ep[dir].state == EpState::Inactive {
                let ack_of_syn = !is_orig && len == 0 && c.ep[peer_dir].state == EpState::SynSent;
                if !ack_of_syn {
                    c.ep[dir].set_state(EpState::Partial);
                }
            }
        }
        EpState::SynSent | EpState::SynAckSent => {
            if fin {
                c.ep[dir].set_state(EpState::Closed);
            }
            if rst {
                c.ep[dir].set_state(EpState::Reset);
            } else if is_ack && !syn && c.ep[peer_dir].state == EpState::Established {
                c.ep[dir].set_state(EpState::Established);
            }
        }
        EpState::Partial | EpState::Established => {
            if syn
                && state == EpState::Partial
                && c.ep[peer_dir].state == EpState::Inactive
                && !is_ack
            {
                c.ep[dir].set_state(EpState::SynSent);
            }
            if fin && !rst {
                c.ep[dir].set_state(EpState::Closed);
            }
            if rst {
                c.ep[dir].set_state(EpState::Reset);
            }
        }
        // A reset after both sides closed changes nothing (Zeek logs `ShAdDafFr` as SF);
        // after only this side closed it does (`ShAdDaFR` is RSTO).
        EpState::Closed => {
            if rst && c.ep[peer_dir].state != EpState::Closed {
                c.ep[dir].set_state(EpState::Reset);
            }
        }
        EpState::Reset => {}
    }
    if c.ended_at.is_none() {
        let (o, r) = (c.ep[0].state, c.ep[1].state);
        if o == EpState::Reset
            || r == EpState::Reset
            || (o == EpState::Closed && r == EpState::Closed)
        {
            c.ended_at = Some(ts);
        }
    }
}

fn tcp_size(ep: &Endpoint, peer: &Endpoint) -> u64 {
    if ep.prev_state == EpState::SynSent
        && ep.state == EpState::Reset
        && peer.state == EpState::Inactive
    {
        return 0;
    }
    let mut size = ep.last_rel.max(ep.ack_rel).saturating_sub(1);
    if ep.fin_seen && size > 0 {
        size -= 1;
    }
    size
}

fn history_rstos0(h: &str) -> bool {
    // Zeek: /\^?S[^HAFGIQ]*R.*/
    let h = h.strip_prefix('^').unwrap_or(h);
    let Some(rest) = h.strip_prefix('S') else {
        return false;
    };
    for ch in rest.chars() {
        if ch == 'R' {
            return true;
        }
        if "HAFGIQ".contains(ch) {
            return false;
        }
    }
    false
}

fn conn_state(c: &Conn) -> ConnState {
    use EpState::*;
    let (os, rs) = (c.ep[0].state, c.ep[1].state);
    match c.proto {
        Proto::Tcp => {
            let (o_inactive, r_inactive) = (c.ep[0].inactive(), c.ep[1].inactive());
            if rs == Reset {
                let sizes_zero =
                    tcp_size(&c.ep[0], &c.ep[1]) == 0 && tcp_size(&c.ep[1], &c.ep[0]) == 0;
                if matches!(os, SynSent | SynAckSent) || (os == Reset && sizes_zero) {
                    ConnState::REJ
                } else if o_inactive {
                    ConnState::RSTRH
                } else {
                    ConnState::RSTR
                }
            } else if os == Reset {
                if r_inactive {
                    if history_rstos0(c.history.as_str()) {
                        ConnState::RSTOS0
                    } else {
                        ConnState::OTH
                    }
                } else {
                    ConnState::RSTO
                }
            } else if rs == Closed && os == Closed {
                ConnState::SF
            } else if os == Closed {
                if r_inactive {
                    ConnState::SH
                } else {
                    ConnState::S2
                }
            } else if rs == Closed {
                if o_inactive {
                    ConnState::SHR
                } else {
                    ConnState::S3
                }
            } else if os == SynSent && rs == Inactive {
                ConnState::S0
            } else if os == Established && rs == Established {
                ConnState::S1
            } else {
                ConnState::OTH
            }
        }
        Proto::Udp => match (c.pkts[0] > 0, c.pkts[1] > 0) {
            (true, true) => ConnState::SF,
            (true, false) => ConnState::S0,
            (false, true) => ConnState::SHR,
            (false, false) => ConnState::OTH,
        },
        _ => ConnState::OTH,
    }
}

fn to_record(c: &Conn) -> FlowRecord {
    let (bytes_out, bytes_in) = match c.proto {
        Proto::Tcp => (tcp_size(&c.ep[0], &c.ep[1]), tcp_size(&c.ep[1], &c.ep[0])),
        _ => (c.bytes[0], c.bytes[1]),
    };
    FlowRecord {
        ts: c.ts,
        src_ip: c.orig.0,
        src_port: c.orig.1,
        dst_ip: c.resp.0,
        dst_port: c.resp.1,
        proto: c.proto,
        service: service_from_port(c.proto, c.resp.1),
        duration_s: (c.last_ts - c.ts).max(0.0),
        bytes_out,
        bytes_in,
        pkts_out: c.pkts[0],
        pkts_in: c.pkts[1],
        conn_state: conn_state(c),
        history: c.history,
        label: Label::Benign,
        incident_id: None,
        orig_role: OrigRole::None,
    }
}
