//! The pipeline as SQL for a distributed stream processor: ksqlDB (what the original ran) and
//! Flink SQL, written from the same [`PipelineParams`] the engine runs with, so a user who
//! outgrows one machine deploys exactly the pipeline they tuned.
//!
//! Pure text generation: the caller writes the script (and, for Flink on files, the input
//! files [`table_row`] describes).

mod flink;
mod ksqldb;
pub mod table_row;

use std::fmt::Write as _;

use super::params::{PipelineParams, PromotionMatchKey};
use super::topic::Topic;

/// Which stream processor the script is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SqlDialect {
    Ksqldb,
    Flink,
}

impl SqlDialect {
    pub fn name(self) -> &'static str {
        match self {
            SqlDialect::Ksqldb => "ksqldb",
            SqlDialect::Flink => "flink",
        }
    }

    /// The product's own spelling, for people.
    pub fn title(self) -> &'static str {
        match self {
            SqlDialect::Ksqldb => "ksqlDB",
            SqlDialect::Flink => "Flink SQL",
        }
    }
}

/// Where the script's tables read and write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SqlConnector {
    /// Kafka topics on these bootstrap servers (Flink needs them in the script; ksqlDB is
    /// already connected to its cluster).
    Kafka { bootstrap_servers: String },
    /// Flink's filesystem connector: inputs under `DIR/<input topic>/` as [`table_row`]
    /// writes them, outputs to `DIR/<output topic>/` as JSON lines.
    Filesystem { data_dir: String },
}

/// The Kafka topic behind each of the pipeline's five streams. Defaults are the original
/// deployment's names; users whose producers wrote other names (the original's mock-data
/// scripts wrote `customers-locations` and `products-promotions`) map them here.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopicNames {
    names: [String; Topic::ALL.len()],
}

impl Default for TopicNames {
    fn default() -> Self {
        Self {
            names: Topic::ALL.map(|t| t.name().to_owned()),
        }
    }
}

impl TopicNames {
    pub fn get(&self, topic: Topic) -> &str {
        &self.names[topic.index()]
    }

    pub fn set(&mut self, topic: Topic, name: impl Into<String>) {
        self.names[topic.index()] = name.into();
    }
}

/// Everything a script is generated from.
#[derive(Clone, Debug, PartialEq)]
pub struct SqlExport {
    pub dialect: SqlDialect,
    pub connector: SqlConnector,
    pub topics: TopicNames,
    pub params: PipelineParams,
}

/// Why a script cannot be written.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SqlExportError {
    #[error(
        "match key sku_or_segment picks the SKU or the segment per promotion, from the SKUs \
         product records carried before it; a SQL join has one fixed key: export with \
         --match-key segment or --match-key sku"
    )]
    MatchKeyNotExpressible,
    #[error("ksqlDB reads only Kafka topics: use --dialect flink for files")]
    KsqldbReadsOnlyKafka,
    #[error("a topic name must not be empty or contain quotes: {0:?}")]
    BadTopicName(String),
    #[error("the radius and km_to_ft must be finite numbers (radius ≥ 0, factor > 0)")]
    BadDistance,
}

/// The script for `export`.
pub fn export_sql(export: &SqlExport) -> Result<String, SqlExportError> {
    if export.params.match_key == PromotionMatchKey::SkuOrSegment {
        return Err(SqlExportError::MatchKeyNotExpressible);
    }
    for topic in Topic::ALL {
        let name = export.topics.get(topic);
        if name.is_empty() || name.contains(['\'', '`', '"', '\n']) {
            return Err(SqlExportError::BadTopicName(name.to_owned()));
        }
    }
    let p = &export.params;
    if !(p.radius_ft.is_finite()
        && p.radius_ft >= 0.0
        && p.km_to_ft.is_finite()
        && p.km_to_ft > 0.0)
    {
        return Err(SqlExportError::BadDistance);
    }
    match export.dialect {
        SqlDialect::Ksqldb => match &export.connector {
            SqlConnector::Kafka { .. } => Ok(ksqldb::script(export)),
            SqlConnector::Filesystem { .. } => Err(SqlExportError::KsqldbReadsOnlyKafka),
        },
        SqlDialect::Flink => Ok(flink::script(export)),
    }
}

/// The columns a promotion joins products on.
fn match_column(params: &PipelineParams) -> &'static str {
    match params.match_key {
        PromotionMatchKey::Sku => "sku",
        _ => "segment",
    }
}

/// A number as SQL writes it: the shortest text that reads back as the same f64 (`100`,
/// `3281`, `99.5`).
fn sql_number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{value:.0}")
    } else {
        format!("{value}")
    }
}

/// A time span in the largest unit that holds it exactly, as (count, unit) with the unit
/// in upper case and singular: (1, "HOUR"), (90, "SECOND"), (1500, "MILLISECOND").
fn whole_units(ms: i64) -> (i64, &'static str) {
    const UNITS: [(i64, &str); 5] = [
        (86_400_000, "DAY"),
        (3_600_000, "HOUR"),
        (60_000, "MINUTE"),
        (1_000, "SECOND"),
        (1, "MILLISECOND"),
    ];
    if ms == 0 {
        return (0, "SECOND");
    }
    UNITS
        .iter()
        .find(|(size, _)| ms % size == 0)
        .map(|&(size, unit)| (ms / size, unit))
        .unwrap_or((ms, "MILLISECOND"))
}

/// The comment block every script opens with: what it was made from, and the parameters.
fn header(out: &mut String, export: &SqlExport, tool: &str) {
    let p = &export.params;
    let (w1, w2) = (p.promotion_window(), p.customer_window());
    let _ = writeln!(
        out,
        "-- The in-store personalization pipeline as {tool}, written by `instore export-sql` \
         (instore {}).",
        env!("CARGO_PKG_VERSION")
    );
    let _ = writeln!(out, "-- Parameters:");
    let _ = writeln!(
        out,
        "--   VALID_PROMOTIONS: products and promotions of the same {} at most {} apart \
         (grace {}).",
        match_column(p),
        span_words(w1.within_ms),
        span_words(w1.grace_ms)
    );
    let _ = writeln!(
        out,
        "--   NEARBY_CUSTOMERS: pings and valid promotions of the same country at most {} \
         apart (grace {}),",
        span_words(w2.within_ms),
        span_words(w2.grace_ms)
    );
    let _ = writeln!(
        out,
        "--     within {} ft (GEO_DISTANCE in km × {}).",
        sql_number(p.radius_ft),
        sql_number(p.km_to_ft)
    );
    let _ = writeln!(
        out,
        "--   Coordinates: DECIMAL(10,5), {}.",
        match p.decimal_policy {
            super::DecimalPolicy::Strict => "a value with more than 5 decimals refuses its record",
            super::DecimalPolicy::Round => "more than 5 decimals are rounded half-up",
        }
    );
    let topics: Vec<String> = Topic::ALL
        .iter()
        .map(|&t| export.topics.get(t).to_owned())
        .collect();
    let _ = writeln!(out, "--   Topics: {}.", topics.join(", "));
    let _ = writeln!(
        out,
        "-- Notifications (PROMOTION_NOTIFICATIONS) keep per-shopper state that these joins do \
         not: run `instore run --notifications` on NEARBY_CUSTOMERS for them."
    );
}

/// "1 hour", "22 hours", "90 seconds".
fn span_words(ms: i64) -> String {
    let (n, unit) = whole_units(ms);
    let unit = unit.to_ascii_lowercase();
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

#[cfg(test)]
mod tests;
