//! Link layers and tunnel framings below IP that need more than a fixed offset: 802.11 with
//! its capture headers (radiotap, PPI), Cisco HDLC, PPP's framing and protocol field, GRE,
//! CAPWAP's data channel.
//!
//! Each file strips one family's header and says what comes next (an EtherType, a PPP frame)
//! with the bytes that follow; `packet` composes them and decodes IP. Files here never import
//! `packet`, so the layers stay a tree. Not here: IP, transport, flow state.

pub mod capwap;
pub mod error;
pub mod gre;
pub mod hdlc;
pub mod ieee80211;
pub mod ppp;
