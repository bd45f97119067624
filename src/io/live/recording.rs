//! Recording what the engine takes to a kcat -J dump, within a size and a time limit.

use std::time::{Duration, Instant};

use crate::engine::pseudonym::Pseudonyms;
use crate::engine::{RawRecord, Topic};
use crate::io::dump::{DumpRecordRef, DumpWriter};
use crate::io::recordings::write_recording_note;

/// Where and how much to record.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordingLimits {
    pub path: std::path::PathBuf,
    pub max_bytes: Option<u64>,
    pub max_duration: Option<Duration>,
    /// Shoppers' uids are written as these pseudonyms; `None` writes them raw (the operator
    /// chose so).
    pub pseudonyms: Option<Pseudonyms>,
}

/// A recording's progress (shown on the source line).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RecordingStatus {
    pub path: String,
    pub records: u64,
    pub bytes: u64,
    pub active: bool,
    /// Why it stopped (limit reached, stopped, or an error).
    pub ended: Option<String>,
}

/// The current recording, if any, and how the last one ended.
#[derive(Default)]
pub struct Recorder {
    current: Option<Recording>,
    last: Option<RecordingStatus>,
}

struct Recording {
    writer: DumpWriter,
    limits: RecordingLimits,
    started: Instant,
    status: RecordingStatus,
}

impl Recorder {
    /// Starts a recording (ending the current one).
    pub fn start(&mut self, limits: RecordingLimits) {
        self.stop("replaced by a new recording".into());
        let path = limits.path.display().to_string();
        match DumpWriter::create(&limits.path) {
            Ok(writer) => {
                let topics: Vec<String> =
                    Topic::INPUTS.iter().map(|t| t.name().to_owned()).collect();
                write_recording_note(&limits.path, limits.pseudonyms.is_some(), &topics);
                self.current = Some(Recording {
                    writer,
                    limits,
                    started: Instant::now(),
                    status: RecordingStatus {
                        path,
                        active: true,
                        ..RecordingStatus::default()
                    },
                })
            }
            Err(e) => {
                self.last = Some(RecordingStatus {
                    path,
                    ended: Some(e.to_string()),
                    ..RecordingStatus::default()
                })
            }
        }
    }

    /// Ends the current recording (a gzip dump gets its trailer) and says why.
    pub fn stop(&mut self, why: String) {
        let Some(r) = self.current.take() else {
            return;
        };
        let mut status = r.status;
        status.active = false;
        status.ended = Some(match r.writer.finish() {
            Ok(()) => why,
            Err(e) => e.to_string(),
        });
        self.last = Some(status);
    }

    /// The current recording's progress, or how the last one ended.
    pub fn status(&self) -> Option<RecordingStatus> {
        self.current
            .as_ref()
            .map(|r| r.status.clone())
            .or_else(|| self.last.clone())
    }

    /// Writes `record` when recording; stops at a limit or a write error.
    pub fn write(&mut self, record: &RawRecord<'_>) {
        let Some(r) = self.current.as_mut() else {
            return;
        };
        let anonymous = r.limits.pseudonyms.as_ref().map(|p| p.record(record));
        let record = anonymous.as_ref().unwrap_or(record);
        let payload = record.payload_text();
        let written = r.writer.write_raw(&DumpRecordRef {
            topic: &record.topic,
            partition: record.partition,
            offset: record.offset,
            timestamp_ms: record.timestamp_ms.unwrap_or(-1),
            key: record.key.as_deref(),
            headers: &record.headers,
            payload: payload.as_deref(),
        });
        r.status.records += 1;
        // The line's size: the payload plus the envelope (close enough for a limit).
        r.status.bytes += payload.as_deref().map_or(0, str::len) as u64 + 110;
        let over_size = r.limits.max_bytes.is_some_and(|m| r.status.bytes >= m);
        let over_time = r
            .limits
            .max_duration
            .is_some_and(|d| r.started.elapsed() >= d);
        match written {
            Err(e) => self.stop(e.to_string()),
            Ok(()) if over_size => self.stop("size limit reached".into()),
            Ok(()) if over_time => self.stop("time limit reached".into()),
            Ok(()) => {}
        }
    }
}

impl Drop for Recorder {
    /// A recording in progress is finished properly (a gzip dump needs its trailer).
    fn drop(&mut self) {
        self.stop("the console closed".into());
    }
}
