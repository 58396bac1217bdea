//! Zeek conn.log (TSV or JSON lines) read one line at a time from any `BufRead`, for scoring
//! a file far larger than memory: each line goes through the same per-line parser as the
//! batch importer (`zeek::ConnLogParser`), so a row reads the same both
//! ways and a skipped row names its line.
//!
//! Holds one line at a time (at most [`MAX_LINE_BYTES`]; a longer line is skipped without
//! being buffered) and does not sort: flows come out in file order, which for conn.log is
//! the order connections ended. Ordering them is the caller's business
//! (`pipeline::stream_score`). [`ZeekLines`] is the per-line half, for lines that come from
//! elsewhere (`pipeline::follow` tails a growing file). Not for other formats: they go
//! through `import::import`.

use super::error::ImportError;
use super::format::Format;
use super::warnings::{ImportWarning, Location, SkipReason, SkippedRecord};
use super::zeek::{ConnLogParser, LineOutcome};
use crate::traffic::flow::FlowRecord;
use std::fmt;
use std::io::BufRead;

/// The longest line read; conn.log lines are a few hundred bytes.
pub const MAX_LINE_BYTES: usize = 1 << 20;
/// Skipped lines listed (all of them are counted).
pub const SKIPPED_LISTED: usize = 20;

/// Why a stream stopped.
#[derive(Debug)]
pub enum StreamError {
    /// Reading failed after `line` lines.
    Read { line: u64, source: std::io::Error },
    /// The content is not a usable conn.log (no `#fields` header, another Zeek log, ...).
    Import { line: u64, source: ImportError },
}

impl fmt::Display for StreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StreamError::Read { line, source } => {
                write!(f, "read error after line {line}: {source}")
            }
            StreamError::Import { line: 0, source } => write!(f, "{source}"),
            StreamError::Import { line, source } => write!(f, "line {line}: {source}"),
        }
    }
}

impl std::error::Error for StreamError {}

/// One connection read from the stream.
#[derive(Debug, Clone)]
pub struct StreamedFlow {
    /// 1-based line number in the file.
    pub line: u64,
    pub flow: FlowRecord,
    /// Zeek's connection id, when the file has one.
    pub uid: Option<String>,
    /// One value per [`ZeekStream::extra_columns`] (NaN = missing).
    pub extras: Vec<f64>,
}

/// Lines of a conn.log handed over one at a time, however they were read: the per-line half
/// of [`ZeekStream`], which `pipeline::follow` feeds from a tailed file. Counts lines and
/// skipped rows; holds no line.
pub struct ZeekLines {
    parser: ConnLogParser,
    line_no: u64,
    skipped: Vec<SkippedRecord>,
    skipped_count: u64,
    extras: Vec<f64>,
}

impl ZeekLines {
    /// Lines in `format`; `None` for formats other than Zeek's.
    pub fn new(format: Format) -> Option<ZeekLines> {
        Some(ZeekLines {
            parser: ConnLogParser::new(format, true)?,
            line_no: 0,
            skipped: Vec::new(),
            skipped_count: 0,
            extras: Vec::new(),
        })
    }

    /// The extra numeric columns (for TSV, known once the first `#fields` line is read:
    /// always before the first flow).
    pub fn extra_columns(&self) -> &[String] {
        self.parser.extra_columns()
    }

    /// Lines read so far.
    pub fn lines_read(&self) -> u64 {
        self.line_no
    }

    /// Skipped lines: how many, and the first [`SKIPPED_LISTED`] with their reasons.
    pub fn skipped(&self) -> (u64, &[SkippedRecord]) {
        (self.skipped_count, &self.skipped)
    }

    fn skip(&mut self, reason: SkipReason) {
        self.skipped_count += 1;
        if self.skipped.len() < SKIPPED_LISTED {
            self.skipped.push(SkippedRecord {
                location: Location::Line(self.line_no),
                reason,
            });
        }
    }

    /// A line longer than [`MAX_LINE_BYTES`] went by (not buffered): counted and skipped.
    pub fn too_long(&mut self) {
        self.line_no += 1;
        self.skip(SkipReason::LineTooLong {
            max_bytes: MAX_LINE_BYTES as u64,
        });
    }

    /// The next line (without its line end): a connection, or `None` for a header, a blank
    /// line or a skipped row. A file that is not a conn.log is an error.
    pub fn line(&mut self, raw: &[u8]) -> Result<Option<StreamedFlow>, StreamError> {
        self.line_no += 1;
        let raw = raw.strip_suffix(b"\n").unwrap_or(raw);
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let mut extras = std::mem::take(&mut self.extras);
        extras.clear();
        let outcome = self
            .parser
            .line(raw, &mut || true, &mut extras)
            .map_err(|source| StreamError::Import {
                line: self.line_no,
                source,
            })?;
        match outcome {
            LineOutcome::Flow { flow, uid, .. } => Ok(Some(StreamedFlow {
                line: self.line_no,
                flow,
                uid,
                extras,
            })),
            LineOutcome::Skipped(reason) => {
                self.extras = extras;
                self.skip(reason);
                Ok(None)
            }
            LineOutcome::Nothing | LineOutcome::Stop => {
                self.extras = extras;
                Ok(None)
            }
        }
    }

    /// After the last line: refuses a file that held no conn.log rows (or no `#fields`
    /// header); otherwise the warning about other logs' rows left out, if any.
    pub fn finish(self) -> Result<Option<ImportWarning>, StreamError> {
        let line = 0;
        self.parser
            .finish()
            .map_err(|source| StreamError::Import { line, source })
    }
}

/// A conn.log read line by line.
pub struct ZeekStream<R> {
    reader: R,
    lines: ZeekLines,
    buf: Vec<u8>,
    bytes_read: u64,
}

impl<R: BufRead> ZeekStream<R> {
    /// A stream over `reader` in `format`; `None` for formats other than Zeek's.
    pub fn new(reader: R, format: Format) -> Option<ZeekStream<R>> {
        Some(ZeekStream {
            reader,
            lines: ZeekLines::new(format)?,
            buf: Vec::new(),
            bytes_read: 0,
        })
    }

    /// The extra numeric columns (for TSV, known once the first `#fields` line is read:
    /// always before the first flow).
    pub fn extra_columns(&self) -> &[String] {
        self.lines.extra_columns()
    }

    /// Lines read so far.
    pub fn lines_read(&self) -> u64 {
        self.lines.lines_read()
    }

    pub fn bytes_read(&self) -> u64 {
        self.bytes_read
    }

    /// Skipped lines: how many, and the first [`SKIPPED_LISTED`] with their reasons.
    pub fn skipped(&self) -> (u64, &[SkippedRecord]) {
        self.lines.skipped()
    }

    /// Reads the next line into `buf` (with its line end); false at the end of the input.
    /// A line over [`MAX_LINE_BYTES`] is consumed to its end and left empty, `too_long` set.
    fn read_line(&mut self, too_long: &mut bool) -> Result<bool, StreamError> {
        self.buf.clear();
        *too_long = false;
        let line = self.lines.lines_read();
        let read_err = |source| StreamError::Read { line, source };
        let mut any = false;
        loop {
            let chunk = self.reader.fill_buf().map_err(read_err)?;
            if chunk.is_empty() {
                break;
            }
            any = true;
            let (take, done) = match chunk.iter().position(|&b| b == b'\n') {
                Some(i) => (i + 1, true),
                None => (chunk.len(), false),
            };
            if !*too_long && self.buf.len() + take <= MAX_LINE_BYTES + 1 {
                self.buf.extend_from_slice(&chunk[..take]);
            } else {
                *too_long = true;
                self.buf.clear();
            }
            self.reader.consume(take);
            self.bytes_read += take as u64;
            if done {
                break;
            }
        }
        Ok(any)
    }

    /// The next connection, `None` at the end of the input. Rows that cannot be read are
    /// skipped and counted ([`ZeekStream::skipped`]); a file that is not a conn.log is an
    /// error.
    pub fn next_flow(&mut self) -> Result<Option<StreamedFlow>, StreamError> {
        let mut too_long = false;
        while self.read_line(&mut too_long)? {
            if too_long {
                self.lines.too_long();
                continue;
            }
            if let Some(flow) = self.lines.line(&self.buf)? {
                return Ok(Some(flow));
            }
        }
        Ok(None)
    }

    /// After the last flow: refuses a file that held no conn.log rows (or no `#fields`
    /// header); otherwise the warning about other logs' rows left out, if any.
    pub fn finish(self) -> Result<Option<ImportWarning>, StreamError> {
        self.lines.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::traffic::import::{import, ImportLimits};

    const TSV: &str = "#separator \\x09\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tmissed_bytes\torig_pkts\tresp_pkts\n\
        1.5\tCa\t10.0.0.1\t40000\t10.0.0.2\t80\ttcp\thttp\t0.5\t100\t200\tSF\t0\t3\t2\n\
        2.5\tCb\t10.0.0.1\tx\t10.0.0.2\t80\ttcp\t-\t0.5\t100\t200\tSF\t0\t3\t2\n\
        3.5\t-\t10.0.0.3\t40001\t10.0.0.2\t22\ttcp\t-\t-\t-\t-\tS0\t-\t1\t0\r\n";

    fn all(text: &str, format: Format) -> (Vec<StreamedFlow>, u64) {
        let mut s = ZeekStream::new(text.as_bytes(), format).unwrap();
        let mut out = Vec::new();
        while let Some(f) = s.next_flow().unwrap() {
            out.push(f);
        }
        let skipped = s.skipped().0;
        s.finish().unwrap();
        (out, skipped)
    }

    #[test]
    fn rows_read_as_the_batch_importer_reads_them() {
        let (flows, skipped) = all(TSV, Format::ZeekTsv);
        let batch = import(
            TSV.as_bytes(),
            Some(Format::ZeekTsv),
            &ImportLimits::default(),
            &mut |_| true,
        )
        .unwrap();
        assert_eq!(skipped, batch.skipped_count);
        assert_eq!(flows.len(), batch.flows.len());
        for (i, f) in flows.iter().enumerate() {
            assert_eq!(f.flow, batch.flows[i]);
        }
        assert_eq!(flows[0].uid.as_deref(), Some("Ca"));
        assert_eq!(flows[1].uid, None);
        assert_eq!(flows[1].line, 5);
        assert_eq!(flows[0].extras, vec![0.0]);
        assert!(flows[1].extras[0].is_nan());
    }

    #[test]
    fn json_lines_stream_too() {
        let text = "{\"ts\":1.0,\"uid\":\"C1\",\"id.orig_h\":\"10.0.0.1\",\"id.orig_p\":1,\"id.resp_h\":\"10.0.0.2\",\"id.resp_p\":53,\"proto\":\"udp\",\"orig_ip_bytes\":80}\nnot json\n";
        let (flows, skipped) = all(text, Format::ZeekJson);
        assert_eq!((flows.len(), skipped), (1, 1));
        assert_eq!(flows[0].uid.as_deref(), Some("C1"));
        assert_eq!(flows[0].extras.len(), 3);
        assert_eq!(flows[0].extras[1], 80.0);
    }

    #[test]
    fn a_row_before_the_header_is_refused_with_its_line() {
        let mut s = ZeekStream::new("\n1.0\ta\tb\n".as_bytes(), Format::ZeekTsv).unwrap();
        let e = s.next_flow().unwrap_err().to_string();
        assert!(e.starts_with("line 2: "), "{e}");
    }

    #[test]
    fn an_overlong_line_is_skipped_not_buffered() {
        let long = "9".repeat(MAX_LINE_BYTES + 10);
        let text = TSV.replacen("1.5\tCa", &format!("{long}\tCa"), 1);
        let (flows, skipped) = all(&text, Format::ZeekTsv);
        assert_eq!((flows.len(), skipped), (1, 2));
    }
}
