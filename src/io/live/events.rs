//! What the engine thread tells the console: the records it took, what they matched, and its
//! counters. Plain data; the console's model is built from these alone.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::engine::notify::{HeldBack, Notification};
use crate::engine::promotion_join::ValidPromotion;
use crate::engine::record::{Customer, Product, Promotion};
use crate::engine::{MemoryShed, PipelineStats, StateSize};

use super::checkpoint::LiveCheckpoint;
use super::recording::RecordingStatus;
use super::LiveSettings;

/// The nearest match of one ping (a ping may match many valid promotions; the map draws one
/// line, the counters count all).
#[derive(Clone, Debug)]
pub struct PingMatch {
    pub timestamp_ms: i64,
    pub customer: Arc<Customer>,
    pub nearest: Arc<ValidPromotion>,
    pub dist_to_store_ft: f64,
    /// NEARBY_CUSTOMERS records this ping produced.
    pub records: u64,
}

/// Counters and state the status panels show.
#[derive(Clone, Debug, Default)]
pub struct LiveStats {
    pub pipeline: PipelineStats,
    pub state: StateSize,
    pub stream_time_ms: Option<i64>,
    pub nearby_records: u64,
    pub notifications: u64,
    /// NEARBY_CUSTOMERS records that made the notifications.
    pub notifying: u64,
    /// NEARBY_CUSTOMERS records the notification rules held back, by why.
    pub held_back: HeldBack,
    /// Inputs kept to prime the joins after a parameter change.
    pub kept_inputs: usize,
    /// The oldest kept input's time, when the state-memory budget cut them short.
    pub kept_inputs_reach_ms: Option<i64>,
    /// What the state-memory budget has cost the joins, once their state outgrew it.
    pub memory_shed: Option<MemoryShed>,
    /// Records the engine has taken from the bus.
    pub records_pushed: u64,
    /// The last or current recording.
    pub recording: Option<RecordingStatus>,
    /// Display events merged away while the console was slower than the stream (a shopper's
    /// older pings, older matches): the engine counted them all, the map skipped them.
    pub display_events_merged: u64,
}

/// NEARBY_CUSTOMERS records per (minute start, segment).
pub type MatchesPerMinute = BTreeMap<(i64, Arc<str>), u64>;

/// One thing the UI should know.
#[derive(Clone, Debug)]
pub enum LiveEvent {
    Product {
        timestamp_ms: i64,
        product: Arc<Product>,
    },
    Promotion {
        timestamp_ms: i64,
        offset: i64,
        promotion: Arc<Promotion>,
    },
    Ping {
        timestamp_ms: i64,
        customer: Arc<Customer>,
    },
    ValidPromotion(Arc<ValidPromotion>),
    Match(PingMatch),
    Notification(Notification),
    /// NEARBY_CUSTOMERS records per (minute start, segment) since the last batch.
    MatchesPerMinute(MatchesPerMinute),
    Stats(Box<LiveStats>),
    /// The engine runs with these settings now (after priming with `replayed` inputs).
    Applied {
        settings: LiveSettings,
        replayed: usize,
    },
    /// The source closed: nothing more will come.
    SourceClosed,
    /// The engine's state before the record at this position of a replay; the UI pairs it
    /// with its model as of this event, so a seek can resume from here.
    Checkpoint(Arc<LiveCheckpoint>),
}
