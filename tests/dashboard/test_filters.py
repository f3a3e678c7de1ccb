"""The global filters travel between the URL, the store and the warehouse."""

from __future__ import annotations

from datetime import date

import pytest
from dash.exceptions import PreventUpdate

from dashboard.filters import (
    drill_param,
    empty_state,
    page_href,
    parse_query,
    to_filters,
    to_query,
)


def test_query_string_round_trips() -> None:
    state = {"from": "2025-01", "to": "2025-06", "category": ["apparel", "shoes"],
             "channel": ["app"], "region": []}

    assert parse_query(to_query(state)) == state


def test_no_filter_gives_an_empty_query_string() -> None:
    assert to_query(empty_state()) == ""


def test_values_not_offered_are_dropped() -> None:
    state = parse_query("?from=1999-01&category=apparel,bogus",
                        months={"2025-01"}, values={"category": {"apparel"}})

    assert state["from"] is None
    assert state["category"] == ["apparel"]


def test_a_reversed_month_range_is_put_right() -> None:
    state = parse_query("?from=2025-06&to=2025-01")

    assert (state["from"], state["to"]) == ("2025-01", "2025-06")


def test_store_data_becomes_warehouse_filters_over_whole_months() -> None:
    filters = to_filters({"from": "2025-01", "to": "2025-02", "category": ["shoes"],
                          "channel": [], "region": ["SG"]})

    assert (filters.date_from, filters.date_to) == (date(2025, 1, 1), date(2025, 2, 28))
    assert filters.categories == ("shoes",) and filters.regions == ("SG",)


def test_callbacks_wait_until_the_filters_are_known() -> None:
    with pytest.raises(PreventUpdate):
        to_filters(None)


def test_a_link_to_another_pages_view_keeps_the_filters() -> None:
    state = {**empty_state(), "to": "2025-06", "region": ["SG"]}

    href = page_href("/products", state, drill_param("sku", "P1-S"))

    assert href == "/products?to=2025-06&region=SG&drill=sku%3AP1-S"


def test_a_pages_own_parameters_cannot_replace_a_filter() -> None:
    state = {**empty_state(), "category": ["shoes"]}

    assert to_query(state, {"category": "apparel", "group": "size"}) == \
        "?category=shoes&group=size"
