use super::*;
use crate::engine::notify::NotifyRule;
use crate::engine::record::decode_value;
use crate::engine::{DecimalPolicy, InputValue, Topic};

fn campaign() -> Campaign {
    Campaign::from_json(
        r#"{
        "name": "Coffee week!",
        "promotions": [
            {"segment": "Coffee", "title": "Coffee week", "discount_pct": 15},
            {"pid": "beans-20", "sku": 1042, "segment": "Coffee", "discount_pct": 20,
             "message": "{DISCOUNT_PCT} % off beans in {STORE}"}
        ],
        "schedule": {"timezone": "Europe/Berlin", "start": "2026-12-07T09:00",
                     "end": "2026-12-08T17:00", "daily": {"from": "09:00", "to": "17:00"}},
        "budget": 500,
        "notify": {"rule": "enter"},
        "variants": [
            {"name": "100 ft"},
            {"name": "50 ft", "radius_ft": 50},
            {"name": "by SKU, 10 %", "match_key": "sku", "discount_pct": 10}
        ]
    }"#,
    )
    .expect("valid campaign")
}

#[test]
fn a_campaign_file_round_trips_and_absent_fields_take_their_defaults() {
    let c = campaign();
    assert_eq!(c.radius_ft, 100.0);
    assert_eq!(c.reannounce_every_min, DEFAULT_REANNOUNCE_MIN);
    assert_eq!(c.notify.rule, NotifyRule::Enter);
    assert_eq!(
        c.notify.cap_per_hour, 3,
        "the rule's other fields keep their defaults"
    );
    assert!(c.stores.is_empty());
    let again = Campaign::from_json(&c.to_json()).expect("its own text reads back");
    assert_eq!(again, c);
}

#[test]
fn unknown_fields_and_impossible_values_are_refused_in_words() {
    let text = campaign().to_json();
    let misspelt = text.replace("\"budget\"", "\"budjet\"");
    let e = Campaign::from_json(&misspelt).expect_err("unknown field");
    assert!(e.to_string().contains("budjet"), "{e}");
    let cases = [
        ("\"radius_ft\": 100.0", "\"radius_ft\": -5", "radius_ft"),
        ("\"discount_pct\": 15", "\"discount_pct\": 150", "above 100"),
        (
            "\"pid\": \"beans-20\"",
            "\"pid\": \"coffee-week-1\"",
            "used twice",
        ),
        (
            "\"segment\": \"Coffee\"",
            "\"segment\": \" \"",
            "segment is required",
        ),
        (
            "\"name\": \"50 ft\"",
            "\"name\": \"100 ft\"",
            "two variants",
        ),
        (
            "\"reannounce_every_min\": 50",
            "\"reannounce_every_min\": 0",
            "at least 1",
        ),
        (
            "\"timezone\": \"Europe/Berlin\"",
            "\"timezone\": \"Berlin\"",
            "timezone",
        ),
    ];
    for (from, to, says) in cases {
        assert!(text.contains(from), "the fixture has {from}");
        let e = Campaign::from_json(&text.replacen(from, to, 1)).expect_err(to);
        assert!(e.to_string().contains(says), "{to}: {e}");
    }
}

#[test]
fn pids_default_to_the_name_as_a_slug_and_the_promotion_number() {
    let c = campaign();
    assert_eq!(c.pid(0), "coffee-week-1");
    assert_eq!(c.pid(1), "beans-20");
    assert_eq!(slug("  Été 2026: -- -"), "t-2026");
    assert_eq!(slug("!!!"), "campaign");
}

#[test]
fn variants_change_only_what_they_name() {
    let c = campaign();
    let v = c.variants();
    assert_eq!(v.len(), 3);
    assert_eq!(v[0].radius_ft, 100.0);
    assert_eq!(v[0].promotions[1].pid.as_deref(), Some("beans-20"));
    assert_eq!(v[1].radius_ft, 50.0);
    assert_eq!(v[1].budget, Some(500));
    assert_eq!(v[2].match_key, Some(PromotionMatchKey::Sku));
    assert!(v[2].promotions.iter().all(|p| p.discount_pct == Some(10)));
    assert_eq!(v[2].radius_ft, 100.0);
    assert_eq!(c.as_written().name, "Coffee week!");
    let mut five = c.clone();
    five.variants = (0..5)
        .map(|i| VariantChanges {
            name: format!("v{i}"),
            ..VariantChanges::default()
        })
        .collect();
    assert!(five.check().is_err());
}

#[test]
fn announcements_come_at_each_interval_start_then_every_period_until_its_end() {
    let c = campaign();
    let schedule = c.check().expect("valid");
    let a = announcements(&c.as_written(), &schedule, c.reannounce_every_ms());
    // Two 8-hour days, every 50 minutes (0:00, 0:50 … 7:30 — ten a day), two promotions.
    assert_eq!(a.len(), 2 * 10 * 2);
    let first_day_end = "2026-12-07T16:00:00Z";
    assert_eq!(a[0].at_ms, schedule.start_ms());
    assert_eq!(a[0].record.valid_until.as_deref(), Some(first_day_end));
    assert_eq!((a[0].promotion, a[1].promotion), (0, 1));
    assert_eq!(
        a[19].at_ms,
        schedule.start_ms() + 7 * 3_600_000 + 30 * 60_000
    );
    assert_eq!(a[20].at_ms, schedule.start_ms() + 24 * 3_600_000);
    assert_eq!(
        a[20].record.valid_until.as_deref(),
        Some("2026-12-08T16:00:00Z")
    );
    assert!(a.windows(2).all(|w| w[0].at_ms <= w[1].at_ms));
    assert!(a.iter().all(|x| x.record.pid == c.pid(x.promotion)));
}

#[test]
fn an_announcement_is_a_promotion_the_engine_reads_with_its_valid_until() {
    let c = campaign();
    let schedule = c.check().expect("valid");
    let a = &announcements(&c.as_written(), &schedule, c.reannounce_every_ms())[1];
    let value = decode_value(
        Topic::ProductsPromotions,
        &a.record.to_json(),
        DecimalPolicy::Strict,
    )
    .expect("decodes");
    let InputValue::Promotion(p) = value else {
        panic!("a promotion")
    };
    assert_eq!(p.pid.as_deref(), Some("beans-20"));
    assert_eq!(p.sku, Some(1042));
    assert_eq!(p.segment.as_deref(), Some("Coffee"));
    assert_eq!(p.valid_until.as_deref(), Some("2026-12-07T16:00:00Z"));
}

#[test]
fn the_state_follows_start_end_and_whether_the_operator_started_it() {
    let schedule = campaign().check().expect("valid");
    let (start, end) = (schedule.start_ms(), schedule.end_ms());
    assert_eq!(
        CampaignState::at(false, &schedule, start),
        CampaignState::Draft
    );
    assert_eq!(
        CampaignState::at(true, &schedule, start - 1),
        CampaignState::Scheduled
    );
    assert_eq!(
        CampaignState::at(true, &schedule, start),
        CampaignState::Running
    );
    assert_eq!(
        CampaignState::at(true, &schedule, end - 1),
        CampaignState::Running
    );
    assert_eq!(
        CampaignState::at(true, &schedule, end),
        CampaignState::Ended
    );
}

#[test]
fn the_example_campaign_in_assets_is_valid() {
    let c = Campaign::from_json(include_str!("../../../assets/campaigns/coffee-week.json"))
        .expect("the README's example reads");
    assert_eq!(c.variants().len(), 4);
    assert_eq!(c.pid(1), "tea-10");
}
