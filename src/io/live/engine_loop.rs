//! The engine thread's loop: commands first (one handler, whether records still come or the
//! source has closed), then records from the bus for up to a batch's time, then one batch of
//! events to the console.

use std::sync::mpsc::Receiver;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::engine::notify::Notifier;
use crate::engine::output::release_burst;
use crate::engine::{InputValue, Output, Pipeline, RawRecord};
use crate::io::bus::{BusConsumer, Received};

use super::checkpoint::{CheckpointSpacing, LiveCheckpoint, ReplayStart};
use super::display::DisplaySender;
use super::events::{LiveEvent, LiveStats, MatchesPerMinute, PingMatch};
use super::per_minute::RecordMinutes;
use super::priming::KeptInputs;
use super::recording::Recorder;
use super::{LiveCommand, LiveSettings};

/// Largest batch, and longest the thread collects before sending one.
const BATCH_RECORDS: usize = 2_000;
const BATCH_TIME: Duration = Duration::from_millis(30);
const STATS_EVERY: Duration = Duration::from_millis(250);
/// While seeking, pings this close to the target are still drawn (trails need them).
const QUIET_MARGIN_MS: i64 = 60_000;

pub(super) struct EngineLoop {
    pipeline: Pipeline,
    notifier: Notifier,
    settings: LiveSettings,
    /// Recent inputs for priming after a parameter change (`None` in replays: they re-run).
    kept: Option<KeptInputs>,
    outputs: Vec<Output>,
    per_minute: MatchesPerMinute,
    record_minutes: RecordMinutes,
    records_pushed: u64,
    recorder: Recorder,
    quiet_before_ms: Option<i64>,
    /// Replays with checkpoints only.
    checkpoints: Option<CheckpointSpacing>,
}

/// The notifier for `settings`: leaving a geofence is measured with the pipeline's radius.
fn notifier_for(settings: &LiveSettings) -> Notifier {
    Notifier::new(
        settings.notify.clone(),
        settings.params.radius_ft,
        settings.params.km_to_ft,
    )
}

/// What the display keeps of one record's outputs: its valid promotions (rings to draw),
/// and of its matches the nearest (the map draws one line a ping) and their count.
#[derive(Default)]
struct RecordShown {
    valid_promotions: Vec<LiveEvent>,
    nearest: Option<PingMatch>,
}

impl RecordShown {
    /// Takes `outputs` (all or part of a record's, in order), leaving it empty.
    fn take(&mut self, outputs: &mut Vec<Output>, minutes: &mut RecordMinutes) {
        for output in outputs.drain(..) {
            match output {
                Output::ValidPromotion(v) => {
                    self.valid_promotions.push(LiveEvent::ValidPromotion(v))
                }
                Output::NearbyCustomer(n) => {
                    minutes.count(&n);
                    match &mut self.nearest {
                        None => {
                            self.nearest = Some(PingMatch {
                                timestamp_ms: n.timestamp_ms,
                                dist_to_store_ft: n.dist_to_store_ft,
                                customer: n.customer,
                                nearest: n.valid,
                                records: 1,
                            })
                        }
                        Some(m) => {
                            m.records += 1;
                            if n.dist_to_store_ft < m.dist_to_store_ft {
                                m.dist_to_store_ft = n.dist_to_store_ft;
                                m.nearest = n.valid;
                                m.customer = n.customer;
                                m.timestamp_ms = n.timestamp_ms;
                            }
                        }
                    }
                }
            }
        }
    }
}

/// What the loop does after a command.
#[derive(Debug, PartialEq, Eq)]
enum Flow {
    Go,
    Stop,
}

impl EngineLoop {
    fn new(settings: LiveSettings) -> Self {
        Self {
            pipeline: Pipeline::new(settings.params.clone()),
            notifier: notifier_for(&settings),
            settings,
            kept: None,
            outputs: Vec::new(),
            per_minute: MatchesPerMinute::new(),
            record_minutes: RecordMinutes::default(),
            records_pushed: 0,
            recorder: Recorder::default(),
            quiet_before_ms: None,
            checkpoints: None,
        }
    }

    pub(super) fn live(settings: LiveSettings) -> Self {
        Self {
            kept: Some(KeptInputs::default()),
            ..Self::new(settings)
        }
    }

    pub(super) fn replay(settings: LiveSettings, start: &ReplayStart) -> Self {
        let mut engine = Self::new(settings);
        engine.quiet_before_ms = start.quiet_before_ms;
        let mut work = Duration::ZERO;
        if let Some(c) = &start.resume {
            engine.pipeline = c.pipeline.checkpoint(None);
            engine.notifier = c.notifier.clone();
            engine.records_pushed = c.records_pushed;
            work = c.work;
        }
        engine.checkpoints = CheckpointSpacing::new(start, work);
        engine
    }

    pub(super) fn run(
        mut self,
        consumer: &BusConsumer,
        commands: &Receiver<LiveCommand>,
        mut display: DisplaySender,
    ) {
        let mut last_stats = Instant::now();
        let started = vec![LiveEvent::Applied {
            settings: self.settings.clone(),
            replayed: 0,
        }];
        if display.send(started).is_err() {
            return;
        }
        let mut closed = false;
        loop {
            let mut batch = Vec::new();
            // A slider sends a change per frame: only the newest settings are worth a rebuild.
            let mut newest = None;
            if closed {
                // Nothing more comes in: wait for the console (parameter changes are still
                // answered), and hand over what is held for it meanwhile.
                match commands.recv_timeout(BATCH_TIME) {
                    Ok(command) => {
                        if self.handle(command, &mut newest) == Flow::Stop {
                            return;
                        }
                    }
                    Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                    Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return,
                }
            }
            while let Ok(command) = commands.try_recv() {
                if self.handle(command, &mut newest) == Flow::Stop {
                    return;
                }
            }
            if let Some(settings) = newest {
                self.apply(settings, &mut batch);
                if closed {
                    batch.push(self.stats_event(&display));
                }
            }
            if !closed {
                closed = self.take_records(consumer, &mut batch, &display, &mut last_stats);
            }
            let sent = if batch.is_empty() {
                display.flush()
            } else {
                display.send(batch)
            };
            if sent.is_err() {
                return;
            }
        }
    }

    /// Records from the bus until a batch is full or its time is up; true when the source
    /// closed.
    fn take_records(
        &mut self,
        consumer: &BusConsumer,
        batch: &mut Vec<LiveEvent>,
        display: &DisplaySender,
        last_stats: &mut Instant,
    ) -> bool {
        let started = Instant::now();
        let mut closed = false;
        let mut caught_up = false;
        let mut taken = 0;
        while taken < BATCH_RECORDS && started.elapsed() < BATCH_TIME {
            let wait = BATCH_TIME.saturating_sub(started.elapsed());
            match consumer.recv_timeout(wait) {
                Received::Record(record) => {
                    match self.checkpoints.is_some() {
                        false => self.push(&record, batch),
                        // Replays only: the engine time checkpoints are spaced by.
                        true => {
                            self.maybe_checkpoint(record.timestamp_ms, batch, display);
                            let pushing = Instant::now();
                            self.push(&record, batch);
                            let spent = pushing.elapsed();
                            if let Some(spacing) = self.checkpoints.as_mut() {
                                spacing.pushed(spent);
                            }
                        }
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
            *last_stats = Instant::now();
            batch.push(self.stats_event(display));
        }
        if closed {
            batch.push(LiveEvent::SourceClosed);
        }
        closed
    }

    /// The one place commands are carried out; settings changes are left in `newest`.
    fn handle(&mut self, command: LiveCommand, newest: &mut Option<LiveSettings>) -> Flow {
        match command {
            LiveCommand::Stop => return Flow::Stop,
            LiveCommand::Apply(settings) => *newest = Some(settings),
            LiveCommand::BrokenLines { samples, unsampled } => {
                for (n, text) in samples {
                    self.pipeline.count_broken_line(n, &text);
                }
                self.pipeline.count_broken_lines_unsampled(unsampled);
            }
            LiveCommand::StartRecording(limits) => self.recorder.start(limits),
            LiveCommand::StopRecording => self.recorder.stop("stopped".into()),
            LiveCommand::QuietBefore(t) => self.quiet_before_ms = Some(t),
        }
        Flow::Go
    }

    /// Before the record at a checkpoint position: the counts so far and the state, in the
    /// event stream exactly between the events of the records before and after.
    fn maybe_checkpoint(
        &mut self,
        next_ts_ms: Option<i64>,
        batch: &mut Vec<LiveEvent>,
        display: &DisplaySender,
    ) {
        let at = self.records_pushed;
        let Some(spacing) = self.checkpoints.as_mut() else {
            return;
        };
        if !spacing.due(at) {
            return;
        }
        let work = spacing.work;
        if !self.per_minute.is_empty() {
            batch.push(LiveEvent::MatchesPerMinute(std::mem::take(
                &mut self.per_minute,
            )));
        }
        batch.push(self.stats_event(display));
        batch.push(LiveEvent::Checkpoint(Arc::new(LiveCheckpoint {
            records_pushed: at,
            quiet_before_ms: self.quiet_before_ms,
            work,
            pipeline: self.pipeline.checkpoint(next_ts_ms),
            notifier: self.notifier.clone(),
        })));
    }

    fn stats_event(&self, display: &DisplaySender) -> LiveEvent {
        LiveEvent::Stats(Box::new(LiveStats {
            pipeline: self.pipeline.stats().clone(),
            state: self.pipeline.state_size(),
            stream_time_ms: self.pipeline.stream_time_ms(),
            nearby_records: self.notifier.raw_count(),
            notifications: self.notifier.notified_count(),
            notifying: self.notifier.notifying_count(),
            held_back: self.notifier.held_back(),
            kept_inputs: self.kept.as_ref().map_or(0, KeptInputs::len),
            kept_inputs_reach_ms: self.kept.as_ref().and_then(KeptInputs::reach_ms),
            memory_shed: self.pipeline.memory_shed(),
            records_pushed: self.records_pushed,
            recording: self.recorder.status(),
            display_events_merged: display.merged(),
        }))
    }

    fn push(&mut self, record: &RawRecord<'_>, batch: &mut Vec<LiveEvent>) {
        self.records_pushed += 1;
        self.recorder.write(record);
        let kept = &mut self.kept;
        let mut observed = None;
        let offset = record.offset;
        let quiet = self
            .quiet_before_ms
            .zip(record.timestamp_ms)
            .is_some_and(|(q, ts)| ts < q - QUIET_MARGIN_MS);
        let observe = |topic, ts, value: &InputValue| {
            if let Some(kept) = kept.as_mut() {
                kept.push(topic, ts, value);
            }
            if let InputValue::Customer(c) = value {
                observed = Some((c.clone(), ts));
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
        };
        // A record with millions of matches comes in parts: the rules fold each, and the
        // display keeps only what it draws of them.
        let mut shown = RecordShown::default();
        let mut in_parts = false;
        let (notifier, minutes) = (&mut self.notifier, &mut self.record_minutes);
        self.pipeline
            .push_observed_in_parts(record, &mut self.outputs, observe, &mut |part| {
                in_parts = true;
                notifier.offer_part(part);
                shown.take(part, minutes);
            });
        let observed_ping = observed.and_then(|(c, ts)| self.notifier.expect_ping(&c, ts));
        if let (Some(kept), Some(now)) = (self.kept.as_mut(), self.pipeline.stream_time_ms()) {
            kept.expire(now, &self.settings.params);
        }
        // The record's matches together: the rule and the cap choose among them.
        let mut notifications = Vec::new();
        if in_parts {
            self.notifier.offer_part(&self.outputs);
            (self.notifier).finish_parts(observed_ping.as_ref(), &mut notifications);
        } else {
            (self.notifier).on_record_into(
                &self.outputs,
                observed_ping.as_ref(),
                &mut notifications,
            );
        }
        batch.extend(notifications.into_iter().map(LiveEvent::Notification));
        shown.take(&mut self.outputs, &mut self.record_minutes);
        release_burst(&mut self.outputs);
        self.record_minutes.add_to(&mut self.per_minute);
        batch.append(&mut shown.valid_promotions);
        if let Some(m) = shown.nearest.filter(|_| !quiet) {
            batch.push(LiveEvent::Match(m));
        }
    }

    fn apply(&mut self, settings: LiveSettings, batch: &mut Vec<LiveEvent>) {
        let radius_changed = settings.params.radius_ft != self.settings.params.radius_ft;
        if settings.notify != self.settings.notify || radius_changed {
            self.notifier = notifier_for(&settings);
        }
        let replayed = self.kept.as_ref().map_or(0, KeptInputs::len);
        if settings.params != self.settings.params {
            let empty = KeptInputs::default();
            let replay = self.kept.as_ref().unwrap_or(&empty).iter();
            self.pipeline
                .reconfigure(settings.params.clone(), replay, &mut |part| {
                    for output in part.drain(..) {
                        if let Output::ValidPromotion(v) = output {
                            batch.push(LiveEvent::ValidPromotion(v));
                        }
                    }
                });
        }
        self.settings = settings.clone();
        batch.push(LiveEvent::Applied { settings, replayed });
    }
}
