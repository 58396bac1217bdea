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

/// (year, month, day) → days since 1970-01-01, the inverse of `civil_from_days`. Callers keep
/// years to 1..=9999 (ISO 8601's four digits): far larger ones overflow.
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (i64::from(month) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
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

    #[test]
    fn days_from_civil_inverts_civil_from_days_over_the_four_digit_years() {
        // 9999-12-31T00:00:00Z = 253_402_214_400 s, a well-known bound.
        assert_eq!(days_from_civil(9999, 12, 31) * 86_400, 253_402_214_400);
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        for days in (-719_162..=2_932_896).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days, "{y}-{m}-{d}");
        }
    }
}
