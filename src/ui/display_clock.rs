//! Event time on screen: runs with the wall clock at the source's speed between records, so
//! dots glide, and never runs ahead of the data by more than a second.

use std::time::Instant;

#[derive(Debug, Default)]
pub struct DisplayClock {
    anchor: Option<(Instant, i64)>,
}

impl DisplayClock {
    /// `speed` in event seconds per wall second (`None` = as fast as records come).
    pub fn now(
        &mut self,
        latest_ms: Option<i64>,
        speed: Option<f64>,
        wall: Instant,
    ) -> Option<i64> {
        let latest = latest_ms?;
        let Some(speed) = speed else {
            self.anchor = Some((wall, latest));
            return Some(latest);
        };
        let (at, base) = *self.anchor.get_or_insert((wall, latest));
        let predicted = base + ((wall - at).as_secs_f64() * speed * 1000.0) as i64;
        let now = if predicted > latest + 1_000 || predicted < latest - 5_000 {
            // Ahead of the data (source paused or slow) or far behind (speed raised): re-anchor.
            let t = predicted.clamp(latest - 5_000, latest + 1_000);
            self.anchor = Some((wall, t));
            t
        } else {
            predicted
        };
        Some(now)
    }
}
