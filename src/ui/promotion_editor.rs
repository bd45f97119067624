//! Promotion authoring without the widgets: the draft the form edits (persisted between runs),
//! its validation with messages an operator understands, and the record it becomes.

use serde::{Deserialize, Serialize};

pub use crate::engine::promotion_record::PromotionRecord;
use crate::engine::rfc3339::parse_rfc3339_ms;

/// The form's fields, as typed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PromotionDraft {
    pub pid: String,
    /// Promote a whole segment (no SKU) instead of one product.
    pub whole_segment: bool,
    pub sku: String,
    /// The operator confirmed a SKU the console has not seen on `stores_products`.
    pub sku_confirmed: bool,
    pub segment: String,
    pub title: String,
    pub discount_pct: String,
    /// RFC 3339; empty for none.
    pub valid_until: String,
}

/// What the console knows about a SKU, for validation.
pub trait SkuLookup {
    /// The product's segment, when the SKU has been seen.
    fn segment_of(&self, sku: i64) -> Option<String>;
}

impl PromotionDraft {
    /// The record, or every problem at once (the form lists them all).
    pub fn validate(&self, known: &dyn SkuLookup) -> Result<PromotionRecord, Vec<String>> {
        let mut problems = Vec::new();
        let pid = self.pid.trim();
        if pid.is_empty() {
            problems.push("Promotion id (pid) is required.".to_owned());
        }
        let segment = self.segment.trim();
        if segment.is_empty() {
            problems.push(
                "Segment is required: the pipeline matches promotions to products by segment."
                    .to_owned(),
            );
        }
        let sku = if self.whole_segment {
            None
        } else {
            match self.sku.trim().parse::<i64>() {
                Ok(sku) => {
                    match known.segment_of(sku) {
                        Some(seg) if !segment.is_empty() && seg != segment => problems.push(format!(
                            "SKU {sku} is in segment {seg:?}, not {segment:?}: the promotion would light up {segment:?} products."
                        )),
                        Some(_) => {}
                        None if self.sku_confirmed => {}
                        None => problems.push(format!(
                            "SKU {sku} has not been seen on stores_products; tick \"publish anyway\" to confirm."
                        )),
                    }
                    Some(sku)
                }
                Err(_) if self.sku.trim().is_empty() => {
                    problems.push("Pick a product (SKU) or choose \"whole segment\".".to_owned());
                    None
                }
                Err(_) => {
                    problems.push(format!(
                        "SKU must be a whole number, not {:?}.",
                        self.sku.trim()
                    ));
                    None
                }
            }
        };
        let discount_pct = match self.discount_pct.trim() {
            "" => None,
            text => match text.trim_end_matches('%').trim().parse::<u8>() {
                Ok(d) if d <= 100 => Some(d),
                _ => {
                    problems.push(format!(
                        "Discount must be a whole percentage from 0 to 100, not {text:?}."
                    ));
                    None
                }
            },
        };
        let valid_until = match self.valid_until.trim() {
            "" => None,
            text => match parse_rfc3339_ms(text) {
                Ok(_) => Some(text.to_owned()),
                Err(e) => {
                    problems.push(format!("Valid until: {e}."));
                    None
                }
            },
        };
        let title = Some(self.title.trim())
            .filter(|t| !t.is_empty())
            .map(str::to_owned);
        if problems.is_empty() {
            Ok(PromotionRecord {
                pid: pid.to_owned(),
                sku,
                segment: segment.to_owned(),
                title,
                discount_pct,
                valid_until,
            })
        } else {
            Err(problems)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Known;
    impl SkuLookup for Known {
        fn segment_of(&self, sku: i64) -> Option<String> {
            (sku == 1000).then(|| "SegmentA".to_owned())
        }
    }

    fn draft() -> PromotionDraft {
        PromotionDraft {
            pid: "p-1".into(),
            sku: "1000".into(),
            segment: "SegmentA".into(),
            discount_pct: "20".into(),
            title: "Autumn".into(),
            valid_until: "2025-11-26T11:00:00Z".into(),
            ..PromotionDraft::default()
        }
    }

    #[test]
    fn a_good_draft_becomes_the_record_the_engine_reads() {
        let record = draft().validate(&Known).unwrap();
        let json = record.to_json();
        let value = crate::engine::record::decode_value(
            crate::engine::Topic::ProductsPromotions,
            &json,
            crate::engine::DecimalPolicy::Strict,
        )
        .unwrap();
        let crate::engine::InputValue::Promotion(p) = value else {
            panic!()
        };
        assert_eq!(p.pid.as_deref(), Some("p-1"));
        assert_eq!(p.sku, Some(1000));
        assert_eq!(p.segment.as_deref(), Some("SegmentA"));
        assert_eq!(p.title.as_deref(), Some("Autumn"));
    }

    #[test]
    fn every_problem_is_reported_in_words() {
        let bad = PromotionDraft {
            pid: " ".into(),
            sku: "12a".into(),
            discount_pct: "120".into(),
            valid_until: "tomorrow".into(),
            ..PromotionDraft::default()
        };
        let problems = bad.validate(&Known).unwrap_err();
        assert_eq!(problems.len(), 5, "{problems:?}");
        assert!(problems.iter().any(|p| p.contains("Segment is required")));
        assert!(problems.iter().any(|p| p.contains("0 to 100")));
    }

    #[test]
    fn unknown_skus_need_confirmation_and_segments_must_agree() {
        let unknown = PromotionDraft {
            sku: "4242".into(),
            ..draft()
        };
        assert!(unknown.validate(&Known).unwrap_err()[0].contains("publish anyway"));
        let confirmed = PromotionDraft {
            sku_confirmed: true,
            ..unknown
        };
        assert_eq!(confirmed.validate(&Known).unwrap().sku, Some(4242));
        let wrong_segment = PromotionDraft {
            segment: "SegmentB".into(),
            ..draft()
        };
        assert!(wrong_segment.validate(&Known).unwrap_err()[0].contains("is in segment"));
        let segment_wide = PromotionDraft {
            whole_segment: true,
            sku: String::new(),
            ..draft()
        };
        assert_eq!(segment_wide.validate(&Known).unwrap().sku, None);
    }
}
