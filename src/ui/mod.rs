//! The operator console (eframe): live map with geofence rings, the notification feed,
//! promotion authoring, engine counters and parameters.

pub mod app;
pub mod bench;
pub mod campaign_book;
pub mod campaign_runner;
pub mod command;
pub mod display_clock;
pub mod export;
pub mod file_dialogs;
pub mod map;
pub mod model;
pub mod options;
pub mod outbox;
pub mod panels;
pub mod places;
pub mod promotion_editor;
pub mod replay_checkpoints;
pub mod session;
pub mod settings;
pub mod source;
pub mod trail;

pub use app::ConsoleApp;
pub use options::ConsoleOptions;

/// Tells glibc's malloc to keep freed memory. Every frame allocates and frees megabytes of
/// vertices (ours and egui's); by default glibc returns such blocks to the kernel and the next
/// frame faults them in again, which cost about a third of the frame in the UI benchmark.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn keep_freed_memory() {
    // SAFETY: mallopt only changes allocator tuning parameters; it is called before the
    // console starts its threads and takes plain integers.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 512 << 20);
        libc::mallopt(libc::M_TOP_PAD, 64 << 20);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn keep_freed_memory() {}

/// Opens the console window and runs until it is closed.
pub fn run_console(options: ConsoleOptions) -> anyhow::Result<()> {
    keep_freed_memory();
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
        Box::new(move |cc| {
            let mut app = ConsoleApp::new(options, cc.storage, &cc.egui_ctx);
            // Rings and dots as GPU instances (INSTORE_GPU_SPRITES=0: as meshes, to compare).
            let wanted = std::env::var("INSTORE_GPU_SPRITES").map_or(true, |v| v != "0");
            if let (true, Some(render_state)) = (wanted, cc.wgpu_render_state.as_ref()) {
                map::gpu_sprites::install(render_state);
                app.map.use_gpu_sprites();
            }
            Ok(Box::new(app))
        }),
    )
    .map_err(|e| anyhow::anyhow!("the console could not start: {e}"))
}
