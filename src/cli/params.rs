//! Pipeline parameters on the command line, over an optional JSON file, over the defaults.

use std::path::PathBuf;

use anyhow::Context as _;

use super::duration::parse_duration_ms;
use crate::engine::{DecimalPolicy, PipelineParams, PromotionMatchKey};

#[derive(Debug, Default, clap::Args)]
pub struct ParamArgs {
    /// Parameters as JSON (any subset of the fields; flags below win).
    #[arg(long, value_name = "FILE")]
    pub params: Option<PathBuf>,
    /// DECIMAL(10,5) policy: `strict` rejects > 5 decimals like ksqlDB, `round` rounds half-up.
    #[arg(long, value_name = "strict|round")]
    pub decimals: Option<DecimalPolicy>,
    /// Geofence radius in feet (default 100).
    #[arg(long, value_name = "FEET")]
    pub radius_ft: Option<f64>,
    /// Which products a promotion applies to.
    #[arg(long, value_name = "segment|sku|sku_or_segment")]
    pub match_key: Option<PromotionMatchKey>,
    /// VALID_PROMOTIONS window (default 1h).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration_ms)]
    pub promotion_window: Option<i64>,
    /// NEARBY_CUSTOMERS window (default 30m).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration_ms)]
    pub customer_window: Option<i64>,
    /// Join 1 grace (default max(24h − 2·window, 0)).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration_ms)]
    pub promotion_grace: Option<i64>,
    /// Join 2 grace (default max(24h − 2·window, 0)).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration_ms)]
    pub customer_grace: Option<i64>,
}

impl ParamArgs {
    /// The parameters these arguments describe.
    pub fn resolve(&self) -> anyhow::Result<PipelineParams> {
        let mut params = match &self.params {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read parameters {}", path.display()))?;
                serde_json::from_str(&text)
                    .with_context(|| format!("bad parameters in {}", path.display()))?
            }
            None => PipelineParams::default(),
        };
        if let Some(v) = self.decimals {
            params.decimal_policy = v;
        }
        if let Some(v) = self.radius_ft {
            params.radius_ft = v;
        }
        if let Some(v) = self.match_key {
            params.match_key = v;
        }
        if let Some(v) = self.promotion_window {
            params.promotion_window_ms = v;
        }
        if let Some(v) = self.customer_window {
            params.customer_window_ms = v;
        }
        if let Some(v) = self.promotion_grace {
            params.promotion_grace_ms = Some(v);
        }
        if let Some(v) = self.customer_grace {
            params.customer_grace_ms = Some(v);
        }
        anyhow::ensure!(
            params.radius_ft.is_finite() && params.radius_ft >= 0.0,
            "radius must be a finite number of feet ≥ 0"
        );
        anyhow::ensure!(
            params.km_to_ft.is_finite() && params.km_to_ft > 0.0,
            "km_to_ft must be a positive number"
        );
        anyhow::ensure!(
            params.promotion_window_ms >= 0 && params.customer_window_ms >= 0,
            "windows must not be negative"
        );
        Ok(params)
    }
}
