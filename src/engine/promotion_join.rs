//! Join 1, `VALID_PROMOTIONS`: `stores_products` ⋈ `products_promotions`.
//!
//! Each product record s and promotion record p with the same match key (the segment, by
//! default) and s.ts − WITHIN ≤ p.ts ≤ s.ts + WITHIN yield one output at max(s.ts, p.ts).
//! Both sides are buffered by key in timestamp order; an arriving record joins with every
//! buffered, unexpired record of the other side in its window.

use std::sync::Arc;

use rustc_hash::{FxHashMap, FxHashSet};

use super::params::PromotionMatchKey;
use super::record::{Product, Promotion};
use super::window::{sweep_keyed, Admitted, JoinClock, JoinWindow, TimeBuffer};

/// A product that a promotion currently applies to.
#[derive(Clone, Debug, PartialEq)]
pub struct ValidPromotion {
    /// max(product ts, promotion ts).
    pub timestamp_ms: i64,
    pub product: Arc<Product>,
    pub promotion: Arc<Promotion>,
}

/// What became of an arriving record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arrival {
    /// Joined with the buffered side and, if it can ever match, buffered itself.
    Accepted,
    /// Older than stream time − (2·WITHIN + grace): counted, not joined.
    Late,
    /// Taken, but with a NULL where the joins need a value: it can never reach a shopper.
    Unmatchable,
}

/// One side's buffers, by segment and by SKU.
#[derive(Debug)]
struct Side<T> {
    by_segment: FxHashMap<Box<str>, TimeBuffer<Arc<T>>>,
    by_sku: FxHashMap<i64, TimeBuffer<Arc<T>>>,
}

// Not derived: the derive would demand `T: Clone`, but only the `Arc`s are cloned.
impl<T> Clone for Side<T> {
    fn clone(&self) -> Self {
        Self {
            by_segment: self.by_segment.clone(),
            by_sku: self.by_sku.clone(),
        }
    }
}

impl<T> Default for Side<T> {
    fn default() -> Self {
        Self {
            by_segment: FxHashMap::default(),
            by_sku: FxHashMap::default(),
        }
    }
}

impl<T> Side<T> {
    fn insert_segment(&mut self, segment: &str, ts_ms: i64, value: Arc<T>, cutoff_ms: i64) {
        let buffer = match self.by_segment.get_mut(segment) {
            Some(buffer) => buffer,
            None => self.by_segment.entry(segment.into()).or_default(),
        };
        buffer.evict_before(cutoff_ms);
        buffer.insert(ts_ms, value);
    }

    fn insert_sku(&mut self, sku: i64, ts_ms: i64, value: Arc<T>, cutoff_ms: i64) {
        let buffer = self.by_sku.entry(sku).or_default();
        buffer.evict_before(cutoff_ms);
        buffer.insert(ts_ms, value);
    }

    fn len(&self) -> usize {
        self.by_segment.values().map(TimeBuffer::len).sum::<usize>()
            + self.by_sku.values().map(TimeBuffer::len).sum::<usize>()
    }

    fn sweep(&mut self, cutoff_ms: i64) {
        sweep_keyed(&mut self.by_segment, cutoff_ms);
        sweep_keyed(&mut self.by_sku, cutoff_ms);
    }
}

/// The VALID_PROMOTIONS join.
#[derive(Clone, Debug)]
pub struct PromotionJoin {
    clock: JoinClock,
    match_key: PromotionMatchKey,
    products: Side<Product>,
    promotions: Side<Promotion>,
    /// SKUs any accepted product record carried (for `sku_or_segment`).
    known_skus: FxHashSet<i64>,
}

impl PromotionJoin {
    pub fn new(window: JoinWindow, match_key: PromotionMatchKey) -> Self {
        Self {
            clock: JoinClock::new(window),
            match_key,
            products: Side::default(),
            promotions: Side::default(),
            known_skus: FxHashSet::default(),
        }
    }

    /// A `stores_products` record arrives.
    pub fn push_product(
        &mut self,
        ts_ms: i64,
        product: Arc<Product>,
        out: &mut Vec<ValidPromotion>,
    ) -> Arrival {
        let Some(Admitted {
            cutoff_ms,
            from_ms,
            to_ms,
            ..
        }) = self.admit(ts_ms)
        else {
            return Arrival::Late;
        };
        let emit = |promotion: &Arc<Promotion>, p_ts: i64, out: &mut Vec<ValidPromotion>| {
            out.push(ValidPromotion {
                timestamp_ms: ts_ms.max(p_ts),
                product: Arc::clone(&product),
                promotion: Arc::clone(promotion),
            })
        };
        let by_sku = self.match_key != PromotionMatchKey::Segment;
        let by_segment = self.match_key != PromotionMatchKey::Sku;
        let first = out.len();
        if let (true, Some(sku)) = (by_sku, product.sku) {
            if let Some(buffer) = self.promotions.by_sku.get(&sku) {
                for (p_ts, promotion) in buffer.range(from_ms, to_ms) {
                    emit(promotion, *p_ts, out);
                }
            }
        }
        if let (true, Some(segment)) = (by_segment, product.segment.as_deref()) {
            if let Some(buffer) = self.promotions.by_segment.get(segment) {
                for (p_ts, promotion) in buffer.range(from_ms, to_ms) {
                    emit(promotion, *p_ts, out);
                }
            }
        }
        if by_sku && by_segment {
            // Two buffers, each in time order: merge them, since each output advances join
            // 2's stream time and ksqlDB's window store hands them over oldest first. (Sorting
            // by output time is enough: outputs tied on it move stream time alike.)
            out[first..].sort_by_key(|v| v.timestamp_ms);
        }
        if let (true, Some(sku)) = (by_sku, product.sku) {
            self.known_skus.insert(sku);
            self.products
                .insert_sku(sku, ts_ms, Arc::clone(&product), cutoff_ms);
        }
        if let (true, Some(segment)) = (by_segment, product.segment.as_deref()) {
            self.products
                .insert_segment(segment, ts_ms, Arc::clone(&product), cutoff_ms);
        }
        Arrival::Accepted
    }

    /// A `products_promotions` record arrives.
    pub fn push_promotion(
        &mut self,
        ts_ms: i64,
        promotion: Arc<Promotion>,
        out: &mut Vec<ValidPromotion>,
    ) -> Arrival {
        let Some(Admitted {
            cutoff_ms,
            from_ms,
            to_ms,
            ..
        }) = self.admit(ts_ms)
        else {
            return Arrival::Late;
        };
        let use_sku = match self.match_key {
            PromotionMatchKey::Segment => false,
            PromotionMatchKey::Sku => true,
            PromotionMatchKey::SkuOrSegment => promotion
                .sku
                .is_some_and(|sku| self.known_skus.contains(&sku)),
        };
        let buffer = if use_sku {
            promotion.sku.and_then(|sku| self.products.by_sku.get(&sku))
        } else {
            promotion
                .segment
                .as_deref()
                .and_then(|segment| self.products.by_segment.get(segment))
        };
        if let Some(buffer) = buffer {
            for (s_ts, product) in buffer.range(from_ms, to_ms) {
                out.push(ValidPromotion {
                    timestamp_ms: ts_ms.max(*s_ts),
                    product: Arc::clone(product),
                    promotion: Arc::clone(&promotion),
                });
            }
        }
        match (use_sku, promotion.sku, promotion.segment.as_deref()) {
            (true, Some(sku), _) => {
                self.promotions
                    .insert_sku(sku, ts_ms, Arc::clone(&promotion), cutoff_ms)
            }
            (false, _, Some(segment)) => {
                self.promotions
                    .insert_segment(segment, ts_ms, Arc::clone(&promotion), cutoff_ms)
            }
            // A NULL key never matches: nothing to buffer.
            _ => {}
        }
        Arrival::Accepted
    }

    /// Buffered records, both sides.
    pub fn buffered(&self) -> usize {
        self.products.len() + self.promotions.len()
    }

    pub fn buffer_count(&self) -> usize {
        self.products.by_segment.len()
            + self.products.by_sku.len()
            + self.promotions.by_segment.len()
            + self.promotions.by_sku.len()
    }

    pub fn stream_time_ms(&self) -> Option<i64> {
        self.clock.stream_time_ms()
    }

    /// Lateness check, stream-time advance and the occasional sweep, shared by both sides.
    /// Drops buffered records older than `ts_ms` (see [`crate::engine::Pipeline::checkpoint`]).
    pub fn forget_before(&mut self, ts_ms: i64) {
        self.products.sweep(ts_ms);
        self.promotions.sweep(ts_ms);
    }

    /// The join's window.
    pub fn within_ms(&self) -> i64 {
        self.clock.window().within_ms
    }

    fn admit(&mut self, ts_ms: i64) -> Option<Admitted> {
        let admitted = self.clock.admit(ts_ms)?;
        if admitted.sweep_due {
            self.products.sweep(admitted.cutoff_ms);
            self.promotions.sweep(admitted.cutoff_ms);
        }
        Some(admitted)
    }
}
