//! Typed values of the three input topics, decoded exactly like ksqlDB's JSON format.
//!
//! The rules (see issue 2): the value is a JSON object; field names match case-insensitively
//! (the last of two spellings wins, as Jackson's tree does); unknown fields are ignored; a
//! missing field or JSON null is NULL. Like ksqlDB's deserializer, BIGINT and DECIMAL take a
//! number or a string holding one, and VARCHAR takes any scalar as its text; a value of a type
//! the column cannot take refuses the whole record.

use std::sync::Arc;

use rust_decimal::Decimal;

use super::decimal::{Decimal5, DecimalPolicy};
use super::geo::LatLon;
use super::in_place_value::{self, Form, ValueLayout};
use super::json::{
    for_each_member, for_each_member_in_string, unescape, JsonError, JsonStr, JsonValue,
};
use super::reject::{Column, RejectReason};
use super::shared_text::SharedTexts;
use super::topic::{Origin, Payload, Topic};

/// A shopper's phone position (`customers_locations`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Customer {
    pub uid: Option<Arc<str>>,
    pub latitude: Option<Decimal5>,
    pub longitude: Option<Decimal5>,
    pub country: Option<Arc<str>>,
    /// Where the record came from (not a column): output ids are made of it.
    pub origin: Origin,
}

/// Where a product sits in a store (`stores_products`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Product {
    pub sku: Option<i64>,
    pub segment: Option<Arc<str>>,
    pub variant: Option<Arc<str>>,
    pub latitude: Option<Decimal5>,
    pub longitude: Option<Decimal5>,
    pub country: Option<Arc<str>>,
    pub origin: Origin,
}

/// A current promotion (`products_promotions`), with the optional extras we carry through.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Promotion {
    pub pid: Option<Arc<str>>,
    pub sku: Option<i64>,
    pub segment: Option<Arc<str>>,
    pub discount_pct: Option<Decimal>,
    pub title: Option<Arc<str>>,
    pub valid_until: Option<Arc<str>>,
    pub origin: Origin,
}

impl Customer {
    /// Both coordinates, or `None` when either is NULL (such a ping never passes the distance
    /// filter).
    pub fn position(&self) -> Option<LatLon> {
        position(self.latitude, self.longitude)
    }
}

impl Product {
    pub fn position(&self) -> Option<LatLon> {
        position(self.latitude, self.longitude)
    }
}

fn position(lat: Option<Decimal5>, lon: Option<Decimal5>) -> Option<LatLon> {
    Some(LatLon {
        lat: lat?,
        lon: lon?,
    })
}

/// A decoded value of one input topic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InputValue {
    Customer(Customer),
    Product(Product),
    Promotion(Promotion),
}

impl InputValue {
    /// The same value, marked as coming from `origin`.
    pub fn from_origin(mut self, origin: Origin) -> Self {
        match &mut self {
            InputValue::Customer(c) => c.origin = origin,
            InputValue::Product(p) => p.origin = origin,
            InputValue::Promotion(p) => p.origin = origin,
        }
        self
    }
}

const CUSTOMER_COLUMNS: &[Column] = &[
    Column::Uid,
    Column::Latitude,
    Column::Longitude,
    Column::Country,
];
const PRODUCT_COLUMNS: &[Column] = &[
    Column::Sku,
    Column::Segment,
    Column::Variant,
    Column::Latitude,
    Column::Longitude,
    Column::Country,
];
const PROMOTION_COLUMNS: &[Column] = &[
    Column::Pid,
    Column::Sku,
    Column::Segment,
    Column::DiscountPct,
    Column::Title,
    Column::ValidUntil,
];
/// The widest column list above.
const MAX_COLUMNS: usize = 6;

/// Decodes the value of a record on input topic `topic` (one record now and then: the
/// general reader, with nothing learned or shared).
pub fn decode_value(
    topic: Topic,
    payload: &str,
    policy: DecimalPolicy,
) -> Result<InputValue, RejectReason> {
    build_value(
        topic,
        Fields::read(payload, columns_of(topic)?, policy)?,
        &mut SharedTexts::none(),
    )
}

/// The last layout of each topic's values (`in_place_value::ValueLayout`): what reading a
/// dump remembers from one record to the next.
#[derive(Clone, Debug, Default)]
pub struct ValueLayouts {
    customer: ValueLayout,
    product: ValueLayout,
}

/// Decodes a record's value as its source holds it: a ping's or a product's value is read in
/// place, inside its kcat string or as a Kafka message's JSON text, and only a value too
/// unusual for that (nested fields, escapes of its own) goes to the general reader (a value
/// inside a string unescaped first). Both ways give the same answer. Texts come from `texts`.
pub fn decode_payload(
    topic: Topic,
    payload: &Payload<'_>,
    policy: DecimalPolicy,
    texts: &mut SharedTexts,
    layouts: &mut ValueLayouts,
) -> Result<InputValue, RejectReason> {
    let (body, form) = match payload {
        Payload::Escaped(body) => (body, Form::InString),
        Payload::Text(text) => (text, Form::Text),
    };
    let plain = match topic {
        Topic::CustomersLocations => {
            in_place_value::customer(body, form, policy, texts, &mut layouts.customer)
                .map(InputValue::Customer)
        }
        Topic::StoresProducts => {
            in_place_value::product(body, form, policy, texts, &mut layouts.product)
                .map(InputValue::Product)
        }
        _ => None,
    };
    if let Some(value) = plain {
        return Ok(value);
    }
    let columns = columns_of(topic)?;
    let unescaped;
    let fields = match payload {
        Payload::Text(text) => Fields::read(text, columns, policy)?,
        Payload::Escaped(body) => match Fields::read_in_string(body, columns, policy) {
            Some(fields) => fields,
            None => {
                unescaped = unescape(body);
                Fields::read(&unescaped, columns, policy)?
            }
        },
    };
    build_value(topic, fields, texts)
}

/// The columns of an input topic's value, in the order [`build_value`] reads them.
fn columns_of(topic: Topic) -> Result<&'static [Column], RejectReason> {
    match topic {
        Topic::CustomersLocations => Ok(CUSTOMER_COLUMNS),
        Topic::StoresProducts => Ok(PRODUCT_COLUMNS),
        Topic::ProductsPromotions => Ok(PROMOTION_COLUMNS),
        Topic::ValidPromotions | Topic::NearbyCustomers => Err(RejectReason::NotAnInputTopic),
    }
}

fn build_value(
    topic: Topic,
    f: Fields<'_>,
    texts: &mut SharedTexts,
) -> Result<InputValue, RejectReason> {
    match topic {
        Topic::CustomersLocations => {
            let customer = Customer {
                uid: f.varchar(0, texts)?,
                latitude: f.latitude(1)?,
                longitude: f.longitude(2)?,
                country: f.varchar(3, texts)?,
                origin: Origin::UNKNOWN,
            };
            Ok(InputValue::Customer(customer))
        }
        Topic::StoresProducts => {
            let product = Product {
                sku: f.bigint(0)?,
                segment: f.varchar(1, texts)?,
                variant: f.varchar(2, texts)?,
                latitude: f.latitude(3)?,
                longitude: f.longitude(4)?,
                country: f.varchar(5, texts)?,
                origin: Origin::UNKNOWN,
            };
            Ok(InputValue::Product(product))
        }
        Topic::ProductsPromotions => {
            let promotion = Promotion {
                pid: f.varchar(0, texts)?,
                sku: f.bigint(1)?,
                segment: f.varchar(2, texts)?,
                discount_pct: f.any_decimal(3)?,
                title: f.varchar(4, texts)?,
                valid_until: f.varchar(5, texts)?,
                origin: Origin::UNKNOWN,
            };
            Ok(InputValue::Promotion(promotion))
        }
        Topic::ValidPromotions | Topic::NearbyCustomers => Err(RejectReason::NotAnInputTopic),
    }
}

/// The literal text of a record's coordinates (latitude, longitude) as the payload wrote
/// them, before any rounding: another engine given these applies its own decimal parsing.
/// `None` where the field is missing or null; only for topics with coordinates.
pub fn coordinate_literals(
    topic: Topic,
    payload: &str,
) -> Result<(Option<JsonValue<'_>>, Option<JsonValue<'_>>), RejectReason> {
    let (columns, lat, lon) = match topic {
        Topic::CustomersLocations => (CUSTOMER_COLUMNS, 1, 2),
        Topic::StoresProducts => (PRODUCT_COLUMNS, 3, 4),
        _ => return Ok((None, None)),
    };
    let fields = Fields::read(payload, columns, DecimalPolicy::Round)?;
    Ok((fields.get(lat), fields.get(lon)))
}

/// The raw member values of one object, by column position.
struct Fields<'a> {
    columns: &'static [Column],
    values: [Option<JsonValue<'a>>; MAX_COLUMNS],
    policy: DecimalPolicy,
}

impl<'a> Fields<'a> {
    fn read(
        payload: &'a str,
        columns: &'static [Column],
        policy: DecimalPolicy,
    ) -> Result<Self, RejectReason> {
        let mut values = [None; MAX_COLUMNS];
        for_each_member(payload, |key, value| {
            if let Some(i) = column_index(columns, &key) {
                values[i] = Some(value);
            }
        })
        .map_err(|e| match e {
            JsonError::Syntax => RejectReason::InvalidJson,
            JsonError::NotAnObject => RejectReason::NotAnObject,
        })?;
        Ok(Self {
            columns,
            values,
            policy,
        })
    }

    /// [`Fields::read`] on the body of a JSON string holding the object, without unescaping
    /// it; `None` when the object is too unusual to read that way.
    fn read_in_string(
        body: &'a str,
        columns: &'static [Column],
        policy: DecimalPolicy,
    ) -> Option<Self> {
        let mut values = [None; MAX_COLUMNS];
        for_each_member_in_string(body, |key, value| {
            if let Some(i) = column_index(columns, &key) {
                values[i] = Some(value);
            }
        })?;
        Some(Self {
            columns,
            values,
            policy,
        })
    }

    /// The value at `i`, with JSON null folded into "absent".
    fn get(&self, i: usize) -> Option<JsonValue<'a>> {
        self.values[i].filter(|v| *v != JsonValue::Null)
    }

    fn wrong_type(&self, i: usize, value: &JsonValue<'_>) -> RejectReason {
        RejectReason::WrongType {
            column: self.columns[i],
            found: value.kind_name(),
        }
    }

    fn varchar(&self, i: usize, texts: &mut SharedTexts) -> Result<Option<Arc<str>>, RejectReason> {
        Ok(self.get(i).map(|value| match value {
            JsonValue::String(s) => texts.get(&s.decode()),
            JsonValue::Number(text) => texts.get(text),
            JsonValue::Bool(b) => if b { "true" } else { "false" }.into(),
            // ksqlDB writes nested JSON back out compactly.
            JsonValue::Object(text) | JsonValue::Array(text) => {
                serde_json::from_str::<serde_json::Value>(text)
                    .map(|v| v.to_string())
                    .unwrap_or_else(|_| text.to_owned())
                    .into()
            }
            JsonValue::Null => "".into(),
        }))
    }

    fn bigint(&self, i: usize) -> Result<Option<i64>, RejectReason> {
        let Some(value) = self.get(i) else {
            return Ok(None);
        };
        let out_of_range = RejectReason::NumberOutOfRange {
            column: self.columns[i],
        };
        match value {
            JsonValue::Number(text) => {
                if let Ok(n) = text.parse::<i64>() {
                    return Ok(Some(n));
                }
                // A fraction or exponent: Jackson's asLong() truncates toward zero.
                let is_integer_literal = !text.contains(['.', 'e', 'E']);
                if is_integer_literal {
                    return Err(out_of_range);
                }
                let decimal = Decimal::from_scientific(text)
                    .or_else(|_| Decimal::from_str_exact(text))
                    .map_err(|_| out_of_range)?;
                i64::try_from(decimal.trunc())
                    .map(Some)
                    .map_err(|_| out_of_range)
            }
            // Long.parseLong: an optional sign and digits, nothing else.
            JsonValue::String(s) => {
                let text = s.decode();
                let digits = text.strip_prefix(['+', '-']).unwrap_or(&text);
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(self.wrong_type(i, &value));
                }
                text.trim_start_matches('+')
                    .parse::<i64>()
                    .map(Some)
                    .map_err(|_| out_of_range)
            }
            _ => Err(self.wrong_type(i, &value)),
        }
    }

    fn decimal5(&self, i: usize) -> Result<Option<Decimal5>, RejectReason> {
        let Some(value) = self.get(i) else {
            return Ok(None);
        };
        let parsed = match value {
            JsonValue::Number(text) => Decimal5::parse(text, self.policy),
            JsonValue::String(s) => Decimal5::parse(&s.decode(), self.policy),
            _ => return Err(self.wrong_type(i, &value)),
        };
        parsed
            .map(Some)
            .map_err(|e| RejectReason::from_decimal(self.columns[i], e, value.kind_name()))
    }

    fn latitude(&self, i: usize) -> Result<Option<Decimal5>, RejectReason> {
        let lat = self.decimal5(i)?;
        match lat {
            Some(d) if d.units().abs() > 90 * 100_000 => Err(RejectReason::LatitudeOutOfRange),
            _ => Ok(lat),
        }
    }

    fn longitude(&self, i: usize) -> Result<Option<Decimal5>, RejectReason> {
        let lon = self.decimal5(i)?;
        match lon {
            Some(d) if d.units().abs() > 180 * 100_000 => Err(RejectReason::LongitudeOutOfRange),
            _ => Ok(lon),
        }
    }

    /// A DECIMAL of any scale (the promotion's discount), exact.
    fn any_decimal(&self, i: usize) -> Result<Option<Decimal>, RejectReason> {
        let Some(value) = self.get(i) else {
            return Ok(None);
        };
        let text = match value {
            JsonValue::Number(text) => text.to_owned(),
            JsonValue::String(s) => s.decode().into_owned(),
            _ => return Err(self.wrong_type(i, &value)),
        };
        Decimal::from_scientific(&text)
            .or_else(|_| Decimal::from_str_exact(&text))
            .map(|d| Some(d.normalize()))
            .map_err(|_| match value {
                // A JSON number is the right type: one too large or too precise for a
                // DECIMAL (28 digits) is out of range, not a "number where a DECIMAL goes".
                JsonValue::Number(_) => RejectReason::NumberOutOfRange {
                    column: self.columns[i],
                },
                _ => self.wrong_type(i, &value),
            })
    }
}

/// Which column a field name means, case-insensitively. Plain ASCII names (all real ones)
/// compare in place; others are upper-cased the way Java's `toUpperCase` does (`ſku` is `SKU`).
fn column_index(columns: &[Column], key: &JsonStr<'_>) -> Option<usize> {
    let raw = key.raw().as_bytes();
    if !key.has_escapes() {
        if let Some(column) = column_named(raw) {
            return columns.iter().position(|c| *c == column);
        }
        // Only a non-ASCII key can still mean a column.
        if raw.is_ascii() {
            return None;
        }
    }
    let upper = key.decode().to_uppercase();
    columns.iter().position(|c| c.name() == upper)
}

/// The column an ASCII field name means, ignoring case. Length and first letter single out
/// the one candidate, and one comparison of 16-byte words settles it (every record has
/// several fields, so this runs millions of times).
pub(super) fn column_named(raw: &[u8]) -> Option<Column> {
    let first = raw.first()?;
    let mut padded = [0u8; 16];
    padded.get_mut(..raw.len())?.copy_from_slice(raw);
    column_named_word(u128::from_le_bytes(padded), raw.len(), *first)
}

/// [`column_named`] for a name of `len` bytes given as the low bytes of `word` (the rest
/// zero) and its `first` byte: a reader that can load 16 bytes at once skips the copy.
#[inline]
pub(super) fn column_named_word(word: u128, len: usize, first: u8) -> Option<Column> {
    let candidate = match (len, first.to_ascii_uppercase()) {
        (3, b'U') => Column::Uid,
        (3, b'S') => Column::Sku,
        (3, b'P') => Column::Pid,
        (5, b'T') => Column::Title,
        (7, b'S') => Column::Segment,
        (7, b'V') => Column::Variant,
        (7, b'C') => Column::Country,
        (8, b'L') => Column::Latitude,
        (9, b'L') => Column::Longitude,
        (11, b'V') => Column::ValidUntil,
        (12, b'D') => Column::DiscountPct,
        _ => return None,
    };
    let NameWord { lower, fold } = NAME_WORDS[candidate as usize];
    (word | fold == lower).then_some(candidate)
}

/// A column name as one little-endian word for [`column_named`]: `lower` is the name in
/// lower case; `fold` has 0x20 at each letter. Names are upper-case letters and `_`, and
/// `b | 0x20` is a letter's lower case and nothing else maps onto it, so `key | fold ==
/// lower` is an exact case-insensitive comparison.
#[derive(Clone, Copy)]
struct NameWord {
    lower: u128,
    fold: u128,
}

const NAME_WORDS: [NameWord; Column::ALL.len()] = {
    let mut words = [NameWord { lower: 0, fold: 0 }; Column::ALL.len()];
    let mut c = 0;
    while c < words.len() {
        let name = Column::ALL[c].name().as_bytes();
        let mut lower = [0u8; 16];
        let mut fold = [0u8; 16];
        let mut i = 0;
        while i < name.len() {
            if name[i] != b'_' {
                fold[i] = 0x20;
            }
            lower[i] = name[i] | fold[i];
            i += 1;
        }
        words[c] = NameWord {
            lower: u128::from_le_bytes(lower),
            fold: u128::from_le_bytes(fold),
        };
        c += 1;
    }
    words
};

#[cfg(test)]
mod tests {
    use super::*;

    fn customer(payload: &str) -> Result<Customer, RejectReason> {
        match decode_value(Topic::CustomersLocations, payload, DecimalPolicy::Round)? {
            InputValue::Customer(c) => Ok(c),
            other => panic!("{other:?}"),
        }
    }

    fn product(payload: &str, policy: DecimalPolicy) -> Result<Product, RejectReason> {
        match decode_value(Topic::StoresProducts, payload, policy)? {
            InputValue::Product(p) => Ok(p),
            other => panic!("{other:?}"),
        }
    }

    fn promotion(payload: &str) -> Result<Promotion, RejectReason> {
        match decode_value(Topic::ProductsPromotions, payload, DecimalPolicy::Round)? {
            InputValue::Promotion(p) => Ok(p),
            other => panic!("{other:?}"),
        }
    }

    fn d5(s: &str) -> Option<Decimal5> {
        Some(Decimal5::parse(s, DecimalPolicy::Strict).unwrap())
    }

    #[test]
    fn decodes_a_product_with_mixed_case_names_and_extra_fields() {
        let p = product(
            r#"{"Sku": 1105, "SEGMENT": "SegmentC", "variant": "Variant2", "latitude": 40.70616, "LONGITUDE": -74.02807, "country": "USA", "aisle": 3}"#,
            DecimalPolicy::Strict,
        )
        .unwrap();
        assert_eq!(p.sku, Some(1105));
        assert_eq!(p.segment.as_deref(), Some("SegmentC"));
        assert_eq!(p.variant.as_deref(), Some("Variant2"));
        assert_eq!(p.latitude, d5("40.70616"));
        assert_eq!(p.longitude, d5("-74.02807"));
        assert_eq!(p.country.as_deref(), Some("USA"));
    }

    #[test]
    fn missing_and_null_fields_are_null() {
        let c = customer(r#"{"uid": null, "latitude": 41.5}"#).unwrap();
        assert_eq!(c.uid, None);
        assert_eq!(c.latitude, d5("41.5"));
        assert_eq!(c.longitude, None);
        assert_eq!(c.position(), None);
        assert_eq!(customer("{}").unwrap(), Customer::default());
    }

    #[test]
    fn the_last_spelling_of_a_field_wins() {
        let c = customer(r#"{"uid": "a", "UID": "b"}"#).unwrap();
        assert_eq!(c.uid.as_deref(), Some("b"));
    }

    #[test]
    fn escaped_and_unicode_field_names_match() {
        let c = customer(r#"{"\u0075id": "a", "country": "USA"}"#).unwrap();
        assert_eq!(c.uid.as_deref(), Some("a"));
        let p = product(r#"{"ſku": 7}"#, DecimalPolicy::Round).unwrap();
        assert_eq!(p.sku, Some(7));
    }

    #[test]
    fn every_rejection_reason() {
        let sp = |s: &str| product(s, DecimalPolicy::Strict).unwrap_err();
        assert_eq!(
            sp(r#"{"uid": "x", "latitude": "#),
            RejectReason::InvalidJson
        );
        assert_eq!(sp("not json at all"), RejectReason::InvalidJson);
        assert_eq!(sp("[1,2,3]"), RejectReason::NotAnObject);
        assert_eq!(sp("42"), RejectReason::NotAnObject);
        assert_eq!(
            sp(r#"{"latitude": "north"}"#),
            RejectReason::WrongType {
                column: Column::Latitude,
                found: "string"
            }
        );
        assert_eq!(
            sp(r#"{"SKU": "abc"}"#),
            RejectReason::WrongType {
                column: Column::Sku,
                found: "string"
            }
        );
        assert_eq!(
            sp(r#"{"SKU": true}"#),
            RejectReason::WrongType {
                column: Column::Sku,
                found: "boolean"
            }
        );
        assert_eq!(
            sp(r#"{"longitude": [1]}"#),
            RejectReason::WrongType {
                column: Column::Longitude,
                found: "array"
            }
        );
        assert_eq!(
            sp(r#"{"latitude": 41.886925}"#),
            RejectReason::DecimalScale {
                column: Column::Latitude
            }
        );
        assert_eq!(
            sp(r#"{"latitude": 100000}"#),
            RejectReason::NumberOutOfRange {
                column: Column::Latitude
            }
        );
        assert_eq!(
            sp(r#"{"SKU": 99999999999999999999}"#),
            RejectReason::NumberOutOfRange {
                column: Column::Sku
            }
        );
        assert_eq!(
            sp(r#"{"latitude": 90.00001}"#),
            RejectReason::LatitudeOutOfRange
        );
        assert_eq!(sp(r#"{"latitude": -91}"#), RejectReason::LatitudeOutOfRange);
        assert_eq!(
            sp(r#"{"longitude": 180.00001}"#),
            RejectReason::LongitudeOutOfRange
        );
        assert_eq!(
            decode_value(Topic::NearbyCustomers, "{}", DecimalPolicy::Round).unwrap_err(),
            RejectReason::NotAnInputTopic
        );
    }

    #[test]
    fn range_edges_are_inclusive() {
        let p = product(
            r#"{"latitude": -90, "longitude": 180.00000}"#,
            DecimalPolicy::Strict,
        )
        .unwrap();
        assert_eq!(p.latitude, d5("-90"));
        assert_eq!(p.longitude, d5("180"));
    }

    #[test]
    fn decimal_policy_decides_six_digit_coordinates() {
        let text = r#"{"latitude": 41.886925, "longitude": -87.599275}"#;
        let p = product(text, DecimalPolicy::Round).unwrap();
        assert_eq!(p.latitude, d5("41.88693"));
        assert_eq!(p.longitude, d5("-87.59928"));
        assert!(product(text, DecimalPolicy::Strict).is_err());
    }

    #[test]
    fn numbers_in_strings_coerce_like_ksqldb() {
        let p = product(
            r#"{"sku": "1005", "latitude": "41.5", "segment": 12, "variant": true}"#,
            DecimalPolicy::Strict,
        )
        .unwrap();
        assert_eq!(p.sku, Some(1005));
        assert_eq!(p.latitude, d5("41.5"));
        assert_eq!(p.segment.as_deref(), Some("12"));
        assert_eq!(p.variant.as_deref(), Some("true"));
        assert_eq!(
            product(r#"{"sku": "-7"}"#, DecimalPolicy::Strict)
                .unwrap()
                .sku,
            Some(-7)
        );
        assert!(product(r#"{"sku": "1.5"}"#, DecimalPolicy::Strict).is_err());
    }

    #[test]
    fn bigint_from_a_fractional_number_truncates() {
        let p = product(r#"{"sku": 1005.9}"#, DecimalPolicy::Strict).unwrap();
        assert_eq!(p.sku, Some(1005));
        let p = product(r#"{"sku": 1.005e3}"#, DecimalPolicy::Strict).unwrap();
        assert_eq!(p.sku, Some(1005));
    }

    #[test]
    fn nested_json_in_a_varchar_is_kept_as_compact_text() {
        let c = customer(r#"{"uid": {"a": [1, 2]}}"#).unwrap();
        assert_eq!(c.uid.as_deref(), Some(r#"{"a":[1,2]}"#));
    }

    #[test]
    fn promotion_extras_are_carried() {
        let p = promotion(
            r#"{"pid": "p1", "SKU": 1064, "segment": "SegmentA", "discount_pct": 15.50, "title": "Autumn", "valid_until": "2026-12-01T00:00:00Z"}"#,
        )
        .unwrap();
        assert_eq!(p.pid.as_deref(), Some("p1"));
        assert_eq!(p.sku, Some(1064));
        assert_eq!(p.discount_pct, Some(Decimal::new(155, 1)));
        assert_eq!(p.title.as_deref(), Some("Autumn"));
        assert_eq!(p.valid_until.as_deref(), Some("2026-12-01T00:00:00Z"));
        assert_eq!(
            promotion(r#"{"discount_pct": "lots"}"#).unwrap_err(),
            RejectReason::WrongType {
                column: Column::DiscountPct,
                found: "string"
            }
        );
        for too_big in ["1e30", "79228162514264337593543950336"] {
            let json = format!(r#"{{"discount_pct": {too_big}}}"#);
            assert_eq!(
                promotion(&json).unwrap_err(),
                RejectReason::NumberOutOfRange {
                    column: Column::DiscountPct
                },
                "{too_big}"
            );
        }
    }

    #[test]
    fn every_column_name_is_found_in_any_case() {
        for (i, column) in Column::ALL.into_iter().enumerate() {
            assert_eq!(column as usize, i, "ALL is in declaration order");
            let name = column.name();
            for spelling in [
                name.to_owned(),
                name.to_lowercase(),
                format!("{}{}", &name[..1].to_lowercase(), &name[1..]),
            ] {
                assert_eq!(
                    column_named(spelling.as_bytes()),
                    Some(column),
                    "{spelling}"
                );
            }
            assert_eq!(column_named(format!("{name}X").as_bytes()), None);
            assert_eq!(column_named(&name.as_bytes()[1..]), None);
        }
        assert_eq!(column_named(b""), None);
        assert_eq!(column_named(b"SKV"), None);
    }

    proptest::proptest! {
        /// A value read in place, inside its kcat string or as a Kafka message's text, decodes
        /// exactly as the general reader decodes its text: the same record, or the same
        /// refusal, on every topic and decimal policy.
        #[test]
        fn a_value_read_in_place_decodes_like_its_text(
            members in proptest::collection::vec((
                proptest::sample::select(vec![
                    "uid", "UID", "Latitude", "longitude", "country", "sku", "SKU", "ſku",
                    "segment", "variant", "pid", "discount_pct", "title", "valid_until", "other",
                ]),
                proptest::sample::select(vec![
                    "\"c1\"", "\"USA\"", "\"a\\\"b\"", "\"30.12345\"", "\"12\"", "30.123456",
                    "-119.5", "91", "1e3", "15.50", "9999999999999999999", "null", "true",
                    "{\"a\": 1}", "[1, 2]", "\"\\u00e9\"", "-87.59927", "0", "-0.5", "123456.5",
                    "0.000001", "1E2", "false", "\"\"", "\"c\\\\d\"", "-90.00001", "180",
                    "\"é\"", "12345678901234567", "\"a\u{1}b\"", "\"tab\there\"",
                ]),
                // The value a second record of the same layout holds for this member.
                proptest::sample::select(vec![
                    "\"c2\"", "41.5", "-87.59927", "null", "\"x\\ny\"", "7", "0.1234567", "true",
                    "\"\"", "90.00001",
                ]),
            ), 0..8),
            spaces in proptest::sample::select(vec!["", " ", "\n"]),
        ) {
            let object = |second: bool| {
                let body: Vec<String> = members
                    .iter()
                    .map(|(k, v, w)| format!("\"{k}\":{spaces}{}", if second { w } else { v }))
                    .collect();
                format!("{{{}}}", body.join(","))
            };
            // The first record, then one laid out alike with other values, then the first
            // again: the second and third are read against the layout the one before left.
            let texts = [object(false), object(true), object(false)];
            for topic in Topic::INPUTS {
                for policy in [DecimalPolicy::Round, DecimalPolicy::Strict] {
                    let mut layouts = ValueLayouts::default();
                    let mut text_layouts = ValueLayouts::default();
                    let mut shared = SharedTexts::new();
                    for text in &texts {
                        let mut escaped = Vec::new();
                        crate::engine::json::write_escaped(&mut escaped, text.as_bytes());
                        let escaped = String::from_utf8(escaped).unwrap();
                        let in_place = decode_payload(topic, &Payload::Escaped(escaped.as_str().into()), policy, &mut shared, &mut layouts);
                        proptest::prop_assert_eq!(in_place, decode_value(topic, text, policy), "{}", text);
                        // The same value as a Kafka message's text (control characters raw).
                        let as_text = decode_payload(topic, &Payload::Text(text.as_str().into()), policy, &mut shared, &mut text_layouts);
                        proptest::prop_assert_eq!(as_text, decode_value(topic, text, policy), "{}", text);
                    }
                }
            }
        }
    }
}
