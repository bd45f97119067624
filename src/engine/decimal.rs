//! DECIMAL(10,5), the type of every coordinate in the original streams.
//!
//! ksqlDB reads a DECIMAL from the JSON number's literal text into a `BigDecimal` and refuses a
//! value that does not fit without rounding. We read the same literal text with `rust_decimal`
//! (never through f64, which would turn `41.886925` into `41.88692499999…`), apply the chosen
//! [`DecimalPolicy`] and keep the value as a fixed-point integer of 10⁻⁵ units: exact, `Copy`,
//! and convertible to the nearest f64 with one correctly rounded division — the same double
//! `BigDecimal::doubleValue` gives ksqlDB's GEO_DISTANCE.

use std::fmt;
use std::io::Write as _;
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

/// Digits after the point in DECIMAL(10,5).
pub const SCALE: u32 = 5;
/// 10^SCALE.
const UNITS_PER_ONE: i64 = 100_000;
/// DECIMAL(10,5) holds at most 5 integer digits: |value| < 100000.
const MAX_ABS_UNITS: i64 = 100_000 * UNITS_PER_ONE;

/// What to do with a value that has more than 5 fractional digits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecimalPolicy {
    /// As ksqlDB: reject the record ("decimal scale > 5").
    Strict,
    /// Round half-up (away from zero, Java's HALF_UP) to 5 digits.
    #[default]
    Round,
}

impl DecimalPolicy {
    pub fn name(self) -> &'static str {
        match self {
            DecimalPolicy::Strict => "strict",
            DecimalPolicy::Round => "round",
        }
    }
}

impl FromStr for DecimalPolicy {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "strict" => Ok(DecimalPolicy::Strict),
            "round" => Ok(DecimalPolicy::Round),
            other => Err(format!(
                "unknown decimal policy {other:?} (strict or round)"
            )),
        }
    }
}

/// Why a literal is not a DECIMAL(10,5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
pub enum DecimalError {
    #[error("not a decimal number")]
    NotANumber,
    #[error("decimal scale > 5")]
    ScaleTooLarge,
    #[error("decimal out of range (|value| must be < 100000)")]
    OutOfRange,
}

/// A DECIMAL(10,5) value: an exact count of 10⁻⁵ units.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Decimal5 {
    units: i64,
}

impl Decimal5 {
    /// The value with `units` × 10⁻⁵; `None` when |value| ≥ 100000.
    pub fn from_units(units: i64) -> Option<Self> {
        (units.abs() < MAX_ABS_UNITS).then_some(Self { units })
    }

    pub fn units(self) -> i64 {
        self.units
    }

    /// The nearest f64, as Java's `BigDecimal.doubleValue()` gives it: both operands are exact
    /// doubles, so IEEE division rounds the true quotient once.
    pub fn to_f64(self) -> f64 {
        self.units as f64 / UNITS_PER_ONE as f64
    }

    pub fn to_decimal(self) -> Decimal {
        Decimal::new(self.units, SCALE)
    }

    /// Parses a JSON number literal (or the text of a JSON string holding one).
    pub fn parse(literal: &str, policy: DecimalPolicy) -> Result<Self, DecimalError> {
        if let Some(units) = parse_plain_units(literal) {
            return Ok(Self { units });
        }
        let decimal = parse_decimal_literal(literal, policy)?;
        let fitted = if decimal.scale() > SCALE {
            match policy {
                DecimalPolicy::Strict => return Err(DecimalError::ScaleTooLarge),
                DecimalPolicy::Round => {
                    decimal.round_dp_with_strategy(SCALE, RoundingStrategy::MidpointAwayFromZero)
                }
            }
        } else {
            decimal
        };
        let mut scaled = fitted;
        scaled.rescale(SCALE);
        // After rescaling to 5 digits the mantissa is the unit count; anything that does not
        // fit an i64 is far outside DECIMAL(10,5) anyway.
        let mantissa = scaled.mantissa();
        i64::try_from(mantissa)
            .ok()
            .and_then(Self::from_units)
            .ok_or(DecimalError::OutOfRange)
    }
}

/// The fast path for the literals producers actually send (`-87.59927`, `41.5`, `3`): at most
/// 5 integer and 5 fractional digits, no exponent. Exact, and the same under both policies;
/// anything else goes the general way.
fn parse_plain_units(literal: &str) -> Option<i64> {
    let bytes = literal.as_bytes();
    let (negative, digits) = match bytes.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, bytes),
    };
    let (int_part, frac_part) = match digits.iter().position(|&b| b == b'.') {
        Some(dot) => (&digits[..dot], &digits[dot + 1..]),
        None => (digits, &[][..]),
    };
    let leading_zero = int_part.len() > 1 && int_part[0] == b'0';
    let has_dot = int_part.len() < digits.len();
    if int_part.is_empty()
        || int_part.len() > 5
        || leading_zero
        || frac_part.len() > SCALE as usize
        || (has_dot && frac_part.is_empty())
    {
        return None;
    }
    let mut units: i64 = 0;
    for &b in int_part.iter().chain(frac_part) {
        if !b.is_ascii_digit() {
            return None;
        }
        units = units * 10 + i64::from(b - b'0');
    }
    units *= 10i64.pow(SCALE - frac_part.len() as u32);
    Some(if negative { -units } else { units })
}

/// Reads a JSON number literal exactly. Literals with more digits than `rust_decimal` holds
/// (28) are refused under `strict` (their scale is certainly > 5 or they are out of range) and
/// rounded under `round`.
fn parse_decimal_literal(literal: &str, policy: DecimalPolicy) -> Result<Decimal, DecimalError> {
    let valid_number = is_json_number(literal);
    if !valid_number {
        return Err(DecimalError::NotANumber);
    }
    let has_exponent = literal.bytes().any(|b| b == b'e' || b == b'E');
    let exact = if has_exponent {
        Decimal::from_scientific(literal)
    } else {
        Decimal::from_str_exact(literal)
    };
    match exact {
        Ok(d) => Ok(d),
        Err(_) => {
            // Too many digits for 96 bits, or an exponent far out of range.
            let integer_digits = integer_digit_count(literal);
            if integer_digits > 5 {
                return Err(DecimalError::OutOfRange);
            }
            match policy {
                DecimalPolicy::Strict => Err(DecimalError::ScaleTooLarge),
                DecimalPolicy::Round => {
                    Decimal::from_str(literal).map_err(|_| DecimalError::OutOfRange)
                }
            }
        }
    }
}

/// Integer digits of a plain literal (exponents counted roughly; used only for error choice).
fn integer_digit_count(literal: &str) -> usize {
    let mantissa = literal.split(['e', 'E']).next().unwrap_or(literal);
    let int_part = mantissa
        .trim_start_matches('-')
        .split('.')
        .next()
        .unwrap_or("");
    let significant = int_part.trim_start_matches('0').len();
    let exponent: i64 = literal
        .split(['e', 'E'])
        .nth(1)
        .and_then(|e| e.parse().ok())
        .unwrap_or(0);
    (significant as i64 + exponent).max(0) as usize
}

/// True for text that matches the JSON number grammar (strings holding numbers come here too).
fn is_json_number(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut i = 0;
    if bytes.first() == Some(&b'-') {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let start = *i;
        while bytes.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - start
    };
    match bytes.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => {
            digits(&mut i);
        }
        _ => return false,
    }
    if bytes.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    }
    if let Some(b'e' | b'E') = bytes.get(i) {
        i += 1;
        if let Some(b'+' | b'-') = bytes.get(i) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == bytes.len()
}

impl Decimal5 {
    /// Appends the value with five fractional digits (the hot path of output writing: every
    /// NEARBY_CUSTOMERS has four). Sign, whole part and fraction are laid out in a block of a
    /// fixed size, so appending it is a couple of stores rather than a call to `memcpy`.
    pub fn write_to(self, out: &mut Vec<u8>) {
        let abs = self.units.unsigned_abs();
        let one = UNITS_PER_ONE as u64;
        let (whole, mut frac) = (abs / one, abs % one);
        let whole_digits = match whole {
            0..=9 => 1,
            10..=99 => 2,
            100..=999 => 3,
            1_000..=9_999 => 4,
            10_000..=99_999 => 5,
            // `from_units` and `parse` keep values below 10⁵.
            _ => return self.write_long_to(out),
        };
        let mut block = [0u8; 16];
        let mut at = usize::from(self.units < 0);
        block[0] = b'-';
        let mut rest = whole;
        for slot in block[at..at + whole_digits].iter_mut().rev() {
            *slot = b'0' + (rest % 10) as u8;
            rest /= 10;
        }
        at += whole_digits;
        block[at] = b'.';
        for slot in block[at + 1..at + 1 + SCALE as usize].iter_mut().rev() {
            *slot = b'0' + (frac % 10) as u8;
            frac /= 10;
        }
        at += 1 + SCALE as usize;
        let len = out.len();
        out.extend_from_slice(&block);
        out.truncate(len + at);
    }

    /// A value past DECIMAL(10,5), which nothing makes: written the slow way, not wrongly.
    #[cold]
    fn write_long_to(self, out: &mut Vec<u8>) {
        let _ = write!(out, "{self}");
    }
}

impl fmt::Display for Decimal5 {
    /// Always five fractional digits, like ksqlDB prints a DECIMAL(10,5).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.units < 0 { "-" } else { "" };
        let abs = self.units.unsigned_abs();
        let one = UNITS_PER_ONE as u64;
        write!(f, "{sign}{}.{:05}", abs / one, abs % one)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round(s: &str) -> Result<String, DecimalError> {
        Decimal5::parse(s, DecimalPolicy::Round).map(|d| d.to_string())
    }

    fn strict(s: &str) -> Result<String, DecimalError> {
        Decimal5::parse(s, DecimalPolicy::Strict).map(|d| d.to_string())
    }

    #[test]
    fn five_digits_pass_both_policies() {
        assert_eq!(round("41.88696").unwrap(), "41.88696");
        assert_eq!(strict("41.88696").unwrap(), "41.88696");
        assert_eq!(strict("-87.5").unwrap(), "-87.50000");
        assert_eq!(strict("1").unwrap(), "1.00000");
        assert_eq!(strict("-0").unwrap(), "0.00000");
    }

    #[test]
    fn round_is_half_up_away_from_zero() {
        assert_eq!(round("41.886925").unwrap(), "41.88693");
        assert_eq!(round("41.886935").unwrap(), "41.88694");
        assert_eq!(round("-87.599275").unwrap(), "-87.59928");
        assert_eq!(round("41.8869249999").unwrap(), "41.88692");
        assert_eq!(round("0.000005").unwrap(), "0.00001");
        assert_eq!(round("-0.000004").unwrap(), "0.00000");
    }

    #[test]
    fn strict_rejects_more_than_five_fractional_digits() {
        assert_eq!(strict("41.886925"), Err(DecimalError::ScaleTooLarge));
        // Trailing zeros count, as BigDecimal's scale does.
        assert_eq!(strict("41.886960"), Err(DecimalError::ScaleTooLarge));
        assert_eq!(strict("41.8869251"), Err(DecimalError::ScaleTooLarge));
        assert_eq!(round("41.886960").unwrap(), "41.88696");
    }

    #[test]
    fn exponents_are_read_exactly() {
        assert_eq!(strict("4.188696E1").unwrap(), "41.88696");
        assert_eq!(strict("1e2").unwrap(), "100.00000");
        assert_eq!(strict("4188696e-5").unwrap(), "41.88696");
        assert_eq!(strict("4.1886925e1"), Err(DecimalError::ScaleTooLarge));
        assert_eq!(round("4.1886925e1").unwrap(), "41.88693");
    }

    #[test]
    fn magnitude_must_stay_below_100000() {
        assert_eq!(strict("99999.99999").unwrap(), "99999.99999");
        assert_eq!(strict("100000"), Err(DecimalError::OutOfRange));
        assert_eq!(strict("-100000.0"), Err(DecimalError::OutOfRange));
        assert_eq!(round("99999.999995"), Err(DecimalError::OutOfRange));
        assert_eq!(strict("1e30"), Err(DecimalError::OutOfRange));
        assert_eq!(
            round("123456789012345678901234567890"),
            Err(DecimalError::OutOfRange)
        );
    }

    #[test]
    fn very_long_fractions_round_or_reject() {
        let long = "41.123456789012345678901234567890123";
        assert_eq!(strict(long), Err(DecimalError::ScaleTooLarge));
        assert_eq!(round(long).unwrap(), "41.12346");
    }

    #[test]
    fn non_numbers_are_refused() {
        for bad in [
            "north", "", "-", "1.", ".5", "1e", "0x10", " 1", "1 ", "+1", "NaN", "01",
        ] {
            assert_eq!(round(bad), Err(DecimalError::NotANumber), "{bad:?}");
        }
    }

    #[test]
    fn f64_widening_is_correctly_rounded() {
        for text in ["41.88696", "-87.59927", "0.00001", "89.99999", "-179.99999"] {
            let d = Decimal5::parse(text, DecimalPolicy::Strict).unwrap();
            assert_eq!(d.to_f64(), text.parse::<f64>().unwrap());
        }
    }

    proptest::proptest! {
        /// The fast path and the general path agree wherever the fast path answers.
        #[test]
        fn fast_path_agrees_with_rust_decimal(text in "-?(0|[1-9][0-9]{0,5})(\\.[0-9]{0,6})?") {
            let slow = parse_decimal_literal(&text, DecimalPolicy::Strict);
            match parse_plain_units(&text) {
                Some(units) => {
                    let mut d = slow.unwrap();
                    d.rescale(SCALE);
                    proptest::prop_assert_eq!(i64::try_from(d.mantissa()).unwrap(), units);
                }
                None => proptest::prop_assert!(
                    text.ends_with('.')
                        || text.trim_start_matches('-').split('.').next().unwrap().len() > 5
                        || text.split('.').nth(1).is_some_and(|f| f.len() > 5)
                ),
            }
        }

        #[test]
        fn widening_matches_std_parse(units in proptest::prop_oneof![-9_999_999_999_i64..=9_999_999_999, -99_999_999_i64..=99_999_999]) {
            let d = Decimal5::from_units(units).unwrap();
            let mut written = Vec::new();
            d.write_to(&mut written);
            proptest::prop_assert_eq!(String::from_utf8(written).unwrap(), d.to_string());
            proptest::prop_assert_eq!(d.to_f64(), d.to_string().parse::<f64>().unwrap());
            proptest::prop_assert_eq!(Decimal5::parse(&d.to_string(), DecimalPolicy::Strict), Ok(d));
        }
    }
}
