//! A whole-topic reader that outlives its brokers: `instore run -b`, `instore record` and the
//! console read through it.
//!
//! librdkafka reconnects by itself and reports the outage as consumer errors; those are
//! passed on to be shown, not treated as the end. When every broker is away, the client is let
//! go and a fresh one is opened, every [`REOPEN_EVERY`], from the offsets read so far:
//! librdkafka 2.12 can crash (a corrupt metadata cache) when a broker comes back with
//! recreated topics under a client that cached the old ones.

use std::time::{Duration, Instant};

use rdkafka::error::KafkaError;
use rdkafka::types::RDKafkaErrorCode;

use super::client::StartAt;
use super::config::KafkaConfig;
use super::readers::{PositionChange, ReadPositions, TopicReader};
use crate::engine::RawRecord;

/// How often a fresh client is tried while every broker is away (and how long a try waits).
pub const REOPEN_EVERY: Duration = Duration::from_secs(2);

/// What one poll came to.
#[derive(Debug)]
pub enum ReadEvent {
    Record(RawRecord<'static>),
    /// Nothing within the timeout (or the brokers are away).
    Idle,
    /// A consumer error librdkafka is working through.
    Trouble(KafkaError),
    /// Every broker is away: the client was let go.
    Away,
    /// A fresh client reads on, after this long away; partitions it could not go on reading
    /// where the last one stopped.
    Back(Duration, Vec<PositionChange>),
}

pub struct ResumingReader {
    config: KafkaConfig,
    topics: Vec<String>,
    /// Where partitions never read start.
    start: StartAt,
    reader: Option<TopicReader>,
    positions: ReadPositions,
    /// Since when every broker has been away, and the last reopening try.
    away: Option<(Instant, Instant)>,
}

impl ResumingReader {
    /// Opens the topics; fails when the cluster cannot be reached now.
    pub fn open(
        config: &KafkaConfig,
        topics: &[&str],
        start: StartAt,
        timeout: Duration,
    ) -> Result<ResumingReader, KafkaError> {
        let reader = TopicReader::open(config, topics, start, timeout)?;
        Ok(ResumingReader {
            config: config.clone(),
            topics: topics.iter().map(|t| (*t).to_owned()).collect(),
            start,
            reader: Some(reader),
            positions: ReadPositions::default(),
            away: None,
        })
    }

    /// The current client (none while the brokers are away).
    pub fn reader(&self) -> Option<&TopicReader> {
        self.reader.as_ref()
    }

    /// The next thing that happened, waiting up to `timeout`. Only a fatal error is `Err`.
    pub fn poll(&mut self, timeout: Duration) -> Result<ReadEvent, KafkaError> {
        let Some(reader) = self.reader.as_ref() else {
            return Ok(self.try_reopen(timeout));
        };
        match reader.poll(timeout) {
            None => Ok(ReadEvent::Idle),
            Some(Ok(record)) => {
                self.positions
                    .observe(&record.topic, record.partition, record.offset);
                Ok(ReadEvent::Record(record))
            }
            Some(Err(e @ KafkaError::MessageConsumptionFatal(_))) => Err(e),
            Some(Err(KafkaError::MessageConsumption(RDKafkaErrorCode::AllBrokersDown))) => {
                self.reader = None;
                let now = Instant::now();
                self.away = Some((now, now));
                Ok(ReadEvent::Away)
            }
            Some(Err(e)) => Ok(ReadEvent::Trouble(e)),
        }
    }

    /// Drops the client and opens a fresh one from the offsets read (the console does when
    /// errors go on for long).
    pub fn reopen(&mut self) {
        self.reader = None;
        let now = Instant::now();
        self.away = Some((now, now - REOPEN_EVERY));
    }

    fn try_reopen(&mut self, timeout: Duration) -> ReadEvent {
        let Some((since, tried)) = self.away else {
            return ReadEvent::Idle;
        };
        if tried.elapsed() < REOPEN_EVERY {
            std::thread::sleep(timeout.min(REOPEN_EVERY - tried.elapsed()));
            return ReadEvent::Idle;
        }
        let topics: Vec<&str> = self.topics.iter().map(String::as_str).collect();
        match TopicReader::open_resuming(
            &self.config,
            &topics,
            self.start,
            &self.positions,
            REOPEN_EVERY,
        ) {
            Ok((reader, changes)) => {
                self.reader = Some(reader);
                self.away = None;
                ReadEvent::Back(since.elapsed(), changes)
            }
            Err(_) => {
                self.away = Some((since, Instant::now()));
                ReadEvent::Idle
            }
        }
    }
}
