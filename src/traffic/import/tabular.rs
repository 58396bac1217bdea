//! The CSV driver shared by CIC, KDD, UNSW-NB15, Argus, nfdump and generic CSV: reads the header (or makes
//! one), settles the column mapping, converts rows, collects labels and extra numeric columns.
//!
//! Not here: what the columns mean per format (see `cic`, `kdd`, `unsw`, `argus`, `nfdump`,
//! `generic_csv`).

use super::argus;
use super::cic;
use super::csv_reader::{
    normalize_name, parse_count, parse_f64, parse_time, sniff_delimiter, CsvReader,
};
use super::error::ImportError;
use super::format::Format;
use super::generic_csv::{row_to_flow, spellings, suggest_mapping, ColumnMapping};
use super::imported::ImportedTraffic;
use super::kdd;
use super::limits::ImportLimits;
use super::nfdump;
use super::progress::Progress;
use super::unsw;
use super::warnings::{ImportWarning, LimitKind, Location, Quantity, SkipReason};
use crate::traffic::flow::{FlowRecord, Proto};

/// Names never used as extra features: identifiers, row numbers and ground truth.
fn never_extra(name: &str) -> bool {
    matches!(normalize_name(name).as_str(), "id" | "uid" | "flowid")
        || super::csv_reader::is_ground_truth_name(name)
}

fn value(q: Quantity, f: &FlowRecord) -> f64 {
    match q {
        Quantity::Duration => f.duration_s,
        Quantity::BytesOut => f.bytes_out as f64,
        Quantity::BytesIn => f.bytes_in as f64,
        Quantity::PktsOut => f.pkts_out as f64,
        Quantity::PktsIn => f.pkts_in as f64,
    }
}

/// Warns about mapped quantity columns with one value in every row (two rows at least): a
/// mis-mapped column, or one the exporter left empty, reads as a constant. `said` are
/// quantities another warning already explains.
fn warn_constant_columns(
    out: &mut ImportedTraffic,
    m: &ColumnMapping,
    header: &[String],
    said: &[Quantity],
) {
    if out.flows.len() < 2 {
        return;
    }
    for q in Quantity::ALL.into_iter().filter(|q| !said.contains(q)) {
        let Some(column) = m.quantity(q).and_then(|c| header.get(c)) else {
            continue;
        };
        let v = value(q, &out.flows[0]);
        if out.flows.iter().all(|f| value(q, f) == v) {
            let warning = ImportWarning::ConstantColumn {
                quantity: q,
                column: column.trim().to_string(),
                value: v.to_string(),
                rows: out.flows.len() as u64,
            };
            out.warn(warning);
        }
    }
}

pub(crate) fn import_csv(
    bytes: &[u8],
    format: Format,
    mapping: Option<&ColumnMapping>,
    limits: &ImportLimits,
    progress: &mut Progress,
) -> Result<ImportedTraffic, ImportError> {
    let delimiter = sniff_delimiter(bytes);
    let mut reader = CsvReader::new(bytes, delimiter);
    let mut out = ImportedTraffic::new(format, bytes.len() as u64);
    let mut fields: Vec<String> = Vec::new();

    // The first record: a header, or (KDD, raw UNSW) already data.
    let first = match reader.next_record(&mut fields) {
        Some(Ok(pos)) => pos,
        Some(Err(_)) | None => {
            return Err(ImportError::NotThisFormat {
                format,
                expected: "UTF-8 text with a first row".into(),
            })
        }
    };
    let first_fields: Vec<&str> = fields.iter().map(|s| s.as_str()).collect();
    let headerless_unsw = format == Format::Unsw && unsw::looks_like_raw_row(&first_fields);
    let (header, mut pending_first_row, mut m) = if format == Format::Kdd {
        if !kdd::looks_like_row(&first_fields) {
            return Err(ImportError::NotThisFormat {
                format,
                expected: "41 to 43 comma-separated fields: duration, protocol, service, flag, ..."
                    .into(),
            });
        }
        (kdd::header(fields.len()), true, kdd::mapping(fields.len()))
    } else if headerless_unsw {
        let header: Vec<String> = unsw::RAW_NAMES.iter().map(|s| s.to_string()).collect();
        let m = suggest_mapping(&header);
        (header, true, m)
    } else {
        let header = fields.clone();
        let m = match mapping {
            Some(m) => m.clone(),
            None => {
                let m = suggest_mapping(&header);
                if format == Format::GenericCsv && super::detect::mapped_fields(&m) == 0 {
                    return Err(ImportError::MissingColumn {
                        format,
                        column: "any flow field (time, addresses, ports, bytes, ...)".into(),
                    });
                }
                m
            }
        };
        (header, false, m)
    };
    let names: Vec<String> = header.iter().map(|h| normalize_name(h)).collect();

    if format == Format::Unsw {
        if !headerless_unsw && !unsw::looks_like_header(&names) {
            return Err(ImportError::NotThisFormat {
                format,
                expected: "a header with UNSW-NB15 columns (sbytes, dbytes, spkts, ...)".into(),
            });
        }
        // The attack category is the richer label; the binary one is the fallback.
        if let Some(i) = names.iter().position(|n| n == "attackcat") {
            m.label = Some(i);
        }
        m.service = names.iter().position(|n| n == "service");
        out.warn(ImportWarning::BytesIncludeHeaders);
    }
    // Argus: bytes back are computed from TotBytes, packets are per direction only with
    // SrcPkts/DstPkts (see `argus`).
    let mut argus_tot_bytes = None;
    let mut argus_both_ways_pkts = false;
    if format == Format::Argus {
        if !argus::looks_like_header(&names) {
            return Err(ImportError::NotThisFormat {
                format,
                expected: "an Argus binetflow header (TotPkts, TotBytes, SrcBytes, ...)".into(),
            });
        }
        let col = |n: &str| names.iter().position(|x| x == n);
        if mapping.is_none() {
            m.bytes_out = col("srcbytes");
            m.bytes_in = None;
            argus_tot_bytes = col("totbytes");
            m.conn_state = col("state");
            match (col("srcpkts"), col("dstpkts")) {
                (Some(s), Some(d)) => {
                    m.pkts_out = Some(s);
                    m.pkts_in = Some(d);
                }
                _ => {
                    m.pkts_out = col("totpkts");
                    m.pkts_in = None;
                    argus_both_ways_pkts = m.pkts_out.is_some();
                }
            }
        }
        out.warn(ImportWarning::BytesIncludeHeaders);
        if argus_both_ways_pkts {
            if let Some(c) = m.pkts_out {
                out.warn(ImportWarning::PacketsBothWays {
                    column: header[c].trim().to_string(),
                });
            }
        }
    }
    // nfdump: fixed column names (1.6 or 1.7 spelling), flags for the TCP state, the end
    // time for the duration when no duration column is written (see `nfdump`).
    let mut nfdump_flags = None;
    let mut nfdump_end = None;
    if format == Format::Nfdump {
        if !nfdump::looks_like_header(&names) {
            return Err(ImportError::NotThisFormat {
                format,
                expected: "an nfdump CSV header (ts,te,td,sa,da,... or firstSeen,srcAddr,...)"
                    .into(),
            });
        }
        let cols = nfdump::columns(&names);
        if mapping.is_none() {
            m = cols.mapping;
        }
        nfdump_flags = cols.flags;
        nfdump_end = cols
            .end
            .filter(|_| m.duration.is_none() && m.time.is_some());
    }
    if format == Format::Cic && !cic::looks_like_header(&names) {
        return Err(ImportError::NotThisFormat {
            format,
            expected: "a CICFlowMeter header (Flow Duration, Total Fwd Packets, ...)".into(),
        });
    }
    for col in m.used_columns() {
        if col >= header.len() {
            return Err(ImportError::MappingOutOfRange {
                column_index: col,
                columns: header.len(),
            });
        }
    }
    let label_from_attack_cat = m
        .label
        .and_then(|i| names.get(i))
        .is_some_and(|n| n == "attackcat");
    out.has_labels = m.label.is_some();
    if m.src_ip.is_none() && m.dst_ip.is_none() {
        out.warn(ImportWarning::SynthesizedAddresses);
    }
    if m.time.is_none() {
        out.warn(ImportWarning::SynthesizedTimestamps);
    }
    if m.conn_state.is_none() {
        out.warn(ImportWarning::DerivedConnState);
    }
    // A quantity without a column reads 0 everywhere; silently, that turns every flow into a
    // failed connection. The spellings tried are listed only when the header was searched.
    let header_searched = mapping.is_none() && format != Format::Kdd && !headerless_unsw;
    for q in Quantity::ALL {
        // Computed from TotBytes, or said by PacketsBothWays.
        let argus_covered = match q {
            Quantity::BytesIn => argus_tot_bytes.is_some(),
            Quantity::PktsIn => argus_both_ways_pkts,
            // nfdump without td: last seen − first seen.
            Quantity::Duration => nfdump_end.is_some(),
            _ => false,
        };
        if m.quantity(q).is_none() && !argus_covered {
            out.warn(ImportWarning::ColumnNotFound {
                quantity: q,
                looked_for: if header_searched {
                    spellings(q).iter().map(|s| s.to_string()).collect()
                } else {
                    Vec::new()
                },
            });
        }
    }
    let used = m.used_columns();
    let extra_cols: Vec<usize> = (0..header.len())
        .filter(|c| !used.contains(c) && !never_extra(&header[*c]))
        .filter(|c| !(format == Format::Cic && cic::is_identifier(&header[*c])))
        // TotBytes became bytes back; Dir is an arrow, not a number.
        .filter(|c| {
            !(format == Format::Argus && (Some(*c) == argus_tot_bytes || names[*c] == "dir"))
        })
        .filter(|c| !(format == Format::Nfdump && nfdump::is_not_feature(&names[*c])))
        .collect();
    out.extra_columns = extra_cols
        .iter()
        .map(|&c| header[c].trim().to_string())
        .collect();

    let expected_fields = header.len();
    let mut non_finite: u64 = 0;
    let mut unlabelled: u64 = 0;
    let mut local_time = false;
    let mut rows: u64 = 0;
    let mut row_pos = first;
    loop {
        if !pending_first_row {
            match reader.next_record(&mut fields) {
                None => break,
                Some(Err(line)) => {
                    out.skip(limits, Location::Line(line), SkipReason::NotUtf8);
                    continue;
                }
                Some(Ok(pos)) => row_pos = pos,
            }
        }
        pending_first_row = false;
        if format == Format::Nfdump && nfdump::is_summary_row(&fields) {
            out.warn(ImportWarning::SummaryLeftOut { line: row_pos.line });
            break;
        }
        progress.at(reader.position() as u64)?;
        rows += 1;
        if rows > limits.max_rows as u64 {
            out.warn(ImportWarning::LimitReached {
                limit: LimitKind::Rows,
                value: limits.max_rows as u64,
            });
            break;
        }
        if out.flows.len() >= limits.max_flows {
            out.warn(ImportWarning::LimitReached {
                limit: LimitKind::Flows,
                value: limits.max_flows as u64,
            });
            break;
        }
        let line = Location::Line(row_pos.line);
        let count_ok = if format == Format::Kdd {
            (41..=43).contains(&fields.len())
        } else {
            fields.len() == expected_fields
        };
        if !count_ok {
            out.skip(
                limits,
                line,
                SkipReason::FieldCount {
                    expected: expected_fields,
                    found: fields.len(),
                },
            );
            continue;
        }
        let outcome = match row_to_flow(&fields, &m, out.flows.len() as u64) {
            Ok(mut o) if format == Format::Argus => {
                if let Some(c) = argus_tot_bytes {
                    let text = fields[c].trim();
                    let tot = match text {
                        "" | "-" => Some(o.flow.bytes_out),
                        _ => parse_count(text),
                    };
                    match tot.and_then(|t| t.checked_sub(o.flow.bytes_out)) {
                        Some(back) => o.flow.bytes_in = back,
                        None => {
                            out.skip(
                                limits,
                                line,
                                SkipReason::BadValue {
                                    column: format!(
                                        "{} (must be at least SrcBytes, {})",
                                        header[c].trim(),
                                        o.flow.bytes_out
                                    ),
                                    value: text.to_string(),
                                },
                            );
                            continue;
                        }
                    }
                }
                if let Some(state) = m
                    .conn_state
                    .and_then(|c| argus::conn_state(&fields[c], o.flow.proto))
                {
                    o.flow.conn_state = state;
                }
                o
            }
            Ok(mut o) if format == Format::Nfdump => {
                if let Some(c) = nfdump_end {
                    let text = fields[c].trim();
                    match parse_time(text) {
                        Some((end, _)) => o.flow.duration_s = (end - o.flow.ts).max(0.0),
                        None => {
                            out.skip(
                                limits,
                                line,
                                SkipReason::BadValue {
                                    column: header[c].trim().to_string(),
                                    value: text.to_string(),
                                },
                            );
                            continue;
                        }
                    }
                }
                if o.flow.proto == Proto::Icmp {
                    if let Some((ty, code)) =
                        m.dst_port.and_then(|c| nfdump::icmp_type_code(&fields[c]))
                    {
                        o.flow.src_port = ty;
                        o.flow.dst_port = code;
                    }
                }
                if let Some(state) =
                    nfdump_flags.and_then(|c| nfdump::conn_state(&fields[c], o.flow.proto))
                {
                    o.flow.conn_state = state;
                }
                o
            }
            Ok(o) => o,
            Err(bad) => {
                let column = header
                    .get(bad.column)
                    .map(|h| h.trim().to_string())
                    .unwrap_or_default();
                out.skip(
                    limits,
                    line,
                    SkipReason::BadValue {
                        column,
                        value: bad.value,
                    },
                );
                continue;
            }
        };
        local_time |= outcome.local_time;
        let label = if format == Format::Unsw {
            unsw::label_text(outcome.label.as_deref(), label_from_attack_cat)
        } else if format == Format::Kdd {
            outcome.label.map(|l| l.trim_end_matches('.').to_string())
        } else {
            outcome.label
        };
        let truth = match label {
            Some(l) => Some(out.label_id(&l)),
            None => {
                if out.has_labels {
                    unlabelled += 1;
                }
                None
            }
        };
        for &c in &extra_cols {
            let v = fields.get(c).and_then(|t| parse_f64(t));
            let v = match v {
                Some(v) if v.is_finite() => v,
                Some(_) => {
                    non_finite += 1;
                    f64::NAN
                }
                None => f64::NAN,
            };
            out.extra_values.push(v);
        }
        out.flows.push(outcome.flow);
        out.truth.push(truth);
    }
    // A unidirectional nfdump export: output counts 0 everywhere (see `nfdump`).
    let mut said = Vec::new();
    if format == Format::Nfdump
        && !out.flows.is_empty()
        && out.flows.iter().all(|f| f.bytes_in == 0 && f.pkts_in == 0)
    {
        let columns: Vec<String> = [m.pkts_in, m.bytes_in]
            .into_iter()
            .flatten()
            .map(|c| header[c].trim().to_string())
            .collect();
        if !columns.is_empty() {
            out.warn(ImportWarning::NothingSentBack { columns });
            said = vec![Quantity::BytesIn, Quantity::PktsIn];
        }
    }
    warn_constant_columns(&mut out, &m, &header, &said);
    if non_finite > 0 {
        out.warn(ImportWarning::NonFiniteCells { count: non_finite });
    }
    if unlabelled > 0 {
        out.warn(ImportWarning::UnlabelledRows { count: unlabelled });
    }
    if local_time {
        out.warn(ImportWarning::LocalTimesAsUtc);
    }
    Ok(out)
}
