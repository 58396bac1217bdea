//! Following a growing log file as `tail -F` does, for `detect follow`: complete lines as
//! they are appended (a last line without its newline waits until the newline arrives),
//! across rotation (the file renamed or removed and a new one created at the path: the old
//! file's remainder is read through the handle still open, then the new file from its
//! start) and truncation (the file shrinks: read again from its start), and from a saved
//! position ([`TailPosition`]: file identity, path, byte offset) after a restart, finding
//! the file in its directory when it has been rotated away since.
//!
//! Native only (files, inode numbers). It hands out raw lines and their end offsets; what a
//! line means is the caller's business (`pipeline::follow` parses them as a Zeek conn.log).
//! Not for reading a whole file once (`zeek_stream` does that).

use super::zeek_stream::MAX_LINE_BYTES;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::fmt;
use std::fs::{File, Metadata};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// The live file's name when the path given is a directory Zeek rotates into.
pub const LIVE_NAME: &str = "conn.log";
/// Bytes read per [`Tailer::poll`] at most, so a caller with a backlog still flushes and
/// checkpoints regularly.
pub const POLL_MAX_BYTES: usize = 4 << 20;
/// Most lines of a file's head handed with [`TailItem::Opened`] (a Zeek header is 8).
const HEAD_MAX_LINES: usize = 64;

/// Which file: device and inode on unix (zeros elsewhere, where only the path and the size
/// tell files apart).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileId {
    pub dev: u64,
    pub ino: u64,
}

impl FileId {
    pub fn of(meta: &Metadata) -> FileId {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            FileId {
                dev: meta.dev(),
                ino: meta.ino(),
            }
        }
        #[cfg(not(unix))]
        {
            let _ = meta;
            FileId { dev: 0, ino: 0 }
        }
    }
}

/// Where reading stands: everything before `offset` in the file `id` (last seen at `path`)
/// has been handed out as complete lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TailPosition {
    pub path: PathBuf,
    pub id: FileId,
    pub offset: u64,
}

/// Where to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Start {
    /// The live file from its first byte.
    Beginning,
    /// The live file after its last complete line (the header is still handed over).
    End,
    /// A saved position; when the file cannot be found with at least `offset` bytes,
    /// the live file from its first byte ([`Tailer::start_note`] says why).
    At(TailPosition),
}

/// Why a file is being read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenReason {
    Start,
    Resumed,
    /// The live path now names another file (rotated by rename, or removed and recreated).
    Rotated,
    /// The file shrank (truncated or rewritten in place).
    Truncated,
    /// The live file appeared (it did not exist before).
    Appeared,
    /// A file rotated away while we were stopped, read whole before the live one.
    Backlog,
}

impl fmt::Display for OpenReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OpenReason::Start => "start",
            OpenReason::Resumed => "resumed from the checkpoint",
            OpenReason::Rotated => "rotated",
            OpenReason::Truncated => "truncated",
            OpenReason::Appeared => "appeared",
            OpenReason::Backlog => "rotated while stopped",
        })
    }
}

/// What a poll found.
#[derive(Debug, Clone, PartialEq)]
pub enum TailItem {
    /// Lines come from this file from now on, starting at `offset`. `head`: when `offset` is
    /// not 0, the file's first lines up to and including its first one not starting with
    /// `#` (a Zeek TSV header, or the line that tells TSV from JSON), if before `offset`.
    Opened {
        path: PathBuf,
        id: FileId,
        offset: u64,
        reason: OpenReason,
        head: Vec<Vec<u8>>,
    },
    /// A complete line with its line end (the last line of a rotated file may lack it),
    /// ending `end` bytes into the file.
    Line { text: Vec<u8>, end: u64 },
    /// A line longer than [`MAX_LINE_BYTES`] went by, not buffered; ends at `end`.
    TooLong { end: u64 },
}

/// A file operation that failed.
#[derive(Debug)]
pub struct TailError {
    pub path: PathBuf,
    pub op: &'static str,
    pub source: std::io::Error,
}

impl fmt::Display for TailError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.path.display(), self.op, self.source)
    }
}

impl std::error::Error for TailError {}

fn err<'p>(path: &'p Path, op: &'static str) -> impl FnOnce(std::io::Error) -> TailError + 'p {
    move |source| TailError {
        path: path.to_path_buf(),
        op,
        source,
    }
}

/// The file being read.
struct Current {
    file: File,
    path: PathBuf,
    id: FileId,
    /// End of the last complete line handed out.
    offset: u64,
    /// Bytes read from the file so far (`offset` + the partial line, or + the overlong
    /// line's bytes skipped so far).
    read_pos: u64,
    partial: Vec<u8>,
    /// Inside a line over [`MAX_LINE_BYTES`]: dropping bytes until its newline.
    overlong: bool,
    /// The live path's file (else a backlog file or one rotated away).
    live: bool,
}

/// A file followed across appends, rotation and truncation (see the module doc).
pub struct Tailer {
    live: PathBuf,
    current: Option<Current>,
    /// Files rotated away while stopped, read whole (oldest first) before the live one.
    backlog: VecDeque<PathBuf>,
    start_note: Option<String>,
    /// An `Opened` to hand out with the next poll.
    pending: Option<OpenReason>,
    buf: Vec<u8>,
}

impl Tailer {
    /// Follows `target`: a file, or a directory whose [`LIVE_NAME`] is followed. The live
    /// file need not exist yet.
    pub fn new(target: &Path, start: Start) -> Result<Tailer, TailError> {
        let live = if target.is_dir() {
            target.join(LIVE_NAME)
        } else {
            target.to_path_buf()
        };
        let mut t = Tailer {
            live,
            current: None,
            backlog: VecDeque::new(),
            start_note: None,
            pending: None,
            buf: vec![0; 64 * 1024],
        };
        match start {
            Start::Beginning => t.open_live(OpenReason::Start, false)?,
            Start::End => t.open_live(OpenReason::Start, true)?,
            Start::At(pos) => t.resume(&pos)?,
        }
        Ok(t)
    }

    /// The live file's path.
    pub fn live_path(&self) -> &Path {
        &self.live
    }

    /// Why a saved position could not be used (reading then starts at the live file's
    /// first byte).
    pub fn start_note(&self) -> Option<&str> {
        self.start_note.as_deref()
    }

    /// Where reading stands (`None` before any file was opened).
    pub fn position(&self) -> Option<TailPosition> {
        self.current.as_ref().map(|c| TailPosition {
            path: c.path.clone(),
            id: c.id,
            offset: c.offset,
        })
    }

    /// A pending `Opened` is handed out with the next poll.
    fn opened(&self, items: &mut Vec<TailItem>, reason: OpenReason) -> Result<(), TailError> {
        let Some(c) = &self.current else {
            return Ok(());
        };
        let head = if c.offset > 0 {
            head_lines(&c.path, c.offset)?
        } else {
            Vec::new()
        };
        items.push(TailItem::Opened {
            path: c.path.clone(),
            id: c.id,
            offset: c.offset,
            reason,
            head,
        });
        Ok(())
    }

    /// Opens the live file (if it exists) at its start or after its last complete line.
    fn open_live(&mut self, reason: OpenReason, at_end: bool) -> Result<(), TailError> {
        self.current = None;
        let path = self.live.clone();
        let file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(err(&path, "open")(e)),
        };
        let meta = file.metadata().map_err(err(&path, "stat"))?;
        let offset = if at_end {
            last_line_end(&file, meta.len()).map_err(err(&path, "read"))?
        } else {
            0
        };
        self.set_current(file, path, FileId::of(&meta), offset, true)?;
        self.pending = Some(reason);
        Ok(())
    }

    fn set_current(
        &mut self,
        mut file: File,
        path: PathBuf,
        id: FileId,
        offset: u64,
        live: bool,
    ) -> Result<(), TailError> {
        file.seek(SeekFrom::Start(offset))
            .map_err(err(&path, "seek"))?;
        self.current = Some(Current {
            file,
            path,
            id,
            offset,
            read_pos: offset,
            partial: Vec::new(),
            overlong: false,
            live,
        });
        Ok(())
    }

    /// Starts from a saved position: the live file when it is the saved one, else the
    /// saved file found by identity next to it (rotated away), then the files rotated
    /// after it, then the live one.
    fn resume(&mut self, pos: &TailPosition) -> Result<(), TailError> {
        let live_meta = std::fs::metadata(&self.live).ok();
        let found = if live_meta
            .as_ref()
            .is_some_and(|m| FileId::of(m) == pos.id && m.is_file())
        {
            Some((self.live.clone(), true))
        } else {
            self.find_rotated(pos.id).map(|p| (p, false))
        };
        let Some((path, live)) = found else {
            self.start_note = Some(format!(
                "{} (device {}, inode {}) is gone: starting over at the start of {}",
                pos.path.display(),
                pos.id.dev,
                pos.id.ino,
                self.live.display()
            ));
            return self.open_live(OpenReason::Start, false);
        };
        let file = File::open(&path).map_err(err(&path, "open"))?;
        let meta = file.metadata().map_err(err(&path, "stat"))?;
        if FileId::of(&meta) != pos.id || meta.len() < pos.offset {
            self.start_note = Some(format!(
                "{} is shorter ({} bytes) than the checkpoint's offset {} (truncated or \
                 replaced): starting over at the start of {}",
                path.display(),
                meta.len(),
                pos.offset,
                self.live.display()
            ));
            return self.open_live(OpenReason::Start, false);
        }
        if !live {
            self.backlog = self.rotated_after(&path, &meta);
        }
        self.set_current(file, path, pos.id, pos.offset, live)?;
        self.pending = Some(OpenReason::Resumed);
        Ok(())
    }

    /// Files next to the live one that may be its rotated copies (`conn.*`, not compressed).
    fn siblings(&self) -> Vec<(PathBuf, Metadata)> {
        let Some(dir) = self.live.parent() else {
            return Vec::new();
        };
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        let stem = self
            .live
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let stem = stem.split('.').next().unwrap_or("").to_string() + ".";
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Vec::new();
        };
        entries
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                let compressed = [".gz", ".bz2", ".xz", ".zst", ".lz4"]
                    .iter()
                    .any(|s| name.ends_with(s));
                if !name.starts_with(&stem) || compressed {
                    return None;
                }
                let path = e.path();
                let meta = std::fs::metadata(&path).ok()?;
                (meta.is_file() && path != self.live).then_some((path, meta))
            })
            .collect()
    }

    fn find_rotated(&self, id: FileId) -> Option<PathBuf> {
        if id == (FileId { dev: 0, ino: 0 }) {
            return None;
        }
        self.siblings()
            .into_iter()
            .find(|(_, m)| FileId::of(m) == id)
            .map(|(p, _)| p)
    }

    /// Rotated files modified after `after` (oldest first), the live file excluded.
    fn rotated_after(&self, after: &Path, meta: &Metadata) -> VecDeque<PathBuf> {
        let Ok(since) = meta.modified() else {
            return VecDeque::new();
        };
        let mut newer: Vec<(std::time::SystemTime, PathBuf)> = self
            .siblings()
            .into_iter()
            .filter(|(p, _)| p != after)
            .filter_map(|(p, m)| {
                let t = m.modified().ok()?;
                (t > since).then_some((t, p))
            })
            .collect();
        newer.sort();
        newer.into_iter().map(|(_, p)| p).collect()
    }

    /// Reads what was appended since the last poll (at most [`POLL_MAX_BYTES`]), following
    /// rotation and truncation, into `items`. True when it stopped at the limit (more is
    /// waiting).
    pub fn poll(&mut self, items: &mut Vec<TailItem>) -> Result<bool, TailError> {
        if let Some(reason) = self.pending.take() {
            self.opened(items, reason)?;
        }
        let mut budget = POLL_MAX_BYTES;
        // Each pass reads one file to its current end; a rotation moves to the next file.
        for _ in 0..64 {
            if self.current.is_none() {
                self.open_live(OpenReason::Appeared, false)?;
                match self.pending.take() {
                    Some(reason) => self.opened(items, reason)?,
                    None => return Ok(false),
                }
            }
            let got = self.read_available(items, &mut budget)?;
            if budget == 0 {
                return Ok(true);
            }
            if got > 0 {
                // Read to the end just now: look for rotation on the next poll, after the
                // writer had a moment to finish.
                return Ok(false);
            }
            match self.next_file(items)? {
                true => continue,
                false => return Ok(false),
            }
        }
        Ok(true)
    }

    /// At the current file's end: moves on when it was rotated away, truncated or
    /// finished (a backlog file). True when another file is open now.
    fn next_file(&mut self, items: &mut Vec<TailItem>) -> Result<bool, TailError> {
        let Some(c) = &mut self.current else {
            return Ok(false);
        };
        if c.live {
            let now = std::fs::metadata(&self.live);
            match now {
                Ok(m) if FileId::of(&m) == c.id => {
                    let len = c.file.metadata().map_or(m.len(), |fm| fm.len());
                    if len < c.read_pos {
                        c.file
                            .seek(SeekFrom::Start(0))
                            .map_err(err(&c.path, "seek"))?;
                        c.offset = 0;
                        c.read_pos = 0;
                        c.partial.clear();
                        c.overlong = false;
                        self.opened(items, OpenReason::Truncated)?;
                        return Ok(true);
                    }
                    return Ok(false);
                }
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                // Unreadable for a moment (permissions being changed, ...): try again later.
                Err(_) => return Ok(false),
            }
        }
        // Rotated away (or a backlog file done): its last line, even without a newline,
        // is complete now.
        if !c.partial.is_empty() && !c.overlong {
            let text = std::mem::take(&mut c.partial);
            c.offset = c.read_pos;
            items.push(TailItem::Line {
                text,
                end: c.offset,
            });
        }
        if let Some(path) = self.backlog.pop_front() {
            let file = File::open(&path).map_err(err(&path, "open"))?;
            let meta = file.metadata().map_err(err(&path, "stat"))?;
            self.set_current(file, path, FileId::of(&meta), 0, false)?;
            self.opened(items, OpenReason::Backlog)?;
            return Ok(true);
        }
        let old = self.current.take();
        self.open_live(OpenReason::Rotated, false)?;
        match self.pending.take() {
            Some(reason) => {
                self.opened(items, reason)?;
                Ok(true)
            }
            None => {
                // The new live file is not there yet: keep the old one (its position stays
                // the checkpoint's) and look again next poll.
                self.current = old.map(|mut c| {
                    c.live = false;
                    c
                });
                Ok(false)
            }
        }
    }

    /// Reads the current file to its end (or the budget), handing out complete lines.
    fn read_available(
        &mut self,
        items: &mut Vec<TailItem>,
        budget: &mut usize,
    ) -> Result<usize, TailError> {
        let Some(c) = &mut self.current else {
            return Ok(0);
        };
        let mut total = 0;
        while *budget > 0 {
            let want = self.buf.len().min(*budget);
            let n = match c.file.read(&mut self.buf[..want]) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(err(&c.path, "read")(e)),
            };
            if n == 0 {
                break;
            }
            total += n;
            *budget -= n;
            let mut rest = &self.buf[..n];
            while !rest.is_empty() {
                let (take, done) = match rest.iter().position(|&b| b == b'\n') {
                    Some(i) => (i + 1, true),
                    None => (rest.len(), false),
                };
                c.read_pos += take as u64;
                if !c.overlong && c.partial.len() + take <= MAX_LINE_BYTES + 1 {
                    c.partial.extend_from_slice(&rest[..take]);
                } else {
                    c.overlong = true;
                    c.partial = Vec::new();
                }
                if done {
                    c.offset = c.read_pos;
                    if c.overlong {
                        c.overlong = false;
                        items.push(TailItem::TooLong { end: c.offset });
                    } else {
                        items.push(TailItem::Line {
                            text: std::mem::take(&mut c.partial),
                            end: c.offset,
                        });
                    }
                }
                rest = &rest[take..];
            }
        }
        Ok(total)
    }
}

/// The offset after the file's last newline (0 when it has none).
fn last_line_end(mut file: &File, len: u64) -> std::io::Result<u64> {
    let mut end = len;
    let mut chunk = vec![0u8; 64 * 1024];
    while end > 0 {
        let start = end.saturating_sub(chunk.len() as u64);
        let n = (end - start) as usize;
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(&mut chunk[..n])?;
        if let Some(i) = chunk[..n].iter().rposition(|&b| b == b'\n') {
            return Ok(start + i as u64 + 1);
        }
        end = start;
    }
    Ok(0)
}

/// The first lines of `path` before `limit`: the leading `#` lines and the first other
/// one (see [`TailItem::Opened`]).
fn head_lines(path: &Path, limit: u64) -> Result<Vec<Vec<u8>>, TailError> {
    let file = File::open(path).map_err(err(path, "open"))?;
    let cap = limit.min((HEAD_MAX_LINES * (MAX_LINE_BYTES + 1)) as u64);
    let mut reader = std::io::BufReader::new(file.take(cap));
    let mut lines = Vec::new();
    while lines.len() < HEAD_MAX_LINES {
        let mut line = Vec::new();
        let n = std::io::BufRead::read_until(&mut reader, b'\n', &mut line)
            .map_err(err(path, "read"))?;
        if n == 0 || line.last() != Some(&b'\n') {
            break;
        }
        let data = !line.starts_with(b"#") && !line.iter().all(u8::is_ascii_whitespace);
        lines.push(line);
        if data {
            break;
        }
    }
    Ok(lines)
}

/// Files for the tests of tailing and following: a fresh directory, and appends as a writer
/// makes them.
#[cfg(test)]
pub(crate) mod test_files {
    use std::io::Write;
    use std::path::{Path, PathBuf};

    /// An empty directory of its own under the temp dir (`owner` and `name` keep tests apart).
    pub(crate) fn dir(owner: &str, name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("{owner}-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    pub(crate) fn append(path: &Path, text: &str) {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .unwrap();
        f.write_all(text.as_bytes()).unwrap();
    }
}

#[cfg(test)]
mod tests {
    use super::test_files::append;
    use super::*;

    fn dir(name: &str) -> PathBuf {
        super::test_files::dir("tail", name)
    }

    fn describe(items: Vec<TailItem>) -> Vec<String> {
        items
            .into_iter()
            .map(|i| match i {
                TailItem::Line { text, .. } => String::from_utf8(text).unwrap(),
                TailItem::TooLong { .. } => "<too long>".into(),
                TailItem::Opened {
                    reason,
                    offset,
                    head,
                    ..
                } => format!("<{reason} at {offset}, {} head lines>", head.len()),
            })
            .collect()
    }

    fn lines(t: &mut Tailer) -> Vec<String> {
        let mut items = Vec::new();
        while t.poll(&mut items).unwrap() {}
        describe(items)
    }

    #[test]
    fn a_partial_line_waits_for_its_newline() {
        let d = dir("partial");
        let p = d.join("conn.log");
        append(&p, "a\nb");
        let mut t = Tailer::new(&d, Start::Beginning).unwrap();
        assert_eq!(lines(&mut t), ["<start at 0, 0 head lines>", "a\n"]);
        assert_eq!(t.position().unwrap().offset, 2);
        append(&p, "c\nd");
        assert_eq!(lines(&mut t), ["bc\n"]);
        assert_eq!(lines(&mut t), Vec::<String>::new());
        append(&p, "\n");
        assert_eq!(lines(&mut t), ["d\n"]);
        assert_eq!(t.position().unwrap().offset, 7);
    }

    #[test]
    fn rotation_finishes_the_old_file_then_reads_the_new_one() {
        let d = dir("rotate");
        let p = d.join("conn.log");
        append(&p, "1\n");
        let mut t = Tailer::new(&p, Start::Beginning).unwrap();
        assert_eq!(lines(&mut t), ["<start at 0, 0 head lines>", "1\n"]);
        append(&p, "2\n");
        std::fs::rename(&p, d.join("conn.log.1")).unwrap();
        append(&d.join("conn.log.1"), "3\n");
        assert_eq!(lines(&mut t), ["2\n", "3\n"]);
        // No new file yet: nothing happens, the old position stays.
        assert_eq!(lines(&mut t), Vec::<String>::new());
        append(&p, "4\n");
        assert_eq!(lines(&mut t), ["<rotated at 0, 0 head lines>", "4\n"]);
    }

    #[test]
    fn truncation_reads_from_the_start_again() {
        let d = dir("truncate");
        let p = d.join("conn.log");
        append(&p, "one\ntwo\n");
        let mut t = Tailer::new(&p, Start::Beginning).unwrap();
        assert_eq!(lines(&mut t).len(), 3);
        std::fs::write(&p, "x\n").unwrap();
        assert_eq!(lines(&mut t), ["<truncated at 0, 0 head lines>", "x\n"]);
    }

    #[test]
    fn a_saved_position_resumes_even_after_the_file_was_rotated_away() {
        let d = dir("resume");
        let p = d.join("conn.log");
        append(&p, "#h\n1\n2\n");
        let t = Tailer::new(&d, Start::Beginning).unwrap();
        let pos = TailPosition {
            offset: 5,
            ..t.position().unwrap()
        };
        drop(t);
        append(&p, "3\n");
        std::fs::rename(&p, d.join("conn.2026-12-07-20-00-00.log")).unwrap();
        append(&p, "#h\nnew\n");
        let mut t = Tailer::new(&d, Start::At(pos.clone())).unwrap();
        assert!(t.start_note().is_none());
        assert_eq!(
            lines(&mut t),
            [
                "<resumed from the checkpoint at 5, 2 head lines>",
                "2\n",
                "3\n"
            ]
        );
        assert_eq!(
            lines(&mut t),
            ["<rotated at 0, 0 head lines>", "#h\n", "new\n"]
        );
        // A position beyond the file's end: start over, and say why.
        let t = Tailer::new(
            &d,
            Start::At(TailPosition {
                offset: 1 << 40,
                ..pos
            }),
        )
        .unwrap();
        assert!(t.start_note().is_some());
    }

    #[test]
    fn from_the_end_skips_what_is_there() {
        let d = dir("end");
        let p = d.join("conn.log");
        append(&p, "#h\nold\npart");
        let mut t = Tailer::new(&p, Start::End).unwrap();
        assert_eq!(lines(&mut t), ["<start at 7, 2 head lines>"]);
        append(&p, "ial\n");
        assert_eq!(lines(&mut t), ["partial\n"]);
    }

    #[test]
    fn an_overlong_line_is_skipped() {
        let d = dir("long");
        let p = d.join("conn.log");
        append(&p, &("x".repeat(MAX_LINE_BYTES + 5) + "\nok\n"));
        let mut t = Tailer::new(&p, Start::Beginning).unwrap();
        assert_eq!(
            lines(&mut t),
            ["<start at 0, 0 head lines>", "<too long>", "ok\n"]
        );
    }
}
