//! Recording the live session to a dump (with size and time limits), and the exports.

use egui::{RichText, Ui};

use crate::io::live::RecordingStatus;
use crate::ui::command::{Command, Commands};
use crate::ui::file_dialogs::{DialogFor, Pick};
use crate::ui::map::palette;
use crate::ui::settings::ConsoleSettings;

/// The REC light and its stop button, or the Record… menu with its limits; then Export….
pub fn recording_ui(
    ui: &mut Ui,
    recording: Option<&RecordingStatus>,
    settings: &mut ConsoleSettings,
    commands: &mut Commands,
) {
    match recording {
        Some(r) if r.active => {
            ui.label(
                RichText::new(format!(
                    "REC {} records · {:.1} MB",
                    r.records,
                    r.bytes as f64 / 1e6
                ))
                .color(palette::MATCH),
            )
            .on_hover_text(&r.path);
            if ui.button("Stop recording").clicked() {
                commands.push(Command::StopRecording);
            }
        }
        other => {
            if let Some((r, ended)) = other.and_then(|r| r.ended.as_ref().map(|e| (r, e))) {
                ui.weak(format!("recorded {} records ({ended})", r.records))
                    .on_hover_text(&r.path);
            }
            ui.menu_button("Record…", |ui| {
                ui.label("Write every record the engine takes to a kcat -J dump.");
                ui.horizontal(|ui| {
                    ui.label("stop at");
                    ui.add(
                        egui::DragValue::new(&mut settings.record_max_mb)
                            .range(1..=100_000)
                            .suffix(" MB"),
                    );
                    ui.label("or after");
                    ui.add(
                        egui::DragValue::new(&mut settings.record_max_minutes)
                            .range(1..=24 * 60)
                            .suffix(" min"),
                    );
                });
                uids_choice(ui, settings);
                if ui.button("Choose file and start").clicked() {
                    commands.push(Command::OpenDialog {
                        purpose: DialogFor::RecordTo,
                        dialog: rfd::AsyncFileDialog::new().set_file_name("session.jsonl.gz"),
                        pick: Pick::SaveFile,
                    });
                    ui.close();
                }
            });
        }
    }
    ui.menu_button("Export…", |ui| {
        uids_choice(ui, settings);
        if ui.button("Notification feed as CSV…").clicked() {
            commands.push(Command::OpenDialog {
                purpose: DialogFor::FeedCsv,
                dialog: rfd::AsyncFileDialog::new().set_file_name("notifications.csv"),
                pick: Pick::SaveFile,
            });
            ui.close();
        }
        if ui
            .button("Stores, sites, products and rings as GeoJSON…")
            .clicked()
        {
            commands.push(Command::OpenDialog {
                purpose: DialogFor::ViewGeoJson,
                dialog: rfd::AsyncFileDialog::new().set_file_name("view.geojson"),
                pick: Pick::SaveFile,
            });
            ui.close();
        }
    });
}

/// Whether recordings and the feed CSV carry pseudonyms (the default) or raw uids.
fn uids_choice(ui: &mut Ui, settings: &mut ConsoleSettings) {
    ui.checkbox(&mut settings.raw_uids, "Raw shopper uids")
        .on_hover_text(
            "Off: each uid is written as this installation's pseudonym (HMAC-SHA256 with a key \
             kept in your config folder), the same for the same shopper. On: the uids the \
             phones send, which identify people.",
        );
    if settings.raw_uids {
        ui.colored_label(
            egui::Color32::from_rgb(200, 120, 0),
            "uids will be written raw",
        );
    }
}
