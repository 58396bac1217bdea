//! Native helper for tests/fidelity/metrics_vs_sklearn.py: reads `set,score,label` lines on
//! standard input and prints, per set, one JSON line with our ROC-AUC and average precision.

use anomaly_detector::findings::metrics;
use std::collections::BTreeMap;
use std::io::Read;

fn main() {
    let mut text = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut text) {
        eprintln!("metrics_check: reading stdin: {e}");
        std::process::exit(2);
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
            std::process::exit(2);
        };
        let entry = sets.entry(set).or_default();
        entry.0.push(score);
        entry.1.push(label == 1);
    }
    for (set, (scores, labels)) in sets {
        let value = serde_json::json!({
            "set": set,
            "roc_auc": metrics::roc_auc(&scores, &labels),
            "average_precision": metrics::average_precision(&scores, &labels),
        });
        println!("{value}");
    }
}
