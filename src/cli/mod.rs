//! The command line: what `instore` does with its arguments.

pub mod ably_connector;
pub mod console;
pub mod duration;
pub mod error_text;
pub mod export_sql;
pub mod kafka_args;
pub mod kafka_check;
pub mod params;
pub mod plan;
pub mod record;
pub mod run;
pub mod sim_args;
pub mod simulate;
pub mod summary;

use clap::{Parser, Subcommand};

/// In-store personalization: shoppers within a geofence of a promoted product.
#[derive(Debug, Parser)]
#[command(name = "instore", version, about, long_about = None)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// With no subcommand: the console, on the built-in simulator.
    #[command(flatten)]
    pub console: console::ConsoleArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the streaming join headless over recorded dumps (or the simulator) and write its
    /// outputs.
    Run(Box<run::RunArgs>),
    /// Generate topic data into a dump, or produce it to Kafka.
    Simulate(simulate::SimulateArgs),
    /// Forecast a campaign's reach on recorded traffic, its variants side by side.
    Plan(Box<plan::PlanArgs>),
    /// Record Kafka topics to a kcat -J dump.
    Record(record::RecordArgs),
    /// Open the console on recorded dumps, on a timeline (same as `instore --dump FILE…`).
    Replay(console::ReplayArgs),
    /// Test a Kafka connection: brokers, authentication, the five topics and their partitions.
    KafkaCheck(kafka_check::KafkaCheckArgs),
    /// Print the Ably Kafka Connector configuration that pushes notifications to each
    /// shopper's phone (one channel per customer).
    AblyConnector(ably_connector::AblyConnectorArgs),
    /// Write the pipeline, with these parameters, as a ksqlDB or Flink SQL script (and, for
    /// Flink on files, dumps as the files its tables read).
    ExportSql(Box<export_sql::ExportSqlArgs>),
}
