//! The training-data health check: before the models learn what is normal, say in plain words
//! what is wrong with what they would learn from: attacks the detectors found inside the
//! training part, a few sources making most of it, or too few flows to learn from.
//! The messages go into the report (`data.training_warnings`) and onto the page, before and
//! after the run. Not responsible for fixing anything (the detectors' stage holds detected
//! flows out of training; the remedies are the user's: a baseline, a saved model, or all
//! flows).

use crate::detection::behaviour::{BehaviourDetection, KeyRole};
use crate::traffic::flow::FlowRecord;
use crate::util::format_value::format_value;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// At least this many training rows stay: when detections cover more of the training part,
/// nothing is held out (the models would have too little to learn from) and the check says so.
pub const MIN_TRAINING_ROWS_KEPT: usize = 32;
/// Fewer training flows than this and the models' notion of normal means little.
pub const MIN_TRAINING_FLOWS: usize = 200;
/// One source making at least this share of the training flows is worth a word...
const DOMINANT_SHARE: f64 = 0.5;
/// ...when the training part has at least this many sources (a capture of one laptop is
/// naturally dominated by it).
const DOMINANT_MIN_SOURCES: usize = 10;
/// Detections listed by name; the rest are counted.
const LISTED: usize = 5;

/// Messages about the training rows `0..n_train`. `in_training` are the detections that
/// cover training rows, `covered` those rows (ascending), `held_out` whether they were left
/// out of training, `train_on_detected` whether the user asked to keep them.
pub fn check(
    flows: &[FlowRecord],
    n_train: usize,
    in_training: &[BehaviourDetection],
    covered: &[usize],
    held_out: bool,
    train_on_detected: bool,
) -> Vec<String> {
    let mut out = Vec::new();
    let n_train = n_train.min(flows.len());
    let share = |k: usize| format_value(100.0 * k as f64 / n_train.max(1) as f64);
    for d in in_training.iter().take(LISTED) {
        let rows = d.flows.iter().filter(|&&r| (r as usize) < n_train).count();
        let role = match d.key_role {
            KeyRole::Attacker => "from",
            KeyRole::Victim => "against",
            KeyRole::Compromised => "by",
        };
        out.push(format!(
            "The training part contains {} {role} {} ({} of its {} flows, {} %).",
            with_article(&lower_first(d.kind.title())),
            d.key_ip,
            format_value(rows as f64),
            format_value(n_train as f64),
            share(rows),
        ));
    }
    if in_training.len() > LISTED {
        out.push(format!(
            "… and {} more detections in the training part.",
            in_training.len() - LISTED
        ));
    }
    if !covered.is_empty() {
        out.push(if held_out {
            format!(
                "Their {} flows were left out of training, so the models learn normal \
                 traffic from the other {}.",
                format_value(covered.len() as f64),
                format_value((n_train - covered.len()) as f64)
            )
        } else if train_on_detected {
            "They were kept in training as asked: the models learn them as normal, and only \
             the detectors flag them."
                .to_string()
        } else {
            format!(
                "They cover almost all of the training part, so they were kept in training \
                 (leaving them out would leave fewer than {} flows): the models learn them \
                 as normal. Import a known-good baseline or apply a saved model.",
                MIN_TRAINING_ROWS_KEPT
            )
        });
    }
    let mut per_src: BTreeMap<IpAddr, usize> = BTreeMap::new();
    for f in &flows[..n_train] {
        *per_src.entry(f.src_ip).or_default() += 1;
    }
    if per_src.len() >= DOMINANT_MIN_SOURCES {
        let (top, count) =
            per_src.iter().fold(
                (None, 0),
                |(bi, bc), (ip, &c)| if c > bc { (Some(*ip), c) } else { (bi, bc) },
            );
        if let Some(top) = top {
            if count as f64 >= DOMINANT_SHARE * n_train as f64 {
                out.push(format!(
                    "One source, {top}, makes {} % of the training flows ({} of {}): the \
                     models learn mostly its traffic as normal.",
                    share(count),
                    format_value(count as f64),
                    format_value(n_train as f64)
                ));
            }
        }
    }
    let trained = if held_out {
        n_train - covered.len()
    } else {
        n_train
    };
    if trained < MIN_TRAINING_FLOWS {
        out.push(format!(
            "Only {} flows to learn from: the models need at least {} to say what is \
             normal, so treat their scores with care. The detectors' findings do not depend \
             on training.",
            format_value(trained as f64),
            format_value(MIN_TRAINING_FLOWS as f64)
        ));
    }
    out
}

/// "Port scan" → "port scan"; "SYN flood" stays (an acronym keeps its capitals).
fn lower_first(title: &str) -> String {
    let mut chars = title.chars();
    match (chars.next(), chars.next()) {
        (Some(a), Some(b)) if b.is_ascii_lowercase() => {
            format!("{}{}", a.to_ascii_lowercase(), &title[a.len_utf8()..])
        }
        _ => title.to_string(),
    }
}

fn with_article(noun: &str) -> String {
    let article = if noun.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {noun}")
}
