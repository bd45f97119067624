//! Topic dumps in the JSON-lines format `kcat -C -J` writes:
//!
//! `{"topic":…,"partition":0,"offset":42,"tstype":"create","ts":1700000000000,"broker":1,
//! "headers":["k","v"],"key":"u1","payload":"{…}"}`
//!
//! The reader streams (constant memory, gzip detected by its magic bytes), borrows each record
//! from its line buffer, and turns a line that is not a record into [`DumpLine::Broken`]
//! instead of an error: one bad line never ends a replay. The writer produces the same format,
//! so `instore run` output can be replayed or compared with kcat's.

use std::borrow::Cow;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use flate2::Compression;

use crate::engine::json::{for_each_member, write_json_string, JsonCursor, JsonValue};
use crate::engine::json_object::Embedding;
use crate::engine::notification_record::{NotificationRecord, NOTIFICATIONS_TOPIC};
use crate::engine::{Output, Payload, RawRecord, Topic};

/// Why a dump could not be opened or written.
#[derive(Debug, thiserror::Error)]
pub enum DumpError {
    #[error("cannot open dump {path}: {source}")]
    Open { path: PathBuf, source: io::Error },
    #[error("cannot read dump {path}: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error("cannot create {path}: {source}")]
    Create { path: PathBuf, source: io::Error },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: io::Error },
    #[error(
        "dump {path} is UTF-16 text (as Windows PowerShell's `>` writes it); \
         convert it to UTF-8, e.g. `iconv -f UTF-16 -t UTF-8`, or write it with \
         `Out-File -Encoding utf8`"
    )]
    Utf16 { path: PathBuf },
    #[error(
        "{path} can be read only once (standard input or a pipe), and it is read more than \
         once here (its first record's time first, then each run over it): save it to a file \
         first"
    )]
    ReadOnce { path: PathBuf },
}

/// One line of a dump.
#[derive(Debug)]
pub enum DumpLine<'a> {
    Record(RawRecord<'a>),
    /// Not a kcat record (not JSON, no topic, …): count it and go on.
    Broken {
        line_number: u64,
        text: Cow<'a, str>,
    },
}

/// Gzip's first two bytes.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
/// The byte order mark some Windows tools put before UTF-8 text.
const UTF8_BOM: [u8; 3] = [0xef, 0xbb, 0xbf];
/// UTF-16's byte order marks, little- and big-endian.
const UTF16_BOMS: [[u8; 2]; 2] = [[0xff, 0xfe], [0xfe, 0xff]];
const READ_BUFFER_BYTES: usize = 256 * 1024;

/// A streaming reader of one dump file.
pub struct DumpReader {
    path: PathBuf,
    input: Box<dyn BufRead + Send>,
    /// A line that runs past the input's buffer, copied out.
    line: Vec<u8>,
    /// The length of the line last handed out in place, with its newline.
    consume_before_next: usize,
    line_number: u64,
    /// Bytes of the input taken before the line handed out next, and where the line being
    /// read starts: a replay reads a ping again from its file by that offset.
    consumed: u64,
    line_offset: u64,
    text_start: Option<u64>,
    /// A gzip stream's flag, reported once as a broken line at its end when it is set.
    cut_short: Option<Arc<AtomicBool>>,
    cut_reported: bool,
}

/// A source that adds the bytes read from it to a shared counter (a background forecast's
/// progress bar, which compares it with the file's size).
struct Counted<R> {
    inner: R,
    bytes: Arc<AtomicU64>,
}

impl<R: io::Read> io::Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// A dump's text, opened once, and whether it can be read again.
pub struct OpenedText {
    pub input: Box<dyn BufRead + Send>,
    /// Where the text starts in the file when the text's bytes are the file's and the file
    /// can be read again at an offset (0, or past a byte order mark): a regular file, not
    /// gzip. `None` for gzip, standard input, pipes and devices.
    pub text_start: Option<u64>,
    /// Whether opening the path again gives the same text: a regular file. Standard input
    /// and pipes (a shell's `<(zcat dump.gz)`) give what is left of it.
    pub reopenable: bool,
    /// Set when a gzip stream turns out cut short (see [`CutShort`]).
    pub cut_short: Option<Arc<AtomicBool>>,
}

/// The first of `paths` that can be read only once: standard input, or a pipe or another
/// stream (a shell's `<(zcat dump.gz)`), which gives what is left of it when opened again.
/// A path that cannot be looked at is not one: opening it will say why.
pub fn first_read_once(paths: &[PathBuf]) -> Option<&Path> {
    paths.iter().map(PathBuf::as_path).find(|path| {
        if *path == Path::new("-") {
            return true;
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::FileTypeExt as _;
            std::fs::metadata(path).is_ok_and(|m| {
                let kind = m.file_type();
                kind.is_fifo() || kind.is_char_device() || kind.is_socket()
            })
        }
        #[cfg(not(unix))]
        false
    })
}

/// Opens `path` once, plain or gzip (detected by its magic bytes); `-` is standard input.
pub fn open_dump_text(path: &Path) -> Result<OpenedText, DumpError> {
    open_dump_text_counted(path, None)
}

/// [`open_dump_text`], counting the file's bytes (compressed ones for gzip) into
/// `bytes_read` (a background forecast's progress bar compares them with the file's size).
pub fn open_dump_text_counted(
    path: &Path,
    bytes_read: Option<Arc<AtomicU64>>,
) -> Result<OpenedText, DumpError> {
    let open_error = |source| DumpError::Open {
        path: path.to_owned(),
        source,
    };
    // `-` is standard input, so `kcat -C -J … | instore run --input -` works.
    let (source, reopenable): (Box<dyn std::io::Read + Send>, bool) = if path == Path::new("-") {
        (Box::new(io::stdin()), false)
    } else {
        let file = File::open(path).map_err(open_error)?;
        let regular = file.metadata().is_ok_and(|m| m.is_file());
        let source: Box<dyn std::io::Read + Send> = match bytes_read {
            Some(bytes) => Box::new(Counted { inner: file, bytes }),
            None => Box::new(file),
        };
        (source, regular)
    };
    let text = text_of(path, source)?;
    Ok(OpenedText {
        input: text.input,
        text_start: (reopenable && !text.gzip).then_some(text.byte_order_mark),
        reopenable,
        cut_short: text.cut_short,
    })
}

/// The text of a source already open (what standard input would give, in tests).
#[cfg(test)]
pub(crate) fn open_reader(
    path: &Path,
    source: Box<dyn std::io::Read + Send>,
) -> Result<Box<dyn BufRead + Send>, DumpError> {
    text_of(path, source).map(|text| text.input)
}

/// A source's text, past a byte order mark.
struct Text {
    input: Box<dyn BufRead + Send>,
    /// The mark's length.
    byte_order_mark: u64,
    gzip: bool,
    cut_short: Option<Arc<AtomicBool>>,
}

/// A gzip stream that ends before its end: a recording killed mid-write, a copy or download
/// cut short. Its text up to there is read, and the cut is flagged for the reader to report
/// as a broken line, rather than failing the whole file for its last block.
struct CutShort<R> {
    inner: R,
    cut: Arc<AtomicBool>,
}

impl<R: io::Read> io::Read for CutShort<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.inner.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                self.cut.store(true, Ordering::Relaxed);
                Ok(0)
            }
            other => other,
        }
    }
}

/// What a cut-short gzip stream reads as, in place of the lines it lost.
const CUT_SHORT: &str = "the gzip stream ends here, cut short (a recording stopped \
     mid-write, or an unfinished copy): every line before was read, the rest of the file is \
     missing";

/// The text of `source`, gzip or not.
fn text_of(path: &Path, source: Box<dyn std::io::Read + Send>) -> Result<Text, DumpError> {
    let open_error = |source| DumpError::Open {
        path: path.to_owned(),
        source,
    };
    let mut buffered = BufReader::with_capacity(READ_BUFFER_BYTES, source);
    let head = buffered.fill_buf().map_err(open_error)?;
    let gzip = head.starts_with(&GZIP_MAGIC);
    let cut_short = gzip.then(|| Arc::new(AtomicBool::new(false)));
    let mut text: Box<dyn BufRead + Send> = match &cut_short {
        Some(cut) => Box::new(BufReader::with_capacity(
            READ_BUFFER_BYTES,
            CutShort {
                inner: MultiGzDecoder::new(buffered),
                cut: Arc::clone(cut),
            },
        )),
        None => Box::new(buffered),
    };
    let byte_order_mark = skip_byte_order_mark(path, &mut text)?;
    Ok(Text {
        input: text,
        byte_order_mark,
        gzip,
        cut_short,
    })
}

/// Steps over a UTF-8 byte order mark at the start of the text (Windows tools write one, and
/// it would make the first record a broken line); refuses UTF-16, whose every line would be.
/// Returns the bytes stepped over.
fn skip_byte_order_mark(path: &Path, text: &mut Box<dyn BufRead + Send>) -> Result<u64, DumpError> {
    let head = text.fill_buf().map_err(|source| DumpError::Read {
        path: path.to_owned(),
        source,
    })?;
    if head.starts_with(&UTF8_BOM) {
        text.consume(UTF8_BOM.len());
        return Ok(UTF8_BOM.len() as u64);
    }
    if UTF16_BOMS.iter().any(|bom| head.starts_with(bom)) {
        return Err(DumpError::Utf16 {
            path: path.to_owned(),
        });
    }
    Ok(0)
}

impl DumpReader {
    /// Opens `path`, plain or gzip.
    pub fn open(path: &Path) -> Result<Self, DumpError> {
        open_dump_text(path).map(|text| Self::from_opened(path, text))
    }

    /// Reads a dump opened with [`open_dump_text`] (its first lines perhaps read and put
    /// back: offsets count from the start of `text.input`).
    pub fn from_opened(path: &Path, text: OpenedText) -> Self {
        Self {
            text_start: text.text_start,
            cut_short: text.cut_short,
            ..Self::from_reader(path, text.input)
        }
    }

    /// Reads a dump from any buffered source; `path` names it in errors.
    pub fn from_reader(path: &Path, input: Box<dyn BufRead + Send>) -> Self {
        Self {
            path: path.to_owned(),
            input,
            line: Vec::with_capacity(4096),
            consume_before_next: 0,
            line_number: 0,
            consumed: 0,
            line_offset: 0,
            text_start: None,
            cut_short: None,
            cut_reported: false,
        }
    }

    /// Where the text starts in the file, when a line's offset from
    /// [`DumpReader::next_line_at`] plus this is its position in the file: a plain file
    /// opened by path. `None` for gzip, standard input, pipes and other sources.
    pub fn text_start(&self) -> Option<u64> {
        self.text_start
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Lines read so far.
    pub fn line_number(&self) -> u64 {
        self.line_number
    }

    /// The next record or broken line; `Ok(None)` at the end. Blank lines are skipped.
    pub fn next_line(&mut self) -> Result<Option<DumpLine<'_>>, DumpError> {
        let mut offset = 0;
        self.next_line_at(&mut offset)
    }

    /// [`DumpReader::next_line`], setting `offset` to where the line starts in bytes of the
    /// input as read (after a byte order mark; decompressed, for gzip). Inlined into
    /// `next_line`, which drops the offset, so that reading a dump straight through does not
    /// pay for it.
    #[inline(always)]
    pub fn next_line_at(&mut self, offset: &mut u64) -> Result<Option<DumpLine<'_>>, DumpError> {
        // The line handed out last time is read in place from the input's buffer, so it is
        // consumed only now; copying every line out first cost more than finding it.
        let handed_out = std::mem::take(&mut self.consume_before_next);
        self.input.consume(handed_out);
        self.consumed += handed_out as u64;
        let path = &self.path;
        let read_error = |source| DumpError::Read {
            path: path.clone(),
            source,
        };
        let in_buffer = loop {
            let buffered = self.input.fill_buf().map_err(read_error)?;
            if buffered.is_empty() {
                return Ok(self.cut_short_line());
            }
            self.line_number += 1;
            self.line_offset = self.consumed;
            match memchr::memchr(b'\n', buffered) {
                Some(end) => {
                    if buffered[..end].iter().all(u8::is_ascii_whitespace) {
                        self.input.consume(end + 1);
                        self.consumed += end as u64 + 1;
                        continue;
                    }
                    self.consume_before_next = end + 1;
                    break Some(end);
                }
                // The line runs past the buffer (or is the last one, unterminated): copy it.
                None => {
                    self.line.clear();
                    let copied = self
                        .input
                        .read_until(b'\n', &mut self.line)
                        .map_err(read_error)?;
                    self.consumed += copied as u64;
                    if !self.line.iter().all(u8::is_ascii_whitespace) {
                        break None;
                    }
                }
            }
        };
        let line: &[u8] = match in_buffer {
            // The same buffer as above: `fill_buf` reads nothing while it holds data.
            Some(end) => &self.input.fill_buf().map_err(read_error)?[..end],
            None => &self.line,
        };
        let line_number = self.line_number;
        *offset = self.line_offset;
        let Ok(text) = simdutf8::basic::from_utf8(line) else {
            return Ok(Some(DumpLine::Broken {
                line_number,
                text: String::from_utf8_lossy(line),
            }));
        };
        let text = text.trim_end_matches(['\n', '\r']);
        let line = match parse_record(text) {
            Some(record) => DumpLine::Record(record),
            None => DumpLine::Broken {
                line_number,
                text: Cow::Borrowed(text),
            },
        };
        Ok(Some(line))
    }

    /// Whether the text so far ended where its gzip stream was cut short.
    pub fn is_cut_short(&self) -> bool {
        self.cut_short
            .as_ref()
            .is_some_and(|cut| cut.load(Ordering::Relaxed))
    }

    /// At the end of the text: the note that a gzip stream was cut short, once, as the line
    /// after the last one read.
    #[cold]
    fn cut_short_line(&mut self) -> Option<DumpLine<'static>> {
        if self.cut_reported || !self.is_cut_short() {
            return None;
        }
        self.cut_reported = true;
        self.line_number += 1;
        Some(DumpLine::Broken {
            line_number: self.line_number,
            text: Cow::Borrowed(CUT_SHORT),
        })
    }

    /// The line [`DumpReader::next_line_at`] handed out last, as it stands in the input
    /// without its line end: a replay copies a gzip dump's pings out as they are.
    pub fn last_line(&mut self) -> Result<&[u8], DumpError> {
        let line = match self.consume_before_next.checked_sub(1) {
            // Still in the input's buffer: nothing is consumed until the next line.
            Some(end) => {
                let path = &self.path;
                let buffered = self.input.fill_buf().map_err(|source| DumpError::Read {
                    path: path.clone(),
                    source,
                })?;
                buffered.get(..end).unwrap_or_default()
            }
            None => &self.line[..],
        };
        let end = line
            .iter()
            .rposition(|&b| b != b'\n' && b != b'\r')
            .map_or(0, |last| last + 1);
        Ok(&line[..end])
    }
}

/// Reads one kcat -J line; `None` when it is not a record (no JSON object, no topic).
/// Inlined into the line reader, which then builds the record where it hands it out: called,
/// the record was built here and copied out, ~30 instructions a line.
#[inline(always)]
pub fn parse_record(line: &str) -> Option<RawRecord<'_>> {
    parse_kcat_layout(line).or_else(|| parse_any_envelope(line))
}

/// The line exactly as kcat -J (and our writer) lays a record out without headers, read by
/// position: a general walk over its members cost more than the rest of the record together.
/// `None` for any other layout, which [`parse_any_envelope`] then reads. Inlined too, for the
/// same reason as [`parse_record`].
#[inline(always)]
fn parse_kcat_layout(line: &str) -> Option<RawRecord<'_>> {
    let mut c = JsonCursor::new(line);
    c.literal(b"{\"topic\":")?;
    let topic = c.short_string()?.decode();
    c.literal(b",\"partition\":")?;
    let partition = c.integer()?.and_then(|n| i32::try_from(n).ok());
    c.literal(b",\"offset\":")?;
    let offset = c.integer()?;
    c.literal(b",\"tstype\":")?;
    c.short_string()?;
    c.literal(b",\"ts\":")?;
    let timestamp_ms = c.integer()?;
    // Our writer's broker, then any.
    if c.literal(b",\"broker\":-1").is_none() {
        c.literal(b",\"broker\":")?;
        c.number()?;
    }
    c.literal(b",\"key\":")?;
    let key = if c.null() {
        None
    } else {
        Some(c.short_string()?.decode())
    };
    c.literal(b",\"payload\":")?;
    let payload = if c.null() {
        None
    } else {
        Some(c.string()?.into())
    };
    c.literal(b"}")?;
    c.at_end().then_some(RawRecord {
        topic,
        partition: partition.unwrap_or(-1),
        offset: offset.unwrap_or(-1),
        timestamp_ms,
        key,
        headers: Vec::new(),
        payload,
    })
}

/// Any JSON object with kcat's members, in any order, with or without headers.
fn parse_any_envelope(line: &str) -> Option<RawRecord<'_>> {
    let mut record = RawRecord::default();
    let mut topic = None;
    let mut headers_text = None;
    for_each_member(line, |key, value| match (key.raw(), value) {
        ("topic", JsonValue::String(s)) => topic = Some(s.decode()),
        ("partition", JsonValue::Number(n)) => record.partition = n.parse().unwrap_or(-1),
        ("offset", JsonValue::Number(n)) => record.offset = n.parse().unwrap_or(-1),
        ("ts", JsonValue::Number(n)) => record.timestamp_ms = n.parse().ok(),
        ("key", JsonValue::String(s)) => record.key = Some(s.decode()),
        ("key", JsonValue::Number(n)) => record.key = Some(Cow::Borrowed(n)),
        // Left escaped, if it is: the engine reads the value in place.
        ("payload", JsonValue::String(s)) => record.payload = Some(s.into()),
        ("payload", JsonValue::Null) => record.payload = None,
        // AKHQ-style exports nest the value as JSON rather than a string.
        ("payload", JsonValue::Object(raw) | JsonValue::Array(raw) | JsonValue::Number(raw)) => {
            record.payload = Some(raw.into());
        }
        ("payload", JsonValue::Bool(b)) => {
            record.payload = Some(if b { "true" } else { "false" }.into());
        }
        ("headers", JsonValue::Array(raw)) => headers_text = Some(raw),
        _ => {}
    })
    .ok()?;
    record.topic = topic?;
    if let Some(raw) = headers_text {
        record.headers = parse_headers(raw);
    }
    Some(record)
}

/// kcat -J writes headers as a flat array: name, value, name, value, …
fn parse_headers(raw: &str) -> Vec<(String, Option<String>)> {
    let items: Vec<Option<String>> = serde_json::from_str(raw).unwrap_or_default();
    items
        .chunks(2)
        .map(|pair| {
            let name = pair.first().cloned().flatten().unwrap_or_default();
            let value = pair.get(1).cloned().flatten();
            (name, value)
        })
        .collect()
}

/// Writes records as kcat -J lines, gzip when the file name ends in `.gz`.
pub struct DumpWriter {
    path: PathBuf,
    out: Box<dyn Write + Send>,
    line: Vec<u8>,
    /// `{"topic":"…","partition":0,"offset":` for each topic written so far (a handful): the
    /// part of every built line that only its topic decides, escaped once.
    heads: Vec<(&'static str, Vec<u8>)>,
    next_offset: [i64; Topic::ALL.len()],
    records_written: u64,
}

impl DumpWriter {
    /// Creates `path` (`-` is standard output).
    pub fn create(path: &Path) -> Result<Self, DumpError> {
        let sink: Box<dyn Write + Send> = if path == Path::new("-") {
            Box::new(io::stdout())
        } else {
            Box::new(File::create(path).map_err(|source| DumpError::Create {
                path: path.to_owned(),
                source,
            })?)
        };
        let buffered = BufWriter::with_capacity(READ_BUFFER_BYTES, sink);
        let out: Box<dyn Write + Send> = if path.extension().is_some_and(|e| e == "gz") {
            Box::new(GzEncoder::new(buffered, Compression::fast()))
        } else {
            Box::new(buffered)
        };
        Ok(Self::from_writer(path, out))
    }

    /// Writes to any sink; `path` names it in errors.
    pub fn from_writer(path: &Path, out: Box<dyn Write + Send>) -> Self {
        Self {
            path: path.to_owned(),
            out,
            line: Vec::with_capacity(1024),
            heads: Vec::new(),
            next_offset: [0; Topic::ALL.len()],
            records_written: 0,
        }
    }

    /// Writes one engine output on its topic, partition 0, offsets counting from 0 per topic.
    pub fn write_output(&mut self, output: &Output) -> Result<(), DumpError> {
        let topic = output.topic();
        let offset = self.next_offset[topic.index()];
        self.next_offset[topic.index()] += 1;
        self.write_built(
            topic.name(),
            offset,
            output.timestamp_ms(),
            output.key(),
            |line| output.write_payload_escaped(line),
        )
    }

    /// Writes one notification on its topic at `offset`, its value escaped as it is written.
    pub fn write_notification(
        &mut self,
        notification: &NotificationRecord<'_>,
        offset: i64,
    ) -> Result<(), DumpError> {
        self.write_built(
            NOTIFICATIONS_TOPIC,
            offset,
            notification.timestamp_ms,
            Some(notification.key()),
            |line| notification.write_payload(line, Embedding::InString),
        )
    }

    /// A record on partition 0 whose value `write_value` writes straight into the line as
    /// the body of its `payload` string (escaped as it goes, no JSON text in between).
    fn write_built(
        &mut self,
        topic: &'static str,
        offset: i64,
        timestamp_ms: i64,
        key: Option<&str>,
        write_value: impl FnOnce(&mut Vec<u8>),
    ) -> Result<(), DumpError> {
        let line = &mut self.line;
        line.clear();
        line.extend_from_slice(topic_head(&mut self.heads, topic));
        write_offset_and_time(line, offset, timestamp_ms);
        write_key(line, key);
        line.extend_from_slice(b",\"payload\":\"");
        write_value(line);
        line.extend_from_slice(b"\"}\n");
        self.flush_line()
    }

    /// Writes one record as given.
    pub fn write_raw(&mut self, record: &DumpRecordRef<'_>) -> Result<(), DumpError> {
        let line = &mut self.line;
        line.clear();
        write_envelope_head(
            line,
            record.topic,
            record.partition,
            record.offset,
            record.timestamp_ms,
            record.headers,
        );
        write_key(line, record.key);
        line.extend_from_slice(b",\"payload\":");
        match record.payload {
            Some(payload) => write_json_string(line, payload),
            None => line.extend_from_slice(b"null"),
        }
        line.extend_from_slice(b"}\n");
        self.flush_line()
    }

    fn flush_line(&mut self) -> Result<(), DumpError> {
        self.out
            .write_all(&self.line)
            .map_err(|source| DumpError::Write {
                path: self.path.clone(),
                source,
            })?;
        self.records_written += 1;
        Ok(())
    }

    pub fn records_written(&self) -> u64 {
        self.records_written
    }

    /// Flushes (and ends the gzip stream); call once at the end.
    pub fn finish(mut self) -> Result<(), DumpError> {
        self.out.flush().map_err(|source| DumpError::Write {
            path: self.path.clone(),
            source,
        })
    }
}

/// `{"topic":…,"partition":…,"offset":…,"tstype":"create","ts":…,"broker":-1[,"headers":[…]]`
fn write_envelope_head(
    line: &mut Vec<u8>,
    topic: &str,
    partition: i32,
    offset: i64,
    timestamp_ms: i64,
    headers: &[(String, Option<String>)],
) {
    write_topic_head(line, topic, partition);
    write_offset_and_time(line, offset, timestamp_ms);
    if !headers.is_empty() {
        line.extend_from_slice(b",\"headers\":[");
        for (i, (name, value)) in headers.iter().enumerate() {
            if i > 0 {
                line.push(b',');
            }
            write_json_string(line, name);
            line.push(b',');
            match value {
                Some(v) => write_json_string(line, v),
                None => line.extend_from_slice(b"null"),
            }
        }
        line.push(b']');
    }
}

/// `{"topic":…,"partition":…,"offset":`
fn write_topic_head(line: &mut Vec<u8>, topic: &str, partition: i32) {
    line.extend_from_slice(b"{\"topic\":");
    write_json_string(line, topic);
    line.extend_from_slice(b",\"partition\":");
    line.extend_from_slice(itoa::Buffer::new().format(partition).as_bytes());
    line.extend_from_slice(b",\"offset\":");
}

/// The head of a line on `topic`'s partition 0, written once per topic into `heads`. Topic
/// names are constants: the same one is found by its address.
fn topic_head<'h>(heads: &'h mut Vec<(&'static str, Vec<u8>)>, topic: &'static str) -> &'h [u8] {
    let at = match heads
        .iter()
        .position(|(name, _)| std::ptr::eq(*name, topic))
    {
        Some(at) => at,
        None => {
            let mut head = Vec::new();
            write_topic_head(&mut head, topic, 0);
            heads.push((topic, head));
            heads.len() - 1
        }
    };
    &heads[at].1
}

/// The offset (after the head), then `,"tstype":"create","ts":…,"broker":-1`.
fn write_offset_and_time(line: &mut Vec<u8>, offset: i64, timestamp_ms: i64) {
    let mut number = itoa::Buffer::new();
    line.extend_from_slice(number.format(offset).as_bytes());
    line.extend_from_slice(b",\"tstype\":\"create\",\"ts\":");
    line.extend_from_slice(number.format(timestamp_ms).as_bytes());
    line.extend_from_slice(b",\"broker\":-1");
}

/// `,"key":…`
fn write_key(line: &mut Vec<u8>, key: Option<&str>) {
    line.extend_from_slice(b",\"key\":");
    match key {
        Some(key) => write_json_string(line, key),
        None => line.extend_from_slice(b"null"),
    }
}

/// A record to write, borrowed.
#[derive(Clone, Copy, Debug)]
pub struct DumpRecordRef<'a> {
    pub topic: &'a str,
    pub partition: i32,
    pub offset: i64,
    pub timestamp_ms: i64,
    pub key: Option<&'a str>,
    pub headers: &'a [(String, Option<String>)],
    /// The value (JSON text); `None` for a tombstone.
    pub payload: Option<&'a str>,
}

/// Reads a whole dump into memory (tests and small files).
pub fn read_all(path: &Path) -> Result<Vec<RawRecord<'static>>, DumpError> {
    let mut reader = DumpReader::open(path)?;
    let mut out = Vec::new();
    while let Some(line) = reader.next_line()? {
        if let DumpLine::Record(r) = line {
            out.push(into_owned(r));
        }
    }
    Ok(out)
}

/// Detaches a record from the line buffer it borrows.
pub fn into_owned(r: RawRecord<'_>) -> RawRecord<'static> {
    // The five known topic names are shared, not copied into every record.
    let topic = match Topic::from_name(&r.topic) {
        Some(t) => Cow::Borrowed(t.name()),
        None => Cow::Owned(r.topic.into_owned()),
    };
    RawRecord {
        topic,
        partition: r.partition,
        offset: r.offset,
        timestamp_ms: r.timestamp_ms,
        key: r.key.map(|k| Cow::Owned(k.into_owned())),
        headers: r.headers,
        payload: r.payload.map(Payload::into_owned),
    }
}

/// A dump held in memory, for tests and the bus.
pub fn reader_from_bytes(bytes: Vec<u8>) -> Box<dyn BufRead + Send> {
    Box::new(io::Cursor::new(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_kcat_line_with_headers_and_string_payload() {
        let line = r#"{"topic": "customers_locations", "partition": 2, "offset": 42, "tstype": "create", "ts": 1700000000000, "broker": 1, "headers": ["trace", "abc", "empty", null], "key": "u1", "payload": "{\"uid\": \"u1\"}"}"#;
        let r = parse_record(line).unwrap();
        assert_eq!(r.topic, "customers_locations");
        assert_eq!(
            (r.partition, r.offset, r.timestamp_ms),
            (2, 42, Some(1_700_000_000_000))
        );
        assert_eq!(r.key.as_deref(), Some("u1"));
        assert_eq!(r.payload_text().as_deref(), Some(r#"{"uid": "u1"}"#));
        assert_eq!(
            r.headers,
            vec![("trace".into(), Some("abc".into())), ("empty".into(), None)]
        );
    }

    #[test]
    fn accepts_a_nested_object_payload_and_nulls() {
        let r = parse_record(r#"{"topic":"t","ts":5,"key":null,"payload":{"a": 1}}"#).unwrap();
        assert_eq!(r.payload_text().as_deref(), Some(r#"{"a": 1}"#));
        assert_eq!(r.key, None);
        let r = parse_record(r#"{"topic":"t","payload":null}"#).unwrap();
        assert_eq!((r.payload, r.timestamp_ms), (None, None));
    }

    /// A dump saved by a Windows tool: a UTF-8 byte order mark and CRLF line ends, plain or
    /// gzipped, reads every record; UTF-16 is refused with what to do, not read as thousands
    /// of broken lines.
    #[test]
    fn a_byte_order_mark_is_skipped_and_utf16_is_refused_by_name() {
        use std::io::Write as _;
        let lines = [
            r#"{"topic":"t","ts":1,"payload":"{}"}"#,
            r#"{"topic":"t","ts":2,"payload":"{}"}"#,
        ];
        let mut text = UTF8_BOM.to_vec();
        text.extend_from_slice(lines.join("\r\n").as_bytes());
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("windows.jsonl");
        std::fs::write(&plain, &text).unwrap();
        let gzipped = dir.path().join("windows.jsonl.gz");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&text).unwrap();
        std::fs::write(&gzipped, gz.finish().unwrap()).unwrap();
        for path in [&plain, &gzipped] {
            let mut reader = DumpReader::open(path).unwrap();
            let mut times = Vec::new();
            while let Some(line) = reader.next_line().unwrap() {
                match line {
                    DumpLine::Record(r) => times.push(r.timestamp_ms),
                    DumpLine::Broken { text, .. } => panic!("broken: {text:?}"),
                }
            }
            assert_eq!(times, [Some(1), Some(2)], "{}", path.display());
        }
        let utf16 = dir.path().join("powershell.jsonl");
        let mut bytes = vec![0xff, 0xfe];
        bytes.extend(lines[0].encode_utf16().flat_map(u16::to_le_bytes));
        std::fs::write(&utf16, bytes).unwrap();
        let refused = DumpReader::open(&utf16).err().map(|e| e.to_string());
        assert!(
            refused.as_deref().is_some_and(|e| e.contains("UTF-16")),
            "{refused:?}"
        );
    }

    /// A gzip dump cut anywhere (a recording killed mid-write, a copy cut short) reads every
    /// whole line before the cut, then one broken line that says so; a whole one, no such line.
    #[test]
    fn a_gzip_dump_cut_short_reads_up_to_the_cut_and_says_so() {
        use std::io::Write as _;
        let text: String = (0..3_000)
            .map(|i| {
                format!(
                    r#"{{"topic":"customers_locations","ts":{i},"payload":"{{\"uid\": \"u{}\"}}"}}"#,
                    i * 7_919 % 10_007
                ) + "\n"
            })
            .collect();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(text.as_bytes()).unwrap();
        let whole = gz.finish().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cut.jsonl.gz");
        let read = |bytes: &[u8]| {
            std::fs::write(&path, bytes).unwrap();
            let mut reader = DumpReader::open(&path).unwrap();
            let (mut times, mut broken) = (Vec::new(), Vec::new());
            while let Some(line) = reader.next_line().unwrap() {
                match line {
                    DumpLine::Record(r) => times.push(r.timestamp_ms.unwrap()),
                    DumpLine::Broken { text, .. } => broken.push(text.into_owned()),
                }
            }
            (times, broken)
        };
        let (times, broken) = read(&whole);
        assert_eq!(times.len(), 3_000);
        assert!(broken.is_empty());
        // Cut in the header, in the deflate blocks, and in the eight-byte trailer.
        for cut in [12, whole.len() / 3, whole.len() * 9 / 10, whole.len() - 4] {
            let (times, broken) = read(&whole[..cut]);
            let expected: Vec<i64> = (0..times.len() as i64).collect();
            assert_eq!(times, expected, "cut at {cut}: the lines before, in order");
            assert_eq!(
                broken.last().map(String::as_str),
                Some(CUT_SHORT),
                "cut at {cut}"
            );
            // At most the line the cut went through, besides the note.
            assert!(broken.len() <= 2, "cut at {cut}: {broken:?}");
            if cut == whole.len() - 4 {
                assert_eq!(times.len(), 3_000);
            }
        }
    }

    #[test]
    fn lines_without_a_topic_or_json_are_not_records() {
        assert!(parse_record(r#"{"ts": 5}"#).is_none());
        assert!(parse_record("garbage").is_none());
        assert!(parse_record(r#"{"topic": "t", "payload": "#).is_none());
    }

    /// Writes one record to `file_name`, checks it reads back, and returns the file's bytes.
    fn write_and_read_back(file_name: &str) -> Vec<u8> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(file_name);
        let mut w = DumpWriter::create(&path).unwrap();
        let headers = vec![("h".to_owned(), Some("v\"".to_owned()))];
        w.write_raw(&DumpRecordRef {
            topic: "stores_products",
            partition: 1,
            offset: 7,
            timestamp_ms: 99,
            key: Some("k\n"),
            headers: &headers,
            payload: Some(r#"{"sku": 1, "segment": "A\"B"}"#),
        })
        .unwrap();
        w.finish().unwrap();
        let records = read_all(&path).unwrap();
        assert_eq!(records.len(), 1);
        let r = &records[0];
        assert_eq!(r.topic, "stores_products");
        assert_eq!((r.partition, r.offset, r.timestamp_ms), (1, 7, Some(99)));
        assert_eq!(r.key.as_deref(), Some("k\n"));
        assert_eq!(r.headers, headers);
        assert_eq!(
            r.payload_text().as_deref(),
            Some(r#"{"sku": 1, "segment": "A\"B"}"#)
        );
        std::fs::read(&path).unwrap()
    }

    #[test]
    fn writer_output_reads_back() {
        let bytes = write_and_read_back("plain.jsonl");
        assert!(bytes.starts_with(b"{\"topic\":\"stores_products\""));
        assert!(bytes.ends_with(b"}\n"));
    }

    #[test]
    fn gzip_is_written_and_detected() {
        let bytes = write_and_read_back("packed.jsonl.gz");
        // The reader detects gzip by these bytes, so reading back alone would pass for a
        // plain file with a .gz name: the file on disk must be gzip, and hold the line.
        assert_eq!(bytes[..2], [0x1f, 0x8b], "gzip magic");
        let mut text = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut text)
            .unwrap();
        assert!(text.starts_with("{\"topic\":\"stores_products\""), "{text}");
        assert!(
            text.len() > bytes.len(),
            "compressed: {} -> {}",
            text.len(),
            bytes.len()
        );
    }

    #[test]
    fn broken_lines_are_reported_and_blank_lines_skipped() {
        let text =
            b"\n{\"topic\":\"t\",\"ts\":1,\"payload\":\"{}\"}\nnot a record\n\xff\xfe\n".to_vec();
        let mut reader = DumpReader::from_reader(Path::new("mem"), reader_from_bytes(text));
        assert!(matches!(
            reader.next_line().unwrap(),
            Some(DumpLine::Record(_))
        ));
        assert!(matches!(
            reader.next_line().unwrap(),
            Some(DumpLine::Broken { line_number: 3, .. })
        ));
        assert!(matches!(
            reader.next_line().unwrap(),
            Some(DumpLine::Broken { line_number: 4, .. })
        ));
        assert!(reader.next_line().unwrap().is_none());
    }

    /// One record as the writer lays it out.
    fn written_line(record: &DumpRecordRef<'_>) -> String {
        let mut writer = DumpWriter::from_writer(Path::new("mem"), Box::new(io::sink()));
        writer.write_raw(record).unwrap();
        String::from_utf8(writer.line.clone())
            .unwrap()
            .trim_end()
            .to_owned()
    }

    proptest::proptest! {
        /// kcat's layout read by position gives what the general reader gives, for every
        /// line the writer produces (taking the fast way whenever there are no headers) and
        /// for those lines cut short or changed by one byte.
        #[test]
        fn kcat_layout_reads_like_any_envelope(
            topic in "[a-z_\"]{1,8}",
            key in proptest::option::of("[ -~é]{0,6}"),
            payload in proptest::option::of("[ -~é\n]{0,30}"),
            offset in -1i64..1_000_000,
            timestamp_ms in 0i64..2_000_000_000_000,
            with_headers in proptest::bool::ANY,
            cut in 0usize..300,
            replace in proptest::sample::select(vec![None, Some(b' '), Some(b'"'), Some(b'\\'), Some(b'1'), Some(b'}')]),
        ) {
            let headers = if with_headers { vec![("h".to_owned(), None)] } else { Vec::new() };
            let line = written_line(&DumpRecordRef {
                topic: &topic,
                partition: 0,
                offset,
                timestamp_ms,
                key: key.as_deref(),
                headers: &headers,
                payload: payload.as_deref(),
            });
            let fast = parse_kcat_layout(&line);
            proptest::prop_assert_eq!(fast.is_some(), !with_headers, "{}", line);
            if let Some(fast) = fast {
                let text = fast.payload_text().map(Cow::into_owned);
                proptest::prop_assert_eq!(text, payload);
                proptest::prop_assert_eq!(Some(fast), parse_any_envelope(&line));
            }
            let mut changed = line.into_bytes();
            let at = cut % changed.len();
            match replace {
                Some(byte) => changed[at] = byte,
                None => changed.truncate(at),
            }
            if let Ok(changed) = String::from_utf8(changed) {
                if let Some(fast) = parse_kcat_layout(&changed) {
                    proptest::prop_assert_eq!(Some(fast), parse_any_envelope(&changed), "{}", changed);
                }
            }
        }
    }
}
