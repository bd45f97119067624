//! A shopper's last pings, kept inline (no heap buffer): the map reads every shopper's trail
//! every frame, and 5 000 shoppers each behind a pointer to a separate buffer cost a cache
//! miss apiece; inline, the frame walks the shopper table front to back.

use crate::engine::geo::LatLonDeg;

/// Pings kept per shopper for the trail.
pub const TRAIL_PINGS: usize = 12;

/// Up to [`TRAIL_PINGS`] (event time, position) pairs, oldest first.
#[derive(Clone, Copy, Debug)]
pub struct Trail {
    pings: [(i64, LatLonDeg); TRAIL_PINGS],
    len: u8,
}

impl Default for Trail {
    fn default() -> Self {
        Trail {
            pings: [(
                0,
                LatLonDeg {
                    lat_deg: 0.0,
                    lon_deg: 0.0,
                },
            ); TRAIL_PINGS],
            len: 0,
        }
    }
}

impl Trail {
    /// The pings held, oldest first.
    pub fn pings(&self) -> &[(i64, LatLonDeg)] {
        &self.pings[..usize::from(self.len)]
    }

    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn last(&self) -> Option<&(i64, LatLonDeg)> {
        self.pings().last()
    }

    /// Puts a ping where it belongs in time (out-of-order pings arrive too); a full trail
    /// forgets its oldest ping — or the new one, when that is the oldest.
    pub fn insert(&mut self, timestamp_ms: i64, at: LatLonDeg) {
        let len = self.len();
        let i = self.pings().partition_point(|(t, _)| *t <= timestamp_ms);
        if len < TRAIL_PINGS {
            self.pings.copy_within(i..len, i + 1);
            self.pings[i] = (timestamp_ms, at);
            self.len += 1;
        } else if i > 0 {
            // Drop the oldest: shift what lies before the new ping one place down.
            self.pings.copy_within(1..i, 0);
            self.pings[i - 1] = (timestamp_ms, at);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(n: i64) -> LatLonDeg {
        LatLonDeg {
            lat_deg: n as f64,
            lon_deg: 0.0,
        }
    }

    proptest! {
        /// The trail holds the latest TRAIL_PINGS pings in time order, whatever order they came
        /// in (ties keep arrival order, as a stable sort would).
        #[test]
        fn holds_the_latest_pings_in_time_order(times in proptest::collection::vec(0i64..50, 0..40)) {
            let mut trail = Trail::default();
            for (n, t) in times.iter().enumerate() {
                trail.insert(*t, at(n as i64));
            }
            let mut expected: Vec<(i64, i64)> =
                times.iter().enumerate().map(|(n, t)| (*t, n as i64)).collect();
            expected.sort_by_key(|(t, _)| *t);
            let keep = expected.len().saturating_sub(TRAIL_PINGS);
            let expected_times: Vec<i64> = expected[keep..].iter().map(|(t, _)| *t).collect();
            let got_times: Vec<i64> = trail.pings().iter().map(|(t, _)| *t).collect();
            prop_assert_eq!(got_times, expected_times);
            prop_assert_eq!(trail.len(), times.len().min(TRAIL_PINGS));
        }
    }

    #[test]
    fn a_late_ping_older_than_a_full_trail_is_not_kept() {
        let mut trail = Trail::default();
        for t in 10..10 + TRAIL_PINGS as i64 {
            trail.insert(t, at(t));
        }
        trail.insert(1, at(1));
        assert_eq!(trail.pings()[0].0, 10);
        trail.insert(100, at(100));
        assert_eq!(trail.pings()[0].0, 11);
        assert_eq!(trail.last().map(|p| p.0), Some(100));
    }
}
