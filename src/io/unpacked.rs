//! A gzip dump's (or standard input's) pings copied line by line into a temporary file as the
//! dump loads, so that its replay reads them again by offset, as it does a plain file's,
//! instead of holding them parsed: a day of pings parsed takes gigabytes of memory, while here
//! they take their text's size on disk, in the cache folder, until the dump is closed.
//!
//! The file has no name (it is gone as soon as the last handle closes, however the program
//! ends), so it is read through the one handle, at positions (see `replay_records`).

use std::fs::File;
use std::io::{BufWriter, Write as _};
use std::path::PathBuf;
use std::sync::Arc;

use crate::io::folders::cache_folder;

const WRITE_BUFFER_BYTES: usize = 256 * 1024;

/// The lines copied so far, and where the next one goes.
pub struct UnpackedLines {
    lines: Arc<File>,
    out: BufWriter<File>,
    written: u64,
}

impl UnpackedLines {
    /// A new, empty file in `$XDG_CACHE_HOME/instore/replay` (else the system's temporary
    /// folder): the cache is on disk where a temporary folder may be memory (tmpfs).
    pub fn create() -> std::io::Result<Self> {
        let file = match unpack_folder() {
            Some(folder) => std::fs::create_dir_all(&folder)
                .and_then(|()| tempfile::tempfile_in(&folder))
                .or_else(|_| tempfile::tempfile())?,
            None => tempfile::tempfile()?,
        };
        Self::writing_to(file)
    }

    /// Lines copied into `file` (a test passes one that cannot be written).
    pub(crate) fn writing_to(file: File) -> std::io::Result<Self> {
        Ok(Self {
            out: BufWriter::with_capacity(WRITE_BUFFER_BYTES, file.try_clone()?),
            lines: Arc::new(file),
            written: 0,
        })
    }

    /// The file, to read the lines from once [`UnpackedLines::finish`] has written them all.
    pub fn lines(&self) -> Arc<File> {
        Arc::clone(&self.lines)
    }

    /// Copies `line` (without its line end) and returns where it starts.
    pub fn append(&mut self, line: &[u8]) -> std::io::Result<u64> {
        let at = self.written;
        self.out.write_all(line)?;
        self.out.write_all(b"\n")?;
        self.written += line.len() as u64 + 1;
        Ok(at)
    }

    /// Writes out what is still buffered.
    pub fn finish(mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

fn unpack_folder() -> Option<PathBuf> {
    cache_folder().map(|cache| cache.join("replay"))
}
