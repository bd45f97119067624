//! The Tiles menu: none, an HTTP tile server (OpenStreetMap's to start from), a tile folder
//! or a PMTiles file. The choice is saved with the settings.

use egui::Ui;

use crate::ui::command::{Command, Commands};
use crate::ui::file_dialogs::{DialogFor, Pick};
use crate::ui::map::tiles::TileChoice;

pub fn tiles_menu_ui(ui: &mut Ui, tiles: &mut TileChoice, commands: &mut Commands) {
    if ui
        .radio(matches!(tiles, TileChoice::None), "None (vectors only)")
        .clicked()
    {
        *tiles = TileChoice::None;
    }
    if ui
        .radio(
            matches!(tiles, TileChoice::Http { .. }),
            "HTTP tile server (OpenStreetMap by default)",
        )
        .clicked()
        && !matches!(tiles, TileChoice::Http { .. })
    {
        *tiles = TileChoice::osm();
    }
    if let TileChoice::Http {
        url_template,
        attribution,
    } = tiles
    {
        ui.add(egui::TextEdit::singleline(url_template).hint_text("https://…/{z}/{x}/{y}.png"));
        ui.add(egui::TextEdit::singleline(attribution).hint_text("attribution"));
    }
    if let TileChoice::Folder { path, attribution } | TileChoice::PmTiles { path, attribution } =
        tiles
    {
        ui.weak(path.display().to_string());
        ui.add(egui::TextEdit::singleline(attribution).hint_text("attribution"));
    }
    if ui.button("Tile folder…").clicked() {
        commands.push(Command::OpenDialog {
            purpose: DialogFor::TileFolder,
            dialog: rfd::AsyncFileDialog::new(),
            pick: Pick::Folder,
        });
    }
    if ui.button("PMTiles file…").clicked() {
        commands.push(Command::OpenDialog {
            purpose: DialogFor::PmTilesFile,
            dialog: rfd::AsyncFileDialog::new().add_filter("PMTiles", &["pmtiles"]),
            pick: Pick::File,
        });
    }
}
