//! Published promotions and their delivery. Each stays pending until the source acknowledges it
//! (the bus at once; Kafka through its delivery report), is retried while the source is busy,
//! and shows the reason when it fails. The outbox is saved to disk on every change, so a
//! promotion published offline, during a broker outage or just before a restart is sent when
//! the console next can: nothing the operator published disappears.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::promotion_editor::PromotionRecord;
use crate::engine::Topic;
use crate::io::sink::{RecordSink, SinkError};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum DeliveryState {
    /// Not sent yet, or to be sent again; `last_error` says why the last try did not go out.
    Pending {
        attempts: u32,
        last_error: Option<String>,
    },
    /// Handed to the source; waiting for its acknowledgement.
    InFlight,
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Announcement {
    New,
    Reannounced,
    /// Re-published with `valid_until` = now, for consumers that honour it (the original
    /// pipeline itself has no way to end a promotion: it stays valid for its window).
    Ended,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OutboxItem {
    pub id: u64,
    pub record: PromotionRecord,
    pub announcement: Announcement,
    /// Event time the record carries.
    pub timestamp_ms: i64,
    pub state: DeliveryState,
}

#[derive(Debug, Default)]
pub struct Outbox {
    pub items: Vec<OutboxItem>,
    next_id: u64,
    /// Where the outbox is kept (none in tests that do not care).
    path: Option<PathBuf>,
    /// The last save failed: shown to the operator.
    pub save_error: Option<String>,
}

/// Tries before a busy source is reported as a failure instead of pending.
const MAX_BUSY_ATTEMPTS: u32 = 10_000;

#[derive(Serialize, Deserialize)]
struct Saved {
    next_id: u64,
    items: Vec<OutboxItem>,
}

impl Outbox {
    /// The outbox kept at `path`; what was in flight when the console stopped is sent again
    /// (an acknowledgement that never came back cannot be told from a record that never left).
    pub fn open(path: PathBuf) -> Outbox {
        let mut outbox = Outbox {
            path: Some(path.clone()),
            ..Outbox::default()
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => match serde_json::from_str::<Saved>(&text) {
                Ok(saved) => {
                    outbox.next_id = saved.next_id;
                    outbox.items = saved.items;
                    for item in &mut outbox.items {
                        if item.state == DeliveryState::InFlight {
                            item.state = DeliveryState::Pending {
                                attempts: 0,
                                last_error: Some(
                                    "the console stopped before the acknowledgement".into(),
                                ),
                            };
                        }
                    }
                }
                Err(e) => {
                    outbox.save_error = Some(format!(
                        "{} is unreadable ({e}); starting empty",
                        path.display()
                    ))
                }
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => outbox.save_error = Some(format!("cannot read {}: {e}", path.display())),
        }
        outbox
    }

    /// The default place: `$XDG_DATA_HOME/instore/outbox.json`.
    pub fn default_path() -> Option<PathBuf> {
        Some(crate::io::folders::data_folder()?.join("outbox.json"))
    }

    fn save(&mut self) {
        let Some(path) = self.path.clone() else {
            return;
        };
        let saved = Saved {
            next_id: self.next_id,
            items: self.items.clone(),
        };
        self.save_error = write_atomically(&path, &saved).err();
    }

    pub fn submit(
        &mut self,
        record: PromotionRecord,
        announcement: Announcement,
        timestamp_ms: i64,
    ) {
        self.next_id += 1;
        self.items.push(OutboxItem {
            id: self.next_id,
            record,
            announcement,
            timestamp_ms,
            state: DeliveryState::Pending {
                attempts: 0,
                last_error: None,
            },
        });
        self.save();
    }

    pub fn pending(&self) -> usize {
        self.items
            .iter()
            .filter(|i| {
                matches!(
                    i.state,
                    DeliveryState::Pending { .. } | DeliveryState::InFlight
                )
            })
            .count()
    }

    /// Collects acknowledgements and sends what is pending, oldest first, without blocking.
    pub fn pump(&mut self, sink: &mut dyn RecordSink) {
        let mut changed = false;
        for (id, result) in sink.acks() {
            if let Some(item) = self.items.iter_mut().find(|i| i.id == id) {
                item.state = match result {
                    Ok(d) => DeliveryState::Delivered {
                        partition: d.partition,
                        offset: d.offset,
                    },
                    Err(reason) => DeliveryState::Failed { reason },
                };
                changed = true;
            }
        }
        for item in &mut self.items {
            let DeliveryState::Pending { attempts, .. } = item.state else {
                continue;
            };
            let payload = item.record.to_json();
            let result = sink.send(
                item.id,
                Topic::ProductsPromotions,
                &item.record.pid,
                &payload,
                item.timestamp_ms,
            );
            item.state = match result {
                Ok(Some(d)) => DeliveryState::Delivered {
                    partition: d.partition,
                    offset: d.offset,
                },
                Ok(None) => DeliveryState::InFlight,
                Err(SinkError::Busy(e)) if attempts < MAX_BUSY_ATTEMPTS => DeliveryState::Pending {
                    attempts: attempts + 1,
                    last_error: Some(e),
                },
                Err(e) => DeliveryState::Failed {
                    reason: e.to_string(),
                },
            };
            changed |= !matches!(item.state, DeliveryState::Pending { attempts: a, .. } if a > 1);
            if matches!(item.state, DeliveryState::Pending { .. }) {
                // Keep order: later promotions wait behind the first one still pending.
                break;
            }
        }
        if changed {
            self.save();
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
                self.save();
            }
        }
    }
}

/// Writes JSON to a temporary file and renames it over `path`, so a crash never leaves half a
/// file.
fn write_atomically(path: &Path, value: &impl Serialize) -> Result<(), String> {
    let text = serde_json::to_string_pretty(value).map_err(|e| e.to_string())?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, text).map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, path).map_err(|e| format!("cannot replace {}: {e}", path.display()))
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
        let (mut producer, consumer) = bus(1);
        let mut outbox = Outbox::default();
        outbox.submit(record("p1"), Announcement::New, 10);
        outbox.submit(record("p2"), Announcement::New, 11);
        outbox.pump(&mut producer);
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
        outbox.pump(&mut producer);
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
        let (mut producer, consumer) = bus(4);
        drop(consumer);
        let mut outbox = Outbox::default();
        outbox.submit(record("p1"), Announcement::New, 10);
        outbox.pump(&mut producer);
        assert!(
            matches!(&outbox.items[0].state, DeliveryState::Failed { reason } if reason.contains("closed"))
        );
        outbox.retry(0);
        assert_eq!(outbox.pending(), 1);
    }

    #[test]
    fn the_outbox_survives_a_restart_and_resends_what_was_not_acknowledged() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("outbox.json");
        let (mut producer, consumer) = bus(4);
        {
            let mut outbox = Outbox::open(path.clone());
            outbox.submit(record("sent"), Announcement::New, 1);
            outbox.pump(&mut producer);
            outbox.submit(record("offline"), Announcement::New, 2);
            // The console stops before sending the second one.
        }
        assert_eq!(consumer.try_recv().unwrap().key.as_deref(), Some("sent"));
        let mut reopened = Outbox::open(path.clone());
        assert!(reopened.save_error.is_none(), "{:?}", reopened.save_error);
        assert_eq!(reopened.items.len(), 2);
        assert_eq!(reopened.pending(), 1);
        reopened.pump(&mut producer);
        assert_eq!(consumer.try_recv().unwrap().key.as_deref(), Some("offline"));
        assert!(
            consumer.try_recv().is_none(),
            "the delivered one is not sent twice"
        );
        reopened.submit(record("third"), Announcement::New, 3);
        assert_eq!(reopened.items[2].id, 3, "ids go on after a restart");
    }
}
