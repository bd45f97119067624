//! Recordings this installation made, and their age. Location traces identify shoppers even
//! under pseudonyms, so each recording gets a note beside it (`DUMP.instore.json`: when it was
//! made, whether its uids are pseudonymized, which topics) and its path goes in a list
//! (`$XDG_DATA_HOME/instore/recordings.txt`). The console asks before deleting the ones older
//! than the user's retention; nothing here deletes on its own.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::engine::rfc3339::format_rfc3339_ms;

/// The note beside a recording.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecordingNote {
    /// RFC 3339, for people.
    pub created: String,
    pub created_ms: i64,
    pub uids: String,
    pub topics: Vec<String>,
}

/// A recording past the retention.
#[derive(Clone, Debug, PartialEq)]
pub struct OldRecording {
    pub path: PathBuf,
    pub created_ms: i64,
    pub bytes: u64,
}

pub fn note_path(dump: &Path) -> PathBuf {
    let mut name = dump.as_os_str().to_owned();
    name.push(".instore.json");
    PathBuf::from(name)
}

/// The wall clock in epoch milliseconds: a recording's age, where a Kafka start by time
/// counts back from (the engine never sees it).
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// The list of recordings: `recordings.txt` in the data folder.
pub fn default_list() -> Option<PathBuf> {
    Some(crate::io::folders::data_folder()?.join("recordings.txt"))
}

/// Writes the note beside a new recording and lists it (not for standard output). A failure
/// is reported on stderr and does not stop the recording.
pub fn write_recording_note(dump: &Path, pseudonymized: bool, topics: &[String]) {
    if dump == Path::new("-") {
        return;
    }
    if let Err(e) = note_recording(
        dump,
        pseudonymized,
        topics,
        default_list().as_deref(),
        now_ms(),
    ) {
        tracing::warn!("cannot note the recording {}: {e}", dump.display());
    }
}

/// [`write_recording_note`] with the list and the time given.
pub fn note_recording(
    dump: &Path,
    pseudonymized: bool,
    topics: &[String],
    list: Option<&Path>,
    created_ms: i64,
) -> std::io::Result<()> {
    let note = RecordingNote {
        created: format_rfc3339_ms(created_ms),
        created_ms,
        uids: if pseudonymized {
            "pseudonymized"
        } else {
            "raw"
        }
        .to_owned(),
        topics: topics.to_vec(),
    };
    std::fs::write(
        note_path(dump),
        serde_json::to_string_pretty(&note).unwrap_or_default(),
    )?;
    if let Some(list) = list {
        let absolute = std::path::absolute(dump)?;
        if let Some(dir) = list.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut text = std::fs::read_to_string(list).unwrap_or_default();
        if !text.lines().any(|l| Path::new(l) == absolute) {
            text.push_str(&absolute.to_string_lossy());
            text.push('\n');
            std::fs::write(list, text)?;
        }
    }
    Ok(())
}

/// When a recording was made: its note, else the file's modification time.
pub fn created_ms(dump: &Path) -> Option<i64> {
    if let Ok(text) = std::fs::read_to_string(note_path(dump)) {
        if let Ok(note) = serde_json::from_str::<RecordingNote>(&text) {
            return Some(note.created_ms);
        }
    }
    let modified = std::fs::metadata(dump).ok()?.modified().ok()?;
    Some(modified.duration_since(UNIX_EPOCH).ok()?.as_millis() as i64)
}

/// The listed recordings made more than `retention_days` before `now_ms`, oldest first
/// (recordings deleted by hand are skipped).
pub fn older_than(list: &Path, retention_days: u32, now_ms: i64) -> Vec<OldRecording> {
    let cutoff = now_ms - i64::from(retention_days) * 86_400_000;
    let text = std::fs::read_to_string(list).unwrap_or_default();
    let mut old: Vec<OldRecording> = text
        .lines()
        .map(PathBuf::from)
        .filter_map(|path| {
            let bytes = std::fs::metadata(&path).ok()?.len();
            let created_ms = created_ms(&path)?;
            (created_ms < cutoff).then_some(OldRecording {
                path,
                created_ms,
                bytes,
            })
        })
        .collect();
    old.sort_by_key(|r| r.created_ms);
    old
}

/// Deletes recordings and their notes (the operator said so) and takes them off the list.
pub fn delete(list: &Path, recordings: &[PathBuf]) -> std::io::Result<()> {
    for path in recordings {
        match std::fs::remove_file(path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        let _ = std::fs::remove_file(note_path(path));
    }
    let text = std::fs::read_to_string(list).unwrap_or_default();
    let kept: String = text
        .lines()
        .filter(|l| !recordings.iter().any(|r| Path::new(l) == r))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(list, kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recordings_past_the_retention_are_found_and_deleted_only_when_asked() {
        let dir = tempfile::tempdir().expect("temp dir");
        let list = dir.path().join("data/recordings.txt");
        let day = 86_400_000;
        let now = 100 * day;
        let old = dir.path().join("old.jsonl");
        let new = dir.path().join("new.jsonl");
        for (path, created) in [(&old, now - 31 * day), (&new, now - 29 * day)] {
            std::fs::write(path, "{}\n").expect("dump");
            note_recording(
                path,
                true,
                &["customers_locations".into()],
                Some(&list),
                created,
            )
            .expect("note");
        }
        note_recording(&old, true, &[], Some(&list), now - 31 * day).expect("listed once");
        assert_eq!(
            std::fs::read_to_string(&list)
                .expect("list")
                .lines()
                .count(),
            2
        );
        let found = older_than(&list, 30, now);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].path, std::path::absolute(&old).expect("absolute"));
        assert!(old.exists(), "finding deletes nothing");
        assert_eq!(older_than(&list, 28, now).len(), 2);
        delete(&list, &[found[0].path.clone()]).expect("delete");
        assert!(!old.exists() && !note_path(&old).exists());
        assert!(new.exists());
        assert!(older_than(&list, 28, now)
            .iter()
            .all(|r| r.path != found[0].path));
        let note: RecordingNote =
            serde_json::from_str(&std::fs::read_to_string(note_path(&new)).expect("note"))
                .expect("json");
        assert_eq!(note.uids, "pseudonymized");
        assert_eq!(note.created_ms, now - 29 * day);
    }
}
