//! The behavioural detectors' stage: runs them over a dataset's flows before anything is
//! trained, keeps the detections of the scored traffic for the report, and returns the
//! training rows a detection covers so that the models do not learn an attack as normal
//! (`DetectionConfig::train_on_detected` turns that off). With a baseline file, the
//! baseline and the scored file are examined separately (they may be days apart).
//! Not responsible for the rules themselves (`detection::behaviour`) or for fusing
//! detections with the models' flags (`findings::incidents`).

use super::training_check::{self, MIN_TRAINING_ROWS_KEPT};
use crate::detection::behaviour::{self, BehaviourDetection};
use crate::detection::run_config::DetectionConfig;
use crate::traffic::flow::FlowRecord;
use crate::traffic::import::ImportWarning;

/// What the detectors found before training.
#[derive(Debug, Clone, Default)]
pub struct BehaviourFindings {
    /// Detections in the scored traffic (rows `scored_start..`), rows as in the dataset.
    pub detections: Vec<BehaviourDetection>,
    /// Training rows left out of training because a detection covers them, ascending.
    pub held_out: Vec<usize>,
    /// The training check's messages, in plain words.
    pub warnings: Vec<String>,
    /// False when the detectors did not run (turned off, or the input cannot support them).
    pub ran: bool,
}

/// Why the detectors cannot run on an imported file, if they cannot: every detector follows
/// hosts through time windows, so a file whose addresses or times the importer had to make
/// up (documentation addresses, one flow a second) would give detections of the placeholders
/// (one "host" scanning thousands of "ports") rather than of the traffic.
pub fn unsupported_input(warnings: &[ImportWarning]) -> Option<&'static str> {
    if warnings.contains(&ImportWarning::SynthesizedAddresses) {
        Some("the file has no IP addresses, and every detector follows hosts")
    } else if warnings.contains(&ImportWarning::SynthesizedTimestamps) {
        Some("the file has no timestamps, and every detector counts within time windows")
    } else {
        None
    }
}

/// The findings of detectors that did not run on an input they cannot read, saying why.
pub fn not_run(reason: &str) -> BehaviourFindings {
    BehaviourFindings {
        detections: Vec::new(),
        held_out: Vec::new(),
        warnings: vec![format!(
            "The behavioural detectors did not run: {reason}. Only the models' scores count \
             here, and they train on every flow of the training part."
        )],
        ran: false,
    }
}

/// Runs the detectors. `flows[..scored_start]` is a baseline (empty without one), rows
/// `0..n_train` are the training part.
pub fn find(
    flows: &[FlowRecord],
    scored_start: usize,
    n_train: usize,
    config: &DetectionConfig,
) -> BehaviourFindings {
    let params = &config.behaviour;
    let scored_start = scored_start.min(flows.len());
    let n_train = n_train.min(flows.len());
    let mut scored = behaviour::detect_all(&flows[scored_start..], params);
    if scored_start > 0 {
        for d in &mut scored {
            for row in &mut d.flows {
                *row += scored_start as u64;
            }
        }
    }
    let in_training: Vec<BehaviourDetection> = if scored_start > 0 {
        behaviour::detect_all(&flows[..scored_start], params)
    } else {
        scored
            .iter()
            .filter(|d| d.flows.first().is_some_and(|&r| (r as usize) < n_train))
            .cloned()
            .collect()
    };
    let mut covered: Vec<usize> = in_training
        .iter()
        .flat_map(|d| d.flows.iter().map(|&r| r as usize))
        .filter(|&r| r < n_train)
        .collect();
    covered.sort_unstable();
    covered.dedup();
    let kept = n_train - covered.len();
    let hold_out = !config.train_on_detected && kept >= MIN_TRAINING_ROWS_KEPT.min(n_train);
    let warnings = training_check::check(
        flows,
        n_train,
        &in_training,
        &covered,
        hold_out,
        config.train_on_detected,
    );
    BehaviourFindings {
        detections: scored,
        held_out: if hold_out { covered } else { Vec::new() },
        warnings,
        ran: params.enabled,
    }
}

/// `0..n_train` without the held-out rows (ascending).
pub fn training_rows(n_train: usize, held_out: &[usize]) -> Vec<usize> {
    let mut out = Vec::with_capacity(n_train.saturating_sub(held_out.len()));
    let mut skip = held_out.iter().peekable();
    for i in 0..n_train {
        while skip.next_if(|&&h| h < i).is_some() {}
        if skip.next_if(|&&h| h == i).is_none() {
            out.push(i);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn training_rows_skip_held_out() {
        assert_eq!(training_rows(6, &[]), vec![0, 1, 2, 3, 4, 5]);
        assert_eq!(training_rows(6, &[0, 2, 5, 9]), vec![1, 3, 4]);
        assert_eq!(training_rows(0, &[0]), Vec::<usize>::new());
    }
}
