-- Dashboard marts: the grains the dashboard's pages filter and drill on (portable SQL).

-- Returns by the day they were requested and every segment a page filters on: the Costs page
-- (money by month, category, channel, region, reason, disposition, SKU) and the Products page's
-- reason Paretos (customer returns with a known order line, by order cohort: the order day).
DROP TABLE IF EXISTS marts.returns_daily;
CREATE TABLE marts.returns_daily AS
WITH returns AS (SELECT * FROM core.fct_returns),
final AS (
    SELECT requested_date, requested_month, order_date, order_month, sku, product_id,
           category, size, vendor_id, channel, ship_region, reason_code, return_type,
           resolution, disposition,
           COUNT(*) AS returns,
           SUM(quantity) AS units,
           SUM(refund_amount) AS refund_amount,
           SUM(restocking_fee) AS restocking_fee,
           SUM(return_shipping_cost) AS return_shipping_cost,
           SUM(handling_cost) AS handling_cost,
           SUM(exchange_cost) AS exchange_cost,
           SUM(recovered_value) AS recovered_value,
           SUM(net_cost) AS net_cost,
           SUM(COALESCE(unit_price, 0) * quantity) AS original_value
    FROM returns
    GROUP BY requested_date, requested_month, order_date, order_month, sku, product_id,
             category, size, vendor_id, channel, ship_region, reason_code, return_type,
             resolution, disposition
)
SELECT * FROM final;

-- The cohort return-lag curve: customer returns of each order-month cohort by whole days from
-- the first day of that month to the request, so a young cohort's completeness can be read
-- off the curve of the cohorts that have finished returning.
DROP TABLE IF EXISTS marts.return_lag;
CREATE TABLE marts.return_lag AS
WITH returns AS (
    SELECT * FROM core.fct_returns
    WHERE return_type = 'customer_return' AND order_line_known
),
lagged AS (
    SELECT category, channel, ship_region, order_month, quantity,
           CAST(FLOOR(EXTRACT(EPOCH FROM (requested_at - CAST(order_month AS TIMESTAMP)))
                      / 86400.0) AS INTEGER) AS days_since_cohort_start
    FROM returns
),
final AS (
    SELECT category, channel, ship_region, order_month, days_since_cohort_start,
           COUNT(*) AS returns,
           SUM(quantity) AS units_returned
    FROM lagged
    GROUP BY category, channel, ship_region, order_month, days_since_cohort_start
)
SELECT * FROM final;

-- What customers said about a SKU: return comments (with the inspection result) and reviews.
DROP TABLE IF EXISTS marts.sku_feedback;
CREATE TABLE marts.sku_feedback AS
WITH comments AS (
    SELECT return_id AS feedback_id, 'return comment' AS source, sku, product_id, category,
           vendor_id, requested_at AS feedback_at, order_month, reason_code, condition,
           CAST(NULL AS INTEGER) AS rating, reason_text AS feedback_text,
           CAST(NULL AS TEXT) AS language
    FROM core.fct_returns
    WHERE return_type = 'customer_return'
),
reviews AS (
    SELECT r.review_id AS feedback_id, 'review' AS source, r.sku, r.product_id, r.category,
           r.vendor_id, r.reviewed_at AS feedback_at,
           CAST(date_trunc('month', l.ordered_at) AS DATE) AS order_month,
           CAST(NULL AS TEXT) AS reason_code, CAST(NULL AS TEXT) AS condition,
           CAST(r.rating AS INTEGER) AS rating, r.review_text AS feedback_text, r.language
    FROM core.fct_reviews r
    LEFT JOIN (SELECT DISTINCT order_id, ordered_at FROM staging.stg_orders) l
        ON l.order_id = r.order_id
),
final AS (
    SELECT * FROM comments
    UNION ALL
    SELECT * FROM reviews
)
SELECT * FROM final;

-- The SKUs a user can search for on the Products page (code or product name), with where
-- they sit in the drill-down: only SKUs that sold, the ones the page has cohorts for.
DROP TABLE IF EXISTS marts.product_catalogue;
CREATE TABLE marts.product_catalogue AS
WITH products AS (SELECT * FROM core.dim_products),
sold AS (SELECT DISTINCT sku FROM marts.sku_returns),
final AS (
    SELECT p.sku, p.product_id, p.product_name, p.category, p.size
    FROM products p
    JOIN sold s ON s.sku = p.sku
)
SELECT * FROM final;

-- Reverse pickups per carrier, region and request day, for choosing a carrier per region:
-- first-attempt pickups, time to pickup and reverse-shipping cost as sums and sums of squares,
-- so any date range adds up to means with their spread.
DROP TABLE IF EXISTS marts.carrier_region_pickups;
CREATE TABLE marts.carrier_region_pickups AS
WITH pickups AS (SELECT * FROM core.fct_pickups),
returns AS (SELECT return_id, return_shipping_cost FROM staging.stg_returns),
final AS (
    SELECT p.carrier, p.region, p.requested_date,
           COUNT(*) AS pickups,
           CAST(SUM(CASE WHEN p.picked_up_at IS NOT NULL AND p.failed_attempts = 0
                         THEN 1 ELSE 0 END) AS BIGINT) AS first_attempt_pickups,
           CAST(SUM(CASE WHEN p.pickup_tat_days IS NOT NULL THEN 1 ELSE 0 END) AS BIGINT)
               AS timed_pickups,
           -- in floating point: PostgreSQL's epoch arithmetic is NUMERIC, and the squares'
           -- exact sums outgrow what a reader can hold
           SUM(CAST(p.pickup_tat_days AS DOUBLE PRECISION)) AS pickup_days,
           SUM(CAST(p.pickup_tat_days * p.pickup_tat_days AS DOUBLE PRECISION))
               AS pickup_days_sq,
           CAST(SUM(CASE WHEN r.return_shipping_cost IS NOT NULL THEN 1 ELSE 0 END) AS BIGINT)
               AS costed_pickups,
           SUM(CAST(r.return_shipping_cost AS DOUBLE PRECISION)) AS shipping_cost,
           SUM(CAST(r.return_shipping_cost * r.return_shipping_cost AS DOUBLE PRECISION))
               AS shipping_cost_sq
    FROM pickups p
    LEFT JOIN returns r ON r.return_id = p.return_id
    WHERE p.requested_date IS NOT NULL
    GROUP BY p.carrier, p.region, p.requested_date
)
SELECT * FROM final;

-- Order lines per SKU, segment and order day by the days from ordering to the line's first
-- customer return (and to its first return for a defect reason; NULL when none), so the
-- Overview compares the return rates of two cohorts of orders over the same days after
-- ordering, with order lines as the trials (a line of 400 units returned at once is one event).
DROP TABLE IF EXISTS marts.sku_line_cohorts;
CREATE TABLE marts.sku_line_cohorts AS
WITH lines AS (SELECT * FROM core.fct_order_lines),
returns AS (
    SELECT order_id, line_id,
           MIN(requested_date) AS first_requested_date,
           MIN(CASE WHEN reason_code IN ({{defect_reasons}}) THEN requested_date END)
               AS first_defect_requested_date
    FROM core.fct_returns
    WHERE return_type = 'customer_return' AND order_line_known
    GROUP BY order_id, line_id
),
aged AS (
    SELECT l.sku, l.category, l.vendor_id, l.channel, l.ship_region, l.order_date, l.quantity,
           CAST(r.first_requested_date - l.order_date AS INTEGER) AS days_to_return,
           CAST(r.first_defect_requested_date - l.order_date AS INTEGER)
               AS days_to_defect_return
    FROM lines l
    LEFT JOIN returns r ON r.order_id = l.order_id AND r.line_id = l.line_id
),
final AS (
    SELECT sku, category, vendor_id, channel, ship_region, order_date, days_to_return,
           days_to_defect_return,
           COUNT(*) AS order_lines,
           CAST(SUM(quantity) AS BIGINT) AS units_sold
    FROM aged
    GROUP BY sku, category, vendor_id, channel, ship_region, order_date, days_to_return,
             days_to_defect_return
)
SELECT * FROM final;

-- Region names beside their codes, for every page that shows a region.
DROP TABLE IF EXISTS marts.region_names;
CREATE TABLE marts.region_names AS
SELECT region, region_name FROM core.dim_regions WHERE region_name IS NOT NULL;
