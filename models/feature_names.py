"""The return-risk model's features: their names, kinds and what each is in words.

A module of its own, without scikit-learn, so the dashboard can name the features without
importing the model's libraries (~1.2 s at start-up).
"""

from __future__ import annotations

CATEGORICAL = ("category", "size", "channel", "payment_method", "ship_region", "vendor_id")
NUMERIC = (
    "quantity", "unit_price", "net_value", "discount_depth", "price_vs_category",
    "promised_days", "order_lines", "order_units", "order_value", "bracket_sizes",
    "cust_prior_orders", "cust_prior_lines", "cust_prior_units", "cust_prior_value_cents",
    "cust_prior_returns", "cust_prior_return_units", "cust_prior_size_returns",
    "cust_prior_defect_returns", "cust_prior_rto", "cust_prior_bad_condition",
    "cust_return_rate", "cust_tenure_days", "cust_days_since_last_order",
    "cust_days_since_last_return",
    "prod_prior_lines", "prod_prior_returns", "prod_return_rate", "prod_small_share",
    "prod_large_share", "prod_defect_share",
    "sku_prior_lines", "sku_prior_returns", "sku_return_rate",
    "vendor_lines_30d", "vendor_return_rate_30d", "vendor_defect_rate_30d",
    "vendor_defect_rate",
    "delivery_days", "delivery_late_days",
)
FEATURES = CATEGORICAL + NUMERIC
# what each feature is, in words, for the Risk page (all as known when the order was placed)
FEATURE_LABELS = {
    "category": "Category", "size": "Size", "channel": "Sales channel",
    "payment_method": "Payment method", "ship_region": "Ship-to region", "vendor_id": "Vendor",
    "quantity": "Units on the line", "unit_price": "Unit price",
    "net_value": "Line value after discount", "discount_depth": "Discount on the line",
    "price_vs_category": "Price against the category's median",
    "promised_days": "Promised days to delivery", "order_lines": "Lines in the order",
    "order_units": "Units in the order", "order_value": "Order value",
    "bracket_sizes": "Sizes of the product in the order",
    "cust_prior_orders": "Customer's earlier orders",
    "cust_prior_lines": "Customer's earlier order lines",
    "cust_prior_units": "Customer's earlier units",
    "cust_prior_value_cents": "Customer's earlier spend",
    "cust_prior_returns": "Customer's earlier returns",
    "cust_prior_return_units": "Customer's earlier units returned",
    "cust_prior_size_returns": "Customer's earlier returns for size",
    "cust_prior_defect_returns": "Customer's earlier returns as defects",
    "cust_prior_rto": "Customer's earlier undelivered orders (RTO)",
    "cust_prior_bad_condition": "Customer's earlier returns in bad condition",
    "cust_return_rate": "Customer's return rate so far",
    "cust_tenure_days": "Days since the customer's first order",
    "cust_days_since_last_order": "Days since the customer's last order",
    "cust_days_since_last_return": "Days since the customer's last return",
    "prod_prior_lines": "Product's earlier order lines",
    "prod_prior_returns": "Product's earlier returns",
    "prod_return_rate": "Product's return rate so far",
    "prod_small_share": "Share of the product's returns: too small",
    "prod_large_share": "Share of the product's returns: too large",
    "prod_defect_share": "Share of the product's returns: defects",
    "sku_prior_lines": "SKU's earlier order lines", "sku_prior_returns": "SKU's earlier returns",
    "sku_return_rate": "SKU's return rate so far",
    "vendor_lines_30d": "Vendor's order lines, last 30 days",
    "vendor_return_rate_30d": "Vendor's return rate, last 30 days",
    "vendor_defect_rate_30d": "Vendor's defect rate, last 30 days",
    "vendor_defect_rate": "Vendor's defect rate so far",
    "delivery_days": "Days to delivery", "delivery_late_days": "Days delivered late",
}
