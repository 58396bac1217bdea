//! Why a link-layer or tunnel header could not be stripped: cut short (with what was needed
//! and what was there), carrying no network-layer packet (named for the refusal), or
//! unreadable by design (encrypted 802.11). Shared by the decoders in `link` and by `packet`.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Frames that are well formed but cannot be decoded, counted apart from non-IP frames
/// because they may well carry IP: the user should know the capture hides traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Undecodable {
    /// 802.11 data frames with the Protected bit set (WEP, WPA/TKIP, WPA2/CCMP): without the
    /// key their payload is noise.
    Encrypted80211,
    /// A PPI header announcing a link type other than 802.11 or Ethernet.
    PpiLinkType { link_type: u32 },
}

impl fmt::Display for Undecodable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Undecodable::Encrypted80211 => {
                f.write_str("802.11 frames encrypted (WEP/WPA, unreadable without the key)")
            }
            Undecodable::PpiLinkType { link_type } => {
                write!(f, "PPI frames of link type {link_type}, not decoded")
            }
        }
    }
}

/// Why a header could not be stripped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkError {
    /// The frame ends inside `layer`'s header.
    Short {
        layer: &'static str,
        needed_bytes: usize,
        available_bytes: usize,
    },
    /// A readable frame that carries no network-layer packet (802.11 management, a GRE
    /// acknowledgement, ...): what it is, in analyst words.
    NoPayload(&'static str),
    /// A header whose fields contradict each other or the standard: what is wrong.
    Malformed(&'static str),
    Undecodable(Undecodable),
}

impl LinkError {
    /// `Short` when `data` holds fewer than `needed_bytes`.
    pub fn need(layer: &'static str, data: &[u8], needed_bytes: usize) -> Result<(), LinkError> {
        if data.len() < needed_bytes {
            Err(LinkError::Short {
                layer,
                needed_bytes,
                available_bytes: data.len(),
            })
        } else {
            Ok(())
        }
    }
}

impl fmt::Display for LinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LinkError::Short {
                layer,
                needed_bytes,
                available_bytes,
            } => write!(
                f,
                "{layer}: cut short, the header needs {needed_bytes} bytes and {available_bytes} were captured"
            ),
            LinkError::NoPayload(what) => f.write_str(what),
            LinkError::Malformed(what) => f.write_str(what),
            LinkError::Undecodable(u) => u.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_says_what_was_needed_and_what_was_there() {
        let e = LinkError::need("802.11", &[0; 10], 24).unwrap_err();
        assert_eq!(
            e.to_string(),
            "802.11: cut short, the header needs 24 bytes and 10 were captured"
        );
        assert_eq!(LinkError::need("802.11", &[0; 24], 24), Ok(()));
    }
}
