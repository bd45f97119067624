//! The chain drawn as vectors: parking lots, sidewalks, store footprints, aisles, checkouts and
//! entrances, with store names when zoomed out. This is the map when there are no tiles.

use egui::{Align2, FontId, Painter, Pos2, Shape, Stroke};
use walkers::{lat_lon, Projector};

use super::palette;
use crate::engine::geo::LatLonDeg;
use crate::io::chain::{Chain, Store};

fn screen(projector: &Projector, p: LatLonDeg) -> Pos2 {
    projector.project(lat_lon(p.lat_deg, p.lon_deg)).to_pos2()
}

fn polygon(projector: &Projector, ring: &[LatLonDeg]) -> Vec<Pos2> {
    let mut points: Vec<Pos2> = ring.iter().map(|p| screen(projector, *p)).collect();
    if points.len() > 1 && points.first() == points.last() {
        points.pop();
    }
    points
}

/// Metres in one screen pixel at `p`.
pub fn pixels_per_metre(projector: &Projector, p: LatLonDeg) -> f32 {
    projector.scale_pixel_per_meter(lat_lon(p.lat_deg, p.lon_deg))
}

/// Stores seen from far away, whose names go on top of everything else on the map
/// ([`FarStores::draw_labels`], after the live layers' pulses).
#[derive(Debug, Default)]
pub struct FarStores<'a>(Vec<(Pos2, &'a Store)>);

/// Draws the chain; returns how many store footprints were drawn and the far-away stores to
/// label.
pub fn draw<'a>(
    painter: &Painter,
    projector: &Projector,
    chain: &'a Chain,
) -> (usize, FarStores<'a>) {
    let mut drawn = 0;
    let clip = painter.clip_rect();
    let mut far = FarStores::default();
    for store in &chain.stores {
        let centre = store.center();
        let px_per_m = pixels_per_metre(projector, centre);
        let at = screen(projector, centre);
        // Far away or tiny: a dot and a name is all that reads.
        if px_per_m < 0.4 {
            if clip.expand(100.0).contains(at) {
                painter.circle_filled(at, 5.0, palette::FOOTPRINT_EDGE);
                far.0.push((at, store));
            }
            continue;
        }
        if !clip.expand(300.0 * px_per_m).contains(at) {
            continue;
        }
        if store.parking.len() >= 3 {
            painter.add(Shape::convex_polygon(
                polygon(projector, &store.parking),
                palette::PARKING,
                Stroke::NONE,
            ));
        }
        if store.sidewalk.len() >= 2 {
            let line: Vec<Pos2> = store
                .sidewalk
                .iter()
                .map(|p| screen(projector, *p))
                .collect();
            painter.add(Shape::line(
                line,
                Stroke::new((3.0 * px_per_m).max(1.0), palette::STREET),
            ));
        }
        let footprint = polygon(projector, &store.footprint);
        if footprint.len() >= 3 {
            drawn += 1;
            painter.add(Shape::convex_polygon(
                footprint,
                palette::FOOTPRINT_FILL,
                Stroke::new(1.5, palette::FOOTPRINT_EDGE),
            ));
        }
        for aisle in &store.aisles {
            let line: Vec<Pos2> = aisle.path.iter().map(|p| screen(projector, *p)).collect();
            painter.add(Shape::line(
                line,
                Stroke::new((2.0 * px_per_m).max(1.0), palette::AISLE),
            ));
        }
        if store.checkout.len() >= 2 {
            let line: Vec<Pos2> = store
                .checkout
                .iter()
                .map(|p| screen(projector, *p))
                .collect();
            painter.add(Shape::line(
                line,
                Stroke::new((1.2 * px_per_m).max(1.0), palette::CHECKOUT),
            ));
        }
        // The entrance: where shoppers come in (and where the sidewalk's passers-by glance in).
        let door = screen(projector, store.entrance);
        painter.circle(
            door,
            (0.8 * px_per_m).clamp(3.0, 7.0),
            palette::FOOTPRINT_EDGE,
            Stroke::new(1.5, palette::FOOTPRINT_FILL),
        );
        if px_per_m < 6.0 {
            let top = footprint_top(projector, &store.footprint);
            painter.text(
                top,
                Align2::CENTER_BOTTOM,
                &store.name,
                FontId::proportional(13.0),
                palette::TEXT,
            );
        }
    }
    (drawn, far)
}

/// Stores whose dots are closer than this share one label.
const CLUSTER_PX: f32 = 28.0;

impl<'a> FarStores<'a> {
    /// The far-away store whose dot is nearest `pointer`, within `within_px`.
    pub fn at(&self, pointer: Pos2, within_px: f32) -> Option<&'a Store> {
        self.0
            .iter()
            .map(|(at, store)| (at.distance(pointer), *store))
            .filter(|(d, _)| *d <= within_px)
            .min_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, store)| store)
    }

    /// One label per cluster of nearby stores ("Loop +1"), placed right of the dots, else
    /// left, above or below, else left out, so names never print over each other.
    pub fn draw_labels(&self, painter: &Painter) {
        let mut clusters: Vec<(Pos2, &str, usize)> = Vec::new();
        for &(at, store) in &self.0 {
            let name = store.name.as_str();
            match clusters
                .iter_mut()
                .find(|(anchor, _, _)| anchor.distance(at) < CLUSTER_PX)
            {
                Some(cluster) => cluster.2 += 1,
                None => clusters.push((at, name, 0)),
            }
        }
        draw_cluster_labels(painter, clusters);
    }
}

fn draw_cluster_labels(painter: &Painter, clusters: Vec<(Pos2, &str, usize)>) {
    let font = FontId::proportional(12.0);
    let mut placed: Vec<egui::Rect> = Vec::new();
    for (at, name, others) in clusters {
        let text = if others == 0 {
            name.to_owned()
        } else {
            format!("{name} +{others}")
        };
        let galley = painter.layout_no_wrap(text, font.clone(), palette::TEXT);
        let size = galley.size();
        let at_offset = |dx: f32, dy: f32| egui::Rect::from_min_size(at + egui::vec2(dx, dy), size);
        let candidates = [
            at_offset(9.0, -size.y / 2.0),
            at_offset(-9.0 - size.x, -size.y / 2.0),
            at_offset(4.0, -size.y - 5.0),
            at_offset(4.0, 5.0),
        ];
        let free = |r: &egui::Rect| placed.iter().all(|p| !p.intersects(*r));
        if let Some(rect) = candidates.into_iter().find(free) {
            painter.galley(rect.min, galley, palette::TEXT);
            placed.push(rect);
        }
    }
}

fn footprint_top(projector: &Projector, ring: &[LatLonDeg]) -> Pos2 {
    let points = polygon(projector, ring);
    let x = points.iter().map(|p| p.x).sum::<f32>() / points.len().max(1) as f32;
    let y = points.iter().map(|p| p.y).fold(f32::INFINITY, f32::min);
    Pos2::new(x, y - 4.0)
}
