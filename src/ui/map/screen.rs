//! Geographic → screen positions for the live layers. walkers' Mercator projection costs a
//! logarithm and a tangent per point; over a store-sized view Mercator is linear to well under
//! a tenth of a pixel, so thousands of points per frame go through a linear map fitted to the
//! view, and the exact projection is kept for wide views where it is not.

use egui::{Pos2, Rect, Vec2};
use walkers::{lat_lon, Projector};

use crate::engine::geo::{lon_near_deg, LatLonDeg};

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
    view_lon_deg: f64,
}

fn exact(projector: &Projector, p: LatLonDeg) -> Pos2 {
    projector.project(lat_lon(p.lat_deg, p.lon_deg)).to_pos2()
}

/// The longitude at the centre of `view` (past ±180° when the map was dragged across the
/// antimeridian: walkers' projection is linear in longitude).
pub fn view_lon_deg(projector: &Projector, view: Rect) -> f64 {
    projector.unproject(view.center().to_vec2()).x()
}

/// Where `p` is drawn in a view centred at `view_lon_deg`: its longitude within 180° of the
/// view's, so a place across the antimeridian from the view's centre is drawn beside it
/// (179.9° next to -179.9°), not a world away.
pub fn near_view(p: LatLonDeg, view_lon_deg: f64) -> LatLonDeg {
    LatLonDeg {
        lon_deg: lon_near_deg(p.lon_deg, view_lon_deg),
        ..p
    }
}

/// The screen position of `p` in the view centred at `view_lon_deg`, by walkers' projection.
pub fn project_near(projector: &Projector, view_lon_deg: f64, p: LatLonDeg) -> Pos2 {
    exact(projector, near_view(p, view_lon_deg))
}

impl<'a> ScreenMap<'a> {
    pub fn new(projector: &'a Projector<'a>, view: Rect) -> Self {
        Self {
            linear: fit(projector, view),
            projector,
            view_lon_deg: view_lon_deg(projector, view),
        }
    }

    pub fn projector(&self) -> &Projector<'a> {
        self.projector
    }

    pub fn is_linear(&self) -> bool {
        self.linear.is_some()
    }

    pub fn to_screen(&self, p: LatLonDeg) -> Pos2 {
        let p = near_view(p, self.view_lon_deg);
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

    /// A view on the antimeridian draws a place at -179.9999° just east of its centre and one
    /// at 179.9999° just west, by either map, not a world apart.
    #[test]
    fn places_across_the_antimeridian_are_drawn_beside_the_view_centre() {
        for zoom in [17.0, 3.0] {
            let mut memory = MapMemory::default();
            let centre = LatLonDeg {
                lat_deg: -16.8,
                lon_deg: 180.0,
            };
            let rect = projector_at(zoom, &mut memory, centre);
            let projector = Projector::new(rect, &MercatorProjection, &memory, lat_lon(0.0, 0.0));
            let map = ScreenMap::new(&projector, rect);
            let at = |lon_deg| {
                map.to_screen(LatLonDeg {
                    lat_deg: -16.8,
                    lon_deg,
                })
            };
            let (east, west, middle) = (at(-179.9999), at(179.9999), rect.center());
            assert!(
                east.x > middle.x && east.x - middle.x < 50.0,
                "{east:?} at zoom {zoom}"
            );
            assert!(
                west.x < middle.x && middle.x - west.x < 50.0,
                "{west:?} at zoom {zoom}"
            );
            let exact_east = project_near(
                &projector,
                view_lon_deg(&projector, rect),
                LatLonDeg {
                    lat_deg: -16.8,
                    lon_deg: -179.9999,
                },
            );
            assert!(
                (exact_east - east).length() < 0.5,
                "{exact_east:?} {east:?}"
            );
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
