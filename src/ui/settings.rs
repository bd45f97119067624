//! What the console remembers between runs (eframe storage): layout choices, the last store,
//! layers, pipeline parameters, the notification rule, the simulator speed, the tile source and
//! promotion drafts. Never secrets: Kafka credentials stay in their profile files.

use serde::{Deserialize, Serialize};

use crate::engine::notify::NotifyParams;
use crate::engine::PipelineParams;

use super::map::tiles::TileChoice;
use super::promotion_editor::PromotionDraft;

/// Which map layers are drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Layers {
    pub footprints: bool,
    pub products: bool,
    pub rings: bool,
    pub customers: bool,
    pub trails: bool,
    pub matches: bool,
}

impl Default for Layers {
    fn default() -> Self {
        Self {
            footprints: true,
            products: true,
            rings: true,
            customers: true,
            trails: true,
            matches: true,
        }
    }
}

/// The persisted part of the console.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ConsoleSettings {
    pub params: PipelineParams,
    /// Which matches notify a shopper.
    pub notify: NotifyParams,
    pub layers: Layers,
    /// Store id the map was last on.
    pub store_id: Option<String>,
    /// Simulator speed (simulated seconds per wall second).
    pub sim_speed: f64,
    pub tiles: TileChoice,
    pub draft: PromotionDraft,
    pub show_left_panel: bool,
    pub show_right_panel: bool,
    /// Recording limits last used.
    pub record_max_mb: u64,
    pub record_max_minutes: u64,
    /// The Kafka cluster last connected to: bootstrap servers and a profile name, never a
    /// secret (those stay in the profile file or the environment).
    pub kafka_bootstrap: String,
    pub kafka_profile: String,
    /// Recordings and the feed CSV carry shoppers' raw uids instead of pseudonyms.
    pub raw_uids: bool,
    /// Offer to delete recordings older than this many days.
    pub retention_days: u32,
    /// A budget for the joins' state, in MB (0: none). A console is left running on a
    /// screen: with ksqlDB's default grace the joins keep a day of pings, which a chain of
    /// hundreds of stores turns into gigabytes. Kept apart from `params`, which the reset
    /// returns to the original pipeline's: the budget is the machine's limit, not the
    /// pipeline's meaning.
    pub state_memory_mb: u64,
}

/// The console's state-memory budget unless the operator sets another.
pub const DEFAULT_STATE_MEMORY_MB: u64 = 1_000;

impl ConsoleSettings {
    /// The pipeline parameters the engine runs with: the editable ones and the budget.
    pub fn pipeline_params(&self) -> PipelineParams {
        PipelineParams {
            state_memory_bytes: (self.state_memory_mb > 0)
                .then(|| self.state_memory_mb.saturating_mul(1_000_000)),
            ..self.params.clone()
        }
    }
}

impl Default for ConsoleSettings {
    fn default() -> Self {
        Self {
            params: PipelineParams::default(),
            notify: NotifyParams::default(),
            layers: Layers::default(),
            store_id: None,
            sim_speed: 1.0,
            tiles: TileChoice::default(),
            draft: PromotionDraft::default(),
            show_left_panel: true,
            show_right_panel: true,
            record_max_mb: 500,
            record_max_minutes: 60,
            kafka_bootstrap: "localhost:9092".into(),
            kafka_profile: String::new(),
            raw_uids: false,
            retention_days: 30,
            state_memory_mb: DEFAULT_STATE_MEMORY_MB,
        }
    }
}

/// The eframe storage key.
pub const STORAGE_KEY: &str = "instore.console";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_round_trip_and_old_files_fill_in_defaults() {
        let mut s = ConsoleSettings::default();
        s.params.radius_ft = 50.0;
        s.layers.trails = false;
        s.store_id = Some("NYC-CHELSEA".into());
        let text = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<ConsoleSettings>(&text).unwrap(), s);
        let partial: ConsoleSettings =
            serde_json::from_str(r#"{"notify": {"rule": "enter"}}"#).unwrap();
        assert_eq!(
            partial.notify.rule,
            crate::engine::notify::NotifyRule::Enter
        );
        assert_eq!(
            partial.notify.cap_per_hour,
            NotifyParams::default().cap_per_hour
        );
        assert_eq!(partial.layers, Layers::default());
        assert_eq!(
            partial.pipeline_params().state_memory_bytes,
            Some(DEFAULT_STATE_MEMORY_MB * 1_000_000),
            "a settings file from before the budget gets the default one"
        );
        let unbounded = ConsoleSettings {
            state_memory_mb: 0,
            ..ConsoleSettings::default()
        };
        assert_eq!(unbounded.pipeline_params().state_memory_bytes, None);
        let text = serde_json::to_string(&ConsoleSettings::default())
            .unwrap()
            .to_lowercase();
        for secret in ["password", "secret", "sasl"] {
            assert!(!text.contains(secret), "{secret} in persisted settings");
        }
    }
}
