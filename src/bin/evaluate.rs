//! The detection evaluation, printed as Markdown tables (`scripts/evaluate`, docs/evaluation.md):
//! the figures the README and issue #20 quote come from here, never from a timed or tuned test.
//!
//! Public labelled datasets (under `$SHARED_DATA`, else `../shared/data` beside the checkout;
//! a missing file skips its dataset with a printed line):
//! 1. NSL-KDD's standard split: trained on the benign rows of KDDTrain+_20Percent, scored on
//!    KDDTest+ (anomaly-detection protocol: the labels choose the training rows, never a
//!    model input).
//! 2. The same with 5 % attack rows (seeded draw) mixed into the training part.
//! 3. The UNSW-NB15 sample: a seeded half of its benign rows to train on, the rest scored.
//!
//! For each: ROC-AUC, PR-AUC (average precision), TPR at 1 % and 0.1 % FPR and per-class
//! recall at 1 % FPR of the Isolation Forest, the autoencoder and the ensemble, mean ± sd over
//! model seeds (`random_state` 0, 1, ...), and the same for scikit-learn's models fitted on
//! the exact feature matrix ours saw (`scripts/evaluate_sklearn.py`, when python3 has
//! scikit-learn). Then the generator: every preset, and each attack kind alone at stealth 0,
//! 0.5 and 1; then the behavioural detectors' tables (false detections on benign-only
//! presets, recall per attack kind). Figures are computed in `findings::evaluation`.
//!
//! Usage: evaluate [SEEDS] [--model-seeds N] [--only SECTIONS] [--quick] [--no-sklearn]
//! (arguments parsed by `clap`; `evaluate --help` lists them).

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    use clap::Parser;
    let args = eval::Args::parse();
    match eval::run(&args) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("evaluate: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
mod eval {
    use anomaly_detector::detection::behaviour::{self, BehaviourParams};
    use anomaly_detector::detection::run_config::RunConfig;
    use anomaly_detector::findings::evaluation::{
        benign_split, mean_sd_cell, training_rows_with_attacks, EvalLabels, IncidentFigures,
        RankingFigures,
    };
    use anomaly_detector::findings::incidents::IncidentParams;
    use anomaly_detector::output::report::{Metrics, ModelMetrics};
    use anomaly_detector::pipeline::dataset::ImportInput;
    use anomaly_detector::pipeline::{self, detectors, DetectionError, FittedRun};
    use anomaly_detector::traffic::flow::AttackKind;
    use anomaly_detector::traffic::generator;
    use anomaly_detector::traffic::generator::presets::PRESETS;
    use anomaly_detector::traffic::import::{
        self, kdd, Format, ImportError, ImportLimits, ImportedTraffic,
    };
    use std::collections::BTreeMap;
    use std::fmt;
    use std::io::Write;
    use std::path::{Path, PathBuf};
    use std::time::Instant;

    /// Sections `--only` can select.
    const SECTIONS: [&str; 7] = [
        "nsl_kdd",
        "nsl_kdd_contaminated",
        "unsw",
        "presets",
        "stealth",
        "detectors",
        "incidents",
    ];
    const MODELS: [(&str, &str); 3] = [
        ("isolation_forest", "Isolation Forest"),
        ("mlp", "autoencoder"),
        ("ensemble", "ensemble"),
    ];
    /// The floors on NSL-KDD's standard split (ensemble ROC-AUC, TPR at 1 % FPR).
    const NSL_KDD_FLOORS: (f64, f64) = (0.98, 0.80);

    /// Prints the detection evaluation as Markdown tables: public labelled datasets (ours and
    /// scikit-learn's models on the same features), generator presets and attack kinds by
    /// stealth, and the behavioural detectors on generated traffic.
    #[derive(clap::Parser, Debug)]
    #[command(name = "evaluate", version)]
    pub struct Args {
        /// Generator seeds (1, 2, ... SEEDS) of the behavioural detectors' tables.
        #[arg(default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=50))]
        seeds: u64,
        /// Model seeds (random_state 0, 1, ...) each figure is the mean ± sd over
        /// (default 5; 2 with --quick).
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..=20))]
        model_seeds: Option<u64>,
        /// Comma-separated sections to run: nsl_kdd, nsl_kdd_contaminated, unsw, presets,
        /// stealth, detectors, incidents (default: all).
        #[arg(long, value_delimiter = ',')]
        only: Vec<String>,
        /// A faster pass: 2 model seeds, no large_site preset, stealth 0.5 only, one
        /// generator seed for the detectors' tables.
        #[arg(long)]
        quick: bool,
        /// Model seeds run side by side on this many threads (same figures, less waiting).
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=16))]
        jobs: u64,
        /// Leave out scikit-learn's rows.
        #[arg(long)]
        no_sklearn: bool,
        /// The shared data folder (default: $SHARED_DATA, else ../shared/data beside the
        /// checkout).
        #[arg(long)]
        shared_data: Option<PathBuf>,
        /// The Python interpreter that runs scripts/evaluate_sklearn.py.
        #[arg(long, default_value = "python3")]
        python: String,
    }

    #[derive(Debug)]
    pub enum EvalError {
        UnknownSection(String),
        NoModelSeed,
        Io {
            path: PathBuf,
            source: std::io::Error,
        },
        Import {
            path: PathBuf,
            source: ImportError,
        },
        Run {
            what: String,
            source: DetectionError,
        },
        Query {
            query: String,
            notices: String,
        },
    }

    impl fmt::Display for EvalError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                EvalError::UnknownSection(s) => {
                    write!(f, "unknown section {s:?} (known: {})", SECTIONS.join(", "))
                }
                EvalError::Io { path, source } => write!(f, "{}: {source}", path.display()),
                EvalError::Import { path, source } => write!(f, "{}: {source}", path.display()),
                EvalError::Run { what, source } => write!(f, "{what}: {source}"),
                EvalError::Query { query, notices } => write!(f, "{query}: {notices}"),
                EvalError::NoModelSeed => f.write_str("no model seed to run"),
            }
        }
    }

    impl std::error::Error for EvalError {}

    struct Settings {
        model_seeds: Vec<u64>,
        jobs: usize,
        quick: bool,
        sklearn: bool,
        python: String,
        shared: PathBuf,
        scratch: PathBuf,
    }

    pub fn run(args: &Args) -> Result<(), EvalError> {
        for s in &args.only {
            if !SECTIONS.contains(&s.as_str()) {
                return Err(EvalError::UnknownSection(s.clone()));
            }
        }
        let wanted = |s: &str| args.only.is_empty() || args.only.iter().any(|o| o == s);
        let n_models = args.model_seeds.unwrap_or(if args.quick { 2 } else { 5 });
        let scratch = std::env::temp_dir().join(format!("evaluate-{}", std::process::id()));
        let settings = Settings {
            model_seeds: (0..n_models).collect(),
            jobs: args.jobs as usize,
            quick: args.quick,
            sklearn: !args.no_sklearn,
            python: args.python.clone(),
            shared: args.shared_data.clone().unwrap_or_else(shared_data_dir),
            scratch,
        };
        let t0 = Instant::now();
        let public: Vec<&str> = ["nsl_kdd", "nsl_kdd_contaminated", "unsw"]
            .into_iter()
            .filter(|s| wanted(s))
            .collect();
        if !public.is_empty() {
            public_datasets(&settings, &public)?;
        }
        if wanted("presets") {
            presets(&settings)?;
        }
        if wanted("stealth") {
            stealth(&settings)?;
        }
        if wanted("detectors") {
            let seeds = if args.quick { 1 } else { args.seeds };
            false_detections(seeds, args.quick, settings.jobs)?;
            per_kind("demo", seeds, settings.jobs)?;
            per_kind("stealthy_intrusion", seeds, settings.jobs)?;
        }
        if wanted("incidents") {
            let seeds = if args.quick { 1 } else { args.seeds };
            incidents(seeds, args.quick, settings.jobs)?;
        }
        let _ = std::fs::remove_dir_all(&settings.scratch);
        eprintln!("evaluate: {:.0} s in all", t0.elapsed().as_secs_f64());
        Ok(())
    }

    /// `$SHARED_DATA`, or `../shared/data` beside the checkout (as the tests find it).
    fn shared_data_dir() -> PathBuf {
        std::env::var_os("SHARED_DATA").map_or_else(
            || Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data"),
            PathBuf::from,
        )
    }

    fn config(query: &str) -> Result<RunConfig, EvalError> {
        let (config, notices) = RunConfig::from_query(query);
        if notices.is_empty() {
            Ok(config)
        } else {
            Err(EvalError::Query {
                query: query.to_string(),
                notices: format!("{notices:?}"),
            })
        }
    }

    fn with_model_seed(mut config: RunConfig, seed: u64) -> RunConfig {
        config.detection.isolation_forest.random_state = seed;
        config.detection.mlp.random_state = seed;
        config
    }

    // ---------------------------------------------------------------- public datasets

    /// A labelled dataset under the anomaly-detection protocol: train on `train`, score `test`.
    struct PublicSet {
        title: String,
        protocol: String,
        train: ImportedTraffic,
        test: ImportedTraffic,
        test_name: String,
        /// Class groups for per-class recall (e.g. NSL-KDD attack → category).
        group: fn(&str) -> String,
    }

    /// Per model name: one `RankingFigures` per seed.
    type SeedFigures = BTreeMap<String, Vec<RankingFigures>>;

    struct Evaluated {
        set: PublicSet,
        flows_scored: usize,
        attacks: usize,
        trained_on: usize,
        features: usize,
        group_sizes: BTreeMap<String, usize>,
        ours: SeedFigures,
        sklearn: Result<SeedFigures, String>,
        seconds: f64,
    }

    fn read_import(path: &Path, format: Format) -> Result<ImportedTraffic, EvalError> {
        let bytes = std::fs::read(path).map_err(|source| EvalError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        import::import(&bytes, Some(format), &ImportLimits::default(), &mut |_| {
            true
        })
        .map_err(|source| EvalError::Import {
            path: path.to_path_buf(),
            source,
        })
    }

    fn same_name(name: &str) -> String {
        name.to_string()
    }

    fn nsl_kdd(shared: &Path, attack_share: f64) -> Result<Option<PublicSet>, EvalError> {
        let dir = shared.join("nsl_kdd");
        let (train_path, test_path) = (
            dir.join("KDDTrain+_20Percent.txt"),
            dir.join("KDDTest+.txt"),
        );
        for p in [&train_path, &test_path] {
            if !p.is_file() {
                println!(
                    "Skipped NSL-KDD: {} not found (set SHARED_DATA).\n",
                    p.display()
                );
                return Ok(None);
            }
        }
        let full_train = read_import(&train_path, Format::Kdd)?;
        let test = read_import(&test_path, Format::Kdd)?;
        let rows = training_rows_with_attacks(&full_train.is_attack(), attack_share, 1);
        let train = full_train.select_rows(&rows);
        let attacks = train
            .is_attack()
            .iter()
            .filter(|a| **a == Some(true))
            .count();
        let (title, protocol) = if attack_share > 0.0 {
            (
                "NSL-KDD, 5 % attacks in training".to_string(),
                format!(
                    "trained on KDDTrain+_20Percent's {} benign rows plus {attacks} of its attack \
                     rows drawn at random (seed 1; {:.1} % of the training part), scored on \
                     KDDTest+",
                    rows.len() - attacks,
                    100.0 * attacks as f64 / rows.len() as f64
                ),
            )
        } else {
            (
                "NSL-KDD standard split".to_string(),
                format!(
                    "trained on the {} benign rows of KDDTrain+_20Percent, scored on KDDTest+",
                    rows.len()
                ),
            )
        };
        Ok(Some(PublicSet {
            title,
            protocol,
            train,
            test,
            test_name: "KDDTest+.txt".into(),
            group: kdd::attack_category,
        }))
    }

    fn unsw(shared: &Path) -> Result<Option<PublicSet>, EvalError> {
        let path = shared
            .join("unsw_nb15_sample")
            .join("UNSW_NB15_training-set-IPY.csv");
        if !path.is_file() {
            println!(
                "Skipped the UNSW-NB15 sample: {} not found (set SHARED_DATA).\n",
                path.display()
            );
            return Ok(None);
        }
        let all = read_import(&path, Format::Unsw)?;
        let (train_rows, test_rows) = benign_split(&all.is_attack(), 0.5, 1);
        Ok(Some(PublicSet {
            title: "UNSW-NB15 sample".into(),
            protocol: format!(
                "one file of {} rows: a random half of its benign rows (seed 1, {} rows) to \
                 train on, the other {} rows scored",
                all.flows.len(),
                train_rows.len(),
                test_rows.len()
            ),
            train: all.select_rows(&train_rows),
            test: all.select_rows(&test_rows),
            test_name: "UNSW_NB15_training-set-IPY.csv (scored part)".into(),
            group: same_name,
        }))
    }

    fn public_datasets(settings: &Settings, which: &[&str]) -> Result<(), EvalError> {
        let mut done = Vec::new();
        for &id in which {
            let set = match id {
                "nsl_kdd" => nsl_kdd(&settings.shared, 0.0)?,
                "nsl_kdd_contaminated" => nsl_kdd(&settings.shared, 0.05)?,
                _ => unsw(&settings.shared)?,
            };
            if let Some(set) = set {
                done.push(evaluate_public(settings, id, set)?);
            }
        }
        if done.is_empty() {
            return Ok(());
        }
        let seeds = settings.model_seeds.len();
        println!(
            "## Public labelled datasets: ranking of the attacks (mean ± sd over {seeds} model seeds)\n"
        );
        for e in &done {
            println!(
                "- **{}**: {}; {} rows trained on, {} features; {} flows scored, {} of them \
                 attacks ({:.0} s).",
                e.set.title,
                e.set.protocol,
                e.trained_on,
                e.features,
                e.flows_scored,
                e.attacks,
                e.seconds
            );
        }
        println!();
        println!(
            "| dataset | model | implementation | ROC-AUC | PR-AUC | TPR at 1 % FPR | TPR at 0.1 % FPR |"
        );
        println!("|---|---|---|---:|---:|---:|---:|");
        for e in &done {
            let mut rows: Vec<(&str, &SeedFigures)> = vec![("ours", &e.ours)];
            if let Ok(sk) = &e.sklearn {
                rows.push(("scikit-learn", sk));
            }
            for (implementation, figures) in rows {
                for (model, model_title) in MODELS {
                    let f = figures.get(model).map(Vec::as_slice).unwrap_or(&[]);
                    println!(
                        "| {} | {model_title} | {implementation} | {} | {} | {} | {} |",
                        e.set.title,
                        mean_sd_cell(f.iter().map(|x| x.roc_auc)),
                        mean_sd_cell(f.iter().map(|x| x.pr_auc)),
                        mean_sd_cell(f.iter().map(|x| x.tpr_at_1pct_fpr)),
                        mean_sd_cell(f.iter().map(|x| x.tpr_at_01pct_fpr)),
                    );
                }
            }
        }
        println!();
        for e in &done {
            if let Err(reason) = &e.sklearn {
                println!("scikit-learn rows for {}: {reason}\n", e.set.title);
            }
        }
        for e in &done {
            class_table(e);
        }
        if let Some(e) = done
            .iter()
            .find(|e| e.set.title == "NSL-KDD standard split")
        {
            floors(e);
        }
        Ok(())
    }

    fn class_table(e: &Evaluated) {
        println!(
            "### {}: recall per attack class at 1 % FPR (mean ± sd)\n",
            e.set.title
        );
        let mut header = "| class | flows |".to_string();
        let mut columns: Vec<(&str, &SeedFigures)> = vec![("ours", &e.ours)];
        if let Ok(sk) = &e.sklearn {
            columns.push(("scikit-learn", sk));
        }
        for (implementation, _) in &columns {
            for (_, title) in MODELS {
                header.push_str(&format!(" {title} ({implementation}) |"));
            }
        }
        println!("{header}");
        println!("|---|---:|{}", "---:|".repeat(columns.len() * MODELS.len()));
        for (class, n) in &e.group_sizes {
            let mut line = format!("| {class} | {n} |");
            for (_, figures) in &columns {
                for (model, _) in MODELS {
                    let f = figures.get(model).map(Vec::as_slice).unwrap_or(&[]);
                    let cell = mean_sd_cell(f.iter().map(|x| x.class_recall.get(class).copied()));
                    line.push_str(&format!(" {cell} |"));
                }
            }
            println!("{line}");
        }
        println!();
    }

    fn floors(e: &Evaluated) {
        let mean = |model: &str, pick: fn(&RankingFigures) -> Option<f64>| {
            let v: Vec<f64> = e
                .ours
                .get(model)
                .map(|f| f.iter().filter_map(pick).collect())
                .unwrap_or_default();
            (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
        };
        let (auc_floor, tpr_floor) = NSL_KDD_FLOORS;
        let verdict = |v: Option<f64>, floor: f64| match v {
            Some(v) if v >= floor => format!("{v:.3} ≥ {floor} holds"),
            Some(v) => format!("{v:.3} < {floor}: does not hold"),
            None => "undefined".to_string(),
        };
        println!(
            "Issue #20's floors on NSL-KDD's standard split, our ensemble: ROC-AUC {}; TPR at 1 % FPR {}.\n",
            verdict(mean("ensemble", |f| f.roc_auc), auc_floor),
            verdict(mean("ensemble", |f| f.tpr_at_1pct_fpr), tpr_floor)
        );
    }

    /// What the first model seed's run also gives: the shape of the evaluated set and the
    /// features exported for scikit-learn.
    struct FirstSeed {
        flows_scored: usize,
        attacks: usize,
        trained_on: usize,
        features: usize,
        group_sizes: BTreeMap<String, usize>,
        exported: Result<PathBuf, String>,
    }

    type PerModel = Vec<(&'static str, RankingFigures)>;

    fn figures_per_model(scored: &pipeline::ScoredRun, labels: &EvalLabels) -> PerModel {
        vec![
            (
                "isolation_forest",
                RankingFigures::compute(&scored.isolation_forest, labels),
            ),
            ("mlp", RankingFigures::compute(&scored.mlp, labels)),
            (
                "ensemble",
                RankingFigures::compute(&scored.ensemble, labels),
            ),
        ]
    }

    fn collect(runs: Vec<PerModel>) -> SeedFigures {
        let mut out: SeedFigures = BTreeMap::new();
        for run in runs {
            for (model, f) in run {
                out.entry(model.to_string()).or_default().push(f);
            }
        }
        out
    }

    /// `f` over the seeds on up to `jobs` threads, results in the seeds' order.
    fn par_map<T: Send>(seeds: &[u64], jobs: usize, f: &(dyn Fn(u64) -> T + Sync)) -> Vec<T> {
        let jobs = jobs.clamp(1, seeds.len().max(1));
        if jobs == 1 {
            return seeds.iter().map(|&s| f(s)).collect();
        }
        let mut slots: Vec<Option<T>> = (0..seeds.len()).map(|_| None).collect();
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..jobs)
                .map(|w| {
                    scope.spawn(move || {
                        seeds
                            .iter()
                            .enumerate()
                            .skip(w)
                            .step_by(jobs)
                            .map(|(i, &s)| (i, f(s)))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            for h in handles {
                match h.join() {
                    Ok(done) => {
                        for (i, t) in done {
                            slots[i] = Some(t);
                        }
                    }
                    Err(panic) => std::panic::resume_unwind(panic),
                }
            }
        });
        slots.into_iter().flatten().collect()
    }

    fn evaluate_public(
        settings: &Settings,
        id: &str,
        set: PublicSet,
    ) -> Result<Evaluated, EvalError> {
        let t0 = Instant::now();
        let first_seed = settings.model_seeds.first().copied();
        let one = |seed: u64| -> Result<(PerModel, Option<FirstSeed>), EvalError> {
            let clock = pipeline::native_clock();
            let config = with_model_seed(RunConfig::default(), seed);
            let input = ImportInput {
                traffic: set.test.clone(),
                file_name: set.test_name.clone(),
                baseline: Some((set.train.clone(), "training part".to_string())),
            };
            let fitted = pipeline::run_imported(&config, input, 0.0, &clock, &mut |_| true)
                .map_err(|source| EvalError::Run {
                    what: set.title.clone(),
                    source,
                })?;
            let scored = &fitted.output.scored;
            let labels = EvalLabels::from_ground_truth(
                &scored.ground_truth,
                scored.eval_start..scored.flows.len(),
                &set.group,
            );
            let first = (Some(seed) == first_seed).then(|| {
                let train = detectors::training_rows(scored.training_rows, &scored.held_out);
                FirstSeed {
                    flows_scored: labels.len(),
                    attacks: labels.attacks(),
                    trained_on: train.len(),
                    features: fitted.explainer.x.cols(),
                    group_sizes: labels.attack_group_sizes(),
                    exported: if settings.sklearn {
                        export_features(settings, id, &fitted, &train, &labels)
                    } else {
                        Err("left out (--no-sklearn)".to_string())
                    },
                }
            });
            Ok((figures_per_model(scored, &labels), first))
        };
        let mut runs = Vec::new();
        let mut first = None;
        for r in par_map(&settings.model_seeds, settings.jobs, &one) {
            let (figures, f) = r?;
            runs.push(figures);
            first = first.or(f);
        }
        let ours = collect(runs);
        let Some(first) = first else {
            return Err(EvalError::NoModelSeed);
        };
        let FirstSeed {
            flows_scored,
            attacks,
            trained_on,
            features,
            group_sizes,
            exported,
        } = first;
        let mut sklearn = exported.and_then(|meta| run_sklearn(settings, &meta));
        // sklearn.metrics on our own first-seed ensemble scores must give our figures.
        if let Ok(sk) = &mut sklearn {
            let check = sk.remove("ours_ensemble_check").unwrap_or_default();
            let ours_first = ours.get("ensemble").and_then(|f| f.first());
            match (check.first(), ours_first) {
                (Some(theirs), Some(mine)) if same_figures(theirs, mine) => eprintln!(
                    "{}: our figures equal sklearn.metrics' on our scores",
                    set.title
                ),
                (theirs, mine) => println!(
                    "Warning, {}: sklearn.metrics on our ensemble scores gives {theirs:?}, we \
                     computed {mine:?}.\n",
                    set.title
                ),
            }
        }
        Ok(Evaluated {
            set,
            flows_scored,
            attacks,
            trained_on,
            features,
            group_sizes,
            ours,
            sklearn,
            seconds: t0.elapsed().as_secs_f64(),
        })
    }

    fn same_figures(a: &RankingFigures, b: &RankingFigures) -> bool {
        let close = |x: Option<f64>, y: Option<f64>| match (x, y) {
            (Some(x), Some(y)) => (x - y).abs() < 1e-9,
            (None, None) => true,
            _ => false,
        };
        close(a.roc_auc, b.roc_auc)
            && close(a.pr_auc, b.pr_auc)
            && close(a.tpr_at_1pct_fpr, b.tpr_at_1pct_fpr)
            && close(a.tpr_at_01pct_fpr, b.tpr_at_01pct_fpr)
            && a.class_recall.len() == b.class_recall.len()
            && a.class_recall
                .iter()
                .all(|(k, v)| close(Some(*v), b.class_recall.get(k).copied()))
    }

    /// Writes the standardised matrix our models saw (raw little-endian f64) and a JSON file
    /// describing it for scripts/evaluate_sklearn.py; the JSON file's path.
    fn export_features(
        settings: &Settings,
        id: &str,
        fitted: &FittedRun,
        train: &[usize],
        labels: &EvalLabels,
    ) -> Result<PathBuf, String> {
        fn io(p: &Path) -> impl Fn(std::io::Error) -> String + '_ {
            move |e| format!("{}: {e}", p.display())
        }
        std::fs::create_dir_all(&settings.scratch).map_err(io(&settings.scratch))?;
        let x = &fitted.explainer.x;
        let matrix = settings.scratch.join(format!("{id}.f64"));
        let mut bytes = Vec::with_capacity(x.rows() * x.cols() * 8);
        for i in 0..x.rows() {
            for v in x.row(i) {
                bytes.extend_from_slice(&v.to_le_bytes());
            }
        }
        std::fs::write(&matrix, bytes).map_err(io(&matrix))?;
        let meta = serde_json::json!({
            "matrix": matrix,
            "rows": x.rows(),
            "cols": x.cols(),
            "columns": fitted.explainer.columns.iter().map(|c| c.name.clone()).collect::<Vec<_>>(),
            "train_rows": train,
            "eval_rows": labels.rows,
            "attack": labels.attack,
            "group": labels.group.iter().map(|&g| labels.groups[g].clone()).collect::<Vec<_>>(),
            "params": fitted.output.report.config.detection,
            "ours_ensemble": labels
                .rows
                .iter()
                .map(|&r| fitted.output.scored.ensemble[r])
                .collect::<Vec<f64>>(),
        });
        let path = settings.scratch.join(format!("{id}.json"));
        std::fs::write(&path, meta.to_string()).map_err(io(&path))?;
        Ok(path)
    }

    #[derive(serde::Deserialize)]
    struct SklearnLine {
        model: String,
        figures: RankingFigures,
    }

    /// Runs scripts/evaluate_sklearn.py on an exported matrix; its figures per model, or why
    /// there are none (no python3, no scikit-learn, a failure).
    fn run_sklearn(settings: &Settings, meta: &Path) -> Result<SeedFigures, String> {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/evaluate_sklearn.py");
        let seeds: Vec<String> = settings.model_seeds.iter().map(u64::to_string).collect();
        let out = std::process::Command::new(&settings.python)
            .arg(&script)
            .arg("--meta")
            .arg(meta)
            .arg("--seeds")
            .arg(seeds.join(","))
            .output()
            .map_err(|e| format!("not run ({} {}: {e})", settings.python, script.display()))?;
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            let last = err.lines().last().unwrap_or("no message");
            return Err(format!("not run ({}: {last})", script.display()));
        }
        let mut figures: SeedFigures = BTreeMap::new();
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let parsed: SklearnLine = serde_json::from_str(line)
                .map_err(|e| format!("unreadable output of {}: {e}", script.display()))?;
            figures
                .entry(parsed.model)
                .or_default()
                .push(parsed.figures);
        }
        Ok(figures)
    }

    // ---------------------------------------------------------------- generated traffic

    /// One generated run per model seed; the figures of each model on its evaluated rows
    /// (classes are the generator's attack kinds).
    fn generated_figures(
        query: &str,
        settings: &Settings,
    ) -> Result<(SeedFigures, usize, usize), EvalError> {
        let base = config(query)?;
        let one = |seed: u64| -> Result<(PerModel, usize, usize), EvalError> {
            let clock = pipeline::native_clock();
            let c = with_model_seed(base.clone(), seed);
            let fitted = pipeline::run_fitted(&c, &clock, &mut |_| true).map_err(|source| {
                EvalError::Run {
                    what: query.to_string(),
                    source,
                }
            })?;
            let s = &fitted.output.scored;
            let labels = EvalLabels::from_ground_truth(
                &s.ground_truth,
                s.eval_start..s.flows.len(),
                &same_name,
            );
            Ok((
                figures_per_model(s, &labels),
                labels.len(),
                labels.attacks(),
            ))
        };
        let (mut runs, mut rows, mut attacks) = (Vec::new(), 0, 0);
        for r in par_map(&settings.model_seeds, settings.jobs, &one) {
            let (figures, n, a) = r?;
            runs.push(figures);
            (rows, attacks) = (n, a);
        }
        Ok((collect(runs), rows, attacks))
    }

    fn figures_of<'a>(f: &'a SeedFigures, model: &str) -> &'a [RankingFigures] {
        f.get(model).map(Vec::as_slice).unwrap_or(&[])
    }

    fn presets(settings: &Settings) -> Result<(), EvalError> {
        let seeds = &settings.model_seeds;
        println!(
            "## Generator presets: ranking by the models (generator seed 1, mean ± sd over {} model seeds)\n",
            seeds.len()
        );
        println!("| preset | flows scored | attack flows | IF ROC-AUC | AE ROC-AUC | ensemble ROC-AUC | ensemble PR-AUC | ensemble TPR at 1 % FPR | ensemble TPR at 0.1 % FPR | kinds recalled < 0.9 at 1 % FPR (ensemble) |");
        println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|");
        for preset in PRESETS {
            if settings.quick && preset.id == "large_site" {
                println!("| large_site | (left out by --quick) | | | | | | | | |");
                continue;
            }
            let t0 = Instant::now();
            let (f, rows, attacks) =
                generated_figures(&format!("preset={}&seed=1", preset.id), settings)?;
            let ens = figures_of(&f, "ensemble");
            let mut low = Vec::new();
            let kinds: std::collections::BTreeSet<&String> =
                ens.iter().flat_map(|x| x.class_recall.keys()).collect();
            for kind in kinds {
                let m = anomaly_detector::findings::evaluation::MeanSd::of(
                    ens.iter().map(|x| x.class_recall.get(kind).copied()),
                );
                if let Some(m) = m.filter(|m| m.mean < 0.9) {
                    low.push(format!("{kind} {:.2}", m.mean));
                }
            }
            println!(
                "| {} | {rows} | {attacks} | {} | {} | {} | {} | {} | {} | {} |",
                preset.id,
                mean_sd_cell(figures_of(&f, "isolation_forest").iter().map(|x| x.roc_auc)),
                mean_sd_cell(figures_of(&f, "mlp").iter().map(|x| x.roc_auc)),
                mean_sd_cell(ens.iter().map(|x| x.roc_auc)),
                mean_sd_cell(ens.iter().map(|x| x.pr_auc)),
                mean_sd_cell(ens.iter().map(|x| x.tpr_at_1pct_fpr)),
                mean_sd_cell(ens.iter().map(|x| x.tpr_at_01pct_fpr)),
                if low.is_empty() {
                    "none".to_string()
                } else {
                    low.join(", ")
                }
            );
            eprintln!("preset {}: {:.0} s", preset.id, t0.elapsed().as_secs_f64());
        }
        println!();
        Ok(())
    }

    fn stealth(settings: &Settings) -> Result<(), EvalError> {
        let seeds = &settings.model_seeds;
        let levels: &[f64] = if settings.quick {
            &[0.5]
        } else {
            &[0.0, 0.5, 1.0]
        };
        println!(
            "## Each attack kind alone by stealth, preset `demo`: the models alone (generator seed 1, mean ± sd over {} model seeds)\n",
            seeds.len()
        );
        println!("| kind | stealth | attack flows | ensemble ROC-AUC | ensemble recall at 1 % FPR | IF recall at 1 % FPR | AE recall at 1 % FPR |");
        println!("|---|---:|---:|---:|---:|---:|---:|");
        let t0 = Instant::now();
        for kind in AttackKind::ALL {
            for &level in levels {
                let query = format!("preset=demo&attacks={kind}&{kind}.stealth={level}&seed=1");
                let (f, _, attacks) = generated_figures(&query, settings)?;
                let recall = |model: &str| {
                    mean_sd_cell(
                        figures_of(&f, model)
                            .iter()
                            .map(|x| x.class_recall.get(kind.as_str()).copied()),
                    )
                };
                println!(
                    "| {kind} | {level} | {attacks} | {} | {} | {} | {} |",
                    mean_sd_cell(figures_of(&f, "ensemble").iter().map(|x| x.roc_auc)),
                    recall("ensemble"),
                    recall("isolation_forest"),
                    recall("mlp"),
                );
            }
        }
        eprintln!("stealth: {:.0} s", t0.elapsed().as_secs_f64());
        println!();
        Ok(())
    }

    // ---------------------------------------------------------------- behavioural detectors

    fn report_metrics(query: &str) -> Result<ModelMetrics, EvalError> {
        let c = config(query)?;
        let clock = pipeline::native_clock();
        pipeline::run(&c, &clock, &mut |_| true)
            .map(|out| out.report.metrics)
            .map_err(|source| EvalError::Run {
                what: query.to_string(),
                source,
            })
    }

    pub fn false_detections(seeds: u64, quick: bool, jobs: usize) -> Result<(), EvalError> {
        println!("## False detections on benign-only generated traffic\n");
        println!("| preset | seeds | flows | hours | hosts | detections | per hour per 100 hosts | kinds |");
        println!("|---|---:|---:|---:|---:|---:|---:|---|");
        let (mut all_detections, mut all_host_hours) = (0usize, 0.0);
        let seed_list: Vec<u64> = (1..=seeds).collect();
        for preset in PRESETS {
            if quick && preset.id == "large_site" {
                continue;
            }
            // Per seed: flows, detection kinds, hours, hosts.
            let one = |seed: u64| -> Result<(usize, Vec<&'static str>, f64, u32), EvalError> {
                let c = config(&format!("preset={}&attacks=none&seed={seed}", preset.id))?;
                let traffic = generator::generate(&c.generator).map_err(|e| EvalError::Run {
                    what: preset.id.to_string(),
                    source: DetectionError::InvalidScenario(e),
                })?;
                let found = behaviour::detect_all(&traffic.flows, &BehaviourParams::default());
                Ok((
                    traffic.flows.len(),
                    found.iter().map(|d| d.kind.as_str()).collect(),
                    c.generator.duration_s / 3600.0,
                    c.generator.hosts,
                ))
            };
            let (mut flows, mut detections, mut hours, mut hosts) = (0usize, 0usize, 0.0, 0u32);
            let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
            for r in par_map(&seed_list, jobs, &one) {
                let (n, found, h, hs) = r?;
                flows += n;
                detections += found.len();
                for k in found {
                    *kinds.entry(k).or_default() += 1;
                }
                hours += h;
                hosts = hs;
            }
            let host_hours = hours * f64::from(hosts) / 100.0;
            all_detections += detections;
            all_host_hours += host_hours;
            let kinds: Vec<String> = kinds.iter().map(|(k, n)| format!("{k} {n}")).collect();
            println!(
                "| {} | {seeds} | {flows} | {hours:.1} | {hosts} | {detections} | {:.3} | {} |",
                preset.id,
                detections as f64 / host_hours,
                kinds.join(", ")
            );
        }
        println!(
            "\nAll presets: {all_detections} detections in {:.1} hours × 100 hosts = {:.3} per hour per 100 hosts.\n",
            all_host_hours,
            all_detections as f64 / all_host_hours
        );
        std::io::stdout().flush().ok();
        Ok(())
    }

    /// Incidents an analyst would read at the default settings, with the incident budget and
    /// without it: how many, how many hold no attack flow, and which injected attacks an
    /// incident holds.
    pub fn incidents(seeds: u64, quick: bool, jobs: usize) -> Result<(), EvalError> {
        let default_budget = RunConfig::default().detection.incident_budget;
        println!("## Incidents at the default settings, with the incident budget ({default_budget} model-only incidents per hour per 100 hosts) and without (generator seeds 1 to {seeds})\n");
        println!("| preset | budget | hours × 100 hosts | incidents | false incidents | false per hour per 100 hosts | attacks recalled | kinds not always recalled (recalled/injected) |");
        println!("|---|---:|---:|---:|---:|---:|---:|---|");
        let seed_list: Vec<u64> = (1..=seeds).collect();
        let budgets = [default_budget, 0.0];
        for preset in PRESETS {
            if quick && preset.id == "large_site" {
                continue;
            }
            let t0 = Instant::now();
            // Per seed: hours × hosts / 100, and the figures at each budget.
            let one = |seed: u64| -> Result<(f64, Vec<IncidentFigures>), EvalError> {
                let query = format!("preset={}&seed={seed}", preset.id);
                let c = config(&query)?;
                let clock = pipeline::native_clock();
                let fitted = pipeline::run_fitted(&c, &clock, &mut |_| true).map_err(|source| {
                    EvalError::Run {
                        what: query.clone(),
                        source,
                    }
                })?;
                let scored = &fitted.output.scored;
                let spec = c.detection.threshold_spec();
                let figures = budgets
                    .iter()
                    .map(|&b| {
                        let t =
                            pipeline::rethreshold(scored, &spec, &IncidentParams::with_budget(b));
                        IncidentFigures::of(
                            &t.incidents,
                            &scored.flows,
                            &scored.ground_truth,
                            &scored.truth,
                        )
                    })
                    .collect();
                let host_hours =
                    scored.evaluated_duration_s / 3600.0 * f64::from(c.generator.hosts) / 100.0;
                Ok((host_hours, figures))
            };
            let mut host_hours = 0.0;
            let mut totals = vec![IncidentFigures::default(); budgets.len()];
            for r in par_map(&seed_list, jobs, &one) {
                let (h, figures) = r?;
                host_hours += h;
                for (t, f) in totals.iter_mut().zip(&figures) {
                    t.add(f);
                }
            }
            for (b, t) in budgets.iter().zip(&totals) {
                let (hit, injected) = t.attacks_held();
                let missed: Vec<String> = t
                    .recalled
                    .iter()
                    .filter(|(_, (h, n))| h < n)
                    .map(|(k, (h, n))| format!("{k} {h}/{n}"))
                    .collect();
                println!(
                    "| {} | {} | {host_hours:.1} | {} | {} | {:.1} | {hit}/{injected} | {} |",
                    preset.id,
                    if *b > 0.0 {
                        b.to_string()
                    } else {
                        "none".to_string()
                    },
                    t.listed,
                    t.false_listed,
                    t.false_listed as f64 / host_hours,
                    if missed.is_empty() {
                        "–".to_string()
                    } else {
                        missed.join(", ")
                    },
                );
            }
            std::io::stdout().flush().ok();
            eprintln!(
                "incidents {}: {:.0} s",
                preset.id,
                t0.elapsed().as_secs_f64()
            );
        }
        println!();
        Ok(())
    }

    fn recall(m: Option<&Metrics>, kind: AttackKind) -> Option<f64> {
        m.and_then(|m| m.recall_by_kind.get(kind.as_str()).copied())
    }

    fn cell(values: &[Option<f64>]) -> String {
        let v: Vec<f64> = values.iter().flatten().copied().collect();
        if v.is_empty() {
            return "–".to_string();
        }
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        let min = v.iter().copied().fold(f64::INFINITY, f64::min);
        format!("{mean:.3} (min {min:.3})")
    }

    pub fn per_kind(preset: &str, seeds: u64, jobs: usize) -> Result<(), EvalError> {
        println!("## Each attack kind, preset `{preset}`: recall of its flows by the threshold (mean over {seeds} seeds, min)\n");
        println!("| kind | training | models | detectors | combined | combined FPR |");
        println!("|---|---|---:|---:|---:|---:|");
        let base = config(&format!("preset={preset}"))?;
        let single = preset == "demo";
        let kinds: Vec<AttackKind> = if single {
            AttackKind::ALL.to_vec()
        } else {
            base.generator.attacks.iter().map(|a| a.kind).collect()
        };
        let seed_list: Vec<u64> = (1..=seeds).collect();
        // Per training policy (and kind, when each kind runs alone): the runs' metrics; a
        // preset with all its attacks runs once per policy for every kind.
        let mut cache: BTreeMap<(String, &str), Vec<ModelMetrics>> = BTreeMap::new();
        for kind in kinds {
            for train in ["window", "all"] {
                let key = (
                    if single {
                        kind.to_string()
                    } else {
                        String::new()
                    },
                    train,
                );
                if !cache.contains_key(&key) {
                    let query = |seed: u64| {
                        if single {
                            format!("preset={preset}&attacks={kind}&train={train}&seed={seed}")
                        } else {
                            format!("preset={preset}&train={train}&seed={seed}")
                        }
                    };
                    let runs = par_map(&seed_list, jobs, &|seed| report_metrics(&query(seed)))
                        .into_iter()
                        .collect::<Result<Vec<_>, _>>()?;
                    cache.insert(key.clone(), runs);
                }
                let runs = cache.get(&key).map(Vec::as_slice).unwrap_or(&[]);
                let (mut models, mut detectors, mut combined, mut fpr) =
                    (Vec::new(), Vec::new(), Vec::new(), Vec::new());
                for m in runs {
                    models.push(recall(Some(&m.ensemble), kind));
                    detectors.push(recall(m.detectors.as_ref(), kind));
                    combined.push(recall(m.combined.as_ref(), kind));
                    fpr.push(m.combined.as_ref().and_then(|c| c.false_positive_rate));
                }
                println!(
                    "| {kind} | {train} | {} | {} | {} | {} |",
                    cell(&models),
                    cell(&detectors),
                    cell(&combined),
                    cell(&fpr)
                );
            }
        }
        println!();
        Ok(())
    }
}
