//! The store simulator: a retail chain where shoppers walk past promoted products, so the
//! pipeline fires the way it does in a real store. It replaces the original's three Python
//! mock scripts (which put everyone at random points on the globe, so nothing ever matched);
//! `--profile original` keeps their distributions for comparison.
//!
//! The simulator is a deterministic discrete-event generator: a seed and a configuration give
//! the same records, byte for byte. Time is simulated (record timestamps come from the
//! configuration's start); callers decide how fast to hand records on — as fast as possible
//! into a dump, or paced to (a multiple of) real time on the in-process bus.

pub mod catalog;
pub mod layout;
mod payload;
pub mod rng;
pub mod shopper;

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;

use crate::engine::geo::Meters;
use crate::engine::Topic;
use crate::io::chain::Chain;

use catalog::{chain_catalog, degrees_to_decimal5, CatalogProduct};
use layout::StoreLayout;
use rng::SplitMix64;
use shopper::{plan_visit, Visit};

/// 2025-11-26T09:00:00Z: a fixed default start, so dumps made on different days are identical.
pub const DEFAULT_START_MS: i64 = 1_764_147_600_000;

/// Which world to simulate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SimProfile {
    /// The chain's stores: shoppers, passers-by, shelves and promotions (the default).
    #[default]
    Store,
    /// The original Python scripts: customers and products at random points on the globe,
    /// random SKUs 1000–9999. Practically never matches; kept for comparison.
    Original,
}

/// Sizes and rates of a simulation.
#[derive(Clone, Debug, PartialEq)]
pub struct SimConfig {
    pub profile: SimProfile,
    pub seed: u64,
    /// Simulated time of the first record.
    pub start_ms: i64,
    /// Use the chain's first `stores` stores (all when `None`).
    pub stores: Option<usize>,
    /// People in or around each store at any moment.
    pub customers_per_store: usize,
    /// How often a phone reports its position (±10 % jitter).
    pub ping_interval_ms: i64,
    /// Standard deviation of the GPS error per axis.
    pub gps_noise_m: f64,
    /// How often every product is re-published (keeps the 1-hour promotion window fed).
    pub catalog_refresh_ms: i64,
    /// How often a new promotion starts (one at the start, then one per interval).
    pub promotion_interval_ms: i64,
    /// How long a promotion runs (its `valid_until`).
    pub promotion_duration_ms: i64,
    /// Share of visits that only walk past the store on the sidewalk.
    pub passer_by_share: f64,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            profile: SimProfile::Store,
            seed: 1,
            start_ms: DEFAULT_START_MS,
            stores: None,
            customers_per_store: 20,
            ping_interval_ms: 5_000,
            gps_noise_m: 3.0,
            catalog_refresh_ms: 30 * 60_000,
            promotion_interval_ms: 10 * 60_000,
            promotion_duration_ms: 2 * 3_600_000,
            passer_by_share: 0.25,
        }
    }
}

/// One generated record, in buffers the simulator reuses (see [`Simulator::next_into`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SimRecord {
    pub topic: Option<Topic>,
    pub timestamp_ms: i64,
    pub key: String,
    /// The value as JSON text (always UTF-8).
    pub payload: Vec<u8>,
}

impl SimRecord {
    /// The value as text.
    pub fn payload_str(&self) -> &str {
        // The simulator writes only UTF-8; an empty string would be a bug, not data loss.
        std::str::from_utf8(&self.payload).unwrap_or_default()
    }
}

/// What happens next, ordered by time then by scheduling order (which keeps runs
/// deterministic when events share a millisecond).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Event {
    at_ms: i64,
    seq: u64,
    kind: EventKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum EventKind {
    /// Visitor slot `n` pings (or starts a new visit when the last one ended).
    Ping(usize),
    /// Publish catalog product `n`; the next one follows at once.
    Catalog(usize),
    /// Start a promotion.
    Promotion,
    /// `--profile original`: one product at a random place.
    RandomProduct,
}

/// Someone in or around a store.
#[derive(Clone, Debug)]
struct Visitor {
    store: usize,
    uid: String,
    visit: Visit,
}

/// The generator. An iterator of owned records; [`Simulator::next_into`] avoids the
/// allocations where speed matters.
pub struct Simulator {
    config: SimConfig,
    rng: SplitMix64,
    stores: Vec<StoreLayout>,
    catalog: Vec<CatalogProduct>,
    visitors: Vec<Visitor>,
    queue: BinaryHeap<Reverse<Event>>,
    seq: u64,
}

impl Simulator {
    /// A simulation of `chain` (only the profile `store` uses it).
    pub fn new(chain: &Chain, config: SimConfig) -> Simulator {
        let store_count = config.stores.unwrap_or(usize::MAX).min(chain.stores.len());
        let stores: Vec<StoreLayout> = chain.stores[..store_count]
            .iter()
            .map(StoreLayout::new)
            .collect();
        let catalog = chain_catalog(chain)
            .into_iter()
            .filter(|p| p.store < store_count)
            .collect();
        let mut sim = Simulator {
            rng: SplitMix64::new(config.seed),
            config,
            stores,
            catalog,
            visitors: Vec::new(),
            queue: BinaryHeap::new(),
            seq: 0,
        };
        sim.schedule_start();
        sim
    }

    pub fn config(&self) -> &SimConfig {
        &self.config
    }

    /// The products this simulation publishes (empty for the original profile).
    pub fn catalog(&self) -> &[CatalogProduct] {
        &self.catalog
    }

    /// Simulated time of the next record's event (records come in time order).
    pub fn next_time_ms(&self) -> Option<i64> {
        self.queue.peek().map(|Reverse(e)| e.at_ms)
    }

    fn schedule(&mut self, at_ms: i64, kind: EventKind) {
        self.seq += 1;
        self.queue.push(Reverse(Event {
            at_ms,
            seq: self.seq,
            kind,
        }));
    }

    fn schedule_start(&mut self) {
        let t0 = self.config.start_ms;
        let interval = self.config.ping_interval_ms.max(1);
        let slots_per_store = self.config.customers_per_store;
        match self.config.profile {
            SimProfile::Store => {
                if !self.catalog.is_empty() {
                    self.schedule(t0, EventKind::Catalog(0));
                    self.schedule(t0 + 1_000, EventKind::Promotion);
                }
                for store in 0..self.stores.len() {
                    for _ in 0..slots_per_store {
                        // People are already mid-visit when the simulation starts.
                        let mut visit = plan_visit(
                            &self.stores[store],
                            t0,
                            self.config.passer_by_share,
                            &mut self.rng,
                        );
                        let into_ms = self.rng.range_i64(0, (visit.end_ms() - t0).max(0));
                        visit.shift(-into_ms);
                        let uid = self.rng.uuid();
                        self.visitors.push(Visitor { store, uid, visit });
                        let first = t0 + self.rng.range_i64(0, interval - 1);
                        self.schedule(first, EventKind::Ping(self.visitors.len() - 1));
                    }
                }
            }
            SimProfile::Original => {
                let people = slots_per_store * self.config.stores.unwrap_or(6);
                for slot in 0..people {
                    let uid = self.rng.uuid();
                    self.visitors.push(Visitor {
                        store: 0,
                        uid,
                        visit: Visit::default(),
                    });
                    let first = t0 + self.rng.range_i64(0, interval - 1);
                    self.schedule(first, EventKind::Ping(slot));
                }
                self.schedule(t0, EventKind::RandomProduct);
                self.schedule(t0 + 1_000, EventKind::Promotion);
            }
        }
    }

    /// Writes the next record into `out`; false when the simulation has nothing more (only
    /// when it has no stores or people: otherwise it runs forever, so bound it by time).
    pub fn next_into(&mut self, out: &mut SimRecord) -> bool {
        while let Some(Reverse(event)) = self.queue.pop() {
            if self.handle(event, out) {
                return true;
            }
        }
        false
    }

    /// Handles one event; true when it produced a record.
    fn handle(&mut self, event: Event, out: &mut SimRecord) -> bool {
        let t = event.at_ms;
        match event.kind {
            EventKind::Ping(slot) => self.ping(slot, t, out),
            EventKind::Catalog(i) => {
                let Some(item) = self.catalog.get(i) else {
                    return false;
                };
                payload::product(out, t, &item.product);
                if i + 1 < self.catalog.len() {
                    self.schedule(t, EventKind::Catalog(i + 1));
                } else {
                    // A refresh publishes every product at one instant; the next comes an interval later.
                    self.schedule(
                        t + self.config.catalog_refresh_ms.max(1),
                        EventKind::Catalog(0),
                    );
                }
                true
            }
            EventKind::Promotion => {
                self.promotion(t, out);
                self.schedule(
                    t + self.config.promotion_interval_ms.max(1),
                    EventKind::Promotion,
                );
                true
            }
            EventKind::RandomProduct => {
                payload::random_product(out, t, &mut self.rng);
                self.schedule(
                    t + self.config.ping_interval_ms.max(1),
                    EventKind::RandomProduct,
                );
                true
            }
        }
    }

    fn next_ping_ms(&mut self, t: i64) -> i64 {
        let interval = self.config.ping_interval_ms.max(1);
        let jitter = interval / 10;
        t + interval + self.rng.range_i64(-jitter, jitter)
    }

    fn ping(&mut self, slot: usize, t: i64, out: &mut SimRecord) -> bool {
        if self.config.profile == SimProfile::Original {
            let uid = std::mem::take(&mut self.visitors[slot].uid);
            payload::random_customer(out, t, &uid, &mut self.rng);
            self.visitors[slot].uid = uid;
            let next = self.next_ping_ms(t);
            self.schedule(next, EventKind::Ping(slot));
            return true;
        }
        let store_index = self.visitors[slot].store;
        if t > self.visitors[slot].visit.end_ms() {
            // Gone: someone new arrives a little later.
            let gap_ms = self.rng.exponential(20_000.0) as i64;
            let start = t + gap_ms;
            let visit = plan_visit(
                &self.stores[store_index],
                start,
                self.config.passer_by_share,
                &mut self.rng,
            );
            let uid = self.rng.uuid();
            self.visitors[slot] = Visitor {
                store: store_index,
                uid,
                visit,
            };
            self.schedule(start, EventKind::Ping(slot));
            return false;
        }
        let at = self.visitors[slot].visit.position_at(t);
        let noise = self.config.gps_noise_m;
        let seen = Meters::new(
            at.east_m + self.rng.normal() * noise,
            at.north_m + self.rng.normal() * noise,
        );
        let store = &self.stores[store_index];
        let geo = store.frame.to_geo(seen);
        payload::customer(
            out,
            t,
            &self.visitors[slot].uid,
            degrees_to_decimal5(geo.lat_deg),
            degrees_to_decimal5(geo.lon_deg),
            &store.country,
        );
        let next = self.next_ping_ms(t);
        self.schedule(next, EventKind::Ping(slot));
        true
    }

    fn promotion(&mut self, t: i64, out: &mut SimRecord) {
        let pid = self.rng.uuid();
        let discount_pct = [10, 15, 20, 25, 30][self.rng.below(5) as usize];
        let valid_until_ms = t + self.config.promotion_duration_ms;
        if self.config.profile == SimProfile::Original || self.catalog.is_empty() {
            let sku = self.rng.range_i64(1000, 9999);
            let segment = payload::random_segment(&mut self.rng);
            payload::promotion(out, t, &pid, sku, segment, discount_pct, valid_until_ms);
            return;
        }
        let item = &self.catalog[self.rng.below(self.catalog.len() as u64) as usize];
        let product = Arc::clone(&item.product);
        let sku = product.sku.unwrap_or_default();
        let segment = product.segment.as_deref().unwrap_or_default();
        payload::promotion(out, t, &pid, sku, segment, discount_pct, valid_until_ms);
    }
}

impl Iterator for Simulator {
    type Item = SimRecord;

    fn next(&mut self) -> Option<SimRecord> {
        let mut record = SimRecord::default();
        self.next_into(&mut record).then_some(record)
    }
}

#[cfg(test)]
mod tests;
