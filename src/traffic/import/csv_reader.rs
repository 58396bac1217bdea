//! A small CSV record reader over bytes, and the cell parsers the tabular formats share.
//!
//! Own code rather than the `csv` crate: the formats here need line numbers that count CR-only
//! line ends (NSL-KDD ships with them) and tolerant handling of ragged rows, and the reader is
//! eighty lines. Quoted fields with `""` escapes and embedded line breaks are supported. Not a
//! general CSV library: no comment syntax, no type inference.

/// Line breaks a quoted field may span. Beyond that (or at the end of the data) the quote is
/// taken as a stray character, so one unterminated `"` costs one row, not the rest of the file.
const MAX_QUOTED_LINE_BREAKS: u32 = 8;

/// Reads records one at a time, tracking 1-based line numbers.
pub struct CsvReader<'a> {
    data: &'a [u8],
    pos: usize,
    line: u64,
    delimiter: u8,
}

/// One record's position: its first line and where the next record starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordPos {
    pub line: u64,
    pub end: usize,
}

impl<'a> CsvReader<'a> {
    pub fn new(data: &'a [u8], delimiter: u8) -> CsvReader<'a> {
        // A UTF-8 byte order mark would otherwise become part of the first column's name.
        let pos = if data.starts_with(&[0xEF, 0xBB, 0xBF]) {
            3
        } else {
            0
        };
        CsvReader {
            data,
            pos,
            line: 1,
            delimiter,
        }
    }

    pub fn position(&self) -> usize {
        self.pos
    }

    /// Reads the next non-empty record into `fields`; `Err(line)` when it is not UTF-8.
    pub fn next_record(&mut self, fields: &mut Vec<String>) -> Option<Result<RecordPos, u64>> {
        loop {
            if self.pos >= self.data.len() {
                return None;
            }
            fields.clear();
            let start_line = self.line;
            let mut cell: Vec<u8> = Vec::new();
            let mut in_quotes = false;
            let mut quoted_cell = false;
            let mut utf8_ok = true;
            let data = self.data;
            let mut i = self.pos;
            let mut ended = false;
            let mut quoted_breaks = 0u32;
            let mut literal_quotes = false;
            while i < data.len() {
                let b = data[i];
                if in_quotes {
                    if b == b'"' {
                        if data.get(i + 1) == Some(&b'"') {
                            cell.push(b'"');
                            i += 2;
                            continue;
                        }
                        in_quotes = false;
                    } else {
                        if b == b'\n' || (b == b'\r' && data.get(i + 1) != Some(&b'\n')) {
                            self.line += 1;
                            quoted_breaks += 1;
                        }
                        cell.push(b);
                    }
                    i += 1;
                    if in_quotes && (quoted_breaks > MAX_QUOTED_LINE_BREAKS || i >= data.len()) {
                        // Unterminated: start the record over with quotes as plain characters.
                        i = self.pos;
                        self.line = start_line;
                        fields.clear();
                        cell.clear();
                        in_quotes = false;
                        quoted_cell = false;
                        literal_quotes = true;
                        utf8_ok = true;
                    }
                    continue;
                }
                if b == b'"' && cell.is_empty() && !quoted_cell && !literal_quotes {
                    in_quotes = true;
                    quoted_cell = true;
                    i += 1;
                } else if b == self.delimiter {
                    utf8_ok &= push_cell(fields, &mut cell);
                    quoted_cell = false;
                    i += 1;
                } else if b == b'\r' || b == b'\n' {
                    i += if b == b'\r' && data.get(i + 1) == Some(&b'\n') {
                        2
                    } else {
                        1
                    };
                    self.line += 1;
                    ended = true;
                    break;
                } else {
                    cell.push(b);
                    i += 1;
                }
            }
            let _ = ended;
            utf8_ok &= push_cell(fields, &mut cell);
            self.pos = i;
            if fields.len() == 1 && fields[0].trim().is_empty() {
                continue;
            }
            if !utf8_ok {
                return Some(Err(start_line));
            }
            return Some(Ok(RecordPos {
                line: start_line,
                end: i,
            }));
        }
    }
}

fn push_cell(fields: &mut Vec<String>, cell: &mut Vec<u8>) -> bool {
    let bytes = std::mem::take(cell);
    match String::from_utf8(bytes) {
        Ok(s) => {
            fields.push(s);
            true
        }
        Err(_) => {
            fields.push(String::new());
            false
        }
    }
}

/// The delimiter of the first line: tab or semicolon when they outnumber commas.
pub fn sniff_delimiter(data: &[u8]) -> u8 {
    let first = first_line(data);
    let count = |c: u8| first.iter().filter(|&&b| b == c).count();
    let (commas, tabs, semis) = (count(b','), count(b'\t'), count(b';'));
    if tabs > commas && tabs >= semis {
        b'\t'
    } else if semis > commas {
        b';'
    } else {
        b','
    }
}

/// The first line, without its line end.
pub fn first_line(data: &[u8]) -> &[u8] {
    let end = data
        .iter()
        .position(|&b| b == b'\n' || b == b'\r')
        .unwrap_or(data.len());
    &data[..end]
}

/// A column name reduced to lowercase letters and digits: `" Flow Bytes/s"` -> `flowbytess`.
pub fn normalize_name(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Columns that describe ground truth rather than traffic (labels, attack categories, the
/// generator's incident ids and roles): never a model input, whatever the format.
pub fn is_ground_truth_name(name: &str) -> bool {
    matches!(
        normalize_name(name).as_str(),
        "label"
            | "labels"
            | "attackcat"
            | "attackcategory"
            | "attacktype"
            | "attack"
            | "isattack"
            | "target"
            | "class"
            | "difficulty"
            | "detailedlabel"
            | "incidentid"
            | "origrole"
    )
}

/// A number cell; `-`, empty and text are `None`; `Infinity`/`NaN` parse as themselves.
pub fn parse_f64(text: &str) -> Option<f64> {
    let t = text.trim();
    if t.is_empty() || t == "-" || t == "(empty)" {
        return None;
    }
    t.parse::<f64>().ok()
}

/// A non-negative count; fractional values round, negative or non-finite values fail.
pub fn parse_count(text: &str) -> Option<u64> {
    let t = text.trim();
    if let Ok(v) = t.parse::<u64>() {
        return Some(v);
    }
    let v = parse_f64(t)?;
    if v.is_finite() && (0.0..1.8e19).contains(&v) {
        Some(v.round() as u64)
    } else {
        None
    }
}

/// A port number (also `0x`-hex, as some tools write ICMP "ports").
pub fn parse_port(text: &str) -> Option<u16> {
    let t = text.trim();
    if let Some(hex) = t.strip_prefix("0x") {
        return u16::from_str_radix(hex, 16).ok();
    }
    let v = parse_count(t)?;
    u16::try_from(v).ok()
}

/// A timestamp cell as Unix seconds. Accepts epoch numbers (seconds, or milli/micro/nano-
/// seconds when the magnitude says so), ISO 8601 (`2017-07-07T15:59:00.5Z`, `+hh:mm`
/// offsets, space instead of `T`) and CIC's `d/m/Y H:M[:S][ AM|PM]`. The flag is true when
/// the text had no zone and was read as UTC.
pub fn parse_time(text: &str) -> Option<(f64, bool)> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    if let Ok(v) = t.parse::<f64>() {
        if !v.is_finite() || v < 0.0 {
            return None;
        }
        let secs = if v > 1e17 {
            v / 1e9
        } else if v > 1e14 {
            v / 1e6
        } else if v > 1e11 {
            v / 1e3
        } else {
            v
        };
        return Some((secs, false));
    }
    let (date, rest) = match t.find(['T', ' ']) {
        Some(i) => (&t[..i], t[i + 1..].trim()),
        None => (t, ""),
    };
    let (y, m, d) = if date.contains('-') {
        let mut it = date.split('-');
        let y: i64 = it.next()?.parse().ok()?;
        let m: u32 = it.next()?.parse().ok()?;
        let d: u32 = it.next()?.parse().ok()?;
        (y, m, d)
    } else if date.contains('/') {
        let mut it = date.split('/');
        let a: u32 = it.next()?.parse().ok()?;
        let b: u32 = it.next()?.parse().ok()?;
        let c: i64 = it.next()?.parse().ok()?;
        let y = if c < 100 { c + 2000 } else { c };
        // CICFlowMeter writes day first; a first part above 12 cannot be a month anyway,
        // and a second part above 12 means the writer put the month first. A first part
        // of four digits is a year (Argus: `2011/08/10`), then month and day follow.
        if date.split('/').next().is_some_and(|p| p.trim().len() == 4) {
            (i64::from(a), b, u32::try_from(c).ok()?)
        } else if b > 12 && a <= 12 {
            (y, a, b)
        } else {
            (y, b, a)
        }
    } else {
        return None;
    };
    // Years outside ISO 8601's four digits are not dates (and would overflow the day count).
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || !(1..=9999).contains(&y) {
        return None;
    }
    let mut secs = crate::util::time_format::days_from_civil(y, m, d) as f64 * 86_400.0;
    let mut local = true;
    if !rest.is_empty() {
        let mut time = rest;
        let mut offset_s = 0.0;
        let upper = time.to_ascii_uppercase();
        let mut pm = None;
        if upper.ends_with("PM") || upper.ends_with("AM") {
            pm = Some(upper.ends_with("PM"));
            time = time[..time.len() - 2].trim();
        }
        if let Some(stripped) = time.strip_suffix('Z') {
            time = stripped;
            local = false;
        } else if let Some(i) = time.rfind(['+', '-']) {
            let zone = &time[i + 1..];
            let (zh, zm) = match zone.split_once(':') {
                Some((h, m)) => (h.parse::<f64>().ok()?, m.parse::<f64>().ok()?),
                // `get`, not slicing: four bytes need not be four characters ("0˦1").
                None if zone.len() == 4 => {
                    (zone.get(..2)?.parse().ok()?, zone.get(2..)?.parse().ok()?)
                }
                None => (zone.parse().ok()?, 0.0),
            };
            let sign = if time.as_bytes()[i] == b'-' {
                -1.0
            } else {
                1.0
            };
            offset_s = sign * (zh * 3600.0 + zm * 60.0);
            time = &time[..i];
            local = false;
        }
        let mut parts = time.split(':');
        let mut h: f64 = parts.next()?.trim().parse().ok()?;
        let mi: f64 = parts.next().map(|p| p.parse().ok()).unwrap_or(Some(0.0))?;
        let s: f64 = parts.next().map(|p| p.parse().ok()).unwrap_or(Some(0.0))?;
        if let Some(pm) = pm {
            if h == 12.0 {
                h = 0.0;
            }
            if pm {
                h += 12.0;
            }
        }
        if !(0.0..24.0).contains(&h) || !(0.0..60.0).contains(&mi) || !(0.0..61.0).contains(&s) {
            return None;
        }
        secs += h * 3600.0 + mi * 60.0 + s - offset_s;
    }
    Some((secs, local))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(text: &str) -> Vec<(u64, Vec<String>)> {
        let mut r = CsvReader::new(text.as_bytes(), b',');
        let mut out = Vec::new();
        let mut f = Vec::new();
        while let Some(rec) = r.next_record(&mut f) {
            out.push((rec.unwrap().line, f.clone()));
        }
        out
    }

    #[test]
    fn quotes_line_ends_and_line_numbers() {
        let got = records("a,b\r\n\"x,1\",\"say \"\"hi\"\"\"\r\r\n3,\"multi\nline\"\n4,5");
        assert_eq!(got[0], (1, vec!["a".into(), "b".into()]));
        assert_eq!(got[1], (2, vec!["x,1".into(), "say \"hi\"".into()]));
        // An empty CR-only line counts as a line.
        assert_eq!(got[2], (4, vec!["3".into(), "multi\nline".into()]));
        assert_eq!(got[3], (6, vec!["4".into(), "5".into()]));
        let cr_only = records("1,2\r3,4\r");
        assert_eq!(cr_only[1].0, 2);
    }

    #[test]
    fn an_unterminated_quote_costs_one_row_not_the_rest_of_the_file() {
        let mut text = String::from("a,b\n1,2\n\"broken,3\n");
        for i in 0..20 {
            text.push_str(&format!("{i},x\n"));
        }
        let got = records(&text);
        assert_eq!(got.len(), 23, "header, row, the broken row, 20 rows");
        assert_eq!(got[2], (3, vec!["\"broken".into(), "3".into()]));
        assert_eq!(got[3], (4, vec!["0".into(), "x".into()]));
        assert_eq!(got[22].0, 23);
        // At the very end of the data too.
        let tail = records("a,b\n1,\"2\n");
        assert_eq!(tail[1], (2, vec!["1".into(), "\"2".into()]));
    }

    #[test]
    fn times_in_the_formats_tools_write() {
        // 2017-07-07 15:59:00 UTC = 1499443140 (independently: 17354 days * 86400 + 57540).
        assert_eq!(
            parse_time("2017-07-07T15:59:00Z"),
            Some((1_499_443_140.0, false))
        );
        assert_eq!(
            parse_time("7/7/2017 3:59:00 PM"),
            Some((1_499_443_140.0, true))
        );
        assert_eq!(
            parse_time("07/07/2017 15:59"),
            Some((1_499_443_140.0, true))
        );
        assert_eq!(
            parse_time("2017-07-07 17:59:00+02:00"),
            Some((1_499_443_140.0, false))
        );
        assert_eq!(parse_time("1499443140.5"), Some((1_499_443_140.5, false)));
        assert_eq!(parse_time("1499443140500"), Some((1_499_443_140.5, false)));
        assert_eq!(parse_time("13/25/2017 1:00"), None);
        // Argus writes year first.
        assert_eq!(
            parse_time("2017/07/07 15:59:00.5"),
            Some((1_499_443_140.5, true))
        );
        assert_eq!(parse_time("2017/13/07 15:59"), None);
        assert_eq!(parse_time("XXXXXXXXXX.XXXXXX"), None);
        // Found by fuzzing (import_cic): a year this large overflowed the day count.
        assert_eq!(parse_time("07/07/26666666666017 3:59:00 PM"), None);
        assert_eq!(parse_time("-9223372036854775808-01-01"), None);
        // Found by fuzzing (import_zeek_json): four zone bytes that are not four characters.
        assert_eq!(parse_time("2020-06-05T14:39-0\u{2e6}1"), None);
        assert_eq!(
            parse_time("2017-07-07T15:59:00-0200"),
            Some((1_499_450_340.0, false))
        );
        assert_eq!(parse_time("0000-01-01"), None);
        assert_eq!(
            parse_time("9999-12-31T00:00:00Z"),
            Some((253_402_214_400.0, false))
        );
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_f64(" Infinity"), Some(f64::INFINITY));
        assert!(parse_f64("NaN").is_some_and(f64::is_nan));
        assert_eq!(parse_f64("-"), None);
        assert_eq!(parse_count("12.0"), Some(12));
        assert_eq!(parse_count("-1"), None);
        assert_eq!(parse_port("70000"), None);
        assert_eq!(normalize_name(" Flow Bytes/s"), "flowbytess");
    }
}
