//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod broker;
pub mod flink;
pub mod tools;

use std::path::{Path, PathBuf};

use instore::engine::{Output, Pipeline, PipelineParams};
use instore::io::dump::{DumpLine, DumpReader};

/// A file under `tests/data/`.
pub fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// One NEARBY_CUSTOMERS row as the parity files list it: UID, PID, SKU, output ts, and the
/// distance in hundredths of a foot.
#[derive(Clone, Debug, PartialEq, PartialOrd)]
pub struct NearbyRow {
    pub uid: String,
    pub pid: String,
    pub sku: String,
    pub ts_ms: i64,
    pub dist_ft: f64,
}

/// Runs a dump through the engine and returns every output with the final pipeline.
pub fn run_dump(path: &Path, params: PipelineParams) -> (Vec<Output>, Pipeline) {
    let mut reader = DumpReader::open(path).expect("open dump");
    let mut pipeline = Pipeline::new(params);
    let mut outputs = Vec::new();
    while let Some(line) = reader.next_line().expect("read dump") {
        match line {
            DumpLine::Record(r) => pipeline.push(&r, &mut outputs),
            DumpLine::Broken { line_number, text } => {
                pipeline.count_broken_line(line_number, &text)
            }
        }
    }
    (outputs, pipeline)
}

/// The NEARBY_CUSTOMERS rows of `outputs`, sorted.
pub fn nearby_rows(outputs: &[Output]) -> Vec<NearbyRow> {
    let mut rows: Vec<NearbyRow> = outputs
        .iter()
        .filter_map(|o| match o {
            Output::NearbyCustomer(n) => Some(NearbyRow {
                uid: n.customer.uid.as_deref().unwrap_or("").to_owned(),
                pid: n.valid.promotion.pid.as_deref().unwrap_or("").to_owned(),
                sku: n
                    .valid
                    .product
                    .sku
                    .map(|s| s.to_string())
                    .unwrap_or_default(),
                ts_ms: n.timestamp_ms,
                dist_ft: n.dist_to_store_ft,
            }),
            Output::ValidPromotion(_) => None,
        })
        .collect();
    sort_rows(&mut rows);
    rows
}

/// Reads an expected TSV (`UID PID SKU ts dist`).
pub fn expected_rows(path: &Path) -> Vec<NearbyRow> {
    let text = std::fs::read_to_string(path).expect("read expected rows");
    let mut rows: Vec<NearbyRow> = text
        .lines()
        .filter(|l| !l.is_empty())
        .map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            assert_eq!(f.len(), 5, "bad expected line {line:?}");
            NearbyRow {
                uid: f[0].to_owned(),
                pid: f[1].to_owned(),
                sku: f[2].to_owned(),
                ts_ms: f[3].parse().expect("ts"),
                dist_ft: f[4].parse().expect("dist"),
            }
        })
        .collect();
    sort_rows(&mut rows);
    rows
}

fn sort_rows(rows: &mut [NearbyRow]) {
    rows.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
}

/// Asserts two row multisets are equal, distances within `tolerance_ft`.
pub fn assert_same_rows(got: &[NearbyRow], expected: &[NearbyRow], tolerance_ft: f64) {
    let key = |r: &NearbyRow| (r.uid.clone(), r.pid.clone(), r.sku.clone(), r.ts_ms);
    let mut missing = Vec::new();
    let mut used = vec![false; got.len()];
    for e in expected {
        let found = got.iter().enumerate().position(|(i, g)| {
            !used[i] && key(g) == key(e) && (g.dist_ft - e.dist_ft).abs() <= tolerance_ft
        });
        match found {
            Some(i) => used[i] = true,
            None => missing.push(e),
        }
    }
    let extra: Vec<_> = got
        .iter()
        .zip(&used)
        .filter(|(_, u)| !**u)
        .map(|(g, _)| g)
        .collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{} expected rows missing (first: {:?}), {} unexpected rows (first: {:?})",
        missing.len(),
        missing.first(),
        extra.len(),
        extra.first()
    );
}

/// Compares `actual` with the golden file; `INSTORE_BLESS=1` rewrites the golden file.
pub fn assert_golden(actual: &str, golden: &Path) {
    if std::env::var_os("INSTORE_BLESS").is_some() {
        std::fs::write(golden, actual).expect("bless golden file");
        return;
    }
    let expected = std::fs::read_to_string(golden).expect("read golden file");
    assert!(
        actual == expected,
        "output differs from {}; rerun with INSTORE_BLESS=1 after checking the change",
        golden.display()
    );
}

/// Runs the real `instore` binary.
pub fn instore(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_instore"))
        .args(args)
        .output()
        .expect("run instore")
}

/// `instore export-sql --dialect flink --connector filesystem` over `dump` into `data_dir`,
/// `extra` flags added: the Flink script, and the dump as the files its tables read.
pub fn export_flink_files(data_dir: &Path, dump: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "export-sql",
        "--dialect",
        "flink",
        "--connector",
        "filesystem",
        "--data",
        data_dir.to_str().expect("utf-8 path"),
        "--input",
        dump.to_str().expect("utf-8 path"),
    ];
    args.extend_from_slice(extra);
    instore(&args)
}

/// Produces a simulated minute of one store to a broker (`instore simulate -b`), `extra`
/// flags added, and checks every record was acknowledged.
pub fn simulate_minute_to(bootstrap: &str, extra: &[&str]) {
    simulate_to(bootstrap, "1m", extra);
}

/// [`simulate_minute_to`] for `duration` of simulated time.
pub fn simulate_to(bootstrap: &str, duration: &str, extra: &[&str]) {
    let mut args = vec![
        "simulate",
        "-b",
        bootstrap,
        "--duration",
        duration,
        "--stores",
        "1",
    ];
    args.extend_from_slice(extra);
    let out = instore(&args);
    assert!(out.status.success(), "{}", stderr(&out));
}

/// `instore record` stops once 3 s pass without a record.
pub const UNTIL_IDLE: &[&str] = &["--idle", "3s", "--duration", "120s"];
/// `instore record` stops where the topics ended when it started.
pub const UNTIL_END: &[&str] = &["--until-end"];

/// What `topics` (comma-separated) hold, read from the start by `instore record` until `stop`
/// ([`UNTIL_IDLE`] or [`UNTIL_END`]), through a dump file in `dir`.
pub fn record_topics(
    bootstrap: &str,
    topics: &str,
    dir: &Path,
    stop: &[&str],
) -> Vec<instore::engine::RawRecord<'static>> {
    let dump = dir.join(format!("{}.jsonl", topics.replace(',', "+")));
    let mut args = vec!["record", "-b", bootstrap, "--from", "earliest"];
    args.extend_from_slice(stop);
    // The tests compare uids with what was produced.
    args.extend([
        "--raw-uids",
        "--topics",
        topics,
        "--output",
        dump.to_str().expect("utf-8 path"),
    ]);
    let out = instore(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    instore::io::dump::read_all(&dump).expect("read the recorded dump")
}

pub fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The first number after `name` on its summary line.
pub fn summary_count(summary: &str, name: &str) -> u64 {
    summary
        .lines()
        .find(|l| l.trim_start().starts_with(name))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no {name} line in {summary}"))
}

/// The console in a kittest harness, built the way eframe builds it: on the harness's own
/// context (so its workers wake that context), with `setup` run before the first frame.
/// Frames go through `App::logic` then `App::ui`, as in the window. Tests run offline: no
/// map tiles unless `options` or `setup` choose some.
pub fn console_harness(
    builder: egui_kittest::HarnessBuilder<instore::ui::ConsoleApp>,
    mut options: instore::ui::ConsoleOptions,
    setup: impl FnOnce(&mut instore::ui::ConsoleApp),
) -> egui_kittest::Harness<'static, instore::ui::ConsoleApp> {
    options
        .tiles
        .get_or_insert(instore::ui::map::tiles::TileChoice::None);
    builder.build_eframe(move |cc| {
        let mut app = instore::ui::ConsoleApp::new(options, None, &cc.egui_ctx);
        setup(&mut app);
        app
    })
}

/// Pumps the console (as frames would) until `done` holds; says what it saw when it gives up.
pub fn pump_until(
    app: &mut instore::ui::ConsoleApp,
    what: &str,
    limit: std::time::Duration,
    done: impl Fn(&instore::ui::ConsoleApp) -> bool,
) {
    let deadline = std::time::Instant::now() + limit;
    while std::time::Instant::now() < deadline {
        app.pump(std::time::Duration::from_millis(20));
        if done(app) {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    panic!(
        "gave up waiting for {what}: {:?}, event time {:?}, outbox {:?}",
        app.session().map(|s| s.label()),
        app.model.latest_event_ms,
        app.outbox
            .items
            .iter()
            .map(|i| &i.state)
            .collect::<Vec<_>>()
    );
}
