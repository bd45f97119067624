//! Kafka through rdkafka (librdkafka 2.12), the only place its types appear:
//! - [`config`]: connection settings and profiles; [`client`]: what every client shares;
//! - [`admin`]: topic creation and the cluster check; [`producer`]: delivery accounting;
//! - [`input`]: the one way the commands and the console read, over [`resuming`] and
//!   [`readers`];
//! - [`outputs`]: `instore run -b`'s outputs and dead letters; [`feed`] and [`sink`]: the
//!   console's reading thread and its promotions.

pub mod admin;
pub mod client;
pub mod config;
pub mod feed;
pub mod input;
pub mod outputs;
pub mod producer;
pub mod readers;
pub mod resuming;
pub mod sink;
