//! Any retailer's dump: products outside the built-in chain are grouped into sites, the
//! console opens on them, the store picker lists them and picking one fits it; a dump of the
//! built-in chain still opens on its store.

mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use egui_kittest::kittest::{NodeT as _, Queryable as _};
use egui_kittest::Harness;
use instore::engine::geo::LatLonDeg;
use instore::io::chain::Chain;
use instore::ui::map::STORE_ZOOM;
use instore::ui::{ConsoleApp, ConsoleOptions};
use support::{console_harness, instore};

fn replay(dump: &Path) -> Harness<'static, ConsoleApp> {
    let options = ConsoleOptions {
        dumps: vec![dump.to_path_buf()],
        ..ConsoleOptions::new(Chain::builtin().expect("chain"))
    };
    let builder = Harness::builder().with_size([1500.0, 950.0]);
    let mut h = console_harness(builder, options, |app| {
        app.settings.sim_speed = f64::INFINITY;
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    while !h.state().replay_done() {
        assert!(Instant::now() < deadline, "the replay did not finish");
        h.step();
        std::thread::sleep(Duration::from_millis(5));
    }
    // The fitted view is laid out on the next frames.
    h.run_steps(3);
    h
}

/// Where the dump's products are, from the file itself.
fn products_of(dump: &Path) -> Vec<LatLonDeg> {
    let text = std::fs::read_to_string(dump).expect("dump");
    text.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|r| r["topic"] == "stores_products")
        .filter_map(|r| serde_json::from_str::<serde_json::Value>(r["payload"].as_str()?).ok())
        .filter_map(|p| {
            let number = |v: &serde_json::Value| {
                v.as_f64()
                    .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            };
            Some(LatLonDeg {
                lat_deg: number(&p["latitude"])?,
                lon_deg: number(&p["longitude"])?,
            })
        })
        .collect()
}

fn share_in_view(app: &ConsoleApp, places: &[LatLonDeg]) -> f64 {
    let seen = places.iter().filter(|p| app.map.in_view(**p)).count();
    seen as f64 / places.len().max(1) as f64
}

/// The store picker's entries (opened, read, closed).
fn picker_entries(h: &mut Harness<'_, ConsoleApp>) -> Vec<String> {
    h.get_by_label("store").click();
    h.run_steps(2);
    let entries = h
        .query_all_by_label_contains(" product")
        .filter_map(|n| n.accesskit_node().label())
        .filter(|label| label.ends_with(" products") || label.ends_with(" 1 product"))
        .collect();
    h.key_press(egui::Key::Escape);
    h.run_steps(2);
    entries
}

/// `instore simulate … --output DIR/NAME` with `flags`.
fn simulated_dump(dir: &Path, name: &str, flags: &[&str]) -> PathBuf {
    let dump = dir.join(name);
    let mut args = vec!["simulate"];
    args.extend_from_slice(flags);
    args.extend(["--output", dump.to_str().expect("path")]);
    let out = instore(&args);
    assert!(out.status.success(), "{}", support::stderr(&out));
    dump
}

#[test]
fn an_original_profile_dump_opens_on_its_data_and_lists_its_sites() {
    let dir = tempfile::tempdir().expect("tempdir");
    let flags = ["--profile", "original", "--duration", "20m"];
    let dump = simulated_dump(dir.path(), "orig.jsonl", &flags);
    let products = products_of(&dump);
    assert!(products.len() > 100, "{} products", products.len());
    let mut h = replay(&dump);
    let share = share_in_view(h.state(), &products);
    assert!(
        share >= 0.9,
        "{:.0} % of the products in view",
        share * 100.0
    );
    let entries = picker_entries(&mut h);
    assert!(
        entries.len() >= 10,
        "derived sites in the picker: {entries:?}"
    );
}

/// Two retailers in one dump: one in Sydney, one in Cape Town.
fn two_retailers(dir: &Path) -> PathBuf {
    let mut lines = Vec::new();
    let mut product = |sku: u32, lat: f64, lon: f64, country: &str| {
        let payload = format!(
            r#"{{"sku": {sku}, "segment": "SegmentA", "variant": "Variant1", "latitude": {lat:.5}, "longitude": {lon:.5}, "country": "{country}"}}"#
        );
        lines.push(serde_json::json!({
            "topic": "stores_products", "partition": 0, "offset": sku, "ts": 1_764_147_600_000i64,
            "key": sku.to_string(), "payload": payload,
        }));
    };
    for i in 0..6 {
        let step = f64::from(i) * 0.0002; // ~20 m apart
        product(100 + i, -33.8700 + step, 151.2100, "AUS");
    }
    for i in 0..6 {
        let step = f64::from(i) * 0.0002;
        product(200 + i, -33.9250 + step, 18.4240, "ZAF");
    }
    let ping = serde_json::json!({
        "topic": "customers_locations", "partition": 0, "offset": 0, "ts": 1_764_147_660_000i64,
        "key": "u1", "payload": r#"{"uid": "u1", "latitude": -33.87, "longitude": 151.2101, "country": "AUS"}"#,
    });
    lines.push(ping);
    let path = dir.join("two.jsonl");
    let text: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    std::fs::write(&path, text.join("\n") + "\n").expect("write");
    path
}

#[test]
fn two_retailers_are_two_sites_and_picking_one_fits_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dump = two_retailers(dir.path());
    let mut h = replay(&dump);
    let products = products_of(&dump);
    let (sydney, cape_town) = products.split_at(6);
    let seen: Vec<bool> = products.iter().map(|p| h.state().map.in_view(*p)).collect();
    assert_eq!(
        share_in_view(h.state(), &products),
        1.0,
        "both in the first view: {seen:?} at zoom {}",
        h.state().map.zoom()
    );
    let entries = picker_entries(&mut h);
    assert!(
        entries.iter().any(|e| e.starts_with("AUS 1 — 6 products"))
            && entries.iter().any(|e| e.starts_with("ZAF 1 — 6 products")),
        "{entries:?}"
    );
    h.get_by_label("store").click();
    h.run_steps(2);
    h.get_by_label_contains("ZAF 1").click();
    h.run_steps(3);
    assert_eq!(share_in_view(h.state(), cape_town), 1.0);
    assert_eq!(share_in_view(h.state(), sydney), 0.0);
    assert!(
        h.state().map.zoom() > 14.0,
        "zoomed in: {}",
        h.state().map.zoom()
    );
    h.get_by_label("All sites").click();
    h.run_steps(3);
    assert_eq!(share_in_view(h.state(), &products), 1.0);

    // From far away a site is a dot with its name; a click zooms into it.
    let sydney_centre = sydney[2];
    let at = h.state().map.screen_of(sydney_centre).expect("a map frame");
    h.hover_at(at);
    h.run_steps(30);
    assert!(
        h.query_by_label("6 products found in the data").is_some(),
        "the site's tooltip"
    );
    h.drag_at(at);
    h.run_steps(1);
    h.drop_at(at);
    h.run_steps(4);
    assert_eq!(share_in_view(h.state(), sydney), 1.0);
    assert_eq!(share_in_view(h.state(), cape_town), 0.0);
    assert!(h.state().map.zoom() > 14.0);
}

#[test]
fn a_dump_of_the_built_in_chain_opens_on_its_store_as_before() {
    let dir = tempfile::tempdir().expect("tempdir");
    let flags = ["--duration", "3m", "--stores", "1"];
    let dump = simulated_dump(dir.path(), "store.jsonl", &flags);
    let mut h = replay(&dump);
    assert_eq!(h.state().map.zoom(), STORE_ZOOM);
    assert_eq!(
        h.state().map.drawn.world_lines,
        0,
        "no outline over a store"
    );
    let store = Chain::builtin().expect("chain").stores[0].clone();
    assert!(h.state().map.in_view(store.center()));
    let entries = picker_entries(&mut h);
    assert!(entries.is_empty(), "no derived sites: {entries:?}");
}

/// Live, as products arrive (here on the bus, as from Kafka or the simulator): a site
/// appears in the picker and the view goes to it.
#[test]
fn sites_appear_live_as_products_arrive() {
    use instore::engine::{RawRecord, Topic};
    let options = ConsoleOptions::new(Chain::builtin().expect("chain"));
    let builder = Harness::builder().with_size([1500.0, 950.0]);
    let mut h = console_harness(builder, options, ConsoleApp::start_bus_only);
    h.run_steps(3);
    assert!(picker_entries(&mut h).is_empty());
    let sydney: Vec<LatLonDeg> = (0..4)
        .map(|i| LatLonDeg {
            lat_deg: -33.87 + f64::from(i) * 0.0002,
            lon_deg: 151.21,
        })
        .collect();
    for (sku, p) in sydney.iter().enumerate() {
        let payload = format!(
            r#"{{"sku": {sku}, "segment": "SegmentA", "latitude": {:.5}, "longitude": {:.5}, "country": "AUS"}}"#,
            p.lat_deg, p.lon_deg
        );
        let record = RawRecord {
            timestamp_ms: Some(1_764_147_600_000),
            payload: Some(payload.into()),
            ..RawRecord::default()
        };
        h.state()
            .session()
            .expect("session")
            .producer()
            .publish(Topic::StoresProducts, record)
            .expect("bus open");
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while share_in_view(h.state(), &sydney) < 1.0 {
        assert!(
            Instant::now() < deadline,
            "the view never went to the new site"
        );
        h.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    let entries = picker_entries(&mut h);
    assert_eq!(entries, ["AUS 1 — 4 products"]);
}

/// With no products yet, shoppers far from every chain store bring the view to them; shoppers
/// in a chain store's car park do not move it.
#[test]
fn before_any_product_far_shoppers_bring_the_view_and_car_park_ones_do_not() {
    use instore::engine::{RawRecord, Topic};
    let ping = |app: &ConsoleApp, uid: &str, at: LatLonDeg| {
        let payload = format!(
            r#"{{"uid": "{uid}", "latitude": {:.5}, "longitude": {:.5}, "country": "X"}}"#,
            at.lat_deg, at.lon_deg
        );
        let record = RawRecord {
            timestamp_ms: Some(1_764_147_600_000),
            payload: Some(payload.into()),
            ..RawRecord::default()
        };
        app.session()
            .expect("session")
            .producer()
            .publish(Topic::CustomersLocations, record)
            .expect("bus open");
    };
    let harness = || {
        let options = ConsoleOptions::new(Chain::builtin().expect("chain"));
        let builder = Harness::builder().with_size([1500.0, 950.0]);
        let mut h = console_harness(builder, options, ConsoleApp::start_bus_only);
        h.run_steps(3);
        h
    };

    let store = Chain::builtin().expect("chain").stores[0].clone();
    let car_park = store.parking[0];
    let mut h = harness();
    ping(h.state(), "parked", car_park);
    h.run_steps(20);
    assert_eq!(h.state().map.zoom(), STORE_ZOOM, "the store view stays");
    let centre = h.state().map.memory.detached().expect("a centre");
    let (dlat, dlon) = (
        centre.y() - store.center().lat_deg,
        centre.x() - store.center().lon_deg,
    );
    assert!(
        dlat.abs() < 1e-9 && dlon.abs() < 1e-9,
        "the view stays centred on the store: off by {dlat}, {dlon} degrees"
    );

    let cape_town = LatLonDeg {
        lat_deg: -33.9250,
        lon_deg: 18.4240,
    };
    let mut h = harness();
    ping(h.state(), "far", cape_town);
    let deadline = Instant::now() + Duration::from_secs(20);
    while !h.state().map.in_view(cape_town) {
        assert!(
            Instant::now() < deadline,
            "the view never went to the shopper"
        );
        h.step();
        std::thread::sleep(Duration::from_millis(10));
    }
}
