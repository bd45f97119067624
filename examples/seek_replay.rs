//! Measures going back on the replay timeline (BENCHMARKS.md, issue 6): the console re-runs a
//! dump from the start to a point, as a seek does, and this times it until the map is current.
//!
//! `cargo run --release --example seek_replay -- DUMP`

use std::path::PathBuf;
use std::time::{Duration, Instant};

use instore::io::chain::Chain;
use instore::ui::{ConsoleApp, ConsoleOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dump: PathBuf = std::env::args_os()
        .nth(1)
        .ok_or("usage: seek_replay DUMP")?
        .into();
    let options = ConsoleOptions {
        dumps: vec![dump],
        ..ConsoleOptions::new(Chain::builtin()?)
    };
    let mut app = ConsoleApp::new(options, None);
    app.settings.sim_speed = f64::INFINITY;
    let started = Instant::now();
    while !app.replay_done() {
        app.pump(Duration::from_millis(4));
    }
    println!(
        "first full run (load included): {:.2} s",
        started.elapsed().as_secs_f64()
    );
    let end = app.model.latest_event_ms.ok_or("no events")?;
    // Seek to 10 minutes before the end: everything before is re-run at once.
    let started = Instant::now();
    app.start_replay(Some(end - 600_000));
    while !app.replay_done() {
        app.pump(Duration::from_millis(4));
    }
    println!(
        "seek back and re-run {} records: {:.2} s ({} customers on the map)",
        app.model.stats.records_pushed,
        started.elapsed().as_secs_f64(),
        app.model.customers.len()
    );
    Ok(())
}
