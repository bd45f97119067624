//! A store of the chain in local metres: what shoppers walk through.

use std::sync::Arc;

use crate::engine::geo::{LatLonDeg, LocalFrame, Meters};
use crate::io::chain::Store;

use super::rng::SplitMix64;

/// One aisle's walking line.
#[derive(Clone, Debug)]
pub struct AisleLayout {
    pub front: Meters,
    pub back: Meters,
}

/// A store's geometry in its own east/north frame (origin at the store's centre).
#[derive(Clone, Debug)]
pub struct StoreLayout {
    pub frame: LocalFrame,
    pub country: Arc<str>,
    pub footprint: Vec<Meters>,
    pub entrance: Meters,
    /// Unit vector from the store's centre out through the entrance.
    pub outward: Meters,
    pub aisles: Vec<AisleLayout>,
    pub checkout: (Meters, Meters),
    pub parking: Vec<Meters>,
    pub sidewalk: Vec<Meters>,
}

impl StoreLayout {
    pub fn new(store: &Store) -> Self {
        let frame = LocalFrame::new(store.center());
        let local = |points: &[LatLonDeg]| {
            points
                .iter()
                .map(|p| frame.to_local(*p))
                .collect::<Vec<_>>()
        };
        let entrance = frame.to_local(store.entrance);
        let len = entrance.distance_m(Meters::default()).max(1e-9);
        let outward = Meters::new(entrance.east_m / len, entrance.north_m / len);
        let aisles = store
            .aisles
            .iter()
            .filter_map(|a| {
                let (first, last) = (a.path.first()?, a.path.last()?);
                let (p, q) = (frame.to_local(*first), frame.to_local(*last));
                // The front end is the one nearer the entrance.
                let (front, back) = if p.distance_m(entrance) <= q.distance_m(entrance) {
                    (p, q)
                } else {
                    (q, p)
                };
                Some(AisleLayout { front, back })
            })
            .collect();
        let inside = |d: f64| {
            Meters::new(
                entrance.east_m - outward.east_m * d,
                entrance.north_m - outward.north_m * d,
            )
        };
        let checkout = match store.checkout.as_slice() {
            [a, .., b] => (frame.to_local(*a), frame.to_local(*b)),
            _ => (inside(6.0), inside(6.0)),
        };
        Self {
            frame,
            country: Arc::from(store.country.as_str()),
            footprint: local(&store.footprint),
            entrance,
            outward,
            aisles,
            checkout,
            parking: local(&store.parking),
            sidewalk: local(&store.sidewalk),
        }
    }

    /// A point `d` metres from the entrance, outside (d > 0) or inside (d < 0).
    pub fn beyond_entrance(&self, d: f64) -> Meters {
        Meters::new(
            self.entrance.east_m + self.outward.east_m * d,
            self.entrance.north_m + self.outward.north_m * d,
        )
    }

    /// A random parking spot (in front of the entrance when the store has no lot).
    pub fn parking_spot(&self, rng: &mut SplitMix64) -> Meters {
        if self.parking.len() >= 4 {
            let (min_e, max_e, min_n, max_n) = bounds(&self.parking);
            for _ in 0..64 {
                let p = Meters::new(rng.uniform(min_e, max_e), rng.uniform(min_n, max_n));
                if contains(&self.parking, p) {
                    return p;
                }
            }
        }
        self.beyond_entrance(rng.uniform(10.0, 35.0))
    }

    /// Whether `p` is inside the footprint.
    pub fn is_inside(&self, p: Meters) -> bool {
        contains(&self.footprint, p)
    }
}

fn bounds(points: &[Meters]) -> (f64, f64, f64, f64) {
    points.iter().fold(
        (
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ),
        |(a, b, c, d), p| {
            (
                a.min(p.east_m),
                b.max(p.east_m),
                c.min(p.north_m),
                d.max(p.north_m),
            )
        },
    )
}

/// Even-odd point-in-polygon test.
pub fn contains(ring: &[Meters], p: Meters) -> bool {
    let mut inside = false;
    for (i, a) in ring.iter().enumerate() {
        let b = ring[(i + 1) % ring.len()];
        if (a.north_m > p.north_m) != (b.north_m > p.north_m) {
            let t = (p.north_m - a.north_m) / (b.north_m - a.north_m);
            if p.east_m < a.east_m + t * (b.east_m - a.east_m) {
                inside = !inside;
            }
        }
    }
    inside
}
