//! Who passed close to a campaign's products without being reached: shoppers whose ping came
//! within a distance (twice the radius) of a promoted product while the campaign was on.
//! Watched on the input pings directly, so a forecast need not run the join at the larger
//! radius (four times the matches) just to see them.

use rustc_hash::{FxHashMap, FxHashSet};

use super::{CampaignVariant, Interval};
use crate::engine::geo::{geo_distance_km, LatLon};
use crate::engine::params::PromotionMatchKey;
use crate::engine::record::{Customer, Product};

/// Metres per degree of latitude (for sizing grid cells only; distances are exact).
const M_PER_DEG: f64 = 111_320.0;

#[derive(Clone, Debug)]
pub struct NearWatch {
    reach_ft: f64,
    km_to_ft: f64,
    cell_deg: f64,
    match_key: PromotionMatchKey,
    segments: FxHashSet<String>,
    /// Segments of promotions without a SKU (what `sku_or_segment` falls back to).
    segment_wide: FxHashSet<String>,
    skus: FxHashSet<i64>,
    intervals: Vec<Interval>,
    /// Promoted products' positions by grid cell, each position once.
    cells: FxHashMap<(i64, i64), Vec<LatLon>>,
    seen: FxHashSet<(i64, i64)>,
}

impl NearWatch {
    pub fn new(
        variant: &CampaignVariant,
        match_key: PromotionMatchKey,
        intervals: Vec<Interval>,
        reach_ft: f64,
        km_to_ft: f64,
    ) -> NearWatch {
        let reach_m = reach_ft * 0.3048;
        NearWatch {
            reach_ft,
            km_to_ft,
            cell_deg: (reach_m / M_PER_DEG).max(1e-7),
            match_key,
            segments: variant
                .promotions
                .iter()
                .map(|p| p.segment.trim().to_owned())
                .collect(),
            segment_wide: variant
                .promotions
                .iter()
                .filter(|p| p.sku.is_none())
                .map(|p| p.segment.trim().to_owned())
                .collect(),
            skus: variant.promotions.iter().filter_map(|p| p.sku).collect(),
            intervals,
            cells: FxHashMap::default(),
            seen: FxHashSet::default(),
        }
    }

    /// Whether the campaign's promotions apply to `product` (by the variant's match key).
    pub fn promotes(&self, product: &Product) -> bool {
        let segment = product.segment.as_deref().map(str::trim);
        let in_segments = |set: &FxHashSet<String>| segment.is_some_and(|s| set.contains(s));
        let by_sku = product.sku.is_some_and(|sku| self.skus.contains(&sku));
        match self.match_key {
            PromotionMatchKey::Segment => in_segments(&self.segments),
            PromotionMatchKey::Sku => by_sku,
            PromotionMatchKey::SkuOrSegment => by_sku || in_segments(&self.segment_wide),
        }
    }

    fn cell(&self, p: &LatLon) -> (i64, i64) {
        let lat = p.lat.to_f64();
        let squeeze = lat.to_radians().cos().abs().max(1e-6);
        (
            (lat / self.cell_deg).floor() as i64,
            (p.lon.to_f64() * squeeze / self.cell_deg).floor() as i64,
        )
    }

    /// A product record in one of the campaign's stores.
    pub fn observe_product(&mut self, product: &Product) {
        let Some(at) = product.position() else { return };
        if !self.promotes(product) || !self.seen.insert((at.lat.units(), at.lon.units())) {
            return;
        }
        let cell = self.cell(&at);
        self.cells.entry(cell).or_default().push(at);
    }

    /// Whether a ping at `ts_ms` is within reach of a promoted product while the campaign is on.
    pub fn is_near(&self, customer: &Customer, ts_ms: i64) -> bool {
        let i = self.intervals.partition_point(|iv| iv.end_ms <= ts_ms);
        if self.intervals.get(i).is_none_or(|iv| iv.start_ms > ts_ms) {
            return false;
        }
        let Some(at) = customer.position() else {
            return false;
        };
        let (row, col) = self.cell(&at);
        for dr in -1..=1 {
            for dc in -1..=1 {
                let Some(products) = self.cells.get(&(row + dr, col + dc)) else {
                    continue;
                };
                if products
                    .iter()
                    .any(|p| geo_distance_km(&at, p) * self.km_to_ft <= self.reach_ft)
                {
                    return true;
                }
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::engine::campaign::CampaignPromotion;
    use crate::engine::decimal::Decimal5;
    use crate::engine::geo::KSQL_FT_PER_KM;
    use crate::engine::notify::NotifyParams;

    fn d5(x: f64) -> Option<Decimal5> {
        Decimal5::from_units((x * 100_000.0).round() as i64)
    }

    fn variant() -> CampaignVariant {
        CampaignVariant {
            name: "v".into(),
            radius_ft: 100.0,
            match_key: None,
            notify: NotifyParams::default(),
            stores: Vec::new(),
            budget: None,
            promotions: vec![CampaignPromotion {
                pid: Some("p".into()),
                sku: Some(7),
                segment: "A".into(),
                title: None,
                discount_pct: None,
                message: None,
            }],
        }
    }

    fn product(sku: i64, segment: &str, lat: f64, lon: f64) -> Product {
        Product {
            sku: Some(sku),
            segment: Some(Arc::from(segment)),
            latitude: d5(lat),
            longitude: d5(lon),
            ..Product::default()
        }
    }

    fn ping(lat: f64, lon: f64) -> Customer {
        Customer {
            uid: Some(Arc::from("u")),
            latitude: d5(lat),
            longitude: d5(lon),
            ..Customer::default()
        }
    }

    #[test]
    fn a_ping_is_near_within_reach_of_a_promoted_product_while_the_campaign_is_on() {
        let on = vec![Interval {
            start_ms: 1_000,
            end_ms: 2_000,
        }];
        let mut w = NearWatch::new(
            &variant(),
            PromotionMatchKey::Segment,
            on,
            200.0,
            KSQL_FT_PER_KM,
        );
        w.observe_product(&product(1, "A", 41.88, -87.628));
        w.observe_product(&product(2, "B", 41.90, -87.628));
        // 0.0005° of latitude is about 182 ft; 0.0006° about 219 ft.
        assert!(w.is_near(&ping(41.8805, -87.628), 1_000));
        assert!(!w.is_near(&ping(41.8806, -87.628), 1_000));
        assert!(
            !w.is_near(&ping(41.8805, -87.628), 2_000),
            "the campaign is off"
        );
        assert!(
            !w.is_near(&ping(41.9, -87.628), 1_500),
            "segment B is not promoted"
        );
        let by_sku = NearWatch::new(
            &variant(),
            PromotionMatchKey::Sku,
            Vec::new(),
            200.0,
            KSQL_FT_PER_KM,
        );
        assert!(!by_sku.promotes(&product(1, "A", 0.0, 0.0)));
        assert!(by_sku.promotes(&product(7, "Z", 0.0, 0.0)));
    }
}
