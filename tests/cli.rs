//! The real `instore` binary: `run` over dumps (golden outputs), its summary and exit codes,
//! and `simulate`.

mod support;

use std::path::Path;
use std::process::{Command, Output};

use support::{assert_golden, data, instore, stderr, summary_count};

fn run_to_string(input: &Path, extra: &[&str]) -> (String, Output) {
    let dir = tempfile::tempdir().expect("tempdir");
    let out_path = dir.path().join("out.jsonl");
    let mut args = vec![
        "run",
        "--input",
        input.to_str().expect("utf-8 path"),
        "--output",
        out_path.to_str().expect("utf-8 path"),
    ];
    args.extend_from_slice(extra);
    let out = instore(&args);
    let text = std::fs::read_to_string(&out_path).unwrap_or_default();
    (text, out)
}

#[test]
fn run_over_the_edge_cases_matches_the_golden_output() {
    let (text, out) = run_to_string(&data("golden/edges.jsonl"), &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_golden(&text, &data("golden/edges.out.jsonl"));
    // What the golden file says, spelled out: one valid promotion, three customers nearby.
    let uids: Vec<String> = text
        .lines()
        .filter(|l| l.contains("\"topic\":\"NEARBY_CUSTOMERS\""))
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("kcat line");
            let payload: serde_json::Value =
                serde_json::from_str(v["payload"].as_str().expect("payload")).expect("payload");
            assert_eq!(v["key"], payload["UID"]);
            payload["UID"].as_str().expect("uid").to_owned()
        })
        .collect();
    assert_eq!(uids, ["in-98ft", "mixed-case", "nested-payload"]);
    let err = stderr(&out);
    assert!(err.contains("no timestamp"), "{err}");
    assert!(err.contains("broken dump line"), "{err}");
}

#[test]
fn strict_decimals_reject_the_six_digit_ping() {
    let (text, out) = run_to_string(&data("golden/edges.jsonl"), &["--decimals", "strict"]);
    assert!(out.status.success());
    assert!(!text.contains("mixed-case"));
    assert!(stderr(&out).contains("decimal scale > 5: LATITUDE"));
}

#[test]
fn run_over_the_parity_sample_matches_the_golden_output_and_reports_counts() {
    let (text, out) = run_to_string(&data("parity/sample-1.jsonl"), &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_golden(&text, &data("golden/sample-1.out.jsonl"));
    let nearby = text
        .lines()
        .filter(|l| l.contains("\"NEARBY_CUSTOMERS\""))
        .count();
    assert_eq!(nearby, 1123);
    let err = stderr(&out);
    assert!(err.contains("NEARBY_CUSTOMERS            1123"), "{err}");
    assert!(
        err.contains("wrong type: SKU is BIGINT, got string"),
        "{err}"
    );
    assert!(err.contains("records/s"), "{err}");
}

#[test]
fn gzip_input_gives_the_same_output() {
    use std::io::Write as _;
    let dir = tempfile::tempdir().expect("tempdir");
    let gz = dir.path().join("sample.jsonl.gz");
    let plain = std::fs::read(data("golden/edges.jsonl")).expect("read");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).expect("create"),
        flate2::Compression::default(),
    );
    enc.write_all(&plain).expect("write");
    enc.finish().expect("finish");
    let (from_gz, out) = run_to_string(&gz, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (from_plain, _) = run_to_string(&data("golden/edges.jsonl"), &[]);
    assert_eq!(from_gz, from_plain);
    // The same file cut short, as a recording killed mid-write leaves it: what is there is
    // read, and the summary says the file is cut short.
    let whole = std::fs::read(&gz).expect("read");
    std::fs::write(&gz, &whole[..whole.len() - 4]).expect("cut");
    let (from_cut, out) = run_to_string(&gz, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(from_cut, from_plain, "only the trailer was cut");
    assert!(
        stderr(&out).contains("sample.jsonl.gz is cut short: its gzip stream ends"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn stdin_to_stdout_like_a_kcat_pipe() {
    use std::io::Write as _;
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_instore"))
        .args(["run", "--input", "-", "--output", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn instore");
    let input = std::fs::read(data("golden/edges.jsonl")).expect("read");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&input)
        .expect("write stdin");
    let out = child.wait_with_output().expect("wait");
    assert!(out.status.success(), "{}", stderr(&out));
    let expected = std::fs::read(data("golden/edges.out.jsonl")).expect("read golden");
    assert_eq!(out.stdout, expected);
}

#[test]
fn an_unreadable_input_is_a_clear_error() {
    let out = instore(&["run", "--input", "/nonexistent/dump.jsonl"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("cannot open dump /nonexistent/dump.jsonl"),
        "{err}"
    );
}

/// `instore simulate -o - | head`: when the reader stops reading, the command ends quietly,
/// as other command-line tools do, instead of reporting a broken pipe.
#[test]
fn a_reader_that_stops_early_ends_the_command_quietly() {
    use std::io::Read as _;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_instore"))
        .args(["simulate", "--duration", "10m", "-o", "-"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start instore");
    let mut first = [0u8; 100];
    child
        .stdout
        .take()
        .expect("stdout")
        .read_exact(&mut first)
        .expect("the first records");
    // The reading end is closed here, as `head` closes it.
    let out = child.wait_with_output().expect("instore ends");
    assert!(first.starts_with(b"{\"topic\":"));
    assert!(out.status.success(), "{:?}", out.status);
    assert!(!stderr(&out).contains("error"), "{}", stderr(&out));
}

#[test]
fn bad_parameters_are_refused() {
    let out = instore(&["run", "--input", "x", "--radius-ft=-5"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("radius"), "{}", stderr(&out));
    let out = instore(&["run", "--input", "x", "--decimals", "loose"]);
    assert!(!out.status.success());
}

#[test]
fn parameters_change_the_result() {
    let (wide, _) = run_to_string(&data("golden/edges.jsonl"), &["--radius-ft", "150"]);
    assert!(wide.contains("out-102ft"));
    let (short, _) = run_to_string(&data("golden/edges.jsonl"), &["--customer-window", "29m"]);
    assert!(!short.contains("in-98ft"));
}

#[test]
fn simulate_is_deterministic_for_a_seed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = dir.path().join("a.jsonl");
    let b = dir.path().join("b.jsonl");
    for path in [&a, &b] {
        let out = instore(&[
            "simulate",
            "--profile",
            "bench",
            "--output",
            path.to_str().expect("path"),
            "--stores",
            "3",
            "--products",
            "60",
            "--pings",
            "500",
            "--seed",
            "9",
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let bytes = std::fs::read(&a).expect("read");
    assert_eq!(bytes, std::fs::read(&b).expect("read"));
    assert_eq!(bytes.iter().filter(|b| **b == b'\n').count(), 60 + 4 + 500);
    // And the engine reads every record it wrote.
    let out = instore(&["run", "--input", a.to_str().expect("path")]);
    assert!(out.status.success());
    assert!(
        !stderr(&out).contains("rejected by reason"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn the_store_simulator_makes_matches_and_every_record_decodes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dump = dir.path().join("store.jsonl.gz");
    let out = instore(&[
        "simulate",
        "--output",
        dump.to_str().expect("path"),
        "--duration",
        "10m",
        "--stores",
        "2",
        "--seed",
        "4",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    for policy in ["strict", "round"] {
        let out = instore(&[
            "run",
            "--input",
            dump.to_str().expect("path"),
            "--decimals",
            policy,
        ]);
        let summary = stderr(&out);
        assert!(out.status.success(), "{summary}");
        assert!(!summary.contains("rejected by reason"), "{summary}");
        assert!(summary.contains("products_promotions"), "{summary}");
        let nearby = summary_count(&summary, "NEARBY_CUSTOMERS");
        assert!(nearby > 1_000, "{summary}");
    }
}

#[test]
fn run_on_the_simulator_without_files_prints_the_summary() {
    let out = instore(&[
        "run",
        "--simulate",
        "--speed",
        "max",
        "--duration",
        "5m",
        "--stores",
        "1",
    ]);
    let summary = stderr(&out);
    assert!(out.status.success(), "{summary}");
    assert!(summary.contains("simulator Finished"), "{summary}");
    assert!(
        summary_count(&summary, "customers_locations") > 500,
        "{summary}"
    );
    assert!(summary_count(&summary, "NEARBY_CUSTOMERS") > 0, "{summary}");
    // --simulate and --input exclude each other.
    let out = instore(&["run", "--simulate", "--input", "x.jsonl"]);
    assert!(!out.status.success());
}

#[test]
fn the_ably_connector_config_keeps_the_key_secret_unless_asked() {
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_instore"))
            .arg("ably-connector")
            .args(args)
            .env("INSTORE_ABLY_KEY", "appid.keyid:not-for-logs")
            .output()
            .expect("run instore")
    };
    let out = run(&[]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let doc: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(doc["config"]["client.key"], "<YOUR_ABLY_API_KEY>");
    assert_eq!(doc["config"]["channel"], "customer:#{key}");
    assert_eq!(doc["config"]["topics"], "PROMOTION_NOTIFICATIONS");
    let everything = format!("{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(!everything.contains("not-for-logs"), "{everything}");

    let out = run(&["--format", "properties", "--topic", "NOTIFY"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("\ntopics=NOTIFY\n"), "{text}");
    assert!(text.contains("\nerrors.deadletterqueue.topic.name=NOTIFY_ABLY_DLQ\n"));
    assert!(!text.contains("not-for-logs"));

    let out = run(&["--show-key"]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(doc["config"]["client.key"], "appid.keyid:not-for-logs");
}

/// `--state-memory`: over the budget the run gives up the oldest state and says what it
/// cost and which grace would fit; on a dump in time order every output is still there.
#[test]
fn a_state_memory_budget_is_reported_with_the_grace_that_fits() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dump = dir.path().join("two-hours.jsonl");
    let out = instore(&[
        "simulate",
        "--output",
        dump.to_str().unwrap(),
        "--duration",
        "2h",
        "--stores",
        "1",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let run = |extra: &[&str]| {
        let mut args = vec!["run", "--input", dump.to_str().unwrap()];
        args.extend_from_slice(extra);
        let out = instore(&args);
        assert!(out.status.success(), "{}", stderr(&out));
        stderr(&out)
    };
    let free = run(&[]);
    let budgeted = run(&["--state-memory", "500KB"]);
    assert!(!free.contains("state memory"), "{free}");
    assert!(
        budgeted.contains("state memory: past the 500 KB budget")
            && budgeted.contains("older records are counted late"),
        "{budgeted}"
    );
    assert!(
        budgeted.contains("lower --customer-grace to")
            || budgeted.contains("larger --state-memory"),
        "{budgeted}"
    );
    assert_eq!(
        summary_count(&budgeted, "NEARBY_CUSTOMERS"),
        summary_count(&free, "NEARBY_CUSTOMERS")
    );
    assert!(
        summary_count(&free, "NEARBY_CUSTOMERS") > 0,
        "the dump has matches to keep"
    );
}
