//! Whether the HTTP tile server answers, so the status line can say when the map is the
//! vector map alone ("map tiles: offline"). walkers keeps failed tiles empty without telling;
//! a thread tries a TCP connection to the server's host every [`PROBE_EVERY`] and wakes the
//! console when the answer changes. Tiles already in the disk cache still draw while offline.

use std::net::{TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::io::wake::Waker;

const PROBE_EVERY: Duration = Duration::from_secs(20);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// What the last probe found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TileReach {
    Unknown,
    Online,
    Offline,
}

/// The probing thread of one tile server; it stops when dropped.
pub struct TileProbe {
    reach: Arc<AtomicU8>,
    stop: Arc<AtomicBool>,
}

/// `host:port` of an `http(s)://host[:port]/…` URL template.
pub fn host_of(template: &str) -> Option<(String, u16)> {
    let (scheme, rest) = template.split_once("://")?;
    let default_port = match scheme {
        "https" => 443,
        "http" => 80,
        _ => return None,
    };
    let authority = rest.split('/').next()?;
    // Template subdomains ({s}.tile…) resolve like their first choice.
    let authority = authority.replace("{s}", "a");
    match authority.rsplit_once(':') {
        Some((host, port)) => Some((host.to_owned(), port.parse().ok()?)),
        None => Some((authority, default_port)),
    }
}

impl TileProbe {
    /// Starts probing the server of `template`; `None` when it has no HTTP host.
    pub fn start(template: &str, waker: Waker) -> Option<TileProbe> {
        let (host, port) = host_of(template)?;
        let reach = Arc::new(AtomicU8::new(TileReach::Unknown as u8));
        let stop = Arc::new(AtomicBool::new(false));
        let (thread_reach, thread_stop) = (Arc::clone(&reach), Arc::clone(&stop));
        std::thread::Builder::new()
            .name("instore-tile-probe".into())
            .spawn(move || {
                while !thread_stop.load(Ordering::Relaxed) {
                    let now = if reachable(&host, port) {
                        TileReach::Online
                    } else {
                        TileReach::Offline
                    };
                    if thread_reach.swap(now as u8, Ordering::Relaxed) != now as u8 {
                        waker.wake_now();
                    }
                    let mut slept = Duration::ZERO;
                    while slept < PROBE_EVERY && !thread_stop.load(Ordering::Relaxed) {
                        std::thread::sleep(Duration::from_millis(200));
                        slept += Duration::from_millis(200);
                    }
                }
            })
            .ok()?;
        Some(TileProbe { reach, stop })
    }

    pub fn reach(&self) -> TileReach {
        match self.reach.load(Ordering::Relaxed) {
            x if x == TileReach::Online as u8 => TileReach::Online,
            x if x == TileReach::Offline as u8 => TileReach::Offline,
            _ => TileReach::Unknown,
        }
    }
}

fn reachable(host: &str, port: u16) -> bool {
    let Ok(addresses) = (host, port).to_socket_addrs() else {
        return false;
    };
    addresses
        .into_iter()
        .any(|a| TcpStream::connect_timeout(&a, CONNECT_TIMEOUT).is_ok())
}

impl Drop for TileProbe {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_of_templates() {
        assert_eq!(
            host_of("https://tile.openstreetmap.org/{z}/{x}/{y}.png"),
            Some(("tile.openstreetmap.org".into(), 443))
        );
        assert_eq!(
            host_of("http://127.0.0.1:8080/{z}/{x}/{y}.png"),
            Some(("127.0.0.1".into(), 8080))
        );
        assert_eq!(
            host_of("https://{s}.tile.example/{z}/{x}/{y}.png"),
            Some(("a.tile.example".into(), 443))
        );
        assert_eq!(host_of("/some/folder"), None);
    }

    #[test]
    fn a_closed_port_is_offline_and_an_open_one_online() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let wait_for = |probe: &TileProbe, want: TileReach| {
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            while probe.reach() != want {
                assert!(std::time::Instant::now() < deadline, "{:?}", probe.reach());
                std::thread::sleep(Duration::from_millis(20));
            }
        };
        let template = format!("http://127.0.0.1:{port}/{{z}}/{{x}}/{{y}}.png");
        let probe = TileProbe::start(&template, Waker::none()).unwrap();
        wait_for(&probe, TileReach::Online);
        drop(listener);
        let closed = format!("http://127.0.0.1:{port}/{{z}}/{{x}}/{{y}}.png");
        let probe = TileProbe::start(&closed, Waker::none()).unwrap();
        wait_for(&probe, TileReach::Offline);
    }
}
