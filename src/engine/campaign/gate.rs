//! What a campaign lets through of a run: matches in its stores and within its radius, then
//! notifications while its budget lasts.

/// Where a NEARBY_CUSTOMERS record stands for a campaign.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatchVerdict {
    /// Within the radius, in one of its stores: a match of the campaign.
    Match,
    /// In one of its stores, beyond the radius (a forecast's near miss).
    Near,
    /// At a product in a store the campaign does not run in.
    OtherStore,
}

/// What the gate held back over a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GateCounts {
    pub matches: u64,
    pub near: u64,
    pub other_store: u64,
    pub notifications: u64,
    /// Notifications the rules let through after the budget was spent.
    pub over_budget: u64,
}

#[derive(Clone, Debug)]
pub struct CampaignGate {
    radius_ft: f64,
    /// Empty: every store.
    stores: Vec<String>,
    budget: Option<u64>,
    counts: GateCounts,
}

impl CampaignGate {
    pub fn new(radius_ft: f64, stores: &[String], budget: Option<u64>) -> CampaignGate {
        CampaignGate {
            radius_ft,
            stores: stores.iter().map(|s| s.trim().to_owned()).collect(),
            budget,
            counts: GateCounts::default(),
        }
    }

    pub fn radius_ft(&self) -> f64 {
        self.radius_ft
    }

    pub fn budget(&self) -> Option<u64> {
        self.budget
    }

    /// Whether the campaign runs in `store` (a chain store's name or a site's label).
    pub fn runs_in(&self, store: &str) -> bool {
        self.stores.is_empty() || self.stores.iter().any(|s| s == store)
    }

    /// Judges a match at `dist_ft` at a product in a store the campaign does (or does not)
    /// run in; the radius compares like the join's (`≤`).
    pub fn judge_match(&mut self, runs_in_store: bool, dist_ft: f64) -> MatchVerdict {
        if !runs_in_store {
            self.counts.other_store += 1;
            MatchVerdict::OtherStore
        } else if dist_ft <= self.radius_ft {
            self.counts.matches += 1;
            MatchVerdict::Match
        } else {
            self.counts.near += 1;
            MatchVerdict::Near
        }
    }

    /// Whether a notification the rules let through is sent: until the budget is spent.
    pub fn admit_notification(&mut self) -> bool {
        if self
            .budget
            .is_some_and(|limit| self.counts.notifications >= limit)
        {
            self.counts.over_budget += 1;
            return false;
        }
        self.counts.notifications += 1;
        true
    }

    pub fn counts(&self) -> GateCounts {
        self.counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_radius_is_inclusive_and_other_stores_are_counted_apart() {
        let mut gate = CampaignGate::new(100.0, &["Loop ".to_owned()], None);
        assert!(gate.runs_in("Loop"));
        assert!(!gate.runs_in("Harbor"));
        assert!(!gate.runs_in(""));
        assert_eq!(gate.judge_match(true, 100.0), MatchVerdict::Match);
        assert_eq!(gate.judge_match(true, 100.000_001), MatchVerdict::Near);
        assert_eq!(gate.judge_match(false, 3.0), MatchVerdict::OtherStore);
        let c = gate.counts();
        assert_eq!((c.matches, c.near, c.other_store), (1, 1, 1));
        let everywhere = CampaignGate::new(50.0, &[], None);
        assert!(everywhere.runs_in(""));
    }

    #[test]
    fn the_budget_admits_exactly_its_number_then_counts_the_rest() {
        let mut gate = CampaignGate::new(100.0, &[], Some(2));
        assert!(gate.admit_notification());
        assert!(gate.admit_notification());
        assert!(!gate.admit_notification());
        assert!(!gate.admit_notification());
        assert_eq!(gate.counts().notifications, 2);
        assert_eq!(gate.counts().over_budget, 2);
        let mut zero = CampaignGate::new(100.0, &[], Some(0));
        assert!(!zero.admit_notification());
        let mut unlimited = CampaignGate::new(100.0, &[], None);
        assert!((0..1000).all(|_| unlimited.admit_notification()));
    }
}
