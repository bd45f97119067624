//! The console's panels around the map. Each draws from what it is given and returns
//! [`crate::ui::command::Command`]s instead of changing the source, the outbox or files.

pub mod campaigns;
pub mod details;
pub mod engine;
pub mod feed;
pub mod params;
pub mod phone;
pub mod promotions;
pub mod recording;
pub mod retention;
pub mod sides;
pub mod source_menu;
pub mod status;
pub mod tiles_menu;
pub mod timeline;
pub mod top_bar;
