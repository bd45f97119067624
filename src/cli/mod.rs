//! The command line: what `instore` does with its arguments.

pub mod console;
pub mod duration;
pub mod params;
pub mod run;
pub mod run_simulated;
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
    Run(run::RunArgs),
    /// Generate topic data into a dump.
    Simulate(simulate::SimulateArgs),
}
