//! Kafka connection flags shared by every Kafka-facing command, as kcat spells them.

use std::time::Duration;

use crate::io::kafka::config::KafkaConfig;

#[derive(Debug, Default, Clone, clap::Args)]
pub struct KafkaArgs {
    /// Kafka bootstrap servers (HOST:PORT[,HOST:PORT…]).
    #[arg(short = 'b', long = "bootstrap", value_name = "HOST:PORT")]
    pub bootstrap: Option<String>,
    /// Any librdkafka property, e.g. -X security.protocol=SASL_SSL (repeatable).
    #[arg(short = 'X', value_name = "KEY=VALUE")]
    pub properties: Vec<String>,
    /// A saved connection profile: $XDG_CONFIG_HOME/instore/profiles/NAME.properties (Confluent
    /// Cloud's client.properties format, mode 0600), or a path to such a file.
    #[arg(long = "kafka-profile", value_name = "NAME")]
    pub kafka_profile: Option<String>,
}

/// How long admin and metadata calls may take.
pub const KAFKA_TIMEOUT: Duration = Duration::from_secs(15);

impl KafkaArgs {
    pub fn wanted(&self) -> bool {
        self.bootstrap.is_some() || self.kafka_profile.is_some()
    }

    /// The connection settings. A SASL user without a password (no profile secret, no
    /// `INSTORE_SASL_PASSWORD`) is asked for it on the terminal, without echo; it is kept in
    /// memory only.
    pub fn config(&self) -> anyhow::Result<KafkaConfig> {
        let mut config = KafkaConfig::resolve(
            self.kafka_profile.as_deref(),
            self.bootstrap.as_deref(),
            &self.properties,
        )?;
        if let Some(user) = config.get("sasl.username").map(str::to_owned) {
            let interactive = std::io::IsTerminal::is_terminal(&std::io::stdin());
            if config.get("sasl.password").is_none() && interactive {
                let password = rpassword::prompt_password(format!("SASL password for {user}: "))?;
                config.set_secret("sasl.password", &password);
            }
        }
        Ok(config)
    }
}
