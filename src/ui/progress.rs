//! Progress of the running pipeline, stage by stage, announced to screen readers.

use super::state::{AppState, RunState};
use crate::pipeline::Stage;
use leptos::prelude::*;

#[component]
pub fn ProgressPanel() -> impl IntoView {
    let state = expect_context::<AppState>();
    let status_text = move || match state.run_state.get() {
        RunState::Idle => "Ready. Choose settings and press Run detection.".to_string(),
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
            format!("Done in {:.1} s.", total / 1000.0)
        }
        RunState::Cancelled => "Cancelled. Change settings or run again.".to_string(),
        RunState::Failed(message) => format!("Failed: {message}"),
    };
    view! {
        <div class="progress-panel">
            <p class="status" role="status" aria-live="polite" data-state=move || match state.run_state.get() {
                RunState::Idle => "idle",
                RunState::Running => "running",
                RunState::Done => "done",
                RunState::Cancelled => "cancelled",
                RunState::Failed(_) => "failed",
            }>{status_text}</p>
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
        </div>
    }
}
