//! The configuration form: preset, traffic (with a live flow estimate), the attacks with each
//! kind's settings, training policy and model parameters.
//!
//! Every edit is applied as a `key=value` query through `RunConfig::apply_query`, so the form,
//! the URL and the command line share one set of limits and the same clamping notices.

use super::browser::random_seed;
use super::state::{AppState, RunState};
use crate::app::url_query::{self, percent_encode};
use crate::detection::behaviour::thresholds::{self, Access, ThresholdField};
use crate::detection::behaviour::BehaviourParams;
use crate::detection::models::isolation_forest::MaxSamples;
use crate::detection::run_config::{RunConfig, TrainingPolicy};
use crate::traffic::flow::AttackKind;
use crate::traffic::generator::presets::{Preset, PRESETS};
use crate::traffic::generator::ui_fields::{
    all_attacks_list, attack_summary, datetime_local_value, flow_estimate, format_number,
    kind_description, matching_preset, params_for, parse_datetime_local, preset_query,
    toggled_attack_list, AttackParam, ParamInput,
};
use crate::traffic::generator::{self, AttackSpec, GeneratorConfig};
use leptos::prelude::*;
use wasm_bindgen::JsCast;

/// Applies one `key=value` edit.
fn apply(state: AppState, key: &str, value: &str) {
    apply_query(
        state,
        &format!("{}={}", percent_encode(key), percent_encode(value)),
    );
}

/// Applies an already encoded query (several keys at once, e.g. a preset and the seed).
fn apply_query(state: AppState, query: &str) {
    let mut notices = Vec::new();
    state.config.update(|c| notices = c.apply_query(query));
    if !notices.is_empty() {
        state.notices.update(|n| n.extend(notices));
    }
}

/// Writes the value in force back into the edited input. An ignored edit, or one clamped to
/// the value already shown, leaves the reactive value as it was, so without this the input
/// would keep showing what was typed.
fn show_applied(ev: &leptos::ev::Event, value: String) {
    let input = ev
        .target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok());
    if let Some(input) = input {
        if input.value() != value {
            input.set_value(&value);
        }
    }
}

/// The enabled attack kinds, in their order.
fn enabled_kinds(cfg: RwSignal<RunConfig>) -> Vec<AttackKind> {
    cfg.with_untracked(|c| c.generator.attacks.iter().map(|a| a.kind).collect())
}

/// `f` of the enabled attack of `kind` and its run, or the default when it is not enabled.
fn with_attack<T: Default>(
    cfg: RwSignal<RunConfig>,
    kind: AttackKind,
    f: impl Fn(&AttackSpec, &GeneratorConfig) -> T,
) -> T {
    cfg.with(|c| {
        c.generator
            .attacks
            .iter()
            .find(|a| a.kind == kind)
            .map(|a| f(a, &c.generator))
            .unwrap_or_default()
    })
}

/// The `<option>`s of a select showing `current`. Selectedness is set on the options: a
/// `prop:value` on the `<select>` is applied before its options exist (attributes are built
/// before children), so a first render would show the first option whatever the config says.
fn options(
    choices: &'static [(&'static str, &'static str)],
    current: Signal<String>,
) -> impl IntoView {
    choices
        .iter()
        .map(|&(value, text)| {
            view! {
                <option value=value prop:selected=move || current.with(|c| c == value)>
                    {text}
                </option>
            }
        })
        .collect_view()
}

/// A labelled number input bound to one query key; `scale` converts the shown unit to the
/// stored one (minutes shown, seconds stored: 60).
#[component]
fn NumberField(
    id: String,
    label: String,
    key: String,
    #[prop(into)] value: Signal<f64>,
    #[prop(default = 1.0)] scale: f64,
    #[prop(default = "any")] step: &'static str,
    #[prop(optional)] min: Option<f64>,
    #[prop(optional)] max: Option<f64>,
) -> impl IntoView {
    let state = expect_context::<AppState>();
    let on_change = move |ev| {
        let raw = event_target_value(&ev);
        match raw.trim().parse::<f64>() {
            Ok(v) => apply(state, &key, &format_number(v * scale)),
            Err(_) => apply(state, &key, &raw),
        }
        show_applied(&ev, format_number(value.get_untracked() / scale));
    };
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <input
                id=id
                type="number"
                step=step
                min=min.map(|m| format_number(m / scale))
                max=max.map(|m| format_number(m / scale))
                prop:value=move || format_number(value.get() / scale)
                on:change=on_change
            />
        </div>
    }
}

#[component]
pub fn ConfigPanel() -> impl IntoView {
    let state = expect_context::<AppState>();
    let cfg = state.config;
    let running = move || state.run_state.get() == RunState::Running;

    view! {
        <fieldset class="group" disabled=running>
            <legend>"Traffic"</legend>
            <PresetPicker/>
            <div class="field">
                <label for="seed">"Seed"</label>
                <div class="inline">
                    <input
                        id="seed"
                        type="number"
                        min="0"
                        step="1"
                        prop:value=move || cfg.with(|c| c.generator.seed.to_string())
                        on:change=move |ev| {
                            apply(state, "seed", &event_target_value(&ev));
                            show_applied(&ev, cfg.with_untracked(|c| c.generator.seed.to_string()));
                        }
                    />
                    <button
                        type="button"
                        class="secondary"
                        on:click=move |_| apply(state, "seed", &random_seed().to_string())
                    >
                        "New seed"
                    </button>
                </div>
            </div>
            <NumberField
                id="hosts".into()
                label="Hosts".into()
                key="hosts".into()
                value=Signal::derive(move || cfg.with(|c| f64::from(c.generator.hosts)))
                step="1"
                min=f64::from(generator::HOSTS_MIN)
                max=f64::from(generator::HOSTS_MAX)
            />
            <NumberField
                id="duration".into()
                label="Duration (minutes)".into()
                key="duration".into()
                value=Signal::derive(move || cfg.with(|c| c.generator.duration_s))
                scale=60.0
                step="1"
                min=generator::DURATION_MIN_S
                max=generator::DURATION_MAX_S
            />
            <RunStartField/>
            <FlowEstimateLine/>
        </fieldset>

        <fieldset class="group attacks" disabled=running>
            <legend>"Attacks"</legend>
            <AttackBulkActions/>
            {AttackKind::ALL.into_iter().map(|kind| view! { <AttackRow kind=kind/> }).collect_view()}
        </fieldset>

        <fieldset class="group" disabled=running>
            <legend>"Training and threshold"</legend>
            <div class="field">
                <label for="train">"Train on"</label>
                <select
                    id="train"
                    on:change=move |ev| apply(state, "train", &event_target_value(&ev))
                >
                    {options(
                        &[
                            ("window", "the first part of the run"),
                            ("all", "all traffic (expects contamination)"),
                        ],
                        Signal::derive(move || cfg.with(|c| c.detection.training.as_str().to_string())),
                    )}
                </select>
            </div>
            <div class="field checkbox">
                <input
                    id="detectors"
                    type="checkbox"
                    prop:checked=move || cfg.with(|c| c.detection.behaviour.enabled)
                    on:change=move |ev| apply(state, "detectors", if event_target_checked(&ev) { "on" } else { "off" })
                />
                <label for="detectors">"Behavioural detectors (scans, floods, guessing, beacons, exfiltration, DNS tunnels; no training)"</label>
            </div>
            <div class="field checkbox">
                <input
                    id="train-on-detected"
                    type="checkbox"
                    prop:checked=move || cfg.with(|c| c.detection.train_on_detected)
                    on:change=move |ev| apply(state, "train_on_detected", if event_target_checked(&ev) { "true" } else { "false" })
                />
                <label for="train-on-detected">"Train the models on flows a detector named too"</label>
            </div>
            <Show when=move || cfg.with(|c| c.detection.training == TrainingPolicy::InitialWindow)>
                <NumberField
                    id="train-fraction".into()
                    label="Training window (% of run)".into()
                    key="train_fraction".into()
                    value=Signal::derive(move || cfg.with(|c| c.detection.train_fraction))
                    scale=0.01
                    step="1"
                    min=url_query::TRAIN_FRACTION_MIN
                    max=url_query::TRAIN_FRACTION_MAX
                />
            </Show>
            <NumberField
                id="contamination".into()
                label="Contamination (% flagged in training)".into()
                key="contamination".into()
                value=Signal::derive(move || cfg.with(|c| c.detection.contamination))
                scale=0.01
                step="0.1"
                min=url_query::CONTAMINATION_MIN
                max=url_query::CONTAMINATION_MAX
            />
            <NumberField
                id="forest-weight".into()
                label="Isolation Forest weight in ensemble (%)".into()
                key="forest_weight".into()
                value=Signal::derive(move || cfg.with(|c| c.detection.forest_weight))
                scale=0.01
                step="5"
                min=0.0
                max=1.0
            />
            <NumberField
                id="incident-budget".into()
                label="Model-only incidents per hour per 100 hosts (0: all)".into()
                key="incident_budget".into()
                value=Signal::derive(move || cfg.with(|c| c.detection.incident_budget))
                step="1"
                min=0.0
                max=url_query::INCIDENT_BUDGET_MAX
            />
        </fieldset>

        <details class="group">
            <summary>"Model parameters"</summary>
            <fieldset class="group" disabled=running>
                <legend>"Isolation Forest"</legend>
                <NumberField
                    id="trees".into()
                    label="Trees (n_estimators)".into()
                    key="trees".into()
                    value=Signal::derive(move || cfg.with(|c| c.detection.isolation_forest.n_estimators as f64))
                    step="1"
                    min=url_query::TREES_MIN as f64
                    max=url_query::TREES_MAX as f64
                />
                <div class="field">
                    <label for="max-samples">"Samples per tree (max_samples)"</label>
                    <input
                        id="max-samples"
                        type="text"
                        inputmode="numeric"
                        prop:value=move || cfg.with(|c| match &c.detection.isolation_forest.max_samples {
                            MaxSamples::Count(n) => n.to_string(),
                            // A share stays a share (it used to show as "auto").
                            MaxSamples::Fraction(share) => share.to_string(),
                            MaxSamples::Auto => "auto".to_string(),
                        })
                        on:change=move |ev| apply(state, "max_samples", event_target_value(&ev).trim())
                    />
                </div>
            </fieldset>
            <fieldset class="group" disabled=running>
                <legend>"Autoencoder (MLP regressor)"</legend>
                <div class="field">
                    <label for="hidden">"Hidden layers (units, comma-separated)"</label>
                    <input
                        id="hidden"
                        type="text"
                        prop:value=move || cfg.with(|c| c.detection.mlp.hidden_layer_sizes.iter().map(usize::to_string).collect::<Vec<_>>().join(","))
                        on:change=move |ev| apply(state, "hidden", &event_target_value(&ev))
                    />
                </div>
                <div class="field">
                    <label for="activation">"Activation"</label>
                    <select
                        id="activation"
                        on:change=move |ev| apply(state, "activation", &event_target_value(&ev))
                    >
                        {options(
                            &[
                                ("relu", "relu"),
                                ("tanh", "tanh"),
                                ("logistic", "logistic"),
                                ("identity", "identity"),
                            ],
                            Signal::derive(move || cfg.with(|c| c.detection.mlp.activation.as_str().to_string())),
                        )}
                    </select>
                </div>
                <NumberField
                    id="max-iter".into()
                    label="Max epochs (max_iter)".into()
                    key="max_iter".into()
                    value=Signal::derive(move || cfg.with(|c| c.detection.mlp.max_iter as f64))
                    step="1"
                    min=url_query::MAX_ITER_MIN as f64
                    max=url_query::MAX_ITER_MAX as f64
                />
                <NumberField
                    id="learning-rate".into()
                    label="Learning rate (learning_rate_init)".into()
                    key="learning_rate".into()
                    value=Signal::derive(move || cfg.with(|c| c.detection.mlp.learning_rate_init))
                    min=url_query::LEARNING_RATE_MIN
                    max=url_query::LEARNING_RATE_MAX
                />
                <div class="field checkbox">
                    <input
                        id="early-stopping"
                        type="checkbox"
                        prop:checked=move || cfg.with(|c| c.detection.mlp.early_stopping)
                        on:change=move |ev| apply(state, "early_stopping", if event_target_checked(&ev) { "true" } else { "false" })
                    />
                    <label for="early-stopping">"Early stopping (10 % validation)"</label>
                </div>
            </fieldset>
        </details>
        <DetectorThresholds/>
    }
}

/// Every behavioural detector's thresholds, one fieldset per detector, from the same table
/// the URL uses (`detection::behaviour::thresholds`), so every bar a link can set is in the
/// form with the same limits.
#[component]
fn DetectorThresholds() -> impl IntoView {
    let state = expect_context::<AppState>();
    let cfg = state.config;
    let running = move || state.run_state.get() == RunState::Running;
    let changed = move || {
        cfg.with(|c| {
            thresholds::THRESHOLDS
                .iter()
                .filter(|f| {
                    f.value_text(&c.detection.behaviour)
                        != f.value_text(&BehaviourParams::default())
                })
                .count()
        })
    };
    let reset = move |_| {
        state.config.update(|c| {
            let enabled = c.detection.behaviour.enabled;
            c.detection.behaviour = BehaviourParams {
                enabled,
                ..BehaviourParams::default()
            };
        })
    };
    // 55 inputs are rendered only once the section is opened: most users never open it, and
    // a page that mounts (and disables while running) fewer elements keeps its tasks short.
    let opened = RwSignal::new(false);
    let on_toggle = move |ev: leptos::ev::Event| {
        let open = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlDetailsElement>().ok())
            .is_some_and(|d| d.open());
        if open && !opened.get_untracked() {
            opened.set(true);
        }
    };
    view! {
        <details class="group detector-thresholds" on:toggle=on_toggle>
            <summary>
                "Detector thresholds"
                {move || match changed() {
                    0 => String::new(),
                    n => format!(" ({n} changed)"),
                }}
            </summary>
            <p class="hint">
                "Each detector reports when all its bars are reached. Lower a bar to catch \
                 quieter attacks (and more benign traffic); the defaults, their ranges and \
                 the reasons behind them: docs/detector-thresholds.md."
            </p>
            <button type="button" on:click=reset disabled=move || running() || changed() == 0>
                "Restore the default thresholds"
            </button>
            <Show when=move || opened.get()>
                {thresholds::groups()
                    .into_iter()
                    .map(|group| {
                        view! {
                            <fieldset class="group" disabled=running>
                                <legend>{group}</legend>
                                {thresholds::THRESHOLDS
                                    .iter()
                                    .filter(|f| f.group == group)
                                    .map(|f| view! { <ThresholdInput field=f/> })
                                    .collect_view()}
                            </fieldset>
                        }
                    })
                    .collect_view()}
            </Show>
        </details>
    }
}

/// One detector threshold: a number input, or a text input for a port list.
#[component]
fn ThresholdInput(field: &'static ThresholdField) -> impl IntoView {
    let state = expect_context::<AppState>();
    let cfg = state.config;
    let id = format!("det-{}", field.key.replace(['.', '_'], "-"));
    match field.access {
        Access::Number { get, .. } => view! {
            <NumberField
                id=id
                label=field.label_with_unit()
                key=field.url_key()
                value=Signal::derive(move || cfg.with(|c| get(&c.detection.behaviour)))
                step=if field.unit.is_integer() { "1" } else { "any" }
                min=field.min
                max=field.max
            />
        }
        .into_any(),
        Access::Ports { .. } => view! {
            <div class="field">
                <label for=id.clone()>{format!("{} (comma-separated, or none)", field.label)}</label>
                <input
                    id=id
                    type="text"
                    inputmode="numeric"
                    prop:value=move || cfg.with(|c| field.value_text(&c.detection.behaviour))
                    on:change=move |ev| {
                        apply(state, &field.url_key(), &event_target_value(&ev));
                        show_applied(&ev, cfg.with_untracked(|c| field.value_text(&c.detection.behaviour)));
                    }
                />
            </div>
        }
        .into_any(),
    }
}

/// The scenario picker: choosing a preset replaces the scenario (keeping the seed) through
/// the same `preset=` key a shared link uses.
#[component]
fn PresetPicker() -> impl IntoView {
    let state = expect_context::<AppState>();
    let cfg = state.config;
    let current = Memo::new(move |_| cfg.with(|c| matching_preset(&c.generator).map(|p| p.id)));
    let on_change = move |ev| {
        let id = event_target_value(&ev);
        if Preset::find(&id).is_some() {
            let seed = cfg.with_untracked(|c| c.generator.seed);
            apply_query(state, &preset_query(&id, seed));
        }
    };
    let description = move || {
        current.get().and_then(Preset::find).map_or(
            "Custom settings. Pick a preset to start over from one.",
            |p| p.description,
        )
    };
    view! {
        <div class="field preset">
            <label for="preset">"Preset"</label>
            <select
                id="preset"
                aria-describedby="preset-description"
                on:change=on_change
            >
                {PRESETS
                    .iter()
                    .map(|p| {
                        view! {
                            <option value=p.id prop:selected=move || current.get() == Some(p.id)>
                                {p.title}
                            </option>
                        }
                    })
                    .collect_view()}
                <option value="custom" disabled prop:selected=move || current.get().is_none()>
                    "Custom"
                </option>
            </select>
            <p class="hint" id="preset-description">{description}</p>
        </div>
    }
}

/// When the run starts (UTC): the benign traffic follows the time of day.
#[component]
fn RunStartField() -> impl IntoView {
    let state = expect_context::<AppState>();
    let cfg = state.config;
    let on_change = move |ev| {
        let raw = event_target_value(&ev);
        match parse_datetime_local(&raw) {
            Some(ts) => apply(state, "start_ts", &format_number(ts)),
            // Not a date: let the parser say so like it would for a URL.
            None => apply(state, "start_ts", &raw),
        }
        show_applied(
            &ev,
            cfg.with_untracked(|c| datetime_local_value(c.generator.start_ts)),
        );
    };
    view! {
        <div class="field">
            <label for="start-ts">"Start time (UTC)"</label>
            <input
                id="start-ts"
                type="datetime-local"
                step="60"
                prop:value=move || cfg.with(|c| datetime_local_value(c.generator.start_ts))
                on:change=on_change
            />
        </div>
    }
}

/// The expected number of flows, live, with a warning past the generator's budget.
#[component]
fn FlowEstimateLine() -> impl IntoView {
    let cfg = expect_context::<AppState>().config;
    let estimate = Memo::new(move |_| cfg.with(|c| flow_estimate(&c.generator)));
    view! {
        <p
            id="flow-estimate"
            class="flow-estimate"
            class:over-limit=move || estimate.with(|e| e.refused)
            role="status"
            data-testid="flow-estimate"
            data-flows=move || estimate.with(|e| e.flows.to_string())
            data-attack-flows=move || estimate.with(|e| e.attack_flows.to_string())
        >
            {move || estimate.with(|e| e.text.clone())}
        </p>
    }
}

/// Enable or disable every attack kind at once, and how many are on.
#[component]
fn AttackBulkActions() -> impl IntoView {
    let state = expect_context::<AppState>();
    let count = move || state.config.with(|c| c.generator.attacks.len());
    view! {
        <div class="attack-bulk">
            <span class="hint">{move || format!("{} of {} enabled", count(), AttackKind::ALL.len())}</span>
            <button type="button" class="link" on:click=move |_| apply(state, "attacks", &all_attacks_list(&enabled_kinds(state.config)))>
                "Enable all attacks"
            </button>
            <button type="button" class="link" on:click=move |_| apply(state, "attacks", "none")>
                "Disable all attacks"
            </button>
        </div>
    }
}

/// One attack kind: a checkbox with a one-line description, and when enabled a disclosure
/// with its settings.
#[component]
fn AttackRow(kind: AttackKind) -> impl IntoView {
    let state = expect_context::<AppState>();
    let cfg = state.config;
    let enabled =
        Memo::new(move |_| cfg.with(|c| c.generator.attacks.iter().any(|a| a.kind == kind)));
    let toggle = move |ev| {
        let list = toggled_attack_list(&enabled_kinds(cfg), kind, event_target_checked(&ev));
        apply(state, "attacks", &list);
    };
    let summary = move || with_attack(cfg, kind, |a, g| attack_summary(a, g.start_ts));
    let id = kind.as_str();
    let check_id = format!("attack-{id}");
    let description_id = format!("attack-{id}-description");
    view! {
        <div class="attack" data-kind=id class:enabled=move || enabled.get()>
            <div class="field checkbox">
                <input
                    id=check_id.clone()
                    type="checkbox"
                    aria-describedby=description_id.clone()
                    prop:checked=move || enabled.get()
                    on:change=toggle
                />
                <label for=check_id>{kind.title()}</label>
            </div>
            <p class="attack-description" id=description_id>{kind_description(kind)}</p>
            <Show when=move || enabled.get()>
                <details class="attack-details">
                    <summary>
                        "Settings"
                        <span class="sr-only">{format!(" for {}", kind.title())}</span>
                        <span class="attack-summary">{summary}</span>
                    </summary>
                    <div class="attack-params">
                        {params_for(kind)
                            .into_iter()
                            .map(|param| view! { <AttackParamField kind=kind param=param/> })
                            .collect_view()}
                    </div>
                </details>
            </Show>
        </div>
    }
}

/// One setting of an enabled attack, labelled `<Kind title>: <setting>` for assistive
/// technology (the kind's title is visually implied by the row).
#[component]
fn AttackParamField(kind: AttackKind, param: AttackParam) -> impl IntoView {
    let state = expect_context::<AppState>();
    let cfg = state.config;
    let id = param.input_id(kind);
    let key = param.query_key(kind);
    let shown = move || with_attack(cfg, kind, |a, _| param.shown_value(a));
    let on_change = move |ev: leptos::ev::Event| {
        apply(state, &key, &param.query_value(&event_target_value(&ev)));
        show_applied(&ev, shown());
    };
    let control = match param.input() {
        ParamInput::Choice(choices) => view! {
            <select id=id.clone() on:change=on_change>
                {options(choices, Signal::derive(shown))}
            </select>
        }
        .into_any(),
        ParamInput::Number { step } | ParamInput::OptionalNumber { step } => {
            let bound = move |upper: bool| {
                with_attack(cfg, kind, |a, g| {
                    param
                        .range(a, g.duration_s)
                        .map(|(lo, hi)| format_number(if upper { hi } else { lo }))
                })
            };
            view! {
                <input
                    id=id.clone()
                    type="number"
                    inputmode="decimal"
                    step=step
                    min=move || bound(false)
                    max=move || bound(true)
                    placeholder=move || with_attack(cfg, kind, |a, _| param.placeholder(a))
                    prop:value=shown
                    on:change=on_change
                />
            }
            .into_any()
        }
    };
    view! {
        <div class="field">
            <label for=id>
                <span class="sr-only">{format!("{}: ", kind.title())}</span>
                {param.label()}
            </label>
            {control}
        </div>
    }
}
