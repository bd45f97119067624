//! Published promotions and their delivery: each stays pending until the source acknowledges
//! it (the bus assigns an offset; Kafka's delivery report will), is retried while the source is
//! busy, and shows the reason when it fails. Nothing the operator published disappears.

use crate::engine::{RawRecord, Topic};
use crate::io::bus::{BusError, BusProducer};

use super::promotion_editor::PromotionRecord;

#[derive(Clone, Debug, PartialEq)]
pub enum DeliveryState {
    /// Not acknowledged yet; `last_error` says why the last try did not go through.
    Pending {
        attempts: u32,
        last_error: Option<String>,
    },
    Delivered {
        partition: i32,
        offset: i64,
    },
    /// Will not be retried on its own; the operator can retry.
    Failed {
        reason: String,
    },
}

/// Why a record is sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Announcement {
    New,
    Reannounced,
    /// Re-published with `valid_until` = now, for consumers that honour it (the original
    /// pipeline itself has no way to end a promotion: it stays valid for its window).
    Ended,
}

#[derive(Clone, Debug)]
pub struct OutboxItem {
    pub record: PromotionRecord,
    pub announcement: Announcement,
    /// Event time the record carries.
    pub timestamp_ms: i64,
    pub state: DeliveryState,
}

#[derive(Debug, Default)]
pub struct Outbox {
    pub items: Vec<OutboxItem>,
}

/// Tries before a busy source is reported as a failure instead of pending.
const MAX_BUSY_ATTEMPTS: u32 = 10_000;

impl Outbox {
    pub fn submit(
        &mut self,
        record: PromotionRecord,
        announcement: Announcement,
        timestamp_ms: i64,
    ) {
        self.items.push(OutboxItem {
            record,
            announcement,
            timestamp_ms,
            state: DeliveryState::Pending {
                attempts: 0,
                last_error: None,
            },
        });
    }

    pub fn pending(&self) -> usize {
        self.items
            .iter()
            .filter(|i| matches!(i.state, DeliveryState::Pending { .. }))
            .count()
    }

    /// Sends what is pending, oldest first, without blocking the UI.
    pub fn pump(&mut self, producer: &BusProducer) {
        for item in &mut self.items {
            let DeliveryState::Pending { attempts, .. } = item.state else {
                continue;
            };
            let record = RawRecord {
                timestamp_ms: Some(item.timestamp_ms),
                key: Some(item.record.pid.clone().into()),
                payload: Some(item.record.to_json().into()),
                ..RawRecord::default()
            };
            item.state = match producer.try_publish(Topic::ProductsPromotions, record) {
                Ok(d) => DeliveryState::Delivered {
                    partition: d.partition,
                    offset: d.offset,
                },
                Err(BusError::Full) if attempts < MAX_BUSY_ATTEMPTS => DeliveryState::Pending {
                    attempts: attempts + 1,
                    last_error: Some(BusError::Full.to_string()),
                },
                Err(e) => DeliveryState::Failed {
                    reason: e.to_string(),
                },
            };
            if matches!(item.state, DeliveryState::Pending { .. }) {
                // Keep order: later promotions wait behind the first one still pending.
                break;
            }
        }
    }

    /// Puts a failed item back in the queue.
    pub fn retry(&mut self, index: usize) {
        if let Some(item) = self.items.get_mut(index) {
            if matches!(item.state, DeliveryState::Failed { .. }) {
                item.state = DeliveryState::Pending {
                    attempts: 0,
                    last_error: None,
                };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::bus::bus;

    fn record(pid: &str) -> PromotionRecord {
        PromotionRecord {
            pid: pid.into(),
            sku: Some(1),
            segment: "A".into(),
            title: None,
            discount_pct: None,
            valid_until: None,
        }
    }

    #[test]
    fn pending_until_the_bus_takes_it_then_delivered_in_order() {
        let (producer, consumer) = bus(1);
        let mut outbox = Outbox::default();
        outbox.submit(record("p1"), Announcement::New, 10);
        outbox.submit(record("p2"), Announcement::New, 11);
        outbox.pump(&producer);
        assert_eq!(
            outbox.items[0].state,
            DeliveryState::Delivered {
                partition: 0,
                offset: 0
            }
        );
        assert!(
            matches!(&outbox.items[1].state, DeliveryState::Pending { attempts: 1, last_error: Some(e) } if e.contains("full"))
        );
        let first = consumer.try_recv().unwrap();
        assert_eq!(first.key.as_deref(), Some("p1"));
        assert_eq!(first.timestamp_ms, Some(10));
        outbox.pump(&producer);
        assert_eq!(
            outbox.items[1].state,
            DeliveryState::Delivered {
                partition: 0,
                offset: 1
            }
        );
        assert_eq!(outbox.pending(), 0);
    }

    #[test]
    fn a_closed_bus_fails_visibly_and_retry_requeues() {
        let (producer, consumer) = bus(4);
        drop(consumer);
        let mut outbox = Outbox::default();
        outbox.submit(record("p1"), Announcement::New, 10);
        outbox.pump(&producer);
        assert!(
            matches!(&outbox.items[0].state, DeliveryState::Failed { reason } if reason.contains("closed"))
        );
        outbox.retry(0);
        assert_eq!(outbox.pending(), 1);
    }
}
