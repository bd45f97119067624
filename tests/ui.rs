//! The console driven through egui_kittest: real widgets, a real engine thread and bus.
//! Waits are on conditions (bounded), never on time.

mod support;

use std::time::Duration;

use egui_kittest::kittest::Queryable as _;
use egui_kittest::Harness;
use instore::engine::geo::LatLonDeg;
use instore::engine::{RawRecord, Topic};
use instore::io::chain::Chain;
use instore::ui::map::Selection;
use instore::ui::outbox::DeliveryState;
use instore::ui::{ConsoleApp, ConsoleOptions};
use support::console_harness;

const T0: i64 = 1_764_147_600_000;

/// The console on an empty bus in a harness with `builder`'s renderer, `setup` run first.
fn console_on_empty_bus(
    builder: egui_kittest::HarnessBuilder<ConsoleApp>,
    setup: impl FnOnce(&mut ConsoleApp),
) -> Harness<'static, ConsoleApp> {
    let options = ConsoleOptions::new(Chain::builtin().expect("built-in chain"));
    console_harness(builder.with_size([1500.0, 950.0]), options, |app| {
        app.start_bus_only();
        setup(app);
    })
}

fn harness(setup: impl FnOnce(&mut ConsoleApp)) -> Harness<'static, ConsoleApp> {
    console_on_empty_bus(Harness::builder(), setup)
}

/// Steps frames until `done` holds (the engine runs on its own thread).
fn run_until(h: &mut Harness<'_, ConsoleApp>, what: &str, done: impl Fn(&ConsoleApp) -> bool) {
    for _ in 0..1_000 {
        h.step();
        if done(h.state()) {
            return;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let a = h.state();
    panic!(
        "gave up waiting for {what}: drawn {:?}, {} products, {} customers, latest event {:?}",
        a.map.drawn,
        a.model.products.len(),
        a.model.customers.len(),
        a.model.latest_event_ms
    );
}

fn publish(app: &ConsoleApp, topic: Topic, ts: i64, payload: &str) {
    let record = RawRecord {
        timestamp_ms: Some(ts),
        payload: Some(payload.to_owned().into()),
        ..RawRecord::default()
    };
    app.session()
        .expect("session")
        .producer()
        .publish(topic, record)
        .expect("bus open");
}

/// A product in the middle of the first store, and a shopper 60 ft from it.
fn seed_store(app: &ConsoleApp) {
    let store = &Chain::builtin().expect("chain").stores[0];
    let c = store.center();
    let product = format!(
        r#"{{"sku": 1000, "segment": "SegmentA", "variant": "Variant1", "latitude": {:.5}, "longitude": {:.5}, "country": "USA"}}"#,
        c.lat_deg, c.lon_deg
    );
    publish(app, Topic::StoresProducts, T0, &product);
    let ping = format!(
        r#"{{"uid": "shopper-1", "latitude": {:.5}, "longitude": {:.5}, "country": "USA"}}"#,
        c.lat_deg + 0.00016,
        c.lon_deg
    );
    for i in 0..3 {
        publish(
            app,
            Topic::CustomersLocations,
            T0 + 60_000 + i * 5_000,
            &ping,
        );
    }
}

/// The seeded store in a harness, stepped until its shopper and product are drawn.
fn seeded_store_on_the_map() -> Harness<'static, ConsoleApp> {
    let mut h = harness(|app| seed_store(app));
    run_until(&mut h, "the shopper on the map", |a| {
        a.map.drawn.customers == 1 && a.map.drawn.pins == 1
    });
    h
}

#[test]
fn a_promotion_typed_into_the_form_reaches_the_bus_and_lights_the_ring() {
    let mut h = harness(|app| seed_store(app));
    run_until(&mut h, "the product", |a| a.model.product(1000).is_some());
    assert_eq!(h.state().map.drawn.active_rings, 0);

    // A bad discount is refused with a message, nothing is sent.
    h.get_by_label("SKU").focus();
    h.get_by_label("SKU").type_text("1000");
    h.get_by_label("discount %").focus();
    h.get_by_label("discount %").type_text("120");
    h.get_by_label("title").focus();
    h.get_by_label("title").type_text("Coffee week");
    h.run_steps(2);
    h.get_by_label("Publish to products_promotions").click();
    h.run_steps(2);
    assert!(h.query_by_label_contains("from 0 to 100").is_some());
    assert!(h.state().outbox.items.is_empty());
    assert_eq!(
        h.state().settings.draft.segment,
        "SegmentA",
        "the typed SKU fills its segment"
    );

    // Fix it, pick the segment from the combo box anyway, publish.
    h.state_mut().settings.draft.discount_pct = "20".into();
    h.get_by_label("segment").click();
    h.run_steps(2);
    h.get_by_label("SegmentA").click();
    h.run_steps(2);
    assert_eq!(h.state().settings.draft.segment, "SegmentA");
    let pid = h.state().settings.draft.pid.clone();
    h.get_by_label("Publish to products_promotions").click();
    run_until(&mut h, "delivery", |a| {
        a.outbox
            .items
            .first()
            .is_some_and(|i| matches!(i.state, DeliveryState::Delivered { .. }))
    });
    assert!(h.query_by_label_contains("delivered p0@0").is_some());
    // The engine decoded it from the bus: it is in the model with the form's fields ...
    run_until(&mut h, "the engine to see the promotion", |a| {
        a.model
            .promotions
            .iter()
            .any(|p| p.promotion.pid.as_deref() == Some(pid.as_str()))
    });
    let seen = h
        .state()
        .model
        .promotions
        .iter()
        .find(|p| p.promotion.pid.as_deref() == Some(pid.as_str()))
        .expect("promotion")
        .clone();
    assert_eq!(seen.promotion.sku, Some(1000));
    assert_eq!(seen.promotion.title.as_deref(), Some("Coffee week"));
    // ... its ring lights up and the shopper 58 ft away gets a notification.
    run_until(&mut h, "the ring to light up", |a| {
        a.map.drawn.active_rings == 1
    });
    let ping = {
        let c = Chain::builtin().expect("chain").stores[0].center();
        format!(
            r#"{{"uid": "shopper-1", "latitude": {:.5}, "longitude": {:.5}, "country": "USA"}}"#,
            c.lat_deg + 0.00016,
            c.lon_deg
        )
    };
    publish(h.state(), Topic::CustomersLocations, T0 + 120_000, &ping);
    run_until(&mut h, "a notification", |a| {
        !a.model.notifications.is_empty()
    });
    h.run_steps(2);
    assert!(h
        .query_by_label_contains("customer shopper- gets promotion")
        .is_some());
}

#[test]
fn a_bad_record_shows_in_the_rejected_panel_with_its_reason_and_sample() {
    let mut h = harness(|app| {
        publish(
            app,
            Topic::CustomersLocations,
            T0,
            r#"{"uid": "u", "latitude": "north"}"#,
        );
        publish(app, Topic::StoresProducts, T0, "not json at all");
    });
    run_until(&mut h, "two rejects", |a| {
        a.model.stats.pipeline.rejects.total() == 2
    });
    h.run_steps(3);
    assert!(h.query_by_label("Rejected records (2)").is_some());
    let header = h.get_by_label_contains("stores_products · value is not JSON · 1");
    header.click();
    h.run_steps(3);
    assert!(h.query_by_label_contains("not json at all").is_some());
    assert!(h
        .query_by_label_contains("customers_locations · wrong type")
        .is_some());
}

#[test]
fn layer_toggles_change_what_the_map_draws() {
    let mut h = seeded_store_on_the_map();
    let before = h.state().map.drawn;
    assert_eq!(before.rings, 1);
    assert!(before.footprints >= 1);
    assert_eq!(before.trails, 1);

    for layer in ["Geofence rings", "Customers"] {
        h.get_by_label("Layers").click();
        h.run_steps(2);
        h.get_by_label(layer).click();
        h.run_steps(2);
    }
    let after = h.state().map.drawn;
    assert!(!h.state().settings.layers.rings && !h.state().settings.layers.customers);
    assert_eq!((after.rings, after.customers), (0, 0));
    assert_eq!(after.pins, 1, "products stay");
    assert_eq!(after.trails, 1, "trails are their own layer");
}

#[test]
fn hovering_a_shopper_or_a_product_says_who_or_what_it_is_and_a_click_selects() {
    let mut h = seeded_store_on_the_map();
    let centre = Chain::builtin().expect("chain").stores[0].center();
    let shopper = LatLonDeg {
        lat_deg: centre.lat_deg + 0.00016,
        lon_deg: centre.lon_deg,
    };
    // A few pixels off the dot still hovers it.
    let at = h.state().map.screen_of(shopper).expect("a map frame") + egui::vec2(3.0, -2.0);
    h.hover_at(at);
    h.run_steps(40);
    assert_eq!(
        h.state().map.hovered,
        Some(Selection::Customer("shopper-1".into()))
    );
    let tip = h.get_by_label("Customer shopper-1").rect();
    // Beside the pointer, not wherever the (window-sized) map widget would put it.
    assert!(
        tip.expand(40.0).contains(at),
        "tooltip at {tip:?}, pointer at {at:?}"
    );

    let product = h.state().map.screen_of(centre).expect("a map frame");
    h.hover_at(product);
    h.run_steps(40);
    assert_eq!(h.state().map.hovered, Some(Selection::Product(1000)));
    assert!(h.query_by_label("SKU 1000").is_some(), "tooltip");
    assert!(h
        .query_by_label_contains("segment SegmentA · variant Variant1")
        .is_some());

    // Empty floor hovers nothing.
    h.hover_at(product + egui::vec2(40.0, 40.0));
    h.run_steps(3);
    assert_eq!(h.state().map.hovered, None);

    // A click on the shopper selects them.
    h.hover_at(at);
    h.run_steps(2);
    h.drag_at(at);
    h.run_steps(1);
    h.drop_at(at);
    h.run_steps(3);
    assert_eq!(
        h.state().map.selection,
        Some(Selection::Customer("shopper-1".into()))
    );
}

#[test]
fn the_radius_slider_changes_the_radius_the_engine_uses() {
    let mut h = harness(|_| {});
    run_until(&mut h, "the engine's settings", |a| {
        a.model.settings.is_some()
    });
    assert_eq!(h.state().model.radius_ft(), 100.0);
    h.get_by_role_and_label(egui::accesskit::Role::Slider, "geofence radius")
        .set_value_accesskit(50.0);
    run_until(&mut h, "the engine to apply 50 ft", |a| {
        a.model.radius_ft() == 50.0
    });
    assert_eq!(h.state().settings.params.radius_ft, 50.0);
    // And the engine matches with it: a ping 58 ft from a promoted product no longer matches.
    seed_store(h.state());
    let store = Chain::builtin().expect("chain").stores[0].clone();
    let promo = r#"{"pid": "p-50", "SKU": 1000, "segment": "SegmentA"}"#;
    publish(h.state(), Topic::ProductsPromotions, T0 + 1_000, promo);
    let c = store.center();
    let ping = format!(
        r#"{{"uid": "shopper-2", "latitude": {:.5}, "longitude": {:.5}, "country": "USA"}}"#,
        c.lat_deg + 0.00016,
        c.lon_deg
    );
    publish(h.state(), Topic::CustomersLocations, T0 + 130_000, &ping);
    run_until(&mut h, "the last ping", |a| {
        a.model
            .stats
            .pipeline
            .topic(Topic::CustomersLocations)
            .records
            == 4
    });
    assert_eq!(h.state().model.stats.nearby_records, 0, "58 ft > 50 ft");
}

/// Rendered on the CPU (wgpu on Mesa's lavapipe): with no tile server the map is the plain
/// background with the store drawn as vectors, not a checkerboard of failed tiles.
#[test]
fn without_tiles_the_map_renders_the_store_as_vectors() {
    use instore::ui::map::palette;
    let mut h = console_on_empty_bus(Harness::builder().wgpu(), |app| seed_store(app));
    run_until(&mut h, "the shopper", |a| a.map.drawn.customers == 1);
    let image = h.render().expect("render");
    let count = |c: egui::Color32| {
        image
            .pixels()
            .filter(|p| p.0[..3] == [c.r(), c.g(), c.b()])
            .count()
    };
    let (background, footprint) = (count(palette::BACKGROUND), count(palette::FOOTPRINT_FILL));
    assert!(background > 10_000, "background pixels: {background}");
    assert!(footprint > 10_000, "footprint pixels: {footprint}");
    if let Ok(dir) = std::env::var("INSTORE_SCREENSHOTS") {
        image
            .save(format!("{dir}/console-no-tiles.png"))
            .expect("save");
    }
}

#[test]
fn a_live_session_is_recorded_to_a_dump_until_its_size_limit() {
    use instore::io::live::{LiveCommand, RecordingLimits};
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("session.jsonl.gz");
    let limits = RecordingLimits {
        path: path.clone(),
        max_bytes: Some(2_000),
        max_duration: None,
        pseudonyms: None,
    };
    let mut h = harness(|app| {
        app.session()
            .expect("session")
            .command(LiveCommand::StartRecording(limits))
    });
    h.run_steps(2);
    seed_store(h.state());
    run_until(&mut h, "the recording to start", |a| {
        a.model
            .stats
            .recording
            .as_ref()
            .is_some_and(|r| r.records > 0)
    });
    for i in 0..40 {
        publish(
            h.state(),
            Topic::CustomersLocations,
            T0 + 100_000 + i,
            r#"{"uid": "u9", "latitude": 41.88, "longitude": -87.62, "country": "USA"}"#,
        );
    }
    run_until(&mut h, "the size limit", |a| {
        a.model
            .stats
            .recording
            .as_ref()
            .is_some_and(|r| r.ended.as_deref() == Some("size limit reached"))
    });
    let recorded = h.state().model.stats.recording.clone().expect("status");
    let records = instore::io::dump::read_all(&path).expect("a complete gzip dump");
    assert_eq!(records.len() as u64, recorded.records);
    assert!(records.len() > 5 && records.len() < 40, "{}", records.len());
    assert_eq!(records[0].topic, "stores_products");
}

/// The GPU path (rings and dots as wgpu instances, what the console uses) against the mesh
/// path (what renders without it), both on lavapipe: the shopper and the product pin come out
/// the same size, and the ring is drawn.
#[test]
fn rings_and_dots_drawn_on_the_gpu_match_the_mesh_ones() {
    use eframe::egui_wgpu::RendererOptions;
    use egui_kittest::wgpu::{create_render_state, default_wgpu_setup, WgpuTestRenderer};
    use instore::ui::map::{gpu_sprites, palette};

    let chain = Chain::builtin().expect("chain");
    let pin = palette::segment_colour(&chain.segments, Some("SegmentA"));
    let render = |gpu: bool| {
        let state = create_render_state(default_wgpu_setup(), RendererOptions::PREDICTABLE);
        if gpu {
            gpu_sprites::install(&state);
        }
        let builder = Harness::builder().renderer(WgpuTestRenderer::from_render_state(state));
        let mut h = console_on_empty_bus(builder, |app| {
            if gpu {
                app.map.use_gpu_sprites();
            }
            seed_store(app);
        });
        run_until(&mut h, "the shopper", |a| {
            a.map.drawn.customers == 1 && a.map.drawn.rings == 1
        });
        let image = h.render().expect("render");
        let count = |c: egui::Color32| {
            image
                .pixels()
                .filter(|p| p.0[..3] == [c.r(), c.g(), c.b()])
                .count()
        };
        let not_map = [palette::BACKGROUND, palette::FOOTPRINT_FILL];
        let coloured = image
            .pixels()
            .filter(|p| {
                let [r, g, b, _] = p.0;
                not_map.iter().all(|c| [c.r(), c.g(), c.b()] != [r, g, b])
            })
            .count();
        (count(palette::CUSTOMER), count(pin), coloured)
    };
    let (mesh_shopper, mesh_pin, mesh_coloured) = render(false);
    let (gpu_shopper, gpu_pin, gpu_coloured) = render(true);
    assert!(
        mesh_shopper > 20 && mesh_pin > 10,
        "{mesh_shopper} {mesh_pin}"
    );
    let near = |a: usize, b: usize| (a as f64 - b as f64).abs() <= 0.35 * a.max(b) as f64;
    assert!(
        near(gpu_shopper, mesh_shopper),
        "{gpu_shopper} vs {mesh_shopper}"
    );
    assert!(near(gpu_pin, mesh_pin), "{gpu_pin} vs {mesh_pin}");
    // Everything else (panels, ring, footprint edges) within a few percent.
    assert!(
        near(gpu_coloured, mesh_coloured),
        "{gpu_coloured} vs {mesh_coloured}"
    );
}

#[test]
fn in_the_chain_view_a_click_on_a_store_zooms_into_it_and_makes_it_current() {
    let mut h = seeded_store_on_the_map();
    h.get_by_label("All sites").click();
    h.run_steps(3);
    let zoom_out = h.state().map.zoom();
    assert!(zoom_out < 8.0, "chain view at zoom {zoom_out}");
    let chain = Chain::builtin().expect("chain");
    let london = chain
        .stores
        .iter()
        .find(|s| s.city == "London")
        .expect("a London store");
    let at = h
        .state()
        .map
        .screen_of(london.center())
        .expect("a map frame");
    h.hover_at(at);
    h.run_steps(30);
    assert!(
        h.query_by_label("click to zoom in").is_some(),
        "the store's tooltip"
    );
    h.drag_at(at);
    h.run_steps(1);
    h.drop_at(at);
    h.run_steps(3);
    assert!(h.state().map.zoom() > 19.0, "zoomed into the store");
    assert_eq!(
        h.state().settings.store_id.as_deref(),
        Some(london.id.as_str())
    );
    assert_eq!(h.state().map.selection, None, "nothing else was picked");
}

/// A shopper's phone: click their row in the feed and their notifications show as the push
/// would, with the offer, the distance and the store.
#[test]
fn a_click_on_a_feed_row_opens_that_shoppers_phone() {
    let mut h = harness(|app| {
        seed_store(app);
        let promotion = r#"{"pid": "coffee", "SKU": 1000, "segment": "SegmentA", "title": "Coffee week", "discount_pct": 20}"#;
        publish(app, Topic::ProductsPromotions, T0 + 1_000, promotion);
        let store = &Chain::builtin().expect("chain").stores[0];
        let c = store.center();
        let ping = format!(
            r#"{{"uid": "shopper-1", "latitude": {:.5}, "longitude": {:.5}, "country": "USA"}}"#,
            c.lat_deg + 0.00016,
            c.lon_deg
        );
        publish(app, Topic::CustomersLocations, T0 + 80_000, &ping);
    });
    run_until(&mut h, "a notification", |a| {
        !a.model.notifications.is_empty()
    });
    h.run_steps(3);
    h.get_by_label_contains("customer shopper").click();
    h.run_steps(3);
    assert_eq!(
        h.state().map.selection,
        Some(Selection::Customer("shopper-1".into()))
    );
    assert!(h.query_by_label("shopper-'s phone").is_some());
    assert!(h.query_by_label("20 % off Coffee week").is_some());
    assert!(
        h.query_by_label_contains("ft away in Northwind Market")
            .is_some(),
        "the store named"
    );
}

#[test]
fn old_recordings_are_offered_for_deletion_and_deleted_only_on_the_operators_word() {
    let dir = tempfile::tempdir().expect("tempdir");
    let list = dir.path().join("recordings.txt");
    let (old, recent) = (
        dir.path().join("old.jsonl"),
        dir.path().join("recent.jsonl"),
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64;
    for (path, age_days) in [(&old, 45), (&recent, 3)] {
        std::fs::write(path, "{}\n").expect("dump");
        instore::io::recordings::note_recording(
            path,
            true,
            &[],
            Some(&list),
            now - age_days * 86_400_000,
        )
        .expect("note");
    }
    // A console started with that list, as at each start of the app.
    let console = || {
        let options = ConsoleOptions {
            recordings_list: Some(list.clone()),
            ..ConsoleOptions::new(Chain::builtin().expect("built-in chain"))
        };
        let mut h = console_harness(
            Harness::builder().with_size([1500.0, 950.0]),
            options,
            |app| app.start_bus_only(),
        );
        h.run_steps(3);
        h
    };
    let mut h = console();
    h.get_by_label_contains("old.jsonl  ·  45 days old");
    assert!(
        h.query_by_label_contains("recent.jsonl").is_none(),
        "within the retention"
    );
    h.get_by_label("Not now").click();
    h.run_steps(3);
    assert!(h.query_by_label("Delete these 1").is_none(), "put off");
    assert!(
        old.exists(),
        "nothing is deleted without the operator's word"
    );

    let mut h = console();
    h.get_by_label("Delete these 1").click();
    h.run_steps(3);
    assert!(!old.exists());
    assert!(recent.exists());
    assert!(h.query_by_label("Delete these 1").is_none());
}

/// The console on an empty bus with its Campaigns window open.
fn with_campaigns_window(folder: Option<std::path::PathBuf>) -> Harness<'static, ConsoleApp> {
    let options = ConsoleOptions {
        campaigns_folder: folder,
        ..ConsoleOptions::new(Chain::builtin().expect("built-in chain"))
    };
    let mut h = console_harness(
        Harness::builder().with_size([1500.0, 950.0]),
        options,
        |app| app.start_bus_only(),
    );
    h.run_steps(2);
    // The button, then the window it opens (a command, carried out in the next pass).
    h.get_by_role_and_label(egui::accesskit::Role::Button, "Campaigns")
        .click();
    h.run_steps(4);
    h
}

#[test]
fn campaigns_are_made_edited_and_saved_from_the_campaigns_window() {
    let dir = tempfile::tempdir().expect("tempdir");
    let folder = dir.path().join("campaigns");
    let mut h = with_campaigns_window(Some(folder.clone()));
    h.get_by_label("New").click();
    h.run_steps(3);
    h.get_by_label_contains("Campaign 1\ndraft");
    h.get_by_label("valid: 7 interval(s) on");
    h.get_by_label("+ variant").click();
    h.run_steps(2);
    h.get_by_label("Save").click();
    h.run_steps(2);
    let saved = std::fs::read_to_string(folder.join("campaign-1.json")).expect("saved");
    let campaign = instore::engine::campaign::Campaign::from_json(&saved).expect("a campaign");
    assert_eq!(campaign.variants.len(), 1);
    assert_eq!(campaign.variants[0].name, "as written");
    h.get_by_label("on a simulated first day");
    h.get_by_label("on recorded traffic…");
}

#[test]
fn a_forecast_is_saved_as_png_from_the_campaigns_window() {
    use instore::ui::campaign_book::CampaignCommand;
    let dir = tempfile::tempdir().expect("tempdir");
    let dump = dir.path().join("traffic.jsonl");
    let out = support::instore(&[
        "simulate",
        "--start",
        "2026-12-07T08:30:00Z",
        "--duration",
        "90m",
        "--stores",
        "1",
        "--customers",
        "4",
        "-o",
        dump.to_str().expect("utf-8"),
    ]);
    assert!(out.status.success());
    let mut h = with_campaigns_window(None);
    h.get_by_label("New").click();
    h.run_steps(2);
    h.state_mut()
        .campaigns
        .selected_mut()
        .expect("selected")
        .promotions[0]
        .sku = Some(1000);
    h.state_mut()
        .campaigns
        .selected_mut()
        .expect("selected")
        .match_key = Some(instore::engine::PromotionMatchKey::Sku);
    h.state_mut().campaigns.run(
        CampaignCommand::ForecastOnDumps(vec![dump]),
        &instore::ui::campaign_book::ForecastContext {
            params: instore::engine::PipelineParams::default(),
            chain: Chain::builtin().expect("chain"),
            waker: instore::io::wake::Waker::none(),
            first_segment: "SegmentA".into(),
        },
    );
    run_until(&mut h, "the forecast", |a| {
        a.campaigns.job.is_none() && a.campaigns.report.is_some()
    });
    h.run_steps(2);
    h.get_by_label("Notifications per hour (the campaign's clock)");
    let png = dir.path().join("forecast.png");
    h.state_mut().campaigns.png_wanted = Some(png.clone());
    for _ in 0..50 {
        h.run_steps(1);
        if png.exists() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let image = image::open(&png).expect("a PNG of the forecast").to_rgba8();
    assert!(
        image.width() > 300 && image.height() > 200,
        "{:?}",
        image.dimensions()
    );
}
