//! `instore run --simulate`: the engine on the built-in simulator through the in-process bus,
//! paced like a live source; Ctrl-C (or SIGTERM) ends it with the summary.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::engine::rfc3339::format_rfc3339_ms;
use crate::engine::{PipelineParams, Topic};
use crate::io::bus::{bus, Received};
use crate::io::dump::DumpWriter;
use crate::io::run_loop::{RunLoop, RunNotifications, RunReport};
use crate::io::sim_feed::{spawn_simulator_feed, FeedControl, Speed};
use crate::io::simulator::Simulator;

/// Records the bus holds before the simulator waits for the engine.
const BUS_CAPACITY: usize = 8_192;
/// How often a live run reports progress on stderr.
const PROGRESS_EVERY: Duration = Duration::from_secs(10);

/// What a simulated run needs.
pub struct SimulatedRun {
    pub sim: Simulator,
    /// Stores simulated (for the opening line).
    pub stores: usize,
    pub speed: Speed,
    /// Simulated time to run (default: until Ctrl-C).
    pub duration_ms: Option<i64>,
    pub output: Option<PathBuf>,
    pub notifications: Option<RunNotifications>,
}

pub fn run_simulated(run: SimulatedRun, params: PipelineParams) -> anyhow::Result<RunReport> {
    let SimulatedRun {
        sim,
        stores,
        speed,
        duration_ms,
        output,
        notifications,
    } = run;
    let end_ms = duration_ms.map(|d| sim.config().start_ms.saturating_add(d));
    let mut writer = output.as_deref().map(DumpWriter::create).transpose()?;
    let (producer, consumer) = bus(BUS_CAPACITY);
    let control = FeedControl::new(speed);
    let on_signal = Arc::clone(&control);
    // A second handler cannot be installed (tests call this twice in one process): then
    // Ctrl-C simply ends the process as usual.
    let _ = ctrlc::set_handler(move || on_signal.stop());
    let feed = spawn_simulator_feed(sim, producer, Arc::clone(&control), end_ms)?;
    eprintln!(
        "instore run: simulating {stores} stores at {speed} speed{}; Ctrl-C ends with the summary",
        end_ms
            .map(|e| format!(" until {}", format_rfc3339_ms(e)))
            .unwrap_or_default(),
    );
    let mut run = RunLoop::new(params);
    if let Some(n) = notifications {
        run = run.with_notifications(n);
    }
    let mut last_progress = Instant::now();
    loop {
        match consumer.recv_timeout(Duration::from_millis(200)) {
            Received::Record(record) => run.push(&record, &mut writer)?,
            Received::Idle => {}
            Received::Closed => break,
        }
        if last_progress.elapsed() >= PROGRESS_EVERY {
            last_progress = Instant::now();
            eprintln!(
                "  {}  {} records in, {} NEARBY_CUSTOMERS",
                control
                    .sim_time_ms()
                    .map(format_rfc3339_ms)
                    .unwrap_or_default(),
                run.records_in(),
                run.pipeline().stats().topic(Topic::NearbyCustomers).records
            );
        }
    }
    let end = feed
        .join()
        .map_err(|_| anyhow::anyhow!("the simulator thread panicked"))?;
    eprintln!("instore run: simulator {end:?}");
    if let Some(w) = writer {
        w.finish()?;
    }
    let records = run.records_in();
    Ok(run.finish(records))
}
