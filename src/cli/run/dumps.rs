//! `instore run --input DUMP…`: the dumps' records in file order through the run loop, as
//! fast as the disk allows; lines that are not records are counted and skipped.

use std::path::{Path, PathBuf};

use crate::engine::PipelineParams;
use crate::io::dump::{DumpError, DumpLine, DumpReader, DumpWriter};
use crate::io::run_loop::{RunLoop, RunNotifications, RunReport};

/// Runs the pipeline over the inputs; errors only when a file cannot be read or written.
pub fn run_dumps(
    inputs: &[PathBuf],
    output: Option<&Path>,
    params: PipelineParams,
    notifications: Option<RunNotifications>,
) -> Result<RunReport, DumpError> {
    let mut run = RunLoop::new(params);
    if let Some(n) = notifications {
        run = run.with_notifications(n);
    }
    // Open everything first so a typo in the last file fails before any work is done.
    let readers = inputs
        .iter()
        .map(|path| DumpReader::open(path))
        .collect::<Result<Vec<_>, _>>()?;
    let mut writer = output.map(DumpWriter::create).transpose()?;
    let mut lines_read = 0;
    for mut reader in readers {
        while let Some(line) = reader.next_line()? {
            match line {
                DumpLine::Record(record) => run.push(&record, &mut writer)?,
                DumpLine::Broken { line_number, text } => run.broken_line(line_number, &text),
            }
        }
        lines_read += reader.line_number();
    }
    if let Some(writer) = writer {
        writer.finish()?;
    }
    Ok(run.finish(lines_read))
}
