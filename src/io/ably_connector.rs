//! The Ably Kafka Connector's configuration for pushing notifications to shoppers' phones:
//! one Ably channel per customer (from the record key), the record's JSON passed on as
//! written, one customer's messages kept in order, and what cannot be delivered kept in a
//! dead-letter topic instead of stopping the connector. Rendered as JSON (Confluent Cloud's
//! custom connectors, Kafka Connect's REST API) or as a properties file (a self-managed
//! Kafka Connect worker).

use serde_json::{Map, Value};

pub use crate::engine::notification_record::NOTIFICATIONS_TOPIC;
/// What stands in for the Ably API key unless the operator asks for the real one.
pub const KEY_PLACEHOLDER: &str = "<YOUR_ABLY_API_KEY>";

/// What the operator chooses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AblyConnector {
    /// The connector's name in Kafka Connect.
    pub name: String,
    pub topic: String,
    /// Ably channel template: `#{key}` is the record key (the customer's uid).
    pub channel: String,
    /// The Ably message name the phone app subscribes to.
    pub message_name: String,
    /// Sink tasks (parallelism across the topic's partitions; order within one holds).
    pub tasks: u32,
    pub dead_letter_topic: String,
    /// The Ably API key; `None` writes the placeholder.
    pub key: Option<String>,
}

impl AblyConnector {
    /// Defaults for `topic`: channel `customer:#{key}`, message name `promotion`.
    pub fn new(topic: &str) -> AblyConnector {
        AblyConnector {
            name: "instore-ably-notifications".into(),
            topic: topic.to_owned(),
            channel: "customer:#{key}".into(),
            message_name: "promotion".into(),
            tasks: 3,
            dead_letter_topic: format!("{topic}_ABLY_DLQ"),
            key: None,
        }
    }

    /// The connector's settings, in the order a reader wants them, with why each is there.
    pub fn settings(&self) -> Vec<(&'static str, String, &'static str)> {
        let byte_array = "org.apache.kafka.connect.converters.ByteArrayConverter";
        vec![
            (
                "connector.class",
                "com.ably.kafka.connect.ChannelSinkConnector".into(),
                "the Ably Kafka Connector",
            ),
            (
                "tasks.max",
                self.tasks.to_string(),
                "parallel across partitions; a customer's records share one (keyed by uid)",
            ),
            ("topics", self.topic.clone(), "what instore writes"),
            (
                "client.id",
                "instore-ably-connector".into(),
                "who publishes, as Ably sees it",
            ),
            (
                "channel",
                self.channel.clone(),
                "one channel per customer: a phone subscribes to its own only",
            ),
            (
                "message.name",
                self.message_name.clone(),
                "the name the phone app subscribes to",
            ),
            (
                "client.key",
                self.key.clone().unwrap_or_else(|| KEY_PLACEHOLDER.into()),
                "needs the publish capability on the customer channels",
            ),
            (
                "key.converter",
                byte_array.into(),
                "the uid as written, for #{key}",
            ),
            (
                "value.converter",
                byte_array.into(),
                "the notification's JSON as written reaches the phone",
            ),
            ("value.converter.schemas.enable", "false".into(), ""),
            (
                "batchExecutionThreadPoolSize",
                "1".into(),
                "one submission at a time per task keeps each customer's messages in order",
            ),
            (
                "batchExecutionMaxBufferSizeMs",
                "50".into(),
                "a shopper is waiting: little time to fill a batch",
            ),
            (
                "onFailedRecordMapping",
                "dlq".into(),
                "a record without a usable key goes to the dead-letter topic",
            ),
            (
                "errors.tolerance",
                "all".into(),
                "an undeliverable record does not stop the others",
            ),
            (
                "errors.deadletterqueue.topic.name",
                self.dead_letter_topic.clone(),
                "",
            ),
            (
                "errors.deadletterqueue.topic.replication.factor",
                "3".into(),
                "Confluent Cloud's minimum",
            ),
            (
                "errors.deadletterqueue.context.headers.enable",
                "true".into(),
                "why each record failed, in its headers",
            ),
        ]
    }

    /// For Confluent Cloud's custom connectors and Kafka Connect's REST API.
    pub fn to_json(&self) -> String {
        let config: Map<String, Value> = self
            .settings()
            .into_iter()
            .map(|(k, v, _)| (k.to_owned(), Value::String(v)))
            .collect();
        let document = serde_json::json!({ "name": self.name, "config": config });
        serde_json::to_string_pretty(&document).unwrap_or_default()
    }

    /// For a self-managed Kafka Connect worker (`connect-standalone worker.properties
    /// this.properties`).
    pub fn to_properties(&self) -> String {
        let mut text = format!(
            "# Ably Kafka Connector for instore's {} (instore ably-connector)\nname={}\n",
            self.topic, self.name
        );
        for (key, value, why) in self.settings() {
            if !why.is_empty() {
                text.push_str(&format!("# {why}\n"));
            }
            text.push_str(&format!("{key}={}\n", escape_property(&value)));
        }
        text
    }
}

/// A properties value as `java.util.Properties` reads it back: after the separator `#`, `!`,
/// `=` and `:` are literal, so only backslashes and a leading space need escaping (the
/// channel template stays readable: `customer:#{key}`).
fn escape_property(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for (i, c) in value.chars().enumerate() {
        if c == '\\' || (i == 0 && c == ' ') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `java.util.Properties`' reading of the lines we write: comments, `key=value`, escapes.
    fn read_properties(text: &str) -> Vec<(String, String)> {
        text.lines()
            .filter(|l| !l.trim_start().starts_with('#') && !l.trim().is_empty())
            .map(|l| {
                let (key, value) = l.split_once('=').expect("key=value");
                let mut unescaped = String::new();
                let mut chars = value.chars();
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => unescaped.extend(chars.next()),
                        c => unescaped.push(c),
                    }
                }
                (key.to_owned(), unescaped)
            })
            .collect()
    }

    const REQUIRED: [&str; 10] = [
        "connector.class",
        "topics",
        "channel",
        "message.name",
        "client.key",
        "key.converter",
        "value.converter",
        "batchExecutionThreadPoolSize",
        "errors.tolerance",
        "errors.deadletterqueue.topic.name",
    ];

    #[test]
    fn json_reads_back_with_every_required_setting() {
        let connector = AblyConnector::new(NOTIFICATIONS_TOPIC);
        let doc: Value = serde_json::from_str(&connector.to_json()).expect("JSON");
        let config = &doc["config"];
        for key in REQUIRED {
            assert!(config[key].is_string(), "{key} missing");
        }
        assert_eq!(config["channel"], "customer:#{key}");
        assert_eq!(config["topics"], "PROMOTION_NOTIFICATIONS");
        assert_eq!(config["client.key"], KEY_PLACEHOLDER);
        assert_eq!(config["batchExecutionThreadPoolSize"], "1");
        assert_eq!(
            config["connector.class"],
            "com.ably.kafka.connect.ChannelSinkConnector"
        );
        assert_eq!(doc["name"], "instore-ably-notifications");
    }

    #[test]
    fn properties_read_back_to_the_same_settings_escapes_and_all() {
        let mut connector = AblyConnector::new("topic:with#odd=chars");
        connector.key = Some("app.key:secret!\\ with a backslash".into());
        let read = read_properties(&connector.to_properties());
        let want: Vec<(String, String)> = std::iter::once(("name".into(), connector.name.clone()))
            .chain(
                connector
                    .settings()
                    .into_iter()
                    .map(|(k, v, _)| (k.to_owned(), v)),
            )
            .collect();
        assert_eq!(read, want);
        let keys: Vec<&str> = read.iter().map(|(k, _)| k.as_str()).collect();
        for key in REQUIRED {
            assert!(keys.contains(&key), "{key} missing");
        }
    }
}
