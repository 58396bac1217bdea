//! The configuration form: scenario, attacks, training policy and model parameters.
//!
//! Every edit is applied as a `key=value` query through `RunConfig::apply_query`, so the form,
//! the URL and the command line share one set of limits and the same clamping notices.

use super::browser::random_seed;
use super::AppState;
use crate::flow::AttackKind;
use crate::generator;
use crate::models::isolation_forest::MaxSamples;
use crate::run_config::{self, percent_encode, TrainingPolicy};
use leptos::prelude::*;

fn apply(state: AppState, key: &str, value: &str) {
    let query = format!("{}={}", percent_encode(key), percent_encode(value));
    let mut notices = Vec::new();
    state.config.update(|c| notices = c.apply_query(&query));
    if !notices.is_empty() {
        state.notices.update(|n| n.extend(notices));
    }
}

fn fmt_num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{}", (v * 1e6).round() / 1e6)
    }
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
            Ok(v) => apply(state, &key, &fmt_num(v * scale)),
            Err(_) => apply(state, &key, &raw),
        }
    };
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <input
                id=id
                type="number"
                step=step
                min=min.map(|m| fmt_num(m / scale))
                max=max.map(|m| fmt_num(m / scale))
                prop:value=move || fmt_num(value.get() / scale)
                on:change=on_change
            />
        </div>
    }
}

#[component]
pub fn ConfigPanel() -> impl IntoView {
    let state = expect_context::<AppState>();
    let cfg = state.config;
    let running = move || state.run_state.get() == super::RunState::Running;

    view! {
        <fieldset class="group" disabled=running>
            <legend>"Traffic"</legend>
            <div class="field">
                <label for="seed">"Seed"</label>
                <div class="inline">
                    <input
                        id="seed"
                        type="number"
                        min="0"
                        step="1"
                        prop:value=move || cfg.with(|c| c.generator.seed.to_string())
                        on:change=move |ev| apply(state, "seed", &event_target_value(&ev))
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
        </fieldset>

        <fieldset class="group" disabled=running>
            <legend>"Attacks"</legend>
            {AttackKind::ALL.into_iter().map(|kind| view! { <AttackRow kind=kind/> }).collect_view()}
        </fieldset>

        <fieldset class="group" disabled=running>
            <legend>"Training and threshold"</legend>
            <div class="field">
                <label for="train">"Train on"</label>
                <select
                    id="train"
                    on:change=move |ev| apply(state, "train", &event_target_value(&ev))
                    prop:value=move || cfg.with(|c| c.detection.training.as_str().to_string())
                >
                    <option value="window">"the first part of the run"</option>
                    <option value="all">"all traffic (expects contamination)"</option>
                </select>
            </div>
            <Show when=move || cfg.with(|c| c.detection.training == TrainingPolicy::InitialWindow)>
                <NumberField
                    id="train-fraction".into()
                    label="Training window (% of run)".into()
                    key="train_fraction".into()
                    value=Signal::derive(move || cfg.with(|c| c.detection.train_fraction))
                    scale=0.01
                    step="1"
                    min=run_config::TRAIN_FRACTION_MIN
                    max=run_config::TRAIN_FRACTION_MAX
                />
            </Show>
            <NumberField
                id="contamination".into()
                label="Contamination (% flagged in training)".into()
                key="contamination".into()
                value=Signal::derive(move || cfg.with(|c| c.detection.contamination))
                scale=0.01
                step="0.1"
                min=run_config::CONTAMINATION_MIN
                max=run_config::CONTAMINATION_MAX
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
                    min=run_config::TREES_MIN as f64
                    max=run_config::TREES_MAX as f64
                />
                <div class="field">
                    <label for="max-samples">"Samples per tree (max_samples)"</label>
                    <input
                        id="max-samples"
                        type="text"
                        inputmode="numeric"
                        prop:value=move || cfg.with(|c| match &c.detection.isolation_forest.max_samples {
                            MaxSamples::Count(n) => n.to_string(),
                            other => serde_json::to_value(other).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_else(|| "auto".into()),
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
                        prop:value=move || cfg.with(|c| c.detection.mlp.activation.as_str().to_string())
                    >
                        <option value="relu">"relu"</option>
                        <option value="tanh">"tanh"</option>
                        <option value="logistic">"logistic"</option>
                        <option value="identity">"identity"</option>
                    </select>
                </div>
                <NumberField
                    id="max-iter".into()
                    label="Max epochs (max_iter)".into()
                    key="max_iter".into()
                    value=Signal::derive(move || cfg.with(|c| c.detection.mlp.max_iter as f64))
                    step="1"
                    min=run_config::MAX_ITER_MIN as f64
                    max=run_config::MAX_ITER_MAX as f64
                />
                <NumberField
                    id="learning-rate".into()
                    label="Learning rate (learning_rate_init)".into()
                    key="learning_rate".into()
                    value=Signal::derive(move || cfg.with(|c| c.detection.mlp.learning_rate_init))
                    min=run_config::LEARNING_RATE_MIN
                    max=run_config::LEARNING_RATE_MAX
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
    }
}

/// One attack kind: enable it and set when, how long and how loud.
#[component]
fn AttackRow(kind: AttackKind) -> impl IntoView {
    let state = expect_context::<AppState>();
    let cfg = state.config;
    let enabled = move || cfg.with(|c| c.generator.attacks.iter().any(|a| a.kind == kind));
    let spec = move |f: fn(&generator::AttackSpec) -> f64| {
        Signal::derive(move || {
            cfg.with(|c| {
                c.generator
                    .attacks
                    .iter()
                    .find(|a| a.kind == kind)
                    .map_or(0.0, f)
            })
        })
    };
    let toggle = move |ev| {
        let on = event_target_checked(&ev);
        let kinds: Vec<&str> = AttackKind::ALL
            .into_iter()
            .filter(|&k| {
                if k == kind {
                    on
                } else {
                    cfg.with(|c| c.generator.attacks.iter().any(|a| a.kind == k))
                }
            })
            .map(AttackKind::as_str)
            .collect();
        let list = if kinds.is_empty() {
            "none".to_string()
        } else {
            kinds.join(",")
        };
        apply(state, "attacks", &list);
    };
    let id = kind.as_str();
    view! {
        <div class="attack" data-kind=id>
            <div class="field checkbox">
                <input id=format!("attack-{id}") type="checkbox" prop:checked=enabled on:change=toggle/>
                <label for=format!("attack-{id}")>{kind.title()}</label>
            </div>
            <Show when=enabled>
                <div class="attack-params">
                    <NumberField
                        id=format!("{id}-start")
                        label=format!("{} start (minute)", kind.title())
                        key=format!("{id}.start")
                        value=spec(|a| a.start_s)
                        scale=60.0
                        min=0.0
                    />
                    <NumberField
                        id=format!("{id}-duration")
                        label=format!("{} duration (s)", kind.title())
                        key=format!("{id}.duration")
                        value=spec(|a| a.duration_s)
                        step="1"
                        min=1.0
                    />
                    <NumberField
                        id=format!("{id}-intensity")
                        label=format!("{} intensity", kind.title())
                        key=format!("{id}.intensity")
                        value=spec(|a| a.intensity)
                        step="0.1"
                        min=generator::INTENSITY_MIN
                        max=generator::INTENSITY_MAX
                    />
                </div>
            </Show>
        </div>
    }
}
