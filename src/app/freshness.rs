//! Whether a finished run still shows what the form asks for, and what it takes to catch up:
//! a new threshold, a new ensemble weight or a new incident budget re-evaluates the kept scores at once (nothing
//! retrains), anything else makes the results out of date until the next run.
//!
//! For the page's "out of date — Run to update" marker and its instant re-evaluation; the
//! re-evaluation itself is `pipeline::FittedRun::reevaluate`. Not for deciding what a run
//! computes: that is the configuration alone.

use crate::detection::run_config::{DetectionConfig, RunConfig, ThresholdSpec};

/// What the last run was made from, as the page knew it when Run was pressed.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RunBasis {
    pub config: RunConfig,
    /// Names of the files the run read (`None`: generated traffic, no baseline, no model).
    pub traffic_file: Option<String>,
    pub baseline_file: Option<String>,
    pub model_file: Option<String>,
}

/// How the form differs from the run's basis.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Freshness {
    /// The threshold policy to move the run to, when the form's differs.
    pub threshold: Option<ThresholdSpec>,
    /// The forest's ensemble weight to re-combine the scores with, when the form's differs
    /// (never for a run scored by a saved model: its calibration is the model's).
    pub forest_weight: Option<f64>,
    /// The incident budget to re-list the incidents with, when the form's differs.
    pub incident_budget: Option<f64>,
    /// What changed that only a new run can show, in words ("traffic settings", "attacks",
    /// "the traffic file", ...); empty while the results are current.
    pub stale: Vec<&'static str>,
}

impl Freshness {
    /// True when the kept scores can be re-evaluated to follow the form.
    pub fn needs_reevaluation(&self) -> bool {
        self.threshold.is_some() || self.forest_weight.is_some() || self.incident_budget.is_some()
    }

    /// The marker's words, e.g. "Results are out of date (attacks changed): Run to update.".
    pub fn stale_message(&self) -> Option<String> {
        (!self.stale.is_empty()).then(|| {
            format!(
                "Results are out of date ({} changed): Run to update.",
                join_words(&self.stale)
            )
        })
    }
}

fn join_words(words: &[&str]) -> String {
    match words {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// Compares the form (`form`, with the files now chosen) with what the last run used.
pub fn compare(basis: &RunBasis, form: &RunBasis) -> Freshness {
    let imported = basis.traffic_file.is_some();
    let with_model = basis.model_file.is_some();
    let (run, now) = (&basis.config, &form.config);
    let mut out = Freshness::default();
    let spec = now.detection.threshold_spec();
    if spec != run.detection.threshold_spec() {
        out.threshold = Some(spec);
    }
    if !with_model && now.detection.forest_weight != run.detection.forest_weight {
        out.forest_weight = Some(now.detection.forest_weight);
    }
    if now.detection.incident_budget.to_bits() != run.detection.incident_budget.to_bits() {
        out.incident_budget = Some(now.detection.incident_budget);
    }

    let mut stale = Vec::new();
    if form.traffic_file != basis.traffic_file {
        stale.push("the traffic file");
    }
    if imported && form.baseline_file != basis.baseline_file {
        stale.push("the baseline file");
    }
    if form.model_file != basis.model_file {
        stale.push("the model file");
    }
    // A file's run does not read the generator's settings.
    if !imported && now.generator != run.generator {
        let attacks_only = {
            let mut g = now.generator.clone();
            g.attacks.clone_from(&run.generator.attacks);
            g == run.generator
        };
        stale.push(if attacks_only {
            "attacks"
        } else if now.generator.attacks == run.generator.attacks {
            "traffic settings"
        } else {
            "traffic settings and attacks"
        });
    }
    let (a, b) = (&run.detection, &now.detection);
    let trained = !with_model;
    if trained
        && (a.training != b.training
            || a.train_fraction != b.train_fraction
            || a.train_on_detected != b.train_on_detected)
    {
        stale.push("training");
    }
    if a.behaviour != b.behaviour {
        stale.push("detector settings");
    }
    if trained
        && (a.isolation_forest != b.isolation_forest
            || a.mlp != b.mlp
            || a.autoencoder_max_rows != b.autoencoder_max_rows)
    {
        stale.push("model parameters");
    }
    if trained && a.features != b.features {
        stale.push("features");
    }
    if a.max_reported_anomalies != b.max_reported_anomalies {
        stale.push("the anomaly list's length");
    }
    debug_assert!(
        covers_every_field(a),
        "a DetectionConfig field is missing from freshness::compare"
    );
    out.stale = stale;
    out
}

/// Spells out every field so that a new one fails to compile here until `compare` decides
/// whether it is instant or needs a run.
fn covers_every_field(d: &DetectionConfig) -> bool {
    let DetectionConfig {
        training: _,
        train_fraction: _,
        contamination: _,
        threshold: _,
        target_fpr: _,
        threshold_score: _,
        forest_weight: _,
        features: _,
        isolation_forest: _,
        mlp: _,
        autoencoder_max_rows: _,
        max_reported_anomalies: _,
        incident_budget: _,
        behaviour: _,
        train_on_detected: _,
    } = d;
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basis(query: &str) -> RunBasis {
        let (config, notices) = RunConfig::from_query(query);
        assert!(notices.is_empty(), "{notices:?}");
        RunBasis {
            config,
            ..RunBasis::default()
        }
    }

    #[test]
    fn same_settings_are_current() {
        let run = basis("seed=3&hosts=40");
        assert_eq!(compare(&run, &run.clone()), Freshness::default());
    }

    #[test]
    fn threshold_weight_and_budget_are_instant() {
        let run = basis("seed=3");
        let f = compare(&run, &basis("seed=3&incident_budget=0"));
        assert_eq!(f.incident_budget, Some(0.0));
        assert!(f.stale.is_empty() && f.needs_reevaluation(), "{f:?}");
        let f = compare(&run, &basis("seed=3&contamination=0.05&forest_weight=0.3"));
        assert_eq!(f.incident_budget, None);
        assert_eq!(
            f.threshold,
            Some(ThresholdSpec::Contamination {
                contamination: 0.05
            })
        );
        assert_eq!(f.forest_weight, Some(0.3));
        assert!(f.stale.is_empty(), "{:?}", f.stale);
        assert!(f.needs_reevaluation());
        // Another mode's parameter alone changes nothing the run shows.
        let mut form = run.clone();
        form.config.detection.target_fpr = 0.002;
        assert_eq!(compare(&run, &form), Freshness::default());
        let f = compare(&run, &basis("seed=3&threshold=target_fpr&target_fpr=0.002"));
        assert_eq!(
            f.threshold,
            Some(ThresholdSpec::TargetFpr { target_fpr: 0.002 })
        );
    }

    #[test]
    fn anything_else_needs_a_run_and_says_what() {
        let run = basis("seed=3");
        let words = |q: &str| compare(&run, &basis(q)).stale;
        assert_eq!(words("seed=4"), ["traffic settings"]);
        assert_eq!(words("seed=3&attacks=port_scan"), ["attacks"]);
        assert_eq!(
            words("seed=4&attacks=port_scan"),
            ["traffic settings and attacks"]
        );
        assert_eq!(words("seed=3&train=all"), ["training"]);
        assert_eq!(words("seed=3&trees=50"), ["model parameters"]);
        assert_eq!(
            words("seed=3&detector.scan.min_ports=40"),
            ["detector settings"]
        );
        assert_eq!(
            compare(&run, &basis("seed=3&trees=50&train=all")).stale_message(),
            Some(
                "Results are out of date (training and model parameters changed): Run to update."
                    .into()
            )
        );
    }

    #[test]
    fn a_files_run_ignores_the_generator_and_a_models_run_its_training() {
        let mut run = basis("seed=3");
        run.traffic_file = Some("capture.pcap".into());
        let mut form = basis("seed=9&hosts=12&trees=50");
        form.traffic_file = run.traffic_file.clone();
        assert_eq!(compare(&run, &form).stale, ["model parameters"]);
        run.model_file = Some("model.json".into());
        form.model_file = run.model_file.clone();
        form.config.detection.forest_weight = 0.2;
        assert_eq!(compare(&run, &form), Freshness::default());
        form.traffic_file = Some("other.pcap".into());
        form.model_file = None;
        assert_eq!(
            compare(&run, &form).stale,
            ["the traffic file", "the model file"]
        );
    }
}
