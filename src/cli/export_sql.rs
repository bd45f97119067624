//! `instore export-sql`: the pipeline, with the parameters given, as a ksqlDB or Flink SQL
//! script; for Flink on files, also the dumps' records as the files its tables read.

use std::path::PathBuf;

use anyhow::Context as _;

use super::params::ParamArgs;
use crate::engine::sql::{export_sql, SqlConnector, SqlDialect, SqlExport, TopicNames};
use crate::engine::Topic;
use crate::io::table_files::write_table_files;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DialectArg {
    Ksqldb,
    Flink,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ConnectorArg {
    Kafka,
    /// Flink only: tables on files under `--data DIR`.
    Filesystem,
}

#[derive(Debug, clap::Args)]
pub struct ExportSqlArgs {
    #[arg(long, value_enum)]
    pub dialect: DialectArg,
    #[arg(long, value_enum, default_value_t = ConnectorArg::Kafka)]
    pub connector: ConnectorArg,
    /// Flink's Kafka tables: the bootstrap servers (security settings are added by hand, so
    /// no secret lands in a script).
    #[arg(short = 'b', long, default_value = "localhost:9092")]
    pub bootstrap_servers: String,
    /// With `--connector filesystem`: the folder the tables read (`DIR/<input topic>/`) and
    /// write (`DIR/<output topic>/`).
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// With `--connector filesystem`: write these dumps' input records under `--data`.
    #[arg(long, value_name = "DUMP")]
    pub input: Vec<PathBuf>,
    /// A stream's Kafka topic when it is not the original name, e.g.
    /// `--topic customers_locations=customers-locations`.
    #[arg(long, value_name = "STREAM=TOPIC", value_parser = parse_topic_name)]
    pub topic: Vec<(Topic, String)>,
    /// Write the script here instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub params: ParamArgs,
}

fn parse_topic_name(s: &str) -> Result<(Topic, String), String> {
    let (stream, topic) = s
        .split_once('=')
        .ok_or_else(|| format!("{s:?}: expected STREAM=TOPIC"))?;
    let stream = Topic::from_name(stream).ok_or_else(|| {
        let names: Vec<&str> = Topic::ALL.iter().map(|t| t.name()).collect();
        format!("unknown stream {stream:?} (one of {})", names.join(", "))
    })?;
    Ok((stream, topic.to_owned()))
}

pub fn export(args: &ExportSqlArgs) -> anyhow::Result<()> {
    let params = args.params.resolve()?;
    let mut topics = TopicNames::default();
    for (stream, topic) in &args.topic {
        topics.set(*stream, topic.clone());
    }
    let connector = match args.connector {
        ConnectorArg::Kafka => {
            anyhow::ensure!(
                args.data.is_none() && args.input.is_empty(),
                "--data and --input go with --connector filesystem"
            );
            SqlConnector::Kafka {
                bootstrap_servers: args.bootstrap_servers.clone(),
            }
        }
        ConnectorArg::Filesystem => {
            let data = args
                .data
                .as_ref()
                .context("--connector filesystem needs --data DIR")?;
            // Flink resolves relative paths from wherever it runs: the script says where.
            let data = std::path::absolute(data)
                .with_context(|| format!("cannot resolve {}", data.display()))?;
            SqlConnector::Filesystem {
                data_dir: data
                    .to_str()
                    .context("the --data path must be valid UTF-8 for a SQL script")?
                    .to_owned(),
            }
        }
    };
    let dialect = match args.dialect {
        DialectArg::Ksqldb => SqlDialect::Ksqldb,
        DialectArg::Flink => SqlDialect::Flink,
    };
    let script = export_sql(&SqlExport {
        dialect,
        connector: connector.clone(),
        topics: topics.clone(),
        params,
    })?;
    if let SqlConnector::Filesystem { data_dir } = &connector {
        let data_dir = PathBuf::from(data_dir);
        std::fs::create_dir_all(&data_dir)
            .with_context(|| format!("cannot create {}", data_dir.display()))?;
        if !args.input.is_empty() {
            let report = write_table_files(&args.input, &data_dir, &topics)?;
            eprint!("{}", report.describe());
            for output in Topic::OUTPUTS {
                let dir = data_dir.join(topics.get(output));
                let used = std::fs::read_dir(&dir).is_ok_and(|mut d| d.next().is_some());
                if used {
                    eprintln!(
                        "note: {} is not empty: Flink adds its files to what is there",
                        dir.display()
                    );
                }
            }
        }
    }
    match &args.output {
        Some(path) => std::fs::write(path, script)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => print!("{script}"),
    }
    Ok(())
}
