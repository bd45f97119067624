//! Promotion authoring: the form (product from the map or a searchable list, or a whole
//! segment), validation messages, publish, and the published list with delivery states,
//! re-announce and end.

use egui::{RichText, Ui};

use crate::engine::rfc3339::format_rfc3339_ms;
use crate::io::simulator::rng::SplitMix64;
use crate::ui::command::Command;
use crate::ui::map::palette;
use crate::ui::model::LiveModel;
use crate::ui::outbox::{Announcement, DeliveryState, Outbox};
use crate::ui::promotion_editor::{PromotionDraft, SkuLookup};

impl SkuLookup for LiveModel {
    fn segment_of(&self, sku: i64) -> Option<String> {
        self.product(sku)
            .map(|p| p.product.segment.as_deref().unwrap_or_default().to_owned())
    }
}

/// The form's transient state.
#[derive(Debug, Default)]
pub struct PromotionForm {
    pub search: String,
    pub problems: Vec<String>,
    rng: Option<SplitMix64>,
}

impl PromotionForm {
    /// A fresh promotion id.
    pub fn new_pid(&mut self) -> String {
        let rng = self.rng.get_or_insert_with(|| {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64);
            SplitMix64::new(nanos)
        });
        rng.uuid()
    }
}

/// Fills the draft from a product (the map's "promote this product").
pub fn pick_product(draft: &mut PromotionDraft, model: &LiveModel, sku: i64) {
    draft.whole_segment = false;
    draft.sku = sku.to_string();
    draft.sku_confirmed = false;
    if let Some(segment) = model.segment_of(sku) {
        draft.segment = segment;
    }
}

pub fn form(
    ui: &mut Ui,
    draft: &mut PromotionDraft,
    form: &mut PromotionForm,
    model: &LiveModel,
    segments: &[String],
    now_ms: i64,
) -> Option<Command> {
    let mut publish = None;
    if draft.pid.trim().is_empty() {
        draft.pid = form.new_pid();
    }
    egui::Grid::new("promotion-form")
        .num_columns(2)
        .show(ui, |ui| {
            let label = ui.label("pid");
            ui.horizontal(|ui| {
                ui.add(
                    egui::TextEdit::singleline(&mut draft.pid)
                        .desired_width(200.0)
                        .id_salt("pid"),
                )
                .labelled_by(label.id);
                if ui.small_button("new").clicked() {
                    draft.pid = form.new_pid();
                }
            });
            ui.end_row();

            ui.label("applies to");
            ui.horizontal(|ui| {
                ui.radio_value(&mut draft.whole_segment, false, "one product");
                ui.radio_value(&mut draft.whole_segment, true, "whole segment");
            });
            ui.end_row();

            if !draft.whole_segment {
                let label = ui.label("SKU");
                ui.horizontal(|ui| {
                    let edited = ui
                        .add(
                            egui::TextEdit::singleline(&mut draft.sku)
                                .desired_width(80.0)
                                .id_salt("sku"),
                        )
                        .labelled_by(label.id)
                        .changed();
                    let known = draft
                        .sku
                        .trim()
                        .parse::<i64>()
                        .ok()
                        .and_then(|s| model.product(s));
                    // A typed SKU the engine knows fills its segment, as picking it does.
                    if let Some(segment) = known
                        .filter(|_| edited)
                        .and_then(|p| p.product.segment.as_deref())
                    {
                        draft.segment = segment.to_owned();
                    }
                    match known {
                        Some(p) => {
                            ui.weak(format!(
                                "{} · {}",
                                p.product.segment.as_deref().unwrap_or("—"),
                                p.product.variant.as_deref().unwrap_or("—")
                            ));
                        }
                        None if !draft.sku.trim().is_empty() => {
                            ui.checkbox(&mut draft.sku_confirmed, "publish anyway");
                        }
                        None => {}
                    }
                });
                ui.end_row();
            }

            let label = ui.label("segment");
            egui::ComboBox::from_id_salt("promotion-segment")
                .selected_text(if draft.segment.is_empty() {
                    "choose…"
                } else {
                    &draft.segment
                })
                .show_ui(ui, |ui| {
                    for s in segments {
                        ui.selectable_value(&mut draft.segment, s.clone(), s);
                    }
                })
                .response
                .labelled_by(label.id);
            ui.end_row();

            let label = ui.label("title");
            ui.add(
                egui::TextEdit::singleline(&mut draft.title)
                    .hint_text("optional")
                    .id_salt("title"),
            )
            .labelled_by(label.id);
            ui.end_row();

            let label = ui.label("discount %");
            ui.add(
                egui::TextEdit::singleline(&mut draft.discount_pct)
                    .hint_text("0–100, optional")
                    .desired_width(80.0)
                    .id_salt("discount"),
            )
            .labelled_by(label.id);
            ui.end_row();

            let label = ui.label("valid until");
            ui.horizontal(|ui| {
                ui.add(
                    egui::TextEdit::singleline(&mut draft.valid_until)
                        .hint_text("RFC 3339, optional")
                        .id_salt("valid-until"),
                )
                .labelled_by(label.id);
                if ui.small_button("+2h").clicked() {
                    draft.valid_until = format_rfc3339_ms(now_ms + 2 * 3_600_000);
                }
            });
            ui.end_row();
        });

    if !draft.whole_segment {
        egui::CollapsingHeader::new("Find a product")
            .id_salt("find-product")
            .show(ui, |ui| {
                ui.add(
                    egui::TextEdit::singleline(&mut form.search)
                        .hint_text("SKU, segment or variant")
                        .id_salt("product-search"),
                );
                let needle = form.search.trim().to_lowercase();
                egui::ScrollArea::vertical()
                    .id_salt("product-list")
                    .max_height(140.0)
                    .show(ui, |ui| {
                        let mut shown = 0;
                        for p in &model.products {
                            let text = format!(
                                "{} · {} · {}",
                                p.sku,
                                p.product.segment.as_deref().unwrap_or("—"),
                                p.product.variant.as_deref().unwrap_or("—")
                            );
                            if !needle.is_empty() && !text.to_lowercase().contains(&needle) {
                                continue;
                            }
                            if ui
                                .selectable_label(draft.sku == p.sku.to_string(), text)
                                .clicked()
                            {
                                pick_product(draft, model, p.sku);
                            }
                            shown += 1;
                            if shown == 50 {
                                ui.weak("… refine the search");
                                break;
                            }
                        }
                    });
            });
    }

    if ui
        .button(RichText::new("Publish to products_promotions").strong())
        .clicked()
    {
        match draft.validate(model) {
            Ok(record) => {
                publish = Some(Command::Publish {
                    record,
                    announcement: Announcement::New,
                    now_ms,
                });
                form.problems.clear();
                draft.pid = form.new_pid();
            }
            Err(problems) => form.problems = problems,
        }
    }
    for p in &form.problems {
        ui.label(RichText::new(p).color(palette::ERROR));
    }
    publish
}

/// The outbox's items with their delivery states; a retry or a re-announcement is returned.
pub fn published(ui: &mut Ui, outbox: &Outbox, now_ms: i64) -> Option<Command> {
    if outbox.items.is_empty() {
        ui.weak("Nothing published from this console yet.");
        return None;
    }
    let mut retry = None;
    let mut again = None;
    for (i, item) in outbox.items.iter().enumerate().rev() {
        ui.horizontal_wrapped(|ui| {
            let what = item
                .record
                .sku
                .map_or(format!("segment {}", item.record.segment), |s| {
                    format!("SKU {s} ({})", item.record.segment)
                });
            let pid = item.record.pid.get(..8).unwrap_or(&item.record.pid);
            ui.label(RichText::new(format!("{pid} · {what}")).monospace());
            if item.announcement != Announcement::New {
                ui.weak(format!("{:?}", item.announcement).to_lowercase());
            }
            match &item.state {
                DeliveryState::Pending {
                    attempts,
                    last_error,
                } => {
                    ui.label(RichText::new("pending").color(palette::WARNING));
                    if let Some(e) = last_error {
                        ui.weak(format!("({attempts} tries: {e})"));
                    }
                }
                DeliveryState::InFlight => {
                    ui.label(
                        RichText::new("sent, waiting for the acknowledgement")
                            .color(palette::WARNING),
                    );
                }
                DeliveryState::Delivered { partition, offset } => {
                    ui.label(
                        RichText::new(format!("delivered p{partition}@{offset}"))
                            .color(palette::OK),
                    );
                    if item.announcement != Announcement::Ended {
                        if ui.small_button("re-announce").clicked() {
                            again = Some((i, Announcement::Reannounced));
                        }
                        if ui.small_button("end").clicked() {
                            again = Some((i, Announcement::Ended));
                        }
                    }
                }
                DeliveryState::Failed { reason } => {
                    ui.label(RichText::new(format!("failed: {reason}")).color(palette::ERROR));
                    if ui.small_button("retry").clicked() {
                        retry = Some(i);
                    }
                }
            }
        });
    }
    if let Some(i) = retry {
        return Some(Command::RetryPublish(i));
    }
    let (i, announcement) = again?;
    let mut record = outbox.items.get(i)?.record.clone();
    if announcement == Announcement::Ended {
        record.valid_until = Some(format_rfc3339_ms(now_ms));
    }
    Some(Command::Publish {
        record,
        announcement,
        now_ms,
    })
}
