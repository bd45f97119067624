//! The chain drawn as vectors: parking lots, sidewalks, store footprints, aisles, checkouts and
//! entrances, with store names when zoomed out. This is the map when there are no tiles.

use egui::{Align2, FontId, Painter, Pos2, Shape, Stroke};
use walkers::{lat_lon, Projector};

use super::far_places::{FarPlace, FarPlaces};
use super::palette;
use super::screen::{project_near, view_lon_deg};
use crate::engine::geo::LatLonDeg;
use crate::io::chain::Chain;

/// The projection of one frame and the longitude of its view's centre: a store across the
/// antimeridian is drawn in one piece (see `screen::near_view`).
#[derive(Clone, Copy)]
struct View<'p, 'a> {
    projector: &'p Projector<'a>,
    lon_deg: f64,
}

fn screen(view: View, p: LatLonDeg) -> Pos2 {
    project_near(view.projector, view.lon_deg, p)
}

fn polygon(view: View, ring: &[LatLonDeg]) -> Vec<Pos2> {
    let mut points: Vec<Pos2> = ring.iter().map(|p| screen(view, *p)).collect();
    if points.len() > 1 && points.first() == points.last() {
        points.pop();
    }
    points
}

/// Metres in one screen pixel at `p`.
pub fn pixels_per_metre(projector: &Projector, p: LatLonDeg) -> f32 {
    projector.scale_pixel_per_meter(lat_lon(p.lat_deg, p.lon_deg))
}

/// Draws the chain; returns how many store footprints were drawn. Stores too small to draw
/// go into `far` as a dot to label.
pub fn draw<'a>(
    painter: &Painter,
    projector: &Projector,
    chain: &'a Chain,
    far: &mut FarPlaces<'a>,
) -> usize {
    let mut drawn = 0;
    let clip = painter.clip_rect();
    let view = View {
        projector,
        lon_deg: view_lon_deg(projector, clip),
    };
    for store in &chain.stores {
        let centre = store.center();
        let px_per_m = pixels_per_metre(projector, centre);
        let at = screen(view, centre);
        // Far away or tiny: a dot and a name is all that reads.
        if px_per_m < 0.4 {
            if clip.expand(100.0).contains(at) {
                painter.circle_filled(at, 5.0, palette::FOOTPRINT_EDGE);
                far.push(at, FarPlace::Store(store));
            }
            continue;
        }
        if !clip.expand(300.0 * px_per_m).contains(at) {
            continue;
        }
        if store.parking.len() >= 3 {
            painter.add(Shape::convex_polygon(
                polygon(view, &store.parking),
                palette::PARKING,
                Stroke::NONE,
            ));
        }
        if store.sidewalk.len() >= 2 {
            let line: Vec<Pos2> = store.sidewalk.iter().map(|p| screen(view, *p)).collect();
            painter.add(Shape::line(
                line,
                Stroke::new((3.0 * px_per_m).max(1.0), palette::STREET),
            ));
        }
        let footprint = polygon(view, &store.footprint);
        if footprint.len() >= 3 {
            drawn += 1;
            painter.add(Shape::convex_polygon(
                footprint,
                palette::FOOTPRINT_FILL,
                Stroke::new(1.5, palette::FOOTPRINT_EDGE),
            ));
        }
        for aisle in &store.aisles {
            let line: Vec<Pos2> = aisle.path.iter().map(|p| screen(view, *p)).collect();
            painter.add(Shape::line(
                line,
                Stroke::new((2.0 * px_per_m).max(1.0), palette::AISLE),
            ));
        }
        if store.checkout.len() >= 2 {
            let line: Vec<Pos2> = store.checkout.iter().map(|p| screen(view, *p)).collect();
            painter.add(Shape::line(
                line,
                Stroke::new((1.2 * px_per_m).max(1.0), palette::CHECKOUT),
            ));
        }
        // The entrance: where shoppers come in (and where the sidewalk's passers-by glance in).
        let door = screen(view, store.entrance);
        painter.circle(
            door,
            (0.8 * px_per_m).clamp(3.0, 7.0),
            palette::FOOTPRINT_EDGE,
            Stroke::new(1.5, palette::FOOTPRINT_FILL),
        );
        if px_per_m < 6.0 {
            let top = footprint_top(view, &store.footprint);
            painter.text(
                top,
                Align2::CENTER_BOTTOM,
                &store.name,
                FontId::proportional(13.0),
                palette::TEXT,
            );
        }
    }
    drawn
}

fn footprint_top(view: View, ring: &[LatLonDeg]) -> Pos2 {
    let points = polygon(view, ring);
    let x = points.iter().map(|p| p.x).sum::<f32>() / points.len().max(1) as f32;
    let y = points.iter().map(|p| p.y).fold(f32::INFINITY, f32::min);
    Pos2::new(x, y - 4.0)
}
