//! Join 2, `NEARBY_CUSTOMERS`: `customers_locations` ⋈ `VALID_PROMOTIONS`.
//!
//! Each ping c and valid promotion v with c.country = v.country, |c.ts − v.ts| ≤ WITHIN and
//! geo_distance(c, v) × km_to_ft ≤ radius_ft yield one output at max(c.ts, v.ts). Both sides
//! live in a [`SpatialIndex`] under their country, so an arrival only meets records in nearby
//! cells; ksqlDB's distance formula then decides, exactly as the brute-force join would.

use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::geo::GeoPoint;
use super::params::PipelineParams;
use super::promotion_join::{Arrival, ValidPromotion};
use super::record::Customer;
use super::spatial::{CellGrid, SpatialIndex};
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

/// The NEARBY_CUSTOMERS join.
#[derive(Clone, Debug)]
pub struct NearbyJoin {
    clock: JoinClock,
    radius_ft: f64,
    km_to_ft: f64,
    /// The spatial grid's reach, squared (chord units).
    reach_squared: f64,
    countries: FxHashMap<Box<str>, u32>,
    customers: SpatialIndex<Located<Customer>>,
    promotions: SpatialIndex<Located<ValidPromotion>>,
}

impl NearbyJoin {
    pub fn new(params: &PipelineParams) -> Self {
        let grid = CellGrid::new(params.radius_km());
        Self {
            clock: JoinClock::new(params.customer_window()),
            radius_ft: params.radius_ft,
            km_to_ft: params.km_to_ft,
            reach_squared: grid.reach() * grid.reach(),
            countries: FxHashMap::default(),
            customers: SpatialIndex::new(grid),
            promotions: SpatialIndex::new(grid),
        }
    }

    /// A `customers_locations` record arrives.
    pub fn push_customer(
        &mut self,
        ts_ms: i64,
        customer: Arc<Customer>,
        out: &mut Vec<NearbyCustomer>,
    ) -> Arrival {
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
        let (Some(country), Some(position)) = (customer.country.as_deref(), customer.position())
        else {
            return Arrival::Accepted;
        };
        let country = self.country_id(country);
        let located = Located {
            point: GeoPoint::from(position),
            item: customer,
        };
        let v = located.point.unit;
        self.promotions
            .for_each_in_cell(country, v, from_ms, to_ms, |v_ts, valid| {
                if let Some(dist_to_store_ft) = self.within_radius_ft(&located, valid) {
                    out.push(NearbyCustomer {
                        timestamp_ms: ts_ms.max(v_ts),
                        customer: Arc::clone(&located.item),
                        valid: Arc::clone(&valid.item),
                        dist_to_store_ft,
                    });
                }
            });
        self.customers.insert(country, v, ts_ms, located, cutoff_ms);
        Arrival::Accepted
    }

    /// A `VALID_PROMOTIONS` record (join 1's output) arrives.
    pub fn push_valid_promotion(
        &mut self,
        valid: Arc<ValidPromotion>,
        out: &mut Vec<NearbyCustomer>,
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
            (valid.product.country.as_deref(), valid.product.position())
        else {
            return Arrival::Accepted;
        };
        let country = self.country_id(country);
        let located = Located {
            point: GeoPoint::from(position),
            item: valid,
        };
        let v = located.point.unit;
        self.customers
            .for_each_near(country, v, from_ms, to_ms, |c_ts, customer| {
                if let Some(dist_to_store_ft) = self.within_radius_ft(customer, &located) {
                    out.push(NearbyCustomer {
                        timestamp_ms: ts_ms.max(c_ts),
                        customer: Arc::clone(&customer.item),
                        valid: Arc::clone(&located.item),
                        dist_to_store_ft,
                    });
                }
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

    pub fn buffer_count(&self) -> usize {
        self.customers.cell_count() + self.promotions.cell_count()
    }

    pub fn stream_time_ms(&self) -> Option<i64> {
        self.clock.stream_time_ms()
    }

    /// DIST_TO_STORE when the pair passes the geofence filter. The argument order is the
    /// original's GEO_DISTANCE(customer, product).
    fn within_radius_ft(
        &self,
        customer: &Located<Customer>,
        valid: &Located<ValidPromotion>,
    ) -> Option<f64> {
        // Most candidates in neighbouring cells are far outside the geofence: skip the
        // trigonometry for them. The reach has a margin, so this never drops a true match.
        if customer.point.chord_squared(&valid.point) > self.reach_squared {
            return None;
        }
        let ft = customer.point.distance_km(&valid.point) * self.km_to_ft;
        (ft <= self.radius_ft).then_some(ft)
    }

    fn country_id(&mut self, country: &str) -> u32 {
        if let Some(id) = self.countries.get(country) {
            return *id;
        }
        let id = self.countries.len() as u32;
        self.countries.insert(country.into(), id);
        id
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

    fn admit(&mut self, ts_ms: i64) -> Option<Admitted> {
        let admitted = self.clock.admit(ts_ms)?;
        if admitted.sweep_due {
            self.customers.sweep(admitted.cutoff_ms);
            self.promotions.sweep(admitted.cutoff_ms);
        }
        Some(admitted)
    }
}
