//! Kafka as the console's source: a thread reads the three input topics and forwards every
//! record (with its partition and offset) to the engine's bus. When the cluster cannot be
//! reached it says so and tries again, without a restart.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::engine::Topic;
use crate::io::bus::BusProducer;
use crate::io::kafka::client::StartAt;
use crate::io::kafka::config::KafkaConfig;
use crate::io::kafka::resuming::{ReadEvent, ResumingReader};

/// What the source line shows.
#[derive(Clone, Debug, PartialEq)]
pub enum KafkaState {
    Connecting,
    Reading,
    /// The last attempt failed; retrying.
    Retrying(String),
}

#[derive(Debug)]
pub struct KafkaStatus {
    pub state: KafkaState,
    pub records: u64,
    pub last_record: Option<Instant>,
    /// Records waiting on the broker per input topic (updated every few seconds).
    pub lag: Vec<(String, i64)>,
}

pub struct KafkaSource {
    pub servers: String,
    pub status: Arc<Mutex<KafkaStatus>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

const RETRY_EVERY: Duration = Duration::from_secs(3);
/// How long errors may go on before the reader is opened again.
const REOPEN_AFTER: Duration = Duration::from_secs(5);
/// How often the lag is measured (a watermark request per partition).
const LAG_EVERY: Duration = Duration::from_secs(3);
const METADATA_TIMEOUT: Duration = Duration::from_secs(10);

impl KafkaSource {
    pub fn start(
        config: KafkaConfig,
        from: StartAt,
        bus: BusProducer,
    ) -> std::io::Result<KafkaSource> {
        let status = Arc::new(Mutex::new(KafkaStatus {
            state: KafkaState::Connecting,
            records: 0,
            last_record: None,
            lag: Vec::new(),
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let (thread_status, thread_stop) = (Arc::clone(&status), Arc::clone(&stop));
        let servers = config
            .get("bootstrap.servers")
            .unwrap_or_default()
            .to_owned();
        let thread = std::thread::Builder::new()
            .name("instore-kafka".into())
            .spawn(move || read_loop(&config, from, &bus, &thread_status, &thread_stop))?;
        Ok(KafkaSource {
            servers,
            status,
            stop,
            thread: Some(thread),
        })
    }
}

fn set(status: &Mutex<KafkaStatus>, f: impl FnOnce(&mut KafkaStatus)) {
    if let Ok(mut s) = status.lock() {
        f(&mut s);
    }
}

fn read_loop(
    config: &KafkaConfig,
    from: StartAt,
    bus: &BusProducer,
    status: &Mutex<KafkaStatus>,
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
                set(status, |s| s.state = KafkaState::Retrying(e.to_string()));
                std::thread::sleep(RETRY_EVERY);
            }
        }
    };
    set(status, |s| s.state = KafkaState::Reading);
    let mut lag_checked = Instant::now() - LAG_EVERY;
    let mut failing_since: Option<Instant> = None;
    while !stop.load(Ordering::Relaxed) {
        if lag_checked.elapsed() >= LAG_EVERY {
            lag_checked = Instant::now();
            match reader.reader().map(|r| r.lag(Duration::from_secs(2))) {
                Some(Ok(lag)) => set(status, |s| s.lag = lag),
                Some(Err(e)) => failing(status, &mut reader, &mut failing_since, e.to_string()),
                None => {}
            }
        }
        match reader.poll(Duration::from_millis(200)) {
            Ok(ReadEvent::Record(record)) => {
                failing_since = None;
                if bus.forward(record).is_err() {
                    return;
                }
                set(status, |s| {
                    s.records += 1;
                    s.last_record = Some(Instant::now());
                    s.state = KafkaState::Reading;
                });
            }
            Ok(ReadEvent::Idle) => {}
            // librdkafka reconnects by itself; its errors are shown, not fatal.
            Ok(ReadEvent::Trouble(e)) | Err(e) => {
                failing(status, &mut reader, &mut failing_since, e.to_string())
            }
            Ok(ReadEvent::Away) => set(status, |s| {
                s.state = KafkaState::Retrying("every broker is away: reconnecting".into())
            }),
            Ok(ReadEvent::Back(_)) => {
                failing_since = None;
                set(status, |s| s.state = KafkaState::Reading);
            }
        }
    }
}

/// Shows an error; when errors go on, a fresh client from the offsets read.
fn failing(
    status: &Mutex<KafkaStatus>,
    reader: &mut ResumingReader,
    since: &mut Option<Instant>,
    why: String,
) {
    set(status, |s| s.state = KafkaState::Retrying(why));
    if since.get_or_insert_with(Instant::now).elapsed() >= REOPEN_AFTER {
        reader.reopen();
        *since = None;
    }
}

impl Drop for KafkaSource {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
