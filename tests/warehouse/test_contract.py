from pathlib import Path

import polars as pl

from warehouse.contract import FEEDS, render_markdown

DOCS = Path(__file__).parents[2] / "docs" / "data-contract.md"


def test_every_feed_has_its_natural_key_among_its_columns():
    for feed in FEEDS.values():
        assert set(feed.key) <= set(feed.column_names), feed.name


def test_the_four_feeds_carry_the_columns_users_rely_on():
    assert {"order_id", "line_id", "customer_id", "sku", "quantity", "unit_price",
            "discount_amount", "ordered_at", "channel", "payment_method", "ship_region",
            "promised_delivery_at", "delivered_at"} <= set(FEEDS["orders"].column_names)
    assert {"return_id", "return_type", "reason_code", "reason_text", "resolution",
            "refund_amount", "return_shipping_cost", "restocking_fee", "received_at",
            "condition", "disposition", "recovered_value", "refunded_at"} <= set(
        FEEDS["returns"].column_names)
    assert {"scan_id", "return_id", "awb", "carrier", "event_code", "failure_reason",
            "attempt", "event_at", "region"} <= set(FEEDS["carrier_scans"].column_names)
    assert {"review_id", "order_id", "sku", "customer_id", "rating", "text", "language",
            "reviewed_at"} <= set(FEEDS["reviews"].column_names)


def test_reference_tables_load_before_the_feeds_that_point_at_them():
    names = list(FEEDS)
    assert names.index("products") < names.index("orders")
    assert names.index("vendors") < names.index("products")


def test_schema_gives_polars_types():
    assert FEEDS["orders"].schema["quantity"] == pl.Int64


def test_docs_are_rendered_from_the_contract():
    assert DOCS.read_text(encoding="utf-8") == render_markdown(), (
        "docs/data-contract.md is stale: run `python -m warehouse.contract > "
        "docs/data-contract.md`")
