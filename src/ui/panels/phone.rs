//! The selected shopper's phone: their notifications as the push would show them (the offer,
//! the distance and the place, the time), newest first, live and in replay.

use egui::{Color32, RichText, Ui};

use crate::engine::notification_record::offer_text;
use crate::engine::notify::Notification;
use crate::engine::rfc3339::format_clock_ms;
use crate::ui::map::palette;
use crate::ui::model::LiveModel;

/// Notifications shown on the phone.
const SHOWN: usize = 12;

/// `place_of` names a product's place (a chain store or a site found in the data).
pub fn phone_ui(
    ui: &mut Ui,
    uid: &str,
    model: &LiveModel,
    place_of: impl Fn(&Notification) -> String,
) {
    egui::Frame::new()
        .fill(Color32::from_gray(18))
        .stroke(egui::Stroke::new(2.0, Color32::from_gray(90)))
        .corner_radius(14.0)
        .inner_margin(10.0)
        .show(ui, |ui| {
            ui.label(
                RichText::new(format!("{}'s phone", uid.get(..8).unwrap_or(uid)))
                    .small()
                    .color(Color32::from_gray(170)),
            );
            let mine: Vec<&Notification> = model
                .notifications
                .iter()
                .filter(|n| &*n.uid == uid)
                .take(SHOWN)
                .collect();
            if mine.is_empty() {
                ui.weak("No notifications yet.");
            }
            for n in mine {
                push_ui(ui, n, &place_of(n));
            }
        });
}

/// One push as a phone shows it.
fn push_ui(ui: &mut Ui, n: &Notification, place: &str) {
    egui::Frame::group(ui.style())
        .fill(Color32::from_gray(40))
        .corner_radius(8.0)
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.label(RichText::new(offer_text(n)).strong().color(palette::SITE));
            let mut where_ = format!("{:.0} ft away", n.dist_to_store_ft);
            if !place.is_empty() {
                where_.push_str(&format!(" in {place}"));
            }
            ui.label(where_);
            ui.label(
                RichText::new(format_clock_ms(n.timestamp_ms))
                    .small()
                    .color(Color32::from_gray(150)),
            );
        });
}
