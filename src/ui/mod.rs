//! The operator console (eframe): live map with geofence rings, the notification feed,
//! promotion authoring, engine counters and parameters.

pub mod app;
pub mod map;
pub mod model;
pub mod outbox;
pub mod panels;
pub mod promotion_editor;
pub mod session;
pub mod settings;

pub use app::{ConsoleApp, ConsoleOptions};

/// Opens the console window and runs until it is closed.
pub fn run_console(options: ConsoleOptions) -> anyhow::Result<()> {
    let native = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("instore — in-store personalization console")
            .with_inner_size([1500.0, 920.0])
            .with_min_inner_size([900.0, 600.0]),
        ..eframe::NativeOptions::default()
    };
    eframe::run_native(
        "instore",
        native,
        Box::new(move |cc| Ok(Box::new(ConsoleApp::new(options, cc.storage)))),
    )
    .map_err(|e| anyhow::anyhow!("the console could not start: {e}"))
}
