//! The spatial index both sides of the NEARBY_CUSTOMERS join live in.
//!
//! The original compares every customer ping with every valid promotion of the country. We put
//! each record in a cell of a 3-D grid over the unit sphere, under its country key, so a ping
//! only meets the records of the (at most 8) cells its geofence can reach.
//!
//! Why 3-D: two points are within the radius exactly when the chord between them is within
//! 2·sin(r / 2R), and a cube grid over chord space has no seam at ±180° longitude and no
//! shrinking cells at the poles, where a latitude/longitude grid needs special cases. The grid
//! only has to be conservative: the join still applies ksqlDB's formula to every candidate, so
//! the index can never change an answer, only skip pairs that are certainly too far apart.

use std::collections::HashMap;

use rustc_hash::FxBuildHasher;

use super::geo::EARTH_RADIUS_KM;
use super::window::{sweep_keyed, TimeBuffer};

/// A cell of the grid, under an interned country id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CellKey {
    pub country: u32,
    pub x: i64,
    pub y: i64,
    pub z: i64,
}

/// Cell edge over query reach. At 2 every query spans 8 cells; larger cells mean fewer hash
/// look-ups per query but more candidates per cell to filter. Measured in BENCHMARKS.md.
const EDGE_PER_REACH: f64 = 3.0;

/// The grid geometry for one geofence radius.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CellGrid {
    /// How far (in chord units) a query reaches: the radius's chord plus a safety margin far
    /// above the rounding error of either distance computation.
    reach: f64,
    /// Cell edge ≥ 2·reach, so a query spans at most two cells per axis.
    edge: f64,
}

impl CellGrid {
    /// A grid for matching within `radius_km` (negative or NaN radii match nothing).
    pub fn new(radius_km: f64) -> Self {
        let radius_km = if radius_km.is_nan() {
            0.0
        } else {
            radius_km.max(0.0)
        };
        let half_angle = (radius_km / (2.0 * EARTH_RADIUS_KM)).min(std::f64::consts::FRAC_PI_2);
        let chord = 2.0 * half_angle.sin();
        let reach = chord * (1.0 + 1e-9) + 1e-12;
        // A lower bound on the edge keeps cell coordinates small integers for tiny radii.
        let edge = (EDGE_PER_REACH * reach).max(1e-9);
        Self { reach, edge }
    }

    /// The chord (unit sphere) a query reaches, margin included: pairs farther apart than
    /// this are certainly outside the radius.
    pub fn reach(&self) -> f64 {
        self.reach
    }

    pub fn cell_of(&self, country: u32, v: [f64; 3]) -> CellKey {
        let c = |x: f64| floor_i64(x / self.edge);
        CellKey {
            country,
            x: c(v[0]),
            y: c(v[1]),
            z: c(v[2]),
        }
    }

    /// Every cell a point within the radius of `v` can lie in: 1 to 8 cells.
    pub fn neighborhood(&self, country: u32, v: [f64; 3]) -> impl Iterator<Item = CellKey> {
        let span = |x: f64| {
            let lo = floor_i64((x - self.reach) / self.edge);
            let hi = floor_i64((x + self.reach) / self.edge);
            lo..=hi
        };
        let (xs, ys, zs) = (span(v[0]), span(v[1]), span(v[2]));
        xs.flat_map(move |x| {
            let zs = zs.clone();
            ys.clone()
                .flat_map(move |y| zs.clone().map(move |z| CellKey { country, x, y, z }))
        })
    }
}

/// `x.floor() as i64`, without the call `floor` compiles to on CPUs without SSE4.1 (the
/// x86_64 baseline): every ping computes nine. Truncation rounds toward zero; a negative
/// non-integer is then one too high. Equal to the plain form for every f64, NaN and the
/// infinities included (both saturate the same way).
#[inline]
pub(crate) fn floor_i64(x: f64) -> i64 {
    let t = x as i64;
    t.saturating_sub(i64::from((t as f64) > x))
}

/// Time-ordered buffers per cell.
#[derive(Clone, Debug)]
pub struct SpatialIndex<T> {
    grid: CellGrid,
    cells: HashMap<CellKey, TimeBuffer<T>, FxBuildHasher>,
}

impl<T> SpatialIndex<T> {
    pub fn new(grid: CellGrid) -> Self {
        Self {
            grid,
            cells: HashMap::default(),
        }
    }

    pub fn grid(&self) -> &CellGrid {
        &self.grid
    }

    /// Buffers `value` in its own cell, dropping that cell's entries older than `cutoff_ms`
    /// first. Found by [`Self::for_each_near`].
    // Always inlined, as `for_each_in_cell` and `visit_cell`: they are a ping's hot path
    // in the join, and LLVM's budget leaves them out once the pipeline's push around them
    // grows (+23 M instructions on the bench dump, BENCHMARKS.md).
    #[inline(always)]
    pub fn insert(&mut self, country: u32, v: [f64; 3], ts_ms: i64, value: T, cutoff_ms: i64)
    where
        T: Clone,
    {
        Self::insert_in(
            &mut self.cells,
            self.grid.cell_of(country, v),
            ts_ms,
            value,
            cutoff_ms,
        );
    }

    /// Buffers `value` in every cell its geofence reaches (1 to 8 copies). Found by
    /// [`Self::for_each_in_cell`] with one look-up: the side that is queried most (the valid
    /// promotions every ping asks about) is stored spread, so the busy side reads one cell.
    pub fn insert_around(&mut self, country: u32, v: [f64; 3], ts_ms: i64, value: T, cutoff_ms: i64)
    where
        T: Clone,
    {
        for key in self.grid.neighborhood(country, v) {
            Self::insert_in(&mut self.cells, key, ts_ms, value.clone(), cutoff_ms);
        }
    }

    fn insert_in(
        cells: &mut HashMap<CellKey, TimeBuffer<T>, FxBuildHasher>,
        key: CellKey,
        ts_ms: i64,
        value: T,
        cutoff_ms: i64,
    ) where
        T: Clone,
    {
        let buffer = cells.entry(key).or_default();
        buffer.evict_before(cutoff_ms);
        buffer.insert(ts_ms, value);
    }

    /// Calls `visit` for every entry with `from_ms ≤ ts ≤ to_ms` stored by [`Self::insert`]
    /// in the cells the radius around `v` can reach: a superset of those within the radius.
    pub fn for_each_near(
        &self,
        country: u32,
        v: [f64; 3],
        from_ms: i64,
        to_ms: i64,
        mut visit: impl FnMut(i64, &T),
    ) {
        if self.cells.is_empty() {
            return;
        }
        for key in self.grid.neighborhood(country, v) {
            self.visit_cell(key, from_ms, to_ms, &mut visit);
        }
    }

    /// Calls `visit` for every entry with `from_ms ≤ ts ≤ to_ms` stored by
    /// [`Self::insert_around`] whose geofence reaches `v`'s cell: a superset of those within
    /// the radius (a point within reach of an entry lies in a cell of the entry's
    /// neighbourhood).
    #[inline(always)]
    pub fn for_each_in_cell(
        &self,
        country: u32,
        v: [f64; 3],
        from_ms: i64,
        to_ms: i64,
        mut visit: impl FnMut(i64, &T),
    ) {
        self.visit_cell(self.grid.cell_of(country, v), from_ms, to_ms, &mut visit);
    }

    #[inline(always)]
    fn visit_cell(&self, key: CellKey, from_ms: i64, to_ms: i64, visit: &mut impl FnMut(i64, &T)) {
        if let Some(buffer) = self.cells.get(&key) {
            for (ts, value) in buffer.range(from_ms, to_ms) {
                visit(*ts, value);
            }
        }
    }

    /// Drops expired entries everywhere and forgets empty cells.
    pub fn sweep(&mut self, cutoff_ms: i64) {
        sweep_keyed(&mut self.cells, cutoff_ms);
    }

    pub fn len(&self) -> usize {
        self.cells.values().map(TimeBuffer::len).sum()
    }

    /// Every buffered value, in no particular order.
    pub fn values(&self) -> impl Iterator<Item = &T> {
        self.cells.values().flat_map(TimeBuffer::values)
    }

    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }

    pub fn cell_count(&self) -> usize {
        self.cells.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::geo::{geo_distance_km_deg, KSQL_FT_PER_KM};

    fn unit(lat: f64, lon: f64) -> [f64; 3] {
        let (lat, lon) = (lat.to_radians(), lon.to_radians());
        [lat.cos() * lon.cos(), lat.cos() * lon.sin(), lat.sin()]
    }

    #[test]
    fn floor_is_the_plain_floor() {
        let mut values = vec![
            0.0,
            -0.0,
            0.5,
            -0.5,
            -1.0,
            -1.5,
            1e18,
            -1e18,
            9.3e18,
            -9.3e18,
            1e300,
            -1e300,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MIN_POSITIVE,
            -f64::MIN_POSITIVE,
            i64::MAX as f64,
            i64::MIN as f64,
        ];
        let mut seed = 11u64;
        for _ in 0..100_000 {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            values.push(((seed >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 2e6);
        }
        for x in values {
            assert_eq!(floor_i64(x), x.floor() as i64, "{x:?}");
        }
    }

    #[test]
    fn neighborhood_has_one_to_eight_distinct_cells() {
        let grid = CellGrid::new(100.0 / KSQL_FT_PER_KM);
        for (lat, lon) in [
            (41.88696, -87.59927),
            (0.0, 0.0),
            (90.0, 0.0),
            (-33.9, 151.2),
        ] {
            let cells: Vec<_> = grid.neighborhood(1, unit(lat, lon)).collect();
            assert!((1..=8).contains(&cells.len()), "{cells:?}");
            let own = grid.cell_of(1, unit(lat, lon));
            assert!(cells.contains(&own));
        }
    }

    proptest::proptest! {
        /// Every point within the radius lies in a cell of the neighbourhood, including across
        /// the antimeridian and at the poles.
        #[test]
        fn neighborhood_covers_the_geofence(
            lat in -90.0f64..=90.0,
            lon in -180.0f64..=180.0,
            bearing in 0.0f64..360.0,
            frac in 0.0f64..=1.0,
            radius_ft in 0.0f64..500.0,
        ) {
            let radius_km = radius_ft / KSQL_FT_PER_KM;
            let grid = CellGrid::new(radius_km);
            // Walk `frac` of the radius from (lat, lon) along `bearing` on the sphere.
            let delta = frac * radius_km / EARTH_RADIUS_KM;
            let (phi, lambda, theta) = (lat.to_radians(), lon.to_radians(), bearing.to_radians());
            let phi2 = (phi.sin() * delta.cos() + phi.cos() * delta.sin() * theta.cos()).asin();
            let lambda2 = lambda + (theta.sin() * delta.sin() * phi.cos())
                .atan2(delta.cos() - phi.sin() * phi2.sin());
            let (lat2, lon2) = (phi2.to_degrees(), (lambda2.to_degrees() + 540.0) % 360.0 - 180.0);
            let dist_km = geo_distance_km_deg(lat, lon, lat2, lon2);
            proptest::prop_assume!(dist_km <= radius_km);
            let cell = grid.cell_of(7, unit(lat2, lon2));
            proptest::prop_assert!(grid.neighborhood(7, unit(lat, lon)).any(|c| c == cell));
        }
    }

    #[test]
    fn spread_entries_are_found_from_any_point_within_reach() {
        let grid = CellGrid::new(100.0 / KSQL_FT_PER_KM);
        let mut index = SpatialIndex::new(grid);
        index.insert_around(1, unit(41.88696, -87.59927), 10, 'v', i64::MIN);
        assert!((1..=8).contains(&index.len()));
        let mut seen = Vec::new();
        // ~98 ft north and ~98 ft south-east: both within reach.
        for (lat, lon) in [(41.88723, -87.59927), (41.88676, -87.59902)] {
            index.for_each_in_cell(1, unit(lat, lon), 0, 100, |_, x| seen.push(*x));
        }
        assert_eq!(seen, ['v', 'v']);
    }

    #[test]
    fn countries_never_share_cells() {
        let grid = CellGrid::new(0.03);
        let mut index = SpatialIndex::new(grid);
        let v = unit(41.0, -87.0);
        index.insert(1, v, 10, "usa", i64::MIN);
        index.insert(2, v, 10, "other", i64::MIN);
        let mut seen = Vec::new();
        index.for_each_near(1, v, 0, 100, |_, x| seen.push(*x));
        assert_eq!(seen, ["usa"]);
        assert_eq!(index.len(), 2);
        index.sweep(11);
        assert!(index.is_empty());
    }
}
