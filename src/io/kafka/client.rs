//! What every rdkafka client of instore shares: the user's settings turned into a client
//! configuration (with the producer's idempotence), and where reading starts.

use std::str::FromStr;

use rdkafka::config::{ClientConfig, RDKafkaLogLevel};

use super::config::KafkaConfig;
use crate::engine::rfc3339::parse_rfc3339_ms;

/// Where reading starts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StartAt {
    Earliest,
    /// ksqlDB's default: only what arrives from now on.
    #[default]
    Latest,
    /// The first record at or after this time (ms), e.g. "the last hour".
    Time(i64),
}

impl FromStr for StartAt {
    type Err = String;

    fn from_str(s: &str) -> Result<StartAt, String> {
        match s.trim() {
            "earliest" | "beginning" => Ok(StartAt::Earliest),
            "latest" | "end" => Ok(StartAt::Latest),
            t => parse_rfc3339_ms(t)
                .map(StartAt::Time)
                .map_err(|e| format!("--from takes earliest, latest or an RFC 3339 time: {e}")),
        }
    }
}

pub(super) fn client_config(config: &KafkaConfig) -> ClientConfig {
    let mut c = ClientConfig::new();
    for (k, v) in config.properties() {
        c.set(k, v);
    }
    c.set_log_level(RDKafkaLogLevel::Warning);
    c
}

/// A producer's settings: the user's, idempotent (acks=all) unless they said otherwise.
pub(super) fn producer_config(config: &KafkaConfig) -> ClientConfig {
    let mut c = client_config(config);
    if config.get("enable.idempotence").is_none() {
        c.set("enable.idempotence", "true");
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_positions_parse() {
        assert_eq!("earliest".parse::<StartAt>(), Ok(StartAt::Earliest));
        assert_eq!("latest".parse::<StartAt>(), Ok(StartAt::Latest));
        assert_eq!(
            "2025-11-26T09:00:00Z".parse::<StartAt>(),
            Ok(StartAt::Time(1_764_147_600_000))
        );
        assert!("yesterday"
            .parse::<StartAt>()
            .unwrap_err()
            .contains("--from"));
    }
}
