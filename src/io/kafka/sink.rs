//! Promotions to Kafka with delivery reports: each record carries the outbox's id through
//! librdkafka, and its report (partition and offset, or the error) comes back by id.

use std::sync::Mutex;

use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{DeliveryResult, Message};
use rdkafka::producer::{BaseRecord, Producer as _, ProducerContext, ThreadedProducer};
use rdkafka::ClientContext;

use super::client::producer_config;
use super::config::KafkaConfig;
use super::input::KafkaInputError;
use crate::engine::Topic;
use crate::io::bus::Delivery;
use crate::io::sink::{RecordSink, SinkError};
use crate::io::wake::Waker;

struct Reports {
    arrived: Mutex<Vec<(u64, Result<Delivery, String>)>>,
    /// The console shows each promotion's delivery state: a report must reach the screen.
    waker: Waker,
}

impl ClientContext for Reports {}

impl ProducerContext for Reports {
    type DeliveryOpaque = Box<u64>;

    fn delivery(&self, result: &DeliveryResult<'_>, id: Box<u64>) {
        let report = match result {
            Ok(m) => Ok(Delivery {
                partition: m.partition(),
                offset: m.offset(),
            }),
            Err((e, _)) => Err(e.to_string()),
        };
        if let Ok(mut arrived) = self.arrived.lock() {
            arrived.push((*id, report));
        }
        self.waker.wake_now();
    }
}

pub struct KafkaSink {
    producer: ThreadedProducer<Reports>,
    servers: String,
}

impl KafkaSink {
    /// An idempotent producer (acks=all); librdkafka retries on its own until
    /// `delivery.timeout.ms` (default 5 min), then reports a failure the outbox shows.
    pub fn new(config: &KafkaConfig, waker: Waker) -> Result<KafkaSink, KafkaInputError> {
        let reports = Reports {
            arrived: Mutex::default(),
            waker,
        };
        let producer = producer_config(config)
            .create_with_context(reports)
            .map_err(|e| KafkaInputError::Producer(e.to_string()))?;
        Ok(KafkaSink {
            producer,
            servers: config
                .get("bootstrap.servers")
                .unwrap_or_default()
                .to_owned(),
        })
    }
}

impl RecordSink for KafkaSink {
    fn send(
        &mut self,
        id: u64,
        topic: Topic,
        key: &str,
        payload: &str,
        timestamp_ms: i64,
    ) -> Result<Option<Delivery>, SinkError> {
        let record = BaseRecord::with_opaque_to(topic.name(), Box::new(id))
            .key(key)
            .payload(payload)
            .timestamp(timestamp_ms);
        match self.producer.send(record) {
            Ok(()) => Ok(None),
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => {
                Err(SinkError::Busy("the Kafka client's queue is full".into()))
            }
            Err((e, _)) => Err(SinkError::Failed(e.to_string())),
        }
    }

    fn acks(&mut self) -> Vec<(u64, Result<Delivery, String>)> {
        self.producer
            .context()
            .arrived
            .lock()
            .map(|mut a| std::mem::take(&mut *a))
            .unwrap_or_default()
    }

    fn describe(&self) -> String {
        format!("Kafka at {}", self.servers)
    }
}
