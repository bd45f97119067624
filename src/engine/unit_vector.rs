//! A position's point on the unit sphere, for the spatial index: every ping needs one, and
//! libm's `sin` and `cos` of its latitude and longitude were a tenth of the join's
//! instructions.
//!
//! The angles are DECIMAL(10,5) degrees, so an angle is an integer number of units: it splits
//! into three 8-to-10-bit parts whose sines and cosines come from small tables (24 KiB, built
//! once), joined by the angle-addition formulas. That is within a few ulp of libm's answer.
//! The index only needs it conservative, and its reach has a margin (10⁻¹² chord units
//! against an error of ~10⁻¹⁵): which pairs are compared can only grow by pairs the exact
//! formula then refuses, never shrink. GEO_DISTANCE itself keeps libm's exact values.

use std::sync::OnceLock;

use super::geo::LatLon;

/// Radians per DECIMAL(10,5) unit of a degree.
const RAD_PER_UNIT: f64 = std::f64::consts::PI / 180.0 / 100_000.0;

/// Added to an angle's units so that every angle the tables cover is non-negative: 2²⁵
/// units is 335°, more than any latitude or longitude.
const OFFSET_UNITS: i64 = 1 << 25;

/// (sin, cos) of `OFFSET + high·2¹⁶`, of `mid·2⁸` and of `low` units.
struct Tables {
    high: [(f64, f64); 1 << 10],
    mid: [(f64, f64); 1 << 8],
    low: [(f64, f64); 1 << 8],
}

fn tables() -> &'static Tables {
    static TABLES: OnceLock<Box<Tables>> = OnceLock::new();
    TABLES.get_or_init(|| {
        let sin_cos = |units: i64| (units as f64 * RAD_PER_UNIT).sin_cos();
        let mut t = Box::new(Tables {
            high: [(0.0, 0.0); 1 << 10],
            mid: [(0.0, 0.0); 1 << 8],
            low: [(0.0, 0.0); 1 << 8],
        });
        for (i, entry) in t.high.iter_mut().enumerate() {
            *entry = sin_cos(((i as i64) << 16) - OFFSET_UNITS);
        }
        for (i, entry) in t.mid.iter_mut().enumerate() {
            *entry = sin_cos((i as i64) << 8);
        }
        for (i, entry) in t.low.iter_mut().enumerate() {
            *entry = sin_cos(i as i64);
        }
        t
    })
}

/// (sin, cos) of `a + b` from those of `a` and `b`.
#[inline]
fn add((sa, ca): (f64, f64), (sb, cb): (f64, f64)) -> (f64, f64) {
    (sa * cb + ca * sb, ca * cb - sa * sb)
}

/// (sin, cos) of an angle of `units` DECIMAL(10,5) degree units; libm's for an angle the
/// tables do not cover (no decoded coordinate is one).
#[inline]
fn sin_cos_units(t: &Tables, units: i64) -> (f64, f64) {
    let shifted = units.wrapping_add(OFFSET_UNITS) as u64 as usize;
    match t.high.get(shifted >> 16) {
        Some(&high) => {
            let mid = t.mid[(shifted >> 8) & 0xff];
            let low = t.low[shifted & 0xff];
            add(add(high, mid), low)
        }
        None => (units as f64 * RAD_PER_UNIT).sin_cos(),
    }
}

/// The point on the unit sphere of `p` (see the module's doc for its accuracy).
pub fn unit_vector(p: &LatLon) -> [f64; 3] {
    let t = tables();
    let (sin_lat, cos_lat) = sin_cos_units(t, p.lat.units());
    let (sin_lon, cos_lon) = sin_cos_units(t, p.lon.units());
    [cos_lat * cos_lon, cos_lat * sin_lon, sin_lat]
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::engine::decimal::Decimal5;

    /// The exact vector from libm, as the index computed it before the tables.
    fn libm(p: &LatLon) -> [f64; 3] {
        let (lat, lon) = (p.lat_deg().to_radians(), p.lon_deg().to_radians());
        [lat.cos() * lon.cos(), lat.cos() * lon.sin(), lat.sin()]
    }

    fn at(lat_units: i64, lon_units: i64) -> LatLon {
        LatLon {
            lat: Decimal5::from_units(lat_units).expect("a latitude"),
            lon: Decimal5::from_units(lon_units).expect("a longitude"),
        }
    }

    /// Far inside the spatial grid's margin (10⁻¹² chord units), at the poles, the
    /// antimeridian and every table boundary included.
    const TOLERANCE: f64 = 1e-14;

    fn assert_close(p: &LatLon) {
        let (got, want) = (unit_vector(p), libm(p));
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() <= TOLERANCE, "{p:?}: {got:?} vs {want:?}");
        }
    }

    #[test]
    fn the_extremes_and_the_table_boundaries_are_within_the_tolerance() {
        let mut units: Vec<i64> = vec![0, 1, -1, 255, 256, 65_535, 65_536, 9_000_000, -9_000_000];
        units.extend([18_000_000, -18_000_000, 17_999_999, -17_999_999]);
        for k in -300..300 {
            units.push(k << 16);
            units.push((k << 16) - 1);
        }
        for &lat in units.iter().filter(|u| u.abs() <= 9_000_000) {
            for &lon in &units {
                assert_close(&at(lat, lon));
            }
        }
    }

    proptest! {
        #[test]
        fn any_coordinate_is_within_the_tolerance(
            lat in -9_000_000i64..=9_000_000,
            lon in -18_000_000i64..=18_000_000,
        ) {
            assert_close(&at(lat, lon));
        }
    }
}
