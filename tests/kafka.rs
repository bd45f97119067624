//! instore against a real Kafka-protocol broker (Tansu on 127.0.0.1), through the real binary.

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use instore::engine::PipelineParams;
use instore::io::dump::read_all;
use support::broker::Broker;
use support::{
    instore, record_topics, simulate_minute_to, stderr, summary_count, UNTIL_END, UNTIL_IDLE,
};

/// What identifies a record's content: topic, key, timestamp, payload.
type Content = (String, Option<String>, Option<i64>, Option<String>);

/// Every record's content, counted.
fn multiset(path: &Path) -> BTreeMap<Content, usize> {
    let mut m = BTreeMap::new();
    for r in read_all(path).expect("read dump") {
        let k = (
            r.topic.to_string(),
            r.key.as_ref().map(|k| k.to_string()),
            r.timestamp_ms,
            r.payload_text().map(|p| p.into_owned()),
        );
        *m.entry(k).or_insert(0) += 1;
    }
    m
}

/// `instore run` over everything the topics hold, no outputs written, then exit.
fn read_everything_once(bootstrap: &str) -> std::process::Output {
    instore(&[
        "run",
        "-b",
        bootstrap,
        "--from",
        "earliest",
        "--until-end",
        "--no-produce",
    ])
}

/// `instore record --until-end` of `topics` (comma-separated): what they hold now.
fn record_until_end(bootstrap: &str, topics: &str) -> Vec<instore::io::bus::BusRecord> {
    let dir = tempfile::tempdir().expect("tempdir");
    record_topics(bootstrap, topics, dir.path(), UNTIL_END)
}

#[test]
fn simulate_to_kafka_then_record_gives_back_the_same_records_and_the_same_matches() {
    let broker = Broker::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let sim = ["--duration", "3m", "--stores", "1", "--seed", "5"];

    let mut produce = vec!["simulate", "-b", &broker.bootstrap, "--partitions", "2"];
    produce.extend(sim);
    let out = instore(&produce);
    assert!(out.status.success(), "{}\n{}", stderr(&out), broker.log());
    assert!(stderr(&out).contains("0 failed"), "{}", stderr(&out));

    let reference = dir.path().join("reference.jsonl");
    let mut write = vec!["simulate", "--output", reference.to_str().expect("path")];
    write.extend(sim);
    assert!(instore(&write).status.success());

    let recorded = dir.path().join("recorded.jsonl");
    let out = instore(&[
        "record",
        "-b",
        &broker.bootstrap,
        "--from",
        "earliest",
        "--idle",
        "3s",
        "--duration",
        "60s",
        "--topics",
        "customers_locations,stores_products,products_promotions",
        "--raw-uids",
        "--output",
        recorded.to_str().expect("path"),
    ]);
    assert!(out.status.success(), "{}\n{}", stderr(&out), broker.log());
    assert!(
        stderr(&out).contains("uids raw (--raw-uids)"),
        "{}",
        stderr(&out)
    );

    let (want, got) = (multiset(&reference), multiset(&recorded));
    assert!(want.values().sum::<usize>() > 500);
    assert_eq!(got.values().sum::<usize>(), want.values().sum::<usize>());
    assert!(
        got == want,
        "recorded records differ from what was produced"
    );

    // Partitions interleave the topics differently; the join does not care.
    let (want_out, _) = support::run_dump(&reference, PipelineParams::default());
    let (got_out, _) = support::run_dump(&recorded, PipelineParams::default());
    let (want_rows, got_rows) = (
        support::nearby_rows(&want_out),
        support::nearby_rows(&got_out),
    );
    assert!(!want_rows.is_empty());
    assert_eq!(got_rows, want_rows);
    recording_without_raw_uids_names_no_shopper(
        &broker.bootstrap,
        &reference,
        dir.path(),
        want_rows.len(),
    );

    // The engine as a service: reads the topics, writes its outputs back, acknowledged.
    let out = instore(&[
        "run",
        "-b",
        &broker.bootstrap,
        "--from",
        "earliest",
        "--idle",
        "3s",
        "--duration",
        "120s",
    ]);
    let summary = stderr(&out);
    assert!(out.status.success(), "{summary}\n{}", broker.log());
    assert!(summary.contains(" 0 failed"), "{summary}");
    let produced = record_topics(
        &broker.bootstrap,
        "NEARBY_CUSTOMERS",
        dir.path(),
        UNTIL_IDLE,
    );
    assert_eq!(
        produced.len(),
        want_rows.len(),
        "one NEARBY_CUSTOMERS record per match, once"
    );
    // Keyed by UID, stamped with the output timestamp.
    let mut stamps: Vec<(String, i64)> = produced
        .iter()
        .map(|r| {
            (
                r.key.as_deref().unwrap_or("").to_owned(),
                r.timestamp_ms.unwrap_or(-1),
            )
        })
        .collect();
    stamps.sort();
    let mut expected: Vec<(String, i64)> =
        want_rows.iter().map(|r| (r.uid.clone(), r.ts_ms)).collect();
    expected.sort();
    assert_eq!(stamps, expected);
}

#[test]
fn a_broker_that_is_not_there_is_a_clear_error() {
    let out = instore(&[
        "simulate",
        "-b",
        "127.0.0.1:1",
        "--duration",
        "1m",
        "-X",
        "socket.timeout.ms=2000",
    ]);
    assert!(!out.status.success());
    let text = stderr(&out);
    assert!(text.contains("instore: error"), "{text}");
}

#[test]
fn two_instances_in_a_group_share_the_pings_and_write_each_output_once() {
    let broker = Broker::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let sim = ["--duration", "3m", "--stores", "2", "--seed", "8"];
    let reference = dir.path().join("reference.jsonl");
    let mut write = vec!["simulate", "--output", reference.to_str().expect("path")];
    write.extend(sim);
    assert!(instore(&write).status.success());
    let (want_out, _) = support::run_dump(&reference, PipelineParams::default());
    let want_rows = support::nearby_rows(&want_out);
    let want_valid = want_out
        .iter()
        .filter(|o| o.topic() == instore::engine::Topic::ValidPromotions)
        .count();

    // Topics first (two partitions), then both members join, then the data arrives.
    let mut create = vec![
        "simulate",
        "-b",
        &broker.bootstrap,
        "--partitions",
        "2",
        "--duration",
        "0s",
    ];
    create.extend(["--stores", "1"]);
    assert!(instore(&create).status.success());
    let member = || {
        Command::new(env!("CARGO_BIN_EXE_instore"))
            .args([
                "run",
                "-b",
                &broker.bootstrap,
                "--group",
                "instore-test",
                "--from",
                "earliest",
            ])
            .args(["--idle", "30s", "--duration", "120s"])
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start member")
    };
    let (a, b) = (member(), member());
    // The group settles before the data comes: a partition that moves after it came is read
    // again by its new holder, and the new writer of VALID_PROMOTIONS writes the ones it holds
    // again (at least once, with the same ids), where this test counts each output once. On a
    // loaded machine the first rebalance took longer than 6 s.
    std::thread::sleep(std::time::Duration::from_secs(15));
    let mut produce = vec!["simulate", "-b", &broker.bootstrap];
    produce.extend(sim);
    let out = instore(&produce);
    assert!(out.status.success(), "{}", stderr(&out));
    let (a, b) = (
        a.wait_with_output().expect("a"),
        b.wait_with_output().expect("b"),
    );
    let (sa, sb) = (stderr(&a), stderr(&b));
    assert!(a.status.success() && b.status.success(), "{sa}\n{sb}");
    let pings = |s: &str| summary_count(s, "customers_locations");
    assert!(
        pings(&sa) > 0 && pings(&sb) > 0,
        "both members got partitions:\n{sa}\n{sb}"
    );

    let produced = record_topics(
        &broker.bootstrap,
        "NEARBY_CUSTOMERS,VALID_PROMOTIONS",
        dir.path(),
        UNTIL_IDLE,
    );
    let nearby: Vec<(String, i64)> = {
        let mut v: Vec<(String, i64)> = produced
            .iter()
            .filter(|r| r.topic == "NEARBY_CUSTOMERS")
            .map(|r| {
                (
                    r.key.as_deref().unwrap_or("").to_owned(),
                    r.timestamp_ms.unwrap_or(-1),
                )
            })
            .collect();
        v.sort();
        v
    };
    let mut expected: Vec<(String, i64)> =
        want_rows.iter().map(|r| (r.uid.clone(), r.ts_ms)).collect();
    expected.sort();
    assert_eq!(
        nearby, expected,
        "the union of both members' NEARBY_CUSTOMERS is one instance's"
    );
    let valid = produced
        .iter()
        .filter(|r| r.topic == "VALID_PROMOTIONS")
        .count();
    assert_eq!(
        valid, want_valid,
        "VALID_PROMOTIONS written once, by the holder of partition 0"
    );
}

#[test]
fn kafka_check_reports_topics_and_rejects_go_to_the_dead_letter_topic_with_their_reason() {
    use instore::io::kafka::config::KafkaConfig;
    use instore::io::kafka::producer::KafkaProducer;
    let broker = Broker::start();
    let out = instore(&["kafka-check", "-b", &broker.bootstrap]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{text}{}", stderr(&out));
    assert!(
        text.contains("customers_locations") && text.contains("missing"),
        "{text}"
    );
    let out = instore(&[
        "kafka-check",
        "-b",
        &broker.bootstrap,
        "--create",
        "--partitions",
        "3",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = instore(&["kafka-check", "-b", &broker.bootstrap]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        text.contains("3 partitions") && !text.contains("missing"),
        "{text}"
    );

    let config = KafkaConfig::resolve(None, Some(&broker.bootstrap), &[]).expect("config");
    let mut producer = KafkaProducer::new(&config).expect("producer");
    let t0 = 1_764_147_600_000;
    producer
        .send("customers_locations", Some("u1"), Some("not json"), t0)
        .expect("send");
    producer
        .send(
            "customers_locations",
            Some("u2"),
            Some(r#"{"uid": "u2", "latitude": 41.88, "longitude": -87.62, "country": "USA"}"#),
            t0,
        )
        .expect("send");
    producer
        .flush(std::time::Duration::from_secs(10))
        .expect("flush");
    assert_eq!(producer.delivered(), 2);

    let out = instore(&[
        "run",
        "-b",
        &broker.bootstrap,
        "--from",
        "earliest",
        "--idle",
        "3s",
        "--duration",
        "60s",
        "--dead-letter",
        "instore.rejected",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let dlq = tempfile::tempdir().expect("tempdir");
    let records = record_topics(
        &broker.bootstrap,
        "instore.rejected",
        dlq.path(),
        UNTIL_IDLE,
    );
    assert_eq!(records.len(), 1, "only the bad record");
    let r = &records[0];
    assert_eq!(r.payload_text().as_deref(), Some("not json"));
    assert_eq!(r.key.as_deref(), Some("u1"));
    let header = |k: &str| {
        r.headers
            .iter()
            .find(|(n, _)| n == k)
            .and_then(|(_, v)| v.clone())
    };
    assert_eq!(
        header("instore.reason").as_deref(),
        Some("value is not JSON")
    );
    assert_eq!(
        header("instore.topic").as_deref(),
        Some("customers_locations")
    );
}

#[test]
fn run_as_a_service_stops_cleanly_on_sigterm_with_its_summary() {
    let broker = Broker::start();
    simulate_minute_to(&broker.bootstrap, &[]);
    let child = Command::new(env!("CARGO_BIN_EXE_instore"))
        .args(["run", "-b", &broker.bootstrap, "--from", "earliest"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start the service");
    std::thread::sleep(std::time::Duration::from_secs(4));
    // SAFETY: a signal to our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let started = std::time::Instant::now();
    let out = child.wait_with_output().expect("wait");
    let text = stderr(&out);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("outputs flushed") && text.contains("output topic"),
        "{text}"
    );
    assert!(summary_count(&text, "customers_locations") > 0, "{text}");
}

#[test]
fn until_end_reads_what_the_topics_hold_and_exits_by_itself() {
    let broker = Broker::start();
    // One record per batch: Tansu 0.6 reports a partition's end as its last batch's first
    // offset, so against it a run misses at most that one record per partition.
    let out = instore(&[
        "simulate",
        "-b",
        &broker.bootstrap,
        "--profile",
        "bench",
        "--stores",
        "4",
        "--products",
        "40",
        "--promotions",
        "2",
        "--pings",
        "300",
        "-X",
        "batch.num.messages=1",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let produced = 40 + 2 + 300;
    let (tolerated_low, high) = (produced - 3, produced);

    let out = read_everything_once(&broker.bootstrap);
    let text = stderr(&out);
    assert!(out.status.success(), "{text}");
    let read = [
        "customers_locations",
        "stores_products",
        "products_promotions",
    ]
    .map(|t| summary_count(&text, t))
    .iter()
    .sum::<u64>();
    assert!((tolerated_low..=high).contains(&read), "{read}\n{text}");

    let topics = "customers_locations,stores_products,products_promotions";
    let recorded = record_until_end(&broker.bootstrap, topics).len() as u64;
    assert!((tolerated_low..=high).contains(&recorded), "{recorded}");

    // Started at the end, there is nothing to read: it exits at once.
    let out = instore(&[
        "run",
        "-b",
        &broker.bootstrap,
        "--until-end",
        "--no-produce",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(summary_count(&stderr(&out), "customers_locations"), 0);
}

/// The broker goes away and a new one comes up on the same address (Tansu keeps topics in
/// memory, so they come back recreated, here shorter): the service logs the outage, takes a
/// fresh client, says the topics were recreated, reads them from their start, and still
/// stops cleanly with its summary.
#[test]
fn run_as_a_service_survives_the_broker_going_away_and_coming_back() {
    let port = support::broker::free_port();
    let broker = Broker::start_on(port);
    simulate_minute_to(&broker.bootstrap, &[]);
    let first_batch = {
        let out = read_everything_once(&broker.bootstrap);
        summary_count(&stderr(&out), "customers_locations")
    };
    let child = Command::new(env!("CARGO_BIN_EXE_instore"))
        .args([
            "run",
            "-b",
            &broker.bootstrap,
            "--from",
            "earliest",
            "--no-produce",
        ])
        .env("RUST_LOG", "info")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start the service");
    std::thread::sleep(std::time::Duration::from_secs(4));
    drop(broker);
    std::thread::sleep(std::time::Duration::from_secs(4));
    let broker = Broker::start_on(port);
    let created = instore(&["kafka-check", "-b", &broker.bootstrap, "--create"]);
    assert!(created.status.success(), "{}", stderr(&created));
    // Fewer records than the old topics held: the recreated partitions end before where the
    // service had read to, which it must notice and say.
    support::simulate_to(&broker.bootstrap, "20s", &[]);
    std::thread::sleep(std::time::Duration::from_secs(8));
    // SAFETY: a signal to our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let out = child.wait_with_output().expect("wait");
    let text = stderr(&out);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("every broker is away"), "{text}");
    assert!(text.contains("the cluster is back"), "{text}");
    assert!(
        text.contains("customers_locations[0] now ends at offset")
            && text.contains("the topic was recreated; reading it from its start"),
        "the service says what became of its position: {text}"
    );
    let read = summary_count(&text, "customers_locations");
    assert!(
        read > first_batch,
        "{read} after the comeback vs {first_batch} before\n{text}"
    );
}

/// `instore run -b --notifications` writes PROMOTION_NOTIFICATIONS back, keyed by uid, as many
/// as its summary counts, each one acknowledged.
#[test]
fn run_on_kafka_writes_the_notifications_back() {
    let broker = Broker::start();
    support::simulate_minute_to(&broker.bootstrap, &[]);
    let out = instore(&[
        "run",
        "-b",
        &broker.bootstrap,
        "--from",
        "earliest",
        "--until-end",
        "--notifications",
    ]);
    let text = stderr(&out);
    assert!(out.status.success(), "{text}");
    assert!(text.contains(", 0 failed"), "{text}");
    let sent = summary_count(&text, "PROMOTION_NOTIFICATIONS");
    assert!(sent > 0, "{text}");

    let records = record_until_end(&broker.bootstrap, "PROMOTION_NOTIFICATIONS");
    assert!(!records.is_empty(), "nothing in PROMOTION_NOTIFICATIONS");
    // Tansu's end marker leaves out at most the last batch.
    assert!(
        records.len() as u64 <= sent && records.len() as u64 + 100 >= sent,
        "{} recorded of {sent}",
        records.len()
    );
    for r in &records {
        let v: serde_json::Value =
            serde_json::from_str(r.payload_text().as_deref().expect("payload")).expect("JSON");
        assert_eq!(r.key.as_deref(), v["UID"].as_str());
        assert!(v["MESSAGE"]
            .as_str()
            .is_some_and(|m| m.contains(" ft away")));
    }
}

/// By default `instore record` writes each uid as this installation's pseudonym: no uid of
/// the produced records is in the dump, one shopper is one pseudonym (the join finds the same
/// matches), and the key is made private in the config folder, never in the dump.
fn recording_without_raw_uids_names_no_shopper(
    bootstrap: &str,
    reference: &Path,
    dir: &Path,
    nearby_rows: usize,
) {
    let anon = dir.join("pseudonymized.jsonl");
    let (config, data) = (dir.join("config"), dir.join("data"));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_instore"))
        .args([
            "record",
            "-b",
            bootstrap,
            "--from",
            "earliest",
            "--idle",
            "3s",
            "--duration",
            "60s",
        ])
        .args([
            "--topics",
            "customers_locations,stores_products,products_promotions",
        ])
        .args(["--output", anon.to_str().expect("path")])
        .env("XDG_CONFIG_HOME", &config)
        .env("XDG_DATA_HOME", &data)
        .output()
        .expect("record");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("pseudonymized"), "{}", stderr(&out));
    let text = std::fs::read_to_string(&anon).expect("dump");
    let records = instore::io::dump::read_all(reference).expect("reference");
    let uids: std::collections::BTreeSet<String> = records
        .iter()
        .filter(|r| r.topic == "customers_locations")
        .filter_map(|r| r.key.as_deref().map(str::to_owned))
        .collect();
    assert!(uids.len() > 5);
    for uid in &uids {
        assert!(
            !text.contains(uid.as_str()),
            "{uid} is in the pseudonymized recording"
        );
    }
    let recorded = instore::io::dump::read_all(&anon).expect("recorded");
    assert_eq!(recorded.len(), records.len());
    let pseudonyms: std::collections::BTreeSet<String> = recorded
        .iter()
        .filter(|r| r.topic == "customers_locations")
        .filter_map(|r| r.key.as_deref().map(str::to_owned))
        .collect();
    assert_eq!(pseudonyms.len(), uids.len());
    assert!(pseudonyms.iter().all(|p| p.starts_with("anon-")));
    let (outputs, _) = support::run_dump(&anon, PipelineParams::default());
    assert_eq!(support::nearby_rows(&outputs).len(), nearby_rows);
    use std::os::unix::fs::PermissionsExt as _;
    let key = config.join("instore/pseudonym.key");
    let mode = std::fs::metadata(&key)
        .expect("key made")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let key_bytes = std::fs::read(&key).expect("key");
    let key_hex: String = key_bytes.iter().map(|b| format!("{b:02x}")).collect();
    assert!(!text.contains(&key_hex));
    let note = std::fs::read_to_string(instore::io::recordings::note_path(&anon)).expect("note");
    assert!(note.contains("\"uids\": \"pseudonymized\""), "{note}");
    let listed = std::fs::read_to_string(data.join("instore/recordings.txt")).expect("listed");
    assert!(listed.contains("pseudonymized.jsonl"));
}
