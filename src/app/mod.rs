//! The app boundary: a run's configuration as a URL query, the page↔worker protocol, chart
//! data, anomaly queries for the table and the benchmark workloads. May import every core
//! layer. Must not import the browser shell (ui, worker) or web-sys/leptos: it is tested
//! natively like the rest.

pub mod anomaly_query;
pub mod bench;
pub mod chart_data;
pub mod freshness;
pub mod open_run;
pub mod protocol;
pub mod url_query;
