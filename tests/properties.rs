//! Property tests: invariants of the models, the metrics and the URL state that must hold for
//! every generated input, not just the hand-picked ones of the unit tests. Sizes and case
//! counts are small so `cargo test --release --test properties` runs in seconds.
#![cfg(not(target_arch = "wasm32"))]

use anomaly_detector::detection::models::isolation_forest::MaxSamples;
use anomaly_detector::detection::models::{
    IsolationForest, IsolationForestParams, MlpParams, MlpRegressor,
};
use anomaly_detector::detection::run_config::RunConfig;
use anomaly_detector::findings::metrics::{average_precision, roc_auc};
use anomaly_detector::traffic::flow::AttackKind;
use anomaly_detector::traffic::generator::presets::PRESETS;
use anomaly_detector::util::matrix::Matrix;
use proptest::prelude::*;

/// A `rows x cols` matrix of values from `value`.
fn matrix(
    rows: std::ops::RangeInclusive<usize>,
    cols: std::ops::RangeInclusive<usize>,
    value: impl Strategy<Value = f64> + Clone,
) -> impl Strategy<Value = Matrix> {
    (rows, cols).prop_flat_map(move |(r, c)| {
        proptest::collection::vec(value.clone(), r * c)
            .prop_map(move |data| Matrix::from_vec(r, c, data).expect("r x c values"))
    })
}

/// Any finite f64, from subnormals to ±f64::MAX, with plenty of repeats and zeros (constant
/// columns are where split code divides by zero-width ranges).
fn any_finite() -> impl Strategy<Value = f64> + Clone {
    prop_oneof![
        3 => -10.0f64..10.0,
        1 => Just(0.0),
        1 => Just(1.0),
        1 => proptest::num::f64::NORMAL | proptest::num::f64::SUBNORMAL | proptest::num::f64::ZERO,
    ]
}

/// Values an autoencoder can meet after standardisation, with generous outliers. Beyond
/// about 1e150 the squared error itself overflows f64, which is arithmetic, not a defect.
fn scaled_value() -> impl Strategy<Value = f64> + Clone {
    prop_oneof![4 => -5.0f64..5.0, 1 => -1e6f64..1e6, 1 => Just(0.0)]
}

fn small_forest(seed: u64) -> IsolationForest {
    IsolationForest::new(IsolationForestParams {
        n_estimators: 12,
        max_samples: MaxSamples::Count(16),
        random_state: seed,
        ..Default::default()
    })
}

fn small_mlp(seed: u64) -> MlpRegressor {
    MlpRegressor::new(MlpParams {
        hidden_layer_sizes: vec![3],
        max_iter: 8,
        random_state: seed,
        ..Default::default()
    })
}

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn forest_scores_are_finite_for_finite_input(
        x in matrix(2..=40, 1..=5, any_finite()),
        seed in any::<u64>(),
    ) {
        let mut f = small_forest(seed);
        f.fit(&x).unwrap();
        let scores = f.score_samples(&x).unwrap();
        prop_assert_eq!(scores.len(), x.rows());
        for s in &scores {
            // Minus the paper's score 2^(-E[h]/c): always in [-1, 0).
            prop_assert!(s.is_finite() && *s >= -1.0 && *s < 0.0, "score {}", s);
        }
        for s in f.decision_function(&x).unwrap() {
            prop_assert!(s.is_finite());
        }
    }

    #[test]
    fn mlp_errors_are_finite_for_finite_input(
        x in matrix(4..=30, 1..=4, scaled_value()),
        seed in any::<u64>(),
    ) {
        let mut m = small_mlp(seed);
        m.fit(&x, &x).unwrap();
        let errors = m.reconstruction_errors(&x).unwrap();
        prop_assert_eq!(errors.len(), x.rows());
        for e in &errors {
            prop_assert!(e.is_finite() && *e >= 0.0, "error {}", e);
        }
    }

    /// Scoring is per row: shuffling (and subsetting) the scored rows permutes the scores.
    #[test]
    fn forest_scores_do_not_depend_on_other_scored_rows(
        train in matrix(4..=40, 1..=4, -10.0f64..10.0),
        picks in proptest::collection::vec(any::<prop::sample::Index>(), 1..30),
        seed in any::<u64>(),
    ) {
        let mut f = small_forest(seed);
        f.fit(&train).unwrap();
        let all = f.score_samples(&train).unwrap();
        let order: Vec<usize> = picks.iter().map(|i| i.index(train.rows())).collect();
        let shuffled = f.score_samples(&train.select_rows(&order)).unwrap();
        let expected: Vec<f64> = order.iter().map(|&i| all[i]).collect();
        prop_assert_eq!(bits(&shuffled), bits(&expected));
    }

    /// fit -> export JSON text -> import -> score is bit-identical to scoring the original.
    #[test]
    fn model_files_round_trip_bit_identically(
        x in matrix(4..=30, 1..=4, scaled_value()),
        seed in any::<u64>(),
    ) {
        let mut f = small_forest(seed);
        f.fit(&x).unwrap();
        let back = IsolationForest::import_json(&f.export_json().to_string()).unwrap();
        prop_assert_eq!(bits(&back.score_samples(&x).unwrap()), bits(&f.score_samples(&x).unwrap()));

        let mut m = small_mlp(seed);
        m.fit(&x, &x).unwrap();
        let back = MlpRegressor::import_json(&m.export_json().to_string()).unwrap();
        prop_assert_eq!(
            bits(&back.reconstruction_errors(&x).unwrap()),
            bits(&m.reconstruction_errors(&x).unwrap())
        );
    }
}

/// Labels with at least one positive and one negative, and integer-valued scores (so the
/// monotone transforms below are exact and cannot merge distinct scores into ties).
fn labelled_scores() -> impl Strategy<Value = (Vec<f64>, Vec<bool>)> {
    proptest::collection::vec((0u32..40, any::<bool>()), 2..80).prop_map(|v| {
        let mut scores: Vec<f64> = v.iter().map(|(s, _)| *s as f64).collect();
        let mut positive: Vec<bool> = v.iter().map(|(_, p)| *p).collect();
        positive[0] = true;
        positive[1] = false;
        scores.truncate(positive.len());
        (scores, positive)
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn auc_of_perfect_and_reversed_rankings(positive in proptest::collection::vec(any::<bool>(), 2..100)) {
        let mut positive = positive;
        positive[0] = true;
        positive[1] = false;
        // Every positive above every negative; within a class, any scores.
        let perfect: Vec<f64> = positive
            .iter()
            .enumerate()
            .map(|(i, &p)| if p { 1000.0 + i as f64 } else { i as f64 })
            .collect();
        let reversed: Vec<f64> = perfect.iter().map(|s| -s).collect();
        prop_assert_eq!(roc_auc(&perfect, &positive), Some(1.0));
        prop_assert_eq!(roc_auc(&reversed, &positive), Some(0.0));
        prop_assert_eq!(average_precision(&perfect, &positive), Some(1.0));
    }

    #[test]
    fn auc_is_invariant_to_monotone_transforms((scores, positive) in labelled_scores()) {
        let auc = roc_auc(&scores, &positive).unwrap();
        prop_assert!((0.0..=1.0).contains(&auc));
        let affine: Vec<f64> = scores.iter().map(|s| 2.0 * s - 5.0).collect();
        let cubed: Vec<f64> = scores.iter().map(|s| (s - 20.0).powi(3)).collect();
        let exp: Vec<f64> = scores.iter().map(|s| (s / 4.0).exp()).collect();
        for t in [&affine, &cubed, &exp] {
            prop_assert_eq!(roc_auc(t, &positive), Some(auc));
        }
        // Swapping the classes and negating the scores describes the same ranking.
        let neg: Vec<f64> = scores.iter().map(|s| -s).collect();
        let flipped: Vec<bool> = positive.iter().map(|p| !p).collect();
        let back = roc_auc(&neg, &flipped).unwrap();
        prop_assert!((back - auc).abs() < 1e-12, "{} vs {}", back, auc);
    }

    #[test]
    fn average_precision_is_in_unit_interval((scores, positive) in labelled_scores()) {
        let ap = average_precision(&scores, &positive).unwrap();
        prop_assert!((0.0..=1.0 + 1e-12).contains(&ap), "ap {}", ap);
        // Never below what a constant score (one tie) gives: the share of positives.
        let share = positive.iter().filter(|p| **p).count() as f64 / positive.len() as f64;
        let constant = average_precision(&vec![0.0; scores.len()], &positive).unwrap();
        prop_assert!((constant - share).abs() < 1e-12);
    }
}

/// A query that sets every URL key to a value from a range wider than the clamps, so the
/// configuration it yields is an arbitrary clamped one.
fn clamped_query() -> impl Strategy<Value = String> {
    let kinds = proptest::sample::subsequence(AttackKind::ALL.to_vec(), 0..=4);
    (
        (any::<u64>(), 0u32..1000, 1.0f64..200_000.0, kinds, any::<bool>()),
        (-0.5f64..1.5, 0.0f64..1.0, 0.0f64..1.0, -10.0f64..10.0, 0.0f64..1.2),
        (0usize..2000, 0usize..200_000, proptest::collection::vec(0usize..700, 0..8)),
        (0usize..3000, 1e-7f64..2.0, 0u8..3, any::<bool>(), 0usize..PRESETS.len() + 1),
        (0.0f64..12.0, 0.0f64..1.0, 0.0f64..4000.0, 0.0f64..1.0, 0.0f64..100_000.0),
    )
        .prop_map(|(g, d, m, o, a)| {
            let (seed, hosts, duration, kinds, all) = g;
            let (train_fraction, contamination, target_fpr, threshold_score, forest_weight) = d;
            let (trees, max_samples, hidden) = m;
            let (max_iter, lr, threshold, early, preset) = o;
            let (intensity, stealth, period, jitter, start) = a;
            let mut q = vec![];
            if preset < PRESETS.len() {
                q.push(format!("preset={}", PRESETS[preset].id));
            }
            let names: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
            q.push(format!("seed={seed}&hosts={hosts}&duration={duration}"));
            q.push(format!(
                "attacks={}",
                if names.is_empty() { "none".to_string() } else { names.join(",") }
            ));
            for k in &names {
                q.push(format!(
                    "{k}.intensity={intensity}&{k}.stealth={stealth}&{k}.period={period}&{k}.jitter={jitter}&{k}.start={start}"
                ));
            }
            q.push(format!(
                "train={}&train_fraction={train_fraction}&contamination={contamination}",
                if all { "all" } else { "window" }
            ));
            q.push(format!(
                "target_fpr={target_fpr}&threshold_score={threshold_score}&forest_weight={forest_weight}"
            ));
            q.push(format!("trees={trees}&max_samples={max_samples}&max_iter={max_iter}&learning_rate={lr}"));
            let hidden: Vec<String> = hidden.iter().map(|h| h.to_string()).collect();
            q.push(format!("hidden={}", hidden.join(",")));
            q.push(format!("threshold={}", ["contamination", "fpr", "score"][threshold as usize]));
            q.push(format!("early_stopping={early}"));
            q.join("&")
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn url_state_round_trips(query in clamped_query()) {
        let (config, _) = RunConfig::from_query(&query);
        let link = config.to_query();
        let (back, notices) = RunConfig::from_query(&link);
        prop_assert_eq!(&back, &config, "link {}", link);
        prop_assert!(notices.is_empty(), "the app's own link {} gave notices {:?}", link, notices);
    }

    #[test]
    fn from_query_never_panics(query in any::<String>()) {
        let (config, _) = RunConfig::from_query(&query);
        let _ = config.to_query();
    }

    #[test]
    fn from_query_never_panics_on_url_like_text(
        query in "[?]?([a-z_.]{0,12}=[-+0-9a-z.,%eE]{0,12}&?){0,8}"
    ) {
        let (config, _) = RunConfig::from_query(&query);
        let _ = config.to_query();
    }
}
