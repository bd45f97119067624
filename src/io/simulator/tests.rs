//! The simulator against the engine: determinism, schema, geography and the share of shoppers
//! who get a notification.

use std::collections::{BTreeMap, BTreeSet};

use super::*;
use crate::engine::geo::geo_distance_km_deg;
use crate::engine::{DecimalPolicy, Output, Pipeline, PipelineParams, RawRecord};

fn run(config: SimConfig, minutes: i64) -> Vec<SimRecord> {
    run_chain(&Chain::builtin().unwrap(), config, minutes)
}

fn run_chain(chain: &Chain, config: SimConfig, minutes: i64) -> Vec<SimRecord> {
    let end = config.start_ms + minutes * 60_000;
    let mut sim = Simulator::new(chain, config);
    let mut out = Vec::new();
    let mut record = SimRecord::default();
    while sim.next_into(&mut record) && record.timestamp_ms < end {
        out.push(record.clone());
    }
    out
}

fn raw(record: &SimRecord) -> RawRecord<'_> {
    RawRecord {
        topic: record.topic.unwrap().name().into(),
        timestamp_ms: Some(record.timestamp_ms),
        key: Some(record.key.as_str().into()),
        payload: Some(record.payload_str().into()),
        ..RawRecord::default()
    }
}

fn nearby_uids(records: &[SimRecord], policy: DecimalPolicy) -> (Pipeline, BTreeSet<String>) {
    let mut pipeline = Pipeline::new(PipelineParams {
        decimal_policy: policy,
        ..PipelineParams::default()
    });
    let mut outputs = Vec::new();
    for r in records {
        pipeline.push(&raw(r), &mut outputs);
    }
    let uids = outputs
        .iter()
        .filter_map(|o| match o {
            Output::NearbyCustomer(n) => n.customer.uid.as_deref().map(str::to_owned),
            _ => None,
        })
        .collect();
    (pipeline, uids)
}

#[test]
fn same_seed_same_records_other_seed_other_records() {
    let a = run(SimConfig::default(), 5);
    let b = run(SimConfig::default(), 5);
    assert!(a.len() > 1_000, "{}", a.len());
    assert_eq!(a, b);
    let c = run(
        SimConfig {
            seed: 2,
            ..SimConfig::default()
        },
        5,
    );
    assert_ne!(a, c);
}

#[test]
fn records_come_in_time_order_from_the_start() {
    let records = run(SimConfig::default(), 10);
    assert_eq!(records[0].timestamp_ms, DEFAULT_START_MS);
    assert!(records
        .windows(2)
        .all(|w| w[0].timestamp_ms <= w[1].timestamp_ms));
}

#[test]
fn every_record_decodes_in_both_decimal_policies() {
    let records = run(SimConfig::default(), 30);
    for policy in [DecimalPolicy::Strict, DecimalPolicy::Round] {
        let (pipeline, _) = nearby_uids(&records, policy);
        for topic in Topic::ALL.into_iter().filter(|t| t.is_input()) {
            let counters = pipeline.stats().topic(topic);
            assert!(counters.records > 0, "{topic}");
            assert_eq!(counters.rejected, 0, "{topic} under {policy:?}");
            assert_eq!(counters.late, 0, "{topic}");
        }
    }
    // Every value has every column, non-null, with the names the original scripts used.
    for r in &records {
        let value: serde_json::Value = serde_json::from_str(r.payload_str()).unwrap();
        let fields: &[&str] = match r.topic.unwrap() {
            Topic::CustomersLocations => &["uid", "latitude", "longitude", "country"],
            Topic::StoresProducts => &[
                "sku",
                "segment",
                "variant",
                "latitude",
                "longitude",
                "country",
            ],
            Topic::ProductsPromotions => &[
                "pid",
                "SKU",
                "segment",
                "discount_pct",
                "title",
                "valid_until",
            ],
            other => panic!("simulator wrote {other}"),
        };
        for f in fields {
            assert!(!value[f].is_null(), "{f} missing in {}", r.payload_str());
        }
        assert!(!r.key.is_empty());
    }
}

#[test]
fn customers_stay_in_or_around_their_store() {
    let chain = Chain::builtin().unwrap();
    let records = run(SimConfig::default(), 30);
    let per_store = pings_per_store(&chain, &records);
    assert!(per_store.iter().all(|&n| n > 100), "{per_store:?}");
}

/// The built-in chain's first store moved onto the antimeridian (its centre at 180°), its
/// positions written as GeoJSON has them, in [-180, 180].
fn store_across_the_antimeridian() -> Chain {
    let mut chain = Chain::builtin().unwrap();
    chain.stores.truncate(1);
    let shift = 180.0 - chain.stores[0].center().lon_deg;
    let store = &mut chain.stores[0];
    let points = (store.footprint.iter_mut())
        .chain(std::iter::once(&mut store.entrance))
        .chain(store.aisles.iter_mut().flat_map(|a| a.path.iter_mut()))
        .chain(store.checkout.iter_mut())
        .chain(store.parking.iter_mut())
        .chain(store.sidewalk.iter_mut());
    for p in points {
        p.lon_deg = crate::engine::geo::wrap_lon_deg(p.lon_deg + shift);
    }
    chain
}

/// A store across the antimeridian is simulated like any other: its shoppers walk its
/// aisles (on both sides of 180°), not round the Earth, and get matched.
#[test]
fn a_store_across_the_antimeridian_keeps_its_shoppers() {
    let chain = store_across_the_antimeridian();
    let store = &chain.stores[0];
    let lons = || store.footprint.iter().map(|p| p.lon_deg);
    assert!(lons().any(|lon| lon > 179.99) && lons().any(|lon| lon < -179.99));
    assert!(store.contains(store.center()));
    assert!(
        store.center().lon_deg.abs() > 179.99,
        "{:?}",
        store.center()
    );
    let records = run_chain(&chain, SimConfig::default(), 30);
    let per_store = pings_per_store(&chain, &records);
    assert!(per_store[0] > 100, "{per_store:?}");
    let (_, matched) = nearby_uids(&records, DecimalPolicy::Round);
    assert!(matched.len() > 5, "{matched:?}");
    let sides: BTreeSet<bool> = (records.iter())
        .filter(|r| r.topic == Some(Topic::CustomersLocations))
        .map(|r| {
            let v: serde_json::Value = serde_json::from_str(r.payload_str()).unwrap();
            v["longitude"].as_f64().unwrap() > 0.0
        })
        .collect();
    assert_eq!(sides.len(), 2, "pings on both sides of 180°");
}

/// Pings per store of `chain`, each checked to be within ~100 m of its nearest store.
fn pings_per_store(chain: &Chain, records: &[SimRecord]) -> Vec<usize> {
    let centres: Vec<_> = chain.stores.iter().map(|s| s.center()).collect();
    let mut per_store = vec![0usize; centres.len()];
    for r in records
        .iter()
        .filter(|r| r.topic == Some(Topic::CustomersLocations))
    {
        let v: serde_json::Value = serde_json::from_str(r.payload_str()).unwrap();
        let (lat, lon) = (
            v["latitude"].as_f64().unwrap(),
            v["longitude"].as_f64().unwrap(),
        );
        let (nearest, km) = centres
            .iter()
            .enumerate()
            .map(|(i, c)| (i, geo_distance_km_deg(lat, lon, c.lat_deg, c.lon_deg)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap();
        // The store, its parking lot and the sidewalk are within ~100 m of its centre.
        assert!(
            km < 0.12,
            "ping {km} km from the nearest store: {}",
            r.payload_str()
        );
        assert!((-180.0..=180.0).contains(&lon), "{}", r.payload_str());
        per_store[nearest] += 1;
    }
    per_store
}

#[test]
fn most_shoppers_get_a_notification_and_the_original_profile_almost_none() {
    let records = run(SimConfig::default(), 30);
    let customers: BTreeSet<String> = records
        .iter()
        .filter(|r| r.topic == Some(Topic::CustomersLocations))
        .map(|r| r.key.clone())
        .collect();
    let (_, matched) = nearby_uids(&records, DecimalPolicy::Round);
    let share = matched.len() as f64 / customers.len() as f64;
    assert!(
        share > 0.5 && share < 1.0,
        "{} of {} matched",
        matched.len(),
        customers.len()
    );

    let original = run(
        SimConfig {
            profile: SimProfile::Original,
            ..SimConfig::default()
        },
        30,
    );
    let mut topics = BTreeMap::new();
    for r in &original {
        *topics.entry(r.topic.unwrap()).or_insert(0) += 1;
    }
    assert_eq!(topics.len(), 3, "{topics:?}");
    let (pipeline, matched) = nearby_uids(&original, DecimalPolicy::Strict);
    assert_eq!(
        pipeline.stats().topic(Topic::CustomersLocations).rejected,
        0
    );
    assert!(matched.len() <= 1, "{matched:?}");
}
