//! `instore simulate -b …`: the simulator produced to Kafka with simulated record timestamps,
//! as fast as possible or paced, every record acknowledged by the broker or reported.

use std::time::{Duration, Instant};

use super::kafka_args::KAFKA_TIMEOUT;
use super::simulate::{Profile, SimulateArgs};
use crate::engine::Topic;
use crate::io::kafka::client::{ensure_topics, KafkaProducer};
use crate::io::sim_feed::Speed;
use crate::io::simulator::{SimProfile, SimRecord};
use crate::io::workload::generate;

pub fn simulate_to_kafka(args: &SimulateArgs) -> anyhow::Result<()> {
    let config = args.kafka.config()?;
    let inputs = Topic::INPUTS.map(Topic::name);
    let created = ensure_topics(&config, &inputs, args.partitions, KAFKA_TIMEOUT)?;
    if !created.is_empty() {
        eprintln!("instore simulate: created topics {}", created.join(", "));
    }
    let mut producer = KafkaProducer::new(&config)?;
    let started = Instant::now();
    // Paced on the records' own timestamps when a speed is given.
    let mut send = |start_ms: i64, topic: Topic, key: Option<&str>, payload: &str, ts: i64| {
        if let Speed::Times(n) = args.speed {
            let due = started + Duration::from_secs_f64((ts - start_ms) as f64 / 1000.0 / n);
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
        }
        producer.send(topic.name(), key, Some(payload), ts)
    };
    match args.profile {
        Profile::Bench => {
            let records = generate(&args.bench_spec());
            let start_ms = records.first().map_or(0, |r| r.timestamp_ms);
            for r in &records {
                send(
                    start_ms,
                    r.topic,
                    r.key.as_deref(),
                    &r.payload,
                    r.timestamp_ms,
                )?;
            }
        }
        Profile::Store | Profile::Original => {
            let profile = if args.profile == Profile::Store {
                SimProfile::Store
            } else {
                SimProfile::Original
            };
            let mut sim = args.sim.simulator(profile)?;
            let start_ms = sim.config().start_ms;
            let end_ms = start_ms.saturating_add(args.duration);
            let mut record = SimRecord::default();
            while sim.next_time_ms().is_some_and(|t| t < end_ms) && sim.next_into(&mut record) {
                if record.timestamp_ms >= end_ms {
                    break;
                }
                let Some(topic) = record.topic else { continue };
                send(
                    start_ms,
                    topic,
                    Some(&record.key),
                    record.payload_str(),
                    record.timestamp_ms,
                )?;
            }
        }
    }
    producer.flush(Duration::from_secs(60))?;
    let (sent, delivered, failed) = (producer.sent(), producer.delivered(), producer.failed());
    eprintln!(
        "instore simulate: {sent} records produced, {delivered} acknowledged, {failed} failed in {:.2} s",
        started.elapsed().as_secs_f64()
    );
    if failed > 0 || delivered != sent {
        anyhow::bail!(
            "{} of {sent} records were not acknowledged (last error: {})",
            sent - delivered,
            producer
                .last_error()
                .unwrap_or_else(|| "none reported".into())
        );
    }
    Ok(())
}
