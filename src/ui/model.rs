//! What the console knows, built from the engine's events: products on their shelves, which
//! rings a valid promotion lights, where each shopper is and was, recent matches, the
//! notification feed, per-minute counts and the latest counters. Plain data, no egui: the
//! panels and map layers read it, tests drive it directly.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::engine::geo::{lon_east_of_deg, wrap_lon_deg, LatLonDeg};
use crate::engine::notify::Notification;
use crate::engine::record::{Customer, Product, Promotion};
use crate::engine::PipelineParams;
use crate::io::live::{LiveEvent, LiveSettings, LiveStats, PingMatch};

pub use super::trail::{Trail, TRAIL_PINGS};
/// A shopper who has not pinged for this long (event time) has left.
pub const CUSTOMER_GONE_MS: i64 = 30_000;
/// Notifications kept for the feed.
pub const FEED_CAPACITY: usize = 5_000;
/// Matches kept for drawing lines and pulses.
pub const RECENT_MATCHES: usize = 2_000;
/// Promotions kept in the seen list.
pub const PROMOTIONS_KEPT: usize = 500;

/// A product the map can draw (it has a SKU and coordinates).
#[derive(Clone, Debug)]
pub struct ProductView {
    pub product: Arc<Product>,
    pub sku: i64,
    pub position: LatLonDeg,
    pub last_seen_ms: i64,
}

/// The valid promotions a product has had, latest first.
#[derive(Clone, Debug, Default)]
pub struct ValidMark {
    /// Timestamp of the latest VALID_PROMOTIONS record for the product.
    pub latest_ms: i64,
    /// Promotions (pid, title) that made it valid, most recent last, at most a few.
    pub promotions: Vec<(Arc<str>, Option<Arc<str>>)>,
}

/// A shopper's latest match.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LastMatch {
    pub timestamp_ms: i64,
    /// The nearest matched product's SKU.
    pub sku: Option<i64>,
    pub dist_to_store_ft: f64,
}

/// A shopper on the map.
#[derive(Clone, Debug)]
pub struct CustomerView {
    pub uid: Arc<str>,
    pub country: Option<Arc<str>>,
    /// (event time, position), oldest first.
    pub trail: Trail,
    pub last_match: Option<LastMatch>,
}

impl CustomerView {
    pub fn last_ping_ms(&self) -> i64 {
        self.trail.last().map_or(i64::MIN, |(t, _)| *t)
    }

    /// Where to draw the shopper at event time `t_ms`: on the line between the two pings
    /// around it, so dots glide instead of jumping every few seconds. Between two pings no
    /// one could travel between (see [`is_jump`]) the shopper stays at the earlier one.
    pub fn position_at(&self, t_ms: i64) -> Option<LatLonDeg> {
        let (last_t, last_p) = *self.trail.last()?;
        if t_ms >= last_t {
            return Some(last_p);
        }
        let mut later = (last_t, last_p);
        for &(t, p) in self.trail.pings().iter().rev().skip(1) {
            if t <= t_ms {
                if is_jump((t, p), later) {
                    return Some(p);
                }
                let span = (later.0 - t).max(1) as f64;
                let f = (t_ms - t) as f64 / span;
                // East the short way round: across the antimeridian a shopper walks a few
                // metres, not round the Earth.
                let east_deg = lon_east_of_deg(later.1.lon_deg, p.lon_deg);
                return Some(LatLonDeg {
                    lat_deg: p.lat_deg + (later.1.lat_deg - p.lat_deg) * f,
                    lon_deg: wrap_lon_deg(p.lon_deg + east_deg * f),
                });
            }
            later = (t, p);
        }
        // Before the first ping we know of: not on the map yet.
        None
    }
}

/// Faster than this between two pings is not a shopper moving but a jump in the data (GPS
/// glitches, or mock data with random positions, like the original's scripts).
pub const JUMP_M_PER_S: f64 = 50.0;

/// Whether going from ping `a` to ping `b` (time, place) would be faster than
/// [`JUMP_M_PER_S`].
pub fn is_jump(a: (i64, LatLonDeg), b: (i64, LatLonDeg)) -> bool {
    JumpCheck::at(a.1.lat_deg).is_jump(a, b)
}

/// [`is_jump`] for many pings near one latitude (a shopper's trail): an equirectangular
/// distance with the cosine taken once, cheap enough for every trail segment of every frame
/// and exact enough at the distances that matter.
#[derive(Clone, Copy, Debug)]
pub struct JumpCheck {
    cos_lat: f64,
}

impl JumpCheck {
    pub fn at(lat_deg: f64) -> JumpCheck {
        JumpCheck {
            cos_lat: lat_deg.to_radians().cos(),
        }
    }

    pub fn is_jump(&self, a: (i64, LatLonDeg), b: (i64, LatLonDeg)) -> bool {
        const M_PER_DEG: f64 = 111_320.0;
        let dlon = lon_east_of_deg(b.1.lon_deg, a.1.lon_deg).abs();
        let east_m = dlon * self.cos_lat * M_PER_DEG;
        let north_m = (b.1.lat_deg - a.1.lat_deg) * M_PER_DEG;
        let seconds = ((b.0 - a.0).abs().max(1) as f64) / 1000.0;
        let limit_m = JUMP_M_PER_S * seconds;
        east_m * east_m + north_m * north_m > limit_m * limit_m
    }
}

/// A promotion the engine accepted.
#[derive(Clone, Debug)]
pub struct PromotionSeen {
    pub timestamp_ms: i64,
    pub offset: i64,
    pub promotion: Arc<Promotion>,
}

/// A promotion's notifications so far.
#[derive(Clone, Debug, Default)]
pub struct PidReach {
    pub notifications: u64,
    pub reached: rustc_hash::FxHashSet<Arc<str>>,
}

/// Everything the console draws.
#[derive(Clone, Debug, Default)]
pub struct LiveModel {
    pub products: Vec<ProductView>,
    sku_index: FxHashMap<i64, usize>,
    /// Products the engine accepted that have no SKU or no coordinates (not drawable).
    pub unplaceable_products: u64,
    pub valid_by_sku: FxHashMap<i64, ValidMark>,
    pub promotions: VecDeque<PromotionSeen>,
    /// Inline (trail and all): the map walks every shopper every frame, and a replay
    /// checkpoint copies ~350 bytes per shopper (no allocation).
    pub customers: FxHashMap<Arc<str>, CustomerView>,
    pub matches: VecDeque<PingMatch>,
    pub notifications: VecDeque<Notification>,
    /// Notifications pushed to the feed so far (the feed's hold counts what came since).
    pub notifications_total: u64,
    /// Notifications and the shoppers they reached, by promotion id (a running campaign's
    /// live reach).
    pub reach_by_pid: FxHashMap<Arc<str>, PidReach>,
    pub per_minute: BTreeMap<(i64, Arc<str>), u64>,
    pub stats: LiveStats,
    pub settings: Option<LiveSettings>,
    pub source_closed: bool,
    /// Highest event time seen in any event.
    pub latest_event_ms: Option<i64>,
    /// Events applied so far (the UI's drain progress).
    pub events_applied: u64,
}

impl LiveModel {
    pub fn apply_batch(&mut self, batch: Vec<LiveEvent>) {
        for event in batch {
            self.apply(event);
        }
    }

    pub fn apply(&mut self, event: LiveEvent) {
        self.events_applied += 1;
        match event {
            LiveEvent::Product {
                timestamp_ms,
                product,
            } => {
                self.saw(timestamp_ms);
                self.put_product(timestamp_ms, product);
            }
            LiveEvent::Promotion {
                timestamp_ms,
                offset,
                promotion,
            } => {
                self.saw(timestamp_ms);
                self.promotions.push_back(PromotionSeen {
                    timestamp_ms,
                    offset,
                    promotion,
                });
                if self.promotions.len() > PROMOTIONS_KEPT {
                    self.promotions.pop_front();
                }
            }
            LiveEvent::Ping {
                timestamp_ms,
                customer,
            } => {
                self.saw(timestamp_ms);
                self.put_ping(timestamp_ms, &customer);
            }
            LiveEvent::ValidPromotion(v) => {
                let Some(sku) = v.product.sku else { return };
                let mark = self.valid_by_sku.entry(sku).or_default();
                mark.latest_ms = mark.latest_ms.max(v.timestamp_ms);
                if let Some(pid) = v.promotion.pid.clone() {
                    mark.promotions.retain(|(p, _)| *p != pid);
                    mark.promotions.push((pid, v.promotion.title.clone()));
                    if mark.promotions.len() > 4 {
                        mark.promotions.remove(0);
                    }
                }
            }
            LiveEvent::Match(m) => {
                if let Some(uid) = m.customer.uid.as_ref() {
                    if let Some(c) = self.customers.get_mut(uid) {
                        c.last_match = Some(LastMatch {
                            timestamp_ms: m.timestamp_ms,
                            sku: m.nearest.product.sku,
                            dist_to_store_ft: m.dist_to_store_ft,
                        });
                    }
                }
                self.matches.push_back(m);
                if self.matches.len() > RECENT_MATCHES {
                    self.matches.pop_front();
                }
            }
            LiveEvent::Notification(n) => {
                let reach = self.reach_by_pid.entry(Arc::clone(&n.pid)).or_default();
                reach.notifications += 1;
                if !reach.reached.contains(&n.uid) {
                    reach.reached.insert(Arc::clone(&n.uid));
                }
                self.notifications.push_front(n);
                self.notifications.truncate(FEED_CAPACITY);
                self.notifications_total += 1;
            }
            LiveEvent::MatchesPerMinute(counts) => {
                for (key, n) in counts {
                    *self.per_minute.entry(key).or_insert(0) += n;
                }
                // Two hours of minutes is plenty for the chart.
                while self.per_minute.len() > 120 * 8 {
                    self.per_minute.pop_first();
                }
            }
            LiveEvent::Stats(stats) => {
                if let Some(t) = stats.stream_time_ms {
                    self.saw(t);
                }
                self.stats = *stats;
            }
            LiveEvent::Applied { settings, .. } => self.settings = Some(settings),
            LiveEvent::SourceClosed => self.source_closed = true,
            // The session pairs checkpoints with a copy of this model (see `Session::drain`).
            LiveEvent::Checkpoint(_) => {}
        }
    }

    fn saw(&mut self, timestamp_ms: i64) {
        self.latest_event_ms = Some(
            self.latest_event_ms
                .map_or(timestamp_ms, |t| t.max(timestamp_ms)),
        );
    }

    fn put_product(&mut self, timestamp_ms: i64, product: Arc<Product>) {
        let (Some(sku), Some(position)) = (product.sku, product.position()) else {
            self.unplaceable_products += 1;
            return;
        };
        let view = ProductView {
            sku,
            position: LatLonDeg {
                lat_deg: position.lat.to_f64(),
                lon_deg: position.lon.to_f64(),
            },
            last_seen_ms: timestamp_ms,
            product,
        };
        match self.sku_index.get(&sku) {
            Some(&i) => self.products[i] = view,
            None => {
                self.sku_index.insert(sku, self.products.len());
                self.products.push(view);
            }
        }
    }

    fn put_ping(&mut self, timestamp_ms: i64, customer: &Customer) {
        let (Some(uid), Some(position)) = (customer.uid.clone(), customer.position()) else {
            return;
        };
        let at = LatLonDeg {
            lat_deg: position.lat.to_f64(),
            lon_deg: position.lon.to_f64(),
        };
        let view = self
            .customers
            .entry(Arc::clone(&uid))
            .or_insert_with(|| CustomerView {
                uid,
                country: customer.country.clone(),
                trail: Trail::default(),
                last_match: None,
            });
        view.trail.insert(timestamp_ms, at);
    }

    pub fn product(&self, sku: i64) -> Option<&ProductView> {
        self.sku_index.get(&sku).map(|&i| &self.products[i])
    }

    /// Whether a valid promotion can still match pings at event time `now_ms`: a
    /// VALID_PROMOTIONS record at v joins pings with |ping − v| ≤ the customer window.
    pub fn ring_active(&self, sku: i64, now_ms: i64) -> bool {
        let window = self.customer_window_ms();
        self.valid_by_sku
            .get(&sku)
            .is_some_and(|m| (now_ms - m.latest_ms).abs() <= window)
    }

    pub fn customer_window_ms(&self) -> i64 {
        self.params().customer_window_ms
    }

    pub fn radius_ft(&self) -> f64 {
        self.params().radius_ft
    }

    /// The engine's km → ft factor (DIST_TO_STORE's feet).
    pub fn km_to_ft(&self) -> f64 {
        self.params().km_to_ft
    }

    /// The parameters the engine runs with (its defaults until it says).
    pub fn params(&self) -> &PipelineParams {
        static DEFAULT: std::sync::LazyLock<PipelineParams> =
            std::sync::LazyLock::new(PipelineParams::default);
        self.settings.as_ref().map_or(&DEFAULT, |s| &s.params)
    }

    /// Forgets shoppers who left before `now_ms` and matches older than `keep_ms`.
    pub fn expire(&mut self, now_ms: i64, keep_matches_ms: i64) {
        self.customers
            .retain(|_, c| now_ms - c.last_ping_ms() <= CUSTOMER_GONE_MS);
        while self
            .matches
            .front()
            .is_some_and(|m| now_ms - m.timestamp_ms > keep_matches_ms)
        {
            self.matches.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn customer(uid: &str, lat: f64) -> Arc<Customer> {
        Arc::new(Customer {
            uid: Some(uid.into()),
            latitude: crate::engine::Decimal5::from_units((lat * 1e5).round() as i64),
            longitude: crate::engine::Decimal5::from_units(-8_762_000),
            country: Some("USA".into()),
            ..Customer::default()
        })
    }

    /// Shopper "u" pinging at `first_lat` at 0 s and at `second_lat` 10 s later.
    fn two_pings(first_lat: f64, second_lat: f64) -> LiveModel {
        let mut m = LiveModel::default();
        for (timestamp_ms, lat) in [(0, first_lat), (10_000, second_lat)] {
            m.apply(LiveEvent::Ping {
                timestamp_ms,
                customer: customer("u", lat),
            });
        }
        m
    }

    #[test]
    fn shoppers_glide_between_pings_and_leave_after_silence() {
        let mut m = two_pings(41.0, 41.001);
        let c = &m.customers["u"];
        let mid = c.position_at(5_000).unwrap();
        assert!((mid.lat_deg - 41.0005).abs() < 1e-9, "{mid:?}");
        assert_eq!(c.position_at(20_000).unwrap().lat_deg, 41.001);
        assert!(c.position_at(-1).is_none());
        m.expire(10_000 + CUSTOMER_GONE_MS, 0);
        assert_eq!(m.customers.len(), 1);
        m.expire(10_001 + CUSTOMER_GONE_MS, 0);
        assert!(m.customers.is_empty());
    }

    #[test]
    fn a_jump_no_one_could_walk_is_not_glided_across() {
        let at = |lat_deg: f64, lon_deg: f64| LatLonDeg { lat_deg, lon_deg };
        // 111 m in 5 s is 22 m/s: a car, not a jump; 1 km in 5 s is.
        assert!(!is_jump((0, at(41.0, -87.6)), (5_000, at(41.001, -87.6))));
        assert!(is_jump((0, at(41.0, -87.6)), (5_000, at(41.009, -87.6))));
        // Across the antimeridian the short way round counts.
        assert!(!is_jump(
            (0, at(0.0, 179.9999)),
            (5_000, at(0.0, -179.9999))
        ));
        // ... and a shopper glides across it the same way.
        let mut m = LiveModel::default();
        for (timestamp_ms, lon) in [(0, 17_999_990), (10_000, -17_999_990)] {
            m.apply(LiveEvent::Ping {
                timestamp_ms,
                customer: Arc::new(Customer {
                    longitude: crate::engine::Decimal5::from_units(lon),
                    ..(*customer("u", 0.0)).clone()
                }),
            });
        }
        let mid = m.customers["u"].position_at(5_000).unwrap();
        assert!(mid.lon_deg.abs() > 179.9999, "{mid:?}");
        let mut m = LiveModel::default();
        m.apply(LiveEvent::Ping {
            timestamp_ms: 0,
            customer: customer("u", 41.0),
        });
        m.apply(LiveEvent::Ping {
            timestamp_ms: 10_000,
            customer: customer("u", -33.0),
        });
        let c = &m.customers["u"];
        assert_eq!(
            c.position_at(5_000).unwrap().lat_deg,
            41.0,
            "stays, then jumps"
        );
        assert_eq!(c.position_at(10_000).unwrap().lat_deg, -33.0);
    }

    #[test]
    fn trails_are_bounded_and_time_ordered() {
        let mut m = LiveModel::default();
        for t in (0..30).rev() {
            m.apply(LiveEvent::Ping {
                timestamp_ms: t * 1_000,
                customer: customer("u", 41.0),
            });
        }
        let trail = &m.customers["u"].trail;
        assert_eq!(trail.len(), TRAIL_PINGS);
        assert!(trail
            .pings()
            .iter()
            .zip(trail.pings().iter().skip(1))
            .all(|(a, b)| a.0 <= b.0));
    }

    #[test]
    fn products_without_coordinates_are_counted_not_drawn_and_republishing_replaces() {
        let mut m = LiveModel::default();
        let p = |lat: Option<i64>| {
            Arc::new(Product {
                sku: Some(1),
                latitude: lat.and_then(crate::engine::Decimal5::from_units),
                longitude: crate::engine::Decimal5::from_units(0),
                ..Product::default()
            })
        };
        m.apply(LiveEvent::Product {
            timestamp_ms: 0,
            product: p(None),
        });
        m.apply(LiveEvent::Product {
            timestamp_ms: 1,
            product: p(Some(100)),
        });
        m.apply(LiveEvent::Product {
            timestamp_ms: 2,
            product: p(Some(200)),
        });
        assert_eq!(m.unplaceable_products, 1);
        assert_eq!(m.products.len(), 1);
        assert_eq!(m.product(1).unwrap().last_seen_ms, 2);
    }
}
