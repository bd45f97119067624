//! The three input topics of a cluster as a source for the engine's bus: a thread reads them
//! whole through the [`ResumingReader`] and forwards every record with its partition and
//! offset. When the cluster cannot be reached it says so and tries again, without a restart;
//! every change of what it shows wakes the console.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::engine::Topic;
use crate::io::bus::BusProducer;
use crate::io::kafka::client::StartAt;
use crate::io::kafka::config::KafkaConfig;
use crate::io::kafka::resuming::{ReadEvent, ResumingReader};
use crate::io::wake::Waker;

/// Why a Kafka input or output could not start or is not reading.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KafkaInputError {
    #[error("cannot create a Kafka producer: {0}")]
    Producer(String),
    #[error("cannot start the Kafka reader thread: {0}")]
    Thread(String),
    /// The first connection failed (tried again by itself).
    #[error("cannot reach the cluster: {0}")]
    Unreachable(String),
    /// A consumer error librdkafka is working through.
    #[error("{0}")]
    Consumer(String),
    #[error("every broker is away: reconnecting")]
    BrokersAway,
}

/// Where the input stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KafkaState {
    Connecting,
    Connected,
    /// The last attempt failed; retrying.
    Retrying(KafkaInputError),
}

/// Records waiting on the broker for one input topic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopicLag {
    pub topic: String,
    pub records: i64,
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
}

impl KafkaStatus {
    pub fn total_lag(&self) -> i64 {
        self.lag.iter().map(|l| l.records).sum()
    }
}

/// The reading thread and its status.
pub struct KafkaInput {
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

impl KafkaInput {
    pub fn start(
        config: KafkaConfig,
        from: StartAt,
        bus: BusProducer,
        waker: Waker,
    ) -> Result<KafkaInput, KafkaInputError> {
        let servers = config
            .get("bootstrap.servers")
            .unwrap_or_default()
            .to_owned();
        let status = Arc::new(Mutex::new(KafkaStatus {
            servers,
            state: KafkaState::Connecting,
            records: 0,
            lag: Vec::new(),
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
        Ok(KafkaInput {
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
    let topics = Topic::INPUTS.map(Topic::name);
    // The first connection, tried until it works or the console lets go; after that the
    // reader takes a fresh client by itself when every broker is away.
    let mut reader = loop {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        match ResumingReader::open(config, &topics, from, METADATA_TIMEOUT) {
            Ok(r) => break r,
            Err(e) => {
                shown.state(KafkaState::Retrying(KafkaInputError::Unreachable(
                    e.to_string(),
                )));
                std::thread::sleep(RETRY_EVERY);
            }
        }
    };
    shown.state(KafkaState::Connected);
    let mut lag_checked = Instant::now() - LAG_EVERY;
    let mut failing_since: Option<Instant> = None;
    let mut forwarded = 0u64;
    while !stop.load(Ordering::Relaxed) {
        if lag_checked.elapsed() >= LAG_EVERY {
            lag_checked = Instant::now();
            match reader.reader().map(|r| r.lag(Duration::from_secs(2))) {
                Some(Ok(lag)) => {
                    let lag = lag
                        .into_iter()
                        .map(|(topic, records)| TopicLag { topic, records })
                        .collect();
                    shown.set(|s| s.lag = lag);
                    shown.waker.wake();
                }
                Some(Err(e)) => failing(shown, &mut reader, &mut failing_since, e.to_string()),
                None => {}
            }
        }
        match reader.poll(Duration::from_millis(200)) {
            Ok(ReadEvent::Record(record)) => {
                failing_since = None;
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
            Ok(ReadEvent::Idle) => shown.set(|s| s.records = forwarded),
            // librdkafka reconnects by itself; its errors are shown, not fatal.
            Ok(ReadEvent::Trouble(e)) | Err(e) => {
                failing(shown, &mut reader, &mut failing_since, e.to_string())
            }
            Ok(ReadEvent::Away) => {
                shown.state(KafkaState::Retrying(KafkaInputError::BrokersAway));
            }
            Ok(ReadEvent::Back(_)) => {
                failing_since = None;
                shown.state(KafkaState::Connected);
            }
        }
    }
}

/// Shows an error; when errors go on, a fresh client from the offsets read.
fn failing(shown: &Shown, reader: &mut ResumingReader, since: &mut Option<Instant>, why: String) {
    shown.state(KafkaState::Retrying(KafkaInputError::Consumer(why)));
    if since.get_or_insert_with(Instant::now).elapsed() >= REOPEN_AFTER {
        reader.reopen();
        *since = None;
    }
}

impl Drop for KafkaInput {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
