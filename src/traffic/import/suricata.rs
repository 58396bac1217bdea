//! Suricata EVE JSON: the `flow` and `netflow` events of an eve.json, one JSON object a line,
//! as flows. Other event types (alert, dns, http, stats, ...) are counted and left out, not
//! errors; a line that is not JSON is skipped with its line number and the rest kept.
//!
//! Fields: `src_ip`/`src_port` are the originator (Suricata orients a flow to-server),
//! `dest_ip`/`dest_port` the responder; `flow.pkts_toserver`/`bytes_toserver` are what the
//! originator sent, `..._toclient` the replies; the start is `flow.start` (else `timestamp`),
//! the duration `flow.end - flow.start` (else `flow.age`); `app_proto` is the service
//! (`failed`: none). Suricata's byte counts are whole packets, headers included. A `netflow`
//! event counts one direction only: it becomes a flow with nothing sent back.
//!
//! EVE has no conn_state; it is inferred, closest Zeek state first, from the TCP flags each
//! side sent (`tcp.tcp_flags_ts` / `tcp.tcp_flags_tc`, hex):
//!
//! | originator (ts)      | responder (tc)          | conn_state |
//! |----------------------|-------------------------|------------|
//! | SYN, nothing back    | no packet / no flags    | S0 (RSTOS0 if the originator also sent RST) |
//! | SYN                  | RST, no SYN             | REJ        |
//! | no SYN (mid-stream)  | anything                | OTH        |
//! | SYN                  | SYN (handshake), RST    | RSTR (RSTO when the originator sent the RST) |
//! | SYN + FIN            | SYN + FIN               | SF         |
//! | SYN + FIN            | SYN, no FIN             | S2         |
//! | SYN, no FIN          | SYN + FIN               | S3         |
//! | SYN, no FIN          | SYN, no FIN             | S1         |
//!
//! Without per-side flags, the combined `tcp.tcp_flags` and then `tcp.state` decide
//! (`syn_sent`: S0, `closed`: SF, other states: S1). UDP and ICMP: SF with a reply, S0
//! without (as Zeek). Not here: alerts, EVE's application-layer records, writing EVE (see
//! the SIEM export).

use super::csv_reader::parse_time;
use super::error::ImportError;
use super::format::Format;
use super::imported::ImportedTraffic;
use super::limits::ImportLimits;
use super::progress::Progress;
use super::warnings::{ImportWarning, Location, SkipReason};
use super::zeek::{check_limits, lines};
use crate::traffic::flow::{ConnHistory, ConnState, FlowRecord, Label, OrigRole, Proto, Service};
use serde_json::Value;
use std::net::IpAddr;

const FIN: u8 = 0x01;
const SYN: u8 = 0x02;
const RST: u8 = 0x04;

/// A field by its dotted path (`flow.pkts_toserver`).
fn at<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(v, |v, key| v.get(key))
}

/// A row failed on this field.
struct BadField {
    field: &'static str,
    value: String,
}

fn bad(v: &Value, field: &'static str) -> BadField {
    BadField {
        field,
        value: at(v, field).map(|x| x.to_string()).unwrap_or_default(),
    }
}

/// An absent count is 0; a present one must be a non-negative integer.
fn count(v: &Value, field: &'static str) -> Result<u64, BadField> {
    match at(v, field) {
        None | Some(Value::Null) => Ok(0),
        Some(x) => x.as_u64().ok_or_else(|| bad(v, field)),
    }
}

fn port(v: &Value, field: &'static str) -> Result<u16, BadField> {
    match at(v, field) {
        None | Some(Value::Null) => Ok(0),
        Some(x) => x
            .as_u64()
            .and_then(|p| u16::try_from(p).ok())
            .ok_or_else(|| bad(v, field)),
    }
}

fn time(v: &Value, field: &str) -> Option<f64> {
    at(v, field)?.as_str().and_then(parse_time).map(|(t, _)| t)
}

/// TCP flags written as hex (`"1b"`).
fn flags(v: &Value, field: &str) -> Option<u8> {
    u8::from_str_radix(at(v, field)?.as_str()?.trim(), 16).ok()
}

/// The Zeek state closest to what EVE recorded (table in the module doc).
fn conn_state(v: &Value, proto: Proto, replies: u64) -> ConnState {
    if proto != Proto::Tcp {
        return if replies > 0 {
            ConnState::SF
        } else {
            ConnState::S0
        };
    }
    let ts = flags(v, "tcp.tcp_flags_ts");
    let tc = flags(v, "tcp.tcp_flags_tc");
    if let Some(ts) = ts {
        let tc = if replies == 0 { 0 } else { tc.unwrap_or(0) };
        return match () {
            _ if ts & SYN == 0 => ConnState::OTH,
            _ if tc == 0 && ts & RST != 0 => ConnState::RSTOS0,
            _ if tc == 0 => ConnState::S0,
            _ if tc & SYN == 0 && tc & RST != 0 => ConnState::REJ,
            _ if tc & SYN == 0 => ConnState::OTH,
            _ if ts & RST != 0 => ConnState::RSTO,
            _ if tc & RST != 0 => ConnState::RSTR,
            _ => match (ts & FIN != 0, tc & FIN != 0) {
                (true, true) => ConnState::SF,
                (true, false) => ConnState::S2,
                (false, true) => ConnState::S3,
                (false, false) => ConnState::S1,
            },
        };
    }
    if let Some(all) = flags(v, "tcp.tcp_flags") {
        return match () {
            _ if all & SYN == 0 => ConnState::OTH,
            _ if replies == 0 => ConnState::S0,
            _ if all & RST != 0 => ConnState::RSTO,
            _ if all & FIN != 0 => ConnState::SF,
            _ => ConnState::S1,
        };
    }
    match at(v, "tcp.state").and_then(Value::as_str) {
        Some("syn_sent") => ConnState::S0,
        Some("closed") => ConnState::SF,
        Some("none") | None if replies == 0 => ConnState::S0,
        Some("none") | None => ConnState::OTH,
        Some(_) => ConnState::S1,
    }
}

/// One `flow` (two-way) or `netflow` (one-way) event as a flow.
fn flow_from(v: &Value, netflow: bool) -> Result<FlowRecord, BadField> {
    let addr = |field: &'static str| -> Result<IpAddr, BadField> {
        at(v, field)
            .and_then(Value::as_str)
            .and_then(|t| t.trim().parse().ok())
            .ok_or_else(|| bad(v, field))
    };
    let proto = match at(v, "proto") {
        Some(Value::String(p)) => Proto::parse(p).unwrap_or(Proto::Unknown),
        Some(Value::Number(n)) => Proto::parse(&n.to_string()).unwrap_or(Proto::Unknown),
        _ => return Err(bad(v, "proto")),
    };
    let section = if netflow { "netflow" } else { "flow" };
    let start = time(v, &format!("{section}.start"))
        .or_else(|| time(v, "timestamp"))
        .ok_or_else(|| {
            bad(
                v,
                if netflow {
                    "netflow.start"
                } else {
                    "flow.start"
                },
            )
        })?;
    let duration_s = match time(v, &format!("{section}.end")) {
        Some(end) if end >= start => end - start,
        _ => at(v, &format!("{section}.age"))
            .and_then(Value::as_f64)
            .filter(|a| a.is_finite() && *a >= 0.0)
            .unwrap_or(0.0),
    };
    let (bytes_out, bytes_in, pkts_out, pkts_in) = if netflow {
        (count(v, "netflow.bytes")?, 0, count(v, "netflow.pkts")?, 0)
    } else {
        (
            count(v, "flow.bytes_toserver")?,
            count(v, "flow.bytes_toclient")?,
            count(v, "flow.pkts_toserver")?,
            count(v, "flow.pkts_toclient")?,
        )
    };
    let service = match at(v, "app_proto").and_then(Value::as_str) {
        None | Some("failed") | Some("unknown") => Service::None,
        Some(p) => Service::parse(p),
    };
    Ok(FlowRecord {
        ts: start,
        src_ip: addr("src_ip")?,
        src_port: port(v, "src_port")?,
        dst_ip: addr("dest_ip")?,
        dst_port: port(v, "dest_port")?,
        proto,
        service,
        duration_s,
        bytes_out,
        bytes_in,
        pkts_out,
        pkts_in,
        conn_state: if netflow {
            // One direction: nothing says whether the other side answered.
            ConnState::OTH
        } else {
            conn_state(v, proto, pkts_in)
        },
        history: ConnHistory::EMPTY,
        label: Label::Benign,
        incident_id: None,
        orig_role: OrigRole::None,
    })
}

pub(crate) fn import_eve(
    bytes: &[u8],
    limits: &ImportLimits,
    progress: &mut Progress,
) -> Result<ImportedTraffic, ImportError> {
    let mut out = ImportedTraffic::new(Format::SuricataEve, bytes.len() as u64);
    let mut rows = 0u64;
    let mut others: Vec<(String, u64)> = Vec::new();
    let mut one_way = 0u64;
    for (line_no, end, raw) in lines(bytes) {
        progress.at(end as u64)?;
        let Ok(text) = std::str::from_utf8(raw) else {
            out.skip(limits, Location::Line(line_no), SkipReason::NotUtf8);
            continue;
        };
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        rows += 1;
        if !check_limits(&mut out, rows, limits) {
            break;
        }
        let value = match serde_json::from_str::<Value>(text) {
            Ok(v @ Value::Object(_)) => v,
            Ok(_) => {
                let detail = "not an object".to_string();
                out.skip(
                    limits,
                    Location::Line(line_no),
                    SkipReason::BadJson { detail },
                );
                continue;
            }
            Err(e) => {
                let detail = e.to_string();
                out.skip(
                    limits,
                    Location::Line(line_no),
                    SkipReason::BadJson { detail },
                );
                continue;
            }
        };
        let netflow = match value.get("event_type").and_then(Value::as_str) {
            Some("flow") => false,
            Some("netflow") => true,
            Some(other) => {
                if let Some(i) = others.iter().position(|(k, _)| k == other) {
                    others[i].1 += 1;
                } else if others.len() < 32 {
                    // Bounded: a hostile file cannot grow this list without end.
                    others.push((other.to_string(), 1));
                }
                continue;
            }
            None => {
                let value = bad(&value, "event_type").value;
                out.skip(
                    limits,
                    Location::Line(line_no),
                    SkipReason::BadValue {
                        column: "event_type".into(),
                        value,
                    },
                );
                continue;
            }
        };
        match flow_from(&value, netflow) {
            Ok(flow) => {
                one_way += u64::from(netflow);
                out.flows.push(flow);
                out.truth.push(None);
            }
            Err(b) => out.skip(
                limits,
                Location::Line(line_no),
                SkipReason::BadValue {
                    column: b.field.into(),
                    value: b.value,
                },
            ),
        }
    }
    if out.flows.is_empty() && out.skipped_count == 0 && !others.is_empty() {
        let seen: Vec<String> = others.iter().map(|(k, n)| format!("{n} {k}")).collect();
        return Err(ImportError::NotThisFormat {
            format: Format::SuricataEve,
            expected: format!(
                "flow or netflow events, but the file has only {} events; enable the flow type of the eve-log output in suricata.yaml",
                seen.join(", ")
            ),
        });
    }
    out.warn(ImportWarning::BytesIncludeHeaders);
    out.warn(ImportWarning::DerivedConnState);
    if one_way > 0 {
        out.warn(ImportWarning::OneWayRecords { count: one_way });
    }
    if !others.is_empty() {
        out.warn(ImportWarning::OtherEventsLeftOut { events: others });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tcp(fields: &str) -> Value {
        serde_json::from_str(&format!("{{\"tcp\":{{{fields}}}}}")).unwrap()
    }

    #[test]
    fn states_follow_the_table() {
        let side = |ts: &str, tc: &str, replies| {
            conn_state(
                &tcp(&format!(
                    "\"tcp_flags_ts\":\"{ts}\",\"tcp_flags_tc\":\"{tc}\""
                )),
                Proto::Tcp,
                replies,
            )
        };
        assert_eq!(side("12", "12", 2), ConnState::S1);
        assert_eq!(side("12", "13", 2), ConnState::S3);
        assert_eq!(side("12", "16", 2), ConnState::RSTR);
        assert_eq!(side("06", "00", 0), ConnState::RSTOS0);
        // Flags back but no packet counted back: the flags are not trusted.
        assert_eq!(side("02", "12", 0), ConnState::S0);
        // Combined flags only, then tcp.state.
        let combined = |f: &str, replies| {
            conn_state(&tcp(&format!("\"tcp_flags\":\"{f}\"")), Proto::Tcp, replies)
        };
        assert_eq!(combined("1b", 3), ConnState::SF);
        assert_eq!(combined("02", 0), ConnState::S0);
        assert_eq!(combined("10", 3), ConnState::OTH);
        let state = |s: &str| conn_state(&tcp(&format!("\"state\":\"{s}\"")), Proto::Tcp, 1);
        assert_eq!(state("syn_sent"), ConnState::S0);
        assert_eq!(state("closed"), ConnState::SF);
        assert_eq!(state("established"), ConnState::S1);
        assert_eq!(conn_state(&tcp(""), Proto::Udp, 0), ConnState::S0);
        assert_eq!(conn_state(&tcp(""), Proto::Icmp, 1), ConnState::SF);
    }
}
