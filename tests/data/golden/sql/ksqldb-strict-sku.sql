-- The in-store personalization pipeline as ksqlDB statements, written by `instore export-sql` (instore 0.1.0).
-- Parameters:
--   VALID_PROMOTIONS: products and promotions of the same sku at most 1 hour apart (grace 22 hours).
--   NEARBY_CUSTOMERS: pings and valid promotions of the same country at most 10 minutes apart (grace 2 minutes),
--     within 50 ft (GEO_DISTANCE in km × 3281).
--   Coordinates: DECIMAL(10,5), a value with more than 5 decimals refuses its record.
--   Topics: customers-locations, stores_products, products-promotions, VALID_PROMOTIONS, NEARBY_CUSTOMERS.
-- Notifications (PROMOTION_NOTIFICATIONS) keep per-shopper state that these joins do not: run `instore run --notifications` on NEARBY_CUSTOMERS for them.
-- Where this differs from the original deployment, and why:
--   * NEARBY_CUSTOMERS projects UID and is keyed by it, VALID_PROMOTIONS by PID (PARTITION BY): the
--     original dropped UID and wrote no keys, so a push connector could not route a match to its shopper.
--   * Each input stream reads the topic its KAFKA_TOPIC names (`--topic` maps them): the original's
--     producers wrote customers-locations and products-promotions while its streams read customers_locations
--     and products_promotions, so nothing ever joined.
--   * Each join states its GRACE PERIOD (ksqlDB's default, 24 h − 2·WITHIN, unless it was changed).
--   * Promotions carry their optional discount_pct, title and valid_until through to both outputs.

SET 'auto.offset.reset' = 'earliest';

-- Inputs: JSON values; the Kafka timestamp is each record's time.
CREATE STREAM customers_locations (
  uid VARCHAR,
  latitude DECIMAL(10, 5),
  longitude DECIMAL(10, 5),
  country VARCHAR
) WITH (KAFKA_TOPIC = 'customers-locations', VALUE_FORMAT = 'JSON');

CREATE STREAM stores_products (
  sku BIGINT,
  segment VARCHAR,
  variant VARCHAR,
  latitude DECIMAL(10, 5),
  longitude DECIMAL(10, 5),
  country VARCHAR
) WITH (KAFKA_TOPIC = 'stores_products', VALUE_FORMAT = 'JSON');

CREATE STREAM products_promotions (
  pid VARCHAR,
  sku BIGINT,
  segment VARCHAR,
  discount_pct DOUBLE,
  title VARCHAR,
  valid_until VARCHAR
) WITH (KAFKA_TOPIC = 'products-promotions', VALUE_FORMAT = 'JSON');

-- Join 1: a promotion is valid for every product of its sku whose record is at most 1 hour from it.
CREATE STREAM VALID_PROMOTIONS WITH (KAFKA_TOPIC = 'VALID_PROMOTIONS', KEY_FORMAT = 'KAFKA', VALUE_FORMAT = 'JSON') AS
  SELECT
    p.pid AS PROMOTION_KEY,
    s.latitude AS LATITUDE,
    s.longitude AS LONGITUDE,
    s.country AS COUNTRY,
    s.segment AS SEGMENT,
    AS_VALUE(p.pid) AS PID,
    s.sku AS SKU,
    s.variant AS VARIANT,
    p.discount_pct AS DISCOUNT_PCT,
    p.title AS TITLE,
    p.valid_until AS VALID_UNTIL
  FROM stores_products s
  INNER JOIN products_promotions p WITHIN 1 HOUR GRACE PERIOD 22 HOURS
    ON s.sku = p.sku
  PARTITION BY p.pid
  EMIT CHANGES;

-- Join 2: pings of the same country at most 10 minutes from a valid promotion and within 50 ft of its product.
CREATE STREAM NEARBY_CUSTOMERS WITH (KAFKA_TOPIC = 'NEARBY_CUSTOMERS', KEY_FORMAT = 'KAFKA', VALUE_FORMAT = 'JSON') AS
  SELECT
    c.uid AS CUSTOMER_KEY,
    AS_VALUE(c.uid) AS UID,
    c.latitude AS LATITUDE,
    c.longitude AS LONGITUDE,
    c.country AS COUNTRY,
    v.PID AS PID,
    v.SKU AS SKU,
    v.SEGMENT AS SEGMENT,
    v.LATITUDE AS PRODUCT_LATITUDE,
    v.LONGITUDE AS PRODUCT_LONGITUDE,
    GEO_DISTANCE(c.latitude, c.longitude, v.LATITUDE, v.LONGITUDE, 'KM') * 3281 AS DIST_TO_STORE,
    v.DISCOUNT_PCT AS DISCOUNT_PCT,
    v.TITLE AS TITLE,
    v.VALID_UNTIL AS VALID_UNTIL
  FROM customers_locations c
  INNER JOIN VALID_PROMOTIONS v WITHIN 10 MINUTES GRACE PERIOD 2 MINUTES
    ON c.country = v.COUNTRY
  WHERE GEO_DISTANCE(c.latitude, c.longitude, v.LATITUDE, v.LONGITUDE, 'KM') * 3281 <= 50
  PARTITION BY c.uid
  EMIT CHANGES;
