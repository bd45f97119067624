//! A promotion as the console and campaigns publish it to `products_promotions`: one
//! writer, so a record the operator types and one a campaign announces read the same.

use serde::{Deserialize, Serialize};

/// A promotion ready to publish.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PromotionRecord {
    pub pid: String,
    pub sku: Option<i64>,
    pub segment: String,
    pub title: Option<String>,
    pub discount_pct: Option<u8>,
    pub valid_until: Option<String>,
}

impl PromotionRecord {
    /// The `products_promotions` value, with the original's column names.
    pub fn to_json(&self) -> String {
        let mut value = serde_json::json!({
            "pid": self.pid,
            "SKU": self.sku,
            "segment": self.segment,
        });
        if let Some(map) = value.as_object_mut() {
            if let Some(d) = self.discount_pct {
                map.insert("discount_pct".into(), d.into());
            }
            if let Some(t) = &self.title {
                map.insert("title".into(), t.clone().into());
            }
            if let Some(v) = &self.valid_until {
                map.insert("valid_until".into(), v.clone().into());
            }
        }
        value.to_string()
    }
}
