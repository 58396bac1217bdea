//! The figures of a detection-evaluation table (`scripts/evaluate`): how well one model's
//! scores rank the attacks of a labelled set (ROC-AUC, average precision, true-positive rate
//! at a false-positive budget, per-class recall at 1 % FPR), their mean ± sd over model
//! seeds, and the anomaly-detection protocols that choose a labelled file's training rows
//! (benign rows only, a seeded share of them, or benign rows with a share of attacks mixed
//! in).
//!
//! Operating points are read off the evaluated rows' own ROC curve (the threshold that keeps
//! their false-positive rate within the budget), as published evaluations quote them; the
//! run's own threshold, taken from training scores, is the report's business. Not here:
//! running the pipeline or printing tables (`src/bin/evaluate.rs`).

use super::ground_truth::GroundTruth;
use super::incidents::DetectedIncident;
use super::metrics::truth_incident;
use super::metrics::{average_precision, roc_auc, threshold_at_fpr, tpr_at_fpr};
use crate::traffic::flow::{AttackKind, FlowRecord};
use crate::traffic::generator::Incident;
use crate::util::rng::DetRng;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::Range;

/// The false-positive budget per-class recall is read at.
pub const CLASS_RECALL_FPR: f64 = 0.01;

/// The labels of the evaluated rows: attack or not, and each row's class group (an attack
/// category, a generator attack kind, or the benign class's name).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EvalLabels {
    /// Row indices into the run's score vectors, ascending.
    pub rows: Vec<usize>,
    pub attack: Vec<bool>,
    /// Per row: index into `groups`.
    pub group: Vec<usize>,
    pub groups: Vec<String>,
}

impl EvalLabels {
    /// The rows of `range` that carry a benign or attack label (unlabelled and "unknown"
    /// rows are left out), their classes renamed by `group` (e.g. an NSL-KDD attack name to
    /// its category; return the name itself to keep classes apart).
    pub fn from_ground_truth(
        truth: &GroundTruth,
        range: Range<usize>,
        group: &dyn Fn(&str) -> String,
    ) -> EvalLabels {
        let mut labels = EvalLabels::default();
        let mut index: BTreeMap<String, usize> = BTreeMap::new();
        for row in range.filter(|&r| r < truth.class.len()) {
            let class = usize::from(truth.class[row]);
            let (Some(name), Some(&attack)) = (truth.names.get(class), truth.attack.get(class))
            else {
                continue;
            };
            if truth.unknown.get(class).copied().unwrap_or(false) {
                continue;
            }
            let g = group(name);
            let next = labels.groups.len();
            let gi = *index.entry(g.clone()).or_insert(next);
            if gi == next {
                labels.groups.push(g);
            }
            labels.rows.push(row);
            labels.attack.push(attack);
            labels.group.push(gi);
        }
        labels
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn attacks(&self) -> usize {
        self.attack.iter().filter(|&&a| a).count()
    }

    /// Rows per attack group, by name.
    pub fn attack_group_sizes(&self) -> BTreeMap<String, usize> {
        let mut sizes = BTreeMap::new();
        for (&g, &a) in self.group.iter().zip(&self.attack) {
            if a {
                *sizes.entry(self.groups[g].clone()).or_insert(0) += 1;
            }
        }
        sizes
    }
}

/// How one model's scores rank one labelled set. `None` where a figure is undefined (one
/// class only).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct RankingFigures {
    pub roc_auc: Option<f64>,
    /// Average precision (sklearn's `average_precision_score`).
    pub pr_auc: Option<f64>,
    pub tpr_at_1pct_fpr: Option<f64>,
    pub tpr_at_01pct_fpr: Option<f64>,
    /// Recall of each attack group at the 1 % FPR operating point.
    pub class_recall: BTreeMap<String, f64>,
}

impl RankingFigures {
    /// The figures of `scores` (one per run row, higher = more anomalous) on `labels`' rows.
    /// Rows past the end of `scores` are ignored.
    pub fn compute(scores: &[f64], labels: &EvalLabels) -> RankingFigures {
        let mut s = Vec::with_capacity(labels.len());
        let mut y = Vec::with_capacity(labels.len());
        let mut g = Vec::with_capacity(labels.len());
        for (k, &row) in labels.rows.iter().enumerate() {
            if let Some(&score) = scores.get(row) {
                s.push(score);
                y.push(labels.attack[k]);
                g.push(labels.group[k]);
            }
        }
        let mut class_recall = BTreeMap::new();
        if let Some(threshold) = threshold_at_fpr(&s, &y, CLASS_RECALL_FPR) {
            let mut counts = vec![(0usize, 0usize); labels.groups.len()];
            for ((&score, &attack), &group) in s.iter().zip(&y).zip(&g) {
                if attack {
                    counts[group].0 += 1;
                    counts[group].1 += usize::from(score >= threshold);
                }
            }
            for (name, &(n, hit)) in labels.groups.iter().zip(&counts) {
                if n > 0 {
                    class_recall.insert(name.clone(), hit as f64 / n as f64);
                }
            }
        }
        RankingFigures {
            roc_auc: roc_auc(&s, &y),
            pr_auc: average_precision(&s, &y),
            tpr_at_1pct_fpr: tpr_at_fpr(&s, &y, 0.01),
            tpr_at_01pct_fpr: tpr_at_fpr(&s, &y, 0.001),
            class_recall,
        }
    }
}

/// Mean and sample standard deviation (n − 1; 0 for one value) of a figure over seeds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MeanSd {
    pub mean: f64,
    pub sd: f64,
    pub n: usize,
}

impl MeanSd {
    /// Over the defined values; `None` when there are none.
    pub fn of(values: impl IntoIterator<Item = Option<f64>>) -> Option<MeanSd> {
        let v: Vec<f64> = values.into_iter().flatten().collect();
        if v.is_empty() {
            return None;
        }
        let n = v.len();
        let mean = v.iter().sum::<f64>() / n as f64;
        let sd = if n > 1 {
            (v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1) as f64).sqrt()
        } else {
            0.0
        };
        Some(MeanSd { mean, sd, n })
    }
}

impl fmt::Display for MeanSd {
    /// `0.981 ± 0.004` (three decimals, as the tables print).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.3} ± {:.3}", self.mean, self.sd)
    }
}

/// One figure of several seeds' results, `–` when undefined everywhere.
pub fn mean_sd_cell(values: impl IntoIterator<Item = Option<f64>>) -> String {
    MeanSd::of(values).map_or_else(|| "–".to_string(), |m| m.to_string())
}

/// Training rows for anomaly detection on a labelled file: every benign row, plus attack
/// rows drawn (seeded, without replacement) so that they are `attack_share` of the result
/// (0 = benign only; capped by the attacks available). Unlabelled rows are never chosen.
/// Ascending, so file order is kept.
pub fn training_rows_with_attacks(
    is_attack: &[Option<bool>],
    attack_share: f64,
    seed: u64,
) -> Vec<usize> {
    let benign: Vec<usize> = (0..is_attack.len())
        .filter(|&i| is_attack[i] == Some(false))
        .collect();
    let attacks: Vec<usize> = (0..is_attack.len())
        .filter(|&i| is_attack[i] == Some(true))
        .collect();
    let share = if attack_share.is_finite() {
        attack_share.clamp(0.0, 0.99)
    } else {
        0.0
    };
    let wanted = (share / (1.0 - share) * benign.len() as f64).round() as usize;
    let k = wanted.min(attacks.len());
    let mut rng = DetRng::derive(seed, "evaluation-contamination");
    let mut rows = benign;
    rows.extend(
        rng.sample_indices(attacks.len(), k)
            .into_iter()
            .map(|j| attacks[j]),
    );
    rows.sort_unstable();
    rows
}

/// A seeded split of one labelled file: `train_share` of its benign rows (drawn without
/// replacement) to train on; every other row (the remaining benign rows, all attacks and
/// unlabelled rows) to score. Both ascending.
pub fn benign_split(
    is_attack: &[Option<bool>],
    train_share: f64,
    seed: u64,
) -> (Vec<usize>, Vec<usize>) {
    let benign: Vec<usize> = (0..is_attack.len())
        .filter(|&i| is_attack[i] == Some(false))
        .collect();
    let share = if train_share.is_finite() {
        train_share.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let k = (share * benign.len() as f64).round() as usize;
    let mut rng = DetRng::derive(seed, "evaluation-split");
    let mut in_train = vec![false; is_attack.len()];
    for j in rng.sample_indices(benign.len(), k) {
        in_train[benign[j]] = true;
    }
    let train = (0..is_attack.len()).filter(|&i| in_train[i]).collect();
    let test = (0..is_attack.len()).filter(|&i| !in_train[i]).collect();
    (train, test)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn truth(classes: &[u16]) -> GroundTruth {
        GroundTruth {
            labelled: true,
            names: vec![
                "normal".into(),
                "neptune".into(),
                "smurf".into(),
                "satan".into(),
                "unknown".into(),
            ],
            attack: vec![false, true, true, true, false],
            unknown: vec![false, false, false, false, true],
            class: classes.to_vec(),
        }
    }

    fn category(name: &str) -> String {
        match name {
            "neptune" | "smurf" => "dos".into(),
            "satan" => "probe".into(),
            other => other.into(),
        }
    }

    #[test]
    fn labels_group_classes_and_leave_out_unknown_rows() {
        let t = truth(&[0, 1, 4, 2, 3, 0, 1]);
        let l = EvalLabels::from_ground_truth(&t, 1..7, &category);
        assert_eq!(l.rows, vec![1, 3, 4, 5, 6]);
        assert_eq!(l.attack, vec![true, true, true, false, true]);
        assert_eq!(l.groups, vec!["dos", "probe", "normal"]);
        assert_eq!(l.attacks(), 4);
        let sizes = l.attack_group_sizes();
        assert_eq!(sizes.get("dos"), Some(&3));
        assert_eq!(sizes.get("probe"), Some(&1));
        assert_eq!(sizes.get("normal"), None);
    }

    #[test]
    fn figures_rank_and_recall_per_group() {
        // 200 benign rows scored 0..199; dos attacks above every benign row, the probe
        // below all but a few: at 1 % FPR (2 benign rows may pass) dos is recalled, the
        // probe is not.
        let mut classes = vec![0u16; 200];
        let mut scores: Vec<f64> = (0..200).map(f64::from).collect();
        classes.extend([1, 2, 3]);
        scores.extend([500.0, 400.0, 150.5]);
        let t = truth(&classes);
        let l = EvalLabels::from_ground_truth(&t, 0..classes.len(), &category);
        let f = RankingFigures::compute(&scores, &l);
        assert_eq!(f.class_recall.get("dos"), Some(&1.0));
        assert_eq!(f.class_recall.get("probe"), Some(&0.0));
        assert_eq!(f.tpr_at_1pct_fpr, Some(2.0 / 3.0));
        assert_eq!(f.tpr_at_01pct_fpr, Some(2.0 / 3.0));
        // The probe outranks 151 of 200 benign rows: AUC = (2 + 151/200) / 3.
        let auc = f.roc_auc.unwrap();
        assert!((auc - (2.0 + 151.0 / 200.0) / 3.0).abs() < 1e-12, "{auc}");
        assert!(f.pr_auc.unwrap() < 1.0 && f.pr_auc.unwrap() > 0.66);
    }

    #[test]
    fn figures_are_undefined_without_attacks() {
        let t = truth(&[0, 0, 0]);
        let l = EvalLabels::from_ground_truth(&t, 0..3, &category);
        let f = RankingFigures::compute(&[1.0, 2.0, 3.0], &l);
        assert_eq!(f.roc_auc, None);
        assert_eq!(f.tpr_at_1pct_fpr, None);
        assert!(f.class_recall.is_empty());
    }

    #[test]
    fn mean_and_sample_sd() {
        let m = MeanSd::of([Some(1.0), None, Some(3.0)]).unwrap();
        assert_eq!((m.mean, m.n), (2.0, 2));
        assert!((m.sd - 2f64.sqrt()).abs() < 1e-12);
        assert_eq!(MeanSd::of([Some(0.5)]).unwrap().sd, 0.0);
        assert_eq!(MeanSd::of([None]), None);
        assert_eq!(mean_sd_cell([Some(0.98), Some(0.96)]), "0.970 ± 0.014");
        assert_eq!(mean_sd_cell([None]), "–");
    }

    #[test]
    fn contaminated_training_rows_hold_the_share_and_the_seed() {
        // 95 benign, 50 attacks, 5 unlabelled.
        let mut y = vec![Some(false); 95];
        y.extend(vec![Some(true); 50]);
        y.extend(vec![None; 5]);
        let clean = training_rows_with_attacks(&y, 0.0, 1);
        assert_eq!(clean, (0..95).collect::<Vec<_>>());
        let rows = training_rows_with_attacks(&y, 0.05, 1);
        let attacks = rows.iter().filter(|&&i| y[i] == Some(true)).count();
        assert_eq!(rows.len(), 100);
        assert_eq!(attacks, 5);
        assert!(rows.windows(2).all(|w| w[0] < w[1]));
        assert!(rows.iter().all(|&i| y[i].is_some()));
        assert_eq!(rows, training_rows_with_attacks(&y, 0.05, 1));
        assert_ne!(rows, training_rows_with_attacks(&y, 0.05, 2));
        // More attacks asked for than there are: all of them.
        assert_eq!(training_rows_with_attacks(&y, 0.9, 1).len(), 145);
    }

    #[test]
    fn benign_split_trains_on_benign_rows_only() {
        let mut y = vec![Some(false); 10];
        y.extend(vec![Some(true); 4]);
        y.push(None);
        let (train, test) = benign_split(&y, 0.5, 3);
        assert_eq!(train.len(), 5);
        assert!(train.iter().all(|&i| y[i] == Some(false)));
        assert_eq!(test.len(), 10);
        assert!((10..15).all(|i| test.contains(&i)));
        let mut all: Vec<usize> = train.iter().chain(&test).copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..15).collect::<Vec<_>>());
        assert_eq!((train.clone(), test), benign_split(&y, 0.5, 3));
        assert_ne!(train, benign_split(&y, 0.5, 4).0);
    }
}

/// How a run's listed incidents fare against the generator's ground truth: how many there
/// are, how many hold no attack flow at all (false incidents, what an analyst wastes time
/// on), and which injected attacks at least one incident holds a flow of.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct IncidentFigures {
    pub listed: u64,
    pub false_listed: u64,
    /// Per attack kind: (injected attacks an incident holds a flow of, injected attacks).
    pub recalled: BTreeMap<AttackKind, (u64, u64)>,
}

impl IncidentFigures {
    /// Figures of `incidents` (rows into `flows`) against the labels (`ground_truth`: which
    /// rows are attacks) and the injected attacks `truth` (which attack a row belongs to).
    pub fn of(
        incidents: &[DetectedIncident],
        flows: &[FlowRecord],
        ground_truth: &GroundTruth,
        truth: &[Incident],
    ) -> IncidentFigures {
        let mut out = IncidentFigures {
            listed: incidents.len() as u64,
            ..IncidentFigures::default()
        };
        let mut hit: BTreeSet<u32> = BTreeSet::new();
        for inc in incidents {
            let mut any_attack = false;
            for &r in &inc.flows {
                let Some(f) = flows.get(r as usize) else {
                    continue;
                };
                if ground_truth.is_attack(r as usize) {
                    any_attack = true;
                    if let Some(id) = truth_incident(f, truth) {
                        hit.insert(id);
                    }
                }
            }
            out.false_listed += u64::from(!any_attack);
        }
        for t in truth {
            let e = out.recalled.entry(t.kind).or_default();
            e.0 += u64::from(hit.contains(&t.id));
            e.1 += 1;
        }
        out
    }

    /// Injected attacks an incident holds a flow of, and injected attacks, over every kind.
    pub fn attacks_held(&self) -> (u64, u64) {
        self.recalled
            .values()
            .fold((0, 0), |(h, n), &(a, b)| (h + a, n + b))
    }

    /// Adds another run's figures (several generator seeds in one row).
    pub fn add(&mut self, other: &IncidentFigures) {
        self.listed += other.listed;
        self.false_listed += other.false_listed;
        for (k, (h, t)) in &other.recalled {
            let e = self.recalled.entry(*k).or_default();
            e.0 += h;
            e.1 += t;
        }
    }
}

#[cfg(test)]
mod incident_figure_tests {
    use super::*;
    use crate::findings::incidents::tests::flow;
    use crate::findings::incidents::{build, Grouping};
    use crate::traffic::flow::Label;

    #[test]
    fn false_incidents_and_recalled_attacks_are_counted() {
        let mut f = vec![
            flow(0.0, [10, 0, 0, 1], [10, 0, 0, 9], 80),
            flow(1.0, [10, 0, 0, 2], [10, 0, 0, 9], 22),
            flow(2.0, [10, 0, 0, 3], [10, 0, 0, 9], 443),
        ];
        f[1].label = Label::Attack(AttackKind::ALL[0]);
        f[1].incident_id = Some(0);
        let truth: Vec<Incident> = [0u32, 1]
            .iter()
            .map(|&id| Incident {
                id,
                kind: AttackKind::ALL[0],
                start_ts: 1.0,
                end_ts: 1.0,
                attacker: f[1].src_ip,
                victim: f[1].dst_ip,
                victims: vec![f[1].dst_ip],
                flows: 1,
            })
            .collect();
        let scores = [1.0; 3];
        let incs: Vec<DetectedIncident> = (0..3)
            .map(|r| build(&f, &[r], &scores, 0.5, Grouping::Source, f[r].src_ip))
            .collect();
        let figures = IncidentFigures::of(&incs, &f, &GroundTruth::from_generated(&f), &truth);
        assert_eq!((figures.listed, figures.false_listed), (3, 2));
        assert_eq!(figures.recalled[&AttackKind::ALL[0]], (1, 2));
        let mut twice = figures.clone();
        twice.add(&figures);
        assert_eq!((twice.listed, twice.false_listed), (6, 4));
        assert_eq!(twice.recalled[&AttackKind::ALL[0]], (2, 4));
        assert_eq!(twice.attacks_held(), (2, 4));
    }
}
