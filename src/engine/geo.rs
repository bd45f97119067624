//! Positions and ksqlDB's GEO_DISTANCE.

use super::decimal::Decimal5;

/// Earth radius GEO_DISTANCE uses for kilometres.
pub const EARTH_RADIUS_KM: f64 = 6371.0;
/// ksqlDB's km → ft factor in the original's DIST_TO_STORE (3281, not 3280.84: kept for
/// identical results). The engine's distances are in these feet.
pub const KSQL_FT_PER_KM: f64 = 3281.0;
/// Metres in a foot, for drawing and scales (a geofence in feet drawn to scale on a map).
pub const M_PER_FT: f64 = 0.3048;

/// A position as the topics carry it: two DECIMAL(10,5) degrees, range-checked on decoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LatLon {
    pub lat: Decimal5,
    pub lon: Decimal5,
}

impl LatLon {
    pub fn lat_deg(&self) -> f64 {
        self.lat.to_f64()
    }

    pub fn lon_deg(&self) -> f64 {
        self.lon.to_f64()
    }

    /// The point on the unit sphere, for the spatial index (chord distances need no wrap-around
    /// at ±180° and no special case at the poles): within ~10⁻¹⁵ of the exact one, see
    /// [`super::unit_vector`].
    pub fn unit_vector(&self) -> [f64; 3] {
        super::unit_vector::unit_vector(self)
    }
}

/// A [`LatLon`] in 8 bytes instead of 16: its DECIMAL(10,5) units as two `i32`s (decoding
/// refuses |latitude| > 90 and |longitude| > 180, so every decoded position fits), for state
/// kept per ping or per pair. [`LatLonUnits::NONE`] stands for no position in state that
/// cannot spare the bytes of an `Option`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LatLonUnits {
    lat: i32,
    lon: i32,
}

impl LatLonUnits {
    /// No position: a latitude no position has.
    pub const NONE: LatLonUnits = LatLonUnits {
        lat: i32::MIN,
        lon: 0,
    };

    /// `p`, if its units fit (every decoded position's do).
    pub fn new(p: LatLon) -> Option<LatLonUnits> {
        let units = LatLonUnits {
            lat: i32::try_from(p.lat.units()).ok()?,
            lon: i32::try_from(p.lon.units()).ok()?,
        };
        (units.lat != Self::NONE.lat).then_some(units)
    }

    /// The position, exactly as it was; `None` for [`LatLonUnits::NONE`].
    pub fn lat_lon(self) -> Option<LatLon> {
        if self.lat == Self::NONE.lat {
            return None;
        }
        Some(LatLon {
            lat: Decimal5::from_units(i64::from(self.lat))?,
            lon: Decimal5::from_units(i64::from(self.lon))?,
        })
    }
}

/// A position in plain degrees, for geometry (store layouts, map drawing, the simulator).
/// Topic values use [`LatLon`], which is exact.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LatLonDeg {
    pub lat_deg: f64,
    pub lon_deg: f64,
}

/// `lon_deg` moved by whole turns into [-180, 180): a longitude worked out east of 180° (a
/// store across the antimeridian) is written as the one every reader expects.
pub fn wrap_lon_deg(lon_deg: f64) -> f64 {
    if (-180.0..180.0).contains(&lon_deg) {
        return lon_deg;
    }
    (lon_deg + 180.0).rem_euclid(360.0) - 180.0
}

/// `lon_deg` moved by whole turns to within 180° of `reference_deg` (unchanged when it is
/// already): a shape across the antimeridian drawn or measured as one piece, around any of
/// its points.
pub fn lon_near_deg(lon_deg: f64, reference_deg: f64) -> f64 {
    let d = lon_deg - reference_deg;
    if (-180.0..=180.0).contains(&d) {
        lon_deg
    } else {
        lon_deg - 360.0 * (d / 360.0).round()
    }
}

/// How far east `lon_deg` lies from `from_deg`, the short way round: in [-180, 180). Near
/// the antimeridian 179.9° and -179.9° are 0.2° apart, not 359.8°.
pub fn lon_east_of_deg(lon_deg: f64, from_deg: f64) -> f64 {
    wrap_lon_deg(lon_deg - from_deg)
}

/// A flat east/north frame in metres around an origin: good to well under a centimetre over a
/// store and its parking lot, which is all it is used for. East is measured the short way
/// round, so a store across the antimeridian is as flat as any other.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LocalFrame {
    origin: LatLonDeg,
    m_per_deg_lat: f64,
    m_per_deg_lon: f64,
}

/// A point in a [`LocalFrame`].
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Meters {
    pub east_m: f64,
    pub north_m: f64,
}

impl Meters {
    pub fn new(east_m: f64, north_m: f64) -> Self {
        Self { east_m, north_m }
    }

    pub fn distance_m(self, other: Meters) -> f64 {
        (self.east_m - other.east_m).hypot(self.north_m - other.north_m)
    }

    /// The point `t` (0..=1) of the way to `other`.
    pub fn lerp(self, other: Meters, t: f64) -> Meters {
        Meters {
            east_m: self.east_m + (other.east_m - self.east_m) * t,
            north_m: self.north_m + (other.north_m - self.north_m) * t,
        }
    }
}

impl LocalFrame {
    pub fn new(origin: LatLonDeg) -> Self {
        let m_per_deg_lat = EARTH_RADIUS_KM * 1000.0 * std::f64::consts::PI / 180.0;
        Self {
            origin,
            m_per_deg_lat,
            m_per_deg_lon: m_per_deg_lat * origin.lat_deg.to_radians().cos(),
        }
    }

    pub fn to_local(&self, p: LatLonDeg) -> Meters {
        Meters {
            east_m: lon_east_of_deg(p.lon_deg, self.origin.lon_deg) * self.m_per_deg_lon,
            north_m: (p.lat_deg - self.origin.lat_deg) * self.m_per_deg_lat,
        }
    }

    pub fn to_geo(&self, m: Meters) -> LatLonDeg {
        LatLonDeg {
            lat_deg: self.origin.lat_deg + m.north_m / self.m_per_deg_lat,
            lon_deg: wrap_lon_deg(self.origin.lon_deg + m.east_m / self.m_per_deg_lon),
        }
    }
}

/// ksqlDB's GEO_DISTANCE in km: the haversine formula on the DECIMALs widened to f64,
/// a = sin²(Δφ/2) + sin²(Δλ/2)·cos φ1·cos φ2, d = 2·asin(√a)·6371.
pub fn geo_distance_km(a: &LatLon, b: &LatLon) -> f64 {
    geo_distance_km_deg(a.lat_deg(), a.lon_deg(), b.lat_deg(), b.lon_deg())
}

/// [`geo_distance_km`] on plain degrees.
pub fn geo_distance_km_deg(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    haversine_km(
        lat1,
        lon1,
        lat1.to_radians().cos(),
        lat2,
        lon2,
        lat2.to_radians().cos(),
    )
}

/// The formula with cos φ supplied, so a join can compute it once per record. Every caller
/// gets bit-identical results: the same operations in the same order.
fn haversine_km(lat1: f64, lon1: f64, cos_lat1: f64, lat2: f64, lon2: f64, cos_lat2: f64) -> f64 {
    let d_lat = (lat2 - lat1).to_radians();
    let d_lon = (lon2 - lon1).to_radians();
    let half_lat = (d_lat / 2.0).sin();
    let half_lon = (d_lon / 2.0).sin();
    let a = half_lat * half_lat + half_lon * half_lon * cos_lat1 * cos_lat2;
    // Rounding can push `a` a hair above 1 for antipodal points; asin would give NaN.
    2.0 * a.sqrt().min(1.0).asin() * EARTH_RADIUS_KM
}

/// A position with what the distance formula and the spatial index need, computed once.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GeoPoint {
    pub lat_deg: f64,
    pub lon_deg: f64,
    cos_lat: f64,
    /// The point on the unit sphere.
    pub unit: [f64; 3],
}

impl From<LatLon> for GeoPoint {
    fn from(p: LatLon) -> Self {
        let (lat_deg, lon_deg) = (p.lat_deg(), p.lon_deg());
        Self {
            lat_deg,
            lon_deg,
            cos_lat: lat_deg.to_radians().cos(),
            unit: p.unit_vector(),
        }
    }
}

impl GeoPoint {
    /// [`geo_distance_km`] from `self` to `other`, bit for bit.
    pub fn distance_km(&self, other: &GeoPoint) -> f64 {
        haversine_km(
            self.lat_deg,
            self.lon_deg,
            self.cos_lat,
            other.lat_deg,
            other.lon_deg,
            other.cos_lat,
        )
    }

    /// The squared straight-line distance on the unit sphere: a cheap, monotone stand-in for
    /// the great-circle distance, used to skip pairs far outside a geofence.
    pub fn chord_squared(&self, other: &GeoPoint) -> f64 {
        let d = [
            self.unit[0] - other.unit[0],
            self.unit[1] - other.unit[1],
            self.unit[2] - other.unit[2],
        ];
        d[0] * d[0] + d[1] * d[1] + d[2] * d[2]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::decimal::DecimalPolicy;

    #[test]
    fn longitudes_wrap_into_one_turn_and_differ_the_short_way_round() {
        assert_eq!(wrap_lon_deg(12.5), 12.5);
        assert_eq!(wrap_lon_deg(-180.0), -180.0);
        assert_eq!(wrap_lon_deg(180.0), -180.0);
        assert!((wrap_lon_deg(180.25) - -179.75).abs() < 1e-12);
        assert!((wrap_lon_deg(-540.5) - 179.5).abs() < 1e-12);
        assert!((lon_east_of_deg(-179.9, 179.9) - 0.2).abs() < 1e-9);
        assert!((lon_east_of_deg(179.9, -179.9) - -0.2).abs() < 1e-9);
        assert!((lon_east_of_deg(10.0, -20.0) - 30.0).abs() < 1e-12);
        assert_eq!(lon_near_deg(-179.9, -170.0), -179.9);
        assert!((lon_near_deg(-179.9, 179.9) - 180.1).abs() < 1e-9);
        assert!((lon_near_deg(179.9, -179.9) - -180.1).abs() < 1e-9);
        assert!((lon_near_deg(170.0, -900.0) - -910.0).abs() < 1e-9);
    }

    /// A frame on the antimeridian: points either side are metres apart, and come back as
    /// longitudes in [-180, 180).
    #[test]
    fn a_local_frame_across_the_antimeridian_is_flat() {
        let frame = LocalFrame::new(LatLonDeg {
            lat_deg: -18.14,
            lon_deg: 179.9999,
        });
        let west = frame.to_local(LatLonDeg {
            lat_deg: -18.14,
            lon_deg: 179.9998,
        });
        let east = frame.to_local(LatLonDeg {
            lat_deg: -18.14,
            lon_deg: -179.9998,
        });
        assert!(west.east_m < 0.0 && west.east_m > -11.0, "{west:?}");
        assert!(east.east_m > 0.0 && east.east_m < 33.0, "{east:?}");
        let back = frame.to_geo(east);
        assert!((back.lon_deg - -179.9998).abs() < 1e-9, "{back:?}");
        let beyond = frame.to_geo(Meters::new(50.0, 0.0));
        assert!((-180.0..180.0).contains(&beyond.lon_deg), "{beyond:?}");
    }

    fn at(lat: &str, lon: &str) -> LatLon {
        LatLon {
            lat: Decimal5::parse(lat, DecimalPolicy::Strict).unwrap(),
            lon: Decimal5::parse(lon, DecimalPolicy::Strict).unwrap(),
        }
    }

    #[test]
    fn zero_for_the_same_point() {
        let p = at("41.88696", "-87.59927");
        assert_eq!(geo_distance_km(&p, &p), 0.0);
    }

    #[test]
    fn one_degree_of_latitude_is_r_times_pi_over_180() {
        let d = geo_distance_km(&at("0", "0"), &at("1", "0"));
        assert!((d - EARTH_RADIUS_KM * std::f64::consts::PI / 180.0).abs() < 1e-9);
        assert!((d - 111.19492664455873).abs() < 1e-9);
    }

    #[test]
    fn known_city_pairs() {
        // Reference values from the haversine formula with R = 6371 km.
        let london = at("51.5007", "-0.1246");
        let new_york = at("40.6892", "-74.0445");
        assert!((geo_distance_km(&london, &new_york) - 5574.840456848555).abs() < 1e-6);
        let chicago = at("41.88696", "-87.59927");
        let antipode = at("-41.88696", "92.40073");
        assert!(
            (geo_distance_km(&chicago, &antipode) - EARTH_RADIUS_KM * std::f64::consts::PI).abs()
                < 1e-6
        );
    }

    #[test]
    fn wraps_across_the_antimeridian() {
        let east = at("10", "179.99999");
        let west = at("10", "-179.99999");
        let feet = geo_distance_km(&east, &west) * KSQL_FT_PER_KM;
        assert!(feet < 8.0, "{feet}");
    }

    #[test]
    fn local_frame_round_trips_and_matches_haversine() {
        let origin = LatLonDeg {
            lat_deg: 41.8801,
            lon_deg: -87.62775,
        };
        let frame = LocalFrame::new(origin);
        let m = Meters::new(30.0, -24.0);
        let p = frame.to_geo(m);
        let back = frame.to_local(p);
        assert!((back.east_m - 30.0).abs() < 1e-9 && (back.north_m + 24.0).abs() < 1e-9);
        let km = geo_distance_km_deg(origin.lat_deg, origin.lon_deg, p.lat_deg, p.lon_deg);
        assert!(
            (km * 1000.0 - m.distance_m(Meters::default())).abs() < 0.01,
            "{km}"
        );
    }

    #[test]
    fn geo_point_distance_is_bit_identical() {
        let a = at("41.88696", "-87.59927");
        let b = at("41.88713", "-87.59911");
        let (pa, pb) = (GeoPoint::from(a), GeoPoint::from(b));
        assert_eq!(
            pa.distance_km(&pb).to_bits(),
            geo_distance_km(&a, &b).to_bits()
        );
        assert!(pa.chord_squared(&pb) > 0.0);
    }

    #[test]
    fn small_offsets_in_feet() {
        let a = at("41.88696", "-87.59927");
        let b = at("41.88713", "-87.59927");
        assert_eq!(geo_distance_km(&a, &b), geo_distance_km(&b, &a));
        // 0.00017° of latitude ≈ 18.9 m ≈ 62 ft.
        let feet = geo_distance_km(&a, &b) * KSQL_FT_PER_KM;
        assert!((feet - 62.0).abs() < 0.5, "{feet}");
    }
}
