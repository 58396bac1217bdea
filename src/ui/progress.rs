//! Progress of the running pipeline, stage by stage, announced to screen readers.

use super::state::{AppState, RunState};
use crate::app::open_run::{self, OnOpen};
use crate::pipeline::Stage;
use leptos::prelude::*;

/// The run's status in one line, in the run bar: announced to screen readers, and where the
/// end-to-end tests read the run state (`.status[data-state]`).
#[component]
pub fn RunStatus() -> impl IntoView {
    let state = expect_context::<AppState>();
    let status_text = move || match state.run_state.get() {
        RunState::Idle => match state.config.with(open_run::on_open) {
            OnOpen::Run => "Ready. Choose settings and press Run detection.".to_string(),
            OnOpen::Wait(why) => why,
        },
        RunState::Running => {
            let stage = state.current_stage.get().map_or("Starting", Stage::title);
            let epochs = state.loss_curve.with(Vec::len);
            if state.current_stage.get() == Some(Stage::Autoencoder) && epochs > 0 {
                let loss = state.loss_curve.with(|c| c.last().copied().unwrap_or(0.0));
                format!("{stage}: epoch {epochs}, loss {loss:.4}")
            } else {
                format!("{stage}…")
            }
        }
        RunState::Done => {
            let total = state.output.with(|o| {
                o.as_ref()
                    .and_then(|o| o.report.timings_ms.get("total").copied())
                    .unwrap_or(0.0)
            });
            let done = format!("Done in {:.1} s.", total / 1000.0);
            match state.stale.get() {
                Some(why) => format!("{done} {why}"),
                None => done,
            }
        }
        RunState::Cancelled => "Cancelled. Change settings or run again.".to_string(),
        RunState::Failed(message) => format!("Failed: {message}"),
    };
    view! {
        <p class="status" role="status" aria-live="polite" data-state=move || match state.run_state.get() {
            RunState::Idle => "idle",
            RunState::Running => "running",
            RunState::Done => "done",
            RunState::Cancelled => "cancelled",
            RunState::Failed(_) => "failed",
        } data-stale=move || state.stale.with(Option::is_some).to_string()>{status_text}</p>
    }
}

/// Progress of each stage, and what the detectors found before the models train.
#[component]
pub fn ProgressPanel() -> impl IntoView {
    let state = expect_context::<AppState>();
    view! {
        <div class="progress-panel">
            <ol class="stages">
                {Stage::ALL
                    .into_iter()
                    .enumerate()
                    .map(|(i, stage)| {
                        let value = move || state.stage_progress.with(|p| p[i]);
                        view! {
                            <li class:active=move || state.current_stage.get() == Some(stage)>
                                <span class="stage-name" id=format!("stage-{i}")>{move || if stage == Stage::Generate && state.importing.get() { "Read and parse the file" } else { stage.title() }}</span>
                                <progress
                                    max="1"
                                    prop:value=value
                                    aria-labelledby=format!("stage-{i}")
                                ></progress>
                            </li>
                        }
                    })
                    .collect_view()}
            </ol>
            <PreTrainingFindings/>
        </div>
    }
}

/// While the models train (or score, with a saved model): what the detectors already named
/// and what the training check found, so a user with one capture reads "the training part
/// contains a port scan" before waiting for the models, not after.
#[component]
fn PreTrainingFindings() -> impl IntoView {
    let state = expect_context::<AppState>();
    move || {
        if state.run_state.get() != RunState::Running {
            return None;
        }
        state.checked.get().map(|c| {
            // Worded for every run: with a saved model nothing trains, the models only score.
            let named = match c.detections {
                0 => "The behavioural detectors named no attack; the models' results follow.".to_string(),
                1 => "The behavioural detectors named 1 attack; the models' results follow:".to_string(),
                n => format!("The behavioural detectors named {n} attacks; the models' results follow:"),
            };
            let more = (c.detections as usize).saturating_sub(c.summaries.len());
            view! {
                <div class="pre-training" data-testid="pre-training">
                    <p>{named}</p>
                    {(!c.summaries.is_empty()).then(|| view! {
                        <ul>
                            {c.summaries.iter().map(|s| view! { <li>{s.clone()}</li> }).collect_view()}
                            {(more > 0).then(|| view! { <li>{format!("and {more} more")}</li> })}
                        </ul>
                    })}
                    {(!c.training_warnings.is_empty()).then(|| view! {
                        <div class="training-check" role="note">
                            <p><strong>"Training data check"</strong></p>
                            <ul class="warnings">
                                {c.training_warnings.iter().map(|w| view! { <li>{w.clone()}</li> }).collect_view()}
                            </ul>
                        </div>
                    })}
                </div>
            }
        })
    }
}
