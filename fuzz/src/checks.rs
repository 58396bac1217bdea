//! What every fuzz target runs on one input, and the invariants it asserts on the result.
//! A failed assertion here is a finding, like a panic inside the parser.
//!
//! Plain Rust over the `anomaly_detector` public API only: compiled both into the fuzz crate
//! and into the native regression test.

#![allow(dead_code)]

use anomaly_detector::app::anomaly_query::{self, MAX_PAGE_ROWS};
use anomaly_detector::app::protocol::WorkerRequest;
use anomaly_detector::detection::detector_model::DetectorModel;
use anomaly_detector::detection::models::{IsolationForest, MlpRegressor};
use anomaly_detector::detection::run_config::RunConfig;
use anomaly_detector::traffic::import::{
    self, csv_reader, suggest_mapping, ColumnMapping, Format, ImportError, ImportLimits,
    ImportedTraffic,
};
use anomaly_detector::util::matrix::Matrix;

/// Small caps so one input can allocate only a bounded amount: the fuzzer's inputs are at
/// most a few hundred KiB anyway, these keep pathological expansions (many tiny flows) small.
pub const LIMITS: ImportLimits = ImportLimits {
    max_bytes: 1024 * 1024,
    max_flows: 10_000,
    max_rows: 100_000,
    max_skipped_listed: 100,
};

/// Imports with an explicit format (or detection when `None`) and checks the result.
pub fn import_bytes(data: &[u8], format: Option<Format>) -> Result<ImportedTraffic, ImportError> {
    let mut calls = 0u32;
    let mut last = -1.0f64;
    let result = import::import(data, format, &LIMITS, &mut |f| {
        // Progress must be a fraction and never go backwards.
        assert!((0.0..=1.0).contains(&f), "progress {f} outside [0, 1]");
        assert!(f >= last, "progress went back from {last} to {f}");
        last = f;
        calls += 1;
        true
    });
    check_result(&result, format, None);
    result
}

/// Generic CSV with the mapping suggested from the input's own first row (what the UI offers),
/// or, when `mangle` is given, that mapping with columns moved to other (possibly absent)
/// indices, as a user editing the mapping might.
pub fn import_generic_csv(
    data: &[u8],
    mangle: Option<&[u8]>,
) -> Result<ImportedTraffic, ImportError> {
    let mut mapping = suggested_mapping(data);
    if let Some(bytes) = mangle {
        mangle_mapping(&mut mapping, bytes);
    }
    let result = import::import_with_mapping(
        data,
        Some(Format::GenericCsv),
        Some(&mapping),
        &LIMITS,
        &mut |_| true,
    );
    check_result(&result, Some(Format::GenericCsv), Some(&mapping));
    result
}

fn suggested_mapping(data: &[u8]) -> ColumnMapping {
    let delimiter = csv_reader::sniff_delimiter(data);
    let mut reader = csv_reader::CsvReader::new(data, delimiter);
    let mut header = Vec::new();
    match reader.next_record(&mut header) {
        Some(Ok(_)) => suggest_mapping(&header),
        _ => ColumnMapping::default(),
    }
}

fn mangle_mapping(m: &mut ColumnMapping, bytes: &[u8]) {
    let slots: [&mut Option<usize>; 16] = [
        &mut m.time,
        &mut m.src_ip,
        &mut m.dst_ip,
        &mut m.src_port,
        &mut m.dst_port,
        &mut m.proto,
        &mut m.service,
        &mut m.duration,
        &mut m.bytes_out,
        &mut m.bytes_in,
        &mut m.pkts_out,
        &mut m.pkts_in,
        &mut m.conn_state,
        &mut m.label,
        &mut m.fin_count,
        &mut m.rst_count,
    ];
    for (slot, b) in slots.into_iter().zip(bytes) {
        // 0xff = unmapped; anything else a column index, sometimes past the header's end.
        *slot = if *b == 0xff {
            None
        } else {
            Some(*b as usize % 64)
        };
    }
}

/// The invariants an import result promises, whatever the input.
pub fn check_result(
    result: &Result<ImportedTraffic, ImportError>,
    requested: Option<Format>,
    mapping: Option<&ColumnMapping>,
) {
    let t = match result {
        Ok(t) => t,
        Err(e) => {
            // Error texts are shown to the user; formatting must not panic either.
            let _ = e.to_string();
            if let ImportError::MappingOutOfRange { .. } = e {
                assert!(mapping.is_some(), "MappingOutOfRange without a mapping");
            }
            return;
        }
    };
    if let Some(f) = requested {
        assert_eq!(t.format, f, "imported as another format than requested");
    }
    let n = t.flows.len();
    assert!(n > 0, "Ok import without flows");
    assert!(n <= LIMITS.max_flows, "{n} flows above max_flows");
    assert_eq!(t.truth.len(), n, "truth.len() != flows.len()");
    assert_eq!(
        t.extra_values.len(),
        n * t.extra_columns.len(),
        "extra_values is not flows x extra_columns"
    );
    assert!(
        t.flows.windows(2).all(|w| w[0].ts <= w[1].ts),
        "flows not sorted by ts"
    );
    for (i, f) in t.flows.iter().enumerate() {
        assert!(f.ts.is_finite(), "flow {i}: ts {} not finite", f.ts);
        assert!(
            f.duration_s.is_finite() && f.duration_s >= 0.0,
            "flow {i}: duration_s {} not finite and non-negative",
            f.duration_s
        );
    }
    for v in &t.extra_values {
        // Missing cells are NaN by contract; infinities must have been turned into NaN.
        assert!(!v.is_infinite(), "infinite extra value");
    }
    for l in t.truth.iter().flatten() {
        assert!(
            (*l as usize) < t.label_names.len(),
            "truth id {l} with {} label names",
            t.label_names.len()
        );
    }
    if !t.has_labels {
        assert!(
            t.truth.iter().all(Option::is_none),
            "labels without a label column"
        );
    }
    assert!(t.skipped.len() <= LIMITS.max_skipped_listed);
    assert!(t.skipped_count >= t.skipped.len() as u64);
    for w in &t.warnings {
        let _ = w.to_string();
    }
    for s in &t.skipped {
        let _ = s.reason.to_string();
    }
    if let Some(stats) = &t.packet_stats {
        assert!(
            stats.ip_packets <= stats.packets,
            "more IP packets than packets"
        );
    }
    let _ = t.is_attack();
}

/// Model files: both importers on the same text; a model that imports must score rows of its
/// width without panicking, and a forest's scores must be finite and in [-1, 0].
pub fn model_json(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(forest) = IsolationForest::import_json(text) {
        if let Some(width) = forest.n_features_in() {
            let x = probe_matrix(width);
            let scores = forest
                .score_samples(&x)
                .expect("validated forest cannot score");
            for s in &scores {
                assert!(
                    s.is_finite() && (-1.0..=0.0).contains(s),
                    "forest score {s} outside [-1, 0]"
                );
            }
            let _ = forest.explain(x.row(0));
            let _ = forest.path_lengths(x.row(0));
        }
    }
    if let Ok(mlp) = MlpRegressor::import_json(text) {
        if let Some(width) = mlp.n_features_in() {
            let x = probe_matrix(width);
            let _ = mlp.predict(&x).expect("validated MLP cannot predict");
            let _ = mlp.reconstruction_errors(&x);
        }
    }
    if let Ok(model) = DetectorModel::from_json(text) {
        // A validated detector turns flows into input of its models' width and scores them.
        let flows = probe_flows();
        let x_raw = model.preprocessing.raw_features(&flows, None, &mut |_| {});
        let x = model.preprocessing.standardise(&x_raw);
        assert_eq!(x.cols(), model.preprocessing.columns.len());
        let forest = model
            .isolation_forest
            .score_samples(&x)
            .expect("validated detector's forest cannot score its own input");
        assert!(forest.iter().all(|s| (-1.0..=0.0).contains(s)));
        let errors = model
            .mlp
            .reconstruction_errors(&x)
            .expect("validated detector's autoencoder cannot score its own input");
        for (f, e) in forest.iter().zip(&errors) {
            let _ = model.calibration.combine(-f, *e);
        }
        assert_eq!(
            DetectorModel::from_json(&model.to_json()).as_ref(),
            Ok(&model),
            "a loaded model saves and loads unchanged"
        );
    }
}

/// A few flows of a tiny generated network (made once per process).
fn probe_flows() -> Vec<anomaly_detector::traffic::flow::FlowRecord> {
    static FLOWS: std::sync::OnceLock<Vec<anomaly_detector::traffic::flow::FlowRecord>> =
        std::sync::OnceLock::new();
    FLOWS
        .get_or_init(|| {
            let (config, _) = RunConfig::from_query("seed=1&hosts=3&duration=60&attacks=none");
            let mut flows = anomaly_detector::traffic::generator::generate(&config.generator)
                .map(|t| t.flows)
                .unwrap_or_default();
            flows.truncate(50);
            flows
        })
        .clone()
}

/// Three rows of a model's width (zeros, ones, alternating large values), capped so a hostile
/// width cannot make the probe itself huge.
fn probe_matrix(width: usize) -> Matrix {
    let width = width.min(4096);
    let mut data = vec![0.0; width];
    data.extend(std::iter::repeat_n(1.0, width));
    data.extend((0..width).map(|j| if j % 2 == 0 { 1e6 } else { -1e6 }));
    Matrix::from_vec(3, width, data).expect("3 x width")
}

/// A URL query: never panics, and what it yields survives `to_query` -> `from_query` unchanged
/// and without new notices (the link the page writes reproduces the run).
pub fn run_config_query(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (config, notices) = RunConfig::from_query(&text);
    for n in &notices {
        let _ = n.to_string();
    }
    let query = config.to_query();
    let (back, back_notices) = RunConfig::from_query(&query);
    assert_eq!(
        back, config,
        "from_query(to_query(c)) != c for input {text:?}, query {query:?}"
    );
    assert!(
        back_notices.is_empty(),
        "the app's own query {query:?} gave notices {back_notices:?}"
    );
}

/// The page -> worker message after its build id, as the worker decodes it
/// (`WorkerRequest::decode_body`, binary); an anomaly query is answered over an empty list
/// (the page must be empty and echo the query); what decodes must encode and decode back to
/// the same request, build id included.
pub fn worker_request(data: &[u8]) {
    let Ok(request) = WorkerRequest::decode_body(data) else {
        return;
    };
    if let WorkerRequest::Anomalies(q) = &request {
        let page = anomaly_query::query(&[], q);
        assert_eq!(page.total, 0);
        assert!(page.rows.len() <= MAX_PAGE_ROWS);
        let _ = serde_json::to_string(&page).expect("a page serialises");
    }
    let bytes = request.encode().expect("a decoded request encodes");
    let back = WorkerRequest::decode(&bytes).expect("own bytes decode");
    // Debug, not ==: binary carries NaN thresholds, which == would call different.
    assert_eq!(
        format!("{back:?}"),
        format!("{request:?}"),
        "request changed through its bytes"
    );
}
