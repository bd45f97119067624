//! `instore record -b … --output DUMP`: topics to a kcat -J dump, until a duration passes or
//! Ctrl-C.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::duration::parse_duration_ms;
use super::kafka_args::{KafkaArgs, KAFKA_TIMEOUT};
use crate::engine::Topic;
use crate::io::dump::{DumpRecordRef, DumpWriter};
use crate::io::kafka::client::StartAt;
use crate::io::kafka::input::{InputEvent, InputSpec, KafkaInput};
use crate::io::kafka::readers::ConsumerTrouble;
use crate::io::pseudonym_key::installation_pseudonyms;
use crate::io::recordings::write_recording_note;

#[derive(Debug, clap::Args)]
pub struct RecordArgs {
    #[command(flatten)]
    pub kafka: KafkaArgs,
    /// Where reading starts: earliest, latest, an RFC 3339 time, or `windows` (as far back as
    /// the default joins reach: 90 minutes of products and promotions, 30 of pings).
    #[arg(long, default_value = "latest")]
    pub from: StartAt,
    /// Stop after this much wall time (default: on Ctrl-C).
    #[arg(long, value_parser = parse_duration_ms)]
    pub duration: Option<i64>,
    /// With --from earliest or a time: stop once no record came for this long.
    #[arg(long, value_parser = parse_duration_ms)]
    pub idle: Option<i64>,
    /// Stop once every partition is read up to where it ended when recording started (like
    /// kcat's -e): a snapshot of what the topics hold.
    #[arg(long)]
    pub until_end: bool,
    /// Topics to record (default: the three inputs and the two outputs).
    #[arg(long, value_delimiter = ',')]
    pub topics: Vec<String>,
    /// The dump to write (`.gz` packs it; `-` is stdout).
    #[arg(long, short, value_name = "DUMP")]
    pub output: PathBuf,
    /// Write shoppers' uids as they are. By default each uid is replaced by this
    /// installation's keyed pseudonym (HMAC-SHA256), since a dump leaves the console.
    #[arg(long)]
    pub raw_uids: bool,
}

pub fn record(args: &RecordArgs) -> anyhow::Result<()> {
    let config = args.kafka.config()?;
    let topics: Vec<String> = if args.topics.is_empty() {
        Topic::ALL.iter().map(|t| t.name().to_owned()).collect()
    } else {
        args.topics.clone()
    };
    let spec = InputSpec::Whole(topics.clone());
    let mut input = KafkaInput::open(&config, &spec, args.from, args.until_end, KAFKA_TIMEOUT)?;
    let pseudonyms = if args.raw_uids {
        eprintln!("instore record: --raw-uids: shoppers' uids are written as they are");
        None
    } else {
        Some(installation_pseudonyms()?)
    };
    let mut writer = DumpWriter::create(&args.output)?;
    write_recording_note(&args.output, pseudonyms.is_some(), &topics);
    let mut trouble = ConsumerTrouble::new(Duration::from_secs(10));
    let stop = Arc::new(AtomicBool::new(false));
    let on_signal = Arc::clone(&stop);
    let _ = ctrlc::set_handler(move || on_signal.store(true, Ordering::Relaxed));
    let started = Instant::now();
    let deadline = args
        .duration
        .map(|d| started + Duration::from_millis(d.max(0) as u64));
    let idle = args.idle.map(|d| Duration::from_millis(d.max(0) as u64));
    let mut last_record = Instant::now();
    let mut recorded = 0u64;
    while !stop.load(Ordering::Relaxed)
        && deadline.is_none_or(|d| Instant::now() < d)
        && idle.is_none_or(|i| last_record.elapsed() < i)
        && !input.at_end()
    {
        let r = match input.poll(Duration::from_millis(100))? {
            InputEvent::Record(r) => r,
            InputEvent::Idle => continue,
            InputEvent::Trouble(e) => {
                if let Some(text) = trouble.note(&e) {
                    eprintln!("instore record: {text} (librdkafka reconnects by itself)");
                }
                continue;
            }
            InputEvent::Away => {
                eprintln!("instore record: every broker is away; reconnecting with a fresh client");
                continue;
            }
            InputEvent::Back(after, changes) => {
                eprintln!("instore record: the cluster is back after {after:.1?}: recording on");
                for change in changes {
                    eprintln!("instore record: {change}");
                }
                continue;
            }
        };
        let r = match &pseudonyms {
            Some(p) => p.record(&r),
            None => r,
        };
        let payload = r.payload_text();
        writer.write_raw(&DumpRecordRef {
            topic: &r.topic,
            partition: r.partition,
            offset: r.offset,
            timestamp_ms: r.timestamp_ms.unwrap_or(-1),
            key: r.key.as_deref(),
            headers: &r.headers,
            payload: payload.as_deref(),
        })?;
        recorded += 1;
        last_record = Instant::now();
    }
    writer.finish()?;
    let why = if stop.load(Ordering::Relaxed) {
        "stopped by a signal"
    } else if input.at_end() {
        "read to where the topics ended"
    } else if idle.is_some_and(|i| last_record.elapsed() >= i) {
        "idle"
    } else {
        "duration over"
    };
    eprintln!("instore record: {why}");
    eprintln!(
        "instore record: {recorded} records from {} to {} in {:.1} s, uids {}",
        topics.join(","),
        args.output.display(),
        started.elapsed().as_secs_f64(),
        if pseudonyms.is_some() {
            "pseudonymized with this installation's key"
        } else {
            "raw (--raw-uids)"
        }
    );
    Ok(())
}
