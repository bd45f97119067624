//! Why a record was refused, and the per-topic ledger of every refusal.
//!
//! The original pipeline hid bad records in ksqlDB's processing log. Here every refused record
//! is counted by topic and reason, and the first few of each kind are kept whole so an operator
//! can see what the producer actually sent.

use std::collections::BTreeMap;
use std::fmt;

use super::decimal::DecimalError;

/// A column of one of the input topics, named as in the original `CREATE STREAM`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Column {
    Uid,
    Sku,
    Segment,
    Variant,
    Latitude,
    Longitude,
    Country,
    Pid,
    DiscountPct,
    Title,
    ValidUntil,
}

impl Column {
    /// Every column, in declaration order (so `ALL[c as usize] == c`).
    pub const ALL: [Column; 11] = [
        Column::Uid,
        Column::Sku,
        Column::Segment,
        Column::Variant,
        Column::Latitude,
        Column::Longitude,
        Column::Country,
        Column::Pid,
        Column::DiscountPct,
        Column::Title,
        Column::ValidUntil,
    ];

    /// The upper-case name ksqlDB gives the column.
    pub const fn name(self) -> &'static str {
        match self {
            Column::Uid => "UID",
            Column::Sku => "SKU",
            Column::Segment => "SEGMENT",
            Column::Variant => "VARIANT",
            Column::Latitude => "LATITUDE",
            Column::Longitude => "LONGITUDE",
            Column::Country => "COUNTRY",
            Column::Pid => "PID",
            Column::DiscountPct => "DISCOUNT_PCT",
            Column::Title => "TITLE",
            Column::ValidUntil => "VALID_UNTIL",
        }
    }

    /// The SQL type, for messages.
    pub fn sql_type(self) -> &'static str {
        match self {
            Column::Sku => "BIGINT",
            Column::Latitude | Column::Longitude => "DECIMAL(10,5)",
            Column::DiscountPct => "DECIMAL",
            _ => "VARCHAR",
        }
    }
}

/// Why a record was refused. Equal reasons are counted together.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RejectReason {
    /// A dump line that is not a kcat -J record at all.
    BrokenLine,
    /// A record on a topic the pipeline does not read.
    NotAnInputTopic,
    /// The envelope had no timestamp (or a negative one).
    NoTimestamp,
    /// A tombstone: the record has no value.
    NullValue,
    InvalidJson,
    NotAnObject,
    /// A field of a JSON type the column cannot take (SKU `"abc"`, latitude `true`).
    WrongType {
        column: Column,
        found: &'static str,
    },
    /// A DECIMAL column with more than 5 fractional digits under the `strict` policy.
    DecimalScale {
        column: Column,
    },
    /// A number outside its column's range (|DECIMAL(10,5)| ≥ 100000, BIGINT overflow).
    NumberOutOfRange {
        column: Column,
    },
    LatitudeOutOfRange,
    LongitudeOutOfRange,
}

impl RejectReason {
    pub(crate) fn from_decimal(column: Column, error: DecimalError, found: &'static str) -> Self {
        match error {
            DecimalError::NotANumber => RejectReason::WrongType { column, found },
            DecimalError::ScaleTooLarge => RejectReason::DecimalScale { column },
            DecimalError::OutOfRange => RejectReason::NumberOutOfRange { column },
        }
    }
}

impl fmt::Display for RejectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RejectReason::BrokenLine => f.write_str("broken dump line"),
            RejectReason::NotAnInputTopic => f.write_str("not an input topic"),
            RejectReason::NoTimestamp => f.write_str("no timestamp"),
            RejectReason::NullValue => f.write_str("null value"),
            RejectReason::InvalidJson => f.write_str("value is not JSON"),
            RejectReason::NotAnObject => f.write_str("value is not a JSON object"),
            RejectReason::WrongType { column, found } => write!(
                f,
                "wrong type: {} is {}, got {found}",
                column.name(),
                column.sql_type()
            ),
            RejectReason::DecimalScale { column } => {
                write!(f, "decimal scale > 5: {}", column.name())
            }
            RejectReason::NumberOutOfRange { column } => {
                write!(f, "number out of range: {}", column.name())
            }
            RejectReason::LatitudeOutOfRange => f.write_str("latitude outside ±90"),
            RejectReason::LongitudeOutOfRange => f.write_str("longitude outside ±180"),
        }
    }
}

/// A refused record kept for the operator to look at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RejectedSample {
    pub partition: i32,
    pub offset: i64,
    pub timestamp_ms: Option<i64>,
    /// The value (or the broken line), cut to [`SAMPLE_MAX_CHARS`].
    pub raw: String,
}

/// Samples kept per (topic, reason): enough to see the pattern, bounded for a long run.
pub const SAMPLES_PER_REASON: usize = 5;
/// A sample's text is cut here so one huge bad record cannot hold megabytes.
pub const SAMPLE_MAX_CHARS: usize = 2_000;

/// Counts and samples of refused records, by topic name and reason.
///
/// Keyed by the topic's name rather than [`super::Topic`] because records on topics we do not
/// read (and broken lines, which have none) are counted too.
#[derive(Clone, Debug, Default)]
pub struct RejectLedger {
    entries: BTreeMap<(String, RejectReason), RejectEntry>,
    total: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RejectEntry {
    pub count: u64,
    pub samples: Vec<RejectedSample>,
}

impl RejectLedger {
    /// Counts one refusal; `sample` is only called while this kind still wants samples, so the
    /// hot path never copies a payload it would throw away.
    pub fn record(
        &mut self,
        topic: &str,
        reason: RejectReason,
        sample: impl FnOnce() -> RejectedSample,
    ) {
        self.total += 1;
        let entry = self.entries.entry((topic.to_owned(), reason)).or_default();
        entry.count += 1;
        if entry.samples.len() < SAMPLES_PER_REASON {
            let mut sample = sample();
            if let Some((cut, _)) = sample.raw.char_indices().nth(SAMPLE_MAX_CHARS) {
                sample.raw.truncate(cut);
                sample.raw.push('…');
            }
            entry.samples.push(sample);
        }
    }

    /// Counts `n` refusals of one kind without samples.
    pub fn record_many(&mut self, topic: &str, reason: RejectReason, n: u64) {
        if n == 0 {
            return;
        }
        self.total += n;
        self.entries
            .entry((topic.to_owned(), reason))
            .or_default()
            .count += n;
    }

    pub fn total(&self) -> u64 {
        self.total
    }

    /// Refusals on one topic, all reasons.
    pub fn total_for_topic(&self, topic: &str) -> u64 {
        self.entries
            .iter()
            .filter(|((t, _), _)| t == topic)
            .map(|(_, e)| e.count)
            .sum()
    }

    /// (topic, reason, entry), ordered by topic then reason.
    pub fn iter(&self) -> impl Iterator<Item = (&str, RejectReason, &RejectEntry)> {
        self.entries.iter().map(|((t, r), e)| (t.as_str(), *r, e))
    }

    pub fn count(&self, topic: &str, reason: RejectReason) -> u64 {
        self.entries
            .get(&(topic.to_owned(), reason))
            .map_or(0, |e| e.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(raw: &str) -> RejectedSample {
        RejectedSample {
            partition: 0,
            offset: 1,
            timestamp_ms: Some(2),
            raw: raw.to_owned(),
        }
    }

    #[test]
    fn counts_by_topic_and_reason_with_bounded_samples() {
        let mut ledger = RejectLedger::default();
        for i in 0..8 {
            ledger.record("stores_products", RejectReason::InvalidJson, || {
                sample(&format!("bad {i}"))
            });
        }
        ledger.record("customers_locations", RejectReason::InvalidJson, || {
            sample("x")
        });
        assert_eq!(ledger.total(), 9);
        assert_eq!(
            ledger.count("stores_products", RejectReason::InvalidJson),
            8
        );
        assert_eq!(ledger.total_for_topic("customers_locations"), 1);
        let (_, _, entry) = ledger
            .iter()
            .find(|(t, _, _)| *t == "stores_products")
            .unwrap();
        assert_eq!(entry.samples.len(), SAMPLES_PER_REASON);
        assert_eq!(entry.samples[0].raw, "bad 0");
    }

    #[test]
    fn long_samples_are_cut() {
        let mut ledger = RejectLedger::default();
        let long = "é".repeat(SAMPLE_MAX_CHARS + 10);
        ledger.record("t", RejectReason::NotAnObject, || sample(&long));
        let (_, _, entry) = ledger.iter().next().unwrap();
        assert_eq!(entry.samples[0].raw.chars().count(), SAMPLE_MAX_CHARS + 1);
    }

    #[test]
    fn reasons_read_like_the_issue() {
        let reason = RejectReason::WrongType {
            column: Column::Sku,
            found: "string",
        };
        assert_eq!(reason.to_string(), "wrong type: SKU is BIGINT, got string");
        assert_eq!(
            RejectReason::DecimalScale {
                column: Column::Latitude
            }
            .to_string(),
            "decimal scale > 5: LATITUDE"
        );
    }
}
