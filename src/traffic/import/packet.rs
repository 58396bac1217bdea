//! Decodes one captured frame down to the transport header: Ethernet (VLAN 802.1Q/QinQ, MPLS,
//! PPPoE), Linux cooked capture v1/v2, raw IP, BSD loopback, PPP (bare, in HDLC framing, with
//! direction; compressed protocol fields: `link::ppp`), Cisco HDLC (`link::hdlc`), NFLOG,
//! 802.11 data frames (bare, radiotap, PPI; headers stripped by `link::ieee80211`); IPv4
//! (options, fragments) and IPv6 (extension headers); IP-in-IP and GRE (version 0 with ERSPAN,
//! and version 1: PPTP's PPP; headers read by `link::gre`) tunnels are decapsulated to the
//! inner packet; TCP, UDP, ICMP and ICMPv6.
//!
//! Every length is checked: a frame cut short yields `Truncated` or the layers that fit, never
//! a panic. Payload sizes come from the IP header's declared lengths, not the captured bytes,
//! so captures with a short snap length still count full sizes (as Zeek does). Not here: flow
//! state (`flow_table`), checksums, reassembly.

use super::link::capwap::{self, CapwapPayload};
use super::link::error::{LinkError, Undecodable};
use super::link::gre::{self, GrePayload};
use super::link::{hdlc, ieee80211, ppp};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Link-layer types (LINKTYPE_* values) this decoder understands.
pub fn link_type_supported(link_type: u32) -> bool {
    matches!(
        link_type,
        0 | 1
            | 9
            | 12
            | 14
            | 50
            | 101
            | 104
            | 105
            | 108
            | 113
            | 127
            | 192
            | 204
            | 205
            | 228
            | 229
            | 239
            | 276
    )
}

/// TCP flag bits.
pub const FIN: u8 = 0x01;
pub const SYN: u8 = 0x02;
pub const RST: u8 = 0x04;
pub const ACK: u8 = 0x10;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Tcp {
        src_port: u16,
        dst_port: u16,
        seq: u32,
        ack: u32,
        flags: u8,
        window: u16,
        payload_len: u32,
    },
    Udp {
        src_port: u16,
        dst_port: u16,
        payload_len: u32,
    },
    Icmp {
        icmp_type: u8,
        code: u8,
        v6: bool,
        payload_len: u32,
    },
    /// Another IP protocol (Zeek's `unknown_transport`).
    Other { ip_proto: u8 },
}

/// Fragment position of an IP datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fragment {
    Whole,
    /// The first fragment (offset 0, more fragments follow): carries the transport header.
    First {
        id: u32,
    },
    /// A later fragment: no transport header.
    Later {
        id: u32,
        ip_proto: u8,
        /// The fragment's share of the datagram, from its IP header's declared lengths.
        payload_len: u32,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpPacket {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub fragment: Fragment,
    /// `None` for later fragments.
    pub transport: Option<Transport>,
    /// Memory address of the transport header, to locate payloads inside the frame
    /// (see `udp_payload`); 0 when unknown.
    header_addr: usize,
}

impl IpPacket {
    /// The captured UDP payload of this packet, given the frame it was decoded from.
    pub fn udp_payload<'a>(&self, frame: &'a [u8]) -> Option<&'a [u8]> {
        if !matches!(self.transport, Some(Transport::Udp { .. })) {
            return None;
        }
        let start = self.header_addr.checked_sub(frame.as_ptr() as usize)?;
        frame.get(start.checked_add(8)?..)
    }
}

/// Zeek's default UDP tunnel ports: VXLAN, Geneve, GTP-U, Teredo, AYIYA, GRE over UDP; and
/// CAPWAP data (5247), which Zeek does not open: without it, a capture taken between access
/// points and their controller shows one UDP flow per access point and none of the stations'.
pub fn is_tunnel_port(port: u16) -> bool {
    matches!(port, 4789 | 6081 | 2152 | 3544 | 5072 | 4754 | 5247)
}

/// Decapsulates a UDP tunnel payload into the inner packet, when it is one.
pub fn decode_udp_tunnel(src_port: u16, dst_port: u16, payload: &[u8]) -> Option<Decoded> {
    let on = |p: u16| src_port == p || dst_port == p;
    let inner = if dst_port == 4789 {
        // VXLAN: 8-byte header with the I flag, then Ethernet.
        if payload.first()? & 0x08 == 0 {
            return None;
        }
        ethernet(payload.get(8..)?, 1)
    } else if dst_port == 6081 {
        let options = usize::from(payload.first()? & 0x3F) * 4;
        let proto = be16(payload, 2)?;
        let rest = payload.get(8 + options..)?;
        if proto == 0x6558 {
            ethernet(rest, 1)
        } else {
            ethertype(proto, rest, 1)
        }
    } else if on(2152) {
        // GTP-U version 1, G-PDU messages only.
        let flags = *payload.first()?;
        if flags >> 5 != 1 || *payload.get(1)? != 0xFF {
            return None;
        }
        let mut at = if flags & 0x07 != 0 { 12 } else { 8 };
        if flags & 0x04 != 0 {
            // Extension headers: length in 4-byte units, the last byte names the next one.
            let mut next = *payload.get(11)?;
            while next != 0 {
                let len = usize::from(*payload.get(at)?) * 4;
                if len == 0 {
                    return None;
                }
                next = *payload.get(at + len - 1)?;
                at += len;
            }
        }
        raw_ip(payload.get(at..)?, 1)
    } else if on(3544) {
        // Teredo: optional authentication and origin indications, then IPv6.
        let mut at = 0;
        if be16(payload, 0)? == 0x0001 {
            let id_len = usize::from(*payload.get(2)?);
            let auth_len = usize::from(*payload.get(3)?);
            at += 4 + id_len + auth_len + 9;
        }
        if be16(payload, at)? == 0x0000 {
            at += 8;
        }
        let rest = payload.get(at..)?;
        if rest.first()? >> 4 != 6 {
            return None;
        }
        ip(rest, 6, 1)
    } else if on(5072) {
        // AYIYA: identity of 2^idlen bytes and a signature of siglen * 4 bytes.
        let id_len = 1usize << (payload.first()? >> 4);
        let sig_len = usize::from(payload.get(1)? >> 4) * 4;
        let next = *payload.get(3)?;
        let rest = payload.get(8 + id_len + sig_len..)?;
        match next {
            41 => ip(rest, 6, 1),
            4 => ip(rest, 4, 1),
            _ => return None,
        }
    } else if on(4754) {
        gre(payload, 1)?
    } else if on(5247) {
        match capwap::decapsulate(payload).ok()? {
            CapwapPayload::Ethernet(frame) => ethernet(frame, 1),
            CapwapPayload::Ieee80211(frame) => match ieee80211::data_payload(frame) {
                Ok(snap) => ethertype(snap.ethertype, snap.payload, 1),
                Err(e) => e.into(),
            },
        }
    } else {
        return None;
    };
    Some(inner)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decoded {
    Ip(IpPacket),
    /// A frame without IP (ARP, LLDP, ...).
    NotIp,
    /// The capture ends before the transport header.
    Truncated,
    UnsupportedLinkType,
    /// A frame that may carry IP but cannot be read (encrypted 802.11, ...).
    Undecodable(Undecodable),
}

impl From<LinkError> for Decoded {
    fn from(e: LinkError) -> Decoded {
        match e {
            LinkError::Short { .. } => Decoded::Truncated,
            LinkError::NoPayload(_) | LinkError::Malformed(_) => Decoded::NotIp,
            LinkError::Undecodable(u) => Decoded::Undecodable(u),
        }
    }
}

fn be16(d: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*d.get(at)?, *d.get(at + 1)?]))
}

fn be32(d: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes([
        *d.get(at)?,
        *d.get(at + 1)?,
        *d.get(at + 2)?,
        *d.get(at + 3)?,
    ]))
}

/// How deep tunnels may nest before the decoder gives up (hostile captures nest forever).
const MAX_DEPTH: u8 = 8;

pub fn decode(link_type: u32, frame: &[u8]) -> Decoded {
    match link_type {
        1 => ethernet(frame, 0),
        0 | 108 => {
            // BSD loopback: the address family in host order (0) or network order (108).
            let Some(bytes) = frame.get(..4) else {
                return Decoded::Truncated;
            };
            let le = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
            let be = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
            let family = if link_type == 108 || le > 0xFFFF {
                be
            } else {
                le
            };
            match family {
                2 => ip(&frame[4..], 4, 0),
                24 | 28 | 30 => ip(&frame[4..], 6, 0),
                _ => Decoded::NotIp,
            }
        }
        12 | 14 | 101 => raw_ip(frame, 0),
        228 => ip(frame, 4, 0),
        229 => ip(frame, 6, 0),
        9 => ppp(frame, 0),
        // PPP in HDLC-like framing, or Cisco's PPP with Cisco HDLC framing (RFC 1547 4.3.1),
        // told apart by the address byte.
        50 => match frame.first() {
            Some(&(hdlc::ADDRESS_UNICAST | hdlc::ADDRESS_BROADCAST)) => cisco_hdlc(frame),
            _ => ppp(frame, 0),
        },
        104 => cisco_hdlc(frame),
        // With a leading direction byte (sent or received).
        204 => match frame.get(1..) {
            Some(rest) => ppp(rest, 0),
            None => Decoded::Truncated,
        },
        205 => match frame.get(1..) {
            Some(rest) => cisco_hdlc(rest),
            None => Decoded::Truncated,
        },
        113 => match (be16(frame, 14), frame.get(16..)) {
            (Some(proto), Some(rest)) => ethertype(proto, rest, 0),
            _ => Decoded::Truncated,
        },
        276 => match (be16(frame, 0), frame.get(20..)) {
            (Some(proto), Some(rest)) => ethertype(proto, rest, 0),
            _ => Decoded::Truncated,
        },
        239 => nflog(frame),
        105 | 127 | 192 => match ieee80211_ethertype(link_type, frame) {
            Ok((t, rest)) => ethertype(t, rest, 0),
            Err(e) => e.into(),
        },
        _ => Decoded::UnsupportedLinkType,
    }
}

fn cisco_hdlc(frame: &[u8]) -> Decoded {
    match hdlc::cisco(frame) {
        Ok((protocol, rest)) => ethertype(protocol, rest, 0),
        Err(e) => e.into(),
    }
}

/// The EtherType and what follows it in a capture of 802.11 (link type 105), radiotap (127)
/// or PPI (192, which may also wrap Ethernet).
fn ieee80211_ethertype(link_type: u32, frame: &[u8]) -> Result<(u16, &[u8]), LinkError> {
    let inner = match link_type {
        127 => ieee80211::strip_radiotap(frame)?,
        192 => match ieee80211::strip_ppi(frame)? {
            ieee80211::PpiPayload::Ieee80211(inner) => inner,
            ieee80211::PpiPayload::Ethernet(eth) => {
                LinkError::need("Ethernet", eth, 14)?;
                return Ok((u16::from_be_bytes([eth[12], eth[13]]), &eth[14..]));
            }
        },
        _ => frame,
    };
    let snap = ieee80211::data_payload(inner)?;
    Ok((snap.ethertype, snap.payload))
}

fn raw_ip(data: &[u8], depth: u8) -> Decoded {
    match data.first().map(|b| b >> 4) {
        Some(4) => ip(data, 4, depth),
        Some(6) => ip(data, 6, depth),
        Some(_) => Decoded::NotIp,
        None => Decoded::Truncated,
    }
}

fn ethernet(frame: &[u8], depth: u8) -> Decoded {
    match (be16(frame, 12), frame.get(14..)) {
        (Some(t), Some(rest)) => ethertype(t, rest, depth),
        _ => Decoded::Truncated,
    }
}

fn ethertype(mut ethertype: u16, mut data: &[u8], depth: u8) -> Decoded {
    if depth > MAX_DEPTH {
        return Decoded::NotIp;
    }
    loop {
        match ethertype {
            0x0800 => return ip(data, 4, depth),
            0x86DD => return ip(data, 6, depth),
            // 802.1Q, 802.1ad (QinQ) and the old QinQ tag: 4 bytes, then the next type.
            0x8100 | 0x88A8 | 0x9100 => match (be16(data, 2), data.get(4..)) {
                (Some(t), Some(rest)) => {
                    ethertype = t;
                    data = rest;
                }
                _ => return Decoded::Truncated,
            },
            0x8847 | 0x8848 => {
                // MPLS: labels until the bottom-of-stack bit, then IP by its version nibble.
                let mut at = 0;
                loop {
                    let Some(entry) = be32(data, at) else {
                        return Decoded::Truncated;
                    };
                    at += 4;
                    if entry & 0x100 != 0 {
                        break;
                    }
                    if at > 64 {
                        return Decoded::NotIp;
                    }
                }
                return raw_ip(&data[at..], depth);
            }
            // Cisco FabricPath: a 2-byte tag, then the inner Ethernet frame.
            0x8903 => {
                return match data.get(2..) {
                    Some(rest) => ethernet(rest, depth + 1),
                    None => Decoded::Truncated,
                };
            }
            0x8864 => {
                // PPPoE session: 6-byte header, then PPP's protocol field.
                return match data.get(6..) {
                    Some(rest) => ppp_proto(rest, depth),
                    None => Decoded::Truncated,
                };
            }
            _ => return Decoded::NotIp,
        }
    }
}

fn ppp(frame: &[u8], depth: u8) -> Decoded {
    ppp_proto(ppp::strip_address_control(frame), depth)
}

/// From PPP's protocol field (full or compressed) on.
fn ppp_proto(data: &[u8], depth: u8) -> Decoded {
    match ppp::protocol(data) {
        Ok((ppp::IPV4, rest)) => ip(rest, 4, depth),
        Ok((ppp::IPV6, rest)) => ip(rest, 6, depth),
        Ok((ppp::MPLS_UNICAST | ppp::MPLS_MULTICAST, rest)) => ethertype(0x8847, rest, depth),
        Ok(_) => Decoded::NotIp,
        Err(e) => e.into(),
    }
}

fn nflog(frame: &[u8]) -> Decoded {
    // 4-byte header (family, version, resource id), then TLVs with little-endian lengths.
    let family = match frame.first() {
        Some(f) => *f,
        None => return Decoded::Truncated,
    };
    let mut at = 4usize;
    while at + 4 <= frame.len() {
        let len = u16::from_le_bytes([frame[at], frame[at + 1]]) as usize;
        let kind = u16::from_le_bytes([frame[at + 2], frame[at + 3]]);
        if len < 4 {
            return Decoded::NotIp;
        }
        if kind == 9 {
            let end = (at + len).min(frame.len());
            let payload = &frame[at + 4..end];
            return match family {
                2 => ip(payload, 4, 0),
                10 => ip(payload, 6, 0),
                _ => raw_ip(payload, 0),
            };
        }
        at += (len + 3) & !3;
    }
    Decoded::NotIp
}

fn ip(data: &[u8], version: u8, depth: u8) -> Decoded {
    if depth > MAX_DEPTH {
        return Decoded::NotIp;
    }
    if version == 4 {
        ipv4(data, depth)
    } else {
        ipv6(data, depth)
    }
}

fn ipv4(d: &[u8], depth: u8) -> Decoded {
    if d.len() < 20 {
        return Decoded::Truncated;
    }
    if d[0] >> 4 != 4 {
        return Decoded::NotIp;
    }
    let header_len = usize::from(d[0] & 0x0F) * 4;
    if header_len < 20 {
        return Decoded::NotIp;
    }
    let declared = usize::from(u16::from_be_bytes([d[2], d[3]]));
    // Segmentation offload writes 0; then the captured size is all we know.
    let total = if declared == 0 { d.len() } else { declared };
    if total < header_len {
        return Decoded::NotIp;
    }
    let Some(body) = d.get(header_len..) else {
        return Decoded::Truncated;
    };
    let id = u32::from(u16::from_be_bytes([d[4], d[5]]));
    let frag = u16::from_be_bytes([d[6], d[7]]);
    let (more, offset) = (frag & 0x2000 != 0, frag & 0x1FFF);
    let proto = d[9];
    let src = IpAddr::V4(Ipv4Addr::new(d[12], d[13], d[14], d[15]));
    let dst = IpAddr::V4(Ipv4Addr::new(d[16], d[17], d[18], d[19]));
    let fragment = if offset > 0 {
        Fragment::Later {
            id,
            ip_proto: proto,
            // Set from the declared lengths in `transport`.
            payload_len: 0,
        }
    } else if more {
        Fragment::First { id }
    } else {
        Fragment::Whole
    };
    transport(
        src,
        dst,
        proto,
        body,
        (total - header_len) as u32,
        fragment,
        depth,
    )
}

fn ipv6(d: &[u8], depth: u8) -> Decoded {
    if d.len() < 40 {
        return Decoded::Truncated;
    }
    if d[0] >> 4 != 6 {
        return Decoded::NotIp;
    }
    let payload_declared = u32::from(u16::from_be_bytes([d[4], d[5]]));
    let mut payload_len = if payload_declared == 0 {
        (d.len() - 40) as u32
    } else {
        payload_declared
    };
    let mut next = d[6];
    let mut src_bytes = [0u8; 16];
    let mut dst_bytes = [0u8; 16];
    src_bytes.copy_from_slice(&d[8..24]);
    dst_bytes.copy_from_slice(&d[24..40]);
    let src = IpAddr::V6(Ipv6Addr::from(src_bytes));
    let dst = IpAddr::V6(Ipv6Addr::from(dst_bytes));
    let mut at = 40usize;
    let mut fragment = Fragment::Whole;
    for _ in 0..16 {
        let ext_len = match next {
            0 | 43 | 60 | 135 | 139 | 140 => match d.get(at + 1) {
                Some(l) => (usize::from(*l) + 1) * 8,
                None => return Decoded::Truncated,
            },
            44 => {
                let (Some(off), Some(id)) = (be16(d, at + 2), be32(d, at + 4)) else {
                    return Decoded::Truncated;
                };
                let (offset, more) = (off >> 3, off & 1 != 0);
                let inner = d[at];
                fragment = if offset > 0 {
                    Fragment::Later {
                        id,
                        ip_proto: inner,
                        payload_len: 0,
                    }
                } else if more {
                    Fragment::First { id }
                } else {
                    Fragment::Whole
                };
                8
            }
            51 => match d.get(at + 1) {
                Some(l) => (usize::from(*l) + 2) * 4,
                None => return Decoded::Truncated,
            },
            _ => break,
        };
        let Some(&following) = d.get(at) else {
            return Decoded::Truncated;
        };
        next = following;
        at += ext_len;
        payload_len = payload_len.saturating_sub(ext_len as u32);
        if matches!(fragment, Fragment::Later { .. }) {
            break;
        }
    }
    let body = d.get(at..).unwrap_or(&[]);
    if at > d.len() {
        return Decoded::Truncated;
    }
    transport(src, dst, next, body, payload_len, fragment, depth)
}

#[allow(clippy::too_many_arguments)]
fn transport(
    src: IpAddr,
    dst: IpAddr,
    proto: u8,
    body: &[u8],
    declared_len: u32,
    fragment: Fragment,
    depth: u8,
) -> Decoded {
    if let Fragment::Later { id, ip_proto, .. } = fragment {
        return Decoded::Ip(IpPacket {
            src,
            dst,
            fragment: Fragment::Later {
                id,
                ip_proto,
                payload_len: declared_len,
            },
            transport: None,
            header_addr: 0,
        });
    }
    let t = match proto {
        6 => {
            if body.len() < 14 {
                return Decoded::Truncated;
            }
            let header_len = u32::from(body[12] >> 4) * 4;
            Transport::Tcp {
                src_port: u16::from_be_bytes([body[0], body[1]]),
                dst_port: u16::from_be_bytes([body[2], body[3]]),
                seq: u32::from_be_bytes([body[4], body[5], body[6], body[7]]),
                ack: u32::from_be_bytes([body[8], body[9], body[10], body[11]]),
                flags: body[13],
                window: be16(body, 14).unwrap_or(1),
                payload_len: declared_len.saturating_sub(header_len.max(20)),
            }
        }
        17 => {
            if body.len() < 8 {
                return Decoded::Truncated;
            }
            let udp_len = u32::from(u16::from_be_bytes([body[4], body[5]]));
            // A first fragment's UDP length covers the whole datagram, as Zeek sees it
            // after reassembly.
            let len = if udp_len >= 8 && matches!(fragment, Fragment::First { .. }) {
                udp_len
            } else {
                declared_len
            };
            Transport::Udp {
                src_port: u16::from_be_bytes([body[0], body[1]]),
                dst_port: u16::from_be_bytes([body[2], body[3]]),
                payload_len: len.saturating_sub(8),
            }
        }
        1 | 58 => {
            if body.len() < 2 {
                return Decoded::Truncated;
            }
            Transport::Icmp {
                icmp_type: body[0],
                code: body[1],
                v6: proto == 58,
                payload_len: declared_len.saturating_sub(8),
            }
        }
        // IP-in-IP and IPv6-in-IP: the inner packet is the connection.
        4 if matches!(fragment, Fragment::Whole) => return ip(body, 4, depth + 1),
        41 if matches!(fragment, Fragment::Whole) => return ip(body, 6, depth + 1),
        47 if matches!(fragment, Fragment::Whole) => {
            if let Some(inner) = gre(body, depth) {
                return inner;
            }
            Transport::Other { ip_proto: proto }
        }
        p => Transport::Other { ip_proto: p },
    };
    Decoded::Ip(IpPacket {
        src,
        dst,
        fragment,
        transport: Some(t),
        header_addr: body.as_ptr() as usize,
    })
}

/// The packet inside GRE (version 0 with ERSPAN or Aruba's 802.11, or PPTP's version 1),
/// decoded; `None` when
/// the GRE packet carries nothing decodable (it stays a GRE packet).
fn gre(d: &[u8], depth: u8) -> Option<Decoded> {
    Some(match gre::decapsulate(d).ok()? {
        GrePayload::Ethernet(inner) => ethernet(inner, depth + 1),
        GrePayload::Ethertype(protocol, inner) => ethertype(protocol, inner, depth + 1),
        GrePayload::Ppp(inner) => ppp(inner, depth + 1),
        GrePayload::Ieee80211(inner) => match ieee80211::data_payload(inner) {
            Ok(snap) => ethertype(snap.ethertype, snap.payload, depth + 1),
            Err(e) => e.into(),
        },
    })
}

/// A readable name of a link type (LINKTYPE_* value), for refusals; `None` when unknown here.
pub fn link_type_name(link_type: u32) -> Option<&'static str> {
    Some(match link_type {
        0 => "BSD loopback",
        1 => "Ethernet",
        3 => "AX.25 amateur radio",
        6 => "Token Ring",
        7 => "ARCNET (BSD)",
        8 => "SLIP",
        9 => "PPP",
        10 => "FDDI",
        50 => "PPP in HDLC framing",
        51 => "PPPoE",
        100 => "ATM (RFC 1483)",
        101 | 12 | 14 => "raw IP",
        104 => "Cisco HDLC",
        105 => "IEEE 802.11",
        106 => "Linux classical IP over ATM",
        107 => "Frame Relay",
        108 => "OpenBSD loopback",
        113 => "Linux cooked capture",
        117 => "OpenBSD pflog",
        119 => "IEEE 802.11 with Prism header",
        122 => "IP over Fibre Channel",
        123 => "SunATM",
        127 => "IEEE 802.11 with radiotap header",
        129 => "ARCNET (Linux)",
        130..=137 | 164 | 167 | 168 | 174 | 178..=181 | 183 | 194 | 200 | 232..=234 | 238 => {
            "Juniper private"
        }
        139 | 140 => "SS7 MTP2",
        141 => "SS7 MTP3",
        142 => "SS7 SCCP",
        143 => "DOCSIS",
        147..=162 => "private use (USER0-15)",
        163 => "IEEE 802.11 with AVS header",
        166 => "PPP (pppd)",
        169 => "GPRS LLC",
        177 => "Linux LAPD",
        182 => "multilink Frame Relay",
        186 | 189 | 220 | 249 => "USB",
        187 | 201 => "Bluetooth HCI",
        192 => "PPI (802.11)",
        195 | 215 | 230 => "IEEE 802.15.4",
        197 => "Endace ERF",
        204 => "PPP with direction",
        205 => "Cisco HDLC with direction",
        206 => "Frame Relay with direction",
        226 => "Solaris ipnet",
        227 => "SocketCAN",
        228 => "IPv4",
        229 => "IPv6",
        231 => "D-Bus",
        239 => "Linux NFLOG",
        242 => "IP over InfiniBand",
        243 => "MPEG-2 transport stream",
        251 | 256 => "Bluetooth LE link layer",
        253 => "Linux netlink",
        258 => "Apple PKTAP",
        276 => "Linux cooked capture v2",
        281 | 282 => "Broadcom switch tag",
        284 | 285 => "Marvell switch tag",
        _ => return None,
    })
}

/// What a frame that decoded as `NotIp` carries instead, named as an analyst would (`ARP`,
/// `PPPoE discovery`, `STP`, ...), for the refusal of a capture without IP.
pub fn non_ip_kind(link_type: u32, frame: &[u8]) -> String {
    let (ethertype, data) = match link_type {
        1 => (be16(frame, 12), frame.get(14..)),
        113 => (be16(frame, 14), frame.get(16..)),
        276 => (be16(frame, 0), frame.get(20..)),
        9 | 50 | 204 => {
            let frame = if link_type == 204 {
                frame.get(1..).unwrap_or(&[])
            } else {
                frame
            };
            if link_type == 50 && matches!(frame.first(), Some(0x0F | 0x8F)) {
                return cisco_hdlc_kind(frame);
            }
            return ppp_kind(ppp::strip_address_control(frame));
        }
        104 => return cisco_hdlc_kind(frame),
        205 => return cisco_hdlc_kind(frame.get(1..).unwrap_or(&[])),
        0 | 108 => return "not IP (loopback address family)".into(),
        105 | 127 | 192 => match ieee80211_ethertype(link_type, frame) {
            Ok((t, rest)) => (Some(t), Some(rest)),
            Err(LinkError::Short { layer, .. }) => return format!("{layer} cut short"),
            Err(e) => return e.to_string(),
        },
        _ => return "not an IPv4 or IPv6 header".into(),
    };
    let (Some(ethertype), Some(data)) = (ethertype, data) else {
        return "cut short".into();
    };
    ethertype_kind(ethertype, data)
}

/// What a frame of this EtherType carries, named (past VLAN tags).
fn ethertype_kind(mut ethertype: u16, mut data: &[u8]) -> String {
    // Past VLAN tags to the type they carry.
    while matches!(ethertype, 0x8100 | 0x88A8 | 0x9100) {
        match (be16(data, 2), data.get(4..)) {
            (Some(t), Some(rest)) => (ethertype, data) = (t, rest),
            _ => return "cut short".into(),
        }
    }
    match ethertype {
        0x0806 => "ARP".into(),
        0x8035 => "RARP".into(),
        0x8863 => "PPPoE discovery".into(),
        0x8864 => format!("PPPoE session {}", ppp_kind(data.get(6..).unwrap_or(&[]))),
        0x88CC => "LLDP".into(),
        0x888E => "802.1X (EAPOL)".into(),
        0x8137 | 0x8138 => "IPX".into(),
        0x809B | 0x80F3 => "AppleTalk".into(),
        0x6000..=0x6007 => "DECnet".into(),
        0x8808 => "Ethernet flow control".into(),
        0x88F7 => "PTP".into(),
        0x88E5 => "MACsec".into(),
        0x9000 => "Ethernet loopback test".into(),
        0x8847 | 0x8848 => "MPLS without IP".into(),
        // 802.3 length field: an 802.2 LLC header follows.
        0..=1500 => match (data.first(), data.get(6..8)) {
            (Some(0x42), _) => "STP".into(),
            (Some(0xAA), Some([0x20, 0x00])) => "CDP".into(),
            (Some(0xAA), _) => "802.2 SNAP".into(),
            (Some(0xE0), _) | (Some(0xFF), _) => "IPX".into(),
            (Some(0xFE), _) => "OSI (IS-IS, ...)".into(),
            (Some(0xF0), _) => "NetBIOS".into(),
            _ => "802.2 LLC".into(),
        },
        t => format!("EtherType {t:#06x}"),
    }
}

/// What a PPP frame from its protocol field on carries, named.
fn ppp_kind(data: &[u8]) -> String {
    match ppp::protocol(data) {
        Ok((protocol, _)) => ppp::kind(protocol),
        Err(_) => "cut short".into(),
    }
}

/// What a Cisco HDLC frame carries, named: Cisco's own protocols, or by EtherType.
fn cisco_hdlc_kind(frame: &[u8]) -> String {
    match hdlc::cisco(frame) {
        Ok((protocol, rest)) => match hdlc::cisco_kind(protocol) {
            Some(kind) => kind.into(),
            None => ethertype_kind(protocol, rest),
        },
        Err(LinkError::Short { .. }) => "cut short".into(),
        Err(e) => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_ip_frames_are_named() {
        let mut arp = vec![0u8; 12];
        arp.extend_from_slice(&[0x08, 0x06, 0, 1]);
        assert_eq!(decode(1, &arp), Decoded::NotIp);
        assert_eq!(non_ip_kind(1, &arp), "ARP");
        let mut tagged = vec![0u8; 12];
        tagged.extend_from_slice(&[0x81, 0x00, 0, 5, 0x88, 0x63, 0x11, 0x09]);
        assert_eq!(non_ip_kind(1, &tagged), "PPPoE discovery");
        let mut stp = vec![0u8; 12];
        stp.extend_from_slice(&[0, 38, 0x42, 0x42, 0x03]);
        assert_eq!(non_ip_kind(1, &stp), "STP");
        assert_eq!(non_ip_kind(9, &[0xFF, 0x03, 0xC0, 0x21]), "PPP LCP");
        let mut odd = vec![0u8; 12];
        odd.extend_from_slice(&[0x12, 0x34]);
        assert_eq!(non_ip_kind(1, &odd), "EtherType 0x1234");
        assert_eq!(non_ip_kind(1, &[0; 5]), "cut short");
        assert_eq!(link_type_name(105), Some("IEEE 802.11"));
        assert_eq!(link_type_name(65000), None);
    }

    #[test]
    fn hdlc_and_ppp_frames_reach_ip() {
        let mut v4 = vec![
            0x45, 0, 0, 28, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
        ];
        v4.extend_from_slice(&[0, 53, 0, 53, 0, 8, 0, 0]);
        let udp = |d: Decoded| {
            matches!(
                d,
                Decoded::Ip(IpPacket {
                    transport: Some(Transport::Udp { dst_port: 53, .. }),
                    ..
                })
            )
        };
        let with = |prefix: &[u8]| [prefix, &v4[..]].concat();
        assert!(udp(decode(104, &with(&[0x0F, 0, 0x08, 0x00]))));
        assert!(udp(decode(50, &with(&[0x8F, 0, 0x08, 0x00]))));
        assert!(udp(decode(50, &with(&[0xFF, 0x03, 0x21]))));
        assert!(udp(decode(9, &with(&[0x21]))));
        assert!(udp(decode(9, &with(&[0x00, 0x21]))));
        assert!(udp(decode(204, &with(&[1, 0x21]))));
        // MPLS over PPP: one label, bottom of stack.
        assert!(udp(decode(9, &with(&[0x02, 0x81, 0, 0, 0x11, 0x40]))));
        assert_eq!(decode(104, &[0x0F, 0]), Decoded::Truncated);
        assert_eq!(decode(104, &[0x0F, 0, 0x80, 0x35, 0, 0]), Decoded::NotIp);
        assert_eq!(
            non_ip_kind(104, &[0x0F, 0, 0x80, 0x35, 0, 0]),
            "Cisco SLARP"
        );
        assert_eq!(non_ip_kind(104, &[0x0F, 0, 0x08, 0x06, 0, 0]), "ARP");
        assert_eq!(non_ip_kind(50, &[0xFF, 0x03, 0xC0, 0x21]), "PPP LCP");
        let mut pppoe_lcp = vec![0u8; 12];
        pppoe_lcp.extend_from_slice(&[0x88, 0x64, 0x11, 0, 0, 1, 0, 4, 0xC0, 0x21]);
        assert_eq!(non_ip_kind(1, &pppoe_lcp), "PPPoE session PPP LCP");
    }

    #[test]
    fn random_bytes_on_every_link_type_and_tunnel_never_panic() {
        let mut state = 0x9E37_79B9u32;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state
        };
        for _ in 0..20_000 {
            let len = (next() % 96) as usize;
            let mut frame: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            // Plausible starts reach deeper layers: radiotap/PPI version 0 with a small
            // length, Cisco HDLC's address, PPP's FF 03, an 802.11 data frame.
            match next() % 5 {
                0 if len > 4 => frame[..4].copy_from_slice(&[0, 0, 8, 0]),
                1 if len > 2 => frame[..2].copy_from_slice(&[0x0F, 0]),
                2 if len > 2 => frame[..2].copy_from_slice(&[0xFF, 0x03]),
                3 if len > 2 => frame[0] = 0x88,
                _ => {}
            }
            for lt in [9, 50, 104, 105, 127, 192, 204, 205] {
                if matches!(decode(lt, &frame), Decoded::NotIp) {
                    let _ = non_ip_kind(lt, &frame);
                }
            }
            for port in [4754, 5247] {
                let _ = decode_udp_tunnel(40000, port, &frame);
            }
            let _ = gre(&frame, 0);
        }
    }

    #[test]
    fn short_frames_are_truncated_not_panics() {
        for lt in [
            0, 1, 9, 12, 101, 105, 108, 113, 127, 192, 228, 229, 239, 276,
        ] {
            for len in 0..64 {
                let frame = vec![0x45u8; len];
                let _ = decode(lt, &frame);
            }
        }
        assert_eq!(decode(1, &[0; 10]), Decoded::Truncated);
        assert_eq!(decode(147, &[0; 60]), Decoded::UnsupportedLinkType);
    }
}
