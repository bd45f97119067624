//! `instore run --simulate`: the engine on the built-in simulator through the in-process bus,
//! paced like a live source; Ctrl-C (or SIGTERM) ends it with the summary.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::run::{RunArgs, RunReport};
use crate::engine::{Pipeline, PipelineParams, Topic};
use crate::io::bus::{bus, Received};
use crate::io::dump::DumpWriter;
use crate::io::rfc3339::format_rfc3339_ms;
use crate::io::sim_feed::{spawn_simulator_feed, FeedControl};
use crate::io::simulator::SimProfile;

/// Records the bus holds before the simulator waits for the engine.
const BUS_CAPACITY: usize = 8_192;
/// How often a live run reports progress on stderr.
const PROGRESS_EVERY: Duration = Duration::from_secs(10);

pub fn run_simulated(args: &RunArgs, params: PipelineParams) -> anyhow::Result<RunReport> {
    let started = Instant::now();
    let sim = args.sim.simulator(SimProfile::Store)?;
    let end_ms = args
        .duration
        .map(|d| sim.config().start_ms.saturating_add(d));
    let mut writer = args.output.as_deref().map(DumpWriter::create).transpose()?;
    let (producer, consumer) = bus(BUS_CAPACITY);
    let control = FeedControl::new(args.speed);
    let on_signal = Arc::clone(&control);
    // A second handler cannot be installed (tests call this twice in one process): then
    // Ctrl-C simply ends the process as usual.
    let _ = ctrlc::set_handler(move || on_signal.stop());
    let feed = spawn_simulator_feed(sim, producer, Arc::clone(&control), end_ms)?;
    eprintln!(
        "instore run: simulating {} stores at {} speed{}; Ctrl-C ends with the summary",
        args.sim
            .chain()?
            .stores
            .len()
            .min(args.sim.stores.unwrap_or(usize::MAX)),
        args.speed,
        end_ms
            .map(|e| format!(" until {}", format_rfc3339_ms(e)))
            .unwrap_or_default(),
    );
    let mut pipeline = Pipeline::new(params);
    let mut outputs = Vec::new();
    let mut consumed = 0u64;
    let mut last_progress = Instant::now();
    loop {
        match consumer.recv_timeout(Duration::from_millis(200)) {
            Received::Record(record) => {
                pipeline.push(&record, &mut outputs);
                consumed += 1;
                if let Some(w) = writer.as_mut() {
                    for output in &outputs {
                        w.write_output(output)?;
                    }
                }
                outputs.clear();
            }
            Received::Idle => {}
            Received::Closed => break,
        }
        if last_progress.elapsed() >= PROGRESS_EVERY {
            last_progress = Instant::now();
            eprintln!(
                "  {}  {consumed} records in, {} NEARBY_CUSTOMERS",
                control
                    .sim_time_ms()
                    .map(format_rfc3339_ms)
                    .unwrap_or_default(),
                pipeline.stats().topic(Topic::NearbyCustomers).records
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
    Ok(RunReport {
        pipeline,
        lines_read: consumed,
        wall_time: started.elapsed(),
    })
}
