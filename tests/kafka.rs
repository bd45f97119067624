//! instore against a real Kafka-protocol broker (Tansu on 127.0.0.1), through the real binary.

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use instore::engine::PipelineParams;
use instore::io::dump::read_all;
use support::broker::Broker;

fn instore(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_instore"))
        .args(args)
        .output()
        .expect("run instore")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// What identifies a record's content: topic, key, timestamp, payload.
type Content = (String, Option<String>, Option<i64>, Option<String>);

/// Every record's content, counted.
fn multiset(path: &Path) -> BTreeMap<Content, usize> {
    let mut m = BTreeMap::new();
    for r in read_all(path).expect("read dump") {
        let k = (
            r.topic.into_owned(),
            r.key.map(|k| k.into_owned()),
            r.timestamp_ms,
            r.payload.map(|p| p.into_owned()),
        );
        *m.entry(k).or_insert(0) += 1;
    }
    m
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
        "--output",
        recorded.to_str().expect("path"),
    ]);
    assert!(out.status.success(), "{}\n{}", stderr(&out), broker.log());

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
    let outputs = dir.path().join("outputs.jsonl");
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
        "NEARBY_CUSTOMERS",
        "--output",
        outputs.to_str().expect("path"),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let produced = read_all(&outputs).expect("read outputs");
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
