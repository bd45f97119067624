//! Shoppers' uids as small numbers, so a buffered ping holds 4 bytes instead of a pointer to
//! its own copy of the text (a day of pings is tens of millions of them; a shopper's pings
//! share one uid).
//!
//! Ids are reused: the owner says from time to time which ids its buffers still hold
//! ([`CustomerIds::retain`]), and the others are freed. That keeps the table the size of the
//! shoppers seen within the join's retention, not of every shopper ever seen.

use std::sync::Arc;

use rustc_hash::FxHashMap;

/// A customer's interned uid; [`CustomerId::NONE`] stands for a NULL uid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CustomerId(u32);

impl CustomerId {
    pub const NONE: CustomerId = CustomerId(0);

    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// The uid table.
#[derive(Clone, Debug)]
pub struct CustomerIds {
    by_uid: FxHashMap<Arc<str>, CustomerId>,
    /// By id; `None` at 0 (NULL) and at freed ids.
    uids: Vec<Option<Arc<str>>>,
    free: Vec<u32>,
    /// Live ids after the last [`CustomerIds::retain`]: the table is worth sweeping again
    /// once it has grown well past that.
    live_at_last_sweep: usize,
}

impl Default for CustomerIds {
    fn default() -> Self {
        Self {
            by_uid: FxHashMap::default(),
            uids: vec![None],
            free: Vec::new(),
            live_at_last_sweep: 0,
        }
    }
}

/// Bytes `ids` table entries hold, roughly: a map slot, an id slot, the uid's allocation.
pub fn estimated_bytes(ids: usize) -> u64 {
    const BYTES_PER_ID: u64 = 80;
    ids as u64 * BYTES_PER_ID
}

/// Below this many ids a sweep is not worth a scan of the buffers.
const SWEEP_AT_LEAST: usize = 4096;

impl CustomerIds {
    /// The id of `uid`, assigned now if it has none.
    pub fn intern(&mut self, uid: Option<&Arc<str>>) -> CustomerId {
        let Some(uid) = uid else {
            return CustomerId::NONE;
        };
        if let Some(id) = self.by_uid.get(&**uid) {
            return *id;
        }
        let id = match self.free.pop() {
            Some(i) => {
                self.uids[i as usize] = Some(Arc::clone(uid));
                CustomerId(i)
            }
            None => {
                self.uids.push(Some(Arc::clone(uid)));
                // Ids beyond u32 would need 4 billion shoppers within one retention.
                CustomerId(u32::try_from(self.uids.len() - 1).unwrap_or(u32::MAX))
            }
        };
        self.by_uid.insert(Arc::clone(uid), id);
        id
    }

    /// The uid behind `id` (`None` for NULL).
    pub fn uid(&self, id: CustomerId) -> Option<&Arc<str>> {
        self.uids.get(id.index()).and_then(Option::as_ref)
    }

    /// Ids in use.
    pub fn len(&self) -> usize {
        self.by_uid.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_uid.is_empty()
    }

    /// True when enough ids were added since the last sweep that one is worth its scan.
    pub fn sweep_due(&self) -> bool {
        self.len() >= SWEEP_AT_LEAST.max(2 * self.live_at_last_sweep)
    }

    /// Frees every id `held` does not mark (`held[id]`), for reuse by later uids.
    pub fn retain(&mut self, held: &[bool]) {
        for (i, slot) in self.uids.iter_mut().enumerate().skip(1) {
            if slot.is_some() && !held.get(i).copied().unwrap_or(false) {
                if let Some(uid) = slot.take() {
                    self.by_uid.remove(&*uid);
                }
                self.free.push(i as u32);
            }
        }
        self.live_at_last_sweep = self.len();
    }

    /// How many ids there are room for (the size a `held` mark list needs).
    pub fn capacity(&self) -> usize {
        self.uids.len()
    }

    /// Bytes the table holds, roughly (for memory budgets and checkpoint estimates).
    pub fn estimated_bytes(&self) -> u64 {
        estimated_bytes(self.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_uid_gets_the_same_id_and_null_is_none() {
        let mut ids = CustomerIds::default();
        let a: Arc<str> = "a".into();
        let a2: Arc<str> = "a".into();
        let id = ids.intern(Some(&a));
        assert_ne!(id, CustomerId::NONE);
        assert_eq!(ids.intern(Some(&a2)), id);
        assert_eq!(ids.intern(None), CustomerId::NONE);
        assert_eq!(ids.uid(id).map(|u| &**u), Some("a"));
        assert_eq!(ids.uid(CustomerId::NONE), None);
    }

    #[test]
    fn retain_frees_ids_nobody_holds_and_they_are_reused() {
        let mut ids = CustomerIds::default();
        let uids: Vec<Arc<str>> = ["a", "b", "c"].iter().map(|&s| s.into()).collect();
        let got: Vec<CustomerId> = uids.iter().map(|u| ids.intern(Some(u))).collect();
        let mut held = vec![false; ids.capacity()];
        held[got[1].index()] = true;
        ids.retain(&held);
        assert_eq!(ids.len(), 1);
        assert_eq!(ids.uid(got[1]).map(|u| &**u), Some("b"));
        assert_eq!(ids.uid(got[0]), None);
        let d: Arc<str> = "d".into();
        let reused = ids.intern(Some(&d));
        assert!(reused == got[0] || reused == got[2], "{reused:?}");
        assert_eq!(ids.uid(reused).map(|u| &**u), Some("d"));
        // "a" comes back under a fresh id, not confused with "d".
        let again = ids.intern(Some(&uids[0]));
        assert_ne!(again, reused);
        assert_eq!(ids.uid(again).map(|u| &**u), Some("a"));
    }

    #[test]
    fn a_sweep_is_due_only_once_the_table_has_doubled() {
        let mut ids = CustomerIds::default();
        for i in 0..SWEEP_AT_LEAST - 1 {
            let uid: Arc<str> = i.to_string().into();
            ids.intern(Some(&uid));
        }
        assert!(!ids.sweep_due());
        let uid: Arc<str> = "last".into();
        ids.intern(Some(&uid));
        assert!(ids.sweep_due());
        let held = vec![true; ids.capacity()];
        ids.retain(&held);
        assert!(
            !ids.sweep_due(),
            "all are live: not due again until doubled"
        );
    }
}
