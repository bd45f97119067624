//! `instore run -b …`: the engine as a service on Kafka. Reads the three input topics (whole,
//! or `customers_locations` in a consumer group), writes VALID_PROMOTIONS and NEARBY_CUSTOMERS
//! back with the idempotent producer, and ends on Ctrl-C/SIGTERM, a duration, an idle time or
//! the topics' end with every output acknowledged and the summary.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::cli::kafka_args::KAFKA_TIMEOUT;
use crate::engine::notification_record::NOTIFICATIONS_TOPIC;
use crate::engine::{PipelineParams, Topic};
use crate::io::kafka::admin::ensure_topics;
use crate::io::kafka::client::StartAt;
use crate::io::kafka::config::KafkaConfig;
use crate::io::kafka::input::{InputEvent, InputSpec, KafkaInput};
use crate::io::kafka::outputs::KafkaOutputs;
use crate::io::kafka::producer::KafkaProducer;
use crate::io::kafka::readers::ConsumerTrouble;
use crate::io::run_loop::{RunLoop, RunNotifications, RunReport};

const PROGRESS_EVERY: Duration = Duration::from_secs(10);

/// How often a group member commits what it has read (after its outputs are acknowledged):
/// at most this much is read again after a crash.
const COMMIT_EVERY: Duration = Duration::from_secs(1);

/// How long a commit waits for the outputs in flight; past it the commit waits for the next
/// turn (the broker may be away: the loop goes on reading, and reconnecting, meanwhile).
const COMMIT_FLUSH_TIMEOUT: Duration = Duration::from_secs(2);

/// Once every output produced so far is acknowledged, commits the input read so far (a group
/// member's; whole topics are read from `--from` on every start): at least once, since no
/// offset is committed before the outputs of its record are on the cluster. Outputs still in
/// flight, a failed output or a failed commit leave the offsets as they were, said in the log;
/// reading goes on.
fn commit_acknowledged(input: &mut KafkaInput, sink: Option<&KafkaOutputs>) {
    if !input.commits() {
        return;
    }
    if let Some(sink) = sink {
        if let Err(e) = sink.producer.flush(COMMIT_FLUSH_TIMEOUT) {
            tracing::debug!(error = %e, "outputs still in flight: not committing yet");
            return;
        }
        if sink.producer.failed() > 0 {
            tracing::warn!(
                failed = sink.producer.failed(),
                last_error = %sink.producer.last_error().unwrap_or_else(|| "none reported".into()),
                "an output was not acknowledged: not committing what was read"
            );
            return;
        }
    }
    if let Err(e) = input.commit_read() {
        tracing::warn!(error = %e, "committing what was read failed: it is read again after a restart");
    }
}

/// What a run on Kafka needs.
pub struct KafkaRun {
    pub config: KafkaConfig,
    pub from: StartAt,
    /// Share `customers_locations` with the other members of this consumer group.
    pub group: Option<String>,
    pub dead_letter: Option<String>,
    /// Write the outputs back (`--no-produce` turns it off).
    pub produce: bool,
    /// Stop once the topics are read up to where they ended at the start.
    pub until_end: bool,
    /// Stop after this much wall time, or once no record came for this long.
    pub duration: Option<Duration>,
    pub idle: Option<Duration>,
}

pub fn run_kafka(
    run: &KafkaRun,
    params: PipelineParams,
    notifications: Option<RunNotifications>,
) -> anyhow::Result<RunReport> {
    let started = Instant::now();
    let config = &run.config;
    // A service logs: RUST_LOG=debug for more, warn for less.
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .try_init();
    tracing::info!(config = %config.describe(), from = ?run.from, group = ?run.group, "starting");
    let mut sink = if run.produce {
        let mut outputs: Vec<&str> = Topic::OUTPUTS.map(Topic::name).to_vec();
        outputs.extend(run.dead_letter.as_deref());
        if notifications.is_some() {
            outputs.push(NOTIFICATIONS_TOPIC);
        }
        let created = ensure_topics(config, &outputs, 1, KAFKA_TIMEOUT)?;
        if !created.is_empty() {
            tracing::info!(topics = %created.join(", "), "created output topics");
        }
        let producer = KafkaProducer::low_latency(config)?;
        Some(KafkaOutputs::new(producer, run.dead_letter.clone()))
    } else {
        None
    };
    let spec = match &run.group {
        Some(group) => InputSpec::Group {
            group: group.clone(),
            rewind_ms: params.customer_window().retention_ms(),
        },
        None => InputSpec::inputs(),
    };
    let from = run.from.fitted_to(&params);
    let mut input = KafkaInput::open(config, &spec, from, run.until_end, KAFKA_TIMEOUT)?;
    let mut last_ownership_check = Instant::now() - Duration::from_secs(1);
    let stop = Arc::new(AtomicBool::new(false));
    let on_signal = Arc::clone(&stop);
    let _ = ctrlc::set_handler(move || on_signal.store(true, Ordering::Relaxed));
    let deadline = run.duration.map(|d| started + d);
    let mut trouble = ConsumerTrouble::new(Duration::from_secs(10));
    let mut engine = RunLoop::new(params);
    if let Some(n) = notifications {
        engine = engine.with_notifications(n);
    }
    let mut last_record = Instant::now();
    let mut last_progress = Instant::now();
    let mut last_commit = Instant::now();
    while !stop.load(Ordering::Relaxed)
        && deadline.is_none_or(|d| Instant::now() < d)
        && run.idle.is_none_or(|i| last_record.elapsed() < i)
        && !input.at_end()
    {
        if last_ownership_check.elapsed() >= Duration::from_millis(200) {
            last_ownership_check = Instant::now();
            if let Some(sink) = sink.as_mut() {
                let writes = input.writes_valid_promotions();
                if writes && !sink.writes_valid_promotions {
                    // Whatever the last writer had not written (or had not had acknowledged)
                    // goes out again; repeats carry the ids they had.
                    sink.writes_valid_promotions = true;
                    sink.write_outputs(&engine.pipeline().buffered_valid_promotions())?;
                }
                sink.writes_valid_promotions = writes;
            }
        }
        if last_commit.elapsed() >= COMMIT_EVERY {
            last_commit = Instant::now();
            commit_acknowledged(&mut input, sink.as_ref());
        }
        match input.poll(Duration::from_millis(100))? {
            InputEvent::Record(record) => {
                engine.push(&record, &mut sink)?;
                last_record = Instant::now();
            }
            InputEvent::Idle => {}
            InputEvent::Trouble(e) => {
                if let Some(text) = trouble.note(&e) {
                    tracing::warn!(error = %text, "reading the input topics");
                }
            }
            InputEvent::Away => {
                tracing::warn!("every broker is away: reconnecting with a fresh client");
            }
            InputEvent::Back(after, changes) => {
                tracing::info!(?after, "the cluster is back: reading on");
                for change in changes {
                    tracing::warn!("{change}");
                }
            }
        }
        if last_progress.elapsed() >= PROGRESS_EVERY {
            last_progress = Instant::now();
            let producer = sink.as_ref().map(|s| &s.producer);
            tracing::info!(
                records_in = engine.records_in(),
                holding = %input.holding(),
                nearby = engine.pipeline().stats().topic(Topic::NearbyCustomers).records,
                rejected = engine.pipeline().stats().rejects.total(),
                outputs_sent = producer.map_or(0, |p| p.sent()),
                outputs_acknowledged = producer.map_or(0, |p| p.delivered()),
                "progress"
            );
        }
    }
    // Every output first, so the last commit covers every record read.
    if let Some(sink) = sink.as_ref() {
        sink.producer.flush(Duration::from_secs(30))?;
    }
    commit_acknowledged(&mut input, sink.as_ref());
    if let Some(KafkaOutputs { producer: p, .. }) = sink {
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
    let records = engine.records_in();
    Ok(engine.finish(records))
}
