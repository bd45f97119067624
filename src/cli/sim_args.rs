//! Simulator options shared by `instore simulate` and `instore run --simulate`.

use std::path::PathBuf;

use super::duration::parse_duration_ms;
use crate::engine::rfc3339::parse_rfc3339_ms;
use crate::io::chain::Chain;
use crate::io::simulator::{SimConfig, SimProfile, Simulator};

#[derive(Debug, clap::Args)]
pub struct SimArgs {
    /// Seed: the same seed and options give the same records, byte for byte.
    #[arg(long, default_value_t = SimConfig::default().seed)]
    pub seed: u64,
    /// Simulated time of the first record (RFC 3339; default 2025-11-26T09:00:00Z).
    #[arg(long, value_name = "TIME", value_parser = parse_rfc3339_ms)]
    pub start: Option<i64>,
    /// Use only the chain's first N stores.
    #[arg(long, value_name = "N")]
    pub stores: Option<usize>,
    /// People in or around each store at any moment.
    #[arg(long, value_name = "N", default_value_t = SimConfig::default().customers_per_store)]
    pub customers: usize,
    /// How often a phone reports its position.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration_ms, default_value = "5s")]
    pub ping_interval: i64,
    /// How often a new promotion starts.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration_ms, default_value = "10m")]
    pub promotion_interval: i64,
    /// How often every product is re-published.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration_ms, default_value = "30m")]
    pub catalog_refresh: i64,
    /// Store layouts (GeoJSON; default: the built-in chain, assets/chain.geojson).
    #[arg(long, value_name = "FILE")]
    pub chain: Option<PathBuf>,
}

/// The same defaults as the flags (for commands that build the options themselves).
impl Default for SimArgs {
    fn default() -> Self {
        let d = SimConfig::default();
        Self {
            seed: d.seed,
            start: None,
            stores: None,
            customers: d.customers_per_store,
            ping_interval: d.ping_interval_ms,
            promotion_interval: d.promotion_interval_ms,
            catalog_refresh: d.catalog_refresh_ms,
            chain: None,
        }
    }
}

impl SimArgs {
    pub fn chain(&self) -> anyhow::Result<Chain> {
        Ok(match &self.chain {
            Some(path) => Chain::load(path)?,
            None => Chain::builtin()?,
        })
    }

    pub fn config(&self, profile: SimProfile) -> anyhow::Result<SimConfig> {
        anyhow::ensure!(self.ping_interval > 0, "--ping-interval must be > 0");
        anyhow::ensure!(
            self.promotion_interval > 0,
            "--promotion-interval must be > 0"
        );
        anyhow::ensure!(self.catalog_refresh > 0, "--catalog-refresh must be > 0");
        anyhow::ensure!(self.stores != Some(0), "--stores must be at least 1");
        Ok(SimConfig {
            profile,
            seed: self.seed,
            start_ms: self.start.unwrap_or(SimConfig::default().start_ms),
            stores: self.stores,
            customers_per_store: self.customers,
            ping_interval_ms: self.ping_interval,
            promotion_interval_ms: self.promotion_interval,
            catalog_refresh_ms: self.catalog_refresh,
            ..SimConfig::default()
        })
    }

    pub fn simulator(&self, profile: SimProfile) -> anyhow::Result<Simulator> {
        Ok(Simulator::new(&self.chain()?, self.config(profile)?))
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    #[derive(clap::Parser)]
    struct Wrapper {
        #[command(flatten)]
        sim: super::SimArgs,
    }

    #[test]
    fn default_matches_the_flags_defaults() {
        let parsed = Wrapper::parse_from(["x"]).sim;
        let d = super::SimArgs::default();
        assert_eq!(
            (
                parsed.seed,
                parsed.customers,
                parsed.ping_interval,
                parsed.promotion_interval,
                parsed.catalog_refresh
            ),
            (
                d.seed,
                d.customers,
                d.ping_interval,
                d.promotion_interval,
                d.catalog_refresh
            )
        );
        assert!(d.config(crate::io::simulator::SimProfile::Store).is_ok());
    }
}
