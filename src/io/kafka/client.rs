//! rdkafka clients for instore: a producer that counts every delivery report, a reader that
//! assigns whole topics from a start position, and topic creation.

use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::{ClientConfig, RDKafkaLogLevel};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{DeliveryResult, Header, Headers, Message, OwnedHeaders};
use rdkafka::producer::{BaseRecord, Producer, ProducerContext, ThreadedProducer};
use rdkafka::{ClientContext, Offset, TopicPartitionList};

use super::config::KafkaConfig;
use crate::engine::RawRecord;
use crate::io::rfc3339::parse_rfc3339_ms;

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

fn client_config(config: &KafkaConfig) -> ClientConfig {
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

/// Counts delivery reports (the broker's acknowledgements).
#[derive(Debug, Default)]
pub struct DeliveryCounter {
    delivered: AtomicU64,
    failed: AtomicU64,
    last_error: Mutex<Option<String>>,
}

impl ClientContext for DeliveryCounter {}

impl ProducerContext for DeliveryCounter {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        match result {
            Ok(_) => {
                self.delivered.fetch_add(1, Ordering::Relaxed);
            }
            Err((e, _)) => {
                self.failed.fetch_add(1, Ordering::Relaxed);
                if let Ok(mut last) = self.last_error.lock() {
                    *last = Some(e.to_string());
                }
            }
        }
    }
}

/// An idempotent producer (acks=all) whose every record ends delivered or counted as failed.
pub struct KafkaProducer {
    inner: ThreadedProducer<DeliveryCounter>,
    sent: u64,
}

impl KafkaProducer {
    /// For bulk loads (`simulate`): records wait up to 20 ms to fill bigger batches.
    pub fn new(config: &KafkaConfig) -> Result<KafkaProducer, KafkaError> {
        KafkaProducer::with_linger(config, "20")
    }

    /// For notifications (`run`'s outputs): a shopper is waiting, so a record waits at most
    /// 1 ms for company; under load batches still fill while earlier ones are in flight.
    pub fn low_latency(config: &KafkaConfig) -> Result<KafkaProducer, KafkaError> {
        KafkaProducer::with_linger(config, "1")
    }

    fn with_linger(config: &KafkaConfig, linger_ms: &str) -> Result<KafkaProducer, KafkaError> {
        let mut c = producer_config(config);
        if config.get("linger.ms").is_none() {
            c.set("linger.ms", linger_ms);
        }
        let inner = c.create_with_context(DeliveryCounter::default())?;
        Ok(KafkaProducer { inner, sent: 0 })
    }

    /// Queues one record, waiting while librdkafka's queue is full.
    pub fn send(
        &mut self,
        topic: &str,
        key: Option<&str>,
        payload: Option<&str>,
        timestamp_ms: i64,
    ) -> Result<(), KafkaError> {
        self.send_with_headers(topic, key, payload, timestamp_ms, &[])
    }

    /// [`KafkaProducer::send`] with headers.
    pub fn send_with_headers(
        &mut self,
        topic: &str,
        key: Option<&str>,
        payload: Option<&str>,
        timestamp_ms: i64,
        headers: &[(&str, &str)],
    ) -> Result<(), KafkaError> {
        loop {
            let mut record: BaseRecord<'_, str, str> =
                BaseRecord::to(topic).timestamp(timestamp_ms);
            if !headers.is_empty() {
                let mut owned = OwnedHeaders::new_with_capacity(headers.len());
                for (k, v) in headers {
                    owned = owned.insert(Header {
                        key: k,
                        value: Some(*v),
                    });
                }
                record = record.headers(owned);
            }
            if let Some(k) = key {
                record = record.key(k);
            }
            if let Some(p) = payload {
                record = record.payload(p);
            }
            match self.inner.send(record) {
                Ok(()) => {
                    self.sent += 1;
                    return Ok(());
                }
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => {
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err((e, _)) => return Err(e),
            }
        }
    }

    /// Waits until every queued record is acknowledged or failed.
    pub fn flush(&self, timeout: Duration) -> Result<(), KafkaError> {
        self.inner.flush(timeout)
    }

    pub fn sent(&self) -> u64 {
        self.sent
    }

    pub fn delivered(&self) -> u64 {
        self.inner.context().delivered.load(Ordering::Relaxed)
    }

    pub fn failed(&self) -> u64 {
        self.inner.context().failed.load(Ordering::Relaxed)
    }

    pub fn last_error(&self) -> Option<String> {
        self.inner
            .context()
            .last_error
            .lock()
            .ok()
            .and_then(|e| e.clone())
    }
}

/// Creates those of `topics` the cluster lacks; returns the ones created.
pub fn ensure_topics(
    config: &KafkaConfig,
    topics: &[&str],
    partitions: i32,
    timeout: Duration,
) -> Result<Vec<String>, KafkaError> {
    let probe: BaseConsumer = client_config(config).create()?;
    let metadata = probe.fetch_metadata(None, timeout)?;
    let existing: Vec<&str> = metadata
        .topics()
        .iter()
        .filter(|t| t.error().is_none())
        .map(|t| t.name())
        .collect();
    let missing: Vec<&str> = topics
        .iter()
        .copied()
        .filter(|t| !existing.contains(t))
        .collect();
    if missing.is_empty() {
        return Ok(Vec::new());
    }
    let admin: AdminClient<DefaultClientContext> = client_config(config).create()?;
    let new: Vec<NewTopic<'_>> = missing
        .iter()
        .map(|t| NewTopic::new(t, partitions, TopicReplication::Fixed(-1)))
        .collect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .map_err(|e| KafkaError::AdminOpCreation(e.to_string()))?;
    let options = AdminOptions::new().operation_timeout(Some(timeout));
    let results = runtime.block_on(admin.create_topics(new.iter(), &options))?;
    let mut created = Vec::new();
    for r in results {
        match r {
            Ok(name) => created.push(name),
            Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((name, code)) => {
                return Err(KafkaError::AdminOp(code))
                    .map_err(|e| KafkaError::AdminOpCreation(format!("creating {name}: {e}")))
            }
        }
    }
    Ok(created)
}

/// What "test connection" found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterCheck {
    pub brokers: Vec<String>,
    /// Each asked topic and its partition count (`None`: missing).
    pub topics: Vec<(String, Option<usize>)>,
}

/// Connects, authenticates (metadata needs both) and looks for `topics`.
pub fn check_cluster(
    config: &KafkaConfig,
    topics: &[&str],
    timeout: Duration,
) -> Result<ClusterCheck, KafkaError> {
    let probe: BaseConsumer = client_config(config).create()?;
    let metadata = probe.fetch_metadata(None, timeout)?;
    let brokers = metadata
        .brokers()
        .iter()
        .map(|b| format!("{}:{} (id {})", b.host(), b.port(), b.id()))
        .collect();
    let topics = topics
        .iter()
        .map(|name| {
            let found = metadata
                .topics()
                .iter()
                .find(|t| t.name() == *name && t.error().is_none())
                .map(|t| t.partitions().len());
            ((*name).to_owned(), found)
        })
        .collect();
    Ok(ClusterCheck { brokers, topics })
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
    }

    /// [`TopicReader::open`], but partitions already read go on from `resume`: after a broker
    /// outage a fresh client takes over (librdkafka 2.12 can crash on a stale metadata cache
    /// when topics come back with new ids). A partition whose log now ends before the
    /// position (recreated) is read from its start, one whose log now starts after it
    /// (retention) from its first record.
    pub fn open_resuming(
        config: &KafkaConfig,
        topics: &[&str],
        start: StartAt,
        resume: &ReadPositions,
        timeout: Duration,
    ) -> Result<TopicReader, KafkaError> {
        let mut c = client_config(config);
        c.set("enable.auto.commit", "false");
        if config.get("group.id").is_none() {
            c.set("group.id", "instore-reader");
        }
        let consumer: BaseConsumer = c.create()?;
        let mut assignment = TopicPartitionList::new();
        let mut resumed = TopicPartitionList::new();
        for topic in topics {
            let metadata = consumer.fetch_metadata(Some(topic), timeout)?;
            for t in metadata.topics() {
                if let Some(e) = t.error() {
                    return Err(KafkaError::MetadataFetch(e.into()));
                }
                for p in t.partitions() {
                    if let Some(next) = resume.next(t.name(), p.id()) {
                        let (low, high) = consumer.fetch_watermarks(t.name(), p.id(), timeout)?;
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
        Ok(TopicReader {
            consumer,
            start: assignment,
        })
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
