//! The headless run, once for every source: each record goes through the pipeline and its
//! outputs to an [`OutputSink`] (a dump, Kafka, or nowhere). `instore run` over dumps, on the
//! simulator and on Kafka differ only in where records come from and where outputs go.

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use smallvec::SmallVec;

use crate::engine::campaign::forecast::VariantForecast;
use crate::engine::campaign::gate::GateCounts;
use crate::engine::notification_record::{notification_record, NotificationRecord};
use crate::engine::notify::{HeldBack, Notification, Notifier, NotifyRule};
use crate::engine::output::release_burst;
use crate::engine::{InputValue, Output, Pipeline, PipelineParams, RawRecord};
use crate::io::campaign::CampaignInput;
use crate::io::campaign::CampaignStage;
use crate::io::dump::{DumpError, DumpLine, DumpReader, DumpWriter};
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
        notifications: &[NotificationRecord<'_>],
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
        notifications: &[NotificationRecord<'_>],
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
        notifications: &[NotificationRecord<'_>],
    ) -> Result<(), DumpError> {
        for n in notifications {
            let offset = self.records_written() as i64;
            self.write_notification(n, offset)?;
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
    /// A campaign's gate (and forecast) between the join and the rules.
    pub campaign: Option<CampaignStage>,
    /// Whether notification records are built (a forecast only counts them).
    pub write_records: bool,
    /// This record's notifications (working space, reused).
    notifications: Vec<Notification>,
    /// Those of them that become records: their index and their place's number in `names`
    /// (working space, reused).
    kept: Vec<(usize, usize)>,
}

impl RunNotifications {
    pub fn new(notifier: Notifier, names: StoreNames, template: String) -> Self {
        Self {
            notifier,
            names,
            template,
            campaign: None,
            write_records: true,
            notifications: Vec::new(),
            kept: Vec::new(),
        }
    }

    /// Runs a campaign: only its matches reach the sink and the rules.
    pub fn with_campaign(mut self, stage: CampaignStage) -> RunNotifications {
        self.campaign = Some(stage);
        self
    }
}

/// The pipeline of a run and what it has taken.
pub struct RunLoop {
    pipeline: Pipeline,
    outputs: Vec<Output>,
    notifications: Option<RunNotifications>,
    records_in: u64,
    started: Instant,
    /// Inputs whose gzip stream ended before its end ([`DumpReader::is_cut_short`]).
    cut_short: Vec<String>,
}

/// What the notification rules did over a run.
#[derive(Clone, Debug, PartialEq)]
pub struct NotifySummary {
    pub rule: NotifyRule,
    pub matches: u64,
    pub notifications: u64,
    /// Matches that made the notifications; the rest are in `held_back`.
    pub notifying: u64,
    pub held_back: HeldBack,
    /// What a campaign's gate kept and held back.
    pub campaign: Option<GateCounts>,
}

/// What a run did, for the summary.
#[derive(Debug)]
pub struct RunReport {
    pub pipeline: Pipeline,
    pub lines_read: u64,
    pub wall_time: Duration,
    pub notifications: Option<NotifySummary>,
    /// A forecast's tally (`instore plan`).
    pub forecast: Option<VariantForecast>,
    /// Inputs cut short: read up to the cut, the rest missing.
    pub cut_short: Vec<String>,
}

impl RunLoop {
    pub fn new(params: PipelineParams) -> RunLoop {
        RunLoop {
            pipeline: Pipeline::new(params),
            outputs: Vec::new(),
            notifications: None,
            records_in: 0,
            started: Instant::now(),
            cut_short: Vec::new(),
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
        // A record with more matches than a part (a promotion arriving in a large chain) is
        // written and offered to the rules in parts, so no run holds them all at once.
        let mut in_parts = false;
        let mut parts_written = Ok(());
        match self.notifications.as_mut() {
            None => self.pipeline.push_observed_in_parts(
                record,
                &mut self.outputs,
                |_, _, _| {},
                &mut |part| {
                    if parts_written.is_ok() {
                        parts_written = sink.write(record, None, part);
                    }
                },
            ),
            Some(run) => {
                // The value is observed before the join, parts come during it: never both at
                // once, but both need the run's state.
                let state = RefCell::new((&mut run.names, &mut run.notifier, &mut run.campaign));
                let observe = |_, ts, value: &InputValue| {
                    let (names, notifier, campaign) = &mut *state.borrow_mut();
                    match value {
                        InputValue::Customer(c) => {
                            ping = notifier.expect_ping(c, ts);
                            if let Some(stage) = campaign.as_mut() {
                                stage.observe_ping(c, ts);
                            }
                        }
                        InputValue::Product(p) => {
                            names.observe_product(p);
                            if let Some(stage) = campaign.as_mut() {
                                stage.observe_product(p, names);
                            }
                        }
                        InputValue::Promotion(_) => {}
                    }
                };
                self.pipeline.push_observed_in_parts(
                    record,
                    &mut self.outputs,
                    observe,
                    &mut |part| {
                        let (names, notifier, campaign) = &mut *state.borrow_mut();
                        if let Some(stage) = campaign.as_mut() {
                            stage.keep_matches(part, names);
                        }
                        if parts_written.is_ok() {
                            parts_written = sink.write(record, None, part);
                        }
                        notifier.offer_part(part);
                        in_parts = true;
                    },
                );
                run.notifier.prefetch_expected();
                if let Some(stage) = run.campaign.as_mut() {
                    stage.keep_matches(&mut self.outputs, &mut run.names);
                }
            }
        }
        self.records_in += 1;
        let reason = (self.pipeline.stats().rejects.total() > rejected_before).then(|| {
            self.pipeline
                .last_rejection()
                .map(|r| r.to_string())
                .unwrap_or_default()
        });
        let written =
            parts_written.and_then(|()| sink.write(record, reason.as_deref(), &self.outputs));
        let notified = match self.notifications.as_mut() {
            Some(run) => {
                let notifications = &mut run.notifications;
                notifications.clear();
                if in_parts {
                    run.notifier.offer_part(&self.outputs);
                    run.notifier.finish_parts(ping.as_ref(), notifications);
                } else {
                    (run.notifier).on_record_into(&self.outputs, ping.as_ref(), notifications);
                }
                // First what each notification needs that changes the run's state (the
                // campaign's gate, the names of newly formed sites), then the records, which
                // only borrow it.
                run.kept.clear();
                for (i, n) in notifications.iter().enumerate() {
                    if let Some(stage) = run.campaign.as_mut() {
                        if !stage.admit(n, &mut run.names) {
                            continue;
                        }
                    }
                    if run.write_records {
                        run.kept.push((i, run.names.number(n.product_at)));
                    }
                }
                if run.kept.is_empty() {
                    Ok(())
                } else {
                    let records: SmallVec<[NotificationRecord<'_>; 4]> = (run.kept.iter())
                        .filter_map(|&(i, store)| {
                            let n = notifications.get(i)?;
                            let template = (run.campaign.as_ref())
                                .and_then(|stage| stage.template(&n.pid))
                                .unwrap_or(&run.template);
                            Some(notification_record(n, run.names.name_of(store), template))
                        })
                        .collect();
                    sink.write_notifications(&records)
                }
            }
            None => Ok(()),
        };
        self.outputs.clear();
        release_burst(&mut self.outputs);
        written.and(notified)
    }

    /// Pushes one input record, a campaign's announcements due by its time first; the
    /// input's own promotions are left out when a campaign runs.
    pub fn push_with_campaign<S: OutputSink>(
        &mut self,
        record: &RawRecord<'_>,
        sink: &mut S,
        campaign: Option<&mut CampaignInput>,
    ) -> Result<(), S::Error> {
        if let Some(input) = campaign {
            if let Some(ts) = record.timestamp_ms {
                while let Some(announcement) = input.next_due(ts) {
                    self.push(&announcement, sink)?;
                }
            }
            if !input.admits(record) {
                return Ok(());
            }
        }
        self.push(record, sink)
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
        let held_back = self
            .notifications
            .as_ref()
            .map(|run| run.notifier.held_back());
        let forecast = self.notifications.as_ref().and_then(|run| {
            run.campaign
                .as_ref()
                .and_then(|stage| stage.report(run.notifier.held_back()))
        });
        let notifications = self.notifications.map(|run| {
            let campaign = run.campaign.as_ref().map(|stage| stage.gate.counts());
            NotifySummary {
                rule: run.notifier.params().rule,
                matches: run.notifier.raw_count(),
                notifying: run.notifier.notifying_count(),
                // Past a campaign's budget the rules' notifications are not sent.
                notifications: campaign.map_or(run.notifier.notified_count(), |c| c.notifications),
                held_back: held_back.unwrap_or_default(),
                campaign,
            }
        });
        RunReport {
            wall_time: self.started.elapsed(),
            pipeline: self.pipeline,
            lines_read,
            notifications,
            forecast,
            cut_short: self.cut_short,
        }
    }
}

/// Feeds dumps through `run` in file order, a campaign's announcements merged in before the
/// first record at or after their time (and the dumps' own promotions left out); returns the
/// lines read. Checks `stop` now and then (a forecast the operator cancels).
pub fn feed_dumps(
    run: &mut RunLoop,
    readers: Vec<DumpReader>,
    sink: &mut Option<DumpWriter>,
    mut campaign: Option<&mut CampaignInput>,
    stop: Option<&AtomicBool>,
) -> Result<u64, DumpError> {
    let mut lines_read = 0;
    for mut reader in readers {
        while let Some(line) = reader.next_line()? {
            match line {
                DumpLine::Record(record) => {
                    run.push_with_campaign(&record, sink, campaign.as_deref_mut())?;
                    if run.records_in() % 65_536 == 0
                        && stop.is_some_and(|s| s.load(Ordering::Relaxed))
                    {
                        return Ok(lines_read + reader.line_number());
                    }
                }
                DumpLine::Broken { line_number, text } => run.broken_line(line_number, &text),
            }
        }
        if reader.is_cut_short() {
            run.cut_short.push(reader.path().display().to_string());
        }
        lines_read += reader.line_number();
    }
    Ok(lines_read)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::json_object::Embedding;
    use crate::engine::notify::NotifyParams;
    use crate::engine::pipeline::PART_OUTPUTS;
    use crate::engine::Topic;
    use crate::io::chain::Chain;

    /// Keeps what a run writes, and how many writes brought outputs.
    #[derive(Default)]
    struct Kept {
        outputs: Vec<Output>,
        writes_with_outputs: usize,
        notifications: Vec<String>,
    }

    impl OutputSink for Kept {
        type Error = std::convert::Infallible;

        fn write(
            &mut self,
            _record: &RawRecord<'_>,
            _rejected: Option<&str>,
            outputs: &[Output],
        ) -> Result<(), Self::Error> {
            self.writes_with_outputs += usize::from(!outputs.is_empty());
            self.outputs.extend_from_slice(outputs);
            Ok(())
        }

        fn write_notifications(
            &mut self,
            notifications: &[NotificationRecord<'_>],
        ) -> Result<(), Self::Error> {
            for n in notifications {
                let mut payload = Vec::new();
                n.write_payload(&mut payload, Embedding::Plain);
                self.notifications
                    .push(String::from_utf8_lossy(&payload).into_owned());
            }
            Ok(())
        }
    }

    fn record(topic: Topic, ts: i64, payload: String) -> RawRecord<'static> {
        RawRecord {
            timestamp_ms: Some(ts),
            payload: Some(payload.into()),
            topic: topic.name().into(),
            ..RawRecord::default()
        }
    }

    /// A promotion matching more buffered pings than a part: the run writes its outputs in
    /// parts, in the order the whole record gives them, and notifies as for the whole record.
    #[test]
    fn a_record_with_more_matches_than_a_part_is_written_and_notified_as_a_whole() {
        let t0 = 1_764_147_600_000;
        let mut records = Vec::new();
        for sku in 1..=8 {
            records.push(record(
                Topic::StoresProducts,
                t0,
                format!(
                    r#"{{"sku": {sku}, "segment": "A", "latitude": 41.88, "longitude": -87.62, "country": "USA"}}"#
                ),
            ));
        }
        for i in 0..30_000i64 {
            records.push(record(
                Topic::CustomersLocations,
                t0 + i / 1_000 * 5_000,
                format!(
                    r#"{{"uid": "u{}", "latitude": 41.8800{}, "longitude": -87.62, "country": "USA"}}"#,
                    i % 1_000,
                    i % 10
                ),
            ));
        }
        records.push(record(
            Topic::ProductsPromotions,
            t0 + 200_000,
            r#"{"pid": "p1", "segment": "A", "discount_pct": 15}"#.to_owned(),
        ));

        let mut pipeline = Pipeline::new(PipelineParams::default());
        let mut notifier = Notifier::new(NotifyParams::default(), 100.0, 3281.0);
        let (mut whole, mut expected) = (Vec::new(), Vec::new());
        for r in &records {
            let mut out = Vec::new();
            pipeline.push(r, &mut out);
            expected.extend(notifier.on_record(&out, None));
            whole.extend(out);
        }
        assert!(whole.len() > 2 * PART_OUTPUTS);

        let notifications = RunNotifications::new(
            Notifier::new(NotifyParams::default(), 100.0, 3281.0),
            StoreNames::new(Chain::builtin().unwrap()),
            "{DISCOUNT_PCT} % off".to_owned(),
        );
        let mut run = RunLoop::new(PipelineParams::default()).with_notifications(notifications);
        let mut kept = Kept::default();
        for r in &records {
            run.push(r, &mut kept).unwrap();
        }
        assert!(kept.outputs == whole, "the outputs, in order");
        assert_eq!(kept.writes_with_outputs, 3, "two parts and the rest");
        assert_eq!(kept.notifications.len(), expected.len());
        for (text, n) in kept.notifications.iter().zip(&expected) {
            assert!(text.contains(&format!(r#""UID":"{}""#, n.uid)), "{text}");
            assert!(
                text.contains(&format!(r#""MATCHES":{}"#, n.matches)),
                "{text}"
            );
        }
        let summary = run.finish(records.len() as u64).notifications.unwrap();
        assert_eq!(summary.matches, whole.len() as u64 - 8);
    }
}
