//! The engine on its own thread, for the console: reads the bus, runs the pipeline, applies the
//! notification rules and sends the UI what it draws, in batches the UI drains on a time
//! budget. Parameter changes are applied live: the pipeline is rebuilt and primed with the
//! inputs it kept, so the map shows the new radius at once.

use std::collections::{BTreeMap, VecDeque};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::engine::nearby_join::NearbyCustomer;
use crate::engine::notify::{Notification, Notifier};
use crate::engine::promotion_join::ValidPromotion;
use crate::engine::record::{Customer, Product, Promotion};
use crate::engine::{
    InputValue, Output, Pipeline, PipelineParams, PipelineStats, StateSize, Topic,
};
use crate::io::bus::{BusConsumer, Received};
use crate::io::dump::{DumpRecordRef, DumpWriter};

/// Settings the console can change while the engine runs.
#[derive(Clone, Debug, PartialEq)]
pub struct LiveSettings {
    pub params: PipelineParams,
    pub cooldown_ms: i64,
}

/// What the console asks of the engine thread.
#[derive(Debug)]
pub enum LiveCommand {
    Apply(LiveSettings),
    /// Lines of a dump that were not records, counted like `instore run` counts them: the
    /// kept samples, and how many more there were.
    BrokenLines {
        samples: Vec<(u64, String)>,
        unsampled: u64,
    },
    /// A replay seeking to this time: pings and matches more than a minute before it are
    /// joined and counted but not sent to the map (it shows only where people are at the
    /// target), which makes going back in a big dump quick.
    QuietBefore(i64),
    /// Write every record the engine takes to a kcat -J dump, until a limit or `StopRecording`.
    StartRecording(RecordingLimits),
    StopRecording,
    Stop,
}

/// The nearest match of one ping (a ping may match many valid promotions; the map draws one
/// line, the counters count all).
#[derive(Clone, Debug)]
pub struct PingMatch {
    pub timestamp_ms: i64,
    pub customer: Arc<Customer>,
    pub nearest: Arc<ValidPromotion>,
    pub dist_to_store_ft: f64,
    /// NEARBY_CUSTOMERS records this ping produced.
    pub records: u64,
}

/// Where and how much to record.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordingLimits {
    pub path: std::path::PathBuf,
    pub max_bytes: Option<u64>,
    pub max_duration: Option<Duration>,
}

/// A recording's progress (shown on the source line).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RecordingStatus {
    pub path: String,
    pub records: u64,
    pub bytes: u64,
    pub active: bool,
    /// Why it stopped (limit reached, stopped, or an error).
    pub ended: Option<String>,
}

struct Recording {
    writer: DumpWriter,
    limits: RecordingLimits,
    started: Instant,
    status: RecordingStatus,
}

/// Counters and state the status panels show.
#[derive(Clone, Debug, Default)]
pub struct LiveStats {
    pub pipeline: PipelineStats,
    pub state: StateSize,
    pub stream_time_ms: Option<i64>,
    pub nearby_records: u64,
    pub notifications: u64,
    /// Inputs kept to prime the joins after a parameter change.
    pub kept_inputs: usize,
    /// Records the engine has taken from the bus.
    pub records_pushed: u64,
    /// The last or current recording.
    pub recording: Option<RecordingStatus>,
}

/// One thing the UI should know.
#[derive(Clone, Debug)]
pub enum LiveEvent {
    Product {
        timestamp_ms: i64,
        product: Arc<Product>,
    },
    Promotion {
        timestamp_ms: i64,
        offset: i64,
        promotion: Arc<Promotion>,
    },
    Ping {
        timestamp_ms: i64,
        customer: Arc<Customer>,
    },
    ValidPromotion(Arc<ValidPromotion>),
    Match(PingMatch),
    Notification(Notification),
    /// NEARBY_CUSTOMERS records per (minute start, segment) since the last batch.
    MatchesPerMinute(BTreeMap<(i64, Arc<str>), u64>),
    Stats(Box<LiveStats>),
    /// The engine runs with these settings now (after priming with `replayed` inputs).
    Applied {
        settings: LiveSettings,
        replayed: usize,
    },
    /// The source closed: nothing more will come.
    SourceClosed,
    /// The engine's state before the record at this position of a replay; the UI pairs it
    /// with its model as of this event, so a seek can resume from here.
    Checkpoint(Arc<LiveCheckpoint>),
}

/// The engine thread's state at a position of a replay, to resume from.
#[derive(Debug)]
pub struct LiveCheckpoint {
    /// Records taken before it: the replay resumes at this index of the dump.
    pub records_pushed: u64,
    /// The seek target of the run that took it: its pings and matches before this minus a
    /// minute never reached the map, so it serves seeks to this time or later only.
    pub quiet_before_ms: Option<i64>,
    /// Engine time spent on the records before it, from the start of the dump: where it
    /// sits on the axis of re-run cost.
    pub work: Duration,
    pipeline: Pipeline,
    notifier: Notifier,
}

impl LiveCheckpoint {
    /// An empty engine state at a position (tests of what keeps checkpoints).
    #[cfg(test)]
    pub(crate) fn empty_at(
        records_pushed: u64,
        quiet_before_ms: Option<i64>,
        work: Duration,
    ) -> Self {
        Self {
            records_pushed,
            quiet_before_ms,
            work,
            pipeline: Pipeline::new(PipelineParams::default()),
            notifier: Notifier::new(0),
        }
    }

    /// A rough size of what it holds on its own, for the checkpoint budget. The buffered
    /// records sit in chunks shared with the running engine and the other checkpoints
    /// (see [`crate::engine::time_buffer`]); its own are the chunk pointers, the buffers'
    /// tables, and the half-full last chunk of each buffer the engine copies when it
    /// appends next. The cooldown state is shared the same way (a table of pointers).
    pub fn estimated_bytes(&self) -> u64 {
        let s = self.pipeline.state_size();
        let entries = s.promotion_join + s.customers + s.valid_promotion_entries;
        let half_chunk_bytes = (crate::engine::time_buffer::CHUNK / 2 * 64) as u64;
        (entries / crate::engine::time_buffer::CHUNK * 16) as u64
            + s.buffers as u64 * (96 + half_chunk_bytes)
            + (self.notifier.tracked() / crate::engine::time_buffer::CHUNK * 16) as u64
            + self.notifier.customers() as u64 * 24
    }
}

/// How the engine of a replay starts and when it takes checkpoints.
#[derive(Clone, Debug, Default)]
pub struct ReplayStart {
    /// Resume from this checkpoint instead of an empty pipeline.
    pub resume: Option<Arc<LiveCheckpoint>>,
    /// See [`LiveCommand::QuietBefore`].
    pub quiet_before_ms: Option<i64>,
    /// Take a checkpoint after this many records (0: never) or this much engine time since
    /// the last one, whichever comes first (outputs per record vary a thousandfold between
    /// dumps, so records alone would space them badly) …
    pub checkpoint_every: u64,
    pub checkpoint_work: Duration,
    /// … counting from these positions too (the console has as good a one there already).
    pub have: Vec<u64>,
}

/// The console's handle on the engine thread.
pub struct LiveEngine {
    pub events: Receiver<Vec<LiveEvent>>,
    commands: Sender<LiveCommand>,
    thread: Option<JoinHandle<()>>,
}

/// Largest batch, and longest the thread collects before sending one.
const BATCH_RECORDS: usize = 2_000;
const BATCH_TIME: Duration = Duration::from_millis(30);
const STATS_EVERY: Duration = Duration::from_millis(250);
/// While seeking, pings this close to the target are still drawn (trails need them).
const QUIET_MARGIN_MS: i64 = 60_000;

impl LiveEngine {
    pub fn start(consumer: BusConsumer, settings: LiveSettings) -> std::io::Result<LiveEngine> {
        LiveEngine::spawn(EngineLoop::new(settings), consumer)
    }

    /// The engine of a replay: resumed from a checkpoint or fresh, taking checkpoints as it
    /// goes. It keeps no inputs for live parameter changes: a replay re-runs instead.
    pub fn start_replay(
        consumer: BusConsumer,
        settings: LiveSettings,
        start: ReplayStart,
    ) -> std::io::Result<LiveEngine> {
        let mut engine = EngineLoop::new(settings);
        engine.keep_inputs = false;
        engine.quiet_before_ms = start.quiet_before_ms;
        if let Some(c) = &start.resume {
            engine.pipeline = c.pipeline.checkpoint(None);
            engine.notifier = c.notifier.clone();
            engine.records_pushed = c.records_pushed;
            engine.work = c.work;
        }
        engine.checkpoint_every = start.checkpoint_every;
        engine.checkpoint_work = start.checkpoint_work;
        engine.checkpoints_had = start.have.into_iter().collect();
        LiveEngine::spawn(engine, consumer)
    }

    fn spawn(engine: EngineLoop, consumer: BusConsumer) -> std::io::Result<LiveEngine> {
        let (event_tx, events) = mpsc::channel();
        let (commands, command_rx) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("instore-engine".into())
            .spawn(move || engine.run(&consumer, &command_rx, &event_tx))?;
        Ok(LiveEngine {
            events,
            commands,
            thread: Some(thread),
        })
    }

    /// Applies new settings; the engine answers with [`LiveEvent::Applied`].
    pub fn apply(&self, settings: LiveSettings) {
        let _ = self.commands.send(LiveCommand::Apply(settings));
    }

    pub fn start_recording(&self, limits: RecordingLimits) {
        let _ = self.commands.send(LiveCommand::StartRecording(limits));
    }

    pub fn stop_recording(&self) {
        let _ = self.commands.send(LiveCommand::StopRecording);
    }

    /// See [`LiveCommand::QuietBefore`].
    pub fn quiet_before(&self, t_ms: i64) {
        let _ = self.commands.send(LiveCommand::QuietBefore(t_ms));
    }

    /// Counts lines of a dump that were not records.
    pub fn count_broken_lines(&self, samples: Vec<(u64, String)>, unsampled: u64) {
        let _ = self
            .commands
            .send(LiveCommand::BrokenLines { samples, unsampled });
    }
}

impl Drop for LiveEngine {
    fn drop(&mut self) {
        let _ = self.commands.send(LiveCommand::Stop);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

struct EngineLoop {
    pipeline: Pipeline,
    notifier: Notifier,
    settings: LiveSettings,
    /// Recent inputs, oldest first, for priming after a parameter change.
    kept: VecDeque<(Topic, i64, InputValue)>,
    outputs: Vec<Output>,
    per_minute: BTreeMap<(i64, Arc<str>), u64>,
    records_pushed: u64,
    recording: Option<Recording>,
    last_recording: Option<RecordingStatus>,
    quiet_before_ms: Option<i64>,
    /// Whether to keep recent inputs for [`EngineLoop::apply`] (not in replays).
    keep_inputs: bool,
    checkpoint_every: u64,
    checkpoint_work: Duration,
    checkpoints_had: std::collections::BTreeSet<u64>,
    /// Records and engine time since the last checkpoint (taken or had).
    since_checkpoint: (u64, Duration),
    /// Engine time spent pushing records since the start of the source.
    work: Duration,
}

impl EngineLoop {
    fn new(settings: LiveSettings) -> Self {
        Self {
            pipeline: Pipeline::new(settings.params.clone()),
            notifier: Notifier::new(settings.cooldown_ms),
            settings,
            kept: VecDeque::new(),
            outputs: Vec::new(),
            per_minute: BTreeMap::new(),
            records_pushed: 0,
            recording: None,
            last_recording: None,
            quiet_before_ms: None,
            keep_inputs: true,
            checkpoint_every: 0,
            checkpoint_work: Duration::MAX,
            checkpoints_had: Default::default(),
            since_checkpoint: (0, Duration::ZERO),
            work: Duration::ZERO,
        }
    }

    /// Before the record at a checkpoint position: the counts so far and the state, in the
    /// event stream exactly between the events of the records before and after.
    fn maybe_checkpoint(&mut self, next_ts_ms: Option<i64>, batch: &mut Vec<LiveEvent>) {
        let at = self.records_pushed;
        if at == 0 {
            return;
        }
        if self.checkpoints_had.contains(&at) {
            self.since_checkpoint = (0, Duration::ZERO);
            return;
        }
        let (records, work) = self.since_checkpoint;
        if records < self.checkpoint_every && work < self.checkpoint_work {
            return;
        }
        self.since_checkpoint = (0, Duration::ZERO);
        if !self.per_minute.is_empty() {
            batch.push(LiveEvent::MatchesPerMinute(std::mem::take(
                &mut self.per_minute,
            )));
        }
        batch.push(LiveEvent::Stats(Box::new(self.stats())));
        batch.push(LiveEvent::Checkpoint(Arc::new(LiveCheckpoint {
            records_pushed: at,
            quiet_before_ms: self.quiet_before_ms,
            work: self.work,
            pipeline: self.pipeline.checkpoint(next_ts_ms),
            notifier: self.notifier.clone(),
        })));
    }

    /// How far back inputs are kept: any future output of in-order data involves inputs no
    /// older than 2·promotion window + 2·customer window before stream time.
    fn keep_ms(&self) -> i64 {
        let p = &self.settings.params;
        2 * (p.promotion_window_ms + p.customer_window_ms)
    }

    fn run(
        mut self,
        consumer: &BusConsumer,
        commands: &Receiver<LiveCommand>,
        events: &Sender<Vec<LiveEvent>>,
    ) {
        let mut last_stats = Instant::now();
        let started = vec![LiveEvent::Applied {
            settings: self.settings.clone(),
            replayed: 0,
        }];
        if events.send(started).is_err() {
            return;
        }
        loop {
            let mut batch = Vec::new();
            // A slider sends a change per frame: only the newest settings are worth a rebuild.
            let mut newest = None;
            while let Ok(command) = commands.try_recv() {
                match command {
                    LiveCommand::Stop => return,
                    LiveCommand::Apply(settings) => newest = Some(settings),
                    LiveCommand::BrokenLines { samples, unsampled } => {
                        self.count_broken(samples, unsampled)
                    }
                    LiveCommand::StartRecording(limits) => self.start_recording(limits),
                    LiveCommand::QuietBefore(t) => self.quiet_before_ms = Some(t),
                    LiveCommand::StopRecording => self.stop_recording("stopped".into()),
                }
            }
            if let Some(settings) = newest {
                self.apply(settings, &mut batch);
            }
            let started = Instant::now();
            let mut closed = false;
            let mut caught_up = false;
            let mut taken = 0;
            while taken < BATCH_RECORDS && started.elapsed() < BATCH_TIME {
                let wait = BATCH_TIME.saturating_sub(started.elapsed());
                match consumer.recv_timeout(wait) {
                    Received::Record(record) => {
                        if self.checkpoint_every == 0 {
                            self.push(&record, &mut batch);
                        } else {
                            // Replays only: the engine time checkpoints are spaced by.
                            self.maybe_checkpoint(record.timestamp_ms, &mut batch);
                            let pushing = Instant::now();
                            self.push(&record, &mut batch);
                            let spent = pushing.elapsed();
                            self.since_checkpoint.0 += 1;
                            self.since_checkpoint.1 += spent;
                            self.work += spent;
                        }
                        taken += 1;
                    }
                    Received::Idle => {
                        caught_up = true;
                        break;
                    }
                    Received::Closed => {
                        closed = true;
                        break;
                    }
                }
            }
            if !self.per_minute.is_empty() {
                batch.push(LiveEvent::MatchesPerMinute(std::mem::take(
                    &mut self.per_minute,
                )));
            }
            // Counters are exact whenever the engine has caught up with its source (a seek
            // that just arrived, a paused replay), and at least every STATS_EVERY otherwise.
            if closed || (caught_up && taken > 0) || last_stats.elapsed() >= STATS_EVERY {
                last_stats = Instant::now();
                batch.push(LiveEvent::Stats(Box::new(self.stats())));
            }
            if closed {
                batch.push(LiveEvent::SourceClosed);
            }
            if !batch.is_empty() && events.send(batch).is_err() {
                return;
            }
            if closed {
                // Keep answering parameter changes until the console lets go.
                match commands.recv() {
                    Ok(LiveCommand::Apply(settings)) => {
                        let mut batch = Vec::new();
                        self.apply(settings, &mut batch);
                        batch.push(LiveEvent::Stats(Box::new(self.stats())));
                        if events.send(batch).is_err() {
                            return;
                        }
                        continue;
                    }
                    Ok(LiveCommand::QuietBefore(t)) => {
                        self.quiet_before_ms = Some(t);
                        continue;
                    }
                    Ok(LiveCommand::StartRecording(limits)) => {
                        self.start_recording(limits);
                        continue;
                    }
                    Ok(LiveCommand::StopRecording) => {
                        self.stop_recording("stopped".into());
                        continue;
                    }
                    Ok(LiveCommand::BrokenLines { samples, unsampled }) => {
                        self.count_broken(samples, unsampled);
                        continue;
                    }
                    Ok(LiveCommand::Stop) | Err(_) => return,
                }
            }
        }
    }

    fn stats(&self) -> LiveStats {
        LiveStats {
            pipeline: self.pipeline.stats().clone(),
            state: self.pipeline.state_size(),
            stream_time_ms: self.pipeline.stream_time_ms(),
            nearby_records: self.notifier.raw_count(),
            notifications: self.notifier.notified_count(),
            kept_inputs: self.kept.len(),
            records_pushed: self.records_pushed,
            recording: self
                .recording
                .as_ref()
                .map(|r| r.status.clone())
                .or_else(|| self.last_recording.clone()),
        }
    }

    fn count_broken(&mut self, samples: Vec<(u64, String)>, unsampled: u64) {
        for (n, text) in samples {
            self.pipeline.count_broken_line(n, &text);
        }
        self.pipeline.count_broken_lines_unsampled(unsampled);
    }

    fn start_recording(&mut self, limits: RecordingLimits) {
        self.stop_recording("replaced by a new recording".into());
        let path = limits.path.display().to_string();
        match DumpWriter::create(&limits.path) {
            Ok(writer) => {
                self.recording = Some(Recording {
                    writer,
                    limits,
                    started: Instant::now(),
                    status: RecordingStatus {
                        path,
                        active: true,
                        ..RecordingStatus::default()
                    },
                })
            }
            Err(e) => {
                self.last_recording = Some(RecordingStatus {
                    path,
                    ended: Some(e.to_string()),
                    ..RecordingStatus::default()
                })
            }
        }
    }

    fn stop_recording(&mut self, why: String) {
        let Some(r) = self.recording.take() else {
            return;
        };
        let mut status = r.status;
        status.active = false;
        status.ended = Some(match r.writer.finish() {
            Ok(()) => why,
            Err(e) => e.to_string(),
        });
        self.last_recording = Some(status);
    }

    fn record(&mut self, record: &crate::engine::RawRecord<'_>) {
        let Some(r) = self.recording.as_mut() else {
            return;
        };
        let written = r.writer.write_raw(&DumpRecordRef {
            topic: &record.topic,
            partition: record.partition,
            offset: record.offset,
            timestamp_ms: record.timestamp_ms.unwrap_or(-1),
            key: record.key.as_deref(),
            headers: &record.headers,
            payload: record.payload.as_deref(),
        });
        r.status.records += 1;
        // The line's size: the payload plus the envelope (close enough for a limit).
        r.status.bytes += record.payload.as_deref().map_or(0, str::len) as u64 + 110;
        let over_size = r.limits.max_bytes.is_some_and(|m| r.status.bytes >= m);
        let over_time = r
            .limits
            .max_duration
            .is_some_and(|d| r.started.elapsed() >= d);
        match written {
            Err(e) => self.stop_recording(e.to_string()),
            Ok(()) if over_size => self.stop_recording("size limit reached".into()),
            Ok(()) if over_time => self.stop_recording("time limit reached".into()),
            Ok(()) => {}
        }
    }

    fn push(&mut self, record: &crate::engine::RawRecord<'_>, batch: &mut Vec<LiveEvent>) {
        self.records_pushed += 1;
        self.record(record);
        let kept = &mut self.kept;
        let keep_inputs = self.keep_inputs;
        let offset = record.offset;
        let quiet = self
            .quiet_before_ms
            .zip(record.timestamp_ms)
            .is_some_and(|(q, ts)| ts < q - QUIET_MARGIN_MS);
        self.pipeline
            .push_observed(record, &mut self.outputs, |topic, ts, value| {
                if keep_inputs {
                    kept.push_back((topic, ts, value.clone()));
                }
                if quiet && matches!(value, InputValue::Customer(_)) {
                    return;
                }
                batch.push(match value {
                    InputValue::Customer(c) => LiveEvent::Ping {
                        timestamp_ms: ts,
                        customer: Arc::new(c.clone()),
                    },
                    InputValue::Product(p) => LiveEvent::Product {
                        timestamp_ms: ts,
                        product: Arc::new(p.clone()),
                    },
                    InputValue::Promotion(p) => LiveEvent::Promotion {
                        timestamp_ms: ts,
                        offset,
                        promotion: Arc::new(p.clone()),
                    },
                });
            });
        if let Some(now) = self.pipeline.stream_time_ms() {
            let horizon = now - self.keep_ms();
            while self.kept.front().is_some_and(|(_, ts, _)| *ts < horizon) {
                self.kept.pop_front();
            }
        }
        let mut nearest: Option<PingMatch> = None;
        // Counted per record first (a ping's outputs share a minute and a few segments), then
        // merged: one map update per segment instead of one per output.
        let mut minute_counts: Vec<(i64, Arc<str>, u64)> = Vec::new();
        for output in self.outputs.drain(..) {
            match output {
                Output::ValidPromotion(v) => batch.push(LiveEvent::ValidPromotion(v)),
                Output::NearbyCustomer(n) => {
                    count_minute(&mut minute_counts, &n);
                    if let Some(notification) = self.notifier.offer(&n) {
                        batch.push(LiveEvent::Notification(notification));
                    }
                    nearest = Some(match nearest.take() {
                        None => PingMatch {
                            timestamp_ms: n.timestamp_ms,
                            dist_to_store_ft: n.dist_to_store_ft,
                            customer: n.customer,
                            nearest: n.valid,
                            records: 1,
                        },
                        Some(mut m) => {
                            m.records += 1;
                            if n.dist_to_store_ft < m.dist_to_store_ft {
                                m.dist_to_store_ft = n.dist_to_store_ft;
                                m.nearest = n.valid;
                                m.customer = n.customer;
                                m.timestamp_ms = n.timestamp_ms;
                            }
                            m
                        }
                    });
                }
            }
        }
        for (minute, segment, n) in minute_counts {
            *self.per_minute.entry((minute, segment)).or_insert(0) += n;
        }
        if let Some(m) = nearest.filter(|_| !quiet) {
            batch.push(LiveEvent::Match(m));
        }
    }

    fn apply(&mut self, settings: LiveSettings, batch: &mut Vec<LiveEvent>) {
        if settings.cooldown_ms != self.settings.cooldown_ms {
            self.notifier = Notifier::new(settings.cooldown_ms);
        }
        let replayed = self.kept.len();
        if settings.params != self.settings.params {
            let replay = self.kept.iter().cloned();
            self.pipeline
                .reconfigure(settings.params.clone(), replay, &mut self.outputs);
            for output in self.outputs.drain(..) {
                if let Output::ValidPromotion(v) = output {
                    batch.push(LiveEvent::ValidPromotion(v));
                }
            }
        }
        self.settings = settings.clone();
        batch.push(LiveEvent::Applied { settings, replayed });
    }
}

impl Drop for EngineLoop {
    /// A recording in progress is finished properly (a gzip dump needs its trailer).
    fn drop(&mut self) {
        self.stop_recording("the console closed".into());
    }
}

fn count_minute(counts: &mut Vec<(i64, Arc<str>, u64)>, n: &NearbyCustomer) {
    let minute = n.timestamp_ms - n.timestamp_ms.rem_euclid(60_000);
    let segment = n.valid.product.segment.as_deref().unwrap_or("(none)");
    match counts
        .iter_mut()
        .find(|(m, s, _)| *m == minute && &**s == segment)
    {
        Some((_, _, c)) => *c += 1,
        None => counts.push((minute, Arc::from(segment), 1)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::RawRecord;
    use crate::io::bus::bus;

    fn record(topic: Topic, ts: i64, payload: &str) -> RawRecord<'static> {
        RawRecord {
            timestamp_ms: Some(ts),
            payload: Some(payload.to_owned().into()),
            topic: topic.name().into(),
            ..RawRecord::default()
        }
    }

    fn drain_until(
        engine: &LiveEngine,
        mut done: impl FnMut(&LiveEvent) -> bool,
    ) -> Vec<LiveEvent> {
        let mut all = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(batch) = engine.events.recv_timeout(Duration::from_millis(100)) {
                let finished = batch.iter().any(&mut done);
                all.extend(batch);
                if finished {
                    return all;
                }
            }
        }
        panic!("no final event within 20 s; got {} events", all.len());
    }

    #[test]
    fn records_become_events_matches_notify_once_and_a_narrower_radius_applies() {
        let (producer, consumer) = bus(64);
        let settings = LiveSettings {
            params: PipelineParams::default(),
            cooldown_ms: 600_000,
        };
        let engine = LiveEngine::start(consumer, settings.clone()).unwrap();
        let t0 = 1_764_147_600_000;
        let product = r#"{"sku": 5, "segment": "A", "latitude": 41.88, "longitude": -87.62, "country": "USA"}"#;
        producer
            .publish(
                Topic::StoresProducts,
                record(Topic::StoresProducts, t0, product),
            )
            .unwrap();
        let promo = r#"{"pid": "p1", "SKU": 5, "segment": "A"}"#;
        producer
            .publish(
                Topic::ProductsPromotions,
                record(Topic::ProductsPromotions, t0, promo),
            )
            .unwrap();
        let near = r#"{"uid": "u1", "latitude": 41.88020, "longitude": -87.62, "country": "USA"}"#;
        for i in 0..3 {
            producer
                .publish(
                    Topic::CustomersLocations,
                    record(Topic::CustomersLocations, t0 + i * 5_000, near),
                )
                .unwrap();
        }
        producer
            .publish(
                Topic::CustomersLocations,
                record(Topic::CustomersLocations, t0, "oops"),
            )
            .unwrap();
        drop(producer);
        let events = drain_until(&engine, |e| matches!(e, LiveEvent::SourceClosed));
        let count = |f: &dyn Fn(&LiveEvent) -> bool| events.iter().filter(|e| f(e)).count();
        assert_eq!(
            count(&|e| matches!(e, LiveEvent::Ping { .. })),
            3,
            "the refused ping is not drawn"
        );
        assert_eq!(count(&|e| matches!(e, LiveEvent::Match(_))), 3);
        assert_eq!(
            count(&|e| matches!(e, LiveEvent::Notification(_))),
            1,
            "cooldown"
        );
        let stats = events
            .iter()
            .rev()
            .find_map(|e| match e {
                LiveEvent::Stats(s) => Some(s.clone()),
                _ => None,
            })
            .unwrap();
        assert_eq!(stats.pipeline.topic(Topic::CustomersLocations).rejected, 1);
        assert_eq!(stats.nearby_records, 3);
        assert_eq!(stats.kept_inputs, 5);

        engine.apply(LiveSettings {
            params: PipelineParams {
                radius_ft: 10.0,
                ..PipelineParams::default()
            },
            ..settings
        });
        let events = drain_until(&engine, |e| matches!(e, LiveEvent::Applied { .. }));
        assert!(events
            .iter()
            .any(|e| matches!(e, LiveEvent::ValidPromotion(_))));
        assert!(events
            .iter()
            .any(|e| matches!(e, LiveEvent::Applied { settings, replayed: 5 } if settings.params.radius_ft == 10.0)));
    }
}
