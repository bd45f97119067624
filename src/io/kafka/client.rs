//! What every rdkafka client of instore shares: the user's settings turned into a client
//! configuration (with the producer's idempotence), and where reading starts.

use std::str::FromStr;

use rdkafka::config::{ClientConfig, RDKafkaLogLevel};

use super::config::KafkaConfig;
use crate::engine::rfc3339::parse_rfc3339_ms;
use crate::engine::{PipelineParams, Topic};

/// Where reading starts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StartAt {
    Earliest,
    /// ksqlDB's default: only what arrives from now on.
    #[default]
    Latest,
    /// The first record at or after this time (ms), e.g. "the last hour".
    Time(i64),
    /// What the joins' windows still reach when reading starts: pings from `pings_back_ms`
    /// before then, products and promotions from `reference_back_ms` before. A console opened
    /// on a running cluster then holds what the pipeline there holds, and shows matches from
    /// the first ping, not only once a product is published again (which may be days).
    Windows {
        pings_back_ms: i64,
        reference_back_ms: i64,
    },
}

impl StartAt {
    /// [`StartAt::Windows`] for the joins of `params`: a ping meets the valid promotions up to
    /// a customer window from it, and a valid promotion is a product and a promotion up to a
    /// promotion window apart, timed by the later of the two.
    pub fn windows(params: &PipelineParams) -> StartAt {
        StartAt::Windows {
            pings_back_ms: params.customer_window_ms,
            reference_back_ms: params.customer_window_ms + params.promotion_window_ms,
        }
    }

    /// This start with its windows sized for `params` (any other start as it is).
    pub fn fitted_to(self, params: &PipelineParams) -> StartAt {
        match self {
            StartAt::Windows { .. } => StartAt::windows(params),
            other => other,
        }
    }

    /// Whether reading starts by time (a time, or the joins' windows).
    pub fn by_time(self) -> bool {
        matches!(self, StartAt::Time(_) | StartAt::Windows { .. })
    }

    /// The time a partition of `topic` starts reading at, when it starts by time and reading
    /// starts at wall time `now_ms`.
    pub(super) fn since_ms(self, topic: &str, now_ms: i64) -> Option<i64> {
        match self {
            StartAt::Time(ms) => Some(ms),
            StartAt::Windows {
                pings_back_ms,
                reference_back_ms,
            } => Some(
                now_ms
                    - if topic == Topic::CustomersLocations.name() {
                        pings_back_ms
                    } else {
                        reference_back_ms
                    },
            ),
            StartAt::Earliest | StartAt::Latest => None,
        }
    }
}

impl FromStr for StartAt {
    type Err = String;

    fn from_str(s: &str) -> Result<StartAt, String> {
        match s.trim() {
            "earliest" | "beginning" => Ok(StartAt::Earliest),
            "latest" | "end" => Ok(StartAt::Latest),
            "windows" => Ok(StartAt::windows(&PipelineParams::default())),
            t => parse_rfc3339_ms(t).map(StartAt::Time).map_err(|e| {
                format!("--from takes windows, earliest, latest or an RFC 3339 time: {e}")
            }),
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
        // The default joins: 30 minutes of pings, 30 + 60 of products and promotions.
        let windows = "windows".parse::<StartAt>().unwrap();
        assert_eq!(
            windows,
            StartAt::Windows {
                pings_back_ms: 1_800_000,
                reference_back_ms: 5_400_000
            }
        );
        assert_eq!(
            windows.since_ms("customers_locations", 10_000_000),
            Some(8_200_000)
        );
        assert_eq!(
            windows.since_ms("stores_products", 10_000_000),
            Some(4_600_000)
        );
        assert_eq!(
            windows.since_ms("products_promotions", 10_000_000),
            Some(4_600_000)
        );
        let params = PipelineParams {
            customer_window_ms: 60_000,
            promotion_window_ms: 120_000,
            ..PipelineParams::default()
        };
        assert_eq!(
            windows.fitted_to(&params),
            StartAt::Windows {
                pings_back_ms: 60_000,
                reference_back_ms: 180_000
            }
        );
        assert_eq!(StartAt::Latest.fitted_to(&params), StartAt::Latest);
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
