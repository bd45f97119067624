//! Where the console's own records (promotions) go: the in-process bus or Kafka. A sink either
//! acknowledges at once (the bus) or later through [`RecordSink::acks`] (Kafka's delivery
//! reports), so the outbox shows the same states for both.

use crate::engine::{RawRecord, Topic};
use crate::io::bus::{BusError, BusProducer, Delivery};

/// Why a send did not start.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SinkError {
    /// Try again shortly (the engine or the client's queue is full).
    #[error("busy: {0}")]
    Busy(String),
    /// Will not work by retrying on its own (closed, misconfigured).
    #[error("{0}")]
    Failed(String),
}

pub trait RecordSink: Send {
    /// Starts sending record `id`. `Ok(Some)` when acknowledged already, `Ok(None)` when the
    /// acknowledgement will come through [`RecordSink::acks`].
    fn send(
        &mut self,
        id: u64,
        topic: Topic,
        key: &str,
        payload: &str,
        timestamp_ms: i64,
    ) -> Result<Option<Delivery>, SinkError>;

    /// Acknowledgements (or failures) that arrived since the last call.
    fn acks(&mut self) -> Vec<(u64, Result<Delivery, String>)> {
        Vec::new()
    }

    /// "the in-process bus", "Kafka at host:port".
    fn describe(&self) -> String;
}

impl RecordSink for BusProducer {
    fn send(
        &mut self,
        _id: u64,
        topic: Topic,
        key: &str,
        payload: &str,
        timestamp_ms: i64,
    ) -> Result<Option<Delivery>, SinkError> {
        let record = RawRecord {
            timestamp_ms: Some(timestamp_ms),
            key: Some(key.to_owned().into()),
            payload: Some(payload.to_owned().into()),
            ..RawRecord::default()
        };
        match self.try_publish(topic, record) {
            Ok(d) => Ok(Some(d)),
            Err(BusError::Full) => Err(SinkError::Busy(BusError::Full.to_string())),
            Err(e) => Err(SinkError::Failed(e.to_string())),
        }
    }

    fn describe(&self) -> String {
        "the in-process bus".to_owned()
    }
}
