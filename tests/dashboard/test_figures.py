"""Figure builders: pure functions from frames to plotly figures."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from dashboard import figures


def test_waterfall_ends_at_the_net_cost() -> None:
    totals = {"refund_amount": 900.0, "restocking_fee": 100.0, "return_shipping_cost": 50.0,
              "handling_cost": 30.0, "exchange_cost": 20.0, "recovered_value": 400.0,
              "net_cost": 600.0}

    fig = figures.make_waterfall_figure(totals)

    steps = [y for y, m in zip(fig.data[0].y, fig.data[0].measure, strict=True) if m != "total"]
    assert sum(steps) == pytest.approx(totals["net_cost"])
    assert fig.data[0].x[0] == "Gross refunds" and fig.data[0].y[0] == 1000.0


def test_empty_frames_give_a_figure_that_says_why() -> None:
    fig = figures.make_npr_trend_figure(pl.DataFrame(schema={"week": pl.Date}))

    assert fig.layout.annotations[0].text == "No pickup attempts for the current filters"


def test_return_rate_figure_marks_immature_cohorts_apart() -> None:
    trend = pl.DataFrame({
        "order_month": [date(2025, 10, 1), date(2025, 11, 1), date(2025, 12, 1)],
        "return_rate": [0.3, 0.31, 0.15], "immature": [False, False, True],
        "expected_final_rate": [None, None, 0.3]})

    fig = figures.make_return_rate_figure(trend)

    names = [t.name for t in fig.data]
    assert "Return rate so far (returns still arriving)" in names
    expected = next(t for t in fig.data if t.name.startswith("Expected final"))
    assert list(expected.y) == [0.3]


def test_cohort_heatmap_has_a_row_per_key_and_a_column_per_month() -> None:
    grid = pl.DataFrame({"key": ["a", "a", "b"],
                         "order_month": [date(2025, 1, 1), date(2025, 2, 1), date(2025, 1, 1)],
                         "units_sold": [10, 10, 5], "units_returned": [1, 2, 5]})

    fig = figures.make_cohort_heatmap_figure(grid, "Category")

    assert list(fig.data[0].y) == ["a", "b"]
    assert list(fig.data[0].z[1]) == [1.0, None]
