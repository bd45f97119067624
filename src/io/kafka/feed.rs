//! The three input topics of a cluster as the console's source: a thread reads them whole
//! through a [`KafkaInput`] and forwards every record, with its partition and offset, to the
//! engine's bus. When the cluster cannot be reached it says so and tries again, without a
//! restart; every change of what it shows wakes the console.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::client::StartAt;
use super::config::KafkaConfig;
use super::input::{InputEvent, InputSpec, KafkaInput, KafkaInputError, TopicLag};
use crate::engine::Topic;
use crate::io::bus::BusProducer;
use crate::io::wake::Waker;

/// Where the input stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KafkaState {
    Connecting,
    Connected,
    /// The last attempt failed; retrying.
    Retrying(KafkaInputError),
}

/// What the console shows of the input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KafkaStatus {
    pub servers: String,
    pub state: KafkaState,
    /// Records forwarded so far.
    pub records: u64,
    /// Per input topic (measured every few seconds).
    pub lag: Vec<TopicLag>,
    /// What the operator should know about the last reconnection: partitions recreated or
    /// with records deleted before they were read.
    pub notice: Option<String>,
    /// Where reading started in time, for a start by time or by the joins' windows (the
    /// earliest of the topics').
    pub since_ms: Option<i64>,
    /// Records already in their topic when reading started, timestamped before their
    /// topic's start, read all the same and not taken: a broker that cannot look offsets up
    /// by time (or only to the batch, as the test broker does) starts before them, and a late
    /// record can follow the start offset.
    pub passed_over: u64,
}

impl KafkaStatus {
    pub fn total_lag(&self) -> i64 {
        self.lag.iter().map(|l| l.records).sum()
    }
}

/// The reading thread and its status.
pub struct KafkaFeed {
    status: Arc<Mutex<KafkaStatus>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

const RETRY_EVERY: Duration = Duration::from_secs(3);
/// How long errors may go on before the reader is opened again.
const REOPEN_AFTER: Duration = Duration::from_secs(5);
/// How often the lag is measured (a watermark request per partition).
const LAG_EVERY: Duration = Duration::from_secs(3);
const METADATA_TIMEOUT: Duration = Duration::from_secs(10);

impl KafkaFeed {
    pub fn start(
        config: KafkaConfig,
        from: StartAt,
        bus: BusProducer,
        waker: Waker,
    ) -> Result<KafkaFeed, KafkaInputError> {
        let servers = config
            .get("bootstrap.servers")
            .unwrap_or_default()
            .to_owned();
        let status = Arc::new(Mutex::new(KafkaStatus {
            servers,
            state: KafkaState::Connecting,
            records: 0,
            lag: Vec::new(),
            notice: None,
            since_ms: None,
            passed_over: 0,
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let shown = Shown {
            status: Arc::clone(&status),
            waker,
        };
        let thread_stop = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("instore-kafka".into())
            .spawn(move || read_loop(&config, from, &bus, &shown, &thread_stop))
            .map_err(|e| KafkaInputError::Thread(e.to_string()))?;
        Ok(KafkaFeed {
            status,
            stop,
            thread: Some(thread),
        })
    }

    /// The status as of now.
    pub fn status(&self) -> KafkaStatus {
        // A poisoned lock only means the reading thread panicked mid-update.
        self.status
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// The status the console reads, and its wake-up when it changes.
struct Shown {
    status: Arc<Mutex<KafkaStatus>>,
    waker: Waker,
}

impl Shown {
    fn set(&self, f: impl FnOnce(&mut KafkaStatus)) {
        let changed = {
            let mut status = self.status.lock().unwrap_or_else(|e| e.into_inner());
            let before = status.state.clone();
            f(&mut status);
            before != status.state
        };
        if changed {
            self.waker.wake_now();
        }
    }

    fn state(&self, state: KafkaState) {
        self.set(|s| s.state = state);
    }
}

fn read_loop(
    config: &KafkaConfig,
    from: StartAt,
    bus: &BusProducer,
    shown: &Shown,
    stop: &AtomicBool,
) {
    // The first connection, tried until it works or the console lets go; after that the
    // input takes a fresh client by itself when every broker is away.
    let mut input = loop {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        // A start by time notes where the topics end, to tell what was there before.
        match KafkaInput::open(
            config,
            &InputSpec::inputs(),
            from,
            from.by_time(),
            METADATA_TIMEOUT,
        ) {
            Ok(input) => break input,
            Err(e) => {
                shown.state(KafkaState::Retrying(e));
                std::thread::sleep(RETRY_EVERY);
            }
        }
    };
    let opened_ms = crate::io::recordings::now_ms();
    let since_ms = |topic: &str| from.since_ms(topic, opened_ms);
    shown.set(|s| {
        s.state = KafkaState::Connected;
        s.since_ms = Topic::INPUTS
            .iter()
            .filter_map(|t| since_ms(t.name()))
            .min();
    });
    let mut lag_checked = Instant::now() - LAG_EVERY;
    let mut failing_since: Option<Instant> = None;
    let mut forwarded = 0u64;
    let mut passed_over = 0u64;
    while !stop.load(Ordering::Relaxed) {
        if lag_checked.elapsed() >= LAG_EVERY {
            lag_checked = Instant::now();
            match input.lag(Duration::from_secs(2)) {
                Ok(lag) => {
                    shown.set(|s| s.lag = lag);
                    shown.waker.wake();
                }
                Err(e) => failing(shown, &mut input, &mut failing_since, e),
            }
        }
        match input.poll(Duration::from_millis(200)) {
            Ok(InputEvent::Record(record)) => {
                failing_since = None;
                // Only among the records there when reading started: one produced since goes
                // to the joins however late it is, as it would on the pipeline's cluster.
                let before_start = record
                    .timestamp_ms
                    .zip(since_ms(&record.topic))
                    .is_some_and(|(ts, since)| ts < since)
                    && input.held_at_open(&record.topic, record.partition, record.offset);
                if before_start {
                    passed_over += 1;
                    if passed_over % 256 == 1 {
                        shown.set(|s| s.passed_over = passed_over);
                    }
                    continue;
                }
                if bus.forward(record).is_err() {
                    return;
                }
                forwarded += 1;
                // The count is read once a frame: no need to take the lock per record.
                if forwarded % 256 == 1 {
                    shown.set(|s| {
                        s.records = forwarded;
                        s.state = KafkaState::Connected;
                    });
                }
            }
            Ok(InputEvent::Idle) => shown.set(|s| {
                s.records = forwarded;
                s.passed_over = passed_over;
            }),
            // librdkafka reconnects by itself; its errors are shown, not fatal.
            Ok(InputEvent::Trouble(e)) | Err(e) => {
                failing(shown, &mut input, &mut failing_since, e)
            }
            Ok(InputEvent::Away) => {
                shown.state(KafkaState::Retrying(KafkaInputError::BrokersAway));
            }
            Ok(InputEvent::Back(_, changes)) => {
                failing_since = None;
                shown.state(KafkaState::Connected);
                if !changes.is_empty() {
                    let notice = changes
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("; ");
                    tracing::warn!("{notice}");
                    shown.set(|s| s.notice = Some(notice));
                }
            }
        }
    }
}

/// Shows an error; when errors go on, a fresh client from the offsets read.
fn failing(
    shown: &Shown,
    input: &mut KafkaInput,
    since: &mut Option<Instant>,
    why: KafkaInputError,
) {
    shown.state(KafkaState::Retrying(why));
    if since.get_or_insert_with(Instant::now).elapsed() >= REOPEN_AFTER {
        input.reopen();
        *since = None;
    }
}

impl Drop for KafkaFeed {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
