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
                crate::serde_names::by_name(d, &<$t>::ALL, <$t>::as_str, $what)
            }
        }
    };
}
pub(crate) use serde_by_name;

#[cfg(test)]
mod tests {
    use crate::anomaly_query::SortKey;
    use crate::detection::Stage;
    use crate::feedback::Verdict;
    use crate::flow::{AttackKind, ConnState, Proto, Service};
    use crate::generator::ScanMethod;
    use crate::import::DurationUnit;
    use crate::incidents::{Grouping, Severity};
    use crate::models::mlp::{Activation, Solver};
    use crate::report::SourceKind;
    use crate::response::Firewall;
    use serde::de::DeserializeOwned;
    use serde::Serialize;
    use std::fmt::Debug;

    fn round_trips<T: Serialize + DeserializeOwned + PartialEq + Debug + Copy>(
        all: &[T],
        name: fn(T) -> &'static str,
    ) {
        for &v in all {
            let json = serde_json::to_string(&v).unwrap();
            assert_eq!(
                json,
                format!("\"{}\"", name(v)),
                "as_str differs from serde's name"
            );
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
    fn every_enum_read_by_name_reads_what_serde_writes() {
        round_trips(&Service::ALL, Service::as_str);
        round_trips(&ConnState::ALL, ConnState::as_str);
        round_trips(&AttackKind::ALL, AttackKind::as_str);
        round_trips(&Activation::ALL, Activation::as_str);
        round_trips(&SortKey::ALL, SortKey::as_str);
        round_trips(&ScanMethod::ALL, ScanMethod::as_str);
        round_trips(&Proto::ALL, Proto::as_str);
        round_trips(&Severity::ALL, Severity::as_str);
        round_trips(&Stage::ALL, Stage::as_str);
        round_trips(&Firewall::ALL, Firewall::as_str);
        round_trips(&Verdict::ALL, Verdict::as_str);
        round_trips(&SourceKind::ALL, SourceKind::as_str);
        round_trips(&Grouping::ALL, Grouping::as_str);
        round_trips(&Solver::ALL, Solver::as_str);
        round_trips(&DurationUnit::ALL, DurationUnit::as_str);
    }
}
