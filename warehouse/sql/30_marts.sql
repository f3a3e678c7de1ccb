-- Marts: named after the questions users bring; the dashboard and the KPIs read only these.
-- A name in double braces stands for a list the data contract owns (transform.py renders it).

DROP TABLE IF EXISTS marts.daily_kpis;
CREATE TABLE marts.daily_kpis AS
WITH lines AS (SELECT * FROM core.fct_order_lines),
final AS (
    SELECT order_date,
           COUNT(DISTINCT order_id) AS orders,
           COUNT(*) AS order_lines,
           CAST(SUM(quantity) AS BIGINT) AS units_sold,
           SUM(gross_value) AS gross_value,
           SUM(net_value) AS sold_value,
           CAST(SUM(units_returned) AS BIGINT) AS units_returned,
           SUM(refund_amount) AS refund_value,
           CAST(SUM(rto_units) AS BIGINT) AS rto_units,
           SUM(net_return_cost) AS net_return_cost
    FROM lines
    GROUP BY order_date
)
SELECT * FROM final;

-- Sales and returns per SKU and segment by order day: the days of a month a date filter covers
-- only in part (the monthly mart below serves its whole months); kept in day order so a day
-- range reads few blocks.
DROP TABLE IF EXISTS marts.sku_returns_daily;
CREATE TABLE marts.sku_returns_daily AS
WITH lines AS (SELECT * FROM core.fct_order_lines),
final AS (
    SELECT sku, product_id, category, size, vendor_id, order_date, order_month, channel,
           ship_region,
           COUNT(*) AS order_lines,
           CAST(SUM(quantity) AS BIGINT) AS units_sold,
           SUM(net_value) AS sold_value,
           CAST(SUM(units_returned) AS BIGINT) AS units_returned,
           SUM(refund_amount) AS refund_value,
           CAST(SUM(rto_units) AS BIGINT) AS rto_units
    FROM lines
    GROUP BY sku, product_id, category, size, vendor_id, order_date, order_month, channel,
             ship_region
)
SELECT * FROM final ORDER BY order_date;

-- The same by order month (what most reads take), rolled up from the days.
DROP TABLE IF EXISTS marts.sku_returns;
CREATE TABLE marts.sku_returns AS
WITH days AS (SELECT * FROM marts.sku_returns_daily),
final AS (
    SELECT sku, product_id, category, size, vendor_id, order_month, channel, ship_region,
           CAST(SUM(order_lines) AS BIGINT) AS order_lines,
           CAST(SUM(units_sold) AS BIGINT) AS units_sold,
           SUM(sold_value) AS sold_value,
           CAST(SUM(units_returned) AS BIGINT) AS units_returned,
           SUM(refund_value) AS refund_value,
           CAST(SUM(rto_units) AS BIGINT) AS rto_units
    FROM days
    GROUP BY sku, product_id, category, size, vendor_id, order_month, channel, ship_region
)
SELECT * FROM final;

DROP TABLE IF EXISTS marts.carrier_pickup_daily;
CREATE TABLE marts.carrier_pickup_daily AS
WITH attempts AS (SELECT * FROM core.fct_pickup_attempts),
final AS (
    SELECT carrier, region, attempt_date, weekday,
           COUNT(*) AS attempts,
           CAST(SUM(failed) AS BIGINT) AS failed_attempts,
           CAST(SUM(CASE WHEN attempt = 1 THEN 1 ELSE 0  END) AS BIGINT) AS first_attempts,
           CAST(SUM(CASE WHEN attempt = 1 THEN failed ELSE 0  END) AS BIGINT) AS first_attempts_failed,
           {{failure_reason_counts}}
    FROM attempts
    GROUP BY carrier, region, attempt_date, weekday
)
SELECT * FROM final;

DROP TABLE IF EXISTS marts.pickup_performance;
CREATE TABLE marts.pickup_performance AS
SELECT return_id, carrier, region, requested_date, attempts, failed_attempts,
       picked_up_at IS NOT NULL AS picked_up, pickup_tat_days, request_to_warehouse_days,
       cycle_days
FROM core.fct_pickups;

DROP TABLE IF EXISTS marts.vendor_quality;
CREATE TABLE marts.vendor_quality AS
WITH sold AS (
    SELECT vendor_id, category, order_month, CAST(SUM(quantity) AS BIGINT) AS units_sold
    FROM core.fct_order_lines
    WHERE vendor_id IS NOT NULL
    GROUP BY vendor_id, category, order_month
),
returned AS (
    SELECT vendor_id, category, order_month,
           CAST(SUM(quantity) AS BIGINT) AS units_returned,
           CAST(SUM(CASE WHEN reason_code IN ({{defect_reasons}}) THEN quantity ELSE 0  END) AS BIGINT)
               AS defect_units,
           CAST(SUM(CASE WHEN condition IN ({{defect_conditions}}) THEN quantity ELSE 0  END) AS BIGINT)
               AS inspected_defective_units
    FROM core.fct_returns
    WHERE return_type = 'customer_return' AND vendor_id IS NOT NULL
    GROUP BY vendor_id, category, order_month
),
vendors AS (SELECT vendor_id, vendor_name FROM staging.stg_vendors),
final AS (
    SELECT s.vendor_id, COALESCE(v.vendor_name, s.vendor_id) AS vendor_name, s.category,
           s.order_month, s.units_sold,
           COALESCE(r.units_returned, 0) AS units_returned,
           COALESCE(r.defect_units, 0) AS defect_units,
           COALESCE(r.inspected_defective_units, 0) AS inspected_defective_units
    FROM sold s
    LEFT JOIN returned r
        ON r.vendor_id = s.vendor_id AND r.category = s.category
       AND r.order_month = s.order_month
    LEFT JOIN vendors v ON v.vendor_id = s.vendor_id
)
SELECT * FROM final;

DROP TABLE IF EXISTS marts.vendor_reviews;
CREATE TABLE marts.vendor_reviews AS
SELECT vendor_id, category, review_month,
       COUNT(*) AS reviews,
       CAST(SUM(rating) AS BIGINT) AS rating_sum,
       CAST(SUM(CASE WHEN rating <= 2 THEN 1 ELSE 0  END) AS BIGINT) AS low_ratings
FROM core.fct_reviews
WHERE vendor_id IS NOT NULL
GROUP BY vendor_id, category, review_month;
