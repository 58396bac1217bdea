//! The serde form of parameters that scikit-learn's constructors take as "auto" or a number
//! (`max_samples`, `contamination`, `max_features`, `batch_size`): untagged in JSON (model
//! files, reports), tagged in the binary page/worker messages, which are not self-describing
//! and so cannot read an untagged enum. Each parameter's own type says which values it
//! accepts; this only carries them.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
pub(crate) enum AutoOrNumber {
    Count(u64),
    Share(f64),
    Text(String),
}

/// [`AutoOrNumber`] for formats that are not self-describing: the same values, tagged.
#[derive(Serialize, Deserialize)]
enum TaggedAutoOrNumber {
    Count(u64),
    Share(f64),
    Text(String),
}

impl AutoOrNumber {
    pub(crate) fn write<S: Serializer>(self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            return Serialize::serialize(&self, s);
        }
        match self {
            AutoOrNumber::Count(n) => TaggedAutoOrNumber::Count(n),
            AutoOrNumber::Share(f) => TaggedAutoOrNumber::Share(f),
            AutoOrNumber::Text(t) => TaggedAutoOrNumber::Text(t),
        }
        .serialize(s)
    }

    pub(crate) fn read<'de, D: Deserializer<'de>>(d: D) -> Result<AutoOrNumber, D::Error> {
        if d.is_human_readable() {
            return <AutoOrNumber as Deserialize>::deserialize(d);
        }
        Ok(match TaggedAutoOrNumber::deserialize(d)? {
            TaggedAutoOrNumber::Count(n) => AutoOrNumber::Count(n),
            TaggedAutoOrNumber::Share(f) => AutoOrNumber::Share(f),
            TaggedAutoOrNumber::Text(t) => AutoOrNumber::Text(t),
        })
    }
}
