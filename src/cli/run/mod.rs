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
use crate::engine::campaign::{Campaign, CampaignVariant};
use crate::engine::notify::Notifier;
use crate::engine::PipelineParams;
use crate::io::campaign::CampaignInput;
use crate::io::kafka::client::StartAt;
use crate::io::plan::{lay_schedule, variant_notifications, variant_params, Shift};
use crate::io::run_loop::RunNotifications;
use crate::io::sim_feed::Speed;
use crate::io::store_names::StoreNames;
use anyhow::Context as _;

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
    /// With Kafka: where reading starts (earliest, latest — ksqlDB's default —, an RFC 3339
    /// time, or `windows`: as far back as this run's joins reach, which primes their state
    /// and writes again what they matched in that time).
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
    /// With --input: run this campaign on the dumps' traffic, as `instore plan` forecasts it —
    /// its promotions announced on schedule, the dumps' own promotions left out, only its
    /// matches written, its rule, stores and budget over the notifications.
    #[arg(long, value_name = "FILE", requires_all = ["input", "notifications"])]
    pub campaign: Option<PathBuf>,
    /// With --campaign: which of its variants (default: as written).
    #[arg(long, value_name = "NAME", requires = "campaign")]
    pub variant: Option<String>,
    /// With --campaign: where its schedule lies on the traffic (as `instore plan --shift`).
    #[arg(
        long,
        default_value = "none",
        value_name = "auto|none|DAYS",
        requires = "campaign"
    )]
    pub campaign_shift: Shift,
}

/// The campaign of `--campaign`: its variant, the run's parameters for it, and its input.
fn campaign_run(
    args: &RunArgs,
    params: &mut PipelineParams,
) -> anyhow::Result<Option<(CampaignVariant, CampaignInput)>> {
    let Some(path) = &args.campaign else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the campaign {}", path.display()))?;
    let campaign =
        Campaign::from_json(&text).with_context(|| format!("bad campaign {}", path.display()))?;
    let schedule = campaign.check()?;
    let variant = match &args.variant {
        None => campaign.as_written(),
        Some(name) => campaign
            .variants()
            .into_iter()
            .find(|v| &v.name == name)
            .with_context(|| format!("the campaign has no variant named {name:?}"))?,
    };
    // Only `auto` looks at the traffic's first record.
    let first_ms = match args.campaign_shift {
        Shift::Auto => crate::io::plan::first_timestamp(&args.input)?.unwrap_or(0),
        Shift::Days(_) => 0,
    };
    let (schedule, days) = lay_schedule(&schedule, args.campaign_shift, first_ms)?;
    if days != 0 {
        eprintln!(
            "campaign schedule moved {days} days: {} – {}",
            schedule.local_label(schedule.start_ms()),
            schedule.local_label(schedule.end_ms())
        );
    }
    *params = variant_params(params, &variant);
    let input = CampaignInput::new(&variant, &schedule, campaign.reannounce_every_ms());
    Ok(Some((variant, input)))
}

/// The `run` subcommand: runs and prints the summary to stderr.
pub fn run(args: &RunArgs) -> anyhow::Result<()> {
    let mut params = args.params.resolve()?;
    let mut campaign = campaign_run(args, &mut params)?;
    let (radius_ft, km_to_ft) = (params.radius_ft, params.km_to_ft);
    let notifications = || -> anyhow::Result<Option<RunNotifications>> {
        if !args.notifications {
            return Ok(None);
        }
        if let Some((variant, _)) = &campaign {
            let template = args.notify.message.clone();
            return Ok(Some(variant_notifications(
                variant,
                km_to_ft,
                args.sim.chain()?,
                None,
                &template,
            )));
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
        let notifications = notifications()?;
        run_dumps(
            &args.input,
            args.output.as_deref(),
            params,
            notifications,
            campaign.as_mut().map(|(_, input)| input),
        )?
    };
    eprint!("{}", super::summary::format_summary(&report));
    if let Some((_, input)) = &campaign {
        let (planned, fed) = input.announced();
        eprintln!(
            "campaign: {fed} of {planned} announcements fell within the input; its {} own products_promotions records were left out",
            input.ignored_promotions()
        );
    }
    // The process ends here: freeing millions of buffered records one by one would only add
    // teardown time to every run.
    std::mem::forget(report);
    Ok(())
}
