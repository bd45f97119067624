//! Checkpoints on the replay timeline: the engine's state and the console's model at record
//! positions of the dump, so going back resumes from the nearest one before the target
//! instead of re-running the dump from its start.
//!
//! They are taken as the replay passes them (the first play, or a fast-forward) and cost
//! memory, so they live under a budget: past it, every other one is dropped and the spacing
//! doubles. Changing a parameter makes them all stale (the run they describe is another).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use crate::io::live::{LiveCheckpoint, LiveSettings};
use crate::io::replay::LoadedDump;

use super::model::LiveModel;

/// At least this many checkpoints over a dump, when memory allows.
const CHECKPOINTS_PER_DUMP: u64 = 32;
/// Closer than this, a checkpoint saves less than it costs to take.
const MIN_SPACING_RECORDS: u64 = 20_000;
/// A checkpoint also after this much engine time, so that a stretch where each record causes
/// hundreds of outputs is split too. Set high: after a checkpoint the engine copies each
/// shopper's cooldown list when it next touches it, which in such stretches (hundreds of
/// promotions per shopper) costs more than a finer spacing saves (BENCHMARKS.md).
const SPACING_WORK: Duration = Duration::from_secs(5);
/// What the checkpoints of one dump may take in memory, estimated.
pub const BUDGET_BYTES: u64 = 256 << 20;

/// The engine's state and the model the console had at the same point of a replay.
#[derive(Clone, Debug)]
pub struct ReplayCheckpoint {
    pub engine: Arc<LiveCheckpoint>,
    pub model: Arc<LiveModel>,
}

impl ReplayCheckpoint {
    pub fn position(&self) -> u64 {
        self.engine.records_pushed
    }

    /// Whether it was taken with less of the map held back than a seek to `target_ms` holds
    /// back (see [`LiveCheckpoint::quiet_before_ms`]).
    fn serves(&self, target_ms: i64) -> bool {
        self.engine.quiet_before_ms.is_none_or(|q| q <= target_ms)
    }

    /// (engine, model) estimates.
    pub fn estimated_bytes_parts(&self) -> (u64, u64) {
        (self.engine.estimated_bytes(), model_bytes(&self.model))
    }

    fn estimated_bytes(&self) -> u64 {
        self.engine.estimated_bytes() + model_bytes(&self.model)
    }
}

/// A rough size of what a model copy holds on its own: shoppers sit inline in their table
/// (trail and all), the feed and match lists are copied.
fn model_bytes(model: &LiveModel) -> u64 {
    let shopper = std::mem::size_of::<(Arc<str>, crate::ui::model::CustomerView)>() + 40;
    (model.customers.len() * shopper
        + model.products.len() * 120
        + model.notifications.len() * 200
        + model.matches.len() * 120
        + model.per_minute.len() * 64) as u64
}

/// The checkpoints of the dump on the timeline, for one set of settings.
#[derive(Debug)]
pub struct Checkpoints {
    settings: LiveSettings,
    every: u64,
    work: Duration,
    by_position: BTreeMap<u64, ReplayCheckpoint>,
    bytes: u64,
    budget_bytes: u64,
}

impl Checkpoints {
    pub fn new(dump_records: usize, settings: LiveSettings) -> Checkpoints {
        Checkpoints::with_budget(dump_records, settings, BUDGET_BYTES)
    }

    pub fn with_budget(dump_records: usize, settings: LiveSettings, budget_bytes: u64) -> Self {
        Checkpoints {
            settings,
            every: (dump_records as u64 / CHECKPOINTS_PER_DUMP).max(MIN_SPACING_RECORDS),
            work: SPACING_WORK,
            by_position: BTreeMap::new(),
            bytes: 0,
            budget_bytes,
        }
    }

    /// Whether they describe runs with these settings.
    pub fn fit(&self, settings: &LiveSettings) -> bool {
        &self.settings == settings
    }

    /// Records between checkpoints, at most.
    pub fn every(&self) -> u64 {
        self.every
    }

    /// Engine time between checkpoints, at most.
    pub fn work(&self) -> Duration {
        self.work
    }

    pub fn len(&self) -> usize {
        self.by_position.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_position.is_empty()
    }

    pub fn estimated_bytes(&self) -> u64 {
        self.bytes
    }

    pub fn iter(&self) -> impl Iterator<Item = &ReplayCheckpoint> {
        self.by_position.values()
    }

    /// Whether `b` is far enough after `a` to be worth keeping both.
    fn spaced(&self, a: &ReplayCheckpoint, b: &ReplayCheckpoint) -> bool {
        b.position().saturating_sub(a.position()) >= self.every
            || b.engine.work.saturating_sub(a.engine.work) >= self.work
    }

    /// Keeps `checkpoint` unless one as good is there or it is too close to the one before,
    /// then keeps within the budget.
    pub fn add(&mut self, checkpoint: ReplayCheckpoint) {
        let at = checkpoint.position();
        if at == 0 {
            return;
        }
        if let Some((_, before)) = self.by_position.range(..at).next_back() {
            if !self.spaced(before, &checkpoint) {
                return;
            }
        }
        let better = match self.by_position.get(&at) {
            None => true,
            Some(old) => match (
                old.engine.quiet_before_ms,
                checkpoint.engine.quiet_before_ms,
            ) {
                (None, _) => false,
                (Some(_), None) => true,
                (Some(o), Some(n)) => n < o,
            },
        };
        if !better {
            return;
        }
        let bytes = checkpoint.estimated_bytes();
        if let Some(old) = self.by_position.insert(at, checkpoint) {
            self.bytes -= old.estimated_bytes();
        }
        self.bytes += bytes;
        while self.bytes > self.budget_bytes && self.by_position.len() > 1 {
            self.thin();
        }
    }

    /// Doubles the spacing (later runs take them half as often) and keeps, from the start,
    /// each checkpoint far enough after the last one kept.
    fn thin(&mut self) {
        self.every = self.every.saturating_mul(2);
        self.work = self.work.saturating_mul(2);
        let all = std::mem::take(&mut self.by_position);
        self.bytes = 0;
        let mut last: Option<ReplayCheckpoint> = None;
        for (at, c) in all {
            if last.as_ref().is_none_or(|l| self.spaced(l, &c)) {
                self.bytes += c.estimated_bytes();
                last = Some(c.clone());
                self.by_position.insert(at, c);
            }
        }
    }

    /// The latest checkpoint a seek to `target_ms` can resume from: every record before it
    /// is at or before the target (the dump is in timestamp order).
    pub fn best_for(&self, dump: &LoadedDump, target_ms: i64) -> Option<&ReplayCheckpoint> {
        self.by_position.values().rev().find(|c| {
            let position = c.position() as usize;
            let before_target = position >= dump.records.len()
                || dump.records.timestamp_ms(position).unwrap_or(i64::MIN) <= target_ms;
            before_target && c.serves(target_ms)
        })
    }

    /// Positions a run seeking to `quiet_before_ms` need not take again.
    pub fn had(&self, quiet_before_ms: Option<i64>) -> Vec<u64> {
        self.by_position
            .values()
            .filter(|c| match (c.engine.quiet_before_ms, quiet_before_ms) {
                (None, _) => true,
                (Some(_), None) => false,
                (Some(o), Some(n)) => o <= n,
            })
            .map(ReplayCheckpoint::position)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::PipelineParams;
    use crate::io::bus::BusRecord;
    use crate::io::replay_records::ReplayRecords;

    fn settings() -> LiveSettings {
        LiveSettings {
            params: PipelineParams::default(),
            notify: Default::default(),
        }
    }

    fn at(position: u64, quiet: Option<i64>, work_ms: u64) -> ReplayCheckpoint {
        ReplayCheckpoint {
            engine: Arc::new(LiveCheckpoint::empty_at(
                position,
                quiet,
                Duration::from_millis(work_ms),
            )),
            model: Arc::new(model_with_shoppers(10)),
        }
    }

    /// A model of some size (the budget counts shoppers).
    fn model_with_shoppers(n: usize) -> LiveModel {
        let mut model = LiveModel::default();
        for i in 0..n {
            let uid: Arc<str> = Arc::from(format!("c{i}"));
            let view = crate::ui::model::CustomerView {
                uid: Arc::clone(&uid),
                country: None,
                trail: Default::default(),
                last_match: None,
            };
            model.customers.insert(uid, view);
        }
        model
    }

    /// A dump whose record i has timestamp i seconds.
    fn dump(records: usize) -> LoadedDump {
        LoadedDump {
            files: Vec::new(),
            records: ReplayRecords::from_kept(
                (0..records)
                    .map(|i| BusRecord {
                        timestamp_ms: Some(i as i64 * 1_000),
                        ..BusRecord::default()
                    })
                    .collect(),
            ),
            broken_count: 0,
            broken: Vec::new(),
        }
    }

    fn positions(c: &Checkpoints) -> Vec<u64> {
        c.iter().map(ReplayCheckpoint::position).collect()
    }

    #[test]
    fn keeps_spaced_checkpoints_and_the_better_of_two_at_one_place() {
        let mut c = Checkpoints::new(1_000_000, settings());
        assert_eq!(c.every(), 31_250);
        c.add(at(0, None, 0)); // the start needs none
        c.add(at(31_250, None, 10));
        c.add(at(40_000, None, 20)); // too close in records and in work
        c.add(at(45_000, None, 6_000)); // close in records, far in work
        c.add(at(31_250, Some(5), 10)); // one taken while seeking is no better
        assert_eq!(positions(&c), [31_250, 45_000]);
        c.add(at(100_000, Some(9), 7_000));
        c.add(at(100_000, None, 7_000)); // a complete one replaces it
        let third = c.iter().nth(2).expect("third");
        assert_eq!(third.engine.quiet_before_ms, None);
        assert!(c.fit(&settings()));
        let other = LiveSettings {
            notify: crate::engine::notify::NotifyParams {
                cooldown_ms: 1,
                ..Default::default()
            },
            ..settings()
        };
        assert!(!c.fit(&other));
    }

    #[test]
    fn over_the_budget_the_spacing_doubles_and_some_are_dropped() {
        let one = at(20_000, None, 0).estimated_bytes();
        assert!(one > 0);
        let mut c = Checkpoints::with_budget(0, settings(), one * 3);
        assert_eq!(c.every(), MIN_SPACING_RECORDS);
        for k in 1..=8 {
            c.add(at(k * 20_000, None, 0));
        }
        // 20k..60k fit; 80k overflows: every 40k keeps 20k and 60k; 100k fits again, 120k is
        // too close, 140k overflows: every 80k keeps 20k and 100k; 160k is too close.
        assert_eq!(positions(&c), [20_000, 100_000]);
        assert_eq!(c.every(), 80_000);
        assert_eq!(c.estimated_bytes(), 2 * one);
    }

    #[test]
    fn a_seek_resumes_from_the_latest_one_before_it_that_held_back_no_more() {
        let d = dump(200_000);
        let mut c = Checkpoints::new(d.records.len(), settings());
        c.add(at(20_000, None, 0));
        c.add(at(40_000, None, 0));
        // Taken while seeking to t = 100 000 s: pings before then never reached the model.
        c.add(at(80_000, Some(100_000_000), 0));
        let best = |t_s: i64| c.best_for(&d, t_s * 1_000).map(ReplayCheckpoint::position);
        assert_eq!(best(10_000), None);
        assert_eq!(best(30_000), Some(20_000));
        assert_eq!(best(90_000), Some(40_000));
        assert_eq!(best(150_000), Some(80_000));
        assert_eq!(c.had(None), [20_000, 40_000]);
        assert_eq!(c.had(Some(150_000_000)), [20_000, 40_000, 80_000]);
    }
}
