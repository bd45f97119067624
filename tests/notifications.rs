//! Notifications are one stage for every way of running: the console's engine thread (live
//! and in replay) and `instore run --notifications` give the same notifications for the same
//! input, and the run writes them as PROMOTION_NOTIFICATIONS records.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use instore::engine::notify::{NotifyParams, NotifyRule};
use instore::engine::PipelineParams;
use instore::io::bus::bus;
use instore::io::dump::{into_owned, DumpLine, DumpReader};
use instore::io::live::{LiveEngine, LiveEvent, LiveSettings};
use instore::io::wake::Waker;
use support::{instore, stderr};

/// (time, uid, pid, matches) of each notification.
type Sent = Vec<(i64, String, String, u64)>;

/// The dump through the console's engine thread, as a replay feeds it.
fn through_the_console(dump: &Path, notify: &NotifyParams) -> Sent {
    let (producer, consumer) = bus(1_024);
    let settings = LiveSettings {
        params: PipelineParams::default(),
        notify: notify.clone(),
    };
    let engine = LiveEngine::start(consumer, settings, Waker::none()).expect("engine");
    let mut reader = DumpReader::open(dump).expect("dump");
    let feeder = std::thread::spawn(move || {
        while let Some(line) = reader.next_line().expect("read") {
            if let DumpLine::Record(r) = line {
                producer.forward(into_owned(r)).expect("bus");
            }
        }
    });
    let mut sent = Sent::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        assert!(Instant::now() < deadline, "the engine did not finish");
        let Ok(batch) = engine.events.recv_timeout(Duration::from_millis(100)) else {
            continue;
        };
        let mut closed = false;
        for event in batch {
            match event {
                LiveEvent::Notification(n) => sent.push((
                    n.timestamp_ms,
                    n.uid.to_string(),
                    n.pid.to_string(),
                    n.matches,
                )),
                LiveEvent::SourceClosed => closed = true,
                _ => {}
            }
        }
        if closed {
            break;
        }
    }
    feeder.join().expect("feeder");
    sent
}

/// The dump through `instore run --notifications`, from its output file.
fn through_instore_run(dump: &Path, rule: &str, dir: &Path) -> Sent {
    let out = dir.join(format!("{rule}.jsonl"));
    let run = instore(&[
        "run",
        "--input",
        dump.to_str().expect("path"),
        "--output",
        out.to_str().expect("path"),
        "--notifications",
        "--notify",
        rule,
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    let mut sent = Sent::new();
    let mut reader = DumpReader::open(&out).expect("output");
    while let Some(DumpLine::Record(r)) = reader.next_line().expect("read") {
        if &*r.topic != "PROMOTION_NOTIFICATIONS" {
            continue;
        }
        let v: serde_json::Value =
            serde_json::from_str(r.payload.as_deref().expect("payload")).expect("JSON");
        assert_eq!(r.key.as_deref(), v["UID"].as_str(), "keyed by UID");
        for field in [
            "PID",
            "SKU",
            "SEGMENT",
            "STORE",
            "DIST_TO_STORE",
            "MATCHES",
            "MESSAGE",
        ] {
            assert!(!v[field].is_null(), "{field} in {v}");
        }
        sent.push((
            r.timestamp_ms.expect("timestamp"),
            v["UID"].as_str().expect("uid").to_owned(),
            v["PID"].as_str().expect("pid").to_owned(),
            v["MATCHES"].as_u64().expect("matches"),
        ));
    }
    sent
}

#[test]
fn the_console_and_instore_run_give_the_same_notifications_under_every_rule() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dump = dir.path().join("store.jsonl");
    let made = instore(&[
        "simulate",
        "--duration",
        "20m",
        "--stores",
        "1",
        "--output",
        dump.to_str().expect("path"),
    ]);
    assert!(made.status.success());
    for rule in NotifyRule::ALL {
        let notify = NotifyParams {
            rule,
            ..NotifyParams::default()
        };
        let console = through_the_console(&dump, &notify);
        let run = through_instore_run(&dump, rule.name(), dir.path());
        assert!(!run.is_empty(), "{}: no notifications", rule.name());
        assert_eq!(console, run, "{}", rule.name());
    }
}

#[test]
fn the_summary_counts_notifications_and_what_was_held_back() {
    let out = instore(&[
        "run",
        "--input",
        support::data("../../assets/sample.jsonl")
            .to_str()
            .expect("path"),
        "--notifications",
        "--notify",
        "every",
        "--cap",
        "0",
    ]);
    assert!(out.status.success());
    let summary = stderr(&out);
    let line = summary
        .lines()
        .find(|l| l.trim_start().starts_with("PROMOTION_NOTIFICATIONS"))
        .expect("a notifications line");
    // `every` without a cap: each of the 1 123 matches notifies.
    assert!(
        line.contains(" 1123  rule every: from 1123 matches"),
        "{line}"
    );
}
