//! The offer to delete old recordings: location traces identify shoppers even under
//! pseudonyms, so recordings older than the user's retention are listed with their age and
//! size, and deleted only when the operator says so.

use egui::{Context, RichText};

use crate::io::recordings::OldRecording;
use crate::ui::command::{Command, Commands};
use crate::ui::settings::ConsoleSettings;

/// Recordings past the retention, as last looked up, and whether the operator put the
/// question off for this session.
#[derive(Debug, Default)]
pub struct RetentionPrompt {
    pub old: Vec<OldRecording>,
    pub put_off: bool,
    /// When the list was last looked at (wall time, ms).
    pub checked_ms: Option<i64>,
}

pub fn retention_ui(
    ctx: &Context,
    prompt: &RetentionPrompt,
    now_ms: i64,
    settings: &mut ConsoleSettings,
    commands: &mut Commands,
) {
    if prompt.put_off || prompt.old.is_empty() {
        return;
    }
    egui::Window::new("Old recordings")
        .collapsible(false)
        .resizable(false)
        .anchor(egui::Align2::CENTER_CENTER, [0.0, 0.0])
        .show(ctx, |ui| {
            ui.label(format!(
                "{} recording(s) made by this installation are older than {} days. They hold \
                 shoppers' location traces, which identify people even with pseudonymous uids.",
                prompt.old.len(),
                settings.retention_days
            ));
            ui.add_space(4.0);
            egui::ScrollArea::vertical()
                .max_height(160.0)
                .show(ui, |ui| {
                    for r in &prompt.old {
                        let days = (now_ms - r.created_ms) / 86_400_000;
                        ui.label(
                            RichText::new(format!(
                                "{}  ·  {days} days old  ·  {:.1} MB",
                                r.path.display(),
                                r.bytes as f64 / 1e6
                            ))
                            .monospace(),
                        );
                    }
                });
            ui.horizontal(|ui| {
                ui.label("Keep recordings for");
                let changed = ui
                    .add(
                        egui::DragValue::new(&mut settings.retention_days)
                            .range(1..=3650)
                            .suffix(" days"),
                    )
                    .changed();
                if changed {
                    commands.push(Command::CheckRecordings);
                }
            });
            ui.horizontal(|ui| {
                if ui
                    .button(format!("Delete these {}", prompt.old.len()))
                    .clicked()
                {
                    commands.push(Command::DeleteRecordings(
                        prompt.old.iter().map(|r| r.path.clone()).collect(),
                    ));
                }
                if ui.button("Not now").clicked() {
                    commands.push(Command::PutOffRetention);
                }
            });
        });
}
