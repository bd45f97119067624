//! The Kafka numbers of BENCHMARKS.md (issue 5), against a running broker.
//!
//! `consume BOOTSTRAP` reads the three input topics from the beginning to the end they had
//! when it started, with a bare rdkafka consumer that only touches each payload: the rate the
//! engine (`instore run -b … --from earliest --until-end`) is compared with.
//!
//! `latency BOOTSTRAP [PINGS_PER_S] [SECONDS]` needs a fresh broker (empty topics) and
//! `instore run -b BOOTSTRAP --from earliest` running on it. It produces a small catalog and promotions stamped now, then customer pings stamped
//! with the wall clock at a steady rate, and reads NEARBY_CUSTOMERS: an output's Kafka timestamp
//! is its ping's (the latest input of the join), so now − timestamp is the time from the ping
//! being produced to its notification being consumed.
//!
//! `cargo run --release --example kafka_bench -- consume 127.0.0.1:9092`

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
use rdkafka::{Offset, TopicPartitionList};

use instore::engine::Topic;
use instore::io::workload::{generate, WorkloadRecord, WorkloadSpec};

type Error = Box<dyn std::error::Error>;

const TIMEOUT: Duration = Duration::from_secs(10);

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: kafka_bench consume BOOTSTRAP | latency BOOTSTRAP [PINGS_PER_S] [SECONDS]";
    let (mode, bootstrap) = match (args.first(), args.get(1)) {
        (Some(m), Some(b)) => (m.as_str(), b.as_str()),
        _ => return Err(usage.into()),
    };
    let number = |i: usize, default: u64| -> Result<u64, Error> {
        Ok(args
            .get(i)
            .map(|s| s.parse())
            .transpose()?
            .unwrap_or(default))
    };
    match mode {
        "consume" => consume(bootstrap),
        "latency" => latency(bootstrap, number(2, 1000)?, number(3, 30)?),
        _ => Err(usage.into()),
    }
}

fn consumer(bootstrap: &str, extra: &[(&str, &str)]) -> Result<BaseConsumer, Error> {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", bootstrap)
        .set("group.id", "instore-bench")
        .set("enable.auto.commit", "false");
    for (key, value) in extra {
        config.set(*key, *value);
    }
    Ok(config.create()?)
}

/// Bare consume of the inputs, stopping where `instore run --until-end` stops.
fn consume(bootstrap: &str) -> Result<(), Error> {
    let started = Instant::now();
    let consumer = consumer(bootstrap, &[])?;
    let mut assignment = TopicPartitionList::new();
    let mut ends = Vec::new();
    for topic in Topic::INPUTS.map(Topic::name) {
        let metadata = consumer.fetch_metadata(Some(topic), TIMEOUT)?;
        for t in metadata.topics() {
            for p in t.partitions() {
                let (low, high) = consumer.fetch_watermarks(topic, p.id(), TIMEOUT)?;
                assignment.add_partition_offset(topic, p.id(), Offset::Beginning)?;
                ends.push((topic, p.id(), high, high <= low));
            }
        }
    }
    consumer.assign(&assignment)?;
    let (mut records, mut bytes) = (0u64, 0u64);
    while !ends.iter().all(|e| e.3) {
        let Some(message) = consumer.poll(Duration::from_millis(100)) else {
            continue;
        };
        let message = message?;
        records += 1;
        bytes += message.payload().map_or(0, |p| p.len() as u64);
        let (topic, partition, offset) = (message.topic(), message.partition(), message.offset());
        if let Some(e) = ends.iter_mut().find(|e| e.1 == partition && e.0 == topic) {
            e.3 |= offset + 1 >= e.2;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "bare consume: {records} records ({:.1} MB of payload) in {seconds:.3} s: {:.0} records/s",
        bytes as f64 / 1e6,
        records as f64 / seconds
    );
    Ok(())
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn latency(bootstrap: &str, pings_per_s: u64, seconds: u64) -> Result<(), Error> {
    let producer: ThreadedProducer<DefaultProducerContext> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("linger.ms", "0")
        .create()?;
    let spec = WorkloadSpec {
        stores: 20,
        products: 1_000,
        pings: (pings_per_s * seconds) as usize,
        start_ms: now_ms(),
        ..WorkloadSpec::default()
    };
    let workload = generate(&spec);
    // The catalog and the promotions first, stamped now (inside both join windows).
    for r in workload
        .iter()
        .filter(|r| r.topic != Topic::CustomersLocations)
    {
        send_now(&producer, r)?;
    }
    producer.flush(TIMEOUT)?;

    // Tansu answers fetches only when its wait runs out: keep that wait short so the reader
    // adds little of its own (a Kafka broker answers as soon as data is there).
    let reader = consumer(bootstrap, &[("fetch.wait.max.ms", "5")])?;
    // From the beginning (on a fresh broker): Tansu 0.6 answers `latest` and time lookups with
    // its last batch's start, so neither marks "now" there.
    // The pings too: one hop through the broker, the baseline the engine's two hops compare to.
    let mut whole = TopicPartitionList::new();
    for topic in [Topic::NearbyCustomers, Topic::CustomersLocations].map(Topic::name) {
        let metadata = reader.fetch_metadata(Some(topic), TIMEOUT)?;
        for t in metadata.topics() {
            for p in t.partitions() {
                whole.add_partition_offset(topic, p.id(), Offset::Beginning)?;
            }
        }
    }
    reader.assign(&whole)?;
    // Let the engine take in the catalog and the consumer settle at the end.
    let warmup = Instant::now();
    while warmup.elapsed() < Duration::from_secs(3) {
        let _ = reader.poll(Duration::from_millis(100));
    }

    let done = Arc::new(AtomicBool::new(false));
    let collector = {
        let done = Arc::clone(&done);
        std::thread::spawn(move || -> (Vec<i64>, Vec<i64>) {
            let (mut nearby_ms, mut pings_ms) = (Vec::new(), Vec::new());
            let mut quiet_since = Instant::now();
            let nearby = Topic::NearbyCustomers.name();
            while !done.load(Ordering::Relaxed) || quiet_since.elapsed() < Duration::from_secs(2) {
                if let Some(Ok(m)) = reader.poll(Duration::from_millis(50)) {
                    if let Some(ts) = m.timestamp().to_millis() {
                        let into = if m.topic() == nearby {
                            &mut nearby_ms
                        } else {
                            &mut pings_ms
                        };
                        into.push(now_ms() - ts);
                    }
                    quiet_since = Instant::now();
                }
            }
            (nearby_ms, pings_ms)
        })
    };
    let started = Instant::now();
    let pings = workload
        .iter()
        .filter(|r| r.topic == Topic::CustomersLocations);
    for (i, r) in pings.enumerate() {
        let due = started + Duration::from_secs_f64(i as f64 / pings_per_s as f64);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        send_now(&producer, r)?;
    }
    producer.flush(TIMEOUT)?;
    done.store(true, Ordering::Relaxed);
    let (nearby_ms, pings_ms) = collector.join().map_err(|_| "collector panicked")?;
    println!("{} pings at {pings_per_s}/s for {seconds} s", spec.pings);
    println!(
        "  ping produced -> its NEARBY_CUSTOMERS consumed: {}",
        percentiles(nearby_ms)
    );
    println!(
        "  ping produced -> the ping consumed (one broker hop): {}",
        percentiles(pings_ms)
    );
    Ok(())
}

fn percentiles(mut ms: Vec<i64>) -> String {
    ms.sort_unstable();
    let at = |p: f64| -> i64 {
        let i = ((ms.len() as f64 * p).ceil() as usize).saturating_sub(1);
        ms.get(i).copied().unwrap_or(-1)
    };
    format!(
        "{} records, p50 {} ms, p90 {} ms, p99 {} ms, max {} ms",
        ms.len(),
        at(0.5),
        at(0.9),
        at(0.99),
        ms.last().copied().unwrap_or(-1)
    )
}

/// Produces a workload record stamped with the wall clock now.
fn send_now(
    producer: &ThreadedProducer<DefaultProducerContext>,
    r: &WorkloadRecord,
) -> Result<(), Error> {
    let mut record = BaseRecord::<str, str>::to(r.topic.name())
        .payload(&r.payload)
        .timestamp(now_ms());
    if let Some(k) = r.key.as_deref() {
        record = record.key(k);
    }
    loop {
        match producer.send(record) {
            Ok(()) => return Ok(()),
            Err((
                rdkafka::error::KafkaError::MessageProduction(
                    rdkafka::types::RDKafkaErrorCode::QueueFull,
                ),
                r,
            )) => {
                record = r;
                std::thread::sleep(Duration::from_millis(1));
            }
            Err((e, _)) => return Err(e.into()),
        }
    }
}
