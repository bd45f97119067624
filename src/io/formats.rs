//! Dump formats besides kcat -J: the JSON-lines exports of Kafka UIs (AKHQ, kafka-ui), whose
//! envelope names the value `value` or `content` and gives `timestamp` as a number or an
//! ISO-8601 text, and plain JSON lines of values for one topic (the topic given by the user,
//! timestamps from a chosen field or one second per line).

use serde_json::Value;

use crate::engine::rfc3339::parse_rfc3339_ms;
use crate::engine::RawRecord;
use crate::io::simulator::DEFAULT_START_MS;

/// How a file's lines are read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LineFormat {
    Kcat,
    /// `{"topic"?, "partition", "offset", "timestamp", "key", "value"|"content", "headers"?}`.
    UiExport,
    /// Each line is a topic value.
    Values {
        topic: String,
        ts_field: Option<String>,
    },
}

/// What the user told us about plain value files.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ValuesOptions {
    pub topic: Option<String>,
    pub ts_field: Option<String>,
}

/// Decides from a file's first line that the kcat reader did not take.
pub fn detect(first_line: &str, options: &ValuesOptions) -> Result<LineFormat, String> {
    let Ok(Value::Object(map)) = serde_json::from_str::<Value>(first_line) else {
        return Err("its first line is not a JSON object".into());
    };
    let has = |k: &str| map.contains_key(k);
    if (has("value") || has("content")) && (has("timestamp") || has("offset")) {
        return Ok(LineFormat::UiExport);
    }
    match &options.topic {
        Some(topic) => Ok(LineFormat::Values {
            topic: topic.clone(),
            ts_field: options.ts_field.clone(),
        }),
        None => Err(
            "it looks like plain JSON values: say which topic they belong to (instore replay --topic TOPIC FILE)".into(),
        ),
    }
}

fn timestamp(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse::<i64>().ok().or_else(|| parse_rfc3339_ms(s).ok()),
        _ => None,
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// One line of a UI export; `None` when it is not such a line. `file_topic` stands in when
/// the export has no topic field (kafka-ui exports one topic per file).
pub fn ui_export_record(line: &str, file_topic: Option<&str>) -> Option<RawRecord<'static>> {
    let Value::Object(map) = serde_json::from_str::<Value>(line).ok()? else {
        return None;
    };
    let value = map.get("value").or_else(|| map.get("content"))?;
    let topic = map
        .get("topic")
        .and_then(Value::as_str)
        .or(file_topic)
        .unwrap_or("(unknown topic)")
        .to_owned();
    let headers = match map.get("headers") {
        Some(Value::Object(h)) => h
            .iter()
            .map(|(k, v)| (k.clone(), (!v.is_null()).then(|| text(v))))
            .collect(),
        Some(Value::Array(h)) => h
            .iter()
            .filter_map(|pair| {
                let k = pair
                    .get(0)
                    .or_else(|| pair.get("key"))?
                    .as_str()?
                    .to_owned();
                let v = pair
                    .get(1)
                    .or_else(|| pair.get("value"))
                    .filter(|v| !v.is_null())
                    .map(text);
                Some((k, v))
            })
            .collect(),
        _ => Vec::new(),
    };
    Some(RawRecord {
        topic: topic.into(),
        partition: map.get("partition").and_then(Value::as_i64).unwrap_or(0) as i32,
        offset: map.get("offset").and_then(Value::as_i64).unwrap_or(-1),
        timestamp_ms: timestamp(map.get("timestamp")),
        key: map
            .get("key")
            .filter(|k| !k.is_null())
            .map(|k| text(k).into()),
        headers,
        payload: (!value.is_null()).then(|| text(value).into()),
    })
}

/// Line `index` (0-based) of a plain-values file.
pub fn values_record(
    line: &str,
    index: u64,
    topic: &str,
    ts_field: Option<&str>,
) -> RawRecord<'static> {
    let parsed: Option<Value> = serde_json::from_str(line).ok();
    let ts = match ts_field {
        // A missing or unreadable field leaves the record without a timestamp: the engine
        // refuses it with its reason, visibly.
        Some(field) => parsed.as_ref().and_then(|v| timestamp(v.get(field))),
        None => Some(DEFAULT_START_MS + index as i64 * 1_000),
    };
    RawRecord {
        topic: topic.to_owned().into(),
        partition: 0,
        offset: index as i64,
        timestamp_ms: ts,
        key: None,
        headers: Vec::new(),
        payload: Some(line.to_owned().into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kafka_ui_exports_are_read_with_iso_timestamps_and_object_values() {
        let line = r#"{"partition":1,"offset":7,"timestamp":"2025-11-26T09:00:00.500Z","timestampType":"CREATE_TIME","key":"u1","content":{"uid":"u1","latitude":41.88},"headers":{"source":"app"}}"#;
        assert_eq!(
            detect(line, &ValuesOptions::default()),
            Ok(LineFormat::UiExport)
        );
        let r = ui_export_record(line, Some("customers_locations")).unwrap();
        assert_eq!(r.topic, "customers_locations");
        assert_eq!(
            (r.partition, r.offset, r.timestamp_ms),
            (1, 7, Some(1_764_147_600_500))
        );
        assert_eq!(r.key.as_deref(), Some("u1"));
        assert_eq!(
            r.payload_text().as_deref(),
            Some(r#"{"latitude":41.88,"uid":"u1"}"#)
        );
        assert_eq!(
            r.headers,
            vec![("source".to_owned(), Some("app".to_owned()))]
        );
    }

    #[test]
    fn akhq_style_lines_keep_their_topic_and_string_values() {
        let line = r#"{"topic":"stores_products","partition":0,"offset":3,"timestamp":1764147600000,"key":null,"value":"{\"sku\": 1}"}"#;
        let r = ui_export_record(line, None).unwrap();
        assert_eq!(r.topic, "stores_products");
        assert_eq!(r.payload_text().as_deref(), Some(r#"{"sku": 1}"#));
        assert_eq!(r.key, None);
    }

    #[test]
    fn plain_values_need_a_topic_and_take_timestamps_from_a_field_or_the_line_order() {
        let line = r#"{"uid": "u1", "latitude": 41.88, "longitude": -87.62, "country": "USA", "at": "2025-11-26T10:00:00Z"}"#;
        let err = detect(line, &ValuesOptions::default()).unwrap_err();
        assert!(err.contains("--topic"), "{err}");
        let options = ValuesOptions {
            topic: Some("customers_locations".into()),
            ts_field: Some("at".into()),
        };
        assert!(matches!(
            detect(line, &options),
            Ok(LineFormat::Values { .. })
        ));
        let r = values_record(line, 4, "customers_locations", Some("at"));
        assert_eq!(r.timestamp_ms, Some(1_764_151_200_000));
        assert_eq!(
            values_record(line, 4, "customers_locations", None).timestamp_ms,
            Some(DEFAULT_START_MS + 4_000)
        );
        assert_eq!(values_record("{}", 0, "t", Some("at")).timestamp_ms, None);
        assert!(detect("not json", &options).is_err());
    }
}
