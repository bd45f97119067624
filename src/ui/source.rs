//! The one owner of the console's source: which one runs (simulator, replay, Kafka, or only
//! the bus), a dump loading for a replay, the dump on the timeline with its checkpoints, the
//! event time on screen, and why the last start failed. Every switch goes through
//! [`Source::switch`]: stop the old session, forget what it showed, start the new one.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use crate::io::chain::Chain;
use crate::io::formats::ValuesOptions;
use crate::io::kafka::client::StartAt;
use crate::io::kafka::config::KafkaConfig;
use crate::io::kafka::input::KafkaInputError;
use crate::io::live::{LiveSettings, ReplayStart};
use crate::io::replay::{load_dumps_with, LoadError, LoadProgress, LoadedDump};
use crate::io::sim_feed::Speed;
use crate::io::simulator::SimConfig;
use crate::io::wake::Waker;

use super::display_clock::DisplayClock;
use super::model::LiveModel;
use super::replay_checkpoints::Checkpoints;
use super::session::Session;

/// Why a source did not start (shown on the source line until another one starts).
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("cannot start the simulator: {0}")]
    Simulator(std::io::Error),
    #[error("cannot start the replay: {0}")]
    Replay(std::io::Error),
    #[error("cannot start the engine: {0}")]
    Engine(std::io::Error),
    #[error("cannot start loading: {0}")]
    LoadThread(std::io::Error),
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error("loading the dump crashed")]
    LoadCrashed,
    #[error(transparent)]
    Kafka(#[from] KafkaInputError),
}

/// A dump loading on its own thread.
pub struct DumpLoad {
    pub progress: Arc<LoadProgress>,
    thread: std::thread::JoinHandle<Result<LoadedDump, LoadError>>,
    pub started: Instant,
}

/// The dump on the timeline.
pub struct Timeline {
    pub dump: Arc<LoadedDump>,
    /// Pings per minute, for the histogram under the slider.
    pub pings_per_minute: Vec<u32>,
}

pub struct Source {
    session: Option<Session>,
    load: Option<DumpLoad>,
    timeline: Option<Timeline>,
    /// Where a seek on the timeline can resume from.
    pub checkpoints: Option<Checkpoints>,
    error: Option<SourceError>,
    pub clock: DisplayClock,
    waker: Waker,
}

impl Source {
    pub fn new(waker: Waker) -> Source {
        Source {
            session: None,
            load: None,
            timeline: None,
            checkpoints: None,
            error: None,
            clock: DisplayClock::default(),
            waker,
        }
    }

    pub fn session(&self) -> Option<&Session> {
        self.session.as_ref()
    }

    pub fn session_mut(&mut self) -> Option<&mut Session> {
        self.session.as_mut()
    }

    pub fn error(&self) -> Option<&SourceError> {
        self.error.as_ref()
    }

    pub fn loading(&self) -> Option<&DumpLoad> {
        self.load.as_ref()
    }

    pub fn timeline(&self) -> Option<&Timeline> {
        self.timeline.as_ref()
    }

    /// Stops the current session, forgets what it showed (`model` becomes `shown`), and
    /// starts another.
    fn switch(
        &mut self,
        model: &mut LiveModel,
        shown: LiveModel,
        start: impl FnOnce(&Waker) -> Result<Session, SourceError>,
    ) {
        // The old session's threads end before the new one's start.
        self.session = None;
        *model = shown;
        self.clock = DisplayClock::default();
        match start(&self.waker) {
            Ok(session) => {
                self.session = Some(session);
                self.error = None;
            }
            Err(e) => self.error = Some(e),
        }
    }

    pub fn start_simulator(
        &mut self,
        model: &mut LiveModel,
        chain: &Chain,
        sim: &SimConfig,
        speed: Speed,
        settings: LiveSettings,
    ) {
        self.forget_timeline();
        self.switch(model, LiveModel::default(), |waker| {
            Session::simulator(chain, sim.clone(), speed, settings, waker)
                .map_err(SourceError::Simulator)
        });
    }

    pub fn connect_kafka(
        &mut self,
        model: &mut LiveModel,
        config: KafkaConfig,
        from: StartAt,
        settings: LiveSettings,
    ) {
        self.forget_timeline();
        self.switch(model, LiveModel::default(), |waker| {
            Ok(Session::kafka(config, from, settings, waker)?)
        });
    }

    /// An engine on an empty bus (tests; dumps and Kafka publish on it).
    pub fn start_bus_only(&mut self, model: &mut LiveModel, settings: LiveSettings) {
        self.forget_timeline();
        self.switch(model, LiveModel::default(), |waker| {
            Session::bus_only(settings, waker).map_err(SourceError::Engine)
        });
    }

    fn forget_timeline(&mut self) {
        self.timeline = None;
        self.checkpoints = None;
    }

    /// Starts loading dumps (merged by timestamp) on a thread of their own; the replay
    /// starts when they are in ([`Source::poll_loading`]).
    pub fn open_dumps(&mut self, paths: Vec<PathBuf>, values: &ValuesOptions) {
        self.cancel_load();
        let progress = Arc::new(LoadProgress::default());
        let thread_progress = Arc::clone(&progress);
        let values = values.clone();
        let waker = self.waker.clone();
        let spawned = std::thread::Builder::new()
            .name("instore-load".into())
            .spawn(move || {
                let loaded = load_dumps_with(&paths, &values, &thread_progress);
                waker.wake_now();
                loaded
            });
        match spawned {
            Ok(thread) => {
                self.load = Some(DumpLoad {
                    progress,
                    thread,
                    started: Instant::now(),
                })
            }
            Err(e) => self.error = Some(SourceError::LoadThread(e)),
        }
    }

    pub fn cancel_load(&mut self) {
        if let Some(load) = self.load.take() {
            load.progress.cancel.store(true, Ordering::Relaxed);
        }
    }

    /// Takes a finished load and starts its replay; returns the dump when one started.
    pub fn poll_loading(
        &mut self,
        model: &mut LiveModel,
        speed: Speed,
        settings: LiveSettings,
    ) -> Option<Arc<LoadedDump>> {
        if !self.load.as_ref().is_some_and(|l| l.thread.is_finished()) {
            return None;
        }
        let load = self.load.take()?;
        match load.thread.join() {
            Ok(Ok(dump)) => {
                let pings_per_minute =
                    dump.per_minute(crate::engine::Topic::CustomersLocations.name());
                let dump = Arc::new(dump);
                self.timeline = Some(Timeline {
                    dump: Arc::clone(&dump),
                    pings_per_minute,
                });
                self.checkpoints = None;
                self.error = None;
                self.start_replay(model, None, speed, settings);
                return Some(dump);
            }
            Ok(Err(e)) => self.error = Some(e.into()),
            Err(_) => self.error = Some(SourceError::LoadCrashed),
        }
        None
    }

    /// (Re)starts the replay from the beginning, fast-forwarded to `seek_ms` when given: the
    /// engine re-runs the records before it at full speed (from the best checkpoint), so
    /// scrubbing back is exact. A paused replay stays paused.
    pub fn start_replay(
        &mut self,
        model: &mut LiveModel,
        seek_ms: Option<i64>,
        speed: Speed,
        settings: LiveSettings,
    ) {
        let Some(timeline) = &self.timeline else {
            return;
        };
        let dump = Arc::clone(&timeline.dump);
        let paused = self
            .session
            .as_ref()
            .and_then(|s| s.feed())
            .is_some_and(|f| f.is_paused());
        let checkpoints = match self.checkpoints.take() {
            Some(c) if c.fit(&settings) => c,
            _ => Checkpoints::new(dump.records.len(), settings.clone()),
        };
        let resume = seek_ms
            .and_then(|t| checkpoints.best_for(&dump, t))
            .cloned();
        let start = ReplayStart {
            resume: resume.as_ref().map(|c| Arc::clone(&c.engine)),
            quiet_before_ms: seek_ms,
            checkpoint_every: checkpoints.every(),
            checkpoint_work: checkpoints.work(),
            have: checkpoints.had(seek_ms),
        };
        let shown = resume.map_or_else(LiveModel::default, |c| LiveModel::clone(&c.model));
        self.checkpoints = Some(checkpoints);
        self.switch(model, shown, |waker| {
            let session = Session::replay(dump, speed, settings, start, waker)
                .map_err(SourceError::Replay)?;
            if let Some(feed) = session.feed() {
                feed.set_paused(paused);
            }
            Ok(session)
        });
    }

    /// Moves engine events into the model until `budget` is spent, keeps the checkpoints met
    /// on the way, and returns the batches applied.
    pub fn drain(&mut self, model: &mut LiveModel, budget: std::time::Duration) -> usize {
        let Some(session) = self.session.as_mut() else {
            return 0;
        };
        let batches = session.drain(model, budget);
        if let Some(checkpoints) = self.checkpoints.as_mut() {
            for c in session.take_checkpoints() {
                checkpoints.add(c);
            }
        }
        batches
    }

    /// Whether what feeds the engine moves on its own in event time (a paced feed that is
    /// not paused): the map glides between records then.
    pub fn pace(&self) -> Option<Option<f64>> {
        self.session.as_ref().and_then(|s| s.feed()).map(|f| {
            if f.is_paused() {
                Some(0.0)
            } else {
                match f.speed() {
                    Speed::Max => None,
                    Speed::Times(n) => Some(n),
                }
            }
        })
    }
}
