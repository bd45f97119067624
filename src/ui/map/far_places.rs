//! Places seen from far away: chain stores and sites found in the data, each a dot with a
//! name. Their names go on top of everything else on the map (drawn after the live layers'
//! pulses), and a click on a dot zooms to the place.

use egui::{FontId, Painter, Pos2};
use walkers::Projector;

use super::palette;
use super::screen::{project_near, view_lon_deg};
use crate::io::chain::Store;
use crate::ui::places::SitePlace;

/// A place drawn as a dot.
#[derive(Clone, Copy, Debug)]
pub enum FarPlace<'a> {
    Store(&'a Store),
    /// A derived site and its index among the sites.
    Site(usize, &'a SitePlace),
}

impl FarPlace<'_> {
    pub fn name(&self) -> &str {
        match self {
            FarPlace::Store(store) => &store.name,
            FarPlace::Site(_, site) => &site.name,
        }
    }
}

/// The far-away places of one frame, in drawing order.
#[derive(Debug, Default)]
pub struct FarPlaces<'a>(Vec<(Pos2, FarPlace<'a>)>);

/// A site is a dot while its extent is smaller than this on screen.
const SITE_DOT_BELOW_PX: f32 = 40.0;

/// Draws the derived sites that are small on screen as dots and adds them to `far`; bigger
/// ones are drawn by their products' pins and rings.
pub fn draw_sites<'a>(
    painter: &Painter,
    projector: &Projector,
    sites: &'a [SitePlace],
    far: &mut FarPlaces<'a>,
) {
    let clip = painter.clip_rect().expand(100.0);
    let view_lon = view_lon_deg(projector, painter.clip_rect());
    for (i, place) in sites.iter().enumerate() {
        let project = |p| project_near(projector, view_lon, p);
        let (min, max) = (project(place.site.min), project(place.site.max));
        let at = project(place.site.center());
        if !clip.contains(at) || min.distance(max) >= SITE_DOT_BELOW_PX {
            continue;
        }
        painter.circle_filled(at, 5.0, palette::SITE);
        painter.circle_stroke(at, 5.0, egui::Stroke::new(1.0, palette::FOOTPRINT_EDGE));
        far.push(at, FarPlace::Site(i, place));
    }
}

/// Places whose dots are closer than this share one label.
const CLUSTER_PX: f32 = 28.0;

impl<'a> FarPlaces<'a> {
    pub fn push(&mut self, at: Pos2, place: FarPlace<'a>) {
        self.0.push((at, place));
    }

    /// The far-away place whose dot is nearest `pointer`, within `within_px`.
    pub fn at(&self, pointer: Pos2, within_px: f32) -> Option<FarPlace<'a>> {
        self.0
            .iter()
            .map(|(at, place)| (at.distance(pointer), *place))
            .filter(|(d, _)| *d <= within_px)
            .min_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, place)| place)
    }

    /// One label per cluster of nearby places ("Loop +1"), placed right of the dots, else
    /// left, above or below, else left out, so names never print over each other.
    pub fn draw_labels(&self, painter: &Painter) {
        let mut clusters: Vec<(Pos2, &str, usize)> = Vec::new();
        for (at, place) in &self.0 {
            let (at, name) = (*at, place.name());
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
