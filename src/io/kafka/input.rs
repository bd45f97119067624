//! Reading the pipeline's topics from a cluster, once for every command: `instore run -b`,
//! `instore record` and the console all read through a [`KafkaInput`]. It reads topics whole
//! (every partition, from a start position), or, for scale-out, `customers_locations` as a
//! member of a consumer group with the two small topics whole. It outlives its brokers
//! (see [`ResumingReader`]), can stop where the topics ended when it started (`--until-end`),
//! and says in its own error type what went wrong; rdkafka's types stay inside `io::kafka`.

use std::time::Duration;

use rdkafka::error::KafkaError;
use rdkafka::types::RDKafkaErrorCode;

use super::client::StartAt;
use super::config::KafkaConfig;
pub use super::readers::PositionChange;
use super::readers::{EndOffsets, GroupReader};
use super::resuming::{ReadEvent, ResumingReader};
use crate::engine::{RawRecord, Topic};

/// Why Kafka reading or writing could not start, or is not going well.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KafkaInputError {
    /// The cluster did not answer or refused (tried again by callers that wait).
    #[error("cannot reach the cluster: {0}")]
    Unreachable(String),
    /// A consumer error librdkafka is working through (reading goes on).
    #[error("{0}")]
    Consumer(String),
    #[error("every broker is away: reconnecting")]
    BrokersAway,
    /// An error reading cannot go on from.
    #[error("reading stopped: {0}")]
    Fatal(String),
    #[error("cannot create a Kafka producer: {0}")]
    Producer(String),
    #[error("cannot start the Kafka reader thread: {0}")]
    Thread(String),
}

/// Records waiting on the broker for one input topic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopicLag {
    pub topic: String,
    pub records: i64,
}

/// Which topics, and how they are shared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InputSpec {
    /// These topics whole, by this one reader.
    Whole(Vec<String>),
    /// Scale-out: `customers_locations` shared by the consumer group `group`, the two small
    /// input topics read whole by every member (every member needs every valid promotion).
    /// A partition a member takes over is read again from `rewind_ms` (the customer join's
    /// retention) before its first record, so the member's join holds its recent pings.
    Group { group: String, rewind_ms: i64 },
}

impl InputSpec {
    /// The three input topics, whole.
    pub fn inputs() -> InputSpec {
        InputSpec::Whole(Topic::INPUTS.map(|t| t.name().to_owned()).to_vec())
    }
}

/// What one poll came to.
#[derive(Debug)]
pub enum InputEvent {
    Record(RawRecord<'static>),
    /// Nothing within the timeout.
    Idle,
    /// A consumer error librdkafka is working through; reading goes on.
    Trouble(KafkaInputError),
    /// Every broker is away: the client was let go, a fresh one is tried.
    Away,
    /// A fresh client reads on, after this long away; partitions it could not go on reading
    /// where the last one stopped (recreated topics, deleted records).
    Back(Duration, Vec<PositionChange>),
}

enum Readers {
    Whole(ResumingReader),
    Group {
        pings: Box<GroupReader>,
        broadcast: ResumingReader,
        /// To join the group again with a fresh client when every broker was away.
        config: KafkaConfig,
        group: String,
        from: StartAt,
    },
}

pub struct KafkaInput {
    readers: Readers,
    /// With `until_end`: where each partition ended when reading started.
    ends: Option<EndOffsets>,
}

fn words(e: KafkaError) -> KafkaInputError {
    KafkaInputError::Unreachable(e.to_string())
}

impl KafkaInput {
    /// Opens the readers `spec` asks for, from `from`; fails when the cluster cannot be
    /// reached within `timeout`. With `until_end` (whole topics only), the input knows where
    /// the topics end now and [`KafkaInput::at_end`] says when that is read.
    pub fn open(
        config: &KafkaConfig,
        spec: &InputSpec,
        from: StartAt,
        until_end: bool,
        timeout: Duration,
    ) -> Result<KafkaInput, KafkaInputError> {
        let readers = match spec {
            InputSpec::Whole(topics) => {
                let names: Vec<&str> = topics.iter().map(String::as_str).collect();
                Readers::Whole(ResumingReader::open(config, &names, from, timeout).map_err(words)?)
            }
            InputSpec::Group { group, rewind_ms } => Readers::Group {
                pings: Box::new(
                    GroupReader::join(
                        config,
                        group,
                        &[Topic::CustomersLocations.name()],
                        from,
                        *rewind_ms,
                    )
                    .map_err(words)?,
                ),
                broadcast: ResumingReader::open(
                    config,
                    &[
                        Topic::StoresProducts.name(),
                        Topic::ProductsPromotions.name(),
                    ],
                    from,
                    timeout,
                )
                .map_err(words)?,
                config: config.clone(),
                group: group.clone(),
                from,
            },
        };
        let ends = match (&readers, until_end) {
            (Readers::Whole(whole), true) => whole
                .reader()
                .map(|r| r.end_offsets(timeout))
                .transpose()
                .map_err(words)?,
            _ => None,
        };
        Ok(KafkaInput { readers, ends })
    }

    /// The next thing that happened, waiting up to `timeout`. Only an error reading cannot
    /// go on from is `Err`.
    pub fn poll(&mut self, timeout: Duration) -> Result<InputEvent, KafkaInputError> {
        let event = match &mut self.readers {
            Readers::Whole(reader) => from_read(reader.poll(timeout))?,
            Readers::Group {
                pings,
                broadcast,
                config,
                group,
                from,
            } => {
                let event = from_read(broadcast.poll(Duration::ZERO))?;
                if !matches!(event, InputEvent::Idle) {
                    return Ok(event);
                }
                match pings.poll(timeout) {
                    None => InputEvent::Idle,
                    Some(Ok(record)) => InputEvent::Record(record),
                    Some(Err(e @ KafkaError::MessageConsumptionFatal(_))) => {
                        return Err(KafkaInputError::Fatal(e.to_string()))
                    }
                    // The group's committed offsets say where a fresh member goes on.
                    Some(Err(KafkaError::MessageConsumption(RDKafkaErrorCode::AllBrokersDown))) => {
                        pings
                            .rejoin(config, group, &[Topic::CustomersLocations.name()], *from)
                            .map_err(words)?;
                        InputEvent::Away
                    }
                    Some(Err(e)) => InputEvent::Trouble(KafkaInputError::Consumer(e.to_string())),
                }
            }
        };
        if let Some(ends) = self.ends.as_mut() {
            match &event {
                InputEvent::Record(r) => ends.observe(&r.topic, r.partition, r.offset),
                InputEvent::Idle => {
                    if let Readers::Whole(whole) = &self.readers {
                        if let Some(reader) = whole.reader() {
                            ends.check_positions(reader).map_err(words)?;
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(event)
    }

    /// With `until_end`: whether the record at `offset` of a partition was in it when the
    /// input opened (rather than produced since).
    pub fn held_at_open(&self, topic: &str, partition: i32, offset: i64) -> bool {
        self.ends
            .as_ref()
            .is_some_and(|ends| ends.held(topic, partition, offset))
    }

    /// With `until_end`: whether every partition is read up to where it ended at the start.
    pub fn at_end(&self) -> bool {
        self.ends.as_ref().is_some_and(EndOffsets::reached)
    }

    /// Records not read yet per topic (whole topics only; a group member's share moves).
    pub fn lag(&self, timeout: Duration) -> Result<Vec<TopicLag>, KafkaInputError> {
        let reader = match &self.readers {
            Readers::Whole(whole) => whole.reader(),
            Readers::Group { broadcast, .. } => broadcast.reader(),
        };
        let Some(reader) = reader else {
            return Ok(Vec::new());
        };
        let lag = reader.lag(timeout).map_err(words)?;
        Ok(lag
            .into_iter()
            .map(|(topic, records)| TopicLag { topic, records })
            .collect())
    }

    /// Drops the client(s) reading whole topics and opens fresh ones from the offsets read
    /// (the console does when errors go on for long).
    pub fn reopen(&mut self) {
        match &mut self.readers {
            Readers::Whole(r) | Readers::Group { broadcast: r, .. } => r.reopen(),
        }
    }

    /// Every member computes VALID_PROMOTIONS (it needs them for its own pings) but only the
    /// holder of partition 0 of `customers_locations` writes them, so each is written once.
    pub fn writes_valid_promotions(&self) -> bool {
        match &self.readers {
            Readers::Whole(_) => true,
            Readers::Group { pings, .. } => pings.owns(Topic::CustomersLocations.name(), 0),
        }
    }

    /// Whether reading is committed (a group member's): whole topics are read from `--from`
    /// on every start.
    pub fn commits(&self) -> bool {
        matches!(self.readers, Readers::Group { .. })
    }

    /// Commits what a group member has read so far; nothing to do for whole topics (they are
    /// read from `--from` on every start). Call only once every output of the records read
    /// so far is acknowledged.
    pub fn commit_read(&mut self) -> Result<(), KafkaInputError> {
        match &mut self.readers {
            Readers::Whole(_) => Ok(()),
            Readers::Group { pings, .. } => pings.commit_read().map_err(words),
        }
    }

    /// What this member holds, for progress lines (empty when reading whole topics).
    pub fn holding(&self) -> String {
        match &self.readers {
            Readers::Whole(_) => String::new(),
            Readers::Group { pings, .. } => format!(" (holding {})", pings.assignment()),
        }
    }
}

fn from_read(read: Result<ReadEvent, KafkaError>) -> Result<InputEvent, KafkaInputError> {
    Ok(
        match read.map_err(|e| KafkaInputError::Fatal(e.to_string()))? {
            ReadEvent::Record(r) => InputEvent::Record(r),
            ReadEvent::Idle => InputEvent::Idle,
            ReadEvent::Trouble(e) => InputEvent::Trouble(KafkaInputError::Consumer(e.to_string())),
            ReadEvent::Away => InputEvent::Away,
            ReadEvent::Back(after, changes) => InputEvent::Back(after, changes),
        },
    )
}
