//! The threshold slider: re-labels the last run instantly (the worker re-thresholds its kept
//! scores, nothing retrains) and always shows what the threshold costs in false positives.

use super::session::request_threshold;
use super::state::AppState;
use crate::detection::run_config::ThresholdSpec;
use crate::util::format_value::format_value;
use leptos::prelude::*;

/// Slider positions between the lowest and the highest ensemble score.
const SLIDER_STEPS: f64 = 1000.0;

fn pct(v: f64) -> String {
    format!("{:.2} %", v * 100.0)
}

#[component]
pub fn ThresholdControl() -> impl IntoView {
    let state = expect_context::<AppState>();
    // Slider range from the run's scores (f32 series already on the page).
    let range = Memo::new(move |_| {
        state.output.with(|o| {
            o.as_ref().map(|o| {
                let (lo, hi) = o
                    .plot
                    .ensemble
                    .iter()
                    .filter(|s| s.is_finite())
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &s| {
                        (lo.min(f64::from(s)), hi.max(f64::from(s)))
                    });
                if lo.is_finite() && hi > lo {
                    (lo, hi)
                } else {
                    (0.0, 1.0)
                }
            })
        })
    });
    let threshold = move || {
        state
            .output
            .with(|o| o.as_ref().map(|o| o.report.threshold.ensemble))
    };
    let on_input = move |ev| {
        let Some((lo, hi)) = range.get_untracked() else {
            return;
        };
        if let Ok(pos) = event_target_value(&ev).parse::<f64>() {
            let score = lo + (hi - lo) * pos / SLIDER_STEPS;
            // Two significant decimals are all a reader can use, and they keep URLs short.
            let score = (score * 100.0).round() / 100.0;
            request_threshold(state, ThresholdSpec::Score { score });
        }
    };
    let position = move || match (range.get(), threshold()) {
        (Some((lo, hi)), Some(t)) => {
            format!(
                "{:.0}",
                ((t - lo) / (hi - lo) * SLIDER_STEPS).clamp(0.0, SLIDER_STEPS)
            )
        }
        _ => "0".to_string(),
    };
    let reset = move |_| {
        let configured = state
            .output
            .with_untracked(|o| o.as_ref().map(|o| o.report.config.detection.clone()));
        if let Some(d) = configured {
            request_threshold(
                state,
                ThresholdSpec::Contamination {
                    contamination: d.contamination,
                },
            );
        }
    };
    view! {
        <Show when=move || state.output.with(Option::is_some)>
            <div class="threshold">
                <label id="threshold-label" for="threshold-slider">"Alert threshold (ensemble score)"</label>
                <input id="threshold-slider" type="range" min="0" max=SLIDER_STEPS.to_string() step="1"
                    prop:value=position
                    aria-valuetext=move || threshold().map(|t| format!("{t:.2}")).unwrap_or_default()
                    on:input=on_input/>
                <button class="link" on:click=reset>
                    {move || state.output.with(|o| o.as_ref().map(|o| format!(
                        "Back to contamination {} %",
                        o.report.config.detection.contamination * 100.0
                    )))}
                </button>
                {move || state.output.with(|o| o.as_ref().map(|o| {
                    let r = &o.report;
                    let t = &r.threshold;
                    let cost = if r.data.source.labelled {
                        r.metrics.ensemble.false_positives_per_hour.map_or(String::new(), |f| {
                            format!(" · {} false positives per hour of traffic", format_value(f))
                        })
                    } else {
                        String::new()
                    };
                    view! {
                        <p class="threshold-cost" aria-live="polite" data-testid="threshold-cost">
                            {format!(
                                "Threshold {:.2}: flags {} of the training flows (the false-positive rate to expect on normal traffic){cost} · {} anomalies",
                                t.ensemble,
                                pct(t.training_flag_rate),
                                format_value(r.anomaly_count as f64),
                            )}
                        </p>
                    }
                }))}
            </div>
        </Show>
    }
}
