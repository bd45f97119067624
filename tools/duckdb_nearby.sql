-- The pipeline's two joins as one DuckDB query over a kcat -J dump, for speed comparisons
-- (tools/duckdb_vs_instore.sh). Written for the built-in simulator's dumps and the default
-- parameters: join 1 by SEGMENT within 1 hour, join 2 by COUNTRY within 30 minutes, 100 ft.
-- Field names are read as the simulator writes them (DuckDB's ->> is case-sensitive, where
-- ksqlDB is not), and no record is late in those dumps, so the rows equal `instore run`'s.
-- `{dump}` is replaced by the dump's path.
SET threads = 1;
SET enable_progress_bar = false;
WITH raw AS (
  SELECT topic, ts, payload::JSON AS v
  FROM read_json('{dump}', format = 'newline_delimited',
                 columns = {topic: 'VARCHAR', ts: 'BIGINT', payload: 'VARCHAR'})
),
customers AS (
  SELECT v->>'uid' AS uid, TRY_CAST(v->>'latitude' AS DECIMAL(10, 5)) AS lat,
         TRY_CAST(v->>'longitude' AS DECIMAL(10, 5)) AS lon, v->>'country' AS country, ts
  FROM raw WHERE topic = 'customers_locations'
),
products AS (
  SELECT TRY_CAST(v->>'sku' AS BIGINT) AS sku, v->>'segment' AS segment,
         TRY_CAST(v->>'latitude' AS DECIMAL(10, 5)) AS lat,
         TRY_CAST(v->>'longitude' AS DECIMAL(10, 5)) AS lon, v->>'country' AS country, ts
  FROM raw WHERE topic = 'stores_products'
),
promotions AS (
  SELECT v->>'pid' AS pid, v->>'segment' AS segment, ts
  FROM raw WHERE topic = 'products_promotions'
),
valid AS (
  SELECT s.lat, s.lon, s.country, s.segment, p.pid, s.sku, greatest(s.ts, p.ts) AS ts
  FROM products s JOIN promotions p
    ON s.segment = p.segment AND s.ts BETWEEN p.ts - 3600000 AND p.ts + 3600000
),
nearby AS (
  SELECT c.uid, v.pid, greatest(c.ts, v.ts) AS ts,
    2 * asin(sqrt(
      sin(radians(v.lat::DOUBLE - c.lat::DOUBLE) / 2) ^ 2
      + cos(radians(c.lat::DOUBLE)) * cos(radians(v.lat::DOUBLE))
        * sin(radians(v.lon::DOUBLE - c.lon::DOUBLE) / 2) ^ 2
    )) * 6371 * 3281 AS dist_to_store
  FROM customers c JOIN valid v
    ON c.country = v.country AND c.ts BETWEEN v.ts - 1800000 AND v.ts + 1800000
)
SELECT (SELECT count(*) FROM valid) AS valid_promotions, count(*) AS nearby_customers
FROM nearby WHERE dist_to_store <= 100;
