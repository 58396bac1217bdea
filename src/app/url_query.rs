//! A run's configuration as a URL query string, both ways.
//!
//! A link like `?seed=7&hosts=80&attacks=port_scan,syn_flood` reproduces a run, so parsing is
//! forgiving: out-of-range values are clamped, unknown keys ignored, and every adjustment is
//! returned as a [`ConfigNotice`] for the UI to show. The limits below are the ones the form
//! and the URL share.

use crate::detection::behaviour::thresholds::{self, Access, ThresholdField};
use crate::detection::models::isolation_forest::MaxSamples;
use crate::detection::models::mlp::Activation;
use crate::detection::run_config::{RunConfig, ThresholdMode, TrainingPolicy};
use crate::traffic::flow::AttackKind;
use crate::traffic::generator::presets::Preset;
use crate::traffic::generator::{self, AttackSpec, ScanMethod};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Limits the UI and URL clamp to, besides the generator's own.
pub const TRAIN_FRACTION_MIN: f64 = 0.05;
pub const TRAIN_FRACTION_MAX: f64 = 0.9;
pub const CONTAMINATION_MIN: f64 = 0.0005;
pub const CONTAMINATION_MAX: f64 = 0.5;
pub const TARGET_FPR_MIN: f64 = 0.00001;
pub const TARGET_FPR_MAX: f64 = 0.5;
/// Ensemble scores are robust z-scores; this bounds typing accidents, not meaningful values.
pub const THRESHOLD_SCORE_ABS_MAX: f64 = 1e6;
/// The keys that set the threshold policy and the incident budget: all a run scored by a
/// saved model takes from a query (the model brings everything else).
pub const THRESHOLD_KEYS: [&str; 5] = [
    "threshold",
    "contamination",
    "target_fpr",
    "threshold_score",
    "incident_budget",
];
/// `incident_budget`: model-only incidents per hour per 100 hosts; 0 lists them all, the top
/// bounds typing accidents.
pub const INCIDENT_BUDGET_MAX: f64 = 10_000.0;
pub const TREES_MIN: usize = 1;
pub const TREES_MAX: usize = 1000;
pub const MAX_SAMPLES_MIN: usize = 2;
pub const MAX_SAMPLES_MAX: usize = 100_000;
pub const LAYER_UNITS_MIN: usize = 1;
pub const LAYER_UNITS_MAX: usize = 512;
pub const LAYERS_MAX: usize = 6;
pub const MAX_ITER_MIN: usize = 1;
pub const MAX_ITER_MAX: usize = 2000;
pub const LEARNING_RATE_MIN: f64 = 1e-6;
pub const LEARNING_RATE_MAX: f64 = 1.0;
pub const TOL_MIN: f64 = 0.0;
pub const TOL_MAX: f64 = 1.0;
/// `ae_max_rows`: 0 means every training row; the top bounds typing accidents.
pub const AE_MAX_ROWS_MAX: usize = 100_000_000;

/// Something the URL asked for that was changed or ignored, in words for the user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfigNotice {
    pub key: String,
    pub message: String,
}

impl fmt::Display for ConfigNotice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.message)
    }
}

/// Decodes `%XX` escapes and `+` (as a space) of one query component; invalid escapes are kept
/// literally, like browsers do.
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Encodes a query value: unreserved characters and `,` stay, everything else is `%XX`.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b',') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

struct Notices(Vec<ConfigNotice>);

impl Notices {
    fn push(&mut self, key: &str, message: String) {
        self.0.push(ConfigNotice {
            key: key.to_string(),
            message,
        });
    }

    fn number<T>(&mut self, key: &str, raw: &str) -> Option<T>
    where
        T: std::str::FromStr,
    {
        match raw.trim().parse::<T>() {
            Ok(v) => Some(v),
            Err(_) => {
                self.push(key, format!("{raw:?} is not a valid number; ignored"));
                None
            }
        }
    }

    fn float(&mut self, key: &str, raw: &str, min: f64, max: f64) -> Option<f64> {
        let v: f64 = self.number(key, raw)?;
        if !v.is_finite() {
            self.push(key, format!("{raw:?} is not a finite number; ignored"));
            return None;
        }
        Some(self.clamp(key, v, min, max))
    }

    fn integer(&mut self, key: &str, raw: &str, min: u64, max: u64) -> Option<u64> {
        let v: f64 = self.float(key, raw, min as f64, max as f64)?;
        Some(v.round() as u64)
    }

    fn clamp(&mut self, key: &str, v: f64, min: f64, max: f64) -> f64 {
        if v < min {
            self.push(key, format!("{v} is below the minimum {min}; using {min}"));
            min
        } else if v > max {
            self.push(key, format!("{v} is above the maximum {max}; using {max}"));
            max
        } else {
            v
        }
    }
}

/// Sets one detector threshold from its URL value: a number clamped to the field's range
/// (rounded when whole), or a port list (`22,3389`, or `none`).
fn apply_threshold(
    params: &mut crate::detection::behaviour::BehaviourParams,
    field: &ThresholdField,
    key: &str,
    raw: &str,
    n: &mut Notices,
) {
    match field.access {
        Access::Number { set, .. } => {
            if let Some(v) = n.float(key, raw, field.min, field.max) {
                set(
                    params,
                    if field.unit.is_integer() {
                        v.round()
                    } else {
                        v
                    },
                );
            }
        }
        Access::Ports { set, .. } => {
            let raw = raw.trim();
            if raw.eq_ignore_ascii_case("none") {
                set(params, Vec::new());
                return;
            }
            let mut ports: Vec<u16> = Vec::new();
            for part in raw.split(',').filter(|s| !s.trim().is_empty()) {
                match part.trim().parse::<u16>() {
                    Ok(p) if p >= 1 => {
                        if !ports.contains(&p) {
                            ports.push(p);
                        }
                    }
                    _ => n.push(
                        key,
                        format!("{:?} is not a port (1-65535); left out", part.trim()),
                    ),
                }
            }
            if ports.len() > thresholds::PORTS_MAX {
                n.push(
                    key,
                    format!(
                        "{} ports is above the maximum {}; keeping the first {}",
                        ports.len(),
                        thresholds::PORTS_MAX,
                        thresholds::PORTS_MAX
                    ),
                );
                ports.truncate(thresholds::PORTS_MAX);
            }
            if ports.is_empty() {
                n.push(
                    key,
                    "no valid port (write none for no port); ignored".to_string(),
                );
            } else {
                set(params, ports);
            }
        }
    }
}

/// Parses `attacks=` values: `all`, `none`, or a comma-separated list of kind names.
fn parse_attack_list(raw: &str, notices: &mut Notices) -> Vec<AttackKind> {
    let raw = raw.trim();
    if raw.eq_ignore_ascii_case("all") {
        return AttackKind::ALL.to_vec();
    }
    if raw.is_empty() || raw.eq_ignore_ascii_case("none") {
        return Vec::new();
    }
    let mut kinds = Vec::new();
    for name in raw.split(',').filter(|s| !s.trim().is_empty()) {
        match AttackKind::parse(name) {
            Some(k) if !kinds.contains(&k) => kinds.push(k),
            Some(_) => {}
            None => notices.push(
                "attacks",
                format!(
                    "unknown attack kind {:?}; known kinds: {}",
                    name.trim(),
                    AttackKind::ALL.map(AttackKind::as_str).join(", ")
                ),
            ),
        }
    }
    kinds
}

impl RunConfig {
    /// The default configuration with a URL query (`a=1&b=2`, with or without the leading
    /// `?`) applied on top, plus what had to be adjusted.
    pub fn from_query(query: &str) -> (RunConfig, Vec<ConfigNotice>) {
        let mut config = RunConfig::default();
        let notices = config.apply_query(query);
        (config, notices)
    }

    /// Applies a URL query to this configuration. Attack kinds are applied first so per-attack
    /// settings (`port_scan.start=...`) refer to the final list, whatever the key order.
    pub fn apply_query(&mut self, query: &str) -> Vec<ConfigNotice> {
        let mut n = Notices(Vec::new());
        let pairs: Vec<(String, String)> = query
            .trim_start_matches('?')
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (percent_decode(k), percent_decode(v))
            })
            .collect();

        // A preset replaces the whole scenario, so it comes before anything that adjusts it.
        for (k, v) in &pairs {
            if k == "preset" {
                match Preset::find(v) {
                    Some(p) => self.generator = p.config(),
                    None => n.push(
                        k,
                        format!(
                            "unknown preset {v:?}; known presets: {}",
                            generator::presets::PRESETS.map(|p| p.id).join(", ")
                        ),
                    ),
                }
            }
        }
        // Duration next: attack timing defaults and limits depend on it.
        for (k, v) in &pairs {
            if k == "duration" {
                if let Some(d) = n.float(k, v, generator::DURATION_MIN_S, generator::DURATION_MAX_S)
                {
                    self.set_duration(d);
                }
            }
        }
        for (k, v) in &pairs {
            if k == "attacks" {
                let kinds = parse_attack_list(v, &mut n);
                let duration = self.generator.duration_s;
                self.generator.attacks = kinds
                    .into_iter()
                    .map(|kind| {
                        self.attack(kind)
                            .cloned()
                            .unwrap_or_else(|| AttackSpec::default_for(kind, duration))
                    })
                    .collect();
            }
        }
        for (k, v) in &pairs {
            self.apply_pair(k, v, &mut n);
        }
        // An explicit `threshold=` wins over the mode implied by `target_fpr`/`threshold_score`.
        for (k, v) in &pairs {
            if k == "threshold" {
                match ThresholdMode::parse(v) {
                    Some(mode) => self.detection.threshold = mode,
                    None => n.push(
                        k,
                        format!("{v:?} is not \"contamination\", \"fpr\" or \"score\"; ignored"),
                    ),
                }
            }
        }
        n.0
    }

    fn apply_pair(&mut self, key: &str, raw: &str, n: &mut Notices) {
        let d = &mut self.detection;
        match key {
            "duration" | "attacks" | "threshold" | "preset" => {}
            "target_fpr" => {
                if let Some(v) = n.float(key, raw, TARGET_FPR_MIN, TARGET_FPR_MAX) {
                    d.target_fpr = v;
                    d.threshold = ThresholdMode::TargetFpr;
                }
            }
            "threshold_score" => {
                if let Some(v) =
                    n.float(key, raw, -THRESHOLD_SCORE_ABS_MAX, THRESHOLD_SCORE_ABS_MAX)
                {
                    d.threshold_score = v;
                    d.threshold = ThresholdMode::Score;
                }
            }
            "start_ts" => {
                if let Some(v) = n.float(key, raw, 0.0, generator::START_TS_MAX) {
                    self.generator.start_ts = v;
                }
            }
            "seed" => {
                if let Some(seed) = n.number::<u64>(key, raw) {
                    self.generator.seed = seed;
                }
            }
            "hosts" => {
                if let Some(h) = n.integer(
                    key,
                    raw,
                    u64::from(generator::HOSTS_MIN),
                    u64::from(generator::HOSTS_MAX),
                ) {
                    self.generator.hosts = h as u32;
                }
            }
            "train" => match raw {
                "window" => d.training = TrainingPolicy::InitialWindow,
                "all" => d.training = TrainingPolicy::AllData,
                _ => n.push(
                    key,
                    format!("{raw:?} is not \"window\" or \"all\"; ignored"),
                ),
            },
            "train_fraction" => {
                if let Some(v) = n.float(key, raw, TRAIN_FRACTION_MIN, TRAIN_FRACTION_MAX) {
                    d.train_fraction = v;
                }
            }
            "contamination" => {
                if let Some(v) = n.float(key, raw, CONTAMINATION_MIN, CONTAMINATION_MAX) {
                    d.contamination = v;
                }
            }
            "forest_weight" => {
                if let Some(v) = n.float(key, raw, 0.0, 1.0) {
                    d.forest_weight = v;
                }
            }
            "incident_budget" => {
                if let Some(v) = n.float(key, raw, 0.0, INCIDENT_BUDGET_MAX) {
                    d.incident_budget = v;
                }
            }
            "trees" => {
                if let Some(v) = n.integer(key, raw, TREES_MIN as u64, TREES_MAX as u64) {
                    d.isolation_forest.n_estimators = v as usize;
                }
            }
            "max_samples" => {
                if raw == "auto" {
                    d.isolation_forest.max_samples = MaxSamples::Auto;
                } else if let Some(v) =
                    n.integer(key, raw, MAX_SAMPLES_MIN as u64, MAX_SAMPLES_MAX as u64)
                {
                    d.isolation_forest.max_samples = MaxSamples::Count(v as usize);
                }
            }
            "hidden" => {
                let mut layers = Vec::new();
                for part in raw.split(',').filter(|s| !s.trim().is_empty()) {
                    if let Some(u) =
                        n.integer(key, part, LAYER_UNITS_MIN as u64, LAYER_UNITS_MAX as u64)
                    {
                        layers.push(u as usize);
                    }
                }
                if layers.len() > LAYERS_MAX {
                    n.push(
                        key,
                        format!("{} layers is above the maximum {LAYERS_MAX}; keeping the first {LAYERS_MAX}", layers.len()),
                    );
                    layers.truncate(LAYERS_MAX);
                }
                if layers.is_empty() {
                    n.push(key, "no valid layer sizes; ignored".to_string());
                } else {
                    d.mlp.hidden_layer_sizes = layers;
                }
            }
            "activation" => match Activation::parse(raw) {
                Some(a) => d.mlp.activation = a,
                None => n.push(
                    key,
                    format!("{raw:?} is not relu, tanh, logistic or identity; ignored"),
                ),
            },
            "max_iter" => {
                if let Some(v) = n.integer(key, raw, MAX_ITER_MIN as u64, MAX_ITER_MAX as u64) {
                    d.mlp.max_iter = v as usize;
                }
            }
            "learning_rate" => {
                if let Some(v) = n.float(key, raw, LEARNING_RATE_MIN, LEARNING_RATE_MAX) {
                    d.mlp.learning_rate_init = v;
                }
            }
            "tol" => {
                if let Some(v) = n.float(key, raw, TOL_MIN, TOL_MAX) {
                    d.mlp.tol = v;
                }
            }
            "ae_max_rows" => {
                if let Some(v) = n.integer(key, raw, 0, AE_MAX_ROWS_MAX as u64) {
                    d.autoencoder_max_rows = v as usize;
                }
            }
            "early_stopping" => match raw {
                "true" | "1" | "on" => d.mlp.early_stopping = true,
                "false" | "0" | "off" => d.mlp.early_stopping = false,
                _ => n.push(key, format!("{raw:?} is not true or false; ignored")),
            },
            "detectors" => match raw {
                "true" | "1" | "on" => d.behaviour.enabled = true,
                "false" | "0" | "off" => d.behaviour.enabled = false,
                _ => n.push(key, format!("{raw:?} is not on or off; ignored")),
            },
            "train_on_detected" => match raw {
                "true" | "1" | "on" => d.train_on_detected = true,
                "false" | "0" | "off" => d.train_on_detected = false,
                _ => n.push(key, format!("{raw:?} is not true or false; ignored")),
            },
            _ if key.starts_with(thresholds::KEY_PREFIX) => match ThresholdField::find(key) {
                Some(field) => apply_threshold(&mut d.behaviour, field, key, raw, n),
                None => n.push(key, "unknown detector threshold; ignored".to_string()),
            },
            _ => self.apply_attack_pair(key, raw, n),
        }
    }

    /// `<kind>.start`, `<kind>.duration` (seconds), `<kind>.intensity`, `<kind>.stealth`
    /// (0..=1), `<kind>.method` (`syn`, `connect`, `udp`: scans), `<kind>.period` (seconds)
    /// and `<kind>.jitter` (share of the period, or `auto`: beacons).
    fn apply_attack_pair(&mut self, key: &str, raw: &str, n: &mut Notices) {
        let Some((kind, field)) = key
            .split_once('.')
            .and_then(|(k, f)| Some((AttackKind::parse(k)?, f)))
        else {
            n.push(key, "unknown parameter; ignored".to_string());
            return;
        };
        let run_s = self.generator.duration_s;
        let Some(spec) = self.generator.attacks.iter_mut().find(|a| a.kind == kind) else {
            n.push(
                key,
                format!("{kind} is not among the enabled attacks; ignored"),
            );
            return;
        };
        match field {
            "start" => {
                if let Some(v) = n.float(key, raw, 0.0, run_s * 0.95) {
                    spec.start_s = v;
                    spec.duration_s = spec.duration_s.min(run_s - v).max(1.0);
                }
            }
            "duration" => {
                if let Some(v) = n.float(key, raw, 1.0, (run_s - spec.start_s).max(1.0)) {
                    spec.duration_s = v;
                }
            }
            "intensity" => {
                if let Some(v) =
                    n.float(key, raw, generator::INTENSITY_MIN, generator::INTENSITY_MAX)
                {
                    spec.intensity = v;
                }
            }
            "stealth" => {
                if let Some(v) = n.float(key, raw, generator::STEALTH_MIN, generator::STEALTH_MAX) {
                    spec.stealth = v;
                }
            }
            "method" => match ScanMethod::parse(raw) {
                Some(m) => spec.method = m,
                None => n.push(key, format!("{raw:?} is not syn, connect or udp; ignored")),
            },
            "period" => {
                if let Some(v) = n.float(
                    key,
                    raw,
                    generator::BEACON_PERIOD_MIN_S,
                    generator::BEACON_PERIOD_MAX_S,
                ) {
                    spec.period_s = v;
                }
            }
            "jitter" => {
                if raw.trim().eq_ignore_ascii_case("auto") {
                    spec.jitter = None;
                } else if let Some(v) = n.float(key, raw, 0.0, generator::JITTER_MAX) {
                    spec.jitter = Some(v);
                }
            }
            _ => n.push(key, "unknown attack setting; ignored".to_string()),
        }
    }

    /// A query string that reproduces this configuration (only what differs from defaults,
    /// plus the seed, so links stay short and readable).
    pub fn to_query(&self) -> String {
        let def = RunConfig::default();
        let g = &self.generator;
        let d = &self.detection;
        let mut parts = vec![format!("seed={}", g.seed)];
        if g.hosts != def.generator.hosts {
            parts.push(format!("hosts={}", g.hosts));
        }
        if g.duration_s != def.generator.duration_s {
            parts.push(format!("duration={}", g.duration_s));
        }
        if g.start_ts != def.generator.start_ts {
            parts.push(format!("start_ts={}", g.start_ts));
        }
        let kinds: Vec<&str> = g.attacks.iter().map(|a| a.kind.as_str()).collect();
        let def_kinds: Vec<&str> = def
            .generator
            .attacks
            .iter()
            .map(|a| a.kind.as_str())
            .collect();
        if kinds != def_kinds {
            parts.push(format!(
                "attacks={}",
                if kinds.is_empty() {
                    "none".to_string()
                } else {
                    kinds.join(",")
                }
            ));
        }
        for a in &g.attacks {
            let default = AttackSpec::default_for(a.kind, g.duration_s);
            if a.start_s != default.start_s {
                parts.push(format!("{}.start={}", a.kind, a.start_s));
            }
            if a.duration_s != default.duration_s {
                parts.push(format!("{}.duration={}", a.kind, a.duration_s));
            }
            if a.intensity != default.intensity {
                parts.push(format!("{}.intensity={}", a.kind, a.intensity));
            }
            if a.stealth != default.stealth {
                parts.push(format!("{}.stealth={}", a.kind, a.stealth));
            }
            if a.method != default.method {
                parts.push(format!("{}.method={}", a.kind, a.method.as_str()));
            }
            if a.period_s != default.period_s {
                parts.push(format!("{}.period={}", a.kind, a.period_s));
            }
            if a.jitter != default.jitter {
                match a.jitter {
                    Some(j) => parts.push(format!("{}.jitter={j}", a.kind)),
                    None => parts.push(format!("{}.jitter=auto", a.kind)),
                }
            }
        }
        let dd = &def.detection;
        if d.training != dd.training {
            parts.push(format!("train={}", d.training.as_str()));
        }
        if d.train_fraction != dd.train_fraction {
            parts.push(format!("train_fraction={}", d.train_fraction));
        }
        if d.contamination != dd.contamination {
            parts.push(format!("contamination={}", d.contamination));
        }
        // `target_fpr=`/`threshold_score=` imply their mode when read back, so a link that
        // carries either must also say which mode is really in use.
        if d.threshold != dd.threshold
            || d.target_fpr != dd.target_fpr
            || d.threshold_score != dd.threshold_score
        {
            parts.push(format!("threshold={}", d.threshold.as_str()));
        }
        if d.target_fpr != dd.target_fpr {
            parts.push(format!("target_fpr={}", d.target_fpr));
        }
        if d.threshold_score != dd.threshold_score {
            parts.push(format!("threshold_score={}", d.threshold_score));
        }
        if d.incident_budget != dd.incident_budget {
            parts.push(format!("incident_budget={}", d.incident_budget));
        }
        if d.forest_weight != dd.forest_weight {
            parts.push(format!("forest_weight={}", d.forest_weight));
        }
        if d.isolation_forest.n_estimators != dd.isolation_forest.n_estimators {
            parts.push(format!("trees={}", d.isolation_forest.n_estimators));
        }
        if d.isolation_forest.max_samples != dd.isolation_forest.max_samples {
            if let MaxSamples::Count(c) = d.isolation_forest.max_samples {
                parts.push(format!("max_samples={c}"));
            } else if d.isolation_forest.max_samples == MaxSamples::Auto {
                parts.push("max_samples=auto".to_string());
            }
        }
        if d.mlp.hidden_layer_sizes != dd.mlp.hidden_layer_sizes {
            let h: Vec<String> = d
                .mlp
                .hidden_layer_sizes
                .iter()
                .map(usize::to_string)
                .collect();
            parts.push(format!("hidden={}", h.join(",")));
        }
        if d.mlp.activation != dd.mlp.activation {
            parts.push(format!("activation={}", d.mlp.activation.as_str()));
        }
        if d.mlp.max_iter != dd.mlp.max_iter {
            parts.push(format!("max_iter={}", d.mlp.max_iter));
        }
        if d.mlp.learning_rate_init != dd.mlp.learning_rate_init {
            parts.push(format!("learning_rate={}", d.mlp.learning_rate_init));
        }
        if d.mlp.early_stopping != dd.mlp.early_stopping {
            parts.push(format!("early_stopping={}", d.mlp.early_stopping));
        }
        if d.mlp.tol != dd.mlp.tol {
            parts.push(format!("tol={}", d.mlp.tol));
        }
        if d.autoencoder_max_rows != dd.autoencoder_max_rows {
            parts.push(format!("ae_max_rows={}", d.autoencoder_max_rows));
        }
        if d.behaviour.enabled != dd.behaviour.enabled {
            parts.push(format!(
                "detectors={}",
                if d.behaviour.enabled { "on" } else { "off" }
            ));
        }
        if d.train_on_detected != dd.train_on_detected {
            parts.push(format!("train_on_detected={}", d.train_on_detected));
        }
        for field in thresholds::THRESHOLDS {
            let value = field.value_text(&d.behaviour);
            if value != field.value_text(&dd.behaviour) {
                parts.push(format!("{}={value}", field.url_key()));
            }
        }
        parts
            .into_iter()
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((&p, ""));
                format!("{}={}", percent_encode(k), percent_encode(v))
            })
            .collect::<Vec<_>>()
            .join("&")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detection::run_config::ThresholdSpec;

    /// Every threshold key is one the query reads (not "unknown parameter") and moves the
    /// threshold policy.
    #[test]
    fn threshold_keys_set_the_threshold() {
        for (key, value) in THRESHOLD_KEYS.iter().zip(["fpr", "0.03", "0.002", "4.5"]) {
            let (c, notices) = RunConfig::from_query(&format!("{key}={value}"));
            assert!(notices.is_empty(), "{key}: {notices:?}");
            assert_ne!(
                c.detection.threshold_spec(),
                RunConfig::default().detection.threshold_spec(),
                "{key}"
            );
        }
        // The last key sets the incident budget, which a saved model's run also takes.
        assert_eq!(THRESHOLD_KEYS[4], "incident_budget");
        let (c, notices) = RunConfig::from_query("incident_budget=0");
        assert!(notices.is_empty(), "{notices:?}");
        assert_eq!(c.detection.incident_budget, 0.0);
        assert!(
            c.to_query().ends_with("&incident_budget=0"),
            "{}",
            c.to_query()
        );
    }

    #[test]
    fn empty_query_is_the_default() {
        let (c, notices) = RunConfig::from_query("");
        assert_eq!(c, RunConfig::default());
        assert!(notices.is_empty());
    }

    #[test]
    fn seed_hosts_duration_and_attacks_apply() {
        let (c, notices) =
            RunConfig::from_query("?seed=7&hosts=80&duration=1800&attacks=port_scan%2Csyn_flood");
        assert!(notices.is_empty(), "{notices:?}");
        assert_eq!(c.generator.seed, 7);
        assert_eq!(c.generator.hosts, 80);
        assert_eq!(c.generator.duration_s, 1800.0);
        let kinds: Vec<AttackKind> = c.generator.attacks.iter().map(|a| a.kind).collect();
        assert_eq!(kinds, vec![AttackKind::PortScan, AttackKind::SynFlood]);
        for a in &c.generator.attacks {
            assert_eq!(*a, AttackSpec::default_for(a.kind, 1800.0));
        }
    }

    #[test]
    fn out_of_range_values_are_clamped_with_a_notice() {
        let (c, notices) = RunConfig::from_query("hosts=100000&duration=5&contamination=0.9");
        assert_eq!(c.generator.hosts, generator::HOSTS_MAX);
        assert_eq!(c.generator.duration_s, generator::DURATION_MIN_S);
        assert_eq!(c.detection.contamination, CONTAMINATION_MAX);
        assert_eq!(notices.len(), 3);
        assert!(notices
            .iter()
            .any(|n| n.key == "hosts" && n.message.contains("maximum")));
        assert!(notices
            .iter()
            .any(|n| n.key == "duration" && n.message.contains("minimum")));
    }

    #[test]
    fn garbage_is_reported_not_applied() {
        let (c, notices) =
            RunConfig::from_query("seed=abc&attacks=port_scan,teleport&wat=1&hosts=NaN");
        assert_eq!(c.generator.seed, RunConfig::default().generator.seed);
        assert_eq!(c.generator.attacks.len(), 1);
        assert_eq!(c.generator.hosts, RunConfig::default().generator.hosts);
        let keys: Vec<&str> = notices.iter().map(|n| n.key.as_str()).collect();
        assert_eq!(keys.len(), 4, "{notices:?}");
        for k in ["seed", "attacks", "wat", "hosts"] {
            assert!(keys.contains(&k), "missing notice for {k}: {notices:?}");
        }
    }

    #[test]
    fn attack_settings_and_lists() {
        let (c, _) =
            RunConfig::from_query("port_scan.start=100&port_scan.intensity=50&attacks=all");
        assert_eq!(c.generator.attacks.len(), AttackKind::ALL.len());
        let scan = c.attack(AttackKind::PortScan).unwrap();
        assert_eq!(scan.start_s, 100.0);
        assert_eq!(scan.intensity, generator::INTENSITY_MAX);
        let (none, _) = RunConfig::from_query("attacks=none");
        assert!(none.generator.attacks.is_empty());
    }

    #[test]
    fn model_parameters_apply() {
        let (c, notices) = RunConfig::from_query(
            "trees=50&max_samples=128&hidden=8,3,8&activation=tanh&max_iter=20&train=all&early_stopping=false&detectors=off&train_on_detected=1&tol=0.0001&ae_max_rows=0",
        );
        assert_eq!(c.detection.mlp.tol, 1e-4);
        assert_eq!(c.detection.autoencoder_max_rows, 0);
        assert!(!c.detection.behaviour.enabled);
        assert!(c.detection.train_on_detected);
        let (back, _) = RunConfig::from_query(&c.to_query());
        assert_eq!(back, c);
        assert!(notices.is_empty(), "{notices:?}");
        let (_, odd) = RunConfig::from_query("detectors=maybe");
        assert_eq!(odd.len(), 1, "{odd:?}");
        assert_eq!(c.detection.isolation_forest.n_estimators, 50);
        assert_eq!(
            c.detection.isolation_forest.max_samples,
            MaxSamples::Count(128)
        );
        assert_eq!(c.detection.mlp.hidden_layer_sizes, vec![8, 3, 8]);
        assert_eq!(c.detection.mlp.activation, Activation::Tanh);
        assert_eq!(c.detection.mlp.max_iter, 20);
        assert!(!c.detection.mlp.early_stopping);
        assert_eq!(c.detection.training, TrainingPolicy::AllData);
    }

    #[test]
    fn query_round_trips() {
        let (c, _) = RunConfig::from_query(
            "seed=9&hosts=12&duration=900&attacks=brute_force,port_scan&brute_force.intensity=2.5&port_scan.start=300&trees=30&hidden=10,4,10&activation=logistic&contamination=0.02&train=all",
        );
        let q = c.to_query();
        let (back, notices) = RunConfig::from_query(&q);
        assert!(notices.is_empty(), "{q}: {notices:?}");
        assert_eq!(back, c, "{q}");
        assert_eq!(RunConfig::default().to_query(), "seed=42");
    }

    #[test]
    fn threshold_settings_apply_and_round_trip() {
        let (c, notices) = RunConfig::from_query("target_fpr=0.002");
        assert!(notices.is_empty(), "{notices:?}");
        assert_eq!(c.detection.threshold, ThresholdMode::TargetFpr);
        assert_eq!(
            c.detection.threshold_spec(),
            ThresholdSpec::TargetFpr { target_fpr: 0.002 }
        );
        // An explicit mode wins, whatever the key order.
        let (c, _) = RunConfig::from_query("threshold=contamination&threshold_score=4.5");
        assert_eq!(c.detection.threshold, ThresholdMode::Contamination);
        assert_eq!(c.detection.threshold_score, 4.5);
        let (c, _) = RunConfig::from_query("threshold=score&threshold_score=-1.5");
        assert_eq!(
            c.detection.threshold_spec(),
            ThresholdSpec::Score { score: -1.5 }
        );
        let q = c.to_query();
        assert_eq!(RunConfig::from_query(&q).0, c, "{q}");
        let (c, notices) = RunConfig::from_query("threshold=magic&target_fpr=2");
        assert_eq!(c.detection.target_fpr, TARGET_FPR_MAX);
        assert_eq!(notices.len(), 2, "{notices:?}");
    }

    #[test]
    fn detector_thresholds_apply_clamp_and_round_trip() {
        let (c, notices) = RunConfig::from_query(
            "detector.scan.min_ports=40&detector.beacon.min_regularity=0.8\
             &detector.brute_force.ports=22,3389,22&detector.beacon.ignored_ports=none\
             &detector.exfiltration.min_bytes_out=1e7&detector.flood.syn_min_half_open=12.6",
        );
        assert!(notices.is_empty(), "{notices:?}");
        let b = &c.detection.behaviour;
        assert_eq!(b.scan.min_ports, 40);
        assert_eq!(b.beacon.min_regularity, 0.8);
        assert_eq!(b.brute_force.ports, vec![22, 3389]);
        assert!(b.beacon.ignored_ports.is_empty());
        assert_eq!(b.exfiltration.min_bytes_out, 1e7);
        assert_eq!(b.flood.syn_min_half_open, 13, "whole numbers are rounded");
        // Only what differs from the defaults is written, and it reads back the same.
        let q = c.to_query();
        assert!(q.contains("detector.scan.min_ports=40"), "{q}");
        assert!(q.contains("detector.brute_force.ports=22,3389"), "{q}");
        assert!(q.contains("detector.beacon.ignored_ports=none"), "{q}");
        assert!(!q.contains("detector.scan.window_s"), "{q}");
        assert_eq!(RunConfig::from_query(&q).0, c);
        // Out of range: clamped with a notice; nonsense: ignored with a notice.
        let (c, notices) = RunConfig::from_query(
            "detector.scan.min_ports=1&detector.beacon.min_score=3\
             &detector.brute_force.ports=22,0,x,70000&detector.scan.nope=1&detector.scan.window_s=abc",
        );
        let b = &c.detection.behaviour;
        assert_eq!(b.scan.min_ports, 2);
        assert_eq!(b.beacon.min_score, 1.0);
        assert_eq!(b.brute_force.ports, vec![22]);
        assert_eq!(b.scan.window_s, 300.0);
        let keys: Vec<&str> = notices.iter().map(|n| n.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "detector.scan.min_ports",
                "detector.beacon.min_score",
                "detector.brute_force.ports",
                "detector.brute_force.ports",
                "detector.brute_force.ports",
                "detector.scan.nope",
                "detector.scan.window_s"
            ]
        );
        // A detector key never touches the attack of the same name.
        let (c, notices) = RunConfig::from_query("detector.brute_force.window_s=60");
        assert!(notices.is_empty());
        assert_eq!(
            c.generator.attacks,
            RunConfig::default().generator.attacks,
            "the attack is unchanged"
        );
    }

    /// Every threshold's largest and smallest value, set through the URL, reads back and
    /// round-trips: the table's ranges and the URL agree.
    #[test]
    fn every_detector_threshold_round_trips_at_its_bounds() {
        for f in thresholds::THRESHOLDS {
            for v in [f.min, f.max] {
                let value = match f.access {
                    Access::Number { .. } => thresholds::format_value(v),
                    Access::Ports { .. } => "1,65535".to_string(),
                };
                let (c, notices) = RunConfig::from_query(&format!("{}={value}", f.url_key()));
                assert!(notices.is_empty(), "{}: {notices:?}", f.key);
                assert_eq!(f.value_text(&c.detection.behaviour), value, "{}", f.key);
                assert_eq!(RunConfig::from_query(&c.to_query()).0, c, "{}", f.key);
            }
        }
    }

    #[test]
    fn attack_difficulty_keys_apply_and_round_trip() {
        let (c, notices) = RunConfig::from_query(
            "attacks=all&c2_beacon.stealth=1&c2_beacon.period=300&c2_beacon.jitter=0.3\
             &port_scan.method=udp&horizontal_scan.method=connect&exfiltration.stealth=0.5",
        );
        assert!(notices.is_empty(), "{notices:?}");
        assert_eq!(c.generator.attacks.len(), AttackKind::ALL.len());
        let beacon = c.attack(AttackKind::C2Beacon).unwrap();
        assert_eq!(
            (beacon.stealth, beacon.period_s, beacon.jitter),
            (1.0, 300.0, Some(0.3))
        );
        assert_eq!(
            c.attack(AttackKind::PortScan).unwrap().method,
            ScanMethod::Udp
        );
        c.generator.validate().unwrap();
        let q = c.to_query();
        let (back, notices) = RunConfig::from_query(&q);
        assert!(notices.is_empty(), "{q}: {notices:?}");
        assert_eq!(back, c, "{q}");
        let (bad, notices) = RunConfig::from_query(
            "attacks=c2_beacon&c2_beacon.stealth=3&c2_beacon.method=ping&c2_beacon.jitter=2",
        );
        assert_eq!(notices.len(), 3, "{notices:?}");
        let beacon = bad.attack(AttackKind::C2Beacon).unwrap();
        assert_eq!(beacon.stealth, generator::STEALTH_MAX);
        assert_eq!(beacon.jitter, Some(generator::JITTER_MAX));
    }

    #[test]
    fn presets_apply_first_and_round_trip() {
        for preset in generator::presets::PRESETS {
            let (c, notices) = RunConfig::from_query(&format!("preset={}", preset.id));
            assert!(notices.is_empty(), "{notices:?}");
            assert_eq!(c.generator, preset.config());
            let q = c.to_query();
            let (back, notices) = RunConfig::from_query(&q);
            assert!(notices.is_empty(), "{q}: {notices:?}");
            assert_eq!(back.generator, c.generator, "{q}");
        }
        // Later keys adjust the preset whatever their order in the query.
        let (c, _) = RunConfig::from_query("hosts=20&preset=stealthy_intrusion");
        assert_eq!(c.generator.hosts, 20);
        assert!(c.generator.attacks.len() > 3);
        let (_, notices) = RunConfig::from_query("preset=teleport");
        assert_eq!(notices.len(), 1);
        assert!(notices[0].message.contains("demo"));
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%2Cb+c"), "a,b c");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
    }
}
