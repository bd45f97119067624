//! The Campaigns window: the campaigns with their state, the editor of the selected one, and
//! its reach forecast — run in the background on dumps or a simulated day, with its variants
//! side by side in a table and charts.

use egui::{Color32, RichText, Ui};
use egui_plot::{Bar, BarChart, Corner, Legend, Plot};

use crate::engine::campaign::forecast::VariantForecast;
use crate::engine::campaign::{
    Campaign, CampaignPromotion, CampaignState, DailyHours, VariantChanges, MAX_VARIANTS,
};
use crate::engine::notify::NotifyRule;
use crate::engine::PromotionMatchKey;
use crate::io::plan::PlanReport;
use crate::ui::campaign_book::{CampaignBook, CampaignCommand};
use crate::ui::command::{Command, Commands};
use crate::ui::file_dialogs::{DialogFor, Pick};
use crate::ui::map::palette;
use crate::ui::model::PidReach;
use rustc_hash::{FxHashMap, FxHashSet};
use std::sync::Arc;

/// What the window shows besides the book.
pub struct CampaignsView<'a> {
    /// The console's clock (event time), for each campaign's state.
    pub now_ms: Option<i64>,
    /// Notifications so far by promotion id (a running campaign's live reach).
    pub reach: &'a FxHashMap<Arc<str>, PidReach>,
    /// Chain stores and derived sites a campaign can be limited to.
    pub places: Vec<String>,
    pub segments: &'a [String],
}

fn campaign(command: CampaignCommand) -> Command {
    Command::Campaign(command)
}

pub fn campaigns_window(
    ctx: &egui::Context,
    book: &mut CampaignBook,
    view: &CampaignsView<'_>,
    commands: &mut Commands,
) {
    let mut open = book.open;
    egui::Window::new("Campaigns")
        .open(&mut open)
        .default_size([980.0, 720.0])
        .vscroll(true)
        .show(ctx, |ui| {
            ui.horizontal_top(|ui| {
                ui.vertical(|ui| {
                    ui.set_width(220.0);
                    list_ui(ui, book, view, commands);
                });
                ui.separator();
                ui.vertical(|ui| {
                    if let Some(error) = &book.error {
                        ui.colored_label(palette::ERROR, error);
                    }
                    let running = book.job.is_some();
                    if let Some(c) = book.selected().cloned() {
                        run_ui(ui, book, &c, view, commands);
                        ui.separator();
                    }
                    if let Some(c) = book.selected_mut() {
                        editor_ui(ui, c, view, commands);
                        ui.separator();
                        forecast_buttons(ui, running, commands);
                    }
                    if let Some(job) = &book.job {
                        ui.horizontal(|ui| {
                            let fraction = job.progress.fraction().unwrap_or(0.0);
                            ui.add(
                                egui::ProgressBar::new(fraction)
                                    .desired_width(360.0)
                                    .text(format!("forecasting {:?}", job.campaign)),
                            );
                            if ui.button("Cancel").clicked() {
                                commands.push(campaign(CampaignCommand::CancelForecast));
                            }
                        });
                    }
                    if let Some(outcome) = book.png_outcome.lock().ok().and_then(|o| o.clone()) {
                        ui.weak(outcome);
                    }
                    if let Some(report) = &book.report {
                        let drawn = ui.scope(|ui| report_ui(ui, report, commands));
                        book.report_rect = Some(drawn.response.rect.intersect(ui.clip_rect()));
                    }
                });
            });
        });
    book.open = open;
}

fn list_ui(ui: &mut Ui, book: &CampaignBook, view: &CampaignsView<'_>, commands: &mut Commands) {
    ui.horizontal(|ui| {
        if ui.button("New").clicked() {
            commands.push(campaign(CampaignCommand::New));
        }
        if ui.button("Import…").clicked() {
            commands.push(Command::OpenDialog {
                purpose: DialogFor::ImportCampaigns,
                dialog: rfd::AsyncFileDialog::new().add_filter("campaign", &["json"]),
                pick: Pick::Files,
            });
        }
    });
    if book.campaigns.is_empty() {
        ui.weak("No campaigns yet.");
    }
    for (i, c) in book.campaigns.iter().enumerate() {
        let started = book.runner.get(&c.name).is_some();
        let state = match (c.check(), view.now_ms) {
            (Ok(schedule), Some(now)) => {
                let phase = if now < schedule.start_ms() {
                    "to come"
                } else if now < schedule.end_ms() {
                    "on now"
                } else {
                    "over"
                };
                format!(
                    "{} · {phase}",
                    CampaignState::at(started, &schedule, now).name()
                )
            }
            (Ok(_), None) if started => "started".to_owned(),
            (Ok(_), None) => CampaignState::Draft.name().to_owned(),
            (Err(_), _) => "draft · incomplete".to_owned(),
        };
        let selected = book.selected == Some(i);
        let response = ui.selectable_label(selected, format!("{}\n{state}", c.name));
        if response.clicked() {
            commands.push(campaign(CampaignCommand::Select(i)));
        }
    }
}

/// A promotion record names no store: what a limit to some stores means once it runs.
fn store_limit_note(ui: &mut Ui, c: &Campaign) {
    if !c.stores.is_empty() {
        ui.colored_label(
            palette::WARNING,
            format!(
                "Limited to {} store(s): forecasts and `instore run --campaign` keep to them, but \
                 the promotion records carry no store, so a running campaign's promotions \
                 match in every store for the original pipeline and `instore run -b`.",
                c.stores.len()
            ),
        );
    }
}

/// Start or stop, what the run has announced, and its live reach beside the forecast's.
fn run_ui(
    ui: &mut Ui,
    book: &CampaignBook,
    c: &Campaign,
    view: &CampaignsView<'_>,
    commands: &mut Commands,
) {
    let Some(run) = book.runner.get(&c.name) else {
        ui.horizontal(|ui| {
            let start = ui
                .add_enabled(c.check().is_ok(), egui::Button::new("Start campaign"))
                .on_hover_text(
                    "Announce its promotions on schedule through the outbox (acknowledged, \
                     retried, kept across restarts), on the live source's clock",
                );
            if start.clicked() {
                commands.push(campaign(CampaignCommand::Start));
            }
            ui.weak("draft: nothing is announced until it is started");
        });
        store_limit_note(ui, c);
        return;
    };
    let plan = run.plan();
    let pids: FxHashSet<&str> = plan.iter().map(|a| a.record.pid.as_str()).collect();
    let mut reached: FxHashSet<&Arc<str>> = FxHashSet::default();
    let mut notifications = 0;
    for (pid, reach) in view.reach {
        if pids.contains(&**pid) {
            notifications += reach.notifications;
            reached.extend(reach.reached.iter());
        }
    }
    ui.horizontal(|ui| {
        let state = view
            .now_ms
            .and_then(|now| book.runner.state(&run.campaign, now))
            .map_or("started", CampaignState::name);
        ui.strong(format!("{state}:"));
        let next = run
            .next_at_ms()
            .map(|at| {
                format!(
                    "; next at {}",
                    crate::engine::rfc3339::format_rfc3339_ms(at)
                )
            })
            .unwrap_or_default();
        ui.label(format!(
            "{} of {} announcements handed to the outbox{next}",
            run.sent,
            plan.len()
        ));
        if ui.button("Stop").clicked() {
            commands.push(campaign(CampaignCommand::Stop(c.name.clone())));
        }
    });
    let forecast = book
        .report
        .as_ref()
        .filter(|r| r.campaign == c.name)
        .and_then(|r| r.variants.first())
        .map(|v| {
            format!(
                " (forecast: {} reached, {} notifications)",
                v.reached, v.notifications
            )
        })
        .unwrap_or_default();
    ui.label(format!(
        "live reach: {} shoppers, {} notifications{forecast}",
        reached.len(),
        notifications
    ));
    store_limit_note(ui, c);
}

fn optional_number<T: egui::emath::Numeric>(
    ui: &mut Ui,
    label: &str,
    value: &mut Option<T>,
    default: T,
    range: std::ops::RangeInclusive<T>,
    suffix: &str,
) {
    let mut on = value.is_some();
    ui.checkbox(&mut on, label);
    match (on, value.as_mut()) {
        (true, Some(v)) => {
            ui.add(egui::DragValue::new(v).range(range).suffix(suffix));
        }
        (true, None) => *value = Some(default),
        (false, _) => *value = None,
    }
}

fn rule_combo(ui: &mut Ui, id: impl std::hash::Hash + std::fmt::Debug, rule: &mut NotifyRule) {
    egui::ComboBox::from_id_salt(id)
        .selected_text(rule.name())
        .show_ui(ui, |ui| {
            for r in NotifyRule::ALL {
                ui.selectable_value(rule, r, r.name());
            }
        });
}

fn match_combo(
    ui: &mut Ui,
    id: impl std::hash::Hash + std::fmt::Debug,
    key: &mut Option<PromotionMatchKey>,
) {
    let text = key.map_or("pipeline's", PromotionMatchKey::name);
    egui::ComboBox::from_id_salt(id)
        .selected_text(text)
        .show_ui(ui, |ui| {
            ui.selectable_value(key, None, "pipeline's");
            for k in [
                PromotionMatchKey::Segment,
                PromotionMatchKey::Sku,
                PromotionMatchKey::SkuOrSegment,
            ] {
                ui.selectable_value(key, Some(k), k.name());
            }
        });
}

fn editor_ui(ui: &mut Ui, c: &mut Campaign, view: &CampaignsView<'_>, commands: &mut Commands) {
    ui.horizontal(|ui| {
        ui.label("Name");
        ui.text_edit_singleline(&mut c.name);
    });
    ui.label(RichText::new("Promotions").strong());
    let mut remove = None;
    egui::Grid::new("campaign-promotions")
        .striped(true)
        .show(ui, |ui| {
            for h in [
                "pid", "segment", "product", "discount", "title", "message", "",
            ] {
                ui.weak(h);
            }
            ui.end_row();
            for (i, p) in c.promotions.iter_mut().enumerate() {
                let mut pid = p.pid.clone().unwrap_or_default();
                ui.add(
                    egui::TextEdit::singleline(&mut pid)
                        .hint_text("auto")
                        .desired_width(90.0),
                );
                p.pid = Some(pid).filter(|s| !s.trim().is_empty());
                egui::ComboBox::from_id_salt(("segment", i))
                    .selected_text(&p.segment)
                    .show_ui(ui, |ui| {
                        for s in view.segments {
                            ui.selectable_value(&mut p.segment, s.clone(), s);
                        }
                    });
                ui.horizontal(|ui| optional_number(ui, "SKU", &mut p.sku, 1000, 0..=i64::MAX, ""));
                ui.horizontal(|ui| optional_number(ui, "", &mut p.discount_pct, 10, 0..=100, " %"));
                let mut title = p.title.clone().unwrap_or_default();
                ui.add(egui::TextEdit::singleline(&mut title).desired_width(130.0));
                p.title = Some(title).filter(|s| !s.trim().is_empty());
                let mut message = p.message.clone().unwrap_or_default();
                ui.add(
                    egui::TextEdit::singleline(&mut message)
                        .hint_text("default MESSAGE")
                        .desired_width(220.0),
                );
                p.message = Some(message).filter(|s| !s.trim().is_empty());
                if remove_button(ui) {
                    remove = Some(i);
                }
                ui.end_row();
            }
        });
    if let Some(i) = remove {
        c.promotions.remove(i);
    }
    if ui.button("+ promotion").clicked() {
        let segment = view.segments.first().cloned().unwrap_or_default();
        c.promotions.push(CampaignPromotion {
            pid: None,
            sku: None,
            segment,
            title: None,
            discount_pct: Some(10),
            message: None,
        });
    }
    ui.label(RichText::new("Schedule").strong());
    ui.horizontal(|ui| {
        ui.label("time zone");
        ui.add(egui::TextEdit::singleline(&mut c.schedule.timezone).desired_width(140.0));
        ui.label("from");
        ui.add(egui::TextEdit::singleline(&mut c.schedule.start).desired_width(130.0));
        ui.label("to");
        ui.add(egui::TextEdit::singleline(&mut c.schedule.end).desired_width(130.0));
    });
    ui.horizontal(|ui| {
        let mut daily = c.schedule.daily.is_some();
        ui.checkbox(&mut daily, "only between");
        match (daily, c.schedule.daily.as_mut()) {
            (true, Some(d)) => {
                ui.add(egui::TextEdit::singleline(&mut d.from).desired_width(50.0));
                ui.label("and");
                ui.add(egui::TextEdit::singleline(&mut d.to).desired_width(50.0));
                ui.weak("each day (an end before the start runs past midnight)");
            }
            (true, None) => {
                c.schedule.daily = Some(DailyHours {
                    from: "09:00".into(),
                    to: "17:00".into(),
                })
            }
            (false, _) => c.schedule.daily = None,
        }
    });
    ui.horizontal(|ui| {
        ui.label("re-announced every");
        ui.add(
            egui::DragValue::new(&mut c.reannounce_every_min)
                .range(1..=59)
                .suffix(" min"),
        );
        ui.weak("(a promotion applies to products within 1 hour of it)");
    });
    ui.label(RichText::new("Reach").strong());
    ui.horizontal(|ui| {
        ui.label("radius");
        ui.add(
            egui::DragValue::new(&mut c.radius_ft)
                .range(1.0..=5_000.0)
                .suffix(" ft"),
        );
        ui.label("match");
        match_combo(ui, "campaign-match", &mut c.match_key);
        ui.label("rule");
        rule_combo(ui, "campaign-rule", &mut c.notify.rule);
        ui.label("at most");
        ui.add(
            egui::DragValue::new(&mut c.notify.cap_per_hour)
                .range(0..=100)
                .suffix(" / shopper / h"),
        );
        optional_number(
            ui,
            "budget",
            &mut c.budget,
            1_000,
            0..=u64::MAX,
            " notifications",
        );
    });
    ui.horizontal_wrapped(|ui| {
        let mut all = c.stores.is_empty();
        ui.checkbox(&mut all, "all stores");
        if all {
            c.stores.clear();
        } else {
            if c.stores.is_empty() {
                if let Some(first) = view.places.first() {
                    c.stores.push(first.clone());
                }
            }
            for place in &view.places {
                let mut on = c.stores.contains(place);
                if ui.checkbox(&mut on, place).changed() {
                    if on {
                        c.stores.push(place.clone());
                    } else {
                        c.stores.retain(|s| s != place);
                    }
                }
            }
        }
    });
    variants_ui(ui, c);
    ui.horizontal(|ui| {
        match c.check() {
            Ok(schedule) => {
                let intervals = schedule.intervals().len();
                ui.colored_label(
                    Color32::from_rgb(0, 130, 60),
                    format!("valid: {intervals} interval(s) on"),
                );
            }
            Err(e) => {
                ui.colored_label(palette::ERROR, e.to_string());
            }
        }
        if ui.button("Save").clicked() {
            commands.push(campaign(CampaignCommand::Save));
        }
        if ui.button("Export…").clicked() {
            commands.push(Command::OpenDialog {
                purpose: DialogFor::ExportCampaign,
                dialog: rfd::AsyncFileDialog::new()
                    .set_file_name(format!("{}.json", crate::engine::campaign::slug(&c.name))),
                pick: Pick::SaveFile,
            });
        }
    });
}

fn remove_button(ui: &mut Ui) -> bool {
    ui.small_button("×").on_hover_text("remove").clicked()
}

fn variants_ui(ui: &mut Ui, c: &mut Campaign) {
    ui.label(RichText::new("Variants to compare").strong())
        .on_hover_text("Each changes some fields of the campaign; none: the campaign as written.");
    let mut remove = None;
    for (i, v) in c.variants.iter_mut().enumerate() {
        ui.horizontal(|ui| {
            ui.add(egui::TextEdit::singleline(&mut v.name).desired_width(110.0));
            optional_number(ui, "radius", &mut v.radius_ft, 50.0, 1.0..=5_000.0, " ft");
            optional_number(ui, "discount", &mut v.discount_pct, 15, 0..=100, " %");
            let mut key = v.match_key;
            match_combo(ui, ("variant-match", i), &mut key);
            v.match_key = key;
            let mut rule_on = v.notify.is_some();
            ui.checkbox(&mut rule_on, "rule");
            match (rule_on, v.notify.as_mut()) {
                (true, Some(n)) => rule_combo(ui, ("variant-rule", i), &mut n.rule),
                (true, None) => v.notify = Some(Default::default()),
                (false, _) => v.notify = None,
            }
            optional_number(ui, "budget", &mut v.budget, 1_000, 0..=u64::MAX, "");
            if remove_button(ui) {
                remove = Some(i);
            }
        });
    }
    if let Some(i) = remove {
        c.variants.remove(i);
    }
    if c.variants.len() < MAX_VARIANTS && ui.button("+ variant").clicked() {
        let name = if c.variants.is_empty() {
            "as written".to_owned()
        } else {
            format!("variant {}", c.variants.len() + 1)
        };
        c.variants.push(VariantChanges {
            name,
            ..VariantChanges::default()
        });
    }
}

fn forecast_buttons(ui: &mut Ui, running: bool, commands: &mut Commands) {
    ui.horizontal(|ui| {
        ui.label(RichText::new("Forecast reach").strong());
        ui.add_enabled_ui(!running, |ui| {
            if ui
                .button("on recorded traffic…")
                .on_hover_text("kcat -J dumps, e.g. a day recorded with Record…; the schedule is laid on their first day")
                .clicked()
            {
                commands.push(Command::OpenDialog {
                    purpose: DialogFor::ForecastDumps,
                    dialog: rfd::AsyncFileDialog::new(),
                    pick: Pick::Files,
                });
            }
            if ui
                .button("on a simulated first day")
                .on_hover_text("the built-in simulator over the campaign's first day, five shoppers per store")
                .clicked()
            {
                commands.push(campaign(CampaignCommand::ForecastOnSimulator));
            }
        });
    });
}

fn report_ui(ui: &mut Ui, r: &PlanReport, commands: &mut Commands) {
    ui.horizontal(|ui| {
        ui.label(RichText::new(format!("Forecast of {:?}", r.campaign)).strong());
        if ui.button("Export CSV…").clicked() {
            commands.push(Command::OpenDialog {
                purpose: DialogFor::ForecastCsv,
                dialog: rfd::AsyncFileDialog::new().set_file_name("forecast.csv"),
                pick: Pick::SaveFile,
            });
        }
        if ui
            .button("Export PNG…")
            .on_hover_text("the table and charts as they show in this window")
            .clicked()
        {
            commands.push(Command::OpenDialog {
                purpose: DialogFor::ForecastPng,
                dialog: rfd::AsyncFileDialog::new().set_file_name("forecast.png"),
                pick: Pick::SaveFile,
            });
        }
    });
    ui.weak(format!(
        "on {} · traffic {} – {} · schedule {} – {}{} · {} of {} announcements within the traffic · {} of its own promotion records left out",
        r.inputs.join(", "),
        r.traffic_from,
        r.traffic_to,
        r.schedule_start,
        r.schedule_end,
        if r.schedule_shift_days != 0 {
            format!(" (moved {} days)", r.schedule_shift_days)
        } else {
            String::new()
        },
        r.announced,
        r.announcements,
        r.input_promotions_left_out
    ));
    if r.announced == 0 {
        ui.colored_label(
            palette::WARNING,
            "No announcement fell within the traffic: pick traffic recorded during the campaign's hours.",
        );
    }
    egui::Grid::new("forecast-table")
        .striped(true)
        .show(ui, |ui| {
            for h in [
                "variant",
                "reached",
                "notifications",
                "matches",
                "near miss",
                "radius",
                "budget used",
                "held back (rule / cap / budget)",
            ] {
                ui.strong(h);
            }
            ui.end_row();
            for (i, v) in r.variants.iter().enumerate() {
                ui.colored_label(palette::series_colour(i), &v.name);
                ui.label(v.reached.to_string());
                ui.label(v.notifications.to_string());
                ui.label(v.matches.to_string());
                ui.label(v.near_missed.to_string())
                    .on_hover_text("came within twice the radius, never notified");
                ui.label(format!("{:.0} ft", v.radius_ft));
                ui.label(match (v.budget, v.budget_used_pct) {
                    (Some(b), Some(p)) => format!("{p:.1} % of {b}"),
                    _ => "—".to_owned(),
                });
                ui.label(format!(
                    "{} / {} / {}",
                    v.held_back.rule, v.held_back.cap, v.held_back.budget
                ));
                ui.end_row();
            }
        });
    charts_ui(ui, &r.variants);
}

/// Bars of each variant side by side: `x` slots of width 1 shared by the variants.
fn grouped(
    variants: &[VariantForecast],
    values: impl Fn(&VariantForecast) -> Vec<(f64, f64)>,
) -> Vec<BarChart> {
    let n = variants.len().max(1) as f64;
    let width = 0.8 / n;
    variants
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let offset = (i as f64 - (n - 1.0) / 2.0) * width;
            let bars = values(v)
                .into_iter()
                .map(|(x, y)| Bar::new(x + offset, y).width(width * 0.95))
                .collect();
            BarChart::new(v.name.clone(), bars).color(palette::series_colour(i))
        })
        .collect()
}

/// A bar chart with its legend out of the bars' way and a fixed view.
fn bar_plot(
    ui: &mut Ui,
    id: &str,
    height: f32,
    x_label: impl Fn(f64) -> String + 'static,
    charts: Vec<BarChart>,
) {
    Plot::new(id)
        .height(height)
        .legend(Legend::default().position(Corner::LeftTop))
        .allow_drag(false)
        .allow_scroll(false)
        .x_axis_formatter(move |mark, _| x_label(mark.value))
        .show(ui, |plot| {
            for c in charts {
                plot.bar_chart(c);
            }
        });
}

/// Labels slots 0, 1, 2… of a category axis; nothing between them.
fn slot_labels(labels: Vec<String>) -> impl Fn(f64) -> String {
    move |x| {
        let i = x.round();
        if (x - i).abs() < 1e-6 && i >= 0.0 {
            labels.get(i as usize).cloned().unwrap_or_default()
        } else {
            String::new()
        }
    }
}

/// The labels without the words they all start with ("Northwind Market Loop", "Northwind
/// Market Chelsea" → "Loop", "Chelsea"), so they fit under their bars.
fn without_common_words(labels: &[String]) -> Vec<String> {
    let words: Vec<Vec<&str>> = labels.iter().map(|l| l.split(' ').collect()).collect();
    let shortest = words.iter().map(Vec::len).min().unwrap_or(0);
    let common = (0..shortest.saturating_sub(1))
        .take_while(|&i| words.iter().all(|w| w[i] == words[0][i]))
        .count();
    let common = if labels.len() > 1 { common } else { 0 };
    words.iter().map(|w| w[common..].join(" ")).collect()
}

fn charts_ui(ui: &mut Ui, variants: &[VariantForecast]) {
    let Some(first) = variants.first() else {
        return;
    };
    let hours: Vec<&str> = first.per_hour.iter().map(|h| h.label.as_str()).collect();
    let hour_index = |label: &str| hours.iter().position(|h| *h == label).map(|i| i as f64);
    ui.label("Notifications per hour (the campaign's clock)");
    let charts = grouped(variants, |v| {
        v.per_hour
            .iter()
            .filter_map(|h| Some((hour_index(&h.label)?, h.notifications as f64)))
            .collect()
    });
    let labels = hours
        .iter()
        .map(|h| h.get(11..16).unwrap_or(h).to_owned())
        .collect();
    bar_plot(ui, "forecast-hours", 170.0, slot_labels(labels), charts);
    let stores: Vec<String> = first
        .per_store
        .iter()
        .take(8)
        .map(|s| s.label.clone())
        .collect();
    ui.label("Shoppers reached per store (the busiest eight of the first variant)");
    let charts = grouped(variants, |v| {
        v.per_store
            .iter()
            .filter_map(|s| {
                let i = stores.iter().position(|l| *l == s.label)?;
                Some((i as f64, s.reached as f64))
            })
            .collect()
    });
    let labels = without_common_words(&stores);
    bar_plot(ui, "forecast-stores", 170.0, slot_labels(labels), charts);
    ui.label("Notifications by the shopper's distance (ft)");
    let charts = grouped(variants, |v| {
        v.distance_ft
            .iter()
            .map(|b| ((b.from_ft + b.to_ft) / 2.0 / 10.0, b.notifications as f64))
            .collect()
    });
    bar_plot(
        ui,
        "forecast-distance",
        150.0,
        |x| format!("{:.0}", x * 10.0),
        charts,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_labels_lose_the_words_they_all_share() {
        let labels = ["Northwind Market Loop", "Northwind Market Queen West"].map(String::from);
        assert_eq!(without_common_words(&labels), ["Loop", "Queen West"]);
        let one = ["Northwind Market Loop".to_owned()];
        assert_eq!(without_common_words(&one), one);
        let sites = ["AUS 1", "AUS 2"].map(String::from);
        assert_eq!(without_common_words(&sites), ["1", "2"]);
        let same = ["A B", "A B"].map(String::from);
        assert_eq!(without_common_words(&same), ["B", "B"]);
    }
}
