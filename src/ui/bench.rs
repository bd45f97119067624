//! `instore --bench-ui`: the frame-time benchmark of BENCHMARKS.md. The real console, the real
//! simulator and engine threads, on a bench hall dense enough to put 5 000 live customers and
//! 2 000 product rings on screen at once; frame CPU time (`frame.info().cpu_usage`) is
//! collected after a warm-up and summarised on stdout.

use std::time::{Duration, Instant};

use crate::engine::geo::{LatLonDeg, LocalFrame, Meters};
use crate::io::chain::{Aisle, Chain, Store};
use crate::io::simulator::SimConfig;

/// Where the bench hall stands (an empty lot in Chicago's West Loop).
const HALL_ORIGIN: LatLonDeg = LatLonDeg {
    lat_deg: 41.8830,
    lon_deg: -87.6560,
};
const AISLES: usize = 40;
const PRODUCTS_PER_AISLE: usize = 50;
const HALL_WIDTH_M: f64 = 600.0;
const HALL_DEPTH_M: f64 = 300.0;
/// Zoom at which the hall fills a 1500×920 window's map.
pub const HALL_ZOOM: f64 = 17.0;

/// One hall with 40 aisles × 50 products = 2 000 rings.
pub fn bench_chain() -> Chain {
    let frame = LocalFrame::new(HALL_ORIGIN);
    let at = |e: f64, n: f64| frame.to_geo(Meters::new(e, n));
    let (w, d) = (HALL_WIDTH_M / 2.0, HALL_DEPTH_M / 2.0);
    let segments = vec![
        "SegmentA".to_owned(),
        "SegmentB".to_owned(),
        "SegmentC".to_owned(),
    ];
    let aisles = (0..AISLES)
        .map(|i| {
            let e = -w + 10.0 + (HALL_WIDTH_M - 20.0) * i as f64 / (AISLES - 1) as f64;
            Aisle {
                name: format!("Aisle {}", i + 1),
                segment: segments[i % segments.len()].clone(),
                path: vec![at(e, -d + 30.0), at(e, d - 10.0)],
            }
        })
        .collect();
    let store = Store {
        id: "BENCH-HALL".into(),
        name: "Bench Hall".into(),
        address: "1 Bench St".into(),
        city: "Chicago".into(),
        country: "USA".into(),
        footprint: vec![at(-w, -d), at(w, -d), at(w, d), at(-w, d), at(-w, -d)],
        entrance: at(0.0, -d),
        aisles,
        checkout: vec![at(-w + 20.0, -d + 15.0), at(w - 20.0, -d + 15.0)],
        parking: vec![
            at(-w, -d - 60.0),
            at(w, -d - 60.0),
            at(w, -d - 15.0),
            at(-w, -d - 15.0),
            at(-w, -d - 60.0),
        ],
        sidewalk: vec![at(-w, -d - 7.0), at(w, -d - 7.0)],
    };
    Chain {
        name: "Bench".into(),
        segments,
        products_per_aisle: PRODUCTS_PER_AISLE,
        stores: vec![store],
    }
}

/// 5 000 people in the hall, a promotion per segment within the first seconds.
pub fn bench_sim_config() -> SimConfig {
    SimConfig {
        customers_per_store: 5_000,
        promotion_interval_ms: 2_000,
        ..SimConfig::default()
    }
}

/// Collects frame CPU times after a warm-up.
#[derive(Debug)]
pub struct FrameBench {
    started: Instant,
    warmup: Duration,
    duration: Duration,
    pub cpu_ms: Vec<f32>,
    /// Time in the app's own update (layout and drawing commands, before tessellation and
    /// painting).
    pub update_ms: Vec<f32>,
    /// CPU the UI thread used from one frame's start to the next (its thread clock: time
    /// spent descheduled, e.g. while a software rasterizer has the cores, does not count).
    pub thread_cpu_ms: Vec<f32>,
    last_thread_cpu_s: Option<f64>,
    pub max_customers: usize,
    pub max_rings: usize,
    done: bool,
}

/// The summary printed at the end.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FrameSummary {
    pub frames: usize,
    pub p50_ms: f32,
    pub p95_ms: f32,
    pub p99_ms: f32,
    pub max_ms: f32,
}

pub fn summarise(cpu_ms: &[f32]) -> Option<FrameSummary> {
    if cpu_ms.is_empty() {
        return None;
    }
    let mut sorted = cpu_ms.to_vec();
    sorted.sort_by(f32::total_cmp);
    let at = |q: f64| sorted[((sorted.len() - 1) as f64 * q).round() as usize];
    Some(FrameSummary {
        frames: sorted.len(),
        p50_ms: at(0.50),
        p95_ms: at(0.95),
        p99_ms: at(0.99),
        max_ms: at(1.0),
    })
}

impl FrameBench {
    pub fn new(warmup: Duration, duration: Duration) -> Self {
        Self {
            started: Instant::now(),
            warmup,
            duration,
            cpu_ms: Vec::new(),
            update_ms: Vec::new(),
            thread_cpu_ms: Vec::new(),
            last_thread_cpu_s: None,
            max_customers: 0,
            max_rings: 0,
            done: false,
        }
    }

    /// Records one frame; true once the run is over (the first time only).
    pub fn record(
        &mut self,
        cpu_s: Option<f32>,
        update_s: f32,
        customers: usize,
        rings: usize,
    ) -> bool {
        let elapsed = self.started.elapsed();
        let thread_cpu_s = thread_cpu_seconds();
        let previous = std::mem::replace(&mut self.last_thread_cpu_s, thread_cpu_s);
        if elapsed >= self.warmup {
            if let Some(cpu) = cpu_s {
                self.cpu_ms.push(cpu * 1000.0);
            }
            if let (Some(now), Some(before)) = (thread_cpu_s, previous) {
                self.thread_cpu_ms.push(((now - before) * 1000.0) as f32);
            }
            self.update_ms.push(update_s * 1000.0);
            self.max_customers = self.max_customers.max(customers);
            self.max_rings = self.max_rings.max(rings);
        }
        if !self.done && elapsed >= self.warmup + self.duration {
            self.done = true;
            return true;
        }
        false
    }

    pub fn report(&self) -> String {
        let (Some(s), Some(u)) = (summarise(&self.cpu_ms), summarise(&self.update_ms)) else {
            return "instore --bench-ui: no frames measured".to_owned();
        };
        let thread = summarise(&self.thread_cpu_ms).map_or(String::new(), |t| {
            format!(
                "; UI thread CPU per frame p50 {:.2} ms, p95 {:.2} ms",
                t.p50_ms, t.p95_ms
            )
        });
        format!(
            "instore --bench-ui: {} frames; frame CPU (cpu_usage) p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms, max {:.2} ms; \
             app update p50 {:.2} ms, p95 {:.2} ms{thread}; up to {} customers and {} rings drawn",
            s.frames, s.p50_ms, s.p95_ms, s.p99_ms, s.max_ms, u.p50_ms, u.p95_ms, self.max_customers, self.max_rings
        )
    }
}

/// The calling thread's CPU time.
#[cfg(unix)]
fn thread_cpu_seconds() -> Option<f64> {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes the timespec we own; the clock id is a constant.
    let ok = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) } == 0;
    ok.then(|| t.tv_sec as f64 + t.tv_nsec as f64 / 1e9)
}

#[cfg(not(unix))]
fn thread_cpu_seconds() -> Option<f64> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::simulator::catalog::chain_catalog;

    #[test]
    fn the_bench_hall_has_two_thousand_products() {
        let chain = bench_chain();
        assert_eq!(chain_catalog(&chain).len(), 2_000);
        let text = chain.to_geojson();
        assert_eq!(Chain::from_geojson(&text).unwrap(), chain);
    }

    #[test]
    fn percentiles() {
        let v: Vec<f32> = (1..=100).map(|i| i as f32).collect();
        let s = summarise(&v).unwrap();
        assert_eq!(
            (s.frames, s.p50_ms, s.p95_ms, s.max_ms),
            (100, 51.0, 95.0, 100.0)
        );
        assert!(summarise(&[]).is_none());
    }
}
