//! RFC 3339 timestamps ↔ epoch milliseconds, for `--start`, `--from` and promotions'
//! `valid_until`. Small enough not to need a date crate: the proleptic Gregorian calendar in
//! UTC, offsets accepted on input.

/// Formats epoch milliseconds as `2025-11-26T09:00:00Z` (`.123` added when not whole seconds).
pub fn format_rfc3339_ms(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let (hh, mm, ss) = (sod / 3600, sod % 3600 / 60, sod % 60);
    if millis == 0 {
        format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}Z")
    } else {
        format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}.{millis:03}Z")
    }
}

/// The UTC time of day of epoch milliseconds, `09:00:00`: how the console labels record
/// times, whose day is on the timeline.
pub fn format_clock_ms(ms: i64) -> String {
    let sod = ms.div_euclid(1000).rem_euclid(86_400);
    format!("{:02}:{:02}:{:02}", sod / 3600, sod % 3600 / 60, sod % 60)
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.fff…](Z|±HH:MM)` (a space may stand for the `T`).
pub fn parse_rfc3339_ms(text: &str) -> Result<i64, String> {
    let bad = || format!("not an RFC 3339 time: {text:?} (e.g. 2025-11-26T09:00:00Z)");
    let b = text.trim().as_bytes();
    if b.len() < 20 {
        return Err(bad());
    }
    let num = |from: usize, len: usize| -> Result<i64, String> {
        let s = std::str::from_utf8(b.get(from..from + len).ok_or_else(bad)?).map_err(|_| bad())?;
        if !s.bytes().all(|c| c.is_ascii_digit()) {
            return Err(bad());
        }
        s.parse().map_err(|_| bad())
    };
    let separators_ok = b[4] == b'-'
        && b[7] == b'-'
        && matches!(b[10], b'T' | b't' | b' ')
        && b[13] == b':'
        && b[16] == b':';
    if !separators_ok {
        return Err(bad());
    }
    let (y, mo, d, h, mi, s) = (
        num(0, 4)?,
        num(5, 2)?,
        num(8, 2)?,
        num(11, 2)?,
        num(14, 2)?,
        num(17, 2)?,
    );
    if !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || s > 60 {
        return Err(bad());
    }
    let mut i = 19;
    let mut millis = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return Err(bad());
        }
        let frac = &text.trim()[start..i];
        let ms_digits: String = frac.chars().chain("000".chars()).take(3).collect();
        millis = ms_digits.parse::<i64>().map_err(|_| bad())?;
    }
    let offset_s = match b.get(i) {
        Some(b'Z' | b'z') if i + 1 == b.len() => 0,
        Some(sign @ (b'+' | b'-')) if i + 6 == b.len() && b[i + 3] == b':' => {
            let minutes = num(i + 1, 2)? * 60 + num(i + 4, 2)?;
            if *sign == b'+' {
                minutes * 60
            } else {
                -minutes * 60
            }
        }
        _ => return Err(bad()),
    };
    let secs = days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s - offset_s;
    Ok(secs * 1000 + millis)
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_is_the_time_of_day_of_the_rfc3339_form() {
        for ms in [0, 999, 1_764_148_833_000, 1_764_148_833_999, -1, 86_399_999] {
            let full = format_rfc3339_ms(ms);
            assert_eq!(format_clock_ms(ms), full[11..19], "{full}");
        }
    }

    #[test]
    fn known_instants() {
        assert_eq!(parse_rfc3339_ms("1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(
            parse_rfc3339_ms("2025-11-26T08:04:44.481Z"),
            Ok(1_764_144_284_481)
        );
        assert_eq!(
            format_rfc3339_ms(1_764_144_284_481),
            "2025-11-26T08:04:44.481Z"
        );
        assert_eq!(format_rfc3339_ms(1_764_147_600_000), "2025-11-26T09:00:00Z");
        assert_eq!(
            parse_rfc3339_ms("2025-11-26T10:00:00+01:00"),
            Ok(1_764_147_600_000)
        );
        assert_eq!(
            parse_rfc3339_ms("2024-02-29 23:59:59.5-00:30"),
            Ok(1_709_251_199_500 + 1_800_000)
        );
    }

    #[test]
    fn refuses_what_is_not_a_time() {
        for bad in [
            "",
            "yesterday",
            "2025-13-01T00:00:00Z",
            "2025-02-29T00:00:00Z",
            "2025-11-26T09:00:00",
            "2025-11-26T09:00:00Zx",
        ] {
            assert!(parse_rfc3339_ms(bad).is_err(), "{bad}");
        }
    }

    proptest::proptest! {
        #[test]
        fn round_trips(ms in -62_135_596_800_000i64..253_402_300_799_999) {
            proptest::prop_assert_eq!(parse_rfc3339_ms(&format_rfc3339_ms(ms)), Ok(ms));
        }
    }
}
