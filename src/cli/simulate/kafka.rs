//! `instore simulate -b …`: the simulator's records produced to Kafka with their simulated
//! timestamps, as fast as possible or paced, every record acknowledged by the broker or
//! reported.

use std::time::{Duration, Instant};

use crate::cli::kafka_args::KAFKA_TIMEOUT;
use crate::engine::Topic;
use crate::io::kafka::admin::ensure_topics;
use crate::io::kafka::config::KafkaConfig;
use crate::io::kafka::producer::KafkaProducer;
use crate::io::sim_feed::Speed;

/// Produces records to the input topics, created first when missing.
pub struct SimulatedProducer {
    producer: KafkaProducer,
    speed: Speed,
    started: Instant,
}

impl SimulatedProducer {
    pub fn new(
        config: &KafkaConfig,
        partitions: i32,
        speed: Speed,
    ) -> anyhow::Result<SimulatedProducer> {
        let inputs = Topic::INPUTS.map(Topic::name);
        let created = ensure_topics(config, &inputs, partitions, KAFKA_TIMEOUT)?;
        if !created.is_empty() {
            eprintln!("instore simulate: created topics {}", created.join(", "));
        }
        Ok(SimulatedProducer {
            producer: KafkaProducer::new(config)?,
            speed,
            started: Instant::now(),
        })
    }

    /// Sends one record; paced on the records' own timestamps (from `start_ms`) when a speed
    /// is given.
    pub fn send(
        &mut self,
        start_ms: i64,
        topic: Topic,
        key: Option<&str>,
        payload: &str,
        timestamp_ms: i64,
    ) -> anyhow::Result<()> {
        if let Speed::Times(n) = self.speed {
            let since_start_s = (timestamp_ms - start_ms) as f64 / 1000.0 / n;
            let due = self.started + Duration::from_secs_f64(since_start_s.max(0.0));
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
        }
        Ok(self
            .producer
            .send(topic.name(), key, Some(payload), timestamp_ms)?)
    }

    /// Waits for every acknowledgement; fails when any record was not acknowledged.
    pub fn finish(self) -> anyhow::Result<()> {
        let producer = self.producer;
        producer.flush(Duration::from_secs(60))?;
        let (sent, delivered, failed) = (producer.sent(), producer.delivered(), producer.failed());
        eprintln!(
            "instore simulate: {sent} records produced, {delivered} acknowledged, {failed} failed in {:.2} s",
            self.started.elapsed().as_secs_f64()
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
}
