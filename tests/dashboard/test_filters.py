"""The global filters travel between the URL, the store and the warehouse."""

from __future__ import annotations

from datetime import date

import pytest
from dash.exceptions import PreventUpdate

from dashboard.filters import (
    BadInput,
    drill_param,
    empty_state,
    month_range,
    ordered,
    page_href,
    parse_query,
    preset_range,
    range_presets,
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


def test_store_data_becomes_warehouse_filters_over_wholemonth_range() -> None:
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


def test_a_month_range_holds_every_month_across_a_year_end() -> None:
    assert month_range(date(2024, 11, 20), date(2025, 2, 3)) == [
        date(2024, 11, 1), date(2024, 12, 1), date(2025, 1, 1), date(2025, 2, 1)]


def test_a_reversed_month_range_is_empty() -> None:
    assert month_range(date(2025, 2, 1), date(2024, 11, 1)) == []


def test_ready_made_ranges_end_at_the_newest_day_or_month_with_data() -> None:
    presets = range_presets(date(2024, 1, 5), date(2025, 11, 16))

    assert [(o["label"], o["value"], o["title"]) for o in presets] == [
        ("Last 7 days", "2025-11-10/2025-11-16", "10 Nov 2025 – 16 Nov 2025"),
        ("Last 28 days", "2025-10-20/2025-11-16", "20 Oct 2025 – 16 Nov 2025"),
        ("Last 90 days", "2025-08-19/2025-11-16", "19 Aug 2025 – 16 Nov 2025"),
        ("Latest month", "2025-11/2025-11", "Nov 2025"),
        ("Last 3 months", "2025-09/2025-11", "Sep – Nov 2025"),
        ("Last 6 months", "2025-06/2025-11", "Jun – Nov 2025"),
        ("Last 12 months", "2024-12/2025-11", "Dec 2024 – Nov 2025"),
        ("Q3 2025", "2025-07/2025-09", "Jul – Sep 2025"),
        ("Quarter to date", "2025-10/2025-11", "Oct – Nov 2025"),
        ("Year to date", "2025-01/2025-11", "Jan – Nov 2025"),
        ("Year 2024", "2024-01/2024-12", "Jan – Dec 2024"),
    ]


def test_a_range_reaching_before_the_data_or_offered_twice_is_left_out() -> None:
    presets = range_presets(date(2025, 4, 1), date(2025, 6, 20))

    # 90 days reach into March; a quarter that has just ended is the last 3 months and the
    # quarter to date is one month
    assert [o["label"] for o in presets] == ["Last 7 days", "Last 28 days", "Latest month",
                                             "Last 3 months"]


def test_a_source_without_dates_offers_no_ready_made_range() -> None:
    assert range_presets(None, None) == []


def test_a_range_value_that_no_preset_could_send_is_refused() -> None:
    assert preset_range("2025-09/2025-11") == ("2025-09", "2025-11")
    assert preset_range("2025-11-10/2025-11-16") == ("2025-11-10", "2025-11-16")
    for value in ("2025-11/2025-09", "2025-13/2025-14", "2025-02-30/2025-03-01",
                  "2025-11-16/2025-11-10", "last 3 months", 3):
        with pytest.raises(BadInput):
            preset_range(value)


def test_days_in_the_url_become_a_day_range() -> None:
    state = parse_query("?from=2025-11-03&to=2025-11-16", months={"2025-11"})
    filters = to_filters(state)

    assert (filters.date_from, filters.date_to) == (date(2025, 11, 3), date(2025, 11, 16))


def test_a_day_outside_the_months_with_data_or_not_in_the_calendar_is_dropped() -> None:
    state = parse_query("?from=2024-01-03&to=2025-02-30", months={"2025-02"})

    assert (state["from"], state["to"]) == (None, None)


def test_a_month_and_a_day_compare_by_the_days_they_cover() -> None:
    # 'from' 15 June is inside 'to' June, which ends on 30 June: not reversed
    assert ordered({"from": "2025-06-15", "to": "2025-06"}) == \
        {"from": "2025-06-15", "to": "2025-06"}
    assert ordered({"from": "2025-07-02", "to": "2025-06"}) == \
        {"from": "2025-06", "to": "2025-07-02"}


def test_store_data_with_a_day_that_is_not_in_the_calendar_is_refused() -> None:
    with pytest.raises(BadInput, match="not a month"):
        to_filters({**empty_state(), "to": "2025-02-30"})
