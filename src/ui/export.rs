//! Exports for analysts: the notification feed as CSV, and the stores, products and geofence
//! rings in view as GeoJSON (rings as 64-gon polygons at the live radius).

use std::fmt::Write as _;

use serde_json::{json, Value};

use crate::engine::geo::{lon_near_deg, LatLonDeg, LocalFrame, Meters};
use crate::engine::pseudonym::Pseudonyms;
use crate::engine::rfc3339::format_rfc3339_ms;
use crate::io::chain::Chain;
use crate::ui::places::SitePlace;

use super::model::LiveModel;

fn csv_field(out: &mut String, value: &str) {
    if value.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&value.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(value);
    }
}

/// The feed (newest first) as CSV with a header row; uids as `pseudonyms` give them, raw
/// only when there are none (the operator chose so).
pub fn feed_csv(model: &LiveModel, pseudonyms: Option<&Pseudonyms>) -> String {
    let mut out =
        String::from("time,uid,pid,sku,segment,title,discount_pct,dist_to_store_ft,matches\n");
    for n in &model.notifications {
        let fields = [
            format_rfc3339_ms(n.timestamp_ms),
            pseudonyms.map_or_else(|| n.uid.to_string(), |p| p.of(&n.uid)),
            n.pid.to_string(),
            n.sku.map(|s| s.to_string()).unwrap_or_default(),
            n.segment.as_deref().unwrap_or_default().to_owned(),
            n.title.as_deref().unwrap_or_default().to_owned(),
            n.discount_pct.map(|d| d.to_string()).unwrap_or_default(),
            format!("{:.2}", n.dist_to_store_ft),
            n.matches.to_string(),
        ];
        for (i, f) in fields.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            csv_field(&mut out, f);
        }
        out.push('\n');
    }
    out
}

/// The part of a screenshot inside `rect` (points) as a PNG file's bytes.
pub fn png_of_region(
    screenshot: &egui::ColorImage,
    rect: egui::Rect,
    pixels_per_point: f32,
) -> Result<Vec<u8>, String> {
    use image::ImageEncoder as _;
    // Cut to the image first: epaint's `region` panics on a rect that reaches past it (a
    // window partly off screen).
    let [width, height] = screenshot.size;
    let pixel = |v: f32, limit: usize| ((v * pixels_per_point).max(0.0) as usize).min(limit);
    let (x0, x1) = (pixel(rect.min.x, width), pixel(rect.max.x, width));
    let (y0, y1) = (pixel(rect.min.y, height), pixel(rect.max.y, height));
    if x1 <= x0 || y1 <= y0 {
        return Err("nothing of the forecast is on screen".into());
    }
    let (w, h) = (x1 - x0, y1 - y0);
    let region = screenshot.region_by_pixels([x0, y0], [w, h]);
    let mut png = Vec::new();
    image::codecs::png::PngEncoder::new(&mut png)
        .write_image(
            region.as_raw(),
            w as u32,
            h as u32,
            image::ExtendedColorType::Rgba8,
        )
        .map_err(|e| e.to_string())?;
    Ok(png)
}

/// A circle of `radius_m` around `centre` as a closed GeoJSON ring. Its longitudes stay
/// within 180° of the centre's, so a ring across the antimeridian is one small ring (a
/// little past ±180°, as the sites' extents are) rather than one round the world.
fn circle(centre: LatLonDeg, radius_m: f64) -> Vec<[f64; 2]> {
    let frame = LocalFrame::new(centre);
    let mut ring: Vec<[f64; 2]> = (0..64)
        .map(|i| {
            let a = std::f64::consts::TAU * f64::from(i) / 64.0;
            let p = frame.to_geo(Meters::new(radius_m * a.cos(), radius_m * a.sin()));
            [lon_near_deg(p.lon_deg, centre.lon_deg), p.lat_deg]
        })
        .collect();
    if let Some(first) = ring.first().copied() {
        ring.push(first);
    }
    ring
}

/// The chain's stores, the sites found in the data (their extents), and every product the
/// console knows with its ring, as a GeoJSON FeatureCollection. `now_ms` decides which rings
/// are active.
pub fn view_geojson(chain: &Chain, sites: &[SitePlace], model: &LiveModel, now_ms: i64) -> String {
    let mut features: Vec<Value> = Vec::new();
    let chain_doc: Value = serde_json::from_str(&chain.to_geojson()).unwrap_or(Value::Null);
    if let Some(stores) = chain_doc.get("features").and_then(Value::as_array) {
        features.extend(stores.iter().cloned());
    }
    for place in sites {
        let (min, max) = (place.site.min, place.site.max);
        let extent = [
            [min.lon_deg, min.lat_deg],
            [max.lon_deg, min.lat_deg],
            [max.lon_deg, max.lat_deg],
            [min.lon_deg, max.lat_deg],
            [min.lon_deg, min.lat_deg],
        ];
        features.push(json!({
            "type": "Feature",
            "properties": {
                "kind": "site",
                "name": place.name,
                "country": place.site.country,
                "products": place.site.points,
            },
            "geometry": {"type": "Polygon", "coordinates": [extent]},
        }));
    }
    let radius_m = model.radius_ft() * crate::engine::geo::M_PER_FT;
    for p in &model.products {
        let active = model.ring_active(p.sku, now_ms);
        let props = json!({
            "kind": "product",
            "sku": p.sku,
            "segment": p.product.segment.as_deref(),
            "variant": p.product.variant.as_deref(),
            "country": p.product.country.as_deref(),
            "promotion_active": active,
        });
        features.push(json!({
            "type": "Feature",
            "properties": props,
            "geometry": {"type": "Point", "coordinates": [p.position.lon_deg, p.position.lat_deg]},
        }));
        features.push(json!({
            "type": "Feature",
            "properties": {"kind": "geofence", "sku": p.sku, "radius_ft": model.radius_ft(), "promotion_active": active},
            "geometry": {"type": "Polygon", "coordinates": [circle(p.position, radius_m)]},
        }));
    }
    let mut out = String::new();
    let _ = write!(
        out,
        "{}",
        json!({"type": "FeatureCollection", "features": features})
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::geo::geo_distance_km_deg;

    #[test]
    fn csv_quotes_what_needs_quoting() {
        let mut s = String::new();
        csv_field(&mut s, r#"20% off, "fresh""#);
        assert_eq!(s, r#""20% off, ""fresh""""#);
    }

    #[test]
    fn rings_are_closed_and_at_the_radius() {
        let c = LatLonDeg {
            lat_deg: 51.539,
            lon_deg: -0.103,
        };
        let ring = circle(c, 30.48);
        assert_eq!(ring.len(), 65);
        assert_eq!(ring.first(), ring.last());
        for p in &ring {
            let m = geo_distance_km_deg(c.lat_deg, c.lon_deg, p[1], p[0]) * 1000.0;
            assert!((m - 30.48).abs() < 0.05, "{m}");
        }
    }

    #[test]
    fn the_view_export_is_geojson_with_the_chain_and_products() {
        let chain = Chain::builtin().unwrap();
        let text = view_geojson(&chain, &[], &LiveModel::default(), 0);
        let doc: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(doc["type"], "FeatureCollection");
        let n = doc["features"].as_array().unwrap().len();
        assert!(n > 6, "{n}");
        let mut sites = crate::engine::sites::Sites::default();
        sites.add(
            LatLonDeg {
                lat_deg: -33.87,
                lon_deg: 151.21,
            },
            "AUS",
        );
        let site = SitePlace {
            site: sites.sites().remove(0),
            name: "AUS 1".into(),
        };
        let text = view_geojson(&chain, &[site], &LiveModel::default(), 0);
        let doc: Value = serde_json::from_str(&text).unwrap();
        let features = doc["features"].as_array().unwrap();
        let found = features
            .iter()
            .find(|f| f["properties"]["kind"] == "site")
            .expect("the site");
        assert_eq!(found["properties"]["name"], "AUS 1");
        assert_eq!(found["geometry"]["coordinates"][0][0][0], 151.21);
        assert_eq!(feed_csv(&LiveModel::default(), None).lines().count(), 1);
    }

    #[test]
    fn the_feed_csv_names_shoppers_by_pseudonym_unless_raw_uids_are_asked_for() {
        use crate::engine::notify::Notification;
        use crate::engine::pseudonym::{Pseudonyms, KEY_BYTES};
        use std::sync::Arc;
        let uid = "5f0e7a2c-9d3b-4b1a-8c2e-6f7a8b9c0d1e";
        let mut model = LiveModel::default();
        model.notifications.push_front(Notification {
            timestamp_ms: 0,
            uid: Arc::from(uid),
            pid: Arc::from("p1"),
            sku: Some(1000),
            segment: None,
            title: None,
            discount_pct: None,
            product_at: None,
            dist_to_store_ft: 12.0,
            matches: 1,
        });
        let pseudonyms = Pseudonyms::new([7; KEY_BYTES]);
        let csv = feed_csv(&model, Some(&pseudonyms));
        assert!(!csv.contains(uid), "{csv}");
        assert!(csv.contains(&pseudonyms.of(uid)));
        assert!(feed_csv(&model, None).contains(uid));
    }

    #[test]
    fn a_screenshot_region_becomes_a_png_of_that_region() {
        let mut shot = egui::ColorImage::filled([40, 30], egui::Color32::WHITE);
        shot.pixels[0] = egui::Color32::RED;
        // 2 pixels per point: the 10×5-point rect at (5, 5) is 20×10 pixels.
        let rect = egui::Rect::from_min_size(egui::pos2(5.0, 5.0), egui::vec2(10.0, 5.0));
        let png = png_of_region(&shot, rect, 2.0).expect("png");
        let decoded = image::load_from_memory(&png).expect("decodes").to_rgba8();
        assert_eq!(decoded.dimensions(), (20, 10));
        assert_eq!(decoded.get_pixel(0, 0).0, [255, 255, 255, 255]);
        let outside = egui::Rect::from_min_size(egui::pos2(100.0, 100.0), egui::vec2(1.0, 1.0));
        assert!(png_of_region(&shot, outside, 1.0).is_err());
        // Partly off the image: the part on it.
        let across = egui::Rect::from_min_size(egui::pos2(30.0, 20.0), egui::vec2(50.0, 50.0));
        let png = png_of_region(&shot, across, 1.0).expect("png");
        let decoded = image::load_from_memory(&png).expect("decodes");
        assert_eq!((decoded.width(), decoded.height()), (10, 10));
    }
}
