//! Every clause of the join semantics (issue 2), one test each, through the public facade.

use std::borrow::Cow;

use super::output::Output;
use super::params::{PipelineParams, PromotionMatchKey};
use super::pipeline::Pipeline;
use super::reject::RejectReason;
use super::topic::{RawRecord, Topic};

const HOUR: i64 = 3_600_000;
const MIN: i64 = 60_000;
/// A base time away from zero so windows can reach back.
const T0: i64 = 1_764_144_000_000;

fn rec(topic: Topic, ts_ms: i64, payload: &str) -> RawRecord<'static> {
    RawRecord {
        topic: Cow::Borrowed(topic.name()),
        timestamp_ms: Some(ts_ms),
        payload: Some(payload.to_owned().into()),
        ..RawRecord::default()
    }
}

fn product(ts_ms: i64, sku: i64, segment: &str, lat: &str, lon: &str) -> RawRecord<'static> {
    rec(
        Topic::StoresProducts,
        ts_ms,
        &format!(
            r#"{{"sku": {sku}, "segment": "{segment}", "variant": "V1", "latitude": {lat}, "longitude": {lon}, "country": "USA"}}"#
        ),
    )
}

fn promotion(ts_ms: i64, pid: &str, sku: i64, segment: &str) -> RawRecord<'static> {
    rec(
        Topic::ProductsPromotions,
        ts_ms,
        &format!(r#"{{"pid": "{pid}", "sku": {sku}, "segment": "{segment}"}}"#),
    )
}

fn ping(ts_ms: i64, uid: &str, lat: &str, lon: &str) -> RawRecord<'static> {
    rec(
        Topic::CustomersLocations,
        ts_ms,
        &format!(r#"{{"uid": "{uid}", "latitude": {lat}, "longitude": {lon}, "country": "USA"}}"#),
    )
}

/// Runs records in order; returns (VALID_PROMOTIONS timestamps, NEARBY (uid, pid, ts)) and the
/// pipeline.
struct Run {
    pipeline: Pipeline,
    outputs: Vec<Output>,
}

impl Run {
    fn new(params: PipelineParams) -> Self {
        Self {
            pipeline: Pipeline::new(params),
            outputs: Vec::new(),
        }
    }

    fn push(&mut self, records: &[RawRecord<'_>]) -> &mut Self {
        for r in records {
            self.pipeline.push(r, &mut self.outputs);
        }
        self
    }

    fn valid_ts(&self) -> Vec<i64> {
        self.outputs
            .iter()
            .filter(|o| o.topic() == Topic::ValidPromotions)
            .map(Output::timestamp_ms)
            .collect()
    }

    fn nearby(&self) -> Vec<(String, String, i64)> {
        self.outputs
            .iter()
            .filter_map(|o| match o {
                Output::NearbyCustomer(n) => Some((
                    n.customer.uid.as_deref().unwrap_or("").to_owned(),
                    n.valid.promotion.pid.as_deref().unwrap_or("").to_owned(),
                    n.timestamp_ms,
                )),
                Output::ValidPromotion(_) => None,
            })
            .collect()
    }

    fn late(&self, topic: Topic) -> u64 {
        self.pipeline.stats().topic(topic).late
    }
}

fn default_run() -> Run {
    Run::new(PipelineParams::default())
}

#[test]
fn promotion_window_is_one_hour_inclusive_on_both_sides() {
    let mut run = default_run();
    run.push(&[
        product(T0, 1, "A", "41.88696", "-87.59927"),
        promotion(T0 + HOUR, "in-after", 1, "A"),
        promotion(T0 + HOUR + 1, "out-after", 1, "A"),
        promotion(T0 - HOUR, "in-before", 1, "A"),
        promotion(T0 - HOUR - 1, "out-before", 1, "A"),
    ]);
    // Output timestamp is max(s.ts, p.ts).
    assert_eq!(run.valid_ts(), [T0 + HOUR, T0]);
}

#[test]
fn promotion_arriving_first_joins_products_arriving_later() {
    let mut run = default_run();
    run.push(&[
        promotion(T0, "p", 1, "A"),
        product(T0 + HOUR, 1, "A", "41.88696", "-87.59927"),
        product(T0 + HOUR + 1, 2, "A", "41.88696", "-87.59927"),
    ]);
    assert_eq!(run.valid_ts(), [T0 + HOUR]);
}

#[test]
fn customer_window_is_thirty_minutes_inclusive_on_both_sides() {
    let mut run = default_run();
    run.push(&[
        ping(T0 - 30 * MIN - 1, "out-before", "41.88696", "-87.59927"),
        ping(T0 - 30 * MIN, "in-before", "41.88696", "-87.59927"),
        product(T0, 1, "A", "41.88696", "-87.59927"),
        promotion(T0, "p", 1, "A"),
        ping(T0 + 30 * MIN, "in-after", "41.88696", "-87.59927"),
        ping(T0 + 30 * MIN + 1, "out-after", "41.88696", "-87.59927"),
    ]);
    assert_eq!(
        run.nearby(),
        [
            ("in-before".to_owned(), "p".to_owned(), T0),
            ("in-after".to_owned(), "p".to_owned(), T0 + 30 * MIN),
        ]
    );
}

#[test]
fn geofence_is_radius_ft_inclusive_by_distance() {
    // 0.00027° of latitude ≈ 98.5 ft; 0.00028° ≈ 102.2 ft.
    let mut run = default_run();
    run.push(&[
        product(T0, 1, "A", "41.88696", "-87.59927"),
        promotion(T0, "p", 1, "A"),
        ping(T0, "inside", "41.88723", "-87.59927"),
        ping(T0, "outside", "41.88724", "-87.59927"),
        ping(T0, "south-inside", "41.88669", "-87.59927"),
    ]);
    let uids: Vec<_> = run.nearby().into_iter().map(|(u, _, _)| u).collect();
    assert_eq!(uids, ["inside", "south-inside"]);
    let Output::NearbyCustomer(n) = run.outputs.last().unwrap() else {
        panic!("last output is not NEARBY_CUSTOMERS")
    };
    assert!(
        (n.dist_to_store_ft - 98.5).abs() < 0.1,
        "{}",
        n.dist_to_store_ft
    );
}

#[test]
fn radius_parameter_changes_the_geofence() {
    let params = PipelineParams {
        radius_ft: 50.0,
        ..PipelineParams::default()
    };
    let mut run = Run::new(params);
    run.push(&[
        product(T0, 1, "A", "41.88696", "-87.59927"),
        promotion(T0, "p", 1, "A"),
        ping(T0, "at-36ft", "41.88706", "-87.59927"),
        ping(T0, "at-73ft", "41.88716", "-87.59927"),
    ]);
    let uids: Vec<_> = run.nearby().into_iter().map(|(u, _, _)| u).collect();
    assert_eq!(uids, ["at-36ft"]);
}

#[test]
fn late_records_are_counted_not_joined() {
    // Default retention of join 1 is 2·1 h + 22 h = 24 h.
    let mut run = default_run();
    run.push(&[
        product(T0, 1, "A", "41.88696", "-87.59927"),
        product(T0 + 24 * HOUR, 2, "B", "41.88696", "-87.59927"),
        // Exactly at the cutoff: not late, joins the product at T0 (1 h apart).
        promotion(T0, "edge", 1, "A"),
        // One ms older than the cutoff: late.
        promotion(T0 - 1, "late", 1, "A"),
    ]);
    assert_eq!(run.valid_ts(), [T0]);
    assert_eq!(run.late(Topic::ProductsPromotions), 1);
    assert_eq!(run.late(Topic::StoresProducts), 0);
}

#[test]
fn buffered_records_expire_once_stream_time_passes_retention() {
    let mut run = default_run();
    run.push(&[
        product(T0, 1, "A", "41.88696", "-87.59927"),
        product(T0 + 24 * HOUR + 1, 2, "B", "41.88696", "-87.59927"),
        // Not late (≥ stream time − 24 h) and within 1 h of the first product, but that
        // product expired when stream time passed T0 + 24 h.
        promotion(T0 + 1, "p", 1, "A"),
    ]);
    assert!(run.valid_ts().is_empty());
    assert_eq!(run.late(Topic::ProductsPromotions), 0);
}

#[test]
fn grace_is_configurable() {
    let params = PipelineParams {
        promotion_grace_ms: Some(0),
        ..PipelineParams::default()
    };
    let mut run = Run::new(params);
    run.push(&[
        product(T0 + 2 * HOUR, 2, "B", "41.88696", "-87.59927"),
        promotion(T0, "edge", 1, "A"),
        promotion(T0 - 1, "late", 1, "A"),
    ]);
    assert_eq!(run.late(Topic::ProductsPromotions), 1);
}

#[test]
fn stream_time_is_per_join() {
    // A ping a day ahead moves join 2's stream time, not join 1's.
    let mut run = default_run();
    run.push(&[
        ping(T0 + 48 * HOUR, "future", "41.88696", "-87.59927"),
        product(T0, 1, "A", "41.88696", "-87.59927"),
        promotion(T0, "p", 1, "A"),
    ]);
    assert_eq!(run.valid_ts(), [T0]);
    // ... but the VALID_PROMOTIONS record it makes is late for join 2.
    assert_eq!(run.late(Topic::ValidPromotions), 1);
    assert_eq!(run.late(Topic::StoresProducts), 0);
}

#[test]
fn null_keys_never_match() {
    let mut run = default_run();
    run.push(&[
        rec(Topic::StoresProducts, T0, r#"{"sku": 1, "segment": null, "latitude": 41.88696, "longitude": -87.59927, "country": "USA"}"#),
        rec(Topic::ProductsPromotions, T0, r#"{"pid": "p-null", "sku": 1, "segment": null}"#),
        rec(Topic::ProductsPromotions, T0, r#"{"pid": "p-missing", "sku": 1}"#),
    ]);
    assert!(run.valid_ts().is_empty());

    let mut run = default_run();
    run.push(&[
        product(T0, 1, "A", "41.88696", "-87.59927"),
        promotion(T0, "p", 1, "A"),
        rec(Topic::CustomersLocations, T0, r#"{"uid": "no-country", "latitude": 41.88696, "longitude": -87.59927}"#),
        rec(Topic::CustomersLocations, T0, r#"{"uid": "no-lat", "latitude": null, "longitude": -87.59927, "country": "USA"}"#),
        rec(Topic::CustomersLocations, T0, r#"{"uid": "other-country", "latitude": 41.88696, "longitude": -87.59927, "country": "usa"}"#),
    ]);
    assert_eq!(run.valid_ts().len(), 1);
    assert!(run.nearby().is_empty());
}

#[test]
fn segment_equality_is_case_sensitive() {
    let mut run = default_run();
    run.push(&[
        product(T0, 1, "SegmentA", "41.88696", "-87.59927"),
        promotion(T0, "p", 1, "segmenta"),
    ]);
    assert!(run.valid_ts().is_empty());
}

#[test]
fn duplicates_join_once_per_pair_of_records() {
    let mut run = default_run();
    let p = product(T0, 1, "A", "41.88696", "-87.59927");
    let c = ping(T0, "u", "41.88696", "-87.59927");
    run.push(&[p.clone(), p, promotion(T0, "p", 1, "A"), c.clone(), c]);
    assert_eq!(run.valid_ts().len(), 2);
    // 2 valid promotions × 2 identical pings.
    assert_eq!(run.nearby().len(), 4);
}

#[test]
fn outputs_are_keyed_and_named_like_ksqldb() {
    let mut run = default_run();
    run.push(&[
        product(T0, 1006, "SegmentA", "41.88696", "-87.59927"),
        rec(Topic::ProductsPromotions, T0 + 5, r#"{"pid": "p1", "sku": 1064, "segment": "SegmentA", "discount_pct": 15, "title": "Fall"}"#),
        ping(T0 + 10, "u1", "41.88700", "-87.59927"),
    ]);
    let valid = &run.outputs[0];
    assert_eq!(valid.key(), Some("p1"));
    assert_eq!(
        valid.payload_json(),
        r#"{"LATITUDE":41.88696,"LONGITUDE":-87.59927,"COUNTRY":"USA","SEGMENT":"SegmentA","PID":"p1","SKU":1006,"VARIANT":"V1","DISCOUNT_PCT":15,"TITLE":"Fall"}"#
    );
    let nearby = &run.outputs[1];
    assert_eq!(nearby.topic(), Topic::NearbyCustomers);
    assert_eq!(nearby.key(), Some("u1"));
    assert_eq!(nearby.timestamp_ms(), T0 + 10);
    let value: serde_json::Value = serde_json::from_str(&nearby.payload_json()).unwrap();
    assert_eq!(value["UID"], "u1");
    assert_eq!(value["PID"], "p1");
    assert_eq!(value["SKU"], 1006);
    assert_eq!(value["SEGMENT"], "SegmentA");
    assert_eq!(value["LATITUDE"].to_string(), "41.887");
    assert_eq!(value["PRODUCT_LATITUDE"].to_string(), "41.88696");
    let dist = value["DIST_TO_STORE"].as_f64().unwrap();
    assert!((dist - 14.59).abs() < 0.01, "{dist}");
}

#[test]
fn match_key_sku_promotes_only_that_product() {
    let params = PipelineParams {
        match_key: PromotionMatchKey::Sku,
        ..PipelineParams::default()
    };
    let mut run = Run::new(params);
    run.push(&[
        product(T0, 1, "A", "41.88696", "-87.59927"),
        product(T0, 2, "A", "41.88696", "-87.59927"),
        promotion(T0, "p", 2, "B"),
    ]);
    assert_eq!(run.valid_ts().len(), 1);
    let Output::ValidPromotion(v) = &run.outputs[0] else {
        panic!("not a valid promotion")
    };
    assert_eq!(v.product.sku, Some(2));
}

#[test]
fn match_key_sku_or_segment_falls_back_to_the_segment() {
    let params = PipelineParams {
        match_key: PromotionMatchKey::SkuOrSegment,
        ..PipelineParams::default()
    };
    let mut run = Run::new(params);
    run.push(&[
        product(T0, 1, "A", "41.88696", "-87.59927"),
        product(T0, 2, "A", "41.88696", "-87.59927"),
        // SKU 2 exists: only that product.
        promotion(T0, "by-sku", 2, "A"),
        // SKU 99 does not: the whole segment.
        promotion(T0, "by-segment", 99, "A"),
    ]);
    assert_eq!(run.valid_ts().len(), 3);
    // A product arriving later joins each promotion the way it was decided.
    run.push(&[product(T0 + 1, 2, "A", "41.88696", "-87.59927")]);
    assert_eq!(run.valid_ts().len(), 5);
}

#[test]
fn envelope_problems_are_counted_by_reason() {
    let mut run = default_run();
    let mut no_ts = product(T0, 1, "A", "1", "1");
    no_ts.timestamp_ms = None;
    let mut negative_ts = product(T0, 1, "A", "1", "1");
    negative_ts.timestamp_ms = Some(-1);
    let mut tombstone = product(T0, 1, "A", "1", "1");
    tombstone.payload = None;
    let mut unknown = product(T0, 1, "A", "1", "1");
    unknown.topic = Cow::Borrowed("NEARBY_CUSTOMERS");
    run.push(&[no_ts, negative_ts, tombstone, unknown]);
    let rejects = &run.pipeline.stats().rejects;
    assert_eq!(
        rejects.count("stores_products", RejectReason::NoTimestamp),
        2
    );
    assert_eq!(rejects.count("stores_products", RejectReason::NullValue), 1);
    assert_eq!(
        rejects.count("NEARBY_CUSTOMERS", RejectReason::NotAnInputTopic),
        1
    );
    assert_eq!(
        run.pipeline.stats().topic(Topic::StoresProducts).rejected,
        3
    );
    assert!(run.outputs.is_empty());
}

#[test]
fn matches_across_the_antimeridian() {
    let mut run = default_run();
    run.push(&[
        product(T0, 1, "A", "10.00000", "179.99999"),
        promotion(T0, "p", 1, "A"),
        ping(T0, "u", "10.00000", "-179.99999"),
    ]);
    assert_eq!(run.nearby().len(), 1);
}

/// A radius change mid-run, primed with the kept inputs, behaves like a pipeline that had the
/// new radius from the start; the counters carry on.
#[test]
fn reconfigure_primes_new_joins_and_keeps_counters() {
    use super::record::InputValue;
    let early = [
        product(T0, 1, "A", "41.88000", "-87.62000"),
        promotion(T0 + MIN, "p1", 1, "A"),
    ];
    // 95 ft away: matches at 100 ft, not at 50 ft.
    let late_ping = ping(T0 + 2 * MIN, "u1", "41.88026", "-87.62000");
    let mut kept: Vec<(Topic, i64, InputValue)> = Vec::new();
    let mut live = Pipeline::new(PipelineParams::default());
    let mut out = Vec::new();
    for r in &early {
        live.push_observed(r, &mut out, |topic, ts, value| {
            kept.push((topic, ts, value.clone()))
        });
    }
    assert!(kept
        .iter()
        .all(|(_, _, v)| !matches!(v, InputValue::Customer(_))));
    let narrow = PipelineParams {
        radius_ft: 50.0,
        ..PipelineParams::default()
    };
    let mut replayed = Vec::new();
    live.reconfigure(narrow.clone(), kept.clone(), &mut |part| {
        replayed.append(part)
    });
    assert_eq!(live.params().radius_ft, 50.0);
    assert_eq!(
        replayed
            .iter()
            .filter(|o| o.topic() == Topic::ValidPromotions)
            .count(),
        1,
        "the replay rebuilt the valid promotion"
    );
    assert_eq!(
        live.stats().topic(Topic::StoresProducts).records,
        1,
        "not counted twice"
    );
    assert_eq!(live.stats().topic(Topic::ValidPromotions).records, 1);
    out.clear();
    live.push(&late_ping, &mut out);
    assert!(out.is_empty(), "95 ft is outside 50 ft");
    // Widening again brings the match back for the next ping.
    live.reconfigure(PipelineParams::default(), kept, &mut |part| {
        replayed.append(part)
    });
    live.push(&ping(T0 + 3 * MIN, "u1", "41.88026", "-87.62000"), &mut out);
    assert_eq!(out.len(), 1);
    assert_eq!(live.stats().topic(Topic::CustomersLocations).records, 2);
}

/// A ping that waited in the join (stored compactly, its uid as an id) comes out as the very
/// customer it was decoded as, at the distance its own arrival would have computed.
#[test]
fn a_buffered_ping_comes_out_as_it_was_decoded() {
    let records = [
        ping(1_000, "u-\u{e9}\\\"1", "41.886925", "-87.599275"),
        product(2_000, 7, "A", "41.88696", "-87.59927"),
        promotion(3_000, "p1", 7, "A"),
    ];
    let mut ping_first = default_run();
    ping_first.push(&records);
    let mut ping_last = default_run();
    ping_last.push(&[records[1].clone(), records[2].clone(), records[0].clone()]);
    let nearby = |run: &Run| {
        run.outputs
            .iter()
            .find_map(|o| match o {
                Output::NearbyCustomer(n) => Some(n.clone()),
                Output::ValidPromotion(_) => None,
            })
            .expect("a match")
    };
    let (buffered, arriving) = (nearby(&ping_first), nearby(&ping_last));
    assert_eq!(*buffered.customer, *arriving.customer);
    assert_eq!(buffered.customer.uid.as_deref(), Some("u-\u{e9}\"1"));
    assert_eq!(
        buffered.dist_to_store_ft.to_bits(),
        arriving.dist_to_store_ft.to_bits()
    );
}

/// Uid ids of pings that left the window are reused; pings still buffered keep theirs.
#[test]
fn uid_ids_are_reused_without_mixing_up_shoppers() {
    let mut run = Run::new(PipelineParams {
        customer_window_ms: 1_000,
        customer_grace_ms: Some(0),
        ..PipelineParams::default()
    });
    // Thousands of one-ping shoppers pass (and expire), then two wait by a shelf.
    let passers: Vec<RawRecord<'static>> = (0..10_000)
        .map(|i| ping(i, &format!("passer-{i}"), "10.0", "10.0"))
        .collect();
    run.push(&passers);
    run.push(&[
        ping(50_000, "stays-a", "41.88696", "-87.59927"),
        ping(50_001, "stays-b", "41.88697", "-87.59927"),
    ]);
    run.push(
        &(0..10_000)
            .map(|i| ping(50_002 + i % 500, &format!("late-{i}"), "10.0", "10.0"))
            .collect::<Vec<_>>(),
    );
    run.push(&[
        product(50_600, 7, "A", "41.88696", "-87.59927"),
        promotion(50_600, "p1", 7, "A"),
    ]);
    let mut uids: Vec<String> = run.nearby().into_iter().map(|(u, _, _)| u).collect();
    uids.sort();
    assert_eq!(uids, ["stays-a", "stays-b"]);
}

/// A state-memory budget gives up the oldest pings, as a smaller grace would: records in
/// order still give every output, the run says what it cost, and a record older than what
/// was kept is counted late instead of joining half of what it would have.
#[test]
fn a_memory_budget_sheds_the_oldest_state_like_a_smaller_grace() {
    // Forty thousand pings, one a second, by a shelf whose promotion comes at the end.
    let pings: Vec<RawRecord<'static>> = (0..40_000)
        .map(|i| ping(i * 1_000, &format!("u{}", i % 500), "41.88696", "-87.59927"))
        .collect();
    let tail = [
        product(40_000_000, 7, "A", "41.88696", "-87.59927"),
        promotion(40_000_000, "p1", 7, "A"),
    ];
    let mut free = default_run();
    free.push(&pings).push(&tail);
    let mut budgeted = Run::new(PipelineParams {
        state_memory_bytes: Some(200_000),
        ..PipelineParams::default()
    });
    budgeted.push(&pings).push(&tail);
    assert_eq!(
        budgeted.nearby(),
        free.nearby(),
        "in order: every output kept"
    );
    assert_eq!(
        free.nearby().len(),
        1_800,
        "the 30 minutes before the promotion"
    );
    let shed = budgeted
        .pipeline
        .memory_shed()
        .expect("the budget was reached");
    assert_eq!(shed.budget_bytes, 200_000);
    assert!(
        shed.kept_ms < 24 * 3_600_000 && shed.kept_ms > 0,
        "{shed:?}"
    );
    let state = budgeted.pipeline.state_size();
    assert!(
        state.customers < free.pipeline.state_size().customers / 4,
        "{state:?}"
    );
    // A ping older than what was kept is late now; without the budget it is not.
    let old = ping(shed.floor_ms - 1, "old", "41.88696", "-87.59927");
    budgeted.push(std::slice::from_ref(&old));
    free.push(std::slice::from_ref(&old));
    assert_eq!(budgeted.late(Topic::CustomersLocations), 1);
    assert_eq!(free.late(Topic::CustomersLocations), 0);
}

/// Records taken with a NULL where a join needs a value are counted as unmatchable, by
/// topic and under the match key in force; a late one counts as late only.
#[test]
fn records_that_can_never_reach_a_shopper_are_counted() {
    let unmatchable = |run: &Run, topic| run.pipeline.stats().topic(topic).unmatchable;
    let mut run = default_run();
    run.push(&[
        product(T0, 1, "A", "41.0", "-87.6"),
        rec(
            Topic::StoresProducts,
            T0,
            r#"{"sku": 2, "latitude": 41.0, "longitude": -87.6, "country": "USA"}"#,
        ),
        rec(
            Topic::StoresProducts,
            T0,
            r#"{"sku": 3, "segment": "A", "country": "USA"}"#,
        ),
        promotion(T0, "p1", 1, "A"),
        rec(Topic::ProductsPromotions, T0, r#"{"pid": "p2", "sku": 1}"#),
        ping(T0 + MIN, "u1", "41.0", "-87.6"),
        // Another retailer's field names: taken, with NULL coordinates.
        rec(
            Topic::CustomersLocations,
            T0 + MIN,
            r#"{"uid": "u2", "lat": 41.0, "lon": -87.6, "country": "USA"}"#,
        ),
        rec(
            Topic::CustomersLocations,
            T0 + MIN,
            r#"{"uid": "u3", "latitude": 41.0, "longitude": -87.6}"#,
        ),
    ]);
    assert_eq!(unmatchable(&run, Topic::StoresProducts), 2);
    assert_eq!(unmatchable(&run, Topic::ProductsPromotions), 1);
    assert_eq!(unmatchable(&run, Topic::CustomersLocations), 2);
    assert_eq!(run.nearby().len(), 1, "the complete ping still matches");
    // Far behind stream time: late, not unmatchable as well.
    run.push(&[rec(
        Topic::CustomersLocations,
        T0 - 48 * HOUR,
        r#"{"uid": "u4"}"#,
    )]);
    assert_eq!(run.late(Topic::CustomersLocations), 1);
    assert_eq!(unmatchable(&run, Topic::CustomersLocations), 2);
    // By SKU, a promotion without a segment can match; one without a SKU cannot.
    let mut by_sku = Run::new(PipelineParams {
        match_key: PromotionMatchKey::Sku,
        ..PipelineParams::default()
    });
    by_sku.push(&[
        rec(Topic::ProductsPromotions, T0, r#"{"pid": "p2", "sku": 1}"#),
        rec(
            Topic::ProductsPromotions,
            T0,
            r#"{"pid": "p3", "segment": "A"}"#,
        ),
    ]);
    assert_eq!(unmatchable(&by_sku, Topic::ProductsPromotions), 1);
}
