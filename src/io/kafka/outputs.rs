//! `instore run -b`'s outputs: VALID_PROMOTIONS and NEARBY_CUSTOMERS produced back to the
//! cluster (key as in the engine, Kafka timestamp = output timestamp, the output's id in the
//! `instore.id` header), and every refused
//! input record to a dead-letter topic with its reason and origin in `instore.*` headers.

use crate::engine::json_object::Embedding;
use crate::engine::notification_record::{NotificationRecord, NOTIFICATIONS_TOPIC};
use crate::engine::{Output, RawRecord, Topic};
use crate::io::run_loop::OutputSink;

use super::producer::KafkaProducer;

/// An output the producer would not take.
#[derive(Debug, thiserror::Error)]
#[error("cannot produce to {topic}: {reason}")]
pub struct KafkaOutputError {
    pub topic: String,
    pub reason: String,
}

/// The header that carries an output's id ([`Output::write_id`]): a consumer that keeps the
/// ids it has seen drops the repeats an at-least-once run writes after a restart.
pub const OUTPUT_ID_HEADER: &str = "instore.id";

pub struct KafkaOutputs {
    pub producer: KafkaProducer,
    dead_letter: Option<String>,
    /// Whether this instance writes VALID_PROMOTIONS (in a consumer group, only one member
    /// does, so each is written once).
    pub writes_valid_promotions: bool,
    payload: Vec<u8>,
    id: String,
}

impl KafkaOutputs {
    pub fn new(producer: KafkaProducer, dead_letter: Option<String>) -> KafkaOutputs {
        KafkaOutputs {
            producer,
            dead_letter,
            writes_valid_promotions: true,
            payload: Vec::new(),
            id: String::new(),
        }
    }
}

impl OutputSink for KafkaOutputs {
    type Error = KafkaOutputError;

    fn write(
        &mut self,
        record: &RawRecord<'_>,
        rejected: Option<&str>,
        outputs: &[Output],
    ) -> Result<(), KafkaOutputError> {
        let failed = |topic: &str, e: rdkafka::error::KafkaError| KafkaOutputError {
            topic: topic.to_owned(),
            reason: e.to_string(),
        };
        if let (Some(topic), Some(reason)) = (self.dead_letter.as_deref(), rejected) {
            let (partition, offset) = (record.partition.to_string(), record.offset.to_string());
            let headers = [
                ("instore.reason", reason),
                ("instore.topic", &*record.topic),
                ("instore.partition", partition.as_str()),
                ("instore.offset", offset.as_str()),
            ];
            self.producer
                .send_with_headers(
                    topic,
                    record.key.as_deref(),
                    record.payload_text().as_deref(),
                    record.timestamp_ms.unwrap_or(0),
                    &headers,
                )
                .map_err(|e| failed(topic, e))?;
        }
        self.write_outputs(outputs)
    }

    fn write_notifications(
        &mut self,
        notifications: &[NotificationRecord<'_>],
    ) -> Result<(), KafkaOutputError> {
        for n in notifications {
            self.payload.clear();
            n.write_payload(&mut self.payload, Embedding::Plain);
            // Written from `str` fields and ASCII, so always UTF-8.
            let text = String::from_utf8_lossy(&self.payload);
            self.producer
                .send(
                    NOTIFICATIONS_TOPIC,
                    Some(n.key()),
                    Some(text.as_ref()),
                    n.timestamp_ms,
                )
                .map_err(|e| KafkaOutputError {
                    topic: NOTIFICATIONS_TOPIC.to_owned(),
                    reason: e.to_string(),
                })?;
        }
        Ok(())
    }
}

impl KafkaOutputs {
    /// Produces `outputs`, each with its id (VALID_PROMOTIONS only if this instance writes
    /// them).
    pub fn write_outputs(&mut self, outputs: &[Output]) -> Result<(), KafkaOutputError> {
        let failed = |topic: &str, e: rdkafka::error::KafkaError| KafkaOutputError {
            topic: topic.to_owned(),
            reason: e.to_string(),
        };
        for output in outputs {
            let topic = output.topic();
            if topic == Topic::ValidPromotions && !self.writes_valid_promotions {
                continue;
            }
            self.payload.clear();
            output.write_payload(&mut self.payload);
            // Payloads are written from JSON text and escaped, so always UTF-8.
            let text = String::from_utf8_lossy(&self.payload);
            output.write_id(&mut self.id);
            self.producer
                .send_with_headers(
                    topic.name(),
                    output.key(),
                    Some(&text),
                    output.timestamp_ms(),
                    &[(OUTPUT_ID_HEADER, &self.id)],
                )
                .map_err(|e| failed(topic.name(), e))?;
        }
        Ok(())
    }
}
