//! Colours of the map: segments get distinct, colour-blind-friendly hues (Okabe–Ito).

use egui::Color32;

/// Okabe–Ito, without black and yellow (too weak on a light map).
const SEGMENT_COLOURS: [Color32; 6] = [
    Color32::from_rgb(0, 114, 178),   // blue
    Color32::from_rgb(213, 94, 0),    // vermillion
    Color32::from_rgb(0, 158, 115),   // bluish green
    Color32::from_rgb(204, 121, 167), // reddish purple
    Color32::from_rgb(86, 180, 233),  // sky blue
    Color32::from_rgb(230, 159, 0),   // orange
];

pub const BACKGROUND: Color32 = Color32::from_rgb(236, 239, 232);
pub const STREET: Color32 = Color32::from_rgb(220, 222, 218);
pub const PARKING: Color32 = Color32::from_rgb(214, 216, 212);
pub const FOOTPRINT_FILL: Color32 = Color32::from_rgb(252, 251, 247);
pub const FOOTPRINT_EDGE: Color32 = Color32::from_rgb(90, 96, 104);
pub const AISLE: Color32 = Color32::from_rgb(228, 222, 208);
pub const CHECKOUT: Color32 = Color32::from_rgb(160, 150, 130);
pub const CUSTOMER: Color32 = Color32::from_rgb(40, 60, 90);
pub const CUSTOMER_MATCHED: Color32 = Color32::from_rgb(220, 50, 47);
pub const MATCH_LINE: Color32 = Color32::from_rgb(220, 50, 47);
pub const TEXT: Color32 = Color32::from_rgb(40, 44, 52);
/// A site found in the data, seen from far away.
pub const SITE: Color32 = Color32::from_rgb(230, 159, 0);
/// Coastlines and borders of the world outline.
pub const COASTLINE: Color32 = Color32::from_rgb(150, 160, 150);

// The panels' status colours, so a state reads the same everywhere.
/// Failed, refused, rejected.
pub const ERROR: Color32 = Color32::from_rgb(200, 40, 40);
/// Pending, paused, retrying, behind.
pub const WARNING: Color32 = Color32::from_rgb(200, 140, 0);
/// Running, delivered.
pub const OK: Color32 = Color32::from_rgb(0, 145, 60);
/// A match: the timeline's NEARBY_CUSTOMERS bars and the recording light, like matched
/// shoppers on the map.
pub const MATCH: Color32 = CUSTOMER_MATCHED;
/// Pings on the timeline's histogram.
pub const PINGS: Color32 = Color32::from_gray(120);

/// The colour of a segment: the chain's own segments in order, others by a stable hash.
pub fn segment_colour(segments: &[String], segment: Option<&str>) -> Color32 {
    let Some(segment) = segment else {
        return Color32::GRAY;
    };
    let index = segments
        .iter()
        .position(|s| s == segment)
        .unwrap_or_else(|| {
            segment.bytes().fold(0usize, |h, b| {
                h.wrapping_mul(31).wrapping_add(usize::from(b))
            })
        });
    SEGMENT_COLOURS[index % SEGMENT_COLOURS.len()]
}

/// The colour of the `i`-th series of a chart (a campaign's variants side by side).
pub fn series_colour(i: usize) -> Color32 {
    SEGMENT_COLOURS[i % SEGMENT_COLOURS.len()]
}
