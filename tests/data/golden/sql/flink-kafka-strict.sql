-- The in-store personalization pipeline as Flink SQL, written by `instore export-sql` (instore 0.1.0).
-- Parameters:
--   VALID_PROMOTIONS: products and promotions of the same segment at most 90 seconds apart (grace 1437 minutes).
--   NEARBY_CUSTOMERS: pings and valid promotions of the same country at most 30 minutes apart (grace 23 hours),
--     within 100 ft (GEO_DISTANCE in km × 3281).
--   Coordinates: DECIMAL(10,5), a value with more than 5 decimals refuses its record.
--   Topics: customers_locations, stores_products, products_promotions, VALID_PROMOTIONS, NEARBY_CUSTOMERS.
-- Notifications (PROMOTION_NOTIFICATIONS) keep per-shopper state that these joins do not: run `instore run --notifications` on NEARBY_CUSTOMERS for them.
-- Where Flink differs from ksqlDB (and from `instore run`, which has ksqlDB's semantics):
--   * Flink's JSON format matches field names exactly, ksqlDB's ignores case: producers must write the
--     lower-case names below (`instore simulate` does). A value of the wrong type becomes NULL and a
--     payload that is not JSON is skipped ('json.ignore-parse-errors'), where ksqlDB refuses the record.
--   * A record that arrives behind the watermark still joins what Flink kept; ksqlDB drops a record older
--     than stream time − (2·WITHIN + grace). With records in order or within the grace, both give the same rows.
--   * The distance is computed in Java doubles like GEO_DISTANCE; it may differ from it in the last bits.
--   * `--decimals strict`: coordinates are read as text and a record with more than 5 decimals is
--     refused in the views below, as ksqlDB refuses it (Flink itself would round half-up). Exponent
--     notation (4.2E1) is refused too.

-- Inputs.
CREATE TABLE `customers_locations` (
  `uid` STRING,
  `latitude` STRING,
  `longitude` STRING,
  `country` STRING,
  `event_time` TIMESTAMP_LTZ(3) METADATA FROM 'timestamp' VIRTUAL,
  WATERMARK FOR `event_time` AS `event_time` - INTERVAL '0 23:30:00.000' DAY(3) TO SECOND(3)
) WITH (
  'connector' = 'kafka',
  'topic' = 'customers_locations',
  'properties.bootstrap.servers' = 'localhost:9092',
  'properties.group.id' = 'instore-flink',
  'scan.startup.mode' = 'earliest-offset',
  'value.format' = 'json',
  'value.json.ignore-parse-errors' = 'true'
);
CREATE TABLE `stores_products` (
  `sku` BIGINT,
  `segment` STRING,
  `variant` STRING,
  `latitude` STRING,
  `longitude` STRING,
  `country` STRING,
  `event_time` TIMESTAMP_LTZ(3) METADATA FROM 'timestamp' VIRTUAL,
  WATERMARK FOR `event_time` AS `event_time` - INTERVAL '0 23:58:30.000' DAY(3) TO SECOND(3)
) WITH (
  'connector' = 'kafka',
  'topic' = 'stores_products',
  'properties.bootstrap.servers' = 'localhost:9092',
  'properties.group.id' = 'instore-flink',
  'scan.startup.mode' = 'earliest-offset',
  'value.format' = 'json',
  'value.json.ignore-parse-errors' = 'true'
);
CREATE TABLE `products_promotions` (
  `pid` STRING,
  `sku` BIGINT,
  `segment` STRING,
  `discount_pct` DOUBLE,
  `title` STRING,
  `valid_until` STRING,
  `event_time` TIMESTAMP_LTZ(3) METADATA FROM 'timestamp' VIRTUAL,
  WATERMARK FOR `event_time` AS `event_time` - INTERVAL '0 23:58:30.000' DAY(3) TO SECOND(3)
) WITH (
  'connector' = 'kafka',
  'topic' = 'products_promotions',
  'properties.bootstrap.servers' = 'localhost:9092',
  'properties.group.id' = 'instore-flink',
  'scan.startup.mode' = 'earliest-offset',
  'value.format' = 'json',
  'value.json.ignore-parse-errors' = 'true'
);

-- The inputs with coordinates as DECIMAL(10,5) (TRY_CAST rounds half-up); a record whose coordinate is
-- not one, or lies beyond ±90° latitude or ±180° longitude, is refused, as instore refuses it.
CREATE TEMPORARY VIEW `customers` AS
SELECT `uid`, TRY_CAST(`latitude` AS DECIMAL(10, 5)) AS `latitude`, TRY_CAST(`longitude` AS DECIMAL(10, 5)) AS `longitude`, `country`, `event_time`
FROM `customers_locations`
WHERE (`latitude` IS NULL OR (TRY_CAST(`latitude` AS DECIMAL(10, 5)) IS NOT NULL AND ABS(TRY_CAST(`latitude` AS DECIMAL(10, 5))) <= 90 AND REGEXP(`latitude`, '^-?[0-9]+(\.[0-9]{1,5})?$')))
  AND (`longitude` IS NULL OR (TRY_CAST(`longitude` AS DECIMAL(10, 5)) IS NOT NULL AND ABS(TRY_CAST(`longitude` AS DECIMAL(10, 5))) <= 180 AND REGEXP(`longitude`, '^-?[0-9]+(\.[0-9]{1,5})?$')));
CREATE TEMPORARY VIEW `products` AS
SELECT `sku`, `segment`, `variant`, TRY_CAST(`latitude` AS DECIMAL(10, 5)) AS `latitude`, TRY_CAST(`longitude` AS DECIMAL(10, 5)) AS `longitude`, `country`, `event_time`
FROM `stores_products`
WHERE (`latitude` IS NULL OR (TRY_CAST(`latitude` AS DECIMAL(10, 5)) IS NOT NULL AND ABS(TRY_CAST(`latitude` AS DECIMAL(10, 5))) <= 90 AND REGEXP(`latitude`, '^-?[0-9]+(\.[0-9]{1,5})?$')))
  AND (`longitude` IS NULL OR (TRY_CAST(`longitude` AS DECIMAL(10, 5)) IS NOT NULL AND ABS(TRY_CAST(`longitude` AS DECIMAL(10, 5))) <= 180 AND REGEXP(`longitude`, '^-?[0-9]+(\.[0-9]{1,5})?$')));
CREATE TEMPORARY VIEW `promotions` AS SELECT * FROM `products_promotions`;

-- Outputs.
CREATE TABLE `VALID_PROMOTIONS` (
  `LATITUDE` DECIMAL(10, 5),
  `LONGITUDE` DECIMAL(10, 5),
  `COUNTRY` STRING,
  `SEGMENT` STRING,
  `PID` STRING,
  `SKU` BIGINT,
  `VARIANT` STRING,
  `DISCOUNT_PCT` DOUBLE,
  `TITLE` STRING,
  `VALID_UNTIL` STRING,
  -- The record's Kafka timestamp: the later of the joined records' (as ksqlDB's ROWTIME).
  `ROWTIME` TIMESTAMP_LTZ(3) METADATA FROM 'timestamp'
) WITH (
  'connector' = 'kafka',
  'topic' = 'VALID_PROMOTIONS',
  'properties.bootstrap.servers' = 'localhost:9092',
  'key.format' = 'raw',
  'key.fields' = 'PID',
  'value.format' = 'json',
  'value.fields-include' = 'ALL',
  'value.json.encode.decimal-as-plain-number' = 'true',
  'sink.delivery-guarantee' = 'at-least-once'
);
CREATE TABLE `NEARBY_CUSTOMERS` (
  `UID` STRING,
  `LATITUDE` DECIMAL(10, 5),
  `LONGITUDE` DECIMAL(10, 5),
  `COUNTRY` STRING,
  `PID` STRING,
  `SKU` BIGINT,
  `SEGMENT` STRING,
  `PRODUCT_LATITUDE` DECIMAL(10, 5),
  `PRODUCT_LONGITUDE` DECIMAL(10, 5),
  `DIST_TO_STORE` DOUBLE,
  `DISCOUNT_PCT` DOUBLE,
  `TITLE` STRING,
  `VALID_UNTIL` STRING,
  -- The record's Kafka timestamp: the later of the joined records' (as ksqlDB's ROWTIME).
  `ROWTIME` TIMESTAMP_LTZ(3) METADATA FROM 'timestamp'
) WITH (
  'connector' = 'kafka',
  'topic' = 'NEARBY_CUSTOMERS',
  'properties.bootstrap.servers' = 'localhost:9092',
  'key.format' = 'raw',
  'key.fields' = 'UID',
  'value.format' = 'json',
  'value.fields-include' = 'ALL',
  'value.json.encode.decimal-as-plain-number' = 'true',
  'sink.delivery-guarantee' = 'at-least-once'
);

-- Join 1: a promotion is valid for every product of its segment whose record is at most 90 seconds from it.
CREATE TEMPORARY VIEW `valid_promotion_pairs` AS
SELECT s.`latitude` AS `LATITUDE`, s.`longitude` AS `LONGITUDE`, s.`country` AS `COUNTRY`, s.`segment` AS `SEGMENT`,
  p.`pid` AS `PID`, s.`sku` AS `SKU`, s.`variant` AS `VARIANT`, p.`discount_pct` AS `DISCOUNT_PCT`, p.`title` AS `TITLE`, p.`valid_until` AS `VALID_UNTIL`,
  s.`event_time` AS `product_time`, p.`event_time` AS `promotion_time`
FROM `products` s JOIN `promotions` p
  ON s.`segment` = p.`segment`
  AND s.`event_time` BETWEEN p.`event_time` - INTERVAL '90' SECOND AND p.`event_time` + INTERVAL '90' SECOND;

-- Each valid promotion at the later of its two records' times, as an event-time attribute.
CREATE TEMPORARY VIEW `valid_promotions` AS
SELECT `LATITUDE`, `LONGITUDE`, `COUNTRY`, `SEGMENT`, `PID`, `SKU`, `VARIANT`, `DISCOUNT_PCT`, `TITLE`, `VALID_UNTIL`, `product_time` AS `valid_time` FROM `valid_promotion_pairs`
  WHERE `product_time` >= `promotion_time`
UNION ALL
SELECT `LATITUDE`, `LONGITUDE`, `COUNTRY`, `SEGMENT`, `PID`, `SKU`, `VARIANT`, `DISCOUNT_PCT`, `TITLE`, `VALID_UNTIL`, `promotion_time` AS `valid_time` FROM `valid_promotion_pairs`
  WHERE `promotion_time` > `product_time`;

-- Join 2: pings of the same country at most 30 minutes from a valid promotion, with ksqlDB's GEO_DISTANCE
-- (haversine, R = 6371 km) in feet as the original computed them (km × 3281).
CREATE TEMPORARY VIEW `nearby_candidates` AS
SELECT c.`uid` AS `UID`, c.`latitude` AS `LATITUDE`, c.`longitude` AS `LONGITUDE`, c.`country` AS `COUNTRY`,
  v.`PID`, v.`SKU`, v.`SEGMENT`, v.`LATITUDE` AS `PRODUCT_LATITUDE`, v.`LONGITUDE` AS `PRODUCT_LONGITUDE`,
  2 * ASIN(SQRT(
      SIN(RADIANS(CAST(v.`LATITUDE` AS DOUBLE) - CAST(c.`latitude` AS DOUBLE)) / 2) * SIN(RADIANS(CAST(v.`LATITUDE` AS DOUBLE) - CAST(c.`latitude` AS DOUBLE)) / 2)
      + SIN(RADIANS(CAST(v.`LONGITUDE` AS DOUBLE) - CAST(c.`longitude` AS DOUBLE)) / 2) * SIN(RADIANS(CAST(v.`LONGITUDE` AS DOUBLE) - CAST(c.`longitude` AS DOUBLE)) / 2)
        * COS(RADIANS(CAST(c.`latitude` AS DOUBLE))) * COS(RADIANS(CAST(v.`LATITUDE` AS DOUBLE)))
  )) * 6371 * 3281 AS `DIST_TO_STORE`,
  v.`DISCOUNT_PCT`, v.`TITLE`, v.`VALID_UNTIL`,
  GREATEST(c.`event_time`, v.`valid_time`) AS `output_time`
FROM `customers` c JOIN `valid_promotions` v
  ON c.`country` = v.`COUNTRY`
  AND c.`event_time` BETWEEN v.`valid_time` - INTERVAL '30' MINUTE AND v.`valid_time` + INTERVAL '30' MINUTE;

-- Both outputs in one job.
EXECUTE STATEMENT SET
BEGIN
INSERT INTO `VALID_PROMOTIONS`
SELECT `LATITUDE`, `LONGITUDE`, `COUNTRY`, `SEGMENT`, `PID`, `SKU`, `VARIANT`, `DISCOUNT_PCT`, `TITLE`, `VALID_UNTIL`, `valid_time` FROM `valid_promotions`;
INSERT INTO `NEARBY_CUSTOMERS`
SELECT `UID`, `LATITUDE`, `LONGITUDE`, `COUNTRY`, `PID`, `SKU`, `SEGMENT`, `PRODUCT_LATITUDE`, `PRODUCT_LONGITUDE`,
  `DIST_TO_STORE`, `DISCOUNT_PCT`, `TITLE`, `VALID_UNTIL`, `output_time`
FROM `nearby_candidates`
WHERE `DIST_TO_STORE` <= 100;
END;
