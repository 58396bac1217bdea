//! What the detectors' tests share: generated traffic from a URL query, and the real captures
//! under `../shared/data`, each set walked and imported once per test binary (several
//! detectors check the same 750 captures). Test-only; not for the detectors themselves.

use crate::detection::run_config::RunConfig;
use crate::traffic::flow::FlowRecord;
use crate::traffic::import::{import, ImportLimits};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Imported captures: (path, flows), in path order.
pub type Captures = Vec<(String, Vec<FlowRecord>)>;

/// The generator's flows for a URL query (which must need no adjustment).
pub fn generated(query: &str) -> Vec<FlowRecord> {
    let (config, notices) = RunConfig::from_query(query);
    assert!(notices.is_empty(), "{query}: {notices:?}");
    crate::traffic::generator::generate(&config.generator)
        .unwrap()
        .flows
}

/// `../shared/data`.
pub fn shared_data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data")
}

/// Every file under `dir`, recursively, in path order (empty when `dir` is unreadable).
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for p in entries.flatten().map(|e| e.path()) {
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The files of `paths` that import, with their flows.
fn import_each(paths: impl IntoIterator<Item = PathBuf>) -> Captures {
    let mut out = Vec::new();
    for p in paths {
        let Ok(bytes) = std::fs::read(&p) else {
            continue;
        };
        if let Ok(t) = import(&bytes, None, &ImportLimits::default(), &mut |_| true) {
            out.push((p.display().to_string(), t.flows));
        }
    }
    out
}

/// The captures under the `roots` (relative to `../shared/data`) whose file name passes
/// `keep`, imported once per `cell`; None (with the reason printed) when a root is absent.
fn cached(
    cell: &'static OnceLock<Option<Captures>>,
    roots: &[&str],
    keep: fn(&Path) -> bool,
) -> Option<&'static Captures> {
    let found = cell.get_or_init(|| {
        let roots: Vec<PathBuf> = roots.iter().map(|r| shared_data().join(r)).collect();
        if let Some(absent) = roots.iter().find(|r| !r.is_dir()) {
            println!("skipped: {} is absent", absent.display());
            return None;
        }
        let mut paths: Vec<PathBuf> = roots
            .iter()
            .flat_map(|r| files_under(r))
            .filter(|p| keep(p))
            .collect();
        paths.sort();
        Some(import_each(paths))
    });
    found.as_ref()
}

fn has_extension(p: &Path, extensions: &[&str]) -> bool {
    p.extension()
        .and_then(|x| x.to_str())
        .is_some_and(|x| extensions.contains(&x))
}

/// The flows of one capture under `../shared/data`, or None (with the reason printed) when
/// it is absent.
pub fn real(path: &str) -> Option<Vec<FlowRecord>> {
    let full = shared_data().join(path);
    match std::fs::read(&full) {
        Ok(bytes) => Some(
            import(&bytes, None, &ImportLimits::default(), &mut |_| true)
                .unwrap()
                .flows,
        ),
        Err(e) => {
            println!("skipped: {} not readable ({e})", full.display());
            None
        }
    }
}

/// Zeek's test captures (pcap, pcapng, trace) that import.
pub fn zeek_traces() -> Option<&'static Captures> {
    static CELL: OnceLock<Option<Captures>> = OnceLock::new();
    cached(&CELL, &["zeek_traces/testing/btest/Traces"], |p| {
        has_extension(p, &["pcap", "pcapng", "trace"])
    })
}

/// Every file under Zeek's test traces and ESnet's attack captures that imports.
pub fn traces_and_esnet_attacks() -> Option<&'static Captures> {
    static CELL: OnceLock<Option<Captures>> = OnceLock::new();
    cached(
        &CELL,
        &[
            "zeek_traces/testing/btest/Traces",
            "esnet_curated_pcaps/attacks",
        ],
        |_| true,
    )
}

/// Every Zeek baseline conn.log, Zeek test pcap and ESnet pcap that imports.
pub fn real_files() -> Option<&'static Captures> {
    static CELL: OnceLock<Option<Captures>> = OnceLock::new();
    cached(
        &CELL,
        &[
            "zeek_traces/testing/btest/Baseline",
            "zeek_traces/testing/btest/Traces",
            "esnet_curated_pcaps",
        ],
        |p| p.file_name().is_some_and(|n| n == "conn.log") || has_extension(p, &["pcap", "pcapng"]),
    )
}
