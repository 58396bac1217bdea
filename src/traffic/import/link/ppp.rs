//! PPP's framing as captures show it: the optional HDLC address and control bytes (FF 03) and
//! the protocol field, two bytes or one when compressed (RFC 1661 protocol-field compression:
//! a full protocol number has an even first byte, so an odd first byte is a whole one-byte
//! protocol, 0x21 for IPv4). Used for PPP (link types 9, 50, 204), PPPoE sessions and PPTP's
//! GRE. Not here: LCP/IPCP negotiation, Van Jacobson compressed TCP, multilink, byte stuffing
//! (captures hold frames after it is undone).

use super::error::LinkError;

pub const IPV4: u16 = 0x0021;
pub const IPV6: u16 = 0x0057;
pub const MPLS_UNICAST: u16 = 0x0281;
pub const MPLS_MULTICAST: u16 = 0x0283;

/// The frame without its address and control bytes, when they are there (peers may agree to
/// leave them out: address-and-control-field compression).
pub fn strip_address_control(frame: &[u8]) -> &[u8] {
    frame.strip_prefix(&[0xFF, 0x03]).unwrap_or(frame)
}

/// The protocol number and what follows it.
pub fn protocol(data: &[u8]) -> Result<(u16, &[u8]), LinkError> {
    const LAYER: &str = "PPP protocol field";
    LinkError::need(LAYER, data, 1)?;
    if data[0] & 0x01 != 0 {
        return Ok((u16::from(data[0]), &data[1..]));
    }
    LinkError::need(LAYER, data, 2)?;
    Ok((u16::from_be_bytes([data[0], data[1]]), &data[2..]))
}

/// What a PPP protocol number carries, for refusals of captures without IP.
pub fn kind(protocol: u16) -> String {
    match protocol {
        0xC021 => "PPP LCP".into(),
        0xC023 | 0xC223 => "PPP authentication".into(),
        0x002D | 0x002F => "PPP Van Jacobson compressed TCP/IP".into(),
        0x00FD => "PPP compressed datagram (CCP)".into(),
        0x003D => "PPP multilink fragment".into(),
        p if p >= 0x8000 => "PPP control".into(),
        p => format!("PPP protocol {p:#06x}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_and_compressed_protocol_fields() {
        assert_eq!(protocol(&[0x00, 0x21, 0x45]), Ok((IPV4, &[0x45][..])));
        assert_eq!(protocol(&[0x21, 0x45]), Ok((IPV4, &[0x45][..])));
        assert_eq!(protocol(&[0x57, 0x60]), Ok((IPV6, &[0x60][..])));
        assert_eq!(protocol(&[0xC0, 0x21]), Ok((0xC021, &[][..])));
        assert_eq!(
            protocol(&[0x00]),
            Err(LinkError::Short {
                layer: "PPP protocol field",
                needed_bytes: 2,
                available_bytes: 1
            })
        );
        assert!(matches!(protocol(&[]), Err(LinkError::Short { .. })));
        assert_eq!(strip_address_control(&[0xFF, 0x03, 0x21]), &[0x21]);
        assert_eq!(strip_address_control(&[0x21, 0x45]), &[0x21, 0x45]);
        assert_eq!(kind(0xC021), "PPP LCP");
        assert_eq!(kind(0x002D), "PPP Van Jacobson compressed TCP/IP");
    }
}
