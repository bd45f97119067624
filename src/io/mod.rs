//! Adapters between the engine and the world: dump files, the store simulator and its chain
//! file, the in-process bus; Kafka as it lands.

pub mod ably_connector;
pub mod bus;
pub mod campaign;
pub mod chain;
pub mod dump;
pub mod folders;
pub mod formats;
pub mod kafka;
pub mod live;
pub mod plan;
pub mod pseudonym_key;
pub mod recordings;
pub mod replay;
pub mod replay_records;
pub mod run_loop;
pub mod sim_feed;
pub mod simulator;
pub mod sink;
pub mod store_names;
pub mod table_files;
pub mod unpacked;
pub mod wake;
pub mod workload;
