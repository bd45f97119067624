//! What the panels ask for while they draw. Drawing never changes the source, the outbox or
//! files; panels return a [`Command`] and the console carries it out in `App::logic`, before
//! the next frame is drawn.

use std::path::PathBuf;

use crate::io::kafka::client::StartAt;
use crate::io::kafka::config::KafkaConfig;
use crate::io::live::RecordingLimits;
use crate::io::sim_feed::Speed;

use super::campaign_book::CampaignCommand;
use super::file_dialogs::{DialogFor, Pick};
use super::outbox::Announcement;
use super::promotion_editor::PromotionRecord;

pub enum Command {
    StartSimulator,
    ConnectKafka {
        config: KafkaConfig,
        from: StartAt,
    },
    /// Check that the cluster answers and has the input topics, without switching to it.
    TestKafka(KafkaConfig),
    OpenDumps(Vec<PathBuf>),
    CancelLoad,
    /// Re-run the replay from its start to this event time (`None`: from the start).
    Seek(Option<i64>),
    Pause(bool),
    SetSpeed(Speed),
    /// The pipeline parameters or the cooldown were edited.
    SettingsEdited,
    StartRecording(RecordingLimits),
    StopRecording,
    OpenDialog {
        purpose: DialogFor,
        dialog: rfd::AsyncFileDialog,
        pick: Pick,
    },
    Publish {
        record: PromotionRecord,
        announcement: Announcement,
        now_ms: i64,
    },
    RetryPublish(usize),
    /// Zoom the map into a store of the chain (by its index) and make it the current store.
    FocusStore(usize),
    /// Fit the map to a site derived from the data (by its index among the sites).
    FocusSite(usize),
    /// Fit the map to every place: the chain's stores and the derived sites.
    ShowAllSites,
    /// Fill the promotion form with this product and show the form.
    PromoteProduct(i64),
    CloseDetails,
    /// Show this shopper's details and phone (a feed row was clicked).
    SelectCustomer(std::sync::Arc<str>),
    /// Look again for recordings past the retention.
    CheckRecordings,
    /// Delete these recordings (the operator confirmed).
    DeleteRecordings(Vec<PathBuf>),
    /// Ask about old recordings again next session.
    PutOffRetention,
    Campaign(CampaignCommand),
    /// Show or hide the Campaigns window.
    ToggleCampaigns,
}

/// Commands collected over one frame.
#[derive(Default)]
pub struct Commands(Vec<Command>);

impl Commands {
    pub fn push(&mut self, command: Command) {
        self.0.push(command);
    }

    /// Pushes what a panel returned, if anything.
    pub fn extend(&mut self, command: Option<Command>) {
        self.0.extend(command);
    }

    pub fn take(&mut self) -> Vec<Command> {
        std::mem::take(&mut self.0)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}
