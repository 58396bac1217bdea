//! Evaluation of the behavioural detectors and the models on generated traffic, printed as
//! Markdown tables (`scripts/evaluate`): the figures the README quotes come from here, never
//! from a timed or tuned test.
//!
//! 1. False detections: every preset with `attacks=none`, several seeds: detections per hour
//!    of traffic per 100 hosts (the floor is 0.1).
//! 2. Each attack kind alone in the default scenario, trained on the first quarter
//!    (`train=window`) and on everything (`train=all`, the attack inside the training part):
//!    recall of the kind's flows by the models alone, the detectors alone and combined, and
//!    the combined false-positive rate.
//! 3. The same on the stealthy preset (hard on purpose), per kind.
//!
//! Usage: evaluate [SEEDS] (default 3: seeds 1, 2, 3); arguments parsed by `clap`.

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    use clap::Parser;
    /// Prints the detection evaluation on generated traffic as Markdown tables: false
    /// detections per hour per 100 hosts on benign-only presets, and per attack kind the
    /// recall of the models alone, the behavioural detectors alone and both combined.
    #[derive(Parser, Debug)]
    #[command(name = "evaluate", version)]
    struct Args {
        /// How many generator seeds per case (1, 2, ... SEEDS).
        #[arg(default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=50))]
        seeds: u64,
    }
    let seeds = Args::parse().seeds;
    eval::false_detections(seeds);
    eval::per_kind("demo", seeds);
    eval::per_kind("stealthy_intrusion", seeds);
}

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
mod eval {
    use anomaly_detector::detection::behaviour::{self, BehaviourParams};
    use anomaly_detector::detection::run_config::RunConfig;
    use anomaly_detector::output::report::{Metrics, Report};
    use anomaly_detector::pipeline;
    use anomaly_detector::traffic::flow::AttackKind;
    use anomaly_detector::traffic::generator;
    use anomaly_detector::traffic::generator::presets::PRESETS;
    use std::collections::BTreeMap;
    use std::time::Instant;

    fn config(query: &str) -> RunConfig {
        let (config, notices) = RunConfig::from_query(query);
        assert!(notices.is_empty(), "{query}: {notices:?}");
        config
    }

    fn report(config: &RunConfig) -> Report {
        let t0 = Instant::now();
        let now = move || t0.elapsed().as_secs_f64() * 1e3;
        pipeline::run(config, &now, &mut |_| true)
            .expect("run")
            .report
    }

    pub fn false_detections(seeds: u64) {
        println!("## False detections on benign-only generated traffic\n");
        println!("| preset | seeds | flows | hours | hosts | detections | per hour per 100 hosts | kinds |");
        println!("|---|---:|---:|---:|---:|---:|---:|---|");
        let (mut all_detections, mut all_host_hours) = (0usize, 0.0);
        for preset in PRESETS {
            let (mut flows, mut detections, mut hours, mut hosts) = (0usize, 0usize, 0.0, 0u32);
            let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
            for seed in 1..=seeds {
                let c = config(&format!("preset={}&attacks=none&seed={seed}", preset.id));
                let traffic = generator::generate(&c.generator).expect("generate");
                let found = behaviour::detect_all(&traffic.flows, &BehaviourParams::default());
                flows += traffic.flows.len();
                detections += found.len();
                for d in &found {
                    *kinds.entry(d.kind.as_str()).or_default() += 1;
                }
                hours += c.generator.duration_s / 3600.0;
                hosts = c.generator.hosts;
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

    pub fn per_kind(preset: &str, seeds: u64) {
        println!("## Each attack kind, preset `{preset}`: recall of its flows (mean over {seeds} seeds, min)\n");
        println!("| kind | training | models | detectors | combined | combined FPR |");
        println!("|---|---|---:|---:|---:|---:|");
        let base = config(&format!("preset={preset}"));
        let kinds: Vec<AttackKind> = base.generator.attacks.iter().map(|a| a.kind).collect();
        let kinds = if preset == "demo" {
            AttackKind::ALL.to_vec()
        } else {
            kinds
        };
        for kind in kinds {
            for train in ["window", "all"] {
                let (mut models, mut detectors, mut combined, mut fpr) =
                    (Vec::new(), Vec::new(), Vec::new(), Vec::new());
                for seed in 1..=seeds {
                    let query = if preset == "demo" {
                        format!("preset={preset}&attacks={kind}&train={train}&seed={seed}")
                    } else {
                        format!("preset={preset}&train={train}&seed={seed}")
                    };
                    let r = report(&config(&query));
                    let m = &r.metrics;
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
    }
}
