//! `instore run -b …`: the engine as a service on Kafka. Reads the three input topics (whole,
//! from `--from`), writes VALID_PROMOTIONS and NEARBY_CUSTOMERS back with the idempotent
//! producer (key as in the engine, Kafka timestamp = output timestamp), and ends on
//! Ctrl-C/SIGTERM, `--duration` or `--idle` with every output acknowledged and the summary.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::kafka_args::KAFKA_TIMEOUT;
use super::run::{RunArgs, RunReport};
use crate::engine::{Pipeline, PipelineParams, Topic};
use crate::io::kafka::client::{
    ensure_topics, ConsumerTrouble, GroupReader, KafkaProducer, StartAt,
};
use crate::io::kafka::config::KafkaConfig;
use crate::io::kafka::resuming::{ReadEvent, ResumingReader};
use rdkafka::error::KafkaError;
use rdkafka::types::RDKafkaErrorCode;

const PROGRESS_EVERY: Duration = Duration::from_secs(10);

pub fn run_kafka(args: &RunArgs, params: PipelineParams) -> anyhow::Result<RunReport> {
    let started = Instant::now();
    let config = args.kafka.config()?;
    // A service logs: RUST_LOG=debug for more, warn for less.
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .try_init();
    tracing::info!(config = %config.describe(), from = ?args.from, group = ?args.group, "starting");
    let mut producer = if args.no_produce {
        None
    } else {
        let mut outputs: Vec<&str> = Topic::OUTPUTS.map(Topic::name).to_vec();
        outputs.extend(args.dead_letter.as_deref());
        let created = ensure_topics(&config, &outputs, 1, KAFKA_TIMEOUT)?;
        if !created.is_empty() {
            tracing::info!(topics = %created.join(", "), "created output topics");
        }
        Some(KafkaProducer::low_latency(&config)?)
    };
    let mut inputs = Inputs::open(&config, args)?;
    let mut ends = match (&inputs, args.until_end) {
        (Inputs::Whole(whole), true) => whole
            .reader()
            .map(|r| r.end_offsets(KAFKA_TIMEOUT))
            .transpose()?,
        _ => None,
    };
    let mut writes_valid = inputs.writes_valid_promotions();
    let mut last_ownership_check = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let on_signal = Arc::clone(&stop);
    let _ = ctrlc::set_handler(move || on_signal.store(true, Ordering::Relaxed));
    let deadline = args
        .duration
        .map(|d| started + Duration::from_millis(d.max(0) as u64));
    let idle = args.idle.map(|d| Duration::from_millis(d.max(0) as u64));
    let mut trouble = ConsumerTrouble::new(Duration::from_secs(10));
    let mut pipeline = Pipeline::new(params);
    let mut outputs = Vec::new();
    let mut payload = Vec::new();
    let mut consumed = 0u64;
    let mut last_record = Instant::now();
    let mut last_progress = Instant::now();
    while !stop.load(Ordering::Relaxed)
        && deadline.is_none_or(|d| Instant::now() < d)
        && idle.is_none_or(|i| last_record.elapsed() < i)
        && !ends.as_ref().is_some_and(|e| e.reached())
    {
        if last_ownership_check.elapsed() >= Duration::from_millis(200) {
            last_ownership_check = Instant::now();
            writes_valid = inputs.writes_valid_promotions();
        }
        let record = match inputs.poll()? {
            ReadEvent::Record(record) => Some(record),
            ReadEvent::Idle => {
                if let (Some(ends), Inputs::Whole(whole)) = (ends.as_mut(), &inputs) {
                    if let Some(reader) = whole.reader() {
                        ends.check_positions(reader)?;
                    }
                }
                None
            }
            ReadEvent::Trouble(e) => {
                if let Some(text) = trouble.note(&e) {
                    tracing::warn!(error = %text, "reading the input topics");
                }
                None
            }
            ReadEvent::Away => {
                tracing::warn!("every broker is away: reconnecting with a fresh client");
                None
            }
            ReadEvent::Back(after) => {
                tracing::info!(?after, "the cluster is back: reading on");
                None
            }
        };
        if let Some(record) = record {
            if let Some(ends) = ends.as_mut() {
                ends.observe(&record.topic, record.partition, record.offset);
            }
            let rejected_before = pipeline.stats().rejects.total();
            pipeline.push(&record, &mut outputs);
            if pipeline.stats().rejects.total() > rejected_before {
                if let (Some(topic), Some(p)) = (args.dead_letter.as_deref(), producer.as_mut()) {
                    let reason = pipeline
                        .last_rejection()
                        .map(|r| r.to_string())
                        .unwrap_or_default();
                    let (partition, offset) =
                        (record.partition.to_string(), record.offset.to_string());
                    let headers = [
                        ("instore.reason", reason.as_str()),
                        ("instore.topic", &*record.topic),
                        ("instore.partition", partition.as_str()),
                        ("instore.offset", offset.as_str()),
                    ];
                    let ts = record.timestamp_ms.unwrap_or(0);
                    p.send_with_headers(
                        topic,
                        record.key.as_deref(),
                        record.payload.as_deref(),
                        ts,
                        &headers,
                    )?;
                }
            }
            consumed += 1;
            last_record = Instant::now();
            if let Some(p) = producer.as_mut() {
                for output in &outputs {
                    if output.topic() == Topic::ValidPromotions && !writes_valid {
                        continue;
                    }
                    payload.clear();
                    output.write_payload(&mut payload);
                    let text = std::str::from_utf8(&payload)?;
                    p.send(
                        output.topic().name(),
                        output.key(),
                        Some(text),
                        output.timestamp_ms(),
                    )?;
                }
            }
            outputs.clear();
        }
        if last_progress.elapsed() >= PROGRESS_EVERY {
            last_progress = Instant::now();
            tracing::info!(
                records_in = consumed,
                holding = %inputs.describe(),
                nearby = pipeline.stats().topic(Topic::NearbyCustomers).records,
                rejected = pipeline.stats().rejects.total(),
                outputs_sent = producer.as_ref().map_or(0, |p| p.sent()),
                outputs_acknowledged = producer.as_ref().map_or(0, |p| p.delivered()),
                "progress"
            );
        }
    }
    if let Some(p) = producer {
        p.flush(Duration::from_secs(30))?;
        tracing::info!(
            sent = p.sent(),
            acknowledged = p.delivered(),
            failed = p.failed(),
            "outputs flushed"
        );
        eprintln!(
            "instore run: {} outputs produced, {} acknowledged, {} failed",
            p.sent(),
            p.delivered(),
            p.failed()
        );
        anyhow::ensure!(
            p.failed() == 0 && p.delivered() == p.sent(),
            "not every output was acknowledged (last error: {})",
            p.last_error().unwrap_or_else(|| "none reported".into())
        );
    }
    Ok(RunReport {
        pipeline,
        lines_read: consumed,
        wall_time: started.elapsed(),
    })
}

/// Where the input records come from.
enum Inputs {
    /// One instance reads all three topics whole.
    Whole(ResumingReader),
    /// Scale-out: `customers_locations` shared by a consumer group, the two small topics read
    /// whole by every member (every member needs every valid promotion).
    Group {
        pings: GroupReader,
        broadcast: ResumingReader,
        /// To join the group again with a fresh client when every broker was away.
        config: KafkaConfig,
        group: String,
        from: StartAt,
    },
}

impl Inputs {
    /// The readers `args` asks for.
    fn open(config: &KafkaConfig, args: &RunArgs) -> Result<Inputs, KafkaError> {
        Ok(match args.group.as_deref() {
            None => Inputs::Whole(ResumingReader::open(
                config,
                &Topic::INPUTS.map(Topic::name),
                args.from,
                KAFKA_TIMEOUT,
            )?),
            Some(group) => Inputs::Group {
                pings: GroupReader::join(
                    config,
                    group,
                    &[Topic::CustomersLocations.name()],
                    args.from,
                )?,
                broadcast: ResumingReader::open(
                    config,
                    &[
                        Topic::StoresProducts.name(),
                        Topic::ProductsPromotions.name(),
                    ],
                    args.from,
                    KAFKA_TIMEOUT,
                )?,
                config: config.clone(),
                group: group.to_owned(),
                from: args.from,
            },
        })
    }

    fn poll(&mut self) -> Result<ReadEvent, KafkaError> {
        let timeout = Duration::from_millis(100);
        match self {
            Inputs::Whole(reader) => reader.poll(timeout),
            Inputs::Group {
                pings,
                broadcast,
                config,
                group,
                from,
            } => {
                let event = broadcast.poll(Duration::ZERO)?;
                if !matches!(event, ReadEvent::Idle) {
                    return Ok(event);
                }
                match pings.poll(timeout) {
                    None => Ok(ReadEvent::Idle),
                    Some(Ok(record)) => Ok(ReadEvent::Record(record)),
                    Some(Err(e @ KafkaError::MessageConsumptionFatal(_))) => Err(e),
                    // The group's committed offsets say where a fresh member goes on.
                    Some(Err(KafkaError::MessageConsumption(RDKafkaErrorCode::AllBrokersDown))) => {
                        *pings = GroupReader::join(
                            config,
                            group,
                            &[Topic::CustomersLocations.name()],
                            *from,
                        )?;
                        Ok(ReadEvent::Away)
                    }
                    Some(Err(e)) => Ok(ReadEvent::Trouble(e)),
                }
            }
        }
    }

    /// Every member computes VALID_PROMOTIONS (it needs them for its own pings) but only the
    /// holder of partition 0 of `customers_locations` writes them, so each is written once.
    fn writes_valid_promotions(&self) -> bool {
        match self {
            Inputs::Whole(_) => true,
            Inputs::Group { pings, .. } => pings.owns(Topic::CustomersLocations.name(), 0),
        }
    }

    fn describe(&self) -> String {
        match self {
            Inputs::Whole(_) => String::new(),
            Inputs::Group { pings, .. } => format!(" (holding {})", pings.assignment()),
        }
    }
}
