//! The run's outcome: headline metrics, per-attack recall, the report download and the table
//! of anomalies with their explanations.

use super::AppState;
use crate::anomaly_query::{AnomalyQuery, SortKey};
use crate::flow::AttackKind;
use crate::protocol::{FileKind, WorkerRequest};
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
    let download = move |kind: FileKind| move |_| state.request(WorkerRequest::File(kind));
    let no_output = move || state.output.with(Option::is_none);
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
            <button class="primary" on:click=download(FileKind::Report) disabled=no_output>
                "Download report"
            </button>
            <button class="secondary" on:click=download(FileKind::EveJson) disabled=no_output
                title="Suricata EVE alerts, one JSON line per incident">
                "Download EVE JSON"
            </button>
            <button class="secondary" on:click=download(FileKind::EcsNdjson) disabled=no_output
                title="Elastic Common Schema alerts, one JSON line per incident">
                "Download ECS NDJSON"
            </button>
            {move || state.request_error.get().map(|e| view! { <span class="error" role="alert">{e}</span> })}
        </div>
    }
}

/// The ensemble's alerts grouped into incidents, most severe first: what an analyst reads first.
#[component]
pub fn IncidentList() -> impl IntoView {
    let state = expect_context::<AppState>();
    view! {
        {move || state.output.get().map(|o| {
            let incidents = &o.report.incidents;
            let count = incidents.len();
            view! {
                <section class="incidents" aria-labelledby="incidents-heading">
                    <h3 id="incidents-heading">{format!("Incidents ({count})")}</h3>
                    <div class="table-wrap">
                        <table class="incident-table">
                            <caption>"Flagged flows grouped by source (or victim) and time, most severe first"</caption>
                            <thead>
                                <tr>
                                    <th scope="col">"Severity"</th>
                                    <th scope="col">"First seen (UTC)"</th>
                                    <th scope="col">"What happened"</th>
                                    <th scope="col">"Flows"</th>
                                    <th scope="col">"Peak ensemble score"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {incidents.iter().take(100).map(|i| view! {
                                    <tr>
                                        <td><span class=format!("severity {}", i.severity.as_str())>{i.severity.as_str()}</span></td>
                                        <td>{format_utc(i.first_seen_ts)}</td>
                                        <td>{i.summary.clone()}</td>
                                        <td>{format_value(i.flow_count as f64)}</td>
                                        <td>{format!("{:.2}", i.max_score)}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                    {(count > 100).then(|| view! { <p class="hint">{format!("The 100 most severe of {count} are listed; the report has them all.")}</p> })}
                </section>
            }
        })}
    }
}

#[component]
pub fn AnomalyTable() -> impl IntoView {
    let state = expect_context::<AppState>();
    let query = state.anomaly_query;
    // Filters start over at the first page.
    let refine = move |f: &dyn Fn(&mut AnomalyQuery)| {
        query.update(|q| {
            f(q);
            q.offset = 0;
        })
    };
    let kinds = move || {
        state.output.with(|o| {
            o.as_ref()
                .map(|o| {
                    o.report
                        .metrics
                        .ensemble
                        .recall_by_kind
                        .keys()
                        .copied()
                        .collect::<Vec<AttackKind>>()
                })
                .unwrap_or_default()
        })
    };
    view! {
        <Show when=move || state.output.with(Option::is_some)>
            <section class="anomaly-explorer" aria-labelledby="anomalies-heading">
                <h3 id="anomalies-heading">"Anomalies"</h3>
                <div class="filters">
                    <label>
                        "Sort by"
                        <select on:change=move |ev| {
                            let value = event_target_value(&ev);
                            refine(&|q| q.sort = SortKey::parse(&value).unwrap_or_default());
                        }>
                            {SortKey::ALL.into_iter().map(|k| view! {
                                <option value=k.as_str() selected=move || query.with(|q| q.sort == k)>{k.title()}</option>
                            }).collect_view()}
                        </select>
                    </label>
                    <label>
                        "Order"
                        <select on:change=move |ev| {
                            let descending = event_target_value(&ev) != "asc";
                            refine(&|q| q.descending = descending);
                        }>
                            <option value="desc" selected=move || query.with(|q| q.descending)>"Highest first"</option>
                            <option value="asc" selected=move || query.with(|q| !q.descending)>"Lowest first"</option>
                        </select>
                    </label>
                    <label>
                        "Ground truth"
                        <select on:change=move |ev| {
                            let value = event_target_value(&ev);
                            refine(&|q| q.label = (!value.is_empty()).then(|| value.clone()));
                        }>
                            <option value="">"Any"</option>
                            <option value="benign">"Benign (false positives)"</option>
                            {move || kinds().into_iter().map(|k| view! {
                                <option value=k.as_str()>{k.title()}</option>
                            }).collect_view()}
                        </select>
                    </label>
                    <label>
                        "Host"
                        <input type="search" placeholder="e.g. 10.0.1.7" on:change=move |ev| {
                            let value = event_target_value(&ev);
                            refine(&|q| q.host = value.clone());
                        }/>
                    </label>
                    <label>
                        "Minimum ensemble score"
                        <input type="number" step="0.5" on:change=move |ev| {
                            let value = event_target_value(&ev).trim().parse::<f64>().ok().filter(|v| v.is_finite());
                            refine(&|q| q.min_ensemble = value);
                        }/>
                    </label>
                </div>
                {move || state.anomaly_page.get().map(|page| {
                    let (offset, limit, total) = (page.query.offset, page.query.limit, page.total);
                    let first = if total == 0 { 0 } else { offset + 1 };
                    let last = (offset + page.rows.len()).min(total);
                    let caption = format!(
                        "Anomalies {first}–{last} of {} matching ({} flagged in all), by {}",
                        format_value(total as f64),
                        format_value(page.unfiltered as f64),
                        page.query.sort.title().to_lowercase()
                    );
                    view! {
                        <div class="table-wrap">
                            <table class="anomalies">
                                <caption>{caption}</caption>
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
                                    {page.rows.into_iter().map(anomaly_row).collect_view()}
                                </tbody>
                            </table>
                        </div>
                        <nav class="pager" aria-label="Anomaly pages">
                            <button class="secondary" disabled=offset == 0
                                on:click=move |_| query.update(|q| q.offset = offset.saturating_sub(limit))>
                                "Previous page"
                            </button>
                            <button class="secondary" disabled=offset + limit >= total
                                on:click=move |_| query.update(|q| q.offset = offset + limit)>
                                "Next page"
                            </button>
                        </nav>
                    }
                })}
            </section>
        </Show>
    }
}

fn anomaly_row(a: Anomaly) -> impl IntoView {
    view! {
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
    }
}
