//! Join 2, `NEARBY_CUSTOMERS`: `customers_locations` ⋈ `VALID_PROMOTIONS`.
//!
//! Each ping c and valid promotion v with c.country = v.country, |c.ts − v.ts| ≤ WITHIN and
//! geo_distance(c, v) × km_to_ft ≤ radius_ft yield one output at max(c.ts, v.ts). Both sides
//! live in a [`SpatialIndex`] under their country, so an arrival only meets records in nearby
//! cells; ksqlDB's distance formula then decides, exactly as the brute-force join would.

use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::customer_ids::{CustomerId, CustomerIds};
use super::geo::{GeoPoint, LatLon, LatLonUnits};
use super::output::Output;
use super::params::PipelineParams;
use super::promotion_join::{Arrival, ValidPromotion};
use super::record::Customer;
use super::spatial::{CellGrid, SpatialIndex};
use super::topic::Origin;
use super::window::{Admitted, JoinClock};

/// A shopper within the geofence of a promoted product: what the push service turns into a
/// discount on the phone.
#[derive(Clone, Debug, PartialEq)]
pub struct NearbyCustomer {
    /// max(ping ts, valid promotion ts).
    pub timestamp_ms: i64,
    pub customer: Arc<Customer>,
    pub valid: Arc<ValidPromotion>,
    /// DIST_TO_STORE: geo_distance × km_to_ft.
    pub dist_to_store_ft: f64,
}

/// A buffered record with its position in the two forms the join needs.
#[derive(Debug)]
struct Located<T> {
    item: Arc<T>,
    point: GeoPoint,
}

// Not derived: the derive would demand `T: Clone`, but only the `Arc` is cloned.
impl<T> Clone for Located<T> {
    fn clone(&self) -> Self {
        Self {
            item: Arc::clone(&self.item),
            point: self.point,
        }
    }
}

/// A buffered ping in 24 bytes (32 with its timestamp): pings are most of the join's state
/// — a day of a chain is tens of millions — while valid promotions are few and keep their
/// full [`Located`] form. The ping's country is its index key; everything else of the
/// [`Customer`] is rebuilt exactly from these fields when it matches.
#[derive(Clone, Copy, Debug)]
struct BufferedPing {
    /// The point on the unit sphere in f32: only for the cheap pre-filter, which widens its
    /// reach by [`F32_UNIT_SLACK`] for the rounding. Distances use the exact coordinates.
    unit: [f32; 3],
    uid: CustomerId,
    at: LatLonUnits,
    /// Where the ping came from, for the ids of its outputs.
    origin: Origin,
}

/// How far (chord units) a unit vector stored in f32 may lie from the f64 one: each
/// component rounds by at most 2⁻²⁴ (they are within ±1), so the chord moves by at most
/// √3·2⁻²⁴ ≈ 1.04·10⁻⁷. Twice that keeps the pre-filter conservative.
const F32_UNIT_SLACK: f64 = 2.1e-7;

/// Customers rebuilt from buffered pings for the outputs of product and promotion records.
/// One promotion record can make thousands of valid promotions at once, each matching the
/// same pings by the shelves: their outputs share one [`Customer`] per ping, as they would
/// had the ping kept its own, instead of one copy per output. Emptied when a ping arrives
/// and when uid ids are freed (so an id given to another shopper never finds an old entry);
/// a copy of the join starts it empty.
#[derive(Debug, Default)]
struct RebuiltCustomers(FxHashMap<(u32, CustomerId, LatLonUnits, Origin), Arc<Customer>>);

impl Clone for RebuiltCustomers {
    fn clone(&self) -> Self {
        Self::default()
    }
}

impl RebuiltCustomers {
    /// Empties it; a no-op when empty, since clearing a map touches its whole capacity and a
    /// ping arrives with nearly every record.
    fn clear(&mut self) {
        if !self.0.is_empty() {
            self.0.clear();
        }
    }
}

/// The geofence test, apart from the join's buffers so it can run while they are borrowed.
#[derive(Clone, Copy, Debug)]
struct Geofence {
    radius_ft: f64,
    km_to_ft: f64,
    /// The spatial grid's reach, squared (chord units).
    reach_squared: f64,
    /// The same for buffered pings, whose unit vectors are f32.
    ping_reach_squared: f64,
}

impl Geofence {
    /// DIST_TO_STORE when the pair passes the geofence filter. The argument order is the
    /// original's GEO_DISTANCE(customer, product).
    fn within_radius_ft(
        &self,
        customer: &GeoPoint,
        valid: &Located<ValidPromotion>,
    ) -> Option<f64> {
        // Most candidates in neighbouring cells are far outside the geofence: skip the
        // trigonometry for them. The reach has a margin, so this never drops a true match.
        if customer.chord_squared(&valid.point) > self.reach_squared {
            return None;
        }
        let ft = customer.distance_km(&valid.point) * self.km_to_ft;
        (ft <= self.radius_ft).then_some(ft)
    }

    /// A buffered ping within the geofence of `valid`: its exact position and DIST_TO_STORE,
    /// bit for bit what the ping's own arrival computes.
    fn buffered_ping_within_radius(
        &self,
        ping: &BufferedPing,
        valid: &Located<ValidPromotion>,
    ) -> Option<(LatLon, f64)> {
        let u = valid.point.unit;
        let d = [
            f64::from(ping.unit[0]) - u[0],
            f64::from(ping.unit[1]) - u[1],
            f64::from(ping.unit[2]) - u[2],
        ];
        if d[0] * d[0] + d[1] * d[1] + d[2] * d[2] > self.ping_reach_squared {
            return None;
        }
        let position = ping.at.lat_lon()?;
        let ft = self.within_radius_ft(&GeoPoint::from(position), valid)?;
        Some((position, ft))
    }
}

/// The NEARBY_CUSTOMERS join.
#[derive(Clone, Debug)]
pub struct NearbyJoin {
    clock: JoinClock,
    geofence: Geofence,
    /// Country ids by name, and names by id (to rebuild a buffered ping's [`Customer`]).
    countries: FxHashMap<Arc<str>, u32>,
    country_names: Vec<Arc<str>>,
    /// The country text last looked up, by its allocation, and its id.
    last_country: Option<(Arc<str>, u32)>,
    customer_ids: CustomerIds,
    rebuilt: RebuiltCustomers,
    customers: SpatialIndex<BufferedPing>,
    promotions: SpatialIndex<Located<ValidPromotion>>,
}

impl NearbyJoin {
    pub fn new(params: &PipelineParams) -> Self {
        let grid = CellGrid::new(params.radius_km());
        Self {
            clock: JoinClock::new(params.customer_window()),
            geofence: Geofence {
                radius_ft: params.radius_ft,
                km_to_ft: params.km_to_ft,
                reach_squared: grid.reach() * grid.reach(),
                ping_reach_squared: (grid.reach() + F32_UNIT_SLACK).powi(2),
            },
            countries: FxHashMap::default(),
            country_names: Vec::new(),
            last_country: None,
            customer_ids: CustomerIds::default(),
            rebuilt: RebuiltCustomers::default(),
            customers: SpatialIndex::new(grid),
            promotions: SpatialIndex::new(grid),
        }
    }

    /// A `customers_locations` record arrives; its NEARBY_CUSTOMERS go straight to `out`
    /// (each is built once, where it is found).
    pub fn push_customer(
        &mut self,
        ts_ms: i64,
        customer: Customer,
        out: &mut Vec<Output>,
    ) -> Arrival {
        self.rebuilt.clear();
        let Some(Admitted {
            cutoff_ms,
            from_ms,
            to_ms,
            ..
        }) = self.admit(ts_ms)
        else {
            return Arrival::Late;
        };
        // A NULL country never matches and NULL coordinates never pass the distance filter:
        // such a ping moves stream time but has nothing to join or buffer.
        let (Some(country), Some(position)) = (customer.country.as_ref(), customer.position())
        else {
            return Arrival::Unmatchable;
        };
        let country = self.country_id(country);
        let point = GeoPoint::from(position);
        let v = point.unit;
        // Shared by its outputs, and made only for a ping that has any: a ping outside every
        // geofence would have it freed at once.
        let mut shared: Option<Arc<Customer>> = None;
        self.promotions
            .for_each_in_cell(country, v, from_ms, to_ms, |v_ts, valid| {
                if let Some(dist_to_store_ft) = self.geofence.within_radius_ft(&point, valid) {
                    let customer = shared.get_or_insert_with(|| Arc::new(customer.clone()));
                    out.push(Output::NearbyCustomer(NearbyCustomer {
                        timestamp_ms: ts_ms.max(v_ts),
                        customer: Arc::clone(customer),
                        valid: Arc::clone(&valid.item),
                        dist_to_store_ft,
                    }));
                }
            });
        let Some(at) = LatLonUnits::new(position) else {
            // Decoding refuses coordinates beyond ±180°, so this never happens.
            return Arrival::Accepted;
        };
        let ping = BufferedPing {
            unit: v.map(|x| x as f32),
            uid: self.customer_ids.intern(customer.uid.as_ref()),
            at,
            origin: customer.origin,
        };
        self.customers.insert(country, v, ts_ms, ping, cutoff_ms);
        if self.customer_ids.sweep_due() {
            self.sweep_customer_ids();
        }
        Arrival::Accepted
    }

    /// The valid promotions buffered, each once (a geofence may sit in several cells),
    /// oldest first.
    pub fn valid_promotions(&self) -> Vec<Arc<ValidPromotion>> {
        let mut seen = rustc_hash::FxHashSet::default();
        let mut all: Vec<Arc<ValidPromotion>> = self
            .promotions
            .values()
            .filter(|located| seen.insert(Arc::as_ptr(&located.item)))
            .map(|located| Arc::clone(&located.item))
            .collect();
        all.sort_by_key(|v| v.timestamp_ms);
        all
    }

    /// Frees the uid ids no buffered ping holds any more.
    fn sweep_customer_ids(&mut self) {
        self.rebuilt.clear();
        let mut held = vec![false; self.customer_ids.capacity()];
        for ping in self.customers.values() {
            if let Some(h) = held.get_mut(ping.uid.index()) {
                *h = true;
            }
        }
        self.customer_ids.retain(&held);
    }

    /// A `VALID_PROMOTIONS` record (join 1's output) arrives.
    pub fn push_valid_promotion(
        &mut self,
        valid: Arc<ValidPromotion>,
        out: &mut Vec<Output>,
    ) -> Arrival {
        let ts_ms = valid.timestamp_ms;
        let Some(Admitted {
            cutoff_ms,
            from_ms,
            to_ms,
            ..
        }) = self.admit(ts_ms)
        else {
            return Arrival::Late;
        };
        let (Some(country), Some(position)) =
            (valid.product.country.as_ref(), valid.product.position())
        else {
            return Arrival::Accepted;
        };
        let country = self.country_id(country);
        let located = Located {
            point: GeoPoint::from(position),
            item: valid,
        };
        let v = located.point.unit;
        let country_name = self.country_names.get(country as usize);
        let rebuilt = &mut self.rebuilt.0;
        self.customers
            .for_each_near(country, v, from_ms, to_ms, |c_ts, ping| {
                let Some((position, dist_to_store_ft)) =
                    self.geofence.buffered_ping_within_radius(ping, &located)
                else {
                    return;
                };
                let key = (country, ping.uid, ping.at, ping.origin);
                let customer = rebuilt.entry(key).or_insert_with(|| {
                    Arc::new(Customer {
                        uid: self.customer_ids.uid(ping.uid).cloned(),
                        latitude: Some(position.lat),
                        longitude: Some(position.lon),
                        country: country_name.cloned(),
                        origin: ping.origin,
                    })
                });
                out.push(Output::NearbyCustomer(NearbyCustomer {
                    timestamp_ms: ts_ms.max(c_ts),
                    customer: Arc::clone(customer),
                    valid: Arc::clone(&located.item),
                    dist_to_store_ft,
                }));
            });
        self.promotions
            .insert_around(country, v, ts_ms, located, cutoff_ms);
        Arrival::Accepted
    }

    /// Buffered (pings, valid-promotion entries). A valid promotion is stored once in every
    /// cell its geofence reaches, so the second number counts up to 8 entries per record.
    pub fn buffered(&self) -> (usize, usize) {
        (self.customers.len(), self.promotions.len())
    }

    /// Uids in the join's table (each held by at least one buffered ping, or since the
    /// last sweep).
    pub fn customer_id_count(&self) -> usize {
        self.customer_ids.len()
    }

    pub fn buffer_count(&self) -> usize {
        self.customers.cell_count() + self.promotions.cell_count()
    }

    pub fn stream_time_ms(&self) -> Option<i64> {
        self.clock.stream_time_ms()
    }

    fn country_id(&mut self, country: &Arc<str>) -> u32 {
        // Decoding shares a recurring text, so pings of one country mostly hold the very
        // allocation the last one did: no hashing then.
        if let Some((last, id)) = &self.last_country {
            if Arc::ptr_eq(last, country) {
                return *id;
            }
        }
        let id = self.country_id_by_name(country);
        self.last_country = Some((Arc::clone(country), id));
        id
    }

    fn country_id_by_name(&mut self, country: &str) -> u32 {
        if let Some(id) = self.countries.get(country) {
            return *id;
        }
        let id = self.country_names.len() as u32;
        let name: Arc<str> = country.into();
        self.countries.insert(Arc::clone(&name), id);
        self.country_names.push(name);
        id
    }

    /// The join's state in bytes, roughly: what a memory budget is held to. (The process
    /// also needs room for one input record's outputs and the allocator's slack.)
    pub fn estimated_state_bytes(&self) -> u64 {
        /// A buffered ping with its timestamp, and its share of a chunk's header.
        const PING_BYTES: u64 = 34;
        /// A valid-promotion cell entry (the record itself is shared by up to 8 entries).
        const VALID_ENTRY_BYTES: u64 = 80;
        /// A cell: its map slot, buffer and half-empty last chunk.
        const CELL_BYTES: u64 = 640;
        self.customers.len() as u64 * PING_BYTES
            + self.promotions.len() as u64 * VALID_ENTRY_BYTES
            + self.buffer_count() as u64 * CELL_BYTES
            + self.customer_ids.estimated_bytes()
    }

    /// Gives up buffered records older than `floor_ms` for good: later records older than it
    /// are late (counted), as if the grace were smaller.
    pub fn shed_before(&mut self, floor_ms: i64) {
        self.clock.raise_floor(floor_ms);
        let cutoff = self.clock.cutoff_ms();
        self.customers.sweep(cutoff);
        self.promotions.sweep(cutoff);
        self.sweep_customer_ids();
    }

    /// The oldest timestamp still joinable.
    pub fn cutoff_ms(&self) -> i64 {
        self.clock.cutoff_ms()
    }

    /// Drops buffered records older than `ts_ms` (see [`crate::engine::Pipeline::checkpoint`]).
    pub fn forget_before(&mut self, ts_ms: i64) {
        self.customers.sweep(ts_ms);
        self.promotions.sweep(ts_ms);
    }

    /// The join's window.
    pub fn within_ms(&self) -> i64 {
        self.clock.window().within_ms
    }

    /// Inline: every ping takes it first, and left to itself the compiler makes it a call
    /// (+7 M instructions on the bench dump) when `push_customer` grows by an exit.
    #[inline]
    fn admit(&mut self, ts_ms: i64) -> Option<Admitted> {
        let admitted = self.clock.admit(ts_ms)?;
        if admitted.sweep_due {
            self.customers.sweep(admitted.cutoff_ms);
            self.promotions.sweep(admitted.cutoff_ms);
        }
        Some(admitted)
    }
}
