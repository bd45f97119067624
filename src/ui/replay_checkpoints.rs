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

/// A rough size of what a model copy holds on its own: shoppers are shared with the live
/// model until they move (then copied, trail and all), so count their table and their
/// views once over.
fn model_bytes(model: &LiveModel) -> u64 {
    let trails: usize = model.customers.values().map(|c| c.trail.len()).sum();
    (model.customers.len() * 150
        + trails * 24
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
            let next = dump.records.get(c.position() as usize);
            let before_target =
                next.is_none_or(|r| r.timestamp_ms.unwrap_or(i64::MIN) <= target_ms);
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
