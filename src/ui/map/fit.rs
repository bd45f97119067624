//! Fitting a view to a set of places (the chain view): the Web Mercator centre and zoom
//! that show them all in a map of a given size, with room for their names.

use walkers::{lat_lon, MercatorProjection, Pixels, Projection as _};

use super::STORE_ZOOM;
use crate::engine::geo::LatLonDeg;

/// The centre and zoom that show all `places` in a map of `size` points, with a margin for
/// the store names; None for no places.
pub fn fit_view(places: &[LatLonDeg], size: egui::Vec2) -> Option<(LatLonDeg, f64)> {
    // Web Mercator at zoom 0: the world is 256 points across, doubling per zoom level.
    let world: Vec<Pixels> = places
        .iter()
        .map(|p| MercatorProjection.project(lat_lon(p.lat_deg, p.lon_deg), 0.0))
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
            lon_deg: centre.x(),
        },
        zoom,
    ))
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
}
