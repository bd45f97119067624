//! Replay checkpoints on the engine's side: a copy of the engine's state at a position of
//! the dump, and when to take the next one.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use crate::engine::notify::Notifier;
use crate::engine::time_buffer::CHUNK;
use crate::engine::Pipeline;

/// The engine thread's state at a position of a replay, to resume from.
#[derive(Debug)]
pub struct LiveCheckpoint {
    /// Records taken before it: the replay resumes at this index of the dump.
    pub records_pushed: u64,
    /// The seek target of the run that took it: its pings and matches before this minus a
    /// minute never reached the map, so it serves seeks to this time or later only.
    pub quiet_before_ms: Option<i64>,
    /// Engine time spent on the records before it, from the start of the dump: where it
    /// sits on the axis of re-run cost.
    pub work: Duration,
    pub(super) pipeline: Pipeline,
    pub(super) notifier: Notifier,
}

impl LiveCheckpoint {
    /// An empty engine state at a position (tests of what keeps checkpoints).
    #[cfg(test)]
    pub(crate) fn empty_at(
        records_pushed: u64,
        quiet_before_ms: Option<i64>,
        work: Duration,
    ) -> Self {
        Self {
            records_pushed,
            quiet_before_ms,
            work,
            pipeline: Pipeline::new(crate::engine::PipelineParams::default()),
            notifier: Notifier::new(Default::default(), 100.0, 3281.0),
        }
    }

    /// A rough size of what it holds on its own, for the checkpoint budget. The buffered
    /// records sit in chunks shared with the running engine and the other checkpoints
    /// (see [`crate::engine::time_buffer`]); its own are the chunk pointers, the buffers'
    /// tables, and the half-full last chunk of each buffer the engine copies when it
    /// appends next. The notifier's state and the join's uid table are copied whole.
    pub fn estimated_bytes(&self) -> u64 {
        let s = self.pipeline.state_size();
        let entries = s.promotion_join + s.customers + s.valid_promotion_entries;
        let half_chunk_bytes = (CHUNK / 2 * 64) as u64;
        (entries / CHUNK * 16) as u64
            + s.buffers as u64 * (96 + half_chunk_bytes)
            + crate::engine::customer_ids::estimated_bytes(s.customer_ids)
            + self.notifier.estimated_bytes()
    }
}

/// How the engine of a replay starts and when it takes checkpoints.
#[derive(Clone, Debug, Default)]
pub struct ReplayStart {
    /// Resume from this checkpoint instead of an empty pipeline.
    pub resume: Option<Arc<LiveCheckpoint>>,
    /// See [`super::LiveCommand::QuietBefore`].
    pub quiet_before_ms: Option<i64>,
    /// Take a checkpoint after this many records (0: never) or this much engine time since
    /// the last one, whichever comes first (outputs per record vary a thousandfold between
    /// dumps, so records alone would space them badly) …
    pub checkpoint_every: u64,
    pub checkpoint_work: Duration,
    /// … counting from these positions too (the console has as good a one there already).
    pub have: Vec<u64>,
}

/// When the engine of a replay takes its next checkpoint.
#[derive(Debug)]
pub(super) struct CheckpointSpacing {
    every_records: u64,
    every_work: Duration,
    had: BTreeSet<u64>,
    /// Records and engine time since the last checkpoint (taken or had).
    since: (u64, Duration),
    /// Engine time spent pushing records since the start of the source.
    pub(super) work: Duration,
}

impl CheckpointSpacing {
    /// `None` when the replay takes no checkpoints.
    pub(super) fn new(start: &ReplayStart, work: Duration) -> Option<CheckpointSpacing> {
        (start.checkpoint_every > 0).then(|| CheckpointSpacing {
            every_records: start.checkpoint_every,
            every_work: start.checkpoint_work,
            had: start.have.iter().copied().collect(),
            since: (0, Duration::ZERO),
            work,
        })
    }

    /// Whether to take one before the record at position `at`.
    pub(super) fn due(&mut self, at: u64) -> bool {
        if at == 0 {
            return false;
        }
        if self.had.contains(&at) {
            self.since = (0, Duration::ZERO);
            return false;
        }
        let (records, work) = self.since;
        if records < self.every_records && work < self.every_work {
            return false;
        }
        self.since = (0, Duration::ZERO);
        true
    }

    /// A record took `spent` of engine time.
    pub(super) fn pushed(&mut self, spent: Duration) {
        self.since.0 += 1;
        self.since.1 += spent;
        self.work += spent;
    }
}
