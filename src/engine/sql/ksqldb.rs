//! The pipeline as ksqlDB statements: the original deployment's two persistent queries, with
//! what the console has since fixed.

use std::fmt::Write as _;

use super::{header, match_column, sql_number, whole_units, SqlExport};
use crate::engine::decimal::DecimalPolicy;
use crate::engine::topic::Topic;
use crate::engine::window::JoinWindow;

/// The script.
pub fn script(export: &SqlExport) -> String {
    let mut out = String::new();
    header(&mut out, export, "ksqlDB statements");
    let p = &export.params;
    out.push_str(
        "-- Where this differs from the original deployment, and why:\n\
         --   * NEARBY_CUSTOMERS projects UID and is keyed by it, VALID_PROMOTIONS by PID \
         (PARTITION BY): the\n\
         --     original dropped UID and wrote no keys, so a push connector could not route \
         a match to its shopper.\n\
         --   * Each input stream reads the topic its KAFKA_TOPIC names (`--topic` maps them): \
         the original's\n\
         --     producers wrote customers-locations and products-promotions while its streams \
         read customers_locations\n\
         --     and products_promotions, so nothing ever joined.\n\
         --   * Each join states its GRACE PERIOD (ksqlDB's default, 24 h − 2·WITHIN, unless \
         it was changed).\n\
         --   * Promotions carry their optional discount_pct, title and valid_until through \
         to both outputs.\n",
    );
    if p.decimal_policy == DecimalPolicy::Round {
        out.push_str(
            "--   * Coordinates are read as text and cast to DECIMAL(10,5), which rounds \
             half-up (`--decimals round`):\n\
             --     the original's DECIMAL(10,5) columns refuse a value with 6 decimals, which \
             phones send.\n\
             --     A value that does not fit becomes NULL (and the processing log says so) \
             instead of refusing the record.\n",
        );
    }
    out.push_str("\nSET 'auto.offset.reset' = 'earliest';\n");

    let coordinate = match p.decimal_policy {
        DecimalPolicy::Strict => "DECIMAL(10, 5)",
        DecimalPolicy::Round => "VARCHAR",
    };
    let inputs: [(Topic, Vec<(&str, &str)>); 3] = [
        (
            Topic::CustomersLocations,
            vec![
                ("uid", "VARCHAR"),
                ("latitude", coordinate),
                ("longitude", coordinate),
                ("country", "VARCHAR"),
            ],
        ),
        (
            Topic::StoresProducts,
            vec![
                ("sku", "BIGINT"),
                ("segment", "VARCHAR"),
                ("variant", "VARCHAR"),
                ("latitude", coordinate),
                ("longitude", coordinate),
                ("country", "VARCHAR"),
            ],
        ),
        (
            Topic::ProductsPromotions,
            vec![
                ("pid", "VARCHAR"),
                ("sku", "BIGINT"),
                ("segment", "VARCHAR"),
                ("discount_pct", "DOUBLE"),
                ("title", "VARCHAR"),
                ("valid_until", "VARCHAR"),
            ],
        ),
    ];
    out.push_str("\n-- Inputs: JSON values; the Kafka timestamp is each record's time.\n");
    for (topic, columns) in &inputs {
        let _ = writeln!(out, "CREATE STREAM {} (", topic.name());
        let cols: Vec<String> = columns.iter().map(|(n, t)| format!("  {n} {t}")).collect();
        let _ = writeln!(out, "{}", cols.join(",\n"));
        let _ = writeln!(
            out,
            ") WITH (KAFKA_TOPIC = '{}', VALUE_FORMAT = 'JSON');\n",
            export.topics.get(*topic)
        );
    }

    let coord = |alias: &str, column: &str| match p.decimal_policy {
        DecimalPolicy::Strict => format!("{alias}.{column}"),
        DecimalPolicy::Round => format!("CAST({alias}.{column} AS DECIMAL(10, 5))"),
    };
    let (w1, w2) = (p.promotion_window(), p.customer_window());
    let key = match_column(p);
    let _ = writeln!(
        out,
        "-- Join 1: a promotion is valid for every product of its {key} whose record is at most \
         {} from it.",
        super::span_words(w1.within_ms)
    );
    let _ = writeln!(
        out,
        "CREATE STREAM {} WITH (KAFKA_TOPIC = '{}', KEY_FORMAT = 'KAFKA', VALUE_FORMAT = 'JSON') AS",
        Topic::ValidPromotions.name(),
        export.topics.get(Topic::ValidPromotions)
    );
    let _ = writeln!(
        out,
        "  SELECT\n    p.pid AS PROMOTION_KEY,\n    {} AS LATITUDE,\n    {} AS LONGITUDE,\n    \
         s.country AS COUNTRY,\n    s.segment AS SEGMENT,\n    AS_VALUE(p.pid) AS PID,\n    \
         s.sku AS SKU,\n    s.variant AS VARIANT,\n    p.discount_pct AS DISCOUNT_PCT,\n    \
         p.title AS TITLE,\n    p.valid_until AS VALID_UNTIL",
        coord("s", "latitude"),
        coord("s", "longitude")
    );
    let _ = writeln!(
        out,
        "  FROM {} s\n  INNER JOIN {} p {}\n    ON s.{key} = p.{key}\n  PARTITION BY p.pid\n  EMIT CHANGES;\n",
        Topic::StoresProducts.name(),
        Topic::ProductsPromotions.name(),
        within(&w1)
    );

    let (c_lat, c_lon) = (coord("c", "latitude"), coord("c", "longitude"));
    let distance = format!(
        "GEO_DISTANCE({c_lat}, {c_lon}, v.LATITUDE, v.LONGITUDE, 'KM') * {}",
        sql_number(p.km_to_ft)
    );
    let _ = writeln!(
        out,
        "-- Join 2: pings of the same country at most {} from a valid promotion and within {} ft \
         of its product.",
        super::span_words(w2.within_ms),
        sql_number(p.radius_ft)
    );
    let _ = writeln!(
        out,
        "CREATE STREAM {} WITH (KAFKA_TOPIC = '{}', KEY_FORMAT = 'KAFKA', VALUE_FORMAT = 'JSON') AS",
        Topic::NearbyCustomers.name(),
        export.topics.get(Topic::NearbyCustomers)
    );
    let _ = writeln!(
        out,
        "  SELECT\n    c.uid AS CUSTOMER_KEY,\n    AS_VALUE(c.uid) AS UID,\n    {c_lat} AS LATITUDE,\n    \
         {c_lon} AS LONGITUDE,\n    c.country AS COUNTRY,\n    v.PID AS PID,\n    v.SKU AS SKU,\n    \
         v.SEGMENT AS SEGMENT,\n    v.LATITUDE AS PRODUCT_LATITUDE,\n    v.LONGITUDE AS \
         PRODUCT_LONGITUDE,\n    {distance} AS DIST_TO_STORE,\n    v.DISCOUNT_PCT AS DISCOUNT_PCT,\n    \
         v.TITLE AS TITLE,\n    v.VALID_UNTIL AS VALID_UNTIL"
    );
    let _ = writeln!(
        out,
        "  FROM {} c\n  INNER JOIN {} v {}\n    ON c.country = v.COUNTRY\n  WHERE {distance} <= {}\n  PARTITION BY c.uid\n  EMIT CHANGES;",
        Topic::CustomersLocations.name(),
        Topic::ValidPromotions.name(),
        within(&w2),
        sql_number(p.radius_ft)
    );
    out
}

/// `WITHIN 1 HOUR GRACE PERIOD 22 HOURS`.
fn within(window: &JoinWindow) -> String {
    format!(
        "WITHIN {} GRACE PERIOD {}",
        duration(window.within_ms),
        duration(window.grace_ms)
    )
}

/// A ksqlDB duration: `1 HOUR`, `30 MINUTES`, `1500 MILLISECONDS`.
fn duration(ms: i64) -> String {
    let (n, unit) = whole_units(ms.max(0));
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}S")
    }
}
