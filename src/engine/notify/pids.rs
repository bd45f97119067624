//! Promotions' pids as small integers, so a notifier's pair state is keyed without hashing
//! or comparing strings per record.

use std::sync::Arc;

use rustc_hash::FxHashMap;

/// A promotion's pid as a small integer.
pub(super) type PidId = u32;

/// Gives each pid an id. The records of one promotion share its pid's allocation, so the
/// allocation's address finds the id without reading the string; the table holds on to each
/// allocation it knows by address, so no address can be reused for another pid while listed.
/// A re-published promotion (a new allocation, the same text) gets the same id by its text.
#[derive(Clone, Debug, Default)]
pub(super) struct PidIds {
    /// The last addresses looked up, by a few bits of the address: a ping's records name the
    /// same few promotions over and over, and this answers them without hashing. Only
    /// addresses in `by_address` are here (so none can have been reused).
    recent: RecentAddresses,
    pub(super) by_address: FxHashMap<usize, (Arc<str>, PidId)>,
    pub(super) by_text: FxHashMap<Arc<str>, PidId>,
    pub(super) texts: Vec<Arc<str>>,
}

impl PidIds {
    /// Always inline: its hit is a few instructions, taken for most of a run's records.
    #[inline(always)]
    pub(super) fn id(&mut self, pid: &Arc<str>) -> PidId {
        let address = Arc::as_ptr(pid).cast::<u8>() as usize;
        let slot = RecentAddresses::slot(address);
        if let Some((known, id)) = self.recent.0.get(slot) {
            if *known == address {
                return *id;
            }
        }
        self.id_not_recent(pid, address, slot)
    }

    /// [`PidIds::id`] past its slot: the slot's neighbour (where a pid whose address shares
    /// the slot with another's went), then by address, then by text.
    fn id_not_recent(&mut self, pid: &Arc<str>, address: usize, slot: usize) -> PidId {
        if let Some(&(known, id)) = self.recent.0.get(slot ^ 1) {
            if known == address {
                self.remember(slot, address, id);
                return id;
            }
        }
        if let Some(id) = self.by_address.get(&address).map(|(_, id)| *id) {
            self.remember(slot, address, id);
            return id;
        }
        let id = match self.by_text.get(&**pid) {
            Some(id) => *id,
            None => {
                let id = self.texts.len() as PidId;
                self.texts.push(Arc::clone(pid));
                self.by_text.insert(Arc::clone(pid), id);
                id
            }
        };
        self.by_address.insert(address, (Arc::clone(pid), id));
        self.remember(slot, address, id);
        id
    }

    /// Puts `address` in its slot, and what was there in the slot's neighbour: two pids whose
    /// addresses share a slot (where the allocator put them decides that) both stay, found
    /// one in the slot and the other one step later.
    fn remember(&mut self, slot: usize, address: usize, id: PidId) {
        let recent = &mut self.recent.0;
        if let Some(&before) = recent.get(slot) {
            if let Some(neighbour) = recent.get_mut(slot ^ 1) {
                *neighbour = before;
            }
        }
        if let Some(entry) = recent.get_mut(slot) {
            *entry = (address, id);
        }
    }

    pub(super) fn text(&self, id: PidId) -> &str {
        self.texts.get(id as usize).map_or("", |t| t)
    }

    /// Memory held, roughly (the pid texts are shared with the promotions).
    pub(super) fn estimated_bytes(&self) -> usize {
        self.by_address.len() * 32 + self.by_text.len() * 24 + self.texts.len() * 16
    }

    /// Lets go of allocations nobody else holds any more (promotions the engine dropped).
    pub(super) fn release_unused(&mut self) {
        self.by_address
            .retain(|_, (pid, _)| Arc::strong_count(pid) > 1);
        self.recent = RecentAddresses::default();
    }
}

/// A two-way cache of (address, id) (a slot and its neighbour); address 0 (no allocation has
/// it) marks a free slot.
#[derive(Clone, Debug)]
struct RecentAddresses([(usize, PidId); RECENT_ADDRESSES]);

const RECENT_ADDRESSES: usize = 64;
// `RecentAddresses::slot` takes the top bits of a product.
const _: () = assert!(RECENT_ADDRESSES.is_power_of_two());

impl RecentAddresses {
    fn slot(address: usize) -> usize {
        // Mixed by a multiplication, its top bits picking the slot: addresses of one size
        // class sit at regular strides, which would otherwise crowd a few slots (and a
        // promotion's pid would keep evicting another's, depending on where the allocator
        // happened to put them).
        const SLOT_BITS: u32 = RECENT_ADDRESSES.trailing_zeros();
        ((address as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - SLOT_BITS)) as usize
    }
}

impl Default for RecentAddresses {
    fn default() -> Self {
        RecentAddresses([(0, 0); RECENT_ADDRESSES])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whatever slots the allocator's addresses fall in: every lookup, cached or not, gives
    /// the pid's one id, a re-published pid (another allocation) included.
    #[test]
    fn every_pid_keeps_its_id_through_the_recent_cache() {
        let mut ids = PidIds::default();
        let pids: Vec<Arc<str>> = (0..300).map(|k| format!("p{k}").into()).collect();
        let first: Vec<PidId> = pids.iter().map(|p| ids.id(p)).collect();
        for round in 0..5 {
            for (k, pid) in pids.iter().enumerate().rev().step_by(round + 1) {
                assert_eq!(ids.id(pid), first[k]);
                // The neighbours in the list, to make slots collide and ways be evicted.
                let other = (k * 7 + round) % pids.len();
                assert_eq!(ids.id(&pids[other]), first[other]);
            }
        }
        let again: Arc<str> = "p17".into();
        assert_eq!(ids.id(&again), first[17]);
        let distinct: std::collections::HashSet<PidId> = first.iter().copied().collect();
        assert_eq!(distinct.len(), pids.len());
    }
}
