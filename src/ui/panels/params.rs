//! The pipeline parameters editor: every change goes to the engine at once (it rebuilds its
//! joins from the inputs it kept), so the rings on the map follow the slider.

use egui::Ui;

use crate::engine::{DecimalPolicy, PipelineParams, PromotionMatchKey};

const MIN_MS: i64 = 60_000;

/// Returns true when something changed.
pub fn editor(ui: &mut Ui, params: &mut PipelineParams, cooldown_ms: &mut i64) -> bool {
    let before = (params.clone(), *cooldown_ms);
    egui::Grid::new("params").num_columns(2).show(ui, |ui| {
        let label = ui.label("geofence radius");
        ui.add(
            egui::Slider::new(&mut params.radius_ft, 5.0..=500.0)
                .suffix(" ft")
                .logarithmic(true),
        )
        .labelled_by(label.id);
        ui.end_row();

        ui.label("promotion window");
        minutes(ui, &mut params.promotion_window_ms, 1..=24 * 60);
        ui.end_row();

        ui.label("customer window");
        minutes(ui, &mut params.customer_window_ms, 1..=24 * 60);
        ui.end_row();

        ui.label("promotion grace");
        grace(ui, "promotion-grace", &mut params.promotion_grace_ms);
        ui.end_row();

        ui.label("customer grace");
        grace(ui, "customer-grace", &mut params.customer_grace_ms);
        ui.end_row();

        let label = ui.label("match key");
        egui::ComboBox::from_id_salt("match-key")
            .selected_text(params.match_key.name())
            .show_ui(ui, |ui| {
                for key in [
                    PromotionMatchKey::Segment,
                    PromotionMatchKey::Sku,
                    PromotionMatchKey::SkuOrSegment,
                ] {
                    ui.selectable_value(&mut params.match_key, key, key.name());
                }
            })
            .response
            .labelled_by(label.id);
        ui.end_row();

        let label = ui.label("decimals");
        egui::ComboBox::from_id_salt("decimals")
            .selected_text(params.decimal_policy.name())
            .show_ui(ui, |ui| {
                for policy in [DecimalPolicy::Round, DecimalPolicy::Strict] {
                    ui.selectable_value(&mut params.decimal_policy, policy, policy.name());
                }
            })
            .response
            .labelled_by(label.id);
        ui.end_row();

        ui.label("notification cooldown");
        minutes(ui, cooldown_ms, 0..=24 * 60);
        ui.end_row();
    });
    if ui.button("Reset to the original pipeline's").clicked() {
        *params = PipelineParams::default();
        *cooldown_ms = crate::engine::notify::DEFAULT_COOLDOWN_MS;
    }
    ui.weak("Decimal policy applies to records that arrive from now on.");
    (params.clone(), *cooldown_ms) != before
}

fn minutes(ui: &mut Ui, value_ms: &mut i64, range: std::ops::RangeInclusive<i64>) {
    let mut m = *value_ms / MIN_MS;
    if ui
        .add(egui::DragValue::new(&mut m).range(range).suffix(" min"))
        .changed()
    {
        *value_ms = m * MIN_MS;
    }
}

fn grace(ui: &mut Ui, id: &str, value_ms: &mut Option<i64>) {
    ui.horizontal(|ui| {
        let mut default = value_ms.is_none();
        if ui.checkbox(&mut default, "default").changed() {
            *value_ms = if default { None } else { Some(0) };
        }
        if let Some(v) = value_ms.as_mut() {
            ui.push_id(id, |ui| minutes(ui, v, 0..=48 * 60));
        }
    });
}
