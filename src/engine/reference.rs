//! A brute-force reference of the two joins, written for obviousness, not speed.
//!
//! It keeps every record in plain vectors (join 2's per country, as the original ksqlDB join
//! by COUNTRY does) and checks every clause of the semantics pair by pair. The property tests
//! hold the indexed [`super::Pipeline`] to the same output multiset, and the benchmarks
//! measure the index against it.

use std::collections::HashMap;
use std::sync::Arc;

use super::geo::geo_distance_km;
use super::nearby_join::NearbyCustomer;
use super::output::Output;
use super::params::{PipelineParams, PromotionMatchKey};
use super::promotion_join::ValidPromotion;
use super::record::{Customer, InputValue, Product, Promotion};

/// The highest timestamp seen and the retention that makes a record late or expired.
#[derive(Debug, Default)]
struct Clock {
    stream_time_ms: Option<i64>,
    retention_ms: i64,
}

impl Clock {
    /// False for a late record; otherwise advances stream time.
    fn admit(&mut self, ts_ms: i64) -> bool {
        if let Some(st) = self.stream_time_ms {
            if (ts_ms as i128) < st as i128 - self.retention_ms as i128 {
                return false;
            }
        }
        self.stream_time_ms = Some(self.stream_time_ms.map_or(ts_ms, |st| st.max(ts_ms)));
        true
    }

    /// A buffered record is gone once stream time passes ts + retention.
    fn expired(&self, ts_ms: i64) -> bool {
        self.stream_time_ms
            .is_some_and(|st| st as i128 > ts_ms as i128 + self.retention_ms as i128)
    }
}

/// Buffered records in timestamp order (arrival order among equal timestamps), the order a
/// Kafka Streams window store fetch returns them in. It matters: join 1's outputs for one
/// record reach join 2 in this order, and each advances join 2's stream time.
fn by_time<T>(records: &[T], ts: impl Fn(&T) -> i64) -> Vec<&T> {
    let mut sorted: Vec<&T> = records.iter().collect();
    sorted.sort_by_key(|r| ts(r));
    sorted
}

fn within(a_ms: i64, b_ms: i64, window_ms: i64) -> bool {
    (a_ms as i128 - b_ms as i128).abs() <= window_ms as i128
}

/// The brute-force pipeline.
#[derive(Debug)]
pub struct ReferencePipeline {
    params: PipelineParams,
    clock1: Clock,
    clock2: Clock,
    products: Vec<(i64, Arc<Product>)>,
    /// With whether the promotion matches by SKU (decided on arrival).
    promotions: Vec<(i64, Arc<Promotion>, bool)>,
    known_skus: Vec<i64>,
    customers: HashMap<Arc<str>, Vec<(i64, Arc<Customer>)>>,
    valid: HashMap<Arc<str>, Vec<Arc<ValidPromotion>>>,
}

impl ReferencePipeline {
    pub fn new(params: PipelineParams) -> Self {
        Self {
            clock1: Clock {
                stream_time_ms: None,
                retention_ms: params.promotion_window().retention_ms(),
            },
            clock2: Clock {
                stream_time_ms: None,
                retention_ms: params.customer_window().retention_ms(),
            },
            params,
            products: Vec::new(),
            promotions: Vec::new(),
            known_skus: Vec::new(),
            customers: HashMap::new(),
            valid: HashMap::new(),
        }
    }

    pub fn push_value(&mut self, ts_ms: i64, value: InputValue, out: &mut Vec<Output>) {
        let mut valid = Vec::new();
        match value {
            InputValue::Customer(c) => self.push_customer(ts_ms, Arc::new(c), out),
            InputValue::Product(p) => self.push_product(ts_ms, Arc::new(p), &mut valid),
            InputValue::Promotion(p) => self.push_promotion(ts_ms, Arc::new(p), &mut valid),
        }
        for v in valid {
            let v = Arc::new(v);
            out.push(Output::ValidPromotion(Arc::clone(&v)));
            self.push_valid(v, out);
        }
    }

    fn matches(&self, product: &Product, promotion: &Promotion, by_sku: bool) -> bool {
        if by_sku {
            product.sku.is_some() && product.sku == promotion.sku
        } else {
            product.segment.is_some() && product.segment == promotion.segment
        }
    }

    fn push_product(&mut self, ts_ms: i64, product: Arc<Product>, out: &mut Vec<ValidPromotion>) {
        if !self.clock1.admit(ts_ms) {
            return;
        }
        let w = self.params.promotion_window_ms;
        for (p_ts, promotion, by_sku) in by_time(&self.promotions, |p| p.0) {
            if !self.clock1.expired(*p_ts)
                && within(ts_ms, *p_ts, w)
                && self.matches(&product, promotion, *by_sku)
            {
                out.push(ValidPromotion {
                    timestamp_ms: ts_ms.max(*p_ts),
                    product: Arc::clone(&product),
                    promotion: Arc::clone(promotion),
                });
            }
        }
        if let Some(sku) = product.sku {
            self.known_skus.push(sku);
        }
        self.products.push((ts_ms, product));
    }

    fn push_promotion(
        &mut self,
        ts_ms: i64,
        promotion: Arc<Promotion>,
        out: &mut Vec<ValidPromotion>,
    ) {
        if !self.clock1.admit(ts_ms) {
            return;
        }
        let by_sku = match self.params.match_key {
            PromotionMatchKey::Segment => false,
            PromotionMatchKey::Sku => true,
            PromotionMatchKey::SkuOrSegment => promotion
                .sku
                .is_some_and(|sku| self.known_skus.contains(&sku)),
        };
        let w = self.params.promotion_window_ms;
        for (s_ts, product) in by_time(&self.products, |p| p.0) {
            if !self.clock1.expired(*s_ts)
                && within(ts_ms, *s_ts, w)
                && self.matches(product, &promotion, by_sku)
            {
                out.push(ValidPromotion {
                    timestamp_ms: ts_ms.max(*s_ts),
                    product: Arc::clone(product),
                    promotion: Arc::clone(&promotion),
                });
            }
        }
        self.promotions.push((ts_ms, promotion, by_sku));
    }

    /// DIST_TO_STORE when the pair passes the filter.
    fn distance_ft(&self, customer: &Customer, product: &Product) -> Option<f64> {
        let km = geo_distance_km(&customer.position()?, &product.position()?);
        let ft = km * self.params.km_to_ft;
        (ft <= self.params.radius_ft).then_some(ft)
    }

    fn push_customer(&mut self, ts_ms: i64, customer: Arc<Customer>, out: &mut Vec<Output>) {
        if !self.clock2.admit(ts_ms) {
            return;
        }
        let Some(country) = customer.country.clone() else {
            return;
        };
        let w = self.params.customer_window_ms;
        for v in self.valid.get(&country).into_iter().flatten() {
            if self.clock2.expired(v.timestamp_ms) || !within(ts_ms, v.timestamp_ms, w) {
                continue;
            }
            if let Some(dist_to_store_ft) = self.distance_ft(&customer, &v.product) {
                out.push(Output::NearbyCustomer(NearbyCustomer {
                    timestamp_ms: ts_ms.max(v.timestamp_ms),
                    customer: Arc::clone(&customer),
                    valid: Arc::clone(v),
                    dist_to_store_ft,
                }));
            }
        }
        self.customers
            .entry(country)
            .or_default()
            .push((ts_ms, customer));
    }

    fn push_valid(&mut self, v: Arc<ValidPromotion>, out: &mut Vec<Output>) {
        if !self.clock2.admit(v.timestamp_ms) {
            return;
        }
        let Some(country) = v.product.country.clone() else {
            return;
        };
        let w = self.params.customer_window_ms;
        for (c_ts, customer) in self.customers.get(&country).into_iter().flatten() {
            if self.clock2.expired(*c_ts) || !within(v.timestamp_ms, *c_ts, w) {
                continue;
            }
            if let Some(dist_to_store_ft) = self.distance_ft(customer, &v.product) {
                out.push(Output::NearbyCustomer(NearbyCustomer {
                    timestamp_ms: v.timestamp_ms.max(*c_ts),
                    customer: Arc::clone(customer),
                    valid: Arc::clone(&v),
                    dist_to_store_ft,
                }));
            }
        }
        self.valid.entry(country).or_default().push(v);
    }
}
