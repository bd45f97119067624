//! A producer that counts every delivery report, retries a full queue, and keeps the last
//! error, so a command can say exactly how many records the broker acknowledged.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{DeliveryResult, Header, OwnedHeaders};
use rdkafka::producer::{BaseRecord, Producer, ProducerContext, ThreadedProducer};
use rdkafka::ClientContext;

use super::client::producer_config;
use super::config::KafkaConfig;

/// Counts delivery reports (the broker's acknowledgements).
#[derive(Debug, Default)]
pub struct DeliveryCounter {
    delivered: AtomicU64,
    failed: AtomicU64,
    last_error: Mutex<Option<String>>,
}

impl ClientContext for DeliveryCounter {}

impl ProducerContext for DeliveryCounter {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        match result {
            Ok(_) => {
                self.delivered.fetch_add(1, Ordering::Relaxed);
            }
            Err((e, _)) => {
                self.failed.fetch_add(1, Ordering::Relaxed);
                if let Ok(mut last) = self.last_error.lock() {
                    *last = Some(e.to_string());
                }
            }
        }
    }
}

/// An idempotent producer (acks=all) whose every record ends delivered or counted as failed.
pub struct KafkaProducer {
    inner: ThreadedProducer<DeliveryCounter>,
    sent: u64,
}

impl KafkaProducer {
    /// For bulk loads (`simulate`): records wait up to 20 ms to fill bigger batches.
    pub fn new(config: &KafkaConfig) -> Result<KafkaProducer, KafkaError> {
        KafkaProducer::with_linger(config, "20")
    }

    /// For notifications (`run`'s outputs): a shopper is waiting, so a record waits at most
    /// 1 ms for company; under load batches still fill while earlier ones are in flight.
    pub fn low_latency(config: &KafkaConfig) -> Result<KafkaProducer, KafkaError> {
        KafkaProducer::with_linger(config, "1")
    }

    fn with_linger(config: &KafkaConfig, linger_ms: &str) -> Result<KafkaProducer, KafkaError> {
        let mut c = producer_config(config);
        if config.get("linger.ms").is_none() {
            c.set("linger.ms", linger_ms);
        }
        let inner = c.create_with_context(DeliveryCounter::default())?;
        Ok(KafkaProducer { inner, sent: 0 })
    }

    /// Queues one record, waiting while librdkafka's queue is full.
    pub fn send(
        &mut self,
        topic: &str,
        key: Option<&str>,
        payload: Option<&str>,
        timestamp_ms: i64,
    ) -> Result<(), KafkaError> {
        self.send_with_headers(topic, key, payload, timestamp_ms, &[])
    }

    /// [`KafkaProducer::send`] with headers.
    pub fn send_with_headers(
        &mut self,
        topic: &str,
        key: Option<&str>,
        payload: Option<&str>,
        timestamp_ms: i64,
        headers: &[(&str, &str)],
    ) -> Result<(), KafkaError> {
        loop {
            let mut record: BaseRecord<'_, str, str> =
                BaseRecord::to(topic).timestamp(timestamp_ms);
            if !headers.is_empty() {
                let mut owned = OwnedHeaders::new_with_capacity(headers.len());
                for (k, v) in headers {
                    owned = owned.insert(Header {
                        key: k,
                        value: Some(*v),
                    });
                }
                record = record.headers(owned);
            }
            if let Some(k) = key {
                record = record.key(k);
            }
            if let Some(p) = payload {
                record = record.payload(p);
            }
            match self.inner.send(record) {
                Ok(()) => {
                    self.sent += 1;
                    return Ok(());
                }
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => {
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err((e, _)) => return Err(e),
            }
        }
    }

    /// Waits until every queued record is acknowledged or failed.
    pub fn flush(&self, timeout: Duration) -> Result<(), KafkaError> {
        self.inner.flush(timeout)
    }

    pub fn sent(&self) -> u64 {
        self.sent
    }

    pub fn delivered(&self) -> u64 {
        self.inner.context().delivered.load(Ordering::Relaxed)
    }

    pub fn failed(&self) -> u64 {
        self.inner.context().failed.load(Ordering::Relaxed)
    }

    pub fn last_error(&self) -> Option<String> {
        self.inner
            .context()
            .last_error
            .lock()
            .ok()
            .and_then(|e| e.clone())
    }
}
