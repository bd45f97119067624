//! An input record as a line of the files the exported Flink SQL reads with its filesystem
//! connector: what a Kafka table would see, in the form Flink's JSON format reads the same
//! way ksqlDB's reads the original.
//!
//! ksqlDB's JSON format matches field names case-insensitively and refuses a record whose
//! value a column cannot take; Flink's matches names exactly and turns such values into NULL.
//! So each line holds the columns under their lower-case names, decoded as instore (and
//! ksqlDB) decode them, and records instore refuses are not written (the caller counts them).
//! Coordinates keep their literal text: rounding them is the script's job, and what the
//! comparison with Flink is there to check.

use std::io::Write as _;

use super::flink::FILE_TIMESTAMP_FIELD;
use crate::engine::decimal::DecimalPolicy;
use crate::engine::json::{write_json_string, JsonValue};
use crate::engine::record::{coordinate_literals, decode_value, InputValue};
use crate::engine::reject::RejectReason;
use crate::engine::topic::Topic;

/// Appends the line (with its newline) for a record of input topic `topic` at `ts_ms`;
/// the reason instead when instore refuses the record whatever the decimal policy.
pub fn write_table_row(
    topic: Topic,
    ts_ms: i64,
    payload: &str,
    out: &mut Vec<u8>,
) -> Result<(), RejectReason> {
    // Rounding never refuses, so this refuses exactly what both policies refuse; the scale
    // is left to the script.
    let value = decode_value(topic, payload, DecimalPolicy::Round)?;
    let (lat, lon) = coordinate_literals(topic, payload)?;
    let _ = write!(out, "{{\"{FILE_TIMESTAMP_FIELD}\":{ts_ms}");
    match value {
        InputValue::Customer(c) => {
            string(out, "uid", c.uid.as_deref());
            literal(out, "latitude", lat);
            literal(out, "longitude", lon);
            string(out, "country", c.country.as_deref());
        }
        InputValue::Product(p) => {
            if let Some(sku) = p.sku {
                let _ = write!(out, ",\"sku\":{sku}");
            }
            string(out, "segment", p.segment.as_deref());
            string(out, "variant", p.variant.as_deref());
            literal(out, "latitude", lat);
            literal(out, "longitude", lon);
            string(out, "country", p.country.as_deref());
        }
        InputValue::Promotion(p) => {
            string(out, "pid", p.pid.as_deref());
            if let Some(sku) = p.sku {
                let _ = write!(out, ",\"sku\":{sku}");
            }
            string(out, "segment", p.segment.as_deref());
            if let Some(pct) = p.discount_pct {
                let _ = write!(out, ",\"discount_pct\":{pct}");
            }
            string(out, "title", p.title.as_deref());
            string(out, "valid_until", p.valid_until.as_deref());
        }
    }
    out.extend_from_slice(b"}\n");
    Ok(())
}

fn string(out: &mut Vec<u8>, name: &str, value: Option<&str>) {
    if let Some(value) = value {
        let _ = write!(out, ",\"{name}\":");
        write_json_string(out, value);
    }
}

/// A coordinate as the payload wrote it: a number's literal, or the string holding one.
fn literal(out: &mut Vec<u8>, name: &str, value: Option<JsonValue<'_>>) {
    let text = match value {
        Some(JsonValue::Number(text)) => text.to_owned(),
        Some(JsonValue::String(s)) => s.decode().into_owned(),
        _ => return,
    };
    let _ = write!(out, ",\"{name}\":");
    write_json_string(out, &text);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(topic: Topic, payload: &str) -> Result<String, RejectReason> {
        let mut out = Vec::new();
        write_table_row(topic, 42, payload, &mut out)?;
        Ok(String::from_utf8(out).unwrap())
    }

    #[test]
    fn names_are_lower_case_and_coordinates_keep_their_text() {
        let line = row(
            Topic::StoresProducts,
            r#"{"SKU": "1009", "Segment": "A", "latitude": 41.886925, "LONGITUDE": "-87.5999999", "extra": 1, "country": "USA"}"#,
        )
        .unwrap();
        assert_eq!(
            line,
            "{\"kafka_timestamp_ms\":42,\"sku\":1009,\"segment\":\"A\",\"latitude\":\"41.886925\",\
             \"longitude\":\"-87.5999999\",\"country\":\"USA\"}\n"
        );
    }

    #[test]
    fn the_last_spelling_wins_and_nulls_are_left_out() {
        let line = row(
            Topic::CustomersLocations,
            r#"{"uid": "a", "UID": "b", "latitude": null, "longitude": 1, "country": 7}"#,
        )
        .unwrap();
        assert_eq!(
            line,
            "{\"kafka_timestamp_ms\":42,\"uid\":\"b\",\"longitude\":\"1\",\"country\":\"7\"}\n"
        );
    }

    #[test]
    fn refused_records_are_not_written_whatever_the_policy() {
        assert!(row(Topic::CustomersLocations, "not json").is_err());
        assert!(row(Topic::CustomersLocations, r#"{"latitude": 91}"#).is_err());
        assert!(row(Topic::StoresProducts, r#"{"sku": "x1"}"#).is_err());
        // Six decimals: refused only under strict, which is the script's to decide.
        assert!(row(Topic::CustomersLocations, r#"{"latitude": 41.123456}"#).is_ok());
    }

    #[test]
    fn promotions_keep_their_extras() {
        let line = row(
            Topic::ProductsPromotions,
            r#"{"pid": "p\"1", "segment": "A", "discount_pct": 12.50, "title": "T", "valid_until": "2026-01-01T00:00:00Z"}"#,
        )
        .unwrap();
        assert_eq!(
            line,
            "{\"kafka_timestamp_ms\":42,\"pid\":\"p\\\"1\",\"segment\":\"A\",\"discount_pct\":12.5,\
             \"title\":\"T\",\"valid_until\":\"2026-01-01T00:00:00Z\"}\n"
        );
    }
}
