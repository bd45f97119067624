//! Geographic → screen positions for the live layers. walkers' Mercator projection costs a
//! logarithm and a tangent per point; over a store-sized view Mercator is linear to well under
//! a tenth of a pixel, so thousands of points per frame go through a linear map fitted to the
//! view, and the exact projection is kept for wide views where it is not.

use egui::{Pos2, Rect, Vec2};
use walkers::{lat_lon, Projector};

use crate::engine::geo::LatLonDeg;

/// Worst tolerated error of the linear map at the view's edges, in pixels.
const MAX_ERROR_PX: f32 = 0.1;

#[derive(Clone, Copy, Debug)]
struct Linear {
    origin: Pos2,
    lat0: f64,
    lon0: f64,
    /// Pixels per degree east and north (y grows downwards).
    x_per_lon: f64,
    y_per_lat: f64,
}

impl Linear {
    fn at(&self, p: LatLonDeg) -> Pos2 {
        Pos2::new(
            self.origin.x + ((p.lon_deg - self.lon0) * self.x_per_lon) as f32,
            self.origin.y + ((p.lat_deg - self.lat0) * self.y_per_lat) as f32,
        )
    }
}

pub struct ScreenMap<'a> {
    projector: &'a Projector<'a>,
    linear: Option<Linear>,
}

fn exact(projector: &Projector, p: LatLonDeg) -> Pos2 {
    projector.project(lat_lon(p.lat_deg, p.lon_deg)).to_pos2()
}

impl<'a> ScreenMap<'a> {
    pub fn new(projector: &'a Projector<'a>, view: Rect) -> Self {
        Self {
            linear: fit(projector, view),
            projector,
        }
    }

    pub fn projector(&self) -> &Projector<'a> {
        self.projector
    }

    pub fn is_linear(&self) -> bool {
        self.linear.is_some()
    }

    pub fn to_screen(&self, p: LatLonDeg) -> Pos2 {
        match &self.linear {
            Some(l) => l.at(p),
            None => exact(self.projector, p),
        }
    }

    /// Screen pixels per metre at `p`.
    pub fn px_per_m(&self, p: LatLonDeg) -> f32 {
        self.projector
            .scale_pixel_per_meter(lat_lon(p.lat_deg, p.lon_deg))
    }
}

fn to_deg(p: walkers::Position) -> LatLonDeg {
    LatLonDeg {
        lat_deg: p.y(),
        lon_deg: p.x(),
    }
}

/// A linear map through the view's centre with the local derivatives, if it stays within
/// [`MAX_ERROR_PX`] of the exact projection at the view's corners.
fn fit(projector: &Projector, view: Rect) -> Option<Linear> {
    let centre = to_deg(projector.unproject(view.center().to_vec2()));
    // NaN (an unprojectable centre) fails the test too.
    if centre.lat_deg.abs().partial_cmp(&85.0) != Some(std::cmp::Ordering::Less) {
        return None;
    }
    let step = 1e-4;
    let origin = exact(projector, centre);
    let east = exact(
        projector,
        LatLonDeg {
            lon_deg: centre.lon_deg + step,
            ..centre
        },
    );
    let north = exact(
        projector,
        LatLonDeg {
            lat_deg: centre.lat_deg + step,
            ..centre
        },
    );
    let linear = Linear {
        origin,
        lat0: centre.lat_deg,
        lon0: centre.lon_deg,
        x_per_lon: f64::from(east.x - origin.x) / step,
        y_per_lat: f64::from(north.y - origin.y) / step,
    };
    for corner in [
        view.left_top(),
        view.right_top(),
        view.left_bottom(),
        view.right_bottom(),
    ] {
        let geo = to_deg(projector.unproject(corner.to_vec2()));
        let error: Vec2 = linear.at(geo) - exact(projector, geo);
        if error.length().is_nan() || error.length() > MAX_ERROR_PX {
            return None;
        }
    }
    Some(linear)
}

#[cfg(test)]
mod tests {
    use super::*;
    use walkers::{MapMemory, MercatorProjection};

    fn projector_at(zoom: f64, memory: &mut MapMemory, centre: LatLonDeg) -> Rect {
        memory.set_zoom(zoom).unwrap();
        memory.center_at(lat_lon(centre.lat_deg, centre.lon_deg));
        Rect::from_min_size(Pos2::new(100.0, 50.0), Vec2::new(900.0, 700.0))
    }

    #[test]
    fn store_views_are_linear_and_exact_to_a_tenth_of_a_pixel() {
        let centre = LatLonDeg {
            lat_deg: 51.5390,
            lon_deg: -0.1030,
        };
        let mut memory = MapMemory::default();
        let rect = projector_at(17.0, &mut memory, centre);
        let projector = Projector::new(rect, &MercatorProjection, &memory, lat_lon(0.0, 0.0));
        let map = ScreenMap::new(&projector, rect);
        assert!(map.is_linear());
        for (dlat, dlon) in [(0.0, 0.0), (0.002, 0.003), (-0.0015, -0.004)] {
            let p = LatLonDeg {
                lat_deg: centre.lat_deg + dlat,
                lon_deg: centre.lon_deg + dlon,
            };
            let error = map.to_screen(p) - exact(&projector, p);
            assert!(error.length() < 0.1, "{error:?}");
        }
    }

    #[test]
    fn continent_views_use_the_exact_projection() {
        let mut memory = MapMemory::default();
        let rect = projector_at(
            2.6,
            &mut memory,
            LatLonDeg {
                lat_deg: 45.0,
                lon_deg: -40.0,
            },
        );
        let projector = Projector::new(rect, &MercatorProjection, &memory, lat_lon(0.0, 0.0));
        assert!(!ScreenMap::new(&projector, rect).is_linear());
    }
}
