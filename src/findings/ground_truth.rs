//! Ground truth per flow, whether it came from the generator or from an imported label column.
//!
//! Metrics, chart colours and the report's `label` fields all read this one table, so generated
//! and imported traffic are evaluated the same way. Not a model input: the detectors never see
//! it (the import never trains on the label).

use crate::traffic::flow::{AttackKind, FlowRecord, Label};
use crate::traffic::import::{is_benign, is_unknown_label, ImportedTraffic};
use serde::{Deserialize, Serialize};

/// The class of a flow without a label.
pub const UNLABELLED: u16 = u16::MAX;

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct GroundTruth {
    /// False when the traffic carries no labels: the run is then purely unsupervised.
    pub labelled: bool,
    /// Class names as the source spells them ("benign", "port_scan", "DoS Hulk", "neptune").
    pub names: Vec<String>,
    /// Whether each class is an attack.
    pub attack: Vec<bool>,
    /// Whether each class is neither benign nor attack ("Background", "Unknown"): its flows
    /// are left out of the metrics and counted apart.
    #[serde(default)]
    pub unknown: Vec<bool>,
    /// Per flow: index into `names`, or [`UNLABELLED`].
    pub class: Vec<u16>,
}

impl GroundTruth {
    /// The generator's labels: class 0 is benign, class `1 + i` is `AttackKind::ALL[i]`.
    pub fn from_generated(flows: &[FlowRecord]) -> GroundTruth {
        let mut names = vec![Label::Benign.as_str().to_string()];
        names.extend(AttackKind::ALL.iter().map(|k| k.as_str().to_string()));
        let mut attack = vec![false];
        attack.extend(AttackKind::ALL.iter().map(|_| true));
        GroundTruth {
            labelled: true,
            unknown: vec![false; names.len()],
            names,
            attack,
            class: flows
                .iter()
                .map(|f| u16::from(label_code(f.label)))
                .collect(),
        }
    }

    /// An import's label column (`has_labels == false` gives an unlabelled truth).
    pub fn from_imported(traffic: &ImportedTraffic) -> GroundTruth {
        GroundTruth {
            labelled: traffic.has_labels,
            names: traffic.label_names.clone(),
            attack: traffic
                .label_names
                .iter()
                .map(|n| !is_benign(n) && !is_unknown_label(n))
                .collect(),
            unknown: traffic
                .label_names
                .iter()
                .map(|n| is_unknown_label(n))
                .collect(),
            class: traffic
                .truth
                .iter()
                .map(|t| t.unwrap_or(UNLABELLED))
                .collect(),
        }
    }

    /// Every flow of `n` unlabelled (e.g. known-good baseline rows without a label column).
    pub fn unlabelled(n: usize) -> GroundTruth {
        GroundTruth {
            labelled: false,
            names: Vec::new(),
            attack: Vec::new(),
            unknown: Vec::new(),
            class: vec![UNLABELLED; n],
        }
    }

    /// `self` followed by `other`, classes merged by name.
    pub fn concat(mut self, other: &GroundTruth) -> GroundTruth {
        let remap: Vec<u16> = other
            .names
            .iter()
            .zip(&other.attack)
            .map(
                |(name, &attack)| match self.names.iter().position(|n| n == name) {
                    Some(i) => i as u16,
                    None => {
                        self.names.push(name.clone());
                        self.attack.push(attack);
                        self.unknown.push(is_unknown_label(name));
                        (self.names.len() - 1) as u16
                    }
                },
            )
            .collect();
        self.class.extend(
            other
                .class
                .iter()
                .map(|&c| remap.get(usize::from(c)).copied().unwrap_or(UNLABELLED)),
        );
        self.labelled |= other.labelled;
        self
    }

    pub fn len(&self) -> usize {
        self.class.len()
    }

    pub fn is_empty(&self) -> bool {
        self.class.is_empty()
    }

    pub fn is_attack(&self, row: usize) -> bool {
        self.class
            .get(row)
            .and_then(|&c| self.attack.get(usize::from(c)))
            .copied()
            .unwrap_or(false)
    }

    /// True when the row's label is neither benign nor attack ("Background", "Unknown").
    pub fn is_unknown(&self, row: usize) -> bool {
        self.class
            .get(row)
            .and_then(|&c| self.unknown.get(usize::from(c)))
            .copied()
            .unwrap_or(false)
    }

    /// Rows whose label is neither benign nor attack.
    pub fn unknown_rows(&self) -> usize {
        (0..self.class.len())
            .filter(|&i| self.is_unknown(i))
            .count()
    }

    /// The row's class name; "unlabelled" without one.
    pub fn name(&self, row: usize) -> &str {
        self.class
            .get(row)
            .and_then(|&c| self.names.get(usize::from(c)))
            .map_or("unlabelled", String::as_str)
    }

    /// Attack classes in chart order; chart code `1 + i` is `attack_classes()[i]`.
    pub fn attack_classes(&self) -> Vec<usize> {
        (0..self.names.len()).filter(|&i| self.attack[i]).collect()
    }

    /// Per row: 0 for benign or unlabelled, `1 + i` for the i-th attack class (capped at 255).
    pub fn chart_codes(&self) -> Vec<u8> {
        let mut code_of = vec![0u8; self.names.len()];
        for (rank, class) in self.attack_classes().into_iter().enumerate() {
            code_of[class] = (rank + 1).min(255) as u8;
        }
        self.class
            .iter()
            .map(|&c| code_of.get(usize::from(c)).copied().unwrap_or(0))
            .collect()
    }

    /// Legend names for chart codes 1, 2, ...
    pub fn chart_classes(&self) -> Vec<String> {
        self.attack_classes()
            .into_iter()
            .map(|i| {
                let name = &self.names[i];
                AttackKind::ALL
                    .iter()
                    .find(|k| k.as_str() == name)
                    .map_or_else(|| name.clone(), |k| k.title().to_string())
            })
            .collect()
    }
}

/// A flow's chart code: 0 benign, `1 + i` for `AttackKind::ALL[i]`.
pub fn label_code(label: Label) -> u8 {
    match label {
        Label::Benign => 0,
        Label::Attack(k) => 1 + AttackKind::ALL.iter().position(|&a| a == k).unwrap_or(0) as u8,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn imported(names: &[&str], truth: &[Option<u16>]) -> GroundTruth {
        GroundTruth {
            labelled: true,
            names: names.iter().map(|s| s.to_string()).collect(),
            attack: names
                .iter()
                .map(|n| !is_benign(n) && !is_unknown_label(n))
                .collect(),
            unknown: names.iter().map(|n| is_unknown_label(n)).collect(),
            class: truth.iter().map(|t| t.unwrap_or(UNLABELLED)).collect(),
        }
    }

    #[test]
    fn background_and_unknown_are_neither_benign_nor_attack() {
        let g = imported(
            &["Background", "Normal", "Botnet", "unknown"],
            &[Some(0), Some(1), Some(2), Some(3)],
        );
        assert_eq!(
            (0..4)
                .map(|i| (g.is_attack(i), g.is_unknown(i)))
                .collect::<Vec<_>>(),
            [(false, true), (false, false), (true, false), (false, true)]
        );
        assert_eq!(g.unknown_rows(), 2);
        assert_eq!(g.attack_classes(), [2]);
    }

    #[test]
    fn generated_codes_match_the_attack_kind_order() {
        let g = GroundTruth::from_generated(&[]);
        assert_eq!(g.attack_classes().len(), AttackKind::ALL.len());
        assert_eq!(g.chart_classes()[0], AttackKind::ALL[0].title());
        assert!(!g.attack[0]);
    }

    #[test]
    fn imported_labels_map_to_attack_flags_and_chart_codes() {
        let g = imported(
            &["BENIGN", "DoS Hulk", "PortScan"],
            &[Some(0), Some(2), None, Some(1)],
        );
        assert_eq!(
            (0..4).map(|i| g.is_attack(i)).collect::<Vec<_>>(),
            [false, true, false, true]
        );
        assert_eq!(g.name(2), "unlabelled");
        assert_eq!(g.chart_codes(), [0, 2, 0, 1]);
        assert_eq!(g.chart_classes(), ["DoS Hulk", "PortScan"]);
    }

    #[test]
    fn concat_merges_classes_by_name() {
        let a = imported(&["normal", "neptune"], &[Some(0), Some(1)]);
        let b = imported(&["smurf", "normal"], &[Some(1), Some(0)]);
        let c = a.concat(&b);
        assert_eq!(c.names, ["normal", "neptune", "smurf"]);
        assert_eq!(c.class, [0, 1, 0, 2]);
        let u = GroundTruth::unlabelled(2).concat(&c);
        assert_eq!(u.len(), 6);
        assert!(!u.is_attack(0) && u.is_attack(5));
        assert_eq!(u.name(0), "unlabelled");
    }
}
