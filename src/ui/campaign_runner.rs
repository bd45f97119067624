//! Running campaigns: each started campaign's announcements, fixed when it starts, handed to
//! the outbox as the source's clock reaches their times — with those times as their
//! timestamps, so a promotion is announced exactly as planned even when a frame comes late.
//! The outbox then delivers them (acknowledged, retried, kept across restarts); what was
//! handed over is saved here on every change, so a restarted console goes on where it was and
//! sends what fell due while it was closed, each at its planned time.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::engine::campaign::{announcements, Announcement, Campaign, CampaignState};
use crate::engine::promotion_record::PromotionRecord;

/// A started campaign.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunningCampaign {
    /// The campaign as it was started (later edits of its file do not change a run).
    pub campaign: Campaign,
    /// Announcements handed to the outbox so far, in plan order.
    pub sent: usize,
    #[serde(skip)]
    plan: Vec<Announcement>,
}

impl RunningCampaign {
    fn new(campaign: Campaign) -> RunningCampaign {
        let mut run = RunningCampaign {
            campaign,
            sent: 0,
            plan: Vec::new(),
        };
        run.plan = run.make_plan();
        run
    }

    fn make_plan(&self) -> Vec<Announcement> {
        match self.campaign.check() {
            Ok(schedule) => announcements(
                &self.campaign.as_written(),
                &schedule,
                self.campaign.reannounce_every_ms(),
            ),
            Err(_) => Vec::new(),
        }
    }

    /// Every announcement of the run, in time order.
    pub fn plan(&self) -> &[Announcement] {
        &self.plan
    }

    /// The next announcement's time, if any is left.
    pub fn next_at_ms(&self) -> Option<i64> {
        self.plan.get(self.sent).map(|a| a.at_ms)
    }
}

#[derive(Serialize, Deserialize)]
struct Saved {
    running: Vec<RunningCampaign>,
}

/// The started campaigns.
#[derive(Debug, Default)]
pub struct CampaignRunner {
    pub running: Vec<RunningCampaign>,
    /// Where the runs are kept (none: in memory, as in tests).
    path: Option<PathBuf>,
    pub save_error: Option<String>,
}

impl CampaignRunner {
    /// The runs kept at `path`.
    pub fn open(path: Option<PathBuf>) -> CampaignRunner {
        let mut runner = CampaignRunner {
            path,
            ..CampaignRunner::default()
        };
        let Some(path) = runner.path.clone() else {
            return runner;
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => match serde_json::from_str::<Saved>(&text) {
                Ok(saved) => {
                    runner.running = saved.running;
                    for run in &mut runner.running {
                        run.plan = run.make_plan();
                    }
                }
                Err(e) => {
                    runner.save_error = Some(format!("{} is unreadable: {e}", path.display()))
                }
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => runner.save_error = Some(format!("cannot read {}: {e}", path.display())),
        }
        runner
    }

    fn save(&mut self) {
        let Some(path) = &self.path else { return };
        let text = serde_json::to_string_pretty(&Saved {
            running: self.running.clone(),
        })
        .unwrap_or_default();
        let written = path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(path, text));
        self.save_error = written
            .err()
            .map(|e| format!("cannot save {}: {e}", path.display()));
    }

    pub fn get(&self, name: &str) -> Option<&RunningCampaign> {
        self.running.iter().find(|r| r.campaign.name == name)
    }

    /// Starts `campaign`: its plan is fixed now.
    pub fn start(&mut self, campaign: Campaign) -> Result<(), String> {
        campaign.check().map_err(|e| e.to_string())?;
        if self.get(&campaign.name).is_some() {
            return Err(format!("{:?} is already running", campaign.name));
        }
        self.running.push(RunningCampaign::new(campaign));
        self.save();
        Ok(())
    }

    /// Stops a run: nothing more of it is announced (what was announced stays valid until
    /// its `valid_until`).
    pub fn stop(&mut self, name: &str) {
        self.running.retain(|r| r.campaign.name != name);
        self.save();
    }

    /// The announcements due by `now_ms` on the source's clock: each record, its planned
    /// time, and whether it is the promotion's first.
    pub fn due(&mut self, now_ms: i64) -> Vec<(PromotionRecord, i64, bool)> {
        let mut out = Vec::new();
        for run in &mut self.running {
            let promotions = run.campaign.promotions.len();
            while let Some(a) = run.plan.get(run.sent) {
                if a.at_ms > now_ms {
                    break;
                }
                out.push((a.record.clone(), a.at_ms, run.sent < promotions));
                run.sent += 1;
            }
        }
        if !out.is_empty() {
            self.save();
        }
        out
    }

    /// Where a campaign stands at `now_ms`.
    pub fn state(&self, campaign: &Campaign, now_ms: i64) -> Option<CampaignState> {
        let schedule = campaign.check().ok()?;
        let started = self.get(&campaign.name).is_some();
        Some(CampaignState::at(started, &schedule, now_ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn campaign() -> Campaign {
        let mut c = crate::ui::campaign_book::new_campaign(1, "SegmentA");
        c.schedule.start = "2026-12-07T09:00".into();
        c.schedule.end = "2026-12-08T09:00".into();
        c
    }

    #[test]
    fn announcements_go_out_as_the_clock_reaches_them_and_a_restart_goes_on() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("running.json");
        let mut runner = CampaignRunner::open(Some(path.clone()));
        runner.start(campaign()).expect("started");
        assert!(runner.start(campaign()).is_err(), "once");
        let plan: Vec<i64> = runner.running[0].plan().iter().map(|a| a.at_ms).collect();
        // 09:00–20:00 at 50 minutes: 14 announcements.
        assert_eq!(plan.len(), 14);
        let start = plan[0];
        assert!(runner.due(start - 1).is_empty());
        let first = runner.due(start + 60 * 60_000);
        assert_eq!(
            first.iter().map(|(_, at, _)| *at).collect::<Vec<_>>(),
            plan[..2]
        );
        assert_eq!(first[0].0.pid, "campaign-1-1");
        assert_eq!(
            (first[0].2, first[1].2),
            (true, false),
            "announced, then again"
        );
        let mut again = CampaignRunner::open(Some(path));
        assert_eq!(again.running[0].sent, 2);
        let rest = again.due(i64::MAX);
        assert_eq!(
            rest.iter().map(|(_, at, _)| *at).collect::<Vec<_>>(),
            plan[2..]
        );
        assert_eq!(again.running[0].next_at_ms(), None);
        let c = campaign();
        assert_eq!(again.state(&c, start - 1), Some(CampaignState::Scheduled));
        again.stop(&c.name);
        assert_eq!(again.state(&c, start), Some(CampaignState::Draft));
    }
}
