//! The streaming join engine: pure, deterministic, driven only by record timestamps.
//!
//! No tokio, rdkafka, egui, clock or file IO in here: records in, outputs out. Adapters in
//! [`crate::io`] feed it from dumps, the simulator or Kafka; the console draws what it emits.

pub mod campaign;
pub mod customer_ids;
pub mod decimal;
#[cfg(test)]
mod equivalence_tests;
pub mod geo;
mod in_place_value;
pub mod json;
pub mod json_object;
pub mod nearby_join;
pub mod notification_record;
pub mod notify;
pub mod output;
pub mod params;
pub mod pipeline;
#[cfg(test)]
mod pipeline_tests;
pub mod promotion_join;
pub mod promotion_record;
pub mod pseudonym;
pub mod record;
pub mod reference;
pub mod reject;
pub mod rfc3339;
pub mod shared_text;
pub mod sites;
pub mod spatial;
pub mod sql;
pub mod time_buffer;
pub mod topic;
pub mod unit_vector;
pub mod window;

pub use decimal::{Decimal5, DecimalPolicy};
pub use geo::LatLon;
pub use output::Output;
pub use params::{PipelineParams, PromotionMatchKey};
pub use pipeline::{MemoryShed, Pipeline, PipelineStats, StateSize, TopicCounters};
pub use record::{Customer, InputValue, Product, Promotion};
pub use reject::{RejectLedger, RejectReason};
pub use topic::{Origin, Payload, RawRecord, Topic};
