//! Numbers as people read them in summaries and tables: integers with thousands grouped,
//! small values with two decimals. One spelling for the page, the incident summaries and the
//! explanations, so the same figure reads the same everywhere.

/// Integers without decimals, small shares with two, large values with thousands grouped.
pub fn format_value(v: f64) -> String {
    if !v.is_finite() {
        return "n/a".to_string();
    }
    let rounded = v.round();
    if (v - rounded).abs() < 0.005 && v.abs() >= 1.0 || v == 0.0 {
        let digits = format!("{}", rounded.abs() as u64);
        let mut grouped = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                grouped.push(',');
            }
            grouped.push(c);
        }
        if rounded < 0.0 {
            grouped.insert(0, '-');
        }
        grouped
    } else if v.abs() < 10.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_naturally() {
        assert_eq!(format_value(412.0), "412");
        assert_eq!(format_value(1_234_567.0), "1,234,567");
        assert_eq!(format_value(0.0), "0");
        assert_eq!(format_value(0.6667), "0.67");
        assert_eq!(format_value(-3.0), "-3");
        assert_eq!(format_value(12.34), "12.3");
        assert_eq!(format_value(f64::NAN), "n/a");
    }
}
