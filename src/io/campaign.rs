//! A campaign inside a run: its announcements merged into the input by time (the input's own
//! promotions left out and counted, so the forecast is of this campaign alone), and the stage
//! between the join and the notification rules that keeps its matches and counts its reach.
//! `instore plan` and `instore run --campaign` both run through here: one code path, so a
//! forecast equals what the run writes on the same traffic.

use std::borrow::Cow;

use rustc_hash::FxHashMap;

use crate::engine::campaign::forecast::{Forecast, VariantForecast};
use crate::engine::campaign::gate::{CampaignGate, MatchVerdict};
use crate::engine::campaign::near::NearWatch;
use crate::engine::campaign::{announcements, Announcement, CampaignVariant, ResolvedSchedule};
use crate::engine::geo::{LatLon, LatLonDeg};
use crate::engine::notify::{product_at, HeldBack, Notification};
use crate::engine::record::{Customer, Product};
use crate::engine::{Output, Payload, RawRecord, Topic};
use crate::io::store_names::StoreNames;

/// The announcements still to come, and the input promotions left out.
#[derive(Clone, Debug)]
pub struct CampaignInput {
    announcements: Vec<Announcement>,
    next: usize,
    ignored_promotions: u64,
    /// The latest input record time (a forecast says when the traffic ended).
    last_ms: Option<i64>,
}

impl CampaignInput {
    pub fn new(
        variant: &CampaignVariant,
        schedule: &ResolvedSchedule,
        every_ms: i64,
    ) -> CampaignInput {
        CampaignInput {
            announcements: announcements(variant, schedule, every_ms),
            next: 0,
            ignored_promotions: 0,
            last_ms: None,
        }
    }

    /// Whether an input record goes to the engine: the input's own promotions do not.
    pub fn admits(&mut self, record: &RawRecord<'_>) -> bool {
        if let Some(ts) = record.timestamp_ms {
            self.last_ms = Some(self.last_ms.map_or(ts, |l| l.max(ts)));
        }
        let foreign = Topic::from_name(&record.topic) == Some(Topic::ProductsPromotions);
        self.ignored_promotions += u64::from(foreign);
        !foreign
    }

    /// The next announcement due at or before `ts_ms`, as a record of `products_promotions`
    /// keyed by its pid, its offset its place in the plan.
    pub fn next_due(&mut self, ts_ms: i64) -> Option<RawRecord<'static>> {
        let a = self.announcements.get(self.next)?;
        if a.at_ms > ts_ms {
            return None;
        }
        let record = RawRecord {
            topic: Cow::Borrowed(Topic::ProductsPromotions.name()),
            partition: 0,
            offset: self.next as i64,
            timestamp_ms: Some(a.at_ms),
            key: Some(Cow::Owned(a.record.pid.clone())),
            headers: Vec::new(),
            payload: Some(Payload::from(a.record.to_json())),
        };
        self.next += 1;
        Some(record)
    }

    /// Announcements in the plan, and how many the input's time reached.
    pub fn announced(&self) -> (usize, usize) {
        (self.announcements.len(), self.next)
    }

    pub fn ignored_promotions(&self) -> u64 {
        self.ignored_promotions
    }

    /// The latest time of an input record so far.
    pub fn last_ms(&self) -> Option<i64> {
        self.last_ms
    }
}

/// Between the join and the notification rules: the gate, the forecast and its near-miss
/// watch (when planning) and each promotion's MESSAGE template.
#[derive(Clone, Debug)]
pub struct CampaignStage {
    pub gate: CampaignGate,
    forecast: Option<(Forecast, NearWatch)>,
    templates: FxHashMap<String, String>,
    /// By the place's number in the store names: whether the campaign runs there, and the
    /// store's number in the forecast.
    places: Vec<Option<(bool, usize)>>,
}

impl CampaignStage {
    pub fn new(
        variant: &CampaignVariant,
        forecast: Option<(Forecast, NearWatch)>,
    ) -> CampaignStage {
        let templates = variant
            .promotions
            .iter()
            .filter_map(|p| Some((p.pid.clone()?, p.message.clone()?)))
            .collect();
        CampaignStage {
            gate: CampaignGate::new(variant.radius_ft, &variant.stores, variant.budget),
            forecast,
            templates,
            places: Vec::new(),
        }
    }

    /// Whether the campaign runs at a product at `at`, and its store's number in the
    /// forecast, by the place's number in `names` (a match costs a lookup, not a naming).
    fn place(&mut self, at: Option<LatLonDeg>, names: &mut StoreNames) -> (bool, usize) {
        let number = names.number(at);
        if let Some(Some(place)) = self.places.get(number) {
            return *place;
        }
        let store = names.name_of(number);
        let runs_in = self.gate.runs_in(store);
        let index = self
            .forecast
            .as_mut()
            .map_or(0, |(f, _)| f.store_index(store));
        if self.places.len() <= number {
            self.places.resize(number + 1, None);
        }
        self.places[number] = Some((runs_in, index));
        (runs_in, index)
    }

    /// A product record the engine took (after `names` saw it).
    pub fn observe_product(&mut self, product: &Product, names: &mut StoreNames) {
        if self.forecast.is_none() {
            return;
        }
        let (runs_in, _) = self.place(product.position().map(degrees), names);
        if let (true, Some((_, watch))) = (runs_in, self.forecast.as_mut()) {
            watch.observe_product(product);
        }
    }

    /// A ping the engine took: a forecast notes who came near.
    pub fn observe_ping(&mut self, customer: &Customer, ts_ms: i64) {
        if let Some((f, watch)) = self.forecast.as_mut() {
            if watch.is_near(customer, ts_ms) {
                f.on_near(customer.uid.as_ref());
            }
        }
    }

    /// Keeps the campaign's matches in `outputs` (VALID_PROMOTIONS stay), tallying them.
    pub fn keep_matches(&mut self, outputs: &mut Vec<Output>, names: &mut StoreNames) {
        outputs.retain(|output| self.keeps(output, names));
    }

    fn keeps(&mut self, output: &Output, names: &mut StoreNames) -> bool {
        let Output::NearbyCustomer(n) = output else {
            return true;
        };
        let (runs_in, store) = self.place(product_at(n), names);
        match self.gate.judge_match(runs_in, n.dist_to_store_ft) {
            MatchVerdict::Match => {
                if let Some((f, _)) = self.forecast.as_mut() {
                    f.on_match(n.customer.uid.as_ref(), store, n.timestamp_ms);
                }
                true
            }
            MatchVerdict::Near | MatchVerdict::OtherStore => false,
        }
    }

    /// Whether a notification the rules let through is sent (the budget), tallying it.
    pub fn admit(&mut self, n: &Notification, names: &mut StoreNames) -> bool {
        if !self.gate.admit_notification() {
            return false;
        }
        if self.forecast.is_some() {
            let (_, store) = self.place(n.product_at, names);
            if let Some((f, _)) = self.forecast.as_mut() {
                f.on_notification(&n.uid, store, n.timestamp_ms, n.dist_to_store_ft);
            }
        }
        true
    }

    /// The promotion's own MESSAGE template, if it has one.
    pub fn template(&self, pid: &str) -> Option<&str> {
        self.templates.get(pid).map(String::as_str)
    }

    pub fn report(&self, held_back: HeldBack) -> Option<VariantForecast> {
        let (f, _) = self.forecast.as_ref()?;
        Some(f.report(held_back, self.gate.counts(), self.gate.budget()))
    }
}

fn degrees(p: LatLon) -> LatLonDeg {
    LatLonDeg {
        lat_deg: p.lat.to_f64(),
        lon_deg: p.lon.to_f64(),
    }
}
