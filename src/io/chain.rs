//! The retail chain: stores with footprints, entrances, aisles, checkouts, parking lots and
//! sidewalks, kept as a GeoJSON file (`assets/chain.geojson`) that the simulator, the map and
//! the tests all read.
//!
//! GeoJSON so that a retailer can draw their own layouts in any GIS tool: each feature has a
//! `kind` property (`store`, `aisle`, `checkout`, `parking`, `sidewalk`); everything but a store
//! names its store by `store` id. Chain-wide settings live in a `chain` member of the
//! FeatureCollection (a foreign member, which RFC 7946 allows).

use std::borrow::Cow;
use std::path::Path;

use serde_json::{json, Map, Value};

use crate::engine::geo::{
    geo_distance_km_deg, lon_near_deg, wrap_lon_deg, LatLonDeg, EARTH_RADIUS_KM,
};

/// The chain file that ships with instore.
pub const DEFAULT_CHAIN_PATH: &str = "assets/chain.geojson";
/// The same file, built in, so the binary works from any directory.
pub const DEFAULT_CHAIN_GEOJSON: &str = include_str!("../../assets/chain.geojson");

#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    #[error("cannot read chain file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("chain file is not JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("chain file: {0}")]
    Invalid(String),
}

/// A whole chain.
#[derive(Clone, Debug, PartialEq)]
pub struct Chain {
    pub name: String,
    /// Segments products belong to (the join key of the original pipeline).
    pub segments: Vec<String>,
    /// How many products the simulator puts along each aisle (both sides).
    pub products_per_aisle: usize,
    pub stores: Vec<Store>,
}

/// One store and what surrounds it.
#[derive(Clone, Debug, PartialEq)]
pub struct Store {
    pub id: String,
    pub name: String,
    pub address: String,
    pub city: String,
    /// The country key the joins match on.
    pub country: String,
    /// The outline, first point repeated last.
    pub footprint: Vec<LatLonDeg>,
    pub entrance: LatLonDeg,
    pub aisles: Vec<Aisle>,
    /// The checkout line (shoppers pause there before leaving).
    pub checkout: Vec<LatLonDeg>,
    /// Where shoppers park; empty when the store has none.
    pub parking: Vec<LatLonDeg>,
    /// Where passers-by walk past the entrance; empty when none.
    pub sidewalk: Vec<LatLonDeg>,
}

/// An aisle: shelves on both sides of a walking line.
#[derive(Clone, Debug, PartialEq)]
pub struct Aisle {
    pub name: String,
    pub segment: String,
    pub path: Vec<LatLonDeg>,
}

impl Store {
    /// The mean of the footprint's corners: where the map centres on this store. Longitudes
    /// are averaged as offsets from the first corner, so a store across the antimeridian has
    /// its centre inside it, not on the far side of the Earth.
    pub fn center(&self) -> LatLonDeg {
        let corners = match self.footprint.split_last() {
            Some((last, rest)) if Some(last) == rest.first() => rest,
            _ => &self.footprint[..],
        };
        let n = corners.len().max(1) as f64;
        let first_lon = corners.first().map_or(0.0, |p| p.lon_deg);
        let lon_sum: f64 = (corners.iter())
            .map(|p| lon_near_deg(p.lon_deg, first_lon))
            .sum();
        LatLonDeg {
            lat_deg: corners.iter().map(|p| p.lat_deg).sum::<f64>() / n,
            lon_deg: wrap_lon_deg(lon_sum / n),
        }
    }
}

impl Store {
    /// Whether `p` lies inside the footprint (ray casting; the outline's first point may or
    /// may not be repeated last). Corners are taken within 180° of `p`'s longitude, so a
    /// footprint across the antimeridian is one small polygon.
    pub fn contains(&self, p: LatLonDeg) -> bool {
        let outline = &self.footprint;
        let lon = |q: LatLonDeg| lon_near_deg(q.lon_deg, p.lon_deg);
        let mut inside = false;
        let mut j = outline.len().wrapping_sub(1);
        for i in 0..outline.len() {
            let (a, b) = (outline[i], outline[j]);
            if (a.lat_deg > p.lat_deg) != (b.lat_deg > p.lat_deg) {
                let t = (p.lat_deg - a.lat_deg) / (b.lat_deg - a.lat_deg);
                if p.lon_deg < lon(a) + t * (lon(b) - lon(a)) {
                    inside = !inside;
                }
            }
            j = i;
        }
        inside
    }
}

impl Chain {
    /// The store whose footprint holds `p`.
    pub fn store_containing(&self, p: LatLonDeg) -> Option<&Store> {
        self.stores.iter().find(|s| s.contains(p))
    }

    /// The chain that ships with instore.
    pub fn builtin() -> Result<Chain, ChainError> {
        Chain::from_geojson(DEFAULT_CHAIN_GEOJSON)
    }

    /// The store a product at `p` belongs to: the nearest whose centre is within 200 m (a
    /// store's shelves and the products just outside its walls).
    pub fn store_of_product(&self, p: LatLonDeg) -> Option<&Store> {
        self.store_near(p, 200.0)
    }

    /// The store whose centre is nearest `p`, if within `max_m` metres.
    pub fn store_near(&self, p: LatLonDeg, max_m: f64) -> Option<&Store> {
        // The distance is at least the arc of the latitudes' difference: a store further
        // north or south than that (with room for rounding) is skipped without trigonometry.
        let m_per_deg_lat = EARTH_RADIUS_KM * 1000.0 * std::f64::consts::PI / 180.0;
        let max_dlat_deg = (max_m * 1.001 + 1.0) / m_per_deg_lat;
        self.stores
            .iter()
            .filter_map(|s| {
                let c = s.center();
                if (c.lat_deg - p.lat_deg).abs() > max_dlat_deg {
                    return None;
                }
                let m = geo_distance_km_deg(p.lat_deg, p.lon_deg, c.lat_deg, c.lon_deg) * 1000.0;
                Some((s, m))
            })
            .filter(|(_, m)| *m <= max_m)
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(s, _)| s)
    }

    pub fn load(path: &Path) -> Result<Chain, ChainError> {
        let text = std::fs::read_to_string(path).map_err(|source| ChainError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Chain::from_geojson(&text)
    }

    pub fn from_geojson(text: &str) -> Result<Chain, ChainError> {
        let doc: Value = serde_json::from_str(text)?;
        let chain = doc.get("chain").cloned().unwrap_or(Value::Null);
        let features = doc
            .get("features")
            .and_then(Value::as_array)
            .ok_or_else(|| invalid("no \"features\" array"))?;
        let mut stores = Vec::new();
        let mut parts = Vec::new();
        for (i, feature) in features.iter().enumerate() {
            let props = feature
                .get("properties")
                .and_then(Value::as_object)
                .ok_or_else(|| invalid(format!("feature {i} has no properties")))?;
            let geometry = feature
                .get("geometry")
                .ok_or_else(|| invalid(format!("feature {i} has no geometry")))?;
            match &*text_prop(props, "kind") {
                "store" => stores.push(store_from(i, props, geometry)?),
                "" => return Err(invalid(format!("feature {i} has no \"kind\""))),
                _ => parts.push((i, props, geometry)),
            }
        }
        for (i, props, geometry) in parts {
            let store_id = text_prop(props, "store");
            let store = stores
                .iter_mut()
                .find(|s| s.id == store_id)
                .ok_or_else(|| invalid(format!("feature {i} names unknown store {store_id:?}")))?;
            match &*text_prop(props, "kind") {
                "aisle" => store.aisles.push(Aisle {
                    name: text_prop(props, "name").into_owned(),
                    segment: text_prop(props, "segment").into_owned(),
                    path: line_string(i, geometry)?,
                }),
                "checkout" => store.checkout = line_string(i, geometry)?,
                "parking" => store.parking = polygon(i, geometry)?,
                "sidewalk" => store.sidewalk = line_string(i, geometry)?,
                other => return Err(invalid(format!("feature {i} has unknown kind {other:?}"))),
            }
        }
        if stores.is_empty() {
            return Err(invalid("no store features"));
        }
        let mut segments: Vec<String> = chain
            .get("segments")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        for aisle in stores.iter().flat_map(|s| &s.aisles) {
            if !segments.contains(&aisle.segment) {
                segments.push(aisle.segment.clone());
            }
        }
        Ok(Chain {
            name: chain
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("Unnamed chain")
                .to_owned(),
            segments,
            products_per_aisle: chain
                .get("products_per_aisle")
                .and_then(Value::as_u64)
                .map_or(12, |n| n as usize),
            stores,
        })
    }

    /// The chain as GeoJSON, one feature per line (diff-friendly).
    pub fn to_geojson(&self) -> String {
        let mut features = Vec::new();
        for s in &self.stores {
            features.push(feature(
                json!({"kind": "store", "id": s.id, "name": s.name, "address": s.address,
                       "city": s.city, "country": s.country, "entrance": position(s.entrance)}),
                json!({"type": "Polygon", "coordinates": [positions(&s.footprint)]}),
            ));
            for a in &s.aisles {
                features.push(feature(
                    json!({"kind": "aisle", "store": s.id, "name": a.name, "segment": a.segment}),
                    json!({"type": "LineString", "coordinates": positions(&a.path)}),
                ));
            }
            let extras = [
                ("checkout", "LineString", &s.checkout),
                ("parking", "Polygon", &s.parking),
                ("sidewalk", "LineString", &s.sidewalk),
            ];
            for (kind, geometry_type, points) in extras {
                if points.is_empty() {
                    continue;
                }
                let coordinates = match geometry_type {
                    "Polygon" => json!([positions(points)]),
                    _ => positions(points),
                };
                features.push(feature(
                    json!({"kind": kind, "store": s.id}),
                    json!({"type": geometry_type, "coordinates": coordinates}),
                ));
            }
        }
        let chain = json!({"name": self.name, "segments": self.segments,
                           "products_per_aisle": self.products_per_aisle});
        let body: Vec<String> = features.iter().map(|f| format!("  {f}")).collect();
        format!(
            "{{\"type\": \"FeatureCollection\",\n \"chain\": {chain},\n \"features\": [\n{}\n ]\n}}\n",
            body.join(",\n")
        )
    }
}

fn invalid(message: impl Into<String>) -> ChainError {
    ChainError::Invalid(message.into())
}

/// A property as text: GIS tools often write ids and store references as numbers (`"id": 12`).
fn text_prop<'a>(props: &'a Map<String, Value>, name: &str) -> Cow<'a, str> {
    match props.get(name) {
        Some(Value::String(text)) => Cow::Borrowed(text),
        Some(Value::Number(n)) => Cow::Owned(n.to_string()),
        _ => Cow::Borrowed(""),
    }
}

fn store_from(i: usize, props: &Map<String, Value>, geometry: &Value) -> Result<Store, ChainError> {
    let id = text_prop(props, "id");
    if id.is_empty() {
        return Err(invalid(format!("store feature {i} has no \"id\"")));
    }
    let country = text_prop(props, "country");
    if country.is_empty() {
        return Err(invalid(format!("store {id} has no \"country\"")));
    }
    let footprint = polygon(i, geometry)?;
    let entrance = match props.get("entrance") {
        Some(v) => point(i, v)?,
        None => footprint[0],
    };
    Ok(Store {
        id: id.into_owned(),
        name: text_prop(props, "name").into_owned(),
        address: text_prop(props, "address").into_owned(),
        city: text_prop(props, "city").into_owned(),
        country: country.into_owned(),
        footprint,
        entrance,
        aisles: Vec::new(),
        checkout: Vec::new(),
        parking: Vec::new(),
        sidewalk: Vec::new(),
    })
}

/// A GeoJSON position `[lon, lat]`.
fn point(i: usize, v: &Value) -> Result<LatLonDeg, ChainError> {
    let pair = v.as_array().filter(|a| a.len() >= 2);
    let coordinate = |k: usize| pair.and_then(|a| a[k].as_f64());
    match (coordinate(1), coordinate(0)) {
        (Some(lat_deg), Some(lon_deg))
            if (-90.0..=90.0).contains(&lat_deg) && (-180.0..=180.0).contains(&lon_deg) =>
        {
            Ok(LatLonDeg { lat_deg, lon_deg })
        }
        _ => Err(invalid(format!("feature {i}: bad position {v}"))),
    }
}

/// The coordinates of a geometry of type `single`, or of the part of a `Multi…` of it with
/// the most positions (GIS tools export a building or a path as a one-part multi-geometry).
fn single_or_largest_part<'a>(
    i: usize,
    geometry: &'a Value,
    single: &str,
) -> Result<&'a Vec<Value>, ChainError> {
    let found = geometry.get("type").and_then(Value::as_str).unwrap_or("?");
    if found == single {
        return coordinates(i, geometry);
    }
    if found.strip_prefix("Multi") != Some(single) {
        return Err(invalid(format!(
            "feature {i}: expected a {single}, found {found}"
        )));
    }
    // A polygon part counts the positions of its outer ring.
    let size = |part: &Value| match single {
        "Polygon" => part.get(0).and_then(Value::as_array).map_or(0, Vec::len),
        _ => part.as_array().map_or(0, Vec::len),
    };
    coordinates(i, geometry)?
        .iter()
        .filter_map(|part| Some((size(part), part.as_array()?)))
        .max_by_key(|(size, _)| *size)
        .map(|(_, part)| part)
        .ok_or_else(|| invalid(format!("feature {i}: an empty {found}")))
}

fn line_string(i: usize, geometry: &Value) -> Result<Vec<LatLonDeg>, ChainError> {
    let points = single_or_largest_part(i, geometry, "LineString")?
        .iter()
        .map(|p| point(i, p))
        .collect::<Result<Vec<_>, _>>()?;
    if points.len() < 2 {
        return Err(invalid(format!("feature {i}: a line needs two points")));
    }
    Ok(points)
}

fn polygon(i: usize, geometry: &Value) -> Result<Vec<LatLonDeg>, ChainError> {
    let ring = single_or_largest_part(i, geometry, "Polygon")?
        .first()
        .and_then(Value::as_array)
        .ok_or_else(|| invalid(format!("feature {i}: polygon without a ring")))?;
    let points = ring
        .iter()
        .map(|p| point(i, p))
        .collect::<Result<Vec<_>, _>>()?;
    if points.len() < 4 {
        return Err(invalid(format!("feature {i}: a ring needs four points")));
    }
    Ok(points)
}

fn coordinates(i: usize, geometry: &Value) -> Result<&Vec<Value>, ChainError> {
    geometry
        .get("coordinates")
        .and_then(Value::as_array)
        .ok_or_else(|| invalid(format!("feature {i}: no coordinates")))
}

fn position(p: LatLonDeg) -> Value {
    json!([p.lon_deg, p.lat_deg])
}

fn positions(points: &[LatLonDeg]) -> Value {
    Value::Array(points.iter().map(|p| position(*p)).collect())
}

fn feature(properties: Value, geometry: Value) -> Value {
    json!({"type": "Feature", "properties": properties, "geometry": geometry})
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Skipping stores by latitude never changes which store is found: the same answer
        /// as measuring the distance to every store, for points all around each store near
        /// the edge of the radius (where a skip too eager would show).
        #[test]
        fn the_nearest_store_is_found_as_by_measuring_all(
            store in 0usize..64,
            bearing in 0.0f64..std::f64::consts::TAU,
            edge in 0.95f64..1.05,
            max_m in 0.0f64..300.0,
        ) {
            let chain = Chain::builtin().unwrap();
            let c = chain.stores[store % chain.stores.len()].center();
            let (north_m, east_m) = (max_m * edge * bearing.cos(), max_m * edge * bearing.sin());
            let p = LatLonDeg {
                lat_deg: c.lat_deg + north_m / 111_195.0,
                lon_deg: c.lon_deg + east_m / (111_195.0 * c.lat_deg.to_radians().cos()),
            };
            let measured = (chain.stores.iter())
                .map(|s| {
                    let c = s.center();
                    (s, geo_distance_km_deg(p.lat_deg, p.lon_deg, c.lat_deg, c.lon_deg) * 1000.0)
                })
                .filter(|(_, m)| *m <= max_m)
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .map(|(s, _)| &s.id);
            prop_assert_eq!(chain.store_near(p, max_m).map(|s| &s.id), measured);
        }
    }

    #[test]
    fn a_store_contains_its_centre_and_aisles_but_not_its_parking() {
        let chain = Chain::builtin().unwrap();
        for store in &chain.stores {
            assert!(store.contains(store.center()), "{}", store.id);
            for aisle in &store.aisles {
                assert!(store.contains(aisle.path[0]), "{} {}", store.id, aisle.name);
            }
            for p in &store.parking {
                assert!(!store.contains(*p), "{}", store.id);
            }
            assert_eq!(
                chain.store_containing(store.center()).map(|s| &s.id),
                Some(&store.id)
            );
        }
        let nowhere = LatLonDeg {
            lat_deg: -33.87,
            lon_deg: 151.2,
        };
        assert!(chain.store_containing(nowhere).is_none());
    }

    #[test]
    fn the_shipped_chain_loads() {
        let chain = Chain::builtin().unwrap();
        assert_eq!(chain.name, "Northwind Market");
        assert_eq!(chain.segments, ["SegmentA", "SegmentB", "SegmentC"]);
        assert_eq!(chain.stores.len(), 6);
        let countries: Vec<&str> = chain.stores.iter().map(|s| s.country.as_str()).collect();
        assert!(countries.contains(&"USA") && countries.contains(&"CAN"));
        for store in &chain.stores {
            assert_eq!(store.aisles.len(), 8, "{}", store.id);
            assert!(!store.parking.is_empty() && !store.sidewalk.is_empty());
            assert_eq!(store.checkout.len(), 2);
        }
        // The file on disk is the one built in.
        let on_disk = Chain::load(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join(DEFAULT_CHAIN_PATH)
                .as_path(),
        );
        assert_eq!(on_disk.unwrap(), chain);
    }

    #[test]
    fn round_trips_through_geojson() {
        let chain = Chain::builtin().unwrap();
        let text = chain.to_geojson();
        assert_eq!(Chain::from_geojson(&text).unwrap(), chain);
    }

    /// What a GIS tool exports: numeric ids and store references, buildings as (one-part)
    /// MultiPolygons, paths as MultiLineStrings, positions with a height.
    #[test]
    fn reads_a_chain_as_gis_tools_export_it() {
        let text = r#"{"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {"kind": "store", "id": 12, "country": "NZL"},
             "geometry": {"type": "MultiPolygon", "coordinates": [
                [[[174.7, -36.8], [174.7001, -36.8], [174.7001, -36.8001], [174.7, -36.8]]],
                [[[174.7, -36.8, 3.5], [174.701, -36.8, 3.5], [174.701, -36.801, 3.5],
                  [174.7, -36.801, 3.5], [174.7, -36.8, 3.5]]]]}},
            {"type": "Feature", "properties": {"kind": "aisle", "store": 12, "segment": "S"},
             "geometry": {"type": "MultiLineString", "coordinates": [
                [[174.7002, -36.8002], [174.7002, -36.8008]]]}}]}"#;
        let chain = Chain::from_geojson(text).unwrap();
        let store = &chain.stores[0];
        assert_eq!(
            (store.id.as_str(), store.footprint.len()),
            ("12", 5),
            "the larger part"
        );
        assert_eq!(store.aisles.len(), 1);
        assert!(store.contains(store.aisles[0].path[0]));
        let point = r#"{"features": [{"type": "Feature", "properties": {"kind": "store", "id": "S", "country": "USA"},
            "geometry": {"type": "Point", "coordinates": [0, 0]}}]}"#;
        let err = Chain::from_geojson(point).unwrap_err().to_string();
        assert!(err.contains("expected a Polygon, found Point"), "{err}");
    }

    #[test]
    fn explains_what_is_wrong() {
        let err = |text: &str| Chain::from_geojson(text).unwrap_err().to_string();
        assert!(err("nope").contains("not JSON"));
        assert!(err(r#"{"type": "FeatureCollection", "features": []}"#).contains("no store"));
        let orphan = r#"{"features": [{"type": "Feature", "properties": {"kind": "aisle", "store": "X"},
            "geometry": {"type": "LineString", "coordinates": [[0, 0], [0, 1]]}}]}"#;
        assert!(err(orphan).contains("unknown store \"X\""));
        let bad = r#"{"features": [{"type": "Feature", "properties": {"kind": "store", "id": "S", "country": "USA"},
            "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [0, 95], [1, 1], [0, 0]]]}}]}"#;
        assert!(err(bad).contains("bad position"));
    }
}
