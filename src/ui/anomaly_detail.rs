//! The detail panel of one anomaly: its flow fields, both models' scores and both models'
//! explanations in plain words. Escape or "Close details" closes it and gives focus back to the
//! button that opened it, so keyboard users keep their place in the table.

use super::state::AppState;
use crate::output::report::{Anomaly, FeatureContribution};
use crate::util::format_value::format_value;
use crate::util::time_format::format_utc;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

fn explanation_list(title: &'static str, items: &[FeatureContribution]) -> impl IntoView {
    view! {
        <div>
            <h5>{title}</h5>
            {if items.is_empty() {
                view! { <p class="hint">"No single feature stands out."</p> }.into_any()
            } else {
                view! {
                    <ol>
                        {items.iter().map(|c| view! {
                            <li>{c.sentence()}{format!(" — {:.0} % of this model's evidence", c.share * 100.0)}</li>
                        }).collect_view()}
                    </ol>
                }.into_any()
            }}
        </div>
    }
}

fn fields(a: &Anomaly) -> Vec<(&'static str, String)> {
    vec![
        ("Time (UTC)", format_utc(a.ts)),
        ("Source", format!("{}:{}", a.src_ip, a.src_port)),
        ("Destination", format!("{}:{}", a.dst_ip, a.dst_port)),
        (
            "Protocol / service",
            format!("{}/{}", a.proto.as_str(), a.service.as_str()),
        ),
        ("Duration", format!("{} s", format_value(a.duration_s))),
        (
            "Bytes out / in",
            format!(
                "{} / {}",
                format_value(a.bytes_out as f64),
                format_value(a.bytes_in as f64)
            ),
        ),
        (
            "Packets out / in",
            format!(
                "{} / {}",
                format_value(a.pkts_out as f64),
                format_value(a.pkts_in as f64)
            ),
        ),
        ("Connection state", a.conn_state.as_str().to_string()),
        ("History", a.history.as_str().to_string()),
        (
            "Isolation Forest score",
            format!("{:.4}", a.scores.isolation_forest),
        ),
        ("Autoencoder error", format!("{:.4}", a.scores.mlp)),
        ("Ensemble score", format!("{:.3}", a.scores.ensemble)),
        ("Ground truth", a.label.clone()),
        (
            "Detected incident",
            a.detected_incident
                .map_or("none".to_string(), |i| format!("#{i}")),
        ),
    ]
}

#[component]
pub fn AnomalyDetail() -> impl IntoView {
    let state = expect_context::<AppState>();
    let panel = NodeRef::<leptos::html::Section>::new();
    let opener = StoredValue::new_local(None::<web_sys::HtmlElement>);
    // Opening a detail moves focus (and the view) to it; keyboard users land on the panel.
    Effect::new(move |_| {
        if let Some(el) = panel.get() {
            let active = document()
                .active_element()
                .and_then(|a| a.dyn_into::<web_sys::HtmlElement>().ok());
            if let Some(active) = active.filter(|a| !el.contains(Some(a))) {
                opener.set_value(Some(active));
            }
            let _ = el.focus();
            el.scroll_into_view();
        }
    });
    let close = move || {
        state.selected_anomaly.set(None);
        if let Some(el) = opener.get_value().filter(|el| el.is_connected()) {
            let _ = el.focus();
        }
    };
    let on_keydown = move |ev: web_sys::KeyboardEvent| {
        if ev.key() == "Escape" {
            ev.prevent_default();
            close();
        }
    };
    move || {
        state.selected_anomaly.get().map(|a| {
            let forest = a.isolation_forest_explanation.clone().unwrap_or_default();
            view! {
                <section class="anomaly-detail" aria-labelledby="detail-heading" tabindex="-1" node_ref=panel on:keydown=on_keydown>
                    <h4 id="detail-heading">{format!("Flow {} in detail", a.index)}</h4>
                    <dl class="detail-fields">
                        {fields(&a).into_iter().map(|(k, v)| view! { <div><dt>{k}</dt><dd>{v}</dd></div> }).collect_view()}
                    </dl>
                    <div class="explanations">
                        {explanation_list("Why the autoencoder flagged it (worst-reconstructed features)", &a.explanation)}
                        {explanation_list("Why the Isolation Forest flagged it (features that isolated it early)", &forest)}
                    </div>
                    <button class="secondary" on:click=move |_| close()>"Close details"</button>
                </section>
            }
        })
    }
}
