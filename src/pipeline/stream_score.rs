//! Scoring flows one at a time with a saved model, for files larger than memory: a bounded
//! reorder buffer puts the flows in start-time order, the streaming feature extractor
//! (`features::FeatureStream`, the same code batch extraction runs) gives each its row, and
//! blocks of rows go through the model's preprocessing, both models, the ensemble
//! calibration and the threshold with the very functions a batch run calls, so a stream's
//! scores equal a batch run's bit for bit when the order is the same.
//!
//! **Order.** Zeek writes a conn.log line when the connection ends, but `ts` is its start:
//! the file is not in `ts` order, while the features' trailing window and a batch import
//! (which sorts) are. Flows wait in a buffer until the newest start time seen is
//! `reorder_s` past theirs (or the buffer holds `reorder_max_flows`), then leave in `(ts,
//! file order)` order, as a stable sort would put them. A flow that arrives after a
//! later-starting one already left is *late*: it leaves the buffer as soon as its turn comes,
//! after flows that started later, and is counted ([`StreamStats::late`]); its window
//! features then count some flows that started after it, so its scores (and those of flows
//! near it) can differ from a batch run's. A file that is sorted, or whose disorder stays
//! within `reorder_s` and `reorder_max_flows`, scores exactly as a batch run.
//!
//! **Latency and restarts** (`detect follow`): [`StreamScorer::flush`] scores a partial
//! block at once (rows are scored independently, so block boundaries never change a score),
//! and [`StreamScorer::state`] / [`StreamScorer::resume`] carry everything between flows
//! (reorder buffer, feature window, pair gaps, counters) over a restart as serde data, so
//! the scores after a resume equal those of a stream that never stopped.
//!
//! Memory: the reorder buffer (at most `reorder_max_flows` flows), the feature window (the
//! flows of the last `window_s`, the host and pair keys inside it), one gap record per
//! (source, destination) pair, and one block of rows. Not here: the behavioural detectors
//! (they need the whole traffic; a batch run does them), reading files (`zeek_stream`),
//! writing alerts (`output::siem`).

use super::error::DetectionError;
use super::run::with_model_settings;
use super::threshold::thresholds_from;
use crate::detection::detector_model::DetectorModel;
use crate::detection::features::{
    FeatureStateError, FeatureStream, FeatureStreamState, StreamStateSize, FEATURES,
};
use crate::detection::preprocessing::{ColumnMap, ExtraColumns};
use crate::detection::run_config::RunConfig;
use crate::output::report::ThresholdInfo;
use crate::traffic::flow::FlowRecord;
use crate::util::matrix::Matrix;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// Rows scored together: a multiple of the autoencoder's prediction chunk (256 rows), so a
/// stream's blocks split rows exactly as a batch run's matrix does.
pub const SCORE_BLOCK_ROWS: usize = 1024;

/// How far out of order a stream may be and still score as a batch run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReorderSettings {
    /// A flow waits until a flow starting this many seconds later has been read.
    pub reorder_s: f64,
    /// At most this many flows wait; beyond, the oldest leaves early.
    pub reorder_max_flows: usize,
}

impl Default for ReorderSettings {
    /// One minute (Zeek logs most connections within seconds of their end; the feature window
    /// is a minute too) and 200,000 flows (about 60 MB).
    fn default() -> ReorderSettings {
        ReorderSettings {
            reorder_s: 60.0,
            reorder_max_flows: 200_000,
        }
    }
}

/// One scored flow.
#[derive(Debug, Clone)]
pub struct ScoredFlow {
    pub flow: FlowRecord,
    /// Zeek's connection id, when the file had one.
    pub uid: Option<String>,
    /// Position in the scored order (0-based).
    pub position: u64,
    pub isolation_forest: f64,
    pub mlp: f64,
    pub ensemble: f64,
    /// `ensemble` at or above the ensemble threshold.
    pub flagged: bool,
}

/// What a stream did so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct StreamStats {
    pub flows: u64,
    pub flagged: u64,
    /// Flows that arrived after a later-starting flow had been scored (see the module doc).
    pub late: u64,
    /// Most flows the reorder buffer held at once.
    pub max_buffered: usize,
}

/// A flow waiting in the reorder buffer; the heap's top is the earliest `(ts, seq)`.
struct Waiting {
    ts: f64,
    seq: u64,
    flow: FlowRecord,
    uid: Option<String>,
    extras: Vec<f64>,
}

impl PartialEq for Waiting {
    fn eq(&self, other: &Waiting) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Waiting {}

impl PartialOrd for Waiting {
    fn partial_cmp(&self, other: &Waiting) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Waiting {
    /// Reversed, so that `BinaryHeap` (a max-heap) pops the earliest.
    fn cmp(&self, other: &Waiting) -> Ordering {
        other
            .ts
            .total_cmp(&self.ts)
            .then_with(|| other.seq.cmp(&self.seq))
    }
}

/// A flow of the reorder buffer as plain data (missing extra values as `null`: JSON has no
/// NaN).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct WaitingState {
    seq: u64,
    flow: FlowRecord,
    uid: Option<String>,
    extras: Vec<Option<f64>>,
}

/// Everything a [`StreamScorer`] carries from one flow to the next, as serde data (a `detect
/// follow` checkpoint). Taken between blocks ([`StreamScorer::state`] after
/// [`StreamScorer::flush`]), so no half-scored block is in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScorerState {
    /// The extra columns each flow's extra values follow.
    pub extra_columns: Vec<String>,
    features: FeatureStreamState,
    /// The reorder buffer in release order.
    waiting: Vec<WaitingState>,
    seq: u64,
    /// `None`: no flow yet (JSON has no infinities).
    newest_ts: Option<f64>,
    released_ts: Option<f64>,
    pub stats: StreamStats,
}

/// A saved state that cannot continue with this model.
#[derive(Debug, Clone, PartialEq)]
pub enum ResumeError {
    Features(FeatureStateError),
    /// A buffered flow's sequence number is not below the next one.
    Sequence {
        seq: u64,
        next: u64,
    },
}

impl std::fmt::Display for ResumeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ResumeError::Features(e) => write!(f, "{e}"),
            ResumeError::Sequence { seq, next } => write!(
                f,
                "buffered flow {seq} is not before the next sequence number {next}"
            ),
        }
    }
}

impl std::error::Error for ResumeError {}

/// A saved model scoring a stream of flows (see the module doc).
pub struct StreamScorer<'m> {
    model: &'m DetectorModel,
    extra_columns: Vec<String>,
    features: FeatureStream<'m>,
    columns: ColumnMap,
    missing: Vec<String>,
    threshold: ThresholdInfo,
    reorder: ReorderSettings,
    waiting: BinaryHeap<Waiting>,
    seq: u64,
    newest_ts: f64,
    /// Start time of the last flow that left the buffer.
    released_ts: f64,
    /// The current block: its flows and their model rows (row-major, unscaled).
    block: Vec<(FlowRecord, Option<String>)>,
    block_x: Vec<f64>,
    builtin_row: Vec<f64>,
    ready: Vec<ScoredFlow>,
    stats: StreamStats,
}

impl<'m> StreamScorer<'m> {
    /// `config` gives the threshold policy (as `analyse --model` takes it: the user's
    /// threshold settings over the model's own detection settings); `extra_columns` are the
    /// file's extra numeric columns, in the order each flow's extra values come.
    pub fn new(
        model: &'m DetectorModel,
        config: &RunConfig,
        extra_columns: &[String],
        reorder: ReorderSettings,
    ) -> StreamScorer<'m> {
        let effective = with_model_settings(config, model);
        let r = &model.reference;
        let threshold = thresholds_from(
            &r.isolation_forest,
            &r.mlp,
            &r.ensemble,
            &effective.detection.threshold_spec(),
        );
        let pre = &model.preprocessing;
        let no_rows = |_: usize| -> &[f64] { &[] };
        let missing = pre.missing_columns(Some(&ExtraColumns {
            names: extra_columns,
            row: &no_rows,
        }));
        StreamScorer {
            model,
            extra_columns: extra_columns.to_vec(),
            features: FeatureStream::new(&pre.ports, &pre.features),
            columns: pre.column_map(Some(extra_columns)),
            missing,
            threshold,
            reorder,
            waiting: BinaryHeap::new(),
            seq: 0,
            newest_ts: f64::NEG_INFINITY,
            released_ts: f64::NEG_INFINITY,
            block: Vec::with_capacity(SCORE_BLOCK_ROWS),
            block_x: Vec::with_capacity(SCORE_BLOCK_ROWS * pre.columns.len()),
            builtin_row: vec![0.0; FEATURES.len()],
            ready: Vec::new(),
            stats: StreamStats::default(),
        }
    }

    /// A scorer that continues from `state` (taken from a scorer of the same model): the
    /// same scores, positions and counters for the following flows as the scorer it was taken
    /// from would have given.
    pub fn resume(
        model: &'m DetectorModel,
        config: &RunConfig,
        reorder: ReorderSettings,
        state: ScorerState,
    ) -> Result<StreamScorer<'m>, ResumeError> {
        let mut s = StreamScorer::new(model, config, &state.extra_columns, reorder);
        let pre = &model.preprocessing;
        s.features = FeatureStream::resume(&pre.ports, &pre.features, state.features)
            .map_err(ResumeError::Features)?;
        for w in state.waiting {
            if w.seq >= state.seq {
                return Err(ResumeError::Sequence {
                    seq: w.seq,
                    next: state.seq,
                });
            }
            s.waiting.push(Waiting {
                ts: w.flow.ts,
                seq: w.seq,
                flow: w.flow,
                uid: w.uid,
                extras: w
                    .extras
                    .into_iter()
                    .map(|v| v.unwrap_or(f64::NAN))
                    .collect(),
            });
        }
        s.seq = state.seq;
        s.newest_ts = state.newest_ts.unwrap_or(f64::NEG_INFINITY);
        s.released_ts = state.released_ts.unwrap_or(f64::NEG_INFINITY);
        s.stats = state.stats;
        Ok(s)
    }

    /// The state to resume from; `None` while a block waits to be scored (call
    /// [`StreamScorer::flush`] first).
    pub fn state(&self) -> Option<ScorerState> {
        if !self.block.is_empty() {
            return None;
        }
        let finite = |t: f64| t.is_finite().then_some(t);
        let mut waiting: Vec<&Waiting> = self.waiting.iter().collect();
        // `Waiting`'s order is reversed (the heap pops the greatest).
        waiting.sort_by(|a, b| b.cmp(a));
        Some(ScorerState {
            extra_columns: self.extra_columns.clone(),
            features: self.features.state(),
            waiting: waiting
                .into_iter()
                .map(|w| WaitingState {
                    seq: w.seq,
                    flow: w.flow.clone(),
                    uid: w.uid.clone(),
                    extras: w.extras.iter().map(|&v| finite(v)).collect(),
                })
                .collect(),
            seq: self.seq,
            newest_ts: finite(self.newest_ts),
            released_ts: finite(self.released_ts),
            stats: self.stats,
        })
    }

    /// The extra columns each pushed flow's extra values follow.
    pub fn extra_columns(&self) -> &[String] {
        &self.extra_columns
    }

    pub fn threshold(&self) -> &ThresholdInfo {
        &self.threshold
    }

    /// The model's columns this traffic lacks (scored at their training medians).
    pub fn missing_columns(&self) -> &[String] {
        &self.missing
    }

    pub fn stats(&self) -> StreamStats {
        self.stats
    }

    /// What the feature extractor holds (its memory).
    pub fn feature_state(&self) -> StreamStateSize {
        self.features.state_size()
    }

    /// Flows waiting in the reorder buffer.
    pub fn buffered(&self) -> usize {
        self.waiting.len()
    }

    /// Takes one flow (with its extra values, one per `extra_columns`). Scored flows
    /// collect in blocks: take them with [`StreamScorer::take_scored`].
    pub fn push(
        &mut self,
        flow: FlowRecord,
        uid: Option<String>,
        extras: Vec<f64>,
    ) -> Result<(), DetectionError> {
        if flow.ts < self.released_ts {
            self.stats.late += 1;
        }
        self.newest_ts = self.newest_ts.max(flow.ts);
        self.waiting.push(Waiting {
            ts: flow.ts,
            seq: self.seq,
            flow,
            uid,
            extras,
        });
        self.seq += 1;
        self.stats.max_buffered = self.stats.max_buffered.max(self.waiting.len());
        let due = self.newest_ts - self.reorder.reorder_s;
        while let Some(top) = self.waiting.peek() {
            if top.ts > due && self.waiting.len() <= self.reorder.reorder_max_flows {
                break;
            }
            if let Some(w) = self.waiting.pop() {
                self.release(w)?;
            }
        }
        Ok(())
    }

    /// Scores every flow still waiting (the end of the input).
    pub fn finish(&mut self) -> Result<(), DetectionError> {
        while let Some(w) = self.waiting.pop() {
            self.release(w)?;
        }
        self.score_block()
    }

    /// Scores the flows released so far now, a partial block included (flows still in the
    /// reorder buffer wait): for a reader who wants alerts without waiting for a full
    /// block. Scores are the same either way.
    pub fn flush(&mut self) -> Result<(), DetectionError> {
        self.score_block()
    }

    /// Flows scored since the last call, in scored order (a block at a time).
    pub fn take_scored(&mut self) -> Vec<ScoredFlow> {
        std::mem::take(&mut self.ready)
    }

    /// A flow leaves the buffer: its features, its model row, and a block scored when full.
    fn release(&mut self, w: Waiting) -> Result<(), DetectionError> {
        self.released_ts = self.released_ts.max(w.ts);
        self.features.push(&w.flow, &mut self.builtin_row);
        let width = self.model.preprocessing.columns.len();
        let start = self.block_x.len();
        self.block_x.resize(start + width, 0.0);
        self.model.preprocessing.model_row(
            &self.columns,
            &self.builtin_row,
            &w.extras,
            &mut self.block_x[start..],
        );
        self.block.push((w.flow, w.uid));
        if self.block.len() >= SCORE_BLOCK_ROWS {
            self.score_block()?;
        }
        Ok(())
    }

    /// Scores the current block as a batch run scores its matrix (`fit::apply_and_report`,
    /// `assemble::report_run`, `rethreshold`).
    fn score_block(&mut self) -> Result<(), DetectionError> {
        if self.block.is_empty() {
            return Ok(());
        }
        let model = self.model;
        let model_err = |model: &'static str| move |source| DetectionError::Model { model, source };
        let rows = self.block.len();
        let width = model.preprocessing.columns.len();
        let x_raw = Matrix::from_vec(rows, width, std::mem::take(&mut self.block_x))
            .map_err(|_| DetectionError::NoUsableFeatures { flows: rows })?;
        let x = model.preprocessing.standardise(&x_raw);
        let forest = model
            .isolation_forest
            .score_samples(&x)
            .map_err(model_err("isolation forest"))?;
        let mlp = model
            .mlp
            .reconstruction_errors(&x)
            .map_err(model_err("autoencoder"))?;
        let threshold = self.threshold.ensemble;
        for (((flow, uid), f), m) in self.block.drain(..).zip(forest).zip(mlp) {
            let isolation_forest = -f;
            let ensemble = model.calibration.combine(isolation_forest, m);
            let flagged = ensemble >= threshold;
            self.stats.flagged += u64::from(flagged);
            self.ready.push(ScoredFlow {
                flow,
                uid,
                position: self.stats.flows,
                isolation_forest,
                mlp: m,
                ensemble,
                flagged,
            });
            self.stats.flows += 1;
        }
        // Reuse the block's allocation.
        self.block_x = x_raw.into_vec();
        self.block_x.clear();
        Ok(())
    }
}

// Native only: the runs use the native clock (the wasm suite tests the pipeline in tests/web.rs).
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::pipeline::{native_clock, run_fitted};

    fn scores(scored: &[ScoredFlow]) -> Vec<(u64, u64, u64, bool)> {
        scored
            .iter()
            .map(|s| (s.position, s.ensemble.to_bits(), s.mlp.to_bits(), s.flagged))
            .collect()
    }

    /// Stopped half way (a partial block flushed, flows waiting for reordering), saved as
    /// JSON and resumed: the same scores as one stream that never stopped.
    #[test]
    fn a_resumed_stream_scores_as_one_that_never_stopped() {
        let (config, _) = RunConfig::from_query("seed=5&hosts=8&duration=120");
        let run = run_fitted(&config, &native_clock(), &mut |_| true).unwrap();
        let model = run.saved_model();
        let flows = run.output.scored.flows.clone();
        assert!(flows.len() > 300, "{}", flows.len());
        let reorder = ReorderSettings {
            reorder_s: 5.0,
            reorder_max_flows: 1000,
        };
        let mut whole = StreamScorer::new(&model, &config, &[], reorder);
        for f in &flows {
            whole.push(f.clone(), None, vec![]).unwrap();
        }
        whole.finish().unwrap();
        let expected = scores(&whole.take_scored());

        let half = flows.len() / 2;
        let mut first = StreamScorer::new(&model, &config, &[], reorder);
        for f in &flows[..half] {
            first.push(f.clone(), None, vec![]).unwrap();
        }
        assert!(first.state().is_none(), "a block is pending");
        first.flush().unwrap();
        let mut got = scores(&first.take_scored());
        assert!(first.buffered() > 0);
        let json = serde_json::to_string(&first.state().unwrap()).unwrap();
        let state: ScorerState = serde_json::from_str(&json).unwrap();
        let mut second = StreamScorer::resume(&model, &config, reorder, state).unwrap();
        for f in &flows[half..] {
            second.push(f.clone(), None, vec![]).unwrap();
        }
        second.finish().unwrap();
        got.extend(scores(&second.take_scored()));
        assert_eq!(got, expected);
        assert_eq!(second.stats(), whole.stats());
    }

    #[test]
    fn a_state_of_another_window_length_is_refused() {
        let (config, _) = RunConfig::from_query("seed=5&hosts=8&duration=60");
        let run = run_fitted(&config, &native_clock(), &mut |_| true).unwrap();
        let model = run.saved_model();
        let s = StreamScorer::new(&model, &config, &[], ReorderSettings::default());
        let mut state = s.state().unwrap();
        state.features.window_s += 1.0;
        let e = StreamScorer::resume(&model, &config, ReorderSettings::default(), state)
            .err()
            .unwrap();
        assert!(e.to_string().contains("feature window"), "{e}");
    }
}
