//! Notifications are one stage for every way of running: the console's engine thread (live
//! and in replay) and `instore run --notifications` give the same notifications for the same
//! input, and the run writes them as PROMOTION_NOTIFICATIONS records.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use instore::engine::notify::{NotifyParams, NotifyRule};
use instore::engine::PipelineParams;
use std::sync::Arc;

use instore::engine::RawRecord;
use instore::io::bus::{bus, BusConsumer};
use instore::io::dump::{read_all, DumpLine, DumpReader};
use instore::io::live::{LiveCheckpoint, LiveEngine, LiveEvent, LiveSettings, ReplayStart};
use instore::io::wake::Waker;
use proptest::prelude::*;
use support::{assert_golden, data, instore, stderr};

/// (time, uid, pid, matches) of each notification.
type Sent = Vec<(i64, String, String, u64)>;

/// What the console's engine thread gave for some records.
struct ThroughConsole {
    sent: Sent,
    checkpoints: Vec<Arc<LiveCheckpoint>>,
}

/// The dump through the console's live engine thread.
fn through_the_console(dump: &Path, notify: &NotifyParams) -> Sent {
    let records = read_all(dump).expect("dump");
    through_engine(records, |consumer| {
        LiveEngine::start(consumer, settings(notify), Waker::none())
    })
    .sent
}

fn settings(notify: &NotifyParams) -> LiveSettings {
    LiveSettings {
        params: PipelineParams::default(),
        notify: notify.clone(),
    }
}

/// `records` through an engine thread `start` makes, until the source closes.
fn through_engine(
    records: Vec<RawRecord<'static>>,
    start: impl FnOnce(BusConsumer) -> std::io::Result<LiveEngine>,
) -> ThroughConsole {
    let (producer, consumer) = bus(1_024);
    let engine = start(consumer).expect("engine");
    let feeder = std::thread::spawn(move || {
        for r in records {
            producer.forward(r).expect("bus");
        }
    });
    let mut out = ThroughConsole {
        sent: Sent::new(),
        checkpoints: Vec::new(),
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        assert!(Instant::now() < deadline, "the engine did not finish");
        let Ok(batch) = engine.events.recv_timeout(Duration::from_millis(100)) else {
            continue;
        };
        let mut closed = false;
        for event in batch {
            match event {
                LiveEvent::Notification(n) => out.sent.push((
                    n.timestamp_ms,
                    n.uid.to_string(),
                    n.pid.to_string(),
                    n.matches,
                )),
                LiveEvent::Checkpoint(c) => out.checkpoints.push(c),
                LiveEvent::SourceClosed => closed = true,
                _ => {}
            }
        }
        if closed {
            break;
        }
    }
    feeder.join().expect("feeder");
    out
}

/// The dump through `instore run --notifications`, from its output file.
fn through_instore_run(dump: &Path, notify: &NotifyParams, dir: &Path) -> Sent {
    let out = dir.join(format!("{}.jsonl", notify.rule.name()));
    let (cooldown, dwell) = (notify.cooldown_ms.to_string(), notify.dwell_ms.to_string());
    let (hysteresis, cap) = (
        notify.hysteresis_ft.to_string(),
        notify.cap_per_hour.to_string(),
    );
    let run = instore(&[
        "run",
        "--input",
        dump.to_str().expect("path"),
        "--output",
        out.to_str().expect("path"),
        "--notifications",
        "--notify",
        notify.rule.name(),
        "--cooldown",
        &cooldown,
        "--dwell",
        &dwell,
        "--hysteresis-ft",
        &hysteresis,
        "--cap",
        &cap,
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    let mut sent = Sent::new();
    let mut reader = DumpReader::open(&out).expect("output");
    while let Some(DumpLine::Record(r)) = reader.next_line().expect("read") {
        if &*r.topic != "PROMOTION_NOTIFICATIONS" {
            continue;
        }
        let v: serde_json::Value =
            serde_json::from_str(r.payload_text().as_deref().expect("payload")).expect("JSON");
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
        let run = through_instore_run(&dump, &notify, dir.path());
        assert!(!run.is_empty(), "{}: no notifications", rule.name());
        assert_eq!(console, run, "{}", rule.name());
    }
}

#[test]
fn the_summary_counts_notifications_and_what_was_held_back() {
    let sample = support::data("../../assets/sample.jsonl");
    let sample = sample.to_str().expect("path");
    let line_of = |flags: &[&str]| {
        let mut args = vec!["run", "--input", sample, "--notifications"];
        args.extend_from_slice(flags);
        let out = instore(&args);
        assert!(out.status.success());
        stderr(&out)
            .lines()
            .find(|l| l.trim_start().starts_with("PROMOTION_NOTIFICATIONS"))
            .expect("a notifications line")
            .to_owned()
    };
    // `every` without a cap: each of the 1 123 matches notifies.
    let every = line_of(&["--notify", "every", "--cap", "0"]);
    assert!(
        every.contains(" 1123  rule every: from 1123 matches, 1123 of them sent on;"),
        "{every}"
    );
    // Under the default rule most matches are held back, and every one is accounted for:
    // those sent on and those held back for each reason add up to the matches.
    let cooldown = line_of(&[]);
    let numbers: Vec<u64> = cooldown
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect();
    let [_, matches, sent_on, rule, cap, expired, unaddressed] = numbers[..] else {
        panic!("seven counts expected: {cooldown}");
    };
    assert_eq!(matches, 1123, "{cooldown}");
    assert!(rule > 0 && sent_on < matches, "{cooldown}");
    assert_eq!(
        sent_on + rule + cap + expired + unaddressed,
        matches,
        "{cooldown}"
    );
}

/// A hand-made dump for each clause a rule has: two places, one with four promotions of a
/// segment on two shelves (the cap and its tie-break, one notification per promotion at the
/// nearer shelf), one with a promotion ending at 08:20 and a shopper walking in and out past
/// the hysteresis margin; a ping without uid. Each rule's notifications are golden.
#[test]
fn the_rules_over_a_hand_made_dump_match_their_golden_notifications() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut summaries = Vec::new();
    for rule in NotifyRule::ALL {
        let out = dir.path().join(format!("{}.jsonl", rule.name()));
        let run = instore(&[
            "run",
            "--input",
            data("golden/notify.jsonl").to_str().expect("path"),
            "--output",
            out.to_str().expect("path"),
            "--notifications",
            "--notify",
            rule.name(),
        ]);
        assert!(run.status.success(), "{}", stderr(&run));
        let text = std::fs::read_to_string(&out).expect("output");
        let sent: String = text
            .lines()
            .filter(|l| l.contains("\"topic\":\"PROMOTION_NOTIFICATIONS\""))
            .map(|l| format!("{l}\n"))
            .collect();
        assert_golden(
            &sent,
            &data(&format!("golden/notify-{}.out.jsonl", rule.name())),
        );
        let summary = stderr(&run);
        let line = summary
            .lines()
            .find(|l| l.trim_start().starts_with("PROMOTION_NOTIFICATIONS"))
            .expect("a notifications line")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        summaries.push(line);
    }
    // What the golden files say, spelled out (38 matches; the uid-less ping's 8 reach no one;
    // a notification of a segment's promotion stands for its several shelves' records).
    let expected = [
        "6 rule every: from 38 matches, 6 of them sent on; held back by the rule 0, by the hourly cap 23, past valid_until 1, without uid or pid 8",
        "5 rule cooldown: from 38 matches, 8 of them sent on; held back by the rule 16, by the hourly cap 6, past valid_until 0, without uid or pid 8",
        "5 rule enter: from 38 matches, 8 of them sent on; held back by the rule 19, by the hourly cap 2, past valid_until 1, without uid or pid 8",
        "5 rule dwell: from 38 matches, 8 of them sent on; held back by the rule 20, by the hourly cap 2, past valid_until 0, without uid or pid 8",
    ];
    for (line, want) in summaries.iter().zip(expected) {
        assert!(line.ends_with(want), "{line}\nwanted {want}");
    }
    let pids = |rule: &str| -> Vec<(i64, String, u64)> {
        let text = std::fs::read_to_string(data(&format!("golden/notify-{rule}.out.jsonl")))
            .expect("golden");
        text.lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).expect("kcat line");
                let p: serde_json::Value =
                    serde_json::from_str(v["payload"].as_str().expect("payload")).expect("JSON");
                let at_s = (v["ts"].as_i64().expect("ts") - 1_764_144_000_000) / 1_000;
                let who = format!(
                    "{} {}",
                    p["UID"].as_str().expect("uid"),
                    p["PID"].as_str().expect("pid")
                );
                (at_s, who, p["MATCHES"].as_u64().expect("matches"))
            })
            .collect()
    };
    let sent = |list: &[(i64, &str, u64)]| -> Vec<(i64, String, u64)> {
        list.iter()
            .map(|(t, w, m)| (*t, (*w).to_owned(), *m))
            .collect()
    };
    // The cap keeps the three highest discounts, 20 % ties by pid; each stands for both shelves.
    // The walker comes back after the cooldown with four matches behind the notification.
    assert_eq!(
        pids("cooldown"),
        sent(&[
            (60, "cap-shopper p-30", 2),
            (60, "cap-shopper p-20a", 2),
            (60, "cap-shopper p-20b", 2),
            (130, "walker solo", 1),
            (900, "walker solo", 4),
        ])
    );
    // 106 ft (inside the 10 ft margin) and back is no new visit; 113 ft is: 220 s enters again.
    // Re-entering at 1 300 s, after valid_until, is held back.
    let enter = pids("enter");
    assert_eq!(
        &enter[3..],
        &sent(&[(130, "walker solo", 1), (220, "walker solo", 3)])[..]
    );
    // Dwell: 70 s inside at 130 s and 200 s; after leaving, 680 s inside at 900 s.
    let dwell = pids("dwell");
    assert_eq!(dwell[0].0, 130);
    assert_eq!(
        &dwell[3..],
        &sent(&[(200, "walker solo", 3), (900, "walker solo", 2)])[..]
    );
}

/// One shopper's ping in a generated dump: who, seconds after the previous ping (negative:
/// arriving late), and where, in 1e-5 degrees from the product they walk by.
type GenPing = (Option<u8>, i64, usize, (i64, i64));

/// A small dump: up to three products of two segments, up to four promotions (a pid may be
/// published twice; discounts tie; some end), and pings of a few shoppers (one without uid)
/// walking in and out of the geofences, some arriving late.
fn generated_dump(
    products: &[(bool, i64, i64)],
    promotions: &[(u8, bool, Option<u8>, Option<u8>)],
    pings: &[GenPing],
) -> String {
    const T0: i64 = 1_764_144_000_000;
    let (lat0, lon0) = (4_188_696i64, -8_759_927i64);
    let deg = |units: i64| units as f64 / 100_000.0;
    let mut lines = Vec::new();
    let mut line =
        |topic: &str, offset: usize, ts: i64, key: Option<&str>, payload: serde_json::Value| {
            lines.push(
                serde_json::json!({
                    "topic": topic, "partition": 0, "offset": offset, "tstype": "create", "ts": ts,
                    "broker": 1, "key": key, "payload": payload.to_string(),
                })
                .to_string(),
            );
        };
    let segment = |b: bool| if b { "A" } else { "B" };
    for (i, (seg, n, e)) in products.iter().enumerate() {
        let payload = serde_json::json!({
            "sku": i + 1, "segment": segment(*seg), "variant": "V",
            "latitude": deg(lat0 + n), "longitude": deg(lon0 + e), "country": "USA",
        });
        line("stores_products", i, T0, None, payload);
    }
    for (i, (pid, seg, discount, ends_min)) in promotions.iter().enumerate() {
        let mut payload = serde_json::json!({"pid": format!("p{pid}"), "segment": segment(*seg)});
        if let Some(d) = discount {
            payload["discount_pct"] = serde_json::json!(u64::from(*d) * 10);
        }
        if let Some(m) = ends_min {
            payload["valid_until"] = serde_json::json!(format!("2025-11-26T08:{m:02}:00Z"));
        }
        line(
            "products_promotions",
            i,
            T0 + 1_000 + i as i64,
            None,
            payload,
        );
    }
    let mut at = T0 + 30_000;
    for (i, (who, gap_s, product, (n, e))) in pings.iter().enumerate() {
        at += gap_s * 1_000;
        let (_, pn, pe) = products[product % products.len()];
        let uid = who.map(|w| format!("u{w}"));
        let mut payload = serde_json::json!({
            "latitude": deg(lat0 + pn + n), "longitude": deg(lon0 + pe + e), "country": "USA",
        });
        if let Some(uid) = &uid {
            payload["uid"] = serde_json::json!(uid);
        }
        line("customers_locations", i, at, uid.as_deref(), payload);
    }
    lines.join("\n") + "\n"
}

fn rule() -> impl Strategy<Value = NotifyRule> {
    prop::sample::select(NotifyRule::ALL.to_vec())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    /// The same input gives the same notifications in the console's live engine, in its
    /// replay (straight, and resumed from a checkpoint taken midway: the rules' state travels
    /// with it) and in `instore run --notifications`.
    #[test]
    fn console_replay_and_run_give_identical_notifications(
        rule in rule(),
        cap_per_hour in prop::sample::select(vec![0u32, 1, 3]),
        products in prop::collection::vec((any::<bool>(), -40i64..40, -40i64..40), 1..=3),
        promotions in prop::collection::vec(
            (0u8..3, any::<bool>(), prop::option::of(0u8..4), prop::option::of(5u8..40)),
            1..=4,
        ),
        pings in prop::collection::vec(
            (prop::option::weighted(0.9, 0u8..3), -20i64..45, 0usize..3, (-40i64..40, -40i64..40)),
            5..60,
        ),
    ) {
        let dir = tempfile::tempdir().expect("tempdir");
        let dump = dir.path().join("generated.jsonl");
        std::fs::write(&dump, generated_dump(&products, &promotions, &pings)).expect("write");
        let notify = NotifyParams { rule, cap_per_hour, dwell_ms: 30_000, ..NotifyParams::default() };
        let run = through_instore_run(&dump, &notify, dir.path());
        let live = through_the_console(&dump, &notify);
        prop_assert_eq!(&live, &run, "live console");
        let records = read_all(&dump).expect("dump");
        let straight = through_engine(records.clone(), |consumer| {
            let start = ReplayStart {
                checkpoint_every: 7,
                checkpoint_work: Duration::from_secs(3_600),
                ..ReplayStart::default()
            };
            LiveEngine::start_replay(consumer, settings(&notify), start, Waker::none())
        });
        prop_assert_eq!(&straight.sent, &run, "replay");
        let Some(midway) = straight.checkpoints.get(straight.checkpoints.len() / 2) else {
            return Ok(());
        };
        let at = midway.records_pushed as usize;
        let resumed = through_engine(records[at..].to_vec(), |consumer| {
            let start = ReplayStart {
                resume: Some(Arc::clone(midway)),
                ..ReplayStart::default()
            };
            LiveEngine::start_replay(consumer, settings(&notify), start, Waker::none())
        });
        // What the records before the checkpoint gave, then what the resumed replay gave.
        let before = dir.path().join("before.jsonl");
        let head: String = std::fs::read_to_string(&dump)
            .expect("dump")
            .lines()
            .take(at)
            .map(|l| format!("{l}\n"))
            .collect();
        std::fs::write(&before, head).expect("write");
        let mut joined = through_instore_run(&before, &notify, dir.path());
        joined.extend(resumed.sent);
        prop_assert_eq!(&joined, &run, "replay resumed at record {}", at);
    }
}
