//! The exported Flink SQL, run on a real Flink (PyFlink's MiniCluster), gives the rows
//! `instore run` gives on the same dumps: every column of VALID_PROMOTIONS and
//! NEARBY_CUSTOMERS, with the output timestamps.
//!
//! The one documented difference in semantics — a record behind the watermark still joins
//! in Flink where instore drops it as late — is kept out of each case, and each case checks
//! that instore counted no late record, so equality is the whole claim.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;
use support::{data, export_flink_files, flink, instore, stderr};

/// One output row: its columns but the distance, as comparable text, and the distance.
type Row = (String, f64);

struct Case {
    name: &'static str,
    dump: PathBuf,
    params: Vec<&'static str>,
    dir: PathBuf,
}

impl Case {
    fn script(&self) -> PathBuf {
        self.dir.join("pipeline.sql")
    }
}

/// A simulated store with promotions every few minutes and short windows, so that many
/// pairs sit at a window's edges and both sides of the radius.
fn simulator_dump(dir: &Path) -> PathBuf {
    let dump = dir.join("simulated.jsonl");
    let out = instore(&[
        "simulate",
        "--output",
        dump.to_str().expect("utf-8 path"),
        "--duration",
        "20m",
        "--stores",
        "2",
        "--customers",
        "8",
        "--promotion-interval",
        "3m",
        "--catalog-refresh",
        "5m",
        "--seed",
        "7",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    dump
}

#[test]
fn flink_runs_the_exported_pipeline_with_the_rows_instore_gives() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let simulated = simulator_dump(tmp.path());
    let tight = vec![
        "--promotion-window",
        "4m",
        "--customer-window",
        "90s",
        "--radius-ft",
        "60",
    ];
    let mut cases = vec![
        ("parity-round", data("parity/sample-1.jsonl"), vec![]),
        (
            "parity-strict",
            data("parity/sample-1.jsonl"),
            vec!["--decimals", "strict"],
        ),
        (
            "parity-shuffled",
            data("parity/sample-1-shuffled.jsonl"),
            vec![],
        ),
        ("edges", data("golden/edges.jsonl"), vec![]),
        ("simulated", simulated.clone(), tight.clone()),
    ];
    let mut by_sku = tight;
    by_sku.extend(["--match-key", "sku", "--promotion-grace", "10m"]);
    cases.push(("simulated-sku", simulated, by_sku));
    let cases: Vec<Case> = cases
        .into_iter()
        .map(|(name, dump, params)| Case {
            name,
            dump,
            params,
            dir: tmp.path().join(name),
        })
        .collect();

    let mut expected = Vec::new();
    for case in &cases {
        expected.push(instore_rows(case));
        export(case);
    }
    let scripts: Vec<PathBuf> = cases.iter().map(Case::script).collect();
    let script_refs: Vec<&Path> = scripts.iter().map(PathBuf::as_path).collect();
    flink::run_scripts(&script_refs);

    let mut failures = Vec::new();
    for (case, want) in cases.iter().zip(&expected) {
        for (topic, want_rows) in want {
            let got_rows = flink_rows(&case.dir.join("data"), topic);
            if let Err(why) = same_rows(&got_rows, want_rows) {
                failures.push(format!("{} {topic}: {why}", case.name));
            }
            assert!(
                !want_rows.is_empty(),
                "{}: instore gave no {topic}; the case tests nothing",
                case.name
            );
        }
    }
    assert!(
        failures.is_empty(),
        "Flink differs:\n{}",
        failures.join("\n")
    );
}

/// `instore export-sql` for the case: the script, and the dump as the tables' files.
fn export(case: &Case) {
    let script = case.script();
    let mut args = vec!["--output", script.to_str().expect("utf-8 path")];
    args.extend(case.params.iter().copied());
    let out = export_flink_files(&case.dir.join("data"), &case.dump, &args);
    assert!(out.status.success(), "{}: {}", case.name, stderr(&out));
}

/// `instore run`'s rows for the case, by output topic; checks that it counted nothing late.
fn instore_rows(case: &Case) -> BTreeMap<&'static str, Vec<Row>> {
    std::fs::create_dir_all(&case.dir).expect("case dir");
    let output = case.dir.join("instore.jsonl");
    let mut args = vec![
        "run",
        "--input",
        case.dump.to_str().expect("utf-8 path"),
        "--output",
        output.to_str().expect("utf-8 path"),
    ];
    args.extend(case.params.iter().copied());
    let out = instore(&args);
    let summary = stderr(&out);
    assert!(out.status.success(), "{}: {summary}", case.name);
    for line in summary.lines().filter(|l| l.starts_with("  ")) {
        let cols: Vec<&str> = line.split_whitespace().collect();
        let is_counts = cols.len() >= 3 && cols[1..].iter().all(|c| c.parse::<u64>().is_ok());
        assert!(
            !is_counts || cols.last() == Some(&"0"),
            "{}: instore counted late records, which Flink joins: {line}",
            case.name
        );
    }
    let mut rows: BTreeMap<&'static str, Vec<Row>> = BTreeMap::new();
    rows.insert("VALID_PROMOTIONS", Vec::new());
    rows.insert("NEARBY_CUSTOMERS", Vec::new());
    let text = std::fs::read_to_string(&output).expect("read instore's output");
    for line in text.lines() {
        let record: Value = serde_json::from_str(line).expect("kcat line");
        let topic = record["topic"].as_str().expect("topic");
        let ts_ms = record["ts"].as_i64().expect("ts");
        let payload: Value =
            serde_json::from_str(record["payload"].as_str().expect("payload")).expect("json");
        let key = rows
            .keys()
            .copied()
            .find(|t| *t == topic)
            .expect("output topic");
        rows.get_mut(key)
            .expect("topic")
            .push(row(topic, &payload, ts_ms));
    }
    rows
}

/// The rows Flink's filesystem sink wrote to `data_dir/topic`.
fn flink_rows(data_dir: &Path, topic: &str) -> Vec<Row> {
    let mut rows = Vec::new();
    let Ok(entries) = std::fs::read_dir(data_dir.join(topic)) else {
        return rows;
    };
    for entry in entries {
        let path = entry.expect("entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        assert!(
            !name.starts_with('.'),
            "Flink left an unfinished file: {}",
            path.display()
        );
        for line in std::fs::read_to_string(&path).expect("read").lines() {
            let value: Value = serde_json::from_str(line).expect("Flink's JSON line");
            let rowtime = value["ROWTIME"].as_str().expect("ROWTIME");
            let ts_ms = instore::engine::rfc3339::parse_rfc3339_ms(rowtime)
                .unwrap_or_else(|e| panic!("ROWTIME {rowtime}: {e}"));
            rows.push(row(topic, &value, ts_ms));
        }
    }
    rows
}

/// The columns both outputs share, in order; a missing column is NULL.
fn row(topic: &str, value: &Value, ts_ms: i64) -> Row {
    let columns: &[&str] = match topic {
        "VALID_PROMOTIONS" => &[
            "LATITUDE",
            "LONGITUDE",
            "COUNTRY",
            "SEGMENT",
            "PID",
            "SKU",
            "VARIANT",
            "DISCOUNT_PCT",
            "TITLE",
            "VALID_UNTIL",
        ],
        _ => &[
            "UID",
            "LATITUDE",
            "LONGITUDE",
            "COUNTRY",
            "PID",
            "SKU",
            "SEGMENT",
            "PRODUCT_LATITUDE",
            "PRODUCT_LONGITUDE",
            "DISCOUNT_PCT",
            "TITLE",
            "VALID_UNTIL",
        ],
    };
    let mut text = format!("ts={ts_ms}");
    for column in columns {
        let shown = match &value[column] {
            Value::Null => "NULL".to_owned(),
            Value::Number(n) => format!("{:?}", n.as_f64().expect("number")),
            Value::String(s) => format!("{s:?}"),
            other => other.to_string(),
        };
        text.push_str(&format!(" {column}={shown}"));
    }
    let dist = value["DIST_TO_STORE"].as_f64().unwrap_or(0.0);
    (text, dist)
}

/// Equal as multisets; distances may differ in the last bits (Java's and Rust's sin).
fn same_rows(got: &[Row], want: &[Row]) -> Result<(), String> {
    let sorted = |rows: &[Row]| {
        let mut rows = rows.to_vec();
        rows.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
        rows
    };
    let (got, want) = (sorted(got), sorted(want));
    if got.len() != want.len() {
        let only = |a: &[Row], b: &[Row]| {
            a.iter()
                .find(|r| !b.iter().any(|o| o.0 == r.0))
                .map(|r| r.0.clone())
                .unwrap_or_default()
        };
        return Err(format!(
            "{} rows, instore {}; e.g. only in Flink: {}; only in instore: {}",
            got.len(),
            want.len(),
            only(&got, &want),
            only(&want, &got)
        ));
    }
    for (g, w) in got.iter().zip(&want) {
        if g.0 != w.0 || (g.1 - w.1).abs() > 1e-9 * w.1.abs().max(1.0) {
            return Err(format!("Flink {g:?}\ninstore {w:?}"));
        }
    }
    Ok(())
}
