//! `instore export-sql`, the real binary: the scripts against golden files, what it refuses,
//! and the dumps it writes as Flink's input files. (tests/flink.rs runs the scripts on Flink.)

mod support;

use support::{assert_golden, data, export_flink_files, instore, stderr};

fn script(args: &[&str]) -> String {
    let mut all = vec!["export-sql"];
    all.extend_from_slice(args);
    let out = instore(&all);
    assert!(out.status.success(), "{}", stderr(&out));
    String::from_utf8(out.stdout).expect("utf-8 script")
}

#[test]
fn the_scripts_match_their_golden_files() {
    let cases: [(&str, &[&str]); 4] = [
        ("ksqldb.sql", &["--dialect", "ksqldb"]),
        (
            "ksqldb-strict-sku.sql",
            &[
                "--dialect",
                "ksqldb",
                "--decimals",
                "strict",
                "--match-key",
                "sku",
                "--radius-ft",
                "50",
                "--customer-window",
                "10m",
                "--customer-grace",
                "2m",
                "--topic",
                "customers_locations=customers-locations",
                "--topic",
                "products_promotions=products-promotions",
            ],
        ),
        (
            "flink-kafka.sql",
            &["--dialect", "flink", "-b", "kafka-1:9092"],
        ),
        (
            "flink-kafka-strict.sql",
            &[
                "--dialect",
                "flink",
                "--decimals",
                "strict",
                "--promotion-window",
                "90s",
            ],
        ),
    ];
    for (golden, args) in cases {
        assert_golden(&script(args), &data(&format!("golden/sql/{golden}")));
    }
}

#[test]
fn the_parameters_file_is_read_like_run_reads_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let params = dir.path().join("params.json");
    std::fs::write(
        &params,
        r#"{"radius_ft": 33, "customer_window_ms": 120000}"#,
    )
    .unwrap();
    let s = script(&["--dialect", "ksqldb", "--params", params.to_str().unwrap()]);
    assert!(s.contains("* 3281 <= 33\n"), "{s}");
    assert!(
        s.contains("WITHIN 2 MINUTES GRACE PERIOD 1436 MINUTES"),
        "{s}"
    );
}

#[test]
fn what_sql_cannot_say_fails_with_the_reason() {
    let cases: [(&[&str], i32, &str); 4] = [
        (
            &["--dialect", "flink", "--match-key", "sku_or_segment"],
            1,
            "--match-key segment or --match-key sku",
        ),
        (
            &[
                "--dialect",
                "ksqldb",
                "--connector",
                "filesystem",
                "--data",
                "/tmp/x",
            ],
            1,
            "ksqlDB reads only Kafka topics",
        ),
        (
            &["--dialect", "flink", "--connector", "filesystem"],
            1,
            "needs --data DIR",
        ),
        (
            &["--dialect", "flink", "--topic", "nope=x"],
            2,
            "unknown stream",
        ),
    ];
    for (args, code, reason) in cases {
        let mut all = vec!["export-sql"];
        all.extend_from_slice(args);
        let out = instore(&all);
        assert_eq!(out.status.code(), Some(code), "{args:?}");
        assert!(stderr(&out).contains(reason), "{args:?}: {}", stderr(&out));
        assert!(
            out.stdout.is_empty(),
            "{args:?}: no partial script on failure"
        );
    }
}

#[test]
fn dumps_become_one_file_per_input_topic_and_refused_records_are_counted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data_dir = dir.path().join("data");
    let dump = data("parity/sample-1.jsonl");
    let out = export_flink_files(&data_dir, &dump, &["--topic", "customers_locations=pings"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report = stderr(&out);
    let lines = |topic: &str| {
        std::fs::read_to_string(data_dir.join(topic).join("records.json"))
            .expect("records file")
            .lines()
            .count()
    };
    // The sample: 1092 records, six malformed (two a topic), the rest written.
    assert_eq!(lines("pings"), 1034);
    assert_eq!(lines("stores_products"), 44);
    assert_eq!(lines("products_promotions"), 8);
    assert!(
        report.contains("left out 1 customers_locations records: value is not JSON"),
        "{report}"
    );
    assert!(
        report.contains("left out 1 products_promotions records: wrong type: SKU is BIGINT"),
        "{report}"
    );
    let script = String::from_utf8(out.stdout).unwrap();
    let absolute = std::path::absolute(&data_dir).unwrap();
    assert!(
        script.contains(&format!("'path' = '{}/pings'", absolute.display())),
        "the script reads where the records were written"
    );
}
