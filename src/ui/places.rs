//! The places the console can show: the chain's stores, and sites derived from the data for
//! products no chain store holds (any retailer's dump or cluster). Sites grow as products
//! arrive; a replay knows them when its dump is loaded.

use crate::engine::geo::LatLonDeg;
use crate::engine::record::{decode_payload, InputValue, ValueLayouts};
use crate::engine::shared_text::SharedTexts;
use crate::engine::sites::{Site, Sites};
use crate::engine::{DecimalPolicy, Topic};
use crate::io::chain::Chain;
use crate::io::replay::LoadedDump;

use super::model::LiveModel;

/// A derived site closer than this to a chain store is named after the store.
const NEAR_STORE_M: f64 = 100.0;

/// A derived site as the store picker lists it.
#[derive(Clone, Debug, PartialEq)]
pub struct SitePlace {
    pub site: Site,
    /// "USA 2", or "near Northwind Market Loop" when it lies by a chain store.
    pub name: String,
}

/// A product's place.
#[derive(Clone, Copy, Debug)]
pub enum Place<'a> {
    Store(&'a crate::io::chain::Store),
    Site(&'a SitePlace),
}

impl Place<'_> {
    /// The name a shopper reads ("Northwind Market Loop", "AUS 1").
    pub fn name(&self) -> &str {
        match self {
            Place::Store(store) => &store.name,
            Place::Site(site) => &site.name,
        }
    }

    /// The feed filter's key: a store's id, a site's name.
    pub fn key(&self) -> &str {
        match self {
            Place::Store(store) => &store.id,
            Place::Site(site) => &site.name,
        }
    }
}

/// The derived sites and how far the model's products have been read into them.
#[derive(Debug, Default)]
pub struct Places {
    sites: Sites,
    /// Products of the model read so far (the model appends new products).
    read: usize,
    list: Vec<SitePlace>,
    /// Points in `sites` that came from a loaded dump rather than the model.
    from_dump: bool,
    /// Whether the list changed since [`Places::take_changed`].
    changed: bool,
    /// Products read that a chain store holds.
    in_chain: usize,
}

impl Places {
    pub fn sites(&self) -> &[SitePlace] {
        &self.list
    }

    /// Products read that a chain store holds.
    pub fn in_chain(&self) -> usize {
        self.in_chain
    }

    /// Forgets every site (another source starts).
    pub fn clear(&mut self) {
        *self = Places::default();
    }

    /// Whether the sites changed since the last call.
    pub fn take_changed(&mut self) -> bool {
        std::mem::take(&mut self.changed)
    }

    /// Adds the model's new products that no chain store holds.
    pub fn update(&mut self, model: &LiveModel, chain: &Chain) {
        if model.products.len() < self.read {
            // The model started over (a new source, or a seek): so do the sites, unless
            // they came from the dump on the timeline, which still holds.
            if !self.from_dump {
                self.clear();
            }
            self.read = 0;
        }
        if self.from_dump {
            self.read = model.products.len();
            return;
        }
        let fresh = &model.products[self.read..];
        self.read = model.products.len();
        let mut added = false;
        for p in fresh {
            if chain.store_containing(p.position).is_some() {
                self.in_chain += 1;
            } else {
                let country = p.product.country.as_deref().unwrap_or("?");
                self.sites.add(p.position, country);
                added = true;
            }
        }
        if added {
            self.relist(chain);
        }
    }

    /// Takes the sites of a dump's `stores_products` records at once (a replay; a loaded
    /// dump keeps every product parsed).
    pub fn load_dump(&mut self, dump: &LoadedDump, chain: &Chain) {
        self.clear();
        let mut texts = SharedTexts::new();
        let mut layouts = ValueLayouts::default();
        for record in dump.records.kept() {
            if &*record.topic != Topic::StoresProducts.name() {
                continue;
            }
            let Some(payload) = record.payload.as_ref() else {
                continue;
            };
            let Ok(InputValue::Product(product)) = decode_payload(
                Topic::StoresProducts,
                payload,
                DecimalPolicy::Round,
                &mut texts,
                &mut layouts,
            ) else {
                continue;
            };
            let Some(position) = product.position() else {
                continue;
            };
            let at = LatLonDeg {
                lat_deg: position.lat.to_f64(),
                lon_deg: position.lon.to_f64(),
            };
            if chain.store_containing(at).is_some() {
                self.in_chain += 1;
            } else {
                self.sites
                    .add(at, product.country.as_deref().unwrap_or("?"));
            }
        }
        self.from_dump = true;
        self.relist(chain);
    }

    fn relist(&mut self, chain: &Chain) {
        self.list = self
            .sites
            .sites()
            .into_iter()
            .map(|site| {
                let name = chain
                    .stores
                    .iter()
                    .find(|s| site.contains(s.center(), NEAR_STORE_M))
                    .map_or_else(|| site.label(), |s| format!("near {}", s.name));
                SitePlace { site, name }
            })
            .collect();
        self.changed = true;
    }

    /// The place of a product at `at`: the chain store it belongs to, else the site found in
    /// the data that holds it.
    pub fn place_of<'a>(&'a self, chain: &'a Chain, at: LatLonDeg) -> Option<Place<'a>> {
        chain.store_of_product(at).map(Place::Store).or_else(|| {
            self.list
                .iter()
                .find(|place| place.site.contains(at, 1.0))
                .map(Place::Site)
        })
    }

    /// Corners of every place, chain stores and sites, for "All sites".
    pub fn all_corners(&self, chain: &Chain) -> Vec<LatLonDeg> {
        let mut corners: Vec<LatLonDeg> = chain.stores.iter().map(|s| s.center()).collect();
        for place in &self.list {
            corners.push(place.site.min);
            corners.push(place.site.max);
        }
        corners
    }

    /// Corners of the derived sites only: where the data is when it is not in the chain.
    pub fn site_corners(&self) -> Vec<LatLonDeg> {
        self.list
            .iter()
            .flat_map(|p| [p.site.min, p.site.max])
            .collect()
    }
}
