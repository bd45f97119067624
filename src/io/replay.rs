//! Recorded dumps for replay: loaded once into memory (several files merge by timestamp), then
//! fed through the same paced feed as the simulator, from the start or fast-forwarded to a
//! point on the timeline.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use crate::io::bus::BusRecord;
use std::io::BufRead as _;

use crate::engine::Topic;
use crate::io::dump::{into_owned, open_input, DumpError, DumpLine, DumpReader};
use crate::io::formats::{detect, ui_export_record, values_record, LineFormat, ValuesOptions};
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
    #[error("{path} is not a dump: {why}. Expected kcat -J lines (topic, partition, offset, ts, key, payload), a Kafka UI export (value or content, timestamp), or JSON values with --topic")]
    NotADump { path: String, why: String },
}

/// Reads every file, merges by timestamp (stable: a file's order is kept among equal
/// timestamps; records without one go first and are refused by the engine as usual). Each
/// file's format is detected from its first line.
pub fn load_dumps(paths: &[PathBuf], progress: &LoadProgress) -> Result<LoadedDump, LoadError> {
    load_dumps_with(paths, &ValuesOptions::default(), progress)
}

/// [`load_dumps`], with what plain-value files need (their topic, their time field).
pub fn load_dumps_with(
    paths: &[PathBuf],
    options: &ValuesOptions,
    progress: &LoadProgress,
) -> Result<LoadedDump, LoadError> {
    let mut dump = LoadedDump {
        files: paths.to_vec(),
        ..LoadedDump::default()
    };
    for path in paths {
        let before = dump.records.len();
        let not_a_dump = |why: String| LoadError::NotADump {
            path: path.display().to_string(),
            why,
        };
        let Some(first) = first_line(path)? else {
            continue;
        };
        let format = if looks_like_kcat(&first) {
            LineFormat::Kcat
        } else {
            detect(&first, options).map_err(not_a_dump)?
        };
        match format {
            LineFormat::Kcat => read_kcat(path, &mut dump, progress)?,
            other => read_other(path, &other, options, &mut dump, progress)?,
        }
        if dump.records.len() == before {
            return Err(not_a_dump("no line in it is a record".into()));
        }
    }
    progress
        .records
        .store(dump.records.len() as u64, Ordering::Relaxed);
    dump.records
        .sort_by_key(|r| r.timestamp_ms.unwrap_or(i64::MIN));
    Ok(dump)
}

fn first_line(path: &std::path::Path) -> Result<Option<String>, LoadError> {
    let mut input = open_input(path)?;
    let mut line = String::new();
    loop {
        line.clear();
        let n = input
            .read_line(&mut line)
            .map_err(|source| DumpError::Read {
                path: path.to_owned(),
                source,
            })?;
        if n == 0 {
            return Ok(None);
        }
        if !line.trim().is_empty() {
            return Ok(Some(line.trim().to_owned()));
        }
    }
}

/// kcat -J lines carry the value as `payload`.
fn looks_like_kcat(line: &str) -> bool {
    matches!(serde_json::from_str::<serde_json::Value>(line), Ok(serde_json::Value::Object(m)) if m.contains_key("payload"))
        || serde_json::from_str::<serde_json::Value>(line).is_err()
}

fn broken(dump: &mut LoadedDump, path: &std::path::Path, line_number: u64, text: &str) {
    dump.broken_count += 1;
    if dump.broken.len() < BROKEN_SAMPLES {
        dump.broken.push(BrokenLine {
            file: path.display().to_string(),
            line_number,
            text: text.chars().take(300).collect(),
        });
    }
}

fn check_progress(dump: &LoadedDump, progress: &LoadProgress) -> Result<(), LoadError> {
    progress
        .records
        .store(dump.records.len() as u64, Ordering::Relaxed);
    if progress.cancel.load(Ordering::Relaxed) {
        return Err(LoadError::Cancelled);
    }
    Ok(())
}

fn read_kcat(
    path: &std::path::Path,
    dump: &mut LoadedDump,
    progress: &LoadProgress,
) -> Result<(), LoadError> {
    let mut reader = DumpReader::open(path)?;
    let mut lines = 0u64;
    while let Some(line) = reader.next_line()? {
        lines += 1;
        match line {
            DumpLine::Record(r) => dump.records.push(into_owned(r)),
            DumpLine::Broken { line_number, text } => broken(dump, path, line_number, &text),
        }
        if lines % 4_096 == 0 {
            check_progress(dump, progress)?;
        }
    }
    Ok(())
}

fn read_other(
    path: &std::path::Path,
    format: &LineFormat,
    options: &ValuesOptions,
    dump: &mut LoadedDump,
    progress: &LoadProgress,
) -> Result<(), LoadError> {
    // A per-topic export may only say its topic in its name (customers_locations.json).
    let file_topic = options.topic.clone().or_else(|| {
        let stem = path.file_name()?.to_str()?.split('.').next()?;
        Topic::from_name(stem).map(|t| t.name().to_owned())
    });
    let input = open_input(path)?;
    let mut index = 0u64;
    for (i, line) in input.lines().enumerate() {
        let line = line.map_err(|source| DumpError::Read {
            path: path.to_owned(),
            source,
        })?;
        let text = line.trim();
        if text.is_empty() {
            continue;
        }
        match format {
            LineFormat::UiExport => match ui_export_record(text, file_topic.as_deref()) {
                Some(r) => dump.records.push(r),
                None => broken(dump, path, i as u64 + 1, text),
            },
            LineFormat::Values { topic, ts_field } => {
                dump.records
                    .push(values_record(text, index, topic, ts_field.as_deref()));
                index += 1;
            }
            LineFormat::Kcat => {}
        }
        if i % 4_096 == 0 {
            check_progress(dump, progress)?;
        }
    }
    Ok(())
}

/// A loaded dump as a feed source.
pub struct ReplaySource {
    dump: Arc<LoadedDump>,
    pos: usize,
    fast_until_ms: Option<i64>,
}

impl ReplaySource {
    /// From record `from_record` (0: the start, or where a checkpoint resumes); records before
    /// `fast_until_ms` are fed at once (seeking).
    pub fn new(dump: Arc<LoadedDump>, from_record: usize, fast_until_ms: Option<i64>) -> Self {
        Self {
            dump,
            pos: from_record,
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
        assert!(err.to_string().contains("kcat -J lines"), "{err}");
    }
}

#[cfg(test)]
mod format_tests {
    use super::*;

    #[test]
    fn a_kafka_ui_export_named_after_its_topic_and_plain_values_load() {
        let dir = tempfile::tempdir().unwrap();
        let export = dir.path().join("customers_locations.json");
        std::fs::write(
            &export,
            "{\"partition\":0,\"offset\":1,\"timestamp\":\"2025-11-26T09:00:01Z\",\"key\":\"u\",\"content\":\"{}\"}\nnot json\n",
        )
        .unwrap();
        let values = dir.path().join("products.jsonl");
        std::fs::write(&values, "{\"sku\": 1}\n{\"sku\": 2}\n").unwrap();
        let options = ValuesOptions {
            topic: Some("stores_products".into()),
            ts_field: None,
        };
        let dump = load_dumps_with(
            &[export.clone(), values.clone()],
            &options,
            &LoadProgress::default(),
        )
        .unwrap();
        assert_eq!(dump.records.len(), 3);
        assert_eq!(dump.broken_count, 1);
        assert!(dump
            .records
            .iter()
            .any(|r| r.topic == "stores_products" && r.offset == 1));
        // The export alone, with no topic given: its file name says it.
        let dump = load_dumps(&[export], &LoadProgress::default()).unwrap();
        assert_eq!(dump.records[0].topic, "customers_locations");
        // Plain values without a topic: explained.
        let err = load_dumps(&[values], &LoadProgress::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("--topic"), "{err}");
    }
}
