//! `instore run -b …`: the engine as a service on Kafka. Reads the three input topics (whole,
//! from `--from`), writes VALID_PROMOTIONS and NEARBY_CUSTOMERS back with the idempotent
//! producer (key as in the engine, Kafka timestamp = output timestamp), and ends on
//! Ctrl-C/SIGTERM, `--duration` or `--idle` with every output acknowledged and the summary.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::kafka_args::KAFKA_TIMEOUT;
use super::run::{RunArgs, RunReport};
use crate::engine::{Pipeline, PipelineParams, Topic};
use crate::io::kafka::client::{ensure_topics, KafkaProducer, TopicReader};

const PROGRESS_EVERY: Duration = Duration::from_secs(10);

pub fn run_kafka(args: &RunArgs, params: PipelineParams) -> anyhow::Result<RunReport> {
    let started = Instant::now();
    let config = args.kafka.config()?;
    eprintln!("instore run: Kafka {}", config.describe());
    let mut producer = if args.no_produce {
        None
    } else {
        let outputs = Topic::OUTPUTS.map(Topic::name);
        let created = ensure_topics(&config, &outputs, 1, KAFKA_TIMEOUT)?;
        if !created.is_empty() {
            eprintln!("instore run: created topics {}", created.join(", "));
        }
        Some(KafkaProducer::new(&config)?)
    };
    let inputs = Topic::INPUTS.map(Topic::name);
    let reader = TopicReader::open(&config, &inputs, args.from, KAFKA_TIMEOUT)?;
    let stop = Arc::new(AtomicBool::new(false));
    let on_signal = Arc::clone(&stop);
    let _ = ctrlc::set_handler(move || on_signal.store(true, Ordering::Relaxed));
    let deadline = args
        .duration
        .map(|d| started + Duration::from_millis(d.max(0) as u64));
    let idle = args.idle.map(|d| Duration::from_millis(d.max(0) as u64));
    let mut pipeline = Pipeline::new(params);
    let mut outputs = Vec::new();
    let mut payload = Vec::new();
    let mut consumed = 0u64;
    let mut last_record = Instant::now();
    let mut last_progress = Instant::now();
    while !stop.load(Ordering::Relaxed)
        && deadline.is_none_or(|d| Instant::now() < d)
        && idle.is_none_or(|i| last_record.elapsed() < i)
    {
        if let Some(result) = reader.poll(Duration::from_millis(100)) {
            let record = result?;
            pipeline.push(&record, &mut outputs);
            consumed += 1;
            last_record = Instant::now();
            if let Some(p) = producer.as_mut() {
                for output in &outputs {
                    payload.clear();
                    output.write_payload(&mut payload);
                    let text = std::str::from_utf8(&payload)?;
                    p.send(
                        output.topic().name(),
                        output.key(),
                        Some(text),
                        output.timestamp_ms(),
                    )?;
                }
            }
            outputs.clear();
        }
        if last_progress.elapsed() >= PROGRESS_EVERY {
            last_progress = Instant::now();
            eprintln!(
                "  {consumed} records in, {} NEARBY_CUSTOMERS{}",
                pipeline.stats().topic(Topic::NearbyCustomers).records,
                producer
                    .as_ref()
                    .map(|p| format!(", {} of {} outputs acknowledged", p.delivered(), p.sent()))
                    .unwrap_or_default()
            );
        }
    }
    if let Some(p) = producer {
        p.flush(Duration::from_secs(30))?;
        eprintln!(
            "instore run: {} outputs produced, {} acknowledged, {} failed",
            p.sent(),
            p.delivered(),
            p.failed()
        );
        anyhow::ensure!(
            p.failed() == 0 && p.delivered() == p.sent(),
            "not every output was acknowledged (last error: {})",
            p.last_error().unwrap_or_else(|| "none reported".into())
        );
    }
    Ok(RunReport {
        pipeline,
        lines_read: consumed,
        wall_time: started.elapsed(),
    })
}
