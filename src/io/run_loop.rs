//! The headless run, once for every source: each record goes through the pipeline and its
//! outputs to an [`OutputSink`] (a dump, Kafka, or nowhere). `instore run` over dumps, on the
//! simulator and on Kafka differ only in where records come from and where outputs go.

use std::time::{Duration, Instant};

use crate::engine::notification_record::{
    notification_record, NotificationRecord, NOTIFICATIONS_TOPIC,
};
use crate::engine::notify::{HeldBack, Notifier, NotifyRule};
use crate::engine::{InputValue, Output, Pipeline, PipelineParams, RawRecord};
use crate::io::dump::{DumpError, DumpRecordRef, DumpWriter};
use crate::io::store_names::StoreNames;

/// Where a run's outputs go.
pub trait OutputSink {
    type Error;

    /// The outputs of one input record; `rejected` says why the engine refused the record
    /// (a dead-letter sink passes it on).
    fn write(
        &mut self,
        record: &RawRecord<'_>,
        rejected: Option<&str>,
        outputs: &[Output],
    ) -> Result<(), Self::Error>;

    /// Notifications (`instore run --notifications`), after the outputs they came from.
    fn write_notifications(
        &mut self,
        notifications: &[NotificationRecord],
    ) -> Result<(), Self::Error>;
}

/// No outputs wanted (`--no-produce`, or no `--output`).
impl<S: OutputSink> OutputSink for Option<S> {
    type Error = S::Error;

    fn write(
        &mut self,
        record: &RawRecord<'_>,
        rejected: Option<&str>,
        outputs: &[Output],
    ) -> Result<(), S::Error> {
        match self {
            Some(sink) => sink.write(record, rejected, outputs),
            None => Ok(()),
        }
    }

    fn write_notifications(
        &mut self,
        notifications: &[NotificationRecord],
    ) -> Result<(), S::Error> {
        match self {
            Some(sink) => sink.write_notifications(notifications),
            None => Ok(()),
        }
    }
}

impl OutputSink for DumpWriter {
    type Error = DumpError;

    fn write(
        &mut self,
        _record: &RawRecord<'_>,
        _rejected: Option<&str>,
        outputs: &[Output],
    ) -> Result<(), DumpError> {
        for output in outputs {
            self.write_output(output)?;
        }
        Ok(())
    }

    fn write_notifications(
        &mut self,
        notifications: &[NotificationRecord],
    ) -> Result<(), DumpError> {
        for n in notifications {
            let offset = self.records_written() as i64;
            self.write_raw(&DumpRecordRef {
                topic: NOTIFICATIONS_TOPIC,
                partition: 0,
                offset,
                timestamp_ms: n.timestamp_ms,
                key: Some(&n.key),
                headers: &[],
                payload: Some(&n.payload),
            })?;
        }
        Ok(())
    }
}

/// `--notifications`: the rules over each record's matches, and the records they give.
pub struct RunNotifications {
    pub notifier: Notifier,
    pub names: StoreNames,
    /// MESSAGE template.
    pub template: String,
    records: Vec<NotificationRecord>,
}

impl RunNotifications {
    pub fn new(notifier: Notifier, names: StoreNames, template: String) -> Self {
        Self {
            notifier,
            names,
            template,
            records: Vec::new(),
        }
    }
}

/// The pipeline of a run and what it has taken.
pub struct RunLoop {
    pipeline: Pipeline,
    outputs: Vec<Output>,
    notifications: Option<RunNotifications>,
    records_in: u64,
    started: Instant,
}

/// What the notification rules did over a run.
#[derive(Clone, Debug, PartialEq)]
pub struct NotifySummary {
    pub rule: NotifyRule,
    pub matches: u64,
    pub notifications: u64,
    pub held_back: HeldBack,
}

/// What a run did, for the summary.
#[derive(Debug)]
pub struct RunReport {
    pub pipeline: Pipeline,
    pub lines_read: u64,
    pub wall_time: Duration,
    pub notifications: Option<NotifySummary>,
}

impl RunLoop {
    pub fn new(params: PipelineParams) -> RunLoop {
        RunLoop {
            pipeline: Pipeline::new(params),
            outputs: Vec::new(),
            notifications: None,
            records_in: 0,
            started: Instant::now(),
        }
    }

    /// Also applies the notification rules and writes their records.
    pub fn with_notifications(mut self, notifications: RunNotifications) -> RunLoop {
        self.notifications = Some(notifications);
        self
    }

    /// Pushes one record and writes its outputs.
    pub fn push<S: OutputSink>(
        &mut self,
        record: &RawRecord<'_>,
        sink: &mut S,
    ) -> Result<(), S::Error> {
        let rejected_before = self.pipeline.stats().rejects.total();
        let mut ping = None;
        match self.notifications.as_mut() {
            None => self.pipeline.push(record, &mut self.outputs),
            Some(run) => {
                let (names, notifier) = (&mut run.names, &mut run.notifier);
                self.pipeline.push_observed(
                    record,
                    &mut self.outputs,
                    |_, ts, value| match value {
                        InputValue::Customer(c) => ping = notifier.expect_ping(c, ts),
                        InputValue::Product(p) => names.observe_product(p),
                        InputValue::Promotion(_) => {}
                    },
                );
                run.notifier.prefetch_expected();
            }
        }
        self.records_in += 1;
        let reason = (self.pipeline.stats().rejects.total() > rejected_before).then(|| {
            self.pipeline
                .last_rejection()
                .map(|r| r.to_string())
                .unwrap_or_default()
        });
        let written = sink.write(record, reason.as_deref(), &self.outputs);
        let notified = match self.notifications.as_mut() {
            Some(run) => {
                run.records.clear();
                for n in run.notifier.on_record(&self.outputs, ping.as_ref()) {
                    let store = run.names.name(n.product_at);
                    run.records
                        .push(notification_record(&n, store, &run.template));
                }
                sink.write_notifications(&run.records)
            }
            None => Ok(()),
        };
        self.outputs.clear();
        written.and(notified)
    }

    /// A line of a dump that was not a record: counted like a refused record.
    pub fn broken_line(&mut self, line_number: u64, text: &str) {
        self.pipeline.count_broken_line(line_number, text);
    }

    pub fn pipeline(&self) -> &Pipeline {
        &self.pipeline
    }

    /// Records pushed so far.
    pub fn records_in(&self) -> u64 {
        self.records_in
    }

    /// The report, with `lines_read` as the source counts them (a dump's lines, or records).
    pub fn finish(self, lines_read: u64) -> RunReport {
        let notifications = self.notifications.map(|run| NotifySummary {
            rule: run.notifier.params().rule,
            matches: run.notifier.raw_count(),
            notifications: run.notifier.notified_count(),
            held_back: run.notifier.held_back(),
        });
        RunReport {
            wall_time: self.started.elapsed(),
            pipeline: self.pipeline,
            lines_read,
            notifications,
        }
    }
}
