//! Names a product's place for a notification: the chain store by it, or else the site its
//! products form (derived from the products seen so far, as the console derives them).

use rustc_hash::FxHashMap;

use crate::engine::geo::LatLonDeg;
use crate::engine::record::Product;
use crate::engine::sites::{Margin, Site, Sites};
use crate::io::chain::Chain;

pub struct StoreNames {
    chain: Chain,
    sites: Sites,
    /// `sites` as of the last naming; rebuilt when products were added since.
    listed: Vec<Site>,
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
        if self.chain.store_containing(at).is_none() {
            let before = self.sites.len();
            self.sites
                .add(at, product.country.as_deref().unwrap_or("?"));
            // A product announced again changes no site.
            self.stale |= self.sites.len() != before;
        }
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
            self.stale = false;
            self.named.clear();
        }
        let key = (at.lat_deg.to_bits(), at.lon_deg.to_bits());
        if let Some(&number) = self.named.get(&key) {
            return number;
        }
        let name = match self.chain.store_of_product(at) {
            Some(store) => store.name.clone(),
            None => {
                let margin = Margin::around(at, 1.0);
                (self.listed.iter())
                    .find(|s| s.contains_within(at, margin))
                    .map(Site::label)
                    .unwrap_or_default()
            }
        };
        let number = match self.numbers.get(&name) {
            Some(&n) => n,
            None if name.is_empty() => 0,
            None => {
                self.names.push(name.clone());
                self.numbers.insert(name, self.names.len() - 1);
                self.names.len() - 1
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
