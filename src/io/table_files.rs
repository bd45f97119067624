//! Dumps as the files the exported Flink SQL reads with its filesystem connector: one folder
//! per input topic, `DIR/<topic>/records.json`, one JSON line per record (see
//! [`crate::engine::sql::table_row`]), so a dump runs through Flink with no broker.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write as _};
use std::path::{Path, PathBuf};

use crate::engine::sql::table_row::write_table_row;
use crate::engine::sql::TopicNames;
use crate::engine::Topic;
use crate::io::dump::{DumpError, DumpLine, DumpReader};

/// The file each input topic's records go to, inside its folder.
pub const RECORDS_FILE: &str = "records.json";

/// What went into the files, and what was left out and why.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TableFilesReport {
    /// Lines written, by the file they went to.
    pub written: BTreeMap<PathBuf, u64>,
    /// Records left out because instore refuses them, by topic and reason.
    pub refused: BTreeMap<(String, String), u64>,
    /// Dump lines that were not records.
    pub broken_lines: u64,
}

impl TableFilesReport {
    /// One line per count, for the terminal.
    pub fn describe(&self) -> String {
        let mut text = String::new();
        for (path, n) in &self.written {
            text.push_str(&format!("{n} records → {}\n", path.display()));
        }
        for ((topic, reason), n) in &self.refused {
            text.push_str(&format!("left out {n} {topic} records: {reason}\n"));
        }
        if self.broken_lines > 0 {
            text.push_str(&format!(
                "left out {} lines that are not records\n",
                self.broken_lines
            ));
        }
        text
    }
}

/// Writes the input records of `inputs` (in file order) under `data_dir`, replacing the
/// records files a previous export wrote there.
pub fn write_table_files(
    inputs: &[PathBuf],
    data_dir: &Path,
    topics: &TopicNames,
) -> Result<TableFilesReport, DumpError> {
    let readers = inputs
        .iter()
        .map(|path| DumpReader::open(path))
        .collect::<Result<Vec<_>, _>>()?;
    let mut files = BTreeMap::new();
    for topic in Topic::INPUTS {
        let dir = data_dir.join(topics.get(topic));
        let path = dir.join(RECORDS_FILE);
        let create_error = |source| DumpError::Create {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(&dir).map_err(create_error)?;
        let file = File::create(&path).map_err(create_error)?;
        files.insert(topic, (path, BufWriter::new(file), 0u64));
    }
    let mut report = TableFilesReport::default();
    let mut line = Vec::with_capacity(512);
    for mut reader in readers {
        while let Some(next) = reader.next_line()? {
            let record = match next {
                DumpLine::Record(record) => record,
                DumpLine::Broken { .. } => {
                    report.broken_lines += 1;
                    continue;
                }
            };
            let Some(topic) = Topic::from_name(&record.topic).filter(|t| t.is_input()) else {
                continue;
            };
            let refuse = |report: &mut TableFilesReport, reason: String| {
                *report
                    .refused
                    .entry((topic.name().to_owned(), reason))
                    .or_default() += 1;
            };
            let payload = record.payload_text();
            let (Some(ts_ms), Some(payload)) = (record.timestamp_ms, payload.as_deref()) else {
                let reason = if record.timestamp_ms.is_none() {
                    "no timestamp"
                } else {
                    "no value (tombstone)"
                };
                refuse(&mut report, reason.to_owned());
                continue;
            };
            line.clear();
            if let Err(reason) = write_table_row(topic, ts_ms, payload, &mut line) {
                refuse(&mut report, reason.to_string());
                continue;
            }
            if let Some((path, file, written)) = files.get_mut(&topic) {
                file.write_all(&line).map_err(|source| DumpError::Write {
                    path: path.clone(),
                    source,
                })?;
                *written += 1;
            }
        }
    }
    for (_, (path, mut file, written)) in files {
        file.flush().map_err(|source| DumpError::Write {
            path: path.clone(),
            source,
        })?;
        report.written.insert(path, written);
    }
    Ok(report)
}
