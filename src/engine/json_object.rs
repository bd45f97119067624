//! A flat JSON object written member by member straight into a byte buffer: the output
//! records are written by the hundred million on a dense dump, so no intermediate value or
//! String per field.

use std::io::Write as _;

use super::decimal::Decimal5;
use super::json::{
    write_escaped, write_escaped_in_string, write_json_string, write_json_string_in_string,
};

/// Where the object goes: as JSON, or inside a JSON string.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Embedding {
    Plain,
    InString,
}

/// A member's name as written plain (`"NAME":`) and inside a string (`\"NAME\":`);
/// [`member_name!`] makes one from a literal. A writer whose member order is fixed writes each
/// name as one copy of a constant instead of four small writes.
#[derive(Clone, Copy, Debug)]
pub struct MemberName {
    pub plain: &'static str,
    pub in_string: &'static str,
}

/// The [`MemberName`] of a literal name (plain upper-case ASCII, as every output's).
macro_rules! member_name {
    ($name:literal) => {
        $crate::engine::json_object::MemberName {
            plain: concat!("\"", $name, "\":"),
            in_string: concat!("\\\"", $name, "\\\":"),
        }
    };
}
pub(crate) use member_name;

/// Writes one flat JSON object member by member.
pub struct ObjectWriter<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
    embedding: Embedding,
}

impl<'a> ObjectWriter<'a> {
    pub fn new(out: &'a mut Vec<u8>, embedding: Embedding) -> Self {
        out.push(b'{');
        Self {
            out,
            first: true,
            embedding,
        }
    }

    /// A quote as this embedding writes it.
    #[inline(always)]
    fn quote(&mut self) {
        match self.embedding {
            Embedding::Plain => self.out.push(b'"'),
            Embedding::InString => self.out.extend_from_slice(b"\\\""),
        }
    }

    /// `"NAME":` (names are plain upper-case ASCII). Members are inlined into the record's
    /// writer, where each name is a constant: its copy is then a few stores rather than a call
    /// to `memcpy` (six million names on the bench dump).
    #[inline(always)]
    pub fn name(&mut self, name: &str) {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        self.quote();
        self.out.extend_from_slice(name.as_bytes());
        self.quote();
        self.out.push(b':');
    }

    pub fn null(&mut self) {
        self.out.extend_from_slice(b"null");
    }

    /// A member's name given as a [`MemberName`]: a comma, then a copy of a constant (inlined
    /// where the name is known, a few stores). Its value follows.
    #[inline(always)]
    pub fn member(&mut self, name: MemberName) -> &mut Self {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        match self.embedding {
            Embedding::Plain => self.out.extend_from_slice(name.plain.as_bytes()),
            Embedding::InString => self.out.extend_from_slice(name.in_string.as_bytes()),
        }
        self
    }

    /// Written out rather than as `name` then `string_value`: the two calls change what the
    /// compiler inlines into the NEARBY_CUSTOMERS writer, 14 M instructions dearer on the
    /// bench dump.
    #[inline(always)]
    pub fn string(&mut self, name: &str, value: Option<&str>) {
        self.name(name);
        let Some(s) = value else {
            return self.null();
        };
        match self.embedding {
            Embedding::Plain => write_json_string(self.out, s),
            Embedding::InString => write_json_string_in_string(self.out, s),
        }
    }

    /// A string value (or null), after its name.
    #[inline(always)]
    pub fn string_value(&mut self, value: Option<&str>) {
        let Some(s) = value else {
            return self.null();
        };
        match self.embedding {
            Embedding::Plain => write_json_string(self.out, s),
            Embedding::InString => write_json_string_in_string(self.out, s),
        }
    }

    /// A string value whose text `write` gives in pieces (a rendered message), each escaped
    /// as it comes: the text is never gathered into a `String` of its own.
    pub fn string_in_pieces(&mut self, write: impl FnOnce(&mut StringPieces<'_>)) {
        self.quote();
        write(&mut StringPieces {
            out: self.out,
            embedding: self.embedding,
        });
        self.quote();
    }

    #[inline(always)]
    pub fn decimal(&mut self, name: &str, value: Option<Decimal5>) {
        self.name(name);
        match value {
            Some(d) => d.write_to(self.out),
            None => self.null(),
        }
    }

    #[inline(always)]
    pub fn bigint(&mut self, name: &str, value: Option<i64>) {
        self.name(name);
        // Written out, as `string` is: delegating to `bigint_value` cost the NEARBY_CUSTOMERS
        // writer 2.4 M instructions on the bench dump.
        match value {
            Some(n) => self
                .out
                .extend_from_slice(itoa::Buffer::new().format(n).as_bytes()),
            None => self.null(),
        }
    }

    /// A BIGINT value (or null), after its name.
    #[inline(always)]
    pub fn bigint_value(&mut self, value: Option<i64>) {
        match value {
            Some(n) => self
                .out
                .extend_from_slice(itoa::Buffer::new().format(n).as_bytes()),
            None => self.null(),
        }
    }

    /// A DOUBLE, written like Java's `Double.toString` for the values we produce (`91.5`,
    /// `0.0`). Non-finite values cannot occur, but would be written as null, not invalid JSON.
    #[inline(always)]
    pub fn float(&mut self, name: &str, value: f64) {
        self.name(name);
        self.float_value(value);
    }

    /// A DOUBLE value, after its name (see [`ObjectWriter::float`]).
    #[inline(always)]
    pub fn float_value(&mut self, value: f64) {
        if value.is_finite() {
            self.out
                .extend_from_slice(ryu::Buffer::new().format_finite(value).as_bytes());
        } else {
            self.null();
        }
    }

    /// A decimal number written as it prints ("12.5", "15").
    pub fn decimal_number(&mut self, name: &str, value: rust_decimal::Decimal) {
        self.name(name);
        self.decimal_number_value(value);
    }

    /// A decimal number value written as it prints ("12.5", "15"), after its name.
    pub fn decimal_number_value(&mut self, value: rust_decimal::Decimal) {
        write_decimal(self.out, value);
    }

    pub fn finish(self) {
        self.out.push(b'}');
    }
}

/// The inside of a string member, written piece by piece ([`ObjectWriter::string_in_pieces`]).
pub struct StringPieces<'a> {
    out: &'a mut Vec<u8>,
    embedding: Embedding,
}

impl StringPieces<'_> {
    /// Appends `text`, escaped for where the object goes.
    pub fn push_str(&mut self, text: &str) {
        match self.embedding {
            Embedding::Plain => write_escaped(self.out, text.as_bytes()),
            Embedding::InString => write_escaped_in_string(self.out, text.as_bytes()),
        }
    }
}

/// `value` as it prints ("12.5", "15"), straight into `out`: a whole number (a discount, most
/// often) through `itoa`, anything else through `Display`.
pub fn write_decimal(out: &mut Vec<u8>, value: rust_decimal::Decimal) {
    if value.scale() == 0 {
        if let Ok(whole) = i64::try_from(value) {
            out.extend_from_slice(itoa::Buffer::new().format(whole).as_bytes());
            return;
        }
    }
    let _ = write!(out, "{value}");
}
