"""The quality gate: Great Expectations suites from the contract, and how rows are split."""

from datetime import date, datetime

import polars as pl
import pytest

from flows.quality import gate, suite
from flows.records import ISSUE_SCHEMA, ROW
from warehouse.contract import FEEDS

OPENED, HORIZON = date(2020, 1, 1), datetime(2026, 1, 1)
RETURN = {
    "return_id": "R1", "order_id": "O1", "line_id": 1, "sku": "P1-M", "quantity": 1,
    "return_type": "customer_return", "requested_at": datetime(2025, 3, 5),
    "reason_code": "defective", "reason_text": "broken", "resolution": "refund",
    "refund_amount": 20.0, "return_shipping_cost": 4.0, "handling_cost": 3.0,
    "restocking_fee": 0.0, "return_method": "pickup", "carrier": "SWIFT",
    "received_at": datetime(2025, 3, 8), "condition": "defective",
    "disposition": "return_to_vendor", "recovered_value": 8.0,
    "refunded_at": datetime(2025, 3, 9),
}
PARENT = {"_order_line_exists": True, "_ordered_at": datetime(2025, 3, 1), "_line_paid": 25.0,
          "_line_quantity": 1}


def returns(*changes: dict) -> pl.DataFrame:
    rows = [{ROW: i + 1, **RETURN, "return_id": f"R{i + 1}", **PARENT, **c}
            for i, c in enumerate(changes)]
    schema = {ROW: pl.Int64, **FEEDS["returns"].schema, "_order_line_exists": pl.Boolean,
              "_ordered_at": pl.Datetime("us"), "_line_paid": pl.Float64,
              "_line_quantity": pl.Int64}
    return pl.DataFrame(rows, schema=schema)


def check(frame: pl.DataFrame):
    return gate(FEEDS["returns"], frame, pl.DataFrame(schema=ISSUE_SCHEMA), OPENED, HORIZON)


def only_issue(frame: pl.DataFrame) -> dict:
    result = check(frame)
    assert result.quarantined.height == 1
    return result.quarantined.row(0, named=True)


def test_every_feed_has_a_suite_with_keys_values_and_ranges():
    for name in FEEDS:
        rules = {r.name for r in suite(name, OPENED, HORIZON)}
        assert {"unique_key", "not_null"} <= rules, name
        assert any(r.endswith("_present") for r in rules), name
    assert {"accepted_values", "range", "refund_within_paid", "order_line_exists",
            "requested_after_order"} <= {r.name for r in suite("returns", OPENED, HORIZON)}


def test_a_clean_row_loads():
    result = check(returns({}))
    assert result.good.height == 1 and result.quarantined.is_empty()
    assert result.results["success"].all()


def test_an_unknown_code_is_rejected_naming_field_and_value():
    issue = only_issue(returns({}, {"reason_code": "bored"}))
    assert (issue[ROW], issue["field"], issue["rule"], issue["status"]) == (
        2, "reason_code", "accepted_values", "rejected")
    assert "reason_code 'bored' is not one of size_too_small" in issue["message"]


def test_a_negative_amount_is_out_of_range():
    issue = only_issue(returns({"return_shipping_cost": -4.0}))
    assert issue["rule"] == "range"
    assert issue["message"] == "return_shipping_cost -4.0 should be at least 0"


def test_an_empty_required_field_is_rejected():
    assert only_issue(returns({"sku": None}))["message"] == "sku is required but empty"


def test_a_refund_above_what_was_paid_is_rejected():
    issue = only_issue(returns({"refund_amount": 90.0}))
    assert issue["rule"] == "refund_within_paid"
    assert "refund_amount 90.0 is more than the 25.0 paid" in issue["message"]


def test_messages_show_amounts_without_float_noise():
    issue = only_issue(returns({"refund_amount": 19.8 * 3, "_line_paid": 46.81 - 1e-14}))
    assert "refund_amount 59.4 is more than the 46.81 paid" in issue["message"]


def test_a_request_before_the_order_breaks_time_order():
    issue = only_issue(returns({"requested_at": datetime(2025, 2, 1),
                                "received_at": None, "refunded_at": None}))
    assert issue["rule"] == "requested_after_order"


def test_a_date_in_the_future_is_rejected():
    issue = only_issue(returns({"refunded_at": datetime(2031, 1, 1)}))
    assert issue["rule"] == "plausible_date" and "in the future" in issue["message"]


def test_a_date_before_the_shop_opened_is_rejected():
    frame = returns({"requested_at": datetime(2001, 1, 1), "received_at": None,
                     "refunded_at": None, "_ordered_at": datetime(2000, 12, 1)})
    assert only_issue(frame)["rule"] == "plausible_date"


def test_a_row_whose_only_problem_is_a_missing_parent_waits():
    issue = only_issue(returns({"_order_line_exists": False, "_ordered_at": None,
                                "_line_paid": None, "_line_quantity": None}))
    assert (issue["rule"], issue["status"]) == ("order_line_exists", "waiting")
    assert "not loaded (yet" in issue["message"]


def test_a_row_with_a_missing_parent_and_another_problem_is_rejected():
    issue = only_issue(returns({"_order_line_exists": False, "_ordered_at": None,
                                "_line_paid": None, "reason_code": "bored"}))
    assert issue["status"] == "rejected"
    assert "not one of" in issue["message"] and "not loaded" in issue["message"]


def test_a_repeated_key_keeps_the_last_row_and_counts_the_others():
    frame = returns({}, {}, {}).with_columns(return_id=pl.lit("R9"),
                                             refund_amount=pl.Series([1.0, 2.0, 3.0]))
    result = check(frame)
    assert result.good["refund_amount"].to_list() == [3.0]
    assert sorted(result.duplicates[ROW].to_list()) == [1, 2]


@pytest.mark.parametrize("changes", [
    [{}, {"reason_code": "bored"}, {"_order_line_exists": False}, {}],
    [{"return_id": "R1"}, {"return_id": "R1"}, {"quantity": 0}],
])
def test_every_row_is_loaded_quarantined_or_a_duplicate_exactly_once(changes):
    frame = returns(*changes)
    if changes[1].get("return_id"):
        frame = frame.with_columns(return_id=pl.Series(["R1", "R1", "R3"]))
    result = check(frame)
    ids = result.good[ROW].to_list() + result.quarantined[ROW].to_list() + result.duplicates[
        ROW].to_list()
    assert sorted(ids) == list(range(1, frame.height + 1))


def test_validation_results_name_each_expectation_and_its_failures():
    results = check(returns({}, {"reason_code": "bored"})).results
    failed = results.filter(~pl.col("success"))
    assert failed.select("rule", "column_name", "unexpected_count").rows() == [
        ("accepted_values", "reason_code", 1)]
    assert failed["expectation"][0] == "expect_column_values_to_be_in_set"


def test_a_warning_is_recorded_but_the_row_loads():
    orders = pl.DataFrame([{
        ROW: 1, "order_id": "O1", "line_id": 1, "customer_id": "C1", "sku": "UNKNOWN",
        "quantity": 1, "unit_price": 5.0, "discount_amount": 0.0,
        "ordered_at": datetime(2025, 1, 1), "channel": "web", "payment_method": "card",
        "ship_region": "SG", "promised_delivery_at": datetime(2025, 1, 3),
        "delivered_at": None, "_sku_known": False,
    }], schema={ROW: pl.Int64, **FEEDS["orders"].schema, "_sku_known": pl.Boolean})
    result = gate(FEEDS["orders"], orders, pl.DataFrame(schema=ISSUE_SCHEMA), OPENED, HORIZON)
    assert result.good.height == 1
    assert "refers to a product in the catalogue" in result.warnings["message"][0]
