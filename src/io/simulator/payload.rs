//! JSON values the simulator publishes, written straight into reusable buffers: field names
//! and spacing as the original Python scripts' `json.dumps` wrote them.

use std::fmt::Write as _;

use crate::engine::decimal::Decimal5;
use crate::engine::json::write_json_string;
use crate::engine::record::Product;
use crate::engine::rfc3339::format_rfc3339_ms;
use crate::engine::Origin;
use crate::engine::Topic;

use super::rng::SplitMix64;
use super::SimRecord;

const SEGMENTS: [&str; 3] = ["SegmentA", "SegmentB", "SegmentC"];
const VARIANTS: [&str; 3] = ["Variant1", "Variant2", "Variant3"];
const COUNTRIES: [&str; 3] = ["USA", "CAN", "GBR"];

fn start(out: &mut SimRecord, topic: Topic, timestamp_ms: i64) {
    out.topic = Some(topic);
    out.timestamp_ms = timestamp_ms;
    out.key.clear();
    out.payload.clear();
}

fn decimal_field(out: &mut Vec<u8>, name: &str, value: Decimal5) {
    out.extend_from_slice(b", \"");
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"\": ");
    value.write_to(out);
}

fn text_field(out: &mut Vec<u8>, name: &str, value: &str) {
    out.extend_from_slice(b", \"");
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"\": ");
    write_json_string(out, value);
}

pub(super) fn customer(
    out: &mut SimRecord,
    timestamp_ms: i64,
    uid: &str,
    latitude: Decimal5,
    longitude: Decimal5,
    country: &str,
) {
    start(out, Topic::CustomersLocations, timestamp_ms);
    out.key.push_str(uid);
    out.payload.extend_from_slice(b"{\"uid\": ");
    write_json_string(&mut out.payload, uid);
    decimal_field(&mut out.payload, "latitude", latitude);
    decimal_field(&mut out.payload, "longitude", longitude);
    text_field(&mut out.payload, "country", country);
    out.payload.push(b'}');
}

pub(super) fn product(out: &mut SimRecord, timestamp_ms: i64, product: &Product) {
    start(out, Topic::StoresProducts, timestamp_ms);
    let sku = product.sku.unwrap_or_default();
    let _ = write!(out.key, "{sku}");
    out.payload.extend_from_slice(b"{\"sku\": ");
    out.payload
        .extend_from_slice(itoa::Buffer::new().format(sku).as_bytes());
    text_field(
        &mut out.payload,
        "segment",
        product.segment.as_deref().unwrap_or_default(),
    );
    text_field(
        &mut out.payload,
        "variant",
        product.variant.as_deref().unwrap_or_default(),
    );
    decimal_field(
        &mut out.payload,
        "latitude",
        product.latitude.unwrap_or_default(),
    );
    decimal_field(
        &mut out.payload,
        "longitude",
        product.longitude.unwrap_or_default(),
    );
    text_field(
        &mut out.payload,
        "country",
        product.country.as_deref().unwrap_or_default(),
    );
    out.payload.push(b'}');
}

pub(super) fn promotion(
    out: &mut SimRecord,
    timestamp_ms: i64,
    pid: &str,
    sku: i64,
    segment: &str,
    discount_pct: u32,
    valid_until_ms: i64,
) {
    start(out, Topic::ProductsPromotions, timestamp_ms);
    out.key.push_str(pid);
    out.payload.extend_from_slice(b"{\"pid\": ");
    write_json_string(&mut out.payload, pid);
    out.payload.extend_from_slice(b", \"SKU\": ");
    out.payload
        .extend_from_slice(itoa::Buffer::new().format(sku).as_bytes());
    text_field(&mut out.payload, "segment", segment);
    out.payload.extend_from_slice(b", \"discount_pct\": ");
    out.payload
        .extend_from_slice(itoa::Buffer::new().format(discount_pct).as_bytes());
    text_field(
        &mut out.payload,
        "title",
        &format!("{discount_pct}% off SKU {sku}"),
    );
    text_field(
        &mut out.payload,
        "valid_until",
        &format_rfc3339_ms(valid_until_ms),
    );
    out.payload.push(b'}');
}

/// A uniformly random coordinate with 5 decimals within ±`limit` degrees.
fn random_degrees(rng: &mut SplitMix64, limit: i64) -> Decimal5 {
    let units = rng.range_i64(-limit * 100_000, limit * 100_000);
    Decimal5::from_units(units).unwrap_or_default()
}

pub(super) fn random_segment(rng: &mut SplitMix64) -> &'static str {
    SEGMENTS[rng.below(3) as usize]
}

/// `--profile original`: a product anywhere on Earth, as the original script made them.
pub(super) fn random_product(out: &mut SimRecord, timestamp_ms: i64, rng: &mut SplitMix64) {
    let item = Product {
        sku: Some(rng.range_i64(1000, 9999)),
        segment: Some(random_segment(rng).into()),
        variant: Some(VARIANTS[rng.below(3) as usize].into()),
        latitude: Some(random_degrees(rng, 90)),
        longitude: Some(random_degrees(rng, 180)),
        country: Some(COUNTRIES[rng.below(3) as usize].into()),
        origin: Origin::UNKNOWN,
    };
    product(out, timestamp_ms, &item);
}

/// `--profile original`: a customer anywhere on Earth.
pub(super) fn random_customer(
    out: &mut SimRecord,
    timestamp_ms: i64,
    uid: &str,
    rng: &mut SplitMix64,
) {
    let latitude = random_degrees(rng, 90);
    let longitude = random_degrees(rng, 180);
    let country = COUNTRIES[rng.below(3) as usize];
    customer(out, timestamp_ms, uid, latitude, longitude, country);
}
