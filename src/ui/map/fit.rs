//! Fitting a view to a set of places (the chain view): the Web Mercator centre and zoom
//! that show them all in a map of a given size, with room for their names.

use walkers::{lat_lon, MercatorProjection, Pixels, Projection as _};

use super::STORE_ZOOM;
use crate::engine::geo::{wrap_lon_deg, LatLonDeg};

/// The centre and zoom that show all `places` in a map of `size` points, with a margin for
/// the store names; None for no places.
pub fn fit_view(places: &[LatLonDeg], size: egui::Vec2) -> Option<(LatLonDeg, f64)> {
    // Longitudes go east from the edge of the narrowest span that holds them all: places
    // either side of the antimeridian (a store across it, a chain round the Pacific) are
    // fitted as neighbours, not across the whole world.
    let west = west_edge_deg(places.iter().map(|p| p.lon_deg))?;
    // Web Mercator at zoom 0: the world is 256 points across, doubling per zoom level.
    let world: Vec<Pixels> = places
        .iter()
        .map(|p| lat_lon(p.lat_deg, west + (p.lon_deg - west).rem_euclid(360.0)))
        .map(|p| MercatorProjection.project(p, 0.0))
        .collect();
    let (first, rest) = world.split_first()?;
    let (mut x0, mut x1, mut y0, mut y1) = (first.x(), first.x(), first.y(), first.y());
    for p in rest {
        (x0, x1) = (x0.min(p.x()), x1.max(p.x()));
        (y0, y1) = (y0.min(p.y()), y1.max(p.y()));
    }
    // Names go right of their dots: keep 180 points free on the right, 40 elsewhere.
    let (left, right) = (40.0, 180.0);
    let usable_w = f64::from(size.x - left - right).max(100.0);
    let usable_h = f64::from(size.y - 80.0).max(100.0);
    let zoom_for = |extent: f64, usable: f64| (usable / extent.max(1e-9)).log2();
    let zoom = zoom_for(x1 - x0, usable_w)
        .min(zoom_for(y1 - y0, usable_h))
        .clamp(1.0, STORE_ZOOM);
    // The places' middle sits (right − left) / 2 points left of the view's centre.
    let shift_x = f64::from(right - left) / 2.0 / 2f64.powf(zoom);
    let centre =
        MercatorProjection.unproject(Pixels::new((x0 + x1) / 2.0 + shift_x, (y0 + y1) / 2.0), 0.0);
    Some((
        LatLonDeg {
            lat_deg: centre.y(),
            lon_deg: wrap_lon_deg(centre.x()),
        },
        zoom,
    ))
}

/// The west edge of the narrowest span of longitudes holding all of `lons`: the one just east
/// of the widest gap between them, going round the Earth. None for no longitudes.
fn west_edge_deg(lons: impl Iterator<Item = f64>) -> Option<f64> {
    let mut sorted: Vec<f64> = lons.map(wrap_lon_deg).collect();
    sorted.sort_by(f64::total_cmp);
    let (first, last) = (*sorted.first()?, *sorted.last()?);
    let mut widest = (first + 360.0 - last, first);
    for pair in sorted.windows(2) {
        if let [west, east] = pair {
            if east - west > widest.0 {
                widest = (east - west, *east);
            }
        }
    }
    Some(widest.1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::chain::Chain;
    use walkers::MapMemory;

    #[test]
    fn the_chain_view_fits_every_store_with_room_for_names() {
        let chain = Chain::builtin().expect("chain");
        let stores: Vec<LatLonDeg> = chain.stores.iter().map(|s| s.center()).collect();
        let size = egui::vec2(680.0, 820.0);
        let (centre, zoom) = fit_view(&stores, size).expect("stores");
        let mut memory = MapMemory::default();
        memory.center_at(lat_lon(centre.lat_deg, centre.lon_deg));
        let _ = memory.set_zoom(zoom);
        let rect = egui::Rect::from_min_size(egui::pos2(400.0, 40.0), size);
        let projector = walkers::Projector::new(
            rect,
            &walkers::MercatorProjection,
            &memory,
            lat_lon(0.0, 0.0),
        );
        let screen: Vec<egui::Pos2> = stores
            .iter()
            .map(|p| projector.project(lat_lon(p.lat_deg, p.lon_deg)).to_pos2())
            .collect();
        let min_x = screen.iter().map(|p| p.x).fold(f32::MAX, f32::min);
        let max_x = screen.iter().map(|p| p.x).fold(f32::MIN, f32::max);
        // Wide chain (Chicago to London): the width binds, 40 points left, 180 right.
        assert!((min_x - (rect.left() + 40.0)).abs() < 1.0, "left {min_x}");
        assert!(
            (max_x - (rect.right() - 180.0)).abs() < 1.0,
            "right {max_x}"
        );
        for p in &screen {
            assert!(rect.shrink(39.0).y_range().contains(p.y), "{p:?}");
        }
        assert!(fit_view(&[], size).is_none());
    }

    /// Places either side of the antimeridian are fitted as neighbours: a store across it
    /// at a store's zoom, a chain round the Pacific across the Pacific.
    #[test]
    fn places_across_the_antimeridian_are_fitted_as_neighbours() {
        let at = |lat_deg, lon_deg| LatLonDeg { lat_deg, lon_deg };
        let size = egui::vec2(680.0, 820.0);
        let store = [at(-16.8, 179.9997), at(-16.8, -179.9997)];
        let (centre, zoom) = fit_view(&store, size).expect("places");
        assert!(
            centre.lon_deg.abs() > 179.99 && zoom >= STORE_ZOOM - 1.0,
            "{centre:?} {zoom}"
        );
        assert!((-180.0..180.0).contains(&centre.lon_deg));
        let pacific = [at(35.68, 139.69), at(21.31, -157.86), at(37.77, -122.42)];
        let (centre, _) = fit_view(&pacific, size).expect("places");
        assert!(
            centre.lon_deg > 139.0 || centre.lon_deg < -122.0,
            "{centre:?}"
        );
        assert_eq!(west_edge_deg([-87.6, -0.1, -74.0].into_iter()), Some(-87.6));
        assert_eq!(west_edge_deg([170.0, -170.0].into_iter()), Some(170.0));
        assert_eq!(west_edge_deg(std::iter::empty()), None);
    }
}
