//! Fixed overlays on the map: the scale bar (feet and metres, as geofences are in feet) and
//! the tile attribution, which walkers leaves to the application.

use crate::engine::geo::M_PER_FT;
use egui::{Align2, Color32, FontId, Painter, Pos2, Rect, Stroke, Vec2};
use walkers::Projector;

use super::palette;

/// A round length near `max` (1, 2, 5 × 10ⁿ).
pub fn nice_length(max: f64) -> f64 {
    if max <= 0.0 || !max.is_finite() {
        return 0.0;
    }
    let magnitude = 10f64.powf(max.log10().floor());
    [5.0, 2.0, 1.0]
        .into_iter()
        .map(|f| f * magnitude)
        .find(|l| *l <= max)
        .unwrap_or(magnitude)
}

/// A unit of the scale bar: its name, its length in metres, and the length in metres from
/// which on it is used.
type Unit = (&'static str, f64, f64);

/// Feet near stores (geofences are in feet), miles from a mile up.
const IMPERIAL: [Unit; 2] = [("ft", M_PER_FT, 0.0), ("mi", 1_609.344, 1_609.344)];
const METRIC: [Unit; 2] = [("m", 1.0, 0.0), ("km", 1_000.0, 1_000.0)];

/// A round length at most `max_m` in the largest unit that fits: (metres, label).
pub fn scale_length(max_m: f64, units: &[Unit]) -> (f64, String) {
    let (name, unit_m, _) = units
        .iter()
        .rev()
        .find(|(_, _, from_m)| max_m >= *from_m)
        .unwrap_or(&units[0]);
    let length = nice_length(max_m / unit_m);
    (length * unit_m, format!("{length} {name}"))
}

pub fn draw_scale_bar(painter: &Painter, projector: &Projector) {
    let clip = painter.clip_rect();
    let px_per_m =
        f64::from(projector.scale_pixel_per_meter(projector.unproject(clip.center().to_vec2())));
    if px_per_m <= 0.0 {
        return;
    }
    let max_px = 140.0;
    let (imperial_m, imperial) = scale_length(max_px / px_per_m, &IMPERIAL);
    let (metric_m, metric) = scale_length(max_px / px_per_m, &METRIC);
    let origin = Pos2::new(clip.left() + 14.0, clip.bottom() - 16.0);
    let bg = Rect::from_min_size(
        origin - Vec2::new(6.0, 34.0),
        Vec2::new(max_px as f32 + 60.0, 42.0),
    );
    painter.rect_filled(bg, 4.0, Color32::from_white_alpha(200));
    let stroke = Stroke::new(2.0, palette::TEXT);
    for (length_px, label, y) in [
        ((imperial_m * px_per_m) as f32, imperial, -20.0),
        ((metric_m * px_per_m) as f32, metric, 0.0),
    ] {
        let a = origin + Vec2::new(0.0, y);
        let b = a + Vec2::new(length_px, 0.0);
        painter.line_segment([a, b], stroke);
        painter.line_segment([a, a - Vec2::new(0.0, 5.0)], stroke);
        painter.line_segment([b, b - Vec2::new(0.0, 5.0)], stroke);
        painter.text(
            b + Vec2::new(6.0, -3.0),
            Align2::LEFT_CENTER,
            label,
            FontId::proportional(11.0),
            palette::TEXT,
        );
    }
}

pub fn draw_attribution(painter: &Painter, text: &str) {
    if text.is_empty() {
        return;
    }
    let clip = painter.clip_rect();
    let galley = painter.layout_no_wrap(text.to_owned(), FontId::proportional(10.0), palette::TEXT);
    let rect = Rect::from_min_size(
        clip.right_bottom() - galley.size() - Vec2::new(8.0, 4.0),
        galley.size() + Vec2::new(6.0, 2.0),
    );
    painter.rect_filled(rect, 2.0, Color32::from_white_alpha(200));
    painter.galley(rect.min + Vec2::new(3.0, 1.0), galley, palette::TEXT);
}

#[cfg(test)]
mod tests {
    use super::{nice_length, scale_length, IMPERIAL, METRIC};

    #[test]
    fn nice_lengths() {
        assert_eq!(nice_length(140.0), 100.0);
        assert_eq!(nice_length(260.0), 200.0);
        assert_eq!(nice_length(7.3), 5.0);
        assert_eq!(nice_length(0.0), 0.0);
    }

    #[test]
    fn the_scale_bar_switches_to_miles_and_kilometres_when_zoomed_out() {
        // A store view: feet and metres.
        assert_eq!(scale_length(30.0, &IMPERIAL).1, "50 ft");
        assert_eq!(scale_length(30.0, &METRIC).1, "20 m");
        // A chain view across a continent.
        let (m, label) = scale_length(2_500_000.0, &IMPERIAL);
        assert_eq!(label, "1000 mi");
        assert!((m - 1_609_344.0).abs() < 1e-6);
        assert_eq!(scale_length(2_500_000.0, &METRIC).1, "2000 km");
        // Just under a mile stays in feet.
        assert_eq!(scale_length(1_500.0, &IMPERIAL).1, "2000 ft");
    }
}
