//! The console: map in the middle, authoring and engine panels on the left, the notification
//! feed and chart on the right, the source line on top, the timeline under a replay.
//!
//! `App::logic` takes what the workers sent (engine events, loaded dumps, dialog answers,
//! delivery reports) and carries out the commands the panels returned; `App::ui` only draws.
//! Every worker wakes the console when it sends, so a live stream keeps moving on screen
//! with no input.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use egui::Ui;

use super::bench::FrameBench;
use super::campaign_book::{CampaignBook, CampaignCommand, ForecastContext};
use super::command::{Command, Commands};
use super::file_dialogs::{DialogFor, FileDialogs, FileError};
use super::map::tiles::TileChoice;
use super::map::{MapView, Selection};
use super::model::LiveModel;
use super::options::ConsoleOptions;
use super::outbox::{Announcement, Outbox};
use super::panels::campaigns::{campaigns_window, CampaignsView};
use super::panels::engine::RateMeter;
use super::panels::feed::{FeedFilter, FeedHold};
use super::panels::promotions::{pick_product, PromotionForm};
use super::panels::retention::{retention_ui, RetentionPrompt};
use super::panels::sides::{left_panel_ui, right_panel_ui, LeftPanel, RightPanel};
use super::panels::source_menu::SourceMenu;
use super::panels::timeline::{timeline_ui, TimelineState};
use super::panels::top_bar::{top_bar_ui, TopBar};
use super::places::Places;
use super::replay_checkpoints::Checkpoints;
use super::session::{Session, SourceKind};
use super::settings::{ConsoleSettings, STORAGE_KEY};
use super::source::Source;

use crate::engine::geo::LatLonDeg;
use crate::engine::pseudonym::Pseudonyms;
use crate::engine::sql::{export_sql, SqlConnector, SqlDialect, SqlExport, TopicNames};
use crate::io::chain::Chain;
use crate::io::formats::ValuesOptions;
use crate::io::live::{LiveCommand, LiveSettings, RecordingLimits};
use crate::io::pseudonym_key::installation_pseudonyms;
use crate::io::sim_feed::Speed;
use crate::io::simulator::SimConfig;
use crate::io::wake::{Waker, WAKE_EVERY};

/// Time the UI spends per frame moving engine events into the model; the rest waits.
const DRAIN_BUDGET: Duration = Duration::from_millis(4);
/// Matches stay in the model this long (event time) for lines and pulses.
const KEEP_MATCHES_MS: i64 = 10_000;
/// Shoppers farther than this from every chain store are data the chain view would not show.
const FAR_FROM_CHAIN_M: f64 = 1_000.0;
/// How often the frame is redrawn with nothing new: the wall clock on the source line.
const WALL_CLOCK_EVERY: Duration = Duration::from_secs(1);
/// How often a pending promotion is offered to the sink again, and a load's progress shown.
const RETRY_EVERY: Duration = Duration::from_millis(250);

/// What the panels keep between frames.
#[derive(Default)]
struct PanelState {
    form: PromotionForm,
    feed_filter: FeedFilter,
    feed_hold: FeedHold,
    timeline: TimelineState,
    source_menu: SourceMenu,
}

pub struct ConsoleApp {
    chain: Chain,
    sim: SimConfig,
    values: ValuesOptions,
    pub settings: ConsoleSettings,
    source: Source,
    pub model: LiveModel,
    pub map: MapView,
    pub outbox: Outbox,
    /// Sites found in the data, beside the chain's stores.
    places: Places,
    /// The derived site the operator last went to (the picker shows it instead of a store).
    current_site: Option<usize>,
    /// Until the operator moves the map or picks a place, the view follows the data when
    /// it lies outside the chain (a new source starts it again).
    fit_to_data: bool,
    panels: PanelState,
    /// The file dialog that is open (on its own thread), and the last file action that failed.
    dialogs: FileDialogs,
    file_error: Option<FileError>,
    /// This installation's pseudonyms, once an export needed them.
    pseudonyms: Option<Pseudonyms>,
    recordings_list: Option<PathBuf>,
    retention: RetentionPrompt,
    pub campaigns: CampaignBook,
    /// What the last "Export as SQL…" wrote, or why it could not.
    sql_export: Option<String>,
    rates: RateMeter,
    bench: Option<FrameBench>,
    /// Returned by the panels while drawing, carried out by the next `logic`.
    commands: Commands,
    /// Event time on screen, worked out by `logic` for the frame.
    display_ms: i64,
    /// Dots are drawn this far behind the newest event so they glide between pings.
    display_lag_ms: i64,
    waker: Waker,
}

impl ConsoleApp {
    /// The console drawing on `ctx`: its workers wake `ctx` when they have something new.
    pub fn new(
        options: ConsoleOptions,
        storage: Option<&dyn eframe::Storage>,
        ctx: &egui::Context,
    ) -> Self {
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
        } else if options.bench.is_some() {
            // The benchmark measures our drawing, not a tile server's.
            settings.tiles = TileChoice::None;
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
        let repaint = ctx.clone();
        let waker = Waker::new(move || repaint.request_repaint());
        let mut app = Self {
            display_lag_ms: options.sim.ping_interval_ms,
            display_ms: options.sim.start_ms,
            chain: options.chain,
            sim: options.sim,
            values: options.values.clone(),
            settings,
            source: Source::new(waker.clone()),
            model: LiveModel::default(),
            map: MapView::new(home),
            outbox: options
                .outbox_path
                .clone()
                .map(Outbox::open)
                .unwrap_or_default(),
            places: Places::default(),
            current_site: None,
            fit_to_data: true,
            panels: PanelState::default(),
            dialogs: FileDialogs::default(),
            file_error: None,
            pseudonyms: None,
            recordings_list: options.recordings_list.clone(),
            retention: RetentionPrompt::default(),
            campaigns: CampaignBook::load(options.campaigns_folder.clone()),
            sql_export: None,
            rates: RateMeter::default(),
            bench: options
                .bench
                .map(|(warmup, duration)| FrameBench::new(warmup, duration)),
            commands: Commands::default(),
            waker,
        };
        if app.bench.is_some() {
            app.bench_layers_off();
        }
        if let Some(zoom) = options.zoom {
            let _ = app.map.memory.set_zoom(zoom);
        }
        if !options.dumps.is_empty() {
            app.open_dumps(options.dumps);
        } else if let Some((config, from)) = options.kafka {
            app.run(Command::ConnectKafka { config, from });
        } else if options.start_simulator {
            app.start_simulator();
        }
        app
    }

    /// Bench-only knob to find what a frame spends its time on, e.g.
    /// INSTORE_BENCH_OFF=rings,trails instore --bench-ui.
    fn bench_layers_off(&mut self) {
        let Ok(off) = std::env::var("INSTORE_BENCH_OFF") else {
            return;
        };
        let l = &mut self.settings.layers;
        for layer in off.split(',') {
            match layer {
                "trails" => l.trails = false,
                "customers" => l.customers = false,
                "rings" => l.rings = false,
                "products" => l.products = false,
                "footprints" => l.footprints = false,
                "matches" => l.matches = false,
                "panels" => {
                    self.settings.show_left_panel = false;
                    self.settings.show_right_panel = false;
                }
                _ => {}
            }
        }
    }

    fn live_settings(&self) -> LiveSettings {
        LiveSettings {
            params: self.settings.pipeline_params(),
            notify: self.settings.notify.clone(),
        }
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
        self.run(Command::StartSimulator);
    }

    /// Starts loading dumps (merged by timestamp); the replay starts when they are in.
    pub fn open_dumps(&mut self, paths: Vec<PathBuf>) {
        self.run(Command::OpenDumps(paths));
    }

    /// (Re)starts the replay from the beginning, fast-forwarded to `seek_ms` when given.
    pub fn start_replay(&mut self, seek_ms: Option<i64>) {
        self.run(Command::Seek(seek_ms));
    }

    /// Runs on an engine with an empty bus (tests; later dumps and Kafka publish on it).
    pub fn start_bus_only(&mut self) {
        self.places.clear();
        let settings = self.live_settings();
        self.source.start_bus_only(&mut self.model, settings);
    }

    /// Carries out one command (panels return them while drawing; `logic` runs them).
    fn run(&mut self, command: Command) {
        match command {
            Command::CheckRecordings => self.check_recordings(),
            Command::DeleteRecordings(paths) => {
                if let Some(list) = &self.recordings_list {
                    if let Err(error) = crate::io::recordings::delete(list, &paths) {
                        self.file_error = Some(FileError::Write {
                            path: list.clone(),
                            error,
                        });
                    }
                }
                self.check_recordings();
            }
            Command::PutOffRetention => self.retention.put_off = true,
            Command::ToggleCampaigns => self.campaigns.open = !self.campaigns.open,
            Command::Campaign(command) => {
                let context = ForecastContext {
                    params: self.settings.params.clone(),
                    chain: self.chain.clone(),
                    waker: self.waker.clone(),
                    first_segment: self.chain.segments.first().cloned().unwrap_or_default(),
                };
                self.campaigns.run(command, &context);
            }
            Command::StartSimulator => {
                self.places.clear();
                self.fit_to_data = true;
                let (speed, settings) = (self.speed(), self.live_settings());
                self.source.start_simulator(
                    &mut self.model,
                    &self.chain,
                    &self.sim,
                    speed,
                    settings,
                );
            }
            Command::ConnectKafka { config, from } => {
                self.places.clear();
                self.fit_to_data = true;
                let settings = self.live_settings();
                self.source
                    .connect_kafka(&mut self.model, config, from, settings);
            }
            Command::TestKafka(config) => self.panels.source_menu.test(config, self.waker.clone()),
            Command::OpenDumps(paths) => self.source.open_dumps(paths, &self.values),
            Command::CancelLoad => self.source.cancel_load(),
            Command::Seek(seek_ms) => {
                let (speed, settings) = (self.speed(), self.live_settings());
                self.source
                    .start_replay(&mut self.model, seek_ms, speed, settings);
            }
            Command::Pause(paused) => {
                if let Some(feed) = self.source.session().and_then(Session::feed) {
                    feed.set_paused(paused);
                }
            }
            Command::SetSpeed(speed) => {
                if let Some(feed) = self.source.session().and_then(Session::feed) {
                    feed.set_speed(speed);
                }
                self.settings.sim_speed = match speed {
                    Speed::Times(n) => n,
                    Speed::Max => f64::INFINITY,
                };
            }
            Command::SettingsEdited => {
                if self.source.timeline().is_some() {
                    // "What if the radius were 50 ft?": the timeline re-computes from the
                    // start with the new parameters, back to where it was.
                    self.run(Command::Seek(self.model.latest_event_ms));
                } else if let Some(session) = self.source.session() {
                    session.command(LiveCommand::Apply(self.live_settings()));
                }
            }
            Command::StartRecording(limits) => {
                self.engine_command(LiveCommand::StartRecording(limits))
            }
            Command::StopRecording => self.engine_command(LiveCommand::StopRecording),
            Command::OpenDialog {
                purpose,
                dialog,
                pick,
            } => {
                self.file_error = self
                    .dialogs
                    .open(purpose, dialog, pick, self.waker.clone())
                    .err();
            }
            Command::Publish {
                record,
                announcement,
                now_ms,
            } => self.outbox.submit(record, announcement, now_ms),
            Command::RetryPublish(i) => self.outbox.retry(i),
            Command::FocusStore(i) => {
                if let Some(store) = self.chain.stores.get(i) {
                    self.settings.store_id = Some(store.id.clone());
                    self.map.focus_store(store);
                    self.current_site = None;
                    self.fit_to_data = false;
                }
            }
            Command::FocusSite(i) => {
                if let Some(place) = self.places.sites().get(i) {
                    self.map.fit(&[place.site.min, place.site.max]);
                    self.current_site = Some(i);
                    self.fit_to_data = false;
                }
            }
            Command::ShowAllSites => {
                self.map.fit(&self.places.all_corners(&self.chain));
                self.fit_to_data = false;
            }
            Command::PromoteProduct(sku) => {
                pick_product(&mut self.settings.draft, &self.model, sku);
                self.settings.show_left_panel = true;
            }
            Command::CloseDetails => self.map.selection = None,
            Command::SelectCustomer(uid) => self.map.selection = Some(Selection::Customer(uid)),
        }
    }

    fn engine_command(&self, command: LiveCommand) {
        if let Some(session) = self.source.session() {
            session.command(command);
        }
    }

    /// Records of the dump on the timeline before `t_ms` (a seek there feeds them at once),
    /// and the timestamp of the last of them.
    pub fn replay_records_before(&self, t_ms: i64) -> (usize, Option<i64>) {
        let Some(timeline) = self.source.timeline() else {
            return (0, None);
        };
        let records = &timeline.dump.records;
        let n = records.count_before(t_ms);
        (n, n.checked_sub(1).and_then(|i| records.timestamp_ms(i)))
    }

    /// The position a seek to `t_ms` would resume from (`None`: from the start).
    pub fn checkpoint_for(&self, t_ms: i64) -> Option<u64> {
        let (Some(timeline), Some(checkpoints)) = (self.source.timeline(), self.checkpoints())
        else {
            return None;
        };
        checkpoints
            .fit(&self.live_settings())
            .then(|| checkpoints.best_for(&timeline.dump, t_ms))
            .flatten()
            .map(|c| c.position())
    }

    /// The replay's checkpoints so far.
    pub fn checkpoints(&self) -> Option<&Checkpoints> {
        self.source.checkpoints.as_ref()
    }

    /// Drops the replay's checkpoints: the next seek re-runs from the start (tests compare).
    pub fn forget_checkpoints(&mut self) {
        self.source.checkpoints = None;
    }

    /// The first timestamp of the dump on the timeline.
    pub fn replay_first_ms(&self) -> Option<i64> {
        self.source.timeline().and_then(|t| t.dump.first_ms())
    }

    /// Whether a replay has been fed completely and the engine has taken every record.
    pub fn replay_done(&self) -> bool {
        self.source
            .session()
            .is_some_and(|s| s.replay_ended(self.model.stats.records_pushed))
    }

    pub fn session(&self) -> Option<&Session> {
        self.source.session()
    }

    /// The clock running campaigns follow: the live source's event time (simulated time on
    /// the simulator, the stream's time on Kafka, so a day produced at speed runs its
    /// campaign at speed); none in replay, where nothing is published.
    fn campaign_clock_ms(&self) -> Option<i64> {
        let kind = &self.source.session()?.kind;
        match kind {
            SourceKind::Replay { .. } => None,
            _ => self.model.latest_event_ms,
        }
    }

    /// Event time for records the operator publishes: the source's time (simulated for the
    /// simulator), so promotions join with what is on the map.
    pub fn now_event_ms(&self) -> i64 {
        self.model.latest_event_ms.unwrap_or(self.sim.start_ms)
    }

    /// Whether a file dialog is open (on its own thread; the console goes on meanwhile).
    pub fn file_dialog_open(&self) -> bool {
        self.dialogs.is_open()
    }

    /// Selects what the map would select on a click (tests and the details panel).
    pub fn select(&mut self, selection: Option<Selection>) {
        self.map.selection = selection;
    }

    /// What `logic` does with the workers' news: a finished load starts its replay, a
    /// connection test's answer is kept, engine events go into the model (within `budget`),
    /// pending promotions go to the sink. Returns the engine batches applied.
    pub fn pump(&mut self, budget: Duration) -> usize {
        let (speed, settings) = (self.speed(), self.live_settings());
        if let Some(dump) = self.source.poll_loading(&mut self.model, speed, settings) {
            self.places.load_dump(&dump, &self.chain);
            self.fit_to_data = true;
        }
        self.panels.source_menu.poll();
        let batches = self.source.drain(&mut self.model, budget);
        if let Some(now) = self.campaign_clock_ms() {
            for (record, at_ms, first) in self.campaigns.runner.due(now) {
                let kind = if first {
                    Announcement::New
                } else {
                    Announcement::Reannounced
                };
                self.outbox.submit(record, kind, at_ms);
            }
        }
        if let Some(session) = self.source.session_mut() {
            self.outbox.pump(session.sink());
        }
        self.rates.update(&self.model.stats, Instant::now());
        batches
    }

    /// Takes in the data's new sites and, while the view follows the data, fits it to them
    /// when the data lies outside the chain (or, with no products yet, to the shoppers).
    fn follow_the_data(&mut self) {
        self.places.update(&self.model, &self.chain);
        let changed = self.places.take_changed();
        if self
            .current_site
            .is_some_and(|i| i >= self.places.sites().len())
        {
            // Another source started, or sites merged.
            self.current_site = None;
        }
        if self.map.moved_by_operator {
            self.fit_to_data = false;
        }
        if !self.fit_to_data {
            return;
        }
        let data_outside_chain = self.places.in_chain() == 0;
        if changed && data_outside_chain && !self.places.sites().is_empty() {
            self.map.fit(&self.places.site_corners());
        } else if self.model.products.is_empty()
            && self.places.sites().is_empty()
            && !self.model.customers.is_empty()
        {
            let at: Vec<LatLonDeg> = self
                .model
                .customers
                .values()
                .filter_map(|c| c.trail.last().map(|(_, p)| *p))
                .collect();
            // Shoppers in a chain store's car park are the chain's: only data nowhere near
            // any chain store moves the view.
            let far_from_chain =
                |p: &LatLonDeg| self.chain.store_near(*p, FAR_FROM_CHAIN_M).is_none();
            if at.iter().all(far_from_chain) {
                self.map.fit(&at);
                // Once: shoppers move, the view should not chase them.
                self.fit_to_data = false;
            }
        }
    }

    /// Event time on screen for this frame.
    fn update_display_ms(&mut self) {
        let pace = self.source.pace();
        let speed = pace.unwrap_or(None);
        let now = self
            .source
            .clock
            .now(self.model.latest_event_ms, speed, Instant::now())
            .unwrap_or(self.sim.start_ms);
        let lag = if speed.is_none() {
            0
        } else {
            self.display_lag_ms
        };
        self.display_ms = now - lag;
    }

    /// When the next frame is needed with no input and no worker news.
    fn schedule_frames(&self, ctx: &egui::Context, batches: usize) {
        if batches > 0 {
            // What the workers sent between two of their wakes.
            ctx.request_repaint_after(WAKE_EVERY);
        }
        if self.source.pace().is_some_and(|speed| speed != Some(0.0)) {
            // A paced feed: dots glide between pings.
            ctx.request_repaint_after(Duration::from_millis(33));
        }
        if self.source.loading().is_some() || self.outbox.pending() > 0 {
            ctx.request_repaint_after(RETRY_EVERY);
        }
        if self.source.session().is_some() {
            ctx.request_repaint_after(WALL_CLOCK_EVERY);
        }
    }

    /// Acts on a file dialog's answer (no paths: the operator cancelled).
    fn on_dialog_answer(&mut self, purpose: DialogFor, mut paths: Vec<PathBuf>) {
        if paths.is_empty() {
            return;
        }
        let write = |path: PathBuf, text: String| {
            std::fs::write(&path, text)
                .err()
                .map(|error| FileError::Write { path, error })
        };
        match purpose {
            DialogFor::OpenDumps => self.open_dumps(paths),
            DialogFor::TileFolder | DialogFor::PmTilesFile => {
                let path = paths.swap_remove(0);
                let attribution = String::new();
                self.settings.tiles = if purpose == DialogFor::TileFolder {
                    TileChoice::Folder { path, attribution }
                } else {
                    TileChoice::PmTiles { path, attribution }
                };
            }
            DialogFor::RecordTo => match self.export_pseudonyms() {
                Ok(pseudonyms) => {
                    let limits = RecordingLimits {
                        path: paths.swap_remove(0),
                        max_bytes: Some(self.settings.record_max_mb * 1_000_000),
                        max_duration: Some(Duration::from_secs(
                            self.settings.record_max_minutes * 60,
                        )),
                        pseudonyms,
                    };
                    self.run(Command::StartRecording(limits));
                }
                Err(e) => self.file_error = Some(e),
            },
            DialogFor::FeedCsv => match self.export_pseudonyms() {
                Ok(pseudonyms) => {
                    let csv = super::export::feed_csv(&self.model, pseudonyms.as_ref());
                    self.file_error = write(paths.swap_remove(0), csv);
                }
                Err(e) => self.file_error = Some(e),
            },
            DialogFor::ViewGeoJson => {
                let now = self.model.latest_event_ms.unwrap_or(0);
                let sites = self.places.sites();
                let text = super::export::view_geojson(&self.chain, sites, &self.model, now);
                self.file_error = write(paths.swap_remove(0), text);
            }
            DialogFor::ImportCampaigns => {
                self.run(Command::Campaign(CampaignCommand::Import(paths)))
            }
            DialogFor::ForecastDumps => {
                self.run(Command::Campaign(CampaignCommand::ForecastOnDumps(paths)))
            }
            DialogFor::ExportCampaign => {
                let path = paths.swap_remove(0);
                self.run(Command::Campaign(CampaignCommand::Export(path)));
            }
            DialogFor::ForecastCsv => {
                let path = paths.swap_remove(0);
                self.run(Command::Campaign(CampaignCommand::ExportCsv(path)));
            }
            DialogFor::ForecastPng => {
                let path = paths.swap_remove(0);
                self.run(Command::Campaign(CampaignCommand::ExportPng(path)));
            }
            DialogFor::SqlScript(dialect) => {
                let path = paths.swap_remove(0);
                self.sql_export = Some(self.export_sql(dialect, &path));
            }
        }
    }

    /// Saves the forecast's part of this frame as the PNG the operator asked for (the
    /// screenshot arrives after the frame is shown; its callback writes the file).
    fn take_forecast_png(&mut self, ctx: &egui::Context) {
        let (Some(path), Some(rect)) =
            (self.campaigns.png_wanted.take(), self.campaigns.report_rect)
        else {
            return;
        };
        let outcome = std::sync::Arc::clone(&self.campaigns.png_outcome);
        let pixels_per_point = ctx.pixels_per_point();
        let repaint = ctx.clone();
        ctx.request_screenshot(move |image| {
            let said = match super::export::png_of_region(&image, rect, pixels_per_point)
                .and_then(|png| std::fs::write(&path, png).map_err(|e| e.to_string()))
            {
                Ok(()) => format!("forecast saved as {}", path.display()),
                Err(e) => format!("forecast not saved as {}: {e}", path.display()),
            };
            if let Ok(mut slot) = outcome.lock() {
                *slot = Some(said);
            }
            repaint.request_repaint();
        });
    }

    /// Looks for recordings past the retention (at start, then daily).
    fn check_recordings(&mut self) {
        let now = crate::io::recordings::now_ms();
        self.retention.checked_ms = Some(now);
        self.retention.old = match &self.recordings_list {
            Some(list) => {
                crate::io::recordings::older_than(list, self.settings.retention_days, now)
            }
            None => Vec::new(),
        };
    }

    /// The pseudonyms for what leaves the console: `None` when the operator chose raw uids,
    /// an error (and nothing written) when the installation's key cannot be had.
    fn export_pseudonyms(&mut self) -> Result<Option<Pseudonyms>, FileError> {
        if self.settings.raw_uids {
            return Ok(None);
        }
        if self.pseudonyms.is_none() {
            self.pseudonyms =
                Some(installation_pseudonyms().map_err(|e| FileError::Pseudonyms(e.to_string()))?);
        }
        Ok(self.pseudonyms.clone())
    }

    /// Writes the pipeline with the console's parameters as a `dialect` script to `path`;
    /// says what happened. Flink's Kafka tables get the bootstrap servers of the Source menu
    /// (never a profile's secrets).
    fn export_sql(&self, dialect: SqlDialect, path: &std::path::Path) -> String {
        let bootstrap = self.settings.kafka_bootstrap.trim();
        let export = SqlExport {
            dialect,
            connector: SqlConnector::Kafka {
                bootstrap_servers: if bootstrap.is_empty() {
                    "localhost:9092".to_owned()
                } else {
                    bootstrap.to_owned()
                },
            },
            topics: TopicNames::default(),
            params: self.settings.params.clone(),
        };
        let written = export_sql(&export)
            .map_err(|e| e.to_string())
            .and_then(|script| std::fs::write(path, script).map_err(|e| e.to_string()));
        match written {
            Ok(()) => format!("{} script written to {}", dialect.title(), path.display()),
            Err(why) => format!("not exported: {why}"),
        }
    }

    /// The logic of one frame: files dropped on the window, a dialog's answer, the panels'
    /// commands, the workers' news, then the event time the frame draws.
    fn logic_pass(&mut self, ctx: &egui::Context) {
        let dropped: Vec<PathBuf> = ctx.input(|i| {
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
            if matches!(self.file_error, Some(FileError::DialogBusy)) {
                self.file_error = None;
            }
            self.on_dialog_answer(purpose, paths);
        }
        for command in self.commands.take() {
            self.run(command);
        }
        if self.campaigns.poll() {
            // The window's progress bar moves while the forecast thread runs.
            ctx.request_repaint_after(Duration::from_millis(100));
        }
        if self
            .retention
            .checked_ms
            .is_none_or(|at| crate::io::recordings::now_ms() - at > 86_400_000)
        {
            self.check_recordings();
        }
        let batches = self.pump(DRAIN_BUDGET);
        if let Some(id) = self.map.jumped_to.take() {
            self.settings.store_id = Some(id);
            self.current_site = None;
            self.fit_to_data = false;
        }
        if let Some(i) = self.map.jumped_to_site.take() {
            self.current_site = Some(i);
            self.fit_to_data = false;
        }
        self.follow_the_data();
        self.update_display_ms();
        self.model.expire(self.display_ms, KEEP_MATCHES_MS);
        self.schedule_frames(ctx, batches);
    }

    /// Draws the whole console; what the operator asks for is collected as commands.
    fn draw(&mut self, ui: &mut Ui) {
        let display_ms = self.display_ms;
        let mut commands = Commands::default();
        egui::Panel::top("top").show(ui, |ui| {
            ui.horizontal_wrapped(|ui| {
                let bar = TopBar {
                    source: &self.source,
                    model: &self.model,
                    chain: &self.chain,
                    sites: self.places.sites(),
                    current_site: self.current_site,
                    settings: &mut self.settings,
                    source_menu: &mut self.panels.source_menu,
                    file_error: self.file_error.as_ref(),
                    tile_reach: self.map.tile_reach(),
                    display_ms,
                };
                top_bar_ui(ui, bar, &mut commands);
            });
        });
        if self.settings.show_left_panel {
            egui::Panel::left("left")
                .default_size(360.0)
                .show(ui, |ui| {
                    egui::ScrollArea::vertical()
                        .id_salt("left-scroll")
                        .show(ui, |ui| {
                            let lag = self
                                .source
                                .session()
                                .and_then(Session::kafka_status)
                                .map(|s| s.lag)
                                .unwrap_or_default();
                            let panel = LeftPanel {
                                now_ms: self.now_event_ms(),
                                settings: &mut self.settings,
                                form: &mut self.panels.form,
                                model: &self.model,
                                chain: &self.chain,
                                outbox: &self.outbox,
                                rates: &self.rates,
                                lag,
                                sql_export: self.sql_export.as_deref(),
                            };
                            left_panel_ui(ui, panel, &mut commands)
                        });
                });
        }
        if let Some(timeline) = self.source.timeline() {
            egui::Panel::bottom("timeline").show(ui, |ui| {
                commands.extend(timeline_ui(
                    ui,
                    &mut self.panels.timeline,
                    timeline,
                    &self.model,
                    display_ms,
                ))
            });
        }
        if self.settings.show_right_panel {
            egui::Panel::right("right")
                .default_size(380.0)
                .show(ui, |ui| {
                    let panel = RightPanel {
                        selection: self.map.selection.as_ref(),
                        model: &self.model,
                        chain: &self.chain,
                        places: &self.places,
                        feed_filter: &mut self.panels.feed_filter,
                        feed_hold: &mut self.panels.feed_hold,
                        display_ms,
                    };
                    right_panel_ui(ui, panel, &mut commands)
                });
        }
        egui::CentralPanel::no_frame().show(ui, |ui| {
            self.map.show(
                ui,
                &self.model,
                &self.chain,
                self.places.sites(),
                self.settings.layers,
                display_ms,
                &self.settings.tiles,
            );
        });
        if !commands.is_empty() {
            // Carried out by the next logic pass, at once.
            ui.ctx().request_repaint();
        }
        if self.campaigns.open {
            let view = CampaignsView {
                now_ms: self.model.latest_event_ms,
                reach: &self.model.reach_by_pid,
                places: self
                    .chain
                    .stores
                    .iter()
                    .map(|s| s.name.clone())
                    .chain(self.places.sites().iter().map(|s| s.site.label()))
                    .collect(),
                segments: &self.chain.segments,
            };
            campaigns_window(ui.ctx(), &mut self.campaigns, &view, &mut commands);
            self.take_forecast_png(ui.ctx());
        }
        retention_ui(
            ui.ctx(),
            &self.retention,
            crate::io::recordings::now_ms(),
            &mut self.settings,
            &mut commands,
        );
        for command in commands.take() {
            self.commands.push(command);
        }
    }
}

impl eframe::App for ConsoleApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.logic_pass(ctx);
    }

    fn ui(&mut self, ui: &mut Ui, frame: &mut eframe::Frame) {
        let started = Instant::now();
        self.draw(ui);
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
