//! Join windows, grace, stream time and the time-ordered buffers both joins keep.
//!
//! The semantics are Kafka Streams' stream-stream join as ksqlDB configures it (issue 2):
//! - stream time is the highest record timestamp a join has seen;
//! - a record older than stream time − (2·WITHIN + grace) is late: counted, never buffered or
//!   joined;
//! - a buffered record is dropped once stream time passes ts + 2·WITHIN + grace.
//!
//! Both rules use the same boundary, so a record that is not late is never expired on arrival,
//! and a buffered record is "expired" exactly when a record with its timestamp would be late.

pub use super::time_buffer::TimeBuffer;

use serde::{Deserialize, Serialize};

const HOUR_MS: i64 = 3_600_000;
/// Kafka Streams' legacy default retention that the derived grace fills up to.
const DEFAULT_RETENTION_MS: i64 = 24 * HOUR_MS;

/// One join's window: matches are at most `within_ms` apart (both ends included).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinWindow {
    pub within_ms: i64,
    pub grace_ms: i64,
}

impl JoinWindow {
    /// A window with ksqlDB's default grace when `grace_ms` is `None`: max(24 h − 2·WITHIN, 0).
    pub fn new(within_ms: i64, grace_ms: Option<i64>) -> Self {
        let within_ms = within_ms.max(0);
        let grace_ms = grace_ms
            .unwrap_or_else(|| default_grace_ms(within_ms))
            .max(0);
        Self {
            within_ms,
            grace_ms,
        }
    }

    /// How long after a record's timestamp stream time may run before the record is gone:
    /// 2·WITHIN + grace.
    pub fn retention_ms(&self) -> i64 {
        self.within_ms
            .saturating_mul(2)
            .saturating_add(self.grace_ms)
    }

    /// True when two timestamps are close enough to join.
    pub fn contains(&self, a_ms: i64, b_ms: i64) -> bool {
        a_ms.abs_diff(b_ms) <= self.within_ms as u64
    }
}

/// ksqlDB's grace for `WITHIN w` without a GRACE PERIOD clause.
pub fn default_grace_ms(within_ms: i64) -> i64 {
    DEFAULT_RETENTION_MS
        .saturating_sub(within_ms.saturating_mul(2))
        .max(0)
}

/// The highest record timestamp one join has seen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StreamTime {
    max_ms: Option<i64>,
}

impl StreamTime {
    pub fn get(&self) -> Option<i64> {
        self.max_ms
    }

    pub fn advance(&mut self, ts_ms: i64) {
        self.max_ms = Some(self.max_ms.map_or(ts_ms, |m| m.max(ts_ms)));
    }

    /// The oldest timestamp still joinable: records below it are late (on arrival) or expired
    /// (in a buffer).
    pub fn cutoff_ms(&self, window: &JoinWindow) -> i64 {
        self.max_ms
            .map_or(i64::MIN, |m| m.saturating_sub(window.retention_ms()))
    }

    pub fn is_late(&self, ts_ms: i64, window: &JoinWindow) -> bool {
        ts_ms < self.cutoff_ms(window)
    }
}

/// A join's sense of time: its window, stream time and sweep schedule.
#[derive(Clone, Copy, Debug)]
pub struct JoinClock {
    window: JoinWindow,
    stream_time: StreamTime,
    sweep: SweepSchedule,
    /// Records older than this are late whatever the grace: state was shed below it to keep
    /// within a memory budget (see [`JoinClock::raise_floor`]).
    floor_ms: i64,
}

/// A record the clock let in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Admitted {
    /// The oldest timestamp still joinable after this arrival.
    pub cutoff_ms: i64,
    /// The join should sweep its whole state now.
    pub sweep_due: bool,
    /// Buffered timestamps this record may join: inside the window and not expired.
    pub from_ms: i64,
    pub to_ms: i64,
}

impl JoinClock {
    pub fn new(window: JoinWindow) -> Self {
        Self {
            window,
            stream_time: StreamTime::default(),
            sweep: SweepSchedule::default(),
            floor_ms: i64::MIN,
        }
    }

    /// `None` when a record at `ts_ms` is late; otherwise advances stream time.
    pub fn admit(&mut self, ts_ms: i64) -> Option<Admitted> {
        if ts_ms < self.cutoff_ms() {
            return None;
        }
        self.stream_time.advance(ts_ms);
        let now = self.stream_time.get().unwrap_or(ts_ms);
        let cutoff_ms = self.cutoff_ms();
        let w = self.window.within_ms;
        Some(Admitted {
            cutoff_ms,
            sweep_due: self.sweep.due(now, &self.window),
            from_ms: ts_ms.saturating_sub(w).max(cutoff_ms),
            to_ms: ts_ms.saturating_add(w),
        })
    }

    pub fn stream_time_ms(&self) -> Option<i64> {
        self.stream_time.get()
    }

    /// The oldest timestamp still joinable: stream time − (2·WITHIN + grace), or the floor
    /// when that is later.
    pub fn cutoff_ms(&self) -> i64 {
        self.stream_time.cutoff_ms(&self.window).max(self.floor_ms)
    }

    /// From now on records older than `floor_ms` are late, as they would be with a smaller
    /// grace: the state they could join was given up. Never lowers it.
    pub fn raise_floor(&mut self, floor_ms: i64) {
        self.floor_ms = self.floor_ms.max(floor_ms);
    }

    pub fn window(&self) -> &JoinWindow {
        &self.window
    }
}

/// Physical clean-up of a whole keyed state, run every so often in event time.
///
/// Joins already ignore expired entries when they read (that is what decides results); this
/// only gives memory back, for keys and cells that no new record touches.
#[derive(Clone, Copy, Debug, Default)]
pub struct SweepSchedule {
    next_ms: Option<i64>,
}

impl SweepSchedule {
    /// True when a sweep is due at `stream_time_ms`; schedules the next one an eighth of the
    /// retention later (at least a minute), so sweeps cost little per record.
    pub fn due(&mut self, stream_time_ms: i64, window: &JoinWindow) -> bool {
        let interval_ms = (window.retention_ms() / 8).max(60_000);
        match self.next_ms {
            Some(next) if stream_time_ms < next => false,
            _ => {
                self.next_ms = Some(stream_time_ms.saturating_add(interval_ms));
                true
            }
        }
    }
}

/// Evicts expired entries from every buffer of a keyed state and forgets empty keys.
/// Returns the number of entries left.
pub fn sweep_keyed<K, T, S>(
    map: &mut std::collections::HashMap<K, TimeBuffer<T>, S>,
    cutoff_ms: i64,
) -> usize {
    let mut left = 0;
    map.retain(|_, buffer| {
        buffer.evict_before(cutoff_ms);
        left += buffer.len();
        !buffer.is_empty()
    });
    left
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_grace_fills_a_day() {
        assert_eq!(JoinWindow::new(HOUR_MS, None).grace_ms, 22 * HOUR_MS);
        assert_eq!(JoinWindow::new(HOUR_MS / 2, None).grace_ms, 23 * HOUR_MS);
        assert_eq!(JoinWindow::new(HOUR_MS, None).retention_ms(), 24 * HOUR_MS);
        assert_eq!(JoinWindow::new(13 * HOUR_MS, None).grace_ms, 0);
        assert_eq!(JoinWindow::new(HOUR_MS, Some(5)).grace_ms, 5);
    }

    #[test]
    fn window_edges_are_inclusive() {
        let w = JoinWindow::new(HOUR_MS, None);
        assert!(w.contains(0, HOUR_MS));
        assert!(w.contains(HOUR_MS, 0));
        assert!(!w.contains(0, HOUR_MS + 1));
        assert!(!w.contains(HOUR_MS + 1, 0));
        assert!(w.contains(i64::MAX, i64::MAX));
        assert!(!w.contains(i64::MIN, i64::MAX));
    }

    #[test]
    fn lateness_is_strictly_older_than_the_cutoff() {
        let w = JoinWindow::new(1_000, Some(500)); // retention 2_500
        let mut st = StreamTime::default();
        assert!(!st.is_late(i64::MIN, &w));
        st.advance(10_000);
        st.advance(9_000);
        assert_eq!(st.get(), Some(10_000));
        assert!(!st.is_late(7_500, &w));
        assert!(st.is_late(7_499, &w));
    }
}
