//! Names a product's place for a notification: the chain store by it, or else the site its
//! products form (derived from the products seen so far, as the console derives them).

use rustc_hash::FxHashMap;

use crate::engine::geo::LatLonDeg;
use crate::engine::record::Product;
use crate::engine::sites::{Margin, Site, Sites};
use crate::io::chain::{Chain, Store};

pub struct StoreNames {
    chain: Chain,
    /// Each chain store's footprint's extent, grown a little: a product outside them all
    /// (every product of a retailer without a chain file) is known to be in no store without
    /// tracing a footprint.
    extents: Vec<(LatLonDeg, LatLonDeg)>,
    sites: Sites,
    /// `sites` as of the last naming; rebuilt when products were added since.
    listed: Vec<Site>,
    /// The number of each of `listed`'s labels, once asked for.
    site_numbers: Vec<Option<usize>>,
    /// The number of each chain store's name, once asked for.
    store_numbers: Vec<Option<usize>>,
    stale: bool,
    /// Names given since the sites last changed, by the product's position: the same few
    /// thousand shelves are named over and over, and finding a site is a scan.
    named: FxHashMap<(u64, u64), usize>,
    /// Every name given so far, numbered (0 is the empty name): callers that keep something
    /// per place key it by number instead of hashing the text.
    names: Vec<String>,
    numbers: FxHashMap<String, usize>,
}

impl StoreNames {
    pub fn new(chain: Chain) -> StoreNames {
        StoreNames {
            extents: chain.stores.iter().map(footprint_extent).collect(),
            store_numbers: vec![None; chain.stores.len()],
            site_numbers: Vec::new(),
            chain,
            sites: Sites::default(),
            listed: Vec::new(),
            stale: false,
            named: FxHashMap::default(),
            names: vec![String::new()],
            numbers: FxHashMap::default(),
        }
    }

    /// A product record the engine took: outside every chain store, it joins a site.
    pub fn observe_product(&mut self, product: &Product) {
        let Some(p) = product.position() else { return };
        let at = LatLonDeg {
            lat_deg: p.lat.to_f64(),
            lon_deg: p.lon.to_f64(),
        };
        if !self.in_a_chain_store(at) {
            let before = self.sites.len();
            self.sites
                .add(at, product.country.as_deref().unwrap_or("?"));
            // A product announced again changes no site.
            self.stale |= self.sites.len() != before;
        }
    }

    /// Whether `at` lies inside a chain store's footprint.
    fn in_a_chain_store(&self, at: LatLonDeg) -> bool {
        let maybe = |(min, max): &(LatLonDeg, LatLonDeg)| {
            at.lat_deg >= min.lat_deg
                && at.lat_deg <= max.lat_deg
                && at.lon_deg >= min.lon_deg
                && at.lon_deg <= max.lon_deg
        };
        (self.chain.stores.iter().zip(&self.extents))
            .any(|(store, extent)| maybe(extent) && store.contains(at))
    }

    /// The place of a product at `at`: a chain store's name, a site's ("AUS 1"), or empty.
    pub fn name(&mut self, at: Option<LatLonDeg>) -> &str {
        let number = self.number(at);
        &self.names[number]
    }

    /// The number of the place of a product at `at` (see [`StoreNames::name_of`]); a product's
    /// number follows the sites as they form, like its name.
    pub fn number(&mut self, at: Option<LatLonDeg>) -> usize {
        let Some(at) = at else {
            return 0;
        };
        if self.stale {
            self.listed = self.sites.sites();
            self.site_numbers = vec![None; self.listed.len()];
            self.stale = false;
            self.named.clear();
        }
        let key = (at.lat_deg.to_bits(), at.lon_deg.to_bits());
        if let Some(&number) = self.named.get(&key) {
            return number;
        }
        let (names, numbers) = (&mut self.names, &mut self.numbers);
        let number = match self.chain.store_of_product(at) {
            // Found by address among the chain's own stores: numbered once each.
            Some(store) => {
                let index = (self.chain.stores.iter()).position(|s| std::ptr::eq(s, store));
                remembered(index.and_then(|i| self.store_numbers.get_mut(i)), || {
                    number_of(names, numbers, &store.name)
                })
            }
            None => {
                let margin = Margin::around(at, 1.0);
                match (self.listed.iter()).position(|s| s.contains_within(at, margin)) {
                    None => 0,
                    // Each site's label is made once per listing, not once per product.
                    Some(i) => remembered(self.site_numbers.get_mut(i), || {
                        number_of(names, numbers, &self.listed[i].label())
                    }),
                }
            }
        };
        self.named.insert(key, number);
        number
    }

    /// The name numbered `number`.
    pub fn name_of(&self, number: usize) -> &str {
        self.names.get(number).map_or("", String::as_str)
    }
}

/// The number `slot` remembers, or `number()` remembered there.
fn remembered(slot: Option<&mut Option<usize>>, number: impl FnOnce() -> usize) -> usize {
    match slot {
        Some(Some(known)) => *known,
        Some(slot) => *slot.insert(number()),
        None => number(),
    }
}

/// The number of `name` among the names given so far (0 for the empty name), numbering it
/// if it is new.
fn number_of(names: &mut Vec<String>, numbers: &mut FxHashMap<String, usize>, name: &str) -> usize {
    if name.is_empty() {
        return 0;
    }
    if let Some(&number) = numbers.get(name) {
        return number;
    }
    names.push(name.to_owned());
    numbers.insert(name.to_owned(), names.len() - 1);
    names.len() - 1
}

/// A footprint's extent, grown by a millionth of a degree (about 10 cm): outside it no
/// point can be inside the footprint, rounding in the footprint test included.
fn footprint_extent(store: &Store) -> (LatLonDeg, LatLonDeg) {
    const MARGIN_DEG: f64 = 1e-6;
    let mut min = LatLonDeg {
        lat_deg: f64::INFINITY,
        lon_deg: f64::INFINITY,
    };
    let mut max = LatLonDeg {
        lat_deg: f64::NEG_INFINITY,
        lon_deg: f64::NEG_INFINITY,
    };
    for p in &store.footprint {
        min.lat_deg = min.lat_deg.min(p.lat_deg);
        min.lon_deg = min.lon_deg.min(p.lon_deg);
        max.lat_deg = max.lat_deg.max(p.lat_deg);
        max.lon_deg = max.lon_deg.max(p.lon_deg);
    }
    (
        LatLonDeg {
            lat_deg: min.lat_deg - MARGIN_DEG,
            lon_deg: min.lon_deg - MARGIN_DEG,
        },
        LatLonDeg {
            lat_deg: max.lat_deg + MARGIN_DEG,
            lon_deg: max.lon_deg + MARGIN_DEG,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The extents only skip tracing: at and around every corner of every footprint (where
    /// the ray cast's rounding is), and across each store, the answer is the footprint
    /// test's.
    #[test]
    fn the_extents_never_change_which_points_are_in_a_store() {
        let chain = Chain::builtin().expect("the built-in chain");
        let names = StoreNames::new(chain.clone());
        let (mut inside, mut outside) = (0, 0);
        for store in &chain.stores {
            let (min, max) = footprint_extent(store);
            let mut points: Vec<LatLonDeg> = store.footprint.clone();
            for step in [0.0, 1e-12, 1e-9, 1e-7, 2e-6, 1e-4] {
                for p in &store.footprint {
                    for (dlat, dlon) in [(1.0, 0.0), (-1.0, 0.0), (0.0, 1.0), (0.0, -1.0)] {
                        points.push(LatLonDeg {
                            lat_deg: p.lat_deg + dlat * step,
                            lon_deg: p.lon_deg + dlon * step,
                        });
                    }
                }
            }
            for i in 0..=20 {
                for j in 0..=20 {
                    let (u, v) = (f64::from(i) / 20.0, f64::from(j) / 20.0);
                    points.push(LatLonDeg {
                        lat_deg: min.lat_deg + (max.lat_deg - min.lat_deg) * u,
                        lon_deg: min.lon_deg + (max.lon_deg - min.lon_deg) * v,
                    });
                }
            }
            for p in points {
                let in_store = chain.store_containing(p).is_some();
                assert_eq!(names.in_a_chain_store(p), in_store, "{p:?}");
                if in_store {
                    inside += 1;
                } else {
                    outside += 1;
                }
            }
        }
        // Both answers were tried many times.
        assert!(
            inside > 1000 && outside > 1000,
            "{inside} in, {outside} out"
        );
    }
}
