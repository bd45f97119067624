//! Per-topic counters and rates, engine state size, and the rejected records with their
//! reasons and raw samples (the original pipeline hid these in a processing log).

use std::time::{Duration, Instant};

use egui::{RichText, Ui};

use crate::engine::Topic;
use crate::io::kafka::input::TopicLag;
use crate::io::live::LiveStats;
use crate::ui::map::palette;

/// Records per second per topic, over about a second of wall time.
#[derive(Debug, Default)]
pub struct RateMeter {
    last: Option<(Instant, [u64; Topic::ALL.len()])>,
    pub per_second: [f64; Topic::ALL.len()],
}

impl RateMeter {
    pub fn update(&mut self, stats: &LiveStats, now: Instant) {
        let counts = Topic::ALL.map(|t| stats.pipeline.topic(t).records);
        match self.last {
            Some((then, before)) if now - then >= Duration::from_secs(1) => {
                let dt = (now - then).as_secs_f64();
                for i in 0..counts.len() {
                    self.per_second[i] = counts[i].saturating_sub(before[i]) as f64 / dt;
                }
                self.last = Some((now, counts));
            }
            Some(_) => {}
            None => self.last = Some((now, counts)),
        }
    }
}

pub fn counters(ui: &mut Ui, stats: &LiveStats, rates: &RateMeter, lag: &[TopicLag]) {
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
    if !lag.is_empty() {
        let text: Vec<String> = lag
            .iter()
            .map(|l| format!("{} {}", l.topic, l.records))
            .collect();
        ui.label(format!("Kafka lag: {}", text.join(" · ")));
    }
    ui.add_space(4.0);
    ui.label(format!(
        "state: {} products+promotions, {} pings, {} ring-cell entries · {} inputs kept for re-tuning",
        stats.state.promotion_join, stats.state.customers, stats.state.valid_promotion_entries, stats.kept_inputs
    ));
    let held = &stats.held_back;
    ui.label(format!(
        "NEARBY_CUSTOMERS records: {}, notifications: {}",
        stats.nearby_records, stats.notifications
    ))
    .on_hover_text(format!(
        "held back by the rule {}, by the hourly cap {}, past valid_until {}, without uid or pid {}",
        held.rule, held.cap, held.expired, held.unaddressed
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
