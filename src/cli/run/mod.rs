//! `instore run`: the engine headless over dumps (as fast as the disk allows), on the
//! built-in simulator (no broker, no files), or as a service on Kafka. The three share the
//! run loop ([`crate::io::run_loop`]); each child module takes only what it needs.

mod dumps;
mod kafka;
mod simulated;

use std::path::PathBuf;
use std::time::Duration;

use super::duration::parse_duration_ms;
use super::kafka_args::KafkaArgs;
use super::params::{NotifyArgs, ParamArgs};
use super::sim_args::SimArgs;
use crate::engine::notify::Notifier;
use crate::io::kafka::client::StartAt;
use crate::io::run_loop::RunNotifications;
use crate::io::sim_feed::Speed;
use crate::io::store_names::StoreNames;

pub use dumps::run_dumps;

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
    /// Also write PROMOTION_NOTIFICATIONS: what the notification rule lets through, one
    /// record per notification, keyed by the customer's uid.
    #[arg(long)]
    pub notifications: bool,
    #[command(flatten)]
    pub notify: NotifyArgs,
}

/// The `run` subcommand: runs and prints the summary to stderr.
pub fn run(args: &RunArgs) -> anyhow::Result<()> {
    let params = args.params.resolve()?;
    let (radius_ft, km_to_ft) = (params.radius_ft, params.km_to_ft);
    let notifications = || -> anyhow::Result<Option<RunNotifications>> {
        if !args.notifications {
            return Ok(None);
        }
        let notify = args.notify.resolve(args.params.params.as_deref())?;
        let notifier = Notifier::new(notify, radius_ft, km_to_ft);
        let names = StoreNames::new(args.sim.chain()?);
        let template = args.notify.message.clone();
        Ok(Some(RunNotifications::new(notifier, names, template)))
    };
    let report = if args.simulate {
        let run = simulated::SimulatedRun {
            sim: args
                .sim
                .simulator(crate::io::simulator::SimProfile::Store)?,
            stores: args
                .sim
                .chain()?
                .stores
                .len()
                .min(args.sim.stores.unwrap_or(usize::MAX)),
            speed: args.speed,
            duration_ms: args.duration,
            output: args.output.clone(),
            notifications: notifications()?,
        };
        simulated::run_simulated(run, params)?
    } else if args.kafka.wanted() {
        let run = kafka::KafkaRun {
            config: args.kafka.config()?,
            from: args.from,
            group: args.group.clone(),
            dead_letter: args.dead_letter.clone(),
            produce: !args.no_produce,
            until_end: args.until_end,
            duration: args
                .duration
                .map(|d| Duration::from_millis(d.max(0) as u64)),
            idle: args.idle.map(|d| Duration::from_millis(d.max(0) as u64)),
        };
        kafka::run_kafka(&run, params, notifications()?)?
    } else {
        run_dumps(
            &args.input,
            args.output.as_deref(),
            params,
            notifications()?,
        )?
    };
    eprint!("{}", super::summary::format_summary(&report));
    // The process ends here: freeing millions of buffered records one by one would only add
    // teardown time to every run.
    std::mem::forget(report);
    Ok(())
}
