//! The consumers under [`super::input`]: whole topics assigned from a start position (or
//! resumed from the offsets read), a consumer-group member, where partitions end for
//! `--until-end`, and how consumer errors are reported while librdkafka reconnects.

use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{Headers, Message};
use rdkafka::{Offset, TopicPartitionList};

use super::client::{client_config, StartAt};
use super::config::KafkaConfig;
use crate::engine::RawRecord;

/// A partition a fresh client could not go on reading from where the last one stopped: what
/// the operator is told, since records were skipped or are read again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PositionChange {
    pub topic: String,
    pub partition: i32,
    /// The next offset the last client would have read.
    pub next: i64,
    /// The partition's log now: first offset, and the offset after its last.
    pub low: i64,
    pub high: i64,
}

impl std::fmt::Display for PositionChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Self {
            topic,
            partition,
            next,
            low,
            high,
        } = self;
        if next > high {
            write!(
                f,
                "{topic}[{partition}] now ends at offset {high}, before offset {next} already \
                 read: the topic was recreated; reading it from its start"
            )
        } else {
            write!(
                f,
                "{topic}[{partition}] now starts at offset {low}: offsets {next}..{low} were \
                 deleted before they were read; reading on from {low}"
            )
        }
    }
}

/// Reads whole topics (every partition, assigned, no consumer group) from a start position.
pub struct TopicReader {
    consumer: BaseConsumer,
    /// Where each partition was told to start (`--until-end` needs it before the first fetch).
    start: TopicPartitionList,
}

impl TopicReader {
    /// Records not read yet, per topic: the high watermark minus the position, summed over
    /// the assigned partitions (a partition not read from yet counts from its low watermark).
    pub fn lag(&self, timeout: Duration) -> Result<Vec<(String, i64)>, KafkaError> {
        let positions = self.consumer.position()?;
        let mut per_topic: Vec<(String, i64)> = Vec::new();
        for e in positions.elements() {
            let (low, high) = self
                .consumer
                .fetch_watermarks(e.topic(), e.partition(), timeout)?;
            let at = match e.offset() {
                Offset::Offset(o) => o,
                _ => low,
            };
            let lag = (high - at).max(0);
            match per_topic.iter_mut().find(|(t, _)| t == e.topic()) {
                Some((_, sum)) => *sum += lag,
                None => per_topic.push((e.topic().to_owned(), lag)),
            }
        }
        Ok(per_topic)
    }

    pub fn open(
        config: &KafkaConfig,
        topics: &[&str],
        start: StartAt,
        timeout: Duration,
    ) -> Result<TopicReader, KafkaError> {
        TopicReader::open_resuming(config, topics, start, &ReadPositions::default(), timeout)
            .map(|(reader, _)| reader)
    }

    /// [`TopicReader::open`], but partitions already read go on from `resume`: after a broker
    /// outage a fresh client takes over (librdkafka 2.12 can crash on a stale metadata cache
    /// when topics come back with new ids). A partition whose log now ends before the
    /// position (recreated) is read from its start, one whose log now starts after it
    /// (retention) from its first record; both are returned, to be said.
    pub fn open_resuming(
        config: &KafkaConfig,
        topics: &[&str],
        start: StartAt,
        resume: &ReadPositions,
        timeout: Duration,
    ) -> Result<(TopicReader, Vec<PositionChange>), KafkaError> {
        let mut c = client_config(config);
        c.set("enable.auto.commit", "false");
        if config.get("group.id").is_none() {
            c.set("group.id", "instore-reader");
        }
        let consumer: BaseConsumer = c.create()?;
        let mut assignment = TopicPartitionList::new();
        let mut resumed = TopicPartitionList::new();
        let mut changes = Vec::new();
        for topic in topics {
            let metadata = consumer.fetch_metadata(Some(topic), timeout)?;
            for t in metadata.topics() {
                if let Some(e) = t.error() {
                    return Err(KafkaError::MetadataFetch(e.into()));
                }
                for p in t.partitions() {
                    if let Some(next) = resume.next(t.name(), p.id()) {
                        let (low, high) = consumer.fetch_watermarks(t.name(), p.id(), timeout)?;
                        if next > high || next < low {
                            changes.push(PositionChange {
                                topic: t.name().to_owned(),
                                partition: p.id(),
                                next,
                                low,
                                high,
                            });
                        }
                        let offset = if next > high {
                            Offset::Beginning
                        } else {
                            Offset::Offset(next.max(low))
                        };
                        resumed.add_partition_offset(t.name(), p.id(), offset)?;
                        continue;
                    }
                    let offset = match start {
                        StartAt::Earliest => Offset::Beginning,
                        StartAt::Latest => Offset::End,
                        StartAt::Time(ms) => Offset::Offset(ms),
                    };
                    assignment.add_partition_offset(t.name(), p.id(), offset)?;
                }
            }
        }
        if let StartAt::Time(_) = start {
            if assignment.count() > 0 {
                assignment = consumer.offsets_for_times(assignment, timeout)?;
            }
        }
        for e in resumed.elements() {
            assignment.add_partition_offset(e.topic(), e.partition(), e.offset())?;
        }
        consumer.assign(&assignment)?;
        let reader = TopicReader {
            consumer,
            start: assignment,
        };
        Ok((reader, changes))
    }

    /// Where every assigned partition ends now; a partition that is empty, or whose start
    /// position is already at its end, counts as read.
    pub fn end_offsets(&self, timeout: Duration) -> Result<EndOffsets, KafkaError> {
        let mut partitions = Vec::new();
        for e in self.start.elements() {
            let (low, high) = self
                .consumer
                .fetch_watermarks(e.topic(), e.partition(), timeout)?;
            let nothing_to_read = match e.offset() {
                Offset::End => true,
                Offset::Offset(at) => at >= high,
                _ => false,
            };
            partitions.push(PartitionEnd {
                topic: e.topic().to_owned(),
                partition: e.partition(),
                end_offset: high,
                reached: high <= low || nothing_to_read,
            });
        }
        let mut ends = EndOffsets { partitions };
        ends.check_positions(self)?;
        Ok(ends)
    }

    /// The next record, waiting up to `timeout`; `None` when nothing came.
    pub fn poll(&self, timeout: Duration) -> Option<Result<RawRecord<'static>, KafkaError>> {
        let message = match self.consumer.poll(timeout)? {
            Ok(m) => m,
            Err(e) => return Some(Err(e)),
        };
        Some(Ok(to_raw(&message)))
    }
}

/// The next offset to read per partition, from the records read so far.
#[derive(Debug, Default)]
pub struct ReadPositions {
    next: Vec<(String, i32, i64)>,
}

impl ReadPositions {
    pub fn observe(&mut self, topic: &str, partition: i32, offset: i64) {
        match self
            .next
            .iter_mut()
            .find(|(t, p, _)| *p == partition && t == topic)
        {
            Some((_, _, next)) => *next = (*next).max(offset + 1),
            None => self.next.push((topic.to_owned(), partition, offset + 1)),
        }
    }

    pub fn next(&self, topic: &str, partition: i32) -> Option<i64> {
        self.next
            .iter()
            .find(|(t, p, _)| *p == partition && t == topic)
            .map(|(_, _, n)| *n)
    }
}

/// The end each assigned partition had when it was taken (its high watermark), for runs that
/// read what is there and stop (`--until-end`, like kcat's `-e`). Records produced later are
/// not waited for.
///
/// Tansu 0.6 answers ListOffsets(latest) with the base offset of the partition's last batch
/// instead of the log end, so against Tansu a run stops before that last batch; Kafka,
/// Confluent Cloud and Redpanda report the log end.
#[derive(Debug)]
pub struct EndOffsets {
    partitions: Vec<PartitionEnd>,
}

/// Where one partition ended, and whether it has been read that far.
#[derive(Debug)]
struct PartitionEnd {
    topic: String,
    partition: i32,
    end_offset: i64,
    reached: bool,
}

impl EndOffsets {
    /// Whether every partition has been read up to its end.
    pub fn reached(&self) -> bool {
        self.partitions.iter().all(|p| p.reached)
    }

    fn find(&mut self, topic: &str, partition: i32) -> Option<&mut PartitionEnd> {
        self.partitions
            .iter_mut()
            .find(|p| p.partition == partition && p.topic == topic)
    }

    /// Notes a record read: its partition is done once the record just before its end is in.
    pub fn observe(&mut self, topic: &str, partition: i32, offset: i64) {
        if let Some(p) = self.find(topic, partition) {
            p.reached |= offset + 1 >= p.end_offset;
        }
    }

    /// Marks partitions whose read position passed the end without a record at the end
    /// (transaction markers and compacted-away offsets have none).
    pub fn check_positions(&mut self, reader: &TopicReader) -> Result<(), KafkaError> {
        for e in reader.consumer.position()?.elements() {
            if let Offset::Offset(at) = e.offset() {
                if let Some(p) = self.find(e.topic(), e.partition()) {
                    p.reached |= at >= p.end_offset;
                }
            }
        }
        Ok(())
    }
}

/// Reads topics as a member of a consumer group: partitions are spread over the group's
/// members and move on rebalance (scale-out of `customers_locations`).
pub struct GroupReader {
    consumer: BaseConsumer,
}

impl GroupReader {
    pub fn join(
        config: &KafkaConfig,
        group: &str,
        topics: &[&str],
        start: StartAt,
    ) -> Result<GroupReader, KafkaError> {
        let mut c = client_config(config);
        c.set("group.id", group);
        c.set("enable.auto.commit", "true");
        c.set(
            "auto.offset.reset",
            match start {
                StartAt::Earliest | StartAt::Time(_) => "earliest",
                StartAt::Latest => "latest",
            },
        );
        let consumer: BaseConsumer = c.create()?;
        consumer.subscribe(topics)?;
        Ok(GroupReader { consumer })
    }

    pub fn poll(&self, timeout: Duration) -> Option<Result<RawRecord<'static>, KafkaError>> {
        let message = match self.consumer.poll(timeout)? {
            Ok(m) => m,
            Err(e) => return Some(Err(e)),
        };
        Some(Ok(to_raw(&message)))
    }

    /// Whether this member currently holds `partition` of `topic`.
    pub fn owns(&self, topic: &str, partition: i32) -> bool {
        self.consumer
            .assignment()
            .map(|a| a.find_partition(topic, partition).is_some())
            .unwrap_or(false)
    }

    /// Partitions this member holds, as `topic/partition` text.
    pub fn assignment(&self) -> String {
        self.consumer
            .assignment()
            .map(|a| {
                a.elements()
                    .iter()
                    .map(|e| format!("{}/{}", e.topic(), e.partition()))
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .unwrap_or_default()
    }
}

fn to_raw(message: &rdkafka::message::BorrowedMessage<'_>) -> RawRecord<'static> {
    let headers = message
        .headers()
        .map(|h| {
            h.iter()
                .map(|hd| {
                    (
                        hd.key.to_owned(),
                        hd.value.map(|v| String::from_utf8_lossy(v).into_owned()),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    RawRecord {
        topic: message.topic().to_owned().into(),
        partition: message.partition(),
        offset: message.offset(),
        timestamp_ms: message.timestamp().to_millis(),
        key: message
            .key()
            .map(|k| String::from_utf8_lossy(k).into_owned().into()),
        headers,
        payload: message
            .payload()
            .map(|p| String::from_utf8_lossy(p).into_owned().into()),
    }
}

/// Consumer errors while librdkafka reconnects by itself (brokers down, transport failures, a
/// partition briefly unknown) are reported and reading goes on: this says at most once per
/// `every` (or when the error changes) what is wrong.
#[derive(Debug)]
pub struct ConsumerTrouble {
    every: Duration,
    last: Option<(String, Instant)>,
    /// Errors seen, all told.
    pub count: u64,
}

impl ConsumerTrouble {
    pub fn new(every: Duration) -> Self {
        Self {
            every,
            last: None,
            count: 0,
        }
    }

    /// `Some(text)` when it is time to say it (again).
    pub fn note(&mut self, e: &impl std::fmt::Display) -> Option<String> {
        self.count += 1;
        let text = e.to_string();
        let due = self
            .last
            .as_ref()
            .is_none_or(|(said, at)| *said != text || at.elapsed() >= self.every);
        if due {
            self.last = Some((text.clone(), Instant::now()));
        }
        due.then_some(text)
    }
}

/// Reads until `idle` passes without a record or `deadline` is reached (tests, `record`).
pub fn drain_until_idle(
    reader: &TopicReader,
    idle: Duration,
    deadline: Instant,
    mut each: impl FnMut(RawRecord<'static>),
) -> Result<u64, KafkaError> {
    let mut n = 0;
    let mut last = Instant::now();
    while Instant::now() < deadline && last.elapsed() < idle {
        match reader.poll(Duration::from_millis(100)) {
            Some(Ok(r)) => {
                each(r);
                n += 1;
                last = Instant::now();
            }
            Some(Err(e)) => return Err(e),
            None => {}
        }
    }
    Ok(n)
}
