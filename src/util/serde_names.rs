//! Serde for unit-only enums through their names (`as_str`, `ALL`): one small shared function
//! instead of serde's derived visitors, which cost about a kilobyte of wasm per enum (issue
//! #6's size budgets), and one spelling of each name for JSON and the binary page/worker
//! messages alike (a derived `Serialize` would write a variant index in binary).

use serde::de::{Deserialize, Deserializer, Error, Unexpected};

/// The value of `all` whose `name` is the next string in `d`.
pub(crate) fn by_name<'de, D: Deserializer<'de>, T: Copy>(
    d: D,
    all: &[T],
    name: fn(T) -> &'static str,
    what: &'static str,
) -> Result<T, D::Error> {
    let text = String::deserialize(d)?;
    all.iter()
        .copied()
        .find(|&v| name(v) == text)
        .ok_or_else(|| D::Error::invalid_value(Unexpected::Str(&text), &what))
}

/// `impl Serialize` and `impl Deserialize` for a unit-only enum with `ALL` and `as_str` (see
/// the module doc).
macro_rules! serde_by_name {
    ($t:ty, $what:literal) => {
        impl serde::Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                crate::util::serde_names::by_name(d, &<$t>::ALL, <$t>::as_str, $what)
            }
        }
    };
}
pub(crate) use serde_by_name;

#[cfg(test)]
mod tests {
    use crate::app::anomaly_query::SortKey;
    use crate::detection::models::mlp::{Activation, Solver};
    use crate::findings::feedback::Verdict;
    use crate::findings::incidents::{Grouping, Severity};
    use crate::findings::response::Firewall;
    use crate::output::report::SourceKind;
    use crate::pipeline::Stage;
    use crate::traffic::flow::{AttackKind, ConnState, Proto, Service};
    use crate::traffic::generator::ScanMethod;
    use crate::traffic::import::DurationUnit;
    use serde::de::DeserializeOwned;
    use serde::Serialize;
    use std::fmt::Debug;

    /// `expected`: the names files and links already carry (reports, model files, URLs), so
    /// a renamed variant or a reordered `ALL` fails here rather than in a user's old file.
    fn round_trips<T: Serialize + DeserializeOwned + PartialEq + Debug + Copy>(
        all: &[T],
        name: fn(T) -> &'static str,
        expected: &[&str],
    ) {
        let written: Vec<String> = all
            .iter()
            .map(|v| serde_json::to_string(v).unwrap())
            .collect();
        let wanted: Vec<String> = expected.iter().map(|n| format!("\"{n}\"")).collect();
        assert_eq!(written, wanted, "names changed");
        for &v in all {
            let json = serde_json::to_string(&v).unwrap();
            assert_eq!(json, format!("\"{}\"", name(v)));
            assert_eq!(serde_json::from_str::<T>(&json).unwrap(), v);
            // The binary page/worker messages carry the same name.
            let bytes = postcard::to_allocvec(&v).unwrap();
            assert_eq!(postcard::from_bytes::<T>(&bytes).unwrap(), v);
            assert!(postcard::from_bytes::<T>(&bytes[..bytes.len() - 1]).is_err());
        }
        let err = serde_json::from_str::<T>("\"no such name\"").unwrap_err();
        assert!(err.to_string().contains("no such name"), "{err}");
        assert!(serde_json::from_str::<T>("3").is_err());
    }

    #[test]
    fn every_enum_writes_and_reads_its_established_names() {
        round_trips(
            &Service::ALL,
            Service::as_str,
            &[
                "-", "http", "ssl", "dns", "ntp", "ssh", "smtp", "imap", "smb", "rdp", "ftp",
                "dhcp", "krb", "ldap", "snmp", "irc", "other",
            ],
        );
        round_trips(
            &ConnState::ALL,
            ConnState::as_str,
            &[
                "S0", "S1", "S2", "S3", "SF", "REJ", "RSTO", "RSTR", "RSTOS0", "RSTRH", "SH",
                "SHR", "OTH",
            ],
        );
        round_trips(
            &AttackKind::ALL,
            AttackKind::as_str,
            &[
                "port_scan",
                "syn_flood",
                "brute_force",
                "horizontal_scan",
                "rdp_brute_force",
                "exfiltration",
                "c2_beacon",
                "dns_tunnel",
                "lateral_movement",
                "icmp_sweep",
                "slowloris",
                "crypto_mining",
            ],
        );
        round_trips(
            &Activation::ALL,
            Activation::as_str,
            &["identity", "logistic", "tanh", "relu"],
        );
        round_trips(
            &SortKey::ALL,
            SortKey::as_str,
            &["ensemble", "isolation_forest", "mlp", "time"],
        );
        round_trips(
            &ScanMethod::ALL,
            ScanMethod::as_str,
            &["syn", "connect", "udp"],
        );
        round_trips(
            &Proto::ALL,
            Proto::as_str,
            &["tcp", "udp", "icmp", "unknown_transport"],
        );
        round_trips(
            &Severity::ALL,
            Severity::as_str,
            &["low", "medium", "high", "critical"],
        );
        round_trips(
            &Stage::ALL,
            Stage::as_str,
            &[
                "generate",
                "features",
                "isolation_forest",
                "autoencoder",
                "scoring",
                "report",
            ],
        );
        round_trips(
            &Firewall::ALL,
            Firewall::as_str,
            &[
                "nftables",
                "iptables",
                "pf",
                "windows_netsh",
                "windows_power_shell",
            ],
        );
        round_trips(
            &Verdict::ALL,
            Verdict::as_str,
            &["false_positive", "confirmed"],
        );
        round_trips(
            &SourceKind::ALL,
            SourceKind::as_str,
            &["generated", "imported"],
        );
        round_trips(&Grouping::ALL, Grouping::as_str, &["source", "victim"]);
        round_trips(&Solver::ALL, Solver::as_str, &["adam"]);
        round_trips(
            &DurationUnit::ALL,
            DurationUnit::as_str,
            &["seconds", "milliseconds", "microseconds"],
        );
    }
}
