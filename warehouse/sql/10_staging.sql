-- Staging: one view per source table, contract columns only (lineage columns stay in raw).
CREATE OR REPLACE VIEW staging.stg_orders AS
SELECT order_id, line_id, customer_id, sku, quantity, unit_price, discount_amount, ordered_at,
       channel, payment_method, ship_region, promised_delivery_at, delivered_at
FROM raw.orders;

CREATE OR REPLACE VIEW staging.stg_returns AS
SELECT return_id, order_id, line_id, sku, quantity, return_type, requested_at, reason_code,
       reason_text, resolution, refund_amount, return_shipping_cost, handling_cost,
       restocking_fee, return_method, carrier, received_at, condition, disposition,
       recovered_value, refunded_at
FROM raw.returns;

CREATE OR REPLACE VIEW staging.stg_carrier_scans AS
SELECT scan_id, return_id, awb, carrier, event_code, failure_reason, attempt, event_at, region
FROM raw.carrier_scans;

CREATE OR REPLACE VIEW staging.stg_reviews AS
SELECT review_id, order_id, sku, customer_id, rating, text AS review_text, language, reviewed_at
FROM raw.reviews;

CREATE OR REPLACE VIEW staging.stg_products AS
SELECT sku, product_id, product_name, category, size, vendor_id, list_price, unit_cost
FROM raw.products;

CREATE OR REPLACE VIEW staging.stg_vendors AS
SELECT vendor_id, vendor_name, country AS vendor_country
FROM raw.vendors;

CREATE OR REPLACE VIEW staging.stg_carriers AS
SELECT carrier, carrier_name, base_pickup_cost
FROM raw.carriers;

CREATE OR REPLACE VIEW staging.stg_regions AS
SELECT region, region_name, country, zone
FROM raw.regions;

CREATE OR REPLACE VIEW staging.stg_return_policy AS
SELECT policy_id, effective_from, effective_to, window_days, restocking_fee_pct,
       free_return_shipping
FROM raw.return_policy;
