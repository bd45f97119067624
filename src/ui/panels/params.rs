//! The pipeline parameters editor: every change goes to the engine at once (it rebuilds its
//! joins from the inputs it kept), so the rings on the map follow the slider.

use egui::Ui;

use crate::engine::notify::{NotifyParams, NotifyRule};
use crate::engine::sql::SqlDialect;
use crate::engine::{DecimalPolicy, PipelineParams, PromotionMatchKey};
use crate::ui::command::Command;
use crate::ui::file_dialogs::{DialogFor, Pick};

const MIN_MS: i64 = 60_000;

/// Returns true when something changed.
pub fn editor(
    ui: &mut Ui,
    params: &mut PipelineParams,
    notify: &mut NotifyParams,
    state_memory_mb: &mut u64,
) -> bool {
    let before = (params.clone(), notify.clone(), *state_memory_mb);
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

        notify_rows(ui, notify);

        let label = ui.label("state memory");
        ui.add(
            egui::DragValue::new(state_memory_mb)
                .range(0..=1_000_000)
                .speed(10.0)
                .suffix(" MB"),
        )
        .labelled_by(label.id)
        .on_hover_text(
            "A budget for the joins' state (0: none). Past it the oldest pings and valid \
             promotions are given up, as a shorter customer grace would, and the Engine panel \
             says so. Inputs kept for re-tuning take at most half as much again.",
        );
        ui.end_row();
    });
    if ui.button("Reset to the original pipeline's").clicked() {
        *params = PipelineParams::default();
        *notify = NotifyParams::default();
    }
    ui.weak("Decimal policy applies to records that arrive from now on.");
    (params.clone(), notify.clone(), *state_memory_mb) != before
}

/// The notification rule and the parameters it uses.
fn notify_rows(ui: &mut Ui, notify: &mut NotifyParams) {
    let label = ui.label("notify on");
    egui::ComboBox::from_id_salt("notify-rule")
        .selected_text(notify.rule.name())
        .show_ui(ui, |ui| {
            for rule in NotifyRule::ALL {
                ui.selectable_value(&mut notify.rule, rule, rule.name());
            }
        })
        .response
        .labelled_by(label.id)
        .on_hover_text(
            "every: each match (the original) · cooldown: once per shopper and promotion per \
             cooldown · enter: on coming within the radius · dwell: after staying inside",
        );
    ui.end_row();
    match notify.rule {
        NotifyRule::Every => {}
        NotifyRule::Cooldown => {
            ui.label("notification cooldown");
            minutes(ui, &mut notify.cooldown_ms, 0..=24 * 60);
            ui.end_row();
        }
        NotifyRule::Enter | NotifyRule::Dwell => {
            ui.label("leave after radius +");
            ui.add(
                egui::DragValue::new(&mut notify.hysteresis_ft)
                    .range(0.0..=200.0)
                    .suffix(" ft"),
            );
            ui.end_row();
        }
    }
    if notify.rule == NotifyRule::Dwell {
        ui.label("dwell");
        let mut seconds = notify.dwell_ms / 1000;
        if ui
            .add(
                egui::DragValue::new(&mut seconds)
                    .range(0..=3_600)
                    .suffix(" s"),
            )
            .changed()
        {
            notify.dwell_ms = seconds * 1000;
        }
        ui.end_row();
    }
    ui.label("at most per shopper");
    ui.add(
        egui::DragValue::new(&mut notify.cap_per_hour)
            .range(0..=60)
            .suffix(" an hour"),
    )
    .on_hover_text("0: no cap");
    ui.end_row();
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

/// "Export as SQL…": these parameters as a ksqlDB or Flink SQL script, for a user who moves
/// the pipeline to a cluster; `status` says what the last export did.
pub fn export_menu(ui: &mut Ui, params: &PipelineParams, status: Option<&str>) -> Option<Command> {
    let mut command = None;
    let expressible = params.match_key != PromotionMatchKey::SkuOrSegment;
    ui.add_enabled_ui(expressible, |ui| {
        ui.menu_button("Export as SQL…", |ui| {
            let choices = [
                (SqlDialect::Ksqldb, "ksqlDB statements…", "pipeline.ksql"),
                (
                    SqlDialect::Flink,
                    "Flink SQL (Kafka tables)…",
                    "pipeline.flink.sql",
                ),
            ];
            for (dialect, label, file) in choices {
                if ui.button(label).clicked() {
                    command = Some(Command::OpenDialog {
                        purpose: DialogFor::SqlScript(dialect),
                        dialog: rfd::AsyncFileDialog::new().set_file_name(file),
                        pick: Pick::SaveFile,
                    });
                    ui.close();
                }
            }
        })
    })
    .response
    .on_disabled_hover_text(
        "match key sku_or_segment decides per promotion from the products seen so far; a SQL \
         join has one fixed key: pick segment or sku to export",
    );
    if let Some(status) = status {
        ui.weak(status);
    }
    command
}
