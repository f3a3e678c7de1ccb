"""Figure builders: pure functions from frames to plotly figures."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import polars as pl
import pytest
from plotly.basedatatypes import BaseTraceType

from dashboard import figures

ROOT = Path(__file__).resolve().parents[2]


def test_waterfall_ends_at_the_net_cost() -> None:
    totals = {"refund_amount": 900.0, "restocking_fee": 100.0, "return_shipping_cost": 50.0,
              "handling_cost": 30.0, "exchange_cost": 20.0, "recovered_value": 400.0,
              "net_cost": 600.0}

    fig = figures.make_waterfall_figure(totals, "USD")

    bars = fig.data[0]
    steps = [amount for amount, _ in bars.customdata[:-1]]
    assert sum(steps) == pytest.approx(totals["net_cost"])
    assert bars.x[0] == "Gross refunds" and bars.y[0] == 1000.0
    assert bars.x[-1] == "Net cost" and bars.base[-1] + bars.y[-1] == pytest.approx(600.0)


def test_each_waterfall_step_floats_from_the_running_total_before_it() -> None:
    totals = {"refund_amount": 900.0, "restocking_fee": 100.0, "return_shipping_cost": 50.0,
              "handling_cost": 30.0, "exchange_cost": 20.0, "recovered_value": 400.0,
              "net_cost": 600.0}

    bars = figures.make_waterfall_figure(totals, "USD").data[0]

    # refunds 1000 → 900 after fees → 950, 980, 1000 after costs → 600 after recovery
    assert list(bars.base) == [0.0, 900.0, 900.0, 950.0, 980.0, 600.0, 0.0]
    assert list(bars.y) == [1000.0, 100.0, 50.0, 30.0, 20.0, 400.0, 600.0]


def test_empty_frames_give_a_figure_that_says_why() -> None:
    fig = figures.make_npr_trend_figure(pl.DataFrame(schema={"period": pl.Date}), {}, 1, 20)

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


def test_cohort_heatmap_keeps_rows_in_the_order_given_and_names_every_row() -> None:
    sizes = ["apparel · S", "apparel · M", "apparel · L"]
    grid = pl.DataFrame({"key": sizes, "order_month": [date(2025, 1, 1)] * 3,
                         "units_sold": [5, 50, 20], "units_returned": [1, 2, 3]})

    fig = figures.make_cohort_heatmap_figure(grid, "Size", order=sizes)

    assert list(fig.data[0].y) == sizes and fig.layout.yaxis.dtick == 1


def test_every_trace_type_the_dashboard_draws_is_in_the_plotly_bundle_it_serves() -> None:
    bundle = next((ROOT / "dashboard" / "assets").glob("plotly-*.min.js")).read_text()
    served = set(re.findall(r'moduleType:"trace",name:"(\w+)"', bundle))
    source = "\n".join(p.read_text() for p in (ROOT / "dashboard").rglob("*.py"))
    drawn = {getattr(go, name)().type for name in re.findall(r"\bgo\.(\w+)\(", source)
             if issubclass(getattr(go, name), BaseTraceType)}
    drawn |= {getattr(go, kind.capitalize())().type
              for kind in re.findall(r"\.add_(\w+)\(", source)
              if isinstance(getattr(go, kind.capitalize(), None), type)
              and issubclass(getattr(go, kind.capitalize()), BaseTraceType)}

    assert {"scatter", "bar", "heatmap"} <= drawn
    assert drawn <= served, drawn - served


def _funnel_skus(within: int) -> pl.DataFrame:
    """`within` SKUs at their category's rate, one far above it (flagged), one far below."""
    expected = [10.0 + i % 50 for i in range(within)] + [20.0, 20.0]
    ratio = [1.0] * within + [3.0, 0.1]
    return pl.DataFrame({
        "sku": [f"S{i}" for i in range(within + 2)], "expected_returns": expected,
        "ratio": ratio, "flagged": [False] * within + [True, False],
        "units_sold": [100] * (within + 2), "units_returned": [10] * (within + 2)})


def _npr_periods() -> pl.DataFrame:
    return pl.DataFrame({
        "panel": "A", "carrier": "A",
        "period": [date(2025, 1, 6), date(2025, 1, 13), date(2025, 1, 20)],
        "attempts": [50, 3, 50], "rate": [0.1, None, 0.2], "rate_low": [0.05, None, 0.1],
        "rate_high": [0.2, None, 0.3]})


MONTHS = [date(2025, 1, 1), date(2025, 2, 1), date(2025, 3, 1)]
CARRIERS = {"A": "#2563eb", "B": "#f97316"}
UNVALIDATED = {
    "funnel": lambda: figures.make_funnel_figure(_funnel_skus(5)),
    "shaded funnel": lambda: figures.make_funnel_figure(
        _funnel_skus(figures.FUNNEL_POINTS_MAX + 1)),
    "npr trend": lambda: figures.make_npr_trend_figure(_npr_periods(), CARRIERS, 1, 20),
    "return rate": lambda: figures.make_return_rate_figure(pl.DataFrame({
        "order_month": MONTHS, "return_rate": [0.2, 0.25, 0.1],
        "immature": [False, False, True], "expected_final_rate": [None, None, 0.22]}),
        "A title"),
    "cohort heatmap": lambda: figures.make_cohort_heatmap_figure(pl.DataFrame({
        "key": ["P1", "P1", "P2"], "order_month": MONTHS, "units_sold": [10, 20, 5],
        "units_returned": [1, 2, 0]}), "Product", {MONTHS[2]: 0.4}),
    "pareto": lambda: figures.make_pareto_figure(pl.DataFrame({
        "reason_code": ["size_too_small", "defective"], "units_returned": [8, 2],
        "cumulative_share": [0.8, 1.0]})),
    "npr heatmap": lambda: figures.make_npr_heatmap_figure(pl.DataFrame({
        "carrier": ["A", "B"], "region_label": ["Jakarta (ID-JK)", "Singapore (SG)"],
        "npr_rate": [0.1, 0.3], "attempts": [100, 40]})),
    "failure reasons": lambda: figures.make_failure_reasons_figure(pl.DataFrame({
        "carrier": ["A", "B", "A"], "reason": ["Customer not available"] * 2 + ["Other"],
        "failed": [5, 9, 1], "attempts": [100, 40, 100]})),
    "attempts": lambda: figures.make_attempts_figure(pl.DataFrame({
        "carrier": ["A", "A", "B"], "outcome": ["picked up at attempt 1", "not picked up",
                                                 "picked up at attempt 1"],
        "share": [0.9, 0.1, 1.0], "pickups": [90, 10, 40]})),
    "time histogram": lambda: figures.make_time_histogram_figure(pl.DataFrame({
        "carrier": ["A", "A", "B"], "bin_start": [0.0, 0.5, 0.0], "pickups": [3, 1, 2]}),
        "Pickup TAT", CARRIERS),
    "weekday": lambda: figures.make_weekday_figure(pl.DataFrame({
        "carrier": ["A", "B"], "weekday": [1, 5], "npr_rate": [0.1, 0.2]}), CARRIERS),
}


@pytest.mark.parametrize("build", UNVALIDATED.values(), ids=UNVALIDATED.keys())
def test_a_figure_built_unvalidated_is_what_plotly_would_validate_it_into(build: Any) -> None:
    fig = build()

    # validation raises on a property plotly does not know and rewrites loose forms
    # (a title given as text) that plotly.js no longer reads
    assert json.loads(pio.to_json(go.Figure(fig.to_dict()))) == json.loads(pio.to_json(fig))


def test_a_funnel_of_many_skus_shades_those_within_the_limits_and_points_the_rest() -> None:
    fig = figures.make_funnel_figure(_funnel_skus(figures.FUNNEL_POINTS_MAX + 1))

    shaded = [t for t in fig.data if t.type == "heatmap"]
    points = {t.name: len(t.x) for t in fig.data if t.type == "scatter" and t.mode == "markers"}
    assert len(shaded) == 1
    assert int(np.nansum(shaded[0].z)) == figures.FUNNEL_POINTS_MAX + 1
    assert points == {"SKU outside the limits": 1, "SKU above its category": 1}


def test_a_funnel_of_few_skus_draws_every_sku_as_a_point() -> None:
    fig = figures.make_funnel_figure(_funnel_skus(30))

    points = {t.name: len(t.x) for t in fig.data if t.type == "scatter" and t.mode == "markers"}
    assert not [t for t in fig.data if t.type == "heatmap"]
    assert points == {"SKU within the limits": 30, "SKU outside the limits": 1,
                      "SKU above its category": 1}


def test_a_single_month_gets_a_month_axis_not_milliseconds() -> None:
    trend = pl.DataFrame({"order_month": [date(2025, 3, 1)], "return_rate": [0.2],
                          "immature": [False], "expected_final_rate": [None],
                          "net_return_cost": [10.0]})

    for fig in (figures.make_return_rate_figure(trend), figures.make_net_cost_figure(trend, "USD")):
        axis = fig.layout.xaxis
        assert axis.tickformat == "%b %Y" and axis.dtick == "M1"
        low, high = (date.fromisoformat(str(v)[:10]) for v in axis.range)
        assert low < date(2025, 3, 1) < high and (high - low).days > 28


def test_a_single_months_bar_is_a_month_wide_not_a_millisecond() -> None:
    trend = pl.DataFrame({"order_month": [date(2025, 3, 1)], "immature": [False],
                          "net_return_cost": [10.0]})
    costs = pl.DataFrame({"requested_month": ["2025-03-01"], "net_cost": [5.0],
                          **{c: [1.0] for c in ("refund_amount", "return_shipping_cost",
                                                "handling_cost", "exchange_cost",
                                                "recovered_value")}})

    for fig in (figures.make_net_cost_figure(trend, "USD"),
                figures.make_cost_by_month_figure(costs, "USD")):
        bars = [t for t in fig.data if t.type == "bar"]
        assert bars and all(t.width > 20 * 86_400_000 for t in bars)


def test_a_small_return_rate_reads_with_its_decimal() -> None:
    trend = pl.DataFrame({"order_month": [date(2025, 3, 1)], "return_rate": [0.005],
                          "immature": [False], "expected_final_rate": [None]})

    # '.0%' drew the ticks 0%, 0%, 1%, 1% around a 0.5% rate
    assert figures.make_return_rate_figure(trend).layout.yaxis.tickformat == ".1~%"


def test_a_one_cell_heatmap_scales_from_zero_to_its_value() -> None:
    grid = pl.DataFrame({"key": ["P1-M"], "order_month": [date(2025, 3, 1)],
                         "units_sold": [10], "units_returned": [1]})

    heatmap = figures.make_cohort_heatmap_figure(grid, "SKU").data[0]

    assert (heatmap.zmin, heatmap.zmax) == (0, 0.1)
    assert list(heatmap.x) == ["Mar 2025"]


def test_the_cost_by_month_axis_takes_months_as_text_too() -> None:
    costs = pl.DataFrame({"requested_month": ["2025-03-01"], "refund_amount": [5.0],
                          "return_shipping_cost": [1.0], "handling_cost": [1.0],
                          "exchange_cost": [0.0], "recovered_value": [2.0], "net_cost": [5.0]})

    assert figures.make_cost_by_month_figure(costs, "USD").layout.xaxis.tickformat == "%b %Y"


def test_the_heatmap_marks_the_months_still_collecting_returns() -> None:
    grid = pl.DataFrame({"key": ["a"] * 3,
                         "order_month": [date(2025, 1, 1), date(2025, 2, 1), date(2025, 3, 1)],
                         "units_sold": [10, 10, 10], "units_returned": [3, 2, 1]})

    fig = figures.make_cohort_heatmap_figure(grid, "Category", {date(2025, 3, 1): 0.4})

    frame = fig.layout.shapes[0]
    assert (frame.x0, frame.x1) == (1.5, 2.5)  # over the third column only
    assert "returns still arriving" in fig.layout.annotations[0].text
    assert "about 40% in" in fig.data[0].text[0][2] and "arriving" not in fig.data[0].text[0][1]
    assert list(fig.data[0].x) == ["Jan 2025", "Feb 2025", "Mar 2025"]


def test_the_waterfall_leaves_out_what_the_source_does_not_record() -> None:
    totals = {"refund_amount": 100.0, "restocking_fee": 0.0, "return_shipping_cost": 0.0,
              "handling_cost": 0.0, "exchange_cost": 0.0, "recovered_value": 0.0,
              "net_cost": 100.0}

    fig = figures.make_waterfall_figure(
        totals, "GBP", {"restocking_fee", "return_shipping_cost", "handling_cost"})

    assert list(fig.data[0].x) == ["Gross refunds", "+ Exchange replacements",
                                   "− Value recovered", "Net cost"]
    assert "GBP" in fig.data[0].hovertemplate and fig.layout.yaxis.title.text == "GBP"


def test_money_axes_and_hovers_say_their_currency() -> None:
    costs = pl.DataFrame({"category": ["shoes"], "net_cost": [5.0], "returns": [2]})

    fig = figures.make_cost_breakdown_figure(costs, "category", "BRL")

    assert fig.layout.xaxis.title.text == "net cost (BRL)"
    assert "BRL" in fig.data[0].hovertemplate


def test_a_carrier_keeps_its_colour_whichever_carriers_a_chart_shows() -> None:
    every = figures.carrier_colours(["NORD", "DRAGON", "SWIFT", "HANA"])
    some = figures.carrier_colours(["SWIFT", "DRAGON", "NORD", "HANA", "NORD"])
    weekdays = pl.DataFrame({"carrier": ["SWIFT"], "weekday": [1], "npr_rate": [0.1]})

    fig = figures.make_weekday_figure(weekdays, every)

    assert some == every and len(set(every.values())) == 4
    assert fig.data[0].marker.color == every["SWIFT"]


def test_a_gap_in_the_npr_rate_is_a_gap_in_its_band_too() -> None:
    periods = pl.DataFrame({
        "panel": "A", "carrier": "A",
        "period": [date(2025, 1, 6), date(2025, 1, 13), date(2025, 1, 20), date(2025, 1, 27)],
        "attempts": [50, 3, 50, 50], "rate": [0.1, None, 0.2, 0.3],
        "rate_low": [0.05, None, 0.1, 0.2], "rate_high": [0.2, None, 0.3, 0.4]})

    fig = figures.make_npr_trend_figure(periods, {"A": "#2563eb"}, 1, 20)

    band, line = fig.data
    assert fig.layout.xaxis.tickformat == "%d %b"  # four weeks' ticks would all read 'Jan 25'
    assert list(line.y) == [0.1, None, 0.2, 0.3]
    assert list(band.y) == [0.2, 0.05, None, 0.3, 0.4, 0.2, 0.1, None]
    assert line.line.color == "#2563eb"


def test_npr_panels_wrap_after_five_each_titled_and_on_one_shared_scale() -> None:
    panels = [f"R{i}" for i in range(7)]
    periods = pl.DataFrame({
        "panel": panels, "carrier": "A", "period": date(2025, 1, 6), "attempts": 50,
        "rate": [0.1 * i for i in range(7)], "rate_low": 0.0, "rate_high": 0.7})

    fig = figures.make_npr_trend_figure(periods, {"A": "#2563eb"}, 1, 20)

    lines = [t for t in fig.data if t.mode == "lines+markers"]
    assert [t.name for t in lines] == panels
    assert [a.text for a in fig.layout.annotations] == panels
    sixth = fig.layout[f"yaxis{lines[5].yaxis[1:]}"]
    assert sixth.domain[1] < fig.layout.yaxis.domain[0]  # the sixth panel starts a second row
    assert {fig.layout[f"xaxis{t.xaxis[1:]}"].matches for t in lines[1:]} == {"x"}
    assert {fig.layout[f"yaxis{t.yaxis[1:]}"].matches for t in lines[1:]} == {"y"}


def test_a_reserve_of_one_month_end_reads_as_a_date_with_its_interval() -> None:
    from datetime import datetime

    reserve = pl.DataFrame({"as_of": [datetime(2010, 12, 9, 20, 0, 59)], "expected_units": [3459.0],
                            "units_low": [2200.0], "units_high": [4719.0],
                            "actual_units": [None]}, schema_overrides={"actual_units": pl.Float64})
    fig = figures.make_reserve_figure(reserve)
    expected = fig.data[0]
    assert list(expected.x) == ["09 Dec 2010"] and fig.layout.xaxis.type == "category"
    assert (expected.error_y.array[0], expected.error_y.arrayminus[0]) == (1260.0, 1259.0)
    assert len(fig.data) == 2 and len(fig.data[1].x) == 0  # nothing came back yet


def test_pareto_reasons_read_in_full_largest_first_and_the_axis_names_both_series() -> None:
    reasons = pl.DataFrame({"reason_code": ["size_too_large", "changed_mind", "defective"],
                            "units_returned": [50, 30, 20],
                            "cumulative_share": [0.5, 0.8, 1.0]})

    fig = figures.make_pareto_figure(reasons)

    bars, line = fig.data
    assert bars.orientation == "h" and fig.layout.yaxis.autorange == "reversed"
    assert list(bars.y) == list(line.y) == ["Size too large", "Changed mind", "Defective"]
    assert "cumulative share" in fig.layout.xaxis.title.text


def test_a_long_empty_message_is_wrapped_to_fit_a_half_page_card() -> None:
    message = ("return_policy: the warehouse holds no return policy, so there is no window to "
               "learn a response from; load the return_policy feed")

    shown = figures.empty_figure(message).layout.annotations[0].text

    lines = shown.split("<br>")
    assert len(lines) > 1 and max(map(len, lines)) <= figures.EMPTY_LINE_CHARS
    assert " ".join(lines) == message


def test_importances_name_each_feature_in_words() -> None:
    importances = pl.DataFrame({"feature": ["cust_prior_lines", "order_lines"],
                                "importance": [0.02, 0.06], "importance_std": [0.001, 0.002]})

    fig = figures.make_importance_figure(importances)

    assert list(fig.data[0].y) == ["Customer's earlier order lines", "Lines in the order"]
