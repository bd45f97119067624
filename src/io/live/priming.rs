//! Recent inputs the engine keeps so that a parameter change applies at once: the rebuilt
//! joins are primed with them and the map shows the new radius without waiting for traffic.

use std::collections::VecDeque;

use crate::engine::{InputValue, PipelineParams, Topic};

/// Inputs in arrival order, no older than any future in-order output can involve.
#[derive(Debug, Default)]
pub(super) struct KeptInputs {
    inputs: VecDeque<(Topic, i64, InputValue)>,
}

impl KeptInputs {
    pub(super) fn push(&mut self, topic: Topic, timestamp_ms: i64, value: &InputValue) {
        self.inputs.push_back((topic, timestamp_ms, value.clone()));
    }

    /// Drops what `params` can no longer join at stream time `now_ms`: any future output of
    /// in-order data involves inputs no older than 2·promotion window + 2·customer window.
    pub(super) fn expire(&mut self, now_ms: i64, params: &PipelineParams) {
        let horizon = now_ms - 2 * (params.promotion_window_ms + params.customer_window_ms);
        while self.inputs.front().is_some_and(|(_, ts, _)| *ts < horizon) {
            self.inputs.pop_front();
        }
    }

    pub(super) fn len(&self) -> usize {
        self.inputs.len()
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = (Topic, i64, InputValue)> + '_ {
        self.inputs.iter().cloned()
    }
}
