//! Waking whoever shows what a worker produces. The console draws only when asked to, so a
//! worker that sends without waking leaves a still picture of a live stream. The console hands
//! each worker a [`Waker`] built from its `egui::Context`; the adapters stay free of egui.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// At most one wake per this interval: a busy stream sends thousands of batches a second, a
/// screen shows ~30 frames. The console itself asks for one more frame this soon after a
/// frame that found something to drain, so what was sent between two wakes is drawn too.
pub const WAKE_EVERY: Duration = Duration::from_millis(33);

/// A cheap, clonable handle that asks the UI for a frame; `Waker::none()` for headless use.
#[derive(Clone, Default)]
pub struct Waker {
    inner: Option<Arc<Inner>>,
}

struct Inner {
    wake: Box<dyn Fn() + Send + Sync>,
    epoch: Instant,
    /// Earliest time (ms since `epoch`) of the next wake.
    next_ms: AtomicU64,
    /// Wakes asked for, and wakes passed on (for tests and the engine panel).
    asked: AtomicU64,
    passed: AtomicU64,
}

impl std::fmt::Debug for Waker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Waker")
            .field("connected", &self.inner.is_some())
            .field("passed", &self.passed())
            .finish()
    }
}

impl Waker {
    /// Calls `wake` (for the console: `ctx.request_repaint()`) at most every [`WAKE_EVERY`].
    pub fn new(wake: impl Fn() + Send + Sync + 'static) -> Waker {
        Waker {
            inner: Some(Arc::new(Inner {
                wake: Box::new(wake),
                epoch: Instant::now(),
                next_ms: AtomicU64::new(0),
                asked: AtomicU64::new(0),
                passed: AtomicU64::new(0),
            })),
        }
    }

    /// Wakes nobody (headless commands, tests of the adapters alone).
    pub fn none() -> Waker {
        Waker { inner: None }
    }

    /// Something the UI shows has changed.
    pub fn wake(&self) {
        let Some(inner) = &self.inner else { return };
        inner.asked.fetch_add(1, Ordering::Relaxed);
        let now_ms = inner.epoch.elapsed().as_millis() as u64;
        let next_ms = inner.next_ms.load(Ordering::Relaxed);
        if now_ms < next_ms {
            return;
        }
        let until = now_ms + WAKE_EVERY.as_millis() as u64;
        // One of several threads racing here wins; the others' news rides on its wake.
        if inner
            .next_ms
            .compare_exchange(next_ms, until, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
        {
            inner.passed.fetch_add(1, Ordering::Relaxed);
            (inner.wake)();
        }
    }

    /// Wakes the UI whatever the interval: for one-off news (a dialog's answer, a loaded
    /// dump, a delivery report) that no later send of the same worker would carry.
    pub fn wake_now(&self) {
        let Some(inner) = &self.inner else { return };
        inner.asked.fetch_add(1, Ordering::Relaxed);
        inner.passed.fetch_add(1, Ordering::Relaxed);
        (inner.wake)();
    }

    /// Wakes passed on to the UI so far.
    pub fn passed(&self) -> u64 {
        self.inner
            .as_ref()
            .map_or(0, |i| i.passed.load(Ordering::Relaxed))
    }

    /// Wakes asked for so far (passed on or merged into one passed on).
    pub fn asked(&self) -> u64 {
        self.inner
            .as_ref()
            .map_or(0, |i| i.asked.load(Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_wakes_once_and_a_later_send_wakes_again() {
        let calls = Arc::new(AtomicU64::new(0));
        let counted = Arc::clone(&calls);
        let waker = Waker::new(move || {
            counted.fetch_add(1, Ordering::Relaxed);
        });
        for _ in 0..1_000 {
            waker.wake();
        }
        assert_eq!(calls.load(Ordering::Relaxed), 1, "a burst is one wake");
        assert_eq!(waker.asked(), 1_000);
        std::thread::sleep(WAKE_EVERY + Duration::from_millis(5));
        waker.wake();
        assert_eq!(
            calls.load(Ordering::Relaxed),
            2,
            "after the interval, again"
        );
        assert_eq!(waker.passed(), 2);
    }

    #[test]
    fn clones_share_the_limit_and_none_wakes_nobody() {
        let calls = Arc::new(AtomicU64::new(0));
        let counted = Arc::clone(&calls);
        let waker = Waker::new(move || {
            counted.fetch_add(1, Ordering::Relaxed);
        });
        let other = waker.clone();
        waker.wake();
        other.wake();
        assert_eq!(calls.load(Ordering::Relaxed), 1);
        let nobody = Waker::none();
        nobody.wake();
        assert_eq!(nobody.passed(), 0);
    }
}
