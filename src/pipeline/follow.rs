//! Following a live Zeek conn.log with a saved model (`detect follow`): the tailed lines
//! (`traffic::import::tail`) are parsed per file (`zeek_stream::ZeekLines`: TSV or JSON,
//! decided from each file's first line; a TSV file's own header), scored by the same
//! [`StreamScorer`] `detect score` uses, and handed back a poll at a time with the partial
//! block flushed, so an alert is written as soon as its line is complete.
//!
//! **Checkpoint** ([`Checkpoint`], JSON, saved atomically by [`save_checkpoint`]): the model's
//! SHA-1, the read position (file identity, path, byte offset after the last line given to
//! the scorer) and the scorer's whole state ([`ScorerState`]: reorder buffer, feature window,
//! pair gaps, counters), taken after a poll's flows were scored and written. Resuming from it
//! gives the scores, positions and EVE flow ids of a run that never stopped. When the saved
//! file cannot be found (or is shorter than the offset), reading starts over at the live
//! file's start and flows that started at or before the last flow scored before the
//! checkpoint are skipped, so nothing is written twice (a flow that genuinely started that
//! early in a new file is then missed, and said so).
//!
//! Not in the checkpoint, by design: a TSV file's header (read again from the file's first
//! lines on resume, so it is the file's own), the per-file counts of skipped lines (the notes
//! on stderr start again from zero), and the format each file was read as (decided again from
//! its first line). Everything a score depends on is in it.
//!
//! **Delivery.** Alerts are written and flushed, then the checkpoint is saved: a clean stop
//! (SIGINT/SIGTERM, `--exit-when-idle-ms`) writes nothing twice and misses nothing. A hard
//! kill between an alert batch's flush and the checkpoint's rename (microseconds) re-emits
//! that batch on restart, with the same EVE `flow_id`s (they come from the scored position,
//! which the checkpoint carries), so a SIEM can drop the duplicates. When standard output
//! closes, the batch that failed is not checkpointed.
//!
//! Not here: where output goes and how it is formatted (the CLI's writer), signals.

use super::error::DetectionError;
use super::stream_score::{ReorderSettings, ResumeError, ScoredFlow, ScorerState, StreamScorer};
use crate::detection::detector_model::DetectorModel;
use crate::detection::run_config::RunConfig;
use crate::traffic::import::detect_format;
use crate::traffic::import::tail::{OpenReason, Start, TailError, TailItem, TailPosition, Tailer};
use crate::traffic::import::zeek_stream::{StreamError, ZeekLines};
use crate::traffic::import::Format;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};

/// The checkpoint file's `format` field.
pub const CHECKPOINT_FORMAT: &str = "anomaly-detector/follow-checkpoint";
pub const CHECKPOINT_VERSION: u32 = 1;

/// What `detect follow` saves to resume (see the module doc).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub format: String,
    pub version: u32,
    /// Hex SHA-1 of the model file the state belongs to.
    pub model_sha1: String,
    pub position: Option<TailPosition>,
    pub scorer: Option<ScorerState>,
    /// Newest start time among flows scored so far (the start-over guard).
    pub scored_through_ts: Option<f64>,
}

/// Why following stopped.
#[derive(Debug)]
pub enum FollowError {
    Tail(TailError),
    /// A line of `path` is not a conn.log line (or the file is not a conn.log).
    Parse {
        path: PathBuf,
        source: StreamError,
    },
    /// The file's first line says it is not a Zeek conn.log.
    NotConnLog {
        path: PathBuf,
        found: String,
    },
    Score {
        path: PathBuf,
        line: u64,
        source: DetectionError,
    },
    Checkpoint {
        path: PathBuf,
        reason: String,
    },
}

impl fmt::Display for FollowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FollowError::Tail(e) => write!(f, "{e}"),
            FollowError::Parse { path, source } => write!(f, "{}: {source}", path.display()),
            FollowError::NotConnLog { path, found } => write!(
                f,
                "{}: not a Zeek conn.log (TSV or JSON lines): its first line looks like {found}",
                path.display()
            ),
            FollowError::Score { path, line, source } => {
                write!(f, "{}: line {line}: {source}", path.display())
            }
            FollowError::Checkpoint { path, reason } => {
                write!(f, "checkpoint {}: {reason}", path.display())
            }
        }
    }
}

impl std::error::Error for FollowError {}

impl From<TailError> for FollowError {
    fn from(e: TailError) -> FollowError {
        FollowError::Tail(e)
    }
}

/// Reads a checkpoint; `None` when the file does not exist.
pub fn load_checkpoint(path: &Path) -> Result<Option<Checkpoint>, FollowError> {
    let fail = |reason: String| FollowError::Checkpoint {
        path: path.to_path_buf(),
        reason,
    };
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(fail(e.to_string())),
    };
    let c: Checkpoint = serde_json::from_str(&text).map_err(|e| fail(e.to_string()))?;
    if c.format != CHECKPOINT_FORMAT || c.version != CHECKPOINT_VERSION {
        return Err(fail(format!(
            "not a follow checkpoint (format {:?} version {}; expected {CHECKPOINT_FORMAT:?} \
             version {CHECKPOINT_VERSION})",
            c.format, c.version
        )));
    }
    Ok(Some(c))
}

/// Writes a checkpoint atomically: a temporary file next to it, synced, renamed over it.
pub fn save_checkpoint(path: &Path, c: &Checkpoint) -> Result<(), FollowError> {
    use std::io::Write;
    let fail = |e: std::io::Error| FollowError::Checkpoint {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let json = serde_json::to_vec(c).map_err(|e| FollowError::Checkpoint {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    let tmp = path.with_file_name(name);
    let mut f = std::fs::File::create(&tmp).map_err(fail)?;
    f.write_all(&json).map_err(fail)?;
    f.sync_all().map_err(fail)?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(fail)
}

/// The lines of the file being read: its parser once its first line said TSV or JSON, and
/// how its extra columns map onto the scorer's.
struct FileLines {
    path: PathBuf,
    lines: Option<ZeekLines>,
    /// Per scorer extra column: its index among this file's extras.
    map: Option<Vec<Option<usize>>>,
}

impl FileLines {
    fn new(path: PathBuf) -> FileLines {
        FileLines {
            path,
            lines: None,
            map: None,
        }
    }

    /// The parser, deciding the format from the first non-blank line.
    fn parser(&mut self, first: &[u8]) -> Result<Option<&mut ZeekLines>, FollowError> {
        if self.lines.is_none() {
            if first.iter().all(u8::is_ascii_whitespace) {
                return Ok(None);
            }
            let format = if first.starts_with(b"#") {
                Some(Format::ZeekTsv)
            } else {
                detect_format(first)
            };
            let found = format.map_or("no known format".to_string(), |f| f.as_str().into());
            let lines = format
                .and_then(ZeekLines::new)
                .ok_or_else(|| FollowError::NotConnLog {
                    path: self.path.clone(),
                    found,
                })?;
            self.lines = Some(lines);
        }
        Ok(self.lines.as_mut())
    }
}

/// A poll's result.
#[derive(Debug, Default)]
pub struct Polled {
    /// Flows scored (every one, flagged or not), in scored order.
    pub scored: Vec<ScoredFlow>,
    /// Bytes of new lines were read.
    pub read_lines: bool,
    /// More is waiting (the poll stopped at its byte budget).
    pub more: bool,
    /// What happened worth telling the user (files opened, rotation, skipped rows).
    pub notes: Vec<String>,
}

/// A live conn.log scored as it grows (see the module doc).
pub struct Follower<'m> {
    model: &'m DetectorModel,
    model_sha1: String,
    config: RunConfig,
    reorder: ReorderSettings,
    tailer: Tailer,
    file: Option<FileLines>,
    scorer: Option<StreamScorer<'m>>,
    /// After starting over from a checkpoint: flows that started at or before this were
    /// scored before the restart and are skipped.
    skip_through: Option<f64>,
    scored_through: Option<f64>,
    skipped_replayed: u64,
    resumed: bool,
    items: Vec<TailItem>,
}

impl<'m> Follower<'m> {
    /// Starts following `target` (a conn.log, or a directory whose `conn.log` is followed)
    /// at `start`, or where `checkpoint` left off when it belongs to this model. The notes
    /// say what was resumed or why not.
    pub fn new(
        model: &'m DetectorModel,
        model_sha1: &str,
        config: &RunConfig,
        reorder: ReorderSettings,
        target: &Path,
        start: Start,
        checkpoint: Option<Checkpoint>,
    ) -> Result<(Follower<'m>, Vec<String>), FollowError> {
        let mut notes = Vec::new();
        let mut scorer = None;
        let mut start = start;
        let mut skip_through = None;
        let mut scored_through = None;
        let mut resumed = false;
        match checkpoint {
            Some(c) if c.model_sha1 != model_sha1 => notes.push(format!(
                "the checkpoint belongs to another model (SHA-1 {}): ignored",
                c.model_sha1
            )),
            Some(c) => {
                if let Some(state) = c.scorer {
                    match StreamScorer::resume(model, config, reorder, state) {
                        Ok(s) => scorer = Some(s),
                        Err(ResumeError::Features(e)) => notes.push(format!(
                            "the checkpoint's scorer state does not fit the model ({e}): the \
                             feature window starts empty"
                        )),
                        Err(e) => notes.push(format!(
                            "the checkpoint's scorer state is damaged ({e}): the feature \
                             window starts empty"
                        )),
                    }
                }
                scored_through = c.scored_through_ts;
                if let Some(pos) = c.position {
                    start = Start::At(pos);
                    resumed = true;
                }
            }
            None => {}
        }
        let tailer = Tailer::new(target, start)?;
        if let Some(why) = tailer.start_note() {
            notes.push(why.to_string());
            skip_through = scored_through;
            if let Some(ts) = skip_through {
                notes.push(format!(
                    "flows that started at or before {ts} were scored before the restart: \
                     skipped"
                ));
            }
        }
        let follower = Follower {
            model,
            model_sha1: model_sha1.to_string(),
            config: config.clone(),
            reorder,
            tailer,
            file: None,
            scorer,
            skip_through,
            scored_through,
            skipped_replayed: 0,
            resumed,
            items: Vec::new(),
        };
        Ok((follower, notes))
    }

    /// The scorer, once the first flow (or the checkpoint) made one.
    pub fn scorer(&self) -> Option<&StreamScorer<'m>> {
        self.scorer.as_ref()
    }

    /// Started from a checkpoint's position.
    pub fn resumed(&self) -> bool {
        self.resumed
    }

    /// The file followed (the directory's `conn.log`, or the file given).
    pub fn live_path(&self) -> &Path {
        self.tailer.live_path()
    }

    /// Flows skipped after starting over (see [`Follower::new`]).
    pub fn skipped_replayed(&self) -> u64 {
        self.skipped_replayed
    }

    /// Reads what was appended, scores it and returns the scored flows (the partial block
    /// flushed; flows held for reordering wait).
    pub fn poll(&mut self) -> Result<Polled, FollowError> {
        let mut out = Polled::default();
        let mut items = std::mem::take(&mut self.items);
        items.clear();
        out.more = self.tailer.poll(&mut items)?;
        for item in items.drain(..) {
            match item {
                TailItem::Opened {
                    path,
                    offset,
                    reason,
                    head,
                    ..
                } => {
                    self.end_file(&mut out);
                    let mut file = FileLines::new(path.clone());
                    for line in &head {
                        if let Some(lines) = file.parser(line)? {
                            // The header's directives only: the first data line was read
                            // before the offset.
                            if line.starts_with(b"#") {
                                lines.line(line).map_err(|source| FollowError::Parse {
                                    path: path.clone(),
                                    source,
                                })?;
                            }
                        }
                    }
                    if reason != OpenReason::Start || offset > 0 {
                        out.notes.push(format!(
                            "{}: reading from byte {offset} ({reason})",
                            path.display()
                        ));
                    }
                    self.file = Some(file);
                }
                TailItem::Line { text, .. } => {
                    out.read_lines = true;
                    self.line(&text)?;
                }
                TailItem::TooLong { .. } => {
                    out.read_lines = true;
                    if let Some(lines) = self.file.as_mut().and_then(|f| f.lines.as_mut()) {
                        lines.too_long();
                    }
                }
            }
        }
        self.items = items;
        if let Some(s) = &mut self.scorer {
            let path = self.tailer.live_path().to_path_buf();
            s.flush().map_err(|source| FollowError::Score {
                path,
                line: 0,
                source,
            })?;
            out.scored = s.take_scored();
        }
        if let Some(last) = out.scored.iter().map(|s| s.flow.ts).reduce(f64::max) {
            self.scored_through = Some(self.scored_through.map_or(last, |t| t.max(last)));
        }
        Ok(out)
    }

    /// Notes the skipped rows of the file being left.
    fn end_file(&mut self, out: &mut Polled) {
        let Some(file) = self.file.take() else {
            return;
        };
        if let Some(lines) = &file.lines {
            let (skipped, listed) = lines.skipped();
            if skipped > 0 {
                out.notes
                    .push(format!("{}: {skipped} lines skipped", file.path.display()));
                for s in listed.iter().take(5) {
                    out.notes.push(format!(
                        "{}: {}: {}",
                        file.path.display(),
                        s.location,
                        s.reason
                    ));
                }
            }
        }
    }

    fn line(&mut self, text: &[u8]) -> Result<(), FollowError> {
        let Some(file) = self.file.as_mut() else {
            return Ok(());
        };
        let path = file.path.clone();
        if file.parser(text)?.is_none() {
            return Ok(());
        }
        let Some(lines) = file.lines.as_mut() else {
            return Ok(());
        };
        let Some(flow) = lines.line(text).map_err(|source| FollowError::Parse {
            path: path.clone(),
            source,
        })?
        else {
            return Ok(());
        };
        if self.skip_through.is_some_and(|t| flow.flow.ts <= t) {
            self.skipped_replayed += 1;
            return Ok(());
        }
        let scorer = match &mut self.scorer {
            Some(s) => s,
            None => self.scorer.insert(StreamScorer::new(
                self.model,
                &self.config,
                lines.extra_columns(),
                self.reorder,
            )),
        };
        let map = file.map.get_or_insert_with(|| {
            scorer
                .extra_columns()
                .iter()
                .map(|c| lines.extra_columns().iter().position(|x| x == c))
                .collect()
        });
        let identity =
            map.len() == flow.extras.len() && map.iter().enumerate().all(|(i, m)| *m == Some(i));
        let extras = if identity {
            flow.extras
        } else {
            map.iter()
                .map(|m| {
                    m.and_then(|i| flow.extras.get(i).copied())
                        .unwrap_or(f64::NAN)
                })
                .collect()
        };
        scorer
            .push(flow.flow, flow.uid, extras)
            .map_err(|source| FollowError::Score {
                path,
                line: flow.line,
                source,
            })
    }

    /// The state to save: position and scorer, as of the last poll (its flows scored).
    pub fn checkpoint(&self) -> Checkpoint {
        Checkpoint {
            format: CHECKPOINT_FORMAT.to_string(),
            version: CHECKPOINT_VERSION,
            model_sha1: self.model_sha1.clone(),
            position: self.tailer.position(),
            scorer: self.scorer.as_ref().and_then(StreamScorer::state),
            scored_through_ts: self.scored_through,
        }
    }

    /// The end of the input (no checkpoint to carry on from): scores the flows still held
    /// for reordering.
    pub fn finish(&mut self) -> Result<Vec<ScoredFlow>, FollowError> {
        let Some(s) = &mut self.scorer else {
            return Ok(Vec::new());
        };
        let path = self.tailer.live_path().to_path_buf();
        s.finish().map_err(|source| FollowError::Score {
            path,
            line: 0,
            source,
        })?;
        Ok(s.take_scored())
    }

    /// Notes about the file being read (skipped rows), for the end of a run.
    pub fn closing_notes(&mut self) -> Vec<String> {
        let mut out = Polled::default();
        self.end_file(&mut out);
        out.notes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::{native_clock, run_fitted};
    use crate::traffic::export::to_zeek_conn_log;
    use crate::traffic::import::tail::test_files::append;

    fn dir(name: &str) -> PathBuf {
        crate::traffic::import::tail::test_files::dir("follow", name)
    }

    fn scores(s: &[ScoredFlow]) -> Vec<(u64, u64)> {
        s.iter()
            .map(|s| (s.position, s.ensemble.to_bits()))
            .collect()
    }

    fn drain(f: &mut Follower) -> Vec<ScoredFlow> {
        let mut out = Vec::new();
        loop {
            let p = f.poll().unwrap();
            out.extend(p.scored);
            if !p.more {
                return out;
            }
        }
    }

    /// Half a file, a checkpoint through JSON, a new follower, the rest appended: the scores
    /// of one follower that read it all. A checkpoint of a file that is gone starts over and
    /// skips what was scored.
    #[test]
    fn a_follower_resumed_from_its_checkpoint_scores_as_one_that_never_stopped() {
        let (config, _) = RunConfig::from_query("seed=5&hosts=8&duration=120");
        let run = run_fitted(&config, &native_clock(), &mut |_| true).unwrap();
        let model = run.saved_model();
        let text = to_zeek_conn_log(&run.output.scored.flows);
        let lines: Vec<&str> = text.lines().filter(|l| !l.starts_with("#close")).collect();
        let half = lines.len() / 2;
        let first = lines[..half].join("\n") + "\n";
        let rest = lines[half..].join("\n") + "\n";
        let reorder = ReorderSettings {
            reorder_s: 2.0,
            reorder_max_flows: 1000,
        };

        let d = dir("whole");
        append(&d.join("conn.log"), &(first.clone() + &rest));
        let (mut whole, _) =
            Follower::new(&model, "m", &config, reorder, &d, Start::Beginning, None).unwrap();
        let mut expected = drain(&mut whole);
        expected.extend(whole.finish().unwrap());

        let d = dir("resumed");
        let log = d.join("conn.log");
        append(&log, &first);
        let (mut a, _) =
            Follower::new(&model, "m", &config, reorder, &d, Start::Beginning, None).unwrap();
        let mut got = drain(&mut a);
        let cp_path = d.join("checkpoint.json");
        save_checkpoint(&cp_path, &a.checkpoint()).unwrap();
        assert!(!d.join("checkpoint.json.tmp").exists());
        let cp = load_checkpoint(&cp_path).unwrap().unwrap();
        assert!(cp.scorer.is_some() && cp.position.is_some());
        append(&log, &rest);
        let (mut b, notes) = Follower::new(
            &model,
            "m",
            &config,
            reorder,
            &d,
            Start::Beginning,
            Some(cp.clone()),
        )
        .unwrap();
        assert!(notes.is_empty(), "{notes:?}");
        got.extend(drain(&mut b));
        got.extend(b.finish().unwrap());
        assert_eq!(scores(&got), scores(&expected));

        // The file replaced by a copy (another inode): starts over, skips what was scored.
        // (Written next to it and renamed over it, so the inode cannot be reused.)
        let through = cp.scored_through_ts.unwrap();
        append(&d.join("copy"), &(first + &rest));
        std::fs::rename(d.join("copy"), &log).unwrap();
        let (mut c, notes) = Follower::new(
            &model,
            "m",
            &config,
            reorder,
            &d,
            Start::Beginning,
            Some(cp),
        )
        .unwrap();
        assert!(
            notes.iter().any(|n| n.contains("starting over")),
            "{notes:?}"
        );
        let mut replayed = drain(&mut c);
        replayed.extend(c.finish().unwrap());
        assert!(c.skipped_replayed() > 0);
        assert!(!replayed.is_empty());
        assert!(replayed.iter().all(|s| s.flow.ts > through));

        // Another model's checkpoint is ignored, with the reason.
        let cp = load_checkpoint(&cp_path).unwrap();
        let (_, notes) =
            Follower::new(&model, "other", &config, reorder, &d, Start::Beginning, cp).unwrap();
        assert!(notes[0].contains("another model"), "{notes:?}");
    }

    #[test]
    fn checkpoint_files_are_checked() {
        let d = dir("checkpoints");
        assert!(load_checkpoint(&d.join("none.json")).unwrap().is_none());
        std::fs::write(d.join("junk.json"), "{\"format\": 1}").unwrap();
        let e = load_checkpoint(&d.join("junk.json"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("junk.json"), "{e}");
        std::fs::write(
            d.join("other.json"),
            r#"{"format":"x","version":1,"model_sha1":"","position":null,"scorer":null,"scored_through_ts":null}"#,
        )
        .unwrap();
        let e = load_checkpoint(&d.join("other.json"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a follow checkpoint"), "{e}");
    }

    #[test]
    fn a_file_that_is_not_a_conn_log_is_refused() {
        let (config, _) = RunConfig::from_query("seed=5&hosts=8&duration=60");
        let run = run_fitted(&config, &native_clock(), &mut |_| true).unwrap();
        let model = run.saved_model();
        let d = dir("foreign");
        append(&d.join("conn.log"), "a,b,c\n1,2,3\n");
        let (mut f, _) = Follower::new(
            &model,
            "m",
            &config,
            ReorderSettings::default(),
            &d,
            Start::Beginning,
            None,
        )
        .unwrap();
        let e = f.poll().unwrap_err().to_string();
        assert!(e.contains("not a Zeek conn.log"), "{e}");
    }
}
