"""The statistics behind the dashboard's judgements."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest
from scipy import stats as scipy_stats

from models import stats


def test_wilson_interval_contains_the_rate_and_narrows_with_more_trials() -> None:
    low, high = stats.wilson_interval(np.array([2, 200]), np.array([3, 300]))

    assert low[0] < 2 / 3 < high[0]
    assert high[1] - low[1] < high[0] - low[0]


def test_a_sku_with_three_sales_and_two_returns_does_not_head_the_ranking() -> None:
    rng = np.random.default_rng(1)
    sold = rng.integers(50, 400, 200)
    skus = pl.DataFrame({
        "sku": [f"S{i}" for i in range(200)] + ["tiny", "big"],
        "category": ["apparel"] * 202,
        "units_sold": [*sold, 3, 400],
        "units_returned": [*rng.binomial(sold, 0.2), 2, 140],
    })

    ranked = stats.excess_over_group(skus, "category", "units_returned", "units_sold").sort(
        "excess_lower", descending=True)

    assert ranked["sku"][0] == "big"
    tiny = ranked.filter(pl.col("sku") == "tiny").row(0, named=True)
    assert tiny["rate"] == pytest.approx(2 / 3)
    assert tiny["shrunk_rate"] < 0.35
    assert tiny["excess_lower"] < 0


def test_shrinkage_pulls_towards_the_members_own_category() -> None:
    skus = pl.DataFrame({"category": ["a"] * 3 + ["b"] * 3, "k": [10, 12, 8, 50, 55, 45],
                         "n": [100] * 6})

    judged = stats.excess_over_group(skus, "category", "k", "n")

    assert judged.filter(pl.col("category") == "a")["group_rate"][0] == pytest.approx(0.1)
    assert judged.filter(pl.col("category") == "b")["group_rate"][0] == pytest.approx(0.5)


def test_each_row_gets_the_beta_posterior_of_its_own_counts() -> None:
    rng = np.random.default_rng(2)
    sold = rng.integers(0, 60, 500)  # small counts: many rows share a (returns, sales) pair
    skus = pl.DataFrame({"category": ["a"] * 500, "units_sold": sold,
                         "units_returned": rng.binomial(sold, 0.3)})

    judged = stats.excess_over_group(skus, "category", "units_returned", "units_sold")

    alpha, beta = stats.beta_prior(skus["units_returned"].to_numpy(), sold)
    post_a = alpha + judged["units_returned"].to_numpy()
    post_b = beta + judged["units_sold"].to_numpy() - judged["units_returned"].to_numpy()
    group_rate = judged["group_rate"][0]
    assert judged["lower"].to_numpy() == pytest.approx(scipy_stats.beta.ppf(0.025, post_a, post_b))
    assert judged["upper"].to_numpy() == pytest.approx(scipy_stats.beta.ppf(0.975, post_a, post_b))
    some = judged["units_returned"].to_numpy() > 0
    assert judged["prob_above"].to_numpy()[some] == pytest.approx(
        scipy_stats.beta.sf(group_rate, post_a, post_b)[some])
    assert judged["shrunk_rate"].to_numpy() == pytest.approx(post_a / (post_a + post_b))


def test_beta_prior_has_the_pooled_mean() -> None:
    alpha, beta = stats.beta_prior(np.array([10, 30, 20]), np.array([100, 100, 100]))

    assert alpha / (alpha + beta) == pytest.approx(0.2)


def test_pareto_orders_by_value_with_cumulative_share() -> None:
    frame = pl.DataFrame({"reason": ["a", "b", "c"], "units": [1, 6, 3]})

    out = stats.pareto(frame, "reason", "units")

    assert out["reason"].to_list() == ["b", "c", "a"]
    assert out["cumulative_share"].to_list() == pytest.approx([0.6, 0.9, 1.0])


def _lag(months: list[date], as_of: date) -> pl.DataFrame:
    """Each cohort returns 10 units a day on days 10..29 after its start, up to as_of."""
    rows = [(m, d, 10) for m in months for d in range(10, 30)
            if m + timedelta(days=d) <= as_of]
    return pl.DataFrame(rows, schema={"order_month": pl.Date, "days_since_cohort_start": pl.Int32,
                                      "units_returned": pl.Int64}, orient="row")


def test_a_young_cohort_is_immature_with_its_share_of_returns_in() -> None:
    months = [date(2025, m, 1) for m in range(1, 13)]
    as_of = date(2025, 12, 20)

    out = stats.cohort_completeness(_lag(months, as_of), months, as_of)

    december = out.filter(pl.col("order_month") == date(2025, 12, 1)).row(0, named=True)
    assert december["immature"]
    assert december["completeness"] == pytest.approx(10 / 20)  # days 10..19 of 10..29
    assert not out.filter(pl.col("order_month") == date(2025, 10, 1))["immature"][0]


def test_expected_final_rate_scales_the_rate_so_far_by_completeness() -> None:
    frame = pl.DataFrame({"units_sold": [100], "units_returned": [10], "completeness": [0.5]})

    out = stats.expected_final_rate(frame)

    assert out["expected_final_rate"][0] == pytest.approx(0.2)


def test_the_expected_final_rate_is_at_most_every_unit_sold() -> None:
    frame = pl.DataFrame({"units_sold": [12_445], "units_returned": [9_360],
                          "completeness": [0.51]})

    assert stats.expected_final_rate(frame)["expected_final_rate"][0] == 1.0


def test_a_cohort_with_nothing_sold_has_no_expected_final_rate() -> None:
    frame = pl.DataFrame({"units_sold": [0], "units_returned": [0], "completeness": [0.5]})

    assert stats.expected_final_rate(frame)["expected_final_rate"][0] is None


def test_returns_in_weights_each_cohort_by_its_units_sold() -> None:
    cohorts = pl.DataFrame({"units_sold": [300, 100, 0], "completeness": [1.0, 0.6, 0.1]})

    assert stats.returns_in(cohorts) == pytest.approx((300 * 1.0 + 100 * 0.6) / 400)


def test_returns_in_is_unknown_when_a_cohorts_completeness_is() -> None:
    cohorts = pl.DataFrame({"units_sold": [300, 100], "completeness": [1.0, None]})

    assert stats.returns_in(cohorts) is None


def test_completeness_is_unknown_without_cohorts_that_finished_returning() -> None:
    months = [date(2025, 12, 1)]
    as_of = date(2025, 12, 20)

    out = stats.cohort_completeness(_lag(months, as_of), months, as_of)

    assert out["completeness"][0] is None
    assert out["immature"][0]


def _weekly(jump_weeks: range, pairs: int = 3, weeks: int = 60) -> pl.DataFrame:
    rng = np.random.default_rng(7)
    start = date(2025, 1, 6)
    rows = []
    for p in range(pairs):
        for w in range(weeks):
            rate = 0.10 + (0.35 if p == 0 and w in jump_weeks else 0.0)
            rows.append(("C", f"R{p}", start + timedelta(weeks=w), 60,
                         int(rng.binomial(60, rate))))
    return pl.DataFrame(rows, schema=["carrier", "region", "week", "attempts",
                                      "failed_attempts"], orient="row")


def test_scorecard_flags_a_window_where_a_carrier_got_worse() -> None:
    card = stats.npr_scorecard(_weekly(range(30, 36)))

    top = card.row(0, named=True)
    assert (top["carrier"], top["region"]) == ("C", "R0")
    assert top["flag"].startswith("was worse")
    assert top["worst_change_pp"] > 20
    assert top["worst_from"] <= date(2025, 1, 6) + timedelta(weeks=30)
    assert card.filter(pl.col("region") != "R0")["flag"].to_list() == ["", ""]


def test_scorecard_says_worse_now_when_the_latest_window_is_worse() -> None:
    card = stats.npr_scorecard(_weekly(range(55, 60)))

    assert card.row(0, named=True)["flag"] == "worse now"


def test_scorecard_does_not_judge_pairs_with_too_few_attempts() -> None:
    weekly = _weekly(range(0)).with_columns(attempts=pl.lit(1), failed_attempts=pl.lit(0))

    card = stats.npr_scorecard(weekly)

    assert set(card["flag"]) == {"too few attempts to judge"}


def test_two_proportion_z_is_positive_when_the_first_rate_is_higher() -> None:
    z = stats.two_proportion_z(np.array([50]), np.array([100]), np.array([10]), np.array([100]))

    assert z[0] > 5


def _cohorts(**rows: tuple[int, int, int, int]) -> pl.DataFrame:
    """key → (returned now, lines now, returned before, lines before)."""
    return pl.DataFrame([{"key": k, "k1": v[0], "n1": v[1], "k0": v[2], "n0": v[3]}
                         for k, v in rows.items()])


def test_rate_rises_judges_the_rate_not_the_count_of_returns() -> None:
    # "volume" sells five times as much and returns at the same rate: more returns, no rise
    frame = _cohorts(volume=(100, 1000, 20, 200), worse=(30, 100, 10, 100))

    out = stats.rate_rises(frame, "k1", "n1", "k0", "n0")

    assert out.filter("clear")["key"].to_list() == ["worse"]
    assert out.row(by_predicate=pl.col("key") == "volume", named=True)["change_pp"] == 0


def test_rate_rises_does_not_call_a_small_rise_on_few_lines_clear() -> None:
    frame = _cohorts(small=(8, 40, 5, 40))

    out = stats.rate_rises(frame, "k1", "n1", "k0", "n0")

    assert not out["clear"][0] and out["p_value"][0] > 0.05


def test_rate_rises_leaves_out_rows_with_too_few_lines_on_either_side() -> None:
    frame = _cohorts(new=(9, 10, 0, 0), enough=(9, 30, 1, 30))

    out = stats.rate_rises(frame, "k1", "n1", "k0", "n0", min_trials=20)

    assert out["key"].to_list() == ["enough"]


def test_rate_rises_adjusts_p_values_for_the_many_rows_tested() -> None:
    # one row alone at p ≈ 0.01 is clear; among 99 rows with no change it may be chance
    lone = _cohorts(a=(30, 100, 16, 100))
    crowd = pl.concat([lone, _cohorts(**{f"s{i}": (10, 100, 10, 100) for i in range(99)})])

    alone = stats.rate_rises(lone, "k1", "n1", "k0", "n0")
    among = stats.rate_rises(crowd, "k1", "n1", "k0", "n0")

    assert alone["p_value"][0] < 0.05 and alone["clear"][0]
    assert among["p_value"][0] == pytest.approx(alone["p_value"][0])
    assert among["q_value"][0] > 0.05 and not among["clear"][0]


def test_rate_rises_puts_the_surest_rise_first() -> None:
    frame = _cohorts(slight=(15, 100, 10, 100), sharp=(40, 100, 10, 100),
                     fell=(5, 100, 10, 100))

    out = stats.rate_rises(frame, "k1", "n1", "k0", "n0")

    assert out["key"].to_list() == ["sharp", "slight", "fell"]
    assert out["rate_before"][0] == 0.1 and out["rate_now"][0] == 0.4


def test_a_member_with_no_successes_is_never_judged_above() -> None:
    skus = pl.DataFrame({"category": ["a"] * 4, "k": [0, 5, 6, 4], "n": [10_000, 100, 100, 100]})

    judged = stats.excess_over_group(skus, "category", "k", "n")

    none = judged.row(0, named=True)
    assert none["prob_above"] is None and none["excess_lower"] is None
    assert judged["prob_above"][1:].is_not_null().all()


def test_a_lone_member_or_a_group_without_successes_has_nothing_to_be_above() -> None:
    vendors = pl.DataFrame({"category": ["gifts", "home", "home"], "vendor": ["placeholder"] * 3,
                            "k": [3, 0, 0], "n": [400, 5_000, 800]})

    judged = stats.excess_over_group(vendors, "category", "k", "n")

    assert judged["prob_above"].is_null().all()
    assert judged["excess_lower"].is_null().all()


def test_a_wholesale_line_returned_at_once_is_one_trial_not_four_hundred() -> None:
    rng = np.random.default_rng(3)
    lines = rng.integers(20, 60, 50)
    skus = pl.DataFrame({
        "category": ["home"] * 51,
        "order_lines": [*lines, 12],
        "units_sold": [*lines, 11 + 400],  # one wholesale line of 400 among 11 single units
        "units_returned": [*rng.binomial(lines, 0.05), 400],
    })

    by_units = stats.excess_over_group(skus, "category", "units_returned", "units_sold")
    by_lines = stats.excess_over_group_by_lines(skus, "category", "units_returned")

    wholesale = by_lines.row(50, named=True)
    assert wholesale["rate"] == pytest.approx(400 / 411)
    assert wholesale["upper"] - wholesale["lower"] > 0.3
    assert by_units["upper"][50] - by_units["lower"][50] < 0.1


def _pickups(rows: list[tuple[str, str, int, int]]) -> pl.DataFrame:
    """region, carrier, pickups, first-attempt pickups; 2 days and 10.0 of cost per pickup."""
    frame = pl.DataFrame(rows, schema=["region", "carrier", "pickups", "first_attempt_pickups"],
                         orient="row")
    n = pl.col("pickups")
    return frame.with_columns(timed_pickups=n, pickup_days=2.0 * n, pickup_days_sq=4.0 * n,
                              costed_pickups=n, shipping_cost=10.0 * n,
                              shipping_cost_sq=100.0 * n)


def test_the_recommendation_moves_the_worst_carriers_pickups_to_the_best() -> None:
    found = stats.carrier_recommendation(_pickups([
        ("JK", "fast", 1000, 950), ("JK", "slow", 500, 350), ("JK", "middling", 800, 640),
    ])).row(0, named=True)
    assert (found["best_carrier"], found["worst_carrier"]) == ("fast", "slow")
    # 500 pickups at 70 % instead of 95 %: 125 failed first attempts fewer
    assert found["failed_first_attempts_saved"] == pytest.approx(125)
    assert found["failed_first_attempts_saved_low"] < 125 < found[
        "failed_first_attempts_saved_high"]
    assert found["verdict"].startswith("move volume")


def test_overlapping_intervals_are_no_clear_difference() -> None:
    found = stats.carrier_recommendation(_pickups([
        ("JK", "a", 40, 30), ("JK", "b", 40, 28)])).row(0, named=True)
    assert found["verdict"].startswith("no clear difference")


def test_carriers_with_few_pickups_and_regions_with_one_carrier_are_not_ranked() -> None:
    found = stats.carrier_recommendation(_pickups([
        ("JK", "a", 100, 90), ("JK", "tiny", 10, 1), ("SB", "only", 500, 400)]))
    assert found.is_empty()


def test_the_scorecard_z_beside_a_worse_now_flag_is_the_latest_windows() -> None:
    card = stats.npr_scorecard(_weekly(range(55, 60)))

    top = card.row(0, named=True)
    assert top["flag"] == "worse now" and top["flag_z"] == top["recent_z"]


def test_the_scorecard_z_beside_a_was_worse_flag_is_the_worst_windows() -> None:
    card = stats.npr_scorecard(_weekly(range(30, 36)))

    top = card.row(0, named=True)
    assert top["flag"].startswith("was worse") and top["flag_z"] == top["worst_z"]
    assert top["flag_z"] != top["recent_z"]


def test_a_rate_of_fewer_trials_than_the_minimum_is_left_out() -> None:
    frame = pl.DataFrame({"failed": [3, 10], "attempts": [3, 100]})

    out = stats.rate_with_interval(frame, "failed", "attempts", min_trials=20)

    assert out.row(0, named=True) == {"failed": 3, "attempts": 3, "rate": None,
                                      "rate_low": None, "rate_high": None}
    assert out["rate"][1] == pytest.approx(0.1)


def test_a_rate_comes_with_its_95_percent_wilson_interval() -> None:
    frame = pl.DataFrame({"failed": [10], "attempts": [100]})

    out = stats.rate_with_interval(frame, "failed", "attempts").row(0, named=True)

    low, high = stats.wilson_interval(np.array([10]), np.array([100]))
    assert (out["rate_low"], out["rate_high"]) == pytest.approx((low[0], high[0]))
    assert out["rate_low"] < out["rate"] < out["rate_high"]
