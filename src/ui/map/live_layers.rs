//! What moves on the map: product pins with their geofence rings (to scale, from the live
//! radius), shoppers with trails, and matches as a line to the product plus a pulse.

use egui::{Color32, Painter, Pos2, Shape, Stroke};
use walkers::{lat_lon, Projector};

use super::palette;
use crate::engine::geo::LatLonDeg;
use crate::io::chain::Chain;
use crate::ui::model::LiveModel;
use crate::ui::settings::Layers;

/// Feet to metres.
pub const M_PER_FT: f64 = 0.3048;
/// How long a match line and pulse stay on screen (event time).
pub const MATCH_SHOW_MS: i64 = 4_000;
/// A shopper counts as "matched" (red) this long after a match.
const MATCHED_FOR_MS: i64 = 30_000;

pub fn screen(projector: &Projector, p: LatLonDeg) -> Pos2 {
    projector.project(lat_lon(p.lat_deg, p.lon_deg)).to_pos2()
}

/// What the layers need besides the model.
pub struct LayerContext<'a> {
    pub model: &'a LiveModel,
    pub chain: &'a Chain,
    pub layers: Layers,
    /// Event time the map shows.
    pub display_ms: i64,
    pub selected_uid: Option<&'a str>,
    pub selected_sku: Option<i64>,
}

/// What one frame drew (UI tests and the frame benchmark read it).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DrawStats {
    pub footprints: usize,
    pub rings: usize,
    pub active_rings: usize,
    pub pins: usize,
    pub customers: usize,
    pub trails: usize,
    pub match_lines: usize,
}

pub fn draw_products(
    painter: &Painter,
    projector: &Projector,
    cx: &LayerContext<'_>,
    stats: &mut DrawStats,
) {
    let clip = painter.clip_rect();
    let radius_m = cx.model.radius_ft() * M_PER_FT;
    let now = cx.model.latest_event_ms.unwrap_or(cx.display_ms);
    // Culling margin and pin visibility from the view centre's scale.
    let centre = projector.unproject(clip.center().to_vec2());
    let view_px_per_m = projector.scale_pixel_per_meter(centre);
    let margin = (radius_m as f32 * view_px_per_m * 1.5).max(8.0);
    let pins = view_px_per_m > 0.6;
    let mut active_fill = Vec::new();
    let mut strokes = Vec::new();
    let mut dots = Vec::new();
    for p in &cx.model.products {
        let at = screen(projector, p.position);
        if !clip.expand(margin).contains(at) {
            continue;
        }
        // Each ring at its own latitude's scale: true metres on a Mercator map.
        let ring_px = radius_m as f32
            * projector.scale_pixel_per_meter(lat_lon(p.position.lat_deg, p.position.lon_deg));
        let colour = palette::segment_colour(&cx.chain.segments, p.product.segment.as_deref());
        let active = cx.model.ring_active(p.sku, now);
        if cx.layers.rings && ring_px >= 3.0 {
            stats.rings += 1;
            if active {
                stats.active_rings += 1;
                active_fill.push(Shape::circle_filled(
                    at,
                    ring_px,
                    colour.gamma_multiply(0.04),
                ));
                strokes.push(Shape::circle_stroke(
                    at,
                    ring_px,
                    Stroke::new(1.4, colour.gamma_multiply(0.7)),
                ));
            } else {
                strokes.push(Shape::circle_stroke(
                    at,
                    ring_px,
                    Stroke::new(0.8, colour.gamma_multiply(0.18)),
                ));
            }
        }
        if cx.layers.products && pins {
            stats.pins += 1;
            let r = if cx.selected_sku == Some(p.sku) {
                6.0
            } else {
                3.5
            };
            let edge = if active {
                Color32::BLACK
            } else {
                Color32::WHITE
            };
            dots.push(Shape::circle_filled(at, r, colour));
            dots.push(Shape::circle_stroke(at, r, Stroke::new(1.0, edge)));
        }
    }
    painter.extend(active_fill);
    painter.extend(strokes);
    painter.extend(dots);
}

pub fn draw_customers(
    painter: &Painter,
    projector: &Projector,
    cx: &LayerContext<'_>,
    stats: &mut DrawStats,
) {
    let clip = painter.clip_rect().expand(20.0);
    let mut trails = Vec::new();
    let mut dots = Vec::new();
    for c in cx.model.customers.values() {
        let Some(now_at) = c.position_at(cx.display_ms) else {
            continue;
        };
        let at = screen(projector, now_at);
        if !clip.contains(at) {
            continue;
        }
        if cx.layers.trails {
            let mut line: Vec<Pos2> = c
                .trail
                .iter()
                .filter(|(t, _)| *t <= cx.display_ms)
                .map(|(_, p)| screen(projector, *p))
                .collect();
            line.push(at);
            if line.len() >= 2 {
                stats.trails += 1;
                trails.push(Shape::line(
                    line,
                    Stroke::new(1.2, palette::CUSTOMER.gamma_multiply(0.25)),
                ));
            }
        }
        if cx.layers.customers {
            let matched = c
                .last_match
                .is_some_and(|(t, _, _)| t <= cx.display_ms && cx.display_ms - t < MATCHED_FOR_MS);
            let colour = if matched {
                palette::CUSTOMER_MATCHED
            } else {
                palette::CUSTOMER
            };
            stats.customers += 1;
            let selected = cx.selected_uid == Some(&*c.uid);
            let r = if selected { 6.5 } else { 4.0 };
            dots.push(Shape::circle_filled(at, r, colour));
            dots.push(Shape::circle_stroke(
                at,
                r,
                Stroke::new(1.0, Color32::WHITE),
            ));
            if selected {
                dots.push(Shape::circle_stroke(at, r + 4.0, Stroke::new(2.0, colour)));
            }
        }
    }
    painter.extend(trails);
    painter.extend(dots);
}

pub fn draw_matches(
    painter: &Painter,
    projector: &Projector,
    cx: &LayerContext<'_>,
    stats: &mut DrawStats,
) {
    if !cx.layers.matches {
        return;
    }
    for m in cx.model.matches.iter().rev() {
        let age = cx.display_ms - m.timestamp_ms;
        if age < 0 {
            continue;
        }
        if age > MATCH_SHOW_MS {
            break;
        }
        let (Some(c), Some(p)) = (m.customer.position(), m.nearest.product.position()) else {
            continue;
        };
        let from = screen(
            projector,
            LatLonDeg {
                lat_deg: c.lat.to_f64(),
                lon_deg: c.lon.to_f64(),
            },
        );
        let to = screen(
            projector,
            LatLonDeg {
                lat_deg: p.lat.to_f64(),
                lon_deg: p.lon.to_f64(),
            },
        );
        stats.match_lines += 1;
        let fade = 1.0 - age as f32 / MATCH_SHOW_MS as f32;
        painter.add(Shape::dashed_line(
            &[from, to],
            Stroke::new(1.5, palette::MATCH_LINE.gamma_multiply(fade)),
            4.0,
            3.0,
        ));
        // The pulse grows out of the shopper over the first second and a half.
        let pulse = (age as f32 / 1_500.0).min(1.0);
        if pulse < 1.0 {
            painter.circle_stroke(
                from,
                6.0 + 18.0 * pulse,
                Stroke::new(2.0, palette::MATCH_LINE.gamma_multiply(1.0 - pulse)),
            );
        }
    }
}
