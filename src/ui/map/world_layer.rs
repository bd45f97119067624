//! Coastlines and country borders for zoomed-out views, with no network: Natural Earth's
//! 1:110m outline (`assets/world-110m.bin`, see its NOTICE), so far-apart sites and stray
//! shoppers sit on recognisable land when there are no tiles.

use std::sync::LazyLock;

use egui::{Painter, Pos2, Rect, Shape, Stroke};
use walkers::{lat_lon, Projector};

use super::palette;

/// The outline file: b"WORLD1", u32 line count, then per line a u16 point count and (i16 lon,
/// i16 lat) pairs in hundredths of a degree, little-endian (tools/world_outline.py).
const WORLD_110M: &[u8] = include_bytes!("../../../assets/world-110m.bin");

/// Past this zoom a view covers a town or less: the outline would only be a stray line.
pub const MAX_ZOOM: f64 = 9.0;

/// One polyline of the outline and its bounds (degrees).
#[derive(Debug)]
pub struct Line {
    pub points: Vec<(f64, f64)>,
    min: (f64, f64),
    max: (f64, f64),
}

/// The outline, read once.
pub static WORLD: LazyLock<Vec<Line>> = LazyLock::new(|| parse(WORLD_110M).unwrap_or_default());

/// The lines of an outline file; `None` when it is not one (it is built in, so this only
/// guards against a broken build).
pub fn parse(bytes: &[u8]) -> Option<Vec<Line>> {
    let rest = bytes.strip_prefix(b"WORLD1")?;
    let mut at = 0usize;
    let mut take = |n: usize| {
        let slice = rest.get(at..at + n)?;
        at += n;
        Some(slice)
    };
    let count = u32::from_le_bytes(take(4)?.try_into().ok()?);
    let mut lines = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let n = u16::from_le_bytes(take(2)?.try_into().ok()?);
        let mut points: Vec<(f64, f64)> = Vec::with_capacity(n as usize);
        for _ in 0..n {
            let pair = take(4)?;
            let lon = f64::from(i16::from_le_bytes([pair[0], pair[1]])) / 100.0;
            let lat = f64::from(i16::from_le_bytes([pair[2], pair[3]])) / 100.0;
            // A step across the antimeridian, or along the pole's edge of Antarctica (off a
            // Web Mercator map), would draw a line across the whole world: end the line there.
            let breaks = points
                .last()
                .is_some_and(|&(last_lon, last_lat): &(f64, f64)| {
                    (lon - last_lon).abs() > 180.0
                        || (lat < MERCATOR_EDGE && last_lat < MERCATOR_EDGE)
                });
            if breaks {
                push_line(&mut lines, std::mem::take(&mut points));
            }
            points.push((lon, lat));
        }
        push_line(&mut lines, points);
    }
    Some(lines)
}

/// Latitudes south of this are off a Web Mercator map (which ends at ±85.05°).
const MERCATOR_EDGE: f64 = -84.5;

fn push_line(lines: &mut Vec<Line>, points: Vec<(f64, f64)>) {
    if points.len() < 2 {
        return;
    }
    let (mut min, mut max) = ((f64::MAX, f64::MAX), (f64::MIN, f64::MIN));
    for &(lon, lat) in &points {
        min = (min.0.min(lon), min.1.min(lat));
        max = (max.0.max(lon), max.1.max(lat));
    }
    lines.push(Line { points, min, max });
}

/// Draws the lines that cross the view; returns how many. A view past ±180° (on the
/// antimeridian, or wider than the world) shows the world again there, as the places drawn
/// beside the view's centre (`screen::near_view`) need land under them.
pub fn draw(painter: &Painter, projector: &Projector, rect: Rect) -> usize {
    // The view's bounds in degrees, from its corners (Web Mercator keeps them axis-aligned).
    let corner = |p: Pos2| projector.unproject(p.to_vec2());
    let (nw, se) = (corner(rect.left_top()), corner(rect.right_bottom()));
    let (west, east) = (nw.x().min(se.x()), nw.x().max(se.x()));
    let (south, north) = (se.y().min(nw.y()), se.y().max(nw.y()));
    let stroke = Stroke::new(1.0, palette::COASTLINE);
    let mut drawn = 0;
    for turns in world_copies(west, east) {
        let shift = 360.0 * f64::from(turns);
        for line in WORLD.iter() {
            let outside = line.max.0 + shift < west
                || line.min.0 + shift > east
                || line.max.1 < south
                || line.min.1 > north;
            if outside {
                continue;
            }
            let points: Vec<Pos2> = line
                .points
                .iter()
                .map(|&(lon, lat)| projector.project(lat_lon(lat, lon + shift)).to_pos2())
                .collect();
            painter.add(Shape::line(points, stroke));
            drawn += 1;
        }
    }
    drawn
}

/// The whole turns east (negative: west) at which copies of the world show between
/// longitudes `west` and `east`: `0..=0` for a view within ±180°.
fn world_copies(west: f64, east: f64) -> std::ops::RangeInclusive<i32> {
    let turn = |lon: f64| ((lon + 180.0) / 360.0).floor().clamp(-4.0, 4.0) as i32;
    turn(west)..=turn(east).max(turn(west))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views_past_the_antimeridian_get_a_copy_of_the_world() {
        assert_eq!(world_copies(-87.7, -87.5), 0..=0);
        assert_eq!(world_copies(-180.0, 179.9), 0..=0);
        assert_eq!(world_copies(179.9, 180.1), 0..=1);
        assert_eq!(world_copies(-180.1, -179.9), -1..=0);
        assert_eq!(world_copies(-250.0, 230.0), -1..=1);
    }

    #[test]
    fn the_built_in_outline_reads_and_spans_the_world() {
        let lines = &*WORLD;
        assert!(lines.len() > 500, "{} lines", lines.len());
        let points: usize = lines.iter().map(|l| l.points.len()).sum();
        assert!(points > 8_000, "{points} points");
        let west = lines.iter().map(|l| l.min.0).fold(f64::MAX, f64::min);
        let east = lines.iter().map(|l| l.max.0).fold(f64::MIN, f64::max);
        let south = lines.iter().map(|l| l.min.1).fold(f64::MAX, f64::min);
        let north = lines.iter().map(|l| l.max.1).fold(f64::MIN, f64::max);
        assert!(west <= -179.0 && east >= 179.0, "{west}..{east}");
        assert!(south <= -84.0 && north >= 83.0, "{south}..{north}");
        // No line spans the world (a step across the antimeridian would).
        assert!(lines.iter().all(|l| l
            .points
            .windows(2)
            .all(|w| (w[0].0 - w[1].0).abs() <= 180.0)));
    }

    #[test]
    fn a_truncated_file_is_refused_not_a_panic() {
        assert!(parse(b"WORLD1").is_none());
        assert!(parse(&WORLD_110M[..WORLD_110M.len() - 3]).is_none());
        assert!(parse(b"NOTWORLD").is_none());
    }
}
