//! Which Zeek log a header (`#path`, `#fields`) or a JSON record is, so that a dns.log, an
//! http.log or any other non-conn log is refused with its name instead of being read as
//! connections (its rows share `ts`, `uid` and `id.*` with conn.log, so they would import as
//! flows with no bytes, packets or state: plausible-looking garbage).
//!
//! Rules, in order: fields that only conn.log carries (`conn_state`, `orig_bytes`,
//! `orig_pkts`, `history`, ...) next to `id.orig_h`/`id.resp_h` make a conn log whatever the
//! path says (a renamed or derived conn log, e.g. `#path conn_long`, is still connections);
//! otherwise a path other than `conn` names the log; otherwise signature fields name it
//! (`query`+`qtype` for dns, `method`+`uri` for http, ...). Not here: reading the rows
//! (`zeek`).

/// What a Zeek header or record turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    Conn,
    /// Another log: its name when known (`"dns"`), and what showed it, in analyst words.
    Other {
        log: Option<String>,
        evidence: String,
    },
}

/// Fields of conn.log that no other standard Zeek log has (`duration` is not one: files.log
/// and dhcp.log carry it too).
const CONN_ONLY: [&str; 7] = [
    "conn_state",
    "orig_bytes",
    "resp_bytes",
    "orig_pkts",
    "resp_pkts",
    "history",
    "orig_ip_bytes",
];

/// Per log: fields that tell it apart; two of them must be present to name it, so one
/// coincidental column name in a custom log does not.
const SIGNATURES: [(&str, &[&str]); 18] = [
    (
        "dns",
        &["query", "qtype", "qtype_name", "rcode", "trans_id"],
    ),
    ("http", &["method", "uri", "user_agent", "status_code"]),
    (
        "ssl",
        &["cipher", "server_name", "ssl_history", "cert_chain_fps"],
    ),
    (
        "x509",
        &["fingerprint", "certificate.subject", "certificate.issuer"],
    ),
    ("files", &["fuid", "seen_bytes", "mime_type", "analyzers"]),
    ("weird", &["name", "addl", "peer"]),
    ("notice", &["note", "msg", "actions", "suppress_for"]),
    (
        "ssh",
        &["auth_success", "host_key_alg", "kex_alg", "cipher_alg"],
    ),
    ("dhcp", &["msg_types", "assigned_addr", "lease_time"]),
    ("smtp", &["mailfrom", "rcptto", "helo"]),
    ("ftp", &["command", "reply_code", "reply_msg"]),
    ("software", &["software_type", "unparsed_version"]),
    ("rdp", &["cookie", "security_protocol"]),
    ("snmp", &["community", "get_requests"]),
    ("kerberos", &["request_type", "till", "forwardable"]),
    ("ntp", &["stratum", "ref_id", "poll"]),
    ("sip", &["call_id", "request_from"]),
    ("dpd", &["analyzer", "failure_reason"]),
];

fn has(fields: &[&str], name: &str) -> bool {
    fields.contains(&name)
}

/// True when the fields are a conn log's: endpoints plus a conn-only field, or two conn-only
/// fields (Zeek's `Log::default_field_name_map` can rename the endpoints, e.g. to `src`; such
/// a log is still a conn.log, and its rows then fail on the missing endpoint one by one).
pub(crate) fn conn_like(fields: &[&str]) -> bool {
    let conn_only = CONN_ONLY.iter().filter(|f| has(fields, f)).count();
    conn_only >= 2 || (conn_only == 1 && has(fields, "id.orig_h") && has(fields, "id.resp_h"))
}

/// The conn.log name of a field written with Zeek's `Log::default_scope_sep` set to `_`
/// (`id_orig_h`), so such logs read like the default ones.
pub(crate) fn canonical_field(name: &str) -> &str {
    match name {
        "id_orig_h" => "id.orig_h",
        "id_orig_p" => "id.orig_p",
        "id_resp_h" => "id.resp_h",
        "id_resp_p" => "id.resp_p",
        other => other,
    }
}

/// The log whose signature fields match best (at least two), with the fields that matched.
fn named_by_fields<'a>(fields: &[&str]) -> Option<(&'a str, Vec<&'a str>)> {
    SIGNATURES
        .iter()
        .map(|(log, sig)| {
            let hits: Vec<&str> = sig.iter().copied().filter(|f| has(fields, f)).collect();
            (*log, hits)
        })
        .filter(|(_, hits)| hits.len() >= 2)
        .max_by_key(|(_, hits)| hits.len())
}

/// Decides what a log is from its path (`#path` in TSV, `_path` in JSON; `path_source` says
/// which, for the message) and its field names. `strict`: a header without endpoint fields
/// is refused even when no signature names it (a TSV header describes the whole log; a JSON
/// line missing them is one bad record, reported as such).
pub(crate) fn verdict(
    path: Option<&str>,
    path_source: &str,
    fields: &[&str],
    strict: bool,
) -> Verdict {
    if conn_like(fields) {
        return Verdict::Conn;
    }
    match path.map(str::trim).filter(|p| !p.is_empty()) {
        // Trust a conn path: bad rows are then reported one by one as usual.
        Some("conn") => return Verdict::Conn,
        Some(p) => {
            return Verdict::Other {
                log: Some(p.to_string()),
                evidence: format!("{path_source} {p}"),
            }
        }
        None => {}
    }
    if let Some((log, hits)) = named_by_fields(fields) {
        return Verdict::Other {
            log: Some(log.to_string()),
            evidence: format!("its fields include {}", hits.join(", ")),
        };
    }
    if strict && !(has(fields, "id.orig_h") && has(fields, "id.resp_h")) {
        return Verdict::Other {
            log: None,
            evidence:
                "it has no id.orig_h and id.resp_h fields, so it does not describe connections"
                    .into(),
        };
    }
    Verdict::Conn
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONN: [&str; 8] = [
        "ts",
        "uid",
        "id.orig_h",
        "id.orig_p",
        "id.resp_h",
        "id.resp_p",
        "proto",
        "conn_state",
    ];
    // Zeek 6's dns.log shares ts, uid, id.* and proto with conn.log.
    const DNS: [&str; 10] = [
        "ts",
        "uid",
        "id.orig_h",
        "id.orig_p",
        "id.resp_h",
        "id.resp_p",
        "proto",
        "trans_id",
        "query",
        "qtype",
    ];

    #[test]
    fn conn_fields_win_over_a_renamed_path() {
        assert_eq!(verdict(None, "#path", &CONN, true), Verdict::Conn);
        // Endpoints renamed by a field name map: two conn-only fields still say conn.
        let renamed = ["ts", "src", "dst", "proto", "conn_state", "history"];
        assert_eq!(verdict(None, "#path", &renamed, true), Verdict::Conn);
        assert_eq!(
            verdict(Some("conn_long"), "#path", &CONN, true),
            Verdict::Conn
        );
    }

    #[test]
    fn path_names_the_log_and_fields_do_without_it() {
        assert_eq!(
            verdict(Some("dns"), "#path", &DNS, true),
            Verdict::Other {
                log: Some("dns".into()),
                evidence: "#path dns".into()
            }
        );
        assert_eq!(
            verdict(None, "#path", &DNS, false),
            Verdict::Other {
                log: Some("dns".into()),
                evidence: "its fields include query, qtype, trans_id".into()
            }
        );
        let http = ["ts", "id.orig_h", "id.resp_h", "method", "host", "uri"];
        assert!(matches!(
            verdict(None, "_path", &http, false),
            Verdict::Other { log: Some(l), .. } if l == "http"
        ));
    }

    #[test]
    fn endpointless_headers_are_refused_only_when_strict() {
        let x = ["ts", "uid", "proto"];
        assert!(matches!(
            verdict(None, "#path", &x, true),
            Verdict::Other { log: None, .. }
        ));
        assert_eq!(verdict(None, "_path", &x, false), Verdict::Conn);
        // One matching signature field is not enough to name a log.
        assert_eq!(
            verdict(
                None,
                "_path",
                &["ts", "id.orig_h", "id.resp_h", "query"],
                false
            ),
            Verdict::Conn
        );
    }
}
