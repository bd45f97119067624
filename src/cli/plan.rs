//! `instore plan`: a campaign's reach forecast on recorded traffic, headless — a table on
//! standard output, and the report as JSON and CSV for the people who decide.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::Context as _;

use super::params::ParamArgs;
use crate::engine::campaign::Campaign;
use crate::io::chain::Chain;
use crate::io::plan::{
    forecast, report_csv, PlanProgress, PlanReport, PlanSetup, PlanTraffic, Shift,
};

#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    /// The campaign file (JSON; the README documents it, assets/campaigns/ has an example).
    #[arg(long, value_name = "FILE")]
    pub campaign: PathBuf,
    /// Recorded traffic: kcat -J dumps (plain or gzip), read in the order given.
    #[arg(long, short, value_name = "DUMP", required = true)]
    pub input: Vec<PathBuf>,
    /// Write the forecast as JSON (counts only, no shopper's uid).
    #[arg(long, value_name = "OUT")]
    pub report: Option<PathBuf>,
    /// Write the forecast's tables as CSV.
    #[arg(long, value_name = "OUT")]
    pub csv: Option<PathBuf>,
    /// Where the schedule lies on the traffic: `auto` moves it by whole days onto the
    /// traffic's first day when the traffic does not begin inside it; `none`; or a number of
    /// days.
    #[arg(long, default_value = "auto", value_name = "auto|none|DAYS")]
    pub shift: Shift,
    /// Store layouts (GeoJSON; default: the built-in chain).
    #[arg(long, value_name = "FILE")]
    pub chain: Option<PathBuf>,
    /// The pipeline's other parameters (the campaign sets the radius and match key).
    #[command(flatten)]
    pub params: ParamArgs,
}

pub fn plan(args: &PlanArgs) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&args.campaign)
        .with_context(|| format!("cannot read the campaign {}", args.campaign.display()))?;
    let campaign = Campaign::from_json(&text)
        .with_context(|| format!("bad campaign {}", args.campaign.display()))?;
    let chain = match &args.chain {
        Some(path) => Chain::load(path)?,
        None => Chain::builtin()?,
    };
    let setup = PlanSetup {
        campaign,
        traffic: PlanTraffic::Dumps(args.input.clone()),
        params: args.params.resolve()?,
        chain,
        shift: args.shift,
    };
    let started = std::time::Instant::now();
    let report = forecast(&setup, &PlanProgress::default())?;
    let secs = started.elapsed().as_secs_f64();
    print!("{}", format_report(&report));
    println!(
        "{} variant(s) over {} records in {secs:.2} s",
        report.variants.len(),
        report.input_records
    );
    if let Some(path) = &args.report {
        let json = serde_json::to_string_pretty(&report)?;
        std::fs::write(path, json + "\n")
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if let Some(path) = &args.csv {
        std::fs::write(path, report_csv(&report))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// The forecast as a table for a terminal: the variants side by side, then each one's
/// busiest stores.
pub fn format_report(r: &PlanReport) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "campaign {:?} on traffic from {} to {}",
        r.campaign, r.traffic_from, r.traffic_to
    );
    if r.schedule_shift_days != 0 {
        let _ = writeln!(
            s,
            "schedule moved {} days to lie on the traffic: {} – {}",
            r.schedule_shift_days, r.schedule_start, r.schedule_end
        );
    } else {
        let _ = writeln!(s, "schedule {} – {}", r.schedule_start, r.schedule_end);
    }
    let _ = writeln!(
        s,
        "{} of {} announcements fell within the traffic; its own {} promotion records were left out",
        r.announced, r.announcements, r.input_promotions_left_out
    );
    if r.announced == 0 {
        let _ = writeln!(
            s,
            "no announcement fell within the traffic: pick traffic recorded during the campaign's hours, or move the schedule with --shift"
        );
    }
    let _ = writeln!(
        s,
        "{:<24}{:>9}{:>14}{:>12}{:>12}{:>10}{:>18}",
        "variant", "reached", "notifications", "matches", "near miss", "radius", "budget used"
    );
    for v in &r.variants {
        let budget = match (v.budget, v.budget_used_pct) {
            (Some(b), Some(pct)) => format!("{pct:.1} % of {b}"),
            _ => "no budget".to_owned(),
        };
        let _ = writeln!(
            s,
            "{:<24}{:>9}{:>14}{:>12}{:>12}{:>7.0} ft{:>18}",
            v.name, v.reached, v.notifications, v.matches, v.near_missed, v.radius_ft, budget
        );
    }
    for v in &r.variants {
        let _ = writeln!(s, "{}: busiest stores", v.name);
        for store in v.per_store.iter().take(5) {
            let label = if store.label.is_empty() {
                "(no store)"
            } else {
                &store.label
            };
            let _ = writeln!(
                s,
                "  {label:<30}{:>7} reached{:>8} notifications{:>10} matches",
                store.reached, store.notifications, store.matches
            );
        }
    }
    s
}
