//! Classic libpcap files (both byte orders, micro- and nanosecond timestamps), and the packet
//! sink shared with pcapng that turns frames into flows.
//!
//! A record header whose length cannot fit the file stops the read (the framing is lost)
//! and keeps everything before it; a frame that decodes only partly is counted, not fatal.
//! A capture that yields no flow is refused with the most telling reason the sink saw
//! (`CaptureRefusal`: no packet, first record cut, link type not decoded, no IP with the
//! kinds of frame found instead, no TCP/UDP/ICMP), not a bare "nothing could be read".

use super::error::{CaptureRefusal, ImportError};
use super::flow_table::FlowTable;
use super::format::Format;
use super::imported::{ImportedTraffic, PacketStats};
use super::limits::ImportLimits;
use super::link::error::Undecodable;
use super::packet::{
    decode, decode_udp_tunnel, is_tunnel_port, link_type_name, link_type_supported, non_ip_kind,
    Decoded, Transport,
};
use super::progress::Progress;
use super::warnings::{ImportWarning, LimitKind, Location, SkipReason, SkippedRecord};

/// Collects frames into flows and counts what could not be used.
pub struct PacketSink {
    pub table: FlowTable,
    pub stats: PacketStats,
    unsupported: Vec<u32>,
    /// Frames that were not IP, per kind (`ARP`, ...), for the refusal when nothing was IP;
    /// at most 16 kinds, the rest counted under the last.
    non_ip_kinds: Vec<(String, u64)>,
    /// Frames that could not be read, per reason, in order of first sight.
    undecodable: Vec<(Undecodable, u64)>,
    pub stopped_by_limit: Option<LimitKind>,
}

impl PacketSink {
    pub fn new() -> PacketSink {
        PacketSink {
            table: FlowTable::new(),
            stats: PacketStats::default(),
            unsupported: Vec::new(),
            non_ip_kinds: Vec::new(),
            undecodable: Vec::new(),
            stopped_by_limit: None,
        }
    }

    /// Adds one frame; false when a limit says stop.
    pub fn frame(&mut self, limits: &ImportLimits, link_type: u32, ts: f64, frame: &[u8]) -> bool {
        self.stats.packets += 1;
        if self.stats.packets > limits.max_rows as u64 {
            self.stopped_by_limit = Some(LimitKind::Rows);
            return false;
        }
        if !link_type_supported(link_type) {
            self.stats.unsupported_link_type += 1;
            if !self.unsupported.contains(&link_type) && self.unsupported.len() < 16 {
                self.unsupported.push(link_type);
            }
            return true;
        }
        match decode(link_type, frame) {
            Decoded::Ip(p) => {
                self.stats.ip_packets += 1;
                self.table.add(ts, &p);
                // Zeek logs a UDP tunnel's outer connection and the inner ones.
                let mut outer = p;
                for _ in 0..4 {
                    let Some(Transport::Udp {
                        src_port, dst_port, ..
                    }) = outer.transport
                    else {
                        break;
                    };
                    if !is_tunnel_port(src_port) && !is_tunnel_port(dst_port) {
                        break;
                    }
                    let Some(payload) = outer.udp_payload(frame) else {
                        break;
                    };
                    match decode_udp_tunnel(src_port, dst_port, payload) {
                        Some(Decoded::Ip(inner)) => {
                            self.table.add(ts, &inner);
                            outer = inner;
                        }
                        _ => break,
                    }
                }
                if self.table.flow_count() > limits.max_flows {
                    self.stopped_by_limit = Some(LimitKind::Flows);
                    return false;
                }
            }
            Decoded::NotIp => {
                self.stats.non_ip += 1;
                let kind = non_ip_kind(link_type, frame);
                let kinds = &mut self.non_ip_kinds;
                if let Some(i) = kinds.iter().position(|(k, _)| *k == kind) {
                    kinds[i].1 += 1;
                } else if kinds.len() < 16 {
                    kinds.push((kind, 1));
                } else if let Some((k, n)) = kinds.last_mut() {
                    *k = "other".into();
                    *n += 1;
                }
            }
            Decoded::Truncated => self.stats.truncated += 1,
            Decoded::UnsupportedLinkType => self.stats.unsupported_link_type += 1,
            Decoded::Undecodable(why) => {
                self.stats.undecodable += 1;
                // The reasons are a few fixed kinds, but hostile PPI headers may name any
                // link type: at most 16 kept.
                if let Some(i) = self.undecodable.iter().position(|(w, _)| *w == why) {
                    self.undecodable[i].1 += 1;
                } else if self.undecodable.len() < 16 {
                    self.undecodable.push((why, 1));
                }
            }
        }
        true
    }

    /// Why no flow came out, from the counts and what the reader recorded in `out`; `None`
    /// when the reader's own skipped records say it better (pcapng blocks).
    fn refusal(&self, stats: &PacketStats, out: &ImportedTraffic) -> Option<CaptureRefusal> {
        if stats.packets == 0 {
            return match out.skipped.first() {
                Some(SkippedRecord {
                    location: Location::ByteOffset(at_byte),
                    reason: SkipReason::BadRecordLength { needed, available },
                }) => Some(CaptureRefusal::FirstRecordTooLong {
                    at_byte: *at_byte,
                    needed: *needed,
                    available: *available,
                }),
                Some(_) => None,
                None => Some(
                    match out.warnings.iter().find_map(|w| match w {
                        ImportWarning::TruncatedFile { at_byte } => Some(*at_byte),
                        _ => None,
                    }) {
                        Some(at_byte) => CaptureRefusal::FirstRecordHeaderCut { at_byte },
                        None => CaptureRefusal::NoPackets,
                    },
                ),
            };
        }
        let link_types = || {
            self.unsupported
                .iter()
                .map(|lt| (*lt, link_type_name(*lt).map(str::to_string)))
                .collect::<Vec<_>>()
        };
        if stats.unsupported_link_type == stats.packets {
            return Some(CaptureRefusal::LinkTypeNotDecoded {
                link_types: link_types(),
                packets: stats.packets,
            });
        }
        if stats.ip_packets == 0 {
            let mut kinds = self.non_ip_kinds.clone();
            kinds.extend(self.undecodable_kinds());
            kinds.sort_by_key(|k| std::cmp::Reverse(k.1));
            if stats.truncated > 0 {
                kinds.push((
                    "cut short before their IP or transport header".into(),
                    stats.truncated,
                ));
            }
            if stats.unsupported_link_type > 0 {
                let names: Vec<String> = link_types()
                    .iter()
                    .map(|(lt, name)| match name {
                        Some(name) => format!("{lt} ({name})"),
                        None => lt.to_string(),
                    })
                    .collect();
                kinds.push((
                    format!("on link types not decoded yet: {}", names.join(", ")),
                    stats.unsupported_link_type,
                ));
            }
            return Some(CaptureRefusal::NoIp {
                packets: stats.packets,
                kinds,
            });
        }
        Some(CaptureRefusal::NoConnections {
            ip_packets: stats.ip_packets,
            other_protocols: stats.other_ip_proto,
            later_fragments: stats.later_fragments,
        })
    }

    fn undecodable_kinds(&self) -> Vec<(String, u64)> {
        self.undecodable
            .iter()
            .map(|(why, n)| (why.to_string(), *n))
            .collect()
    }

    /// The flows, or the refusal of a capture that gave none.
    pub fn into_traffic(
        self,
        mut out: ImportedTraffic,
        limits: &ImportLimits,
    ) -> Result<ImportedTraffic, ImportError> {
        let mut stats = self.stats;
        stats.later_fragments = self.table.later_fragments;
        stats.fragments_evicted = self.table.fragments_evicted;
        stats.other_ip_proto = self.table.other_proto;
        if let Some(limit) = self.stopped_by_limit {
            out.warn(ImportWarning::LimitReached {
                limit,
                value: match limit {
                    LimitKind::Flows => limits.max_flows as u64,
                    LimitKind::Rows => limits.max_rows as u64,
                },
            });
        }
        for lt in &self.unsupported {
            out.warn(ImportWarning::UnsupportedLinkType { link_type: *lt });
        }
        if stats.non_ip + stats.truncated + stats.unsupported_link_type > 0 {
            out.warn(ImportWarning::PacketsNotUsed {
                non_ip: stats.non_ip,
                truncated: stats.truncated,
                unsupported_link_type: stats.unsupported_link_type,
            });
        }
        if stats.undecodable > 0 {
            out.warn(ImportWarning::PacketsUndecodable {
                kinds: self.undecodable_kinds(),
            });
        }
        let refusal = if self.table.flow_count() == 0 {
            self.refusal(&stats, &out)
        } else {
            None
        };
        let (mut flows, seq) = self.table.finish();
        if seq.gap_connections > 0 {
            out.warn(ImportWarning::CaptureGaps {
                connections: seq.gap_connections,
                missed_bytes: seq.missed_bytes,
            });
        }
        if seq.implausible_numbers > 0 {
            out.warn(ImportWarning::ImplausibleSequenceNumbers {
                connections: seq.implausible_connections,
                numbers: seq.implausible_numbers,
            });
        }
        if flows.is_empty() {
            if let Some(why) = refusal {
                return Err(ImportError::CaptureUnusable {
                    format: out.format,
                    why,
                });
            }
        }
        flows.truncate(limits.max_flows);
        out.truth = vec![None; flows.len()];
        out.flows = flows;
        out.packet_stats = Some(stats);
        Ok(out)
    }
}

impl Default for PacketSink {
    fn default() -> PacketSink {
        PacketSink::new()
    }
}

pub(crate) fn import_pcap(
    bytes: &[u8],
    limits: &ImportLimits,
    progress: &mut Progress,
) -> Result<ImportedTraffic, ImportError> {
    let not_pcap = || ImportError::NotThisFormat {
        format: Format::Pcap,
        expected: "a 24-byte pcap file header with magic a1b2c3d4 or a1b23c4d".into(),
    };
    let Some(header) = bytes.get(..24) else {
        return Err(ImportError::NotThisFormat {
            format: Format::Pcap,
            expected: format!(
                "a 24-byte pcap file header, but the file ends after {} bytes",
                bytes.len()
            ),
        });
    };
    let magic = [header[0], header[1], header[2], header[3]];
    let (little, nanos) = match magic {
        [0xD4, 0xC3, 0xB2, 0xA1] => (true, false),
        [0xA1, 0xB2, 0xC3, 0xD4] => (false, false),
        [0x4D, 0x3C, 0xB2, 0xA1] => (true, true),
        [0xA1, 0xB2, 0x3C, 0x4D] => (false, true),
        _ => return Err(not_pcap()),
    };
    let u32_at = |at: usize| -> Option<u32> {
        let b: [u8; 4] = bytes.get(at..at + 4)?.try_into().ok()?;
        Some(if little {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    };
    // The upper bits may carry FCS information (bits 26-31): libpcap's LT_LINKTYPE mask.
    let link_type = u32_at(20).ok_or_else(not_pcap)? & 0x03FF_FFFF;
    let mut out = ImportedTraffic::new(Format::Pcap, bytes.len() as u64);
    let mut sink = PacketSink::new();
    let mut at = 24usize;
    while at < bytes.len() {
        progress.at(at as u64)?;
        let (Some(sec), Some(frac), Some(caplen), Some(_len)) =
            (u32_at(at), u32_at(at + 4), u32_at(at + 8), u32_at(at + 12))
        else {
            out.warn(ImportWarning::TruncatedFile { at_byte: at as u64 });
            break;
        };
        let data_start = at + 16;
        let available = bytes.len() - data_start.min(bytes.len());
        // A caplen beyond any sane snap length means the framing is lost.
        if caplen as usize > available || caplen > 0x0400_0000 {
            out.skip(
                limits,
                Location::ByteOffset(at as u64),
                SkipReason::BadRecordLength {
                    needed: u64::from(caplen),
                    available: available as u64,
                },
            );
            if caplen as usize > available && caplen <= 0x0400_0000 {
                out.warn(ImportWarning::TruncatedFile { at_byte: at as u64 });
            }
            break;
        }
        let ts = f64::from(sec) + f64::from(frac) / if nanos { 1e9 } else { 1e6 };
        let frame = &bytes[data_start..data_start + caplen as usize];
        at = data_start + caplen as usize;
        if !sink.frame(limits, link_type, ts, frame) {
            break;
        }
    }
    sink.into_traffic(out, limits)
}
