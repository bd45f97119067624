//! `instore kafka-check -b …`: can we reach the cluster, does it let us in, are the topics
//! there (and how many partitions each has); `--create` makes the missing ones.

use super::kafka_args::{KafkaArgs, KAFKA_TIMEOUT};
use crate::engine::Topic;
use crate::io::kafka::admin::{check_cluster, ensure_topics};

#[derive(Debug, clap::Args)]
pub struct KafkaCheckArgs {
    #[command(flatten)]
    pub kafka: KafkaArgs,
    /// Create the missing topics (where the cluster allows it).
    #[arg(long)]
    pub create: bool,
    /// Partitions for topics `--create` makes.
    #[arg(long, default_value_t = 1)]
    pub partitions: i32,
}

pub fn kafka_check(args: &KafkaCheckArgs) -> anyhow::Result<()> {
    let config = args.kafka.config()?;
    println!("connecting with {}", config.describe());
    let names = Topic::ALL.map(Topic::name);
    let check = check_cluster(&config, &names, KAFKA_TIMEOUT)
        .map_err(|e| anyhow::anyhow!("cannot reach the cluster or not allowed in: {e}"))?;
    println!("brokers: {}", check.brokers.join(", "));
    let mut missing = Vec::new();
    for (topic, partitions) in &check.topics {
        match partitions {
            Some(n) => println!(
                "  {topic:<22} {n} partition{}",
                if *n == 1 { "" } else { "s" }
            ),
            None => {
                println!("  {topic:<22} missing");
                missing.push(topic.as_str());
            }
        }
    }
    if !missing.is_empty() {
        if args.create {
            let created = ensure_topics(&config, &missing, args.partitions, KAFKA_TIMEOUT)?;
            println!("created {}", created.join(", "));
        } else {
            println!("{} topic(s) missing: --create makes them", missing.len());
        }
    }
    Ok(())
}
