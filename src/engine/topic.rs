//! The five topics of the pipeline and the raw record as a source hands it over.

use std::borrow::Cow;
use std::fmt;

use super::json::{unescape, JsonStr};

/// A topic the pipeline reads or writes. Names are those of the original deployment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Topic {
    CustomersLocations,
    StoresProducts,
    ProductsPromotions,
    ValidPromotions,
    NearbyCustomers,
}

impl Topic {
    pub const ALL: [Topic; 5] = [
        Topic::CustomersLocations,
        Topic::StoresProducts,
        Topic::ProductsPromotions,
        Topic::ValidPromotions,
        Topic::NearbyCustomers,
    ];
    pub const INPUTS: [Topic; 3] = [
        Topic::CustomersLocations,
        Topic::StoresProducts,
        Topic::ProductsPromotions,
    ];
    pub const OUTPUTS: [Topic; 2] = [Topic::ValidPromotions, Topic::NearbyCustomers];

    pub fn name(self) -> &'static str {
        match self {
            Topic::CustomersLocations => "customers_locations",
            Topic::StoresProducts => "stores_products",
            Topic::ProductsPromotions => "products_promotions",
            Topic::ValidPromotions => "VALID_PROMOTIONS",
            Topic::NearbyCustomers => "NEARBY_CUSTOMERS",
        }
    }

    /// The topic with exactly this name (Kafka topic names are case-sensitive).
    pub fn from_name(name: &str) -> Option<Topic> {
        Topic::ALL.into_iter().find(|t| t.name() == name)
    }

    pub fn is_input(self) -> bool {
        Topic::INPUTS.contains(&self)
    }

    /// Dense index for per-topic counters.
    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One Kafka record as a source (dump, bus, Kafka) hands it to the engine, borrowed where the
/// source allows. The timestamp is the envelope's; `None` when the source had none.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RawRecord<'a> {
    pub topic: Cow<'a, str>,
    pub partition: i32,
    pub offset: i64,
    pub timestamp_ms: Option<i64>,
    pub key: Option<Cow<'a, str>>,
    /// Header name and value pairs; a value may be null.
    pub headers: Vec<(String, Option<String>)>,
    /// The value; `None` for a tombstone.
    pub payload: Option<Payload<'a>>,
}

/// Where a record sits in its topic: partition and offset, packed in one word so a buffered
/// ping can carry it. Output ids are made of their inputs' origins, so they come out the same
/// however often, and in whatever order, the inputs are read again.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Origin(u64);

impl Origin {
    /// A record from a source without offsets, or beyond what fits (partition ≥ 65 535 or
    /// offset ≥ 2⁴⁸).
    pub const UNKNOWN: Origin = Origin(u64::MAX);
    const OFFSET_BITS: u32 = 48;

    pub fn new(partition: i32, offset: i64) -> Origin {
        match (u16::try_from(partition), u64::try_from(offset)) {
            (Ok(partition), Ok(offset))
                if partition < u16::MAX && offset >> Self::OFFSET_BITS == 0 =>
            {
                Origin((u64::from(partition) << Self::OFFSET_BITS) | offset)
            }
            _ => Origin::UNKNOWN,
        }
    }

    /// (partition, offset), unless unknown.
    pub fn position(self) -> Option<(i32, i64)> {
        (self != Origin::UNKNOWN).then_some((
            (self.0 >> Self::OFFSET_BITS) as i32,
            (self.0 & ((1 << Self::OFFSET_BITS) - 1)) as i64,
        ))
    }
}

impl Default for Origin {
    fn default() -> Self {
        Origin::UNKNOWN
    }
}

/// `partition:offset`, or `?`.
impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position() {
            Some((partition, offset)) => write!(f, "{partition}:{offset}"),
            None => f.write_str("?"),
        }
    }
}

impl fmt::Debug for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl RawRecord<'_> {
    /// Where the record sits in its topic.
    pub fn origin(&self) -> Origin {
        Origin::new(self.partition, self.offset)
    }

    /// The value's text (unescaped if the source kept it escaped); `None` for a tombstone.
    pub fn payload_text(&self) -> Option<Cow<'_, str>> {
        self.payload.as_ref().map(Payload::text)
    }
}

/// A record's value as its source holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Payload<'a> {
    /// The value's text.
    Text(Cow<'a, str>),
    /// The body of a valid JSON string that holds the value, escapes unresolved: a kcat `-J`
    /// line's `"payload"`. The engine reads the value in place; unescaping a copy first was
    /// the largest single cost of reading a dump.
    Escaped(Cow<'a, str>),
}

impl<'a> Payload<'a> {
    /// The value's text, unescaped if need be.
    pub fn text(&self) -> Cow<'_, str> {
        match self {
            Payload::Text(text) => Cow::Borrowed(text),
            Payload::Escaped(body) => Cow::Owned(unescape(body)),
        }
    }

    /// The same value, owning its text.
    pub fn into_owned(self) -> Payload<'static> {
        match self {
            Payload::Text(text) => Payload::Text(Cow::Owned(text.into_owned())),
            Payload::Escaped(body) => Payload::Escaped(Cow::Owned(body.into_owned())),
        }
    }
}

/// A JSON string value as a payload: kept escaped when it has escapes, for the engine to
/// read in place.
impl<'a> From<JsonStr<'a>> for Payload<'a> {
    fn from(s: JsonStr<'a>) -> Self {
        if s.has_escapes() {
            Payload::Escaped(Cow::Borrowed(s.raw()))
        } else {
            Payload::Text(Cow::Borrowed(s.raw()))
        }
    }
}

impl<'a> From<&'a str> for Payload<'a> {
    fn from(text: &'a str) -> Self {
        Payload::Text(Cow::Borrowed(text))
    }
}

impl From<String> for Payload<'_> {
    fn from(text: String) -> Self {
        Payload::Text(Cow::Owned(text))
    }
}

impl<'a> From<Cow<'a, str>> for Payload<'a> {
    fn from(text: Cow<'a, str>) -> Self {
        Payload::Text(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_origin_keeps_partition_and_offset_or_says_it_cannot() {
        for (partition, offset) in [(0, 0), (7, 123_456_789), (65_534, (1 << 48) - 1)] {
            let origin = Origin::new(partition, offset);
            assert_eq!(origin.position(), Some((partition, offset)));
            assert_eq!(origin.to_string(), format!("{partition}:{offset}"));
        }
        for (partition, offset) in [(-1, 0), (0, -1), (65_535, 0), (0, 1 << 48)] {
            assert_eq!(Origin::new(partition, offset), Origin::UNKNOWN);
        }
        assert_eq!(Origin::default().to_string(), "?");
        assert_eq!(Origin::UNKNOWN.position(), None);
    }
}
