//! Per-topic counters and rates, engine state size, and the rejected records with their
//! reasons and raw samples (the original pipeline hid these in a processing log).

use std::time::{Duration, Instant};

use egui::{RichText, Ui};

use crate::engine::pipeline::join_columns;
use crate::engine::rfc3339::format_clock_ms;
use crate::engine::{MemoryShed, PromotionMatchKey, Topic};
use crate::io::kafka::input::TopicLag;
use crate::io::live::LiveStats;
use crate::ui::map::palette;

/// Counts per topic at one moment.
type Counts = [u64; Topic::ALL.len()];

/// How far back a rate looks: the engine takes records in bursts (a catalog refresh joins
/// thousands of products against every buffered ping and holds the stream for a second or
/// more), so a one-second rate jumps between thousands and 0/s while records flow steadily.
const RATE_WINDOW: Duration = Duration::from_secs(5);

/// Records per second per topic, over the last [`RATE_WINDOW`] of wall time, renewed every
/// second.
#[derive(Debug, Default)]
pub struct RateMeter {
    /// Counts taken a second or more apart, oldest first, reaching back about a window.
    samples: std::collections::VecDeque<(Instant, Counts)>,
    pub per_second: [f64; Topic::ALL.len()],
}

impl RateMeter {
    pub fn update(&mut self, stats: &LiveStats, now: Instant) {
        let counts = Topic::ALL.map(|t| stats.pipeline.topic(t).records);
        self.update_counts(counts, now);
    }

    fn update_counts(&mut self, counts: Counts, now: Instant) {
        let due =
            (self.samples.back()).is_none_or(|(last, _)| now - *last >= Duration::from_secs(1));
        if !due {
            return;
        }
        // Keep the newest sample at least a window old, as the rate's start.
        while self.samples.len() >= 2 && now - self.samples[1].0 >= RATE_WINDOW {
            self.samples.pop_front();
        }
        if let Some((then, before)) = self.samples.front() {
            let dt = (now - *then).as_secs_f64();
            for ((rate, now), before) in self.per_second.iter_mut().zip(counts).zip(before) {
                *rate = now.saturating_sub(*before) as f64 / dt;
            }
        }
        self.samples.push_back((now, counts));
    }
}

/// What the state-memory budget has cost: since when, and how much of the past the joins
/// still hold.
fn memory_shed_line(shed: &MemoryShed) -> String {
    format!(
        "state memory: past its {} MB budget since {} ({} times): the joins keep the last {} of \
         pings and valid promotions; older records count as late",
        shed.budget_bytes / 1_000_000,
        format_clock_ms(shed.first_at_ms),
        shed.sheddings,
        span(shed.kept_ms),
    )
}

/// A stretch of stream time in minutes, or hours and minutes.
fn span(ms: i64) -> String {
    let minutes = ms / 60_000;
    match minutes {
        0 => "less than a minute".to_owned(),
        1..=119 => format!("{minutes} min"),
        _ => format!("{} h {} min", minutes / 60, minutes % 60),
    }
}

pub fn counters(
    ui: &mut Ui,
    stats: &LiveStats,
    match_key: PromotionMatchKey,
    rates: &RateMeter,
    lag: &[TopicLag],
) {
    egui::Grid::new("topic-counters")
        .striped(true)
        .num_columns(5)
        .min_col_width(56.0)
        .show(ui, |ui| {
            ui.strong("topic");
            ui.strong("in");
            ui.strong("/s");
            ui.strong("rejected");
            ui.strong("late");
            ui.end_row();
            for topic in Topic::ALL {
                let c = stats.pipeline.topic(topic);
                let name = if topic.is_input() {
                    RichText::new(topic.name())
                } else {
                    RichText::new(topic.name()).italics()
                };
                ui.label(name);
                ui.monospace(c.records.to_string());
                ui.monospace(format!("{:.0}", rates.per_second[topic.index()]));
                let rejected = RichText::new(c.rejected.to_string()).monospace();
                ui.label(if c.rejected > 0 {
                    rejected.color(palette::ERROR)
                } else {
                    rejected
                });
                ui.monospace(c.late.to_string());
                ui.end_row();
            }
        });
    let unmatchable: Vec<String> = (Topic::INPUTS.into_iter())
        .filter_map(|topic| {
            let n = stats.pipeline.topic(topic).unmatchable;
            let needs = join_columns(topic, match_key);
            (n > 0).then(|| format!("{} {n} without one of {needs}", topic.name()))
        })
        .collect();
    if !unmatchable.is_empty() {
        ui.label(
            RichText::new(format!(
                "Never able to reach a shopper (a NULL where the joins need a value): {}",
                unmatchable.join(" · ")
            ))
            .color(palette::WARNING),
        );
    }
    if !lag.is_empty() {
        let text: Vec<String> = lag
            .iter()
            .map(|l| format!("{} {}", l.topic, l.records))
            .collect();
        ui.label(format!("Kafka lag: {}", text.join(" · ")));
    }
    ui.add_space(4.0);
    let reach = stats
        .kept_inputs_reach_ms
        .map(|from| format!(" (from {}: the memory budget)", format_clock_ms(from)))
        .unwrap_or_default();
    ui.label(format!(
        "state: {} products+promotions, {} pings, {} ring-cell entries · {} inputs kept for re-tuning{reach}",
        stats.state.promotion_join, stats.state.customers, stats.state.valid_promotion_entries, stats.kept_inputs
    ));
    if let Some(shed) = &stats.memory_shed {
        ui.label(RichText::new(memory_shed_line(shed)).color(palette::WARNING))
            .on_hover_text(
                "The joins' state outgrew the state-memory budget (Pipeline parameters). A \
                 shorter customer grace keeps less of the past on purpose; a larger budget \
                 keeps more.",
            );
    }
    let held = &stats.held_back;
    ui.label(format!(
        "NEARBY_CUSTOMERS records: {}, notifications: {}",
        stats.nearby_records, stats.notifications
    ))
    .on_hover_text(format!(
        "{} of the records sent on; held back by the rule {}, by the hourly cap {}, past \
         valid_until {}, without uid or pid {}",
        stats.notifying, held.rule, held.cap, held.expired, held.unaddressed
    ));
    if stats.display_events_merged > 0 {
        ui.label(
            RichText::new(format!(
                "map behind the stream: {} older pings and matches merged (all counted above)",
                stats.display_events_merged
            ))
            .color(palette::WARNING),
        )
        .on_hover_text(
            "The console drew slower than records arrived; it kept each shopper's newest \
             position and the newest matches so the engine never waits for the screen.",
        );
    }
}

pub fn rejected(ui: &mut Ui, stats: &LiveStats) {
    let total = stats.pipeline.rejects.total();
    if total == 0 {
        ui.label("No rejected records.");
        return;
    }
    ui.label(RichText::new(format!("{total} rejected records")).color(palette::ERROR));
    for (topic, reason, entry) in stats.pipeline.rejects.iter() {
        egui::CollapsingHeader::new(format!("{topic} · {reason} · {}", entry.count))
            .id_salt(("rejected", topic, reason.to_string()))
            .show(ui, |ui| {
                for sample in &entry.samples {
                    ui.label(format!(
                        "partition {} offset {}",
                        sample.partition, sample.offset
                    ));
                    ui.add(egui::Label::new(RichText::new(&sample.raw).monospace().small()).wrap());
                }
            });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_line_says_since_when_and_how_much_of_the_past_is_kept() {
        let shed = MemoryShed {
            budget_bytes: 1_000_000_000,
            first_at_ms: 1_764_148_833_000,
            kept_ms: 12 * 60_000 + 59_999,
            floor_ms: 0,
            sheddings: 3,
        };
        assert_eq!(
            memory_shed_line(&shed),
            "state memory: past its 1000 MB budget since 09:20:33 (3 times): the joins keep \
             the last 12 min of pings and valid promotions; older records count as late"
        );
        assert_eq!(span(59_999), "less than a minute");
        assert_eq!(span(125 * 60_000), "2 h 5 min");
    }

    /// Records that arrive in bursts (a second of 5 000, then four idle seconds) read as
    /// their average over the window, not as 5 000/s then 0/s; a stream that stops reads 0/s
    /// once the window has passed.
    #[test]
    fn the_rate_is_steady_over_bursts_and_falls_to_zero_after_a_window() {
        let start = Instant::now();
        let mut meter = RateMeter::default();
        let mut total = 0u64;
        let mut rates = Vec::new();
        for second in 0..30u64 {
            if second % 5 == 0 && second < 20 {
                total += 5_000;
            }
            meter.update_counts(
                [total; Topic::ALL.len()],
                start + Duration::from_secs(second),
            );
            rates.push(meter.per_second[0]);
        }
        for (second, rate) in rates.iter().enumerate().skip(6).take(14) {
            assert!((800.0..=1_250.0).contains(rate), "{rate} at {second} s");
        }
        assert_eq!(rates[29], 0.0);
        // Frames in between change nothing.
        let before = meter.per_second;
        meter.update_counts(
            [total + 99; Topic::ALL.len()],
            start + Duration::from_millis(29_500),
        );
        assert_eq!(meter.per_second, before);
    }
}
