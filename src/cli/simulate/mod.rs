//! `instore simulate`: generate topic data into a kcat -J dump, as fast as possible.

mod kafka;

use std::path::PathBuf;
use std::time::Instant;

use super::duration::parse_duration_ms;
use super::kafka_args::KafkaArgs;
use super::sim_args::SimArgs;
use crate::engine::Topic;
use crate::io::dump::{DumpRecordRef, DumpWriter};
use crate::io::sim_feed::Speed;
use crate::io::simulator::{SimProfile, SimRecord};
use crate::io::workload::{generate, WorkloadSpec};

/// Which generator to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Profile {
    /// The chain's stores: shoppers walk the aisles past promoted products.
    Store,
    /// The original Python scripts: everyone at random points on the globe (never matches).
    Original,
    /// The benchmark workload of BENCHMARKS.md (`--products`, `--promotions`, `--pings`).
    Bench,
}

#[derive(Debug, clap::Args)]
pub struct SimulateArgs {
    /// Where to write the dump (`.gz` packs it; `-` is stdout).
    #[arg(long, short, value_name = "DUMP", required_unless_present_any = ["bootstrap", "kafka_profile"])]
    pub output: Option<PathBuf>,
    /// Produce to the three input topics of this Kafka cluster instead (missing topics are
    /// created), replacing the original Python scripts.
    #[command(flatten)]
    pub kafka: KafkaArgs,
    /// With Kafka: `max`, or simulated seconds per wall second (1 = real time).
    #[arg(long, default_value = "max")]
    pub speed: Speed,
    /// With Kafka: partitions of topics it creates.
    #[arg(long, default_value_t = 1)]
    pub partitions: i32,
    #[arg(long, value_enum, default_value = "store")]
    pub profile: Profile,
    /// Simulated time to cover.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration_ms, default_value = "30m")]
    pub duration: i64,
    #[command(flatten)]
    pub sim: SimArgs,
    /// Bench profile: products.
    #[arg(long, default_value_t = WorkloadSpec::default().products)]
    pub products: usize,
    /// Bench profile: promotions.
    #[arg(long, default_value_t = WorkloadSpec::default().promotions)]
    pub promotions: usize,
    /// Bench profile: pings.
    #[arg(long, default_value_t = WorkloadSpec::default().pings)]
    pub pings: usize,
}

impl SimulateArgs {
    /// The bench profile's workload as the flags size it.
    fn bench_spec(&self) -> WorkloadSpec {
        WorkloadSpec {
            stores: self.sim.stores.unwrap_or(WorkloadSpec::default().stores),
            products: self.products,
            promotions: self.promotions,
            pings: self.pings,
            seed: self.sim.seed,
            ..WorkloadSpec::default()
        }
    }
}

impl SimulateArgs {
    /// Calls `each(start_ms, topic, key, payload, timestamp_ms)` for every record of the chosen
    /// profile, in time order (`start_ms`: the first timestamp, for pacing).
    fn each_record(
        &self,
        mut each: impl FnMut(i64, Topic, Option<&str>, &str, i64) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        let profile = match self.profile {
            Profile::Bench => {
                let records = generate(&self.bench_spec());
                let start_ms = records.first().map_or(0, |r| r.timestamp_ms);
                for r in &records {
                    each(
                        start_ms,
                        r.topic,
                        r.key.as_deref(),
                        &r.payload,
                        r.timestamp_ms,
                    )?;
                }
                return Ok(());
            }
            Profile::Store => SimProfile::Store,
            Profile::Original => SimProfile::Original,
        };
        let mut sim = self.sim.simulator(profile)?;
        let start_ms = sim.config().start_ms;
        let end_ms = start_ms.saturating_add(self.duration);
        let mut record = SimRecord::default();
        while sim.next_time_ms().is_some_and(|t| t < end_ms) && sim.next_into(&mut record) {
            if record.timestamp_ms >= end_ms {
                break;
            }
            if let Some(topic) = record.topic {
                let payload = record.payload_str();
                each(
                    start_ms,
                    topic,
                    Some(&record.key),
                    payload,
                    record.timestamp_ms,
                )?;
            }
        }
        Ok(())
    }
}

pub fn simulate(args: &SimulateArgs) -> anyhow::Result<()> {
    if args.kafka.wanted() {
        anyhow::ensure!(
            args.output.is_none(),
            "give either --output or a Kafka cluster, not both"
        );
        let config = args.kafka.config()?;
        let mut producer = kafka::SimulatedProducer::new(&config, args.partitions, args.speed)?;
        args.each_record(|start_ms, topic, key, payload, ts| {
            producer.send(start_ms, topic, key, payload, ts)
        })?;
        return producer.finish();
    }
    let Some(output) = args.output.as_ref() else {
        anyhow::bail!("--output DUMP or -b HOST:PORT is required");
    };
    let started = Instant::now();
    let mut writer = DumpWriter::create(output)?;
    let mut offsets = [0i64; Topic::ALL.len()];
    let mut write = |writer: &mut DumpWriter, topic: Topic, ts: i64, key: &str, payload: &str| {
        let offset = &mut offsets[topic.index()];
        let result = writer.write_raw(&DumpRecordRef {
            topic: topic.name(),
            partition: 0,
            offset: *offset,
            timestamp_ms: ts,
            key: Some(key),
            headers: &[],
            payload: Some(payload),
        });
        *offset += 1;
        result
    };
    args.each_record(|_, topic, key, payload, ts| {
        // Dumps have always written an empty key for the bench catalog's keyless records.
        Ok(write(
            &mut writer,
            topic,
            ts,
            key.unwrap_or_default(),
            payload,
        )?)
    })?;
    let written = writer.records_written();
    writer.finish()?;
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "instore simulate: {written} records to {} in {secs:.2} s ({:.0} records/s)",
        output.display(),
        written as f64 / secs.max(1e-9)
    );
    Ok(())
}
