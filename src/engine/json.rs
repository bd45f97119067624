//! A validating, zero-copy reader for flat JSON objects.
//!
//! Every record the engine sees is a JSON object whose interesting fields are scalars: the kcat
//! envelope and the three topics' values. Going through `serde_json::Value` (or even a derived
//! struct) costs most of the time budget of the 1 µs per record we aim for, and would lose the
//! literal text of numbers that DECIMAL(10,5) must be read from. This reader walks the top-level
//! members once, hands each one to the caller as a borrowed [`JsonValue`] and validates nested
//! objects and arrays of unknown fields without building them. Anything that is not valid JSON
//! (RFC 8259) is an error, so "not JSON" is decided exactly; the tests check that against
//! `serde_json`.

use std::borrow::Cow;

/// Why a text is not a JSON object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum JsonError {
    #[error("not valid JSON")]
    Syntax,
    #[error("JSON value is not an object")]
    NotAnObject,
}

/// A JSON string as it stands in the text, without its quotes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JsonStr<'a> {
    raw: &'a str,
    has_escapes: bool,
}

impl<'a> JsonStr<'a> {
    /// The string's value with escapes resolved; borrows when there were none.
    pub fn decode(&self) -> Cow<'a, str> {
        if self.has_escapes {
            Cow::Owned(unescape(self.raw))
        } else {
            Cow::Borrowed(self.raw)
        }
    }

    pub fn has_escapes(&self) -> bool {
        self.has_escapes
    }

    /// The text between the quotes, escapes untouched.
    pub fn raw(&self) -> &'a str {
        self.raw
    }
}

/// One member value, borrowed from the input text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JsonValue<'a> {
    Null,
    Bool(bool),
    /// The number's literal text, exactly as written (never through f64).
    Number(&'a str),
    String(JsonStr<'a>),
    /// The whole nested object's text, validated.
    Object(&'a str),
    /// The whole nested array's text, validated.
    Array(&'a str),
}

impl JsonValue<'_> {
    /// A short name for error messages ("string", "number", …).
    pub fn kind_name(&self) -> &'static str {
        match self {
            JsonValue::Null => "null",
            JsonValue::Bool(_) => "boolean",
            JsonValue::Number(_) => "number",
            JsonValue::String(_) => "string",
            JsonValue::Object(_) => "object",
            JsonValue::Array(_) => "array",
        }
    }
}

/// Walks the members of the JSON object `text`, calling `member(key, value)` for each in order.
///
/// The whole text is validated before this returns `Ok`; members may already have been handed
/// out when a later syntax error is found, so callers must discard what they collected on `Err`.
pub fn for_each_member<'a>(
    text: &'a str,
    mut member: impl FnMut(JsonStr<'a>, JsonValue<'a>),
) -> Result<(), JsonError> {
    let mut reader = Reader::new(text);
    reader.skip_ws();
    match reader.peek() {
        Some(b'{') => {}
        Some(_) => {
            // Valid JSON of another kind is "not an object"; anything else is "not JSON".
            reader.value(0)?;
            reader.skip_ws();
            return if reader.at_end() {
                Err(JsonError::NotAnObject)
            } else {
                Err(JsonError::Syntax)
            };
        }
        None => return Err(JsonError::Syntax),
    }
    reader.pos += 1;
    reader.skip_ws();
    if reader.peek() == Some(b'}') {
        reader.pos += 1;
    } else {
        loop {
            reader.skip_ws();
            if reader.peek() != Some(b'"') {
                return Err(JsonError::Syntax);
            }
            let key = reader.string()?;
            reader.skip_ws();
            reader.expect(b':')?;
            reader.skip_ws();
            let value = reader.value(1)?;
            member(key, value);
            reader.skip_ws();
            match reader.next_byte() {
                Some(b',') => continue,
                Some(b'}') => break,
                _ => return Err(JsonError::Syntax),
            }
        }
    }
    reader.skip_ws();
    if reader.at_end() {
        Ok(())
    } else {
        Err(JsonError::Syntax)
    }
}

/// [`for_each_member`] for an object held inside a JSON string, read from that string's
/// `body` (valid, escapes unresolved) without unescaping a copy: there `\"` stands for a quote.
///
/// It covers the shape real payloads have — a flat object of scalars whose own strings need
/// no escapes — and answers `None` for anything else (a nested value, any other escape, any
/// error). The caller then unescapes the body and asks [`for_each_member`], which decides
/// exactly. Members may have been handed out before a `None`; callers discard them.
pub fn for_each_member_in_string<'a>(
    body: &'a str,
    mut member: impl FnMut(JsonStr<'a>, JsonValue<'a>),
) -> Option<()> {
    let mut reader = Reader::new(body);
    reader.skip_ws();
    if reader.next_byte()? != b'{' {
        return None;
    }
    reader.skip_ws();
    if reader.peek() == Some(b'}') {
        reader.pos += 1;
    } else {
        loop {
            reader.skip_ws();
            let key = reader.string_in_string()?;
            reader.skip_ws();
            if reader.next_byte()? != b':' {
                return None;
            }
            reader.skip_ws();
            let value = match reader.peek()? {
                b'\\' => JsonValue::String(reader.string_in_string()?),
                b'-' | b'0'..=b'9' => JsonValue::Number(reader.number().ok()?),
                b'n' => reader.literal(b"null").ok().map(|()| JsonValue::Null)?,
                b't' => reader
                    .literal(b"true")
                    .ok()
                    .map(|()| JsonValue::Bool(true))?,
                b'f' => reader
                    .literal(b"false")
                    .ok()
                    .map(|()| JsonValue::Bool(false))?,
                _ => return None,
            };
            member(key, value);
            reader.skip_ws();
            match reader.next_byte()? {
                b',' => continue,
                b'}' => break,
                _ => return None,
            }
        }
    }
    reader.skip_ws();
    reader.at_end().then_some(())
}

/// Reads a JSON text of a layout the caller knows, piece by piece: for a format with a fixed
/// member order (kcat's envelope), matching the expected bytes beats a general walk over
/// members. Every method answers `None` when the text is not what was asked for; whatever a
/// cursor accepts, piece by piece, is valid JSON with the meaning the pieces give it.
pub struct JsonCursor<'a> {
    reader: Reader<'a>,
}

impl<'a> JsonCursor<'a> {
    pub fn new(text: &'a str) -> Self {
        Self {
            reader: Reader::new(text),
        }
    }

    /// Exactly these bytes (punctuation and member names, no whitespace).
    #[inline]
    pub fn literal<const N: usize>(&mut self, bytes: &[u8; N]) -> Option<()> {
        self.reader.literal(bytes).ok()
    }

    /// A string of up to 31 bytes without escapes (a topic, a key), found within two blocks
    /// without a call; any other string as [`JsonCursor::string`] reads it.
    #[inline(always)]
    pub fn short_string(&mut self) -> Option<JsonStr<'a>> {
        let r = &mut self.reader;
        if r.peek() != Some(b'"') {
            return None;
        }
        let start = r.pos + 1;
        for block_start in [start, start + 16] {
            let Some(block) = r.bytes.get(block_start..block_start + 16) else {
                break;
            };
            let SpecialMasks {
                quote,
                backslash,
                control,
            } = special_masks16(block);
            let special = quote | backslash | control;
            if special == 0 {
                continue;
            }
            // The first special byte is the closing quote.
            if special & special.wrapping_neg() & quote != 0 {
                let at = block_start + special.trailing_zeros() as usize;
                return Some(r.string_ending(start, at, false));
            }
            break;
        }
        self.string()
    }

    /// A string, escapes validated.
    pub fn string(&mut self) -> Option<JsonStr<'a>> {
        if self.reader.peek() != Some(b'"') {
            return None;
        }
        self.reader.string().ok()
    }

    /// A number's literal text.
    pub fn number(&mut self) -> Option<&'a str> {
        self.reader.number().ok()
    }

    /// A number, as an integer the way `str::parse::<i64>` reads its literal (`None` inside
    /// for `1.5`, `1e3` or past i64): offsets and timestamps. A plain integer (at most 18
    /// digits) is worked out in the pass that finds its end.
    #[inline(always)]
    pub fn integer(&mut self) -> Option<Option<i64>> {
        let bytes = self.reader.bytes;
        let start = self.reader.pos;
        let negative = bytes.get(start) == Some(&b'-');
        let digits_start = start + usize::from(negative);
        // Wraps only past 19 digits; the value is used up to 18.
        let (digits, value) = digit_run(bytes, digits_start);
        let pos = digits_start + digits;
        let plain = (1..=18).contains(&digits)
            && !(digits > 1 && bytes[digits_start] == b'0')
            && !matches!(bytes.get(pos), Some(b'.' | b'e' | b'E'));
        if plain {
            self.reader.pos = pos;
            // 18 digits fit an i64.
            let value = value as i64;
            return Some(Some(if negative { -value } else { value }));
        }
        Some(self.reader.number().ok()?.parse().ok())
    }

    /// `null` if it comes next (and then consumed).
    pub fn null(&mut self) -> bool {
        self.reader.literal(b"null").is_ok()
    }

    pub fn at_end(&self) -> bool {
        self.reader.at_end()
    }
}

/// Bytes that end a run of plain string content: quote, backslash, control characters.
const STRING_SPECIAL: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = true;
        b += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table
};

/// Where the first quote, backslash or control character at or after `from` is. A kcat
/// payload has an escape every few bytes, so this is inlined into the string loop.
#[inline(always)]
pub(super) fn find_string_special(bytes: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    while let Some(word) = word_at(bytes, at) {
        let special = special_bytes(word);
        if special != 0 {
            return Some(at + (special.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    bytes[at..]
        .iter()
        .position(|&b| STRING_SPECIAL[usize::from(b)])
        .map(|p| at + p)
}

/// 10⁰ to 10⁸: what a value read so far is scaled by before the next `n` digits join it.
const POWERS_OF_TEN: [u64; 9] = [
    1,
    10,
    100,
    1_000,
    10_000,
    100_000,
    1_000_000,
    10_000_000,
    100_000_000,
];

/// The run of ASCII digits at `at`: how many, and their value (wrapping past 19 digits).
/// Eight at a time while eight bytes remain (a timestamp is two words), then one at a time.
#[inline(always)]
fn digit_run(bytes: &[u8], at: usize) -> (usize, u64) {
    let mut pos = at;
    let mut value: u64 = 0;
    while let Some(word) = word_at(bytes, pos) {
        let (count, digits) = leading_digits(word);
        value = value
            .wrapping_mul(POWERS_OF_TEN[count as usize])
            .wrapping_add(digits);
        pos += count as usize;
        if count < 8 {
            return (pos - at, value);
        }
    }
    while let Some(digit) = bytes.get(pos).filter(|b| b.is_ascii_digit()) {
        value = value.wrapping_mul(10).wrapping_add(u64::from(digit - b'0'));
        pos += 1;
    }
    (pos - at, value)
}

/// How many ASCII digits `word` (eight bytes, little-endian: the first byte lowest) starts
/// with, and their value (SWAR: three multiplications instead of a loop over the digits).
#[inline]
fn leading_digits(word: u64) -> (u32, u64) {
    const ZEROS: u64 = 0x3030_3030_3030_3030;
    const HIGH_NIBBLES: u64 = 0xf0f0_f0f0_f0f0_f0f0;
    // A digit's high nibble is 3, also after adding 6 (`9` + 6 is 0x3f). A carry or borrow
    // only reaches bytes after the first non-digit, which are not counted.
    let not_digits = ((word & HIGH_NIBBLES) ^ ZEROS)
        | ((word.wrapping_add(0x0606_0606_0606_0606) & HIGH_NIBBLES) ^ ZEROS);
    let count = if not_digits == 0 {
        8
    } else {
        not_digits.trailing_zeros() / 8
    };
    if count == 0 {
        return (0, 0);
    }
    // The digits moved to the top bytes; the bytes shifted in read as leading zeros.
    let v = (word & 0x0f0f_0f0f_0f0f_0f0f) << (8 * (8 - count));
    let v = v.wrapping_mul(1 + (10 << 8)) >> 8;
    let v = (v & 0x00ff_00ff_00ff_00ff).wrapping_mul(1 + (100 << 16)) >> 16;
    let v = (v & 0x0000_ffff_0000_ffff).wrapping_mul(1 + (10_000 << 32)) >> 32;
    (count, v)
}

/// The eight bytes at `at`, little-endian, if there are eight.
#[inline]
fn word_at(bytes: &[u8], at: usize) -> Option<u64> {
    let chunk = bytes.get(at..at + 8)?;
    <[u8; 8]>::try_from(chunk).ok().map(u64::from_le_bytes)
}

/// The high bit of each byte of `word` that is a quote, a backslash or a control character
/// (SWAR). A borrow can only spill into bytes *after* a true hit, so the lowest set bit is
/// exact; later ones may not be.
#[inline]
fn special_bytes(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let zero_byte = |v: u64| v.wrapping_sub(ONES) & !v;
    let quote = zero_byte(word ^ (ONES * u64::from(b'"')));
    let backslash = zero_byte(word ^ (ONES * u64::from(b'\\')));
    let control = word.wrapping_sub(ONES * 0x20) & !word;
    (quote | backslash | control) & HIGHS
}

/// Bit i set when byte i of the 16-byte `block` is a quote, a backslash, a control character
/// (exactly, every byte): three masks.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn special_masks16(block: &[u8]) -> SpecialMasks {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_min_epu8, _mm_movemask_epi8, _mm_set1_epi8,
    };
    let Ok(chunk) = <[u8; 16]>::try_from(block) else {
        return SpecialMasks::default();
    };
    let v: __m128i = bytemuck::cast(chunk);
    // SAFETY: SSE2 is part of every x86_64 CPU (the target's baseline), and these touch no
    // memory: register-to-register instructions.
    unsafe {
        let quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
        let backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
        // Unsigned b < 0x20 exactly when min(b, 0x1f) == b.
        let control = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v);
        SpecialMasks {
            quote: _mm_movemask_epi8(quote) as u32,
            backslash: _mm_movemask_epi8(backslash) as u32,
            control: _mm_movemask_epi8(control) as u32,
        }
    }
}

/// [`special_masks16`] without SSE2: two words, each byte tested exactly (no borrow between
/// bytes).
#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn special_masks16(block: &[u8]) -> SpecialMasks {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    // One bit per byte: the high bit of byte i to bit i.
    let bits = |highs: u64| ((highs >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56) as u32;
    let zero = |v: u64| bits(!(((v & LOW7).wrapping_add(LOW7)) | v) & HIGHS);
    let masks = |word: u64| SpecialMasks {
        quote: zero(word ^ (ONES * u64::from(b'"'))),
        backslash: zero(word ^ (ONES * u64::from(b'\\'))),
        control: bits(!(((word & LOW7).wrapping_add(ONES * 0x60)) | word) & HIGHS),
    };
    let (Some(low), Some(high)) = (word_at(block, 0), word_at(block, 8)) else {
        return SpecialMasks::default();
    };
    let (low, high) = (masks(low), masks(high));
    SpecialMasks {
        quote: low.quote | (high.quote << 8),
        backslash: low.backslash | (high.backslash << 8),
        control: low.control | (high.control << 8),
    }
}

/// Which bytes of a 16-byte block are quotes, backslashes and control characters.
#[derive(Clone, Copy, Default)]
struct SpecialMasks {
    quote: u32,
    backslash: u32,
    control: u32,
}

/// How many bytes the escape starting at the backslash at `at` takes, if it is valid.
#[inline(always)]
fn escape_len(bytes: &[u8], at: usize) -> Option<usize> {
    match bytes.get(at + 1)? {
        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => Some(2),
        b'u' => bytes
            .get(at + 2..at + 6)?
            .iter()
            .all(u8::is_ascii_hexdigit)
            .then_some(6),
        _ => None,
    }
}

/// Deep nesting is valid JSON but a stack hazard; serde_json stops at 128 as well.
const MAX_DEPTH: usize = 128;

struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            text,
            bytes: text.as_bytes(),
            pos: 0,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn at_end(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    fn next_byte(&mut self) -> Option<u8> {
        let b = self.peek();
        self.pos += 1;
        b
    }

    fn expect(&mut self, byte: u8) -> Result<(), JsonError> {
        if self.next_byte() == Some(byte) {
            Ok(())
        } else {
            Err(JsonError::Syntax)
        }
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    /// Exactly `word` next. Its length is a constant, so the comparison compiles to a few
    /// word compares rather than a call to `memcmp`.
    #[inline]
    fn literal<const N: usize>(&mut self, word: &[u8; N]) -> Result<(), JsonError> {
        match self.bytes.get(self.pos..self.pos + N) {
            Some(next) if next == word => {
                self.pos += N;
                Ok(())
            }
            _ => Err(JsonError::Syntax),
        }
    }

    fn value(&mut self, depth: usize) -> Result<JsonValue<'a>, JsonError> {
        match self.peek() {
            Some(b'"') => Ok(JsonValue::String(self.string()?)),
            Some(b'-' | b'0'..=b'9') => Ok(JsonValue::Number(self.number()?)),
            Some(b'n') => self.literal(b"null").map(|()| JsonValue::Null),
            Some(b't') => self.literal(b"true").map(|()| JsonValue::Bool(true)),
            Some(b'f') => self.literal(b"false").map(|()| JsonValue::Bool(false)),
            Some(b'{') => {
                let start = self.pos;
                self.skip_container(depth, b'{', b'}')?;
                Ok(JsonValue::Object(&self.text[start..self.pos]))
            }
            Some(b'[') => {
                let start = self.pos;
                self.skip_container(depth, b'[', b']')?;
                Ok(JsonValue::Array(&self.text[start..self.pos]))
            }
            _ => Err(JsonError::Syntax),
        }
    }

    /// Validates and skips an object or array starting at `self.pos`.
    fn skip_container(&mut self, depth: usize, open: u8, close: u8) -> Result<(), JsonError> {
        if depth >= MAX_DEPTH {
            return Err(JsonError::Syntax);
        }
        self.expect(open)?;
        self.skip_ws();
        if self.peek() == Some(close) {
            self.pos += 1;
            return Ok(());
        }
        loop {
            self.skip_ws();
            if open == b'{' {
                if self.peek() != Some(b'"') {
                    return Err(JsonError::Syntax);
                }
                self.string()?;
                self.skip_ws();
                self.expect(b':')?;
                self.skip_ws();
            }
            self.value(depth + 1)?;
            self.skip_ws();
            match self.next_byte() {
                Some(b',') => continue,
                Some(b) if b == close => return Ok(()),
                _ => return Err(JsonError::Syntax),
            }
        }
    }

    /// Reads a string starting at its opening quote. Sixteen bytes at a time: every quote,
    /// backslash and control character of a block is handled from one mask, so a payload's
    /// escaped quotes (one every few bytes) cost a few instructions each, not a new search.
    fn string(&mut self) -> Result<JsonStr<'a>, JsonError> {
        self.expect(b'"')?;
        let start = self.pos;
        let bytes = self.bytes;
        let mut pos = start;
        let mut has_escapes = false;
        // 1 when the block's first byte was escaped by the block before.
        let mut escaped_first = 0u32;
        while let Some(block) = bytes.get(pos..pos + 16) {
            let SpecialMasks {
                quote,
                backslash,
                control,
            } = special_masks16(block);
            // The common block: no control characters, and every backslash is `\"`. Then the
            // quotes not right after a backslash are the real ones. A backslash last in the
            // block escapes the next block's first byte, which must then be a quote.
            let after_backslash = (backslash << 1) | escaped_first;
            let last_escapes_next = backslash & 0x8000 != 0;
            if control == 0
                && after_backslash & !quote & 0xffff == 0
                && (!last_escapes_next || bytes.get(pos + 16) == Some(&b'"'))
            {
                let ends = quote & !after_backslash;
                if ends == 0 {
                    has_escapes |= backslash != 0;
                    escaped_first = u32::from(last_escapes_next);
                    pos += 16;
                    continue;
                }
                let at = ends.trailing_zeros();
                has_escapes |= backslash & ((1 << at) - 1) != 0;
                return Ok(self.string_ending(start, pos + at as usize, has_escapes));
            }
            let mut mask = (quote | backslash | control) & !escaped_first;
            // This block's escapes are followed one by one, and one that runs past the block
            // moves `pos` past it: nothing is carried.
            escaped_first = 0;
            loop {
                if mask == 0 {
                    pos += 16;
                    break;
                }
                let at = pos + mask.trailing_zeros() as usize;
                match bytes[at] {
                    b'"' => return Ok(self.string_ending(start, at, has_escapes)),
                    b'\\' => {
                        has_escapes = true;
                        let resume = at + escape_len(bytes, at).ok_or(JsonError::Syntax)?;
                        let consumed = resume - pos;
                        if consumed >= 16 {
                            pos = resume;
                            break;
                        }
                        // Forget the bytes the escape took (its second one may be a quote).
                        mask &= u32::MAX << consumed;
                    }
                    _ => return Err(JsonError::Syntax),
                }
            }
        }
        // The last few bytes, one at a time (after the byte an escape took, if any).
        pos += escaped_first as usize;
        loop {
            let at = pos
                + bytes[pos..]
                    .iter()
                    .position(|&b| STRING_SPECIAL[usize::from(b)])
                    .ok_or(JsonError::Syntax)?;
            match bytes[at] {
                b'"' => return Ok(self.string_ending(start, at, has_escapes)),
                b'\\' => {
                    has_escapes = true;
                    pos = at + escape_len(bytes, at).ok_or(JsonError::Syntax)?;
                }
                _ => return Err(JsonError::Syntax),
            }
        }
    }

    /// The string from `start` to its closing quote at `at`, the reader moved past it.
    #[inline(always)]
    fn string_ending(&mut self, start: usize, at: usize, has_escapes: bool) -> JsonStr<'a> {
        self.pos = at + 1;
        JsonStr {
            raw: &self.text[start..at],
            has_escapes,
        }
    }

    /// Reads a string written inside another string (`\"…\"`), starting at its escaped
    /// opening quote; `None` when it holds an escape of its own or does not end.
    fn string_in_string(&mut self) -> Option<JsonStr<'a>> {
        if self.bytes.get(self.pos..self.pos + 2)? != b"\\\"" {
            return None;
        }
        self.pos += 2;
        let start = self.pos;
        // In a valid body a quote or control character only occurs escaped, so the next
        // backslash ends the string or starts an escape of its own.
        self.pos += self.bytes[start..].iter().position(|&b| b == b'\\')?;
        if self.bytes.get(self.pos + 1) != Some(&b'"') {
            return None;
        }
        let raw = &self.text[start..self.pos];
        self.pos += 2;
        Some(JsonStr {
            raw,
            has_escapes: false,
        })
    }

    /// Reads a number per the JSON grammar and returns its literal text.
    fn number(&mut self) -> Result<&'a str, JsonError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.next_byte() {
            Some(b'0') => {}
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(JsonError::Syntax),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            self.one_or_more_digits()?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            self.one_or_more_digits()?;
        }
        Ok(&self.text[start..self.pos])
    }

    fn digits(&mut self) {
        self.pos += self.bytes[self.pos..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
    }

    fn one_or_more_digits(&mut self) -> Result<(), JsonError> {
        let start = self.pos;
        self.digits();
        if self.pos == start {
            Err(JsonError::Syntax)
        } else {
            Ok(())
        }
    }
}

/// Resolves the escapes of a JSON string body already validated (by this reader or the one
/// that handed it over); malformed escapes become U+FFFD or are kept, never a panic.
pub fn unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    unescape_into(raw, &mut out);
    out
}

/// Appends the value of the validated string body `raw` to `out`.
fn unescape_into(raw: &str, out: &mut String) {
    let bytes = raw.as_bytes();
    let mut run_start = 0;
    let mut i = 0;
    // Escapes are ASCII, so cutting the text at a backslash never splits a character.
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            i += 1;
            continue;
        }
        out.push_str(&raw[run_start..i]);
        let escaped = bytes.get(i + 1).copied().unwrap_or(b'\\');
        i += 2;
        match escaped {
            b'n' => out.push('\n'),
            b't' => out.push('\t'),
            b'r' => out.push('\r'),
            b'b' => out.push('\u{8}'),
            b'f' => out.push('\u{c}'),
            b'u' => {
                let high = hex4(bytes, i);
                i += 4;
                let code = if (0xD800..0xDC00).contains(&high) {
                    // A surrogate pair is two escapes; a lone half becomes U+FFFD like
                    // serde_json's lossy mode, rather than rejecting text Kafka clients produce.
                    let low = if bytes.get(i..i + 2) == Some(b"\\u") {
                        hex4(bytes, i + 2)
                    } else {
                        0
                    };
                    if (0xDC00..0xE000).contains(&low) {
                        i += 6;
                        0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
                    } else {
                        0xFFFD
                    }
                } else {
                    high
                };
                out.push(char::from_u32(code).unwrap_or('\u{FFFD}'));
            }
            other => out.push(char::from(other)),
        }
        run_start = i.min(bytes.len());
    }
    out.push_str(&raw[run_start.min(raw.len())..]);
}

/// The value of the four hex digits at `at` (validated by the reader; 0 past the end).
fn hex4(bytes: &[u8], at: usize) -> u32 {
    let mut code = 0;
    for k in 0..4 {
        let digit = bytes
            .get(at + k)
            .and_then(|b| char::from(*b).to_digit(16))
            .unwrap_or(0);
        code = code * 16 + digit;
    }
    code
}

/// Appends `value` to `out` as a JSON string literal, quotes included.
pub fn write_json_string(out: &mut Vec<u8>, value: &str) {
    out.push(b'"');
    write_escaped(out, value.as_bytes());
    out.push(b'"');
}

/// Appends `value` as a JSON string literal that is itself inside a JSON string (a payload
/// in a kcat `-J` envelope): the literal escaped once more, in one pass and without a buffer.
/// Hundreds of millions of output values go through here on a dense dump.
#[inline]
pub fn write_json_string_in_string(out: &mut Vec<u8>, value: &str) {
    out.extend_from_slice(b"\\\"");
    write_escaped_in_string(out, value.as_bytes());
    out.extend_from_slice(b"\\\"");
}

/// The body of [`write_json_string_in_string`] without its quotes: a string's text escaped
/// twice. Escaping works byte by byte, so a text written in pieces comes out the same as
/// written whole.
#[inline]
pub fn write_escaped_in_string(out: &mut Vec<u8>, bytes: &[u8]) {
    if bytes.iter().any(|&b| STRING_SPECIAL[usize::from(b)]) {
        escape_in_string(out, bytes);
    } else {
        // Ids, countries, segments: nothing to escape, the common case.
        out.extend_from_slice(bytes);
    }
}

#[cold]
fn escape_in_string(out: &mut Vec<u8>, mut rest: &[u8]) {
    while let Some(at) = rest.iter().position(|&b| STRING_SPECIAL[usize::from(b)]) {
        out.extend_from_slice(&rest[..at]);
        // The byte's escape (a few bytes), escaped again.
        let mut escape = [0u8; 6];
        let n = escape_byte(rest[at], &mut escape);
        write_escaped(out, &escape[..n]);
        rest = &rest[at + 1..];
    }
    out.extend_from_slice(rest);
}

/// Writes the JSON escape of a special byte (quote, backslash, control) into `escape`;
/// returns its length.
fn escape_byte(byte: u8, escape: &mut [u8; 6]) -> usize {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let short = |c: u8, escape: &mut [u8; 6]| {
        escape[..2].copy_from_slice(&[b'\\', c]);
        2
    };
    match byte {
        b'"' => short(b'"', escape),
        b'\\' => short(b'\\', escape),
        b'\n' => short(b'n', escape),
        b'\r' => short(b'r', escape),
        b'\t' => short(b't', escape),
        control => {
            escape.copy_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(control >> 4)],
                HEX[usize::from(control & 0xf)],
            ]);
            6
        }
    }
}

/// Appends `bytes` (UTF-8) with JSON string escapes, no quotes.
pub fn write_escaped(out: &mut Vec<u8>, bytes: &[u8]) {
    // JSON text (a notification's value in a dump) has a quote every few bytes: the search
    // goes on from each one, and quotes and backslashes, by far the most common, are written
    // without building their escape first.
    out.reserve(bytes.len() + bytes.len() / 8);
    let mut from = 0;
    while let Some(at) = find_string_special(bytes, from) {
        out.extend_from_slice(&bytes[from..at]);
        match bytes[at] {
            special @ (b'"' | b'\\') => out.extend_from_slice(&[b'\\', special]),
            control => {
                let mut escape = [0u8; 6];
                let n = escape_byte(control, &mut escape);
                out.extend_from_slice(&escape[..n]);
            }
        }
        from = at + 1;
    }
    out.extend_from_slice(&bytes[from..]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::Strategy;

    fn members(text: &str) -> Result<Vec<(String, JsonValue<'_>)>, JsonError> {
        let mut out = Vec::new();
        for_each_member(text, |k, v| out.push((k.decode().into_owned(), v)))?;
        Ok(out)
    }

    #[test]
    fn reads_scalar_members_with_literal_numbers() {
        let got = members(
            r#" {"a": 41.886925, "B":"x\"y", "c": null, "d": true, "e": [1, {"f": 2}], "g": {}} "#,
        )
        .unwrap();
        assert_eq!(got[0], ("a".into(), JsonValue::Number("41.886925")));
        assert!(matches!(got[1].1, JsonValue::String(s) if s.decode() == "x\"y"));
        assert_eq!(got[2].1, JsonValue::Null);
        assert_eq!(got[3].1, JsonValue::Bool(true));
        assert_eq!(got[4].1, JsonValue::Array("[1, {\"f\": 2}]"));
        assert_eq!(got[5].1, JsonValue::Object("{}"));
    }

    #[test]
    fn distinguishes_not_json_from_not_an_object() {
        assert_eq!(members("[1,2,3]").unwrap_err(), JsonError::NotAnObject);
        assert_eq!(members("42").unwrap_err(), JsonError::NotAnObject);
        assert_eq!(members("\"s\"").unwrap_err(), JsonError::NotAnObject);
        assert_eq!(members("not json at all").unwrap_err(), JsonError::Syntax);
        assert_eq!(
            members(r#"{"uid": "x", "latitude": "#).unwrap_err(),
            JsonError::Syntax
        );
        assert_eq!(members("").unwrap_err(), JsonError::Syntax);
        assert_eq!(members("{} x").unwrap_err(), JsonError::Syntax);
        assert_eq!(members("[1] x").unwrap_err(), JsonError::Syntax);
    }

    #[test]
    fn rejects_invalid_numbers_and_strings() {
        for bad in [
            r#"{"a": 01}"#,
            r#"{"a": 1.}"#,
            r#"{"a": .5}"#,
            r#"{"a": -}"#,
            r#"{"a": 1e}"#,
            r#"{"a": +1}"#,
            r#"{"a": "\x"}"#,
            r#"{"a": "\u12G4"}"#,
            "{\"a\": \"tab\there\"}",
            r#"{"a": 1,}"#,
            r#"{a: 1}"#,
            r#"{"a" 1}"#,
            r#"{"a": NaN}"#,
            r#"{"a": [1,]}"#,
        ] {
            assert_eq!(members(bad).unwrap_err(), JsonError::Syntax, "{bad}");
        }
    }

    #[test]
    fn unescapes_unicode_and_surrogate_pairs() {
        let got = members(r#"{"k": "\u0073ku \ud83d\ude00 \u00e9"}"#).unwrap();
        let JsonValue::String(s) = got[0].1 else {
            panic!("not a string")
        };
        assert_eq!(s.decode(), "sku 😀 é");
    }

    #[test]
    fn string_writer_round_trips_through_serde() {
        let text = "a\"b\\c\nd\u{1}é😀";
        let mut out = Vec::new();
        write_json_string(&mut out, text);
        let back: String = serde_json::from_slice(&out).unwrap();
        assert_eq!(back, text);
    }

    /// Each member as comparable text: values read in place and from unescaped text borrow
    /// from different strings.
    fn shown(key: JsonStr<'_>, value: JsonValue<'_>) -> (String, String) {
        let value = match value {
            JsonValue::String(s) => format!("string {}", s.decode()),
            other => format!("{other:?}"),
        };
        (key.decode().into_owned(), value)
    }

    fn in_string(text: &str) -> Option<Vec<(String, String)>> {
        let mut body = Vec::new();
        write_escaped(&mut body, text.as_bytes());
        let body = String::from_utf8(body).unwrap();
        let mut got = Vec::new();
        for_each_member_in_string(&body, |k, v| got.push(shown(k, v)))?;
        Some(got)
    }

    #[test]
    fn reads_real_payloads_in_place() {
        for text in [
            r#"{"uid": "c008997", "latitude": 30.70173, "longitude": -119.79818, "country": "USA"}"#,
            r#"{"pid":"promo-0","SKU":9432,"segment":null,"on":true,"off":false}"#,
            r#" { } "#,
        ] {
            assert!(in_string(text).is_some(), "{text}");
        }
        // Nested values and escapes of their own are left to the general reader.
        for text in [
            r#"{"a": {"b": 1}}"#,
            r#"{"a": [1]}"#,
            r#"{"a": "x\"y"}"#,
            "{\"a\":\n1}",
        ] {
            assert_eq!(in_string(text), None, "{text}");
        }
    }

    proptest::proptest! {
        /// An integer read in one pass is the number `str::parse` reads, and ends where the
        /// grammar ends it: alone, or with the rest of a kcat line after it (then read eight
        /// digits at a time).
        #[test]
        fn integers_read_in_one_pass_agree_with_the_grammar(number in "-?[0-9]{0,21}(\\.[0-9]{0,2})?([eE][0-9]?)?", tail in "[,}a-z\"0-9:]{0,12}") {
            let text = format!("{number}{tail}");
            let mut general = Reader::new(&text);
            let literal = general.number().ok();
            let mut cursor = JsonCursor::new(&text);
            let got = cursor.integer();
            proptest::prop_assert_eq!(got, literal.map(|t| t.parse::<i64>().ok()));
            if got.is_some() {
                proptest::prop_assert_eq!(cursor.reader.pos, general.pos);
            }
        }

        /// Eight bytes read as digits at once agree with reading them one by one.
        #[test]
        fn leading_digits_of_a_word_are_its_digits(bytes in proptest::array::uniform8(proptest::prelude::any::<u8>()), digits in "[0-9]{0,8}") {
            let mut word = bytes;
            word[..digits.len()].copy_from_slice(digits.as_bytes());
            let count = word.iter().take_while(|b| b.is_ascii_digit()).count();
            let value = word[..count].iter().fold(0u64, |v, d| v * 10 + u64::from(d - b'0'));
            proptest::prop_assert_eq!(leading_digits(u64::from_le_bytes(word)), (count as u32, value));
        }

        /// A short string found within two blocks is the string the full reader finds, and
        /// ends where it ends; anything else is left to that reader.
        #[test]
        fn a_short_string_is_read_like_any_string(body in "[a-z_\"\\\\n\u{1}é]{0,40}") {
            let text = format!("\"{body}");
            let mut short = JsonCursor::new(&text);
            let mut full = JsonCursor::new(&text);
            proptest::prop_assert_eq!(short.short_string(), full.string());
            proptest::prop_assert_eq!(short.reader.pos, full.reader.pos);
        }

        /// The eight-at-a-time search finds what a byte-by-byte search finds.
        #[test]
        fn finds_the_first_special_byte_like_a_plain_search(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..40)) {
            let plain = bytes.iter().position(|&b| STRING_SPECIAL[usize::from(b)]);
            proptest::prop_assert_eq!(find_string_special(&bytes, 0), plain);
            if !bytes.is_empty() {
                let later = bytes[1..].iter().position(|&b| STRING_SPECIAL[usize::from(b)]).map(|p| p + 1);
                proptest::prop_assert_eq!(find_string_special(&bytes, 1), later);
            }
        }

        /// Reading an object in place inside its string, whenever it answers, gives what the
        /// general reader gives on the unescaped text.
        #[test]
        fn reading_in_place_agrees_with_the_general_reader(text in r#"[{}\[\]",:0-9a-z\\. \-+eEtrufnl\n]{0,40}"#) {
            if let Some(got) = in_string(&text) {
                let mut plain = Vec::new();
                for_each_member(&text, |k, v| plain.push(shown(k, v))).unwrap();
                proptest::prop_assert_eq!(got, plain);
            }
        }

        /// Flat objects of scalars without escapes — every real payload — are read in place,
        /// member for member as the general reader reads them.
        #[test]
        fn flat_objects_are_read_in_place(map in proptest::collection::btree_map("[a-zA-Z_ ]{0,6}", proptest::prop_oneof![
            "[ -!#-\\[\\]-~é]{0,8}".prop_map(serde_json::Value::from),
            proptest::prelude::any::<i64>().prop_map(serde_json::Value::from),
            (-1e6f64..1e6).prop_map(serde_json::Value::from),
            proptest::prelude::any::<bool>().prop_map(serde_json::Value::from),
            proptest::strategy::Just(serde_json::Value::Null),
        ], 0..6)) {
            let text = serde_json::to_string(&map).unwrap();
            let got = in_string(&text);
            proptest::prop_assert!(got.is_some(), "{}", text);
            let mut plain = Vec::new();
            for_each_member(&text, |k, v| plain.push(shown(k, v))).unwrap();
            proptest::prop_assert_eq!(got.unwrap(), plain);
        }

        /// A literal written inside a string is the literal escaped once more, and a JSON
        /// reader gets the value back through both layers.
        #[test]
        fn literal_in_a_string_is_the_literal_escaped_again(value in "[ -~é\n\t\r\u{1}\u{1f}\"\\\\]{0,12}") {
            let mut ours = Vec::new();
            write_json_string_in_string(&mut ours, &value);
            let mut literal = Vec::new();
            write_json_string(&mut literal, &value);
            let mut twice = Vec::new();
            write_escaped(&mut twice, &literal);
            proptest::prop_assert_eq!(&ours, &twice);
            let outer = format!("\"{}\"", String::from_utf8(ours).unwrap());
            let inner: String = serde_json::from_str(&outer).unwrap();
            let back: String = serde_json::from_str(&inner).unwrap();
            proptest::prop_assert_eq!(back, value);
        }

        /// Strings long enough for the block scan, with escapes at every offset: the same
        /// end, escape flag and refusals as the grammar read one byte at a time.
        #[test]
        fn a_string_is_read_like_a_byte_by_byte_scan(
            parts in proptest::collection::vec(proptest::sample::select(vec![
                "a", "bc", "\\\"", "\\\\", "\\n", "\\u00e9", "\\u12", "\\x", "\\", "\"", "\u{1}", "\t",
                "é", "✓", " ", "0123456789abcdef",
            ]), 0..40),
        ) {
            let text: String = parts.concat();
            let quoted = format!("\"{text}");
            let ours = Reader::new(&quoted).string().map(|s| (s.raw, s.has_escapes));
            // The grammar, one byte at a time.
            let bytes = text.as_bytes();
            let mut at = 0;
            let mut escapes = false;
            let reference = loop {
                match bytes.get(at) {
                    None => break Err(JsonError::Syntax),
                    Some(b'"') => break Ok((&text[..at], escapes)),
                    Some(b'\\') => {
                        escapes = true;
                        match bytes.get(at + 1) {
                            Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => at += 2,
                            Some(b'u') if bytes.get(at + 2..at + 6).is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) => at += 6,
                            _ => break Err(JsonError::Syntax),
                        }
                    }
                    Some(&b) if b < 0x20 => break Err(JsonError::Syntax),
                    Some(_) => at += 1,
                }
            };
            proptest::prop_assert_eq!(ours, reference, "{:?}", text);
        }

        /// Our validity decision equals serde_json's on arbitrary near-JSON text.
        #[test]
        fn validity_agrees_with_serde_json(text in r#"[{}\[\]",:0-9a-z\\. \-+eEtrufnl]{0,40}"#) {
            // Lone surrogate escapes are grammatical JSON that serde_json refuses; we accept them.
            proptest::prop_assume!(!text.contains("\\u"));
            let ours = members(&text);
            let theirs = serde_json::from_str::<serde_json::Value>(&text);
            match theirs {
                Ok(serde_json::Value::Object(_)) => proptest::prop_assert!(ours.is_ok(), "{text}"),
                Ok(_) => proptest::prop_assert_eq!(ours.unwrap_err(), JsonError::NotAnObject),
                Err(_) => proptest::prop_assert_eq!(ours.unwrap_err(), JsonError::Syntax),
            }
        }

        /// Any object serde_json writes, we read back member by member.
        #[test]
        fn reads_what_serde_json_writes(map in proptest::collection::btree_map("[a-zA-Z\"\\\\é ]{0,6}", "[ -~é\n]{0,8}", 0..6)) {
            let text = serde_json::to_string(&map).unwrap();
            let got = members(&text).unwrap();
            proptest::prop_assert_eq!(got.len(), map.len());
            for ((k, v), (gk, gv)) in map.iter().zip(got.iter()) {
                proptest::prop_assert_eq!(k, gk);
                let JsonValue::String(s) = gv else { panic!("not a string") };
                let decoded = s.decode();
                proptest::prop_assert_eq!(v.as_str(), decoded.as_ref());
            }
        }
    }
}
