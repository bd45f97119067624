//! A running source and the engine behind it: the simulator, a replay or Kafka publish on
//! the in-process bus, the engine reads it and sends the console its events. Every thread of
//! a session wakes the console when it has something to show.

use std::sync::{Arc, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::engine::rfc3339::format_clock_ms;
use crate::io::bus::{bus, BusProducer};
use crate::io::chain::Chain;
use crate::io::live::{LiveEngine, LiveEvent, LiveSettings, ReplayStart};
use crate::io::replay::{LoadedDump, ReplaySource};
use crate::io::replay_records::RereadError;
use crate::io::sim_feed::{spawn_feed, spawn_simulator_feed, FeedControl, FeedEnd, Speed};
use crate::io::simulator::{SimConfig, Simulator};

use super::model::LiveModel;
use super::replay_checkpoints::ReplayCheckpoint;
use crate::io::kafka::client::StartAt;
use crate::io::kafka::config::KafkaConfig;
use crate::io::kafka::feed::{KafkaFeed, KafkaState, KafkaStatus};
use crate::io::kafka::input::KafkaInputError;
use crate::io::kafka::sink::KafkaSink;
use crate::io::live::LiveCommand;
use crate::io::sink::RecordSink;
use crate::io::wake::Waker;

/// Records the bus holds before the source waits for the engine.
const BUS_CAPACITY: usize = 16_384;

/// What feeds the engine.
#[derive(Clone, Debug, PartialEq)]
pub enum SourceKind {
    Simulator {
        stores: usize,
        customers_per_store: usize,
    },
    /// Only what is published on the bus (promotions from this console, records a test
    /// publishes).
    BusOnly,
    Kafka,
    /// Recorded dumps on the timeline.
    Replay {
        files: usize,
        records: usize,
    },
}

pub struct Session {
    pub kind: SourceKind,
    producer: BusProducer,
    /// Where promotions go: the bus, or Kafka.
    sink: Box<dyn RecordSink>,
    kafka: Option<KafkaFeed>,
    engine: LiveEngine,
    feed: Option<(Arc<FeedControl>, JoinHandle<FeedEnd>)>,
    /// Checkpoints met while draining, not yet taken by the console.
    checkpoints: Vec<ReplayCheckpoint>,
    /// Why a replay ended before its last record, once it has.
    replay_failure: Option<Arc<OnceLock<RereadError>>>,
}

impl Session {
    /// A fresh engine reading a fresh bus.
    fn engine_on_bus(
        settings: LiveSettings,
        waker: &Waker,
    ) -> std::io::Result<(BusProducer, LiveEngine)> {
        let (producer, consumer) = bus(BUS_CAPACITY);
        Ok((
            producer,
            LiveEngine::start(consumer, settings, waker.clone())?,
        ))
    }

    /// A session whose promotions go on the bus itself (simulator, replay, bus only).
    fn on_bus(
        kind: SourceKind,
        producer: BusProducer,
        engine: LiveEngine,
        feed: Option<(Arc<FeedControl>, JoinHandle<FeedEnd>)>,
    ) -> Session {
        Session {
            kind,
            sink: Box::new(producer.clone()),
            kafka: None,
            producer,
            engine,
            feed,
            checkpoints: Vec::new(),
            replay_failure: None,
        }
    }

    /// The simulator at `speed`, feeding a fresh engine.
    pub fn simulator(
        chain: &Chain,
        config: SimConfig,
        speed: Speed,
        settings: LiveSettings,
        waker: &Waker,
    ) -> std::io::Result<Session> {
        let (producer, engine) = Session::engine_on_bus(settings, waker)?;
        let kind = SourceKind::Simulator {
            stores: config
                .stores
                .unwrap_or(chain.stores.len())
                .min(chain.stores.len()),
            customers_per_store: config.customers_per_store,
        };
        let control = FeedControl::new(speed);
        let thread = spawn_simulator_feed(
            Simulator::new(chain, config),
            producer.clone(),
            Arc::clone(&control),
            None,
        )?;
        Ok(Session::on_bus(
            kind,
            producer,
            engine,
            Some((control, thread)),
        ))
    }

    /// An engine on an empty bus: nothing comes in but what is published on it.
    pub fn bus_only(settings: LiveSettings, waker: &Waker) -> std::io::Result<Session> {
        let (producer, engine) = Session::engine_on_bus(settings, waker)?;
        Ok(Session::on_bus(SourceKind::BusOnly, producer, engine, None))
    }

    /// The three input topics of a Kafka cluster feed the engine; promotions go to Kafka.
    pub fn kafka(
        config: KafkaConfig,
        from: StartAt,
        settings: LiveSettings,
        waker: &Waker,
    ) -> Result<Session, KafkaInputError> {
        let from = from.fitted_to(&settings.params);
        let (producer, engine) = Session::engine_on_bus(settings, waker)
            .map_err(|e| KafkaInputError::Thread(e.to_string()))?;
        let sink = KafkaSink::new(&config, waker.clone())?;
        let source = KafkaFeed::start(config, from, producer.clone(), waker.clone())?;
        Ok(Session {
            kind: SourceKind::Kafka,
            sink: Box::new(sink),
            kafka: Some(source),
            producer,
            engine,
            feed: None,
            checkpoints: Vec::new(),
            replay_failure: None,
        })
    }

    /// A loaded dump replayed at `speed`, fast-forwarded to `seek_ms` when given.
    pub fn replay(
        dump: Arc<LoadedDump>,
        speed: Speed,
        settings: LiveSettings,
        start: ReplayStart,
        waker: &Waker,
    ) -> std::io::Result<Session> {
        let (producer, consumer) = bus(BUS_CAPACITY);
        let seek_ms = start.quiet_before_ms;
        let from_record = start
            .resume
            .as_ref()
            .map_or(0, |c| c.records_pushed as usize);
        let engine = LiveEngine::start_replay(consumer, settings, start, waker.clone())?;
        // A resumed engine counted them before its checkpoint.
        if dump.broken_count > 0 && from_record == 0 {
            let samples = dump
                .broken
                .iter()
                .map(|b| (b.line_number, b.text.clone()))
                .collect();
            let unsampled = dump.broken_count.saturating_sub(dump.broken.len() as u64);
            engine.command(LiveCommand::BrokenLines { samples, unsampled });
        }
        let kind = SourceKind::Replay {
            files: dump.files.len(),
            records: dump.records.len(),
        };
        let control = FeedControl::new(speed);
        let source = ReplaySource::new(dump, from_record, seek_ms);
        let failure = source.failure();
        let thread = spawn_feed(source, producer.clone(), Arc::clone(&control), None)?;
        let mut session = Session::on_bus(kind, producer, engine, Some((control, thread)));
        session.replay_failure = Some(failure);
        Ok(session)
    }

    /// Why the replay stopped before its last record (a dump file changed or went away).
    pub fn replay_failure(&self) -> Option<&RereadError> {
        self.replay_failure.as_deref().and_then(OnceLock::get)
    }

    /// Whether a finite source (a replay) has handed over everything.
    pub fn feed_finished(&self) -> bool {
        self.feed.as_ref().is_some_and(|(_, t)| t.is_finished())
    }

    /// Whether a replay has handed over every record and the engine has taken them all, by
    /// the engine's count of records taken (`records_pushed`): a replay that stopped early
    /// never ends, and one whose engine is still catching up has not ended yet.
    pub fn replay_ended(&self, records_pushed: u64) -> bool {
        match self.kind {
            SourceKind::Replay { records, .. } => {
                self.feed_finished()
                    && self.replay_failure().is_none()
                    && records_pushed == records as u64
            }
            _ => false,
        }
    }

    pub fn sink(&mut self) -> &mut dyn RecordSink {
        self.sink.as_mut()
    }

    /// The Kafka input's status (`None` for other sources).
    pub fn kafka_status(&self) -> Option<KafkaStatus> {
        self.kafka.as_ref().map(KafkaFeed::status)
    }

    pub fn producer(&self) -> &BusProducer {
        &self.producer
    }

    pub fn feed(&self) -> Option<&FeedControl> {
        self.feed.as_ref().map(|(c, _)| c.as_ref())
    }

    /// Asks the engine for something (settings, recording); it answers with events.
    pub fn command(&self, command: LiveCommand) {
        self.engine.command(command);
    }

    /// Moves engine events into the model until `budget` is spent; what is left waits for
    /// the next frame. Returns the number of batches applied.
    pub fn drain(&mut self, model: &mut LiveModel, budget: Duration) -> usize {
        let started = Instant::now();
        let mut batches = 0;
        while started.elapsed() < budget {
            match self.engine.events.try_recv() {
                Ok(batch) => {
                    for event in batch {
                        if let LiveEvent::Checkpoint(engine) = &event {
                            self.checkpoints.push(ReplayCheckpoint {
                                engine: Arc::clone(engine),
                                model: Arc::new(model.clone()),
                            });
                        }
                        model.apply(event);
                    }
                    batches += 1;
                }
                Err(_) => break,
            }
        }
        batches
    }

    /// Checkpoints the replay passed since the last call.
    pub fn take_checkpoints(&mut self) -> Vec<ReplayCheckpoint> {
        std::mem::take(&mut self.checkpoints)
    }

    /// Label for the status line.
    pub fn label(&self) -> String {
        match &self.kind {
            SourceKind::Simulator {
                stores,
                customers_per_store,
            } => format!("Simulator · {stores} stores · {customers_per_store} people per store"),
            SourceKind::BusOnly => "In-process bus (no source)".to_owned(),
            SourceKind::Replay { files, records } => format!(
                "Replay · {files} file{} · {records} records",
                if *files == 1 { "" } else { "s" }
            ),
            SourceKind::Kafka => match self.kafka_status() {
                Some(s) => match &s.state {
                    KafkaState::Connected => {
                        let mut label =
                            format!("Kafka {} · connected · {} records", s.servers, s.records);
                        if let Some(since) = s.since_ms {
                            label.push_str(&format!(" since {}", format_clock_ms(since)));
                        }
                        if s.passed_over > 0 {
                            label.push_str(&format!(" ({} older passed over)", s.passed_over));
                        }
                        label.push_str(&format!(" · lag {}", s.total_lag()));
                        if let Some(notice) = &s.notice {
                            label.push_str(" · ");
                            label.push_str(notice);
                        }
                        label
                    }
                    KafkaState::Connecting => format!("Kafka {} · connecting…", s.servers),
                    KafkaState::Retrying(e) => {
                        format!(
                            "Kafka {} · {} records · retrying: {e}",
                            s.servers, s.records
                        )
                    }
                },
                None => "Kafka".to_owned(),
            },
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if let Some((control, thread)) = self.feed.take() {
            control.stop();
            let _ = thread.join();
        }
    }
}
