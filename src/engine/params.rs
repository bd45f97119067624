//! The pipeline's parameters. Defaults are the original ksqlDB deployment's.

use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::decimal::DecimalPolicy;
use super::window::JoinWindow;

/// Which products a promotion applies to (join 1's key).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PromotionMatchKey {
    /// The original: every product of the promotion's segment is promoted.
    #[default]
    Segment,
    /// Only the product with the promotion's SKU.
    Sku,
    /// The SKU when the promotion names one a product record has already carried, else the
    /// segment. Decided when the promotion arrives.
    SkuOrSegment,
}

impl PromotionMatchKey {
    pub fn name(self) -> &'static str {
        match self {
            PromotionMatchKey::Segment => "segment",
            PromotionMatchKey::Sku => "sku",
            PromotionMatchKey::SkuOrSegment => "sku_or_segment",
        }
    }
}

impl FromStr for PromotionMatchKey {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "segment" => Ok(PromotionMatchKey::Segment),
            "sku" => Ok(PromotionMatchKey::Sku),
            "sku_or_segment" => Ok(PromotionMatchKey::SkuOrSegment),
            other => Err(format!(
                "unknown match key {other:?} (segment, sku or sku_or_segment)"
            )),
        }
    }
}

/// Everything that decides what the pipeline emits.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PipelineParams {
    /// VALID_PROMOTIONS: `WITHIN 1 HOUR`.
    pub promotion_window_ms: i64,
    /// Join 1's grace; `None` derives ksqlDB's default, max(24 h − 2·WITHIN, 0).
    pub promotion_grace_ms: Option<i64>,
    /// NEARBY_CUSTOMERS: `WITHIN 30 MINUTES`.
    pub customer_window_ms: i64,
    /// Join 2's grace; `None` derives the default.
    pub customer_grace_ms: Option<i64>,
    /// The geofence: DIST_TO_STORE ≤ this.
    pub radius_ft: f64,
    /// The original's km → ft factor (3281, not 3280.84: kept for identical results).
    pub km_to_ft: f64,
    pub decimal_policy: DecimalPolicy,
    pub match_key: PromotionMatchKey,
    /// A budget for the join state in bytes: past it the oldest pings and valid promotions
    /// are given up, as if the customer grace were smaller, and the run says so. `None`: no
    /// budget (the grace decides alone).
    pub state_memory_bytes: Option<u64>,
}

impl Default for PipelineParams {
    fn default() -> Self {
        Self {
            promotion_window_ms: 3_600_000,
            promotion_grace_ms: None,
            customer_window_ms: 1_800_000,
            customer_grace_ms: None,
            radius_ft: 100.0,
            km_to_ft: super::geo::KSQL_FT_PER_KM,
            decimal_policy: DecimalPolicy::Round,
            match_key: PromotionMatchKey::Segment,
            state_memory_bytes: None,
        }
    }
}

impl PipelineParams {
    pub fn promotion_window(&self) -> JoinWindow {
        JoinWindow::new(self.promotion_window_ms, self.promotion_grace_ms)
    }

    pub fn customer_window(&self) -> JoinWindow {
        JoinWindow::new(self.customer_window_ms, self.customer_grace_ms)
    }

    /// The geofence radius in km, the unit GEO_DISTANCE returns.
    pub fn radius_km(&self) -> f64 {
        self.radius_ft / self.km_to_ft
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_original_pipeline() {
        let p = PipelineParams::default();
        assert_eq!(p.promotion_window().grace_ms, 22 * 3_600_000);
        assert_eq!(p.customer_window().grace_ms, 23 * 3_600_000);
        assert_eq!(p.radius_ft, 100.0);
        assert_eq!(p.decimal_policy, DecimalPolicy::Round);
        assert_eq!(p.match_key, PromotionMatchKey::Segment);
    }

    #[test]
    fn partial_json_fills_in_defaults() {
        let p: PipelineParams =
            serde_json::from_str(r#"{"radius_ft": 50, "match_key": "sku_or_segment"}"#).unwrap();
        assert_eq!(p.radius_ft, 50.0);
        assert_eq!(p.match_key, PromotionMatchKey::SkuOrSegment);
        assert_eq!(p.customer_window_ms, 1_800_000);
    }
}
