//! The engine on its own thread, for the console: reads the bus, runs the pipeline, applies
//! the notification rules and sends the UI what it draws, in batches the UI drains on a time
//! budget, waking it after each.
//!
//! - [`engine_loop`]: the thread's loop, one command handler, records in, events out;
//! - [`display`]: the bounded channel to the UI, merging when the UI is behind;
//! - [`priming`]: inputs kept so that a parameter change applies at once;
//! - [`checkpoint`]: replay checkpoints and their spacing;
//! - [`recording`]: writing what the engine takes to a dump;
//! - [`per_minute`]: NEARBY_CUSTOMERS per minute and segment for the timeline;
//! - [`events`]: what the UI is told.

mod checkpoint;
mod display;
mod engine_loop;
mod events;
mod per_minute;
mod priming;
mod recording;

use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::JoinHandle;

pub use checkpoint::{LiveCheckpoint, ReplayStart};
use display::display_channel;
pub use events::{LiveEvent, LiveStats, MatchesPerMinute, PingMatch};
pub use recording::{RecordingLimits, RecordingStatus};

use crate::engine::notify::NotifyParams;
use crate::engine::PipelineParams;
use crate::io::bus::BusConsumer;
use crate::io::wake::Waker;
use engine_loop::EngineLoop;

/// Settings the console can change while the engine runs.
#[derive(Clone, Debug, PartialEq)]
pub struct LiveSettings {
    pub params: PipelineParams,
    /// Which matches notify a shopper.
    pub notify: NotifyParams,
}

/// What the console asks of the engine thread.
#[derive(Debug)]
pub enum LiveCommand {
    Apply(LiveSettings),
    /// Lines of a dump that were not records, counted like `instore run` counts them: the
    /// kept samples, and how many more there were.
    BrokenLines {
        samples: Vec<(u64, String)>,
        unsampled: u64,
    },
    /// A replay seeking to this time: pings and matches more than a minute before it are
    /// joined and counted but not sent to the map (it shows only where people are at the
    /// target), which makes going back in a big dump quick.
    QuietBefore(i64),
    /// Write every record the engine takes to a kcat -J dump, until a limit or `StopRecording`.
    StartRecording(RecordingLimits),
    StopRecording,
    Stop,
}

/// The console's handle on the engine thread.
pub struct LiveEngine {
    pub events: Receiver<Vec<LiveEvent>>,
    commands: Sender<LiveCommand>,
    thread: Option<JoinHandle<()>>,
}

impl LiveEngine {
    /// A live engine: it keeps recent inputs so parameter changes apply at once.
    pub fn start(
        consumer: BusConsumer,
        settings: LiveSettings,
        waker: Waker,
    ) -> std::io::Result<LiveEngine> {
        LiveEngine::spawn(EngineLoop::live(settings), consumer, waker)
    }

    /// The engine of a replay: resumed from a checkpoint or fresh, taking checkpoints as it
    /// goes. It keeps no inputs for live parameter changes: a replay re-runs instead.
    pub fn start_replay(
        consumer: BusConsumer,
        settings: LiveSettings,
        start: ReplayStart,
        waker: Waker,
    ) -> std::io::Result<LiveEngine> {
        LiveEngine::spawn(EngineLoop::replay(settings, &start), consumer, waker)
    }

    fn spawn(
        engine: EngineLoop,
        consumer: BusConsumer,
        waker: Waker,
    ) -> std::io::Result<LiveEngine> {
        let (display, events) = display_channel(waker);
        let (commands, command_rx) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("instore-engine".into())
            .spawn(move || engine.run(&consumer, &command_rx, display))?;
        Ok(LiveEngine {
            events,
            commands,
            thread: Some(thread),
        })
    }

    /// Sends a command; a stopped engine has nothing left to do with it.
    pub fn command(&self, command: LiveCommand) {
        let _ = self.commands.send(command);
    }

    /// Applies new settings; the engine answers with [`LiveEvent::Applied`].
    pub fn apply(&self, settings: LiveSettings) {
        self.command(LiveCommand::Apply(settings));
    }
}

impl Drop for LiveEngine {
    fn drop(&mut self) {
        self.command(LiveCommand::Stop);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{RawRecord, Topic};
    use crate::io::bus::bus;
    use std::time::{Duration, Instant};

    fn record(topic: Topic, ts: i64, payload: &str) -> RawRecord<'static> {
        RawRecord {
            timestamp_ms: Some(ts),
            payload: Some(payload.to_owned().into()),
            topic: topic.name().into(),
            ..RawRecord::default()
        }
    }

    /// The engine's last counters among `events`.
    fn last_stats(events: &[LiveEvent]) -> Box<LiveStats> {
        events
            .iter()
            .rev()
            .find_map(|e| match e {
                LiveEvent::Stats(s) => Some(s.clone()),
                _ => None,
            })
            .expect("the engine sent its counters")
    }

    fn drain_until(
        engine: &LiveEngine,
        mut done: impl FnMut(&LiveEvent) -> bool,
    ) -> Vec<LiveEvent> {
        let mut all = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(batch) = engine.events.recv_timeout(Duration::from_millis(100)) {
                let finished = batch.iter().any(&mut done);
                all.extend(batch);
                if finished {
                    return all;
                }
            }
        }
        panic!("no final event within 20 s; got {} events", all.len());
    }

    /// A promotion that matches more buffered pings than a part holds reaches the console
    /// in parts: its notifications are those the rules give the whole record, and every
    /// match is counted.
    #[test]
    fn a_promotion_with_more_matches_than_a_part_notifies_as_a_whole_record() {
        use crate::engine::notify::Notifier;
        use crate::engine::pipeline::PART_OUTPUTS;
        let t0 = 1_764_147_600_000;
        let mut records = Vec::new();
        for sku in 1..=8 {
            let product = format!(
                r#"{{"sku": {sku}, "segment": "A", "latitude": 41.88, "longitude": -87.62, "country": "USA"}}"#
            );
            records.push(record(Topic::StoresProducts, t0, &product));
        }
        // 1 000 shoppers, 30 pings each within the radius of all eight products.
        for i in 0..30_000i64 {
            let ping = format!(
                r#"{{"uid": "u{}", "latitude": 41.8800{}, "longitude": -87.62, "country": "USA"}}"#,
                i % 1_000,
                i % 10
            );
            records.push(record(
                Topic::CustomersLocations,
                t0 + i / 1_000 * 5_000,
                &ping,
            ));
        }
        let promo = r#"{"pid": "p1", "segment": "A", "discount_pct": 15}"#;
        records.push(record(Topic::ProductsPromotions, t0 + 200_000, promo));
        let matches = 8 * 30_000;
        assert!(matches > 2 * PART_OUTPUTS, "two parts and a rest");

        // The rules over each record's outputs whole.
        let mut pipeline = crate::engine::Pipeline::new(PipelineParams::default());
        let mut notifier = Notifier::new(NotifyParams::default(), 100.0, 3281.0);
        let mut expected = Vec::new();
        let mut out = Vec::new();
        for r in &records {
            out.clear();
            pipeline.push(r, &mut out);
            expected.extend(notifier.on_record(&out, None));
        }
        assert_eq!(expected.len(), 1_000, "one a shopper");

        let (producer, consumer) = bus(64);
        let settings = LiveSettings {
            params: PipelineParams::default(),
            notify: NotifyParams::default(),
        };
        let engine = LiveEngine::start(consumer, settings, Waker::none()).unwrap();
        let feed = std::thread::spawn(move || {
            for r in records {
                let topic = Topic::from_name(&r.topic).unwrap();
                if producer.publish(topic, r).is_err() {
                    return;
                }
            }
        });
        let events = drain_until(&engine, |e| matches!(e, LiveEvent::SourceClosed));
        feed.join().unwrap();
        let got: Vec<_> = events
            .iter()
            .filter_map(|e| match e {
                LiveEvent::Notification(n) => Some(n.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(got, expected);
        let stats = last_stats(&events);
        assert_eq!(stats.nearby_records, matches as u64);
        assert_eq!(
            stats.pipeline.topic(Topic::NearbyCustomers).records,
            matches as u64
        );
        let promotion_match = events.iter().rev().find_map(|e| match e {
            LiveEvent::Match(m) => Some(m.records),
            _ => None,
        });
        assert_eq!(
            promotion_match,
            Some(matches as u64),
            "the map's line counts them all"
        );
    }

    /// A console left running on a large chain: under a state-memory budget the joins give
    /// up their oldest pings and the kept inputs their oldest entries, and the counters say
    /// so, instead of growing until the machine runs out of memory.
    #[test]
    fn a_budget_holds_the_live_state_and_the_kept_inputs_and_says_so() {
        let (producer, consumer) = bus(64);
        let budget = 400_000u64;
        let settings = LiveSettings {
            params: PipelineParams {
                state_memory_bytes: Some(budget),
                ..PipelineParams::default()
            },
            notify: NotifyParams::default(),
        };
        let engine = LiveEngine::start(consumer, settings, Waker::none()).unwrap();
        let t0 = 1_764_147_600_000;
        let feed = std::thread::spawn(move || {
            // 200 shoppers, a ping each every 5 s for an hour: 144 000 pings, ten times
            // more than 400 KB of state.
            for i in 0..144_000i64 {
                let ping = format!(
                    r#"{{"uid": "u{}", "latitude": {:.5}, "longitude": -87.62, "country": "USA"}}"#,
                    i % 200,
                    41.0 + (i % 200) as f64 * 0.001
                );
                let ts = t0 + i / 200 * 5_000;
                let published = producer.publish(
                    Topic::CustomersLocations,
                    record(Topic::CustomersLocations, ts, &ping),
                );
                if published.is_err() {
                    return;
                }
            }
        });
        let events = drain_until(&engine, |e| matches!(e, LiveEvent::SourceClosed));
        feed.join().unwrap();
        let stats = last_stats(&events);
        let shed = stats.memory_shed.expect("the state outgrew its budget");
        assert_eq!(shed.budget_bytes, budget);
        assert!(shed.kept_ms < 3_600_000, "kept {} ms", shed.kept_ms);
        assert!(
            stats.state.customers < 144_000 / 4,
            "{} pings held",
            stats.state.customers
        );
        assert!(stats.kept_inputs < 144_000 / 4, "{}", stats.kept_inputs);
        let reach = stats.kept_inputs_reach_ms.expect("kept inputs cut short");
        assert!(reach > t0, "the oldest kept input is not the first");
    }

    #[test]
    fn records_become_events_matches_notify_once_and_a_narrower_radius_applies() {
        let (producer, consumer) = bus(64);
        let settings = LiveSettings {
            params: PipelineParams::default(),
            notify: NotifyParams::default(),
        };
        let engine = LiveEngine::start(consumer, settings.clone(), Waker::none()).unwrap();
        let t0 = 1_764_147_600_000;
        let product = r#"{"sku": 5, "segment": "A", "latitude": 41.88, "longitude": -87.62, "country": "USA"}"#;
        producer
            .publish(
                Topic::StoresProducts,
                record(Topic::StoresProducts, t0, product),
            )
            .unwrap();
        let promo = r#"{"pid": "p1", "SKU": 5, "segment": "A"}"#;
        producer
            .publish(
                Topic::ProductsPromotions,
                record(Topic::ProductsPromotions, t0, promo),
            )
            .unwrap();
        let near = r#"{"uid": "u1", "latitude": 41.88020, "longitude": -87.62, "country": "USA"}"#;
        for i in 0..3 {
            producer
                .publish(
                    Topic::CustomersLocations,
                    record(Topic::CustomersLocations, t0 + i * 5_000, near),
                )
                .unwrap();
        }
        producer
            .publish(
                Topic::CustomersLocations,
                record(Topic::CustomersLocations, t0, "oops"),
            )
            .unwrap();
        drop(producer);
        let events = drain_until(&engine, |e| matches!(e, LiveEvent::SourceClosed));
        let count = |f: &dyn Fn(&LiveEvent) -> bool| events.iter().filter(|e| f(e)).count();
        assert_eq!(
            count(&|e| matches!(e, LiveEvent::Ping { .. })),
            3,
            "the refused ping is not drawn"
        );
        assert_eq!(count(&|e| matches!(e, LiveEvent::Match(_))), 3);
        assert_eq!(
            count(&|e| matches!(e, LiveEvent::Notification(_))),
            1,
            "cooldown"
        );
        let stats = last_stats(&events);
        assert_eq!(stats.pipeline.topic(Topic::CustomersLocations).rejected, 1);
        assert_eq!(stats.nearby_records, 3);
        assert_eq!(stats.kept_inputs, 5);

        engine.apply(LiveSettings {
            params: PipelineParams {
                radius_ft: 10.0,
                ..PipelineParams::default()
            },
            ..settings
        });
        let events = drain_until(&engine, |e| matches!(e, LiveEvent::Applied { .. }));
        assert!(events
            .iter()
            .any(|e| matches!(e, LiveEvent::ValidPromotion(_))));
        assert!(events
            .iter()
            .any(|e| matches!(e, LiveEvent::Applied { settings, replayed: 5 } if settings.params.radius_ft == 10.0)));
    }
}
