//! The console: map in the middle, authoring and engine panels on the left, the notification
//! feed and chart on the right, the source line on top.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use egui::{RichText, Ui};

use super::bench::FrameBench;
use super::file_dialogs::{DialogFor, FileDialogs, Pick};
use super::map::tiles::TileChoice;
use super::map::{MapView, Selection};
use super::model::LiveModel;
use super::outbox::Outbox;
use super::panels::details::{details, DetailsAction};
use super::panels::engine::RateMeter;
use super::panels::feed::{FeedFilter, FeedHold};
use super::panels::promotions::{pick_product, PromotionForm};
use super::panels::{engine, feed, params, promotions, status};
use super::replay_checkpoints::Checkpoints;
use super::session::Session;
use super::settings::{ConsoleSettings, STORAGE_KEY};
use std::sync::Arc;

use crate::io::chain::Chain;
use crate::io::formats::ValuesOptions;
use crate::io::kafka::client::{check_cluster, ClusterCheck, StartAt};
use crate::io::kafka::config::KafkaConfig;
use crate::io::live::LiveSettings;
use crate::io::live::{RecordingLimits, ReplayStart};
use crate::io::replay::{load_dumps_with, LoadError, LoadProgress, LoadedDump};
use crate::io::sim_feed::Speed;
use crate::io::simulator::SimConfig;

/// How the console starts.
#[derive(Clone, Debug)]
pub struct ConsoleOptions {
    pub chain: Chain,
    pub sim: SimConfig,
    /// Start the simulator at once (tests may start without a source).
    pub start_simulator: bool,
    /// `--bench-ui`: measure frame CPU time for this long after this warm-up, then close.
    pub bench: Option<(Duration, Duration)>,
    /// Map zoom to start at instead of the store view.
    pub zoom: Option<f64>,
    /// Read a Kafka cluster instead of running the simulator.
    pub kafka: Option<(KafkaConfig, StartAt)>,
    /// Where the promotion outbox is kept (none: in memory only).
    pub outbox_path: Option<std::path::PathBuf>,
    /// Replay these dumps instead of running the simulator.
    pub dumps: Vec<std::path::PathBuf>,
    /// For dumps of plain JSON values: their topic and time field.
    pub values: ValuesOptions,
    /// `--tiles`: the tile source for this run (and the next, as it is saved with the
    /// settings), instead of the one saved.
    pub tiles: Option<TileChoice>,
}

impl ConsoleOptions {
    /// `chain` with the default simulator, nothing started, in-memory outbox.
    pub fn new(chain: Chain) -> Self {
        Self {
            chain,
            sim: SimConfig::default(),
            start_simulator: false,
            bench: None,
            zoom: None,
            kafka: None,
            outbox_path: None,
            dumps: Vec::new(),
            values: ValuesOptions::default(),
            tiles: None,
        }
    }
}

/// Shown when a second file dialog is asked for while one is open (until it is answered).
const DIALOG_BUSY: &str = "a file dialog is already open: answer it first";

/// Time the UI spends per frame moving engine events into the model; the rest waits.
const DRAIN_BUDGET: Duration = Duration::from_millis(4);
/// Matches stay in the model this long (event time) for lines and pulses.
const KEEP_MATCHES_MS: i64 = 10_000;

/// Event time on screen: runs with the wall clock at the source's speed between records, so
/// dots glide, and never runs ahead of the data by more than a second.
#[derive(Debug, Default)]
pub struct DisplayClock {
    anchor: Option<(Instant, i64)>,
}

impl DisplayClock {
    /// `speed` in event seconds per wall second (`None` = as fast as records come).
    pub fn now(
        &mut self,
        latest_ms: Option<i64>,
        speed: Option<f64>,
        wall: Instant,
    ) -> Option<i64> {
        let latest = latest_ms?;
        let Some(speed) = speed else {
            self.anchor = Some((wall, latest));
            return Some(latest);
        };
        let (at, base) = *self.anchor.get_or_insert((wall, latest));
        let predicted = base + ((wall - at).as_secs_f64() * speed * 1000.0) as i64;
        let now = if predicted > latest + 1_000 || predicted < latest - 5_000 {
            // Ahead of the data (source paused or slow) or far behind (speed raised): re-anchor.
            let t = predicted.clamp(latest - 5_000, latest + 1_000);
            self.anchor = Some((wall, t));
            t
        } else {
            predicted
        };
        Some(now)
    }
}

pub struct ConsoleApp {
    chain: Chain,
    sim: SimConfig,
    pub settings: ConsoleSettings,
    session: Option<Session>,
    session_error: Option<String>,
    pub model: LiveModel,
    pub map: MapView,
    clock: DisplayClock,
    /// Dots are drawn this far behind the newest event so they glide between pings.
    display_lag_ms: i64,
    pub outbox: Outbox,
    form: PromotionForm,
    feed_filter: FeedFilter,
    feed_hold: FeedHold,
    /// The file dialog that is open (on its own thread).
    dialogs: FileDialogs,
    rates: RateMeter,
    bench: Option<FrameBench>,
    /// A dump being loaded.
    load: Option<DumpLoad>,
    /// The dump on the timeline, and pings per minute for its histogram.
    replay: Option<(Arc<LoadedDump>, Vec<u32>)>,
    /// Where a seek on that timeline can resume from.
    pub checkpoints: Option<Checkpoints>,
    values: ValuesOptions,
    /// The timeline's jump-to text.
    jump_to: String,
    /// A looped range of event time.
    replay_loop: Option<(i64, i64)>,
    /// A "test connection" in progress, and the last result.
    kafka_check: Option<std::thread::JoinHandle<Result<ClusterCheck, String>>>,
    kafka_check_result: Option<Result<ClusterCheck, String>>,
    /// Where a Kafka source starts reading.
    kafka_from: String,
}

/// `HH:MM[:SS]` on the dump's first day, or a full RFC 3339 time.
fn parse_jump(text: &str, first_ms: i64) -> Option<i64> {
    let t = text.trim();
    if let Ok(ms) = crate::io::rfc3339::parse_rfc3339_ms(t) {
        return Some(ms);
    }
    let mut parts = t.split(':').map(|p| p.parse::<i64>().ok());
    let (h, m) = (parts.next()??, parts.next()??);
    let s = parts.next().flatten().unwrap_or(0);
    if !(0..24).contains(&h) || !(0..60).contains(&m) || !(0..60).contains(&s) {
        return None;
    }
    let day = first_ms - first_ms.rem_euclid(86_400_000);
    Some(day + ((h * 60 + m) * 60 + s) * 1_000)
}

/// A dump loading on its own thread.
struct DumpLoad {
    progress: Arc<LoadProgress>,
    thread: std::thread::JoinHandle<Result<LoadedDump, LoadError>>,
    started: Instant,
}

impl ConsoleApp {
    pub fn new(options: ConsoleOptions, storage: Option<&dyn eframe::Storage>) -> Self {
        // The benchmark runs on defaults, whatever the operator's last session left.
        let storage = if options.bench.is_some() {
            None
        } else {
            storage
        };
        let mut settings: ConsoleSettings = storage
            .and_then(|s| eframe::get_value(s, STORAGE_KEY))
            .unwrap_or_default();
        if let Some(tiles) = &options.tiles {
            settings.tiles = tiles.clone();
        }
        if !settings
            .store_id
            .as_ref()
            .is_some_and(|id| options.chain.stores.iter().any(|s| &s.id == id))
        {
            settings.store_id = options.chain.stores.first().map(|s| s.id.clone());
        }
        let home = settings
            .store_id
            .as_ref()
            .and_then(|id| options.chain.stores.iter().find(|s| &s.id == id))
            .or(options.chain.stores.first())
            .map(|s| s.center())
            .unwrap_or_default();
        let mut app = Self {
            display_lag_ms: options.sim.ping_interval_ms,
            chain: options.chain,
            sim: options.sim,
            settings,
            session: None,
            session_error: None,
            model: LiveModel::default(),
            map: MapView::new(home),
            clock: DisplayClock::default(),
            outbox: options
                .outbox_path
                .clone()
                .map(Outbox::open)
                .unwrap_or_default(),
            form: PromotionForm::default(),
            feed_filter: FeedFilter::default(),
            feed_hold: FeedHold::default(),
            dialogs: FileDialogs::default(),
            rates: RateMeter::default(),
            bench: options
                .bench
                .map(|(warmup, duration)| FrameBench::new(warmup, duration)),
            load: None,
            replay: None,
            checkpoints: None,
            values: options.values.clone(),
            jump_to: String::new(),
            replay_loop: None,
            kafka_check: None,
            kafka_check_result: None,
            kafka_from: "latest".into(),
        };
        // Bench-only knob to find what a frame spends its time on, e.g.
        // INSTORE_BENCH_OFF=rings,trails instore --bench-ui.
        let bench_off = std::env::var("INSTORE_BENCH_OFF")
            .ok()
            .filter(|_| app.bench.is_some());
        if let Some(off) = bench_off {
            let l = &mut app.settings.layers;
            for layer in off.split(',') {
                match layer {
                    "trails" => l.trails = false,
                    "customers" => l.customers = false,
                    "rings" => l.rings = false,
                    "products" => l.products = false,
                    "footprints" => l.footprints = false,
                    "matches" => l.matches = false,
                    "panels" => {
                        app.settings.show_left_panel = false;
                        app.settings.show_right_panel = false;
                    }
                    _ => {}
                }
            }
        }
        if let Some(zoom) = options.zoom {
            let _ = app.map.memory.set_zoom(zoom);
        }
        if !options.dumps.is_empty() {
            app.open_dumps(options.dumps);
        } else if let Some((config, from)) = options.kafka {
            match Session::kafka(config, from, app.live_settings()) {
                Ok(session) => app.session = Some(session),
                Err(e) => app.session_error = Some(e),
            }
        } else if options.start_simulator {
            app.start_simulator();
        }
        app
    }

    fn live_settings(&self) -> LiveSettings {
        LiveSettings {
            params: self.settings.params.clone(),
            cooldown_ms: self.settings.cooldown_ms,
        }
    }

    /// Stops the current source and forgets what it showed, before another one starts.
    fn clear_source(&mut self) {
        self.session = None;
        self.model = LiveModel::default();
        self.clock = DisplayClock::default();
    }

    /// The speed for the simulator and replays (infinite or nonsense = as fast as possible).
    fn speed(&self) -> Speed {
        if self.settings.sim_speed.is_finite() && self.settings.sim_speed > 0.0 {
            Speed::Times(self.settings.sim_speed)
        } else {
            Speed::Max
        }
    }

    pub fn start_simulator(&mut self) {
        self.clear_source();
        match Session::simulator(
            &self.chain,
            self.sim.clone(),
            self.speed(),
            self.live_settings(),
        ) {
            Ok(session) => {
                self.session = Some(session);
                self.session_error = None;
            }
            Err(e) => self.session_error = Some(format!("cannot start the simulator: {e}")),
        }
    }

    /// Starts loading dumps (merged by timestamp); the replay starts when they are in.
    pub fn open_dumps(&mut self, paths: Vec<std::path::PathBuf>) {
        if let Some(load) = self.load.take() {
            load.progress
                .cancel
                .store(true, std::sync::atomic::Ordering::Relaxed);
        }
        let progress = Arc::new(LoadProgress::default());
        let thread_progress = Arc::clone(&progress);
        let values = self.values.clone();
        match std::thread::Builder::new()
            .name("instore-load".into())
            .spawn(move || load_dumps_with(&paths, &values, &thread_progress))
        {
            Ok(thread) => {
                self.load = Some(DumpLoad {
                    progress,
                    thread,
                    started: Instant::now(),
                })
            }
            Err(e) => self.session_error = Some(format!("cannot start loading: {e}")),
        }
    }

    /// Takes a finished load and starts its replay.
    fn poll_loading(&mut self) {
        if !self.load.as_ref().is_some_and(|l| l.thread.is_finished()) {
            return;
        }
        let Some(load) = self.load.take() else { return };
        match load.thread.join() {
            Ok(Ok(dump)) => {
                let histogram = dump.per_minute(crate::engine::Topic::CustomersLocations.name());
                self.replay = Some((Arc::new(dump), histogram));
                self.checkpoints = None;
                self.session_error = None;
                self.start_replay(None);
            }
            Ok(Err(e)) => self.session_error = Some(e.to_string()),
            Err(_) => self.session_error = Some("loading crashed".into()),
        }
    }

    /// (Re)starts the replay from the beginning, fast-forwarded to `seek_ms` when given: the
    /// engine re-runs the records before it at full speed, so scrubbing back is exact.
    pub fn start_replay(&mut self, seek_ms: Option<i64>) {
        let Some((dump, _)) = &self.replay else {
            return;
        };
        let dump = Arc::clone(dump);
        let paused = self
            .session
            .as_ref()
            .and_then(|s| s.feed())
            .is_some_and(|f| f.is_paused());
        self.clear_source();
        let settings = self.live_settings();
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
        if let Some(c) = resume {
            self.model = LiveModel::clone(&c.model);
        }
        self.checkpoints = Some(checkpoints);
        match Session::replay(dump, self.speed(), settings, start) {
            Ok(session) => {
                if let Some(feed) = session.feed() {
                    feed.set_paused(paused);
                }
                self.session = Some(session);
            }
            Err(e) => self.session_error = Some(format!("cannot start the replay: {e}")),
        }
    }

    /// Records of the dump on the timeline before `t_ms` (a seek there feeds them at once),
    /// and the timestamp of the last of them.
    pub fn replay_records_before(&self, t_ms: i64) -> (usize, Option<i64>) {
        let Some((dump, _)) = &self.replay else {
            return (0, None);
        };
        let n = dump
            .records
            .partition_point(|r| r.timestamp_ms.unwrap_or(i64::MIN) < t_ms);
        (
            n,
            n.checked_sub(1).and_then(|i| dump.records[i].timestamp_ms),
        )
    }

    /// The position a seek to `t_ms` would resume from (`None`: from the start).
    pub fn checkpoint_for(&self, t_ms: i64) -> Option<u64> {
        let (Some((dump, _)), Some(checkpoints)) = (&self.replay, &self.checkpoints) else {
            return None;
        };
        checkpoints
            .fit(&self.live_settings())
            .then(|| checkpoints.best_for(dump, t_ms))
            .flatten()
            .map(|c| c.position())
    }

    /// The first timestamp of the dump on the timeline.
    pub fn replay_first_ms(&self) -> Option<i64> {
        self.replay.as_ref().and_then(|(d, _)| d.first_ms())
    }

    /// Whether a replay has been fed completely and the engine has taken every record.
    pub fn replay_done(&self) -> bool {
        let (Some((dump, _)), Some(session)) = (&self.replay, &self.session) else {
            return false;
        };
        session.feed_finished() && self.model.stats.records_pushed == dump.records.len() as u64
    }

    /// Runs on an engine with an empty bus (tests; later dumps and Kafka publish on it).
    pub fn start_bus_only(&mut self) {
        self.clear_source();
        match Session::bus_only(self.live_settings()) {
            Ok(session) => self.session = Some(session),
            Err(e) => self.session_error = Some(format!("cannot start the engine: {e}")),
        }
    }

    pub fn session(&self) -> Option<&Session> {
        self.session.as_ref()
    }

    /// Event time for records the operator publishes: the source's time (simulated for the
    /// simulator), so promotions join with what is on the map.
    pub fn now_event_ms(&self) -> i64 {
        self.model.latest_event_ms.unwrap_or(self.sim.start_ms)
    }

    /// Moves engine events into the model (bounded by `budget`) and sends pending promotions.
    pub fn pump(&mut self, budget: Duration) {
        self.poll_loading();
        if self.kafka_check.as_ref().is_some_and(|t| t.is_finished()) {
            if let Some(t) = self.kafka_check.take() {
                self.kafka_check_result =
                    Some(t.join().unwrap_or_else(|_| Err("the check crashed".into())));
            }
        }
        if let Some(session) = self.session.as_mut() {
            session.drain(&mut self.model, budget);
            if let Some(checkpoints) = self.checkpoints.as_mut() {
                for c in session.take_checkpoints() {
                    checkpoints.add(c);
                }
            }
            self.outbox.pump(session.sink());
        }
        self.rates.update(&self.model.stats, Instant::now());
    }

    fn display_ms(&mut self) -> i64 {
        let speed = self.session.as_ref().and_then(|s| s.feed()).map(|f| {
            if f.is_paused() {
                Some(0.0)
            } else {
                match f.speed() {
                    Speed::Max => None,
                    Speed::Times(n) => Some(n),
                }
            }
        });
        let speed = speed.unwrap_or(None);
        let now = self
            .clock
            .now(self.model.latest_event_ms, speed, Instant::now())
            .unwrap_or(self.sim.start_ms);
        let lag = if speed.is_none() {
            0
        } else {
            self.display_lag_ms
        };
        now - lag
    }

    /// The whole UI for one frame (eframe calls it through [`eframe::App::ui`]; UI tests call it
    /// directly).
    pub fn show(&mut self, ui: &mut Ui) {
        let dropped: Vec<std::path::PathBuf> = ui.ctx().input(|i| {
            i.raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .filter(|p| !p.as_os_str().is_empty())
                .collect()
        });
        if !dropped.is_empty() {
            self.open_dumps(dropped);
        }
        if let Some((purpose, paths)) = self.dialogs.poll() {
            if self.session_error.as_deref() == Some(DIALOG_BUSY) {
                self.session_error = None;
            }
            self.on_dialog_answer(purpose, paths);
        }
        self.pump(DRAIN_BUDGET);
        let display_ms = self.display_ms();
        self.model.expire(display_ms, KEEP_MATCHES_MS);

        egui::Panel::top("top").show(ui, |ui| {
            ui.horizontal_wrapped(|ui| self.top_bar(ui, display_ms));
        });
        if self.settings.show_left_panel {
            egui::Panel::left("left")
                .default_size(360.0)
                .show(ui, |ui| {
                    egui::ScrollArea::vertical()
                        .id_salt("left-scroll")
                        .show(ui, |ui| self.left_panel(ui));
                });
        }
        if self.replay.is_some() {
            egui::Panel::bottom("timeline").show(ui, |ui| self.timeline(ui, display_ms));
        }
        if self.settings.show_right_panel {
            egui::Panel::right("right")
                .default_size(380.0)
                .show(ui, |ui| self.right_panel(ui, display_ms));
        }
        egui::CentralPanel::no_frame().show(ui, |ui| {
            self.map.show(
                ui,
                &self.model,
                &self.chain,
                self.settings.layers,
                display_ms,
                &self.settings.tiles,
            );
        });
        if let Some(id) = self.map.jumped_to.take() {
            self.settings.store_id = Some(id);
        }
        if self
            .session
            .as_ref()
            .is_some_and(|s| s.feed().is_some_and(|f| !f.is_paused()))
        {
            ui.ctx().request_repaint_after(Duration::from_millis(33));
        }
    }

    fn top_bar(&mut self, ui: &mut Ui, display_ms: i64) {
        ui.label(RichText::new("instore").strong());
        ui.separator();
        if let Some(s) = status::source_line(ui, self.session.as_ref(), &self.model, display_ms) {
            self.settings.sim_speed = s;
        }
        if self.session.is_none() && self.load.is_none() && ui.button("Start simulator").clicked() {
            self.start_simulator();
        }
        if let Some(load) = &self.load {
            let n = load
                .progress
                .records
                .load(std::sync::atomic::Ordering::Relaxed);
            let secs = load.started.elapsed().as_secs_f64().max(1e-3);
            ui.add(egui::Spinner::new());
            ui.label(format!(
                "loading dump: {n} records ({:.0}/s)",
                n as f64 / secs
            ));
            if ui.button("Cancel").clicked() {
                load.progress
                    .cancel
                    .store(true, std::sync::atomic::Ordering::Relaxed);
            }
        }
        self.recording_controls(ui);
        if ui.button("Open dump…").clicked() {
            let dialog = rfd::AsyncFileDialog::new()
                .add_filter("kcat -J dumps", &["jsonl", "json", "gz", "txt"]);
            self.open_dialog(DialogFor::OpenDumps, dialog, Pick::Files, ui.ctx());
        }
        if let Some(e) = &self.session_error {
            ui.colored_label(egui::Color32::from_rgb(200, 40, 40), e);
        }
        ui.separator();
        let current = self
            .settings
            .store_id
            .as_ref()
            .and_then(|id| self.chain.stores.iter().find(|s| &s.id == id))
            .map_or("Store…".to_owned(), |s| s.name.clone());
        let mut jump = None;
        egui::ComboBox::new("store-picker", "store")
            .selected_text(current)
            .show_ui(ui, |ui| {
                for (i, s) in self.chain.stores.iter().enumerate() {
                    if ui
                        .selectable_label(false, format!("{} — {}, {}", s.name, s.address, s.city))
                        .clicked()
                    {
                        jump = Some(i);
                    }
                }
            });
        if let Some(i) = jump {
            let store = &self.chain.stores[i];
            self.settings.store_id = Some(store.id.clone());
            self.map.focus_store(store);
        }
        if ui.button("Whole chain").clicked() {
            self.map.show_chain(&self.chain);
        }
        ui.menu_button("Layers", |ui| {
            let l = &mut self.settings.layers;
            ui.checkbox(&mut l.footprints, "Store footprints");
            ui.checkbox(&mut l.products, "Products");
            ui.checkbox(&mut l.rings, "Geofence rings");
            ui.checkbox(&mut l.customers, "Customers");
            ui.checkbox(&mut l.trails, "Trails");
            ui.checkbox(&mut l.matches, "Matches");
        });
        // Stays open while the operator types and tests the connection.
        egui::containers::menu::MenuButton::new("Source")
            .config(
                egui::containers::menu::MenuConfig::new()
                    .close_behavior(egui::PopupCloseBehavior::CloseOnClickOutside),
            )
            .ui(ui, |ui| self.source_menu(ui));
        ui.menu_button("Tiles", |ui| self.tiles_menu(ui));
        ui.toggle_value(&mut self.settings.show_left_panel, "Panels");
        ui.toggle_value(&mut self.settings.show_right_panel, "Feed");
    }

    /// The Kafka settings the source menu edits (the password comes from the profile file or
    /// the environment, never from here).
    fn kafka_config(&self) -> Result<KafkaConfig, String> {
        let profile = Some(self.settings.kafka_profile.trim()).filter(|p| !p.is_empty());
        let bootstrap = Some(self.settings.kafka_bootstrap.trim()).filter(|b| !b.is_empty());
        KafkaConfig::resolve(profile, bootstrap, &[]).map_err(|e| e.to_string())
    }

    fn source_menu(&mut self, ui: &mut Ui) {
        if ui.button("Simulator").clicked() {
            self.replay = None;
            self.checkpoints = None;
            self.start_simulator();
            ui.close();
        }
        ui.separator();
        ui.label(RichText::new("Kafka").strong());
        egui::Grid::new("kafka-source")
            .num_columns(2)
            .show(ui, |ui| {
                let l = ui.label("bootstrap");
                ui.add(
                    egui::TextEdit::singleline(&mut self.settings.kafka_bootstrap)
                        .desired_width(220.0),
                )
                .labelled_by(l.id);
                ui.end_row();
                let l = ui.label("profile");
                ui.add(
                    egui::TextEdit::singleline(&mut self.settings.kafka_profile)
                        .hint_text("optional: a saved profile name")
                        .desired_width(220.0),
                )
                .labelled_by(l.id);
                ui.end_row();
                let l = ui.label("from");
                ui.add(
                    egui::TextEdit::singleline(&mut self.kafka_from)
                        .hint_text("earliest, latest or RFC 3339")
                        .desired_width(220.0),
                )
                .labelled_by(l.id);
                ui.end_row();
            });
        ui.horizontal(|ui| {
            let checking = self.kafka_check.is_some();
            if ui
                .add_enabled(!checking, egui::Button::new("Test connection"))
                .clicked()
            {
                match self.kafka_config() {
                    Ok(config) => {
                        self.kafka_check = std::thread::Builder::new()
                            .name("instore-kafka-check".into())
                            .spawn(move || {
                                let names =
                                    crate::engine::Topic::ALL.map(crate::engine::Topic::name);
                                check_cluster(&config, &names, Duration::from_secs(10))
                                    .map_err(|e| e.to_string())
                            })
                            .ok();
                    }
                    Err(e) => self.kafka_check_result = Some(Err(e)),
                }
            }
            if checking {
                ui.add(egui::Spinner::new());
            }
            if ui.button("Connect").clicked() {
                let from = self.kafka_from.parse::<StartAt>();
                match (self.kafka_config(), from) {
                    (Ok(config), Ok(from)) => {
                        self.replay = None;
                        self.checkpoints = None;
                        self.clear_source();
                        match Session::kafka(config, from, self.live_settings()) {
                            Ok(session) => {
                                self.session = Some(session);
                                self.session_error = None;
                            }
                            Err(e) => self.session_error = Some(e),
                        }
                        ui.close();
                    }
                    (Err(e), _) | (_, Err(e)) => self.kafka_check_result = Some(Err(e)),
                }
            }
        });
        match &self.kafka_check_result {
            Some(Ok(check)) => {
                ui.label(format!("reachable: {}", check.brokers.join(", ")));
                for (topic, partitions) in &check.topics {
                    match partitions {
                        Some(n) => ui.label(format!("{topic}: {n} partition(s)")),
                        None => ui.colored_label(
                            egui::Color32::from_rgb(200, 140, 0),
                            format!("{topic}: missing"),
                        ),
                    };
                }
            }
            Some(Err(e)) => {
                ui.colored_label(egui::Color32::from_rgb(200, 40, 40), e);
            }
            None => {}
        }
    }

    fn tiles_menu(&mut self, ui: &mut Ui) {
        let tiles = &mut self.settings.tiles;
        if ui
            .radio(
                matches!(tiles, TileChoice::None),
                "None (store vectors only)",
            )
            .clicked()
        {
            *tiles = TileChoice::None;
        }
        if ui
            .radio(matches!(tiles, TileChoice::Http { .. }), "HTTP tile server")
            .clicked()
            && !matches!(tiles, TileChoice::Http { .. })
        {
            *tiles = TileChoice::Http {
                url_template: TileChoice::OSM_TEMPLATE.into(),
                attribution: "© OpenStreetMap contributors".into(),
            };
        }
        if let TileChoice::Http {
            url_template,
            attribution,
        } = tiles
        {
            ui.add(egui::TextEdit::singleline(url_template).hint_text("https://…/{z}/{x}/{y}.png"));
            ui.add(egui::TextEdit::singleline(attribution).hint_text("attribution"));
        }
        if let TileChoice::Folder { path, attribution }
        | TileChoice::PmTiles { path, attribution } = tiles
        {
            ui.weak(path.display().to_string());
            ui.add(egui::TextEdit::singleline(attribution).hint_text("attribution"));
        }
        if ui.button("Tile folder…").clicked() {
            let dialog = rfd::AsyncFileDialog::new();
            self.open_dialog(DialogFor::TileFolder, dialog, Pick::Folder, ui.ctx());
        }
        if ui.button("PMTiles file…").clicked() {
            let dialog = rfd::AsyncFileDialog::new().add_filter("PMTiles", &["pmtiles"]);
            self.open_dialog(DialogFor::PmTilesFile, dialog, Pick::File, ui.ctx());
        }
    }

    fn left_panel(&mut self, ui: &mut Ui) {
        let now_ms = self.now_event_ms();
        egui::CollapsingHeader::new(RichText::new("New promotion").strong())
            .default_open(true)
            .show(ui, |ui| {
                promotions::form(
                    ui,
                    &mut self.settings.draft,
                    &mut self.form,
                    &self.model,
                    &self.chain.segments,
                    &mut self.outbox,
                    now_ms,
                );
            });
        let pending = self.outbox.pending();
        let title = if pending > 0 {
            format!("Published ({pending} pending)")
        } else {
            "Published".to_owned()
        };
        egui::CollapsingHeader::new(RichText::new(title).strong())
            .id_salt("published")
            .default_open(true)
            .show(ui, |ui| promotions::published(ui, &mut self.outbox, now_ms));
        egui::CollapsingHeader::new(RichText::new("Pipeline parameters").strong())
            .default_open(true)
            .show(ui, |ui| {
                if params::editor(
                    ui,
                    &mut self.settings.params,
                    &mut self.settings.cooldown_ms,
                ) {
                    if self.replay.is_some() {
                        // "What if the radius were 50 ft?": the timeline re-computes from the
                        // start with the new parameters, back to where it was.
                        let at = self.model.latest_event_ms;
                        self.start_replay(at);
                    } else if let Some(s) = &self.session {
                        s.apply(self.live_settings());
                    }
                }
                if self
                    .model
                    .settings
                    .as_ref()
                    .is_some_and(|s| s.params != self.settings.params)
                {
                    ui.weak("applying…");
                }
            });
        egui::CollapsingHeader::new(RichText::new("Engine").strong())
            .default_open(true)
            .show(ui, |ui| {
                engine::counters(
                    ui,
                    &self.model.stats,
                    &self.rates,
                    &self
                        .session
                        .as_ref()
                        .map(Session::kafka_lag)
                        .unwrap_or_default(),
                )
            });
        let rejected = self.model.stats.pipeline.rejects.total();
        egui::CollapsingHeader::new(
            RichText::new(format!("Rejected records ({rejected})")).strong(),
        )
        // A separate header state once there is something to see, so it opens by itself.
        .id_salt(("rejected", rejected > 0))
        .default_open(rejected > 0)
        .show(ui, |ui| engine::rejected(ui, &self.model.stats));
    }

    fn right_panel(&mut self, ui: &mut Ui, display_ms: i64) {
        if let Some(selection) = self.map.selection.clone() {
            egui::Frame::group(ui.style()).show(ui, |ui| {
                match details(ui, &selection, &self.model, display_ms) {
                    DetailsAction::None => {}
                    DetailsAction::Close => self.map.selection = None,
                    DetailsAction::PromoteProduct(sku) => {
                        pick_product(&mut self.settings.draft, &self.model, sku);
                        self.settings.show_left_panel = true;
                    }
                }
            });
            ui.add_space(6.0);
        }
        ui.heading("Notifications");
        feed::feed(
            ui,
            &self.model,
            &self.chain,
            &mut self.feed_filter,
            &mut self.feed_hold,
        );
        ui.separator();
        feed::chart(ui, &self.model, &self.chain);
    }

    /// Whether a file dialog is open (on its own thread; the console goes on meanwhile).
    pub fn file_dialog_open(&self) -> bool {
        self.dialogs.is_open()
    }

    fn open_dialog(
        &mut self,
        purpose: DialogFor,
        dialog: rfd::AsyncFileDialog,
        pick: Pick,
        ctx: &egui::Context,
    ) {
        match self.dialogs.open(purpose, dialog, pick, ctx) {
            Ok(true) => {}
            Ok(false) => self.session_error = Some(DIALOG_BUSY.into()),
            Err(e) => self.session_error = Some(format!("cannot open a file dialog: {e}")),
        }
    }

    /// Acts on a file dialog's answer (no paths: the operator cancelled).
    fn on_dialog_answer(&mut self, purpose: DialogFor, mut paths: Vec<PathBuf>) {
        if paths.is_empty() {
            return;
        }
        let write = |path: &PathBuf, text: String| {
            std::fs::write(path, text)
                .err()
                .map(|e| format!("cannot write {}: {e}", path.display()))
        };
        match purpose {
            DialogFor::OpenDumps => self.open_dumps(paths),
            DialogFor::TileFolder | DialogFor::PmTilesFile => {
                let path = paths.swap_remove(0);
                self.settings.tiles = if purpose == DialogFor::TileFolder {
                    TileChoice::Folder {
                        path,
                        attribution: String::new(),
                    }
                } else {
                    TileChoice::PmTiles {
                        path,
                        attribution: String::new(),
                    }
                };
            }
            DialogFor::RecordTo => {
                if let Some(session) = &self.session {
                    session.start_recording(RecordingLimits {
                        path: paths.swap_remove(0),
                        max_bytes: Some(self.settings.record_max_mb * 1_000_000),
                        max_duration: Some(Duration::from_secs(
                            self.settings.record_max_minutes * 60,
                        )),
                    });
                }
            }
            DialogFor::FeedCsv => {
                self.session_error = write(&paths[0], super::export::feed_csv(&self.model));
            }
            DialogFor::ViewGeoJson => {
                let now = self.model.latest_event_ms.unwrap_or(0);
                let text = super::export::view_geojson(&self.chain, &self.model, now);
                self.session_error = write(&paths[0], text);
            }
        }
    }

    /// Record the live session to a dump (with size and time limits), and the exports.
    fn recording_controls(&mut self, ui: &mut Ui) {
        let Some(session) = &self.session else { return };
        let mut record_to = false;
        match &self.model.stats.recording {
            Some(r) if r.active => {
                ui.label(
                    RichText::new(format!(
                        "REC {} records · {:.1} MB",
                        r.records,
                        r.bytes as f64 / 1e6
                    ))
                    .color(egui::Color32::from_rgb(220, 50, 47)),
                )
                .on_hover_text(&r.path);
                if ui.button("Stop recording").clicked() {
                    session.stop_recording();
                }
            }
            other => {
                if let Some(ended) = other
                    .as_ref()
                    .and_then(|r| r.ended.as_ref().map(|e| (r, e)))
                {
                    ui.weak(format!(
                        "recorded {} records ({})",
                        ended.0.records, ended.1
                    ))
                    .on_hover_text(&ended.0.path);
                }
                ui.menu_button("Record…", |ui| {
                    ui.label("Write every record the engine takes to a kcat -J dump.");
                    ui.horizontal(|ui| {
                        ui.label("stop at");
                        ui.add(
                            egui::DragValue::new(&mut self.settings.record_max_mb)
                                .range(1..=100_000)
                                .suffix(" MB"),
                        );
                        ui.label("or after");
                        ui.add(
                            egui::DragValue::new(&mut self.settings.record_max_minutes)
                                .range(1..=24 * 60)
                                .suffix(" min"),
                        );
                    });
                    if ui.button("Choose file and start").clicked() {
                        record_to = true;
                        ui.close();
                    }
                });
            }
        }
        if record_to {
            let dialog = rfd::AsyncFileDialog::new().set_file_name("session.jsonl.gz");
            self.open_dialog(DialogFor::RecordTo, dialog, Pick::SaveFile, ui.ctx());
        }
        ui.menu_button("Export…", |ui| {
            if ui.button("Notification feed as CSV…").clicked() {
                let dialog = rfd::AsyncFileDialog::new().set_file_name("notifications.csv");
                self.open_dialog(DialogFor::FeedCsv, dialog, Pick::SaveFile, ui.ctx());
                ui.close();
            }
            if ui
                .button("Stores, products and rings as GeoJSON…")
                .clicked()
            {
                let dialog = rfd::AsyncFileDialog::new().set_file_name("view.geojson");
                self.open_dialog(DialogFor::ViewGeoJson, dialog, Pick::SaveFile, ui.ctx());
                ui.close();
            }
        });
    }

    /// The replay timeline: position, restart, and a histogram of pings (grey) and
    /// NEARBY_CUSTOMERS (red) per minute, so busy moments are visible.
    fn timeline(&mut self, ui: &mut Ui, display_ms: i64) {
        let Some((dump, pings)) = &self.replay else {
            return;
        };
        let (Some(first), Some(last)) = (dump.first_ms(), dump.last_ms()) else {
            ui.label("The dump has no timestamps.");
            return;
        };
        let start_minute = first - first.rem_euclid(60_000);
        let pings = pings.clone();
        let mut seek = None;
        let now = self.model.latest_event_ms.unwrap_or(first);
        // Looping: back to the start of the range once the end is passed.
        if let Some((from, to)) = self.replay_loop {
            if now >= to {
                seek = Some(Some(from));
            }
        }
        ui.horizontal(|ui| {
            if ui.button("Restart").clicked() {
                seek = Some(None);
            }
            if ui
                .button("Step +10 s")
                .on_hover_text("Advance 10 s of event time (stays paused)")
                .clicked()
            {
                seek = Some(Some((now + 10_000).min(last)));
            }
            let jump = ui.add(
                egui::TextEdit::singleline(&mut self.jump_to)
                    .hint_text("jump to HH:MM:SS or RFC 3339")
                    .desired_width(150.0),
            );
            if jump.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)) {
                match parse_jump(&self.jump_to, first) {
                    Some(t) => seek = Some(Some(t.clamp(first, last))),
                    None => self.session_error = Some(format!("not a time: {:?}", self.jump_to)),
                }
            }
            let mut looping = self.replay_loop.is_some();
            if ui
                .checkbox(&mut looping, "loop")
                .on_hover_text("Loop from here for the next 5 minutes of event time")
                .changed()
            {
                self.replay_loop = looping.then_some((now, (now + 5 * 60_000).min(last)));
            }
            let mut at = display_ms.clamp(first, last);
            let label = crate::io::rfc3339::format_rfc3339_ms(at).replace('T', " ");
            let width = (ui.available_width() - 160.0).max(100.0);
            ui.spacing_mut().slider_width = width;
            let slider = egui::Slider::new(&mut at, first..=last)
                .show_value(false)
                .text(label);
            let response = ui.add(slider);
            if response.drag_stopped() || (response.changed() && !response.dragged()) {
                seek = Some(Some(at));
            }
        });
        // The histogram under the slider.
        let (rect, _) =
            ui.allocate_exact_size(egui::vec2(ui.available_width(), 36.0), egui::Sense::hover());
        let painter = ui.painter_at(rect);
        let minutes = pings.len().max(1);
        let max = pings.iter().copied().max().unwrap_or(1).max(1) as f32;
        let bar_w = rect.width() / minutes as f32;
        let mut matches = vec![0u64; minutes];
        for ((minute, _), n) in &self.model.per_minute {
            let i = ((minute - start_minute) / 60_000).max(0) as usize;
            if let Some(m) = matches.get_mut(i) {
                *m += n;
            }
        }
        let max_matches = matches.iter().copied().max().unwrap_or(1).max(1) as f32;
        for (i, n) in pings.iter().enumerate() {
            let x = rect.left() + i as f32 * bar_w;
            let h = rect.height() * *n as f32 / max;
            painter.rect_filled(
                egui::Rect::from_min_max(
                    egui::pos2(x, rect.bottom() - h),
                    egui::pos2(x + bar_w * 0.9, rect.bottom()),
                ),
                0.0,
                egui::Color32::from_gray(120),
            );
            let m = matches[i] as f32 / max_matches * rect.height() * 0.9;
            if m > 0.0 {
                painter.rect_filled(
                    egui::Rect::from_min_max(
                        egui::pos2(x + bar_w * 0.3, rect.bottom() - m),
                        egui::pos2(x + bar_w * 0.6, rect.bottom()),
                    ),
                    0.0,
                    egui::Color32::from_rgb(220, 50, 47),
                );
            }
        }
        let span = (last - first).max(1) as f32;
        let x = rect.left() + rect.width() * (display_ms.clamp(first, last) - first) as f32 / span;
        painter.line_segment(
            [egui::pos2(x, rect.top()), egui::pos2(x, rect.bottom())],
            egui::Stroke::new(1.5, egui::Color32::WHITE),
        );
        if let Some(target) = seek {
            self.start_replay(target);
        }
    }

    /// Selects what the map would select on a click (tests and the details panel).
    pub fn select(&mut self, selection: Option<Selection>) {
        self.map.selection = selection;
    }
}

impl eframe::App for ConsoleApp {
    fn ui(&mut self, ui: &mut Ui, frame: &mut eframe::Frame) {
        let started = Instant::now();
        self.show(ui);
        let update_s = started.elapsed().as_secs_f32();
        let drawn = self.map.drawn;
        if let Some(bench) = self.bench.as_mut() {
            if bench.record(
                frame.info().cpu_usage,
                update_s,
                drawn.customers,
                drawn.rings,
            ) {
                println!("{}", bench.report());
                ui.ctx().send_viewport_cmd(egui::ViewportCommand::Close);
            }
            ui.ctx().request_repaint();
        }
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        if self.bench.is_some() {
            return;
        }
        eframe::set_value(storage, STORAGE_KEY, &self.settings);
    }
}

#[cfg(test)]
mod tests {
    use super::parse_jump;

    #[test]
    fn jump_times() {
        let first = 1_764_144_284_481; // 2025-11-26T08:04:44.481Z
        assert_eq!(parse_jump("09:00", first), Some(1_764_147_600_000));
        assert_eq!(parse_jump("09:00:30", first), Some(1_764_147_630_000));
        assert_eq!(
            parse_jump("2025-11-26T09:00:00Z", first),
            Some(1_764_147_600_000)
        );
        assert_eq!(parse_jump("25:00", first), None);
        assert_eq!(parse_jump("soon", first), None);
    }
}
