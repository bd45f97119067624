//! The map: walkers underneath (tiles when there are any), our vectors and live layers on top,
//! hover tooltips and click selection.

pub mod chain_layer;
pub mod far_places;
pub mod fit;
pub mod gpu_sprites;
pub mod live_layers;
pub mod mesh;
pub mod overlays;
pub mod palette;
pub mod screen;
pub mod tile_probe;
pub mod tiles;
pub mod world_layer;

use std::sync::Arc;

use egui::Ui;
use walkers::{lat_lon, Map, MapMemory, Position, Tiles};

use crate::engine::geo::{geo_distance_km_deg, LatLonDeg};
use crate::io::chain::{Chain, Store};
use crate::ui::model::LiveModel;
use crate::ui::places::SitePlace;
use crate::ui::settings::Layers;
use far_places::FarPlace;
use live_layers::{DrawStats, LayerContext};
use screen::ScreenMap;
use tiles::TileChoice;

/// What the operator picked on the map.
#[derive(Clone, Debug, PartialEq)]
pub enum Selection {
    Customer(Arc<str>),
    Product(i64),
}

/// Zoom at which one store fills the view.
pub const STORE_ZOOM: f64 = 19.6;
/// Zoom that shows the whole chain (two continents).
pub const CHAIN_ZOOM: f64 = 2.6;

pub struct MapView {
    pub memory: MapMemory,
    tiles: Option<Box<dyn Tiles + Send>>,
    tiles_for: Option<TileChoice>,
    /// Whether the HTTP tile server answers (none for other sources).
    tile_probe: Option<tile_probe::TileProbe>,
    home: Position,
    pub selection: Option<Selection>,
    /// What the last frame drew.
    pub drawn: DrawStats,
    /// What the pointer hovered on the last frame.
    pub hovered: Option<Selection>,
    /// Where the map was on screen on the last frame.
    last_rect: Option<egui::Rect>,
    /// A store the operator clicked in the chain view (its id); the map has zoomed to it,
    /// the console takes it as the current store.
    pub jumped_to: Option<String>,
    /// A derived site the operator clicked (its index among the sites).
    pub jumped_to_site: Option<usize>,
    /// The operator dragged or zoomed the map: the console stops fitting it to the data.
    pub moved_by_operator: bool,
    /// Places to fit the view to when the map is next drawn.
    pending_fit: Option<(Vec<LatLonDeg>, u8)>,
    meshes: mesh::MeshPool,
    dot_texture: Option<egui::TextureHandle>,
    /// The ring sprite and the radius (pixels) it was drawn for.
    ring_texture: Option<(f32, egui::TextureHandle)>,
    /// Rings and dots as GPU instances ([`gpu_sprites`]), when the renderer has the pipeline.
    gpu_sprites: Option<[gpu_sprites::SpriteBatch; gpu_sprites::LAYERS]>,
}

impl MapView {
    pub fn new(home: LatLonDeg) -> Self {
        let mut memory = MapMemory::default();
        let _ = memory.set_zoom(STORE_ZOOM);
        let home = lat_lon(home.lat_deg, home.lon_deg);
        memory.center_at(home);
        Self {
            memory,
            tiles: None,
            tiles_for: None,
            tile_probe: None,
            home,
            selection: None,
            drawn: DrawStats::default(),
            hovered: None,
            last_rect: None,
            jumped_to: None,
            jumped_to_site: None,
            moved_by_operator: false,
            pending_fit: None,
            meshes: mesh::MeshPool::default(),
            dot_texture: None,
            ring_texture: None,
            gpu_sprites: None,
        }
    }

    /// Draws rings and dots through [`gpu_sprites`] (call after [`gpu_sprites::install`]).
    pub fn use_gpu_sprites(&mut self) {
        self.gpu_sprites = Some(Default::default());
    }

    pub fn focus_store(&mut self, store: &Store) {
        let c = store.center();
        self.home = lat_lon(c.lat_deg, c.lon_deg);
        self.memory.center_at(self.home);
        let _ = self.memory.set_zoom(STORE_ZOOM);
    }

    /// Centres and zooms the map so that all `places` are in it, with room for names. Done
    /// when the map is next drawn, at the size it is laid out at then (a dump can load
    /// before the first frame); nothing happens for no places.
    pub fn fit(&mut self, places: &[LatLonDeg]) {
        if !places.is_empty() {
            self.pending_fit = Some((places.to_vec(), 0));
        }
    }

    fn fit_now(&mut self, places: &[LatLonDeg], size: egui::Vec2) {
        let (centre, zoom) = fit::fit_view(places, size).unwrap_or((self.home_deg(), CHAIN_ZOOM));
        self.memory
            .center_at(lat_lon(centre.lat_deg, centre.lon_deg));
        let _ = self.memory.set_zoom(zoom);
    }

    fn home_deg(&self) -> LatLonDeg {
        LatLonDeg {
            lat_deg: self.home.y(),
            lon_deg: self.home.x(),
        }
    }

    pub fn zoom(&self) -> f64 {
        self.memory.zoom()
    }

    /// Where a place was drawn on the last frame (UI tests point at shoppers and products
    /// with it).
    pub fn screen_of(&self, at: LatLonDeg) -> Option<egui::Pos2> {
        let rect = self.last_rect?;
        let projector =
            walkers::Projector::new(rect, &walkers::MercatorProjection, &self.memory, self.home);
        Some(ScreenMap::new(&projector, rect).to_screen(at))
    }

    /// Whether the HTTP tile server answered the last probe (`None`: no HTTP tiles).
    pub fn tile_reach(&self) -> Option<tile_probe::TileReach> {
        self.tile_probe.as_ref().map(tile_probe::TileProbe::reach)
    }

    /// Whether `at` was inside the map on the last frame.
    pub fn in_view(&self, at: LatLonDeg) -> bool {
        match (self.last_rect, self.screen_of(at)) {
            (Some(rect), Some(p)) => rect.contains(p),
            _ => false,
        }
    }

    /// Draws the map and handles hover and clicks. `display_ms` is the event time shown.
    #[allow(clippy::too_many_arguments)]
    pub fn show(
        &mut self,
        ui: &mut Ui,
        model: &LiveModel,
        chain: &Chain,
        sites: &[SitePlace],
        layers: Layers,
        display_ms: i64,
        tile_choice: &TileChoice,
    ) {
        if let Some((places, frames)) = self.pending_fit.take() {
            let size = ui.available_rect_before_wrap().size();
            self.fit_now(&places, size);
            // The panels around the map settle their widths over the first frames: fit again
            // until the map is drawn at the same size twice (a few frames at most).
            let settled = self
                .last_rect
                .is_some_and(|r| (r.size() - size).length() < 1.0);
            if !settled && frames < 8 {
                self.pending_fit = Some((places, frames + 1));
            }
        }
        if self.tiles_for.as_ref() != Some(tile_choice) {
            self.tiles = tile_choice.build(ui.ctx());
            self.tiles_for = Some(tile_choice.clone());
            self.tile_probe = match tile_choice {
                TileChoice::Http { url_template, .. } => {
                    let ctx = ui.ctx().clone();
                    let waker = crate::io::wake::Waker::new(move || ctx.request_repaint());
                    tile_probe::TileProbe::start(url_template, waker)
                }
                _ => None,
            };
        }
        let attribution = tile_choice.attribution().unwrap_or_default().to_owned();
        let (selected_uid, selected_sku) = match &self.selection {
            Some(Selection::Customer(uid)) => (Some(Arc::clone(uid)), None),
            Some(Selection::Product(sku)) => (None, Some(*sku)),
            None => (None, None),
        };
        let dot_texture = self
            .dot_texture
            .get_or_insert_with(|| mesh::dot_texture(ui.ctx()))
            .id();
        let cx = LayerContext {
            ring_sprite: None,
            pointer: None,
            dot_texture,
            model,
            chain,
            layers,
            display_ms,
            selected_uid: selected_uid.as_deref(),
            selected_sku,
        };
        let tiles_online = self.tile_reach() == Some(tile_probe::TileReach::Online);
        let meshes = &mut self.meshes;
        let ring_texture = &mut self.ring_texture;
        let gpu_sprites = self.gpu_sprites.as_mut();
        let tiles = self.tiles.as_deref_mut().map(|t| t as &mut dyn Tiles);
        let map = Map::new(tiles, &mut self.memory, self.home)
            .double_click_to_zoom(true)
            .zoom_with_ctrl(false);
        // The plain background goes under the map, so tiles draw over it as they arrive and
        // wherever they do not (no server, offline, still loading) the map looks the same as
        // without tiles instead of showing the panel colour through.
        ui.painter()
            .rect_filled(ui.available_rect_before_wrap(), 0.0, palette::BACKGROUND);
        let inner = map.show(ui, |ui, response, projector, memory| {
            let zoom = memory.zoom();
            let painter = ui.painter().with_clip_rect(response.rect);
            let mut drawn = DrawStats::default();
            // Land under the overview when no tiles show it.
            if zoom < world_layer::MAX_ZOOM && !tiles_online {
                drawn.world_lines = world_layer::draw(&painter, projector, response.rect);
            }
            let mut far_places = far_places::FarPlaces::default();
            if layers.footprints {
                drawn.footprints = chain_layer::draw(&painter, projector, chain, &mut far_places);
            }
            far_places::draw_sites(&painter, projector, sites, &mut far_places);
            let screen_map = ScreenMap::new(projector, response.rect);
            let centre = projector.unproject(response.rect.center().to_vec2());
            let radius_px = (model.radius_ft() * crate::engine::geo::M_PER_FT) as f32
                * projector.scale_pixel_per_meter(centre);
            let cx = LayerContext {
                ring_sprite: if gpu_sprites.is_some() {
                    None
                } else {
                    ring_sprite(ui.ctx(), ring_texture, radius_px)
                },
                ..cx
            };
            let [products, customers] = match gpu_sprites {
                Some([p, c]) => [Some(p), Some(c)],
                None => [None, None],
            };
            let cx = LayerContext {
                pointer: response.hover_pos(),
                ..cx
            };
            let product = live_layers::draw_products(
                &painter,
                &screen_map,
                &cx,
                &mut drawn,
                meshes,
                products,
            );
            let customer = live_layers::draw_customers(
                &painter,
                &screen_map,
                &cx,
                &mut drawn,
                meshes,
                customers,
            );
            live_layers::draw_matches(&painter, &screen_map, &cx, &mut drawn);
            far_places.draw_labels(&painter);
            // Far away, a click on a store's or a site's dot zooms into it.
            let far_place = response
                .hover_pos()
                .and_then(|p| far_places.at(p, live_layers::HOVER_PX + 3.0));
            overlays::draw_scale_bar(&painter, projector);
            overlays::draw_attribution(&painter, &attribution);
            // Shoppers are drawn on top, so they win the hover; from far away the store
            // under the pointer wins (its shoppers and shelves are specks there).
            let hovered = customer
                .map(Selection::Customer)
                .or(product.map(Selection::Product))
                .filter(|_| far_place.is_none());
            if far_place.is_some() || hovered.is_some() {
                // Next to the pointer: placed by the widget, the tooltip would sit under the
                // whole map, far from what it describes.
                egui::Tooltip::for_enabled(response)
                    .at_pointer()
                    .gap(12.0)
                    .show(|ui| match (far_place, &hovered) {
                        (Some(FarPlace::Store(store)), _) => {
                            ui.strong(&store.name);
                            ui.label(format!("{}, {}", store.address, store.city));
                            ui.weak("click to zoom in");
                        }
                        (Some(FarPlace::Site(_, site)), _) => {
                            ui.strong(&site.name);
                            let n = site.site.points;
                            let products = if n == 1 { "product" } else { "products" };
                            ui.label(format!("{n} {products} found in the data"));
                            ui.weak("click to zoom in");
                        }
                        (None, Some(h)) => tooltip(ui, &cx, h),
                        (None, None) => {}
                    });
            }
            let zoomed = response.hovered()
                && ui.input(|i| i.smooth_scroll_delta.y != 0.0 || i.zoom_delta() != 1.0);
            let moved = response.dragged() || response.double_clicked() || zoomed;
            (
                hovered,
                response.clicked(),
                drawn,
                response.rect,
                far_place,
                moved,
            )
        });
        let (hovered, clicked, drawn, rect, far_place, moved) = inner.inner;
        self.moved_by_operator |= moved;
        match (clicked, far_place) {
            (true, Some(FarPlace::Store(store))) => {
                self.focus_store(store);
                self.jumped_to = Some(store.id.clone());
            }
            (true, Some(FarPlace::Site(i, site))) => {
                self.fit(&[site.site.min, site.site.max]);
                self.jumped_to_site = Some(i);
            }
            _ => {}
        }
        self.drawn = drawn;
        self.last_rect = Some(rect);
        if clicked {
            self.selection = hovered.clone();
        }
        self.hovered = hovered;
    }
}

/// The ring texture for `radius_px`, rebuilt when the radius moved by more than a quarter pixel.
fn ring_sprite(
    ctx: &egui::Context,
    cache: &mut Option<(f32, egui::TextureHandle)>,
    radius_px: f32,
) -> Option<live_layers::RingSprite> {
    if !(3.0..=mesh::MAX_SPRITE_RING_PX).contains(&radius_px) {
        return None;
    }
    if !cache
        .as_ref()
        .is_some_and(|(r, _)| (r - radius_px).abs() <= 0.25)
    {
        *cache = Some((radius_px, mesh::ring_texture(ctx, radius_px)));
    }
    cache.as_ref().map(|(r, texture)| live_layers::RingSprite {
        texture: texture.id(),
        radius_px: *r,
        // Built at one texel per point.
        side_px: texture.size()[0] as f32,
    })
}

/// Distance in feet from a shopper to the nearest product with an active ring.
pub fn nearest_promoted_ft(model: &LiveModel, at: LatLonDeg, now_ms: i64) -> Option<(i64, f64)> {
    model
        .products
        .iter()
        .filter(|p| model.ring_active(p.sku, now_ms))
        .map(|p| {
            let km = geo_distance_km_deg(
                at.lat_deg,
                at.lon_deg,
                p.position.lat_deg,
                p.position.lon_deg,
            );
            (p.sku, km * model.km_to_ft())
        })
        .min_by(|a, b| a.1.total_cmp(&b.1))
}

fn tooltip(ui: &mut Ui, cx: &LayerContext<'_>, hovered: &Selection) {
    match hovered {
        Selection::Customer(uid) => {
            let Some(c) = cx.model.customers.get(uid) else {
                return;
            };
            ui.strong(format!("Customer {uid}"));
            ui.label(format!(
                "last ping {}",
                crate::engine::rfc3339::format_rfc3339_ms(c.last_ping_ms())
            ));
            let now = cx.model.latest_event_ms.unwrap_or(cx.display_ms);
            match c
                .position_at(cx.display_ms)
                .and_then(|at| nearest_promoted_ft(cx.model, at, now))
            {
                Some((sku, ft)) => {
                    ui.label(format!("nearest promoted product: SKU {sku} at {ft:.0} ft"))
                }
                None => ui.label("no promoted product in this country"),
            };
        }
        Selection::Product(sku) => {
            let Some(p) = cx.model.product(*sku) else {
                return;
            };
            ui.strong(format!("SKU {sku}"));
            ui.label(format!(
                "segment {} · variant {}",
                p.product.segment.as_deref().unwrap_or("—"),
                p.product.variant.as_deref().unwrap_or("—")
            ));
            let now = cx.model.latest_event_ms.unwrap_or(cx.display_ms);
            match cx.model.valid_by_sku.get(sku) {
                Some(mark) if cx.model.ring_active(*sku, now) => {
                    for (pid, title) in &mark.promotions {
                        ui.label(format!(
                            "promotion {pid}{}",
                            title
                                .as_deref()
                                .map(|t| format!(" — {t}"))
                                .unwrap_or_default()
                        ));
                    }
                }
                _ => {
                    ui.label("no active promotion");
                }
            }
        }
    }
}
