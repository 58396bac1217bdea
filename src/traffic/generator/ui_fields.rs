//! What the configuration form shows for the generator, as plain data: a one-line description
//! of each attack kind, the parameters each kind takes (with units, ranges and element ids),
//! conversions between the units people read and the URL's units, the preset matching the
//! current scenario, and the flow-count estimate.
//!
//! Not here: rendering (`ui::config_panel`) or parsing and clamping, which stay in
//! `app::url_query` so the form and the URL share one set of limits.

use super::config::{
    AttackSpec, GeneratorConfig, BEACON_PERIOD_MAX_S, BEACON_PERIOD_MIN_S, INTENSITY_MAX,
    INTENSITY_MIN, JITTER_MAX, STEALTH_MAX, STEALTH_MIN,
};
use super::presets::{Preset, PRESETS};
use crate::traffic::flow::AttackKind;
use crate::util::time_format;

/// What the attack does, in one line of plain words.
pub fn kind_description(kind: AttackKind) -> &'static str {
    match kind {
        AttackKind::PortScan => "Probes many ports of one server to find open services (nmap).",
        AttackKind::SynFlood => {
            "Floods a public port with half-open connections from spoofed addresses (DDoS)."
        }
        AttackKind::BruteForce => "Guesses SSH passwords: many short logins against one server.",
        AttackKind::HorizontalScan => {
            "Probes one port across many addresses, looking for a weak service."
        }
        AttackKind::RdpBruteForce => "Guesses Remote Desktop passwords, from one or more sources.",
        AttackKind::Exfiltration => {
            "A compromised host uploads lots of data to a rarely seen outside address."
        }
        AttackKind::C2Beacon => {
            "Malware on a workstation calls its command server on a regular period."
        }
        AttackKind::DnsTunnel => "Data smuggled out in DNS queries and answers for one domain.",
        AttackKind::LateralMovement => {
            "A compromised host reaches out to many internal machines over SMB and RDP."
        }
        AttackKind::IcmpSweep => "Pings the internal address range to see which hosts are up.",
        AttackKind::Slowloris => {
            "Holds many slow, nearly idle web connections open to exhaust a server."
        }
        AttackKind::CryptoMining => {
            "A hijacked server keeps long connections to a cryptocurrency mining pool."
        }
    }
}

/// One tunable setting of an attack; `key` is its URL suffix (`port_scan.start`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttackParam {
    Start,
    Duration,
    Intensity,
    Stealth,
    Method,
    Period,
    Jitter,
}

/// How a parameter is edited.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ParamInput {
    /// A number in the shown unit; `step` is the input's `step` attribute.
    Number { step: &'static str },
    /// A number, or empty for the automatic value.
    OptionalNumber { step: &'static str },
    /// One of `(value, label)`.
    Choice(&'static [(&'static str, &'static str)]),
}

const METHOD_CHOICES: [(&str, &str); 3] = [
    ("syn", "SYN, half-open (nmap -sS)"),
    ("connect", "Full connect (nmap -sT)"),
    ("udp", "UDP (nmap -sU)"),
];

/// Start times are shown in minutes; the URL holds seconds.
const START_UNIT_S: f64 = 60.0;
/// Jitter is shown in percent of the period; the URL holds a share.
const JITTER_UNIT: f64 = 0.01;

impl AttackParam {
    /// The URL suffix after `<kind>.`.
    pub fn key(self) -> &'static str {
        match self {
            AttackParam::Start => "start",
            AttackParam::Duration => "duration",
            AttackParam::Intensity => "intensity",
            AttackParam::Stealth => "stealth",
            AttackParam::Method => "method",
            AttackParam::Period => "period",
            AttackParam::Jitter => "jitter",
        }
    }

    /// The visible label; the form prefixes the kind's title for screen readers.
    pub fn label(self) -> &'static str {
        match self {
            AttackParam::Start => "Start (minute of the run)",
            AttackParam::Duration => "Length (seconds)",
            AttackParam::Intensity => "Intensity (× default rate)",
            AttackParam::Stealth => "Stealth (0 loud to 1 quiet)",
            AttackParam::Method => "Scan method",
            AttackParam::Period => "Beacon period (seconds)",
            AttackParam::Jitter => "Jitter (% of period, empty = auto)",
        }
    }

    /// The control's full accessible name: `Port scan: Start (minute of the run)`.
    pub fn accessible_name(self, kind: AttackKind) -> String {
        format!("{}: {}", kind.title(), self.label())
    }

    /// `<kind>.<key>`, the query key the form applies.
    pub fn query_key(self, kind: AttackKind) -> String {
        format!("{}.{}", kind.as_str(), self.key())
    }

    /// The element id: `port_scan-start`.
    pub fn input_id(self, kind: AttackKind) -> String {
        format!("{}-{}", kind.as_str(), self.key())
    }

    pub fn input(self) -> ParamInput {
        match self {
            AttackParam::Method => ParamInput::Choice(&METHOD_CHOICES),
            AttackParam::Jitter => ParamInput::OptionalNumber { step: "1" },
            AttackParam::Intensity => ParamInput::Number { step: "0.1" },
            AttackParam::Stealth => ParamInput::Number { step: "0.05" },
            AttackParam::Start | AttackParam::Duration | AttackParam::Period => {
                ParamInput::Number { step: "any" }
            }
        }
    }

    /// Shown-unit bounds for a number input in a run of `run_s` (what `app::url_query` clamps
    /// to); `None` for choices.
    pub fn range(self, spec: &AttackSpec, run_s: f64) -> Option<(f64, f64)> {
        match self {
            AttackParam::Start => Some((0.0, run_s * 0.95 / START_UNIT_S)),
            AttackParam::Duration => Some((1.0, (run_s - spec.start_s).max(1.0))),
            AttackParam::Intensity => Some((INTENSITY_MIN, INTENSITY_MAX)),
            AttackParam::Stealth => Some((STEALTH_MIN, STEALTH_MAX)),
            AttackParam::Period => Some((BEACON_PERIOD_MIN_S, BEACON_PERIOD_MAX_S)),
            AttackParam::Jitter => Some((0.0, JITTER_MAX / JITTER_UNIT)),
            AttackParam::Method => None,
        }
    }

    /// The value as the form shows it (empty for an automatic jitter).
    pub fn shown_value(self, spec: &AttackSpec) -> String {
        match self {
            AttackParam::Start => format_number(spec.start_s / START_UNIT_S),
            AttackParam::Duration => format_number(spec.duration_s),
            AttackParam::Intensity => format_number(spec.intensity),
            AttackParam::Stealth => format_number(spec.stealth),
            AttackParam::Method => spec.method.as_str().to_string(),
            AttackParam::Period => format_number(spec.period_s),
            AttackParam::Jitter => spec
                .jitter
                .map_or_else(String::new, |j| format_number(j / JITTER_UNIT)),
        }
    }

    /// A hint for an empty input: the automatic jitter in use.
    pub fn placeholder(self, spec: &AttackSpec) -> Option<String> {
        (self == AttackParam::Jitter).then(|| {
            let auto = AttackSpec {
                jitter: None,
                ..spec.clone()
            };
            format!(
                "auto ({})",
                format_number(auto.effective_jitter() / JITTER_UNIT)
            )
        })
    }

    /// The URL value for what the user typed in the shown unit. Text that is not a number is
    /// passed through unchanged so `app::url_query` reports it like a bad URL value.
    pub fn query_value(self, typed: &str) -> String {
        let typed = typed.trim();
        if self == AttackParam::Jitter && (typed.is_empty() || typed.eq_ignore_ascii_case("auto")) {
            return "auto".to_string();
        }
        let unit = match self {
            AttackParam::Start => START_UNIT_S,
            AttackParam::Jitter => JITTER_UNIT,
            AttackParam::Method => return typed.to_string(),
            _ => 1.0,
        };
        match typed.parse::<f64>() {
            Ok(v) if v.is_finite() => format_number(v * unit),
            _ => typed.to_string(),
        }
    }
}

/// The parameters the form offers for `kind`: timing, intensity and stealth for all, the
/// probe type for scans, period and jitter for beacons (the only kinds that read them).
pub fn params_for(kind: AttackKind) -> Vec<AttackParam> {
    let mut params = vec![
        AttackParam::Start,
        AttackParam::Duration,
        AttackParam::Intensity,
        AttackParam::Stealth,
    ];
    match kind {
        AttackKind::PortScan | AttackKind::HorizontalScan => params.push(AttackParam::Method),
        AttackKind::C2Beacon => params.extend([AttackParam::Period, AttackParam::Jitter]),
        _ => {}
    }
    params
}

/// A number for an input's value: integers without a fraction, others to six decimals (enough
/// for seconds and shares, and free of binary noise such as `0.30000000000000004`).
pub fn format_number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{}", (v * 1e6).round() / 1e6)
    }
}

/// `45 s`, `5 min`, `1 h 30 min`: a duration for the compact attack summary.
pub fn format_duration(duration_s: f64) -> String {
    if !duration_s.is_finite() {
        return "-".to_string();
    }
    let s = duration_s.round().max(0.0) as u64;
    if s < 120 {
        format!("{s} s")
    } else if s < 7_200 {
        format!("{} min", (s + 30) / 60)
    } else {
        let m = (s + 30) / 60;
        match m % 60 {
            0 => format!("{} h", m / 60),
            r => format!("{} h {r} min", m / 60),
        }
    }
}

/// One line summing an enabled attack up: `10:21 UTC for 20 s · ×1 · ~1,000 flows ·
/// stealth 0 · SYN`.
pub fn attack_summary(spec: &AttackSpec, run_start_ts: f64) -> String {
    let clock = time_format::format_time_of_day(run_start_ts + spec.start_s);
    let mut parts = vec![
        format!(
            "{} UTC for {}",
            clock.get(..5).unwrap_or(&clock),
            format_duration(spec.duration_s)
        ),
        format!("×{}", format_number(spec.intensity)),
        format!(
            "~{} flows",
            group_thousands(round_significant(attack_flows(spec), 2))
        ),
        format!("stealth {}", format_number(spec.stealth)),
    ];
    match spec.kind {
        AttackKind::PortScan | AttackKind::HorizontalScan => {
            parts.push(spec.method.as_str().to_ascii_uppercase());
        }
        AttackKind::C2Beacon => parts.push(format!(
            "every {} ± {} %",
            format_duration(spec.period_s),
            format_number((spec.effective_jitter() / JITTER_UNIT * 10.0).round() / 10.0)
        )),
        _ => {}
    }
    parts.join(" · ")
}

/// The `attacks=` value after switching `kind` on or off: the enabled kinds keep their order
/// (a preset's order, and so its incident ids, survive the edit) and a newly enabled kind
/// goes last. `none` when nothing is left.
pub fn toggled_attack_list(enabled: &[AttackKind], kind: AttackKind, on: bool) -> String {
    let mut kinds: Vec<AttackKind> = enabled.iter().copied().filter(|&k| k != kind).collect();
    if on {
        kinds.push(kind);
    }
    attack_list(&kinds)
}

/// The `attacks=` value enabling every kind, the enabled ones first in their order.
pub fn all_attacks_list(enabled: &[AttackKind]) -> String {
    let mut kinds = enabled.to_vec();
    kinds.extend(AttackKind::ALL.iter().filter(|k| !enabled.contains(k)));
    attack_list(&kinds)
}

fn attack_list(kinds: &[AttackKind]) -> String {
    if kinds.is_empty() {
        return "none".to_string();
    }
    kinds
        .iter()
        .map(|k| k.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// The preset whose scenario this is, ignoring the seed (a new seed keeps the scenario).
pub fn matching_preset(config: &GeneratorConfig) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| {
        let preset = p.config();
        GeneratorConfig {
            seed: config.seed,
            ..preset
        } == *config
    })
}

/// The query that switches to preset `id` and keeps the current seed.
pub fn preset_query(id: &str, seed: u64) -> String {
    format!("preset={id}&seed={seed}")
}

/// The generator's expected flow count, as the form shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowEstimate {
    pub flows: u64,
    /// Of `flows`, the injected attacks' share.
    pub attack_flows: u64,
    /// The run would be refused (`GeneratorConfig::validate` fails, e.g. past `FLOWS_MAX`).
    pub refused: bool,
    pub text: String,
}

/// `About 95,000 flows (1,100 from attacks)`, rounded to three significant digits (it is an
/// estimate), followed by the reason when the generator would refuse the config.
pub fn flow_estimate(config: &GeneratorConfig) -> FlowEstimate {
    let flows = config.estimated_flows();
    let attack_flows = config.attacks.iter().map(attack_flows).sum::<u64>();
    let mut text = format!(
        "About {} flows ({} from attacks)",
        group_thousands(round_significant(flows, 3)),
        group_thousands(round_significant(attack_flows.min(flows), 3))
    );
    let problem = config.validate().err();
    if let Some(problem) = &problem {
        text.push_str(". The run would be refused: ");
        text.push_str(&problem.to_string());
    }
    FlowEstimate {
        flows,
        attack_flows,
        refused: problem.is_some(),
        text,
    }
}

/// The flows one attack is expected to add.
pub fn attack_flows(spec: &AttackSpec) -> u64 {
    super::attacks::expected_flows(spec).ceil().max(0.0) as u64
}

fn round_significant(v: u64, digits: u32) -> u64 {
    let mut scale = 1u64;
    while v / scale >= 10u64.pow(digits) {
        scale *= 10;
    }
    (v + scale / 2) / scale * scale
}

fn group_thousands(v: u64) -> String {
    let digits = v.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A run start as an `<input type="datetime-local">` value, read as UTC: `2026-01-01T10:00`.
pub fn datetime_local_value(ts: f64) -> String {
    let text = time_format::format_utc(ts);
    match text.get(..16) {
        Some(minutes) => minutes.replacen(' ', "T", 1),
        None => text,
    }
}

/// Parses `YYYY-MM-DDTHH:MM[:SS]` (UTC) into seconds since the Unix epoch; `None` when the
/// text is not such a date-time.
pub fn parse_datetime_local(text: &str) -> Option<f64> {
    let text = text.trim();
    let (date, time) = text.split_once(['T', ' '])?;
    let mut date_parts = date.splitn(3, '-');
    let year: i64 = date_parts.next()?.parse().ok()?;
    let month: i64 = date_parts.next()?.parse().ok()?;
    let day: i64 = date_parts.next()?.parse().ok()?;
    let mut time_parts = time.splitn(3, ':');
    let hour: i64 = time_parts.next()?.parse().ok()?;
    let minute: i64 = time_parts.next()?.parse().ok()?;
    let second: f64 = time_parts.next().map_or(Some(0.0), |s| s.parse().ok())?;
    let valid = (1..=9999).contains(&year)
        && (1..=12).contains(&month)
        && (1..=days_in_month(year, month)).contains(&day)
        && (0..24).contains(&hour)
        && (0..60).contains(&minute)
        && (0.0..60.0).contains(&second);
    if !valid {
        return None;
    }
    let days = crate::util::time_format::days_from_civil(year, month as u32, day as u32);
    Some((days * 86_400 + hour * 3_600 + minute * 60) as f64 + second)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Every scan method, for completeness checks of the choice list.
pub fn method_choices() -> &'static [(&'static str, &'static str)] {
    &METHOD_CHOICES
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detection::run_config::RunConfig;
    use crate::traffic::generator::ScanMethod;

    #[test]
    fn every_kind_has_a_distinct_one_line_description() {
        let mut seen = Vec::new();
        for kind in AttackKind::ALL {
            let d = kind_description(kind);
            assert!(
                d.len() > 20 && d.len() < 100 && !d.contains('\n'),
                "{kind}: {d}"
            );
            assert!(!seen.contains(&d), "{kind} repeats a description");
            seen.push(d);
        }
    }

    #[test]
    fn params_cover_what_each_kind_reads_and_ids_are_unique() {
        let mut ids = Vec::new();
        for kind in AttackKind::ALL {
            let params = params_for(kind);
            assert!(params.starts_with(&[
                AttackParam::Start,
                AttackParam::Duration,
                AttackParam::Intensity,
                AttackParam::Stealth
            ]));
            let is_scan = matches!(kind, AttackKind::PortScan | AttackKind::HorizontalScan);
            assert_eq!(params.contains(&AttackParam::Method), is_scan, "{kind}");
            let is_beacon = kind == AttackKind::C2Beacon;
            assert_eq!(params.contains(&AttackParam::Period), is_beacon, "{kind}");
            assert_eq!(params.contains(&AttackParam::Jitter), is_beacon, "{kind}");
            for p in params {
                ids.push(p.input_id(kind));
                // Names must not collide with the run-level labels the end-to-end tests find
                // by substring ("Seed", "Hosts", "Duration (minutes)").
                let name = p.accessible_name(kind).to_lowercase();
                for run_label in ["seed", "hosts", "duration (minutes)"] {
                    assert!(!name.contains(run_label), "{name}");
                }
            }
        }
        let count = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), count);
        let methods: Vec<&str> = method_choices().iter().map(|c| c.0).collect();
        let all: Vec<&str> = ScanMethod::ALL.iter().map(|m| m.as_str()).collect();
        assert_eq!(methods, all);
    }

    /// Typing a value in the form and applying it through `app::url_query` stores it in the URL's
    /// unit and shows it back as typed, for every parameter of every kind.
    #[test]
    fn typed_values_round_trip_through_the_query_parser() {
        let typed = |p: AttackParam| match p {
            AttackParam::Start => "25.5",
            AttackParam::Duration => "90",
            AttackParam::Intensity => "2.5",
            AttackParam::Stealth => "0.35",
            AttackParam::Method => "udp",
            AttackParam::Period => "300",
            AttackParam::Jitter => "30",
        };
        for kind in AttackKind::ALL {
            let mut config = RunConfig::default();
            assert!(config
                .apply_query(&format!("attacks={}", kind.as_str()))
                .is_empty());
            for p in params_for(kind) {
                let query = format!("{}={}", p.query_key(kind), p.query_value(typed(p)));
                let notices = config.apply_query(&query);
                assert!(notices.is_empty(), "{query}: {notices:?}");
                let spec = &config.generator.attacks[0];
                assert_eq!(p.shown_value(spec), typed(p), "{query}");
            }
            let spec = &config.generator.attacks[0];
            assert_eq!(spec.start_s, 25.5 * 60.0);
            assert_eq!(spec.duration_s, 90.0);
            if kind == AttackKind::C2Beacon {
                assert_eq!(spec.jitter, Some(0.3));
                assert_eq!(spec.period_s, 300.0);
            }
            config.generator.validate().unwrap();
        }
    }

    #[test]
    fn empty_jitter_means_auto_and_garbage_reaches_the_parser() {
        let p = AttackParam::Jitter;
        assert_eq!(p.query_value(""), "auto");
        assert_eq!(p.query_value(" Auto "), "auto");
        let mut config = RunConfig::default();
        config.apply_query("attacks=c2_beacon&c2_beacon.jitter=0.2&c2_beacon.stealth=1");
        let spec = config.generator.attacks[0].clone();
        assert_eq!(p.shown_value(&spec), "20");
        assert_eq!(p.placeholder(&spec).as_deref(), Some("auto (30)"));
        config.apply_query(&format!("c2_beacon.jitter={}", p.query_value("")));
        assert_eq!(config.generator.attacks[0].jitter, None);
        assert_eq!(p.shown_value(&config.generator.attacks[0]), "");
        assert_eq!(AttackParam::Stealth.query_value("lots"), "lots");
        let notices = config.apply_query("c2_beacon.stealth=lots");
        assert_eq!(notices.len(), 1, "{notices:?}");
    }

    #[test]
    fn ranges_match_what_the_parser_clamps_to() {
        for kind in AttackKind::ALL {
            let mut config = RunConfig::default();
            config.apply_query(&format!("attacks={}&duration=1800", kind.as_str()));
            for p in params_for(kind) {
                let spec = config.generator.attacks[0].clone();
                let Some((min, max)) = p.range(&spec, config.generator.duration_s) else {
                    continue;
                };
                assert!(min < max, "{kind} {p:?}");
                // Applying the shown bounds yields no clamp notice; just beyond them does.
                for (v, clamped) in [(min, false), (max, false), (max * 1.5 + 1.0, true)] {
                    let mut c = config.clone();
                    let query =
                        format!("{}={}", p.query_key(kind), p.query_value(&format_number(v)));
                    let notices = c.apply_query(&query);
                    assert_eq!(!notices.is_empty(), clamped, "{query}: {notices:?}");
                }
            }
        }
    }

    #[test]
    fn presets_are_recognised_with_any_seed_and_edits_leave_them() {
        for preset in &PRESETS {
            let mut config = RunConfig::default();
            assert!(config.apply_query(&preset_query(preset.id, 7)).is_empty());
            assert_eq!(config.generator.seed, 7);
            assert_eq!(matching_preset(&config.generator), Some(preset));
            config.apply_query("hosts=3");
            assert_eq!(matching_preset(&config.generator), None, "{}", preset.id);
        }
    }

    #[test]
    fn toggling_keeps_the_order_and_the_settings_of_the_other_attacks() {
        let mut config = RunConfig::default();
        config.apply_query("preset=stealthy_intrusion");
        let before = config.generator.attacks.clone();
        let kinds = |c: &RunConfig| {
            c.generator
                .attacks
                .iter()
                .map(|a| a.kind)
                .collect::<Vec<_>>()
        };
        let off = toggled_attack_list(&kinds(&config), AttackKind::DnsTunnel, false);
        assert!(config.apply_query(&format!("attacks={off}")).is_empty());
        let expected: Vec<_> = before
            .iter()
            .filter(|a| a.kind != AttackKind::DnsTunnel)
            .cloned()
            .collect();
        assert_eq!(config.generator.attacks, expected);
        let on = toggled_attack_list(&kinds(&config), AttackKind::PortScan, true);
        config.apply_query(&format!("attacks={on}"));
        assert_eq!(config.generator.attacks[..expected.len()], expected[..]);
        assert_eq!(
            config.generator.attacks.last().map(|a| a.kind),
            Some(AttackKind::PortScan)
        );
        let all = all_attacks_list(&kinds(&config));
        config.apply_query(&format!("attacks={all}"));
        assert_eq!(config.generator.attacks.len(), AttackKind::ALL.len());
        assert_eq!(config.generator.attacks[..expected.len()], expected[..]);
        assert_eq!(
            toggled_attack_list(&[AttackKind::SynFlood], AttackKind::SynFlood, false),
            "none"
        );
    }

    #[test]
    fn flow_estimate_rounds_and_flags_the_limit() {
        let config = GeneratorConfig::default();
        let e = flow_estimate(&config);
        assert_eq!(e.flows, config.estimated_flows());
        assert!(!e.refused);
        assert!(
            e.text.starts_with("About ") && e.text.ends_with(" from attacks)"),
            "{}",
            e.text
        );
        // The attack share is what the attacks add to a benign-only run (each estimate is
        // rounded up on its own, hence the slack).
        let benign_only = GeneratorConfig {
            attacks: Vec::new(),
            ..config.clone()
        };
        let added = e.flows - benign_only.estimated_flows();
        assert!(e.attack_flows > 0);
        assert!(e.attack_flows.abs_diff(added) <= config.attacks.len() as u64);
        let (flood, _) = RunConfig::from_query(
            "duration=86400&attacks=syn_flood&syn_flood.start=0&syn_flood.duration=86000\
             &syn_flood.intensity=10",
        );
        let e = flow_estimate(&flood.generator);
        assert!(e.refused && e.text.contains("16000000"), "{}", e.text);
        assert_eq!(round_significant(123_456, 3), 123_000);
        assert_eq!(round_significant(99_950, 3), 100_000);
        assert_eq!(round_significant(42, 3), 42);
        assert_eq!(group_thousands(1_234_567), "1,234,567");
        assert_eq!(group_thousands(999), "999");
    }

    #[test]
    fn datetime_local_round_trips_and_rejects_impossible_dates() {
        let ts = crate::traffic::generator::DEFAULT_START_TS;
        assert_eq!(datetime_local_value(ts), "2026-01-01T10:00");
        assert_eq!(parse_datetime_local("2026-01-01T10:00"), Some(ts));
        // 2024-02-29T00:00:00Z, a leap day (independently: 19_782 days after the epoch).
        assert_eq!(
            parse_datetime_local("2024-02-29T00:00:30"),
            Some(19_782.0 * 86_400.0 + 30.0)
        );
        assert_eq!(parse_datetime_local("1970-01-01T00:00"), Some(0.0));
        for bad in [
            "2023-02-29T00:00",
            "2026-13-01T00:00",
            "2026-01-01T24:00",
            "noon",
            "",
            // Beyond four-digit years the day count would overflow.
            "92233720368547758-01-01T00:00",
            "0000-01-01T00:00",
        ] {
            assert_eq!(parse_datetime_local(bad), None, "{bad}");
        }
        for ts in [0.0, 951_782_400.0, 4_102_444_740.0] {
            let text = datetime_local_value(ts);
            assert_eq!(parse_datetime_local(&text), Some(ts), "{text}");
        }
    }

    #[test]
    fn summaries_and_durations_read_naturally() {
        assert_eq!(format_duration(20.0), "20 s");
        assert_eq!(format_duration(300.0), "5 min");
        assert_eq!(format_duration(5_400.0), "90 min");
        assert_eq!(format_duration(9_000.0), "2 h 30 min");
        assert_eq!(format_duration(7_200.0), "2 h");
        // A loud scan probes 50 ports a second (`PORT_SCAN_PORTS_PER_S`): 1000 in 20 s.
        let spec = AttackSpec {
            start_s: 1_260.0,
            duration_s: 20.0,
            ..AttackSpec::default()
        };
        assert_eq!(
            attack_summary(&spec, crate::traffic::generator::DEFAULT_START_TS),
            "10:21 UTC for 20 s · ×1 · ~1,000 flows · stealth 0 · SYN"
        );
        assert_eq!(format_number(0.1 + 0.2), "0.3");
        assert_eq!(format_number(60.0), "60");
    }
}
