//! Recorded dumps for replay: loaded once into memory (several files merge by timestamp), then
//! fed through the same paced feed as the simulator, from the start or fast-forwarded to a
//! point on the timeline.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use crate::io::bus::BusRecord;
use crate::io::dump::{into_owned, DumpError, DumpLine, DumpReader};
use crate::io::sim_feed::FeedSource;

/// Broken lines kept for the operator (all are counted).
const BROKEN_SAMPLES: usize = 1_000;

/// A line that was not a record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BrokenLine {
    pub file: String,
    pub line_number: u64,
    pub text: String,
}

/// Dumps in memory, in timestamp order.
#[derive(Debug, Default)]
pub struct LoadedDump {
    pub files: Vec<PathBuf>,
    pub records: Vec<BusRecord>,
    pub broken_count: u64,
    pub broken: Vec<BrokenLine>,
}

impl LoadedDump {
    pub fn first_ms(&self) -> Option<i64> {
        self.records.iter().find_map(|r| r.timestamp_ms)
    }

    pub fn last_ms(&self) -> Option<i64> {
        self.records.iter().rev().find_map(|r| r.timestamp_ms)
    }

    /// Records per minute of `topic` (for the timeline's histogram), from the first minute.
    pub fn per_minute(&self, topic: &str) -> Vec<u32> {
        let Some(first) = self.first_ms() else {
            return Vec::new();
        };
        let start = first - first.rem_euclid(60_000);
        let mut counts: Vec<u32> = Vec::new();
        for r in self.records.iter().filter(|r| r.topic == topic) {
            let Some(ts) = r.timestamp_ms else { continue };
            let i = ((ts - start) / 60_000).max(0) as usize;
            if counts.len() <= i {
                counts.resize(i + 1, 0);
            }
            counts[i] += 1;
        }
        counts
    }
}

/// Loading progress, shared with the UI.
#[derive(Debug, Default)]
pub struct LoadProgress {
    pub records: AtomicU64,
    pub cancel: AtomicBool,
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Dump(#[from] DumpError),
    #[error("loading cancelled")]
    Cancelled,
    #[error("{0} holds no records: is it a kcat -J dump (one JSON object per line with topic, partition, offset, ts, key, payload)?")]
    NotADump(String),
}

/// Reads every file, merges by timestamp (stable: a file's order is kept among equal
/// timestamps; records without one go first and are refused by the engine as usual).
pub fn load_dumps(paths: &[PathBuf], progress: &LoadProgress) -> Result<LoadedDump, LoadError> {
    let mut dump = LoadedDump {
        files: paths.to_vec(),
        ..LoadedDump::default()
    };
    for path in paths {
        let mut reader = DumpReader::open(path)?;
        let before = dump.records.len();
        let mut lines = 0u64;
        while let Some(line) = reader.next_line()? {
            lines += 1;
            match line {
                DumpLine::Record(r) => dump.records.push(into_owned(r)),
                DumpLine::Broken { line_number, text } => {
                    dump.broken_count += 1;
                    if dump.broken.len() < BROKEN_SAMPLES {
                        dump.broken.push(BrokenLine {
                            file: path.display().to_string(),
                            line_number,
                            text: text.chars().take(300).collect(),
                        });
                    }
                }
            }
            if lines % 4_096 == 0 {
                progress
                    .records
                    .store(dump.records.len() as u64, Ordering::Relaxed);
                if progress.cancel.load(Ordering::Relaxed) {
                    return Err(LoadError::Cancelled);
                }
            }
        }
        if dump.records.len() == before && lines > 0 {
            return Err(LoadError::NotADump(path.display().to_string()));
        }
    }
    progress
        .records
        .store(dump.records.len() as u64, Ordering::Relaxed);
    dump.records
        .sort_by_key(|r| r.timestamp_ms.unwrap_or(i64::MIN));
    Ok(dump)
}

/// A loaded dump as a feed source.
pub struct ReplaySource {
    dump: Arc<LoadedDump>,
    pos: usize,
    fast_until_ms: Option<i64>,
}

impl ReplaySource {
    /// From the start; records before `fast_until_ms` are fed at once (seeking).
    pub fn new(dump: Arc<LoadedDump>, fast_until_ms: Option<i64>) -> Self {
        Self {
            dump,
            pos: 0,
            fast_until_ms,
        }
    }
}

impl FeedSource for ReplaySource {
    fn next_time_ms(&self) -> Option<i64> {
        let r = self.dump.records.get(self.pos)?;
        Some(r.timestamp_ms.unwrap_or(i64::MIN))
    }

    fn next_record(&mut self) -> Option<BusRecord> {
        let r = self.dump.records.get(self.pos)?.clone();
        self.pos += 1;
        Some(r)
    }

    fn name(&self) -> &'static str {
        "instore-replay"
    }

    fn fast_until_ms(&self) -> Option<i64> {
        self.fast_until_ms
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &std::path::Path, name: &str, lines: &[&str]) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, lines.join("\n")).unwrap();
        p
    }

    #[test]
    fn files_merge_by_timestamp_and_broken_lines_are_counted() {
        let dir = tempfile::tempdir().unwrap();
        let rec = |topic: &str, ts: i64| {
            format!(
                r#"{{"topic":"{topic}","partition":0,"offset":0,"ts":{ts},"key":null,"payload":"{{}}"}}"#
            )
        };
        let a = write(
            dir.path(),
            "a.jsonl",
            &[
                &rec("stores_products", 30),
                &rec("stores_products", 10),
                "garbage",
            ],
        );
        let b = write(dir.path(), "b.jsonl", &[&rec("customers_locations", 20)]);
        let dump = load_dumps(&[a, b], &LoadProgress::default()).unwrap();
        let ts: Vec<_> = dump
            .records
            .iter()
            .map(|r| r.timestamp_ms.unwrap())
            .collect();
        assert_eq!(ts, [10, 20, 30]);
        assert_eq!(dump.broken_count, 1);
        assert_eq!(dump.broken[0].line_number, 3);
        assert_eq!((dump.first_ms(), dump.last_ms()), (Some(10), Some(30)));
    }

    #[test]
    fn a_file_that_is_not_a_dump_is_explained() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "notes.txt", &["hello", "world"]);
        let err = load_dumps(&[p], &LoadProgress::default()).unwrap_err();
        assert!(err.to_string().contains("kcat -J dump"), "{err}");
    }
}
