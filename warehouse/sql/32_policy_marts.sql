-- Policy Lab marts: what the return-policy simulator learns from (models/policy.py).

-- The return policy in force over time, as the merchant declared it.
DROP TABLE IF EXISTS marts.policy_history;
CREATE TABLE marts.policy_history AS
SELECT policy_id, effective_from, effective_to, window_days, restocking_fee_pct,
       free_return_shipping
FROM staging.stg_return_policy;

-- One row per return (customer return or RTO) of a known order line, with the order's date,
-- its policy and every money column of its net cost (docs/kpis.md), so a cohort's units
-- returned and net return cost can be recomputed under another policy.
DROP TABLE IF EXISTS marts.policy_return_lines;
CREATE TABLE marts.policy_return_lines AS
WITH returns AS (
    SELECT * FROM core.fct_returns WHERE order_line_known
),
final AS (
    SELECT order_date, requested_date, customer_id, category, return_type, reason_code,
           resolution, quantity, days_to_return, policy_id,
           refund_amount,
           COALESCE(restocking_fee, 0) AS restocking_fee,
           COALESCE(return_shipping_cost, 0) AS return_shipping_cost,
           COALESCE(handling_cost, 0) AS handling_cost,
           exchange_cost,
           COALESCE(recovered_value, 0) AS recovered_value,
           net_cost,
           unit_cost * quantity AS replacement_cost
    FROM returns
)
SELECT * FROM final;

-- Units sold and delivered per order date and category: the exposure returns are counted
-- against (a line never delivered cannot be returned by the customer).
DROP TABLE IF EXISTS marts.policy_sales_daily;
CREATE TABLE marts.policy_sales_daily AS
WITH lines AS (SELECT * FROM core.fct_order_lines),
final AS (
    SELECT order_date, category,
           COUNT(*) AS order_lines,
           CAST(SUM(quantity) AS BIGINT) AS units_sold,
           CAST(SUM(CASE WHEN delivered_at IS NOT NULL THEN quantity ELSE 0 END) AS BIGINT)
               AS units_delivered,
           SUM(net_value) AS sold_value
    FROM lines
    GROUP BY order_date, category
)
SELECT * FROM final;

-- What each customer bought per day: the later purchases of customers who returned.
DROP TABLE IF EXISTS marts.customer_spend_daily;
CREATE TABLE marts.customer_spend_daily AS
WITH lines AS (SELECT * FROM core.fct_order_lines),
final AS (
    SELECT customer_id, order_date, SUM(net_value) AS spend
    FROM lines
    GROUP BY customer_id, order_date
)
SELECT * FROM final;
