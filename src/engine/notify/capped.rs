//! A ping whose shopper's cap is already full, under `cooldown`: the common case in a busy
//! store (a shopper gets their few notifications an hour, then only matches). None of its
//! records can notify, so each is only counted and added to its pair, one by one, without
//! being folded into candidates first. The result is the general path's, exactly: the cases
//! where folding could change an answer are left to it.

use std::sync::Arc;

use super::shoppers::PairState;
use super::{cooled_down, Notifier, NotifyRule, CAP_WINDOW_MS, FORGET_AFTER_MS};
use crate::engine::output::Output;

impl Notifier {
    /// Takes the records of one input record when they are one ping's under `cooldown`, its
    /// shopper's cap full at the ping's time, and none of its promotions has a `valid_until`;
    /// returns false, having changed nothing the general path would not change the same way,
    /// for anything else.
    ///
    /// Why the answer is the same: the general path decides each (shopper, promotion) pair
    /// once from its nearest record. Here every record has the same time, so the cooldown
    /// gives each record of a pair the pair's answer (a pair's last notification does not
    /// move: nothing notifies); with no `valid_until`, nothing is expired; and a shopper full
    /// at the ping's time is full at the latest firing time too, which is that time.
    pub(super) fn capped_ping(&mut self, outputs: &[Output]) -> bool {
        let cap = self.params.cap_per_hour as usize;
        if self.params.rule != NotifyRule::Cooldown || cap == 0 {
            return false;
        }
        let Some(Output::NearbyCustomer(first)) = outputs.first() else {
            return false;
        };
        let (Some(uid), ts) = (first.customer.uid.as_ref(), first.timestamp_ms) else {
            return false;
        };
        let one_ping = outputs.iter().all(|output| match output {
            Output::NearbyCustomer(n) => {
                n.timestamp_ms == ts
                    && n.customer.uid.as_ref().is_some_and(|u| Arc::ptr_eq(u, uid))
                    && n.valid.promotion.pid.is_some()
                    && n.valid.promotion.valid_until.is_none()
            }
            _ => false,
        });
        if !one_ping {
            return false;
        }
        // As the general path would, first: it sweeps at most once per ten minutes, so doing
        // it here and again there (when this turns out not to apply) is the same.
        self.forget_before(ts - FORGET_AFTER_MS);
        let Some(customer) = self.customers.get_mut(uid) else {
            return false;
        };
        let since = ts - CAP_WINDOW_MS;
        if customer.recent.iter().filter(|t| **t > since).count() < cap {
            return false;
        }
        self.raw += outputs.len() as u64;
        let mut fired = false;
        // The records of one promotion come together: its pair is found once for them.
        let mut last: Option<(&Arc<str>, usize)> = None;
        for output in outputs {
            let Output::NearbyCustomer(n) = output else {
                continue;
            };
            let Some(pid) = n.valid.promotion.pid.as_ref() else {
                continue;
            };
            let index = match last {
                Some((known, index)) if Arc::ptr_eq(known, pid) => index,
                _ => {
                    let id = self.pids.id(pid);
                    customer
                        .pairs
                        .get_or_insert_with(id, || PairState::new(id, ts))
                        .0
                }
            };
            last = Some((pid, index));
            let Some(pair) = customer.pairs.at_mut(index) else {
                continue;
            };
            pair.last_seen_ms = pair.last_seen_ms.max(ts);
            pair.matches += 1;
            if cooled_down(pair, ts, &self.params) {
                self.held.cap += 1;
                fired = true;
            } else {
                self.held.rule += 1;
            }
        }
        if fired {
            customer.forget_recent_until(since);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use rust_decimal::Decimal;

    use super::*;
    use crate::engine::decimal::Decimal5;
    use crate::engine::nearby_join::NearbyCustomer;
    use crate::engine::notify::{Notification, NotifyParams};
    use crate::engine::promotion_join::ValidPromotion;
    use crate::engine::record::{Customer, Product, Promotion};

    const MINUTE_MS: i64 = 60_000;

    /// Promotions as the pipeline holds them: one allocation each, shared by their records.
    fn promotions(valid_until: &[bool]) -> Vec<Arc<Promotion>> {
        (valid_until.iter().enumerate())
            .map(|(k, until)| {
                Arc::new(Promotion {
                    pid: Some(format!("p{k}").into()),
                    discount_pct: Some(Decimal::from(5 * (k as i64 % 3 + 1))),
                    valid_until: until.then(|| "2030-01-01T00:00:00Z".into()),
                    ..Promotion::default()
                })
            })
            .collect()
    }

    /// The records one ping of `uid` at `ts_ms` gives: one per (promotion, product), all
    /// sharing the ping's customer (as the join's do).
    fn ping(uid: &str, ts_ms: i64, matched: &[(&Arc<Promotion>, i64)]) -> Vec<Output> {
        let customer = Arc::new(Customer {
            uid: Some(uid.into()),
            ..Customer::default()
        });
        (matched.iter())
            .map(|(promotion, sku)| {
                Output::NearbyCustomer(NearbyCustomer {
                    timestamp_ms: ts_ms,
                    customer: Arc::clone(&customer),
                    valid: Arc::new(ValidPromotion {
                        timestamp_ms: 0,
                        product: Arc::new(Product {
                            sku: Some(*sku),
                            latitude: Decimal5::from_units(4_100_000),
                            longitude: Decimal5::from_units(-8_760_000),
                            ..Product::default()
                        }),
                        promotion: Arc::clone(promotion),
                    }),
                    dist_to_store_ft: *sku as f64,
                })
            })
            .collect()
    }

    fn cooldown(cap_per_hour: u32) -> NotifyParams {
        NotifyParams {
            cap_per_hour,
            ..NotifyParams::default()
        }
    }

    #[test]
    fn a_capped_shoppers_matches_count_toward_the_next_notification() {
        let mut n = Notifier::new(cooldown(1), 100.0, 3281.0);
        let p = promotions(&[false, false]);
        let first = n.on_record(&ping("u1", 0, &[(&p[0], 1)]), None);
        assert_eq!(first.len(), 1);
        // Full for the hour: p1 would notify (never notified), p0 is in its cooldown.
        let full = ping("u1", MINUTE_MS, &[(&p[1], 1), (&p[1], 2), (&p[0], 1)]);
        assert!(n.clone().capped_ping(&full), "a capped ping is taken here");
        assert!(n.on_record(&full, None).is_empty());
        let held = n.held_back();
        assert_eq!((held.cap, held.rule), (2, 1));
        assert_eq!(n.raw_count(), 4);
        // An hour after the first notification the cap has room: p1's notification counts
        // its two held records and this one.
        let later = n.on_record(&ping("u1", 61 * MINUTE_MS, &[(&p[1], 1)]), None);
        assert_eq!(later.iter().map(|x| x.matches).collect::<Vec<_>>(), [3]);
    }

    #[test]
    fn anything_folding_could_decide_differently_is_left_to_the_general_path() {
        let p = promotions(&[false, true]);
        let capped = || {
            let mut n = Notifier::new(cooldown(1), 100.0, 3281.0);
            n.on_record(&ping("u1", 0, &[(&p[0], 1)]), None);
            n
        };
        let ts = MINUTE_MS;
        assert!(capped().capped_ping(&ping("u1", ts, &[(&p[0], 2)])));
        // A promotion with a valid_until.
        assert!(!capped().capped_ping(&ping("u1", ts, &[(&p[1], 1)])));
        // Records at different times.
        let mut uneven = ping("u1", ts, &[(&p[0], 1), (&p[0], 2)]);
        if let Some(Output::NearbyCustomer(late)) = uneven.last_mut() {
            late.timestamp_ms += 1;
        }
        assert!(!capped().capped_ping(&uneven));
        // Two shoppers (a product's records), or one shopper's uid in two allocations.
        let mut two = ping("u1", ts, &[(&p[0], 1)]);
        two.extend(ping("u2", ts, &[(&p[0], 1)]));
        assert!(!capped().capped_ping(&two));
        let mut apart = ping("u1", ts, &[(&p[0], 1)]);
        apart.extend(ping("u1", ts, &[(&p[0], 2)]));
        assert!(!capped().capped_ping(&apart));
        // Another rule, or no cap.
        let mut every = capped();
        every.params.rule = NotifyRule::Every;
        assert!(!every.capped_ping(&ping("u1", ts, &[(&p[0], 2)])));
        let mut uncapped = Notifier::new(cooldown(0), 100.0, 3281.0);
        assert!(!uncapped.capped_ping(&ping("u1", ts, &[(&p[0], 2)])));
    }

    /// A ping: its shopper, minutes since the one before, the promotions and products it
    /// matched, and whether one of its records is a millisecond later (a late promotion).
    type PingSpec = (usize, i64, Vec<(usize, i64)>, bool);

    fn pings() -> impl Strategy<Value = Vec<PingSpec>> {
        let matched = proptest::collection::vec((0..4usize, 1..4i64), 0..6);
        proptest::collection::vec(
            (0..3usize, 0..12i64, matched, proptest::bool::weighted(0.1)),
            1..80,
        )
    }

    proptest! {
        /// Notifications, their counts and what was held back are the same with and without
        /// the capped path, over pings of a few shoppers and promotions (some with a
        /// valid_until, some records late, some input records two shoppers').
        #[test]
        fn the_capped_path_changes_nothing(
            specs in pings(),
            cap in 1..4u32,
            cooldown_min in prop_oneof![Just(1i64), Just(10)],
            valid_until in proptest::collection::vec(proptest::bool::weighted(0.2), 4),
        ) {
            let params = NotifyParams { cooldown_ms: cooldown_min * MINUTE_MS, ..cooldown(cap) };
            let mut fast = Notifier::new(params.clone(), 100.0, 3281.0);
            let mut general = fast.clone();
            general.fast_capped = false;
            let p = promotions(&valid_until);
            let mut ts = 0;
            let (mut got, mut want): (Vec<Notification>, Vec<Notification>) = (vec![], vec![]);
            for (k, (shopper, gap_min, matched, late)) in specs.iter().enumerate() {
                ts += gap_min * MINUTE_MS;
                let matched: Vec<_> = matched.iter().map(|(i, sku)| (&p[*i], *sku)).collect();
                let mut outputs = ping(&format!("u{shopper}"), ts, &matched);
                if *late {
                    if let Some(Output::NearbyCustomer(n)) = outputs.last_mut() {
                        n.timestamp_ms += 1;
                    }
                }
                if k % 7 == 6 {
                    outputs.extend(ping(&format!("u{}", shopper + 1), ts, &matched));
                }
                got.extend(fast.on_record(&outputs, None));
                want.extend(general.on_record(&outputs, None));
            }
            prop_assert_eq!(got, want);
            prop_assert_eq!(fast.held_back(), general.held_back());
            prop_assert_eq!(fast.raw_count(), general.raw_count());
            prop_assert_eq!(fast.notified_count(), general.notified_count());
            prop_assert_eq!(fast.notifying_count(), general.notifying_count());
            for n in [&fast, &general] {
                prop_assert_eq!(n.raw_count(), n.notifying_count() + n.held_back().total());
            }
        }
    }
}
