//! The console's campaigns without the widgets: the files in the user's campaigns folder,
//! the one being edited, and a forecast running in the background on recorded or simulated
//! traffic. The Campaigns window draws this and returns [`CampaignCommand`]s.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::engine::campaign::{Campaign, CampaignPromotion, DailyHours, Schedule};
use crate::engine::PipelineParams;
use crate::io::chain::Chain;
use crate::io::plan::{forecast, PlanProgress, PlanReport, PlanSetup, PlanTraffic, Shift};
use crate::io::simulator::SimConfig;
use crate::io::wake::Waker;
use crate::ui::campaign_runner::CampaignRunner;

/// What the Campaigns window asks for.
#[derive(Clone, Debug, PartialEq)]
pub enum CampaignCommand {
    New,
    Select(usize),
    /// Write the selected campaign to its file in the campaigns folder.
    Save,
    Delete(usize),
    /// Copy campaign files into the book (and the folder).
    Import(Vec<PathBuf>),
    /// Write the selected campaign where the operator chose.
    Export(PathBuf),
    /// Forecast the selected campaign on these dumps.
    ForecastOnDumps(Vec<PathBuf>),
    /// Forecast the selected campaign on a simulated day of the chain at its first day.
    ForecastOnSimulator,
    CancelForecast,
    /// Write the last forecast's tables as CSV.
    ExportCsv(PathBuf),
    /// Save the forecast as it shows on screen (table and charts) as PNG.
    ExportPng(PathBuf),
    /// Start announcing the selected campaign on the source's clock.
    Start,
    /// Stop announcing the campaign of this name.
    Stop(String),
}

/// A forecast running on its own thread.
pub struct ForecastJob {
    pub campaign: String,
    pub progress: Arc<PlanProgress>,
    result: Arc<Mutex<Option<Result<PlanReport, String>>>>,
}

impl ForecastJob {
    fn spawn(setup: PlanSetup, waker: Waker) -> std::io::Result<ForecastJob> {
        let progress = Arc::new(PlanProgress::default());
        let result = Arc::new(Mutex::new(None));
        let (p, r) = (Arc::clone(&progress), Arc::clone(&result));
        let campaign = setup.campaign.name.clone();
        std::thread::Builder::new()
            .name("forecast".into())
            .spawn(move || {
                let outcome = forecast(&setup, &p).map_err(|e| e.to_string());
                if let Ok(mut slot) = r.lock() {
                    *slot = Some(outcome);
                }
                waker.wake();
            })?;
        Ok(ForecastJob {
            campaign,
            progress,
            result,
        })
    }

    /// The outcome, once the thread is done.
    fn take(&self) -> Option<Result<PlanReport, String>> {
        self.result.lock().ok()?.take()
    }
}

/// The campaigns and what is being done with them.
#[derive(Default)]
pub struct CampaignBook {
    /// Where campaign files live (none: in memory only, as in tests).
    pub folder: Option<PathBuf>,
    pub campaigns: Vec<Campaign>,
    pub selected: Option<usize>,
    pub job: Option<ForecastJob>,
    /// The last forecast, of the campaign named.
    pub report: Option<PlanReport>,
    /// What went wrong last (a file, a forecast).
    pub error: Option<String>,
    pub open: bool,
    pub runner: CampaignRunner,
    /// Where the forecast was drawn last frame (points), for its PNG.
    pub report_rect: Option<egui::Rect>,
    /// A PNG asked for, taken after the next frame is drawn.
    pub png_wanted: Option<PathBuf>,
    /// How the last PNG export went (written by the screenshot's callback).
    pub png_outcome: Arc<Mutex<Option<String>>>,
}

/// A campaign to start from: one promotion, the chain's first segment, on for a week.
pub fn new_campaign(n: usize, segment: &str) -> Campaign {
    Campaign {
        name: format!("Campaign {n}"),
        promotions: vec![CampaignPromotion {
            pid: None,
            sku: None,
            segment: segment.to_owned(),
            title: Some("Our offer".into()),
            discount_pct: Some(10),
            message: None,
        }],
        stores: Vec::new(),
        schedule: Schedule {
            timezone: "UTC".into(),
            start: "2026-12-07T09:00".into(),
            end: "2026-12-14T09:00".into(),
            daily: Some(DailyHours {
                from: "09:00".into(),
                to: "20:00".into(),
            }),
        },
        radius_ft: 100.0,
        match_key: None,
        notify: Default::default(),
        budget: None,
        reannounce_every_min: crate::engine::campaign::DEFAULT_REANNOUNCE_MIN,
        variants: Vec::new(),
    }
}

fn file_name(campaign: &Campaign) -> String {
    format!("{}.json", crate::engine::campaign::slug(&campaign.name))
}

impl CampaignBook {
    /// The campaigns in `folder` (unreadable files are named in `error`).
    pub fn load(folder: Option<PathBuf>) -> CampaignBook {
        let runner = CampaignRunner::open(folder.as_ref().map(|f| f.join("running.state")));
        let mut book = CampaignBook {
            folder,
            runner,
            ..CampaignBook::default()
        };
        let Some(dir) = book.folder.clone() else {
            return book;
        };
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return book;
        };
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        paths.sort();
        let mut bad = Vec::new();
        for path in paths {
            match read_campaign(&path) {
                Ok(c) => book.campaigns.push(c),
                Err(e) => bad.push(e),
            }
        }
        if !bad.is_empty() {
            book.error = Some(bad.join("; "));
        }
        book.selected = (!book.campaigns.is_empty()).then_some(0);
        book
    }

    pub fn selected(&self) -> Option<&Campaign> {
        self.campaigns.get(self.selected?)
    }

    pub fn selected_mut(&mut self) -> Option<&mut Campaign> {
        self.campaigns.get_mut(self.selected?)
    }

    /// Looks for a finished forecast; true while one runs (the window shows its progress).
    pub fn poll(&mut self) -> bool {
        let Some(job) = &self.job else {
            return false;
        };
        match job.take() {
            None => true,
            Some(Ok(report)) => {
                self.report = Some(report);
                self.job = None;
                false
            }
            Some(Err(e)) => {
                self.error = Some(format!("forecast of {:?}: {e}", job.campaign));
                self.job = None;
                false
            }
        }
    }

    /// Carries out a command; `segment` seeds a new campaign, `setup` the forecasts.
    pub fn run(&mut self, command: CampaignCommand, context: &ForecastContext) {
        self.error = None;
        let result = match command {
            CampaignCommand::New => {
                let c = new_campaign(self.campaigns.len() + 1, &context.first_segment);
                self.campaigns.push(c);
                self.selected = Some(self.campaigns.len() - 1);
                Ok(())
            }
            CampaignCommand::Select(i) => {
                self.selected = (i < self.campaigns.len()).then_some(i);
                Ok(())
            }
            CampaignCommand::Save => self.save_selected(),
            CampaignCommand::Delete(i) => self.delete(i),
            CampaignCommand::Import(paths) => self.import(&paths),
            CampaignCommand::Export(path) => match self.selected() {
                Some(c) => std::fs::write(&path, c.to_json() + "\n")
                    .map_err(|e| format!("cannot write {}: {e}", path.display())),
                None => Ok(()),
            },
            CampaignCommand::ForecastOnDumps(paths) => {
                self.start_forecast(PlanTraffic::Dumps(paths), Shift::Auto, context)
            }
            CampaignCommand::ForecastOnSimulator => match self.selected().map(simulated_day) {
                Some(Ok(traffic)) => self.start_forecast(traffic, Shift::Days(0), context),
                Some(Err(e)) => Err(e),
                None => Ok(()),
            },
            CampaignCommand::CancelForecast => {
                if let Some(job) = &self.job {
                    job.progress
                        .cancel
                        .store(true, std::sync::atomic::Ordering::Relaxed);
                }
                Ok(())
            }
            CampaignCommand::Start => match self.selected().cloned() {
                Some(c) => self.runner.start(c),
                None => Ok(()),
            },
            CampaignCommand::Stop(name) => {
                self.runner.stop(&name);
                Ok(())
            }
            CampaignCommand::ExportPng(path) => {
                self.png_wanted = Some(path);
                Ok(())
            }
            CampaignCommand::ExportCsv(path) => match &self.report {
                Some(r) => std::fs::write(&path, crate::io::plan::report_csv(r))
                    .map_err(|e| format!("cannot write {}: {e}", path.display())),
                None => Ok(()),
            },
        };
        if let Err(e) = result {
            self.error = Some(e);
        }
    }

    fn save_selected(&mut self) -> Result<(), String> {
        let (Some(c), Some(dir)) = (self.selected(), self.folder.as_ref()) else {
            return Ok(());
        };
        c.check().map_err(|e| format!("not saved: {e}"))?;
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let path = dir.join(file_name(c));
        std::fs::write(&path, c.to_json() + "\n")
            .map_err(|e| format!("cannot write {}: {e}", path.display()))
    }

    fn delete(&mut self, i: usize) -> Result<(), String> {
        if i >= self.campaigns.len() {
            return Ok(());
        }
        let c = self.campaigns.remove(i);
        self.selected = (!self.campaigns.is_empty()).then(|| i.min(self.campaigns.len() - 1));
        if let Some(dir) = &self.folder {
            let path = dir.join(file_name(&c));
            if path.exists() {
                std::fs::remove_file(&path)
                    .map_err(|e| format!("cannot delete {}: {e}", path.display()))?;
            }
        }
        Ok(())
    }

    fn import(&mut self, paths: &[PathBuf]) -> Result<(), String> {
        for path in paths {
            let c = read_campaign(path)?;
            self.campaigns.push(c);
            self.selected = Some(self.campaigns.len() - 1);
            self.save_selected()?;
        }
        Ok(())
    }

    fn start_forecast(
        &mut self,
        traffic: PlanTraffic,
        shift: Shift,
        context: &ForecastContext,
    ) -> Result<(), String> {
        let Some(c) = self.selected() else {
            return Ok(());
        };
        c.check().map_err(|e| e.to_string())?;
        if self.job.is_some() {
            return Err("a forecast is running: cancel it first".into());
        }
        let setup = PlanSetup {
            campaign: c.clone(),
            traffic,
            params: context.params.clone(),
            chain: context.chain.clone(),
            shift,
        };
        self.report = None;
        self.job = Some(
            ForecastJob::spawn(setup, context.waker.clone())
                .map_err(|e| format!("cannot start the forecast: {e}"))?,
        );
        Ok(())
    }
}

/// What a forecast needs from the console.
pub struct ForecastContext {
    pub params: PipelineParams,
    pub chain: Chain,
    pub waker: Waker,
    /// A new campaign promotes this segment.
    pub first_segment: String,
}

fn read_campaign(path: &Path) -> Result<Campaign, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Campaign::from_json(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// The simulator over the campaign's first day on: from half an hour before its first
/// interval (the catalog and shoppers settle) to the end of that day's interval or 24 hours,
/// five shoppers per store.
pub fn simulated_day(c: &Campaign) -> Result<PlanTraffic, String> {
    let schedule = c.check().map_err(|e| e.to_string())?;
    let first = schedule
        .intervals()
        .first()
        .copied()
        .ok_or("the schedule has no time on")?;
    let start_ms = first.start_ms - 30 * 60_000;
    let duration_ms = (first.end_ms - start_ms).min(24 * 3_600_000 + 30 * 60_000);
    Ok(PlanTraffic::Simulated {
        config: SimConfig {
            start_ms,
            customers_per_store: 5,
            ..SimConfig::default()
        },
        duration_ms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context() -> ForecastContext {
        ForecastContext {
            params: PipelineParams::default(),
            chain: Chain::builtin().expect("built-in chain"),
            waker: Waker::none(),
            first_segment: "SegmentA".into(),
        }
    }

    #[test]
    fn campaigns_are_saved_to_the_folder_read_back_imported_and_deleted() {
        let dir = tempfile::tempdir().expect("temp dir");
        let folder = dir.path().join("campaigns");
        let mut book = CampaignBook::load(Some(folder.clone()));
        assert!(book.campaigns.is_empty());
        book.run(CampaignCommand::New, &context());
        book.run(CampaignCommand::Save, &context());
        assert_eq!(book.error, None);
        assert!(folder.join("campaign-1.json").exists());
        let exported = dir.path().join("shared.json");
        book.run(CampaignCommand::Export(exported.clone()), &context());
        let mut other = CampaignBook::load(None);
        other.run(CampaignCommand::Import(vec![exported]), &context());
        assert_eq!(other.campaigns, book.campaigns);
        let again = CampaignBook::load(Some(folder.clone()));
        assert_eq!(again.campaigns, book.campaigns);
        book.run(CampaignCommand::Delete(0), &context());
        assert!(!folder.join("campaign-1.json").exists());
        assert!(book.campaigns.is_empty() && book.selected.is_none());
    }

    #[test]
    fn an_invalid_campaign_is_not_saved_and_says_why() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut book = CampaignBook::load(Some(dir.path().to_owned()));
        book.run(CampaignCommand::New, &context());
        if let Some(c) = book.selected_mut() {
            c.schedule.end = "2026-12-01T00:00".into();
        }
        book.run(CampaignCommand::Save, &context());
        assert!(
            book.error
                .as_deref()
                .is_some_and(|e| e.contains("not after")),
            "{:?}",
            book.error
        );
        assert!(std::fs::read_dir(dir.path()).expect("dir").next().is_none());
    }

    #[test]
    fn a_forecast_on_a_simulated_first_day_runs_in_the_background_and_reports() {
        let mut book = CampaignBook::load(None);
        book.run(CampaignCommand::New, &context());
        if let Some(c) = book.selected_mut() {
            // An hour keeps the test quick: SKU 1000 only.
            c.schedule.daily = Some(DailyHours {
                from: "09:00".into(),
                to: "10:00".into(),
            });
            c.promotions[0].sku = Some(1000);
            c.match_key = Some(crate::engine::PromotionMatchKey::Sku);
        }
        book.run(CampaignCommand::ForecastOnSimulator, &context());
        assert_eq!(book.error, None);
        let started = std::time::Instant::now();
        while book.poll() {
            assert!(started.elapsed().as_secs() < 120, "the forecast finishes");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let report = book.report.as_ref().expect("a report");
        assert_eq!(report.schedule_shift_days, 0);
        assert!(report.variants[0].notifications > 0, "{report:?}");
        assert!(report.inputs[0].starts_with("simulator: 1.5 h from 2026-12-07T08:30:00Z"));
    }
}
