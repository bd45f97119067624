//! `instore` with no subcommand: the console on the built-in simulator.

use super::sim_args::SimArgs;
use crate::io::simulator::SimProfile;
use crate::ui::{run_console, ConsoleOptions};

#[derive(Debug, Default, clap::Args)]
pub struct ConsoleArgs {
    #[command(flatten)]
    pub sim: SimArgs,
}

pub fn console(args: &ConsoleArgs) -> anyhow::Result<()> {
    let options = ConsoleOptions {
        chain: args.sim.chain()?,
        sim: args.sim.config(SimProfile::Store)?,
        start_simulator: true,
    };
    run_console(options)
}
