//! MITRE ATT&CK techniques the behavioural detectors name, with their tactic and the page that
//! describes them. The names follow ATT&CK v15 (Enterprise); the page URL is shown as text and
//! never requested. Not a catalogue of ATT&CK: only what a detector here can emit.

/// One ATT&CK technique or sub-technique a detection is mapped to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Technique {
    /// T1046 Network Service Discovery (port scans, service sweeps).
    NetworkServiceDiscovery,
    /// T1018 Remote System Discovery (ICMP echo sweeps: which hosts are up).
    RemoteSystemDiscovery,
    /// T1498.001 Direct Network Flood.
    DirectNetworkFlood,
    /// T1498.002 Reflection Amplification.
    ReflectionAmplification,
    /// T1499.001 OS Exhaustion Flood (SYN floods exhaust the victim's connection table).
    OsExhaustionFlood,
    /// T1499.002 Service Exhaustion Flood (slow HTTP: connections held open).
    ServiceExhaustionFlood,
    /// T1110.001 Password Guessing.
    PasswordGuessing,
    /// T1071 Application Layer Protocol (command and control over a common protocol).
    ApplicationLayerProtocol,
    /// T1071.004 Application Layer Protocol: DNS.
    DnsC2,
    /// T1573 Encrypted Channel.
    EncryptedChannel,
    /// T1041 Exfiltration Over C2 Channel.
    ExfiltrationOverC2,
    /// T1048.003 Exfiltration Over Unencrypted Non-C2 Protocol (DNS tunnelling carries data out).
    ExfiltrationOverUnencryptedProtocol,
    /// T1021 Remote Services (lateral movement over SMB, RDP, SSH ...).
    RemoteServices,
}

crate::util::serde_names::serde_by_name!(Technique, "an ATT&CK technique id");

impl Technique {
    pub const ALL: [Technique; 13] = [
        Technique::NetworkServiceDiscovery,
        Technique::RemoteSystemDiscovery,
        Technique::DirectNetworkFlood,
        Technique::ReflectionAmplification,
        Technique::OsExhaustionFlood,
        Technique::ServiceExhaustionFlood,
        Technique::PasswordGuessing,
        Technique::ApplicationLayerProtocol,
        Technique::DnsC2,
        Technique::EncryptedChannel,
        Technique::ExfiltrationOverC2,
        Technique::ExfiltrationOverUnencryptedProtocol,
        Technique::RemoteServices,
    ];

    /// The ATT&CK id (`T1046`, `T1498.002`); also the serde spelling.
    pub fn as_str(self) -> &'static str {
        self.id()
    }

    pub fn id(self) -> &'static str {
        match self {
            Technique::NetworkServiceDiscovery => "T1046",
            Technique::RemoteSystemDiscovery => "T1018",
            Technique::DirectNetworkFlood => "T1498.001",
            Technique::ReflectionAmplification => "T1498.002",
            Technique::OsExhaustionFlood => "T1499.001",
            Technique::ServiceExhaustionFlood => "T1499.002",
            Technique::PasswordGuessing => "T1110.001",
            Technique::ApplicationLayerProtocol => "T1071",
            Technique::DnsC2 => "T1071.004",
            Technique::EncryptedChannel => "T1573",
            Technique::ExfiltrationOverC2 => "T1041",
            Technique::ExfiltrationOverUnencryptedProtocol => "T1048.003",
            Technique::RemoteServices => "T1021",
        }
    }

    /// The technique's name as ATT&CK writes it (sub-techniques with their parent's name).
    pub fn name(self) -> &'static str {
        match self {
            Technique::NetworkServiceDiscovery => "Network Service Discovery",
            Technique::RemoteSystemDiscovery => "Remote System Discovery",
            Technique::DirectNetworkFlood => "Network Denial of Service: Direct Network Flood",
            Technique::ReflectionAmplification => {
                "Network Denial of Service: Reflection Amplification"
            }
            Technique::OsExhaustionFlood => "Endpoint Denial of Service: OS Exhaustion Flood",
            Technique::ServiceExhaustionFlood => {
                "Endpoint Denial of Service: Service Exhaustion Flood"
            }
            Technique::PasswordGuessing => "Brute Force: Password Guessing",
            Technique::ApplicationLayerProtocol => "Application Layer Protocol",
            Technique::DnsC2 => "Application Layer Protocol: DNS",
            Technique::EncryptedChannel => "Encrypted Channel",
            Technique::ExfiltrationOverC2 => "Exfiltration Over C2 Channel",
            Technique::ExfiltrationOverUnencryptedProtocol => {
                "Exfiltration Over Alternative Protocol: Exfiltration Over Unencrypted Non-C2 Protocol"
            }
            Technique::RemoteServices => "Remote Services",
        }
    }

    /// The tactic's ATT&CK id and name (the one the detection serves here; ATT&CK lists some
    /// techniques under several).
    pub fn tactic(self) -> (&'static str, &'static str) {
        match self {
            Technique::NetworkServiceDiscovery | Technique::RemoteSystemDiscovery => {
                ("TA0007", "Discovery")
            }
            Technique::DirectNetworkFlood
            | Technique::ReflectionAmplification
            | Technique::OsExhaustionFlood
            | Technique::ServiceExhaustionFlood => ("TA0040", "Impact"),
            Technique::PasswordGuessing => ("TA0006", "Credential Access"),
            Technique::ApplicationLayerProtocol
            | Technique::DnsC2
            | Technique::EncryptedChannel => ("TA0011", "Command and Control"),
            Technique::ExfiltrationOverC2 | Technique::ExfiltrationOverUnencryptedProtocol => {
                ("TA0010", "Exfiltration")
            }
            Technique::RemoteServices => ("TA0008", "Lateral Movement"),
        }
    }

    /// The technique's page on attack.mitre.org (`T1498.002` → `.../T1498/002/`); shown as
    /// text, never fetched.
    pub fn url(self) -> String {
        let path = self.id().replace('.', "/");
        format!("https://attack.mitre.org/techniques/{path}/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_well_formed_and_round_trip() {
        let mut ids: Vec<&str> = Technique::ALL.iter().map(|t| t.id()).collect();
        for id in &ids {
            let digits = id.trim_start_matches('T');
            assert!(id.starts_with('T') && digits.len() >= 4, "{id}");
            assert!(
                digits.chars().all(|c| c.is_ascii_digit() || c == '.'),
                "{id}"
            );
        }
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), Technique::ALL.len());
        for t in Technique::ALL {
            let json = serde_json::to_string(&t).unwrap();
            assert_eq!(json, format!("\"{}\"", t.id()));
            assert_eq!(serde_json::from_str::<Technique>(&json).unwrap(), t);
        }
    }

    #[test]
    fn urls_follow_attack_paths() {
        assert_eq!(
            Technique::ReflectionAmplification.url(),
            "https://attack.mitre.org/techniques/T1498/002/"
        );
        assert_eq!(
            Technique::NetworkServiceDiscovery.url(),
            "https://attack.mitre.org/techniques/T1046/"
        );
        assert_eq!(Technique::PasswordGuessing.tactic().1, "Credential Access");
    }
}
