//! Engine throughput: the indexed pipeline against the brute-force per-country reference, in
//! the same run, on pings clustered around stores (`io::workload`).
//!
//! - `pings/indexed/N` and `pings/brute_force/N`: customer pings per second into a pipeline
//!   that already holds N products (N/50 stores) and their valid promotions.
//! - `end_to_end/decode_and_join`: raw kcat-style records (JSON decoding included) per second
//!   through `Pipeline::push`, the BENCHMARKS.md workload without file IO.
//! - `notify/<rule>`: the notification rules alone over that workload's outputs, per input
//!   record (what `instore run --notifications` adds to the join, before writing).

use std::borrow::Cow;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use instore::engine::notify::{Notifier, NotifyParams, NotifyRule};
use instore::engine::record::decode_value;
use instore::engine::reference::ReferencePipeline;
use instore::engine::{Customer, InputValue, Output, Pipeline, PipelineParams, RawRecord, Topic};
use instore::io::workload::{generate, WorkloadRecord, WorkloadSpec};

/// (timestamp, topic, decoded value) of every generated record.
fn decoded(records: &[WorkloadRecord]) -> Vec<(i64, Topic, InputValue)> {
    records
        .iter()
        .map(|r| {
            let value = decode_value(r.topic, &r.payload, Default::default())
                .expect("the workload only makes valid records");
            (r.timestamp_ms, r.topic, value)
        })
        .collect()
}

fn workload(products: usize, pings: usize) -> (Vec<(i64, Topic, InputValue)>, usize) {
    let spec = WorkloadSpec {
        stores: (products / 50).max(1),
        products,
        pings,
        ..WorkloadSpec::default()
    };
    let records = decoded(&generate(&spec));
    let catalog = products + spec.promotions;
    (records, catalog)
}

fn pings(c: &mut Criterion) {
    let mut group = c.benchmark_group("pings");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(6));
    for products in [1_000usize, 10_000, 100_000] {
        let label = format!("{}k", products / 1_000);
        // Brute force costs pings × valid promotions: fewer pings keep its run bounded; the
        // rate per ping is what compares.
        for (name, ping_count) in [("indexed", 20_000), ("brute_force", 20_000_000 / products)] {
            let (records, catalog) = workload(products, ping_count);
            let (setup_part, ping_part) = records.split_at(catalog);
            group.throughput(Throughput::Elements(ping_part.len() as u64));
            group.bench_with_input(BenchmarkId::new(name, &label), &(), |b, ()| {
                b.iter_batched(
                    || {
                        let mut engine = Engine::new(name);
                        for (ts, topic, value) in setup_part {
                            engine.push(*ts, *topic, value.clone());
                        }
                        (engine, ping_part.to_vec())
                    },
                    // The engine is returned so criterion drops it outside the timing.
                    |(mut engine, pings)| {
                        for (ts, topic, value) in pings {
                            engine.push(ts, topic, value);
                        }
                        engine
                    },
                    BatchSize::PerIteration,
                )
            });
        }
    }
    group.finish();
}

/// Either implementation behind one face, counting outputs.
enum Kind {
    Indexed(Box<Pipeline>),
    BruteForce(Box<ReferencePipeline>),
}

struct Engine {
    kind: Kind,
    scratch: Vec<instore::engine::Output>,
    outputs: usize,
}

impl Engine {
    fn new(name: &str) -> Self {
        let params = PipelineParams::default();
        let kind = if name == "indexed" {
            Kind::Indexed(Box::new(Pipeline::new(params)))
        } else {
            Kind::BruteForce(Box::new(ReferencePipeline::new(params)))
        };
        Self {
            kind,
            scratch: Vec::new(),
            outputs: 0,
        }
    }

    fn push(&mut self, ts: i64, topic: Topic, value: InputValue) {
        match &mut self.kind {
            Kind::Indexed(p) => p.push_value(topic, ts, value, &mut self.scratch),
            Kind::BruteForce(p) => p.push_value(ts, value, &mut self.scratch),
        }
        self.outputs += self.scratch.len();
        self.scratch.clear();
    }
}

/// The BENCHMARKS.md workload as raw records.
fn raw_workload() -> Vec<RawRecord<'static>> {
    generate(&WorkloadSpec::default())
        .into_iter()
        .map(|r| RawRecord {
            topic: Cow::Borrowed(r.topic.name()),
            timestamp_ms: Some(r.timestamp_ms),
            key: r.key.map(Cow::Owned),
            payload: Some(r.payload.into()),
            ..RawRecord::default()
        })
        .collect()
}

fn end_to_end(c: &mut Criterion) {
    let records = raw_workload();
    let mut group = c.benchmark_group("end_to_end");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(5));
    group.throughput(Throughput::Elements(records.len() as u64));
    group.bench_function("decode_and_join", |b| {
        b.iter_batched(
            || Pipeline::new(PipelineParams::default()),
            |mut pipeline| {
                let mut out = Vec::new();
                let mut outputs = 0;
                for r in &records {
                    pipeline.push(r, &mut out);
                    outputs += out.len();
                    out.clear();
                }
                (pipeline, outputs)
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

/// One input record as the notifier sees it: its outputs, and the ping when it was one.
type Offered = (Vec<Output>, Option<(Customer, i64)>);

fn notify(c: &mut Criterion) {
    let mut pipeline = Pipeline::new(PipelineParams::default());
    let params = pipeline.params().clone();
    let offered: Vec<Offered> = raw_workload()
        .iter()
        .map(|r| {
            let mut outputs = Vec::new();
            let mut ping = None;
            pipeline.push_observed(r, &mut outputs, |_, ts, value| {
                if let InputValue::Customer(c) = value {
                    ping = Some((c.clone(), ts));
                }
            });
            (outputs, ping)
        })
        .collect();
    let mut group = c.benchmark_group("notify");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(5));
    group.throughput(Throughput::Elements(offered.len() as u64));
    for rule in NotifyRule::ALL {
        group.bench_function(rule.name(), |b| {
            b.iter_batched(
                || {
                    let notify = NotifyParams {
                        rule,
                        ..NotifyParams::default()
                    };
                    Notifier::new(notify, params.radius_ft, params.km_to_ft)
                },
                |mut notifier| {
                    let mut sent = 0;
                    for (outputs, ping) in &offered {
                        // As `instore run` calls it: the ping announced, then its outputs.
                        if let Some((customer, ts)) = ping {
                            notifier.expect_ping(customer, *ts);
                            notifier.prefetch_expected();
                        }
                        sent += notifier.on_record(outputs, ping.as_ref()).len();
                    }
                    (notifier, sent)
                },
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, pings, end_to_end, notify);
criterion_main!(benches);
