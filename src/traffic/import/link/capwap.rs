//! CAPWAP data channel (RFC 5415, UDP port 5247): access points tunnel their stations' frames
//! to the wireless controller in it, as 802.3 (Ethernet) frames or as native 802.11 frames
//! (the T bit, with wireless binding 1 = IEEE 802.11). The header's own length field (HLEN,
//! in 4-byte words) covers the optional radio MAC address and wireless information.
//! Not here: the control channel (port 5246), DTLS-protected data (named, not decrypted),
//! CAPWAP fragment reassembly (later fragments are named and left out).

use super::error::LinkError;

/// What a CAPWAP data packet carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CapwapPayload<'a> {
    Ethernet(&'a [u8]),
    Ieee80211(&'a [u8]),
}

/// Wireless binding identifier of IEEE 802.11 (RFC 5416).
const WBID_IEEE80211: u32 = 1;

pub fn decapsulate(d: &[u8]) -> Result<CapwapPayload<'_>, LinkError> {
    const LAYER: &str = "CAPWAP";
    LinkError::need(LAYER, d, 8)?;
    // Preamble: version 0, type 0 (a CAPWAP header follows) or 1 (DTLS).
    match d[0] {
        0x00 => {}
        0x01 => return Err(LinkError::NoPayload("CAPWAP data protected by DTLS")),
        _ => {
            return Err(LinkError::Malformed(
                "CAPWAP preamble of an unknown version",
            ))
        }
    }
    let word = u32::from_be_bytes([d[0], d[1], d[2], d[3]]);
    let header_len = ((word >> 19) & 0x1F) as usize * 4;
    let wbid = (word >> 9) & 0x1F;
    let native = word & 0x100 != 0;
    let fragment = word & 0x80 != 0;
    if header_len < 8 {
        return Err(LinkError::Malformed(
            "CAPWAP header length under its 8-byte minimum",
        ));
    }
    LinkError::need(LAYER, d, header_len)?;
    // Fragment offset (second word's low 13 bits, in 8-byte units): only the first fragment
    // starts with the frame's header.
    if fragment && u16::from_be_bytes([d[6], d[7]]) >> 3 != 0 {
        return Err(LinkError::NoPayload("CAPWAP later fragment"));
    }
    let body = &d[header_len..];
    match (native, wbid) {
        (false, _) => Ok(CapwapPayload::Ethernet(body)),
        (true, WBID_IEEE80211) => Ok(CapwapPayload::Ieee80211(body)),
        (true, _) => Err(LinkError::NoPayload(
            "CAPWAP native frame of a wireless binding other than 802.11",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A CAPWAP header of `words` 4-byte words, the T bit from `native`, WBID 1.
    fn header(words: u32, native: bool, fragment_offset: u16) -> Vec<u8> {
        let mut word = (words << 19) | (WBID_IEEE80211 << 9);
        if native {
            word |= 0x100;
        }
        if fragment_offset > 0 {
            word |= 0x80;
        }
        let mut h = word.to_be_bytes().to_vec();
        h.extend_from_slice(&[0, 1]);
        h.extend_from_slice(&(fragment_offset << 3).to_be_bytes());
        h.resize(words as usize * 4, 0xAB);
        h
    }

    #[test]
    fn header_length_and_t_bit_say_where_and_what() {
        let frame = [0xEE, 0xEF];
        let plain = [header(2, false, 0), frame.to_vec()].concat();
        assert_eq!(decapsulate(&plain), Ok(CapwapPayload::Ethernet(&frame[..])));
        // With a radio MAC address and wireless information: HLEN 4.
        let native = [header(4, true, 0), frame.to_vec()].concat();
        assert_eq!(
            decapsulate(&native),
            Ok(CapwapPayload::Ieee80211(&frame[..]))
        );
        let later = [header(2, false, 185), frame.to_vec()].concat();
        assert_eq!(
            decapsulate(&later),
            Err(LinkError::NoPayload("CAPWAP later fragment"))
        );
        assert_eq!(
            decapsulate(&native[..12]),
            Err(LinkError::Short {
                layer: "CAPWAP",
                needed_bytes: 16,
                available_bytes: 12
            })
        );
        let mut dtls = plain.clone();
        dtls[0] = 0x01;
        assert!(matches!(decapsulate(&dtls), Err(LinkError::NoPayload(_))));
        assert!(matches!(
            decapsulate(&[0, 0x08, 0, 0, 0, 0, 0, 0]),
            Err(LinkError::Malformed(_))
        ));
        for len in 0..native.len() {
            let _ = decapsulate(&native[..len]);
        }
    }
}
