//! Kafka through rdkafka (librdkafka 2.12): connection settings and profiles, a producer with
//! delivery accounting, whole-topic readers and topic creation.

pub mod client;
pub mod config;
pub mod input;
pub mod resuming;
pub mod sink;
