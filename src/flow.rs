//! A network flow as Zeek's conn.log describes it, plus its ground-truth label.
//!
//! This is the one record type every part of the pipeline shares: the generator produces it,
//! importers (later) parse into it, features are computed from it and the report cites it.
//! It carries no scores and no derived features.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::IpAddr;

/// Transport protocol, as Zeek's `proto` column spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    Tcp,
    Udp,
    Icmp,
}

impl Proto {
    pub fn as_str(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
            Proto::Icmp => "icmp",
        }
    }
}

/// Application protocol detected on the connection (Zeek's `service`); `None` is Zeek's `-`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Service {
    #[serde(rename = "-")]
    None,
    Http,
    Ssl,
    Dns,
    Ntp,
    Ssh,
    Smtp,
    Imap,
}

impl Service {
    pub fn as_str(self) -> &'static str {
        match self {
            Service::None => "-",
            Service::Http => "http",
            Service::Ssl => "ssl",
            Service::Dns => "dns",
            Service::Ntp => "ntp",
            Service::Ssh => "ssh",
            Service::Smtp => "smtp",
            Service::Imap => "imap",
        }
    }
}

/// Zeek's `conn_state`: how the connection ended, from the packets seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ConnState {
    /// Connection attempt seen, no reply.
    S0,
    /// Established, not terminated.
    S1,
    /// Normal establishment and termination.
    SF,
    /// Connection attempt rejected (RST in reply to SYN).
    REJ,
    /// Established, originator aborted (sent a RST).
    RSTO,
    /// Established, responder aborted.
    RSTR,
    /// Originator sent a SYN followed by a FIN, no SYN-ACK from the responder.
    SH,
    /// No SYN seen, just midstream traffic (also Zeek's state for UDP/ICMP with replies).
    OTH,
}

impl ConnState {
    pub fn as_str(self) -> &'static str {
        match self {
            ConnState::S0 => "S0",
            ConnState::S1 => "S1",
            ConnState::SF => "SF",
            ConnState::REJ => "REJ",
            ConnState::RSTO => "RSTO",
            ConnState::RSTR => "RSTR",
            ConnState::SH => "SH",
            ConnState::OTH => "OTH",
        }
    }

    /// True when the responder never accepted the connection.
    pub fn is_failed_attempt(self) -> bool {
        matches!(self, ConnState::S0 | ConnState::REJ | ConnState::SH)
    }
}

/// The kinds of attack the generator can inject (more arrive with the generator issue).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttackKind {
    PortScan,
    SynFlood,
    BruteForce,
}

impl AttackKind {
    pub const ALL: [AttackKind; 3] = [
        AttackKind::PortScan,
        AttackKind::SynFlood,
        AttackKind::BruteForce,
    ];

    /// The snake_case name used in URLs, JSON and CSV.
    pub fn as_str(self) -> &'static str {
        match self {
            AttackKind::PortScan => "port_scan",
            AttackKind::SynFlood => "syn_flood",
            AttackKind::BruteForce => "brute_force",
        }
    }

    /// A human label for the UI.
    pub fn title(self) -> &'static str {
        match self {
            AttackKind::PortScan => "Port scan",
            AttackKind::SynFlood => "SYN flood",
            AttackKind::BruteForce => "SSH brute force",
        }
    }

    pub fn parse(name: &str) -> Option<AttackKind> {
        AttackKind::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(name.trim()))
    }
}

impl fmt::Display for AttackKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Ground truth for one flow. Serialized as `"benign"` or the attack kind's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum Label {
    Benign,
    Attack(AttackKind),
}

impl Label {
    pub fn is_attack(self) -> bool {
        matches!(self, Label::Attack(_))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Label::Benign => "benign",
            Label::Attack(kind) => kind.as_str(),
        }
    }
}

impl From<Label> for String {
    fn from(label: Label) -> String {
        label.as_str().to_string()
    }
}

impl TryFrom<String> for Label {
    type Error = String;
    fn try_from(s: String) -> Result<Label, String> {
        if s.eq_ignore_ascii_case("benign") {
            return Ok(Label::Benign);
        }
        AttackKind::parse(&s)
            .map(Label::Attack)
            .ok_or_else(|| format!("unknown label {s:?}"))
    }
}

/// One connection, with Zeek conn.log's core fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlowRecord {
    /// Start time, seconds since the Unix epoch.
    pub ts: f64,
    pub src_ip: IpAddr,
    pub src_port: u16,
    pub dst_ip: IpAddr,
    pub dst_port: u16,
    pub proto: Proto,
    pub service: Service,
    pub duration_s: f64,
    /// Payload bytes sent by the originator (Zeek `orig_bytes`).
    pub bytes_out: u64,
    /// Payload bytes sent by the responder (Zeek `resp_bytes`).
    pub bytes_in: u64,
    pub pkts_out: u64,
    pub pkts_in: u64,
    pub conn_state: ConnState,
    pub label: Label,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_round_trips_through_json() {
        for label in [Label::Benign, Label::Attack(AttackKind::SynFlood)] {
            let json = serde_json::to_string(&label).unwrap();
            let back: Label = serde_json::from_str(&json).unwrap();
            assert_eq!(back, label);
        }
        assert_eq!(
            serde_json::to_string(&Label::Attack(AttackKind::PortScan)).unwrap(),
            "\"port_scan\""
        );
        assert!(serde_json::from_str::<Label>("\"teleport\"").is_err());
    }

    #[test]
    fn attack_kind_parses_its_own_names_only() {
        for kind in AttackKind::ALL {
            assert_eq!(AttackKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(AttackKind::parse(" Port_Scan "), Some(AttackKind::PortScan));
        assert_eq!(AttackKind::parse("scan"), None);
    }

    #[test]
    fn zeek_spellings() {
        assert_eq!(serde_json::to_string(&Service::None).unwrap(), "\"-\"");
        assert_eq!(serde_json::to_string(&ConnState::REJ).unwrap(), "\"REJ\"");
        assert_eq!(serde_json::to_string(&Proto::Udp).unwrap(), "\"udp\"");
    }
}
