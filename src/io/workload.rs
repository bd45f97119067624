//! A synthetic, clustered workload for benchmarks: stores on a grid, products on their
//! shelves, pings around the stores.
//!
//! Unlike the original mock scripts (random points on the globe, so nothing ever matches),
//! pings cluster in and around stores, so the geofence filter and the outputs are exercised
//! the way a real chain exercises them. Deterministic for a seed.

use std::fmt::Write as _;

use crate::engine::Topic;
use crate::io::simulator::rng::SplitMix64;

/// Sizes of a workload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WorkloadSpec {
    pub stores: usize,
    pub products: usize,
    pub promotions: usize,
    pub pings: usize,
    /// Distinct segments products are spread over (promotions name one each).
    pub segments: usize,
    /// Event time the pings spread over.
    pub span_ms: i64,
    pub start_ms: i64,
    pub seed: u64,
}

impl Default for WorkloadSpec {
    /// The BENCHMARKS.md workload: 10k products in 200 stores, 200k pings over 30 minutes.
    fn default() -> Self {
        Self {
            stores: 200,
            products: 10_000,
            promotions: 4,
            pings: 200_000,
            segments: 12,
            span_ms: 30 * 60_000,
            start_ms: 1_764_144_000_000,
            seed: 42,
        }
    }
}

/// One generated record: topic, timestamp and JSON value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkloadRecord {
    pub topic: Topic,
    pub timestamp_ms: i64,
    pub key: Option<String>,
    pub payload: String,
}

/// Half the side of a store in 10⁻⁵ degrees of latitude (~100 ft).
const STORE_HALF_SIDE_UNITS: i64 = 27;

/// Generates the workload in timestamp order: the catalog, then the promotions, then pings.
pub fn generate(spec: &WorkloadSpec) -> Vec<WorkloadRecord> {
    let mut rng = SplitMix64::new(spec.seed);
    let stores: Vec<(i64, i64)> = (0..spec.stores.max(1))
        .map(|i| {
            // A 20-wide grid over the continental US, ~0.1° apart.
            let lat = 3_000_000 + (i / 20) as i64 * 10_000 + rng.range_i64(0, 500);
            let lon = -12_000_000 + (i % 20) as i64 * 10_000 + rng.range_i64(0, 500);
            (lat, lon)
        })
        .collect();
    let mut out = Vec::with_capacity(spec.products + spec.promotions + spec.pings);
    for sku in 0..spec.products {
        let (lat, lon) = stores[sku % stores.len()];
        let lat = lat + rng.range_i64(-STORE_HALF_SIDE_UNITS, STORE_HALF_SIDE_UNITS);
        let lon = lon + rng.range_i64(-STORE_HALF_SIDE_UNITS, STORE_HALF_SIDE_UNITS) * 4 / 3;
        let segment = rng.below(spec.segments.max(1) as u64);
        out.push(WorkloadRecord {
            topic: Topic::StoresProducts,
            timestamp_ms: spec.start_ms + (sku * 1_000 / spec.products.max(1)) as i64,
            key: None,
            payload: format!(
                r#"{{"sku": {}, "segment": "Segment{segment}", "variant": "Variant{}", "latitude": {}, "longitude": {}, "country": "USA"}}"#,
                1000 + sku,
                rng.below(3) + 1,
                units_text(lat),
                units_text(lon)
            ),
        });
    }
    for i in 0..spec.promotions {
        out.push(WorkloadRecord {
            topic: Topic::ProductsPromotions,
            timestamp_ms: spec.start_ms + 1_000 + i as i64,
            key: None,
            payload: format!(
                r#"{{"pid": "promo-{i}", "SKU": {}, "segment": "Segment{}"}}"#,
                1000 + rng.below(spec.products.max(1) as u64),
                i % spec.segments.max(1)
            ),
        });
    }
    for i in 0..spec.pings {
        let (lat, lon) = stores[rng.below(stores.len() as u64) as usize];
        // Inside the store and up to its own size outside it (entrance, parking lot).
        let reach = STORE_HALF_SIDE_UNITS * 2;
        let lat = lat + rng.range_i64(-reach, reach);
        let lon = lon + rng.range_i64(-reach, reach) * 4 / 3;
        let offset = spec.span_ms * i as i64 / spec.pings.max(1) as i64;
        let mut payload = String::with_capacity(128);
        let uid = rng.below(spec.pings as u64 / 20 + 1);
        let _ = write!(
            payload,
            r#"{{"uid": "c{uid:06}", "latitude": {}, "longitude": {}, "country": "USA"}}"#,
            units_text(lat),
            units_text(lon)
        );
        out.push(WorkloadRecord {
            topic: Topic::CustomersLocations,
            timestamp_ms: spec.start_ms + 2_000 + offset,
            key: Some(format!("c{uid:06}")),
            payload,
        });
    }
    out
}

/// 10⁻⁵ degree units as a decimal literal.
fn units_text(units: i64) -> String {
    let sign = if units < 0 { "-" } else { "" };
    let abs = units.unsigned_abs();
    format!("{sign}{}.{:05}", abs / 100_000, abs % 100_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_workload_sizes_as_asked() {
        let spec = WorkloadSpec {
            stores: 3,
            products: 30,
            promotions: 2,
            pings: 100,
            ..WorkloadSpec::default()
        };
        let a = generate(&spec);
        assert_eq!(a, generate(&spec));
        assert_eq!(a.len(), 132);
        assert!(a.windows(2).all(|w| w[0].timestamp_ms <= w[1].timestamp_ms));
        assert_ne!(a, generate(&WorkloadSpec { seed: 7, ..spec }));
    }

    #[test]
    fn units_print_as_five_decimals() {
        assert_eq!(units_text(4_188_696), "41.88696");
        assert_eq!(units_text(-8_759_927), "-87.59927");
        assert_eq!(units_text(-5), "-0.00005");
    }
}
