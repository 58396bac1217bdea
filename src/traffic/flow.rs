//! A network flow as Zeek's conn.log describes it, plus its ground-truth label.
//!
//! This is the one record type every part of the pipeline shares: the generator produces it,
//! importers (later) parse into it, features are computed from it and the report cites it.
//! It carries no scores and no derived features.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::IpAddr;

/// Transport protocol, as Zeek's `proto` column spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Proto {
    Tcp,
    Udp,
    Icmp,
    /// Zeek's `unknown_transport`: any other IP protocol.
    Unknown,
}

crate::util::serde_names::serde_by_name!(Proto, "a transport protocol");

impl Proto {
    pub const ALL: [Proto; 4] = [Proto::Tcp, Proto::Udp, Proto::Icmp, Proto::Unknown];

    pub fn as_str(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
            Proto::Icmp => "icmp",
            Proto::Unknown => "unknown_transport",
        }
    }

    /// Zeek's spelling, case-insensitive; `icmp6`/`ipv6-icmp` count as ICMP.
    pub fn parse(name: &str) -> Option<Proto> {
        match name.trim().to_ascii_lowercase().as_str() {
            "tcp" | "6" => Some(Proto::Tcp),
            "udp" | "17" => Some(Proto::Udp),
            "icmp" | "1" | "icmp6" | "icmpv6" | "ipv6-icmp" | "58" => Some(Proto::Icmp),
            "unknown_transport" => Some(Proto::Unknown),
            _ => None,
        }
    }
}

/// Application protocol detected on the connection (Zeek's `service`); `None` is Zeek's `-`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    None,
    Http,
    Ssl,
    Dns,
    Ntp,
    Ssh,
    Smtp,
    Imap,
    Smb,
    Rdp,
    Ftp,
    Dhcp,
    Krb,
    Ldap,
    Snmp,
    Irc,
    /// Zeek named a service this enum does not list.
    Other,
}

crate::util::serde_names::serde_by_name!(Service, "a service name");

impl Service {
    pub const ALL: [Service; 17] = [
        Service::None,
        Service::Http,
        Service::Ssl,
        Service::Dns,
        Service::Ntp,
        Service::Ssh,
        Service::Smtp,
        Service::Imap,
        Service::Smb,
        Service::Rdp,
        Service::Ftp,
        Service::Dhcp,
        Service::Krb,
        Service::Ldap,
        Service::Snmp,
        Service::Irc,
        Service::Other,
    ];

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
            Service::Smb => "smb",
            Service::Rdp => "rdp",
            Service::Ftp => "ftp",
            Service::Dhcp => "dhcp",
            Service::Krb => "krb",
            Service::Ldap => "ldap",
            Service::Snmp => "snmp",
            Service::Irc => "irc",
            Service::Other => "other",
        }
    }

    /// Zeek's `service` column: `-`/empty is none; of a comma list (`ssl,http`) the first
    /// known name wins; aliases (`https`, `krb_tcp`, `ftp-data`, ...) fold in; anything else
    /// is `Other`.
    pub fn parse(text: &str) -> Service {
        let text = text.trim();
        if text.is_empty() || text == "-" || text == "(empty)" {
            return Service::None;
        }
        let mut first_other = false;
        for part in text.split(',') {
            let known = match part.trim().to_ascii_lowercase().as_str() {
                "http" | "www" => Some(Service::Http),
                "ssl" | "tls" | "https" | "quic" => Some(Service::Ssl),
                "dns" | "domain" | "mdns" => Some(Service::Dns),
                "ntp" => Some(Service::Ntp),
                "ssh" => Some(Service::Ssh),
                "smtp" | "smtps" => Some(Service::Smtp),
                "imap" | "imaps" | "pop3" => Some(Service::Imap),
                "smb" | "netbios" | "dce_rpc" => Some(Service::Smb),
                "rdp" | "rdpeudp" => Some(Service::Rdp),
                "ftp" | "ftp-data" | "ftp_data" => Some(Service::Ftp),
                "dhcp" => Some(Service::Dhcp),
                "krb" | "krb_tcp" | "kerberos" => Some(Service::Krb),
                "ldap" | "ldap_tcp" | "ldap_udp" => Some(Service::Ldap),
                "snmp" => Some(Service::Snmp),
                "irc" => Some(Service::Irc),
                _ => None,
            };
            match known {
                Some(service) => return service,
                None => first_other = true,
            }
        }
        if first_other {
            Service::Other
        } else {
            Service::None
        }
    }
}

/// Zeek's `conn_state`: how the connection ended, from the packets seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConnState {
    /// Connection attempt seen, no reply.
    S0,
    /// Established, not terminated.
    S1,
    /// Established, originator attempted close, no reply from the responder.
    S2,
    /// Established, responder attempted close, no reply from the originator.
    S3,
    /// Normal establishment and termination.
    SF,
    /// Connection attempt rejected (RST in reply to SYN).
    REJ,
    /// Established, originator aborted (sent a RST).
    RSTO,
    /// Established, responder aborted.
    RSTR,
    /// Originator sent a SYN then a RST, no SYN-ACK from the responder.
    RSTOS0,
    /// Responder sent a SYN-ACK then a RST, no SYN from the originator seen.
    RSTRH,
    /// Originator sent a SYN followed by a FIN, no SYN-ACK from the responder.
    SH,
    /// Responder sent a SYN-ACK followed by a FIN, no SYN from the originator seen.
    SHR,
    /// No SYN seen, just midstream traffic (also Zeek's state for UDP/ICMP with replies).
    OTH,
}

crate::util::serde_names::serde_by_name!(ConnState, "a Zeek conn_state");

impl ConnState {
    pub const ALL: [ConnState; 13] = [
        ConnState::S0,
        ConnState::S1,
        ConnState::S2,
        ConnState::S3,
        ConnState::SF,
        ConnState::REJ,
        ConnState::RSTO,
        ConnState::RSTR,
        ConnState::RSTOS0,
        ConnState::RSTRH,
        ConnState::SH,
        ConnState::SHR,
        ConnState::OTH,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ConnState::S0 => "S0",
            ConnState::S1 => "S1",
            ConnState::S2 => "S2",
            ConnState::S3 => "S3",
            ConnState::SF => "SF",
            ConnState::REJ => "REJ",
            ConnState::RSTO => "RSTO",
            ConnState::RSTR => "RSTR",
            ConnState::RSTOS0 => "RSTOS0",
            ConnState::RSTRH => "RSTRH",
            ConnState::SH => "SH",
            ConnState::SHR => "SHR",
            ConnState::OTH => "OTH",
        }
    }

    /// Zeek's spelling, case-insensitive.
    pub fn parse(name: &str) -> Option<ConnState> {
        let name = name.trim();
        ConnState::ALL
            .into_iter()
            .find(|s| s.as_str().eq_ignore_ascii_case(name))
    }

    /// True when the responder never accepted the connection.
    pub fn is_failed_attempt(self) -> bool {
        matches!(
            self,
            ConnState::S0 | ConnState::REJ | ConnState::SH | ConnState::RSTOS0
        )
    }

    /// True when either side aborted an established connection with a RST.
    pub fn is_reset(self) -> bool {
        matches!(
            self,
            ConnState::RSTO | ConnState::RSTR | ConnState::RSTOS0 | ConnState::RSTRH
        )
    }
}

/// Zeek's `history` letters (`ShADadFf`, ...), held inline so a flow stays allocation-free.
/// Longer histories keep their first `ConnHistory::CAPACITY` letters; Zeek itself repeats a
/// letter only at powers of ten, so real histories rarely come close.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ConnHistory {
    len: u8,
    letters: [u8; ConnHistory::CAPACITY],
}

impl ConnHistory {
    pub const CAPACITY: usize = 15;

    /// The empty history (Zeek's `-`).
    pub const EMPTY: ConnHistory = ConnHistory {
        len: 0,
        letters: [0; ConnHistory::CAPACITY],
    };

    /// Keeps the ASCII letters of `text` (Zeek's alphabet is ASCII letters and `^`), up to
    /// the capacity; `-` and `(empty)` are the empty history.
    pub fn new(text: &str) -> ConnHistory {
        let mut history = ConnHistory::EMPTY;
        if text == "-" || text == "(empty)" {
            return history;
        }
        for b in text.bytes() {
            if b.is_ascii_alphabetic() || b == b'^' {
                history.push(b);
            }
        }
        history
    }

    /// Appends a letter; a full history ignores it.
    pub fn push(&mut self, letter: u8) {
        if (self.len as usize) < ConnHistory::CAPACITY {
            self.letters[self.len as usize] = letter;
            self.len += 1;
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The letters, or `-` when there are none (Zeek's unset field).
    pub fn as_str(&self) -> &str {
        if self.len == 0 {
            return "-";
        }
        // Only ASCII is ever stored.
        std::str::from_utf8(&self.letters[..self.len as usize]).unwrap_or("-")
    }
}

impl fmt::Debug for ConnHistory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ConnHistory({:?})", self.as_str())
    }
}

impl fmt::Display for ConnHistory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ConnHistory {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ConnHistory {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<ConnHistory, D::Error> {
        let text = String::deserialize(d)?;
        Ok(ConnHistory::new(&text))
    }
}

/// Which part an endpoint plays in an attack, from the connection originator's side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrigRole {
    /// Benign traffic, or ground truth unknown.
    #[default]
    None,
    /// The originator is the attacker and the responder its victim (scans, floods, logins).
    Attacker,
    /// The originator is the victim, talking to the attacker (beacons, exfiltration from a
    /// compromised host).
    Victim,
}

/// The kinds of attack the generator can inject. The first three keep their original names
/// (`port_scan` is the vertical scan, `brute_force` the SSH one) so old links still work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AttackKind {
    /// Vertical scan: many ports of one host (SYN, connect or UDP probes).
    PortScan,
    /// Spoofed-source SYN flood (DDoS) on one public port.
    SynFlood,
    /// SSH password guessing.
    BruteForce,
    /// Horizontal scan: one port across many hosts.
    HorizontalScan,
    /// RDP password guessing.
    RdpBruteForce,
    /// Large upload from a compromised host to a rare external address.
    Exfiltration,
    /// A compromised host calling home on a period with jitter.
    C2Beacon,
    /// Data smuggled in DNS queries and TXT answers for one domain.
    DnsTunnel,
    /// A compromised host fanning out to internal SMB/RDP.
    LateralMovement,
    /// ICMP echo requests across the internal address space.
    IcmpSweep,
    /// Slow HTTP DoS: many long, nearly idle connections (slowloris).
    Slowloris,
    /// A compromised server holding a long connection to a mining pool.
    CryptoMining,
}

crate::util::serde_names::serde_by_name!(AttackKind, "an attack kind");

impl AttackKind {
    pub const ALL: [AttackKind; 12] = [
        AttackKind::PortScan,
        AttackKind::SynFlood,
        AttackKind::BruteForce,
        AttackKind::HorizontalScan,
        AttackKind::RdpBruteForce,
        AttackKind::Exfiltration,
        AttackKind::C2Beacon,
        AttackKind::DnsTunnel,
        AttackKind::LateralMovement,
        AttackKind::IcmpSweep,
        AttackKind::Slowloris,
        AttackKind::CryptoMining,
    ];

    /// The snake_case name used in URLs, JSON and CSV.
    pub fn as_str(self) -> &'static str {
        match self {
            AttackKind::PortScan => "port_scan",
            AttackKind::SynFlood => "syn_flood",
            AttackKind::BruteForce => "brute_force",
            AttackKind::HorizontalScan => "horizontal_scan",
            AttackKind::RdpBruteForce => "rdp_brute_force",
            AttackKind::Exfiltration => "exfiltration",
            AttackKind::C2Beacon => "c2_beacon",
            AttackKind::DnsTunnel => "dns_tunnel",
            AttackKind::LateralMovement => "lateral_movement",
            AttackKind::IcmpSweep => "icmp_sweep",
            AttackKind::Slowloris => "slowloris",
            AttackKind::CryptoMining => "crypto_mining",
        }
    }

    /// A human label for the UI.
    pub fn title(self) -> &'static str {
        match self {
            AttackKind::PortScan => "Port scan",
            AttackKind::SynFlood => "SYN flood",
            AttackKind::BruteForce => "SSH brute force",
            AttackKind::HorizontalScan => "Horizontal scan",
            AttackKind::RdpBruteForce => "RDP brute force",
            AttackKind::Exfiltration => "Data exfiltration",
            AttackKind::C2Beacon => "C2 beaconing",
            AttackKind::DnsTunnel => "DNS tunnelling",
            AttackKind::LateralMovement => "Lateral movement",
            AttackKind::IcmpSweep => "ICMP sweep",
            AttackKind::Slowloris => "Slow HTTP DoS",
            AttackKind::CryptoMining => "Crypto mining",
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
    /// Zeek's `history`; empty when the source does not record it.
    pub history: ConnHistory,
    pub label: Label,
    /// The ground-truth incident this flow belongs to (the generator's `Incident::id`).
    pub incident_id: Option<u32>,
    /// The originator's part in the incident; `None` for benign flows.
    pub orig_role: OrigRole,
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
        // Names and titles are distinct, and serde spells each kind as `as_str` does.
        let mut names: Vec<&str> = AttackKind::ALL.iter().map(|k| k.as_str()).collect();
        let mut titles: Vec<&str> = AttackKind::ALL.iter().map(|k| k.title()).collect();
        names.sort_unstable();
        names.dedup();
        titles.sort_unstable();
        titles.dedup();
        assert_eq!(
            (names.len(), titles.len()),
            (AttackKind::ALL.len(), AttackKind::ALL.len())
        );
        for kind in AttackKind::ALL {
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
        }
    }

    #[test]
    fn history_is_inline_capped_and_round_trips() {
        let h = ConnHistory::new("ShADadFf");
        assert_eq!(h.as_str(), "ShADadFf");
        assert_eq!(ConnHistory::new("-"), ConnHistory::EMPTY);
        assert_eq!(ConnHistory::EMPTY.as_str(), "-");
        let long = ConnHistory::new("ShADadttttttttttttttttFf");
        assert_eq!(long.as_str().len(), ConnHistory::CAPACITY);
        assert_eq!(ConnHistory::new("S h<b>"), ConnHistory::new("Shb"));
        let json = serde_json::to_string(&h).unwrap();
        assert_eq!(json, "\"ShADadFf\"");
        assert_eq!(serde_json::from_str::<ConnHistory>(&json).unwrap(), h);
    }

    #[test]
    fn zeek_names_parse() {
        for state in ConnState::ALL {
            assert_eq!(ConnState::parse(state.as_str()), Some(state));
        }
        assert_eq!(ConnState::parse("xx"), None);
        for service in Service::ALL {
            if service != Service::Other {
                assert_eq!(Service::parse(service.as_str()), service);
            }
        }
        assert_eq!(Service::parse("ssl,http"), Service::Ssl);
        assert_eq!(Service::parse("gopher,dns"), Service::Dns);
        assert_eq!(Service::parse("gopher"), Service::Other);
        assert_eq!(Service::parse("(empty)"), Service::None);
        assert_eq!(Proto::parse("ICMP6"), Some(Proto::Icmp));
        assert_eq!(Proto::parse("sctp"), None);
    }

    #[test]
    fn zeek_spellings() {
        assert_eq!(serde_json::to_string(&Service::None).unwrap(), "\"-\"");
        assert_eq!(serde_json::to_string(&ConnState::REJ).unwrap(), "\"REJ\"");
        assert_eq!(serde_json::to_string(&Proto::Udp).unwrap(), "\"udp\"");
    }
}
