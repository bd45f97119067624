//! `instore simulate -b …`: the simulator produced to Kafka with simulated record timestamps,
//! as fast as possible or paced, every record acknowledged by the broker or reported.

use std::time::{Duration, Instant};

use super::kafka_args::KAFKA_TIMEOUT;
use super::simulate::{Profile, SimulateArgs};
use crate::engine::Topic;
use crate::io::kafka::client::{ensure_topics, KafkaProducer};
use crate::io::sim_feed::Speed;
use crate::io::simulator::{SimProfile, SimRecord};

pub fn simulate_to_kafka(args: &SimulateArgs) -> anyhow::Result<()> {
    let profile = match args.profile {
        Profile::Store => SimProfile::Store,
        Profile::Original => SimProfile::Original,
        Profile::Bench => anyhow::bail!("the bench profile writes dumps only"),
    };
    let config = args.kafka.config()?;
    let inputs = Topic::INPUTS.map(Topic::name);
    let created = ensure_topics(&config, &inputs, args.partitions, KAFKA_TIMEOUT)?;
    if !created.is_empty() {
        eprintln!("instore simulate: created topics {}", created.join(", "));
    }
    let mut producer = KafkaProducer::new(&config)?;
    let mut sim = args.sim.simulator(profile)?;
    let start_ms = sim.config().start_ms;
    let end_ms = start_ms.saturating_add(args.duration);
    let started = Instant::now();
    let mut record = SimRecord::default();
    while sim.next_time_ms().is_some_and(|t| t < end_ms) && sim.next_into(&mut record) {
        if record.timestamp_ms >= end_ms {
            break;
        }
        if let Speed::Times(n) = args.speed {
            let due = started
                + Duration::from_secs_f64((record.timestamp_ms - start_ms) as f64 / 1000.0 / n);
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
        }
        let Some(topic) = record.topic else { continue };
        producer.send(
            topic.name(),
            Some(&record.key),
            Some(record.payload_str()),
            record.timestamp_ms,
        )?;
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
