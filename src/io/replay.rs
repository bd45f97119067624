//! Recorded dumps for replay: loaded once (several files merge by timestamp; a kcat file's
//! pings are read again as they are fed, see [`ReplayRecords`]), then fed through the
//! same paced feed as the simulator, from the start or fast-forwarded to a point on the
//! timeline.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use crate::io::bus::BusRecord;
use std::io::{BufRead, Read as _};

use crate::engine::Topic;
use crate::io::dump::{
    into_owned, open_dump_text, parse_record, DumpError, DumpLine, DumpReader, OpenedText,
};
use crate::io::formats::{detect, ui_export_record, values_record, LineFormat, ValuesOptions};
use crate::io::replay_records::{FileId, ReplayRecords, RereadError, Rereader};
use crate::io::sim_feed::FeedSource;
use crate::io::unpacked::UnpackedLines;

/// Broken lines kept for the operator (all are counted).
const BROKEN_SAMPLES: usize = 1_000;

/// A line that was not a record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BrokenLine {
    pub file: String,
    pub line_number: u64,
    pub text: String,
}

/// Loaded dumps, in timestamp order.
#[derive(Debug, Default)]
pub struct LoadedDump {
    pub files: Vec<PathBuf>,
    pub records: ReplayRecords,
    pub broken_count: u64,
    pub broken: Vec<BrokenLine>,
}

impl LoadedDump {
    pub fn first_ms(&self) -> Option<i64> {
        self.records.first_ms()
    }

    pub fn last_ms(&self) -> Option<i64> {
        self.records.last_ms()
    }

    /// Records per minute of `topic` (for the timeline's histogram), from the first minute.
    pub fn per_minute(&self, topic: &str) -> Vec<u32> {
        let Some(first) = self.first_ms() else {
            return Vec::new();
        };
        let start = first - first.rem_euclid(60_000);
        let mut counts: Vec<u32> = Vec::new();
        for ts in self.records.times_on(topic) {
            let Some(ts) = ts else { continue };
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
    #[error("cannot copy the pings of {path} out for its replay ({source}); what standard input or a pipe gave cannot be read again: free space in the cache folder, or save the dump to a file first")]
    CopyOut {
        path: String,
        source: std::io::Error,
    },
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
    load_dumps_unpacking(paths, options, progress, UnpackedLines::create)
}

/// [`load_dumps_with`], copying a gzip dump's pings out with `unpack`.
fn load_dumps_unpacking(
    paths: &[PathBuf],
    options: &ValuesOptions,
    progress: &LoadProgress,
    unpack: Unpack,
) -> Result<LoadedDump, LoadError> {
    let mut dump = LoadedDump {
        files: paths.to_vec(),
        ..LoadedDump::default()
    };
    for path in paths {
        load_file(
            path,
            open_dump_text(path)?,
            options,
            &mut dump,
            progress,
            unpack,
        )?;
    }
    progress
        .records
        .store(dump.records.len() as u64, Ordering::Relaxed);
    dump.records.put_in_time_order();
    Ok(dump)
}

/// Loads one file, opened once: a standard input or a pipe can be read only once, so the
/// text read to tell its format is put back in front of the rest.
fn load_file(
    path: &std::path::Path,
    text: OpenedText,
    options: &ValuesOptions,
    dump: &mut LoadedDump,
    progress: &LoadProgress,
    unpack: Unpack,
) -> Result<(), LoadError> {
    let before = dump.records.len();
    let not_a_dump = |why: String| LoadError::NotADump {
        path: path.display().to_string(),
        why,
    };
    let (first, input) = first_line(path, text.input)?;
    let Some(first) = first else {
        return Ok(());
    };
    let text = OpenedText { input, ..text };
    let format = if looks_like_kcat(&first) {
        LineFormat::Kcat
    } else {
        detect(&first, options).map_err(not_a_dump)?
    };
    match format {
        LineFormat::Kcat => read_kcat(path, text, dump, progress, unpack)?,
        other => read_other(path, text.input, &other, options, dump, progress)?,
    }
    if dump.records.len() == before {
        return Err(not_a_dump("no line in it is a record".into()));
    }
    Ok(())
}

/// The first line of a text that is not blank, to tell its format by, and the text whole
/// again: what was read is put back before the rest.
fn first_line(
    path: &std::path::Path,
    mut input: Box<dyn BufRead + Send>,
) -> Result<(Option<String>, Box<dyn BufRead + Send>), LoadError> {
    let mut read = String::new();
    let first = loop {
        let start = read.len();
        let n = input
            .read_line(&mut read)
            .map_err(|source| DumpError::Read {
                path: path.to_owned(),
                source,
            })?;
        if n == 0 {
            break None;
        }
        let line = read[start..].trim();
        if !line.is_empty() {
            break Some(line.to_owned());
        }
    };
    let whole = Box::new(std::io::Cursor::new(read.into_bytes()).chain(input));
    Ok((first, whole))
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

/// What stops reading a kcat dump.
enum KcatError {
    Load(LoadError),
    /// Its pings could not be copied out (see [`UnpackedLines`]).
    Unpack(std::io::Error),
}

impl<E: Into<LoadError>> From<E> for KcatError {
    fn from(e: E) -> Self {
        KcatError::Load(e.into())
    }
}

/// Reads a kcat dump: its pings are read again when fed, from the file if it is plain, else
/// from their lines copied into a temporary file. Where that file cannot be written (no room
/// in the cache folder), the file is read again keeping its pings in memory.
fn read_kcat(
    path: &std::path::Path,
    text: OpenedText,
    dump: &mut LoadedDump,
    progress: &LoadProgress,
    unpack: Unpack,
) -> Result<(), LoadError> {
    let reopenable = text.reopenable;
    let mark = (dump.records.mark(), dump.broken_count, dump.broken.len());
    let reader = DumpReader::from_opened(path, text);
    match read_kcat_noting(reader, dump, progress, Some(unpack)) {
        Ok(()) => Ok(()),
        Err(KcatError::Load(e)) => Err(e),
        // A regular file is read again from its start, its pings held parsed.
        Err(KcatError::Unpack(e)) if reopenable => {
            tracing::warn!(
                "cannot copy the pings of {} out for its replay ({e}): holding them in memory",
                path.display()
            );
            let (records, broken_count, broken) = mark;
            dump.records.back_to(records);
            dump.broken_count = broken_count;
            dump.broken.truncate(broken);
            kept_parsed(
                path,
                read_kcat_noting(DumpReader::open(path)?, dump, progress, None),
            )
        }
        // What standard input or a pipe gave is gone: say why the load stopped.
        Err(KcatError::Unpack(source)) => Err(LoadError::CopyOut {
            path: path.display().to_string(),
            source,
        }),
    }
}

/// The outcome of a read that copies nothing out (an error in copying out would be a read
/// error).
fn kept_parsed(path: &std::path::Path, read: Result<(), KcatError>) -> Result<(), LoadError> {
    read.map_err(|e| match e {
        KcatError::Load(e) => e,
        KcatError::Unpack(source) => DumpError::Read {
            path: path.to_owned(),
            source,
        }
        .into(),
    })
}

/// Where a file's pings are noted.
enum Reread {
    /// At their offsets in the file, after `text_start` bytes.
    Plain {
        file: FileId,
        text_start: u64,
    },
    Unpacked {
        file: FileId,
        lines: UnpackedLines,
    },
    /// Nowhere: kept parsed.
    Kept,
}

/// Makes the file a gzip dump's pings are copied into.
type Unpack = fn() -> std::io::Result<UnpackedLines>;

fn read_kcat_noting(
    mut reader: DumpReader,
    dump: &mut LoadedDump,
    progress: &LoadProgress,
    unpack: Option<Unpack>,
) -> Result<(), KcatError> {
    let path = reader.path().to_owned();
    let mut reread = match (reader.text_start(), unpack) {
        (Some(text_start), _) => dump
            .records
            .add_file(&path)
            .map_or(Reread::Kept, |file| Reread::Plain { file, text_start }),
        (None, Some(create)) => {
            let lines = create().map_err(KcatError::Unpack)?;
            dump.records
                .add_unpacked(&path, lines.lines())
                .map_or(Reread::Kept, |file| Reread::Unpacked { file, lines })
        }
        (None, None) => Reread::Kept,
    };
    let mut lines = 0u64;
    let mut offset = 0;
    while let Some(line) = reader.next_line_at(&mut offset)? {
        lines += 1;
        match line {
            DumpLine::Record(r) if r.topic == Topic::CustomersLocations.name() => match &mut reread
            {
                Reread::Plain { file, text_start } => {
                    if !dump
                        .records
                        .push_line(*file, *text_start + offset, r.timestamp_ms)
                    {
                        dump.records.push_kept(into_owned(r));
                    }
                }
                Reread::Unpacked { file, lines } => {
                    let timestamp_ms = r.timestamp_ms;
                    let line = reader.last_line()?;
                    let at = lines.append(line).map_err(KcatError::Unpack)?;
                    if !dump.records.push_line(*file, at, timestamp_ms) {
                        // Past what an entry holds (256 TiB): kept after all.
                        if let Some(r) = std::str::from_utf8(line).ok().and_then(parse_record) {
                            dump.records.push_kept(into_owned(r));
                        }
                    }
                }
                Reread::Kept => dump.records.push_kept(into_owned(r)),
            },
            DumpLine::Record(r) => dump.records.push_kept(into_owned(r)),
            DumpLine::Broken { line_number, text } => broken(dump, &path, line_number, &text),
        }
        if lines % 4_096 == 0 {
            check_progress(dump, progress)?;
        }
    }
    if let Reread::Unpacked { lines, .. } = reread {
        lines.finish().map_err(KcatError::Unpack)?;
    }
    Ok(())
}

fn read_other(
    path: &std::path::Path,
    input: Box<dyn BufRead + Send>,
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
                Some(r) => dump.records.push_kept(r),
                None => broken(dump, path, i as u64 + 1, text),
            },
            LineFormat::Values { topic, ts_field } => {
                dump.records
                    .push_kept(values_record(text, index, topic, ts_field.as_deref()));
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
    rereader: Rereader,
    /// Why the replay ended early, for the console to show.
    failure: Arc<OnceLock<RereadError>>,
}

impl ReplaySource {
    /// From record `from_record` (0: the start, or where a checkpoint resumes); records before
    /// `fast_until_ms` are fed at once (seeking).
    pub fn new(dump: Arc<LoadedDump>, from_record: usize, fast_until_ms: Option<i64>) -> Self {
        Self {
            dump,
            pos: from_record,
            fast_until_ms,
            rereader: Rereader::default(),
            failure: Arc::default(),
        }
    }

    /// Set when a ping could not be read again from its file: the replay ends there.
    pub fn failure(&self) -> Arc<OnceLock<RereadError>> {
        Arc::clone(&self.failure)
    }
}

impl FeedSource for ReplaySource {
    fn next_time_ms(&self) -> Option<i64> {
        if self.failure.get().is_some() || self.pos >= self.dump.records.len() {
            return None;
        }
        Some(self.dump.records.timestamp_ms(self.pos).unwrap_or(i64::MIN))
    }

    fn next_record(&mut self) -> Option<BusRecord> {
        match self.rereader.read(&self.dump.records, self.pos) {
            Ok(record) => {
                self.pos += 1;
                record
            }
            Err(e) => {
                let _ = self.failure.set(e);
                None
            }
        }
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
        let ts: Vec<_> = (0..dump.records.len())
            .map(|i| dump.records.timestamp_ms(i).unwrap())
            .collect();
        assert_eq!(ts, [10, 20, 30]);
        assert_eq!(dump.broken_count, 1);
        assert_eq!(dump.broken[0].line_number, 3);
        assert_eq!((dump.first_ms(), dump.last_ms()), (Some(10), Some(30)));
    }

    fn kcat(topic: &str, offset: i64, ts: Option<i64>, payload: &str) -> String {
        let ts = ts.map_or(String::new(), |ts| format!(r#""ts":{ts},"#));
        let payload = serde_json::to_string(payload).unwrap();
        format!(
            r#"{{"topic":"{topic}","partition":0,"offset":{offset},{ts}"key":"u{offset}","payload":{payload}}}"#
        )
    }

    /// Every record a replay feeds, in order, read through the source the console uses, and
    /// why it stopped early (the whole text, then the top bar's line).
    fn fed(dump: LoadedDump) -> (Vec<BusRecord>, Option<(String, String)>) {
        let mut source = ReplaySource::new(Arc::new(dump), 0, None);
        let mut out = Vec::new();
        while source.next_time_ms().is_some() {
            match source.next_record() {
                Some(r) => out.push(r),
                None => break,
            }
        }
        let failure = source.failure();
        (out, failure.get().map(|e| (e.to_string(), e.headline())))
    }

    /// What holding every record parsed gives: the file's records, stably sorted by time.
    fn parsed_in_time_order(paths: &[PathBuf]) -> Vec<BusRecord> {
        let mut all: Vec<BusRecord> = paths
            .iter()
            .flat_map(|p| crate::io::dump::read_all(p).unwrap())
            .collect();
        all.sort_by_key(|r| r.timestamp_ms.unwrap_or(i64::MIN));
        all
    }

    /// A dump with what real files hold: Windows line ends, a byte order mark, blank lines, a
    /// ping longer than the reader's buffer, pings out of time order, one without a time, a
    /// broken line.
    fn odd_dump_text() -> String {
        let long = format!(r#"{{"uid": "{}"}}"#, "x".repeat(300_000));
        let mut text = String::from("\u{feff}");
        for (i, line) in [
            kcat("stores_products", 0, Some(5), r#"{"sku": 1}"#),
            kcat("customers_locations", 1, Some(30), r#"{"uid": "a"}"#),
            String::new(),
            kcat("customers_locations", 2, Some(10), &long),
            "not a record".into(),
            kcat("customers_locations", 3, None, r#"{"uid": "b"}"#),
            kcat("customers_locations", 4, Some(10), r#"{"uid": "c"}"#),
            "   ".into(),
            kcat("products_promotions", 5, Some(20), r#"{"pid": 1}"#),
        ]
        .iter()
        .enumerate()
        {
            text.push_str(line);
            text.push_str(if i % 2 == 0 { "\r\n" } else { "\n" });
        }
        text
    }

    /// `text` gzip-compressed into `path`.
    fn write_gzip(path: &std::path::Path, text: &[u8]) {
        use std::io::Write as _;
        let mut out = flate2::write::GzEncoder::new(
            std::fs::File::create(path).unwrap(),
            flate2::Compression::fast(),
        );
        out.write_all(text).unwrap();
        out.finish().unwrap();
    }

    /// `odd_dump_text` in a plain file and, gzip, in another, beside a second plain file.
    fn odd_dumps(dir: &std::path::Path) -> [PathBuf; 3] {
        let a = dir.join("a.jsonl");
        std::fs::write(&a, odd_dump_text()).unwrap();
        let gz = dir.join("a.jsonl.gz");
        write_gzip(&gz, odd_dump_text().as_bytes());
        let b = write(
            dir,
            "b.jsonl",
            &[
                &kcat("customers_locations", 0, Some(10), r#"{"uid": "d"}"#),
                &kcat("customers_locations", 1, Some(25), r#"{"uid": "e"}"#),
            ],
        );
        [a, gz, b]
    }

    #[test]
    fn pings_are_read_again_from_their_files_and_feed_as_if_held() {
        let dir = tempfile::tempdir().unwrap();
        let paths = odd_dumps(dir.path());
        let dump = load_dumps(&paths, &LoadProgress::default()).unwrap();
        assert_eq!(dump.broken_count, 2);
        assert_eq!(dump.records.len(), 14);
        // Only the products and the promotions are held parsed, the gzip file's too.
        let kept: Vec<&str> = dump.records.kept().iter().map(|r| &*r.topic).collect();
        assert_eq!(
            kept,
            [
                "stores_products",
                "products_promotions",
                "stores_products",
                "products_promotions"
            ]
        );
        assert_eq!(dump.per_minute("customers_locations"), [8]);
        let (records, failure) = fed(dump);
        assert_eq!(failure, None);
        assert_eq!(records, parsed_in_time_order(&paths));
    }

    #[test]
    fn a_gzip_dump_with_no_room_to_unpack_is_held_parsed_and_feeds_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let paths = odd_dumps(dir.path());
        // Writes fail as on a full disk: at the 300 KB ping, or at the end for a small dump.
        let full = || UnpackedLines::writing_to(std::fs::File::create("/dev/full")?);
        // The gzip file alone, then with the others: its six records and the others' two
        // products and promotions are held parsed; its broken line is counted once.
        for (files, broken, kept) in [(&paths[1..2], 1, 6), (&paths[..], 2, 8)] {
            let options = ValuesOptions::default();
            let dump =
                load_dumps_unpacking(files, &options, &LoadProgress::default(), full).unwrap();
            assert_eq!(dump.broken_count, broken);
            assert_eq!(dump.records.kept().len(), kept);
            let (records, failure) = fed(dump);
            assert_eq!(failure, None);
            assert_eq!(records, parsed_in_time_order(files));
        }
        let small = write(
            dir.path(),
            "small.jsonl",
            &[&kcat("customers_locations", 0, Some(10), r#"{"uid": "d"}"#)],
        );
        let small_gz = dir.path().join("small.jsonl.gz");
        write_gzip(&small_gz, &std::fs::read(&small).unwrap());
        let dump = load_dumps_unpacking(
            std::slice::from_ref(&small_gz),
            &ValuesOptions::default(),
            &LoadProgress::default(),
            full,
        )
        .unwrap();
        assert_eq!(dump.records.kept().len(), 1);
    }

    /// Loads `bytes` as standard input would give them, unpacking with `unpack`.
    fn load_as_stdin(bytes: Vec<u8>, unpack: Unpack) -> Result<LoadedDump, LoadError> {
        let stdin = std::path::Path::new("-");
        let input = crate::io::dump::open_reader(stdin, Box::new(std::io::Cursor::new(bytes)))?;
        let text = OpenedText {
            input,
            text_start: None,
            reopenable: false,
            cut_short: None,
        };
        let mut dump = LoadedDump::default();
        let (options, progress) = (ValuesOptions::default(), LoadProgress::default());
        load_file(stdin, text, &options, &mut dump, &progress, unpack)?;
        dump.records.put_in_time_order();
        Ok(dump)
    }

    #[test]
    fn standard_input_is_read_once_and_loses_no_line_to_telling_its_format() {
        let dir = tempfile::tempdir().unwrap();
        let paths = odd_dumps(dir.path());
        // The plain text and the gzip one, each as standard input would give it.
        for file in &paths[..2] {
            let bytes = std::fs::read(file).unwrap();
            let dump = load_as_stdin(bytes.clone(), UnpackedLines::create).unwrap();
            assert_eq!(dump.broken_count, 1);
            // Its pings are copied out as it is read, like a gzip file's.
            assert_eq!(dump.records.kept().len(), 2);
            let (records, failure) = fed(dump);
            assert_eq!(failure, None);
            assert_eq!(records, parsed_in_time_order(std::slice::from_ref(file)));
            // With no room to copy them out, it cannot be read again: the load says so.
            let full = || UnpackedLines::writing_to(std::fs::File::create("/dev/full")?);
            let refused = load_as_stdin(bytes, full).err().map(|e| e.to_string());
            assert!(
                refused
                    .as_deref()
                    .is_some_and(|e| e.starts_with("cannot copy the pings of - out")),
                "{refused:?}"
            );
        }
    }

    /// A named pipe, as a shell's `<(zcat dump.jsonl.gz)` gives: opened once, read once.
    #[test]
    fn a_pipe_is_read_once_and_loses_no_line_to_telling_its_format() {
        let dir = tempfile::tempdir().unwrap();
        let paths = odd_dumps(dir.path());
        for file in &paths[..2] {
            let fifo = dir.path().join("pipe");
            let made = std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap();
            assert!(made.success());
            let bytes = std::fs::read(file).unwrap();
            let writer = {
                let fifo = fifo.clone();
                std::thread::spawn(move || std::fs::write(fifo, bytes))
            };
            let dump = load_dumps(std::slice::from_ref(&fifo), &LoadProgress::default()).unwrap();
            writer.join().unwrap().unwrap();
            assert_eq!(dump.broken_count, 1);
            assert_eq!(dump.records.len(), 6);
            let (records, failure) = fed(dump);
            assert_eq!(failure, None);
            assert_eq!(records, parsed_in_time_order(std::slice::from_ref(file)));
            std::fs::remove_file(&fifo).unwrap();
        }
    }

    #[test]
    fn a_dump_changed_after_loading_stops_the_replay_and_says_why() {
        let dir = tempfile::tempdir().unwrap();
        let lines: Vec<String> = (0..4)
            .map(|i| kcat("customers_locations", i, Some(i * 10), r#"{"uid": "a"}"#))
            .collect();
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        let path = write(dir.path(), "d.jsonl", &refs);
        let dump = load_dumps(std::slice::from_ref(&path), &LoadProgress::default()).unwrap();
        // Rewritten with another time on its third line (the same length, so every offset
        // still starts a line).
        let changed = lines.join("\n").replace(r#""ts":20,"#, r#""ts":21,"#);
        std::fs::write(&path, changed).unwrap();
        let (records, failure) = fed(dump);
        assert_eq!(records.len(), 2);
        let (failure, headline) = failure.expect("the replay says why it stopped");
        assert!(failure.contains("changed since it was loaded"), "{failure}");
        assert!(failure.contains("at byte"), "{failure}");
        assert_eq!(headline, "d.jsonl changed since it was loaded");

        // Gone altogether: said too, from the first ping.
        let dump = load_dumps(std::slice::from_ref(&path), &LoadProgress::default()).unwrap();
        std::fs::remove_file(&path).unwrap();
        let (records, failure) = fed(dump);
        assert!(records.is_empty());
        let (failure, headline) = failure.expect("the replay says why it stopped");
        assert!(failure.contains("cannot read"), "{failure}");
        assert_eq!(headline, "cannot read d.jsonl again");
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
            .kept()
            .iter()
            .any(|r| r.topic == "stores_products" && r.offset == 1));
        // The export alone, with no topic given: its file name says it.
        let dump = load_dumps(&[export], &LoadProgress::default()).unwrap();
        assert_eq!(dump.records.kept()[0].topic, "customers_locations");
        // Plain values without a topic: explained.
        let err = load_dumps(&[values], &LoadProgress::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("--topic"), "{err}");
    }
}
