//! The engine's events on their way to the console: a bounded channel, and a merge when the
//! console is slower than the stream (a slow frame, a minimised window). The engine never
//! waits for the screen: what does not fit is held, and while held a shopper's older pings
//! and the older matches give way to the newer ones; counters, promotions, products and
//! notifications are all kept, and what was merged away is counted.

use std::collections::HashSet;
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::Arc;

use super::events::LiveEvent;
use crate::io::wake::Waker;

/// Batches the console may have waiting (the engine sends one every ~30 ms when busy).
pub const DISPLAY_BATCHES: usize = 64;
/// Held events that start a merge; after one, the next starts at twice what was left.
const MERGE_AT: usize = 20_000;
/// Matches kept across a merge (the map draws the latest few thousand anyway).
const MATCHES_KEPT: usize = 2_000;

/// Sending side (the engine thread).
pub struct DisplaySender {
    tx: SyncSender<Vec<LiveEvent>>,
    held: Vec<LiveEvent>,
    merge_at: usize,
    merged: u64,
    waker: Waker,
}

/// Why the engine should stop sending.
#[derive(Debug, thiserror::Error)]
#[error("the console is gone")]
pub struct ConsoleGone;

/// A bounded display channel that wakes `waker` after each send.
pub fn display_channel(waker: Waker) -> (DisplaySender, Receiver<Vec<LiveEvent>>) {
    let (tx, rx) = mpsc::sync_channel(DISPLAY_BATCHES);
    let sender = DisplaySender {
        tx,
        held: Vec::new(),
        merge_at: MERGE_AT,
        merged: 0,
        waker,
    };
    (sender, rx)
}

impl DisplaySender {
    /// Sends `batch` after anything held; holds it (merging if needed) when the console is
    /// behind. Never waits.
    pub fn send(&mut self, batch: Vec<LiveEvent>) -> Result<(), ConsoleGone> {
        if self.held.is_empty() {
            self.held = batch;
        } else {
            self.held.extend(batch);
        }
        self.flush()
    }

    /// Tries again to send what is held (the engine calls it on every turn of its loop).
    pub fn flush(&mut self) -> Result<(), ConsoleGone> {
        if self.held.is_empty() {
            return Ok(());
        }
        match self.tx.try_send(std::mem::take(&mut self.held)) {
            Ok(()) => {
                self.waker.wake();
                Ok(())
            }
            Err(TrySendError::Full(batch)) => {
                self.held = batch;
                if self.held.len() >= self.merge_at {
                    self.merged += merge(&mut self.held, MATCHES_KEPT);
                    self.merge_at = (self.held.len() * 2).max(MERGE_AT);
                }
                self.waker.wake();
                Ok(())
            }
            Err(TrySendError::Disconnected(_)) => Err(ConsoleGone),
        }
    }

    /// Display events merged away so far.
    pub fn merged(&self) -> u64 {
        self.merged
    }

    /// Events held for the console right now.
    #[cfg(test)]
    fn held(&self) -> usize {
        self.held.len()
    }
}

/// Removes, within each stretch between settings changes and before or after the newest
/// checkpoint (the console pairs its model with those, so nothing moves across them): every
/// ping of a shopper but the last, all but the last `matches_kept` matches, and all
/// per-minute counts and counters but one (summed, or the newest). Older checkpoints go:
/// during a fast replay one comes every few seconds of pings, so a stretch between two holds
/// most shoppers once, and merging only within stretches would let the backlog grow with the
/// replay (hundreds of MB on a chain of 1 000 stores). A console this far behind gets fewer
/// places to seek from, not a stale model at any of them. Returns how many events other than checkpoints went.
fn merge(events: &mut Vec<LiveEvent>, matches_kept: usize) -> u64 {
    let mut keep = vec![true; events.len()];
    let mut newest_checkpoint_seen = false;
    let mut checkpoints_dropped = 0;
    let mut pinged: HashSet<Arc<str>> = HashSet::new();
    let mut matches = 0;
    let mut stats_seen = false;
    // Per-minute counts of the stretch are summed into its last such event.
    let mut minutes_into: Option<usize> = None;
    let mut minutes_moved = Vec::new();
    for i in (0..events.len()).rev() {
        match &events[i] {
            LiveEvent::Checkpoint(_) if newest_checkpoint_seen => {
                keep[i] = false;
                checkpoints_dropped += 1;
            }
            LiveEvent::Checkpoint(_) | LiveEvent::Applied { .. } | LiveEvent::SourceClosed => {
                newest_checkpoint_seen |= matches!(events[i], LiveEvent::Checkpoint(_));
                pinged.clear();
                matches = 0;
                stats_seen = false;
                minutes_into = None;
            }
            LiveEvent::Ping { customer, .. } => {
                if let Some(uid) = &customer.uid {
                    keep[i] = pinged.insert(Arc::clone(uid));
                }
            }
            LiveEvent::Match(_) => {
                matches += 1;
                keep[i] = matches <= matches_kept;
            }
            LiveEvent::Stats(_) => {
                keep[i] = !stats_seen;
                stats_seen = true;
            }
            LiveEvent::MatchesPerMinute(_) => match minutes_into {
                None => minutes_into = Some(i),
                Some(into) => {
                    keep[i] = false;
                    minutes_moved.push((i, into));
                }
            },
            LiveEvent::Product { .. }
            | LiveEvent::Promotion { .. }
            | LiveEvent::ValidPromotion(_)
            | LiveEvent::Notification(_) => {}
        }
    }
    for (from, into) in minutes_moved {
        let LiveEvent::MatchesPerMinute(counts) = &mut events[from] else {
            continue;
        };
        let counts = std::mem::take(counts);
        if let LiveEvent::MatchesPerMinute(total) = &mut events[into] {
            for (key, n) in counts {
                *total.entry(key).or_insert(0) += n;
            }
        }
    }
    let before = events.len();
    let mut flags = keep.into_iter();
    events.retain(|_| flags.next().unwrap_or(true));
    (before - events.len() - checkpoints_dropped) as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::record::Customer;
    use crate::io::live::LiveStats;

    fn ping(uid: &str, t: i64) -> LiveEvent {
        LiveEvent::Ping {
            timestamp_ms: t,
            customer: Arc::new(Customer {
                uid: Some(uid.into()),
                ..Customer::default()
            }),
        }
    }

    fn minutes(n: u64) -> LiveEvent {
        LiveEvent::MatchesPerMinute([((0, Arc::from("A")), n)].into_iter().collect())
    }

    fn ping_times(events: &[LiveEvent]) -> Vec<(String, i64)> {
        events
            .iter()
            .filter_map(|e| match e {
                LiveEvent::Ping {
                    timestamp_ms,
                    customer,
                } => Some((customer.uid.as_deref()?.to_owned(), *timestamp_ms)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_merge_keeps_each_shoppers_last_ping_sums_minutes_and_keeps_the_newest_stats() {
        let mut events = vec![
            ping("a", 1),
            ping("b", 1),
            minutes(2),
            LiveEvent::Stats(Box::new(LiveStats {
                records_pushed: 1,
                ..LiveStats::default()
            })),
            ping("a", 2),
            minutes(3),
            LiveEvent::Stats(Box::new(LiveStats {
                records_pushed: 2,
                ..LiveStats::default()
            })),
        ];
        let gone = merge(&mut events, 10);
        assert_eq!(gone, 3);
        assert_eq!(ping_times(&events), vec![("b".into(), 1), ("a".into(), 2)]);
        let sums: Vec<u64> = events
            .iter()
            .filter_map(|e| match e {
                LiveEvent::MatchesPerMinute(m) => Some(m.values().sum()),
                _ => None,
            })
            .collect();
        assert_eq!(sums, vec![5]);
        let pushed: Vec<u64> = events
            .iter()
            .filter_map(|e| match e {
                LiveEvent::Stats(s) => Some(s.records_pushed),
                _ => None,
            })
            .collect();
        assert_eq!(pushed, vec![2]);
    }

    #[test]
    fn nothing_moves_across_a_settings_change() {
        let settings = crate::io::live::LiveSettings {
            params: Default::default(),
            notify: Default::default(),
        };
        let mut events = vec![
            ping("a", 1),
            LiveEvent::Applied {
                settings,
                replayed: 0,
            },
            ping("a", 2),
        ];
        assert_eq!(merge(&mut events, 10), 0);
        assert_eq!(events.len(), 3);
    }

    fn checkpoint(records_pushed: u64) -> LiveEvent {
        LiveEvent::Checkpoint(Arc::new(
            crate::io::live::checkpoint::LiveCheckpoint::empty_at(
                records_pushed,
                None,
                std::time::Duration::ZERO,
            ),
        ))
    }

    fn checkpoint_positions(events: &[LiveEvent]) -> Vec<u64> {
        events
            .iter()
            .filter_map(|e| match e {
                LiveEvent::Checkpoint(c) => Some(c.records_pushed),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn older_checkpoints_give_way_and_the_newest_keeps_its_pings() {
        let mut events = vec![
            ping("a", 1),
            checkpoint(10),
            ping("a", 2),
            checkpoint(20),
            ping("a", 3),
            ping("b", 3),
        ];
        assert_eq!(merge(&mut events, 10), 1);
        assert_eq!(checkpoint_positions(&events), [20]);
        // Each shopper's last ping before the checkpoint it is paired with stays before it.
        assert!(matches!(
            &events[0],
            LiveEvent::Ping {
                timestamp_ms: 2,
                ..
            }
        ));
        assert_eq!(
            ping_times(&events),
            [("a".into(), 2), ("a".into(), 3), ("b".into(), 3)]
        );
    }

    #[test]
    fn a_fast_replay_with_a_checkpoint_every_round_holds_a_bounded_amount() {
        let (mut sender, rx) = display_channel(Waker::none());
        for t in 0..2_000 {
            let mut batch: Vec<LiveEvent> = (0..100).map(|c| ping(&format!("c{c}"), t)).collect();
            batch.push(checkpoint(t as u64 * 100));
            sender.send(batch).expect("console still there");
        }
        assert!(
            sender.held() <= 2 * MERGE_AT,
            "held {} events",
            sender.held()
        );
        drop(rx);
    }

    #[test]
    fn a_console_that_does_not_drain_never_blocks_the_engine_and_holds_a_bounded_amount() {
        let (mut sender, rx) = display_channel(Waker::none());
        // Far more than the channel holds: 100 shoppers pinging 2 000 times each.
        for t in 0..2_000 {
            let batch = (0..100).map(|c| ping(&format!("c{c}"), t)).collect();
            sender.send(batch).expect("console still there");
        }
        assert!(
            sender.held() <= 2 * MERGE_AT,
            "held {} events",
            sender.held()
        );
        assert!(sender.merged() > 0);
        // The console catches up: every shopper's newest ping arrives, in order.
        let mut last = std::collections::HashMap::new();
        while sender.held() > 0 {
            while let Ok(batch) = rx.try_recv() {
                for (uid, t) in ping_times(&batch) {
                    let before = last.insert(uid, t);
                    assert!(before.is_none_or(|b| b < t), "pings out of order");
                }
            }
            sender.flush().expect("console still there");
        }
        while let Ok(batch) = rx.try_recv() {
            for (uid, t) in ping_times(&batch) {
                last.insert(uid, t);
            }
        }
        assert_eq!(last.len(), 100);
        assert!(last.values().all(|t| *t == 1_999));
        drop(rx);
        assert!(sender.send(vec![ping("a", 0)]).is_err());
    }
}
