//! A notifier's memory of each shopper: their (customer, promotion) pairs and recent
//! notifications, laid out so that a ping finds its shopper with one or two memory reads,
//! both fetched ahead of time while the join runs.

use std::sync::Arc;

use rustc_hash::FxHashMap;
use smallvec::SmallVec;

use super::pids::PidId;
use crate::engine::geo::LatLonUnits;

/// A pair's `last_notified_ms` before its first notification.
pub(super) const NEVER: i64 = i64::MIN;

/// One (customer, promotion) pair: 48 bytes (a shopper's few sit in their entry).
#[derive(Clone, Debug)]
pub(super) struct PairState {
    pub(super) pid: PidId,
    pub(super) inside: bool,
    pub(super) notified_this_visit: bool,
    pub(super) entered_ms: i64,
    pub(super) last_seen_ms: i64,
    /// `NEVER` until the pair's first notification.
    pub(super) last_notified_ms: i64,
    /// Records since the last notification.
    pub(super) matches: u64,
    /// The nearest product of the last match: leaving is measured from it (kept as decoded;
    /// converted only when a shopper may have left).
    pub(super) product_at: LatLonUnits,
}

impl PairState {
    /// A pair first matched at `ts_ms`.
    pub(super) fn new(pid: PidId, ts_ms: i64) -> PairState {
        PairState {
            pid,
            inside: false,
            notified_this_visit: false,
            entered_ms: ts_ms,
            last_seen_ms: i64::MIN,
            last_notified_ms: NEVER,
            matches: 0,
            product_at: LatLonUnits::NONE,
        }
    }
}

/// A shopper's state: their pairs and their recent notifications, kept in the shopper's
/// entry for the common few (one memory read finds it all: this is looked at for every ping).
#[derive(Clone, Debug, Default)]
pub(super) struct CustomerState {
    pub(super) pairs: PairTable,
    /// Pairs the shopper is inside of (a ping with none inside checks nothing).
    pub(super) inside: u32,
    /// Notification times within the cap's window, oldest first.
    pub(super) recent: SmallVec<[i64; 3]>,
}

impl CustomerState {
    /// Drops the notification times at or before `cutoff_ms`.
    pub(super) fn forget_recent_until(&mut self, cutoff_ms: i64) {
        let old = self.recent.iter().take_while(|t| **t <= cutoff_ms).count();
        if old > 0 {
            self.recent.drain(..old);
        }
    }
}

/// Up to this many pairs a shopper's are found by a scan; past it, by an index.
pub(super) const SCAN_PAIRS: usize = 16;

/// A shopper's pairs by promotion. Most shoppers have a few: those sit in the shopper's entry
/// and are scanned by their pid's id; a shopper with many (hundreds, in a dense store after
/// hours) gets an index, so the cost per record does not grow with their promotions.
#[derive(Clone, Debug, Default)]
pub(super) struct PairTable {
    pub(super) pairs: SmallVec<[PairState; 4]>,
    /// pid → index in `pairs`, once there are more than `SCAN_PAIRS`.
    pub(super) index: Option<Box<FxHashMap<PidId, u32>>>,
}

impl PairTable {
    pub(super) fn len(&self) -> usize {
        self.pairs.len()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    pub(super) fn position(&self, pid: PidId) -> Option<usize> {
        if self.pairs.len() <= SCAN_PAIRS {
            self.pairs.iter().position(|p| p.pid == pid)
        } else {
            self.index.as_ref()?.get(&pid).map(|i| *i as usize)
        }
    }

    /// Inline: a capped shopper's ping takes it for each of its promotions.
    #[inline]
    pub(super) fn get_or_insert_with(
        &mut self,
        pid: PidId,
        new: impl FnOnce() -> PairState,
    ) -> (usize, &mut PairState) {
        let i = match self.position(pid) {
            Some(i) => i,
            None => {
                self.pairs.push(new());
                let i = self.pairs.len() - 1;
                match self.index.as_mut() {
                    Some(index) => {
                        index.insert(pid, i as u32);
                    }
                    None if self.pairs.len() > SCAN_PAIRS => self.reindex(),
                    None => {}
                }
                i
            }
        };
        (i, &mut self.pairs[i])
    }

    /// The pair at `i`, as [`PairTable::get_or_insert_with`] numbered it.
    pub(super) fn at_mut(&mut self, i: usize) -> Option<&mut PairState> {
        self.pairs.get_mut(i)
    }

    pub(super) fn values(&self) -> impl Iterator<Item = &PairState> {
        self.pairs.iter()
    }

    pub(super) fn values_mut(&mut self) -> impl Iterator<Item = &mut PairState> {
        self.pairs.iter_mut()
    }

    pub(super) fn retain(&mut self, keep: impl FnMut(&PairState) -> bool) {
        let mut keep = keep;
        let before = self.pairs.len();
        self.pairs.retain(|pair| keep(pair));
        if self.pairs.len() != before {
            self.reindex();
        }
    }

    pub(super) fn reindex(&mut self) {
        self.index = (self.pairs.len() > SCAN_PAIRS).then(|| {
            let by_pid = self.pairs.iter().enumerate();
            Box::new(by_pid.map(|(i, pair)| (pair.pid, i as u32)).collect())
        });
    }
}

/// Shoppers' states in one array, found through a small open-addressing index of their uids'
/// hashes (8 bytes a slot: it stays in the cache where the uids themselves would not). A
/// ping's shopper is found in two steps around the join, so neither memory read stalls:
/// `expect` when the ping is decoded (fetches its index slot), `prefetch_expected` after the
/// join (reads the slot, fetches the state). The entry's uid confirms every hit.
#[derive(Clone, Debug, Default)]
pub(super) struct Shoppers {
    pub(super) index: SlotIndex,
    pub(super) entries: Vec<(UidKey, CustomerState)>,
    /// The hash of the ping on its way through the join, then its entry once read.
    pub(super) expected_hash: Option<u64>,
    pub(super) expected: Option<u32>,
}

impl Shoppers {
    pub(super) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Memory held, roughly: the entries, the index, and the pairs and indexes of shoppers
    /// with more pairs than fit in their entry.
    pub(super) fn estimated_bytes(&self) -> usize {
        let spilled: usize = (self.states())
            .filter(|state| state.pairs.pairs.spilled())
            .map(|state| state.pairs.len() * (std::mem::size_of::<PairState>() + 16))
            .sum();
        self.entries.capacity() * std::mem::size_of::<(UidKey, CustomerState)>()
            + self.index.slots.len() * 8
            + spilled
    }

    pub(super) fn states(&self) -> impl Iterator<Item = &CustomerState> {
        self.entries.iter().map(|(_, state)| state)
    }

    pub(super) fn expect(&mut self, uid: Option<&Arc<str>>) {
        self.expected = None;
        self.expected_hash = uid.map(|uid| uid_hash(uid));
        if let Some(hash) = self.expected_hash {
            self.index.prefetch(hash);
        }
    }

    pub(super) fn prefetch_expected(&mut self) {
        let Some(hash) = self.expected_hash.take() else {
            return;
        };
        self.expected = self.index.candidates(hash).next();
        if let Some(entry) = self.expected.and_then(|i| self.entries.get(i as usize)) {
            prefetch(entry);
        }
    }

    pub(super) fn find(&self, hash: u64, key: &UidKey) -> Option<usize> {
        let holds = |i: &u32| self.entries.get(*i as usize).is_some_and(|e| e.0 == *key);
        self.expected
            .filter(holds)
            .or_else(|| self.index.candidates(hash).find(holds))
            .map(|i| i as usize)
    }

    pub(super) fn get_or_insert(&mut self, uid: &Arc<str>) -> &mut CustomerState {
        match self.expected_entry(uid) {
            Some(i) => &mut self.entries[i].1,
            None => self.get_or_insert_hashed(uid_hash(uid), UidKey::new(uid)),
        }
    }

    /// The state of `uid`, if they have one.
    pub(super) fn get_mut(&mut self, uid: &Arc<str>) -> Option<&mut CustomerState> {
        let i = match self.expected_entry(uid) {
            Some(i) => i,
            None => self.find(uid_hash(uid), &UidKey::new(uid))?,
        };
        self.entries.get_mut(i).map(|(_, state)| state)
    }

    /// The entry of the ping's own shopper, fetched while the join ran: found without a hash.
    fn expected_entry(&self, uid: &Arc<str>) -> Option<usize> {
        let i = self.expected? as usize;
        self.entries.get(i).filter(|e| e.0.is(uid)).map(|_| i)
    }

    pub(super) fn get_or_insert_hashed(&mut self, hash: u64, key: UidKey) -> &mut CustomerState {
        let i = match self.find(hash, &key) {
            Some(i) => i,
            None => {
                self.entries.push((key, CustomerState::default()));
                let i = self.entries.len() - 1;
                if !self.index.insert(hash, i as u32) {
                    self.reindex();
                }
                i
            }
        };
        &mut self.entries[i].1
    }

    pub(super) fn retain(&mut self, keep: impl FnMut(&mut CustomerState) -> bool) {
        let mut keep = keep;
        let before = self.entries.len();
        self.entries.retain_mut(|(_, state)| keep(state));
        // The index holds entries' positions: only a removal moves them.
        if self.entries.len() != before {
            self.reindex();
        }
    }

    pub(super) fn reindex(&mut self) {
        let hashes = self.entries.iter().map(|(key, _)| key.hash64());
        self.index = SlotIndex::with_hashes(self.entries.len(), hashes);
        self.expected = None;
    }
}

/// A probe through a `SlotIndex` (a loop the compiler keeps inline, unlike chained ranges).
pub(super) struct Candidates<'a> {
    pub(super) slots: &'a [u64],
    pub(super) at: usize,
    pub(super) left: usize,
    pub(super) tag: u64,
}

impl Iterator for Candidates<'_> {
    type Item = u32;

    fn next(&mut self) -> Option<u32> {
        while self.left > 0 {
            let slot = *self.slots.get(self.at)?;
            if slot == 0 {
                return None;
            }
            self.left -= 1;
            self.at = (self.at + 1) & (self.slots.len() - 1);
            if slot >> 32 == self.tag {
                return Some((slot as u32).wrapping_sub(1));
            }
        }
        None
    }
}

/// Open addressing with linear probing: a slot holds a hash's high half and an entry index
/// plus one (0: empty). At most half full, so a lookup reads one cache line almost always.
#[derive(Clone, Debug, Default)]
pub(super) struct SlotIndex {
    pub(super) slots: Vec<u64>,
    pub(super) len: usize,
}

impl SlotIndex {
    pub(super) fn with_hashes(len: usize, hashes: impl Iterator<Item = u64>) -> SlotIndex {
        let mut index = SlotIndex {
            slots: vec![0; (len * 2).next_power_of_two().max(16)],
            len: 0,
        };
        for (i, hash) in hashes.enumerate() {
            index.insert(hash, i as u32);
        }
        index
    }

    /// Where `hash`'s probe starts (0 in an empty index: nothing to probe).
    pub(super) fn home(&self, hash: u64) -> usize {
        (hash as usize) & self.slots.len().saturating_sub(1)
    }

    pub(super) fn prefetch(&self, hash: u64) {
        if let Some(slot) = self.slots.get(self.home(hash)) {
            prefetch(slot);
        }
    }

    /// The entries whose slots carry `hash`'s high half, in probe order.
    pub(super) fn candidates(&self, hash: u64) -> Candidates<'_> {
        Candidates {
            slots: &self.slots,
            at: self.home(hash),
            left: self.slots.len(),
            tag: hash >> 32,
        }
    }

    /// Adds entry `i`; `false` when the index is too full (rebuild it larger).
    pub(super) fn insert(&mut self, hash: u64, i: u32) -> bool {
        if (self.len + 1) * 2 > self.slots.len() {
            return false;
        }
        let start = self.home(hash);
        let Some(at) = (start..self.slots.len())
            .chain(0..start)
            .find(|at| self.slots.get(*at) == Some(&0))
        else {
            return false;
        };
        self.slots[at] = (hash >> 32 << 32) | (u64::from(i) + 1);
        self.len += 1;
        true
    }
}

/// `a == b`, a short pair (most uids are 4 to 16 bytes) compared by two overlapping word
/// loads each instead of a call to `memcmp`: every ping's shopper is confirmed this way.
#[inline]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    fn word<const N: usize>(s: &[u8], at: usize) -> Option<[u8; N]> {
        s.get(at..at + N)?.try_into().ok()
    }
    let n = a.len();
    if n != b.len() {
        return false;
    }
    match n {
        8..=16 => word::<8>(a, 0) == word(b, 0) && word::<8>(a, n - 8) == word(b, n - 8),
        4..=7 => word::<4>(a, 0) == word(b, 0) && word::<4>(a, n - 4) == word(b, n - 4),
        _ => a == b,
    }
}

pub(super) fn uid_hash(uid: &str) -> u64 {
    uid_hash_bytes(uid.as_bytes())
}

pub(super) fn uid_hash_bytes(bytes: &[u8]) -> u64 {
    use std::hash::Hasher as _;
    let mut hasher = rustc_hash::FxHasher::default();
    hasher.write(bytes);
    hasher.finish()
}

/// Asks the CPU to bring `value`'s memory into the cache; never faults, changes nothing.
pub(super) fn prefetch<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let start = (value as *const T).cast::<i8>();
        for line in (0..std::mem::size_of::<T>()).step_by(64) {
            // SAFETY: a prefetch is a hint: it never faults and reads nothing into the
            // program, whatever the address; SSE, which it needs, is part of x86_64.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(start.wrapping_add(line)) };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}

/// A customer's uid as the key of their state. Finding a shopper happens for every ping:
/// a uid of up to `INLINE_UID` bytes (a UUID is 36) is kept in the table itself, so the
/// comparison reads no other memory; longer ones are shared.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) enum UidKey {
    Inline { len: u8, bytes: [u8; INLINE_UID] },
    Shared(Arc<str>),
}

pub(super) const INLINE_UID: usize = 38;

impl UidKey {
    pub(super) fn new(uid: &Arc<str>) -> UidKey {
        let mut bytes = [0; INLINE_UID];
        match bytes.get_mut(..uid.len()) {
            Some(head) => {
                head.copy_from_slice(uid.as_bytes());
                UidKey::Inline {
                    len: uid.len() as u8,
                    bytes,
                }
            }
            None => UidKey::Shared(Arc::clone(uid)),
        }
    }

    /// Whether it holds `uid`.
    pub(super) fn is(&self, uid: &str) -> bool {
        match self {
            UidKey::Inline { len, bytes } => bytes
                .get(..usize::from(*len))
                .is_some_and(|held| same_bytes(held, uid.as_bytes())),
            UidKey::Shared(held) => **held == *uid,
        }
    }

    /// The hash of the uid it holds (as `uid_hash`).
    pub(super) fn hash64(&self) -> u64 {
        match self {
            UidKey::Inline { len, bytes } => {
                uid_hash_bytes(bytes.get(..usize::from(*len)).unwrap_or_default())
            }
            UidKey::Shared(uid) => uid_hash(uid),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A ping reads its shopper's entry whole (it is fetched ahead, line by line): a pair
    /// and its product's position stay small so a shopper with a few pairs takes few lines.
    #[test]
    fn a_pair_takes_48_bytes_and_its_position_round_trips() {
        use crate::engine::decimal::Decimal5;
        use crate::engine::geo::LatLon;
        assert!(std::mem::size_of::<PairState>() <= 48);
        let at = |lat: i64, lon: i64| LatLon {
            lat: Decimal5::from_units(lat).expect("in range"),
            lon: Decimal5::from_units(lon).expect("in range"),
        };
        for p in [
            at(0, 0),
            at(-9_000_000, 18_000_000),
            at(9_000_000, -18_000_000),
        ] {
            assert_eq!(LatLonUnits::new(p).and_then(LatLonUnits::lat_lon), Some(p));
        }
        assert_eq!(LatLonUnits::NONE.lat_lon(), None);
    }

    #[test]
    fn the_estimate_counts_entries_and_spilled_pairs() {
        let mut shoppers = Shoppers::default();
        for i in 0..100 {
            shoppers.get_or_insert(&Arc::from(format!("u{i}")));
        }
        let entry = std::mem::size_of::<(UidKey, CustomerState)>();
        let few = shoppers.estimated_bytes();
        assert!(few >= 100 * entry, "{few}");
        let busy = shoppers.get_or_insert(&Arc::from("u0"));
        for pid in 0..40 {
            busy.pairs
                .get_or_insert_with(pid, || PairState::new(pid, 0));
        }
        assert!(shoppers.estimated_bytes() >= few + 40 * std::mem::size_of::<PairState>());
        assert_eq!(busy_pairs(&mut shoppers), 40);
    }

    fn busy_pairs(shoppers: &mut Shoppers) -> usize {
        shoppers
            .get_mut(&Arc::from("u0"))
            .map_or(0, |s| s.pairs.len())
    }

    #[test]
    fn same_bytes_is_equality_at_every_length_and_position() {
        for n in 0..=20u8 {
            let held: Vec<u8> = (0..n).map(|i| b'a' + i).collect();
            assert!(same_bytes(&held, &held.clone()), "length {n}");
            for i in 0..usize::from(n) {
                let mut other = held.clone();
                other[i] ^= 0x20;
                assert!(!same_bytes(&held, &other), "length {n}, byte {i}");
            }
            let mut longer = held.clone();
            longer.push(b'z');
            assert!(!same_bytes(&held, &longer), "length {n} against one more");
        }
    }

    #[test]
    fn shoppers_whose_uids_share_a_hash_keep_their_own_state() {
        // Room for both, so no re-index (which takes the real hashes) comes between.
        let mut shoppers = Shoppers {
            index: SlotIndex::with_hashes(0, std::iter::empty()),
            ..Shoppers::default()
        };
        let (a, b) = (UidKey::new(&Arc::from("a")), UidKey::new(&Arc::from("b")));
        shoppers.get_or_insert_hashed(42, a.clone()).inside = 1;
        shoppers.get_or_insert_hashed(42, b.clone()).inside = 2;
        assert_eq!(shoppers.len(), 2);
        assert_eq!(shoppers.get_or_insert_hashed(42, a).inside, 1);
        assert_eq!(shoppers.get_or_insert_hashed(42, b).inside, 2);
        // A sweep that forgets a shopper re-indexes by the real hashes; both are still found
        // by uid.
        shoppers.get_or_insert_hashed(7, UidKey::new(&Arc::from("gone")));
        shoppers.retain(|state| state.inside > 0);
        assert_eq!(shoppers.len(), 2);
        assert_eq!(shoppers.get_mut(&Arc::from("b")).map(|s| s.inside), Some(2));
        assert_eq!(shoppers.get_mut(&Arc::from("a")).map(|s| s.inside), Some(1));
    }
}
