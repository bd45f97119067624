//! The top bar: the source line and its errors, loading progress, recording and exports,
//! opening dumps, the store picker, and the Layers, Source and Tiles menus.

use std::sync::atomic::Ordering;

use egui::{RichText, Ui};

use crate::io::chain::Chain;
use crate::ui::command::{Command, Commands};
use crate::ui::file_dialogs::{DialogFor, FileError, Pick};
use crate::ui::map::palette;
use crate::ui::map::tile_probe::TileReach;
use crate::ui::model::LiveModel;
use crate::ui::places::SitePlace;
use crate::ui::session::Session;
use crate::ui::settings::ConsoleSettings;
use crate::ui::source::Source;

use super::recording::recording_ui;
use super::source_menu::{source_menu_ui, SourceMenu};
use super::status;
use super::tiles_menu::tiles_menu_ui;

/// What the top bar reads and edits.
pub struct TopBar<'a> {
    pub source: &'a Source,
    pub model: &'a LiveModel,
    pub chain: &'a Chain,
    /// Sites derived from the data, and the one the map was last sent to.
    pub sites: &'a [SitePlace],
    pub current_site: Option<usize>,
    pub settings: &'a mut ConsoleSettings,
    pub source_menu: &'a mut SourceMenu,
    pub file_error: Option<&'a FileError>,
    /// Whether the map's tile server answers (`None`: no HTTP tiles).
    pub tile_reach: Option<TileReach>,
    pub display_ms: i64,
}

pub fn top_bar_ui(ui: &mut Ui, bar: TopBar<'_>, commands: &mut Commands) {
    let TopBar {
        source,
        model,
        chain,
        sites,
        current_site,
        settings,
        source_menu,
        file_error,
        tile_reach,
        display_ms,
    } = bar;
    ui.label(RichText::new("instore").strong());
    ui.separator();
    commands.extend(status::source_line(ui, source.session(), model, display_ms));
    if let Some(e) = source.error() {
        ui.colored_label(palette::ERROR, e.to_string());
    }
    if let Some(e) = source.session().and_then(Session::replay_failure) {
        ui.colored_label(palette::ERROR, format!("replay stopped: {}", e.headline()))
            .on_hover_text(e.to_string());
    }
    if source.session().is_none()
        && source.loading().is_none()
        && ui.button("Start simulator").clicked()
    {
        commands.push(Command::StartSimulator);
    }
    if let Some(load) = source.loading() {
        let n = load.progress.records.load(Ordering::Relaxed);
        let secs = load.started.elapsed().as_secs_f64().max(1e-3);
        ui.add(egui::Spinner::new());
        ui.label(format!(
            "loading dump: {n} records ({:.0}/s)",
            n as f64 / secs
        ));
        if ui.button("Cancel").clicked() {
            commands.push(Command::CancelLoad);
        }
    }
    if source.session().is_some() {
        recording_ui(ui, model.stats.recording.as_ref(), settings, commands);
    }
    if ui.button("Open dump…").clicked() {
        commands.push(Command::OpenDialog {
            purpose: DialogFor::OpenDumps,
            dialog: rfd::AsyncFileDialog::new()
                .add_filter("kcat -J dumps", &["jsonl", "json", "gz", "txt"]),
            pick: Pick::Files,
        });
    }
    if let Some(e) = file_error {
        ui.colored_label(palette::ERROR, e.to_string());
    }
    ui.separator();
    store_picker_ui(ui, chain, sites, current_site, settings, commands);
    ui.menu_button("Layers", |ui| {
        let l = &mut settings.layers;
        ui.checkbox(&mut l.footprints, "Store footprints");
        ui.checkbox(&mut l.products, "Products");
        ui.checkbox(&mut l.rings, "Geofence rings");
        ui.checkbox(&mut l.customers, "Customers");
        ui.checkbox(&mut l.trails, "Trails");
        ui.checkbox(&mut l.matches, "Matches");
    });
    // Stays open while the operator types and tests the connection.
    egui::containers::menu::MenuButton::new("Source")
        .config(
            egui::containers::menu::MenuConfig::new()
                .close_behavior(egui::PopupCloseBehavior::CloseOnClickOutside),
        )
        .ui(ui, |ui| source_menu_ui(ui, source_menu, settings, commands));
    ui.menu_button("Tiles", |ui| {
        tiles_menu_ui(ui, &mut settings.tiles, commands)
    });
    if tile_reach == Some(TileReach::Offline) {
        ui.colored_label(palette::WARNING, "map tiles: offline")
            .on_hover_text(
                "The tile server cannot be reached: the map shows the stores' vectors and \
                 tiles already cached. It is tried again every 20 s; Tiles → None turns tiles off.",
            );
    }
    ui.toggle_value(&mut settings.show_left_panel, "Panels");
    ui.toggle_value(&mut settings.show_right_panel, "Feed");
    if ui.button("Campaigns").clicked() {
        commands.push(Command::ToggleCampaigns);
    }
}

/// The current store, a list to jump to another store or a site found in the data, and
/// "All sites".
fn store_picker_ui(
    ui: &mut Ui,
    chain: &Chain,
    sites: &[SitePlace],
    current_site: Option<usize>,
    settings: &ConsoleSettings,
    commands: &mut Commands,
) {
    let store = || {
        settings
            .store_id
            .as_ref()
            .and_then(|id| chain.stores.iter().find(|s| &s.id == id))
            .map_or("Store…".to_owned(), |s| s.name.clone())
    };
    let current = current_site
        .and_then(|i| sites.get(i))
        .map_or_else(store, |site| site.name.clone());
    egui::ComboBox::new("store-picker", "store")
        .selected_text(current)
        .show_ui(ui, |ui| {
            for (i, s) in chain.stores.iter().enumerate() {
                if ui
                    .selectable_label(false, format!("{} — {}, {}", s.name, s.address, s.city))
                    .clicked()
                {
                    commands.push(Command::FocusStore(i));
                }
            }
            if !sites.is_empty() {
                ui.separator();
                ui.weak("found in the data");
            }
            for (i, place) in sites.iter().enumerate() {
                let n = place.site.points;
                let products = if n == 1 { "product" } else { "products" };
                let text = format!("{} — {n} {products}", place.name);
                if ui.selectable_label(false, text).clicked() {
                    commands.push(Command::FocusSite(i));
                }
            }
        });
    if ui
        .button("All sites")
        .on_hover_text("Fit the map to every store of the chain and every site in the data")
        .clicked()
    {
        commands.push(Command::ShowAllSites);
    }
}
