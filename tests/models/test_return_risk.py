"""Return risk: labels only where the return window has closed, a split that never tests on the
past, and the reserve's arithmetic."""

from __future__ import annotations

import warnings
from datetime import date, datetime, timedelta

import numpy as np
import polars as pl
import pytest
from sklearn.metrics import roc_auc_score

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


def _reserve_rows(expected: list[float], actual: list[float | None]) -> pl.DataFrame:
    """Reserve rows whose 95 % intervals are ±2 % of the expected (the lines' noise alone)."""
    rows = pl.DataFrame({"expected_units": expected, "actual_units": actual},
                        schema_overrides={"actual_units": pl.Float64})
    return rows.with_columns(
        units_low=pl.col("expected_units") * 0.98, units_high=pl.col("expected_units") * 1.02,
        expected_refund=pl.col("expected_units"), refund_low=pl.col("expected_units") * 0.98,
        refund_high=pl.col("expected_units") * 1.02, actual_refund=pl.col("actual_units"))


def test_the_models_reserve_error_is_the_rms_of_its_relative_backtest_misses() -> None:
    rows = _reserve_rows([110.0, 90.0, 500.0], [100.0, 100.0, None])
    assert reserve.model_error(rows) == pytest.approx({"units": 0.1, "refund": 0.1})


def test_the_reserve_interval_carries_the_models_error_beside_the_lines_noise() -> None:
    rows = _reserve_rows([1000.0], [None])
    wide = reserve.widened(rows, {"units": 0.05, "refund": 0.05})
    noise_sd = 20.0 / reserve.Z_95
    half = reserve.Z_95 * (noise_sd**2 + 50.0**2) ** 0.5
    assert wide["units_high"][0] == pytest.approx(1000.0 + half)
    assert wide["units_low"][0] == pytest.approx(1000.0 - half)


def test_without_a_backtest_the_reserve_interval_is_the_lines_noise_alone() -> None:
    rows = _reserve_rows([1000.0], [None])
    assert reserve.widened(rows, reserve.model_error(rows.clear())).equals(rows)


def _feature_frame(n: int, seed: int) -> pl.DataFrame:
    """Lines with every model feature, whose returns rise smoothly with the customer's return
    rate (what a logistic model extrapolates well) and with one category."""
    rng = np.random.default_rng(seed)
    frame = pl.DataFrame({
        "order_id": [f"o{i}" for i in range(n)], "line_id": [1] * n,
        "ordered_at": [T0 + timedelta(minutes=i) for i in range(n)],
        **{c: rng.choice(["a", "b", "c"], n) for c in return_risk.CATEGORICAL},
        **{c: rng.normal(size=n) for c in return_risk.NUMERIC},
    })
    logit = -1.0 + 1.5 * frame["cust_return_rate"].to_numpy() \
        + 0.5 * (frame["category"] == "a").to_numpy()
    return frame.with_columns(label=pl.Series(rng.random(n) < 1 / (1 + np.exp(-logit)))
                              .cast(pl.Int8))


def _valid_auc(model, valid: pl.DataFrame, weight: float) -> float:  # noqa: ANN001
    blend = model.estimator.estimator
    x = valid.select(return_risk.FEATURES).to_pandas()
    p = blend.boosting.predict_proba(x)[:, 1]
    if weight < 1.0:
        p = weight * p + (1 - weight) * blend.logistic.predict_proba(x)[:, 1]
    return roc_auc_score(valid["label"].to_numpy(), p)


def test_the_blend_weight_is_the_one_that_ranks_the_validation_period_best() -> None:
    train, valid = _feature_frame(4000, 1), _feature_frame(2000, 2)
    params = return_risk.Params(max_iter=30, min_samples_leaf=20)
    model = return_risk.fit_calibrated(train, valid, params)
    chosen = return_risk.blend_weight(model)
    assert chosen < 1.0  # a smooth signal: the logistic model helps
    best = _valid_auc(model, valid, chosen)
    # the boosting is kept whole; the logistic part's other weights are judged against it
    assert all(best >= _valid_auc(model, valid, w) for w in params.blend_weights if w < 1.0)


def test_a_single_weight_of_one_is_the_boosting_alone() -> None:
    train, valid = _feature_frame(2000, 1), _feature_frame(1000, 2)
    model = return_risk.fit_calibrated(
        train, valid, return_risk.Params(max_iter=20, min_samples_leaf=20, blend_weights=(1.0,)))
    assert return_risk.blend_weight(model) == 1.0
    assert model.estimator.estimator.logistic is None


def test_the_blend_mixes_the_two_models_probabilities_by_its_weight() -> None:
    train = _feature_frame(2000, 1)
    x, y = train.select(return_risk.FEATURES).to_pandas(), train["label"].to_numpy()
    params = return_risk.Params(max_iter=20, min_samples_leaf=20)
    boosting = return_risk._boosting(params).fit(x, y)
    logistic = return_risk._logistic(params).fit(x, y)
    blended = return_risk.Blend(boosting, logistic, 0.3).predict_proba(x)[:, 1]
    expected = 0.3 * boosting.predict_proba(x)[:, 1] + 0.7 * logistic.predict_proba(x)[:, 1]
    assert np.allclose(blended, expected)


def _graded_rare_returns(seed: int) -> pl.DataFrame:
    """Returns at about 1.5 %, their odds rising smoothly with the customer's return rate."""
    frame = _feature_frame(30_000, seed)
    p = 1 / (1 + np.exp(5 - 1.2 * frame["cust_return_rate"].to_numpy()))
    drawn = np.random.default_rng(seed + 10).random(frame.height) < p
    return frame.with_columns(label=pl.Series(drawn).cast(pl.Int8))


def test_calibration_spreads_rare_event_probabilities_as_observed() -> None:
    train, valid = _graded_rare_returns(1), _graded_rare_returns(2)
    model = return_risk.fit_calibrated(train, valid, return_risk.Params(max_iter=30,
                                                                        min_samples_leaf=50))
    table = return_risk.calibration_table(valid["label"].to_numpy(),
                                          return_risk.predict(model, valid))
    low, ninth = table.slice(0, 3), table.row(8, named=True)
    # a sigmoid over the probabilities (not their log-odds) squeezes them all towards the mean
    assert low["mean_predicted"].mean() < 2 * low["observed_rate"].mean()
    assert abs(ninth["mean_predicted"] - ninth["observed_rate"]) < 0.3 * ninth["observed_rate"]


def test_a_feature_the_source_never_records_trains_without_a_warning() -> None:
    unrecorded = pl.lit(None, pl.Float64)
    train, valid = (_feature_frame(n, seed).with_columns(delivery_days=unrecorded,
                                                         promised_days=unrecorded)
                    for n, seed in ((2000, 1), (1000, 2)))
    params = return_risk.Params(max_iter=20, min_samples_leaf=20)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return_risk.fit_calibrated(train, valid, params)
        return_risk._baselines(train, valid, valid, params)


def test_importances_sample_rare_returns_up_to_half_the_lines() -> None:
    rows = pl.DataFrame({"label": [1] * 30 + [0] * 970})
    sample = return_risk.balanced_sample(rows, 100, seed=1)
    assert sample.height == 100
    assert sample["label"].sum() == 30


def test_importances_sample_common_returns_at_half_the_lines() -> None:
    rows = pl.DataFrame({"label": [1] * 600 + [0] * 400})
    sample = return_risk.balanced_sample(rows, 100, seed=1)
    assert sample["label"].sum() == 50 and sample.height == 100


def test_every_feature_has_words_for_the_risk_page() -> None:
    from models.feature_names import FEATURE_LABELS

    assert set(FEATURE_LABELS) == set(return_risk.FEATURES)
