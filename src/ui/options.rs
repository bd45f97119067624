//! How the console starts: the chain, the simulator, the source (simulator, dumps or Kafka),
//! the outbox file, tiles, and the UI benchmark.

use std::time::Duration;

use crate::io::chain::Chain;
use crate::io::formats::ValuesOptions;
use crate::io::kafka::client::StartAt;
use crate::io::kafka::config::KafkaConfig;
use crate::io::simulator::SimConfig;

use super::map::tiles::TileChoice;

/// How the console starts.
#[derive(Clone, Debug)]
pub struct ConsoleOptions {
    pub chain: Chain,
    pub sim: SimConfig,
    /// Start the simulator at once (tests may start without a source).
    pub start_simulator: bool,
    /// `--bench-ui`: measure frame CPU time for this long after this warm-up, then close.
    pub bench: Option<(Duration, Duration)>,
    /// Map zoom to start at instead of the store view.
    pub zoom: Option<f64>,
    /// Read a Kafka cluster instead of running the simulator.
    pub kafka: Option<(KafkaConfig, StartAt)>,
    /// Where the promotion outbox is kept (none: in memory only).
    pub outbox_path: Option<std::path::PathBuf>,
    /// Replay these dumps instead of running the simulator.
    pub dumps: Vec<std::path::PathBuf>,
    /// For dumps of plain JSON values: their topic and time field.
    pub values: ValuesOptions,
    /// `--tiles`: the tile source for this run (and the next, as it is saved with the
    /// settings), instead of the one saved.
    pub tiles: Option<TileChoice>,
    /// The list of recordings this installation made (none: no retention check).
    pub recordings_list: Option<std::path::PathBuf>,
    /// Where campaign files live (none: campaigns stay in memory).
    pub campaigns_folder: Option<std::path::PathBuf>,
}

impl ConsoleOptions {
    /// `chain` with the default simulator, nothing started, in-memory outbox.
    pub fn new(chain: Chain) -> Self {
        Self {
            chain,
            sim: SimConfig::default(),
            start_simulator: false,
            bench: None,
            zoom: None,
            kafka: None,
            outbox_path: None,
            dumps: Vec::new(),
            values: ValuesOptions::default(),
            tiles: None,
            recordings_list: None,
            campaigns_folder: None,
        }
    }
}
