//! A campaign's reach forecast on recorded traffic (`instore plan`, and the console's
//! Campaigns panel in the background): each variant is a run over the same dumps, on its own
//! thread, with the campaign's announcements injected at their scheduled times, through the
//! same stage as `instore run --campaign`, so the numbers equal what that run writes.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::engine::campaign::forecast::{Forecast, VariantForecast};
use crate::engine::campaign::near::NearWatch;
use crate::engine::campaign::{Campaign, CampaignError, CampaignVariant, ResolvedSchedule};
use crate::engine::notification_record::DEFAULT_MESSAGE;
use crate::engine::notify::Notifier;
use crate::engine::PipelineParams;
use crate::engine::RawRecord;
use crate::io::campaign::{CampaignInput, CampaignStage};
use crate::io::chain::Chain;
use crate::io::dump::{
    first_read_once, open_dump_text_counted, DumpError, DumpLine, DumpReader, DumpWriter,
};
use crate::io::run_loop::{feed_dumps, RunLoop, RunNotifications};
use crate::io::simulator::{SimConfig, SimRecord, Simulator};
use crate::io::store_names::StoreNames;

/// Why a forecast could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error(transparent)]
    Campaign(#[from] CampaignError),
    #[error(transparent)]
    Dump(#[from] DumpError),
    #[error("the traffic has no record with a timestamp")]
    NoTraffic,
    #[error("cancelled")]
    Cancelled,
    #[error("a forecast thread failed")]
    Thread,
}

/// Where the schedule is laid on the traffic.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Shift {
    /// When the traffic does not begin inside the schedule, move the schedule by whole days
    /// (on its wall clock) so it begins on the traffic's first day.
    #[default]
    Auto,
    Days(i64),
}

impl std::str::FromStr for Shift {
    type Err = String;

    fn from_str(s: &str) -> Result<Shift, String> {
        match s.trim() {
            "auto" => Ok(Shift::Auto),
            "none" => Ok(Shift::Days(0)),
            n => n
                .parse()
                .map(Shift::Days)
                .map_err(|_| format!("{s:?}: auto, none or a number of days")),
        }
    }
}

/// The whole forecast, as `--report` writes it: aggregates only, no uid.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanReport {
    pub campaign: String,
    pub inputs: Vec<String>,
    /// The first and the latest record's time, on the campaign's clock.
    pub traffic_from: String,
    pub traffic_to: String,
    /// Calendar days the schedule was moved to lie on the traffic.
    pub schedule_shift_days: i64,
    /// The schedule as forecast (after the shift), on the campaign's clock.
    pub schedule_start: String,
    pub schedule_end: String,
    /// Announcements planned per variant, and how many the traffic's time reached.
    pub announcements: usize,
    pub announced: usize,
    /// The traffic's own `products_promotions` records, left out of the forecast.
    pub input_promotions_left_out: u64,
    pub input_records: u64,
    pub rejected_records: u64,
    pub variants: Vec<VariantForecast>,
}

/// How far a forecast has come, over all variants: bytes of the dumps read, or simulated
/// milliseconds run, of `total`.
#[derive(Debug, Default)]
pub struct PlanProgress {
    pub done: Arc<AtomicU64>,
    pub total: AtomicU64,
    pub cancel: AtomicBool,
}

impl PlanProgress {
    /// 0–1, or `None` when the inputs' sizes are unknown (standard input).
    pub fn fraction(&self) -> Option<f32> {
        let total = self.total.load(Ordering::Relaxed);
        (total > 0)
            .then(|| (self.done.load(Ordering::Relaxed) as f64 / total as f64).min(1.0) as f32)
    }
}

/// The traffic a forecast runs on.
#[derive(Clone, Debug)]
pub enum PlanTraffic {
    /// Recorded dumps, read in the order given.
    Dumps(Vec<PathBuf>),
    /// The built-in simulator, this long from its configured start (its stores are the
    /// setup's chain).
    Simulated { config: SimConfig, duration_ms: i64 },
}

impl PlanTraffic {
    fn describe(&self) -> Vec<String> {
        match self {
            PlanTraffic::Dumps(paths) => paths.iter().map(|p| p.display().to_string()).collect(),
            PlanTraffic::Simulated {
                config,
                duration_ms,
            } => vec![format!(
                "simulator: {:.1} h from {}, seed {}",
                *duration_ms as f64 / 3_600_000.0,
                crate::engine::rfc3339::format_rfc3339_ms(config.start_ms),
                config.seed
            )],
        }
    }
}

/// What a forecast reads and how it runs.
#[derive(Clone, Debug)]
pub struct PlanSetup {
    pub campaign: Campaign,
    pub traffic: PlanTraffic,
    pub params: PipelineParams,
    pub chain: Chain,
    pub shift: Shift,
}

/// The first record's timestamp in the first dump that has one. Its callers read the dumps
/// again afterwards (a forecast once per variant), so a dump that can be read only once is
/// refused here rather than read short later.
pub fn first_timestamp(inputs: &[PathBuf]) -> Result<Option<i64>, DumpError> {
    if let Some(once) = first_read_once(inputs) {
        return Err(DumpError::ReadOnce {
            path: once.to_owned(),
        });
    }
    for path in inputs {
        let mut reader = DumpReader::open(path)?;
        while let Some(line) = reader.next_line()? {
            if let DumpLine::Record(r) = line {
                if let Some(ts) = r.timestamp_ms {
                    return Ok(Some(ts));
                }
            }
        }
    }
    Ok(None)
}

/// The schedule laid on traffic beginning at `first_ms`, and the days it moved.
pub fn lay_schedule(
    schedule: &ResolvedSchedule,
    shift: Shift,
    first_ms: i64,
) -> Result<(ResolvedSchedule, i64), CampaignError> {
    let days = match shift {
        Shift::Days(d) => d,
        Shift::Auto if (schedule.start_ms()..schedule.end_ms()).contains(&first_ms) => 0,
        Shift::Auto => schedule.days_until(first_ms).unwrap_or(0),
    };
    Ok((schedule.shifted_days(days)?, days))
}

/// The parameters of a variant's run: its radius and match key.
pub fn variant_params(base: &PipelineParams, variant: &CampaignVariant) -> PipelineParams {
    let mut params = base.clone();
    params.radius_ft = variant.radius_ft;
    if let Some(key) = variant.match_key {
        params.match_key = key;
    }
    params
}

/// The notification stage of a variant's run: its rule at its radius, behind its gate.
pub fn variant_notifications(
    variant: &CampaignVariant,
    km_to_ft: f64,
    chain: Chain,
    forecast: Option<(Forecast, NearWatch)>,
    template: &str,
) -> RunNotifications {
    let notifier = Notifier::new(variant.notify.clone(), variant.radius_ft, km_to_ft);
    RunNotifications::new(notifier, StoreNames::new(chain), template.to_owned())
        .with_campaign(CampaignStage::new(variant, forecast))
}

/// Runs every variant of the campaign over the inputs, side by side.
pub fn forecast(setup: &PlanSetup, progress: &PlanProgress) -> Result<PlanReport, PlanError> {
    let schedule = setup.campaign.check()?;
    let (first_ms, size) = match &setup.traffic {
        PlanTraffic::Dumps(inputs) => (
            first_timestamp(inputs)?.ok_or(PlanError::NoTraffic)?,
            inputs
                .iter()
                .filter_map(|p| std::fs::metadata(p).ok())
                .map(|m| m.len())
                .sum(),
        ),
        PlanTraffic::Simulated {
            config,
            duration_ms,
        } => (config.start_ms, (*duration_ms).max(0) as u64),
    };
    let (schedule, shift_days) = lay_schedule(&schedule, setup.shift, first_ms)?;
    let variants = setup.campaign.variants();
    progress
        .total
        .store(size * variants.len() as u64, Ordering::Relaxed);
    let every_ms = setup.campaign.reannounce_every_ms();
    let results: Vec<Result<VariantRun, PlanError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = variants
            .iter()
            .map(|variant| {
                let schedule = &schedule;
                scope.spawn(move || run_variant(setup, variant, schedule, every_ms, progress))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or(Err(PlanError::Thread)))
            .collect()
    });
    let mut runs = Vec::with_capacity(results.len());
    for r in results {
        runs.push(r?);
    }
    let first = runs.first().ok_or(PlanError::NoTraffic)?;
    Ok(PlanReport {
        campaign: setup.campaign.name.clone(),
        inputs: setup.traffic.describe(),
        traffic_from: schedule.local_label(first_ms),
        traffic_to: schedule.local_label(first.last_ms.unwrap_or(first_ms)),
        schedule_shift_days: shift_days,
        schedule_start: schedule.local_label(schedule.start_ms()),
        schedule_end: schedule.local_label(schedule.end_ms()),
        announcements: first.announcements.0,
        announced: first.announcements.1,
        input_promotions_left_out: first.left_out,
        input_records: first.records_in,
        rejected_records: first.rejected,
        variants: runs.into_iter().map(|r| r.forecast).collect(),
    })
}

struct VariantRun {
    forecast: VariantForecast,
    last_ms: Option<i64>,
    announcements: (usize, usize),
    left_out: u64,
    records_in: u64,
    rejected: u64,
}

fn run_variant(
    setup: &PlanSetup,
    variant: &CampaignVariant,
    schedule: &ResolvedSchedule,
    every_ms: i64,
    progress: &PlanProgress,
) -> Result<VariantRun, PlanError> {
    let params = variant_params(&setup.params, variant);
    let tally = Forecast::new(
        &variant.name,
        variant.radius_ft,
        schedule.time_zone().clone(),
    );
    let watch = NearWatch::new(
        variant,
        params.match_key,
        schedule.intervals(),
        variant.radius_ft * 2.0,
        params.km_to_ft,
    );
    let mut notifications = variant_notifications(
        variant,
        params.km_to_ft,
        setup.chain.clone(),
        Some((tally, watch)),
        DEFAULT_MESSAGE,
    );
    notifications.write_records = false;
    let mut run = RunLoop::new(params).with_notifications(notifications);
    let mut input = CampaignInput::new(variant, schedule, every_ms);
    let lines = match &setup.traffic {
        PlanTraffic::Dumps(inputs) => {
            let readers = inputs
                .iter()
                .map(|path| {
                    let text = open_dump_text_counted(path, Some(Arc::clone(&progress.done)))?;
                    Ok(DumpReader::from_opened(path, text))
                })
                .collect::<Result<Vec<_>, DumpError>>()?;
            feed_dumps(
                &mut run,
                readers,
                &mut None::<DumpWriter>,
                Some(&mut input),
                Some(&progress.cancel),
            )?
        }
        PlanTraffic::Simulated {
            config,
            duration_ms,
        } => feed_simulated(&mut run, setup, config, *duration_ms, &mut input, progress)?,
    };
    if progress.cancel.load(Ordering::Relaxed) {
        return Err(PlanError::Cancelled);
    }
    let rejected = run.pipeline().stats().rejects.total();
    let records_in = run.records_in();
    let report = run.finish(lines);
    Ok(VariantRun {
        forecast: report.forecast.ok_or(PlanError::Thread)?,
        announcements: input.announced(),
        last_ms: input.last_ms(),
        left_out: input.ignored_promotions(),
        records_in,
        rejected,
    })
}

/// The simulator's records through `run` until `duration_ms` of simulated time has passed;
/// returns the records generated.
fn feed_simulated(
    run: &mut RunLoop,
    setup: &PlanSetup,
    config: &SimConfig,
    duration_ms: i64,
    input: &mut CampaignInput,
    progress: &PlanProgress,
) -> Result<u64, DumpError> {
    let mut sim = Simulator::new(&setup.chain, config.clone());
    let mut record = SimRecord::default();
    let end_ms = config.start_ms.saturating_add(duration_ms);
    let (mut generated, mut reported_ms) = (0u64, config.start_ms);
    while sim.next_into(&mut record) && record.timestamp_ms < end_ms {
        let Some(topic) = record.topic else { continue };
        let raw = RawRecord {
            topic: topic.name().into(),
            timestamp_ms: Some(record.timestamp_ms),
            key: Some(record.key.as_str().into()),
            payload: Some(record.payload_str().into()),
            ..RawRecord::default()
        };
        run.push_with_campaign(&raw, &mut None::<DumpWriter>, Some(input))?;
        generated += 1;
        if generated % 65_536 == 0 {
            if progress.cancel.load(Ordering::Relaxed) {
                break;
            }
            let advanced = record.timestamp_ms - reported_ms;
            progress
                .done
                .fetch_add(advanced.max(0) as u64, Ordering::Relaxed);
            reported_ms = record.timestamp_ms;
        }
    }
    progress
        .done
        .fetch_add((end_ms - reported_ms).max(0) as u64, Ordering::Relaxed);
    Ok(generated)
}

/// The report's tables as CSV: one row per variant and slice (total, each store, each hour).
pub fn report_csv(report: &PlanReport) -> String {
    use std::fmt::Write as _;
    let mut out = String::from("variant,slice,label,reached,notifications,matches\n");
    let field = |s: &str| {
        if s.contains([',', '"', '\n']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_owned()
        }
    };
    for v in &report.variants {
        let name = field(&v.name);
        let _ = writeln!(
            out,
            "{name},total,,{},{},{}",
            v.reached, v.notifications, v.matches
        );
        let slices = (v.per_store.iter().map(|s| ("store", s)))
            .chain(v.per_hour.iter().map(|h| ("hour", h)));
        for (kind, s) in slices {
            let _ = writeln!(
                out,
                "{name},{kind},{},{},{},{}",
                field(&s.label),
                s.reached,
                s.notifications,
                s.matches
            );
        }
    }
    out
}
