-- Vendor quality marts: the grains the vendor scorecards, change-point dating and evidence
-- packs need. Order lines are the trials (a wholesale line of 50 units is one trial, not 50).

-- Order lines per vendor, category and order day: the denominators of every vendor rate.
DROP TABLE IF EXISTS marts.vendor_lines_daily;
CREATE TABLE marts.vendor_lines_daily AS
WITH lines AS (SELECT * FROM core.fct_order_lines WHERE vendor_id IS NOT NULL),
final AS (
    SELECT vendor_id, category, order_date,
           COUNT(*) AS order_lines,
           CAST(SUM(quantity) AS BIGINT) AS units_sold,
           SUM(net_value) AS sold_value
    FROM lines
    GROUP BY vendor_id, category, order_date
)
SELECT * FROM final;

-- Order lines per vendor, SKU and order month: the SKU breakdown's denominators.
DROP TABLE IF EXISTS marts.vendor_sku_monthly;
CREATE TABLE marts.vendor_sku_monthly AS
WITH lines AS (SELECT * FROM core.fct_order_lines WHERE vendor_id IS NOT NULL),
final AS (
    SELECT vendor_id, category, sku, product_id, size, order_month,
           COUNT(*) AS order_lines,
           CAST(SUM(quantity) AS BIGINT) AS units_sold,
           SUM(net_value) AS sold_value
    FROM lines
    GROUP BY vendor_id, category, sku, product_id, size, order_month
)
SELECT * FROM final;

-- Customer returns of vendors' products, one row each, with what the customer picked and
-- wrote, what inspection found, and what the return cost the merchant.
DROP TABLE IF EXISTS marts.vendor_return_lines;
CREATE TABLE marts.vendor_return_lines AS
WITH returns AS (
    SELECT * FROM core.fct_returns
    WHERE return_type = 'customer_return' AND vendor_id IS NOT NULL
),
final AS (
    SELECT return_id, order_id, line_id, vendor_id, category, sku, product_id, order_date,
           order_month, requested_date, quantity, reason_code, reason_text, condition,
           disposition, refund_amount, recovered_value, net_cost
    FROM returns
)
SELECT * FROM final;

-- Reviews of vendors' products, one row each, in the customer's language.
DROP TABLE IF EXISTS marts.vendor_review_texts;
CREATE TABLE marts.vendor_review_texts AS
WITH reviews AS (SELECT * FROM core.fct_reviews WHERE vendor_id IS NOT NULL),
final AS (
    SELECT review_id, order_id, vendor_id, category, sku, product_id,
           CAST(reviewed_at AS DATE) AS review_date, review_month,
           CAST(rating AS INTEGER) AS rating, language, review_text
    FROM reviews
)
SELECT * FROM final;

-- Vendors' names, for every page and pack that shows a vendor id (the id where a source
-- has no vendor reference table).
DROP TABLE IF EXISTS marts.vendor_names;
CREATE TABLE marts.vendor_names AS
WITH sold AS (SELECT DISTINCT vendor_id FROM core.fct_order_lines WHERE vendor_id IS NOT NULL),
vendors AS (SELECT vendor_id, vendor_name FROM staging.stg_vendors),
final AS (
    SELECT s.vendor_id, COALESCE(v.vendor_name, s.vendor_id) AS vendor_name
    FROM sold s
    LEFT JOIN vendors v ON v.vendor_id = s.vendor_id
)
SELECT * FROM final;
