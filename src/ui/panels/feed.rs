//! The notification feed (newest first, filterable) and the matches-per-minute chart.

use std::collections::BTreeMap;
use std::sync::Arc;

use egui::{RichText, Ui};
use egui_plot::{Bar, BarChart, Legend, Plot};

use crate::engine::notify::Notification;
use crate::engine::rfc3339::format_clock_ms;
use crate::io::chain::Chain;
use crate::ui::map::palette::segment_colour;
use crate::ui::model::LiveModel;
use crate::ui::places::Places;

/// Filters of the feed (not persisted: they are for the moment).
#[derive(Debug, Default)]
pub struct FeedFilter {
    pub uid: String,
    pub pid: String,
    pub segment: String,
    /// A chain store's id or a derived site's name; empty for all.
    pub store: String,
}

impl FeedFilter {
    pub fn accepts(&self, n: &Notification, store_of: impl Fn(i64) -> Option<String>) -> bool {
        let contains = |hay: &str, needle: &str| {
            needle.is_empty() || hay.to_lowercase().contains(&needle.to_lowercase())
        };
        contains(&n.uid, &self.uid)
            && contains(&n.pid, &self.pid)
            && (self.segment.is_empty() || n.segment.as_deref() == Some(self.segment.as_str()))
            && (self.store.is_empty()
                || n.sku.and_then(&store_of).as_deref() == Some(self.store.as_str()))
    }
}

/// While notifications arrive faster than anyone reads, the feed shows a snapshot refreshed
/// [`HOLD_S`] apart instead of rows re-laid every frame: it can be read, and a firehose costs
/// a few layouts of the visible rows a second instead of one per frame. A trickle (a few
/// since the last refresh) shows at once.
#[derive(Debug, Default)]
pub struct FeedHold {
    /// [`LiveModel::notifications_total`] at the last refresh.
    shown_total: u64,
    /// UI time of the last refresh.
    shown_at_s: f64,
}

/// How long a fast feed holds still.
pub const HOLD_S: f64 = 0.25;
/// New notifications shown at once, without waiting for the hold.
const TRICKLE: u64 = 5;

impl FeedHold {
    /// How many of the newest notifications to leave out for now and, when some are held,
    /// the seconds until they show.
    pub fn held_back(&mut self, total: u64, kept: usize, now_s: f64) -> (usize, Option<f64>) {
        let new = total.wrapping_sub(self.shown_total);
        let replaced = total < self.shown_total;
        let waited = now_s - self.shown_at_s;
        if replaced || new <= TRICKLE || waited >= HOLD_S || new >= kept as u64 {
            self.shown_total = total;
            self.shown_at_s = now_s;
            return (0, None);
        }
        (new as usize, Some(HOLD_S - waited))
    }
}

/// Returns the shopper whose row was clicked (their phone opens).
pub fn feed(
    ui: &mut Ui,
    model: &LiveModel,
    chain: &Chain,
    places: &Places,
    filter: &mut FeedFilter,
    hold: &mut FeedHold,
) -> Option<Arc<str>> {
    let mut clicked = None;
    ui.horizontal(|ui| {
        ui.label(RichText::new(format!("{} notifications", model.stats.notifications)).strong());
        ui.label(format!(
            "from {} NEARBY_CUSTOMERS records",
            model.stats.nearby_records
        ));
    });
    ui.horizontal(|ui| {
        ui.add(
            egui::TextEdit::singleline(&mut filter.uid)
                .hint_text("uid")
                .desired_width(80.0),
        );
        ui.add(
            egui::TextEdit::singleline(&mut filter.pid)
                .hint_text("pid")
                .desired_width(80.0),
        );
    });
    ui.horizontal(|ui| {
        egui::ComboBox::new("feed-segment", "segment filter")
            .selected_text(if filter.segment.is_empty() {
                "all segments"
            } else {
                &filter.segment
            })
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut filter.segment, String::new(), "all segments");
                for s in &chain.segments {
                    ui.selectable_value(&mut filter.segment, s.clone(), s);
                }
            });
        egui::ComboBox::new("feed-store", "store filter")
            .selected_text(if filter.store.is_empty() {
                "all stores"
            } else {
                &filter.store
            })
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut filter.store, String::new(), "all stores");
                for s in &chain.stores {
                    ui.selectable_value(&mut filter.store, s.id.clone(), &s.name);
                }
                for site in places.sites() {
                    ui.selectable_value(&mut filter.store, site.name.clone(), &site.name);
                }
            });
    });
    let store_of = |sku: i64| {
        let p = model.product(sku)?;
        places
            .place_of(chain, p.position)
            .map(|place| place.key().to_owned())
    };
    let now_s = ui.input(|i| i.time);
    let (held, refresh_in_s) =
        hold.held_back(model.notifications_total, model.notifications.len(), now_s);
    if let Some(s) = refresh_in_s {
        ui.ctx()
            .request_repaint_after(std::time::Duration::from_secs_f64(s.max(0.0)));
    }
    let rows: Vec<&Notification> = model
        .notifications
        .iter()
        .skip(held)
        .filter(|n| filter.accepts(n, store_of))
        .collect();
    if rows.is_empty() {
        ui.weak("No notifications yet.");
    }
    let row_height = ui.text_style_height(&egui::TextStyle::Body);
    // Only the rows in view are laid out: the feed costs the same with 10 or 5 000 entries.
    egui::ScrollArea::vertical()
        .id_salt("feed-scroll")
        .max_height(ui.available_height() - 170.0)
        .auto_shrink([false, true])
        .show_rows(ui, row_height, rows.len(), |ui, range| {
            for n in &rows[range] {
                let clock = format_clock_ms(n.timestamp_ms);
                let sku = n.sku.map_or("—".to_owned(), |s| s.to_string());
                let held = if n.matches > 1 {
                    format!(" ({} matches)", n.matches)
                } else {
                    String::new()
                };
                let text = format!(
                    "{clock}  customer {} gets promotion {} for SKU {sku} at {:.0} ft{held}",
                    short(&n.uid),
                    short(&n.pid),
                    n.dist_to_store_ft
                );
                let row = ui.add(
                    egui::Label::new(text)
                        .truncate()
                        .sense(egui::Sense::click()),
                );
                if row.on_hover_text("click: this shopper's phone").clicked() {
                    clicked = Some(Arc::clone(&n.uid));
                }
            }
        });
    clicked
}

/// The first 8 characters of a UUID are enough to tell shoppers apart on screen.
fn short(id: &Arc<str>) -> &str {
    id.get(..8).unwrap_or(id)
}

pub fn chart(ui: &mut Ui, model: &LiveModel, chain: &Chain) {
    let mut by_segment: BTreeMap<Arc<str>, Vec<Bar>> = BTreeMap::new();
    let last_minute = model.per_minute.keys().map(|(m, _)| *m).max().unwrap_or(0);
    for ((minute, segment), n) in model
        .per_minute
        .range((last_minute - 29 * 60_000, Arc::from(""))..)
    {
        let x = ((minute - last_minute) / 60_000) as f64;
        by_segment
            .entry(Arc::clone(segment))
            .or_default()
            .push(Bar::new(x, *n as f64).width(0.8));
    }
    let mut charts: Vec<BarChart> = Vec::new();
    for (segment, bars) in by_segment {
        let colour = segment_colour(&chain.segments, Some(&segment));
        let refs: Vec<&BarChart> = charts.iter().collect();
        let chart = BarChart::new(segment.to_string(), bars)
            .color(colour)
            .stack_on(&refs);
        charts.push(chart);
    }
    ui.label("NEARBY_CUSTOMERS per minute (last 30 min)");
    Plot::new("matches-per-minute")
        .height(140.0)
        .legend(Legend::default())
        .allow_drag(false)
        .allow_zoom(false)
        .allow_scroll(false)
        .x_axis_label("minutes ago")
        .show(ui, |plot| {
            for c in charts {
                plot.bar_chart(c);
            }
        });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trickle_shows_at_once_and_a_firehose_is_held_for_a_quarter_second() {
        let mut hold = FeedHold::default();
        assert_eq!(hold.held_back(3, 3, 0.0), (0, None));
        // Five more within a frame: still a trickle.
        assert_eq!(hold.held_back(8, 8, 0.01), (0, None));
        // Forty in the next frame: held, with a repaint when the hold ends.
        let (held, again) = hold.held_back(48, 48, 0.05);
        assert_eq!(held, 40);
        assert!((again.unwrap_or(0.0) - 0.21).abs() < 1e-9);
        assert_eq!(hold.held_back(90, 90, 0.2).0, 82);
        // A quarter second after the last refresh everything shows.
        assert_eq!(hold.held_back(95, 95, 0.26), (0, None));
        // A model replaced by a seek (fewer pushed) shows at once.
        assert_eq!(hold.held_back(50, 50, 0.27), (0, None));
        // More new ones than the feed keeps: nothing left to hold, show them.
        assert_eq!(hold.held_back(6_000, 5_000, 0.28), (0, None));
    }
}
