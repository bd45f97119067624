//! Sites derived from the data: products that lie together (each within a link distance of
//! another, ~150 m by default) form one site, per country. A retailer's stores are found from
//! their own `stores_products` records, with no chain file: a dump or a cluster from any
//! retailer opens on its data.
//!
//! Incremental and order-independent in its result: points go into a grid of link-sized
//! cells, a new point joins every site with a member within the link distance in the cells
//! around it (merging them), and a site's number is the order of its first point, so the same
//! records in the same order always give the same names.

use std::ops::RangeInclusive;

use rustc_hash::FxHashMap as HashMap;

use super::geo::{geo_distance_km_deg, lon_near_deg, wrap_lon_deg, LatLonDeg, EARTH_RADIUS_KM};
use super::spatial::floor_i64;

/// Products within this distance of another belong to one site (a large store's far ends
/// are ~100 m apart; separate stores in one town are further).
pub const SITE_LINK_M: f64 = 150.0;

/// Metres per degree of latitude (the grid's cell height).
const M_PER_DEG_LAT: f64 = 111_320.0;

/// A site as the map and the store picker show it.
#[derive(Clone, Debug, PartialEq)]
pub struct Site {
    /// 1-based per country, in the order sites were first seen.
    pub number: usize,
    pub country: String,
    /// South-west and north-east corners of its points. Longitudes are taken within 180° of
    /// the site's first point, so a site across the antimeridian has one of them past ±180°
    /// (`center` is always within).
    pub min: LatLonDeg,
    pub max: LatLonDeg,
    /// Points (products) in it.
    pub points: usize,
}

impl Site {
    /// Its centre, longitude in [-180, 180).
    pub fn center(&self) -> LatLonDeg {
        LatLonDeg {
            lat_deg: (self.min.lat_deg + self.max.lat_deg) / 2.0,
            lon_deg: wrap_lon_deg(self.mid_lon_deg()),
        }
    }

    /// The middle of its longitudes, as `min` and `max` give them (past ±180° for a site
    /// across the antimeridian).
    fn mid_lon_deg(&self) -> f64 {
        (self.min.lon_deg + self.max.lon_deg) / 2.0
    }

    /// Whether `p` lies within the site's extent grown by `margin_m` metres.
    pub fn contains(&self, p: LatLonDeg, margin_m: f64) -> bool {
        self.contains_within(p, Margin::around(p, margin_m))
    }

    /// [`Site::contains`] with the margin worked out once for a point tried against many
    /// sites.
    pub fn contains_within(&self, p: LatLonDeg, margin: Margin) -> bool {
        let Margin { dlat, dlon } = margin;
        let lon_deg = lon_near_deg(p.lon_deg, self.mid_lon_deg());
        p.lat_deg >= self.min.lat_deg - dlat
            && p.lat_deg <= self.max.lat_deg + dlat
            && lon_deg >= self.min.lon_deg - dlon
            && lon_deg <= self.max.lon_deg + dlon
    }

    /// "USA 2": the country and the site's number.
    pub fn label(&self) -> String {
        format!("{} {}", self.country, self.number)
    }
}

/// A margin in metres around a point, in degrees at its latitude.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Margin {
    dlat: f64,
    dlon: f64,
}

impl Margin {
    pub fn around(p: LatLonDeg, margin_m: f64) -> Margin {
        let dlat = margin_m / M_PER_DEG_LAT;
        Margin {
            dlat,
            dlon: dlat / p.lat_deg.to_radians().cos().max(0.01),
        }
    }
}

/// The root of `i`'s set in a union-find over `parent`, halving the path on the way.
fn root(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

/// The sites of the points added so far.
#[derive(Clone, Debug)]
pub struct Sites {
    link_m: f64,
    points: Vec<LatLonDeg>,
    country_of: Vec<usize>,
    countries: Vec<String>,
    /// Union-find over points; a root's site is the set.
    parent: Vec<usize>,
    cells: HashMap<(usize, i64, i64), Cell>,
}

/// The grid cells a search around a point looks at.
struct CellsAround {
    rows: RangeInclusive<i64>,
    cols: RangeInclusive<i64>,
    /// The columns past the antimeridian, when the search reaches it.
    other_side: Option<RangeInclusive<i64>>,
}

/// The points in one grid cell of one country.
#[derive(Clone, Debug, Default)]
struct Cell {
    members: Vec<usize>,
    /// All members are known to be of one site. Sites only ever merge, so once true this
    /// stays true; a new point of another site clears it. Products arrive store by store, so
    /// most cells are one site, and a point joining it is decided by one member instead of
    /// by every member of the nine cells around it.
    one_site: bool,
}

impl Default for Sites {
    fn default() -> Self {
        Sites::new(SITE_LINK_M)
    }
}

impl Sites {
    pub fn new(link_m: f64) -> Sites {
        Sites {
            link_m,
            points: Vec::new(),
            country_of: Vec::new(),
            countries: Vec::new(),
            parent: Vec::new(),
            cells: HashMap::default(),
        }
    }

    /// Points added so far.
    pub fn len(&self) -> usize {
        self.points.len()
    }

    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    fn cell_of(&self, p: LatLonDeg) -> (i64, i64) {
        let cell_deg = self.link_m / M_PER_DEG_LAT;
        // Cells are as wide in degrees of longitude as they are tall: away from the equator
        // they are narrower than the link in metres, so a search spans more of them.
        (
            floor_i64(p.lat_deg / cell_deg),
            floor_i64(p.lon_deg / cell_deg),
        )
    }

    /// The rows and columns of the cells that can hold a point within the link of `p`.
    /// The link is measured by the distance formula, whose radius makes a degree of latitude
    /// a little shorter than the grid's, and in longitude at the furthest latitude it
    /// reaches (a degree of longitude is shortest there); with room for rounding.
    /// Across the antimeridian the columns go on from the other side: a second range of
    /// columns, around the point's longitude a turn away, when the search passes ±180°.
    fn cells_around(&self, p: LatLonDeg) -> CellsAround {
        let cell_deg = self.link_m / M_PER_DEG_LAT;
        let m_per_deg = EARTH_RADIUS_KM * 1000.0 * std::f64::consts::PI / 180.0;
        let dlat = self.link_m * 1.001 / m_per_deg;
        let far_lat = (p.lat_deg.abs() + dlat).min(90.0);
        // Within half a degree of a pole a degree of longitude is a few hundred metres or
        // less: the search stops widening there (a site at the pole may split in two).
        let dlon = dlat / far_lat.to_radians().cos().max(0.01);
        let cell = |deg: f64| floor_i64(deg / cell_deg);
        let cols = |lon: f64| cell(lon - dlon)..=cell(lon + dlon);
        let other_side = if p.lon_deg + dlon > 180.0 {
            Some(cols(p.lon_deg - 360.0))
        } else if p.lon_deg - dlon < -180.0 {
            Some(cols(p.lon_deg + 360.0))
        } else {
            None
        };
        CellsAround {
            rows: cell(p.lat_deg - dlat)..=cell(p.lat_deg + dlat),
            cols: cols(p.lon_deg),
            other_side,
        }
    }

    fn root(&mut self, i: usize) -> usize {
        root(&mut self.parent, i)
    }

    /// Adds a point of `country`; it joins (and merges) every site with a point within the
    /// link distance. A point already there (a product announced again) changes nothing.
    pub fn add(&mut self, p: LatLonDeg, country: &str) {
        if !p.lat_deg.is_finite() || !p.lon_deg.is_finite() {
            return;
        }
        let country_index = match self.countries.iter().position(|c| c == country) {
            Some(i) => i,
            None => {
                self.countries.push(country.to_owned());
                self.countries.len() - 1
            }
        };
        let (row, col) = self.cell_of(p);
        // A point already there is in its own cell.
        if let Some(own) = self.cells.get(&(country_index, row, col)) {
            if own.members.iter().any(|&j| self.points[j] == p) {
                return;
            }
        }
        let i = self.points.len();
        self.points.push(p);
        self.country_of.push(country_index);
        self.parent.push(i);
        let around = self.cells_around(p);
        let Sites {
            points,
            parent,
            cells,
            link_m,
            ..
        } = self;
        // The new point's root, kept as it merges (no walk from the point each time).
        let mut a = i;
        let cols = around
            .cols
            .clone()
            .chain(around.other_side.into_iter().flatten());
        for r in around.rows {
            for c in cols.clone() {
                let Some(cell) = cells.get(&(country_index, r, c)) else {
                    continue;
                };
                for &j in &cell.members {
                    let b = root(parent, j);
                    if a == b {
                        // Already the new point's site: in a cell of one site, so is the
                        // rest of it.
                        if cell.one_site {
                            break;
                        }
                        continue;
                    }
                    let q = points[j];
                    let m =
                        geo_distance_km_deg(p.lat_deg, p.lon_deg, q.lat_deg, q.lon_deg) * 1000.0;
                    if m <= *link_m {
                        // The older root stays: a site keeps the number of its first point.
                        let (keep, go) = if a < b { (a, b) } else { (b, a) };
                        parent[go] = keep;
                        a = keep;
                        if cell.one_site {
                            break;
                        }
                    }
                }
            }
        }
        let cell = cells.entry((country_index, row, col)).or_default();
        cell.one_site = match cell.members.first() {
            None => true,
            Some(&first) => cell.one_site && root(parent, first) == a,
        };
        cell.members.push(i);
    }

    /// Every site, in the order of its first point.
    pub fn sites(&mut self) -> Vec<Site> {
        let mut by_root: Vec<(usize, Site)> = Vec::new();
        let mut index_of_root: HashMap<usize, usize> = HashMap::default();
        for i in 0..self.points.len() {
            let r = self.root(i);
            let mut p = self.points[i];
            match index_of_root.get(&r) {
                Some(&k) => {
                    let s = &mut by_root[k].1;
                    // Roots are first points, so the site's first point set `min` first.
                    p.lon_deg = lon_near_deg(p.lon_deg, self.points[r].lon_deg);
                    s.points += 1;
                    s.min.lat_deg = s.min.lat_deg.min(p.lat_deg);
                    s.min.lon_deg = s.min.lon_deg.min(p.lon_deg);
                    s.max.lat_deg = s.max.lat_deg.max(p.lat_deg);
                    s.max.lon_deg = s.max.lon_deg.max(p.lon_deg);
                }
                None => {
                    index_of_root.insert(r, by_root.len());
                    by_root.push((
                        r,
                        Site {
                            number: 0,
                            country: self.countries[self.country_of[r]].clone(),
                            min: p,
                            max: p,
                            points: 1,
                        },
                    ));
                }
            }
        }
        // Roots are each set's first point, so this is first-seen order.
        by_root.sort_by_key(|(r, _)| *r);
        let mut numbers: HashMap<String, usize> = HashMap::default();
        by_root
            .into_iter()
            .map(|(_, mut site)| {
                let n = numbers.entry(site.country.clone()).or_insert(0);
                *n += 1;
                site.number = *n;
                site
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(lat_deg: f64, lon_deg: f64) -> LatLonDeg {
        LatLonDeg { lat_deg, lon_deg }
    }

    /// `m` metres north of `p`.
    fn north(p: LatLonDeg, m: f64) -> LatLonDeg {
        at(p.lat_deg + m / M_PER_DEG_LAT, p.lon_deg)
    }

    /// `m` metres north of `p` as the distance formula measures them.
    fn north_by_formula(p: LatLonDeg, m: f64) -> LatLonDeg {
        at(
            p.lat_deg + m / (EARTH_RADIUS_KM * 1000.0).to_radians(),
            p.lon_deg,
        )
    }

    /// A neighbour just inside the link is found wherever the two fall in the grid: at the
    /// top of a row (its neighbour a little over a cell north), and east across columns at
    /// the equator and far north.
    #[test]
    fn a_neighbour_just_inside_the_link_joins_across_any_cell_edge() {
        let cell_deg = SITE_LINK_M / M_PER_DEG_LAT;
        let top_of_row = at(cell_deg * 30_001.0 - 1e-9, 10.0);
        let north = north_by_formula(top_of_row, 149.9);
        let apart = geo_distance_km_deg(top_of_row.lat_deg, 10.0, north.lat_deg, 10.0) * 1000.0;
        assert!(
            apart < SITE_LINK_M && north.lat_deg > top_of_row.lat_deg + cell_deg,
            "{apart}"
        );
        let mut sites = Sites::default();
        sites.add(top_of_row, "X");
        sites.add(north, "X");
        assert_eq!(sites.sites().len(), 1, "north across a row edge");
        for lat in [0.0, 60.0, 80.0] {
            let west = at(lat, cell_deg * 7_000.0 + 1e-9);
            let m = geo_distance_km_deg(lat, 0.0, lat, 1.0) * 1000.0;
            let east = at(lat, west.lon_deg + 149.9 / m);
            let found = geo_distance_km_deg(lat, west.lon_deg, lat, east.lon_deg) * 1000.0;
            assert!(found < SITE_LINK_M, "{found}");
            let mut sites = Sites::default();
            sites.add(east, "X");
            sites.add(west, "X");
            assert_eq!(sites.sites().len(), 1, "east at {lat}");
        }
    }

    #[test]
    fn products_within_the_link_are_one_site_and_further_ones_another() {
        let mut sites = Sites::default();
        let a = at(51.5, -0.12);
        sites.add(a, "UK");
        sites.add(north(a, 100.0), "UK");
        sites.add(north(a, 200.0), "UK"); // 100 m from the second: same site, a chain
        sites.add(north(a, 200.0), "UK"); // announced again: still one product
        sites.add(north(a, 2_000.0), "UK");
        let found = sites.sites();
        assert_eq!(found.len(), 2);
        assert_eq!((found[0].label(), found[0].points), ("UK 1".into(), 3));
        assert_eq!((found[1].label(), found[1].points), ("UK 2".into(), 1));
        assert!(found[0].contains(north(a, 150.0), 0.0));
        assert!(!found[0].contains(north(a, 400.0), 50.0));
    }

    #[test]
    fn the_link_distance_is_inclusive_and_countries_never_mix() {
        let mut sites = Sites::new(150.0);
        let a = at(40.0, -74.0);
        sites.add(a, "USA");
        sites.add(north(a, 149.0), "USA");
        sites.add(north(a, 149.0 + 151.0), "USA");
        sites.add(north(a, 10.0), "CAN");
        let found = sites.sites();
        let labels: Vec<String> = found.iter().map(Site::label).collect();
        assert_eq!(labels, ["USA 1", "USA 2", "CAN 1"]);
    }

    #[test]
    fn a_point_between_two_sites_merges_them_under_the_first_number() {
        let mut sites = Sites::default();
        let a = at(-33.87, 151.2);
        sites.add(a, "AUS");
        sites.add(north(a, 280.0), "AUS");
        assert_eq!(sites.sites().len(), 2);
        sites.add(north(a, 140.0), "AUS");
        let found = sites.sites();
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].number, found[0].points), (1, 3));
    }

    #[test]
    fn far_north_cells_are_narrow_but_neighbours_are_still_found() {
        let mut sites = Sites::default();
        let a = at(78.22, 15.65); // Longyearbyen
        sites.add(a, "NOR");
        // 140 m east: several grid cells of longitude away at 78°N.
        let east = at(
            a.lat_deg,
            a.lon_deg + 140.0 / (M_PER_DEG_LAT * 78.22f64.to_radians().cos()),
        );
        sites.add(east, "NOR");
        assert_eq!(sites.sites().len(), 1);
    }

    /// A store on the antimeridian is one site whose centre lies in it and which contains
    /// its products on both sides.
    #[test]
    fn a_site_across_the_antimeridian_is_one_site() {
        let mut sites = Sites::default();
        let (west, east) = (at(-16.8, 179.9995), at(-16.8, -179.9995));
        sites.add(west, "FJI");
        sites.add(east, "FJI");
        sites.add(north(east, 50.0), "FJI");
        let found = sites.sites();
        assert_eq!(found.len(), 1, "{found:?}");
        let site = &found[0];
        assert_eq!(site.points, 3);
        let c = site.center();
        assert!(
            c.lon_deg.abs() > 179.999 && (-180.0..180.0).contains(&c.lon_deg),
            "{c:?}"
        );
        for p in [west, east, c] {
            assert!(site.contains(p, 0.0), "{p:?}");
        }
        assert!(!site.contains(at(-16.8, 0.0), 100.0));
        assert!(!site.contains(at(-16.8, 179.99), 100.0));
    }

    proptest! {
        /// Against a brute-force grouping: two points share a site exactly when a chain of
        /// points, each within the link of the next, joins them; and the result does not
        /// depend on the order points came in (as sets).
        #[test]
        fn same_sites_as_brute_force_in_any_order(
            offsets in proptest::collection::vec((0.0f64..800.0, 0.0f64..800.0), 1..40),
            seed in any::<u64>(),
            // Anywhere, and across the antimeridian (where the 800 m go past 180°).
            origin in prop_oneof![Just(at(45.0, 7.0)), Just(at(45.0, 179.995)), Just(at(-18.1, 179.997))],
        ) {
            let points: Vec<LatLonDeg> = offsets
                .iter()
                .map(|(n, e)| at(
                    origin.lat_deg + n / M_PER_DEG_LAT,
                    wrap_lon_deg(
                        origin.lon_deg + e / (M_PER_DEG_LAT * origin.lat_deg.to_radians().cos()),
                    ),
                ))
                .collect();
            let n = points.len();
            let mut group: Vec<usize> = (0..n).collect();
            loop {
                let mut changed = false;
                for i in 0..n {
                    for j in 0..n {
                        let d = geo_distance_km_deg(points[i].lat_deg, points[i].lon_deg,
                            points[j].lat_deg, points[j].lon_deg) * 1000.0;
                        if d <= SITE_LINK_M && group[i] != group[j] {
                            let g = group[i].min(group[j]);
                            group[i] = g;
                            group[j] = g;
                            changed = true;
                        }
                    }
                }
                if !changed { break; }
            }
            let mut expected: Vec<usize> = group.clone();
            expected.sort_unstable();
            expected.dedup();
            let mut order: Vec<usize> = (0..n).collect();
            let mut s = seed;
            for i in (1..n).rev() {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                order.swap(i, (s >> 33) as usize % (i + 1));
            }
            let mut sites = Sites::default();
            for &i in &order {
                sites.add(points[i], "ITA");
            }
            let found = sites.sites();
            prop_assert_eq!(found.len(), expected.len());
            prop_assert_eq!(found.iter().map(|s| s.points).sum::<usize>(), n);
        }
    }
}
