//! The replay timeline: position, restart, step, jump, loop, and a histogram of pings (grey)
//! and NEARBY_CUSTOMERS (red) per minute, so busy moments are visible.

use egui::{Color32, Ui};

use crate::ui::command::Command;
use crate::ui::map::palette;
use crate::ui::model::LiveModel;
use crate::ui::source::Timeline;

/// What the timeline keeps between frames.
#[derive(Debug, Default)]
pub struct TimelineState {
    /// The jump-to text, and why it was not a time.
    jump_to: String,
    jump_error: Option<String>,
    /// A looped range of event time.
    replay_loop: Option<(i64, i64)>,
}

/// `HH:MM[:SS]` on the dump's first day, or a full RFC 3339 time.
fn parse_jump(text: &str, first_ms: i64) -> Option<i64> {
    let t = text.trim();
    if let Ok(ms) = crate::engine::rfc3339::parse_rfc3339_ms(t) {
        return Some(ms);
    }
    let mut parts = t.split(':').map(|p| p.parse::<i64>().ok());
    let (h, m) = (parts.next()??, parts.next()??);
    let s = parts.next().flatten().unwrap_or(0);
    if !(0..24).contains(&h) || !(0..60).contains(&m) || !(0..60).contains(&s) {
        return None;
    }
    let day = first_ms - first_ms.rem_euclid(86_400_000);
    Some(day + ((h * 60 + m) * 60 + s) * 1_000)
}

/// Returns a seek when the operator asked for one (or the loop wrapped around).
pub fn timeline_ui(
    ui: &mut Ui,
    state: &mut TimelineState,
    timeline: &Timeline,
    model: &LiveModel,
    display_ms: i64,
) -> Option<Command> {
    let dump = &timeline.dump;
    let (Some(first), Some(last)) = (dump.first_ms(), dump.last_ms()) else {
        ui.label("The dump has no timestamps.");
        return None;
    };
    let mut seek = None;
    let now = model.latest_event_ms.unwrap_or(first);
    // Looping: back to the start of the range once the end is passed.
    if let Some((from, to)) = state.replay_loop {
        if now >= to {
            seek = Some(Some(from));
        }
    }
    ui.horizontal(|ui| {
        if ui.button("Restart").clicked() {
            seek = Some(None);
        }
        if ui
            .button("Step +10 s")
            .on_hover_text("Advance 10 s of event time (stays paused)")
            .clicked()
        {
            seek = Some(Some((now + 10_000).min(last)));
        }
        let jump = ui.add(
            egui::TextEdit::singleline(&mut state.jump_to)
                .hint_text("jump to HH:MM:SS or RFC 3339")
                .desired_width(150.0),
        );
        if jump.changed() {
            state.jump_error = None;
        }
        if jump.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)) {
            match parse_jump(&state.jump_to, first) {
                Some(t) => seek = Some(Some(t.clamp(first, last))),
                None => state.jump_error = Some(format!("not a time: {:?}", state.jump_to)),
            }
        }
        if let Some(e) = &state.jump_error {
            ui.colored_label(palette::ERROR, e);
        }
        let mut looping = state.replay_loop.is_some();
        if ui
            .checkbox(&mut looping, "loop")
            .on_hover_text("Loop from here for the next 5 minutes of event time")
            .changed()
        {
            state.replay_loop = looping.then_some((now, (now + 5 * 60_000).min(last)));
        }
        let mut at = display_ms.clamp(first, last);
        let label = crate::engine::rfc3339::format_rfc3339_ms(at).replace('T', " ");
        let width = (ui.available_width() - 160.0).max(100.0);
        ui.spacing_mut().slider_width = width;
        let slider = egui::Slider::new(&mut at, first..=last)
            .show_value(false)
            .text(label);
        let response = ui.add(slider);
        if response.drag_stopped() || (response.changed() && !response.dragged()) {
            seek = Some(Some(at));
        }
    });
    histogram_ui(ui, timeline, model, first, last, display_ms);
    seek.map(Command::Seek)
}

/// Pings per minute (grey bars), NEARBY_CUSTOMERS per minute (red, inside), and where the
/// map is (a white line).
fn histogram_ui(
    ui: &mut Ui,
    timeline: &Timeline,
    model: &LiveModel,
    first: i64,
    last: i64,
    display_ms: i64,
) {
    let pings = &timeline.pings_per_minute;
    let start_minute = first - first.rem_euclid(60_000);
    let (rect, _) =
        ui.allocate_exact_size(egui::vec2(ui.available_width(), 36.0), egui::Sense::hover());
    let painter = ui.painter_at(rect);
    let minutes = pings.len().max(1);
    let max = pings.iter().copied().max().unwrap_or(1).max(1) as f32;
    let bar_w = rect.width() / minutes as f32;
    let mut matches = vec![0u64; minutes];
    for ((minute, _), n) in &model.per_minute {
        let i = ((minute - start_minute) / 60_000).max(0) as usize;
        if let Some(m) = matches.get_mut(i) {
            *m += n;
        }
    }
    let max_matches = matches.iter().copied().max().unwrap_or(1).max(1) as f32;
    for (i, n) in pings.iter().enumerate() {
        let x = rect.left() + i as f32 * bar_w;
        let h = rect.height() * *n as f32 / max;
        painter.rect_filled(
            egui::Rect::from_min_max(
                egui::pos2(x, rect.bottom() - h),
                egui::pos2(x + bar_w * 0.9, rect.bottom()),
            ),
            0.0,
            palette::PINGS,
        );
        let m = matches[i] as f32 / max_matches * rect.height() * 0.9;
        if m > 0.0 {
            painter.rect_filled(
                egui::Rect::from_min_max(
                    egui::pos2(x + bar_w * 0.3, rect.bottom() - m),
                    egui::pos2(x + bar_w * 0.6, rect.bottom()),
                ),
                0.0,
                palette::MATCH,
            );
        }
    }
    let span = (last - first).max(1) as f32;
    let x = rect.left() + rect.width() * (display_ms.clamp(first, last) - first) as f32 / span;
    painter.line_segment(
        [egui::pos2(x, rect.top()), egui::pos2(x, rect.bottom())],
        egui::Stroke::new(1.5, Color32::WHITE),
    );
}

#[cfg(test)]
mod tests {
    use super::parse_jump;

    #[test]
    fn jump_times() {
        let first = 1_764_144_284_481; // 2025-11-26T08:04:44.481Z
        assert_eq!(parse_jump("09:00", first), Some(1_764_147_600_000));
        assert_eq!(parse_jump("09:00:30", first), Some(1_764_147_630_000));
        assert_eq!(
            parse_jump("2025-11-26T09:00:00Z", first),
            Some(1_764_147_600_000)
        );
        assert_eq!(parse_jump("25:00", first), None);
        assert_eq!(parse_jump("soon", first), None);
    }
}
