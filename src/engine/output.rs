//! The two output streams as records: topic, key, timestamp and the JSON value ksqlDB writes
//! (upper-case field names).

use std::sync::Arc;

use super::json_object::{Embedding, ObjectWriter};
use super::nearby_join::NearbyCustomer;
use super::promotion_join::ValidPromotion;
use super::record::Promotion;
use super::topic::Topic;

/// Outputs a reused output vector may keep room for between records.
const KEPT_CAPACITY: usize = 1 << 16;

/// Lets go of a reused output vector's room after a burst: one promotion record can match
/// millions of buffered pings, and a vector kept at that size would hold gigabytes for the
/// rest of the run. Call it once the record's outputs are consumed.
pub fn release_burst(outputs: &mut Vec<Output>) {
    if outputs.capacity() > KEPT_CAPACITY {
        outputs.clear();
        outputs.shrink_to(KEPT_CAPACITY);
    }
}

/// One record the pipeline emits.
#[derive(Clone, Debug, PartialEq)]
pub enum Output {
    ValidPromotion(Arc<ValidPromotion>),
    NearbyCustomer(NearbyCustomer),
}

impl Output {
    pub fn topic(&self) -> Topic {
        match self {
            Output::ValidPromotion(_) => Topic::ValidPromotions,
            Output::NearbyCustomer(_) => Topic::NearbyCustomers,
        }
    }

    /// The output timestamp: the max of the joined inputs'.
    pub fn timestamp_ms(&self) -> i64 {
        match self {
            Output::ValidPromotion(v) => v.timestamp_ms,
            Output::NearbyCustomer(n) => n.timestamp_ms,
        }
    }

    /// PID for VALID_PROMOTIONS; UID for NEARBY_CUSTOMERS, so a push connector can route per
    /// customer.
    pub fn key(&self) -> Option<&str> {
        match self {
            Output::ValidPromotion(v) => v.promotion.pid.as_deref(),
            Output::NearbyCustomer(n) => n.customer.uid.as_deref(),
        }
    }

    /// The output's id, made of the origins (partition:offset) of the input records it joins:
    /// `product/promotion` for VALID_PROMOTIONS, `ping/product/promotion` for
    /// NEARBY_CUSTOMERS. The same inputs give the same id however often, and in whatever
    /// order, they are read, so a consumer drops repeats by it: an at-least-once run that
    /// restarts is idempotent downstream. Writes into `out` (cleared first).
    pub fn write_id(&self, out: &mut String) {
        use std::fmt::Write as _;
        out.clear();
        let valid = match self {
            Output::ValidPromotion(v) => v,
            Output::NearbyCustomer(n) => {
                let _ = write!(out, "{}/", n.customer.origin);
                &n.valid
            }
        };
        let _ = write!(out, "{}/{}", valid.product.origin, valid.promotion.origin);
    }

    /// Appends the JSON value to `out`.
    pub fn write_payload(&self, out: &mut Vec<u8>) {
        self.write_value(out, Embedding::Plain);
    }

    /// Appends the JSON value as the body of a JSON string (quotes and backslashes escaped):
    /// what a kcat -J `payload` holds, written in one pass instead of build-then-escape.
    pub fn write_payload_escaped(&self, out: &mut Vec<u8>) {
        self.write_value(out, Embedding::InString);
    }

    fn write_value(&self, out: &mut Vec<u8>, embedding: Embedding) {
        let mut obj = ObjectWriter::new(out, embedding);
        match self {
            Output::ValidPromotion(v) => {
                let p = &v.product;
                obj.decimal("LATITUDE", p.latitude);
                obj.decimal("LONGITUDE", p.longitude);
                obj.string("COUNTRY", p.country.as_deref());
                obj.string("SEGMENT", p.segment.as_deref());
                obj.string("PID", v.promotion.pid.as_deref());
                obj.bigint("SKU", p.sku);
                obj.string("VARIANT", p.variant.as_deref());
                write_extras(&mut obj, &v.promotion);
            }
            Output::NearbyCustomer(n) => {
                let (c, p) = (&n.customer, &n.valid.product);
                obj.string("UID", c.uid.as_deref());
                obj.decimal("LATITUDE", c.latitude);
                obj.decimal("LONGITUDE", c.longitude);
                obj.string("COUNTRY", c.country.as_deref());
                obj.string("PID", n.valid.promotion.pid.as_deref());
                obj.bigint("SKU", p.sku);
                obj.string("SEGMENT", p.segment.as_deref());
                obj.decimal("PRODUCT_LATITUDE", p.latitude);
                obj.decimal("PRODUCT_LONGITUDE", p.longitude);
                obj.float("DIST_TO_STORE", n.dist_to_store_ft);
                write_extras(&mut obj, &n.valid.promotion);
            }
        }
        obj.finish();
    }

    /// The JSON value as a string (tests and the UI; the dump writer uses
    /// `write_payload_escaped`).
    pub fn payload_json(&self) -> String {
        let mut out = Vec::with_capacity(256);
        self.write_payload(&mut out);
        String::from_utf8(out).unwrap_or_default()
    }
}

/// The promotion's optional extras, only when set.
fn write_extras(obj: &mut ObjectWriter<'_>, promotion: &Promotion) {
    if let Some(pct) = promotion.discount_pct {
        obj.decimal_number("DISCOUNT_PCT", pct);
    }
    if let Some(title) = promotion.title.as_deref() {
        obj.string("TITLE", Some(title));
    }
    if let Some(until) = promotion.valid_until.as_deref() {
        obj.string("VALID_UNTIL", Some(until));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bursts_room_is_let_go_and_ordinary_room_kept() {
        let mut outputs: Vec<Output> = Vec::with_capacity(KEPT_CAPACITY * 4);
        release_burst(&mut outputs);
        assert!(outputs.capacity() <= KEPT_CAPACITY);
        let mut small: Vec<Output> = Vec::with_capacity(100);
        release_burst(&mut small);
        assert_eq!(small.capacity(), 100);
    }
    use crate::engine::decimal::Decimal5;
    use crate::engine::decimal::DecimalPolicy;
    use crate::engine::record::{Customer, Product};
    use crate::engine::topic::Origin;

    fn nearby() -> Output {
        let d = |s: &str| Some(Decimal5::parse(s, DecimalPolicy::Strict).unwrap());
        let product = Product {
            sku: Some(7),
            segment: Some("Seg \"A\"".into()),
            variant: None,
            latitude: d("41.88696"),
            longitude: d("-87.59927"),
            country: Some("USA".into()),
            ..Product::default()
        };
        let promotion = Promotion {
            pid: Some("p\\1".into()),
            discount_pct: Some(rust_decimal::Decimal::new(125, 1)),
            title: Some("Tab\there ✓".into()),
            ..Promotion::default()
        };
        let valid = Arc::new(ValidPromotion {
            timestamp_ms: 5,
            product: Arc::new(product),
            promotion: Arc::new(promotion),
        });
        let customer = Customer {
            uid: Some("u1".into()),
            latitude: d("41.887"),
            longitude: d("-87.59927"),
            country: Some("USA".into()),
            ..Customer::default()
        };
        Output::NearbyCustomer(NearbyCustomer {
            timestamp_ms: 9,
            customer: Arc::new(customer),
            valid,
            dist_to_store_ft: 14.594,
        })
    }

    #[test]
    fn escaped_payload_is_the_plain_payload_as_a_json_string() {
        let output = nearby();
        let plain = output.payload_json();
        let mut escaped = b"\"".to_vec();
        output.write_payload_escaped(&mut escaped);
        escaped.push(b'"');
        let decoded: String = serde_json::from_slice(&escaped).unwrap();
        assert_eq!(decoded, plain);
        let value: serde_json::Value = serde_json::from_str(&plain).unwrap();
        assert_eq!(value["SEGMENT"], "Seg \"A\"");
        assert_eq!(value["PID"], "p\\1");
        assert_eq!(value["TITLE"], "Tab\there ✓");
        assert_eq!(value["DISCOUNT_PCT"].to_string(), "12.5");
        assert_eq!(value["LATITUDE"].to_string(), "41.887");
        assert_eq!(value["DIST_TO_STORE"].as_f64(), Some(14.594));
    }

    #[test]
    fn an_output_id_names_the_records_it_joins() {
        let Output::NearbyCustomer(mut n) = nearby() else {
            unreachable!()
        };
        let mut id = String::from("stale");
        Output::NearbyCustomer(n.clone()).write_id(&mut id);
        assert_eq!(id, "?/?/?", "records without offsets");
        Arc::make_mut(&mut n.customer).origin = Origin::new(1, 42);
        let valid = Arc::make_mut(&mut n.valid);
        Arc::make_mut(&mut valid.product).origin = Origin::new(0, 7);
        Arc::make_mut(&mut valid.promotion).origin = Origin::new(2, 0);
        Output::NearbyCustomer(n.clone()).write_id(&mut id);
        assert_eq!(id, "1:42/0:7/2:0");
        Output::ValidPromotion(Arc::clone(&n.valid)).write_id(&mut id);
        assert_eq!(id, "0:7/2:0");
    }

    #[test]
    fn whole_distances_keep_a_decimal_point() {
        let Output::NearbyCustomer(mut n) = nearby() else {
            unreachable!()
        };
        n.dist_to_store_ft = 0.0;
        assert!(Output::NearbyCustomer(n)
            .payload_json()
            .contains(r#""DIST_TO_STORE":0.0"#));
    }
}
