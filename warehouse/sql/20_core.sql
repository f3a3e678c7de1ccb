-- Core: conformed facts and dimensions, one row per business event.
DROP TABLE IF EXISTS core.dim_products;
CREATE TABLE core.dim_products AS
WITH products AS (SELECT * FROM staging.stg_products),
vendors AS (SELECT * FROM staging.stg_vendors),
final AS (
    SELECT p.sku, p.product_id, p.product_name, p.category, p.size, p.vendor_id,
           COALESCE(v.vendor_name, p.vendor_id) AS vendor_name, p.list_price, p.unit_cost
    FROM products p
    LEFT JOIN vendors v ON v.vendor_id = p.vendor_id
)
SELECT * FROM final;

-- Regions: code and name (a source without a regions feed has none: pages show the codes).
DROP TABLE IF EXISTS core.dim_regions;
CREATE TABLE core.dim_regions AS
WITH regions AS (SELECT * FROM staging.stg_regions),
final AS (
    SELECT region, MAX(region_name) AS region_name, MAX(country) AS country
    FROM regions
    GROUP BY region
)
SELECT * FROM final;

DROP TABLE IF EXISTS core.fct_returns;
CREATE TABLE core.fct_returns AS
WITH returns AS (SELECT * FROM staging.stg_returns),
lines AS (SELECT * FROM staging.stg_orders),
products AS (SELECT * FROM core.dim_products),
policy AS (SELECT * FROM staging.stg_return_policy),
joined AS (
    SELECT r.*,
           l.customer_id, l.ordered_at, l.delivered_at, l.channel, l.payment_method,
           l.ship_region, l.unit_price, l.quantity AS quantity_sold,
           COALESCE(p.category, 'unknown') AS category, p.product_id, p.size, p.vendor_id,
           p.vendor_name, COALESCE(p.unit_cost, 0) AS unit_cost,
           l.order_id IS NOT NULL AS order_line_known
    FROM returns r
    LEFT JOIN lines l ON l.order_id = r.order_id AND l.line_id = r.line_id
    LEFT JOIN products p ON p.sku = r.sku
),
final AS (
    SELECT j.*,
           CAST(j.ordered_at AS DATE) AS order_date,
           CAST(date_trunc('month', j.ordered_at) AS DATE) AS order_month,
           CAST(j.requested_at AS DATE) AS requested_date,
           CAST(date_trunc('month', j.requested_at) AS DATE) AS requested_month,
           EXTRACT(EPOCH FROM (j.requested_at - j.delivered_at)) / 86400.0 AS days_to_return,
           EXTRACT(EPOCH FROM (j.refunded_at - j.requested_at)) / 86400.0 AS cycle_days,
           CASE WHEN j.resolution = 'exchange' THEN j.unit_cost * j.quantity ELSE 0 END
               AS exchange_cost,
           -- a cost the source does not record counts as 0 here; marts.data_coverage tells
           -- the pages which cost fields a source actually carries
           CASE WHEN j.return_type = 'rto'
                THEN COALESCE(j.return_shipping_cost, 0) + COALESCE(j.handling_cost, 0)
                ELSE j.refund_amount + COALESCE(j.return_shipping_cost, 0)
                     + COALESCE(j.handling_cost, 0)
                     + CASE WHEN j.resolution = 'exchange' THEN j.unit_cost * j.quantity
                            ELSE 0 END
                     - COALESCE(j.recovered_value, 0)
           END AS net_cost,
           pol.policy_id, pol.window_days
    FROM joined j
    LEFT JOIN policy pol
        ON CAST(j.ordered_at AS DATE) >= pol.effective_from
       AND (pol.effective_to IS NULL OR CAST(j.ordered_at AS DATE) <= pol.effective_to)
)
SELECT * FROM final;

DROP TABLE IF EXISTS core.fct_order_lines;
CREATE TABLE core.fct_order_lines AS
WITH lines AS (SELECT * FROM staging.stg_orders),
products AS (SELECT * FROM core.dim_products),
returned AS (
    SELECT order_id, line_id,
           CAST(SUM(CASE WHEN return_type = 'customer_return' THEN quantity ELSE 0  END) AS BIGINT)
               AS units_returned,
           SUM(CASE WHEN return_type = 'customer_return' THEN refund_amount ELSE 0 END)
               AS refund_amount,
           CAST(SUM(CASE WHEN return_type = 'rto' THEN quantity ELSE 0  END) AS BIGINT) AS rto_units,
           SUM(net_cost) AS net_return_cost
    FROM core.fct_returns
    GROUP BY order_id, line_id
),
final AS (
    SELECT l.order_id, l.line_id, l.customer_id, l.sku, p.product_id,
           COALESCE(p.category, 'unknown') AS category, p.size, p.vendor_id,
           l.quantity, l.unit_price, l.discount_amount,
           l.quantity * l.unit_price AS gross_value,
           l.quantity * l.unit_price - l.discount_amount AS net_value,
           l.ordered_at,
           CAST(l.ordered_at AS DATE) AS order_date,
           CAST(date_trunc('month', l.ordered_at) AS DATE) AS order_month,
           l.channel, l.payment_method, l.ship_region, l.promised_delivery_at, l.delivered_at,
           EXTRACT(EPOCH FROM (l.delivered_at - l.promised_delivery_at)) / 86400.0
               AS delivery_delay_days,
           COALESCE(r.units_returned, 0) AS units_returned,
           COALESCE(r.refund_amount, 0) AS refund_amount,
           COALESCE(r.rto_units, 0) AS rto_units,
           COALESCE(r.net_return_cost, 0) AS net_return_cost
    FROM lines l
    LEFT JOIN products p ON p.sku = l.sku
    LEFT JOIN returned r ON r.order_id = l.order_id AND r.line_id = l.line_id
)
SELECT * FROM final;

DROP TABLE IF EXISTS core.fct_pickup_attempts;
CREATE TABLE core.fct_pickup_attempts AS
WITH scans AS (SELECT * FROM staging.stg_carrier_scans),
final AS (
    SELECT return_id, carrier, region, attempt, event_at AS attempted_at,
           CAST(event_at AS DATE) AS attempt_date,
           CAST(EXTRACT(ISODOW FROM event_at) AS INTEGER) AS weekday,
           CASE WHEN event_code = 'pickup_failed' THEN 1 ELSE 0 END AS failed,
           failure_reason
    FROM scans
    WHERE event_code IN ('pickup_failed', 'picked_up')
)
SELECT * FROM final;

DROP TABLE IF EXISTS core.fct_pickups;
CREATE TABLE core.fct_pickups AS
WITH scans AS (SELECT * FROM staging.stg_carrier_scans),
returns AS (SELECT * FROM staging.stg_returns),
per_return AS (
    SELECT return_id,
           MIN(carrier) AS carrier,
           MIN(region) AS region,
           MIN(CASE WHEN event_code = 'pickup_scheduled' THEN event_at END) AS scheduled_at,
           MIN(CASE WHEN event_code = 'picked_up' THEN event_at END) AS picked_up_at,
           MIN(CASE WHEN event_code = 'delivered_to_warehouse' THEN event_at END)
               AS delivered_to_warehouse_at,
           CAST(SUM(CASE WHEN event_code IN ('pickup_failed', 'picked_up') THEN 1 ELSE 0  END) AS BIGINT)
               AS attempts,
           CAST(SUM(CASE WHEN event_code = 'pickup_failed' THEN 1 ELSE 0  END) AS BIGINT) AS failed_attempts
    FROM scans
    GROUP BY return_id
),
final AS (
    SELECT p.*, r.requested_at, CAST(r.requested_at AS DATE) AS requested_date, r.refunded_at,
           EXTRACT(EPOCH FROM (p.picked_up_at - r.requested_at)) / 86400.0 AS pickup_tat_days,
           EXTRACT(EPOCH FROM (p.delivered_to_warehouse_at - r.requested_at)) / 86400.0
               AS request_to_warehouse_days,
           EXTRACT(EPOCH FROM (r.refunded_at - r.requested_at)) / 86400.0 AS cycle_days
    FROM per_return p
    LEFT JOIN returns r ON r.return_id = p.return_id
)
SELECT * FROM final;

DROP TABLE IF EXISTS core.fct_reviews;
CREATE TABLE core.fct_reviews AS
WITH reviews AS (SELECT * FROM staging.stg_reviews),
products AS (SELECT * FROM core.dim_products),
final AS (
    SELECT r.review_id, r.order_id, r.sku, r.customer_id, r.rating, r.review_text, r.language,
           r.reviewed_at, CAST(date_trunc('month', r.reviewed_at) AS DATE) AS review_month,
           p.product_id, COALESCE(p.category, 'unknown') AS category, p.vendor_id
    FROM reviews r
    LEFT JOIN products p ON p.sku = r.sku
)
SELECT * FROM final;
