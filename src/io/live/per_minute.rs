//! NEARBY_CUSTOMERS per minute and segment, for the replay timeline's histogram and the
//! chart: counted per record first (a ping's outputs share a minute and a few segments), then
//! merged, so the map sees one update per segment instead of one per output.

use std::sync::Arc;

use crate::engine::nearby_join::NearbyCustomer;

use super::events::MatchesPerMinute;

/// One record's counts.
#[derive(Debug, Default)]
pub(super) struct RecordMinutes {
    counts: Vec<(i64, Arc<str>, u64)>,
}

impl RecordMinutes {
    pub(super) fn count(&mut self, n: &NearbyCustomer) {
        let minute = n.timestamp_ms - n.timestamp_ms.rem_euclid(60_000);
        let segment = n.valid.product.segment.as_deref().unwrap_or("(none)");
        match self
            .counts
            .iter_mut()
            .find(|(m, s, _)| *m == minute && &**s == segment)
        {
            Some((_, _, c)) => *c += 1,
            None => self.counts.push((minute, Arc::from(segment), 1)),
        }
    }

    /// Adds this record's counts to `into` and starts over.
    pub(super) fn add_to(&mut self, into: &mut MatchesPerMinute) {
        for (minute, segment, n) in self.counts.drain(..) {
            *into.entry((minute, segment)).or_insert(0) += n;
        }
    }
}
