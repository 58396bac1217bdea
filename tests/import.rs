//! Importers from small fixtures written here: every format, malformed rows, hand-built
//! captures with known Zeek semantics, hostile bytes, limits and cancellation. Tests reading
//! /work/shared/data skip with a printed reason when it is absent.

use anomaly_detector::traffic::flow::{ConnState, FlowRecord, Proto, Service};
use anomaly_detector::traffic::import::{
    detect_format, import, import_with_mapping, is_benign, suggest_mapping, CaptureRefusal,
    ColumnMapping, DurationUnit, Format, ImportError, ImportLimits, ImportWarning, ImportedTraffic,
    LimitKind, Location, Quantity, SkipReason,
};
use std::net::IpAddr;

fn run(bytes: &[u8], format: Option<Format>) -> Result<ImportedTraffic, ImportError> {
    import(bytes, format, &ImportLimits::default(), &mut |_| true)
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn skipped_lines(t: &ImportedTraffic) -> Vec<u64> {
    t.skipped
        .iter()
        .map(|s| match s.location {
            Location::Line(n) => n,
            Location::ByteOffset(n) => n,
        })
        .collect()
}

// ---------------------------------------------------------------- Zeek

const ZEEK_TSV: &str = "#separator \\x09
#set_separator\t,
#empty_field\t(empty)
#unset_field\t-
#path\tconn
#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents\tlabel
#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]\tstring
1300475167.096535\tC1\t141.142.220.202\t5353\t224.0.0.251\t5353\tudp\tdns\t-\t-\t-\tS0\t0\tD\t1\t73\t0\t0\t(empty)\tBenign
1300475168.853899\tC2\t141.142.220.118\t43927\t141.142.2.2\t53\tudp\tdns\t0.000435\t38\t89\tSF\t0\tDd\t1\t66\t1\t117\t(empty)\tMalicious
1300475168.9\tC3\tnot-an-ip\t1\t141.142.2.2\t53\tudp\t-\t-\t-\t-\tS0\t0\tD\t1\t66\t0\t0\t(empty)\t-
1300475169.0\tC4\t141.142.220.118\t1
1300475169.780331\tC5\t2001:db8::1\t35642\t208.80.152.2\t80\ttcp\thttp\t0.061329\t463\t350\tOTH\t0\tDdA\t2\t567\t1\t402\t(empty)\t-
#close\t2011-03-18-19-06-13
";

#[test]
fn zeek_tsv_maps_columns_by_fields_line() {
    assert_eq!(detect_format(ZEEK_TSV.as_bytes()), Some(Format::ZeekTsv));
    let t = run(ZEEK_TSV.as_bytes(), None).unwrap();
    assert_eq!(t.format, Format::ZeekTsv);
    assert_eq!(t.flows.len(), 3);
    let f = &t.flows[0];
    assert_eq!(f.src_ip, ip("141.142.220.202"));
    assert_eq!((f.src_port, f.dst_port), (5353, 5353));
    assert_eq!(f.proto, Proto::Udp);
    assert_eq!(f.service, Service::Dns);
    // Unset duration and bytes read as zero.
    assert_eq!((f.duration_s, f.bytes_out, f.bytes_in), (0.0, 0, 0));
    assert_eq!(f.conn_state, ConnState::S0);
    let g = &t.flows[1];
    assert_eq!(
        (g.bytes_out, g.bytes_in, g.pkts_out, g.pkts_in),
        (38, 89, 1, 1)
    );
    assert_eq!(g.history.as_str(), "Dd");
    assert!((g.duration_s - 0.000435).abs() < 1e-12);
    assert_eq!(t.flows[2].src_ip, ip("2001:db8::1"));
    assert_eq!(t.flows[2].history.as_str(), "DdA");
    // Bad address on line 10, short row on line 11: reported, the rest kept.
    assert_eq!(skipped_lines(&t), vec![10, 11]);
    assert!(matches!(
        &t.skipped[0].reason,
        SkipReason::BadValue { column, value } if column == "id.orig_h" && value == "not-an-ip"
    ));
    assert!(matches!(
        t.skipped[1].reason,
        SkipReason::FieldCount {
            expected: 20,
            found: 4
        }
    ));
    // Numeric extra columns kept; text and identifier columns not.
    assert_eq!(
        t.extra_columns,
        vec!["missed_bytes", "orig_ip_bytes", "resp_ip_bytes"]
    );
    assert_eq!(t.extra_row(1), &[0.0, 66.0, 117.0]);
    // The label column is ground truth: Benign is negative, an unset one is unlabelled.
    assert!(t.has_labels);
    assert_eq!(t.is_attack(), vec![Some(false), Some(true), None]);
}

#[test]
fn zeek_json_lines() {
    let text = r#"{"ts":1591367999.305988,"uid":"C1","id.orig_h":"192.168.4.76","id.orig_p":36844,"id.resp_h":"192.168.4.1","id.resp_p":53,"proto":"udp","service":"dns","duration":0.066,"orig_bytes":62,"resp_bytes":141,"conn_state":"SF","history":"Dd","orig_pkts":2,"orig_ip_bytes":118,"resp_pkts":2,"resp_ip_bytes":197}
{"ts":"2020-06-05T14:39:59.5Z","id.orig_h":"192.168.4.76","id.orig_p":46378,"id.resp_h":"31.3.245.133","id.resp_p":80,"proto":"tcp","conn_state":"S0","history":"S","orig_pkts":1,"resp_pkts":0}
not json
[1,2]
"#;
    assert_eq!(detect_format(text.as_bytes()), Some(Format::ZeekJson));
    let t = run(text.as_bytes(), None).unwrap();
    assert_eq!(t.flows.len(), 2);
    assert_eq!(t.flows[0].bytes_in, 141);
    assert_eq!(t.flows[0].service, Service::Dns);
    // 2020-06-05T14:39:59.5Z = 1591367999.5 (ISO time in JSON logs written with ISO8601).
    assert_eq!(t.flows[1].ts, 1_591_367_999.5);
    assert_eq!(t.flows[1].conn_state, ConnState::S0);
    assert_eq!(skipped_lines(&t), vec![3, 4]);
    assert!(!t.has_labels);
    // missed_bytes is absent from every line, so that column is dropped.
    assert_eq!(t.extra_columns, vec!["orig_ip_bytes", "resp_ip_bytes"]);
    assert_eq!(t.extra_row(0), &[118.0, 197.0]);
    assert!(t.extra_row(1)[0].is_nan());
}

// A Zeek header block for one log (`path`) with the given fields, then `rows`.
fn zeek_log(path: Option<&str>, fields: &[&str], rows: &[&str]) -> String {
    let mut s = String::from(
        "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n",
    );
    if let Some(p) = path {
        s += &format!("#path\t{p}\n");
    }
    s += &format!("#fields\t{}\n", fields.join("\t"));
    for r in rows {
        s += r;
        s.push('\n');
    }
    s
}

const DNS_FIELDS: [&str; 15] = [
    "ts",
    "uid",
    "id.orig_h",
    "id.orig_p",
    "id.resp_h",
    "id.resp_p",
    "proto",
    "trans_id",
    "rtt",
    "query",
    "qclass",
    "qtype",
    "qtype_name",
    "rcode",
    "answers",
];
const DNS_ROW: &str = "1300475168.853899\tC2\t141.142.220.118\t43927\t141.142.2.2\t53\tudp\t3903\t0.0793\texample.com\t1\t1\tA\t0\t93.184.216.34";
const HTTP_FIELDS: [&str; 11] = [
    "ts",
    "uid",
    "id.orig_h",
    "id.orig_p",
    "id.resp_h",
    "id.resp_p",
    "trans_depth",
    "method",
    "host",
    "uri",
    "status_code",
];
const HTTP_ROW: &str =
    "1300475169.780331\tC5\t141.142.220.118\t35642\t208.80.152.2\t80\t1\tGET\tbro.org\t/\t200";
const SSL_FIELDS: [&str; 10] = [
    "ts",
    "uid",
    "id.orig_h",
    "id.orig_p",
    "id.resp_h",
    "id.resp_p",
    "version",
    "cipher",
    "server_name",
    "established",
];
const SSL_ROW: &str = "1300475170.1\tC6\t167.71.55.249\t37680\t142.250.179.196\t443\tTLSv12\tTLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256\tgoogle.com\tT";

fn refused_as(result: Result<ImportedTraffic, ImportError>) -> (Option<String>, String) {
    match result {
        Err(ImportError::NotConnLog { log, evidence }) => (log, evidence),
        other => panic!("expected a refusal as another Zeek log, got {other:?}"),
    }
}

#[test]
fn other_zeek_tsv_logs_are_refused_with_their_name() {
    for (log, fields, row) in [
        ("dns", &DNS_FIELDS[..], DNS_ROW),
        ("http", &HTTP_FIELDS[..], HTTP_ROW),
        ("ssl", &SSL_FIELDS[..], SSL_ROW),
    ] {
        let with_path = zeek_log(Some(log), fields, &[row]);
        assert_eq!(detect_format(with_path.as_bytes()), Some(Format::ZeekTsv));
        let e = run(with_path.as_bytes(), None).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("This is a Zeek {log}.log (#path {log}); the detector reads conn.log, Zeek's per-connection log. Import the conn.log from the same Zeek run.")
        );
        // Without #path the fields name it.
        let bare = zeek_log(None, fields, &[row]);
        let (named, evidence) = refused_as(run(bare.as_bytes(), None));
        assert_eq!(named.as_deref(), Some(log), "{evidence}");
        assert!(evidence.starts_with("its fields include "), "{evidence}");
    }
    // A header with no connection endpoints and no known signature: refused, unnamed.
    let odd = zeek_log(None, &["ts", "uid", "note_text"], &["1.0\tC1\thello"]);
    assert_eq!(refused_as(run(odd.as_bytes(), None)).0, None);
}

#[test]
fn other_zeek_json_logs_are_refused_from_path_or_fields() {
    let dns = r#"{"ts":1300475168.85,"uid":"C2","id.orig_h":"141.142.220.118","id.orig_p":43927,"id.resp_h":"141.142.2.2","id.resp_p":53,"proto":"udp","trans_id":3903,"query":"example.com","qtype":1,"qtype_name":"A","rcode":0}"#;
    let http = r#"{"ts":1300475169.78,"uid":"C5","id.orig_h":"141.142.220.118","id.orig_p":35642,"id.resp_h":"208.80.152.2","id.resp_p":80,"trans_depth":1,"method":"GET","host":"bro.org","uri":"/","status_code":200}"#;
    let ssl = r#"{"ts":1300475170.1,"uid":"C6","id.orig_h":"167.71.55.249","id.orig_p":37680,"id.resp_h":"142.250.179.196","id.resp_p":443,"version":"TLSv12","cipher":"TLS_AES_128_GCM_SHA256","server_name":"google.com"}"#;
    for (log, line) in [("dns", dns), ("http", http), ("ssl", ssl)] {
        let text = format!("{line}\n{line}\n");
        assert_eq!(detect_format(text.as_bytes()), Some(Format::ZeekJson));
        let (named, evidence) = refused_as(run(text.as_bytes(), None));
        assert_eq!(named.as_deref(), Some(log), "{evidence}");
        let e = run(text.as_bytes(), None).unwrap_err().to_string();
        assert!(
            e.starts_with(&format!("This is a Zeek {log}.log (its fields include ")),
            "{e}"
        );
        assert!(
            e.ends_with("Import the conn.log from the same Zeek run."),
            "{e}"
        );
    }
    // A `_path` names the log even when the fields would not.
    let tagged = r#"{"_path":"weird","ts":1.0,"id.orig_h":"10.0.0.1","id.resp_h":"10.0.0.2"}"#;
    assert_eq!(
        refused_as(run(tagged.as_bytes(), Some(Format::ZeekJson))),
        (Some("weird".into()), "_path weird".into())
    );
}

#[test]
fn conn_logs_still_import_and_mixed_streams_keep_the_conn_rows() {
    // The conn.log fixtures above, with and without #path conn, still import.
    assert_eq!(run(ZEEK_TSV.as_bytes(), None).unwrap().flows.len(), 3);
    let no_path = ZEEK_TSV.replace("#path\tconn\n", "");
    assert_eq!(run(no_path.as_bytes(), None).unwrap().flows.len(), 3);
    // A renamed conn log (derived logs such as conn_long) is still connections.
    let renamed = ZEEK_TSV.replace("#path\tconn", "#path\tconn_long");
    assert_eq!(run(renamed.as_bytes(), None).unwrap().flows.len(), 3);
    // Written with Log::default_scope_sep = "_" (id_orig_h): the same flows.
    let underscored = ZEEK_TSV.replace("\tid.", "\tid_");
    assert!(underscored.contains("\tid_orig_h\t"));
    let t = run(underscored.as_bytes(), None).unwrap();
    assert_eq!(t.flows, run(ZEEK_TSV.as_bytes(), None).unwrap().flows);

    // A JSON stream with every log (as shippers write it): conn rows kept, the rest counted.
    let conn = r#"{"_path":"conn","ts":1.0,"uid":"C1","id.orig_h":"10.0.0.1","id.orig_p":5000,"id.resp_h":"10.0.0.2","id.resp_p":53,"proto":"udp","conn_state":"SF","orig_bytes":40,"resp_bytes":80,"orig_pkts":1,"resp_pkts":1}"#;
    let dns = r#"{"_path":"dns","ts":1.0,"uid":"C1","id.orig_h":"10.0.0.1","id.orig_p":5000,"id.resp_h":"10.0.0.2","id.resp_p":53,"proto":"udp","query":"example.com"}"#;
    let text = format!("{conn}\n{dns}\n{dns}\n{conn}\n");
    let t = run(text.as_bytes(), None).unwrap();
    assert_eq!(t.flows.len(), 2);
    assert_eq!(t.skipped_count, 0);
    assert!(t.warnings.contains(&ImportWarning::OtherZeekLogRows {
        logs: vec![(Some("dns".into()), 2)]
    }));
    // Concatenated TSV logs: the dns section is left out, the conn section read.
    let both = format!(
        "{}{}",
        zeek_log(Some("dns"), &DNS_FIELDS, &[DNS_ROW]),
        ZEEK_TSV
    );
    let t = run(both.as_bytes(), None).unwrap();
    assert_eq!(t.flows.len(), 3);
    let w: Vec<String> = t.warnings.iter().map(|w| w.to_string()).collect();
    assert!(
        w.iter()
            .any(|w| w.starts_with("1 rows of other Zeek logs were left out (1 of dns.log)")),
        "{w:?}"
    );
}

// ---------------------------------------------------------------- Suricata EVE

/// A Suricata EVE flow event: TCP from 10.0.0.1:40000 to 10.0.0.2:443 with the given per-side
/// flags (hex, as EVE writes them) and packets back.
fn eve_flow(start: &str, ts_flags: &str, tc_flags: &str, pkts_tc: u64) -> String {
    format!(
        r#"{{"timestamp":"{start}","flow_id":1,"event_type":"flow","src_ip":"10.0.0.1","src_port":40000,"dest_ip":"10.0.0.2","dest_port":443,"proto":"TCP","app_proto":"tls","flow":{{"pkts_toserver":5,"pkts_toclient":{pkts_tc},"bytes_toserver":600,"bytes_toclient":{},"start":"{start}","end":"2023-09-18T06:13:43.032140+0000","age":2,"state":"closed","reason":"timeout","alerted":false}},"tcp":{{"tcp_flags":"1f","tcp_flags_ts":"{ts_flags}","tcp_flags_tc":"{tc_flags}","syn":true,"fin":true,"state":"closed"}}}}"#,
        pkts_tc * 100
    )
}

#[test]
fn suricata_eve_flow_events_become_flows() {
    let start = "2023-09-18T06:13:41.532140+0000";
    let lines = [
        eve_flow(start, "1b", "1b", 4),                  // SYN FIN PSH ACK both ways
        r#"{"timestamp":"2023-09-18T06:13:41.6+0000","event_type":"alert","src_ip":"10.0.0.1","dest_ip":"10.0.0.2","proto":"TCP","alert":{"signature_id":1}}"#.to_string(),
        eve_flow(start, "02", "00", 0),                  // SYN, no answer
        "{not json".to_string(),
        eve_flow(start, "02", "14", 1),                  // SYN, RST-ACK back
        eve_flow(start, "1b", "1a", 3),                  // originator FIN only (1b = SYN FIN PSH ACK)
        eve_flow(start, "16", "12", 3),                  // originator RST after handshake
        eve_flow(start, "18", "18", 3),                  // no SYN: picked up mid-stream
        r#"{"timestamp":"2023-09-18T06:13:44.0+0000","event_type":"flow","src_ip":"10.0.0.1","src_port":5353,"dest_ip":"10.0.0.53","dest_port":53,"proto":"UDP","app_proto":"dns","flow":{"pkts_toserver":1,"pkts_toclient":1,"bytes_toserver":70,"bytes_toclient":130,"start":"2023-09-18T06:13:44.000000+0000","end":"2023-09-18T06:13:44.010000+0000","state":"established"}}"#.to_string(),
        r#"{"timestamp":"2023-09-18T06:13:45.0+0000","event_type":"netflow","src_ip":"10.0.0.1","src_port":1000,"dest_ip":"10.0.0.9","dest_port":22,"proto":"TCP","netflow":{"pkts":3,"bytes":180,"start":"2023-09-18T06:13:45.000000+0000","end":"2023-09-18T06:13:46.000000+0000","age":1}}"#.to_string(),
        r#"{"timestamp":"2023-09-18T06:13:46.0+0000","event_type":"flow","src_ip":"not-an-ip","dest_ip":"10.0.0.2","proto":"TCP","flow":{}}"#.to_string(),
    ];
    let text = lines.join("\n") + "\n";
    assert_eq!(detect_format(text.as_bytes()), Some(Format::SuricataEve));
    let t = run(text.as_bytes(), None).unwrap();
    assert_eq!(t.format, Format::SuricataEve);
    assert_eq!(t.flows.len(), 8);
    let f = &t.flows[0];
    assert_eq!((f.src_ip, f.src_port), (ip("10.0.0.1"), 40000));
    assert_eq!((f.dst_ip, f.dst_port), (ip("10.0.0.2"), 443));
    assert_eq!((f.proto, f.service), (Proto::Tcp, Service::Ssl));
    assert_eq!(
        (f.pkts_out, f.pkts_in, f.bytes_out, f.bytes_in),
        (5, 4, 600, 400)
    );
    assert!((f.duration_s - 1.5).abs() < 1e-6, "{}", f.duration_s);
    assert!((f.ts - 1_695_017_621.532_14).abs() < 1e-3, "{}", f.ts);
    let states: Vec<ConnState> = t.flows[..6].iter().map(|f| f.conn_state).collect();
    assert_eq!(
        states,
        [
            ConnState::SF,
            ConnState::S0,
            ConnState::REJ,
            ConnState::S2,
            ConnState::RSTO,
            ConnState::OTH
        ]
    );
    let dns = &t.flows[6];
    assert_eq!(
        (dns.proto, dns.service, dns.conn_state),
        (Proto::Udp, Service::Dns, ConnState::SF)
    );
    let one_way = &t.flows[7];
    assert_eq!(
        (one_way.bytes_out, one_way.bytes_in, one_way.pkts_out),
        (180, 0, 3)
    );
    // The bad JSON (line 4) and the bad address (line 11) are skipped with their lines.
    assert_eq!(skipped_lines(&t), vec![4, 11]);
    assert!(
        matches!(&t.skipped[1].reason, SkipReason::BadValue { column, .. } if column == "src_ip")
    );
    // The alert is counted, not an error; one-way netflow records are said to be one-way.
    assert!(t.warnings.contains(&ImportWarning::OtherEventsLeftOut {
        events: vec![("alert".into(), 1)]
    }));
    assert!(t
        .warnings
        .contains(&ImportWarning::OneWayRecords { count: 1 }));
    assert!(t.warnings.contains(&ImportWarning::BytesIncludeHeaders));
}

#[test]
fn suricata_eve_without_flow_events_says_what_to_enable() {
    let alert = r#"{"timestamp":"2023-09-18T06:13:41.6+0000","event_type":"alert","src_ip":"10.0.0.1","dest_ip":"10.0.0.2","proto":"TCP"}"#;
    let dns = r#"{"timestamp":"2023-09-18T06:13:41.7+0000","event_type":"dns","src_ip":"10.0.0.1","dest_ip":"10.0.0.2","proto":"UDP"}"#;
    let text = format!("{alert}\n{alert}\n{dns}\n");
    let e = run(text.as_bytes(), None).unwrap_err().to_string();
    assert!(e.contains("only 2 alert, 1 dns events"), "{e}");
    assert!(e.contains("enable the flow type"), "{e}");
}

// ---------------------------------------------------------------- CIC

#[test]
fn cic_with_leading_spaces_and_infinity() {
    let text = "Flow ID, Source IP, Source Port, Destination IP, Destination Port, Protocol, Timestamp, Flow Duration, Total Fwd Packets, Total Backward Packets,Total Length of Fwd Packets, Total Length of Bwd Packets,Flow Bytes/s, Flow Packets/s,FIN Flag Count, RST Flag Count, Label\r
192.168.10.5-104.16.207.165-54865-443-6,104.16.207.165,443,192.168.10.5,54865,6,3/7/2017 8:55,3,2,0,12,0,4000000,666666.6667,0,0,BENIGN\r
192.168.10.3-192.168.10.50-1-80-6,192.168.10.3,1,192.168.10.50,80,6,07/07/2017 3:59:00 PM,0,1,1,0,0,Infinity,Infinity,0,1,DDoS\r
x,192.168.10.3,1,192.168.10.50,80,6,bad time,0,1,1,0,0,NaN,NaN,0,0,DDoS\r
";
    assert_eq!(detect_format(text.as_bytes()), Some(Format::Cic));
    let t = run(text.as_bytes(), None).unwrap();
    assert_eq!(t.flows.len(), 2);
    let f = &t.flows[0];
    assert_eq!(f.src_ip, ip("104.16.207.165"));
    assert_eq!(f.dst_port, 54865);
    assert_eq!(f.proto, Proto::Tcp);
    // Flow Duration is in microseconds.
    assert!((f.duration_s - 3e-6).abs() < 1e-15);
    assert_eq!((f.pkts_out, f.pkts_in, f.bytes_out), (2, 0, 12));
    // No backward packets: an unanswered attempt.
    assert_eq!(f.conn_state, ConnState::S0);
    // 3/7/2017 8:55 is day/month/year: 2017-07-03 08:55 = 1499072100.
    assert_eq!(f.ts, 1_499_072_100.0);
    let g = &t.flows[1];
    assert_eq!(g.ts, 1_499_443_140.0);
    assert_eq!(g.conn_state, ConnState::RSTO);
    assert_eq!(skipped_lines(&t), vec![4]);
    assert!(t.extra_columns.iter().any(|c| c == "Flow Bytes/s"));
    assert!(!t
        .extra_columns
        .iter()
        .any(|c| c.contains("Label") || c == "Flow ID"));
    let col = t
        .extra_columns
        .iter()
        .position(|c| c == "Flow Bytes/s")
        .unwrap();
    assert_eq!(t.extra_row(0)[col], 4_000_000.0);
    assert!(t.extra_row(1)[col].is_nan());
    assert!(t
        .warnings
        .iter()
        .any(|w| matches!(w, ImportWarning::NonFiniteCells { count: 2 })));
    assert!(t.warnings.contains(&ImportWarning::DerivedConnState));
    assert_eq!(t.is_attack(), vec![Some(false), Some(true)]);
}

#[test]
fn cic_machine_learning_csv_without_addresses() {
    // CIC-IDS2017's MachineLearningCSV: no Flow ID, IPs or timestamp.
    let text = " Destination Port, Flow Duration, Total Fwd Packets, Total Backward Packets, Label\n54865,3,2,0,BENIGN\n80,100,3,2,PortScan\n";
    let t = run(text.as_bytes(), Some(Format::Cic)).unwrap();
    assert_eq!(t.flows.len(), 2);
    assert_eq!(t.flows[1].dst_port, 80);
    assert!(t.warnings.contains(&ImportWarning::SynthesizedAddresses));
    assert!(t.warnings.contains(&ImportWarning::SynthesizedTimestamps));
    assert!(t.flows[0].ts < t.flows[1].ts);
}

/// The same two flows (32/16 packets, 6448/1152 bytes, 112.74 s; 3/0 packets, 0 bytes) in
/// the header spellings of the CICFlowMeter versions behind public exports.
const CIC_SPELLINGS: [(&str, &str); 4] = [
    (
        "CIC-IDS2017 MachineLearningCSV",
        " Destination Port, Flow Duration, Total Fwd Packets, Total Backward Packets,Total Length of Fwd Packets, Total Length of Bwd Packets,Flow Bytes/s, Flow IAT Mean, FIN Flag Count, RST Flag Count, Label",
    ),
    (
        "CIC-IDS2017 improved (Engelen et al.), CICFlowMeter-4",
        "Flow ID,Src IP,Src Port,Dst IP,Dst Port,Protocol,Timestamp,Flow Duration,Total Fwd Packet,Total Bwd packets,Total Length of Fwd Packet,Total Length of Bwd Packet,Flow Bytes/s,Flow Packets/s,Flow IAT Mean,FIN Flag Count,RST Flag Count,Label",
    ),
    (
        "CSE-CIC-IDS2018",
        "Dst Port,Protocol,Timestamp,Flow Duration,Tot Fwd Pkts,Tot Bwd Pkts,TotLen Fwd Pkts,TotLen Bwd Pkts,Flow Byts/s,Flow Pkts/s,Flow IAT Mean,FIN Flag Cnt,RST Flag Cnt,Label",
    ),
    (
        "Python cicflowmeter",
        "src_ip,dst_ip,src_port,dst_port,protocol,timestamp,flow_duration,flow_byts_s,flow_pkts_s,tot_fwd_pkts,tot_bwd_pkts,totlen_fwd_pkts,totlen_bwd_pkts,flow_iat_mean,fin_flag_cnt,rst_flag_cnt,label",
    ),
];

/// A row for `header` from named values; columns not named get 0.
fn cic_row(header: &str, values: &[(&str, &str)]) -> String {
    header
        .split(',')
        .map(|h| {
            let key: String = h
                .chars()
                .filter(|c| c.is_ascii_alphanumeric())
                .collect::<String>()
                .to_ascii_lowercase();
            values
                .iter()
                .find(|(k, _)| key.starts_with(k))
                .map(|(_, v)| *v)
                .unwrap_or("0")
        })
        .collect::<Vec<_>>()
        .join(",")
}

#[test]
fn cic_columns_in_every_cicflowmeter_spelling() {
    for (name, header) in CIC_SPELLINGS {
        // Prefixes of the normalized names: "totalfwd"/"totfwd" = packets out, ...
        let row =
            |pkts: (&'static str, &'static str), bytes: (&'static str, &'static str), label| {
                cic_row(
                    header,
                    &[
                        ("flowduration", "112740690"),
                        ("totalfwd", pkts.0),
                        ("totfwd", pkts.0),
                        ("totalb", pkts.1),
                        ("totbwd", pkts.1),
                        ("totallengthoffwd", bytes.0),
                        ("totlenfwd", bytes.0),
                        ("totallengthofbwd", bytes.1),
                        ("totlenbwd", bytes.1),
                        ("flowbyt", "67.4"),
                        ("srcip", "192.168.10.50"),
                        ("dstip", "192.168.10.3"),
                        ("srcport", "56108"),
                        ("dstport", "3268"),
                        ("destinationport", "3268"),
                        ("protocol", "6"),
                        ("timestamp", "2017-07-03 11:55:58"),
                        ("finflag", "1"),
                        ("label", label),
                    ],
                )
            };
        let csv = format!(
            "{header}\n{}\n{}\n",
            row(("32", "16"), ("6448", "1152"), "BENIGN"),
            row(("3", "0"), ("0", "0"), "PortScan")
        );
        assert_eq!(detect_format(csv.as_bytes()), Some(Format::Cic), "{name}");
        let t = run(csv.as_bytes(), None).unwrap_or_else(|e| panic!("{name}: {e}"));
        let f = &t.flows[0];
        assert_eq!(
            (f.pkts_out, f.pkts_in, f.bytes_out, f.bytes_in),
            (32, 16, 6448, 1152),
            "{name}"
        );
        assert!((f.duration_s - 112.74069).abs() < 1e-9, "{name}");
        assert_eq!(f.dst_port, 3268, "{name}");
        assert_eq!(f.conn_state, ConnState::SF, "{name}");
        assert_eq!(t.flows[1].conn_state, ConnState::S0, "{name}");
        // The rate column is a feature, never the byte count.
        assert!(
            t.extra_columns
                .iter()
                .any(|c| c.contains("Byt") || c.contains("byt")),
            "{name}: {:?}",
            t.extra_columns
        );
        let not_found: Vec<_> = t
            .warnings
            .iter()
            .filter(|w| matches!(w, ImportWarning::ColumnNotFound { .. }))
            .collect();
        assert!(not_found.is_empty(), "{name}: {not_found:?}");
        assert_eq!(t.is_attack(), vec![Some(false), Some(true)], "{name}");
    }
}

#[test]
fn missing_and_constant_quantity_columns_are_reported() {
    // A CIC export whose byte columns were dropped: bytes read 0, and the warning says which
    // spellings were tried.
    let csv = "Flow Duration,Tot Fwd Pkts,Tot Bwd Pkts,Flow IAT Mean,Label\n100,3,2,5,BENIGN\n200,4,0,5,BENIGN\n";
    let t = run(csv.as_bytes(), None).unwrap();
    assert_eq!(t.format, Format::Cic);
    assert_eq!(t.flows[0].bytes_out, 0);
    let w: Vec<String> = t.warnings.iter().map(|w| w.to_string()).collect();
    assert!(
        w.contains(&"No column for bytes sent by the source was found (looked for: Total Length of Fwd Packets, TotLen Fwd Pkts, orig_bytes, sbytes, src_bytes, bytes_out): bytes read as 0, so size features say nothing.".to_string()),
        "{w:?}"
    );
    assert!(t.warnings.iter().any(|w| matches!(
        w,
        ImportWarning::ColumnNotFound { quantity: Quantity::BytesIn, looked_for } if !looked_for.is_empty()
    )));
    // Packets and duration were found: no warning about them.
    assert!(!t.warnings.iter().any(|w| matches!(
        w,
        ImportWarning::ColumnNotFound {
            quantity: Quantity::PktsOut | Quantity::PktsIn | Quantity::Duration,
            ..
        }
    )));

    // A column present but holding one value in every row.
    let csv = "src_ip,dst_ip,dst_port,duration,bytes_out,bytes_in,pkts_out,pkts_in\n10.0.0.1,10.0.0.2,80,1.5,0,300,1,2\n10.0.0.1,10.0.0.3,80,0.5,0,200,1,2\n10.0.0.1,10.0.0.4,80,2.5,0,100,1,3\n";
    let t = run(csv.as_bytes(), None).unwrap();
    assert_eq!(t.format, Format::GenericCsv);
    let constant: Vec<String> = t
        .warnings
        .iter()
        .filter(|w| matches!(w, ImportWarning::ConstantColumn { .. }))
        .map(|w| w.to_string())
        .collect();
    assert_eq!(
        constant,
        [
            "Column \"bytes_out\" (bytes sent by the source) holds 0 in all 3 rows: size features say nothing.",
            "Column \"pkts_out\" (packets sent by the source) holds 1 in all 3 rows: packet-count features say nothing.",
        ]
    );
    // With an explicit mapping nothing was searched: the warning lists no spellings.
    let m = ColumnMapping {
        src_ip: Some(0),
        dst_ip: Some(1),
        bytes_in: Some(5),
        ..ColumnMapping::default()
    };
    let t = import_with_mapping(
        csv.as_bytes(),
        Some(Format::GenericCsv),
        Some(&m),
        &ImportLimits::default(),
        &mut |_| true,
    )
    .unwrap();
    let w: Vec<String> = t.warnings.iter().map(|w| w.to_string()).collect();
    assert!(
        w.contains(&"No column holds packets sent back by the destination: packets read as 0, so packet-count features say nothing and, without a state column, every TCP flow looks unanswered.".to_string()),
        "{w:?}"
    );
}

// ---------------------------------------------------------------- KDD, UNSW, generic

#[test]
fn kdd_rows_with_cr_line_ends() {
    let text = "0,tcp,ftp_data,SF,491,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,2,2,0.00,0.00,0.00,0.00,1.00,0.00,0.00,150,25,0.17,0.03,0.17,0.00,0.00,0.00,0.05,0.00,normal,20\r\
0,udp,other,SF,146,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,13,1,0.00,0.00,0.00,0.00,0.08,0.15,0.00,255,1,0.00,0.60,0.88,0.00,0.00,0.00,0.00,0.00,normal,15\r\
0,tcp,private,S0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,123,6,1.00,1.00,0.00,0.00,0.05,0.07,0.00,255,26,0.10,0.05,0.00,0.00,1.00,1.00,0.00,0.00,neptune,19\r\
0,tcp,private,S0\r\
2,tcp,http,REJ,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1,1,0.00,0.00,1.00,1.00,1.00,0.00,0.00,255,1,0.00,0.60,0.88,0.00,0.00,0.00,1.00,1.00,smurf.\r";
    assert_eq!(detect_format(text.as_bytes()), Some(Format::Kdd));
    let t = run(text.as_bytes(), None).unwrap();
    assert_eq!(t.flows.len(), 4);
    assert_eq!(t.flows[0].bytes_out, 491);
    assert_eq!(t.flows[0].service, Service::Ftp);
    assert_eq!(t.flows[1].proto, Proto::Udp);
    assert_eq!(t.flows[2].conn_state, ConnState::S0);
    assert_eq!(t.flows[3].conn_state, ConnState::REJ);
    assert_eq!(t.flows[3].duration_s, 2.0);
    assert_eq!(skipped_lines(&t), vec![4]);
    assert!(t.warnings.contains(&ImportWarning::SynthesizedAddresses));
    // KDD Cup 99 writes "smurf." with a dot; the label is the attack name.
    assert_eq!(
        t.label_names,
        vec!["normal".to_string(), "neptune".into(), "smurf".into()]
    );
    assert_eq!(
        t.is_attack(),
        vec![Some(false), Some(false), Some(true), Some(true)]
    );
    // 41 features minus the three text ones and the five mapped numeric ones... all
    // numeric ones that are not mapped stay as extras.
    assert!(t.extra_columns.contains(&"serror_rate".to_string()));
    assert!(!t.extra_columns.contains(&"label".to_string()));
    assert!(!t.extra_columns.contains(&"difficulty".to_string()));
}

#[test]
fn unsw_with_binary_target() {
    let text = "id,spkts,dpkts,sbytes,dbytes,sttl,target\n1,2,0,496,0,254,0\n2,6,4,1762,300,62,1\n";
    assert_eq!(detect_format(text.as_bytes()), Some(Format::Unsw));
    let t = run(text.as_bytes(), None).unwrap();
    assert_eq!(t.flows.len(), 2);
    assert_eq!((t.flows[1].pkts_out, t.flows[1].pkts_in), (6, 4));
    assert_eq!(t.flows[1].bytes_in, 300);
    assert_eq!(t.is_attack(), vec![Some(false), Some(true)]);
    assert_eq!(t.extra_columns, vec!["sttl"]);
    assert!(t.warnings.contains(&ImportWarning::BytesIncludeHeaders));
}

#[test]
fn generic_csv_with_explicit_and_suggested_mapping() {
    let text = "when;from;to;dport;kind;up;down;ms;verdict\n2024-01-02T03:04:05Z;10.0.0.1;10.0.0.2;443;tcp;100;2000;1500;ok\n2024-01-02T03:04:06Z;10.0.0.1;10.0.0.3;22;tcp;10;0;0;bad\n2024-01-02T03:04:07Z;10.0.0.1;10.0.0.3;x;tcp;10;0;0;bad\n";
    let mapping = ColumnMapping {
        time: Some(0),
        src_ip: Some(1),
        dst_ip: Some(2),
        dst_port: Some(3),
        proto: Some(4),
        bytes_out: Some(5),
        bytes_in: Some(6),
        duration: Some(7),
        duration_unit: DurationUnit::Milliseconds,
        label: Some(8),
        ..ColumnMapping::default()
    };
    let t = import_with_mapping(
        text.as_bytes(),
        Some(Format::GenericCsv),
        Some(&mapping),
        &ImportLimits::default(),
        &mut |_| true,
    )
    .unwrap();
    assert_eq!(t.flows.len(), 2);
    let f = &t.flows[0];
    // 2024-01-02T03:04:05Z = 1704164645.
    assert_eq!(f.ts, 1_704_164_645.0);
    assert_eq!(f.dst_ip, ip("10.0.0.2"));
    assert_eq!(f.service, Service::Ssl);
    assert_eq!(f.duration_s, 1.5);
    assert_eq!((f.bytes_out, f.bytes_in), (100, 2000));
    assert_eq!(skipped_lines(&t), vec![4]);
    assert_eq!(t.label_names, vec!["ok", "bad"]);

    // Suggested from a header written with common names.
    let header: Vec<String> =
        "ts,src_ip,src_port,dst_ip,dst_port,protocol,duration,bytes_out,bytes_in,label"
            .split(',')
            .map(String::from)
            .collect();
    let m = suggest_mapping(&header);
    assert_eq!(
        (m.time, m.src_ip, m.src_port, m.dst_ip, m.dst_port, m.proto, m.duration, m.label),
        (
            Some(0),
            Some(1),
            Some(2),
            Some(3),
            Some(4),
            Some(5),
            Some(6),
            Some(9)
        )
    );
    assert_eq!((m.bytes_out, m.bytes_in), (Some(7), Some(8)));

    // A mapping that points past the header is refused up front.
    let bad = ColumnMapping {
        label: Some(42),
        ..ColumnMapping::default()
    };
    assert!(matches!(
        import_with_mapping(
            text.as_bytes(),
            Some(Format::GenericCsv),
            Some(&bad),
            &ImportLimits::default(),
            &mut |_| true
        ),
        Err(ImportError::MappingOutOfRange {
            column_index: 42,
            columns: 9
        })
    ));
}

#[test]
fn benign_names() {
    for n in ["BENIGN", "normal", " Normal ", "benign", "normal."] {
        assert!(is_benign(n), "{n}");
    }
    for n in ["DDoS", "neptune", "Malicious", "attack"] {
        assert!(!is_benign(n), "{n}");
    }
}

// ---------------------------------------------------------------- packet builders

const ETH_IPV4: u16 = 0x0800;
const ETH_IPV6: u16 = 0x86DD;
const F_FIN: u8 = 0x01;
const F_SYN: u8 = 0x02;
const F_RST: u8 = 0x04;
const F_PSH: u8 = 0x08;
const F_ACK: u8 = 0x10;

fn eth(ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2];
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

fn vlan(tags: &[(u16, u16)], ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2];
    for (tpid, id) in tags {
        f.extend_from_slice(&tpid.to_be_bytes());
        f.extend_from_slice(&id.to_be_bytes());
    }
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

fn ipv4_frag(src: [u8; 4], dst: [u8; 4], proto: u8, id: u16, frag: u16, payload: &[u8]) -> Vec<u8> {
    let total = (20 + payload.len()) as u16;
    let mut p = vec![0x45, 0];
    p.extend_from_slice(&total.to_be_bytes());
    p.extend_from_slice(&id.to_be_bytes());
    p.extend_from_slice(&frag.to_be_bytes());
    p.extend_from_slice(&[64, proto, 0, 0]);
    p.extend_from_slice(&src);
    p.extend_from_slice(&dst);
    p.extend_from_slice(payload);
    p
}

fn ipv4(src: [u8; 4], dst: [u8; 4], proto: u8, payload: &[u8]) -> Vec<u8> {
    ipv4_frag(src, dst, proto, 1, 0, payload)
}

fn ipv6(src: [u8; 16], dst: [u8; 16], next: u8, payload: &[u8]) -> Vec<u8> {
    let mut p = vec![0x60, 0, 0, 0];
    p.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    p.extend_from_slice(&[next, 64]);
    p.extend_from_slice(&src);
    p.extend_from_slice(&dst);
    p.extend_from_slice(payload);
    p
}

fn tcp(sport: u16, dport: u16, seq: u32, ack: u32, flags: u8, data_len: usize) -> Vec<u8> {
    let mut t = Vec::new();
    t.extend_from_slice(&sport.to_be_bytes());
    t.extend_from_slice(&dport.to_be_bytes());
    t.extend_from_slice(&seq.to_be_bytes());
    t.extend_from_slice(&ack.to_be_bytes());
    t.extend_from_slice(&[0x50, flags, 0xFF, 0xFF, 0, 0, 0, 0]);
    t.extend(std::iter::repeat_n(b'x', data_len));
    t
}

fn udp(sport: u16, dport: u16, data_len: usize) -> Vec<u8> {
    let mut u = Vec::new();
    u.extend_from_slice(&sport.to_be_bytes());
    u.extend_from_slice(&dport.to_be_bytes());
    u.extend_from_slice(&((8 + data_len) as u16).to_be_bytes());
    u.extend_from_slice(&[0, 0]);
    u.extend(std::iter::repeat_n(b'u', data_len));
    u
}

fn icmp(icmp_type: u8, data_len: usize) -> Vec<u8> {
    let mut i = vec![icmp_type, 0, 0, 0, 0, 1, 0, 1];
    i.extend(std::iter::repeat_n(b'i', data_len));
    i
}

fn pcap_file(packets: &[(f64, Vec<u8>)], big_endian: bool, link_type: u32) -> Vec<u8> {
    let w32 = |v: u32| {
        if big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let w16 = |v: u16| {
        if big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let mut f = Vec::new();
    f.extend_from_slice(&w32(0xA1B2_C3D4));
    f.extend_from_slice(&w16(2));
    f.extend_from_slice(&w16(4));
    f.extend_from_slice(&w32(0));
    f.extend_from_slice(&w32(0));
    f.extend_from_slice(&w32(65535));
    f.extend_from_slice(&w32(link_type));
    for (ts, data) in packets {
        let sec = ts.floor();
        f.extend_from_slice(&w32(sec as u32));
        f.extend_from_slice(&w32(((ts - sec) * 1e6).round() as u32));
        f.extend_from_slice(&w32(data.len() as u32));
        f.extend_from_slice(&w32(data.len() as u32));
        f.extend_from_slice(data);
    }
    f
}

/// pcapng with one interface at nanosecond resolution; the last packet as a simple block.
fn pcapng_file(packets: &[(f64, Vec<u8>)], big_endian: bool) -> Vec<u8> {
    let w32 = |v: u32| {
        if big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let w16 = |v: u16| {
        if big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let block = |f: &mut Vec<u8>, kind: u32, body: &[u8]| {
        let mut body = body.to_vec();
        while !body.len().is_multiple_of(4) {
            body.push(0);
        }
        let len = (body.len() + 12) as u32;
        f.extend_from_slice(&w32(kind));
        f.extend_from_slice(&w32(len));
        f.extend_from_slice(&body);
        f.extend_from_slice(&w32(len));
    };
    let mut f = Vec::new();
    let mut shb = Vec::new();
    shb.extend_from_slice(&w32(0x1A2B_3C4D));
    shb.extend_from_slice(&w16(1));
    shb.extend_from_slice(&w16(0));
    shb.extend_from_slice(&[0xFF; 8]);
    block(&mut f, 0x0A0D_0D0A, &shb);
    let mut idb = Vec::new();
    idb.extend_from_slice(&w16(1));
    idb.extend_from_slice(&w16(0));
    idb.extend_from_slice(&w32(0));
    // if_tsresol = 9: nanoseconds.
    idb.extend_from_slice(&w16(9));
    idb.extend_from_slice(&w16(1));
    idb.extend_from_slice(&[9, 0, 0, 0]);
    idb.extend_from_slice(&w16(0));
    idb.extend_from_slice(&w16(0));
    block(&mut f, 1, &idb);
    // A name-resolution block, which must be skipped.
    block(&mut f, 4, &[0, 0, 0, 0]);
    for (ts, data) in packets {
        let units = (ts * 1e9).round() as u64;
        let mut epb = Vec::new();
        epb.extend_from_slice(&w32(0));
        epb.extend_from_slice(&w32((units >> 32) as u32));
        epb.extend_from_slice(&w32(units as u32));
        epb.extend_from_slice(&w32(data.len() as u32));
        epb.extend_from_slice(&w32(data.len() as u32));
        epb.extend_from_slice(data);
        block(&mut f, 6, &epb);
    }
    f
}

const A: [u8; 4] = [10, 0, 0, 1];
const B: [u8; 4] = [10, 0, 0, 2];
const DNS: [u8; 4] = [10, 0, 0, 53];
const PINGED: [u8; 4] = [10, 0, 0, 9];

fn v6(last: u8) -> [u8; 16] {
    let mut a = [0u8; 16];
    a[0] = 0x20;
    a[1] = 0x01;
    a[2] = 0x0d;
    a[3] = 0xb8;
    a[15] = last;
    a
}

fn tcp4(src: [u8; 4], dst: [u8; 4], seg: Vec<u8>) -> Vec<u8> {
    eth(ETH_IPV4, &ipv4(src, dst, 6, &seg))
}

/// The capture every pcap test uses, with the flows Zeek would log for it.
fn capture() -> Vec<(f64, Vec<u8>)> {
    let mut p = vec![
        // Handshake, 100 bytes each way... 100 from A, 200 from B, FIN both ways.
        (1.0, tcp4(A, B, tcp(40000, 80, 1000, 0, F_SYN, 0))),
        (
            1.1,
            tcp4(B, A, tcp(80, 40000, 5000, 1001, F_SYN | F_ACK, 0)),
        ),
        (1.2, tcp4(A, B, tcp(40000, 80, 1001, 5001, F_ACK, 0))),
        (
            1.3,
            tcp4(A, B, tcp(40000, 80, 1001, 5001, F_PSH | F_ACK, 100)),
        ),
        (
            1.4,
            tcp4(B, A, tcp(80, 40000, 5001, 1101, F_PSH | F_ACK, 200)),
        ),
        (1.5, tcp4(A, B, tcp(40000, 80, 1101, 5201, F_ACK, 0))),
        (
            1.6,
            tcp4(A, B, tcp(40000, 80, 1101, 5201, F_FIN | F_ACK, 0)),
        ),
        (
            1.7,
            tcp4(B, A, tcp(80, 40000, 5201, 1102, F_FIN | F_ACK, 0)),
        ),
        (1.8, tcp4(A, B, tcp(40000, 80, 1102, 5202, F_ACK, 0))),
        // A SYN answered by a RST: rejected.
        (2.0, tcp4(A, B, tcp(40001, 81, 7000, 0, F_SYN, 0))),
        (2.01, tcp4(B, A, tcp(81, 40001, 0, 7001, F_RST | F_ACK, 0))),
        // DNS over UDP, answered.
        (3.0, eth(ETH_IPV4, &ipv4(A, DNS, 17, &udp(33333, 53, 30)))),
        (3.05, eth(ETH_IPV4, &ipv4(DNS, A, 17, &udp(53, 33333, 60)))),
        // A reply whose query was not captured: Zeek flips the roles to the client.
        (3.5, eth(ETH_IPV4, &ipv4(DNS, A, 17, &udp(53, 44444, 20)))),
        // ICMP echo and reply, 56 bytes of data each.
        (4.0, eth(ETH_IPV4, &ipv4(A, PINGED, 1, &icmp(8, 56)))),
        (4.001, eth(ETH_IPV4, &ipv4(PINGED, A, 1, &icmp(0, 56)))),
        // A SYN in 802.1Q, and one in QinQ, never answered.
        (
            5.0,
            vlan(
                &[(0x8100, 7)],
                ETH_IPV4,
                &ipv4(
                    [10, 1, 0, 1],
                    [10, 1, 0, 2],
                    6,
                    &tcp(50000, 22, 1, 0, F_SYN, 0),
                ),
            ),
        ),
        (
            5.5,
            vlan(
                &[(0x88A8, 100), (0x8100, 7)],
                ETH_IPV4,
                &ipv4(
                    [10, 1, 0, 3],
                    [10, 1, 0, 2],
                    6,
                    &tcp(50001, 22, 1, 0, F_SYN, 0),
                ),
            ),
        ),
    ];
    // IPv6 UDP behind a hop-by-hop extension header (8 bytes: next header, length 0, pad).
    let mut hbh = vec![17, 0, 1, 4, 0, 0, 0, 0];
    hbh.extend_from_slice(&udp(5000, 6000, 10));
    p.push((6.0, eth(ETH_IPV6, &ipv6(v6(1), v6(2), 0, &hbh))));
    // A UDP datagram of 1000 bytes in two IPv4 fragments.
    let mut first = udp(7000, 7001, 1000);
    first.truncate(8 + 504);
    p.push((7.0, eth(ETH_IPV4, &ipv4_frag(A, B, 17, 99, 0x2000, &first))));
    p.push((
        7.001,
        eth(ETH_IPV4, &ipv4_frag(A, B, 17, 99, 64, &[b'u'; 496])),
    ));
    // Two UDP packets on one 5-tuple, 120 s apart: the 60 s timeout splits them.
    p.push((10.0, eth(ETH_IPV4, &ipv4(A, B, 17, &udp(9999, 9000, 1)))));
    p.push((130.0, eth(ETH_IPV4, &ipv4(A, B, 17, &udp(9999, 9000, 1)))));
    // ARP: not IP.
    p.push((131.0, eth(0x0806, &[0u8; 28])));
    p
}

fn find(flows: &[FlowRecord], sport: u16, dport: u16) -> Vec<&FlowRecord> {
    flows
        .iter()
        .filter(|f| f.src_port == sport && f.dst_port == dport)
        .collect()
}

fn check_capture_flows(t: &ImportedTraffic) {
    let flows = &t.flows;
    let f = find(flows, 40000, 80);
    assert_eq!(f.len(), 1);
    let f = f[0];
    assert_eq!((f.src_ip, f.dst_ip), (ip("10.0.0.1"), ip("10.0.0.2")));
    assert_eq!(f.conn_state, ConnState::SF);
    assert_eq!(f.history.as_str(), "ShADdFf");
    assert_eq!((f.pkts_out, f.pkts_in), (6, 3));
    assert_eq!((f.bytes_out, f.bytes_in), (100, 200));
    assert!((f.duration_s - 0.8).abs() < 1e-6);
    assert_eq!(f.service, Service::Http);
    assert_eq!(f.ts, 1.0);

    let r = find(flows, 40001, 81)[0];
    assert_eq!(r.conn_state, ConnState::REJ);
    assert_eq!(r.history.as_str(), "Sr");
    assert_eq!(
        (r.pkts_out, r.pkts_in, r.bytes_out, r.bytes_in),
        (1, 1, 0, 0)
    );

    let d = find(flows, 33333, 53)[0];
    assert_eq!((d.conn_state, d.history.as_str()), (ConnState::SF, "Dd"));
    assert_eq!((d.bytes_out, d.bytes_in), (30, 60));
    assert_eq!(d.service, Service::Dns);

    let flipped = find(flows, 44444, 53)[0];
    assert_eq!(flipped.src_ip, ip("10.0.0.1"));
    assert_eq!(flipped.history.as_str(), "^d");
    assert_eq!(flipped.conn_state, ConnState::SHR);
    assert_eq!(
        (flipped.pkts_out, flipped.pkts_in, flipped.bytes_in),
        (0, 1, 20)
    );

    let ping = find(flows, 8, 0)[0];
    assert_eq!(ping.proto, Proto::Icmp);
    assert_eq!(ping.dst_ip, ip("10.0.0.9"));
    assert_eq!(
        (ping.pkts_out, ping.pkts_in, ping.bytes_out, ping.bytes_in),
        (1, 1, 56, 56)
    );
    assert_eq!(ping.conn_state, ConnState::OTH);

    let syns: Vec<_> = flows.iter().filter(|f| f.dst_port == 22).collect();
    assert_eq!(syns.len(), 2, "both VLAN-tagged SYNs decode");
    for s in syns {
        assert_eq!((s.conn_state, s.history.as_str()), (ConnState::S0, "S"));
    }

    let six = find(flows, 5000, 6000)[0];
    assert_eq!(six.src_ip, ip("2001:db8::1"));
    assert_eq!((six.bytes_out, six.conn_state), (10, ConnState::S0));

    let frag = find(flows, 7000, 7001);
    assert_eq!(frag.len(), 1);
    assert_eq!((frag[0].pkts_out, frag[0].bytes_out), (1, 1000));

    assert_eq!(find(flows, 9999, 9000).len(), 2, "UDP inactivity timeout");
    assert_eq!(flows.len(), 11);
    let stats = t.packet_stats.unwrap();
    assert_eq!(stats.packets, capture().len() as u64);
    assert_eq!(stats.non_ip, 1);
    assert_eq!(stats.later_fragments, 1);
    // Sorted by start time.
    assert!(flows.windows(2).all(|w| w[0].ts <= w[1].ts));
    assert!(t.truth.iter().all(Option::is_none) && !t.has_labels);
}

#[test]
fn pcap_both_byte_orders_give_zeek_flows() {
    for big in [false, true] {
        let file = pcap_file(&capture(), big, 1);
        assert_eq!(detect_format(&file), Some(Format::Pcap));
        let t = run(&file, None).unwrap();
        assert_eq!(t.format, Format::Pcap);
        check_capture_flows(&t);
    }
}

#[test]
fn pcapng_both_byte_orders_give_the_same_flows() {
    for big in [false, true] {
        let file = pcapng_file(&capture(), big);
        assert_eq!(detect_format(&file), Some(Format::Pcapng));
        let t = run(&file, None).unwrap();
        assert_eq!(t.format, Format::Pcapng);
        check_capture_flows(&t);
    }
}

/// A client at A sending `chunks` (sequence offset after the SYN, length) to a server at B
/// that acknowledges `acks` (offsets); the SYN is at `isn`, the server's at 9000. Only the
/// segments listed are in the capture. Then FIN both ways.
fn transfer(isn: u32, chunks: &[(u32, usize)], acks: &[u32]) -> Vec<(f64, Vec<u8>)> {
    let (c, s) = (isn.wrapping_add(1), 9001u32);
    let mut p = vec![
        (1.0, tcp4(A, B, tcp(40000, 80, isn, 0, F_SYN, 0))),
        (1.1, tcp4(B, A, tcp(80, 40000, 9000, c, F_SYN | F_ACK, 0))),
        (1.2, tcp4(A, B, tcp(40000, 80, c, s, F_ACK, 0))),
    ];
    let mut ts = 1.3;
    for &(off, len) in chunks {
        p.push((
            ts,
            tcp4(
                A,
                B,
                tcp(40000, 80, c.wrapping_add(off), s, F_PSH | F_ACK, len),
            ),
        ));
        ts += 0.01;
    }
    for &off in acks {
        p.push((
            ts,
            tcp4(B, A, tcp(80, 40000, s, c.wrapping_add(off), F_ACK, 0)),
        ));
        ts += 0.01;
    }
    let end = acks.iter().copied().max().unwrap_or(0);
    let fin = c.wrapping_add(end);
    p.push((ts, tcp4(A, B, tcp(40000, 80, fin, s, F_FIN | F_ACK, 0))));
    p.push((
        ts + 0.01,
        tcp4(
            B,
            A,
            tcp(80, 40000, s, fin.wrapping_add(1), F_FIN | F_ACK, 0),
        ),
    ));
    p.push((
        ts + 0.02,
        tcp4(A, B, tcp(40000, 80, fin.wrapping_add(1), s + 1, F_ACK, 0)),
    ));
    p
}

fn one_tcp_flow(p: &[(f64, Vec<u8>)]) -> (FlowRecord, Vec<ImportWarning>) {
    let t = run(&pcap_file(p, false, 1), None).unwrap();
    let tcp: Vec<&FlowRecord> = t.flows.iter().filter(|f| f.proto == Proto::Tcp).collect();
    assert_eq!(tcp.len(), 1, "{:?}", t.flows);
    (tcp[0].clone(), t.warnings)
}

fn gap_warning(w: &[ImportWarning]) -> Option<(u64, u64)> {
    w.iter().find_map(|w| match w {
        ImportWarning::CaptureGaps {
            connections,
            missed_bytes,
        } => Some((*connections, *missed_bytes)),
        _ => None,
    })
}

#[test]
fn a_stray_ack_far_from_the_sequence_space_does_not_become_bytes() {
    // 300 bytes each way; then one ACK from each side whose number is 3.2e9 away from the
    // other side's sequence space, backwards and forwards (mod 2^32 one is 1.09e9 ahead,
    // which a plain signed 32-bit comparison takes as "in window").
    for away in [3_200_000_000u32, 3_200_000_000u32.wrapping_neg()] {
        let mut p = transfer(1000, &[(0, 300)], &[300]);
        let fin_at = p.len() - 3;
        let (c, s) = (1001u32, 9001u32);
        p.insert(
            fin_at,
            (
                1.5,
                tcp4(B, A, tcp(80, 40000, s, c.wrapping_add(away), F_ACK, 0)),
            ),
        );
        p.insert(
            fin_at,
            (
                1.51,
                tcp4(
                    A,
                    B,
                    tcp(40000, 80, c + 300, s.wrapping_add(away), F_ACK, 0),
                ),
            ),
        );
        let (f, w) = one_tcp_flow(&p);
        assert_eq!((f.bytes_out, f.bytes_in), (300, 0), "{away}: {f:?}");
        assert_eq!(f.conn_state, ConnState::SF);
        assert_eq!(gap_warning(&w), None, "{w:?}");
        if away < 1 << 31 {
            assert!(
                w.iter().any(|w| matches!(
                    w,
                    ImportWarning::ImplausibleSequenceNumbers {
                        connections: 1,
                        numbers: 2
                    }
                )),
                "{w:?}"
            );
        }
    }
}

#[test]
fn sequence_numbers_that_wrap_past_2_32_count_normally() {
    // The client's numbering starts 1,500 below 2^32 and 3,000 bytes cross the wrap.
    let isn = u32::MAX - 1500;
    let p = transfer(isn, &[(0, 1000), (1000, 1000), (2000, 1000)], &[1000, 3000]);
    let (f, w) = one_tcp_flow(&p);
    assert_eq!((f.bytes_out, f.bytes_in), (3000, 0), "{f:?}");
    assert_eq!(f.conn_state, ConnState::SF);
    assert_eq!(gap_warning(&w), None, "{w:?}");
    assert!(
        !w.iter()
            .any(|w| matches!(w, ImportWarning::ImplausibleSequenceNumbers { .. })),
        "{w:?}"
    );
}

#[test]
fn a_segment_missing_from_the_capture_is_counted_as_missed() {
    // 3 × 1,000 bytes sent and acknowledged, the middle segment not captured.
    let p = transfer(1000, &[(0, 1000), (2000, 1000)], &[1000, 3000]);
    let (f, w) = one_tcp_flow(&p);
    assert_eq!(
        (f.bytes_out, f.bytes_in),
        (3000, 0),
        "Zeek counts the gap: {f:?}"
    );
    assert_eq!(gap_warning(&w), Some((1, 1000)), "{w:?}");
    // The last segment not captured, only acknowledged: missed too.
    let p = transfer(1000, &[(0, 1000), (1000, 1000)], &[1000, 3000]);
    assert_eq!(gap_warning(&one_tcp_flow(&p).1), Some((1, 1000)));
    // Captured out of order: the late segment fills the hole, nothing was missed.
    let p = transfer(
        1000,
        &[(0, 1000), (2000, 1000), (1000, 1000)],
        &[1000, 3000],
    );
    let (f, w) = one_tcp_flow(&p);
    assert_eq!((f.bytes_out, f.bytes_in), (3000, 0), "{f:?}");
    assert_eq!(gap_warning(&w), None, "{w:?}");
}

#[test]
fn a_far_jump_two_packets_agree_on_is_a_real_gap() {
    // The capture missed 100 MB (as Zeek's ftp/bigtransfer.pcap misses 5.4 GB): the next
    // segment is far ahead, and the server's ACK confirms it.
    let gap = 100_000_000u32;
    let p = transfer(1000, &[(0, 1000), (gap, 1000)], &[1000, gap + 1000]);
    let (f, w) = one_tcp_flow(&p);
    assert_eq!(f.bytes_out, u64::from(gap) + 1000, "{f:?}");
    assert_eq!(gap_warning(&w), Some((1, u64::from(gap) - 1000)), "{w:?}");
}

#[test]
fn raw_ip_and_linux_cooked_link_types() {
    let seg = tcp(1234, 443, 1, 0, F_SYN, 0);
    let raw = ipv4(A, B, 6, &seg);
    let mut sll = vec![0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0];
    sll.extend_from_slice(&ETH_IPV4.to_be_bytes());
    sll.extend_from_slice(&raw);
    let mut null = 2u32.to_le_bytes().to_vec();
    null.extend_from_slice(&raw);
    for (lt, frame) in [(101, raw.clone()), (113, sll), (0, null)] {
        let t = run(&pcap_file(&[(1.0, frame)], false, lt), None).unwrap();
        assert_eq!(t.flows.len(), 1, "link type {lt}");
        assert_eq!(t.flows[0].dst_port, 443);
        assert_eq!(t.flows[0].service, Service::Ssl);
    }
    // Nothing but an undecoded link type: refused, the link type named.
    let t = run(&pcap_file(&[(1.0, raw)], false, 147), None);
    assert!(matches!(
        t,
        Err(ImportError::CaptureUnusable {
            why: CaptureRefusal::LinkTypeNotDecoded { .. },
            ..
        })
    ));
}

/// An 802.11 data frame from a station to its access point: `flags` is the frame control's
/// second byte (0x01 ToDS, 0x40 Protected), QoS data when `qos`, with LLC/SNAP and `ip`.
fn wifi_data(qos: bool, flags: u8, ip: &[u8]) -> Vec<u8> {
    let mut f = vec![if qos { 0x88 } else { 0x08 }, flags];
    f.resize(24, 0);
    if qos {
        f.extend_from_slice(&[0, 0]);
    }
    f.extend_from_slice(&[0xAA, 0xAA, 0x03, 0, 0, 0, 0x08, 0x00]);
    f.extend_from_slice(ip);
    f
}

#[test]
fn wifi_data_frames_become_flows_bare_under_radiotap_and_under_ppi() {
    let syn = ipv4(A, B, 6, &tcp(1234, 443, 1, 0, F_SYN, 0));
    let synack = ipv4(B, A, 6, &tcp(443, 1234, 9, 2, F_SYN | F_ACK, 0));
    let beacon = vec![0x80, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF];
    let frames = [
        wifi_data(false, 0x01, &syn),
        wifi_data(true, 0x02, &synack),
        beacon,
    ];
    // Radiotap: 8-byte header with no field present. PPI: 8-byte header naming link type 105.
    let radiotap = |f: &Vec<u8>| [&[0u8, 0, 8, 0, 0, 0, 0, 0][..], f].concat();
    let ppi = |f: &Vec<u8>| [&[0u8, 0, 8, 0, 105, 0, 0, 0][..], f].concat();
    for (lt, wrap) in [
        (
            105,
            &(|f: &Vec<u8>| f.clone()) as &dyn Fn(&Vec<u8>) -> Vec<u8>,
        ),
        (127, &radiotap),
        (192, &ppi),
    ] {
        let packets: Vec<(f64, Vec<u8>)> = frames
            .iter()
            .enumerate()
            .map(|(i, f)| (i as f64, wrap(f)))
            .collect();
        let t = run(&pcap_file(&packets, false, lt), None).unwrap();
        assert_eq!(t.flows.len(), 1, "link type {lt}");
        assert_eq!((t.flows[0].pkts_out, t.flows[0].pkts_in), (1, 1));
        assert_eq!(t.flows[0].dst_port, 443);
        let stats = t.packet_stats.unwrap();
        assert_eq!((stats.ip_packets, stats.non_ip), (2, 1), "link type {lt}");
    }
}

#[test]
fn an_encrypted_wifi_capture_is_refused_saying_so_and_a_mixed_one_warns() {
    let syn = ipv4(A, B, 6, &tcp(1234, 443, 1, 0, F_SYN, 0));
    // Protected frames: the body after the header would be the CCMP header and ciphertext.
    let sealed: Vec<(f64, Vec<u8>)> = (0..5)
        .map(|i| (i as f64, wifi_data(true, 0x41, &[0x5A; 40])))
        .collect();
    let text = refusal_text(&pcap_file(&sealed, false, 105));
    assert_eq!(
        text,
        "pcap capture: 0 of 5 packets were IP: 5 802.11 frames encrypted (WEP/WPA, unreadable without the key); nothing to analyse"
    );
    let mut mixed = sealed.clone();
    mixed.push((9.0, wifi_data(false, 0x01, &syn)));
    let t = run(&pcap_file(&mixed, false, 105), None).unwrap();
    assert_eq!(t.flows.len(), 1);
    assert_eq!(t.packet_stats.unwrap().undecodable, 5);
    let warning = t
        .warnings
        .iter()
        .find(|w| matches!(w, ImportWarning::PacketsUndecodable { .. }))
        .expect("a warning about the encrypted frames")
        .to_string();
    assert!(
        warning.starts_with("5 packets could not be read")
            && warning.contains("5 802.11 frames encrypted"),
        "{warning}"
    );
}

#[test]
fn real_wifi_captures_import() {
    // The 802.11 captures of tcpdump's and Zeek's test suites that carry IP in data frames
    // (the others hold only management frames): radiotap (127) and bare 802.11 (105).
    let mut imported = 0;
    for name in [
        "tcpdump_tests/tests/ieee802.11_htc.pcap",
        "zeek_traces/testing/btest/Traces/radiotap.pcap",
        "zeek_traces/testing/btest/Traces/wlanmon.pcap",
    ] {
        let Some(bytes) = shared(name) else {
            return;
        };
        let t = run(&bytes, None).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!t.flows.is_empty(), "{name}");
        imported += 1;
    }
    println!("{imported} 802.11 captures imported");
}

#[test]
fn cisco_hdlc_and_ppp_framings_with_compressed_protocol_fields_become_flows() {
    let syn = ipv4(A, B, 6, &tcp(1234, 443, 1, 0, F_SYN, 0));
    let frame = |prefix: &[u8]| [prefix, &syn[..]].concat();
    let pppoe = |protocol: &[u8]| {
        let mut session = vec![0x11, 0x00, 0x00, 0x01];
        session.extend_from_slice(&((syn.len() + protocol.len()) as u16).to_be_bytes());
        session.extend_from_slice(protocol);
        session.extend_from_slice(&syn);
        eth(0x8864, &session)
    };
    for (what, link_type, bytes) in [
        ("Cisco HDLC", 104, frame(&[0x0F, 0x00, 0x08, 0x00])),
        (
            "Cisco HDLC with direction",
            205,
            frame(&[1, 0x8F, 0x00, 0x08, 0x00]),
        ),
        ("PPP with FF 03", 9, frame(&[0xFF, 0x03, 0x00, 0x21])),
        ("PPP, compressed protocol", 9, frame(&[0x21])),
        ("PPP in HDLC framing", 50, frame(&[0xFF, 0x03, 0x00, 0x21])),
        ("PPP in HDLC, compressed", 50, frame(&[0xFF, 0x03, 0x21])),
        ("Cisco PPP in HDLC", 50, frame(&[0x0F, 0x00, 0x08, 0x00])),
        (
            "PPP with direction",
            204,
            frame(&[0, 0xFF, 0x03, 0x00, 0x21]),
        ),
        ("PPPoE session", 1, pppoe(&[0x00, 0x21])),
        ("PPPoE session, compressed", 1, pppoe(&[0x21])),
    ] {
        let t = run(&pcap_file(&[(1.0, bytes)], false, link_type), None)
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(t.flows.len(), 1, "{what}");
        assert_eq!(t.flows[0].dst_port, 443, "{what}");
    }
    // Keepalives only: refused, named as what they are.
    let slarp: Vec<(f64, Vec<u8>)> = (0..3)
        .map(|i| (i as f64, vec![0x8F, 0x00, 0x80, 0x35, 0, 0, 0, 2]))
        .collect();
    assert_eq!(
        refusal_text(&pcap_file(&slarp, false, 104)),
        "pcap capture: 0 of 3 packets were IP: 3 Cisco SLARP; nothing to analyse"
    );
    // A PPP frame cut inside its protocol field.
    let t = run(
        &pcap_file(
            &[(1.0, frame(&[0x21])), (2.0, vec![0xFF, 0x03, 0x00])],
            false,
            9,
        ),
        None,
    )
    .unwrap();
    assert_eq!(t.packet_stats.unwrap().truncated, 1);
}

#[test]
fn tcpdump_cisco_hdlc_capture_imports() {
    let Some(bytes) = shared("tcpdump_tests/tests/HDLC.pcap") else {
        return;
    };
    let t = run(&bytes, None).unwrap();
    assert!(!t.flows.is_empty());
    println!("HDLC.pcap: {} flows", t.flows.len());
}

/// PPTP's enhanced GRE (version 1) around `ppp`, with a sequence number and, when `ack`, an
/// acknowledgement number.
fn pptp_gre(ack: bool, ppp: &[u8]) -> Vec<u8> {
    let flags: u16 = 0x3001 | if ack { 0x0080 } else { 0 };
    let mut g = flags.to_be_bytes().to_vec();
    g.extend_from_slice(&[0x88, 0x0B]);
    g.extend_from_slice(&(ppp.len() as u16).to_be_bytes());
    g.extend_from_slice(&[0, 7, 0, 0, 0, 1]);
    if ack {
        g.extend_from_slice(&[0, 0, 0, 1]);
    }
    g.extend_from_slice(ppp);
    g
}

#[test]
fn pptp_tunnels_give_their_inner_flows_not_unknown_transport() {
    const PAC: [u8; 4] = [192, 0, 2, 1];
    const PNS: [u8; 4] = [192, 0, 2, 2];
    let query = ipv4(A, DNS, 17, &udp(40000, 53, 30));
    let answer = ipv4(DNS, A, 17, &udp(53, 40000, 60));
    for (what, prefix) in [
        (
            "FF 03 and a full protocol field",
            &[0xFF, 0x03, 0x00, 0x21][..],
        ),
        ("no FF 03", &[0x00, 0x21][..]),
        ("a compressed protocol field", &[0x21][..]),
        ("FF 03, compressed protocol", &[0xFF, 0x03, 0x21][..]),
    ] {
        let q = [prefix, &query[..]].concat();
        let a = [prefix, &answer[..]].concat();
        let packets = [
            (
                1.0,
                eth(ETH_IPV4, &ipv4(PAC, PNS, 47, &pptp_gre(false, &q))),
            ),
            (1.1, eth(ETH_IPV4, &ipv4(PNS, PAC, 47, &pptp_gre(true, &a)))),
        ];
        let t = run(&pcap_file(&packets, false, 1), None).unwrap();
        assert_eq!(t.flows.len(), 1, "{what}");
        let f = &t.flows[0];
        assert_eq!(
            (f.proto, f.dst_port, f.service),
            (Proto::Udp, 53, Service::Dns)
        );
        assert_eq!((f.bytes_out, f.bytes_in), (30, 60), "{what}");
    }
}

#[test]
fn zeek_pptp_trace_gives_zeeks_one_dns_connection() {
    let Some(bytes) = shared("zeek_traces/testing/btest/Traces/tunnels/gre-pptp.pcap") else {
        return;
    };
    let t = run(&bytes, None).unwrap();
    // Zeek's conn.log of this trace: 172.16.44.3:40768 -> 8.8.8.8:53 udp dns, 71/146 bytes.
    assert_eq!(t.flows.len(), 1);
    let f = &t.flows[0];
    assert_eq!((f.src_ip, f.dst_ip), (ip("172.16.44.3"), ip("8.8.8.8")));
    assert_eq!(
        (f.src_port, f.dst_port, f.bytes_out, f.bytes_in),
        (40768, 53, 71, 146)
    );
}

#[test]
fn later_fragments_of_a_fragmented_ping_add_their_bytes() {
    // A 2,480-byte ICMP echo in two fragments (1,480 + 1,000 IP payload bytes): one packet of
    // 2,472 payload bytes, as Zeek counts the reassembled datagram.
    let first = ipv4_frag(A, B, 1, 42, 0x2000, &icmp(8, 1472));
    let later = ipv4_frag(A, B, 1, 42, 1480 / 8, &[0x69; 1000]);
    // A later fragment whose first one was never seen changes nothing.
    let stray = ipv4_frag(A, B, 1, 43, 1480 / 8, &[0x69; 1000]);
    let packets = [
        (1.0, eth(ETH_IPV4, &first)),
        (1.001, eth(ETH_IPV4, &later)),
        (1.002, eth(ETH_IPV4, &stray)),
    ];
    let t = run(&pcap_file(&packets, false, 1), None).unwrap();
    assert_eq!(t.flows.len(), 1);
    let f = &t.flows[0];
    assert_eq!((f.proto, f.pkts_out, f.bytes_out), (Proto::Icmp, 1, 2472));
    let stats = t.packet_stats.unwrap();
    assert_eq!((stats.later_fragments, stats.fragments_evicted), (2, 0));
}

#[test]
fn zeek_aruba_traces_decode_their_80211_frames() {
    // Aruba GRE (protocol 0x8240) around a QoS data frame holding an A-MSDU: its first
    // subframe is Zeek's one connection; the CCMP trace holds only encrypted frames.
    let Some(amsdu) = shared("zeek_traces/testing/btest/Traces/tunnels/gre-aruba-amsdu.pcap")
    else {
        return;
    };
    let t = run(&amsdu, None).unwrap();
    assert_eq!(t.flows.len(), 1);
    let f = &t.flows[0];
    let mut ends = [(f.src_ip, f.src_port), (f.dst_ip, f.dst_port)];
    ends.sort();
    assert_eq!(
        ends,
        [(ip("149.159.130.184"), 49392), (ip("157.240.18.16"), 443)]
    );
    let Some(ccmp) = shared("zeek_traces/testing/btest/Traces/tunnels/gre-aruba-ccmp.pcap") else {
        return;
    };
    assert!(refusal_text(&ccmp).ends_with(
        "2 802.11 frames encrypted (WEP/WPA, unreadable without the key); nothing to analyse"
    ));
}

#[test]
fn truncated_packets_and_files_are_reported() {
    let mut packets = capture();
    // A frame cut inside the TCP header.
    let mut cut = tcp4(A, B, tcp(1, 2, 3, 4, F_SYN, 0));
    cut.truncate(14 + 20 + 6);
    packets.push((200.0, cut));
    let mut file = pcap_file(&packets, false, 1);
    let t = run(&file, None).unwrap();
    assert_eq!(t.packet_stats.unwrap().truncated, 1);
    // The file ends inside a record: what came before is kept, the end is reported.
    file.truncate(file.len() - 3);
    let t = run(&file, None).unwrap();
    assert_eq!(t.flows.len(), 11);
    assert!(t
        .warnings
        .iter()
        .any(|w| matches!(w, ImportWarning::TruncatedFile { .. })));
    assert!(matches!(
        t.skipped[0].reason,
        SkipReason::BadRecordLength { .. }
    ));
}

fn refusal_text(bytes: &[u8]) -> String {
    match run(bytes, None) {
        Err(e @ ImportError::CaptureUnusable { .. }) => e.to_string(),
        other => panic!("expected a capture refusal, got {other:?}"),
    }
}

#[test]
fn captures_without_flows_are_refused_with_the_reason() {
    // 10 ARP requests and 2 PPPoE discovery frames: nothing is IP.
    let arp = eth(0x0806, &[0, 1, 8, 0, 6, 4, 0, 1]);
    let padi = eth(0x8863, &[0x11, 0x09, 0, 0, 0, 0]);
    let mut frames: Vec<(f64, Vec<u8>)> = (0..10).map(|i| (i as f64, arp.clone())).collect();
    frames.push((11.0, padi.clone()));
    frames.push((12.0, padi));
    assert_eq!(
        refusal_text(&pcap_file(&frames, false, 1)),
        "pcap capture: 0 of 12 packets were IP: 10 ARP, 2 PPPoE discovery; nothing to analyse"
    );
    // The same in pcapng: the same reason.
    assert!(refusal_text(&pcapng_file(&frames, true))
        .ends_with("10 ARP, 2 PPPoE discovery; nothing to analyse"));

    // An 802.11 capture with a Prism header: the link type by number and name.
    let wifi: Vec<(f64, Vec<u8>)> = (0..3)
        .map(|i| (i as f64, vec![0x08, 0, 0, 0, 1, 2]))
        .collect();
    assert_eq!(
        refusal_text(&pcap_file(&wifi, true, 119)),
        "pcap capture: link type 119 (IEEE 802.11 with Prism header) is not decoded yet, and all 3 packets use it; nothing to analyse"
    );
    assert!(refusal_text(&pcap_file(&wifi[..1], false, 64000)).contains(
        "link type 64000 (a type this importer has no name for) is not decoded yet, and the capture's only packet uses it"
    ));

    // Only the file header.
    let header = pcap_file(&[], false, 1);
    assert_eq!(header.len(), 24);
    assert_eq!(
        run(&header, None).unwrap_err(),
        ImportError::CaptureUnusable {
            format: Format::Pcap,
            why: CaptureRefusal::NoPackets
        }
    );
    // A first record claiming more than the file holds.
    let mut long = header.clone();
    for v in [1u32, 0, 65535, 65535] {
        long.extend_from_slice(&v.to_le_bytes());
    }
    long.extend_from_slice(&[0; 10]);
    assert_eq!(
        refusal_text(&long),
        "pcap capture: the first packet record (byte 24) claims 65535 bytes but only 10 remain: the file is cut short or damaged; nothing to analyse"
    );
    // The file ends inside the first record header.
    let mut cut = header.clone();
    cut.extend_from_slice(&[1, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(
        run(&cut, None).unwrap_err(),
        ImportError::CaptureUnusable {
            format: Format::Pcap,
            why: CaptureRefusal::FirstRecordHeaderCut { at_byte: 24 }
        }
    );
    // A file header cut short: says how far it got.
    let e = run(&header[..10], Some(Format::Pcap))
        .unwrap_err()
        .to_string();
    assert!(e.contains("the file ends after 10 bytes"), "{e}");

    // IP, but only later fragments (offset 1480, first fragment not captured): no connection.
    let frags: Vec<(f64, Vec<u8>)> = (0..4)
        .map(|i| {
            (
                i as f64,
                eth(ETH_IPV4, &ipv4_frag(A, B, 17, 7 + i as u16, 185, &[0; 16])),
            )
        })
        .collect();
    let e = run(&pcap_file(&frags, false, 1), None).unwrap_err();
    assert!(
        matches!(
            e,
            ImportError::CaptureUnusable {
                why: CaptureRefusal::NoConnections {
                    ip_packets: 4,
                    later_fragments: 4,
                    ..
                },
                ..
            }
        ),
        "{e:?}"
    );
    // A mix keeps the flows: the refusal is only for captures that give none.
    let mut mixed = frames.clone();
    mixed.push((20.0, tcp4(A, B, tcp(1234, 80, 1, 0, F_SYN, 0))));
    assert_eq!(
        run(&pcap_file(&mixed, false, 1), None).unwrap().flows.len(),
        1
    );
}

#[test]
fn link_type_fcs_bits_are_not_part_of_the_link_type() {
    // libpcap's LT_LINKTYPE: bits 26-31 say whether frames carry an FCS; 0x04000001 is
    // Ethernet.
    let frame = tcp4(A, B, tcp(1234, 80, 1, 0, F_SYN, 0));
    let t = run(&pcap_file(&[(1.0, frame)], false, 0x0400_0001), None).unwrap();
    assert_eq!(t.flows.len(), 1);
}

#[test]
fn every_prefix_of_a_capture_imports_or_errors_without_panic() {
    for file in [
        pcap_file(&capture(), false, 1),
        pcapng_file(&capture(), true),
    ] {
        let mut ok = 0;
        for len in 0..file.len() {
            if run(&file[..len], None).is_ok() {
                ok += 1;
            }
            let _ = run(&file[..len], Some(Format::Pcapng));
            let _ = run(&file[..len], Some(Format::Pcap));
        }
        // Prefixes that hold at least the first packet import.
        assert!(ok > file.len() / 2);
    }
}

/// xorshift64*: a fixed, dependency-free stream for mutation tests.
struct Mutator(u64);

impl Mutator {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

#[test]
fn random_mutations_never_panic() {
    let seeds = [
        pcap_file(&capture(), false, 1),
        pcapng_file(&capture(), false),
        ZEEK_TSV.as_bytes().to_vec(),
        b"Flow ID, Source IP, Flow Duration, Total Fwd Packets, Label\nx,1.2.3.4,5,6,BENIGN\n"
            .to_vec(),
        format!(
            "{}\n{}\n",
            eve_flow("2023-09-18T06:13:41.532140+0000", "1b", "1a", 3),
            eve_flow("2023-09-18T06:13:42.0+0000", "02", "00", 0)
        )
        .into_bytes(),
        format!(
            "{}{ZEEK_TSV}",
            zeek_log(Some("dns"), &DNS_FIELDS, &[DNS_ROW])
        )
        .into_bytes(),
        format!(
            "{}\n{}\n",
            CIC_SPELLINGS[2].1, "80,6,14/02/2018 08:31:01,100,3,2,120,80,5,5,1,0,0,BENIGN"
        )
        .into_bytes(),
        CTU_BINETFLOW.as_bytes().to_vec(),
        // Sequence numbers across the 2^32 wrap, with a hole: the far-jump and hole logic.
        pcap_file(
            &transfer(u32::MAX - 1500, &[(0, 1000), (2000, 1000)], &[1000, 3000]),
            false,
            1,
        ),
    ];
    let mut rng = Mutator(0x9E37_79B9_7F4A_7C15);
    for round in 0..3000 {
        let mut file = seeds[round % seeds.len()].clone();
        let edits = 1 + rng.next() % 8;
        for _ in 0..edits {
            let at = (rng.next() % file.len() as u64) as usize;
            match rng.next() % 4 {
                0 => file[at] = rng.next() as u8,
                1 => file[at] ^= 1 << (rng.next() % 8),
                2 => {
                    file.truncate(at.max(1));
                }
                _ => {
                    let b = [0xFFu8, 0x00, 0x7F, 0x80][(rng.next() % 4) as usize];
                    file[at] = b;
                }
            }
        }
        let _ = run(&file, None);
        for format in Format::ALL {
            let _ = run(&file, Some(format));
        }
    }
}

// ---------------------------------------------------------------- errors, limits, progress

#[test]
fn not_what_it_claims_is_a_clear_error() {
    assert!(matches!(run(b"", None), Err(ImportError::Empty)));
    assert!(matches!(
        run(b"\x00\x01\x02garbage", None),
        Err(ImportError::UnknownFormat { .. })
    ));
    assert!(matches!(
        run(b"hello,world\n1,2\n", Some(Format::Pcap)),
        Err(ImportError::NotThisFormat {
            format: Format::Pcap,
            ..
        })
    ));
    assert!(matches!(
        run(b"a,b\n1,2\n", Some(Format::Kdd)),
        Err(ImportError::NotThisFormat {
            format: Format::Kdd,
            ..
        })
    ));
    assert!(matches!(
        run(b"a,b\n1,2\n", Some(Format::ZeekTsv)),
        Err(ImportError::NotThisFormat { .. })
    ));
    // Every row bad: an error that shows the first problem.
    let e = run(b"ts,src_ip,dst_ip\nx,y,z\n", Some(Format::GenericCsv)).unwrap_err();
    assert!(matches!(e, ImportError::NoRecords { skipped: 1, .. }));
    assert!(e.to_string().contains("line 2"), "{e}");
}

#[test]
fn limits_are_explicit() {
    let file = pcap_file(&capture(), false, 1);
    let limits = ImportLimits {
        max_bytes: 100,
        ..ImportLimits::default()
    };
    assert!(matches!(
        import(&file, None, &limits, &mut |_| true),
        Err(ImportError::TooLarge { max_bytes: 100, .. })
    ));
    let limits = ImportLimits {
        max_flows: 2,
        ..ImportLimits::default()
    };
    let t = import(&file, None, &limits, &mut |_| true).unwrap();
    assert!(t.flows.len() <= 2);
    assert!(t.warnings.contains(&ImportWarning::LimitReached {
        limit: LimitKind::Flows,
        value: 2
    }));
    let limits = ImportLimits {
        max_rows: 1,
        ..ImportLimits::default()
    };
    let t = import(ZEEK_TSV.as_bytes(), None, &limits, &mut |_| true).unwrap();
    assert_eq!(t.flows.len(), 1);
    assert!(t.warnings.contains(&ImportWarning::LimitReached {
        limit: LimitKind::Rows,
        value: 1
    }));
    // The skipped list is capped; the count is not.
    let mut text = String::from("ts,src_ip,dst_ip\n1,10.0.0.1,10.0.0.2\n");
    for _ in 0..50 {
        text.push_str("1,bad,10.0.0.2\n");
    }
    let limits = ImportLimits {
        max_skipped_listed: 10,
        ..ImportLimits::default()
    };
    let t = import(text.as_bytes(), None, &limits, &mut |_| true).unwrap();
    assert_eq!((t.skipped.len(), t.skipped_count), (10, 50));
}

#[test]
fn progress_is_reported_and_cancel_stops() {
    let mut text = String::from("ts,src_ip,dst_ip,bytes_out\n");
    for i in 0..20_000 {
        text.push_str(&format!("{i},10.0.0.1,10.0.0.2,{i}\n"));
    }
    let mut seen = Vec::new();
    let t = import(text.as_bytes(), None, &ImportLimits::default(), &mut |f| {
        seen.push(f);
        true
    })
    .unwrap();
    assert_eq!(t.flows.len(), 20_000);
    assert!(seen.len() >= 3, "{seen:?}");
    assert!(seen.windows(2).all(|w| w[0] <= w[1]));
    assert_eq!(seen.last(), Some(&1.0));
    let r = import(text.as_bytes(), None, &ImportLimits::default(), &mut |f| {
        f < 0.2
    });
    assert!(matches!(r, Err(ImportError::Cancelled { .. })));
}

// ---------------------------------------------------------------- shared data (optional)

fn shared(path: &str) -> Option<Vec<u8>> {
    let full = format!("/work/shared/data/{path}");
    match std::fs::read(&full) {
        Ok(b) => Some(b),
        Err(e) => {
            println!("skipping: {full} not readable ({e})");
            None
        }
    }
}

#[test]
fn nsl_kdd_test_set_counts_match_the_release() {
    let Some(bytes) = shared("nsl_kdd/KDDTest+.txt") else {
        return;
    };
    let t = run(&bytes, None).unwrap();
    assert_eq!(t.format, Format::Kdd);
    assert_eq!(t.flows.len(), 22_544);
    assert_eq!(t.skipped_count, 0);
    let attacks = t.is_attack();
    // Official counts (PROVENANCE.md): normal 9,711 / attack 12,833.
    assert_eq!(attacks.iter().filter(|a| **a == Some(false)).count(), 9_711);
    assert_eq!(attacks.iter().filter(|a| **a == Some(true)).count(), 12_833);
}

#[test]
fn unsw_sample_imports_with_its_labels() {
    let Some(bytes) = shared("unsw_nb15_sample/UNSW_NB15_training-set-IPY.csv") else {
        return;
    };
    let t = run(&bytes, None).unwrap();
    assert_eq!(t.format, Format::Unsw);
    assert_eq!(t.flows.len(), 1000);
    let attacks = t.is_attack();
    assert_eq!(attacks.iter().filter(|a| **a == Some(false)).count(), 243);
    assert_eq!(attacks.iter().filter(|a| **a == Some(true)).count(), 757);
}

#[test]
fn zeek_trace_matches_its_baseline_conn_log() {
    let (Some(pcap), Some(log)) = (
        shared("zeek_traces/testing/btest/Traces/tunnels/gre-within-gre.pcap"),
        shared("zeek_traces/testing/btest/Baseline/core.tunnels.gre-in-gre/conn.log"),
    ) else {
        return;
    };
    let log = String::from_utf8_lossy(&log).replace("XXXXXXXXXX.XXXXXX", "0.0");
    let zeek = run(log.as_bytes(), Some(Format::ZeekTsv)).unwrap();
    let ours = run(&pcap, None).unwrap();
    for z in &zeek.flows {
        let o = ours
            .flows
            .iter()
            .find(|o| o.src_port == z.src_port && o.dst_port == z.dst_port && o.src_ip == z.src_ip)
            .unwrap_or_else(|| panic!("no flow for {z:?}"));
        assert_eq!((o.pkts_out, o.pkts_in), (z.pkts_out, z.pkts_in));
        assert_eq!(o.conn_state, z.conn_state);
        assert_eq!(o.history, z.history);
    }
}

#[test]
fn zeek_baseline_logs_other_than_conn_are_refused_and_conn_logs_are_not() {
    let root = "/work/shared/data/zeek_traces/testing/btest/Baseline";
    let Ok(dirs) = std::fs::read_dir(root) else {
        println!("skipping: {root} not readable");
        return;
    };
    let (mut conn, mut conn_imported, mut other) = (0, 0, 0);
    for dir in dirs.flatten() {
        let Ok(files) = std::fs::read_dir(dir.path()) else {
            continue;
        };
        for file in files.flatten() {
            let name = file.file_name().to_string_lossy().to_string();
            let Some(log) = name.strip_suffix(".log") else {
                continue;
            };
            let Ok(bytes) = std::fs::read(file.path()) else {
                continue;
            };
            // btest masks timestamps; only Zeek's own header layout is of interest here.
            let text = String::from_utf8_lossy(&bytes).replace("XXXXXXXXXX.XXXXXX", "0.0");
            if !text.lines().any(|l| l.starts_with("#fields")) {
                continue; // a zeek-cut extract (a few columns, no header), not a Zeek log
            }
            let result = run(text.as_bytes(), Some(Format::ZeekTsv));
            if log == "conn" {
                conn += 1;
                assert!(
                    !matches!(result, Err(ImportError::NotConnLog { .. })),
                    "{}: {result:?}",
                    file.path().display()
                );
                conn_imported += usize::from(result.is_ok());
            } else if ["dns", "http", "ssl"].contains(&log) {
                other += 1;
                let (named, _) = refused_as(result);
                assert_eq!(named.as_deref(), Some(log), "{}", file.path().display());
            }
        }
    }
    println!("{conn} conn.log ({conn_imported} imported), {other} dns/http/ssl logs refused");
    assert!(conn > 100, "only {conn} conn.log baselines found");
    assert!(
        conn_imported > 100,
        "only {conn_imported} of {conn} imported"
    );
    if other == 0 {
        println!("no dns.log/http.log/ssl.log baselines in {root}: that part is not checked");
    }
}

#[test]
fn udp_tunnels_log_outer_and_inner_connections() {
    // VXLAN (dst port 4789): 8-byte header with the I flag, then an Ethernet frame.
    let inner = eth(
        ETH_IPV4,
        &ipv4(
            [192, 168, 1, 1],
            [192, 168, 1, 2],
            6,
            &tcp(1111, 80, 1, 0, F_SYN, 0),
        ),
    );
    let mut vx = vec![0x08, 0, 0, 0, 0, 0, 1, 0];
    vx.extend_from_slice(&inner);
    let mut outer_udp = udp(40000, 4789, 0);
    outer_udp.truncate(8);
    outer_udp[4..6].copy_from_slice(&((8 + vx.len()) as u16).to_be_bytes());
    outer_udp.extend_from_slice(&vx);
    let frame = eth(ETH_IPV4, &ipv4(A, B, 17, &outer_udp));
    let t = run(&pcap_file(&[(1.0, frame)], false, 1), None).unwrap();
    assert_eq!(t.flows.len(), 2);
    let outer = find(&t.flows, 40000, 4789)[0];
    assert_eq!(
        (outer.proto, outer.bytes_out),
        (Proto::Udp, vx.len() as u64)
    );
    let tunnelled = find(&t.flows, 1111, 80)[0];
    assert_eq!(tunnelled.src_ip, ip("192.168.1.1"));
    assert_eq!(
        (tunnelled.conn_state, tunnelled.history.as_str()),
        (ConnState::S0, "S")
    );
}

#[test]
fn capwap_data_carries_stations_frames_as_ethernet_or_80211() {
    // A station's SYN as the access point tunnels it to its controller: UDP to port 5247,
    // an 8-byte CAPWAP header (HLEN 2), or 16 bytes (HLEN 4) with the T bit and WBID 1
    // before a native 802.11 frame.
    let syn = ipv4(
        [192, 168, 1, 1],
        [192, 168, 1, 2],
        6,
        &tcp(1111, 80, 1, 0, F_SYN, 0),
    );
    let plain = [
        &[0x00, 0x10, 0x02, 0x00, 0, 0, 0, 0][..],
        &eth(ETH_IPV4, &syn),
    ]
    .concat();
    let mut native = vec![0x00, 0x20, 0x03, 0x00];
    native.resize(16, 0);
    native.extend_from_slice(&wifi_data(false, 0x01, &syn));
    for capwap in [plain, native] {
        let mut outer_udp = udp(5246, 5247, 0);
        outer_udp[4..6].copy_from_slice(&((8 + capwap.len()) as u16).to_be_bytes());
        outer_udp.extend_from_slice(&capwap);
        let frame = eth(ETH_IPV4, &ipv4(A, B, 17, &outer_udp));
        let t = run(&pcap_file(&[(1.0, frame)], false, 1), None).unwrap();
        assert_eq!(t.flows.len(), 2);
        let tunnelled = find(&t.flows, 1111, 80)[0];
        assert_eq!(tunnelled.src_ip, ip("192.168.1.1"));
        assert_eq!(find(&t.flows, 5246, 5247).len(), 1);
    }
}

const CTU_BINETFLOW: &str = "\
StartTime,Dur,Proto,SrcAddr,Sport,Dir,DstAddr,Dport,State,sTos,dTos,TotPkts,TotBytes,SrcBytes,Label
2011/08/10 09:46:59.607825,1.026539,tcp,94.44.127.113,1577,   ->,147.32.84.59,6881,S_RA,0,0,4,276,156,flow=Background-Established-cmpgw-CVUT
2011/08/10 09:47:00.000000,3.5,tcp,147.32.84.165,1040,   ->,60.190.222.139,80,FSPA_FSPA,0,0,20,9000,1200,flow=From-Botnet-V42-TCP-Established-HTTP
2011/08/10 09:47:01.5,0.000298,udp,147.32.84.170,123,  <->,147.32.80.9,123,CON,0,0,2,180,90,flow=To-Normal-V42-UDP-NTP-server
2011/08/10 09:47:02,0,icmp,147.32.84.165,0x0008,   ->,8.8.8.8,0x0000,ECO,0,,1,98,98,flow=From-Botnet-V42-ICMP
2011/08/10 09:47:03,1.0,tcp,147.32.84.165,1041,   ->,60.190.222.139,80,S_,0,0,3,100,180,flow=From-Botnet-V42-TCP-Attempt
";

#[test]
fn argus_binetflow_from_ctu13() {
    let t = run(CTU_BINETFLOW.as_bytes(), None).unwrap();
    assert_eq!(t.format, Format::Argus);
    // The last row says more bytes from the source than in all: skipped with its line.
    assert_eq!(skipped_lines(&t), vec![6]);
    assert!(
        matches!(&t.skipped[0].reason, SkipReason::BadValue { column, value }
            if column.starts_with("TotBytes") && value == "100"),
        "{:?}",
        t.skipped[0].reason
    );
    assert_eq!(t.flows.len(), 4);
    let f = &t.flows[0];
    // 2011-08-10 09:46:59.607825, read as UTC.
    assert!((f.ts - 1_312_969_619.607_825).abs() < 1e-3, "{}", f.ts);
    assert_eq!((f.src_ip, f.src_port), (ip("94.44.127.113"), 1577));
    assert_eq!((f.dst_ip, f.dst_port), (ip("147.32.84.59"), 6881));
    assert_eq!((f.bytes_out, f.bytes_in), (156, 120));
    assert_eq!((f.pkts_out, f.pkts_in), (4, 0));
    assert_eq!(f.conn_state, ConnState::REJ);
    assert_eq!(t.flows[1].conn_state, ConnState::SF);
    assert_eq!((t.flows[1].bytes_out, t.flows[1].bytes_in), (1200, 7800));
    assert_eq!(t.flows[2].proto, Proto::Udp);
    assert_eq!(t.flows[2].conn_state, ConnState::SF);
    assert_eq!((t.flows[3].proto, t.flows[3].src_port), (Proto::Icmp, 8));
    assert_eq!(t.flows[3].conn_state, ConnState::OTH);
    // Labels kept as written; Background is unknown, Normal benign, Botnet attack.
    assert_eq!(
        t.label_names[t.truth[1].unwrap() as usize],
        "flow=From-Botnet-V42-TCP-Established-HTTP"
    );
    // is_attack says "not an attack" for unknown labels; the metrics leave them out.
    assert_eq!(
        t.is_attack(),
        vec![Some(false), Some(true), Some(false), Some(true)]
    );
    let name = |i: usize| t.label_names[t.truth[i].unwrap() as usize].as_str();
    assert!(anomaly_detector::traffic::import::is_unknown_label(name(0)));
    assert!(!is_benign(name(0)));
    assert!(is_benign(name(2)) && !is_benign(name(1)));
    assert!(t.warnings.contains(&ImportWarning::PacketsBothWays {
        column: "TotPkts".into()
    }));
    assert!(t.warnings.contains(&ImportWarning::BytesIncludeHeaders));
    assert!(t.warnings.contains(&ImportWarning::LocalTimesAsUtc));
    // Bytes back are computed, not missing.
    assert!(
        !t.warnings.iter().any(|w| matches!(
            w,
            ImportWarning::ColumnNotFound {
                quantity: Quantity::BytesIn | Quantity::PktsIn,
                ..
            }
        )),
        "{:?}",
        t.warnings
    );
    assert!(!t
        .extra_columns
        .iter()
        .any(|c| c == "Dir" || c == "TotBytes"));
    assert_eq!(Format::parse("binetflow"), Some(Format::Argus));
}

#[test]
fn argus_with_packets_per_direction_needs_no_packet_warning() {
    let csv = "StartTime,Dur,Proto,SrcAddr,Sport,Dir,DstAddr,Dport,State,TotPkts,SrcPkts,DstPkts,TotBytes,SrcBytes,Label\n\
               2011/08/10 09:47:00,1,tcp,10.0.0.1,1040,->,10.0.0.2,80,SPA_SPA,5,3,2,500,200,flow=From-Normal-V42-Jist\n";
    let t = run(csv.as_bytes(), None).unwrap();
    assert_eq!(t.format, Format::Argus);
    let f = &t.flows[0];
    assert_eq!(
        (f.pkts_out, f.pkts_in, f.bytes_out, f.bytes_in),
        (3, 2, 200, 300)
    );
    assert_eq!(f.conn_state, ConnState::S1);
    assert_eq!(t.is_attack(), vec![Some(false)]);
    assert!(
        !t.warnings
            .iter()
            .any(|w| matches!(w, ImportWarning::PacketsBothWays { .. })),
        "{:?}",
        t.warnings
    );
}

/// Same capture, same flows in the same order, however often it is imported: each import
/// builds new hash maps with new random keys, so a flow order that followed a map's order
/// (the idle sweep did, for flows starting at the same instant) shows up here.
#[test]
fn importing_a_capture_twice_gives_the_same_flows_in_the_same_order() {
    let dir = "/work/shared/data/tcpdump_tests/tests";
    let Ok(entries) = std::fs::read_dir(dir) else {
        println!("skipping: {dir} not readable");
        return;
    };
    let mut paths: Vec<std::path::PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "pcap" || x == "pcapng"))
        .collect();
    paths.sort();
    let mut compared = 0;
    for path in &paths {
        let bytes = std::fs::read(path).unwrap();
        let Ok(first) = run(&bytes, None) else {
            continue;
        };
        for _ in 0..3 {
            let again = run(&bytes, None).unwrap();
            assert!(
                again.flows == first.flows,
                "{}: the flows differ between two imports",
                path.display()
            );
        }
        compared += 1;
    }
    assert!(compared > 300, "{compared} captures imported");
    println!("{compared} captures imported four times each: identical flows");
}

/// nfdump 1.6 `-o csv`: the columns after `obyt`, the same in every row of the fixture.
const NFDUMP_TAIL: &str = "0,0,0,0,24,24,0,0,0.0.0.0,0.0.0.0,0,0,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0.000,0.000,0.000,10.0.0.254,0/0,1,2019-03-07 10:02:30.000";

const NFDUMP_16_HEADER: &str = "ts,te,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,ibyt,opkt,obyt,in,out,sas,das,smk,dmk,dtos,dir,nh,nhb,svln,dvln,ismc,odmc,idmc,osmc,mpls1,mpls2,mpls3,mpls4,mpls5,mpls6,mpls7,mpls8,mpls9,mpls10,cl,sl,al,ra,eng,exid,tr";

fn nfdump_16_csv() -> String {
    let rows = [
        "2019-03-07 10:02:26.123,2019-03-07 10:02:27.456,1.333,192.168.1.10,93.184.216.34,53211,443,TCP,.AP.SF,0,0,12,1500,10,9000",
        "2019-03-07 10:02:26.200,2019-03-07 10:02:26.210,0.010,192.168.1.10,8.8.8.8,53212,53,UDP,......,0,0,1,76,1,120",
        "2019-03-07 10:02:27.000,2019-03-07 10:02:27.001,0.001,192.168.1.10,192.168.1.1,0,8.0,ICMP,......,0,0,1,84,1,84",
        "2019-03-07 10:02:27.500,2019-03-07 10:02:27.500,0.000,192.168.1.1,192.168.1.10,0,771,ICMP,......,0,0,1,112,0,0",
        "2019-03-07 10:02:28.000,2019-03-07 10:02:28.000,0.000,not-an-address,192.168.1.10,1,2,TCP,......,0,0,1,40,0,0",
        "2019-03-07 10:02:29,2019-03-07 10:02:32,3.000,10.9.9.9,192.168.1.10,40000,22,6,....S.,0,0,3,180,0,0",
    ];
    let mut csv = format!("{NFDUMP_16_HEADER}\n");
    for r in rows {
        csv.push_str(&format!("{r},{NFDUMP_TAIL}\n"));
    }
    // What nfdump 1.6 prints after the records.
    csv.push_str("\nSummary\nflows,bytes,packets,avg_bps,avg_pps,avg_bpp\n6,1992,19,2656,4,104\n");
    csv
}

#[test]
fn nfdump_16_csv_with_its_summary_block() {
    let t = run(nfdump_16_csv().as_bytes(), None).unwrap();
    assert_eq!(t.format, Format::Nfdump);
    // The row with a bad address is skipped with its line; the summary is not a bad row.
    assert_eq!(skipped_lines(&t), vec![6]);
    assert!(
        matches!(&t.skipped[0].reason, SkipReason::BadValue { column, value }
            if column == "sa" && value == "not-an-address"),
        "{:?}",
        t.skipped[0].reason
    );
    assert!(
        t.warnings
            .contains(&ImportWarning::SummaryLeftOut { line: 9 }),
        "{:?}",
        t.warnings
    );
    assert!(t.warnings.contains(&ImportWarning::LocalTimesAsUtc));
    assert!(!t
        .warnings
        .iter()
        .any(|w| matches!(w, ImportWarning::NothingSentBack { .. })));
    assert_eq!(t.flows.len(), 5);
    let f = &t.flows[0];
    assert!((f.ts - 1_551_952_946.123).abs() < 1e-3, "{}", f.ts);
    assert!((f.duration_s - 1.333).abs() < 1e-9);
    assert_eq!((f.src_ip, f.src_port), (ip("192.168.1.10"), 53211));
    assert_eq!((f.dst_ip, f.dst_port), (ip("93.184.216.34"), 443));
    assert_eq!(f.proto, Proto::Tcp);
    assert_eq!(
        (f.bytes_out, f.pkts_out, f.bytes_in, f.pkts_in),
        (1500, 12, 9000, 10)
    );
    assert_eq!(f.conn_state, ConnState::SF);
    let dns = &t.flows[1];
    assert_eq!((dns.proto, dns.service), (Proto::Udp, Service::Dns));
    assert_eq!((dns.bytes_out, dns.bytes_in), (76, 120));
    assert_eq!(dns.conn_state, ConnState::SF);
    // ICMP type and code from the destination port, both spellings, as Zeek logs them.
    let echo = &t.flows[2];
    assert_eq!(
        (echo.proto, echo.src_port, echo.dst_port),
        (Proto::Icmp, 8, 0)
    );
    let unreachable = &t.flows[3];
    assert_eq!((unreachable.src_port, unreachable.dst_port), (3, 3));
    assert_eq!(unreachable.conn_state, ConnState::S0);
    // A numeric protocol, a time without milliseconds, a lone SYN.
    let syn = &t.flows[4];
    assert_eq!(syn.proto, Proto::Tcp);
    assert!((syn.ts - 1_551_952_949.0).abs() < 1e-6, "{}", syn.ts);
    assert_eq!(syn.conn_state, ConnState::S0);
    assert!(t.truth.iter().all(Option::is_none));
    assert!(!t.has_labels);
    for not_a_feature in ["te", "flg", "ismc", "ra", "tr", "dir"] {
        assert!(
            !t.extra_columns.iter().any(|c| c == not_a_feature),
            "{not_a_feature} in {:?}",
            t.extra_columns
        );
    }
}

#[test]
fn nfdump_17_unidirectional_export_says_nothing_was_counted_back() {
    let csv = "firstSeen,lastSeen,duration,proto,srcAddr,dstAddr,srcPort,dstPort,flags,inPackets,inBytes,outPackets,outBytes\n\
               2024-05-01 12:00:00.000,2024-05-01 12:00:02.500,2.500,6,10.1.1.1,10.2.2.2,50000,80,...AP.SF,6,700,0,0\n\
               2024-05-01 12:00:01.000,2024-05-01 12:00:01.000,0.000,6,10.1.1.1,10.2.2.3,50001,25,......S.,1,60,0,0\n\
               2024-05-01 12:00:02.000,2024-05-01 12:00:02.000,0.000,17,10.1.1.1,10.2.2.4,50002,123,........,1,76,0,0\n\
               2024-05-01 12:00:03.000,2024-05-01 12:00:03.000,0.000,1,10.1.1.1,10.2.2.4,0,8.0,........,1,84,0,0\n";
    let t = run(csv.as_bytes(), None).unwrap();
    assert_eq!(t.format, Format::Nfdump);
    assert!(t.skipped.is_empty(), "{:?}", t.skipped);
    assert_eq!(t.flows.len(), 4);
    let f = &t.flows[0];
    assert!((f.duration_s - 2.5).abs() < 1e-9);
    assert_eq!(
        (f.bytes_out, f.pkts_out, f.bytes_in, f.pkts_in),
        (700, 6, 0, 0)
    );
    assert_eq!(f.conn_state, ConnState::SF);
    assert_eq!(t.flows[1].conn_state, ConnState::S0);
    assert_eq!(t.flows[2].proto, Proto::Udp);
    assert_eq!(t.flows[2].conn_state, ConnState::S0);
    assert_eq!(
        (t.flows[3].proto, t.flows[3].src_port, t.flows[3].dst_port),
        (Proto::Icmp, 8, 0)
    );
    assert!(
        t.warnings.contains(&ImportWarning::NothingSentBack {
            columns: vec!["outPackets".into(), "outBytes".into()]
        }),
        "{:?}",
        t.warnings
    );
    // Said once, not again as constant columns.
    assert!(
        !t.warnings.iter().any(|w| matches!(
            w,
            ImportWarning::ConstantColumn {
                quantity: Quantity::BytesIn | Quantity::PktsIn,
                ..
            }
        )),
        "{:?}",
        t.warnings
    );
    assert!(t.warnings.contains(&ImportWarning::LocalTimesAsUtc));
}

#[test]
fn nfdump_csv_fast_takes_the_duration_from_first_and_last_seen() {
    let csv = "cnt,af,firstSeen,lastSeen,proto,srcAddr,srcPort,dstAddr,dstPort,srcAS,dstAS,input,output,flags,srcTos,packets,bytes\n\
               1,2,1714564800000,1714564801250,6,10.1.1.1,50000,10.2.2.2,443,0,0,0,0,.A..S.,0,4,400\n\
               2,2,1714564802000,not-a-time,6,10.1.1.1,50001,10.2.2.2,443,0,0,0,0,.A..S.,0,4,400\n";
    let t = run(csv.as_bytes(), Some(Format::Nfdump)).unwrap();
    assert_eq!(detect_format(csv.as_bytes()), Some(Format::Nfdump));
    assert_eq!(skipped_lines(&t), vec![3]);
    assert_eq!(t.flows.len(), 1);
    let f = &t.flows[0];
    assert!((f.ts - 1_714_564_800.0).abs() < 1e-6);
    assert!((f.duration_s - 1.25).abs() < 1e-9);
    assert_eq!((f.bytes_out, f.pkts_out), (400, 4));
    assert_eq!(f.conn_state, ConnState::S1);
    assert!(!t.extra_columns.iter().any(|c| c == "cnt" || c == "af"));
    assert!(!t.warnings.iter().any(|w| matches!(
        w,
        ImportWarning::ColumnNotFound {
            quantity: Quantity::Duration,
            ..
        }
    )));
}

#[test]
fn nfdump_is_detected_and_others_are_not_taken_for_it() {
    assert_eq!(
        detect_format(nfdump_16_csv().as_bytes()),
        Some(Format::Nfdump)
    );
    assert_eq!(
        detect_format(b"firstSeen,lastSeen,duration,proto,srcAddr,dstAddr,srcPort,dstPort,flags,inPackets,inBytes\n"),
        Some(Format::Nfdump)
    );
    assert_eq!(detect_format(CTU_BINETFLOW.as_bytes()), Some(Format::Argus));
    assert_eq!(detect_format(ZEEK_TSV.as_bytes()), Some(Format::ZeekTsv));
    assert_eq!(
        detect_format(b"Flow ID, Source IP, Flow Duration, Total Fwd Packets\n"),
        Some(Format::Cic)
    );
    assert_eq!(
        detect_format(b"ts,src_ip,dst_ip,src_port,dst_port,bytes\n1,10.0.0.1,10.0.0.2,1,2,3\n"),
        Some(Format::GenericCsv)
    );
    for name in ["nfdump", "netflow", "NetFlow", "ipfix"] {
        assert_eq!(Format::parse(name), Some(Format::Nfdump), "{name}");
    }
    assert_eq!(Format::Nfdump.as_str(), "nfdump");
    // Asked for by name, a file of another format is refused with what was expected.
    assert!(matches!(
        run(CTU_BINETFLOW.as_bytes(), Some(Format::Nfdump)),
        Err(ImportError::NotThisFormat {
            format: Format::Nfdump,
            ..
        })
    ));
}

#[test]
fn nfdump_hostile_cells_do_not_panic() {
    let mut csv = String::from("ts,te,td,sa,da,sp,dp,pr,flg,ipkt,ibyt,opkt,obyt\n");
    for cell in [
        "\u{0}",
        "é",
        "0xffff",
        "99999999999999999999",
        "-1",
        "1.2.3",
        "ÿ.ÿ",
        "....S.\u{301}",
    ] {
        csv.push_str(&format!(
            "{cell},{cell},{cell},10.0.0.1,10.0.0.2,{cell},{cell},ICMP,{cell},1,1,0,0\n"
        ));
        csv.push_str(&format!(
            "2019-03-07 10:00:00,2019-03-07 10:00:01,1,10.0.0.1,10.0.0.2,1,{cell},TCP,{cell},1,1,{cell},0\n"
        ));
    }
    csv.push_str(
        "2019-03-07 10:00:00,2019-03-07 10:00:01,1,10.0.0.1,10.0.0.2,1,2,TCP,.A....,1,1,0,0\n",
    );
    let t = run(csv.as_bytes(), Some(Format::Nfdump)).unwrap();
    assert_eq!(t.flows.len() + t.skipped.len(), 17);
    assert_eq!(t.flows.last().map(|f| f.conn_state), Some(ConnState::OTH));
}
