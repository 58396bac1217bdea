//! The result of an import: flows in time order, ground truth beside them (never inside),
//! file-supplied features, counts and warnings.

use super::error::ImportError;
use super::format::Format;
use super::limits::ImportLimits;
use super::warnings::{ImportWarning, Location, SkipReason, SkippedRecord};
use crate::traffic::flow::FlowRecord;
use crate::util::index_sort;
use serde::{Deserialize, Serialize};

/// Packet-level counts of a capture import.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PacketStats {
    pub packets: u64,
    pub ip_packets: u64,
    pub non_ip: u64,
    /// Packets whose capture ended before the transport header.
    pub truncated: u64,
    pub unsupported_link_type: u64,
    /// Frames that may carry IP but cannot be read (encrypted 802.11, ...).
    #[serde(default)]
    pub undecodable: u64,
    /// IPv4/IPv6 fragments after the first (attributed to their flow, not counted as packets,
    /// as Zeek counts a reassembled datagram once).
    pub later_fragments: u64,
    /// Fragmented datagrams forgotten to bound memory: their later fragments count as
    /// fragments without a first one.
    #[serde(default)]
    pub fragments_evicted: u64,
    /// Packets of other IP protocols (GRE, ESP, ...), which Zeek does not log as connections.
    pub other_ip_proto: u64,
}

/// The result of an import: flows in time order plus ground truth and extra features.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportedTraffic {
    pub format: Format,
    pub flows: Vec<FlowRecord>,
    /// Per flow: index into `label_names`, `None` when the flow has no label.
    pub truth: Vec<Option<u16>>,
    pub label_names: Vec<String>,
    /// True when the file had a label column.
    pub has_labels: bool,
    /// Names of the numeric columns the format carries beyond `FlowRecord`.
    pub extra_columns: Vec<String>,
    /// `flows.len() * extra_columns.len()` values, row-major; NaN = missing.
    pub extra_values: Vec<f64>,
    pub skipped: Vec<SkippedRecord>,
    /// All skipped records, including those beyond `ImportLimits::max_skipped_listed`.
    pub skipped_count: u64,
    pub warnings: Vec<ImportWarning>,
    pub bytes_read: u64,
    pub packet_stats: Option<PacketStats>,
}

/// True for label texts that mean "not an attack".
pub fn is_benign(name: &str) -> bool {
    let name = name.trim().to_ascii_lowercase();
    matches!(
        name.as_str(),
        "benign" | "normal" | "normal." | "legitimate" | "0" | "-" | ""
    ) || ctu_kind(&name).starts_with("normal")
}

/// A CTU-13 label without its `flow=` prefix and `From-`/`To-` direction
/// (`flow=To-Normal-V42-UDP` -> `normal-v42-udp`); empty for other labels. Lowercase in.
fn ctu_kind(lower: &str) -> &str {
    match lower.strip_prefix("flow=") {
        Some(rest) => rest
            .strip_prefix("from-")
            .or_else(|| rest.strip_prefix("to-"))
            .unwrap_or(rest),
        None => "",
    }
}

/// Labels that say nobody knows ("Background" in CTU-13, "Unknown"): neither benign nor an
/// attack, so they are left out of the metrics rather than guessed.
pub fn is_unknown_label(name: &str) -> bool {
    let name = name.trim().to_ascii_lowercase();
    name == "background"
        || name == "unknown"
        || name == "unlabelled"
        || name == "unlabeled"
        || name.starts_with("background-")
        || ctu_kind(&name).starts_with("background")
}

impl ImportedTraffic {
    pub(crate) fn new(format: Format, bytes_read: u64) -> ImportedTraffic {
        ImportedTraffic {
            format,
            flows: Vec::new(),
            truth: Vec::new(),
            label_names: Vec::new(),
            has_labels: false,
            extra_columns: Vec::new(),
            extra_values: Vec::new(),
            skipped: Vec::new(),
            skipped_count: 0,
            warnings: Vec::new(),
            bytes_read,
            packet_stats: None,
        }
    }

    /// Per flow: `Some(true)` for an attack label, `Some(false)` for benign, `None` unlabelled.
    pub fn is_attack(&self) -> Vec<Option<bool>> {
        let attack: Vec<bool> = self
            .label_names
            .iter()
            .map(|n| !is_benign(n) && !is_unknown_label(n))
            .collect();
        self.truth
            .iter()
            .map(|t| t.and_then(|i| attack.get(i as usize).copied()))
            .collect()
    }

    /// The extra values of one flow.
    pub fn extra_row(&self, flow: usize) -> &[f64] {
        let width = self.extra_columns.len();
        self.extra_values
            .get(flow * width..(flow + 1) * width)
            .unwrap_or(&[])
    }

    /// The rows `rows` (indices into `flows`, kept in the order given) as traffic of their
    /// own, with their labels and extra values; counts, skipped records and warnings are
    /// the file's. When the format had no timestamps (flows placed one second apart in file
    /// order), the selected flows are placed one second apart again, so that a subset has
    /// the same synthetic pace as a whole file. Indices past the end are ignored.
    pub fn select_rows(&self, rows: &[usize]) -> ImportedTraffic {
        let width = self.extra_columns.len();
        let rows: Vec<usize> = rows
            .iter()
            .copied()
            .filter(|&i| i < self.flows.len())
            .collect();
        let mut flows: Vec<FlowRecord> = rows.iter().map(|&i| self.flows[i].clone()).collect();
        if self
            .warnings
            .contains(&ImportWarning::SynthesizedTimestamps)
        {
            let start = self.flows.first().map_or(0.0, |f| f.ts);
            for (k, f) in flows.iter_mut().enumerate() {
                f.ts = start + k as f64;
            }
        }
        let mut extra_values = Vec::with_capacity(rows.len() * width);
        for &i in &rows {
            extra_values.extend_from_slice(self.extra_row(i));
        }
        ImportedTraffic {
            format: self.format,
            flows,
            truth: rows
                .iter()
                .map(|&i| self.truth.get(i).copied().flatten())
                .collect(),
            label_names: self.label_names.clone(),
            has_labels: self.has_labels,
            extra_columns: self.extra_columns.clone(),
            extra_values,
            skipped: self.skipped.clone(),
            skipped_count: self.skipped_count,
            warnings: self.warnings.clone(),
            bytes_read: self.bytes_read,
            packet_stats: self.packet_stats,
        }
    }

    /// Interns a label text; beyond u16::MAX distinct labels the rest share the last id.
    pub(crate) fn label_id(&mut self, name: &str) -> u16 {
        let name = name.trim();
        if let Some(i) = self.label_names.iter().position(|n| n == name) {
            return i as u16;
        }
        if self.label_names.len() >= u16::MAX as usize {
            return u16::MAX - 1;
        }
        self.label_names.push(name.to_string());
        (self.label_names.len() - 1) as u16
    }

    pub(crate) fn skip(&mut self, limits: &ImportLimits, location: Location, reason: SkipReason) {
        self.skipped_count += 1;
        if self.skipped.len() < limits.max_skipped_listed {
            self.skipped.push(SkippedRecord { location, reason });
        }
    }

    pub(crate) fn warn(&mut self, warning: ImportWarning) {
        if !self.warnings.contains(&warning) {
            self.warnings.push(warning);
        }
    }

    /// Drops extra columns that are missing in every row, and sorts flows by start time
    /// (stable, so equal times keep file order).
    pub(crate) fn finish(mut self) -> Result<ImportedTraffic, ImportError> {
        if self.flows.is_empty() {
            return Err(ImportError::NoRecords {
                format: self.format,
                skipped: self.skipped_count,
                first: self.skipped.first().cloned(),
            });
        }
        let width = self.extra_columns.len();
        if width > 0 && self.extra_values.len() == self.flows.len() * width {
            let keep: Vec<bool> = (0..width)
                .map(|c| {
                    self.extra_values
                        .iter()
                        .skip(c)
                        .step_by(width)
                        .any(|v| !v.is_nan())
                })
                .collect();
            if keep.iter().any(|k| !k) {
                let mut values = Vec::with_capacity(self.extra_values.len());
                for row in self.extra_values.chunks(width) {
                    values.extend(row.iter().zip(&keep).filter(|(_, k)| **k).map(|(v, _)| *v));
                }
                self.extra_values = values;
                self.extra_columns = self
                    .extra_columns
                    .into_iter()
                    .zip(&keep)
                    .filter(|(_, k)| **k)
                    .map(|(c, _)| c)
                    .collect();
            }
        } else if width > 0 {
            self.extra_columns.clear();
            self.extra_values.clear();
        }
        let sorted = self.flows.windows(2).all(|w| w[0].ts <= w[1].ts);
        if !sorted {
            let flows = &self.flows;
            let order = index_sort::sorted_indices_by(flows.len(), &mut |a, b| {
                flows[a].ts.total_cmp(&flows[b].ts)
            });
            let width = self.extra_columns.len();
            let flows = order.iter().map(|&i| self.flows[i].clone()).collect();
            let truth = order.iter().map(|&i| self.truth[i]).collect();
            let mut values = Vec::with_capacity(self.extra_values.len());
            for &i in &order {
                values.extend_from_slice(&self.extra_values[i * width..(i + 1) * width]);
            }
            self.flows = flows;
            self.truth = truth;
            self.extra_values = values;
        }
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::traffic::import::{import, ImportLimits};

    fn kdd_rows() -> ImportedTraffic {
        let row = |label: &str, bytes: u32| {
            format!(
                "0,tcp,http,SF,{bytes},100,0,0,0,0,0,1,0,0,0,0,0,0,0,0,0,0,1,1,0,0,0,0,1,0,0,\
                 9,9,1,0,0,0,0,0,0,0,{label},21\n"
            )
        };
        let text: String = [
            ("normal", 10),
            ("neptune", 20),
            ("normal", 30),
            ("satan", 40),
        ]
        .iter()
        .map(|(l, b)| row(l, *b))
        .collect();
        import(text.as_bytes(), None, &ImportLimits::default(), &mut |_| {
            true
        })
        .unwrap()
    }

    #[test]
    fn select_rows_keeps_labels_and_extras_and_respaces_synthetic_times() {
        let t = kdd_rows();
        assert_eq!(t.format, Format::Kdd);
        assert!(t.warnings.contains(&ImportWarning::SynthesizedTimestamps));
        let s = t.select_rows(&[0, 2, 99]);
        assert_eq!(s.flows.len(), 2);
        assert_eq!(s.flows[0].bytes_out, 10);
        assert_eq!(s.flows[1].bytes_out, 30);
        assert_eq!(s.flows[1].ts - s.flows[0].ts, 1.0);
        assert_eq!(s.is_attack(), vec![Some(false), Some(false)]);
        assert_eq!(s.extra_values.len(), 2 * s.extra_columns.len());
        assert_eq!(s.extra_row(1), t.extra_row(2));
        let attacks = t.select_rows(&[3, 1]);
        assert_eq!(attacks.is_attack(), vec![Some(true), Some(true)]);
        assert_eq!(attacks.flows[0].bytes_out, 40);
    }
}
