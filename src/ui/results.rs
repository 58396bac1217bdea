//! The run's outcome: headline metrics, per-attack recall, the report download and the table
//! of anomalies with their explanations.

use super::browser;
use super::AppState;
use crate::report::{format_value, Anomaly, Metrics};
use crate::time_format::format_utc;
use leptos::prelude::*;

fn pct(v: Option<f64>) -> String {
    v.map_or("n/a".to_string(), |v| format!("{:.1} %", v * 100.0))
}

fn num3(v: Option<f64>) -> String {
    v.map_or("n/a".to_string(), |v| format!("{v:.3}"))
}

#[component]
pub fn MetricsSummary() -> impl IntoView {
    let state = expect_context::<AppState>();
    let download_error = RwSignal::new(None::<String>);
    let download = move |_| {
        state.output.with_untracked(|o| {
            if let Some(o) = o {
                let name = format!("anomaly-report-seed{}.json", o.report.config.seed);
                if let Err(e) =
                    browser::download(&name, "application/json", &o.report.to_json_pretty())
                {
                    download_error.set(Some(e));
                }
            }
        })
    };
    view! {
        {move || state.output.get().map(|o| {
            let r = &o.report;
            let m = &r.metrics;
            let kinds: Vec<_> = m.ensemble.recall_by_kind.keys().copied().collect();
            let row = |name: &'static str, x: &Metrics| {
                let kinds = kinds.clone();
                view! {
                    <tr>
                        <th scope="row">{name}</th>
                        <td>{num3(x.roc_auc)}</td>
                        <td>{num3(x.pr_auc)}</td>
                        <td>{pct(x.precision)}</td>
                        <td>{pct(x.recall)}</td>
                        <td>{pct(x.false_positive_rate)}</td>
                        {kinds.iter().map(|k| view! { <td>{pct(x.recall_by_kind.get(k).copied())}</td> }).collect_view()}
                    </tr>
                }
            };
            view! {
                <div class="summary">
                    <dl class="cards">
                        <div><dt>"Flows"</dt><dd>{format_value(r.data.flows as f64)}</dd></div>
                        <div><dt>"Attack flows"</dt><dd>{format_value(r.data.attack_flows as f64)}</dd></div>
                        <div><dt>"Anomalies flagged"</dt><dd data-testid="anomaly-count">{format_value(r.anomaly_count as f64)}</dd></div>
                        <div><dt>"Ensemble ROC-AUC"</dt><dd data-testid="ensemble-auc">{num3(m.ensemble.roc_auc)}</dd></div>
                    </dl>
                    <div class="table-wrap">
                        <table class="metrics">
                            <caption>{format!("Quality against ground truth, on {}", r.data.evaluated_on)}</caption>
                            <thead>
                                <tr>
                                    <th scope="col">"Model"</th>
                                    <th scope="col">"ROC-AUC"</th>
                                    <th scope="col">"PR-AUC"</th>
                                    <th scope="col">"Precision"</th>
                                    <th scope="col">"Recall"</th>
                                    <th scope="col">"False positive rate"</th>
                                    {kinds.iter().map(|k| view! { <th scope="col">{format!("Recall: {}", k.title())}</th> }).collect_view()}
                                </tr>
                            </thead>
                            <tbody>
                                {row("Isolation Forest", &m.isolation_forest)}
                                {row("Autoencoder", &m.mlp)}
                                {row("Ensemble", &m.ensemble)}
                            </tbody>
                        </table>
                    </div>
                </div>
            }
        })}
        <div class="actions">
            <button class="primary" on:click=download disabled=move || state.output.with(Option::is_none)>
                "Download report"
            </button>
            {move || download_error.get().map(|e| view! { <span class="error" role="alert">{e}</span> })}
        </div>
    }
}

const PAGE: usize = 50;

#[component]
pub fn AnomalyTable() -> impl IntoView {
    let state = expect_context::<AppState>();
    let shown = RwSignal::new(PAGE);
    Effect::new(move |_| {
        state.output.track();
        shown.set(PAGE);
    });
    let ranked = Memo::new(move |_| {
        state.output.with(|o| {
            o.as_ref().map(|o| {
                let mut rows: Vec<Anomaly> = o.report.anomalies.clone();
                rows.sort_by(|a, b| {
                    b.scores
                        .ensemble
                        .total_cmp(&a.scores.ensemble)
                        .then(a.index.cmp(&b.index))
                });
                rows
            })
        })
    });
    view! {
        {move || ranked.get().map(|rows| {
            let total = rows.len();
            let visible: Vec<Anomaly> = rows.into_iter().take(shown.get()).collect();
            view! {
                <div class="table-wrap">
                    <table class="anomalies">
                        <caption>{format!("Anomalies, highest ensemble score first ({} listed)", total)}</caption>
                        <thead>
                            <tr>
                                <th scope="col">"Time (UTC)"</th>
                                <th scope="col">"Source"</th>
                                <th scope="col">"Destination"</th>
                                <th scope="col">"Service"</th>
                                <th scope="col">"State"</th>
                                <th scope="col">"IF score"</th>
                                <th scope="col">"AE error"</th>
                                <th scope="col">"Ensemble"</th>
                                <th scope="col">"Ground truth"</th>
                                <th scope="col">"Why"</th>
                            </tr>
                        </thead>
                        <tbody>
                            {visible.into_iter().map(|a| view! {
                                <tr class:attack=a.label != "benign">
                                    <td>{format_utc(a.ts)}</td>
                                    <td>{format!("{}:{}", a.src_ip, a.src_port)}</td>
                                    <td>{format!("{}:{}", a.dst_ip, a.dst_port)}</td>
                                    <td>{format!("{}/{}", a.proto.as_str(), a.service.as_str())}</td>
                                    <td>{a.conn_state.as_str()}</td>
                                    <td>{format!("{:.3}", a.scores.isolation_forest)}</td>
                                    <td>{format!("{:.3}", a.scores.mlp)}</td>
                                    <td>{format!("{:.2}", a.scores.ensemble)}</td>
                                    <td>{a.label.clone()}</td>
                                    <td class="why">
                                        <ul>{a.explanation.iter().map(|c| view! { <li>{c.sentence()}</li> }).collect_view()}</ul>
                                    </td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
                <Show when=move || { shown.get() < total }>
                    <button class="secondary" on:click=move |_| shown.update(|s| *s += PAGE)>
                        {format!("Show {PAGE} more")}
                    </button>
                </Show>
            }
        })}
    }
}
