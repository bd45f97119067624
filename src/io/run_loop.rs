//! The headless run, once for every source: each record goes through the pipeline and its
//! outputs to an [`OutputSink`] (a dump, Kafka, or nowhere). `instore run` over dumps, on the
//! simulator and on Kafka differ only in where records come from and where outputs go.

use std::time::{Duration, Instant};

use crate::engine::{Output, Pipeline, PipelineParams, RawRecord};
use crate::io::dump::{DumpError, DumpWriter};

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
}

/// The pipeline of a run and what it has taken.
pub struct RunLoop {
    pipeline: Pipeline,
    outputs: Vec<Output>,
    records_in: u64,
    started: Instant,
}

/// What a run did, for the summary.
#[derive(Debug)]
pub struct RunReport {
    pub pipeline: Pipeline,
    pub lines_read: u64,
    pub wall_time: Duration,
}

impl RunLoop {
    pub fn new(params: PipelineParams) -> RunLoop {
        RunLoop {
            pipeline: Pipeline::new(params),
            outputs: Vec::new(),
            records_in: 0,
            started: Instant::now(),
        }
    }

    /// Pushes one record and writes its outputs.
    pub fn push<S: OutputSink>(
        &mut self,
        record: &RawRecord<'_>,
        sink: &mut S,
    ) -> Result<(), S::Error> {
        let rejected_before = self.pipeline.stats().rejects.total();
        self.pipeline.push(record, &mut self.outputs);
        self.records_in += 1;
        let reason = (self.pipeline.stats().rejects.total() > rejected_before).then(|| {
            self.pipeline
                .last_rejection()
                .map(|r| r.to_string())
                .unwrap_or_default()
        });
        let written = sink.write(record, reason.as_deref(), &self.outputs);
        self.outputs.clear();
        written
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
        RunReport {
            wall_time: self.started.elapsed(),
            pipeline: self.pipeline,
            lines_read,
        }
    }
}
