//! Notification rules: which NEARBY_CUSTOMERS records a shopper would actually receive.
//!
//! The join emits one record per (ping, valid promotion) pair — a shopper standing by a
//! promoted shelf for a minute yields dozens. A push service must not buzz the phone for each,
//! so a (customer, promotion) pair notifies at most once per cooldown, by record time (so a
//! replay gives the same feed as the live run).

use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::nearby_join::NearbyCustomer;
use super::time_buffer::TimeBuffer;

/// Default cooldown per (customer, promotion): 10 minutes.
pub const DEFAULT_COOLDOWN_MS: i64 = 10 * 60_000;

/// What the shopper receives.
#[derive(Clone, Debug, PartialEq)]
pub struct Notification {
    pub timestamp_ms: i64,
    pub uid: Arc<str>,
    pub pid: Arc<str>,
    pub sku: Option<i64>,
    pub segment: Option<Arc<str>>,
    pub title: Option<Arc<str>>,
    pub dist_to_store_ft: f64,
    /// NEARBY_CUSTOMERS records for this pair that the cooldown held back since the last
    /// notification.
    pub suppressed_before: u64,
}

#[derive(Clone, Debug)]
struct PromotionState {
    pid: Arc<str>,
    last_ms: i64,
    suppressed: u64,
}

/// Applies the cooldown.
#[derive(Clone, Debug)]
pub struct Notifier {
    cooldown_ms: i64,
    /// Per customer: each promotion's last notification time and suppressed count. Looked up
    /// by `&str`, so the common case (held back by the cooldown) clones nothing. Shared, like
    /// `expiry`, so a replay checkpoint's copy costs pointers; a customer's list is copied
    /// when it next changes.
    last: FxHashMap<Arc<str>, Arc<Vec<PromotionState>>>,
    /// (uid, pid) by notification time, for expiry.
    expiry: TimeBuffer<(Arc<str>, Arc<str>)>,
    raw: u64,
    notified: u64,
}

impl Notifier {
    pub fn new(cooldown_ms: i64) -> Self {
        Self {
            cooldown_ms: cooldown_ms.max(0),
            last: FxHashMap::default(),
            expiry: TimeBuffer::default(),
            raw: 0,
            notified: 0,
        }
    }

    pub fn cooldown_ms(&self) -> i64 {
        self.cooldown_ms
    }

    /// (customer, promotion) pairs under a cooldown now.
    pub fn tracked(&self) -> usize {
        self.expiry.len()
    }

    /// Customers with a pair under a cooldown.
    pub fn customers(&self) -> usize {
        self.last.len()
    }

    /// NEARBY_CUSTOMERS records seen.
    pub fn raw_count(&self) -> u64 {
        self.raw
    }

    /// Notifications sent.
    pub fn notified_count(&self) -> u64 {
        self.notified
    }

    /// Offers one NEARBY_CUSTOMERS record; `Some` when it notifies. Records without a uid or
    /// pid cannot be routed to a phone or a promotion and never notify.
    pub fn offer(&mut self, nearby: &NearbyCustomer) -> Option<Notification> {
        self.raw += 1;
        let uid = nearby.customer.uid.as_ref()?;
        let pid = nearby.valid.promotion.pid.as_ref()?;
        let ts = nearby.timestamp_ms;
        self.expire(ts);
        let cooldown = self.cooldown_ms;
        let mut suppressed_before = 0;
        if let Some(states) = self.last.get_mut(&**uid) {
            let states = Arc::make_mut(states);
            // Records of one promotion share its pid's allocation: compare pointers first and
            // the text only when none matches (a re-published promotion, a new one).
            let at = states
                .iter()
                .position(|s| Arc::ptr_eq(&s.pid, pid))
                .or_else(|| states.iter().position(|s| *s.pid == **pid));
            if let Some(state) = at.map(|i| &mut states[i]) {
                if (ts - state.last_ms).abs() < cooldown {
                    state.suppressed += 1;
                    return None;
                }
                suppressed_before = std::mem::take(&mut state.suppressed);
                state.last_ms = ts;
            } else {
                states.push(PromotionState {
                    pid: Arc::clone(pid),
                    last_ms: ts,
                    suppressed: 0,
                });
            }
        } else {
            self.last.insert(
                Arc::clone(uid),
                Arc::new(vec![PromotionState {
                    pid: Arc::clone(pid),
                    last_ms: ts,
                    suppressed: 0,
                }]),
            );
        }
        self.expiry.insert(ts, (Arc::clone(uid), Arc::clone(pid)));
        self.notified += 1;
        Some(Notification {
            timestamp_ms: ts,
            uid: Arc::clone(uid),
            pid: Arc::clone(pid),
            sku: nearby.valid.product.sku,
            segment: nearby.valid.product.segment.clone(),
            title: nearby.valid.promotion.title.clone(),
            dist_to_store_ft: nearby.dist_to_store_ft,
            suppressed_before,
        })
    }

    /// Forgets pairs whose cooldown ended well before `now_ms` (records arrive roughly in
    /// time order; a pair re-notified later is simply re-added).
    fn expire(&mut self, now_ms: i64) {
        let keep_from = now_ms.saturating_sub(2 * self.cooldown_ms);
        if self
            .expiry
            .range(i64::MIN, keep_from.saturating_sub(1))
            .next()
            .is_none()
        {
            return;
        }
        for (ts, (uid, pid)) in self.expiry.range(i64::MIN, keep_from.saturating_sub(1)) {
            if let Some(states) = self.last.get_mut(uid) {
                let states = Arc::make_mut(states);
                states.retain(|s| !(s.pid == *pid && s.last_ms == *ts));
                if states.is_empty() {
                    self.last.remove(uid);
                }
            }
        }
        self.expiry.evict_before(keep_from);
    }

    /// Pairs remembered (memory check in tests).
    #[cfg(test)]
    fn remembered(&self) -> usize {
        self.last.values().map(|v| v.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::promotion_join::ValidPromotion;
    use crate::engine::record::{Customer, Product, Promotion};

    fn nearby(uid: &str, pid: &str, ts: i64) -> NearbyCustomer {
        NearbyCustomer {
            timestamp_ms: ts,
            customer: Arc::new(Customer {
                uid: Some(uid.into()),
                ..Customer::default()
            }),
            valid: Arc::new(ValidPromotion {
                timestamp_ms: ts,
                product: Arc::new(Product {
                    sku: Some(7),
                    ..Product::default()
                }),
                promotion: Arc::new(Promotion {
                    pid: Some(pid.into()),
                    ..Promotion::default()
                }),
            }),
            dist_to_store_ft: 42.0,
        }
    }

    #[test]
    fn one_notification_per_pair_per_cooldown() {
        let mut n = Notifier::new(600_000);
        assert!(n.offer(&nearby("u1", "p1", 0)).is_some());
        assert!(
            n.offer(&nearby("u1", "p1", 599_999)).is_none(),
            "inside the cooldown"
        );
        assert!(
            n.offer(&nearby("u1", "p2", 1_000)).is_some(),
            "another promotion"
        );
        assert!(
            n.offer(&nearby("u2", "p1", 1_000)).is_some(),
            "another customer"
        );
        let again = n
            .offer(&nearby("u1", "p1", 600_000))
            .expect("cooldown over at exactly 10 min");
        assert_eq!(again.suppressed_before, 1);
        assert_eq!((n.raw_count(), n.notified_count()), (5, 4));
    }

    #[test]
    fn records_without_uid_or_pid_never_notify() {
        let mut n = Notifier::new(1);
        let mut no_uid = nearby("u", "p", 0);
        Arc::make_mut(&mut no_uid.customer).uid = None;
        assert!(n.offer(&no_uid).is_none());
        assert_eq!(n.raw_count(), 1);
    }

    #[test]
    fn zero_cooldown_notifies_every_record_and_memory_stays_bounded() {
        let mut n = Notifier::new(0);
        for i in 0..1_000 {
            assert!(n.offer(&nearby("u", "p", i)).is_some());
        }
        let mut n = Notifier::new(10);
        for i in 0..10_000 {
            n.offer(&nearby(&format!("u{i}"), "p", i));
        }
        assert!(n.remembered() < 100, "{}", n.remembered());
    }
}
