//! File dialogs off the UI thread. rfd's async dialog (the XDG desktop portal, with rfd's
//! zenity fallback) runs on a thread of its own and the console picks the answer up on a later
//! frame: the map, the feed and the engine's drain go on while the operator browses, and a
//! dialog that never answers cannot freeze the window.

use std::path::PathBuf;
use std::sync::mpsc;

use crate::engine::sql::SqlDialect;
use crate::io::wake::Waker;

/// What a dialog's answer is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DialogFor {
    OpenDumps,
    TileFolder,
    PmTilesFile,
    RecordTo,
    FeedCsv,
    ViewGeoJson,
    /// The pipeline with the console's parameters as a script for this dialect.
    SqlScript(SqlDialect),
    ImportCampaigns,
    ExportCampaign,
    /// Dumps to forecast the selected campaign on.
    ForecastDumps,
    ForecastCsv,
    ForecastPng,
}

/// A file action that did not happen (shown beside the file buttons until the next one).
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("a file dialog is already open: answer it first")]
    DialogBusy,
    #[error("cannot open a file dialog: {0}")]
    DialogThread(std::io::Error),
    #[error("cannot write {}: {error}", path.display())]
    Write {
        path: PathBuf,
        error: std::io::Error,
    },
    /// Nothing with shoppers' uids is written without their pseudonyms, unless the operator
    /// ticked raw uids.
    #[error("not written: {0}")]
    Pseudonyms(String),
}

/// What the dialog asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pick {
    Files,
    Folder,
    File,
    SaveFile,
}

/// The dialog that is open, if any (one at a time, as desktops show them).
#[derive(Debug, Default)]
pub struct FileDialogs {
    pending: Option<(DialogFor, mpsc::Receiver<Vec<PathBuf>>)>,
}

impl FileDialogs {
    pub fn is_open(&self) -> bool {
        self.pending.is_some()
    }

    /// Opens `dialog` on its own thread unless a dialog is open already; the answer comes
    /// from [`FileDialogs::poll`].
    pub fn open(
        &mut self,
        purpose: DialogFor,
        dialog: rfd::AsyncFileDialog,
        pick: Pick,
        waker: Waker,
    ) -> Result<(), FileError> {
        if self.is_open() {
            return Err(FileError::DialogBusy);
        }
        let (answer, receiver) = mpsc::channel();
        std::thread::Builder::new()
            .name("instore-file-dialog".into())
            .spawn(move || {
                let paths = pollster::block_on(ask(dialog, pick));
                let _ = answer.send(paths);
                waker.wake_now();
            })
            .map_err(FileError::DialogThread)?;
        self.pending = Some((purpose, receiver));
        Ok(())
    }

    /// The answer of the open dialog once it has one (no paths: cancelled).
    pub fn poll(&mut self) -> Option<(DialogFor, Vec<PathBuf>)> {
        let (purpose, receiver) = self.pending.as_ref()?;
        let answer = match receiver.try_recv() {
            Ok(paths) => Some((*purpose, paths)),
            Err(mpsc::TryRecvError::Empty) => return None,
            // The dialog thread ended without an answer: as cancelled.
            Err(mpsc::TryRecvError::Disconnected) => Some((*purpose, Vec::new())),
        };
        self.pending = None;
        answer
    }
}

async fn ask(dialog: rfd::AsyncFileDialog, pick: Pick) -> Vec<PathBuf> {
    let path = |h: rfd::FileHandle| h.path().to_path_buf();
    match pick {
        Pick::Files => dialog
            .pick_files()
            .await
            .map(|handles| handles.into_iter().map(path).collect())
            .unwrap_or_default(),
        Pick::Folder => dialog.pick_folder().await.map(path).into_iter().collect(),
        Pick::File => dialog.pick_file().await.map(path).into_iter().collect(),
        Pick::SaveFile => dialog.save_file().await.map(path).into_iter().collect(),
    }
}
