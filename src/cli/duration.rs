//! Durations on the command line: `90s`, `30m`, `1h`, `1500ms`, `1h30m`; a bare number is ms.

use std::fmt::Write as _;

/// Parses a duration into milliseconds.
pub fn parse_duration_ms(text: &str) -> Result<i64, String> {
    let text = text.trim();
    if let Ok(ms) = text.parse::<i64>() {
        return Ok(ms);
    }
    let mut total: i64 = 0;
    let mut rest = text;
    if rest.is_empty() {
        return Err("empty duration".into());
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(format!("bad duration {text:?} (try 90s, 30m, 1h, 1500ms)"));
        }
        let value: i64 = rest[..digits]
            .parse()
            .map_err(|_| format!("bad duration {text:?}"))?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit_ms = match &rest[..unit_len] {
            "ms" => 1,
            "s" => 1_000,
            "m" | "min" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            other => {
                return Err(format!(
                    "unknown unit {other:?} in {text:?} (ms, s, m, h, d)"
                ))
            }
        };
        rest = &rest[unit_len..];
        total = value
            .checked_mul(unit_ms)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(|| format!("duration {text:?} is too long"))?;
    }
    Ok(total)
}

/// A duration as [`parse_duration_ms`] reads it, rounded for people: `23h30m` (whole
/// minutes from an hour up), `1m30s`, `1500ms` (under ten seconds).
pub fn format_duration_ms(ms: i64) -> String {
    if ms < 10_000 {
        return format!("{ms}ms");
    }
    let (h, m, sec) = if ms >= 3_600_000 {
        let minutes = (ms + 30_000) / 60_000;
        (minutes / 60, minutes % 60, 0)
    } else {
        let seconds = (ms + 500) / 1000;
        (0, seconds / 60, seconds % 60)
    };
    let mut out = String::new();
    if h > 0 {
        let _ = write!(out, "{h}h");
    }
    if m > 0 {
        let _ = write!(out, "{m}m");
    }
    if sec > 0 {
        let _ = write!(out, "{sec}s");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formatted_durations_read_back() {
        for (ms, text) in [(1_500, "1500ms"), (90_000, "1m30s"), (28_380_000, "7h53m")] {
            assert_eq!(format_duration_ms(ms), text);
            assert_eq!(parse_duration_ms(text), Ok(ms));
        }
    }

    #[test]
    fn parses_units_and_compounds() {
        assert_eq!(parse_duration_ms("1500"), Ok(1500));
        assert_eq!(parse_duration_ms("1500ms"), Ok(1500));
        assert_eq!(parse_duration_ms("90s"), Ok(90_000));
        assert_eq!(parse_duration_ms("30m"), Ok(1_800_000));
        assert_eq!(parse_duration_ms("1h30m"), Ok(5_400_000));
        assert_eq!(parse_duration_ms("2d"), Ok(172_800_000));
        assert!(parse_duration_ms("").is_err());
        assert!(parse_duration_ms("5 parsecs").is_err());
        assert!(parse_duration_ms("h").is_err());
        assert!(parse_duration_ms("99999999999999999d").is_err());
    }
}
