//! The source line: what feeds the engine, running or paused, event time against wall time,
//! and the speed.

use egui::{Color32, RichText, Ui};

use crate::engine::rfc3339::{format_clock_ms, format_rfc3339_ms};
use crate::io::sim_feed::Speed;
use crate::ui::command::Command;
use crate::ui::map::palette;
use crate::ui::model::LiveModel;
use crate::ui::session::Session;

/// Speeds offered for the simulator.
const SPEEDS: [f64; 10] = [
    0.25,
    0.5,
    1.0,
    2.0,
    5.0,
    10.0,
    60.0,
    300.0,
    1000.0,
    f64::INFINITY,
];

/// Pausing and a new speed are returned, not applied.
pub fn source_line(
    ui: &mut Ui,
    session: Option<&Session>,
    model: &LiveModel,
    display_ms: i64,
) -> Option<Command> {
    let mut picked = None;
    let Some(session) = session else {
        ui.label(RichText::new("no source").color(Color32::GRAY));
        return None;
    };
    let (state, colour) = match session.feed() {
        _ if session.replay_failure().is_some() => ("stopped", palette::ERROR),
        _ if model.source_closed => ("ended", Color32::GRAY),
        // The engine stays up after a replay's last record (to seek or restart): the replay
        // is over, though nothing stopped.
        _ if session.replay_ended(model.stats.records_pushed) => ("end of dump", Color32::GRAY),
        Some(feed) if feed.is_paused() => ("paused", palette::WARNING),
        _ => ("running", palette::OK),
    };
    ui.label(RichText::new(state.to_uppercase()).color(colour).strong());
    ui.label(session.label());
    if let Some(feed) = session.feed() {
        let label = if feed.is_paused() { "Resume" } else { "Pause" };
        if ui.button(label).clicked() {
            picked = Some(Command::Pause(!feed.is_paused()));
        }
        let current = feed.speed();
        egui::ComboBox::new("speed", "speed")
            .selected_text(speed_label(current))
            .width(60.0)
            .show_ui(ui, |ui| {
                for s in SPEEDS {
                    let speed = if s.is_finite() {
                        Speed::Times(s)
                    } else {
                        Speed::Max
                    };
                    if ui
                        .selectable_label(speed == current, speed_label(speed))
                        .clicked()
                    {
                        picked = Some(Command::SetSpeed(speed));
                    }
                }
            });
    }
    ui.separator();
    let event = format_rfc3339_ms(display_ms);
    ui.label(format!("event time {}", event.get(..19).unwrap_or(&event).replace('T', " ")))
        .on_hover_text("Simulated record time on the map (the newest record may be a few seconds ahead; dots glide between pings).");
    let wall = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    ui.weak(format!("wall {}", format_clock_ms(wall)));
    picked
}

fn speed_label(speed: Speed) -> String {
    match speed {
        Speed::Max => "max".into(),
        Speed::Times(n) => format!("{n}×"),
    }
}
