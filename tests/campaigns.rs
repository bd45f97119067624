//! Campaigns with the real binary on simulated traffic: `instore plan`'s forecast equals what
//! `instore run --campaign … --notifications` writes for each variant (one code path), the
//! schedule is laid on the traffic's day, and the report names no shopper.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use instore::io::dump::{DumpLine, DumpReader};
use instore::io::plan::PlanReport;
use support::{instore, stderr};

/// The traffic and the campaign file, in `dir`.
fn traffic_and_campaign(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let campaign = dir.join("winter.json");
    std::fs::write(&campaign, CAMPAIGN).expect("write campaign");
    (traffic(dir), campaign)
}

/// Three hours of two stores, from 09:00 in Chicago on 2026-12-07.
fn traffic(dir: &Path) -> std::path::PathBuf {
    let dump = dir.join("traffic.jsonl");
    let out = instore(&[
        "simulate",
        "--start",
        "2026-12-07T15:00:00Z",
        "--duration",
        "3h",
        "--stores",
        "2",
        "--customers",
        "8",
        "-o",
        dump.to_str().expect("utf-8 path"),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    dump
}

/// Scheduled a week earlier than the traffic, 10:00–11:15 each day (the plan lays it on the
/// traffic's day); a product of each store; variants that change the radius, the stores, the
/// rule and the budget. (Promotions by SKU keep the matches few enough for a debug build.)
const CAMPAIGN: &str = r#"{
  "name": "Winter week",
  "promotions": [
    {"sku": 1000, "segment": "SegmentA", "title": "Winter week", "discount_pct": 15},
    {"pid": "tea-20", "sku": 1120, "segment": "SegmentC", "title": "Tea", "discount_pct": 20,
     "message": "{TITLE}: {DISCOUNT_PCT} % off in {STORE}"}
  ],
  "schedule": {"timezone": "America/Chicago", "start": "2026-11-30T00:00",
               "end": "2026-12-02T00:00", "daily": {"from": "10:00", "to": "11:15"}},
  "radius_ft": 100,
  "match_key": "sku",
  "notify": {"rule": "cooldown", "cap_per_hour": 2},
  "variants": [
    {"name": "as planned"},
    {"name": "30 ft, enter", "radius_ft": 30, "notify": {"rule": "enter"}},
    {"name": "Loop only", "stores": ["Northwind Market Loop"]},
    {"name": "budget 40", "budget": 40}
  ]
}"#;

/// `instore plan` of `campaign` over `dump` with the report and CSV written in `dir`: the
/// report, the CSV's and standard output's texts.
fn plan(dir: &Path, dump: &Path, campaign: &Path) -> (PlanReport, String, String) {
    let (report, csv) = (dir.join("report.json"), dir.join("report.csv"));
    let out = instore(&[
        "plan",
        "--campaign",
        campaign.to_str().expect("utf-8"),
        "-i",
        dump.to_str().expect("utf-8"),
        "--report",
        report.to_str().expect("utf-8"),
        "--csv",
        csv.to_str().expect("utf-8"),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(&report).expect("report");
    (
        serde_json::from_str(&text).expect("the report reads back"),
        text + &std::fs::read_to_string(&csv).expect("csv"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// What a run wrote: NEARBY_CUSTOMERS records, notifications, their shoppers, and
/// notifications by store.
#[derive(Debug, Default)]
struct Written {
    matches: u64,
    notifications: u64,
    reached: BTreeSet<String>,
    per_store: BTreeMap<String, u64>,
    messages: BTreeSet<String>,
}

fn written(path: &Path) -> Written {
    let mut w = Written::default();
    let mut reader = DumpReader::open(path).expect("run output");
    while let Some(line) = reader.next_line().expect("read") {
        let DumpLine::Record(r) = line else {
            panic!("a broken line in the run's output")
        };
        match r.topic.as_ref() {
            "NEARBY_CUSTOMERS" => w.matches += 1,
            "PROMOTION_NOTIFICATIONS" => {
                w.notifications += 1;
                w.reached
                    .insert(r.key.as_deref().expect("keyed by uid").to_owned());
                let text = r.payload_text().expect("payload").into_owned();
                let value: serde_json::Value = serde_json::from_str(&text).expect("json");
                *w.per_store
                    .entry(value["STORE"].as_str().expect("STORE").to_owned())
                    .or_default() += 1;
                w.messages
                    .insert(value["MESSAGE"].as_str().expect("MESSAGE").to_owned());
            }
            _ => {}
        }
    }
    w
}

#[test]
fn the_forecast_of_each_variant_equals_what_its_run_writes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (dump, campaign) = traffic_and_campaign(dir.path());
    let (report, _, _) = plan(dir.path(), &dump, &campaign);
    assert_eq!(report.schedule_shift_days, 7);
    assert_eq!(report.schedule_start, "2026-12-07T00:00-06:00");
    assert_eq!(report.traffic_from, "2026-12-07T09:00-06:00");
    assert!(
        report.traffic_to.starts_with("2026-12-07T11:59"),
        "{}",
        report.traffic_to
    );
    // 10:00, 10:50 on the traffic's day, two promotions; the other day is after the traffic.
    assert_eq!(report.announced, 4);
    assert!(report.input_promotions_left_out > 0);
    assert_eq!(report.variants.len(), 4);
    let planned = &report.variants[0];
    assert!(planned.notifications > 0 && planned.matches > planned.notifications);
    assert!(planned.reached > 0 && planned.reached <= planned.notifications);
    let hours: Vec<&str> = planned.per_hour.iter().map(|h| h.label.as_str()).collect();
    assert_eq!(hours, ["2026-12-07T10:00-06:00", "2026-12-07T11:00-06:00"]);
    assert_eq!(report.variants[3].notifications, 40, "the budget binds");
    assert!(report.variants[3].held_back.budget > 0);
    assert!(
        report.variants[1].matches < planned.matches,
        "a smaller radius"
    );
    assert!(report.variants[1].near_missed >= planned.near_missed);

    for variant in &report.variants {
        let output = dir
            .path()
            .join(format!("run-{}.jsonl", variant.name.replace(' ', "_")));
        let out = instore(&[
            "run",
            "-i",
            dump.to_str().expect("utf-8"),
            "--campaign",
            campaign.to_str().expect("utf-8"),
            "--variant",
            &variant.name,
            "--campaign-shift",
            "auto",
            "--notifications",
            "-o",
            output.to_str().expect("utf-8"),
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(
            stderr(&out).contains("campaign: 4 of 8 announcements fell within the input"),
            "{}",
            stderr(&out)
        );
        let w = written(&output);
        assert_eq!(w.matches, variant.matches, "{}: matches", variant.name);
        assert_eq!(
            w.notifications, variant.notifications,
            "{}: notifications",
            variant.name
        );
        assert_eq!(
            w.reached.len() as u64,
            variant.reached,
            "{}: reached",
            variant.name
        );
        let per_store: BTreeMap<String, u64> = variant
            .per_store
            .iter()
            .filter(|s| s.notifications > 0)
            .map(|s| (s.label.clone(), s.notifications))
            .collect();
        assert_eq!(w.per_store, per_store, "{}: per store", variant.name);
        let by_distance: u64 = variant.distance_ft.iter().map(|b| b.notifications).sum();
        assert_eq!(by_distance, variant.notifications);
        if variant.name == "Loop only" {
            assert_eq!(
                per_store.keys().collect::<Vec<_>>(),
                ["Northwind Market Loop"]
            );
        }
        // The tea promotion (at Lincoln Park) has its own template.
        let tea = w
            .messages
            .iter()
            .any(|m| m == "Tea: 20 % off in Northwind Market Lincoln Park");
        assert_eq!(tea, variant.name != "Loop only", "{:?}", w.messages);
    }
}

#[test]
fn the_forecast_names_no_shopper() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (dump, campaign) = traffic_and_campaign(dir.path());
    let (_, files, stdout) = plan(dir.path(), &dump, &campaign);
    let mut uids = BTreeSet::new();
    let mut reader = DumpReader::open(&dump).expect("dump");
    while let Some(line) = reader.next_line().expect("read") {
        if let DumpLine::Record(r) = line {
            if r.topic == "customers_locations" {
                uids.insert(r.key.as_deref().expect("keyed").to_owned());
            }
        }
    }
    assert!(uids.len() > 10);
    let texts = [files, stdout];
    for text in &texts {
        assert!(text.len() > 200, "the report has content");
        for uid in &uids {
            assert!(!text.contains(uid.as_str()), "{uid} is in a forecast");
        }
    }
}

#[test]
fn a_bad_campaign_file_says_what_is_wrong() {
    let dir = tempfile::tempdir().expect("temp dir");
    let campaign = dir.path().join("bad.json");
    std::fs::write(
        &campaign,
        CAMPAIGN.replace("\"budget\": 40", "\"budjet\": 40"),
    )
    .expect("write");
    let dump = dir.path().join("empty.jsonl");
    std::fs::write(&dump, "").expect("write");
    let out = instore(&[
        "plan",
        "--campaign",
        campaign.to_str().expect("utf-8"),
        "-i",
        dump.to_str().expect("utf-8"),
    ]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("budjet"), "{}", stderr(&out));
}

/// Traffic from standard input can be read only once. A forecast reads its traffic once per
/// variant, and `--campaign-shift auto` reads the first record before the run: both refuse
/// and say why, rather than forecast on what is left.
#[test]
fn traffic_that_can_be_read_only_once_is_refused_where_it_would_be_read_twice() {
    let dir = tempfile::tempdir().expect("temp dir");
    let campaign = dir.path().join("winter.json");
    std::fs::write(&campaign, CAMPAIGN).expect("write campaign");
    let campaign = campaign.to_str().expect("utf-8");
    let dump = dir.path().join("traffic.jsonl");
    std::fs::write(&dump, "").expect("write");
    for args in [
        vec!["plan", "--campaign", campaign, "-i", "-"],
        vec![
            "run",
            "--notifications",
            "--campaign",
            campaign,
            "--campaign-shift",
            "auto",
            "-i",
            "-",
        ],
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_instore"))
            .args(&args)
            .stdin(std::fs::File::open(&dump).expect("open"))
            .output()
            .expect("run instore");
        assert!(!out.status.success(), "{args:?}");
        assert!(
            stderr(&out).contains("- can be read only once (standard input or a pipe)"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
}
