//! Adapters between the engine and the world: dump files now; the simulator, the in-process
//! bus and Kafka as they land.

pub mod dump;
pub mod workload;
