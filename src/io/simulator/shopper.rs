//! A shopper's visit as a timed path: legs of walking and pauses, in the store's local frame.
//!
//! Shoppers come from the parking lot, walk in, snake through a few aisles (stopping in front of
//! shelves), queue at the checkout and walk back to their car. Passers-by walk along the
//! sidewalk past the entrance without going in; they matter because a 100-ft ring reaches out of
//! the store.

use crate::engine::geo::Meters;

use super::layout::StoreLayout;
use super::rng::SplitMix64;

/// One straight walk or one pause (`from == to`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Leg {
    pub start_ms: i64,
    pub end_ms: i64,
    pub from: Meters,
    pub to: Meters,
}

/// What kind of visit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum VisitKind {
    #[default]
    Shopper,
    PasserBy,
}

/// A visit from arrival to departure.
#[derive(Clone, Debug, Default)]
pub struct Visit {
    pub kind: VisitKind,
    pub legs: Vec<Leg>,
    /// Index of the leg the last position came from (positions are asked in time order).
    cursor: usize,
}

impl Visit {
    pub fn start_ms(&self) -> i64 {
        self.legs.first().map_or(0, |l| l.start_ms)
    }

    pub fn end_ms(&self) -> i64 {
        self.legs.last().map_or(0, |l| l.end_ms)
    }

    /// Moves the whole visit in time (people already mid-visit when a simulation starts).
    pub fn shift(&mut self, delta_ms: i64) {
        for leg in &mut self.legs {
            leg.start_ms += delta_ms;
            leg.end_ms += delta_ms;
        }
    }

    /// Where the shopper is at `t_ms` (clamped to the visit). Calls must not go back in time
    /// by more than one leg; the simulator asks in increasing time.
    pub fn position_at(&mut self, t_ms: i64) -> Meters {
        while self.cursor + 1 < self.legs.len() && self.legs[self.cursor].end_ms < t_ms {
            self.cursor += 1;
        }
        let Some(leg) = self.legs.get(self.cursor) else {
            return Meters::default();
        };
        let span = (leg.end_ms - leg.start_ms).max(1) as f64;
        let t = ((t_ms - leg.start_ms) as f64 / span).clamp(0.0, 1.0);
        leg.from.lerp(leg.to, t)
    }
}

/// Builds legs at walking speed from a list of stops.
struct PathBuilder {
    legs: Vec<Leg>,
    at: Meters,
    t_ms: i64,
    speed_m_per_s: f64,
}

impl PathBuilder {
    fn new(start: Meters, t_ms: i64, speed_m_per_s: f64) -> Self {
        Self {
            legs: Vec::new(),
            at: start,
            t_ms,
            speed_m_per_s,
        }
    }

    fn walk_to(&mut self, to: Meters) {
        let duration_ms = (self.at.distance_m(to) / self.speed_m_per_s * 1000.0).round() as i64;
        self.push(to, duration_ms.max(1));
    }

    fn pause(&mut self, duration_ms: i64) {
        self.push(self.at, duration_ms.max(1));
    }

    fn push(&mut self, to: Meters, duration_ms: i64) {
        self.legs.push(Leg {
            start_ms: self.t_ms,
            end_ms: self.t_ms + duration_ms,
            from: self.at,
            to,
        });
        self.t_ms += duration_ms;
        self.at = to;
    }
}

/// Plans a visit to `store` starting at `start_ms`.
pub fn plan_visit(
    store: &StoreLayout,
    start_ms: i64,
    passer_by_share: f64,
    rng: &mut SplitMix64,
) -> Visit {
    let passer_by = store.sidewalk.len() >= 2 && rng.chance(passer_by_share);
    let (kind, legs) = if passer_by {
        (VisitKind::PasserBy, pass_by(store, start_ms, rng))
    } else {
        (VisitKind::Shopper, shop(store, start_ms, rng))
    };
    Visit {
        kind,
        legs,
        cursor: 0,
    }
}

fn pass_by(store: &StoreLayout, start_ms: i64, rng: &mut SplitMix64) -> Vec<Leg> {
    let (mut from, mut to) = (store.sidewalk[0], store.sidewalk[store.sidewalk.len() - 1]);
    if rng.chance(0.5) {
        std::mem::swap(&mut from, &mut to);
    }
    let mut path = PathBuilder::new(from, start_ms, rng.uniform(1.1, 1.5));
    // Some glance at the window by the entrance.
    if rng.chance(0.3) {
        path.walk_to(store.beyond_entrance(2.5));
        path.pause(rng.range_i64(5_000, 25_000));
    }
    path.walk_to(to);
    path.legs
}

fn shop(store: &StoreLayout, start_ms: i64, rng: &mut SplitMix64) -> Vec<Leg> {
    let car = store.parking_spot(rng);
    let outside = store.beyond_entrance(2.0);
    let inside = store.beyond_entrance(-3.0);
    let mut path = PathBuilder::new(car, start_ms, rng.uniform(0.9, 1.4));
    path.pause(rng.range_i64(2_000, 20_000));
    path.walk_to(outside);
    path.walk_to(inside);
    // A few aisles, visited left to right in a serpentine: up one, down the next.
    let n_aisles = store.aisles.len();
    let mut chosen: Vec<usize> = (0..n_aisles).collect();
    for i in (1..chosen.len()).rev() {
        chosen.swap(i, rng.below(i as u64 + 1) as usize);
    }
    let visits = rng.range_i64(2, 5).min(n_aisles as i64) as usize;
    chosen.truncate(visits);
    chosen.sort_unstable();
    for (k, &a) in chosen.iter().enumerate() {
        let aisle = &store.aisles[a];
        let (enter, leave) = if k % 2 == 0 {
            (aisle.front, aisle.back)
        } else {
            (aisle.back, aisle.front)
        };
        path.walk_to(enter);
        let mut stops: Vec<f64> = (0..rng.range_i64(1, 3))
            .map(|_| rng.uniform(0.1, 0.9))
            .collect();
        stops.sort_by(f64::total_cmp);
        for t in stops {
            path.walk_to(enter.lerp(leave, t));
            path.pause(rng.range_i64(15_000, 90_000));
        }
        path.walk_to(leave);
    }
    let (c0, c1) = store.checkout;
    path.walk_to(c0.lerp(c1, rng.unit()));
    path.pause(rng.range_i64(45_000, 180_000));
    path.walk_to(inside);
    path.walk_to(outside);
    path.walk_to(car);
    path.pause(rng.range_i64(5_000, 30_000));
    path.legs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::chain::Chain;

    #[test]
    fn visits_are_continuous_in_time_and_space() {
        let chain = Chain::builtin().unwrap();
        let store = StoreLayout::new(&chain.stores[0]);
        let mut rng = SplitMix64::new(3);
        for _ in 0..50 {
            let visit = plan_visit(&store, 1_000, 0.3, &mut rng);
            assert_eq!(visit.start_ms(), 1_000);
            for pair in visit.legs.windows(2) {
                assert_eq!(pair[0].end_ms, pair[1].start_ms);
                assert_eq!(pair[0].to, pair[1].from);
            }
            let minutes = (visit.end_ms() - visit.start_ms()) as f64 / 60_000.0;
            match visit.kind {
                VisitKind::Shopper => assert!((3.0..40.0).contains(&minutes), "{minutes}"),
                VisitKind::PasserBy => assert!(minutes < 3.0, "{minutes}"),
            }
        }
    }

    #[test]
    fn shoppers_go_inside_and_passers_by_do_not() {
        let chain = Chain::builtin().unwrap();
        let store = StoreLayout::new(&chain.stores[2]);
        let mut rng = SplitMix64::new(11);
        let (mut shoppers, mut passers) = (0, 0);
        for _ in 0..40 {
            let mut visit = plan_visit(&store, 0, 0.5, &mut rng);
            let end = visit.end_ms();
            let inside = (0..end)
                .step_by(1_000)
                .any(|t| store.is_inside(visit.position_at(t)));
            match visit.kind {
                VisitKind::Shopper => {
                    shoppers += 1;
                    assert!(inside);
                }
                VisitKind::PasserBy => {
                    passers += 1;
                    assert!(!inside);
                }
            }
        }
        assert!(shoppers > 5 && passers > 5, "{shoppers} {passers}");
    }
}
