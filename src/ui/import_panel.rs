//! "Bring your own traffic": the traffic and baseline file pickers, the format override and
//! the drop target. Files stay `File` handles here; the worker reads and parses them, so the
//! page never holds their bytes and nothing is uploaded anywhere.

use super::session::{choose, choose_model};
use super::state::{AppState, RunState};
use crate::traffic::import::{ColumnMapping, Format, MappedField};
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{File, HtmlInputElement};

fn first_file(ev: &leptos::ev::Event) -> Option<File> {
    let input: HtmlInputElement = ev.target()?.dyn_into().ok()?;
    input.files()?.get(0)
}

/// The traffic file's format: the user's choice, else what its content looks like.
pub fn effective_format(state: AppState) -> Option<Format> {
    state.import_format.get().or(state.detected_format.get())
}

fn set_mapping(state: AppState, field: MappedField, column: Option<usize>) {
    state.csv_mapping.update(|m| {
        let m = m.get_or_insert_with(ColumnMapping::default);
        m.set(field, column);
    });
    let header = state.csv_header.get_untracked();
    if let Some(mapping) = state.csv_mapping.get_untracked() {
        state.remembered_mappings.update_value(|r| {
            r.retain(|(h, _)| *h != header);
            r.push((header, mapping));
        });
    }
}

/// Which column holds what, for a CSV the app does not know: prefilled from the header names,
/// remembered for the session.
#[component]
fn MappingForm() -> impl IntoView {
    let state = expect_context::<AppState>();
    view! {
        <Show when=move || effective_format(state) == Some(Format::GenericCsv) && !state.csv_header.with(Vec::is_empty)>
            <fieldset class="mapping">
                <legend>"Columns of your CSV"</legend>
                <p class="hint">"Check which column holds each field; unmapped fields are treated as unknown. Your choice is remembered for files with the same header."</p>
                {MappedField::ALL.into_iter().map(|field| {
                    let id = format!("map-{field:?}").to_ascii_lowercase();
                    let selected = move |column: Option<usize>| {
                        state.csv_mapping.with(|m| m.as_ref().and_then(|m| m.get(field)) == column)
                    };
                    view! {
                        <div class="field">
                            <label for=id.clone()>{field.title()}</label>
                            <select id=id on:change=move |ev| {
                                let column = event_target_value(&ev).parse::<usize>().ok();
                                set_mapping(state, field, column);
                            }>
                                <option value="" selected=move || selected(None)>"(not in the file)"</option>
                                {move || state.csv_header.get().into_iter().enumerate().map(|(i, name)| view! {
                                    <option value=i.to_string() selected=move || selected(Some(i))>{name}</option>
                                }).collect_view()}
                            </select>
                        </div>
                    }
                }).collect_view()}
            </fieldset>
        </Show>
    }
}

fn format_select(
    id: &'static str,
    label: &'static str,
    value: RwSignal<Option<Format>>,
) -> impl IntoView {
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <select id=id on:change=move |ev| value.set(Format::parse(&event_target_value(&ev)))>
                <option value="" selected=move || value.get().is_none()>"Detect from content"</option>
                {Format::ALL.into_iter().map(|f| view! {
                    <option value=f.as_str() selected=move || value.get() == Some(f)>{f.title()}</option>
                }).collect_view()}
            </select>
        </div>
    }
}

#[component]
pub fn ImportPanel() -> impl IntoView {
    let state = expect_context::<AppState>();
    let running = move || state.run_state.get() == RunState::Running;
    let traffic = state.traffic_file;
    let baseline = state.baseline_file;
    view! {
        <fieldset class="group import" disabled=running>
            <legend>"Your own traffic"</legend>
            <p class="hint">
                "Zeek conn.log (TSV or JSON), Suricata eve.json, CICFlowMeter / CIC-IDS CSV, Argus binetflow (CTU-13), nfdump CSV (NetFlow / IPFIX), NSL-KDD, UNSW-NB15, other CSV, pcap or pcapng. Files are read in this tab and never leave your machine. You can also drop a file anywhere on the page."
            </p>
            <div class="field">
                <label for="import-traffic">"Import traffic"</label>
                <input id="import-traffic" type="file"
                    on:change=move |ev| choose(state, first_file(&ev), false)/>
            </div>
            {move || traffic.get().map(|f| view! {
                <p class="chosen" data-testid="traffic-file">
                    {format!("Traffic: {}", f.describe())}
                    " "
                    <button class="link" on:click=move |_| choose(state, None, false)>"Use generated traffic instead"</button>
                </p>
            })}
            {format_select("import-format", "Traffic file format", state.import_format)}
            {move || state.detected_format.get().filter(|_| state.import_format.get().is_none()).map(|f| view! {
                <p class="hint" data-testid="detected-format">{format!("Detected: {}", f.title())}</p>
            })}
            <MappingForm/>
            <div class="field">
                <label for="import-baseline">"Import baseline"</label>
                <input id="import-baseline" type="file"
                    on:change=move |ev| choose(state, first_file(&ev), true)/>
            </div>
            <p class="hint">
                "A baseline is known-good traffic: the models train on it and score the whole traffic file. Without one they train on the first part of the traffic (the training share below)."
            </p>
            {move || baseline.get().map(|f| view! {
                <p class="chosen" data-testid="baseline-file">
                    {format!("Baseline: {}", f.describe())}
                    " "
                    <button class="link" on:click=move |_| choose(state, None, true)>"Remove baseline"</button>
                </p>
            })}
            <Show when=move || baseline.with(Option::is_some)>
                {format_select("baseline-format", "Baseline file format", state.baseline_format)}
            </Show>
            <div class="field">
                <label for="import-model">"Apply a saved model"</label>
                <input id="import-model" type="file" accept=".json,application/json"
                    on:change=move |ev| choose_model(state, first_file(&ev))/>
            </div>
            <p class="hint">
                "A model saved from an earlier run (\"Download model\") scores the generated or imported traffic without training: the same features, scaling and thresholds as on the day it learned. It replaces the baseline."
            </p>
            {move || state.model_file.get().map(|f| view! {
                <p class="chosen" data-testid="model-file">
                    {format!("Model: {}", f.describe())}
                    " "
                    <button class="link" on:click=move |_| choose_model(state, None)>"Train a new model instead"</button>
                </p>
            })}
        </fieldset>
    }
}
