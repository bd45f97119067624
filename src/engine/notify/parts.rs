//! One input record's matches offered in parts. A promotion that arrives in a chain of
//! hundreds of stores matches every buffered ping by every shelf of its segment: tens of
//! millions of records, gigabytes if a caller held them at once. The rules read only each
//! pair's first record (its discount orders the cap), its nearest record and how many it
//! has, so each part is folded into those, and the record is then decided exactly as if it
//! had come whole.

use std::collections::hash_map::Entry;
use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::pids::PidId;
use super::{Notification, Notifier, NotifyRule};
use crate::engine::nearby_join::NearbyCustomer;
use crate::engine::output::Output;
use crate::engine::record::Customer;

/// The pairs of the record offered so far, in the order their first records came.
#[derive(Clone, Debug, Default)]
pub(super) struct Parts {
    /// (uid, pid) → index in `pairs`; unused under `every`, where each record is its own.
    index: FxHashMap<(Arc<str>, PidId), usize>,
    pairs: Vec<PartPair>,
}

#[derive(Clone, Debug)]
struct PartPair {
    first: NearbyCustomer,
    /// Nearer than `first`, when a later record was.
    nearest: Option<NearbyCustomer>,
    records: u32,
}

impl Notifier {
    /// Takes part of one input record's outputs, in order; [`Notifier::finish_parts`] then
    /// decides the record. Holds two records a pair, whatever the part's size.
    pub fn offer_part(&mut self, outputs: &[Output]) {
        let each = self.params.rule == NotifyRule::Every;
        for output in outputs {
            let Some((n, uid, pid)) = self.count_match(output) else {
                continue;
            };
            let pid = self.pids.id(pid);
            let fresh = |n: &NearbyCustomer| PartPair {
                first: n.clone(),
                nearest: None,
                records: 1,
            };
            if each {
                self.parts.pairs.push(fresh(n));
                continue;
            }
            match self.parts.index.entry((Arc::clone(uid), pid)) {
                Entry::Vacant(slot) => {
                    slot.insert(self.parts.pairs.len());
                    self.parts.pairs.push(fresh(n));
                }
                Entry::Occupied(slot) => {
                    let Some(pair) = self.parts.pairs.get_mut(*slot.get()) else {
                        continue;
                    };
                    pair.records = pair.records.saturating_add(1);
                    // As `collect`: the strictly nearer record, the earlier on a tie.
                    let nearest = pair.nearest.as_ref().unwrap_or(&pair.first);
                    if n.dist_to_store_ft < nearest.dist_to_store_ft {
                        pair.nearest = Some(n.clone());
                    }
                }
            }
        }
    }

    /// Decides the record whose outputs came through [`Notifier::offer_part`] (with its ping,
    /// when it was one), appending its notifications to `out`: the same notifications and
    /// counts as [`Notifier::on_record_into`] gives for the whole outputs.
    pub fn finish_parts(&mut self, ping: Option<&(Customer, i64)>, out: &mut Vec<Notification>) {
        let parts = std::mem::take(&mut self.parts);
        let mut records = Vec::with_capacity(parts.pairs.len());
        let mut outputs = Vec::with_capacity(parts.pairs.len());
        for pair in parts.pairs {
            records.push(pair.records);
            outputs.push(Output::NearbyCustomer(pair.first));
            outputs.extend(pair.nearest.map(Output::NearbyCustomer));
        }
        if outputs.is_empty() && !self.tracks_exits() {
            return;
        }
        let ping = ping
            .filter(|_| self.tracks_exits())
            .and_then(|(c, ts)| Some((c.uid.as_ref()?, c.position()?, *ts)));
        // The stand-ins fold into one candidate per pair, in the pairs' order: give each its
        // pair's count, and leave the records counted as they were offered.
        let raw = self.raw;
        self.collect(&outputs);
        self.raw = raw;
        for (candidate, n) in self.scratch.candidates.iter_mut().zip(records) {
            candidate.records = n;
        }
        self.settle(&outputs, ping, out);
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use rust_decimal::Decimal;

    use super::*;
    use crate::engine::decimal::Decimal5;
    use crate::engine::notify::NotifyParams;
    use crate::engine::promotion_join::ValidPromotion;
    use crate::engine::record::{Product, Promotion};

    /// A record's match: shopper `uid`, promotion `pid` (discount by pid), `units`
    /// hundred-thousandths of a degree north of its product, at `ts`.
    fn nearby(uid: u8, pid: u8, units: i64, ts: i64, promotions: &[Arc<Promotion>]) -> Output {
        Output::NearbyCustomer(matched(uid, pid, units, ts, promotions))
    }

    fn matched(
        uid: u8,
        pid: u8,
        units: i64,
        ts: i64,
        promotions: &[Arc<Promotion>],
    ) -> NearbyCustomer {
        let lat = |u: i64| Decimal5::from_units(4_100_000 + u);
        let lon = Decimal5::from_units(-8_760_000);
        let promotion = Arc::clone(&promotions[pid as usize]);
        NearbyCustomer {
            timestamp_ms: ts,
            customer: Arc::new(Customer {
                uid: Some(format!("u{uid}").into()),
                latitude: lat(units),
                longitude: lon,
                country: Some("USA".into()),
                ..Customer::default()
            }),
            valid: Arc::new(ValidPromotion {
                timestamp_ms: 0,
                product: Arc::new(Product {
                    sku: Some(i64::from(pid)),
                    latitude: lat(0),
                    longitude: lon,
                    ..Product::default()
                }),
                promotion,
            }),
            dist_to_store_ft: units as f64 * 3.65,
        }
    }

    fn promotions() -> Vec<Arc<Promotion>> {
        (0..4)
            .map(|pid| {
                Arc::new(Promotion {
                    pid: (pid != 3).then(|| format!("p{pid}").into()),
                    discount_pct: Some(Decimal::from(10 + pid % 2)),
                    ..Promotion::default()
                })
            })
            .collect()
    }

    type Spec = (u8, u8, i64, i64);

    fn records() -> impl Strategy<Value = Vec<Vec<Spec>>> {
        // Input records of up to 40 matches: 5 shoppers, 4 promotions (one without a pid),
        // distances with ties, times within a few minutes.
        let one = (0u8..5, 0u8..4, 0i64..30, 0i64..400_000);
        prop::collection::vec(prop::collection::vec(one, 0..40), 1..12)
    }

    fn params() -> impl Strategy<Value = NotifyParams> {
        let rule = prop::sample::select(vec![
            NotifyRule::Every,
            NotifyRule::Cooldown,
            NotifyRule::Enter,
            NotifyRule::Dwell,
        ]);
        (rule, 0u32..4, 0i64..300_000).prop_map(|(rule, cap_per_hour, dwell_ms)| NotifyParams {
            rule,
            cap_per_hour,
            dwell_ms,
            cooldown_ms: 120_000,
            ..NotifyParams::default()
        })
    }

    proptest! {
        /// Records offered in parts, split anywhere, give the notifications, counts and state
        /// the same records give whole.
        #[test]
        fn parts_decide_as_the_whole_record(
            records in records(),
            params in params(),
            cut in prop::collection::vec(0usize..40, 12),
            pings in prop::collection::vec(prop::option::of(0i64..60), 12),
        ) {
            let promotions = promotions();
            let mut whole = Notifier::new(params.clone(), 100.0, 3281.0);
            let mut in_parts = Notifier::new(params, 100.0, 3281.0);
            let t0 = 1_764_147_600_000;
            for (r, specs) in records.iter().enumerate() {
                let outputs: Vec<Output> = specs
                    .iter()
                    .map(|(uid, pid, units, dt)| nearby(*uid, *pid, *units, t0 + dt + r as i64 * 60_000, &promotions))
                    .collect();
                // Sometimes the record is shopper u0's ping, whose exits the rules check.
                let ping = pings[r].map(|units| {
                    let n = matched(0, 0, units, t0 + r as i64 * 60_000, &promotions);
                    ((*n.customer).clone(), n.timestamp_ms)
                });
                let expected = whole.on_record(&outputs, ping.as_ref());
                let at = cut[r].min(outputs.len());
                let (a, b) = outputs.split_at(at);
                for part in [a, b] {
                    for piece in part.chunks(7) {
                        in_parts.offer_part(piece);
                    }
                }
                let mut got = Vec::new();
                in_parts.finish_parts(ping.as_ref(), &mut got);
                prop_assert_eq!(got, expected);
                prop_assert_eq!(in_parts.raw_count(), whole.raw_count());
                prop_assert_eq!(in_parts.held_back(), whole.held_back());
                prop_assert_eq!(in_parts.notified_count(), whole.notified_count());
                prop_assert_eq!(in_parts.notifying_count(), whole.notifying_count());
                prop_assert_eq!(in_parts.tracked(), whole.tracked());
                // Every record either made a notification or was held back for a reason.
                prop_assert_eq!(
                    whole.raw_count(),
                    whole.notifying_count() + whole.held_back().total()
                );
            }
        }
    }
}
