//! A loaded dump's records, compactly: one 16-byte entry per record, in timestamp order.
//!
//! Pings are nearly all of a dump, and a day of them parsed takes gigabytes (about 290 bytes a
//! record). So a ping from a kcat file is only noted by its file and byte offset, and read
//! again from there when the replay feeds it: from the file itself when it is plain, from its
//! lines unpacked into a temporary file when it is gzip or standard input (see
//! [`super::unpacked`]). Every other record stays parsed in memory: the reference data the map
//! draws as soon as the dump is in (products, promotions), and the formats converted line by
//! line.

use std::fs::File;
use std::io::{BufRead as _, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::engine::Topic;
use crate::io::bus::BusRecord;
use crate::io::dump::{into_owned, parse_record};

/// An entry's time when its record has none (such records sort first, as the merge keeps them).
const NO_TIME: i64 = i64::MIN;
/// Marks an entry whose record is kept parsed; the low bits are its index.
const KEPT: u64 = 1 << 63;
const FILE_SHIFT: u32 = 48;
/// Files pings can be read again from (15 bits of an entry).
const MAX_FILES: usize = 1 << 15;
/// Byte offsets an entry can hold (48 bits: 256 TiB).
const MAX_OFFSET: u64 = 1 << FILE_SHIFT;
const READ_BUFFER_BYTES: usize = 64 * 1024;

/// One record: its time, and where it is.
#[derive(Clone, Copy, Debug)]
struct Entry {
    timestamp_ms: i64,
    place: u64,
}

enum Place {
    Kept(usize),
    Line { file: usize, offset: u64 },
}

impl Entry {
    fn place(self) -> Place {
        if self.place & KEPT != 0 {
            Place::Kept((self.place & !KEPT) as usize)
        } else {
            Place::Line {
                file: (self.place >> FILE_SHIFT) as usize,
                offset: self.place & (MAX_OFFSET - 1),
            }
        }
    }

    fn timestamp_ms(self) -> Option<i64> {
        (self.timestamp_ms != NO_TIME).then_some(self.timestamp_ms)
    }
}

/// Why a ping could not be read again from its file.
#[derive(Debug, thiserror::Error)]
pub enum RereadError {
    #[error("cannot read {path} again: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{path} changed since it was loaded: the line at byte {offset} is no longer the ping \
         loaded from there. Open the dump again to replay what it holds now"
    )]
    Changed { path: PathBuf, offset: u64 },
}

impl RereadError {
    /// What it says in a line, naming the file only (the console's top bar; the whole text is
    /// its tooltip).
    pub fn headline(&self) -> String {
        let (RereadError::Io { path, .. } | RereadError::Changed { path, .. }) = self;
        let name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        match self {
            RereadError::Io { .. } => format!("cannot read {name} again"),
            RereadError::Changed { .. } => format!("{name} changed since it was loaded"),
        }
    }
}

/// A file pings are read again from (see [`ReplayRecords::add_file`]).
#[derive(Clone, Copy, Debug)]
pub struct FileId(usize);

/// Where a file's pings are read again from.
#[derive(Debug)]
enum ReplayFile {
    /// The dump file itself, opened again by its path.
    Plain(PathBuf),
    /// A temporary file holding the pings' lines of `dump` (gzip or standard input), already
    /// open: it has no name to open it by.
    Unpacked { dump: PathBuf, lines: Arc<File> },
}

impl ReplayFile {
    /// The dump the operator opened, for messages.
    fn dump_path(&self) -> &Path {
        match self {
            ReplayFile::Plain(path) | ReplayFile::Unpacked { dump: path, .. } => path,
        }
    }
}

/// See [`ReplayRecords::mark`].
#[derive(Clone, Copy, Debug)]
pub struct RecordsMark {
    entries: usize,
    kept: usize,
    files: usize,
}

/// Every record of a loaded dump, in the order the replay feeds them.
#[derive(Debug, Default)]
pub struct ReplayRecords {
    entries: Vec<Entry>,
    kept: Vec<BusRecord>,
    files: Vec<ReplayFile>,
}

impl ReplayRecords {
    /// Records held parsed, in the order given.
    #[cfg(test)]
    pub fn from_kept(records: Vec<BusRecord>) -> ReplayRecords {
        let mut all = ReplayRecords::default();
        for record in records {
            all.push_kept(record);
        }
        all
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// A plain file whose pings will be read again from it; `None` past the number of files
    /// an entry can name (their pings are then kept parsed).
    pub fn add_file(&mut self, path: &Path) -> Option<FileId> {
        self.add(ReplayFile::Plain(path.to_owned()))
    }

    /// A temporary file the pings of `dump` are copied into as it loads (offsets are then
    /// the temporary file's); `None` as for [`ReplayRecords::add_file`].
    pub fn add_unpacked(&mut self, dump: &Path, lines: Arc<File>) -> Option<FileId> {
        self.add(ReplayFile::Unpacked {
            dump: dump.to_owned(),
            lines,
        })
    }

    fn add(&mut self, file: ReplayFile) -> Option<FileId> {
        (self.files.len() < MAX_FILES).then(|| {
            self.files.push(file);
            FileId(self.files.len() - 1)
        })
    }

    /// What is held so far: a mark to go back to.
    pub fn mark(&self) -> RecordsMark {
        RecordsMark {
            entries: self.entries.len(),
            kept: self.kept.len(),
            files: self.files.len(),
        }
    }

    /// Forgets every record and file noted since `mark` (a file loaded again another way).
    pub fn back_to(&mut self, mark: RecordsMark) {
        self.entries.truncate(mark.entries);
        self.kept.truncate(mark.kept);
        self.files.truncate(mark.files);
    }

    /// A ping that starts at byte `offset` of `file`. Returns false, noting nothing, when the
    /// offset is past what an entry holds: the caller keeps the record instead.
    pub fn push_line(&mut self, file: FileId, offset: u64, timestamp_ms: Option<i64>) -> bool {
        if offset >= MAX_OFFSET {
            return false;
        }
        self.entries.push(Entry {
            timestamp_ms: timestamp_ms.unwrap_or(NO_TIME),
            place: (file.0 as u64) << FILE_SHIFT | offset,
        });
        true
    }

    pub fn push_kept(&mut self, record: BusRecord) {
        self.entries.push(Entry {
            timestamp_ms: record.timestamp_ms.unwrap_or(NO_TIME),
            place: KEPT | self.kept.len() as u64,
        });
        self.kept.push(record);
    }

    /// Puts the records in timestamp order (among equal times the order they came in stays)
    /// once every file is in, and lets go of the room loading left over.
    pub fn put_in_time_order(&mut self) {
        self.entries.sort_by_key(|e| e.timestamp_ms);
        self.entries.shrink_to_fit();
        self.kept.shrink_to_fit();
    }

    /// The timestamp of record `index`.
    pub fn timestamp_ms(&self, index: usize) -> Option<i64> {
        self.entries.get(index).and_then(|e| e.timestamp_ms())
    }

    pub fn first_ms(&self) -> Option<i64> {
        self.entries.iter().find_map(|e| e.timestamp_ms())
    }

    pub fn last_ms(&self) -> Option<i64> {
        self.entries.iter().rev().find_map(|e| e.timestamp_ms())
    }

    /// How many records come before `t_ms` (records without a timestamp come first).
    pub fn count_before(&self, t_ms: i64) -> usize {
        self.entries.partition_point(|e| e.timestamp_ms < t_ms)
    }

    /// Whether record `index` is on `topic` (the name as in the dump).
    pub fn is_on(&self, index: usize, topic: &str) -> bool {
        match self.entries.get(index).map(|e| e.place()) {
            Some(Place::Kept(k)) => self.kept.get(k).is_some_and(|r| r.topic == topic),
            Some(Place::Line { .. }) => topic == Topic::CustomersLocations.name(),
            None => false,
        }
    }

    /// The timestamps of the records on `topic`, in order.
    pub fn times_on<'a>(&'a self, topic: &'a str) -> impl Iterator<Item = Option<i64>> + 'a {
        (0..self.len())
            .filter(move |&i| self.is_on(i, topic))
            .map(|i| self.timestamp_ms(i))
    }

    /// The records held parsed: every record that is not a ping from a plain kcat file, so
    /// every product and promotion.
    pub fn kept(&self) -> &[BusRecord] {
        &self.kept
    }
}

/// Reads a dump's records in the replay's order, keeping each file open between reads (a
/// file's pings are mostly in its order, so reads are mostly sequential).
#[derive(Debug, Default)]
pub struct Rereader {
    open: Vec<Option<OpenFile>>,
    line: Vec<u8>,
}

#[derive(Debug)]
struct OpenFile {
    input: BufReader<FileAt>,
    /// The file offset the input reads next.
    position: u64,
}

/// A file read at positions of its own: an unpacked file's one open handle is shared by every
/// replay of the dump (a restart or a seek starts another while the last one winds down), so
/// none may move the handle's offset under another.
#[derive(Debug)]
struct FileAt {
    file: Arc<File>,
    position: u64,
}

impl Read for FileAt {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        #[cfg(unix)]
        let read = std::os::unix::fs::FileExt::read_at(&*self.file, buf, self.position)?;
        #[cfg(windows)]
        let read = std::os::windows::fs::FileExt::seek_read(&*self.file, buf, self.position)?;
        self.position += read as u64;
        Ok(read)
    }
}

impl Seek for FileAt {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        let invalid = || std::io::Error::from(std::io::ErrorKind::InvalidInput);
        self.position = match to {
            SeekFrom::Start(at) => at,
            SeekFrom::Current(by) => self.position.checked_add_signed(by).ok_or_else(invalid)?,
            SeekFrom::End(by) => self
                .file
                .metadata()?
                .len()
                .checked_add_signed(by)
                .ok_or_else(invalid)?,
        };
        Ok(self.position)
    }
}

impl Rereader {
    /// Record `index` of `records`; `Ok(None)` past the last.
    pub fn read(
        &mut self,
        records: &ReplayRecords,
        index: usize,
    ) -> Result<Option<BusRecord>, RereadError> {
        let Some(&entry) = records.entries.get(index) else {
            return Ok(None);
        };
        match entry.place() {
            Place::Kept(k) => Ok(records.kept.get(k).cloned()),
            Place::Line { file, offset } => self
                .read_ping(&records.files[file], file, offset, entry.timestamp_ms)
                .map(Some),
        }
    }

    fn read_ping(
        &mut self,
        from: &ReplayFile,
        file: usize,
        offset: u64,
        timestamp_ms: i64,
    ) -> Result<BusRecord, RereadError> {
        let path = from.dump_path();
        let io_error = |source| RereadError::Io {
            path: path.to_owned(),
            source,
        };
        if self.open.len() <= file {
            self.open.resize_with(file + 1, || None);
        }
        let open = match &mut self.open[file] {
            Some(open) => open,
            slot => {
                let file = match from {
                    ReplayFile::Plain(path) => Arc::new(File::open(path).map_err(io_error)?),
                    ReplayFile::Unpacked { lines, .. } => Arc::clone(lines),
                };
                slot.insert(OpenFile {
                    input: BufReader::with_capacity(
                        READ_BUFFER_BYTES,
                        FileAt { file, position: 0 },
                    ),
                    position: 0,
                })
            }
        };
        if open.position != offset {
            // Within the buffer this moves in it; beyond, it seeks.
            let delta = offset as i64 - open.position as i64;
            open.input.seek_relative(delta).map_err(io_error)?;
            open.position = offset;
        }
        self.line.clear();
        let read = open
            .input
            .read_until(b'\n', &mut self.line)
            .map_err(io_error)?;
        open.position += read as u64;
        let changed = || RereadError::Changed {
            path: path.to_owned(),
            offset,
        };
        let text = simdutf8::basic::from_utf8(&self.line).map_err(|_| changed())?;
        let record = parse_record(text.trim_end_matches(['\n', '\r'])).ok_or_else(changed)?;
        if record.topic != Topic::CustomersLocations.name()
            || record.timestamp_ms.unwrap_or(NO_TIME) != timestamp_ms
        {
            return Err(changed());
        }
        Ok(into_owned(record))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_is_sixteen_bytes_and_holds_every_place_it_takes() {
        assert_eq!(std::mem::size_of::<Entry>(), 16);
        let mut records = ReplayRecords::default();
        let files: Vec<FileId> = (0..MAX_FILES)
            .map(|i| records.add_file(Path::new(&format!("{i}.jsonl"))).unwrap())
            .collect();
        assert!(records.add_file(Path::new("one too many.jsonl")).is_none());
        let last = *files.last().unwrap();
        assert!(records.push_line(last, MAX_OFFSET - 1, Some(7)));
        assert!(!records.push_line(last, MAX_OFFSET, Some(8)));
        records.push_kept(BusRecord {
            topic: "stores_products".into(),
            ..BusRecord::default()
        });
        assert!(records.push_line(files[0], 0, None));
        assert_eq!(records.len(), 3);
        match records.entries[0].place() {
            Place::Line { file, offset } => {
                assert_eq!((file, offset), (MAX_FILES - 1, MAX_OFFSET - 1))
            }
            Place::Kept(_) => panic!("a ping's line is not kept"),
        }
        assert!(matches!(records.entries[1].place(), Place::Kept(0)));
        assert!(matches!(
            records.entries[2].place(),
            Place::Line { file: 0, offset: 0 }
        ));
        // Records without a time sort first, in the order they came, as the merge of parsed
        // records did.
        records.put_in_time_order();
        assert_eq!(
            (0..3).map(|i| records.timestamp_ms(i)).collect::<Vec<_>>(),
            [None, None, Some(7)]
        );
        assert_eq!(records.first_ms(), Some(7));
        assert_eq!(records.count_before(7), 2);
        assert!(records.is_on(0, "stores_products"));
        assert!(records.is_on(1, "customers_locations"));
        assert!(!records.is_on(2, "stores_products"));
        assert_eq!(records.times_on("customers_locations").count(), 2);
    }
}
