//! Turning a decided connection into a `FlowRecord`: the 5-tuple, Zeek-style packet
//! accounting for TCP and UDP exchanges, benign connection failures, and the sink that keeps
//! only flows starting inside the run.
//!
//! This file does not decide when or between whom connections happen (`benign.rs`,
//! `attacks.rs` do); it only makes each record internally consistent.

use super::network::to_ip;
use super::sample::bytes;
use crate::traffic::flow::{ConnHistory, ConnState, FlowRecord, Label, OrigRole, Proto, Service};
use crate::util::rng::DetRng;

/// Payload bytes per full TCP segment (Ethernet MSS with timestamps).
const MSS_BYTES: u64 = 1_448;

/// Ephemeral source ports (IANA dynamic range), as modern clients use.
pub(crate) const EPHEMERAL_MIN: u16 = 49_152;

#[inline]
pub(crate) fn ephemeral_port(rng: &mut DetRng) -> u16 {
    EPHEMERAL_MIN + rng.below(u64::from(u16::MAX - EPHEMERAL_MIN) + 1) as u16
}

/// Who talks to whom: addresses are IPv4 as `u32`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FiveTuple {
    pub proto: Proto,
    pub src: u32,
    pub src_port: u16,
    pub dst: u32,
    pub dst_port: u16,
}

/// What a connection carried and how it ended.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Exchange {
    pub duration_s: f64,
    pub bytes_out: u64,
    pub bytes_in: u64,
    pub pkts_out: u64,
    pub pkts_in: u64,
    pub state: ConnState,
}

impl Exchange {
    /// A complete TCP connection (handshake, data, FIN exchange) with delayed ACKs.
    pub fn tcp_sf(duration_s: f64, bytes_out: u64, bytes_in: u64) -> Exchange {
        let (pkts_out, pkts_in) = tcp_packets(bytes_out, bytes_in);
        Exchange {
            duration_s,
            bytes_out,
            bytes_in,
            pkts_out,
            pkts_in,
            state: ConnState::SF,
        }
    }

    /// A UDP request answered by one reply. Zeek logs this as `SF` too.
    pub fn udp_reply(duration_s: f64, bytes_out: u64, bytes_in: u64) -> Exchange {
        Exchange {
            duration_s,
            bytes_out,
            bytes_in,
            pkts_out: 1,
            pkts_in: 1,
            state: ConnState::SF,
        }
    }

    /// A request that never got an answer: `pkts_out` SYNs (or UDP datagrams), nothing back.
    pub fn unanswered(duration_s: f64, pkts_out: u64) -> Exchange {
        Exchange {
            duration_s,
            bytes_out: 0,
            bytes_in: 0,
            pkts_out,
            pkts_in: 0,
            state: ConnState::S0,
        }
    }

    /// A SYN answered by RST: the port is closed.
    pub fn rejected(rtt_s: f64) -> Exchange {
        Exchange {
            duration_s: rtt_s,
            bytes_out: 0,
            bytes_in: 0,
            pkts_out: 1,
            pkts_in: 1,
            state: ConnState::REJ,
        }
    }

    /// The same connection cut short by a RST from one side after `share` of it.
    pub fn reset(self, share: f64, state: ConnState) -> Exchange {
        let bytes_out = bytes(self.bytes_out as f64 * share);
        let bytes_in = bytes(self.bytes_in as f64 * share);
        let (pkts_out, pkts_in) = tcp_packets(bytes_out, bytes_in);
        // A RST replaces the FIN on one side only: one packet fewer on the other.
        let (pkts_out, pkts_in) = match state {
            ConnState::RSTO => (pkts_out, pkts_in - 1),
            _ => (pkts_out - 1, pkts_in),
        };
        Exchange {
            duration_s: self.duration_s * share,
            bytes_out,
            bytes_in,
            pkts_out,
            pkts_in,
            state,
        }
    }
}

/// Packets each way for a complete TCP exchange: SYN/ACK/FIN overhead, full segments, and an
/// ACK for every second segment received.
#[inline]
pub(crate) fn tcp_packets(bytes_out: u64, bytes_in: u64) -> (u64, u64) {
    let data_out = bytes_out.div_ceil(MSS_BYTES);
    let data_in = bytes_in.div_ceil(MSS_BYTES);
    (data_out + 3 + data_in / 2, data_in + 2 + data_out / 2)
}

/// Zeek's `history` for a connection with this outcome: upper case for the originator, lower
/// for the responder; S syn, H syn-ack, A ack, D/d data, F/f fin, R/r reset. ICMP has none.
#[inline]
pub(crate) fn history_for(proto: Proto, ex: &Exchange) -> ConnHistory {
    let data_out = ex.bytes_out > 0;
    let data_in = ex.bytes_in > 0;
    let text: &str = match proto {
        Proto::Icmp | Proto::Unknown => "-",
        Proto::Udp => match (data_out || ex.pkts_out > 0, data_in || ex.pkts_in > 0) {
            (true, true) => "Dd",
            (true, false) => "D",
            (false, true) => "d",
            (false, false) => "-",
        },
        Proto::Tcp => {
            let est = |tail: &'static [&'static str; 4]| match (data_out, data_in) {
                (true, true) => tail[0],
                (true, false) => tail[1],
                (false, true) => tail[2],
                (false, false) => tail[3],
            };
            match ex.state {
                ConnState::S0 => "S",
                ConnState::REJ => "Sr",
                ConnState::RSTOS0 => "SR",
                ConnState::SH => "SF",
                ConnState::RSTRH => "Hr",
                ConnState::SHR => "Hf",
                ConnState::OTH => est(&["Dd", "D", "d", "-"]),
                ConnState::SF => est(&["ShADadFf", "ShADFf", "ShAdFf", "ShAFf"]),
                ConnState::S1 => est(&["ShADad", "ShAD", "ShAd", "ShA"]),
                ConnState::S2 => est(&["ShADadF", "ShADF", "ShAdF", "ShAF"]),
                ConnState::S3 => est(&["ShADadf", "ShADf", "ShAdf", "ShAf"]),
                // A half-open scan's SYN, SYN-ACK, RST carries no data and no final ACK.
                ConnState::RSTO if !data_out && !data_in && ex.pkts_out <= 2 => "ShR",
                ConnState::RSTO => est(&["ShADadR", "ShADR", "ShAdR", "ShAR"]),
                ConnState::RSTR => est(&["ShADadr", "ShADr", "ShAdr", "ShAr"]),
            }
        }
    };
    ConnHistory::new(text)
}

/// What a flow is, for the ground truth: its label, incident and the originator's role.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Tag {
    pub label: Label,
    pub incident_id: Option<u32>,
    pub role: OrigRole,
}

impl Tag {
    pub const BENIGN: Tag = Tag {
        label: Label::Benign,
        incident_id: None,
        role: OrigRole::None,
    };
}

/// Share of benign TCP connections that fail, by outcome. Real networks have a few percent
/// (dead hosts, closed ports, aborted downloads); without them any failure would look hostile.
const BENIGN_S0: f64 = 0.010;
const BENIGN_REJ: f64 = 0.005;
const BENIGN_RSTO: f64 = 0.010;
const BENIGN_RSTR: f64 = 0.005;

/// Applies the benign failure mix to a TCP exchange that would otherwise complete.
#[inline]
pub(crate) fn benign_tcp_outcome(rng: &mut DetRng, ok: Exchange, rtt_s: f64) -> Exchange {
    let u = rng.f64();
    let mut edge = BENIGN_S0;
    if u < edge {
        // 1–3 SYNs; Linux retransmits after 1 s, then 2 s more.
        let syns = 1 + rng.below(3);
        let duration_s = [0.0, 1.0, 3.0][syns as usize - 1];
        return Exchange::unanswered(duration_s, syns);
    }
    edge += BENIGN_REJ;
    if u < edge {
        return Exchange::rejected(rtt_s);
    }
    edge += BENIGN_RSTO;
    if u < edge {
        return ok.reset(rng.uniform(0.05, 0.95), ConnState::RSTO);
    }
    edge += BENIGN_RSTR;
    if u < edge {
        return ok.reset(rng.uniform(0.05, 0.95), ConnState::RSTR);
    }
    ok
}

/// Collects flows, dropping any that would start after the run ends (follow-up connections of
/// an event near the end) or before it starts.
pub(crate) struct Sink<'a> {
    flows: &'a mut Vec<FlowRecord>,
    start_ts: f64,
    end_ts: f64,
}

impl<'a> Sink<'a> {
    pub fn new(flows: &'a mut Vec<FlowRecord>, start_ts: f64, end_ts: f64) -> Sink<'a> {
        Sink {
            flows,
            start_ts,
            end_ts,
        }
    }

    pub fn end_ts(&self) -> f64 {
        self.end_ts
    }

    pub fn len(&self) -> usize {
        self.flows.len()
    }

    /// Flows pushed since `from` (a previous `len()`).
    pub fn since(&self, from: usize) -> &[FlowRecord] {
        &self.flows[from..]
    }

    #[inline]
    pub fn push(&mut self, ts: f64, ends: FiveTuple, service: Service, ex: Exchange, tag: Tag) {
        if ts < self.start_ts || ts > self.end_ts {
            return;
        }
        let history = history_for(ends.proto, &ex);
        self.flows.push(FlowRecord {
            ts,
            src_ip: to_ip(ends.src),
            src_port: ends.src_port,
            dst_ip: to_ip(ends.dst),
            dst_port: ends.dst_port,
            proto: ends.proto,
            service,
            duration_s: ex.duration_s,
            bytes_out: ex.bytes_out,
            bytes_in: ex.bytes_in,
            pkts_out: ex.pkts_out,
            pkts_in: ex.pkts_in,
            conn_state: ex.state,
            history,
            label: tag.label,
            incident_id: tag.incident_id,
            orig_role: tag.role,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packet_counts_grow_with_bytes_and_cover_the_handshake() {
        assert_eq!(tcp_packets(0, 0), (3, 2));
        let (out, inn) = tcp_packets(500, 100_000);
        assert!(inn >= 100_000 / MSS_BYTES + 2 && out > 3);
        let ex = Exchange::tcp_sf(1.0, 1_000, 50_000);
        let cut = ex.reset(0.5, ConnState::RSTO);
        assert!(cut.bytes_in < ex.bytes_in && cut.pkts_in < ex.pkts_in);
        assert_eq!(cut.state, ConnState::RSTO);
    }

    #[test]
    fn benign_failures_are_rare_and_well_formed() {
        let mut rng = DetRng::new(1);
        let ok = Exchange::tcp_sf(1.0, 800, 20_000);
        let n = 100_000;
        let mut failed = 0;
        for _ in 0..n {
            let ex = benign_tcp_outcome(&mut rng, ok, 0.02);
            if ex.state != ConnState::SF {
                failed += 1;
            }
            if ex.state.is_failed_attempt() {
                assert_eq!((ex.bytes_out, ex.bytes_in), (0, 0));
            }
        }
        let share = f64::from(failed) / f64::from(n);
        assert!((0.02..0.04).contains(&share), "{share}");
    }

    #[test]
    fn ephemeral_ports_stay_in_range() {
        let mut rng = DetRng::new(2);
        assert!((0..10_000).all(|_| ephemeral_port(&mut rng) >= EPHEMERAL_MIN));
    }
}
