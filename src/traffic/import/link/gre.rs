//! GRE headers: version 0 (RFC 2784 with RFC 2890's key and sequence number; the ERSPAN
//! types I-III that mirror traffic in it; Aruba's access-point tunnels of 802.11 frames,
//! protocol types 0x8200-0x8FFF, as Zeek reads them; Cisco WCCP redirection) and version 1,
//! PPTP's enhanced GRE (RFC 2637), which carries PPP frames. Says what the payload is and
//! where it starts; `packet` decodes it. Not here: GRE over UDP's port logic (`packet`), PPP
//! itself (`ppp`), keys or sequence numbers as flow state (a tunnel's inner connections are
//! the flows, as Zeek logs them).

use super::error::LinkError;

/// What a GRE packet carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrePayload<'a> {
    /// An Ethernet frame (transparent Ethernet bridging, ERSPAN).
    Ethernet(&'a [u8]),
    /// A packet of this EtherType (IPv4, IPv6, MPLS).
    Ethertype(u16, &'a [u8]),
    /// A PPP frame (PPTP), from its optional FF 03 on.
    Ppp(&'a [u8]),
    /// An 802.11 frame (Aruba access points to their controller).
    Ieee80211(&'a [u8]),
}

const CHECKSUM: u16 = 0x8000;
const ROUTING: u16 = 0x4000;
const KEY: u16 = 0x2000;
const SEQUENCE: u16 = 0x1000;
/// Enhanced GRE only: an acknowledgement number follows the sequence number.
const ACK: u16 = 0x0080;
const VERSION: u16 = 0x0007;
const PPP: u16 = 0x880B;

pub fn decapsulate(d: &[u8]) -> Result<GrePayload<'_>, LinkError> {
    LinkError::need("GRE", d, 4)?;
    let flags = u16::from_be_bytes([d[0], d[1]]);
    let protocol = u16::from_be_bytes([d[2], d[3]]);
    match flags & VERSION {
        0 => version0(d, flags, protocol),
        1 => enhanced(d, flags, protocol),
        _ => Err(LinkError::Malformed("GRE version other than 0 or 1")),
    }
}

fn version0(d: &[u8], flags: u16, protocol: u16) -> Result<GrePayload<'_>, LinkError> {
    let mut header_len = 4;
    for field in [CHECKSUM, KEY, SEQUENCE] {
        if flags & field != 0 {
            header_len += 4;
        }
    }
    LinkError::need("GRE", d, header_len)?;
    let inner = &d[header_len..];
    match protocol {
        0x6558 => Ok(GrePayload::Ethernet(inner)),
        // ERSPAN type II: an 8-byte header, or none at all when the sequence bit is clear
        // (type I).
        0x88BE => {
            let skip = if flags & SEQUENCE != 0 { 8 } else { 0 };
            LinkError::need("ERSPAN II", inner, skip)?;
            Ok(GrePayload::Ethernet(&inner[skip..]))
        }
        // ERSPAN type III: 12 bytes, plus 8 when the optional subheader flag is set.
        0x22EB => {
            let optional = inner.get(11).is_some_and(|b| b & 0x01 != 0);
            let skip = if optional { 20 } else { 12 };
            LinkError::need("ERSPAN III", inner, skip)?;
            Ok(GrePayload::Ethernet(&inner[skip..]))
        }
        0x0800 | 0x86DD | 0x8847 => Ok(GrePayload::Ethertype(protocol, inner)),
        // Cisco WCCP redirection: IPv4, after a 4-byte redirect header in version 2 (none in
        // version 1, where the IP header's version nibble comes first).
        0x883E => {
            LinkError::need("WCCP", inner, 1)?;
            let skip = if inner[0] >> 4 == 4 { 0 } else { 4 };
            LinkError::need("WCCP", inner, skip)?;
            Ok(GrePayload::Ethertype(0x0800, &inner[skip..]))
        }
        // Aruba's range, after the EtherTypes above that fall inside it.
        0x8200..=0x8FFF => Ok(GrePayload::Ieee80211(inner)),
        _ => Err(LinkError::NoPayload("GRE with a protocol not decoded")),
    }
}

/// PPTP's enhanced GRE: the key holds the payload length and the call ID; sequence and
/// acknowledgement numbers are each optional, and a packet with no payload only acknowledges.
fn enhanced(d: &[u8], flags: u16, protocol: u16) -> Result<GrePayload<'_>, LinkError> {
    if protocol != PPP || flags & KEY == 0 || flags & (CHECKSUM | ROUTING) != 0 {
        return Err(LinkError::Malformed(
            "enhanced GRE (version 1) without PPP, without its key, or with checksum or routing",
        ));
    }
    let payload_len = usize::from(u16::from_be_bytes([
        *d.get(4).unwrap_or(&0),
        *d.get(5).unwrap_or(&0),
    ]));
    let mut header_len = 8;
    if flags & SEQUENCE != 0 {
        header_len += 4;
    }
    if flags & ACK != 0 {
        header_len += 4;
    }
    LinkError::need("enhanced GRE", d, header_len)?;
    if flags & SEQUENCE == 0 || payload_len == 0 {
        return Err(LinkError::NoPayload("PPTP GRE acknowledgement"));
    }
    // The payload length field bounds the PPP frame; a short capture keeps what it has.
    let rest = &d[header_len..];
    Ok(GrePayload::Ppp(&rest[..payload_len.min(rest.len())]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version0_with_optional_fields_and_erspan() {
        assert_eq!(
            decapsulate(&[0, 0, 0x08, 0x00, 0x45]),
            Ok(GrePayload::Ethertype(0x0800, &[0x45][..]))
        );
        // Checksum and key present: 8 more bytes.
        let mut keyed = vec![0xA0, 0, 0x65, 0x58];
        keyed.extend_from_slice(&[0; 8]);
        keyed.push(0xEE);
        assert_eq!(decapsulate(&keyed), Ok(GrePayload::Ethernet(&[0xEE][..])));
        // ERSPAN II with the sequence number: 4 + 4 + 8 bytes before the mirrored frame.
        let mut erspan = vec![0x10, 0, 0x88, 0xBE, 0, 0, 0, 1];
        erspan.extend_from_slice(&[0; 8]);
        erspan.push(0xEE);
        assert_eq!(decapsulate(&erspan), Ok(GrePayload::Ethernet(&[0xEE][..])));
        assert_eq!(
            decapsulate(&[0xB0, 0, 0x08, 0x00, 0, 0]),
            Err(LinkError::Short {
                layer: "GRE",
                needed_bytes: 16,
                available_bytes: 6
            })
        );
        assert!(matches!(
            decapsulate(&[0, 0, 0x12, 0x34]),
            Err(LinkError::NoPayload(_))
        ));
        assert_eq!(
            decapsulate(&[0, 0, 0x88, 0x3E, 0x05, 0x59, 0, 0x48, 0x45]),
            Ok(GrePayload::Ethertype(0x0800, &[0x45][..]))
        );
        assert_eq!(
            decapsulate(&[0, 0, 0x88, 0x3E, 0x45]),
            Ok(GrePayload::Ethertype(0x0800, &[0x45][..]))
        );
        assert_eq!(
            decapsulate(&[0, 0, 0x82, 0x40, 0x88]),
            Ok(GrePayload::Ieee80211(&[0x88][..]))
        );
    }

    /// An enhanced GRE header: sequence and ack numbers when asked, then `payload`.
    fn pptp(seq: bool, ack: bool, payload: &[u8]) -> Vec<u8> {
        let mut flags = KEY | 1;
        if seq {
            flags |= SEQUENCE;
        }
        if ack {
            flags |= ACK;
        }
        let mut g = flags.to_be_bytes().to_vec();
        g.extend_from_slice(&PPP.to_be_bytes());
        g.extend_from_slice(&(payload.len() as u16).to_be_bytes());
        g.extend_from_slice(&[0x12, 0x34]); // call ID
        if seq {
            g.extend_from_slice(&7u32.to_be_bytes());
        }
        if ack {
            g.extend_from_slice(&6u32.to_be_bytes());
        }
        g.extend_from_slice(payload);
        g
    }

    #[test]
    fn enhanced_gre_gives_its_ppp_frame() {
        let ppp = [0xFF, 0x03, 0x00, 0x21, 0x45];
        assert_eq!(
            decapsulate(&pptp(true, false, &ppp)),
            Ok(GrePayload::Ppp(&ppp[..]))
        );
        assert_eq!(
            decapsulate(&pptp(true, true, &ppp)),
            Ok(GrePayload::Ppp(&ppp[..]))
        );
        // Padding after the payload length is not part of the frame.
        let mut padded = pptp(true, true, &[0x21, 0x45]);
        padded.extend_from_slice(&[0, 0]);
        assert_eq!(decapsulate(&padded), Ok(GrePayload::Ppp(&[0x21, 0x45][..])));
        assert_eq!(
            decapsulate(&pptp(false, true, &[])),
            Err(LinkError::NoPayload("PPTP GRE acknowledgement"))
        );
        let full = pptp(true, true, &ppp);
        assert_eq!(
            decapsulate(&full[..14]),
            Err(LinkError::Short {
                layer: "enhanced GRE",
                needed_bytes: 16,
                available_bytes: 14
            })
        );
        let mut no_key = full.clone();
        no_key[0] &= !0x20;
        assert!(matches!(decapsulate(&no_key), Err(LinkError::Malformed(_))));
        for len in 0..full.len() {
            let _ = decapsulate(&full[..len]);
        }
    }
}
