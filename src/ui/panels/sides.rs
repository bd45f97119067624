//! The panels beside the map: on the left the promotion form, what was published, the
//! pipeline parameters, the engine's counters and the rejected records; on the right the
//! details of what is selected, the notification feed and its chart.

use egui::{RichText, Ui};

use crate::io::chain::Chain;
use crate::io::kafka::input::TopicLag;
use crate::ui::command::{Command, Commands};
use crate::ui::map::Selection;
use crate::ui::model::LiveModel;
use crate::ui::outbox::Outbox;
use crate::ui::places::Places;
use crate::ui::settings::ConsoleSettings;

use super::details::{details, DetailsAction};
use super::engine::{self, RateMeter};
use super::feed::{self, FeedFilter, FeedHold};
use super::params;
use super::phone::phone_ui;
use super::promotions::{self, PromotionForm};

/// What the left panel reads and edits.
pub struct LeftPanel<'a> {
    pub settings: &'a mut ConsoleSettings,
    pub form: &'a mut PromotionForm,
    pub model: &'a LiveModel,
    pub chain: &'a Chain,
    pub outbox: &'a Outbox,
    pub rates: &'a RateMeter,
    /// Records waiting on the broker per input topic (Kafka only).
    pub lag: Vec<TopicLag>,
    /// Event time for promotions published now.
    pub now_ms: i64,
    /// What the last "Export as SQL…" did.
    pub sql_export: Option<&'a str>,
}

/// What the right panel reads and edits.
pub struct RightPanel<'a> {
    pub selection: Option<&'a Selection>,
    pub model: &'a LiveModel,
    pub chain: &'a Chain,
    /// Sites found in the data: the places of the feed and the phone.
    pub places: &'a Places,
    pub feed_filter: &'a mut FeedFilter,
    pub feed_hold: &'a mut FeedHold,
    pub display_ms: i64,
}

/// The promotion form, what was published, the parameters, the engine and its rejects.
pub fn left_panel_ui(ui: &mut Ui, panel: LeftPanel<'_>, commands: &mut Commands) {
    let LeftPanel {
        settings,
        form,
        model,
        chain,
        outbox,
        rates,
        lag,
        now_ms,
        sql_export,
    } = panel;
    egui::CollapsingHeader::new(RichText::new("New promotion").strong())
        .default_open(true)
        .show(ui, |ui| {
            commands.extend(promotions::form(
                ui,
                &mut settings.draft,
                form,
                model,
                &chain.segments,
                now_ms,
            ));
        });
    let pending = outbox.pending();
    let title = if pending > 0 {
        format!("Published ({pending} pending)")
    } else {
        "Published".to_owned()
    };
    egui::CollapsingHeader::new(RichText::new(title).strong())
        .id_salt("published")
        .default_open(true)
        .show(ui, |ui| {
            commands.extend(promotions::published(ui, outbox, now_ms))
        });
    egui::CollapsingHeader::new(RichText::new("Pipeline parameters").strong())
        .default_open(true)
        .show(ui, |ui| {
            let edited = params::editor(
                ui,
                &mut settings.params,
                &mut settings.notify,
                &mut settings.state_memory_mb,
            );
            if edited {
                commands.push(Command::SettingsEdited);
            }
            commands.extend(params::export_menu(ui, &settings.params, sql_export));
            if model
                .settings
                .as_ref()
                .is_some_and(|s| s.params != settings.pipeline_params())
            {
                ui.weak("applying…");
            }
        });
    egui::CollapsingHeader::new(RichText::new("Engine").strong())
        .default_open(true)
        .show(ui, |ui| {
            let match_key = model.params().match_key;
            engine::counters(ui, &model.stats, match_key, rates, &lag)
        });
    let rejected = model.stats.pipeline.rejects.total();
    egui::CollapsingHeader::new(RichText::new(format!("Rejected records ({rejected})")).strong())
        // A separate header state once there is something to see, so it opens by itself.
        .id_salt(("rejected", rejected > 0))
        .default_open(rejected > 0)
        .show(ui, |ui| engine::rejected(ui, &model.stats));
}

/// The details of what is selected (with its actions), the notification feed and its chart.
pub fn right_panel_ui(ui: &mut Ui, panel: RightPanel<'_>, commands: &mut Commands) {
    let RightPanel {
        selection,
        model,
        chain,
        places,
        feed_filter,
        feed_hold,
        display_ms,
    } = panel;
    if let Some(selection) = selection {
        egui::Frame::group(ui.style()).show(ui, |ui| {
            match details(ui, selection, model, display_ms) {
                DetailsAction::None => {}
                DetailsAction::Close => commands.push(Command::CloseDetails),
                DetailsAction::PromoteProduct(sku) => commands.push(Command::PromoteProduct(sku)),
            }
        });
        ui.add_space(6.0);
        if let Selection::Customer(uid) = selection {
            let place_of = |n: &crate::engine::notify::Notification| {
                n.product_at
                    .and_then(|at| places.place_of(chain, at))
                    .map_or_else(String::new, |p| p.name().to_owned())
            };
            phone_ui(ui, uid, model, place_of);
            ui.add_space(6.0);
        }
    }
    ui.heading("Notifications");
    if let Some(uid) = feed::feed(ui, model, chain, places, feed_filter, feed_hold) {
        commands.push(Command::SelectCustomer(uid));
    }
    ui.separator();
    feed::chart(ui, model, chain);
}
