//! `instore ably-connector`: prints the Ably Kafka Connector's configuration that turns
//! instore's notifications into pushes on each shopper's phone (one Ably channel per
//! customer). The Ably key comes from `INSTORE_ABLY_KEY` and is written only with
//! `--show-key`; otherwise a placeholder stands in its place.

use crate::io::ably_connector::{AblyConnector, NOTIFICATIONS_TOPIC};

/// The environment variable the Ably API key is read from.
const KEY_VAR: &str = "INSTORE_ABLY_KEY";

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ConnectorFormat {
    /// For Confluent Cloud's custom connectors, or Kafka Connect's REST API.
    Json,
    /// For a self-managed Kafka Connect worker.
    Properties,
}

#[derive(Debug, clap::Args)]
pub struct AblyConnectorArgs {
    /// The topic of notifications to deliver.
    #[arg(long, default_value = NOTIFICATIONS_TOPIC)]
    pub topic: String,
    /// Ably channel per record; `#{key}` is the record key, the customer's uid.
    #[arg(long, default_value = "customer:#{key}")]
    pub channel: String,
    /// The Ably message name the phone app subscribes to.
    #[arg(long, default_value = "promotion")]
    pub message_name: String,
    /// Sink tasks (parallel across the topic's partitions).
    #[arg(long, default_value_t = 3)]
    pub tasks: u32,
    /// Where undeliverable records go (default: the topic's name + `_ABLY_DLQ`).
    #[arg(long)]
    pub dead_letter: Option<String>,
    #[arg(long, value_enum, default_value_t = ConnectorFormat::Json)]
    pub format: ConnectorFormat,
    /// Write the key from INSTORE_ABLY_KEY into the configuration (it is a secret: by
    /// default a placeholder is written).
    #[arg(long)]
    pub show_key: bool,
}

pub fn ably_connector(args: &AblyConnectorArgs) -> anyhow::Result<()> {
    let mut connector = AblyConnector::new(&args.topic);
    connector.channel = args.channel.clone();
    connector.message_name = args.message_name.clone();
    connector.tasks = args.tasks.max(1);
    if let Some(dlq) = &args.dead_letter {
        connector.dead_letter_topic = dlq.clone();
    }
    let key = std::env::var(KEY_VAR).ok().filter(|k| !k.trim().is_empty());
    match (&key, args.show_key) {
        (Some(key), true) => connector.key = Some(key.clone()),
        (None, true) => anyhow::bail!("--show-key needs the key in {KEY_VAR}"),
        (Some(_), false) => {
            eprintln!("instore ably-connector: {KEY_VAR} is set; --show-key writes it in")
        }
        (None, false) => {}
    }
    let text = match args.format {
        ConnectorFormat::Json => connector.to_json() + "\n",
        ConnectorFormat::Properties => connector.to_properties(),
    };
    print!("{text}");
    Ok(())
}
