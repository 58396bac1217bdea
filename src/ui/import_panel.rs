//! "Bring your own traffic": the traffic and baseline file pickers, the format override and
//! the drop target. Files stay `File` handles here; the worker reads and parses them, so the
//! page never holds their bytes and nothing is uploaded anywhere.

use super::AppState;
use crate::app::protocol::WorkerRequest;
use crate::traffic::import::{ColumnMapping, FileInspection, Format, MappedField};
use crate::util::format_value::format_value;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{File, HtmlInputElement};

/// The files chosen for the next run.
#[derive(Clone, Default)]
pub struct ImportFiles {
    pub traffic: Option<File>,
    pub baseline: Option<File>,
    /// A saved detector model to score with instead of training.
    pub model: Option<File>,
}

/// What the page shows about a chosen file.
#[derive(Debug, Clone, PartialEq)]
pub struct ChosenFile {
    pub name: String,
    pub bytes: f64,
}

impl ChosenFile {
    fn of(file: &File) -> ChosenFile {
        ChosenFile {
            name: file.name(),
            bytes: file.size(),
        }
    }

    fn describe(&self) -> String {
        format!("{} ({} bytes)", self.name, format_value(self.bytes))
    }
}

fn first_file(ev: &leptos::ev::Event) -> Option<File> {
    let input: HtmlInputElement = ev.target()?.dyn_into().ok()?;
    input.files()?.get(0)
}

/// Sets the traffic (or baseline) file and its shown name.
pub fn choose(state: AppState, file: Option<File>, baseline: bool) {
    let chosen = file.as_ref().map(ChosenFile::of);
    let kept = file.clone();
    state.import_files.update_value(|f| {
        if baseline {
            f.baseline = kept;
        } else {
            f.traffic = kept;
        }
    });
    if baseline {
        state.baseline_file.set(chosen);
    } else {
        state.traffic_file.set(chosen);
        state.detected_format.set(None);
        state.csv_header.set(Vec::new());
        state.csv_mapping.set(None);
        if let Some(file) = file {
            inspect(state, file);
        }
    }
}

/// Sets (or clears) the saved model the next run scores with.
pub fn choose_model(state: AppState, file: Option<File>) {
    let chosen = file.as_ref().map(ChosenFile::of);
    state.import_files.update_value(|f| f.model = file);
    state.model_file.set(chosen);
}

/// Asks the worker what the file looks like (the page does not parse files); the answer
/// arrives as `WorkerEvent::Inspected` and goes to [`on_inspected`].
fn inspect(state: AppState, file: File) {
    let on_incoming = move |incoming| state.on_incoming(incoming);
    if let Err(message) = super::worker_client::send_with_files(
        &WorkerRequest::Inspect,
        &[("traffic", &file)],
        on_incoming,
    ) {
        state.request_error.set(Some(message));
    }
}

/// Takes the inspection of the current traffic file: its format, its CSV header and a mapping
/// (the one used for the same header earlier in the session, else the suggested one).
pub fn on_inspected(state: AppState, inspection: FileInspection) {
    // A newer choice may have replaced this file meanwhile.
    if state
        .traffic_file
        .with_untracked(|f| f.as_ref().map(|f| f.name.clone()))
        != Some(inspection.file_name.clone())
    {
        return;
    }
    let header = inspection.header;
    let mapping = state
        .remembered_mappings
        .with_value(|r| r.iter().find(|(h, _)| *h == header).map(|(_, m)| m.clone()))
        .unwrap_or(inspection.suggested);
    state.detected_format.set(inspection.format);
    state.csv_header.set(header);
    state.csv_mapping.set(Some(mapping));
}

/// The traffic file's format: the user's choice, else what its content looks like.
pub fn effective_format(state: AppState) -> Option<Format> {
    state.import_format.get().or(state.detected_format.get())
}

/// The mapping to send with a run: only for a generic CSV.
pub fn mapping_for_run(state: AppState) -> Option<ColumnMapping> {
    (state
        .import_format
        .get_untracked()
        .or(state.detected_format.get_untracked())
        == Some(Format::GenericCsv))
    .then(|| state.csv_mapping.get_untracked())
    .flatten()
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
    let running = move || state.run_state.get() == super::RunState::Running;
    let traffic = state.traffic_file;
    let baseline = state.baseline_file;
    view! {
        <fieldset class="group import" disabled=running>
            <legend>"Your own traffic"</legend>
            <p class="hint">
                "Zeek conn.log (TSV or JSON), CICFlowMeter / CIC-IDS CSV, NSL-KDD, UNSW-NB15, other CSV, pcap or pcapng. Files are read in this tab and never leave your machine. You can also drop a file anywhere on the page."
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
