//! Measures going back and forth on the replay timeline (BENCHMARKS.md, issue 6): the console
//! (without drawing) plays a dump through once at full speed, as the first play of a dump
//! does, then seeks to several times; each seek is timed until the map is current at the
//! target (every record before it taken by the engine and drawn into the model), with the
//! replay then playing on at 1×.
//!
//! `cargo run --release --example seek_replay -- DUMP` (`SEEK_FROM_START=1`: without
//! checkpoints, every seek re-runs the dump from its start, for comparison)

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
    let mut app = ConsoleApp::new(options, None, &egui::Context::default());
    app.settings.sim_speed = f64::INFINITY;
    let started = Instant::now();
    while !app.replay_done() {
        app.pump(Duration::from_millis(4));
    }
    println!(
        "first play at full speed (load included): {:.2} s, {} records",
        started.elapsed().as_secs_f64(),
        app.model.stats.records_pushed
    );
    if let Some(c) = app.checkpoints() {
        println!(
            "checkpoints: {} every {} records, ~{} MB",
            c.len(),
            c.every(),
            c.estimated_bytes() >> 20
        );
        for cp in c.iter() {
            let (engine, model) = cp.estimated_bytes_parts();
            println!(
                "  at {}: engine ~{} MB, model ~{} MB",
                cp.position(),
                engine >> 20,
                model >> 20
            );
        }
    }
    let first = app.replay_first_ms().ok_or("no events")?;
    let last = app.model.latest_event_ms.ok_or("no events")?;
    app.settings.sim_speed = 1.0;
    let span = last - first;

    let targets = [
        ("10 min before the end", last - 600_000),
        ("the middle", first + span / 2),
        ("a minute in", first + 60_000),
        ("3/4 (forward again)", first + span * 3 / 4),
        ("the middle again", first + span / 2),
    ];
    for (what, target) in targets {
        if std::env::var_os("SEEK_FROM_START").is_some() {
            app.forget_checkpoints();
        }
        let (before, last_before) = app.replay_records_before(target);
        let started = Instant::now();
        app.start_replay(Some(target));
        let restart_s = started.elapsed().as_secs_f64();
        while app.model.stats.records_pushed < before as u64
            || app.model.latest_event_ms < last_before
        {
            app.pump(Duration::from_millis(4));
            if started.elapsed() > Duration::from_secs(600) {
                return Err("a seek took more than 10 minutes".into());
            }
        }
        println!(
            "seek to {what}: {:.3} s, {restart_s:.3} s of it to restart ({before} records before it, {} customers on the map)",
            started.elapsed().as_secs_f64(),
            app.model.customers.len()
        );
    }
    Ok(())
}
