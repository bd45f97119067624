//! The values producers actually send, read in one pass where they stand — in the JSON string
//! that holds them in a kcat line (`{\"uid\": \"c1\", \"latitude\": 41.5, …}`), or as the
//! JSON text of a Kafka message (`{"uid": "c1", …}`) — straight into typed fields.
//!
//! Reading records is mostly this: a ping's value is ~150 of its line's ~230 bytes, and the
//! general way (collect every member's text, then convert each) walked it twice. Here each
//! member is converted as it is read, and a value laid out like the topic's last one (see
//! [`ValueLayout`]) is read without looking at its names again. Only the plain shape is
//! taken — members of the topic's columns or others with scalar values, strings without
//! escapes or control characters of their own, numbers that fit the column, any member
//! order and repeated names (the last wins, as in the general reader) — and anything else
//! answers `None`: the general reader then decides, with the exact rejection reason. So
//! whenever this answers, it answers what the general reader would (a property test
//! compares the two, in both forms).

use std::sync::Arc;

use super::decimal::{Decimal5, DecimalPolicy};
use super::json::find_string_special;
use super::record::{column_named, column_named_word, Customer, Product};
use super::reject::Column;
use super::shared_text::{Recurring, SharedTexts};
use super::topic::Origin;

/// How a value stands in its record.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) enum Form {
    /// The body of a JSON string, already validated as one (a kcat line's `payload`): its
    /// quotes are `\"`, and a quote or control character appears only escaped.
    #[default]
    InString,
    /// JSON text (a Kafka message's value), not validated: a control character in a string
    /// is found here and left to the general reader, which refuses it.
    Text,
}

impl Form {
    /// How long a quote is.
    #[inline(always)]
    fn quote_len(self) -> usize {
        match self {
            Form::InString => 2,
            Form::Text => 1,
        }
    }
}

/// A ping's value, or `None` for anything but the plain shape.
pub(super) fn customer(
    body: &str,
    form: Form,
    policy: DecimalPolicy,
    texts: &mut SharedTexts,
    layout: &mut ValueLayout,
) -> Option<Customer> {
    let mut c = Customer {
        origin: Origin::UNKNOWN,
        ..Customer::default()
    };
    read(body, form, layout, |column, value| {
        match column {
            Column::Uid => c.uid = value.varchar(texts)?,
            Column::Latitude => c.latitude = value.latitude(policy)?,
            Column::Longitude => c.longitude = value.longitude(policy)?,
            Column::Country => c.country = value.recurring_varchar(texts, Recurring::Country)?,
            _ => {}
        }
        Some(())
    })?;
    Some(c)
}

/// A product's value, or `None` for anything but the plain shape.
pub(super) fn product(
    body: &str,
    form: Form,
    policy: DecimalPolicy,
    texts: &mut SharedTexts,
    layout: &mut ValueLayout,
) -> Option<Product> {
    let mut p = Product {
        origin: Origin::UNKNOWN,
        ..Product::default()
    };
    read(body, form, layout, |column, value| {
        match column {
            Column::Sku => p.sku = value.bigint()?,
            Column::Segment => p.segment = value.recurring_varchar(texts, Recurring::Segment)?,
            Column::Variant => p.variant = value.recurring_varchar(texts, Recurring::Variant)?,
            Column::Latitude => p.latitude = value.latitude(policy)?,
            Column::Longitude => p.longitude = value.longitude(policy)?,
            Column::Country => p.country = value.recurring_varchar(texts, Recurring::Country)?,
            _ => {}
        }
        Some(())
    })?;
    Some(p)
}

/// One member's value as it stands in the string: its bytes are valid JSON of that kind.
#[derive(Clone, Copy)]
enum Value<'a> {
    /// A string's content, which has no escapes or control characters.
    Text(&'a str),
    /// A number's literal, with its value in 10⁻⁵ units when it is plain: at most 5 integer
    /// and 5 fractional digits, no exponent (exact, and the same under both decimal policies).
    Number(&'a str, Option<i64>),
    Bool(bool),
    Null,
}

impl Value<'_> {
    /// VARCHAR takes any scalar as its text.
    fn varchar(self, texts: &mut SharedTexts) -> Option<Option<Arc<str>>> {
        self.varchar_by(|text| texts.get(text))
    }

    /// VARCHAR of a column whose text recurs record after record (see
    /// [`SharedTexts::recurring`]).
    fn recurring_varchar(
        self,
        texts: &mut SharedTexts,
        column: Recurring,
    ) -> Option<Option<Arc<str>>> {
        self.varchar_by(|text| texts.recurring(column, text))
    }

    fn varchar_by(self, share: impl FnOnce(&str) -> Arc<str>) -> Option<Option<Arc<str>>> {
        Some(match self {
            Value::Text(text) | Value::Number(text, _) => Some(share(text)),
            Value::Bool(b) => Some(if b { "true" } else { "false" }.into()),
            Value::Null => None,
        })
    }

    /// A plain integer literal; a fraction, an exponent or a string goes the general way.
    fn bigint(self) -> Option<Option<i64>> {
        match self {
            Value::Null => Some(None),
            // Past i64 the general reader names the reason.
            Value::Number(text, _) => text.parse().ok().map(Some),
            Value::Text(_) | Value::Bool(_) => None,
        }
    }

    fn decimal5(self, policy: DecimalPolicy) -> Option<Option<Decimal5>> {
        match self {
            Value::Null => Some(None),
            Value::Number(text, plain) => Some(Some(match plain {
                Some(units) => Decimal5::from_units(units)?,
                None => Decimal5::parse(text, policy).ok()?,
            })),
            Value::Text(_) | Value::Bool(_) => None,
        }
    }

    fn latitude(self, policy: DecimalPolicy) -> Option<Option<Decimal5>> {
        self.decimal5(policy)
            .filter(|d| d.is_none_or(|d| d.units().abs() <= 90 * 100_000))
    }

    fn longitude(self, policy: DecimalPolicy) -> Option<Option<Decimal5>> {
        self.decimal5(policy)
            .filter(|d| d.is_none_or(|d| d.units().abs() <= 180 * 100_000))
    }
}

/// How the last plain value of a topic was laid out: the bytes around its values (names,
/// quotes, punctuation, spaces) and what each value was. A producer writes every record of a
/// topic alike (`{\"uid\": \"…\", \"latitude\": …}`), so the next value is first read
/// against this: comparing those bytes at once replaces reading names and punctuation byte
/// by byte. Bytes that differ in any way send the value to the member walk, which learns the
/// new layout.
#[derive(Clone, Debug, Default)]
pub struct ValueLayout {
    /// The form the layout was learned in: a value in the other form is walked.
    form: Form,
    /// The bytes before each value and, last, after the last one, back to back.
    glue: Vec<u8>,
    members: Vec<LaidOut>,
}

/// One member of a [`ValueLayout`].
#[derive(Clone, Copy, Debug)]
struct LaidOut {
    /// Where the bytes before this value end in `glue`.
    glue_end: usize,
    kind: Kind,
    column: Option<Column>,
}

/// What a value was, which is what it must be again for the layout to apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// A string's content (its quotes belong to the glue).
    Text,
    Number,
    /// `null`, `true`, `false`: its text ends the glue before it.
    Null,
    True,
    False,
}

/// Reads `body` by the topic's last layout, or else walks its members (learning the layout
/// when the walk succeeds). A layout that stops matching part way has handed out only
/// members before the difference: the same names at the same places with the same values,
/// so a walk that then succeeds hands each of them out again and they end the same.
fn read(
    body: &str,
    form: Form,
    layout: &mut ValueLayout,
    mut member: impl FnMut(Column, Value<'_>) -> Option<()>,
) -> Option<()> {
    if !layout.members.is_empty() && layout.form == form {
        if let Some(()) = read_laid_out(body, form, layout, &mut member) {
            return Some(());
        }
    }
    let mut learned = LayoutBuilder::default();
    read_members(body, form, Some(&mut learned), &mut member)?;
    *layout = learned.finish(body, form);
    Some(())
}

/// Reads `body` if it is laid out like `layout`, values aside; `None` otherwise (members may
/// have been handed out by then: callers discard them).
fn read_laid_out(
    body: &str,
    form: Form,
    layout: &ValueLayout,
    member: &mut impl FnMut(Column, Value<'_>) -> Option<()>,
) -> Option<()> {
    let mut r = Bytes::new(body, form);
    let mut glue_start = 0;
    for m in &layout.members {
        r.glue(&layout.glue[glue_start..m.glue_end])?;
        glue_start = m.glue_end;
        let value = match m.kind {
            Kind::Text => {
                // The glue after it starts with the closing quote.
                let end = r.text_end(r.at)?;
                let text = r.text.get(r.at..end)?;
                r.at = end;
                Value::Text(text)
            }
            Kind::Number => r.number()?,
            // The literal ends the glue, which matched.
            Kind::Null => Value::Null,
            Kind::True => Value::Bool(true),
            Kind::False => Value::Bool(false),
        };
        if let Some(column) = m.column {
            member(column, value)?;
        }
    }
    r.glue(&layout.glue[glue_start..])?;
    (r.at == body.len()).then_some(())
}

/// Collects a [`ValueLayout`] during a member walk: where each value starts and ends.
#[derive(Default)]
struct LayoutBuilder {
    spans: Vec<(usize, usize, Kind, Option<Column>)>,
}

impl LayoutBuilder {
    fn value(&mut self, start: usize, end: usize, kind: Kind, column: Option<Column>) {
        self.spans.push((start, end, kind, column));
    }

    fn finish(self, body: &str, form: Form) -> ValueLayout {
        let bytes = body.as_bytes();
        let mut layout = ValueLayout {
            form,
            ..ValueLayout::default()
        };
        let mut from = 0;
        for (start, end, kind, column) in self.spans {
            let (start, end) = match kind {
                Kind::Text | Kind::Number => (start, end),
                Kind::Null | Kind::True | Kind::False => (end, end),
            };
            layout.glue.extend_from_slice(&bytes[from..start]);
            layout.members.push(LaidOut {
                glue_end: layout.glue.len(),
                kind,
                column,
            });
            from = end;
        }
        layout.glue.extend_from_slice(&bytes[from..]);
        layout
    }
}

/// Walks a flat object (in `form`), handing each member whose name is a column (ASCII, any
/// case) to `member`; `None` as soon as anything is not the plain shape, or when `member`
/// says so. Notes where each value lies in `learn`, if given.
fn read_members(
    body: &str,
    form: Form,
    mut learn: Option<&mut LayoutBuilder>,
    member: &mut impl FnMut(Column, Value<'_>) -> Option<()>,
) -> Option<()> {
    let mut r = Bytes::new(body, form);
    r.spaces();
    r.byte(b'{')?;
    r.spaces();
    if r.peek() == Some(b'}') {
        r.at += 1;
    } else {
        loop {
            r.spaces();
            let name = r.name()?;
            r.spaces();
            r.byte(b':')?;
            r.spaces();
            let start = r.at;
            let value = r.value()?;
            if let Some(learn) = learn.as_deref_mut() {
                let (kind, start, end) = match value {
                    // Without its quotes.
                    Value::Text(_) => (
                        Kind::Text,
                        start + form.quote_len(),
                        r.at - form.quote_len(),
                    ),
                    Value::Number(..) => (Kind::Number, start, r.at),
                    Value::Bool(true) => (Kind::True, start, r.at),
                    Value::Bool(false) => (Kind::False, start, r.at),
                    Value::Null => (Kind::Null, start, r.at),
                };
                learn.value(start, end, kind, name.ok());
            }
            match name {
                Ok(column) => member(column, value)?,
                // A name in other letters may still fold onto a column (`ſku`).
                Err(other) if !other.is_ascii() => return None,
                Err(_) => {}
            }
            r.spaces();
            match r.next()? {
                b',' => {}
                b'}' => break,
                _ => return None,
            }
        }
    }
    r.spaces();
    (r.at == body.len()).then_some(())
}

/// A cursor over a value in its [`Form`].
struct Bytes<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
    form: Form,
}

impl<'a> Bytes<'a> {
    fn new(text: &'a str, form: Form) -> Self {
        Self {
            text,
            bytes: text.as_bytes(),
            at: 0,
            form,
        }
    }

    /// Whether a quote (`\"` or `"`, by the form) starts at `at`.
    #[inline(always)]
    fn quote_at(&self, at: usize) -> bool {
        match self.form {
            Form::InString => self.bytes.get(at..at + 2) == Some(b"\\\""),
            Form::Text => self.bytes.get(at) == Some(&b'"'),
        }
    }

    /// Where the content of a string starting at `from` ends, at its closing quote; `None`
    /// for content with an escape of its own (or, in JSON text, a control character).
    #[inline(always)]
    fn text_end(&self, from: usize) -> Option<usize> {
        match self.form {
            // In a valid string body the next backslash ends the string or starts an escape.
            Form::InString => find_backslash(self.bytes, from).filter(|&end| self.quote_at(end)),
            Form::Text => find_string_special(self.bytes, from)
                .filter(|&end| self.bytes.get(end) == Some(&b'"')),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.at += 1;
        Some(b)
    }

    /// Exactly `glue` next (compared eight bytes at a time: a layout's glue is a dozen or
    /// two bytes, too short to pay for a call to `memcmp`).
    fn glue(&mut self, glue: &[u8]) -> Option<()> {
        let end = self.at + glue.len();
        let next = self.bytes.get(self.at..end)?;
        let n = glue.len();
        let same = if n >= 8 {
            // Whole words, then the last eight bytes (overlapping the word before).
            let word = |s: &[u8], i: usize| {
                s.get(i..i + 8)
                    .and_then(|w| <[u8; 8]>::try_from(w).ok())
                    .map(u64::from_le_bytes)
            };
            (0..n / 8).all(|k| word(next, 8 * k) == word(glue, 8 * k))
                && word(next, n - 8) == word(glue, n - 8)
        } else {
            next == glue
        };
        if !same {
            return None;
        }
        self.at = end;
        Some(())
    }

    fn byte(&mut self, expected: u8) -> Option<()> {
        (self.next()? == expected).then_some(())
    }

    /// Plain spaces: other whitespace (`\n` escaped in a string body, raw in JSON text) is not
    /// the plain shape.
    fn spaces(&mut self) {
        while self.peek() == Some(b' ') {
            self.at += 1;
        }
    }

    /// `\"…\"` with no escape inside: the content.
    fn text(&mut self) -> Option<&'a str> {
        let (start, end) = self.text_span()?;
        self.text.get(start..end)
    }

    /// A member's name: its column, if it names one, or `Err` with the name.
    fn name(&mut self) -> Option<Result<Column, &'a str>> {
        let (start, end) = self.text_span()?;
        let len = end - start;
        // Names are short and followed by more of the object: one 16-byte load holds them.
        let column = match self.bytes.get(start..start + 16) {
            Some(chunk) if len <= 16 => {
                let word = u128::from_le_bytes(chunk.try_into().ok()?);
                let kept = if len == 16 {
                    word
                } else {
                    word & ((1u128 << (8 * len)) - 1)
                };
                column_named_word(kept, len, self.bytes[start])
            }
            _ => column_named(&self.bytes[start..end]),
        };
        Some(column.ok_or_else(|| self.text.get(start..end).unwrap_or_default()))
    }

    /// Where the content of a string (`\"…\"` or `"…"`) starts and ends (then skipped).
    fn text_span(&mut self) -> Option<(usize, usize)> {
        if !self.quote_at(self.at) {
            return None;
        }
        let start = self.at + self.form.quote_len();
        let end = self.text_end(start)?;
        self.at = end + self.form.quote_len();
        Some((start, end))
    }

    fn value(&mut self) -> Option<Value<'a>> {
        match self.peek()? {
            b'\\' | b'"' => self.text().map(Value::Text),
            b'-' | b'0'..=b'9' => self.number(),
            b'n' => self.word(b"null").map(|()| Value::Null),
            b't' => self.word(b"true").map(|()| Value::Bool(true)),
            b'f' => self.word(b"false").map(|()| Value::Bool(false)),
            _ => None,
        }
    }

    fn word(&mut self, word: &[u8]) -> Option<()> {
        if self.bytes.get(self.at..self.at + word.len())? != word {
            return None;
        }
        self.at += word.len();
        Some(())
    }

    /// A number by the JSON grammar (`-`? int (`.` digits)? (`e` sign? digits)?), its value
    /// worked out in the same pass when it is plain. A leading zero with more digits is not
    /// JSON: left to the general reader.
    fn number(&mut self) -> Option<Value<'a>> {
        let bytes = self.bytes;
        let start = self.at;
        let mut i = start;
        let negative = bytes.get(i) == Some(&b'-');
        i += usize::from(negative);
        let int_start = i;
        // Wraps only far past 5 digits, where the value is not used.
        let mut units: i64 = 0;
        while let Some(d) = bytes
            .get(i)
            .map(|b| b.wrapping_sub(b'0'))
            .filter(|d| *d < 10)
        {
            units = units.wrapping_mul(10).wrapping_add(i64::from(d));
            i += 1;
        }
        let int_digits = i - int_start;
        if int_digits == 0 || (int_digits > 1 && bytes[int_start] == b'0') {
            return None;
        }
        let mut frac_digits = 0;
        if bytes.get(i) == Some(&b'.') {
            i += 1;
            let frac_start = i;
            while let Some(d) = bytes
                .get(i)
                .map(|b| b.wrapping_sub(b'0'))
                .filter(|d| *d < 10)
            {
                units = units.wrapping_mul(10).wrapping_add(i64::from(d));
                i += 1;
            }
            frac_digits = i - frac_start;
            if frac_digits == 0 {
                return None;
            }
        }
        let mut plain = int_digits <= 5 && frac_digits <= 5;
        if let Some(b'e' | b'E') = bytes.get(i) {
            plain = false;
            i += 1;
            if let Some(b'+' | b'-') = bytes.get(i) {
                i += 1;
            }
            let exponent_start = i;
            while bytes.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            if i == exponent_start {
                return None;
            }
        }
        self.at = i;
        let text = self.text.get(start..i)?;
        let plain = plain.then(|| {
            let scaled = units * SCALE_UP[frac_digits];
            if negative {
                -scaled
            } else {
                scaled
            }
        });
        Some(Value::Number(text, plain))
    }
}

/// What a value with `i` fractional digits is multiplied by to count 10⁻⁵ units.
const SCALE_UP: [i64; 6] = [100_000, 10_000, 1_000, 100, 10, 1];

/// The first backslash at or after `from`, eight bytes at a time.
fn find_backslash(bytes: &[u8], from: usize) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let mut at = from;
    while let Some(chunk) = bytes.get(at..at + 8) {
        let word = u64::from_le_bytes(chunk.try_into().ok()?) ^ (ONES * u64::from(b'\\'));
        // The lowest set bit marks the first zero byte exactly (a borrow only runs upward).
        let zero = word.wrapping_sub(ONES) & !word & HIGHS;
        if zero != 0 {
            return Some(at + (zero.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    bytes[at..].iter().position(|&b| b == b'\\').map(|p| at + p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn escaped(text: &str) -> String {
        let mut out = Vec::new();
        crate::engine::json::write_escaped(&mut out, text.as_bytes());
        String::from_utf8(out).expect("UTF-8")
    }

    fn units(d: Option<Decimal5>) -> Option<i64> {
        d.map(Decimal5::units)
    }

    #[test]
    fn the_plain_shape_is_read_in_one_pass() {
        let mut texts = SharedTexts::new();
        let body = escaped(
            r#"{"uid": "c002542", "latitude": 30.10458, "longitude": -119.09553, "country": "USA"}"#,
        );
        let c = customer(
            &body,
            Form::InString,
            DecimalPolicy::Strict,
            &mut texts,
            &mut ValueLayout::default(),
        )
        .expect("plain");
        assert_eq!(c.uid.as_deref(), Some("c002542"));
        assert_eq!(units(c.latitude), Some(3_010_458));
        assert_eq!(units(c.longitude), Some(-11_909_553));
        assert_eq!(c.country.as_deref(), Some("USA"));
        let body = escaped(
            r#"{"SKU":1000,"segment":"Segment1","Variant":null,"latitude":30,"longitude":-0.5,"country":"USA","extra":true}"#,
        );
        let p = product(
            &body,
            Form::InString,
            DecimalPolicy::Round,
            &mut texts,
            &mut ValueLayout::default(),
        )
        .expect("plain");
        assert_eq!(p.sku, Some(1000));
        assert_eq!(p.variant, None);
        assert_eq!(units(p.latitude), Some(3_000_000));
        assert_eq!(units(p.longitude), Some(-50_000));
        assert_eq!(p.segment.as_deref(), Some("Segment1"));
    }

    #[test]
    fn the_next_record_is_read_by_the_layout_of_the_last() {
        let mut texts = SharedTexts::new();
        let mut layout = ValueLayout::default();
        let ping = |uid: &str, lat: &str, spacing: &str| {
            escaped(&format!(
                r#"{{"uid":{spacing}"{uid}", "latitude":{spacing}{lat}, "longitude": -1, "country": "USA"}}"#
            ))
        };
        let first = customer(
            &ping("c1", "41.5", " "),
            Form::InString,
            DecimalPolicy::Strict,
            &mut texts,
            &mut layout,
        )
        .expect("plain");
        assert_eq!(first.uid.as_deref(), Some("c1"));
        // Four values, their names and punctuation in between.
        assert_eq!(layout.members.len(), 4);
        assert!(layout.glue.starts_with(br#"{\"uid\": \""#));
        let learned = layout.glue.clone();
        let second = customer(
            &ping("c22", "-3", " "),
            Form::InString,
            DecimalPolicy::Strict,
            &mut texts,
            &mut layout,
        )
        .expect("laid out alike");
        assert_eq!(second.uid.as_deref(), Some("c22"));
        assert_eq!(units(second.latitude), Some(-300_000));
        assert_eq!(layout.glue, learned, "the same layout is kept");
        // Other spacing: walked, and its layout learned instead.
        let third = customer(
            &ping("c3", "1", ""),
            Form::InString,
            DecimalPolicy::Strict,
            &mut texts,
            &mut layout,
        )
        .expect("walked");
        assert_eq!(third.uid.as_deref(), Some("c3"));
        assert_ne!(layout.glue, learned);
        // A value of another kind where the layout had a number: walked as well.
        let null_lat = customer(
            &ping("c4", "null", ""),
            Form::InString,
            DecimalPolicy::Strict,
            &mut texts,
            &mut layout,
        )
        .expect("walked");
        assert_eq!(null_lat.latitude, None);
        assert_eq!(null_lat.uid.as_deref(), Some("c4"));
    }

    #[test]
    fn exponents_and_long_fractions_take_the_decimal_parser() {
        let mut texts = SharedTexts::new();
        let body = escaped(r#"{"latitude": 1e1, "longitude": 41.123456}"#);
        let c = customer(
            &body,
            Form::InString,
            DecimalPolicy::Round,
            &mut texts,
            &mut ValueLayout::default(),
        )
        .expect("read");
        assert_eq!(units(c.latitude), Some(1_000_000));
        assert_eq!(units(c.longitude), Some(4_112_346));
        assert!(customer(
            &body,
            Form::InString,
            DecimalPolicy::Strict,
            &mut texts,
            &mut ValueLayout::default()
        )
        .is_none());
    }

    #[test]
    fn anything_unusual_is_left_to_the_general_reader() {
        let mut texts = SharedTexts::new();
        for text in [
            r#"{"uid": "caf\u00e9"}"#,
            r#"{"uid": "a\"b"}"#,
            r#"{"latitude": 91}"#,
            r#"{"latitude": "41.5"}"#,
            r#"{"uid": {"nested": 1}}"#,
            "{\"uid\":\n\"c1\"}",
            r#"{"ſku": 1}"#,
            r#"{"uid": "c1"} x"#,
            r#"{"uid": "c1",}"#,
        ] {
            let body = escaped(text);
            assert!(
                customer(
                    &body,
                    Form::InString,
                    DecimalPolicy::Round,
                    &mut texts,
                    &mut ValueLayout::default()
                )
                .is_none()
                    && product(
                        &body,
                        Form::InString,
                        DecimalPolicy::Round,
                        &mut texts,
                        &mut ValueLayout::default()
                    )
                    .is_none(),
                "{text}"
            );
        }
    }
}
