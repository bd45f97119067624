//! The simulator on the in-process bus: a thread that publishes its records at simulated real
//! time (or N× faster, or as fast as the engine takes them), and can be paused, sped up or
//! stopped from another thread (the console, Ctrl-C).

use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::engine::RawRecord;
use crate::io::bus::{BusProducer, BusRecord};
use crate::io::simulator::{SimRecord, Simulator};

/// How fast simulated time runs against the wall clock.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Speed {
    /// As fast as the consumer takes records.
    Max,
    /// `n` simulated seconds per wall second.
    Times(f64),
}

impl Speed {
    fn to_bits(self) -> u64 {
        match self {
            Speed::Max => f64::INFINITY.to_bits(),
            Speed::Times(n) => n.to_bits(),
        }
    }

    fn from_bits(bits: u64) -> Speed {
        let n = f64::from_bits(bits);
        if n.is_finite() {
            Speed::Times(n)
        } else {
            Speed::Max
        }
    }
}

impl FromStr for Speed {
    type Err = String;

    /// `max`, or a factor such as `1`, `10`, `0.5`, `60x`.
    fn from_str(text: &str) -> Result<Speed, String> {
        let t = text.trim();
        if t.eq_ignore_ascii_case("max") {
            return Ok(Speed::Max);
        }
        let number = t.strip_suffix(['x', 'X']).unwrap_or(t);
        match number.parse::<f64>() {
            Ok(n) if n.is_finite() && n > 0.0 => Ok(Speed::Times(n)),
            _ => Err(format!(
                "speed must be `max` or a factor > 0 such as 1, 10 or 60x, not {text:?}"
            )),
        }
    }
}

impl std::fmt::Display for Speed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Speed::Max => f.write_str("max"),
            Speed::Times(n) => write!(f, "{n}×"),
        }
    }
}

/// Shared controls of a running feed.
#[derive(Debug)]
pub struct FeedControl {
    stop: AtomicBool,
    paused: AtomicBool,
    speed_bits: AtomicU64,
    /// Timestamp of the last record published (`i64::MIN` before the first).
    sim_time_ms: AtomicI64,
    published: AtomicU64,
}

impl FeedControl {
    pub fn new(speed: Speed) -> Arc<FeedControl> {
        Arc::new(FeedControl {
            stop: AtomicBool::new(false),
            paused: AtomicBool::new(false),
            speed_bits: AtomicU64::new(speed.to_bits()),
            sim_time_ms: AtomicI64::new(i64::MIN),
            published: AtomicU64::new(0),
        })
    }

    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    pub fn is_stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    pub fn set_paused(&self, paused: bool) {
        self.paused.store(paused, Ordering::Relaxed);
    }

    pub fn is_paused(&self) -> bool {
        self.paused.load(Ordering::Relaxed)
    }

    pub fn set_speed(&self, speed: Speed) {
        self.speed_bits.store(speed.to_bits(), Ordering::Relaxed);
    }

    pub fn speed(&self) -> Speed {
        Speed::from_bits(self.speed_bits.load(Ordering::Relaxed))
    }

    /// Simulated time of the last published record.
    pub fn sim_time_ms(&self) -> Option<i64> {
        let t = self.sim_time_ms.load(Ordering::Relaxed);
        (t != i64::MIN).then_some(t)
    }

    pub fn published(&self) -> u64 {
        self.published.load(Ordering::Relaxed)
    }
}

/// Why a feed ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FeedEnd {
    /// Simulated time reached the end asked for.
    Finished,
    Stopped,
    /// The consumer went away.
    BusClosed,
    /// The simulation had nothing to generate.
    Exhausted,
}

/// Maps simulated time to wall deadlines; re-anchored whenever the speed changes or a pause
/// ends, so neither makes the feed jump.
struct Pacer {
    wall: Instant,
    sim_ms: i64,
    speed: Speed,
}

impl Pacer {
    fn deadline(&self, sim_ms: i64) -> Option<Instant> {
        match self.speed {
            Speed::Max => None,
            Speed::Times(n) => {
                let ahead_ms = (sim_ms - self.sim_ms).max(0) as f64 / n;
                Some(self.wall + Duration::from_secs_f64(ahead_ms / 1000.0))
            }
        }
    }
}

/// Longest single sleep, so stop, pause and speed changes take effect promptly.
const TICK: Duration = Duration::from_millis(25);

/// Something the feed can pace: records in time order.
pub trait FeedSource: Send + 'static {
    /// Timestamp of the next record, if any.
    fn next_time_ms(&self) -> Option<i64>;
    /// The next record, with its topic, partition and offset set.
    fn next_record(&mut self) -> Option<BusRecord>;
    /// The thread's name.
    fn name(&self) -> &'static str;
    /// Records before this time are fed at once, whatever the speed (a replay seeking forward).
    fn fast_until_ms(&self) -> Option<i64> {
        None
    }
}

/// The simulator as a feed source: the bus numbers its records (offset -1 asks for that), the
/// same counters the console's own promotions get theirs from.
pub struct SimulatorSource {
    sim: Simulator,
    record: SimRecord,
}

impl SimulatorSource {
    pub fn new(sim: Simulator) -> Self {
        Self {
            sim,
            record: SimRecord::default(),
        }
    }
}

impl FeedSource for SimulatorSource {
    fn next_time_ms(&self) -> Option<i64> {
        self.sim.next_time_ms()
    }

    fn next_record(&mut self) -> Option<BusRecord> {
        loop {
            if !self.sim.next_into(&mut self.record) {
                return None;
            }
            let Some(topic) = self.record.topic else {
                continue;
            };
            return Some(RawRecord {
                topic: topic.name().into(),
                partition: 0,
                offset: -1,
                timestamp_ms: Some(self.record.timestamp_ms),
                key: Some(self.record.key.clone().into()),
                headers: Vec::new(),
                payload: Some(
                    String::from_utf8_lossy(&self.record.payload)
                        .into_owned()
                        .into(),
                ),
            });
        }
    }

    fn name(&self) -> &'static str {
        "instore-simulator"
    }
}

/// Starts publishing `sim`'s records until simulated time reaches `end_ms` (forever when
/// `None`), the control says stop, or the bus closes.
pub fn spawn_simulator_feed(
    sim: Simulator,
    producer: BusProducer,
    control: Arc<FeedControl>,
    end_ms: Option<i64>,
) -> std::io::Result<JoinHandle<FeedEnd>> {
    spawn_feed(SimulatorSource::new(sim), producer, control, end_ms)
}

/// Starts publishing `source`'s records at the control's pace until `end_ms`, stop, the end of
/// the source or a closed bus.
pub fn spawn_feed<S: FeedSource>(
    mut source: S,
    producer: BusProducer,
    control: Arc<FeedControl>,
    end_ms: Option<i64>,
) -> std::io::Result<JoinHandle<FeedEnd>> {
    std::thread::Builder::new()
        .name(source.name().into())
        .spawn(move || {
            let mut pacer = Pacer {
                wall: Instant::now(),
                sim_ms: source.next_time_ms().unwrap_or_default(),
                speed: control.speed(),
            };
            loop {
                let Some(next_ms) = source.next_time_ms() else {
                    return FeedEnd::Exhausted;
                };
                if end_ms.is_some_and(|end| next_ms >= end) {
                    return FeedEnd::Finished;
                }
                let catching_up = source.fast_until_ms().is_some_and(|t| next_ms < t);
                // Wait for the record's moment, minding stop, pause and speed changes.
                loop {
                    if control.is_stopped() {
                        return FeedEnd::Stopped;
                    }
                    if catching_up {
                        pacer.wall = Instant::now();
                        pacer.sim_ms = next_ms;
                        break;
                    }
                    let speed = control.speed();
                    if control.is_paused() || speed != pacer.speed {
                        let resume_from = control.sim_time_ms().unwrap_or(next_ms);
                        if control.is_paused() {
                            std::thread::sleep(TICK);
                        }
                        pacer = Pacer {
                            wall: Instant::now(),
                            sim_ms: resume_from,
                            speed,
                        };
                        continue;
                    }
                    let Some(deadline) = pacer.deadline(next_ms) else {
                        break;
                    };
                    let now = Instant::now();
                    if deadline <= now {
                        break;
                    }
                    std::thread::sleep((deadline - now).min(TICK));
                }
                let Some(record) = source.next_record() else {
                    return FeedEnd::Exhausted;
                };
                let ts = record.timestamp_ms;
                let sent = match crate::engine::Topic::from_name(&record.topic) {
                    Some(topic) if record.offset < 0 => producer.publish(topic, record).map(|_| ()),
                    _ => producer.forward(record),
                };
                if sent.is_err() {
                    return FeedEnd::BusClosed;
                }
                if let Some(ts) = ts {
                    control.sim_time_ms.store(ts, Ordering::Relaxed);
                }
                control.published.fetch_add(1, Ordering::Relaxed);
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::bus::{bus, Received};
    use crate::io::chain::Chain;
    use crate::io::simulator::SimConfig;

    #[test]
    fn speeds_parse() {
        assert_eq!("max".parse::<Speed>(), Ok(Speed::Max));
        assert_eq!("60x".parse::<Speed>(), Ok(Speed::Times(60.0)));
        assert_eq!("0.5".parse::<Speed>(), Ok(Speed::Times(0.5)));
        assert!("0".parse::<Speed>().is_err());
        assert!("fast".parse::<Speed>().is_err());
    }

    #[test]
    fn a_max_speed_feed_delivers_everything_up_to_the_end_in_order() {
        let chain = Chain::builtin().unwrap();
        let config = SimConfig {
            stores: Some(1),
            ..SimConfig::default()
        };
        let end = config.start_ms + 60_000;
        let sim = Simulator::new(&chain, config.clone());
        let expected: Vec<_> = Simulator::new(&chain, config)
            .take_while(|r| r.timestamp_ms < end)
            .collect();
        let (producer, consumer) = bus(64);
        let control = FeedControl::new(Speed::Max);
        let feed = spawn_simulator_feed(sim, producer, control.clone(), Some(end)).unwrap();
        let mut got = Vec::new();
        while let Received::Record(r) = consumer.recv_timeout(Duration::from_secs(10)) {
            got.push(r);
        }
        assert_eq!(feed.join().unwrap(), FeedEnd::Finished);
        assert_eq!(got.len(), expected.len());
        assert_eq!(control.published(), expected.len() as u64);
        for (g, e) in got.iter().zip(&expected) {
            assert_eq!(g.timestamp_ms, Some(e.timestamp_ms));
            assert_eq!(g.payload_text().as_deref(), Some(e.payload_str()));
        }
    }

    #[test]
    fn a_real_time_feed_can_be_stopped() {
        let chain = Chain::builtin().unwrap();
        let sim = Simulator::new(&chain, SimConfig::default());
        let (producer, consumer) = bus(1_024);
        let control = FeedControl::new(Speed::Times(1.0));
        let feed = spawn_simulator_feed(sim, producer, control.clone(), None).unwrap();
        // At 1× only the first few seconds of records can have come out.
        std::thread::sleep(Duration::from_millis(100));
        control.stop();
        assert_eq!(feed.join().unwrap(), FeedEnd::Stopped);
        let got: Vec<_> = std::iter::from_fn(|| consumer.try_recv()).collect();
        let last = got.last().and_then(|r| r.timestamp_ms).unwrap();
        assert!(last - got[0].timestamp_ms.unwrap() < 5_000, "{last}");
    }
}
