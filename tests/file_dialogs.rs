//! The console's file dialogs run off the UI thread. A stand-in `zenity` (rfd's fallback when
//! no desktop portal answers, as on CI) holds the dialog open until the test releases it: the
//! console keeps taking records meanwhile, then opens the dump the "operator" picked; then
//! the pipeline is exported as SQL to the file picked next. Its own test binary because it
//! changes PATH; no real dialog is ever shown.

mod support;

use std::os::unix::fs::PermissionsExt as _;
use std::time::Duration;

use egui_kittest::kittest::Queryable as _;
use egui_kittest::Harness;
use instore::engine::{RawRecord, Topic};
use instore::io::chain::Chain;
use instore::ui::{ConsoleApp, ConsoleOptions};
use support::console_harness;

/// Answers with the path in the file $INSTORE_TEST_ANSWER once $INSTORE_TEST_RELEASE exists
/// (a file, so the test changes the answer without touching the environment); gives up (as
/// a cancelled dialog) after ten seconds.
const FAKE_ZENITY: &str = r#"#!/bin/sh
i=0
while [ $i -lt 200 ]; do
  if [ -e "$INSTORE_TEST_RELEASE" ]; then
    cat "$INSTORE_TEST_ANSWER"
    exit 0
  fi
  sleep 0.05
  i=$((i + 1))
done
exit 1
"#;

fn step_until(h: &mut Harness<'_, ConsoleApp>, what: &str, done: impl Fn(&ConsoleApp) -> bool) {
    for _ in 0..2_000 {
        h.step();
        if done(h.state()) {
            return;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    panic!("gave up waiting for {what}");
}

#[test]
fn dialogs_ask_off_the_ui_thread_open_the_picked_dump_and_export_sql() {
    let dir = tempfile::tempdir().expect("tempdir");
    let zenity = dir.path().join("zenity");
    std::fs::write(&zenity, FAKE_ZENITY).expect("write zenity");
    std::fs::set_permissions(&zenity, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let dump = dir.path().join("picked.jsonl");
    std::fs::write(&dump, include_str!("data/parity/sample-1.jsonl")).expect("dump");
    let release = dir.path().join("release");
    let answer = dir.path().join("answer");
    std::fs::write(&answer, format!("{}\n", dump.display())).expect("answer");
    let path = format!(
        "{}:{}",
        dir.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // SAFETY (set_var): this binary has this one test and sets these before any thread of
    // its own starts.
    std::env::set_var("PATH", path);
    std::env::set_var("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus");
    std::env::set_var("INSTORE_TEST_RELEASE", &release);
    std::env::set_var("INSTORE_TEST_ANSWER", &answer);

    let options = ConsoleOptions::new(Chain::builtin().expect("chain"));
    let builder = Harness::builder().with_size([1500.0, 950.0]);
    let mut h = console_harness(builder, options, ConsoleApp::start_bus_only);
    h.run_steps(2);
    h.get_by_label("Open dump…").click();
    // Were the dialog on the UI thread, this step would last until the stand-in gave up and
    // no dialog would be open after it.
    h.run_steps(3);
    assert!(h.state().file_dialog_open());

    // The console goes on taking records while the dialog is open.
    let ping = RawRecord {
        timestamp_ms: Some(1_764_147_600_000),
        payload: Some(
            r#"{"uid": "u1", "latitude": 41.88, "longitude": -87.62, "country": "USA"}"#
                .to_owned()
                .into(),
        ),
        ..RawRecord::default()
    };
    h.state()
        .session()
        .expect("bus session")
        .producer()
        .publish(Topic::CustomersLocations, ping)
        .expect("bus open");
    step_until(&mut h, "the ping to be drawn", |a| {
        a.model.customers.len() == 1
    });
    assert!(
        h.state().file_dialog_open(),
        "still waiting for the operator"
    );

    // A second dialog waits for the first, and says so.
    h.get_by_label("Open dump…").click();
    h.run_steps(2);
    let busy = "a file dialog is already open: answer it first";
    assert!(h.query_by_label(busy).is_some());

    std::fs::write(&release, "").expect("release");
    step_until(&mut h, "the picked dump to open", |a| {
        a.session()
            .is_some_and(|s| s.label().starts_with("Replay · 1 file"))
    });
    assert!(!h.state().file_dialog_open());
    h.run_steps(2);
    assert!(
        h.query_by_label(busy).is_none(),
        "the notice goes with the dialog"
    );

    // Export as SQL: the console's parameters as a ksqlDB script, at the path picked.
    let script = dir.path().join("pipeline.ksql");
    std::fs::write(&answer, format!("{}\n", script.display())).expect("answer");
    h.get_by_label("Export as SQL…").click();
    h.run_steps(2);
    h.get_by_label("ksqlDB statements…").click();
    step_until(&mut h, "the script to be written", |_| script.is_file());
    h.run_steps(2);
    let written = format!("ksqlDB script written to {}", script.display());
    assert!(h.query_by_label(&written).is_some(), "the panel says where");
    let text = std::fs::read_to_string(&script).expect("script");
    assert!(text.contains("CREATE STREAM NEARBY_CUSTOMERS"), "{text}");
    assert!(
        text.contains("'KM') * 3281 <= 100\n"),
        "the console's radius: {text}"
    );
}
