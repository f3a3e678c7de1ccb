"""The return-policy simulator (models/policy.py): it reproduces what happened under the
cohort's own policy, moves the way the history says when the policy moves, says how sure it is,
and is proven against the generator as oracle (a small version of bench/policy_backtest.py)."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from flows.cli import app
from models import policy
from warehouse import read
from warehouse.engine import reader_engine

AFTER = (date(2025, 4, 1), date(2025, 10, 31))  # orders after the planted change
runner = CliRunner()


@pytest.fixture(scope="module")
def learned(warehouse_url: str) -> policy.Learned:
    with reader_engine(warehouse_url).connect() as conn:
        history = policy.read_history(conn)
    return policy.learn(history, seed=0, replicates=40)


def _kpis(url: str, period: tuple[date, date]) -> dict[str, float | int | None]:
    with reader_engine(url).connect() as conn:
        return read.kpis.kpis(conn, *period)


def test_the_cohorts_own_policy_reproduces_its_kpis(learned, warehouse_url):
    result = policy.simulate(learned, policy.Scenario(14, 0.10), *AFTER)
    kpis = _kpis(warehouse_url, AFTER)
    assert result.metric("units_returned")["baseline"] == kpis["units_returned"]
    assert result.metric("net_cost")["baseline"] == pytest.approx(kpis["net_return_cost"],
                                                                  abs=0.01)
    assert result.metric("units_returned")["point"] == pytest.approx(kpis["units_returned"])
    # fees are recomputed from each refund, the feed rounded them to cents line by line
    assert result.metric("net_cost")["point"] == pytest.approx(kpis["net_return_cost"],
                                                               rel=1e-4)


def test_the_history_shows_a_deadline_rush(learned):
    rush = np.asarray(learned.rush[0])
    assert rush.shape[-1] == 2  # both deadlines of the history are seen
    assert np.all((rush > 0.05) & (rush < 0.95))


def test_the_rush_past_the_historys_deadlines_follows_their_trend(learned):
    params = policy.replicate_params(learned, policy.Assumptions(), seed=0)
    r7, r14, r21, r30, r60 = policy._rush_at(
        learned, params, np.array([7.0, 14.0, 21.0, 30.0, 60.0]))[0].T
    assert np.all((r14 - r21) * (r21 - r30) >= 0)  # between two deadlines: between their rush
    rising = r14 > r30  # more urgency at the shorter deadline: it keeps rising past it
    assert np.all(np.where(rising, (r7 > r14) | (r7 == 1.0), (r7 <= r14) | (r7 == 0.0)))
    assert np.all(np.where(rising, (r60 < r30) | (r60 == 0.0), (r60 >= r30) | (r60 == 1.0)))


def test_a_shorter_window_cuts_fewer_returns_than_the_naive_truncation(learned):
    result = policy.simulate(learned, policy.Scenario(7, 0.10), *AFTER)
    units = result.metric("units_returned")
    assert units["naive"] < units["point"] < units["baseline"]


def test_a_longer_window_and_no_fee_raise_returns_and_drop_fee_revenue(learned):
    result = policy.simulate(learned, policy.Scenario(30, 0.0), *AFTER)
    assert result.metric("units_returned")["point"] > result.metric("units_returned")["baseline"]
    assert result.metric("fee_revenue")["point"] == 0.0


def test_every_interval_holds_its_point(learned):
    table = policy.simulate(learned, policy.Scenario(21, 0.05, 2.0, 0.1), *AFTER).table
    assert (table["low"] <= table["point"]).all() and (table["point"] <= table["high"]).all()
    net = table.filter(pl.col("metric") == "net_cost").row(0, named=True)
    assert net["high"] > net["low"]


def test_the_same_seed_gives_the_same_answer_and_another_seed_another_interval(learned):
    a = policy.simulate(learned, policy.Scenario(10, 0.15), *AFTER, seed=3).table
    b = policy.simulate(learned, policy.Scenario(10, 0.15), *AFTER, seed=3).table
    c = policy.simulate(learned, policy.Scenario(10, 0.15), *AFTER, seed=4).table
    assert a.equals(b)
    assert not a["low"].equals(c["low"])


def test_a_paid_label_deters_returns_by_the_stated_assumption(learned):
    free = policy.simulate(learned, policy.Scenario(14, 0.10), *AFTER)
    paid = policy.simulate(learned, policy.Scenario(14, 0.10, label_fee=3.0), *AFTER)
    assert paid.metric("units_returned")["point"] < free.metric("units_returned")["point"]
    assert paid.metric("fee_revenue")["point"] > free.metric("fee_revenue")["point"]


def test_an_exchange_bonus_moves_refunds_to_exchanges(learned):
    plain = policy.simulate(learned, policy.Scenario(14, 0.10), *AFTER)
    bonus = policy.simulate(learned, policy.Scenario(14, 0.10, exchange_bonus=0.10), *AFTER)
    assert bonus.metric("refunds")["point"] < plain.metric("refunds")["point"]
    assert bonus.metric("exchange_cost")["point"] > plain.metric("exchange_cost")["point"]


def test_a_scenario_for_one_category_leaves_the_others_as_they_were(learned):
    category = learned.categories[0]
    result = policy.simulate(learned, policy.Scenario(7, 0.10, categories=(category,)), *AFTER)
    everywhere = policy.simulate(learned, policy.Scenario(7, 0.10), *AFTER)
    change = result.metric("units_returned")["change"]
    assert everywhere.metric("units_returned")["change"] < change < 0


def test_an_unknown_category_is_refused_by_name(learned):
    with pytest.raises(ValueError, match="'toys' is not in the warehouse"):
        policy.simulate(learned, policy.Scenario(7, categories=("toys",)), *AFTER)


def test_a_history_with_a_policy_and_no_sales_is_refused_by_name(warehouse_url):
    with reader_engine(warehouse_url).connect() as conn:
        history = policy.read_history(conn)
    empty = policy.History(history.policy, history.returns.clear(), history.sales.clear(),
                           history.spend.clear())

    with pytest.raises(ValueError, match="no order lines"):
        policy.learn(empty, replicates=2)


def test_a_history_whose_returns_have_no_days_to_return_is_refused_by_name(warehouse_url):
    with reader_engine(warehouse_url).connect() as conn:
        history = policy.read_history(conn)
    undelivered = history.returns.with_columns(pl.lit(None, pl.Float64).alias("days_to_return"))

    with pytest.raises(ValueError, match="returns: 0 of the .* customer returns have a "
                                         "days-to-return"):
        policy.learn(policy.History(history.policy, undelivered, history.sales, history.spend),
                     replicates=2)


def test_a_fee_given_as_a_percentage_is_refused():
    with pytest.raises(ValueError, match="0.10 for 10%"):
        policy.Scenario(14, 10.0)


def test_an_assumption_default_must_lie_in_its_range():
    with pytest.raises(ValueError, match="outside"):
        policy.Assumption(0.5, 0.0, 0.2, "x", "y")


def test_edited_assumptions_move_the_answer(learned):
    scenario = policy.Scenario(14, 0.10, label_fee=3.0)
    low = policy.Assumptions().with_defaults({"label_fee_deterrence": 0.05})
    high = policy.Assumptions().with_defaults({"label_fee_deterrence": 0.20})
    units = [policy.simulate(learned, scenario, *AFTER, a).metric("units_returned")["point"]
             for a in (low, high)]
    assert units[1] < units[0]


def test_the_tornado_lists_every_input_widest_first(learned):
    sensitivity = policy.simulate(learned, policy.Scenario(7, 0.2, 2.0), *AFTER).sensitivity
    assert set(sensitivity["input"]) == set(policy.SENSITIVITY_INPUTS)
    assert sensitivity["swing"].to_list() == sorted(sensitivity["swing"], reverse=True)


def test_simulate_prints_the_documented_json(warehouse_url, tmp_path, monkeypatch):
    monkeypatch.setenv("RETURNLENS_DATA_DIR", str(tmp_path))
    result = runner.invoke(app, ["simulate", "--window-days", "7", "--restocking-fee-pct",
                                 "0.1", "--from", "2025-04-01", "--to", "2025-10-31", "--json",
                                 "--db", warehouse_url])
    assert result.exit_code == 0, result.output
    got = json.loads(result.stdout)
    for key in ("net_cost", "units_returned"):
        assert key in got["baseline"] and key in got["naive"]
        assert got["scenario"][f"{key}_low"] <= got["scenario"][key] \
            <= got["scenario"][f"{key}_high"]
    assert got["baseline"]["units_returned"] == _kpis(warehouse_url, AFTER)["units_returned"]


def test_simulate_refuses_a_percentage_for_a_share(warehouse_url):
    result = runner.invoke(app, ["simulate", "--window-days", "7", "--restocking-fee-pct",
                                 "10", "--db", warehouse_url])
    assert result.exit_code == 2
    assert "restocking" in result.output


def test_oracle_backtest_a_shop_regenerated_under_policy_b_falls_in_the_interval(
        prefect_harness, tmp_path, monkeypatch):
    """Small oracle backtest: simulate 7 days + 10% on shop A's orders after the change,
    then regenerate the same seed under that policy and read what actually happened."""
    from flows.pipeline import pipeline
    from flows.sources.synthetic import generate_shop

    monkeypatch.setenv("RETURNLENS_DATA_DIR", str(tmp_path))
    urls = {}
    b_policy = pl.DataFrame({
        "policy_id": ["OLD", "B"], "effective_from": [date(2024, 1, 1), date(2025, 4, 1)],
        "effective_to": [date(2025, 3, 31), None], "window_days": [30, 7],
        "restocking_fee_pct": [0.0, 0.10], "free_return_shipping": [True, True]})
    for name, rows in (("A", None), ("B", b_policy)):
        shop = tmp_path / name
        generate_shop(4_000, 5, rows).write(shop)
        urls[name] = f"duckdb:///{tmp_path / name}.duckdb"
        pipeline(source=shop, db=urls[name])
    with reader_engine(urls["A"]).connect() as conn:
        learned = policy.learn(policy.read_history(conn), seed=0)
    result = policy.simulate(learned, policy.Scenario(7, 0.10), *AFTER)
    actual = _kpis(urls["B"], AFTER)
    units, net = result.metric("units_returned"), result.metric("net_cost")
    assert units["low"] <= actual["units_returned"] <= units["high"]
    assert net["low"] <= actual["net_return_cost"] <= net["high"]
