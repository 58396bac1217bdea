//! The run's outcome: headline metrics, per-attack recall, the report download and the table
//! of anomalies with their explanations.

use super::state::AppState;
use crate::app::anomaly_query::{AnomalyQuery, IncidentFilter, SortKey};
use crate::app::protocol::{FileKind, WorkerRequest, INCIDENTS_SHOWN};
use crate::findings::feedback::{Feedback, Verdict};
use crate::findings::incidents::DetectedIncident;
use crate::findings::response::{NoBlock, ResponsePlan};
use crate::output::report::{Anomaly, ImportSummary, Metrics, SourceKind};
use crate::traffic::flow::AttackKind;
use crate::traffic::import::is_benign;
use crate::util::format_value::format_value;
use crate::util::time_format::format_utc;
use leptos::prelude::*;

fn pct(v: Option<f64>) -> String {
    v.map_or("n/a".to_string(), |v| format!("{:.1} %", v * 100.0))
}

/// "Port scan" for a generated attack kind, the label text as is for imported traffic.
pub fn class_title(name: &str) -> String {
    AttackKind::ALL
        .iter()
        .find(|k| k.as_str() == name)
        .map_or_else(|| name.to_string(), |k| k.title().to_string())
}

fn num3(v: Option<f64>) -> String {
    v.map_or("n/a".to_string(), |v| format!("{v:.3}"))
}

#[component]
pub fn MetricsSummary() -> impl IntoView {
    let state = expect_context::<AppState>();
    let download = move |kind: FileKind| move |_| state.request(WorkerRequest::File(kind));
    let no_output = move || state.output.with(Option::is_none);
    let generated = move || {
        state.output.with(|o| {
            o.as_ref()
                .is_some_and(|o| o.report.data.source.kind == SourceKind::Generated)
        })
    };
    view! {
        {move || state.output.get().map(|o| {
            let r = &o.report;
            let m = &r.metrics;
            let labelled = r.data.source.labelled;
            let kinds: Vec<String> = m.ensemble.recall_by_kind.keys().cloned().collect();
            let row = |name: &'static str, x: &Metrics| {
                view! {
                    <tr>
                        <th scope="row">{name}</th>
                        <td>{num3(x.roc_auc)}</td>
                        <td>{num3(x.pr_auc)}</td>
                        <td>{pct(x.precision)}</td>
                        <td>{pct(x.recall)}</td>
                        <td>{pct(x.false_positive_rate)}</td>
                    </tr>
                }
            };
            // Recall per attack kind, kinds down and models across: a column per kind made the
            // table 1,145 px wide in a 908 px panel.
            let mut models: Vec<(&'static str, &Metrics)> = vec![
                ("Isolation Forest", &m.isolation_forest),
                ("Autoencoder", &m.mlp),
                ("Ensemble", &m.ensemble),
            ];
            if let Some(x) = m.detectors.as_ref() {
                models.push(("Detectors", x));
            }
            if let Some(x) = m.combined.as_ref() {
                models.push(("Detectors + models", x));
            }
            let per_kind = (!kinds.is_empty()).then(|| view! {
                <div class="table-wrap" hidden=!labelled tabindex="0" role="region" aria-label="Recall per attack kind">
                    <table class="metrics recall-by-kind">
                        <caption>"Recall per attack kind"</caption>
                        <thead>
                            <tr>
                                <th scope="col">"Attack kind"</th>
                                {models.iter().map(|(name, _)| view! { <th scope="col">{*name}</th> }).collect_view()}
                            </tr>
                        </thead>
                        <tbody>
                            {kinds.iter().map(|k| view! {
                                <tr>
                                    <th scope="row">{class_title(k)}</th>
                                    {models.iter().map(|(_, x)| view! { <td>{pct(x.recall_by_kind.get(k).copied())}</td> }).collect_view()}
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
            });
            view! {
                <div class="summary">
                    <dl class="cards">
                        <div><dt>"Flows"</dt><dd data-testid="flow-count">{format_value(r.data.flows as f64)}</dd></div>
                        <div><dt>"Attack flows"</dt><dd>{format_value(r.data.attack_flows as f64)}</dd></div>
                        <div><dt>"Anomalies flagged"</dt><dd data-testid="anomaly-count">{format_value(r.anomaly_count as f64)}</dd></div>
                        <div><dt>"Ensemble ROC-AUC"</dt><dd data-testid="ensemble-auc">{num3(m.ensemble.roc_auc)}</dd></div>
                    </dl>
                    <SourceSummary/>
                    {(!labelled).then(|| view! {
                        <p class="hint" data-testid="unlabelled">
                            "This traffic carries no labels, so the run is purely unsupervised: the anomalies and incidents below are what the models find unusual, and there is no ground truth to measure them against."
                        </p>
                    })}
                    {(r.data.unknown_label_flows > 0).then(|| view! {
                        <p class="hint" data-testid="unknown-labels">
                            {format!("{} flows are labelled neither benign nor attack (such as \"Background\" or \"Unknown\"): they are left out of the figures below.", format_value(r.data.unknown_label_flows as f64))}
                        </p>
                    })}
                    // Focusable, so keyboard users can scroll it when it is wider than a phone
                    // (axe: scrollable-region-focusable).
                    <div class="table-wrap" hidden=!labelled tabindex="0" role="region" aria-label="Quality against ground truth">
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
                                </tr>
                            </thead>
                            <tbody>
                                {row("Isolation Forest", &m.isolation_forest)}
                                {row("Autoencoder", &m.mlp)}
                                {row("Ensemble", &m.ensemble)}
                                {m.detectors.as_ref().map(|x| row("Behavioural detectors", x))}
                                {m.combined.as_ref().map(|x| row("Detectors + models", x))}
                            </tbody>
                        </table>
                    </div>
                    {per_kind}
                    {m.incidents.map(|t| view! { <p class="hint" data-testid="incident-truth">{t.sentence()}</p> })}
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
            <button class="secondary" on:click=download(FileKind::Model) disabled=no_output
                title="The trained detector (features, scaling, both models) as JSON, to score other traffic with \"Apply a saved model\"">
                "Download model"
            </button>
            <Show when=generated>
                <button class="secondary" on:click=download(FileKind::FlowsCsv)
                    title="Every generated flow with its label, as CSV">
                    "Download data (CSV)"
                </button>
                <button class="secondary" on:click=download(FileKind::ZeekConnLog)
                    title="Every generated flow as a Zeek conn.log with a label column">
                    "Download data (Zeek conn.log)"
                </button>
            </Show>
            {move || state.request_error.get().map(|e| view! { <span class="error" role="alert">{e}</span> })}
        </div>
    }
}

/// The ensemble's alerts grouped into incidents, most severe first: what an analyst reads first.
/// Each can be judged (false positive suppresses its pattern at once) and carries blocking
/// suggestions to copy, never executed.
#[component]
pub fn IncidentList() -> impl IntoView {
    let state = expect_context::<AppState>();
    view! {
        {move || state.output.get().filter(|_| state.incidents_ready.get()).map(|o| {
            let r = &o.report;
            let incidents = &r.incidents;
            let count = r.incident_count;
            let feedback = Feedback { verdicts: r.feedback.clone() };
            view! {
                <section class="incidents" aria-labelledby="incidents-heading">
                    <h3 id="incidents-heading">{format!("Incidents ({})", format_value(count as f64))}</h3>
                    {(count > INCIDENTS_SHOWN as u64).then(|| view! {
                        <p class="hint" data-testid="incidents-listed">
                            {format!("The {INCIDENTS_SHOWN} most severe are listed here; the report and the SIEM downloads carry all {}.", format_value(count as f64))}
                        </p>
                    })}
                    {r.incident_budget.held_back_message().map(|m| view! {
                        <p class="hint" data-testid="incidents-held-back">
                            {m}
                            " "
                            <button class="link" on:click=move |_| show_flows(state, IncidentFilter::Unlisted)>
                                "Show these flows"
                            </button>
                        </p>
                    })}
                    <VerdictList/>
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
                                    <th scope="col">"Your verdict"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {incidents.iter().take(INCIDENTS_SHOWN).map(|i| {
                                    let id = i.id;
                                    let verdict = feedback.verdict_of(i);
                                    let plan = r.responses.iter().find(|p| p.incident_id == id).cloned();
                                    let judge = move |v: Option<Verdict>| move |_| {
                                        state.request(WorkerRequest::Verdict { incident_id: id, verdict: v })
                                    };
                                    view! {
                                        <tr>
                                            <td data-label="Severity"><span class=format!("severity {}", i.severity.as_str())>{i.severity.as_str()}</span></td>
                                            <td class="when" data-label="First seen (UTC)">{format_utc(i.first_seen_ts)}</td>
                                            <td class="what" data-label="What happened">
                                                {incident_tags(i)}
                                                {i.summary.clone()}
                                                {evidence_details(i)}
                                                {plan.map(response_details)}
                                            </td>
                                            <td data-label="Flows">
                                                {format_value(i.flow_count as f64)}
                                                " "
                                                <button class="link" on:click=move |_| show_flows(state, IncidentFilter::Listed(id))
                                                    aria-label=format!("Show the flows of incident {id}")>"Show"</button>
                                            </td>
                                            <td data-label="Peak ensemble score">{format!("{:.2}", i.max_score)}</td>
                                            <td class="verdict" data-label="Your verdict">
                                                {match verdict {
                                                    Some(v) => view! {
                                                        <span class="verdict-tag">{v.title()}</span>
                                                        " "
                                                        <button class="link" on:click=judge(None)
                                                            aria-label=format!("Undo the verdict on incident {id}")>"Undo"</button>
                                                    }.into_any(),
                                                    None => view! {
                                                        <button class="secondary small" on:click=judge(Some(Verdict::Confirmed))
                                                            aria-label=format!("Confirm incident {id}")>"Confirm"</button>
                                                        <button class="secondary small" on:click=judge(Some(Verdict::FalsePositive))
                                                            aria-label=format!("Mark incident {id} as a false positive")>"False positive"</button>
                                                    }.into_any(),
                                                }}
                                            </td>
                                        </tr>
                                    }
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

/// Lists the flows of one incident (or those in no listed incident) in the anomaly table, with
/// no other filter, and moves the focus to the table's heading (which scrolls it into view).
fn show_flows(state: AppState, filter: IncidentFilter) {
    state.anomaly_query.set(AnomalyQuery {
        incident: Some(filter),
        ..AnomalyQuery::default()
    });
    super::browser::focus_id("anomalies-heading");
}

/// What found an incident and, for a detector's, the behaviour and its ATT&CK technique.
fn incident_tags(i: &DetectedIncident) -> impl IntoView {
    let technique = i.technique.map(|t| {
        view! {
            <span class="tag technique" title=t.name()>{format!("{} {}", t.id(), t.name())}</span>
            " "
        }
    });
    view! {
        <span class="tag found-by" data-testid="found-by">{format!("Found by {}", i.found_by.words())}</span>
        " "
        {technique}
        <br/>
    }
}

/// A detector's evidence and the technique's ATT&CK page (as text: the page makes no
/// request), folded away until asked for.
fn evidence_details(i: &DetectedIncident) -> Option<impl IntoView> {
    let t = i.technique?;
    let (tactic_id, tactic) = t.tactic();
    let lines: Vec<String> = i
        .evidence
        .iter()
        .map(|e| match e.threshold {
            Some(th) => format!(
                "{}: {} (threshold {})",
                e.name,
                format_value(e.value),
                format_value(th)
            ),
            None => format!("{}: {}", e.name, format_value(e.value)),
        })
        .collect();
    Some(view! {
        <details class="evidence">
            <summary>"Evidence"</summary>
            <ul>{lines.into_iter().map(|l| view! { <li>{l}</li> }).collect_view()}</ul>
            <p class="hint">
                {format!("MITRE ATT&CK {} {} (tactic {tactic_id} {tactic}): {}", t.id(), t.name(), t.url())}
            </p>
        </details>
    })
}

/// Ready-to-paste blocking commands for one incident, folded away until asked for (and only
/// rendered then: a hundred incidents' commands would otherwise cost a long task).
fn response_details(plan: ResponsePlan) -> impl IntoView {
    let open = RwSignal::new(false);
    let body = move || {
        let plan = plan.clone();
        match (plan.target, plan.no_block) {
            (Some(target), _) => view! {
                <p>{format!("Block {target} (time-limited). {}", plan.disclaimer)}</p>
                {plan.suggestions.into_iter().map(|s| view! {
                    <h5>{s.firewall.title()}</h5>
                    <pre><code>{s.commands.join("\n")}</code></pre>
                    <p class="hint">{s.note}</p>
                }).collect_view()}
            }
            .into_any(),
            (None, Some(reason)) => view! { <p>{no_block_text(reason)}</p> }.into_any(),
            (None, None) => view! { <p>"No blocking suggestion."</p> }.into_any(),
        }
    };
    view! {
        <details class="response" on:toggle=move |_| open.set(true)>
            <summary>"Suggested response"</summary>
            <Show when=move || open.get()>{body.clone()}</Show>
        </details>
    }
}

fn no_block_text(reason: NoBlock) -> String {
    match reason {
        NoBlock::Allowlisted(ip) => format!("{ip} is network infrastructure (allowlisted): not suggested for blocking."),
        NoBlock::NoAddresses => "The file carries no IP addresses, so this incident names no host: nothing to block.".to_string(),
        NoBlock::NotBlockable(ip) => format!("{ip} is not a blockable peer address."),
        NoBlock::Compromised(ip) => format!("{ip} looks compromised: isolate and investigate it, and block the destination it talks to at the perimeter, rather than blocking it as an attacker."),
        NoBlock::Collateral(ip) => format!("These flows went to or from {ip} while it was under attack: the attack's traffic made them look unusual, and their peers are likely ordinary clients. Nothing to block here; respond to the attack's own incident."),
        NoBlock::SpoofedSources => "Many scattered sources, likely spoofed: blocking them does not help. Protect the victim (rate limits, SYN cookies, upstream filtering).".to_string(),
    }
}

/// The session's verdicts, with what they suppress and a way to undo each.
#[component]
fn VerdictList() -> impl IntoView {
    let state = expect_context::<AppState>();
    move || {
        state.output.with(|o| {
            let r = &o.as_ref()?.report;
            if r.feedback.is_empty() {
                return None;
            }
            let suppressed = r.suppressed_anomalies;
            Some(view! {
                <div class="verdicts" data-testid="verdicts">
                    <p>{format!(
                        "Your verdicts ({}); {} flagged flows suppressed as false positives. Counts and metrics include them.",
                        r.feedback.len(),
                        format_value(suppressed as f64)
                    )}</p>
                    <ul>
                        {r.feedback.iter().map(|v| {
                            let pattern = v.pattern;
                            view! {
                                <li>
                                    {format!("{}: {} — {}", v.verdict.title(), pattern.describe(), v.incident_summary)}
                                    " "
                                    <button class="link" on:click=move |_| state.request(WorkerRequest::WithdrawVerdict(pattern))
                                        aria-label=format!("Withdraw the verdict on {}", pattern.describe())>"Withdraw"</button>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                </div>
            })
        })
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
                .map(|o| o.label_names.clone())
                .unwrap_or_default()
        })
    };
    // The incidents the page lists (the report's first ones).
    let incident_ids = move || {
        state.output.with(|o| {
            o.as_ref()
                .map(|o| {
                    o.report
                        .incidents
                        .iter()
                        .map(|i| i.id)
                        .collect::<Vec<u32>>()
                })
                .unwrap_or_default()
        })
    };
    view! {
        <Show when=move || state.output.with(Option::is_some)>
            <section class="anomaly-explorer" aria-labelledby="anomalies-heading">
                <h3 id="anomalies-heading" tabindex="-1">"Anomalies"</h3>
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
                            {move || kinds().into_iter().map(|k| {
                                let title = if is_benign(&k) {
                                    format!("{} (false positives)", class_title(&k))
                                } else {
                                    class_title(&k)
                                };
                                view! { <option value=k.clone()>{title}</option> }
                            }).collect_view()}
                        </select>
                    </label>
                    <label>
                        "Incident"
                        <select data-testid="incident-filter" on:change=move |ev| {
                            let value = event_target_value(&ev);
                            let filter = match value.as_str() {
                                "" => None,
                                "unlisted" => Some(IncidentFilter::Unlisted),
                                id => id.parse().ok().map(IncidentFilter::Listed),
                            };
                            refine(&|q| q.incident = filter);
                        }>
                            <option value="" selected=move || query.with(|q| q.incident.is_none())>"Any"</option>
                            <option value="unlisted" selected=move || query.with(|q| q.incident == Some(IncidentFilter::Unlisted))>
                                "In no listed incident"
                            </option>
                            {move || incident_ids().into_iter().map(|id| view! {
                                <option value=id.to_string() selected=move || query.with(|q| q.incident == Some(IncidentFilter::Listed(id)))>
                                    {format!("Incident #{id}")}
                                </option>
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
                        page.query.sort.title().to_ascii_lowercase()
                    );
                    view! {
                        <div class="table-wrap">
                            <table class="anomalies">
                                <caption>{caption}</caption>
                                <thead>
                                    <tr>
                                        <th scope="col">"Flow"</th>
                                        <th scope="col">"Scores"</th>
                                        <th scope="col">"Ground truth"</th>
                                        <th scope="col">"Why"</th>
                                        <th scope="col"><span class="visually-hidden">"Details"</span></th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {page.rows.into_iter().map(|a| anomaly_row(state, a)).collect_view()}
                                </tbody>
                            </table>
                        </div>
                        <nav class="pager" aria-label="Anomaly pages">
                            <button class="secondary" disabled={offset == 0}
                                on:click=move |_| query.update(|q| q.offset = offset.saturating_sub(limit))>
                                "Previous page"
                            </button>
                            <button class="secondary" disabled={offset + limit >= total}
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

fn anomaly_row(state: AppState, a: Anomaly) -> impl IntoView {
    let index = a.index;
    let shown = a.clone();
    let open = move |_| state.selected_anomaly.set(Some(shown.clone()));
    let selected = move || {
        state
            .selected_anomaly
            .with(|s| s.as_ref().is_some_and(|s| s.index == index))
    };
    view! {
        <tr class:attack=!is_benign(&a.label) && a.label != "unlabelled" class:selected=selected>
            // Five columns that wrap rather than eleven that scroll: at 1366 px the old table
            // was twice the width of its panel and hid "Why" and "Details".
            <td class="flow" data-label="Flow">
                <span class="when">{format_utc(a.ts)}</span>
                <span class="hosts">{format!("{}:{} → {}:{}", a.src_ip, a.src_port, a.dst_ip, a.dst_port)}</span>
                <span class="service">{format!("{}/{} {}", a.proto.as_str(), a.service.as_str(), a.conn_state.as_str())}</span>
            </td>
            <td class="scores" data-label="Scores">
                <span title="Ensemble score">{format!("ensemble {:.2}", a.scores.ensemble)}</span>
                <span class="muted" title="Isolation Forest score">{format!("forest {:.3}", a.scores.isolation_forest)}</span>
                <span class="muted" title="Autoencoder reconstruction error">{format!("autoencoder {:.3}", a.scores.mlp)}</span>
            </td>
            <td data-label="Ground truth">{a.label.clone()}</td>
            <td class="why" data-label="Why">
                <ul>{a.explanation.iter().map(|c| view! { <li>{c.sentence()}</li> }).collect_view()}</ul>
            </td>
            <td class="open">
                <button class="link" on:click=open aria-label=format!("Details of flow {index}")>"Details"</button>
            </td>
        </tr>
    }
}

/// Where the flows came from: the generator, or the imported file(s) with what was skipped.
#[component]
fn SourceSummary() -> impl IntoView {
    let state = expect_context::<AppState>();
    let file = |role: &'static str, i: &ImportSummary| {
        let skipped = (i.skipped_count > 0).then(|| {
            view! {
                <details>
                    <summary>{format!("{} records skipped", format_value(i.skipped_count as f64))}</summary>
                    <ul>{i.skipped.iter().map(|s| view! { <li>{s.clone()}</li> }).collect_view()}</ul>
                    {(i.skipped_count as usize > i.skipped.len()).then(|| view! {
                        <p class="hint">"The first ones are listed; the report counts them all."</p>
                    })}
                </details>
            }
        });
        view! {
            <li>
                {format!(
                    "{role}: {} ({}, {} bytes, {} flows)",
                    i.file_name,
                    i.format,
                    format_value(i.bytes_read as f64),
                    format_value(i.flows as f64)
                )}
                {skipped}
                {(!i.warnings.is_empty()).then(|| view! {
                    <ul class="warnings">{i.warnings.iter().map(|w| view! { <li>{w.clone()}</li> }).collect_view()}</ul>
                })}
            </li>
        }
    };
    move || {
        state.output.get().map(|o| {
            let d = &o.report.data;
            let s = &d.source;
            view! {
                <div class="source" data-testid="source">
                    <ul>
                        {match s.kind {
                            SourceKind::Generated => view! { <li>"Generated traffic"</li> }.into_any(),
                            SourceKind::Imported => s.import.as_ref().map(|i| file("Imported", i)).into_any(),
                        }}
                        {s.baseline.as_ref().map(|b| file("Baseline", b))}
                        <li>{format!("Trained on {}; evaluated on {}.", s.training, d.evaluated_on)}</li>
                    </ul>
                    {(!d.training_warnings.is_empty()).then(|| view! {
                        <div class="training-check" role="note" data-testid="training-warnings">
                            <p><strong>"Training data check"</strong></p>
                            <ul class="warnings">{d.training_warnings.iter().map(|w| view! { <li>{w.clone()}</li> }).collect_view()}</ul>
                            <p class="hint">"Remedies: import a known-good baseline, apply a saved model, or train on all flows (Training: all)."</p>
                        </div>
                    })}
                    <details>
                        <summary>{format!("{} features used", d.features.len())}</summary>
                        <p class="features">{d.features.join(", ")}</p>
                    </details>
                </div>
            }
        })
    }
}
