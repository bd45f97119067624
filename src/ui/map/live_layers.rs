//! What moves on the map: product pins with their geofence rings (to scale, from the live
//! radius), shoppers with trails, and matches as a line to the product plus a pulse.

use std::sync::Arc;

use egui::{Color32, Painter, Pos2, Shape, Stroke};

use super::gpu_sprites::{SpriteBatch, LAYER_CUSTOMERS, LAYER_PRODUCTS};
use super::mesh::MeshPool;
use super::screen::ScreenMap;
use super::{mesh, palette};
use crate::engine::geo::{LatLonDeg, M_PER_FT};
use crate::io::chain::Chain;
use crate::ui::model::{JumpCheck, LiveModel, TRAIL_PINGS};
use crate::ui::settings::Layers;

/// How long a match line and pulse stay on screen (event time).
pub const MATCH_SHOW_MS: i64 = 4_000;
/// A shopper counts as "matched" (red) this long after a match.
const MATCHED_FOR_MS: i64 = 30_000;

/// What the layers need besides the model.
pub struct LayerContext<'a> {
    pub model: &'a LiveModel,
    pub chain: &'a Chain,
    pub layers: Layers,
    /// Event time the map shows.
    pub display_ms: i64,
    pub selected_uid: Option<&'a str>,
    pub selected_sku: Option<i64>,
    /// The sprite texture of dots and pins ([`mesh::dot_texture`]).
    pub dot_texture: egui::TextureId,
    /// The ring sprite for this frame's radius, when rings are small enough for one.
    pub ring_sprite: Option<RingSprite>,
    /// Where the pointer hovers over the map: the layers find what is under it as they
    /// draw, so hovering costs no second pass over 5 000 shoppers.
    pub pointer: Option<Pos2>,
}

/// How near (pixels) the pointer must be to hover something.
pub const HOVER_PX: f32 = 9.0;

/// The nearest thing of one kind within [`HOVER_PX`] of the pointer.
#[derive(Debug)]
pub struct Nearest<T> {
    pointer: Option<Pos2>,
    best: Option<(f32, T)>,
}

impl<T> Nearest<T> {
    pub fn new(pointer: Option<Pos2>) -> Self {
        Nearest {
            pointer,
            best: None,
        }
    }

    /// Considers `what` drawn at `at`; `make` runs only for a new nearest.
    pub fn offer(&mut self, at: Pos2, make: impl FnOnce() -> T) {
        let Some(pointer) = self.pointer else {
            return;
        };
        let d = at.distance(pointer);
        if d <= HOVER_PX && self.best.as_ref().is_none_or(|(best, _)| d < *best) {
            self.best = Some((d, make()));
        }
    }

    pub fn into_inner(self) -> Option<T> {
        self.best.map(|(_, what)| what)
    }
}

/// A ring texture ([`mesh::ring_texture`]) and the radius it was drawn for.
#[derive(Clone, Copy, Debug)]
pub struct RingSprite {
    pub texture: egui::TextureId,
    pub radius_px: f32,
    pub side_px: f32,
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
    /// Lines of the world outline (zoomed out, no tiles).
    pub world_lines: usize,
}

pub fn draw_products(
    painter: &Painter,
    map: &ScreenMap<'_>,
    cx: &LayerContext<'_>,
    stats: &mut DrawStats,
    pool: &mut MeshPool,
    mut gpu: Option<&mut SpriteBatch>,
) -> Option<i64> {
    let mut hovered = Nearest::new(cx.pointer.filter(|_| cx.layers.products));
    let clip = painter.clip_rect();
    let radius_m = cx.model.radius_ft() * M_PER_FT;
    let now = cx.model.latest_event_ms.unwrap_or(cx.display_ms);
    // Culling margin and pin visibility from the view centre's scale.
    let centre = map.projector().unproject(clip.center().to_vec2());
    let view_px_per_m = map.projector().scale_pixel_per_meter(centre);
    let margin = (radius_m as f32 * view_px_per_m * 1.5).max(8.0);
    let pins = view_px_per_m > 0.6;
    let [fills, strokes, ring_sprites, dots] = pool.slots::<4>(SLOT_FILLS);
    dots.texture_id = cx.dot_texture;
    if let Some(sprite) = cx.ring_sprite {
        ring_sprites.texture_id = sprite.texture;
    }
    if let Some(batch) = gpu.as_deref_mut() {
        batch.clear();
    }
    let mut active_on_screen = Vec::new();
    for p in &cx.model.products {
        let at = map.to_screen(p.position);
        if !clip.expand(margin).contains(at) {
            continue;
        }
        // Each ring at its own latitude's scale: true metres on a Mercator map.
        let ring_px = radius_m as f32 * map.px_per_m(p.position);
        let colour = palette::segment_colour(&cx.chain.segments, p.product.segment.as_deref());
        let active = cx.model.ring_active(p.sku, now);
        if cx.layers.rings && ring_px >= 3.0 {
            stats.rings += 1;
            let tint = if active {
                stats.active_rings += 1;
                active_on_screen.push((at, ring_px, colour));
                colour.gamma_multiply(0.7)
            } else {
                colour.gamma_multiply(0.18)
            };
            match (gpu.as_deref_mut(), cx.ring_sprite) {
                (Some(batch), _) => batch.ring(at, ring_px, mesh::RING_STROKE_PX, tint),
                // The sprite was drawn for the view centre's latitude; within half a pixel
                // of this ring's own radius it is exact enough.
                (None, Some(sprite)) if (sprite.radius_px - ring_px).abs() < 0.5 => {
                    mesh::ring_sprite(ring_sprites, at, sprite.side_px, tint)
                }
                _ => mesh::ring(strokes, at, ring_px, mesh::RING_STROKE_PX, tint),
            }
        }
        if cx.layers.products && pins {
            // Only a drawn pin can be hovered.
            hovered.offer(at, || p.sku);
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
            match gpu.as_deref_mut() {
                Some(batch) => {
                    batch.dot(at, r + 1.0, edge);
                    batch.dot(at, r, colour);
                }
                None => {
                    mesh::sprite(dots, at, r + 1.0, edge);
                    mesh::sprite(dots, at, r, colour);
                }
            }
        }
    }
    // A light wash inside active rings reads well for a store's worth of rings; hundreds of
    // overlapping washes only muddy the map (and cost fill rate), so then the outlines carry it.
    if active_on_screen.len() <= MAX_RING_FILLS {
        for (at, r, colour) in active_on_screen {
            mesh::disc(fills, at, r, colour.gamma_multiply(0.04));
        }
    }
    for slot in SLOT_FILLS..SLOT_FILLS + 4 {
        pool.paint(painter, slot);
    }
    if let Some(batch) = gpu {
        batch.paint(painter, LAYER_PRODUCTS);
    }
    hovered.into_inner()
}

/// Mesh pool slots of the layers.
const SLOT_FILLS: usize = 0;
const SLOT_TRAILS: usize = 4;

/// Shoppers on the map above which the customer layer simplifies.
const CROWD: usize = 1_500;

/// Above this many active rings on screen, rings are outlines only.
const MAX_RING_FILLS: usize = 150;

pub fn draw_customers(
    painter: &Painter,
    map: &ScreenMap<'_>,
    cx: &LayerContext<'_>,
    stats: &mut DrawStats,
    pool: &mut MeshPool,
    mut gpu: Option<&mut SpriteBatch>,
) -> Option<Arc<str>> {
    let mut hovered = Nearest::new(cx.pointer.filter(|_| cx.layers.customers));
    let clip = painter.clip_rect().expand(20.0);
    // A crowd reads as dots and short tails: past this many shoppers, no outlines and only
    // the last three pings of the trail, which keeps a 5 000-shopper frame within budget.
    let crowded = cx.model.customers.len() > CROWD;
    let trail_points = if crowded {
        TRAIL_PINGS / 4
    } else {
        TRAIL_PINGS
    };
    let n = cx.model.customers.len();
    let [trails, dots] = pool.slots::<2>(SLOT_TRAILS);
    dots.texture_id = cx.dot_texture;
    trails.vertices.reserve(n * (trail_points + 1) * 2);
    trails.indices.reserve(n * trail_points * 6);
    dots.vertices.reserve(n * 8);
    dots.indices.reserve(n * 12);
    if let Some(batch) = gpu.as_deref_mut() {
        batch.clear();
    }
    let mut line: Vec<Pos2> = Vec::with_capacity(16);
    let trail_colour = palette::CUSTOMER.gamma_multiply(0.25);
    for c in cx.model.customers.values() {
        let Some(now_at) = c.position_at(cx.display_ms) else {
            continue;
        };
        let at = map.to_screen(now_at);
        if !clip.contains(at) {
            continue;
        }
        hovered.offer(at, || Arc::clone(&c.uid));
        if cx.layers.trails {
            // The shopper now, then back through the last pings shown, in one pass; a jump
            // no one could walk ends the trail there.
            line.clear();
            line.push(at);
            let mut newer = (cx.display_ms, now_at);
            let jumps = JumpCheck::at(now_at.lat_deg);
            let shown = c
                .trail
                .pings()
                .iter()
                .rev()
                .filter(|(t, _)| *t <= cx.display_ms)
                .take(trail_points);
            for &(t, p) in shown {
                if jumps.is_jump((t, p), newer) {
                    break;
                }
                line.push(map.to_screen(p));
                newer = (t, p);
            }
            line.reverse();
            if line.len() >= 2 {
                stats.trails += 1;
                match gpu.as_deref_mut() {
                    Some(batch) => batch.polyline(&line, 1.2, trail_colour),
                    None => mesh::polyline(trails, &line, 1.2, trail_colour),
                }
            }
        }
        if cx.layers.customers {
            let matched = c.last_match.is_some_and(|m| {
                m.timestamp_ms <= cx.display_ms && cx.display_ms - m.timestamp_ms < MATCHED_FOR_MS
            });
            let colour = if matched {
                palette::CUSTOMER_MATCHED
            } else {
                palette::CUSTOMER
            };
            stats.customers += 1;
            let selected = cx.selected_uid == Some(&*c.uid);
            let r = if selected { 6.5 } else { 4.0 };
            if selected {
                painter.circle_stroke(at, r + 4.0, Stroke::new(2.0, colour));
            }
            match gpu.as_deref_mut() {
                Some(batch) => {
                    if !crowded || selected {
                        batch.dot(at, r + 1.2, Color32::WHITE);
                    }
                    batch.dot(at, r, colour);
                }
                None => {
                    if !crowded || selected {
                        mesh::sprite(dots, at, r + 1.2, Color32::WHITE);
                    }
                    mesh::sprite(dots, at, r, colour);
                }
            }
        }
    }
    pool.paint(painter, SLOT_TRAILS);
    pool.paint(painter, SLOT_TRAILS + 1);
    if let Some(batch) = gpu {
        batch.paint(painter, LAYER_CUSTOMERS);
    }
    hovered.into_inner()
}

pub fn draw_matches(
    painter: &Painter,
    map: &ScreenMap<'_>,
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
        let from = map.to_screen(LatLonDeg {
            lat_deg: c.lat.to_f64(),
            lon_deg: c.lon.to_f64(),
        });
        let to = map.to_screen(LatLonDeg {
            lat_deg: p.lat.to_f64(),
            lon_deg: p.lon.to_f64(),
        });
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
