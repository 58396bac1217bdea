//! Unix timestamps as readable UTC text, without a date-time dependency.
//!
//! Only what the UI and reports need: `YYYY-MM-DD HH:MM:SS` and ISO 8601. Not a calendar.

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (Howard Hinnant's method).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn parts(ts: f64) -> (i64, u32, u32, i64, i64, i64) {
    let secs = ts.floor() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    (y, m, d, rem / 3600, rem % 3600 / 60, rem % 60)
}

/// `2026-01-01 10:00:00`
pub fn format_utc(ts: f64) -> String {
    if !ts.is_finite() {
        return "-".to_string();
    }
    let (y, mo, d, h, mi, s) = parts(ts);
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}")
}

/// `10:00:00`
pub fn format_time_of_day(ts: f64) -> String {
    if !ts.is_finite() {
        return "-".to_string();
    }
    let (_, _, _, h, mi, s) = parts(ts);
    format!("{h:02}:{mi:02}:{s:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_instants() {
        assert_eq!(format_utc(0.0), "1970-01-01 00:00:00");
        assert_eq!(format_utc(1_767_261_600.0), "2026-01-01 10:00:00");
        // 2024-02-29 is a leap day: 1_709_164_800 = 2024-02-29T00:00:00Z.
        assert_eq!(format_utc(1_709_164_800.5), "2024-02-29 00:00:00");
        assert_eq!(format_utc(-1.0), "1969-12-31 23:59:59");
        assert_eq!(format_time_of_day(1_767_261_600.0 + 3725.0), "11:02:05");
        assert_eq!(format_utc(f64::NAN), "-");
    }
}
