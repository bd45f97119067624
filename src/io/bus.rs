//! The in-process bus: Kafka's shape without a broker. Producers (the simulator feed, the
//! console's promotion editor) publish owned records; one consumer (the engine) reads them in
//! publish order. Each record gets its topic's next offset when it is accepted, which is the
//! bus's delivery acknowledgement, so the console reports promotions the same way for the bus
//! and for Kafka.

use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::engine::{RawRecord, Topic};

/// A record on the bus.
pub type BusRecord = RawRecord<'static>;

/// Where an accepted record went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Delivery {
    pub partition: i32,
    pub offset: i64,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BusError {
    #[error("the engine is not running: the bus is closed")]
    Closed,
    #[error("the bus is full: the engine is behind")]
    Full,
}

/// The publishing side; clone it for every producer.
#[derive(Clone)]
pub struct BusProducer {
    tx: SyncSender<BusRecord>,
    /// Next offset per topic; the lock also keeps offsets in publish order.
    offsets: Arc<Mutex<[i64; Topic::ALL.len()]>>,
}

/// The consuming side (the engine).
pub struct BusConsumer {
    rx: Receiver<BusRecord>,
}

/// A bus that holds up to `capacity` records the consumer has not taken yet; producers wait
/// (or, with `try_publish`, are told) when it is full.
pub fn bus(capacity: usize) -> (BusProducer, BusConsumer) {
    let (tx, rx) = mpsc::sync_channel(capacity);
    (
        BusProducer {
            tx,
            offsets: Arc::new(Mutex::new([0; Topic::ALL.len()])),
        },
        BusConsumer { rx },
    )
}

impl BusProducer {
    /// Publishes `record` on `topic`, waiting while the bus is full.
    pub fn publish(&self, topic: Topic, record: BusRecord) -> Result<Delivery, BusError> {
        self.send(topic, record, true)
    }

    /// Passes on a record that already has its place in a log (a Kafka record keeps its topic,
    /// partition and offset), waiting while the bus is full.
    pub fn forward(&self, record: BusRecord) -> Result<(), BusError> {
        self.tx.send(record).map_err(|_| BusError::Closed)
    }

    /// Publishes without waiting: `Full` when the engine is behind (the caller keeps the record).
    pub fn try_publish(&self, topic: Topic, record: BusRecord) -> Result<Delivery, BusError> {
        self.send(topic, record, false)
    }

    fn send(&self, topic: Topic, mut record: BusRecord, wait: bool) -> Result<Delivery, BusError> {
        // A poisoned lock only means another producer panicked mid-send; the offsets are intact.
        let mut offsets = self.offsets.lock().unwrap_or_else(|e| e.into_inner());
        let slot = &mut offsets[topic.index()];
        record.topic = topic.name().into();
        record.partition = 0;
        record.offset = *slot;
        let delivery = Delivery {
            partition: 0,
            offset: *slot,
        };
        if wait {
            self.tx.send(record).map_err(|_| BusError::Closed)?;
        } else {
            self.tx.try_send(record).map_err(|e| match e {
                TrySendError::Full(_) => BusError::Full,
                TrySendError::Disconnected(_) => BusError::Closed,
            })?;
        }
        *slot += 1;
        Ok(delivery)
    }
}

/// What a wait for the next record gave.
#[derive(Debug)]
pub enum Received {
    Record(BusRecord),
    /// Nothing within the timeout.
    Idle,
    /// Every producer is gone and the bus is drained.
    Closed,
}

impl BusConsumer {
    /// The next record, waiting up to `timeout`.
    pub fn recv_timeout(&self, timeout: Duration) -> Received {
        match self.rx.recv_timeout(timeout) {
            Ok(record) => Received::Record(record),
            Err(RecvTimeoutError::Timeout) => Received::Idle,
            Err(RecvTimeoutError::Disconnected) => Received::Closed,
        }
    }

    /// The next record if one is waiting.
    pub fn try_recv(&self) -> Option<BusRecord> {
        self.rx.try_recv().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(payload: &str) -> BusRecord {
        RawRecord {
            payload: Some(payload.to_owned().into()),
            ..RawRecord::default()
        }
    }

    #[test]
    fn offsets_count_per_topic_in_publish_order() {
        let (producer, consumer) = bus(8);
        let a = producer
            .publish(Topic::ProductsPromotions, record("{}"))
            .unwrap();
        let b = producer
            .publish(Topic::CustomersLocations, record("{}"))
            .unwrap();
        let c = producer
            .publish(Topic::ProductsPromotions, record("{}"))
            .unwrap();
        assert_eq!((a.offset, b.offset, c.offset), (0, 0, 1));
        let got: Vec<_> = std::iter::from_fn(|| consumer.try_recv()).collect();
        assert_eq!(got.len(), 3);
        assert_eq!(got[2].topic, "products_promotions");
        assert_eq!(got[2].offset, 1);
    }

    #[test]
    fn full_and_closed_are_reported_and_nothing_is_counted_for_them() {
        let (producer, consumer) = bus(1);
        producer
            .try_publish(Topic::StoresProducts, record("1"))
            .unwrap();
        assert_eq!(
            producer.try_publish(Topic::StoresProducts, record("2")),
            Err(BusError::Full)
        );
        assert!(matches!(
            consumer.recv_timeout(Duration::ZERO),
            Received::Record(_)
        ));
        let d = producer
            .try_publish(Topic::StoresProducts, record("3"))
            .unwrap();
        assert_eq!(d.offset, 1, "the refused record took no offset");
        drop(consumer);
        assert_eq!(
            producer.publish(Topic::StoresProducts, record("4")),
            Err(BusError::Closed)
        );
    }

    #[test]
    fn the_consumer_sees_closed_once_producers_are_gone_and_drained() {
        let (producer, consumer) = bus(4);
        producer
            .publish(Topic::StoresProducts, record("1"))
            .unwrap();
        drop(producer);
        assert!(matches!(
            consumer.recv_timeout(Duration::ZERO),
            Received::Record(_)
        ));
        assert!(matches!(
            consumer.recv_timeout(Duration::from_millis(1)),
            Received::Closed
        ));
    }
}
