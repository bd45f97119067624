//! The engine facade: raw records in, VALID_PROMOTIONS and NEARBY_CUSTOMERS out, every
//! refusal and late record counted.

use std::borrow::Cow;
use std::sync::Arc;

use super::nearby_join::NearbyJoin;
use super::output::Output;
use super::params::{PipelineParams, PromotionMatchKey};
use super::promotion_join::{Arrival, PromotionJoin, ValidPromotion};
use super::record::{decode_payload, InputValue, ValueLayouts};
use super::reject::{RejectLedger, RejectReason, RejectedSample};
use super::shared_text::SharedTexts;
use super::topic::{RawRecord, Topic};

/// Counters of one topic.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TopicCounters {
    /// Records that arrived on the topic (for output topics: records the engine emitted).
    pub records: u64,
    pub rejected: u64,
    /// Arrived older than stream time − (2·WITHIN + grace).
    pub late: u64,
    /// Taken (as ksqlDB takes them) but never able to reach a shopper: a NULL in a column the
    /// joins need (see [`join_columns`]). Another retailer's field names (`lat` for
    /// `latitude`) show up here, not as rejections.
    pub unmatchable: u64,
}

/// The columns a record of input `topic` needs non-NULL to ever reach a shopper, for the
/// operator: what an unmatchable record lacks.
pub fn join_columns(topic: Topic, match_key: PromotionMatchKey) -> &'static str {
    use PromotionMatchKey::{Segment, Sku, SkuOrSegment};
    match (topic, match_key) {
        (Topic::CustomersLocations, _) => "COUNTRY, LATITUDE, LONGITUDE",
        (Topic::StoresProducts, Segment) => "SEGMENT, COUNTRY, LATITUDE, LONGITUDE",
        (Topic::StoresProducts, Sku) => "SKU, COUNTRY, LATITUDE, LONGITUDE",
        (Topic::StoresProducts, SkuOrSegment) => "SKU or SEGMENT, COUNTRY, LATITUDE, LONGITUDE",
        (_, Segment) => "SEGMENT",
        (_, Sku) => "SKU",
        (_, SkuOrSegment) => "SKU or SEGMENT",
    }
}

/// Whether a product or promotion with this SKU and segment has no key to join on.
fn keyless(match_key: PromotionMatchKey, sku: Option<i64>, segment: bool) -> bool {
    match match_key {
        PromotionMatchKey::Segment => !segment,
        PromotionMatchKey::Sku => sku.is_none(),
        PromotionMatchKey::SkuOrSegment => sku.is_none() && !segment,
    }
}

/// A product or promotion taken by join 1 that can never reach a shopper is unmatchable (a
/// ping's join says so itself).
fn unless_unmatchable(arrival: Arrival, unmatchable: bool) -> Arrival {
    if unmatchable && arrival == Arrival::Accepted {
        Arrival::Unmatchable
    } else {
        arrival
    }
}

/// What the engine has seen and done so far.
#[derive(Clone, Debug, Default)]
pub struct PipelineStats {
    topics: [TopicCounters; Topic::ALL.len()],
    pub rejects: RejectLedger,
}

impl PipelineStats {
    pub fn topic(&self, topic: Topic) -> &TopicCounters {
        &self.topics[topic.index()]
    }

    fn topic_mut(&mut self, topic: Topic) -> &mut TopicCounters {
        &mut self.topics[topic.index()]
    }
}

/// How much the joins hold (the operator's "state size").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StateSize {
    /// Products and promotions buffered by join 1.
    pub promotion_join: usize,
    /// Pings buffered by join 2.
    pub customers: usize,
    /// Valid-promotion entries buffered by join 2 (each record sits in every cell its
    /// geofence reaches: up to 8 entries).
    pub valid_promotion_entries: usize,
    /// Time buffers (keys and cells) holding them.
    pub buffers: usize,
    /// Shoppers' uids the buffered pings refer to (one table entry each).
    pub customer_ids: usize,
}

/// What the state-memory budget has cost so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryShed {
    pub budget_bytes: u64,
    /// Stream time when the state first outgrew the budget.
    pub first_at_ms: i64,
    /// How much of the past the NEARBY_CUSTOMERS join kept at the last shedding (stream time
    /// minus the oldest record it still joins), against 2·WITHIN + grace without a budget.
    pub kept_ms: i64,
    /// Records older than this are late since the last shedding.
    pub floor_ms: i64,
    /// Times the oldest state was given up.
    pub sheddings: u64,
}

/// Outputs a caller of [`Pipeline::push_observed_in_parts`] takes at a time (a few MB).
pub const PART_OUTPUTS: usize = 1 << 16;

/// Takes a part of a record's outputs, in order.
type TakePart<'a> = &'a mut dyn FnMut(&mut Vec<Output>);

/// Hands `out` to `part`, emptied after, once it holds a part's worth.
fn hand_over_full_part(out: &mut Vec<Output>, part: TakePart<'_>) {
    if out.len() >= PART_OUTPUTS {
        part(out);
        out.clear();
    }
}

/// Records pushed between two looks at the state's size (a look walks the cells).
const MEMORY_CHECK_EVERY: u32 = 4096;
/// Shedding leaves the state at this share of the budget, so it does not shed again at once.
const SHED_TO: f64 = 0.8;

/// The two joins of the original pipeline, chained.
#[derive(Clone, Debug)]
pub struct Pipeline {
    params: PipelineParams,
    promotion_join: PromotionJoin,
    nearby_join: NearbyJoin,
    stats: PipelineStats,
    /// Why the last refused record was refused (a dead-letter queue labels records with it).
    last_rejection: Option<RejectReason>,
    /// Decoded texts shared from record to record.
    texts: SharedTexts,
    /// How each topic's values were last laid out.
    layouts: ValueLayouts,
    /// Reused per record so the hot path does not allocate output vectors.
    valid_scratch: Vec<ValidPromotion>,
    pushes_since_memory_check: u32,
    memory_shed: Option<MemoryShed>,
}

impl Pipeline {
    pub fn new(params: PipelineParams) -> Self {
        Self {
            promotion_join: PromotionJoin::new(params.promotion_window(), params.match_key),
            nearby_join: NearbyJoin::new(&params),
            params,
            stats: PipelineStats::default(),
            last_rejection: None,
            valid_scratch: Vec::new(),
            texts: SharedTexts::new(),
            layouts: ValueLayouts::default(),
            pushes_since_memory_check: 0,
            memory_shed: None,
        }
    }

    /// The VALID_PROMOTIONS join 2 still holds, as outputs, oldest first: what a member that
    /// becomes the writer of VALID_PROMOTIONS writes again (repeats carry the same ids).
    pub fn buffered_valid_promotions(&self) -> Vec<Output> {
        self.nearby_join
            .valid_promotions()
            .into_iter()
            .map(Output::ValidPromotion)
            .collect()
    }

    /// What the state-memory budget has cost, once the state outgrew it.
    pub fn memory_shed(&self) -> Option<MemoryShed> {
        self.memory_shed
    }

    /// Holds the NEARBY_CUSTOMERS join to the budget: when its state is past it, gives up the
    /// oldest records (pings and valid promotions alike) until it is at [`SHED_TO`] of it,
    /// assuming the state is spread evenly over time, and a few more steps when it is not.
    fn keep_to_memory_budget(&mut self) {
        let Some(budget) = self.params.state_memory_bytes else {
            return;
        };
        self.pushes_since_memory_check += 1;
        if self.pushes_since_memory_check < MEMORY_CHECK_EVERY {
            return;
        }
        self.pushes_since_memory_check = 0;
        let Some(now) = self.nearby_join.stream_time_ms() else {
            return;
        };
        let mut bytes = self.nearby_join.estimated_state_bytes();
        if bytes <= budget {
            return;
        }
        for _ in 0..4 {
            let kept_ms = now.saturating_sub(self.nearby_join.cutoff_ms()).max(1);
            let share = (budget as f64 * SHED_TO / bytes as f64).min(0.9);
            let keep_ms = (kept_ms as f64 * share) as i64;
            self.nearby_join.shed_before(now.saturating_sub(keep_ms));
            let floor_ms = self.nearby_join.cutoff_ms();
            let sheddings = self.memory_shed.map_or(0, |m| m.sheddings);
            self.memory_shed = Some(MemoryShed {
                budget_bytes: budget,
                first_at_ms: self.memory_shed.map_or(now, |m| m.first_at_ms),
                kept_ms: now.saturating_sub(floor_ms),
                floor_ms,
                sheddings: sheddings + 1,
            });
            bytes = self.nearby_join.estimated_state_bytes();
            if bytes as f64 <= budget as f64 * SHED_TO || keep_ms <= 1 {
                break;
            }
        }
    }

    /// A copy to resume from later (the replay timeline's checkpoints), without the buffered
    /// records no later input can join: when every record still to come has a timestamp
    /// ≥ `next_ts_ms` (a replay runs in timestamp order), a join only looks back its window
    /// from there, so older entries are dead weight. Counters and stream times are kept
    /// whole, so resuming the copy gives the outputs and counts the original would have.
    pub fn checkpoint(&self, next_ts_ms: Option<i64>) -> Pipeline {
        let mut copy = self.clone();
        copy.valid_scratch = Vec::new();
        if let Some(next) = next_ts_ms {
            let promotion_join_from = next.saturating_sub(copy.promotion_join.within_ms());
            copy.promotion_join.forget_before(promotion_join_from);
            let nearby_join_from = next.saturating_sub(copy.nearby_join.within_ms());
            copy.nearby_join.forget_before(nearby_join_from);
        }
        copy
    }

    pub fn params(&self) -> &PipelineParams {
        &self.params
    }

    pub fn stats(&self) -> &PipelineStats {
        &self.stats
    }

    pub fn state_size(&self) -> StateSize {
        let (customers, valid_promotion_entries) = self.nearby_join.buffered();
        StateSize {
            promotion_join: self.promotion_join.buffered(),
            customers,
            valid_promotion_entries,
            buffers: self.promotion_join.buffer_count() + self.nearby_join.buffer_count(),
            customer_ids: self.nearby_join.customer_id_count(),
        }
    }

    /// Why the most recently refused record was refused.
    pub fn last_rejection(&self) -> Option<RejectReason> {
        self.last_rejection
    }

    /// The highest input timestamp either join has seen.
    pub fn stream_time_ms(&self) -> Option<i64> {
        self.promotion_join
            .stream_time_ms()
            .max(self.nearby_join.stream_time_ms())
    }

    /// Feeds one record; appends what it causes to `out`, in emission order.
    pub fn push(&mut self, record: &RawRecord<'_>, out: &mut Vec<Output>) {
        self.push_observed(record, out, |_, _, _| {});
    }

    /// [`Pipeline::push`], showing `observe` each value the engine accepts (topic, timestamp,
    /// decoded value) before it joins: the console draws from what the engine decoded, so the
    /// map never shows a record the engine refused.
    pub fn push_observed(
        &mut self,
        record: &RawRecord<'_>,
        out: &mut Vec<Output>,
        observe: impl FnOnce(Topic, i64, &InputValue),
    ) {
        self.push_observed_parts(record, out, observe, None);
    }

    /// [`Pipeline::push_observed`] for a caller that must not hold a whole record's outputs:
    /// each time `out` (empty at the start) holds [`PART_OUTPUTS`] or more, at the end of a
    /// valid promotion's matches, `part` takes them and `out` is emptied. A promotion
    /// arriving in a chain of hundreds of stores matches every buffered ping by every shelf
    /// of its segment: tens of millions of records. What is left at the end stays in `out`.
    pub fn push_observed_in_parts(
        &mut self,
        record: &RawRecord<'_>,
        out: &mut Vec<Output>,
        observe: impl FnOnce(Topic, i64, &InputValue),
        part: &mut dyn FnMut(&mut Vec<Output>),
    ) {
        self.push_observed_parts(record, out, observe, Some(part));
    }

    fn push_observed_parts(
        &mut self,
        record: &RawRecord<'_>,
        out: &mut Vec<Output>,
        observe: impl FnOnce(Topic, i64, &InputValue),
        part: Option<TakePart<'_>>,
    ) {
        let topic = match Topic::from_name(&record.topic) {
            Some(topic) if topic.is_input() => topic,
            _ => {
                self.reject(&record.topic, None, record, RejectReason::NotAnInputTopic);
                return;
            }
        };
        self.stats.topic_mut(topic).records += 1;
        let Some(ts_ms) = record.timestamp_ms.filter(|ts| *ts >= 0) else {
            self.reject(topic.name(), Some(topic), record, RejectReason::NoTimestamp);
            return;
        };
        let Some(payload) = record.payload.as_ref() else {
            self.reject(topic.name(), Some(topic), record, RejectReason::NullValue);
            return;
        };
        let policy = self.params.decimal_policy;
        let value = match decode_payload(topic, payload, policy, &mut self.texts, &mut self.layouts)
        {
            Ok(value) => value.from_origin(record.origin()),
            Err(reason) => {
                self.reject(topic.name(), Some(topic), record, reason);
                return;
            }
        };
        observe(topic, ts_ms, &value);
        self.push_value_parts(topic, ts_ms, value, out, part);
    }

    /// Changes the parameters of a running pipeline: new joins built with `params`, primed with
    /// `replay` (the recent inputs the caller kept) so they hold what they would hold had they
    /// run from the start. The counters go on from where they were; the replayed records are
    /// not counted again. What the replay emits goes to `part` in parts of about
    /// [`PART_OUTPUTS`], in order (a console takes the VALID_PROMOTIONS to redraw rings and
    /// leaves the NEARBY_CUSTOMERS already shown): hours of a large chain's inputs emit far
    /// more than fits in memory at once.
    pub fn reconfigure(
        &mut self,
        params: PipelineParams,
        replay: impl IntoIterator<Item = (Topic, i64, InputValue)>,
        part: &mut dyn FnMut(&mut Vec<Output>),
    ) {
        let stats = std::mem::take(&mut self.stats);
        *self = Pipeline::new(params);
        let mut out = Vec::new();
        for (topic, ts_ms, value) in replay {
            self.push_value_parts(topic, ts_ms, value, &mut out, Some(&mut *part));
            hand_over_full_part(&mut out, part);
        }
        if !out.is_empty() {
            part(&mut out);
        }
        self.stats = stats;
    }

    /// Feeds a value already decoded (the simulator and the bus skip JSON entirely).
    pub fn push_value(
        &mut self,
        topic: Topic,
        ts_ms: i64,
        value: InputValue,
        out: &mut Vec<Output>,
    ) {
        self.push_value_parts(topic, ts_ms, value, out, None);
    }

    fn push_value_parts(
        &mut self,
        topic: Topic,
        ts_ms: i64,
        value: InputValue,
        out: &mut Vec<Output>,
        part: Option<TakePart<'_>>,
    ) {
        let mut valid = std::mem::take(&mut self.valid_scratch);
        let before = out.len();
        let key = self.params.match_key;
        let arrival = match value {
            InputValue::Customer(c) => self.nearby_join.push_customer(ts_ms, c, out),
            InputValue::Product(p) => {
                let unmatchable = keyless(key, p.sku, p.segment.is_some())
                    || p.country.is_none()
                    || p.position().is_none();
                let arrival = (self.promotion_join).push_product(ts_ms, Arc::new(p), &mut valid);
                unless_unmatchable(arrival, unmatchable)
            }
            InputValue::Promotion(p) => {
                let unmatchable = keyless(key, p.sku, p.segment.is_some());
                let arrival = (self.promotion_join).push_promotion(ts_ms, Arc::new(p), &mut valid);
                unless_unmatchable(arrival, unmatchable)
            }
        };
        match arrival {
            Arrival::Accepted => {}
            Arrival::Late => self.stats.topic_mut(topic).late += 1,
            Arrival::Unmatchable => self.stats.topic_mut(topic).unmatchable += 1,
        }
        self.stats.topic_mut(Topic::NearbyCustomers).records += (out.len() - before) as u64;
        self.emit(&mut valid, out, part);
        self.valid_scratch = valid;
        self.keep_to_memory_budget();
    }

    /// Moves join 1's outputs into join 2 and into `out`, each followed by the
    /// NEARBY_CUSTOMERS it makes; hands `out` to `part` whenever it holds a part's worth.
    fn emit(
        &mut self,
        valid: &mut Vec<ValidPromotion>,
        out: &mut Vec<Output>,
        mut part: Option<TakePart<'_>>,
    ) {
        for v in valid.drain(..) {
            let v = Arc::new(v);
            self.stats.topic_mut(Topic::ValidPromotions).records += 1;
            out.push(Output::ValidPromotion(Arc::clone(&v)));
            let before = out.len();
            if self.nearby_join.push_valid_promotion(v, out) == Arrival::Late {
                self.stats.topic_mut(Topic::ValidPromotions).late += 1;
            }
            self.stats.topic_mut(Topic::NearbyCustomers).records += (out.len() - before) as u64;
            if let Some(part) = part.as_deref_mut() {
                hand_over_full_part(out, part);
            }
        }
    }

    fn reject(
        &mut self,
        topic_name: &str,
        topic: Option<Topic>,
        record: &RawRecord<'_>,
        reason: RejectReason,
    ) {
        self.last_rejection = Some(reason);
        if let Some(topic) = topic {
            self.stats.topic_mut(topic).rejected += 1;
        }
        self.stats
            .rejects
            .record(topic_name, reason, || RejectedSample {
                partition: record.partition,
                offset: record.offset,
                timestamp_ms: record.timestamp_ms,
                raw: record
                    .payload_text()
                    .map_or_else(|| "null".to_owned(), Cow::into_owned),
            });
    }

    /// Counts `n` more broken dump lines whose text the source did not keep.
    pub fn count_broken_lines_unsampled(&mut self, n: u64) {
        self.stats
            .rejects
            .record_many("(dump)", RejectReason::BrokenLine, n);
    }

    /// Counts a line a source could not even read as a record (a broken dump line).
    pub fn count_broken_line(&mut self, line_number: u64, line: &str) {
        self.stats
            .rejects
            .record("(dump)", RejectReason::BrokenLine, || RejectedSample {
                partition: -1,
                offset: line_number as i64,
                timestamp_ms: None,
                raw: line.to_owned(),
            });
    }
}
