//! One input record's matches, folded into one candidate per (shopper, promotion) before the
//! rules look at them; the working space is reused from record to record.

use std::sync::Arc;

use rust_decimal::Decimal;
use rustc_hash::FxHashMap;

use super::pids::PidId;
use crate::engine::nearby_join::NearbyCustomer;
use crate::engine::output::Output;

/// One pair's records in one input record, folded: its first and nearest records and how
/// many. Kept small (32 bytes): a ping makes a few of these and they are written and read
/// for every one of its records.
#[derive(Clone, Debug)]
pub(super) struct Candidate {
    /// Which shopper of this input record (index into `Scratch::shoppers`).
    pub(super) shopper: u32,
    pub(super) pid: PidId,
    /// Index of the pair's first record in the outputs (its discount orders the cap).
    pub(super) first: u32,
    /// Index of the nearest record in the outputs.
    pub(super) nearest: u32,
    pub(super) records: u32,
    /// Set when its shopper is decided (none and false until then): its pair's index in
    /// the shopper's table, and whether the rule (and `valid_until`) let it through to the
    /// cap.
    pub(super) pair: Option<u32>,
    pub(super) fires: bool,
}

impl Candidate {
    /// The discount of the pair's first record, which orders the cap.
    pub(super) fn discount(&self, outputs: &[Output]) -> Option<Decimal> {
        nearby_at(outputs, self.first as usize)?
            .valid
            .promotion
            .discount_pct
    }
}

/// Up to this many candidates, finding a pair's is a scan.
pub(super) const SCAN_MAX: usize = 16;

/// Working space reused from one input record to the next (empty between them).
#[derive(Clone, Debug, Default)]
pub(super) struct Scratch {
    pub(super) candidates: Vec<Candidate>,
    /// (shopper, pid) → index in `candidates`, once there are more than `SCAN_MAX`.
    pub(super) slots: FxHashMap<(u32, PidId), usize>,
    /// This input record's shoppers, as the index of their first output (which holds the
    /// uid: nothing is cloned per record); a ping has one.
    pub(super) shoppers: Vec<usize>,
    /// uid → index in `shoppers`, once a record brings a second shopper (a product or a
    /// promotion matching stored pings).
    pub(super) shopper_index: FxHashMap<Arc<str>, u32>,
    /// The cap's order of that shopper's candidates.
    pub(super) order: Vec<usize>,
    /// The first shopper's candidates by pid id: (the input record's number, index in
    /// `candidates`). A ping has one shopper, so its records find their pair's candidate
    /// with one read, however many promotions it matched.
    first_shopper: Vec<(u64, u32)>,
    /// The input record's number (entries of `first_shopper` from earlier ones are stale).
    record: u64,
}

impl Scratch {
    pub(super) fn clear(&mut self) {
        self.record += 1;
        self.candidates.clear();
        self.shoppers.clear();
        // Clearing a map writes its whole control table, even when empty: a product record
        // with thousands of matches once must not cost every later ping that much.
        if !self.slots.is_empty() {
            self.slots.clear();
        }
        if !self.shopper_index.is_empty() {
            self.shopper_index.clear();
        }
    }

    /// The candidate of (shopper, pid), if any: the record's first shopper's by the pid's
    /// stamp; another shopper's (only products and promotions bring more than one) by a scan
    /// of the few, or past `SCAN_MAX` by the map.
    #[inline]
    pub(super) fn slot(&mut self, shopper: u32, pid: PidId) -> Option<usize> {
        if shopper == 0 {
            return (self.first_shopper.get(pid as usize))
                .filter(|(record, _)| *record == self.record)
                .map(|(_, slot)| *slot as usize);
        }
        if self.candidates.len() <= SCAN_MAX {
            return self
                .candidates
                .iter()
                .rposition(|c| c.shopper == shopper && c.pid == pid);
        }
        if self.slots.is_empty() {
            for (i, c) in self.candidates.iter().enumerate() {
                self.slots.insert((c.shopper, c.pid), i);
            }
        }
        self.slots.get(&(shopper, pid)).copied()
    }

    #[inline]
    pub(super) fn push(&mut self, candidate: Candidate) -> usize {
        let slot = self.candidates.len();
        if candidate.shopper == 0 {
            let at = candidate.pid as usize;
            if at >= self.first_shopper.len() {
                self.first_shopper.resize(at + 1, (u64::MAX, 0));
            }
            self.first_shopper[at] = (self.record, slot as u32);
        }
        if !self.slots.is_empty() {
            self.slots.insert((candidate.shopper, candidate.pid), slot);
        }
        self.candidates.push(candidate);
        slot
    }

    /// The shopper of `uid`, whose output at `at` this is.
    #[inline]
    pub(super) fn shopper(&mut self, outputs: &[Output], uid: &Arc<str>, at: usize) -> u32 {
        // The record's first shopper (a ping's only one).
        if self.shoppers.is_empty() {
            self.shoppers.push(at);
            return 0;
        }
        self.other_shopper(outputs, uid, at)
    }

    /// [`Scratch::shopper`] once the record has one: the same again, or another (a product
    /// or a promotion matching stored pings).
    fn other_shopper(&mut self, outputs: &[Output], uid: &Arc<str>, at: usize) -> u32 {
        if let Some(last) = self.shoppers.last().and_then(|i| uid_at(outputs, *i)) {
            if Arc::ptr_eq(last, uid) || **last == **uid {
                return self.shoppers.len() as u32 - 1;
            }
        }
        // Built at the second shopper: a ping never needs it.
        if self.shopper_index.len() < self.shoppers.len() {
            for (i, first) in self.shoppers.iter().enumerate() {
                if let Some(known) = uid_at(outputs, *first) {
                    self.shopper_index.insert(Arc::clone(known), i as u32);
                }
            }
        }
        if let Some(i) = self.shopper_index.get(&**uid) {
            return *i;
        }
        let i = self.shoppers.len() as u32;
        self.shoppers.push(at);
        if i > 0 {
            self.shopper_index.insert(Arc::clone(uid), i);
        }
        i
    }

    /// The uid of a shopper of this input record.
    pub(super) fn uid<'a>(&self, outputs: &'a [Output], shopper: u32) -> Option<&'a Arc<str>> {
        uid_at(outputs, *self.shoppers.get(shopper as usize)?)
    }
}

pub(super) fn uid_at(outputs: &[Output], i: usize) -> Option<&Arc<str>> {
    nearby_at(outputs, i)?.customer.uid.as_ref()
}

pub(super) fn nearby_at(outputs: &[Output], i: usize) -> Option<&NearbyCustomer> {
    match outputs.get(i) {
        Some(Output::NearbyCustomer(n)) => Some(n),
        _ => None,
    }
}
