//! The two output streams as records: topic, key, timestamp and the JSON value ksqlDB writes
//! (upper-case field names).

use std::io::Write as _;
use std::sync::Arc;

use super::decimal::Decimal5;
use super::json::write_json_string;
use super::nearby_join::NearbyCustomer;
use super::promotion_join::ValidPromotion;
use super::record::Promotion;
use super::topic::Topic;

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

    /// Appends the JSON value to `out`.
    pub fn write_payload(&self, out: &mut Vec<u8>) {
        let mut obj = ObjectWriter::new(out);
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
                obj.extras(&v.promotion);
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
                obj.extras(&n.valid.promotion);
            }
        }
        obj.finish();
    }

    /// The JSON value as a string (tests and the UI; the dump writer uses `write_payload`).
    pub fn payload_json(&self) -> String {
        let mut out = Vec::with_capacity(256);
        self.write_payload(&mut out);
        String::from_utf8(out).unwrap_or_default()
    }
}

/// Writes one flat JSON object member by member.
struct ObjectWriter<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

impl<'a> ObjectWriter<'a> {
    fn new(out: &'a mut Vec<u8>) -> Self {
        out.push(b'{');
        Self { out, first: true }
    }

    fn name(&mut self, name: &str) {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        self.out.push(b'"');
        self.out.extend_from_slice(name.as_bytes());
        self.out.extend_from_slice(b"\":");
    }

    fn string(&mut self, name: &str, value: Option<&str>) {
        self.name(name);
        match value {
            Some(s) => write_json_string(self.out, s),
            None => self.out.extend_from_slice(b"null"),
        }
    }

    fn decimal(&mut self, name: &str, value: Option<Decimal5>) {
        self.name(name);
        match value {
            Some(d) => {
                let _ = write!(self.out, "{d}");
            }
            None => self.out.extend_from_slice(b"null"),
        }
    }

    fn bigint(&mut self, name: &str, value: Option<i64>) {
        self.name(name);
        match value {
            Some(n) => {
                let _ = write!(self.out, "{n}");
            }
            None => self.out.extend_from_slice(b"null"),
        }
    }

    /// A DOUBLE, written like Java's `Double.toString` for the values we produce (`91.5`,
    /// `0.0`). Non-finite values cannot occur, but would be written as null, not invalid JSON.
    fn float(&mut self, name: &str, value: f64) {
        self.name(name);
        if value.is_finite() {
            let _ = write!(self.out, "{value:?}");
        } else {
            self.out.extend_from_slice(b"null");
        }
    }

    /// The promotion's optional extras, only when set.
    fn extras(&mut self, promotion: &Promotion) {
        if let Some(pct) = promotion.discount_pct {
            self.name("DISCOUNT_PCT");
            let _ = write!(self.out, "{pct}");
        }
        if let Some(title) = promotion.title.as_deref() {
            self.string("TITLE", Some(title));
        }
        if let Some(until) = promotion.valid_until.as_deref() {
            self.string("VALID_UNTIL", Some(until));
        }
    }

    fn finish(self) {
        self.out.push(b'}');
    }
}
