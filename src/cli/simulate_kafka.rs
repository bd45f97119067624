//! `instore simulate -b …`: the simulator produced to Kafka with simulated record timestamps,
//! as fast as possible or paced, every record acknowledged by the broker or reported.

use std::time::{Duration, Instant};

use super::kafka_args::KAFKA_TIMEOUT;
use super::simulate::SimulateArgs;
use crate::engine::Topic;
use crate::io::kafka::client::{ensure_topics, KafkaProducer};
use crate::io::sim_feed::Speed;

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
    args.each_record(|start_ms, topic, key, payload, ts| {
        if let Speed::Times(n) = args.speed {
            let due = started + Duration::from_secs_f64((ts - start_ms) as f64 / 1000.0 / n);
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
        }
        Ok(producer.send(topic.name(), key, Some(payload), ts)?)
    })?;
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
