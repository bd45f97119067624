//! `instore` with no subcommand: the console on the built-in simulator.

use std::time::Duration;

use super::kafka_args::KafkaArgs;
use super::sim_args::SimArgs;
use crate::io::formats::ValuesOptions;
use crate::io::kafka::client::StartAt;
use crate::io::simulator::SimProfile;
use crate::ui::bench::{bench_chain, bench_sim_config, HALL_ZOOM};
use crate::ui::map::tiles::TileChoice;
use crate::ui::outbox::Outbox;
use crate::ui::{run_console, ConsoleOptions};

#[derive(Debug, Default, clap::Args)]
pub struct ConsoleArgs {
    #[command(flatten)]
    pub sim: SimArgs,
    /// Read this Kafka cluster's topics instead of the simulator; promotions go to it.
    #[command(flatten)]
    pub kafka: KafkaArgs,
    /// Replay these dumps (kcat -J, Kafka UI exports, or JSON values with --topic; several
    /// merge by timestamp) instead of the simulator.
    #[arg(long = "dump", value_name = "FILE")]
    pub dumps: Vec<std::path::PathBuf>,
    /// For dumps of plain JSON values: the topic they belong to.
    #[arg(long, value_name = "TOPIC")]
    pub topic: Option<String>,
    /// For dumps of plain JSON values: the field holding each record's time (epoch ms or RFC
    /// 3339); without it, one second per line.
    #[arg(long, value_name = "FIELD")]
    pub ts_field: Option<String>,
    /// Map tiles under the stores: an http(s) URL template with {z}/{x}/{y}, a folder of
    /// {z}/{x}/{y}.png tiles, or a .pmtiles file (kept for later runs; the Tiles menu changes it).
    #[arg(long, value_name = "TEMPLATE|FOLDER|FILE")]
    pub tiles: Option<String>,
    /// The attribution drawn on the map for --tiles (OpenStreetMap's for its tile servers).
    #[arg(long, value_name = "TEXT", requires = "tiles")]
    pub tiles_attribution: Option<String>,
    /// With Kafka: where reading starts. `windows`: as far back as the joins reach (the
    /// promotion and customer windows for products and promotions, the customer window for
    /// pings), so matches show from the first ping; or earliest, latest, an RFC 3339 time.
    #[arg(long, default_value = "windows")]
    pub from: StartAt,
    /// Measure frame CPU time with 5 000 customers and 2 000 rings on screen, print it, exit.
    #[arg(long)]
    pub bench_ui: bool,
    /// With --bench-ui: seconds to measure (after 10 s of warm-up).
    #[arg(long, default_value_t = 20, requires = "bench_ui")]
    pub bench_seconds: u64,
}

pub fn console(args: &ConsoleArgs) -> anyhow::Result<()> {
    let options = if args.bench_ui {
        ConsoleOptions {
            sim: bench_sim_config(),
            start_simulator: true,
            bench: Some((
                Duration::from_secs(10),
                Duration::from_secs(args.bench_seconds),
            )),
            zoom: Some(HALL_ZOOM),
            ..ConsoleOptions::new(bench_chain())
        }
    } else {
        ConsoleOptions {
            sim: args.sim.config(SimProfile::Store)?,
            start_simulator: true,
            kafka: if args.kafka.wanted() {
                Some((args.kafka.config()?, args.from))
            } else {
                None
            },
            outbox_path: Outbox::default_path(),
            recordings_list: crate::io::recordings::default_list(),
            campaigns_folder: crate::io::folders::data_folder().map(|d| d.join("campaigns")),
            dumps: args.dumps.clone(),
            values: ValuesOptions {
                topic: args.topic.clone(),
                ts_field: args.ts_field.clone(),
            },
            tiles: args
                .tiles
                .as_deref()
                .map(|t| TileChoice::from_arg(t, args.tiles_attribution.as_deref()))
                .transpose()?,
            ..ConsoleOptions::new(args.sim.chain()?)
        }
    };
    run_console(options)
}

#[derive(Debug, clap::Args)]
pub struct ReplayArgs {
    /// Dumps (plain or gzip): kcat -J, Kafka UI (AKHQ, kafka-ui) JSON-lines exports, or plain
    /// JSON values with --topic. Several merge by timestamp.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<std::path::PathBuf>,
    /// For files of plain JSON values: their topic.
    #[arg(long, value_name = "TOPIC")]
    pub topic: Option<String>,
    /// For files of plain JSON values: the time field (epoch ms or RFC 3339).
    #[arg(long, value_name = "FIELD")]
    pub ts_field: Option<String>,
}

pub fn replay(args: &ReplayArgs) -> anyhow::Result<()> {
    console(&ConsoleArgs {
        dumps: args.files.clone(),
        topic: args.topic.clone(),
        ts_field: args.ts_field.clone(),
        ..ConsoleArgs::default()
    })
}
