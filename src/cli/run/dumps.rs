//! `instore run --input DUMP…`: the dumps' records in file order through the run loop, as
//! fast as the disk allows; lines that are not records are counted and skipped.

use std::path::{Path, PathBuf};

use crate::engine::PipelineParams;
use crate::io::campaign::CampaignInput;
use crate::io::dump::{DumpError, DumpReader, DumpWriter};
use crate::io::run_loop::{feed_dumps, RunLoop, RunNotifications, RunReport};

/// Runs the pipeline over the inputs; errors only when a file cannot be read or written.
pub fn run_dumps(
    inputs: &[PathBuf],
    output: Option<&Path>,
    params: PipelineParams,
    notifications: Option<RunNotifications>,
    campaign: Option<&mut CampaignInput>,
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
    let lines_read = feed_dumps(&mut run, readers, &mut writer, campaign, None)?;
    if let Some(writer) = writer {
        writer.finish()?;
    }
    Ok(run.finish(lines_read))
}
