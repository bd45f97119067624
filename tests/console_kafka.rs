//! The console on a real broker: Kafka as the source, promotions produced with delivery
//! reports, and a promotion published while the broker is away delivered once it is back.

mod support;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use instore::io::chain::Chain;
use instore::io::kafka::client::StartAt;
use instore::io::kafka::config::KafkaConfig;
use instore::io::kafka::feed::KafkaState;
use instore::ui::outbox::{Announcement, DeliveryState};
use instore::ui::promotion_editor::PromotionRecord;
use instore::ui::{ConsoleApp, ConsoleOptions};
use support::broker::{free_port, Broker};
use support::{console_harness, instore, pump_until, simulate_minute_to};

fn console_on(bootstrap: &str, outbox: Option<std::path::PathBuf>) -> ConsoleApp {
    console_from(bootstrap, StartAt::Earliest, outbox)
}

fn console_from(bootstrap: &str, from: StartAt, outbox: Option<std::path::PathBuf>) -> ConsoleApp {
    let config = KafkaConfig::resolve(None, Some(bootstrap), &["message.timeout.ms=120000".into()])
        .expect("config");
    let options = ConsoleOptions {
        kafka: Some((config, from)),
        outbox_path: outbox,
        ..ConsoleOptions::new(Chain::builtin().expect("chain"))
    };
    ConsoleApp::new(options, None, &egui::Context::default())
}

fn promotion(pid: &str) -> PromotionRecord {
    PromotionRecord {
        pid: pid.into(),
        sku: Some(1000),
        segment: "SegmentA".into(),
        title: Some("Coffee week".into()),
        discount_pct: Some(20),
        valid_until: None,
    }
}

/// A broker on `port` with the pipeline's topics created (`instore kafka-check --create`).
fn broker_with_topics(port: u16) -> Broker {
    let broker = Broker::start_on(port);
    let created = instore(&["kafka-check", "-b", &broker.bootstrap, "--create"]);
    assert!(created.status.success());
    broker
}

#[test]
fn the_console_reads_kafka_and_its_promotions_come_back_through_the_topic() {
    let broker = Broker::start();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_instore"))
        .args([
            "simulate",
            "-b",
            &broker.bootstrap,
            "--duration",
            "2m",
            "--stores",
            "1",
        ])
        .output()
        .expect("simulate");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let mut app = console_on(&broker.bootstrap, None);
    pump_until(
        &mut app,
        "the catalog from Kafka",
        Duration::from_secs(30),
        |a| a.model.product(1000).is_some(),
    );
    let status = app
        .session()
        .and_then(|s| s.kafka_status())
        .expect("a Kafka session");
    assert_eq!(status.state, KafkaState::Connected);
    assert_eq!(status.servers, broker.bootstrap);
    let label = app.session().expect("session").label();
    assert!(
        label.starts_with(&format!("Kafka {} · connected · ", broker.bootstrap)),
        "{label}"
    );
    let t = app.now_event_ms();
    app.outbox
        .submit(promotion("console-p1"), Announcement::New, t);
    pump_until(
        &mut app,
        "the delivery report",
        Duration::from_secs(30),
        |a| matches!(a.outbox.items[0].state, DeliveryState::Delivered { .. }),
    );
    // The engine sees it because it read it back from products_promotions.
    pump_until(
        &mut app,
        "the promotion read back",
        Duration::from_secs(30),
        |a| {
            a.model
                .promotions
                .iter()
                .any(|p| p.promotion.pid.as_deref() == Some("console-p1"))
        },
    );
}

#[test]
fn a_promotion_published_while_the_broker_is_down_is_delivered_when_it_comes_back() {
    // The promotion's delivery timeout runs from here: a first run's broker build must not
    // eat it.
    support::broker::install();
    let port = free_port();
    let bootstrap = format!("127.0.0.1:{port}");
    let dir = tempfile::tempdir().expect("tempdir");
    let outbox = dir.path().join("outbox.json");
    let mut app = console_on(&bootstrap, Some(outbox.clone()));
    app.outbox.submit(
        promotion("offline-p1"),
        Announcement::New,
        1_764_147_600_000,
    );
    for _ in 0..20 {
        app.pump(Duration::from_millis(10));
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        matches!(
            app.outbox.items[0].state,
            DeliveryState::InFlight | DeliveryState::Pending { .. }
        ),
        "{:?}",
        app.outbox.items[0].state
    );
    let saved = std::fs::read_to_string(&outbox).expect("outbox on disk");
    assert!(saved.contains("offline-p1"));

    let _broker = broker_with_topics(port);
    pump_until(
        &mut app,
        "delivery after the outage",
        Duration::from_secs(90),
        |a| matches!(a.outbox.items[0].state, DeliveryState::Delivered { .. }),
    );
    assert!(std::fs::read_to_string(&outbox)
        .expect("outbox")
        .contains("Delivered"));
}

#[test]
fn the_source_menu_tests_a_connection_and_switches_to_kafka() {
    use egui_kittest::kittest::Queryable as _;
    let broker = Broker::start();
    let options = ConsoleOptions {
        start_simulator: true,
        ..ConsoleOptions::new(Chain::builtin().expect("chain"))
    };
    let builder = egui_kittest::Harness::builder().with_size([1500.0, 950.0]);
    let bootstrap = broker.bootstrap.clone();
    let mut h = console_harness(builder, options, |app| {
        app.settings.kafka_bootstrap = bootstrap;
    });
    h.run_steps(2);
    assert!(h
        .state()
        .session()
        .expect("simulator")
        .label()
        .contains("Simulator"));
    h.get_by_label("Source").click();
    h.run_steps(2);
    h.get_by_label("Test connection").click();
    let deadline = Instant::now() + Duration::from_secs(30);
    while h.query_by_label_contains("reachable: 127.0.0.1").is_none() {
        assert!(Instant::now() < deadline, "no connection report");
        h.step();
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(h.query_by_label("customers_locations: missing").is_some());
    h.get_by_label("Connect").click();
    h.run_steps(3);
    let status = h
        .state()
        .session()
        .and_then(|s| s.kafka_status())
        .expect("a Kafka session");
    assert_eq!(status.servers, broker.bootstrap);
    assert_eq!(status.records, 0, "the topics are missing: nothing to read");
    let label = h.state().session().expect("kafka session").label();
    assert!(
        label.starts_with(&format!("Kafka {}", broker.bootstrap)),
        "{label}"
    );
}

/// Repaint requests as eframe's event loop sees them: any from another thread (a worker with
/// news), or one from a frame for an immediate next one. Which thread asked decides, not when:
/// on a loaded machine a worker's ask can land while a frame runs, every round.
struct Wakes {
    frame_thread: std::thread::ThreadId,
    from_workers: AtomicU64,
    due: std::sync::atomic::AtomicBool,
}

impl Wakes {
    /// Frames run on the calling thread.
    fn new() -> Self {
        Wakes {
            frame_thread: std::thread::current().id(),
            from_workers: AtomicU64::new(0),
            due: std::sync::atomic::AtomicBool::new(false),
        }
    }

    fn request(&self, delay: Duration) {
        if std::thread::current().id() != self.frame_thread {
            self.from_workers.fetch_add(1, Ordering::SeqCst);
            self.due.store(true, Ordering::SeqCst);
        } else if delay.is_zero() {
            self.due.store(true, Ordering::SeqCst);
        }
    }

    fn take_due(&self) -> bool {
        self.due.swap(false, Ordering::SeqCst)
    }
}

/// A presenter leaves the console on a live cluster: with no input, records arriving must
/// ask for a frame through egui's repaint callback (what eframe's event loop waits on), and
/// that frame shows them. No frame is run here until the console asks for one.
#[test]
fn records_arriving_from_kafka_ask_for_a_frame_with_no_input() {
    let broker = broker_with_topics(free_port());
    let config = KafkaConfig::resolve(None, Some(&broker.bootstrap), &[]).expect("config");
    let options = ConsoleOptions {
        kafka: Some((config, StartAt::Earliest)),
        ..ConsoleOptions::new(Chain::builtin().expect("chain"))
    };
    let builder = egui_kittest::Harness::builder().with_size([1500.0, 950.0]);
    let mut h = console_harness(builder, options, |_| {});
    let deadline = Instant::now() + Duration::from_secs(30);
    while h
        .state()
        .session()
        .and_then(|s| s.kafka_status())
        .is_none_or(|s| s.state != KafkaState::Connected)
    {
        assert!(Instant::now() < deadline, "the console did not connect");
        h.step();
        std::thread::sleep(Duration::from_millis(20));
    }
    h.run_steps(3);
    let wakes = Arc::new(Wakes::new());
    let counted = Arc::clone(&wakes);
    h.ctx
        .set_request_repaint_callback(move |info| counted.request(info.delay));
    for round in 0..3 {
        let start = format!("2025-11-26T09:0{}:00Z", round * 2);
        let shown = h.state().model.stats.records_pushed;
        simulate_minute_to(&broker.bootstrap, &["--start", &start]);
        // Run a frame whenever eframe would run one at once: a worker asked between frames,
        // or a frame asked for the next one immediately. A frame's ask for one later (the
        // wall clock's tick) is eframe's timer, not news: it runs no frame here.
        // Generous: seven consoles, their brokers and a build can share two cores in CI.
        let deadline = Instant::now() + Duration::from_secs(60);
        while h.state().model.stats.records_pushed == shown {
            assert!(
                Instant::now() < deadline,
                "round {round}: records were produced but no worker asked for a frame to \
                 show them ({} asks from workers; the reader: {:?})",
                wakes.from_workers.load(Ordering::SeqCst),
                h.state().session().and_then(|s| s.kafka_status())
            );
            if wakes.take_due() {
                h.step();
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    assert!(wakes.from_workers.load(Ordering::SeqCst) >= 3);
}

#[test]
fn the_console_shows_its_lag_and_reads_on_after_the_broker_stalls() {
    let broker = Broker::start();
    let simulate = |start: &str| simulate_minute_to(&broker.bootstrap, &["--start", start]);
    simulate("2025-11-26T09:00:00Z");
    let mut app = console_on(&broker.bootstrap, None);
    pump_until(
        &mut app,
        "everything read, lag 0",
        Duration::from_secs(60),
        |a| {
            a.session().is_some_and(|s| s.label().contains("lag 0"))
                && a.model.stats.records_pushed > 200
        },
    );
    let before = app.model.stats.records_pushed;
    broker.freeze();
    pump_until(
        &mut app,
        "the outage to show",
        Duration::from_secs(90),
        |a| a.session().is_some_and(|s| s.label().contains("retrying")),
    );
    broker.thaw();
    simulate("2025-11-26T09:05:00Z");
    pump_until(
        &mut app,
        "records after the outage",
        Duration::from_secs(90),
        |a| a.model.stats.records_pushed >= before + 200,
    );
}

/// The broker goes away and another comes up on the same address (its topics recreated,
/// shorter): the console takes a fresh client, says the topics were recreated and reads them
/// from their start, without a crash.
#[test]
fn the_console_reads_on_after_the_broker_is_replaced() {
    let port = free_port();
    let broker = Broker::start_on(port);
    simulate_minute_to(&broker.bootstrap, &[]);
    let mut app = console_on(&broker.bootstrap, None);
    pump_until(
        &mut app,
        "the first records",
        Duration::from_secs(30),
        |a| a.model.stats.records_pushed > 100,
    );
    // Let it take everything the first broker had.
    std::thread::sleep(Duration::from_secs(2));
    app.pump(Duration::from_millis(50));
    let before = app.model.stats.records_pushed;
    drop(broker);
    let away = Instant::now();
    while away.elapsed() < Duration::from_secs(4) {
        app.pump(Duration::from_millis(20));
        std::thread::sleep(Duration::from_millis(50));
    }
    let broker = broker_with_topics(port);
    // Fewer records than before: the recreated partitions end before where the console had
    // read to, and the source line says so.
    support::simulate_to(&broker.bootstrap, "20s", &[]);
    pump_until(
        &mut app,
        "records from the new broker",
        Duration::from_secs(60),
        |a| a.model.stats.records_pushed > before,
    );
    let label = app.session().expect("the Kafka session").label();
    assert!(
        label.contains("the topic was recreated; reading it from its start"),
        "{label}"
    );
}

/// Opened on a cluster that has been running, the console starts (by default) from what the
/// joins' windows still reach: the products and promotions of the last 90 minutes and the
/// pings of the last 30. Anything older could not meet a ping from now on; anything newer is
/// what the pipeline on that cluster holds, so the console shows its matches from the start.
#[test]
fn the_console_starts_from_what_the_joins_windows_reach() {
    let broker = Broker::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64;
    // A minute of one store, 100, 45 and 2 minutes ago; the same records written to a dump,
    // to count them by topic.
    let mut by_run = Vec::new();
    for minutes_ago in [100, 45, 2] {
        let start = instore::engine::rfc3339::format_rfc3339_ms(now_ms - minutes_ago * 60_000);
        simulate_minute_to(&broker.bootstrap, &["--start", &start]);
        let dump = dir.path().join(format!("{minutes_ago}.jsonl"));
        let dump_arg = dump.to_string_lossy().into_owned();
        let args = ["--start", &start, "--output", &dump_arg];
        let out = instore(
            &[
                &["simulate", "--duration", "1m", "--stores", "1"][..],
                &args,
            ]
            .concat(),
        );
        assert!(out.status.success());
        let text = std::fs::read_to_string(&dump).expect("dump");
        let count = |topic: &str| {
            text.lines()
                .filter(|l| l.contains(&format!("\"topic\":\"{topic}\"")))
                .count() as u64
        };
        by_run.push([
            count("customers_locations"),
            count("stores_products"),
            count("products_promotions"),
        ]);
    }
    assert!(
        by_run.iter().all(|r| r.iter().all(|&n| n > 0)),
        "{by_run:?}"
    );
    let want = [
        by_run[2][0],
        by_run[1][1] + by_run[2][1],
        by_run[1][2] + by_run[2][2],
    ];

    let from: StartAt = "windows".parse().expect("windows");
    let mut app = console_from(&broker.bootstrap, from, None);
    let total: u64 = want.iter().sum();
    pump_until(&mut app, "the windows read", Duration::from_secs(60), |a| {
        a.session().is_some_and(|s| s.label().contains("lag 0"))
            && a.model.stats.records_pushed >= total
    });
    // Nothing older turns up later.
    let settle = Instant::now() + Duration::from_secs(2);
    while Instant::now() < settle {
        app.pump(Duration::from_millis(20));
    }
    let stats = &app.model.stats.pipeline;
    let read = [
        instore::engine::Topic::CustomersLocations,
        instore::engine::Topic::StoresProducts,
        instore::engine::Topic::ProductsPromotions,
    ]
    .map(|t| stats.topic(t).records);
    assert_eq!(read, want, "pings, products, promotions (runs: {by_run:?})");
    assert!(stats.topic(instore::engine::Topic::NearbyCustomers).records > 0);
    // The source line says where reading started: 90 minutes back, the products' reach (the
    // console opened a moment after `now_ms`, maybe in the next minute).
    let label = app.session().map(|s| s.label()).unwrap_or_default();
    let since = |ms: i64| instore::engine::rfc3339::format_clock_ms(ms - 90 * 60_000);
    assert!(
        [since(now_ms), since(now_ms + 60_000)]
            .iter()
            .any(|s| label.contains(&format!("records since {}", &s[..5]))),
        "{label}"
    );

    // Records produced from now on are taken however old their time: late pings reach the
    // joins as they would on the pipeline's cluster, and nothing more is passed over.
    let passed_over = |a: &ConsoleApp| {
        a.session()
            .and_then(|s| s.kafka_status())
            .map(|s| s.passed_over)
    };
    let passed_before = passed_over(&app);
    let late = instore::engine::rfc3339::format_rfc3339_ms(now_ms - 100 * 60_000);
    simulate_minute_to(&broker.bootstrap, &["--start", &late]);
    let want_all = total + by_run[0].iter().sum::<u64>();
    pump_until(&mut app, "the late minute", Duration::from_secs(60), |a| {
        a.model.stats.records_pushed >= want_all
    });
    assert_eq!(app.model.stats.records_pushed, want_all);
    assert_eq!(passed_over(&app), passed_before);
}
