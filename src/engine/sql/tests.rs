//! Structure of the generated scripts: each parameter lands where it must, in both dialects.
//! (That the Flink script computes instore's rows is tests/flink.rs, on a real Flink; the
//! scripts as a whole are golden files in tests/cli.rs.)

use super::flink::interval;
use super::*;
use crate::engine::DecimalPolicy;

fn export(dialect: SqlDialect, params: PipelineParams) -> String {
    export_sql(&SqlExport {
        dialect,
        connector: SqlConnector::Kafka {
            bootstrap_servers: "broker:9092".into(),
        },
        topics: TopicNames::default(),
        params,
    })
    .expect("script")
}

/// The statement (text up to its `;`) that contains `needle`.
fn statement_with<'a>(script: &'a str, needle: &str) -> &'a str {
    let at = script
        .find(needle)
        .unwrap_or_else(|| panic!("no {needle:?} in\n{script}"));
    let start = script[..at].rfind(";\n").map_or(0, |i| i + 2);
    let end = script[at..]
        .find(";\n")
        .map_or(script.len(), |i| at + i + 1);
    &script[start..end]
}

/// Every field away from its default, each to a value whose text is unmistakable.
fn every_parameter_changed() -> PipelineParams {
    PipelineParams {
        promotion_window_ms: 90_000,
        promotion_grace_ms: Some(600_000),
        customer_window_ms: 1_500,
        customer_grace_ms: Some(0),
        radius_ft: 42.5,
        km_to_ft: 3280.84,
        decimal_policy: DecimalPolicy::Strict,
        match_key: PromotionMatchKey::Sku,
        // Not a SQL parameter: Flink and ksqlDB manage their own state.
        state_memory_bytes: Some(1_000_000),
    }
}

#[test]
fn ksqldb_defaults_are_the_original_pipeline_with_keys_and_uid() {
    let s = export(SqlDialect::Ksqldb, PipelineParams::default());
    let valid = statement_with(&s, "CREATE STREAM VALID_PROMOTIONS");
    assert!(
        valid.contains("WITHIN 1 HOUR GRACE PERIOD 22 HOURS"),
        "{valid}"
    );
    assert!(valid.contains("ON s.segment = p.segment"), "{valid}");
    assert!(valid.contains("PARTITION BY p.pid"), "{valid}");
    assert!(valid.contains("AS_VALUE(p.pid) AS PID"), "{valid}");
    let nearby = statement_with(&s, "CREATE STREAM NEARBY_CUSTOMERS");
    assert!(
        nearby.contains("WITHIN 30 MINUTES GRACE PERIOD 23 HOURS"),
        "{nearby}"
    );
    assert!(nearby.contains("ON c.country = v.COUNTRY"), "{nearby}");
    assert!(nearby.contains("AS_VALUE(c.uid) AS UID"), "{nearby}");
    assert!(nearby.contains("PARTITION BY c.uid"), "{nearby}");
    assert!(
        nearby.contains("'KM') * 3281 <= 100\n"),
        "the radius filter: {nearby}"
    );
    assert!(nearby.contains("'KM') * 3281 AS DIST_TO_STORE"), "{nearby}");
    // `round`: coordinates read as text and cast (half-up) where they are used.
    let customers = statement_with(&s, "CREATE STREAM customers_locations");
    assert!(customers.contains("latitude VARCHAR"), "{customers}");
    assert!(customers.contains("KAFKA_TOPIC = 'customers_locations'"));
    assert!(nearby.contains("CAST(c.latitude AS DECIMAL(10, 5)) AS LATITUDE"));
    assert!(valid.contains("CAST(s.longitude AS DECIMAL(10, 5)) AS LONGITUDE"));
}

#[test]
fn ksqldb_follows_every_parameter() {
    let s = export(SqlDialect::Ksqldb, every_parameter_changed());
    let valid = statement_with(&s, "CREATE STREAM VALID_PROMOTIONS");
    assert!(
        valid.contains("WITHIN 90 SECONDS GRACE PERIOD 10 MINUTES"),
        "{valid}"
    );
    assert!(valid.contains("ON s.sku = p.sku"), "{valid}");
    assert!(
        valid.contains("s.latitude AS LATITUDE"),
        "strict reads DECIMALs: {valid}"
    );
    let nearby = statement_with(&s, "CREATE STREAM NEARBY_CUSTOMERS");
    assert!(
        nearby.contains("WITHIN 1500 MILLISECONDS GRACE PERIOD 0 SECONDS"),
        "{nearby}"
    );
    assert!(nearby.contains("* 3280.84 <= 42.5\n"), "{nearby}");
    assert!(!s.contains("CAST("), "strict has no casts: {s}");
    let customers = statement_with(&s, "CREATE STREAM customers_locations");
    assert!(customers.contains("latitude DECIMAL(10, 5)"), "{customers}");
}

#[test]
fn topic_names_go_to_the_kafka_topics_not_the_stream_names() {
    let mut topics = TopicNames::default();
    topics.set(Topic::CustomersLocations, "customers-locations");
    topics.set(Topic::NearbyCustomers, "nearby.v2");
    for dialect in [SqlDialect::Ksqldb, SqlDialect::Flink] {
        let s = export_sql(&SqlExport {
            dialect,
            connector: SqlConnector::Kafka {
                bootstrap_servers: "b:1".into(),
            },
            topics: topics.clone(),
            params: PipelineParams::default(),
        })
        .unwrap();
        let customers = match dialect {
            SqlDialect::Ksqldb => statement_with(&s, "CREATE STREAM customers_locations ("),
            SqlDialect::Flink => statement_with(&s, "CREATE TABLE `customers_locations` ("),
        };
        assert!(customers.contains("'customers-locations'"), "{customers}");
        assert!(s.contains("'nearby.v2'"), "{s}");
        assert!(!s.contains("'NEARBY_CUSTOMERS'"), "{s}");
    }
}

#[test]
fn flink_follows_every_parameter() {
    let d = export(SqlDialect::Flink, PipelineParams::default());
    let nearby = statement_with(&d, "CREATE TEMPORARY VIEW `nearby_candidates`");
    assert!(nearby.contains(
        "c.`event_time` BETWEEN v.`valid_time` - INTERVAL '30' MINUTE AND v.`valid_time` + INTERVAL '30' MINUTE"
    ));
    assert!(
        nearby.contains("* 6371 * 3281 AS `DIST_TO_STORE`"),
        "{nearby}"
    );
    let pairs = statement_with(&d, "CREATE TEMPORARY VIEW `valid_promotion_pairs`");
    assert!(pairs.contains("ON s.`segment` = p.`segment`"), "{pairs}");
    assert!(pairs.contains("- INTERVAL '1' HOUR AND p.`event_time` + INTERVAL '1' HOUR"));
    let insert = statement_with(&d, "INSERT INTO `NEARBY_CUSTOMERS`");
    assert!(insert.contains("WHERE `DIST_TO_STORE` <= 100;"), "{insert}");
    // Watermarks trail by WITHIN + grace of the join each input feeds.
    let customers = statement_with(&d, "CREATE TABLE `customers_locations`");
    assert!(customers.contains("AS `event_time` - INTERVAL '0 23:30:00.000' DAY(3) TO SECOND(3)"));
    assert!(customers.contains("'properties.bootstrap.servers' = 'broker:9092'"));
    let products = statement_with(&d, "CREATE TABLE `stores_products`");
    assert!(
        products.contains("AS `event_time` - INTERVAL '23' HOUR"),
        "{products}"
    );
    assert!(!d.contains("REGEXP("), "round does not check the scale");

    let s = export(SqlDialect::Flink, every_parameter_changed());
    let nearby = statement_with(&s, "CREATE TEMPORARY VIEW `nearby_candidates`");
    assert!(
        nearby.contains("v.`valid_time` + INTERVAL '0 00:00:01.500' DAY(3) TO SECOND(3)"),
        "{nearby}"
    );
    assert!(nearby.contains("* 6371 * 3280.84 AS"), "{nearby}");
    let pairs = statement_with(&s, "CREATE TEMPORARY VIEW `valid_promotion_pairs`");
    assert!(pairs.contains("ON s.`sku` = p.`sku`"), "{pairs}");
    assert!(pairs.contains("INTERVAL '90' SECOND"), "{pairs}");
    let products = statement_with(&s, "CREATE TABLE `stores_products`");
    assert!(
        products.contains("- INTERVAL '0 00:11:30.000' DAY(3) TO SECOND(3)"),
        "{products}"
    );
    let customers = statement_with(&s, "CREATE TABLE `customers_locations`");
    assert!(customers.contains("- INTERVAL '0 00:00:01.500' DAY(3) TO SECOND(3)"));
    assert!(statement_with(&s, "INSERT INTO `NEARBY_CUSTOMERS`").contains("<= 42.5;"));
    let view = statement_with(&s, "CREATE TEMPORARY VIEW `customers`");
    assert!(
        view.contains("REGEXP(`latitude`, '^-?[0-9]+(\\.[0-9]{1,5})?$')"),
        "{view}"
    );
}

#[test]
fn flink_on_files_reads_and_writes_under_the_data_folder() {
    let s = export_sql(&SqlExport {
        dialect: SqlDialect::Flink,
        connector: SqlConnector::Filesystem {
            data_dir: "/data/run".into(),
        },
        topics: TopicNames::default(),
        params: PipelineParams::default(),
    })
    .unwrap();
    let customers = statement_with(&s, "CREATE TABLE `customers_locations`");
    assert!(customers.contains("'path' = '/data/run/customers_locations'"));
    assert!(customers.contains("TO_TIMESTAMP_LTZ(`kafka_timestamp_ms`, 3)"));
    let sink = statement_with(&s, "CREATE TABLE `NEARBY_CUSTOMERS`");
    assert!(
        sink.contains("'path' = '/data/run/NEARBY_CUSTOMERS'"),
        "{sink}"
    );
    assert!(!s.contains("kafka'"), "no Kafka table on files: {s}");
}

#[test]
fn what_sql_cannot_say_is_refused_with_the_reason() {
    let sku_or_segment = PipelineParams {
        match_key: PromotionMatchKey::SkuOrSegment,
        ..PipelineParams::default()
    };
    for dialect in [SqlDialect::Ksqldb, SqlDialect::Flink] {
        let err = export_sql(&SqlExport {
            dialect,
            connector: SqlConnector::Kafka {
                bootstrap_servers: "b".into(),
            },
            topics: TopicNames::default(),
            params: sku_or_segment.clone(),
        })
        .unwrap_err();
        assert_eq!(err, SqlExportError::MatchKeyNotExpressible);
    }
    let files = export_sql(&SqlExport {
        dialect: SqlDialect::Ksqldb,
        connector: SqlConnector::Filesystem {
            data_dir: "/d".into(),
        },
        topics: TopicNames::default(),
        params: PipelineParams::default(),
    });
    assert_eq!(files.unwrap_err(), SqlExportError::KsqldbReadsOnlyKafka);
    let mut topics = TopicNames::default();
    topics.set(Topic::StoresProducts, "x'; DROP STREAM y; --");
    let quoted = export_sql(&SqlExport {
        dialect: SqlDialect::Flink,
        connector: SqlConnector::Kafka {
            bootstrap_servers: "b".into(),
        },
        topics,
        params: PipelineParams::default(),
    });
    assert!(matches!(quoted, Err(SqlExportError::BadTopicName(_))));
}

#[test]
fn intervals_are_exact_to_the_millisecond_in_forms_flink_accepts() {
    assert_eq!(interval(3_600_000), "INTERVAL '1' HOUR");
    assert_eq!(interval(30 * 60_000), "INTERVAL '30' MINUTE");
    assert_eq!(interval(90_000), "INTERVAL '90' SECOND");
    assert_eq!(interval(0), "INTERVAL '0' SECOND");
    assert_eq!(interval(86_400_000), "INTERVAL '1' DAY");
    // More than two digits, or milliseconds: DAY TO SECOND.
    assert_eq!(
        interval(150_000),
        "INTERVAL '0 00:02:30.000' DAY(3) TO SECOND(3)"
    );
    assert_eq!(
        interval(1_500),
        "INTERVAL '0 00:00:01.500' DAY(3) TO SECOND(3)"
    );
    assert_eq!(
        interval(100 * 86_400_000 + 1),
        "INTERVAL '100 00:00:00.001' DAY(3) TO SECOND(3)"
    );
}
