//! Cisco HDLC framing (link types 104, 205, and Cisco PPP in link type 50): an address byte
//! (0x0F unicast, 0x8F broadcast), a control byte (0x00) and a 2-byte protocol that is an
//! EtherType for the protocols that have one (IPv4, IPv6, MPLS). Cisco's own protocols are
//! named for refusals: SLARP (0x8035, address resolution and keepalives), CDP (0x2000) and OSI
//! (0xFEFE). Not here: standard (ISO) HDLC, byte stuffing, PPP (`ppp`).

use super::error::LinkError;

pub const ADDRESS_UNICAST: u8 = 0x0F;
pub const ADDRESS_BROADCAST: u8 = 0x8F;

/// The protocol and what follows the 4-byte header.
pub fn cisco(frame: &[u8]) -> Result<(u16, &[u8]), LinkError> {
    LinkError::need("Cisco HDLC", frame, 4)?;
    if !matches!(frame[0], ADDRESS_UNICAST | ADDRESS_BROADCAST) {
        return Err(LinkError::Malformed(
            "Cisco HDLC frame with an address other than 0x0F or 0x8F",
        ));
    }
    if frame[1] != 0 {
        return Err(LinkError::Malformed(
            "Cisco HDLC frame with a control byte other than 0x00",
        ));
    }
    Ok((u16::from_be_bytes([frame[2], frame[3]]), &frame[4..]))
}

/// Cisco's own protocols carried in HDLC, named; `None` for EtherTypes of other protocols.
pub fn cisco_kind(protocol: u16) -> Option<&'static str> {
    Some(match protocol {
        0x8035 => "Cisco SLARP",
        0x2000 => "CDP",
        0xFEFE => "OSI (IS-IS, ...)",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_is_checked_and_stripped() {
        assert_eq!(
            cisco(&[0x0F, 0x00, 0x08, 0x00, 0x45]),
            Ok((0x0800, &[0x45][..]))
        );
        assert_eq!(cisco(&[0x8F, 0x00, 0x80, 0x35]), Ok((0x8035, &[][..])));
        assert_eq!(
            cisco(&[0x0F, 0x00, 0x08]),
            Err(LinkError::Short {
                layer: "Cisco HDLC",
                needed_bytes: 4,
                available_bytes: 3
            })
        );
        assert!(matches!(
            cisco(&[0xFF, 0x03, 0x00, 0x21]),
            Err(LinkError::Malformed(_))
        ));
        assert!(matches!(
            cisco(&[0x0F, 0x03, 0x08, 0x00]),
            Err(LinkError::Malformed(_))
        ));
        assert_eq!(cisco_kind(0x8035), Some("Cisco SLARP"));
        assert_eq!(cisco_kind(0x0800), None);
    }
}
