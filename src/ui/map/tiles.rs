//! Where map tiles come from. By default OpenStreetMap's raster tiles go under the vectors
//! (attribution drawn, tiles kept in a disk cache, sent with our own User-Agent as OSM's tile
//! policy asks); where they cannot be fetched the vector map shows on its own and the status
//! line says so ([`super::tile_probe`]). Another HTTP server (a `{z}/{x}/{y}` URL template), a
//! local folder of `{z}/{x}/{y}.png` tiles, a `.pmtiles` file, or none at all can be chosen.

use std::collections::HashMap;
use std::path::PathBuf;

use egui::{pos2, Rect};
use serde::{Deserialize, Serialize};
use walkers::sources::{Attribution, TileSource};
use walkers::{HttpOptions, HttpTiles, Style, Tile, TileId, TilePiece, Tiles};

/// The operator's choice of tiles (persisted).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TileChoice {
    /// Vectors only.
    None,
    /// `https://tile.openstreetmap.org/{z}/{x}/{y}.png` or similar.
    Http {
        url_template: String,
        attribution: String,
    },
    /// A folder with `{z}/{x}/{y}.png`.
    Folder { path: PathBuf, attribution: String },
    /// A `.pmtiles` archive.
    PmTiles { path: PathBuf, attribution: String },
}

impl Default for TileChoice {
    /// OpenStreetMap's standard tiles.
    fn default() -> Self {
        TileChoice::osm()
    }
}

/// Who we say we are to tile servers (OpenStreetMap's tile policy asks for an identifying
/// User-Agent).
const USER_AGENT: &str = concat!(
    "instore/",
    env!("CARGO_PKG_VERSION"),
    " (in-store personalization console)"
);

impl TileChoice {
    pub const OSM_TEMPLATE: &'static str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png";

    pub fn osm() -> TileChoice {
        TileChoice::Http {
            url_template: TileChoice::OSM_TEMPLATE.into(),
            attribution: "© OpenStreetMap contributors".into(),
        }
    }

    /// The attribution we draw on the map (walkers does not).
    pub fn attribution(&self) -> Option<&str> {
        match self {
            TileChoice::None => None,
            TileChoice::Http { attribution, .. }
            | TileChoice::Folder { attribution, .. }
            | TileChoice::PmTiles { attribution, .. } => Some(attribution),
        }
    }

    /// Builds the tile source; `None` for vectors only.
    pub fn build(&self, ctx: &egui::Context) -> Option<Box<dyn Tiles + Send>> {
        match self {
            TileChoice::None => None,
            TileChoice::Http { url_template, .. } => {
                let options = HttpOptions {
                    cache: tile_cache_dir(),
                    user_agent: Some(walkers::HeaderValue::from_static(USER_AGENT)),
                    ..HttpOptions::default()
                };
                Some(Box::new(HttpTiles::with_options(
                    TemplateSource {
                        template: url_template.clone(),
                    },
                    options,
                    ctx.clone(),
                )))
            }
            TileChoice::Folder { path, .. } => {
                Some(Box::new(FolderTiles::new(path.clone(), ctx.clone())))
            }
            TileChoice::PmTiles { path, .. } => {
                Some(Box::new(walkers::PmTiles::new(path, ctx.clone())))
            }
        }
    }
}

/// Why `--tiles` was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TileArgError {
    #[error("the URL template {0:?} needs {{z}}, {{x}} and {{y}}")]
    Template(String),
    #[error("{0} is neither none, osm, a tile folder nor a .pmtiles file")]
    NotFound(String),
}

impl TileChoice {
    /// `--tiles`: `none`, `osm`, an `http(s)://…{z}/{x}/{y}…` template, a `.pmtiles` file or
    /// a `{z}/{x}/{y}.png` folder. `attribution` defaults to OpenStreetMap's for
    /// openstreetmap.org tiles and to nothing otherwise (say it with `--tiles-attribution`).
    pub fn from_arg(arg: &str, attribution: Option<&str>) -> Result<TileChoice, TileArgError> {
        match arg {
            "none" => return Ok(TileChoice::None),
            "osm" => return Ok(TileChoice::osm()),
            _ => {}
        }
        let attribution = |default: &str| attribution.unwrap_or(default).to_owned();
        if arg.starts_with("http://") || arg.starts_with("https://") {
            if !["{z}", "{x}", "{y}"].iter().all(|p| arg.contains(p)) {
                return Err(TileArgError::Template(arg.to_owned()));
            }
            let osm = if arg.contains("openstreetmap.org") {
                "© OpenStreetMap contributors"
            } else {
                ""
            };
            return Ok(TileChoice::Http {
                url_template: arg.to_owned(),
                attribution: attribution(osm),
            });
        }
        let path = PathBuf::from(arg);
        if path.is_file() && path.extension().is_some_and(|e| e == "pmtiles") {
            Ok(TileChoice::PmTiles {
                path,
                attribution: attribution(""),
            })
        } else if path.is_dir() {
            Ok(TileChoice::Folder {
                path,
                attribution: attribution(""),
            })
        } else {
            Err(TileArgError::NotFound(arg.to_owned()))
        }
    }
}

/// Where downloaded tiles are kept between runs.
fn tile_cache_dir() -> Option<PathBuf> {
    Some(crate::io::folders::cache_folder()?.join("tiles"))
}

/// An HTTP source from a `{z}/{x}/{y}` URL template.
struct TemplateSource {
    template: String,
}

impl TileSource for TemplateSource {
    fn tile_url(&self, tile_id: TileId) -> String {
        expand_template(&self.template, tile_id)
    }

    fn attribution(&self) -> Attribution {
        // We draw the attribution ourselves; walkers needs a static one here.
        Attribution {
            text: "",
            url: "",
            logo_light: None,
            logo_dark: None,
        }
    }
}

pub fn expand_template(template: &str, tile_id: TileId) -> String {
    template
        .replace("{z}", &tile_id.zoom.to_string())
        .replace("{x}", &tile_id.x.to_string())
        .replace("{y}", &tile_id.y.to_string())
}

/// Tiles from a local `{z}/{x}/{y}.png` folder (walkers 0.65 has no such source). Missing
/// tiles are filled from the nearest coarser zoom level that exists, so a folder made up to
/// zoom 18 still serves a zoom-20 store view.
pub struct FolderTiles {
    root: PathBuf,
    ctx: egui::Context,
    loaded: HashMap<TileId, Option<Tile>>,
}

/// How many zoom levels up a missing tile is looked for.
const MAX_OVERZOOM: u8 = 6;

impl FolderTiles {
    pub fn new(root: PathBuf, ctx: egui::Context) -> Self {
        Self {
            root,
            ctx,
            loaded: HashMap::new(),
        }
    }

    fn load(&mut self, id: TileId) -> Option<Tile> {
        if let Some(tile) = self.loaded.get(&id) {
            return tile.clone();
        }
        let path = self
            .root
            .join(id.zoom.to_string())
            .join(id.x.to_string())
            .join(format!("{}.png", id.y));
        let tile = std::fs::read(&path)
            .ok()
            .and_then(|bytes| Tile::new(&bytes, &Style, id.zoom, 256, &self.ctx).ok());
        self.loaded.insert(id, tile.clone());
        tile
    }
}

impl Tiles for FolderTiles {
    fn at(&mut self, tile_id: TileId) -> Option<TilePiece> {
        let full = Rect::from_min_max(pos2(0.0, 0.0), pos2(1.0, 1.0));
        if let Some(tile) = self.load(tile_id) {
            return Some(TilePiece::new(tile, full));
        }
        for up in 1..=MAX_OVERZOOM.min(tile_id.zoom) {
            let parent = TileId {
                x: tile_id.x >> up,
                y: tile_id.y >> up,
                zoom: tile_id.zoom - up,
            };
            if let Some(tile) = self.load(parent) {
                let scale = 1.0 / f32::from(1u16 << up);
                let (dx, dy) = (
                    (tile_id.x - (parent.x << up)) as f32,
                    (tile_id.y - (parent.y << up)) as f32,
                );
                let uv = Rect::from_min_max(
                    pos2(dx * scale, dy * scale),
                    pos2((dx + 1.0) * scale, (dy + 1.0) * scale),
                );
                return Some(TilePiece::new(tile, uv));
            }
        }
        None
    }

    fn attribution(&self) -> Attribution {
        Attribution {
            text: "",
            url: "",
            logo_light: None,
            logo_dark: None,
        }
    }

    fn tile_size(&self) -> u32 {
        256
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_expand() {
        let id = TileId {
            x: 3,
            y: 5,
            zoom: 7,
        };
        assert_eq!(
            expand_template(TileChoice::OSM_TEMPLATE, id),
            "https://tile.openstreetmap.org/7/3/5.png"
        );
    }

    #[test]
    fn tiles_from_the_command_line() {
        let osm = TileChoice::from_arg(TileChoice::OSM_TEMPLATE, None).unwrap();
        assert_eq!(osm.attribution(), Some("© OpenStreetMap contributors"));
        assert_eq!(TileChoice::from_arg("osm", None), Ok(TileChoice::osm()));
        assert_eq!(TileChoice::default(), TileChoice::osm());
        assert_eq!(TileChoice::from_arg("none", None), Ok(TileChoice::None));
        assert_eq!(
            TileChoice::from_arg("https://tiles.example/{z}/{x}.png", None),
            Err(TileArgError::Template(
                "https://tiles.example/{z}/{x}.png".into()
            ))
        );
        let dir = tempfile::tempdir().unwrap();
        let folder = TileChoice::from_arg(dir.path().to_str().unwrap(), Some("© us")).unwrap();
        assert!(matches!(folder, TileChoice::Folder { .. }));
        assert_eq!(folder.attribution(), Some("© us"));
        let file = dir.path().join("city.pmtiles");
        std::fs::write(&file, b"").unwrap();
        let pmtiles = TileChoice::from_arg(file.to_str().unwrap(), None).unwrap();
        assert!(matches!(pmtiles, TileChoice::PmTiles { .. }));
        assert!(matches!(
            TileChoice::from_arg("/no/such/place", None),
            Err(TileArgError::NotFound(_))
        ));
    }

    #[test]
    fn folder_tiles_fall_back_to_coarser_levels() {
        let dir = tempfile::tempdir().unwrap();
        let parent = dir.path().join("10").join("4");
        std::fs::create_dir_all(&parent).unwrap();
        let png = include_bytes!("../../../tests/data/tile.png");
        std::fs::write(parent.join("6.png"), png).unwrap();
        let mut tiles = FolderTiles::new(dir.path().to_path_buf(), egui::Context::default());
        let exact = tiles
            .at(TileId {
                x: 4,
                y: 6,
                zoom: 10,
            })
            .expect("exact tile");
        assert_eq!(exact.uv, Rect::from_min_max(pos2(0.0, 0.0), pos2(1.0, 1.0)));
        let child = tiles
            .at(TileId {
                x: 9,
                y: 13,
                zoom: 11,
            })
            .expect("from the parent");
        assert_eq!(child.uv, Rect::from_min_max(pos2(0.5, 0.5), pos2(1.0, 1.0)));
        assert!(tiles
            .at(TileId {
                x: 0,
                y: 0,
                zoom: 10
            })
            .is_none());
    }
}
