//! Blocking suggestions per incident: ready-to-paste, time-limited commands for nftables,
//! iptables, pf and Windows Firewall, scoped to the offending source address.
//!
//! Suggestions only: nothing here executes anything, and every plan says so. Addresses come in
//! as `IpAddr` and are rendered by its `Display` (digits, dots, colons, hex), so no command
//! text can be injected through them. Never suggested: allowlisted hosts (gateway, DNS
//! servers, anything the user lists), unspecified/loopback/multicast/broadcast addresses, and
//! victim-centred incidents whose many sources are likely spoofed. Not responsible for
//! deciding whether to block: the analyst decides.

use crate::detection::behaviour::KeyRole;
use crate::findings::incidents::{DetectedIncident, Grouping};
use crate::traffic::flow::{FlowRecord, Service};
use crate::util::time_format::format_utc;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::net::IpAddr;

/// What may be blocked and for how long.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ResponsePolicy {
    /// Never suggested for blocking (e.g. the gateway and the DNS servers).
    pub allowlist: Vec<IpAddr>,
    /// How long a suggested block lasts.
    pub block_minutes: u32,
}

impl Default for ResponsePolicy {
    fn default() -> ResponsePolicy {
        ResponsePolicy {
            allowlist: Vec::new(),
            block_minutes: 60,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Firewall {
    Nftables,
    Iptables,
    Pf,
    WindowsNetsh,
    WindowsPowerShell,
}

crate::util::serde_names::serde_by_name!(Firewall, "a firewall");

impl Firewall {
    /// The name serde writes.
    pub fn as_str(self) -> &'static str {
        match self {
            Firewall::Nftables => "nftables",
            Firewall::Iptables => "iptables",
            Firewall::Pf => "pf",
            Firewall::WindowsNetsh => "windows_netsh",
            Firewall::WindowsPowerShell => "windows_power_shell",
        }
    }

    pub const ALL: [Firewall; 5] = [
        Firewall::Nftables,
        Firewall::Iptables,
        Firewall::Pf,
        Firewall::WindowsNetsh,
        Firewall::WindowsPowerShell,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Firewall::Nftables => "nftables (Linux)",
            Firewall::Iptables => "iptables (Linux)",
            Firewall::Pf => "pf (BSD, macOS)",
            Firewall::WindowsNetsh => "Windows Firewall (netsh)",
            Firewall::WindowsPowerShell => "Windows Firewall (PowerShell)",
        }
    }
}

/// Commands for one firewall.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Suggestion {
    pub firewall: Firewall,
    /// Lines to paste, in order.
    pub commands: Vec<String>,
    /// How the block expires and anything to know before running it.
    pub note: String,
}

/// Why an incident gets no blocking suggestion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "reason", content = "address")]
pub enum NoBlock {
    /// The address is on the allowlist.
    Allowlisted(IpAddr),
    /// Unspecified, loopback, multicast or broadcast: not a real, blockable peer.
    NotBlockable(IpAddr),
    /// Many sparse sources (likely spoofed): blocking them does not help; protect the victim.
    SpoofedSources,
    /// The address is a documentation-range stand-in (see [`is_documentation`]): the file
    /// carries no addresses, so there is no host to block, and none is named.
    NoAddresses,
    /// The key host looks compromised (beaconing, exfiltrating, tunnelling): isolate and
    /// investigate it, and block the destination it talks to at the perimeter, rather than
    /// blocking it as if it attacked.
    Compromised(IpAddr),
    /// Flagged flows with the victim of a detected attack while it lasted (the address is the
    /// victim's): its peers are likely ordinary clients caught in the attack's traffic.
    Collateral(IpAddr),
}

/// The advice for one incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponsePlan {
    pub incident_id: u32,
    /// The address the suggestions block, if any.
    pub target: Option<IpAddr>,
    pub suggestions: Vec<Suggestion>,
    pub no_block: Option<NoBlock>,
    /// Always shown with the commands.
    pub disclaimer: String,
}

pub const DISCLAIMER: &str =
    "Suggestions only: review before running. This app never executes them.";

/// The network's infrastructure as the traffic shows it: private addresses that answered DNS,
/// DHCP, NTP, Kerberos or LDAP (resolvers, DHCP servers, time servers, domain controllers).
/// Blocking one of them would take the network down, so they join the allowlist. Sorted.
pub fn infrastructure(flows: &[FlowRecord]) -> Vec<IpAddr> {
    let mut servers: BTreeSet<IpAddr> = BTreeSet::new();
    for f in flows {
        let infra = matches!(
            f.service,
            Service::Dns | Service::Dhcp | Service::Ntp | Service::Krb | Service::Ldap
        );
        let private = match f.dst_ip {
            IpAddr::V4(a) => a.is_private(),
            IpAddr::V6(a) => (a.segments()[0] & 0xfe00) == 0xfc00,
        };
        if infra && private && f.bytes_in > 0 {
            servers.insert(f.dst_ip);
        }
    }
    servers.into_iter().collect()
}

fn not_blockable(ip: IpAddr) -> bool {
    is_documentation(ip)
        || match ip {
            IpAddr::V4(a) => {
                a.is_unspecified() || a.is_loopback() || a.is_multicast() || a.is_broadcast()
            }
            IpAddr::V6(a) => a.is_unspecified() || a.is_loopback() || a.is_multicast(),
        }
}

/// The documentation ranges (RFC 5737: 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24; RFC
/// 3849: 2001:db8::/32). No real host has them; the importers give them to flows of a file
/// that carries no addresses, so an incident keyed on one is about a placeholder, and a
/// firewall rule for it would be an act on nothing.
pub fn is_documentation(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => matches!(
            a.octets(),
            [192, 0, 2, _] | [198, 51, 100, _] | [203, 0, 113, _]
        ),
        IpAddr::V6(a) => a.segments()[..2] == [0x2001, 0x0db8],
    }
}

/// Blocking suggestions for an incident's offending source; `now_ts` (Unix seconds) dates the
/// expiry written into rule comments.
pub fn suggest(incident: &DetectedIncident, policy: &ResponsePolicy, now_ts: f64) -> ResponsePlan {
    let mut plan = ResponsePlan {
        incident_id: incident.id,
        target: None,
        suggestions: Vec::new(),
        no_block: None,
        disclaimer: DISCLAIMER.to_string(),
    };
    if incident.collateral_of.is_some() {
        plan.no_block = Some(NoBlock::Collateral(incident.key_ip));
        return plan;
    }
    if incident.key_role == Some(KeyRole::Compromised) {
        plan.no_block = Some(NoBlock::Compromised(incident.key_ip));
        return plan;
    }
    // A victim-centred incident with one source (a single-host flood or guessing run) blocks
    // that source; with many, they are likely spoofed.
    let ip = match (incident.grouping, incident.src_ips.as_slice()) {
        (Grouping::Victim, [only]) if incident.distinct_src_hosts == 1 => *only,
        (Grouping::Victim, _) => {
            plan.no_block = Some(NoBlock::SpoofedSources);
            return plan;
        }
        _ => incident.key_ip,
    };
    // An IPv4-mapped IPv6 address is the IPv4 host: compare and block it as such.
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    if is_documentation(ip) {
        plan.no_block = Some(NoBlock::NoAddresses);
        return plan;
    }
    if not_blockable(ip) {
        plan.no_block = Some(NoBlock::NotBlockable(ip));
        return plan;
    }
    if policy.allowlist.iter().any(|&a| {
        let a = match a {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(a, IpAddr::V4),
            v4 => v4,
        };
        a == ip
    }) {
        plan.no_block = Some(NoBlock::Allowlisted(ip));
        return plan;
    }
    let minutes = policy.block_minutes.max(1);
    let until = if now_ts.is_finite() {
        format!("{} UTC", format_utc(now_ts + f64::from(minutes) * 60.0))
    } else {
        format!("{minutes} min after adding")
    };
    let id = incident.id;
    let name = format!("anomaly-detector incident {id} block {ip}");
    let v6 = ip.is_ipv6();
    let (nft_family, nft_type, set) = if v6 {
        ("ip6", "ipv6_addr", "blocked6")
    } else {
        ("ip", "ipv4_addr", "blocked4")
    };
    let iptables = if v6 { "ip6tables" } else { "iptables" };
    plan.target = Some(ip);
    plan.suggestions = vec![
        Suggestion {
            firewall: Firewall::Nftables,
            commands: vec![
                "nft add table inet anomaly_block".to_string(),
                format!("nft 'add set inet anomaly_block {set} {{ type {nft_type}; flags timeout; }}'"),
                "nft 'add chain inet anomaly_block input { type filter hook input priority -10; policy accept; }'".to_string(),
                "nft 'add chain inet anomaly_block forward { type filter hook forward priority -10; policy accept; }'".to_string(),
                format!("nft add rule inet anomaly_block input {nft_family} saddr @{set} drop"),
                format!("nft add rule inet anomaly_block forward {nft_family} saddr @{set} drop"),
                format!("nft 'add element inet anomaly_block {set} {{ {ip} timeout {minutes}m }}'"),
            ],
            note: format!(
                "The set entry expires by itself after {minutes} min (until about {until}); the table, chains and rules are created once and can stay."
            ),
        },
        Suggestion {
            firewall: Firewall::Iptables,
            commands: vec![
                format!("{iptables} -I INPUT -s {ip} -j DROP -m comment --comment \"{name} until {until}\""),
                format!("{iptables} -I FORWARD -s {ip} -j DROP -m comment --comment \"{name} until {until}\""),
                format!(
                    "echo '{iptables} -D INPUT -s {ip} -j DROP -m comment --comment \"{name} until {until}\"; {iptables} -D FORWARD -s {ip} -j DROP -m comment --comment \"{name} until {until}\"' | at now + {minutes} minutes"
                ),
            ],
            note: format!(
                "iptables rules do not expire: the last line schedules their removal with at(1) (needs atd running); without it, delete them by hand after {until}."
            ),
        },
        Suggestion {
            firewall: Firewall::Pf,
            commands: vec![
                "# once, in /etc/pf.conf: table <anomaly_block> persist".to_string(),
                "# once, in /etc/pf.conf: block drop quick from <anomaly_block>".to_string(),
                format!("pfctl -t anomaly_block -T add {ip}"),
                format!("pfctl -t anomaly_block -T expire {}", u64::from(minutes) * 60),
            ],
            note: format!(
                "`-T expire {s}` removes entries older than {minutes} min each time it runs: run it periodically (e.g. from cron every minute) to enforce the time limit.",
                s = u64::from(minutes) * 60
            ),
        },
        Suggestion {
            firewall: Firewall::WindowsNetsh,
            commands: vec![
                format!("netsh advfirewall firewall add rule name=\"{name}\" dir=in action=block remoteip={ip}"),
                format!("netsh advfirewall firewall add rule name=\"{name}\" dir=out action=block remoteip={ip}"),
                format!(
                    "schtasks /Create /SC ONCE /ST {hhmm} /TN \"anomaly-detector unblock {id}\" /TR \"netsh advfirewall firewall delete rule name=\\\"{name}\\\"\" /RU SYSTEM",
                    hhmm = if now_ts.is_finite() {
                        crate::util::time_format::format_time_of_day(now_ts + f64::from(minutes) * 60.0)
                            .get(..5)
                            .unwrap_or("00:00")
                            .to_string()
                    } else {
                        "00:00".to_string()
                    }
                ),
            ],
            note: format!(
                "Run in an elevated prompt. The scheduled task removes the rule at {until} (the /ST time is in the machine's local time zone: adjust it if that is not UTC)."
            ),
        },
        Suggestion {
            firewall: Firewall::WindowsPowerShell,
            commands: vec![
                format!("New-NetFirewallRule -DisplayName '{name}' -Direction Inbound -RemoteAddress {ip} -Action Block"),
                format!("New-NetFirewallRule -DisplayName '{name}' -Direction Outbound -RemoteAddress {ip} -Action Block"),
                format!(
                    "Register-ScheduledTask -TaskName 'anomaly-detector unblock {id}' -User SYSTEM -Trigger (New-ScheduledTaskTrigger -Once -At (Get-Date).AddMinutes({minutes})) -Action (New-ScheduledTaskAction -Execute 'powershell.exe' -Argument \"-NoProfile -Command Remove-NetFirewallRule -DisplayName '{name}'\")"
                ),
            ],
            note: format!("Run as administrator. The scheduled task removes both rules after {minutes} min."),
        },
    ];
    plan
}

#[cfg(test)]
mod tests {

    #[test]
    fn placeholder_addresses_are_never_blocked() {
        for ip in ["192.0.2.1", "198.51.100.1", "203.0.113.77", "2001:db8::1"] {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(is_documentation(ip) && not_blockable(ip), "{ip}");
        }
        for ip in ["192.0.3.1", "198.51.101.1", "8.8.8.8", "2001:db9::1"] {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(!is_documentation(ip), "{ip}");
        }
    }

    use super::*;
    use crate::findings::incidents::tests::flow;
    use crate::findings::incidents::{group, IncidentParams};

    fn incident(src: [u8; 4]) -> DetectedIncident {
        let flows = vec![
            flow(0.0, src, [10, 0, 1, 20], 22),
            flow(1.0, src, [10, 0, 1, 20], 22),
        ];
        group(
            &flows,
            &[0, 1],
            &[5.0, 5.0],
            2.0,
            &IncidentParams::default(),
        )
        .remove(0)
    }

    #[test]
    fn commands_name_the_address_and_a_time_limit() {
        let plan = suggest(
            &incident([10, 0, 3, 7]),
            &ResponsePolicy::default(),
            1_767_261_600.0,
        );
        assert_eq!(plan.target, Some("10.0.3.7".parse().unwrap()));
        assert_eq!(plan.suggestions.len(), Firewall::ALL.len());
        assert!(plan.disclaimer.contains("never executes"));
        for s in &plan.suggestions {
            let text = s.commands.join("\n");
            assert!(text.contains("10.0.3.7"), "{:?}: {text}", s.firewall);
            assert!(!s.note.is_empty());
        }
        let nft = plan.suggestions[0].commands.join("\n");
        assert!(nft.contains("{ 10.0.3.7 timeout 60m }") && nft.contains("ip saddr"));
        let ipt = plan.suggestions[1].commands.join("\n");
        assert!(
            ipt.contains("until 2026-01-01 11:00:00 UTC") && ipt.contains("at now + 60 minutes")
        );
        assert!(plan.suggestions[2]
            .commands
            .iter()
            .any(|c| c == "pfctl -t anomaly_block -T expire 3600"));
    }

    #[test]
    fn ipv6_uses_the_v6_tools() {
        let mut inc = incident([10, 0, 3, 7]);
        inc.key_ip = "2a01:4f8:1::7".parse().unwrap();
        let plan = suggest(&inc, &ResponsePolicy::default(), 0.0);
        let all = plan
            .suggestions
            .iter()
            .flat_map(|s| s.commands.clone())
            .collect::<Vec<_>>()
            .join("\n");
        assert!(
            all.contains("ip6 saddr @blocked6")
                && all.contains("ip6tables -I INPUT -s 2a01:4f8:1::7")
        );
    }

    #[test]
    fn allowlisted_unspecified_and_spoofed_are_never_blocked() {
        let policy = ResponsePolicy {
            allowlist: vec![
                "10.0.0.1".parse().unwrap(),
                "::ffff:10.0.0.53".parse().unwrap(),
            ],
            block_minutes: 30,
        };
        for (src, want) in [
            (
                [10, 0, 0, 1],
                NoBlock::Allowlisted("10.0.0.1".parse().unwrap()),
            ),
            (
                [10, 0, 0, 53],
                NoBlock::Allowlisted("10.0.0.53".parse().unwrap()),
            ),
            (
                [0, 0, 0, 0],
                NoBlock::NotBlockable("0.0.0.0".parse().unwrap()),
            ),
            (
                [255, 255, 255, 255],
                NoBlock::NotBlockable("255.255.255.255".parse().unwrap()),
            ),
        ] {
            let plan = suggest(&incident(src), &policy, 0.0);
            assert_eq!(plan.no_block, Some(want));
            assert!(plan.suggestions.is_empty() && plan.target.is_none());
        }
        let mut flood = incident([198, 51, 100, 1]);
        flood.grouping = Grouping::Victim;
        flood.distinct_src_hosts = 40;
        let plan = suggest(&flood, &policy, 0.0);
        assert_eq!(plan.no_block, Some(NoBlock::SpoofedSources));
        assert!(plan.suggestions.is_empty());
        // A victim-centred incident with a single source (a detector's one-host flood or
        // guessing run) blocks that source, never the victim.
        let mut single = incident([185, 220, 101, 1]);
        single.grouping = Grouping::Victim;
        single.key_ip = "10.0.1.20".parse().unwrap();
        let plan = suggest(&single, &policy, 0.0);
        assert_eq!(plan.target, Some("185.220.101.1".parse().unwrap()));
        // A file without addresses: the importer's stand-in is never a target.
        let mut placeholder = incident([192, 0, 2, 1]);
        placeholder.grouping = Grouping::Source;
        let plan = suggest(&placeholder, &policy, 0.0);
        assert_eq!(plan.no_block, Some(NoBlock::NoAddresses));
        assert!(plan.suggestions.is_empty() && plan.target.is_none());
        // A host a detector calls compromised is not blocked as an attacker.
        let mut beacon = incident([10, 0, 0, 77]);
        beacon.key_role = Some(KeyRole::Compromised);
        let plan = suggest(&beacon, &policy, 0.0);
        assert_eq!(
            plan.no_block,
            Some(NoBlock::Compromised("10.0.0.77".parse().unwrap()))
        );
        assert!(plan.suggestions.is_empty() && plan.target.is_none());
    }
}
