//! Notification rules: which NEARBY_CUSTOMERS records a shopper would actually receive.
//!
//! The join emits one record per (ping, valid promotion, product) — a shopper standing by a
//! promoted shelf for a minute yields dozens. A push service must not buzz the phone for each.
//! A rule decides per (customer, promotion) pair, by record time (so a replay gives the same
//! notifications as the live run):
//! - `every`: each record, as the original pipeline (several products of one segment
//!   promotion near one ping are several notifications);
//! - `cooldown`: at most once per pair per cooldown (the default, 10 min);
//! - `enter`: when the shopper comes within the radius after being outside it; leaving takes
//!   going past the radius plus a hysteresis margin, so GPS jitter at the edge does not
//!   re-trigger;
//! - `dwell`: once a visit, after the shopper has been inside for at least the dwell time.
//!
//! Then a promotion's `valid_until` ends its notifications, and a per-shopper cap allows at most
//! K an hour: when more fire at once, the highest discount wins (ties by pid).
//!
//! State is keyed by (customer, promotion) in a hash map, so the cost per record does not grow
//! with the promotions a shopper has; pairs not seen for two hours are forgotten.

use std::sync::Arc;

use rust_decimal::Decimal;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

use super::geo::{geo_distance_km_deg, LatLon, LatLonDeg};
use super::nearby_join::NearbyCustomer;
use super::output::Output;
use super::record::Customer;

/// Default cooldown per (customer, promotion): 10 minutes.
pub const DEFAULT_COOLDOWN_MS: i64 = 10 * 60_000;
/// A pair not seen for this long (record time) is forgotten.
const FORGET_AFTER_MS: i64 = 2 * 3_600_000;
/// The cap's window.
const CAP_WINDOW_MS: i64 = 3_600_000;

/// Which records become notifications.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotifyRule {
    Every,
    #[default]
    Cooldown,
    Enter,
    Dwell,
}

impl NotifyRule {
    pub const ALL: [NotifyRule; 4] = [
        NotifyRule::Every,
        NotifyRule::Cooldown,
        NotifyRule::Enter,
        NotifyRule::Dwell,
    ];

    pub fn name(self) -> &'static str {
        match self {
            NotifyRule::Every => "every",
            NotifyRule::Cooldown => "cooldown",
            NotifyRule::Enter => "enter",
            NotifyRule::Dwell => "dwell",
        }
    }
}

/// The rule and its parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct NotifyParams {
    pub rule: NotifyRule,
    /// `cooldown`: per (customer, promotion).
    pub cooldown_ms: i64,
    /// `enter` and `dwell`: leaving takes going past the radius plus this.
    pub hysteresis_ft: f64,
    /// `dwell`: inside at least this long.
    pub dwell_ms: i64,
    /// At most this many notifications per shopper an hour (0: no cap).
    pub cap_per_hour: u32,
}

impl Default for NotifyParams {
    fn default() -> Self {
        Self {
            rule: NotifyRule::Cooldown,
            cooldown_ms: DEFAULT_COOLDOWN_MS,
            hysteresis_ft: 10.0,
            dwell_ms: 60_000,
            cap_per_hour: 3,
        }
    }
}

/// What the shopper receives.
#[derive(Clone, Debug, PartialEq)]
pub struct Notification {
    pub timestamp_ms: i64,
    pub uid: Arc<str>,
    pub pid: Arc<str>,
    /// The nearest promoted product of the pair in this ping.
    pub sku: Option<i64>,
    pub segment: Option<Arc<str>>,
    pub title: Option<Arc<str>>,
    pub discount_pct: Option<Decimal>,
    /// Where that product is (the console names its store or site from it).
    pub product_at: Option<LatLonDeg>,
    pub dist_to_store_ft: f64,
    /// NEARBY_CUSTOMERS records of this pair since its last notification, this one's included.
    pub matches: u64,
}

/// Why records did not notify, counted per record.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HeldBack {
    /// The rule said no (inside the cooldown, already entered, not dwelt long enough…).
    pub rule: u64,
    /// The shopper's hourly cap was reached.
    pub cap: u64,
    /// The promotion's `valid_until` had passed.
    pub expired: u64,
    /// A record without a uid or pid cannot reach a phone.
    pub unaddressed: u64,
}

/// One (customer, promotion) pair: one cache line (a shopper's few sit in their entry).
#[derive(Clone, Debug)]
struct PairState {
    pid: PidId,
    inside: bool,
    notified_this_visit: bool,
    entered_ms: i64,
    last_seen_ms: i64,
    /// `NEVER` until the pair's first notification.
    last_notified_ms: i64,
    /// Records since the last notification.
    matches: u64,
    /// The nearest product of the last match: leaving is measured from it (kept as decoded;
    /// converted only when a shopper may have left).
    product_at: Option<LatLon>,
}

/// A shopper's state: their pairs and their recent notifications, kept in the shopper's
/// entry for the common few (one memory read finds it all: this is looked at for every ping).
#[derive(Clone, Debug, Default)]
struct CustomerState {
    pairs: PairTable,
    /// Pairs the shopper is inside of (a ping with none inside checks nothing).
    inside: u32,
    /// Notification times within the cap's window, oldest first.
    recent: SmallVec<[i64; 3]>,
}

impl CustomerState {
    /// Drops the notification times at or before `cutoff_ms`.
    fn forget_recent_until(&mut self, cutoff_ms: i64) {
        let old = self.recent.iter().take_while(|t| **t <= cutoff_ms).count();
        if old > 0 {
            self.recent.drain(..old);
        }
    }
}

/// Up to this many pairs a shopper's are found by a scan; past it, by an index.
const SCAN_PAIRS: usize = 16;

/// A shopper's pairs by promotion. Most shoppers have a few: those sit in the shopper's entry
/// and are scanned by their pid's id; a shopper with many (hundreds, in a dense store after
/// hours) gets an index, so the cost per record does not grow with their promotions.
#[derive(Clone, Debug, Default)]
struct PairTable {
    pairs: SmallVec<[PairState; 4]>,
    /// pid → index in `pairs`, once there are more than `SCAN_PAIRS`.
    index: Option<Box<FxHashMap<PidId, u32>>>,
}

impl PairTable {
    fn len(&self) -> usize {
        self.pairs.len()
    }

    fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    fn position(&self, pid: PidId) -> Option<usize> {
        if self.pairs.len() <= SCAN_PAIRS {
            self.pairs.iter().position(|p| p.pid == pid)
        } else {
            self.index.as_ref()?.get(&pid).map(|i| *i as usize)
        }
    }

    fn get_mut(&mut self, pid: PidId) -> Option<&mut PairState> {
        let i = self.position(pid)?;
        self.pairs.get_mut(i)
    }

    fn get_or_insert_with(
        &mut self,
        pid: PidId,
        new: impl FnOnce() -> PairState,
    ) -> &mut PairState {
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
        &mut self.pairs[i]
    }

    fn values(&self) -> impl Iterator<Item = &PairState> {
        self.pairs.iter()
    }

    fn values_mut(&mut self) -> impl Iterator<Item = &mut PairState> {
        self.pairs.iter_mut()
    }

    fn retain(&mut self, keep: impl FnMut(&PairState) -> bool) {
        let mut keep = keep;
        self.pairs.retain(|pair| keep(pair));
        self.reindex();
    }

    fn reindex(&mut self) {
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
struct Shoppers {
    index: SlotIndex,
    entries: Vec<(UidKey, CustomerState)>,
    /// The hash of the ping on its way through the join, then its entry once read.
    expected_hash: Option<u64>,
    expected: Option<u32>,
}

impl Shoppers {
    fn len(&self) -> usize {
        self.entries.len()
    }

    fn states(&self) -> impl Iterator<Item = &CustomerState> {
        self.entries.iter().map(|(_, state)| state)
    }

    fn expect(&mut self, uid: Option<&Arc<str>>) {
        self.expected = None;
        self.expected_hash = uid.map(|uid| uid_hash(uid));
        if let Some(hash) = self.expected_hash {
            self.index.prefetch(hash);
        }
    }

    fn prefetch_expected(&mut self) {
        let Some(hash) = self.expected_hash.take() else {
            return;
        };
        self.expected = self.index.candidates(hash).next();
        if let Some(entry) = self.expected.and_then(|i| self.entries.get(i as usize)) {
            prefetch(entry);
        }
    }

    fn find(&self, hash: u64, key: &UidKey) -> Option<usize> {
        let holds = |i: &u32| self.entries.get(*i as usize).is_some_and(|e| e.0 == *key);
        self.expected
            .filter(holds)
            .or_else(|| self.index.candidates(hash).find(holds))
            .map(|i| i as usize)
    }

    fn get_mut(&mut self, uid: &Arc<str>) -> Option<&mut CustomerState> {
        let i = self.find(uid_hash(uid), &UidKey::new(uid))?;
        self.entries.get_mut(i).map(|(_, state)| state)
    }

    fn get_or_insert(&mut self, uid: &Arc<str>) -> &mut CustomerState {
        self.get_or_insert_hashed(uid_hash(uid), UidKey::new(uid))
    }

    fn get_or_insert_hashed(&mut self, hash: u64, key: UidKey) -> &mut CustomerState {
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

    fn retain(&mut self, keep: impl FnMut(&mut CustomerState) -> bool) {
        let mut keep = keep;
        self.entries.retain_mut(|(_, state)| keep(state));
        self.reindex();
    }

    fn reindex(&mut self) {
        let hashes = self.entries.iter().map(|(key, _)| key.hash64());
        self.index = SlotIndex::with_hashes(self.entries.len(), hashes);
        self.expected = None;
    }
}

/// A probe through a `SlotIndex` (a loop the compiler keeps inline, unlike chained ranges).
struct Candidates<'a> {
    slots: &'a [u64],
    at: usize,
    left: usize,
    tag: u64,
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
struct SlotIndex {
    slots: Vec<u64>,
    len: usize,
}

impl SlotIndex {
    fn with_hashes(len: usize, hashes: impl Iterator<Item = u64>) -> SlotIndex {
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
    fn home(&self, hash: u64) -> usize {
        (hash as usize) & self.slots.len().saturating_sub(1)
    }

    fn prefetch(&self, hash: u64) {
        if let Some(slot) = self.slots.get(self.home(hash)) {
            prefetch(slot);
        }
    }

    /// The entries whose slots carry `hash`'s high half, in probe order.
    fn candidates(&self, hash: u64) -> Candidates<'_> {
        Candidates {
            slots: &self.slots,
            at: self.home(hash),
            left: self.slots.len(),
            tag: hash >> 32,
        }
    }

    /// Adds entry `i`; `false` when the index is too full (rebuild it larger).
    fn insert(&mut self, hash: u64, i: u32) -> bool {
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

fn uid_hash(uid: &str) -> u64 {
    uid_hash_bytes(uid.as_bytes())
}

fn uid_hash_bytes(bytes: &[u8]) -> u64 {
    use std::hash::Hasher as _;
    let mut hasher = rustc_hash::FxHasher::default();
    hasher.write(bytes);
    hasher.finish()
}

/// Asks the CPU to bring `value`'s memory into the cache; never faults, changes nothing.
fn prefetch<T>(value: &T) {
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
enum UidKey {
    Inline { len: u8, bytes: [u8; INLINE_UID] },
    Shared(Arc<str>),
}

const INLINE_UID: usize = 38;

impl UidKey {
    fn new(uid: &Arc<str>) -> UidKey {
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

    /// The hash of the uid it holds (as `uid_hash`).
    fn hash64(&self) -> u64 {
        match self {
            UidKey::Inline { len, bytes } => {
                uid_hash_bytes(bytes.get(..usize::from(*len)).unwrap_or_default())
            }
            UidKey::Shared(uid) => uid_hash(uid),
        }
    }
}

/// A promotion's pid as a small integer.
type PidId = u32;

/// A pair's `last_notified_ms` before its first notification.
const NEVER: i64 = i64::MIN;

/// Gives each pid an id. The records of one promotion share its pid's allocation, so the
/// allocation's address finds the id without reading the string; the table holds on to each
/// allocation it knows by address, so no address can be reused for another pid while listed.
/// A re-published promotion (a new allocation, the same text) gets the same id by its text.
#[derive(Clone, Debug, Default)]
struct PidIds {
    by_address: FxHashMap<usize, (Arc<str>, PidId)>,
    by_text: FxHashMap<Arc<str>, PidId>,
    texts: Vec<Arc<str>>,
}

impl PidIds {
    fn id(&mut self, pid: &Arc<str>) -> PidId {
        let address = Arc::as_ptr(pid).cast::<u8>() as usize;
        if let Some((_, id)) = self.by_address.get(&address) {
            return *id;
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
        id
    }

    fn text(&self, id: PidId) -> &str {
        self.texts.get(id as usize).map_or("", |t| t)
    }

    /// Lets go of allocations nobody else holds any more (promotions the engine dropped).
    fn release_unused(&mut self) {
        self.by_address
            .retain(|_, (pid, _)| Arc::strong_count(pid) > 1);
    }
}

/// One pair's records in one input record, folded: its nearest record and how many.
#[derive(Clone, Debug)]
struct Candidate {
    /// Which shopper of this input record (index into `Scratch::shoppers`).
    shopper: u32,
    pid: PidId,
    discount: Option<Decimal>,
    /// Index of the nearest record in the outputs.
    nearest: usize,
    records: u64,
}

/// Up to this many candidates, finding a pair's is a scan.
const SCAN_MAX: usize = 16;

/// Working space reused from one input record to the next (empty between them).
#[derive(Clone, Debug, Default)]
struct Scratch {
    candidates: Vec<Candidate>,
    /// (shopper, pid) → index in `candidates`, once there are more than `SCAN_MAX`.
    slots: FxHashMap<(u32, PidId), usize>,
    /// This input record's shoppers, as the index of their first output (which holds the
    /// uid: nothing is cloned per record); a ping has one.
    shoppers: Vec<usize>,
    /// uid → index in `shoppers`, once a record brings a second shopper (a product or a
    /// promotion matching stored pings).
    shopper_index: FxHashMap<Arc<str>, u32>,
}

impl Scratch {
    fn clear(&mut self) {
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

    /// The candidate of (shopper, pid), if any. A ping brings a handful: those are scanned;
    /// past `SCAN_MAX` the map is filled and used.
    fn slot(&mut self, shopper: u32, pid: PidId) -> Option<usize> {
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

    fn push(&mut self, candidate: Candidate) -> usize {
        let slot = self.candidates.len();
        if !self.slots.is_empty() {
            self.slots.insert((candidate.shopper, candidate.pid), slot);
        }
        self.candidates.push(candidate);
        slot
    }

    /// The shopper of `uid`, whose output at `at` this is.
    fn shopper(&mut self, outputs: &[Output], uid: &Arc<str>, at: usize) -> u32 {
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
    fn uid<'a>(&self, outputs: &'a [Output], shopper: u32) -> Option<&'a Arc<str>> {
        uid_at(outputs, *self.shoppers.get(shopper as usize)?)
    }
}

fn uid_at(outputs: &[Output], i: usize) -> Option<&Arc<str>> {
    nearby_at(outputs, i)?.customer.uid.as_ref()
}

/// Applies the rule, `valid_until` and the cap.
#[derive(Clone, Debug)]
pub struct Notifier {
    params: NotifyParams,
    /// Leaving a geofence takes being farther than this from its product.
    exit_ft: f64,
    km_to_ft: f64,
    customers: Shoppers,
    pids: PidIds,
    scratch: Scratch,
    /// Record time of the last sweep for forgotten pairs.
    swept_ms: i64,
    raw: u64,
    notified: u64,
    held: HeldBack,
}

impl Notifier {
    /// `radius_ft` and `km_to_ft` are the pipeline's: leaving is measured like matching.
    pub fn new(params: NotifyParams, radius_ft: f64, km_to_ft: f64) -> Self {
        Self {
            exit_ft: radius_ft + params.hysteresis_ft.max(0.0),
            km_to_ft,
            params,
            customers: Shoppers::default(),
            pids: PidIds::default(),
            scratch: Scratch::default(),
            swept_ms: i64::MIN,
            raw: 0,
            notified: 0,
            held: HeldBack::default(),
        }
    }

    pub fn params(&self) -> &NotifyParams {
        &self.params
    }

    /// (customer, promotion) pairs remembered.
    pub fn tracked(&self) -> usize {
        self.customers.states().map(|c| c.pairs.len()).sum()
    }

    /// Customers remembered.
    pub fn customers(&self) -> usize {
        self.customers.len()
    }

    /// NEARBY_CUSTOMERS records seen.
    pub fn raw_count(&self) -> u64 {
        self.raw
    }

    /// Notifications sent.
    pub fn notified_count(&self) -> u64 {
        self.notified
    }

    pub fn held_back(&self) -> HeldBack {
        self.held
    }

    /// Whether the rule needs to know when a shopper leaves a geofence: only then does
    /// `on_record` look at the ping (callers need not keep it otherwise).
    pub fn tracks_exits(&self) -> bool {
        matches!(self.params.rule, NotifyRule::Enter | NotifyRule::Dwell)
    }

    /// A ping is on its way into the join: where its shopper's state is gets fetched into
    /// the cache while the join works, instead of stalling `on_record` after it (for
    /// thousands of shoppers, finding them was the largest cost of the rules).
    pub fn expect_ping(&mut self, customer: &Customer) {
        self.customers.expect(customer.uid.as_ref());
    }

    /// After the join of the ping `expect_ping` saw: fetches its shopper's state into the
    /// cache while the outputs are written.
    pub fn prefetch_expected(&mut self) {
        self.customers.prefetch_expected();
    }

    /// One input record: the outputs the pipeline gave for it (its NEARBY_CUSTOMERS are
    /// offered together, so the rule and the cap choose among them) and, when it was a ping,
    /// the ping (at its record time): a shopper now farther than the radius plus the
    /// hysteresis from a geofence the ping did not match has left it. Returns the
    /// notifications, highest discount first for each shopper.
    pub fn on_record(
        &mut self,
        outputs: &[Output],
        ping: Option<(&Customer, i64)>,
    ) -> Vec<Notification> {
        let ping = ping
            .filter(|_| self.tracks_exits())
            .and_then(|(c, ts)| Some((c.uid.as_ref()?, c.position()?, ts)));
        let mut out = Vec::new();
        self.collect(outputs);
        let mut ping_checked = false;
        if !self.scratch.candidates.is_empty() {
            if let Some(now) = self
                .scratch
                .candidates
                .iter()
                .filter_map(|c| nearby_at(outputs, c.nearest))
                .map(|n| n.timestamp_ms)
                .max()
            {
                self.forget_before(now - FORGET_AFTER_MS);
            }
            self.sort_candidates(outputs);
            let mut at = 0;
            let candidates = std::mem::take(&mut self.scratch.candidates);
            while at < candidates.len() {
                let shopper = candidates[at].shopper;
                let end = at
                    + candidates[at..]
                        .iter()
                        .take_while(|c| c.shopper == shopper)
                        .count();
                let uid = self.scratch.uid(outputs, shopper);
                let this_ping = ping.filter(|p| uid.is_some_and(|u| **p.0 == **u));
                ping_checked |= this_ping.is_some();
                self.decide(
                    outputs,
                    &candidates[at..end],
                    shopper,
                    this_ping.map(|(_, at, ts)| (at, ts)),
                    &mut out,
                );
                at = end;
            }
            self.scratch.candidates = candidates;
        }
        if let Some((uid, at, ts)) = ping.filter(|_| !ping_checked) {
            if let Some(state) = self.customers.get_mut(uid) {
                check_exits(state, at, ts, 0, self.exit_ft, self.km_to_ft);
            }
        }
        self.scratch.clear();
        out
    }

    /// Folds the records into one candidate per (shopper, promotion) (per record for
    /// `every`, which notifies each record as the original pushed each one).
    fn collect(&mut self, outputs: &[Output]) {
        let each = self.params.rule == NotifyRule::Every;
        // A record usually belongs to the same pair as the one before it (the records of one
        // ping share their uid's and promotion's allocations), so that is tried first.
        let mut last: Option<(&NearbyCustomer, usize)> = None;
        for (i, output) in outputs.iter().enumerate() {
            let Output::NearbyCustomer(n) = output else {
                continue;
            };
            self.raw += 1;
            let (Some(uid), Some(pid)) = (n.customer.uid.as_ref(), n.valid.promotion.pid.as_ref())
            else {
                self.held.unaddressed += 1;
                continue;
            };
            let same_as_last = last.filter(|(prev, _)| {
                !each
                    && prev
                        .customer
                        .uid
                        .as_ref()
                        .is_some_and(|u| Arc::ptr_eq(u, uid))
                    && prev
                        .valid
                        .promotion
                        .pid
                        .as_ref()
                        .is_some_and(|p| Arc::ptr_eq(p, pid))
            });
            let slot = match same_as_last {
                Some((_, slot)) => Some(slot),
                None => {
                    let shopper = self.scratch.shopper(outputs, uid, i);
                    let pid = self.pids.id(pid);
                    let known = (!each).then(|| self.scratch.slot(shopper, pid)).flatten();
                    if known.is_none() {
                        let slot = self.scratch.push(Candidate {
                            shopper,
                            pid,
                            discount: n.valid.promotion.discount_pct,
                            nearest: i,
                            records: 1,
                        });
                        last = Some((n, slot));
                        continue;
                    }
                    known
                }
            };
            let Some(slot) = slot else { continue };
            let c = &mut self.scratch.candidates[slot];
            c.records += 1;
            // A segment promotion matches several products: the pair's nearest one.
            let nearer = nearby_at(outputs, c.nearest)
                .is_none_or(|prev| n.dist_to_store_ft < prev.dist_to_store_ft);
            if nearer {
                c.nearest = i;
            }
            last = Some((n, slot));
        }
    }

    /// Per shopper (by uid), highest discount first, ties by pid: the order the cap takes
    /// them in.
    fn sort_candidates(&mut self, outputs: &[Output]) {
        let scratch = &mut self.scratch;
        let pids = &self.pids;
        let mut rank: Vec<u32> = Vec::new();
        if scratch.shoppers.len() > 1 {
            let mut by_uid: Vec<u32> = (0..scratch.shoppers.len() as u32).collect();
            by_uid.sort_by_key(|shopper| scratch.uid(outputs, *shopper));
            rank = vec![0; by_uid.len()];
            for (r, shopper) in by_uid.into_iter().enumerate() {
                rank[shopper as usize] = r as u32;
            }
        }
        let rank_of = |shopper: u32| rank.get(shopper as usize).copied().unwrap_or(0);
        scratch.candidates.sort_by(|a, b| {
            rank_of(a.shopper)
                .cmp(&rank_of(b.shopper))
                .then_with(|| b.discount.cmp(&a.discount))
                .then_with(|| {
                    if a.pid == b.pid {
                        std::cmp::Ordering::Equal
                    } else {
                        pids.text(a.pid).cmp(pids.text(b.pid))
                    }
                })
        });
    }

    /// One shopper's candidates, in the cap's order: the rule, `valid_until`, the cap; then,
    /// for their ping, the geofences it did not match.
    fn decide(
        &mut self,
        outputs: &[Output],
        candidates: &[Candidate],
        shopper: u32,
        ping: Option<(LatLon, i64)>,
        out: &mut Vec<Notification>,
    ) {
        let Some(uid) = self.scratch.uid(outputs, shopper) else {
            return;
        };
        // One lookup of the shopper for all their candidates.
        let customer = self.customers.get_or_insert(uid);
        let seen_since = ping.map_or(i64::MAX, |(_, ts)| ts);
        // Pairs this ping newly made "inside and seen at the ping": when they are all the
        // pairs the shopper is inside of, no geofence is left to check.
        let mut matched_now = 0u32;
        for c in candidates {
            let Some(n) = nearby_at(outputs, c.nearest) else {
                continue;
            };
            let step = step_pair(customer, c, n, &self.params, seen_since);
            matched_now += u32::from(step.now_seen);
            if !step.fires {
                self.held.rule += c.records;
                continue;
            }
            let ts = n.timestamp_ms;
            if expired(n, ts) {
                self.held.expired += c.records;
                continue;
            }
            customer.forget_recent_until(ts - CAP_WINDOW_MS);
            let cap = self.params.cap_per_hour as usize;
            if cap > 0 && customer.recent.len() >= cap {
                self.held.cap += c.records;
                continue;
            }
            customer.recent.push(ts);
            let Some(pair) = customer.pairs.get_mut(c.pid) else {
                continue;
            };
            pair.last_notified_ms = ts;
            pair.notified_this_visit = true;
            let matches = std::mem::take(&mut pair.matches);
            self.notified += 1;
            let (Some(uid), Some(pid)) = (n.customer.uid.as_ref(), n.valid.promotion.pid.as_ref())
            else {
                continue;
            };
            out.push(Notification {
                timestamp_ms: ts,
                uid: Arc::clone(uid),
                pid: Arc::clone(pid),
                sku: n.valid.product.sku,
                segment: n.valid.product.segment.clone(),
                title: n.valid.promotion.title.clone(),
                discount_pct: n.valid.promotion.discount_pct,
                product_at: product_at(n),
                dist_to_store_ft: n.dist_to_store_ft,
                matches,
            });
        }
        if let Some((at, ts)) = ping {
            check_exits(customer, at, ts, matched_now, self.exit_ft, self.km_to_ft);
        }
    }

    /// Forgets pairs (and shoppers) last seen before `cutoff_ms`; sweeps at most every 10
    /// minutes of record time.
    fn forget_before(&mut self, cutoff_ms: i64) {
        if cutoff_ms < self.swept_ms.saturating_add(10 * 60_000) {
            return;
        }
        self.swept_ms = cutoff_ms;
        self.customers.retain(|c| {
            c.pairs.retain(|p| p.last_seen_ms >= cutoff_ms);
            c.inside = c.pairs.values().filter(|p| p.inside).count() as u32;
            c.forget_recent_until(cutoff_ms - 1);
            !c.pairs.is_empty() || !c.recent.is_empty()
        });
        self.pids.release_unused();
    }
}

fn nearby_at(outputs: &[Output], i: usize) -> Option<&NearbyCustomer> {
    match outputs.get(i) {
        Some(Output::NearbyCustomer(n)) => Some(n),
        _ => None,
    }
}

/// A ping at `at` (record time `ts_ms`): the pairs the shopper is inside of that it did not
/// match (seen before `ts_ms`) and is now farther than the radius plus the hysteresis from
/// have been left. `matched_now` pairs were matched by this ping: when that is all of them,
/// nothing is left to check.
fn check_exits(
    state: &mut CustomerState,
    at: LatLon,
    ts_ms: i64,
    matched_now: u32,
    exit_ft: f64,
    km_to_ft: f64,
) {
    if state.inside <= matched_now {
        return;
    }
    let (lat, lon) = (at.lat.to_f64(), at.lon.to_f64());
    // Feet per degree, for a cheap first look: only pairs near the edge need ksqlDB's
    // formula, which then decides exactly as matching does.
    let ft_per_deg_lat = 111.195 * km_to_ft;
    let ft_per_deg_lon = ft_per_deg_lat * lat.to_radians().cos();
    for pair in state
        .pairs
        .values_mut()
        .filter(|p| p.inside && p.last_seen_ms < ts_ms)
    {
        let Some(p) = pair.product_at.map(degrees) else {
            continue;
        };
        let (dy, dx) = (
            (p.lat_deg - lat) * ft_per_deg_lat,
            (p.lon_deg - lon) * ft_per_deg_lon,
        );
        let rough_ft = (dx * dx + dy * dy).sqrt();
        let left = if (rough_ft - exit_ft).abs() > 0.01 * exit_ft + 1.0 {
            rough_ft > exit_ft
        } else {
            geo_distance_km_deg(lat, lon, p.lat_deg, p.lon_deg) * km_to_ft > exit_ft
        };
        if left {
            pair.inside = false;
            pair.notified_this_visit = false;
            state.inside -= 1;
        }
    }
}

/// What one candidate did to its pair.
struct Step {
    /// The rule says notify.
    fires: bool,
    /// The pair was not inside-and-seen-since the ping before, and is now.
    now_seen: bool,
}

/// Updates a shopper's pair with one input record's records of it (`n` the nearest).
fn step_pair(
    customer: &mut CustomerState,
    c: &Candidate,
    n: &NearbyCustomer,
    params: &NotifyParams,
    seen_since: i64,
) -> Step {
    let ts = n.timestamp_ms;
    let pair = customer.pairs.get_or_insert_with(c.pid, || PairState {
        pid: c.pid,
        inside: false,
        notified_this_visit: false,
        entered_ms: ts,
        last_seen_ms: i64::MIN,
        last_notified_ms: NEVER,
        matches: 0,
        product_at: None,
    });
    let seen_before = pair.inside && pair.last_seen_ms >= seen_since;
    let entered = !pair.inside;
    if entered {
        pair.inside = true;
        pair.entered_ms = ts;
        pair.notified_this_visit = false;
        customer.inside += 1;
    }
    pair.last_seen_ms = pair.last_seen_ms.max(ts);
    pair.matches += c.records;
    pair.product_at = n.valid.product.position().or(pair.product_at);
    let fires = match params.rule {
        NotifyRule::Every => true,
        NotifyRule::Cooldown => {
            pair.last_notified_ms == NEVER
                || ts.abs_diff(pair.last_notified_ms)
                    >= u64::try_from(params.cooldown_ms).unwrap_or(0)
        }
        NotifyRule::Enter => entered,
        NotifyRule::Dwell => !pair.notified_this_visit && ts - pair.entered_ms >= params.dwell_ms,
    };
    Step {
        fires,
        now_seen: !seen_before && pair.last_seen_ms >= seen_since,
    }
}

fn product_at(n: &NearbyCustomer) -> Option<LatLonDeg> {
    n.valid.product.position().map(degrees)
}

fn degrees(p: LatLon) -> LatLonDeg {
    LatLonDeg {
        lat_deg: p.lat.to_f64(),
        lon_deg: p.lon.to_f64(),
    }
}

/// Whether the promotion's `valid_until` (RFC 3339) has passed at `ts_ms`; an unreadable one
/// does not end it (the record was accepted; the operator sees the text).
fn expired(n: &NearbyCustomer, ts_ms: i64) -> bool {
    n.valid
        .promotion
        .valid_until
        .as_deref()
        .and_then(|t| crate::engine::rfc3339::parse_rfc3339_ms(t).ok())
        .is_some_and(|until| ts_ms > until)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::decimal::Decimal5;
    use crate::engine::promotion_join::ValidPromotion;
    use crate::engine::record::{Product, Promotion};

    const RADIUS_FT: f64 = 100.0;
    const KM_TO_FT: f64 = 3281.0;
    /// The product, at 41.00000 N, 87.60000 W.
    const PRODUCT_LAT_UNITS: i64 = 4_100_000;
    const LON_UNITS: i64 = -8_760_000;

    /// A point `units` hundred-thousandths of a degree north of the product: one unit is
    /// ~3.65 ft by ksqlDB's formula.
    fn north(units: i64) -> (Option<Decimal5>, Option<Decimal5>) {
        (
            Decimal5::from_units(PRODUCT_LAT_UNITS + units),
            Decimal5::from_units(LON_UNITS),
        )
    }

    fn ft(units: i64) -> f64 {
        let (lat, lon) = north(units);
        let (lat, lon) = (lat.unwrap().to_f64(), lon.unwrap().to_f64());
        geo_distance_km_deg(lat, lon, 41.0, -87.6) * KM_TO_FT
    }

    fn customer(uid: &str, units: i64) -> Customer {
        let (latitude, longitude) = north(units);
        Customer {
            uid: Some(uid.into()),
            latitude,
            longitude,
            country: Some("USA".into()),
        }
    }

    struct Promo {
        pid: &'static str,
        discount: i64,
        valid_until: Option<&'static str>,
        sku: i64,
    }

    fn promo(pid: &'static str) -> Promo {
        Promo {
            pid,
            discount: 10,
            valid_until: None,
            sku: 7,
        }
    }

    fn nearby(uid: &str, p: &Promo, ts: i64, units: i64) -> NearbyCustomer {
        let (latitude, longitude) = north(0);
        NearbyCustomer {
            timestamp_ms: ts,
            customer: Arc::new(customer(uid, units)),
            valid: Arc::new(ValidPromotion {
                timestamp_ms: 0,
                product: Arc::new(Product {
                    sku: Some(p.sku),
                    latitude,
                    longitude,
                    ..Product::default()
                }),
                promotion: Arc::new(Promotion {
                    pid: Some(p.pid.into()),
                    discount_pct: Some(Decimal::from(p.discount)),
                    valid_until: p.valid_until.map(Into::into),
                    title: Some("Coffee week".into()),
                    ..Promotion::default()
                }),
            }),
            dist_to_store_ft: ft(units),
        }
    }

    fn notifier(params: NotifyParams) -> Notifier {
        Notifier::new(params, RADIUS_FT, KM_TO_FT)
    }

    /// One ping at `ts`, `units` north of the product: its matches when within the radius.
    fn ping(n: &mut Notifier, uid: &str, promos: &[&Promo], ts: i64, units: i64) -> usize {
        let records: Vec<NearbyCustomer> = if ft(units) <= RADIUS_FT {
            promos.iter().map(|p| nearby(uid, p, ts, units)).collect()
        } else {
            Vec::new()
        };
        ping_with(n, &customer(uid, units), ts, &records).len()
    }

    /// A ping at `ts` and the records it gave.
    fn ping_with(
        n: &mut Notifier,
        customer: &Customer,
        ts: i64,
        records: &[NearbyCustomer],
    ) -> Vec<Notification> {
        n.on_record(&outputs(records), Some((customer, ts)))
    }

    /// Records another input record (a product or a promotion) gave.
    fn offer(n: &mut Notifier, records: &[NearbyCustomer]) -> Vec<Notification> {
        n.on_record(&outputs(records), None)
    }

    fn outputs(records: &[NearbyCustomer]) -> Vec<Output> {
        records
            .iter()
            .cloned()
            .map(Output::NearbyCustomer)
            .collect()
    }

    fn no_cap(rule: NotifyRule) -> NotifyParams {
        NotifyParams {
            rule,
            cap_per_hour: 0,
            ..NotifyParams::default()
        }
    }

    #[test]
    fn cooldown_once_per_pair_and_exactly_at_the_cooldown_again() {
        let mut n = notifier(no_cap(NotifyRule::Cooldown));
        let (p1, p2) = (promo("p1"), promo("p2"));
        assert_eq!(ping(&mut n, "u1", &[&p1], 0, 10), 1);
        assert_eq!(
            ping(&mut n, "u1", &[&p1], 599_999, 10),
            0,
            "inside the cooldown"
        );
        assert_eq!(
            ping(&mut n, "u1", &[&p2], 1_000, 10),
            1,
            "another promotion"
        );
        assert_eq!(ping(&mut n, "u2", &[&p1], 1_000, 10), 1, "another customer");
        let long = "a uid longer than the table keeps inline, 0123456789abcdef";
        assert!(long.len() > INLINE_UID);
        assert_eq!(ping(&mut n, long, &[&p1], 1_000, 10), 1, "a long uid");
        assert_eq!(ping(&mut n, long, &[&p1], 2_000, 10), 0, "known by it");
        let again = offer(&mut n, &[nearby("u1", &p1, 600_000, 10)]);
        assert_eq!(again.len(), 1, "cooldown over at exactly 10 min");
        assert_eq!(
            again[0].matches, 2,
            "it stands for the held record and itself"
        );
        assert_eq!((n.raw_count(), n.notified_count()), (7, 5));
        assert_eq!(n.held_back().rule, 2);
    }

    #[test]
    fn every_notifies_each_record() {
        let mut n = notifier(no_cap(NotifyRule::Every));
        let p = promo("p");
        for t in 0..50 {
            assert_eq!(ping(&mut n, "u", &[&p], t * 5_000, 10), 1);
        }
    }

    #[test]
    fn enter_fires_on_coming_in_and_jitter_inside_the_hysteresis_does_not_retrigger() {
        let mut n = notifier(no_cap(NotifyRule::Enter));
        let p = promo("p");
        assert!(ft(26) < RADIUS_FT && ft(28) > RADIUS_FT && ft(29) < 110.0 && ft(31) > 110.0);
        assert_eq!(ping(&mut n, "u", &[&p], 0, 26), 1, "came within the radius");
        assert_eq!(ping(&mut n, "u", &[&p], 5_000, 20), 0, "still inside");
        assert_eq!(
            ping(&mut n, "u", &[&p], 10_000, 29),
            0,
            "out of the radius, in the margin"
        );
        assert_eq!(
            ping(&mut n, "u", &[&p], 15_000, 26),
            0,
            "jitter back in: no new enter"
        );
        assert_eq!(
            ping(&mut n, "u", &[&p], 20_000, 31),
            0,
            "past radius + 10 ft: left"
        );
        assert_eq!(ping(&mut n, "u", &[&p], 25_000, 26), 1, "came back in");
    }

    #[test]
    fn leaving_is_past_the_margin_not_at_it() {
        // A radius chosen so that radius + margin is exactly a representable distance.
        let edge = ft(30);
        let mut n = Notifier::new(no_cap(NotifyRule::Enter), edge - 10.0, KM_TO_FT);
        let p = promo("p");
        let at = |units| customer("u", units);
        assert_eq!(
            ping_with(&mut n, &at(0), 0, &[nearby("u", &p, 0, 0)]).len(),
            1
        );
        assert!(ping_with(&mut n, &at(30), 5_000, &[]).is_empty());
        assert_eq!(
            ping_with(&mut n, &at(0), 6_000, &[nearby("u", &p, 6_000, 0)]).len(),
            0,
            "at the edge: inside"
        );
        assert!(ping_with(&mut n, &at(31), 10_000, &[]).is_empty());
        assert_eq!(
            ping_with(&mut n, &at(0), 11_000, &[nearby("u", &p, 11_000, 0)]).len(),
            1,
            "past it: left"
        );
    }

    #[test]
    fn dwell_fires_at_n_ms_not_before_and_once_a_visit() {
        let dwell = NotifyParams {
            dwell_ms: 60_000,
            ..no_cap(NotifyRule::Dwell)
        };
        let mut n = notifier(dwell);
        let p = promo("p");
        assert_eq!(ping(&mut n, "u", &[&p], 1_000, 10), 0, "just came in");
        assert_eq!(ping(&mut n, "u", &[&p], 60_999, 10), 0, "N − 1 ms");
        assert_eq!(ping(&mut n, "u", &[&p], 61_000, 10), 1, "N ms");
        assert_eq!(ping(&mut n, "u", &[&p], 200_000, 10), 0, "once a visit");
        assert_eq!(ping(&mut n, "u", &[&p], 205_000, 40), 0, "left");
        assert_eq!(ping(&mut n, "u", &[&p], 210_000, 10), 0, "back");
        assert_eq!(ping(&mut n, "u", &[&p], 270_000, 10), 1, "dwelt again");
    }

    #[test]
    fn valid_until_ends_notifications_after_its_instant() {
        let mut n = notifier(no_cap(NotifyRule::Every));
        let p = Promo {
            valid_until: Some("2025-11-26T09:00:00Z"),
            ..promo("p")
        };
        let until = 1_764_147_600_000;
        assert_eq!(ping(&mut n, "u", &[&p], until, 10), 1, "at the instant");
        assert_eq!(ping(&mut n, "u", &[&p], until + 1, 10), 0, "1 ms after");
        assert_eq!(n.held_back().expired, 1);
        let unreadable = Promo {
            valid_until: Some("next week"),
            ..promo("q")
        };
        assert_eq!(ping(&mut n, "u", &[&unreadable], until + 2, 10), 1);
    }

    #[test]
    fn the_cap_keeps_the_highest_discounts_ties_by_pid_and_frees_up_after_an_hour() {
        let capped = NotifyParams {
            cap_per_hour: 2,
            ..no_cap(NotifyRule::Cooldown)
        };
        let mut n = notifier(capped);
        let ten = Promo {
            discount: 10,
            ..promo("a-ten")
        };
        let twenty_b = Promo {
            discount: 20,
            ..promo("b-twenty")
        };
        let twenty_a = Promo {
            discount: 20,
            ..promo("a-twenty")
        };
        let batch = [
            nearby("u", &ten, 0, 10),
            nearby("u", &twenty_b, 0, 10),
            nearby("u", &twenty_a, 0, 10),
        ];
        let sent: Vec<String> = offer(&mut n, &batch)
            .iter()
            .map(|x| x.pid.to_string())
            .collect();
        assert_eq!(sent, ["a-twenty", "b-twenty"]);
        assert_eq!(n.held_back().cap, 1);
        let ten_later = |t: i64| nearby("u", &ten, t, 10);
        assert!(
            offer(&mut n, &[ten_later(3_599_999)]).is_empty(),
            "the hour is not over"
        );
        assert_eq!(
            offer(&mut n, &[ten_later(3_600_000)]).len(),
            1,
            "an hour after both"
        );
    }

    #[test]
    fn a_segment_promotion_matching_several_products_is_one_notification_at_the_nearest() {
        let mut n = notifier(no_cap(NotifyRule::Cooldown));
        let far = promo("seg");
        let near = Promo {
            sku: 8,
            ..promo("seg")
        };
        let sent = offer(
            &mut n,
            &[nearby("u", &far, 0, 20), nearby("u", &near, 0, 5)],
        );
        assert_eq!(sent.len(), 1);
        assert_eq!((sent[0].sku, sent[0].matches), (Some(8), 2));
        assert!((sent[0].dist_to_store_ft - ft(5)).abs() < 1e-9);
    }

    #[test]
    fn a_promotion_re_published_with_the_same_pid_keeps_its_cooldown() {
        let mut n = notifier(no_cap(NotifyRule::Cooldown));
        assert_eq!(offer(&mut n, &[nearby("u", &promo("p"), 0, 10)]).len(), 1);
        let republished = Promo {
            discount: 30,
            ..promo("p")
        };
        assert!(offer(&mut n, &[nearby("u", &republished, 60_000, 10)]).is_empty());
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
        // A sweep re-indexes by the real hashes; both are still found by uid.
        shoppers.retain(|_| true);
        assert_eq!(shoppers.get_mut(&Arc::from("b")).map(|s| s.inside), Some(2));
        assert_eq!(shoppers.get_mut(&Arc::from("a")).map(|s| s.inside), Some(1));
    }

    #[test]
    fn records_without_uid_or_pid_never_notify_and_old_pairs_are_forgotten() {
        let mut n = notifier(no_cap(NotifyRule::Cooldown));
        let mut no_uid = nearby("u", &promo("p"), 0, 10);
        Arc::make_mut(&mut no_uid.customer).uid = None;
        assert!(offer(&mut n, &[no_uid]).is_empty());
        assert_eq!(n.held_back().unaddressed, 1);
        for i in 0..1_000 {
            offer(
                &mut n,
                &[nearby(&format!("u{i}"), &promo("p"), i * 60_000, 10)],
            );
        }
        assert!(n.tracked() < 200, "{} pairs kept", n.tracked());
        assert!(n.customers() < 200, "{} customers kept", n.customers());
    }
}
