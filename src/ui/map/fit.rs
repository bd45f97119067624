//! Fitting a view to a set of places (the chain view): the Web Mercator centre and zoom
//! that show them all in a map of a given size, with room for their names.

use super::STORE_ZOOM;
use crate::engine::geo::LatLonDeg;

/// Web Mercator x and y of a place, each 0..1 across the world.
fn mercator_unit(p: LatLonDeg) -> (f64, f64) {
    let lat = p.lat_deg.clamp(-85.0, 85.0).to_radians();
    let x = (p.lon_deg + 180.0) / 360.0;
    let y = (1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / std::f64::consts::PI) / 2.0;
    (x, y)
}

fn from_mercator_unit(x: f64, y: f64) -> LatLonDeg {
    let n = std::f64::consts::PI * (1.0 - 2.0 * y);
    LatLonDeg {
        lat_deg: n.sinh().atan().to_degrees(),
        lon_deg: x * 360.0 - 180.0,
    }
}

/// The centre and zoom that show all `places` in a map of `size` points, with a margin for
/// the store names; None for no places.
pub fn fit_view(places: &[LatLonDeg], size: egui::Vec2) -> Option<(LatLonDeg, f64)> {
    let units: Vec<(f64, f64)> = places.iter().map(|p| mercator_unit(*p)).collect();
    let (first, rest) = units.split_first()?;
    let (mut x0, mut x1, mut y0, mut y1) = (first.0, first.0, first.1, first.1);
    for (x, y) in rest {
        (x0, x1, y0, y1) = (x0.min(*x), x1.max(*x), y0.min(*y), y1.max(*y));
    }
    // Names go right of their dots: keep 180 points free on the right, 40 elsewhere.
    let (left, right) = (40.0, 180.0);
    let usable_w = f64::from(size.x - left - right).max(100.0);
    let usable_h = f64::from(size.y - 80.0).max(100.0);
    let zoom_for = |extent: f64, usable: f64| (usable / (extent.max(1e-9) * 256.0)).log2();
    let zoom = zoom_for(x1 - x0, usable_w)
        .min(zoom_for(y1 - y0, usable_h))
        .clamp(1.0, STORE_ZOOM);
    // The places' middle sits (right − left) / 2 points left of the view's centre.
    let shift_x = f64::from(right - left) / 2.0 / (256.0 * 2f64.powf(zoom));
    Some((
        from_mercator_unit((x0 + x1) / 2.0 + shift_x, (y0 + y1) / 2.0),
        zoom,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::chain::Chain;
    use walkers::{lat_lon, MapMemory};

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
