//! The pipeline as Flink SQL: Kafka (or filesystem) tables, two interval joins, the
//! haversine written inline (Flink has no GEO_DISTANCE).
//!
//! How each clause keeps the engine's semantics:
//! - event time is the Kafka record's timestamp (the `timestamp` metadata column), as
//!   ksqlDB's ROWTIME;
//! - `BETWEEN a - w AND a + w` is inclusive at both ends, as `WITHIN`;
//! - a joined record's time is the later input's. Flink keeps both inputs' time attributes
//!   after a join, so VALID_PROMOTIONS gets the later one as its event time by splitting on
//!   which input is later (a UNION ALL of two halves, each projecting one time attribute):
//!   the second join is then an ordinary interval join on it, in the same job;
//! - each source's watermark trails its records by WITHIN + grace: Flink keeps a record for
//!   joining until the watermark passes its time + WITHIN, that is until its source's time
//!   passes its time + 2·WITHIN + grace — ksqlDB's retention. A join's watermark is the
//!   lower of its inputs' where ksqlDB's stream time is the higher, so Flink keeps records
//!   at least as long.

use std::fmt::Write as _;

use super::{header, match_column, sql_number, whole_units, SqlConnector, SqlExport};
use crate::engine::decimal::DecimalPolicy;
use crate::engine::topic::Topic;
use crate::engine::window::JoinWindow;

/// The column that carries a record's Kafka timestamp in the files [`super::table_row`]
/// writes.
pub const FILE_TIMESTAMP_FIELD: &str = "kafka_timestamp_ms";

/// The script.
pub fn script(export: &SqlExport) -> String {
    let mut out = String::new();
    header(&mut out, export, "Flink SQL");
    differences(&mut out, export);
    let p = &export.params;
    let (w1, w2) = (p.promotion_window(), p.customer_window());

    out.push_str("\n-- Inputs.\n");
    source_table(
        &mut out,
        export,
        Topic::CustomersLocations,
        &[
            ("uid", "STRING"),
            ("latitude", "STRING"),
            ("longitude", "STRING"),
            ("country", "STRING"),
        ],
        &w2,
    );
    source_table(
        &mut out,
        export,
        Topic::StoresProducts,
        &[
            ("sku", "BIGINT"),
            ("segment", "STRING"),
            ("variant", "STRING"),
            ("latitude", "STRING"),
            ("longitude", "STRING"),
            ("country", "STRING"),
        ],
        &w1,
    );
    source_table(
        &mut out,
        export,
        Topic::ProductsPromotions,
        &[
            ("pid", "STRING"),
            ("sku", "BIGINT"),
            ("segment", "STRING"),
            ("discount_pct", "DOUBLE"),
            ("title", "STRING"),
            ("valid_until", "STRING"),
        ],
        &w1,
    );

    typed_views(&mut out, export);

    out.push_str("\n-- Outputs.\n");
    sink_table(
        &mut out,
        export,
        Topic::ValidPromotions,
        "PID",
        &[
            ("LATITUDE", "DECIMAL(10, 5)"),
            ("LONGITUDE", "DECIMAL(10, 5)"),
            ("COUNTRY", "STRING"),
            ("SEGMENT", "STRING"),
            ("PID", "STRING"),
            ("SKU", "BIGINT"),
            ("VARIANT", "STRING"),
            ("DISCOUNT_PCT", "DOUBLE"),
            ("TITLE", "STRING"),
            ("VALID_UNTIL", "STRING"),
        ],
    );
    sink_table(
        &mut out,
        export,
        Topic::NearbyCustomers,
        "UID",
        &[
            ("UID", "STRING"),
            ("LATITUDE", "DECIMAL(10, 5)"),
            ("LONGITUDE", "DECIMAL(10, 5)"),
            ("COUNTRY", "STRING"),
            ("PID", "STRING"),
            ("SKU", "BIGINT"),
            ("SEGMENT", "STRING"),
            ("PRODUCT_LATITUDE", "DECIMAL(10, 5)"),
            ("PRODUCT_LONGITUDE", "DECIMAL(10, 5)"),
            ("DIST_TO_STORE", "DOUBLE"),
            ("DISCOUNT_PCT", "DOUBLE"),
            ("TITLE", "STRING"),
            ("VALID_UNTIL", "STRING"),
        ],
    );

    joins(&mut out, export);
    out
}

/// What a user coming from ksqlDB (or from `instore run`) must know.
fn differences(out: &mut String, export: &SqlExport) {
    out.push_str(
        "-- Where Flink differs from ksqlDB (and from `instore run`, which has ksqlDB's \
         semantics):\n\
         --   * Flink's JSON format matches field names exactly, ksqlDB's ignores case: \
         producers must write the\n\
         --     lower-case names below (`instore simulate` does). A value of the wrong type \
         becomes NULL and a\n\
         --     payload that is not JSON is skipped ('json.ignore-parse-errors'), where \
         ksqlDB refuses the record.\n\
         --   * A record that arrives behind the watermark still joins what Flink kept; \
         ksqlDB drops a record older\n\
         --     than stream time − (2·WITHIN + grace). With records in order or within the \
         grace, both give the same rows.\n\
         --   * The distance is computed in Java doubles like GEO_DISTANCE; it may differ \
         from it in the last bits.\n",
    );
    if export.params.decimal_policy == DecimalPolicy::Round {
        out.push_str(
            "--   * Flink reads a DECIMAL(10,5) with more decimals by rounding half-up (what \
             `--decimals round` does);\n\
             --     ksqlDB refuses such a record. A coordinate outside DECIMAL(10,5), or \
             beyond ±90/±180 degrees,\n\
             --     refuses its record here as in instore.\n",
        );
    } else {
        out.push_str(
            "--   * `--decimals strict`: coordinates are read as text and a record with more \
             than 5 decimals is\n\
             --     refused in the views below, as ksqlDB refuses it (Flink itself would round \
             half-up). Exponent\n\
             --     notation (4.2E1) is refused too.\n",
        );
    }
    if let SqlConnector::Filesystem { .. } = export.connector {
        out.push_str(
            "--   * Files instead of Kafka: `instore export-sql --connector filesystem --input \
             DUMP` wrote each input\n\
             --     record as one JSON line with its Kafka timestamp in `kafka_timestamp_ms`, \
             field names as above, and\n\
             --     left out the records ksqlDB's JSON format would refuse (it says how many \
             and why).\n",
        );
    }
}

/// `INTERVAL '…' …` for a span, exact to the millisecond. Flink's single-unit literals take
/// at most two digits (three with a precision), so longer spans are written DAY TO SECOND.
pub fn interval(ms: i64) -> String {
    let ms = ms.max(0);
    let (n, unit) = whole_units(ms);
    match unit {
        "DAY" | "HOUR" | "MINUTE" | "SECOND" if n < 100 => format!("INTERVAL '{n}' {unit}"),
        _ => {
            let days = ms / 86_400_000;
            let rest = ms % 86_400_000;
            let (h, m, s, milli) = (
                rest / 3_600_000,
                rest % 3_600_000 / 60_000,
                rest % 60_000 / 1_000,
                rest % 1_000,
            );
            format!("INTERVAL '{days} {h:02}:{m:02}:{s:02}.{milli:03}' DAY(3) TO SECOND(3)")
        }
    }
}

fn with_options(out: &mut String, options: &[(String, String)]) {
    out.push_str(") WITH (\n");
    for (i, (k, v)) in options.iter().enumerate() {
        let comma = if i + 1 < options.len() { "," } else { "" };
        let _ = writeln!(out, "  '{k}' = '{}'{comma}", v.replace('\'', "''"));
    }
    out.push_str(");\n");
}

fn source_table(
    out: &mut String,
    export: &SqlExport,
    topic: Topic,
    columns: &[(&str, &str)],
    window: &JoinWindow,
) {
    let table = topic.name();
    let _ = writeln!(out, "CREATE TABLE `{table}` (");
    for (name, ty) in columns {
        let _ = writeln!(out, "  `{name}` {ty},");
    }
    let mut options: Vec<(String, String)> = Vec::new();
    match &export.connector {
        SqlConnector::Kafka { bootstrap_servers } => {
            out.push_str("  `event_time` TIMESTAMP_LTZ(3) METADATA FROM 'timestamp' VIRTUAL,\n");
            options.extend(
                [
                    ("connector", "kafka"),
                    ("topic", export.topics.get(topic)),
                    ("properties.bootstrap.servers", bootstrap_servers),
                    ("properties.group.id", "instore-flink"),
                    ("scan.startup.mode", "earliest-offset"),
                    ("value.format", "json"),
                    ("value.json.ignore-parse-errors", "true"),
                ]
                .map(|(k, v)| (k.to_owned(), v.to_owned())),
            );
        }
        SqlConnector::Filesystem { data_dir } => {
            let _ = writeln!(out, "  `{FILE_TIMESTAMP_FIELD}` BIGINT,");
            let _ = writeln!(
                out,
                "  `event_time` AS TO_TIMESTAMP_LTZ(`{FILE_TIMESTAMP_FIELD}`, 3),"
            );
            options.extend(
                [
                    ("connector", "filesystem"),
                    ("path", &join_path(data_dir, export.topics.get(topic))),
                    ("format", "json"),
                    ("json.ignore-parse-errors", "true"),
                ]
                .map(|(k, v)| (k.to_owned(), v.to_owned())),
            );
        }
    }
    let lag_ms = window.within_ms.saturating_add(window.grace_ms);
    let _ = writeln!(
        out,
        "  WATERMARK FOR `event_time` AS `event_time` - {}",
        interval(lag_ms)
    );
    with_options(out, &options);
}

fn join_path(dir: &str, name: &str) -> String {
    if dir.ends_with('/') {
        format!("{dir}{name}")
    } else {
        format!("{dir}/{name}")
    }
}

/// One view per input with the coordinates as DECIMAL(10,5), refusing the records
/// instore (and ksqlDB) refuse for their coordinates. The tables read coordinates as their
/// literal text because Flink's JSON format turns a DECIMAL that does not fit into NULL,
/// where instore refuses the record.
fn typed_views(out: &mut String, export: &SqlExport) {
    let strict = export.params.decimal_policy == DecimalPolicy::Strict;
    out.push_str(
        "\n-- The inputs with coordinates as DECIMAL(10,5) (TRY_CAST rounds half-up); a record whose \
         coordinate is\n-- not one, or lies beyond ±90° latitude or ±180° longitude, is refused, \
         as instore refuses it.\n",
    );
    let views = [
        ("customers", Topic::CustomersLocations, &["uid"][..]),
        (
            "products",
            Topic::StoresProducts,
            &["sku", "segment", "variant"][..],
        ),
    ];
    for (view, topic, leading_columns) in views {
        let _ = writeln!(out, "CREATE TEMPORARY VIEW `{view}` AS");
        let mut select: Vec<String> = leading_columns.iter().map(|c| format!("`{c}`")).collect();
        let mut conditions = Vec::new();
        for (column, limit) in [("latitude", 90), ("longitude", 180)] {
            let value = format!("TRY_CAST(`{column}` AS DECIMAL(10, 5))");
            select.push(format!("{value} AS `{column}`"));
            let scale = if strict {
                format!(" AND REGEXP(`{column}`, '^-?[0-9]+(\\.[0-9]{{1,5}})?$')")
            } else {
                String::new()
            };
            conditions.push(format!(
                "(`{column}` IS NULL OR ({value} IS NOT NULL AND ABS({value}) <= {limit}{scale}))"
            ));
        }
        select.extend(["`country`", "`event_time`"].map(String::from));
        let _ = writeln!(out, "SELECT {}", select.join(", "));
        let _ = writeln!(out, "FROM `{}`", topic.name());
        let _ = writeln!(out, "WHERE {};", conditions.join("\n  AND "));
    }
    let _ = writeln!(
        out,
        "CREATE TEMPORARY VIEW `promotions` AS SELECT * FROM `{}`;",
        Topic::ProductsPromotions.name()
    );
}

fn sink_table(
    out: &mut String,
    export: &SqlExport,
    topic: Topic,
    key: &str,
    columns: &[(&str, &str)],
) {
    let _ = writeln!(out, "CREATE TABLE `{}` (", topic.name());
    for (name, ty) in columns {
        let _ = writeln!(out, "  `{name}` {ty},");
    }
    let options: Vec<(String, String)> = match &export.connector {
        SqlConnector::Kafka { bootstrap_servers } => {
            out.push_str(
                "  -- The record's Kafka timestamp: the later of the joined records' (as \
                 ksqlDB's ROWTIME).\n  `ROWTIME` TIMESTAMP_LTZ(3) METADATA FROM 'timestamp'\n",
            );
            [
                ("connector", "kafka"),
                ("topic", export.topics.get(topic)),
                ("properties.bootstrap.servers", bootstrap_servers),
                ("key.format", "raw"),
                ("key.fields", key),
                ("value.format", "json"),
                ("value.fields-include", "ALL"),
                ("value.json.encode.decimal-as-plain-number", "true"),
                ("sink.delivery-guarantee", "at-least-once"),
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .to_vec()
        }
        SqlConnector::Filesystem { data_dir } => {
            out.push_str(
                "  -- The Kafka timestamp the record would have: the later of the joined \
                 records'.\n  `ROWTIME` TIMESTAMP_LTZ(3)\n",
            );
            [
                ("connector", "filesystem"),
                (
                    "path",
                    join_path(data_dir, export.topics.get(topic)).as_str(),
                ),
                ("format", "json"),
                ("json.timestamp-format.standard", "ISO-8601"),
                ("json.encode.decimal-as-plain-number", "true"),
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .to_vec()
        }
    };
    with_options(out, &options);
}

fn joins(out: &mut String, export: &SqlExport) {
    let p = &export.params;
    let (w1, w2) = (p.promotion_window(), p.customer_window());
    let key = match_column(p);
    let valid_columns = "s.`latitude` AS `LATITUDE`, s.`longitude` AS `LONGITUDE`, \
         s.`country` AS `COUNTRY`, s.`segment` AS `SEGMENT`,\n  p.`pid` AS `PID`, s.`sku` AS `SKU`, \
         s.`variant` AS `VARIANT`, p.`discount_pct` AS `DISCOUNT_PCT`, p.`title` AS `TITLE`, \
         p.`valid_until` AS `VALID_UNTIL`";
    let _ = writeln!(
        out,
        "\n-- Join 1: a promotion is valid for every product of its {key} whose record is at most \
         {} from it.",
        super::span_words(w1.within_ms)
    );
    let _ = writeln!(out, "CREATE TEMPORARY VIEW `valid_promotion_pairs` AS");
    let _ = writeln!(
        out,
        "SELECT {valid_columns},\n  s.`event_time` AS `product_time`, p.`event_time` AS `promotion_time`"
    );
    let _ = writeln!(out, "FROM `products` s JOIN `promotions` p");
    let _ = writeln!(out, "  ON s.`{key}` = p.`{key}`");
    let _ = writeln!(
        out,
        "  AND s.`event_time` BETWEEN p.`event_time` - {w} AND p.`event_time` + {w};",
        w = interval(w1.within_ms)
    );
    out.push_str(
        "\n-- Each valid promotion at the later of its two records' times, as an event-time \
         attribute.\n",
    );
    let cols = "`LATITUDE`, `LONGITUDE`, `COUNTRY`, `SEGMENT`, `PID`, `SKU`, `VARIANT`, \
                `DISCOUNT_PCT`, `TITLE`, `VALID_UNTIL`";
    let _ = writeln!(out, "CREATE TEMPORARY VIEW `valid_promotions` AS");
    let _ = writeln!(
        out,
        "SELECT {cols}, `product_time` AS `valid_time` FROM `valid_promotion_pairs`\n  WHERE `product_time` >= `promotion_time`"
    );
    out.push_str("UNION ALL\n");
    let _ = writeln!(
        out,
        "SELECT {cols}, `promotion_time` AS `valid_time` FROM `valid_promotion_pairs`\n  WHERE `promotion_time` > `product_time`;"
    );

    let lat1 = "CAST(c.`latitude` AS DOUBLE)";
    let lon1 = "CAST(c.`longitude` AS DOUBLE)";
    let lat2 = "CAST(v.`LATITUDE` AS DOUBLE)";
    let lon2 = "CAST(v.`LONGITUDE` AS DOUBLE)";
    let _ = writeln!(
        out,
        "\n-- Join 2: pings of the same country at most {} from a valid promotion, with ksqlDB's \
         GEO_DISTANCE\n-- (haversine, R = 6371 km) in feet as the original computed them (km × {}).",
        super::span_words(w2.within_ms),
        sql_number(p.km_to_ft)
    );
    let _ = writeln!(out, "CREATE TEMPORARY VIEW `nearby_candidates` AS");
    let _ = writeln!(
        out,
        "SELECT c.`uid` AS `UID`, c.`latitude` AS `LATITUDE`, c.`longitude` AS `LONGITUDE`, \
         c.`country` AS `COUNTRY`,\n  v.`PID`, v.`SKU`, v.`SEGMENT`, v.`LATITUDE` AS \
         `PRODUCT_LATITUDE`, v.`LONGITUDE` AS `PRODUCT_LONGITUDE`,"
    );
    let _ = writeln!(
        out,
        "  2 * ASIN(SQRT(\n      SIN(RADIANS({lat2} - {lat1}) / 2) * SIN(RADIANS({lat2} - {lat1}) / 2)\n      + SIN(RADIANS({lon2} - {lon1}) / 2) * SIN(RADIANS({lon2} - {lon1}) / 2)\n        * COS(RADIANS({lat1})) * COS(RADIANS({lat2}))\n  )) * 6371 * {} AS `DIST_TO_STORE`,",
        sql_number(p.km_to_ft)
    );
    let _ = writeln!(
        out,
        "  v.`DISCOUNT_PCT`, v.`TITLE`, v.`VALID_UNTIL`,\n  GREATEST(c.`event_time`, v.`valid_time`) AS `output_time`"
    );
    let _ = writeln!(out, "FROM `customers` c JOIN `valid_promotions` v");
    let _ = writeln!(out, "  ON c.`country` = v.`COUNTRY`");
    let _ = writeln!(
        out,
        "  AND c.`event_time` BETWEEN v.`valid_time` - {w} AND v.`valid_time` + {w};",
        w = interval(w2.within_ms)
    );

    out.push_str("\n-- Both outputs in one job.\nEXECUTE STATEMENT SET\nBEGIN\n");
    let _ = writeln!(
        out,
        "INSERT INTO `{}`\nSELECT {cols}, `valid_time` FROM `valid_promotions`;",
        Topic::ValidPromotions.name()
    );
    let _ = writeln!(
        out,
        "INSERT INTO `{}`\nSELECT `UID`, `LATITUDE`, `LONGITUDE`, `COUNTRY`, `PID`, `SKU`, \
         `SEGMENT`, `PRODUCT_LATITUDE`, `PRODUCT_LONGITUDE`,\n  `DIST_TO_STORE`, `DISCOUNT_PCT`, \
         `TITLE`, `VALID_UNTIL`, `output_time`\nFROM `nearby_candidates`\nWHERE `DIST_TO_STORE` <= {};",
        Topic::NearbyCustomers.name(),
        sql_number(p.radius_ft)
    );
    out.push_str("END;\n");
}
