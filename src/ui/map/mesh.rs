//! Batched geometry for the live layers: thousands of dots, rings and trails go into a few
//! meshes built directly, instead of one egui shape each through the tessellator. This is what
//! keeps a frame with 5 000 shoppers and 2 000 rings within budget (BENCHMARKS.md).

use std::sync::{Arc, OnceLock};

use egui::epaint::{Mesh, Vertex, WHITE_UV};
use egui::{Color32, Pos2, Vec2};

/// The live layers' meshes, kept from frame to frame: once egui has painted a frame it lets
/// go of its reference, and the next frame refills the same buffers instead of allocating
/// (and page-faulting in) megabytes of fresh vertices.
#[derive(Debug, Default)]
pub struct MeshPool {
    meshes: Vec<Arc<Mesh>>,
}

impl MeshPool {
    /// `N` empty meshes starting at slot `first`, ready to fill.
    pub fn slots<const N: usize>(&mut self, first: usize) -> [&mut Mesh; N] {
        if self.meshes.len() < first + N {
            self.meshes.resize_with(first + N, Default::default);
        }
        let arcs = &mut self.meshes[first..first + N];
        let mut out = arcs.iter_mut().map(|arc| {
            if Arc::get_mut(arc).is_none() {
                // egui still holds last frame's mesh (it has not painted yet): start another.
                let capacity = (arc.vertices.capacity(), arc.indices.capacity());
                let mut fresh = Mesh::default();
                fresh.vertices.reserve(capacity.0);
                fresh.indices.reserve(capacity.1);
                *arc = Arc::new(fresh);
            }
            let mesh =
                Arc::get_mut(arc).unwrap_or_else(|| unreachable!("unique after replacement"));
            mesh.clear();
            mesh
        });
        std::array::from_fn(|_| out.next().unwrap_or_else(|| unreachable!("N slots")))
    }

    /// Hands slot `i` to the painter (nothing when it is empty).
    pub fn paint(&self, painter: &egui::Painter, i: usize) {
        if let Some(mesh) = self.meshes.get(i).filter(|m| !m.is_empty()) {
            painter.add(egui::Shape::Mesh(Arc::clone(mesh)));
        }
    }
}

/// Side of the dot sprite texture in pixels.
const DOT_TEXTURE_PX: usize = 64;

/// A white anti-aliased disc: shoppers and product pins are one textured quad each (four
/// vertices instead of a fan of triangles), tinted with their colour.
pub fn dot_texture(ctx: &egui::Context) -> egui::TextureHandle {
    let n = DOT_TEXTURE_PX;
    let centre = n as f32 / 2.0;
    let pixels = (0..n * n)
        .map(|i| {
            let (x, y) = ((i % n) as f32 + 0.5, (i / n) as f32 + 0.5);
            let d = ((x - centre).powi(2) + (y - centre).powi(2)).sqrt();
            // One texel of soft edge.
            let alpha = (centre - d).clamp(0.0, 1.0);
            Color32::from_white_alpha((alpha * 255.0).round() as u8)
        })
        .collect();
    let image = egui::ColorImage::new([n, n], pixels);
    ctx.load_texture("instore-dot", image, egui::TextureOptions::LINEAR)
}

/// Widest ring drawn as a sprite; bigger rings (few on screen) are meshes.
pub const MAX_SPRITE_RING_PX: f32 = 160.0;
/// Stroke of a ring sprite.
pub const RING_STROKE_PX: f32 = 1.4;

/// A white anti-aliased ring of `radius_px` drawn at one texel per pixel: the thousands of
/// geofences of a busy view are one quad each. Rebuilt when the zoom changes the radius.
pub fn ring_texture(ctx: &egui::Context, radius_px: f32) -> egui::TextureHandle {
    let half = radius_px + RING_STROKE_PX + 1.0;
    let n = (2.0 * half).ceil() as usize;
    let centre = n as f32 / 2.0;
    let pixels = (0..n * n)
        .map(|i| {
            let (x, y) = ((i % n) as f32 + 0.5, (i / n) as f32 + 0.5);
            let d = ((x - centre).powi(2) + (y - centre).powi(2)).sqrt();
            let alpha = (RING_STROKE_PX / 2.0 + 0.5 - (d - radius_px).abs()).clamp(0.0, 1.0);
            Color32::from_white_alpha((alpha * 255.0).round() as u8)
        })
        .collect();
    ctx.load_texture(
        "instore-ring",
        egui::ColorImage::new([n, n], pixels),
        egui::TextureOptions::LINEAR,
    )
}

/// Adds a ring sprite: `texture_px` is the ring texture's side.
pub fn ring_sprite(mesh: &mut Mesh, centre: Pos2, texture_px: f32, color: Color32) {
    let rect = egui::Rect::from_center_size(centre, Vec2::splat(texture_px));
    let uv = egui::Rect::from_min_max(Pos2::ZERO, Pos2::new(1.0, 1.0));
    mesh.add_rect_with_uv(rect, uv, color);
}

/// Adds a textured disc (the mesh's texture must be [`dot_texture`]).
pub fn sprite(mesh: &mut Mesh, centre: Pos2, r: f32, color: Color32) {
    let rect = egui::Rect::from_center_size(centre, Vec2::splat(2.0 * r));
    let uv = egui::Rect::from_min_max(Pos2::ZERO, Pos2::new(1.0, 1.0));
    mesh.add_rect_with_uv(rect, uv, color);
}

/// Unit circle points for `n` segments, cached for the few sizes used.
fn unit_circle(n: usize) -> &'static [Vec2] {
    static TABLES: OnceLock<Vec<Vec<Vec2>>> = OnceLock::new();
    let tables = TABLES.get_or_init(|| {
        SEGMENTS
            .iter()
            .map(|&n| {
                (0..n)
                    .map(|i| {
                        let a = std::f32::consts::TAU * i as f32 / n as f32;
                        Vec2::new(a.cos(), a.sin())
                    })
                    .collect()
            })
            .collect()
    });
    let i = SEGMENTS
        .iter()
        .position(|&s| s >= n)
        .unwrap_or(SEGMENTS.len() - 1);
    &tables[i]
}

const SEGMENTS: [usize; 5] = [8, 12, 24, 48, 96];

/// Segments for a circle of radius `r` pixels: smooth enough, no more.
fn segments_for(r: f32) -> usize {
    match r {
        r if r < 7.0 => 8,
        r if r < 16.0 => 12,
        r if r < 60.0 => 24,
        r if r < 200.0 => 48,
        _ => 96,
    }
}

fn vertex(pos: Pos2, color: Color32) -> Vertex {
    Vertex {
        pos,
        uv: WHITE_UV,
        color,
    }
}

/// Adds a filled disc.
pub fn disc(mesh: &mut Mesh, centre: Pos2, r: f32, color: Color32) {
    let circle = unit_circle(segments_for(r));
    let base = mesh.vertices.len() as u32;
    mesh.vertices.push(vertex(centre, color));
    for d in circle {
        mesh.vertices.push(vertex(centre + *d * r, color));
    }
    let n = circle.len() as u32;
    for i in 0..n {
        mesh.indices
            .extend_from_slice(&[base, base + 1 + i, base + 1 + (i + 1) % n]);
    }
}

/// Adds a ring of `width` pixels centred on radius `r`, with a one-pixel fade on both edges
/// (as egui feathers its own strokes), so thin rings do not break up into dashes.
pub fn ring(mesh: &mut Mesh, centre: Pos2, r: f32, width: f32, color: Color32) {
    let circle = unit_circle(segments_for(r));
    let base = mesh.vertices.len() as u32;
    let half = width / 2.0;
    let radii = [
        (r - half - 0.5).max(0.0),
        (r - half + 0.5).max(0.0),
        r + half - 0.5,
        r + half + 0.5,
    ];
    let colours = [Color32::TRANSPARENT, color, color, Color32::TRANSPARENT];
    for d in circle {
        for (radius, c) in radii.iter().zip(colours) {
            mesh.vertices.push(vertex(centre + *d * *radius, c));
        }
    }
    let n = circle.len() as u32;
    for i in 0..n {
        let (a, b) = (base + 4 * i, base + 4 * ((i + 1) % n));
        for k in 0..3 {
            mesh.indices
                .extend_from_slice(&[a + k, a + k + 1, b + k, b + k, a + k + 1, b + k + 1]);
        }
    }
}

/// Adds a polyline of `width` pixels as one triangle strip (two vertices per point, offset
/// along the mean normal of the segments meeting there).
pub fn polyline(mesh: &mut Mesh, points: &[Pos2], width: f32, color: Color32) {
    if points.len() < 2 {
        return;
    }
    let half = width / 2.0;
    let normal = |a: Pos2, b: Pos2| {
        let d = b - a;
        let len = d.length();
        if len < 1e-3 {
            Vec2::ZERO
        } else {
            Vec2::new(-d.y, d.x) / len
        }
    };
    let base = mesh.vertices.len() as u32;
    let last = points.len() - 1;
    for (i, p) in points.iter().enumerate() {
        let before = if i > 0 {
            normal(points[i - 1], *p)
        } else {
            Vec2::ZERO
        };
        let after = if i < last {
            normal(*p, points[i + 1])
        } else {
            Vec2::ZERO
        };
        let n = (before + after).normalized();
        mesh.vertices.push(vertex(*p + n * half, color));
        mesh.vertices.push(vertex(*p - n * half, color));
    }
    for i in 0..last as u32 {
        let a = base + 2 * i;
        mesh.indices
            .extend_from_slice(&[a, a + 1, a + 2, a + 2, a + 1, a + 3]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_have_consistent_indices() {
        let mut m = Mesh::default();
        disc(&mut m, Pos2::new(10.0, 10.0), 3.0, Color32::RED);
        ring(&mut m, Pos2::new(10.0, 10.0), 30.0, 1.5, Color32::RED);
        polyline(
            &mut m,
            &[
                Pos2::ZERO,
                Pos2::new(5.0, 0.0),
                Pos2::new(5.0, 0.0),
                Pos2::new(5.0, 5.0),
            ],
            1.0,
            Color32::RED,
        );
        assert!(m.is_valid());
        assert_eq!(m.indices.len(), 8 * 3 + 24 * 18 + 3 * 6);
        assert!(m
            .vertices
            .iter()
            .all(|v| (v.pos - Pos2::new(10.0, 10.0)).length() <= 32.0 || v.pos.x <= 6.0));
    }
}
