//! The page: a leptos component tree that configures a run, sends it to the compute worker,
//! shows progress, draws the charts and offers the report for download.
//!
//! Components only read and write signals and call the core; all computing happens in the
//! worker (`crate::worker`), all chart reductions in `crate::app::chart_data`.
//!
//! Layout: `state` (the signals) below `session` (requests to the worker and what its answers
//! change) below the components (`config_panel`, `import_panel`, `threshold`, `progress`,
//! `results`, `anomaly_detail`, `charts`); `browser` and `worker_client` wrap the browser APIs.
//! This file assembles the page; no child imports it.

mod anomaly_detail;
mod browser;
mod charts;
mod config_panel;
mod import_panel;
mod progress;
mod results;
mod session;
mod state;
mod threshold;
mod worker_client;

use crate::app::open_run::{self, OnOpen};
use crate::app::protocol::WorkerRequest;
use crate::detection::run_config::RunConfig;
use anomaly_detail::AnomalyDetail;
use import_panel::ImportPanel;
use leptos::prelude::*;
use session::{cancel_run, follow_form, on_drop, start_run};
use state::{AppState, RunState};
use threshold::ThresholdControl;

pub use charts::{draw_chart, ChartKind};
pub use config_panel::ConfigPanel;
pub use progress::{ProgressPanel, RunStatus};
pub use results::{AnomalyTable, IncidentList, MetricsSummary};

#[component]
pub fn App() -> impl IntoView {
    browser::register_service_worker();
    let (config, notices) = RunConfig::from_query(&browser::query_string());
    let state = AppState::new(config, notices);
    provide_context(state);
    let running = move || state.run_state.get() == RunState::Running;
    // Start the worker now: its wasm loads and compiles while the user reads the page.
    let _ = worker_client::start(move |incoming| state.on_incoming(incoming));
    // Alive on arrival: the quick demo (or a shared link's small run) starts before the
    // first render, so the page never shows an idle state it is about to leave; the request
    // waits in the worker client until the worker is ready.
    if state.config.with_untracked(open_run::on_open) == OnOpen::Run {
        start_run(state, false);
    }
    // The address bar follows the form, so a link copied at any time reproduces what the form
    // says (it used to change only when a run started).
    Effect::new(move |_| browser::replace_query(&state.config.with(RunConfig::to_query)));
    // A finished run follows the form: a new threshold or weight at once, anything else
    // marks it out of date.
    Effect::new(move |_| follow_form(state));
    // The table's page follows its query (and each new run).
    Effect::new(move |_| {
        let query = state.anomaly_query.get();
        if state.output.with(Option::is_some) {
            state.request(WorkerRequest::Anomalies(query));
        }
    });

    view! {
        <header class="app-header">
            <h1>"Network anomaly detector"</h1>
            <p class="tagline">
                "Synthetic traffic, an Isolation Forest and an autoencoder, all running in this tab. Nothing leaves your machine."
            </p>
        </header>
        // Run, Cancel and the run's status stay in view at every size and scroll position
        // (the form is long: the button used to sit 2,800 px below the results).
        <div class="run-bar" role="region" aria-label="Run">
            <div class="actions">
                <button
                    class="primary"
                    id="run-button"
                    on:click=move |_| {
                        start_run(state, true);
                        focus_after_start();
                    }
                    disabled=running
                >
                    {move || if state.traffic_file.with(Option::is_some) { "Run detection on the file" } else { "Run detection" }}
                </button>
                <Show when=running>
                    <button class="secondary" id="cancel-button" on:click=move |_| cancel_run(state)>
                        "Cancel"
                    </button>
                </Show>
                <CopyLink/>
            </div>
            <RunStatus/>
        </div>
        <main class="layout"
            on:dragover=move |ev: web_sys::DragEvent| ev.prevent_default()
            on:drop=move |ev: web_sys::DragEvent| on_drop(state, ev)>
            <section class="panel config" aria-labelledby="config-heading">
                <h2 id="config-heading">"Configuration"</h2>
                <Notices/>
                <ImportPanel/>
                <ConfigPanel/>
            </section>
            <section class="panel results" aria-labelledby="results-heading"
                class:stale=move || state.stale.with(Option::is_some)>
                <h2 id="results-heading" tabindex="-1">"Results"</h2>
                <ProgressPanel/>
                <MetricsSummary/>
                <ThresholdControl/>
                <div class="charts">
                    <Chart kind=ChartKind::ScoreOverTime label="Mean ensemble score and flagged flows over time, with the threshold and attack periods"/>
                    <Chart kind=ChartKind::Histogram label="Score histogram, benign versus attack flows"/>
                    <Chart kind=ChartKind::Roc label="ROC curves of both models and the ensemble (false-positive rate on a log scale)"/>
                    <Chart kind=ChartKind::Loss label="Autoencoder training loss per epoch"/>
                    <Chart kind=ChartKind::Scatter label="Isolation Forest score versus autoencoder error, every flow, coloured by ground truth"/>
                </div>
                <IncidentList/>
                <AnomalyTable/>
                <AnomalyDetail/>
            </section>
        </main>
        <footer class="app-footer">
            <span>{format!("anomaly-detector v{}", crate::APP_VERSION)}</span>
            <span>" · runs offline · reports are JSON (schema in the README)"</span>
        </footer>
    }
}

/// After Run: the Run button is disabled, so focus would fall to the page; Cancel (which
/// appears with the run) takes it, the one thing a user may want to do next.
fn focus_after_start() {
    set_timeout(
        || browser::focus_id("cancel-button"),
        std::time::Duration::ZERO,
    );
}

/// Copies the link that reproduces the form's settings; says whether it worked, and shows
/// the link to copy by hand where the clipboard is not available (an insecure origin).
#[component]
fn CopyLink() -> impl IntoView {
    let outcome = RwSignal::new(None::<Result<(), String>>);
    let copy = move |_| {
        let link = browser::current_link();
        leptos::task::spawn_local(async move {
            let result = browser::copy_text(&link).await.map_err(|()| link);
            outcome.set(Some(result));
            set_timeout(move || outcome.set(None), std::time::Duration::from_secs(4));
        });
    };
    view! {
        <button class="secondary" id="copy-link" on:click=copy
            title="Copy a link that reproduces these settings">
            {move || match outcome.get() {
                Some(Ok(())) => "Link copied",
                _ => "Copy link",
            }}
        </button>
        {move || match outcome.get() {
            Some(Err(link)) => Some(view! {
                <span class="copy-fallback" role="status">
                    "Copy this link: " <code>{link}</code>
                </span>
            }),
            _ => None,
        }}
        <span class="visually-hidden" role="status">
            {move || matches!(outcome.get(), Some(Ok(()))).then_some("Link copied to the clipboard")}
        </span>
    }
}

/// What the URL asked for that was adjusted.
#[component]
fn Notices() -> impl IntoView {
    let state = expect_context::<AppState>();
    view! {
        <Show when=move || !state.notices.with(Vec::is_empty)>
            <div class="notices" role="alert">
                <p>"Some settings were adjusted:"</p>
                <ul>
                    {move || {
                        state
                            .notices
                            .get()
                            .into_iter()
                            .map(|n| view! { <li><code>{n.key.clone()}</code>": "{n.message.clone()}</li> })
                            .collect_view()
                    }}
                </ul>
                <button class="link" on:click=move |_| state.notices.set(Vec::new())>"Dismiss"</button>
            </div>
        </Show>
    }
}

/// A canvas redrawn whenever the run output (or, for the loss chart, the live curve) changes.
/// The live loss curve grows every epoch; its redraws are coalesced to one per
/// `LIVE_REDRAW_MS`, so drawing does not compete with the worker for the CPU.
#[component]
fn Chart(kind: ChartKind, label: &'static str) -> impl IntoView {
    const LIVE_REDRAW_MS: u64 = 150;
    let state = expect_context::<AppState>();
    let canvas = NodeRef::<leptos::html::Canvas>::new();
    let pending = StoredValue::new(false);
    // Bumped when the system theme changes, so the chart redraws in the new colours.
    let theme = RwSignal::new(0u32);
    browser::on_theme_change(move || theme.update(|t| *t += 1));
    Effect::new(move |_| {
        theme.track();
        let output = state.output.get();
        let live = kind == ChartKind::Loss && output.is_none();
        if kind == ChartKind::Loss {
            state.loss_curve.track();
        }
        let Some(el) = canvas.get() else {
            return;
        };
        if live {
            if pending.get_value() {
                return;
            }
            pending.set_value(true);
            set_timeout(
                move || {
                    pending.set_value(false);
                    // The run may have finished meanwhile: then its final curve wins.
                    let loss = state.loss_curve.get_untracked();
                    let output = state.output.get_untracked();
                    draw_chart(&el, kind, output.as_deref(), &loss);
                },
                std::time::Duration::from_millis(LIVE_REDRAW_MS),
            );
        } else {
            // Each chart draws in its own task, so the page never blocks for all of them at once.
            set_timeout(
                move || draw_chart(&el, kind, output.as_deref(), &[]),
                std::time::Duration::ZERO,
            );
        }
    });
    view! {
        <figure class="chart">
            <canvas node_ref=canvas class="chart-canvas" role="img" aria-label=label data-chart=kind.id()></canvas>
            <figcaption>{label}</figcaption>
        </figure>
    }
}
