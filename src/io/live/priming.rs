//! Recent inputs the engine keeps so that a parameter change applies at once: the rebuilt
//! joins are primed with them and the map shows the new radius without waiting for traffic.
//!
//! They reach back two windows of each join, hours of traffic: a chain of a thousand stores
//! sends millions of pings an hour, so under a state-memory budget they take at most half of
//! it, newest kept. A change then primes from a shorter past, and the console says how far
//! back it reaches.

use std::collections::VecDeque;

use crate::engine::{InputValue, PipelineParams, Topic};

/// What one kept input costs: the entry itself; its texts (uid, country, segment) are shared
/// with the engine's.
const ENTRY_BYTES: usize = std::mem::size_of::<(Topic, i64, InputValue)>();

/// Inputs in arrival order, no older than any future in-order output can involve, and no
/// more than the budget allows.
#[derive(Debug, Default)]
pub(super) struct KeptInputs {
    inputs: VecDeque<(Topic, i64, InputValue)>,
    /// Whether the budget has made inputs go before the windows would have.
    cut_for_memory: bool,
}

impl KeptInputs {
    pub(super) fn push(&mut self, topic: Topic, timestamp_ms: i64, value: &InputValue) {
        self.inputs.push_back((topic, timestamp_ms, value.clone()));
    }

    /// Drops what `params` can no longer join at stream time `now_ms` (any future output of
    /// in-order data involves inputs no older than 2·promotion window + 2·customer window),
    /// then the oldest beyond half the state-memory budget.
    pub(super) fn expire(&mut self, now_ms: i64, params: &PipelineParams) {
        let horizon = now_ms - 2 * (params.promotion_window_ms + params.customer_window_ms);
        while self.inputs.front().is_some_and(|(_, ts, _)| *ts < horizon) {
            self.inputs.pop_front();
        }
        if let Some(most) = Self::most(params) {
            if self.inputs.len() > most {
                let excess = self.inputs.len() - most;
                self.inputs.drain(..excess);
                self.cut_for_memory = true;
            }
        }
    }

    /// How many inputs half the budget holds (`None`: no budget).
    fn most(params: &PipelineParams) -> Option<usize> {
        let budget = params.state_memory_bytes?;
        Some(usize::try_from(budget / 2).unwrap_or(usize::MAX) / ENTRY_BYTES)
    }

    pub(super) fn len(&self) -> usize {
        self.inputs.len()
    }

    /// The oldest kept input's time, when the budget has made inputs go early: a parameter
    /// change primes the joins from there only.
    pub(super) fn reach_ms(&self) -> Option<i64> {
        let oldest = self.inputs.front().map(|(_, ts, _)| *ts);
        oldest.filter(|_| self.cut_for_memory)
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = (Topic, i64, InputValue)> + '_ {
        self.inputs.iter().cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::record::Customer;

    fn ping() -> InputValue {
        InputValue::Customer(Customer::default())
    }

    #[test]
    fn without_a_budget_only_the_windows_let_inputs_go() {
        let params = PipelineParams::default();
        let mut kept = KeptInputs::default();
        for ts in 0..1_000 {
            kept.push(Topic::CustomersLocations, ts, &ping());
        }
        kept.expire(999, &params);
        assert_eq!(kept.len(), 1_000);
        assert_eq!(kept.reach_ms(), None);
        let horizon = 2 * (params.promotion_window_ms + params.customer_window_ms);
        kept.expire(horizon + 500, &params);
        assert_eq!(kept.len(), 500, "older than two windows of each join");
        assert_eq!(kept.reach_ms(), None, "the windows, not the budget");
    }

    #[test]
    fn a_budget_keeps_the_newest_inputs_in_half_of_it_and_says_from_when() {
        let params = PipelineParams {
            state_memory_bytes: Some(200 * ENTRY_BYTES as u64),
            ..PipelineParams::default()
        };
        let mut kept = KeptInputs::default();
        for ts in 0..1_000 {
            kept.push(Topic::CustomersLocations, ts, &ping());
            kept.expire(ts, &params);
            assert!(kept.len() <= 100);
        }
        assert_eq!(kept.len(), 100);
        assert_eq!(kept.reach_ms(), Some(900), "the newest hundred");
        let times: Vec<i64> = kept.iter().map(|(_, ts, _)| ts).collect();
        assert_eq!(times, (900..1_000).collect::<Vec<_>>());
    }
}
