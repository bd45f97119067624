//! The consumers under [`super::input`]: whole topics assigned from a start position (or
//! resumed from the offsets read), a consumer-group member, where partitions end for
//! `--until-end`, and how consumer errors are reported while librdkafka reconnects.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{Headers, Message};
use rdkafka::{Offset, TopicPartitionList};

use super::client::{client_config, StartAt};
use super::config::KafkaConfig;
use crate::engine::RawRecord;

/// How long looking up and seeking to where a taken-over partition is read again may take.
const REWIND_TIMEOUT: Duration = Duration::from_secs(10);

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
        // A start by the joins' windows counts back from now.
        let now_ms = crate::io::recordings::now_ms();
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
                    let offset = match start.since_ms(t.name(), now_ms) {
                        Some(ms) => Offset::Offset(ms),
                        None if start == StartAt::Latest => Offset::End,
                        None => Offset::Beginning,
                    };
                    assignment.add_partition_offset(t.name(), p.id(), offset)?;
                }
            }
        }
        if matches!(start, StartAt::Time(_) | StartAt::Windows { .. }) && assignment.count() > 0 {
            assignment = consumer.offsets_for_times(assignment, timeout)?;
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

    /// Whether the record at `offset` of a partition was in it when the ends were taken.
    pub fn held(&self, topic: &str, partition: i32, offset: i64) -> bool {
        self.partitions
            .iter()
            .any(|p| p.partition == partition && p.topic == topic && offset < p.end_offset)
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
///
/// At least once, and whole: offsets are committed only by [`GroupReader::commit_read`], which
/// the caller calls once the outputs of every record read so far are acknowledged; and a
/// partition this member is given with a committed offset is first read again from
/// `rewind_ms` before that offset, so the joins hold its recent pings as its last holder's
/// did (a promotion that arrives later still meets them). What that reads twice comes out
/// again with the same output ids.
pub struct GroupReader {
    consumer: BaseConsumer,
    /// How far back in record time a partition taken over is read again.
    rewind_ms: i64,
    /// The offset after the last record handed out, by topic and partition.
    read: HashMap<String, HashMap<i32, i64>>,
    /// The partitions held at the last look, and when that was.
    held: HashSet<(String, i32)>,
    last_look: Option<Instant>,
    /// Partitions taken over whose next record tells the time to read again from.
    probing: HashSet<(String, i32)>,
    /// Partitions taken over still to be moved to the record before their committed offset.
    to_probe: HashMap<(String, i32), i64>,
}

/// A member unheard of this long leaves the group and its partitions move to the others
/// (librdkafka's 45 s default would leave a killed member's pings unread that long).
const SESSION_TIMEOUT_MS: &str = "10000";

/// librdkafka's 300 s default rebalance wait, shortened the same way; the run loop polls
/// many times a second.
const MAX_POLL_INTERVAL_MS: &str = "20000";

/// How often the partitions held are looked at for new ones.
const LOOK_EVERY: Duration = Duration::from_millis(100);

impl GroupReader {
    pub fn join(
        config: &KafkaConfig,
        group: &str,
        topics: &[&str],
        start: StartAt,
        rewind_ms: i64,
    ) -> Result<GroupReader, KafkaError> {
        let mut c = client_config(config);
        c.set("group.id", group);
        c.set("enable.auto.commit", "false");
        if config.get("session.timeout.ms").is_none() {
            c.set("session.timeout.ms", SESSION_TIMEOUT_MS);
        }
        // Also the rebalance timeout: how long a rebalance waits for members that do not
        // rejoin (a killed one) before going on without them.
        if config.get("max.poll.interval.ms").is_none() {
            c.set("max.poll.interval.ms", MAX_POLL_INTERVAL_MS);
        }
        c.set(
            "auto.offset.reset",
            match start {
                StartAt::Earliest | StartAt::Time(_) | StartAt::Windows { .. } => "earliest",
                StartAt::Latest => "latest",
            },
        );
        let consumer: BaseConsumer = c.create()?;
        consumer.subscribe(topics)?;
        Ok(GroupReader {
            consumer,
            rewind_ms,
            read: HashMap::new(),
            held: HashSet::new(),
            last_look: None,
            probing: HashSet::new(),
            to_probe: HashMap::new(),
        })
    }

    /// Joins the group again with a fresh client (every broker was away), keeping what was
    /// read and what is held: the joins' state is intact.
    pub fn rejoin(
        &mut self,
        config: &KafkaConfig,
        group: &str,
        topics: &[&str],
        start: StartAt,
    ) -> Result<(), KafkaError> {
        let fresh = GroupReader::join(config, group, topics, start, self.rewind_ms)?;
        self.consumer = fresh.consumer;
        Ok(())
    }

    pub fn poll(&mut self, timeout: Duration) -> Option<Result<RawRecord<'static>, KafkaError>> {
        loop {
            let message = match self.consumer.poll(timeout) {
                Some(Ok(m)) => m,
                Some(Err(e)) => return Some(Err(e)),
                None => {
                    // Rebalances happen inside poll: look for partitions given meanwhile.
                    if let Err(e) = self.look_at_assignment() {
                        return Some(Err(e));
                    }
                    return None;
                }
            };
            let record = to_raw(&message);
            drop(message);
            if let Err(e) = self.look_at_assignment() {
                return Some(Err(e));
            }
            if self.rewound(&record) {
                continue;
            }
            match self.read.get_mut(&*record.topic) {
                Some(partitions) => {
                    partitions.insert(record.partition, record.offset + 1);
                }
                None => {
                    let first = HashMap::from([(record.partition, record.offset + 1)]);
                    self.read.insert(record.topic.to_string(), first);
                }
            }
            return Some(Ok(record));
        }
    }

    /// Notes partitions given since the last look: one with a committed offset past its
    /// start is read from the record before that offset, whose time says how far to go back.
    fn look_at_assignment(&mut self) -> Result<(), KafkaError> {
        if self.last_look.is_some_and(|at| at.elapsed() < LOOK_EVERY) {
            return Ok(());
        }
        self.last_look = Some(Instant::now());
        let assignment = self.consumer.assignment()?;
        let held: HashSet<(String, i32)> = assignment
            .elements()
            .iter()
            .map(|e| (e.topic().to_owned(), e.partition()))
            .collect();
        for (topic, partition) in held.difference(&self.held) {
            let mut one = TopicPartitionList::new();
            one.add_partition(topic, *partition);
            let committed = self.consumer.committed_offsets(one, REWIND_TIMEOUT)?;
            let Some(Offset::Offset(next)) = committed
                .find_partition(topic, *partition)
                .map(|e| e.offset())
            else {
                continue;
            };
            let (low, _) = self
                .consumer
                .fetch_watermarks(topic, *partition, REWIND_TIMEOUT)?;
            if next <= low {
                continue;
            }
            self.to_probe.insert((topic.clone(), *partition), next - 1);
        }
        self.to_probe.retain(|key, _| held.contains(key));
        self.probing.retain(|key| held.contains(key));
        self.held = held;
        // A seek right after a rebalance can fail until fetching has started: tried again
        // at the next look. Meanwhile the partition's first record tells the time as well.
        let mut seeked = Vec::new();
        for ((topic, partition), offset) in &self.to_probe {
            self.probing.insert((topic.clone(), *partition));
            match self
                .consumer
                .seek(topic, *partition, Offset::Offset(*offset), REWIND_TIMEOUT)
            {
                Ok(()) => seeked.push((topic.clone(), *partition)),
                Err(e) => tracing::debug!(%topic, partition, error = %e, "seek not taken yet"),
            }
        }
        for key in seeked {
            self.to_probe.remove(&key);
        }
        Ok(())
    }

    /// With the first record of a partition taken over: seeks back to the records within
    /// `rewind_ms` before it and says so (the record comes again after them). Should the
    /// cluster not answer, the record is kept and reading goes on from it, with a warning
    /// that the partition's earlier pings are missing from the join: never a record dropped.
    fn rewound(&mut self, record: &RawRecord<'_>) -> bool {
        if self.probing.is_empty()
            || !self
                .probing
                .remove(&(record.topic.to_string(), record.partition))
        {
            return false;
        }
        // Its first record came before the seek to the committed offset took: that seek is
        // no longer wanted.
        self.to_probe
            .remove(&(record.topic.to_string(), record.partition));
        match self.seek_back(record) {
            Ok(back_to) => {
                tracing::info!(
                    topic = %record.topic,
                    partition = record.partition,
                    from = back_to,
                    to = record.offset,
                    "taking over a partition: reading its recent pings again"
                );
                true
            }
            Err(e) => {
                tracing::warn!(
                    topic = %record.topic,
                    partition = record.partition,
                    error = %e,
                    "taking over a partition: could not read its recent pings again; matches \
                     of later promotions with them are missing"
                );
                false
            }
        }
    }

    /// Seeks `record`'s partition back to the first record within `rewind_ms` before it.
    fn seek_back(&self, record: &RawRecord<'_>) -> Result<i64, KafkaError> {
        let ts_ms = record.timestamp_ms.unwrap_or(0);
        let mut at = TopicPartitionList::new();
        at.add_partition_offset(
            &record.topic,
            record.partition,
            Offset::Offset(ts_ms.saturating_sub(self.rewind_ms).max(0)),
        )?;
        let found = self.consumer.offsets_for_times(at, REWIND_TIMEOUT)?;
        let back_to = found
            .find_partition(&record.topic, record.partition)
            .and_then(|e| match e.offset() {
                Offset::Offset(o) => Some(o.min(record.offset)),
                _ => None,
            })
            .unwrap_or(record.offset);
        self.consumer.seek(
            &record.topic,
            record.partition,
            Offset::Offset(back_to),
            REWIND_TIMEOUT,
        )?;
        Ok(back_to)
    }

    /// Commits the offsets after the records read so far, for the partitions this member
    /// still holds. Call only once every output of those records is acknowledged.
    pub fn commit_read(&mut self) -> Result<(), KafkaError> {
        let held = self.consumer.assignment()?;
        let mut offsets = TopicPartitionList::new();
        for (topic, partitions) in &self.read {
            for (partition, next) in partitions {
                if held.find_partition(topic, *partition).is_some() {
                    offsets.add_partition_offset(topic, *partition, Offset::Offset(*next))?;
                }
            }
        }
        if offsets.count() > 0 {
            self.consumer.commit(&offsets, CommitMode::Sync)?;
        }
        Ok(())
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
