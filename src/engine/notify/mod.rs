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
//! State is kept per shopper (`shoppers`), their pairs by promotion id (`pids`): the cost per
//! record does not grow with the promotions a shopper has, and a ping's shopper is fetched
//! from memory while the join runs. One input record's matches are folded first (`batch`),
//! but for a ping whose shopper's cap is full, which is counted record by record (`capped`).
//! Pairs not seen for two hours are forgotten.

use std::sync::Arc;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

mod batch;
mod capped;
mod parts;
mod pids;
mod shoppers;

use batch::{nearby_at, Candidate, Scratch};
use pids::{PidId, PidIds};
use shoppers::{CustomerState, PairState, Shoppers, NEVER};

use super::geo::{geo_distance_km_deg, lon_east_of_deg, LatLon, LatLonDeg, LatLonUnits};
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

impl HeldBack {
    pub fn total(&self) -> u64 {
        self.rule + self.cap + self.expired + self.unaddressed
    }
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
    /// Records that made the notifications sent (a pair's records in one input record fold
    /// into one notification): with what was held back, every record is accounted for.
    notifying: u64,
    held: HeldBack,
    /// Whether a capped shopper's ping takes [`Notifier::capped_ping`] (tests compare it off).
    fast_capped: bool,
    /// A record's outputs offered in parts so far ([`Notifier::offer_part`]).
    parts: parts::Parts,
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
            notifying: 0,
            held: HeldBack::default(),
            fast_capped: true,
            parts: parts::Parts::default(),
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

    /// Memory its state holds, roughly (a checkpoint copies it whole).
    pub fn estimated_bytes(&self) -> u64 {
        (self.customers.estimated_bytes() + self.pids.estimated_bytes()) as u64
    }

    /// NEARBY_CUSTOMERS records seen.
    pub fn raw_count(&self) -> u64 {
        self.raw
    }

    /// Notifications sent.
    pub fn notified_count(&self) -> u64 {
        self.notified
    }

    /// NEARBY_CUSTOMERS records that made a notification: `raw_count` is this plus
    /// everything [`Notifier::held_back`] counts.
    pub fn notifying_count(&self) -> u64 {
        self.notifying
    }

    pub fn held_back(&self) -> HeldBack {
        self.held
    }

    /// Whether the rule needs to know when a shopper leaves a geofence: only then does
    /// `on_record` look at the ping.
    fn tracks_exits(&self) -> bool {
        matches!(self.params.rule, NotifyRule::Enter | NotifyRule::Dwell)
    }

    /// A ping (at `ts_ms`) is on its way into the join: where its shopper's state is gets
    /// fetched into the cache while the join works, instead of stalling `on_record` after it
    /// (for thousands of shoppers, finding them was the largest cost of the rules). Returns
    /// the ping for `on_record` when its rule needs it (the exits of `enter` and `dwell`).
    pub fn expect_ping(&mut self, customer: &Customer, ts_ms: i64) -> Option<(Customer, i64)> {
        self.customers.expect(customer.uid.as_ref());
        self.tracks_exits().then(|| (customer.clone(), ts_ms))
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
        ping: Option<&(Customer, i64)>,
    ) -> Vec<Notification> {
        let mut out = Vec::new();
        self.on_record_into(outputs, ping, &mut out);
        out
    }

    /// [`Notifier::on_record`], appending to `out`: a run reuses one vector for every
    /// record.
    pub fn on_record_into(
        &mut self,
        outputs: &[Output],
        ping: Option<&(Customer, i64)>,
        out: &mut Vec<Notification>,
    ) {
        // Most records match nothing (a ping outside every geofence, a product): nothing to
        // fold, and no exits to check unless the rule tracks them.
        if outputs.is_empty() && !self.tracks_exits() {
            return;
        }
        let ping = ping
            .filter(|_| self.tracks_exits())
            .and_then(|(c, ts)| Some((c.uid.as_ref()?, c.position()?, *ts)));
        if self.fast_capped && self.capped_ping(outputs) {
            // Its stamps move on with every input record, taken here or not.
            self.scratch.clear();
            return;
        }
        self.collect(outputs);
        self.settle(outputs, ping, out);
    }

    /// The rules, `valid_until` and the cap over the candidates `collect` folded from
    /// `outputs`; then, for a ping, the geofences it did not match.
    fn settle(
        &mut self,
        outputs: &[Output],
        ping: Option<(&Arc<str>, LatLon, i64)>,
        out: &mut Vec<Notification>,
    ) {
        let mut ping_checked = false;
        if !self.scratch.candidates.is_empty() {
            if let Some(now) = self
                .scratch
                .candidates
                .iter()
                .filter_map(|c| nearby_at(outputs, c.nearest as usize))
                .map(|n| n.timestamp_ms)
                .max()
            {
                self.forget_before(now - FORGET_AFTER_MS);
            }
            self.sort_candidates(outputs);
            let mut at = 0;
            let mut candidates = std::mem::take(&mut self.scratch.candidates);
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
                    &mut candidates[at..end],
                    shopper,
                    this_ping.map(|(_, at, ts)| (at, ts)),
                    out,
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
    }

    /// Counts `output` when it is a match, and returns it with its uid and pid when it has
    /// both (a match without either can notify no one, and is counted as such).
    #[inline(always)]
    fn count_match<'a>(
        &mut self,
        output: &'a Output,
    ) -> Option<(&'a NearbyCustomer, &'a Arc<str>, &'a Arc<str>)> {
        let Output::NearbyCustomer(n) = output else {
            return None;
        };
        self.raw += 1;
        let (Some(uid), Some(pid)) = (n.customer.uid.as_ref(), n.valid.promotion.pid.as_ref())
        else {
            self.held.unaddressed += 1;
            return None;
        };
        Some((n, uid, pid))
    }

    /// Folds the records into one candidate per (shopper, promotion) (per record for
    /// `every`, which notifies each record as the original pushed each one).
    fn collect(&mut self, outputs: &[Output]) {
        let each = self.params.rule == NotifyRule::Every;
        // A record usually belongs to the same shopper, and often the same pair, as the one
        // before it (the records of one ping share their uid's and promotion's allocations),
        // so those are tried first, by address.
        let mut last_uid: Option<(&Arc<str>, u32)> = None;
        let mut last_pid: Option<(&Arc<str>, PidId)> = None;
        let mut last_slot: Option<usize> = None;
        for (i, output) in outputs.iter().enumerate() {
            let Some((n, uid, pid)) = self.count_match(output) else {
                continue;
            };
            let (shopper, same_shopper) = match last_uid {
                Some((last, shopper)) if Arc::ptr_eq(last, uid) => (shopper, true),
                _ => (self.scratch.shopper(outputs, uid, i), false),
            };
            let (pid_id, same_pid) = match last_pid {
                Some((last, id)) if Arc::ptr_eq(last, pid) => (id, true),
                _ => (self.pids.id(pid), false),
            };
            last_uid = Some((uid, shopper));
            last_pid = Some((pid, pid_id));
            let slot = if each {
                None
            } else if same_shopper && same_pid {
                last_slot
            } else {
                self.scratch.slot(shopper, pid_id)
            };
            let Some(slot) = slot else {
                // Outputs are indexed by u32: a record's matches fit in memory long before.
                let at = i as u32;
                last_slot = Some(self.scratch.push(Candidate {
                    shopper,
                    pid: pid_id,
                    first: at,
                    nearest: at,
                    records: 1,
                    pair: None,
                    fires: false,
                }));
                continue;
            };
            let Some(c) = self.scratch.candidates.get_mut(slot) else {
                continue;
            };
            c.records += 1;
            // A segment promotion matches several products: the pair's nearest one.
            let nearer = nearby_at(outputs, c.nearest as usize)
                .is_none_or(|prev| n.dist_to_store_ft < prev.dist_to_store_ft);
            if nearer {
                c.nearest = i as u32;
            }
            last_slot = Some(slot);
        }
    }

    /// Groups the candidates by shopper, in the order of their uids (a ping has one shopper:
    /// nothing to do). Within a shopper the candidates stay in record order; `decide` puts
    /// those that fire in the cap's order.
    fn sort_candidates(&mut self, outputs: &[Output]) {
        let scratch = &mut self.scratch;
        if scratch.shoppers.len() < 2 {
            return;
        }
        let mut by_uid: Vec<u32> = (0..scratch.shoppers.len() as u32).collect();
        by_uid.sort_by_key(|shopper| scratch.uid(outputs, *shopper));
        let mut rank = vec![0; by_uid.len()];
        for (r, shopper) in by_uid.into_iter().enumerate() {
            rank[shopper as usize] = r as u32;
        }
        let rank_of = |shopper: u32| rank.get(shopper as usize).copied().unwrap_or(0);
        scratch.candidates.sort_by_key(|c| rank_of(c.shopper));
    }

    /// One shopper's candidates: the rule and `valid_until` for each, then the cap over those
    /// that fire, highest discount first (ties by pid); then, for their ping, the geofences it
    /// did not match.
    ///
    /// The rule is applied in record order and the cap in its own order, in two passes: each
    /// candidate is its own pair (or, under `every`, a record whose rule always fires), so the
    /// rule's answer for one does not depend on another's notification, and sorting is left
    /// to the few records where something fires. A pair's records are added to its count in
    /// the cap's order, so a notification counts exactly the records before it.
    fn decide(
        &mut self,
        outputs: &[Output],
        candidates: &mut [Candidate],
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
        let each = self.params.rule == NotifyRule::Every;
        let mut firing = 0usize;
        let mut latest_firing_ms = i64::MIN;
        for c in candidates.iter_mut() {
            let Some(n) = nearby_at(outputs, c.nearest as usize) else {
                continue;
            };
            let step = step_pair(customer, c, n, &self.params, seen_since);
            matched_now += u32::from(step.now_seen);
            c.pair = Some(step.pair as u32);
            if !step.fires {
                self.held.rule += u64::from(c.records);
            } else if expired(n, n.timestamp_ms) {
                self.held.expired += u64::from(c.records);
            } else {
                c.fires = true;
                firing += 1;
                latest_firing_ms = latest_firing_ms.max(n.timestamp_ms);
                continue;
            }
            // Its own pair's records (under `every`, a pair's records are counted below, in
            // the cap's order, as its notifications take them).
            if !each {
                if let Some(pair) = customer.pairs.at_mut(step.pair) {
                    pair.matches += u64::from(c.records);
                }
            }
        }
        let cap = self.params.cap_per_hour as usize;
        // A shopper whose cap is full even at the latest of these times gets none of them
        // (fewer notifications fall out of the window at an earlier time): no order to find.
        // The busy shopper of a dense store is usually here.
        let capped_until = (firing > 0 && cap > 0)
            .then(|| {
                let since = latest_firing_ms - CAP_WINDOW_MS;
                let within = customer.recent.iter().filter(|t| **t > since).count();
                (within >= cap).then_some(since)
            })
            .flatten();
        if let Some(since) = capped_until {
            customer.forget_recent_until(since);
        }
        if firing == 0 || capped_until.is_some() {
            for c in candidates.iter().filter(|c| c.fires || each) {
                if let Some(pair) = c.pair.and_then(|pair| customer.pairs.at_mut(pair as usize)) {
                    pair.matches += u64::from(c.records);
                }
                if c.fires {
                    self.held.cap += u64::from(c.records);
                }
            }
        } else {
            let order = &mut self.scratch.order;
            order.clear();
            order.extend((0..candidates.len()).filter(|k| candidates[*k].fires || each));
            if order.len() > 1 {
                let pids = &self.pids;
                order.sort_by(|a, b| {
                    let (a, b) = (&candidates[*a], &candidates[*b]);
                    b.discount(outputs).cmp(&a.discount(outputs)).then_with(|| {
                        if a.pid == b.pid {
                            std::cmp::Ordering::Equal
                        } else {
                            pids.text(a.pid).cmp(pids.text(b.pid))
                        }
                    })
                });
            }
            for &k in order.iter() {
                let Some(c) = candidates.get(k) else { continue };
                let Some(pair) = c.pair.map(|pair| pair as usize) else {
                    continue;
                };
                let Some(state) = customer.pairs.at_mut(pair) else {
                    continue;
                };
                state.matches += u64::from(c.records);
                let Some(n) = nearby_at(outputs, c.nearest as usize).filter(|_| c.fires) else {
                    continue;
                };
                let ts = n.timestamp_ms;
                customer.forget_recent_until(ts - CAP_WINDOW_MS);
                if cap > 0 && customer.recent.len() >= cap {
                    self.held.cap += u64::from(c.records);
                    continue;
                }
                customer.recent.push(ts);
                let Some(state) = customer.pairs.at_mut(pair) else {
                    continue;
                };
                state.last_notified_ms = ts;
                state.notified_this_visit = true;
                let matches = std::mem::take(&mut state.matches);
                self.notified += 1;
                self.notifying += u64::from(c.records);
                let (Some(uid), Some(pid)) =
                    (n.customer.uid.as_ref(), n.valid.promotion.pid.as_ref())
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
        let Some(p) = pair.product_at.lat_lon().map(degrees) else {
            continue;
        };
        // East the short way round: a product across the antimeridian is feet away.
        let (dy, dx) = (
            (p.lat_deg - lat) * ft_per_deg_lat,
            lon_east_of_deg(p.lon_deg, lon) * ft_per_deg_lon,
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
    /// The pair's index in the shopper's table.
    pair: usize,
    /// The rule says notify.
    fires: bool,
    /// The pair was not inside-and-seen-since the ping before, and is now.
    now_seen: bool,
}

/// Updates a shopper's pair with one input record's records of it (`n` the nearest); the
/// records are counted by `decide`, in the cap's order.
fn step_pair(
    customer: &mut CustomerState,
    c: &Candidate,
    n: &NearbyCustomer,
    params: &NotifyParams,
    seen_since: i64,
) -> Step {
    let ts = n.timestamp_ms;
    let CustomerState { pairs, inside, .. } = customer;
    let (index, pair) = pairs.get_or_insert_with(c.pid, || PairState::new(c.pid, ts));
    // `every` and `cooldown` look at nothing but the times: the visit (inside, entered, the
    // product to measure leaving from) is kept only for the rules that use it.
    let fires = match params.rule {
        NotifyRule::Every => true,
        NotifyRule::Cooldown => cooled_down(pair, ts, params),
        NotifyRule::Enter | NotifyRule::Dwell => {
            return step_visit(inside, index, pair, n, params, seen_since);
        }
    };
    pair.last_seen_ms = pair.last_seen_ms.max(ts);
    Step {
        pair: index,
        fires,
        now_seen: false,
    }
}

/// `cooldown`: whether a record at `ts_ms` may notify its pair again.
fn cooled_down(pair: &PairState, ts_ms: i64, params: &NotifyParams) -> bool {
    pair.last_notified_ms == NEVER
        || ts_ms.abs_diff(pair.last_notified_ms) >= u64::try_from(params.cooldown_ms).unwrap_or(0)
}

/// `enter` and `dwell`: the pair's visit, and whether it notifies.
fn step_visit(
    inside: &mut u32,
    index: usize,
    pair: &mut PairState,
    n: &NearbyCustomer,
    params: &NotifyParams,
    seen_since: i64,
) -> Step {
    let ts = n.timestamp_ms;
    let seen_before = pair.inside && pair.last_seen_ms >= seen_since;
    let entered = !pair.inside;
    if entered {
        pair.inside = true;
        pair.entered_ms = ts;
        pair.notified_this_visit = false;
        *inside += 1;
    }
    pair.last_seen_ms = pair.last_seen_ms.max(ts);
    if let Some(at) = n.valid.product.position().and_then(LatLonUnits::new) {
        pair.product_at = at;
    }
    let fires = match params.rule {
        NotifyRule::Dwell => !pair.notified_this_visit && ts - pair.entered_ms >= params.dwell_ms,
        _ => entered,
    };
    Step {
        pair: index,
        fires,
        now_seen: !seen_before && pair.last_seen_ms >= seen_since,
    }
}

/// Where the promoted product of a match sits, in degrees (how places are named).
pub fn product_at(n: &NearbyCustomer) -> Option<LatLonDeg> {
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
    use super::shoppers::INLINE_UID;
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
            ..Customer::default()
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
        n.on_record(&outputs(records), Some(&(customer.clone(), ts)))
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

    /// Leaving is measured the short way round: a shopper in the hysteresis margin across
    /// the antimeridian from the product has not left it, so coming back is no new enter.
    #[test]
    fn the_margin_holds_across_the_antimeridian() {
        let at_lon = |units: i64| Customer {
            uid: Some("u".into()),
            latitude: Decimal5::from_units(0),
            longitude: Decimal5::from_units(units),
            country: Some("FJI".into()),
            ..Customer::default()
        };
        let product_units = 17_999_995; // 179.99995°
        let across = at_lon(-17_999_999); // -179.99999°: 0.00006° east
        let feet = |c: &Customer| {
            let lon = c.longitude.map_or(0.0, Decimal5::to_f64);
            geo_distance_km_deg(0.0, lon, 0.0, 179.99995) * KM_TO_FT
        };
        let radius_ft = 15.0;
        assert!(feet(&across) > radius_ft && feet(&across) < radius_ft + 10.0);
        let mut n = Notifier::new(no_cap(NotifyRule::Enter), radius_ft, KM_TO_FT);
        let p = promo("p");
        let matched = |c: &Customer, ts: i64| {
            let mut record = nearby("u", &p, ts, 0);
            Arc::make_mut(&mut record.customer).longitude = c.longitude;
            let valid = Arc::make_mut(&mut record.valid);
            Arc::make_mut(&mut valid.product).longitude = Decimal5::from_units(product_units);
            Arc::make_mut(&mut valid.product).latitude = Decimal5::from_units(0);
            record.dist_to_store_ft = feet(c);
            record
        };
        let by_it = at_lon(product_units);
        assert_eq!(ping_with(&mut n, &by_it, 0, &[matched(&by_it, 0)]).len(), 1);
        assert!(ping_with(&mut n, &across, 5_000, &[]).is_empty());
        assert!(
            ping_with(&mut n, &by_it, 10_000, &[matched(&by_it, 10_000)]).is_empty(),
            "still inside: no new enter"
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

    /// Under `every`, one record can bring a pair twice (two versions of one pid, both still
    /// in the window). The cap takes them highest discount first, and a notification counts
    /// the pair's records before it in that order: what the cap or `valid_until` held back
    /// is counted by the next one.
    #[test]
    fn every_counts_a_pairs_records_in_the_caps_order() {
        let capped = NotifyParams {
            cap_per_hour: 1,
            ..no_cap(NotifyRule::Every)
        };
        let mut n = notifier(capped);
        let low = Promo {
            discount: 10,
            ..promo("p")
        };
        let high = Promo {
            discount: 20,
            ..promo("p")
        };
        let sent = offer(
            &mut n,
            &[nearby("u", &low, 0, 10), nearby("u", &high, 0, 10)],
        );
        let got: Vec<_> = sent.iter().map(|x| (x.discount_pct, x.matches)).collect();
        assert_eq!(got, [(Some(Decimal::from(20)), 1)]);
        assert_eq!(n.held_back().cap, 1);
        let sent = offer(&mut n, &[nearby("u", &high, 3_600_000, 10)]);
        assert_eq!(sent.iter().map(|x| x.matches).collect::<Vec<_>>(), [2]);

        let mut n = notifier(no_cap(NotifyRule::Every));
        let high_ended = Promo {
            discount: 20,
            valid_until: Some("1970-01-01T00:00:00Z"),
            ..promo("p")
        };
        let sent = offer(
            &mut n,
            &[nearby("u", &low, 5, 10), nearby("u", &high_ended, 5, 10)],
        );
        let got: Vec<_> = sent.iter().map(|x| (x.discount_pct, x.matches)).collect();
        assert_eq!(got, [(Some(Decimal::from(10)), 2)], "the ended one first");
        assert_eq!(n.held_back().expired, 1);
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
