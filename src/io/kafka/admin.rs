//! The cluster itself: creating missing topics, and checking brokers, authentication and
//! topics before anything reads or writes.

use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};

use super::client::client_config;
use super::config::KafkaConfig;

/// Creates those of `topics` the cluster lacks; returns the ones created.
pub fn ensure_topics(
    config: &KafkaConfig,
    topics: &[&str],
    partitions: i32,
    timeout: Duration,
) -> Result<Vec<String>, KafkaError> {
    let probe: BaseConsumer = client_config(config).create()?;
    let metadata = probe.fetch_metadata(None, timeout)?;
    let existing: Vec<&str> = metadata
        .topics()
        .iter()
        .filter(|t| t.error().is_none())
        .map(|t| t.name())
        .collect();
    let missing: Vec<&str> = topics
        .iter()
        .copied()
        .filter(|t| !existing.contains(t))
        .collect();
    if missing.is_empty() {
        return Ok(Vec::new());
    }
    let admin: AdminClient<DefaultClientContext> = client_config(config).create()?;
    let new: Vec<NewTopic<'_>> = missing
        .iter()
        .map(|t| NewTopic::new(t, partitions, TopicReplication::Fixed(-1)))
        .collect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .map_err(|e| KafkaError::AdminOpCreation(e.to_string()))?;
    let options = AdminOptions::new().operation_timeout(Some(timeout));
    let results = runtime.block_on(admin.create_topics(new.iter(), &options))?;
    let mut created = Vec::new();
    for r in results {
        match r {
            Ok(name) => created.push(name),
            Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((name, code)) => {
                return Err(KafkaError::AdminOp(code))
                    .map_err(|e| KafkaError::AdminOpCreation(format!("creating {name}: {e}")))
            }
        }
    }
    Ok(created)
}

/// What "test connection" found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterCheck {
    pub brokers: Vec<String>,
    /// Each asked topic and its partition count (`None`: missing).
    pub topics: Vec<(String, Option<usize>)>,
}

/// Connects, authenticates (metadata needs both) and looks for `topics`.
pub fn check_cluster(
    config: &KafkaConfig,
    topics: &[&str],
    timeout: Duration,
) -> Result<ClusterCheck, KafkaError> {
    let probe: BaseConsumer = client_config(config).create()?;
    let metadata = probe.fetch_metadata(None, timeout)?;
    let brokers = metadata
        .brokers()
        .iter()
        .map(|b| format!("{}:{} (id {})", b.host(), b.port(), b.id()))
        .collect();
    let topics = topics
        .iter()
        .map(|name| {
            let found = metadata
                .topics()
                .iter()
                .find(|t| t.name() == *name && t.error().is_none())
                .map(|t| t.partitions().len());
            ((*name).to_owned(), found)
        })
        .collect();
    Ok(ClusterCheck { brokers, topics })
}
