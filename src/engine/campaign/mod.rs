//! Campaigns: what marketing staff design instead of single promotion records — promotions,
//! stores, a schedule, a radius, a notification rule and a budget — and what the engine needs
//! from one: the promotion records to announce and when ([`announcements`]), the gate its
//! matches and notifications pass ([`gate`]), and the forecast of its reach ([`forecast`]).
//!
//! In the original semantics a promotion only applies to product records within the
//! VALID_PROMOTIONS window (1 hour) of it, so a campaign running all day is announced again
//! every `reannounce_every_min` minutes under the same pid; each announcement's `valid_until`
//! is the end of the interval it belongs to, which ends its notifications on time.
//!
//! The file is JSON (the README documents it; `assets/campaigns/` has an example). Unknown
//! fields are refused, so a misspelt `budjet` is an error rather than no budget.

pub mod forecast;
pub mod gate;
pub mod near;
pub mod schedule;

use serde::{Deserialize, Serialize};

use super::notify::NotifyParams;
use super::params::PromotionMatchKey;
use super::promotion_record::PromotionRecord;
use super::rfc3339::format_rfc3339_ms;
pub use schedule::{DailyHours, Interval, ResolvedSchedule, Schedule};

/// At most this many variants run side by side (the console's charts stay readable).
pub const MAX_VARIANTS: usize = 4;
/// Default re-announcement period: before the 1-hour VALID_PROMOTIONS window of the last
/// announcement lapses, so every product record refreshed in between joins one. Each
/// announcement in a window adds a valid promotion per product (and a match per ping near
/// it), so announcing more often only multiplies the matches.
pub const DEFAULT_REANNOUNCE_MIN: u32 = 50;

/// Why a campaign cannot be used, in words an operator can act on.
#[derive(Debug, thiserror::Error)]
pub enum CampaignError {
    #[error("schedule: {0}")]
    Schedule(String),
    #[error("{0}")]
    Invalid(String),
    #[error("not a campaign file: {0}")]
    Json(#[from] serde_json::Error),
}

/// A campaign file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Campaign {
    pub name: String,
    pub promotions: Vec<CampaignPromotion>,
    /// Chain store names or derived site labels ("AUS 1"); empty: every store.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stores: Vec<String>,
    pub schedule: Schedule,
    #[serde(default = "default_radius_ft")]
    pub radius_ft: f64,
    /// Which products a promotion applies to; absent: the pipeline's (by segment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_key: Option<PromotionMatchKey>,
    /// The notification rule (absent fields take the rule's defaults).
    #[serde(default)]
    pub notify: NotifyParams,
    /// At most this many notifications over the whole campaign; absent: no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget: Option<u64>,
    #[serde(default = "default_reannounce_min")]
    pub reannounce_every_min: u32,
    /// Alternatives to forecast side by side (each changes some fields of the campaign).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub variants: Vec<VariantChanges>,
}

fn default_radius_ft() -> f64 {
    100.0
}

fn default_reannounce_min() -> u32 {
    DEFAULT_REANNOUNCE_MIN
}

/// One promotion of a campaign.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CampaignPromotion {
    /// Absent: the campaign's name as a slug and the promotion's number (`coffee-week-1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<String>,
    /// Absent: the whole segment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<i64>,
    pub segment: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discount_pct: Option<u8>,
    /// MESSAGE template of its notifications (fields in braces, as `--message`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// What a variant changes; absent fields keep the campaign's.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VariantChanges {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub radius_ft: Option<f64>,
    /// Every promotion's discount.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discount_pct: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_key: Option<PromotionMatchKey>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify: Option<NotifyParams>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stores: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget: Option<u64>,
}

/// A variant with everything resolved: what one forecast or run uses.
#[derive(Clone, Debug, PartialEq)]
pub struct CampaignVariant {
    pub name: String,
    pub radius_ft: f64,
    pub match_key: Option<PromotionMatchKey>,
    pub notify: NotifyParams,
    pub stores: Vec<String>,
    pub budget: Option<u64>,
    pub promotions: Vec<CampaignPromotion>,
}

/// A promotion record to publish at a time.
#[derive(Clone, Debug, PartialEq)]
pub struct Announcement {
    pub at_ms: i64,
    /// Index into the campaign's promotions.
    pub promotion: usize,
    pub record: PromotionRecord,
}

/// Where a campaign stands, for the console's list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CampaignState {
    /// Not started by the operator.
    Draft,
    /// Started; its first interval is still to come.
    Scheduled,
    Running,
    Ended,
}

impl CampaignState {
    pub fn name(self) -> &'static str {
        match self {
            CampaignState::Draft => "draft",
            CampaignState::Scheduled => "scheduled",
            CampaignState::Running => "running",
            CampaignState::Ended => "ended",
        }
    }

    /// The state at `now_ms` of a campaign the operator has (or has not) started.
    pub fn at(started: bool, schedule: &ResolvedSchedule, now_ms: i64) -> CampaignState {
        if !started {
            CampaignState::Draft
        } else if now_ms >= schedule.end_ms() {
            CampaignState::Ended
        } else if now_ms < schedule.start_ms() {
            CampaignState::Scheduled
        } else {
            CampaignState::Running
        }
    }
}

/// `Coffee week!` → `coffee-week`.
pub fn slug(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    if out.is_empty() {
        "campaign".to_owned()
    } else {
        out
    }
}

impl Campaign {
    /// Reads and checks a campaign file's text.
    pub fn from_json(text: &str) -> Result<Campaign, CampaignError> {
        let campaign: Campaign = serde_json::from_str(text)?;
        campaign.check()?;
        Ok(campaign)
    }

    /// The file's text (pretty, stable field order: diffs of a campaign read well).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Every problem that would make the campaign misbehave, the first one reported.
    pub fn check(&self) -> Result<ResolvedSchedule, CampaignError> {
        let invalid = |m: String| Err(CampaignError::Invalid(m));
        if self.name.trim().is_empty() {
            return invalid("the campaign needs a name".into());
        }
        if self.promotions.is_empty() {
            return invalid("the campaign has no promotions".into());
        }
        let mut pids = Vec::new();
        for (i, p) in self.promotions.iter().enumerate() {
            if p.segment.trim().is_empty() {
                return invalid(format!(
                    "promotion {}: a segment is required (promotions match products by segment)",
                    i + 1
                ));
            }
            if p.discount_pct.is_some_and(|d| d > 100) {
                return invalid(format!("promotion {}: discount above 100 %", i + 1));
            }
            let pid = self.pid(i);
            if pids.contains(&pid) {
                return invalid(format!("promotion {}: pid {pid:?} is used twice", i + 1));
            }
            pids.push(pid);
        }
        check_radius(self.radius_ft, "radius_ft")?;
        if self.reannounce_every_min == 0 {
            return invalid("reannounce_every_min must be at least 1".into());
        }
        if self.variants.len() > MAX_VARIANTS {
            return invalid(format!(
                "{} variants: at most {MAX_VARIANTS} run side by side",
                self.variants.len()
            ));
        }
        for (i, v) in self.variants.iter().enumerate() {
            if v.name.trim().is_empty() {
                return invalid(format!("variant {} needs a name", i + 1));
            }
            if self.variants[..i].iter().any(|o| o.name == v.name) {
                return invalid(format!("two variants are named {:?}", v.name));
            }
            if let Some(r) = v.radius_ft {
                check_radius(r, &format!("variant {:?}: radius_ft", v.name))?;
            }
            if v.discount_pct.is_some_and(|d| d > 100) {
                return invalid(format!("variant {:?}: discount above 100 %", v.name));
            }
        }
        self.schedule.resolve()
    }

    /// The pid promotion `i` is announced under.
    pub fn pid(&self, i: usize) -> String {
        match self.promotions.get(i).and_then(|p| p.pid.as_deref()) {
            Some(pid) if !pid.trim().is_empty() => pid.trim().to_owned(),
            _ => format!("{}-{}", slug(&self.name), i + 1),
        }
    }

    /// The campaign as written, then each variant; as written alone when it has none.
    pub fn variants(&self) -> Vec<CampaignVariant> {
        let base = CampaignVariant {
            name: if self.variants.is_empty() {
                self.name.clone()
            } else {
                "as written".to_owned()
            },
            radius_ft: self.radius_ft,
            match_key: self.match_key,
            notify: self.notify.clone(),
            stores: self.stores.clone(),
            budget: self.budget,
            promotions: (0..self.promotions.len())
                .map(|i| CampaignPromotion {
                    pid: Some(self.pid(i)),
                    ..self.promotions[i].clone()
                })
                .collect(),
        };
        if self.variants.is_empty() {
            return vec![base];
        }
        let mut out = Vec::with_capacity(self.variants.len());
        for v in &self.variants {
            let mut variant = CampaignVariant {
                name: v.name.clone(),
                ..base.clone()
            };
            if let Some(r) = v.radius_ft {
                variant.radius_ft = r;
            }
            if let Some(d) = v.discount_pct {
                for p in &mut variant.promotions {
                    p.discount_pct = Some(d);
                }
            }
            if v.match_key.is_some() {
                variant.match_key = v.match_key;
            }
            if let Some(n) = &v.notify {
                variant.notify = n.clone();
            }
            if let Some(s) = &v.stores {
                variant.stores = s.clone();
            }
            if v.budget.is_some() {
                variant.budget = v.budget;
            }
            out.push(variant);
        }
        out
    }

    /// The first variant: the campaign as it runs.
    pub fn as_written(&self) -> CampaignVariant {
        let mut v = self.clone();
        v.variants.clear();
        v.variants().remove(0)
    }
}

fn check_radius(radius_ft: f64, what: &str) -> Result<(), CampaignError> {
    if radius_ft.is_finite() && radius_ft > 0.0 {
        Ok(())
    } else {
        Err(CampaignError::Invalid(format!(
            "{what} must be a positive number of feet"
        )))
    }
}

/// Every promotion record `variant` publishes on `schedule`, in time order (ties in the
/// campaign's order): one per promotion at each interval's start, then again every
/// `every_ms` while the interval lasts. Each carries its interval's end as `valid_until`.
pub fn announcements(
    variant: &CampaignVariant,
    schedule: &ResolvedSchedule,
    every_ms: i64,
) -> Vec<Announcement> {
    let every_ms = every_ms.max(1);
    let mut out = Vec::new();
    for interval in schedule.intervals() {
        let valid_until = format_rfc3339_ms(interval.end_ms);
        let mut at_ms = interval.start_ms;
        while at_ms < interval.end_ms {
            for (i, p) in variant.promotions.iter().enumerate() {
                out.push(Announcement {
                    at_ms,
                    promotion: i,
                    record: PromotionRecord {
                        pid: p.pid.clone().unwrap_or_default(),
                        sku: p.sku,
                        segment: p.segment.trim().to_owned(),
                        title: p.title.clone(),
                        discount_pct: p.discount_pct,
                        valid_until: Some(valid_until.clone()),
                    },
                });
            }
            at_ms = at_ms.saturating_add(every_ms);
        }
    }
    out
}

impl Campaign {
    pub fn reannounce_every_ms(&self) -> i64 {
        i64::from(self.reannounce_every_min) * 60_000
    }
}

#[cfg(test)]
mod tests;
