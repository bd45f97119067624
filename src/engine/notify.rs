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

use std::collections::VecDeque;
use std::sync::Arc;

use rust_decimal::Decimal;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use super::geo::{geo_distance_km_deg, LatLonDeg};
use super::nearby_join::NearbyCustomer;
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

#[derive(Clone, Debug)]
struct PairState {
    inside: bool,
    entered_ms: i64,
    last_seen_ms: i64,
    last_notified_ms: Option<i64>,
    notified_this_visit: bool,
    /// Records since the last notification.
    matches: u64,
    /// The nearest product of the last match: leaving is measured from it.
    product_at: Option<LatLonDeg>,
}

/// A shopper's pairs, by pid (looked up by `&str`: no key is cloned per record).
#[derive(Clone, Debug, Default)]
struct CustomerState {
    pairs: FxHashMap<Arc<str>, PairState>,
    /// Pairs the shopper is inside of (a ping with none inside checks nothing).
    inside: usize,
    /// Notification times within the cap's window.
    recent: VecDeque<i64>,
}

/// One pair's records in one batch, folded.
struct Candidate<'a> {
    nearest: &'a NearbyCustomer,
    uid: &'a Arc<str>,
    pid: &'a Arc<str>,
    records: u64,
}

/// Applies the rule, `valid_until` and the cap.
#[derive(Clone, Debug)]
pub struct Notifier {
    params: NotifyParams,
    /// Leaving a geofence takes being farther than this from its product.
    exit_ft: f64,
    km_to_ft: f64,
    customers: FxHashMap<Arc<str>, CustomerState>,
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
            customers: FxHashMap::default(),
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
        self.customers.values().map(|c| c.pairs.len()).sum()
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

    /// Every ping (at `ts_ms`), before or after its records are offered: a shopper who is now
    /// farther than the radius plus the hysteresis from a promotion's product has left its
    /// geofence. Pairs the ping matched (seen at `ts_ms` or later) are inside and not checked.
    pub fn observe_ping(&mut self, customer: &Customer, ts_ms: i64) {
        let (Some(uid), Some(at)) = (customer.uid.as_ref(), customer.position()) else {
            return;
        };
        let Some(state) = self.customers.get_mut(&**uid) else {
            return;
        };
        if state.inside == 0 {
            return;
        }
        let (lat, lon) = (at.lat.to_f64(), at.lon.to_f64());
        let (exit_ft, km_to_ft) = (self.exit_ft, self.km_to_ft);
        // Metres per degree, for a cheap first look: only pairs near the edge need ksqlDB's
        // formula, which then decides exactly as matching does.
        let ft_per_deg_lat = 111.195 * km_to_ft;
        let ft_per_deg_lon = ft_per_deg_lat * lat.to_radians().cos();
        for pair in state
            .pairs
            .values_mut()
            .filter(|p| p.inside && p.last_seen_ms < ts_ms)
        {
            let Some(p) = pair.product_at else {
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

    /// The NEARBY_CUSTOMERS records one input record produced (usually one ping's); returns
    /// the notifications they give, highest discount first for each shopper.
    pub fn offer<'a>(
        &mut self,
        nearby: impl IntoIterator<Item = &'a NearbyCustomer>,
    ) -> Vec<Notification> {
        let mut candidates: Vec<Candidate<'a>> = Vec::new();
        // Where each pair's candidate is. A record usually belongs to the same pair as the
        // one before it (the records of one ping share their uid's and promotion's
        // allocations), so that is tried first, by pointer; a product or promotion record can
        // bring matches for many shoppers at once, hence the map rather than a scan.
        let mut index: FxHashMap<(&'a str, &'a str), usize> = FxHashMap::default();
        let mut last: Option<usize> = None;
        for n in nearby {
            self.raw += 1;
            let (Some(uid), Some(pid)) = (n.customer.uid.as_ref(), n.valid.promotion.pid.as_ref())
            else {
                self.held.unaddressed += 1;
                continue;
            };
            // `every` notifies each record, as the original pushed each one.
            let each = self.params.rule == NotifyRule::Every;
            let same_as_last = last.filter(|_| !each).filter(|&i| {
                let c = &candidates[i];
                Arc::ptr_eq(c.uid, uid) && Arc::ptr_eq(c.pid, pid)
            });
            let at = same_as_last.or_else(|| {
                (!each)
                    .then(|| index.get(&(&**uid, &**pid)).copied())
                    .flatten()
            });
            match at {
                // A segment promotion matches several products: one candidate per pair, at
                // its nearest product.
                Some(i) => {
                    let c = &mut candidates[i];
                    c.records += 1;
                    if n.dist_to_store_ft < c.nearest.dist_to_store_ft {
                        c.nearest = n;
                    }
                    last = Some(i);
                }
                None => {
                    index.insert((&**uid, &**pid), candidates.len());
                    last = Some(candidates.len());
                    candidates.push(Candidate {
                        nearest: n,
                        uid,
                        pid,
                        records: 1,
                    });
                }
            }
        }
        if candidates.is_empty() {
            return Vec::new();
        }
        if let Some(now) = candidates.iter().map(|c| c.nearest.timestamp_ms).max() {
            self.forget_before(now - FORGET_AFTER_MS);
        }
        // Per shopper, highest discount first (ties by pid): the order the cap takes them in.
        let discount = |c: &Candidate<'_>| c.nearest.valid.promotion.discount_pct;
        candidates.sort_by(|a, b| {
            let uid = if Arc::ptr_eq(a.uid, b.uid) {
                std::cmp::Ordering::Equal
            } else {
                a.uid.cmp(b.uid)
            };
            uid.then_with(|| discount(b).cmp(&discount(a)))
                .then_with(|| a.pid.cmp(b.pid))
        });
        let mut out = Vec::new();
        let mut at = 0;
        while at < candidates.len() {
            let uid = candidates[at].uid;
            let end = at
                + candidates[at..]
                    .iter()
                    .take_while(|c| Arc::ptr_eq(c.uid, uid) || c.uid == uid)
                    .count();
            // One lookup of the shopper for all their candidates.
            if !self.customers.contains_key(&**uid) {
                self.customers
                    .insert(Arc::clone(uid), CustomerState::default());
            }
            let Some(customer) = self.customers.get_mut(&**uid) else {
                break;
            };
            for c in &candidates[at..end] {
                if !step_pair(customer, c, &self.params) {
                    self.held.rule += c.records;
                    continue;
                }
                let ts = c.nearest.timestamp_ms;
                if expired(c.nearest, ts) {
                    self.held.expired += c.records;
                    continue;
                }
                while customer
                    .recent
                    .front()
                    .is_some_and(|t| *t <= ts - CAP_WINDOW_MS)
                {
                    customer.recent.pop_front();
                }
                let cap = self.params.cap_per_hour as usize;
                if cap > 0 && customer.recent.len() >= cap {
                    self.held.cap += c.records;
                    continue;
                }
                customer.recent.push_back(ts);
                let Some(pair) = customer.pairs.get_mut(&**c.pid) else {
                    continue;
                };
                pair.last_notified_ms = Some(ts);
                pair.notified_this_visit = true;
                let matches = std::mem::take(&mut pair.matches);
                self.notified += 1;
                let n = c.nearest;
                out.push(Notification {
                    timestamp_ms: ts,
                    uid: Arc::clone(c.uid),
                    pid: Arc::clone(c.pid),
                    sku: n.valid.product.sku,
                    segment: n.valid.product.segment.clone(),
                    title: n.valid.promotion.title.clone(),
                    discount_pct: n.valid.promotion.discount_pct,
                    product_at: product_at(n),
                    dist_to_store_ft: n.dist_to_store_ft,
                    matches,
                });
            }
            at = end;
        }
        out
    }

    /// Forgets pairs (and shoppers) last seen before `cutoff_ms`; sweeps at most every 10
    /// minutes of record time.
    fn forget_before(&mut self, cutoff_ms: i64) {
        if cutoff_ms < self.swept_ms.saturating_add(10 * 60_000) {
            return;
        }
        self.swept_ms = cutoff_ms;
        self.customers.retain(|_, c| {
            c.pairs.retain(|_, p| p.last_seen_ms >= cutoff_ms);
            c.inside = c.pairs.values().filter(|p| p.inside).count();
            while c.recent.front().is_some_and(|t| *t < cutoff_ms) {
                c.recent.pop_front();
            }
            !c.pairs.is_empty() || !c.recent.is_empty()
        });
    }
}

/// Updates a shopper's pair with this batch's records of it; whether the rule fires.
fn step_pair(customer: &mut CustomerState, c: &Candidate<'_>, params: &NotifyParams) -> bool {
    let ts = c.nearest.timestamp_ms;
    let new_pair = || PairState {
        inside: false,
        entered_ms: ts,
        last_seen_ms: ts,
        last_notified_ms: None,
        notified_this_visit: false,
        matches: 0,
        product_at: None,
    };
    let pair = match customer.pairs.get_mut(&**c.pid) {
        Some(pair) => pair,
        None => customer
            .pairs
            .entry(Arc::clone(c.pid))
            .or_insert_with(new_pair),
    };
    let entered = !pair.inside;
    if entered {
        pair.inside = true;
        pair.entered_ms = ts;
        pair.notified_this_visit = false;
        customer.inside += 1;
    }
    pair.last_seen_ms = pair.last_seen_ms.max(ts);
    pair.matches += c.records;
    pair.product_at = product_at(c.nearest).or(pair.product_at);
    match params.rule {
        NotifyRule::Every => true,
        NotifyRule::Cooldown => pair
            .last_notified_ms
            .is_none_or(|last| (ts - last).abs() >= params.cooldown_ms),
        NotifyRule::Enter => entered,
        NotifyRule::Dwell => !pair.notified_this_visit && ts - pair.entered_ms >= params.dwell_ms,
    }
}

fn product_at(n: &NearbyCustomer) -> Option<LatLonDeg> {
    n.valid.product.position().map(|p| LatLonDeg {
        lat_deg: p.lat.to_f64(),
        lon_deg: p.lon.to_f64(),
    })
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
        n.observe_ping(&customer(uid, units), ts);
        let records: Vec<NearbyCustomer> = if ft(units) <= RADIUS_FT {
            promos.iter().map(|p| nearby(uid, p, ts, units)).collect()
        } else {
            Vec::new()
        };
        n.offer(&records).len()
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
        let again = n.offer(&[nearby("u1", &p1, 600_000, 10)]);
        assert_eq!(again.len(), 1, "cooldown over at exactly 10 min");
        assert_eq!(
            again[0].matches, 2,
            "it stands for the held record and itself"
        );
        assert_eq!((n.raw_count(), n.notified_count()), (5, 4));
        assert_eq!(n.held_back().rule, 1);
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
        n.observe_ping(&customer("u", 0), 0);
        assert_eq!(n.offer(&[nearby("u", &p, 0, 0)]).len(), 1);
        n.observe_ping(&customer("u", 30), 5_000);
        assert_eq!(
            n.offer(&[nearby("u", &p, 5_000, 0)]).len(),
            0,
            "at the edge: inside"
        );
        n.observe_ping(&customer("u", 31), 10_000);
        assert_eq!(
            n.offer(&[nearby("u", &p, 10_000, 0)]).len(),
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
        n.observe_ping(&customer("u", 10), 0);
        let batch = [
            nearby("u", &ten, 0, 10),
            nearby("u", &twenty_b, 0, 10),
            nearby("u", &twenty_a, 0, 10),
        ];
        let sent: Vec<String> = n.offer(&batch).iter().map(|x| x.pid.to_string()).collect();
        assert_eq!(sent, ["a-twenty", "b-twenty"]);
        assert_eq!(n.held_back().cap, 1);
        let ten_later = |t: i64| nearby("u", &ten, t, 10);
        assert!(
            n.offer(&[ten_later(3_599_999)]).is_empty(),
            "the hour is not over"
        );
        assert_eq!(
            n.offer(&[ten_later(3_600_000)]).len(),
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
        let sent = n.offer(&[nearby("u", &far, 0, 20), nearby("u", &near, 0, 5)]);
        assert_eq!(sent.len(), 1);
        assert_eq!((sent[0].sku, sent[0].matches), (Some(8), 2));
        assert!((sent[0].dist_to_store_ft - ft(5)).abs() < 1e-9);
    }

    #[test]
    fn a_promotion_re_published_with_the_same_pid_keeps_its_cooldown() {
        let mut n = notifier(no_cap(NotifyRule::Cooldown));
        assert_eq!(n.offer(&[nearby("u", &promo("p"), 0, 10)]).len(), 1);
        let republished = Promo {
            discount: 30,
            ..promo("p")
        };
        assert!(n.offer(&[nearby("u", &republished, 60_000, 10)]).is_empty());
    }

    #[test]
    fn records_without_uid_or_pid_never_notify_and_old_pairs_are_forgotten() {
        let mut n = notifier(no_cap(NotifyRule::Cooldown));
        let mut no_uid = nearby("u", &promo("p"), 0, 10);
        Arc::make_mut(&mut no_uid.customer).uid = None;
        assert!(n.offer(&[no_uid]).is_empty());
        assert_eq!(n.held_back().unaddressed, 1);
        for i in 0..1_000 {
            n.offer(&[nearby(&format!("u{i}"), &promo("p"), i * 60_000, 10)]);
        }
        assert!(n.tracked() < 200, "{} pairs kept", n.tracked());
        assert!(n.customers() < 200, "{} customers kept", n.customers());
    }
}
