//! pcapng: section headers (either byte order, several sections), interface descriptions
//! (link type, `if_tsresol`, `if_tsoffset`), enhanced, simple and obsolete packet blocks.
//!
//! Other blocks (name resolution, statistics, custom, ...) are skipped by their length. A
//! block whose length is impossible ends the read, keeping what came before; a packet for an
//! undescribed interface is skipped and reported.

use super::error::ImportError;
use super::format::Format;
use super::imported::ImportedTraffic;
use super::limits::ImportLimits;
use super::pcap::PacketSink;
use super::progress::Progress;
use super::warnings::{ImportWarning, Location, SkipReason};

#[derive(Debug, Clone, Copy)]
struct Interface {
    link_type: u32,
    /// Timestamp units per second.
    units_per_s: f64,
    offset_s: f64,
}

fn read_u16(b: &[u8], at: usize, little: bool) -> Option<u16> {
    let x: [u8; 2] = b.get(at..at + 2)?.try_into().ok()?;
    Some(if little {
        u16::from_le_bytes(x)
    } else {
        u16::from_be_bytes(x)
    })
}

fn read_u32(b: &[u8], at: usize, little: bool) -> Option<u32> {
    let x: [u8; 4] = b.get(at..at + 4)?.try_into().ok()?;
    Some(if little {
        u32::from_le_bytes(x)
    } else {
        u32::from_be_bytes(x)
    })
}

fn interface(body: &[u8], little: bool) -> Option<Interface> {
    let link_type = u32::from(read_u16(body, 0, little)?);
    let mut iface = Interface {
        link_type,
        units_per_s: 1e6,
        offset_s: 0.0,
    };
    let mut at = 8;
    while at + 4 <= body.len() {
        let code = read_u16(body, at, little)?;
        let len = usize::from(read_u16(body, at + 2, little)?);
        let value = body.get(at + 4..at + 4 + len)?;
        match (code, len) {
            (0, _) => break,
            (9, 1) => {
                let v = value[0];
                let exp = i32::from(v & 0x7F).min(60);
                iface.units_per_s = if v & 0x80 != 0 {
                    2f64.powi(exp)
                } else {
                    10f64.powi(exp)
                };
            }
            (14, 8) => {
                let x: [u8; 8] = value.try_into().ok()?;
                let off = if little {
                    i64::from_le_bytes(x)
                } else {
                    i64::from_be_bytes(x)
                };
                iface.offset_s = off as f64;
            }
            _ => {}
        }
        at += 4 + ((len + 3) & !3);
    }
    Some(iface)
}

pub(crate) fn import_pcapng(
    bytes: &[u8],
    limits: &ImportLimits,
    progress: &mut Progress,
) -> Result<ImportedTraffic, ImportError> {
    if bytes.len() < 12 || bytes[..4] != [0x0A, 0x0D, 0x0D, 0x0A] {
        return Err(ImportError::NotThisFormat {
            format: Format::Pcapng,
            expected: "a section header block (0a0d0d0a)".into(),
        });
    }
    let mut out = ImportedTraffic::new(Format::Pcapng, bytes.len() as u64);
    let mut sink = PacketSink::new();
    let mut interfaces: Vec<Interface> = Vec::new();
    let mut little = true;
    let mut at = 0usize;
    while at < bytes.len() {
        progress.at(at as u64)?;
        if bytes.len() - at < 12 {
            out.warn(ImportWarning::TruncatedFile { at_byte: at as u64 });
            break;
        }
        if bytes[at..at + 4] == [0x0A, 0x0D, 0x0D, 0x0A] {
            // The byte-order magic decides how this section is read.
            match bytes.get(at + 8..at + 12) {
                Some([0x4D, 0x3C, 0x2B, 0x1A]) => little = true,
                Some([0x1A, 0x2B, 0x3C, 0x4D]) => little = false,
                _ => {
                    out.skip(
                        limits,
                        Location::ByteOffset(at as u64),
                        SkipReason::BadBlock {
                            block_type: 0x0A0D0D0A,
                            detail: "unknown byte-order magic".into(),
                        },
                    );
                    break;
                }
            }
            interfaces.clear();
        }
        let (Some(block_type), Some(block_len)) =
            (read_u32(bytes, at, little), read_u32(bytes, at + 4, little))
        else {
            break;
        };
        let block_len = block_len as usize;
        if block_len < 12 || !block_len.is_multiple_of(4) || block_len > bytes.len() - at {
            out.skip(
                limits,
                Location::ByteOffset(at as u64),
                SkipReason::BadRecordLength {
                    needed: block_len as u64,
                    available: (bytes.len() - at) as u64,
                },
            );
            if block_len > bytes.len() - at {
                out.warn(ImportWarning::TruncatedFile { at_byte: at as u64 });
            }
            break;
        }
        let body = &bytes[at + 8..at + block_len - 4];
        let offset = at;
        at += block_len;
        let packet = match block_type {
            1 => {
                match interface(body, little) {
                    Some(i) => interfaces.push(i),
                    None => out.skip(
                        limits,
                        Location::ByteOffset(offset as u64),
                        SkipReason::BadBlock {
                            block_type,
                            detail: "interface description too short".into(),
                        },
                    ),
                }
                None
            }
            6 => (|| {
                let iface = read_u32(body, 0, little)?;
                let ts = (u64::from(read_u32(body, 4, little)?) << 32)
                    | u64::from(read_u32(body, 8, little)?);
                let caplen = read_u32(body, 12, little)? as usize;
                let data = body.get(20..20 + caplen)?;
                Some((iface, Some(ts), data))
            })()
            .map(Ok)
            .or(Some(Err(
                "enhanced packet block shorter than its captured length",
            ))),
            3 => (|| {
                let orig_len = read_u32(body, 0, little)? as usize;
                let data = body.get(4..)?;
                Some((0, None, &data[..orig_len.min(data.len())]))
            })()
            .map(Ok)
            .or(Some(Err("simple packet block too short"))),
            2 => (|| {
                let iface = u32::from(read_u16(body, 0, little)?);
                let ts = (u64::from(read_u32(body, 4, little)?) << 32)
                    | u64::from(read_u32(body, 8, little)?);
                let caplen = read_u32(body, 12, little)? as usize;
                let data = body.get(20..20 + caplen)?;
                Some((iface, Some(ts), data))
            })()
            .map(Ok)
            .or(Some(Err("packet block shorter than its captured length"))),
            _ => None,
        };
        match packet {
            None => {}
            Some(Err(detail)) => out.skip(
                limits,
                Location::ByteOffset(offset as u64),
                SkipReason::BadBlock {
                    block_type,
                    detail: detail.into(),
                },
            ),
            Some(Ok((iface_id, ts_units, data))) => {
                let Some(iface) = interfaces.get(iface_id as usize).copied() else {
                    out.skip(
                        limits,
                        Location::ByteOffset(offset as u64),
                        SkipReason::UnknownInterface {
                            interface_id: iface_id,
                        },
                    );
                    continue;
                };
                // Simple packet blocks carry no time: they count as the last time seen.
                let ts = match ts_units {
                    Some(u) => u as f64 / iface.units_per_s + iface.offset_s,
                    None => 0.0,
                };
                if !sink.frame(limits, iface.link_type, ts, data) {
                    break;
                }
            }
        }
    }
    sink.into_traffic(out, limits)
}
