//! `instore run`: the engine headless over dumps (as fast as the disk allows) or on the
//! built-in simulator (no broker, no files).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::duration::parse_duration_ms;
use super::kafka_args::KafkaArgs;
use super::params::ParamArgs;
use super::sim_args::SimArgs;
use crate::engine::{Pipeline, PipelineParams};
use crate::io::dump::{DumpError, DumpLine, DumpReader, DumpWriter};
use crate::io::kafka::client::StartAt;
use crate::io::sim_feed::Speed;

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// kcat -J dump(s) to read (plain or gzip; `-` is stdin), fed in the order given, records
    /// in file order.
    #[arg(
        long,
        short,
        value_name = "DUMP",
        required_unless_present_any = ["simulate", "bootstrap", "kafka_profile"],
        conflicts_with_all = ["simulate", "bootstrap", "kafka_profile"]
    )]
    pub input: Vec<PathBuf>,
    /// Read the input topics from this Kafka cluster and write the outputs back.
    #[command(flatten)]
    pub kafka: KafkaArgs,
    /// With Kafka: where reading starts (earliest, latest — ksqlDB's default — or an RFC 3339
    /// time).
    #[arg(long, default_value = "latest")]
    pub from: StartAt,
    /// With Kafka: share `customers_locations` with the other instances of this consumer group
    /// (scale-out); each instance still reads the two small topics whole.
    #[arg(long, value_name = "GROUP")]
    pub group: Option<String>,
    /// With Kafka: also produce every rejected input record to this topic, its reason, source
    /// topic, partition and offset in `instore.*` headers.
    #[arg(long, value_name = "TOPIC")]
    pub dead_letter: Option<String>,
    /// With Kafka: do not write the outputs back.
    #[arg(long)]
    pub no_produce: bool,
    /// With Kafka: stop once no record came for this long.
    #[arg(long, value_parser = parse_duration_ms)]
    pub idle: Option<i64>,
    /// With Kafka: stop once every input partition is read up to where it ended when the run
    /// started (like kcat's -e): process what is there, then exit.
    #[arg(long, conflicts_with = "group")]
    pub until_end: bool,
    /// Run on the built-in store simulator over the in-process bus instead of dumps.
    #[arg(long)]
    pub simulate: bool,
    /// With --simulate: simulated time to run; with Kafka: wall time (default: until Ctrl-C).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration_ms)]
    pub duration: Option<i64>,
    /// With --simulate: `max`, or simulated seconds per wall second (1 = real time, 60x).
    #[arg(long, default_value = "1", requires = "simulate")]
    pub speed: Speed,
    #[command(flatten)]
    pub sim: SimArgs,
    /// Where to write VALID_PROMOTIONS and NEARBY_CUSTOMERS as a kcat -J dump (`.gz` packs
    /// it; `-` is stdout).
    #[arg(long, short, value_name = "OUT")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub params: ParamArgs,
}

/// What a run did, for the summary.
#[derive(Debug)]
pub struct RunReport {
    pub pipeline: Pipeline,
    pub lines_read: u64,
    pub wall_time: Duration,
}

/// Runs the pipeline over the inputs; errors only when a file cannot be read or written.
pub fn run_dumps(
    inputs: &[PathBuf],
    output: Option<&std::path::Path>,
    params: PipelineParams,
) -> Result<RunReport, DumpError> {
    let started = Instant::now();
    // Open everything first so a typo in the last file fails before any work is done.
    let readers = inputs
        .iter()
        .map(|path| DumpReader::open(path))
        .collect::<Result<Vec<_>, _>>()?;
    let mut writer = output.map(DumpWriter::create).transpose()?;
    let mut pipeline = Pipeline::new(params);
    let mut outputs = Vec::new();
    let mut lines_read = 0;
    for mut reader in readers {
        while let Some(line) = reader.next_line()? {
            match line {
                DumpLine::Record(record) => pipeline.push(&record, &mut outputs),
                DumpLine::Broken { line_number, text } => {
                    pipeline.count_broken_line(line_number, &text)
                }
            }
            if let Some(writer) = writer.as_mut() {
                for output in &outputs {
                    writer.write_output(output)?;
                }
            }
            outputs.clear();
        }
        lines_read += reader.line_number();
    }
    if let Some(writer) = writer {
        writer.finish()?;
    }
    Ok(RunReport {
        pipeline,
        lines_read,
        wall_time: started.elapsed(),
    })
}

/// The `run` subcommand: runs and prints the summary to stderr.
pub fn run(args: &RunArgs) -> anyhow::Result<()> {
    let params = args.params.resolve()?;
    let report = if args.simulate {
        super::run_simulated::run_simulated(args, params)?
    } else if args.kafka.wanted() {
        super::run_kafka::run_kafka(args, params)?
    } else {
        run_dumps(&args.input, args.output.as_deref(), params)?
    };
    eprint!("{}", super::summary::format_summary(&report));
    // The process ends here: freeing millions of buffered records one by one would only add
    // teardown time to every run.
    std::mem::forget(report);
    Ok(())
}
