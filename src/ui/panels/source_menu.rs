//! The Source menu: the simulator, or a Kafka cluster (bootstrap, profile, where to start),
//! with a connection test that runs on its own thread.

use std::thread::JoinHandle;
use std::time::Duration;

use egui::{RichText, Ui};

use crate::engine::Topic;
use crate::io::kafka::admin::{check_cluster, ClusterCheck};
use crate::io::kafka::client::StartAt;
use crate::io::kafka::config::KafkaConfig;
use crate::io::wake::Waker;
use crate::ui::command::{Command, Commands};
use crate::ui::map::palette;
use crate::ui::settings::ConsoleSettings;

/// What the menu keeps between frames.
pub struct SourceMenu {
    /// Where a Kafka source starts reading.
    pub kafka_from: String,
    check: Option<JoinHandle<Result<ClusterCheck, String>>>,
    /// The last test's answer, or why the settings could not be used.
    result: Option<Result<ClusterCheck, String>>,
}

impl Default for SourceMenu {
    fn default() -> Self {
        Self {
            kafka_from: "windows".into(),
            check: None,
            result: None,
        }
    }
}

impl SourceMenu {
    /// Starts a connection test (the console is woken with its answer).
    pub fn test(&mut self, config: KafkaConfig, waker: Waker) {
        self.check = std::thread::Builder::new()
            .name("instore-kafka-check".into())
            .spawn(move || {
                let names = Topic::ALL.map(Topic::name);
                let answer = check_cluster(&config, &names, Duration::from_secs(10))
                    .map_err(|e| e.to_string());
                waker.wake_now();
                answer
            })
            .map_err(|e| self.result = Some(Err(format!("cannot start the test: {e}"))))
            .ok();
    }

    /// Takes a finished test's answer.
    pub fn poll(&mut self) {
        if self.check.as_ref().is_some_and(JoinHandle::is_finished) {
            if let Some(t) = self.check.take() {
                self.result = Some(t.join().unwrap_or_else(|_| Err("the test crashed".into())));
            }
        }
    }

    pub fn testing(&self) -> bool {
        self.check.is_some()
    }
}

/// The Kafka settings the menu edits (the password comes from the profile file or the
/// environment, never from here).
fn kafka_config(settings: &ConsoleSettings) -> Result<KafkaConfig, String> {
    let profile = Some(settings.kafka_profile.trim()).filter(|p| !p.is_empty());
    let bootstrap = Some(settings.kafka_bootstrap.trim()).filter(|b| !b.is_empty());
    KafkaConfig::resolve(profile, bootstrap, &[]).map_err(|e| e.to_string())
}

pub fn source_menu_ui(
    ui: &mut Ui,
    menu: &mut SourceMenu,
    settings: &mut ConsoleSettings,
    commands: &mut Commands,
) {
    if ui.button("Simulator").clicked() {
        commands.push(Command::StartSimulator);
        ui.close();
    }
    ui.separator();
    ui.label(RichText::new("Kafka").strong());
    egui::Grid::new("kafka-source")
        .num_columns(2)
        .show(ui, |ui| {
            let l = ui.label("bootstrap");
            ui.add(egui::TextEdit::singleline(&mut settings.kafka_bootstrap).desired_width(220.0))
                .labelled_by(l.id);
            ui.end_row();
            let l = ui.label("profile");
            ui.add(
                egui::TextEdit::singleline(&mut settings.kafka_profile)
                    .hint_text("optional: a saved profile name")
                    .desired_width(220.0),
            )
            .labelled_by(l.id);
            ui.end_row();
            let l = ui.label("from");
            ui.add(
                egui::TextEdit::singleline(&mut menu.kafka_from)
                    .hint_text("windows, earliest, latest or RFC 3339")
                    .desired_width(220.0),
            )
            .labelled_by(l.id);
            ui.end_row();
        });
    ui.horizontal(|ui| {
        let testing = menu.testing();
        if ui
            .add_enabled(!testing, egui::Button::new("Test connection"))
            .clicked()
        {
            match kafka_config(settings) {
                Ok(config) => commands.push(Command::TestKafka(config)),
                Err(e) => menu.result = Some(Err(e)),
            }
        }
        if testing {
            ui.add(egui::Spinner::new());
        }
        if ui.button("Connect").clicked() {
            match (kafka_config(settings), menu.kafka_from.parse::<StartAt>()) {
                (Ok(config), Ok(from)) => {
                    commands.push(Command::ConnectKafka { config, from });
                    ui.close();
                }
                (Err(e), _) | (_, Err(e)) => menu.result = Some(Err(e)),
            }
        }
    });
    match &menu.result {
        Some(Ok(check)) => {
            ui.label(format!("reachable: {}", check.brokers.join(", ")));
            for (topic, partitions) in &check.topics {
                match partitions {
                    Some(n) => ui.label(format!("{topic}: {n} partition(s)")),
                    None => ui.colored_label(palette::WARNING, format!("{topic}: missing")),
                };
            }
        }
        Some(Err(e)) => {
            ui.colored_label(palette::ERROR, e);
        }
        None => {}
    }
}
