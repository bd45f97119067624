//! Property tests: the indexed pipeline equals the brute-force reference on random inputs, and
//! its output multiset does not depend on arrival order within grace.

use proptest::prelude::*;

use super::decimal::Decimal5;
use super::output::Output;
use super::params::{PipelineParams, PromotionMatchKey};
use super::pipeline::Pipeline;
use super::record::{Customer, InputValue, Product, Promotion};
use super::reference::ReferencePipeline;
use super::topic::Topic;

/// Places where edge cases live: a store, the antimeridian, near the pole, the southern sky.
const ANCHORS: [(i64, i64); 4] = [
    (4_188_696, -8_759_927),
    (1_000_000, 17_999_990),
    (8_999_990, 0),
    (-3_386_000, 15_120_000),
];

fn coordinate(anchor: i64, offset: i64, limit: i64) -> Option<Decimal5> {
    Decimal5::from_units((anchor + offset).clamp(-limit, limit))
}

/// An optional lat/lon around one anchor, ±40 units of 10⁻⁵° (about ±145 ft).
fn position() -> impl Strategy<Value = (Option<Decimal5>, Option<Decimal5>)> {
    (0..ANCHORS.len() + 3, -40i64..=40, -40i64..=40, 0..20u8).prop_map(|(a, dlat, dlon, null)| {
        // Half of all records at the first anchor, so matches are common.
        let (lat, lon) = ANCHORS[a.saturating_sub(3)];
        // Wrap longitude past ±180 so both sides of the antimeridian occur.
        let mut lon = lon + dlon;
        if lon > 18_000_000 {
            lon -= 36_000_000;
        }
        let lat = coordinate(lat, dlat, 9_000_000);
        let lon = coordinate(lon, 0, 18_000_000);
        match null {
            0 => (None, lon),
            1 => (lat, None),
            _ => (lat, lon),
        }
    })
}

fn maybe<T: Clone + std::fmt::Debug + 'static>(
    values: &'static [T],
) -> impl Strategy<Value = Option<T>> {
    (0..=values.len()).prop_map(move |i| values.get(i).cloned())
}

fn text(values: &'static [&'static str]) -> impl Strategy<Value = Option<std::sync::Arc<str>>> {
    maybe(values).prop_map(|v| v.map(std::sync::Arc::from))
}

fn input_value() -> impl Strategy<Value = (Topic, InputValue)> {
    let country = || text(&["USA", "USA", "CAN"]);
    let customer = (text(&["u1", "u2", "u3"]), position(), country()).prop_map(
        |(uid, (latitude, longitude), country)| {
            (
                Topic::CustomersLocations,
                InputValue::Customer(Customer {
                    uid,
                    latitude,
                    longitude,
                    country,
                    ..Customer::default()
                }),
            )
        },
    );
    let product = (
        maybe(&[1i64, 2, 3]),
        text(&["A", "B", "a"]),
        position(),
        country(),
    )
        .prop_map(|(sku, segment, (latitude, longitude), country)| {
            (
                Topic::StoresProducts,
                InputValue::Product(Product {
                    sku,
                    segment,
                    variant: Some("V".into()),
                    latitude,
                    longitude,
                    country,
                    ..Product::default()
                }),
            )
        });
    let promotion = (text(&["p1", "p2"]), maybe(&[1i64, 2, 9]), text(&["A", "B"])).prop_map(
        |(pid, sku, segment)| {
            (
                Topic::ProductsPromotions,
                InputValue::Promotion(Promotion {
                    pid,
                    sku,
                    segment,
                    ..Promotion::default()
                }),
            )
        },
    );
    prop_oneof![3 => customer, 2 => product, 1 => promotion]
}

/// Short windows (seconds) so that windows, grace, lateness and expiry all come into play.
fn params() -> impl Strategy<Value = PipelineParams> {
    (
        1_000i64..8_000,
        500i64..5_000,
        0i64..4_000,
        0i64..4_000,
        0.0f64..250.0,
        prop_oneof![
            Just(PromotionMatchKey::Segment),
            Just(PromotionMatchKey::Sku),
            Just(PromotionMatchKey::SkuOrSegment)
        ],
    )
        .prop_map(|(pw, cw, pg, cg, radius_ft, match_key)| PipelineParams {
            promotion_window_ms: pw,
            promotion_grace_ms: Some(pg),
            customer_window_ms: cw,
            customer_grace_ms: Some(cg),
            radius_ft,
            match_key,
            ..PipelineParams::default()
        })
}

/// Records with timestamps over 20 s, in arbitrary arrival order.
fn records() -> impl Strategy<Value = Vec<(i64, Topic, InputValue)>> {
    proptest::collection::vec((0i64..20_000, input_value()), 0..120).prop_map(|v| {
        v.into_iter()
            .map(|(ts, (t, value))| (ts, t, value))
            .collect()
    })
}

/// A comparable form of an output.
fn signature(o: &Output) -> (Topic, i64, Option<String>, String) {
    (
        o.topic(),
        o.timestamp_ms(),
        o.key().map(str::to_owned),
        o.payload_json(),
    )
}

fn run_indexed(params: &PipelineParams, input: &[(i64, Topic, InputValue)]) -> Vec<Output> {
    let mut pipeline = Pipeline::new(params.clone());
    let mut out = Vec::new();
    for (ts, topic, value) in input {
        pipeline.push_value(*topic, *ts, value.clone(), &mut out);
    }
    out
}

fn sorted_signatures(outputs: &[Output]) -> Vec<(Topic, i64, Option<String>, String)> {
    let mut v: Vec<_> = outputs.iter().map(signature).collect();
    v.sort();
    v
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn indexed_pipeline_equals_brute_force(params in params(), input in records()) {
        let indexed = run_indexed(&params, &input);
        let mut reference = ReferencePipeline::new(params.clone());
        let mut expected = Vec::new();
        for (ts, _, value) in &input {
            reference.push_value(*ts, value.clone(), &mut expected);
        }
        prop_assert_eq!(sorted_signatures(&indexed), sorted_signatures(&expected));
    }

    #[test]
    fn arrival_order_within_grace_does_not_change_the_output(
        params in params(),
        input in records(),
        jitter in proptest::collection::vec(0.0f64..=1.0, 120),
    ) {
        // `sku_or_segment` decides on arrival whether a SKU exists: order-dependent by design.
        prop_assume!(params.match_key != PromotionMatchKey::SkuOrSegment);
        let grace = params
            .promotion_window()
            .grace_ms
            .min(params.customer_window().grace_ms);
        let mut in_order = input.clone();
        in_order.sort_by_key(|(ts, _, _)| *ts);
        // Each record arrives by ts + up to `grace`: never more than grace behind stream time.
        let mut shuffled: Vec<_> = input
            .into_iter()
            .enumerate()
            .map(|(i, r)| (r.0 + (jitter[i] * grace as f64) as i64, r))
            .collect();
        shuffled.sort_by_key(|(arrival, _)| *arrival);
        let shuffled: Vec<_> = shuffled.into_iter().map(|(_, r)| r).collect();
        let a = run_indexed(&params, &in_order);
        let b = run_indexed(&params, &shuffled);
        prop_assert_eq!(sorted_signatures(&a), sorted_signatures(&b));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The replay timeline resumes from checkpoints: on input in timestamp order, a pruned
    /// copy taken before any record gives exactly the outputs, in order, and the counters the
    /// uninterrupted pipeline gives.
    #[test]
    fn resuming_a_checkpoint_gives_what_the_uninterrupted_run_gives(
        params in params(),
        input in records(),
        at in 0.0f64..=1.0,
    ) {
        let mut input = input;
        input.sort_by_key(|(ts, _, _)| *ts);
        let split = ((input.len() as f64) * at) as usize;
        let mut whole = Pipeline::new(params.clone());
        let mut whole_out = Vec::new();
        for (ts, topic, value) in &input {
            whole.push_value(*topic, *ts, value.clone(), &mut whole_out);
        }
        let mut first = Pipeline::new(params);
        let mut out = Vec::new();
        for (ts, topic, value) in &input[..split] {
            first.push_value(*topic, *ts, value.clone(), &mut out);
        }
        let mut resumed = first.checkpoint(input.get(split).map(|(ts, _, _)| *ts));
        drop(first);
        for (ts, topic, value) in &input[split..] {
            resumed.push_value(*topic, *ts, value.clone(), &mut out);
        }
        let signatures = |o: &[Output]| o.iter().map(signature).collect::<Vec<_>>();
        prop_assert_eq!(signatures(&out), signatures(&whole_out));
        for topic in Topic::ALL {
            prop_assert_eq!(resumed.stats().topic(topic), whole.stats().topic(topic));
        }
        prop_assert_eq!(resumed.stream_time_ms(), whole.stream_time_ms());
    }
}

/// Guards the generators above: the properties only mean something if random inputs really do
/// produce matches, late records and expiry.
#[test]
fn generated_inputs_exercise_matches_and_lateness() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    let mut runner = TestRunner::deterministic();
    let (mut nearby, mut valid, mut late) = (0, 0, 0);
    for _ in 0..200 {
        let params = params().new_tree(&mut runner).unwrap().current();
        let mut input = records().new_tree(&mut runner).unwrap().current();
        // Mostly in order, with whole blocks arriving late.
        input.sort_by_key(|(ts, _, _)| (*ts / 5_000) * -5_000 + *ts % 5_000 * 4);
        let mut pipeline = Pipeline::new(params);
        let mut out = Vec::new();
        for (ts, topic, value) in input {
            pipeline.push_value(topic, ts, value, &mut out);
        }
        let stats = pipeline.stats();
        nearby += stats.topic(Topic::NearbyCustomers).records;
        valid += stats.topic(Topic::ValidPromotions).records;
        late += Topic::INPUTS
            .iter()
            .map(|t| stats.topic(*t).late)
            .sum::<u64>();
    }
    assert!(valid > 500, "valid promotions: {valid}");
    assert!(nearby > 200, "nearby customers: {nearby}");
    assert!(late > 50, "late records: {late}");
}
