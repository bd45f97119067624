//! Map tiles over real HTTP: a tile server on loopback, the console's HTTP tile source
//! (walkers' `HttpTiles` with its disk cache) and the map rendered on lavapipe. Its own test
//! binary because it points `XDG_CACHE_HOME` at a temporary folder.

mod support;

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use egui_kittest::kittest::Queryable as _;
use egui_kittest::Harness;
use instore::io::chain::Chain;
use instore::ui::map::palette;
use instore::ui::map::tiles::TileChoice;
use instore::ui::{ConsoleApp, ConsoleOptions};
use support::console_harness;

/// The tiles' colour: nothing else on the map is this colour.
const TILE_RGB: [u8; 3] = [250, 20, 240];
/// Tiles show around the store's (opaque) footprint: on a 1200×800 window with both side
/// panels open that is ~9 % of the window; none without tiles.
const MIN_SHARE: f64 = 0.03;

/// A minimal HTTP/1.1 tile server: every GET is answered with the same PNG, cacheable for a
/// day (as OpenStreetMap's servers answer).
struct TileServer {
    port: u16,
    requests: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl TileServer {
    fn start() -> TileServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("addr").port();
        let requests = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let png = tile_png();
        let (count, done) = (Arc::clone(&requests), Arc::clone(&stop));
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let (png, count) = (png.clone(), Arc::clone(&count));
                        std::thread::spawn(move || serve(stream, &png, &count));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
            // The listener is dropped here: the port refuses connections from now on.
        });
        TileServer {
            port,
            requests,
            stop,
        }
    }

    fn template(&self) -> String {
        format!("http://127.0.0.1:{}/{{z}}/{{x}}/{{y}}.png", self.port)
    }

    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

impl Drop for TileServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// The User-Agent of the last tile request.
static USER_AGENT: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

fn serve(stream: TcpStream, png: &[u8], count: &AtomicUsize) {
    let _ = stream.set_nonblocking(false);
    let mut reader = BufReader::new(match stream.try_clone() {
        Ok(s) => s,
        Err(_) => return,
    });
    let mut stream = stream;
    loop {
        // One request per loop (keep-alive): the request line, headers, a blank line.
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let path_ok = line.starts_with("GET /") && line.contains(".png");
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 {
                return;
            }
            if header == "\r\n" || header == "\n" {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                if name.eq_ignore_ascii_case("user-agent") {
                    *USER_AGENT.lock().unwrap_or_else(|e| e.into_inner()) =
                        Some(value.trim().to_owned());
                }
            }
        }
        count.fetch_add(1, Ordering::SeqCst);
        let head = if path_ok {
            format!(
                "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: {}\r\n\
                 Cache-Control: public, max-age=86400\r\n\r\n",
                png.len()
            )
        } else {
            "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_owned()
        };
        let body: &[u8] = if path_ok { png } else { &[] };
        if stream.write_all(head.as_bytes()).is_err() || stream.write_all(body).is_err() {
            return;
        }
    }
}

fn tile_png() -> Arc<Vec<u8>> {
    let [r, g, b] = TILE_RGB;
    let tile = image::RgbaImage::from_pixel(256, 256, image::Rgba([r, g, b, 255]));
    let mut png = std::io::Cursor::new(Vec::new());
    tile.write_to(&mut png, image::ImageFormat::Png)
        .expect("encode");
    Arc::new(png.into_inner())
}

fn console_with_tiles(template: String) -> Harness<'static, ConsoleApp> {
    let options = ConsoleOptions::new(Chain::builtin().expect("built-in chain"));
    let builder = Harness::builder().with_size([1200.0, 800.0]).wgpu();
    console_harness(builder, options, |app| {
        app.settings.tiles = TileChoice::Http {
            url_template: template,
            attribution: "© test tiles".into(),
        };
        app.start_bus_only();
    })
}

/// Share of the rendered window in the tiles' colour.
fn tile_share(h: &mut Harness<'_, ConsoleApp>) -> f64 {
    let image = h.render().expect("render");
    if let Ok(dir) = std::env::var("INSTORE_SCREENSHOTS") {
        let _ = image.save(format!("{dir}/console-http-tiles.png"));
    }
    let tile = image.pixels().filter(|p| p.0[..3] == TILE_RGB).count();
    tile as f64 / (image.width() * image.height()) as f64
}

/// Steps frames (tiles arrive on walkers' own threads) until the map shows tiles.
fn wait_for_tiles(h: &mut Harness<'_, ConsoleApp>) -> f64 {
    let mut share = 0.0;
    for _ in 0..200 {
        h.run_steps(5);
        share = tile_share(h);
        if share > MIN_SHARE {
            return share;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    share
}

#[test]
fn http_tiles_are_fetched_drawn_under_the_store_and_kept_for_offline_use() {
    let cache = tempfile::tempdir().expect("tempdir");
    // SAFETY (set_var): this test binary has this one test, so no other thread reads the
    // environment concurrently; walkers reads the cache path when the source is built.
    std::env::set_var("XDG_CACHE_HOME", cache.path());

    // A tile server that refuses connections: the map stays the vector map on its plain
    // background (no grey or checkered placeholders where tiles failed).
    let closed_port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let mut refused = console_with_tiles(format!(
        "http://127.0.0.1:{closed_port}/{{z}}/{{x}}/{{y}}.png"
    ));
    refused.run_steps(30);
    let image = refused.render().expect("render");
    let background = palette::BACKGROUND;
    let plain = image
        .pixels()
        .filter(|p| p.0[..3] == [background.r(), background.g(), background.b()])
        .count();
    assert!(plain > 10_000, "plain background pixels: {plain}");
    // … and the status line says why.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while refused.query_by_label("map tiles: offline").is_none() {
        assert!(
            std::time::Instant::now() < deadline,
            "the status line never said the tiles are offline"
        );
        refused.step();
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(refused);

    let server = TileServer::start();
    let mut h = console_with_tiles(server.template());
    let share = wait_for_tiles(&mut h);
    assert!(
        share > MIN_SHARE,
        "tiles cover {:.1} % of the window after {} requests",
        share * 100.0,
        server.requests()
    );
    assert!(
        h.query_by_label("map tiles: offline").is_none(),
        "a server that answers is not offline"
    );
    let fetched = server.requests();
    assert!(fetched >= 4, "{fetched} tile requests");
    let agent = USER_AGENT.lock().expect("lock").clone().unwrap_or_default();
    assert!(agent.starts_with("instore/"), "User-Agent {agent:?}");
    let cached = walk(&cache.path().join("instore").join("tiles"));
    assert!(cached > 0, "nothing in the tile cache");
    drop(h);

    // The server goes away (a demo laptop offline): a new console draws the same view from
    // the disk cache.
    let template = server.template();
    drop(server);
    std::thread::sleep(Duration::from_millis(50));
    let mut offline = console_with_tiles(template);
    let share = wait_for_tiles(&mut offline);
    assert!(
        share > MIN_SHARE,
        "offline, tiles cover {:.1} % of the window",
        share * 100.0
    );
}

/// Files under `dir`, recursively.
fn walk(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .flatten()
            .map(|e| {
                let path = e.path();
                if path.is_dir() {
                    walk(&path)
                } else {
                    1
                }
            })
            .sum()
    })
}
