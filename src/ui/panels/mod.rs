//! The console's panels around the map.

pub mod details;
pub mod engine;
pub mod feed;
pub mod params;
pub mod promotions;
pub mod status;
