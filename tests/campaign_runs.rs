//! Running a campaign: started in the console, every planned announcement reaches the
//! source through the outbox, acknowledged, carrying its planned time — on the built-in
//! simulator (at full speed over a simulated day) and on a real broker (a day of traffic
//! produced there, read by the console from the start).

mod support;

use std::time::Duration;

use instore::engine::campaign::Campaign;
use instore::engine::rfc3339::parse_rfc3339_ms;
use instore::io::chain::Chain;
use instore::io::kafka::client::StartAt;
use instore::io::kafka::config::KafkaConfig;
use instore::io::simulator::SimConfig;
use instore::ui::outbox::DeliveryState;
use instore::ui::{ConsoleApp, ConsoleOptions};
use support::broker::Broker;
use support::{instore, pump_until, record_topics, stderr, UNTIL_IDLE};

/// 09:00–20:00 UTC on 2026-12-07 (re-announced every 50 minutes: 14 times) for two
/// promotions, the second by SKU.
fn campaign() -> Campaign {
    Campaign::from_json(
        r#"{
        "name": "Day run",
        "promotions": [
            {"segment": "SegmentA", "title": "A day", "discount_pct": 15},
            {"pid": "sku-1000", "sku": 1000, "segment": "SegmentA", "discount_pct": 25}
        ],
        "schedule": {"start": "2026-12-07T00:00", "end": "2026-12-08T00:00",
                     "daily": {"from": "09:00", "to": "20:00"}}
    }"#,
    )
    .expect("campaign")
}

/// (pid, time) of every announcement the campaign plans.
fn planned(c: &Campaign) -> Vec<(String, i64)> {
    let schedule = c.check().expect("valid");
    instore::engine::campaign::announcements(&c.as_written(), &schedule, c.reannounce_every_ms())
        .into_iter()
        .map(|a| (a.record.pid, a.at_ms))
        .collect()
}

/// What the outbox holds of the campaign, once every item is acknowledged: (pid, time).
fn delivered(app: &ConsoleApp) -> Vec<(String, i64)> {
    app.outbox
        .items
        .iter()
        .map(|i| {
            assert!(
                matches!(i.state, DeliveryState::Delivered { .. }),
                "{:?}",
                i.state
            );
            (i.record.pid.clone(), i.timestamp_ms)
        })
        .collect()
}

fn all_acknowledged(app: &ConsoleApp, n: usize) -> bool {
    app.outbox.items.len() == n
        && app
            .outbox
            .items
            .iter()
            .all(|i| matches!(i.state, DeliveryState::Delivered { .. }))
}

#[test]
fn a_campaign_runs_across_a_simulated_day_announcing_each_promotion_as_planned() {
    let c = campaign();
    let plan = planned(&c);
    assert_eq!(plan.len(), 28);
    let options = ConsoleOptions {
        sim: SimConfig {
            start_ms: parse_rfc3339_ms("2026-12-07T08:00:00Z").expect("time"),
            stores: Some(1),
            customers_per_store: 3,
            ping_interval_ms: 60_000,
            // The simulator's own promotions stay out of the way.
            promotion_interval_ms: 24 * 3_600_000,
            ..SimConfig::default()
        },
        start_simulator: false,
        ..ConsoleOptions::new(Chain::builtin().expect("chain"))
    };
    let mut app = ConsoleApp::new(options, None, &egui::Context::default());
    app.settings.sim_speed = 0.0; // as fast as the engine takes it
    app.start_simulator();
    app.campaigns.runner.start(c.clone()).expect("start");
    let end = parse_rfc3339_ms("2026-12-07T20:30:00Z").expect("time");
    let taken = |a: &ConsoleApp| {
        a.model
            .promotions
            .iter()
            .filter(|p| matches!(p.promotion.pid.as_deref(), Some("sku-1000" | "day-run-1")))
            .count()
    };
    pump_until(
        &mut app,
        "the simulated day",
        Duration::from_secs(300),
        |a| {
            a.model.latest_event_ms.is_some_and(|t| t >= end)
                && all_acknowledged(a, 28)
                && taken(a) == 28
        },
    );
    assert_eq!(delivered(&app), plan);
    // The engine took each one at its planned time.
    let seen: Vec<(String, i64)> = app
        .model
        .promotions
        .iter()
        .filter_map(|p| Some((p.promotion.pid.as_deref()?.to_owned(), p.timestamp_ms)))
        .filter(|(pid, _)| pid == "sku-1000" || pid == "day-run-1")
        .collect();
    let mut want = plan.clone();
    want.sort_by_key(|(pid, at)| (*at, pid.clone()));
    let mut got = seen;
    got.sort_by_key(|(pid, at)| (*at, pid.clone()));
    assert_eq!(got, want);
    assert_eq!(
        app.campaigns.runner.get("Day run").expect("running").sent,
        28
    );
}

#[test]
fn a_campaign_runs_on_the_broker_with_each_announcement_produced_at_its_planned_time() {
    let broker = Broker::start();
    let c = campaign();
    let plan = planned(&c);
    let out = instore(&[
        "simulate",
        "-b",
        &broker.bootstrap,
        "--start",
        "2026-12-07T08:00:00Z",
        "--duration",
        "13h",
        "--stores",
        "1",
        "--customers",
        "2",
        "--ping-interval",
        "60s",
        "--promotion-interval",
        "24h",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let config = KafkaConfig::resolve(None, Some(&broker.bootstrap), &[]).expect("config");
    let options = ConsoleOptions {
        kafka: Some((config, StartAt::Earliest)),
        ..ConsoleOptions::new(Chain::builtin().expect("chain"))
    };
    let mut app = ConsoleApp::new(options, None, &egui::Context::default());
    app.campaigns.runner.start(c).expect("start");
    let end = parse_rfc3339_ms("2026-12-07T20:30:00Z").expect("time");
    pump_until(
        &mut app,
        "the day on Kafka",
        Duration::from_secs(300),
        |a| a.model.latest_event_ms.is_some_and(|t| t >= end) && all_acknowledged(a, 28),
    );
    assert_eq!(delivered(&app), plan);
    drop(app);
    let dir = tempfile::tempdir().expect("tempdir");
    let produced: Vec<(String, i64)> = record_topics(
        &broker.bootstrap,
        "products_promotions",
        dir.path(),
        UNTIL_IDLE,
    )
    .into_iter()
    .filter_map(|r| Some((r.key?.into_owned(), r.timestamp_ms?)))
    .filter(|(pid, _)| pid == "sku-1000" || pid == "day-run-1")
    .collect();
    let (mut got, mut want) = (produced, plan);
    got.sort_by_key(|(pid, at)| (*at, pid.clone()));
    want.sort_by_key(|(pid, at)| (*at, pid.clone()));
    assert_eq!(got, want, "each once, at its planned time");
}
