//! Native helper for tests/fidelity/metrics_vs_sklearn.py: reads `set,score,label` lines on
//! standard input and prints, per set, one JSON line with our ROC-AUC and average precision.
//!
//! It takes no arguments but `--help`/`--version` (parsed by `clap`, native only: built for
//! wasm its main is empty); anything else, or a malformed line, exits with code 2 and the
//! message on stderr. A reader that closes standard output early ends the output quietly.

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    cli::main()
}

#[cfg(not(target_arch = "wasm32"))]
mod cli {
    use anomaly_detector::findings::metrics;
    use clap::Parser;
    use std::collections::BTreeMap;
    use std::io::{self, Read, Write};
    use std::process::ExitCode;

    /// Computes ROC-AUC and average precision of scored sets read on standard input.
    ///
    /// Each input line is `set,score,label`: a set number (non-negative integer), a score
    /// (higher means more anomalous) and a label (an integer 0-255: 1 = positive, any other =
    /// negative). For each set, in ascending order, it prints one JSON line
    /// {"set": N, "roc_auc": .., "average_precision": ..}, computed as the detector's report
    /// does (ties as scikit-learn counts them); null where a metric is undefined (ROC-AUC
    /// with one class only, average precision without positives).
    #[derive(Parser, Debug)]
    #[command(name = "metrics_check", version)]
    struct Args {}

    pub fn main() -> ExitCode {
        Args::parse();
        let mut text = String::new();
        if let Err(e) = io::stdin().read_to_string(&mut text) {
            eprintln!("metrics_check: reading stdin: {e}");
            return ExitCode::from(2);
        }
        let mut sets: BTreeMap<u64, (Vec<f64>, Vec<bool>)> = BTreeMap::new();
        for (n, line) in text.lines().enumerate() {
            let cells: Vec<&str> = line.trim().split(',').collect();
            let parsed = match cells.as_slice() {
                [set, score, label] => set
                    .parse::<u64>()
                    .ok()
                    .zip(score.parse::<f64>().ok())
                    .zip(label.parse::<u8>().ok()),
                _ => None,
            };
            let Some(((set, score), label)) = parsed else {
                eprintln!("metrics_check: line {}: expected set,score,label", n + 1);
                return ExitCode::from(2);
            };
            let entry = sets.entry(set).or_default();
            entry.0.push(score);
            entry.1.push(label == 1);
        }
        match print(&sets) {
            // A reader that stopped early is not an error.
            Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
                eprintln!("metrics_check: stdout: {e}");
                ExitCode::from(2)
            }
            _ => ExitCode::SUCCESS,
        }
    }

    fn print(sets: &BTreeMap<u64, (Vec<f64>, Vec<bool>)>) -> io::Result<()> {
        let mut out = io::BufWriter::new(io::stdout().lock());
        for (set, (scores, labels)) in sets {
            let value = serde_json::json!({
                "set": set,
                "roc_auc": metrics::roc_auc(scores, labels),
                "average_precision": metrics::average_precision(scores, labels),
            });
            writeln!(out, "{value}")?;
        }
        out.flush()
    }

    #[cfg(test)]
    mod tests {
        use super::Args;
        use clap::CommandFactory;

        #[test]
        fn arguments_are_consistent() {
            Args::command().debug_assert();
        }
    }
}
