//! `instore`: the command line. See `instore --help`.

use std::process::ExitCode;

use clap::Parser as _;
use instore::cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Some(Command::Run(args)) => instore::cli::run::run(args),
        Some(Command::Simulate(args)) => instore::cli::simulate::simulate(args),
        Some(Command::Plan(args)) => instore::cli::plan::plan(args),
        Some(Command::Record(args)) => instore::cli::record::record(args),
        Some(Command::Replay(args)) => instore::cli::console::replay(args),
        Some(Command::KafkaCheck(args)) => instore::cli::kafka_check::kafka_check(args),
        Some(Command::AblyConnector(args)) => instore::cli::ably_connector::ably_connector(args),
        Some(Command::ExportSql(args)) => instore::cli::export_sql::export(args),
        None => instore::cli::console::console(&cli.console),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) if instore::cli::error_text::reader_went_away(&error) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!(
                "instore: error: {}",
                instore::cli::error_text::error_text(&error)
            );
            ExitCode::FAILURE
        }
    }
}
