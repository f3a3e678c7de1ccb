"""Return risk: labels only where the return window has closed, a split that never tests on the
past, and the reserve's arithmetic."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import polars as pl

from models import reserve, return_risk

T0 = datetime(2025, 1, 1)


def _lines(**columns: list) -> pl.DataFrame:
    n = len(next(iter(columns.values())))
    base = {"order_id": [f"o{i}" for i in range(n)], "line_id": [1] * n,
            "ordered_at": [T0] * n, "first_return_at": [None] * n, "rto_at": [None] * n,
            "delivered_at": [None] * n,
            "promised_days": [2.0] * n, "window_days": [14] * n}
    base.update(columns)
    frame = pl.DataFrame(base, schema_overrides={"first_return_at": pl.Datetime("us"),
                                                 "rto_at": pl.Datetime("us"),
                                                 "delivered_at": pl.Datetime("us"),
                                                 "ordered_at": pl.Datetime("us")})
    return frame.with_columns(order_date=pl.col("ordered_at").dt.date())


def test_a_line_is_labelled_only_once_its_window_has_closed() -> None:
    lines = _lines(ordered_at=[T0, T0 + timedelta(days=20)])
    known = return_risk.label_as_of(lines, T0 + timedelta(days=31))
    # horizon = 2 promised + 14 window + 14 grace = 30 days
    assert known["labelled"].to_list() == [True, False]


def test_a_line_that_went_back_undelivered_is_neither_labelled_nor_open() -> None:
    lines = _lines(rto_at=[T0 + timedelta(days=5), None])
    known = return_risk.label_as_of(lines, T0 + timedelta(days=40))
    assert known["labelled"].to_list() == [False, True]
    assert reserve.open_at(lines, T0 + timedelta(days=10)).height == 1


def test_a_return_requested_after_the_cut_is_not_known_at_the_cut() -> None:
    lines = _lines(first_return_at=[T0 + timedelta(days=5)])
    assert return_risk.label_as_of(lines, T0 + timedelta(days=4))["returned_by_cut"][0] is False
    assert return_risk.label_as_of(lines, T0 + timedelta(days=40))["label"][0] == 1


def test_the_delivery_is_a_feature_only_once_it_has_happened() -> None:
    lines = _lines(delivered_at=[T0 + timedelta(days=5)])
    before, after = (return_risk.label_as_of(lines, T0 + timedelta(days=d)) for d in (4, 6))
    assert before["delivery_days"][0] is None and before["delivery_late_days"][0] is None
    # promised in 2 days, delivered in 5: 3 days late
    assert (after["delivery_days"][0], after["delivery_late_days"][0]) == (5.0, 3.0)


def test_a_source_without_a_policy_closes_windows_at_the_observed_lag() -> None:
    lags = list(range(1, 101))
    lines = _lines(first_return_at=[T0 + timedelta(days=d) for d in lags],
                   promised_days=[None] * 100, window_days=[None] * 100)
    assert 75 <= return_risk.horizons(lines)[0] <= 85


def test_the_test_period_follows_the_validation_period_which_follows_training() -> None:
    days = [date(2025, 1, 1) + timedelta(days=d) for d in range(100)]
    frame = pl.DataFrame({"order_date": days})
    parts = frame.with_columns(return_risk.split_by_time(frame, return_risk.Params()))
    last = parts.group_by("part").agg(first=pl.col("order_date").min(),
                                      last=pl.col("order_date").max())
    spans = {row["part"]: (row["first"], row["last"]) for row in last.iter_rows(named=True)}
    assert spans["train"][1] < spans["valid"][0] <= spans["valid"][1] < spans["test"][0]


def test_an_explicit_test_start_is_kept() -> None:
    days = [date(2025, 1, 1) + timedelta(days=d) for d in range(100)]
    frame = pl.DataFrame({"order_date": days})
    params = return_risk.Params(test_from=date(2025, 3, 1))
    parts = frame.with_columns(return_risk.split_by_time(frame, params))
    assert parts.filter(pl.col("part") == "test")["order_date"].min() == date(2025, 3, 1)


def test_a_line_past_every_observed_lag_has_nothing_left_to_return() -> None:
    curves = {14: np.arange(1.0, 101.0) / 10, None: np.arange(1.0, 101.0) / 10}
    lines = _lines(ordered_at=[T0, T0], quantity=[1, 1], net_value=[10.0, 10.0])
    q_new = reserve.still_to_come(lines, np.array([0.3, 0.3]), curves, T0)
    q_old = reserve.still_to_come(lines, np.array([0.3, 0.3]), curves, T0 + timedelta(days=11))
    assert np.allclose(q_new, 0.3)
    assert np.allclose(q_old, 0.0)


def test_halfway_through_the_lag_curve_the_chance_left_is_bayes_updated() -> None:
    curves = {14: np.arange(1.0, 11.0), None: np.arange(1.0, 11.0)}
    lines = _lines(quantity=[1])
    q = reserve.still_to_come(lines, np.array([0.5]), curves, T0 + timedelta(days=5))
    assert np.isclose(q[0], 0.5 * 0.5 / (1 - 0.5 * 0.5))


def test_the_reserve_interval_holds_the_expected_units() -> None:
    curves = {14: np.arange(1.0, 11.0), None: np.arange(1.0, 11.0)}
    lines = _lines(ordered_at=[T0] * 50, quantity=[2] * 50, net_value=[20.0] * 50)
    found = reserve.reserve_at(lines, np.full(50, 0.2), curves, T0, 1.0, 0.9)
    assert np.isclose(found["expected_units"], 50 * 0.2 * 2)
    assert np.isclose(found["expected_refund"], 50 * 0.2 * 20 * 0.9)
    assert found["units_low"] < found["expected_units"] < found["units_high"]
