//! Measures what opening a dump in the console costs (BENCHMARKS.md, issue 6): the time to
//! load and merge it, and the process's peak memory afterwards.
//!
//! `cargo run --release --example load_dump -- DUMP [DUMP…]`

use std::path::PathBuf;
use std::time::Instant;

use instore::io::replay::{load_dumps, LoadProgress};

fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let paths: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    if paths.is_empty() {
        return Err("usage: load_dump DUMP [DUMP…]".into());
    }
    let started = Instant::now();
    let dump = load_dumps(&paths, &LoadProgress::default())?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{} records ({} broken lines) in {secs:.2} s: {:.0} records/s; peak RSS {:.0} MB",
        dump.records.len(),
        dump.broken_count,
        dump.records.len() as f64 / secs,
        peak_rss_mb().unwrap_or(f64::NAN)
    );
    Ok(())
}
