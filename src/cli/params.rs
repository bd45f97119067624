//! Pipeline parameters on the command line, over an optional JSON file, over the defaults.

use std::path::PathBuf;

use anyhow::Context as _;

use super::duration::parse_duration_ms;
use crate::engine::notification_record::DEFAULT_MESSAGE;
use crate::engine::notify::{NotifyParams, NotifyRule};
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
    /// A budget for the join state (`800MB`, `2GiB`): past it the oldest pings and valid
    /// promotions are given up, as with a smaller customer grace, and the summary says so.
    #[arg(long, value_name = "SIZE", value_parser = parse_size_bytes)]
    pub state_memory: Option<u64>,
}

/// `800MB`, `2GB`, `512MiB`, `2GiB`, `1500000` (bytes); decimal units are powers of 1000.
pub fn parse_size_bytes(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("{s:?}: expected a size like 800MB or 2GiB"))?;
    let scale: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "m" | "mb" => 1e6,
        "g" | "gb" => 1e9,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        other => {
            return Err(format!(
                "{s:?}: unknown unit {other:?} (B, KB, MB, GB, KiB, MiB, GiB)"
            ))
        }
    };
    let bytes = value * scale;
    if !(bytes.is_finite() && bytes >= 1.0 && bytes < u64::MAX as f64) {
        return Err(format!("{s:?}: not a size in bytes"));
    }
    Ok(bytes as u64)
}

impl ParamArgs {
    /// The parameters these arguments describe.
    pub fn resolve(&self) -> anyhow::Result<PipelineParams> {
        let mut params = match &self.params {
            Some(path) => serde_json::from_value(read_params_file(path)?)
                .with_context(|| format!("bad parameters in {}", path.display()))?,
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
        if let Some(v) = self.state_memory {
            params.state_memory_bytes = Some(v);
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

/// A `--params` file as JSON: the pipeline's fields, and the rule's under `notify`.
fn read_params_file(path: &std::path::Path) -> anyhow::Result<serde_json::Value> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read parameters {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("bad parameters in {}", path.display()))
}

/// The notification rule for `instore run --notifications`, over a `notify` object in the
/// `--params` file, over the defaults.
#[derive(Debug, clap::Args)]
pub struct NotifyArgs {
    /// Which matches notify: every (each, as the original), cooldown (once per shopper and
    /// promotion per cooldown), enter (on coming within the radius), dwell (after staying).
    #[arg(long, value_name = "every|cooldown|enter|dwell")]
    pub notify: Option<NotifyRuleArg>,
    /// With cooldown: per shopper and promotion (default 10m).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration_ms)]
    pub cooldown: Option<i64>,
    /// With enter and dwell: leaving takes going past the radius plus this (default 10).
    #[arg(long, value_name = "FEET")]
    pub hysteresis_ft: Option<f64>,
    /// With dwell: inside at least this long (default 60s).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration_ms)]
    pub dwell: Option<i64>,
    /// At most this many notifications per shopper an hour (default 3; 0: no cap).
    #[arg(long, value_name = "N")]
    pub cap: Option<u32>,
    /// MESSAGE template; fields in braces: UID PID SKU SEGMENT TITLE DISCOUNT_PCT STORE
    /// DIST_TO_STORE MATCHES.
    #[arg(long, value_name = "TEMPLATE", default_value = DEFAULT_MESSAGE)]
    pub message: String,
}

/// `--notify` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum NotifyRuleArg {
    Every,
    Cooldown,
    Enter,
    Dwell,
}

impl NotifyArgs {
    /// The rule these arguments describe; `params_file` may hold a `notify` object.
    pub fn resolve(&self, params_file: Option<&std::path::Path>) -> anyhow::Result<NotifyParams> {
        let mut notify = match params_file {
            Some(path) => {
                let doc = read_params_file(path)?;
                match doc.get("notify") {
                    Some(v) => serde_json::from_value(v.clone())
                        .with_context(|| format!("bad notify parameters in {}", path.display()))?,
                    None => NotifyParams::default(),
                }
            }
            None => NotifyParams::default(),
        };
        if let Some(rule) = self.notify {
            notify.rule = match rule {
                NotifyRuleArg::Every => NotifyRule::Every,
                NotifyRuleArg::Cooldown => NotifyRule::Cooldown,
                NotifyRuleArg::Enter => NotifyRule::Enter,
                NotifyRuleArg::Dwell => NotifyRule::Dwell,
            };
        }
        if let Some(v) = self.cooldown {
            notify.cooldown_ms = v;
        }
        if let Some(v) = self.hysteresis_ft {
            notify.hysteresis_ft = v;
        }
        if let Some(v) = self.dwell {
            notify.dwell_ms = v;
        }
        if let Some(v) = self.cap {
            notify.cap_per_hour = v;
        }
        anyhow::ensure!(
            notify.hysteresis_ft.is_finite() && notify.hysteresis_ft >= 0.0,
            "the hysteresis must be a finite number of feet ≥ 0"
        );
        anyhow::ensure!(
            notify.cooldown_ms >= 0 && notify.dwell_ms >= 0,
            "durations must not be negative"
        );
        Ok(notify)
    }
}

#[cfg(test)]
mod tests {
    use super::parse_size_bytes;

    #[test]
    fn sizes_read_in_decimal_and_binary_units() {
        assert_eq!(parse_size_bytes("800MB"), Ok(800_000_000));
        assert_eq!(parse_size_bytes("2GiB"), Ok(2 * 1024 * 1024 * 1024));
        assert_eq!(parse_size_bytes("1.5gb"), Ok(1_500_000_000));
        assert_eq!(parse_size_bytes("4096"), Ok(4096));
        assert!(parse_size_bytes("lots").is_err());
        assert!(parse_size_bytes("10 parsecs").is_err());
        assert!(parse_size_bytes("0MB").is_err());
    }
}
