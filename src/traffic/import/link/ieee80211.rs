//! IEEE 802.11 (Wi-Fi) data frames down to their LLC/SNAP EtherType, and the two capture
//! headers monitor-mode captures put in front of them: radiotap (link type 127) and PPI (192).
//!
//! Only data frames carry IP: management, control and "null" data frames are named for the
//! refusal, not decoded. Protected frames (WEP/WPA) are counted as undecodable, never guessed
//! at. An A-MSDU aggregate gives its first subframe, as Zeek reads it. Not here: the other
//! subframes of an A-MSDU, fragment reassembly, the radio fields
//! themselves (signal, rate: nothing the flows use), Prism and AVS headers.

use super::error::{LinkError, Undecodable};

/// The frame body of an 802.11 data frame with its SNAP EtherType.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapPayload<'a> {
    pub ethertype: u16,
    pub payload: &'a [u8],
}

fn le32(d: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(d.get(at..at + 4)?.try_into().ok()?))
}

/// Radiotap flags field: the frame ends with its 4-byte FCS.
const RADIOTAP_FLAG_FCS: u8 = 0x10;
/// Radiotap present-word bits: TSFT (8 bytes, 8-aligned), Flags (1 byte), more words follow.
const PRESENT_TSFT: u32 = 1 << 0;
const PRESENT_FLAGS: u32 = 1 << 1;
const PRESENT_EXT: u32 = 1 << 31;

/// Strips a radiotap header (its own length, `it_len`, says how much) and, when its flags
/// say so, the trailing FCS; returns the 802.11 frame.
pub fn strip_radiotap(frame: &[u8]) -> Result<&[u8], LinkError> {
    const LAYER: &str = "radiotap";
    LinkError::need(LAYER, frame, 8)?;
    if frame[0] != 0 {
        return Err(LinkError::Malformed(
            "radiotap header of an unknown version",
        ));
    }
    let header_len = usize::from(u16::from_le_bytes([frame[2], frame[3]]));
    if header_len < 8 {
        return Err(LinkError::Malformed(
            "radiotap header length under its 8-byte minimum",
        ));
    }
    LinkError::need(LAYER, frame, header_len)?;
    let header = &frame[..header_len];
    let mut body = &frame[header_len..];
    // The fields follow the chain of present words; only Flags is read, and it can only be
    // preceded by TSFT, which is aligned to 8 bytes from the header's start.
    let Some(first_present) = le32(header, 4) else {
        return Ok(body);
    };
    let mut at = 4;
    // At most 16 present words: a hostile header may set the extension bit throughout.
    for _ in 0..16 {
        let Some(word) = le32(header, at) else {
            return Ok(body);
        };
        at += 4;
        if word & PRESENT_EXT == 0 {
            break;
        }
    }
    if first_present & PRESENT_TSFT != 0 {
        at = at.next_multiple_of(8) + 8;
    }
    if first_present & PRESENT_FLAGS != 0 {
        if let Some(&flags) = header.get(at) {
            if flags & RADIOTAP_FLAG_FCS != 0 {
                body = &body[..body.len().saturating_sub(4)];
            }
        }
    }
    Ok(body)
}

/// What a PPI header wraps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PpiPayload<'a> {
    Ieee80211(&'a [u8]),
    Ethernet(&'a [u8]),
}

/// Strips a PPI header (its own length, `pph_len`, says how much); the link type it names
/// must be 802.11 (105) or Ethernet (1).
pub fn strip_ppi(frame: &[u8]) -> Result<PpiPayload<'_>, LinkError> {
    const LAYER: &str = "PPI";
    LinkError::need(LAYER, frame, 8)?;
    if frame[0] != 0 {
        return Err(LinkError::Malformed("PPI header of an unknown version"));
    }
    let header_len = usize::from(u16::from_le_bytes([frame[2], frame[3]]));
    if header_len < 8 {
        return Err(LinkError::Malformed(
            "PPI header length under its 8-byte minimum",
        ));
    }
    LinkError::need(LAYER, frame, header_len)?;
    let link_type = u32::from_le_bytes([frame[4], frame[5], frame[6], frame[7]]);
    let body = &frame[header_len..];
    match link_type {
        105 => Ok(PpiPayload::Ieee80211(body)),
        1 => Ok(PpiPayload::Ethernet(body)),
        _ => Err(LinkError::Undecodable(Undecodable::PpiLinkType {
            link_type,
        })),
    }
}

/// Frame-control flags (second byte).
const TO_DS: u8 = 0x01;
const FROM_DS: u8 = 0x02;
const PROTECTED: u8 = 0x40;
/// In QoS data frames, the +HTC/Order bit announces a 4-byte HT Control field.
const ORDER: u8 = 0x80;
/// QoS Control, first byte: the body is an A-MSDU aggregate.
const QOS_AMSDU: u8 = 0x80;
/// An A-MSDU subframe's header: destination, source, length.
const AMSDU_SUBFRAME_HEADER: usize = 14;

/// The LLC/SNAP payload of an 802.11 data frame (link type 105, or what radiotap and PPI
/// wrap). Errors name what the frame is when it carries no packet.
pub fn data_payload(frame: &[u8]) -> Result<SnapPayload<'_>, LinkError> {
    const LAYER: &str = "802.11";
    LinkError::need(LAYER, frame, 2)?;
    let (fc0, flags) = (frame[0], frame[1]);
    if fc0 & 0x03 != 0 {
        return Err(LinkError::Malformed("802.11 protocol version other than 0"));
    }
    let subtype = fc0 >> 4;
    match (fc0 >> 2) & 0x03 {
        0 => return Err(LinkError::NoPayload("802.11 management")),
        1 => return Err(LinkError::NoPayload("802.11 control")),
        3 => return Err(LinkError::NoPayload("802.11 extension")),
        _ => {}
    }
    // Subtypes with bit 2 set (Null, QoS Null, CF-Ack/Poll without data) carry no body.
    if subtype & 0x04 != 0 {
        return Err(LinkError::NoPayload("802.11 null data"));
    }
    if flags & PROTECTED != 0 {
        return Err(LinkError::Undecodable(Undecodable::Encrypted80211));
    }
    let qos = subtype & 0x08 != 0;
    // Frame control, duration, three addresses, sequence control; a fourth address when the
    // frame goes between two access points (wireless distribution system).
    let mut header_len = 24;
    if flags & (TO_DS | FROM_DS) == TO_DS | FROM_DS {
        header_len += 6;
    }
    let mut amsdu = false;
    if qos {
        LinkError::need(LAYER, frame, header_len + 2)?;
        amsdu = frame[header_len] & QOS_AMSDU != 0;
        header_len += 2;
        if flags & ORDER != 0 {
            header_len += 4;
        }
    }
    LinkError::need(LAYER, frame, header_len)?;
    // Fragment number (sequence control's low 4 bits): only the first fragment starts with
    // the LLC header.
    if frame[22] & 0x0F != 0 {
        return Err(LinkError::NoPayload("802.11 later fragment"));
    }
    if amsdu {
        // One packet per frame: the first subframe, past its destination, source and length.
        let body = &frame[header_len..];
        LinkError::need("802.11 A-MSDU subframe", body, AMSDU_SUBFRAME_HEADER)?;
        return snap(&body[AMSDU_SUBFRAME_HEADER..]);
    }
    snap(&frame[header_len..])
}

/// 802.2 LLC with a SNAP header: AA AA 03, an OUI (00 00 00 for RFC 1042, 00 00 F8 for
/// 802.1H bridge tunnelling), then the EtherType.
fn snap(body: &[u8]) -> Result<SnapPayload<'_>, LinkError> {
    const LAYER: &str = "802.2 LLC/SNAP";
    LinkError::need(LAYER, body, 3)?;
    if body[..3] != [0xAA, 0xAA, 0x03] {
        return Err(LinkError::NoPayload("802.11 data without SNAP (802.2 LLC)"));
    }
    LinkError::need(LAYER, body, 8)?;
    if !matches!(body[3..6], [0, 0, 0] | [0, 0, 0xF8]) {
        return Err(LinkError::NoPayload("802.11 data with a vendor SNAP OUI"));
    }
    Ok(SnapPayload {
        ethertype: u16::from_be_bytes([body[6], body[7]]),
        payload: &body[8..],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SNAP_IPV4: [u8; 8] = [0xAA, 0xAA, 0x03, 0, 0, 0, 0x08, 0x00];

    /// A data frame: subtype (0 data, 8 QoS data), flags byte, then the header's rest zeroed.
    fn data_frame(subtype: u8, flags: u8, body: &[u8]) -> Vec<u8> {
        let mut f = vec![(subtype << 4) | 0x08, flags];
        let mut header_len = 24;
        if flags & 0x03 == 0x03 {
            header_len += 6;
        }
        f.resize(header_len, 0);
        if subtype & 0x08 != 0 {
            f.extend_from_slice(&[0, 0]);
            if flags & ORDER != 0 {
                f.extend_from_slice(&[0; 4]);
            }
        }
        f.extend_from_slice(body);
        f
    }

    #[test]
    fn data_frames_in_every_header_form_give_the_snap_ethertype() {
        let body: Vec<u8> = SNAP_IPV4.iter().copied().chain([0x45, 1, 2]).collect();
        for (subtype, flags) in [
            (0, 0x01),        // to the AP
            (0, 0x02),        // from the AP
            (0, 0x03),        // between APs: four addresses
            (8, 0x01),        // QoS data
            (8, 0x03),        // QoS data, four addresses
            (8, 0x01 | 0x80), // QoS data with an HT Control field
        ] {
            let frame = data_frame(subtype, flags, &body);
            let p = data_payload(&frame).unwrap();
            assert_eq!(p.ethertype, 0x0800, "subtype {subtype} flags {flags:#x}");
            assert_eq!(p.payload, &[0x45, 1, 2]);
        }
    }

    #[test]
    fn frames_without_a_packet_are_named() {
        let beacon = [0x80, 0, 0, 0];
        assert_eq!(
            data_payload(&beacon),
            Err(LinkError::NoPayload("802.11 management"))
        );
        assert_eq!(
            data_payload(&[0xD4, 0]),
            Err(LinkError::NoPayload("802.11 control"))
        );
        // QoS Null (subtype 12).
        assert_eq!(
            data_payload(&data_frame(12, 1, &[])),
            Err(LinkError::NoPayload("802.11 null data"))
        );
        let protected = data_frame(8, 0x41, &[0; 16]);
        assert_eq!(
            data_payload(&protected),
            Err(LinkError::Undecodable(Undecodable::Encrypted80211))
        );
        let subframe: Vec<u8> = [0u8; 12]
            .into_iter()
            .chain([0, 9])
            .chain(SNAP_IPV4)
            .chain([0x45])
            .collect();
        let mut amsdu = data_frame(8, 0x01, &subframe);
        amsdu[24] = 0x80;
        assert_eq!(
            data_payload(&amsdu),
            Ok(SnapPayload {
                ethertype: 0x0800,
                payload: &[0x45]
            })
        );
        assert!(matches!(
            data_payload(&amsdu[..30]),
            Err(LinkError::Short {
                layer: "802.11 A-MSDU subframe",
                ..
            })
        ));
        let mut fragment = data_frame(0, 0x01, &[1, 2, 3]);
        fragment[22] = 0x01;
        assert_eq!(
            data_payload(&fragment),
            Err(LinkError::NoPayload("802.11 later fragment"))
        );
        assert_eq!(
            data_payload(&data_frame(0, 1, &[0x42, 0x42, 0x03])),
            Err(LinkError::NoPayload("802.11 data without SNAP (802.2 LLC)"))
        );
    }

    #[test]
    fn every_cut_of_a_data_frame_is_short_with_its_sizes_never_a_panic() {
        let frame = data_frame(8, 0x83, &SNAP_IPV4);
        for len in 0..frame.len() {
            match data_payload(&frame[..len]) {
                Err(LinkError::Short {
                    needed_bytes,
                    available_bytes,
                    ..
                }) => {
                    assert!(needed_bytes > available_bytes);
                }
                other => panic!("{len} bytes: {other:?}"),
            }
        }
        assert_eq!(
            data_payload(&frame[..20]).unwrap_err().to_string(),
            "802.11: cut short, the header needs 32 bytes and 20 were captured"
        );
    }

    /// A radiotap header with TSFT and Flags present.
    fn radiotap(flags: u8) -> Vec<u8> {
        let mut h = vec![0, 0, 24, 0];
        h.extend_from_slice(&(PRESENT_TSFT | PRESENT_FLAGS).to_le_bytes());
        h.extend_from_slice(&[0; 8]); // TSFT at offset 8
        h.push(flags); // Flags at 16
        h.resize(24, 0);
        h
    }

    #[test]
    fn radiotap_is_skipped_by_its_length_and_its_fcs_dropped() {
        let inner = data_frame(0, 1, &SNAP_IPV4);
        let mut frame = radiotap(0);
        frame.extend_from_slice(&inner);
        assert_eq!(strip_radiotap(&frame), Ok(&inner[..]));
        let mut with_fcs = radiotap(RADIOTAP_FLAG_FCS);
        with_fcs.extend_from_slice(&inner);
        with_fcs.extend_from_slice(&[0xDE, 0xAD, 0xBE, 0xEF]);
        assert_eq!(strip_radiotap(&with_fcs), Ok(&inner[..]));
        // An extended present bitmap moves the fields by 4 bytes: TSFT realigns to 16.
        let mut ext = vec![0, 0, 32, 0];
        ext.extend_from_slice(&(PRESENT_TSFT | PRESENT_FLAGS | PRESENT_EXT).to_le_bytes());
        ext.extend_from_slice(&0u32.to_le_bytes());
        ext.extend_from_slice(&[0; 4]); // padding to TSFT's 8-byte alignment
        ext.extend_from_slice(&[0; 8]); // TSFT at 16
        ext.push(RADIOTAP_FLAG_FCS); // Flags at 24
        ext.resize(32, 0);
        ext.extend_from_slice(&inner);
        ext.extend_from_slice(&[0; 4]);
        assert_eq!(strip_radiotap(&ext), Ok(&inner[..]));
        // A header claiming more than the frame holds.
        let mut long = radiotap(0);
        long[2] = 200;
        assert_eq!(
            strip_radiotap(&long),
            Err(LinkError::Short {
                layer: "radiotap",
                needed_bytes: 200,
                available_bytes: 24
            })
        );
        // Every extension bit set: bounded, no panic.
        let hostile = [0, 0, 40, 0]
            .into_iter()
            .chain([0xFF; 36])
            .collect::<Vec<_>>();
        assert!(strip_radiotap(&hostile).is_ok());
    }

    #[test]
    fn ppi_must_wrap_80211_or_ethernet() {
        let mut frame = vec![0, 0, 8, 0, 105, 0, 0, 0];
        frame.extend_from_slice(&[1, 2, 3]);
        assert_eq!(strip_ppi(&frame), Ok(PpiPayload::Ieee80211(&[1, 2, 3])));
        frame[4] = 1;
        assert_eq!(strip_ppi(&frame), Ok(PpiPayload::Ethernet(&[1, 2, 3])));
        frame[4] = 107;
        assert_eq!(
            strip_ppi(&frame),
            Err(LinkError::Undecodable(Undecodable::PpiLinkType {
                link_type: 107
            }))
        );
        assert!(matches!(
            strip_ppi(&frame[..5]),
            Err(LinkError::Short { .. })
        ));
    }

    #[test]
    fn any_bytes_never_panic() {
        let mut state = 0x1234_5678u32;
        for len in 0..80 {
            for _ in 0..200 {
                let bytes: Vec<u8> = (0..len)
                    .map(|_| {
                        state ^= state << 13;
                        state ^= state >> 17;
                        state ^= state << 5;
                        state as u8
                    })
                    .collect();
                let _ = data_payload(&bytes);
                let _ = strip_radiotap(&bytes);
                let _ = strip_ppi(&bytes);
            }
        }
    }
}
