//! `instore simulate`: generate topic data into a kcat -J dump.

use std::path::PathBuf;
use std::time::Instant;

use crate::engine::Topic;
use crate::io::dump::{DumpRecordRef, DumpWriter};
use crate::io::workload::{generate, WorkloadSpec};

/// Which generator to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Profile {
    /// Stores on a grid, products on shelves, pings clustered around stores: the benchmark
    /// workload of BENCHMARKS.md.
    Bench,
}

#[derive(Debug, clap::Args)]
pub struct SimulateArgs {
    /// Where to write the dump (`.gz` packs it).
    #[arg(long, short, value_name = "DUMP")]
    pub output: PathBuf,
    #[arg(long, value_enum, default_value = "bench")]
    pub profile: Profile,
    #[arg(long, default_value_t = WorkloadSpec::default().stores)]
    pub stores: usize,
    #[arg(long, default_value_t = WorkloadSpec::default().products)]
    pub products: usize,
    #[arg(long, default_value_t = WorkloadSpec::default().promotions)]
    pub promotions: usize,
    #[arg(long, default_value_t = WorkloadSpec::default().pings)]
    pub pings: usize,
    #[arg(long, default_value_t = WorkloadSpec::default().seed)]
    pub seed: u64,
}

pub fn simulate(args: &SimulateArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let spec = WorkloadSpec {
        stores: args.stores,
        products: args.products,
        promotions: args.promotions,
        pings: args.pings,
        seed: args.seed,
        ..WorkloadSpec::default()
    };
    let records = match args.profile {
        Profile::Bench => generate(&spec),
    };
    let mut writer = DumpWriter::create(&args.output)?;
    let mut offsets = [0i64; Topic::ALL.len()];
    for r in &records {
        let offset = &mut offsets[r.topic.index()];
        writer.write_raw(&DumpRecordRef {
            topic: r.topic.name(),
            partition: 0,
            offset: *offset,
            timestamp_ms: r.timestamp_ms,
            key: r.key.as_deref(),
            headers: &[],
            payload: Some(&r.payload),
        })?;
        *offset += 1;
    }
    let written = writer.records_written();
    writer.finish()?;
    eprintln!(
        "instore simulate: {written} records to {} in {:.2} s",
        args.output.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
