//! Parity with the original pipeline's semantics on the shared sample (computed independently
//! by a SQL implementation), in both decimal policies, in order and shuffled.

mod support;

use instore::engine::{DecimalPolicy, PipelineParams, RejectReason, Topic};
use support::{assert_same_rows, data, expected_rows, nearby_rows, run_dump};

fn params(policy: DecimalPolicy) -> PipelineParams {
    PipelineParams {
        decimal_policy: policy,
        ..PipelineParams::default()
    }
}

fn check(dump: &str, policy: DecimalPolicy, expected: &str) {
    let (outputs, pipeline) = run_dump(&data(dump), params(policy));
    let got = nearby_rows(&outputs);
    let want = expected_rows(&data(expected));
    // The expected distances are rounded to 0.01 ft.
    assert_same_rows(&got, &want, 0.005 + 1e-9);
    let stats = pipeline.stats();
    assert_eq!(
        stats.topic(Topic::NearbyCustomers).records as usize,
        want.len()
    );
}

#[test]
fn round_policy_in_timestamp_order() {
    check(
        "parity/sample-1.jsonl",
        DecimalPolicy::Round,
        "parity/expected-round.tsv",
    );
}

#[test]
fn round_policy_out_of_order() {
    check(
        "parity/sample-1-shuffled.jsonl",
        DecimalPolicy::Round,
        "parity/expected-round.tsv",
    );
}

#[test]
fn strict_policy_in_timestamp_order() {
    check(
        "parity/sample-1.jsonl",
        DecimalPolicy::Strict,
        "parity/expected-strict.tsv",
    );
}

#[test]
fn strict_policy_out_of_order() {
    check(
        "parity/sample-1-shuffled.jsonl",
        DecimalPolicy::Strict,
        "parity/expected-strict.tsv",
    );
}

#[test]
fn the_six_malformed_records_are_counted_by_topic_and_reason() {
    let (_, pipeline) = run_dump(&data("parity/sample-1.jsonl"), params(DecimalPolicy::Round));
    let rejects = &pipeline.stats().rejects;
    assert_eq!(rejects.total(), 6);
    assert_eq!(
        rejects.count("customers_locations", RejectReason::InvalidJson),
        1
    );
    assert_eq!(
        rejects.count("customers_locations", RejectReason::NotAnObject),
        1
    );
    assert_eq!(
        rejects.count("stores_products", RejectReason::InvalidJson),
        1
    );
    assert_eq!(
        rejects.count("products_promotions", RejectReason::NotAnObject),
        1
    );
    for topic in Topic::INPUTS {
        assert_eq!(pipeline.stats().topic(topic).rejected, 2, "{topic}");
        assert_eq!(pipeline.stats().topic(topic).late, 0, "{topic}");
    }
    // Each kind keeps the refused value for the operator.
    let (_, _, entry) = rejects
        .iter()
        .find(|(t, r, _)| *t == "stores_products" && *r == RejectReason::InvalidJson)
        .expect("stores_products invalid JSON");
    assert_eq!(entry.samples[0].raw, "not json at all");
}

#[test]
fn strict_rejects_every_record_with_more_than_five_decimals() {
    let (_, round) = run_dump(&data("parity/sample-1.jsonl"), params(DecimalPolicy::Round));
    let (_, strict) = run_dump(
        &data("parity/sample-1.jsonl"),
        params(DecimalPolicy::Strict),
    );
    let scale_rejects: u64 = strict
        .stats()
        .rejects
        .iter()
        .filter(|(_, r, _)| matches!(r, RejectReason::DecimalScale { .. }))
        .map(|(_, _, e)| e.count)
        .sum();
    assert!(scale_rejects > 0);
    assert_eq!(
        strict.stats().rejects.total(),
        round.stats().rejects.total() + scale_rejects
    );
}
