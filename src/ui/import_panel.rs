//! "Bring your own traffic": the traffic and baseline file pickers, the format override and
//! the drop target. Files stay `File` handles here; the worker reads and parses them, so the
//! page never holds their bytes and nothing is uploaded anywhere.

use super::AppState;
use crate::import::Format;
use crate::report::format_value;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{File, HtmlInputElement};

/// The files chosen for the next run.
#[derive(Clone, Default)]
pub struct ImportFiles {
    pub traffic: Option<File>,
    pub baseline: Option<File>,
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
    state.import_files.update_value(|f| {
        if baseline {
            f.baseline = file;
        } else {
            f.traffic = file;
        }
    });
    if baseline {
        state.baseline_file.set(chosen);
    } else {
        state.traffic_file.set(chosen);
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
        </fieldset>
    }
}
