//! A campaign's reach on recorded traffic, tallied from what its run gives: matches within
//! the radius, shoppers who came within twice the radius, and the notifications sent. The
//! report holds counts only — no uid leaves in it — per store, per hour of the campaign's
//! wall clock and per 10 ft of distance.

use std::sync::Arc;

use jiff::tz::TimeZone;
use jiff::Timestamp;
use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};

use super::gate::GateCounts;
use super::schedule::clock_label;
use crate::engine::notify::HeldBack;

/// Width of a distance bin.
const BIN_FT: f64 = 10.0;

/// Counts of one slice (a store, an hour, or everything).
#[derive(Clone, Debug, Default)]
struct Tally {
    matches: u64,
    notifications: u64,
    reached: FxHashSet<Arc<str>>,
}

/// Local hour boundaries, remembered for the hour last asked about: records come in time
/// order, so nearly every lookup is that hour.
#[derive(Clone, Debug)]
struct Hours {
    tz: TimeZone,
    /// The last hour asked about: its start, end and index in `Forecast::hours`.
    current: Option<(i64, i64, usize)>,
    index: FxHashMap<i64, usize>,
}

/// The start of the wall-clock hour holding `ms` (zones with half-hour offsets start their
/// hours at :30 UTC).
fn hour_start(tz: &TimeZone, ms: i64) -> i64 {
    let Ok(ts) = Timestamp::from_millisecond(ms) else {
        return ms;
    };
    let local = ts.to_zoned(tz.clone());
    let into_hour_ms = (i64::from(local.minute()) * 60 + i64::from(local.second())) * 1000
        + i64::from(local.millisecond());
    ms - into_hour_ms
}

/// The tally of one variant while its run goes on. Matches come by the hundred million on a
/// busy day, so a match costs an index and three additions: stores are numbered once
/// ([`Forecast::store_index`]), the current hour is remembered, and a ping's outputs share
/// one shopper.
#[derive(Clone, Debug)]
pub struct Forecast {
    name: String,
    radius_ft: f64,
    hours: Hours,
    total: Tally,
    stores: Vec<(String, Tally)>,
    store_index: FxHashMap<String, usize>,
    per_hour: Vec<(i64, Tally)>,
    /// Shoppers within twice the radius while the campaign was on.
    near: FxHashSet<Arc<str>>,
    last_near: Option<Arc<str>>,
    distance_bins: Vec<u64>,
}

impl Forecast {
    pub fn new(name: &str, radius_ft: f64, tz: TimeZone) -> Forecast {
        let bins = (radius_ft / BIN_FT).ceil().max(1.0) as usize;
        Forecast {
            name: name.to_owned(),
            radius_ft,
            hours: Hours {
                tz,
                current: None,
                index: FxHashMap::default(),
            },
            total: Tally::default(),
            stores: Vec::new(),
            store_index: FxHashMap::default(),
            per_hour: Vec::new(),
            near: FxHashSet::default(),
            last_near: None,
            distance_bins: vec![0; bins],
        }
    }

    /// The number the forecast gives `store` (a chain store's name or a site's label).
    pub fn store_index(&mut self, store: &str) -> usize {
        if let Some(&i) = self.store_index.get(store) {
            return i;
        }
        self.stores.push((store.to_owned(), Tally::default()));
        self.store_index
            .insert(store.to_owned(), self.stores.len() - 1);
        self.stores.len() - 1
    }

    fn hour_index(&mut self, ms: i64) -> usize {
        if let Some((start, end, i)) = self.hours.current {
            if (start..end).contains(&ms) {
                return i;
            }
        }
        let start = hour_start(&self.hours.tz, ms);
        let i = match self.hours.index.get(&start) {
            Some(&i) => i,
            None => {
                self.per_hour.push((start, Tally::default()));
                self.hours.index.insert(start, self.per_hour.len() - 1);
                self.per_hour.len() - 1
            }
        };
        self.hours.current = Some((start, start + 3_600_000, i));
        i
    }

    /// A NEARBY_CUSTOMERS record within the radius at a product in store number `store`.
    pub fn on_match(&mut self, uid: Option<&Arc<str>>, store: usize, ts_ms: i64) {
        self.total.matches += 1;
        if let Some((_, t)) = self.stores.get_mut(store) {
            t.matches += 1;
        }
        let hour = self.hour_index(ts_ms);
        self.per_hour[hour].1.matches += 1;
        self.on_near(uid);
    }

    /// A shopper within twice the radius while the campaign was on.
    pub fn on_near(&mut self, uid: Option<&Arc<str>>) {
        let Some(uid) = uid else { return };
        if self
            .last_near
            .as_ref()
            .is_some_and(|last| Arc::ptr_eq(last, uid))
        {
            return;
        }
        if !self.near.contains(uid) {
            self.near.insert(Arc::clone(uid));
        }
        self.last_near = Some(Arc::clone(uid));
    }

    /// A notification sent to `uid` for a product in store number `store`.
    pub fn on_notification(&mut self, uid: &Arc<str>, store: usize, ts_ms: i64, dist_ft: f64) {
        fn reach(t: &mut Tally, uid: &Arc<str>) {
            t.notifications += 1;
            if !t.reached.contains(uid) {
                t.reached.insert(Arc::clone(uid));
            }
        }
        reach(&mut self.total, uid);
        if let Some((_, t)) = self.stores.get_mut(store) {
            reach(t, uid);
        }
        let hour = self.hour_index(ts_ms);
        reach(&mut self.per_hour[hour].1, uid);
        let bin = ((dist_ft.max(0.0) / BIN_FT) as usize).min(self.distance_bins.len() - 1);
        self.distance_bins[bin] += 1;
    }

    /// The report, with what the rules and the gate held back.
    pub fn report(
        &self,
        held_back: HeldBack,
        gate: GateCounts,
        budget: Option<u64>,
    ) -> VariantForecast {
        let near_missed = self
            .near
            .iter()
            .filter(|uid| !self.total.reached.contains(*uid))
            .count() as u64;
        let mut per_store: Vec<SliceForecast> = self
            .stores
            .iter()
            .filter(|(_, t)| t.matches > 0 || t.notifications > 0)
            .map(|(store, t)| SliceForecast::of(store.clone(), None, t))
            .collect();
        per_store.sort_by(|a, b| {
            b.notifications
                .cmp(&a.notifications)
                .then(b.matches.cmp(&a.matches))
                .then(a.label.cmp(&b.label))
        });
        let mut hours: Vec<&(i64, Tally)> = self.per_hour.iter().collect();
        hours.sort_by_key(|(start, _)| *start);
        let per_hour = hours
            .into_iter()
            .map(|(start, t)| {
                SliceForecast::of(clock_label(&self.hours.tz, *start), Some(*start), t)
            })
            .collect();
        let distance_ft = self
            .distance_bins
            .iter()
            .enumerate()
            .map(|(i, &notifications)| DistanceBin {
                from_ft: i as f64 * BIN_FT,
                to_ft: ((i + 1) as f64 * BIN_FT).min(self.radius_ft.max(BIN_FT)),
                notifications,
            })
            .collect();
        VariantForecast {
            name: self.name.clone(),
            radius_ft: self.radius_ft,
            reached: self.total.reached.len() as u64,
            notifications: self.total.notifications,
            matches: self.total.matches,
            near_missed,
            budget,
            budget_used_pct: budget.map(|b| {
                if b == 0 {
                    100.0
                } else {
                    (self.total.notifications as f64 * 100.0 / b as f64 * 10.0).round() / 10.0
                }
            }),
            held_back: HeldBackCounts {
                rule: held_back.rule,
                cap: held_back.cap,
                expired: held_back.expired,
                unaddressed: held_back.unaddressed,
                budget: gate.over_budget,
            },
            other_store_matches: gate.other_store,
            per_store,
            per_hour,
            distance_ft,
        }
    }
}

/// One variant's forecast, as `instore plan --report` writes it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VariantForecast {
    pub name: String,
    pub radius_ft: f64,
    /// Unique shoppers who got at least one notification.
    pub reached: u64,
    pub notifications: u64,
    /// NEARBY_CUSTOMERS records of the campaign's promotions within the radius.
    pub matches: u64,
    /// Shoppers who came within twice the radius but got no notification.
    pub near_missed: u64,
    pub budget: Option<u64>,
    pub budget_used_pct: Option<f64>,
    /// Matches the notification rules, the cap, `valid_until` and the budget held back.
    pub held_back: HeldBackCounts,
    /// Matches at products in stores the campaign does not run in.
    pub other_store_matches: u64,
    /// Busiest first.
    pub per_store: Vec<SliceForecast>,
    /// In time order, labelled with the campaign's wall clock.
    pub per_hour: Vec<SliceForecast>,
    /// Notifications by the shopper's distance to the product.
    pub distance_ft: Vec<DistanceBin>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldBackCounts {
    pub rule: u64,
    pub cap: u64,
    pub expired: u64,
    pub unaddressed: u64,
    pub budget: u64,
}

/// A store's or an hour's numbers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SliceForecast {
    /// The store's name, or the hour's start on the campaign's clock.
    pub label: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_ms: Option<i64>,
    pub reached: u64,
    pub notifications: u64,
    pub matches: u64,
}

impl SliceForecast {
    fn of(label: String, start_ms: Option<i64>, t: &Tally) -> SliceForecast {
        SliceForecast {
            label,
            start_ms,
            reached: t.reached.len() as u64,
            notifications: t.notifications,
            matches: t.matches,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DistanceBin {
    pub from_ft: f64,
    pub to_ft: f64,
    pub notifications: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uid(s: &str) -> Arc<str> {
        Arc::from(s)
    }

    #[test]
    fn reach_is_unique_shoppers_and_near_misses_are_those_never_notified() {
        let tz = TimeZone::get("Europe/Berlin").expect("bundled zone");
        let mut f = Forecast::new("base", 100.0, tz);
        let t0 = 1_796_630_400_000; // 09:00 in Berlin
        let (a, b, c) = (uid("a"), uid("b"), uid("c"));
        let (lp, harbor) = (f.store_index("Loop"), f.store_index("Harbor"));
        assert_eq!(f.store_index("Loop"), lp);
        f.on_match(Some(&a), lp, t0);
        f.on_match(Some(&a), lp, t0 + 1_000);
        f.on_notification(&a, lp, t0 + 1_000, 35.0);
        f.on_notification(&a, harbor, t0 + 3_600_000, 100.0);
        f.on_match(Some(&b), harbor, t0 + 3_599_999);
        f.on_near(Some(&c));
        f.on_near(None);
        let r = f.report(HeldBack::default(), GateCounts::default(), Some(4));
        assert_eq!((r.reached, r.notifications, r.matches), (1, 2, 3));
        assert_eq!(
            r.near_missed, 2,
            "b matched and c passed by, neither notified"
        );
        assert_eq!(r.budget_used_pct, Some(50.0));
        let hours: Vec<_> = r
            .per_hour
            .iter()
            .map(|h| (h.label.as_str(), h.matches, h.notifications))
            .collect();
        assert_eq!(
            hours,
            vec![
                ("2026-12-07T09:00+01:00", 3, 1),
                ("2026-12-07T10:00+01:00", 0, 1)
            ]
        );
        assert_eq!(
            r.per_store[0].label, "Loop",
            "as many notifications, more matches"
        );
        assert_eq!(r.distance_ft.len(), 10);
        assert_eq!(r.distance_ft[3].notifications, 1);
        assert_eq!(
            r.distance_ft[9].notifications, 1,
            "the radius itself is in the last bin"
        );
    }

    #[test]
    fn hours_follow_a_half_hour_offset() {
        let tz = TimeZone::get("Asia/Kolkata").expect("bundled zone");
        let mut f = Forecast::new("x", 50.0, tz);
        // 03:29:59Z is 08:59:59 in Kolkata; 03:30Z is 09:00.
        let t = 1_796_614_200_000 - 1;
        let s = f.store_index("s");
        f.on_match(None, s, t + 1);
        f.on_match(None, s, t);
        let r = f.report(HeldBack::default(), GateCounts::default(), None);
        let labels: Vec<_> = r.per_hour.iter().map(|h| h.label.clone()).collect();
        assert_eq!(
            labels,
            vec!["2026-12-07T08:00+05:30", "2026-12-07T09:00+05:30"]
        );
    }
}
