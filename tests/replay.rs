//! Dumps in the console: a full replay gives exactly what `instore run` gives on the same
//! files, and restarting or seeking re-runs the engine to the same counts.

mod support;

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use egui_kittest::kittest::Queryable as _;
use egui_kittest::Harness;
use instore::engine::{PipelineParams, Topic};
use instore::io::chain::Chain;
use instore::ui::{ConsoleApp, ConsoleOptions};
use support::console_harness;

fn simulator_dump(dir: &std::path::Path) -> PathBuf {
    let path = dir.join("store.jsonl.gz");
    let out = Command::new(env!("CARGO_BIN_EXE_instore"))
        .args([
            "simulate",
            "--duration",
            "10m",
            "--stores",
            "2",
            "--seed",
            "3",
            "--output",
        ])
        .arg(&path)
        .output()
        .expect("simulate");
    assert!(out.status.success());
    path
}

/// The console replaying `dumps` at `speed` (simulated seconds per second, or infinite).
fn replay_at(dumps: Vec<PathBuf>, speed: f64) -> Harness<'static, ConsoleApp> {
    let options = ConsoleOptions {
        dumps,
        ..ConsoleOptions::new(Chain::builtin().expect("chain"))
    };
    let builder = Harness::builder().with_size([1500.0, 950.0]);
    console_harness(builder, options, |app| app.settings.sim_speed = speed)
}

fn harness(dumps: Vec<PathBuf>) -> Harness<'static, ConsoleApp> {
    replay_at(dumps, f64::INFINITY)
}

fn run_until_done(h: &mut Harness<'_, ConsoleApp>) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !h.state().replay_done() {
        assert!(Instant::now() < deadline, "the replay did not finish");
        h.step();
        std::thread::sleep(Duration::from_millis(5));
    }
    // The last statistics arrive a moment after the last record.
    for _ in 0..60 {
        h.step();
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// (NEARBY_CUSTOMERS, VALID_PROMOTIONS, rejected, records per input topic).
fn counts_of_app(app: &ConsoleApp) -> (u64, u64, u64, Vec<u64>) {
    let s = &app.model.stats.pipeline;
    (
        s.topic(Topic::NearbyCustomers).records,
        s.topic(Topic::ValidPromotions).records,
        s.rejects.total(),
        Topic::INPUTS.iter().map(|t| s.topic(*t).records).collect(),
    )
}

#[test]
fn a_full_replay_equals_instore_run_and_seeking_back_re_runs_exactly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let files = vec![
        simulator_dump(dir.path()),
        support::data("../../assets/sample.jsonl"),
    ];

    // The reference: the engine over the same files, as `instore run --input a --input b`.
    let mut pipeline = instore::engine::Pipeline::new(PipelineParams::default());
    let mut outputs = Vec::new();
    for f in &files {
        let mut reader = instore::io::dump::DumpReader::open(f).expect("open");
        while let Some(line) = reader.next_line().expect("read") {
            match line {
                instore::io::dump::DumpLine::Record(r) => pipeline.push(&r, &mut outputs),
                instore::io::dump::DumpLine::Broken { line_number, text } => {
                    pipeline.count_broken_line(line_number, &text)
                }
            }
        }
    }
    let s = pipeline.stats();
    let want = (
        s.topic(Topic::NearbyCustomers).records,
        s.topic(Topic::ValidPromotions).records,
        s.rejects.total(),
        Topic::INPUTS
            .iter()
            .map(|t| s.topic(*t).records)
            .collect::<Vec<_>>(),
    );
    assert!(want.0 > 1_000 && want.2 > 0, "{want:?}");

    let mut h = harness(files);
    run_until_done(&mut h);
    assert_eq!(counts_of_app(h.state()), want);
    assert!(h.query_by_label_contains("Replay · 2 files").is_some());
    // The engine is still up (to seek or restart), but the status says the dump is over.
    assert!(h.query_by_label("END OF DUMP").is_some());
    assert!(h.query_by_label("RUNNING").is_none());

    // Restart from the timeline: the same again.
    h.get_by_label("Restart").click();
    h.step();
    run_until_done(&mut h);
    assert_eq!(counts_of_app(h.state()), want);

    // Seek to the middle: everything before it is re-run at once, then the rest plays.
    let (first, last) = {
        let app = h.state();
        let t = app.model.latest_event_ms.expect("event time");
        (t - 10 * 60_000, t)
    };
    h.state_mut().start_replay(Some((first + last) / 2));
    run_until_done(&mut h);
    assert_eq!(counts_of_app(h.state()), want);
}

/// Shoppers on the map (uid, last ping) and the feed (uid, pid, time).
type View = (Vec<(String, i64)>, Vec<(String, String, i64)>);

/// What the map and the feed show at the end: the shoppers still in the store (pinged in the
/// last `CUSTOMER_GONE_MS`; earlier ones leave the map when the display clock passes them, which
/// depends on frame timing) with their last ping, and the notification feed.
fn view_of_app(app: &ConsoleApp) -> View {
    let end = app.model.latest_event_ms.unwrap_or(i64::MIN);
    let mut customers: Vec<_> = app
        .model
        .customers
        .values()
        .map(|c| (c.uid.to_string(), c.last_ping_ms()))
        .filter(|(_, t)| *t >= end - instore::ui::model::CUSTOMER_GONE_MS)
        .collect();
    customers.sort();
    let feed = app
        .model
        .notifications
        .iter()
        .map(|n| (n.uid.to_string(), n.pid.to_string(), n.timestamp_ms))
        .collect();
    (customers, feed)
}

#[test]
fn a_seek_resumes_from_a_checkpoint_and_shows_what_a_run_from_the_start_shows() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bench.jsonl");
    let out = Command::new(env!("CARGO_BIN_EXE_instore"))
        .args(["simulate", "--profile", "bench", "--stores", "20"])
        .args(["--products", "400", "--promotions", "3", "--pings", "60000"])
        .arg("--output")
        .arg(&path)
        .output()
        .expect("simulate");
    assert!(out.status.success());
    let mut h = harness(vec![path]);
    run_until_done(&mut h);
    let want = counts_of_app(h.state());
    assert!(want.0 > 10_000, "{want:?}");
    let (first, last) = (
        h.state().replay_first_ms().expect("first"),
        h.state().model.latest_event_ms.expect("last"),
    );
    let target = first + (last - first) * 3 / 4;
    let want_view = view_of_app(h.state());
    assert!(!want_view.0.is_empty() && !want_view.1.is_empty());
    let resumes_at = h.state().checkpoint_for(target);
    assert!(
        resumes_at.is_some_and(|at| at >= 20_000),
        "the first play left no checkpoint before {target}: {resumes_at:?}"
    );
    h.state_mut().start_replay(Some(target));
    run_until_done(&mut h);
    assert_eq!(counts_of_app(h.state()), want);
    assert_eq!(view_of_app(h.state()), want_view);

    // The same seek without checkpoints re-runs from the start, to the same place.
    h.state_mut().forget_checkpoints();
    assert_eq!(h.state().checkpoint_for(target), None);
    h.state_mut().start_replay(Some(target));
    run_until_done(&mut h);
    assert_eq!(counts_of_app(h.state()), want);
    assert_eq!(view_of_app(h.state()), want_view);
}

#[test]
fn a_file_that_is_not_a_dump_says_so_and_nothing_crashes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, "shopping list\nmilk\n").expect("write");
    let mut h = harness(vec![notes]);
    let deadline = Instant::now() + Duration::from_secs(20);
    while h.query_by_label_contains("is not a dump").is_none() {
        assert!(Instant::now() < deadline, "no explanation shown");
        h.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(h.state().session().is_none());
}

#[test]
fn a_dump_truncated_during_its_replay_stops_it_and_the_top_bar_says_why() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Plain, so its pings are read again from the file as they are fed.
    let path = dir.path().join("store.jsonl");
    let out = Command::new(env!("CARGO_BIN_EXE_instore"))
        .args(["simulate", "--duration", "10m", "--stores", "2", "--output"])
        .arg(&path)
        .output()
        .expect("simulate");
    assert!(out.status.success());
    let mut h = replay_at(vec![path.clone()], 60.0);
    let deadline = Instant::now() + Duration::from_secs(30);
    while h.state().model.stats.records_pushed == 0 {
        assert!(Instant::now() < deadline, "the replay did not start");
        h.step();
        std::thread::sleep(Duration::from_millis(5));
    }
    std::fs::File::create(&path).expect("truncate the dump");
    while h.query_by_label_contains("replay stopped").is_none() {
        assert!(
            Instant::now() < deadline,
            "the top bar did not say the replay stopped"
        );
        assert!(
            !h.state().replay_done(),
            "the replay claimed to be complete"
        );
        h.step();
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(h
        .query_by_label_contains("changed since it was loaded")
        .is_some());
    assert!(h.query_by_label("STOPPED").is_some());
}

#[test]
fn pause_step_and_resume_on_the_timeline() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut h = replay_at(vec![simulator_dump(dir.path())], 1.0);
    let deadline = Instant::now() + Duration::from_secs(30);
    while h.state().model.stats.records_pushed == 0 {
        assert!(Instant::now() < deadline, "the replay did not start");
        h.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    h.get_by_label("Pause").click();
    h.run_steps(3);
    let paused = |h: &Harness<'_, ConsoleApp>| {
        h.state()
            .session()
            .and_then(|s| s.feed())
            .is_some_and(|f| f.is_paused())
    };
    assert!(paused(&h));
    let before = h.state().model.latest_event_ms.expect("event time");
    h.get_by_label("Step +10 s").click();
    let deadline = Instant::now() + Duration::from_secs(30);
    while h.state().model.latest_event_ms.unwrap_or(0) < before + 9_000 {
        assert!(Instant::now() < deadline, "the step did not arrive");
        h.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(paused(&h), "a step leaves the replay paused");
    let stepped = h.state().model.latest_event_ms.expect("event time");
    assert!(stepped <= before + 11_000, "{} ms", stepped - before);
    h.get_by_label("Resume").click();
    h.run_steps(3);
    assert!(!paused(&h));
}
