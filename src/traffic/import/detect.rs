//! Format detection from content: capture magic numbers first, then the text's first lines.
//!
//! Detection never reads past the first 64 KiB, so it is cheap on large files. A wrong guess
//! is overridable by passing a `Format` to `import`.

use super::cic;
use super::csv_reader::{first_line, normalize_name, sniff_delimiter, CsvReader};
use super::format::Format;
use super::generic_csv::{suggest_mapping, ColumnMapping};
use super::kdd;
use super::unsw;

pub const PCAP_MAGICS: [[u8; 4]; 4] = [
    [0xD4, 0xC3, 0xB2, 0xA1], // microseconds, little-endian
    [0xA1, 0xB2, 0xC3, 0xD4], // microseconds, big-endian
    [0x4D, 0x3C, 0xB2, 0xA1], // nanoseconds, little-endian
    [0xA1, 0xB2, 0x3C, 0x4D], // nanoseconds, big-endian
];

/// What the first bytes of a file say about it: the format, and for CSV the header and a
/// suggested column mapping (the page's mapping form starts from these).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FileInspection {
    pub file_name: String,
    pub format: Option<Format>,
    pub header: Vec<String>,
    pub suggested: ColumnMapping,
}

/// Inspects the first bytes (at most 64 KiB are looked at) of a file named `file_name`.
pub fn inspect(file_name: &str, head: &[u8]) -> FileInspection {
    let header = super::generic_csv::read_header(&head[..head.len().min(64 * 1024)]);
    FileInspection {
        file_name: file_name.to_string(),
        format: detect_format(head),
        suggested: suggest_mapping(&header),
        header,
    }
}

pub fn detect_format(bytes: &[u8]) -> Option<Format> {
    let head = &bytes[..bytes.len().min(64 * 1024)];
    if head.len() >= 4 {
        let magic = [head[0], head[1], head[2], head[3]];
        if PCAP_MAGICS.contains(&magic) {
            return Some(Format::Pcap);
        }
        if magic == [0x0A, 0x0D, 0x0D, 0x0A] {
            return Some(Format::Pcapng);
        }
    }
    let text = head.strip_prefix(&[0xEF, 0xBB, 0xBF][..]).unwrap_or(head);
    let mut lines = text
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace));
    let first_text_line = lines.clone().next()?;
    // Zeek's header block, possibly after other comment lines (btest baselines add one).
    if lines
        .by_ref()
        .take_while(|l| l.starts_with(b"#"))
        .any(|l| l.starts_with(b"#separator") || l.starts_with(b"#fields"))
    {
        return Some(Format::ZeekTsv);
    }
    if first_text_line.first() == Some(&b'{') {
        let line = String::from_utf8_lossy(first_text_line);
        // Every EVE record has an event_type; no Zeek log has that field.
        if line.contains("\"event_type\"") {
            return Some(Format::SuricataEve);
        }
        return (line.contains("\"id.orig_h\"") || line.contains("\"ts\""))
            .then_some(Format::ZeekJson);
    }
    // Binary data is not a CSV.
    if text.iter().take(4096).any(|&b| b == 0) {
        return None;
    }
    let delimiter = sniff_delimiter(text);
    let mut reader = CsvReader::new(text, delimiter);
    let mut fields = Vec::new();
    reader.next_record(&mut fields)?.ok()?;
    let refs: Vec<&str> = fields.iter().map(|s| s.as_str()).collect();
    if kdd::looks_like_row(&refs) {
        return Some(Format::Kdd);
    }
    if unsw::looks_like_raw_row(&refs) {
        return Some(Format::Unsw);
    }
    let names: Vec<String> = fields.iter().map(|f| normalize_name(f)).collect();
    if names.iter().any(|n| n == "idorigh") && delimiter == b'\t' {
        // A conn.log with its header lines stripped but the Zeek field names kept.
        return Some(Format::GenericCsv);
    }
    if cic::looks_like_header(&names) {
        return Some(Format::Cic);
    }
    if unsw::looks_like_header(&names) {
        return Some(Format::Unsw);
    }
    if super::argus::looks_like_header(&names) {
        return Some(Format::Argus);
    }
    if super::nfdump::looks_like_header(&names) {
        return Some(Format::Nfdump);
    }
    // A header row naming at least two flow fields (so prose with commas is not a CSV).
    let first = first_line(text);
    if fields.len() > 1 && first.len() < 64 * 1024 && mapped_fields(&suggest_mapping(&fields)) >= 2
    {
        return Some(Format::GenericCsv);
    }
    None
}

/// How many flow fields a mapping found.
pub fn mapped_fields(m: &ColumnMapping) -> usize {
    [
        m.time,
        m.src_ip,
        m.dst_ip,
        m.src_port,
        m.dst_port,
        m.proto,
        m.duration,
        m.bytes_out,
        m.bytes_in,
        m.pkts_out,
        m.pkts_in,
    ]
    .iter()
    .filter(|c| c.is_some())
    .count()
}

#[cfg(test)]
mod tests {

    #[test]
    fn inspection_names_the_format_the_header_and_a_mapping() {
        let csv = inspect(
            "flows.csv",
            b"timestamp,src_ip,dst_ip,dst_port,bytes_out,label\n1,10.0.0.1,10.0.0.2,80,5,benign\n",
        );
        assert_eq!(csv.file_name, "flows.csv");
        assert_eq!(csv.format, Some(Format::GenericCsv));
        assert_eq!(
            csv.header,
            [
                "timestamp",
                "src_ip",
                "dst_ip",
                "dst_port",
                "bytes_out",
                "label"
            ]
        );
        assert_eq!(csv.suggested.label, Some(5));
        let pcap = inspect("a.pcap", &[0xD4, 0xC3, 0xB2, 0xA1, 2, 0, 4, 0]);
        assert_eq!(pcap.format, Some(Format::Pcap));
    }

    use super::*;

    #[test]
    fn magics_and_headers() {
        assert_eq!(
            detect_format(&[0xD4, 0xC3, 0xB2, 0xA1, 2, 0]),
            Some(Format::Pcap)
        );
        assert_eq!(detect_format(&[0xA1, 0xB2, 0x3C, 0x4D]), Some(Format::Pcap));
        assert_eq!(
            detect_format(&[0x0A, 0x0D, 0x0D, 0x0A, 0, 0]),
            Some(Format::Pcapng)
        );
        assert_eq!(
            detect_format(b"#separator \\x09\n#fields\tts\n"),
            Some(Format::ZeekTsv)
        );
        assert_eq!(
            detect_format(b"{\"ts\":1.0,\"id.orig_h\":\"10.0.0.1\"}\n"),
            Some(Format::ZeekJson)
        );
        assert_eq!(
            detect_format(
                b"{\"timestamp\":\"2023-09-18T06:13:41.532140+0000\",\"event_type\":\"flow\"}\n"
            ),
            Some(Format::SuricataEve)
        );
        assert_eq!(
            detect_format(b"Flow ID, Source IP, Flow Duration, Total Fwd Packets\n"),
            Some(Format::Cic)
        );
        assert_eq!(
            detect_format(b"0,tcp,ftp_data,SF,491,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,2,2,0.00,0.00,0.00,0.00,1.00,0.00,0.00,150,25,0.17,0.03,0.17,0.00,0.00,0.00,0.05,0.00,normal,20\r"),
            Some(Format::Kdd)
        );
        assert_eq!(
            detect_format(b"id,spkts,dpkts,sbytes,dbytes,target\n"),
            Some(Format::Unsw)
        );
        assert_eq!(
            detect_format(b"time,source,destination\n1,a,b\n"),
            Some(Format::GenericCsv)
        );
        assert_eq!(detect_format(b"\x00\x01garbage"), None);
        assert_eq!(detect_format(b"1,2,3\n"), None);
        assert_eq!(detect_format(b"when,from,to\n1,a,b\n"), None);
    }
}
